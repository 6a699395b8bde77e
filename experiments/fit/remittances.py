"""Remittances and the host economy: the elasticity of remittances to Russia's US$ GDP from the yearly panel
(docs/ODD.md 4.4f, 7.3), and the Kyrgyz-Tajik contrast around Kyrgyzstan's 2015 EAEU accession.

    d ln M[s, t] = a_s + eps x d ln Y_RUS[t] + u[s, t]

pooled over the states where Russia is the main host (`main_host_states`), state intercepts a_s (each state's own
trend of migration), years <= `upto`, and only years in which the state's WDI remittances were at least
`MIN_PCT_GDP` % of its GDP at both ends (before that WDI records a trickle: Kyrgyzstan 1993-2001 under 0.3% of GDP).
The interval resamples whole states with replacement (`BOOTSTRAP` draws, each drawn state its own intercept).
`python -m greatgame.experiments.fit.remittances --upto 2022` prints both.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd
from greatgame.model.fundamentals import _read
from greatgame.model.panel import load_panel

MAIN_HOST_SHARE = 0.5  # Russia sends at least half of the state's remittances (mean of the observed shares)
LABOUR_EXPORTER_PCT = 5.0  # remittances at least 5% of GDP in the latest year: remittances are migrants' wages
MIN_PCT_GDP = 1.0  # a year-to-year change is used only if both years' remittances are >= 1% of GDP
BOOTSTRAP = 2000
SEED = 20150812  # Kyrgyzstan's EAEU accession (12 Aug 2015)


@dataclass(frozen=True)
class Elasticity:
    """The estimate, its bootstrap-by-state 95% interval, the states and the sample."""

    upto: int
    estimate: float
    low: float
    high: float
    states: tuple[str, ...]
    observations: int
    years: tuple[int, int]
    distinct_resamples: int


def russia_shares(upto: int) -> pd.DataFrame:
    """Every observed share of a state's remittances sent from Russia, years <= upto: money-transfer totals over the
    same year's WDI total (panel) and the World Bank share rows (model/data/ties.csv). Columns state, year, share."""
    panel = load_panel(("remittances_from_partner_mts", "remittances_inflow"), upto=upto)
    mts = panel[panel["series"] == "remittances_from_partner_mts"].set_index(["state", "year"])["value"]
    tot = panel[panel["series"] == "remittances_inflow"].set_index(["state", "year"])["value"]
    rows = [(s, y, min(1.0, v / tot[(s, y)])) for (s, y), v in mts.items() if (s, y) in tot.index]
    rows += [(r["state"], int(r["year"]), float(r["value"]) / 100) for r in _read("ties.csv")
             if r["indicator"] == "remittances_share_from_partner" and r["partner"] == "RUS" and int(r["year"]) <= upto]
    return pd.DataFrame(rows, columns=["state", "year", "share"])


def main_host_states(upto: int) -> tuple[str, ...]:
    """States whose observed Russian share of remittances averages at least MAIN_HOST_SHARE (years <= upto) and
    whose remittances were at least LABOUR_EXPORTER_PCT % of GDP in their latest year <= upto."""
    shares = russia_shares(upto).groupby("state")["share"].mean()
    pct = load_panel("remittances_pct_gdp", upto=upto).sort_values("year").groupby("state")["value"].last()
    return tuple(sorted(s for s, v in shares.items() if v >= MAIN_HOST_SHARE and pct.get(s, 0.0) >= LABOUR_EXPORTER_PCT))


def sample(upto: int, states: tuple[str, ...]) -> pd.DataFrame:
    """Yearly log changes of remittances (dm) and of Russia's US$ GDP (dy) by state, years <= upto."""
    df = load_panel(("remittances_inflow", "remittances_pct_gdp", "gdp_current_usd"), upto=upto)
    rus = df[(df["series"] == "gdp_current_usd") & (df["state"] == "RUS")].set_index("year")["value"].sort_index()
    dy = np.log(rus).diff()
    out = []
    for s in states:
        m = df[(df["series"] == "remittances_inflow") & (df["state"] == s)].set_index("year")["value"].sort_index()
        pct = df[(df["series"] == "remittances_pct_gdp") & (df["state"] == s)].set_index("year")["value"]
        for y in m.index:
            if y - 1 in m.index and y in dy.index and min(pct[y], pct[y - 1]) >= MIN_PCT_GDP:
                out.append((s, y, np.log(m[y] / m[y - 1]), dy[y]))
    return pd.DataFrame(out, columns=["state", "year", "dm", "dy"])


def _slope(dm: np.ndarray, dy: np.ndarray, group: np.ndarray) -> float:
    """OLS slope of dm on dy with one intercept per group (least squares, numpy)."""
    dummies = (group[:, None] == np.unique(group)[None, :]).astype(float)
    return float(np.linalg.lstsq(np.column_stack([dy, dummies]), dm, rcond=None)[0][0])


def estimate_elasticity(upto: int) -> Elasticity:
    """Pooled elasticity of remittances to Russia's US$ GDP with state intercepts, years <= upto, and its 95%
    interval from resampling states (ODD 7.3)."""
    states = main_host_states(upto)
    df = sample(upto, states)
    if df.empty:
        raise ValueError(f"no state has Russia as its main host in the panel up to {upto}")
    by_state = {s: df[df["state"] == s] for s in states}
    est = _slope(df["dm"].to_numpy(), df["dy"].to_numpy(), df["state"].to_numpy())
    rng = np.random.default_rng(SEED)
    draws, seen = [], set()
    for _ in range(BOOTSTRAP):
        pick = sorted(rng.integers(len(states), size=len(states)))
        seen.add(tuple(pick))
        parts = [by_state[states[k]].assign(group=i) for i, k in enumerate(pick)]
        d = pd.concat(parts)
        draws.append(_slope(d["dm"].to_numpy(), d["dy"].to_numpy(), d["group"].to_numpy()))
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return Elasticity(upto, est, float(lo), float(hi), states, len(df), (int(df["year"].min()), int(df["year"].max())),
                      len(seen))


def accession_contrast(treated: str = "KGZ", control: str = "TJK", before: tuple[int, int] = (2012, 2014),
                       after: tuple[int, int] = (2016, 2018)) -> tuple[float, float]:
    """Kyrgyzstan joined the EAEU on 12 Aug 2015; Tajikistan, with the same host and a similar pre-2015 path, did
    not. Returns (difference in the change of mean log remittances, after - before, treated - control; the same
    difference over the three years before, a pre-trend check). One event with other shocks: not an estimate."""
    m = load_panel("remittances_inflow").pivot_table(index="year", columns="state", values="value")
    lm = np.log(m[[treated, control]])

    def change(a: tuple[int, int], b: tuple[int, int]) -> pd.Series:
        return lm.loc[b[0]:b[1]].mean() - lm.loc[a[0]:a[1]].mean()

    width = before[1] - before[0] + 1
    pre = (before[0] - width, before[0] - 1)
    post, trend = change(before, after), change(pre, before)
    return float(post[treated] - post[control]), float(trend[treated] - trend[control])


def main(argv: list[str] | None = None) -> None:
    """Print the elasticity (years <= --upto) and the accession contrast."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upto", type=int, default=2022, help="last year the fit may see (the scenario's data_year)")
    args = ap.parse_args(argv)
    e = estimate_elasticity(args.upto)
    print(f"remittance elasticity to Russia's US$ GDP, years <= {e.upto}: {e.estimate:.3f} "
          f"(95% bootstrap-by-state interval {e.low:.3f} to {e.high:.3f}; {e.distinct_resamples} distinct resamples)")
    print(f"  states (Russia the main host): {', '.join(e.states)}; {e.observations} state-years, "
          f"{e.years[0]}-{e.years[1]}")
    if args.upto >= 2018:
        diff, pre = accession_contrast()
        print(f"Kyrgyz EAEU accession (2015), KGZ - TJK change in mean log remittances 2016-18 vs 2012-14: {diff:.3f} "
              f"(pre-trend 2012-14 vs 2009-11: {pre:.3f}); one event, not identified")


if __name__ == "__main__":
    main()
