"""GreatGameModel: the Mesa model that advances one or many independent runs of a scenario in lockstep.

Every state array has a leading run axis R. Run k draws only from its own stream,
`numpy.random.SeedSequence(seed, spawn_key=key_k)`, one fixed-size block per step, and every parameter holds one
value per run (`params.RunValues`), so a run's numbers never depend on which other runs it is advanced with.
`runs=1` is the plain Mesa case and works under `mesa.batch_run`. The equations live in the pure modules
(choice, routes, allocation, dynamics, influence); this class wires them together (docs/ODD.md section 3).
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
from .axes import BENEFIT, DOCTRINE, INSTRUMENT, LEVELS, OBLIGATION, Level
from .choice import (
    benefit_pairs,
    bloc_penalty,
    choice_probabilities,
    dependence,
    exposure,
    format_cost,
    level_share,
    level_values,
    marginal_benefit,
    pair_reach,
    sovereignty_cost,
    switching_from,
    switching_table,
)
from .dynamics import diplomatic_lift, trade_access, trend_growth, update_engagement, update_stock, update_trade
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
from .params import FormatAttributes, InfluenceAttributes, Parameters, PowerAttributes, RunValues
from .routes import route_completion, route_multiplier
from .scenario import Scenario, load_scenario

__all__ = ["LEVELS", "GreatGameModel", "Failure", "ModelScenario"]
DEFAULT_SCENARIO = BASELINE
DRAW_AHEAD = 10  # steps of draws taken from each run's stream in one call (results do not depend on it)
CHECKED = ("status", "engagement", "gdp", "turnover", "invest_added", "security_added", "fund", "influence_total",
           "regional_total")  # state arrays checked for NaN/inf after every step (ODD 5, observation)


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
    """

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
        self.streams = [np.random.default_rng(np.random.SeedSequence(self.root_seed, spawn_key=k))
                        for k in self.spawn_keys]
        self.horizon = int(steps if steps is not None else sc.steps)
        self.dt = sc.step_months / 12.0
        self.powers, self.states, self.formats = sc.powers, sc.states, sc.formats
        self.P, self.S, self.F = len(self.powers), len(self.states), len(self.formats)
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
        self._setup_structure()
        self._derive()
        self._setup_state()
        self.period = 0
        self.events = list(sc.events)
        self.event_log: list[tuple[int, str]] = []
        self.failures: list[Failure] = []
        self.failed = np.zeros(self.R, dtype=bool)
        self._apply_events(0)
        self._update_influence()
        self.budget_now = self.effective_budget()
        self.power_agents = [PowerAgent(self, c, j) for j, c in enumerate(self.powers)]
        self.state_agents = [StateAgent(self, c, s) for s, c in enumerate(self.states)]
        self.datacollector = mesa.DataCollector(
            model_reporters={c: (lambda m, j=j: float(m.regional_total[:, j].mean())) for j, c in enumerate(self.powers)})
        self.recorder = Recorder(self, record_into)
        self.recorder.record(self)
        self.datacollector.collect(self)

    # ----------------------------------------------------------------- set-up
    def _setup_structure(self) -> None:
        """What does not vary by run: who is in which format, eligibility, doctrines, routes, fundamentals."""
        raw, P, S, F = self.spec.raw, self.P, self.S, self.F
        pi = {c: j for j, c in enumerate(self.powers)}
        fm = [raw["formats"][f] for f in self.formats]
        self.members = np.zeros((F, P))
        self.convenor = np.zeros((F, P))
        for i, f in enumerate(fm):
            for c in f["powers"]:
                self.members[i, pi[c]] = 1.0
            for c in f["convenors"]:
                self.convenor[i, pi[c]] = 1.0
        self.members_q = np.concatenate([self.members, np.ones((F, 1))], axis=1)  # + the region column
        club_names = [f.get("club", code) for code, f in zip(self.formats, fm, strict=True)]
        self.clubs = np.array([club_names.index(c) for c in club_names])  # (F,): first format of the same club
        # (K,): actor, channel and club of each benefit pair (ODD eq. 4.2b)
        self.pair_actor, self.pair_channel, self.pair_club = benefit_pairs(self.members_q, P, self.clubs)
        self.n_routed = int(((self.pair_actor < P) & np.isin(self.pair_channel, (BENEFIT.trade,
                                                                                  BENEFIT.energy_transport))).sum())
        self.solo_convenor = (self.convenor > 0) & (self.convenor.sum(axis=1, keepdims=True) == 1)
        st = [raw["states"][s] for s in self.states]
        eligible = np.zeros((S, F), dtype=bool)
        for i, f in enumerate(fm):
            for s, spec in enumerate(st):
                ok = f["eligible"] == "all" or self.states[s] in f["eligible"]
                eligible[s, i] = ok and (spec["turkic"] or not f.get("eligible_turkic_only"))
        self.allowed = np.stack([np.ones((S, F), dtype=bool), eligible, eligible], axis=-1)
        self.doctrine = np.array([DOCTRINE.index(spec["doctrine"]) for spec in st])
        self.afghan_border = np.array([spec["afghan_border"] for spec in st], dtype=bool)
        pw = [raw["powers"][c] for c in self.powers]
        self.template = np.array([self.formats.index(w["template"]) if w.get("template") else -1 for w in pw])
        self.colours = {c: w.get("colour") for c, w in zip(self.powers, pw, strict=True)}
        self.fundamentals: Fundamentals = load_fundamentals(raw["data_year"], self.states, self.powers)
        self.transit, self.transit_share = load_routes(raw["data_year"], self.states, self.powers)

    def _derive(self) -> None:
        """Typed per-run parameters and the arrays derived from them (again after any event that sets a value)."""
        v = self.values
        self.p = Parameters.from_values(v)
        self.fmt = FormatAttributes.from_values(v, self.formats)
        self.pw = PowerAttributes.from_values(v, self.powers)
        self.infl = InfluenceAttributes.from_values(v)
        fund = self.fundamentals
        self.sovereignty = sovereignty_cost(self.fmt.obligations, self.p.obligation_cost, self.p.doctrine_penalty,
                                            self.doctrine)  # (R, S, F)
        self.bloc = bloc_penalty(self.fmt.obligations, self.p.doctrine_penalty, self.doctrine)  # (R, S, F)
        self.threat = state_threat(self.p.threat_level, self.p.threat_spillover, self.afghan_border)  # (R, S)
        reach = pair_reach(self.fmt.channels, self.members_q, self.pair_actor, self.pair_channel, self.pair_club,
                           self.clubs)
        keep = reach.any(axis=(0, 2))  # pairs no format reaches in any run (channels are fixed at construction)
        if not keep.all():
            self.pair_actor, self.pair_channel, self.pair_club = (a[keep] for a in (self.pair_actor, self.pair_channel,
                                                                                    self.pair_club))
            self.n_routed = int(keep[: self.n_routed].sum())
            reach = reach[:, keep]
        self.reach = reach[:, None]  # (R, 1, K, F): c_fb [q in f] of each (actor, channel) pair (ODD eq. 4.2b)
        self.switching = switching_table(self.fmt.depth, self.p.switching_cost_join,
                                         self.p.switching_cost_exit)  # (R, F, 3, 3)
        self.customs_unions = np.flatnonzero((self.fmt.obligations[..., OBLIGATION.supranational] > 0).any(axis=0))
        self.role = institution_role(self.fmt.depth, self.convenor, self.members, self.infl.role_convenor,
                                     self.infl.role_member)  # (R, F, P)
        self.invest_base = (fund.fdi_stock_usd_bn + fund.debt_usd_bn
                            + fund.fdi_gross_inflow_cumulative_usd_bn * self.p.investment.gross_inflow_to_stock[:, None, None])
        self.trend = trend_growth(fund.gdp_growth_per_year, fund.partner_growth_per_year,
                                  self.p.trade.partner_growth_elasticity, self.p.trade.reference_growth_per_year)
        self.gdp_growth = fund.gdp_growth_per_year
        if self.spec.raw.get("fundamentals") == "held":  # the start year's economy, held (ODD 9: blank slate)
            self.trend = np.zeros_like(self.trend)
            self.gdp_growth = np.zeros_like(self.gdp_growth)

    def set_doctrine(self, s: int, doctrine: str) -> None:
        """Change state s's doctrine category (a `doctrine` event); call `_derive` afterwards."""
        self.doctrine = self.doctrine.copy()
        self.doctrine[s] = DOCTRINE.index(doctrine)

    def _setup_state(self) -> None:
        R, P, S, F, fund = self.R, self.P, self.S, self.F, self.fundamentals
        raw = self.spec.raw
        self.active = np.tile(np.array([raw["formats"][f]["active"] for f in self.formats]), (R, 1))
        status = np.zeros((S, F), dtype=np.int64)
        if raw["initial_status"] == "data":
            obs = observed_status(raw["data_year"])
            for s, sc in enumerate(self.states):
                for f, fc in enumerate(self.formats):
                    status[s, f] = obs.get((sc, fc), 0)
        status = np.where(self.allowed[..., Level.MEMBER], status, 0)
        self.status = np.tile(status, (R, 1, 1)) * self.active[:, None, :]
        self.next_status = self.status.copy()
        self.engagement = np.array([0.0, 0.5, 1.0])[self.status]
        self.gdp = np.tile(fund.gdp_usd_bn, (R, 1))
        self.gdp0 = fund.gdp_usd_bn.copy()
        self.turnover = np.tile(fund.turnover_usd_bn, (R, 1, 1))
        self.invest_added = np.zeros((R, S, P))
        self.security_added = np.zeros((R, S, P))
        self.corridor = np.zeros((R, S, P))
        self.spending = np.zeros((R, S, P, len(INSTRUMENT)))
        self.sanctions = self.pw.sanctions.copy()
        self.budget_scale = np.ones((R, P))
        self.fund = np.zeros((R, P))
        self.offers = np.zeros((R, P, S, F))  # accession packages on the table, US$ bn
        self.steps_short = np.zeros((R, P), dtype=np.int64)
        self.influence_total = np.zeros((R, S, P))
        self.regional_total = np.zeros((R, P))

    # ----------------------------------------------------------------- derived state
    @property
    def invest_total(self) -> np.ndarray:
        """Investment stock by state and power, US$ bn: data stock held at its share of GDP + model-added stock."""
        return self.invest_base * (self.gdp / self.gdp0)[..., None] + self.invest_added

    @property
    def security(self) -> np.ndarray:
        return security_leverage(self.fundamentals.arms_share + self.fundamentals.military_presence,
                                 self.security_added, self.gdp, self.threat)

    @property
    def energy(self) -> np.ndarray:
        return energy_leverage(self.fundamentals.energy_route_share, self.p.energy_price_index, self.corridor)

    def effective_budget(self) -> np.ndarray:
        """Spendable budget of every power this step, (R, P) US$ bn/year (ODD eq. 4.1a)."""
        return effective_budget(self.pw.budget, self.budget_scale, self.sanctions, self.p.powers.sanctions_capacity_loss)

    # ----------------------------------------------------------------- events
    def open_format(self, f: int, runs: np.ndarray | bool = True) -> None:
        """Make format f active in the given runs (a bool mask or all); states start at `none` there."""
        mask = np.broadcast_to(np.asarray(runs, dtype=bool), (self.R,))
        newly = mask & ~self.active[:, f]
        self.active[newly, f] = True
        self.event_log.append((self.period, f"{self.formats[f]} opened in {int(newly.sum())} run(s)"))

    def close_format(self, f: int) -> None:
        self.active[:, f] = False
        self.status[:, :, f] = 0
        self.engagement[:, :, f] = 0.0

    def _apply_events(self, step: int) -> None:
        due = [ev for ev in self.events if ev["step"] == step]
        for ev in due:
            event_handlers.HANDLERS[ev["type"]](self, ev)
            self.event_log.append((step, f"{ev['type']} {ev.get('note', '')}".strip()))
        if due:
            self._derive()

    # ----------------------------------------------------------------- perception (ODD 4.2)
    def perceive(self, share: np.ndarray | None = None) -> None:
        """Every state's benefit and cost of full membership of every format this step (ODD eq. 4.2a-f), from
        the start-of-step state: `self.benefit`, `self.cost` (R, S, F). `share` replaces the level shares of the
        current statuses (the calibration's stand-in passes expected shares)."""
        p = self.p
        if share is None:
            share = level_share(self.status, p.partial_benefit_share)  # (R, S, F)
        completion = route_completion(share, self.transit, self.transit_share)
        route = route_multiplier(completion, self.fmt.obligations[..., OBLIGATION.supranational],
                                 p.routes.customs_route_weight)  # (R, S, P, F)
        nr, unions = self.n_routed, self.customs_unions  # the powers' trade and energy pairs come first
        routed = route[:, :, self.pair_actor[:nr]][..., unions] if unions.size else None  # (R, S, nr, G)
        invest = self.invest_total
        expo = exposure(self.turnover, invest, self.security, self.energy,
                        np.broadcast_to(self.fundamentals.remittances_pct_gdp, self.turnover.shape), self.gdp,
                        self.threat)
        value = expo[:, :, self.pair_actor, self.pair_channel] * p.weights.benefit[:, self.pair_channel][:, None]
        self.benefit = marginal_benefit(value, share, self.reach, None if routed is None else (routed, nr, unions))
        self.cost = format_cost(self.sovereignty, self.fmt.friction, self.fmt.sanctions_exposure, self.members,
                                dependence(self.turnover, invest, self.gdp), self.sanctions, p.secondary_sanctions,
                                influence_share(self.influence_total), p.weights.friction, p.weights.sanctions,
                                p.weights.hedging)

    def level_values(self, offers: np.ndarray | None = None) -> np.ndarray:
        """Value of none/partial/member in every format for every state, (R, S, F, 3), with the accession packages
        on the table (ODD eq. 4.2d): a package is worth w_investment x package / GDP at `member`."""
        offers = self.offers if offers is None else offers
        package = self.p.weights.investment[:, None, None] * offers.sum(axis=1) / self.gdp[..., None]
        return level_values(self.benefit, self.cost, self.sovereignty, self.p.partial_benefit_share,
                            self.p.partial_cost_share, package, self.bloc)

    def level_values_without_package(self, j: int) -> np.ndarray:
        """Level values with every package on the table except power j's own (what j bids against)."""
        others = self.offers.copy()
        others[:, j] = 0.0
        return self.level_values(others)

    def reference_influence(self, j: int) -> np.ndarray:
        """Power j's reference point (ODD eq. 4.1c): its highest regional influence over the last
        `loss_memory_steps` periods, (R,)."""
        hist = self.recorder.regional_history(self.period - 1)[:, :, j]  # (T', R)
        age = (self.period - 1) - np.arange(hist.shape[0])[:, None]
        recent = age <= self.p.powers.loss_memory_steps[None, :]
        return np.where(recent, hist, -np.inf).max(axis=0)

    def allowed_levels(self) -> np.ndarray:
        """(R, S, F, 3) levels a state may take: eligibility, and only `none` in an inactive format."""
        cached = getattr(self, "_allowed_cache", None)
        if cached is not None and np.array_equal(cached[0], self.active):
            return cached[1]
        allowed = self.allowed[None] & self.active[:, None, :, None]
        allowed[..., Level.NONE] = True
        self._allowed_cache = (self.active.copy(), allowed)
        return allowed

    def choice_inputs(self) -> None:
        """What every state's choice needs this step, computed once after the powers have acted: the cumulative
        logit probabilities of `none` and of `none` or `partial`, with the packages on the table,
        `cumulative_now` (R, S, F, 2) (ODD eq. 4.2d-e; the same as `status_utility` and `choice_probabilities`)."""
        utility = np.where(self.allowed_levels(), self.level_values() - switching_from(self.switching, self.status),
                           -np.inf)  # (ODD eq. 4.2d)
        prob = choice_probabilities(utility, self.p.rationality)
        self.cumulative_now = np.stack([prob[..., 0], prob[..., 0] + prob[..., 1]], axis=-1)

    # ----------------------------------------------------------------- step
    def _draw(self) -> None:
        """One block of uniforms per run for this step, from that run's own stream. Blocks for several steps are
        drawn at once (`DRAW_AHEAD`): a stream gives the same numbers in one call as in consecutive calls."""
        S, F, P = self.S, self.F, self.P
        n = 2 * S * F + P + S * P
        if not getattr(self, "_ahead", None):
            k = max(1, min(DRAW_AHEAD, self.horizon - self.period + 1))
            block = np.stack([g.random(n * k) for g in self.streams]).reshape(self.R, k, n)
            self._ahead = [block[:, i] for i in range(k)]
        block = self._ahead.pop(0)
        self.u_revise = block[:, : S * F].reshape(-1, S, F)
        self.u_pick = block[:, S * F: 2 * S * F].reshape(-1, S, F)
        self.u_convene = block[:, 2 * S * F: 2 * S * F + P]
        self.z_trade = ndtri(block[:, 2 * S * F + P:]).reshape(-1, S, P)

    def _update_influence(self) -> None:
        lev = leverage(self.turnover, self.gdp, self.invest_total, self.security, self.energy,
                       self.fundamentals.remittances_pct_gdp, self.engagement, self.role)
        self.influence_channels = influence_by_channel(lev, self.infl.autonomy)
        self.influence_total = total_influence(self.influence_channels, self.infl.channel_weights)
        self.state_weight = state_weights(self.spec.raw["influence"]["regional_weights"], self.gdp,
                                          self.fundamentals.population_m)
        self.regional_channels = regional(self.influence_channels, self.state_weight)
        self.regional_total = regional(self.influence_total, self.state_weight)

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
            self.budget_now = self.effective_budget()
            for agent in self.power_agents:
                agent.step()
            self.choice_inputs()
            self.next_status = self.status.copy()
            for agent in self.state_agents:
                agent.step()
            self._pay_packages(self.next_status)
            self._advance(self.next_status * self.active[:, None, :])
            self._update_influence()
            self._check_finite()
        self.recorder.record(self)
        self.datacollector.collect(self)
        if self.period >= self.horizon:
            self.running = False

    def _pay_packages(self, new_status: np.ndarray) -> None:
        """A package is paid when its target becomes a full member (ODD eq. 4.1d): it joins the investment stock."""
        joined = (new_status == Level.MEMBER) & (self.status < Level.MEMBER)  # (R, S, F)
        paid = self.offers * joined[:, None]  # (R, P, S, F)
        if paid.any():
            self.invest_added += paid.sum(axis=-1).transpose(0, 2, 1)
            self.fund -= paid.sum(axis=(-2, -1))
            self.offers = np.where(joined[:, None], 0.0, self.offers)

    def _advance(self, new_status: np.ndarray) -> None:
        """Engagement, stocks, GDP and trade (ODD 4.3)."""
        p, dt = self.p, self.dt
        trade_channel = self.fmt.channels[..., BENEFIT.trade]
        old_access = trade_access(self.engagement, trade_channel, self.members)
        lift = diplomatic_lift(self.spending[..., INSTRUMENT.diplomacy], self.convenor, self.gdp,
                               p.diplomacy_engagement_gain, dt)
        self.status = new_status
        self.engagement = update_engagement(self.engagement, new_status, p.engagement_adjust_rate, lift) \
            * self.active[:, None, :]
        dep = p.investment.depreciation_per_year
        self.invest_added = update_stock(self.invest_added, self.spending[..., INSTRUMENT.investment], dep, dt)
        self.security_added = update_stock(self.security_added, self.spending[..., INSTRUMENT.security], dep, dt)
        self.gdp = self.gdp * (1.0 + self.gdp_growth) ** dt
        access_change = trade_access(self.engagement, trade_channel, self.members) - old_access
        self.turnover = update_trade(self.turnover, self.trend, dt, access_change, p.trade.access_elasticity,
                                     self.sanctions, p.secondary_sanctions, p.trade.sanctions_elasticity,
                                     p.trade.noise_sd, self.z_trade)

    def _check_finite(self) -> None:
        """Stop and record any run whose state went non-finite (ODD 5): the first variable found, the step and the
        run's parameter values. Other runs are untouched (no equation mixes runs)."""
        for name in CHECKED:
            arr = np.asarray(getattr(self, name))
            bad = ~np.isfinite(arr.reshape(self.R, -1)).all(axis=1) & ~self.failed
            for r in np.flatnonzero(bad):
                self.failures.append(Failure(int(self.spawn_keys[r][-1]), self.period, name, self.values.row(r), int(r)))
            self.failed |= bad

    def run(self) -> GreatGameModel:
        """Advance to the horizon and return self."""
        while self.running and self.period < self.horizon:
            self.step()
        return self


class Recorder:
    """Per-period arrays with a leading period axis: what the output tables are made from. A failed run's rows
    from its failure step on are NaN (status -1). `into` may hand over arrays to write into (views of larger
    arrays, e.g. one chunk of a `simulate` call), shaped as `Recorder.shapes` says."""

    @staticmethod
    def shapes(T: int, R: int, S: int, P: int, F: int, C: int) -> dict[str, tuple[tuple[int, ...], Any, Any]]:
        """Shape, dtype and fill of each recorded array (REGION_SLOT after the states, TOTAL_SLOT last)."""
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
        t = m.period
        self.influence[t, :, :-1, :, :-1] = m.influence_channels
        self.influence[t, :, :-1, :, -1] = m.influence_total
        self.influence[t, :, -1, :, :-1] = m.regional_channels
        self.influence[t, :, -1, :, -1] = m.regional_total
        self.status[t] = m.status
        self.active[t] = m.active
        self.engagement[t] = m.engagement
        self.turnover[t] = m.turnover
        if m.failed.any():
            for arr in (self.influence, self.engagement, self.turnover):
                arr[t, m.failed] = np.nan
            self.status[t, m.failed] = -1
        self.periods = t + 1

    def regional_history(self, upto: int) -> np.ndarray:
        """Regional total influence of every power over periods 0..upto, (T', R, P)."""
        return self.influence[: upto + 1, :, -1, :, -1]
