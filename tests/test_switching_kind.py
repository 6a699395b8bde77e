"""Switching costs by format kind (optional `parameters.switching_cost_kind`, ODD eq. 4.2d kind form): the model's
switching table, run values and events, and the same one-quarter transition matrices as the estimated rule
(experiments/fit/rule.py `row_transitions`)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from greatgame.experiments.fit import rule
from greatgame.experiments.fit.spells import MODEL_KIND
from greatgame.model.axes import KIND
from greatgame.model.choice import switching_table, table_transition_matrix
from greatgame.model.core import GreatGameModel
from greatgame.model.files import BASELINE
from greatgame.model.panel import STATES as PANEL_STATES
from greatgame.model.scenario import build_scenario, load_scenario

COSTS = {"security_alliance": {"join": 3.0, "exit": 7.0}, "economic_union": {"join": 2.0, "exit": 11.0},
         "regional_organisation": {"join": 0.5, "exit": 4.0}, "dialogue_platform": {"join": 0.25, "exit": 1.5}}


def kind_scenario(costs: dict = COSTS, **more):
    """The baseline with the kind costs `costs`, not drawn (the baseline draws its rule's costs jointly)."""
    return load_scenario({"extends": str(BASELINE), "parameters": {"switching_cost_kind": copy.deepcopy(costs)},
                          "uncertainty": "fixed", **more})


def test_kind_table_is_the_kind_cost_per_level_moved_without_depth() -> None:
    m = GreatGameModel(kind_scenario(), runs=2, steps=1)
    sw = m.derived.switching
    assert sw.shape == (2, m.F, 3, 3)
    move = np.arange(3)[None, :] - np.arange(3)[:, None]  # to - from
    for f, code in enumerate(m.formats):
        c = COSTS[m.spec.raw["formats"][code]["kind"]]
        want = np.where(move > 0, c["join"] * move, -c["exit"] * move)
        assert np.array_equal(sw[0, f], want) and np.array_equal(sw[1, f], want), code
    # depth is not read: CSTO (0.9) and a dialogue platform (0.15) pay their kind's cost per level
    assert sw[0, m.formats.index("CSTO"), 0, 2] == 6.0 and sw[0, m.formats.index("C5+1"), 2, 0] == 3.0
    assert m.derived.switching[0, m.formats.index("SCO"), 1, 2] == m.derived.switching[0, m.formats.index("OTS"), 1, 2]


def test_absent_group_keeps_the_depth_scaled_table() -> None:
    # the baseline sets the group; `null` in a scenario extending it unsets it (the stand-in calibration's form)
    # (with its own uncertainty section: the baseline's draws set kind costs, refused on a scenario without them)
    sc = load_scenario({"extends": str(BASELINE), "parameters": {"switching_cost_kind": None}, "uncertainty": "fixed"})
    m = GreatGameModel(sc, runs=2, steps=1)
    assert "switching_cost_kind" not in m.spec.raw["parameters"]
    assert np.isnan(m.p.switching_cost_kind).all()
    sw = m.derived.switching
    assert np.array_equal(sw, switching_table(m.fmt.depth, m.p.switching_cost_join, m.p.switching_cost_exit))
    join, exit_ = float(m.p.switching_cost_join[0]), float(m.p.switching_cost_exit[0])
    f = m.formats.index("CSTO")
    depth = float(m.fmt.depth[0, f])
    assert sw[0, f, 0, 2] == pytest.approx(2 * join * depth) and sw[0, f, 2, 1] == pytest.approx(exit_ * depth)


def test_kind_costs_as_run_values_change_the_table_and_the_choice_per_run() -> None:
    m = GreatGameModel(kind_scenario(), runs=3, steps=4)
    key = "parameters.switching_cost_kind.economic_union.join"
    assert key in m.values.values and "parameters.switching_cost_kind.economic_union.exit" in m.values.values
    m.values.set(key, np.array([0.1, 1.0, 5.0]))
    m.derive()
    e = m.formats.index("EAEU")
    assert m.derived.switching[:, e, 0, 2].tolist() == [0.2, 2.0, 10.0]
    assert (m.derived.switching[:, m.formats.index("CSTO"), 0, 2] == 6.0).all()  # other kinds untouched
    m.update_influence()
    m.perceive()
    m.choice_inputs()
    t = m.states.index("TJK")  # not in the EAEU at the 2022 start
    assert (m.state.status[:, t, e] == 0).all()
    p_none = m.now.cumulative[:, t, e, 0]
    assert p_none[0] < p_none[1] < p_none[2]  # dearer to join: staying out more likely
    m.run()  # the agents read the same table: a whole run goes through
    assert np.isfinite(m.state.engagement).all()


def test_a_parameter_event_sets_a_kind_cost() -> None:
    sc = kind_scenario(events_add=[{"at": "2023-01", "type": "parameter",
                                    "key": "switching_cost_kind.economic_union.exit", "value": 20.0}])
    m = GreatGameModel(sc, runs=2, steps=2)
    e = m.formats.index("EAEU")
    assert (m.derived.switching[:, e, 2, 0] == 22.0).all()
    m.run()
    assert (m.derived.switching[:, e, 2, 0] == 40.0).all()


def test_model_transitions_equal_the_estimated_rules_row_transitions() -> None:
    """The model with the kind group (costs = the rule's exp(theta) per kind) gives, at the same level values, the
    one-quarter matrices `rule.row_transitions` scores, and its own step (`choice_inputs`) the same row. Compared
    on the rows whose record kind is the model format's kind (the EAEU lineage keeps one kind in the model)."""
    data = rule.prepare(2017.0)
    block = next(b for b in data.blocks if b.year == 2015)  # EAEU quarters, three kinds, C5+1 summit rows
    theta = np.array([[1.1, 1.9], [0.7, 2.4], [-0.3, 1.3], [-1.2, 0.4]])  # (kind in rule.KINDS, join/exit)
    join, exit_ = np.exp(theta[:, 0])[None], np.exp(theta[:, 1])[None]
    weights = np.linspace(0.9, 0.1, len(rule.WEIGHTS))[None]
    raw = copy.deepcopy(rule.estimation_scenario(block.year, data.eligible, data.states, arms_delta=data.arms_delta).raw)
    raw["parameters"]["switching_cost_kind"] = {MODEL_KIND[k]: {"join": 1.0, "exit": 1.0} for k in rule.KINDS}
    sc = build_scenario(raw, "<kind test>", known_states=tuple(PANEL_STATES))
    C = len(block.threat)
    m = rule.PanelModel(sc, block.year, C, data.basis)
    for i, k in enumerate(rule.KINDS):
        m.values.set(f"parameters.switching_cost_kind.{MODEL_KIND[k]}.join", np.full(C, join[0, i]))
        m.values.set(f"parameters.switching_cost_kind.{MODEL_KIND[k]}.exit", np.full(C, exit_[0, i]))
    block.models[(1, False)] = m  # rule.level_values sets its values on this model, derives and computes V
    lv = rule.level_values(data, block, weights)  # (1, C, S, F, 3)
    allowed = m.structure.allowed
    Tq, Ts = rule.row_transitions(lv, allowed, block, join, exit_)
    model_T = table_transition_matrix(lv[0], m.derived.switching[:, None], m.p.rationality, allowed,
                                      m.p.revision_rate)  # (C, S, F, 3, 3)
    assert (m.p.rationality == 1.0).all() and (m.p.revision_rate == rule.REVISION_RATE).all()
    qr = block.quarters
    kinds = [MODEL_KIND[rule.KINDS[k]] for k in qr["kind"]]
    same = np.array([kd == raw["formats"][rule.FORMATS[f]]["kind"] for kd, f in zip(kinds, qr["f"], strict=True)])
    assert same.sum() >= 200 and {kinds[i] for i in np.flatnonzero(same)} == {"security_alliance", "economic_union",
                                                                            "regional_organisation"}
    c, s, f = (qr[col].to_numpy()[same] for col in ("c", "s", "f"))
    np.testing.assert_allclose(model_T[c, s, f], Tq[0, same], rtol=1e-12, atol=1e-15)
    sr = block.summits
    assert len(sr) > 0
    prod = None
    for col in ("c1", "c2", "c3", "c4"):
        T = model_T[sr[col].to_numpy(), sr["s"].to_numpy(), sr["f"].to_numpy()]
        prod = T if prod is None else prod @ T
    np.testing.assert_allclose(prod, Ts[0], rtol=1e-12, atol=1e-15)
    # the model's own step at the situations' statuses: the row of the observed from-status
    m.choice_inputs()
    cum = m.now.cumulative[c, s, f]
    picked = np.stack([cum[:, 0], cum[:, 1] - cum[:, 0], 1.0 - cum[:, 1]], axis=-1)
    frm = qr["i_from"].to_numpy()[same]
    assert (m.state.status[c, s, f] == frm).all()
    rho = rule.REVISION_RATE
    rows = Tq[0, same, frm]
    np.testing.assert_allclose(rho * picked + (1 - rho) * np.eye(3)[frm], rows, rtol=1e-10, atol=1e-12)
    # the costs matter: another kind cost gives another matrix
    m.values.set("parameters.switching_cost_kind.security_alliance.exit", np.full(C, 0.01))
    m.derive()
    other = table_transition_matrix(lv[0], m.derived.switching[:, None], m.p.rationality, allowed, m.p.revision_rate)
    sa = np.array([k == "security_alliance" for k in kinds]) & same
    assert not np.allclose(other[qr["c"].to_numpy()[sa], qr["s"].to_numpy()[sa], qr["f"].to_numpy()[sa]], Tq[0, sa])


def test_every_kind_is_in_the_axis() -> None:
    assert set(MODEL_KIND.values()) == set(KIND) and set(MODEL_KIND) == set(rule.KINDS)
