"""Sizes refused up front: the memory and time a run or a batch needs, estimated before anything runs or is written.

A `run` (`run.py run`, `simulate`, `run_to_folder`) holds every run's recorded arrays (`Recorder.shapes`) and then
the output tables made from them, so its peak memory grows with runs x periods. A batch (`run.py batch`) streams
results to disk task by task, so its memory is bounded per task (chunk x periods, in each worker), per design table
(every design point is a validated scenario) and per run of bookkeeping (the runs table, the plan). The estimates
use the constants below, measured on the reference machine (README, "Sizes"); a request beyond the memory
available here (`MEMORY_SHARE` of it) or beyond a documented cap is refused with a one-line `ScenarioError` that
gives the estimate, the limit and how to split the work. Nothing is allocated, run or written before the check.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .yamlio import ScenarioError

MEMORY_SHARE = 0.8  # share of the memory available now that a run or a batch may plan to use
MEMORY_ENV = "GREATGAME_MEMORY_LIMIT"  # overrides the limit: bytes, or a number with K, M, G or T (e.g. 4G)
PROCESS_BYTES = 320 * 2**20  # one Python process with the model, pandas and pyarrow loaded (measured 210-250 MiB)
TABLE_FACTOR = 4.0  # peak / recorded arrays of a run: the arrays plus the tables made from them (measured 3.4)
RUN_STEPS_PER_S = 10_000  # run-periods per second per worker, end to end (measured 12,000-14,000, 2-core machine)
DESIGN_POINT_BYTES = 64 * 2**10  # one validated design point (its Scenario; measured 30 KB) and its design row
RUN_BOOKKEEPING_BYTES = 400  # per run of a batch: the runs table read back, the set of done runs, the task plan
MAX_DESIGN_POINTS = 100_000  # scenarios x design points of one experiment: each is validated on load (~1 ms)
MAX_BATCH_HOURS = 168.0  # estimated hours of one batch call on the local workers (a week)


def _parse_bytes(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1:], 1)
    try:
        value = float(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        raise ScenarioError(MEMORY_ENV, "", f"{text!r} is not a size such as 4G or 4000000000") from None
    if not value > 0 or not math.isfinite(value):
        raise ScenarioError(MEMORY_ENV, "", "must be a positive size such as 4G")
    return int(value)


def available_memory() -> int:
    """Bytes of memory available to a new process now (MemAvailable in /proc/meminfo; else free pages)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def memory_limit() -> tuple[int, str]:
    """The memory a run or a batch may plan to use, and where the figure comes from."""
    if os.environ.get(MEMORY_ENV):
        return _parse_bytes(os.environ[MEMORY_ENV]), f"set by {MEMORY_ENV}"
    avail = available_memory()
    return int(MEMORY_SHARE * avail), f"{MEMORY_SHARE:.0%} of the {gib(avail)} available"


def gib(n: float) -> str:
    """A byte count for people: '1.5 GiB', or '300 MiB' below one GiB."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def duration(seconds: float) -> str:
    """A duration for people: seconds below two minutes, then minutes, then hours."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def period_bytes(states: int, powers: int, formats: int, channels: int) -> int:
    """Bytes the recorder holds per run and period (`Recorder.shapes` with one run and one period)."""
    from .core import Recorder

    spec = Recorder.shapes(1, 1, states, powers, formats, channels)
    return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype, _ in spec.values())


@dataclass(frozen=True)
class Estimate:
    """Estimated peak memory (bytes) and wall time (seconds) of a run or a batch, and the limit it was held to."""

    memory: int
    seconds: float
    limit: int
    limit_source: str


def run_estimate(runs: int, periods: int, states: int, powers: int, formats: int, channels: int) -> tuple[int, float]:
    """Peak memory and time of `runs` runs of `periods` recorded periods (steps + 1) held together."""
    per_run = TABLE_FACTOR * periods * period_bytes(states, powers, formats, channels)
    return int(PROCESS_BYTES + runs * per_run), runs * periods / RUN_STEPS_PER_S


def check_run_size(scenario, runs: int | None = None, steps: int | None = None,
                   where: tuple[str, str] | None = None) -> Estimate:
    """Refuse (ScenarioError naming `where`, default the scenario file and `runs`) a run whose estimated memory
    exceeds the limit here; otherwise return the estimate. `runs` and `steps` default to the scenario's."""
    runs = int(runs if runs is not None else scenario.raw["runs"])
    periods = int(steps if steps is not None else scenario.steps) + 1
    dims = (len(scenario.states), len(scenario.powers), len(scenario.formats),
            len(scenario.raw["influence"]["channel_weights"]))
    memory, seconds = run_estimate(runs, periods, *dims)
    limit, source = memory_limit()
    if memory > limit:
        per_run = TABLE_FACTOR * periods * period_bytes(*dims)
        most = max(int((limit - PROCESS_BYTES) // per_run), 0)
        file, key = where or (scenario.source, "runs")
        raise ScenarioError(file, key, f"{runs:,} runs x {periods} periods need about {gib(memory)} of memory (and "
                            f"about {duration(seconds)}); the limit here is {gib(limit)} ({source}). Split the work: "
                            f"at most {most:,} runs per call, or `run.py batch`, which streams chunks of runs to disk "
                            "(more workers with --jobs, or Dask)")
    return Estimate(memory, seconds, limit, source)


def max_runs(scenario, steps: int | None = None) -> int:
    """The largest number of runs `check_run_size` accepts for this scenario and horizon here."""
    periods = int(steps if steps is not None else scenario.steps) + 1
    per_run = TABLE_FACTOR * periods * period_bytes(len(scenario.states), len(scenario.powers), len(scenario.formats),
                                                    len(scenario.raw["influence"]["channel_weights"]))
    return max(int((memory_limit()[0] - PROCESS_BYTES) // per_run), 0)


def check_design_size(points: int, file: str, key: str) -> None:
    """Refuse an experiment of more than MAX_DESIGN_POINTS design points (scenarios x points), or whose design
    table would not fit in memory, before any point is built."""
    limit, source = memory_limit()
    memory = PROCESS_BYTES + points * DESIGN_POINT_BYTES
    if points > MAX_DESIGN_POINTS or memory > limit:
        cap = (f"the cap is {MAX_DESIGN_POINTS:,} design points per experiment (each is validated on loading)"
               if points > MAX_DESIGN_POINTS else f"the memory limit here is {gib(limit)} ({source})")
        raise ScenarioError(file, key, f"{points:,} design points (scenarios x points) need about {gib(memory)} and "
                            f"{duration(points * 1e-3)} to load; {cap}. Split the design into several experiments "
                            "(fewer points or scenarios each)")


def batch_memory(runs_total: int, points: int, chunk: int, periods: int, dims: tuple[int, int, int, int],
                 jobs: int, remote: bool) -> tuple[int, int]:
    """Estimated peak memory of a batch in tasks of `chunk` runs, and of one task in the process that runs it:
    PROCESS_BYTES + workers' tasks (jobs x (PROCESS_BYTES + task); the task alone with one job; nothing when
    `remote`) + (2 jobs + 1) finished tasks' arrays waiting to be written + the design table + per-run bookkeeping,
    where task = TABLE_FACTOR x chunk x periods x period_bytes."""
    arrays = chunk * periods * period_bytes(*dims)  # one task's recorded arrays
    task = int(TABLE_FACTOR * arrays)  # a task's peak in the process that runs it
    if remote:
        workers = 0
    elif jobs <= 1:
        workers = task  # tasks run in this process
    else:
        workers = jobs * (PROCESS_BYTES + task)
    in_flight = (2 * max(jobs, 1) + 1) * arrays  # finished tasks' encoded tables waiting to be written
    return (PROCESS_BYTES + workers + in_flight + points * DESIGN_POINT_BYTES + runs_total * RUN_BOOKKEEPING_BYTES,
            task)


def max_chunk(runs_total: int, points: int, periods: int, dims: tuple[int, int, int, int], jobs: int,
              remote: bool) -> int:
    """The largest `chunk` whose batch `check_batch_size` accepts here (0 when not even one run per task fits)."""
    limit = memory_limit()[0]
    base = batch_memory(runs_total, points, 0, periods, dims, jobs, remote)[0]
    step = batch_memory(runs_total, points, 1, periods, dims, jobs, remote)[0] - base
    chunk = max(int((limit - base) // step), 0) if step > 0 else 10**9
    while chunk > 0 and batch_memory(runs_total, points, chunk, periods, dims, jobs, remote)[0] > limit:
        chunk -= 1  # the task peak is rounded down to whole bytes, so memory is linear in chunk only nearly
    return chunk


def check_batch_size(runs_total: int, points: int, chunk: int, periods: int, dims: tuple[int, int, int, int],
                     jobs: int, remote: bool, file: str) -> Estimate:
    """Refuse a batch whose estimated memory (`batch_memory`: per task in each worker, the design table, per-run
    bookkeeping) exceeds the limit here, or whose estimated time on the local workers exceeds MAX_BATCH_HOURS;
    `remote`: the tasks run on a Dask scheduler's workers (neither their memory nor the time is checked here)."""
    memory, task = batch_memory(runs_total, points, chunk, periods, dims, jobs, remote)
    seconds = runs_total * periods / (RUN_STEPS_PER_S * max(jobs, 1))
    limit, source = memory_limit()
    if memory > limit:
        raise ScenarioError(file, "", f"{runs_total:,} runs in tasks of {chunk:,} runs x {periods} periods with "
                            f"{jobs} worker(s) need about {gib(memory)} of memory (a task needs {gib(task)}); the limit "
                            f"here is {gib(limit)} ({source}). Split the work: a smaller `chunk`, fewer --jobs on this "
                            "machine, fewer replicates per call (raise them later with --resume) or Dask workers on "
                            "other machines (--engine dask --scheduler)")
    if not remote and seconds > MAX_BATCH_HOURS * 3600:
        raise ScenarioError(file, "", f"{runs_total:,} runs x {periods} periods need about {duration(seconds)} on "
                            f"{jobs} worker(s); the cap is {MAX_BATCH_HOURS:.0f} h per batch call. Split the work: "
                            "fewer replicates per call (raise them later with --resume), more --jobs, or Dask "
                            "workers (--engine dask --scheduler)")
    return Estimate(memory, seconds, limit, source)
