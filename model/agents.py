"""Mesa agents. Each agent acts on its own row of the model's arrays for every run at once (leading run axis)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .allocation import allocate, effective_budget, should_convene
from .choice import logit_choice, status_utility

if TYPE_CHECKING:
    from .core import GreatGameModel


class PowerAgent(mesa.Agent):
    """A great power: spends its engagement budget across states and may convene a new format."""

    model: GreatGameModel

    def __init__(self, model: GreatGameModel, code: str, index: int) -> None:
        super().__init__(model)
        self.code, self.index = code, index

    def step(self) -> None:
        """Allocate this step's budget across states and instruments; convene the template format if due."""
        m, j = self.model, self.index
        pp = m.p["powers"]
        budget = effective_budget(m.budget[j], m.budget_scale[j], m.sanctions[j], pp["sanctions_capacity_loss"])
        own = m.influence_total[:, :, j]
        rivals = m.influence_total.sum(axis=-1) - own
        per_state = allocate(np.full(m.R, budget), m.state_weight, own, rivals,
                             pp["allocation_rationality"], pp["rival_response"])
        m.spending[:, :, j, :] = per_state[..., None] * m.instrument_shares[j]
        t = m.template[j]
        if t >= 0:
            member = (m.status == 2) & m.active[:, None, :]
            # reach: states that are full members of a format this power runs alone (the seed: Russia's own
            # institutions hold only part of the region; the SCO, run with China, does not count)
            own = (m.convenor[:, j] > 0) & (m.convenor.sum(axis=1) == 1)
            reach = (member & own).any(axis=-1).sum(axis=-1)
            now, m.steps_below[:, j] = should_convene(
                m.regional_total[:, j], m.aspiration[j], reach, m.S, m.steps_below[:, j],
                pp["convene_patience_steps"], pp["convene_probability"], m.u_convene[:, j], ~m.active[:, t])
            if now.any():
                m.open_format(t, now)


class StateAgent(mesa.Agent):
    """A Central Asian state: reconsiders its status in each format by a sticky logit choice."""

    model: GreatGameModel

    def __init__(self, model: GreatGameModel, code: str, index: int) -> None:
        super().__init__(model)
        self.code, self.index = code, index

    def step(self) -> None:
        """Compute the utility of none/partial/member in every format and draw this step's choices."""
        m, s = self.model, self.index
        pr = m.p
        benefit, cost = m.benefit_and_cost(s)
        allowed = m.allowed[s][None] & m.active[:, :, None]
        allowed[..., 0] = True  # 'none' is always possible, also in a format that does not exist (yet)
        utility = status_utility(benefit, cost, m.status[:, s], m.depth, pr["partial_benefit_share"],
                                 pr["partial_cost_share"], pr["switching_cost_join"], pr["switching_cost_exit"],
                                 allowed)
        m.next_status[:, s] = logit_choice(utility, pr["rationality"], m.status[:, s], pr["revision_rate"],
                                           m.u_revise[:, s], m.u_pick[:, s])
