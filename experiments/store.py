"""On-disk store of an experiment: a Parquet dataset per table, written as tasks finish.

Layout of OUT/: `manifest.json`, `design.parquet`, `.lock`, and `parts/<table>/<task>.parquet` for the tables
influence, status, trade, outcomes and runs. Each part is written under a hidden temporary name and renamed, so a
kill never leaves a corrupt file; the task's `runs` part is written last and is the task's commit mark. Parts of
tasks without a commit mark are removed on resume.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds

from model.yamlio import ScenarioError

TABLES = ("influence", "status", "trade", "outcomes", "parameters", "runs")


class Store:
    """An experiment folder; `open()` takes an exclusive lock that is released when the process ends."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parts = self.root / "parts"
        self._lock_fh: Any = None

    # -------------------------------------------------------------- life cycle
    def open(self, resume: bool, force: bool) -> None:
        """Create or reopen the folder. Refuses a non-empty folder unless resume or force, an unwritable place,
        and a folder another process is writing (the lock)."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise ScenarioError(root, "--out", "exists and is not a folder")
        if root.exists():
            self._lock(root)  # first: a folder another batch is writing is refused whatever its content
        existing = root.exists() and any(p.name != ".lock" for p in root.iterdir())
        try:
            if existing and not (resume or force):
                raise ScenarioError(root, "--out", "folder exists and is not empty; pass --resume to continue it "
                                    "or --force to start over")
            if resume and existing and not (root / "manifest.json").exists():
                raise ScenarioError(root, "--resume", "no manifest.json here: not an experiment folder")
        except ScenarioError:
            self.close()
            raise
        if not root.exists():
            try:
                root.mkdir(parents=True)
            except OSError as exc:
                raise ScenarioError(root, "--out", f"cannot create the folder ({exc.strerror})") from None
            self._lock(root)
        if force and not resume:
            for p in root.iterdir():
                if p.name != ".lock":
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        for t in TABLES:
            (self.parts / t).mkdir(parents=True, exist_ok=True)

    def _lock(self, root: Path) -> None:
        try:
            self._lock_fh = open(root / ".lock", "a+")  # noqa: SIM115 - held for the process lifetime
        except OSError as exc:
            raise ScenarioError(root, "--out", f"cannot write there ({exc.strerror})") from None
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_fh.seek(0)
            holder = self._lock_fh.read().strip() or "another process"
            self._lock_fh.close()
            self._lock_fh = None
            raise ScenarioError(root, "--out", f"another batch is writing this folder ({holder}); wait for it or "
                                "choose another --out") from None
        self._lock_fh.seek(0)
        self._lock_fh.truncate()
        self._lock_fh.write(f"pid {os.getpid()}\n")
        self._lock_fh.flush()

    def close(self) -> None:
        if self._lock_fh:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    # -------------------------------------------------------------- writing
    def write_json(self, name: str, data: dict) -> None:
        tmp = self.root / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, self.root / name)

    def write_frame(self, path: Path, df: pd.DataFrame) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)

    def write_bytes(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def write_task(self, task_id: str, parts: dict[str, bytes]) -> None:
        """Write one task's encoded Parquet parts; `runs` last, as the commit mark."""
        for t in TABLES:
            if t in parts and t != "runs":
                self.write_bytes(self.parts / t / f"{task_id}.parquet", parts[t])
        self.write_bytes(self.parts / "runs" / f"{task_id}.parquet", parts["runs"])

    # -------------------------------------------------------------- reading
    def committed_tasks(self) -> set[str]:
        return {p.stem for p in (self.parts / "runs").glob("*.parquet")}

    def drop_uncommitted(self) -> int:
        """Remove parts (and temporary files) of tasks that never wrote their commit mark; return how many."""
        keep = self.committed_tasks()
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
        return json.loads((self.root / name).read_text(encoding="utf-8"))
