"""Behaviour the brief asks for: the 2022 status pattern, Turkmen neutrality, hedging, endogenous convening."""

import numpy as np
from greatgame.model import GreatGameModel, load_scenario
from greatgame.model.fundamentals import observed_status

from .conftest import SCENARIOS

INSTITUTIONS = ("CSTO", "EAEU", "SCO", "CIS", "OTS")


def test_step0_reproduces_2022_status_pattern(baseline):
    m = GreatGameModel(baseline, runs=2)
    obs = observed_status(2022)
    for s, state in enumerate(m.states):
        for f, fmt in enumerate(m.formats):
            assert (m.recorder.status[0, :, s, f] == obs[(state, fmt)]).all(), (state, fmt)


def test_blank_start_puts_every_state_outside_every_format(baseline):
    m = GreatGameModel(baseline.with_overrides({"initial_status": "blank"}), runs=2)
    assert (m.recorder.status[0] == 0).all()


def test_turkmen_neutrality_holds_in_baseline(baseline_runs):
    m = baseline_runs
    tkm = m.states.index("TKM")
    st = m.recorder.status[:, :, tkm, :]
    for fmt in ("CSTO", "EAEU"):
        assert (st[:, :, m.formats.index(fmt)] < 2).all(), f"TKM became a full member of {fmt}"
    assert (st[:, :, m.formats.index("CSTO")] == 0).mean() > 0.95
    # ... while it takes part in every dialogue format in most runs at the horizon
    for fmt in ("C5+1", "CA-China", "CA-Russia"):
        assert (st[-1, :, m.formats.index(fmt)] > 0).mean() > 0.8, fmt


def test_no_state_is_held_by_one_power_alone(baseline_runs):
    m = baseline_runs
    infl = m.recorder.influence_total  # (T, R, S, P)
    total = infl.sum(axis=-1)
    assert (total < 0.9).all(), "every state keeps some autonomy"
    share = infl / total[..., None]
    assert (share.max(axis=-1) < 0.85).all(), "no power holds more than 85% of a state's foreign influence"
    kaz = m.states.index("KAZ")
    # Kazakhstan keeps ties with Russia, China, the US and the EU (its largest trade partner): each holds a visible
    # share of its influence throughout; Turkey's share is smaller (about 2-4%) but never nil
    big = [m.powers.index(p) for p in ("RUS", "CHN", "USA", "EU")]
    assert (share[:, :, kaz, big] > 0.05).all()
    assert (share[:, :, kaz, m.powers.index("TUR")] > 0).all()


def test_influence_is_bounded_and_channels_add_up(baseline_runs):
    m = baseline_runs
    ch = m.recorder.influence[..., :-1]
    assert np.nanmin(ch) >= 0 and np.nanmax(m.recorder.influence) <= 1
    weighted = (ch * m.infl.channel_weights[None, :, None, None, :]).sum(axis=-1)
    np.testing.assert_allclose(weighted, m.recorder.influence[..., -1], rtol=1e-12)


def test_russia_can_convene_central_asia_format_endogenously():
    """Pattern 5: without the Astana summit, Russia convenes the format itself when it loses ground and its own
    institutions do not hold all five states. The test states that it can arise; the frequency is reported in
    docs/validation/responsiveness.md and pinned here only as 'it happens' (never retuned to stay green)."""
    sc = load_scenario(SCENARIOS / "no_astana_summit.yaml")
    m = GreatGameModel(sc, runs=64).run()
    f = m.formats.index("CA-Russia")
    assert not m.recorder.active[0, :, f].any()
    share = m.recorder.active[-1, :, f].mean()
    print(f"Russia convened CA-Russia by the horizon in {share:.0%} of 64 runs")
    assert share > 0, "the Astana move never arises from the model's dynamics"
    # once convened, states take part in it
    joined = m.recorder.status[-1, :, :, f][m.recorder.active[-1, :, f]]
    assert (joined > 0).mean() > 0.5


def test_power_that_is_not_losing_ground_does_not_convene(baseline):
    sc = load_scenario(SCENARIOS / "no_astana_summit.yaml").with_overrides({"parameters.powers.loss_tolerance": 1.0})
    m = GreatGameModel(sc, runs=16).run()
    assert not m.recorder.active[:, :, m.formats.index("CA-Russia")].any()
