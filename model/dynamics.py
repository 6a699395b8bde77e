"""State-variable updates between decisions: engagement, stocks, GDP and trade (docs/ODD.md section 4.3).

Arrays carry a leading run axis R; parameters have one value per run, shape (R,).
"""

from __future__ import annotations

import numpy as np

from .choice import LEVEL_ENGAGEMENT, per_run


def update_engagement(engagement: np.ndarray, status: np.ndarray, rate: np.ndarray, lift: np.ndarray) -> np.ndarray:
    """Engagement moves toward its status target (0, 0.5, 1) by `rate` of the gap, plus the convenors' diplomatic
    lift for formats the state is in (status > 0), clipped to [0, 1] (ODD eq. 4.3a). Shapes (R, S, F); rate (R,)."""
    target = LEVEL_ENGAGEMENT[status]
    new = engagement + per_run(rate, 3) * (target - engagement) + np.where(status > 0, lift, 0.0)
    return np.clip(new, 0.0, 1.0)


def diplomatic_lift(diplomacy: np.ndarray, convenor: np.ndarray, gdp: np.ndarray, gain: np.ndarray,
                    dt: float) -> np.ndarray:
    """Engagement lift of each format (ODD eq. 4.3a): gain x dt x sum over its convenors of diplomatic spending
    on the state / the state's GDP. diplomacy (R, S, P) US$ bn/yr; convenor (F, P); gdp (R, S). Returns (R, S, F)."""
    return per_run(gain, 3) * np.einsum("rsp,fp->rsf", diplomacy, convenor) / gdp[..., None] * dt


def update_stock(stock: np.ndarray, spending: np.ndarray, depreciation: np.ndarray, dt: float) -> np.ndarray:
    """A stock fed by a flow (ODD eq. 4.3b): s <- s (1 - d)^dt + flow x dt; the model-added investment stock (US$ bn,
    flow in US$ bn/year) or the arms-delivery stock (TIV mn, flow in TIV mn/year, eq. 4.4c); dt in years;
    depreciation (R,)."""
    return stock * (1.0 - per_run(depreciation, stock.ndim)) ** dt + spending * dt


def trend_growth(state_growth: np.ndarray, partner_growth: np.ndarray, partner_elasticity: np.ndarray,
                 reference_growth: np.ndarray) -> np.ndarray:
    """Trend growth of log turnover per year, (R, S, P) (ODD eq. 4.3c):
    ln(1 + g_s) + beta ln(1 + g_p) - ln(1 + g_ref), from annual growth rates (the forecasts published by the start
    year, ODD 7.1). With beta = 1 and g_ref = 0 this is Tinbergen's naive gravity (turnover proportional to the
    product of the two GDPs). state_growth (S,); partner_growth (P,); beta and g_ref (R,)."""
    return (np.log1p(state_growth)[None, :, None] + per_run(partner_elasticity, 3) * np.log1p(partner_growth)[None, None, :]
            - per_run(np.log1p(reference_growth), 3))


def update_trade(turnover: np.ndarray, growth: np.ndarray, dt: float, access_change: np.ndarray,
                 access_elasticity: np.ndarray, sanctions: np.ndarray, secondary: np.ndarray,
                 sanctions_elasticity: np.ndarray, noise_sd: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Turnover (US$ bn/year, shape (R, S, P)) in logs (ODD eq. 4.3c):
    d ln T = growth_sp dt + access_elasticity x d(access) - sanctions_elasticity x sanctions_p x secondary x dt
             + noise_sd sqrt(dt) z,
    where growth (R, S, P) is the trend of `trend_growth` and access is the state's engagement in formats that
    channel trade with p. sanctions (R, P); parameters (R,); z standard normal draws (R, S, P)."""
    d = (growth * dt + per_run(access_elasticity, 3) * access_change
         - per_run(sanctions_elasticity * secondary, 3) * sanctions[:, None, :] * dt
         + per_run(noise_sd, 3) * np.sqrt(dt) * z)
    return turnover * np.exp(d)


def trade_access(engagement: np.ndarray, trade_channel: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Trade access of each state to each power (ODD eq. 4.3c): sum over formats containing p of
    engagement x trade channel. engagement (R, S, F); trade_channel (R, F); members (F, P). Returns (R, S, P)."""
    return np.einsum("rsf,rf,fp->rsp", engagement, trade_channel, members)
