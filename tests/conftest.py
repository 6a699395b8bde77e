"""Shared fixtures: the baseline scenario, and small runs of it reused across tests."""

from pathlib import Path

import pytest
from greatgame.model import GreatGameModel, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="session")
def baseline_runs(baseline):
    """64 runs of the full 40-quarter baseline, advanced in lockstep."""
    return GreatGameModel(baseline, runs=64).run()


def pytest_collection_modifyitems(config, items):
    """The browser test runs last: its solara server and kernel live for the rest of the session (fixtures of
    pytest-ipywidgets), and their leftovers finalised in the middle of another test (the fuzz tests recurse
    deeply) were reported as that test's failure."""
    items.sort(key=lambda item: item.path.name == "test_dashboard_browser.py")
