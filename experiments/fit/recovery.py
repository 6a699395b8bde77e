"""Parameter recovery of the decision rule's estimate (issue 17 item 7; docs/validation/PROTOCOL.md section 4).

`python -m greatgame.experiments.fit.recovery --upto 2022.83 --reps N --seed S --out docs/validation` takes the
penalised ML fits at the origin (`rule.fit`: the full model and the restricted one) as two truths, simulates N
synthetic records from each on the real covariates and cells (`rule.simulate`, seeds S .. S + N - 1: each scored
row's to-level drawn from the truth's transition matrix given the observed from-level and situation, as the
likelihood conditions on them), refits each from the truth and from zero (the better kept: `rule.fast_refit`),
profiles every free parameter (`rule.profile`, 95%, a drop of 1.92 in the penalised ln L) and reports per parameter:
truth, mean estimate, bias, root mean square error, coverage of the profile interval (the share of replicates whose
interval contains the truth) with its 90% Clopper-Pearson interval, and the share of one-sided intervals.

Writes recovery.md (readable table, command, runtime, caveats) and recovery.csv (the summary, columns `COLUMNS`)
into --out, and keeps its work in --work (default: --out): recovery_replicates.csv (one row per replicate and
parameter) and recovery_truth.json (the fits at the origin). Resumable: replicates already in the work file (same
origin, seed and truth) are kept, and `--minutes` stops starting new replicates after that time, so a long run is
done in pieces; the report says when fewer replicates than asked are done (partial).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import beta

from . import rule
from .spells import load_record

COLUMNS = ("model", "parameter", "truth", "mean_estimate", "bias", "rmse", "coverage", "coverage_low",
           "coverage_high", "one_sided", "replicates")
"""Columns of recovery.csv: coverage_low/high are the 90% Clopper-Pearson interval of the coverage share."""
REPLICATE_COLUMNS = ("model", "replicate", "seed", "parameter", "truth", "estimate", "low", "high", "note", "covered",
                     "penalised", "best_start", "seconds")
COVERAGE_LEVEL = 0.90


def clopper_pearson(k: int, n: int, level: float = COVERAGE_LEVEL) -> tuple[float, float]:
    """Exact binomial interval of a share k / n: the Beta(k, n - k + 1) and Beta(k + 1, n - k) quantiles at
    (1 - level) / 2 and (1 + level) / 2; (0, 1) when n = 0."""
    if n == 0:
        return 0.0, 1.0
    a = (1 - level) / 2
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return low, high


def summarise(reps: pd.DataFrame) -> pd.DataFrame:
    """Per model and parameter: truth, mean estimate, bias (mean estimate - truth), RMSE, coverage with its 90%
    Clopper-Pearson interval, share of one-sided intervals, number of replicates (columns `COLUMNS`)."""
    rows = []
    for (model, name), g in reps.groupby(["model", "parameter"], sort=False):
        n, k = len(g), int(g["covered"].astype(bool).sum())
        low, high = clopper_pearson(k, n)
        err = g["estimate"] - g["truth"]
        rows.append({"model": model, "parameter": name, "truth": float(g["truth"].iloc[0]),
                     "mean_estimate": float(g["estimate"].mean()), "bias": float(err.mean()),
                     "rmse": float(np.sqrt((err ** 2).mean())), "coverage": k / n, "coverage_low": low,
                     "coverage_high": high, "one_sided": float((g["note"].fillna("").astype(str) != "").mean()),
                     "replicates": n})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _truths(data: rule.Data, upto: float, path: Path) -> dict[str, rule.Fit]:
    """The fits at the origin (cached in recovery_truth.json next to the report, keyed by the origin and states)."""
    key = {"upto": upto, "states": list(data.states)}
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return {m: rule.Fit(np.array(v["x"]), v["loglik"], v["penalised"], m == "restricted", [], v["seconds"])
                    for m, v in saved["fits"].items()}
    full, restricted = rule.fit(upto, data=data)
    fits = {"full": full, "restricted": restricted}
    path.write_text(json.dumps({"key": key, "fits": {m: {"x": f.x.tolist(), "loglik": f.loglik, "penalised": f.penalised,
                                                         "seconds": f.seconds} for m, f in fits.items()}}, indent=1),
                    encoding="utf-8")
    return fits


def run(out_dir: str | Path, upto: float = rule.BASELINE_ORIGIN, reps: int = 20, seed: int = 17,
        states: Sequence[str] | None = None, names: Sequence[str] | None = None, models: Sequence[str] = ("full",
        "restricted"), minutes: float | None = None, from_zero: bool = True, record_path: str | Path | None = None,
        command: str = "", progress: bool = True, work_dir: str | Path | None = None) -> pd.DataFrame:
    """Run (or resume) the recovery and write the report; returns the summary (columns `COLUMNS`). `names` limits the
    parameters profiled (default every free one of each model); `minutes` stops starting new replicates after it."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(work_dir) if work_dir is not None else out
    work.mkdir(parents=True, exist_ok=True)

    def say(text: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - t0:6.1f} s] {text}", flush=True)

    record = load_record(record_path) if record_path else None
    data = rule.prepare(upto, record=record, **({"states": tuple(states)} if states else {}))
    say(f"record cut at {upto}: {data.n_rows} scored rows; fitting the truths")
    fits = _truths(data, upto, work / "recovery_truth.json")
    rep_path = work / "recovery_replicates.csv"
    done = pd.read_csv(rep_path, keep_default_na=False) if rep_path.exists() else pd.DataFrame(columns=REPLICATE_COLUMNS)
    if len(done):  # keep only replicates of these truths and seeds
        truth_of = {(m, p): fits[m].x[rule.PARAMS.index(p)] for m in fits for p in rule.PARAMS}
        ok = [abs(float(r.truth) - truth_of[(r.model, r.parameter)]) < 1e-9 and int(r.seed) == seed + int(r.replicate)
              for r in done.itertuples()]
        done = done[ok]
    parts = [done] if len(done) else []
    stopped = False
    for r in range(reps):
        for model in models:
            if len(done) and ((done["model"] == model) & (done["replicate"] == r)).any():
                continue
            if minutes is not None and time.perf_counter() - t0 > 60 * minutes:
                stopped = True
                break
            restricted = model == "restricted"
            sel = [n for n in (names or rule.PARAMS) if not restricted or n.startswith("theta.")]
            rows = rule.recovery(fits[model].x, data, seed + r, restricted, sel, from_zero=from_zero)
            rows.insert(0, "model", model)
            rows.insert(1, "replicate", r)
            rows.insert(2, "seed", seed + r)
            parts.append(rows[list(REPLICATE_COLUMNS)])
            pd.concat(parts, ignore_index=True).to_csv(rep_path, index=False)
            say(f"{model} replicate {r} (seed {seed + r}): {rows['seconds'].iloc[0]:.0f} s, "
                f"{int(rows['covered'].sum())}/{len(rows)} covered")
        if stopped:
            break
    allreps = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=REPLICATE_COLUMNS)
    summary = summarise(allreps)
    summary.to_csv(out / "recovery.csv", index=False)
    write_markdown(out / "recovery.md", summary, allreps, fits, upto, reps, seed, data,
                   command or f"python -m greatgame.experiments.fit.recovery --upto {upto} --reps {reps} --seed {seed} "
                   f"--out {out}", from_zero)
    say(f"wrote {out / 'recovery.md'} and recovery.csv (work files in {work})")
    return summary


def write_markdown(path: Path, summary: pd.DataFrame, reps: pd.DataFrame, fits: dict[str, rule.Fit], upto: float,
                   asked: int, seed: int, data: rule.Data, command: str, from_zero: bool) -> None:
    """recovery.md: what was done, the caveats and one table per truth."""
    one = reps.drop_duplicates(["model", "replicate"]) if len(reps) else pd.DataFrame(columns=["model", "seconds"])
    seconds = one["seconds"].astype(float)
    per_model = one.groupby("model")["seconds"].mean().to_dict()
    n_done = {m: int(reps.loc[reps["model"] == m, "replicate"].nunique()) for m in fits}
    partial = any(n_done[m] < asked for m in fits)
    md = ["# Parameter recovery of the decision rule's estimate (issue 17 item 7)", "",
          *([("**PARTIAL RESULTS**: fewer replicates are done than asked ("
              + ", ".join(f"{m}: {n_done[m]} of {asked}" for m in fits) + ")."), ""] if partial else []),
          f"Generated by `{command}`. Replicates: " + ", ".join(f"{m} {n_done[m]}" for m in fits)
          + f" (seeds {seed} .. {seed + asked - 1}). Compute time {seconds.sum() / 60:.1f} min over the replicates ("
          + ", ".join(f"{m} {per_model.get(m, float('nan')):.0f} s each" for m in fits)
          + f" on average: simulate, refit, profile), plus {sum(f.seconds for f in fits.values()):.0f} s for the fits of "
          "the truths; under `nice` on 2 shared cores, run in resumable pieces of under 10 minutes.", "",
          "**What is done.** The truths are the penalised ML fits at the origin "
          f"{upto} (`rule.fit`, PROTOCOL 4): the full model (penalised ln L {fits['full'].penalised:.2f}) and the "
          f"restricted model (persistence with base rates, {fits['restricted'].penalised:.2f}). From each, synthetic "
          f"records are drawn on the real cells and covariates ({data.n_rows} scored rows; `rule.simulate`), each "
          "refitted by the same penalised likelihood " + ("from the truth and from zero (the better kept)"
                                                           if from_zero else "from the truth")
          + " and every free parameter profiled (95%, a drop of 1.92 in the penalised ln L; `rule.profile`, fast path). "
          "Coverage is the share of replicates whose profile interval contains the truth, with its 90% "
          "Clopper-Pearson interval; a one-sided interval (the profile does not reach the drop inside the bound) "
          "counts as covering when the truth lies between its end and the bound.", "",
          "**Caveats.** (1) The covariates are fixed at the real ones: the recovery says what the record's design "
          "(cells, years, covariates) can identify, not how covariate error propagates. (2) The from-status and the "
          "situation of every scored row are the observed ones, as in the likelihood (each row is drawn given its "
          "observed start, not chained along a simulated path), so the number of rows at risk of each move is the "
          "record's. (3) The intervals are of the *penalised* likelihood: a parameter the data do not inform has the "
          "prior's interval (theta ~ N(0, 3^2): +-5.88 around 0, inside the bound of 10), so it comes out two-sided and "
          "its coverage is the prior's, not the data's. (4) The truth is a fit of the record, so the true values are "
          "those the record supports; parameters with wide intervals there are wide here too.", ""]
    for model in fits:
        s = summary[summary["model"] == model]
        if s.empty:
            continue
        md += [f"## Truth: the {model} model", "",
               "| parameter | truth | mean estimate | bias | RMSE | coverage | 90% interval | one-sided | n |",
               "|---|---|---|---|---|---|---|---|---|"]
        for r in s.itertuples():
            md.append(f"| {r.parameter} | {r.truth:.3f} | {r.mean_estimate:.3f} | {r.bias:+.3f} | {r.rmse:.3f} | "
                      f"{r.coverage:.2f} | [{r.coverage_low:.2f}, {r.coverage_high:.2f}] | {r.one_sided:.2f} | "
                      f"{r.replicates} |")
        pooled_k = int(reps.loc[reps["model"] == model, "covered"].astype(bool).sum())
        pooled_n = int((reps["model"] == model).sum())
        lo, hi = clopper_pearson(pooled_k, pooled_n)
        off = [f"{r.parameter} ({r.coverage:.2f})" for r in s.itertuples()
               if not r.coverage_low <= 0.95 <= r.coverage_high]
        md += ["", f"Pooled over parameters and replicates: coverage {pooled_k / max(pooled_n, 1):.2f} "
               f"({pooled_k} of {pooled_n}; 90% interval [{lo:.2f}, {hi:.2f}], replicates not independent across "
               "parameters). Parameters whose 90% coverage interval excludes the nominal 0.95: "
               + (", ".join(off) if off else "none") + ".", ""]
    md += ["Columns of recovery.csv: " + ", ".join(f"`{c}`" for c in COLUMNS) + " (coverage_low/high: the 90% "
           "Clopper-Pearson interval of the coverage; one_sided: the share of replicates whose interval is one-sided). "
           "The replicate rows are in the run's work folder (recovery_replicates.csv).", ""]
    path.write_text("\n".join(md), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m greatgame.experiments.fit.recovery", description=__doc__.split("\n")[0])
    ap.add_argument("--upto", type=float, default=rule.BASELINE_ORIGIN, help="origin (decimal year); default 2022.83")
    ap.add_argument("--reps", type=int, default=20, help="replicates per truth; default 20")
    ap.add_argument("--seed", type=int, default=17, help="first seed; replicate r uses seed + r; default 17")
    ap.add_argument("--out", default="docs/validation", help="report folder; default docs/validation")
    ap.add_argument("--work", default=None, help="folder of the replicate rows and the truths (default: --out)")
    ap.add_argument("--states", nargs="*", default=None, help="a subset of the panel's states (default all)")
    ap.add_argument("--models", nargs="*", default=["full", "restricted"], choices=["full", "restricted"])
    ap.add_argument("--minutes", type=float, default=None, help="start no new replicate after this many minutes")
    ap.add_argument("--no-zero-start", action="store_true", help="refit from the truth only")
    a = ap.parse_args(argv)
    if a.reps < 1:
        print(f"--reps: {a.reps}: must be at least 1", file=sys.stderr)
        return 2
    cmd = " ".join(["python -m greatgame.experiments.fit.recovery", *(argv if argv is not None else sys.argv[1:])])
    run(a.out, a.upto, a.reps, a.seed, a.states, None, a.models, a.minutes, not a.no_zero_start, command=cmd,
        work_dir=a.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
