"""Vintage: a scenario starting in year Y uses no figure that describes a later year (docs/ODD.md 7)."""

import csv
import subprocess
import sys

import pytest
from greatgame.model.fundamentals import DATA_DIR, KNOWN_POWERS, KNOWN_STATES, load_fundamentals, load_routes, period_end


@pytest.mark.parametrize("year", [2017, 2022])
def test_every_selected_value_describes_the_start_year_or_earlier(year):
    f = load_fundamentals(year, KNOWN_STATES, KNOWN_POWERS)
    assert f.provenance, "the loader records where each value comes from"
    late = [p for p in f.provenance if period_end(p[3]) > year]
    assert not late, f"values describing years after {year}: {late}"
    quantities = {p[0] for p in f.provenance}
    assert {"gdp_usd_bn", "gdp_growth_forecast", "turnover_usd_bn"} <= quantities


@pytest.mark.parametrize("year", [2017, 2022])
def test_growth_comes_from_a_forecast_published_by_the_start_year(year):
    f = load_fundamentals(year, KNOWN_STATES, KNOWN_POWERS)
    vintages = [p for p in f.provenance if p[0] == "gdp_growth_forecast"]
    assert len(vintages) == len(KNOWN_STATES) + len(KNOWN_POWERS)
    assert all(int(p[3]) <= year for p in vintages)
    rows = {(r["code"], r["vintage"]) for r in csv.DictReader(open(DATA_DIR / "forecasts.csv"))}
    assert all(any(code == p[1] for code, _ in rows) for p in vintages)


def test_the_2017_start_does_not_use_realised_2017_2022_growth():
    f17 = load_fundamentals(2017, KNOWN_STATES, KNOWN_POWERS)
    f22 = load_fundamentals(2022, KNOWN_STATES, KNOWN_POWERS)
    realised = (f22.gdp_usd_bn / f17.gdp_usd_bn) ** (1 / 5) - 1
    assert not (abs(f17.gdp_growth_per_year - realised) < 1e-6).any()


def test_routes_used_describe_the_start_year_or_earlier():
    rows = list(csv.DictReader(open(DATA_DIR / "routes.csv")))
    for year in (2017, 2022):
        transit, share = load_routes(year, KNOWN_STATES, ("RUS", "CHN", "USA"))
        used = sum(int(r["describes"]) <= year and r["partner"] in ("RUS", "CHN") for r in rows)
        assert (share > 0).sum() == used
        assert (share.sum(axis=-1) <= 1 + 1e-9).all()


def test_trade_ties_are_decided_by_the_states_own_statistics_not_by_row_order():
    """Of equal-quality rows the state's own side wins (China's records of Kyrgyz and Tajik trade include transit
    cargo, ODD 7.2), whatever the order of the rows in trade.csv."""
    from greatgame.model.fundamentals import best_trade_rows, trade_rows

    rows = trade_rows()
    for order in (rows, rows[::-1]):
        picked = {y: best_trade_rows(y, order) for y in (2017, 2022)}
        assert picked[2017][("KGZ", "CHN")]["turnover_usd_bn"] == "1.56"
        assert picked[2022][("KGZ", "CHN")]["turnover_usd_bn"] == "3.92"
        assert picked[2022][("TJK", "CHN")]["turnover_usd_bn"] == "1.21"
        assert picked[2022][("KAZ", "CHN")]["basis"] == "state"  # reported beats the China-side mirror
    f = load_fundamentals(2022, KNOWN_STATES, KNOWN_POWERS)
    assert f.turnover_usd_bn[KNOWN_STATES.index("KGZ"), KNOWN_POWERS.index("CHN")] == pytest.approx(3.92)


def test_trade_basis_switch_picks_the_partners_records_and_falls_back_to_the_other_side():
    """`trade_basis: partner` reads the powers' records (ODD 7.2); a pair with no partner-side row keeps the state's
    own figure (US trade with Kazakhstan 2022), whatever the row order; the scenario key reaches the model."""
    from greatgame.model.core import GreatGameModel
    from greatgame.model.fundamentals import best_trade_rows, trade_rows
    from greatgame.model.scenario import load_scenario

    rows = trade_rows()
    for order in (rows, rows[::-1]):
        picked = best_trade_rows(2022, order, "partner")
        assert picked[("KGZ", "CHN")]["turnover_usd_bn"] == "15.37"
        assert picked[("KAZ", "CHN")]["turnover_usd_bn"] == "31.2"
        assert picked[("KAZ", "USA")]["basis"] == "state"  # no US-side row: the other side fills in
        assert best_trade_rows(2017, order, "partner")[("KAZ", "RUS")]["turnover_usd_bn"] == "16.0"
        assert best_trade_rows(2017, order, "state")[("KAZ", "RUS")]["basis"] == "exporters"
    with pytest.raises(ValueError, match="trade basis"):
        best_trade_rows(2022, rows, "mirror")
    kgz, chn = KNOWN_STATES.index("KGZ"), KNOWN_POWERS.index("CHN")
    assert load_fundamentals(2022, KNOWN_STATES, KNOWN_POWERS, "partner").turnover_usd_bn[kgz, chn] == pytest.approx(15.37)
    sc = load_scenario("scenarios/baseline.yaml", {"trade_basis": "partner"})
    m = GreatGameModel(sc, runs=1)
    assert m.state.turnover[0, m.states.index("KGZ"), m.powers.index("CHN")] == pytest.approx(15.37)


def test_backcast_china_target_is_on_the_basis_of_the_2017_start():
    from greatgame.experiments.fit.calibration import china_target_2022, targets

    target, notes = china_target_2022()
    assert target == pytest.approx(70.2 - 15.37 + 3.92)  # Kyrgyzstan starts 2017 on its own side
    assert targets()["chn_2022"] == pytest.approx(58.75)  # what the backcast is scored against
    assert notes == ["KGZ: China-side 15.37 replaced by own-side 3.92"]


def test_importing_the_package_reads_no_file():
    """Data are read when first used (functools.cache'd functions), never when a module is imported."""
    code = """
import importlib, pkgutil, sys
opened = []
sys.addaudithook(lambda ev, args: opened.append(str(args[0])) if ev == "open" and isinstance(args[0], str) else None)
import greatgame
for pkg in ("greatgame.model", "greatgame.experiments", "greatgame.dashboard"):
    for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + "."):
        importlib.import_module(info.name)
root = greatgame.__file__.rsplit("/greatgame/", 1)[0]
print([p for p in opened if p.startswith(root) and not p.endswith((".py", ".pyc")) and "__pycache__" not in p])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]", out.stdout
