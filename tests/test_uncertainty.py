"""Parameter uncertainty: every run draws what we do not know; draws are paired across scenarios, never depend on
grouping, leave explicitly given values alone, and are written out (docs/ODD.md 5)."""

import numpy as np
import pandas as pd
import pytest
from greatgame.model import GreatGameModel, ScenarioError, load_scenario, run_to_folder

from .conftest import SCENARIOS


def test_runs_draw_different_judgement_weights_within_their_ranges(baseline):
    m = GreatGameModel(baseline, runs=50, steps=1)
    budget = m.drawn["powers.CHN.budget_usd_bn_per_year"]
    assert budget.min() >= 1.6 and budget.max() <= 4.8 and budget.std() > 0.5
    weights = sum(m.values.get(f"influence.channel_weights.{c}") for c in
                  ("trade", "investment", "security", "institutions", "energy_transport", "migration"))
    np.testing.assert_allclose(weights, 1.0)  # drawn channel weights are renormalised
    rows = m.drawn["uncertainty.behaviour_row"].astype(int)
    table = pd.read_csv(SCENARIOS / "rule_draws_2022.csv")  # the estimated rule's bootstrap (ODD 5)
    np.testing.assert_allclose(m.values.get("parameters.weights.hedging"), table["parameters.weights.hedging"].to_numpy()[rows])
    kind = m.p.switching_cost_kind[:, 1, 1]  # economic_union exit, drawn as a run value
    np.testing.assert_allclose(kind, table["parameters.switching_cost_kind.economic_union.exit"].to_numpy()[rows])
    assert (m.values.get("parameters.rationality") == 1.0).all()  # the scale is not drawn


def test_behavioural_vectors_are_drawn_whole(baseline):
    """The bootstrap's replicates are joint: a run takes every column of one row, never a mix of rows."""
    m = GreatGameModel(baseline, runs=40, steps=1)
    table = pd.read_csv(SCENARIOS / "rule_draws_2022.csv")
    rows = m.drawn["uncertainty.behaviour_row"].astype(int)
    for key in table.columns:
        np.testing.assert_allclose(m.values.get(key), table[key].to_numpy()[rows])


def test_scenarios_at_the_same_sample_and_replicate_share_their_draws(baseline):
    tight = load_scenario(SCENARIOS / "sanctions_tighten.yaml")
    a = GreatGameModel(baseline, runs=8, steps=1, rng=3).drawn
    b = GreatGameModel(tight, runs=8, steps=1, rng=3).drawn
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    other = GreatGameModel(baseline, runs=8, steps=1, rng=3, samples=[1] * 8).drawn
    assert not np.array_equal(a["powers.CHN.budget_usd_bn_per_year"], other["powers.CHN.budget_usd_bn_per_year"])


def test_a_value_given_explicitly_replaces_only_its_own_draw(baseline):
    drawn = GreatGameModel(baseline, runs=6, steps=1).drawn
    fixed_sc = baseline.with_overrides({"powers.CHN.budget_usd_bn_per_year": 2.0})
    m = GreatGameModel(fixed_sc, runs=6, steps=1)
    assert (m.values.get("powers.CHN.budget_usd_bn_per_year") == 2.0).all()
    assert "powers.CHN.budget_usd_bn_per_year" not in m.drawn
    np.testing.assert_array_equal(m.drawn["powers.RUS.budget_usd_bn_per_year"], drawn["powers.RUS.budget_usd_bn_per_year"])


def test_fixed_uncertainty_draws_nothing(baseline):
    m = GreatGameModel(baseline.with_overrides({"uncertainty": "fixed"}), runs=4, steps=1)
    assert m.drawn == {}
    assert (m.values.get("powers.CHN.budget_usd_bn_per_year") == 4.8).all()


def test_run_writes_the_draws_to_parameters_parquet(baseline, tmp_path):
    res, out = run_to_folder(baseline, tmp_path / "o", runs=5, steps=2, seed=4)
    par = pd.read_parquet(out / "parameters.parquet")
    assert set(par.columns) == {"run", "parameter", "value"}
    chn = par[par["parameter"] == "powers.CHN.budget_usd_bn_per_year"].sort_values("run")
    np.testing.assert_array_equal(chn["value"].to_numpy(), res.parameters["powers.CHN.budget_usd_bn_per_year"])


@pytest.mark.parametrize("ranges, needle", [
    ("powers.CHN.budget_usd_bn_per_year: {low: 5, high: 6}", "must contain the scenario's value"),
    ("parameters.nonsense: {low: 0, high: 1}", "not a numeric scenario key"),
    ("powers.RUS.instrument_shares.investment: {low: 0.2, high: 0.4}", "instrument shares"),
    ("formats.CSTO.depth: {low: 0.5, high: 1.5}", "allowed range"),
    ("powers.USA.budget_usd_bn_per_year: 0.3", "must be {low: L, high: H"),
])
def test_bad_uncertainty_ranges_are_refused_with_one_line(tmp_path, ranges, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nuncertainty:\n  ranges:\n    {ranges}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert needle in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
