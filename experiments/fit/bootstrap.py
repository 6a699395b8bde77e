"""Parametric bootstrap of the decision rule's estimate (docs/validation/PROTOCOL.md section 4: the sampling
distribution runs with parameter uncertainty will draw from; issue 17 item 3).

The estimate is the penalised ML fit at the origin (`rule.fit`, default 2022.83). Each replicate b draws a synthetic
record from it on the real cells and covariates (`rule.simulate`, seed = seed + b: every scored row's to-level from
the fitted transition matrix of its observed from-level and situation) and refits it by the same penalised
likelihood (`rule.fast_refit`, from the estimate). Written: one row per replicate (and the estimate itself as
replicate -1) with the free parameters on the estimation's scale (rule.PARAMS: theta = ln switching cost by kind
and direction, standardised weights b) and in the model's units (`switching_cost_kind.<kind>.<join|exit>` =
e^theta with the model's kind names, `weights.<k>` / `obligation_cost.<k>` = b / s); resumable (replicates already in
the file are kept, a file from another origin or seed is refused).

    python -m greatgame.experiments.fit.bootstrap --upto 2022.83 --reps 200 --seed 17 --out model/data/rule/bootstrap_2022.csv

`--draws FILE` (with `--out` naming an existing bootstrap file) writes instead the behaviour file that runs with
parameter uncertainty draw the rule from (`draws_file`; model/schema.py BEHAVIOUR, ODD 5):

    python -m greatgame.experiments.fit.bootstrap --out model/data/rule/bootstrap_2022.csv --draws scenarios/rule_draws_2022.csv
    python -m greatgame.experiments.fit.bootstrap --out model/data/rule/bootstrap_2017.csv --draws scenarios/rule_draws_2017.csv
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.experiments.fit import rule
from tqdm import tqdm


def _row(rep: int, seed: int | None, upto: float, fit_: rule.Fit, scales: np.ndarray) -> dict:
    return {"replicate": rep, "seed": seed if seed is not None else -1, "upto": upto, "penalised": fit_.penalised,
            "loglik": fit_.loglik, **dict(zip(rule.PARAMS, map(float, fit_.x), strict=True)),
            **{f"model.{k}": v for k, v in rule.model_units(fit_.x, scales).items()}}


def bootstrap(out: str | Path, upto: float = rule.BASELINE_ORIGIN, reps: int = 200, seed: int = 17,
              minutes: float | None = None, progress: bool = True) -> pd.DataFrame:
    """Run (or continue) the bootstrap into `out`; stop after `minutes` if given (resume by running again)."""
    out = Path(out)
    done = pd.read_csv(out) if out.is_file() else None
    if done is not None and (not np.isclose(done["upto"].iloc[0], upto) or
                             (len(done) > 1 and int(done["seed"].iloc[1]) != seed)):
        raise SystemExit(f"{out}: written for --upto {done['upto'].iloc[0]}, seed {done['seed'].iloc[1:2].tolist()}; "
                         "choose another --out")
    t0 = time.perf_counter()
    data = rule.prepare(upto)
    full, _ = rule.fit(upto, data=data)
    scales = rule.scales(data)
    rows = [] if done is None else done.to_dict(orient="records")
    have = {int(r["replicate"]) for r in rows}
    if -1 not in have:
        rows.append(_row(-1, None, upto, full, scales))
    elif not np.allclose(done.loc[done["replicate"] == -1, list(rule.PARAMS)].to_numpy()[0], full.x, atol=1e-6):
        raise SystemExit(f"{out}: its estimate differs from today's fit (record, panel or code changed); choose "
                         "another --out")
    todo = [b for b in range(reps) if b not in have]
    for b in tqdm(todo, desc="bootstrap", disable=not progress):
        synth = rule.simulate(full.x, data, seed + b)
        est, _ = rule.fast_refit(synth, False, {"estimate": full.x.copy()})
        rows.append(_row(b, seed + b, upto, est, scales))
        pd.DataFrame(rows).sort_values("replicate").to_csv(out, index=False)
        if minutes is not None and time.perf_counter() - t0 > 60 * minutes:
            break
    table = pd.DataFrame(rows).sort_values("replicate").reset_index(drop=True)
    table.to_csv(out, index=False)
    return table


def draws_file(bootstrap_csv: str | Path, out: str | Path) -> pd.DataFrame:
    """The behaviour file of the estimated rule: one row per bootstrap replicate (>= 0, in replicate order), the
    columns the scenario keys of the joint block `schema.BEHAVIOUR` (`parameters.<key>`), each the replicate's
    `model.<key>` (the model's units). Refuses a bootstrap file that lacks a column or has no replicate."""
    from greatgame.model.schema import BEHAVIOUR

    table = pd.read_csv(bootstrap_csv)
    cols = {key: "model." + key.removeprefix("parameters.") for key in BEHAVIOUR.keys}
    missing = sorted(set(cols.values()) - set(table.columns))
    reps = table[table["replicate"] >= 0].sort_values("replicate")
    if missing or reps.empty:
        raise SystemExit(f"{bootstrap_csv}: " + (f"no column {', '.join(missing)}" if missing else "no replicate"))
    draws = pd.DataFrame({key: reps[col].to_numpy() for key, col in cols.items()})
    draws.to_csv(out, index=False, float_format="%.6g")
    return draws


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upto", type=float, default=rule.BASELINE_ORIGIN)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long (resume by running again)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--draws", help="write the behaviour file of the bootstrap in --out to this path (no fitting)")
    args = ap.parse_args(argv)
    if args.draws:
        d = draws_file(args.out, args.draws)
        print(f"{len(d)} draws of {len(d.columns)} parameters in {args.draws}")
        return 0
    t = bootstrap(args.out, args.upto, args.reps, args.seed, args.minutes)
    n = int((t["replicate"] >= 0).sum())
    print(f"{n} of {args.reps} replicates in {args.out}")
    b = t[t["replicate"] >= 0]
    for p in rule.PARAMS:
        lo, hi = np.quantile(b[p], [0.025, 0.975]) if n else (math.nan, math.nan)
        print(f"  {p:40s} estimate {t.loc[t['replicate'] == -1, p].iloc[0]:8.3f}  bootstrap 95% [{lo:8.3f}, {hi:8.3f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
