"""On-disk store of an experiment: a Parquet dataset per table, written as tasks finish.

Layout of OUT/: `manifest.json`, `design.parquet`, `.lock` (the writer's lock: greatgame.model.lock), and
`parts/<table>/<task>.parquet` for the tables influence, status, trade, outcomes and runs. Each part is written
under a hidden temporary name and renamed, so a kill never leaves a corrupt file; the task's `runs` part is written
last and is the task's commit mark. Parts of tasks without a commit mark are removed on resume, and so are all
parts of a committed task one of whose parts is not whole (truncated or unreadable after a machine crash): its runs
are run again. A write that fails (disk full, read-only folder) stops the batch with a one-line ScenarioError;
what was committed stays for `--resume`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from greatgame.model.lock import LOCK_FILE, Hold, claim, writes_folder
from greatgame.model.yamlio import ScenarioError

TABLES = ("influence", "status", "trade", "outcomes", "parameters", "runs")


class Store:
    """An experiment folder; `open()` takes its writer lock (greatgame.model.lock), `close()` releases it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parts = self.root / "parts"
        self._hold: Hold | None = None
        self.redone: list[str] = []  # committed tasks found not whole on resume, run again

    # -------------------------------------------------------------- life cycle
    def open(self, resume: bool, force: bool) -> None:
        """Create or reopen the folder, holding its writer lock (greatgame.model.lock) until `close()` (on the
        command line: until the process ends). Refuses a folder another process is writing (one line naming it),
        a non-empty folder unless resume or force, and an unwritable place; `force` then deletes everything in
        the folder but the lock file, so a writer that waits on that file can never get a second lock."""
        root = self.root
        try:
            if "\0" in str(root):
                raise ValueError("a NUL character")
            root.exists()
        except (OSError, ValueError) as exc:  # a name the system refuses: too long, a NUL character
            raise ScenarioError(root, "--out", f"cannot use this folder name ({getattr(exc, 'strerror', None) or exc})") from None
        if root.exists() and not root.is_dir():
            raise ScenarioError(root, "--out", "exists and is not a folder")

        def may_write() -> None:
            existing = root.is_dir() and any(p.name != LOCK_FILE for p in root.iterdir())
            if existing and not (resume or force):
                raise ScenarioError(root, "--out", "folder exists and is not empty; pass --resume to continue it "
                                    "or --force to start over")
            if resume and existing and not (root / "manifest.json").exists():
                raise ScenarioError(root, "--resume", "no manifest.json here: not an experiment folder")

        self._hold = claim(root, may_write)  # first: a folder another process is writing is refused, whatever it holds
        if force and not resume:
            for p in root.iterdir():
                if p.name != LOCK_FILE:
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        try:
            for t in TABLES:
                (self.parts / t).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.close()
            raise ScenarioError(root, "--out", f"cannot write there ({exc.strerror or exc})") from None

    def close(self) -> None:
        """Release the writer lock (kept to the end of the process on the command line)."""
        if self._hold is not None:
            self._hold.release()
            self._hold = None

    # -------------------------------------------------------------- writing
    def _write(self, path: Path, write: Callable[[Path], Any]) -> None:
        """Write `path` through a hidden temporary file and a rename. A failure of the disk or the folder (full,
        read-only, no permission) removes the temporary file and stops the batch with a one-line ScenarioError:
        what was committed stays, and `--resume` continues."""
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            write(tmp)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise ScenarioError(self.root, "--out", f"cannot write {path.relative_to(self.root)} "
                                f"({exc.strerror or exc}): the batch stopped; the runs written so far are kept. Free "
                                "space or make the folder writable, then run the same command with --resume to "
                                "continue") from None

    def write_json(self, name: str, data: dict) -> None:
        """Write `data` as indented JSON to ROOT/name, atomically."""
        text = json.dumps(data, indent=2, default=str)
        self._write(self.root / name, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def write_frame(self, path: Path, df: pd.DataFrame) -> None:
        """Write a table as Parquet to `path`, atomically."""
        self._write(path, lambda tmp: df.to_parquet(tmp, index=False))

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Write bytes to `path`, atomically."""
        self._write(path, lambda tmp: tmp.write_bytes(data))

    def write_task(self, task_id: str, parts: dict[str, bytes]) -> None:
        """Write one task's encoded Parquet parts; `runs` last, as the commit mark."""
        for t in TABLES:
            if t in parts and t != "runs":
                self.write_bytes(self.parts / t / f"{task_id}.parquet", parts[t])
        self.write_bytes(self.parts / "runs" / f"{task_id}.parquet", parts["runs"])

    # -------------------------------------------------------------- reading
    def committed_tasks(self) -> set[str]:
        """The tasks whose runs table is written (the last part a task writes)."""
        return {p.stem for p in (self.parts / "runs").glob("*.parquet")}

    def task_is_whole(self, task: str) -> bool:
        """Whether a committed task's parts can be read: every part's Parquet footer parses (a truncated or
        garbled file has none), and the outcomes part has one row per run the runs part marks `done`."""
        try:
            runs = pq.read_table(self.parts / "runs" / f"{task}.parquet", columns=["status"])
            done = sum(1 for s in runs.column("status").to_pylist() if s == "done")
            for t in TABLES[:-1]:
                path = self.parts / t / f"{task}.parquet"
                if not path.exists():
                    if t == "outcomes" and done:
                        return False
                    continue  # an empty table is not written
                rows = pq.ParquetFile(path).metadata.num_rows
                if t == "outcomes" and rows != done:
                    return False
        except (OSError, pa.ArrowException):
            return False
        return True

    def drop_uncommitted(self) -> int:
        """Remove parts (and temporary files) of tasks that never wrote their commit mark, and every part of a
        committed task that is not whole (`task_is_whole`: a part truncated or unreadable after a crash), so that
        those runs are run again; return how many files were removed. `self.redone` lists the tasks dropped
        although committed."""
        keep = self.committed_tasks()
        self.redone = sorted(t for t in keep if not self.task_is_whole(t))
        keep -= set(self.redone)
        removed = 0
        for t in TABLES:
            for p in (self.parts / t).iterdir():
                if p.name.startswith(".") or p.stem not in keep:
                    p.unlink()
                    removed += 1
        return removed

    def read(self, table: str, columns: list[str] | None = None, filter_expr: Any = None) -> pd.DataFrame:
        """A table as one DataFrame (only committed parts exist after `drop_uncommitted`)."""
        folder = self.parts / table
        files = sorted(folder.glob("*.parquet"))
        if not files:
            return pd.DataFrame(columns=columns or [])
        dataset = ds.dataset([str(f) for f in files], format="parquet")
        return dataset.to_table(columns=columns, filter=filter_expr).to_pandas()

    def read_arrow(self, table: str, columns: list[str], filter_expr: Any = None) -> Any:
        """A table as a pyarrow Table (no pandas copy), with a column selection and a filter."""
        files = sorted((self.parts / table).glob("*.parquet"))
        return ds.dataset([str(f) for f in files], format="parquet").to_table(columns=columns, filter=filter_expr)

    def read_json(self, name: str) -> dict:
        """The JSON document ROOT/name."""
        return json.loads((self.root / name).read_text(encoding="utf-8"))


def open_batch(root: str | Path, methods: tuple[str, ...], need: str) -> tuple[Store, dict[str, Any]]:
    """A finished batch folder (for reading) and its manifest. ScenarioError when the folder is not a batch, or
    its design is not one of `methods` over parameters (`need` says which experiment would do)."""
    root = Path(root)
    if not (root / "manifest.json").exists():
        raise ScenarioError(root, "", "no manifest.json here: not a batch folder (run `python3 run.py batch ...`)")
    store = Store(root)
    man = store.read_json("manifest.json")
    if man.get("design_method") not in methods or not man.get("design_parameters"):
        kinds = " or ".join(m.upper() if m == "lhs" else m.title() for m in methods)
        raise ScenarioError(root, "design", f"this batch has no {kinds} design over parameters; {need}")
    return store, man


def report_folder(out: str | Path) -> Path:
    """Create a report folder (files in it are replaced); ScenarioError naming --out when the system refuses."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".greatgame-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except (OSError, ValueError) as exc:
        raise ScenarioError(out, "--out", f"cannot write a report there ({getattr(exc, 'strerror', None) or exc})") from None
    return out


def writes_report(arg: str, parent: bool = False) -> Callable:
    """Decorator of a report writer (levers, responsiveness, validate, calibrate): the folder its argument `arg`
    names (with `parent`, the folder of the file it names) is checked and created (`report_folder`), and the call
    holds its writer lock (greatgame.model.lock): a second writer of the folder is refused at once."""
    return writes_folder(arg, parent=parent, prepare=report_folder)
