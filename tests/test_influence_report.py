"""The influence report (issue 16 item 8): its decomposition adds up to the gaps the model records, its weighting
shares are shares, and the command writes its files or refuses bad input in one line."""

import numpy as np
import pytest
from greatgame.experiments.analysis.influence_report import channel_weights, gap_decomposition, lead_shares
from greatgame.model.api import simulate
from greatgame.model.axes import INFLUENCE

from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def drawn(baseline):
    """Baseline runs with their uncertainty draws (the channel weights differ by run)."""
    return simulate(baseline, runs=12, seed=3, steps=8)


def test_gap_decomposition_adds_up_to_the_recorded_regional_gap(drawn, baseline):
    """sum_c w_c (I_c[p] - I_c[q]) with each run's drawn weights equals the recorded gap of regional totals."""
    w = channel_weights(drawn, baseline)
    assert np.ptp(w[:, INFLUENCE.security]) > 0  # the weights were drawn, not fixed
    for t in (0, -1):
        gaps = gap_decomposition(drawn, w, t).set_index("pair")
        for a, p in enumerate(drawn.powers):
            for b in range(a + 1, len(drawn.powers)):
                q = drawn.powers[b]
                recorded = np.mean(drawn.regional_total[t, :, a] - drawn.regional_total[t, :, b])
                assert gaps.loc[f"{p}-{q}", "total"] == pytest.approx(recorded, abs=1e-12)
                assert gaps.loc[f"{p}-{q}", list(INFLUENCE)].sum() == pytest.approx(recorded, abs=1e-12)


def test_lead_shares_are_shares_and_a_power_first_in_every_channel_always_leads():
    rng = np.random.default_rng(0)
    channels = rng.uniform(size=(3, 4, len(INFLUENCE)))
    channels[1, 2] = channels[1].max(axis=0) + 0.01  # unit 1: power 2 first in every channel
    shares = lead_shares(channels, n=5000)
    assert shares.shape == (3, 4)
    assert shares.sum(axis=1) == pytest.approx(np.ones(3))
    assert shares[1, 2] == 1.0
    swap = channels.copy()
    swap[0, [0, 1]] = swap[0, [1, 0]]  # exchanging two powers' channels exchanges their shares
    assert lead_shares(swap, n=5000)[0, [1, 0]] == pytest.approx(shares[0, [0, 1]])


def test_influence_command_writes_the_report(tmp_path, capsys):
    from greatgame.cli import main

    scen = tmp_path / "scenarios"
    scen.mkdir()
    for name in ("baseline.yaml", "rule_draws_2022.csv", "sanctions_tighten.yaml"):
        (scen / name).write_bytes((SCENARIOS / name).read_bytes())
    from greatgame.experiments.analysis.influence_report import influence_report

    files = influence_report(tmp_path / "out", runs=4, scenarios_dir=scen, progress=False)
    text = files.report.read_text()
    for heading in ("## 1. Regional", "## 2. Where each gap", "## 3. Who leads", "## 4. How far", "## 6. What changed"):
        assert heading in text
    assert "| partner |" in text and "| state |" in text  # both trade bases
    assert "| sanctions_tighten |" in text
    assert files.figure.stat().st_size > 10_000
    assert main(["influence", "--runs", "4", "--levers", str(tmp_path / "no.csv"), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--levers" in err[0]
