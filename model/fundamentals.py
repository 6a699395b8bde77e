"""Fundamentals: the sourced figures of one start year, read from `model/data/` into arrays.

Every number here traces to a row of `model/data/*.csv` (copied from the project's calibration data with its
sources, plus rows this project added with theirs) or to a documented judgement (`judgements.csv`), by the
selection rules of docs/ODD.md section 7. **Vintage rule:** a scenario starting in year Y uses no figure that
describes a later year: a row is usable only if the period it describes ends by Y (a SIPRI window 2015-2019 ends
in 2019; a 2024H1 stock in 2024), and growth comes from the GDP forecasts published by Y (IMF WEO), not from
realised later growth. `Fundamentals.provenance` lists the period of every row selected, so tests can check it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from .energy import load_export_routes
from .files import DATA_DIR
from .panel import load_panel
from .security import OTHERS, delivery_table

QUALITY_RANK = {"reported": 0, "mirror": 1, "estimate": 2}
# The trade basis is a scenario switch (`trade_basis`, ODD 7.2): the rows of the chosen basis first, then IMF DOTS
# exporter-based turnover (each side's FOB exports: half from each), then the other basis, then mixed aggregates;
# among rows of one basis, the best quality (reported > mirror > estimate). The baseline uses the states' own
# statistics: China's records of Kyrgyz and Tajik trade include transit and re-export cargo and temporary entries
# (2-4x the states' own figures, shared/data README (1)).
TRADE_BASES = ("state", "partner")
BASIS_RANK = {"state": {"state": 0, "exporters": 1, "partner": 2, "mixed": 3},
              "partner": {"partner": 0, "exporters": 1, "state": 2, "mixed": 3}}
KNOWN_POWERS = ("RUS", "CHN", "USA", "EU", "TUR")
KNOWN_STATES = ("KAZ", "KGZ", "TJK", "TKM", "UZB")
STATUS_CODES = {"none": 0, "observer": 1, "associate": 1, "participant": 2, "member": 2}
STALE_YEARS = 6  # a stock or debt figure older than this is not used (ODD 7)


@dataclass(frozen=True)
class Fundamentals:
    """Arrays of one start year; axes are (state) or (state, power) in the order given."""

    year: int
    states: tuple[str, ...]
    powers: tuple[str, ...]
    gdp_usd_bn: np.ndarray  # (S,)
    population_m: np.ndarray  # (S,)
    gdp_growth_per_year: np.ndarray  # (S,) nominal US$ GDP growth forecast published by the start year (WEO)
    partner_growth_per_year: np.ndarray  # (P,) the powers' forecast nominal US$ GDP growth, same vintage
    turnover_usd_bn: np.ndarray  # (S, P) goods trade turnover
    remittances_pct_gdp: np.ndarray  # (S, P) remittances received from each power, % of GDP
    debt_usd_bn: np.ndarray  # (S, P) external debt owed to the power
    fdi_stock_usd_bn: np.ndarray  # (S, P) direct-investment stock
    fdi_gross_inflow_cumulative_usd_bn: np.ndarray  # (S, P) cumulative gross inflows (x a stock ratio in the model)
    arms_tiv: np.ndarray  # (S, P + 1, Y) SIPRI arms deliveries by supplier (the powers, then others), TIV mn/year
    arms_years: np.ndarray  # (Y,) the data years of arms_tiv: 1992 to the last year <= the start year
    military_presence: np.ndarray  # (S, P) weighted presence in the start year (1 base, 0.5 facility), 0 none
    export_routes: np.ndarray  # (S, P + 1, K) exports carried by routes each power (then others) serves (model/energy.py)
    provenance: tuple[tuple[str, str, str, str, str], ...] = field(default=())  # (quantity, state, partner, period, file)


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def period_end(text: str) -> float:
    """Last year a period describes: '2022' -> 2022, '2024H1' -> 2024, '2015-2019' -> 2019."""
    text = str(text).strip()
    if "-" in text:
        return float(text.split("-")[1])
    return float(text[:-2]) if text.endswith("H1") else float(text)


def period_mid(text: str) -> float:
    """'2022' -> 2022.5, '2024H1' -> 2024.25, '2015-2019' -> 2017.5 (mid-period)."""
    text = str(text).strip()
    if "-" in text:
        lo, hi = text.split("-")
        return (float(lo) + float(hi) + 1) / 2
    return float(text[:-2]) + 0.25 if text.endswith("H1") else float(text) + 0.5


def usable(rows: list[dict[str, str]], year: int, max_age: float | None = None) -> list[dict[str, str]]:
    """Rows describing periods that end by `year` (and, with max_age, that are not older than that)."""
    return [r for r in rows if period_end(r["year"]) <= year
            and (max_age is None or year - period_end(r["year"]) <= max_age)]


def latest(rows: list[dict[str, str]], year: int, max_age: float | None = None) -> dict[str, str] | None:
    """The usable row nearest the start year (the latest; the first listed on ties)."""
    ok = usable(rows, year, max_age)
    return max(ok, key=lambda r: period_mid(r["year"])) if ok else None


class _Selector:
    """Reads the data tables once and records the period of every value it selects."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.ties = _read("ties.csv")
        self.judgements = [r for r in _read("judgements.csv") if int(r["year"]) == year]
        self.provenance: list[tuple[str, str, str, str, str]] = []

    def note(self, quantity: str, state: str, partner: str, period: str, file: str = "ties.csv") -> None:
        self.provenance.append((quantity, state, partner, str(period), file))

    def rows(self, state: str, partner: str, indicator: str) -> list[dict[str, str]]:
        return [r for r in self.ties if r["state"] == state and r["partner"] == partner and r["indicator"] == indicator]

    def judgement(self, state: str, partner: str, indicator: str) -> float | None:
        for r in self.judgements:
            if r["state"] == state and r["partner"] == partner and r["indicator"] == indicator:
                self.note(indicator, state, partner, r["year"], "judgements.csv")
                return float(r["value"])
        return None


def forecast_growth(codes: tuple[str, ...], year: int) -> tuple[np.ndarray, list[str]]:
    """Compound nominal US$ GDP growth per year from the latest forecast vintage published by `year` whose
    projection starts in `year` (ODD 7.1). Returns the rates and the vintages used."""
    rows = [r for r in _read("forecasts.csv") if int(r["start_year"]) == year and int(r["published"][:4]) <= year]
    out, used = np.zeros(len(codes)), []
    for i, c in enumerate(codes):
        mine = sorted((r for r in rows if r["code"] == c), key=lambda r: r["published"])
        if not mine:
            raise ValueError(f"model/data/forecasts.csv: no GDP forecast for {c} published by {year}")
        r = mine[-1]
        if r["growth_per_year"]:
            out[i] = float(r["growth_per_year"])
        else:
            span = int(r["end_year"]) - int(r["start_year"])
            out[i] = (float(r["gdp_end_usd_bn"]) / float(r["gdp_start_usd_bn"])) ** (1 / span) - 1
        used.append(r["vintage"])
    return out, used


def trade_rows() -> list[dict[str, str]]:
    """Every row of model/data/trade.csv (one per source)."""
    return _read("trade.csv")


def best_trade_rows(year: int, rows: list[dict[str, str]] | None = None,
                    basis: str = "state") -> dict[tuple[str, str], dict[str, str]]:
    """The trade.csv row used for each (state, partner) of `year` on the trade basis `basis` ('state': each state's
    own statistics; 'partner': the partner's records) (ODD 7.2): best basis (`BASIS_RANK[basis]`: the chosen side,
    then exporter-based DOTS turnover, then the other side, then mixed), then best quality (reported > mirror >
    estimate), then the first listed."""
    if basis not in BASIS_RANK:
        raise ValueError(f"trade basis '{basis}': use one of {', '.join(TRADE_BASES)}")
    order = BASIS_RANK[basis]
    best: dict[tuple[str, str], tuple[tuple[int, int], dict[str, str]]] = {}
    for r in rows if rows is not None else _read("trade.csv"):
        if int(r["year"]) != year:
            continue
        key, rank = (r["state"], r["partner"]), (order[r["basis"]], QUALITY_RANK[r["quality"]])
        if key not in best or rank < best[key][0]:
            best[key] = (rank, r)
    return {k: r for k, (_, r) in best.items()}


@lru_cache(maxsize=16)
def load_fundamentals(year: int, states: tuple[str, ...], powers: tuple[str, ...],
                      trade_basis: str = "state") -> Fundamentals:
    """Build the arrays of one start year (2017 or 2022) by the selection rules of ODD section 7, with turnover on
    the trade basis `trade_basis` ('state' or 'partner', ODD 7.2)."""
    sel = _Selector(year)
    countries = {(r["code"], int(r["year"])): r for r in _read("countries.csv")}
    trade = _read("trade.csv")
    S, P = len(states), len(powers)
    si = {s: i for i, s in enumerate(states)}
    pi = {p: j for j, p in enumerate(powers)}

    gdp = np.array([float(countries[(s, year)]["gdp_usd_bn"]) for s in states])
    pop = np.array([float(countries[(s, year)]["population_m"]) for s in states])
    for s in states:
        sel.note("gdp_usd_bn", s, "", str(year), "countries.csv")
    growth, vintages = forecast_growth(states, year)
    partner_growth, pv = forecast_growth(powers, year)
    for c, v in zip(states + powers, vintages + pv, strict=True):
        sel.note("gdp_growth_forecast", c, "", v.split()[-1][:4], "forecasts.csv")

    # Trade: best row of the year (`best_trade_rows`); a missing cell is an earlier data year's value scaled by the
    # state's GDP ratio between the years (ODD 7.2).
    def best_turnover(y: int) -> dict[tuple[str, str], float]:
        return {k: float(r["turnover_usd_bn"]) for k, r in best_trade_rows(y, trade, trade_basis).items()
                if k[0] in si and k[1] in pi}

    this = best_turnover(year)
    earlier = [y for y in (2017, 2022) if y < year]
    turnover = np.zeros((S, P))
    for s in states:
        for p in powers:
            if (s, p) in this:
                turnover[si[s], pi[p]] = this[(s, p)]
                sel.note("turnover_usd_bn", s, p, str(year), "trade.csv")
            elif earlier and (s, p) in (prev := best_turnover(earlier[-1])):
                ratio = gdp[si[s]] / float(countries[(s, earlier[-1])]["gdp_usd_bn"])
                turnover[si[s], pi[p]] = prev[(s, p)] * ratio
                sel.note("turnover_usd_bn", s, p, str(earlier[-1]), "trade.csv")

    # Remittances: WDI total (% of GDP) of the year times the share from Russia (ODD 7.3).
    remit = np.zeros((S, P))
    if "RUS" in pi:
        for s in states:
            pct = [r for r in sel.rows(s, "ALL", "remittances_pct_gdp") if r["source"].startswith("World Bank WDI")
                   and r["year"] == str(year)]
            if not pct:
                continue
            share = _remittance_share(sel, s, year)
            remit[si[s], pi["RUS"]] = float(pct[0]["value"]) * share
            sel.note("remittances_pct_gdp", s, "ALL", pct[0]["year"])

    debt = np.zeros((S, P))
    fdi = np.zeros((S, P))
    gross = np.zeros((S, P))
    for p in powers:
        for s in states:
            row = latest(sel.rows(s, p, "external_debt_owed"), year, STALE_YEARS)
            if row:
                debt[si[s], pi[p]] = float(row["value"])
                sel.note("external_debt_owed", s, p, row["year"])
    if "CHN" in pi:
        fdi[:, pi["CHN"]] = _china_fdi(sel, states, turnover[:, pi["CHN"]])
    if "RUS" in pi:
        # The seed's ~US$5 bn regional stock (Putin, 2022) split by each state's share of the region's trade with
        # Russia; no figure describes 2017 or earlier, so a 2017 start has none (ODD 7.4).
        row = latest(sel.rows("CA5", "RUS", "fdi_stock"), year)  # the first listed: the seed's figure
        col = turnover[:, pi["RUS"]]
        if row and col.sum() > 0:
            fdi[:, pi["RUS"]] = float(row["value"]) * col / col.sum()
            sel.note("fdi_stock", "CA5", "RUS", row["year"])
    for p in ("USA", "EU", "TUR"):
        if p in pi:
            # a direct-investment stock by investor (the state's row, else the regional stock split by trade) first;
            # where there is none, the state's cumulative gross inflows from the power x a stock ratio (ODD 7.4)
            fdi[:, pi[p]] = _fdi_stock(sel, states, p, turnover[:, pi[p]])
            for s in states:
                row = latest(sel.rows(s, p, "fdi_gross_inflow_cumulative"), year, 0)
                if row and fdi[si[s], pi[p]] == 0:
                    gross[si[s], pi[p]] = float(row["value"])
                    sel.note("fdi_gross_inflow_cumulative", s, p, row["year"])

    arms_tiv, arms_years, presence = security_data(sel, states, powers)
    routes = load_export_routes(year, states, powers)  # ODD 7.6
    sel.provenance.extend(routes.provenance)
    return Fundamentals(year, states, powers, gdp, pop, growth, partner_growth, turnover, remit, debt, fdi, gross,
                        arms_tiv, arms_years, presence, routes.quantity, tuple(sel.provenance))


def _remittance_share(sel: _Selector, state: str, year: int) -> float:
    """Share of remittances from Russia (ODD 7.3): same-year share rows (mean), else the same-year money-transfer
    total over the WDI total, else the latest usable year of either; capped at 1."""
    shares = usable(sel.rows(state, "RUS", "remittances_share_from_partner"), year)
    mts = usable(sel.rows(state, "RUS", "remittances_from_partner_mts"), year)
    totals = sel.rows(state, "ALL", "remittances_inflow")

    def mts_ratio(rows: list[dict]) -> float | None:
        for m in sorted(rows, key=lambda r: -period_mid(r["year"])):
            t = [r for r in totals if r["year"] == m["year"]]
            if t:
                sel.note("remittances_from_partner_mts", state, "RUS", m["year"])
                return min(1.0, float(m["value"]) / float(t[0]["value"]))
        return None

    same = [r for r in shares if r["year"] == str(year)]
    if same:
        sel.note("remittances_share_from_partner", state, "RUS", str(year))
        return float(np.mean([float(r["value"]) / 100 for r in same]))
    ratio = mts_ratio([r for r in mts if r["year"] == str(year)])
    if ratio is not None:
        return ratio
    near = latest(shares, year)
    if near:
        sel.note("remittances_share_from_partner", state, "RUS", near["year"])
        return float(near["value"]) / 100
    ratio = mts_ratio(mts)
    return 0.0 if ratio is None else ratio


def _china_fdi(sel: _Selector, states: tuple[str, ...], china_trade: np.ndarray) -> np.ndarray:
    """EDB stock of Chinese FDI (ODD 7.4), by the rule of `_fdi_stock`."""
    return _fdi_stock(sel, states, "CHN", china_trade)


def _fdi_stock(sel: _Selector, states: tuple[str, ...], partner: str, trade: np.ndarray) -> np.ndarray:
    """Direct-investment stock of `partner` in each state (ODD 7.4): the state's latest usable `fdi_stock` row (at
    most STALE_YEARS old); states without one share the rest of the latest usable regional (CA5) stock by their
    trade with the partner in the start year."""
    rows = [r for r in sel.ties if r["partner"] == partner and r["indicator"] == "fdi_stock"]
    out = np.zeros(len(states))
    missing = []
    for i, s in enumerate(states):
        row = latest([r for r in rows if r["state"] == s], sel.year, STALE_YEARS)
        if row:
            out[i] = float(row["value"])
            sel.note("fdi_stock", s, partner, row["year"])
        else:
            missing.append(i)
    region = latest([r for r in rows if r["state"] == "CA5"], sel.year, STALE_YEARS)
    if missing and region:
        sel.note("fdi_stock", "CA5", partner, region["year"])
        w = trade[missing]
        rest = max(0.0, float(region["value"]) - out.sum())
        if w.sum() > 0:
            out[missing] = rest * w / w.sum()
    return out


PRESENCE_FILE = "presence_weights.csv"  # weight of each coded installation (ODD 7.7): base 1, facility 0.5
PANEL_FILE = "panel/security_migration.csv"


def security_data(sel: _Selector, states: tuple[str, ...], powers: tuple[str, ...],
                  rows: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The security channel's data of the start year Y (ODD 7.5, 7.7) from the panel (`rows`: its arms_tiv and
    base_presence rows; default the shipped panel): SIPRI deliveries by supplier column (the powers, then others)
    for every data year 1992..Y, and the weighted presence of each power in Y. A presence row counts if it
    describes Y and is an acknowledged installation (basis `press`: known while it is there, whatever the date of
    the page cited) or an unacknowledged report published by Y (basis `press_report`, its `vintage`: the Chinese
    post in Tajikistan, reported in 2019, is not what a 2017 start could know). Returns arms_tiv (S, P + 1, Y'),
    arms_years (Y',), presence (S, P)."""
    if rows is None:
        rows = load_panel(("arms_tiv", "base_presence"))
    rows = rows[rows["year"] <= sel.year]
    arms = rows[rows["series"] == "arms_tiv"]
    years = np.arange(int(arms["year"].min()), int(arms["year"].max()) + 1)
    tiv = delivery_table(arms, states, powers, years)
    for s in states:
        for q in (*powers, OTHERS):
            sel.note("arms_tiv", s, q, f"{years[0]}-{years[-1]}", PANEL_FILE)
    weights = {(r["state"], r["partner"]): float(r["weight"]) for r in _read(PRESENCE_FILE)}
    presence = np.zeros((len(states), len(powers)))
    base = rows[(rows["series"] == "base_presence") & (rows["year"] == sel.year)]
    for r in base.itertuples():
        # an acknowledged installation (basis `press`) is known in every year it describes; an unacknowledged
        # press report (`press_report`) only from its publication (`vintage`)
        known = r.basis == "press" or int(str(r.vintage)[:4]) <= sel.year
        if r.state in states and r.partner in powers and known:
            if (r.state, r.partner) not in weights:
                raise ValueError(f"model/data/{PRESENCE_FILE}: no weight for the installation {r.state}-{r.partner}")
            presence[states.index(r.state), powers.index(r.partner)] = weights[(r.state, r.partner)] * r.value
            sel.note("base_presence", r.state, r.partner, str(r.year), PANEL_FILE)
    return tiv, years, presence


@lru_cache(maxsize=8)
def load_routes(year: int, states: tuple[str, ...], powers: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Transit routes usable in `year` (`routes.csv`, ODD 7.8): transit (S, P, K, S) bool, path k of (s, p)
    crosses state t; share (S, P, K), the share of the pair's trade on that path (the rest needs no transit).
    Transit states outside the scenario are ignored (the path then counts as direct)."""
    rows = [r for r in _read("routes.csv") if int(r["describes"]) <= year and r["state"] in states
            and r["partner"] in powers]
    K = max([sum(1 for r in rows if (r["state"], r["partner"]) == (s, p)) for s in states for p in powers] + [1])
    S, P = len(states), len(powers)
    transit = np.zeros((S, P, K, S), dtype=bool)
    share = np.zeros((S, P, K))
    used: dict[tuple[int, int], int] = {}
    for r in rows:
        s, p = states.index(r["state"]), powers.index(r["partner"])
        k = used.get((s, p), 0)
        used[(s, p)] = k + 1
        share[s, p, k] = float(r["share"])
        for t in r["transit"].split():
            if t in states:
                transit[s, p, k, states.index(t)] = True
    return transit, share


@lru_cache(maxsize=4)
def observed_status(year: int) -> dict[tuple[str, str], int]:
    """Observed status code (0 none, 1 partial, 2 member) by (state, format) for 2017 or 2022."""
    out = {}
    for r in _read("memberships.csv"):
        out[(r["state"], r["format"])] = STATUS_CODES[r[f"status_{year}"]]
    return out
