"""Property-based fuzzing of scenario and experiment files (Hypothesis, fixed seed): every mutated file ends in a
valid result or a one-line ScenarioError naming file and key (exit 2 on the command line), never a traceback, a
hang or a partial output folder. Mutations: tests/fuzzcases.py. The long campaign: benchmarks/fuzz_inputs.py."""

import contextlib
import io
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from greatgame.experiments.batch.runner import check_experiment_size
from greatgame.experiments.batch.spec import load_experiment
from greatgame.model import ScenarioError, load_scenario, simulate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greatgame.cli import main, parse_set

from .conftest import ROOT, SCENARIOS
from .fuzzcases import any_case, check_cli, check_error, cli_argv, experiment_case, run_cli, scenario_case

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BASE = SCENARIOS / "baseline.yaml"


def _load(case, folder: Path):
    """Load a case with the loaders, as the command line would; returns the loaded object."""
    path = case.write(folder)
    if case.kind == "scenario":
        return load_scenario(path, overrides=parse_set(case.overrides) or None)
    return load_experiment(path)


@settings(FUZZ, max_examples=250)
@given(st.randoms(use_true_random=False))
def test_fuzzed_scenario_files_load_or_refuse_with_one_line(rnd):
    with tempfile.TemporaryDirectory() as d:
        case = scenario_case(rnd)
        try:
            sc = _load(case, Path(d))
        except Exception as exc:  # noqa: BLE001 - the property: only the promised error
            problem = check_error(exc, Path(d))
            assert problem is None, f"{problem}\n{case.describe()}"
            return
        res = simulate(sc, runs=2, steps=2)  # a valid scenario runs
        assert res.influence.shape[:2] == (3, 2)


@settings(FUZZ, max_examples=150)
@given(st.randoms(use_true_random=False))
def test_fuzzed_experiment_files_load_or_refuse_with_one_line(rnd):
    with tempfile.TemporaryDirectory() as d:
        case = experiment_case(rnd, small=rnd.random() < 0.95)
        try:
            exp = _load(case, Path(d))
            check_experiment_size(exp)
        except Exception as exc:  # noqa: BLE001 - the property: only the promised error
            problem = check_error(exc, Path(d))
            assert problem is None, f"{problem}\n{case.describe()}"
            return
        assert exp.points and exp.replicates >= 1


@settings(FUZZ, max_examples=40)
@given(st.randoms(use_true_random=False), st.sampled_from(["check", "run", "batch"]))
def test_fuzzed_files_through_the_command_line_in_process(rnd, mode):
    """run.main([...]) as the command line calls it: exit 0 with complete outputs, or exit 2 with one line and no
    output folder."""
    with tempfile.TemporaryDirectory() as d:
        case = experiment_case(rnd) if mode == "batch" else scenario_case(rnd)
        path, out = case.write(Path(d)), Path(d) / "out"
        err, stdout = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(stdout):
            rc = main(cli_argv(case, path, mode, out))
        outcome = check_cli(rc, stdout.getvalue(), err.getvalue(), mode, out)
        assert outcome.verdict in ("ok", "refused"), f"{outcome.verdict}: {outcome.detail}\n{case.describe()}"


def test_fuzzed_files_through_real_processes():
    """24 cases through `python3 run.py` in subprocesses (two at a time): check, run --steps 2 --runs 2, batch."""
    rnd = random.Random(20261120)
    jobs = []
    for i in range(24):
        mode = ("check", "run", "batch")[i % 3]
        jobs.append((mode, experiment_case(rnd) if mode == "batch" else scenario_case(rnd)))
    with tempfile.TemporaryDirectory() as d, ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda ij: run_cli(ij[1][1], Path(d) / str(ij[0]), ij[1][0]), enumerate(jobs)))
    bad = [(o.verdict, o.detail, case.describe()) for o, (_, case) in zip(outcomes, jobs, strict=True)
           if o.verdict not in ("ok", "refused")]
    assert not bad, bad
    assert {o.verdict for o in outcomes} == {"ok", "refused"}, "the sample should hold valid and refused cases"


# --------------------------------------------------------------------------- what fuzzing found, pinned down
LONG = "x" * 5000 + ".yaml"
REGRESSIONS = {
    "extends_5000_char_name": (f"extends: {LONG}\nname: a\n", ["extends", "cannot use", "File name too long"]),
    "extends_nul_in_name": ('extends: "a\\0b.yaml"\nname: a\n', ["extends", "null"]),
    "extends_a_device": ("extends: /dev/zero\nname: a\n", ["extends", "not a regular file"]),
    "extends_a_folder": ("extends: .\nname: a\n", ["extends", "not a regular file"]),
    "deep_nesting": ("name: " + "[" * 5000 + "]" * 5000 + "\n", ["nesting too deep"]),
    "not_utf8": (b"name: \xff\xfe\n", ["not UTF-8"]),
    "control_character": ("name: a\x01b\n", ["unacceptable character #x0001"]),
    "list_as_key": (f"extends: {BASE}\n? [a, b]\n: 1\n", ["line 2", "a list cannot be a key"]),
    "bad_float_tag": (f"extends: {BASE}\nsteps: !!float x\n", ["YAML value error"]),
    "400_digit_integer": (f"extends: {BASE}\nsteps: {10**400}\n", ["steps", "finite number", "401-digit"]),
    "huge_integer_weight": (f"extends: {BASE}\nparameters:\n  weights:\n    trade: {2**64}\n",
                            ["parameters.weights.trade", "out of range"]),
    "400_digit_uncertainty_bound": (f"extends: {BASE}\nuncertainty:\n  ranges:\n    formats.SCO.depth: "
                                    f"{{low: {10**400}, high: 1}}\n",
                                    ["uncertainty.ranges.formats.SCO.depth", "finite numbers"]),
    "event_type_a_mapping": (f"extends: {BASE}\nevents_add:\n  - {{type: {{a: 1}}, at: 2024Q1}}\n",
                             ["events[0].type", "unknown event type"]),
    "key_with_line_break": (f'extends: {BASE}\n"a\\nb": 1\n', ["a\\nb", "unknown key"]),
    "long_value_in_message": (f"extends: {BASE}\nevents_add:\n  - {{type: threat, level: 0.5, at: [{'1, ' * 5000}1]}}\n",
                              ["events[0].at", "…"]),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_fuzz_findings_are_one_line_input_errors(case, tmp_path, capsys):
    text, needles = REGRESSIONS[case]
    path = tmp_path / "s.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    rc = main(["check", str(path)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1 and len(err) < 2000, err
    assert str(path) in err, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("item,needles", [
    ("name.a=1", ["name.a", "unknown key"]), ("parameters.rationality=[", ["--set parameters.rationality", "not a YAML"]),
    ("parameters.rationality=!!float x", ["not a YAML value"]), ("=1", ["<empty key>", "not a key path"]),
    ("a..b=1", ["a..b", "not a key path"]), ("parameters.rationality=1.0e+400", ["finite"])])
def test_bad_set_values_are_one_line_input_errors(item, needles, capsys):
    rc = main(["check", str(BASE), "--set", item])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("command", ["run", "batch"])
@pytest.mark.parametrize("name", ["x" * 5000, "a\0b"])
def test_output_folder_names_the_system_refuses(command, name, tmp_path, capsys):
    target = str(BASE) if command == "run" else str(ROOT / "experiments" / "lhs_weights.yaml")
    rc = main([command, target, "--out", str(tmp_path / name), "--quiet", "--runs", "1", "--steps", "1"][
        : 5 if command == "batch" else None])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "--out" in err, err


@pytest.mark.parametrize("name", ["../../outside", "a/b", "..", "x" * 300, "a\\0b", " "])
def test_a_name_that_cannot_be_the_default_folder(name, tmp_path, capsys, monkeypatch):
    """Without --out the folder is results/<name>: a name that would leave results/ or that no file system takes
    is an input error naming the key, and nothing is written."""
    monkeypatch.chdir(tmp_path)  # results/ is under the working folder
    path = tmp_path / "s.yaml"
    path.write_text(f'extends: {BASE}\nname: "{name}"\n')
    rc = main(["run", str(path), "--runs", "1", "--steps", "1", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and f"{path}: name:" in err and "--out" in err, err
    assert not (tmp_path / "results").exists() and not (tmp_path.parent / "outside").exists()


def test_experiment_findings(tmp_path):
    """An empty or repeated scenario list, a design table that is not CSV and an outcome type that is a list."""
    def refused(body: str, needles: list[str], extra: dict[str, bytes] | None = None) -> None:
        for name, data in (extra or {}).items():
            (tmp_path / name).write_bytes(data)
        path = tmp_path / "e.yaml"
        path.write_text(f"name: e\nreplicates: 1\nseed: 1\n{body}")
        with pytest.raises(ScenarioError) as info:
            load_experiment(path)
        assert check_error(info.value, tmp_path) is None
        for needle in needles:
            assert needle in str(info.value), (needle, str(info.value))

    refused("scenarios: []\n", ["scenarios", "at least one"])
    refused(f"scenarios: [{BASE}, {BASE}]\n", ["scenarios[1]", "listed twice"])
    refused(f"scenarios: [{BASE}]\ndesign: {{method: table, file: t.csv}}\n", ["design.file", "not UTF-8"],
            {"t.csv": b"\xff\xfe\x00"})
    refused(f"scenarios: [{BASE}]\ndesign: {{method: table, file: t.csv}}\n", ["design.file", "not a CSV"],
            {"t.csv": b'a,b\n"1,2\n3,4,5\n'})
    refused(f"scenarios: [{BASE}]\noutcomes: [{{type: [a]}}]\n", ["outcomes[0].type", "unknown outcome type"])


def test_long_extends_name_in_a_real_process(tmp_path):
    """The case of the issue: `run.py check` on a scenario whose `extends:` names a 5,000-character file."""
    path = tmp_path / "long.yaml"
    path.write_text(f"extends: {LONG}\nname: long\n")
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "check", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "extends" in proc.stderr and "too long" in proc.stderr


def test_the_case_generator_reaches_every_mutation():
    """The fuzzer is only as good as its mutations: a sample of cases uses each of them (a guard against a
    refactor that silently stops applying some)."""
    from . import fuzzcases

    rnd = random.Random(1)
    ops = [op for _ in range(300) for op in any_case(rnd).ops]
    names = {op.__name__[2:] for op in fuzzcases.SCENARIO_OPS + fuzzcases.EXPERIMENT_OPS}
    assert names <= set(ops), names - set(ops)
    assert {f"text{k}" for k in range(9)} <= set(ops)
