#!/usr/bin/env python3
"""Are two output folders the same data? For refactors that must not change a number.

  python3 benchmarks/same_outputs.py OLD_FOLDER NEW_FOLDER

Compares every Parquet file under OLD with the file at the same relative path under NEW (a `run` folder's
tables, a batch's `parts/<table>/<task>.parquet` and `design.parquet`): same schema, same rows in the same order,
and every value bitwise equal (floats compared by their bytes, so NaN equals NaN and -0.0 differs from 0.0).
Parquet metadata (writer version, creation time) and the wall-time column `seconds` of a batch's runs table
(how long each task took) are not compared. Exit 0 when all are equal, 1 otherwise, with
one line per difference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

WALL_TIME = {"seconds"}  # measured, not computed: never equal twice


def differences(old: Path, new: Path) -> list[str]:
    """One line per file that is missing or holds other data; an empty list when the folders agree."""
    out = []
    olds = sorted(p.relative_to(old) for p in old.rglob("*.parquet"))
    news = {p.relative_to(new) for p in new.rglob("*.parquet")}
    out += [f"only in {new}: {p}" for p in sorted(news - set(olds))]
    for rel in olds:
        if rel not in news:
            out.append(f"only in {old}: {rel}")
            continue
        a, b = pq.read_table(old / rel), pq.read_table(new / rel)
        if a.schema.remove_metadata() != b.schema.remove_metadata():
            out.append(f"{rel}: schemas differ")
            continue
        if a.num_rows != b.num_rows:
            out.append(f"{rel}: {a.num_rows} rows against {b.num_rows}")
            continue
        for name in (n for n in a.column_names if n not in WALL_TIME):
            x, y = a[name].to_numpy(zero_copy_only=False), b[name].to_numpy(zero_copy_only=False)
            same = (x.tobytes() == y.tobytes()) if x.dtype.kind in "fiub" else bool(np.all(x == y))
            if not same:
                out.append(f"{rel}: column {name} differs")
    if not olds:
        out.append(f"no Parquet files under {old}")
    return out


def main(argv: list[str]) -> int:
    """The command line: print the differences; exit status 0 when the folders agree, 1 otherwise, 2 on bad usage."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    old, new = Path(argv[0]), Path(argv[1])
    diffs = differences(old, new)
    for line in diffs:
        print(line)
    n = len(list(old.rglob("*.parquet")))
    print(f"{n} Parquet files compared: " + ("identical" if not diffs else f"{len(diffs)} differences"))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
