"""The one paired-difference statistic (experiments/analysis/statistics.py): hand-checked small cases, the score
interval against a brute-force inversion, coverage on known distributions by simulation, the sign shares, and the
rule "robust in sign" (sign_robustness: the share of one sign under each trade basis)."""

from __future__ import annotations

import numpy as np
import pytest
from greatgame.experiments.analysis.statistics import MIN_PAIRS, paired_difference, sign_robustness, sign_text
from scipy import optimize, stats

Z = 1.959963984540054  # standard normal 97.5% quantile


def test_student_t_by_hand():
    # d = 1, 2, 3: mean 2, s = 1, t_{2, 0.975} = 4.302653, t statistic 2 sqrt(3) on 2 df
    r = paired_difference(np.array([1.0, 2.0, 3.0]), np.zeros(3)).at()
    assert r["change"] == pytest.approx(2.0)
    assert r["ci_low"] == pytest.approx(2 - 4.302652730 / np.sqrt(3))
    assert r["ci_high"] == pytest.approx(2 + 4.302652730 / np.sqrt(3))
    assert r["p_value"] == pytest.approx(0.0741799, abs=1e-6)
    assert r["pairs"] == 3 and (r["share_positive"], r["share_zero"]) == (1.0, 0.0)


def test_constant_difference_is_a_point_and_too_few_pairs_give_nan():
    same = paired_difference(np.full(4, 0.3), np.full(4, 0.3)).at()
    assert (same["ci_low"], same["ci_high"], same["p_value"]) == (0.0, 0.0, 1.0)
    shift = paired_difference(np.full(4, 0.8), np.full(4, 0.3)).at()
    assert shift["ci_low"] == shift["ci_high"] == pytest.approx(0.5) and shift["p_value"] == 0.0
    one = paired_difference(np.array([1.0]), np.array([0.5])).at()
    assert one["change"] == 0.5 and np.isnan(one["ci_low"]) and np.isnan(one["p_value"])
    none = paired_difference(np.array([np.nan]), np.array([0.5])).at()
    assert none["pairs"] == 0 and np.isnan(none["change"])


def test_score_interval_by_hand():
    n = 200  # no pair differs: the interval is +- z^2 / (n + z^2), as Wilson's for 0 of n, not the point 0
    r = paired_difference(np.zeros(n), np.zeros(n), binary=True).at()
    assert r["change"] == 0 and r["p_value"] == 1.0
    assert r["ci_high"] == pytest.approx(Z**2 / (n + Z**2), rel=1e-9) and r["ci_low"] == pytest.approx(-r["ci_high"])
    # every pair +1 (n = 5): the lower end solves sqrt(n (1 - D) / (1 + D)) = z, D = (n - z^2) / (n + z^2)
    r = paired_difference(np.ones(5), np.zeros(5), binary=True).at()
    assert r["ci_low"] == pytest.approx((5 - Z**2) / (5 + Z**2), rel=1e-9) and r["ci_high"] == pytest.approx(1.0)
    # b = 10 pairs +1, c = 2 pairs -1 of 100: McNemar's z = 8 / sqrt(12)
    x, y = np.zeros(100), np.zeros(100)
    x[:10], y[10:12] = 1, 1
    r = paired_difference(x, y, binary=True).at()
    assert r["change"] == pytest.approx(0.08) and r["p_value"] == pytest.approx(2 * stats.norm.sf(8 / np.sqrt(12)))
    assert 0 < r["ci_low"] < 0.08 < r["ci_high"]  # p = 0.021 < 0.05: the interval excludes 0


def _brute_force_score_interval(b: int, c: int, n: int) -> tuple[float, float]:
    """{D : |Z(D)| <= z} on a fine grid, Z from a numerical maximum of the constrained likelihood."""
    m = n - b - c
    inside = []
    for delta in np.linspace(-1, 1, 4001)[1:-1]:
        lo, hi = max(0.0, -delta), (1 - delta) / 2

        def nll(q: float, delta: float = delta) -> float:
            terms = [(b, q + delta), (c, q), (m, 1 - 2 * q - delta)]
            return -sum(k * np.log(max(p, 1e-300)) for k, p in terms if k)

        q = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}).x
        var = 2 * q + delta * (1 - delta)
        if abs(b - c - n * delta) <= Z * np.sqrt(n * var):
            inside.append(delta)
    return min(inside), max(inside)


@pytest.mark.parametrize(("b", "c", "n"), [(3, 1, 40), (0, 0, 30), (7, 0, 25), (2, 9, 60), (12, 12, 50)])
def test_score_interval_matches_a_brute_force_inversion(b, c, n):
    x, y = np.zeros(n), np.zeros(n)
    x[:b], y[b:b + c] = 1, 1
    r = paired_difference(x, y, binary=True).at()
    lo, hi = _brute_force_score_interval(b, c, n)
    assert r["ci_low"] == pytest.approx(lo, abs=1e-3) and r["ci_high"] == pytest.approx(hi, abs=1e-3)


def _coverage(x: np.ndarray, y: np.ndarray, true: float, binary: bool) -> float:
    r = paired_difference(x, y, binary=binary)
    return float(np.mean((r.ci_low <= true) & (true <= r.ci_high)))


@pytest.mark.parametrize("n", [2, 5, 200])
def test_student_interval_covers_a_bounded_share_difference(n):
    # paired shares: x ~ Beta(2, 5), y half x and half an independent Beta(2, 5): true mean difference 0
    rng = np.random.default_rng(20260101)
    x = rng.beta(2, 5, size=(n, 4000))
    y = 0.5 * x + 0.5 * rng.beta(2, 5, size=(n, 4000))
    assert 0.935 <= _coverage(x, y, 0.0, binary=False) <= 0.965
    if n <= 5:  # the normal interval 1.96 s / sqrt(n) it replaces misses far more often at a few pairs
        d = x - y
        half = 1.96 * d.std(axis=0, ddof=1) / np.sqrt(n)
        assert np.mean(np.abs(d.mean(axis=0)) <= half) < 0.9


@pytest.mark.parametrize(("n", "p_up", "p_down"), [(200, 0.01, 0.0), (200, 0.03, 0.01), (50, 0.1, 0.04)])
def test_score_interval_covers_rare_status_changes(n, p_up, p_down):
    # most pairs agree (d = 0); a t or normal interval is a point at 0 whenever no pair differs
    rng = np.random.default_rng(7)
    u = rng.random((n, 4000))
    d = np.where(u < p_up, 1.0, np.where(u < p_up + p_down, -1.0, 0.0))
    x, y = (d == 1).astype(float), (d == -1).astype(float)
    assert 0.93 <= _coverage(x, y, p_up - p_down, binary=True) <= 0.99
    if p_down == 0:
        assert _coverage(x, y, p_up - p_down, binary=False) < 0.9


def test_sign_shares_and_nan_pairs_per_effect():
    x = np.array([[1.0, 0.0], [0.0, np.nan], [0.5, 1.0], [0.5, 2.0], [3.0, 1.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 1.0], [0.5, 1.0], [1.0, 1.0]])
    r = paired_difference(x, y)
    first, second = r.at(0), r.at(1)
    assert (first["share_positive"], first["share_negative"], first["share_zero"]) == (0.4, 0.2, 0.4)
    assert second["pairs"] == 4  # the NaN pair is dropped for this effect only
    assert (second["share_positive"], second["share_negative"], second["share_zero"]) == (0.25, 0.25, 0.5)
    b = paired_difference(np.array([1, 1, 0, 0, 1.0]), np.array([0, 1, 0, 1, 0.0]), binary=True).at()
    assert (b["share_positive"], b["share_negative"], b["share_zero"]) == (0.4, 0.2, 0.4)


def test_vectorised_effects_equal_one_at_a_time_and_p_agrees_with_the_interval():
    rng = np.random.default_rng(3)
    x, y = rng.random((30, 3, 4)), rng.random((30, 3, 4))
    xb, yb = (x < 0.2).astype(float), (y < 0.3).astype(float)
    for binary, (a, b) in ((False, (x, y)), (True, (xb, yb))):
        whole = paired_difference(a, b, binary=binary)
        for i in range(3):
            for j in range(4):
                one = paired_difference(a[:, i, j], b[:, i, j], binary=binary).at()
                assert whole.at((i, j)) == pytest.approx(one, rel=1e-12, abs=1e-15)
        excludes = (whole.ci_low > 0) | (whole.ci_high < 0)
        assert np.array_equal(excludes, whole.p_value < 0.05)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="0/1"):
        paired_difference(np.array([0.5, 1.0]), np.array([0.0, 1.0]), binary=True)
    with pytest.raises(ValueError, match="same shape"):
        paired_difference(np.zeros(3), np.zeros(4))


def _signs(up: int, down: int, zero: int) -> np.ndarray:
    """Differences with `up` positive, `down` negative and `zero` zero pairs (shuffled: order must not matter)."""
    d = np.r_[np.full(up, 0.01), np.full(down, -0.02), np.zeros(zero)]
    return np.random.default_rng(up * 100 + down).permutation(d)


def test_robust_in_sign_at_the_boundary_under_both_bases():
    at = sign_robustness({"state": _signs(19, 1, 0), "partner": _signs(57, 3, 0)}).at()  # exactly 95% in each
    assert at["robust_in_sign"] and at["share_positive_state"] == 0.95 and at["pairs_partner"] == 60
    assert at["share_positive"] == pytest.approx(76 / 80)  # pooled over both bases
    below = sign_robustness({"state": _signs(19, 1, 0), "partner": _signs(56, 4, 0)}).at()  # 93.3% under partner
    assert not below["robust_in_sign"]
    down = sign_robustness({"state": _signs(0, 20, 0), "partner": _signs(1, 19, 0)}).at()
    assert down["robust_in_sign"] and down["share_negative"] == 39 / 40
    assert sign_text(down) == "robust in sign"
    strict = sign_robustness({"state": _signs(19, 1, 0), "partner": _signs(20, 0, 0)}, threshold=0.96).at()
    assert not strict["robust_in_sign"]  # 95% under state is below a 0.96 convention


def test_zeros_count_as_neither_sign():
    r = sign_robustness({"state": _signs(18, 0, 2), "partner": _signs(20, 0, 0)}).at()
    assert not r["robust_in_sign"]  # 90% positive and 10% zero under state: not 95% of one sign
    assert (r["share_positive_state"], r["share_negative_state"], r["share_zero_state"]) == (0.9, 0.0, 0.1)
    none = sign_robustness({"state": np.zeros(40), "partner": np.zeros(40)}).at()
    assert not none["robust_in_sign"] and none["share_zero"] == 1.0
    assert sign_text(none) == "sign not robust (0% up, 0% down)"


def test_one_basis_failing_or_missing_makes_it_not_robust():
    flip = sign_robustness({"state": _signs(40, 0, 0), "partner": _signs(0, 40, 0)}).at()  # each basis 100%, opposite
    assert not flip["robust_in_sign"] and flip["share_positive"] == 0.5
    assert sign_text(flip) == "sign not robust (50% up, 50% down)"
    one = sign_robustness({"state": _signs(40, 0, 0)}).at()
    assert not one["robust_in_sign"] and one["pairs_partner"] == 0 and np.isnan(one["share_positive_partner"])
    assert "no partner basis runs" in sign_text(one)
    fixed = sign_robustness({"state": _signs(40, 0, 0), "partner": _signs(40, 0, 0)}, drawn=False).at()
    assert not fixed["robust_in_sign"]  # runs that fix every parameter do not qualify
    few = sign_robustness({"state": _signs(MIN_PAIRS - 1, 0, 0), "partner": _signs(40, 0, 0)}).at()
    assert not few["robust_in_sign"] and "fewer than 20" in sign_text(few)


def test_sign_robustness_per_effect_drops_nan_pairs_and_names_its_columns():
    state = np.column_stack([_signs(20, 0, 0), np.r_[_signs(19, 0, 0), np.nan]])  # effect 1: 19 pairs, all up
    partner = np.column_stack([_signs(20, 0, 0), _signs(0, 20, 0)])
    r = sign_robustness({"state": state, "partner": partner})
    cols = r.columns()
    assert list(cols) == ["robust_in_sign", "share_positive_state", "share_negative_state", "share_zero_state",
                          "pairs_state", "share_positive_partner", "share_negative_partner", "share_zero_partner",
                          "pairs_partner", "share_positive", "share_negative", "share_zero"]
    assert cols["robust_in_sign"].tolist() == [True, False] and cols["pairs_state"].tolist() == [20, 19]
    assert r.at(1)["share_positive"] == pytest.approx(19 / 39)


@pytest.mark.parametrize("threshold", [0.5, 0.3, 1.01])
def test_sign_share_outside_its_range_is_refused(threshold):
    with pytest.raises(ValueError, match="above 0.5 and at most 1"):
        sign_robustness({"state": np.ones(30), "partner": np.ones(30)}, threshold=threshold)
