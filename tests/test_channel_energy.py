"""The energy/transport channel (ODD 4.4e, 7.6): export-route shares from the panel's dated routes, moved by corridor
events only: the start-year shares are the panel rows, a corridor event raises its power's share and lowers the
others', and nothing else moves them."""

import numpy as np
import pytest
from greatgame.model import GreatGameModel, load_scenario
from greatgame.model import energy as energy_module
from greatgame.model.axes import INFLUENCE
from greatgame.model.energy import common_units, conversion_factors, load_export_routes, route_share
from greatgame.model.fundamentals import KNOWN_POWERS, KNOWN_STATES, load_fundamentals
from greatgame.model.panel import load_panel

from greatgame.cli import main

from .conftest import SCENARIOS

GAS = 0.86  # parameters.energy_routes.gas_mtoe_per_bcm in scenarios/baseline.yaml (BP conversion factors)
ENERGY = INFLUENCE.energy_transport


def panel_value(series: str, state: str, partner: str, year: int) -> float:
    rows = load_panel(series)
    rows = rows[(rows["state"] == state) & (rows["partner"] == partner) & (rows["year"] == year)]
    assert len(rows) == 1, (series, state, partner, year)
    return float(rows["value"].iloc[0])


def shares(year: int, powers: tuple[str, ...] = KNOWN_POWERS) -> dict[tuple[str, str], float]:
    table = load_export_routes(year, KNOWN_STATES, powers)
    sh = route_share(common_units(table.quantity, conversion_factors(np.array([GAS]), np.array([1.0]))), len(powers))
    return {(s, p): sh[0, i, j] for i, s in enumerate(KNOWN_STATES) for j, p in enumerate(powers)}


def test_2022_route_shares_are_the_panel_rows_by_hand():
    # the rows: BP/EI 2023 pipeline gas by importer (bcm) and 2022 oil throughputs (Mt)
    gas_rus, gas_chn, gas_all = 3.4, 4.4, 7.8
    cpc, atyrau_samara, kcop = 52.2, 8.0, 1.0
    assert panel_value("gas_exports_pipeline", "KAZ", "RUS", 2022) == gas_rus
    assert panel_value("gas_exports_pipeline", "KAZ", "CHN", 2022) == gas_chn
    assert panel_value("gas_exports_pipeline", "KAZ", "ALL", 2022) == gas_all
    assert panel_value("oil_throughput_cpc", "KAZ", "RUS", 2022) == cpc
    assert panel_value("oil_throughput_atyrau_samara", "KAZ", "RUS", 2022) == atyrau_samara
    assert panel_value("oil_throughput_kcop", "KAZ", "CHN", 2022) == kcop
    total = gas_all * GAS + cpc + atyrau_samara + kcop
    got = shares(2022)
    assert got["KAZ", "RUS"] == pytest.approx((gas_rus * GAS + cpc + atyrau_samara) / total)  # 0.930
    assert got["KAZ", "CHN"] == pytest.approx((gas_chn * GAS + kcop) / total)  # 0.070
    # Turkmenistan: gas only, so the unit cancels; the rest of the total (3.1 bcm) goes to `others`
    tkm = {p: panel_value("gas_exports_pipeline", "TKM", p, 2022) for p in ("RUS", "CHN", "ALL")}
    assert (tkm["RUS"], tkm["CHN"], tkm["ALL"]) == (4.7, 32.9, 40.7)
    assert got["TKM", "CHN"] == pytest.approx(32.9 / 40.7)  # 0.808
    assert got["TKM", "RUS"] == pytest.approx(4.7 / 40.7)  # 0.115
    assert got["UZB", "CHN"] == pytest.approx(1.0)  # 2.5 bcm, all to China; none to Russia in 2022
    for p in KNOWN_POWERS:
        assert got["KGZ", p] == got["TJK", p] == 0.0  # no coded export route
        if p not in ("RUS", "CHN"):
            assert got["KAZ", p] == got["TKM", p] == 0.0


def test_2017_route_shares_are_the_panel_rows_by_hand():
    # gas flows of 2017 (BP 2018); no oil throughput of 2017, so the latest stated capacities by 2017: CPC 33 Mt (2008),
    # Atasu-Alashankou 10 Mt (2006); Atyrau-Samara has no capacity figure before 2020 (a listed gap)
    gas_rus, gas_chn = 12.114, 1.091
    assert panel_value("gas_exports_pipeline", "KAZ", "RUS", 2017) == gas_rus
    assert panel_value("gas_exports_pipeline", "KAZ", "CHN", 2017) == gas_chn
    assert panel_value("gas_exports_pipeline", "KAZ", "ALL", 2017) == 13.205
    assert panel_value("pipeline_capacity_cpc", "KAZ", "RUS", 2008) == 33
    assert panel_value("pipeline_capacity_kcop_atasu", "KAZ", "CHN", 2006) == 10
    rus, chn = gas_rus * GAS + 33, gas_chn * GAS + 10
    total = 13.205 * GAS + 33 + 10
    got = shares(2017)
    assert got["KAZ", "RUS"] == pytest.approx(rus / total)  # 0.799
    assert got["KAZ", "CHN"] == pytest.approx(chn / total)  # 0.201
    assert got["TKM", "CHN"] == pytest.approx(31.681 / 33.637)  # 0.942; Gazprom bought none in 2017
    assert got["TKM", "RUS"] == 0.0
    assert got["UZB", "RUS"] == pytest.approx(6.743 / 11.757)  # 0.574
    assert got["UZB", "CHN"] == pytest.approx(3.352 / 11.757)  # 0.285
    table = load_export_routes(2017, KNOWN_STATES, KNOWN_POWERS)
    assert table.basis["KAZ", "gas"] == "flow 2017" and table.basis["KAZ", "oil"] == "capacity"
    assert any("atyrau_samara" in g for g in table.gaps)


def test_a_power_left_out_of_the_scenario_falls_into_others():
    three = shares(2022, ("RUS", "CHN", "USA"))
    five = shares(2022)
    for s in KNOWN_STATES:
        for p in ("RUS", "CHN", "USA"):
            assert three[s, p] == pytest.approx(five[s, p])


def test_a_2017_start_reads_no_row_describing_a_later_year(monkeypatch):
    seen = []

    def spy(series=None, upto=None):
        df = load_panel(series, upto)
        seen.append((upto, int(df["year"].max())))
        return df

    monkeypatch.setattr(energy_module, "load_panel", spy)
    table = energy_module.load_export_routes.__wrapped__(2017, KNOWN_STATES, KNOWN_POWERS)
    assert seen and all(upto == 2017 and latest <= 2017 for upto, latest in seen)
    years = {int(p[3]) for p in table.provenance}
    assert max(years) == 2017 and {2006, 2008} <= years  # the capacities carried from their stated years
    f = load_fundamentals(2017, KNOWN_STATES, KNOWN_POWERS)
    routes = [p for p in f.provenance if p[4] == "panel/routes.csv"]
    assert routes and all(int(p[3]) <= 2017 for p in routes)
    assert ("pipeline_capacity_cpc", "KAZ", "RUS", "2008", "panel/routes.csv") in routes  # not the 2020 figure (67)


def test_the_model_starts_from_the_table(baseline):
    m = GreatGameModel(baseline.with_overrides({"uncertainty": "fixed"}), runs=2, steps=1)
    got = shares(2022, m.powers)
    for i, s in enumerate(m.states):
        for j, p in enumerate(m.powers):
            assert m.energy[:, i, j] == pytest.approx(got[s, p] * 1.0)  # energy_price_index 1 in 2022


def _energy_channel(m: GreatGameModel) -> np.ndarray:
    return m.recorder.influence_channels[..., ENERGY]  # (T, R, S, P)


def test_china_deepens_railway_raises_china_in_kyrgyzstan():
    sc = load_scenario(SCENARIOS / "china_deepens.yaml")
    m = GreatGameModel(sc, runs=16).run()
    ch = _energy_channel(m)
    kgz, uzb, chn = m.states.index("KGZ"), m.states.index("UZB"), m.powers.index("CHN")
    move = np.median(ch[-1, :, kgz, chn] - ch[0, :, kgz, chn])
    assert move >= 0.005, move  # 0 -> 1 / (1 + autonomy): the railway is Kyrgyzstan's only coded export route
    share = m.energy / m.p.energy_price_index[:, None, None]
    assert np.allclose(share[:, kgz, chn], 1.0)
    # Uzbekistan's coded exports already go all to China in 2022 (2.5 bcm of gas, none to Russia): nothing to take
    assert np.allclose(ch[-1, :, uzb], ch[0, :, uzb])


def test_the_railway_takes_share_from_russia_where_russia_carries_exports():
    # the same event on a 2017 start, when Russia carried 57% of Uzbekistan's gas exports
    sc = load_scenario(SCENARIOS / "backcast_2017.yaml")
    event = {"at": "2020-01", "type": "corridor", "power": "CHN", "states": ["KGZ", "UZB"], "capacity": 12,
             "commodity": "rail"}
    with_rail = load_scenario({**sc.raw, "events": [*sc.raw.get("events", []), event]})
    m = GreatGameModel(with_rail, runs=16).run()
    ch = _energy_channel(m)
    uzb, rus, chn = m.states.index("UZB"), m.powers.index("RUS"), m.powers.index("CHN")
    assert np.median(ch[-1, :, uzb, chn] - ch[0, :, uzb, chn]) >= 0.005
    assert np.median(ch[0, :, uzb, rus] - ch[-1, :, uzb, rus]) >= 0.005
    assert (ch[-1, :, uzb, rus] < ch[0, :, uzb, rus]).all()


def test_baseline_energy_shares_stay_put(baseline_runs):
    m = baseline_runs
    ch = _energy_channel(m)
    np.testing.assert_allclose(ch[-1], ch[0], rtol=0, atol=1e-12)
    start = common_units(m.structure.fundamentals.export_routes, conversion_factors(
        m.p.energy_routes.gas_mtoe_per_bcm, m.p.energy_routes.rail_mtoe_per_mt))
    np.testing.assert_array_equal(m.state.export_routes, start)


def test_the_price_index_scales_leverage_not_shares(baseline):
    sc = baseline.with_overrides({"uncertainty": "fixed"})
    dear = load_scenario({**sc.raw, "events": [{"at": "2024-01", "type": "energy_price", "index": 1.5}]})
    a, b = GreatGameModel(sc, runs=2, steps=8).run(), GreatGameModel(dear, runs=2, steps=8).run()
    np.testing.assert_allclose(b.energy, 1.5 * a.energy)
    np.testing.assert_array_equal(a.state.export_routes, b.state.export_routes)


def test_a_us_corridor_on_kazakhstan_leaves_the_other_states_alone(baseline):
    sc = baseline.with_overrides({"uncertainty": "fixed"})
    event = {"at": "2024-01", "type": "corridor", "power": "USA", "states": ["KAZ"], "strength": 0.2}
    us = load_scenario({**sc.raw, "events": [event]})
    a, b = GreatGameModel(sc, runs=4, steps=8).run(), GreatGameModel(us, runs=4, steps=8).run()
    kaz, usa, rus = a.states.index("KAZ"), a.powers.index("USA"), a.powers.index("RUS")
    others = [i for i in range(a.S) if i != kaz]
    np.testing.assert_array_equal(b.energy[:, others], a.energy[:, others])  # Tajikistan among them
    np.testing.assert_allclose(b.energy[:, kaz, usa], 0.2 / 1.2)  # strength: a share of the current total
    np.testing.assert_allclose(b.energy[:, kaz, rus], a.energy[:, kaz, rus] / 1.2)


BAD = {
    "both": ("strength: 0.2, capacity: 5, commodity: gas", ["events[0]", "exactly one of 'strength'"]),
    "neither": ("note: x", ["events[0]", "exactly one of 'strength'"]),
    "capacity_without_commodity": ("capacity: 5", ["events[0].commodity", "missing key"]),
    "commodity_without_capacity": ("strength: 0.1, commodity: oil", ["events[0].capacity", "missing key"]),
    "unknown_commodity": ("capacity: 5, commodity: coal", ["events[0].commodity", "must be one of"]),
    "negative_capacity": ("capacity: -1, commodity: rail", ["events[0].capacity", "out of range"]),
    "strength_too_large": ("strength: 11", ["events[0].strength", "out of range [0, 10]"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_corridor_events_are_refused_with_one_line(case, tmp_path, capsys):
    keys, needles = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nevents_add:\n"
                    f"  - {{at: 2024-01, type: corridor, power: CHN, states: [KGZ], {keys}}}\n")
    rc = main(["check", str(path)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and str(path) in err, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("key,value,needle", [("gas_mtoe_per_bcm", 2.0, "out of range [0.5, 1.2]"),
                                              ("rail_mtoe_per_mt", -1, "out of range [0, 5]")])
def test_bad_energy_route_units_are_refused_with_one_line(key, value, needle, tmp_path, capsys):
    path = tmp_path / "units.yaml"
    path.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nparameters:\n  energy_routes:\n    {key}: {value}\n")
    rc = main(["check", str(path)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and f"parameters.energy_routes.{key}" in err and needle in err, err
