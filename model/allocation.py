"""Powers' engagement budgets: capacity under sanctions and allocation across states (docs/ODD.md section 4.1)."""

from __future__ import annotations

import numpy as np


def effective_budget(budget: np.ndarray, scale: np.ndarray, sanctions: np.ndarray, capacity_loss: float) -> np.ndarray:
    """Budget actually spendable, US$ bn/year (ODD eq. 4.1a): budget x scale x (1 - capacity_loss x sanctions).
    Shapes (R, P)."""
    return budget * scale * (1.0 - capacity_loss * sanctions)


def allocate(budget: np.ndarray, state_weight: np.ndarray, own_influence: np.ndarray, rival_influence: np.ndarray,
             rationality: float, rival_response: float) -> np.ndarray:
    """Spending of one power on each state, US$ bn/year (ODD eq. 4.1b): shares follow a softmax over states of
    rationality x value, value = state weight x (1 + rival_response x rival influence - own influence), i.e. a
    power spends where the prize is large, rivals are strong and its own hold is weak.
    budget (R,); state_weight, own_influence, rival_influence (R, S). Returns (R, S) summing to budget."""
    value = state_weight * (1.0 + rival_response * rival_influence - own_influence)
    z = rationality * (value - value.max(axis=-1, keepdims=True))
    w = np.exp(z)
    return budget[:, None] * w / w.sum(axis=-1, keepdims=True)


def should_convene(regional_influence: np.ndarray, aspiration: float, reach: np.ndarray, n_states: int,
                   steps_below: np.ndarray, patience: int, probability: float, u: np.ndarray,
                   template_inactive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Endogenous convening (ODD eq. 4.1c). A power whose regional influence is below its aspiration and whose
    formats hold fewer than all states as full members counts a step below; after `patience` such steps it opens
    its template format with `probability` per step. Returns (convene now (R,) bool, updated counter (R,))."""
    short = (regional_influence < aspiration) & (reach < n_states)
    counter = np.where(short, steps_below + 1, 0)
    now = short & (counter >= patience) & (u < probability) & template_inactive
    return now, counter
