"""`greatgame estimate`: the in-sample penalised ML fit of the states' decision rule on the dated record (issue 17,
docs/validation/PROTOCOL.md section 4; the likelihood is `experiments/fit/rule.py`).

Writes `estimate.md` and `estimate.csv` into a folder: every parameter of the rule with its estimate (full model
and the restricted "persistence with base rates" model), the profile-likelihood interval where computed, and
whether it is estimated or stays a documented judgement. This is an in-sample fit at one origin (default 2022.83,
the baseline's start); out-of-sample scores follow the protocol's origins and are not computed here.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.model.files import DATA_DIR

from ..analysis.reports import ReportFiles
from ..batch.store import report_folder, writes_report
from . import rule
from .spells import load_record

# What the likelihood does not estimate (PROTOCOL 4 and 9b), each with why.
JUDGED = (
    ("rationality", "1 (the scale)", "fixed: every weight and cost is in its units (PROTOCOL 4)"),
    ("revision_rate", f"{rule.REVISION_RATE} per quarter", "judgement: not separable from the switching costs by a "
     "record of this size (PROTOCOL 4)"),
    ("weights.investment", "baseline value", "judgement: the panel has no FDI or debt by investor (PROTOCOL 9b)"),
    ("doctrine penalties", "baseline values", "judgement: charters and doctrine texts (ODD 4.2c); doctrine dates in "
     "ODD 7.11"),
    ("format depths, channels, obligations", "baseline values", "judgements from the charters (ODD 3.2)"),
)


PRIOR_WIDTH = 2 * 1.96  # the prior's 95% range in units of its standard deviation (PROTOCOL 4)
BOOTSTRAP = DATA_DIR / "rule" / "bootstrap_2022.csv"


def _bootstrap(upto: float, full: rule.Fit) -> dict[str, tuple[float, float]]:
    """The shipped bootstrap's 2.5-97.5% range per parameter, if it was made from this very fit (same origin, the
    same estimate to 1e-3), else {}."""
    if not BOOTSTRAP.is_file():
        return {}
    b = pd.read_csv(BOOTSTRAP)
    est = b[b["replicate"] == -1]
    if est.empty or abs(float(est["upto"].iloc[0]) - upto) > 1e-9 or \
            np.abs(est[list(rule.PARAMS)].to_numpy()[0] - full.x).max() > 1e-3:
        return {}
    reps = b[b["replicate"] >= 0]
    return {p: (float(reps[p].quantile(0.025)), float(reps[p].quantile(0.975))) for p in rule.PARAMS}


@writes_report("out_dir")  # one writer per folder
def estimate(out_dir: str | Path, upto: float = rule.BASELINE_ORIGIN, record_path: str | Path | None = None,
             profile: bool = True, starts: int = 3, progress: bool = True, command: str = "",
             panel_path: str | Path | None = None) -> ReportFiles:
    """Fit the full and the restricted rule on the record cut at `upto` (a decimal year); profile every parameter
    of both when `profile`; write estimate.md and estimate.csv into out_dir. `panel_path`: the panel folder in
    use (`model.panel.use_panel`, set by the caller), named in the report."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    report_folder(out)

    def say(text: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - t0:6.1f} s] {text}", flush=True)

    record = load_record(record_path) if record_path else None
    say(f"record cut at {upto}; building the panel's year models")
    data = rule.prepare(upto, record=record)
    say("penalised ML: restricted model, then the full model from each start")
    full, restricted = rule.fit(upto, data=data, starts=starts)
    if profile:
        say("profile-likelihood intervals of every parameter of the full model and of the restricted model's costs")
        full.intervals = rule.profile(full, data)
        restricted.intervals = rule.profile(restricted, data)
    rows = []
    for fit_, name in ((full, "full"), (restricted, "restricted")):
        t = fit_.table()
        t.insert(0, "model", name)
        if name == "restricted":
            t = t[t["parameter"].str.startswith("theta.")]
        rows.append(t)
    table = pd.concat(rows, ignore_index=True)
    table["status"] = "estimated"
    prior = [PRIOR_WIDTH * (rule.THETA_SD if p.startswith("theta.") else rule.BETA_SD) for p in table["parameter"]]
    width = table["high"] - table["low"]
    table["identified"] = [("" if pd.isna(w) else "by the record" if w < 0.5 * pw else "weakly: the prior shapes it")
                           for w, pw in zip(width, prior, strict=True)]
    boot = _bootstrap(upto, full)
    table["boot_low"] = [boot.get(p, (float("nan"),) * 2)[0] if m == "full" else float("nan")
                         for m, p in zip(table["model"], table["parameter"], strict=True)]
    table["boot_high"] = [boot.get(p, (float("nan"),) * 2)[1] if m == "full" else float("nan")
                          for m, p in zip(table["model"], table["parameter"], strict=True)]
    table.to_csv(out / "estimate.csv", index=False)
    cmd = command or f"python3 run.py estimate --upto {upto} --out {out}"
    md = ["# The states' decision rule, estimated on the dated record (in sample)", "",
          f"Generated by `{cmd}` ({time.perf_counter() - t0:.0f} s). Record: "
          f"`{record_path or 'model/data/panel/record.csv'}`, cut at {upto}; covariates: the yearly panel "
          f"(`{panel_path or 'model/data/panel/'}`, `experiments/fit/covariates.py`); likelihood: the model's own "
          "choice functions (`experiments/fit/rule.py`, docs/ODD.md 7.11); penalties and bounds: "
          "docs/validation/PROTOCOL.md section 4. **In sample**: the out-of-sample scores are `python3 run.py "
          "validate`'s.", "",
          "| model | ln L | penalised ln L |", "|---|---|---|",
          f"| full | {full.loglik:.2f} | {full.penalised:.2f} |",
          f"| restricted (persistence with base rates: every weight 0) | {restricted.loglik:.2f} | "
          f"{restricted.penalised:.2f} |", "",
          "Starts of the full model (the best is kept): "
          + "; ".join(f"{s['start']} {s['penalised']:.3f} ({s['iterations']} iterations)" for s in full.starts), "",
          "## Estimated", "",
          "theta: ln of the switching cost per kind and direction (cost = exp(theta), utility units at rationality 1); "
          "weights: standardised (the term divided by its scale over the training rows, PROTOCOL 4). Intervals: "
          "profile likelihood, 95%, where computed; a side that reaches a bound is a bound. Identified by the record: "
          "the profile interval is narrower than half the prior's 95% range (theta 11.8, weights 7.8); else the "
          "penalty shapes it. Bootstrap: the 2.5-97.5% range of the 200 parametric-bootstrap refits of "
          f"`{BOOTSTRAP.relative_to(BOOTSTRAP.parents[3])}` (only for the shipped fit at 2022.83: "
          f"{'used' if boot else 'not this fit'}).", "",
          "| model | parameter | estimate | 95% profile interval | identified | bootstrap 95% |", "|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        interval = "" if pd.isna(r["low"]) else f"[{r['low']:.2f}, {r['high']:.2f}]{' ' + r['note'] if r['note'] else ''}"
        bi = "" if pd.isna(r["boot_low"]) else f"[{r['boot_low']:.2f}, {r['boot_high']:.2f}]"
        md.append(f"| {r['model']} | {r['parameter']} | {r['estimate']:.3f} | {interval} | {r['identified']} | {bi} |")
    md += ["", "## Documented judgements (not estimated)", "", "| parameter | value | why |", "|---|---|---|",
           *[f"| {a} | {b} | {c} |" for a, b, c in JUDGED], ""]
    (out / "estimate.md").write_text("\n".join(md), encoding="utf-8")
    say(f"wrote {out / 'estimate.md'} and estimate.csv")
    return ReportFiles(out / "estimate.md", out / "estimate.csv")
