"""Out-of-sample scoring of the decision rule at rolling origins (experiments/fit/oos.py; issue 17 item 5,
PROTOCOL 9c): the cells scored, the forecasts' provenance, the bootstrap interval and the power simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from greatgame.experiments.fit import oos, rule
from greatgame.experiments.fit.spells import load_record


@pytest.fixture(scope="module")
def origin2005() -> tuple[oos.OriginFit, pd.DataFrame, pd.DataFrame]:
    rec = load_record()
    f = oos.fit_origin(2005, rec, starts=1)
    return f, oos.one_year(f, rec), oos.five_year(f, rec, runs=40)


def test_windows_follow_the_protocol() -> None:
    assert list(oos.window(2005)) == [2005, 2006, 2007, 2008]
    assert list(oos.window(2017)) == [2017, 2018, 2019, 2020, 2021]  # PROTOCOL 9c: the last year ends at 2022.0


def test_origin_fit_sees_nothing_after_its_origin(origin2005: tuple) -> None:
    f, _, _ = origin2005
    assert f.data.upto == 2005.0
    assert max(year for year, _ in f.data.provenance) <= 2004  # covariates of years <= O - 1 only
    assert all(len(b.quarters) == 0 or b.quarters["t"].max() + 0.25 <= 2005.0 + 1e-9 for b in f.data.blocks)


def test_one_year_cells_are_the_record_s_transitions(origin2005: tuple) -> None:
    _, one, _ = origin2005
    assert set(one["year"]) == {2005, 2006, 2007, 2008} and one["state"].nunique() == 11
    # Uzbekistan left GUUAM in 2005, rejoined the CSTO and joined EurAsEC in 2006: each is a scored change
    changed = {(r.state, r.lineage, r.year) for r in one.itertuples() if r.i_to != r.i_from}
    assert {("UZB", "GUUAM", 2005), ("UZB", "CSTO", 2006), ("UZB", "EAEU", 2006)} <= changed
    for name in ("model", "restricted", "jeffreys"):
        p = oos.probs_of(one, name)
        assert np.allclose(p.sum(axis=1), 1.0) and (p >= 0).all()


def test_restricted_forecast_is_persistence_by_kind(origin2005: tuple) -> None:
    """The restricted model's level values are 0: its one-year matrix depends only on kind, from-level and which
    levels are allowed, never on the covariates or the year."""
    _, one, _ = origin2005
    p = oos.probs_of(one, "restricted")
    for (_, _), g in one.assign(k=one["kind"], i=one["i_from"]).groupby(["k", "i"]):
        rows = p[g.index]
        full = rows[(rows > 0).all(axis=1)]  # cells where all three levels are allowed
        assert np.allclose(full, full[:1], atol=1e-12)


def test_five_year_model_starts_from_the_observed_statuses(origin2005: tuple) -> None:
    f, _, five = origin2005
    m, cells = oos.origin_model(f, load_record(), runs=3)
    assert m.horizon == 20 and m.structure.fundamentals.year == 2005
    assert set(m.states) == set(oos.CA_STATES)
    s, fm = m.states.index("UZB"), m.formats.index("CSTO")
    assert (m.state.status[:, s, fm] == 0).all()  # Uzbekistan had left the CSTO in 1999
    assert not m.state.active[0, m.formats.index("C5+1")]  # founded 2015: not imposed
    assert "C5+1" not in set(five["lineage"])
    assert (five["i_from"] == cells["i_from"].to_numpy()).all()
    p = oos.probs_of(five, "model")
    assert np.allclose(p.sum(axis=1), 1.0) and (p >= 0.5 / 41.5 - 1e-12).all()  # Jeffreys-smoothed frequencies


def test_skill_bootstrap_is_over_states_and_reproducible() -> None:
    rows = []
    for s, gain in (("A", 0.5), ("B", 0.5), ("C", -0.1)):  # per state: ln p_model - ln p_restricted of every row
        p_m, p_r = min(1.0, np.exp(gain)), min(1.0, np.exp(-gain))
        row = {"state": s, "i_from": 2, "i_to": 2, "p_model_none": 0.0, "p_model_partial": 1.0 - p_m,
               "p_model_member": p_m, "p_restricted_none": 0.0, "p_restricted_partial": 1.0 - p_r,
               "p_restricted_member": p_r}
        rows += [row] * 10
    fr = pd.DataFrame(rows)
    a, b = oos.skill(fr, n_boot=500), oos.skill(fr, n_boot=500)
    assert a == b
    assert a["log_skill"] == pytest.approx((0.5 + 0.5 - 0.1) / 3)
    assert a["log_skill_ci"][0] == pytest.approx(-0.1) and a["log_skill_ci"][1] == pytest.approx(0.5)
    assert a["leave_one_state_out"]["C"] == pytest.approx(0.5)


def test_power_grows_with_the_true_skill(origin2005: tuple) -> None:
    _, one, _ = origin2005
    pw = oos.power(one, shares=(0.0, 1.0), reps=40, n_boot=100)
    null, alt = pw.iloc[0], pw.iloc[1]
    assert null["mean_skill"] == 0.0 and null["above_0"] == 0.0
    assert alt["mean_skill"] > 0 and alt["above_0"] >= null["above_0"]


def test_events_inside_the_horizon_only() -> None:
    assert oos.origin_scenario_events(2005) == []
    assert oos.origin_scenario_events(2013) == [{"step": 5, "type": "sanctions", "power": "RUS", "level": 0.3}]
    assert [e["type"] for e in oos.origin_scenario_events(2017)] == ["threat"]
    assert rule.RUS_SANCTIONS[1] == (2014.25, 0.3)


def test_secondary_readings_are_scored_against_persistence_in_the_model_s_terms() -> None:
    """A reading that puts its runs on the observed statuses beats the restricted rule; one that puts them on a
    wrong status loses; the backcast's benchmark is persistence from the 2017 statuses."""
    S, F = 2, 2
    allowed = np.ones((S, F, 3), dtype=bool)
    observed = np.array([[2, 0], [2, 2]])
    start = np.array([[2, 0], [1, 2]])
    right = np.eye(3)[observed]
    wrong = np.eye(3)[2 - observed]
    est = {f"theta.{k}.{d}": 1.0 for k in oos.KINDS for d in ("join", "exit")}
    sec = oos.Secondary(("A", "B"), ("regional_organisation", "security_alliance"), allowed, observed, start,
                        right, wrong, right, 21, 32)
    out = oos.secondary_scores(sec, est, est)
    assert out["blank_slate"]["log_skill_per_cell"] > 0 > out["leave_one_out"]["log_skill_per_cell"]
    assert out["backcast_2017"]["cells"] == 4
    # persistence from 2017: the cell that stayed (A, member) is likelier under the benchmark than the one that moved
    sec2 = oos.Secondary(("A", "B"), ("regional_organisation", "regional_organisation"), allowed, observed, start,
                         right, right, right, 21, 32)
    moved = oos.secondary_scores(sec2, est, est)["backcast_2017"]["log_score_sum_benchmark"]
    sec2.start = observed.copy()
    stayed = oos.secondary_scores(sec2, est, est)["backcast_2017"]["log_score_sum_benchmark"]
    assert stayed > moved


def test_five_year_model_starts_from_the_origin_s_situation(origin2005: tuple) -> None:
    """The 5-year runs start with the sanctions and threat of the origin (PROTOCOL 5 as the estimation reads them),
    not the 2022 baseline's (a bug found in review, PROTOCOL 10 item 2)."""
    f, _, _ = origin2005
    m, _ = oos.origin_model(f, load_record(), runs=2)
    assert (m.state.sanctions[:, m.powers.index("RUS")] == 0.0).all()
    assert (m.values.get("parameters.secondary_sanctions") == 0.0).all()
    assert (m.values.get("parameters.threat_level") == 0.2).all()
