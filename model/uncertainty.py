"""Parameter uncertainty: every run draws the parameters we do not know (docs/ODD.md 5, section `uncertainty:`).

A scenario's `uncertainty:` section is `fixed` (no draws) or a mapping with
* `fixed`: a list of scenario keys this file gives explicitly, as `--set` would: they keep their value in every run
  (the dashboard's saved scenarios use it);
* `behaviour`: a CSV of joint parameter vectors (the calibration's near-best set); a run draws one whole row, since
  the members of a vector are fitted together and must never be sampled as independent ranges;
* `ranges`: judgement weights, each `{low, high, source}`, drawn uniformly; the range must contain the scenario's
  value. Drawn influence channel weights are renormalised to sum to 1 (`params.renormalised`). Which keys may take
  a range, the channel-weight group and each parameter's range rule (`spread`) are declared in model/schema.py;
  the behaviour vector is the declared joint block `schema.BEHAVIOUR`.
Run r of design sample d draws from `SeedSequence(seed, spawn_key=(UNCERTAINTY_STREAM, d, r))`, a stream apart from
its behavioural stream, so scenarios and levers compared at the same sample and replicate share their draws
(paired comparisons), and a run's draws never depend on which runs it is grouped with. A key fixed explicitly (a
design value, `--set`, `run_values`) keeps its value; every other key keeps its draw (all draws are made in a fixed
order whatever is fixed).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import keypaths
from .keypaths import KeyPathError
from .params import renormalised
from .schema import Num, group_keys, spec_at
from .yamlio import ScenarioError, input_file, read_text

UNCERTAINTY_STREAM = 7_770_001  # first element of the uncertainty streams' spawn keys (apart from behaviour streams)
CHANNEL_WEIGHTS = group_keys("influence.channel_weights")  # drawn as a group, renormalised to sum to 1


@dataclass(frozen=True)
class Uncertainty:
    """The validated `uncertainty:` section: joint behaviour vectors and independent judgement ranges."""

    behaviour_keys: tuple[str, ...]
    behaviour: np.ndarray  # (N, K) joint vectors
    ranges: tuple[tuple[str, float, float], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key this section draws: the behavioural vector's columns, then the ranged keys."""
        return self.behaviour_keys + tuple(k for k, _, _ in self.ranges)

    def draw(self, seed: int, samples: np.ndarray, replicates: np.ndarray, values: dict[str, np.ndarray],
             fixed: frozenset[str] | set[str] = frozenset()) -> dict[str, np.ndarray]:
        """Per-run draws {key: (R,)} of every key not in `fixed` (and `uncertainty.behaviour_row`), for the runs'
        design samples and replicates. `values` (the runs' current values) supplies the channel weights that are
        not drawn, for renormalising; channel weights are a group: if one is fixed, none is drawn."""
        n_rows = len(self.behaviour)
        block = np.stack([np.random.default_rng(np.random.SeedSequence(
            seed, spawn_key=(UNCERTAINTY_STREAM, int(d), int(r)))).random(1 + len(self.ranges))
            for d, r in zip(samples, replicates, strict=True)])  # (R, 1 + ranges): one call per run's stream
        rows = np.minimum((block[:, 0] * n_rows).astype(int), max(n_rows - 1, 0))
        out = {k: self.behaviour[rows, j] for j, k in enumerate(self.behaviour_keys)} if n_rows else {}
        for i, (k, lo, hi) in enumerate(self.ranges):
            out[k] = lo + (hi - lo) * block[:, 1 + i]
        skip = set(fixed) | (set(CHANNEL_WEIGHTS) if set(fixed) & set(CHANNEL_WEIGHTS) else set())
        out = {k: v for k, v in out.items() if k not in skip}
        drawn_weights = {k: out[k] for k in CHANNEL_WEIGHTS if k in out}
        if drawn_weights:
            normal = renormalised({k: values.get(k) for k in CHANNEL_WEIGHTS}, drawn_weights)
            out.update({k: normal[k] for k in drawn_weights})
        if self.behaviour_keys and any(k in out for k in self.behaviour_keys):
            out["uncertainty.behaviour_row"] = rows.astype(float)
        return out


def _finite_number(x: Any) -> bool:
    """A finite int or float (not a bool; an integer too large for a float is not finite)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def fixed_in_file(raw: dict, file: str) -> frozenset[str]:
    """The keys listed under `uncertainty.fixed` (each a scenario key that holds a value): never drawn."""
    spec = raw.get("uncertainty")
    keys = spec.get("fixed") if isinstance(spec, dict) else None
    if keys is None:
        return frozenset()
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ScenarioError(file, "uncertainty.fixed", "must be a list of scenario keys, e.g. [parameters.rationality]")
    for k in keys:
        try:
            keypaths.get(raw, k)
        except KeyPathError:
            raise ScenarioError(file, "uncertainty.fixed", f"'{k}' is not a key of this scenario") from None
    return frozenset(keys)


def parse_uncertainty(raw: dict, file: str, fixed: frozenset[str] = frozenset()) -> Uncertainty | None:
    """Validate `raw['uncertainty']` against the scenario: None when absent or `fixed`. A range must contain the
    scenario's value unless the key is `fixed` (given explicitly: it is not drawn then)."""
    spec = raw.get("uncertainty")
    if spec is None or spec == "fixed":
        return None
    if not isinstance(spec, dict):
        raise ScenarioError(file, "uncertainty", "must be `fixed` or a mapping with `behaviour` and/or `ranges`")
    for key in spec:
        if key not in ("behaviour", "ranges", "fixed"):
            raise ScenarioError(file, f"uncertainty.{key}", "unknown key (valid keys: behaviour, ranges, fixed)")
    fixed = fixed | fixed_in_file(raw, file)
    keys: list[str] = []
    table = np.empty((0, 0))
    beh = spec.get("behaviour")
    if beh is not None:
        if not isinstance(beh, dict) or "file" not in beh:
            raise ScenarioError(file, "uncertainty.behaviour", "needs `file` (a CSV of joint parameter vectors)")
        if not isinstance(beh["file"], str):
            raise ScenarioError(file, "uncertainty.behaviour.file", "must be a file path (a string)")
        path = input_file(beh["file"], Path("."), file, "uncertainty.behaviour.file", "behaviour file")
        try:
            rows = list(csv.reader(io.StringIO(read_text(path, file, "uncertainty.behaviour.file"), newline="")))
        except csv.Error as exc:
            raise ScenarioError(file, "uncertainty.behaviour.file", f"not a CSV table ({exc})") from None
        if len(rows) < 2:
            raise ScenarioError(file, "uncertainty.behaviour.file", "needs a header of scenario keys and rows")
        keys = rows[0]
        try:
            table = np.array([[float(x) for x in row] for row in rows[1:]])
        except ValueError:
            raise ScenarioError(file, "uncertainty.behaviour.file", "rows must be numbers") from None
        if table.shape[1] != len(keys) or not np.isfinite(table).all():
            raise ScenarioError(file, "uncertainty.behaviour.file", "every row needs one finite number per column")
        for k in keys:
            if keypaths.number(raw, k) is None:
                raise ScenarioError(file, "uncertainty.behaviour.file", f"column '{k}' is not a numeric scenario key")
    ranges = []
    given = spec.get("ranges") or {}
    if not isinstance(given, dict):
        raise ScenarioError(file, "uncertainty.ranges", "must be a mapping of scenario keys to {low, high, source}")
    for k, r in given.items():
        path = f"uncertainty.ranges.{k}"
        value = keypaths.number(raw, str(k))
        if value is None:
            raise ScenarioError(file, path, "not a numeric scenario key")
        bound = spec_at(str(k))
        if isinstance(bound, Num) and bound.undrawable:  # declared in model/schema.py
            raise ScenarioError(file, path, bound.undrawable)
        if k in keys:
            raise ScenarioError(file, path, "already drawn jointly from the behaviour file")
        if not isinstance(r, dict) or set(r) - {"low", "high", "source"} or not {"low", "high"} <= set(r):
            raise ScenarioError(file, path, "must be {low: L, high: H, source: why}")
        lo, hi = r["low"], r["high"]
        if not all(_finite_number(x) for x in (lo, hi)):
            raise ScenarioError(file, path, "low and high must be finite numbers")
        if k not in fixed and not lo <= value <= hi:
            raise ScenarioError(file, path, f"range [{lo:g}, {hi:g}] must contain the scenario's value {value:g}")
        if isinstance(bound, Num) and not (bound.lo <= lo and hi <= bound.hi):
            raise ScenarioError(file, path, f"range [{lo:g}, {hi:g}] leaves the key's allowed range "
                                f"[{bound.lo:g}, {bound.hi:g}]")
        ranges.append((str(k), float(lo), float(hi)))
    if not keys and not ranges:
        return None
    return Uncertainty(tuple(keys), table, tuple(ranges))
