"""GreatGameModel: the Mesa model that advances one or many independent runs of a scenario in lockstep.

Every state array has a leading run axis R. Run k draws only from its own stream,
`numpy.random.SeedSequence(seed, spawn_key=key_k)`, one fixed-size block per step, and every parameter holds one
value per run (`params.RunValues`), so a run's numbers never depend on which other runs it is advanced with.
`runs=1` is the plain Mesa case and works under `mesa.batch_run`. The equations live in the pure modules
(choice, routes, allocation, dynamics, influence); this class wires them together (docs/ODD.md section 3). The
arrays live in the containers of model/state.py: `structure`, `state`, `derived` and `now` (docs/ODD.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.experimental.scenarios import Scenario as MesaScenario
from scipy.special import ndtri

from . import events as event_handlers
from .agents import PowerAgent, StateAgent
from .allocation import effective_budget
from .axes import BENEFIT, DOCTRINE, INFLUENCE, INSTRUMENT, KIND, LEVELS, OBLIGATION, Level, RecordedInfluence
from .choice import (
    LEVEL_ENGAGEMENT,
    benefit_pairs,
    bloc_penalty,
    choice_probabilities,
    dependence,
    exposure,
    format_cost,
    kind_switching_table,
    level_share,
    level_values,
    marginal_benefit,
    pair_reach,
    sovereignty_cost,
    switching_from,
    switching_table,
)
from .dynamics import diplomatic_lift, trade_access, trend_growth, update_engagement, update_stock, update_trade
from .energy import common_units, conversion_factors
from .files import BASELINE
from .fundamentals import Fundamentals, load_fundamentals, load_routes, observed_status
from .influence import (
    energy_leverage,
    influence_by_channel,
    influence_share,
    institution_role,
    leverage,
    regional,
    security_leverage,
    state_threat,
    state_weights,
    total_influence,
)
from .migration import (
    RemittanceStart,
    access_exposure,
    advance_host_income,
    migration_leverage,
    remittances,
    start_remittances,
)
from .params import FormatAttributes, InfluenceAttributes, Parameters, PowerAttributes, RunValues
from .routes import route_completion, route_multiplier
from .scenario import Scenario, load_scenario
from .security import arms_share, deliveries_in_run, recent_flow, start_stock
from .state import Derived, StateVariables, StepValues, Structure

__all__ = ["LEVELS", "GreatGameModel", "Failure", "ModelScenario"]
DEFAULT_SCENARIO = BASELINE
DRAW_AHEAD = 10  # steps of draws taken from each run's stream in one call (results do not depend on it)
# fields of `StateVariables` checked for NaN/inf after every step (ODD 5, observation)
CHECKED = ("status", "engagement", "gdp", "turnover", "invest_added", "arms_stock", "fund", "remittances",
           "influence_total", "regional_total")


@dataclass(frozen=True)
class Failure:
    """A run stopped because a state variable went non-finite: where, when, and the run's parameter values."""

    run: int  # the run's replicate number (the last element of its spawn key)
    step: int
    variable: str
    parameters: dict[str, float]
    index: int = 0  # the run's position among the runs of its model

    def describe(self) -> str:
        """One paragraph for run tables and manifests."""
        values = ", ".join(f"{k}={v:g}" for k, v in self.parameters.items() if k.startswith("parameters."))
        return f"non-finite {self.variable} at step {self.step}; run stopped. Parameter values: {values}"


class ModelScenario(MesaScenario):
    """What Mesa's `model.scenario` holds for a GreatGameModel: the validated scenario (`spec`) and the arguments
    the model was built with (root seed `rng`, spawn keys, horizon, per-run values, design samples), so
    `GreatGameModel(scenario=model.scenario)` rebuilds the same model (Mesa's SolaraViz does this on Reset).
    `ModelScenario()` with no spec stands for the default scenario (scenarios/baseline.yaml)."""

    spec: Scenario | None = None
    spawn_keys: list[tuple[int, ...]] | None = None
    steps: int | None = None
    run_values: dict[str, Any] | None = None
    samples: list[int] | None = None


class GreatGameModel(mesa.Model):
    """Great-power competition for Central Asia.

    Args:
        scenario: a Scenario, a YAML path, a mapping (default: scenarios/baseline.yaml), or another model's
            `scenario` (a ModelScenario): it carries that model's arguments, so `GreatGameModel(scenario=m.scenario)`
            rebuilds m; arguments given as well replace the ones it carries.
        runs: number of runs advanced together (default 1).
        replicate: replicate number of the first run (default 0; runs are replicate, replicate+1, ...).
        spawn_keys: explicit SeedSequence spawn keys, one per run (overrides runs/replicate).
        rng: root seed (an int); `seed` is accepted as a synonym; default: the scenario's seed.
        steps: horizon in steps (default: the scenario's); events after it are simply not reached.
        run_values: per-run values, {key path: one value per run}, e.g. {"parameters.rationality": [8, 12]}.
        record_into: arrays for the recorder to write into (see `Recorder.shapes`), instead of its own.
        samples: design sample index of each run (default 0): with the replicate, it keys the run's uncertainty
            draws (model/uncertainty.py), so runs of different scenarios at the same sample share their draws.

    The arrays live in four containers (model/state.py), whose fields give their axes and who updates them:
    `structure` (fixed at construction), `state` (the state variables: moved by the step and by events, recorded),
    `derived` (per-run quantities re-derived after every event) and `now` (what the current step computes). The
    parameters are `values` (key path -> (R,)) and its typed views `p`, `fmt`, `pw`, `infl` (model/params.py).
    """

    structure: Structure
    state: StateVariables
    derived: Derived
    now: StepValues
    values: RunValues
    p: Parameters
    fmt: FormatAttributes
    pw: PowerAttributes
    infl: InfluenceAttributes
    recorder: Recorder

    def __init__(self, scenario: Scenario | str | Path | dict | ModelScenario | None = None, runs: int | None = None,
                 replicate: int | None = None, spawn_keys: list[tuple[int, ...]] | None = None, rng: int | None = None,
                 seed: int | None = None, steps: int | None = None, run_values: dict[str, Any] | None = None,
                 record_into: dict[str, np.ndarray] | None = None, samples: list[int] | None = None) -> None:
        if isinstance(scenario, MesaScenario):
            if not isinstance(scenario, ModelScenario):
                raise TypeError("scenario: a Mesa Scenario must be a GreatGameModel's own (model.scenario); pass a "
                                "greatgame Scenario, a YAML path or a mapping")
            given = scenario
            if spawn_keys is None and runs is None and replicate is None:
                spawn_keys = given.spawn_keys
            rng = rng if rng is not None or seed is not None else given.rng
            steps = steps if steps is not None else given.steps
            run_values = run_values if run_values is not None else given.run_values
            samples = samples if samples is not None else given.samples
            scenario = given.spec
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or DEFAULT_SCENARIO)
        root = rng if rng is not None else seed if seed is not None else sc.raw["seed"]
        runs, replicate = 1 if runs is None else runs, 0 if replicate is None else replicate
        keys = [tuple(k) for k in spawn_keys] if spawn_keys else [(replicate + i,) for i in range(runs)]
        super().__init__(scenario=ModelScenario(rng=int(root), spec=sc, spawn_keys=keys, steps=steps,
                                                run_values=run_values, samples=samples))
        self.spec, self.root_seed = sc, int(root)
        self.spawn_keys = keys
        self.R = len(self.spawn_keys)
        self.horizon = int(steps if steps is not None else sc.steps)
        self.dt = sc.step_months / 12.0
        self.powers, self.states, self.formats = sc.powers, sc.states, sc.formats
        self.P, self.S, self.F = len(self.powers), len(self.states), len(self.formats)
        self.streams = RunStreams(self.root_seed, keys, 2 * self.S * self.F + self.P + self.S * self.P)
        self.values = RunValues(sc.raw, self.R, run_values, sc.source)
        self.drawn: dict[str, np.ndarray] = {}  # the values this model's runs drew (key -> (R,))
        if sc.uncertainty is not None:
            fixed = sc.fixed_keys | set(run_values or {})
            samples_ = np.zeros(self.R, dtype=int) if samples is None else np.asarray(samples, dtype=int)
            self.drawn = sc.uncertainty.draw(self.root_seed, samples_, np.array([k[-1] for k in self.spawn_keys]),
                                             self.values.values, fixed)
            for key, value in self.drawn.items():
                if key in self.values.values:
                    self.values.set(key, value)
        self.structure = self._setup_structure()
        self.state = self._setup_state()
        self.derive()
        self.period = 0
        self.events = list(sc.events)
        self.event_log: list[tuple[int, str]] = []
        self.failures: list[Failure] = []
        self.failed = np.zeros(self.R, dtype=bool)
        self._apply_events(0)
        self.update_influence()
        self.now = StepValues.before_first_step(self.state, self.effective_budget())
        self.power_agents = [PowerAgent(self, c, j) for j, c in enumerate(self.powers)]
        self.state_agents = [StateAgent(self, c, s) for s, c in enumerate(self.states)]
        self.datacollector = mesa.DataCollector(model_reporters={
            c: (lambda m, j=j: float(m.state.regional_total[:, j].mean())) for j, c in enumerate(self.powers)})
        self.recorder = Recorder(self, record_into)
        self.recorder.record(self)
        self.datacollector.collect(self)

    # ----------------------------------------------------------------- set-up
    def _setup_structure(self) -> Structure:
        """What does not vary by run: who is in which format, eligibility, routes, fundamentals."""
        raw, P, S, F = self.spec.raw, self.P, self.S, self.F
        pi = {c: j for j, c in enumerate(self.powers)}
        fm = [raw["formats"][f] for f in self.formats]
        members = np.zeros((F, P))
        convenor = np.zeros((F, P))
        for i, f in enumerate(fm):
            for c in f["powers"]:
                members[i, pi[c]] = 1.0
            for c in f["convenors"]:
                convenor[i, pi[c]] = 1.0
        members_q = np.concatenate([members, np.ones((F, 1))], axis=1)  # + the region column
        club_names = [f.get("club", code) for code, f in zip(self.formats, fm, strict=True)]
        clubs = np.array([club_names.index(c) for c in club_names])
        pair_actor, pair_channel, pair_club = benefit_pairs(members_q, P, clubs)  # (ODD eq. 4.2b)
        n_routed = int(((pair_actor < P) & np.isin(pair_channel, (BENEFIT.trade, BENEFIT.energy_transport))).sum())
        st = [raw["states"][s] for s in self.states]
        eligible = np.zeros((S, F), dtype=bool)
        for i, f in enumerate(fm):
            for s, spec in enumerate(st):
                ok = f["eligible"] == "all" or self.states[s] in f["eligible"]
                eligible[s, i] = ok and (spec["turkic"] or not f.get("eligible_turkic_only"))
        pw = [raw["powers"][c] for c in self.powers]
        fundamentals, (path_transit, path_share), remittances0 = self._data_inputs()
        return Structure(
            members=members, convenor=convenor, members_q=members_q,
            solo_convenor=(convenor > 0) & (convenor.sum(axis=1, keepdims=True) == 1), clubs=clubs,
            pair_actor=pair_actor, pair_channel=pair_channel, pair_club=pair_club, n_routed=n_routed,
            allowed=np.stack([np.ones((S, F), dtype=bool), eligible, eligible], axis=-1),
            afghan_border=np.array([spec["afghan_border"] for spec in st], dtype=bool),
            template=np.array([self.formats.index(w["template"]) if w.get("template") else -1 for w in pw]),
            path_transit=path_transit, path_share=path_share, gdp0=fundamentals.gdp_usd_bn.copy(),
            fundamentals=fundamentals, remittances0=remittances0,
            colours={c: w.get("colour") for c, w in zip(self.powers, pw, strict=True)})

    def _data_inputs(self) -> tuple[Fundamentals, tuple[np.ndarray, np.ndarray], RemittanceStart]:
        """The data the structure holds: the fundamentals, the transit routes and the start remittances of the
        scenario's `data_year` (ODD 7). The estimation of the choice rule (experiments/fit/rule.py) overrides this
        to read the panel of any year and state; the model itself never does."""
        raw = self.spec.raw
        return (load_fundamentals(raw["data_year"], self.states, self.powers, raw["trade_basis"]),
                load_routes(raw["data_year"], self.states, self.powers),
                start_remittances(raw["data_year"], self.states, self.powers))

    def _setup_state(self) -> StateVariables:
        """The state at the start: active formats, statuses (observed or blank), the data's economy, nothing spent."""
        R, P, S, F, st = self.R, self.P, self.S, self.F, self.structure
        fund, raw = st.fundamentals, self.spec.raw
        active = np.tile(np.array([raw["formats"][f]["active"] for f in self.formats]), (R, 1))
        status = np.zeros((S, F), dtype=np.int64)
        if raw["initial_status"] == "data":
            obs = observed_status(raw["data_year"])
            for s, sc in enumerate(self.states):
                for f, fc in enumerate(self.formats):
                    status[s, f] = obs.get((sc, fc), 0)
        status = np.where(st.allowed[..., Level.MEMBER], status, 0)
        status = np.tile(status, (R, 1, 1)) * active[:, None, :]
        sanctions = PowerAttributes.from_values(self.values, self.powers).sanctions.copy()
        return StateVariables(
            active=active, status=status, engagement=LEVEL_ENGAGEMENT[status], gdp=np.tile(fund.gdp_usd_bn, (R, 1)),
            turnover=np.tile(fund.turnover_usd_bn, (R, 1, 1)), invest_added=np.zeros((R, S, P)),
            arms_stock=start_stock(fund.arms_tiv, Parameters.from_values(self.values).security.arms_depreciation_per_year),
            export_routes=common_units(fund.export_routes, conversion_factors(
                self.values.get("parameters.energy_routes.gas_mtoe_per_bcm"),
                self.values.get("parameters.energy_routes.rail_mtoe_per_mt"))),
            spending=np.zeros((R, S, P, len(INSTRUMENT))),
            sanctions=sanctions, host_income=np.ones_like(sanctions), engagement0=LEVEL_ENGAGEMENT[status],
            remittances=np.tile(st.remittances0.m0, (R, 1, 1)),
            budget_scale=np.ones((R, P)), fund=np.zeros((R, P)), offers=np.zeros((R, P, S, F)),
            steps_short=np.zeros((R, P), dtype=np.int64),
            doctrine=np.array([DOCTRINE.index(raw["states"][s]["doctrine"]) for s in self.states]),
            influence_channels=np.zeros((R, S, P, len(INFLUENCE))), influence_total=np.zeros((R, S, P)),
            state_weight=np.zeros((R, S)), regional_channels=np.zeros((R, P, len(INFLUENCE))),
            regional_total=np.zeros((R, P)))

    def derive(self) -> None:
        """Typed per-run parameters (`p`, `fmt`, `pw`, `infl`) and the arrays derived from them, the structure and
        the event-set inputs (`derived`); again after any event."""
        v, st, state = self.values, self.structure, self.state
        self.p = p = Parameters.from_values(v)
        self.fmt = fmt = FormatAttributes.from_values(v, self.formats)
        self.pw = PowerAttributes.from_values(v, self.powers)
        self.infl = InfluenceAttributes.from_values(v)
        fund = st.fundamentals
        reach = pair_reach(fmt.channels, st.members_q, st.pair_actor, st.pair_channel, st.pair_club, st.clubs)
        keep = reach.any(axis=(0, 2))  # pairs no format reaches in any run are left out
        trend = trend_growth(fund.gdp_growth_per_year, fund.partner_growth_per_year, p.trade.partner_growth_elasticity,
                             p.trade.reference_growth_per_year)
        gdp_growth, host_growth = fund.gdp_growth_per_year, fund.partner_growth_per_year
        if self.spec.raw.get("fundamentals") == "held":  # the start year's economy, held (ODD 9: blank slate)
            trend, gdp_growth, host_growth = np.zeros_like(trend), np.zeros_like(gdp_growth), np.zeros_like(host_growth)
        self.derived = Derived(
            pair_actor=st.pair_actor[keep], pair_channel=st.pair_channel[keep], pair_club=st.pair_club[keep],
            n_routed=int(keep[: st.n_routed].sum()), reach=reach[:, keep][:, None],
            customs_unions=np.flatnonzero((fmt.obligations[..., OBLIGATION.supranational] > 0).any(axis=0)),
            sovereignty=sovereignty_cost(fmt.obligations, p.obligation_cost, p.doctrine_penalty, state.doctrine),
            bloc=bloc_penalty(fmt.obligations, p.doctrine_penalty, state.doctrine),
            threat=state_threat(p.threat_level, p.threat_spillover, st.afghan_border),
            switching=(switching_table(fmt.depth, p.switching_cost_join, p.switching_cost_exit)
                       if "switching_cost_kind" not in self.spec.raw["parameters"] else kind_switching_table(
                           p.switching_cost_kind, [KIND.index(self.spec.raw["formats"][f]["kind"]) for f in self.formats])),
            role=institution_role(fmt.depth, st.convenor, st.members, self.infl.role_convenor, self.infl.role_member),
            invest_base=(fund.fdi_stock_usd_bn + fund.debt_usd_bn + fund.fdi_gross_inflow_cumulative_usd_bn
                         * p.investment.gross_inflow_to_stock[:, None, None]),
            arms_flow=recent_flow(fund.arms_tiv, p.security.recent_years),
            trend=trend, gdp_growth=gdp_growth, host_growth=host_growth, allowed_levels=self._allowed_levels())

    def _allowed_levels(self) -> np.ndarray:
        """(R, S, F, 3) levels a state may take: eligibility, and only `none` in an inactive format."""
        allowed = self.structure.allowed[None] & self.state.active[:, None, :, None]
        allowed[..., Level.NONE] = True
        return allowed

    def set_doctrine(self, s: int, doctrine: str) -> None:
        """Change state s's doctrine category (a `doctrine` event); call `derive` afterwards."""
        self.state.doctrine = self.state.doctrine.copy()
        self.state.doctrine[s] = DOCTRINE.index(doctrine)

    # ----------------------------------------------------------------- derived state
    @property
    def invest_total(self) -> np.ndarray:
        """Investment stock by state and power, US$ bn: data stock held at its share of GDP + model-added stock."""
        x = self.state
        return self.derived.invest_base * (x.gdp / self.structure.gdp0)[..., None] + x.invest_added

    @property
    def security(self) -> np.ndarray:
        """Security leverage of each power over each state, (R, S, P) (ODD eq. 4.4c)."""
        return security_leverage(arms_share(self.state.arms_stock), self.structure.fundamentals.military_presence,
                                 self.derived.threat)

    @property
    def migration(self) -> np.ndarray:
        """Migration leverage of each power over each state, remittances / GDP, (R, S, P) (ODD eq. 4.4f)."""
        return migration_leverage(self.state.remittances, self.state.gdp)

    @property
    def energy(self) -> np.ndarray:
        """Energy/transport leverage of each power over each state, (R, S, P) (ODD eq. 4.4e)."""
        return energy_leverage(self.state.export_routes, self.p.energy_price_index)

    def effective_budget(self) -> np.ndarray:
        """Spendable budget of every power this step, (R, P) US$ bn/year (ODD eq. 4.1a)."""
        return effective_budget(self.pw.budget, self.state.budget_scale, self.state.sanctions,
                                self.p.powers.sanctions_capacity_loss)

    # ----------------------------------------------------------------- events
    def open_format(self, f: int, runs: np.ndarray | bool = True) -> None:
        """Make format f active in the given runs (a bool mask or all); states start at `none` there."""
        mask = np.broadcast_to(np.asarray(runs, dtype=bool), (self.R,))
        newly = mask & ~self.state.active[:, f]
        self.state.active[newly, f] = True
        self.derived.allowed_levels = self._allowed_levels()
        self.event_log.append((self.period, f"{self.formats[f]} opened in {int(newly.sum())} run(s)"))

    def close_format(self, f: int) -> None:
        """Make format f inactive in every run; every status in it returns to `none`, engagement to 0."""
        self.state.active[:, f] = False
        self.state.status[:, :, f] = 0
        self.state.engagement[:, :, f] = 0.0
        self.derived.allowed_levels = self._allowed_levels()

    def _apply_events(self, step: int) -> None:
        due = [ev for ev in self.events if ev["step"] == step]
        for ev in due:
            event_handlers.HANDLERS[ev["type"]](self, ev)
            self.event_log.append((step, f"{ev['type']} {ev.get('note', '')}".strip()))
        if due:
            self.derive()

    # ----------------------------------------------------------------- perception (ODD 4.2)
    def perceive(self, share: np.ndarray | None = None) -> None:
        """Every state's benefit and cost of full membership of every format this step (ODD eq. 4.2a-f), from
        the start-of-step state: `now.benefit`, `now.cost` (R, S, F). `share` replaces the level shares of the
        current statuses (the calibration's stand-in passes expected shares)."""
        p, st, d, x = self.p, self.structure, self.derived, self.state
        if share is None:
            share = level_share(x.status, p.partial_benefit_share)  # (R, S, F)
        completion = route_completion(share, st.path_transit, st.path_share)
        route = route_multiplier(completion, self.fmt.obligations[..., OBLIGATION.supranational],
                                 p.routes.customs_route_weight)  # (R, S, P, F)
        nr, unions = d.n_routed, d.customs_unions  # the powers' trade and energy pairs come first
        routed = route[:, :, d.pair_actor[:nr]][..., unions] if unions.size else None  # (R, S, nr, G)
        invest = self.invest_total
        expo = exposure(x.turnover, invest, self.security, self.energy, self.migration, x.gdp, d.threat)
        value = expo[:, :, d.pair_actor, d.pair_channel] * p.weights.benefit[:, d.pair_channel][:, None]
        self.now.benefit = marginal_benefit(value, share, d.reach, None if routed is None else (routed, nr, unions))
        self.now.cost = format_cost(d.sovereignty, self.fmt.friction, self.fmt.sanctions_exposure, st.members,
                                    dependence(x.turnover, invest, x.gdp), x.sanctions, p.secondary_sanctions,
                                    influence_share(x.influence_total), p.weights.friction, p.weights.sanctions,
                                    p.weights.hedging)

    def level_values(self, offers: np.ndarray | None = None) -> np.ndarray:
        """Value of none/partial/member in every format for every state, (R, S, F, 3), with the accession packages
        on the table (ODD eq. 4.2d): a package is worth w_investment x package / GDP at `member`."""
        offers = self.state.offers if offers is None else offers
        package = self.p.weights.investment[:, None, None] * offers.sum(axis=1) / self.state.gdp[..., None]
        return level_values(self.now.benefit, self.now.cost, self.derived.sovereignty, self.p.partial_benefit_share,
                            self.p.partial_cost_share, package, self.derived.bloc)

    def level_values_without_package(self, j: int) -> np.ndarray:
        """Level values with every package on the table except power j's own (what j bids against)."""
        others = self.state.offers.copy()
        others[:, j] = 0.0
        return self.level_values(others)

    def reference_influence(self, j: int) -> np.ndarray:
        """Power j's reference point (ODD eq. 4.1c): its highest regional influence over the last
        `loss_memory_steps` periods, (R,)."""
        hist = self.recorder.regional_total[: self.period, :, j]  # (T', R): periods 0..period-1
        age = (self.period - 1) - np.arange(hist.shape[0])[:, None]
        recent = age <= self.p.powers.loss_memory_steps[None, :]
        return np.where(recent, hist, -np.inf).max(axis=0)

    def choice_inputs(self) -> None:
        """What every state's choice needs this step, computed once after the powers have acted: the cumulative
        logit probabilities of `none` and of `none` or `partial`, with the packages on the table,
        `now.cumulative` (R, S, F, 2) (ODD eq. 4.2d-e; the same as `status_utility` and `choice_probabilities`)."""
        utility = np.where(self.derived.allowed_levels,
                           self.level_values() - switching_from(self.derived.switching, self.state.status),
                           -np.inf)  # (ODD eq. 4.2d)
        prob = choice_probabilities(utility, self.p.rationality)
        self.now.cumulative = np.stack([prob[..., 0], prob[..., 0] + prob[..., 1]], axis=-1)

    # ----------------------------------------------------------------- step
    def _draw(self) -> None:
        """This step's uniforms (and the trade noise made from them) from each run's own stream."""
        S, F, P, now = self.S, self.F, self.P, self.now
        block = self.streams.next_block(self.horizon - self.period + 1)
        now.u_revise = block[:, : S * F].reshape(-1, S, F)
        now.u_pick = block[:, S * F: 2 * S * F].reshape(-1, S, F)
        now.u_convene = block[:, 2 * S * F: 2 * S * F + P]
        now.z_trade = ndtri(block[:, 2 * S * F + P:]).reshape(-1, S, P)

    def update_influence(self) -> None:
        """Influence by channel, total and regional from the current state (ODD eq. 4.4a-i)."""
        x = self.state
        lev = leverage(x.turnover, x.gdp, self.invest_total, self.security, self.energy, self.migration,
                       x.engagement, self.derived.role)
        x.influence_channels = influence_by_channel(lev, self.infl.autonomy)
        x.influence_total = total_influence(x.influence_channels, self.infl.channel_weights)
        x.state_weight = state_weights(self.spec.raw["influence"]["regional_weights"], x.gdp,
                                       self.structure.fundamentals.population_m)
        x.regional_channels = regional(x.influence_channels, x.state_weight)
        x.regional_total = regional(x.influence_total, x.state_weight)

    def step(self) -> None:
        """One period: events; states perceive; powers spend, bid and may convene; states choose; state variables
        move; influence; checks (ODD 3.1)."""
        if self.period >= self.horizon:
            self.running = False
            return
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            self.period += 1
            self._apply_events(self.period)
            self._draw()
            self.perceive()
            self.now.budget = self.effective_budget()
            self.now.offered = self.state.offers.sum(axis=-1)  # kept up to date by each power's bid
            self.now.influence_sum = self.state.influence_total.sum(axis=-1)
            for agent in self.power_agents:
                agent.step()
            self.choice_inputs()
            self.now.next_status = self.state.status.copy()
            for agent in self.state_agents:
                agent.step()
            self._pay_packages(self.now.next_status)
            self._advance(self.now.next_status * self.state.active[:, None, :])
            self.update_influence()
            self._check_finite()
        self.recorder.record(self)
        self.datacollector.collect(self)
        if self.period >= self.horizon:
            self.running = False

    def _pay_packages(self, new_status: np.ndarray) -> None:
        """A package is paid when its target becomes a full member (ODD eq. 4.1d): it joins the investment stock."""
        x = self.state
        joined = (new_status == Level.MEMBER) & (x.status < Level.MEMBER)  # (R, S, F)
        paid = x.offers * joined[:, None]  # (R, P, S, F)
        if paid.any():
            x.invest_added += paid.sum(axis=-1).transpose(0, 2, 1)
            x.fund -= paid.sum(axis=(-2, -1))
            x.offers = np.where(joined[:, None], 0.0, x.offers)

    def _advance(self, new_status: np.ndarray) -> None:
        """Engagement, stocks, GDP, trade (ODD 4.3) and remittances by host (ODD eq. 4.4f)."""
        p, dt, x, members = self.p, self.dt, self.state, self.structure.members
        trade_channel = self.fmt.channels[..., BENEFIT.trade]
        old_access = trade_access(x.engagement, trade_channel, members)
        lift = diplomatic_lift(x.spending[..., INSTRUMENT.diplomacy], self.structure.convenor, x.gdp,
                               p.diplomacy_engagement_gain, dt)
        x.status = new_status
        x.engagement = update_engagement(x.engagement, new_status, p.engagement_adjust_rate, lift) \
            * x.active[:, None, :]
        dep = p.investment.depreciation_per_year
        x.invest_added = update_stock(x.invest_added, x.spending[..., INSTRUMENT.investment], dep, dt)
        arms = deliveries_in_run(self.derived.arms_flow, x.spending[..., INSTRUMENT.security], p.security.tiv_per_usd_bn)
        x.arms_stock = update_stock(x.arms_stock, arms, p.security.arms_depreciation_per_year, dt)
        x.gdp = x.gdp * (1.0 + self.derived.gdp_growth) ** dt
        access_change = trade_access(x.engagement, trade_channel, members) - old_access
        x.turnover = update_trade(x.turnover, self.derived.trend, dt, access_change, p.trade.access_elasticity,
                                  x.sanctions, p.secondary_sanctions, p.trade.sanctions_elasticity, p.trade.noise_sd,
                                  self.now.z_trade)
        x.host_income = advance_host_income(x.host_income, self.derived.host_growth, x.sanctions, self.pw.sanctions,
                                            p.migration.sanctions_income_loss, dt)
        labour = access_exposure(x.engagement - x.engagement0, self.fmt.channels[..., BENEFIT.migration], members)
        x.remittances = remittances(self.structure.remittances0.m0, x.host_income, p.migration.host_income_elasticity,
                                    labour, p.migration.access_gain)

    def _check_finite(self) -> None:
        """Stop and record any run whose state went non-finite (ODD 5): the first variable found, the step and the
        run's parameter values. Other runs are untouched (no equation mixes runs)."""
        for name in CHECKED:
            arr = np.asarray(getattr(self.state, name))
            bad = ~np.isfinite(arr.reshape(self.R, -1)).all(axis=1) & ~self.failed
            for r in np.flatnonzero(bad):
                self.failures.append(Failure(int(self.spawn_keys[r][-1]), self.period, name, self.values.row(r), int(r)))
            self.failed |= bad

    def run(self) -> GreatGameModel:
        """Advance to the horizon and return self."""
        while self.running and self.period < self.horizon:
            self.step()
        return self


class RunStreams:
    """Each run's own random stream, `SeedSequence(root, spawn_key=key)`, read in blocks of `n` uniforms per step.
    Blocks for up to `DRAW_AHEAD` steps are drawn in one call per stream (a stream gives the same numbers in one
    call as in consecutive calls) and wait in `ahead` until their step."""

    def __init__(self, root: int, spawn_keys: list[tuple[int, ...]], n: int) -> None:
        self.generators = [np.random.default_rng(np.random.SeedSequence(root, spawn_key=k)) for k in spawn_keys]
        self.n = n
        self.ahead: list[np.ndarray] = []  # blocks (R, n) drawn for the coming steps, the next first

    def next_block(self, steps_left: int) -> np.ndarray:
        """The next step's block, (R, n); draws up to min(DRAW_AHEAD, steps_left) steps' blocks when none wait."""
        if not self.ahead:
            k = max(1, min(DRAW_AHEAD, steps_left))
            block = np.stack([g.random(self.n * k) for g in self.generators]).reshape(len(self.generators), k, self.n)
            self.ahead = [block[:, i] for i in range(k)]
        return self.ahead.pop(0)


class Recorder(RecordedInfluence):
    """Per-period arrays with a leading period axis T (horizon + 1 periods): what the output tables are made from.
    influence (T, R, S+1, P, C+1), read and written through its named views (`influence_total`, `regional_total`,
    ...: `axes.RecordedInfluence`); status (T, R, S, F) int8; active (T, R, F) bool; engagement (T, R, S, F);
    turnover (T, R, S, P) US$ bn/year. A failed run's rows from its failure step on are NaN (status -1). `into` may
    hand over arrays to write into (views of larger arrays, e.g. one chunk of a `simulate` call), shaped as
    `Recorder.shapes` says."""

    influence: np.ndarray
    status: np.ndarray
    active: np.ndarray
    engagement: np.ndarray
    turnover: np.ndarray

    @staticmethod
    def shapes(T: int, R: int, S: int, P: int, F: int, C: int) -> dict[str, tuple[tuple[int, ...], Any, Any]]:
        """Shape, dtype and fill of each recorded array (influence: the region after the states, the total after
        the channels; `axes.RecordedInfluence`)."""
        return {"influence": ((T, R, S + 1, P, C + 1), float, np.nan), "status": ((T, R, S, F), np.int8, 0),
                "active": ((T, R, F), bool, False), "engagement": ((T, R, S, F), float, np.nan),
                "turnover": ((T, R, S, P), float, np.nan)}

    def __init__(self, model: GreatGameModel, into: dict[str, np.ndarray] | None = None) -> None:
        C = model.infl.channel_weights.shape[-1]
        spec = self.shapes(model.horizon + 1, model.R, model.S, model.P, model.F, C)
        for name, (shape, dtype, fill) in spec.items():
            arr = into[name] if into is not None else np.full(shape, fill, dtype=dtype)
            if arr.shape != shape:
                raise ValueError(f"recorder array {name} has shape {arr.shape}, expected {shape}")
            setattr(self, name, arr)
        self.periods = 0

    def record(self, m: GreatGameModel) -> None:
        """Write the model's state at its current period."""
        t, x = m.period, m.state
        self.influence_channels[t] = x.influence_channels
        self.influence_total[t] = x.influence_total
        self.regional_channels[t] = x.regional_channels
        self.regional_total[t] = x.regional_total
        self.status[t] = x.status
        self.active[t] = x.active
        self.engagement[t] = x.engagement
        self.turnover[t] = x.turnover
        if m.failed.any():
            for arr in (self.influence, self.engagement, self.turnover):
                arr[t, m.failed] = np.nan
            self.status[t, m.failed] = -1
        self.periods = t + 1
