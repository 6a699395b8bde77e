"""The security channel's arms-delivery stock by supplier (docs/ODD.md 4.4, eq. 4.4c).

A state's arms imports are held as a perpetual inventory of SIPRI trend-indicator values (TIV, millions: a volume
index priced at constant 1990 US$ unit production cost, not money) by supplier column q: the scenario's powers, then
one `others` column (every other supplier: SIPRI's all-supplier total minus the powers in the scenario). Yearly:
K[s, q]_y = (1 - delta) K[s, q]_{y-1} + D[s, q]_y. A power's arms leverage is its share of the stock. Arrays carry a
leading run axis R where they may differ between runs; S states, Q supplier columns, Y data years, P powers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .choice import per_run

OTHERS = "ALL"
"""Panel partner code of the all-supplier total; the `others` column is this total minus the named suppliers."""


def delivery_table(rows: pd.DataFrame, states: tuple[str, ...], suppliers: tuple[str, ...],
                   years: np.ndarray) -> np.ndarray:
    """Yearly deliveries D[s, q, y], TIV mn, from the panel's `arms_tiv` rows: one column per named supplier, then
    `others` = ALL minus the named suppliers (never below 0). A (state, supplier, year) without a row is an error:
    the panel writes every cell, zeros included (model/data/panel/security_migration.md, zero rule)."""
    wanted = rows[rows["state"].isin(states) & rows["partner"].isin((*suppliers, OTHERS)) & rows["year"].isin(years)]
    cube = wanted.pivot_table(index=["state", "partner"], columns="year", values="value", aggfunc="sum")
    index = pd.MultiIndex.from_product([states, (*suppliers, OTHERS)])
    missing = index.difference(cube.index)
    if len(missing) or cube.reindex(columns=years).isna().any().any():
        raise ValueError(f"model/data/panel/security_migration.csv: arms_tiv rows missing for {list(missing)[:3]} "
                         f"or some year of {years[0]}-{years[-1]}")
    out = cube.reindex(index=index, columns=years).to_numpy(dtype=float, copy=True)
    out = out.reshape(len(states), len(suppliers) + 1, len(years))
    out[:, -1] = np.maximum(out[:, -1] - out[:, :-1].sum(axis=1), 0.0)
    return out


def start_stock(deliveries: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Stock at the end of the last data year, (R, S, Q) TIV mn: K = sum_y (1 - delta)^(y_last - y) D[..., y], the
    perpetual inventory from a zero stock before the first data year (1992). deliveries (S, Q, Y); delta (R,)."""
    age = np.arange(deliveries.shape[-1])[::-1]  # years before the last data year
    weight = (1.0 - np.asarray(delta, dtype=float))[:, None] ** age  # (R, Y); 0^0 = 1: delta = 1 keeps the last year
    return np.einsum("sqy,ry->rsq", deliveries, weight)


def recent_flow(deliveries: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Mean annual deliveries over the last n data years, (R, S, Q) TIV mn/year: the flow a supplier is assumed to
    keep up during a run (persistence of the recent flow, ODD eq. 4.4c). deliveries (S, Q, Y); years n (R,), cut
    to [1, Y]."""
    Y = deliveries.shape[-1]
    n = np.clip(np.rint(np.asarray(years, dtype=float)).astype(int), 1, Y)
    cum = np.concatenate([np.zeros(deliveries.shape[:-1] + (1,)), np.cumsum(deliveries, axis=-1)], axis=-1)
    return np.moveaxis((cum[..., Y][..., None] - cum[..., Y - n]) / n, -1, 0)


def deliveries_in_run(flow: np.ndarray, security_spending: np.ndarray, tiv_per_usd_bn: np.ndarray) -> np.ndarray:
    """Deliveries during a run, (R, S, Q) TIV mn/year: D[s, q] = recent flow[s, q] + (for a power q) its security
    spending on s (US$ bn/year) x tiv_per_usd_bn; the `others` column keeps its recent flow only.
    flow (R, S, Q); security_spending (R, S, P) with P = Q - 1; tiv_per_usd_bn (R,)."""
    out = flow.copy()
    out[..., :-1] += security_spending * per_run(tiv_per_usd_bn, 3)
    return out


def arms_share(stock: np.ndarray) -> np.ndarray:
    """Each power's share of a state's arms stock, (R, S, P): K[s, p] / sum_q K[s, q] over every supplier column
    (the powers and `others`); 0 where the state holds no recorded imports at all (ODD eq. 4.4c). stock (R, S, Q)."""
    total = stock.sum(axis=-1, keepdims=True)
    return np.where(total > 0, stock[..., :-1] / np.where(total > 0, total, 1.0), 0.0)
