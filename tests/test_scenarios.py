"""Every shipped scenario loads and runs; the command line runs end to end."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from greatgame.model import GreatGameModel, load_scenario, simulate

from .conftest import ROOT, SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def test_at_least_five_alternatives_ship():
    assert len([p for p in SHIPPED if p.name != "baseline.yaml"]) >= 5


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_loads_and_runs(path):
    sc = load_scenario(path)
    m = GreatGameModel(sc, runs=3).run()
    assert m.period == sc.steps
    assert m.recorder.periods == sc.steps + 1


def test_tables_have_documented_columns(baseline):
    res = simulate(baseline, runs=2, steps=3)
    inf = res.influence_table()
    assert list(inf.columns[:6]) == ["run", "step", "date", "power", "state", "influence"]
    assert {"trade", "investment", "security", "institutions", "energy_transport", "migration"} <= set(inf.columns)
    assert set(inf["state"].unique()) == {"KAZ", "KGZ", "TJK", "TKM", "UZB", "REGION"}
    assert baseline.powers == ("RUS", "CHN", "USA", "EU", "TUR")
    assert len(inf) == 4 * 2 * 6 * 5  # periods x runs x (states + region) x powers
    st = res.status_table()
    assert list(st.columns) == ["run", "step", "date", "state", "format", "status", "engagement"]
    assert set(st["status"].unique()) <= {"none", "partial", "member"}
    tr = res.trade_table()
    assert list(tr.columns) == ["run", "step", "date", "state", "partner", "turnover_usd_bn"]
    assert tr["date"].iloc[0] == "2022-10-01"


def test_command_line_run_writes_every_output(tmp_path):
    out = tmp_path / "base"
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", "--runs", "4", "--steps", "6", "--out",
                           str(out), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Regional influence" in proc.stdout
    for name in ("influence.parquet", "status.parquet", "trade.parquet", "manifest.json", "influence.png",
                 "influence_states.png", "status.png"):
        assert (out / name).stat().st_size > 0, name
    man = json.loads((out / "manifest.json").read_text())
    assert man["runs"] == 4 and man["steps"] == 6 and man["scenario"]["name"] == "baseline"
    assert "mesa" in man["versions"]
    assert pd.read_parquet(out / "trade.parquet")["step"].max() == 6


def test_check_prints_resolved_scenario():
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "check", str(SCENARIOS / "us_reengages.yaml")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "name: us_reengages" in proc.stdout and "rationality:" in proc.stdout  # inherited from the baseline
