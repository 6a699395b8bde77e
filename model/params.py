"""Typed parameters with one value per run (docs/ODD.md section 6).

Every number a scenario sets (under `parameters`, and the numeric attributes of powers, formats and influence) is
held as an array with a leading run axis, so a batch can give each run its own value without touching an equation:
`RunValues` maps each dotted key path to an array (R,), and the typed views below read from it, e.g.
`p.trade.access_elasticity` (R,) or `formats.channels` (R, F, B). A run's values never depend on the other runs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any, get_type_hints

import numpy as np

from .axes import BENEFIT, DOCTRINE, INFLUENCE, INSTRUMENT, OBLIGATION
from .yamlio import ScenarioError

NUMERIC_SECTIONS = ("parameters", "powers", "formats", "influence")


def numeric_leaves(node: Any, prefix: str = "") -> dict[str, float]:
    """Dotted key path -> value of every numeric leaf (booleans and text excluded)."""
    out: dict[str, float] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(numeric_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        out[prefix] = float(node)
    return out


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


def _typed(cls: type, values: RunValues, prefix: str, skip: tuple[str, ...] = ()) -> Any:
    """Build a dataclass whose fields mirror the YAML keys under `prefix`: nested dataclasses recurse, arrays are
    the per-run values (R,); fields in `skip` are left to the caller."""
    hints = get_type_hints(cls)
    kwargs = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        t = hints[f.name]
        key = f"{prefix}.{f.name}"
        kwargs[f.name] = _typed(t, values, key) if is_dataclass(t) else values.get(key)
    return cls(**kwargs)


@dataclass(frozen=True)
class BenefitWeights:
    """Utility weights of the benefit channels and of the cost terms (ODD 4.2), each (R,)."""

    trade: np.ndarray
    investment: np.ndarray
    security: np.ndarray
    energy_transport: np.ndarray
    migration: np.ndarray
    regional: np.ndarray
    friction: np.ndarray
    sanctions: np.ndarray
    hedging: np.ndarray

    @property
    def benefit(self) -> np.ndarray:
        """(R, B) in `axes.BENEFIT` order."""
        return np.stack([getattr(self, b) for b in BENEFIT], axis=-1)


@dataclass(frozen=True)
class TradeParameters:
    access_elasticity: np.ndarray
    sanctions_elasticity: np.ndarray
    noise_sd: np.ndarray
    partner_growth_elasticity: np.ndarray
    reference_growth_per_year: np.ndarray


@dataclass(frozen=True)
class InvestmentParameters:
    depreciation_per_year: np.ndarray
    gross_inflow_to_stock: np.ndarray


@dataclass(frozen=True)
class RouteParameters:
    customs_route_weight: np.ndarray


@dataclass(frozen=True)
class PowerBehaviour:
    allocation_rationality: np.ndarray
    rival_response: np.ndarray
    sanctions_capacity_loss: np.ndarray
    convene_patience_steps: np.ndarray
    convene_probability: np.ndarray
    loss_tolerance: np.ndarray
    loss_memory_steps: np.ndarray
    package_cap_years: np.ndarray
    package_margin: np.ndarray


@dataclass(frozen=True)
class Parameters:
    """The `parameters` section, typed: `p.trade.access_elasticity` is an array (R,)."""

    rationality: np.ndarray
    revision_rate: np.ndarray
    partial_benefit_share: np.ndarray
    partial_cost_share: np.ndarray
    switching_cost_join: np.ndarray
    switching_cost_exit: np.ndarray
    engagement_adjust_rate: np.ndarray
    diplomacy_engagement_gain: np.ndarray
    weights: BenefitWeights
    threat_level: np.ndarray
    threat_spillover: np.ndarray
    energy_price_index: np.ndarray
    secondary_sanctions: np.ndarray
    routes: RouteParameters
    trade: TradeParameters
    investment: InvestmentParameters
    powers: PowerBehaviour
    obligation_cost: np.ndarray = None  # type: ignore[assignment]  (R, O), filled by `from_values`
    doctrine_penalty: np.ndarray = None  # type: ignore[assignment]  (R, D, O)

    @classmethod
    def from_values(cls, values: RunValues) -> Parameters:
        p = _typed(cls, values, "parameters", skip=("obligation_cost", "doctrine_penalty"))
        object.__setattr__(p, "obligation_cost", values.stack("parameters.obligation_cost", OBLIGATION))
        object.__setattr__(p, "doctrine_penalty", np.stack(
            [values.stack(f"parameters.doctrine_penalty.{d}", OBLIGATION, default=0.0) for d in DOCTRINE], axis=1))
        return p


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
        return cls(values.stack("influence.channel_weights", INFLUENCE), values.stack("influence.autonomy", INFLUENCE),
                   values.get("influence.institution_role.convenor"), values.get("influence.institution_role.member"))
