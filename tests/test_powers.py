"""The EU and Turkey as baseline powers, their data, and `powers_remove` (three powers alone)."""

import subprocess
import sys

import numpy as np
import pytest
from greatgame.model import GreatGameModel, load_scenario
from greatgame.model.fundamentals import load_fundamentals
from greatgame.model.yamlio import ScenarioError

from .conftest import ROOT, SCENARIOS

FIVE = ("RUS", "CHN", "USA", "EU", "TUR")
STATES = ("KAZ", "KGZ", "TJK", "TKM", "UZB")


def test_baseline_has_five_powers_and_their_formats(baseline):
    assert baseline.powers == FIVE
    fm = baseline.raw["formats"]
    assert fm["OTS"]["convenors"] == ["TUR"] and fm["EU-CA"]["convenors"] == ["EU"]
    ranges = baseline.raw["uncertainty"]["ranges"]
    for p in FIVE:  # every budget is drawn from a documented range that contains it
        r, value = ranges[f"powers.{p}.budget_usd_bn_per_year"], baseline.raw["powers"][p]["budget_usd_bn_per_year"]
        assert r["low"] <= value <= r["high"] and r["source"]


def test_backcast_budgets_of_the_new_powers_are_2017_figures():
    sc = load_scenario(SCENARIOS / "backcast_2017.yaml")
    assert sc.powers == FIVE
    assert sc.raw["powers"]["EU"]["budget_usd_bn_per_year"] == 0.11  # DCI 2007-13, not the 2014-20 programme


def test_three_powers_drops_eu_and_turkey_and_their_dialogue():
    sc = load_scenario(SCENARIOS / "three_powers.yaml")
    assert sc.powers == ("RUS", "CHN", "USA")
    assert "EU-CA" not in sc.formats  # a dialogue that exists only with the EU
    assert "OTS" in sc.formats and sc.raw["formats"]["OTS"]["convenors"] == [] == sc.raw["formats"]["OTS"]["powers"]
    keys = sc.raw["uncertainty"]["ranges"]
    assert not [k for k in keys if k.startswith(("powers.EU.", "powers.TUR.", "formats.EU-CA."))]
    assert "powers.USA.budget_usd_bn_per_year" in keys
    m = GreatGameModel(sc, runs=2).run()
    assert m.structure.fundamentals.powers == ("RUS", "CHN", "USA")


def test_powers_remove_drops_only_the_events_of_what_it_removes(tmp_path):
    parent = tmp_path / "parent.yaml"
    parent.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: parent\nevents_add:\n"
                      "  - {at: 2024-01, type: budget, power: TUR, scale: 2.0}\n"
                      "  - {at: 2024-01, type: format_close, format: EU-CA}\n"
                      "  - {at: 2024-01, type: budget, power: USA, scale: 2.0}\n")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {parent}\nname: child\npowers_remove: [EU, TUR]\n")
    assert len(load_scenario(parent).events) == 3
    events = load_scenario(child).events
    assert [(e["type"], e.get("power")) for e in events] == [("budget", "USA")]


def test_a_removed_power_can_be_added_back_by_a_later_file(tmp_path):
    child = tmp_path / "child.yaml"
    eu = dict(load_scenario(SCENARIOS / "baseline.yaml").raw["powers"]["EU"])

    def write(power: dict) -> None:
        child.write_text(f"extends: {SCENARIOS / 'three_powers.yaml'}\nname: back\npowers:\n  EU: {power!r}\n"
                         .replace("'", '"'))

    write(eu)  # its template, EU-CA, went with it: the file must say so
    with pytest.raises(ScenarioError, match="powers.EU.template: unknown format code 'EU-CA'"):
        load_scenario(child)
    write({**eu, "template": ""})
    sc = load_scenario(child)
    assert sc.powers == ("RUS", "CHN", "USA", "EU") and "EU-CA" not in sc.formats


def test_powers_remove_in_a_mapping_scenario():
    sc = load_scenario({"extends": str(SCENARIOS / "baseline.yaml"), "powers_remove": ["TUR"]})
    assert sc.powers == ("RUS", "CHN", "USA", "EU") and sc.raw["formats"]["OTS"]["convenors"] == []
    with pytest.raises(ScenarioError, match="unknown power code 'XX'"):
        load_scenario({"extends": str(SCENARIOS / "baseline.yaml"), "powers_remove": ["XX"]})


def test_investment_stocks_by_investor_come_from_their_rows():
    f22 = load_fundamentals(2022, STATES, FIVE)
    k, eu, us, tur = STATES.index("KAZ"), FIVE.index("EU"), FIVE.index("USA"), FIVE.index("TUR")
    assert f22.fdi_stock_usd_bn[k, eu] == 60.0 and f22.fdi_stock_usd_bn[k, us] == 39.5  # NBK, mid-2021
    assert f22.fdi_gross_inflow_cumulative_usd_bn[k, eu] == 0  # the proxy only where no stock exists
    assert f22.fdi_stock_usd_bn[:, tur].sum() == pytest.approx(1.1)  # EDB 2016 regional stock, split by trade
    share = f22.turnover_usd_bn[:, tur] / f22.turnover_usd_bn[:, tur].sum()
    assert np.allclose(f22.fdi_stock_usd_bn[:, tur], 1.1 * share)
    f17 = load_fundamentals(2017, STATES, FIVE)
    assert f17.fdi_stock_usd_bn[:, eu].sum() == 0  # the mid-2021 stock describes a later year
    assert f17.fdi_stock_usd_bn[:, tur].sum() == pytest.approx(1.1)
    periods = {p for q, s, partner, p, _ in f17.provenance if q == "fdi_stock" and partner in ("EU", "TUR", "USA")}
    assert periods == {"2016"}


def test_trade_of_the_new_powers_is_read_for_both_years():
    for year in (2017, 2022):
        f = load_fundamentals(year, STATES, FIVE)
        assert (f.turnover_usd_bn[:, FIVE.index("EU")] > 0).all() and (f.turnover_usd_bn[:, FIVE.index("TUR")] > 0).all()


def test_the_default_run_shows_the_eu_and_turkey(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", "--runs", "4", "--steps", "2", "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split()[0] for line in proc.stdout.splitlines() if line.strip().split()[:1] in (["EU"], ["TUR"])]
    assert rows == ["EU", "TUR"]
