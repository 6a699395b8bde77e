"""Impossible sizes are refused up front (model/budget.py): a run or a batch beyond the memory here or a documented
cap ends with one line giving the estimate, the limit and how to split the work, before anything runs, is
allocated or written; the largest accepted size is accepted. The limit is pinned with GREATGAME_MEMORY_LIMIT so that
the boundaries do not depend on the machine."""

import time

import greatgame.experiments.batch.spec
import greatgame.model.api
import greatgame.model.ensemble
import pytest
from greatgame.experiments.batch.runner import check_experiment_size, run_experiment
from greatgame.experiments.batch.spec import load_experiment
from greatgame.model import ScenarioError, load_scenario, simulate
from greatgame.model.budget import (
    MAX_BATCH_HOURS,
    MAX_DESIGN_POINTS,
    MEMORY_ENV,
    PROCESS_BYTES,
    RUN_STEPS_PER_S,
    TABLE_FACTOR,
    check_batch_size,
    check_run_size,
    max_runs,
    period_bytes,
)

from greatgame.cli import main

from .conftest import SCENARIOS

BASE = SCENARIOS / "baseline.yaml"


def _one_line_refusal(capsys, rc, needles):
    err = capsys.readouterr().err
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def test_the_largest_accepted_run_is_accepted_and_one_more_is_refused(baseline, monkeypatch, tmp_path, capsys):
    per_run = TABLE_FACTOR * 3 * period_bytes(len(baseline.states), len(baseline.powers), len(baseline.formats),
                                              len(baseline.raw["influence"]["channel_weights"]))
    monkeypatch.setenv(MEMORY_ENV, str(int(PROCESS_BYTES + 3 * per_run)))  # room for 3 runs of 2 steps
    assert max_runs(baseline, steps=2) == 3
    check_run_size(baseline, runs=3, steps=2)
    with pytest.raises(ScenarioError):
        check_run_size(baseline, runs=4, steps=2)
    assert main(["run", str(BASE), "--runs", "3", "--steps", "2", "--quiet", "--out", str(tmp_path / "ok")]) == 0
    assert (tmp_path / "ok" / "influence.parquet").exists()
    rc = main(["run", str(BASE), "--runs", "4", "--steps", "2", "--quiet", "--out", str(tmp_path / "no")])
    _one_line_refusal(capsys, rc, ["run.py: --runs:", "4 runs x 3 periods", "the limit here is", MEMORY_ENV,
                                   "at most 3 runs per call", "run.py batch"])
    assert not (tmp_path / "no").exists()


def test_ten_million_runs_are_refused_at_once(tmp_path, monkeypatch, capsys):
    """`runs: 10000000` in a scenario: refused in well under a second, before any model is built or folder made."""
    monkeypatch.delenv(MEMORY_ENV, raising=False)  # the machine's own memory: no machine holds this

    def never(*args, **kwargs):
        raise AssertionError("a model was built")

    monkeypatch.setattr(greatgame.model.ensemble, "GreatGameModel", never)  # every run goes through RunSet.model
    path = tmp_path / "huge.yaml"
    path.write_text(f"extends: {BASE}\nname: huge\nruns: 10000000\n")
    t0 = time.perf_counter()
    rc = main(["run", str(path), "--quiet", "--out", str(tmp_path / "out")])
    assert time.perf_counter() - t0 < 1.0
    _one_line_refusal(capsys, rc, [f"{path}: runs:", "10,000,000 runs x 41 periods", "GiB of memory", "Split the work"])
    assert not (tmp_path / "out").exists()
    with pytest.raises(ScenarioError, match="10,000,000 runs"):
        simulate(load_scenario(path))


def _experiment(tmp_path, design: str, replicates: int = 1, extra: str = "") -> object:
    path = tmp_path / "e.yaml"
    path.write_text(f"name: e\nscenarios: [{BASE}]\nreplicates: {replicates}\nseed: 1\nsteps: 2\n{extra}"
                    f"design:\n{design}")
    return path


@pytest.fixture
def no_design_building(monkeypatch):
    """Make building design points (sampling them, validating each) fail loudly, to show a check came first (and
    pin the memory limit high, so that the design-point cap is what is tested)."""
    monkeypatch.setenv(MEMORY_ENV, "1T")
    class Built(Exception):
        pass

    def building(*args, **kwargs):
        raise Built

    monkeypatch.setattr(greatgame.experiments.batch.spec, "design_points", building)
    monkeypatch.setattr(greatgame.experiments.batch.spec.Scenario, "with_overrides", building)
    return Built


def test_a_million_point_design_is_refused_before_any_point_is_built(tmp_path, no_design_building):
    path = _experiment(tmp_path, "  method: lhs\n  points: 1000000\n  parameters:\n"
                                 "    parameters.rationality: {low: 10, high: 20}\n")
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert time.perf_counter() - t0 < 1.0
    msg = str(info.value)
    assert "design.points" in msg and "1,000,000 design points" in msg and f"{MAX_DESIGN_POINTS:,}" in msg
    assert "Split the design" in msg


@pytest.mark.parametrize("method,points,params,accepted", [
    ("lhs", MAX_DESIGN_POINTS, 1, True), ("lhs", MAX_DESIGN_POINTS + 1, 1, False),
    ("sobol", 32768, 1, True), ("sobol", 65536, 1, False),  # n x (k + 2): 98,304 and 196,608 points
])
def test_design_point_cap_boundary(tmp_path, no_design_building, method, points, params, accepted):
    body = "".join(f"    parameters.weights.{w}: {{low: 1, high: 2}}\n" for w in ("trade", "security")[:params])
    path = _experiment(tmp_path, f"  method: {method}\n  points: {points}\n  parameters:\n{body}")
    with pytest.raises(no_design_building if accepted else ScenarioError):
        load_experiment(path)


@pytest.mark.parametrize("bases,accepted", [("[state]", True), ("[state, partner]", False)])
def test_trade_bases_multiply_the_design_points_before_any_is_built(tmp_path, no_design_building, bases, accepted):
    path = _experiment(tmp_path, f"  method: lhs\n  points: {MAX_DESIGN_POINTS // 2 + 1}\n  parameters:\n"
                                 "    parameters.rationality: {low: 10, high: 20}\n", extra=f"trade_bases: {bases}\n")
    with pytest.raises(no_design_building if accepted else ScenarioError):
        load_experiment(path)


def test_grid_product_is_counted_before_it_is_built(tmp_path, no_design_building):
    values = ", ".join(str(1 + i / 1000) for i in range(400))
    body = "".join(f"    parameters.weights.{w}: {{values: [{values}]}}\n" for w in ("trade", "security"))
    with pytest.raises(ScenarioError, match="160,000 design points"):
        load_experiment(_experiment(tmp_path, f"  method: grid\n  parameters:\n{body}"))


def test_batch_memory_boundary_and_refusal_on_the_command_line(tmp_path, monkeypatch, capsys):
    path = _experiment(tmp_path, "  method: lhs\n  points: 4\n  parameters:\n    parameters.rationality: {low: 10, "
                       "high: 20}\n", replicates=3, extra="chunk: 6\n")
    exp = load_experiment(path)
    monkeypatch.setenv(MEMORY_ENV, "1T")
    need = check_experiment_size(exp, jobs=2).memory
    monkeypatch.setenv(MEMORY_ENV, str(need))
    assert check_experiment_size(exp, jobs=2).memory == need  # exactly at the limit: accepted
    monkeypatch.setenv(MEMORY_ENV, str(need - 1))
    with pytest.raises(ScenarioError, match="smaller `chunk`"):
        check_experiment_size(exp, jobs=2)
    out = tmp_path / "out"
    rc = main(["batch", str(path), "--jobs", "2", "--out", str(out), "--quiet", "--no-compare"])
    _one_line_refusal(capsys, rc, [str(path), "12 runs in tasks of 6 runs x 3 periods", "the limit here is",
                                   "--resume", "Dask"])
    assert not out.exists()
    with pytest.raises(ScenarioError):
        run_experiment(exp, out, jobs=2, progress=False)
    assert not out.exists()


def test_batch_time_cap_boundary(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "1000T")
    periods = 41
    most = int(MAX_BATCH_HOURS * 3600 * RUN_STEPS_PER_S * 2 // periods)  # runs within the cap on 2 workers
    dims = (5, 3, 8, 6)
    check_batch_size(most, 1, 64, periods, dims, jobs=2, remote=False, file="e.yaml")
    with pytest.raises(ScenarioError, match=f"the cap is {MAX_BATCH_HOURS:.0f} h per batch call"):
        check_batch_size(most + 1, 1, 64, periods, dims, jobs=2, remote=False, file="e.yaml")
    # on a Dask scheduler's workers neither the time nor the workers' memory is checked here
    check_batch_size(most + 1, 1, 64, periods, dims, jobs=2, remote=True, file="e.yaml")


def test_bad_memory_limit_setting_is_an_input_error(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(ScenarioError, match=MEMORY_ENV):
        check_run_size(load_scenario(BASE), runs=1, steps=1)
