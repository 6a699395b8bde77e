"""greatgame: agent-based scenarios of great-power competition in Central Asia (docs/ODD.md).

The installed package holds four parts, one folder each in the repository:

- `greatgame.model` (model/): the scenario loader, the lockstep Mesa model, its equations and data;
- `greatgame.experiments` (experiments/): running batches (`batch`), analysing them (`analysis`), fitting and
  validating the model (`fit`), and the shipped experiment files;
- `greatgame.dashboard` (dashboard/): the solara page;
- `greatgame.scenarios` (scenarios/): the shipped scenario files, as package data;

and the command line, `greatgame.cli` (the `greatgame` command; `python3 run.py` in a checkout).
The model's entry points are re-exported here: `greatgame.simulate`, `greatgame.load_scenario`, ...
"""

from __future__ import annotations

from importlib import import_module, metadata
from typing import Any

try:
    __version__ = metadata.version("greatgame")
except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

_API = ("GreatGameModel", "Results", "Scenario", "ScenarioError", "load_scenario", "run_to_folder", "simulate")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    """The model's entry points, imported on first use (so `greatgame --help` does not load numpy and Mesa)."""
    if name in _API:
        return getattr(import_module("greatgame.model"), name)
    raise AttributeError(f"module 'greatgame' has no attribute {name!r}")
