"""`python run.py responsiveness`: what each shipped scenario changes against the baseline at the horizon.

Every scenario is run with the baseline's seeds (common random numbers: run k of a scenario and run k of the
baseline share their stream), so differences are paired. For each state and format: the change in the
probability of none / partial / member and in the probability of a downgrade since the start; for each power:
the change in regional influence. Intervals are 95% normal intervals of the paired mean difference.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.model.api import simulate
from greatgame.model.axes import LEVELS
from greatgame.model.files import SCENARIOS
from greatgame.model.scenario import load_scenario

from ..batch.store import report_folder, writes_report

ROOT = SCENARIOS.parent  # the checkout, or the installed package: shipped files are shown relative to it
SKIP = ("baseline.yaml", "backcast_2017.yaml", "calibrated.yaml", "calibrated_2017.yaml")


def paired(diff: np.ndarray) -> tuple[float, float, float]:
    """Mean of paired differences and its 95% normal interval (NaN when there are no pairs)."""
    n = len(diff)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(diff.mean())
    half = 1.96 * float(diff.std(ddof=1)) / np.sqrt(n) if n > 1 else float("nan")
    return m, m - half, m + half


@writes_report("out_dir")  # one writer per folder: a second is refused at once
def responsiveness(out_dir: str | Path, runs: int = 200, seed: int | None = None,
                   scenarios_dir: Path = ROOT / "scenarios", progress: bool = True) -> dict[str, Path]:
    """Run the baseline and every other shipped scenario; write responsiveness.md and .csv into out_dir."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    report_folder(out)
    base_sc = load_scenario(scenarios_dir / "baseline.yaml")
    seed = int(seed if seed is not None else base_sc.raw["seed"])
    base = simulate(base_sc, runs=runs, seed=seed)
    rows, modal_changes, summary = [], [], []
    files = sorted(p for p in scenarios_dir.glob("*.yaml") if p.name not in SKIP)
    for path in files:
        sc = load_scenario(path)
        if progress:
            print(f"[{time.perf_counter() - t0:6.1f} s] {sc.name}", flush=True)
        res = simulate(sc, runs=runs, seed=seed)
        for j, power in enumerate(res.powers):
            if power not in base.powers:
                continue
            jb = base.powers.index(power)
            d = res.influence[-1, :, -1, j, -1] - base.influence[-1, :, -1, jb, -1]
            m, lo, hi = paired(d)
            rows.append({"scenario": sc.name, "kind": "regional_influence", "state": "REGION", "format": "",
                         "power": power, "level": "", "baseline": float(base.influence[-1, :, -1, jb, -1].mean()),
                         "change": m, "ci_low": lo, "ci_high": hi})
        downgrades = 0.0
        for s, state in enumerate(res.states):
            for f, fmt in enumerate(res.formats):
                if fmt not in base.formats:
                    continue
                fb = base.formats.index(fmt)
                a, b = res.status[-1, :, s, f], base.status[-1, :, s, fb]
                for k, level in enumerate(LEVELS):
                    m, lo, hi = paired((a == k).astype(float) - (b == k).astype(float))
                    rows.append({"scenario": sc.name, "kind": "status_probability", "state": state, "format": fmt,
                                 "power": "", "level": level, "baseline": float((b == k).mean()), "change": m,
                                 "ci_low": lo, "ci_high": hi})
                down_a = (a < res.status[0, :, s, f]) & (a >= 0)
                down_b = (b < base.status[0, :, s, fb]) & (b >= 0)
                m, lo, hi = paired(down_a.astype(float) - down_b.astype(float))
                downgrades += float(down_a.mean())
                rows.append({"scenario": sc.name, "kind": "downgrade_probability", "state": state, "format": fmt,
                             "power": "", "level": "", "baseline": float(down_b.mean()), "change": m, "ci_low": lo,
                             "ci_high": hi})
                ma, mb = np.bincount(a[a >= 0], minlength=3).argmax(), np.bincount(b[b >= 0], minlength=3).argmax()
                if ma != mb:
                    modal_changes.append(f"{sc.name}: {state} in {fmt} {LEVELS[mb]} -> {LEVELS[ma]}")
        summary.append({"scenario": sc.name, "expected_downgrades": downgrades})
    table = pd.DataFrame(rows)
    table.to_csv(out / "responsiveness.csv", index=False)
    base_down = sum(float(((base.status[-1, :, s, f] < base.status[0, :, s, f]) & (base.status[-1, :, s, f] >= 0)).mean())
                    for s in range(len(base.states)) for f in range(len(base.formats)))
    md = ["# Responsiveness: what each scenario changes against the baseline", "",
          f"Generated by `python3 run.py responsiveness --out {out}` ({runs} runs per scenario, seed {seed}, common "
          f"random numbers; {time.perf_counter() - t0:.0f} s). Horizon: {base.dates[-1]}. Intervals: 95%, paired. "
          "An effect whose interval contains 0 is smaller than the run-to-run noise at this number of runs.", "",
          "## Regional influence at the horizon (change against the baseline)", "",
          "| scenario | " + " | ".join(base.powers) + " |", "|---|" + "---|" * len(base.powers)]
    reg = table[table["kind"] == "regional_influence"]
    for name, g in reg.groupby("scenario", sort=False):
        cells = []
        for p in base.powers:
            r = g[g["power"] == p]
            cells.append("" if r.empty else f"{r['change'].iloc[0]:+.3f} [{r['ci_low'].iloc[0]:+.3f}, "
                                                 f"{r['ci_high'].iloc[0]:+.3f}]")
        md.append(f"| {name} | " + " | ".join(cells) + " |")
    md += ["", "Baseline regional influence at the horizon: "
           + ", ".join(f"{p} {base.influence[-1, :, -1, j, -1].mean():.3f}" for j, p in enumerate(base.powers)), "",
           "## Modal statuses that differ from the baseline at the horizon", "",
           *([f"- {c}" for c in modal_changes] or ["- none"]), "",
           "## Expected number of downgrades since the start (sum over cells of P(status below its start))", "",
           f"- baseline: {base_down:.2f}", *[f"- {r['scenario']}: {r['expected_downgrades']:.2f}" for r in summary], "",
           "## Largest changes in status probabilities (|change| >= 0.05)", "",
           "| scenario | state | format | level | baseline | change | 95% interval |", "|---|---|---|---|---|---|---|"]
    st = table[table["kind"].isin(["status_probability", "downgrade_probability"])]
    big = st[st["change"].abs() >= 0.05].sort_values("change", key=np.abs, ascending=False)
    for _, r in big.iterrows():
        level = r["level"] or "downgrade"
        md.append(f"| {r['scenario']} | {r['state']} | {r['format']} | {level} | {r['baseline']:.2f} | "
                  f"{r['change']:+.2f} | [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] |")
    if big.empty:
        md.append("| (none) | | | | | | |")
    md += ["", "The full table (every cell, level and power) is `responsiveness.csv`.", ""]
    (out / "responsiveness.md").write_text("\n".join(md), encoding="utf-8")
    return {"md": out / "responsiveness.md", "csv": out / "responsiveness.csv"}
