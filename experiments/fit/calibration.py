"""Calibration of the global parameters against the patterns of docs/ODD.md section 1 (section 9).

The alignment pattern and the record's exit and join hazards are fitted first on the mean-field stand-in
(`experiments/fit/standin.py`), then by simulation: differential evolution whose every generation runs as one lockstep
model, each run carrying its own parameter vector. The trade elasticity is fitted on the 2017-2022 backcast by
simulation (2022 fit only). All fits use scipy.optimize.differential_evolution (bounded, seeded). Every parameter
fitted here is shared by all states: nothing is per state and format.

This stand-in calibration no longer sets the baseline: the shipped decision rule is the one estimated on the dated
record (`python3 run.py estimate`, experiments/fit/rule.py; issue 17). It fits its own form (the depth-scaled
switching costs, `standin_form`) and writes its own scenario files (calibrated.yaml, calibrated_2017.yaml), each
drawing from its own near-best set; the validation's secondary readings still use it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml
from greatgame.model import keypaths
from greatgame.model.ensemble import RunSet
from greatgame.model.lock import writes_folder
from greatgame.model.scenario import Scenario
from greatgame.model.schema import fit_parameters
from scipy.optimize import differential_evolution

from .record import record_hazards
from .standin import HAZARD_STEPS, INSTITUTIONS, AlignmentSurrogate, hazard_miss, observed_cells

HAZARD_WEIGHT = 1.0  # judgement: a hazard off by a factor e costs as much as one cell (ODD 9)

# (key under the scenario, lower bound, upper bound): the global parameters each fit may move, from their declarations
# (model/schema.py: `fit` bounds, in the order of the behaviour block's columns)
CHOICE_PARAMETERS: tuple[tuple[str, float, float], ...] = fit_parameters("alignment")
TRADE_PARAMETERS: tuple[tuple[str, float, float], ...] = fit_parameters("trade")


def standin_form(scenario: Scenario) -> Scenario:
    """The scenario in the form this calibration fits: switching costs switching_cost_join/exit x depth (ODD eq.
    4.2d), the kind costs of the estimated rule (`switching_cost_kind`) unset."""
    if "switching_cost_kind" not in scenario.p:
        return scenario
    return scenario.with_overrides({"parameters.switching_cost_kind": None})


def fixed(scenario: Scenario) -> Scenario:
    """The scenario without parameter draws (`uncertainty: fixed`): calibration and validation use fixed values."""
    return scenario if scenario.uncertainty is None else scenario.with_overrides({"uncertainty": "fixed"})


def overrides(keys: list[str], x: np.ndarray) -> dict[str, float]:
    """Scenario overrides {key: value} of a parameter vector, rounded to 6 decimals."""
    return {k: float(round(v, 6)) for k, v in zip(keys, x, strict=True)}


def observed_start_hazards(scenario: Scenario, runs: int, seed: int | None, keys: list[str] | None = None,
                           X: np.ndarray | None = None, steps: int = HAZARD_STEPS,
                           states: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Simulated annual exit and join hazards in the institution cells over `steps` quarters from the observed
    pattern of the start year, no events, for each parameter vector (rows of X; None: the scenario's own)."""
    n = 1 if X is None else len(X)
    sc = scenario.with_overrides({"initial_status": "data", "steps": steps, "events": []})
    m = RunSet.vectors(sc, keys, X, runs, seed).model().run()
    cols = [m.formats.index(f) for f in INSTITUTIONS]
    valid = observed_cells(m.states, m.formats, int(sc.raw["data_year"])) >= 0
    rows = list(range(m.S)) if states is None else states
    st = m.recorder.status[:, :, :, cols].reshape(steps + 1, n, runs, m.S, len(cols))[..., rows, :]
    v = valid[rows][None, None, None]
    before, after = st[:-1], st[1:]
    down = ((before == 2) & (after < 2) & v).sum(axis=(0, 2, 3, 4)) / np.maximum(((before == 2) & v).sum(axis=(0, 2, 3, 4)), 1)
    up = ((before == 0) & (after > 0) & v).sum(axis=(0, 2, 3, 4)) / np.maximum(((before == 0) & v).sum(axis=(0, 2, 3, 4)), 1)
    return 1 - (1 - down) ** (1 / m.dt), 1 - (1 - up) ** (1 / m.dt)


@dataclass(frozen=True)
class BlankSlate:
    """The pattern a blank-slate simulation settles into (`simulate_blank_slate`): the modal status of every state
    in the five institutions against the observed one. Statuses: 0 none, 1 partial, 2 member (-1: not observed)."""

    states: tuple[str, ...]  # the states, in the rows of the arrays
    formats: tuple[str, ...]  # the five institutions, in the columns (INSTITUTIONS)
    predicted: np.ndarray  # (S, 5) modal status over the window and all runs
    observed: np.ndarray  # (S, 5) observed status in the scenario's data year
    share: np.ndarray  # (S, 5, 3) share of periods x runs at each status (0-1)
    matched: int  # cells where predicted == observed (of 25)
    settled: bool  # the modal pattern of the window's two halves is the same
    changed_cells_between_half_windows: int  # cells whose modal status differs between the two halves
    hazard_down_per_year: float | None  # exit hazard from member, from the observed pattern (per year); None: not run
    hazard_up_per_year: float | None  # join hazard from none, from the observed pattern (per year); None: not run


@dataclass(frozen=True)
class Backcast:
    """A backcast run (`backcast`) from 2017Q3: the region's turnover with each power and the 2022 status pattern.
    Turnover in US$ bn/year; statuses 0 none, 1 partial, 2 member."""

    dates: tuple[str, ...]  # ISO date of every recorded period
    region_turnover: np.ndarray  # (T, R, P) the region's goods turnover with each power (US$ bn/year)
    powers: tuple[str, ...]  # the powers, in the last axis of region_turnover
    changes: tuple[tuple[str, str, int, int, float], ...]  # (state, format, 2017 status, 2022 status, share of runs
    #                                                        at the 2022 status) of each cell that changed
    changes_reached: int  # changed cells reached by >= 50% of runs at 2022Q4
    changes_total: int  # cells whose status changed 2017-2022
    cells_kept: int  # unchanged cells kept by >= 80% of runs
    cells_unchanged_total: int  # cells whose status did not change 2017-2022
    persistence_matched: int  # 2022 cells matched by the 2017 pattern (the persistence benchmark)
    share: np.ndarray  # (S, 5, 3) share of runs at each status at 2022Q4 (0-1)
    rus_2021: float  # median region-Russia turnover, mid-2021 (US$ bn/year)
    rus_2022: float  # median region-Russia turnover, mid-2022 (US$ bn/year)
    chn_2022: float  # median region-China turnover, mid-2022 (US$ bn/year)
    start_rus: float  # region-Russia turnover at the start (US$ bn/year)
    start_chn: float  # region-China turnover at the start (US$ bn/year)
    status_matched: int  # 2022 cells where the modal status at 2022Q4 is the observed one (of 25)
    predicted: np.ndarray  # (S, 5) modal status at 2022Q4
    observed: np.ndarray  # (S, 5) observed 2022 status
    t21: int  # the step of mid-2021
    t22: int  # the step of mid-2022


def simulate_blank_slate(scenario: Scenario, runs: int = 32, steps: int = 120, window: int = 40,
                         seed: int | None = None, keys: list[str] | None = None,
                         X: np.ndarray | None = None, hazards: bool = True) -> BlankSlate:
    """Simulate from a blank slate and return the modal status over the last `window` periods and all runs of
    every state in the five institutions, the observed pattern, and a settling diagnostic. With parameter vectors
    X (rows, columns `keys`), every vector gets `runs` runs and the modal status is taken over all of them (the
    predictive distribution of an ensemble of fits). `hazards`: also the exit and join hazards from the observed
    pattern (a second simulation; None without)."""
    sc = scenario.with_overrides({"initial_status": "blank", "steps": steps, "events": [], "fundamentals": "held"})
    m = RunSet.vectors(sc, keys, X, runs, seed).model().run()
    cols = [m.formats.index(f) for f in INSTITUTIONS]
    st = m.recorder.status[-window:, :, :, cols]  # (W, R, S, 5)
    counts = np.stack([(st == k).sum(axis=(0, 1)) for k in range(3)], axis=-1)  # (S, 5, 3)
    modal = counts.argmax(axis=-1)
    half = window // 2
    early = np.stack([(st[:half] == k).sum(axis=(0, 1)) for k in range(3)], axis=-1).argmax(axis=-1)
    late = np.stack([(st[half:] == k).sum(axis=(0, 1)) for k in range(3)], axis=-1).argmax(axis=-1)
    observed = observed_cells(m.states, m.formats, int(sc.raw["data_year"]))
    down, up = observed_start_hazards(scenario, runs, seed, keys, X) if hazards else (None, None)
    return BlankSlate(states=tuple(m.states), formats=tuple(INSTITUTIONS), predicted=modal, observed=observed,
                      share=counts / counts.sum(axis=-1, keepdims=True), matched=int((modal == observed).sum()),
                      settled=bool((early == late).all()),
                      changed_cells_between_half_windows=int((early != late).sum()),
                      hazard_down_per_year=None if down is None else float(np.mean(down)),
                      hazard_up_per_year=None if up is None else float(np.mean(up)))


def backcast(scenario: Scenario, runs: int = 32, seed: int | None = None, keys: list[str] | None = None,
             X: np.ndarray | None = None) -> Backcast:
    """Run a backcast scenario (2017Q3 start) and read the region's turnover with Russia and China at 2021 and
    2022 mid-year, and the modal 2022 status pattern (with parameter vectors X: `runs` runs of each, pooled)."""
    m = RunSet.vectors(scenario, keys, X, runs, seed).model().run()
    sc = m.spec
    t21, t22 = sc.step_of(2021, 7), sc.step_of(2022, 7)
    region = m.recorder.turnover.sum(axis=2)  # (T, R, P)
    rus, chn = m.powers.index("RUS"), m.powers.index("CHN")
    cols = [m.formats.index(f) for f in INSTITUTIONS]
    t_end = min(sc.step_of(2022, 10), m.recorder.periods - 1)
    st = m.recorder.status[t_end][:, :, cols]  # (R, S, 5) at 2022Q4
    share = np.stack([(st == k).mean(axis=0) for k in range(3)], axis=-1)  # (S, 5, 3)
    modal = share.argmax(axis=-1)
    observed = observed_cells(m.states, m.formats)
    start = observed_cells(m.states, m.formats, 2017)
    changed = observed != start
    reached = np.take_along_axis(share, observed[..., None], axis=-1)[..., 0]  # share of runs at the 2022 status
    kept = np.take_along_axis(share, start[..., None], axis=-1)[..., 0]  # share of runs still at the 2017 status
    dates = [sc.date_of(t).isoformat() for t in range(m.recorder.periods)]
    return Backcast(
        dates=tuple(dates), region_turnover=region, powers=tuple(m.powers),
        changes=tuple((m.states[i], INSTITUTIONS[j], int(start[i, j]), int(observed[i, j]), float(reached[i, j]))
                      for i, j in zip(*np.nonzero(changed), strict=True)),
        changes_reached=int((reached[changed] >= 0.5).sum()), changes_total=int(changed.sum()),
        cells_kept=int((kept[~changed] >= 0.8).sum()), cells_unchanged_total=int((~changed).sum()),
        persistence_matched=int((start == observed).sum()), share=share,
        rus_2021=float(np.median(region[t21, :, rus])), rus_2022=float(np.median(region[t22, :, rus])),
        chn_2022=float(np.median(region[t22, :, chn])), start_rus=float(region[0, 0, rus]),
        start_chn=float(region[0, 0, chn]), status_matched=int((modal == observed).sum()),
        predicted=modal, observed=observed, t21=t21, t22=t22)


def china_target_2022(basis: str = "state") -> tuple[float, list[str]]:
    """China-region turnover 2022 on the basis of each state's 2017 start (ODD 9): the China-side total (GACC via
    WeNews, $70.2 bn), with the China-side figure of every state whose 2017 start comes from its own statistics
    replaced by its own-side 2022 figure (China's records of Kyrgyz trade include transit cargo). Returns the
    target and a note of each replacement."""
    from greatgame.model.fundamentals import best_trade_rows, trade_rows

    table = trade_rows()
    rows = [r for r in table if r["partner"] == "CHN" and r["year"] == "2022"]
    totals = [float(r["turnover_usd_bn"]) for r in rows if r["state"] == "CA5" and r["basis"] == "partner"]
    if not totals:
        raise ValueError("model/data/trade.csv: no China-side CA5-CHN 2022 row (the backcast's China target)")
    total, notes = totals[0], []
    for (state, partner), r in sorted(best_trade_rows(2017, table, basis).items()):
        if partner != "CHN" or r["basis"] != "state":
            continue
        side: dict[str, float] = {}
        for r2 in rows:  # the first row of each basis, as listed
            if r2["state"] == state:
                side.setdefault(r2["basis"], float(r2["turnover_usd_bn"]))
        if "state" in side and "partner" in side:
            total += side["state"] - side["partner"]
            notes.append(f"{state}: China-side {side['partner']:g} replaced by own-side {side['state']:g}")
        else:
            notes.append(f"{state}: no 2022 own-side and China-side pair to rebase, kept as in the total")
    return total, notes


@functools.cache
def targets(basis: str = "state") -> Mapping[str, float]:
    """The backcast's observed targets, US$ bn (read from model/data/trade.csv on first use, never at import):
    Russia-region 2022 (TASS, DPM Manturov, 'above $42 bln'), China-region 2022 on the basis of the 2017 start on
    the trade basis `basis` (`china_target_2022`), Russia-region 2021 ($37.1 bn, Putin in the seed article)."""
    return MappingProxyType({"rus_2022": 42.0, "chn_2022": round(china_target_2022(basis)[0], 2), "rus_2021": 37.1})


def backcast_errors(result: Backcast, basis: str = "state") -> dict[str, float]:
    """Relative errors (model - observed) / observed of the backcast's turnover, against the targets of the trade
    basis the backcast ran on."""
    t = targets(basis)
    return {"backcast_error_rus": (result.rus_2022 - t["rus_2022"]) / t["rus_2022"],
            "backcast_error_chn": (result.chn_2022 - t["chn_2022"]) / t["chn_2022"],
            "backcast_error_rus_2021": (result.rus_2021 - t["rus_2021"]) / t["rus_2021"]}


@dataclass
class Fit:
    """A stand-in fit: its keys, the best vector, the cells it matches, and every evaluated (vector, cells, score)."""

    keys: list[str]
    best: np.ndarray
    surrogate_cells: int
    history: list[tuple[np.ndarray, int, float]] = field(default_factory=list)

    def near_best(self, tolerance_cells: int = 1, limit: int = 32, seed: int = 0) -> np.ndarray:
        """Distinct evaluated vectors within `tolerance_cells` of the best surrogate score (a random subset)."""
        good = [x for x, cells, _ in self.history if cells >= self.surrogate_cells - tolerance_cells]
        unique = np.unique(np.round(np.array(good), 4), axis=0) if good else np.empty((0, len(self.keys)))
        rng = np.random.default_rng(seed)
        if len(unique) > limit:
            unique = unique[rng.choice(len(unique), limit, replace=False)]
        return unique


def fit_alignment(scenario: Scenario, seed: int = 1, maxiter: int = 40, popsize: int = 10,
                  states: list[int] | None = None,
                  parameters: tuple[tuple[str, float, float], ...] = CHOICE_PARAMETERS) -> Fit:
    """Differential evolution on the surrogate: maximise matched cells plus a quarter of the probability of the
    observed statuses, minus HAZARD_WEIGHT x the squared log distance of the chain's exit and join hazards from
    the record's (on all states, or on `states` only for leave-one-out)."""
    keys = [k for k, _, _ in parameters]
    sur = AlignmentSurrogate(scenario, keys)
    history: list[tuple[np.ndarray, int, float]] = []

    def loss(x: np.ndarray) -> float:
        cells, soft, miss = sur.score(x, states)
        history.append((x.copy(), cells, soft))
        return -(cells + 0.25 * soft - HAZARD_WEIGHT * miss)

    res = differential_evolution(loss, [(lo, hi) for _, lo, hi in parameters], seed=seed, maxiter=maxiter,
                                 popsize=popsize, tol=0.0, polish=False, init="sobol")
    cells, _, _ = sur.score(res.x, states)
    return Fit(keys, res.x, cells, history)


def fit_trade(scenario: Scenario, seed: int = 1, runs: int = 16,
              maxiter: int = 6) -> tuple[dict[str, float], dict[str, float]]:
    """Differential evolution on the backcast: minimise the squared relative errors of the region's 2022
    turnover with Russia and China."""
    keys = [k for k, _, _ in TRADE_PARAMETERS]

    def loss(x: np.ndarray) -> float:
        sc = scenario.with_overrides(overrides(keys, x))
        err = backcast_errors(backcast(sc, runs=runs, seed=seed))
        return err["backcast_error_rus"] ** 2 + err["backcast_error_chn"] ** 2

    res = differential_evolution(loss, [(lo, hi) for _, lo, hi in TRADE_PARAMETERS], seed=seed, maxiter=maxiter,
                                 popsize=6, tol=0.0, polish=False, init="sobol")
    fitted = overrides(keys, res.x)
    sc = scenario.with_overrides(fitted)
    return fitted, backcast_errors(backcast(sc, runs=runs, seed=seed))


def simulated_scores(scenario: Scenario, keys: list[str], X: np.ndarray, runs: int = 8, steps: int = 120,
                     window: int = 40, seed: int | None = None, states: list[int] | None = None) -> np.ndarray:
    """Score every parameter vector (rows of X) by simulating the real model from a blank slate, all vectors in one
    lockstep model (each run carries its own parameter values) with common random numbers: the runs of every
    vector use spawn keys (0..runs-1). Score = cells matched + 0.25 x mean share of the observed statuses
    - HAZARD_WEIGHT x the squared log distance of the simulated exit and join hazards from the record's."""
    n = len(X)
    sc = scenario.with_overrides({"initial_status": "blank", "steps": steps, "events": [], "fundamentals": "held"})
    m = RunSet.vectors(sc, keys, X, runs, seed).model().run()
    cols = [m.formats.index(f) for f in INSTITUTIONS]
    observed = observed_cells(m.states, m.formats, int(sc.raw["data_year"]))
    rows = list(range(len(observed))) if states is None else states
    st = m.recorder.status[-window:, :, :, cols].reshape(window, n, runs, m.S, len(cols))  # (W, n, runs, S, 5)
    share = np.stack([(st == k).mean(axis=(0, 2)) for k in range(3)], axis=-1)  # (n, S, 5, 3)
    obs, pr = observed[rows], share[:, rows]
    valid = obs >= 0
    hit = ((pr.argmax(axis=-1) == obs) & valid).sum(axis=(1, 2))
    soft = (np.take_along_axis(pr, np.maximum(obs, 0)[None, ..., None], axis=-1)[..., 0] * valid).sum(axis=(1, 2))
    rec = record_hazards(int(sc.raw["data_year"]) + sc.start[1] / 12.0)
    down, up = observed_start_hazards(scenario, runs, seed, keys, X, states=states)
    miss = np.array([hazard_miss(d, u, rec) for d, u in zip(down, up, strict=True)])
    return hit + 0.25 * soft - HAZARD_WEIGHT * miss


def refine_by_simulation(scenario: Scenario, fit: Fit, seed: int, maxiter: int = 40, popsize: int = 32,
                         runs: int = 16, states: list[int] | None = None,
                         parameters: tuple[tuple[str, float, float], ...] = CHOICE_PARAMETERS) -> np.ndarray:
    """Where the stand-in no longer holds (coupled cells, packages), continue the search on the simulated model:
    differential evolution whose population starts from the stand-in's best and near-best vectors, every
    generation simulated in one lockstep model (`simulated_scores`). Returns the best vector."""
    bounds = [(lo, hi) for _, lo, hi in parameters]
    near = fit.near_best(tolerance_cells=1, limit=popsize - 1, seed=seed)
    init = np.vstack([fit.best, near])
    rng = np.random.default_rng(seed)
    lo, hi = np.array(bounds).T
    while len(init) < 5:
        init = np.vstack([init, lo + rng.random(len(lo)) * (hi - lo)])

    def loss(x: np.ndarray) -> np.ndarray:  # x (N, S) with scipy's vectorized convention
        return -simulated_scores(scenario, fit.keys, np.atleast_2d(x.T), runs=runs, seed=seed, states=states)

    res = differential_evolution(loss, bounds, seed=seed, maxiter=maxiter, init=np.clip(init, lo, hi), tol=0.0,
                                 polish=False, vectorized=True, updating="deferred")
    return res.x


def write_calibrated(path: Path, base_rel: str, name: str, values: dict[str, Any], stats: dict[str, Any]) -> None:
    """A scenario file that extends `base_rel` with the fitted values (dotted keys), dated and with its fit
    statistics."""
    body = keypaths.nest(values)
    header = [f"# Calibrated by `python run.py calibrate` on {dt.date.today().isoformat()}.",
              "# Fit statistics:"] + [f"#   {k}: {v}" for k, v in stats.items()] + [
              "# Every value is a global parameter shared by all states (docs/ODD.md 6 and 9)."]
    doc = {"extends": base_rel, "name": name, "description": f"{name}: calibrated global parameters", **body}
    path.write_text("\n".join(header) + "\n" + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def fit_choice(scenario: Scenario, seed: int, maxiter: int, popsize: int, candidates: int, runs: int,
               say: Any = print, refine_iter: int = 40) -> tuple[Fit, dict[str, float], BlankSlate]:
    """The alignment fit on one scenario's start year: differential evolution on the stand-in, refined by
    differential evolution on the simulated model, then the candidate (refined, stand-in best and near-best)
    with the best simulated objective (`simulated_scores`, `runs` runs each)."""
    fit = fit_alignment(scenario, seed=seed, maxiter=maxiter, popsize=popsize)
    say(f"  stand-in: {fit.surrogate_cells}/25 cells after {len(fit.history)} evaluations; refining by simulation")
    refined = refine_by_simulation(scenario, fit, seed, maxiter=refine_iter)
    pool = np.array([refined, fit.best, *fit.near_best(tolerance_cells=1, limit=candidates - 2, seed=seed)])
    # the candidates are compared by the objective the search optimises (cells, soft cells and the record's
    # hazards), simulated with `runs` runs each; the first of equal scores wins
    best_x = pool[int(np.argmax(simulated_scores(scenario, fit.keys, pool, runs=runs, seed=seed)))]
    best = simulate_blank_slate(scenario.with_overrides(overrides(fit.keys, best_x)), runs=runs, seed=seed,
                                hazards=False)
    return fit, overrides(fit.keys, best_x), best


@dataclass(frozen=True)
class Calibration:
    """What `calibrate` fitted and wrote: the 2022 fit (for projections) and the 2017 fit (for the backcast)."""

    values: dict[str, float]  # the 2022 fit: dotted key -> fitted value (choice parameters and trade elasticity)
    values_2017: dict[str, float]  # the 2017 fit: dotted key -> fitted value (choice parameters only)
    stats: dict[str, Any]  # the 2022 fit's statistics, as in the header of the calibrated scenario file
    scenario: Path  # the calibrated scenario file of the 2022 fit (`out`)
    scenario_2017: Path  # the calibrated scenario file of the 2017 fit (`<out>_2017.yaml`)
    near_best: Path  # CSV of the 2022 fit's near-best vectors (runs with parameter uncertainty draw from it)
    near_best_2017: Path  # CSV of the 2017 fit's near-best vectors


@writes_folder("out", parent=True)  # one writer of the scenarios folder: a second is refused at once
def calibrate(base: Scenario, backcast_scenario: Scenario, out: Path, seed: int = 1, maxiter: int = 40,
              popsize: int = 10, candidates: int = 12, runs: int = 32, progress: bool = True) -> Calibration:
    """Two separate fits (docs/ODD.md 9). The 2022 fit (alignment on the 2022 pattern and the record to 2022;
    the trade elasticity on the 2017-2022 backcast) is written to `out` and used for projections. The 2017 fit
    (alignment on the 2017 pattern and the record to mid-2017 only; no trade data after 2017, so the gravity
    elasticity stays at its judgement) is written to `<out>_2017.yaml` and used by the out-of-sample backcast."""
    import time

    import pandas as pd

    t0 = time.perf_counter()
    # calibration runs with fixed parameters, in its own form (the depth-scaled switching costs)
    base, backcast_scenario = standin_form(fixed(base)), standin_form(fixed(backcast_scenario))
    standin = {"parameters.switching_cost_kind": None}  # written: a file extending the baseline unsets its kind costs

    def say(msg: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", flush=True)

    out.parent.mkdir(parents=True, exist_ok=True)
    say("2017 fit: alignment on the 2017 pattern and the record to mid-2017")
    fit17, choice17, sim17 = fit_choice(backcast_scenario, seed, maxiter, popsize, candidates, runs, say)
    say(f"  simulated: {sim17.matched}/25 cells of 2017")
    out17 = out.with_name(out.stem + "_2017.yaml")
    near17 = out.with_name(out.stem + "_2017_near_best.csv")
    pd.DataFrame(fit17.near_best(tolerance_cells=1, limit=32, seed=seed), columns=fit17.keys).to_csv(near17, index=False)
    # runs of the backcast that draw their behaviour draw it from the 2017 fit's own near-best set (not the 2022
    # one, which has seen 2017-2022 and carries the 2022 trade elasticity)
    write_calibrated(out17, "baseline.yaml", "calibrated_2017", {**choice17, **standin,
                                                                 "uncertainty.behaviour.file": near17.name}, {
        "blank_slate_cells_matched_2017": sim17.matched, "seed": seed, "data": "2017 pattern, record to 2017-07"})
    say("2022 fit: alignment on the 2022 pattern and the record to 2022")
    fit, choice, sim = fit_choice(base, seed, maxiter, popsize, candidates, runs, say)
    say(f"  simulated: {sim.matched}/25 cells; fitting the trade elasticity on 2017-2022 trade")
    trade, err = fit_trade(backcast_scenario.with_overrides(choice), seed=seed)
    values = {**choice, **trade}
    stats = {"blank_slate_cells_matched_simulated": sim.matched, "surrogate_cells": fit.surrogate_cells,
             "evaluations": len(fit.history), "seed": seed, **{k: round(v, 4) for k, v in err.items()}}
    near_path = out.with_name(out.stem + "_near_best.csv")
    # runs of the calibrated scenario draw from its own near-best set, not the baseline's estimated rule
    write_calibrated(out, "baseline.yaml", "calibrated", {**values, **standin,
                                                          "uncertainty.behaviour.file": near_path.name}, stats)
    table = pd.DataFrame(fit.near_best(tolerance_cells=1, limit=32, seed=seed), columns=fit.keys)
    for k, v in trade.items():
        table[k] = v
    table.to_csv(near_path, index=False)
    say(f"wrote {out}, {out17}, {near_path} ({len(table)} near-best vectors) and {near17}")
    return Calibration(values, choice17, stats, out, out17, near_path, near17)
