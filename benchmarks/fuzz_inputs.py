"""Long fuzzing campaign through the command line: mutated scenario and experiment files (tests/fuzzcases.py) run
as `python3 run.py check FILE`, `run.py run FILE --steps 2 --runs 2 --out DIR` and `run.py batch FILE --out DIR`
(small experiments), each in its own process, in parallel over the cores.

    python3 benchmarks/fuzz_inputs.py                      # 10,000 cases
    python3 benchmarks/fuzz_inputs.py --cases 2000 --seed 1 --jobs 2 --timeout 120

A case passes when it exits 0 with complete outputs, or exits 2 with one line `error: FILE: key: reason` and no
output folder. A traceback (exit 1, or any `Traceback` on stderr) or a bad refusal (several lines, a partial
output folder) counts as a traceback; a case still running after --timeout seconds counts as a hang. Failing cases
are kept under --keep (default results/fuzz_failures) with their command. The last line is
`fuzz: N cases, T tracebacks, H hangs`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzzcases import CLI_TIMEOUT, any_case, run_cli  # noqa: E402

MODES = ("check", "run", "batch")
MEMORY = 8 * 2**30  # address space per case: a runaway case fails (and is reported) instead of exhausting the machine


def one_case(i: int, seed: int, work: Path, keep: Path, timeout: float) -> tuple[int, str, str, float]:
    """Build case i from its own seed, run it through the command line, keep it if it failed."""
    rnd = random.Random(f"{seed}-{i}")
    case = any_case(rnd)
    mode = "batch" if case.kind == "experiment" else MODES[i % 2]
    folder = work / f"case{i:06d}"
    try:
        outcome = run_cli(case, folder, mode, timeout=timeout, memory=MEMORY)
        if outcome.verdict in ("traceback", "bad", "hang"):
            dest = keep / f"case{i:06d}"
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(folder, dest, ignore=shutil.ignore_patterns("out"), symlinks=True)
            (dest / "what.json").write_text(json.dumps({"case": i, "seed": seed, "mode": mode, "verdict": outcome.verdict,
                                                        "detail": outcome.detail, "case_description": case.describe()},
                                                       indent=2))
        return i, outcome.verdict, outcome.detail, outcome.seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10000, help="number of cases (default 10000)")
    ap.add_argument("--seed", type=int, default=1, help="campaign seed: case i uses Random(f'{seed}-{i}')")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cases run at once (default: the cores)")
    ap.add_argument("--timeout", type=float, default=CLI_TIMEOUT, help="seconds before a case counts as a hang")
    ap.add_argument("--keep", default=str(ROOT / "results" / "fuzz_failures"), help="folder for failing cases")
    ap.add_argument("--start", type=int, default=0, help="first case number (to continue a campaign)")
    args = ap.parse_args(argv)
    keep = Path(args.keep)
    keep.mkdir(parents=True, exist_ok=True)
    counts = {"ok": 0, "refused": 0, "traceback": 0, "bad": 0, "hang": 0}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="greatgame-fuzz-") as work, ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_case, i, args.seed, Path(work), keep, args.timeout)
                   for i in range(args.start, args.start + args.cases)]
        for n, fut in enumerate(as_completed(futures), 1):
            i, verdict, detail, seconds = fut.result()
            counts[verdict] += 1
            if verdict not in ("ok", "refused"):
                print(f"case {i}: {verdict}: {detail[:400]}", flush=True)
            if n % 100 == 0:
                rate = n / (time.perf_counter() - t0)
                print(f"{n}/{args.cases} cases ({rate:.2f}/s): {counts}", flush=True)
    wall = time.perf_counter() - t0
    print(f"{counts['ok']} valid, {counts['refused']} refused with one line, {counts['bad']} bad refusals; "
          f"{wall:.0f} s with {args.jobs} jobs; failing cases in {keep}")
    print(f"fuzz: {args.cases} cases, {counts['traceback'] + counts['bad']} tracebacks, {counts['hang']} hangs")
    return 0 if counts["traceback"] + counts["bad"] + counts["hang"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
