"""The dashboard page (solara): Simulate (controls, Reset/Step/Play, fan chart, states, status heat map, event
log, Save as scenario), Compare (two settings with common seeds) and Batch browser (a finished batch folder).

Every browser session renders its own `Page`, which builds its own model on first render: nothing is shared
between sessions. A control change takes effect on Reset (as in Mesa's SolaraViz). Errors a user can cause are
shown in the page; anything else is shown as a one-line message and logged with its traceback on the server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd
import solara
import solara.lab
from greatgame.model.core import GreatGameModel
from greatgame.model.results import Results

from . import figures
from .logic import (
    DEFAULT_RUNS,
    MAX_RUNS,
    Batch,
    Comparison,
    DashboardError,
    Folders,
    Resolved,
    Settings,
    compare,
    control_keys,
    draw_note,
    drawn_keys,
    label_of,
    list_batches,
    list_scenarios,
    make_model,
    open_batch,
    resolve,
    run_command,
    save_scenario,
)

log = logging.getLogger("greatgame.dashboard")
PLAY_INTERVAL_S = 0.3  # pause between steps while playing
CURRENT = "current settings (Simulate tab)"


def guarded(set_error: Callable[[str | None], None], action: Callable[[], Any]) -> Any:
    """Run a handler; a DashboardError (bad input) or any other exception becomes a message in the page."""
    try:
        out = action()
        set_error(None)
        return out
    except DashboardError as exc:
        set_error(str(exc))
    except Exception as exc:  # noqa: BLE001 - the page shows one line, the server log the traceback
        log.exception("dashboard action failed")
        set_error(f"unexpected error ({type(exc).__name__}): {exc}")
    return None


class Session:
    """One browser session's model and the settings it was built from (never shared between sessions)."""

    def __init__(self, folders: Folders) -> None:
        self.folders = folders
        self.lock = threading.Lock()
        self.resolved: Resolved = resolve(initial_settings(folders), folders)
        self.model: GreatGameModel = make_model(self.resolved)

    def reset(self, settings: Settings) -> None:
        """Rebuild the model from the settings (DashboardError when a value is bad; the old model stays)."""
        resolved = resolve(settings, self.folders)
        model = make_model(resolved)
        with self.lock:
            self.resolved, self.model = resolved, model

    def step(self) -> bool:
        """Advance every run one step; False at the horizon."""
        with self.lock:
            if not self.model.running or self.model.period >= self.model.horizon:
                return False
            self.model.step()
            return True

    def results(self) -> Results:
        """The session model's recorded arrays so far, as Results (under the session's lock)."""
        with self.lock:
            return Results.from_model(self.model)

    def horizon_dates(self) -> list[str]:
        """ISO dates of periods 0..steps of the selected scenario."""
        sc = self.resolved.scenario
        return [sc.date_of(t).isoformat() for t in range(self.resolved.steps + 1)]


def initial_settings(folders: Folders) -> Settings:
    """The defaults: baseline.yaml (else the first scenario file), DEFAULT_RUNS runs, the scenario's seed and horizon."""
    names = list_scenarios(folders)
    return Settings(scenario=names[0]) if names else Settings()


# ------------------------------------------------------------------------------------------------ controls
@solara.component
def NumberControl(key: str, settings: solara.Reactive[Settings], base_note: str) -> None:
    """One parameter: empty keeps the scenario's value or its draw; a number fixes it for every run."""
    value = settings.value.value(key)

    def on_value(v: float | None) -> None:
        settings.set(settings.value.with_value(key, v))

    solara.InputFloat(label_of(key), value=value, on_value=on_value, optional=True, clearable=True, dense=True)
    solara.Text(f"fixed at {value:g} in every run" if value is not None else base_note,
                style={"font-size": "0.75em", "color": "#666"})


@solara.component
def Controls(settings: solara.Reactive[Settings], folders: Folders) -> None:
    """Scenario, runs, seed, steps, draws on/off, the main behavioural parameters, budgets and sanctions."""
    names = solara.use_memo(lambda: list_scenarios(folders), [])
    s = settings.value
    base_error = None
    base = None
    try:
        base = resolve(Settings(scenario=s.scenario), folders).base
    except DashboardError as exc:
        base_error = str(exc)
    solara.Select("scenario", values=names, value=s.scenario,
                  on_value=lambda v: settings.set(replace(settings.value, scenario=v, values=())))
    solara.InputInt(f"runs (1-{MAX_RUNS}; default {DEFAULT_RUNS})", value=s.runs, optional=True, dense=True,
                    on_value=lambda v: settings.set(replace(settings.value, runs=v)))
    solara.InputInt("seed (empty: the scenario's)", value=s.seed, optional=True, dense=True,
                    on_value=lambda v: settings.set(replace(settings.value, seed=v)))
    solara.InputInt("steps (empty: the scenario's horizon)", value=s.steps, optional=True, dense=True,
                    on_value=lambda v: settings.set(replace(settings.value, steps=v)))
    solara.Checkbox(label="draw the unknown parameters per run (uncertainty)", value=s.draws,
                    on_value=lambda v: settings.set(replace(settings.value, draws=v)))
    if base_error:
        solara.Error(base_error)
        return
    assert base is not None
    with solara.Details("behavioural parameters", expand=False):
        for key in control_keys(base):
            if not key.startswith("powers."):
                NumberControl(key, settings, draw_note(base, key))
    with solara.Details("budgets and sanctions", expand=True):
        for key in control_keys(base):
            if key.startswith("powers."):
                NumberControl(key, settings, draw_note(base, key))


# ------------------------------------------------------------------------------------------------ simulate
@solara.component
def Views(session: Session, tick: int) -> None:
    """Fan chart, state small multiples, status heat map and event log of the session's model now."""
    res = solara.use_memo(session.results, [tick, session.model])
    horizon = session.horizon_dates()
    figs = solara.use_memo(lambda: (figures.regional_fan(res, horizon), figures.state_multiples(res, horizon),
                                    figures.status_heatmap(res)), [res])
    solara.FigureMatplotlib(figs[0], format="png", dependencies=[res])
    with solara.Details("influence by state", expand=True):
        solara.FigureMatplotlib(figs[1], format="png", dependencies=[res])
    with solara.Details("status and engagement", expand=True):
        solara.FigureMatplotlib(figs[2], format="png", dependencies=[res])
    with solara.Details("event log", expand=True):
        events = sorted({(step, text) for step, text in session.model.event_log})
        if events:
            dates = session.horizon_dates()
            solara.DataFrame(pd.DataFrame({"step": [e[0] for e in events],
                                           "date": [dates[e[0]][:7] for e in events],
                                           "event": [e[1] for e in events]}), items_per_page=10)
        else:
            solara.Text("no event so far")


@solara.component
def DrawnNote(session: Session) -> None:
    """Says which parameters every run draws and which the controls fix."""
    r = session.resolved
    drawn = drawn_keys(r.scenario)
    fixed = [f"{k} = {v:g}" for k, v in r.settings.values]
    text = (f"**Model:** `{r.base_path.name}`, {r.runs} runs, seed {r.seed}, {r.steps} steps. "
            f"**Fixed by the controls:** {', '.join(fixed) if fixed else 'nothing'}. ")
    if drawn:
        beh = set(r.scenario.uncertainty.behaviour_keys) if r.scenario.uncertainty else set()
        groups: dict[str, list[str]] = {}
        for k in drawn:
            group = "behaviour vector (drawn whole)" if k in beh else k.rsplit(".", 1)[0]
            groups.setdefault(group, []).append(k.rsplit(".", 1)[-1])
        text += (f"**Drawn per run** ({len(drawn)} values): " +
                 "; ".join(f"{g}: {', '.join(ks)}" for g, ks in groups.items()) +
                 ". The bands show this parameter uncertainty as well as the model's noise.")
    else:
        text += "**Nothing is drawn**: every run uses the same values; the bands show the model's noise only."
    solara.Markdown(text)


@solara.component
def SaveBox(settings: solara.Reactive[Settings], folders: Folders) -> None:
    """Save the controls as a scenario that extends the selected one."""
    name, set_name = solara.use_state("")
    error, set_error = solara.use_state(None)
    saved, set_saved = solara.use_state(None)

    def save() -> None:
        def act() -> str:
            r = resolve(settings.value, folders)
            path = save_scenario(r, folders, name)
            return f"saved {path}; run it with: {run_command(r, path)}"

        set_saved(guarded(set_error, act))

    solara.InputText("save as (a file name in the scenarios folder)", value=name, on_value=set_name, dense=True,
                     continuous_update=True)
    solara.Button("Save as scenario", on_click=save, outlined=True)
    if error:
        solara.Error(error, dense=True)
    elif saved:
        solara.Success(saved, dense=True)


@solara.component
def SimulateTab(session: Session, settings: solara.Reactive[Settings], folders: Folders) -> None:
    """The Simulate tab: controls, Step/Play/Reset, and the fan charts and status grid of the session's model."""
    tick, set_tick = solara.use_state(0)
    playing, set_playing = solara.use_state(False)
    error, set_error = solara.use_state(None)

    def do_reset() -> None:
        set_playing(False)
        if guarded(set_error, lambda: session.reset(settings.value) or True):
            set_tick(lambda t: t + 1)

    def do_step() -> None:
        if guarded(set_error, session.step):
            set_tick(lambda t: t + 1)

    def play_loop(cancel: threading.Event) -> None:
        while playing and not cancel.is_set():
            if not guarded(set_error, session.step):
                set_playing(False)
                return
            set_tick(lambda t: t + 1)
            cancel.wait(PLAY_INTERVAL_S)

    solara.use_thread(play_loop, dependencies=[playing], intrusive_cancel=False)
    pending = settings.value != session.resolved.settings
    m = session.model
    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Controls"):
                Controls(settings, folders)
            with solara.Card("Save as scenario"):
                SaveBox(settings, folders)
        with solara.Column():
            with solara.Row():
                solara.Button("Reset", on_click=do_reset, color="primary")
                solara.Button("Pause" if playing else "Play", on_click=lambda: set_playing(not playing),
                              color="primary", disabled=m.period >= m.horizon)
                solara.Button("Step", on_click=do_step, color="primary", disabled=playing or m.period >= m.horizon)
                solara.Text(f"step {m.period} of {m.horizon} ({session.resolved.scenario.date_of(m.period):%Y-%m})")
            if pending:
                solara.Info("The controls differ from the running model: press Reset to apply them.", dense=True)
            if error:
                solara.Error(error)
            DrawnNote(session)
            Views(session, tick)


# ------------------------------------------------------------------------------------------------ compare
@solara.component
def CompareTab(settings: solara.Reactive[Settings], folders: Folders) -> None:
    """Two scenarios, or one and its tweaked copy (the Simulate tab's controls), with common seeds."""
    names = solara.use_memo(lambda: list_scenarios(folders), [])
    choices = [CURRENT, *names]
    a, set_a = solara.use_state(settings.value.scenario)
    b, set_b = solara.use_state(CURRENT)
    error, set_error = solara.use_state(None)
    result, set_result = solara.use_state(None)

    def chosen(name: str) -> Settings:
        s = settings.value
        return s if name == CURRENT else Settings(scenario=name, runs=s.runs, seed=s.seed, steps=s.steps)

    def run() -> None:
        set_result(guarded(set_error, lambda: compare(resolve(chosen(a), folders), resolve(chosen(b), folders))))

    solara.Markdown("Runs, seed and steps come from the Simulate tab's controls and are the same for A and B "
                    "(common seeds: run k of A and of B share their random streams and parameter draws).")
    with solara.Row():
        solara.Select("A", values=choices, value=a, on_value=set_a)
        solara.Select("B", values=choices, value=b, on_value=set_b)
        solara.Button("Compare", on_click=run, color="primary")
    if error:
        solara.Error(error)
    if isinstance(result, Comparison):
        CompareView(result)


@solara.component
def CompareView(cmp: Comparison) -> None:
    """Two scenarios compared with common seeds: both fan charts, the paired differences and the lead probabilities."""
    fig = solara.use_memo(lambda: figures.comparison(cmp), [cmp])
    solara.FigureMatplotlib(fig, format="png", dependencies=[cmp])
    solara.Markdown(f"Regional influence at the horizon ({cmp.a.dates[-1][:7]}), {len(cmp.a.runs)} runs each; B - A "
                    "paired run by run, 95% interval (Student t) and the share of runs where B is above or below A. "
                    f"**sign**: robust in sign when at least {cmp.sign_share:.0%} of the pairs under each trade basis "
                    f"({', '.join(cmp.by_basis)}: both sides run again under the other basis) move the same way, in "
                    "runs that draw the uncertainty section (docs/OUTPUT.md); otherwise the shares of pairs up and down "
                    "over both bases.")
    if not cmp.drawn:
        solara.Warning("Draws are off (or every drawn value is fixed): no difference can be robust in sign.")
    solara.DataFrame(cmp.horizon_effects().round(4))
    probs, lead = cmp.lead_probabilities(), cmp.lead_difference()
    if probs and lead:
        solara.Markdown(f"**P(China ahead of Russia regionally at the horizon):** A {probs[0]:.2f}, B {probs[1]:.2f}, "
                        f"difference {lead['change']:+.2f} (95% interval {lead['ci_low']:+.2f} to {lead['ci_high']:+.2f}, "
                        f"paired score interval; {lead['sign']})")


# ------------------------------------------------------------------------------------------------ batches
@solara.component
def BatchTab(folders: Folders) -> None:
    """Open a finished batch folder of the results folder: fan charts per scenario and its differences table."""
    found = solara.use_memo(lambda: list_batches(folders), [])
    name, set_name = solara.use_state(found[0] if found else "")
    error, set_error = solara.use_state(None)
    batch, set_batch = solara.use_state(None)

    def do_open() -> None:
        set_batch(guarded(set_error, lambda: open_batch(folders, name)))

    solara.Markdown(f"Batch folders in `{folders.results}`: " + (", ".join(f"`{n}`" for n in found) or
                    "none yet (`python3 run.py batch experiments/compare_scenarios.yaml --jobs 2` writes one)."))
    with solara.Row():
        solara.InputText("batch folder", value=name, on_value=set_name, continuous_update=True, dense=True)
        solara.Button("Open", on_click=do_open, color="primary")
    if error:
        solara.Error(error)
    if batch is not None:
        BatchView(batch)


@solara.component
def BatchView(batch: Batch) -> None:
    """A finished (or still written) batch folder: fan charts per scenario, its differences and probabilities."""
    if batch.writer:
        solara.Warning(f"Still being written ({batch.writer}): this shows the runs written so far; Open again to "
                       "see more.")
    fig = solara.use_memo(lambda: figures.batch_fans(batch), [batch])
    solara.FigureMatplotlib(fig, format="png", dependencies=[batch])
    if not batch.differences.empty:
        cols = [c for c in ("scenario", "outcome", "mean", "difference", "ci_low", "ci_high", "p_value", "share_positive",
                            "share_negative", "sign") if c in batch.differences.columns]
        solara.Markdown("**Differences from the reference** (paired runs: mean, Student t 95% interval, share of pairs "
                        "above and below the reference; sign: robust in sign under both trade bases, docs/OUTPUT.md):")
        solara.DataFrame(batch.differences[cols].round(4), items_per_page=15)
    if not batch.probabilities.empty:
        solara.Markdown("**Probabilities:**")
        solara.DataFrame(batch.probabilities.round(3))


# ------------------------------------------------------------------------------------------------ page
@solara.component
def Page(folders: Folders | None = None) -> None:
    """The whole dashboard. `folders` defaults to Folders.from_env() (the project's scenarios/ and results/)."""
    folders = solara.use_memo(lambda: folders or Folders.from_env(), [])
    session = solara.use_memo(lambda: _session_or_error(folders), [])
    settings = solara.use_reactive(initial_settings(folders))
    tab, set_tab = solara.use_state(0)
    solara.Title("greatgame dashboard")
    solara.Markdown("## greatgame: great-power competition in Central Asia")
    if isinstance(session, str):
        solara.Error(session)
        return
    with solara.lab.Tabs(value=tab, on_value=set_tab):
        with solara.lab.Tab("Simulate"):
            if tab == 0:
                SimulateTab(session, settings, folders)
        with solara.lab.Tab("Compare"):
            if tab == 1:
                CompareTab(settings, folders)
        with solara.lab.Tab("Batch browser"):
            if tab == 2:
                BatchTab(folders)


def _session_or_error(folders: Folders) -> Session | str:
    try:
        return Session(folders)
    except DashboardError as exc:
        return f"cannot start: {exc} (the page reads scenarios from {folders.scenarios})"
