"""A state's choice of status in each format: marginal benefits, costs and a sticky logit (docs/ODD.md 4.2).

Status levels k = 0 none, 1 partial, 2 member (`axes.Level`). Arrays carry a leading run axis R; states S, formats F,
actors Q = the powers plus one "region" column for needs no power supplies (the Afghan threat, regional
cooperation), benefit channels B (`axes.BENEFIT`), obligations O (`axes.OBLIGATION`). Parameters are arrays with one
value per run, shape (R,), and broadcast against the state arrays.
"""

from __future__ import annotations

import numpy as np

from .axes import BENEFIT, OBLIGATION, Level

LEVEL_ENGAGEMENT = np.array([0.0, 0.5, 1.0])  # engagement target of each status level (ODD eq. 4.3a)


def per_run(x: np.ndarray | float, ndim: int) -> np.ndarray:
    """A per-run parameter of shape (R,) (or a scalar) reshaped to (R, 1, ..., 1) with `ndim` axes in all."""
    x = np.asarray(x, dtype=float)
    return x.reshape(x.shape + (1,) * (ndim - x.ndim)) if x.ndim else x


def level_share(status: np.ndarray, partial_share: np.ndarray) -> np.ndarray:
    """Share of a format's benefits a status brings: 0 none, `partial_share` partial, 1 member (ODD eq. 4.2b).
    status (R, S, F) int or expected level weights (R, S, F, 3); partial_share (R,)."""
    if status.dtype.kind == "f" and status.ndim == 4:  # a distribution over levels (the calibration's stand-in)
        return status[..., Level.PARTIAL] * per_run(partial_share, 3) + status[..., Level.MEMBER]
    return np.where(status == Level.MEMBER, 1.0, np.where(status == Level.PARTIAL, per_run(partial_share, 3), 0.0))


def exposure(turnover: np.ndarray, invest_stock: np.ndarray, security: np.ndarray, energy: np.ndarray,
             migration: np.ndarray, gdp: np.ndarray, threat: np.ndarray) -> np.ndarray:
    """Exposure E[r, s, q, b] of each state to each actor by benefit channel (ODD eq. 4.2a): for a power,
    trade = turnover/GDP, investment = stock/GDP, security = arms-stock share + presence x (1 + threat) (eq. 4.4c),
    energy_transport = export-route share x price (4.4e), migration = remittances/GDP; for the region column,
    security = the state's threat and regional = 1. Inputs (R, S, P) except gdp (R, S) and threat (R, S)."""
    R, S, P = turnover.shape
    out = np.zeros((R, S, P + 1, len(BENEFIT)))
    g = gdp[..., None]
    out[:, :, :P, BENEFIT.trade] = turnover / g
    out[:, :, :P, BENEFIT.investment] = invest_stock / g
    out[:, :, :P, BENEFIT.security] = security
    out[:, :, :P, BENEFIT.energy_transport] = energy
    out[:, :, :P, BENEFIT.migration] = migration
    out[:, :, P, BENEFIT.security] = threat
    out[:, :, P, BENEFIT.regional] = 1.0
    return out


NO_ACCESS_FLOOR = 1e-9  # 1 - access is floored here so that a leave-one-out product is a division (ODD 4.2b)


def marginal_benefit(value: np.ndarray, share: np.ndarray, reach: np.ndarray,
                     route: tuple[np.ndarray, int, np.ndarray] | None = None) -> np.ndarray:
    """Benefit M[r, s, f] of full membership of f *given the other formats the state holds* (ODD eq. 4.2b).

    For each (actor q, channel b) pair k, a state's access is a noisy-OR over its formats,
    access_k = 1 - prod_f (1 - x_f reach_kf), where x_f is the level share of its status in f and
    reach_kf = c_fb [q in f] x route (4.2f). The marginal benefit of f is what f adds to the access the other
    formats already give: M = sum_k w_b E_sq,b reach_kf prod_{g != f} (1 - x_g reach_kg). So the CIS adds little
    migration access to a state already in the EAEU, and vice versa. (1 - access) terms are floored at
    NO_ACCESS_FLOOR, so the product over the other formats is the product over all divided by f's.
    value (R, S, K) = w_b x E for each pair; share (R, S, F); reach (R, 1, K, F) without routes; route, if given,
    (multiplier (R, S, n, G), n, formats (G,)): the first n pairs' reach in formats G is multiplied by it (the
    routed pairs in the customs unions, 4.2f). Returns (R, S, F)."""
    mult, n, formats = route if route is not None else (None, 0, ())

    def apply_routes(x: np.ndarray) -> None:
        for j, g in enumerate(formats):  # a view per customs union: no copy of the whole array
            x[:, :, :n, g] *= mult[..., j]

    gap = np.broadcast_to(reach, share.shape[:2] + reach.shape[2:]).copy()  # (R, S, K, F); copy, then in place:
    gap *= share[:, :, None, :]  # faster than a fresh broadcast product
    apply_routes(gap)
    np.subtract(1.0, gap, out=gap)
    np.maximum(gap, NO_ACCESS_FLOOR, out=gap)
    total = gap[..., 0].copy()
    for f in range(1, gap.shape[-1]):  # a product over a short last axis is faster as F - 1 multiplications
        total *= gap[..., f]
    np.divide(total[..., None], gap, out=gap)
    gap *= reach
    apply_routes(gap)
    return np.matmul(value[:, :, None, :], gap)[:, :, 0, :]  # sum over pairs k of value_k x gap_kf


def benefit_pairs(members: np.ndarray, n_powers: int, clubs: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (actor, channel) pairs through which a format can bring a benefit (ODD eq. 4.2b): every power with
    every channel but `regional`, the region column with security (the common threat), and one `regional` pair per
    club (regional cooperation is with a format's other members: formats of the same club substitute for each
    other, formats of different clubs do not); pairs with no format are dropped. members (F, Q); clubs (F,) club
    index of each format (default: every format its own club). Returns the actor, channel and club (-1: not a
    club pair) of each pair, trade and energy/transport pairs of the powers first (the ones routes act on)."""
    F = members.shape[0]
    clubs = np.arange(F) if clubs is None else np.asarray(clubs)
    routed = [(q, b, -1) for q in range(n_powers) for b in (BENEFIT.trade, BENEFIT.energy_transport)]
    other = [(q, b, -1) for q in range(n_powers) for b in range(len(BENEFIT))
             if b not in (BENEFIT.trade, BENEFIT.energy_transport, BENEFIT.regional)]
    other += [(n_powers, BENEFIT.security, -1)]
    other += [(n_powers, BENEFIT.regional, int(c)) for c in np.unique(clubs)]
    pairs = [(q, b, c) for q, b, c in routed + other if members[:, q].any()]
    actor, channel, club = (np.array([x[i] for x in pairs], dtype=int) for i in range(3))
    return actor, channel, club


def pair_reach(channels: np.ndarray, members_q: np.ndarray, actor: np.ndarray, channel: np.ndarray,
               club: np.ndarray, clubs: np.ndarray) -> np.ndarray:
    """Reach c_fb [q in f] of each pair k in each format f, (R, K, F) (ODD eq. 4.2b); a club pair reaches only the
    formats of its club. channels (R, F, B); members_q (F, Q); pair arrays (K,); clubs (F,)."""
    reach = channels[:, :, channel].transpose(0, 2, 1) * members_q[:, actor].T
    in_club = np.where(club[:, None] < 0, True, club[:, None] == np.asarray(clubs)[None, :])  # (K, F)
    return reach * in_club


def sovereignty_cost(obligations: np.ndarray, obligation_cost: np.ndarray, doctrine_penalty: np.ndarray,
                     doctrine: np.ndarray) -> np.ndarray:
    """Sovereignty cost of full membership (ODD eq. 4.2c): sum_o obligation_fo x (cost_o + penalty[doctrine_s, o]).
    Doctrine binds only through the obligations a format's charter imposes. obligations (R, F, O);
    obligation_cost (R, O); doctrine_penalty (R, D, O); doctrine (S,) doctrine index. Returns (R, S, F)."""
    per_obligation = obligation_cost[:, None, :] + doctrine_penalty[:, doctrine, :]  # (R, S, O)
    return np.einsum("rfo,rso->rsf", obligations, per_obligation)


def bloc_penalty(obligations: np.ndarray, doctrine_penalty: np.ndarray, doctrine: np.ndarray) -> np.ndarray:
    """Doctrine penalty that any participation carries, observers included (ODD eq. 4.2d): a doctrine that bars
    military blocs bars sitting in one at all, so the collective-defence penalty applies to partial status too;
    the other obligations bind full members only. Returns (R, S, F)."""
    o = OBLIGATION.collective_defence
    return obligations[:, None, :, o] * doctrine_penalty[:, doctrine, o][:, :, None]


def dependence(turnover: np.ndarray, invest_stock: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Dependence of each state on each power (ODD eq. 4.2c): (turnover + investment stock) / GDP, (R, S, P)."""
    return (turnover + invest_stock) / gdp[..., None]


def format_cost(sovereignty: np.ndarray, friction: np.ndarray, sanctions_exposure: np.ndarray,
                members: np.ndarray, dependence: np.ndarray, sanctions: np.ndarray, secondary: np.ndarray,
                influence_share: np.ndarray, w_friction: np.ndarray, w_sanctions: np.ndarray,
                w_hedging: np.ndarray) -> np.ndarray:
    """Cost C[r, s, f] of full membership (ODD eq. 4.2c) = sovereignty + friction + sanctions + hedging:
    friction = w_fric x friction_f x sum over powers outside f of the state's dependence on them;
    sanctions = w_sanc x exposure_f x sum over member powers of sanctions_p x secondary enforcement;
    hedging = w_hedge x sum over member powers of max(0, share of p in the state's influence - 1/(P+1)).
    sovereignty (R, S, F); friction, sanctions_exposure (R, F); members (F, P); dependence, influence_share
    (R, S, P); sanctions (R, P); secondary and the weights (R,)."""
    P = members.shape[1]
    outside = 1.0 - members
    fric = per_run(w_friction, 3) * friction[:, None, :] * np.einsum("fp,rsp->rsf", outside, dependence)
    sanc = (per_run(w_sanctions * secondary, 2) * sanctions_exposure * (sanctions @ members.T))[:, None, :]
    excess = np.maximum(influence_share - 1.0 / (P + 1), 0.0)
    hedge = per_run(w_hedging, 3) * np.einsum("fp,rsp->rsf", members, excess)
    return sovereignty + fric + sanc + hedge


def level_values(benefit: np.ndarray, cost: np.ndarray, sovereignty: np.ndarray, partial_benefit: np.ndarray,
                 partial_cost: np.ndarray, package: np.ndarray | float = 0.0, bloc: np.ndarray | float = 0.0
                 ) -> np.ndarray:
    """Value of each level before switching costs, (..., 3) (ODD eq. 4.2d):
    V(none) = 0, V(partial) = x_b B - x_c (C - Sov) - Bloc, V(member) = B - C + package.
    Binding obligations bind full members only (observers and associates are not parties to the binding
    instruments: EAEU Treaty art. 109, the CIS associate status), so the sovereignty and doctrine cost Sov
    (part of C) falls on `member`; partial status bears a share x_c of the political costs (friction,
    sanctions exposure, hedging) and the doctrine's bar on sitting in a military bloc at all (`bloc_penalty`).
    benefit, cost, sovereignty, bloc (R, ...); partial shares (R,)."""
    nd = benefit.ndim
    out = np.zeros(benefit.shape + (3,))
    out[..., Level.PARTIAL] = (per_run(partial_benefit, nd) * benefit - per_run(partial_cost, nd) * (cost - sovereignty)
                               - bloc)
    out[..., Level.MEMBER] = benefit - cost + package
    return out


def switching_cost(current: np.ndarray, depth: np.ndarray, join_cost: np.ndarray, exit_cost: np.ndarray) -> np.ndarray:
    """Cost of moving from `current` to each level, (..., 3) (ODD eq. 4.2d): join_cost x depth per level up,
    exit_cost x depth per level down. current (R, ...) int; depth broadcastable to current; costs (R,)."""
    nd = current.ndim + 1
    move = np.arange(3) - current[..., None]
    return np.where(move > 0, per_run(join_cost, nd) * move, -per_run(exit_cost, nd) * move) * depth[..., None]


def switching_table(depth: np.ndarray, join_cost: np.ndarray, exit_cost: np.ndarray) -> np.ndarray:
    """`switching_cost` for every (from, to) pair of levels, (R, F, 3, 3), from depth (R, F) and costs (R,) or
    per format (R, F)."""
    cur = np.broadcast_to(np.arange(3), depth.shape + (3,))
    return switching_cost(cur, depth[..., None], join_cost, exit_cost)


def kind_switching_table(kind_costs: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """The switching table (R, F, 3, 3) by format kind (ODD eq. 4.2d, kind form): moving from level a to b in
    format f costs join_kind(f) x (b - a) up and exit_kind(f) x (a - b) down, with no depth factor.
    kind_costs (R, K, 2) (join, exit) per kind in `axes.KIND` order; kinds (F,) the kind index of each format."""
    per_format = kind_costs[:, np.asarray(kinds)]  # (R, F, 2)
    return switching_table(np.ones(per_format.shape[:2]), per_format[..., 0], per_format[..., 1])


def switching_from(table: np.ndarray, current: np.ndarray, level: int | None = None) -> np.ndarray:
    """The rows of a `switching_table` (R, F, 3, 3) for the current levels (R, S, F): (R, S, F, 3), or the
    column of one target `level`, (R, S, F)."""
    r = np.arange(table.shape[0])[:, None, None]  # a gather by index arrays: twice as fast as take_along_axis
    f = np.arange(table.shape[1])[None, None, :]
    return table[r, f, current] if level is None else table[r, f, current, level]


def status_utility(values: np.ndarray, current: np.ndarray, depth: np.ndarray, join_cost: np.ndarray,
                   exit_cost: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Utility U[r, s, f, k] of each level (ODD eq. 4.2d): level value minus the switching cost from the current
    level; levels not allowed get -inf."""
    u = values - switching_cost(current, depth, join_cost, exit_cost)
    return np.where(allowed, u, -np.inf)


def choice_probabilities(utility: np.ndarray, rationality: np.ndarray) -> np.ndarray:
    """Logit probabilities exp(lambda U_k) / sum_j exp(lambda U_j) over the last axis of three levels
    (ODD eq. 4.2e). (Reductions over the short level axis are written out: much faster than numpy's.)"""
    top = np.maximum(np.maximum(utility[..., 0], utility[..., 1]), utility[..., 2])[..., None]
    p = np.exp(per_run(rationality, utility.ndim) * (utility - top))
    return p / (p[..., 0] + p[..., 1] + p[..., 2])[..., None]


def transition_matrix(values: np.ndarray, depth: np.ndarray, rationality: np.ndarray, join_cost: np.ndarray,
                      exit_cost: np.ndarray, allowed: np.ndarray, revision_rate: np.ndarray) -> np.ndarray:
    """One-step transition matrix of the sticky logit chain of eq. 4.2e with fixed level values, (R, ..., 3, 3),
    rows = from: keep the level with probability 1 - revision_rate, else move to k with the logit probability of
    U_k = V_k - switching(c, k). Used by the calibration's stand-in to propagate status distributions.
    values (R, ..., 3); depth broadcastable to values[..., 0]; allowed (..., 3); parameters (R,)."""
    cur = np.broadcast_to(np.arange(3), values.shape[:-1] + (3,))  # (R, ..., c)
    sw = switching_cost(cur, depth[..., None], join_cost, exit_cost)  # (R, ..., c, k)
    return table_transition_matrix(values, sw, rationality, allowed, revision_rate)


def table_transition_matrix(values: np.ndarray, switching: np.ndarray, rationality: np.ndarray, allowed: np.ndarray,
                            revision_rate: np.ndarray) -> np.ndarray:
    """`transition_matrix` from a switching table: T[c, k] = (1 - rho) [c = k] + rho logit_k(V - switching[c]),
    (R, ..., 3, 3). switching (R, ..., c, k) broadcastable against values[..., None, :], e.g. the model's
    `derived.switching` (R, F, 3, 3) put on the format axis of values (R, S, F, 3)."""
    u = np.where(allowed[..., None, :], values[..., None, :] - switching, -np.inf)
    m = choice_probabilities(u, rationality)
    rho = per_run(revision_rate, m.ndim)
    return (1.0 - rho) * np.eye(3) + rho * m


def logit_choice(utility: np.ndarray, rationality: np.ndarray, current: np.ndarray, revision_rate: np.ndarray,
                 u_revise: np.ndarray, u_pick: np.ndarray) -> np.ndarray:
    """Sticky quantal-response choice (ODD eq. 4.2e): with probability `revision_rate` a state reconsiders a
    format and picks level k with its logit probability; otherwise it keeps its status. u_revise and u_pick are
    uniform draws of the shape of `current`."""
    return draw_level(choice_probabilities(utility, rationality), current, revision_rate, u_revise, u_pick)


def draw_level(probabilities: np.ndarray, current: np.ndarray, revision_rate: np.ndarray, u_revise: np.ndarray,
               u_pick: np.ndarray, cumulative: bool = False) -> np.ndarray:
    """The draw of eq. 4.2e from given logit probabilities (..., 3) (or their cumulative sums): revise with
    probability `revision_rate`, then pick level k where u_pick falls in the cumulative probabilities."""
    if cumulative:
        first, second = probabilities[..., 0], probabilities[..., 1]
    else:
        first = probabilities[..., 0]
        second = first + probabilities[..., 1]
    pick = (u_pick > first).astype(np.int64) + (u_pick > second)
    return np.where(u_revise < per_run(revision_rate, current.ndim), pick, current)
