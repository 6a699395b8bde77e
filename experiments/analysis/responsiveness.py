"""`python run.py responsiveness`: what each shipped scenario changes against the baseline at the horizon.

Every scenario is run with the baseline's seeds (common random numbers: run k of a scenario and run k of the
baseline share their stream), so differences are paired. For each state and format: the change in the
probability of none / partial / member and in the probability of a downgrade since the start; for each power:
the change in regional influence. Each change is a paired difference with its 95% interval and the share of
runs moved up, down or not at all (`statistics.paired_difference`: Student t for influence, the score interval of
paired proportions for probabilities). Every scenario and the baseline run under each trade basis (`trade_basis`
state and partner, ODD 7.2; pairs matched within a basis): the change and its interval pool the pairs of both
bases, and an effect is robust in sign when at least `sign_share` (0.95) of the pairs under each basis share one sign
(`statistics.sign_robustness`; docs/OUTPUT.md "Robust in sign").
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.model.api import simulate
from greatgame.model.axes import LEVELS
from greatgame.model.files import SCENARIOS
from greatgame.model.fundamentals import TRADE_BASES
from greatgame.model.scenario import Scenario, load_scenario

from ..batch.store import report_folder, writes_report
from .reports import ReportFiles
from .statistics import SIGN_SHARE, draws_uncertainty, paired_difference, sign_robustness, sign_text

ROOT = SCENARIOS.parent  # the checkout, or the installed package: shipped files are shown relative to it
SKIP = ("baseline.yaml", "backcast_2017.yaml", "calibrated.yaml", "calibrated_2017.yaml")


@writes_report("out_dir")  # one writer per folder: a second is refused at once
def responsiveness(out_dir: str | Path, runs: int = 100, seed: int | None = None,
                   scenarios_dir: Path = ROOT / "scenarios", progress: bool = True,
                   bases: tuple[str, ...] = TRADE_BASES, sign_share: float = SIGN_SHARE) -> ReportFiles:
    """Run the baseline and every other shipped scenario, `runs` runs under each trade basis of `bases`; write
    responsiveness.md and .csv into out_dir."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    report_folder(out)
    base_sc = load_scenario(scenarios_dir / "baseline.yaml")
    seed = int(seed if seed is not None else base_sc.raw["seed"])
    base = _horizon(base_sc, runs, seed, bases)
    basis = np.repeat(np.array(bases), runs)  # each run's trade basis (runs in the same order in every scenario)
    rows, modal_changes, summary = [], [], []
    files = sorted(p for p in scenarios_dir.glob("*.yaml") if p.name not in SKIP)
    for path in files:
        sc = load_scenario(path)
        if progress:
            print(f"[{time.perf_counter() - t0:6.1f} s] {sc.name}", flush=True)
        res = _horizon(sc, runs, seed, bases)
        drawn = draws_uncertainty(sc) and draws_uncertainty(base_sc)

        def effect(a: np.ndarray, b: np.ndarray, binary: bool = False, index: int | tuple[int, ...] = (),
                   drawn: bool = drawn) -> dict[str, float]:
            """The pooled paired difference of `a` and `b` (runs first) and its sign robustness over the bases."""
            d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
            sign = sign_robustness({k: d[basis == k] for k in bases}, sign_share, drawn).at(index)
            return {**_effect(paired_difference(a, b, binary).at(index)), **sign}

        for j, power in enumerate(res["powers"]):
            if power not in base["powers"]:
                continue
            jb = base["powers"].index(power)
            a, b = res["regional"][:, j], base["regional"][:, jb]
            rows.append({"scenario": sc.name, "kind": "regional_influence", "state": "REGION", "format": "",
                         "power": power, "level": "", "baseline": float(b.mean()), **effect(a, b)})
        downgrades = 0.0
        for s, state in enumerate(res["states"]):
            for f, fmt in enumerate(res["formats"]):
                if fmt not in base["formats"]:
                    continue
                fb = base["formats"].index(fmt)
                a, b = res["status"][:, s, f], base["status"][:, s, fb]
                levels = np.arange(len(LEVELS))
                held_a, held_b = a[:, None] == levels, b[:, None] == levels
                for k, level in enumerate(LEVELS):
                    rows.append({"scenario": sc.name, "kind": "status_probability", "state": state, "format": fmt,
                                 "power": "", "level": level, "baseline": float((b == k).mean()),
                                 **effect(held_a, held_b, True, k)})
                down_a = (a < res["start"][:, s, f]) & (a >= 0)
                down_b = (b < base["start"][:, s, fb]) & (b >= 0)
                downgrades += float(down_a.mean())
                rows.append({"scenario": sc.name, "kind": "downgrade_probability", "state": state, "format": fmt,
                             "power": "", "level": "", "baseline": float(down_b.mean()),
                             **effect(down_a, down_b, True)})
                ma, mb = np.bincount(a[a >= 0], minlength=3).argmax(), np.bincount(b[b >= 0], minlength=3).argmax()
                if ma != mb:
                    modal_changes.append(f"{sc.name}: {state} in {fmt} {LEVELS[mb]} -> {LEVELS[ma]}")
        summary.append({"scenario": sc.name, "expected_downgrades": downgrades})
    table = pd.DataFrame(rows)
    table.to_csv(out / "responsiveness.csv", index=False)
    base_down = sum(float(((base["status"][:, s, f] < base["start"][:, s, f]) & (base["status"][:, s, f] >= 0)).mean())
                    for s in range(len(base["states"])) for f in range(len(base["formats"])))
    powers = base["powers"]
    md = ["# Responsiveness: what each scenario changes against the baseline", "",
          f"Generated by `python3 run.py responsiveness --out {out}` ({runs} runs per scenario under each trade basis "
          f"({', '.join(bases)}), seed {seed}, common random numbers; {time.perf_counter() - t0:.0f} s). Horizon: "
          f"{base['date']}. Intervals: 95%, paired within a trade basis and pooled over the bases (Student t for "
          "influence, Tango's score interval for probabilities: docs/OUTPUT.md). An effect whose interval contains 0 "
          "is smaller than the run-to-run noise at this number of runs. **Bold**: robust in sign, at least "
          f"{sign_share:.0%} of the pairs under each trade basis (state and partner) with one and the same sign, in "
          "runs that draw the uncertainty section (docs/OUTPUT.md, \"Robust in sign\"); the others are not "
          "findings.", "",
          "## Regional influence at the horizon (change against the baseline)", "",
          "| scenario | " + " | ".join(powers) + " |", "|---|" + "---|" * len(powers)]
    reg = table[table["kind"] == "regional_influence"]
    for name, g in reg.groupby("scenario", sort=False):
        cells = []
        for p in powers:
            r = g[g["power"] == p]
            text = "" if r.empty else f"{r['change'].iloc[0]:+.3f} [{r['ci_low'].iloc[0]:+.3f}, {r['ci_high'].iloc[0]:+.3f}]"
            cells.append(f"**{text}**" if text and r["robust_in_sign"].iloc[0] else text)
        md.append(f"| {name} | " + " | ".join(cells) + " |")
    md += ["", "Baseline regional influence at the horizon: "
           + ", ".join(f"{p} {base['regional'][:, j].mean():.3f}" for j, p in enumerate(powers)), "",
           "## Modal statuses that differ from the baseline at the horizon", "",
           *([f"- {c}" for c in modal_changes] or ["- none"]), "",
           "## Expected number of downgrades since the start (sum over cells of P(status below its start))", "",
           f"- baseline: {base_down:.2f}", *[f"- {r['scenario']}: {r['expected_downgrades']:.2f}" for r in summary], "",
           "## Largest changes in status probabilities (|change| >= 0.05)", "",
           "| scenario | state | format | level | baseline | change | 95% interval | sign |",
           "|---|---|---|---|---|---|---|---|"]
    st = table[table["kind"].isin(["status_probability", "downgrade_probability"])]
    big = st[st["change"].abs() >= 0.05].sort_values("change", key=np.abs, ascending=False)
    for _, r in big.iterrows():
        level = r["level"] or "downgrade"
        md.append(f"| {r['scenario']} | {r['state']} | {r['format']} | {level} | {r['baseline']:.2f} | "
                  f"{r['change']:+.2f} | [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] | "
                  f"{sign_text(r)} |")
    if big.empty:
        md.append("| (none) | | | | | | | |")
    md += ["", "The full table (every cell, level and power, with the sign shares under each trade basis and pooled) "
           "is `responsiveness.csv`.", ""]
    (out / "responsiveness.md").write_text("\n".join(md), encoding="utf-8")
    return ReportFiles(out / "responsiveness.md", out / "responsiveness.csv")


def _horizon(sc: Scenario, runs: int, seed: int, bases: tuple[str, ...]) -> dict:
    """`runs` runs of `sc` under each trade basis (run k of every basis and scenario shares its seeds and draws),
    stacked basis by basis: regional influence (R, P), status at the horizon and at the start (R, S, F), codes."""
    res = [simulate(sc.with_overrides({"trade_basis": b}), runs=runs, seed=seed) for b in bases]
    first = res[0]
    return {"powers": first.powers, "states": first.states, "formats": first.formats, "date": first.dates[-1],
            "regional": np.concatenate([r.regional_total[-1] for r in res]),
            "status": np.concatenate([r.status[-1] for r in res]),
            "start": np.concatenate([r.status[0] for r in res])}


def _effect(effect: dict[str, float]) -> dict[str, float]:
    """The table's columns of one pooled paired effect: the change and its interval (the sign shares come from
    `sign_robustness`)."""
    return {k: effect[k] for k in ("change", "ci_low", "ci_high")}
