"""Influence of each power over each state, by channel (docs/ODD.md section 4.4).

All arrays carry a leading run axis R. Shapes: powers P, states S, formats F, influence channels C
(`axes.INFLUENCE`); parameters have one value per run.
"""

from __future__ import annotations

import numpy as np

from .axes import INFLUENCE
from .choice import per_run
from .energy import route_share


def security_leverage(arms_share: np.ndarray, presence: np.ndarray, threat: np.ndarray) -> np.ndarray:
    """Security leverage of each power (ODD eq. 4.4c): L = arms share + presence x (1 + theta_s): a power's share of
    the state's arms-delivery stock, plus its bases and facilities, worth more by the threat theta_s the state faces
    (the threat raises the value of whoever guards the state, not every power's leverage).
    arms_share (R, S, P); presence (S, P); threat (R, S). Returns (R, S, P)."""
    return arms_share + presence * (1.0 + threat[..., None])


def energy_leverage(export_routes: np.ndarray, price_index: np.ndarray) -> np.ndarray:
    """Energy/transport leverage (ODD eq. 4.4e): the power's share of the state's export routes x the energy price
    index, `X[s, p] / sum_c X[s, c] x price` (c: the powers and `others`; 0 for a state with no export route).
    export_routes (R, S, P + 1) Mtoe/yr (model/energy.py); price_index (R,). Returns (R, S, P)."""
    return route_share(export_routes, export_routes.shape[-1] - 1) * per_run(price_index, 3)


def state_threat(threat_level: np.ndarray, spillover: np.ndarray, afghan_border: np.ndarray) -> np.ndarray:
    """Threat each state faces (ODD eq. 4.2b): the threat level on the Afghan border, level x spillover elsewhere.
    threat_level, spillover (R,); afghan_border (S,) bool. Returns (R, S)."""
    return threat_level[:, None] * np.where(afghan_border, 1.0, spillover[:, None])


def institution_role(depth: np.ndarray, convenor: np.ndarray, members: np.ndarray, role_convenor: np.ndarray,
                     role_member: np.ndarray) -> np.ndarray:
    """Role of each power in each format (ODD eq. 4.4d): depth x (convenor weight if p convenes f, member weight if
    p is another member power). depth (R, F); convenor, members (F, P); roles (R,). Returns (R, F, P)."""
    return depth[..., None] * (convenor * per_run(role_convenor, 3) + (members - convenor) * per_run(role_member, 3))


def leverage(turnover: np.ndarray, gdp: np.ndarray, invest_stock: np.ndarray, security: np.ndarray,
             energy: np.ndarray, migration: np.ndarray, engagement: np.ndarray,
             role: np.ndarray) -> np.ndarray:
    """Raw leverage L[r, s, p, c] of power p over state s in each influence channel (ODD eq. 4.4a-f):
    trade = turnover / GDP; investment = (FDI + debt + model-added stock) / GDP; security and energy/transport as
    composed above; institutions = sum over formats of engagement x role of p; migration = remittances from p / GDP
    (`migration.migration_leverage`). turnover, invest_stock, security, energy, migration (R, S, P); gdp (R, S);
    engagement (R, S, F);
    role (R, F, P)."""
    g = gdp[..., None]
    out = np.empty(turnover.shape + (len(INFLUENCE),))
    out[..., INFLUENCE.trade] = turnover / g
    out[..., INFLUENCE.investment] = invest_stock / g
    out[..., INFLUENCE.security] = security
    out[..., INFLUENCE.institutions] = np.einsum("rsf,rfp->rsp", engagement, role)
    out[..., INFLUENCE.energy_transport] = energy
    out[..., INFLUENCE.migration] = migration
    return out


def influence_by_channel(lev: np.ndarray, autonomy: np.ndarray) -> np.ndarray:
    """Channel influence I[r, s, p, c] = L[p] / (sum_q L[q] + A_c): a power's share of the channel, the state's own
    autonomy A_c taking the rest, so that sum_p I + autonomy share = 1 in every channel (ODD eq. 4.4g).
    autonomy (R, C)."""
    total = autonomy[:, None, :] + lev[..., 0, :]  # (R, S, C); the sum over the (few) powers written out
    for p in range(1, lev.shape[-2]):
        total = total + lev[..., p, :]
    return lev / total[..., None, :]


def total_influence(by_channel: np.ndarray, channel_weights: np.ndarray) -> np.ndarray:
    """Influence[r, s, p] = sum_c w_c I_c, with sum_c w_c = 1, so influence lies in [0, 1] (ODD eq. 4.4h).
    channel_weights (R, C)."""
    return np.matmul(by_channel, channel_weights[:, None, :, None])[..., 0]


def influence_share(total: np.ndarray) -> np.ndarray:
    """Each power's part of the influence the powers hold over a state, (R, S, P) (the hedging term, ODD 4.2c)."""
    return total / np.maximum(total.sum(axis=-1, keepdims=True), 1e-12)


def state_weights(kind: str, gdp: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Weights of the states in regional influence (ODD eq. 4.4i), (R, S) summing to 1: GDP shares (`gdp`),
    population shares (`population`) or equal. gdp (R, S); population (S,)."""
    if kind == "gdp":
        w = gdp
    elif kind == "population":
        w = np.broadcast_to(population, gdp.shape)
    else:
        w = np.ones_like(gdp)
    return w / w.sum(axis=-1, keepdims=True)


def regional(values: np.ndarray, state_weights: np.ndarray) -> np.ndarray:
    """Regional value[r, ...] = sum_s w_s value[r, s, ...] with weights w (R, S) summing to 1 (ODD eq. 4.4i)."""
    w = state_weights.reshape(state_weights.shape + (1,) * (values.ndim - state_weights.ndim))
    return (values * w).sum(axis=1)
