"""GreatGameModel: the Mesa model that advances one or many independent runs of a scenario in lockstep.

Every state array has a leading run axis R. Run k draws only from its own stream,
`numpy.random.SeedSequence(seed, spawn_key=key_k)`, one fixed-size block per step, so its numbers never depend on
which other runs it is advanced with. `runs=1` is the plain Mesa case and works under `mesa.batch_run`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import mesa
import numpy as np
from scipy.special import ndtri

from .agents import PowerAgent, StateAgent
from .choice import format_benefit, format_cost, power_exposure
from .dynamics import trend_growth, update_engagement, update_stock, update_trade
from .fundamentals import load_fundamentals, observed_status
from .influence import influence_by_channel, leverage, regional, total_influence
from .scenario import Scenario, load_scenario
from .schema import CHANNELS, INFLUENCE_CHANNELS, KINDS

LEVELS = ("none", "partial", "member")
DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


class GreatGameModel(mesa.Model):
    """Great-power competition for Central Asia.

    Args:
        scenario: a Scenario, a YAML path or a mapping (default: scenarios/baseline.yaml).
        runs: number of runs advanced together.
        replicate: replicate number of the first run (runs are replicate, replicate+1, ...).
        spawn_keys: explicit SeedSequence spawn keys, one per run (overrides runs/replicate).
        rng: root seed (an int); `seed` is accepted as a synonym; default: the scenario's seed.
        steps: horizon in steps (default: the scenario's); events after it are simply not reached.
    """

    def __init__(self, scenario: Scenario | str | Path | dict | None = None, runs: int = 1, replicate: int = 0,
                 spawn_keys: list[tuple[int, ...]] | None = None, rng: int | None = None, seed: int | None = None,
                 steps: int | None = None) -> None:
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or DEFAULT_SCENARIO)
        root = rng if rng is not None else seed if seed is not None else sc.raw["seed"]
        super().__init__(rng=int(root))
        self.spec, self.root_seed = sc, int(root)
        self.spawn_keys = [tuple(k) for k in spawn_keys] if spawn_keys else [(replicate + i,) for i in range(runs)]
        self.R = len(self.spawn_keys)
        self.streams = [np.random.default_rng(np.random.SeedSequence(self.root_seed, spawn_key=k))
                        for k in self.spawn_keys]
        self.horizon = int(steps if steps is not None else sc.steps)
        self.dt = sc.step_months / 12.0
        self.p = copy.deepcopy(sc.raw["parameters"])
        self.powers, self.states, self.formats = sc.powers, sc.states, sc.formats
        self.P, self.S, self.F = len(self.powers), len(self.states), len(self.formats)
        self._setup_static()
        self._setup_state()
        self.period = 0
        self.events = list(sc.events)
        self.event_log: list[tuple[int, str]] = []
        self._apply_events(0)
        self._update_influence()
        self.power_agents = [PowerAgent(self, c, j) for j, c in enumerate(self.powers)]
        self.state_agents = [StateAgent(self, c, s) for s, c in enumerate(self.states)]
        self.datacollector = mesa.DataCollector(
            model_reporters={c: (lambda m, j=j: float(m.regional_total[:, j].mean())) for j, c in enumerate(self.powers)})
        self.recorder = Recorder(self)
        self.recorder.record(self)
        self.datacollector.collect(self)

    # ----------------------------------------------------------------- set-up
    def _setup_static(self) -> None:
        raw, P, S, F = self.spec.raw, self.P, self.S, self.F
        pi = {c: j for j, c in enumerate(self.powers)}
        fm = [raw["formats"][f] for f in self.formats]
        self.membership = np.zeros((F, P))
        self.convenor = np.zeros((F, P))
        for i, f in enumerate(fm):
            for c in f["powers"]:
                self.membership[i, pi[c]] = 1.0
            for c in f["convenors"]:
                self.convenor[i, pi[c]] = 1.0
        self.depth = np.array([f["depth"] for f in fm])
        self.channels = np.array([[f["channels"][c] for c in CHANNELS] for f in fm])
        self.sov = np.array([f["costs"]["sovereignty"] for f in fm])
        self.friction = np.array([f["costs"]["friction"] for f in fm])
        self.sanctions_exposure = np.array([f["costs"]["sanctions_exposure"] for f in fm])
        self.kind = np.array([KINDS.index(f["kind"]) for f in fm])
        st = [raw["states"][s] for s in self.states]
        eligible = np.zeros((S, F), dtype=bool)
        for i, f in enumerate(fm):
            for s, spec in enumerate(st):
                ok = f["eligible"] == "all" or self.states[s] in f["eligible"]
                if f.get("eligible_turkic_only"):
                    ok = ok and spec["turkic"]
                eligible[s, i] = ok
        self.allowed = np.stack([np.ones((S, F), dtype=bool), eligible, eligible], axis=-1)
        self.doctrine = [spec["doctrine"] for spec in st]
        self.afghan_border = np.array([spec["afghan_border"] for spec in st], dtype=float)
        pw = [raw["powers"][c] for c in self.powers]
        self.budget = np.array([w["budget_usd_bn_per_year"] for w in pw])
        self.budget_scale = np.ones(P)
        self.sanctions = np.array([w["sanctions"] for w in pw])
        self.aspiration = np.array([w["aspiration"] for w in pw])
        self.instrument_shares = np.array([[w["instrument_shares"][k] for k in ("investment", "security", "diplomacy")]
                                           for w in pw])
        self.template = np.array([self.formats.index(w["template"]) if w.get("template") else -1 for w in pw])
        self.colours = {c: w.get("colour") for c, w in zip(self.powers, pw, strict=True)}
        fund = load_fundamentals(raw["data_year"], self.states, self.powers,
                                 self.p["investment"]["gross_inflow_to_stock"])
        self.fundamentals = fund
        self.remittances = fund.remittances_pct_gdp
        self.arms_presence = fund.arms_share + fund.military_presence
        self.growth = fund.gdp_growth_per_year
        self.partner_growth = fund.partner_growth_per_year
        self._derive()

    def _derive(self) -> None:
        """Quantities that depend on parameters a `parameter` event may change."""
        p = self.p
        pen = np.array([[p["doctrine_penalty"].get(d, {}).get(KINDS[k], 0.0) for k in self.kind] for d in self.doctrine])
        self.sovereignty_cost = p["weights"]["sovereignty"] * self.depth * self.sov * (1.0 + pen)  # (S, F)
        self.benefit_weights = np.array([p["weights"][c] for c in CHANNELS])
        self.threat = p["threat_level"] * np.where(self.afghan_border > 0, 1.0, p["threat_spillover"])
        role = self.spec.raw["influence"]["institution_role"]
        self.institution_role = self.depth[:, None] * (self.convenor * role["convenor"]
                                                       + (self.membership - self.convenor) * role["member"])
        infl = self.spec.raw["influence"]
        self.channel_weights = np.array([infl["channel_weights"][c] for c in INFLUENCE_CHANNELS])
        self.autonomy = np.array([infl["autonomy"][c] for c in INFLUENCE_CHANNELS])

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
        status = np.where(self.allowed[..., 2], status, 0)
        self.status = np.tile(status, (R, 1, 1)) * self.active[:, None, :]
        self.next_status = self.status.copy()
        self.engagement = np.array([0.0, 0.5, 1.0])[self.status]
        self.gdp = np.tile(fund.gdp_usd_bn, (R, 1))
        self.gdp0 = fund.gdp_usd_bn.copy()
        self.turnover = np.tile(fund.turnover_usd_bn, (R, 1, 1))
        self.invest_base = fund.fdi_stock_usd_bn + fund.debt_usd_bn
        self.invest_added = np.zeros((R, S, P))
        self.security_added = np.zeros((R, S, P))
        self.corridor = np.zeros((R, S, P))
        self.spending = np.zeros((R, S, P, 3))
        self.steps_below = np.zeros((R, P), dtype=np.int64)
        self.influence_total = np.zeros((R, S, P))
        self.regional_total = np.zeros((R, P))
        self._refresh_leverage()

    def _refresh_leverage(self) -> None:
        growth_factor = self.gdp / self.gdp0
        self.invest_total = self.invest_base * growth_factor[..., None] + self.invest_added
        # a security patron's leverage grows with the threat the state faces (ODD eq. 4.4c)
        self.security_leverage = (self.arms_presence + 100.0 * self.security_added / self.gdp[..., None]) \
            * (1.0 + self.threat[:, None])
        self.energy_leverage = self.fundamentals.energy_route_share * self.p["energy_price_index"] + self.corridor

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
        self.next_status[:, :, f] = 0
        self.engagement[:, :, f] = 0.0

    def _apply_events(self, step: int) -> None:
        due = [ev for ev in self.events if ev["step"] == step]
        if not due:
            return  # set-up has already derived everything; only events change parameters
        for ev in due:
            kind = ev["type"]
            j = self.powers.index(ev["power"]) if ev.get("power") not in (None, "all") else None
            if kind == "sanctions":
                self.sanctions[j] = ev["level"]
            elif kind == "budget":
                self.budget_scale[j] *= ev["scale"]
            elif kind == "threat":
                self.p["threat_level"] = ev["level"]
            elif kind == "secondary_sanctions":
                self.p["secondary_sanctions"] = ev["level"]
            elif kind == "energy_price":
                self.p["energy_price_index"] = ev["index"]
            elif kind == "corridor":
                states = range(self.S) if ev["states"] == "all" else [self.states.index(s) for s in ev["states"]]
                for s in states:
                    self.corridor[:, s, j] = np.minimum(1.0, self.corridor[:, s, j] + ev["strength"])
            elif kind == "trade_shock":
                if j is None:
                    self.turnover *= ev["scale"]
                else:
                    self.turnover[:, :, j] *= ev["scale"]
            elif kind == "format_open":
                self.open_format(self.formats.index(ev["format"]))
            elif kind == "format_close":
                self.close_format(self.formats.index(ev["format"]))
            elif kind == "status":
                s, f = self.states.index(ev["state"]), self.formats.index(ev["format"])
                level = LEVELS.index(ev["status"])
                self.status[:, s, f] = level
                self.next_status[:, s, f] = level
            elif kind == "parameter":
                node = self.p
                keys = ev["key"].split(".")
                for k in keys[:-1]:
                    node = node[k]
                node[keys[-1]] = ev["value"]
            self.event_log.append((step, f"{kind} {ev.get('note', '')}".strip()))
        self._derive()
        self._refresh_leverage()

    # ----------------------------------------------------------------- choice inputs
    def benefit_and_cost(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Benefit and cost of full membership of state s in every format, each (R, F) (ODD eq. 4.2a-c). The
        state enters only through its data rows and its doctrine: no per-state, per-format constant."""
        p = self.p
        exposure = power_exposure(self.turnover[:, s], self.invest_total[:, s], self.security_leverage[:, s],
                                  self.energy_leverage[:, s], self.remittances[s][None], self.gdp[:, s])
        benefit = format_benefit(exposure, self.membership, self.channels, self.benefit_weights, self.threat[s])
        dependence = (self.turnover[:, s] + self.invest_total[:, s]) / self.gdp[:, s, None]
        total = self.influence_total[:, s]
        share = total / np.maximum(total.sum(axis=-1, keepdims=True), 1e-12)
        cost = format_cost(self.sovereignty_cost[s], self.friction, self.sanctions_exposure, self.membership,
                           dependence, np.broadcast_to(self.sanctions, (self.R, self.P)), p["secondary_sanctions"],
                           share, p["weights"])
        return benefit, cost

    # ----------------------------------------------------------------- step
    def _draw(self) -> None:
        """One block of uniforms per run for this step, from that run's own stream."""
        S, F, P = self.S, self.F, self.P
        n = 2 * S * F + P + S * P
        block = np.stack([g.random(n) for g in self.streams])
        self.u_revise = block[:, : S * F].reshape(-1, S, F)
        self.u_pick = block[:, S * F: 2 * S * F].reshape(-1, S, F)
        self.u_convene = block[:, 2 * S * F: 2 * S * F + P]
        self.z_trade = ndtri(block[:, 2 * S * F + P:]).reshape(-1, S, P)

    def _update_influence(self) -> None:
        lev = leverage(self.turnover, self.gdp, self.invest_total, self.security_leverage, self.energy_leverage,
                       np.broadcast_to(self.remittances, self.turnover.shape), self.engagement, self.institution_role)
        self.influence_channels = influence_by_channel(lev, self.autonomy)
        self.influence_total = total_influence(self.influence_channels, self.channel_weights)
        rw = self.spec.raw["influence"]["regional_weights"]
        if rw == "gdp":
            w = self.gdp
        elif rw == "population":
            w = np.tile(self.fundamentals.population_m, (self.R, 1))
        else:
            w = np.ones((self.R, self.S))
        self.state_weight = w / w.sum(axis=-1, keepdims=True)
        self.regional_channels = regional(self.influence_channels, self.state_weight)
        self.regional_total = regional(self.influence_total, self.state_weight)

    def step(self) -> None:
        """One period: events, powers allocate and may convene, states choose, state variables move, influence."""
        if self.period >= self.horizon:
            self.running = False
            return
        self.period += 1
        self._apply_events(self.period)
        self._draw()
        for agent in self.power_agents:
            agent.step()
        self.next_status = self.status.copy()
        for agent in self.state_agents:
            agent.step()
        self._advance(self.next_status * self.active[:, None, :])
        self._update_influence()
        self.recorder.record(self)
        self.datacollector.collect(self)
        if self.period >= self.horizon:
            self.running = False

    def _advance(self, new_status: np.ndarray) -> None:
        p, dt = self.p, self.dt
        old_eng = self.engagement
        diplomacy = self.spending[..., 2]  # (R, S, P) US$ bn/yr
        lift = p["diplomacy_engagement_gain"] * (diplomacy[:, :, None, :] * self.convenor[None, None]).sum(-1) \
            / self.gdp[..., None] * dt
        self.status = new_status
        self.engagement = update_engagement(old_eng, new_status, p["engagement_adjust_rate"], lift) * self.active[:, None, :]
        access = (self.engagement * self.channels[:, 0])[..., None] * self.membership[None, None]  # (R, S, F, P)
        old_access = (old_eng * self.channels[:, 0])[..., None] * self.membership[None, None]
        dep = p["investment"]["depreciation_per_year"]
        self.invest_added = update_stock(self.invest_added, self.spending[..., 0], dep, dt)
        self.security_added = update_stock(self.security_added, self.spending[..., 1], dep, dt)
        self.gdp = self.gdp * (1.0 + self.growth) ** dt
        trend = trend_growth(self.growth, self.partner_growth, p["trade"]["partner_growth_elasticity"],
                             p["trade"]["reference_growth_per_year"])
        self.turnover = update_trade(self.turnover, trend, dt, (access - old_access).sum(axis=2),
                                     p["trade"]["access_elasticity"], np.broadcast_to(self.sanctions, (self.R, self.P)),
                                     p["secondary_sanctions"], p["trade"]["sanctions_elasticity"],
                                     p["trade"]["noise_sd"], self.z_trade)
        self._refresh_leverage()

    def run(self) -> GreatGameModel:
        """Advance to the horizon and return self."""
        while self.running and self.period < self.horizon:
            self.step()
        return self


class Recorder:
    """Per-period arrays with a leading period axis: what the output tables are made from."""

    def __init__(self, model: GreatGameModel) -> None:
        T, R, P, S, F = model.horizon + 1, model.R, model.P, model.S, model.F
        C = len(INFLUENCE_CHANNELS)
        self.influence = np.full((T, R, S + 1, P, C + 1), np.nan)  # last state slot = REGION, last channel = total
        self.status = np.zeros((T, R, S, F), dtype=np.int8)
        self.active = np.zeros((T, R, F), dtype=bool)
        self.engagement = np.full((T, R, S, F), np.nan)
        self.turnover = np.full((T, R, S, P), np.nan)
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
        self.periods = t + 1

