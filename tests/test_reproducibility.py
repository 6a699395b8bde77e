"""Same scenario and seed give the same numbers, however runs are grouped; the model runs under mesa.batch_run."""

import mesa
import numpy as np
from greatgame.model import GreatGameModel, run_to_folder, simulate

ARRAYS = ("influence", "status", "engagement", "turnover", "active")


def test_same_seed_gives_identical_files(baseline, tmp_path):
    run_to_folder(baseline, tmp_path / "a", runs=6, steps=12, seed=11)
    run_to_folder(baseline, tmp_path / "b", runs=6, steps=12, seed=11)
    for name in ("influence.parquet", "status.parquet", "trade.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_gives_different_runs(baseline):
    a = simulate(baseline, runs=2, steps=8, seed=1)
    b = simulate(baseline, runs=2, steps=8, seed=2)
    assert not np.array_equal(a.turnover, b.turnover)


def test_run_k_of_64_equals_the_same_run_made_alone(baseline):
    together = GreatGameModel(baseline, runs=64, rng=5).run().recorder
    for k in (0, 17, 63):
        alone = GreatGameModel(baseline, runs=1, replicate=k, rng=5).run().recorder
        for name in ARRAYS:
            assert np.array_equal(getattr(together, name)[:, k], getattr(alone, name)[:, 0], equal_nan=True), (k, name)


def test_chunk_size_does_not_change_results(baseline):
    a = simulate(baseline, runs=10, steps=10, seed=3, chunk=10)
    b = simulate(baseline, runs=10, steps=10, seed=3, chunk=3)
    for name in ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def test_model_runs_under_mesa_batch_run(baseline):
    rows = mesa.batch_run(GreatGameModel, parameters={"scenario": baseline, "replicate": [0, 1], "steps": 6},
                          rng=[9], number_processes=1, data_collection_period=1, max_steps=100,
                          display_progress=False)
    assert len(rows) == 2 * 7  # two runs, periods 0..6
    lockstep = GreatGameModel(baseline, runs=2, rng=9, steps=6).run()
    last = {r["replicate"]: r for r in rows if r["Step"] == 6}
    for k in (0, 1):
        for j, power in enumerate(lockstep.powers):
            assert last[k][power] == lockstep.state.regional_total[k, j]


def test_drawing_several_steps_ahead_gives_the_same_numbers(baseline, monkeypatch):
    """A run's stream gives the same numbers whether each step's block is drawn alone or several at once."""
    import greatgame.model.core as core

    monkeypatch.setattr(core, "DRAW_AHEAD", 1)
    one = GreatGameModel(baseline, runs=3, steps=13, rng=8).run().recorder
    monkeypatch.setattr(core, "DRAW_AHEAD", 7)
    seven = GreatGameModel(baseline, runs=3, steps=13, rng=8).run().recorder
    for name in ARRAYS:
        assert np.array_equal(getattr(one, name), getattr(seven, name), equal_nan=True), name
