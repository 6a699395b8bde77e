"""Speed of the decision rule's estimation and scoring (issue 17 item 8), measured in one invocation on this machine.

    python benchmarks/bench_rule.py            # about 5 minutes on 2 cores

1. `python3 run.py estimate` (full and restricted fits at 2022.83, every parameter profiled), against its budget of
   3 minutes.
2. `python3 run.py validate` (the out-of-sample refits at four origins and their forecasts, the leave-one-state-out
   fits in 2 worker processes, the secondary checks), against its budget of 5 minutes.
3. The penalised ML fit at 2022.83 on the stacked rows (`rule.fit`) against the per-block objective it replaced
   (`rule.objective`, forward differences), same starts: the ratio and the difference of the optima.
Each command runs in a fresh process; figures are wall-clock seconds and ratios within this run. The last line is
`budget_ratio_estimate: X, budget_ratio_validate: Y` (seconds / budget; below 1 is within budget).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"estimate": 180.0, "validate": 300.0}


def timed(args: list[str]) -> float:
    """Wall-clock seconds of `python3 run.py ARGS` in a fresh process (its output discarded; a failure stops)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run.py"), *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def fit_ratio() -> tuple[float, float, float]:
    """Seconds of rule.fit (stacked rows) and of the per-block objective from the same three starts, and the
    difference of their penalised optima."""
    import numpy as np
    from greatgame.experiments.fit import rule

    data = rule.prepare(rule.BASELINE_ORIGIN)
    rule.scales(data)
    t0 = time.perf_counter()
    full, restricted = rule.fit(data=data)
    fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    fun = rule.objective(data)
    x0s = [np.zeros(len(rule.PARAMS)), restricted.x.copy(), rule.v2_start(data)]
    slow_min = min(float(rule._minimise(fun, x0, rule.bounds()).fun) for x0 in x0s)
    slow = time.perf_counter() - t0
    return fast, slow, abs(full.penalised + slow_min)


def main() -> int:
    """Run the three measurements and print them."""
    with tempfile.TemporaryDirectory() as tmp:
        est = timed(["estimate", "--quiet", "--out", f"{tmp}/estimate"])
        print(f"estimate: {est:.1f} s (budget {BUDGET['estimate']:.0f} s)", flush=True)
        val = timed(["validate", "--out", f"{tmp}/validation"])
        print(f"validate: {val:.1f} s (budget {BUDGET['validate']:.0f} s)", flush=True)
    fast, slow, diff = fit_ratio()
    print(f"fit at 2022.83: stacked rows {fast:.1f} s, per-block objective {slow:.1f} s, ratio {slow / fast:.1f}x, "
          f"optima differ by {diff:.2e} in the penalised ln L")
    print(f"budget_ratio_estimate: {est / BUDGET['estimate']:.2f}, budget_ratio_validate: {val / BUDGET['validate']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
