"""The dashboard without a browser: its pieces rendered with solara.render, its file access and its saved scenarios.

Each test gets its own copy of the scenarios folder and a results folder with a tiny finished batch, so Save and
Open never touch the project's folders."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
from greatgame.dashboard import logic
from greatgame.dashboard.logic import DashboardError, Folders, Settings, safe_path
from greatgame.dashboard.page import Page
from greatgame.model import GreatGameModel, load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_batch(tmp_path_factory) -> Path:
    """results/tiny: two scenarios x 3 replicates x 4 steps, written by the batch runner."""
    from greatgame.experiments.batch.runner import run_experiment
    from greatgame.experiments.batch.spec import load_experiment

    root = tmp_path_factory.mktemp("results")
    spec = root.parent / "tiny.yaml"
    spec.write_text(f"name: tiny\nscenarios: [{ROOT}/scenarios/baseline.yaml, {ROOT}/scenarios/china_deepens.yaml]\n"
                    "reference: baseline\nreplicates: 3\nsteps: 4\nseed: 5\n", encoding="utf-8")
    run_experiment(load_experiment(spec), root / "tiny", progress=False)
    return root


@pytest.fixture
def folders(tmp_path, tiny_batch) -> Folders:
    sc = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios", sc)
    return Folders(sc.resolve(), tiny_batch.resolve())


def render(folders: Folders):
    box, rc = solara.render(Page(folders=folders), handle_error=False)
    return rc


def button(rc, label: str):
    return rc.find(v.Btn, children=[label])


def field(rc, label: str):
    return rc.find(v.TextField, label=label)


def type_into(rc, label: str, text: str) -> None:
    w = field(rc, label).widget
    w.v_model = text
    if any(k.startswith("keyup.enter") for k in w._event_handlers_map):  # inputs that commit on Enter
        w.fire_event("keyup.enter", None)


def open_tab(rc, name: str) -> None:
    tabs = rc.find(v.Tabs).widget
    tabs.v_model = [t.children[0] for t in tabs.children if isinstance(t, v.Tab)].index(name)


def errors(rc) -> list[str]:
    return [str(w.children) for w in rc.find(v.Alert).widgets if w.type == "error"]


def step_label(rc) -> str:
    return next(t for t in (w.children[0] if w.children else "" for w in rc.find(v.Html).widgets) if
                isinstance(t, str) and t.startswith("step "))


def test_every_control_exists(folders):
    rc = render(folders)
    for label in ("Reset", "Play", "Step", "Save as scenario"):
        button(rc, label).assert_single()
    for label in ("runs (1-2000; default 100)", "seed (empty: the scenario's)", "steps (empty: the scenario's horizon)",
                  "save as (a file name in the scenarios folder)"):
        field(rc, label).assert_single()
    rc.find(v.Select, label="scenario").assert_single()
    rc.find(v.Checkbox, label="draw the unknown parameters per run (uncertainty)").assert_single()
    base = load_scenario(folders.scenarios / "baseline.yaml")
    for key in logic.control_keys(base):
        field(rc, logic.label_of(key)).assert_single()
    assert {"powers.RUS.budget_usd_bn_per_year", "powers.CHN.sanctions", "parameters.rationality"} <= set(
        logic.control_keys(base))


def test_step_advances_and_reset_rebuilds_from_the_selected_scenario(folders):
    rc = render(folders)
    assert step_label(rc).startswith("step 0 of 40")
    button(rc, "Step").widget.click()
    button(rc, "Step").widget.click()
    assert step_label(rc).startswith("step 2 of 40")
    rc.find(v.Select, label="scenario").widget.v_model = "china_deepens.yaml"
    type_into(rc, "runs (1-2000; default 100)", "7")
    type_into(rc, "steps (empty: the scenario's horizon)", "6")
    assert step_label(rc).startswith("step 2 of 40")  # a control takes effect on Reset
    rc.find(v.Alert, children=["The controls differ from the running model: press Reset to apply them."]).assert_single()
    button(rc, "Reset").widget.click()
    assert step_label(rc).startswith("step 0 of 6")
    assert errors(rc) == []
    button(rc, "Step").widget.click()
    assert step_label(rc).startswith("step 1 of 6")


def test_a_control_fixes_its_parameter_for_every_run(folders):
    rc = render(folders)
    type_into(rc, "RUS budget_usd_bn_per_year (US$ bn/year)", "2.5")
    button(rc, "Reset").widget.click()
    assert errors(rc) == []
    rc.find(v.Html, children=["fixed at 2.5 in every run"]).assert_single()


@pytest.mark.parametrize(("label", "text", "message"), [
    ("runs (1-2000; default 100)", "0", "runs: give a whole number from 1 to 2000"),
    ("RUS budget_usd_bn_per_year (US$ bn/year)", "-1", "powers.RUS.budget_usd_bn_per_year"),
    ("steps (empty: the scenario's horizon)", "99", "steps: give a whole number from 1 to 40"),
])
def test_bad_values_show_an_error_in_the_page(folders, label, text, message):
    rc = render(folders)
    button(rc, "Step").widget.click()
    type_into(rc, label, text)
    button(rc, "Reset").widget.click()
    assert any(message in e for e in errors(rc)), errors(rc)
    assert step_label(rc).startswith("step 1 of 40")  # the old model stays


def test_save_writes_a_scenario_that_extends_the_selected_one(folders):
    rc = render(folders)
    type_into(rc, "RUS sanctions (share 0-1)", "0.3")
    type_into(rc, "seed (empty: the scenario's)", "11")
    type_into(rc, "save as (a file name in the scenarios folder)", "eased")
    button(rc, "Save as scenario").widget.click()
    assert errors(rc) == []
    path = folders.scenarios / "eased.yaml"
    sc = load_scenario(path)
    assert sc.raw["powers"]["RUS"]["sanctions"] == 0.3 and sc.raw["seed"] == 11
    assert "powers.RUS.sanctions" in sc.fixed_keys
    text = path.read_text()
    assert "extends: baseline.yaml" in text and "rationality" not in text  # only the changed keys
    button(rc, "Save as scenario").widget.click()  # again: never overwrites
    assert any("exists" in e for e in errors(rc))


@pytest.mark.parametrize(("name", "reason"), [
    ("/etc/passwd", "outside"), ("../evil", "'..' is not allowed"), ("sub/dir", "not a plain file name"),
    (".hidden", "not a plain file name"), ("link_out", "symbolic link"), ("", "give a name"),
])
def test_save_refuses_names_outside_the_scenarios_folder(folders, tmp_path, name, reason):
    (folders.scenarios / "link_out.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    rc = render(folders)
    type_into(rc, "save as (a file name in the scenarios folder)", name)
    button(rc, "Save as scenario").widget.click()
    assert any(reason in e for e in errors(rc)), errors(rc)
    assert not (tmp_path / "elsewhere.yaml").exists()


def test_save_to_an_unwritable_folder_shows_an_error(folders, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(logic.tempfile, "mkstemp", refuse)
    rc = render(folders)
    type_into(rc, "save as (a file name in the scenarios folder)", "blocked")
    button(rc, "Save as scenario").widget.click()
    assert any("cannot write" in e and "Permission denied" in e for e in errors(rc)), errors(rc)


def test_the_saved_file_gives_the_dashboards_numbers_via_run_py(folders, tmp_path):
    settings = Settings(runs=4, seed=3, values=(("parameters.rationality", 9.0), ("powers.CHN.budget_usd_bn_per_year", 6.0)))
    r = logic.resolve(settings, folders)
    model = logic.make_model(r).run()
    path = logic.save_scenario(r, folders, "tweak")
    out = tmp_path / "out"
    subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(path), "--out", str(out), "--quiet"],
                   check=True, cwd=ROOT, capture_output=True, timeout=300)
    got = pd.read_parquet(out / "influence.parquet")
    region = got[got["state"] == "REGION"].sort_values(["step", "run", "power"], key=lambda c: c.map(
        {p: i for i, p in enumerate(r.scenario.powers)}) if c.name == "power" else c)
    mine = model.recorder.regional_total  # (T, R, P)
    assert np.allclose(region["influence"].to_numpy(), mine.reshape(-1), rtol=0, atol=1e-12)


def test_open_batch_shows_fan_charts_and_differences(folders):
    rc = render(folders)
    open_tab(rc, "Batch browser")
    type_into(rc, "batch folder", "tiny")
    button(rc, "Open").widget.click()
    assert errors(rc) == []
    batch = logic.open_batch(folders, "tiny")
    assert batch.scenarios == ["baseline", "china_deepens"] and batch.regional["baseline"]["RUS"].shape == (5, 3)
    assert set(batch.differences["scenario"]) == {"china_deepens"}
    assert {"robust_in_sign", "share_positive_state", "pairs_partner"} <= set(batch.differences.columns)
    assert batch.differences["sign"].str.startswith("sign not robust").all()  # 3 runs under one basis only


@pytest.mark.parametrize(("name", "reason"), [("missing", "not found"), ("../tiny", "'..' is not allowed"),
                                              ("/tmp", "outside")])
def test_open_refuses_missing_or_outside_folders(folders, name, reason):
    rc = render(folders)
    open_tab(rc, "Batch browser")
    type_into(rc, "batch folder", name)
    button(rc, "Open").widget.click()
    assert any(reason in e for e in errors(rc)), errors(rc)


def test_compare_tab_runs_both_settings_with_common_seeds(folders):
    rc = render(folders)
    type_into(rc, "runs (1-2000; default 100)", "6")
    type_into(rc, "CHN budget_usd_bn_per_year (US$ bn/year)", "9")
    open_tab(rc, "Compare")
    button(rc, "Compare").widget.click()
    assert errors(rc) == []
    cmp = logic.compare(logic.resolve(Settings(runs=6), folders),
                        logic.resolve(Settings(runs=6, values=(("powers.CHN.budget_usd_bn_per_year", 9.0),)), folders))
    assert cmp.a.influence.shape == cmp.b.influence.shape
    assert np.array_equal(cmp.a.influence[0], cmp.b.influence[0])  # common seeds: the same start in every run
    assert cmp.difference("CHN")[-1].mean() > 0  # a bigger Chinese budget raises China's influence
    p = cmp.lead_probabilities()
    assert p is not None and all(0 <= x <= 1 for x in p)
    chn = cmp.horizon_effects().set_index("power").loc["CHN"]  # the one paired statistic of compare and levers
    assert chn["B - A mean"] == pytest.approx(cmp.difference("CHN")[-1].mean())
    assert chn["95% CI low"] <= chn["B - A mean"] <= chn["95% CI high"]
    assert chn["runs B > A"] + chn["runs B < A"] <= 1
    assert chn["sign"].startswith("sign not robust") and "fewer than 20" in chn["sign"]  # 6 pairs per basis
    assert list(cmp.by_basis) == ["state", "partner"] and cmp.drawn
    assert cmp.by_basis["state"][0] is cmp.a and cmp.by_basis["state"][1] is cmp.b  # own basis: runs reused
    other = cmp.by_basis["partner"][0]
    assert np.array_equal(other.parameters["powers.RUS.budget_usd_bn_per_year"],
                          cmp.a.parameters["powers.RUS.budget_usd_bn_per_year"])  # the same draws under both bases
    assert not np.array_equal(other.influence[0], cmp.a.influence[0])  # partner records: other start shares
    lead = cmp.lead_difference()
    assert lead is not None and lead["change"] == pytest.approx(p[1] - p[0]) and lead["sign"].startswith("sign")


def test_compare_marks_a_difference_robust_in_sign_only_with_draws(folders):
    """B doubles China's budget: China's regional influence rises in every pair under both trade bases (robust in
    sign) while runs with draws off do not qualify (docs/OUTPUT.md "Robust in sign")."""
    chn = (("powers.CHN.budget_usd_bn_per_year", 9.0),)
    cmp = logic.compare(logic.resolve(Settings(runs=20, steps=4), folders),
                        logic.resolve(Settings(runs=20, steps=4, values=chn), folders))
    effects = cmp.horizon_effects().set_index("power")
    assert effects.loc["CHN", "runs B > A"] == 1.0 and effects.loc["CHN", "sign"] == "robust in sign"
    fixed = logic.compare(logic.resolve(Settings(runs=20, steps=4, draws=False), folders),
                          logic.resolve(Settings(runs=20, steps=4, values=chn, draws=False), folders))
    assert not fixed.drawn
    assert fixed.horizon_effects().set_index("power").loc["CHN", "sign"].startswith("sign not robust (100% up")


def test_safe_path_refusals(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.yaml").write_text("x")
    (root / "out.yaml").symlink_to(tmp_path / "x.yaml")
    assert safe_path(root, "inside", "t", ".yaml") == root.resolve() / "inside.yaml"
    assert safe_path(root, str(root / "inside.yaml"), "t", ".yaml") == root.resolve() / "inside.yaml"
    for bad in ("../x", "/etc/passwd", "a/b", ".x", "out", "a b", "", "~root"):
        with pytest.raises(DashboardError):
            safe_path(root, bad, "t", ".yaml")


def test_model_rebuilds_from_its_own_mesa_scenario(baseline):
    m = GreatGameModel(baseline, runs=3, replicate=2, rng=7, steps=5, run_values={"parameters.rationality": [4, 8, 16]})
    again = GreatGameModel(scenario=m.scenario)
    assert (again.spawn_keys, again.root_seed, again.horizon, again.spec) == (m.spawn_keys, 7, 5, baseline)
    m.run()
    again.run()
    assert np.array_equal(m.recorder.influence, again.recorder.influence, equal_nan=True)
    assert m.scenario.model is m and again.scenario.model is again


def test_solaraviz_reset_rebuilds_the_model(baseline):
    """Mesa's SolaraViz Reset builds `type(model.scenario)(**scenario params)`; `spec` is one of them."""
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    m = GreatGameModel(baseline, runs=2, rng=4)
    kwargs = _build_model_init_kwargs(m, {"spec": baseline, "runs": 2, "rng": 4}, add_scenario_when_empty=True,
                                      require_model_accepts_scenario=True)
    again = GreatGameModel(**kwargs)
    assert again.spec is baseline and again.R == 2 and again.root_seed == 4


def test_sessions_do_not_share_a_model(folders):
    a, b = render(folders), render(folders)
    button(a, "Step").widget.click()
    assert step_label(a).startswith("step 1") and step_label(b).startswith("step 0")


def test_startup_message_says_where_it_listens():
    from greatgame.dashboard.serve import is_loopback, startup_message

    assert "127.0.0.1:8765 (this machine only" in startup_message({"SERVER_NAME": "localhost", "SERVER_PORT": "8765"})
    assert "WARNING" in startup_message({"SERVER_NAME": "0.0.0.0", "SERVER_PORT": "80"})
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")
