"""Build model/data/panel/record.csv: the record as dated spells, pooled (issue 17 item 1).

Run by hand from the repository root: `python model/data/panel/build_record.py`. Needs only the standard library
and `model/data/status_history.csv` (the checked spells, copied verbatim or split at a documented date). Every
other spell, and the summit attendance, is typed in the CSV files inputs/record_*.csv from a stored page found with the
project's `search` tool; the URL is in `source`.

Date rule (record.md): a day D of year Y is Y + doy(D) / days_in_year(Y), rounded to 2 decimals; a date known
only to the month uses the 15th; a date known only to the year uses 1 July (Y.50).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "record.csv"
COLUMNS = ["state", "lineage", "kind", "level", "start", "end", "end_is_choice", "source", "lineage_kind_note"]

SF = "summit_format"


def dec(iso: str) -> float:
    """Decimal year of an ISO date (YYYY-MM-DD), by the rule in the module docstring."""
    d = dt.date.fromisoformat(iso)
    days = 366 if (d.year % 4 == 0 and (d.year % 100 != 0 or d.year % 400 == 0)) else 365
    return round(d.year + d.timetuple().tm_yday / days, 2)


def table(name: str) -> list[dict]:
    """The rows of one hand-entered input table, inputs/record_<name>.csv, as dicts of strings."""
    with (HERE / "inputs" / f"record_{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))

def row(state, lineage, kind, level, start, end, choice, source, note=""):
    """One row of record.csv from its fields (start/end as decimal years, choice 1/0/blank)."""
    return {
        "state": state,
        "lineage": lineage,
        "kind": kind,
        "level": level,
        "start": start if isinstance(start, (int, float)) else dec(start),
        "end": "" if end == "" else (end if isinstance(end, (int, float)) else dec(end)),
        "end_is_choice": choice,
        "source": source,
        "lineage_kind_note": note,
    }


def existing() -> dict[tuple[str, str], list[dict]]:
    """The checked spells, keyed by (state, lineage), values as written in status_history.csv."""
    path = HERE.parent / "status_history.csv"
    out: dict[tuple[str, str], list[dict]] = {}
    for r in csv.DictReader(open(path, encoding="utf-8")):
        out.setdefault((r["state"], r["lineage"]), []).append(r)
    return out


def copied(r: dict, kind: str, note: str = "", **override) -> dict:
    """A spell of status_history.csv copied as it is, with its kind and a note; `override` replaces fields."""
    d = {k: r[k] for k in ("state", "lineage", "level", "start", "end", "end_is_choice", "source")}
    d.update(override)
    d["kind"] = kind
    d["lineage_kind_note"] = ("[copied from status_history.csv] " + note).strip()
    return d


def spells() -> list[dict]:
    """Every spell, in the order of inputs/record_spells.csv (the five modelled states' checked spells split where a lineage
    changes kind, then the pooled states').

    A row with a `spell` number copies that spell (0-based, in file order) of the state and lineage in status_history.csv,
    with the row's kind and note; its other non-blank fields replace the copied ones. A row without one is written from
    its own fields. Dates are decimal years or ISO dates (converted by `dec`); `{key}` in a source or note stands for the
    URL of that key in inputs/record_sources.csv.
    """
    ex = existing()
    urls = {r["key"]: r["url"] for r in table("sources")}
    rows: list[dict] = []
    for t in table("spells"):
        source, note = t["source"].format_map(urls), t["note"].format_map(urls)
        if t["spell"] == "":
            start = t["start"] if "-" in t["start"] else float(t["start"])
            end = t["end"] if t["end"] == "" or "-" in t["end"] else float(t["end"])
            rows.append(row(t["state"], t["lineage"], t["kind"], t["level"], start, end, t["end_is_choice"], source, note))
            continue
        override = {k: t[k] for k in ("level", "start", "end", "end_is_choice") if t[k]}
        override.update({k: str(dec(override[k])) for k in ("start", "end") if "-" in override.get(k, "")})
        if source:
            override["source"] = source
        rows.append(copied(ex[(t["state"], t["lineage"])][int(t["spell"])], t["kind"], note, **override))
    return rows


# ---------------- summit formats: one row per state per meeting year ----------------
FIVE = ["KAZ", "KGZ", "TJK", "TKM", "UZB"]

def summits() -> list[dict]:
    """One attendance row per modelled state per summit-format meeting year.

    The meetings are in inputs/record_summits.csv; a state that did not attend at the meeting's level has a row (level,
    why) in inputs/record_summit_exceptions.csv.
    """
    exceptions = {(r["lineage"], r["year"], r["state"]): (r["level"], r["note"]) for r in table("summit_exceptions")}
    rows = []
    for m in table("summits"):
        year = int(m["year"])
        for s in FIVE:
            level, why = exceptions.get((m["lineage"], m["year"], s), ("member", "attended at the meeting's level"))
            rows.append(
                {
                    "state": s,
                    "lineage": m["lineage"],
                    "kind": SF,
                    "level": level,
                    "start": float(year),
                    "end": float(year + 1),
                    "end_is_choice": "",
                    "source": m["source"],
                    "lineage_kind_note": f"attendance {year}: {m['meetings']}; {why}",
                }
            )
    return rows

def main() -> None:
    """Write record.csv: the spells, then the summit attendance."""
    rows = spells() + summits()
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    print(len(rows), "rows;", Counter(r["kind"] for r in rows))


if __name__ == "__main__":
    main()
