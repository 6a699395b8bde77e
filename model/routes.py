"""Neighbours and routes: how one state's status changes its neighbours' payoffs (docs/ODD.md 4.2f).

A state's trade with a power runs along land routes that cross other states (`model/data/routes.csv`, with sources:
all overland freight to Russia from Kyrgyzstan, Tajikistan, Turkmenistan and Uzbekistan crosses Kazakhstan;
Tajik rail crosses Uzbekistan; Turkmen gas to China crosses Uzbekistan and Kazakhstan). A customs union removes
border controls only inside its own territory, so what it is worth to a state depends on whether the transit
states are in it too: Baldwin's domino theory of regionalism (Baldwin 1993, NBER WP 4465). Kazakhstan's lifting of
customs posts on the Kyrgyz border on Kyrgyzstan's EAEU accession (12 Aug 2015, TASS) is the case in point.
"""

from __future__ import annotations

import numpy as np

from .choice import per_run


def route_completion(level_share: np.ndarray, path_transit: np.ndarray, path_share: np.ndarray) -> np.ndarray:
    """Share of each state's trade with each power whose route lies inside a format's territory (ODD eq. 4.2f):
    route[r, s, f, p] = (1 - sum_k w_spk) + sum_k w_spk prod_{t crossed by path k} x[r, t, f], where w are the path
    shares (the rest of the trade needs no transit) and x the transit states' level shares in f.
    level_share x (R, S, F); path_transit (S, P, L, S) bool: path k of (s, p) crosses state t; path_share w
    (S, P, L). Returns (R, S, F, P)."""
    R, S, F = level_share.shape
    P = path_transit.shape[1]
    out = np.broadcast_to((1.0 - path_share.sum(axis=-1)).T[None, None], (R, F, P, S)).copy()  # (R, F, P, S)
    for s, p, k in zip(*np.nonzero(path_share), strict=True):
        inside = np.prod(level_share[:, path_transit[s, p, k], :], axis=1)  # (R, F)
        out[:, :, p, s] += path_share[s, p, k] * inside
    return out.transpose(0, 3, 1, 2)


def route_multiplier(completion: np.ndarray, supranational: np.ndarray, route_weight: np.ndarray) -> np.ndarray:
    """Multiplier of a format's trade and energy/transport benefit with each power (ODD eq. 4.2f):
    1 - route_weight x supranational_f x (1 - route completion). Formats without supranational trade rules (no
    customs union) are unaffected. completion (R, S, F, P); supranational (R, F); route_weight (R,).
    Returns (R, S, P, F)."""
    loss = per_run(route_weight, 4) * supranational[:, None, None, :] * (1.0 - completion.transpose(0, 1, 3, 2))
    return 1.0 - loss
