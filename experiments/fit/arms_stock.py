"""The decay rate delta of the arms-delivery stock, estimated from the SIPRI series of the panel (docs/ODD.md 7.5).

The security channel holds each state's arms imports as a perpetual inventory by supplier,
K[s, q]_y = (1 - delta) K[s, q]_{y-1} + D[s, q]_y (ODD eq. 4.4c), and a power's arms leverage is its share of K.
delta is chosen so that the stock shares built from the deliveries up to year y best predict the supplier shares of
year y + 1's deliveries, pooled over the 11 panel states (the five modelled states and the six post-Soviet states)
and the suppliers RUS, CHN, USA, TUR, EU and others (ALL minus those five):

    loss(delta) = sum over (state, year) of sum_q (K[s, q]_y / K[s]_y - D[s, q]_{y+1} / D[s]_{y+1})^2

over the state-years with deliveries in y + 1 and a recorded stock by y (a fixed set for every delta < 1). Least
squares on shares (a Brier score) and not a multinomial likelihood: it needs no floor for a supplier that delivers
for the first time (a likelihood puts log 0 there, and the estimate then moves with the floor), and each state-year
counts once, so the large importers (Ukraine, Azerbaijan, Kazakhstan) do not decide delta alone. delta is searched
on a grid of step 0.01 in [0, 0.99] (delta = 1 keeps only the last year: a stock of zero after a year without
deliveries, so the sample would change). The range is a bootstrap by state: states drawn with replacement, the
grid minimum of each draw, its 5th and 95th percentiles. `upto=Y` uses only deliveries of years <= Y (the estimate a
Y-start scenario may use; SIPRI's tables end in 2021).

    python -m greatgame.experiments.fit.arms_stock --upto 2022
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
from greatgame.model.panel import STATES, load_panel
from greatgame.model.security import delivery_table

SUPPLIERS = ("RUS", "CHN", "USA", "TUR", "EU")
GRID = np.round(np.arange(0.0, 0.995, 0.01), 2)


@dataclass(frozen=True)
class DeltaEstimate:
    """The estimate, its bootstrap range and the loss profile it comes from."""

    upto: int
    delta: float
    low: float  # 5th percentile of the bootstrap by state
    high: float  # 95th percentile
    observations: int  # state-years predicted
    last_year: int  # last data year used
    grid: np.ndarray
    loss: np.ndarray  # pooled loss at each grid value
    identified: bool  # the profile has an interior minimum

    def describe(self) -> str:
        """Lines for the command line."""
        flat = "" if self.identified else " (profile flat or at a bound: delta not identified)"
        return (f"delta (arms stock decay per year), data 1992-{self.last_year}, {self.observations} state-years: "
                f"{self.delta:.2f}, bootstrap by state 5-95%: {self.low:.2f}-{self.high:.2f}{flat}\n"
                f"loss at delta 0, {self.delta:.2f}, 0.5, 0.9: " + ", ".join(
                    f"{self.loss[int(round(d * 100))]:.3f}" for d in (0.0, self.delta, 0.5, 0.9)))


def state_losses(deliveries: np.ndarray, grid: np.ndarray = GRID) -> tuple[np.ndarray, int]:
    """Loss of each state at each grid value, (S, G), and the number of state-years predicted.
    deliveries (S, Q, Y) TIV mn."""
    S, _, Y = deliveries.shape
    stock = np.zeros((len(grid), S, deliveries.shape[1]))
    loss = np.zeros((S, len(grid)))
    cumulative = np.zeros(S)
    n = 0
    keep = (1.0 - grid)[:, None, None]
    for y in range(Y - 1):
        stock = keep * stock + deliveries[None, :, :, y]
        cumulative += deliveries[:, :, y].sum(axis=1)
        nxt = deliveries[:, :, y + 1]
        ok = (nxt.sum(axis=1) > 0) & (cumulative > 0)
        if not ok.any():
            continue
        share = stock[:, ok] / stock[:, ok].sum(axis=-1, keepdims=True)
        target = nxt[ok] / nxt[ok].sum(axis=-1, keepdims=True)
        loss[ok] += ((share - target[None]) ** 2).sum(axis=-1).T
        n += int(ok.sum())
    return loss, n


def estimate_delta(upto: int, boot: int = 2000, seed: int = 1) -> DeltaEstimate:
    """The delta minimising the pooled loss on the deliveries of years <= upto, with a bootstrap by state."""
    rows = load_panel("arms_tiv", upto=upto)
    years = np.arange(int(rows["year"].min()), int(rows["year"].max()) + 1)
    losses, n = state_losses(delivery_table(rows, STATES, SUPPLIERS, years))
    total = losses.sum(axis=0)
    best = int(np.argmin(total))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(STATES), size=(boot, len(STATES)))
    picks = GRID[np.argmin(losses[draws].sum(axis=1), axis=1)]
    low, high = np.percentile(picks, [5, 95])
    return DeltaEstimate(upto, float(GRID[best]), float(low), float(high), n, int(years[-1]), GRID, total,
                         0 < best < len(GRID) - 1)


def main(argv: list[str] | None = None) -> int:
    """Print the estimate and its range for an origin year."""
    parser = argparse.ArgumentParser(prog="python -m greatgame.experiments.fit.arms_stock",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--upto", type=int, default=2022, help="last year the estimate may see (default 2022)")
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap draws (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="bootstrap seed (default 1)")
    args = parser.parse_args(argv)
    print(estimate_delta(args.upto, args.boot, args.seed).describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
