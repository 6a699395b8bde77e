"""Where the model's arrays live (docs/ODD.md section 2): four containers, by who sets them and when.

- `Structure`: what the scenario and the data fix for all runs; set at construction
  (`GreatGameModel._setup_structure`) and read-only afterwards.
- `StateVariables`: the evolving state; set by `_setup_state`, moved by the step (the agents, `_pay_packages`,
  `_advance`, `update_influence`) and by events (model/events.py); checked for non-finite values after every step
  (`core.CHECKED`) and recorded every period (`core.Recorder`).
- `Derived`: per-run quantities computed from the parameters, the structure and the inputs events set (doctrine,
  which formats are active); recomputed by `GreatGameModel.derive` at construction and after every event, and
  `allowed_levels` also whenever a format opens or closes (`open_format`, `close_format`).
- `StepValues`: what one step computes from the state at its start and uses within it (perception, budgets, draws,
  choice probabilities, the next statuses); overwritten every step.

A model holds one of each (`model.structure`, `model.state`, `model.derived`, `model.now`); the parameters are its
typed views `model.p`, `model.fmt`, `model.pw`, `model.infl` (model/params.py), re-read by `derive`.

Axes: R runs, S states, P powers, F formats, Q = P + 1 actors (the powers, then the region), C influence channels
(`axes.INFLUENCE`), I instruments (`axes.INSTRUMENT`), K benefit pairs (an actor and a benefit channel), G customs
unions, L transit paths of a (state, power) pair (`model/data/routes.csv`), and the 3 status levels (`axes.Level`).
An array that may differ between runs has the run axis R first; one without it is the same in every run. Amounts
are US$ bn (stocks) or US$ bn/year (flows); shares and levels lie in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fundamentals import Fundamentals
from .migration import RemittanceStart


@dataclass(eq=False, slots=True)
class Structure:
    """Fixed at construction for all runs: membership, eligibility, the candidate benefit pairs, routes, data."""

    members: np.ndarray  # (F, P) float 0/1: power p is a member of format f
    convenor: np.ndarray  # (F, P) float 0/1: power p convenes format f
    members_q: np.ndarray  # (F, Q) float 0/1: `members` and the region column (1: every format)
    solo_convenor: np.ndarray  # (F, P) bool: p is f's only convenor (what counts as p's reach when convening)
    clubs: np.ndarray  # (F,) int: the first format of f's club (whom its regional cooperation is with)
    pair_actor: np.ndarray  # (K0,) int: actor q of every candidate benefit pair (`choice.benefit_pairs`)
    pair_channel: np.ndarray  # (K0,) int: benefit channel b of every candidate pair
    pair_club: np.ndarray  # (K0,) int: club of a `regional` pair, -1 otherwise
    n_routed: int  # the first n_routed candidate pairs are the powers' trade and energy/transport pairs
    allowed: np.ndarray  # (S, F, 3) bool: levels state s is eligible for in format f (`none` always)
    afghan_border: np.ndarray  # (S,) bool: the state borders Afghanistan
    template: np.ndarray  # (P,) int: the format power p may convene, -1 none
    path_transit: np.ndarray  # (S, P, L, S) bool: path k of (s, p)'s trade crosses state t (`routes.csv`)
    path_share: np.ndarray  # (S, P, L): share of (s, p)'s trade on path k (the rest needs no transit)
    gdp0: np.ndarray  # (S,) GDP at the start, US$ bn (investment stock is held at its share of GDP)
    fundamentals: Fundamentals  # data by state and power (model/fundamentals.py)
    remittances0: RemittanceStart  # remittances by host at the start, US$ mn/yr (S, P), and their rows (ODD 7.3)
    colours: dict[str, str | None]  # display colour of each power


@dataclass(eq=False, slots=True)
class StateVariables:
    """The evolving state: what a period starts from and what is recorded (after the comment: who moves it)."""

    active: np.ndarray  # (R, F) bool; open_format (events, PowerAgent.convene), close_format (events)
    status: np.ndarray  # (R, S, F) int64 level 0/1/2 (`axes.Level`); _advance (from StateAgent's draws), events
    engagement: np.ndarray  # (R, S, F) in [0, 1]; _advance (ODD eq. 4.3a), close_format
    gdp: np.ndarray  # (R, S) US$ bn; _advance
    turnover: np.ndarray  # (R, S, P) goods trade, US$ bn/year; _advance (ODD eq. 4.3c), trade_shock events
    invest_added: np.ndarray  # (R, S, P) model-added investment stock, US$ bn; _advance, _pay_packages
    arms_stock: np.ndarray  # (R, S, P + 1) arms-delivery stock by supplier (powers, then others), TIV mn; _advance
    export_routes: np.ndarray  # (R, S, P + 1) exports each power (then others) carries, Mtoe/yr; corridor events
    spending: np.ndarray  # (R, S, P, I) US$ bn/year by instrument; PowerAgent.spend
    sanctions: np.ndarray  # (R, P) sanctions level in [0, 1]; sanctions events
    host_income: np.ndarray  # (R, P) host's nominal US$ GDP / its start value (ODD eq. 4.4f); _advance
    remittances: np.ndarray  # (R, S, P) remittances from each host, US$ mn/yr (ODD eq. 4.4f); _advance
    engagement0: np.ndarray  # (R, S, F) engagement at the start, before any event (migration access base); fixed
    budget_scale: np.ndarray  # (R, P) multiplier of the budget; budget events
    fund: np.ndarray  # (R, P) accession fund, US$ bn; PowerAgent.spend, _pay_packages
    offers: np.ndarray  # (R, P, S, F) accession packages on the table, US$ bn; PowerAgent.bid, _pay_packages
    steps_short: np.ndarray  # (R, P) int consecutive steps short of the reference point; PowerAgent.convene
    doctrine: np.ndarray  # (S,) int doctrine (`axes.DOCTRINE`), the same in every run; doctrine events
    influence_channels: np.ndarray  # (R, S, P, C) influence by channel (ODD eq. 4.4g); update_influence
    influence_total: np.ndarray  # (R, S, P) total influence (ODD eq. 4.4h); update_influence
    state_weight: np.ndarray  # (R, S) weights of the states in regional influence (ODD eq. 4.4i); update_influence
    regional_channels: np.ndarray  # (R, P, C) regional influence by channel; update_influence
    regional_total: np.ndarray  # (R, P) regional total influence; update_influence


@dataclass(eq=False, slots=True)
class Derived:
    """Per-run quantities derived from the parameters, the structure and the event-set inputs (`derive`)."""

    pair_actor: np.ndarray  # (K,) int: the candidate pairs (`Structure`) that some format reaches in some run
    pair_channel: np.ndarray  # (K,) int
    pair_club: np.ndarray  # (K,) int
    n_routed: int  # the first n_routed pairs are routed (trade, energy/transport of a power)
    reach: np.ndarray  # (R, 1, K, F): c_fb [q in f] of each pair in each format (ODD eq. 4.2b)
    customs_unions: np.ndarray  # (G,) int: formats with supranational obligations in some run (routes act there)
    sovereignty: np.ndarray  # (R, S, F) sovereignty and doctrine cost of full membership (ODD eq. 4.2c)
    bloc: np.ndarray  # (R, S, F) doctrine penalty of any participation (ODD eq. 4.2d)
    threat: np.ndarray  # (R, S) threat each state faces (ODD eq. 4.2b)
    switching: np.ndarray  # (R, F, 3, 3) cost of moving from level a to level b (ODD eq. 4.2d)
    role: np.ndarray  # (R, F, P) institutional role of each power in each format (ODD eq. 4.4d)
    invest_base: np.ndarray  # (R, S, P) data investment stock at the start, US$ bn
    arms_flow: np.ndarray  # (R, S, P + 1) recent mean SIPRI deliveries each supplier keeps up, TIV mn/year (4.4c)
    trend: np.ndarray  # (R, S, P) trend growth of log turnover per year (ODD eq. 4.3c); 0 when fundamentals held
    gdp_growth: np.ndarray  # (S,) GDP growth per year; 0 when fundamentals held
    host_growth: np.ndarray  # (P,) the powers' nominal US$ GDP growth per year (ODD eq. 4.4f); 0 when held
    allowed_levels: np.ndarray  # (R, S, F, 3) bool: levels a state may take: eligible, only `none` where inactive


@dataclass(eq=False, slots=True)
class StepValues:
    """What one step computes and uses (after the comment: who writes it); overwritten every step."""

    budget: np.ndarray  # (R, P) effective budget, US$ bn/year (ODD eq. 4.1a); step
    benefit: np.ndarray  # (R, S, F) benefit of full membership (ODD eq. 4.2b); perceive
    cost: np.ndarray  # (R, S, F) cost of full membership (ODD eq. 4.2c); perceive
    cumulative: np.ndarray  # (R, S, F, 2) logit P(none), P(none or partial) with the packages (4.2e); choice_inputs
    next_status: np.ndarray  # (R, S, F) int the statuses drawn this step; StateAgent.step
    u_revise: np.ndarray  # (R, S, F) uniforms: whether a state reconsiders a format; _draw
    u_pick: np.ndarray  # (R, S, F) uniforms: which level it picks; _draw
    u_convene: np.ndarray  # (R, P) uniforms: whether a power convenes; _draw
    z_trade: np.ndarray  # (R, S, P) standard normals: trade noise; _draw
    offered: np.ndarray  # (R, P, S) each power's packages on the table, summed over formats; step, PowerAgent.bid
    influence_sum: np.ndarray  # (R, S) sum over powers of influence at the start of the step; step

    @classmethod
    def before_first_step(cls, state: StateVariables, budget: np.ndarray) -> StepValues:
        """The values before any step: the start's budget and statuses; NaN for what only a step computes."""
        R, S, F = state.status.shape
        P = state.fund.shape[1]
        nan = np.full((R, S, F), np.nan)
        return cls(budget, nan, nan.copy(), np.full((R, S, F, 2), np.nan), state.status.copy(), nan.copy(),
                   nan.copy(), np.full((R, P), np.nan), np.full((R, S, P), np.nan), state.offers.sum(axis=-1),
                   state.influence_total.sum(axis=-1))
