"""The one statistic of a paired difference, used by compare, levers, responsiveness and the dashboard.

Run k of a variant and run k of its reference share their random stream and their parameter draws, so the unit of
analysis is the pair: d_k = x_k - y_k. For each effect: the mean of d, a 95% interval, a p-value for "mean 0" from
the same statistic (so the interval excludes 0 exactly when p < 0.05), the pairs used and the share of pairs with
d > 0, d < 0 and d = 0 (exact zero). Which interval, and why, is in docs/OUTPUT.md ("Paired differences"):

* a quantity (influence, a share, a turnover, a status level): the Student t interval of the mean,
  mean +- t_{n-1} s / sqrt(n), with the one-sample t-test;
* a 0/1 indicator in both runs (a status level held or not, a downgrade): d is -1, 0 or +1, and the interval is
  Tango's asymptotic score interval for a difference of paired proportions (Tango 1998, Statistics in Medicine
  17:891-908), with its score test at 0 (McNemar's test).

Everything is vectorised over effects: x and y are (n, ...) arrays paired along axis 0, and a pair with a NaN in
either run is dropped for that effect only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95  # the intervals' confidence level throughout the reports
BISECTIONS = 64  # halvings of [-1, 1] when inverting the score test: far below float resolution


@dataclass(frozen=True)
class PairedDifference:
    """Per effect (arrays of the effects' shape; 0-d for one effect): mean of x - y over the pairs used, its
    interval, the p-value of "mean 0", the pairs used, and the share of pairs with each sign. `method` names the
    interval ("student t" or "tango score")."""

    mean: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    pairs: np.ndarray
    share_positive: np.ndarray
    share_negative: np.ndarray
    share_zero: np.ndarray
    method: str

    def columns(self) -> dict[str, np.ndarray]:
        """Table columns, each flattened in C order: change (the mean), ci_low, ci_high, p_value, pairs and the
        sign shares."""
        arrays = {"change": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value,
                  "pairs": self.pairs, "share_positive": self.share_positive, "share_negative": self.share_negative,
                  "share_zero": self.share_zero}
        return {k: np.asarray(v).ravel() for k, v in arrays.items()}

    def at(self, index: int | tuple[int, ...] = ()) -> dict[str, float]:
        """One effect (`index` into the effects' shape) as plain numbers, with the keys of `columns`."""
        flat = int(np.ravel_multi_index(np.atleast_1d(index), np.shape(self.mean))) if np.ndim(self.mean) else 0
        return {k: (int(v[flat]) if k == "pairs" else float(v[flat])) for k, v in self.columns().items()}


def paired_difference(x: np.ndarray, y: np.ndarray, binary: bool = False, level: float = LEVEL) -> PairedDifference:
    """Mean of d = x - y over pairs (axis 0) with its `level` interval and p-value: Student t, or with
    `binary=True` (x and y are 0/1 indicators) Tango's score interval and McNemar's test. Pairs with a NaN in
    either run are dropped per effect; no pair gives NaN, one pair a NaN interval for a quantity."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim == 0:
        raise ValueError(f"paired_difference: x {x.shape} and y {y.shape} must have the same shape (pairs, ...)")
    d = x - y
    ok = ~np.isnan(d)
    if binary and not np.isin(np.concatenate([x[ok], y[ok]]), (0.0, 1.0)).all():
        raise ValueError("paired_difference: binary=True needs 0/1 indicators in x and y")
    n = ok.sum(axis=0)
    pos, neg = ((d > 0) & ok).sum(axis=0), ((d < 0) & ok).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = pos / n, neg / n, (n - pos - neg) / n
        if binary:
            mean, low, high, p = _tango(pos.astype(float), neg.astype(float), n.astype(float), level)
        else:
            mean, low, high, p = _student(np.where(ok, d, 0.0), ok, n, level)
    return PairedDifference(mean, low, high, p, n, *shares, method="tango score" if binary else "student t")


def _student(d: np.ndarray, ok: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, ...]:
    """Mean +- t_{n-1, (1+level)/2} s / sqrt(n) and the two-sided one-sample t-test; s = 0 gives the point interval
    and p 1 (mean 0) or 0."""
    mean = d.sum(axis=0) / n
    sd = np.sqrt((np.where(ok, d - mean, 0.0) ** 2).sum(axis=0) / (n - 1))
    se = np.where(n > 1, sd / np.sqrt(n), np.nan)
    half = np.where(se == 0, 0.0, stats.t.ppf((1 + level) / 2, n - 1) * se)
    p = np.where(se == 0, (mean == 0).astype(float), 2 * stats.t.sf(np.abs(mean / se), n - 1))
    p = np.where(np.isnan(se), np.nan, p)
    return mean, mean - half, mean + half, p


def _score(delta: np.ndarray, b: np.ndarray, c: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Tango's score statistic Z(delta) = (b - c - n delta) / sqrt(n (2 q + delta (1 - delta))), where q is the
    maximum-likelihood P(d = -1) given P(d = +1) - P(d = -1) = delta: the root of 2n q^2 + W q - c delta (1 - delta)
    = 0 with W = -(b + c) + delta (2n - b + c). b, c: pairs with d = +1 and d = -1 of n."""
    w = -(b + c) + delta * (2 * n - b + c)
    q = (np.sqrt(np.maximum(w * w + 8 * n * c * delta * (1 - delta), 0.0)) - w) / (4 * n)
    var = np.maximum(2 * q + delta * (1 - delta), 0.0)
    num = b - c - n * delta
    return np.where(var > 0, num / np.sqrt(n * np.where(var > 0, var, 1.0)), np.sign(num) * np.inf)


def _tango(b: np.ndarray, c: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, ...]:
    """Tango's score interval {delta: |Z(delta)| <= z} for delta = P(d = +1) - P(d = -1), found by bisection (Z falls
    as delta rises, from +inf at -1 to -inf at +1), and McNemar's test (b - c) / sqrt(b + c)."""
    z = stats.norm.ppf((1 + level) / 2)
    est = (b - c) / n
    bounds = []
    for side in (1.0, -1.0):  # lower end: Z = +z on [-1, est]; upper end: Z = -z on [est, 1]
        lo, hi = (np.full_like(est, -1.0), est.copy()) if side > 0 else (est.copy(), np.full_like(est, 1.0))
        for _ in range(BISECTIONS):
            mid = (lo + hi) / 2
            beyond = side * _score(mid, b, c, n) > z  # still outside the interval on this side
            if side > 0:
                lo, hi = np.where(beyond, mid, lo), np.where(beyond, hi, mid)
            else:
                lo, hi = np.where(beyond, lo, mid), np.where(beyond, mid, hi)
        bounds.append(np.where(n > 0, (lo + hi) / 2, np.nan))
    p = np.where(b + c > 0, 2 * stats.norm.sf(np.abs(b - c) / np.sqrt(b + c)), 1.0)
    return est, bounds[0], bounds[1], np.where(n > 0, p, np.nan)
