"""Lockstep ensemble vs mesa.batch_run on the baseline: 1,000 runs x 40 quarters, one process.

    python benchmarks/bench_ensemble.py [--runs 1000]

Both paths build the same model class and record every period; the lockstep path advances runs in chunks of 256
with a leading run axis, mesa.batch_run builds one model per run (runs=1). The last line is the ratio of runs/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import mesa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from greatgame.model import GreatGameModel, load_scenario, simulate  # noqa: E402


def main() -> None:
    """The command line: the lockstep ensemble against mesa.batch_run on the same runs, the speed-up printed."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sc = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml")
    GreatGameModel(sc, runs=2, steps=2).run()  # warm caches (data files, imports) for both paths

    t0 = time.perf_counter()
    res = simulate(sc, runs=args.runs, seed=args.seed)
    lockstep_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows = mesa.batch_run(GreatGameModel, parameters={"scenario": sc, "replicate": range(args.runs)},
                          rng=[args.seed], number_processes=1, max_steps=1000, display_progress=False)
    batch_s = time.perf_counter() - t0
    assert len(rows) == args.runs and res.influence.shape[1] == args.runs

    # the two paths compute the same runs: compare run 0's regional influence at the horizon
    last = {r["replicate"]: r for r in rows}
    same = all(last[0][p] == res.regional_total[-1, 0, j] for j, p in enumerate(res.powers))
    print(f"runs: {args.runs}, steps: {sc.steps}, identical results on run 0: {same}")
    print(f"lockstep:        {lockstep_s:8.2f} s  {args.runs / lockstep_s:10.1f} runs/s")
    print(f"mesa.batch_run:  {batch_s:8.2f} s  {args.runs / batch_s:10.1f} runs/s")
    print(f"ratio_vs_mesa_batch_run: {batch_s / lockstep_s:.1f}")


if __name__ == "__main__":
    main()
