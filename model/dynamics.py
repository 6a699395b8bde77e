"""State-variable updates between decisions: engagement, stocks, GDP and trade (docs/ODD.md section 4.3)."""

from __future__ import annotations

import numpy as np

from .choice import LEVEL_ENGAGEMENT


def update_engagement(engagement: np.ndarray, status: np.ndarray, rate: float, lift: np.ndarray) -> np.ndarray:
    """Engagement moves toward its status target (0, 0.5, 1) by `rate` of the gap, plus the convenors' diplomatic
    lift for formats the state is in (status > 0), clipped to [0, 1] (ODD eq. 4.3a). Shapes (R, S, F)."""
    target = LEVEL_ENGAGEMENT[status]
    new = engagement + rate * (target - engagement) + np.where(status > 0, lift, 0.0)
    return np.clip(new, 0.0, 1.0)


def update_stock(stock: np.ndarray, spending: np.ndarray, depreciation: float, dt: float) -> np.ndarray:
    """Model-added stock (investment or security assistance, US$ bn): s <- s (1 - d)^dt + spending x dt
    (ODD eq. 4.3b); spending in US$ bn/year, dt in years."""
    return stock * (1.0 - depreciation) ** dt + spending * dt


def trend_growth(state_growth: np.ndarray, partner_growth: np.ndarray, partner_elasticity: float,
                 reference_growth: float) -> np.ndarray:
    """Trend growth of log turnover per year, (S, P) (ODD eq. 4.3c):
    ln(1 + g_s) + beta ln(1 + g_p) - ln(1 + g_ref), from annual growth rates. With beta = 1 and g_ref = 0 this is
    Tinbergen's naive gravity (turnover proportional to the product of the two GDPs)."""
    return (np.log1p(state_growth)[:, None] + partner_elasticity * np.log1p(partner_growth)[None, :]
            - np.log1p(reference_growth))


def update_trade(turnover: np.ndarray, growth: np.ndarray, dt: float, access_change: np.ndarray,
                 access_elasticity: float, sanctions: np.ndarray, secondary: float, sanctions_elasticity: float,
                 noise_sd: float, z: np.ndarray) -> np.ndarray:
    """Turnover (US$ bn/year, shape (R, S, P)) in logs (ODD eq. 4.3c):
    d ln T = growth_sp dt + access_elasticity x d(access) - sanctions_elasticity x sanctions_p x secondary x dt
             + noise_sd sqrt(dt) z,
    where growth (S, P) is the trend of `trend_growth` and access is the state's engagement in formats that
    channel trade with p. z are standard normal draws (R, S, P)."""
    d = (growth * dt + access_elasticity * access_change
         - sanctions_elasticity * sanctions[:, None, :] * secondary * dt + noise_sd * np.sqrt(dt) * z)
    return turnover * np.exp(d)
