"""The yearly panel (model/data/panel/): every row sourced and dated, one row per key, and a fit at origin Y sees no
row about a later year."""

import pandas as pd
import pytest
from greatgame.model.fundamentals import load_fundamentals
from greatgame.model.panel import COLUMNS, PANEL_DIR, STATES, TABLES, load_panel


def test_every_row_is_sourced_dated_and_has_one_key():
    df = load_panel()
    assert set(df["table"]) == set(TABLES)
    for name in TABLES:
        assert tuple(pd.read_csv(PANEL_DIR / f"{name}.csv", nrows=0).columns) == COLUMNS, name
        assert (PANEL_DIR / f"{name}.md").is_file(), name
    assert (df["source"].str.strip() != "").all() and (df["vintage"].str.strip() != "").all()
    assert (df["unit"].str.strip() != "").all() and (df["basis"].str.strip() != "").all()
    assert df["year"].between(1960, 2022).all()
    assert not df.duplicated(["series", "state", "partner", "year"]).any()
    assert set(STATES) <= set(df["state"])


def test_an_origin_sees_no_row_about_a_later_year():
    for year in (2005, 2017):
        seen = load_panel(upto=year)
        assert len(seen) and seen["year"].max() <= year
        later = load_panel()
        assert len(later[later["year"] <= year]) == len(seen)


def test_series_selection_and_unknown_names():
    gdp = load_panel("gdp_current_usd")
    assert set(gdp["series"]) == {"gdp_current_usd"}
    with pytest.raises(KeyError, match="no panel series"):
        load_panel(("gdp_current_usd", "no_such_series"))


def test_panel_gdp_agrees_with_the_model_data_it_overlaps():
    """The panel's World Bank GDP for 2017 and 2022 is the one the model starts from (countries.csv), to 1%."""
    gdp = load_panel("gdp_current_usd")
    states = ("KAZ", "KGZ", "TJK", "UZB")
    for year in (2017, 2022):
        fund = load_fundamentals(year, states, ("RUS", "CHN", "USA"))
        for i, s in enumerate(states):
            row = gdp[(gdp["state"] == s) & (gdp["year"] == year)]
            assert len(row) == 1 and row["unit"].iloc[0] == "usd", (s, year)
            assert float(row["value"].iloc[0]) / 1e9 == pytest.approx(float(fund.gdp_usd_bn[i]), rel=0.01), (s, year)
