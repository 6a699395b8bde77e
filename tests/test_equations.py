"""The equations of model/allocation.py and model/routes.py against their documented contracts (docs/ODD.md 4.1b,
4.1d, 4.2f): values computed by hand for small inputs, limits, monotonicity, and the axes of the results."""

import math

import numpy as np
import pytest
from greatgame.model.allocation import allocate, choose_offer
from greatgame.model.routes import route_completion, route_multiplier


def one(*values: float) -> np.ndarray:
    """A per-run parameter (R,) or a (1, n) array for one run."""
    return np.array([values])


# ----------------------------------------------------------------- allocate (ODD eq. 4.1b)
def test_allocate_by_hand():
    """value_s = w_s (1 + rival_response (rival_s + offers_s) - own_s); spending = budget x softmax(rationality x
    value) over states."""
    w, own, rival, offers = one(0.6, 0.4), one(0.1, 0.3), one(0.2, 0.1), one(0.0, 0.05)
    got = allocate(np.array([10.0]), w, own, rival, offers, np.array([2.0]), np.array([0.5]))
    v0 = 0.6 * (1 + 0.5 * (0.2 + 0.0) - 0.1)  # 0.6
    v1 = 0.4 * (1 + 0.5 * (0.1 + 0.05) - 0.3)  # 0.31
    e0, e1 = math.exp(2 * v0), math.exp(2 * v1)
    np.testing.assert_allclose(got, [[10 * e0 / (e0 + e1), 10 * e1 / (e0 + e1)]], rtol=1e-12)


def test_allocate_spends_the_whole_budget_of_each_run_on_the_states():
    """Shares are a softmax over states, run by run: each run's spending sums to its own budget."""
    rng = np.random.default_rng(3)
    R, S = 4, 5
    w = rng.dirichlet(np.ones(S), size=R)
    budget = np.array([1.0, 2.5, 0.0, 40.0])
    got = allocate(budget, w, rng.random((R, S)), rng.random((R, S)), rng.random((R, S)), np.array([0.5, 3, 8, 20]),
                   np.array([0.0, 0.5, 1.0, 2.0]))
    assert got.shape == (R, S) and (got >= 0).all()
    np.testing.assert_allclose(got.sum(axis=1), budget, rtol=1e-12)


def test_allocate_limits_of_rationality():
    """Rationality 0 spreads the budget equally; a very high rationality puts it all on the highest value, without
    overflow."""
    w, own, rival, offers = one(0.5, 0.3, 0.2), one(0.0, 0.0, 0.0), one(0.0, 0.0, 0.0), one(0.0, 0.0, 0.0)
    equal = allocate(np.array([9.0]), w, own, rival, offers, np.array([0.0]), np.array([1.0]))
    np.testing.assert_allclose(equal, [[3.0, 3.0, 3.0]])
    sharp = allocate(np.array([9.0]), w, own, rival, offers, np.array([1e4]), np.array([1.0]))
    assert np.isfinite(sharp).all()
    np.testing.assert_allclose(sharp, [[9.0, 0.0, 0.0]], atol=1e-12)


def test_allocate_follows_weakness_rivals_and_their_offers():
    """A power spends more where its own hold is weaker, where rivals are stronger or bid more (rival_response > 0),
    and ignores rivals when rival_response = 0."""
    w, base = one(0.5, 0.5), one(0.2, 0.2)
    zero = one(0.0, 0.0)

    def first(own=base, rival=base, offers=zero, response=0.8) -> float:
        return float(allocate(np.array([1.0]), w, own, rival, offers, np.array([4.0]), np.array([response]))[0, 0])

    assert first() == pytest.approx(0.5)
    assert first(own=one(0.4, 0.2)) < 0.5  # own influence is subtracted: a firm hold draws less
    assert first(rival=one(0.4, 0.2)) > 0.5  # a stronger rival draws more
    assert first(offers=one(0.1, 0.0)) > 0.5  # a rival's package on the table draws more
    assert first(rival=one(0.4, 0.2), offers=one(0.1, 0.0), response=0.0) == pytest.approx(0.5)


# ----------------------------------------------------------------- choose_offer (ODD eq. 4.1d)
NEED = np.array([[[3.0, 1.0], [2.0, 5.0]]])  # (R=1, S=2, F=2) US$ bn
OPEN = np.array([[[True, False], [True, True]]])  # the cheapest cell (0, 1) is not open to this power


def test_choose_offer_by_hand():
    """The cheapest open target, (1, 0) with need 2, offered at need x (1 + margin) = 3; nothing elsewhere."""
    got = choose_offer(NEED, OPEN, np.array([4.0]), np.array([0.5]))
    expected = np.zeros_like(NEED)
    expected[0, 1, 0] = 3.0
    np.testing.assert_array_equal(got, expected)


def test_choose_offer_only_what_the_fund_covers():
    """An offer is made when its price (margin included) is at most the fund: 3 <= 3 is offered, 3 > 2.99 is not."""
    assert choose_offer(NEED, OPEN, np.array([3.0]), np.array([0.5]))[0, 1, 0] == 3.0
    assert not choose_offer(NEED, OPEN, np.array([2.99]), np.array([0.5])).any()
    # with no margin the same target costs 2 and is covered
    assert choose_offer(NEED, OPEN, np.array([2.99]), np.array([0.0]))[0, 1, 0] == 2.0


def test_choose_offer_nothing_without_an_open_target_or_a_need():
    assert not choose_offer(NEED, np.zeros_like(OPEN), np.array([100.0]), np.array([0.5])).any()
    assert not choose_offer(np.zeros_like(NEED), OPEN, np.array([100.0]), np.array([0.5])).any()  # would join anyway


def test_choose_offer_run_by_run():
    """Each run chooses with its own needs, fund and margin, and offers at most one package."""
    need = np.concatenate([NEED, NEED[:, ::-1]])  # run 1: the states swapped
    open_ = np.concatenate([OPEN, OPEN])
    got = choose_offer(need, open_, np.array([10.0, 10.0]), np.array([0.5, 1.0]))
    assert ((got > 0).sum(axis=(1, 2)) == 1).all()
    assert got[0, 1, 0] == 3.0  # run 0 as by hand
    assert got[1, 1, 1] == 2.0  # run 1: needs [[2, 5], [3, 1]], the cheapest open (1, 1) at margin 1.0


# ----------------------------------------------------------------- route_completion (ODD eq. 4.2f)
def routes() -> tuple[np.ndarray, np.ndarray]:
    """States A, B, C; powers X (all trade direct) and Y. C's trade with Y: 0.6 on a path crossing A, 0.3 on a
    path crossing A and B, 0.1 direct."""
    transit = np.zeros((3, 2, 2, 3), dtype=bool)  # (S, P, L, S)
    share = np.zeros((3, 2, 2))  # (S, P, L)
    transit[2, 1, 0, 0] = True
    share[2, 1, 0] = 0.6
    transit[2, 1, 1, [0, 1]] = True
    share[2, 1, 1] = 0.3
    return transit, share


def test_route_completion_by_hand():
    """completion = (1 - sum_k w_k) + sum_k w_k prod_{t on path k} x[t, f]; a path that crosses two states needs
    both inside the format (a product, not a sum or a mean)."""
    transit, share = routes()
    x = np.array([[[1.0, 0.0], [0.5, 1.0], [0.0, 0.0]]])  # (R=1, S, F=2): A member of f0; B partial f0, member f1
    got = route_completion(x, transit, share)
    assert got.shape == (1, 3, 2, 2)  # (R, S, F, P)
    assert got[0, 2, 0, 1] == pytest.approx(0.1 + 0.6 * 1.0 + 0.3 * (1.0 * 0.5))  # 0.85
    assert got[0, 2, 1, 1] == pytest.approx(0.1)  # f1 holds B but not A: both paths leave it
    np.testing.assert_array_equal(got[..., 0], 1.0)  # trade with X needs no transit
    np.testing.assert_array_equal(got[0, :2], 1.0)  # A's and B's trade needs no transit


def test_route_completion_limits_and_monotonicity():
    """1 when every transit state is a full member, 1 - sum_k w_k when none is inside; never lower when a transit
    state's level share rises; independent of the trading state's own status; run by run."""
    transit, share = routes()
    inside, outside = np.ones((1, 3, 1)), np.zeros((1, 3, 1))
    assert route_completion(inside, transit, share)[0, 2, 0, 1] == pytest.approx(1.0)
    assert route_completion(outside, transit, share)[0, 2, 0, 1] == pytest.approx(0.1)
    grid = np.linspace(0, 1, 5)
    x = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 3)[:, :, None]  # (125, S, 1)
    c = route_completion(x, transit, share)[:, 2, 0, 1]
    for t in (0, 1):
        up = x.copy()
        up[:, t] = np.minimum(up[:, t] + 0.25, 1.0)
        assert (route_completion(up, transit, share)[:, 2, 0, 1] >= c - 1e-15).all()
    own = x.copy()
    own[:, 2] = 1.0 - own[:, 2]
    np.testing.assert_array_equal(route_completion(own, transit, share)[:, 2, 0, 1], c)


# ----------------------------------------------------------------- route_multiplier (ODD eq. 4.2f)
def test_route_multiplier_by_hand():
    """1 - route_weight x supranational_f x (1 - completion): a customs union loses route_weight of the part of
    the trade whose route leaves it; a format without supranational rules is unaffected."""
    completion = np.full((1, 1, 2, 1), 0.4)  # (R, S, F, P)
    got = route_multiplier(completion, np.array([[1.0, 0.0]]), np.array([0.5]))
    assert got.shape == (1, 1, 1, 2)  # (R, S, P, F)
    np.testing.assert_allclose(got[0, 0, 0], [1 - 0.5 * 1.0 * 0.6, 1.0])


def test_route_multiplier_axes_limits_and_runs():
    """The result is (R, S, P, F) with out[r, s, p, f] from completion[r, s, f, p]; it lies between
    1 - route_weight x supranational and 1, equals 1 at full completion and equals the completion when
    route_weight = supranational = 1; each run uses its own route weight."""
    rng = np.random.default_rng(5)
    R, S, F, P = 2, 3, 4, 2
    completion = rng.random((R, S, F, P))
    supra = rng.random((R, F))
    weight = np.array([0.0, 0.7])
    got = route_multiplier(completion, supra, weight)
    assert got.shape == (R, S, P, F)
    for r, s, f, p in np.ndindex(R, S, F, P):
        assert got[r, s, p, f] == pytest.approx(1 - weight[r] * supra[r, f] * (1 - completion[r, s, f, p]))
    np.testing.assert_array_equal(got[0], 1.0)  # route weight 0: no run-0 format is affected
    assert (got[1] >= 1 - 0.7 * supra[1][None, None, :] - 1e-15).all() and (got <= 1).all()
    np.testing.assert_array_equal(route_multiplier(np.ones((R, S, F, P)), supra, weight), 1.0)
    full = route_multiplier(completion, np.ones((R, F)), np.ones(R))
    np.testing.assert_allclose(full, completion.transpose(0, 1, 3, 2), rtol=1e-15)
