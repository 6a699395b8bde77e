"""Typed parameters with one value per run (docs/ODD.md section 6).

Every number a scenario sets (under `parameters`, and the numeric attributes of powers, formats and influence) is
held as an array with a leading run axis, so a batch can give each run its own value without touching an equation:
`RunValues` maps each dotted key path to an array (R,), and the typed views below read from it, e.g.
`p.trade.access_elasticity` (R,) or `formats.channels` (R, F, B). A run's values never depend on the other runs.
The view of the `parameters` section (`Parameters` and its nested views) is generated from the declarations in
model/schema.py, so a parameter is declared once; the per-code attributes of formats, powers and influence are
stacked over their codes by the classes at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, make_dataclass
from typing import Any

import numpy as np

from .axes import BENEFIT, DOCTRINE, INFLUENCE, INSTRUMENT, KIND, OBLIGATION
from .keypaths import flatten as numeric_leaves
from .schema import PARAMETERS, Fields, MapOf, Num
from .yamlio import ScenarioError

NUMERIC_SECTIONS = ("parameters", "powers", "formats", "influence")


def renormalised[W](weights: Mapping[str, W], given: Mapping[str, W]) -> dict[str, W]:
    """Weights that sum to 1 (the influence channel weights, docs/ODD.md 5): `weights` with the `given` values put
    in, each divided by their total, w_k / sum_j w_j. The total is summed in key order, so numbers (a design point)
    and per-run arrays (draws) give the same result wherever it is done. ValueError when a total is not positive."""
    merged = dict(weights)
    merged.update(given)
    total = sum(merged.values())
    if not np.all(np.asarray(total) > 0):
        raise ValueError("influence channel weights must not all be 0")
    return {k: v / total for k, v in merged.items()}  # type: ignore[operator]


class RunValues:
    """Every numeric scenario value as an array with one value per run: key path -> (R,)."""

    def __init__(self, raw: dict, runs: int, per_run: dict[str, Any] | None = None, source: str | None = None) -> None:
        self.R = runs
        self.values = {path: np.full(runs, v) for section in NUMERIC_SECTIONS
                       for path, v in numeric_leaves(raw[section], section).items()}
        for path, value in (per_run or {}).items():
            self.set(path, value, source=source)

    def set(self, path: str, value: Any, runs: np.ndarray | None = None, source: str | None = None) -> None:
        """Give `path` a value (a scalar, or one value per run) in all runs or in the runs of a bool mask."""
        if path not in self.values:
            raise ScenarioError(source, path, "not a numeric scenario value that can vary by run")
        v = np.asarray(value, dtype=float)
        if v.ndim and v.shape != (self.R,):
            raise ScenarioError(source, path, f"needs one value per run ({self.R}), got shape {v.shape}")
        if not np.isfinite(v).all():
            raise ScenarioError(source, path, "values must be finite")
        if runs is None:
            self.values[path] = np.broadcast_to(v, (self.R,)).astype(float)
        else:
            self.values[path] = np.where(runs, v, self.values[path])

    def get(self, path: str) -> np.ndarray:
        """The per-run values (R,) of a dotted key."""
        return self.values[path]

    def stack(self, prefix: str, names: tuple[str, ...], default: float | None = None) -> np.ndarray:
        """(R, len(names)) from prefix.name for each name (missing names get `default`, or fail)."""
        cols = []
        for n in names:
            key = f"{prefix}.{n}"
            if key in self.values:
                cols.append(self.values[key])
            elif default is not None:
                cols.append(np.full(self.R, default))
            else:
                raise KeyError(key)
        return np.stack(cols, axis=-1)

    def row(self, r: int) -> dict[str, float]:
        """The values of run r (for failure records and `parameters.parquet`)."""
        return {k: float(v[r]) for k, v in self.values.items()}


# The typed view of the `parameters` section is derived from its declaration (model/schema.py PARAMETERS): one
# frozen dataclass per mapping, whose fields are the YAML keys in schema order. A number is its per-run array (R,);
# a mapping declared `stack` is one array (R, K) in key order; a mapping by doctrine is (R, D, K) in `axes.DOCTRINE`
# order, 0 for a doctrine the scenario leaves out; the optional mapping by format kind (`switching_cost_kind`) is
# (R, KIND, 2) (join, exit) in `axes.KIND` order, NaN for a kind the scenario leaves out (all NaN when it is absent;
# the loader requires every kind the scenario's formats have when it is set).
_VIEWS = {  # key path -> (class name, docstring)
    "parameters": ("Parameters", "The `parameters` section, typed: `p.trade.access_elasticity` is an array (R,)."),
    "parameters.weights": ("BenefitWeights", "Utility weights of the benefit channels and of the cost terms (ODD 4.2), "
                           "each (R,)."),
    "parameters.energy_routes": ("EnergyRouteParameters", "Units of the export-route scale (ODD 4.4e), each (R,)."),
    "parameters.routes": ("RouteParameters", "Route parameters (ODD 4.2f), each (R,)."),
    "parameters.trade": ("TradeParameters", "Trade parameters (ODD 4.3), each (R,)."),
    "parameters.investment": ("InvestmentParameters", "Investment-stock parameters (ODD 4.3), each (R,)."),
    "parameters.migration": ("MigrationParameters", "Migration-channel parameters (ODD 4.4f), each (R,)."),
    "parameters.security": ("SecurityParameters", "Arms-stock parameters of the security channel (ODD 4.4c), each "
                            "(R,)."),
    "parameters.powers": ("PowerBehaviour", "Behaviour of the powers (ODD 4.1), each (R,)."),
}
_MAP_AXES = {"doctrine": DOCTRINE, "kind": KIND}
_MAP_DEFAULT = {"doctrine": 0.0, "kind": float("nan")}


def _benefit(self: Any) -> np.ndarray:
    """(R, B) in `axes.BENEFIT` order."""
    return np.stack([getattr(self, b) for b in BENEFIT], axis=-1)


def _from_values(cls: type, values: RunValues) -> Any:
    """The typed `parameters` section of the runs' values."""
    return _read(cls, PARAMETERS, values, "parameters")


def _read(cls: type, spec: Fields, values: RunValues, prefix: str) -> Any:
    """An instance of the view `cls` of the mapping declared by `spec` at `prefix`, from the runs' values."""
    kwargs: dict[str, Any] = {}
    for key, sub in spec.fields.items():
        path = f"{prefix}.{key}"
        if isinstance(sub, Fields) and sub.stack:
            kwargs[key] = values.stack(path, tuple(sub.fields))
        elif isinstance(sub, Fields):
            kwargs[key] = _read(_VIEW_CLASSES[path], sub, values, path)
        elif isinstance(sub, MapOf):
            kwargs[key] = np.stack([values.stack(f"{path}.{code}", tuple(sub.value.fields),
                                                 default=_MAP_DEFAULT[sub.key_kind])
                                    for code in _MAP_AXES[sub.key_kind]], axis=1)
        else:
            assert isinstance(sub, Num), path
            kwargs[key] = values.get(path)
    return cls(**kwargs)


def _make_view(path: str, spec: Fields, namespace: dict[str, Any]) -> type:
    """The frozen dataclass of the mapping at `path` (nested views first)."""
    name, doc = _VIEWS[path]
    fields = []
    for key, sub in spec.fields.items():
        nested = isinstance(sub, Fields) and not sub.stack
        fields.append((key, _make_view(f"{path}.{key}", sub, namespace) if nested else np.ndarray))
    cls = make_dataclass(name, fields, frozen=True, namespace=namespace.get(path, {}))
    cls.__module__, cls.__doc__ = __name__, doc
    _VIEW_CLASSES[path] = cls
    return cls


_VIEW_CLASSES: dict[str, type] = {}
Parameters = _make_view("parameters", PARAMETERS, {
    "parameters": {"from_values": classmethod(_from_values)},
    "parameters.weights": {"benefit": property(_benefit)},
})
BenefitWeights, RouteParameters, TradeParameters, MigrationParameters, InvestmentParameters, SecurityParameters, \
    PowerBehaviour = (_VIEW_CLASSES[f"parameters.{k}"] for k in ("weights", "routes", "trade", "migration", "investment",
                                                                 "security", "powers"))


@dataclass(frozen=True)
class FormatAttributes:
    """Numeric attributes of the formats, per run: depth (R, F), channels (R, F, B), obligations (R, F, O),
    friction and sanctions exposure (R, F)."""

    depth: np.ndarray
    channels: np.ndarray
    obligations: np.ndarray
    friction: np.ndarray
    sanctions_exposure: np.ndarray

    @classmethod
    def from_values(cls, values: RunValues, formats: tuple[str, ...]) -> FormatAttributes:
        """Per-format attributes stacked on a last format axis: (R, F) each."""
        def per_format(key: str) -> np.ndarray:
            return np.stack([values.get(f"formats.{f}.{key}") for f in formats], axis=-1)

        return cls(per_format("depth"),
                   np.stack([values.stack(f"formats.{f}.channels", BENEFIT) for f in formats], axis=1),
                   np.stack([values.stack(f"formats.{f}.obligations", OBLIGATION) for f in formats], axis=1),
                   per_format("costs.friction"), per_format("costs.sanctions_exposure"))


@dataclass(frozen=True)
class PowerAttributes:
    """Numeric attributes of the powers, per run: budget (R, P) US$ bn/year, instrument shares (R, P, I),
    starting sanctions level (R, P)."""

    budget: np.ndarray
    instrument_shares: np.ndarray
    sanctions: np.ndarray

    @classmethod
    def from_values(cls, values: RunValues, powers: tuple[str, ...]) -> PowerAttributes:
        """Per-power budgets (R, P) and instrument shares (R, P, I)."""
        return cls(np.stack([values.get(f"powers.{p}.budget_usd_bn_per_year") for p in powers], axis=-1),
                   np.stack([values.stack(f"powers.{p}.instrument_shares", INSTRUMENT) for p in powers], axis=1),
                   np.stack([values.get(f"powers.{p}.sanctions") for p in powers], axis=-1))


@dataclass(frozen=True)
class InfluenceAttributes:
    """Influence weights per run: channel weights and autonomy (R, C), institution roles (R,)."""

    channel_weights: np.ndarray
    autonomy: np.ndarray
    role_convenor: np.ndarray
    role_member: np.ndarray

    @classmethod
    def from_values(cls, values: RunValues) -> InfluenceAttributes:
        """Channel weights and autonomy (R, C) and the institution roles (R,)."""
        return cls(values.stack("influence.channel_weights", INFLUENCE), values.stack("influence.autonomy", INFLUENCE),
                   values.get("influence.institution_role.convenor"), values.get("influence.institution_role.member"))
