"""Scheduled events (docs/ODD.md 4.5): one small handler per event type, looked up in `HANDLERS`.

A handler changes the model's state or its per-run values; the model re-derives what depends on them afterwards.
Events apply to every run of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .axes import LEVELS
from .energy import COMMODITIES, add_corridor, conversion_factors

if TYPE_CHECKING:
    from .core import GreatGameModel


def _power(m: GreatGameModel, ev: dict) -> int | None:
    return None if ev.get("power") in (None, "all") else m.powers.index(ev["power"])


def sanctions(m: GreatGameModel, ev: dict) -> None:
    """Set a power's sanctions level (0 none, 1 maximal)."""
    m.state.sanctions[:, _power(m, ev)] = ev["level"]


def budget(m: GreatGameModel, ev: dict) -> None:
    """Multiply a power's budget."""
    m.state.budget_scale[:, _power(m, ev)] *= ev["scale"]


def _setter(key: str, field: str) -> Callable[[GreatGameModel, dict], None]:
    def handler(m: GreatGameModel, ev: dict) -> None:
        m.values.set(key, ev[field])

    handler.__doc__ = f"Set `{key}`."
    return handler


def corridor(m: GreatGameModel, ev: dict) -> None:
    """Add export-route capacity carried by a power to states (ODD 4.5): `strength` x each state's current total,
    or `capacity` of a `commodity` (bcm/yr gas, Mt/yr oil or rail) on the run's Mtoe scale. The power's route share
    rises and the others' fall."""
    states = np.arange(m.S) if ev["states"] == "all" else np.array([m.states.index(s) for s in ev["states"]])
    if "capacity" in ev:
        e = m.p.energy_routes
        factor = conversion_factors(e.gas_mtoe_per_bcm, e.rail_mtoe_per_mt)[:, COMMODITIES.index(ev["commodity"])]
        add_corridor(m.state.export_routes, states, _power(m, ev), capacity=ev["capacity"] * factor)
    else:
        add_corridor(m.state.export_routes, states, _power(m, ev), strength=ev["strength"])


def trade_shock(m: GreatGameModel, ev: dict) -> None:
    """Multiply turnover with one power or with all."""
    j = _power(m, ev)
    if j is None:
        m.state.turnover *= ev["scale"]
    else:
        m.state.turnover[:, :, j] *= ev["scale"]


def format_open(m: GreatGameModel, ev: dict) -> None:
    """Open a format in every run; states start at `none` there."""
    m.open_format(m.formats.index(ev["format"]))


def format_close(m: GreatGameModel, ev: dict) -> None:
    """Close a format; every status in it returns to `none`."""
    m.close_format(m.formats.index(ev["format"]))


def status(m: GreatGameModel, ev: dict) -> None:
    """Force a state's status in a format (e.g. a historical accession)."""
    s, f = m.states.index(ev["state"]), m.formats.index(ev["format"])
    m.state.status[:, s, f] = LEVELS.index(ev["status"])


def parameter(m: GreatGameModel, ev: dict) -> None:
    """Set any numeric parameter by its key under `parameters`."""
    m.values.set(f"parameters.{ev['key']}", ev["value"])


def doctrine(m: GreatGameModel, ev: dict) -> None:
    """Change a state's doctrine category (a documented leadership or doctrine change)."""
    m.set_doctrine(m.states.index(ev["state"]), ev["doctrine"])


HANDLERS: dict[str, Callable[[GreatGameModel, dict], None]] = {
    "sanctions": sanctions,
    "budget": budget,
    "threat": _setter("parameters.threat_level", "level"),
    "secondary_sanctions": _setter("parameters.secondary_sanctions", "level"),
    "energy_price": _setter("parameters.energy_price_index", "index"),
    "corridor": corridor,
    "trade_shock": trade_shock,
    "format_open": format_open,
    "format_close": format_close,
    "status": status,
    "parameter": parameter,
    "doctrine": doctrine,
}
