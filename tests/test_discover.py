"""Scenario discovery (`run.py discover`): a planted box is recovered, the box is written back as a runnable
scenario and experiment, a fresh sample reproduces its density, and bad input gets one line."""

import json

import numpy as np
import pandas as pd
import pytest
from greatgame.experiments.analysis.discover import discover, jeffreys
from greatgame.experiments.batch.spec import load_experiment
from greatgame.model.scenario import load_scenario

from greatgame import cli as run
from tests.conftest import SCENARIOS

pytest.importorskip("ema_workbench")

PARAMS = {"parameters.threat_level": (0.0, 1.0), "parameters.energy_price_index": (0.5, 2.0),
          "parameters.secondary_sanctions": (0.0, 1.0)}  # the third is irrelevant to the planted outcome


def planted(values: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """The event is likely (0.9), not certain, inside threat > 0.5 and energy < 1.25; rare (0.02) outside."""
    inside = (values["parameters.threat_level"] > 0.5) & (values["parameters.energy_price_index"] < 1.25)
    return np.where(inside, rng.random(len(values)) < 0.9, rng.random(len(values)) < 0.02).astype(float)


def fake_batch(root, points=2000, seed=1, failed=0):
    """A finished LHS batch folder (manifest, design, outcome and run parts) with the planted outcome."""
    from scipy.stats import qmc

    root.mkdir(parents=True)
    exp = root / "experiment.yaml"
    spec = {"name": "planted", "scenarios": [str(SCENARIOS / "baseline.yaml")], "replicates": 1, "seed": seed,
            "steps": 2, "design": {"method": "lhs", "points": points,
                                   "parameters": {k: {"low": lo, "high": hi} for k, (lo, hi) in PARAMS.items()}},
            "outcomes": [{"type": "regional_influence", "power": "RUS"}]}
    exp.write_text(json.dumps(spec))
    u = qmc.LatinHypercube(d=3, rng=np.random.default_rng(seed)).random(points)
    design = pd.DataFrame({k: lo + u[:, i] * (hi - lo) for i, (k, (lo, hi)) in enumerate(PARAMS.items())})
    design.insert(0, "design", np.arange(points))
    design.insert(1, "scenario", "baseline")
    design.insert(2, "scenario_file", str(SCENARIOS / "baseline.yaml"))
    design.to_parquet(root / "design.parquet")
    y = planted(design, np.random.default_rng(seed + 100))
    ok = np.arange(points) >= failed
    for t in ("outcomes", "runs"):
        (root / "parts" / t).mkdir(parents=True)
    pd.DataFrame({"design": design["design"][ok], "replicate": 0, "event": y[ok],
                  "regional_influence_RUS": 0.3}).to_parquet(root / "parts/outcomes/t0.parquet")
    pd.DataFrame({"design": design["design"], "replicate": 0,
                  "status": np.where(ok, "done", "failed")}).to_parquet(root / "parts/runs/t0.parquet")
    man = {"experiment": "planted", "experiment_file": str(exp), "experiment_spec": spec, "design_method": "lhs",
           "design_parameters": list(PARAMS), "design_points": points, "replicates": 1, "seed": seed,
           "reference": "baseline", "outcomes": [{"name": "event", "type": "regional_influence", "power": "RUS"}]}
    (root / "manifest.json").write_text(json.dumps(man))
    return root


def test_a_planted_box_is_recovered_and_written_back_as_runnable_input(tmp_path):
    store = fake_batch(tmp_path / "batch", failed=7)
    s = discover(store, "event", "value > 0.5", progress=False)
    assert s.coverage >= 0.8 and s.density >= 0.8
    assert s.failed_dropped == 7 and s.runs == 1993
    assert set(s.restricted) == {"parameters.threat_level", "parameters.energy_price_index"}
    box = pd.read_csv(store / "discovery/event/box.csv").set_index("parameter")
    assert box.loc["parameters.threat_level", "box_low"] == pytest.approx(0.5, abs=0.05)
    assert box.loc["parameters.energy_price_index", "box_high"] == pytest.approx(1.25, abs=0.075)
    assert not box.loc["parameters.secondary_sanctions", "restricted"]
    assert box.loc["parameters.secondary_sanctions", ["box_low", "box_high"]].tolist() == [0.0, 1.0]
    # the box as a scenario: runnable, each design parameter drawn from its box or design range
    sc = load_scenario(s.box_scenario)
    ranges = {k: (lo, hi) for k, lo, hi in sc.uncertainty.ranges}
    assert ranges["parameters.threat_level"][0] == box.loc["parameters.threat_level", "box_low"]
    assert ranges["parameters.secondary_sanctions"] == (0.0, 1.0)
    # the box as an experiment: a fresh LHS inside it reproduces the density within its interval
    exp = load_experiment(s.box_experiment)
    fresh = pd.DataFrame([p.values for p in exp.points])
    assert fresh["parameters.threat_level"].min() >= box.loc["parameters.threat_level", "box_low"]
    y = planted(fresh, np.random.default_rng(99))
    lo, hi = jeffreys(int(y.sum()), len(y))
    assert lo <= s.density <= hi
    report = (store / "discovery/event/discovery.md").read_text()
    assert "failed runs dropped" in report and "quasi-p" in report
    for name in ("peeling.png", "feature_scores.png", "feature_scores.csv"):
        assert (store / "discovery/event" / name).stat().st_size > 0


@pytest.mark.parametrize("args, needle", [
    (["--outcome", "nope"], "unknown outcome 'nope'"),
    (["--outcome", "event", "--where", "nothing_here > 1"], "cannot evaluate"),
    (["--outcome", "event", "--where", "value + 1"], "must give true or false"),
    (["--outcome", "event", "--where", "value > 5"], "never true"),
])
def test_discover_bad_input_is_one_line(tmp_path, capsys, args, needle):
    store = fake_batch(tmp_path / "b", points=64)
    assert run.main(["discover", str(store), *args, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_discover_refuses_a_store_without_a_design(tmp_path, capsys):
    store = fake_batch(tmp_path / "b", points=64)
    man = json.loads((store / "manifest.json").read_text())
    man["design_method"], man["design_parameters"] = None, []
    (store / "manifest.json").write_text(json.dumps(man))
    assert run.main(["discover", str(store), "--outcome", "event"]) == 2
    assert run.main(["discover", str(tmp_path / "nothing"), "--outcome", "event"]) == 2
    err = capsys.readouterr().err
    assert "no LHS or Sobol design" in err and "not a batch folder" in err
