"""Comparison and analysis of an experiment folder: paired differences from the reference with intervals and
tests (statistics.py), probabilities, Sobol indices, LHS rankings, and a report.md that ties them to the figures (figures.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from greatgame.model.yamlio import ScenarioError
from scipy import stats

from ..batch.store import Store
from .figures import fan_charts, outcome_distributions, sobol_figure, state_multiples
from .reports import ReportFiles
from .statistics import SIGN_SHARE, paired_difference, sign_robustness, sign_text

PAIR_KEYS = ("point", "replicate")  # runs of two scenarios at the same design sample and replicate form a pair
BASIS = "trade_basis"  # design column: the trade basis of a point's runs; with `trade_bases`, pairs match within it
DRAWN = "uncertainty_drawn"  # design column: whether a point's runs drew the scenario's `uncertainty` section


def differences(outcomes: pd.DataFrame, names: list[str], reference: str, within_basis: bool = False,
                threshold: float = SIGN_SHARE) -> pd.DataFrame:
    """Each scenario's difference from the reference in each outcome. Runs at the same design sample and replicate
    share their parameter draws, so the comparison is paired (outcomes need `point` and `replicate`; with
    `within_basis`, also `trade_basis`, and a pair is matched within a trade basis): the mean of the per-pair
    differences over every pair with its 95% interval and p-value (statistics.paired_difference, Student t), the
    mean per basis (`difference_BASIS`), and the sign shares per basis and pooled with the flag robust_in_sign
    (statistics.sign_robustness with `threshold`; the pair's runs must have drawn their uncertainty, column
    `uncertainty_drawn`). Without `within_basis` the pairs are labelled with the reference's basis (or 'mixed' when
    the two scenarios use different bases). A pair with a NaN outcome (a run that failed, a lead never taken) is
    dropped for that outcome. `mean` and `reference_mean` are over all runs of each scenario."""
    missing = [k for k in (*PAIR_KEYS, *([BASIS] if within_basis else [])) if k not in outcomes.columns]
    if missing:
        raise KeyError(f"differences: the outcomes table has no {', '.join(missing)} column (runs cannot be paired)")
    rows = []
    keys = [*PAIR_KEYS, *([BASIS] if within_basis else [])]
    ref = outcomes[outcomes["scenario"] == reference]
    for sc in dict.fromkeys(outcomes["scenario"]):
        if sc == reference:
            continue
        cur = outcomes[outcomes["scenario"] == sc]
        extra = [c for c in (BASIS, DRAWN) if c in outcomes.columns and c not in keys]
        matched = cur[[*keys, *extra, *names]].merge(ref[[*keys, *extra, *names]], on=keys, suffixes=("", "_ref"))
        x, y = matched[names].to_numpy(dtype=float), matched[[f"{n}_ref" for n in names]].to_numpy(dtype=float)
        effect = paired_difference(x, y).columns()
        if within_basis:
            label = matched[BASIS].astype(str).to_numpy()
        elif BASIS in matched.columns:
            label = np.where(matched[BASIS].astype(str) == matched[f"{BASIS}_ref"].astype(str),
                             matched[f"{BASIS}_ref"].astype(str), "mixed")
        else:
            label = np.full(len(matched), "unknown")
        drawn = bool(DRAWN in matched.columns and matched[DRAWN].astype(bool).all()
                     and matched[f"{DRAWN}_ref"].astype(bool).all() and len(matched))
        by_basis = {str(b): (x - y)[label == b] for b in dict.fromkeys(label)}
        sign = sign_robustness(by_basis or {"unknown": np.empty((0, len(names)))}, threshold, drawn).columns()
        means, ref_means = cur[names].mean(), ref[names].mean()
        counts, ref_counts = cur[names].count(), ref[names].count()
        with np.errstate(invalid="ignore", divide="ignore"):  # a basis without a pair for an outcome: NaN
            per_basis = {b: np.nansum(d, axis=0) / (~np.isnan(d)).sum(axis=0) for b, d in by_basis.items()}
        for i, name in enumerate(names):
            rows.append({"scenario": sc, "outcome": name, "mean": float(means[name]),
                         "reference_mean": float(ref_means[name]), "n": int(counts[name]),
                         "n_reference": int(ref_counts[name]), "difference": effect["change"][i],
                         "n_pairs": int(effect["pairs"][i]), "ci_low": effect["ci_low"][i],
                         "ci_high": effect["ci_high"][i], "p_value": effect["p_value"][i],
                         **{f"difference_{b}": float(v[i]) for b, v in per_basis.items()},
                         **{k: v[i] for k, v in sign.items()}})
    return pd.DataFrame(rows)


def jeffreys(k: int, n: int) -> tuple[float, float]:
    """95% Jeffreys interval of a proportion k/n (0 or 1 at the ends when k is 0 or n; NaN without runs)."""
    if n == 0:
        return float("nan"), float("nan")
    lo, hi = stats.beta.ppf([0.025, 0.975], k + 0.5, n - k + 0.5)
    return (0.0 if k == 0 else float(lo)), (1.0 if k == n else float(hi))


def probabilities(outcomes: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Probabilities users ask for, per scenario, with Jeffreys 95% intervals: China ahead of Russia at the
    horizon; China ahead of Russia by 2030 (a first lead dated 2030 or earlier; `first_lead` is a decimal year)."""
    rows = []
    for sc in dict.fromkeys(outcomes["scenario"]):
        cur = outcomes[outcomes["scenario"] == sc]
        checks = {}
        if {"regional_influence_CHN", "regional_influence_RUS"} <= set(names):
            checks["P(China ahead of Russia regionally at the horizon)"] = (
                cur["regional_influence_CHN"] > cur["regional_influence_RUS"]).to_numpy()
        if "first_lead_CHN_RUS" in names:
            checks["P(China ahead of Russia regionally by 2030)"] = (
                cur["first_lead_CHN_RUS"].fillna(np.inf) < 2031).to_numpy()
        for label, hits in checks.items():
            k, n = int(hits.sum()), len(hits)
            lo, hi = jeffreys(k, n)
            rows.append({"scenario": sc, "question": label, "probability": k / n if n else np.nan,
                         "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows)


def sobol_table(outcomes: pd.DataFrame, design: pd.DataFrame, params: list[str], names: list[str], n: int,
                out: Path, figure: bool = True) -> tuple[pd.DataFrame, Path | None]:
    """First- and total-order Sobol indices with bootstrap 95% intervals (scipy.stats.sobol_indices) of the mean
    outcome over replicates at each design point; a table and a bar chart. Saltelli rows with a failed run are
    dropped and counted (`rows_dropped`), never imputed."""
    rows = []
    means = outcomes.groupby("design")[names].mean()
    d = len(params)
    for sc in dict.fromkeys(design["scenario"]):
        dsg = design[design["scenario"] == sc].set_index("design")
        blocks = {b: means.reindex(dsg.index[dsg["block"] == b]).to_numpy().T for b in ["A", "B"] +
                  [f"AB{i}" for i in range(d)]}
        # failed runs (no outcome) leave holes: a Saltelli row with a hole in any block is dropped, and the
        # estimate uses the largest power of 2 of complete rows (the estimator's balance needs it); never imputed
        complete = ~np.any([np.isnan(v).any(axis=0) for v in blocks.values()], axis=0)
        n_used = 1 << int(np.log2(complete.sum())) if complete.sum() >= 2 else 0
        if n_used < 2:
            continue
        keep = np.flatnonzero(complete)[:n_used]
        blocks = {b: v[:, keep] for b, v in blocks.items()}
        res = stats.sobol_indices(func={"f_A": blocks["A"], "f_B": blocks["B"],
                                        "f_AB": np.stack([blocks[f"AB{i}"] for i in range(d)])}, n=n_used)
        boot = res.bootstrap(confidence_level=0.95, n_resamples=500)
        first, total = np.atleast_2d(res.first_order), np.atleast_2d(res.total_order)
        f_ci, t_ci = boot.first_order.confidence_interval, boot.total_order.confidence_interval
        f_lo, f_hi, t_lo, t_hi = (np.atleast_2d(a) for a in (f_ci.low, f_ci.high, t_ci.low, t_ci.high))
        for o, name in enumerate(names):
            for i, p in enumerate(params):
                rows.append({"scenario": sc, "outcome": name, "parameter": p, "rows_used": n_used,
                             "rows_dropped": int(n - n_used),
                             "first_order": first[o, i], "first_low": f_lo[o, i], "first_high": f_hi[o, i],
                             "total_order": total[o, i], "total_low": t_lo[o, i], "total_high": t_hi[o, i]})
    table = pd.DataFrame(rows)
    if table.empty or not figure:
        return table, None
    return table, sobol_figure(table, names, out)

def lhs_ranking(outcomes: pd.DataFrame, design: pd.DataFrame, params: list[str], names: list[str]) -> pd.DataFrame:
    """For each outcome, parameters ranked by |Spearman rho| between the parameter and the point's mean outcome,
    with the p-value of the correlation and the standardised regression coefficient."""
    rows = []
    means = outcomes.groupby("design")[names].mean()
    for sc in dict.fromkeys(design["scenario"]):
        dsg = design[design["scenario"] == sc].set_index("design")
        X = dsg[params].to_numpy(dtype=float)
        for name in names:
            y = means[name].reindex(dsg.index).to_numpy()
            ok = np.isfinite(y)
            if ok.sum() < 3 or np.ptp(y[ok]) == 0:
                continue
            Xs = (X[ok] - X[ok].mean(0)) / X[ok].std(0)
            ys = (y[ok] - y[ok].mean()) / y[ok].std()
            src = np.linalg.lstsq(np.column_stack([np.ones(ok.sum()), Xs]), ys, rcond=None)[0][1:]
            for i, p in enumerate(params):
                rho, pv = stats.spearmanr(X[ok, i], y[ok])
                rows.append({"scenario": sc, "outcome": name, "parameter": p, "spearman_rho": rho, "p_value": pv,
                             "src": src[i]})
    table = pd.DataFrame(rows)
    if not table.empty:
        table["rank"] = table.groupby(["scenario", "outcome"])["spearman_rho"].transform(
            lambda s: s.abs().rank(ascending=False, method="first")).astype(int)
        table = table.sort_values(["scenario", "outcome", "rank"])
    return table


def _fmt(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.3g}"


def _sentences(diff: pd.DataFrame, probs: pd.DataFrame, reference: str, sobol: pd.DataFrame,
               lhs: pd.DataFrame, threshold: float = SIGN_SHARE) -> list[str]:
    out = []
    for _, r in sobol.loc[sobol.groupby("outcome")["total_order"].idxmax()].iterrows() if not sobol.empty else []:
        out.append(f"`{r['outcome']}` depends most on `{r['parameter']}` (total-order Sobol index "
                   f"{r['total_order']:.2f}, 95% CI {r['total_low']:.2f}-{r['total_high']:.2f}; first order "
                   f"{r['first_order']:.2f}).")
    for _, r in lhs[lhs["rank"] == 1].iterrows() if not lhs.empty else []:
        direction = "raises" if r["spearman_rho"] > 0 else "lowers"
        out.append(f"Across the Latin hypercube, a higher `{r['parameter']}` {direction} `{r['outcome']}` most "
                   f"(Spearman rho {r['spearman_rho']:.2f}, p = {r['p_value']:.2g}).")
    if diff.empty:
        return out
    sig = diff[(diff["p_value"] < 0.01) & (diff["outcome"].str.startswith("regional_influence"))]
    for _, r in sig.reindex(sig["difference"].abs().sort_values(ascending=False).index).head(6).iterrows():
        power = r["outcome"].rsplit("_", 1)[-1]
        word = "higher" if r["difference"] > 0 else "lower"
        head = "**Finding (robust in sign):**" if r["robust_in_sign"] else \
            f"Not robust in sign ({_basis_shares(r)}):"
        out.append(f"{head} in `{r['scenario']}`, {power}'s regional influence at the horizon is "
                   f"{abs(r['difference']):.3f} {word} than in `{reference}` (95% CI {_fmt(r['ci_low'])} to "
                   f"{_fmt(r['ci_high'])}; paired t-test p = {r['p_value']:.2g}; higher in {r['share_positive']:.0%} "
                   f"of pairs, lower in {r['share_negative']:.0%}).")
    if not sig.shape[0] and not diff.empty:
        out.append(f"No scenario moves regional influence at the horizon away from `{reference}` at p < 0.01.")
    robust = diff[diff["robust_in_sign"]]
    out.append(f"{len(robust)} of {len(diff)} differences are robust in sign (the same sign in at least "
               f"{threshold:.0%} of the pairs under each trade basis; docs/OUTPUT.md).")
    if not probs.empty:
        top = probs.sort_values("probability", ascending=False).iloc[0]
        if top["probability"] == 0:
            out.append(f"'{top['question']}' is 0 in every scenario (no run of any scenario; "
                       f"{int(probs['n'].sum())} runs).")
            return out
        out.append(f"The highest probability of the question '{top['question']}' is {top['probability']:.2f} "
                   f"in `{top['scenario']}` (95% interval {top['ci_low']:.2f}-{top['ci_high']:.2f}).")
    return out


def _basis_shares(r: pd.Series) -> str:
    """'state 80% up, 15% down; partner ...' from a row's per-basis share columns."""
    bases = [c[len("share_positive_"):] for c in r.index if c.startswith("share_positive_")]
    return "; ".join(f"{b} {r[f'share_positive_{b}']:.0%} up, {r[f'share_negative_{b}']:.0%} down"
                     if np.isfinite(r[f"share_positive_{b}"]) else f"{b} not run" for b in bases)


def sign_column(diff: pd.DataFrame) -> pd.Series:
    """'robust in sign' or 'sign not robust (x% up, y% down)' per row (statistics.sign_text, pooled shares)."""
    return pd.Series([sign_text(r) for _, r in diff.iterrows()], index=diff.index, dtype=object)


def _markdown(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    if df.empty:
        return "_(none)_"
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, (float, np.floating)) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compare(out_dir: str | Path, reference: str | None = None, figures: bool = True) -> ReportFiles:
    """Write the comparison files into OUT/compare/ and OUT/report.md; return their paths (table: differences.csv,
    figure: fan_regional.png; failed: the manifest's failed runs, which have no outcomes). figures=False writes
    the tables and the report only."""
    store = Store(out_dir)
    root = Path(out_dir)
    man = store.read_json("manifest.json")
    design = pd.read_parquet(root / "design.parquet")
    reference = reference or man.get("reference") or design["scenario"].iloc[0]
    if reference not in set(design["scenario"]):
        raise ScenarioError(root, "--reference", f"{reference!r} is not a scenario of this experiment "
                            f"({', '.join(dict.fromkeys(design['scenario']))})")
    out = root / "compare"
    out.mkdir(exist_ok=True)
    oc = store.read("outcomes")
    names = [o["name"] for o in man["outcomes"]]
    oc = oc.merge(design[["design", "scenario", "point", *(c for c in (BASIS, DRAWN) if c in design.columns)]],
                  on="design")
    files: dict[str, Path] = {}
    continuous = [n for n in names if not n.startswith("status_")][:9]
    if figures:
        files["fan_regional"] = fan_charts(store, design, out)
        files["fan_states"] = state_multiples(store, design, out)
        files["outcomes"] = outcome_distributions(oc, continuous or names[:9], out)
    bases = man.get("trade_bases")
    threshold = float(man.get("sign_share", SIGN_SHARE))
    diff = differences(oc, names, reference, within_basis=bases is not None, threshold=threshold)
    diff.to_csv(out / "differences.csv", index=False)
    (out / "differences.md").write_text(_markdown(diff) + "\n", encoding="utf-8")
    files["differences"] = out / "differences.csv"
    probs = probabilities(oc, names)
    probs.to_csv(out / "probabilities.csv", index=False)
    files["probabilities"] = out / "probabilities.csv"
    params = man.get("design_parameters") or []
    sobol, lhs = pd.DataFrame(), pd.DataFrame()
    cont_names = [n for n in names if not n.startswith("status_")] or names
    if man.get("design_method") == "sobol" and params:
        sobol, path = sobol_table(oc, design, params, cont_names, int(man["sobol_n"]), out, figures)
        sobol.to_csv(out / "sobol.csv", index=False)
        files["sobol"] = out / "sobol.csv"
        if path:
            files["sobol_png"] = path
    if man.get("design_method") == "lhs" and params:
        lhs = lhs_ranking(oc, design, params, cont_names)
        lhs.to_csv(out / "lhs_ranking.csv", index=False)
        files["lhs_ranking"] = out / "lhs_ranking.csv"
    report = [f"# Experiment `{man['experiment']}`", "",
              f"{man.get('runs_done', '?')} runs done, {man.get('runs_failed', 0)} failed; "
              f"{man['design_points']} design points x {man['replicates']} replicates; seed {man['seed']}; "
              f"reference scenario `{reference}`. Written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.", "",
              "## What differs", "", *[f"- {s}" for s in _sentences(diff, probs, reference, sobol, lhs, threshold)], "",
              "## Regional influence", "", "![fan charts](compare/fan_regional.png)", "",
              "![states](compare/fan_states.png)", "", "## Horizon outcomes", "", "![outcomes](compare/outcomes.png)", "",
              f"## Differences from `{reference}` (mean of paired differences; 95% CI and p: Student t, docs/OUTPUT.md; "
              "share of pairs higher and lower than the reference)", "",
              (f"Trade bases: {', '.join(bases)}; pairs matched within a basis; the mean and interval pool the pairs of "
               "every basis. " if bases else "Trade basis: each scenario its own (the experiment sets no "
               "`trade_bases`, so no effect can be robust in sign). ") + "An effect is "
              f"robust in sign when at least {threshold:.0%} of the pairs under each trade basis (state and partner) "
              "have one and the same sign, in runs that draw the scenario's `uncertainty` section (docs/OUTPUT.md, "
              "\"Robust in sign\"); the per-basis shares are in compare/differences.csv.", "",
              _markdown(diff[["scenario", "outcome", "mean", "difference", "ci_low", "ci_high", "p_value"]]
                        .assign(sign=sign_column(diff)) if not diff.empty else diff), "",
              "## Probabilities (Jeffreys 95% intervals)", "", _markdown(probs), ""]
    if not sobol.empty:
        report += ["## Sobol indices", "", "![sobol](compare/sobol.png)", "", _markdown(sobol), ""]
    if not lhs.empty:
        report += ["## Which parameters move each outcome (LHS, |Spearman rho|)", "",
                   _markdown(lhs[lhs["rank"] <= 3]), ""]
    (root / "report.md").write_text("\n".join(report), encoding="utf-8")
    table, figure = files.pop("differences"), files.pop("fan_regional", None)
    return ReportFiles(root / "report.md", table, figure, MappingProxyType(files), int(man.get("runs_failed", 0)))
