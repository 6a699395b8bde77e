"""The lever audit (`run.py levers`): common random numbers, levers applied to each run's own draw, each lever run
equal to that run simulated alone, the documented files, bad input."""

import numpy as np
import pandas as pd
import pytest
from greatgame.experiments.analysis.levers import (
    Lever,
    base_values,
    default_levers,
    lever_table,
    run_levers,
    run_levers_by_basis,
)
from greatgame.model import GreatGameModel

from greatgame import cli as run


def test_a_lever_that_changes_nothing_has_exactly_zero_effect(baseline):
    """Common random numbers: lever run k and reference run k share seeds and draws, so a null lever is exact."""
    null = Lever("null", "test", (("powers.RUS.budget_usd_bn_per_year", "times", 1.0),))
    arr = run_levers(baseline.with_overrides({"steps": 8}), [null], runs=6, seed=3, progress=False)
    assert np.array_equal(arr["influence"][0], arr["influence"][1], equal_nan=True)
    assert np.array_equal(arr["status"][0], arr["status"][1])


def test_a_lever_scales_each_runs_own_draw_and_equals_that_run_alone(baseline):
    sc = baseline.with_overrides({"steps": 6})
    key = "powers.RUS.budget_usd_bn_per_year"
    drawn = base_values(sc, 4, 5, [key])[key]
    assert np.ptp(drawn) > 0  # the budget is an uncertain parameter: the runs drew different values
    lever = Lever("RUS x2", "budget", ((key, "times", 2.0),))
    arr = run_levers(sc, [lever], runs=4, seed=5, progress=False)
    for k in (0, 3):
        alone = GreatGameModel(sc, spawn_keys=[(k,)], rng=5, run_values={key: [2 * drawn[k]]}).run()
        assert alone.values.get(key)[0] == 2 * drawn[k]
        assert np.allclose(arr["influence"][1, k], alone.recorder.totals[-1, 0])
        assert np.array_equal(arr["status"][1, k], alone.recorder.status[-1, 0])


def test_default_levers_cover_the_issue_list(baseline):
    names = [lv.name for lv in default_levers(baseline)]
    for p in baseline.powers:
        assert f"{p} budget x2" in names and f"{p} budget x0.5" in names
        assert any(n.startswith(f"{p} mix towards") for n in names)
    for needle in ("sanctions on Russia", "secondary sanctions", "accession package", "Afghan threat",
                   "energy prices", "EAEU depth", "CSTO without collective defence"):
        assert any(needle in n for n in names), needle
    for lv in default_levers(baseline):  # a mix lever keeps the shares summing to 1
        if lv.group == "instrument mix":
            shares = baseline.raw["powers"][lv.name.split()[0]]["instrument_shares"]
            moved = [0.75 * shares[k.rsplit(".", 1)[1]] + 0.25 * a for k, _, a in lv.changes]
            assert abs(sum(moved) - 1.0) < 1e-12


def test_the_table_says_when_an_effect_is_smaller_than_its_interval(baseline):
    sc = baseline.with_overrides({"steps": 4})
    levers = [Lever("null", "t", (("parameters.threat_level", "times", 1.0),)),
              Lever("RUS budget x2", "budget", (("powers.RUS.budget_usd_bn_per_year", "times", 2.0),))]
    t = lever_table(sc, levers, run_levers(sc, levers, runs=8, seed=1, progress=False))
    null = t[t["lever"] == "null"]
    assert (null["change"] == 0).all() and not null["distinguishable"].any()
    rus = t[(t["lever"] == "RUS budget x2") & (t["kind"] == "influence") & (t["state"] == "REGION")
            & (t["power"] == "RUS")].iloc[0]
    assert rus["change"] > 0 and rus["distinguishable"]
    probs = t[(t["kind"] == "status_probability") & (t["lever"] == "null")]
    assert len(probs) == len(sc.states) * len(sc.formats) * 3


def _arrays(sc, influence_change: np.ndarray, runs: int) -> dict[str, np.ndarray]:
    """Constructed run_levers arrays of one lever: the reference at 0.2 everywhere, the lever adding
    `influence_change` (runs,) to every influence; statuses unchanged, no failed run."""
    S, P, F = len(sc.states), len(sc.powers), len(sc.formats)
    ref = np.full((runs, S + 1, P), 0.2)
    status = np.ones((2, runs, S, F), dtype=int)
    return {"influence": np.stack([ref, ref + influence_change[:, None, None]]), "status": status, "start": status,
            "failed": np.zeros((2, runs), dtype=bool)}


def test_a_lever_whose_sign_flips_between_trade_bases_is_not_robust(baseline):
    """lever_table applies statistics.sign_robustness per basis: up in every pair under one basis and down in every
    pair under the other is not robust in sign, though the pooled interval excludes 0; the same under both is."""
    lever, runs = [Lever("x", "t", (("parameters.threat_level", "times", 1.0),))], 30
    up, down = np.full(runs, 0.03), np.full(runs, -0.01)
    flips = lever_table(baseline, lever, {"state": _arrays(baseline, up, runs), "partner": _arrays(baseline, down, runs)})
    inf = flips[flips["kind"] == "influence"]
    assert inf["change"].to_numpy() == pytest.approx(0.01) and inf["distinguishable"].all()
    assert inf["change_state"].to_numpy() == pytest.approx(0.03)
    assert inf["change_partner"].to_numpy() == pytest.approx(-0.01)
    assert not inf["robust_in_sign"].any() and (inf["share_positive"] == 0.5).all()
    same = lever_table(baseline, lever, {"state": _arrays(baseline, up, runs), "partner": _arrays(baseline, up, runs)})
    inf = same[same["kind"] == "influence"]
    assert inf["robust_in_sign"].all() and (inf["pairs_state"] == runs).all() and (inf["pairs"] == 2 * runs).all()
    st = same[same["kind"] == "status_probability"]
    assert not st["robust_in_sign"].any() and (st["share_zero"] == 1).all()  # no status moved: no sign at all
    fixed = lever_table(baseline, lever, {"state": _arrays(baseline, up, runs), "partner": _arrays(baseline, up, runs)},
                        drawn=False)
    assert not fixed["robust_in_sign"].any()  # runs without draws do not qualify


def test_levers_under_both_bases_share_draws_and_differ_by_the_basis(baseline):
    sc = baseline.with_overrides({"steps": 4})
    lever = [Lever("RUS budget x2", "budget", (("powers.RUS.budget_usd_bn_per_year", "times", 2.0),))]
    arr = run_levers_by_basis(sc, lever, runs=3, seed=2, progress=False)
    assert list(arr) == ["state", "partner"]
    assert not np.array_equal(arr["state"]["influence"], arr["partner"]["influence"])  # partner records move shares
    alone = run_levers(sc.with_overrides({"trade_basis": "partner"}), lever, runs=3, seed=2, progress=False)
    assert np.array_equal(arr["partner"]["influence"], alone["influence"], equal_nan=True)


def test_levers_command_writes_the_documented_files(tmp_path, capsys):
    out = tmp_path / "lev"
    assert run.main(["levers", "--runs", "4", "--set", "steps=3", "--out", str(out), "--quiet"]) == 0
    for name in ("levers.md", "levers.csv", "tornado.png"):
        assert (out / name).stat().st_size > 0
    table = pd.read_csv(out / "levers.csv")
    assert {"lever", "kind", "state", "format", "power", "level", "change", "ci_low", "ci_high",
            "distinguishable", "failed", "robust_in_sign", "share_positive", "share_negative", "share_zero",
            "change_state", "change_partner"} <= set(table.columns)
    for b in ("state", "partner"):
        assert {f"share_positive_{b}", f"share_negative_{b}", f"share_zero_{b}", f"pairs_{b}"} <= set(table.columns)
        assert (table[f"pairs_{b}"] == 4).all()
    assert not table["robust_in_sign"].any()  # 4 pairs per basis are too few to call a sign
    md = (out / "levers.md").read_text()
    assert "smaller than its interval" in md and "robust in sign" in md and "**Finding" not in md


def test_levers_bad_input_is_one_line(tmp_path, capsys):
    assert run.main(["levers", "--runs", "1", "--out", str(tmp_path / "x")]) == 2
    assert run.main(["levers", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "y")]) == 2
    (tmp_path / "file").write_text("")
    assert run.main(["levers", "--runs", "2", "--out", str(tmp_path / "file")]) == 2  # a file, not a folder
    assert run.main(["levers", "--runs", "2", "--sign-share", "0.4", "--out", str(tmp_path / "z")]) == 2
    assert run.main(["levers", "--runs", "2", "--trade-bases", "state,mirror", "--out", str(tmp_path / "z")]) == 2
    assert run.main(["responsiveness", "--runs", "2", "--sign-share", "1.5", "--out", str(tmp_path / "z")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 6 and all(line.startswith("error:") for line in err)
    assert "cannot write a report there" in err[2]
    assert "--sign-share" in err[3] and "above 0.5" in err[3] and "--trade-bases" in err[4] and "--sign-share" in err[5]
    assert not (tmp_path / "z").exists()
