"""Each equation does what docs/ODD.md says: logit, transition matrix, autonomy, trade trend, marginal value,
routes between neighbours, accession packages, per-run parameters and the non-finite check."""

import numpy as np
import pytest
from greatgame.model import GreatGameModel, load_scenario
from greatgame.model.axes import BENEFIT, INFLUENCE, Level
from greatgame.model.choice import choice_probabilities, logit_choice, transition_matrix
from greatgame.model.dynamics import update_trade
from greatgame.model.influence import influence_by_channel

from .conftest import SCENARIOS

ARRAYS = ("influence", "status", "engagement", "turnover", "active")


def test_logit_choice_frequencies_match_probabilities():
    rng = np.random.default_rng(0)
    n = 200_000
    utility = np.tile(np.array([0.0, 0.3, 0.5]), (n, 1))
    lam = np.full(n, 4.0)
    pick = logit_choice(utility, lam, np.zeros(n, dtype=int), np.ones(n), rng.random(n), rng.random(n))
    freq = np.bincount(pick, minlength=3) / n
    np.testing.assert_allclose(freq, choice_probabilities(utility[:1], lam[:1])[0], atol=0.005)


def test_transition_matrix_matches_the_simulated_chain():
    """The calibration's stand-in propagates distributions with `transition_matrix`; the simulated sticky logit
    with the same fixed level values must move between levels with the same frequencies."""
    rng = np.random.default_rng(1)
    values = np.array([[0.0, 0.2, 0.6]])
    depth, lam, join, exit_, rho = np.array([0.8]), np.array([5.0]), np.array([0.1]), np.array([0.5]), np.array([0.25])
    allowed = np.ones(3, dtype=bool)
    trans = transition_matrix(values, depth, lam, join, exit_, allowed, rho)[0]
    from greatgame.model.choice import status_utility

    n = 100_000
    for start in range(3):
        cur = np.full((n, 1), start)
        u = status_utility(np.broadcast_to(values[:, None], (n, 1, 3)), cur, depth, np.full(n, 0.1), np.full(n, 0.5),
                           np.ones(3, dtype=bool))
        nxt = logit_choice(u, np.full(n, 5.0), cur, np.full(n, 0.25), rng.random((n, 1)), rng.random((n, 1)))
        freq = np.bincount(nxt[:, 0], minlength=3) / n
        np.testing.assert_allclose(freq, trans[start], atol=0.006)


def test_autonomy_and_power_shares_sum_to_one():
    lev = np.random.default_rng(2).random((3, 5, 3, len(INFLUENCE)))
    autonomy = np.full((3, len(INFLUENCE)), 0.4)
    shares = influence_by_channel(lev, autonomy)
    own = autonomy[:, None, :] / (lev.sum(axis=-2) + autonomy[:, None, :])
    np.testing.assert_allclose(shares.sum(axis=-2) + own, 1.0)


def test_trade_without_noise_follows_its_trend():
    t0 = np.full((2, 1, 1), 10.0)
    trend = np.full((2, 1, 1), 0.05)
    zero = np.zeros(2)
    t = t0
    for _ in range(8):
        t = update_trade(t, trend, 0.25, 0.0, zero, np.zeros((2, 1)), zero, zero, zero, np.ones((2, 1, 1)))
    np.testing.assert_allclose(t, 10.0 * np.exp(0.05 * 2.0))


def test_marginal_value_a_second_format_adds_less_of_the_same_channel(baseline):
    """CIS and EAEU both channel migration: the CIS adds less to a state already in the EAEU (ODD 4.2b). The
    migration channel alone at unit weight (the estimated rule's weight is negative: the record's sign)."""
    weights = {f"parameters.weights.{b}": np.array([1.0 if b == "migration" else 0.0]) for b in BENEFIT}
    m = GreatGameModel(baseline.with_overrides({"initial_status": "blank"}), runs=1, run_values=weights)
    s, cis, eaeu = m.states.index("TJK"), m.formats.index("CIS"), m.formats.index("EAEU")
    m.perceive()
    alone = m.now.benefit[0, s, cis]
    m.state.status[0, s, eaeu] = Level.MEMBER
    m.perceive()
    assert m.now.benefit[0, s, cis] < alone


def test_regional_cooperation_substitutes_within_a_club_and_adds_up_across_clubs(baseline, tmp_path):
    """Regional cooperation is with a format's other members (ODD 4.2b): the OTS (Turkic states) leaves the CIS's
    regional benefit whole, while CA-China and the C5+1 (both club C5: the five meeting as a group) substitute."""
    weights = {f"parameters.weights.{b}": np.zeros(1) for b in BENEFIT if b != "regional"}  # regional channel only
    m = GreatGameModel(baseline.with_overrides({"initial_status": "blank"}), runs=1, run_values=weights)
    s = m.states.index("KAZ")
    cis, ots, c5, cac = (m.formats.index(f) for f in ("CIS", "OTS", "C5+1", "CA-China"))
    m.perceive()
    alone_cis, alone_cac = m.now.benefit[0, s, cis], m.now.benefit[0, s, cac]
    assert alone_cis > 0 and alone_cac > 0
    m.state.status[0, s, ots] = Level.MEMBER
    m.perceive()
    assert m.now.benefit[0, s, cis] == pytest.approx(alone_cis)
    m.state.status[0, s, c5] = Level.MEMBER
    m.perceive()
    assert m.now.benefit[0, s, cac] < alone_cac
    # a scenario that puts the OTS in the CIS's club makes them substitutes
    (tmp_path / "merged.yaml").write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: merged\n"
                                          "initial_status: blank\nformats: {OTS: {club: CIS}}\n")
    m2 = GreatGameModel(load_scenario(tmp_path / "merged.yaml"), runs=1, run_values=weights)
    m2.state.status[0, s, ots] = Level.MEMBER
    m2.perceive()
    assert m2.now.benefit[0, s, cis] < alone_cis


def test_a_neighbour_joining_changes_a_states_customs_union_benefit(baseline):
    """Kyrgyz trade with Russia crosses Kazakhstan: the EAEU is worth more to Kyrgyzstan once Kazakhstan is in
    it (ODD 4.2f)."""
    m = GreatGameModel(baseline.with_overrides({"initial_status": "blank"}), runs=1)
    kgz, kaz, eaeu = m.states.index("KGZ"), m.states.index("KAZ"), m.formats.index("EAEU")
    m.perceive()
    before = m.now.benefit[0, kgz, eaeu]
    m.state.status[0, kaz, eaeu] = Level.MEMBER
    m.perceive()
    assert m.now.benefit[0, kgz, eaeu] > before
    # ... and a state with a direct border to Russia is unaffected by its neighbours' choice
    m.state.status[0, kgz, eaeu] = Level.MEMBER
    b_kaz = m.now.benefit[0, kaz, eaeu]
    m.perceive()
    assert m.now.benefit[0, kaz, eaeu] == pytest.approx(b_kaz)


def test_an_accession_package_raises_the_targets_joining_probability(baseline):
    m = GreatGameModel(baseline, runs=1)
    s, f = m.states.index("TJK"), m.formats.index("EAEU")
    rus = m.powers.index("RUS")
    m.perceive()

    def p_member() -> float:
        from greatgame.model.choice import status_utility

        u = status_utility(m.level_values(), m.state.status, m.fmt.depth[:, None, :], m.p.switching_cost_join,
                           m.p.switching_cost_exit, m.derived.allowed_levels)
        return float(choice_probabilities(u, m.p.rationality)[0, s, f, Level.MEMBER])

    without = p_member()
    m.state.offers[0, rus, s, f] = 1.0  # US$1 bn on the table
    assert p_member() > without


def test_powers_bid_with_packages_and_pay_only_on_joining(baseline):
    m = GreatGameModel(baseline, runs=16, steps=40).run()
    rus = m.powers.index("RUS")
    assert (m.state.fund[:, rus] >= -1e-9).all()
    # the accession envelope accumulates: Russia has money for packages (or has paid some out)
    assert (m.state.fund[:, rus] + m.state.invest_added[:, :, rus].sum(axis=1) > 0).all()


def test_runs_with_different_parameters_equal_each_run_alone(baseline):
    values = {"parameters.rationality": [2.0, 8.0, 30.0], "parameters.weights.trade": [1.0, 5.0, 7.0],
              "formats.EAEU.depth": [0.5, 0.8, 1.0], "powers.CHN.budget_usd_bn_per_year": [1.0, 4.8, 9.0]}
    together = GreatGameModel(baseline, runs=3, steps=12, rng=4, run_values=values).run().recorder
    for k in range(3):
        alone = GreatGameModel(baseline, runs=1, replicate=k, steps=12, rng=4,
                               run_values={key: [v[k]] for key, v in values.items()}).run().recorder
        for name in ARRAYS:
            assert np.array_equal(getattr(together, name)[:, k], getattr(alone, name)[:, 0], equal_nan=True), (k, name)


def test_a_run_that_goes_non_finite_is_recorded_and_its_neighbours_are_unchanged(baseline):
    values = {"parameters.trade.access_elasticity": [0.3, 1e300]}
    m = GreatGameModel(baseline, runs=2, steps=6, rng=2, run_values=values).run()
    assert len(m.failures) == 1
    fail = m.failures[0]
    assert fail.run == 1 and fail.variable in ("turnover", "influence_total", "regional_total")
    assert fail.parameters["parameters.trade.access_elasticity"] == 1e300
    assert np.isnan(m.recorder.influence[fail.step:, 1]).all() and (m.recorder.status[fail.step:, 1] == -1).all()
    alone = GreatGameModel(baseline, runs=1, steps=6, rng=2, run_values={k: [v[0]] for k, v in values.items()}).run()
    for name in ARRAYS:
        assert np.array_equal(getattr(m.recorder, name)[:, 0], getattr(alone.recorder, name)[:, 0], equal_nan=True)


def test_benefit_channels_are_named_not_numbered():
    assert BENEFIT.trade == 0 and BENEFIT.regional == len(BENEFIT) - 1


def test_pruning_pairs_no_format_reaches_leaves_every_benefit_unchanged(baseline):
    """Benefit pairs that no format reaches in any run are dropped at construction (speed); a run's benefits are
    those of the same run in a model where a second run reaches every pair, so that nothing is dropped."""
    from greatgame.model.axes import BENEFIT
    from greatgame.model.choice import benefit_pairs

    alone = GreatGameModel(baseline, runs=1)
    st = alone.structure
    assert len(alone.derived.pair_actor) < len(benefit_pairs(st.members_q, alone.P, st.clubs)[0])  # some dropped
    every = {f"formats.{f}.channels.{b}": np.array([baseline.raw["formats"][f]["channels"][b], 0.5])
             for f in alone.formats for b in BENEFIT}
    full = GreatGameModel(baseline, runs=2, run_values=every)
    assert len(full.derived.pair_actor) > len(alone.derived.pair_actor)
    alone.perceive()
    full.perceive()
    np.testing.assert_allclose(full.now.benefit[0], alone.now.benefit[0], rtol=1e-12, atol=1e-15)
