"""greatgame: agent-based scenarios of great-power competition in Central Asia (see docs/ODD.md)."""

from .api import run_to_folder, simulate
from .core import GreatGameModel
from .results import Results
from .scenario import Scenario, load_scenario
from .yamlio import ScenarioError

__all__ = ["GreatGameModel", "Results", "Scenario", "ScenarioError", "load_scenario", "run_to_folder", "simulate"]
