"""Scenario: a validated, typed description of one simulation, built once from YAML (or a dict)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from . import keypaths
from .axes import DOCTRINE, KIND
from .fundamentals import KNOWN_POWERS, KNOWN_STATES
from .powerset import remove_powers
from .schema import EVENT_TYPES, SCENARIO, Codes, check_value, did_you_mean
from .uncertainty import Uncertainty, fixed_in_file, parse_uncertainty
from .yamlio import ScenarioError, deep_merge, resolve_extends

_QUARTER = re.compile(r"^(\d{4})[-\s]?Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-01)?$")


def parse_period(text: str) -> tuple[int, int]:
    """'2022Q4' -> (2022, 10); '2024-01' -> (2024, 1). Raises ValueError."""
    text = str(text).strip()
    if m := _QUARTER.match(text):
        return int(m[1]), 3 * (int(m[2]) - 1) + 1
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12:
        return int(m[1]), int(m[2])
    raise ValueError(f"'{text}' is not a date: use YYYY-MM (2024-01) or YYYYQn (2024Q1)")


@dataclass(frozen=True)
class Scenario:
    """Resolved scenario. `raw` is the validated mapping (what `run.py check` prints); the rest is derived."""

    raw: dict
    source: str
    name: str
    start: tuple[int, int]
    steps: int
    step_months: int
    powers: tuple[str, ...]
    states: tuple[str, ...]
    formats: tuple[str, ...]
    events: tuple[dict, ...] = field(default=())
    uncertainty: Uncertainty | None = None  # what each run draws (model/uncertainty.py); None: fixed values
    fixed_keys: frozenset[str] = frozenset()  # keys given explicitly (--set, design values, uncertainty.fixed): never drawn

    def date_of(self, step: int) -> date:
        """Start date of the period that begins at `step`."""
        months = self.start[1] - 1 + step * self.step_months
        return date(self.start[0] + months // 12, months % 12 + 1, 1)

    def step_of(self, year: int, month: int) -> int:
        """First step whose period contains or follows year-month (events fire at the start of that step)."""
        months = (year - self.start[0]) * 12 + (month - self.start[1])
        return -(-months // self.step_months)

    @property
    def p(self) -> dict:
        """The scenario's `parameters` mapping."""
        return self.raw["parameters"]

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A new scenario with dotted-key overrides, e.g. {'parameters.rationality': 2.0}, validated again. The keys
        given are fixed: a run never draws them from the `uncertainty` section."""
        data = copy.deepcopy(self.raw)
        for dotted, value in overrides.items():
            try:
                keypaths.put(data, str(dotted), value, create=False, new=str(dotted) in SCENARIO.optional)
            except keypaths.KeyPathError as exc:
                raise ScenarioError(self.source, dotted if exc.part else str(dotted) or "<empty key>", exc.reason) from None
        fixed_keys = self.fixed_keys | frozenset(overrides)
        return replace(build_scenario(data, self.source, fixed_keys), fixed_keys=fixed_keys)


def load_scenario(source: str | Path | dict, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario from a YAML path or a mapping (a mapping may `extends` a path)."""
    if isinstance(source, dict):
        data = copy.deepcopy(source)
        parent = data.pop("extends", None)
        if parent:
            base = resolve_extends(parent)
            if "powers_remove" in data:
                base = remove_powers(base, data.pop("powers_remove"), "<dict>")
            added = data.pop("events_add", None)
            data = deep_merge(base, data)
            if added:
                data["events"] = list(data.get("events") or []) + list(added)
        name = "<dict>"
    else:
        data, name = resolve_extends(source), str(source)
    sc = build_scenario(data, name)
    return sc.with_overrides(overrides) if overrides else sc


def build_scenario(data: dict, file: str, fixed_keys: frozenset[str] = frozenset(),
                   known_states: tuple[str, ...] = KNOWN_STATES) -> Scenario:
    """Validate a resolved mapping (schema, codes, sums, event dates) and build the Scenario. `known_states`: the
    state codes allowed; a user's scenario always gets the default (the five whose data the model ships); only the
    estimation of the choice rule passes the panel's states (experiments/fit/rule.py), with its own data inputs."""
    for key, known in (("powers", KNOWN_POWERS), ("states", known_states)):
        codes_given = data.get(key) if isinstance(data.get(key), dict) else {}
        for code in codes_given:
            if code not in known:
                raise ScenarioError(file, f"{key}.{code}", f"unknown {key[:-1]} code; the data cover {', '.join(known)}")
    raw = check_value(SCENARIO, data, "", file)
    powers, states, formats = tuple(raw["powers"]), tuple(raw["states"]), tuple(raw["formats"])
    for code in powers:
        if code not in KNOWN_POWERS:
            raise ScenarioError(file, f"powers.{code}", f"unknown power code; the data cover {', '.join(KNOWN_POWERS)}")
    for code in states:
        if code not in known_states:
            raise ScenarioError(file, f"states.{code}", f"unknown state code; the data cover {', '.join(known_states)}")
    if raw["data_year"] not in (2017, 2022):
        raise ScenarioError(file, "data_year", "the data cover 2017 and 2022 only")
    kinds = {"power": powers, "state": states, "format": formats}

    def codes(value: Any, kind: str, path: str) -> None:
        if value == "all":
            return
        for c in value:
            if c not in kinds[kind]:
                raise ScenarioError(file, path, f"unknown {kind} code '{c}' (this scenario has {', '.join(kinds[kind])})")

    for code, pw in raw["powers"].items():
        shares = pw["instrument_shares"]
        if abs(sum(shares.values()) - 1) > 1e-6:
            raise ScenarioError(file, f"powers.{code}.instrument_shares", f"shares must sum to 1, got {sum(shares.values()):g}")
        if pw.get("template") and pw["template"] not in formats:
            raise ScenarioError(file, f"powers.{code}.template", f"unknown format code '{pw['template']}'")
    for code, fm in raw["formats"].items():
        codes(fm["convenors"], "power", f"formats.{code}.convenors")
        codes(fm["powers"], "power", f"formats.{code}.powers")
        codes(fm["eligible"], "state", f"formats.{code}.eligible")
        if not set(fm["convenors"]) <= set(fm["powers"]):
            raise ScenarioError(file, f"formats.{code}.convenors", "every convenor must also be listed in powers")
    cw = raw["influence"]["channel_weights"]
    if abs(sum(cw.values()) - 1) > 1e-6:
        raise ScenarioError(file, "influence.channel_weights", f"weights must sum to 1, got {sum(cw.values()):g}")
    for doctrine in raw["parameters"]["doctrine_penalty"]:
        if doctrine not in DOCTRINE:
            raise ScenarioError(file, f"parameters.doctrine_penalty.{doctrine}", "unknown doctrine")
    _check_kind_costs(raw, file)
    try:
        start = parse_period(raw["start"])
    except ValueError as exc:
        raise ScenarioError(file, "start", str(exc)) from None
    sc = Scenario(raw, file, raw["name"], start, raw["steps"], raw["step_months"], powers, states, formats)
    events = []
    for i, ev in enumerate(raw.get("events", [])):
        path = f"events[{i}]"
        for key, spec in EVENT_TYPES[ev["type"]].items():
            if isinstance(spec, Codes):
                codes(ev[key], spec.kind, f"{path}.{key}")
                if key in ("power", "state", "format") and ev[key] != "all":
                    if len(ev[key]) != 1:
                        raise ScenarioError(file, f"{path}.{key}", f"give one {spec.kind} code")
                    ev[key] = ev[key][0]
        if ev["type"] == "parameter":
            _check_parameter_key(raw, ev, f"{path}.key", file)
        if "at" in ev:
            try:
                y, m = parse_period(ev["at"])
            except ValueError as exc:
                raise ScenarioError(file, f"{path}.at", str(exc)) from None
            step = sc.step_of(y, m)
            if step < 0:
                raise ScenarioError(file, f"{path}.at", f"{ev['at']} is before the start ({raw['start']})")
        else:
            step = ev["step"]
        if step >= sc.steps:
            last = sc.date_of(sc.steps - 1)
            raise ScenarioError(file, f"{path}.{'at' if 'at' in ev else 'step'}",
                                f"falls after the horizon (last period starts {last:%Y-%m}, step {sc.steps - 1})")
        events.append({**ev, "step": step})
    events.sort(key=lambda e: e["step"])
    fixed_keys = fixed_keys | fixed_in_file(raw, file)
    return Scenario(raw, file, raw["name"], start, raw["steps"], raw["step_months"], powers, states, formats,
                    tuple(events), parse_uncertainty(raw, file, fixed_keys), fixed_keys)


def _check_kind_costs(raw: dict, file: str) -> None:
    """The optional switching costs by format kind (ODD eq. 4.2d): known kinds only, and, when set, join and exit for
    every kind the scenario's formats have (no silent fallback to the depth-scaled costs for a format)."""
    given = raw["parameters"].get("switching_cost_kind")
    if given is None:
        return
    for kind in given:
        if kind not in KIND:
            raise ScenarioError(file, f"parameters.switching_cost_kind.{kind}", "unknown format kind"
                                + did_you_mean(str(kind), list(KIND)))
    for code, fm in raw["formats"].items():
        if fm["kind"] not in given:
            raise ScenarioError(file, f"parameters.switching_cost_kind.{fm['kind']}",
                                f"missing: format {code} is of this kind (give join and exit for every kind the "
                                "scenario's formats have)")


def _check_parameter_key(raw: dict, ev: dict, path: str, file: str) -> None:
    try:
        node = keypaths.get(raw["parameters"], ev["key"])
    except keypaths.KeyPathError:
        raise ScenarioError(file, path, f"'{ev['key']}' is not a key under parameters") from None
    if not isinstance(node, (int, float)):
        raise ScenarioError(file, path, f"'{ev['key']}' is not a numeric parameter")
