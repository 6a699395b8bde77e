"""The migration channel: remittances by host country, moved by the host's economy and by labour-market access
(docs/ODD.md 4.4f and 7.3).

At the start, M0[s, h] (US$ mn/yr) = the state's WDI personal remittances x the host's share (`start_remittances`:
the data selection, with the period of every row read). During a run (pure functions, leading run axis R):

    Y[h]_t = Y[h]_(t-dt) x (1 + g_h)^dt x exp(-kappa (sigma_h,t - sigma_h,0) dt)      host income index, Y_0 = 1
    X[s, h]_t = sum_f c_f,migration [h in f] e[s, f]_t                                  migration access
    M[s, h]_t = M0[s, h] x Y[h]_t^eps x exp(a (X[s, h]_t - X[s, h]_0))                  remittances
    L[s, h]_t = M[s, h]_t / (1000 x GDP_s,t)                                            leverage (share of GDP)

g_h: the host's forecast nominal US$ GDP growth (fundamentals `partner_growth_per_year`); sigma: sanctions level;
kappa = `parameters.migration.sanctions_income_loss`; eps = `host_income_elasticity` (estimated,
experiments/fit/remittances.py); a = `access_gain`; c: the formats' migration channel weights; e: engagement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .choice import per_run
from .fundamentals import STALE_YEARS, _read, period_end, period_mid
from .panel import load_panel

ALL = "ALL"  # the panel's partner code of a state's total (all hosts)
STOCK_HOSTS = ("RUS", "USA", "TUR", "KAZ", "EU")  # hosts with a UN DESA emigrant-stock column (panel)


@dataclass(frozen=True)
class RemittanceStart:
    """Remittances by host at the start: m0 (S, P) US$ mn/yr, the share of the state's total from each host (S, P),
    and the provenance of every row read: (quantity, state, partner, period, file)."""

    m0: np.ndarray
    share: np.ndarray
    provenance: tuple[tuple[str, str, str, str, str], ...]


def _latest(df: pd.DataFrame, year: int) -> pd.Series | None:
    """The row of the latest year <= `year` not older than STALE_YEARS, or None."""
    ok = df[(df["year"] <= year) & (year - df["year"] <= STALE_YEARS)]
    return None if ok.empty else ok.loc[ok["year"].idxmax()]


def russia_share(state: str, year: int, note: list) -> float | None:
    """Share of the state's remittances sent from Russia by the money-transfer and World Bank figures (ODD 7.3):
    the mean of the World Bank share rows of the start year (model/data/ties.csv `remittances_share_from_partner`),
    else the start year's money-transfer total (panel `remittances_from_partner_mts`) over the same year's WDI total,
    else the latest share row, else the latest money-transfer ratio, neither older than STALE_YEARS; capped at 1.
    None when no usable figure exists."""
    shares = [r for r in _read("ties.csv") if r["state"] == state and r["partner"] == "RUS"
              and r["indicator"] == "remittances_share_from_partner" and period_end(r["year"]) <= year
              and year - period_end(r["year"]) <= STALE_YEARS]
    panel = load_panel(("remittances_from_partner_mts", "remittances_inflow"), upto=year)
    panel = panel[panel["state"] == state]
    mts = panel[panel["series"] == "remittances_from_partner_mts"]
    totals = panel[panel["series"] == "remittances_inflow"].set_index("year")["value"]
    ratios = {int(r.year): (float(r.value), float(totals[r.year])) for r in mts.itertuples()
              if r.year in totals.index and year - r.year <= STALE_YEARS}

    def from_share(rows: list[dict]) -> float:
        for r in rows:
            note.append(("remittances_share_from_partner", state, "RUS", r["year"], "ties.csv"))
        return min(1.0, float(np.mean([float(r["value"]) / 100 for r in rows])))

    def from_mts(y: int) -> float:
        note.append(("remittances_from_partner_mts", state, "RUS", str(y), "panel/security_migration.csv"))
        note.append(("remittances_inflow", state, ALL, str(y), "panel/security_migration.csv"))
        return min(1.0, ratios[y][0] / ratios[y][1])

    same = [r for r in shares if r["year"] == str(year)]
    if same:
        return from_share(same)
    if year in ratios:
        return from_mts(year)
    if shares:
        return from_share([max(shares, key=lambda r: period_mid(r["year"]))])
    return from_mts(max(ratios)) if ratios else None


def stock_shares(state: str, year: int, note: list) -> dict[str, float]:
    """Share of the state's emigrants living in each host (UN DESA `migrant_stock_abroad`, the latest 5-yearly
    point <= year): {host: stock / all destinations}; empty when the state has no point."""
    df = load_panel("migrant_stock_abroad", upto=year)
    df = df[df["state"] == state]
    if df.empty:
        return {}
    point = int(df["year"].max())
    df = df[df["year"] == point].set_index("partner")["value"]
    note.append(("migrant_stock_abroad", state, ALL, str(point), "panel/security_migration.csv"))
    return {h: float(df.get(h, 0.0)) / float(df[ALL]) for h in STOCK_HOSTS}


@lru_cache(maxsize=16)
def start_remittances(year: int, states: tuple[str, ...], powers: tuple[str, ...]) -> RemittanceStart:
    """M0[s, h] = total x share[s, h] (ODD 7.3). Total: the state's WDI personal remittances (panel
    `remittances_inflow`), the latest year <= `year` not older than STALE_YEARS, else 0 for every host (Turkmenistan:
    one WDI figure, 1996). Share of Russia: `russia_share`, else Russia's share of the state's emigrants. Share of
    another host h: (1 - Russia's share) x h's share of the emigrants who do not live in Russia, so the shares never
    sum above 1 (the same as h's emigrant share when Russia's also comes from the stocks). A host without a
    stock column (China) gets 0."""
    note: list[tuple[str, str, str, str, str]] = []
    totals = load_panel("remittances_inflow", upto=year)
    m0, share = np.zeros((len(states), len(powers))), np.zeros((len(states), len(powers)))
    for i, s in enumerate(states):
        row = _latest(totals[(totals["state"] == s) & (totals["partner"] == ALL)], year)
        if row is None:
            continue
        note.append(("remittances_inflow", s, ALL, str(int(row["year"])), "panel/security_migration.csv"))
        stocks = stock_shares(s, year, note)
        rus = russia_share(s, year, note)
        if rus is None:
            rus = stocks.get("RUS", 0.0)
        rest = 1.0 - stocks.get("RUS", 0.0)
        for j, h in enumerate(powers):
            if h == "RUS":
                share[i, j] = rus
            elif h in stocks and rest > 0:
                share[i, j] = (1.0 - rus) * stocks[h] / rest
        m0[i] = float(row["value"]) * share[i]
    return RemittanceStart(m0, share, tuple(note))


def access_exposure(engagement: np.ndarray, migration_channel: np.ndarray, members: np.ndarray) -> np.ndarray:
    """X[r, s, h] = sum_f c_f,migration [h in f] e[r, s, f] (ODD eq. 4.4f): the state's engagement in the formats
    through which host h opens its labour market, weighted by each format's migration channel.
    engagement (R, S, F); migration_channel (R, F); members (F, P) 0/1. Returns (R, S, P)."""
    return np.matmul(engagement, migration_channel[..., None] * members)


def advance_host_income(index: np.ndarray, growth: np.ndarray, sanctions: np.ndarray, sanctions0: np.ndarray,
                        loss: np.ndarray, dt: float) -> np.ndarray:
    """Y[h]_(t+dt) = Y[h]_t (1 + g_h)^dt exp(-kappa (sigma_h - sigma_h,0) dt) (ODD eq. 4.4f): the host's nominal US$
    GDP relative to the start. index, sanctions, sanctions0 (R, P); growth (P,) per year; loss kappa (R,)."""
    return index * (1.0 + growth) ** dt * np.exp(-per_run(loss, 2) * (sanctions - sanctions0) * dt)


def remittances(m0: np.ndarray, host_income: np.ndarray, elasticity: np.ndarray, access_change: np.ndarray,
                gain: np.ndarray) -> np.ndarray:
    """M[r, s, h] = M0[s, h] Y[r, h]^eps exp(a (X - X0)) (ODD eq. 4.4f), US$ mn/yr. m0 (S, P); host_income (R, P);
    access_change X - X0 (R, S, P) (`access_exposure` of the engagement change: X is linear in it); elasticity eps
    and gain a (R,)."""
    return m0 * host_income[:, None, :] ** per_run(elasticity, 3) * np.exp(per_run(gain, 3) * access_change)


def migration_leverage(remit: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """L[r, s, h] = M[r, s, h] / GDP_s (ODD eq. 4.4f): remittances (US$ mn/yr) over GDP (US$ bn, x 1000)."""
    return remit / (1000.0 * gdp[..., None])
