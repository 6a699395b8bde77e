"""The calibration's fast stand-in for "simulate until statuses settle" (docs/ODD.md 9).

A mean-field chain: each cell's distribution over none/partial/member is propagated with its sticky-logit
transition matrix (`model.choice.transition_matrix`), and the matrices are recomputed every few steps with the
expected level shares of all other cells, so marginal values, neighbours' routes and hedging respond. It is an
approximation once cells are coupled; the calibration therefore continues the search by simulation.
"""

from __future__ import annotations

import numpy as np
from greatgame.model.choice import level_share, transition_matrix
from greatgame.model.core import GreatGameModel
from greatgame.model.scenario import Scenario

from .record import Hazards, record_hazards

INSTITUTIONS = ("CSTO", "EAEU", "SCO", "CIS", "OTS")
HAZARD_STEPS = 20  # the model's hazards are measured over five years from the observed pattern (ODD 9)


def observed_cells(states: tuple[str, ...], formats: tuple[str, ...], year: int = 2022) -> np.ndarray:
    """Observed status codes of the institutions in `year`, (S, 5); -1 where a format is missing."""
    from greatgame.model.fundamentals import observed_status

    obs = observed_status(year)
    return np.array([[obs.get((s, f), -1) if f in formats else -1 for f in INSTITUTIONS] for s in states])


def annual(per_step: float | np.ndarray, dt: float) -> float | np.ndarray:
    """A per-step probability as a per-year hazard."""
    return 1.0 - (1.0 - per_step) ** (1.0 / dt)


class AlignmentSurrogate:
    """Status distributions for a parameter vector, computed without simulating (a few ms): a mean-field stand-in
    (docs/ODD.md 9). Each cell's level distribution is propagated with its sticky-logit transition matrix; the
    matrices are recomputed every `chunk` steps with the *expected* level shares of every other cell (the marginal
    values, the neighbours' routes) and the expected engagement (hedging). Two chains: from a blank slate (the
    pattern), and from the observed pattern of the start year (the hazards of leaving and joining over the next
    `HAZARD_STEPS`, to compare with the record). Packages and the noise of single runs are left out; candidates
    are then checked by simulating the real model."""

    def __init__(self, scenario: Scenario, keys: list[str], cutoff: float | None = None) -> None:
        self.model = GreatGameModel(scenario.with_overrides({"initial_status": "blank"}), runs=1)
        self.keys = keys
        m = self.model
        year = int(scenario.raw["data_year"])
        self.cols = [m.formats.index(f) for f in INSTITUTIONS]
        self.observed = observed_cells(m.states, m.formats, year)
        start = GreatGameModel(scenario.with_overrides({"initial_status": "data"}), runs=1).state.status  # (1, S, F)
        self.observed_start = np.eye(3)[start]
        self.record = record_hazards(cutoff if cutoff is not None else year + scenario.start[1] / 12.0)

    def _set(self, x: np.ndarray) -> None:
        m = self.model
        for k, v in zip(self.keys, x, strict=True):
            m.values.set(k, v)
        m.derive()

    def _propagate(self, dist: np.ndarray, steps: int, chunk: int):
        """Yield (distribution before the step, transition matrices, distribution after) for `steps` steps from
        `dist` (1, S, F, 3)."""
        m, p = self.model, self.model.p
        allowed = m.derived.allowed_levels
        levels = np.array([0.0, 0.5, 1.0])
        for start in range(0, steps, chunk):
            m.state.engagement = dist @ levels
            m.update_influence()
            m.perceive(share=level_share(dist, p.partial_benefit_share))
            trans = transition_matrix(m.level_values(), m.fmt.depth[:, None, :], p.rationality, p.switching_cost_join,
                                      p.switching_cost_exit, allowed, p.revision_rate)
            for _ in range(start, min(start + chunk, steps)):
                after = np.einsum("rsfc,rsfck->rsfk", dist, trans)
                yield dist, trans, after
                dist = after

    def distribution(self, x: np.ndarray, steps: int = 120, window: int = 40, chunk: int = 20) -> np.ndarray:
        """(S, F, 3) probabilities of none/partial/member averaged over the last `window` of `steps` periods from a
        blank slate."""
        self._set(x)
        dist = np.zeros((1, self.model.S, self.model.F, 3))
        dist[..., 0] = 1.0
        avg = np.zeros_like(dist)
        for t, (_, _, after) in enumerate(self._propagate(dist, steps, chunk)):
            if t >= steps - window:
                avg += after
        return avg[0] / window

    def hazards(self, x: np.ndarray, states: list[int] | None = None, steps: int = HAZARD_STEPS,
                chunk: int = 10) -> tuple[float, float]:
        """Annual hazards in the institution cells over `steps` quarters from the observed pattern: down from
        member, up from none (the model's counterpart of the record's hazards)."""
        self._set(x)
        rows = list(range(self.model.S)) if states is None else states
        valid = (self.observed >= 0)[rows]
        out_m = in_m = out_n = in_n = 0.0
        for d, trans, _ in self._propagate(self.observed_start, steps, chunk):
            pr, tr = d[0][rows][:, self.cols], trans[0][rows][:, self.cols]
            member, none = pr[..., 2] * valid, pr[..., 0] * valid
            out_m += (member * (tr[..., 2, 0] + tr[..., 2, 1])).sum()
            in_m += member.sum()
            out_n += (none * (tr[..., 0, 1] + tr[..., 0, 2])).sum()
            in_n += none.sum()
        return annual(out_m / max(in_m, 1e-12), self.model.dt), annual(out_n / max(in_n, 1e-12), self.model.dt)

    def score(self, x: np.ndarray, states: list[int] | None = None) -> tuple[int, float, float]:
        """(cells whose most likely status is the observed one, summed probability of the observed statuses,
        squared log distance of the hazards from the record's)."""
        cells = self.distribution(x)[:, self.cols]
        rows = list(range(len(self.observed))) if states is None else states
        obs, pr = self.observed[rows], cells[rows]
        valid = obs >= 0
        hit = (pr.argmax(axis=-1) == obs) & valid
        soft = np.take_along_axis(pr, np.maximum(obs, 0)[..., None], axis=-1)[..., 0][valid].sum()
        return int(hit.sum()), float(soft), hazard_miss(*self.hazards(x, states), self.record)


def hazard_miss(down: float, up: float, record: Hazards) -> float:
    """Squared log distance of a model's annual exit and join hazards from the record's."""
    return float(np.log(max(down, 1e-6) / record.down_from_member) ** 2
                 + np.log(max(up, 1e-6) / record.up_from_none) ** 2)
