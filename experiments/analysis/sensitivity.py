"""`python run.py sensitivity STORE --out DIR`: the global-sensitivity report of a finished Sobol batch.

Reads a batch run with a Sobol design (for example experiments/sobol_all.yaml, every uncertain assumption of the
baseline) and writes into DIR: sobol.csv (first- and total-order indices with bootstrap 95% intervals, from
`experiments.analysis.compare.sobol_table`), sobol.png, status_uncertainty.csv, and sensitivity.md naming the assumptions
that decide the Russia-China ranking and the status cells that are least certain. Failed runs: their Saltelli rows
are dropped and counted, never imputed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from greatgame.model.axes import LEVELS
from greatgame.model.yamlio import ScenarioError
from matplotlib.figure import Figure

from ..batch.store import open_batch, report_folder
from .compare import sobol_table
from .reports import ReportFiles

DECIDES = 0.05  # a factor "decides" an outcome when its total-order lower bound exceeds the noise floor by this


@dataclass(frozen=True, kw_only=True)
class SensitivityReport(ReportFiles):
    """The files `sensitivity_report` wrote (report sensitivity.md, table sobol.csv, figure sobol.png, other:
    status_uncertainty.csv; failed: failed runs whose Saltelli rows were dropped) and the two tables in memory."""

    indices: pd.DataFrame  # sobol.csv: one row per outcome x factor, first and total order with 95% intervals
    status: pd.DataFrame  # status_uncertainty.csv: one row per status cell, level probabilities and entropy (bits)


def noise_share(outcomes: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """Per outcome, the share of the variance of the design-point mean that is the model's own noise: the
    within-point variance over replicates / replicates, over the variance of the point means. Each total-order
    estimate carries about this much noise (every design point draws its own streams): the floor a factor with no
    effect would show. NaN with one replicate."""
    reps = outcomes.groupby("design")["replicate"].count()
    if reps.max() < 2:
        return {n: float("nan") for n in names}
    g = outcomes.groupby("design")[names]
    within = g.var(ddof=1).mean() / reps.mean()
    return {n: float(within[n] / g.mean()[n].var(ddof=1)) if g.mean()[n].var(ddof=1) > 0 else float("nan")
            for n in names}


def status_uncertainty(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per status cell at the horizon: the probability of each level over the runs, the modal level, and the
    entropy in bits (0: certain; log2(3) = 1.58: all three levels equally likely)."""
    rows = []
    for col in [c for c in outcomes.columns if c.startswith("status_")]:
        v = outcomes[col].dropna().astype(int).to_numpy()
        if not len(v):
            continue
        p = np.bincount(v, minlength=3)[:3] / len(v)
        nz = p[p > 0]
        _, state, fmt = col.split("_", 2)
        rows.append({"state": state, "format": fmt, **{f"p_{lv}": p[k] for k, lv in enumerate(LEVELS)},
                     "modal": LEVELS[int(p.argmax())], "p_modal": float(p.max()),
                     "entropy_bits": float(-(nz * np.log2(nz)).sum()), "runs": len(v)})
    return pd.DataFrame(rows).sort_values("entropy_bits", ascending=False).reset_index(drop=True)


def _figure(table: pd.DataFrame, names: list[str], path: Path, top: int = 12) -> Path:
    fig = Figure(figsize=(4.6 * len(names), 0.3 * top + 1.8), dpi=110)
    axes = np.atleast_1d(fig.subplots(1, len(names), squeeze=False)[0])
    for ax, name in zip(axes, names, strict=True):
        sub = table[table["outcome"] == name].sort_values("total_order", ascending=False).head(top)[::-1]
        y = np.arange(len(sub))
        ax.barh(y + 0.2, sub["total_order"], height=0.4, color="#1f5fa8", label="total order",
                xerr=[sub["total_order"] - sub["total_low"], sub["total_high"] - sub["total_order"]])
        ax.barh(y - 0.2, sub["first_order"], height=0.4, color="#e1a100", label="first order",
                xerr=[sub["first_order"] - sub["first_low"], sub["first_high"] - sub["first_order"]])
        ax.set_yticks(y, [".".join(p.split(".")[-2:]) for p in sub["parameter"]], fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.axvline(0, color="grey", lw=0.6)
        ax.grid(alpha=0.3, axis="x")
    axes[0].legend(fontsize=8, frameon=False, loc="lower right")
    fig.suptitle(f"Sobol indices, the {top} largest total-order per outcome, bootstrap 95% intervals", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path


def sensitivity_report(store_dir: str | Path, out_dir: str | Path, command: str | None = None,
                       cells: int = 6) -> SensitivityReport:
    """Sobol indices of the continuous outcomes and of the `cells` least certain status cells; the report."""
    t0 = time.perf_counter()
    root = Path(store_dir)
    store, man = open_batch(root, ("sobol",), "run one such as experiments/sobol_all.yaml")
    params = man["design_parameters"]
    design = pd.read_parquet(root / "design.parquet")
    oc = store.read("outcomes")
    runs = store.read("runs")
    failed = int((runs["status"] == "failed").sum()) if "status" in runs.columns else 0
    status = status_uncertainty(oc)
    cont = [c for c in oc.columns if c not in ("design", "replicate") and not c.startswith("status_")
            and not c.startswith("first_lead")]
    top_cells = [f"status_{r.state}_{r.format}" for r in status.head(cells).itertuples() if r.entropy_bits > 0]
    names = cont + top_cells
    out = Path(out_dir)
    report_folder(out)
    table, _ = sobol_table(oc, design, params, names, int(man["sobol_n"]), out, figure=False)
    if table.empty:
        raise ScenarioError(root, "outcomes", "too many failed runs: no complete Saltelli rows to estimate from")
    floor = noise_share(oc, names)
    table["noise_share"] = table["outcome"].map(floor)
    table["decides"] = table["total_low"] - table["noise_share"].fillna(0) > DECIDES
    table.to_csv(out / "sobol.csv", index=False)
    status.to_csv(out / "status_uncertainty.csv", index=False)
    _figure(table, cont, out / "sobol.png")
    wall = time.perf_counter() - t0
    cmd = command or f"python3 run.py sensitivity {root} --out {out}"
    used, dropped = int(table["rows_used"].iloc[0]), int(table["rows_dropped"].iloc[0])
    md = [f"# Global sensitivity: {man.get('experiment')}", "",
          f"Generated by `{cmd}` ({wall:.0f} s) from the batch `{man.get('experiment_file')}` (Sobol design, "
          f"{len(params)} factors, base sample {man.get('sobol_n')}, {man.get('design_points')} design points x "
          f"{man.get('replicates')} replicate(s)). Indices: scipy.stats.sobol_indices (Saltelli first order, Jansen "
          "total order) of the mean over replicates at each point, with bootstrap 95% intervals. Failed runs: "
          f"{failed}; Saltelli rows dropped because of them: {dropped} (rows used: {used}; never imputed). The "
          "model's own noise is unexplained variance: first-order indices sum to less than 1, and every total-order "
          "estimate carries the noise floor (stated per outcome); a factor whose total-order interval reaches the "
          "floor has an effect smaller than its interval.", "", "![sobol](sobol.png)", ""]
    gap = [n for n in cont if n.startswith("gap_")]
    for name in gap + [n for n in cont if n not in gap]:
        sub = table[table["outcome"] == name].sort_values("total_order", ascending=False)
        decide = sub[sub["decides"]]
        floor_txt = (f"noise floor of the total-order index (model noise / variance of the point means): "
                     f"{floor[name]:.3f}" if np.isfinite(floor[name]) else "noise floor unknown (one replicate)")
        md += [f"## {name}", "", f"The {floor_txt}.", ""]
        if name in gap:
            md.append("**Which assumptions decide the Russia-China ranking** (the gap, China minus Russia, at the "
                      f"horizon): {_names(decide)} (total-order lower bound above the noise floor + {DECIDES}).")
        else:
            md.append(f"Factors whose total-order lower bound exceeds the noise floor + {DECIDES}: {_names(decide)}.")
        small = sub[sub["total_low"] <= sub["noise_share"].fillna(0)]
        md += [f"{len(small)} of {len(sub)} factors have a total-order interval that reaches the noise floor: their "
               "effect is smaller than its interval.", "", "| factor | first order [95%] | total order [95%] |", "|---|---|---|"]
        for _, r in sub.head(12).iterrows():
            md.append(f"| {r['parameter']} | {r['first_order']:.3f} [{r['first_low']:.3f}, {r['first_high']:.3f}] | "
                      f"{r['total_order']:.3f} [{r['total_low']:.3f}, {r['total_high']:.3f}] |")
        md.append("")
    md += ["## The least certain status cells at the horizon", "",
           "Over all runs of the batch (all factors varying): probability of each level and entropy (0 bits = "
           "certain, 1.58 = all three equally likely).", "",
           "| state | format | none | partial | member | modal | entropy (bits) |", "|---|---|---|---|---|---|---|"]
    for r in status.itertuples():
        md.append(f"| {r.state} | {r.format} | {r.p_none:.2f} | {r.p_partial:.2f} | {r.p_member:.2f} | {r.modal} | "
                  f"{r.entropy_bits:.2f} |")
    md.append("")
    for name in top_cells:
        sub = table[table["outcome"] == name].sort_values("total_order", ascending=False)
        decide = sub[sub["decides"]]
        md.append(f"- `{name}` (status 0 none, 1 partial, 2 member): decided by {_names(decide)}.")
    md += ["", "`sobol.csv` holds every outcome x factor; `status_uncertainty.csv` every cell.", ""]
    (out / "sensitivity.md").write_text("\n".join(md), encoding="utf-8")
    return SensitivityReport(out / "sensitivity.md", out / "sobol.csv", out / "sobol.png",
                             MappingProxyType({"status_uncertainty": out / "status_uncertainty.csv"}), failed,
                             indices=table, status=status)


def _names(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "no single factor (every total-order interval reaches below the threshold)"
    return ", ".join(f"`{r['parameter']}` ({r['total_order']:.2f})" for _, r in rows.iterrows())
