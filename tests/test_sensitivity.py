"""Global sensitivity over all assumptions: the behavioural vector as one design factor, channel weights
renormalised, grouped runs equal to each point alone, the Sobol report with its noise floor, bad input."""

import numpy as np
import pytest
import yaml
from greatgame.experiments.analysis.sensitivity import sensitivity_report
from greatgame.experiments.batch.runner import groupable, run_experiment
from greatgame.experiments.batch.spec import expand_values, load_experiment
from greatgame.experiments.batch.store import Store
from greatgame.model import GreatGameModel

from greatgame import cli as run
from tests.conftest import SCENARIOS

SOBOL = f"""name: sob
scenarios: [{SCENARIOS / 'baseline.yaml'}]
replicates: 2
seed: 9
steps: 3
chunk: 16
design:
  method: sobol
  points: 8
  parameters:
    uncertainty.behaviour_row: {{low: 0, high: 32}}
    influence.channel_weights.trade: {{low: 0.15, high: 0.35}}
    powers.CHN.budget_usd_bn_per_year: {{low: 1.6, high: 4.8}}
outcomes:
  - {{type: gap, leader: CHN, follower: RUS}}
  - {{type: regional_influence, power: RUS}}
  - {{type: status, state: KGZ, format: EAEU}}
  - {{type: status, state: TKM, format: SCO}}
"""


def test_the_behavioural_vector_is_one_factor_and_channel_weights_stay_a_distribution(baseline):
    unc = baseline.uncertainty
    got = expand_values(baseline, {"uncertainty.behaviour_row": 5.7, "influence.channel_weights.trade": 0.35}, "f")
    assert "uncertainty.behaviour_row" not in got
    for j, k in enumerate(unc.behaviour_keys):  # row 5, whole
        assert got[k] == unc.behaviour[5, j]
    weights = {k: v for k, v in got.items() if k.startswith("influence.channel_weights.")}
    assert len(weights) == 6 and sum(weights.values()) == pytest.approx(1.0)
    assert weights["influence.channel_weights.trade"] == pytest.approx(0.35 / 1.10)
    assert expand_values(baseline, {"parameters.rationality": 3.0}, "f") == {"parameters.rationality": 3.0}


def test_a_sobol_design_over_grouped_factors_runs_in_lockstep_like_each_point_alone(tmp_path):
    f = tmp_path / "sob.yaml"
    f.write_text(SOBOL)
    exp = load_experiment(f)
    assert groupable(exp) and len(exp.points) == 8 * 5
    run_experiment(exp, tmp_path / "out", progress=False)
    oc = Store(tmp_path / "out").read("outcomes")
    for p in exp.points[::9]:
        alone = GreatGameModel(p.scenario, spawn_keys=[(p.index, 0), (p.index, 1)], rng=exp.seed, steps=3,
                               samples=[p.point, p.point]).run()
        got = oc[oc["design"] == p.index].sort_values("replicate")
        j, c = alone.powers.index("CHN"), alone.powers.index("RUS")
        assert np.allclose(got["gap_CHN_RUS"], alone.state.regional_total[:, j] - alone.state.regional_total[:, c])
    out = tmp_path / "sens"
    assert run.main(["sensitivity", str(tmp_path / "out"), "--out", str(out)]) == 0
    md = (out / "sensitivity.md").read_text()
    assert "Which assumptions decide the Russia-China ranking" in md and "noise floor" in md
    assert "Saltelli rows dropped because of them: 0" in md
    for name in ("sobol.csv", "sobol.png", "status_uncertainty.csv"):
        assert (out / name).stat().st_size > 0


def test_sensitivity_refuses_a_batch_without_a_sobol_design(tmp_path, capsys):
    assert run.main(["sensitivity", str(tmp_path / "none"), "--out", str(tmp_path / "x")]) == 2
    assert "not a batch folder" in capsys.readouterr().err
    with pytest.raises(Exception, match="no Sobol design"):
        exp = tmp_path / "e.yaml"
        exp.write_text(f"name: e\nscenarios: [{SCENARIOS / 'baseline.yaml'}]\nreplicates: 1\nseed: 1\nsteps: 1\n")
        run_experiment(load_experiment(exp), tmp_path / "plain", progress=False)
        sensitivity_report(tmp_path / "plain", tmp_path / "y")


def test_shipped_design_ranges_contain_the_baseline_values():
    """Design ranges of the shipped experiment files contain the calibrated (baseline) value of each parameter."""
    from greatgame.model.params import numeric_leaves
    from greatgame.model.scenario import load_scenario

    leaves = {k: v for s in ("parameters", "powers", "formats", "influence")
              for k, v in numeric_leaves(load_scenario(SCENARIOS / "baseline.yaml").raw[s], s).items()}
    for name in ("lhs_weights", "sobol_weights", "discovery_lhs", "sobol_all"):
        raw = yaml.safe_load((SCENARIOS.parent / "experiments" / f"{name}.yaml").read_text())
        for k, spec in raw["design"]["parameters"].items():
            if k in leaves:
                assert spec["low"] <= leaves[k] <= spec["high"], (name, k)


def test_the_all_factor_designs_cover_every_documented_range_as_given():
    """sobol_all and discovery_lhs claim every range of the baseline's `uncertainty:` section: a range added to the
    baseline (a new parameter, a new power's budget) and missing from them, or given other bounds, fails here."""
    ranges = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text())["uncertainty"]["ranges"]
    for name in ("discovery_lhs", "sobol_all"):
        design = yaml.safe_load((SCENARIOS.parent / "experiments" / f"{name}.yaml").read_text())["design"]["parameters"]
        factors = {k: v for k, v in design.items() if k != "uncertainty.behaviour_row"}
        assert set(factors) == set(ranges), (name, set(ranges) ^ set(factors))
        for k, spec in factors.items():
            assert (spec["low"], spec["high"]) == (ranges[k]["low"], ranges[k]["high"]), (name, k)
