"""Validation: the achieved scores are pinned, and the decision rule holds no per-state, per-format constant."""

import json
import re

import numpy as np
import pytest
from greatgame.experiments.fit.calibration import CHOICE_PARAMETERS, backcast, backcast_errors, simulate_blank_slate
from greatgame.experiments.fit.standin import AlignmentSurrogate
from greatgame.experiments.fit.validation import validate
from greatgame.model import GreatGameModel, load_scenario

from .conftest import ROOT, SCENARIOS

STATE_CODES = ("KAZ", "KGZ", "TJK", "TKM", "UZB")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The full `run.py validate` (about 3 minutes): every pinned score comes from the same report a user gets."""
    out = tmp_path_factory.mktemp("validation")
    validate(out, progress=False)
    return out, json.loads((out / "validation.json").read_text())


def test_validation_report_has_the_documented_keys_and_files(report):
    out, res = report
    for key in ("blank_slate_cells_matched", "null_rule_cells_matched", "leave_one_out_cells_matched",
                "backcast_error_rus", "backcast_error_chn", "backcast_naive_error_rus", "backcast_naive_error_chn",
                "backcast_changes_reached", "backcast_cells_kept", "hazards_per_year", "fitted_on",
                "backcast_other_trade_basis"):
        assert key in res
    other = res["backcast_other_trade_basis"]  # the same backcast on the partners' records (ODD 7.2)
    assert other["trade_basis"] == "partner" and other["target_chn_2022"] == pytest.approx(70.2)
    assert other["start_rus"] != pytest.approx(23.403)  # another start: Russia's own records of 2017
    for name in ("validation.md", "backcast.png", "robustness.csv"):
        assert (out / name).stat().st_size > 0
    md = (out / "validation.md").read_text()
    assert "## What the model gets wrong" in md and "## Robustness" in md


def test_null_rule_score_is_the_documented_one(report):
    assert report[1]["null_rule_cells_matched"] == 21  # deterministic: no fit, no draws


def test_blank_slate_score_is_pinned(report):
    # The baseline carries the rule estimated on the record (issue 17): from a blank slate it reaches 10/25 cells
    # in 120 quarters and 16/25 in 400, settled in neither (its switching costs make moves from `none` rare: it was
    # estimated on transitions between observed statuses, not on levels). The stand-in calibration reached 20/25,
    # settled (v2: 21); target 24, floor null + 3 = 24: NOT reached by either.
    assert report[1]["blank_slate_cells_matched"] >= 10
    assert report[1]["blank_slate_long_run_cells_matched"] >= 16
    assert report[1]["blank_slate_long_run_cells_matched"] >= report[1]["blank_slate_cells_matched"]


def test_leave_one_out_score_is_pinned(report):
    # the stand-in calibration's own reading (its fits in its own form, switching costs x depth): achieved 18/25
    # (v2: 19; target 21, floor > 21: NOT reached)
    assert report[1]["leave_one_out_cells_matched"] >= 18


def test_backcast_is_pinned(report):
    res = report[1]
    # the 2017 backcast with the rule estimated at 2017.5 (stand-in 2017 fit in brackets)
    assert abs(res["backcast_error_rus"]) <= 0.05  # achieved -0.041 (-0.055; naive -0.201; v2 -0.210)
    assert abs(res["backcast_error_chn"]) <= 0.28  # achieved +0.274 (+0.380; naive -0.210): NOT better than naive
    assert res["backcast_cells_kept"] >= 21  # achieved 21/22 (21/22)
    assert res["backcast_changes_reached"] >= 0  # achieved 0/3 (1/3): no change reached by half the runs
    assert res["backcast_status_cells_matched"] >= res["persistence_cells_matched"]  # 22 = 22: NOT above
    # by log probability of the observed 2022 statuses it is at persistence's level: -9.30 against -9.49 (stand-in
    # -13.34): a skill of +0.008 per cell
    assert res["secondary_log_scores"]["backcast_2017"]["log_score_sum_model"] >= -9.4


def test_near_best_reading_is_pinned(report):
    """The second reading with each fit's near-best set (what runs with parameter uncertainty draw)."""
    ens = report[1]["ensemble"]
    assert ens["vectors_2022"] == 200 and ens["vectors_2017"] == 200  # the bootstrap draws of each origin's rule
    assert ens["blank_slate_cells_matched"] >= 11  # achieved 11/25 (stand-in near-best set: 19)
    assert ens["leave_one_out_cells_matched"] >= 17  # achieved 17/25 (the stand-in's own folds)
    assert ens["backcast_changes_reached"] >= 0  # 0/3 (stand-in: 1/3)
    assert ens["backcast_status_cells_matched"] >= 22  # 22/25 (stand-in: 23/25)


def test_model_statuses_move_at_the_records_rate(report):
    """Exits and joins happen (v1 had none): the model's hazards from the observed pattern are within a factor 3
    of the record's."""
    h = report[1]["hazards_per_year"]
    assert h["record_2022_down"] / 3 < h["model_down"] < 3 * h["record_2022_down"]
    assert h["record_2022_up"] / 3 < h["model_up"] < 3 * h["record_2022_up"]


def test_blank_slate_is_reproducible(baseline):
    a = simulate_blank_slate(baseline, runs=8, steps=40, seed=3)
    b = simulate_blank_slate(baseline, runs=8, steps=40, seed=3)
    assert np.array_equal(a.predicted, b.predicted)


def test_backcast_runs_with_uncertainty_draw_from_the_2017_fit_only():
    """The out-of-sample backcast stays out of sample when parameters are drawn: its rule's draws are the bootstrap
    of the rule estimated at 2017.5, not the 2022 estimate's, and the trade elasticity (fitted by the stand-in on
    2017-2022 trade) is neither drawn nor used: the backcast holds the gravity judgement 1.0."""
    bc = load_scenario(SCENARIOS / "backcast_2017.yaml")
    base = load_scenario(SCENARIOS / "baseline.yaml")
    assert "parameters.trade.partner_growth_elasticity" not in bc.uncertainty.behaviour_keys
    assert bc.uncertainty.behaviour_keys == base.uncertainty.behaviour_keys
    assert not np.isclose(bc.uncertainty.behaviour, base.uncertainty.behaviour).any(axis=0).all()
    m = GreatGameModel(bc, runs=4, rng=1)
    assert np.all(m.p.trade.partner_growth_elasticity == 1.0)


def test_backcast_starts_from_the_2017_data():
    res = backcast(load_scenario(SCENARIOS / "backcast_2017.yaml"), runs=2, seed=1)
    # sum of the best 2017 rows on the states' side (ODD 7.2, trade_basis: state): KAZ 16.551 and UZB 4.154 exporter-based
    # DOTS (no own-side row; Russia's mirror 16.0 and 3.65 before v3), KGZ 1.544 own side, TJK 0.73, TKM 0.424
    assert res.start_rus == pytest.approx(23.403)
    assert set(backcast_errors(res)) >= {"backcast_error_rus", "backcast_error_chn"}


def test_twin_states_make_identical_choices(baseline):
    """Give Kyrgyzstan every datum, attribute and route of Kazakhstan (identical data and identical
    neighbourhood: both trade with every power without transit): a per-state, per-format constant anywhere in the
    decision rule would make the twins' utilities or choices differ."""
    import dataclasses

    m = GreatGameModel(baseline, runs=4)
    f = m.structure.fundamentals
    twin = {}
    for field in dataclasses.fields(f):
        v = getattr(f, field.name)
        if isinstance(v, np.ndarray) and v.shape[:1] == (m.S,):
            v = v.copy()
            v[1] = v[0]
            twin[field.name] = v
    m.structure.fundamentals = dataclasses.replace(f, **twin)
    for name in ("turnover", "invest_added", "arms_stock", "gdp", "influence_total", "status", "engagement",
                 "export_routes", "remittances", "engagement0"):
        arr = getattr(m.state, name)
        arr[:, 1] = arr[:, 0]
    st = m.structure
    st.gdp0 = st.gdp0.copy()
    st.gdp0[1] = st.gdp0[0]
    st.path_transit, st.path_share = st.path_transit.copy(), st.path_share.copy()
    st.path_transit[1], st.path_share[1] = st.path_transit[0], st.path_share[0]
    st.path_transit[..., 1] = st.path_transit[..., 0]  # routes crossing one twin cross the other: identical neighbourhoods
    st.allowed[1] = st.allowed[0]
    m.set_doctrine(1, "none")
    st.afghan_border[1] = st.afghan_border[0]
    m.derive()
    m.perceive()
    np.testing.assert_array_equal(m.now.benefit[:, 0], m.now.benefit[:, 1])
    np.testing.assert_array_equal(m.now.cost[:, 0], m.now.cost[:, 1])
    m._draw()
    m.now.u_revise[:, 1], m.now.u_pick[:, 1] = m.now.u_revise[:, 0], m.now.u_pick[:, 0]
    m.choice_inputs()
    m.now.next_status = m.state.status.copy()
    m.state_agents[0].step()
    m.state_agents[1].step()
    np.testing.assert_array_equal(m.now.next_status[:, 0], m.now.next_status[:, 1])


def test_decision_code_names_no_state():
    """The choice rule's code must not single out a state by its code."""
    for path in ("model/choice.py", "model/agents.py", "model/core.py", "model/allocation.py", "model/dynamics.py",
                 "model/influence.py", "model/routes.py", "model/events.py", "model/params.py",
                 "experiments/fit/calibration.py"):
        text = (ROOT / path).read_text()
        found = [c for c in STATE_CODES if re.search(rf"['\"]{c}['\"]", text)]
        assert not found, f"{path} names {found}"


def test_calibrated_parameters_are_global():
    keys = [k for k, _, _ in CHOICE_PARAMETERS]
    assert all(not any(c in k for c in STATE_CODES) for k in keys)
    sur = AlignmentSurrogate(load_scenario(SCENARIOS / "baseline.yaml"), keys)
    assert sur.distribution(np.array([lo for _, lo, _ in CHOICE_PARAMETERS]), steps=20, window=5).shape[-1] == 3


def test_calibrated_file_is_the_stand_in_s_own_form():
    """`calibrate` (the stand-in calibration, a secondary reading since issue 17) writes its fit in its own form:
    the baseline's kind costs unset, so its switching costs are the depth-scaled ones it fitted; the baseline carries
    the estimated rule instead (tests/test_rule_draws.py)."""
    cal = load_scenario(SCENARIOS / "calibrated.yaml")
    assert np.isnan(GreatGameModel(cal, runs=1).p.switching_cost_kind).all()
    assert "switching_cost_kind" in load_scenario(SCENARIOS / "baseline.yaml").raw["parameters"]


def test_out_of_sample_scores_hold_the_floors_and_are_pinned(report):
    """Issue 17: the decision rule's out-of-sample log skill against persistence with base rates (PROTOCOL.md). The
    floors: the upper end of the 95% interval over states is >= 0 at both horizons. Achieved (session 7; PROTOCOL
    10 lists the fixes after the first scores): 1 year -0.0018 [-0.0167, 0.0117]; 5 years +0.0820 [-0.0300,
    0.1816] (aim, interval above 0: NOT met)."""
    out, res = report
    for h in ("1y", "5y"):
        low, high = res["oos_log_skill_ci"][h]
        assert low <= res["oos_log_skill"][h] <= high and high >= 0
        assert res["oos_log_skill"][h] == pytest.approx(
            res["oos_log_score_model"][h] - res["oos_log_score_persistence"][h], abs=2e-4)
    assert res["oos_log_skill"]["1y"] == pytest.approx(-0.0018, abs=5e-4)
    assert res["oos_log_skill"]["5y"] == pytest.approx(0.0820, abs=5e-3)  # 400 runs per origin: simulation noise
    assert res["oos"]["scored"]["1y"] == {"cell_years": 936, "changes": 23}
    assert res["oos"]["scored"]["5y"] == {"cells": 95, "changes": 10}
    assert res["events_in_panel"] == 36
    assert res["in_sample_loglik_model"] == pytest.approx(-244.14, abs=0.05)
    assert res["in_sample_loglik_persistence"] == pytest.approx(-280.45, abs=0.05)
    for name in ("oos_1y.csv", "oos_5y.csv", "oos_estimates.csv"):
        assert (out / name).stat().st_size > 0
    md = (out / "validation.md").read_text()
    assert "## Out-of-sample scores of the decision rule (primary reading)" in md and "## Churn in 13 quarters" in md


def test_churn_by_kind_is_read_against_the_record(report):
    """`churn_3y_by_kind`: the record's 90% interval per kind (Jeffreys posterior of its rate) and the baseline's
    expected number of changed cells. Achieved with the shipped stand-in rule: security alliance 0.0 (below
    [0.21, 0.67]), regional organisation 1.645 (above [0.709, 1.428]), summit format 1.675 (below [3.48, 13.21]):
    floor NOT met; with the rule estimated at 2022.83 three of four kinds inside, summit formats below."""
    res = report[1]
    churn = res["churn_3y_by_kind"]
    assert set(churn) == {"security_alliance", "economic_union", "regional_organisation", "summit_format"}
    assert churn["security_alliance"]["interval"] == pytest.approx([0.21, 0.669], abs=2e-3)
    assert churn["summit_format"]["interval"] == pytest.approx([3.482, 13.214], abs=2e-3)
    for kind, v in churn.items():
        assert 0 <= v["expected"] <= res["churn_3y_record"][kind]["cells"]
    for reading, changes in res["churn_3y_changes_by_kind"].items():  # a cell changed at the end changed at least once
        ends = res["churn_3y_by_kind" if reading == "validated_scenario" else "churn_3y_by_kind_estimated_rule"]
        assert all(changes[k] >= ends[k]["expected"] - 1e-9 for k in churn)
    assert set(res["secondary_log_scores"]) == {"blank_slate", "leave_one_out", "backcast_2017"}
