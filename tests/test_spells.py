"""The dated record as a cell panel (experiments/fit/spells.py): record.md's summary reproduced from the file, no
information after an origin, transformations never scored as choices, the Jeffreys hazards, the scores and the churn
interval against hand computations, and bad record files rejected with the row and column named."""

import csv
import math
import time

import numpy as np
import pandas as pd
import pytest
from greatgame.experiments.fit.spells import (
    COLUMNS,
    RECORD_PATH,
    JeffreysHazards,
    baseline_cells,
    brier,
    cell_quarters,
    choice_events,
    churn_interval,
    event_counts,
    load_record,
    log_score,
    record_churn_3y,
    summit_years,
)
from greatgame.model.yamlio import ScenarioError
from scipy import stats

HEADER = ",".join(COLUMNS)


@pytest.fixture(scope="module")
def record():
    return load_record()


def write(tmp_path, rows, name="record.csv"):
    """A record file of `rows` (state, lineage, kind, level, start, end, end_is_choice), sources filled in."""
    path = tmp_path / name
    path.write_text(HEADER + "\n" + "\n".join(",".join(r) + ",src,note" for r in rows) + "\n", encoding="utf-8")
    return path


def test_record_md_summary_reproduces_from_the_file(record):
    """record.md, 'Summary: changes in the panel (to the end of 2022)': 36 choice changes, by direction, state and
    kind, and the exposure by kind (record.md writes 987 for the regional organisations: the file gives 987.56)."""
    ev = choice_events(record, upto=2023.0)
    assert len(ev) == 36
    assert ev["direction"].value_counts().to_dict() == {"up": 23, "down": 11, "same": 2}
    counts = event_counts(record, upto=2023.0)
    by_state = counts.groupby("state")["changes"].sum().to_dict()
    assert by_state == {"UZB": 11, "AZE": 5, "BLR": 4, "GEO": 4, "ARM": 3, "KGZ": 2, "MDA": 2, "TKM": 2, "UKR": 2,
                        "TJK": 1, "KAZ": 0}
    uzb = counts[counts["state"] == "UZB"][["up", "down"]].sum().to_dict()
    assert uzb == {"up": 6, "down": 5}
    blr = counts[counts["state"] == "BLR"][["up", "down", "same"]].sum().to_dict()
    assert blr == {"up": 2, "down": 0, "same": 2}
    five = counts[counts["state"].isin(["KAZ", "KGZ", "TJK", "TKM", "UZB"])]["changes"].sum()
    assert five == 16 and counts["changes"].sum() - five == 20
    by_kind = counts.groupby("kind")[["up", "down", "same", "changes", "cell_years"]].sum()
    assert by_kind["changes"].to_dict() == {"security_alliance": 8, "economic_union": 4,
                                            "regional_organisation": 23, "summit_format": 1}
    assert by_kind.loc["security_alliance", ["up", "down"]].tolist() == [4, 4]
    assert by_kind.loc["economic_union", ["up", "down"]].tolist() == [4, 0]
    assert by_kind.loc["regional_organisation", ["up", "down", "same"]].tolist() == [14, 7, 2]
    expected = {"security_alliance": 336.93, "economic_union": 97.99, "regional_organisation": 987.56,
                "summit_format": 18.23}
    for kind, years in expected.items():
        assert by_kind.loc[kind, "cell_years"] == pytest.approx(years, abs=0.005), kind
    five_regional = counts[counts["state"].isin(["KAZ", "KGZ", "TJK", "TKM", "UZB"])
                           & (counts["kind"] == "regional_organisation")]["cell_years"].sum()
    assert round(five_regional) == 458
    # the shipped file has 23 transformations (end_is_choice = no) and 95 attendance rows
    assert (record.spells["end_is_choice"] == "no").sum() == 23 and len(record.attendance) == 95


def test_quarter_panel_counts_and_speed(record):
    """The quarterly panel sees the 34 choice changes that change a level (BLR's two same-level SCO changes are not
    level changes) and the 23 transformations; the whole record in well under a second."""
    start = time.perf_counter()
    q = cell_quarters(record)
    assert time.perf_counter() - start < 0.5
    assert q["choice"].sum() == 34 and q["transformation"].sum() == 23
    assert not q.duplicated(["state", "lineage", "t"]).any()
    assert q["t"].min() == 1992.0 and q["t"].max() == 2022.75
    assert set(np.diff(np.sort(q["t"].unique()))) == {0.25}
    risk = q[q["at_risk"]]
    assert set(risk["kind"]) == {"security_alliance", "economic_union", "regional_organisation", "summit_format"}
    assert (q.loc[~q["at_risk"], "kind"] == "").all() and not q.loc[~q["at_risk"], "choice"].any()
    # the kind of the period the quarter starts in: Armenia's EAEU accession (2015.01) starts in the EurAsEC
    # observer period, so it is scored as a regional_organisation quarter (record.md counts it under economic_union)
    arm = q[(q["state"] == "ARM") & (q["lineage"] == "EAEU") & (q["t"] == 2015.0)].iloc[0]
    assert (arm["kind"], arm["level_from"], arm["level_to"], arm["choice"]) == (
        "regional_organisation", "partial", "member", True)
    ev = choice_events(record)
    assert ev.loc[(ev["state"] == "ARM") & (ev["date"] == 2015.01), ["kind", "kind_scored"]].values.tolist() == [
        ["economic_union", "regional_organisation"]]


def test_status_at_a_date_is_the_spell_covering_it(record):
    q = cell_quarters(record).set_index(["state", "lineage", "t"])
    # UZB CSTO: member from 1992.37 to 1999.30, none to 2006.62, member to 2012.47, none after
    assert q.loc[("UZB", "CSTO", 1992.25), "at_risk"] == False  # noqa: E712  (the treaty is signed 1992.37)
    assert q.loc[("UZB", "CSTO", 1992.25), "level_to"] == "member"
    assert q.loc[("UZB", "CSTO", 1999.25), ["level_from", "level_to", "choice"]].tolist() == ["member", "none", True]
    assert q.loc[("UZB", "CSTO", 1999.5), ["level_from", "choice"]].tolist() == ["none", False]
    assert q.loc[("UZB", "CSTO", 2012.25), ["level_from", "level_to", "choice"]].tolist() == ["member", "none", True]
    # a change dated exactly on a quarter's start belongs to the quarter before: KAZ EAEU kind changes at 2010.0
    assert q.loc[("KAZ", "EAEU", 2009.75), ["kind", "transformation", "choice"]].tolist() == [
        "regional_organisation", True, False]
    assert q.loc[("KAZ", "EAEU", 2010.0), ["kind", "transformation"]].tolist() == ["economic_union", False]


def test_a_transformation_is_never_a_choice(record):
    q = cell_quarters(record)
    assert not (q["transformation"] & q["choice"]).any()
    # EurAsEC's end: TJK member -> none is imposed, not a choice; KGZ member -> acceding state likewise
    tjk = q[(q["state"] == "TJK") & (q["lineage"] == "EAEU") & (q["t"] == 2014.75)].iloc[0]
    assert (tjk["level_from"], tjk["level_to"], tjk["transformation"], tjk["choice"]) == ("member", "none", True, False)
    kgz = q[(q["state"] == "KGZ") & (q["lineage"] == "EAEU") & (q["t"] == 2014.75)].iloc[0]
    assert (kgz["level_from"], kgz["level_to"], kgz["choice"]) == ("member", "partial", False)
    # every level change that is not a choice is a transformation quarter
    risk = q[q["at_risk"]]
    moved = risk["level_from"] != risk["level_to"]
    assert (risk.loc[moved & ~risk["choice"], "transformation"]).all()
    assert (moved & risk["transformation"]).sum() == 3 + 1  # TJK, MDA, UKR to none; KGZ to acceding


@pytest.mark.parametrize("upto", [2005.0, 2012.4, 2015.3, 2017.0, 2022.83])
def test_no_information_after_the_origin(record, upto):
    q = cell_quarters(record, upto=upto)
    assert (q["t"] + 0.25 <= upto).all() and q["t"].max() + 0.5 > upto
    full = cell_quarters(record)
    full = full[full["t"] + 0.25 <= upto]
    seen = full.set_index(["state", "lineage"]).index.isin(q.set_index(["state", "lineage"]).index)
    assert not full.loc[~seen, "at_risk"].any()  # a cell that starts after the origin is not in its panel
    pd.testing.assert_frame_equal(q.reset_index(drop=True), full[seen].reset_index(drop=True))
    ev = choice_events(record, upto=upto)
    assert (ev["date"] <= upto).all()
    sy = summit_years(record, upto=upto)
    assert (sy["year"] <= upto).all()
    cut = record.upto(upto)
    assert (cut.spells["start"] < upto).all()
    assert (cut.spells["end"].dropna() <= upto).all()


def test_a_spell_ending_after_the_origin_is_open_there(record):
    cut = record.upto(2012.4)
    uzb = cut.spells[(cut.spells["state"] == "UZB") & (cut.spells["lineage"] == "CSTO")]
    last = uzb.iloc[-1]
    assert last["start"] == 2006.62 and math.isnan(last["end"]) and last["end_is_choice"] == ""
    q = cell_quarters(record, upto=2012.4)
    tail = q[(q["state"] == "UZB") & (q["lineage"] == "CSTO")].iloc[-1]
    assert (tail["t"], tail["level_from"], tail["level_to"], tail["choice"]) == (2012.0, "member", "member", False)
    # EurAsEC's end (2015.0, end no) is unknown at 2014.9: TJK is an open member there, no transformation seen
    q = cell_quarters(record, upto=2014.9)
    tjk = q[(q["state"] == "TJK") & (q["lineage"] == "EAEU") & (q["t"] >= 2014.0)]
    assert len(tjk) == 3 and not tjk["transformation"].any() and (tjk["level_to"] == "member").all()
    assert event_counts(record, upto=2012.4)["changes"].sum() == len(choice_events(record, upto=2012.4))


def test_summit_years_are_annual_and_skip_years_without_a_meeting(record):
    sy = summit_years(record)
    assert len(sy) == 70 and sy["choice"].sum() == 10
    c51 = sy[(sy["state"] == "TKM") & (sy["lineage"] == "C5+1")]
    assert c51["year"].tolist() == [2016, 2020, 2021, 2022, 2023]  # 2017-2019: no meeting in 2017 or 2018
    assert c51.iloc[0][["level_from", "level_to", "choice"]].tolist() == ["member", "partial", True]
    assert not {"C5+1", "CA-China", "CA-Russia", "EU-CA"} & set(cell_quarters(record)["lineage"])
    with_att = event_counts(record, upto=2022.83, attendance=True).groupby("kind")[["up", "down", "cell_years"]].sum()
    assert with_att.loc["summit_format", ["up", "down"]].tolist() == [1 + 1, 5]
    assert with_att.loc["summit_format", "cell_years"] == pytest.approx(55 + 18.23, abs=0.005)


def tiny(tmp_path):
    """A: none 2000-2001 then member (choice); B: member 2000-2002, then the organisation ends; observed to 2003."""
    return load_record(write(tmp_path, [
        ("AAA", "X", "regional_organisation", "none", "2000.0", "2001.0", "yes"),
        ("AAA", "X", "regional_organisation", "member", "2001.0", "", ""),
        ("BBB", "X", "regional_organisation", "member", "2000.0", "2002.0", "no"),
        ("AAA", "S", "summit_format", "member", "2000", "2001", ""),
        ("AAA", "S", "summit_format", "partial", "2001", "2002", ""),
        ("AAA", "S", "summit_format", "partial", "2002", "2003", ""),
    ]), observed_to=2003.0)


def test_jeffreys_hazards_equal_the_hand_formula(tmp_path):
    rec = tiny(tmp_path)
    q = cell_quarters(rec)
    assert q.groupby("state")["at_risk"].sum().to_dict() == {"AAA": 12, "BBB": 8}
    hz = JeffreysHazards.fit(q, upto=2003.0)
    # from none: 3 stays and 1 move to member (quarter 2000.75); from member: A 8 + B 7 stays (B's last quarter,
    # 2001.75, is the organisation's end: not counted)
    np.testing.assert_array_equal(hz.counts["regional_organisation"], [[3, 0, 1], [0, 0, 0], [0, 0, 15]])
    p = hz.matrix("regional_organisation")
    np.testing.assert_allclose(p[0], np.array([3.5, 0.5, 1.5]) / 5.5)
    np.testing.assert_allclose(p[1], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(p[2], np.array([0.5, 0.5, 15.5]) / 16.5)
    np.testing.assert_allclose(hz.predict("none", "regional_organisation", steps=4),
                               np.linalg.matrix_power(p, 4)[0])
    np.testing.assert_allclose(hz.predict(np.array([2, 0]), "regional_organisation", 2),
                               (p @ p)[[2, 0]])
    np.testing.assert_allclose(hz.matrix("economic_union"), np.full((3, 3), 1 / 3))  # never seen: uniform
    # an origin: fitted on quarters ending by 2000.75 sees only A's 3 none-stays and B's 3 member-stays
    early = JeffreysHazards.fit(q, upto=2000.75)
    np.testing.assert_array_equal(early.counts["regional_organisation"], [[3, 0, 0], [0, 0, 0], [0, 0, 3]])
    # summit rows are annual: one step a year
    yr = JeffreysHazards.fit(summit_years(rec), upto=2003)
    assert yr.step == 1.0
    np.testing.assert_array_equal(yr.counts["summit_format"], [[0, 0, 0], [0, 1, 0], [0, 1, 0]])
    np.testing.assert_allclose(yr.predict("member", "summit_format"), np.array([0.5, 1.5, 0.5]) / 2.5)


def test_jeffreys_probabilities_on_the_record_sum_to_one_and_are_positive(record):
    hz = JeffreysHazards.fit(cell_quarters(record), upto=2017.0)
    assert set(hz.counts) == {"security_alliance", "economic_union", "regional_organisation", "summit_format"}
    for kind in hz.counts:
        for steps in (1, 4, 20):
            m = hz.matrix(kind, steps)
            np.testing.assert_allclose(m.sum(axis=1), 1.0)
            assert (m > 0).all()
    # no economic-union member has left: only the Jeffreys half-counts move a member down
    n = hz.counts["economic_union"]
    assert n[2, 0] == n[2, 1] == 0 and n[2, 2] > 50
    assert hz.matrix("economic_union")[2, 0] == pytest.approx(0.5 / (n[2, 2] + 1.5))


def test_log_score_and_brier_on_hand_cases():
    probs = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    assert log_score(probs, [2, 0]) == pytest.approx((math.log(0.5) + math.log(0.1)) / 2)
    assert log_score(probs, ["member", "none"]) == pytest.approx((math.log(0.5) + math.log(0.1)) / 2)
    b1 = 0.2**2 + 0.3**2 + 0.5**2
    b2 = 0.9**2 + 0.1**2 + 0.8**2
    assert brier(probs, [2, 0]) == pytest.approx((b1 + b2) / 2)
    assert brier(np.array([0.0, 0.0, 1.0]), [2]) == 0.0
    assert brier(np.array([1.0, 0.0, 0.0]), [2]) == 2.0
    assert log_score(np.full((1, 3), 1 / 3), [1]) == pytest.approx(-math.log(3))


def test_churn_interval_is_the_gamma_quantiles():
    lo, hi = churn_interval(4, 98.0, 16.25)
    assert lo == pytest.approx(stats.gamma.ppf(0.05, 4.5) / 98.0 * 16.25)
    assert hi == pytest.approx(stats.gamma.ppf(0.95, 4.5) / 98.0 * 16.25)
    # zero changes: shape 1/2 (chi-square with 1 degree of freedom / 2)
    lo0, hi0 = churn_interval(0, 100.0, 10.0, level=0.8)
    assert lo0 == pytest.approx(stats.chi2.ppf(0.1, 1) / 2 / 100 * 10)
    assert hi0 == pytest.approx(stats.chi2.ppf(0.9, 1) / 2 / 100 * 10)


def test_record_churn_for_the_baseline_cells(record):
    cells = baseline_cells()
    assert len(cells["security_alliance"]) == 5 and len(cells["economic_union"]) == 5
    assert len(cells["regional_organisation"]) == 14 and "TJK:OTS" not in cells["regional_organisation"]
    assert len(cells["summit_format"]) == 20
    churn = record_churn_3y(record, upto=2022.83)
    # a change counts under the kind of the period its quarter starts in (PROTOCOL 9b; PROTOCOL 10 item 3)
    counts = event_counts(record, upto=2022.83, attendance=True, scored_kind=True).groupby("kind")[
        ["up", "down", "cell_years"]].sum()
    # the summit kind reads the attendance rows of the five only (PROTOCOL 9b), not the GUAM forum spells
    forum = event_counts(record, upto=2022.83, scored_kind=True).groupby("kind")[["up", "down", "cell_years"]].sum()
    counts.loc["summit_format"] -= forum.loc["summit_format"]
    for kind, c in churn.items():
        changes = int(counts.loc[kind, "up"] + counts.loc[kind, "down"])
        assert c["changes"] == changes and c["cell_years"] == pytest.approx(counts.loc[kind, "cell_years"])
        assert c["time_at_risk"] == len(cells[kind]) * 13 / 4
        lo, hi = c["interval"]
        assert lo == pytest.approx(stats.gamma.ppf(0.05, changes + 0.5) / c["cell_years"] * c["time_at_risk"])
        assert hi == pytest.approx(stats.gamma.ppf(0.95, changes + 0.5) / c["cell_years"] * c["time_at_risk"])
        assert 0 < lo < c["rate_per_cell_year"] * c["time_at_risk"] < hi
    # Armenia's EAEU accession of 2 Jan 2015 counts as a regional-organisation change (its quarter starts in the
    # EurAsEC period): 8, 3, 22, 6 (record.md's rule gave 8, 4, 21, 6)
    assert [churn[k]["changes"] for k in churn] == [8, 3, 22, 6]
    assert churn["summit_format"]["cell_years"] == pytest.approx(55.0)  # 55 scored attendance years of the five
    assert churn["regional_organisation"]["same_level_changes"] == 2


BASE = [("AAA", "X", "regional_organisation", "none", "2000.0", "2001.5", "yes"),
        ("AAA", "X", "regional_organisation", "member", "2001.5", "", "")]


@pytest.mark.parametrize(("rows", "where", "words"), [
    ([BASE[0], ("AAA", "X", "regional_organisation", "member", "2001.75", "", "")], "row 3.start", "gap"),
    ([BASE[0], ("AAA", "X", "regional_organisation", "member", "2001.25", "", "")], "row 3.start", "overlap"),
    ([BASE[0], ("AAA", "X", "regional_organisation", "observer", "2001.5", "", "")], "row 3.level", "unknown level"),
    ([BASE[0], ("AAA", "X", "customs_union", "member", "2001.5", "", "")], "row 3.kind", "unknown kind"),
    ([BASE[0][:6] + ("maybe",), BASE[1]], "row 2.end_is_choice", "not yes, no or blank"),
    ([BASE[0][:6] + ("",), BASE[1]], "row 2.end_is_choice", "closed spell needs"),
    ([BASE[0][:5] + ("", ""), BASE[1]], "row 2.end", "only the last spell"),
    ([BASE[0][:4] + ("2000.x",) + BASE[0][5:], BASE[1]], "row 2.start", "not a decimal year"),
    ([BASE[0][:5] + ("1999.0", "yes"), BASE[1]], "row 2.end", "not after start"),
    ([BASE[0], BASE[1][:5] + ("2003.0", "yes")], "row 3.end_is_choice", "no spell follows"),
    ([BASE[1][:4] + ("2001.5", "", "yes")], "row 2.end_is_choice", "open spell"),
    ([("AAA", "S", "summit_format", "member", "2015.5", "2016.5", "")], "row 2.start", "one year"),
    ([("AAA", "S", "summit_format", "member", "2015", "2017", "")], "row 2.end", "one year"),
    ([("AAA", "S", "summit_format", "member", "2015", "2016", ""),
      ("AAA", "S", "summit_format", "partial", "2015", "2016", "")], "row 3.start", "given twice"),
    ([("AAA", "S", "summit_format", "member", "2015", "2016", ""),
      ("AAA", "S", "summit_format", "member", "2016", "", "")], "row 2.end_is_choice", "mixes"),
])
def test_a_bad_record_names_the_row_and_column(tmp_path, rows, where, words):
    path = write(tmp_path, rows)
    with pytest.raises(ScenarioError) as err:
        load_record(path)
    assert str(err.value).startswith(f"{path}: {where}: ") and words in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_a_bad_record_file_as_a_whole(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_record(tmp_path / "none.csv")
    bad = tmp_path / "cols.csv"
    bad.write_text("state,lineage,level\nAAA,X,none\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"row 1: missing column\(s\) kind, start"):
        load_record(bad)


def test_a_user_can_correct_a_spell(tmp_path, record):
    """A corrected copy of the shipped file is read as the data: moving Kazakhstan's EAEU customs-union start by a
    quarter changes the exposure and nothing else."""
    rows = list(csv.reader(RECORD_PATH.open(encoding="utf-8")))
    for r in rows[1:]:
        if r[0] == "KAZ" and r[1] == "EAEU" and r[4] == "1995.05":
            r[4] = "1995.3"
    path = tmp_path / "corrected.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    mine = load_record(path)
    assert mine.file == str(path)
    diff = (event_counts(record).groupby("kind")["cell_years"].sum()
            - event_counts(mine).groupby("kind")["cell_years"].sum())
    assert diff["regional_organisation"] == pytest.approx(0.25) and diff.drop("regional_organisation").abs().max() < 1e-9
    assert len(choice_events(mine)) == 36
