"""`python run.py levers SCENARIO --out DIR`: what each policy lever changes at the horizon (docs/levers/).

A lever is a set of changes to numeric scenario values, applied **to each run's own value**: a run that drew
Russia's budget at 0.5 US$ bn gets 1.0 under "RUS budget x2", one that drew 0.9 gets 1.8. Every lever run k
shares its random stream and its uncertainty draws with reference run k (common random numbers), so each effect is
a mean of paired differences with its 95% interval and the share of pairs with each sign
(`statistics.paired_difference`: Student t for influence, Tango's score interval for status probabilities; n
pairs, failed runs dropped and counted). All levers advance in one lockstep model (each run carries its own
values), chunked by lever. The audit runs once under each trade basis (`trade_basis` state and partner, ODD 7.2;
the same draws under both): the change and its interval pool the pairs of both bases, `change_BASIS` is the mean
per basis, and an effect is robust in sign when at least `sign_share` (0.95) of the pairs under each basis share
one sign (`statistics.sign_robustness`; docs/OUTPUT.md "Robust in sign").

The default lever list (`default_levers`): each power's budget x2 and x0.5; its instrument mix moved a quarter of
the way towards each instrument; sanctions on Russia up to 1 and halved; secondary sanctions doubled and off;
the accession-package cap x2 and x0.5; the Afghan threat x2 and x0.5; energy prices x1.5 and x0.5; each format's
depth +-0.1 (kept in [0, 1]); each binding obligation (collective defence, supranational, binding security)
removed from the format that has it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.model.axes import INSTRUMENT, LEVELS, OBLIGATION
from greatgame.model.ensemble import RunSet, run_chunks
from greatgame.model.fundamentals import TRADE_BASES
from greatgame.model.params import RunValues
from greatgame.model.plots import colour_of, save
from greatgame.model.scenario import Scenario
from greatgame.model.yamlio import ScenarioError
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from tqdm import tqdm

from ..batch.store import report_folder, writes_report
from .reports import ReportFiles
from .statistics import SIGN_SHARE, draws_uncertainty, paired_difference, sign_robustness, sign_text

INSTRUMENT_SHIFT = 0.25  # share of the mix moved towards one instrument by a mix lever
BINDING = tuple(o for o in OBLIGATION if o != "consultation")


@dataclass(frozen=True)
class Lever:
    """A named set of changes: (key path, operation, amount), operation one of times, plus, set, toward."""

    name: str
    group: str
    changes: tuple[tuple[str, str, float], ...]


def default_levers(sc: Scenario) -> list[Lever]:
    """The audit's levers for a scenario's powers and formats (module docstring)."""
    raw, out = sc.raw, []
    for p in sc.powers:
        out += [Lever(f"{p} budget x2", "budget", ((f"powers.{p}.budget_usd_bn_per_year", "times", 2.0),)),
                Lever(f"{p} budget x0.5", "budget", ((f"powers.{p}.budget_usd_bn_per_year", "times", 0.5),))]
        shares = raw["powers"][p]["instrument_shares"]
        for ins in INSTRUMENT:
            if ins in shares and shares[ins] < 1.0:
                out.append(Lever(f"{p} mix towards {ins}", "instrument mix",
                                 tuple((f"powers.{p}.instrument_shares.{k}", "toward", 1.0 if k == ins else 0.0)
                                       for k in shares)))
    if "RUS" in sc.powers:
        key = "powers.RUS.sanctions"
        out += [Lever("sanctions on Russia to 1", "sanctions", ((key, "set", 1.0),)),
                Lever("sanctions on Russia x0.5", "sanctions", ((key, "times", 0.5),))]
    par = raw["parameters"]
    out += [Lever("secondary sanctions x2", "sanctions", (("parameters.secondary_sanctions", "times", 2.0),)),
            Lever("secondary sanctions off", "sanctions", (("parameters.secondary_sanctions", "set", 0.0),))]
    if "package_cap_years" in par.get("powers", {}):
        key = "parameters.powers.package_cap_years"
        out += [Lever("accession package cap x2", "accession package", ((key, "times", 2.0),)),
                Lever("accession package cap x0.5", "accession package", ((key, "times", 0.5),))]
    out += [Lever("Afghan threat x2", "threat", (("parameters.threat_level", "times", 2.0),)),
            Lever("Afghan threat x0.5", "threat", (("parameters.threat_level", "times", 0.5),)),
            Lever("energy prices x1.5", "energy", (("parameters.energy_price_index", "times", 1.5),)),
            Lever("energy prices x0.5", "energy", (("parameters.energy_price_index", "times", 0.5),))]
    for f in sc.formats:
        out += [Lever(f"{f} depth +0.1", "format depth", ((f"formats.{f}.depth", "plus", 0.1),)),
                Lever(f"{f} depth -0.1", "format depth", ((f"formats.{f}.depth", "plus", -0.1),))]
    for f in sc.formats:
        for ob in BINDING:
            if raw["formats"][f].get("obligations", {}).get(ob, 0.0) > 0:
                out.append(Lever(f"{f} without {ob.replace('_', ' ')}", "format obligations",
                                 ((f"formats.{f}.obligations.{ob}", "set", 0.0),)))
    return out


def _apply(base: np.ndarray, op: str, amount: float, key: str) -> np.ndarray:
    if op == "times":
        v = base * amount
    elif op == "plus":
        v = base + amount
    elif op == "set":
        v = np.full_like(base, amount)
    else:  # toward: a quarter of the way from the current share to `amount`
        v = (1 - INSTRUMENT_SHIFT) * base + INSTRUMENT_SHIFT * amount
    if key.endswith(".depth") or key.endswith(".sanctions") or ".obligations." in key:
        v = np.clip(v, 0.0, 1.0)
    return v


def base_values(sc: Scenario, runs: int, seed: int, keys: list[str]) -> dict[str, np.ndarray]:
    """Each key's value in reference runs 0..runs-1: the run's uncertainty draw, or the scenario's value."""
    values = RunValues(sc.raw, runs, None, sc.source)
    drawn = (sc.uncertainty.draw(seed, np.zeros(runs, dtype=int), np.arange(runs), values.values, sc.fixed_keys)
             if sc.uncertainty is not None else {})
    out = {}
    for k in keys:
        if k not in values.values:
            raise ScenarioError(sc.source, k, "a lever names a key this scenario does not have")
        out[k] = np.asarray(drawn.get(k, values.get(k)), dtype=float).copy()
    return out


def run_levers(sc: Scenario, levers: list[Lever], runs: int, seed: int, chunk_runs: int = 2400,
               progress: bool = True) -> dict[str, np.ndarray]:
    """Simulate the reference and every lever with common random numbers. Returns horizon arrays with a leading
    lever axis (0 = reference): influence (L+1, R, S+1, P), status and start status (L+1, R, S, F), failed (L+1, R)."""
    keys = sorted({k for lv in levers for k, _, _ in lv.changes})
    base = base_values(sc, runs, seed, keys)
    variants = [dict(base)]
    for lv in levers:
        v = dict(base)
        for k, op, amount in lv.changes:
            v[k] = _apply(v[k], op, amount, k)
        variants.append(v)
    per = max(1, chunk_runs // runs)  # whole levers per lockstep chunk
    out: dict[str, list[np.ndarray]] = {"influence": [], "status": [], "start": [], "failed": []}
    with tqdm(total=len(variants) * runs, unit="run", disable=not progress, desc="levers") as bar:
        for _, model in run_chunks(RunSet.common_numbers(sc, runs, variants, seed), per * runs):
            rec, n = model.recorder, model.R // runs
            T = rec.periods - 1
            out["influence"].append(rec.totals[T].reshape(n, runs, *rec.totals.shape[2:]))
            out["status"].append(rec.status[T].reshape(n, runs, model.S, model.F))
            out["start"].append(rec.status[0].reshape(n, runs, model.S, model.F))
            out["failed"].append(model.failed.reshape(n, runs))
            bar.update(n * runs)
    return {k: np.concatenate(v) for k, v in out.items()}


def run_levers_by_basis(sc: Scenario, levers: list[Lever], runs: int, seed: int,
                        bases: tuple[str, ...] = TRADE_BASES, chunk_runs: int = 2400,
                        progress: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """`run_levers` once under each trade basis (the scenario with `trade_basis` set to it): basis -> arrays. The
    runs of one number share their seeds and draws under every basis."""
    return {b: run_levers(sc.with_overrides({"trade_basis": b}), levers, runs, seed, chunk_runs, progress)
            for b in bases}


def lever_table(sc: Scenario, levers: list[Lever], arr: dict[str, np.ndarray] | dict[str, dict[str, np.ndarray]],
                threshold: float = SIGN_SHARE, drawn: bool | None = None) -> pd.DataFrame:
    """One row per (lever, quantity): reference mean, paired change over the pairs of every basis with its 95%
    interval, the mean change per basis (`change_BASIS`), the share of pairs with each sign per basis and pooled
    with `robust_in_sign` (statistics.sign_robustness; `drawn` None: whether `sc` draws its uncertainty), pairs
    used, failed runs. `arr` is `run_levers_by_basis`'s basis -> arrays, or one `run_levers` result (the
    scenario's own basis: nothing can then be robust in sign)."""
    by_basis = {str(sc.raw["trade_basis"]): arr} if "influence" in arr else arr
    drawn = draws_uncertainty(sc) if drawn is None else drawn
    states, powers, formats = [*sc.states, "REGION"], sc.powers, sc.formats
    levels = np.arange(len(LEVELS))
    # the rows of one lever in the order of the effects' arrays: influence (state, power), then status (state,
    # format, level)
    keys = pd.DataFrame(
        [{"kind": "influence", "state": st, "format": "", "power": p, "level": ""} for st in states for p in powers]
        + [{"kind": "status_probability", "state": st, "format": f, "power": "", "level": lv}
           for st in sc.states for f in formats for lv in LEVELS])
    parts = []
    for i, lv in enumerate(levers, start=1):
        pairs = {}  # basis -> (lever, reference) horizon values of the pairs: influence (n, S+1, P), held (n, S, F, L)
        for b, a in by_basis.items():
            ok = ~(a["failed"][0] | a["failed"][i])
            pairs[b] = (a["influence"][i][ok], a["influence"][0][ok],
                        a["status"][i][ok][..., None] == levels, a["status"][0][ok][..., None] == levels)
        a_inf, b_inf, held_a, held_b = (np.concatenate([p[k] for p in pairs.values()]) for k in range(4))
        inf, held = paired_difference(a_inf, b_inf).columns(), paired_difference(held_a, held_b, binary=True).columns()
        diffs = {b: np.concatenate([(p[0] - p[1]).reshape(len(p[0]), -1),
                                    (p[2].astype(float) - p[3]).reshape(len(p[2]), -1)], axis=1)
                 for b, p in pairs.items()}
        sign = sign_robustness(diffs, threshold, drawn).columns()
        part = keys.copy()
        part.insert(0, "lever", lv.name)
        part.insert(1, "group", lv.group)
        part.insert(2, "pairs", len(a_inf))
        part.insert(3, "failed", sum(int((a["failed"][0] | a["failed"][i]).sum()) for a in by_basis.values()))
        part["reference"] = np.concatenate([b_inf.mean(axis=0).ravel(), held_b.mean(axis=0).ravel()])
        for col in ("change", "ci_low", "ci_high"):
            part[col] = np.concatenate([inf[col], held[col]])
        with np.errstate(invalid="ignore", divide="ignore"):  # a basis without a pair: NaN
            for b, d in diffs.items():
                part[f"change_{b}"] = np.nansum(d, axis=0) / (~np.isnan(d)).sum(axis=0)
        for col, v in sign.items():
            part[col] = v
        parts.append(part)
    t = pd.concat(parts, ignore_index=True)
    t["distinguishable"] = (t["ci_low"] > 0) | (t["ci_high"] < 0)
    return t


def tornado(table: pd.DataFrame, sc: Scenario, path: Path, top: int = 20) -> Path:
    """One panel per power: the levers' paired change in regional influence at the horizon with 95% intervals,
    the `top` levers by their largest absolute effect on any power, largest on top."""
    reg = table[(table["kind"] == "influence") & (table["state"] == "REGION")]
    order = (reg.assign(a=reg["change"].abs()).groupby("lever", sort=False)["a"].max()
             .sort_values(ascending=False).head(top).index[::-1])
    own = {p: sc.raw["powers"][p].get("colour") for p in sc.powers}
    fig = Figure(figsize=(4.2 * len(sc.powers) + 2.5, 0.32 * len(order) + 1.6), dpi=110)
    axes = fig.subplots(1, len(sc.powers), sharey=True)
    axes = np.atleast_1d(axes)
    y = np.arange(len(order))
    for ax, p in zip(axes, sc.powers, strict=True):
        g = reg[reg["power"] == p].set_index("lever").loc[order]
        err = np.vstack([g["change"] - g["ci_low"], g["ci_high"] - g["change"]])
        faint = ~g["distinguishable"].to_numpy()
        ax.barh(y, g["change"], color=colour_of(p, own), alpha=0.85, height=0.7)
        ax.barh(y[faint], g["change"].to_numpy()[faint], color="white", alpha=0.55, height=0.7)
        shaky = ~g["robust_in_sign"].to_numpy(dtype=bool)
        ax.barh(y[shaky], g["change"].to_numpy()[shaky], fill=False, hatch="///", edgecolor="grey", lw=0, height=0.7)
        ax.errorbar(g["change"], y, xerr=err, fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(f"{p}: regional influence")
        ax.set_xlabel("change at the horizon (0-1 scale)")
        ax.grid(axis="x", alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(5))
    axes[0].set_yticks(y, list(order), fontsize=8)
    fig.suptitle(f"Lever audit of '{sc.name}': paired change against the reference, 95% intervals "
                 "(pale bars: interval contains 0; hatched: sign not robust)", fontsize=10)
    return save(fig, path)


@writes_report("out_dir")  # one writer per folder: a second is refused at once
def levers_report(sc: Scenario, out_dir: str | Path, runs: int = 100, seed: int | None = None,
                  levers: list[Lever] | None = None, command: str | None = None, progress: bool = True,
                  bases: tuple[str, ...] = TRADE_BASES, sign_share: float = SIGN_SHARE) -> ReportFiles:
    """Run the audit (`runs` runs per lever under each trade basis of `bases`) and write levers.csv (every lever x
    status probability and influence), levers.md and tornado.png into out_dir; `failed` counts the failed runs over
    the reference and every lever under every basis."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    report_folder(out)
    seed = int(seed if seed is not None else sc.raw["seed"])
    levers = levers if levers is not None else default_levers(sc)
    arr = run_levers_by_basis(sc, levers, runs, seed, bases, progress=progress)
    table = lever_table(sc, levers, arr, sign_share)
    table.to_csv(out / "levers.csv", index=False)
    tornado(table, sc, out / "tornado.png")
    wall = time.perf_counter() - t0
    reg = table[(table["kind"] == "influence") & (table["state"] == "REGION")]
    drawn = "with parameter uncertainty (each run draws the `uncertainty:` section; a lever scales each run's own " \
            "draw)" if draws_uncertainty(sc) else "with fixed parameters (no draw: no effect can be robust in sign)"
    cmd = command or f"python3 run.py levers {sc.source} --runs {runs} --seed {seed} --out {out}"
    md = [f"# Lever audit: {sc.name}", "",
          f"Generated by `{cmd}` ({runs} runs per lever under each trade basis ({', '.join(bases)}), {len(levers)} "
          f"levers, seed {seed}, {wall:.0f} s), {drawn}. "
          f"Horizon: {sc.date_of(sc.steps).isoformat()}. Each lever run shares its random stream and its draws with "
          "the reference run of the same number and trade basis (common random numbers): changes are means of "
          "paired differences over the pairs of every basis, with 95% intervals (Student t for influence, Tango's "
          "score interval for status probabilities: docs/OUTPUT.md). **An effect whose interval contains 0 is "
          "smaller than its interval** (marked '~' below and pale in the figure): the audit cannot tell it from no "
          f"effect at this number of runs. **An effect is robust in sign** when at least {sign_share:.0%} of the "
          "pairs under each trade basis (state and partner) have one and the same sign in runs that draw the "
          "uncertainty section (docs/OUTPUT.md, \"Robust in sign\"); only those are printed in bold, the others "
          "are hatched in the figure.", "",
          "![tornado](tornado.png)", "", "## What the audit finds", ""]
    md += _findings(table, sc)
    md += ["", "## Regional influence at the horizon: change against the reference", "",
           "Bold: robust in sign; `~`: interval contains 0.", "",
           "| lever | group | " + " | ".join(sc.powers) + " | failed |", "|---|---|" + "---|" * len(sc.powers) + "---|"]
    ref_line = ", ".join(f"{p} {reg[reg['power'] == p]['reference'].iloc[0]:.3f}" for p in sc.powers)
    for lv in levers:
        g = reg[reg["lever"] == lv.name].set_index("power")
        cells = [_cell(g.loc[p]) for p in sc.powers]
        md.append(f"| {lv.name} | {lv.group} | " + " | ".join(cells) + f" | {int(g['failed'].iloc[0])} |")
    md += ["", f"Reference regional influence at the horizon (mean over runs): {ref_line}.", "",
           "## Status probabilities: changes of at least 0.05 whose interval excludes 0", "",
           "| lever | state | format | level | reference | change | 95% interval | sign |",
           "|---|---|---|---|---|---|---|---|"]
    st = table[(table["kind"] == "status_probability") & table["distinguishable"] & (table["change"].abs() >= 0.05)]
    st = st.sort_values("change", key=np.abs, ascending=False)
    for _, r in st.head(60).iterrows():
        md.append(f"| {r['lever']} | {r['state']} | {r['format']} | {r['level']} | {r['reference']:.2f} | "
                  f"{r['change']:+.2f} | [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] | {_sign(r)} |")
    if st.empty:
        md.append("| (none) | | | | | | | |")
    elif len(st) > 60:
        md.append(f"| ... {len(st) - 60} more in levers.csv | | | | | | | |")
    md += ["", "## Influence in each state: changes of at least 0.02 whose interval excludes 0", "",
           "| lever | state | power | reference | change | 95% interval | sign |", "|---|---|---|---|---|---|---|"]
    ps = table[(table["kind"] == "influence") & (table["state"] != "REGION") & table["distinguishable"]
               & (table["change"].abs() >= 0.02)].sort_values("change", key=np.abs, ascending=False)
    for _, r in ps.head(40).iterrows():
        md.append(f"| {r['lever']} | {r['state']} | {r['power']} | {r['reference']:.3f} | {r['change']:+.3f} | "
                  f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] | {_sign(r)} |")
    if ps.empty:
        md.append("| (none) | | | | | | |")
    md += ["", "## The levers", "", "| lever | changes (applied to each run's own value) |", "|---|---|"]
    for lv in levers:
        md.append(f"| {lv.name} | " + "; ".join(f"`{k}` {op} {a:g}" for k, op, a in lv.changes) + " |")
    md += ["", "`levers.csv` holds every lever x quantity: regional and per-state influence of each power, and the "
           "probability of each status level in every cell, with the reference mean, the paired change, its 95% "
           "interval, `distinguishable` (interval excludes 0), the mean change under each trade basis "
           "(`change_BASIS`), the share of pairs with a positive, negative and zero difference under each basis "
           "(`share_positive_BASIS` ...) and pooled (`share_positive` ...), `robust_in_sign`, the pairs used and the "
           "failed runs dropped (docs/OUTPUT.md).", ""]
    (out / "levers.md").write_text("\n".join(md), encoding="utf-8")
    failed = sum(int(a["failed"].sum()) for a in arr.values())
    return ReportFiles(out / "levers.md", out / "levers.csv", out / "tornado.png", failed=failed)


def _sign(r: pd.Series) -> str:
    return sign_text(r)


def _cell(r: pd.Series) -> str:
    mark = "" if r["distinguishable"] else "~"
    text = f"{mark}{r['change']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
    return f"**{text}**" if r["robust_in_sign"] else text


def _findings(table: pd.DataFrame, sc: Scenario) -> list[str]:
    """Plain statements computed from the table (no hand-written conclusions); an effect not robust in sign is
    never called a finding."""
    reg = table[(table["kind"] == "influence") & (table["state"] == "REGION")]
    lines = []
    n_levers = reg["lever"].nunique()
    moved = reg[reg["distinguishable"]]["lever"].nunique()
    robust = reg[reg["robust_in_sign"]]["lever"].nunique()
    lines.append(f"- {moved} of {n_levers} levers move some power's regional influence by more than its interval; "
                 f"{robust} move it robustly in sign.")
    for p in sc.powers:
        g = reg[reg["power"] == p]
        top = g.loc[g["change"].abs().idxmax()]
        own = g[g["lever"].str.startswith(f"{p} budget x2")]
        own_txt = (f"; its own budget x2: {own['change'].iloc[0]:+.3f} [{own['ci_low'].iloc[0]:+.3f}, "
                   f"{own['ci_high'].iloc[0]:+.3f}], {_sign(own.iloc[0])}" if not own.empty else "")
        head = "**Finding:** " if top["robust_in_sign"] else ""
        lines.append(f"- {head}{p}: largest effect from '{top['lever']}', {top['change']:+.3f} [{top['ci_low']:+.3f}, "
                     f"{top['ci_high']:+.3f}] (reference {top['reference']:.3f}; {_sign(top)}){own_txt}.")
    st = table[(table["kind"] == "status_probability") & table["distinguishable"] & (table["change"].abs() >= 0.05)]
    lines.append(f"- {st['lever'].nunique()} levers change at least one status probability by 0.05 or more beyond "
                 f"its interval ({len(st)} lever x cell x level entries; {int(st['robust_in_sign'].sum())} robust in "
                 "sign).")
    if not st.empty:
        r = st.loc[st["change"].abs().idxmax()]
        head = "**Finding:** largest" if r["robust_in_sign"] else "Largest"
        lines.append(f"- {head} status effect: '{r['lever']}' moves P({r['state']} {r['level']} of {r['format']}) "
                     f"from {r['reference']:.2f} by {r['change']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] "
                     f"({_sign(r)}).")
    return lines
