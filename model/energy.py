"""Export routes by carrier: the observed quantity of the energy/transport channel (docs/ODD.md 4.4e and 7.6).

For each state s and column c (the scenario's powers, then `others`: Iran and every other non-power market), the
state's exports carried by its open export routes whose territory or market c serves, by commodity k (`COMMODITIES`:
pipeline gas in bcm/yr, oil in Mt/yr, rail freight in Mt/yr), read from the panel table
`model/data/panel/routes.csv` as of the start year Y: only rows describing Y or earlier are read
(`load_panel(upto=Y)`), and a route counts only if its `route_open` flag is 1 in Y (a project opening later is a
scenario event, never baseline data).

Rules, per state and commodity (`load_export_routes`):
- **gas**: where the BP/EI pipeline-trade matrix has the state's rows for Y, its flows by importer (`flow`); `others`
  is the state's total pipeline exports less the powers' rows (Iran and any other importer). Else the latest stated
  capacity by Y of each open gas line (`capacity`; lines A-C of the Central Asia-China pipeline are one line, 55
  bcm/yr, the whole line's capacity, not a quota).
- **oil**: where the state has oil-throughput rows for Y, those flows (`flow`; an open route without a row counts 0,
  a listed gap); else the latest stated capacity by Y of each open oil line (`capacity`). Kenkiyak-Kumkol is the
  feeder of Atasu-Alashankou (the same oil crosses the border once), so only the border line counts.
- **rail**: not counted at the start (`none`). The panel has no rail flows by direction, and of the states' open rail
  routes only Uzen-Gorgan (to Iran) has a stated capacity: counting it while Dostyk-Alashankou and Khorgos (to
  China) have none would tilt Kazakhstan towards Iran, and an unused design capacity would weigh as much as carried
  gas. Rail enters through `corridor` events that name a capacity (e.g. the China-Kyrgyzstan-Uzbekistan railway).

The model puts the commodities on one scale, Mt of oil equivalent per year (`common_units`): oil is the numeraire
(1 Mt crude = 1 Mtoe, the unit's definition), gas x `gas_mtoe_per_bcm` (BP/EI conversion factors: 0.86), rail
freight x `rail_mtoe_per_mt` (a judgement). The route share of column c is its part of the state's total
(`route_share`); a state with no coded export route has share 0 for every power.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .panel import load_panel

COMMODITIES = ("gas", "oil", "rail")
NATIVE_UNITS = {"gas": "bcm/yr", "oil": "Mt/yr", "rail": "Mt/yr"}
OIL_MTOE_PER_MT = 1.0  # the tonne of oil equivalent is defined on a tonne of crude (41.868 GJ)
PANEL_FILE = "panel/routes.csv"

# Export routes the channel counts: route -> (commodity, capacity series of the whole line or None, flow series or
# None). Routes left out: cagp_d and rail_cku (not built by 2022: events), kcop_kenkiyak_kumkol (feeder, above),
# rail_angren_pap (domestic), titr (no opening flag; container counts of the whole route), every rail route (above).
ROUTES: dict[str, tuple[str, str | None, str | None]] = {
    "cac": ("gas", "pipeline_capacity_cac", None),
    "bukhara_ural": ("gas", None, None),
    "cagp_a": ("gas", "pipeline_capacity_cagp", None),
    "cagp_b": ("gas", "pipeline_capacity_cagp", None),
    "cagp_c": ("gas", "pipeline_capacity_cagp", None),
    "kkk": ("gas", "pipeline_capacity_kkk", None),
    "dsk": ("gas", "pipeline_capacity_dsk", None),
    "tanap": ("gas", "pipeline_capacity_tanap", None),
    "cpc": ("oil", "pipeline_capacity_cpc", "oil_throughput_cpc"),
    "atyrau_samara": ("oil", "pipeline_capacity_atyrau_samara", "oil_throughput_atyrau_samara"),
    "kcop_atasu": ("oil", "pipeline_capacity_kcop_atasu", "oil_throughput_kcop"),
    "btc": ("oil", None, None),
}
GAS_FLOWS = "gas_exports_pipeline"


@dataclass(frozen=True)
class ExportRoutes:
    """The export-route table of one start year: `quantity` (S, P + 1, K) in each commodity's native unit (columns:
    the powers in order, then `others`); `basis[(state, commodity)]` is `flow Y`, `capacity` or `none`; `gaps` lists
    open routes with no usable figure; `provenance` (quantity, state, partner, year, file) of every row read."""

    year: int
    states: tuple[str, ...]
    powers: tuple[str, ...]
    quantity: np.ndarray
    basis: dict[tuple[str, str], str]
    gaps: tuple[str, ...]
    provenance: tuple[tuple[str, str, str, str, str], ...]


def _column(partner: str, pi: dict[str, int], others: int) -> int:
    return pi.get(partner, others)


@lru_cache(maxsize=8)
def load_export_routes(year: int, states: tuple[str, ...], powers: tuple[str, ...]) -> ExportRoutes:
    """The export-route table of start year `year` by the rules of the module docstring (ODD 7.6)."""
    df = load_panel(upto=year)
    df = df[df["table"] == "routes"]
    pi = {p: j for j, p in enumerate(powers)}
    others = len(powers)
    out = np.zeros((len(states), len(powers) + 1, len(COMMODITIES)))
    basis: dict[tuple[str, str], str] = {}
    gaps: list[str] = []
    prov: list[tuple[str, str, str, str, str]] = []
    opened = df[df["series"].str.startswith("route_open_") & (df["year"] == year) & (df["value"] == 1)]

    def note(row: pd.Series) -> None:
        prov.append((row["series"], row["state"], row["partner"], str(row["year"]), PANEL_FILE))

    def latest_capacity(series: str) -> pd.Series | None:
        rows = df[df["series"] == series]  # whole-line figure, whichever state the row is filed under
        return None if rows.empty else rows.loc[rows["year"].idxmax()]

    for i, s in enumerate(states):
        mine = opened[opened["state"] == s]
        open_routes = [(r["series"].removeprefix("route_open_"), r["partner"], r) for _, r in mine.iterrows()
                       if r["series"].removeprefix("route_open_") in ROUTES]
        for _, _, r in open_routes:
            note(r)
        for k, commodity in enumerate(COMMODITIES):
            routes = [(name, partner) for name, partner, _ in open_routes if ROUTES[name][0] == commodity]
            if not routes:
                basis[(s, commodity)] = "none"
                continue
            if commodity == "gas":
                flows = df[(df["series"] == GAS_FLOWS) & (df["state"] == s) & (df["year"] == year)]
            else:
                flow_series = {ROUTES[name][2] for name, _ in routes} - {None}
                flows = df[df["series"].isin(flow_series) & (df["state"] == s) & (df["year"] == year)]
            if not flows.empty:
                basis[(s, commodity)] = f"flow {year}"
                by_partner = {r["partner"]: r for _, r in flows.iterrows()}
                for _, r in flows.iterrows():
                    if r["partner"] != "ALL" and r["partner"] in pi:
                        out[i, pi[r["partner"]], k] += r["value"]
                        note(r)
                if commodity == "gas" and "ALL" in by_partner:
                    total = by_partner["ALL"]
                    note(total)
                    out[i, others, k] = max(0.0, total["value"] - out[i, :others, k].sum())
                else:
                    for _, r in flows.iterrows():
                        if r["partner"] not in pi and r["partner"] != "ALL":
                            out[i, others, k] += r["value"]
                            note(r)
                if commodity == "oil":
                    carried = set(flows["series"])
                    gaps += [f"{s} {name} ({commodity}): no {year} flow" for name, _ in routes
                             if ROUTES[name][2] not in carried]
                continue
            basis[(s, commodity)] = "capacity"
            lines: dict[tuple[str, str], pd.Series] = {}
            for name, partner in routes:
                series = ROUTES[name][1]
                row = latest_capacity(series) if series else None
                if row is None:
                    gaps.append(f"{s} {name} ({commodity}): no capacity by {year}")
                else:
                    lines[(partner, series)] = row  # lines A-C of one pipeline: one capacity
            for (partner, _), row in lines.items():
                out[i, _column(partner, pi, others), k] += row["value"]
                note(row)
    return ExportRoutes(year, states, powers, out, basis, tuple(gaps), tuple(prov))


def conversion_factors(gas_mtoe_per_bcm: np.ndarray, rail_mtoe_per_mt: np.ndarray) -> np.ndarray:
    """Mtoe per native unit of each commodity, (R, K) in `COMMODITIES` order: gas, oil (1), rail."""
    return np.stack([gas_mtoe_per_bcm, np.full_like(gas_mtoe_per_bcm, OIL_MTOE_PER_MT), rail_mtoe_per_mt], axis=-1)


def common_units(quantity: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """X[r, s, c] = sum_k quantity[s, c, k] x factor[r, k], Mtoe per year (ODD eq. 4.4e).
    quantity (S, C, K) native units; factors (R, K). Returns (R, S, C)."""
    return np.einsum("sck,rk->rsc", quantity, factors)


def route_share(routes: np.ndarray, n_powers: int) -> np.ndarray:
    """Share of each power in the state's export routes, X[r, s, p] / sum_c X[r, s, c] (c: the powers and
    `others`); 0 for a state with no export route. routes (R, S, P + 1). Returns (R, S, P)."""
    total = routes.sum(axis=-1, keepdims=True)
    return np.divide(routes[..., :n_powers], total, out=np.zeros(routes[..., :n_powers].shape), where=total > 0)


def add_corridor(routes: np.ndarray, states: np.ndarray, power: int, strength: float | None = None,
                 capacity: np.ndarray | None = None) -> None:
    """A corridor event (ODD 4.5), in place: power p gains new export capacity on each named state's routes, either
    `strength` x the state's current total (all columns) or `capacity` Mtoe/yr (R,), already in common units. The
    power's share rises and every other column's falls, as the total grows. routes (R, S, P + 1); states (n,) int."""
    if capacity is not None:
        routes[:, states, power] += np.asarray(capacity)[:, None]
    else:
        routes[:, states, power] += strength * routes[:, states, :].sum(axis=-1)
