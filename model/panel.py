"""The yearly data panel, 1992-2022 (model/data/panel/): one long table of sourced series for the five modelled
states and the six pooled post-Soviet states, gathered once for the influence channels and the choice rule.

Tables (each documented in its `.md` beside it, with sources, vintages, gaps and judgements):
`trade_gdp` (IMF DOTS trade by both reporters, World Bank GDP, population, exchange rates, CPI), `security_migration`
(SIPRI arms transfers, WDI remittances, UN DESA migrant stocks, dated foreign military presence) and `routes` (dated
pipelines, railways and corridors, pipeline gas flows). Every row: series, state, partner, year, value, unit, basis
(whose statistics), source, vintage (when the source was published or downloaded), note. The dated record of
alignment spells is `record.csv` beside them (read by the choices issue's estimation, not here).

Read by the energy/transport channel (`routes`, model/energy.py); the other influence channels and the choices
issue (16, 17) build on it too. `load_panel(upto=Y)` keeps only rows describing year Y or earlier, the rule a fit at
origin Y must follow.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from .files import DATA_DIR
from .yamlio import ScenarioError

PANEL_DIR = DATA_DIR / "panel"
TABLES = ("trade_gdp", "security_migration", "routes")
COLUMNS = ("series", "state", "partner", "year", "value", "unit", "basis", "source", "vintage", "note")
STATES = ("KAZ", "KGZ", "TJK", "TKM", "UZB", "ARM", "AZE", "BLR", "GEO", "MDA", "UKR")
"""The five modelled states, then the six pooled post-Soviet states."""


_folder: list[Path] = [PANEL_DIR]  # where the tables are read from (`use_panel`)


@functools.cache
def _table(name: str) -> pd.DataFrame:
    path = _folder[0] / f"{name}.csv"
    if not path.is_file():
        raise ScenarioError(path, "", f"missing: a panel folder needs the tables {', '.join(TABLES)} (.csv)")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ScenarioError(path, missing[0], f"missing column (the columns are {', '.join(COLUMNS)})")
    for col, kind in (("year", int), ("value", float)):
        conv = pd.to_numeric(df[col], errors="coerce")
        bad = conv.isna() | ((conv % 1 != 0) if kind is int else ~np.isfinite(conv))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ScenarioError(path, f"row {row + 2}: {col}", f"not {'a whole number' if kind is int else 'a number'}: "
                                f"{df[col].iloc[row]!r}")
        df[col] = conv.astype(kind)
    df.insert(0, "table", name)
    return df


def use_panel(folder: str | Path | None = None) -> Path:
    """Read the panel from `folder` (the tables of TABLES as CSV files with COLUMNS, as the package's) from now on
    in this process; None: the package's. Every table is read and checked at once: a missing table or column, or a
    year or value that is not a number, is a ScenarioError naming the file, the row and the column. Returns the
    folder in use."""
    _folder[0] = PANEL_DIR if folder is None else Path(folder)
    _table.cache_clear()
    _all.cache_clear()
    _all()
    return _folder[0]


@functools.cache
def _all() -> tuple[pd.DataFrame, frozenset[str]]:
    """Every table in one frame (read once per process) and the set of its series names."""
    df = pd.concat([_table(t) for t in TABLES], ignore_index=True)
    return df, frozenset(df["series"].unique().tolist())


def load_panel(series: str | tuple[str, ...] | None = None, upto: int | None = None) -> pd.DataFrame:
    """The panel's rows (all tables, or the named series), with a `table` column; `upto=Y` keeps the rows that
    describe year Y or earlier. A copy: the caller may change it."""
    df, known = _all()
    keep = np.ones(len(df), dtype=bool)
    if series is not None:
        wanted = (series,) if isinstance(series, str) else tuple(series)
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise KeyError(f"no panel series {unknown}; known: {sorted(known)}")
        keep &= df["series"].isin(wanted).to_numpy()
    if upto is not None:
        keep &= df["year"].to_numpy() <= upto
    return df[keep].reset_index(drop=True)
