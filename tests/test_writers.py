"""One writer per output folder, with real processes (model/lock.py): a second `batch` (plain, --resume or --force)
or `run` is refused with one line naming the holder, exit 2, and touches nothing; readers are told; a holder killed
with SIGKILL leaves nothing that blocks; and a Dask cluster batch whose worker is killed midway ends with the rows
of a serial batch.

Each first writer is frozen with SIGSTOP once it holds the lock (its pid in the lock file), so that the second
writers meet it for certain, however slowly they start; it then continues with SIGCONT and must end well. Every
process runs in its own process group, killed in the fixture's teardown whatever happened."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from greatgame.dashboard import logic
from greatgame.experiments.batch.runner import run_experiment
from greatgame.experiments.batch.spec import load_experiment
from greatgame.model import ScenarioError
from greatgame.model.lock import LOCK_FILE, claim, writer_of

from greatgame.cli import main

from .conftest import ROOT
from .test_batch import assert_same_data, finished_batch, write_experiment

RUN = [sys.executable, str(ROOT / "run.py")]
TIMEOUT = 180  # seconds: the bound of every wait (the machine may be shared and slow)


@pytest.fixture
def spawn():
    """Start processes in their own process groups; the teardown kills every group that is still there."""
    procs: list[subprocess.Popen] = []

    def start(args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kwargs)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate(timeout=30)


def wait_for(condition, what: str, proc: subprocess.Popen | None = None, poll: float = 0.005) -> None:
    """Poll until condition() holds; fail (with the process's stderr) if it does not within TIMEOUT or `proc`
    ends first."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the process ended before {what}: exit {proc.returncode}, {proc.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(poll)


def holds(out: Path, proc: subprocess.Popen) -> bool:
    """Whether `proc` has written its holder line into the lock file (it does so right after taking the lock)."""
    try:
        return (out / LOCK_FILE).read_text().startswith(f"pid {proc.pid} ")
    except OSError:
        return False


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder under `folder`, with its inode, size and modification time."""
    out = {}
    for p in [folder, *sorted(folder.rglob("*"))]:
        st = p.stat()
        out[str(p.relative_to(folder))] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err


def assert_refused(rc: int, err: str, out: Path, holder: subprocess.Popen, command: str) -> None:
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {out}: --out: another process is writing this folder (pid {holder.pid} "), err
    assert command in lines[0], err


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """A small batch (2 scenarios x 4 replicates, tasks of 2 runs, 8 steps) and its serial run, the reference."""
    return finished_batch(tmp_path_factory.mktemp("writers"), "reference", replicates=4, steps=8)


@pytest.mark.parametrize("first", ["plain", "--resume", "--force"])
def test_second_batch_writer_is_refused_and_touches_nothing(experiment, tmp_path, spawn, capsys, first):
    """The first writer (plain, --resume of a partial batch, or --force over a finished one) is frozen in its
    comparison step, after the runs: that is where the lock used to be released. A second writer of each kind is
    then refused with one line naming the first (exit 2) and leaves every file as it was; a reader is told the
    batch is still being written. The first then completes with the reference's rows."""
    path, reference = experiment
    out = tmp_path / "out"
    if first == "--resume":  # half the replicates already there
        run_experiment(load_experiment(write_experiment(tmp_path, replicates=2, chunk=2, steps=8)), out, progress=False)
    elif first == "--force":  # a finished batch to replace
        run_experiment(load_experiment(path), out, progress=False)
    holder = spawn([*RUN, "batch", str(path), "--out", str(out), "--quiet", *([first] if first != "plain" else [])])
    wait_for(lambda: holds(out, holder) and (out / "compare").is_dir(), "the first batch's comparison step", holder)
    os.kill(holder.pid, signal.SIGSTOP)
    assert holder.poll() is None, "the first batch ended before it could be frozen"
    before = snapshot(out)
    seconds = [spawn([*RUN, "batch", str(path), "--out", str(out), "--quiet", *mode])
               for mode in ([], ["--resume"], ["--force"])]
    for proc in seconds:
        assert_refused(*finish(proc), out, holder, "batch")
    assert snapshot(out) == before, "a refused writer changed the folder"
    # readers hold no lock and say that the batch is still being written
    assert writer_of(out).startswith(f"pid {holder.pid} ")
    assert main(["sensitivity", str(out), "--out", str(tmp_path / "sens")]) == 2  # not a Sobol batch: refused
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"note: {out} is still being written (pid {holder.pid} "), err
    batch = logic.open_batch(logic.Folders(scenarios=tmp_path, results=tmp_path), "out")
    assert batch.writer is not None and batch.writer.startswith(f"pid {holder.pid} ")
    assert snapshot(out) == before, "a reader changed the folder"
    os.kill(holder.pid, signal.SIGCONT)
    rc, err = finish(holder)
    assert rc == 0, err
    assert writer_of(out) is None
    assert_same_data(out, reference)
    assert (out / "report.md").is_file()


def test_batch_holder_killed_leaves_nothing_that_blocks(experiment, tmp_path, spawn):
    """SIGKILL of a batch midway: the operating system drops its lock, and `--resume` completes the batch."""
    path, reference = experiment
    out = tmp_path / "out"
    holder = spawn([*RUN, "batch", str(path), "--out", str(out), "--quiet", "--no-compare"])
    wait_for(lambda: holds(out, holder) and len(list((out / "parts" / "runs").glob("*.parquet"))) >= 1,
             "the first committed task", holder)
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(timeout=TIMEOUT)
    assert writer_of(out) is None
    proc = spawn([*RUN, "batch", str(path), "--out", str(out), "--quiet", "--resume"])
    rc, err = finish(proc)
    assert rc == 0, err
    assert_same_data(out, reference)
    assert (out / LOCK_FILE).read_text().startswith(f"pid {proc.pid} "), "the new writer took the lock"


def test_second_run_writer_is_refused_and_a_killed_run_does_not_block(tmp_path, spawn):
    """`run`: a second `run` (plain or --force) meets the first's lock, is refused and touches nothing; once the
    first is killed (SIGKILL, nothing written yet but the lock file) a plain `run` writes the folder."""
    out = tmp_path / "out"
    holder = spawn([*RUN, "run", "--runs", "64", "--steps", "40", "--out", str(out), "--quiet"])
    wait_for(lambda: holds(out, holder), "the first run's lock", holder)
    os.kill(holder.pid, signal.SIGSTOP)
    before = snapshot(out)
    assert {p for p in before if not p.startswith(".greatgame-probe-")} == {".", LOCK_FILE}  # (its writability probe)
    seconds = [spawn([*RUN, "run", "--runs", "2", "--steps", "2", "--out", str(out), "--quiet", *mode])
               for mode in ([], ["--force"])]
    for proc in seconds:
        assert_refused(*finish(proc), out, holder, "run")
    assert snapshot(out) == before
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(timeout=TIMEOUT)
    proc = spawn([*RUN, "run", "--runs", "2", "--steps", "2", "--out", str(out), "--quiet"])
    rc, err = finish(proc)
    assert rc == 0, err
    assert json.loads((out / "manifest.json").read_text())["runs"] == 2


def test_run_force_replaces_files_inside_the_folder_and_keeps_the_lock_file(tmp_path):
    """`run --force` keeps the folder and its lock file (the same inode a waiting writer opened) and replaces the
    rest; a failure before the files are written leaves no new folder."""
    out = tmp_path / "out"
    assert main(["run", "--runs", "2", "--steps", "2", "--out", str(out), "--quiet"]) == 0
    (out / "old.txt").write_text("old")
    inode = (out / LOCK_FILE).stat().st_ino
    assert main(["run", "--runs", "3", "--steps", "2", "--out", str(out), "--quiet", "--force"]) == 0
    assert (out / LOCK_FILE).stat().st_ino == inode and not (out / "old.txt").exists()
    assert json.loads((out / "manifest.json").read_text())["runs"] == 3
    assert not list(tmp_path.glob(".out.*")), "the temporary folder is removed"


def test_in_process_writers_are_kept_apart_and_released(tmp_path):
    """Two claims of one folder in one process conflict too (threads of the dashboard); a claim ends with its
    block, and a check that refuses leaves no lock file in an existing folder."""
    folder = tmp_path / "f"
    with claim(folder, what="first"):
        with pytest.raises(ScenarioError, match=r"another process is writing this folder \(pid \d+ .*: first\)"):
            claim(folder, wait=0.05)
    with claim(folder):
        pass
    other = tmp_path / "g"
    other.mkdir()
    (other / "x").write_text("")

    def refuse() -> None:
        raise ValueError("not empty")

    with pytest.raises(ValueError):
        claim(other, refuse)
    assert not (other / LOCK_FILE).exists()


@pytest.mark.parametrize("argv", [
    ["levers", "--runs", "2", "--out", "{out}"],
    ["responsiveness", "--runs", "2", "--out", "{out}"],
    ["validate", "--quick", "--out", "{out}"],
    ["calibrate", "--maxiter", "1", "--out", "{out}/calibrated.yaml"],
])
def test_report_writers_are_refused_while_their_folder_is_written(tmp_path, capsys, argv):
    """levers, responsiveness, validate and calibrate take their folder's lock before they run anything: while
    another writer holds it they stop with one line naming it (exit 2) and write nothing."""
    out = tmp_path / "out"
    with claim(out, what="the other writer"):
        before = snapshot(out)
        assert main([a.format(out=out) for a in argv]) == 2
        assert snapshot(out) == before
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {out}: --out: another process is writing this folder (pid "), err
    assert err[0].endswith(": the other writer); wait for it to end or choose another --out"), err


def test_dashboard_save_is_refused_while_the_scenarios_folder_is_written(tmp_path):
    """The dashboard's Save waits (5 s) for the scenarios folder, then shows who writes it and writes nothing."""
    folders = logic.Folders(tmp_path / "scenarios", tmp_path / "results")
    (tmp_path / "scenarios").mkdir()
    r = logic.resolve(logic.Settings(runs=4, values=(("parameters.rationality", 9.0),)), folders)
    with claim(tmp_path / "scenarios", what="greatgame calibrate"):
        with pytest.raises(logic.DashboardError, match=r"save as: another process is writing .*greatgame calibrate"):
            logic.save_scenario(r, folders, "tweak")
    assert not (tmp_path / "scenarios" / "tweak.yaml").exists()
    assert logic.save_scenario(r, folders, "tweak").is_file()


@pytest.fixture
def cluster(tmp_path, spawn):
    """A Dask scheduler and two single-threaded workers without nannies (w0, w1), all on 127.0.0.1, as processes;
    yields the scheduler's address, the worker processes by name and a client of the scheduler."""
    distributed = pytest.importorskip("distributed")
    sched_file = tmp_path / "scheduler.json"
    spawn([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
           "--scheduler-file", str(sched_file)])
    wait_for(lambda: sched_file.is_file() and sched_file.stat().st_size > 0, "the scheduler")
    workers = {f"w{i}": spawn([sys.executable, "-m", "dask", "worker", "--scheduler-file", str(sched_file), "--host",
                               "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"])
               for i in range(2)}
    address = json.loads(sched_file.read_text())["address"]
    assert address.startswith("tcp://127.0.0.1:")
    with distributed.Client(address, timeout=TIMEOUT) as client:
        client.wait_for_workers(2, timeout=TIMEOUT)
        yield address, workers, client


def test_cluster_batch_survives_a_killed_worker(tmp_path, spawn, cluster):
    """A worker process killed with SIGKILL while it runs a task, a third of the way through a cluster batch: the
    scheduler gives its tasks to the other worker and the batch ends with the rows of the serial batch."""
    address, workers, client = cluster
    path = write_experiment(tmp_path, replicates=12, chunk=2, steps=12)  # 12 tasks
    out = tmp_path / "out"
    batch = spawn([*RUN, "batch", str(path), "--out", str(out), "--quiet", "--no-compare", "--engine", "dask",
                   "--scheduler", address])
    runs = out / "parts" / "runs"
    wait_for(lambda: runs.is_dir() and len(list(runs.glob("*.parquet"))) >= 4, "a third of the tasks", batch)

    def busy() -> str | None:
        names = {addr: w["name"] for addr, w in client.scheduler_info()["workers"].items()}
        return next((names[addr] for addr, tasks in client.processing().items() if tasks), None)

    wait_for(lambda: busy() is not None, "a worker with a task", batch)
    victim = workers[busy() or "w0"]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=TIMEOUT)
    committed = len(list(runs.glob("*.parquet")))
    assert committed < 12, "the kill should land midway"
    rc, err = finish(batch)
    assert rc == 0, err
    assert len(client.scheduler_info()["workers"]) == 1, "the scheduler saw the worker go"
    run_experiment(load_experiment(path), tmp_path / "serial", progress=False)
    assert_same_data(out, tmp_path / "serial")
