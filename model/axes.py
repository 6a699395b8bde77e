"""Named positions of the model's array axes: `BENEFIT.trade`, not `x[..., 0]` (docs/ODD.md section 2).

An `Axis` is an ordered tuple of names whose positions can be read as attributes. The packed layout of the
recorded influence array (the region after the states, the total after the channels) is described here too, with
named views of it (`RecordedInfluence`), so that no module indexes it with a bare number.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class Axis(tuple):
    """An ordered set of names; `axis.name` is the position of `name`, `len(axis)` the size."""

    def __new__(cls, *names: str) -> Axis:
        """An axis with these labels, in this order."""
        return super().__new__(cls, names)

    def __getattr__(self, name: str) -> int:
        try:
            return self.index(name)
        except ValueError:
            raise AttributeError(name) from None


class Level(IntEnum):
    """A state's status in a format."""

    NONE = 0
    PARTIAL = 1  # observer, associate, dialogue participant at a lower level
    MEMBER = 2


LEVELS = tuple(level.name.lower() for level in Level)  # ('none', 'partial', 'member'): the names users see

# What a format channels to a state (benefit channels of the choice, ODD 4.2a).
BENEFIT = Axis("trade", "investment", "security", "energy_transport", "migration", "regional")
# Channels of a power's influence over a state (ODD 4.4).
INFLUENCE = Axis("trade", "investment", "security", "institutions", "energy_transport", "migration")
# Binding obligations of a format, coded from its charter (ODD 3.2); doctrine acts through them.
OBLIGATION = Axis("collective_defence", "supranational", "binding_security", "consultation")
# How a power spends its budget (ODD 4.1).
INSTRUMENT = Axis("investment", "security", "diplomacy", "accession")
# Foreign-policy doctrines a state may hold.
DOCTRINE = Axis("none", "permanent_neutrality", "non_bloc")
# Kinds of format (for display and documentation; behaviour comes from obligations and channels).
KIND = Axis("security_alliance", "economic_union", "regional_organisation", "dialogue_platform")

# The recorded influence array (T, R, S+1, P, C+1) packs two aggregates into its state and channel axes; it is
# read and written only through the named views of `RecordedInfluence`.
REGION_SLOT = -1  # state axis: the regional aggregate follows the states
TOTAL_SLOT = -1  # channel axis: total influence follows the channels
STATE_SLOTS = slice(None, REGION_SLOT)  # state axis: the states
CHANNEL_SLOTS = slice(None, TOTAL_SLOT)  # channel axis: the channels


class RecordedInfluence:
    """Named views of a recorded `influence` array (T, R, S+1, P, C+1) with the region last on the state axis and
    the total last on the channel axis (the packed layout the influence table is made from, docs/OUTPUT.md).
    The views have the names and shapes of the model's state arrays (`StateVariables`), with the period axis T
    first; they are views, so writing into them writes into `influence`."""

    influence: np.ndarray

    @property
    def influence_channels(self) -> np.ndarray:
        """(T, R, S, P, C): influence of each power over each state by channel."""
        return self.influence[:, :, STATE_SLOTS, :, CHANNEL_SLOTS]

    @property
    def influence_total(self) -> np.ndarray:
        """(T, R, S, P): total influence of each power over each state."""
        return self.influence[:, :, STATE_SLOTS, :, TOTAL_SLOT]

    @property
    def regional_channels(self) -> np.ndarray:
        """(T, R, P, C): regional influence of each power by channel."""
        return self.influence[:, :, REGION_SLOT, :, CHANNEL_SLOTS]

    @property
    def regional_total(self) -> np.ndarray:
        """(T, R, P): regional total influence of each power."""
        return self.influence[:, :, REGION_SLOT, :, TOTAL_SLOT]

    @property
    def totals(self) -> np.ndarray:
        """(T, R, S+1, P): total influence over each state and, last, over the region (the influence table's
        `influence` column and its `REGION` rows)."""
        return self.influence[..., TOTAL_SLOT]
