"""A state's choice of status in each format: utilities and a sticky logit choice (docs/ODD.md section 4.2).

Status levels k = 0 none, 1 partial (observer, associate, dialogue participant at a lower level), 2 member.
Arrays carry a leading run axis R; formats F, powers P, benefit channels B (schema.CHANNELS).
"""

from __future__ import annotations

import numpy as np

LEVEL_ENGAGEMENT = np.array([0.0, 0.5, 1.0])  # engagement target of each status level (ODD eq. 4.3a)


def power_exposure(turnover: np.ndarray, invest_stock: np.ndarray, security: np.ndarray, energy: np.ndarray,
                   remittances_pct: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Exposure E[r, p, b] of one state to each power through the benefit channels (ODD eq. 4.2a):
    trade = turnover/GDP, investment = stock/GDP, security = arms share + presence + assistance (% GDP),
    energy_transport = route share x price + corridor, migration = remittances/GDP, regional = 0 (not a power's).
    Inputs are (R, P) except gdp (R,)."""
    g = gdp[:, None]
    parts = np.broadcast_arrays(turnover / g, invest_stock / g, security, energy, remittances_pct / 100.0,
                                np.zeros_like(turnover))
    return np.stack(parts, axis=-1)


def format_benefit(exposure: np.ndarray, membership: np.ndarray, channels: np.ndarray, weights: np.ndarray,
                   threat: float) -> np.ndarray:
    """Benefit B[r, f] of full membership = sum_b w_b x channel_f,b x X[r, f, b] (ODD eq. 4.2b), where the
    format's exposure X sums the state's exposure to the format's member powers, the security exposure adds the
    state's threat, and the regional channel is worth 1 to every eligible state.
    exposure (R, P, B); membership (F, P) 0/1; channels (F, B); weights (B,)."""
    x = (membership[None, :, :, None] * exposure[:, None, :, :]).sum(axis=2)  # (R, F, B)
    x[..., 2] += threat
    x[..., 5] += 1.0
    return (x * channels * weights).sum(axis=-1)


def format_cost(sovereignty: np.ndarray, friction: np.ndarray, sanctions_exposure: np.ndarray,
                membership: np.ndarray, dependence: np.ndarray, sanctions: np.ndarray, secondary: float,
                influence_share: np.ndarray, weights: dict) -> np.ndarray:
    """Cost C[r, f] of full membership (ODD eq. 4.2c) = sovereignty + friction + sanctions + hedging, where
    sovereignty = w_sov x depth x cost x (1 + doctrine penalty) is given per format (F,);
    friction = w_fric x friction_f x sum over powers outside f of the state's dependence on them;
    sanctions = w_sanc x exposure_f x sum over member powers of (sanctions level x secondary enforcement);
    hedging = w_hedge x sum over member powers of max(0, share of p in the state's influence - 1/(P+1)).
    dependence, influence_share: (R, P); sanctions (R, P)."""
    outside = 1.0 - membership  # (F, P)
    fric = weights["friction"] * friction * (outside[None] * dependence[:, None, :]).sum(axis=-1)
    sanc = weights["sanctions"] * sanctions_exposure * (membership[None] * sanctions[:, None, :]).sum(axis=-1) * secondary
    fair = 1.0 / (membership.shape[1] + 1)
    excess = np.maximum(influence_share - fair, 0.0)
    hedge = weights["hedging"] * (membership[None] * excess[:, None, :]).sum(axis=-1)
    return sovereignty[None] + fric + sanc + hedge


def level_values(benefit: np.ndarray, cost: np.ndarray, partial_benefit: float, partial_cost: float) -> np.ndarray:
    """Value of each level before switching costs, (..., 3): x_b(k) B - x_c(k) C with x_b = (0, partial_benefit, 1)
    and x_c = (0, partial_cost, 1) (ODD eq. 4.2d)."""
    xb = np.array([0.0, partial_benefit, 1.0])
    xc = np.array([0.0, partial_cost, 1.0])
    return xb * benefit[..., None] - xc * cost[..., None]


def switching_cost(current: np.ndarray, depth: np.ndarray, join_cost: float, exit_cost: float) -> np.ndarray:
    """Cost of moving from `current` to each level, (..., 3): join_cost x depth per level up, exit_cost x depth
    per level down (ODD eq. 4.2d)."""
    move = np.arange(3) - current[..., None]
    return np.where(move > 0, join_cost * move, -exit_cost * move) * depth[..., None]


def status_utility(benefit: np.ndarray, cost: np.ndarray, current: np.ndarray, depth: np.ndarray,
                   partial_benefit: float, partial_cost: float, join_cost: float, exit_cost: float,
                   allowed: np.ndarray) -> np.ndarray:
    """Utility U[r, f, k] of each level (ODD eq. 4.2d): level value minus the switching cost from the current
    level; levels not allowed get -inf."""
    u = level_values(benefit, cost, partial_benefit, partial_cost) - switching_cost(current, depth, join_cost, exit_cost)
    return np.where(allowed, u, -np.inf)


def transition_matrix(values: np.ndarray, depth: np.ndarray, rationality: float, join_cost: float,
                      exit_cost: float, allowed: np.ndarray, revision_rate: float) -> np.ndarray:
    """One-step transition matrix between levels of the sticky logit chain of eq. 4.2e with fixed level values,
    (..., 3, 3), rows = from: keep the level with probability 1 - revision_rate, else move to k with
    probability softmax_k(lambda (V_k - switching(c, k))). Used by the calibration to propagate status
    distributions without simulating."""
    cur = np.broadcast_to(np.arange(3), values.shape[:-1] + (3,))  # (..., c)
    sw = switching_cost(cur, depth[..., None], join_cost, exit_cost)  # (..., c, k)
    u = np.where(allowed[..., None, :], values[..., None, :] - sw, -np.inf)
    z = rationality * (u - u.max(axis=-1, keepdims=True))
    m = np.exp(z)
    m /= m.sum(axis=-1, keepdims=True)
    return (1.0 - revision_rate) * np.eye(3) + revision_rate * m


def logit_choice(utility: np.ndarray, rationality: float, current: np.ndarray, revision_rate: float,
                 u_revise: np.ndarray, u_pick: np.ndarray) -> np.ndarray:
    """Sticky quantal-response choice (ODD eq. 4.2e): with probability `revision_rate` a state reconsiders a
    format and picks level k with probability exp(lambda U_k) / sum_j exp(lambda U_j); otherwise it keeps its
    status. u_revise and u_pick are uniform draws of the shape of `current`."""
    z = rationality * (utility - utility.max(axis=-1, keepdims=True))
    p = np.exp(z)
    cum = np.cumsum(p, axis=-1)
    pick = (u_pick[..., None] * cum[..., -1:] > cum[..., :-1]).sum(axis=-1)
    return np.where(u_revise < revision_rate, pick, current)


def choice_probabilities(utility: np.ndarray, rationality: float) -> np.ndarray:
    """The logit probabilities themselves (for analysis and tests)."""
    z = rationality * (utility - utility.max(axis=-1, keepdims=True))
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)
