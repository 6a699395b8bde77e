"""Where the package's own files are, and which code wrote an output.

The shipped scenarios are package data (`greatgame.scenarios`), found beside the installed package: in a checkout
that is the repository's `scenarios/` folder, in a plain install `site-packages/greatgame/scenarios/`. Outputs
never go there: the command line and the dashboard write under the user's working folder.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import greatgame.scenarios

SCENARIOS = Path(greatgame.scenarios.__file__).resolve().parent
"""The folder of the shipped scenario files."""
BASELINE = SCENARIOS / "baseline.yaml"
BACKCAST = SCENARIOS / "backcast_2017.yaml"
DATA_DIR = Path(__file__).resolve().parent / "data"
"""The model's data tables (CSV with sources; data/SOURCES.md)."""


def shipped_file(name: str, folder: Path) -> Path | None:
    """The shipped file called `name` in the package folder `folder` when `name` is a bare file name (no folder
    part) and the file exists; else None (also for a name the system refuses)."""
    try:
        if not name or Path(name).name != name:
            return None
        path = folder / name
        return path if path.is_file() else None
    except (OSError, ValueError):  # too long, a NUL character: not a shipped file (the loader says what is wrong)
        return None


def shipped_scenario(name: str) -> Path | None:
    """The shipped scenario file called `name` (a bare file name such as 'baseline.yaml'), or None."""
    return shipped_file(name, SCENARIOS)


@functools.cache
def checkout_root() -> Path | None:
    """The repository this code runs from, when it runs from a git checkout of greatgame (an editable install);
    None for an installed package (even one inside some other git repository)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=here, capture_output=True, text=True,
                             timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    top = Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None
    return top if top is not None and (top / "model" / "files.py").resolve() == Path(__file__).resolve() else None


def home() -> Path:
    """Where the command line and the dashboard keep the user's files (scenarios/, results/ defaults): the
    repository in a git checkout of greatgame, else the working folder (never the installed package)."""
    return checkout_root() or Path.cwd()


def git_commit() -> str | None:
    """The commit of the checkout this code runs from, or None outside a greatgame checkout."""
    root = checkout_root()
    if root is None:
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def versions() -> dict[str, str]:
    """Versions of Python, greatgame and the libraries whose numbers could change a result."""
    out = {"python": platform.python_version()}
    for pkg in ("greatgame", "mesa", "numpy", "scipy", "pandas", "pyarrow", "matplotlib", "PyYAML"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out
