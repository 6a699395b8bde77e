"""Declarative schema of a scenario file, and the one declaration of every parameter.

Every key a user may set is declared here once, with its type and allowed range. A number (`Num`) that is a
parameter of the model (the numeric keys under `parameters`, `influence`, `powers` and `formats`) also carries its
unit, a one-line meaning (`doc`), where its value comes from (`origin`: data, judgement or estimated) with the source
of the baseline's value (`source`), the bounds of the calibration's search where it is fitted (`fit`) and how its
uncertainty range is set where it is drawn (`spread`); a vector drawn whole from a file is declared once as a `Joint`
block (`BEHAVIOUR`). Derived from these declarations: the schema validation (`validate` via `check_value`), the
typed views (`model/params.py`), the fit's bounds (`experiments/fit/calibration.py`), the sampler's channel-weight
group and drawable keys (`model/uncertainty.py`) and the parameter table of docs/ODD.md section 6
(`model/declarations.py`, `greatgame params --odd`).

Defaults live in `scenarios/baseline.yaml`, not here: the scenario file is the user's file of values, the one
`calibrate` results are copied into and whose comments give each number's source; powers and formats have one value
per code, which no key-level declaration can hold. The declaration states that its default is the baseline's value
and says where that value comes from; tests/test_declarations.py checks the two together (every declared parameter
has a baseline value inside its bounds and fit bounds, the baseline's uncertainty ranges are the declared spreads,
and the ODD table, which shows the baseline's values, is the one the declarations generate).
"""

from __future__ import annotations

import difflib
import math
import sys
from dataclasses import dataclass
from typing import Any

from .axes import BENEFIT, DOCTRINE, INFLUENCE, INSTRUMENT, KIND, OBLIGATION
from .yamlio import ScenarioError

ORIGINS = ("data", "judgement", "estimated")  # where a parameter's value comes from
DATA, JUDGEMENT, ESTIMATED = ORIGINS


@dataclass(frozen=True)
class Fit:
    """Bounds [lo, hi] of the calibration's search for an estimated parameter; `stage`: the fit that moves it
    (`alignment`: the stand-in then simulation, ODD 9; `trade`: the 2017-2022 backcast, 2022 fit only)."""

    lo: float
    hi: float
    stage: str = "alignment"


@dataclass(frozen=True)
class Spread:
    """How a drawn parameter's uncertainty range is set around the scenario's value v: `relative` [v(1-s), v(1+s)],
    `absolute` [v-s, v+s], or `given` (a range per code, written in the scenario with its own source)."""

    kind: str
    size: float = 0.0
    source: str = ""

    def around(self, value: float) -> tuple[float, float] | None:
        """The range the rule gives around `value` (None for `given`)."""
        if self.kind == "relative":
            return value * (1 - self.size), value * (1 + self.size)
        if self.kind == "absolute":
            return value - self.size, value + self.size
        return None

    def describe(self) -> str:
        """Short text for the parameter table."""
        rule = {"relative": f"x(1 -+ {self.size:g})", "absolute": f"-+ {self.size:g}", "given": "given per code"}[self.kind]
        return f"{rule}: {self.source}" if self.source else rule


@dataclass(frozen=True)
class Num:
    """A real number in [lo, hi]. A model parameter also declares `unit`, `doc` (one line), `origin` (one of
    ORIGINS), `source` (of the baseline's value), and where they apply `fit` bounds, an uncertainty `spread`, or
    `undrawable` (why no range may be drawn for it); these feed the parameter table in docs/ODD.md section 6."""

    lo: float = -math.inf
    hi: float = math.inf
    unit: str = ""
    doc: str = ""
    integer: bool = False
    origin: str = ""
    source: str = ""
    fit: Fit | None = None
    spread: Spread | None = None
    undrawable: str = ""


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of strings (`options`)."""

    options: tuple[str, ...]
    doc: str = ""
    origin: str = ""
    source: str = ""


@dataclass(frozen=True)
class Text:
    """A free-text string."""

    doc: str = ""


@dataclass(frozen=True)
class Flag:
    """A boolean (true or false)."""

    doc: str = ""


@dataclass(frozen=True)
class Codes:
    """A list of actor or format codes, checked later against the scenario's own codes (`kind`)."""

    kind: str
    doc: str = ""
    allow_all: bool = False


@dataclass(frozen=True)
class Fields:
    """A mapping with fixed keys; `optional` keys may be left out. `stack`: the typed view holds the numeric
    leaves as one array (R, K) in key order instead of one attribute each (model/params.py)."""

    fields: dict[str, Any]
    optional: frozenset[str] = frozenset()
    doc: str = ""
    stack: bool = False


@dataclass(frozen=True)
class MapOf:
    """A mapping from free keys (actor or format codes) to values of one spec."""

    value: Any
    key_kind: str
    doc: str = ""


@dataclass(frozen=True)
class ListOf:
    """A list whose every element matches `item`."""

    item: Any
    doc: str = ""


@dataclass(frozen=True)
class Raw:
    """Any value, checked elsewhere (for sections with their own validator)."""

    doc: str = ""


@dataclass(frozen=True)
class Event:
    """One scheduled event; its fields depend on `type` (see EVENT_TYPES)."""

    doc: str = ""


@dataclass(frozen=True)
class Joint:
    """A block of parameters drawn whole, one row of a file per run (never as independent ranges): `keys` in the
    order of the file's columns, `file` the scenario key that names the file."""

    name: str
    keys: tuple[str, ...]
    file: str
    doc: str
    source: str


SHARE = dict(lo=0.0, hi=1.0, unit="share 0-1")
CHANNELS = BENEFIT
INFLUENCE_CHANNELS = INFLUENCE
KINDS = KIND
DOCTRINES = DOCTRINE
CALIBRATED = "calibrated (ODD 9)"
ARMS_STOCK_FIT = ("estimated from the SIPRI panel: `python -m greatgame.experiments.fit.arms_stock --upto 2022` "
                  "(a 2017 start: --upto 2017), bootstrap by state for the range (ODD 7.5)")
CHARTER = "coded from the format's charter (ODD 3.2)"
INSTRUMENT_SUM = "instrument shares must sum to 1: vary them as a lever, not a range"

POWER = Fields({
    "name": Text("display name"),
    "colour": Text("plot colour (any matplotlib colour); fixed for the power in every plot"),
    "budget_usd_bn_per_year": Num(0, 1e4, "US$ bn/year", "engagement budget: state-directed investment, aid, "
                                  "security assistance and diplomatic attention", origin=DATA,
                                  source="official finance committed to the five states, averaged (ODD 6.4)",
                                  spread=Spread("given", source="sources in scenarios/baseline.yaml")),
    "instrument_shares": Fields({k: Num(**SHARE, doc=f"share of the budget spent on {k}", origin=JUDGEMENT,
                                        source="sector split of the power's engagement (ODD 6.4)",
                                        undrawable=INSTRUMENT_SUM) for k in INSTRUMENT},
                                doc="split of the budget across instruments (accession = the fund for accession "
                                    "packages); must sum to 1"),
    "sanctions": Num(**SHARE, doc="sanctions pressure on the power at the start (0 none, 1 maximal)", origin=JUDGEMENT,
                     source="breadth of the sanctions regime in the start year (ODD 6.4)"),
    "template": Text("format code the power convenes when it acts on an influence gap (may be empty)"),
}, optional=frozenset({"template", "colour", "name"}))

STATE = Fields({
    "name": Text("display name"),
    "doctrine": Choice(DOCTRINES, "foreign-policy doctrine that raises the cost of alliances and unions"),
    "afghan_border": Flag("shares a border with Afghanistan (exposure to the regional security threat)"),
    "turkic": Flag("Turkic-speaking (eligibility for the OTS)"),
}, optional=frozenset({"name"}))

FORMAT = Fields({
    "name": Text("display name"),
    "kind": Choice(KINDS, "kind of format (display and documentation; behaviour comes from the numbers)",
                   origin=JUDGEMENT, source=CHARTER),
    "convenors": Codes("power", "powers that run the format"),
    "powers": Codes("power", "all member powers (convenors included)"),
    "depth": Num(**SHARE, doc="how binding membership is (0 talk shop, 1 treaty alliance / customs union)",
                 origin=JUDGEMENT, source=CHARTER, spread=Spread("absolute", 0.1, "J")),
    "eligible": Codes("state", "states that may join ('all' for every state)", allow_all=True),
    "eligible_turkic_only": Flag("only Turkic-speaking states may join (a charter rule, not a per-state constant)"),
    "club": Text("whom the format's regional cooperation is with: formats naming the same club offer the same "
                 "intra-regional cooperation and substitute for each other in the marginal benefit (ODD 4.2b); "
                 "default: the format's own code"),
    "active": Flag("the format exists at the start"),
    "channels": Fields({k: Num(**SHARE, doc=f"how much the format channels {k}", origin=JUDGEMENT, source=CHARTER)
                        for k in CHANNELS}),
    "obligations": Fields({k: Num(**SHARE, doc=f"binding {k.replace('_', ' ')} obligation of full membership "
                                                   "(from the charter)", origin=JUDGEMENT, source=CHARTER)
                           for k in OBLIGATION},
                          doc="binding obligations coded from the charter; sovereignty cost and doctrine act through them"),
    "costs": Fields({
        "friction": Num(**SHARE, doc="friction with powers outside the format", origin=JUDGEMENT, source=CHARTER),
        "sanctions_exposure": Num(**SHARE, doc="exposure to sanctions aimed at its member powers", origin=JUDGEMENT,
                                  source=CHARTER),
    }),
}, optional=frozenset({"name", "eligible_turkic_only", "club"}))

OBLIGATION_FITS = {"collective_defence": Fit(0.0, 4.0), "supranational": Fit(0.0, 4.0),
                   "binding_security": Fit(0.0, 2.0), "consultation": Fit(0.0, 0.5)}
RULE_WEIGHT = ("estimated on the dated record (`python3 run.py estimate`, PROTOCOL 4); the sign as the record gives "
               "it (model units: b / s, model/data/rule/bootstrap_2022.csv replicate -1)")
"""Source of the decision rule's estimated weights (issue 17). Their `fit` bounds bound only the stand-in
calibration's search (`greatgame calibrate`, ODD 9), which no longer sets the baseline."""


RULE_FIT = ("penalised ML on the dated record (`python3 run.py estimate`; docs/validation/PROTOCOL.md 4): "
            "exp(theta) of its kind.join / kind.exit rows (its summit_format is dialogue_platform)")
RULE_DRAW = ("estimated jointly with the rule's weights (PROTOCOL 4): draw the kind costs from the estimate's "
             "sampling distribution as run values, not as an independent range")


def _estimated(lo: float, hi: float, unit: str, doc: str, fit: Fit, source: str = CALIBRATED) -> Num:
    """A parameter with bounds `fit` for the stand-in calibration's search; `source` says where the baseline's
    value comes from."""
    return Num(lo, hi, unit, doc, origin=ESTIMATED, source=source, fit=fit)


def _rule(unit: str, doc: str, fit: Fit) -> Num:
    """A weight of the decision rule estimated on the record (either sign: lower bound -100), drawn with the
    estimate's bootstrap (`BEHAVIOUR`); `fit`: the stand-in calibration's search box only."""
    return Num(-100, 100, unit, doc, origin=ESTIMATED, source=RULE_WEIGHT, fit=fit)


def _judged(lo: float, hi: float, unit: str, doc: str, source: str, **more: Any) -> Num:
    """A parameter set by judgement (`source` says which)."""
    return Num(lo, hi, unit, doc, origin=JUDGEMENT, source=source, **more)


PARAMETERS = Fields({
    "rationality": _estimated(0, 1e3, "1/utility", "logit rationality lambda: 0 random choice, large = best reply",
                              Fit(2.0, 30.0), "the scale of the estimated rule (1): the estimation fixes it so the "
                              "weights are identified (PROTOCOL 4); logit lambda of McKelvey & Palfrey 1995"),
    "revision_rate": _judged(0, 1, "probability per step", "chance that a state reconsiders one format in a step",
                             "J: about once a year, the summit cycle"),
    "partial_benefit_share": _estimated(0, 1, "share 0-1", "share of a format's benefits that partial status brings",
                                        Fit(0.05, 0.8), "judgement, the value the estimation held fixed (the stand-in "
                                        "calibration's, ODD 9; PROTOCOL 4)"),
    "partial_cost_share": _estimated(0, 1, "share 0-1", "share of a format's costs that partial status brings",
                                     Fit(0.02, 0.8), "judgement, the value the estimation held fixed (the stand-in "
                                     "calibration's, ODD 9; PROTOCOL 4)"),
    "switching_cost_join": _estimated(0, 100, "utility per level x depth", "cost of moving one level up (not read "
                                      "when switching_cost_kind is set, as in the baseline)", Fit(0.0, 1.5),
                                      "the stand-in calibration's (ODD 9); not read by the baseline"),
    "switching_cost_exit": _estimated(0, 100, "utility per level x depth", "cost of moving one level down (not read "
                                      "when switching_cost_kind is set, as in the baseline)", Fit(0.0, 3.0),
                                      "the stand-in calibration's (ODD 9); not read by the baseline"),
    "switching_cost_kind": MapOf(Fields({
        d: Num(0, 1e5, "utility per level moved (rationality 1)", f"cost of moving one level {way} in a format of "
               "this kind, no depth factor; when the group is set it replaces switching_cost_join/exit x depth "
               "(ODD eq. 4.2d)", origin=ESTIMATED, source=RULE_FIT, undrawable=RULE_DRAW)
        for d, way in (("join", "up"), ("exit", "down"))}),
        "kind", "optional: switching costs by format kind and direction (the estimated rule's form, ODD eq. 4.2d; "
        "the baseline sets it); absent or null = switching_cost_join/exit x depth (the stand-in's form)"),
    "engagement_adjust_rate": _judged(0, 1, "share per step", "speed at which engagement moves to its status target",
                                      "J: half the gap closed each quarter"),
    "diplomacy_engagement_gain": _judged(0, 10, "engagement per (US$ bn/yr per US$ bn GDP)",
                                         "lift of engagement by the convenor's diplomatic spending", "J"),
    "weights": Fields({
        "trade": _rule("utility per unit trade/GDP", "weight of trade access", Fit(0.2, 8.0)),
        "investment": _estimated(0, 100, "utility per unit (FDI+debt)/GDP", "weight of investment", Fit(0.2, 8.0),
                                 "judgement, the value the estimation held fixed (PROTOCOL 9b: the panel has no "
                                 "investment by investor; ODD 9)"),
        "security": _rule("utility per unit threat", "weight of security guarantees", Fit(0.1, 5.0)),
        "energy_transport": _rule("utility per unit route share", "weight of energy and corridors", Fit(0.1, 5.0)),
        "migration": _rule("utility per unit remittances/GDP", "weight of labour-migration access", Fit(0.2, 8.0)),
        "regional": _rule("utility per unit", "weight of intra-regional cooperation not tied to a power",
                          Fit(0.0, 2.0)),
        "friction": _rule("utility per unit rival dependence", "weight of friction with rival powers", Fit(0.0, 3.0)),
        "sanctions": _judged(0, 100, "utility per unit exposure", "weight of sanctions exposure",
                             "J: the unit of the cost side"),
        "hedging": _rule("utility per unit excess influence share", "weight of over-dependence cost", Fit(0.0, 3.0)),
    }),
    "obligation_cost": Fields({k: _rule("utility per unit obligation", f"sovereignty cost of a {k} obligation",
                                        OBLIGATION_FITS[k]) for k in OBLIGATION}, stack=True),
    "doctrine_penalty": MapOf(Fields({k: _judged(0, 1000, "utility per unit obligation", f"extra sovereignty cost of "
                                                 f"a {k} obligation under the doctrine", "J: the doctrine's founding "
                                                 "text (1995 neutrality law, 2012 Concept); 10 = prohibitive against "
                                                 "benefits of order 1")
                                       for k in OBLIGATION}),
                              "doctrine", "extra sovereignty cost of each obligation by doctrine"),
    "routes": Fields({
        "customs_route_weight": _judged(0, 1, "share 0-1", "share of a customs union's trade and transport benefit "
                                        "that needs the transit states inside the union (ODD 4.2f)",
                                        "J: border controls lifted only at internal borders"),
    }),
    "threat_level": _judged(0, 1, "share 0-1", "Afghanistan-related security threat (0 calm, 1 acute crisis)",
                            "J: elevated, not acute, after August 2021"),
    "threat_spillover": _judged(0, 1, "share 0-1", "share of the threat felt by states without an Afghan border", "J"),
    "energy_price_index": Num(0.01, 100, "index, 2022 = 1", "energy price level; scales energy leverage", origin=DATA,
                              source="the index's base year: 2022 = 1"),
    "energy_routes": Fields({
        "gas_mtoe_per_bcm": Num(0.5, 1.2, "Mtoe per bcm", "energy content of pipeline gas on the export-route scale "
                                "(oil = 1 Mtoe per Mt; ODD 4.4e)", origin=DATA,
                                source="BP Statistical Review, approximate conversion factors (July 2021): 1 bcm "
                                "natural gas = 0.860 Mtoe", spread=Spread("given", source="scenarios/baseline.yaml")),
        "rail_mtoe_per_mt": _judged(0, 5, "Mtoe per Mt of rail freight", "weight of a tonne of rail freight capacity "
                                    "against a tonne of oil on the export-route scale (ODD 4.4e)",
                                    "J: tonne for tonne (a tonnage scale)",
                                    spread=Spread("given", source="scenarios/baseline.yaml")),
    }),
    "secondary_sanctions": _judged(0, 1, "share 0-1", "enforcement of secondary sanctions on trade with sanctioned "
                                   "powers", "J: weak enforcement in 2022"),
    "trade": Fields({
        "access_elasticity": _judged(0, 10, "log-turnover per unit engagement", "trade created by format access", "J"),
        "sanctions_elasticity": _judged(0, 10, "log-turnover per year per unit", "trade lost to secondary sanctions",
                                        "J"),
        "noise_sd": _judged(0, 1, "log-turnover per sqrt(year)", "random trade shocks", "J"),
        "partner_growth_elasticity": _estimated(0, 3, "elasticity", "weight of the partner's GDP growth in trade growth",
                                                Fit(0.0, 2.0, "trade"), "calibrated on 2017-2022 trade (2022 fit; "
                                                "ODD 9); 1.0, unit income elasticity of gravity, in the 2017 fit"),
        "reference_growth_per_year": _judged(-0.5, 0.5, "per year", "growth subtracted from trade trend (0: naive "
                                             "gravity)", "J: no multilateral normalisation (ODD 4.3c, 8)"),
    }),
    "migration": Fields({
        "host_income_elasticity": Num(0, 5, "elasticity", "response of remittances from a host to the host's nominal "
                                      "US$ GDP (every host; only Russia's series identifies it) (ODD eq. 4.4f)",
                                      origin=ESTIMATED, source="pooled panel regression, KGZ TJK UZB on Russia's US$ "
                                      "GDP, years <= data_year: `python -m greatgame.experiments.fit.remittances "
                                      "--upto 2022` (a 2017 start: --upto 2017)",
                                      spread=Spread("given", source="bootstrap-by-state 95% interval")),
        "access_gain": _judged(0, 5, "log remittances per unit migration-weighted engagement", "remittances gained "
                               "when a state's engagement in a host's labour-market formats rises (ODD eq. 4.4f)",
                               "J: the Kyrgyz 2015 EAEU accession (KGZ - TJK, 0.58 in logs) is the upper end",
                               spread=Spread("given", source="J")),
        "sanctions_income_loss": _judged(0, 1, "log host GDP per year per unit sanctions", "drag of sanctions above "
                                         "their start level on the host's US$ GDP (ODD eq. 4.4f)",
                                         "J: IMF 2015 Article IV on Russia (1-1.5% of GDP at once, up to 9% over the "
                                         "medium term, 2014 sanctions = 0.3)", spread=Spread("given", source="J")),
    }),
    "investment": Fields({
        "depreciation_per_year": _judged(0, 1, "share per year", "decay of the model-added investment stock", "J"),
        "gross_inflow_to_stock": _judged(0, 1, "ratio", "share of cumulative gross FDI inflows still held as a stock",
                                         "J: cumulative gross inflows (KAZ: US 62, EU 160 US$ bn) against stocks"),
    }),
    "security": Fields({
        "arms_depreciation_per_year": Num(0, 1, "share per year", "decay of the arms-delivery stock by supplier "
                                          "(perpetual inventory, ODD eq. 4.4c)", origin=ESTIMATED,
                                          source=ARMS_STOCK_FIT, spread=Spread("given", source=ARMS_STOCK_FIT)),
        "tiv_per_usd_bn": _judged(0, 1e4, "TIV mn per US$ bn", "SIPRI TIV a power's security spending delivers "
                                  "(ODD eq. 4.4c)", "J: global TIV 2017 / SIPRI's value of the 2017 arms trade "
                                  "(336), x half of security spending buying major arms (ODD 6)",
                                  spread=Spread("given", source="J: a tenth to all of security spending buys "
                                                "major arms")),
        "recent_years": _judged(1, 30, "years", "window of the recent SIPRI deliveries each supplier keeps up "
                                "during a run", "J: SIPRI's own five-year averages (persistence of the recent "
                                "flow)", integer=True),
    }),
    "powers": Fields({
        "allocation_rationality": _judged(0, 1e3, "1/value", "how sharply powers concentrate spending", "J"),
        "rival_response": _judged(0, 10, "weight", "how much a rival's influence draws a power's spending", "J"),
        "sanctions_capacity_loss": _judged(0, 1, "share 0-1", "share of budget lost at full sanctions", "J"),
        "convene_patience_steps": _judged(1, 1000, "steps", "consecutive steps losing ground before a power convenes",
                                          "J: a year", integer=True),
        "convene_probability": _judged(0, 1, "share 0-1", "chance per step of convening once patience has run out",
                                       "J: about once a year"),
        "loss_tolerance": _judged(0, 1, "share 0-1", "a power is losing ground below (1 - tolerance) x its reference "
                                  "influence", "J: a 2% fall from the recent peak is noticed"),
        "loss_memory_steps": _judged(0, 1000, "steps", "how far back the reference influence (recent peak) looks",
                                     "J: two years", integer=True),
        "package_cap_years": _judged(0, 100, "years", "largest accession fund, in years of the accession envelope",
                                     "J: 9 years of Russia's envelope = the US$1.2 bn Kyrgyz package"),
        "package_margin": _judged(0, 10, "share", "a package offers this much more than the state's utility gap", "J"),
    }),
}, optional=frozenset({"switching_cost_kind"}))

INFLUENCE = Fields({
    "channel_weights": Fields({k: _judged(0, 1, "share 0-1", f"weight of the {k} channel in total influence", "J",
                                          spread=Spread("relative", 0.4, "J"))
                               for k in INFLUENCE_CHANNELS}, doc="must sum to 1"),
    "autonomy": Fields({k: _judged(1e-6, 100, "leverage units", f"the state's own weight in the {k} channel", "J",
                                   spread=Spread("relative", 0.5, "J"))
                        for k in INFLUENCE_CHANNELS}),
    "institution_role": Fields({
        "convenor": _judged(0, 10, "weight", "weight of a convenor's engagement in the institutions channel", "J"),
        "member": _judged(0, 10, "weight", "weight of a member power's engagement in the institutions channel", "J",
                          spread=Spread("relative", 0.5, "J: a quarter to three quarters of the convenor")),
    }),
    "regional_weights": Choice(("gdp", "population", "equal"), "weights of states in regional influence",
                               origin=JUDGEMENT, source="the brief: GDP"),
})

RULE_KEYS = tuple(f"parameters.{k}" for k in (
    "weights.trade", "weights.security", "weights.energy_transport", "weights.migration", "weights.regional",
    "weights.friction", "weights.hedging", "obligation_cost.collective_defence", "obligation_cost.supranational",
    "obligation_cost.binding_security", "obligation_cost.consultation"))
"""The decision rule's estimated weights (experiments/fit/rule.py WEIGHTS), as scenario keys."""
BEHAVIOUR = Joint(
    "behaviour",
    keys=RULE_KEYS + tuple(f"parameters.switching_cost_kind.{k}.{d}" for k in KIND for d in ("join", "exit")),
    file="uncertainty.behaviour.file",
    doc="the decision rule estimated on the dated record, drawn whole: a run takes one replicate of the estimate's "
        "parametric bootstrap (ODD 5; PROTOCOL 4). The rationality (the scale, 1), the partial shares, the investment "
        "weight and the trade elasticity are not drawn",
    source="`python -m greatgame.experiments.fit.bootstrap --draws` writes scenarios/rule_draws_2022.csv from "
           "model/data/rule/bootstrap_2022.csv (replicates 0-199)")
JOINT = (BEHAVIOUR,)  # every block of parameters drawn whole
STANDIN_FIT = ("parameters.weights.trade", "parameters.weights.investment", "parameters.weights.security",
               "parameters.weights.energy_transport", "parameters.weights.migration", "parameters.weights.regional",
               "parameters.weights.friction", "parameters.weights.hedging",
               "parameters.obligation_cost.collective_defence", "parameters.obligation_cost.supranational",
               "parameters.obligation_cost.binding_security", "parameters.obligation_cost.consultation",
               "parameters.partial_benefit_share", "parameters.partial_cost_share", "parameters.switching_cost_join",
               "parameters.switching_cost_exit", "parameters.rationality", "parameters.trade.partner_growth_elasticity")
"""What the stand-in calibration (`greatgame calibrate`, ODD 9) fits, in the order of its vectors and of its
near-best files' columns (scenarios/calibrated_near_best.csv); each key declares its `fit` bounds."""

SCENARIO = Fields({
    "name": Text("scenario name (used in titles and file names)"),
    "description": Text("what the scenario represents"),
    "start": Text("first period, 'YYYYQn' or 'YYYY-MM'"),
    "steps": Num(1, 10000, "steps", "number of steps (the horizon that events must fall inside)", integer=True),
    "step_months": Num(1, 12, "months", "length of a step", integer=True),
    "data_year": Num(2017, 2022, "year", "year of the fundamentals read from greatgame.model/data (2017 or 2022)", integer=True),
    "initial_status": Choice(("data", "blank"), "statuses at step 0: the data year's pattern, or none everywhere"),
    "trade_basis": Choice(("state", "partner"), "whose statistics measure bilateral trade: each state's own "
                          "(state) or its partner's records (partner); the other side fills a missing row (ODD 7.2)"),
    "fundamentals": Choice(("projected", "held"), "GDP and trade trends: the forecasts published by the start year "
                           "(projected), or held at the start year's levels (held: the blank-slate check)"),
    "runs": Num(1, 10**7, "runs", "default number of runs", integer=True),
    "seed": Num(0, 2**63 - 1, "integer", "root seed", integer=True),
    "powers": MapOf(POWER, "power", "great powers (ISO alpha-3 or EU)"),
    "states": MapOf(STATE, "state", "Central Asian states (ISO alpha-3)"),
    "formats": MapOf(FORMAT, "format", "cooperation formats"),
    "parameters": PARAMETERS,
    "influence": INFLUENCE,
    "events": ListOf(Event(), "scheduled shocks"),
    "uncertainty": Raw("`fixed`, or what each run draws: `behaviour` (a CSV of joint vectors) and `ranges` "
                       "({key: {low, high, source}}), and `fixed` (keys never drawn); checked by model/uncertainty.py"),
}, optional=frozenset({"description", "events", "fundamentals", "uncertainty"}))

EVENT_TYPES: dict[str, dict[str, Any]] = {
    "sanctions": {"power": Codes("power"), "level": Num(**SHARE)},
    "budget": {"power": Codes("power"), "scale": Num(0, 100, "multiplier")},
    "threat": {"level": Num(**SHARE)},
    "secondary_sanctions": {"level": Num(**SHARE)},
    "energy_price": {"index": Num(0.01, 100, "index")},
    "corridor": {"power": Codes("power"), "states": Codes("state", allow_all=True),
                 "strength": Num(0, 10, "share of the state's export-route total"),
                 "capacity": Num(0, 1000, "bcm/yr (gas) or Mt/yr (oil, rail)"), "commodity": Choice(("gas", "oil", "rail"))},
    "trade_shock": {"power": Codes("power", allow_all=True), "scale": Num(0, 10, "multiplier")},
    "format_open": {"format": Codes("format")},
    "format_close": {"format": Codes("format")},
    "status": {"state": Codes("state"), "format": Codes("format"), "status": Choice(("none", "partial", "member"))},
    "parameter": {"key": Text(), "value": Num()},
    "doctrine": {"state": Codes("state"), "doctrine": Choice(DOCTRINE)},
}
EVENT_COMMON = {"at", "step", "type", "note"}
EVENT_OPTIONAL = {"corridor": frozenset({"strength", "capacity", "commodity"})}  # checked by `_check_corridor`


def did_you_mean(key: str, options: list[str]) -> str:
    """The tail of an 'unknown key' message: " (did you mean 'x'?)" for the closest option (difflib ratio >= 0.5),
    else " (valid keys: a, b, ...)"."""
    match = difflib.get_close_matches(key, options, n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else f" (valid keys: {', '.join(options)})"


def check_value(spec: Any, value: Any, path: str, file: str | None) -> Any:
    """Check one value against its spec; return it normalised (ints stay ints, codes as lists)."""
    if isinstance(spec, Num):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(file, path, f"must be a number, got {type(value).__name__} {value!r}")
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)) or abs(value) > sys.float_info.max:
            raise ScenarioError(file, path, f"must be a finite number, got {value if isinstance(value, float) else 'a '
                                f'{len(str(abs(value)))}-digit integer'}")
        if spec.integer and isinstance(value, float) and not value.is_integer():
            raise ScenarioError(file, path, f"must be a whole number, got {value}")
        if not spec.lo <= value <= spec.hi:
            raise ScenarioError(file, path, f"{value} is out of range [{spec.lo:g}, {spec.hi:g}]"
                                + (f" ({spec.unit})" if spec.unit else ""))
        return int(value) if spec.integer else float(value)
    if isinstance(spec, Choice):
        if value not in spec.options:
            raise ScenarioError(file, path, f"must be one of {', '.join(spec.options)}, got {value!r}")
        return value
    if isinstance(spec, Text):
        if not isinstance(value, str):
            raise ScenarioError(file, path, f"must be text, got {type(value).__name__}")
        return value
    if isinstance(spec, Flag):
        if not isinstance(value, bool):
            raise ScenarioError(file, path, f"must be true or false, got {value!r}")
        return value
    if isinstance(spec, Codes):
        if spec.allow_all and value == "all":
            return "all"
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ScenarioError(file, path, f"must be a list of {spec.kind} codes")
        return list(value)
    if isinstance(spec, Fields):
        if not isinstance(value, dict):
            raise ScenarioError(file, path, f"must be a mapping, got {type(value).__name__}")
        out = {}
        for key in value:
            if key not in spec.fields:
                raise ScenarioError(file, f"{path}.{key}" if path else str(key),
                                    "unknown key" + did_you_mean(str(key), list(spec.fields)))
        for key, sub in spec.fields.items():
            sub_path = f"{path}.{key}" if path else key
            if key not in value or (value[key] is None and key in spec.optional):  # null: unset an inherited key
                if key in spec.optional:
                    continue
                raise ScenarioError(file, sub_path, "missing key (extend scenarios/baseline.yaml to inherit it)")
            out[key] = check_value(sub, value[key], sub_path, file)
        return out
    if isinstance(spec, MapOf):
        if not isinstance(value, dict) or not value:
            raise ScenarioError(file, path, "must be a non-empty mapping of codes")
        return {str(k): check_value(spec.value, v, f"{path}.{k}", file) for k, v in value.items()}
    if isinstance(spec, ListOf):
        if value is None:
            return []
        if not isinstance(value, list):
            raise ScenarioError(file, path, "must be a list")
        return [check_value(spec.item, v, f"{path}[{i}]", file) for i, v in enumerate(value)]
    if isinstance(spec, Event):
        return check_event(value, path, file)
    if isinstance(spec, Raw):
        return value
    raise TypeError(spec)


def check_event(value: Any, path: str, file: str | None) -> dict:
    """Check one event's own fields; dates and codes are checked against the scenario afterwards."""
    if not isinstance(value, dict):
        raise ScenarioError(file, path, "an event must be a mapping with 'type' and 'at' or 'step'")
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise ScenarioError(file, f"{path}.type", f"unknown event type {kind!r}" + did_you_mean(str(kind), list(EVENT_TYPES)))
    spec = EVENT_TYPES[kind]
    out: dict[str, Any] = {"type": kind}
    for key in value:
        if key not in spec and key not in EVENT_COMMON:
            raise ScenarioError(file, f"{path}.{key}", f"unknown key for a '{kind}' event"
                                + did_you_mean(str(key), sorted(set(spec) | EVENT_COMMON)))
    if ("at" in value) == ("step" in value):
        raise ScenarioError(file, path, "give exactly one of 'at' (a date such as 2024-01 or 2024Q1) or 'step'")
    if "at" in value:
        out["at"] = str(value["at"])
    else:
        out["step"] = check_value(Num(0, 10**6, integer=True), value["step"], f"{path}.step", file)
    for key, sub in spec.items():
        if key not in value:
            if key in EVENT_OPTIONAL.get(kind, ()):
                continue
            raise ScenarioError(file, f"{path}.{key}", f"missing key for a '{kind}' event")
        out[key] = check_value(sub, value[key], f"{path}.{key}", file)
    if kind == "corridor":
        _check_corridor(out, path, file)
    if "note" in value:
        out["note"] = str(value["note"])
    return out


def _check_corridor(ev: dict, path: str, file: str | None) -> None:
    """A corridor event gives exactly one of `strength` (new capacity as a share of each state's current export-route
    total) or `capacity` with its `commodity` (new capacity in bcm/yr of gas or Mt/yr of oil or rail; ODD 4.5)."""
    if ("strength" in ev) == ("capacity" in ev):
        raise ScenarioError(file, path, "a 'corridor' event gives exactly one of 'strength' (a share of the state's "
                            "export-route total) or 'capacity' (with 'commodity')")
    if ("capacity" in ev) != ("commodity" in ev):
        key = "commodity" if "capacity" in ev else "capacity"
        raise ScenarioError(file, f"{path}.{key}", f"missing key for a 'corridor' event with "
                            f"'{'capacity' if key == 'commodity' else 'commodity'}'")


def spec_at(path: str, spec: Any = SCENARIO) -> Any:
    """The spec of a dotted key path (codes of powers, states and formats match any key), or None."""
    for part in str(path).split("."):
        if isinstance(spec, Fields):
            spec = spec.fields.get(part)
        elif isinstance(spec, MapOf):
            spec = spec.value
        else:
            return None
        if spec is None:
            return None
    return spec


def iter_specs(spec: Any = SCENARIO, path: str = "") -> list[tuple[str, Any]]:
    """(key path, spec) of every leaf, for documentation; a free key of a `MapOf` shows as `<kind>`."""
    out: list[tuple[str, Any]] = []
    if isinstance(spec, Fields):
        for key, sub in spec.fields.items():
            out += iter_specs(sub, f"{path}.{key}" if path else key)
    elif isinstance(spec, MapOf):
        out += iter_specs(spec.value, f"{path}.<{spec.key_kind}>")
    else:
        out.append((path, spec))
    return out


PARAMETER_SECTIONS = ("parameters", "influence", "powers", "formats")  # the sections whose numbers are parameters


def parameter_specs() -> list[tuple[str, Num | Choice]]:
    """(key pattern, declaration) of every parameter: the numeric and choice leaves of PARAMETER_SECTIONS, in
    schema order (`powers.<power>.sanctions` stands for every power's key)."""
    return [(path, spec) for section in PARAMETER_SECTIONS for path, spec in iter_specs(SCENARIO.fields[section], section)
            if isinstance(spec, (Num, Choice))]


def fit_parameters(stage: str) -> tuple[tuple[str, float, float], ...]:
    """(key, lower, upper) of every parameter the stand-in calibration's fit `stage` moves, in `STANDIN_FIT` order
    (the order of the fit's vectors and of the near-best file's columns)."""
    out = []
    for key in STANDIN_FIT:
        fit = spec_at(key).fit
        if fit is not None and fit.stage == stage:
            out.append((key, fit.lo, fit.hi))
    return tuple(out)


def group_keys(path: str) -> tuple[str, ...]:
    """The key paths of the numeric members of the mapping at `path` (e.g. a group of shares), in schema order."""
    spec = spec_at(path)
    if not isinstance(spec, Fields):
        raise KeyError(path)
    return tuple(f"{path}.{k}" for k, sub in spec.fields.items() if isinstance(sub, Num))
