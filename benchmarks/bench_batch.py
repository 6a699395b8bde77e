"""Batch benchmarks, all measured in one invocation (figures are ratios within this run).

    python benchmarks/bench_batch.py             # full: ~10 minutes on 2 cores
    python benchmarks/bench_batch.py --quick     # smaller sizes, for a smoke test

1. End to end, one worker, every step recorded (record: full): design -> Parquet on disk -> comparison tables
   (figures are left out: `compare(figures=False)`), against
   mesa.batch_run(number_processes=1, data_collection_period=1) on the same model and design
   (2 scenarios x N replicates).
2. Two workers against one on a 2,000-run experiment (batch only, each in a fresh process).
3. Runs/s at 1,000, 10,000 and 50,000 runs (compact record, one worker, each in a fresh process), with the
   process's peak resident memory.
4. A Latin hypercube of N points x 1 replicate over 6 numeric parameters, end to end (design -> lockstep chunks
   that mix design points -> Parquet -> comparison tables), against mesa.batch_run(number_processes=1) on the same
   N parameter vectors (one scenario object per point). Printed as `lhs_ratio_vs_mesa_batch_run: X`.
The last line is `ratio_vs_mesa_batch_run: X` (part 1).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mesa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from greatgame.experiments.analysis.compare import compare  # noqa: E402
from greatgame.experiments.batch.runner import run_experiment  # noqa: E402
from greatgame.experiments.batch.spec import load_experiment  # noqa: E402
from greatgame.model import GreatGameModel, load_scenario  # noqa: E402

SCENARIOS = [ROOT / "scenarios" / "baseline.yaml", ROOT / "scenarios" / "sanctions_tighten.yaml"]


def experiment_file(folder: Path, name: str, replicates: int, record: str, scenarios: list[Path]) -> Path:
    """Write an experiment file of `scenarios` x `replicates` recording `record` tables; returns its path."""
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nscenarios: [{', '.join(map(str, scenarios))}]\nreplicates: {replicates}\n"
                    f"seed: 1\nchunk: 250\nrecord: {record}\n")
    return path


def part1(tmp: Path, replicates: int) -> float:
    """Part 1: the batch end to end against mesa.batch_run on the same runs; returns the speed-up (x)."""
    exp = load_experiment(experiment_file(tmp, "e2e", replicates, "full", SCENARIOS))
    runs = len(exp.points) * replicates
    t0 = time.perf_counter()
    run_experiment(exp, tmp / "e2e", jobs=1, progress=False)
    compare(tmp / "e2e", figures=False)
    ours = time.perf_counter() - t0
    scs = [load_scenario(p) for p in SCENARIOS]
    t0 = time.perf_counter()
    rows = mesa.batch_run(GreatGameModel, parameters={"scenario": scs, "replicate": range(replicates)}, rng=[1],
                          number_processes=1, data_collection_period=1, max_steps=1000, display_progress=False)
    theirs = time.perf_counter() - t0
    print(f"[1] end to end, {runs} runs x {scs[0].steps} steps, every step recorded, one worker")
    print(f"    greatgame batch + compare: {ours:8.2f} s {runs / ours:9.1f} runs/s")
    print(f"    mesa.batch_run:            {theirs:8.2f} s {runs / theirs:9.1f} runs/s ({len(rows)} rows in memory)")
    return theirs / ours


def _batch(path: Path, out: Path, jobs: int, compare_too: bool = True) -> tuple[float, int]:
    """Wall time and peak RSS so far (KiB, the largest child process yet) of `run.py batch` in a fresh process."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run.py"), "batch", str(path), "--out", str(out), "--quiet",
                    "--jobs", str(jobs), *([] if compare_too else ["--no-compare"])], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def part2(tmp: Path, runs: int) -> None:
    """Part 2: runs per second with 1 and 2 local workers and with Dask (printed)."""
    path = experiment_file(tmp, "workers", runs, "compact", SCENARIOS[:1])
    wall, rate = {}, {}
    for jobs in (1, 2):
        wall[jobs] = _batch(path, tmp / f"w{jobs}", jobs, compare_too=False)[0]
        rate[jobs] = json.loads((tmp / f"w{jobs}" / "manifest.json").read_text())["runs_per_s"]
    print(f"[2] {runs} runs, compact, batch without compare, each in a fresh process:")
    print(f"    execution (manifest runs/s): 1 worker {rate[1]:.1f}, 2 workers {rate[2]:.1f} runs/s: "
          f"speed-up {rate[2] / rate[1]:.2f}x")
    print(f"    wall time with Python start-up and imports: 1 worker {wall[1]:.2f} s, 2 workers {wall[2]:.2f} s: "
          f"speed-up {wall[1] / wall[2]:.2f}x")


def part3(tmp: Path, sizes: list[int]) -> None:
    """Part 3: wall time against batch size, each size in a fresh process (printed)."""
    print("[3] scaling, compact record, one worker, each in a fresh process (wall time includes start-up)")
    for n in sizes:
        path = experiment_file(tmp, f"scale{n}", n, "compact", SCENARIOS[:1])
        wall, peak = _batch(path, tmp / f"s{n}", 1)
        print(f"    {n:6d} runs: {wall:8.1f} s {n / wall:8.1f} runs/s, peak RSS so far {peak / 1024:.0f} MiB "
              "(batch + compare)")


LHS_PARAMETERS = {"parameters.rationality": (5, 30), "parameters.weights.trade": (1, 6),
                  "parameters.weights.investment": (1, 6), "parameters.obligation_cost.supranational": (0.0, 1.5),
                  "powers.CHN.budget_usd_bn_per_year": (1.6, 4.8), "powers.RUS.budget_usd_bn_per_year": (0.3, 1.0)}


def part4(tmp: Path, points: int) -> float:
    """Part 4: a Latin hypercube of `points` points x 1 replicate against mesa.batch_run; returns the speed-up (x)."""
    params = "".join(f"    {k}: {{low: {lo}, high: {hi}}}\n" for k, (lo, hi) in LHS_PARAMETERS.items())
    path = tmp / "lhs.yaml"
    path.write_text(f"name: lhs\nscenarios: [{SCENARIOS[0]}]\nreplicates: 1\nseed: 1\nchunk: 256\n"
                    f"design:\n  method: lhs\n  points: {points}\n  parameters:\n{params}")
    t0 = time.perf_counter()
    exp = load_experiment(path)
    run_experiment(exp, tmp / "lhs", jobs=1, progress=False)
    compare(tmp / "lhs", figures=False)
    ours = time.perf_counter() - t0
    scs = [p.scenario for p in exp.points]
    t0 = time.perf_counter()
    rows = mesa.batch_run(GreatGameModel, parameters={"scenario": scs, "replicate": [0]}, rng=[1],
                          number_processes=1, max_steps=1000, display_progress=False)
    theirs = time.perf_counter() - t0
    print(f"[4] LHS {points} points x 1 replicate over {len(LHS_PARAMETERS)} parameters, end to end, one worker")
    print(f"    greatgame load + batch + compare: {ours:8.2f} s {points / ours:9.1f} runs/s")
    print(f"    mesa.batch_run:                   {theirs:8.2f} s {points / theirs:9.1f} runs/s ({len(rows)} rows)")
    return theirs / ours


def main() -> None:
    """The command line: the parts named by --parts, their figures printed."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test, not the reported figures)")
    ap.add_argument("--parts", default="4,3,2,1", help="which parts to run, e.g. 2 or 1,4 (default: all)")
    args = ap.parse_args()
    parts = {int(p) for p in args.parts.split(",")}
    ratio = None
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if 3 in parts:
            part3(tmp, [200, 1000] if args.quick else [1000, 10000, 50000])
        if 2 in parts:
            part2(tmp, 400 if args.quick else 2000)
        if 4 in parts:
            lhs = part4(tmp, 200 if args.quick else 2000)
            print(f"lhs_ratio_vs_mesa_batch_run: {lhs:.1f}")
        if 1 in parts:
            ratio = part1(tmp, 50 if args.quick else 250)
    if ratio is not None:
        print(f"ratio_vs_mesa_batch_run: {ratio:.1f}")


if __name__ == "__main__":
    main()
