"""The Python API: the same path the command line takes (load -> model -> arrays -> tables and plots).

    from greatgame.model import load_scenario, simulate
    sc = load_scenario("scenarios/baseline.yaml", overrides={"parameters.rationality": 8.0})
    res = simulate(sc, runs=100, seed=1)
    res.influence_table()          # pandas DataFrame
    res.plot("figs")               # influence.png, influence_states.png, status.png
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .budget import check_run_size
from .core import Recorder
from .ensemble import RunSet, run_chunks
from .files import git_commit, versions
from .lock import LOCK_FILE, claim
from .results import Results
from .scenario import Scenario, load_scenario
from .yamlio import ScenarioError

PROBE = ".greatgame-probe-"  # the name of the empty folder made and removed to see whether a place is writable
CHUNK_RUNS = 256  # runs advanced together; results do not depend on it (each run has its own stream)


def simulate(scenario: Scenario | str | Path | dict, runs: int | None = None, seed: int | None = None,
             steps: int | None = None, first_replicate: int = 0, chunk: int = CHUNK_RUNS,
             progress: bool = False) -> Results:
    """Run `runs` replicates (default: the scenario's `runs`) in lockstep chunks and return their Results.
    Run k uses SeedSequence(seed, spawn_key=(first_replicate + k,)). Raises ScenarioError, before anything runs,
    when the runs would not fit in memory here (model/budget.py)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_run_size(sc, runs, steps)  # a size beyond this machine is refused before anything is allocated
    runs = int(runs if runs is not None else sc.raw["runs"])
    seed = int(seed if seed is not None else sc.raw["seed"])
    T = int(steps if steps is not None else sc.steps) + 1
    C = len(sc.raw["influence"]["channel_weights"])
    spec = Recorder.shapes(T, runs, len(sc.states), len(sc.powers), len(sc.formats), C)
    arrays = {name: np.full(shape, fill, dtype=dtype) for name, (shape, dtype, fill) in spec.items()}
    parts = []
    with tqdm(total=runs, unit="run", disable=not progress, desc=sc.name) as bar:
        for _, model in run_chunks(RunSet.replicates(sc, runs, seed, first_replicate, steps), chunk, arrays):
            parts.append(Results.from_model(model))  # each chunk recorded into its slice of `arrays`
            bar.update(model.R)
    first = parts[0]
    return Results(first.scenario_name, first.dates, first.powers, first.states, first.formats,
                   np.concatenate([p.runs for p in parts]), arrays["influence"], arrays["status"],
                   arrays["engagement"], arrays["turnover"], arrays["active"],
                   colours=first.colours, event_log=[e for p in parts for e in p.event_log],
                   failures=[f for p in parts for f in p.failures],
                   parameters={k: np.concatenate([p.parameters[k] for p in parts]) for k in first.parameters})


def prepare_output(out_dir: str | Path, force: bool) -> Path:
    """Check that out_dir may be written: refuse a non-empty folder without force (a folder holding only its lock
    file counts as empty) and an unwritable place. Raises ScenarioError (exit 2 on the command line) before anything
    is written. Takes no lock: `run_to_folder` and `save_outputs` hold the folder's lock (model/lock.py) as they
    write."""
    out = Path(out_dir)
    if "\0" in str(out):
        raise ScenarioError(out, "--out", "cannot use this folder name (a NUL character)")
    try:
        return _prepare_output(out, force)
    except (OSError, ValueError) as exc:  # a name the system refuses: too long, a NUL character
        raise ScenarioError(out, "--out", f"cannot use this folder name ({getattr(exc, 'strerror', None) or exc})") from None


def _refuse_non_empty(out: Path, force: bool) -> None:
    """Refuse a folder that holds anything but its lock file (and the writability probe of a writer killed at
    that instant) unless forced."""
    if not force and out.is_dir() and any(p.name != LOCK_FILE and not p.name.startswith(PROBE)
                                          for p in out.iterdir()):
        raise ScenarioError(out, "--out", "folder exists and is not empty; pass --force to replace it or choose --out")


def _prepare_output(out: Path, force: bool) -> Path:
    if out.exists() and not out.is_dir():
        raise ScenarioError(out, "--out", "exists and is not a folder")
    _refuse_non_empty(out, force)
    probe_dir = out if out.exists() else out.parent
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise ScenarioError(out, "--out", f"cannot create the folder: {probe_dir} is a file")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=PROBE, dir=probe_dir))
    except OSError as exc:
        raise ScenarioError(out, "--out", f"cannot write in {probe_dir} ({exc.strerror})") from None
    return out


@contextlib.contextmanager
def _output_folder(out_dir: str | Path, force: bool) -> Iterator[Path]:
    """Hold out_dir's writer lock for the block (model/lock.py: a second writer is refused with one line naming
    the holder and touches nothing), the folder checked by `prepare_output` before and under the lock. Folders the
    block created are removed again if it fails, so a failure leaves no new folder behind."""
    out = Path(out_dir)
    try:
        missing = [p for p in (out, *out.parents) if not p.exists()]  # innermost first
    except (OSError, ValueError):  # a name the system refuses: prepare_output says so
        missing = []
    hold = claim(out, lambda: prepare_output(out, force))  # checked first, and again under the lock
    try:
        yield out
    except BaseException:
        if missing:
            with contextlib.suppress(OSError):
                (out / LOCK_FILE).unlink(missing_ok=True)
                for p in missing:
                    p.rmdir()
        raise
    finally:
        hold.release()


def default_folder(results: Path, name: str, file: str) -> Path:
    """`results/<name>`, the output folder when no --out is given; ScenarioError (file, `name`) when the name cannot
    be one folder there (a path separator, '.', '..', a NUL character, over 255 bytes, empty)."""
    if (not name.strip() or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
            or len(name.encode("utf-8", "surrogatepass")) > 255):
        raise ScenarioError(file, "name", "cannot be used as the output folder's name (results/<name>): pass --out "
                            "or use a name of at most 255 bytes without path separators")
    return results / name


def save_outputs(results: Results, scenario: Scenario, out_dir: str | Path, seed: int, wall_time_s: float,
                 force: bool = False) -> Path:
    """Write influence/status/trade Parquet, manifest.json and the plots into out_dir, holding its writer lock.
    Everything is written into a temporary sibling folder first, so a failure leaves any old content intact; then
    the old files are removed (manifest.json first) and the new ones moved in (manifest.json last): the folder
    itself and its lock file stay, and a folder with a manifest.json is whole."""
    with _output_folder(out_dir, force) as out:
        return _save(results, scenario, out, seed, wall_time_s)


def _save(results: Results, scenario: Scenario, out: Path, seed: int, wall_time_s: float) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        results.influence_table().to_parquet(tmp / "influence.parquet", index=False)
        results.status_table().to_parquet(tmp / "status.parquet", index=False)
        results.trade_table().to_parquet(tmp / "trade.parquet", index=False)
        results.parameters_table().to_parquet(tmp / "parameters.parquet", index=False)
        from .plots import plot_all

        plot_all(results, tmp)
        manifest: dict[str, Any] = {
            "scenario": scenario.raw, "scenario_file": scenario.source, "seed": seed,
            "runs": int(len(results.runs)), "run_numbers": [int(results.runs[0]), int(results.runs[-1])],
            "steps": results.steps, "start": results.dates[0], "end": results.dates[-1],
            "seed_rule": "run k uses numpy.random.SeedSequence(seed, spawn_key=(k,))",
            "events_fired": sorted({(t, text) for _, t, text in results.event_log}),
            "failed_runs": [{"run": f.run, "step": f.step, "variable": f.variable, "message": f.describe()}
                            for f in results.failures],
            "versions": versions(), "git_commit": git_commit(), "wall_time_s": round(wall_time_s, 3),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        (out / "manifest.json").unlink(missing_ok=True)  # from here until the new one is in, the folder is not whole
        for p in out.iterdir():
            if p.name != LOCK_FILE:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        for p in sorted(tmp.iterdir(), key=lambda p: p.name == "manifest.json"):
            os.replace(p, out / p.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def run_to_folder(scenario: Scenario | str | Path | dict, out_dir: str | Path, runs: int | None = None,
                  seed: int | None = None, steps: int | None = None, force: bool = False,
                  progress: bool = False) -> tuple[Results, Path]:
    """Check the size (model/budget.py) and the output folder, take the folder's writer lock (model/lock.py),
    simulate, and write every output file: what `run.py run` does. Bad input, an impossible size or a folder
    another process is writing raises ScenarioError before anything is written."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_run_size(sc, runs, steps)
    seed = int(seed if seed is not None else sc.raw["seed"])
    with _output_folder(out_dir, force) as out:  # the lock, before anything runs: a second writer stops at once
        t0 = time.perf_counter()
        res = simulate(sc, runs=runs, seed=seed, steps=steps, progress=progress)
        wall = time.perf_counter() - t0
        return res, _save(res, sc, out, seed, wall)
