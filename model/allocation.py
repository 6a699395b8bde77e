"""Powers: capacity under sanctions, spending across states, accession packages, convening (docs/ODD.md 4.1).

Arrays carry a leading run axis R; parameters have one value per run, shape (R,).
"""

from __future__ import annotations

import numpy as np

from .choice import per_run


def effective_budget(budget: np.ndarray, scale: np.ndarray, sanctions: np.ndarray,
                     capacity_loss: np.ndarray) -> np.ndarray:
    """Budget actually spendable, US$ bn/year (ODD eq. 4.1a): budget x scale x (1 - capacity_loss x sanctions).
    budget, scale, sanctions (R, P); capacity_loss (R,)."""
    return budget * scale * (1.0 - per_run(capacity_loss, 2) * sanctions)


def allocate(budget: np.ndarray, state_weight: np.ndarray, own_influence: np.ndarray, rival_influence: np.ndarray,
             rival_offers: np.ndarray, rationality: np.ndarray, rival_response: np.ndarray) -> np.ndarray:
    """Spending of one power on each state, US$ bn/year (ODD eq. 4.1b): shares follow a softmax over states of
    rationality x value, value = w_s (1 + rival_response x (rival influence + rival package offers / GDP) - own
    influence): a power spends where the prize is large, rivals are strong or bidding, and its own hold is weak.
    budget (R,); state_weight, own_influence, rival_influence, rival_offers (R, S) (offers as a share of GDP);
    rationality, rival_response (R,). Returns (R, S) summing to budget."""
    value = state_weight * (1.0 + per_run(rival_response, 2) * (rival_influence + rival_offers) - own_influence)
    z = per_run(rationality, 2) * (value - value.max(axis=-1, keepdims=True))
    w = np.exp(z)
    return budget[:, None] * w / w.sum(axis=-1, keepdims=True)


def package_need(gap: np.ndarray, gdp: np.ndarray, w_investment: np.ndarray) -> np.ndarray:
    """Package (US$ bn) that closes a state's utility gap to full membership (ODD eq. 4.1d): a package is worth
    w_investment x package / GDP to the state (as investment), so need = max(gap, 0) x GDP / w_investment.
    gap (R, S, F) = utility of the current level - utility of member; gdp (R, S); w_investment (R,)."""
    return np.maximum(gap, 0.0) * gdp[..., None] / np.maximum(per_run(w_investment, 3), 1e-12)


def choose_offer(need: np.ndarray, open_target: np.ndarray, fund: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """The accession package one power offers this step (ODD eq. 4.1d): among the (state, format) targets open to
    it (formats it convenes, states eligible and not yet members), the one with the smallest need that its
    accession fund can cover, offered at need x (1 + margin). need (R, S, F) US$ bn; open_target (R, S, F) bool;
    fund (R,); margin (R,). Returns the offer, US$ bn (R, S, F), with at most one non-zero cell per run."""
    R = need.shape[0]
    cost = np.where(open_target, need * (1.0 + per_run(margin, 3)), np.inf).reshape(R, -1)
    best = cost.argmin(axis=1)
    price = cost[np.arange(R), best]
    ok = np.isfinite(price) & (price <= fund) & (price > 0)
    offer = np.zeros(cost.shape)
    offer[np.arange(R)[ok], best[ok]] = price[ok]
    return offer.reshape(need.shape)


def update_fund(fund: np.ndarray, envelope: np.ndarray, cap_years: np.ndarray, dt: float) -> np.ndarray:
    """Accession fund of one power, US$ bn (ODD eq. 4.1d): fund <- min(fund + envelope x dt, cap_years x envelope);
    packages are paid out of it when their target joins (`GreatGameModel._pay_packages`). envelope = the accession
    share of the effective budget, US$ bn/year. All (R,)."""
    return np.minimum(fund + envelope * dt, per_run(cap_years, 1) * envelope)


def losing_ground(regional_influence: np.ndarray, reference: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """A power is losing ground (ODD eq. 4.1c) when its regional influence is below (1 - tolerance) x its
    reference point, the highest regional influence it held over its memory window (a reference-dependent
    aspiration: powers judge their standing against what they recently had, not against a fixed level).
    All (R,)."""
    return regional_influence < (1.0 - per_run(tolerance, 1)) * reference


def should_convene(losing: np.ndarray, reach: np.ndarray, n_states: int, steps_short: np.ndarray,
                   patience: np.ndarray, probability: np.ndarray, u: np.ndarray,
                   template_inactive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Endogenous convening (ODD eq. 4.1c). A power is short in a step when it is losing ground and the formats it
    runs alone hold fewer than all states as full members; after `patience` consecutive short steps it opens its
    template format with `probability` per step. Returns (convene now (R,) bool, updated counter (R,))."""
    short = losing & (reach < n_states)
    counter = np.where(short, steps_short + 1, 0)
    now = short & (counter >= patience) & (u < probability) & template_inactive
    return now, counter
