"""One writer per output folder: an operating-system lock on `FOLDER/.lock`.

Every command that writes a folder (`run`, `batch` with or without `--resume`/`--force`, `levers`, `validate`,
`calibrate`, `responsiveness`, the dashboard's Save) takes the folder's lock before it writes or deletes anything
there (`claim`). A second writer is refused at once with a one-line ScenarioError (exit 2 on the command line) that
names the folder and the holder: the process id, start time and command line the holder wrote into the lock file.
The refused writer touches nothing (it opens the existing lock file, never truncates it).

The lock is `fcntl.flock(LOCK_EX | LOCK_NB)` on the lock file (Linux and macOS; no extra dependency, and unlike
the `filelock` library it leaves the holder's line in the file for the refusal to quote). The operating system
drops it when its holder ends in any way, SIGKILL included, so a lock left by a killed process never blocks; its
stale line is overwritten by the next writer. The lock file is never moved, and deleted only by a `run` that
fails in a folder it created itself (it removes that folder again): `--force` deletes everything in the folder
but `.lock`, and `run --force` replaces files inside the folder rather than the folder. After taking the lock, a
writer checks that the file it locked is still the one at `FOLDER/.lock` (and tries again if not), so a removed
lock file can never leave two holders.

How long it is held: for the call of the API function that writes (`run_to_folder`, `run_experiment`, ...), and
on the command line (`until_exit`, entered by `greatgame.cli.main`) until the command ends, i.e. until the process
ends: `batch`'s comparison step, which writes `OUT/compare/` after the runs, is covered. Processes forked while a
lock is held (a local process pool) close their copy of the lock file, so they neither hold nor release it.

Readers (`compare`, `discover`, `sensitivity`, the dashboard's batch browser) never hold the lock. `writer_of`
tells them whether someone writes a folder now: it tests the lock with a non-blocking shared lock that it drops
at once (microseconds); a writer that meets such a test retries for up to half a second before refusing, so a
reader can never make a writer fail.

Threads of one process are kept apart like processes (each claim opens its own file description), except that a
claim waits up to `wait` seconds for the folder (the dashboard's saves, from several browser sessions, wait).

Windows has no `fcntl`: there `claim` takes no lock and two writers are not kept apart (nothing else changes).
greatgame is tested on Linux; on Windows run it under WSL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import os
import shlex
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .yamlio import ScenarioError

try:
    import fcntl
except ImportError:  # Windows: see the module docstring
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"
"""The lock file's name inside a folder; writers keep it (see the module docstring) and count a folder holding only
it as empty."""
RETRY_S = 0.5  # a writer that finds the lock taken looks again for this long (a reader's test lasts microseconds)
_POLL_S = 0.01

_mutex = threading.Lock()
_held: dict[str, Hold] = {}  # real path of the folder -> this process's hold of it (in use or kept until exit)
_until_exit = 0  # > 0 inside `until_exit`: released holds are kept until it ends


def _holder_line(what: str | None) -> str:
    """What a refused writer is told about this process: pid, host, start time, command."""
    command = what or shlex.join(getattr(sys, "orig_argv", sys.argv))
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()} since {when}: {command[:300]}"


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 1000, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0] if text else "another process (it has not said which yet)"


class Hold:
    """This process's lock of one folder; `release()` ends it (or, inside `until_exit`, keeps it to the end)."""

    def __init__(self, folder: Path, key: str, fd: int | None) -> None:
        self.folder, self.key, self.fd = folder, key, fd
        self.in_use = True

    def release(self) -> None:
        """Give up this hold: the lock is released at once, or kept until the command ends inside `until_exit`."""
        with _mutex:
            if not self.in_use:
                return
            self.in_use = False
            if _until_exit:
                return  # kept: the command line holds its folders until the process ends
            self._close()

    def _close(self) -> None:
        if _held.get(self.key) is self:
            del _held[self.key]
        if self.fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name the system refuses: the check says so
        return False


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _take(folder: Path, what: str | None, wait: float) -> Hold:
    """Create the folder if needed, open its lock file and lock it (looking again for `wait` seconds)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = _key(folder)
        with _mutex:
            kept = _held.get(key)
            if kept is not None and not kept.in_use:  # released earlier in this command, still held: reuse it
                kept.in_use = True
                return kept
        if fcntl is None:
            hold = Hold(folder, key, None)
            with _mutex:
                _held[key] = hold
            return hold
        path = folder / LOCK_FILE
        deadline = time.monotonic() + wait
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() < deadline:
                    os.close(fd)
                    time.sleep(_POLL_S)
                    continue
                holder = _read_holder(fd)
                os.close(fd)
                raise ScenarioError(folder, "--out", f"another process is writing this folder ({holder}); wait for "
                                    "it to end or choose another --out") from None
            except BaseException:
                os.close(fd)
                raise
            if not _same_file(fd, path):  # the file was removed (and perhaps made anew) before we locked it
                os.close(fd)
                folder.mkdir(parents=True, exist_ok=True)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, (_holder_line(what) + "\n").encode("utf-8", "replace"), 0)
            hold = Hold(folder, key, fd)
            with _mutex:
                _held[key] = hold
            return hold
    except OSError as exc:
        raise ScenarioError(folder, "--out", f"cannot write there ({exc.strerror or exc})") from None


def claim(folder: str | Path, check: Callable[[], Any] | None = None, what: str | None = None,
          wait: float = RETRY_S) -> Hold:
    """Take the writer's lock of `folder` (created if missing) and return the Hold. `check()` says whether the
    folder may be written (it raises ScenarioError if not, e.g. a non-empty folder without --force): it runs under
    the lock, and first too when there is no lock file yet (no folder, or one no greatgame writer has held), so
    that a refused command creates nothing; where a lock file exists, the lock is taken before `check` looks at
    anything, so that a refused second writer touches nothing. `what` replaces the command line in the holder's
    line (e.g. "dashboard Save"). Raises ScenarioError when another process (or thread) holds the lock after
    `wait` seconds, or the place is unwritable."""
    folder = Path(folder)
    if check is not None and not _exists(folder / LOCK_FILE):
        check()
    hold = _take(folder, what, wait)
    if check is not None:
        try:
            check()
        except BaseException:
            hold.release()
            raise
    return hold


@contextlib.contextmanager
def writing(folder: str | Path, check: Callable[[], Any] | None = None, what: str | None = None,
            wait: float = RETRY_S) -> Iterator[Path]:
    """Hold the folder's lock for the block of a `with` statement (see `claim`); yields the folder."""
    with claim(folder, check, what, wait):
        yield Path(folder)


F = TypeVar("F", bound=Callable[..., Any])


def writes_folder(arg: str, parent: bool = False, prepare: Callable[[Path], Any] | None = None) -> Callable[[F], F]:
    """Decorator: the call holds the lock of the folder its argument `arg` names (with `parent`, of the folder of
    the file it names), taken before the function runs; `prepare(folder)` is the claim's check (e.g. that the
    place can hold the folder, with its own one-line error)."""
    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            target = Path(bound.arguments[arg])
            folder = target.parent if parent else target
            with claim(folder, None if prepare is None else lambda: prepare(folder)):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@contextlib.contextmanager
def until_exit() -> Iterator[None]:
    """Inside this block (the command line's whole command), released holds stay held until the block ends."""
    global _until_exit
    with _mutex:
        _until_exit += 1
    try:
        yield
    finally:
        with _mutex:
            _until_exit -= 1
            if not _until_exit:
                for hold in [h for h in _held.values() if not h.in_use]:
                    hold._close()


def writer_of(folder: str | Path) -> str | None:
    """For readers: the holder's line when another process is writing `folder` now, else None (nobody, or this
    process itself). Holds nothing: a non-blocking shared lock taken and dropped at once."""
    folder = Path(folder)
    path = folder / LOCK_FILE
    if fcntl is None:
        return None
    with _mutex:
        if _key(folder) in _held:
            return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(fd)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _forget_in_child() -> None:
    """In a forked child: close the inherited lock files without unlocking (the parent keeps its lock)."""
    global _until_exit, _mutex
    _mutex = threading.Lock()  # another thread of the parent may have held it at the fork
    for hold in _held.values():
        if hold.fd is not None:
            with contextlib.suppress(OSError):
                os.close(hold.fd)
            hold.fd = None
    _held.clear()
    _until_exit = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
