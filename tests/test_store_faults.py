"""Batch stores under disk faults: a full disk and a read-only folder stop the batch with one line (exit 2) that
says what happened and that --resume continues, nothing committed is lost, and --resume completes to the data of
an uninterrupted batch; a truncated or unreadable committed part is detected on resume and its task run again.
Faults are injected (OSError with ENOSPC or EROFS at the n-th write): the tests run as root, where permissions do
not stop a write, and mounting a small file system needs privileges CI may not have."""

import errno
import os
from pathlib import Path

import pandas as pd
import pytest
from greatgame.experiments.batch.runner import run_experiment
from greatgame.experiments.batch.spec import load_experiment
from greatgame.experiments.batch.store import Store

from greatgame.cli import main

from .test_batch import assert_same_data, finished_batch


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The experiment (2 scenarios x 6 replicates in tasks of 2 runs) and an uninterrupted batch of it."""
    return finished_batch(tmp_path_factory.mktemp("clean"), "out", replicates=6, steps=4)


def _fail_at(monkeypatch, n: int, code: int) -> list[int]:
    """Make the n-th part file written (counting from 1) fail with OSError(code) after writing half its bytes,
    as a disk that fills up does."""
    calls = [0]
    original = Path.write_bytes

    def write_bytes(self, data):
        if self.name.endswith(".parquet.tmp"):
            calls[0] += 1
            if calls[0] == n:
                original(self, data[: len(data) // 2])
                raise OSError(code, os.strerror(code))
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    return calls


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "No space left on device"),
                                        (errno.EROFS, "Read-only file system")])
def test_write_fault_stops_with_one_line_and_resume_completes(clean, tmp_path, monkeypatch, capsys, code, words):
    path, reference = clean
    out = tmp_path / "out"
    argv = ["batch", str(path), "--out", str(out), "--quiet", "--no-compare"]
    _fail_at(monkeypatch, 17, code)  # 6 parts per task: task 3 fails midway
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert words in err and "--resume" in err and str(out) in err
    committed = Store(out).committed_tasks()
    assert 1 <= len(committed) < 6
    before = {p.name: p.read_bytes() for p in (out / "parts" / "outcomes").glob("*.parquet")}
    assert not [p for p in (out / "parts").rglob(".*")], "no temporary file is left behind"
    monkeypatch.undo()
    assert main([*argv, "--resume"]) == 0
    man = Store(out).read_json("manifest.json")
    assert man["status"] == "complete" and man["sessions"][-1]["runs_run"] == 12 - 2 * len(committed)
    for name, data in before.items():  # committed parts are kept as they were
        assert (out / "parts" / "outcomes" / name).read_bytes() == data
    assert_same_data(out, reference)


def test_fault_at_the_start_writes_nothing_then_resume(clean, tmp_path, monkeypatch, capsys):
    """A folder that refuses the first part: the batch stops before any task is committed."""
    path, reference = clean
    out = tmp_path / "out"
    _fail_at(monkeypatch, 1, errno.EROFS)
    rc = main(["batch", str(path), "--out", str(out), "--quiet", "--no-compare"])
    assert rc == 2 and "Read-only file system" in capsys.readouterr().err
    assert not Store(out).committed_tasks()
    monkeypatch.undo()
    assert main(["batch", str(path), "--out", str(out), "--quiet", "--no-compare", "--resume"]) == 0
    assert_same_data(out, reference)


def test_truncated_or_garbled_parts_are_rerun_on_resume(clean, tmp_path):
    path, reference = clean
    out = tmp_path / "out"
    exp = load_experiment(path)
    run_experiment(exp, out, progress=False)
    tasks = sorted(Store(out).committed_tasks())
    influence = out / "parts" / "influence" / f"{tasks[1]}.parquet"
    influence.write_bytes(influence.read_bytes()[: influence.stat().st_size // 2])  # cut by a crash
    runs = out / "parts" / "runs" / f"{tasks[3]}.parquet"
    runs.write_bytes(runs.read_bytes()[:100])
    outcomes = out / "parts" / "outcomes" / f"{tasks[4]}.parquet"
    outcomes.write_bytes(b"\0" * outcomes.stat().st_size)  # garbled in place
    with pytest.raises(Exception):  # noqa: B017 - without the check, the store cannot be read
        Store(out).read("influence")
    man = run_experiment(exp, out, resume=True, progress=False)
    assert list(man.tasks_redone) == sorted([tasks[1], tasks[3], tasks[4]])
    assert man.runs_run == 3 * 2
    assert_same_data(out, reference)
    runs_table = Store(out).read("runs")
    assert len(runs_table) == 12 and not runs_table.duplicated(["design", "replicate"]).any()


def test_outcomes_part_with_missing_rows_is_rerun(clean, tmp_path):
    """A part whose footer is intact but whose row count disagrees with the runs part is not whole either."""
    path, reference = clean
    out = tmp_path / "out"
    exp = load_experiment(path)
    run_experiment(exp, out, progress=False)
    task = sorted(Store(out).committed_tasks())[0]
    part = out / "parts" / "outcomes" / f"{task}.parquet"
    pd.read_parquet(part).iloc[:1].to_parquet(part, index=False)
    assert not Store(out).task_is_whole(task)
    man = run_experiment(exp, out, resume=True, progress=False)
    assert list(man.tasks_redone) == [task]
    assert_same_data(out, reference)
