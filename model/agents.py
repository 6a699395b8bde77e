"""Mesa agents. Each agent acts on its own row of the model's arrays (model/state.py) for every run at once (leading
run axis): a power on its column of the state variables, a state on its row of this step's draws and choices."""

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
        """Spend this step's budget across states and instruments (ODD eq. 4.1b); top up the accession fund."""
        m, j, pp, x = self.model, self.index, self.model.p.powers, self.model.state
        budget = m.now.budget[:, j]
        own = x.influence_total[:, :, j]
        rivals = m.now.influence_sum - own
        by_power = m.now.offered  # (R, P, S): the packages on the table now, earlier bids of this step included
        rival_offers = (by_power.sum(axis=1) - by_power[:, j]) / x.gdp
        shares = m.pw.instrument_shares[:, j]  # (R, I)
        per_state = allocate(budget * (1.0 - shares[:, INSTRUMENT.accession]), x.state_weight, own, rivals,
                             rival_offers, pp.allocation_rationality, pp.rival_response)
        spend = shares / np.maximum(1.0 - shares[:, INSTRUMENT.accession:INSTRUMENT.accession + 1], 1e-12)
        x.spending[:, :, j, :] = per_state[..., None] * spend[:, None, :]
        x.spending[:, :, j, INSTRUMENT.accession] = 0.0
        envelope = budget * shares[:, INSTRUMENT.accession]
        x.fund[:, j] = update_fund(x.fund[:, j], envelope, pp.package_cap_years, m.dt)

    def bid(self) -> None:
        """Offer the cheapest package that would bring an eligible state into a format this power convenes
        (ODD eq. 4.1d); the package is paid only if the state joins."""
        m, j, x = self.model, self.index, self.model.state
        if not (m.pw.instrument_shares[:, j, INSTRUMENT.accession] > 0).any():
            return  # no accession envelope in any run: nothing to offer
        values = m.level_values_without_package(j)  # (R, S, F, 3)
        cur = np.take_along_axis(values, x.status[..., None], axis=-1)[..., 0]
        join = values[..., Level.MEMBER] - switching_from(m.derived.switching, x.status, Level.MEMBER)
        need = package_need(cur - join, x.gdp, m.p.weights.investment)
        open_target = ((m.structure.convenor[:, j] > 0)[None, None, :] & m.structure.allowed[None, :, :, Level.MEMBER]
                       & x.active[:, None, :] & (x.status < Level.MEMBER))
        x.offers[:, j] = choose_offer(need, open_target, x.fund[:, j], m.p.powers.package_margin)
        m.now.offered[:, j] = x.offers[:, j].sum(axis=-1)

    def convene(self) -> None:
        """Open the template format in the runs where this power has been losing ground long enough (4.1c)."""
        m, j, pp, x = self.model, self.index, self.model.p.powers, self.model.state
        t = m.structure.template[j]
        if t < 0:
            return
        member = (x.status == Level.MEMBER) & x.active[:, None, :]
        # reach: states that are full members of a format this power runs alone (the seed: Russia's own
        # institutions hold only part of the region; the SCO, run with China, does not count)
        reach = (member & m.structure.solo_convenor[:, j]).any(axis=-1).sum(axis=-1)
        losing = losing_ground(x.regional_total[:, j], m.reference_influence(j), pp.loss_tolerance)
        now, x.steps_short[:, j] = should_convene(losing, reach, m.S, x.steps_short[:, j], pp.convene_patience_steps,
                                                  pp.convene_probability, m.now.u_convene[:, j], ~x.active[:, t])
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
        m, s, now = self.model, self.index, self.model.now
        now.next_status[:, s] = draw_level(now.cumulative[:, s], m.state.status[:, s], m.p.revision_rate,
                                           now.u_revise[:, s], now.u_pick[:, s], cumulative=True)
