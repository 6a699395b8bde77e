"""Each kind of bad input ends with one line naming file, key path and reason, exit status 2, nothing written."""

import subprocess
import sys

import pytest

from greatgame.cli import main

from .conftest import ROOT, SCENARIOS

BASE = str(SCENARIOS / "baseline.yaml")
STANDIN = str(SCENARIOS / "calibrated.yaml")  # the stand-in calibration's form: switching_cost_kind unset (null)
THREE = str(SCENARIOS / "three_powers.yaml")

CASES = {
    "yaml_syntax": ("name: [unclosed\nsteps: 3\n", ["line 2, column", "YAML syntax error"]),
    "unknown_key": (f"extends: {BASE}\nparameters:\n  rationalty: 3\n",
                    ["parameters.rationalty", "unknown key", "did you mean 'rationality'"]),
    "duplicate_key": (f"extends: {BASE}\nname: a\nname: b\n", ["duplicate key 'name'", "line 2"]),
    "wrong_type": (f"extends: {BASE}\nsteps: ten\n", ["steps", "must be a number"]),
    "probability_1_5": (f"extends: {BASE}\nparameters:\n  revision_rate: 1.5\n",
                        ["parameters.revision_rate", "out of range [0, 1]"]),
    "negative_budget": (f"extends: {BASE}\npowers:\n  RUS:\n    budget_usd_bn_per_year: -1\n",
                        ["powers.RUS.budget_usd_bn_per_year", "out of range"]),
    "nan": (f"extends: {BASE}\nparameters:\n  threat_level: .nan\n", ["parameters.threat_level", "finite"]),
    "inf": (f"extends: {BASE}\nparameters:\n  weights:\n    trade: .inf\n", ["parameters.weights.trade", "finite"]),
    "unknown_power_in_format": (f"extends: {BASE}\nformats:\n  CSTO:\n    convenors: [XXX]\n",
                                ["formats.CSTO.convenors", "unknown power code 'XXX'"]),
    "unknown_power": (f"extends: {BASE}\npowers:\n  IND:\n    budget_usd_bn_per_year: 1\n", ["powers.IND", "unknown power code"]),
    "unknown_format_in_event": (f"extends: {BASE}\nevents_add:\n  - {{at: 2024-01, type: format_open, format: CAX}}\n",
                                ["events[0].format", "unknown format code 'CAX'"]),
    "unknown_state_in_event": (
        f"extends: {BASE}\nevents_add:\n  - {{at: 2024-01, type: corridor, power: CHN, states: [AFG], strength: 0.1}}\n",
        ["events[0].states", "unknown state code 'AFG'"]),
    "event_before_start": (f"extends: {BASE}\nevents_add:\n  - {{at: 2020-01, type: threat, level: 0.5}}\n",
                           ["events[0].at", "before the start"]),
    "event_after_horizon": (f"extends: {BASE}\nevents_add:\n  - {{at: 2040-01, type: threat, level: 0.5}}\n",
                            ["events[0].at", "after the horizon"]),
    "extends_missing": ("extends: nowhere.yaml\nname: x\n", ["extends", "'nowhere.yaml' not found"]),
    "empty_file": ("", ["empty"]),
    "top_level_list": ("- a\n- b\n", ["top level must be a mapping"]),
    "shares_do_not_sum": (f"extends: {BASE}\npowers:\n  USA:\n    instrument_shares: {{investment: 0.9, security: 0.2, "
                          "diplomacy: 0.3, accession: 0.0}\n", ["powers.USA.instrument_shares", "sum to 1"]),
    "trade_basis_unknown": (f"extends: {BASE}\ntrade_basis: mirror\n", ["trade_basis", "must be one of state, partner"]),
    # keys added by model v2
    "obligation_out_of_range": (f"extends: {BASE}\nformats:\n  EAEU:\n    obligations: {{collective_defence: 0, "
                                "supranational: 2, binding_security: 0, consultation: 1}\n",
                                ["formats.EAEU.obligations.supranational", "out of range [0, 1]"]),
    "club_not_text": (f"extends: {BASE}\nformats:\n  OTS:\n    club: [CIS]\n",
                      ["formats.OTS.club", "must be text"]),
    "obligation_unknown": (f"extends: {BASE}\nformats:\n  EAEU:\n    obligations:\n      supranationl: 1\n",
                           ["formats.EAEU.obligations.supranationl", "did you mean 'supranational'"]),
    # the estimated rule's weights may be negative (the record's sign), down to -100
    "obligation_cost_negative": (f"extends: {BASE}\nparameters:\n  obligation_cost:\n    consultation: -100.5\n",
                                 ["parameters.obligation_cost.consultation", "out of range"]),
    "doctrine_penalty_unknown_doctrine": (f"extends: {BASE}\nparameters:\n  doctrine_penalty:\n    isolationist:\n"
                                          "      {collective_defence: 1, supranational: 1, binding_security: 1, "
                                          "consultation: 0}\n",
                                          ["parameters.doctrine_penalty.isolationist", "unknown doctrine"]),
    "route_weight_over_one": (f"extends: {BASE}\nparameters:\n  routes:\n    customs_route_weight: 1.2\n",
                              ["parameters.routes.customs_route_weight", "out of range [0, 1]"]),
    # keys added by model v3 (migration channel)
    "migration_elasticity_negative": (f"extends: {BASE}\nparameters:\n  migration:\n    host_income_elasticity: -1\n",
                                      ["parameters.migration.host_income_elasticity", "out of range"]),
    "migration_access_gain_text": (f"extends: {BASE}\nparameters:\n  migration:\n    access_gain: high\n",
                                   ["parameters.migration.access_gain", "must be a number"]),
    "migration_sanctions_loss_unknown": (f"extends: {BASE}\nparameters:\n  migration:\n    sanction_income_loss: 0.1\n",
                                         ["parameters.migration.sanction_income_loss", "did you mean 'sanctions_income_loss'"]),
    # keys added by model v3 (issue 16, powers)
    "powers_remove_unknown": (f"extends: {BASE}\npowers_remove: [EU, XYZ]\n",
                              ["powers_remove", "unknown power code 'XYZ'"]),
    "powers_remove_not_list": (f"extends: {BASE}\npowers_remove: EU\n", ["powers_remove", "must be a list"]),
    "powers_remove_all": (f"extends: {BASE}\npowers_remove: [RUS, CHN, USA, EU, TUR]\n",
                          ["powers_remove", "every power"]),
    "powers_remove_without_extends": ("name: x\npowers_remove: [EU]\n", ["powers_remove", "extends another"]),
    "powers_remove_then_used": (f"extends: {BASE}\npowers_remove: [EU]\nformats:\n  C5+1:\n    powers: [USA, EU]\n",
                                ["formats.C5+1.powers", "unknown power code 'EU'"]),
    "loss_memory_fraction": (f"extends: {BASE}\nparameters:\n  powers:\n    loss_memory_steps: 2.5\n",
                             ["parameters.powers.loss_memory_steps", "whole number"]),
    # a power added to a scenario without it (three_powers has no TUR) must give every instrument share
    "accession_share_missing": (f"extends: {THREE}\npowers:\n  TUR:\n    budget_usd_bn_per_year: 0.2\n    sanctions: 0\n"
                                "    instrument_shares: {investment: 0.5, security: 0.2, diplomacy: 0.3}\n",
                                ["powers.TUR.instrument_shares.accession", "missing key"]),
    "fundamentals_unknown": (f"extends: {BASE}\nfundamentals: frozen\n", ["fundamentals", "must be one of"]),
    # switching costs by format kind (optional group, ODD eq. 4.2d kind form; the baseline sets it, so a partial
    # group is checked on a parent that leaves it unset)
    "switching_cost_kind_missing_kind": (f"extends: {STANDIN}\nparameters:\n  switching_cost_kind:\n"
                                         "    security_alliance: {join: 1, exit: 2}\n    economic_union: {join: 1, exit: 2}\n"
                                         "    regional_organisation: {join: 1, exit: 2}\n",
                                         ["parameters.switching_cost_kind.dialogue_platform", "missing",
                                          "format C5+1 is of this kind"]),
    "switching_cost_kind_unknown_kind": (f"extends: {BASE}\nparameters:\n  switching_cost_kind:\n"
                                         "    summit_format: {join: 1, exit: 2}\n",
                                         ["parameters.switching_cost_kind.summit_format", "unknown format kind"]),
    "switching_cost_kind_no_exit": (f"extends: {STANDIN}\nparameters:\n  switching_cost_kind:\n"
                                    "    economic_union: {join: 1}\n",
                                    ["parameters.switching_cost_kind.economic_union.exit", "missing key"]),
    "switching_cost_kind_negative": (f"extends: {BASE}\nparameters:\n  switching_cost_kind:\n"
                                     "    economic_union: {join: -1, exit: 2}\n",
                                     ["parameters.switching_cost_kind.economic_union.join", "out of range"]),
    "doctrine_event_unknown": (f"extends: {BASE}\nevents_add:\n  - {{at: 2024-01, type: doctrine, state: UZB, "
                               "doctrine: isolationist}\n", ["events[0].doctrine", "must be one of"]),
}


def _assert_one_line_error(capsys, rc, path, needles):
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert str(path) in err, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario_is_refused_with_one_line(case, tmp_path, capsys):
    text, needles = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    rc = main(["run", str(path), "--out", str(out), "--quiet", "--runs", "1"])
    _assert_one_line_error(capsys, rc, path, needles)
    assert not out.exists()


def test_extends_cycle(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    rc = main(["check", str(tmp_path / "a.yaml")])
    _assert_one_line_error(capsys, rc, tmp_path / "a.yaml", ["extends", "cycle", "a.yaml -> b.yaml -> a.yaml"])


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    rc = main(["run", "--runs", "1", "--steps", "2", "--quiet", "--out", str(blocker / "out")])
    _assert_one_line_error(capsys, rc, blocker / "out", ["--out", "is a file"])
    rc = main(["run", "--runs", "1", "--steps", "2", "--quiet", "--out", "/proc/greatgame-test"])
    _assert_one_line_error(capsys, rc, "/proc/greatgame-test", ["--out", "cannot write"])


def test_existing_output_is_kept_without_force(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    rc = main(["run", "--runs", "1", "--steps", "2", "--quiet", "--out", str(out)])
    _assert_one_line_error(capsys, rc, out, ["not empty", "--force"])
    assert (out / "precious.txt").read_text() == "keep me"
    assert main(["run", "--runs", "1", "--steps", "2", "--quiet", "--out", str(out), "--force"]) == 0
    assert not (out / "precious.txt").exists() and (out / "influence.parquet").exists()


def test_error_has_no_traceback_in_a_real_process(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {BASE}\nsteps: -3\n")
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "steps" in proc.stderr and "out of range" in proc.stderr


def test_a_bug_is_not_reported_as_bad_input(tmp_path, capsys, monkeypatch):
    """A programming error inside the model (here an equation raising ValueError) exits 1 with a message that says
    it is a bug and where the traceback is, not the one-line bad-input error (exit 2)."""
    def broken(*args, **kwargs):
        raise ValueError("injected bug in marginal_benefit")

    import greatgame.model.core

    monkeypatch.setattr(greatgame.model.core, "marginal_benefit", broken)
    rc = main(["run", BASE, "--runs", "2", "--steps", "2", "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "internal error (a bug in greatgame, not in your input)" in err and "injected bug" in err
    log = err.split("Traceback in ")[1].split(" ")[0]
    assert "marginal_benefit" in open(log).read() or "broken" in open(log).read()
    assert not (tmp_path / "out").exists(), "nothing is written"


def test_plotting_keeps_the_users_matplotlib_backend(tmp_path):
    """Importing the model and plotting results never switches the backend a user (or a notebook) chose."""
    code = ("import matplotlib; matplotlib.use('svg')\n"
            "from greatgame.model import load_scenario, simulate\n"
            "import greatgame.experiments.analysis.figures, greatgame.experiments.fit.validation\n"
            f"res = simulate(load_scenario(r'{BASE}'), runs=2, steps=2)\nres.plot(r'{tmp_path}')\n"
            "assert matplotlib.get_backend().lower() == 'svg', matplotlib.get_backend()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "influence.png").stat().st_size > 0
