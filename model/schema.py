"""Declarative schema of a scenario file: every key a user may set, with its type, range and unit.

The numbers themselves (defaults, with sources) live in `scenarios/baseline.yaml`; this module only says what is
allowed. `validate` walks a resolved mapping and raises `ScenarioError` with the key path of the first problem.
"""

from __future__ import annotations

import difflib
import math
import sys
from dataclasses import dataclass
from typing import Any

from .axes import BENEFIT, DOCTRINE, INFLUENCE, INSTRUMENT, KIND, OBLIGATION
from .yamlio import ScenarioError


@dataclass(frozen=True)
class Num:
    """A real number in [lo, hi]; `unit` and `doc` feed the parameter table in docs/ODD.md."""

    lo: float = -math.inf
    hi: float = math.inf
    unit: str = ""
    doc: str = ""
    integer: bool = False


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]
    doc: str = ""


@dataclass(frozen=True)
class Text:
    doc: str = ""


@dataclass(frozen=True)
class Flag:
    doc: str = ""


@dataclass(frozen=True)
class Codes:
    """A list of actor or format codes, checked later against the scenario's own codes (`kind`)."""

    kind: str
    doc: str = ""
    allow_all: bool = False


@dataclass(frozen=True)
class Fields:
    """A mapping with fixed keys; `optional` keys may be left out."""

    fields: dict[str, Any]
    optional: frozenset[str] = frozenset()
    doc: str = ""


@dataclass(frozen=True)
class MapOf:
    """A mapping from free keys (actor or format codes) to values of one spec."""

    value: Any
    key_kind: str
    doc: str = ""


@dataclass(frozen=True)
class ListOf:
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


SHARE = dict(lo=0.0, hi=1.0, unit="share 0-1")
CHANNELS = BENEFIT
INFLUENCE_CHANNELS = INFLUENCE
KINDS = KIND
DOCTRINES = DOCTRINE

POWER = Fields({
    "name": Text("display name"),
    "colour": Text("plot colour (any matplotlib colour); fixed for the power in every plot"),
    "budget_usd_bn_per_year": Num(0, 1e4, "US$ bn/year", "engagement budget: state-directed investment, aid, "
                                  "security assistance and diplomatic attention"),
    "instrument_shares": Fields({k: Num(**SHARE, doc=f"share of the budget spent on {k}") for k in INSTRUMENT},
                                doc="split of the budget across instruments (accession = the fund for accession "
                                    "packages); must sum to 1"),
    "sanctions": Num(**SHARE, doc="sanctions pressure on the power at the start (0 none, 1 maximal)"),
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
    "kind": Choice(KINDS, "kind of format"),
    "convenors": Codes("power", "powers that run the format"),
    "powers": Codes("power", "all member powers (convenors included)"),
    "depth": Num(**SHARE, doc="how binding membership is (0 talk shop, 1 treaty alliance / customs union)"),
    "eligible": Codes("state", "states that may join ('all' for every state)", allow_all=True),
    "eligible_turkic_only": Flag("only Turkic-speaking states may join (a charter rule, not a per-state constant)"),
    "club": Text("whom the format's regional cooperation is with: formats naming the same club offer the same "
                 "intra-regional cooperation and substitute for each other in the marginal benefit (ODD 4.2b); "
                 "default: the format's own code"),
    "active": Flag("the format exists at the start"),
    "channels": Fields({k: Num(**SHARE, doc=f"how much the format channels {k}") for k in CHANNELS}),
    "obligations": Fields({k: Num(**SHARE, doc=f"binding {k.replace('_', ' ')} obligation of full membership "
                                                   "(from the charter)") for k in OBLIGATION},
                          doc="binding obligations coded from the charter; sovereignty cost and doctrine act through them"),
    "costs": Fields({
        "friction": Num(**SHARE, doc="friction with powers outside the format"),
        "sanctions_exposure": Num(**SHARE, doc="exposure to sanctions aimed at its member powers"),
    }),
}, optional=frozenset({"name", "eligible_turkic_only", "club"}))

PARAMETERS = Fields({
    "rationality": Num(0, 1e3, "1/utility", "logit rationality lambda: 0 random choice, large = best reply"),
    "revision_rate": Num(0, 1, "probability per step", "chance that a state reconsiders one format in a step"),
    "partial_benefit_share": Num(**SHARE, doc="share of a format's benefits that partial status brings"),
    "partial_cost_share": Num(**SHARE, doc="share of a format's costs that partial status brings"),
    "switching_cost_join": Num(0, 100, "utility per level x depth", "cost of moving one level up"),
    "switching_cost_exit": Num(0, 100, "utility per level x depth", "cost of moving one level down"),
    "engagement_adjust_rate": Num(0, 1, "share per step", "speed at which engagement moves to its status target"),
    "diplomacy_engagement_gain": Num(0, 10, "engagement per (US$ bn/yr per US$ bn GDP)",
                                     "lift of engagement by the convenor's diplomatic spending"),
    "weights": Fields({
        "trade": Num(0, 100, "utility per unit trade/GDP", "weight of trade access"),
        "investment": Num(0, 100, "utility per unit (FDI+debt)/GDP", "weight of investment"),
        "security": Num(0, 100, "utility per unit threat", "weight of security guarantees"),
        "energy_transport": Num(0, 100, "utility per unit route share", "weight of energy and corridors"),
        "migration": Num(0, 100, "utility per unit remittances/GDP", "weight of labour-migration access"),
        "regional": Num(0, 100, "utility per unit", "weight of intra-regional cooperation not tied to a power"),
        "friction": Num(0, 100, "utility per unit rival dependence", "weight of friction with rival powers"),
        "sanctions": Num(0, 100, "utility per unit exposure", "weight of sanctions exposure"),
        "hedging": Num(0, 100, "utility per unit excess influence share", "weight of over-dependence cost"),
    }),
    "obligation_cost": Fields({k: Num(0, 100, "utility per unit obligation", f"sovereignty cost of a {k} obligation")
                               for k in OBLIGATION}),
    "doctrine_penalty": MapOf(Fields({k: Num(0, 1000, "utility per unit obligation") for k in OBLIGATION}),
                              "doctrine", "extra sovereignty cost of each obligation by doctrine"),
    "routes": Fields({
        "customs_route_weight": Num(**SHARE, doc="share of a customs union's trade and transport benefit that needs "
                                                 "the transit states inside the union (ODD 4.2f)"),
    }),
    "threat_level": Num(**SHARE, doc="Afghanistan-related security threat (0 calm, 1 acute crisis)"),
    "threat_spillover": Num(**SHARE, doc="share of the threat felt by states without an Afghan border"),
    "energy_price_index": Num(0.01, 100, "index, 2022 = 1", "energy price level; scales energy leverage"),
    "secondary_sanctions": Num(**SHARE, doc="enforcement of secondary sanctions on trade with sanctioned powers"),
    "trade": Fields({
        "access_elasticity": Num(0, 10, "log-turnover per unit engagement", "trade created by format access"),
        "sanctions_elasticity": Num(0, 10, "log-turnover per year per unit", "trade lost to secondary sanctions"),
        "noise_sd": Num(0, 1, "log-turnover per sqrt(year)", "random trade shocks"),
        "partner_growth_elasticity": Num(0, 3, "elasticity", "weight of the partner's GDP growth in trade growth"),
        "reference_growth_per_year": Num(-0.5, 0.5, "per year", "growth subtracted from trade trend (0: naive gravity)"),
    }),
    "investment": Fields({
        "depreciation_per_year": Num(0, 1, "share per year", "decay of the investment and security stocks"),
        "gross_inflow_to_stock": Num(0, 1, "ratio", "share of cumulative gross FDI inflows still held as a stock"),
    }),
    "powers": Fields({
        "allocation_rationality": Num(0, 1e3, "1/value", "how sharply powers concentrate spending"),
        "rival_response": Num(0, 10, "weight", "how much a rival's influence draws a power's spending"),
        "sanctions_capacity_loss": Num(**SHARE, doc="share of budget lost at full sanctions"),
        "convene_patience_steps": Num(1, 1000, "steps", "consecutive steps losing ground before a power convenes",
                                      integer=True),
        "convene_probability": Num(**SHARE, doc="chance per step of convening once patience has run out"),
        "loss_tolerance": Num(**SHARE, doc="a power is losing ground below (1 - tolerance) x its reference influence"),
        "loss_memory_steps": Num(0, 1000, "steps", "how far back the reference influence (recent peak) looks",
                                 integer=True),
        "package_cap_years": Num(0, 100, "years", "largest accession fund, in years of the accession envelope"),
        "package_margin": Num(0, 10, "share", "a package offers this much more than the state's utility gap"),
    }),
})

INFLUENCE = Fields({
    "channel_weights": Fields({k: Num(**SHARE, doc=f"weight of the {k} channel in total influence")
                               for k in INFLUENCE_CHANNELS}, doc="must sum to 1"),
    "autonomy": Fields({k: Num(1e-6, 100, "leverage units", f"the state's own weight in the {k} channel")
                        for k in INFLUENCE_CHANNELS}),
    "institution_role": Fields({"convenor": Num(0, 10, "weight"), "member": Num(0, 10, "weight")}),
    "regional_weights": Choice(("gdp", "population", "equal"), "weights of states in regional influence"),
})

SCENARIO = Fields({
    "name": Text("scenario name (used in titles and file names)"),
    "description": Text("what the scenario represents"),
    "start": Text("first period, 'YYYYQn' or 'YYYY-MM'"),
    "steps": Num(1, 10000, "steps", "number of steps (the horizon that events must fall inside)", integer=True),
    "step_months": Num(1, 12, "months", "length of a step", integer=True),
    "data_year": Num(2017, 2022, "year", "year of the fundamentals read from greatgame.model/data (2017 or 2022)", integer=True),
    "initial_status": Choice(("data", "blank"), "statuses at step 0: the data year's pattern, or none everywhere"),
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
    "corridor": {"power": Codes("power"), "states": Codes("state", allow_all=True), "strength": Num(0, 1)},
    "trade_shock": {"power": Codes("power", allow_all=True), "scale": Num(0, 10, "multiplier")},
    "format_open": {"format": Codes("format")},
    "format_close": {"format": Codes("format")},
    "status": {"state": Codes("state"), "format": Codes("format"), "status": Choice(("none", "partial", "member"))},
    "parameter": {"key": Text(), "value": Num()},
    "doctrine": {"state": Codes("state"), "doctrine": Choice(DOCTRINE)},
}
EVENT_COMMON = {"at", "step", "type", "note"}


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
            if key not in value:
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
            raise ScenarioError(file, f"{path}.{key}", f"missing key for a '{kind}' event")
        out[key] = check_value(sub, value[key], f"{path}.{key}", file)
    if "note" in value:
        out["note"] = str(value["note"])
    return out


def spec_at(path: str, spec: Any = SCENARIO) -> Any:
    """The spec of a dotted key path (codes of powers, states and formats match any key), or None."""
    for part in path.split("."):
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
    """(key path, spec) of every leaf, for documentation."""
    out: list[tuple[str, Any]] = []
    if isinstance(spec, Fields):
        for key, sub in spec.fields.items():
            out += iter_specs(sub, f"{path}.{key}" if path else key)
    elif isinstance(spec, MapOf):
        out += iter_specs(spec.value, f"{path}.<{spec.key_kind}>")
    else:
        out.append((path, spec))
    return out

