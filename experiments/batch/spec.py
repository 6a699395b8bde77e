"""Experiment files: what varies (scenarios, a design over parameters), how many replicates, what is measured.

An experiment YAML is validated once into an `Experiment`: the list of design points (each a validated Scenario
with its overrides), replicates, the root seed and the outcomes. Run (design point d, replicate r) draws from
`SeedSequence(seed, spawn_key=(d, r))`, so adding replicates later leaves earlier runs unchanged. With `trade_bases`
every scenario is run once under each trade basis (its `trade_basis` set to each; design point d is then (scenario,
basis, point)); the same point under either basis draws the same uncertainty sample.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from greatgame.model import keypaths
from greatgame.model.budget import check_design_size
from greatgame.model.fundamentals import TRADE_BASES
from greatgame.model.params import RunValues, renormalised
from greatgame.model.scenario import Scenario, load_scenario
from greatgame.model.schema import Choice, Codes, Fields, ListOf, Num, Raw, Text, check_value, did_you_mean, spec_at
from greatgame.model.yamlio import ScenarioError, input_file, read_text, read_yaml

from ..analysis.statistics import SIGN_SHARE, check_sign_share, draws_uncertainty

OUTCOME_TYPES: dict[str, dict[str, Any]] = {
    "regional_influence": {"power": Text()},
    "influence": {"power": Text(), "state": Text()},
    "first_lead": {"leader": Text(), "follower": Text()},
    "gap": {"leader": Text(), "follower": Text()},
    "status": {"state": Text(), "format": Text()},
    "turnover": {"state": Text(), "partner": Text()},
}

EXPERIMENT = Fields({
    "name": Text("experiment name"),
    "description": Text(),
    "scenarios": Codes("scenario file", "scenario files, relative to the experiment file"),
    "reference": Text("name of the reference scenario for comparisons (default: the first)"),
    "replicates": Num(1, 10**7, "runs", "replicates per design point", integer=True),
    "steps": Num(1, 10000, "steps", "steps per run (default: each scenario's)", integer=True),
    "seed": Num(0, 2**63 - 1, "integer", "root seed", integer=True),
    "chunk": Num(1, 100000, "runs", "runs advanced in lockstep per task (default: chosen from the runs, the workers "
                 "and the memory budget; experiments/README.md)", integer=True),
    "record": Choice(("compact", "full"), "compact: influence totals every step, status and trade at start and "
                     "horizon; full: every table every step with channels"),
    "design": Fields({
        "method": Choice(("grid", "lhs", "sobol", "table"), "design method"),
        "file": Text("table design: a CSV whose columns are scenario keys and rows are points (relative path)"),
        "points": Num(1, 10**6, "points", "LHS points, or the Sobol base sample n (a power of 2)", integer=True),
        "seed": Num(0, 2**63 - 1, "integer", "seed of the design sampler (default: the root seed)", integer=True),
        "parameters": Raw("scenario key -> {low, high, scale} or {values}"),
    }, optional=frozenset({"points", "seed", "file", "parameters"})),
    "outcomes": ListOf(Raw(), "outcomes to summarise"),
    "trade_bases": ListOf(Choice(TRADE_BASES), "run every scenario under each of these trade bases (`trade_basis`, "
                          "ODD 7.2; default: each scenario's own); the comparison pairs runs within a basis, and an "
                          "effect is robust in sign only with both bases (docs/OUTPUT.md)"),
    "sign_share": Num(0.5, 1.0, "share", "least share of pairs with one sign, under each trade basis, for an effect "
                      "to be robust in sign (default 0.95, a reporting convention: docs/OUTPUT.md)"),
}, optional=frozenset({"description", "reference", "steps", "chunk", "record", "design", "outcomes", "trade_bases",
                       "sign_share"}))


@dataclass(frozen=True)
class Outcome:
    """One scalar per run: `type` with its codes, measured at the horizon (or the first step of a lead)."""

    name: str
    type: str
    args: dict[str, str]


@dataclass(frozen=True)
class DesignPoint:
    """One design point of one scenario: its index, its scenario, its values (key -> value) and its sample and block."""

    index: int
    scenario_name: str
    scenario_file: str
    point: int
    block: str
    values: dict[str, float]
    built: Scenario | None  # the point's scenario if built at load; else built on first use (`scenario`)
    base: Scenario  # the experiment's scenario before the point's values
    applied: dict[str, float] | None = None  # the scenario values set (after expand_values); None: `values`
    trade_basis: str = "state"  # the trade basis its runs use (the experiment's `trade_bases`, or the scenario's own)

    @property
    def group(self) -> tuple[str, str]:
        """Points of one group share a base scenario (its file under one trade basis): they may share tasks."""
        return self.scenario_file, self.trade_basis

    @property
    def drawn(self) -> bool:
        """Whether its runs draw some of the scenario's `uncertainty` section (not `fixed`, and some key not fixed)."""
        return draws_uncertainty(self.base)

    @property
    def overrides(self) -> dict[str, float]:
        """The values this point sets on its scenario (after any renormalisation)."""
        return self.values if self.applied is None else self.applied

    @property
    def scenario(self) -> Scenario:
        """The scenario with the point's values. Points that set only numeric per-run values (validated key by key
        at load) build it on first use: a design runs them from `base` with per-run values and never needs it."""
        if self.built is None:
            object.__setattr__(self, "built", self.base.with_overrides(self.overrides) if self.overrides else self.base)
        return self.built


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file: its scenarios, design points, replicates, root seed, outcomes and record."""

    name: str
    source: str
    raw: dict
    points: tuple[DesignPoint, ...]
    replicates: int
    seed: int
    steps: int | None
    chunk: int | None  # runs per task; None: chosen by the runner (`runner.chunk_size`)
    record: str
    outcomes: tuple[Outcome, ...]
    reference: str
    method: str | None
    design_parameters: tuple[str, ...]
    sobol_n: int | None
    trade_bases: tuple[str, ...] | None = None  # each scenario run under each basis; None: the scenario's own
    sign_share: float = SIGN_SHARE  # robust in sign: least share of pairs with one sign under each basis

    def design_hash(self) -> str:
        """Hash of everything that determines the runs except the number of replicates (so adding replicates can
        resume an existing store) and the chunk (which does not change a number, so a resume may use another)."""
        body = {k: v for k, v in self.raw.items() if k not in ("replicates", "chunk")}
        body["_points"] = [(p.scenario_name, p.values) for p in self.points]
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def design_table(self) -> list[dict[str, Any]]:
        """One row per design point (design, scenario, scenario file, point, block and its values): design.parquet."""
        return [{"design": p.index, "scenario": p.scenario_name, "scenario_file": p.scenario_file,
                 "trade_basis": p.trade_basis, "uncertainty_drawn": p.drawn, "point": p.point, "block": p.block,
                 **p.values} for p in self.points]


def _param_spec(value: Any, path: str, file: str, method: str) -> dict:
    if not isinstance(value, dict):
        raise ScenarioError(file, path, "must be a mapping such as {low: 0.5, high: 2.0} or {values: [1, 2]}")
    if method == "grid":
        if set(value) != {"values"} or not isinstance(value["values"], list) or not value["values"]:
            raise ScenarioError(file, path, "a grid parameter needs exactly `values: [..]` (a non-empty list)")
        return {"values": [check_value(Num(), v, f"{path}.values[{i}]", file) for i, v in enumerate(value["values"])]}
    spec = Fields({"low": Num(), "high": Num(), "scale": Choice(("linear", "log"))}, optional=frozenset({"scale"}))
    out = check_value(spec, value, path, file)
    if not out["low"] < out["high"]:
        raise ScenarioError(file, path, f"low ({out['low']}) must be below high ({out['high']})")
    if out.get("scale") == "log" and out["low"] <= 0:
        raise ScenarioError(file, path, "a log scale needs low > 0")
    return out


def _scale(u: np.ndarray, spec: dict) -> np.ndarray:
    lo, hi = spec["low"], spec["high"]
    if spec.get("scale") == "log":
        return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
    return lo + u * (hi - lo)


def design_points(method: str | None, params: dict[str, dict], points: int | None, seed: int,
                  file: str) -> tuple[list[tuple[str, dict[str, float]]], int | None]:
    """(block label, parameter values) of every design point, in order; and the Sobol base n."""
    if not method:
        return [("base", {})], None
    names = list(params)
    if method == "grid":
        combos = itertools.product(*[params[k]["values"] for k in names])
        return [("grid", dict(zip(names, map(float, c), strict=True))) for c in combos], None
    if not points:
        raise ScenarioError(file, "design.points", f"a {method} design needs `points`")
    from scipy.stats import qmc

    d = len(names)
    if method == "lhs":
        u = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(points)
        vals = np.column_stack([_scale(u[:, i], params[k]) for i, k in enumerate(names)])
        return [("lhs", dict(zip(names, map(float, row), strict=True))) for row in vals], None
    if points & (points - 1):
        raise ScenarioError(file, "design.points", f"a Sobol design needs a power of 2, got {points}")
    u = qmc.Sobol(d=2 * d, scramble=True, rng=np.random.default_rng(seed)).random(points)
    a = np.column_stack([_scale(u[:, i], params[k]) for i, k in enumerate(names)])
    b = np.column_stack([_scale(u[:, d + i], params[k]) for i, k in enumerate(names)])
    blocks = [("A", a), ("B", b)]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append((f"AB{i}", ab))
    out = [(label, dict(zip(names, map(float, row), strict=True))) for label, m in blocks for row in m]
    return out, points


BEHAVIOUR_ROW = "uncertainty.behaviour_row"
CHANNEL_PREFIX = "influence.channel_weights."


def expand_values(sc: Scenario, values: dict[str, float], file: str) -> dict[str, float]:
    """The scenario values a design point sets. Two design parameters stand for groups (docs/ODD.md 5):
    `uncertainty.behaviour_row` (range 0 to the number of rows) picks a whole row of the scenario's behaviour file,
    so the joint vector is varied as one factor; influence channel weights are renormalised, with the scenario's
    value for any weight the design does not set, to sum to 1 (as a drawn set is)."""
    if BEHAVIOUR_ROW not in values and not any(k.startswith(CHANNEL_PREFIX) for k in values):
        return values
    out = {k: v for k, v in values.items() if k != BEHAVIOUR_ROW}
    if BEHAVIOUR_ROW in values:
        unc = sc.uncertainty
        if unc is None or not len(unc.behaviour):
            raise ScenarioError(file, f"design.parameters.{BEHAVIOUR_ROW}", f"scenario '{sc.name}' has no behaviour "
                                "file in its `uncertainty:` section")
        row = min(max(int(values[BEHAVIOUR_ROW]), 0), len(unc.behaviour) - 1)
        out.update({k: float(unc.behaviour[row, j]) for j, k in enumerate(unc.behaviour_keys)})
    given = {k[len(CHANNEL_PREFIX):]: v for k, v in out.items() if k.startswith(CHANNEL_PREFIX)}
    if given:
        try:
            weights = renormalised(sc.raw["influence"]["channel_weights"], given)
        except ValueError as exc:
            raise ScenarioError(file, "design.parameters", str(exc)) from None
        out.update({f"{CHANNEL_PREFIX}{k}": float(v) for k, v in weights.items()})
    return out


def _outcome(value: Any, path: str, file: str) -> Outcome:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str) or value["type"] not in OUTCOME_TYPES:
        kind = value.get("type") if isinstance(value, dict) else value
        raise ScenarioError(file, f"{path}.type", f"unknown outcome type {kind!r}" + did_you_mean(str(kind), list(OUTCOME_TYPES)))
    spec = OUTCOME_TYPES[value["type"]]
    allowed = set(spec) | {"type", "name"}
    for key in value:
        if key not in allowed:
            raise ScenarioError(file, f"{path}.{key}", "unknown key" + did_you_mean(str(key), sorted(allowed)))
    args = {k: check_value(s, value.get(k), f"{path}.{k}", file) for k, s in spec.items()}
    name = value.get("name") or "_".join([value["type"], *args.values()])
    return Outcome(str(name), value["type"], args)


def default_outcomes(sc: Scenario) -> list[Outcome]:
    """Regional influence of every power at the horizon, the first step China leads Russia, every status."""
    out = [Outcome(f"regional_influence_{p}", "regional_influence", {"power": p}) for p in sc.powers]
    if "CHN" in sc.powers and "RUS" in sc.powers:
        out.append(Outcome("first_lead_CHN_RUS", "first_lead", {"leader": "CHN", "follower": "RUS"}))
    out += [Outcome(f"status_{s}_{f}", "status", {"state": s, "format": f}) for s in sc.states for f in sc.formats]
    return out


MAX_SCENARIO_FILES = 1000  # scenario files per experiment (each is loaded and validated, ~10 ms)


def _count_points(method: str | None, params: dict[str, dict], points: int | None) -> int:
    """Design points per scenario, from the validated design alone (before any point is built)."""
    if method is None:
        return 1
    if method == "grid":
        return math.prod(len(spec["values"]) for spec in params.values())
    if method == "sobol":
        return (points or 0) * (len(params) + 2)
    return points or 0


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; every scenario and design point is validated here, once."""
    path = Path(path)
    file = str(path)
    data = read_yaml(path)
    raw = check_value(EXPERIMENT, data, "", file)
    seed = raw["seed"]
    method, params, points = None, {}, None
    table_rows = None
    if "design" in raw and raw["design"]["method"] == "table":
        method = "table"
        if "file" not in raw["design"]:
            raise ScenarioError(file, "design.file", "a table design needs `file` (a CSV of parameter vectors)")
        csv_path = input_file(raw["design"]["file"], path.parent, file, "design.file", "design table")
        import pandas as pd

        try:
            table = pd.read_csv(io.StringIO(read_text(csv_path, file, "design.file")))
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ScenarioError(file, "design.file", f"not a CSV table ({exc})") from None
        if table.empty or not all(pd.api.types.is_numeric_dtype(table[c]) for c in table.columns):
            raise ScenarioError(file, "design.file", "the CSV needs a header of scenario keys and numeric rows")
        check_design_size(len(table) * len(raw["scenarios"]), file, "design.file")
        table_rows = [{str(k): float(v) for k, v in row.items()} for row in table.to_dict("records")]
        params = {str(c): {} for c in table.columns}
    elif "design" in raw:
        method = raw["design"]["method"]
        given = raw["design"].get("parameters")
        if not isinstance(given, dict) or not given:
            raise ScenarioError(file, "design.parameters", "a design needs at least one parameter")
        params = {str(k): _param_spec(v, f"design.parameters.{k}", file, method) for k, v in given.items()}
        points = raw["design"].get("points")
    bases = raw.get("trade_bases")
    if bases is not None:
        if not bases:
            raise ScenarioError(file, "trade_bases", f"give at least one of {', '.join(TRADE_BASES)}, or leave the key out")
        if len(set(bases)) != len(bases):
            raise ScenarioError(file, "trade_bases", f"{', '.join(bases)}: a basis is listed twice")
    try:
        sign_share = check_sign_share(raw.get("sign_share", SIGN_SHARE))
    except ValueError as exc:
        raise ScenarioError(file, "sign_share", str(exc)) from None
    check_design_size(_count_points(method, params, points) * len(raw["scenarios"]) * len(bases or [None]), file,
                      "design.points" if method in ("lhs", "sobol") else "design.parameters" if method else "scenarios")
    scenarios = []
    if not raw["scenarios"]:
        raise ScenarioError(file, "scenarios", "needs at least one scenario file")
    if len(raw["scenarios"]) > MAX_SCENARIO_FILES:
        raise ScenarioError(file, "scenarios", f"{len(raw['scenarios']):,} files; at most {MAX_SCENARIO_FILES:,} per "
                            "experiment (each is loaded and validated): split it into several experiments")
    seen: dict[Path, int] = {}
    for i, rel in enumerate(raw["scenarios"]):
        sp = input_file(rel, path.parent, file, f"scenarios[{i}]", "scenario file")
        if sp in seen:
            raise ScenarioError(file, f"scenarios[{i}]", f"'{rel}' is listed twice (also scenarios[{seen[sp]}])")
        seen[sp] = i
        scenarios.append((rel, load_scenario(sp)))
    names = [sc.name for _, sc in scenarios]
    if len(set(names)) != len(names):
        raise ScenarioError(file, "scenarios", f"two scenarios share a name ({', '.join(names)}); names label results")
    if bases is not None:  # each scenario under each basis: (scenario, basis) in this order
        scenarios = [(rel, sc.with_overrides({"trade_basis": b})) for rel, sc in scenarios for b in bases]
    if table_rows is not None:
        pts, sobol_n = [("table", row) for row in table_rows], None
    else:
        pts, sobol_n = design_points(method, params, points, raw["design"].get("seed", seed) if method else seed, file)
    design: list[DesignPoint] = []
    for rel, sc in scenarios:
        # numeric per-run values whose only constraint is their own range (instrument shares must sum to 1 within
        # a power, so a point that sets one is built and validated whole)
        per_run = {k for k in RunValues(sc.raw, 1).values if ".instrument_shares." not in k
                   and isinstance(spec_at(k), Num)}
        for j, (block, values) in enumerate(pts):
            try:
                applied = expand_values(sc, values, file)
                if applied and all(k in per_run for k in applied):  # checked key by key; scenario built on use
                    for k, v in applied.items():
                        check_value(spec_at(k), v, k, sc.source)
                    sc_d = None
                else:
                    sc_d = sc.with_overrides(applied) if applied else sc
            except ScenarioError as exc:
                where = f"design.parameters.{exc.path}"
                if "unknown key" in exc.reason:
                    hint = did_you_mean(exc.path, list(keypaths.flatten(sc.raw)))
                    raise ScenarioError(file, where, f"scenario '{sc.name}' has no parameter '{exc.path}'{hint}") from None
                raise ScenarioError(file, where, f"value rejected by scenario '{sc.name}': {exc.reason}") from None
            design.append(DesignPoint(len(design), sc.name, rel, j, block, values, sc_d, sc,
                                      applied if applied != values else None, str(sc.raw["trade_basis"])))
    outcomes = ([_outcome(v, f"outcomes[{i}]", file) for i, v in enumerate(raw["outcomes"])]
                if raw.get("outcomes") else default_outcomes(scenarios[0][1]))
    base = scenarios[0][1]
    for i, o in enumerate(outcomes):
        for key, code in o.args.items():
            pool = {"power": base.powers, "leader": base.powers, "follower": base.powers, "partner": base.powers,
                    "state": (*base.states, "REGION") if o.type in ("influence", "turnover") else base.states,
                    "format": base.formats}[key]
            if code not in pool:
                raise ScenarioError(file, f"outcomes[{i}].{key}", f"unknown code '{code}' (valid: {', '.join(pool)})")
    if len({o.name for o in outcomes}) != len(outcomes):
        raise ScenarioError(file, "outcomes", "two outcomes share a name")
    reference = raw.get("reference", names[0])
    if reference not in names:
        raise ScenarioError(file, "reference", f"'{reference}' is not one of the scenarios ({', '.join(names)})")
    steps = raw.get("steps")
    return Experiment(raw["name"], file, data, tuple(design), raw["replicates"], seed, steps,
                      raw.get("chunk"), raw.get("record", "compact"), tuple(outcomes), reference, method,
                      tuple(params), sobol_n, tuple(bases) if bases is not None else None,
                      sign_share)


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

