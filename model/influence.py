"""Influence of each power over each state, by channel (docs/ODD.md section 4.4).

All arrays carry a leading run axis R. Shapes: powers P, states S, formats F, influence channels C.
"""

from __future__ import annotations

import numpy as np


def leverage(turnover: np.ndarray, gdp: np.ndarray, invest_stock: np.ndarray, security: np.ndarray,
             energy: np.ndarray, remittances_pct: np.ndarray, engagement: np.ndarray,
             institution_role: np.ndarray) -> np.ndarray:
    """Raw leverage L[r, s, p, c] of power p over state s in each influence channel (ODD eq. 4.4a-f).

    trade = turnover / GDP; investment = (FDI + debt + model-added stock) / GDP; security = arms-import share +
    military presence + security-assistance stock in % of GDP (given composed); institutions = sum over formats
    of engagement x depth x role of p (convenor or member power); energy_transport = energy route share x price
    index + corridor access (given composed); migration = remittances from p / GDP.
    Shapes: turnover, invest_stock, security, energy, remittances_pct (R, S, P); gdp (R, S); engagement
    (R, S, F); institution_role (F, P) = depth x role weight.
    """
    g = gdp[..., None]
    inst = (engagement[..., :, None] * institution_role[None, None]).sum(axis=-2)  # (R, S, P)
    return np.stack([turnover / g, invest_stock / g, security, inst, energy, remittances_pct / 100.0], axis=-1)


def influence_by_channel(lev: np.ndarray, autonomy: np.ndarray) -> np.ndarray:
    """Channel influence I[r, s, p, c] = L[p] / (sum_q L[q] + A_c): a power's share of the channel, the state's own
    autonomy A_c taking the rest, so that sum_p I + autonomy share = 1 in every channel (ODD eq. 4.4g)."""
    return lev / (lev.sum(axis=-2, keepdims=True) + autonomy)


def total_influence(by_channel: np.ndarray, channel_weights: np.ndarray) -> np.ndarray:
    """Influence[r, s, p] = sum_c w_c I_c, with sum_c w_c = 1, so influence lies in [0, 1] (ODD eq. 4.4h)."""
    return (by_channel * channel_weights).sum(axis=-1)


def regional(values: np.ndarray, state_weights: np.ndarray) -> np.ndarray:
    """Regional value[r, ...] = sum_s w_s value[r, s, ...] with weights w (R, S) summing to 1 (ODD eq. 4.4i)."""
    w = state_weights.reshape(state_weights.shape + (1,) * (values.ndim - state_weights.ndim))
    return (values * w).sum(axis=1)

