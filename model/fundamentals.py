"""Fundamentals: the sourced 2017/2022 figures, read from `model/data/` into arrays.

Every number here traces to a row of `model/data/*.csv` (copied from the project's calibration data with its
sources) or to a selection rule documented in `docs/ODD.md` section 7 ("Input data"). The rules are applied in
code, not by hand, so a user who edits a CSV row sees the change in the next run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
QUALITY_RANK = {"reported": 0, "mirror": 1, "estimate": 2}
KNOWN_POWERS = ("RUS", "CHN", "USA", "EU", "TUR")
KNOWN_STATES = ("KAZ", "KGZ", "TJK", "TKM", "UZB")
FORMAT_ALIASES = {"C5+1": "C5+1", "CA-China": "CA-China", "CA-Russia": "CA-Russia", "EU-CA": "EU-CA"}
STATUS_CODES = {"none": 0, "observer": 1, "associate": 1, "participant": 2, "member": 2}


@dataclass(frozen=True)
class Fundamentals:
    """Arrays of one data year; axes are (state) or (state, power) in the order given."""

    year: int
    states: tuple[str, ...]
    powers: tuple[str, ...]
    gdp_usd_bn: np.ndarray  # (S,)
    population_m: np.ndarray  # (S,)
    gdp_growth_per_year: np.ndarray  # (S,) nominal US$ GDP growth 2017->2022, compound
    partner_growth_per_year: np.ndarray  # (P,) the powers' nominal US$ GDP growth 2017->2022, compound
    turnover_usd_bn: np.ndarray  # (S, P) goods trade turnover
    remittances_pct_gdp: np.ndarray  # (S, P) remittances received from each power, % of GDP
    debt_usd_bn: np.ndarray  # (S, P) external debt owed to the power
    fdi_stock_usd_bn: np.ndarray  # (S, P) direct-investment stock (see ODD 7 for the gross-inflow proxy)
    arms_share: np.ndarray  # (S, P) share of arms imports, 0..1
    military_presence: np.ndarray  # (S, P) 1 base, 0.5 leased facility, 0 none
    energy_route_share: np.ndarray  # (S, P) share of energy exports routed through/to the power, 0..1


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _year_mid(text: str) -> float:
    """'2022' -> 2022.5, '2024H1' -> 2024.25, '2015-2019' -> 2017.5 (mid-period)."""
    if "-" in text:
        lo, hi = text.split("-")
        return (float(lo) + float(hi) + 1) / 2
    if text.endswith("H1"):
        return float(text[:-2]) + 0.25
    return float(text) + 0.5


def _nearest(rows: list[dict[str, str]], year: int, window: float) -> dict[str, str] | None:
    """The row whose period is nearest the middle of `year`, within `window` years (first one on ties)."""
    best, best_d = None, window + 1e-9
    for row in rows:
        d = abs(_year_mid(row["year"]) - (year + 0.5))
        if d < best_d:
            best, best_d = row, d
    return best


@lru_cache(maxsize=16)
def load_fundamentals(year: int, states: tuple[str, ...], powers: tuple[str, ...],
                      gross_inflow_to_stock: float = 0.25) -> Fundamentals:
    """Build the arrays of one data year (2017 or 2022) by the selection rules of ODD section 7."""
    countries = {(r["code"], int(r["year"])): r for r in _read("countries.csv")}
    trade = _read("trade.csv")
    ties = _read("ties.csv")
    S, P = len(states), len(powers)
    si = {s: i for i, s in enumerate(states)}
    pi = {p: j for j, p in enumerate(powers)}

    gdp = np.array([float(countries[(s, year)]["gdp_usd_bn"]) for s in states])
    pop = np.array([float(countries[(s, year)]["population_m"]) for s in states])
    g17 = np.array([float(countries[(s, 2017)]["gdp_usd_bn"]) for s in states])
    g22 = np.array([float(countries[(s, 2022)]["gdp_usd_bn"]) for s in states])
    growth = (g22 / g17) ** (1 / 5) - 1
    p17 = np.array([float(countries[(p, 2017)]["gdp_usd_bn"]) for p in powers])
    p22 = np.array([float(countries[(p, 2022)]["gdp_usd_bn"]) for p in powers])
    partner_growth = (p22 / p17) ** (1 / 5) - 1

    # Trade: best quality row (reported > mirror > estimate, first listed on ties); a missing cell is the
    # other year's value scaled by the state's GDP ratio between the years (ODD 7.2).
    def best_turnover(y: int) -> dict[tuple[str, str], float]:
        best: dict[tuple[str, str], tuple[int, float]] = {}
        for r in trade:
            if int(r["year"]) != y or r["state"] not in si or r["partner"] not in pi:
                continue
            key, rank = (r["state"], r["partner"]), QUALITY_RANK[r["quality"]]
            if key not in best or rank < best[key][0]:
                best[key] = (rank, float(r["turnover_usd_bn"]))
        return {k: v for k, (_, v) in best.items()}

    this, other = best_turnover(year), best_turnover(2017 if year == 2022 else 2022)
    other_year = 2017 if year == 2022 else 2022
    turnover = np.zeros((S, P))
    for s in states:
        for p in powers:
            if (s, p) in this:
                turnover[si[s], pi[p]] = this[(s, p)]
            elif (s, p) in other:
                ratio = float(countries[(s, year)]["gdp_usd_bn"]) / float(countries[(s, other_year)]["gdp_usd_bn"])
                turnover[si[s], pi[p]] = other[(s, p)] * ratio

    def tie_rows(state: str, partner: str, indicator: str) -> list[dict[str, str]]:
        return [r for r in ties if r["state"] == state and r["partner"] == partner and r["indicator"] == indicator]

    # Remittances: WDI total (% of GDP) times the share from Russia (ODD 7.3). Other powers: no data, zero.
    remit = np.zeros((S, P))
    if "RUS" in pi:
        for s in states:
            totals = [r for r in tie_rows(s, "ALL", "remittances_inflow")]
            pct = [r for r in tie_rows(s, "ALL", "remittances_pct_gdp") if r["source"].startswith("World Bank WDI")]
            pct_row = _nearest(pct, year, 0.0)
            if pct_row is None:
                continue
            share = _remittance_share(tie_rows(s, "RUS", "remittances_share_from_partner"),
                                      tie_rows(s, "RUS", "remittances_from_partner_mts"), totals, year)
            remit[si[s], pi["RUS"]] = float(pct_row["value"]) * share

    debt = np.zeros((S, P))
    fdi = np.zeros((S, P))
    for p in powers:
        for s in states:
            row = _nearest(tie_rows(s, p, "external_debt_owed"), year, 3.5)
            if row:
                debt[si[s], pi[p]] = float(row["value"])
    if "CHN" in pi:
        fdi[:, pi["CHN"]] = _china_fdi(ties, states, year)
    if "RUS" in pi:
        # Putin's ~$5 bn regional stock (seed, 2022) split by each state's share of the region's trade with Russia.
        row = _nearest(tie_rows("CA5", "RUS", "fdi_stock"), 2022, 0.0)
        if row and turnover[:, pi["RUS"]].sum() > 0:
            col = turnover[:, pi["RUS"]]
            fdi[:, pi["RUS"]] = float(row["value"]) * col / col.sum()
    for p in ("USA", "EU"):
        if p in pi:
            for s in states:
                row = _nearest(tie_rows(s, p, "fdi_gross_inflow_cumulative"), 2022, 0.0)
                if row:
                    fdi[si[s], pi[p]] = float(row["value"]) * gross_inflow_to_stock

    arms = np.zeros((S, P))
    own_rows = {r["state"] for r in ties if r["indicator"] == "arms_import_share"}
    for p in powers:
        regional = _nearest(tie_rows("CA5", p, "arms_import_share"), year, 10)
        for s in states:
            own = _nearest(tie_rows(s, p, "arms_import_share"), year, 10)
            if own:
                arms[si[s], pi[p]] = float(own["value"]) / 100
            elif s == "TJK":
                tiv = {r["partner"]: float(r["value"]) for r in ties if r["state"] == s and r["indicator"] == "arms_imports_tiv"}
                if p in tiv:
                    arms[si[s], pi[p]] = tiv[p] / (sum(tiv.values()) + 3.0)  # + Bulgaria's 3 TIV (note of the TJK row)
            elif s == "TKM":
                continue  # Russia not the main supplier; no shares published: left at zero (ODD 7.5)
            elif regional and s not in own_rows:
                arms[si[s], pi[p]] = float(regional["value"]) / 100
    # A state with its own published share (KAZ: Russia 88%, Europe second with 6%) gets no regional fill-in.

    presence = np.zeros((S, P))
    for r in ties:
        if r["state"] in si and r["partner"] in pi and int(float(r["year"] if r["year"].isdigit() else 0)) == year:
            if r["indicator"] == "military_base":
                presence[si[r["state"]], pi[r["partner"]]] = float(r["value"])
            elif r["indicator"] == "military_facility_lease":
                presence[si[r["state"]], pi[r["partner"]]] = 0.5 * float(r["value"])

    energy = _energy_routes(ties, states, powers, gdp, year)
    return Fundamentals(year, states, powers, gdp, pop, growth, partner_growth, turnover, remit, debt, fdi, arms,
                        presence, energy)


def _remittance_share(shares: list[dict], mts: list[dict], totals: list[dict], year: int) -> float:
    """Share of remittances from Russia: same-year share rows (mean), else same-year money-transfer total over the
    WDI total, else the nearest year of either; capped at 1 (ODD 7.3)."""
    def mts_ratio(y: int, window: float) -> float | None:
        m = _nearest(mts, y, window)
        if m is None:
            return None
        t = _nearest(totals, int(m["year"]), 0.0)
        return None if t is None else min(1.0, float(m["value"]) / float(t["value"]))

    same = [float(r["value"]) / 100 for r in shares if r["year"] == str(year)]
    if same:
        return float(np.mean(same))
    ratio = mts_ratio(year, 0.0)
    if ratio is not None:
        return ratio
    near = _nearest(shares, year, 10)
    if near:
        return float(near["value"]) / 100
    ratio = mts_ratio(year, 10)
    return 0.0 if ratio is None else ratio


def _china_fdi(ties: list[dict], states: tuple[str, ...], year: int) -> np.ndarray:
    """EDB stock of Chinese FDI: the state's row nearest the year within 3.5 years; states without one share the
    remainder of the regional (CA5) row by their 2025H1 weights (ODD 7.4)."""
    rows = [r for r in ties if r["partner"] == "CHN" and r["indicator"] == "fdi_stock"]
    out = np.zeros(len(states))
    missing = []
    for i, s in enumerate(states):
        row = _nearest([r for r in rows if r["state"] == s], year, 3.5)
        if row:
            out[i] = float(row["value"])
        else:
            missing.append(i)
    region = _nearest([r for r in rows if r["state"] == "CA5"], year, 3.5)
    if missing and region:
        latest = {r["state"]: float(r["value"]) for r in rows if r["year"] == "2025H1"}
        w = np.array([latest.get(states[i], 0.0) for i in missing])
        rest = max(0.0, float(region["value"]) - out.sum())
        if w.sum() > 0:
            out[missing] = rest * w / w.sum()
    return out


def _energy_routes(ties: list[dict], states: tuple[str, ...], powers: tuple[str, ...], gdp: np.ndarray,
                   year: int) -> np.ndarray:
    """Share of a state's energy exports that depend on each power, scaled by how much energy exports weigh in the
    economy relative to Turkmenistan's gas (ODD 7.6): KAZ oil through Russian pipelines (CPC + Atyrau-Samara) and
    the Kazakhstan-China pipeline; TKM gas volumes to China and Russia; UZB gas to China."""
    S, P = len(states), len(powers)
    out = np.zeros((S, P))
    si = {s: i for i, s in enumerate(states)}
    pi = {p: j for j, p in enumerate(powers)}

    def val(state: str, partner: str, ind: str) -> float:
        for r in ties:
            if r["state"] == state and r["partner"] == partner and r["indicator"] == ind:
                return float(r["value"])
        return 0.0

    if "KAZ" in si:
        shares = {"RUS": val("KAZ", "RUS", "oil_export_share_via_CPC") + val("KAZ", "RUS", "oil_export_share_via_Atyrau_Samara"),
                  "CHN": val("KAZ", "CHN", "oil_export_share_via_KCP")}
        for p, v in shares.items():
            if p in pi:
                out[si["KAZ"], pi[p]] = v / 100  # oil dominates Kazakh exports: exposure 1
    tkm_gas_gdp = None
    if "TKM" in si:
        vol = {"CHN": val("TKM", "CHN", "gas_export_volume"), "RUS": val("TKM", "RUS", "gas_export_volume")}
        total = sum(vol.values())
        for p, v in vol.items():
            if p in pi and total:
                out[si["TKM"], pi[p]] = v / total
        tkm_gas_gdp = val("TKM", "CHN", "gas_export_value") / gdp[si["TKM"]]
    if "UZB" in si and "CHN" in pi and tkm_gas_gdp:
        exposure = (val("UZB", "CHN", "gas_export_value") / gdp[si["UZB"]]) / tkm_gas_gdp
        out[si["UZB"], pi["CHN"]] = min(1.0, exposure)
    return out


@lru_cache(maxsize=4)
def observed_status(year: int) -> dict[tuple[str, str], int]:
    """Observed status code (0 none, 1 partial, 2 member) by (state, format) for 2017 or 2022."""
    out = {}
    for r in _read("memberships.csv"):
        out[(r["state"], r["format"])] = STATUS_CODES[r[f"status_{year}"]]
    return out
