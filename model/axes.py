"""Named positions of the model's array axes: `BENEFIT.trade`, not `x[..., 0]` (docs/ODD.md section 2).

An `Axis` is an ordered tuple of names whose positions can be read as attributes. The packed layouts of the
recorded arrays (the region after the states, the total after the channels) are described here too, so that no
module indexes them with a bare number.
"""

from __future__ import annotations

from enum import IntEnum


class Axis(tuple):
    """An ordered set of names; `axis.name` is the position of `name`, `len(axis)` the size."""

    def __new__(cls, *names: str) -> Axis:
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

REGION_SLOT = -1  # recorded influence: the regional aggregate follows the states on the state axis
TOTAL_SLOT = -1  # recorded influence: total influence follows the channels on the channel axis
