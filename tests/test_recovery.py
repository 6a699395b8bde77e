"""The fast profile likelihood and the parameter recovery (experiments/fit/rule.py `stack`, `fast_loglik`,
`profile`; experiments/fit/recovery.py; issue 17 items 3 and 7, PROTOCOL 4)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from greatgame.experiments.fit import recovery, rule

SMALL = ("KAZ", "UZB", "TJK")
TOLERANCE = 0.05  # the fast profile's ends within this of the exact path's (rule.profile docstring)


@pytest.fixture(scope="module")
def small() -> rule.Data:
    return rule.prepare(2000.0, states=SMALL)


@pytest.fixture(scope="module")
def fits(small: rule.Data) -> tuple[rule.Fit, rule.Fit]:
    res, _ = rule.fast_refit(small, True, {"zero": np.zeros(len(rule.PARAMS))})
    full, _ = rule.fast_refit(small, False, {"restricted": res.x.copy()})
    return full, res


def test_fast_loglik_is_the_likelihood(small: rule.Data) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, (4, len(rule.PARAMS)))
    for restricted in (False, True):
        st = rule.stack(small, restricted)
        assert st.q_count.sum() + len(st.s_from) == small.n_rows  # every scored row, duplicates counted
        assert len(st.q_count) < st.q_count.sum()  # identical quarter rows were merged
        np.testing.assert_allclose(rule.fast_loglik(x, st), rule.loglik(x, small, restricted), rtol=0, atol=1e-9)
    st = rule.stack(small, False)
    f0, g = rule.fast_objective(st)(x[0])
    assert f0 == pytest.approx(float(-rule.loglik(x[0], small)[0] + rule.penalty(x[0])[0]), abs=1e-9)
    assert np.allclose(g, rule.objective(small)(x[0])[1], atol=1e-4)


def test_stack_refuses_level_values_not_affine_in_the_weights(small: rule.Data, monkeypatch: pytest.MonkeyPatch) -> None:
    real = rule.level_values
    monkeypatch.setattr(rule, "level_values", lambda d, b, w, r=False: real(d, b, w, r) + (w ** 2).sum(1)[:, None, None,
                                                                                                             None, None])
    with pytest.raises(ValueError, match="not affine"):
        rule.stack(small, False)


def test_fast_profile_agrees_with_the_exact_one(small: rule.Data, fits: tuple[rule.Fit, rule.Fit]) -> None:
    full, res = fits
    some = ["theta.security_alliance.exit", "theta.regional_organisation.join", "theta.regional_organisation.exit"]
    all_r = rule.profile(res, small)
    fast_r, exact_r = {n: all_r[n] for n in some}, rule.profile(res, small, some, fast=False)
    names = ["theta.regional_organisation.exit", "weights.trade"]
    fast_f, exact_f = rule.profile(full, small, names), rule.profile(full, small, names, fast=False)
    for fast, exact in ((fast_r, exact_r), (fast_f, exact_f)):
        assert fast.keys() == exact.keys()
        for name in exact:
            assert fast[name][0] == pytest.approx(exact[name][0], abs=TOLERANCE), name
            assert fast[name][1] == pytest.approx(exact[name][1], abs=TOLERANCE), name
            assert fast[name][2] == exact[name][2], name
    for name, (lo, hi, _) in {**fast_r, **fast_f}.items():
        fit_ = res if name in fast_r else full
        assert lo <= fit_.x[rule.PARAMS.index(name)] <= hi
    # a kind with no row in this cut (the economic union before 2000): its profile is the prior's alone,
    # theta ~ N(0, 3^2) -> 0 +- sqrt(2 x 1.92) x 3, two-sided inside the bound of 10
    lo, hi, note = all_r["theta.economic_union.exit"]
    assert (lo, hi, note) == (pytest.approx(-math.sqrt(2 * rule.PROFILE_DROP) * 3, abs=0.02),
                              pytest.approx(math.sqrt(2 * rule.PROFILE_DROP) * 3, abs=0.02), "")


def test_a_profile_that_does_not_reach_the_drop_is_one_sided(small: rule.Data, fits: tuple[rule.Fit, rule.Fit],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """With the bound at 2 the uninformed cost's profile (the prior's, drop at +-5.88) ends at both bounds; the
    informed one still reaches the drop inside them."""
    monkeypatch.setattr(rule, "THETA_BOUND", 2.0)
    res = fits[1]
    names = ["theta.economic_union.exit", "theta.security_alliance.exit"]
    for fast in (True, False):
        out = rule.profile(res, small, names, fast=fast)
        assert out["theta.economic_union.exit"] == (-2.0, 2.0, "one-sided low; one-sided high")
        lo, hi, note = out["theta.security_alliance.exit"]
        assert note == "" and -2.0 < lo < hi < 2.0


def test_a_large_synthetic_effect_is_recovered() -> None:
    """All eleven states to 2000 (1,001 rows): a trade weight of 4 (standardised: four standard deviations of the
    trade term per unit of utility) on top of the restricted fit's costs is found from a zero start, away from 0."""
    data = rule.prepare(2000.0)
    res, _ = rule.fast_refit(data, True, {"zero": np.zeros(len(rule.PARAMS))})
    truth = res.x.copy()
    truth[rule.PARAMS.index("weights.trade")] = 4.0
    out = rule.recovery(truth, data, seed=5, names=["weights.trade", "theta.regional_organisation.join"],
                        from_zero=True).set_index("parameter")
    row = out.loc["weights.trade"]
    assert row["estimate"] > 2.0 and row["low"] > 0.0 and row["best_start"] == "zero"
    assert row["covered"] and row["note"] == ""
    theta = out.loc["theta.regional_organisation.join"]
    assert theta["high"] - theta["low"] < 1.5 and theta["covered"]


def test_recovery_report_is_written_with_its_columns(tmp_path) -> None:
    names = ["theta.regional_organisation.join", "theta.regional_organisation.exit", "weights.trade"]
    summary = recovery.run(tmp_path, upto=2000.0, reps=2, seed=11, states=SMALL, names=names, progress=False)
    assert tuple(summary.columns) == recovery.COLUMNS
    csv = pd.read_csv(tmp_path / "recovery.csv")
    assert tuple(csv.columns) == recovery.COLUMNS and len(csv) == 2 + 3  # restricted: its thetas only
    assert (csv["replicates"] == 2).all()
    assert ((csv["coverage_low"] <= csv["coverage"]) & (csv["coverage"] <= csv["coverage_high"])).all()
    np.testing.assert_allclose(csv["bias"], csv["mean_estimate"] - csv["truth"], atol=1e-9)
    reps = pd.read_csv(tmp_path / "recovery_replicates.csv")
    assert set(reps["seed"]) == {11, 12} and len(reps) == 2 * 5
    md = (tmp_path / "recovery.md").read_text(encoding="utf-8")
    assert "| parameter | truth | mean estimate | bias |" in md and "PARTIAL" not in md
    # resuming with more replicates keeps the done ones and stops when the time is up
    recovery.run(tmp_path, upto=2000.0, reps=3, seed=11, states=SMALL, names=names, minutes=0.0, progress=False)
    assert "PARTIAL RESULTS" in (tmp_path / "recovery.md").read_text(encoding="utf-8")
    assert len(pd.read_csv(tmp_path / "recovery_replicates.csv")) == 2 * 5


def test_clopper_pearson() -> None:
    assert recovery.clopper_pearson(0, 0) == (0.0, 1.0)
    # closed forms: all covered -> (0.05^(1/n), 1); n - 1 covered -> upper end 0.95^(1/n)
    assert recovery.clopper_pearson(20, 20) == (pytest.approx(0.05 ** (1 / 20)), 1.0)
    assert recovery.clopper_pearson(0, 20) == (0.0, pytest.approx(1 - 0.05 ** (1 / 20)))
    lo, hi = recovery.clopper_pearson(19, 20)
    assert hi == pytest.approx(0.95 ** (1 / 20)) and 0.7 < lo < 19 / 20
