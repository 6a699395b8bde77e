"""Build model/data/panel/routes.csv (export routes, dated projects, capacities, pipeline gas flows).

Provenance script, run by hand only: `python build_routes.py` from this folder.
Needs: pandas and openpyxl; the git mirrors listed in BP_FILES under /work/.mirror/ (fetched with the
session's `fetch` tool); network is not used. Two parts:
1. gas_exports_pipeline: BP / Energy Institute Statistical Review workbooks, sheet "Natural Gas: Trade movements
   <year> by pipeline" (one year per workbook), exporters KAZ, TKM, UZB, AZE, partners CHN, RUS, TUR, EU, OTHER, ALL.
2. dated projects (route_open_*, route_agreement_*, pipeline_capacity_*, rail_capacity_*, *_throughput_*,
   corridor_teu_*): typed from the stored pages cited in each row into the CSV files inputs/routes_*.csv.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent / "routes.csv"
MIRROR = Path("/work/.mirror")
YEARS = range(1992, 2023)
DATED_FACT = "dated_fact"  # vintage of an opening or agreement flag: a dated event, not a revisable statistic
COLS = ["series", "state", "partner", "year", "value", "unit", "basis", "source", "vintage", "note"]

INPUTS = Path(__file__).resolve().parent / "inputs"


def table(name: str) -> list[dict]:
    """The rows of one hand-entered input table, inputs/routes_<name>.csv, as dicts of strings."""
    with (INPUTS / f"routes_{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# data year -> (repo, commit, path, sheet, vintage, edition)
BP_FILES = {int(r["data_year"]): (r["repo"], r["commit"], r["path"], r["sheet"], r["vintage"], r["edition"])
            for r in table("bp_files")}
LABELS = table("bp_labels")
EXPORTERS = {r["label"]: r["state"] for r in LABELS if r["role"] == "exporter"}
EU27_ROWS = {r["label"] for r in LABELS if r["role"] == "eu27"}
MIXED_EUROPE = {r["label"] for r in LABELS if r["role"] == "mixed_europe"}  # EU and non-EU mixed (2013-2016 editions)

def read_sheet(repo: str, commit: str, path: str, sheet: str) -> pd.DataFrame:
    """One sheet of a workbook stored in a fetched repository (git show of the blob), without a header row."""
    gitdir = MIRROR / repo.replace("/", "+") / "repo"
    blob = subprocess.run(["git", "-C", str(gitdir), "show", f"{commit}:{path}"], capture_output=True, check=True).stdout
    return pd.read_excel(io.BytesIO(blob), sheet_name=sheet, header=None)


def num(v) -> float:
    """A matrix cell as a number: blanks, dashes and the less-than-0.05 dagger count as zero."""
    if isinstance(v, (int, float)) and v == v:
        return float(v)
    return 0.0  # '†' (less than 0.05), blanks and '-' count as zero in the matrix


def gas_rows() -> list[dict]:
    """Pipeline gas exports by exporter and destination from each stored Statistical Review edition."""
    rows = []
    for year, (repo, commit, path, sheet, vintage, edition) in BP_FILES.items():
        df = read_sheet(repo, commit, path, sheet)
        header = [str(h).strip() for h in df.iloc[2].tolist()]
        labels = {}
        for j, h in enumerate(header):
            labels[j] = h
        fix = ""
        if year == 2014:
            # stored copy: the exporter header row lacks one label, so from column 10 on every label sits one column
            # to the left of its data; column 10 holds Azerbaijan (sum check against the 'Gas - Trade 2013-2014' sheet
            # of the 2015 edition: 7.73 + 11.44 + 41.57 + 8.52 = 69.26 = 'Other Former Soviet Union' pipeline exports)
            labels = {j: (header[j - 1] if j >= 11 else h) for j, h in enumerate(header)}
            labels[10] = "Azerbaijan"
            fix = "; header of the stored 2014 sheet is shifted by one column from column 10: realigned (see doc)"
        importers = {str(df.iloc[i, 0]).strip(): i for i in range(3, len(df))}
        for j, lab in labels.items():
            if lab not in EXPORTERS:
                continue
            st = EXPORTERS[lab]
            col = {imp: num(df.iloc[i, j]) for imp, i in importers.items()}
            src = f"{edition}, sheet '{sheet}', github.com/{repo} commit {commit[:7]} file {path}"
            base = dict(series="gas_exports_pipeline", state=st, year=year, unit="bcm", basis="bp", source=src,
                        vintage=vintage)
            tot = col.get("Total exports", 0.0)
            rows.append(dict(base, partner="ALL", value=round(tot, 3),
                             note="BP 'Total exports' by pipeline (LNG excluded; Central Asian states export no LNG)"
                             + fix))
            rows.append(dict(base, partner="CHN", value=round(col.get("China", 0.0), 3), note="importer row 'China'" + fix))
            rows.append(dict(base, partner="RUS", value=round(col.get("Russian Federation", 0.0), 3),
                             note="importer row 'Russian Federation' (gas bought at the border or processed in Russia,"
                             " e.g. Karachaganak gas to Orenburg, counts here)" + fix))
            if "Turkey" in col:
                rows.append(dict(base, partner="TUR", value=round(col["Turkey"], 3), note="importer row 'Turkey'" + fix))
            elif col.get("Europe", 0.0) == 0.0:
                rows.append(dict(base, partner="TUR", value=0.0,
                                 note="Turkey not listed separately (inside 'Rest of Europe'); 0 because the exporter"
                                 " sends nothing to Europe" + fix))
            mixed = sum(col.get(m, 0.0) for m in MIXED_EUROPE)
            if mixed == 0.0:
                present = sorted(r for r in EU27_ROWS if r in col)
                rows.append(dict(base, partner="EU", value=round(sum(col[r] for r in present), 3),
                                 note="EU27 = sum of importer rows " + "+".join(present) + fix))
            if "Iran" in col:
                rows.append(dict(base, partner="OTHER", value=round(col["Iran"], 3), note="Iran (importer row 'Iran')" + fix))
            elif "Other Middle East" in col:
                rows.append(dict(base, partner="OTHER", value=round(col["Other Middle East"], 3),
                                 note="Iran: importer row 'Other Middle East'; judgement that Iran is the only Middle East"
                                 " country these exporters' pipelines reach" + fix))
    return rows


# ---- dated projects ------------------------------------------------------------------------------------------
# typed from the stored pages cited in each row: inputs/routes_projects.csv and routes_agreements.csv (one flag series per
# state, opening or signing year blank if not by 2022), routes_points.csv (sourced point values) and routes_carry.csv
# (values carried over a span of years by a stated rule, with the year whose source they reuse)

def project_rows() -> list[dict]:
    """Opening and agreement flags (and capacities) of the dated route projects, one row per year."""
    rows = []
    for p in table("projects"):
        start = int(p["opened"]) if p["opened"] else None
        for st in p["states"].split():
            for y in YEARS:
                val = 1 if (start is not None and y >= start) else 0
                rows.append(dict(series=f"route_open_{p['suffix']}", state=st, partner=p["partner"], year=y, value=val,
                                 unit="flag", basis="project_date", source=p["source"], vintage=DATED_FACT, note=p["note"]))
    for a in table("agreements"):
        for st in a["states"].split():
            for y in YEARS:
                rows.append(dict(series=f"route_agreement_{a['suffix']}", state=st, partner=a["partner"], year=y,
                                 value=1 if y >= int(a["signed"]) else 0, unit="flag", basis="project_date",
                                 source=a["source"], vintage=DATED_FACT, note=a["note"]))
    src_of = {}
    for p in table("points"):
        rows.append(dict(p, year=int(p["year"]), basis="project_report"))
        src_of[(p["series"], p["state"], p["partner"], int(p["year"]))] = (p["source"], p["vintage"])
    for c in table("carry"):
        src, vint = src_of[(c["series"], c["state"], c["partner"], int(c["sourced_year"]))]
        for y in range(int(c["from_year"]), int(c["to_year"]) + 1):
            rows.append(dict(series=c["series"], state=c["state"], partner=c["partner"], year=y, value=c["value"],
                             unit=c["unit"], basis="rule", source=src, vintage=vint, note=c["note"]))
    return rows


def main() -> None:
    """Write routes.csv: gas flows and route projects, with no repeated (series, state, partner, year)."""
    rows = gas_rows() + project_rows()
    keys = [(r["series"], r["state"], r["partner"], r["year"]) for r in rows]
    dup = {k for k in keys if keys.count(k) > 1}
    assert not dup, dup
    rows.sort(key=lambda r: (r["series"], r["state"], r["partner"], r["year"]))
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLS})
    print(len(rows), "rows ->", OUT)


if __name__ == "__main__":
    main()
