"""Batch experiments: seed stability, identical results across engines and workers, resume after a kill,
failed-run recording, the lock, and the comparison outputs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from greatgame.experiments.analysis.compare import compare
from greatgame.experiments.batch.runner import FAIL_ENV, run_experiment
from greatgame.experiments.batch.spec import load_experiment
from greatgame.experiments.batch.store import Store
from greatgame.model import ScenarioError

from greatgame.cli import main

from .conftest import ROOT, SCENARIOS

TABLES = ("influence", "status", "trade", "outcomes")


def finished_batch(folder: Path, name: str, replicates: int, steps: int) -> tuple[Path, Path]:
    """An experiment of 2 scenarios x `replicates` in tasks of 2 runs, `steps` steps, written in `folder`, and its
    uninterrupted serial batch in folder/name: (experiment file, batch folder)."""
    path = write_experiment(folder, replicates=replicates, chunk=2, steps=steps)
    run_experiment(load_experiment(path), folder / name, progress=False)
    return path, folder / name


def write_experiment(folder: Path, name: str = "exp", replicates: int = 6, chunk: int | None = 3, steps: int = 6,
                     extra: str = "") -> Path:
    """An experiment over two scenarios; `chunk=None` leaves the chunk to the runner."""
    path = folder / f"{name}.yaml"
    path.write_text(f"""name: {name}
scenarios: [{SCENARIOS / 'baseline.yaml'}, {SCENARIOS / 'sanctions_tighten.yaml'}]
replicates: {replicates}
steps: {steps}
seed: 99
{"" if chunk is None else f"chunk: {chunk}"}
{extra}""")
    return path


def table(out: Path, name: str) -> pd.DataFrame:
    df = Store(out).read(name)
    keys = [c for c in ("design", "replicate", "step", "power", "state", "format", "partner") if c in df.columns]
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str)
    return df.sort_values(keys).reset_index(drop=True)


def assert_same_data(a: Path, b: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(table(a, name), table(b, name), check_dtype=False)


def test_adding_replicates_leaves_earlier_runs_unchanged(tmp_path):
    small = load_experiment(write_experiment(tmp_path, "small", replicates=3))
    big = load_experiment(write_experiment(tmp_path, "big", replicates=5, chunk=5))
    run_experiment(small, tmp_path / "s", progress=False)
    run_experiment(big, tmp_path / "b", progress=False)
    for name in TABLES:
        s, b = table(tmp_path / "s", name), table(tmp_path / "b", name)
        pd.testing.assert_frame_equal(s, b[b["replicate"] < 3].reset_index(drop=True), check_dtype=False)
    # and --resume with more replicates only runs the new ones
    grown = load_experiment(write_experiment(tmp_path, "small", replicates=5))
    man = run_experiment(grown, tmp_path / "s", resume=True, progress=False)
    assert man.runs_run == 2 * 2
    assert_same_data(tmp_path / "s", tmp_path / "b")


def test_serial_pool_and_dask_give_identical_results(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, replicates=4, chunk=2))
    run_experiment(exp, tmp_path / "serial", jobs=1, progress=False)
    run_experiment(exp, tmp_path / "pool", jobs=2, progress=False)
    pytest.importorskip("dask.distributed")
    run_experiment(exp, tmp_path / "dask", jobs=2, engine="dask", progress=False)
    assert_same_data(tmp_path / "serial", tmp_path / "pool")
    assert_same_data(tmp_path / "serial", tmp_path / "dask")


def test_resume_after_kill_loses_no_run_and_repeats_none(tmp_path):
    path = write_experiment(tmp_path, replicates=60, chunk=2, steps=20)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "batch", str(path), "--out", str(out), "--quiet",
                             "--no-compare"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs_dir = out / "parts" / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and (not runs_dir.exists() or len(list(runs_dir.glob("*.parquet"))) < 5):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    committed = len(list(runs_dir.glob("*.parquet")))
    assert 5 <= committed < 60, "the kill should land midway"
    exp = load_experiment(path)
    man = run_experiment(exp, out, resume=True, progress=False)
    assert man.runs_run == 120 - 2 * committed
    runs = Store(out).read("runs")
    assert len(runs) == 120 and not runs.duplicated(["design", "replicate"]).any()
    assert (runs["status"] == "done").all()
    run_experiment(exp, tmp_path / "clean", progress=False)
    assert_same_data(out, tmp_path / "clean")


def test_failed_run_is_recorded_and_batch_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv(FAIL_ENV, "1:2")
    exp = load_experiment(write_experiment(tmp_path, replicates=4, chunk=4))
    man = run_experiment(exp, tmp_path / "out", progress=False)
    assert man.runs_done == 7 and man.runs_failed == 1
    runs = Store(tmp_path / "out").read("runs").set_index(["design", "replicate"])
    assert runs.loc[(1, 2), "status"] == "failed"
    assert "injected failure in design 1 replicate 2" in runs.loc[(1, 2), "error"]
    assert (runs.drop(index=(1, 2))["status"] == "done").all()
    oc = Store(tmp_path / "out").read("outcomes")
    assert len(oc) == 7 and not ((oc["design"] == 1) & (oc["replicate"] == 2)).any()
    # the runs next to the failing one are the same as in a batch without failure
    monkeypatch.delenv(FAIL_ENV)
    run_experiment(exp, tmp_path / "ok", progress=False)
    good = table(tmp_path / "ok", "outcomes")
    good = good[~((good["design"] == 1) & (good["replicate"] == 2))].reset_index(drop=True)
    pd.testing.assert_frame_equal(table(tmp_path / "out", "outcomes"), good, check_dtype=False)


def test_second_writer_is_refused(tmp_path):
    first = Store(tmp_path / "out")
    first.open(resume=False, force=False)
    try:
        with pytest.raises(ScenarioError, match="another process is writing this folder"):
            Store(tmp_path / "out").open(resume=True, force=False)
    finally:
        first.close()


def test_existing_folder_needs_resume_or_force(tmp_path, capsys):
    path = write_experiment(tmp_path, replicates=2, chunk=2, steps=3)
    assert main(["batch", str(path), "--out", str(tmp_path / "o"), "--quiet", "--no-compare"]) == 0
    capsys.readouterr()
    assert main(["batch", str(path), "--out", str(tmp_path / "o"), "--quiet", "--no-compare"]) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.parametrize("extra,needles", [
    ("design:\n  method: lhs\n  points: 4\n  parameters:\n    parameters.weights.hedgin: {low: 0.1, high: 1}\n",
     ["design.parameters.parameters.weights.hedgin", "has no parameter", "did you mean 'parameters.weights.hedging'"]),
    ("design:\n  method: sobol\n  points: 6\n  parameters:\n    parameters.weights.trade: {low: 0.1, high: 1}\n",
     ["design.points", "power of 2"]),
    ("design:\n  method: lhs\n  points: 4\n  parameters:\n    parameters.revision_rate: {low: 0.5, high: 2}\n",
     ["design.parameters.parameters.revision_rate", "out of range"]),
    ("outcomes:\n  - {type: regional_influence, power: IND}\n", ["outcomes[0].power", "unknown code 'IND'"]),
    ("replicats: 3\n", ["replicats", "did you mean 'replicates'"]),
    ("trade_bases: [state, mirror]\n", ["trade_bases[1]", "must be one of state, partner"]),
    ("trade_bases: [state, state]\n", ["trade_bases", "listed twice"]),
    ("trade_bases: []\n", ["trade_bases", "at least one of state, partner"]),
    ("sign_share: 0.5\n", ["sign_share", "above 0.5 and at most 1"]),
    ("sign_share: 1.2\n", ["sign_share", "out of range"]),
])
def test_bad_experiment_is_refused_with_one_line(tmp_path, capsys, extra, needles):
    path = write_experiment(tmp_path, extra=extra)
    out = tmp_path / "o"
    assert main(["batch", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err
    for needle in needles:
        assert needle in err, err
    assert not out.exists()


def test_compare_writes_tables_figures_and_report(tmp_path):
    path = write_experiment(tmp_path, replicates=6, chunk=6, steps=13)
    run_experiment(load_experiment(path), tmp_path / "o", progress=False)
    files = compare(tmp_path / "o")
    diff = pd.read_csv(files.table)
    assert {"scenario", "outcome", "difference", "ci_low", "ci_high", "p_value"} <= set(diff.columns)
    row = diff[(diff["scenario"] == "sanctions_tighten") & (diff["outcome"] == "regional_influence_RUS")].iloc[0]
    assert row["difference"] < 0 and row["ci_low"] <= row["difference"] <= row["ci_high"] and row["p_value"] < 0.05
    assert files.table.name == "differences.csv"
    for path in (files.figure, files.other["fan_states"], files.other["outcomes"], files.report):
        assert path.stat().st_size > 0
    report = files.report.read_text()
    assert "sanctions_tighten" in report and "compare/fan_regional.png" in report


def test_compare_under_both_trade_bases_pairs_within_a_basis_and_flags_robust_signs(tmp_path):
    """`trade_bases` runs every scenario under each basis (same draws); the comparison pairs within a basis and
    robust_in_sign agrees with the per-basis shares (docs/OUTPUT.md "Robust in sign")."""
    extra = ("trade_bases: [state, partner]\nsign_share: 0.95\noutcomes:\n  - {type: regional_influence, power: RUS}\n"
             "  - {type: regional_influence, power: CHN}\n  - {type: status, state: UZB, format: EAEU}\n")
    path = write_experiment(tmp_path, replicates=20, chunk=None, steps=13, extra=extra)
    exp = load_experiment(path)
    assert len(exp.points) == 4 and [p.trade_basis for p in exp.points] == ["state", "partner"] * 2
    run_experiment(exp, tmp_path / "o", progress=False)
    design = pd.read_parquet(tmp_path / "o" / "design.parquet")
    assert design["trade_basis"].tolist() == ["state", "partner"] * 2 and design["uncertainty_drawn"].all()
    oc = table(tmp_path / "o", "outcomes").merge(design, on="design")
    chn = {b: g.sort_values("replicate")["regional_influence_CHN"].to_numpy()
                for b, g in oc[oc["scenario"] == "baseline"].groupby("trade_basis")}
    assert not (chn["state"] == chn["partner"]).all()  # the basis changes the runs
    par = table(tmp_path / "o", "parameters").merge(design[["design", "trade_basis"]], on="design")
    drawn = {b: g[g["design"] < 2].sort_values(["replicate", "parameter"])["value"].to_numpy()
             for b, g in par.groupby("trade_basis")}
    assert len(drawn["state"]) and (drawn["state"] == drawn["partner"]).all()  # one draw per replicate under both
    diff = pd.read_csv(compare(tmp_path / "o").table)
    for b in ("state", "partner"):
        assert {f"share_positive_{b}", f"share_negative_{b}", f"share_zero_{b}", f"pairs_{b}",
                f"difference_{b}"} <= set(diff.columns)
        assert (diff[f"pairs_{b}"] == 20).all()
    assert (diff["n_pairs"] == 40).all()
    rule = pd.Series(True, index=diff.index)
    up = (diff["share_positive_state"] >= 0.95) & (diff["share_positive_partner"] >= 0.95)
    down = (diff["share_negative_state"] >= 0.95) & (diff["share_negative_partner"] >= 0.95)
    rule &= up | down
    assert (diff["robust_in_sign"] == rule).all()
    assert diff["robust_in_sign"].any() and not diff["robust_in_sign"].all()  # the flag is not constant here
    pooled = (diff["share_positive_state"] * 20 + diff["share_positive_partner"] * 20) / 40
    assert diff["share_positive"].to_numpy() == pytest.approx(pooled.to_numpy())
    report = (tmp_path / "o" / "report.md").read_text()
    assert "robust in sign" in report and "sign not robust" in report
    for line in report.splitlines():  # only robust effects are called findings
        if line.startswith("- **Finding"):
            assert "robust in sign" in line


def test_compare_with_one_trade_basis_finds_nothing_robust(tmp_path):
    path = write_experiment(tmp_path, replicates=20, chunk=None, steps=13,
                            extra="outcomes:\n  - {type: regional_influence, power: RUS}\n")
    run_experiment(load_experiment(path), tmp_path / "o", progress=False)
    diff = pd.read_csv(compare(tmp_path / "o").table)
    row = diff.iloc[0]
    assert row["share_negative_state"] >= 0.95 and row["pairs_partner"] == 0  # one sign, but one basis only
    assert not row["robust_in_sign"]
    assert "no effect can be robust in sign" in (tmp_path / "o" / "report.md").read_text()


def test_sobol_design_gives_indices(tmp_path):
    extra = ("design:\n  method: sobol\n  points: 4\n  parameters:\n    parameters.obligation_cost.supranational: "
             "{low: 0.5, high: 1.5}\n    parameters.weights.trade: {low: 0.5, high: 1.5}\n"
             "outcomes:\n  - {type: regional_influence, power: RUS}\n")
    path = write_experiment(tmp_path, replicates=2, chunk=2, steps=6, extra=extra)
    exp = load_experiment(path)
    assert len(exp.points) == 2 * 4 * (2 + 2)
    run_experiment(exp, tmp_path / "o", progress=False)
    files = compare(tmp_path / "o")
    sob = pd.read_csv(files.other["sobol"])
    assert set(sob["parameter"]) == {"parameters.obligation_cost.supranational", "parameters.weights.trade"}
    assert {"first_order", "total_order", "total_low", "total_high"} <= set(sob.columns)
    assert files.other["sobol_png"].stat().st_size > 0 and "compare/sobol.png" in files.report.read_text()


def test_table_design_runs_each_row(tmp_path):
    (tmp_path / "vectors.csv").write_text("parameters.weights.trade,parameters.rationality\n1.0,10\n3.0,20\n")
    extra = "design:\n  method: table\n  file: vectors.csv\n"
    exp = load_experiment(write_experiment(tmp_path, replicates=2, chunk=2, steps=3, extra=extra))
    assert len(exp.points) == 2 * 2
    assert [p.values["parameters.rationality"] for p in exp.points] == [10.0, 20.0, 10.0, 20.0]
    assert exp.points[1].scenario.raw["parameters"]["weights"]["trade"] == 3.0


LHS = ("design:\n  method: lhs\n  points: 5\n  parameters:\n    parameters.rationality: {low: 5, high: 30}\n"
       "    powers.CHN.budget_usd_bn_per_year: {low: 1, high: 8}\n    formats.EAEU.depth: {low: 0.5, high: 1.0}\n")


def test_design_points_share_lockstep_chunks_with_results_of_each_point_alone(tmp_path):
    """A design over numeric values runs several points in one lockstep chunk (each run with its own values); every
    point's numbers equal those of the point simulated alone, and do not depend on the chunk size."""
    from greatgame.experiments.batch.runner import groupable, plan_tasks
    from greatgame.model import GreatGameModel

    exp = load_experiment(write_experiment(tmp_path, "g", replicates=2, chunk=7, extra=LHS))
    assert groupable(exp)
    tasks = plan_tasks(exp, set())
    assert len({d for d, _ in tasks[0].runs}) > 1, "a chunk holds runs of several design points"
    run_experiment(exp, tmp_path / "g7", progress=False)
    run_experiment(load_experiment(write_experiment(tmp_path, "g1", replicates=2, chunk=1, extra=LHS)),
                   tmp_path / "g1", progress=False)
    assert_same_data(tmp_path / "g7", tmp_path / "g1")
    outcomes = table(tmp_path / "g7", "outcomes")
    for p in exp.points[:3]:
        alone = GreatGameModel(p.scenario, spawn_keys=[(p.index, 0), (p.index, 1)], rng=exp.seed, steps=exp.steps,
                               samples=[p.point, p.point]).run()
        got = outcomes[outcomes["design"] == p.index].sort_values("replicate")
        j = alone.powers.index("RUS")
        assert got["regional_influence_RUS"].tolist() == alone.state.regional_total[:, j].tolist()


def test_automatic_chunk_follows_its_rule_and_gives_the_rows_of_an_explicit_one(tmp_path, monkeypatch):
    """Without `chunk`, the runner picks min(pool, memory cap, max(32, min(256, ceil(runs / (4 x workers))))), evened
    over the pool (experiments/README.md, "Chunks"); the memory cap is the largest chunk the memory check accepts;
    the rows equal those of an explicit chunk, and --resume with another chunk continues the same store."""
    from greatgame.experiments.batch import runner
    from greatgame.model.budget import MEMORY_ENV, check_batch_size, max_chunk

    big = load_experiment(write_experiment(tmp_path, "big", replicates=1000, chunk=None))  # 2 scenarios: pool 1000
    assert big.chunk is None
    with monkeypatch.context() as m:
        m.setenv(MEMORY_ENV, "1T")  # memory does not bind here
        assert [runner.chunk_size(big, jobs) for jobs in (1, 2, 8, 64)] == [250, 250, 63, 32]  # 256 evened, 2000/8..
    assert runner.chunk_size(load_experiment(write_experiment(tmp_path, "set", replicates=1000, chunk=8)), 2) == 8
    grouped = load_experiment(write_experiment(tmp_path, "auto", replicates=6, chunk=None, extra=LHS))
    assert runner.chunk_size(grouped, 2) == 30  # the 5 points x 6 replicates of a scenario share one task
    with monkeypatch.context() as m:
        m.setattr(runner, "max_chunk", lambda *args: 7)  # memory for 7 runs per task
        assert runner.chunk_size(grouped, 2) == 6  # min(30, 7) evened over 30 runs: 5 tasks of 6
        m.setenv(MEMORY_ENV, "1G")
        dims = (5, 4, 9, 6)
        most = max_chunk(2000, 10, 41, dims, 2, False)
        check_batch_size(2000, 10, most, 41, dims, 2, False, "x.yaml")
        with pytest.raises(ScenarioError, match="smaller `chunk`"):
            check_batch_size(2000, 10, most + 1, 41, dims, 2, False, "x.yaml")
    man = run_experiment(grouped, tmp_path / "auto", jobs=2, progress=False)
    assert man.chunk == 30 and man.manifest["sessions"][0]["chunk"] == 30
    explicit = load_experiment(write_experiment(tmp_path, "four", replicates=6, chunk=4, extra=LHS))
    assert len(runner.plan_tasks(explicit, set())) == 16
    run_experiment(explicit, tmp_path / "four", progress=False)
    assert_same_data(tmp_path / "auto", tmp_path / "four")
    first = load_experiment(write_experiment(tmp_path, "resumed", replicates=3, chunk=None, extra=LHS))
    run_experiment(first, tmp_path / "resumed", progress=False)
    grown = load_experiment(write_experiment(tmp_path, "resumed", replicates=6, chunk=5, extra=LHS))
    man = run_experiment(grown, tmp_path / "resumed", resume=True, progress=False)
    assert [s["chunk"] for s in man.manifest["sessions"]] == [15, 5] and man.chunk == 5
    assert_same_data(tmp_path / "auto", tmp_path / "resumed")
