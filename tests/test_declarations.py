"""One declaration per parameter (model/schema.py): the ODD table, the fit bounds, the uncertainty ranges, the typed
views and the baseline's values agree with it; key paths and channel-weight renormalisation have one home each."""

from __future__ import annotations

import csv
import math
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest
from greatgame.model import keypaths
from greatgame.model.axes import INFLUENCE
from greatgame.model.declarations import BEGIN, END, baseline_raw, odd_table, splice
from greatgame.model.files import SCENARIOS
from greatgame.model.params import Parameters, RunValues, renormalised
from greatgame.model.schema import (
    BEHAVIOUR,
    JOINT,
    ORIGINS,
    PARAMETERS,
    STANDIN_FIT,
    Choice,
    Fields,
    Num,
    fit_parameters,
    group_keys,
    iter_specs,
    parameter_specs,
    spec_at,
)
from greatgame.model.uncertainty import CHANNEL_WEIGHTS

from greatgame.cli import main

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def undeclared(specs: list[tuple[str, object]]) -> list[str]:
    """Keys of parameters whose declaration lacks a unit (numbers), a meaning, an origin or a source."""
    bad = []
    for key, spec in specs:
        unit_ok = not isinstance(spec, Num) or bool(spec.unit)
        if not (unit_ok and spec.doc and spec.origin in ORIGINS and spec.source):
            bad.append(key)
    return bad


def expand(raw: dict, pattern: str) -> list[str]:
    """The concrete keys of the baseline that a key pattern (`powers.<power>.sanctions`) stands for (none for an
    optional group the baseline leaves out: `parameters.switching_cost_kind`)."""
    if "<" not in pattern:
        return [pattern]
    head, rest = pattern.split(".<", 1)
    tail = rest.split(">", 1)[1]
    if keypaths.get(raw, head, None) is None:
        assert head.rsplit(".", 1)[-1] in spec_at(head.rsplit(".", 1)[0]).optional, f"{head}: missing, not optional"
        return []
    return [k for code in keypaths.get(raw, head) for k in expand(raw, f"{head}.{code}{tail}")]


def test_committed_odd_table_is_the_generated_one():
    text = ODD.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert splice(text, odd_table(baseline_raw())) == text, "docs/ODD.md section 6 is stale: run `greatgame params --odd`"


def test_every_parameter_is_declared_with_unit_doc_origin_and_source():
    specs = parameter_specs()
    assert len(specs) > 60
    assert undeclared(specs) == []
    # the check itself catches a parameter added without its declaration
    bare = Fields({"new_weight": Num(0, 1), "described": Num(0, 1, "share", "a share", origin="judgement", source="J")})
    assert undeclared(iter_specs(bare, "parameters")) == ["parameters.new_weight"]
    assert undeclared([("x", Num(0, 1, "share", "doc", origin="guess", source="J"))]) == ["x"]


def test_baseline_holds_every_declared_parameter_inside_its_bounds():
    raw = baseline_raw()
    for pattern, spec in parameter_specs():
        for key in expand(raw, pattern):
            value = keypaths.get(raw, key)
            if isinstance(spec, Choice):
                assert value in spec.options, key
                continue
            assert spec.lo <= value <= spec.hi, key
            # the estimated rule (issue 17) sets the drawn weights and the scale, which the stand-in calibration's
            # search box does not bound; a value the stand-in fit set (partial shares, trade elasticity, ...) lies
            # inside its box
            if spec.fit is not None and key not in BEHAVIOUR.keys and key != "parameters.rationality":
                assert spec.fit.lo <= value <= spec.fit.hi, f"{key}: baseline {value} outside its fit bounds"


def test_baseline_carries_the_estimated_rule_and_draws_its_bootstrap():
    """The baseline's rule is replicate -1 of the 2022 bootstrap file (6 significant digits) at rationality 1, and
    its behaviour file is that bootstrap's replicates 0-199, column for column."""
    import pandas as pd

    raw = baseline_raw()
    boot = pd.read_csv(Path(__file__).resolve().parents[1] / "model" / "data" / "rule" / "bootstrap_2022.csv")
    estimate = boot[boot["replicate"] == -1].iloc[0]
    assert raw["parameters"]["rationality"] == 1.0
    for key in BEHAVIOUR.keys:
        assert math.isclose(keypaths.get(raw, key), estimate["model." + key.removeprefix("parameters.")],
                            rel_tol=5e-6), key
        assert spec_at(key).origin == "estimated" and spec_at(key).spread is None, key
    assert raw["uncertainty"]["behaviour"]["file"].endswith("rule_draws_2022.csv")
    draws = pd.read_csv(SCENARIOS / "rule_draws_2022.csv")
    reps = boot[boot["replicate"] >= 0].sort_values("replicate")
    assert tuple(draws.columns) == BEHAVIOUR.keys and len(draws) == len(reps) == 200
    for key in BEHAVIOUR.keys:
        np.testing.assert_allclose(draws[key], reps["model." + key.removeprefix("parameters.")], rtol=5e-6)


def test_estimated_parameters_are_fitted_and_drawn_jointly():
    estimated = {k for k, s in parameter_specs() if s.origin == "estimated"}
    fitted = {k for k, s in parameter_specs() if isinstance(s, Num) and s.fit is not None}
    assert fitted <= estimated
    # the decision rule's weights (estimated on the record, either sign) are drawn whole with the kind costs; the
    # stand-in calibration still searches them (its fit bounds)
    weights = {k for k, s in parameter_specs() if isinstance(s, Num) and "run.py estimate" in s.source
               and not k.startswith("parameters.switching_cost_kind.")}
    kind_costs = {k for k in BEHAVIOUR.keys if k.startswith("parameters.switching_cost_kind.")}
    assert weights == set(BEHAVIOUR.keys) - kind_costs and weights <= fitted and len(weights) == 11
    assert set(STANDIN_FIT) == fitted  # every fit bound belongs to the stand-in calibration's vector
    assert all(spec_at(k).lo < 0 for k in weights)
    assert len(kind_costs) == 8
    # the decision rule's estimate (`run.py estimate`, PROTOCOL 4): the optional switching costs by kind, set as run
    # values from the estimate (never an independent range)
    rule = {k for k in estimated if k.startswith("parameters.switching_cost_kind.")}
    assert rule == {"parameters.switching_cost_kind.<kind>.join", "parameters.switching_cost_kind.<kind>.exit"}
    for key in rule:
        spec = spec_at(key)
        assert "run.py estimate" in spec.source and spec.undrawable and spec.spread is None and spec.fit is None, key
    # an estimate made outside the calibration, from the data alone (an experiments/fit module), names the command
    # that makes it and is drawn over the range that command gives (a `given` range in the baseline)
    for key in sorted(estimated - fitted - rule):
        spec = spec_at(key)
        assert "python -m greatgame.experiments.fit." in spec.source, key
        assert spec.spread is not None and spec.spread.kind == "given", key
    assert estimated - fitted - rule == {"parameters.security.arms_depreciation_per_year",
                                  "parameters.migration.host_income_elasticity"}
    assert [k for block in JOINT for k in block.keys] == list(BEHAVIOUR.keys)
    for key in BEHAVIOUR.keys:  # the kind costs are undrawable as an independent range only
        assert spec_at(key).spread is None and bool(spec_at(key).undrawable) == (key in kind_costs)
    for name in ("rule_draws_2022.csv", "rule_draws_2017.csv"):
        with open(SCENARIOS / name, newline="") as fh:
            assert tuple(next(csv.reader(fh))) == BEHAVIOUR.keys, name
    with open(SCENARIOS / "calibrated_near_best.csv", newline="") as fh:  # the stand-in calibration's own set
        assert next(csv.reader(fh)) == [k for k, _, _ in fit_parameters("alignment") + fit_parameters("trade")]
    with open(SCENARIOS / "calibrated_2017_near_best.csv", newline="") as fh:
        assert next(csv.reader(fh)) == [k for k, _, _ in fit_parameters("alignment")]
    assert [k for k, _, _ in fit_parameters("trade")] == ["parameters.trade.partner_growth_elasticity"]


def test_fit_bounds_come_from_the_declarations():
    from greatgame.experiments.fit.calibration import CHOICE_PARAMETERS, TRADE_PARAMETERS

    assert CHOICE_PARAMETERS == fit_parameters("alignment") and TRADE_PARAMETERS == fit_parameters("trade")
    assert ("parameters.weights.trade", 0.2, 8.0) in CHOICE_PARAMETERS
    assert CHOICE_PARAMETERS[-1] == ("parameters.rationality", 2.0, 30.0)
    for key, lo, hi in CHOICE_PARAMETERS + TRADE_PARAMETERS:
        spec = spec_at(key)
        assert spec.lo <= lo < hi <= spec.hi, key


def test_baseline_uncertainty_ranges_are_the_declared_spreads():
    raw = baseline_raw()
    ranges = raw["uncertainty"]["ranges"]
    declared = {key for pattern, spec in parameter_specs() if isinstance(spec, Num) and spec.spread is not None
                for key in expand(raw, pattern)}
    assert set(ranges) == declared
    for key, r in ranges.items():
        spread = spec_at(key).spread
        around = spread.around(keypaths.get(raw, key))
        if around is None:
            assert spread.kind == "given" and r["low"] <= keypaths.get(raw, key) <= r["high"] and r["source"], key
        else:
            assert math.isclose(r["low"], around[0], abs_tol=1e-9) and math.isclose(r["high"], around[1], abs_tol=1e-9), key


def test_uncertainty_group_and_undrawable_keys_come_from_the_declarations(tmp_path):
    assert CHANNEL_WEIGHTS == group_keys("influence.channel_weights")
    assert CHANNEL_WEIGHTS == tuple(f"influence.channel_weights.{c}" for c in INFLUENCE)
    assert spec_at("powers.RUS.instrument_shares.security").undrawable
    from greatgame.model.scenario import load_scenario
    from greatgame.model.yamlio import ScenarioError

    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: s\nuncertainty:\n  ranges:\n"
                    "    powers.RUS.instrument_shares.security: {low: 0.3, high: 0.4, source: x}\n")
    with pytest.raises(ScenarioError, match="instrument shares must sum to 1"):
        load_scenario(path)


def test_typed_views_mirror_the_declarations():
    def check(cls: type, spec: Fields, prefix: str) -> None:
        assert [f.name for f in fields(cls)] == list(spec.fields), prefix
        for f in fields(cls):
            sub = spec.fields[f.name]
            assert is_dataclass(f.type) == (isinstance(sub, Fields) and not sub.stack), f"{prefix}.{f.name}"
            if is_dataclass(f.type):
                check(f.type, sub, f"{prefix}.{f.name}")

    check(Parameters, PARAMETERS, "parameters")
    raw = baseline_raw()
    v = RunValues(raw, 3)
    v.set("parameters.weights.hedging", np.array([1.0, 2.0, 3.0]))
    p = Parameters.from_values(v)
    assert p.weights.hedging.tolist() == [1.0, 2.0, 3.0]
    assert p.trade.noise_sd.tolist() == [0.05] * 3
    assert p.obligation_cost.shape == (3, 4)
    assert p.obligation_cost[0, 0] == raw["parameters"]["obligation_cost"]["collective_defence"]
    assert p.doctrine_penalty.shape == (3, 3, 4) and p.doctrine_penalty[0, 1].tolist() == [10.0, 10.0, 10.0, 0.0]
    assert p.weights.benefit.shape == (3, 6)
    # the optional group by format kind (the baseline's estimated rule): (R, KIND, 2) join/exit in KIND order
    kinds = raw["parameters"]["switching_cost_kind"]
    assert p.switching_cost_kind.shape == (3, 4, 2)
    assert p.switching_cost_kind[0].tolist() == [[kinds[k]["join"], kinds[k]["exit"]] for k in
                                                 ("security_alliance", "economic_union", "regional_organisation",
                                                  "dialogue_platform")]
    # unset (null, the stand-in calibration's form): NaN everywhere
    from greatgame.model.scenario import load_scenario

    standin = load_scenario(SCENARIOS / "calibrated.yaml").raw
    assert "switching_cost_kind" not in standin["parameters"]
    assert np.isnan(Parameters.from_values(RunValues(standin, 2)).switching_cost_kind).all()


def test_keypaths_read_write_flatten_nest():
    tree = {"a": {"b": {"c": 1, "flag": True, "name": "x"}, "d": 2.5}}
    assert keypaths.get(tree, "a.b.c") == 1 and keypaths.get(tree, "a.x", None) is None
    assert keypaths.number(tree, "a.b.flag") is None and keypaths.number(tree, "a..b") is None
    assert keypaths.number(tree, "a.d") == 2.5
    with pytest.raises(keypaths.KeyPathError) as exc:
        keypaths.get(tree, "a.q.c")
    assert exc.value.part == "q" and exc.value.reason == "unknown key 'q'"
    with pytest.raises(keypaths.KeyPathError, match="not a key path"):
        keypaths.parts("a..b")
    flat = keypaths.flatten(tree)
    assert flat == {"a.b.c": 1.0, "a.d": 2.5}
    assert keypaths.nest(flat) == {"a": {"b": {"c": 1.0}, "d": 2.5}}
    keypaths.put(tree, "a.b.c", 3, create=False, new=False)
    assert tree["a"]["b"]["c"] == 3
    with pytest.raises(keypaths.KeyPathError):
        keypaths.put(tree, "a.b.new", 1, create=False, new=False)
    with pytest.raises(keypaths.KeyPathError):
        keypaths.put(tree, "a.z.new", 1, create=False)


def test_renormalised_gives_the_same_numbers_for_numbers_and_arrays():
    weights = {"a": 0.25, "b": 0.15, "c": 0.2, "d": 0.15, "e": 0.1, "f": 0.15}
    given = {"a": 0.31, "d": 0.12}
    out = renormalised(weights, given)
    assert list(out) == list(weights) and math.isclose(sum(out.values()), 1.0)
    arrays = renormalised({k: np.full(2, v) for k, v in weights.items()}, {k: np.full(2, v) for k, v in given.items()})
    merged = {**weights, **given}
    total = 0.0
    for v in merged.values():
        total = total + v  # plain left-to-right addition, as numpy arrays add
    assert all((arrays[k] == merged[k] / total).all() for k in weights)
    with pytest.raises(ValueError, match="must not all be 0"):
        renormalised({"a": 0.0, "b": 0.0}, {})


def test_params_command_rewrites_and_checks_the_table(tmp_path, capsys):
    odd = tmp_path / "ODD.md"
    text = ODD.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    odd.write_text(head + BEGIN + "\n| stale |\n" + END + rest.split(END, 1)[1], encoding="utf-8")
    assert main(["params", "--odd", "--check", "--file", str(odd)]) == 1
    assert main(["params", "--odd", "--file", str(odd)]) == 0
    assert odd.read_text(encoding="utf-8") == text
    assert main(["params", "--odd", "--check", "--file", str(odd)]) == 0
    odd.write_text("no markers\n", encoding="utf-8")
    assert main(["params", "--odd", "--file", str(odd)]) == 2
    assert "marker" in capsys.readouterr().err
