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

The reports' rule for calling an effect a finding, `sign_robustness` (docs/OUTPUT.md, "Robust in sign"): an effect
is **robust in sign** when the runs drew the scenario's `uncertainty` section and, under each trade basis
(`trade_basis` state and partner, ODD 7.2), at least a share `threshold` (default 0.95) of at least MIN_PAIRS pairs
have d of one and the same sign (d = 0 counts as neither sign).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from greatgame.model.fundamentals import TRADE_BASES
from greatgame.model.scenario import Scenario
from scipy import stats

LEVEL = 0.95  # the intervals' confidence level throughout the reports
SIGN_SHARE = 0.95  # robust in sign: the least share of pairs with one sign under each basis (a reporting convention)
MIN_PAIRS = 20  # robust in sign needs this many pairs under each basis: below 20, one pair is more than 5% of them
POOLED = ""  # the key of the pooled shares in SignRobustness (no column suffix)
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


@dataclass(frozen=True)
class SignRobustness:
    """Per effect (arrays of the effects' shape): the pairs and the shares of pairs with d > 0, d < 0 and d = 0 under
    each trade basis (keys of the mappings; POOLED: all bases together), and the flag `robust`: the runs drew their
    uncertainty (`drawn`) and under every basis of `required` the share of one sign, the same in each, is at least
    `threshold`."""

    bases: tuple[str, ...]
    pairs: Mapping[str, np.ndarray]
    share_positive: Mapping[str, np.ndarray]
    share_negative: Mapping[str, np.ndarray]
    share_zero: Mapping[str, np.ndarray]
    robust: np.ndarray
    threshold: float
    drawn: bool

    def columns(self) -> dict[str, np.ndarray]:
        """Table columns, each flattened in C order: robust_in_sign, then share_positive/_negative/_zero and pairs
        with a `_BASIS` suffix per basis, then the pooled shares without a suffix."""
        out: dict[str, np.ndarray] = {"robust_in_sign": np.asarray(self.robust, dtype=bool).ravel()}
        for b in (*self.bases, POOLED):
            tail = f"_{b}" if b else ""
            for name in ("share_positive", "share_negative", "share_zero"):
                out[name + tail] = np.asarray(getattr(self, name)[b], dtype=float).ravel()
            if b:
                out[f"pairs{tail}"] = np.asarray(self.pairs[b]).ravel()
        return out

    def at(self, index: int | tuple[int, ...] = ()) -> dict[str, float | bool]:
        """One effect (`index` into the effects' shape) as plain numbers, with the keys of `columns`."""
        shape = np.shape(self.robust)
        flat = int(np.ravel_multi_index(np.atleast_1d(index), shape)) if len(shape) else 0
        return {k: (bool(v[flat]) if k == "robust_in_sign" else int(v[flat]) if k.startswith("pairs")
                    else float(v[flat])) for k, v in self.columns().items()}


def draws_uncertainty(sc: Scenario) -> bool:
    """Whether runs of `sc` draw its `uncertainty` section (not `uncertainty: fixed`, and some drawn key not fixed):
    only such runs qualify an effect as robust in sign."""
    unc = sc.uncertainty
    return unc is not None and any(k not in sc.fixed_keys for k in unc.keys)


def sign_text(row: Mapping[str, Any], bases: Sequence[str] = TRADE_BASES) -> str:
    """'robust in sign', or 'sign not robust (x% up, y% down)' with the pooled shares of pairs, from a row with the
    columns of `SignRobustness.columns`; says when a basis has no pairs or fewer than MIN_PAIRS."""
    if bool(row["robust_in_sign"]):
        return "robust in sign"
    up, down = float(row["share_positive"]), float(row["share_negative"])
    if not (np.isfinite(up) and np.isfinite(down)):
        return "sign not robust (no pairs)"
    pairs = {b: float(row.get(f"pairs_{b}", np.nan)) for b in bases}
    missing = [b for b, n in pairs.items() if not n > 0]
    note = (f"; no {' or '.join(missing)} basis runs" if missing else
            f"; {min(pairs.values()):.0f} pairs under a basis, fewer than {MIN_PAIRS}"
            if min(pairs.values()) < MIN_PAIRS else "")
    return f"sign not robust ({up:.0%} up, {down:.0%} down{note})"


def check_sign_share(threshold: float) -> float:
    """The threshold as a float, or ValueError: it must lie in (0.5, 1] so that at most one sign can reach it."""
    t = float(threshold)
    if not 0.5 < t <= 1.0:
        raise ValueError(f"the sign share must be above 0.5 and at most 1 (got {threshold})")
    return t


def sign_robustness(diffs_by_basis: Mapping[str, np.ndarray], threshold: float = SIGN_SHARE, drawn: bool = True,
                    required: Sequence[str] = TRADE_BASES, min_pairs: int = MIN_PAIRS) -> SignRobustness:
    """Sign shares of paired differences per trade basis and pooled, and the flag robust in sign.

    `diffs_by_basis` maps a basis to its differences d (pairs, ...): pairs are matched within a basis (run k of the
    variant and of the reference under that basis) and a NaN difference is dropped for that effect. With n_b pairs
    and k+_b, k-_b positive and negative differences under basis b, the effect is robust in sign when `drawn` and
    k+_b >= threshold n_b for every b in `required` or k-_b >= threshold n_b for every b in `required`, with
    n_b >= min_pairs. A required basis without runs makes every effect not robust (its shares are NaN)."""
    t = check_sign_share(threshold)
    given = {b: np.asarray(d, dtype=float) for b, d in diffs_by_basis.items()}
    if not given or not required:
        raise ValueError("sign_robustness: needs differences and at least one required basis")
    shapes = {d.shape[1:] for d in given.values()}
    if len(shapes) != 1 or any(d.ndim == 0 for d in given.values()):
        raise ValueError(f"sign_robustness: differences must be (pairs, ...) arrays of one effect shape (got "
                         f"{', '.join(str(d.shape) for d in given.values())})")
    shape = shapes.pop()
    bases = (*required, *(b for b in given if b not in required))
    counts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for b in bases:
        d = given.get(b, np.full((0, *shape), np.nan))
        ok = ~np.isnan(d)
        counts[b] = ok.sum(axis=0), ((d > 0) & ok).sum(axis=0), ((d < 0) & ok).sum(axis=0)
    counts[POOLED] = tuple(sum(counts[b][i] for b in bases) for i in range(3))  # type: ignore[assignment]
    pairs, pos, neg, zero = {}, {}, {}, {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for b, (n, kp, kn) in counts.items():
            pairs[b], pos[b], neg[b], zero[b] = n, kp / n, kn / n, (n - kp - kn) / n
    eps = 1e-9  # k >= t n in counts, so that 19 of 20 is 0.95 whatever the rounding of t n
    enough = max(int(min_pairs), 1)
    up = np.logical_and.reduce([(counts[b][0] >= enough) & (counts[b][1] >= t * counts[b][0] - eps) for b in required])
    down = np.logical_and.reduce([(counts[b][0] >= enough) & (counts[b][2] >= t * counts[b][0] - eps)
                                  for b in required])
    robust = (up | down) & bool(drawn)
    return SignRobustness(tuple(bases), pairs, pos, neg, zero, np.asarray(robust), t, bool(drawn))
