"""Build model/data/panel/security_migration.csv (arms transfers, remittances, migrant stocks, military presence).

Provenance only: run by hand, not part of the package. It needs three repository snapshots brought to this
machine with the `fetch` tool (read with `git show COMMIT:path`, nothing is downloaded here):

- /work/.mirror/360-info+report-arms-trade/repo (commit e00d2d3; SIPRI TIV export tables generated 28 July 2022,
  data/trademap-raw/TIV-Export-*-1950-2021.csv, unchanged since they were added in b850d1e);
- /work/.mirror/datasets+world-development-indicators/repo (commit 4ebec5a; WDI indicators BX.TRF.PWKR.CD.DT and
  NY.GDP.MKTP.CD);
- /work/.mirror/X80110+migration-visualization/repo (commit cb840bd; json/stock.json, UN DESA International Migrant
  Stock 2020 as an origin x destination matrix).

The scattered remittance figures by sending country and the dated military presence are typed in the CSV files of
inputs/ (security_migration_*.csv, with the state and partner code tables) from the stored pages named in each row.
Usage: python build_security_migration.py  (writes the CSV next to this file).
"""

import csv
import io
import json
import subprocess
from pathlib import Path

OUT = Path(__file__).with_name("security_migration.csv")
COLUMNS = ["series", "state", "partner", "year", "value", "unit", "basis", "source", "vintage", "note"]

INPUTS = Path(__file__).with_name("inputs")


def table(name: str) -> list[dict]:
    """The rows of one hand-entered input table, inputs/security_migration_<name>.csv, as dicts of strings."""
    with (INPUTS / f"security_migration_{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


STATES = {r["state"]: r["name"] for r in table("states")}

SIPRI_DIR = "/work/.mirror/360-info+report-arms-trade/repo"
SIPRI_COMMIT = "e00d2d3"
WDI_DIR = "/work/.mirror/datasets+world-development-indicators/repo"
WDI_COMMIT = "4ebec5a"
IMS_DIR = "/work/.mirror/X80110+migration-visualization/repo"
IMS_COMMIT = "cb840bd"

# The 27 current EU members: SIPRI's supplier table codes (its own three-letter codes in the file names) and the UN
# DESA names as spelled in json/stock.json; the partners with SIPRI's supplier code and the UN DESA destination name.
EU27 = table("eu27")
EU27_SIPRI = {r["sipri_code"]: r["sipri_name"] for r in EU27}
EU27_UN = [r["un_name"] for r in EU27]
PARTNERS = table("partners")
SIPRI_POWERS = {r["sipri_code"]: r["partner"] for r in PARTNERS if r["sipri_code"]}
IMS_DEST = {r["partner"]: r["un_name"] for r in PARTNERS if r["un_name"]}
# Pages cited by the scattered remittance figures and the dated military presence, by key.
SOURCES = {r["key"]: r["source"] for r in table("sources")}

def git_show(repo: str, commit: str, path: str) -> str:
    """Return the text of one file of a fetched snapshot."""
    return subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout


def git_ls(repo: str, commit: str, path: str) -> list[str]:
    """Return the file names under one folder of a fetched snapshot."""
    out = subprocess.run(
        ["git", "-C", repo, "ls-tree", "--name-only", f"{commit}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    return out.split()


def row(series, state, partner, year, value, unit, basis, source, vintage, note=""):
    """One output row as a dict."""
    return dict(zip(COLUMNS, [series, state, partner, year, value, unit, basis, source, vintage, note], strict=True))


# ---------------------------------------------------------------- SIPRI arms transfers (TIV)
def read_sipri() -> tuple[dict, dict]:
    """Return {supplier_code: {recipient: {year: int}}} for all supplier tables, and {code: supplier name}."""
    tables, names = {}, {}
    for fname in git_ls(SIPRI_DIR, SIPRI_COMMIT, "data/trademap-raw/"):
        code = fname.replace("TIV-Export-", "").replace("-1950-2021.csv", "")
        text = git_show(SIPRI_DIR, SIPRI_COMMIT, f"data/trademap-raw/{fname}")
        lines = list(csv.reader(io.StringIO(text)))
        assert "Generated: 28 July 2022" in text, fname
        names[code] = lines[0][0].replace("TIV of arms exports from ", "").replace(", 1950-2021", "")
        header = lines[10]
        years = {i: int(h) for i, h in enumerate(header) if h.isdigit()}
        recs = {}
        for line in lines[11:]:
            if not line or not line[0] or line[0] == "Total":
                continue
            recs[line[0]] = {years[i]: int(v) for i, v in enumerate(line) if i in years and v != ""}
        tables[code] = recs
    return tables, names


def summed(parts: dict, head: str, lead: str, label: dict, nobody: str) -> tuple[int, str]:
    """Sum of the cells that list a delivery, with its note: `head`, then each supplier (`label`) and cell, or the zero rule."""
    parts = {c: v for c, v in parts.items() if v is not None}
    if not parts:
        return 0, f"{head}; zero by rule: no {nobody} lists a delivery"
    return sum(parts.values()), f"{head}; {lead}" + " ".join(f"{label[c]} {v}" for c, v in sorted(parts.items()))


def sipri_rows() -> list[dict]:
    """Yearly TIV delivered to each state by RUS, CHN, USA, TUR, EU27 (member sum) and ALL suppliers, 1992-2021."""
    tables, names = read_sipri()
    src_file = "github.com/360-info/report-arms-trade (commit e00d2d3) data/trademap-raw/TIV-Export-{}-1950-2021.csv"
    src_all = "SIPRI Arms Transfers Database via " + src_file.format("*") + f" ({len(tables)} supplier tables)"
    src_eu = "SIPRI Arms Transfers Database via " + src_file.format("<27 EU members>")
    out = []
    for iso, name in STATES.items():
        for year in range(1992, 2022):
            for scode, partner in SIPRI_POWERS.items():
                cell = tables[scode].get(name, {}).get(year)
                note = "SIPRI '0': delivery below 0.5 TIV mn" if cell == 0 else ""
                if cell is None:
                    note = "zero by rule: no delivery listed in the supplier's full export table for this year"
                src = "SIPRI Arms Transfers Database via " + src_file.format(scode)
                out.append(row("arms_tiv", iso, partner, year, cell or 0, "tiv_mn", "sipri", src, "2022-07", note))
            eu = summed(
                {c: tables[c].get(name, {}).get(year) for c in EU27_SIPRI},
                "sum of the 27 current EU members' export tables (rounded cells summed)",
                "delivering: ",
                EU27_SIPRI,
                "member table",
            )
            every = summed(
                {c: tb.get(name, {}).get(year) for c, tb in tables.items()},
                "sum over all supplier tables in the snapshot (rounded cells summed)",
                "",
                names,
                "supplier table",
            )
            for partner, (value, note), src in (("EU", eu, src_eu), ("ALL", every, src_all)):
                out.append(row("arms_tiv", iso, partner, year, value, "tiv_mn", "sipri", src, "2022-07", note))
    return out


# ---------------------------------------------------------------- WDI remittances
def wdi(indicator: str) -> dict:
    """Return {(iso3, year): value} for the 11 states from one WDI indicator file."""
    text = git_show(WDI_DIR, WDI_COMMIT, f"indicators/{indicator}/data.csv")
    vals = {}
    for r in csv.DictReader(io.StringIO(text)):
        if r["Country Code"] in STATES and r["Value"]:
            vals[(r["Country Code"], int(r["Year"]))] = float(r["Value"])
    return vals


def wdi_rows() -> list[dict]:
    """Personal remittances received (US$ mn) and as % of GDP (computed with WDI GDP of the same snapshot)."""
    rem, gdp = wdi("bx.trf.pwkr.cd.dt"), wdi("ny.gdp.mktp.cd")
    src = (
        "World Bank WDI BX.TRF.PWKR.CD.DT via github.com/datasets/world-development-indicators (commit 4ebec5a) "
        "indicators/bx.trf.pwkr.cd.dt/data.csv"
    )
    src_gdp = src + " ; NY.GDP.MKTP.CD, same commit, indicators/ny.gdp.mktp.cd/data.csv"
    out = []
    for (iso, year), v in sorted(rem.items()):
        if not 1992 <= year <= 2022:
            continue
        out.append(
            row(
                "remittances_inflow",
                iso,
                "ALL",
                year,
                round(v / 1e6, 4),
                "usd_mn",
                "wdi",
                src,
                "2026-07",
                "personal remittances received (BoP: personal transfers + compensation of employees)",
            )
        )
        if (iso, year) in gdp:
            out.append(
                row(
                    "remittances_pct_gdp",
                    iso,
                    "ALL",
                    year,
                    round(100 * v / gdp[(iso, year)], 3),
                    "pct",
                    "wdi",
                    src_gdp,
                    "2026-07",
                    "computed here: BX.TRF.PWKR.CD.DT / NY.GDP.MKTP.CD x 100 (BX.TRF.PWKR.DT.GD.ZS is not in the repository)",
                )
            )
    return out


# ---------------------------------------------------------------- remittances by sending country (scattered)
# typed in inputs/security_migration_senders.csv (source = a key of SOURCES)

def sender_rows() -> list[dict]:
    """Scattered official figures on transfers from Russia, with their page."""
    return [
        row("remittances_from_partner_mts", r["state"], "RUS", int(r["year"]), r["value"], "usd_mn", r["basis"],
            SOURCES[r["source"]], r["vintage"], r["note"])
        for r in table("senders")
    ]


# ---------------------------------------------------------------- UN DESA migrant stocks
def ims_rows() -> list[dict]:
    """Migrants born in each state living in RUS, USA, TUR, KAZ, the EU27 (sum) and everywhere (ALL)."""
    d = json.loads(git_show(IMS_DIR, IMS_COMMIT, "json/stock.json"))
    names, regions = d["names"], set(d["regions"])
    ix = {n: i for i, n in enumerate(names)}
    src = (
        "UN DESA International Migrant Stock 2020 (POP/DB/MIG/Stock/Rev.2020), origin x destination matrix via "
        "github.com/X80110/migration-visualization (commit cb840bd) json/stock.json"
    )
    out = []
    for iso, name in STATES.items():
        o = ix[name]
        for year, mat in sorted(d["matrix"].items()):
            r = mat[o]
            for partner, dest in IMS_DEST.items():
                if dest == name:
                    continue
                out.append(
                    row(
                        "migrant_stock_abroad",
                        iso,
                        partner,
                        int(year),
                        r[ix[dest]],
                        "persons",
                        "un_desa",
                        src,
                        "2021-01",
                        "stock at mid-year of persons born in the state living in the partner",
                    )
                )
            out.append(
                row(
                    "migrant_stock_abroad",
                    iso,
                    "EU",
                    int(year),
                    sum(r[ix[c]] for c in EU27_UN),
                    "persons",
                    "un_desa",
                    src,
                    "2021-01",
                    "sum over the 27 current EU members as destinations",
                )
            )
            total = sum(v for j, v in enumerate(r) if j not in regions)
            out.append(
                row(
                    "migrant_stock_abroad",
                    iso,
                    "ALL",
                    int(year),
                    total,
                    "persons",
                    "un_desa",
                    src,
                    "2021-01",
                    "sum over all 232 destination countries/areas (regional aggregate columns excluded)",
                )
            )
    return out


# ---------------------------------------------------------------- dated foreign military presence
# typed in inputs/security_migration_presence.csv: state, partner, vintage (date of the newest source), first and last
# year present (last blank = still present in 2022), first year of rows, sources (keys of SOURCES), note, basis

def presence_rows() -> list[dict]:
    """Value 1 for each year present, 0 for documented years before opening or after closing, 1992-2022."""
    out = []
    for p in table("presence"):
        first, start = int(p["first_year"]), int(p["rows_from"])
        end = int(p["last_year"]) if p["last_year"] else 2022
        for year in range(start, 2023):
            present = first <= year <= end
            rule = "" if present else "0: outside the sourced presence dates; "
            out.append(
                row(
                    "base_presence",
                    p["state"],
                    p["partner"],
                    year,
                    1 if present else 0,
                    "bool",
                    p["basis"],
                    " ; ".join(SOURCES[s] for s in p["sources"].split()),
                    p["vintage"],
                    rule + p["note"],
                )
            )
    return out


def main() -> None:
    """Write the CSV."""
    rows = sipri_rows() + wdi_rows() + sender_rows() + ims_rows() + presence_rows()
    keys = [(r["series"], r["state"], r["partner"], r["year"]) for r in rows]
    assert len(keys) == len(set(keys)), "duplicate (series, state, partner, year)"
    with OUT.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    print(len(rows), "rows ->", OUT)


if __name__ == "__main__":
    main()
