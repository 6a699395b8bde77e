"""Build ``model/data/panel/trade_gdp.csv`` (bilateral goods trade, GDP, population, exchange rate, CPI inflation).

Provenance script, run by hand only; it is not imported by the model.

Needs:
- local git snapshots (made with the search tool's ``fetch``) of the public repositories
  ``SamLeBlanc/Direction-of-Trade-Map`` (IMF DOTS xlsx files, commit a0b40af), ``datasets/gdp`` (commit 822019c),
  ``datasets/population`` (commit 425fc44) and ``datasets/world-development-indicators`` (commit 4ebec5a), under
  ``/work/.mirror/<owner>+<name>/repo`` (override with the environment variable ``PANEL_MIRROR``);
- ``pandas`` and ``openpyxl``;
- the hand-entered tables ``inputs/trade_gdp_dots_codes.csv`` (DOTS codes) and ``inputs/trade_gdp_wdi_series.csv``
  (World Bank series: file, source, vintage) next to this script.

Run: ``python model/data/panel/build_trade_gdp.py`` from the repository root; it rewrites the CSV and prints the
gap list and row counts used in ``trade_gdp.md``.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd

MIRROR = Path(os.environ.get("PANEL_MIRROR", "/work/.mirror"))
OUT = Path(__file__).with_name("trade_gdp.csv")
YEARS_TRADE = range(1992, 2021)
YEARS_WDI = range(1992, 2023)

DOTS_REPO, DOTS_COMMIT = "SamLeBlanc+Direction-of-Trade-Map", "a0b40afbac7cefc59a4b35c1ebe541ac546aafad"
DOTS_SRC = "IMF DOTS via github.com/SamLeBlanc/Direction-of-Trade-Map@a0b40af"
DOTS_VINTAGE = "2022-02"
WDI_REPO, WDI_COMMIT = "datasets+world-development-indicators", "4ebec5a2273f531ba238a34dbe440394dc5a6c4b"

# DOTS file number and the label DOTS uses for the country (as reporter title and as partner row), by group: the
# states, the powers, the 27 current EU members and their predecessors; Belgium-Luxembourg (file 20, reports
# 1992-1996) and Czechoslovakia (file 54, reports 1992) cover member territory before the split series start.
with Path(__file__).with_name("inputs").joinpath("trade_gdp_dots_codes.csv").open(newline="", encoding="utf-8") as _fh:
    DOTS_CODES = list(csv.DictReader(_fh))


def dots_group(group: str) -> dict[str, tuple[int, str]]:
    """Code -> (DOTS file number, DOTS label) for one group of inputs/trade_gdp_dots_codes.csv, in file order."""
    return {r["code"]: (int(r["dots_file"]), r["dots_label"]) for r in DOTS_CODES if r["group"] == group}


STATES = dots_group("state")
POWERS = dots_group("power")
EU_MEMBERS = dots_group("eu_member")
EU_PREDECESSORS = dots_group("eu_predecessor")
SHEETS = {"Exports, FOB": "exports_fob", "Imports, CIF": "imports_cif"}
FSU_LABELS = {v[1] for v in STATES.values()} | {"Russian Federation", "Estonia, Rep. of", "Latvia", "Lithuania"}

COLUMNS = ["series", "state", "partner", "year", "value", "unit", "basis", "source", "vintage", "note"]


def git_show(repo: str, commit: str, path: str) -> bytes:
    """Return the bytes of ``path`` at ``commit`` in the mirrored repository ``repo``."""
    return subprocess.run(
        ["git", "-C", str(MIRROR / repo / "repo"), "show", f"{commit}:{path}"], check=True, capture_output=True
    ).stdout


def fmt(value: float, places: int = 4) -> str:
    """Format a number with at most ``places`` decimals and no trailing zeros."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def read_dots(number: int) -> dict:
    """Return {(sheet, partner, year): (value, is_estimate, raw)} and the reporter title of DOTS file ``number``."""
    data = git_show(DOTS_REPO, DOTS_COMMIT, f"data/DOTS/DOTS_{number}.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells, title = {}, None
    for sheet in SHEETS:
        rows = list(book[sheet].iter_rows(values_only=True))
        title = rows[3][1]
        years = [(j, int(h)) for j, h in enumerate(rows[6]) if h is not None]
        for row in rows[7:]:
            if row[1] is None:
                continue
            for j, year in years:
                raw = row[j]
                if raw is None or year not in YEARS_TRADE:
                    continue
                text = str(raw).strip()
                est = text.endswith("e")
                value = float(text.rstrip("e").strip().replace(",", "")) if isinstance(raw, str) else float(raw)
                cells[(sheet, row[1], year)] = (value, est, text)
    return {"title": title, "cells": cells}


def dots_source(files: list[int], sheet: str, what: str) -> str:
    """Describe where a DOTS value was read."""
    names = ",".join(str(n) for n in sorted(files))
    return f"{DOTS_SRC} data/DOTS/DOTS_{names}.xlsx sheet '{sheet}' {what}"


def ussr_note(book: dict, sheet: str, year: int) -> str:
    """Say how much the reporter still booked under the partner 'USSR' in this year (unallocated to successors)."""
    cell = book["cells"].get((sheet, "USSR", year))
    if cell and cell[0] > 0:
        return (
            f"reporter also books US$ {fmt(cell[0], 1)} mn under partner 'USSR' this year"
            " (not allocated to successor states): lower bound"
        )
    return ""


def state_rows(books: dict) -> list[dict]:
    """Rows of the 11 states' own reports: exports/imports with RUS, CHN, USA, TUR, EU27 (member sum), World."""
    out = []
    targets = {**{k: v[1] for k, v in POWERS.items()}, "ALL": "World"}
    for iso, (number, _label) in STATES.items():
        book = books[number]
        cells = book["cells"]
        for sheet, series in SHEETS.items():
            for year in YEARS_TRADE:
                has_rus = (sheet, "Russian Federation", year) in cells
                fsu_rows = sum(1 for lab in FSU_LABELS if (sheet, lab, year) in cells)
                for partner, label in targets.items():
                    cell = cells.get((sheet, label, year))
                    if cell is None:
                        continue
                    notes = []
                    if cell[1]:
                        notes.append(f"estimate (DOTS cell '{cell[2]}')")
                    if partner == "ALL" and not has_rus:
                        notes.append(
                            f"no Russia partner row this year, so the World total leaves out at least the trade"
                            f" with Russia ({fsu_rows} other former-USSR partner rows present)"
                        )
                    out.append(
                        row(
                            series,
                            iso,
                            partner,
                            year,
                            cell[0],
                            "state",
                            dots_source([number], sheet, f"row '{label}'"),
                            "; ".join(notes),
                        )
                    )
                eu = eu_partner_sum(cells, sheet, year)
                if eu:
                    out.append(
                        row(
                            series,
                            iso,
                            "EU",
                            year,
                            eu[0],
                            "state",
                            dots_source([number], sheet, "rows of the 27 EU members"),
                            eu[1],
                        )
                    )
    return out


def eu_partner_sum(cells: dict, sheet: str, year: int) -> tuple[float, str] | None:
    """Sum the partner rows of the 27 members (with Belgium-Luxembourg and Czechoslovakia where present)."""
    labels = [v[1] for v in EU_MEMBERS.values()] + [v[1] for v in EU_PREDECESSORS.values()]
    found = {lab: cells[(sheet, lab, year)] for lab in labels if (sheet, lab, year) in cells}
    if not found:
        return None
    total = sum(c[0] for c in found.values())
    notes = [f"EU27 = sum of {len(found)} member partner rows present"]
    for lab in ("Belgium-Luxembourg", "Czechoslovakia"):
        if lab in found:
            notes.append(f"includes '{lab}' row {fmt(found[lab][0])}")
    ests = [lab for lab, c in found.items() if c[1]]
    if ests:
        est_sum = sum(found[lab][0] for lab in ests)
        notes.append(f"estimate: {len(ests)} of the summed cells are DOTS estimates (US$ {fmt(est_sum, 2)} mn)")
    if "Czechoslovakia" in found:
        notes.append("the DOTS 'European Union' row leaves the Czechoslovakia row out")
    return total, "; ".join(notes)


def partner_rows(books: dict) -> list[dict]:
    """Mirror rows: RUS, CHN, USA, TUR and EU27 (member-reporter sum) reports of trade with the 11 states."""
    out = []
    mirror = {"exports_fob": "partner_exports_fob", "imports_cif": "partner_imports_cif"}
    for power, (number, _label) in POWERS.items():
        book = books[number]
        for iso, (_n, label) in STATES.items():
            for sheet, series in SHEETS.items():
                for year in YEARS_TRADE:
                    cell = book["cells"].get((sheet, label, year))
                    if cell is None:
                        continue
                    notes = [f"estimate (DOTS cell '{cell[2]}')"] if cell[1] else []
                    un = ussr_note(book, sheet, year)
                    if un:
                        notes.append(un)
                    out.append(
                        row(
                            mirror[series],
                            iso,
                            power,
                            year,
                            cell[0],
                            "partner",
                            dots_source([number], sheet, f"reporter {power}, row '{label}'"),
                            "; ".join(notes),
                        )
                    )
    reporters = {**EU_MEMBERS, **EU_PREDECESSORS}
    for iso, (_n, label) in STATES.items():
        for sheet, series in SHEETS.items():
            for year in YEARS_TRADE:
                found, ussr, ests = {}, 0.0, []
                for code, (number, _t) in reporters.items():
                    cells = books[number]["cells"]
                    if (sheet, label, year) in cells:
                        found[code] = cells[(sheet, label, year)]
                        if found[code][1]:
                            ests.append(code)
                    if (sheet, "USSR", year) in cells:
                        ussr += cells[(sheet, "USSR", year)][0]
                if not found:
                    continue
                total = sum(c[0] for c in found.values())
                notes = [f"EU27 = sum of {len(found)} member reporters with a value ({','.join(sorted(found))})"]
                if ests:
                    notes.append(f"estimate: {len(ests)} summed cells are DOTS estimates ({','.join(ests)})")
                if ussr > 0:
                    notes.append(
                        f"members also book US$ {fmt(ussr, 1)} mn under partner 'USSR' this year"
                        " (not allocated to successor states): lower bound"
                    )
                if year == 1992:
                    notes.append("Croatia and Slovenia do not report for 1992")
                files = [reporters[c][0] for c in found]
                out.append(
                    row(
                        mirror[series],
                        iso,
                        "EU",
                        year,
                        total,
                        "partner",
                        dots_source(files, sheet, f"member reporters, row '{label}'"),
                        "; ".join(notes),
                    )
                )
    return out


def flag_mirror_derived(own: list[dict], mirror: list[dict]) -> list[dict]:
    """Flag state-basis values equal to the partner's mirror record scaled by a CIF/FOB factor (1.10 or 1.06).

    DOTS fills a country's missing own report from its partners' records; such a value is the partner's figure divided
    (exports) or multiplied (imports) by a fixed CIF/FOB factor, so the ratio to the mirror is exactly that factor.
    """
    lookup = {(r["series"], r["state"], r["partner"], r["year"]): float(r["value"]) for r in mirror}
    pair = {"exports_fob": "partner_imports_cif", "imports_cif": "partner_exports_fob"}
    for r in own:
        other = lookup.get((pair[r["series"]], r["state"], r["partner"], r["year"]))
        value = float(r["value"])
        if other is None or value <= 0 or other <= 0:
            continue
        for factor in (1.10, 1.06):
            # the state's value is printed to 2 decimals at worst (text estimates), so allow that rounding times the factor
            gap = other - value * factor if r["series"] == "exports_fob" else value - other * factor
            if abs(gap) <= 0.006 + 1e-6 * max(value, other):
                op = "/" if r["series"] == "exports_fob" else "x"
                flag = (
                    f"derived by IMF from the partner's record (= partner-reported value {op} {factor:.2f} CIF/FOB factor):"
                    " not the state's own report"
                )
                r["note"] = "; ".join(x for x in (r["note"], flag) if x)
                r["mirror_derived"] = True
    return own + mirror


def row(series, state, partner, year, value, basis, source, note, unit="usd_mn", vintage=DOTS_VINTAGE, places=4):
    """Make one output row."""
    return {
        "series": series,
        "state": state,
        "partner": partner,
        "year": year,
        "value": fmt(value, places),
        "unit": unit,
        "basis": basis,
        "source": source,
        "vintage": vintage,
        "note": note,
    }


def wdi_rows(
    frame: pd.DataFrame,
    codes: list[str],
    series: str,
    unit: str,
    source: str,
    vintage: str,
    places: int,
    eu_sum: bool,
    note: str = "",
) -> list[dict]:
    """Rows of one World Bank series for ``codes`` (plus an EU27 member sum if ``eu_sum``)."""
    out = []
    frame = frame[frame["Year"].isin(YEARS_WDI)]
    for code in codes:
        for _, r in frame[frame["Country Code"] == code].sort_values("Year").iterrows():
            out.append(row(series, code, "", int(r["Year"]), r["Value"], "wdi", source, note, unit, vintage, places))
    if eu_sum:
        members = frame[frame["Country Code"].isin(EU_MEMBERS)]
        euu = frame[frame["Country Code"] == "EUU"].set_index("Year")["Value"]
        for year, grp in members.groupby("Year"):
            missing = sorted(set(EU_MEMBERS) - set(grp["Country Code"]))
            notes = [f"EU27 = sum of {len(grp)} member values"]
            if missing:
                notes.append(
                    f"incomplete: no value for {','.join(missing)} (World Bank 'European Union' EUU aggregate,"
                    f" which imputes them: {fmt(euu.get(year, float('nan')), 0)})"
                )
            out.append(
                row(series, "EU", "", int(year), grp["Value"].sum(), "wdi", source, "; ".join(notes), unit, vintage, places)
            )
    return out


def main() -> None:
    """Build the CSV."""
    numbers = {v[0] for d in (STATES, POWERS, EU_MEMBERS, EU_PREDECESSORS) for v in d.values()}
    books = {n: read_dots(n) for n in sorted(numbers)}
    for d in (STATES, POWERS, EU_MEMBERS, EU_PREDECESSORS):
        for code, (n, label) in d.items():
            assert books[n]["title"] == label, (code, n, books[n]["title"])
    rows = flag_mirror_derived(state_rows(books), partner_rows(books))

    groups = {"states": list(STATES), "powers": list(POWERS)}
    with Path(__file__).with_name("inputs").joinpath("trade_gdp_wdi_series.csv").open(newline="", encoding="utf-8") as fh:
        for s in csv.DictReader(fh):
            frame = pd.read_csv(io.BytesIO(git_show(s["repo"], s["commit"], s["path"])))
            codes = [c for g in s["codes"].split() for c in groups[g]]
            rows += wdi_rows(
                frame, codes, s["series"], s["unit"], s["source"], s["vintage"], int(s["places"]), s["eu_sum"] == "yes", s["note"]
            )
    newer = pd.read_csv(io.BytesIO(git_show(WDI_REPO, WDI_COMMIT, "indicators/ny.gdp.mktp.cd/data.csv")))
    newer = newer.set_index(["Country Code", "Year"])["Value"]
    for r in rows:
        if r["series"] == "gdp_current_usd" and (r["state"], r["year"]) in newer.index:
            later = newer[(r["state"], r["year"])]
            if abs(float(r["value"]) / later - 1) > 0.01:
                r["note"] = "; ".join(
                    x
                    for x in (
                        r["note"],
                        f"revised: the later WDI snapshot (datasets/world-development-"
                        f"indicators@4ebec5a, Jul 2026) gives {fmt(later, 0)}",
                    )
                    if x
                )

    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    report(rows)


def report(rows: list[dict]) -> None:
    """Print row counts by series and the trade/WDI gaps (state x partner x basis x series: missing years)."""
    frame = pd.DataFrame(rows)
    print(frame.groupby(["series", "basis"]).size().to_string())
    derived = frame[frame.get("mirror_derived", pd.Series(False, index=frame.index)).fillna(False).astype(bool)]
    for (state, partner), grp in derived.groupby(["state", "partner"]):
        print("MIRROR-DERIVED", state, partner, compress(sorted(set(grp["year"]))), len(grp))
    for (series, state, partner, basis), grp in frame.groupby(["series", "state", "partner", "basis"]):
        years = range(1992, 2021) if basis in ("state", "partner") else YEARS_WDI
        missing = sorted(set(years) - set(grp["year"]))
        if missing:
            print("GAP", series, state, partner or "-", basis, compress(missing))
    powers, states = list(POWERS), list(STATES)
    expected = {
        "exports_fob": (states, powers + ["EU", "ALL"]),
        "imports_cif": (states, powers + ["EU", "ALL"]),
        "partner_exports_fob": (states, powers + ["EU"]),
        "partner_imports_cif": (states, powers + ["EU"]),
        "gdp_current_usd": (states + powers + ["EU"], [""]),
        "population": (states + powers + ["EU"], [""]),
        "exchange_rate_lcu_per_usd": (states, [""]),
        "cpi_inflation": (states + powers, [""]),
    }
    for series, (want_s, want_p) in expected.items():
        have = frame[frame["series"] == series]
        pairs = set(zip(have["state"], have["partner"], strict=True))
        for s in want_s:
            for p in want_p:
                if (s, p) not in pairs:
                    print("GAP", series, s, p or "-", "no value in any year")


def compress(years: list[int]) -> str:
    """Write a list of years as ranges."""
    parts, start, prev = [], years[0], years[0]
    for y in years[1:] + [None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if y is not None:
            start = prev = y
    return ",".join(parts)


if __name__ == "__main__":
    main()
