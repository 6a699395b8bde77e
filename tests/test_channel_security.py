"""The security channel (docs/ODD.md 4.4c, 7.5, 7.7): arms-delivery stocks by supplier from the SIPRI panel rows,
moving during a run with the powers' security spending; presence from the dated panel rows; a threat that raises the
value of whoever guards the state; delta estimated from the series; no figure after the start year."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from greatgame.experiments.fit.arms_stock import estimate_delta
from greatgame.model import GreatGameModel, keypaths, load_scenario
from greatgame.model.axes import INFLUENCE
from greatgame.model.fundamentals import _Selector, load_fundamentals, period_end, security_data
from greatgame.model.influence import security_leverage
from greatgame.model.panel import PANEL_DIR, load_panel
from greatgame.model.security import arms_share, recent_flow, start_stock

from greatgame.cli import main

from .conftest import SCENARIOS
from .test_bad_input import _assert_one_line_error

SEC = INFLUENCE.security
BASE = str(SCENARIOS / "baseline.yaml")
DELTA = "parameters.security.arms_depreciation_per_year"


def fixed(name: str, **values: object) -> object:
    """A shipped scenario with every uncertainty draw off, and the given dotted key paths set."""
    data: dict = {"extends": str(SCENARIOS / name), "uncertainty": "fixed"}
    for key, value in values.items():
        keypaths.put(data, key, value)
    return load_scenario(data)


def panel_tiv(state: str) -> dict[str, dict[int, float]]:
    """The arms_tiv rows of one state read straight from the CSV: partner -> year -> TIV mn."""
    out: dict[str, dict[int, float]] = {}
    with open(PANEL_DIR / "security_migration.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["series"] == "arms_tiv" and r["state"] == state:
                out.setdefault(r["partner"], {})[int(r["year"])] = float(r["value"])
    return out


def hand_shares(state: str, upto: int, delta: float, powers: tuple[str, ...]) -> np.ndarray:
    """Each power's share of the state's stock by a plain loop: K_y = (1 - delta) K_{y-1} + D_y from 1992; the
    denominator is the all-supplier (ALL) stock, the powers plus everyone else."""
    rows = panel_tiv(state)
    k = dict.fromkeys((*powers, "ALL"), 0.0)
    for year in range(1992, upto + 1):
        if year not in rows["ALL"]:
            continue  # SIPRI's tables end in 2021
        for q in k:
            k[q] = (1 - delta) * k[q] + rows[q][year]
    return np.array([k[p] / k["ALL"] for p in powers])


# ------------------------------------------------------------------ (a) start-year shares pinned to the data rows
@pytest.mark.parametrize("name, year", [("baseline.yaml", 2022), ("backcast_2017.yaml", 2017)])
def test_start_arms_shares_are_the_stock_shares_of_the_panel_rows(name, year):
    sc = fixed(name)
    m = GreatGameModel(sc, runs=2)
    delta = float(sc.raw["parameters"]["security"]["arms_depreciation_per_year"])
    s = m.states.index("KAZ")
    np.testing.assert_allclose(arms_share(m.state.arms_stock)[0, s], hand_shares("KAZ", year, delta, m.powers),
                               rtol=1e-12)


def test_start_arms_shares_with_full_decay_are_the_last_data_years_rows():
    """delta = 1 keeps only the last data year: Kazakhstan 2017 (RUS 163, CHN 0, USA 3, EU 37, TUR 2 of ALL 216 TIV
    mn) and 2021 (RUS 85 of 85; SIPRI's tables end in 2021, so a 2022 start's last data year is 2021)."""
    m17 = GreatGameModel(fixed("backcast_2017.yaml"), runs=1, run_values={DELTA: [1.0]})
    m22 = GreatGameModel(fixed("baseline.yaml"), runs=1, run_values={DELTA: [1.0]})
    s = m17.states.index("KAZ")
    tiv17 = {"RUS": 163, "CHN": 0, "USA": 3, "EU": 37, "TUR": 2}
    np.testing.assert_allclose(arms_share(m17.state.arms_stock)[0, s], np.array([tiv17[p] for p in m17.powers]) / 216)
    np.testing.assert_allclose(arms_share(m22.state.arms_stock)[0, s], [float(p == "RUS") for p in m22.powers])


def test_stock_recent_flow_and_shares_of_small_arrays():
    D = np.array([[[10.0, 0.0, 4.0], [0.0, 2.0, 0.0]]])  # one state, supplier columns (power, others), three years
    np.testing.assert_allclose(start_stock(D, np.array([0.5, 0.0]))[:, 0], [[10 * 0.25 + 4, 1.0], [14.0, 2.0]])
    np.testing.assert_allclose(recent_flow(D, np.array([2, 3, 99]))[:, 0], [[2.0, 1.0], [14 / 3, 2 / 3], [14 / 3, 2 / 3]])
    # a state with no recorded imports at all gives every power an arms share of 0 (the autonomy holds the channel)
    np.testing.assert_array_equal(arms_share(np.zeros((1, 2, 4))), np.zeros((1, 2, 3)))


# ------------------------------------------------------------------ presence and threat
def test_presence_comes_from_the_dated_panel_rows():
    powers = ("RUS", "CHN", "USA")
    for year, expected in ((2022, {("KAZ", "RUS"): 0.5, ("KGZ", "RUS"): 1.0, ("TJK", "RUS"): 1.0, ("TJK", "CHN"): 0.5}),
                           (2017, {("KAZ", "RUS"): 0.5, ("KGZ", "RUS"): 1.0, ("TJK", "RUS"): 1.0})):
        f = load_fundamentals(year, ("KAZ", "KGZ", "TJK", "TKM", "UZB"), powers)
        got = {(f.states[i], powers[j]): f.military_presence[i, j] for i, j in zip(*np.nonzero(f.military_presence), strict=True)}
        assert got == expected, year  # Manas (KGZ-USA) closed in 2014; the Chinese post was reported in 2019


def test_a_threat_raises_only_the_value_of_presence():
    arms = np.array([[[0.6, 0.3, 0.1]]])
    presence = np.array([[1.0, 0.0, 0.0]])
    calm, acute = (security_leverage(arms, presence, np.array([[t]])) for t in (0.0, 0.9))
    np.testing.assert_allclose(acute - calm, [[[0.9, 0.0, 0.0]]])


def test_the_afghanistan_crisis_raises_russias_security_share_in_tajikistan_not_a_power_without_presence():
    runs, step = 16, 8  # 2024Q4: the acute threat from 2024-01
    base = GreatGameModel(fixed("baseline.yaml"), runs=runs).run()
    crisis = GreatGameModel(fixed("afghanistan_crisis.yaml"), runs=runs).run()
    s, rus, usa = base.states.index("TJK"), base.powers.index("RUS"), base.powers.index("USA")
    b = base.recorder.influence_channels[step, :, s, :, SEC]
    c = crisis.recorder.influence_channels[step, :, s, :, SEC]
    assert np.median(c[:, rus] - b[:, rus]) > 0.005
    # the US holds no base and no SIPRI deliveries in Tajikistan (only what its spending adds): it loses to Russia
    assert np.median(c[:, usa] - b[:, usa]) < 0
    assert np.median(c[:, usa] / c[:, rus] - b[:, usa] / b[:, rus]) < 0


# ------------------------------------------------------------------ (b) the channel moves in the baseline
def test_security_shares_move_in_the_baseline():
    m = GreatGameModel(fixed("baseline.yaml"), runs=16).run()
    sec = m.recorder.influence_channels[..., SEC]  # (T, R, S, P)
    moved = np.median(np.abs(sec[m.horizon] - sec[0]), axis=0)  # (S, P) median over runs
    assert (moved.max(axis=0) >= 0.005).all(), moved  # every power, in some state
    assert np.median(moved) >= 0.005, moved


# ------------------------------------------------------------------ (c) the lever that should move it, and one that should not
def test_more_security_spending_raises_a_powers_security_share():
    shares = {"powers.USA.instrument_shares.investment": 0.3, "powers.USA.instrument_shares.security": 0.4}
    base = GreatGameModel(fixed("baseline.yaml"), runs=16).run()
    more = GreatGameModel(fixed("baseline.yaml", **shares), runs=16).run()
    usa = base.powers.index("USA")
    gain = (more.recorder.influence_channels[base.horizon, :, :, usa, SEC]
            - base.recorder.influence_channels[base.horizon, :, :, usa, SEC])
    assert (np.median(gain, axis=0) > 0).all(), gain


def test_a_trade_parameter_leaves_security_shares_put():
    """With spending split evenly across states (allocation_rationality 0: no feedback from influence to where the
    money goes), trade noise changes the trade channel and nothing of the security channel."""
    even = {"parameters.powers.allocation_rationality": 0.0}
    a = GreatGameModel(fixed("baseline.yaml", **even), runs=8).run()
    b = GreatGameModel(fixed("baseline.yaml", **even, **{"parameters.trade.noise_sd": 0.3}), runs=8).run()
    np.testing.assert_array_equal(a.recorder.influence_channels[..., SEC], b.recorder.influence_channels[..., SEC])
    assert not np.allclose(a.recorder.influence_channels[..., INFLUENCE.trade],
                           b.recorder.influence_channels[..., INFLUENCE.trade])


# ------------------------------------------------------------------ (e) vintage
def test_a_2017_start_reads_no_arms_or_presence_figure_after_2017():
    f = load_fundamentals(2017, ("KAZ", "KGZ", "TJK", "TKM", "UZB"), ("RUS", "CHN", "USA"))
    assert f.arms_years[-1] == 2017 and f.arms_tiv.shape[-1] == len(f.arms_years)
    used = [p for p in f.provenance if p[0] in ("arms_tiv", "base_presence")]
    assert {p[0] for p in used} == {"arms_tiv", "base_presence"}
    assert all(period_end(p[3]) <= 2017 for p in used), used
    # the rows after 2017 changed beyond recognition give the same 2017 data
    rows = load_panel(("arms_tiv", "base_presence"))
    later = rows["year"] > 2017
    rows.loc[later, "value"] = 1 - rows.loc[later, "value"] + 1000 * (rows.loc[later, "series"] == "arms_tiv")
    states, powers = f.states, f.powers
    for got, want in zip(security_data(_Selector(2017), states, powers, rows), (f.arms_tiv, f.arms_years,
                                                                               f.military_presence), strict=True):
        np.testing.assert_array_equal(got, want)


def test_delta_is_the_estimate_of_the_years_the_start_may_see():
    """The stored values are what the fit module gives: the 2022 estimate in the baseline, the 2017 estimate (data
    to 2017 only) in the 2017 backcast, each drawn over its bootstrap range."""
    for name, upto in (("baseline.yaml", 2022), ("backcast_2017.yaml", 2017)):
        est = estimate_delta(upto)
        raw = fixed(name).raw if name == "baseline.yaml" else load_scenario(SCENARIOS / name).raw
        ranges = load_scenario(SCENARIOS / name).raw["uncertainty"]["ranges"][DELTA]
        assert est.last_year == min(upto, 2021) and est.identified
        assert raw["parameters"]["security"]["arms_depreciation_per_year"] == round(est.delta, 2)
        assert (ranges["low"], ranges["high"]) == (round(est.low, 2), round(est.high, 2))
        assert est.low < est.delta < est.high


# ------------------------------------------------------------------ bad input for the new keys
@pytest.mark.parametrize("text, needles", [
    ("parameters:\n  security:\n    arms_depreciation_per_year: 1.5\n",
     ["parameters.security.arms_depreciation_per_year", "out of range [0, 1]"]),
    ("parameters:\n  security:\n    tiv_per_usd_bn: -5\n", ["parameters.security.tiv_per_usd_bn", "out of range"]),
    ("parameters:\n  security:\n    recent_years: 2.5\n", ["parameters.security.recent_years", "whole number"]),
    ("uncertainty:\n  ranges:\n    parameters.security.tiv_per_usd_bn: {low: 200, high: 300, source: x}\n",
     ["uncertainty.ranges.parameters.security.tiv_per_usd_bn", "must contain the scenario's value"]),
])
def test_bad_security_keys_are_refused_with_one_line(text, needles, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {BASE}\n{text}")
    rc = main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--runs", "1"])
    _assert_one_line_error(capsys, rc, path, needles)
