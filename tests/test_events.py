"""Scheduled shocks change what they should."""

import numpy as np
from greatgame.model import GreatGameModel, load_scenario
from greatgame.model.allocation import effective_budget

from .conftest import SCENARIOS


def test_sanctions_shrink_effective_budget():
    one = np.ones((1, 1))
    full = effective_budget(one, one, 0 * one, np.array([0.4]))
    hit = effective_budget(one, one, one, np.array([0.4]))
    assert hit[0, 0] == 0.6 * full[0, 0]


def test_sanctions_event_lowers_russian_capacity_and_spending(baseline):
    tight = load_scenario(SCENARIOS / "sanctions_tighten.yaml")
    a = GreatGameModel(baseline, runs=4, steps=8).run()
    b = GreatGameModel(tight, runs=4, steps=8).run()
    rus = a.powers.index("RUS")
    assert (b.state.sanctions[:, rus] > a.state.sanctions[:, rus]).all()
    assert b.state.spending[:, :, rus].sum() < a.state.spending[:, :, rus].sum()
    # and Russia's regional influence ends lower than in the baseline in every paired run
    assert (b.state.regional_total[:, rus] < a.state.regional_total[:, rus]).all()


def test_format_can_start_mid_run(baseline):
    sc = baseline.with_overrides({"formats.CA-Russia.active": False})
    sc = load_scenario({**sc.raw, "events": [{"at": "2024-01", "type": "format_open", "format": "CA-Russia"}],
                        "powers": {**sc.raw["powers"], "RUS": {**sc.raw["powers"]["RUS"], "template": ""}}})
    m = GreatGameModel(sc, runs=4, steps=12).run()
    f = m.formats.index("CA-Russia")
    opened_at = sc.step_of(2024, 1)
    assert not m.recorder.active[:opened_at, :, f].any()
    assert m.recorder.active[opened_at:, :, f].all()


def test_budget_event_raises_spending(baseline):
    us = load_scenario(SCENARIOS / "us_reengages.yaml")
    a = GreatGameModel(baseline, runs=2, steps=10).run()
    b = GreatGameModel(us, runs=2, steps=10).run()
    usa = a.powers.index("USA")
    assert b.state.spending[:, :, usa].sum() > 2.5 * a.state.spending[:, :, usa].sum()
    assert (b.state.regional_total[:, usa] > a.state.regional_total[:, usa]).all()
