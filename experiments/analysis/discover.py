"""`python run.py discover STORE --outcome NAME --where EXPR`: scenario discovery with PRIM on a finished batch.

Under which conditions does an outcome of interest happen? The cases are the runs of an LHS or Sobol batch where
`EXPR` (a pandas expression over the outcome columns; `value` stands for `--outcome`) is true. PRIM (Friedman and
Fisher 1999), as implemented by the EMA Workbench 3 (`ema_workbench.analysis.prim`, optional extra `[discovery]`),
peels the design space towards a box of high density (share of cases inside the box) that keeps high coverage
(share of all cases that lie inside). The box is chosen on the peeling trajectory as the densest box whose
coverage is at least `--min-coverage`; restrictions whose quasi-p-value exceeds 0.05 are then dropped (a
restriction PRIM cannot tell from chance). Feature scores (extra-trees, EMA Workbench) rank every design
parameter and every parameter the runs drew from the scenario's `uncertainty:` section.

Failed runs (non-finite state) have no outcome: they are dropped and counted in the report, never imputed. A
`first_lead` outcome is a decimal year (NaN when it never happens; a comparison with NaN is false).

The chosen box is written back as runnable input: `box_scenario.yaml` extends the batch's scenario, and its
`uncertainty.ranges` give every design parameter the box's range (restricted parameters) or its design range
(the others), with the value set to the range's midpoint; `box_experiment.yaml` is an LHS experiment sampling
inside the box. `--check N` runs that experiment with N fresh points and reports the box's density there beside
PRIM's in-sample figure.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from greatgame.model import keypaths
from greatgame.model.params import renormalised
from greatgame.model.yamlio import ScenarioError
from matplotlib.figure import Figure

from ..batch.store import Store, open_batch, report_folder
from .compare import jeffreys

QP_MAX = 0.05  # restrictions with a larger quasi-p-value are dropped
FEATURE_SEED = 20221014


def _need_workbench() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import feature_scoring, prim
    except ImportError:
        raise ScenarioError("run.py", "discover", "needs the EMA Workbench: python3 -m pip install -e "
                            "'.[discovery]'") from None
    return prim, feature_scoring


def cases_of(outcomes: pd.DataFrame, outcome: str, where: str | None, file: str) -> np.ndarray:
    """Evaluate `where` (default: `value > 0`) on the outcome table; a bool per row. `value` is the outcome."""
    if outcome not in outcomes.columns:
        valid = [c for c in outcomes.columns if c not in ("design", "replicate")]
        raise ScenarioError(file, "--outcome", f"unknown outcome '{outcome}' (this batch has: {', '.join(valid)})")
    expr = where or "value > 0"
    frame = outcomes.assign(value=outcomes[outcome])
    try:
        hits = frame.eval(expr, engine="python")
    except Exception as exc:  # noqa: BLE001 - any failure to evaluate is the expression's fault: say which
        name = getattr(exc, "args", [""])[0]
        valid = [c for c in frame.columns if c not in ("design", "replicate")]
        raise ScenarioError(file, "--where", f"cannot evaluate {expr!r}: {name} (columns: {', '.join(valid)})") from None
    hits = np.asarray(hits)
    if hits.shape != (len(frame),) or hits.dtype != bool:
        raise ScenarioError(file, "--where", f"{expr!r} must give true or false for each run (a comparison such as "
                            f"'{outcome} < 2031'), got {hits.dtype}")
    return hits


@dataclass(frozen=True)
class Batch:
    """One scenario of a finished LHS or Sobol batch, as discovery reads it (`load_batch`)."""

    root: Path  # the batch folder
    manifest: Mapping[str, Any]  # its manifest.json
    params: list[str]  # the design parameters (dotted keys)
    scenario: str  # the scenario's name in the batch
    table: pd.DataFrame  # one row per finished run: outcomes, design values and the values the run drew
    drawn: list[str]  # the columns of values drawn per run from the scenario's `uncertainty:` section
    failed: int  # failed runs of this scenario (no outcome; dropped)
    ranges: Mapping[str, dict]  # design ranges by parameter, as in the experiment file (`low`, `high`, `scale`)
    scenario_file: str  # the scenario's file as the experiment names it


@dataclass(frozen=True)
class PrimBox:
    """The box PRIM chose (`run_prim`). Coverage, density and mass are shares (0-1)."""

    trajectory: pd.DataFrame  # the peeling trajectory: coverage, density, mass, res_dim per box
    chosen: int  # the chosen box's index on the trajectory
    limits: pd.DataFrame  # per restricted parameter: box_low, box_high, qp_low, qp_high (quasi-p-values)
    dropped: list[str]  # restrictions dropped as insignificant (quasi-p > QP_MAX)
    coverage: float  # share of all cases inside the box
    density: float  # share of the runs inside the box that are cases
    mass: float  # share of all runs inside the box


@dataclass(frozen=True)
class FreshCheck:
    """The box's density on a fresh sample (`check_box`): the exported experiment run anew."""

    runs: int  # runs with an outcome
    cases: int  # runs where the question is true
    density: float  # cases / runs (0-1; NaN without runs)
    interval: tuple[float, float]  # Jeffreys 95% interval of the density
    failed_dropped: int  # failed runs dropped
    folder: Path  # the batch folder of the fresh sample


@dataclass(frozen=True)
class Discovery:
    """What `discover` found and wrote. A null result (no run, or every run, is a case) has no box: `null` is True
    and the box fields are None. Shares are 0-1."""

    runs: int  # runs used (failed runs dropped)
    cases: int  # runs where the question is true
    failed_dropped: int  # failed runs dropped (no outcome; never imputed)
    report: Path  # discovery.md
    null: bool = False  # no box: no run, or every run, is a case
    coverage: float | None = None  # share of all cases inside the box (in-sample)
    density: float | None = None  # share of the runs inside the box that are cases (in-sample)
    mass: float | None = None  # share of all runs inside the box
    box_runs: int | None = None  # runs inside the box (after dropping insignificant restrictions)
    box_cases: int | None = None  # cases inside the box
    density_interval: tuple[float, float] | None = None  # Jeffreys 95% interval of box_cases / box_runs
    base_rate: float | None = None  # cases / runs
    restricted: list[str] | None = None  # parameters the box restricts
    dropped: list[str] | None = None  # restrictions dropped as insignificant (quasi-p > QP_MAX)
    fresh: FreshCheck | None = None  # the fresh-sample check (`--check N`), if run
    box_scenario: Path | None = None  # box_scenario.yaml: the box as a runnable scenario
    box_experiment: Path | None = None  # box_experiment.yaml: an LHS experiment inside the box


def load_batch(store_dir: str | Path, scenario: str | None) -> Batch:
    """The finished batch's manifest, design (values per design point), outcomes and drawn parameters, for one
    scenario; refuses a folder that is not a batch or a batch without an LHS or Sobol design."""
    root = Path(store_dir)
    store, man = open_batch(root, ("lhs", "sobol"), "discovery needs one (see experiments/discovery_lhs.yaml)")
    params = man["design_parameters"]
    design = pd.read_parquet(root / "design.parquet")
    names = list(dict.fromkeys(design["scenario"]))
    name = scenario or man.get("reference") or names[0]
    if name not in names:
        raise ScenarioError(root, "--scenario", f"no scenario '{name}' in this batch ({', '.join(names)})")
    design = design[design["scenario"] == name]
    runs = store.read("runs")
    runs = runs[runs["design"].isin(design["design"])]
    outcomes = store.read("outcomes")
    outcomes = outcomes[outcomes["design"].isin(design["design"])]
    if outcomes.empty:
        raise ScenarioError(root, "outcomes", "no finished runs in this batch")
    drawn = store.read("parameters")
    if not drawn.empty:
        drawn = drawn[drawn["design"].isin(design["design"]) & ~drawn["parameter"].isin(params)
                      & (drawn["parameter"] != "uncertainty.behaviour_row")]
        drawn = drawn.pivot_table(index=["design", "replicate"], columns="parameter", values="value").reset_index()
    table = outcomes.merge(design[["design", *params]], on="design", how="left")
    if not drawn.empty:
        table = table.merge(drawn, on=["design", "replicate"], how="left")
    n_failed = int((runs["status"] == "failed").sum()) if "status" in runs.columns else 0
    spec = man.get("experiment_spec") or {}
    return Batch(root=root, manifest=man, params=params, scenario=name, table=table,
                 drawn=[c for c in drawn.columns if c not in ("design", "replicate")] if not drawn.empty else [],
                 failed=n_failed, ranges=(spec.get("design") or {}).get("parameters") or {},
                 scenario_file=str(design["scenario_file"].iloc[0]))


def choose_box(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The densest box on the peeling trajectory with coverage >= min_coverage (else the best
    coverage x density); ties go to the larger coverage."""
    ok = trajectory[trajectory["coverage"] >= min_coverage]
    if ok.empty:
        score = trajectory["coverage"] * trajectory["density"]
        return int(trajectory.index[int(np.argmax(score.to_numpy()))])
    best = ok[ok["density"] == ok["density"].max()]
    return int(best.sort_values("coverage", ascending=False).index[0])


def run_prim(x: pd.DataFrame, y: np.ndarray, min_coverage: float) -> PrimBox:
    """PRIM over the design columns of x: trajectory, the chosen box's limits with quasi-p-values (restrictions
    beyond QP_MAX dropped), its coverage, density and mass."""
    prim, _ = _need_workbench()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y.astype(bool))
        box = p.find_box()
        trajectory = box.peeling_trajectory.copy()
        chosen = choose_box(trajectory, min_coverage)
        box.select(chosen)
        dropped = []
        for _ in range(x.shape[1]):
            limits = box.inspect(style="data")[0][1]
            qp = limits.xs("qp value", axis=1, level=1) if limits.columns.nlevels > 1 else None
            worst = None
            if qp is not None:
                qmax = qp.max(axis=1)
                qmax = qmax[qmax > QP_MAX]
                worst = str(qmax.idxmax()) if not qmax.empty else None
            if worst is None:
                break
            box.drop_restriction(worst)
            dropped.append(worst)
        stats_, limits = box.inspect(style="data")[0]
    lim = limits.droplevel(0, axis=1) if limits.columns.nlevels > 1 else limits
    cols = list(lim.columns)
    rows = []
    for name in lim.index:
        qps = lim.loc[name].iloc[2:4].to_numpy(dtype=float) if len(cols) >= 4 else np.array([np.nan, np.nan])
        rows.append({"parameter": name, "box_low": float(lim.loc[name].iloc[0]),
                     "box_high": float(lim.loc[name].iloc[1]), "qp_low": qps[0], "qp_high": qps[1]})
    limits_table = pd.DataFrame(rows, columns=["parameter", "box_low", "box_high", "qp_low", "qp_high"])
    return PrimBox(trajectory=trajectory, chosen=chosen, limits=limits_table, dropped=dropped,
                   coverage=float(stats_["coverage"]), density=float(stats_["density"]), mass=float(stats_["mass"]))


def feature_scores(x: pd.DataFrame, y: np.ndarray) -> pd.Series:
    """Extra-trees feature scores of every column of x for the cases y (EMA Workbench; fixed random state)."""
    _, fs = _need_workbench()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = fs.get_ex_feature_scores(x, y.astype(int), random_state=FEATURE_SEED)[0]
    return scores.iloc[:, 0].sort_values(ascending=False)


def box_ranges(limits: pd.DataFrame, design_ranges: dict[str, dict]) -> dict[str, dict[str, Any]]:
    """Every design parameter's range in the box: the box's limits if PRIM restricted it, else its design range."""
    out = {}
    lim = limits.set_index("parameter")
    for k, spec in design_ranges.items():
        lo, hi = float(spec["low"]), float(spec["high"])
        restricted = False
        if k in lim.index:
            blo, bhi = float(lim.loc[k, "box_low"]), float(lim.loc[k, "box_high"])
            restricted = blo > lo + 1e-12 * max(1.0, abs(lo)) or bhi < hi - 1e-12 * max(1.0, abs(hi))
            lo, hi = max(lo, blo), min(hi, bhi)
        out[k] = {"low": lo, "high": hi, "restricted": restricted, **({"scale": spec["scale"]} if "scale" in spec
                                                                         else {})}
    return out


def _path_from(out: Path, target: Path) -> str:
    """`target` relative to the folder `out` when both lie in one project tree, else absolute."""
    rel = os.path.relpath(target, out.resolve())
    return rel if rel.count("..") <= 3 else str(target)


def write_box_files(out: Path, batch: Batch, ranges: dict[str, dict], outcome: str, where: str,
                    points: int, seed: int) -> tuple[Path, Path]:
    """box_scenario.yaml (extends the batch's scenario, box ranges as uncertainty) and box_experiment.yaml (an
    LHS inside the box). Both are validated with the project's loaders before they are kept."""
    from greatgame.model.scenario import load_scenario

    from ..batch.spec import load_experiment

    man = batch.manifest
    exp_dir = Path(man.get("experiment_file", ".")).resolve().parent
    base_file = (exp_dir / batch.scenario_file).resolve()
    base = load_scenario(base_file)
    behaviour = set(base.uncertainty.behaviour_keys) if base.uncertainty is not None else set()
    clash = sorted(set(ranges) & behaviour)
    if clash:
        raise ScenarioError(base_file, "uncertainty.behaviour", f"{', '.join(clash)} are drawn jointly from the "
                            "behaviour file and cannot get a box range; leave them out of the design")
    label = f"PRIM box for {where!r} ({man.get('experiment')})"
    body: dict[str, Any] = {"extends": _path_from(out, base_file),
                            "name": f"{base.name}_box_{outcome}",
                            "description": f"{label}: box ranges for the restricted parameters, design ranges for "
                            "the others; written by run.py discover"}
    unc: dict[str, Any] = {}
    values = {k: (r["low"] + r["high"]) / 2 for k, r in ranges.items()}
    weights = [k for k in values if k.startswith("influence.channel_weights.")]
    if weights:  # the scenario's weights must sum to 1: renormalise the midpoints with the weights not designed
        cw = {f"influence.channel_weights.{c}": v for c, v in base.raw["influence"]["channel_weights"].items()}
        values.update(renormalised(cw, {k: values[k] for k in weights}))
        for k in weights:
            if not ranges[k]["low"] <= values[k] <= ranges[k]["high"]:
                values[k] = min(max(values[k], ranges[k]["low"]), ranges[k]["high"])
    for k, v in values.items():
        keypaths.put(body, k, round(v, 12))
    for k, r in ranges.items():
        unc[k] = {"low": r["low"], "high": r["high"], "source": ("box: " if r["restricted"] else "design range: ")
                  + label}
    body["uncertainty"] = {"ranges": unc}
    scen = out / "box_scenario.yaml"
    scen.write_text("# Written by `python3 run.py discover`; runnable with `python3 run.py run " + scen.name + "`.\n"
                    + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    load_scenario(scen)
    spec = man.get("experiment_spec") or {}
    exp = {"name": f"{man.get('experiment')}_box_{outcome}",
           "description": f"Fresh LHS inside the {label}.",
           "scenarios": [_path_from(out, base_file)],
           "replicates": int(spec.get("replicates", 1)), "seed": int(seed),
           **({"steps": spec["steps"]} if "steps" in spec else {}),
           **({"chunk": int(spec["chunk"])} if "chunk" in spec else {}),  # else chosen by the runner
           "design": {"method": "lhs", "points": int(points),
                      "parameters": {k: {kk: v for kk, v in r.items() if kk in ("low", "high", "scale")}
                                     for k, r in ranges.items()}},
           "outcomes": spec.get("outcomes") or [{"type": o["type"], **{k: v for k, v in o.items()
                                                                        if k not in ("type",)}}
                                                for o in man.get("outcomes", [])]}
    expf = out / "box_experiment.yaml"
    expf.write_text("# Written by `python3 run.py discover`; run it with `python3 run.py batch " + expf.name
                    + "`.\n" + yaml.safe_dump(exp, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    load_experiment(expf)
    return scen, expf


def peeling_figure(res: PrimBox, path: Path) -> Path:
    """The peeling trajectory (coverage against density of each box, the chosen one marked), written to `path`."""
    tr = res.trajectory
    fig = Figure(figsize=(7, 5), dpi=110)
    ax = fig.subplots()
    sc = ax.scatter(tr["coverage"], tr["density"], c=tr["res_dim"], cmap="viridis", s=18)
    from matplotlib.ticker import MaxNLocator

    fig.colorbar(sc, ax=ax, label="restricted dimensions", ticks=MaxNLocator(integer=True))
    ch = tr.loc[res.chosen]
    ax.scatter([ch["coverage"]], [ch["density"]], s=120, facecolors="none", edgecolors="red", lw=1.5,
               label=f"chosen box {res.chosen} (before dropping insignificant restrictions)")
    ax.scatter([res.coverage], [res.density], marker="x", color="red", s=60, label="reported box")
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of runs in the box that are cases)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("PRIM peeling trajectory")
    fig.tight_layout()
    fig.savefig(path)
    return path


def scores_figure(scores: pd.Series, design: list[str], path: Path, top: int = 25) -> Path:
    """The `top` feature scores as horizontal bars, design parameters highlighted, written to `path`."""
    s = scores.head(top)[::-1]
    fig = Figure(figsize=(7.5, 0.28 * len(s) + 1.4), dpi=110)
    ax = fig.subplots()
    ax.barh(range(len(s)), s.to_numpy(), color=["#1f5fa8" if k in design else "#999999" for k in s.index])
    ax.set_yticks(range(len(s)), list(s.index), fontsize=7)
    ax.set_xlabel("extra-trees feature score (blue: design parameter; grey: drawn per run)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    return path


def discover(store_dir: str | Path, outcome: str, where: str | None = None, out_dir: str | Path | None = None,
             scenario: str | None = None, min_coverage: float = 0.8, check_points: int = 0,
             check_seed: int | None = None, jobs: int = 1, command: str | None = None,
             progress: bool = True, null_ok: bool = False) -> Discovery:
    """Run scenario discovery on a finished batch and write discovery.md, box.csv, feature_scores.csv,
    peeling.png, feature_scores.png, box_scenario.yaml and box_experiment.yaml into out_dir (default
    STORE/discovery/OUTCOME). Returns the figures (coverage, density, fresh density ...). When no run (or every
    run) is a case there is no box: a ScenarioError, or with `null_ok` a discovery.md reporting the null result."""
    t0 = time.perf_counter()
    _need_workbench()
    batch = load_batch(store_dir, scenario)
    root = batch.root
    table = batch.table
    y = cases_of(table, outcome, where, str(root))
    n, k = len(y), int(y.sum())
    if (k == 0 or k == n) and null_ok:
        out = Path(out_dir) if out_dir else root / "discovery" / outcome
        report_folder(out)
        _null_report(out, batch, table, outcome, where or "value > 0", k, n, command, time.perf_counter() - t0)
        return Discovery(runs=n, cases=k, failed_dropped=batch.failed, report=out / "discovery.md", null=True)
    if k == 0 or k == n:
        raise ScenarioError(root, "--where", f"{where or 'value > 0'!r} is {'never' if k == 0 else 'always'} true "
                            f"in the {n} runs: PRIM needs runs of both kinds (no box to find)")
    params = batch.params
    x = table[params].astype(float)
    res = run_prim(x, y, min_coverage)
    scores = feature_scores(table[params + batch.drawn].astype(float), y)
    out = Path(out_dir) if out_dir else root / "discovery" / outcome
    report_folder(out)
    ranges = box_ranges(res.limits, {p: batch.ranges.get(p, {"low": float(x[p].min()),
                                                                  "high": float(x[p].max())}) for p in params})
    seed = int(check_seed if check_seed is not None else batch.manifest.get("seed", 0) + 1)
    points = check_points or min(500, int(batch.manifest.get("design_points", 500)))
    scen, expf = write_box_files(out, batch, ranges, outcome, where or "value > 0", points, seed)
    inside = np.ones(n, dtype=bool)
    for p, r in ranges.items():
        inside &= (x[p] >= r["low"]) & (x[p] <= r["high"])
    k_in, n_in = int(y[inside].sum()), int(inside.sum())
    fresh = None
    if check_points:
        fresh = check_box(expf, root / "discovery" / f"{out.name}_fresh", outcome, where, jobs=jobs,
                          progress=progress)  # a batch store: kept beside the batch, not in the report folder
    peeling_figure(res, out / "peeling.png")
    scores_figure(scores, params, out / "feature_scores.png")
    limits = pd.DataFrame([{"parameter": p, "design_low": batch.ranges.get(p, {}).get("low", np.nan),
                            "design_high": batch.ranges.get(p, {}).get("high", np.nan), "box_low": r["low"],
                            "box_high": r["high"], "restricted": r["restricted"]} for p, r in ranges.items()])
    limits = limits.merge(res.limits[["parameter", "qp_low", "qp_high"]], on="parameter", how="left")
    limits.to_csv(out / "box.csv", index=False)
    scores.rename("score").rename_axis("parameter").reset_index().assign(
        kind=lambda d: np.where(d["parameter"].isin(params), "design", "drawn")).to_csv(
        out / "feature_scores.csv", index=False)
    summary = Discovery(runs=n, cases=k, failed_dropped=batch.failed, report=out / "discovery.md",
                        coverage=res.coverage, density=res.density, mass=res.mass, box_runs=n_in, box_cases=k_in,
                        density_interval=jeffreys(k_in, n_in), base_rate=k / n,
                        restricted=[p for p, r in ranges.items() if r["restricted"]], dropped=res.dropped,
                        fresh=fresh, box_scenario=scen, box_experiment=expf)
    _report(out, batch, outcome, where or "value > 0", res, limits, scores, summary, command,
            time.perf_counter() - t0)
    return summary


def check_box(experiment: Path, out: Path, outcome: str, where: str | None, jobs: int = 1,
              progress: bool = True) -> FreshCheck:
    """Run the exported experiment (a fresh LHS inside the box) and measure the share of cases."""
    from ..batch.runner import run_experiment
    from ..batch.spec import load_experiment

    exp = load_experiment(experiment)
    run_experiment(exp, out, jobs=jobs, force=True, progress=progress)
    oc = Store(out).read("outcomes")
    y = cases_of(oc, outcome, where, str(out))
    runs = Store(out).read("runs")
    failed = int((runs["status"] == "failed").sum()) if "status" in runs.columns else 0
    k, n = int(y.sum()), len(y)
    return FreshCheck(runs=n, cases=k, density=k / n if n else float("nan"), interval=jeffreys(k, n),
                      failed_dropped=failed, folder=out)


def _report(out: Path, batch: Batch, outcome: str, where: str, res: PrimBox, limits: pd.DataFrame,
            scores: pd.Series, s: Discovery, command: str | None, wall: float) -> None:
    man = batch.manifest
    lo, hi = s.density_interval
    cmd = command or f"python3 run.py discover {batch.root} --outcome {outcome} --where \"{where}\""
    md = [f"# Scenario discovery: {where}", "",
          f"Generated by `{cmd}` ({wall:.0f} s) on batch `{man.get('experiment')}` (scenario `{batch.scenario}`, "
          f"{man.get('design_method')} design over {len(batch.params)} parameters, {man.get('design_points')} "
          f"points x {man.get('replicates')} replicates). PRIM: EMA Workbench {_version()} "
          "(`ema_workbench.analysis.prim`, lenient1 objective, peel and paste alpha 0.05, mass_min 0.05).", "",
          f"- Runs used: {s.runs}; failed runs dropped (no outcome, never imputed): {s.failed_dropped}.",
          f"- Cases (`{where}` true): {s.cases} ({s.base_rate:.1%} of runs).",
          f"- Box: coverage {s.coverage:.2f}, density {s.density:.2f} (in-sample; {s.box_cases} of "
          f"{s.box_runs} runs in the box; 95% interval {lo:.2f}-{hi:.2f}), mass {s.mass:.2f}.",
          f"- Restricted: {', '.join(s.restricted) or 'nothing'}. Restrictions dropped as insignificant "
          f"(quasi-p > {QP_MAX}): {', '.join(s.dropped) or 'none'}."]
    if s.fresh:
        f = s.fresh
        flo, fhi = f.interval
        within = lo <= f.density <= hi or flo <= s.density <= fhi
        md.append(f"- **Fresh sample** (`box_experiment.yaml`, {f.runs} runs, {f.failed_dropped} failed and "
                  f"dropped): density {f.density:.2f} (95% interval {flo:.2f}-{fhi:.2f}) against "
                  f"{s.density:.2f} in-sample: {'consistent' if within else 'NOT consistent'} (intervals).")
    else:
        md.append("- Fresh sample: not run (`--check N` runs the exported experiment with N points).")
    md += ["", "![peeling trajectory](peeling.png)", "",
           "## The box", "", "| parameter | design range | box range | restricted | quasi-p (low, high) |",
           "|---|---|---|---|---|"]
    for _, r in limits.iterrows():
        qp = ", ".join("-" if pd.isna(v) else f"{v:.2g}" for v in (r["qp_low"], r["qp_high"]))
        md.append(f"| {r['parameter']} | {r['design_low']:.4g} - {r['design_high']:.4g} | {r['box_low']:.4g} - "
                  f"{r['box_high']:.4g} | {'yes' if r['restricted'] else ''} | {qp} |")
    md += ["", "## Feature scores", "", "Extra-trees scores (EMA Workbench `get_ex_feature_scores`, fixed random "
           "state) over the design parameters and the parameters each run drew (grey in the figure): how much each "
           "helps to tell cases from the other runs.", "", "![feature scores](feature_scores.png)", "",
           "| parameter | kind | score |", "|---|---|---|"]
    for name, v in scores.head(30).items():
        md.append(f"| {name} | {'design' if name in batch.params else 'drawn'} | {v:.3f} |")
    md += ["", "## Runnable output", "", "- `box_scenario.yaml`: extends the batch's scenario; each design parameter "
           "is drawn per run from its box range (restricted) or design range (the others).",
           "- `box_experiment.yaml`: an LHS inside the box (`python3 run.py batch box_experiment.yaml`).",
           "", "## Peeling trajectory", "", "| box | coverage | density | mass | restricted dimensions |",
           "|---|---|---|---|---|"]
    for i, r in res.trajectory.iterrows():
        md.append(f"| {i} | {r['coverage']:.3f} | {r['density']:.3f} | {r['mass']:.3f} | {int(r['res_dim'])} |")
    (out / "discovery.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def _null_report(out: Path, batch: Batch, table: pd.DataFrame, outcome: str, where: str, k: int, n: int,
                 command: str | None, wall: float) -> None:
    """discovery.md for a question no run (or every run) answers: the null result and where the outcome lies."""
    man = batch.manifest
    v = table[outcome]
    cmd = command or f"python3 run.py discover {batch.root} --outcome {outcome} --where \"{where}\" --null-ok"
    lo, hi = jeffreys(k, n)
    md = [f"# Scenario discovery: {where}", "",
          f"Generated by `{cmd}` ({wall:.0f} s) on batch `{man.get('experiment')}` (scenario `{batch.scenario}`, "
          f"{man.get('design_method')} design over {len(batch.params)} parameters, {man.get('design_points')} "
          f"points x {man.get('replicates')} replicates).", "",
          f"**Null result: `{where}` is {'true in none' if k == 0 else 'true in every one'} of the {n} runs** "
          f"(95% Jeffreys interval of the probability: {lo:.4f}-{hi:.4f}; failed runs dropped: {batch.failed}). "
          "There is no box to find inside these ranges. The ranges come from the scenario's documented "
          "uncertainty and were not widened to produce cases.", "",
          f"`{outcome}` over the runs: {int(v.notna().sum())} of {n} have a value"]
    if v.notna().any():
        q = v.quantile([0, 0.05, 0.5, 0.95, 1]).to_numpy()
        md[-1] += (f"; min {q[0]:.4g}, 5% {q[1]:.4g}, median {q[2]:.4g}, 95% {q[3]:.4g}, max {q[4]:.4g}.")
    else:
        md[-1] += " (the event never happens in any run)."
    (out / "discovery.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def _version() -> str:
    try:
        from importlib import metadata

        return metadata.version("ema_workbench")
    except Exception:  # noqa: BLE001
        return "?"
