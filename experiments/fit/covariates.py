"""The model's inputs for any panel state and year, from the yearly panel alone (issue 17 item 2; docs/ODD.md 7.10).

`load_fundamentals` serves the two start years (2017, 2022) and the five modelled states from `model/data/*.csv`.
The estimation of the choice rule needs the same inputs for the 11 panel states (the five and the pooled ARM, AZE,
BLR, GEO, MDA, UKR) in every year 1995-2022, each built only from rows describing that year or earlier
(`load_panel(upto=Y)`: docs/validation/PROTOCOL.md section 3). `panel_inputs(Y, states, powers)` fills every field of
`Fundamentals` by these rules (S states, P powers):

- gdp_usd_bn, population_m (S,): the panel's World Bank rows of Y (`gdp_current_usd` / 1e9, `population` / 1e6).
- turnover_usd_bn (S, P): IMF DOTS, each flow on the chosen basis: 'state' = the state's own `exports_fob` +
  `imports_cif`; 'partner' = the partner's records of the same flows (`partner_imports_cif` + `partner_exports_fob`).
  ('exporters': each side's FOB exports, the construction of trade.csv's DOTS rows; not a scenario switch).
  Per flow, a missing cell takes the other side's record of Y (ODD 7.2); with neither, the latest earlier year
  y >= Y - STALE_YEARS that has one, times the state's GDP ratio GDP_Y / GDP_y (ODD 7.2's rule for a missing cell).
  DOTS ends in 2020, so 2021 and 2022 are the 2020 flows x GDP_Y / GDP_2020. EU = the EU27 sum (the panel's rows).
- gdp_growth_per_year (S,), partner_growth_per_year (P,): realised compound growth of US$ GDP over the 3 years to Y,
  (GDP_Y / GDP_{Y-3})^(1/3) - 1 (from 1992 when Y - 3 is earlier). No WEO vintage exists for the panel years: a fit
  at origin Y sees realised growth up to Y only, never a forecast (the model's starts use the WEO forecast, ODD 7.1).
- arms_tiv, arms_years, military_presence: `fundamentals.security_data` (ODD 7.5, 7.7) on the panel rows <= Y, the
  model's own rule: an acknowledged installation (basis `press`) is known in every year it describes, the
  unacknowledged Chinese post (basis `press_report`) only from its publication.
- remittances_pct_gdp (S, P): 100 x M0 / (1000 x GDP), M0 = `migration.start_remittances(Y)` (ODD 7.3), the
  amounts the model starts from (`PanelInputs.remittances0`). The model itself reads M0, not this field.
- export_routes (S, P + 1, K): `energy.load_export_routes(Y)` (ODD 7.6) for the five modelled states; 0 for the pooled
  states in every year (rule: the panel codes their routes only in part, AZE's BTC without a figure, the South
  Caucasus gas pipeline not at all, TANAP from 2018; counting AZE's gas from 2018 would move its share by a change
  of coding, not of routes), so their route share is 0, as for Kyrgyzstan and Tajikistan.
- debt_usd_bn, fdi_stock_usd_bn, fdi_gross_inflow_cumulative_usd_bn (S, P): 0 (`MISSING`): the panel has no FDI or
  external debt by investor. The estimation must treat the investment term as missing, not as a zero exposure.

`Fundamentals.provenance` lists every panel row read, with the year it describes (a period 'y0-y1' for the arms
series and the growth windows); none describes a year after Y (tests/test_covariates.py). `covariate_table` is the
long, readable view of the exposures the choice rule reads (ODD 4.2a).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.model.energy import COMMODITIES, common_units, conversion_factors, load_export_routes, route_share
from greatgame.model.files import BASELINE
from greatgame.model.fundamentals import KNOWN_STATES, STALE_YEARS, Fundamentals, security_data
from greatgame.model.migration import RemittanceStart, start_remittances
from greatgame.model.panel import STATES, load_panel
from greatgame.model.scenario import Scenario, load_scenario
from greatgame.model.security import arms_share, start_stock

POWERS = ("RUS", "CHN", "USA", "EU", "TUR")
TRADE_FILE = "panel/trade_gdp.csv"
FLOWS = {"exports": ("exports_fob", "partner_imports_cif"), "imports": ("imports_cif", "partner_exports_fob")}
"""Each flow's record by the state (first) and by the partner (second)."""
FIRST_SIDE = {"state": {"exports": "state", "imports": "state"},
              "partner": {"exports": "partner", "imports": "partner"},
              "exporters": {"exports": "state", "imports": "partner"}}
"""Whose record of each flow a trade basis reads first (the other side fills a missing cell)."""
PANEL_BASES = tuple(FIRST_SIDE)
"""'state' and 'partner' as in the scenario switch (ODD 7.2); 'exporters' = each side's FOB exports (the state's
exports_fob + the partner's exports_fob), the DOTS construction of model/data/trade.csv's 2017 rows."""
GROWTH_YEARS = 3  # realised growth window, years
FIRST_YEAR = 1992  # the panel's first year
MISSING = ("debt_usd_bn", "fdi_stock_usd_bn", "fdi_gross_inflow_cumulative_usd_bn")
"""Fields the panel cannot fill (no FDI or debt by investor): 0 in every cell, to be treated as missing."""
RULES = {
    "gdp_growth_per_year": "realised growth over the 3 years to Y, not a forecast (no WEO vintage for panel years)",
    "partner_growth_per_year": "realised growth over the 3 years to Y, not a forecast",
    "turnover_usd_bn": "2021-2022: DOTS 2020 flows x the state's GDP ratio (DOTS ends in 2020)",
    "export_routes": "pooled states (ARM AZE BLR GEO MDA UKR): 0 in every year (routes not coded)",
    "military_presence": "acknowledged installations known in every year they describe; press reports by vintage",
}
"""Fields filled by a documented rule rather than by a same-year observation (ODD 7.10)."""


@dataclass(frozen=True)
class PanelInputs:
    """The inputs of one year: `fundamentals` (every field filled), the start remittances by host the model reads
    (`remittances0`, US$ mn/yr), the fields that are zero for lack of data (`missing`), the fields filled by a rule
    (`rules`), and the open export routes without a usable figure (`route_gaps`)."""

    fundamentals: Fundamentals
    remittances0: RemittanceStart
    missing: tuple[str, ...]
    rules: dict[str, str]
    route_gaps: tuple[str, ...]


class _Notes:
    """The selector interface `security_data` uses: the year and a provenance list."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.provenance: list[tuple[str, str, str, str, str]] = []

    def note(self, quantity: str, state: str, partner: str, period: str, file: str = TRADE_FILE) -> None:
        self.provenance.append((quantity, state, partner, str(period), file))


def _country_series(df: pd.DataFrame, series: str) -> dict[tuple[str, int], float]:
    rows = df[df["series"] == series]
    return dict(zip(zip(rows["state"], rows["year"].astype(int), strict=True), rows["value"], strict=True))


def _level(values: dict[tuple[str, int], float], code: str, year: int, series: str) -> float:
    if (code, year) not in values:
        raise ValueError(f"model/data/{TRADE_FILE}: no {series} row for {code} in {year}")
    return values[(code, year)]


def _growth(gdp: dict[tuple[str, int], float], codes: tuple[str, ...], year: int,
            notes: _Notes) -> np.ndarray:
    """Realised compound growth (GDP_Y / GDP_{Y-n})^(1/n) - 1, n = GROWTH_YEARS (fewer when Y - n < 1992)."""
    start = max(FIRST_YEAR, year - GROWTH_YEARS)
    if start >= year:
        raise ValueError(f"model/data/{TRADE_FILE}: no GDP before {year} to compute realised growth")
    out = np.zeros(len(codes))
    for i, c in enumerate(codes):
        ratio = _level(gdp, c, year, "gdp_current_usd") / _level(gdp, c, start, "gdp_current_usd")
        out[i] = ratio ** (1.0 / (year - start)) - 1.0
        notes.note("gdp_growth_realised", c, "", f"{start}-{year}")
    return out


def _turnover(df: pd.DataFrame, gdp: dict[tuple[str, int], float], year: int, states: tuple[str, ...],
              powers: tuple[str, ...], basis: str, notes: _Notes) -> np.ndarray:
    """Turnover (S, P), US$ bn: per flow the chosen side's record of Y, else the other side's, else the latest
    earlier year (at most STALE_YEARS back) x GDP_Y / GDP_y; a flow with no record in that window counts 0."""
    trade = df[df["series"].isin([s for pair in FLOWS.values() for s in pair]) & (df["year"] >= year - STALE_YEARS)]
    cells = dict(zip(zip(trade["series"], trade["state"], trade["partner"], trade["year"].astype(int), strict=True),
                     trade["value"], strict=True))
    out = np.zeros((len(states), len(powers)))
    for i, s in enumerate(states):
        for j, p in enumerate(powers):
            for flow, (own, mirror) in FLOWS.items():
                order = (own, mirror) if FIRST_SIDE[basis][flow] == "state" else (mirror, own)
                for y in range(year, year - STALE_YEARS - 1, -1):
                    series = next((x for x in order if (x, s, p, y) in cells), None)
                    if series is None:
                        continue
                    scale = 1.0
                    if y < year:
                        scale = _level(gdp, s, year, "gdp_current_usd") / _level(gdp, s, y, "gdp_current_usd")
                        notes.note("gdp_current_usd", s, "", str(y))
                    out[i, j] += cells[(series, s, p, y)] * scale / 1000.0
                    notes.note(series, s, p, str(y))
                    break
    return out


@lru_cache(maxsize=64)
def panel_inputs(year: int, states: tuple[str, ...], powers: tuple[str, ...], trade_basis: str = "state") -> PanelInputs:
    """Every input of `Fundamentals` for `year`, any panel states and powers, from the panel rows <= `year` by the
    rules of the module docstring (ODD 7.10)."""
    if trade_basis not in PANEL_BASES:
        raise ValueError(f"trade basis '{trade_basis}': use one of {', '.join(PANEL_BASES)}")
    unknown = sorted(set(states) - set(STATES))
    if unknown:
        raise ValueError(f"states {unknown} are not in the panel: use codes of {', '.join(STATES)}")
    notes = _Notes(year)
    df = load_panel(upto=year)
    gdp_all = _country_series(df, "gdp_current_usd")
    pop_all = _country_series(df, "population")
    gdp = np.array([_level(gdp_all, s, year, "gdp_current_usd") for s in states]) / 1e9
    pop = np.array([_level(pop_all, s, year, "population") for s in states]) / 1e6
    for s in states:
        notes.note("gdp_current_usd", s, "", str(year))
        notes.note("population", s, "", str(year))
    growth = _growth(gdp_all, states, year, notes)
    partner_growth = _growth(gdp_all, powers, year, notes)
    turnover = _turnover(df, gdp_all, year, states, powers, trade_basis, notes)

    tiv, arms_years, presence = security_data(notes, states, powers,  # type: ignore[arg-type]
                                              df[df["series"].isin(("arms_tiv", "base_presence"))])
    remit = start_remittances(year, states, powers)
    notes.provenance.extend(remit.provenance)
    remit_pct = remit.m0 / (10.0 * gdp[:, None])  # US$ mn over US$ bn x 1000, in per cent

    routes = np.zeros((len(states), len(powers) + 1, len(COMMODITIES)))
    modelled = tuple(s for s in states if s in KNOWN_STATES)
    gaps: tuple[str, ...] = ()
    if modelled:
        table = load_export_routes(year, modelled, powers)
        routes[[states.index(s) for s in modelled]] = table.quantity
        notes.provenance.extend(table.provenance)
        gaps = table.gaps

    zeros = np.zeros((len(states), len(powers)))
    fund = Fundamentals(year, states, powers, gdp, pop, growth, partner_growth, turnover, remit_pct, zeros.copy(),
                        zeros.copy(), zeros.copy(), tiv, arms_years, presence, routes, tuple(notes.provenance))
    return PanelInputs(fund, remit, MISSING, dict(RULES), gaps)


def panel_fundamentals(year: int, states: tuple[str, ...], powers: tuple[str, ...],
                       trade_basis: str = "state") -> Fundamentals:
    """The `Fundamentals` of `year` for any panel states and powers, from the panel alone (`panel_inputs`); the
    fields in `MISSING` are 0 for lack of data (investment by investor)."""
    return panel_inputs(year, tuple(states), tuple(powers), trade_basis).fundamentals


COVARIATES = {
    "gdp_usd_bn": "GDP, current US$ bn (per state-year; partner empty)",
    "trade_gdp": "goods turnover with the power / GDP",
    "arms_share": "the power's share of the state's arms-delivery stock (eq. 4.4c, delta of the scenario)",
    "presence": "weighted military presence (1 base, 0.5 facility)",
    "remittances_gdp": "remittances from the power / GDP (eq. 4.4f, start amounts M0)",
    "route_share": "the power's share of the state's exports carried by coded export routes (eq. 4.4e)",
}
"""The covariates of `covariate_table` (ODD 4.2a), with their meaning."""


def covariate_table(years: Iterable[int], states: tuple[str, ...], powers: tuple[str, ...],
                    trade_basis: str = "state", scenario: Scenario | str | Path = BASELINE) -> pd.DataFrame:
    """Long table (columns state, year, partner, covariate, value) of the exposures the choice rule reads (ODD 4.2a):
    per state, year and power trade/GDP, arms share, presence, remittances/GDP and route share; per state-year GDP.
    The arms decay and the energy conversion factors are the scenario's values (default the baseline: a fit at an
    earlier origin passes a scenario with the delta estimated on its own vintage, experiments/fit/arms_stock.py)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    delta = np.array([float(sc.p["security"]["arms_depreciation_per_year"])])
    factors = conversion_factors(np.array([float(sc.p["energy_routes"]["gas_mtoe_per_bcm"])]),
                                 np.array([float(sc.p["energy_routes"]["rail_mtoe_per_mt"])]))
    states, powers = tuple(states), tuple(powers)
    frames = []
    for year in years:
        inputs = panel_inputs(int(year), states, powers, trade_basis)
        f = inputs.fundamentals
        per_power = {
            "trade_gdp": f.turnover_usd_bn / f.gdp_usd_bn[:, None],
            "arms_share": arms_share(start_stock(f.arms_tiv, delta))[0],
            "presence": f.military_presence,
            "remittances_gdp": inputs.remittances0.m0 / (1000.0 * f.gdp_usd_bn[:, None]),
            "route_share": route_share(common_units(f.export_routes, factors), len(powers))[0],
        }
        frames.append(pd.DataFrame({"state": states, "year": int(year), "partner": "", "covariate": "gdp_usd_bn",
                                    "value": f.gdp_usd_bn}))
        for name, values in per_power.items():
            frames.append(pd.DataFrame({"state": np.repeat(states, len(powers)), "year": int(year),
                                        "partner": np.tile(powers, len(states)), "covariate": name,
                                        "value": values.ravel()}))
    return pd.concat(frames, ignore_index=True)
