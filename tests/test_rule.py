"""The likelihood of the dated record under the model's own choice functions (experiments/fit/rule.py; issue 17
item 3, PROTOCOL 4)."""

from __future__ import annotations

import numpy as np
import pytest
from greatgame.experiments.fit import rule
from greatgame.experiments.fit.spells import load_record
from greatgame.model.core import GreatGameModel
from greatgame.model.files import BASELINE
from greatgame.model.fundamentals import load_fundamentals, period_end
from greatgame.model.scenario import load_scenario
from greatgame.model.yamlio import ScenarioError

HEADER = "state,lineage,kind,level,start,end,end_is_choice,source,lineage_kind_note\n"
TOY = HEADER + ("KAZ,CIS,regional_organisation,member,1992.0,,,toy,toy\n"
                "UZB,CSTO,security_alliance,member,1992.0,1993.1,yes,toy,toy\n"
                "UZB,CSTO,security_alliance,none,1993.1,,,toy,toy\n")


@pytest.fixture(scope="module")
def early() -> rule.Data:
    return rule.prepare(2000.0)


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> rule.Data:
    path = tmp_path_factory.mktemp("toy") / "record.csv"
    path.write_text(TOY, encoding="utf-8")
    return rule.prepare(1994.0, load_record(path))


def test_pooled_model_builds_and_user_scenario_with_armenia_is_refused() -> None:
    data = rule.prepare(2010.0)
    sc = rule.estimation_scenario(2009, data.eligible)
    assert sc.states == tuple(rule.PANEL_STATES) and sc.formats == rule.FORMATS
    m = rule.PanelModel(sc, 2009, runs=2)
    assert m.structure.fundamentals.year == 2009 and m.structure.fundamentals.states == sc.states
    lv = rule.level_values(data, data.blocks[-1], np.zeros((1, len(rule.WEIGHTS))))
    assert np.isfinite(lv).all()
    allowed = m.structure.allowed[..., 2]
    assert allowed[sc.states.index("ARM"), rule.FORMATS.index("CSTO")]
    assert not allowed[sc.states.index("TJK"), rule.FORMATS.index("OTS")]  # no spell: not eligible
    assert not allowed[sc.states.index("ARM"), rule.FORMATS.index("C5+1")]
    assert m.spec.raw["states"]["UZB"]["doctrine"] == "none"
    assert rule.estimation_scenario(2013, data.eligible).raw["states"]["UZB"]["doctrine"] == "non_bloc"
    with pytest.raises(ScenarioError) as err:
        load_scenario({"extends": str(BASELINE),
                       "states": {"ARM": {"doctrine": "none", "afghan_border": False, "turkic": False}}})
    assert "states.ARM" in str(err.value) and "unknown state code" in str(err.value) and "\n" not in str(err.value)


def test_model_data_inputs_unchanged_for_shipped_scenarios() -> None:
    m = GreatGameModel(runs=1, steps=1)
    ref = load_fundamentals(2022, m.states, m.powers, "state")
    assert np.array_equal(m.structure.fundamentals.turnover_usd_bn, ref.turnover_usd_bn)
    assert m.structure.fundamentals.provenance == ref.provenance


def _hand_matrix(values: np.ndarray, join: float, exit_: float, rho: float = 0.25) -> np.ndarray:
    """Sticky logit by hand: keep with 1 - rho, else softmax of V_k - cost x |k - c| (join up, exit down)."""
    T = np.zeros((3, 3))
    for c in range(3):
        u = np.array([values[k] - (join * (k - c) if k > c else exit_ * (c - k)) for k in range(3)])
        p = np.exp(u - u.max())
        T[c] = (1 - rho) * (np.arange(3) == c) + rho * p / p.sum()
    return T


def test_likelihood_equals_hand_computation_on_a_two_cell_record(toy: rule.Data) -> None:
    x = np.zeros(len(rule.PARAMS))
    x[: rule.N_THETA] = np.linspace(-0.5, 1.2, rule.N_THETA)
    x[rule.N_THETA:] = np.linspace(0.8, -0.6, len(rule.WEIGHTS))
    cost = np.exp(x[: rule.N_THETA]).reshape(4, 2)
    ra, sa = rule.KINDS.index("regional_organisation"), rule.KINDS.index("security_alliance")
    # restricted: every level value 0
    Tr, Ts = _hand_matrix(np.zeros(3), *cost[ra]), _hand_matrix(np.zeros(3), *cost[sa])
    hand = 8 * np.log(Tr[2, 2]) + 4 * np.log(Ts[2, 2]) + np.log(Ts[2, 0]) + 3 * np.log(Ts[0, 0])
    assert rule.loglik(x, toy, restricted=True)[0] == pytest.approx(hand, rel=1e-12)
    # full: the model's level values of each quarter, the logit by hand
    (block,) = toy.blocks
    lv = rule.level_values(toy, block, (x[rule.N_THETA:] / rule.scales(toy))[None])[0]
    qr = block.quarters
    total = 0.0
    for r in qr.itertuples():
        T = _hand_matrix(lv[r.c, r.s, r.f], *cost[r.kind])
        total += np.log(T[r.i_from, r.i_to])
    assert len(qr) == 16
    assert rule.loglik(x, toy)[0] == pytest.approx(total, rel=1e-12)
    assert rule.loglik(x, toy)[0] != pytest.approx(rule.loglik(x, toy, restricted=True)[0])


def test_restricted_likelihood_does_not_read_the_covariates(early: rule.Data) -> None:
    other = rule.prepare(2000.0, basis="partner")
    x = np.zeros(len(rule.PARAMS))
    x[: rule.N_THETA] = 0.7
    x[rule.N_THETA:] = 1.0
    assert rule.loglik(x, early, True)[0] == rule.loglik(x, other, True)[0]
    assert rule.loglik(x, early)[0] != rule.loglik(x, other)[0]  # the full model does read them


def test_fit_improves_the_penalised_objective(early: rule.Data) -> None:
    x0 = np.zeros(len(rule.PARAMS))
    start = float(rule.loglik(x0, early, True)[0] - rule.penalty(x0)[0])
    r = rule.refit(early, True, x0, maxiter=30)
    assert r.penalised > start + 1.0
    assert np.all(r.x[rule.N_THETA:] == 0.0)
    full = rule.refit(early, False, r.x, maxiter=5)
    assert full.penalised > r.penalised


def test_nothing_after_the_origin_is_read(early: rule.Data) -> None:
    x = np.full(len(rule.PARAMS), 0.3)
    base = rule.loglik(x, early)[0]
    assert max(b.year for b in early.blocks) <= 2000
    assert all(t + 0.25 <= 2000.0 for b in early.blocks for t in b.quarters["t"])
    assert early.provenance and all(period_end(p[3]) <= 2000 for _, prov in early.provenance for p in prov)
    rec = load_record()
    late = rec.spells["start"] >= 2000.0
    cut = rec.spells[~late].copy()
    cut.loc[cut["end"] > 2000.0, "end"] = np.nan  # the record as if it stopped at the origin
    cut.loc[cut["end"].isna(), "end_is_choice"] = ""
    changed = type(rec)(cut.reset_index(drop=True), rec.attendance[rec.attendance["year"] < 1999], rec.observed_to,
                        rec.file)
    assert rule.loglik(x, rule.prepare(2000.0, changed))[0] == base


def test_recovery_small(early: rule.Data) -> None:
    truth = np.zeros(len(rule.PARAMS))
    truth[: rule.N_THETA] = [1.0, 1.5, 1.0, 2.0, 1.0, 1.5, 0.0, 1.0]
    out = rule.recovery(truth, early, seed=17, restricted=True,
                        names=["theta.regional_organisation.join", "theta.regional_organisation.exit"], maxiter=40)
    assert len(out) == 2 and np.isfinite(out["estimate"]).all()
    assert (out["low"] <= out["estimate"]).all() and (out["estimate"] <= out["high"]).all()
    assert out["covered"].all()


def test_each_origin_uses_its_own_arms_decay():
    """PROTOCOL 9b: the arms-stock decay of an origin's covariates is estimated on SIPRI deliveries up to that origin
    (2005: 0.17), not the 2022 estimate (0.27) the baseline carries."""
    from greatgame.experiments.fit import rule
    from greatgame.experiments.fit.arms_stock import estimate_delta

    data = rule.prepare(2005.0)
    assert data.arms_delta == estimate_delta(2005, boot=20).delta == pytest.approx(0.17)
    m = rule._model(data, data.blocks[-1], 1, True)
    assert m.p.security.arms_depreciation_per_year == pytest.approx([0.17] * m.R)
