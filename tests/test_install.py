"""The package as a user installs it: `pip install .` (not editable) into a fresh environment, then `greatgame` from
a folder that holds a `model.py` and an `experiments.py` of the user's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from greatgame.model import load_scenario
from greatgame.model.files import BASELINE, SCENARIOS

from .conftest import ROOT

SOURCES = ("greatgame", "model", "experiments", "dashboard", "scenarios", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A virtual environment with the project installed from a copy of its sources (a plain install, not
    editable); the dependencies come from this interpreter's site-packages (--system-site-packages) to stay fast."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(
            ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / name).is_dir() else {}))
    env_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", str(src)], check=True,
                   capture_output=True, text=True)
    return env_dir


def _user_folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("model.py", "experiments.py", "dashboard.py"):
        (work / name).write_text(f"raise SystemExit('the user\\'s own {name} was imported')\n")
    return work


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env["PYTHONSAFEPATH"] = ""  # the working folder stays on the path, as for a user's `python -c`
    return env


def test_plain_install_imports_from_the_environment_and_runs_from_a_folder_with_its_own_model_py(venv, tmp_path):
    work = _user_folder(tmp_path)
    python = str(venv / "bin" / "python")
    out = subprocess.run([python, "-c", "import greatgame, greatgame.model, greatgame.experiments.batch.runner; "
                          "print(greatgame.__file__); print(greatgame.model.__file__)"],
                         cwd=work, capture_output=True, text=True, env=_clean_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    for line in out.stdout.split():
        assert Path(line).resolve().is_relative_to(venv.resolve()), line
    run = subprocess.run([str(venv / "bin" / "greatgame"), "run", "--runs", "8", "--quiet"], cwd=work,
                         capture_output=True, text=True, env=_clean_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Scenario 'baseline': 8 runs" in run.stdout
    assert (work / "results" / "baseline" / "influence.parquet").is_file()
    # a scenario of the user's own extends the shipped baseline by name
    (work / "mine.yaml").write_text("extends: baseline.yaml\nname: mine\nsteps: 2\n")
    mine = subprocess.run([str(venv / "bin" / "greatgame"), "run", "mine.yaml", "--runs", "2", "--quiet"], cwd=work,
                          capture_output=True, text=True, env=_clean_env(), timeout=300)
    assert mine.returncode == 0, mine.stderr
    assert (work / "results" / "mine" / "status.parquet").is_file()
    # a shipped experiment by its bare name: its `../scenarios/...` paths resolve inside the installed package
    batch = subprocess.run([str(venv / "bin" / "greatgame"), "batch", "compare_scenarios.yaml", "--out", "b",
                            "--no-compare", "--quiet"], cwd=work, capture_output=True, text=True, env=_clean_env(),
                           timeout=600)
    assert batch.returncode == 0, batch.stderr
    assert "done 1600, failed 0" in batch.stdout and (work / "b" / "manifest.json").is_file()
    # bad input keeps its promise from an installed command: one line, exit 2
    bad = subprocess.run([str(venv / "bin" / "greatgame"), "run", "missing.yaml"], cwd=work, capture_output=True,
                         text=True, env=_clean_env(), timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_a_scenario_extends_the_shipped_baseline_when_no_such_file_is_beside_it(tmp_path):
    (tmp_path / "mine.yaml").write_text("extends: baseline.yaml\nname: mine\nruns: 3\n")
    sc = load_scenario(tmp_path / "mine.yaml")
    assert sc.name == "mine" and sc.raw["steps"] == load_scenario(BASELINE).raw["steps"]
    # a file of that name beside it wins over the shipped one
    (tmp_path / "baseline.yaml").write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nsteps: 7\n")
    assert load_scenario(tmp_path / "mine.yaml").raw["steps"] == 7
