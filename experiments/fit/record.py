"""The record of status changes (`model/data/status_history.csv`) as annual hazards, for the calibration.

Spells give each state's level in a format lineage (CIS, CSTO, SCO, EurAsEC/EAEU, Turkic Council/OTS, GUUAM) from
1992. A change at the end of a spell is a join (up) or an exit or downgrade (down) unless the format itself ended
(`end_is_choice` = no: censored). The hazards are events per year at risk, counted only up to a cutoff, so a fit
for a 2017 start sees only the record up to mid-2017 (docs/ODD.md 9).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from greatgame.model.fundamentals import DATA_DIR

LEVEL = {"none": 0, "partial": 1, "member": 2}


@dataclass(frozen=True)
class Hazards:
    """Annual hazards of moving down from member, down from partial and up from none, with counts and exposure."""

    down_from_member: float
    up_from_none: float
    downs: int
    ups: int
    member_years: float
    none_years: float
    cutoff: float


def record_hazards(cutoff: float) -> Hazards:
    """Events per year at risk in the record up to `cutoff` (a decimal year, e.g. 2017.5)."""
    rows = list(csv.DictReader(open(DATA_DIR / "status_history.csv", encoding="utf-8")))
    spells: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        spells.setdefault((r["state"], r["lineage"]), []).append(r)
    exposure = {0: 0.0, 1: 0.0, 2: 0.0}
    downs = ups = 0
    for seq in spells.values():
        seq.sort(key=lambda r: float(r["start"]))
        for i, r in enumerate(seq):
            start = float(r["start"])
            if start >= cutoff:
                continue
            end = float(r["end"]) if r["end"] else cutoff
            exposure[LEVEL[r["level"]]] += min(end, cutoff) - start
            if r["end"] and end <= cutoff and r["end_is_choice"] == "yes" and i + 1 < len(seq):
                move = LEVEL[seq[i + 1]["level"]] - LEVEL[r["level"]]
                if move < 0 and r["level"] == "member":
                    downs += 1
                elif move > 0 and r["level"] == "none":
                    ups += 1
    return Hazards(downs / exposure[2], ups / exposure[0], downs, ups, exposure[2], exposure[0], cutoff)
