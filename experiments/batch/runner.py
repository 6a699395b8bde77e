"""Running an experiment: tasks of runs advanced in lockstep, sent to any `concurrent.futures.Executor`.

Engines: in-process (one job), a local process pool (`jobs` > 1), or Dask (`engine='dask'`, a scheduler address
or a LocalCluster). A task is a chunk of (design point, replicate) runs; its runs use spawn keys (d, r), so results do
not depend on the engine, the number of workers or the chunk size. Tables stream to the store as tasks finish.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
import time
import traceback
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from greatgame.model.api import CHUNK_RUNS
from greatgame.model.budget import Estimate, check_batch_size, max_chunk
from greatgame.model.ensemble import RunSet
from greatgame.model.files import git_commit, versions
from greatgame.model.params import RunValues
from greatgame.model.results import Results
from greatgame.model.scenario import Scenario
from tqdm import tqdm

from .spec import DesignPoint, Experiment, Outcome, file_hash
from .store import Store

tqdm.monitor_interval = 0  # no monitor thread, so that the local pool can fork a single-threaded process
FAIL_ENV = "GREATGAME_INJECT_FAILURE"  # "d:r,d:r": make these runs raise (to exercise failure handling)
# the automatic chunk (`chunk_size`, when the experiment file sets none; experiments/README.md, "Chunks")
MAX_CHUNK = CHUNK_RUNS  # runs per task at most: the lockstep gain levels off by then (model/api.py)
TASKS_PER_WORKER = 4  # tasks per worker at least, so that every worker stays busy to the end of the batch
MIN_CHUNK = 32  # ... unless that makes tasks smaller than this: per-task costs (a model built, tables encoded) rise


@dataclass(frozen=True)
class Task:
    """Runs advanced together in one lockstep model: `runs` are (design point, replicate) pairs. When the design
    varies only numeric scenario values, runs of several design points share a task: `scenario` is then the base
    scenario and `values` gives each run its point's values (key -> one value per run); results are identical to
    running each point alone (each run has its own stream and its own parameter values)."""

    task_id: str
    runs: tuple[tuple[int, int], ...]
    scenario: Scenario
    seed: int
    steps: int | None
    record: str
    outcomes: tuple[Outcome, ...]
    values: tuple[tuple[str, tuple[float, ...]], ...] = ()
    samples: tuple[int, ...] = ()  # each run's design sample (the point index, the same for every scenario)


class SerialExecutor(Executor):
    """Runs each task at submission, in this process (the one-job engine)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        """Run fn(*args, **kwargs) now; the future holds its result or its exception."""
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


def _injected(runs: tuple[tuple[int, int], ...]) -> None:
    spec = os.environ.get(FAIL_ENV, "")
    for item in filter(None, spec.split(",")):
        d, r = (int(x) for x in item.split(":"))
        if (d, r) in runs:
            raise RuntimeError(f"injected failure in design {d} replicate {r} ({FAIL_ENV})")


def _simulate(task: Task, positions: list[int]) -> Results:
    """The task's runs at `positions` in lockstep. `Results.runs` holds the positions in the task; runs that went
    non-finite are listed in `Results.failures` (ODD 5)."""
    keys = tuple(task.runs[i] for i in positions)
    _injected(keys)
    values = {k: np.array(v)[positions] for k, v in task.values}
    runs = RunSet(task.scenario, task.seed, keys, values or None, tuple(task.samples[i] for i in positions),
                  task.steps)
    model = runs.model().run()
    return Results.from_model(model, run_numbers=np.array(positions))


def decimal_year(date: str) -> float:
    """'2030-07-01' -> 2030.5: the year plus the months elapsed before the period's first month, over 12."""
    return int(date[:4]) + (int(date[5:7]) - 1) / 12


def outcome_values(res: Results, outcomes: tuple[Outcome, ...]) -> dict[str, np.ndarray]:
    """One value per run for each outcome (NaN where the scenario lacks a code the outcome names)."""
    out: dict[str, np.ndarray] = {}
    n = len(res.runs)
    reg = res.regional_total  # (T, R, P)
    for o in outcomes:
        a = o.args
        try:
            if o.type == "regional_influence":
                v = reg[-1, :, res.powers.index(a["power"])]
            elif o.type == "influence":
                s = len(res.states) if a["state"] == "REGION" else res.states.index(a["state"])
                v = res.totals[-1, :, s, res.powers.index(a["power"])]
            elif o.type == "first_lead":
                lead = reg[:, :, res.powers.index(a["leader"])] > reg[:, :, res.powers.index(a["follower"])]
                years = np.array([decimal_year(d) for d in res.dates])  # when: a year, not a step index
                v = np.where(lead.any(axis=0), years[lead.argmax(axis=0)], np.nan)
            elif o.type == "gap":  # leader's minus follower's regional influence at the horizon
                v = reg[-1, :, res.powers.index(a["leader"])] - reg[-1, :, res.powers.index(a["follower"])]
            elif o.type == "status":
                v = res.status[-1, :, res.states.index(a["state"]), res.formats.index(a["format"])].astype(float)
            else:  # turnover
                j = res.powers.index(a["partner"])
                t = res.turnover[-1, :, :, j]
                v = t.sum(axis=1) if a["state"] == "REGION" else t[:, res.states.index(a["state"])]
        except ValueError:
            v = np.full(n, np.nan)
        out[o.name] = np.asarray(v, dtype=float)
    return out


def _tables(task: Task, res: Results) -> dict[str, pd.DataFrame]:
    last = res.steps
    keep = None if task.record == "full" else [0, last]
    inf = res.influence_table()
    if task.record != "full":
        inf = inf[["run", "step", "date", "power", "state", "influence"]]
    st, tr = res.status_table(), res.trade_table()
    if keep is not None:
        st, tr = st[st["step"].isin(keep)], tr[tr["step"].isin(keep)]
    design = np.array([d for d, _ in task.runs], dtype=np.int32)
    replicate = np.array([r for _, r in task.runs], dtype=np.int64)
    tables = {}
    for name, df in (("influence", inf), ("status", st), ("trade", tr)):
        pos = df["run"].to_numpy()
        df = df.drop(columns="run").reset_index(drop=True)
        df.insert(0, "replicate", replicate[pos])
        df.insert(0, "design", design[pos])
        tables[name] = df
    oc = pd.DataFrame({"design": design[res.runs], "replicate": replicate[res.runs],
                       **outcome_values(res, task.outcomes)})
    tables["outcomes"] = oc
    par = res.parameters_table()
    pos = par["run"].to_numpy()
    tables["parameters"] = pd.DataFrame({"design": design[pos], "replicate": replicate[pos],
                                         "parameter": par["parameter"], "value": par["value"]})
    return tables


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back for one task: its tables encoded as Parquet and the status of each run."""

    task_id: str  # the task's name (`Task.task_id`): the store's part folder
    parts: Mapping[str, bytes]  # table name -> Parquet bytes (influence, status, trade, outcomes, parameters, runs)
    runs: pd.DataFrame  # one row per run of the task, column `status`: "done" or "failed"


@dataclass(frozen=True)
class BatchRun:
    """What `run_experiment` returns: the batch's counts, this session's figures, and the full manifest (the
    document written to manifest.json)."""

    folder: Path  # the batch folder
    experiment: str  # the experiment's name
    design_points: int  # design points (scenario x sample)
    replicates: int  # replicates per design point
    runs_total: int  # design points x replicates
    runs_done: int  # runs finished without error, over every session
    runs_failed: int  # runs that failed (tracebacks in the run table), over every session
    runs_run: int  # runs run by this session
    wall_time_s: float  # this session's wall time (s)
    runs_per_s: float | None  # this session's runs per second (runs/s); None when no time passed
    chunk: int  # runs per task in this session (`chunk_size`)
    tasks_redone: tuple[str, ...]  # tasks committed but not whole when this session started, run again
    manifest: Mapping[str, Any]  # the manifest as written to manifest.json


def run_task(task: Task) -> TaskResult:
    """Run a task; if the chunk fails, run its replicates one by one so that only failing runs are lost."""
    t0 = time.perf_counter()
    pieces: list[dict[str, pd.DataFrame]] = []
    status: dict[int, str | None] = {}  # by position in the task

    def keep(res: Results) -> None:
        failed = {int(res.runs[f.index]): f.describe() for f in res.failures}  # by position in the task
        tables = _tables(task, res)
        bad = {task.runs[i] for i in failed}
        for name, df in tables.items():
            mask = [(d, r) not in bad for d, r in zip(df["design"], df["replicate"], strict=True)] if bad else None
            tables[name] = df if mask is None else df[mask].reset_index(drop=True)
        pieces.append(tables)
        status.update({int(i): failed.get(int(i)) for i in res.runs})

    everyone = list(range(len(task.runs)))
    try:
        keep(_simulate(task, everyone))
    except Exception:  # noqa: BLE001 - isolate the failing runs
        for i in everyone:
            try:
                keep(_simulate(task, [i]))
            except Exception:  # noqa: BLE001 - recorded in the run table
                status[i] = traceback.format_exc()
    seconds = time.perf_counter() - t0
    tables = {k: pd.concat([p[k] for p in pieces], ignore_index=True) for k in pieces[0]} if pieces else {}
    tables["runs"] = pd.DataFrame({
        "design": np.array([d for d, _ in task.runs], dtype=np.int32),
        "replicate": np.array([r for _, r in task.runs], dtype=np.int64),
        "seed": np.int64(task.seed), "spawn_key": [f"{d},{r}" for d, r in task.runs],
        "status": ["done" if status[i] is None else "failed" for i in everyone],
        "error": [status[i] or "" for i in everyone], "task": task.task_id,
        "seconds": seconds / len(task.runs)})
    parts = {name: _parquet_bytes(df) for name, df in tables.items() if len(df) or name == "runs"}
    return TaskResult(task.task_id, parts, tables["runs"][["status"]])


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    """Encode a table in the worker, so that the parent only writes bytes (and a remote worker needs no disk)."""
    buf = io.BytesIO()
    # dictionary encoding only where values repeat (codes, dates): trying it on floats costs time and saves nothing
    dict_cols = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    # min/max statistics only on the key columns readers filter on (design, replicate, step): computing them for
    # every float column took a quarter of the encoding time and no reader uses them
    stats = [c for c in ("design", "replicate", "step") if c in df.columns]
    df.to_parquet(buf, index=False, use_dictionary=dict_cols, compression="lz4", write_statistics=stats)
    return buf.getvalue()


def groupable(exp: Experiment) -> bool:
    """Whether design points may share lockstep tasks: the design varies only numeric scenario values (each run
    then carries its own), not structure such as powers, formats, dates or the horizon."""
    if not exp.design_parameters:
        return False
    numeric = set(RunValues(exp.points[0].base.raw, 1).values)
    return all(k in numeric for k in exp.points[0].overrides)


def _pool(exp: Experiment) -> int:
    """The most runs one task may hold: every run of a base scenario when points share tasks (`groupable`), else
    one point's replicates."""
    if not groupable(exp):
        return exp.replicates
    return exp.replicates * (len(exp.points) // len({p.group for p in exp.points}))


def _size_inputs(exp: Experiment) -> tuple[int, tuple[int, int, int, int]]:
    """Recorded periods and the largest (states, powers, formats, channels) over the experiment's scenarios."""
    bases = {p.group: p.base for p in exp.points}.values()
    periods = 1 + (exp.steps if exp.steps is not None else max(sc.steps for sc in bases))
    states, powers, formats, channels = (max(d) for d in zip(*[(len(sc.states), len(sc.powers), len(sc.formats),
                                                                 len(sc.raw["influence"]["channel_weights"]))
                                                                for sc in bases], strict=True))
    return periods, (states, powers, formats, channels)


def chunk_size(exp: Experiment, jobs: int = 1, remote: bool = False) -> int:
    """Runs per task: the experiment's `chunk` when the file sets one, else chosen from the runs, the workers and
    the memory budget: c = min(pool, memory cap, max(MIN_CHUNK, min(MAX_CHUNK, ceil(runs / (TASKS_PER_WORKER x
    workers))))), then evened out over the pool (ceil(pool / ceil(pool / c))), at least 1. runs = design points x
    replicates; workers = max(jobs, 1); pool = the most runs a task may hold (`_pool`); memory cap = the largest
    chunk `check_batch_size` accepts here (`budget.max_chunk`). Results do not depend on it (seeds are per run)."""
    if exp.chunk is not None:
        return exp.chunk
    runs, pool = len(exp.points) * exp.replicates, _pool(exp)
    periods, dims = _size_inputs(exp)
    fits = max_chunk(runs, len(exp.points), periods, dims, jobs, remote)
    spread = -(-runs // (TASKS_PER_WORKER * max(jobs, 1)))
    chunk = max(1, min(pool, fits, max(MIN_CHUNK, min(MAX_CHUNK, spread))))
    return -(-pool // -(-pool // chunk))


def plan_tasks(exp: Experiment, done: set[tuple[int, int]], chunk: int | None = None) -> list[Task]:
    """Tasks for every (design point, replicate) not yet recorded, in chunks of `chunk` runs (default
    `chunk_size(exp)`). Designs that vary only numeric values put runs of several points in one chunk (`groupable`);
    others chunk each point's replicates. Either way run (d, r) draws from SeedSequence(seed, (d, r)): results do
    not depend on grouping or chunking."""
    chunk = chunk_size(exp) if chunk is None else chunk
    tasks = []
    if groupable(exp):
        by_base: dict[tuple[str, str], list[tuple[DesignPoint, int]]] = {}
        for p in exp.points:  # a group: one scenario file under one trade basis
            by_base.setdefault(p.group, []).extend((p, r) for r in range(exp.replicates)
                                                           if (p.index, r) not in done)
        for runs in by_base.values():
            for i in range(0, len(runs), chunk):
                part = runs[i: i + chunk]
                keys = tuple((p.index, r) for p, r in part)
                values = tuple((k, tuple(float(p.overrides[k]) for p, _ in part)) for k in part[0][0].overrides)
                tid = f"d{keys[0][0]:05d}-r{keys[0][1]:07d}-d{keys[-1][0]:05d}-r{keys[-1][1]:07d}"
                tasks.append(Task(tid, keys, part[0][0].base, exp.seed, exp.steps, exp.record, exp.outcomes, values,
                                  tuple(p.point for p, _ in part)))
        return tasks
    for p in exp.points:
        missing = [r for r in range(exp.replicates) if (p.index, r) not in done]
        for i in range(0, len(missing), chunk):
            reps = tuple(missing[i: i + chunk])
            tid = f"d{p.index:05d}-r{reps[0]:07d}-{reps[-1]:07d}"
            tasks.append(Task(tid, tuple((p.index, r) for r in reps), p.scenario, exp.seed, exp.steps, exp.record,
                              exp.outcomes, samples=(p.point,) * len(reps)))
    return tasks


def _os_threads() -> int:
    """Threads of this process as the OS counts them (native pools such as pyarrow's included)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return threading.active_count() + 1  # unknown: assume threads, use the forkserver


def make_executor(engine: str, jobs: int, scheduler: str | None) -> tuple[Executor, Any]:
    """The executor for an engine, and an object to close afterwards (a Dask client) or None."""
    if engine == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            from greatgame.model.yamlio import ScenarioError

            raise ScenarioError("run.py", "--engine", "dask needs the optional extra: pip install -e '.[dask]'") from None
        if scheduler:
            client = Client(scheduler)
        else:
            client = Client(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                         dashboard_address=None))
        return client.get_executor(), client
    if jobs <= 1:
        return SerialExecutor(), None
    # fork while this process runs no other thread: workers inherit the imported model and start at once.
    # Otherwise (a thread is running, e.g. in a notebook) a forkserver with the model preloaded.
    if _os_threads() == 1:
        ctx = get_context("fork")
    else:
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["greatgame.model", "greatgame.experiments.batch.runner"])
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)
    pool.submit(os.getpid).result()  # start the workers now, before any thread (pyarrow, tqdm) exists
    return pool, None


def check_experiment_size(exp: Experiment, jobs: int = 1, engine: str = "local",
                          scheduler: str | None = None) -> Estimate:
    """Estimate the memory and time of running `exp` with `jobs` workers (model/budget.py) and raise ScenarioError
    if they exceed what this machine has or the documented caps; the largest task is `chunk_size` runs."""
    periods, dims = _size_inputs(exp)
    remote = engine == "dask" and bool(scheduler)
    chunk = chunk_size(exp, jobs, remote)
    chunk = chunk if groupable(exp) else min(chunk, exp.replicates)
    return check_batch_size(len(exp.points) * exp.replicates, len(exp.points), chunk, periods, dims, jobs,
                            remote=remote, file=exp.source)


def run_experiment(exp: Experiment, out: str | Path, jobs: int = 1, engine: str = "local",
                   scheduler: str | None = None, resume: bool = False, force: bool = False,
                   progress: bool = True, executor: Executor | None = None) -> BatchRun:
    """Run (or resume) an experiment into `out`; returns its counts and the final manifest. An `executor` passed in (e.g. a
    process pool started early by the command line) is used and shut down at the end. A batch too large for this
    machine (`check_experiment_size`) raises ScenarioError before the folder is touched."""
    store = Store(out)
    try:
        check_experiment_size(exp, jobs, engine, scheduler)  # before anything is written
        store.open(resume=resume, force=force)
    except BaseException:
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        raise
    try:
        closer = None
        if executor is None:
            executor, closer = make_executor(engine, jobs, scheduler)
        try:
            return _run(exp, store, executor, engine, jobs, scheduler, resume, progress)
        finally:
            if closer is not None:
                closer.close()
            else:
                executor.shutdown(wait=True, cancel_futures=True)
    finally:
        store.close()


def _run(exp: Experiment, store: Store, executor: Executor, engine: str, jobs: int, scheduler: str | None,
         resume: bool, progress: bool) -> BatchRun:
    started = dt.datetime.now(dt.UTC)
    manifest: dict[str, Any] = {}
    if resume and (store.root / "manifest.json").exists():
        manifest = store.read_json("manifest.json")
        if manifest.get("design_hash") != exp.design_hash():
            from greatgame.model.yamlio import ScenarioError

            raise ScenarioError(exp.source, "", f"differs from the experiment in {store.root} (other design, seed, "
                                "scenarios or outcomes); only `replicates` may change on --resume")
    store.drop_uncommitted()
    runs_done = store.read("runs", columns=["design", "replicate"])
    done = set(zip(runs_done["design"].tolist(), runs_done["replicate"].tolist(), strict=True))
    chunk = chunk_size(exp, jobs, remote=engine == "dask" and bool(scheduler))
    tasks = plan_tasks(exp, done, chunk)
    total = len(exp.points) * exp.replicates
    manifest.update({
        "experiment": exp.name, "experiment_file": exp.source, "experiment_sha256": file_hash(exp.source),
        "design_hash": exp.design_hash(), "experiment_spec": exp.raw, "design_method": exp.method,
        "design_parameters": list(exp.design_parameters), "sobol_n": exp.sobol_n, "reference": exp.reference,
        "trade_bases": list(exp.trade_bases) if exp.trade_bases is not None else None, "sign_share": exp.sign_share,
        "design_points": len(exp.points), "replicates": exp.replicates, "runs_total": total, "seed": exp.seed,
        "seed_rule": "run (d, r) uses numpy.random.SeedSequence(seed, spawn_key=(d, r))", "record": exp.record,
        "outcomes": [{"name": o.name, "type": o.type, **o.args} for o in exp.outcomes],
        "versions": versions(), "git_commit": git_commit(), "engine": engine, "workers": jobs,
        "scheduler": scheduler, "status": "running",
        "start_date": exp.points[0].scenario.date_of(0).isoformat(), "step_months": exp.points[0].scenario.step_months})
    manifest.setdefault("sessions", []).append({"start": started.isoformat(), "runs_to_do": sum(len(t.runs)
                                                                                            for t in tasks),
                                                "chunk": chunk,  # runs per task (`chunk_size`)
                                                "tasks_redone": store.redone})  # committed but not whole
    store.write_json("manifest.json", manifest)
    store.write_frame(store.root / "design.parquet", pd.DataFrame(exp.design_table()))
    t0 = time.perf_counter()
    n_new, failed = 0, 0
    bar = tqdm(total=total, initial=len(done), unit="run", disable=not progress, desc=exp.name, smoothing=0.1)
    try:
        pending: set[Future] = set()
        queue = list(tasks)
        limit = 2 * max(jobs, 1) + 1
        while queue or pending:
            while queue and len(pending) < limit:
                pending.add(executor.submit(run_task, queue.pop(0)))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                result = fut.result()
                store.write_task(result.task_id, result.parts)
                runs = result.runs
                n_new += len(runs)
                failed += int((runs["status"] == "failed").sum())
                bar.update(len(runs))
                if failed:
                    bar.set_postfix(failed=failed)
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    all_runs = store.read("runs", columns=["status"])
    manifest["sessions"][-1].update({"end": dt.datetime.now(dt.UTC).isoformat(), "runs_run": n_new,
                                     "wall_time_s": round(wall, 3),
                                     "runs_per_s": round(n_new / wall, 2) if wall > 0 else None})
    manifest.update({"status": "complete", "runs_done": int((all_runs["status"] == "done").sum()),
                     "runs_failed": int((all_runs["status"] == "failed").sum()),
                     "start": manifest["sessions"][0]["start"], "end": manifest["sessions"][-1]["end"],
                     "runs_per_s": manifest["sessions"][-1]["runs_per_s"]})
    store.write_json("manifest.json", manifest)
    session = manifest["sessions"][-1]
    return BatchRun(store.root, exp.name, manifest["design_points"], manifest["replicates"], manifest["runs_total"],
                    manifest["runs_done"], manifest["runs_failed"], session["runs_run"], session["wall_time_s"],
                    session["runs_per_s"], session["chunk"], tuple(session["tasks_redone"]), manifest)
