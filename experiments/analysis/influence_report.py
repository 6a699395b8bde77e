"""`greatgame influence`: what the model says about influence, per channel and in total, and why (issue 16 item 8).

One command writes `influence.md`, `influence.csv` (every figure in the report) and `influence_channels.png` into a
folder (the shipped copy is docs/validation/influence.md). It runs the baseline with its uncertainty draws on each
trade basis and every shipped scenario on the baseline's basis, and reports:

1. regional influence of every power at the start and the horizon, in total and by channel, on both trade bases;
2. the gap decomposition of every pair of powers p, q: gap = sum_c w_c (I_c[p] - I_c[q]), each run with its own
   drawn channel weights w (they sum to 1), averaged over runs, at the start and the horizon;
3. the share of channel weightings drawn uniformly over the simplex (Dirichlet(1, ..., 1)) under which each power
   leads each state and the region, applied to the mean channel shares over runs (a reading of the recorded shares:
   the weights also enter the states' hedging, which this reweighting holds fixed; findings about levers and
   scenarios are computed from runs instead);
4. how far each channel moves: for each scenario and channel, the largest median over runs of |I_c(horizon) -
   I_c(start)| over states and powers (the issue's acceptance reads 0.005);
5. the ten largest levers of a lever audit table (docs/levers/levers.csv) with their sign shares;
6. what changed from model v2 (figures of v2 measured on main 60fda88, quoted from issue 16);
7. external anchors (`model/data/anchors.csv`: survey figures, which measure perception, not capacity, and the one
   published FBIC value found): the ordering of the powers each anchor gives against the model's start-of-run
   influence (2017 and 2022 data) and against a trade-share-only benchmark, by Kendall's tau over the powers the
   anchor names. The construction and its data were committed before this section was first computed.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.model.api import simulate
from greatgame.model.axes import INFLUENCE
from greatgame.model.files import DATA_DIR, SCENARIOS
from greatgame.model.fundamentals import TRADE_BASES
from greatgame.model.results import Results
from greatgame.model.scenario import Scenario, load_scenario

from ..batch.store import report_folder, writes_report
from .reports import ReportFiles

SKIP = ("backcast_2017.yaml", "calibrated.yaml", "calibrated_2017.yaml")  # not alternatives to the 2022 baseline
WEIGHTINGS = 100_000  # uniformly drawn channel weightings (Dirichlet(1)); 0.3 percentage points of Monte Carlo error
WEIGHTING_SEED = 16  # fixed: the report is reproducible
MOVE = 0.005  # the reading of "a channel moves": median |change| of a share between start and horizon
# Model v2 (main 60fda88, 50 runs, fixed parameters), quoted from issue 16: Russia's regional lead over China at the
# start and its channel contributions, and the share of uniform weightings under which China leads the region.
V2 = {"lead_start": 0.197, "lead_horizon": 0.121,
      "contributions_start": {"security": 0.108, "institutions": 0.061, "energy_transport": 0.029,
                              "migration": 0.028, "trade": -0.009, "investment": -0.021},
      "china_leads_region_start": 0.009, "china_leads_region_horizon": 0.071}


def channel_weights(res: Results, sc: Scenario) -> np.ndarray:
    """Each run's channel weights (R, C): the drawn (renormalised) values where drawn, else the scenario's."""
    given = sc.raw["influence"]["channel_weights"]
    R = len(res.runs)
    w = np.stack([np.asarray(res.parameters.get(f"influence.channel_weights.{c}", np.full(R, given[c])), dtype=float)
                  for c in INFLUENCE], axis=-1)
    return w / w.sum(axis=-1, keepdims=True)


def gap_decomposition(res: Results, weights: np.ndarray, t: int) -> pd.DataFrame:
    """Per pair (p, q) and channel: mean over runs of w_c (I_c[p] - I_c[q]) in the region at period t, and the total."""
    reg = res.regional_channels[t]  # (R, P, C)
    rows = []
    for a, b in itertools.combinations(range(len(res.powers)), 2):
        contrib = weights * (reg[:, a] - reg[:, b])  # (R, C)
        row = {"pair": f"{res.powers[a]}-{res.powers[b]}", "total": float(np.nanmean(contrib.sum(axis=-1)))}
        row.update({c: float(np.nanmean(contrib[:, i])) for i, c in enumerate(INFLUENCE)})
        rows.append(row)
    return pd.DataFrame(rows)


def lead_shares(channels: np.ndarray, n: int = WEIGHTINGS, seed: int = WEIGHTING_SEED) -> np.ndarray:
    """Share of uniform channel weightings w ~ Dirichlet(1, ..., 1) under which each power has the highest
    sum_c w_c I_c. channels (X, P, C): mean channel shares of X units (states, region). Returns (X, P)."""
    w = np.random.default_rng(seed).dirichlet(np.ones(channels.shape[-1]), size=n)  # (n, C)
    total = np.einsum("xpc,nc->nxp", channels, w)
    leader = total.argmax(axis=-1)  # (n, X)
    return np.stack([(leader == p).mean(axis=0) for p in range(channels.shape[1])], axis=-1)


def channel_moves(res: Results) -> dict[str, float]:
    """For each channel: the largest over states and powers of the median over runs of |I_c(horizon) - I_c(start)|."""
    ch = res.influence_channels  # (T, R, S, P, C)
    move = np.nanmedian(np.abs(ch[-1] - ch[0]), axis=0)  # (S, P, C)
    return {c: float(move[..., i].max()) for i, c in enumerate(INFLUENCE)}


def anchor_orderings(anchors: pd.DataFrame, starts: dict[str, Results]) -> pd.DataFrame:
    """Per anchor and start: Kendall's tau between the anchor's values and (a) the model's mean start-of-run
    influence, (b) the powers' shares of the state's turnover with the modelled powers (trade-only benchmark), over
    the powers the anchor names; and whether the top power agrees. State CA4 = the mean over KAZ, KGZ, TJK, UZB."""
    from scipy.stats import kendalltau

    rows = []
    for (anchor, state), g in anchors.groupby(["anchor", "state"], sort=False):
        for start, res in starts.items():
            powers = [p for p in g["power"] if p in res.powers]
            cols = [res.powers.index(p) for p in powers]
            units = [res.states.index(x) for x in (("KAZ", "KGZ", "TJK", "UZB") if state == "CA4" else (state,))]
            infl = np.nanmean(res.influence_total[0][:, units][:, :, cols], axis=(0, 1))
            trade = res.turnover[0][:, units]  # (R, S', P)
            share = np.nanmean(trade[..., cols] / trade.sum(axis=-1, keepdims=True), axis=(0, 1))
            values = g.set_index("power").loc[powers, "value"].to_numpy(dtype=float)
            row = {"anchor": anchor, "state": state, "start": start, "powers": " ".join(powers),
                   "anchor_values": " ".join(f"{v:g}" for v in values),
                   "model": " ".join(f"{v:.3f}" for v in infl), "trade_share": " ".join(f"{v:.3f}" for v in share)}
            for name, x in (("model", infl), ("trade_share", share)):
                row[f"tau_{name}"] = float(kendalltau(values, x).statistic) if len(powers) > 1 else float("nan")
                row[f"top_{name}"] = bool(np.argmax(x) == np.argmax(values))
            rows.append(row)
    return pd.DataFrame(rows)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@writes_report("out_dir")  # one writer per folder: a second is refused at once
def influence_report(out_dir: str | Path, runs: int = 200, seed: int | None = None, levers: str | Path | None = None,
                     scenarios_dir: Path = SCENARIOS, progress: bool = True, command: str = "") -> ReportFiles:
    """Run the baseline (both trade bases) and every shipped scenario; write influence.md, influence.csv and
    influence_channels.png into out_dir (see the module docstring for what each section computes)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    out = Path(out_dir)
    report_folder(out)
    base_sc = load_scenario(scenarios_dir / "baseline.yaml")
    seed = int(seed if seed is not None else base_sc.raw["seed"])
    basis0 = base_sc.raw["trade_basis"]

    def say(text: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - t0:6.1f} s] {text}", flush=True)

    by_basis: dict[str, Results] = {}
    for basis in (basis0, *[b for b in TRADE_BASES if b != basis0]):
        say(f"baseline, trade basis {basis}")
        by_basis[basis] = simulate(base_sc.with_overrides({"trade_basis": basis}) if basis != basis0 else base_sc,
                                   runs=runs, seed=seed)
    base = by_basis[basis0]
    P, powers = len(base.powers), base.powers
    w = channel_weights(base, base_sc)
    table: list[dict] = []

    def record(section: str, **row: object) -> None:
        table.append({"section": section, **row})

    cmd = command or f"python3 run.py influence --runs {runs} --out {out}"
    md = ["# Influence: what the model says, per channel and in total, and why", "",
          f"Generated by `{cmd}` ({runs} runs of each scenario, seed {seed}, the baseline's uncertainty draws: channel "
          f"weights, autonomy, depths, budgets and the behavioural vector; {base.dates[0]} to {base.dates[-1]}). "
          f"Influence of power p over state s in channel c is p's share of the channel (docs/ODD.md 4.4); the total "
          f"is sum_c w_c I_c. Every figure is in `influence.csv`.", ""]

    # 1. regional influence, total and by channel, start and horizon, both bases
    md += ["## 1. Regional influence (GDP-weighted), start and horizon", "",
           "Mean over runs, with the 5-95% range over runs in brackets.", "",
           "| trade basis | power | start | horizon |", "|---|---|---|---|"]
    for basis, res in by_basis.items():
        for j, p in enumerate(res.powers):
            cells = []
            for t, when in ((0, "start"), (-1, "horizon")):
                x = res.regional_total[t, :, j]
                lo, hi = np.nanquantile(x, [0.05, 0.95])
                cells.append(f"{np.nanmean(x):.3f} [{lo:.3f}, {hi:.3f}]")
                record("regional_total", basis=basis, power=p, when=when, value=float(np.nanmean(x)),
                       low=float(lo), high=float(hi))
            md.append(f"| {basis} | {p} | {cells[0]} | {cells[1]} |")
    md += ["", f"By channel (trade basis {basis0}; each cell: the power's share of the channel, start -> horizon):", "",
           "| power | " + " | ".join(INFLUENCE) + " |", "|---|" + "---|" * len(INFLUENCE)]
    for j, p in enumerate(powers):
        cells = []
        for i, c in enumerate(INFLUENCE):
            a, b = np.nanmean(base.regional_channels[0, :, j, i]), np.nanmean(base.regional_channels[-1, :, j, i])
            cells.append(f"{a:.3f} -> {b:.3f}")
            record("regional_channel", basis=basis0, power=p, channel=c, start=float(a), horizon=float(b))
        md.append(f"| {p} | " + " | ".join(cells) + " |")

    # 2. gap decomposition
    md += ["", "## 2. Where each gap comes from", "",
           "Gap between two powers' regional influence, split by channel: sum over channels of w_c (I_c[p] - I_c[q]), "
           "each run with its own drawn weights, mean over runs. Positive: the first power leads in that channel.", ""]
    gap_at = {when: gap_decomposition(base, w, t).set_index("pair") for t, when in ((0, "start"), (-1, "horizon"))}
    for t, when in ((0, "start"), (-1, "horizon")):
        gaps = gap_at[when].reset_index()
        md += [f"**{when.capitalize()}** ({base.dates[t]}):", "", "| pair | total | " + " | ".join(INFLUENCE) + " |",
               "|---|---|" + "---|" * len(INFLUENCE)]
        for _, g in gaps.iterrows():
            md.append(f"| {g['pair']} | {g['total']:+.3f} | " + " | ".join(f"{g[c]:+.3f}" for c in INFLUENCE) + " |")
            record("gap", basis=basis0, when=when, pair=g["pair"], total=g["total"], **{c: g[c] for c in INFLUENCE})
        md.append("")

    # 3. who leads under uniformly drawn weightings
    md += ["## 3. Who leads under any weighting of the channels", "",
           f"Share of {WEIGHTINGS:,} channel weightings drawn uniformly over all weightings (Dirichlet(1)) under which "
           "each power has the highest influence, applied to the mean channel shares over runs (the weights' other "
           "role, in the states' hedging, is held fixed here).", "",
           "| unit | when | " + " | ".join(powers) + " |", "|---|---|" + "---|" * P]
    units = (*base.states, "REGION")
    lead = {}
    for t, when in ((0, "start"), (-1, "horizon")):
        states = np.nanmean(base.influence_channels[t], axis=0)  # (S, P, C)
        region = np.nanmean(base.regional_channels[t], axis=0)[None]  # (1, P, C)
        lead[when] = lead_shares(np.concatenate([states, region]))
    for x, unit in enumerate(units):
        for when in ("start", "horizon"):
            md.append(f"| {unit} | {when} | " + " | ".join(_pct(v) for v in lead[when][x]) + " |")
            for j, p in enumerate(powers):
                record("lead_share", basis=basis0, unit=unit, when=when, power=p, value=float(lead[when][x, j]))

    # 4. channel movement by scenario
    md += ["", "## 4. How far each channel moves", "",
           "For each scenario: the largest (over states and powers) median over runs of |I_c(horizon) - I_c(start)|. "
           f"Cells of at least {MOVE} are in bold (issue 16's reading of a channel that moves).", "",
           "| scenario | " + " | ".join(INFLUENCE) + " |", "|---|" + "---|" * len(INFLUENCE)]
    moves = {"baseline": channel_moves(base)}
    for path in sorted(p for p in scenarios_dir.glob("*.yaml") if p.name not in SKIP + ("baseline.yaml",)):
        sc = load_scenario(path)
        say(sc.name)
        moves[sc.name] = channel_moves(simulate(sc, runs=runs, seed=seed))
    for name, mv in moves.items():
        md.append(f"| {name} | " + " | ".join(f"**{v:.4f}**" if v >= MOVE else f"{v:.4f}" for v in mv.values()) + " |")
        record("channel_move", basis=basis0, scenario=name, **mv)

    # 5. levers
    md += ["", "## 5. The ten largest levers", ""]
    lever_file = Path(levers) if levers else None
    if lever_file is not None and lever_file.is_file():
        lv = pd.read_csv(lever_file)
        lv = lv[(lv["kind"] == "influence") & (lv["state"] == "REGION")].copy()
        lv["size"] = lv["change"].abs()
        top = lv.sort_values("size", ascending=False).head(10)
        robust = "robust_in_sign" in top.columns
        md += [f"From `{lever_file}` (regional influence at the horizon, paired runs).", "",
               "| lever | power | change | 95% interval | runs up | runs down |" + (" robust in sign |" if robust else ""),
               "|---|---|---|---|---|---|" + ("---|" if robust else "")]
        for _, r in top.iterrows():
            md.append(f"| {r['lever']} | {r['power']} | {r['change']:+.4f} | [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}] | "
                      f"{_pct(r['share_positive'])} | {_pct(r['share_negative'])} |"
                      + (f" {'yes' if r['robust_in_sign'] else 'no'} |" if robust else ""))
            record("lever", lever=r["lever"], power=r["power"], change=float(r["change"]),
                   share_positive=float(r["share_positive"]), share_negative=float(r["share_negative"]))
        if not robust:
            md += ["", "This table has no `robust_in_sign` column: it was written before the sign rule (docs/OUTPUT.md); "
                   "regenerate it with `python3 run.py levers`."]
    else:
        md.append("No lever table given (`--levers docs/levers/levers.csv`).")

    # 6. what changed from v2
    if "RUS" in powers and "CHN" in powers:
        r, c = powers.index("RUS"), powers.index("CHN")
        gap0 = gap_at["start"]
        key = f"{powers[min(r, c)]}-{powers[max(r, c)]}"
        sign = 1.0 if r < c else -1.0
        lead_now = {when: sign * float(gap_at[when].loc[key, "total"]) for when in ("start", "horizon")}
        md += ["", "## 6. What changed from model v2", "",
               "Model v2 figures: main 60fda88, 50 runs, fixed parameters (quoted from issue 16). Now: this report's "
               "runs, with their uncertainty draws.", "",
               "| figure | v2 | now |", "|---|---|---|",
               f"| Russia's regional lead over China, start | {V2['lead_start']:+.3f} | {lead_now['start']:+.3f} |",
               f"| Russia's regional lead over China, horizon | {V2['lead_horizon']:+.3f} | {lead_now['horizon']:+.3f} |"]
        for ch in INFLUENCE:
            md.append(f"| ... of which {ch}, start | {V2['contributions_start'][ch]:+.3f} | "
                      f"{sign * float(gap0.loc[key, ch]):+.3f} |")
        md += [f"| weightings under which China leads the region, start | {_pct(V2['china_leads_region_start'])} | "
               f"{_pct(lead['start'][-1, c])} |",
               f"| weightings under which China leads the region, horizon | {_pct(V2['china_leads_region_horizon'])} | "
               f"{_pct(lead['horizon'][-1, c])} |", "",
               "Why: README 'Changes from v2' and docs/ODD.md 4.4 (channels measured from the yearly panel, the EU and "
               "Turkey as powers, threats through providers, the trade basis as a switch)."]

    # 7. external anchors
    anchor_file = DATA_DIR / "anchors.csv"
    back = scenarios_dir / "backcast_2017.yaml"
    if anchor_file.is_file() and back.is_file():
        say("2017 start (backcast_2017)")
        starts = {"2017 data": simulate(load_scenario(back), runs=runs, seed=seed, steps=1), "2022 data": base}
        anchors = pd.read_csv(anchor_file)
        orders = anchor_orderings(anchors, starts)
        md += ["", "## 7. External anchors", "",
               "Computed after the index construction and its data were committed (docs/ODD.md 4.4). The survey "
               "figures measure **perception** (approval, who is 'best able to help', 'most important economic "
               "partner'), not capacity; the FBIC value measures capacity. Each row compares the ordering of the "
               "powers the anchor names with the model's mean start-of-run influence and with a trade-only "
               "benchmark (the power's share of the state's turnover with the modelled powers), by Kendall's tau "
               "(1: same order) and whether the top power agrees. Sources: `model/data/anchors.csv`.", "",
               "| anchor | state | start | powers | anchor | model influence | trade share | tau model | tau trade | "
               "top agrees (model, trade) |", "|---|---|---|---|---|---|---|---|---|---|"]
        for _, r in orders.iterrows():
            md.append(f"| {r['anchor']} | {r['state']} | {r['start']} | {r['powers']} | {r['anchor_values']} | "
                      f"{r['model']} | {r['trade_share']} | {r['tau_model']:+.2f} | {r['tau_trade_share']:+.2f} | "
                      f"{'yes' if r['top_model'] else 'no'}, {'yes' if r['top_trade_share'] else 'no'} |")
            record("anchor", **{k: r[k] for k in orders.columns})
        md += ["", "With one FBIC dyad (Russia -> Uzbekistan 2019) no rank correlation over dyads can be computed; the "
               "row shows the model's Russian influence in Uzbekistan beside it. The survey anchors name two to five "
               "powers each, so a tau is coarse: read the top power first."]

    # figure: regional channel shares start and horizon
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (t, when) in zip(axes, ((0, "start"), (-1, "horizon")), strict=True):
        x = np.arange(len(INFLUENCE))
        width = 0.8 / P
        for j, p in enumerate(powers):
            ax.bar(x + j * width, np.nanmean(base.regional_channels[t, :, j], axis=0), width, label=p,
                   color=base.colours.get(p) or None)
        ax.set_xticks(x + 0.4 - width / 2, [c.replace("_", "/\n") for c in INFLUENCE])
        ax.set_title(f"{when} ({base.dates[t][:7]})")
        ax.set_ylabel("share of the channel (region, GDP-weighted)")
    axes[0].legend(frameon=False)
    fig.suptitle(f"Each power's share of each influence channel, baseline (trade basis {basis0}, mean of {runs} runs)")
    fig.tight_layout()
    fig.savefig(out / "influence_channels.png", dpi=120)
    plt.close(fig)
    md += ["", "![Each power's share of each channel](influence_channels.png)", "",
           f"Written in {time.perf_counter() - t0:.0f} s.", ""]
    pd.DataFrame(table).to_csv(out / "influence.csv", index=False)
    (out / "influence.md").write_text("\n".join(md), encoding="utf-8")
    return ReportFiles(out / "influence.md", out / "influence.csv", out / "influence_channels.png")
