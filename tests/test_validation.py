"""Validation: the achieved scores are pinned, and the decision rule holds no per-state, per-format constant."""

import json
import re

import numpy as np
import pytest

from experiments.calibration import CHOICE_PARAMETERS, AlignmentSurrogate, backcast, backcast_errors, simulate_blank_slate
from experiments.validation import validate
from model import GreatGameModel, load_scenario

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
    for key in ("blank_slate_cells_matched", "leave_one_out_cells_matched", "backcast_error_rus", "backcast_error_chn"):
        assert key in res
    for name in ("validation.md", "backcast.png", "robustness.csv"):
        assert (out / name).stat().st_size > 0
    md = (out / "validation.md").read_text()
    assert "## What the model gets wrong" in md and "## Robustness" in md


def test_blank_slate_score_is_pinned(report):
    assert report[1]["blank_slate_cells_matched"] >= 23  # achieved 23/25 (target 23)


def test_leave_one_out_score_is_pinned(report):
    assert report[1]["leave_one_out_cells_matched"] >= 19  # achieved 19/25 (target 20: not reached)


def test_backcast_errors_are_pinned(report):
    res = report[1]
    assert abs(res["backcast_error_rus"]) <= 0.05  # achieved -0.044
    assert abs(res["backcast_error_chn"]) <= 0.02  # achieved -0.017
    assert res["backcast_status_cells_matched"] >= 23


def test_blank_slate_is_reproducible(baseline):
    a = simulate_blank_slate(baseline, runs=8, steps=40, seed=3)
    b = simulate_blank_slate(baseline, runs=8, steps=40, seed=3)
    assert np.array_equal(a["predicted"], b["predicted"])


def test_backcast_starts_from_the_2017_data():
    res = backcast(load_scenario(SCENARIOS / "backcast_2017.yaml"), runs=2, seed=1)
    assert res["start_rus"] == pytest.approx(22.448)  # sum of the best 2017 rows (ODD 7.2)
    assert set(backcast_errors(res)) >= {"backcast_error_rus", "backcast_error_chn"}


def test_twin_states_make_identical_choices(baseline):
    """Give Kyrgyzstan every datum and attribute of Kazakhstan: a per-state, per-format constant anywhere in the
    decision rule would make the twins' utilities or choices differ."""
    m = GreatGameModel(baseline, runs=4)
    for name in ("turnover", "invest_total", "security_leverage", "energy_leverage", "gdp", "influence_total",
                 "status", "engagement"):
        arr = getattr(m, name)
        arr[:, 1] = arr[:, 0]
    m.remittances = m.remittances.copy()
    m.remittances[1] = m.remittances[0]
    m.allowed[1] = m.allowed[0]
    m.doctrine[1] = m.doctrine[0]
    m.afghan_border[1] = m.afghan_border[0]
    m._derive()
    b0, c0 = m.benefit_and_cost(0)
    b1, c1 = m.benefit_and_cost(1)
    np.testing.assert_array_equal(b0, b1)
    np.testing.assert_array_equal(c0, c1)
    m._draw()
    m.u_revise[:, 1], m.u_pick[:, 1] = m.u_revise[:, 0], m.u_pick[:, 0]
    m.next_status = m.status.copy()
    m.state_agents[0].step()
    m.state_agents[1].step()
    np.testing.assert_array_equal(m.next_status[:, 0], m.next_status[:, 1])


def test_decision_code_names_no_state():
    """The choice rule's code must not single out a state by its code."""
    for path in ("model/choice.py", "model/agents.py", "model/core.py", "model/allocation.py", "model/dynamics.py",
                 "model/influence.py", "experiments/calibration.py"):
        text = (ROOT / path).read_text()
        found = [c for c in STATE_CODES if re.search(rf"['\"]{c}['\"]", text)]
        assert not found, f"{path} names {found}"


def test_calibrated_parameters_are_global():
    keys = [k for k, _, _ in CHOICE_PARAMETERS]
    assert all(not any(c in k for c in STATE_CODES) for k in keys)
    sur = AlignmentSurrogate(load_scenario(SCENARIOS / "baseline.yaml"), keys)
    assert sur.probabilities(np.array([lo for _, lo, _ in CHOICE_PARAMETERS]), steps=20, window=5).shape[-1] == 3


def test_calibrated_file_matches_baseline():
    """The baseline carries the values that `calibrate` wrote (to 4 decimals)."""
    import yaml

    cal = yaml.safe_load((SCENARIOS / "calibrated.yaml").read_text())
    base = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text())

    def walk(a, b, path=""):
        for k, v in a.items():
            if isinstance(v, dict):
                walk(v, b[k], f"{path}.{k}")
            else:
                assert b[k] == pytest.approx(v, abs=5e-5), f"{path}.{k}"

    walk(cal["parameters"], base["parameters"])


