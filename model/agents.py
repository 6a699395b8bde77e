"""Mesa agents. Each agent acts on its own row of the model's arrays for every run at once (leading run axis)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .allocation import allocate, choose_offer, losing_ground, package_need, should_convene, update_fund
from .axes import INSTRUMENT, Level
from .choice import draw_level, switching_from

if TYPE_CHECKING:
    from .core import GreatGameModel


class PowerAgent(mesa.Agent):
    """A great power: spends its budget across states, bids for members with accession packages, and may convene
    a new format when it is losing ground (ODD 4.1)."""

    model: GreatGameModel

    def __init__(self, model: GreatGameModel, code: str, index: int) -> None:
        super().__init__(model)
        self.code, self.index = code, index

    def step(self) -> None:
        """Allocate this step's budget, make or renew an accession offer, convene the template format if due."""
        self.spend()
        self.bid()
        self.convene()

    def spend(self) -> None:
        m, j, pp = self.model, self.index, self.model.p.powers
        budget = m.budget_now[:, j]
        own = m.influence_total[:, :, j]
        rivals = m.influence_total.sum(axis=-1) - own
        by_power = m.offers.sum(axis=-1)  # (R, P, S)
        rival_offers = (by_power.sum(axis=1) - by_power[:, j]) / m.gdp
        shares = m.pw.instrument_shares[:, j]  # (R, I)
        per_state = allocate(budget * (1.0 - shares[:, INSTRUMENT.accession]), m.state_weight, own, rivals,
                             rival_offers, pp.allocation_rationality, pp.rival_response)
        spend = shares / np.maximum(1.0 - shares[:, INSTRUMENT.accession:INSTRUMENT.accession + 1], 1e-12)
        m.spending[:, :, j, :] = per_state[..., None] * spend[:, None, :]
        m.spending[:, :, j, INSTRUMENT.accession] = 0.0
        envelope = budget * shares[:, INSTRUMENT.accession]
        m.fund[:, j] = update_fund(m.fund[:, j], envelope, pp.package_cap_years, m.dt)

    def bid(self) -> None:
        """Offer the cheapest package that would bring an eligible state into a format this power convenes
        (ODD eq. 4.1d); the package is paid only if the state joins."""
        m, j = self.model, self.index
        if not (m.pw.instrument_shares[:, j, INSTRUMENT.accession] > 0).any():
            return  # no accession envelope in any run: nothing to offer
        values = m.level_values_without_package(j)  # (R, S, F, 3)
        cur = np.take_along_axis(values, m.status[..., None], axis=-1)[..., 0]
        join = values[..., Level.MEMBER] - switching_from(m.switching, m.status, Level.MEMBER)
        need = package_need(cur - join, m.gdp, m.p.weights.investment)
        open_target = ((m.convenor[:, j] > 0)[None, None, :] & m.allowed[None, :, :, Level.MEMBER]
                       & m.active[:, None, :] & (m.status < Level.MEMBER))
        m.offers[:, j] = choose_offer(need, open_target, m.fund[:, j], m.p.powers.package_margin)

    def convene(self) -> None:
        m, j, pp = self.model, self.index, self.model.p.powers
        t = m.template[j]
        if t < 0:
            return
        member = (m.status == Level.MEMBER) & m.active[:, None, :]
        # reach: states that are full members of a format this power runs alone (the seed: Russia's own
        # institutions hold only part of the region; the SCO, run with China, does not count)
        reach = (member & m.solo_convenor[:, j]).any(axis=-1).sum(axis=-1)
        losing = losing_ground(m.regional_total[:, j], m.reference_influence(j), pp.loss_tolerance)
        now, m.steps_short[:, j] = should_convene(losing, reach, m.S, m.steps_short[:, j], pp.convene_patience_steps,
                                                  pp.convene_probability, m.u_convene[:, j], ~m.active[:, t])
        if now.any():
            m.open_format(t, now)


class StateAgent(mesa.Agent):
    """A Central Asian state: reconsiders its status in each format by a sticky logit choice (ODD 4.2)."""

    model: GreatGameModel

    def __init__(self, model: GreatGameModel, code: str, index: int) -> None:
        super().__init__(model)
        self.code, self.index = code, index

    def step(self) -> None:
        """Draw this step's choices from the logit probabilities of none/partial/member in every format (with the
        packages on the table; `GreatGameModel.choice_inputs`)."""
        m, s, p = self.model, self.index, self.model.p
        m.next_status[:, s] = draw_level(m.cumulative_now[:, s], m.status[:, s], p.revision_rate,
                                         m.u_revise[:, s], m.u_pick[:, s], cumulative=True)
