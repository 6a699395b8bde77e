"""The model's inputs for any panel state and year (experiments/fit/covariates.py, docs/ODD.md 7.10)."""

import re

import numpy as np
import pandas as pd
import pytest
from greatgame.experiments.fit import covariates as cov
from greatgame.model import panel
from greatgame.model.energy import load_export_routes
from greatgame.model.fundamentals import KNOWN_STATES, best_trade_rows, load_fundamentals, period_end
from greatgame.model.migration import start_remittances
from greatgame.model.security import arms_share, start_stock

POWERS = cov.POWERS
POOLED = ("ARM", "AZE", "BLR", "GEO", "MDA", "UKR")
ARRAYS = ("gdp_usd_bn", "population_m", "gdp_growth_per_year", "partner_growth_per_year", "turnover_usd_bn",
          "remittances_pct_gdp", "debt_usd_bn", "fdi_stock_usd_bn", "fdi_gross_inflow_cumulative_usd_bn", "arms_tiv",
          "arms_years", "military_presence", "export_routes")


def _clear() -> None:
    for f in (cov.panel_inputs, start_remittances, load_export_routes):
        f.cache_clear()


def _panel_rows(series: str, state: str, partner: str, year: int) -> float:
    df = panel.load_panel(series, upto=year)
    hit = df[(df["state"] == state) & (df["partner"] == partner) & (df["year"] == year)]
    assert len(hit) == 1, (series, state, partner, year)
    return float(hit["value"].iloc[0])


@pytest.mark.parametrize("year", [2008, 2017])
def test_vintage_no_later_row_read_and_later_rows_change_nothing(monkeypatch, year):
    inputs = cov.panel_inputs(year, panel.STATES, POWERS)
    next_year = cov.panel_inputs(year + 1, panel.STATES, POWERS).fundamentals
    later = [p for p in inputs.fundamentals.provenance if period_end(p[3]) > year]
    assert not later, later[:5]
    df, known = panel._all()
    changed = df.copy()
    after = changed["year"] > year
    changed.loc[after, "value"] = changed.loc[after, "value"] * 3.0 + 17.0
    changed.loc[after, "vintage"] = "1990"
    monkeypatch.setattr(panel, "_all", lambda: (changed, known))
    _clear()
    try:
        again = cov.panel_inputs(year, panel.STATES, POWERS)
        for name in ARRAYS:
            assert np.array_equal(getattr(again.fundamentals, name), getattr(inputs.fundamentals, name)), name
        assert again.fundamentals.provenance == inputs.fundamentals.provenance
        assert np.array_equal(again.remittances0.m0, inputs.remittances0.m0)
        # the changed panel is read: a later origin sees the change (so the test can fail)
        moved = cov.panel_inputs(year + 1, panel.STATES, POWERS).fundamentals
    finally:
        _clear()
    assert not np.allclose(moved.gdp_usd_bn, next_year.gdp_usd_bn)


def test_2017_matches_the_model_inputs_on_the_same_rows():
    mine = cov.panel_fundamentals(2017, KNOWN_STATES, POWERS)
    model = load_fundamentals(2017, KNOWN_STATES, POWERS, "state")
    assert np.allclose(mine.gdp_usd_bn, model.gdp_usd_bn, atol=1e-3)  # countries.csv rounds to the US$ mn
    assert np.allclose(mine.population_m, model.population_m, atol=1e-3)
    assert np.array_equal(mine.arms_tiv, model.arms_tiv) and np.array_equal(mine.arms_years, model.arms_years)
    delta = np.array([0.23])
    assert np.array_equal(arms_share(start_stock(mine.arms_tiv, delta)), arms_share(start_stock(model.arms_tiv, delta)))
    assert np.array_equal(mine.military_presence, model.military_presence)
    assert np.array_equal(mine.export_routes, model.export_routes)
    # turnover: the model's 2017 'state' rows are DOTS exporter-based sums (the state's and the partner's FOB exports)
    # except three national figures; on that construction the panel gives the same rows
    exporters = cov.panel_fundamentals(2017, KNOWN_STATES, POWERS, "exporters").turnover_usd_bn
    rows = best_trade_rows(2017, basis="state")
    national = set()
    for i, s in enumerate(KNOWN_STATES):
        for j, p in enumerate(POWERS):
            row = rows[(s, p)]
            if row["basis"] == "exporters":
                assert exporters[i, j] == pytest.approx(model.turnover_usd_bn[i, j], abs=6e-4), (s, p)
                parts = [float(x) for x in re.findall(r"US\$([\d.]+) mn", row["note"])]
                own = _panel_rows("exports_fob", s, p, 2017) / 1000
                assert parts[0] / 1000 == pytest.approx(own, abs=1e-4), (s, p)
            else:
                national.add((s, p))
                assert not row["source"].startswith("IMF")
    assert national == {("KAZ", "USA"), ("KGZ", "RUS"), ("KGZ", "CHN")}
    # the 'state' basis reads the state's own imports, not the partner's exports
    i, j = KNOWN_STATES.index("KAZ"), POWERS.index("CHN")
    own = (_panel_rows("exports_fob", "KAZ", "CHN", 2017) + _panel_rows("imports_cif", "KAZ", "CHN", 2017)) / 1000
    assert mine.turnover_usd_bn[i, j] == pytest.approx(own)


@pytest.mark.parametrize("year", [1995, 2010, 2022])
def test_pooled_states_finite_with_documented_zeros(year):
    inputs = cov.panel_inputs(year, POOLED, POWERS)
    f = inputs.fundamentals
    for name in ARRAYS:
        assert np.all(np.isfinite(getattr(f, name))), name
    for name in cov.MISSING:
        assert not getattr(f, name).any(), name
    assert set(inputs.missing) == set(cov.MISSING)
    assert not f.export_routes.any()  # pooled states: no coded export route (rule)
    assert (f.gdp_usd_bn > 0).all() and (f.turnover_usd_bn[:, POWERS.index("RUS")] > 0).all()
    assert f.arms_tiv.shape == (len(POOLED), len(POWERS) + 1, year - 1992 + (0 if year == 2022 else 1))
    assert (f.remittances_pct_gdp >= 0).all()


def test_pooled_presence_follows_the_dated_rows():
    rus = POWERS.index("RUS")

    def presence(year: int) -> dict[str, float]:
        return dict(zip(POOLED, cov.panel_fundamentals(year, POOLED, POWERS).military_presence[:, rus], strict=True))

    assert presence(2005) == {"ARM": 1.0, "AZE": 0.5, "BLR": 0.5, "GEO": 1.0, "MDA": 1.0, "UKR": 1.0}
    assert presence(2015) == {"ARM": 1.0, "AZE": 0.0, "BLR": 0.5, "GEO": 0.0, "MDA": 1.0, "UKR": 0.0}
    # acknowledged bases count before their source pages' dates (Kant: cited 2013; the 201st: 2014)
    early = cov.panel_fundamentals(2005, KNOWN_STATES, POWERS).military_presence
    assert early[KNOWN_STATES.index("KGZ"), rus] == 1.0 and early[KNOWN_STATES.index("TJK"), rus] == 1.0
    # the unacknowledged Chinese post keeps its publication date (Feb 2019)
    chn, tjk = POWERS.index("CHN"), KNOWN_STATES.index("TJK")
    assert cov.panel_fundamentals(2018, KNOWN_STATES, POWERS).military_presence[tjk, chn] == 0.0
    assert cov.panel_fundamentals(2019, KNOWN_STATES, POWERS).military_presence[tjk, chn] == 0.5


def test_eu_column_is_the_eu27_sum():
    f = cov.panel_fundamentals(2017, ("KAZ", "ARM"), POWERS)
    eu = POWERS.index("EU")
    df = panel.load_panel(("exports_fob", "imports_cif"), upto=2017)
    for i, s in enumerate(("KAZ", "ARM")):
        rows = df[(df["state"] == s) & (df["partner"] == "EU") & (df["year"] == 2017)]
        assert len(rows) == 2 and rows["note"].str.startswith("EU27 = sum of 27 member").all()
        assert f.turnover_usd_bn[i, eu] == pytest.approx(rows["value"].sum() / 1000)
    # DOTS's own 'European Union' row (the 27 members back-cast, without the UK): KAZ exports 2017, 23,355.4
    assert _panel_rows("exports_fob", "KAZ", "EU", 2017) == pytest.approx(23355.4, abs=0.05)
    gdp = panel.load_panel("gdp_current_usd")
    gdp = gdp[gdp["state"] == "EU"].set_index("year")["value"]
    assert cov.panel_fundamentals(2017, ("KAZ",), POWERS).partner_growth_per_year[eu] == pytest.approx(
        (gdp[2017] / gdp[2014]) ** (1 / 3) - 1)


def test_partner_basis_reads_the_mirror_rows_and_fills_gaps_from_the_state():
    f = cov.panel_inputs(2010, ("KAZ", "ARM"), POWERS, "partner").fundamentals
    chn, tur = POWERS.index("CHN"), POWERS.index("TUR")
    mirror = _panel_rows("partner_imports_cif", "KAZ", "CHN", 2010) + _panel_rows("partner_exports_fob", "KAZ", "CHN",
                                                                                  2010)
    assert f.turnover_usd_bn[0, chn] == pytest.approx(mirror / 1000)
    read = {(q, s, p) for q, s, p, y, _ in f.provenance if y == "2010"}
    assert {("partner_imports_cif", "KAZ", "CHN"), ("partner_exports_fob", "KAZ", "CHN")} <= read
    assert ("exports_fob", "KAZ", "CHN") not in read
    # Turkey has no record of its exports to Armenia in 2006 (closed border): the state's imports fill that flow
    g = cov.panel_inputs(2006, ("ARM",), POWERS, "partner").fundamentals
    expected = _panel_rows("partner_imports_cif", "ARM", "TUR", 2006) + _panel_rows("imports_cif", "ARM", "TUR", 2006)
    assert g.turnover_usd_bn[0, tur] == pytest.approx(expected / 1000)
    state = cov.panel_fundamentals(2010, ("KAZ",), POWERS, "state").turnover_usd_bn[0, chn]
    assert state != pytest.approx(f.turnover_usd_bn[0, chn], rel=0.01)


def test_after_dots_ends_the_2020_flows_scale_with_gdp():
    f = cov.panel_fundamentals(2022, ("UZB", "GEO"), POWERS)
    g = cov.panel_fundamentals(2020, ("UZB", "GEO"), POWERS)
    gdp = panel.load_panel("gdp_current_usd").set_index(["state", "year"])["value"]
    for i, s in enumerate(("UZB", "GEO")):
        assert np.allclose(f.turnover_usd_bn[i], g.turnover_usd_bn[i] * gdp[(s, 2022)] / gdp[(s, 2020)])
    periods = {y for q, _, _, y, _ in f.provenance if q in ("exports_fob", "imports_cif")}
    assert periods == {"2020"}


def test_growth_is_realised_over_three_years():
    f = cov.panel_fundamentals(2010, ("TJK",), ("RUS",))
    gdp = panel.load_panel("gdp_current_usd").set_index(["state", "year"])["value"]
    assert f.gdp_growth_per_year[0] == pytest.approx((gdp[("TJK", 2010)] / gdp[("TJK", 2007)]) ** (1 / 3) - 1)
    assert f.partner_growth_per_year[0] == pytest.approx((gdp[("RUS", 2010)] / gdp[("RUS", 2007)]) ** (1 / 3) - 1)


def test_covariate_table_is_the_exposures_of_the_inputs():
    table = cov.covariate_table([2010, 2017], ("ARM", "KAZ"), POWERS)
    assert set(table["covariate"]) == set(cov.COVARIATES)
    assert len(table) == 2 * 2 * (1 + 5 * len(POWERS)) and np.isfinite(table["value"]).all()
    wide = table.set_index(["year", "state", "partner", "covariate"])["value"]
    f = cov.panel_fundamentals(2017, ("ARM", "KAZ"), POWERS)
    assert wide[(2017, "KAZ", "CHN", "trade_gdp")] == pytest.approx(f.turnover_usd_bn[1, 1] / f.gdp_usd_bn[1])
    assert wide[(2017, "KAZ", "", "gdp_usd_bn")] == pytest.approx(f.gdp_usd_bn[1])
    shares = table[table["covariate"].isin(["arms_share", "route_share"])].groupby(["year", "state", "covariate"])
    assert (shares["value"].sum() <= 1 + 1e-12).all()
    assert (table[(table["covariate"] == "route_share") & (table["state"] == "ARM")]["value"] == 0).all()
    assert (wide.xs("KAZ", level="state").xs("route_share", level="covariate") > 0).any()


def test_unknown_codes_and_bases_are_refused():
    with pytest.raises(ValueError, match="not in the panel"):
        cov.panel_fundamentals(2010, ("XXX",), POWERS)
    with pytest.raises(ValueError, match="trade basis"):
        cov.panel_fundamentals(2010, ("KAZ",), POWERS, "mixed")
    with pytest.raises(ValueError, match="no gdp_current_usd row"):
        cov.panel_fundamentals(2010, ("KAZ",), ("IRN",))
    assert isinstance(cov.covariate_table([2010], ("KAZ",), ("RUS",)), pd.DataFrame)
