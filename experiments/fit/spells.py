"""The dated record (`model/data/panel/record.csv`) as the cell panel the estimation and the scores read (issue 17;
docs/validation/PROTOCOL.md sections 2, 6, 7b and 9).

A **cell** is (state, lineage). Institution spells tile each cell's time from its first start; the status at a date
t is the level of the spell with start <= t < end. The quarterly panel (`cell_quarters`) reads the status at the
start of every quarter: a quarter [t, t + 1/4) goes from `level_from` (at t) to `level_to` (at t + 1/4). A quarter
in which a spell ends with `end_is_choice = no` (the organisation ended or changed kind) is a *transformation*: the
status after it is imposed, not scored. Summit attendance rows are annual (`summit_years`): year Y goes from the
level of Y - 1 to that of Y; a year without a meeting in Y - 1 or Y has no row.

Benchmarks and scores: `JeffreysHazards` (free hazards by kind and from-level, P_ij = (n_ij + 1/2) / (n_i + m/2),
m = 3 levels, per quarter or per year, composed by matrix power), `log_score`, `brier` (PROTOCOL 6) and the record's
churn interval per kind (`churn_interval`, `record_churn_3y`: Jeffreys posterior Gamma(changes + 1/2, rate =
cell-years at risk) times the cells' time at risk, 90%).

Vintage rule: every function taking `upto=Y` first cuts the record at Y (`Record.upto`): spells starting after Y are
dropped and a spell ending after Y is open at Y, so nothing after Y is seen. Attendance of year Y is dated Y.0 (the
record writes it as the spell [Y, Y + 1)) and is seen by an origin at or after Y.0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from greatgame.model.files import BASELINE, DATA_DIR
from greatgame.model.yamlio import ScenarioError, read_yaml
from scipy import stats

RECORD_PATH = DATA_DIR / "panel" / "record.csv"
COLUMNS = ("state", "lineage", "kind", "level", "start", "end", "end_is_choice", "source", "lineage_kind_note")
LEVELS = ("none", "partial", "member")
"""Level codes 0, 1, 2 (the model's `Level`)."""
KINDS = ("security_alliance", "economic_union", "regional_organisation", "summit_format")
"""The four kinds of PROTOCOL section 2 (issue 17 `churn_3y_by_kind`)."""
FORMAT_KIND = {"security_alliance": "security_alliance", "economic_union": "economic_union",
               "regional_organisation": "regional_organisation", "dialogue_platform": "summit_format"}
"""A scenario format's `kind` -> the record's kind (a dialogue platform is a summit format)."""
MODEL_KIND = {record: model for model, record in FORMAT_KIND.items()}
"""The record's kind -> a scenario format's `kind` (the inverse of FORMAT_KIND)."""
OBSERVED_TO = 2023.0
"""The record describes statuses to the end of 2022 (record.md: events after 2022 are not spells): cells are at risk
to 2023.0 (PROTOCOL 2)."""
QUARTER = 0.25
BASELINE_START = 2022.83
"""Default origin of the 2022 baseline's churn interval (the lead's brief for issue 17 item 5)."""
CHURN_QUARTERS = 13
"""Horizon of `churn_3y_by_kind`: 13 quarters (issue 17 item 5)."""
_EPS = 1e-9


@dataclass(frozen=True)
class Record:
    """The validated record. `spells`: one row per institution spell (state, lineage, kind, level as code 0-2,
    start, end (NaN = open), end_is_choice 'yes'/'no'/'', row = the file's row number), sorted by series and start.
    `attendance`: one row per summit attendance row (state, lineage, year, level code, row). `observed_to`: the
    date to which open spells are observed."""

    spells: pd.DataFrame
    attendance: pd.DataFrame
    observed_to: float = OBSERVED_TO
    file: str = str(RECORD_PATH)

    def upto(self, year: float | None) -> Record:
        """The record as known at `year`: spells starting after it dropped, spells ending after it open, attendance
        of later years dropped, observed to min(observed_to, year)."""
        if year is None or year >= self.observed_to:
            return self
        sp = self.spells[self.spells["start"] < year].copy()
        late = sp["end"].to_numpy() > year
        sp.loc[late, "end"] = np.nan
        sp.loc[late, "end_is_choice"] = ""
        att = self.attendance[self.attendance["year"] <= year]
        return Record(sp.reset_index(drop=True), att.reset_index(drop=True), float(year), self.file)


def _bad(file: str, row: int, column: str, reason: str) -> ScenarioError:
    return ScenarioError(file, f"row {row}.{column}", reason)


def _number(text: str, file: str, row: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(file, row, column, f"'{text}' is not a decimal year") from None
    if not math.isfinite(value) or not 1900.0 <= value <= 2200.0:
        raise _bad(file, row, column, f"{text} is not a decimal year between 1900 and 2200")
    return value


def load_record(path: str | Path | None = None, observed_to: float = OBSERVED_TO) -> Record:
    """Read and validate the record (default: the shipped `model/data/panel/record.csv`). Rows are numbered as a
    spreadsheet shows them (the header is row 1). Checks: the columns; levels none/partial/member; the four kinds;
    end_is_choice yes/no/blank; dates; summit attendance rows (kind summit_format, an end and a blank
    end_is_choice) annual (start a whole year, end = start + 1, a year at most once per series); every other series
    (state, lineage) tiles without gap or overlap from its first start, only its last spell open, a closed spell
    ending yes or no, a closed last spell ending no. Bad input raises ScenarioError(file, 'row N.column', reason)."""
    path = Path(path) if path is not None else RECORD_PATH
    file = str(path)
    if not path.is_file():
        raise ScenarioError(file, "", "file not found" if not path.exists() else "not a regular file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(file, "", f"not UTF-8 text (offset {exc.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(file, "", f"not a readable CSV table ({exc})") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ScenarioError(file, "row 1", f"missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    spells, attendance = [], []
    for i, r in enumerate(raw.itertuples(index=False), start=2):
        rec = {c: str(getattr(r, c)).strip() for c in ("state", "lineage", "kind", "level", "start", "end",
                                                        "end_is_choice")}
        for col in ("state", "lineage"):
            if not rec[col]:
                raise _bad(file, i, col, "empty")
        if rec["kind"] not in KINDS:
            raise _bad(file, i, "kind", f"unknown kind '{rec['kind']}'; known: {', '.join(KINDS)}")
        if rec["level"] not in LEVELS:
            raise _bad(file, i, "level", f"unknown level '{rec['level']}'; known: {', '.join(LEVELS)}")
        if rec["end_is_choice"] not in ("yes", "no", ""):
            raise _bad(file, i, "end_is_choice", f"'{rec['end_is_choice']}' is not yes, no or blank")
        start = _number(rec["start"], file, i, "start")
        end = _number(rec["end"], file, i, "end") if rec["end"] else math.nan
        if end <= start:
            raise _bad(file, i, "end", f"end {rec['end']} is not after start {rec['start']}")
        row = {"state": rec["state"], "lineage": rec["lineage"], "level": LEVELS.index(rec["level"]), "row": i}
        if rec["kind"] == "summit_format" and rec["end"] and not rec["end_is_choice"]:
            if start != round(start) or abs(end - start - 1.0) > _EPS:
                raise _bad(file, i, "end" if start == round(start) else "start",
                           f"a summit attendance row covers one year (start a whole year, end = start + 1); "
                           f"got {rec['start']} to {rec['end']}")
            attendance.append({**row, "year": int(round(start))})
        else:
            if rec["end"] and not rec["end_is_choice"]:
                raise _bad(file, i, "end_is_choice", "a closed spell needs yes (the state's act) or no (the "
                                                     "organisation ended or changed)")
            if not rec["end"] and rec["end_is_choice"]:
                raise _bad(file, i, "end_is_choice", f"'{rec['end_is_choice']}' given for an open spell (no end)")
            spells.append({**row, "kind": rec["kind"], "start": start, "end": end,
                           "end_is_choice": rec["end_is_choice"]})
    sp = pd.DataFrame(spells, columns=["state", "lineage", "kind", "level", "start", "end", "end_is_choice", "row"])
    att = pd.DataFrame(attendance, columns=["state", "lineage", "year", "level", "row"])
    _check_series(sp, att, file)
    sp = sp.sort_values(["state", "lineage", "start"], kind="stable").reset_index(drop=True)
    att = att.sort_values(["state", "lineage", "year"], kind="stable").reset_index(drop=True)
    sp["level"] = sp["level"].astype(np.int64)
    att["level"] = att["level"].astype(np.int64)
    att["year"] = att["year"].astype(np.int64)
    return Record(sp, att, float(observed_to), file)


def _check_series(sp: pd.DataFrame, att: pd.DataFrame, file: str) -> None:
    """Tiling of the spell series, one row per year in attendance series, no series of both sorts."""
    both = set(zip(sp["state"], sp["lineage"], strict=True)) & set(zip(att["state"], att["lineage"], strict=True))
    if both:
        state, lineage = sorted(both)[0]
        row = int(att[(att["state"] == state) & (att["lineage"] == lineage)]["row"].min())
        raise _bad(file, row, "end_is_choice", f"{state} {lineage} mixes annual attendance rows with spells (a "
                                               f"spell's end needs yes or no)")
    dup = att[att.duplicated(["state", "lineage", "year"], keep="first")]
    if len(dup):
        r = dup.iloc[0]
        raise _bad(file, int(r["row"]), "start", f"{r['state']} {r['lineage']} attendance of {r['year']} given twice")
    for (state, lineage), seq in sp.sort_values("start", kind="stable").groupby(["state", "lineage"], sort=False):
        starts, ends = seq["start"].to_numpy(), seq["end"].to_numpy()
        rows, how = seq["row"].to_numpy(), seq["end_is_choice"].to_numpy()
        for k in range(len(seq) - 1):
            if math.isnan(ends[k]):
                raise _bad(file, int(rows[k]), "end", f"only the last spell of {state} {lineage} may be open; the "
                                                      f"spell from {starts[k]:g} is followed by one from "
                                                      f"{starts[k + 1]:g} (row {rows[k + 1]})")
            if ends[k] < starts[k + 1] - _EPS:
                raise _bad(file, int(rows[k + 1]), "start", f"gap in {state} {lineage}: the spell before (row "
                                                            f"{rows[k]}) ends {ends[k]:g}, this one starts "
                                                            f"{starts[k + 1]:g}")
            if ends[k] > starts[k + 1] + _EPS:
                raise _bad(file, int(rows[k + 1]), "start", f"overlap in {state} {lineage}: the spell before (row "
                                                            f"{rows[k]}) ends {ends[k]:g}, this one starts "
                                                            f"{starts[k + 1]:g}")
        if not math.isnan(ends[-1]) and how[-1] != "no":
            raise _bad(file, int(rows[-1]), "end_is_choice", f"the last spell of {state} {lineage} ends by choice "
                                                             f"but no spell follows (give the status after "
                                                             f"{ends[-1]:g})")


def _level_names(codes: np.ndarray) -> np.ndarray:
    names = np.array(LEVELS + ("",), dtype=object)
    return names[np.where(codes < 0, 3, codes)]


def _quarter_of_end(ends: np.ndarray) -> np.ndarray:
    """Quarter index k (t = k/4) of the quarter [t, t + 1/4) in which a change dated `ends` falls: t < end <= t + 1/4."""
    return np.ceil(np.round(ends * 4.0, 6)).astype(np.int64) - 1


def cell_quarters(record: Record, upto: float | None = None) -> pd.DataFrame:
    """One row per (state, lineage, quarter) of the institution spells, from the record's first quarter to the last
    quarter ending by min(upto, observed_to): state, lineage, kind (of the spell covering t; '' if none), t (decimal
    year of the quarter's start), level_from / level_to (status at t / at t + 1/4, '' if none), i_from / i_to (the
    same as codes 0-2, -1 if none), at_risk (a spell covers t: the cell exists from its first spell),
    transformation (a spell of the cell ends with end_is_choice = no in (t, t + 1/4], or the cell ends: imposed,
    not scored), choice (at risk, level_to != level_from, not a transformation)."""
    rec = record.upto(upto)
    sp = rec.spells
    cols = ["state", "lineage", "kind", "t", "level_from", "level_to", "i_from", "i_to", "at_risk", "transformation",
            "choice"]
    if sp.empty:
        return pd.DataFrame(columns=cols)
    series = sp[["state", "lineage"]].drop_duplicates().reset_index(drop=True)
    sid_of_spell = pd.MultiIndex.from_frame(series).get_indexer(pd.MultiIndex.from_frame(sp[["state", "lineage"]]))
    k0 = int(math.floor(round(sp["start"].min() * 4.0, 6)))
    k1 = int(math.floor(round(rec.observed_to * 4.0, 6)))  # quarters k0 .. k1 - 1 end by observed_to
    nq, ns = max(k1 - k0, 0), len(series)
    ks = np.arange(k0, k0 + nq)
    starts, ends = sp["start"].to_numpy(), sp["end"].to_numpy()
    ends_open = np.where(np.isnan(ends), np.inf, ends)
    big = 10_000.0
    key = sid_of_spell * big + starts  # sorted: spells are sorted by series then start
    order = np.argsort(key, kind="stable")
    key, starts_o, ends_o, sid_o = key[order], starts[order], ends_open[order], sid_of_spell[order]
    levels_o, kinds_o = sp["level"].to_numpy()[order], sp["kind"].to_numpy()[order]

    def status(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q_sid = np.repeat(np.arange(ns), len(times))
        q_t = np.tile(times, ns)
        idx = np.searchsorted(key, q_sid * big + q_t + _EPS, side="right") - 1
        ok = idx >= 0
        idx_c = np.clip(idx, 0, None)
        ok &= (sid_o[idx_c] == q_sid) & (starts_o[idx_c] <= q_t + _EPS) & (q_t < ends_o[idx_c] - _EPS)
        return np.where(ok, levels_o[idx_c], -1), np.where(ok, idx_c, -1)

    t = ks / 4.0
    i_from, spell_at = status(t)
    i_to, _ = status(t + QUARTER)
    trans = np.zeros((ns, nq), dtype=bool)
    no = (sp["end_is_choice"].to_numpy() == "no") & ~np.isnan(ends)
    if no.any():
        k = _quarter_of_end(ends[no]) - k0
        inside = (k >= 0) & (k < nq)
        trans[sid_of_spell[no][inside], k[inside]] = True
    at_risk = i_from >= 0
    trans = trans.ravel() | (at_risk & (i_to < 0))
    kind = np.where(spell_at >= 0, kinds_o[np.clip(spell_at, 0, None)], "")
    out = pd.DataFrame({
        "state": np.repeat(series["state"].to_numpy(), nq), "lineage": np.repeat(series["lineage"].to_numpy(), nq),
        "kind": kind, "t": np.tile(t, ns), "level_from": _level_names(i_from), "level_to": _level_names(i_to),
        "i_from": i_from, "i_to": i_to, "at_risk": at_risk, "transformation": trans & at_risk,
        "choice": at_risk & ~trans & (i_to != i_from)})
    return out[cols]


def summit_years(record: Record, upto: float | None = None) -> pd.DataFrame:
    """One row per (state, lineage, year Y) of the summit attendance whose years Y - 1 and Y both had a meeting
    (other years absent: PROTOCOL 2), Y <= upto: state, lineage, kind ('summit_format'), year, level_from (Y - 1),
    level_to (Y), i_from, i_to, choice (level_to != level_from)."""
    att = record.upto(upto).attendance
    prev = att.assign(year=att["year"] + 1)[["state", "lineage", "year", "level"]]
    df = att.merge(prev, on=["state", "lineage", "year"], suffixes=("_to", "_from"))
    df = df.sort_values(["state", "lineage", "year"]).reset_index(drop=True)
    i_from, i_to = df["level_from"].to_numpy(np.int64), df["level_to"].to_numpy(np.int64)
    return pd.DataFrame({"state": df["state"], "lineage": df["lineage"], "kind": "summit_format", "year": df["year"],
                         "level_from": _level_names(i_from), "level_to": _level_names(i_to), "i_from": i_from,
                         "i_to": i_to, "choice": i_from != i_to})


def choice_events(record: Record, upto: float | None = None) -> pd.DataFrame:
    """One row per spell ended by the state's act (end_is_choice = yes) by min(upto, observed_to): state, lineage,
    date, level_from, level_to, direction (up / down / same: a change of status within a level, such as dialogue
    partner -> observer), kind (record.md's rule: the kind of the spell entered for an up move, of the spell left
    otherwise) and kind_scored (PROTOCOL 2's rule: the kind of the period the quarter of the change starts in)."""
    rec = record.upto(upto)
    sp = rec.spells
    nxt = sp.groupby(["state", "lineage"], sort=False).shift(-1)
    ev = (sp["end_is_choice"] == "yes").to_numpy() & nxt["level"].notna().to_numpy()
    left, entered = sp[ev], nxt[ev]
    lf, lt = left["level"].to_numpy(np.int64), entered["level"].to_numpy(np.int64)
    direction = np.where(lt > lf, "up", np.where(lt < lf, "down", "same"))
    out = pd.DataFrame({"state": left["state"].to_numpy(), "lineage": left["lineage"].to_numpy(),
                        "date": left["end"].to_numpy(), "level_from": _level_names(lf), "level_to": _level_names(lt),
                        "direction": direction,
                        "kind": np.where(direction == "up", entered["kind"].to_numpy(), left["kind"].to_numpy())})
    if out.empty:
        return out.assign(kind_scored=pd.Series(dtype=object))
    q = cell_quarters(rec)
    q = q[q["at_risk"]].set_index(["state", "lineage", "t"])["kind"]
    t_start = (_quarter_of_end(out["date"].to_numpy()) / 4.0)
    out["kind_scored"] = q.reindex(pd.MultiIndex.from_arrays([out["state"], out["lineage"], t_start])).to_numpy()
    return out.reset_index(drop=True)


def exposure(record: Record, upto: float | None = None) -> pd.DataFrame:
    """Cell-years at risk of the institution spells by state and kind: the sum of each spell's duration from its
    start to min(end, upto, observed_to). Columns state, kind, cell_years."""
    rec = record.upto(upto)
    sp = rec.spells
    end = np.fmin(np.where(np.isnan(sp["end"].to_numpy()), np.inf, sp["end"].to_numpy()), rec.observed_to)
    years = np.clip(end - sp["start"].to_numpy(), 0.0, None)
    return (sp.assign(cell_years=years).groupby(["state", "kind"], as_index=False)["cell_years"].sum())


def event_counts(record: Record, upto: float | None = None, attendance: bool = False,
                 scored_kind: bool = False) -> pd.DataFrame:
    """Choice changes by state and kind (record.md's kind rule, `choice_events`; `scored_kind`: PROTOCOL 9b's, the
    kind of the period the change's quarter starts in), as columns up, down, same (same-level status changes) and
    changes (their sum), with the exposure `cell_years` (`exposure`) of that state in that kind; one row per
    (state, kind) with exposure or changes. attendance=True adds the summit attendance transitions (`summit_years`:
    each scored year one cell-year, each level change an up or down) to the summit_format rows."""
    ev = choice_events(record, upto)
    if scored_kind and not ev.empty:
        ev = ev.assign(kind=ev["kind_scored"])
    counts = (ev.groupby(["state", "kind", "direction"]).size().unstack("direction", fill_value=0)
              .reindex(columns=["up", "down", "same"], fill_value=0).reset_index())
    exp = exposure(record, upto)
    if attendance:
        sy = summit_years(record, upto)
        d = np.sign(sy["i_to"] - sy["i_from"])
        att = sy.assign(up=(d > 0).astype(int), down=(d < 0).astype(int), same=0, cell_years=1.0)
        att = att.groupby(["state", "kind"], as_index=False)[["up", "down", "same", "cell_years"]].sum()
        counts = pd.concat([counts, att.drop(columns="cell_years")]).groupby(["state", "kind"], as_index=False).sum()
        exp = pd.concat([exp, att[["state", "kind", "cell_years"]]]).groupby(["state", "kind"], as_index=False).sum()
    out = exp.merge(counts, on=["state", "kind"], how="outer")
    out[["up", "down", "same"]] = out[["up", "down", "same"]].fillna(0).astype(np.int64)
    out["cell_years"] = out["cell_years"].fillna(0.0)
    out["changes"] = out["up"] + out["down"] + out["same"]
    return out[["state", "kind", "up", "down", "same", "changes", "cell_years"]].sort_values(
        ["state", "kind"]).reset_index(drop=True)


@dataclass
class JeffreysHazards:
    """Free hazards by kind and from-level (PROTOCOL 7b): per step (a quarter, or a year for summit attendance rows)
    P(i -> j) = (n_ij + 1/2) / (n_i + m/2) over the m = 3 levels, n counted on the training rows (at risk, not a
    transformation); a horizon of k steps is the matrix power P^k. A kind never seen gets the uniform matrix."""

    step: float = QUARTER
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    upto: float | None = None

    @classmethod
    def fit(cls, panel: pd.DataFrame, upto: float | None = None) -> JeffreysHazards:
        """Count transitions in a `cell_quarters` frame (step a quarter; rows ending by upto) or a `summit_years`
        frame (step a year; years <= upto)."""
        if "t" in panel.columns:
            step, end = QUARTER, panel["t"].to_numpy(float) + QUARTER
            use = panel["at_risk"].to_numpy(bool) & ~panel["transformation"].to_numpy(bool)
        elif "year" in panel.columns:
            step, end = 1.0, panel["year"].to_numpy(float)
            use = np.ones(len(panel), dtype=bool)
        else:
            raise ValueError("fit needs a cell_quarters frame (column t) or a summit_years frame (column year)")
        if upto is not None:
            use &= end <= upto + _EPS
        df = panel[use]
        counts = {}
        for kind, g in df.groupby("kind"):
            n = np.zeros((3, 3))
            np.add.at(n, (g["i_from"].to_numpy(np.int64), g["i_to"].to_numpy(np.int64)), 1.0)
            counts[str(kind)] = n
        return cls(step, counts, upto)

    def matrix(self, kind: str, steps: int = 1) -> np.ndarray:
        """The (3, 3) transition matrix of `kind` over `steps` steps (rows from-level, columns to-level)."""
        n = self.counts.get(kind, np.zeros((3, 3)))
        p = (n + 0.5) / (n.sum(axis=1, keepdims=True) + 3 / 2)
        return np.linalg.matrix_power(p, int(steps))

    def predict(self, level_from: int | str | Sequence | np.ndarray, kind: str, steps: int = 1) -> np.ndarray:
        """Probabilities of none / partial / member after `steps` steps from `level_from` (a level name or code, or
        an array of codes: then (n, 3))."""
        if isinstance(level_from, str):
            level_from = LEVELS.index(level_from)
        return self.matrix(kind, steps)[np.asarray(level_from, dtype=np.int64)]


def _observed_codes(observed: Sequence | np.ndarray) -> np.ndarray:
    obs = np.asarray(observed)
    if obs.dtype.kind in "OUS":
        obs = np.array([LEVELS.index(str(o)) for o in obs])
    return obs.astype(np.int64)


def log_score(probs: np.ndarray, observed: Sequence | np.ndarray) -> float:
    """Mean over cell-years of ln P(observed level) (PROTOCOL 6); probs (n, 3), observed (n,) codes or names."""
    p = np.asarray(probs, dtype=float).reshape(-1, 3)
    obs = _observed_codes(observed)
    return float(np.mean(np.log(p[np.arange(len(obs)), obs])))


def brier(probs: np.ndarray, observed: Sequence | np.ndarray) -> float:
    """Mean over cell-years of sum_k (P_k - 1[k observed])^2 over the three levels (PROTOCOL 6)."""
    p = np.asarray(probs, dtype=float).reshape(-1, 3)
    obs = _observed_codes(observed)
    return float(np.mean(np.sum((p - np.eye(3)[obs]) ** 2, axis=1)))


def churn_interval(changes: float, cell_years_at_risk: float, time_at_risk: float,
                   level: float = 0.90) -> tuple[float, float]:
    """Central `level` interval of the expected number of changed cells: rate ~ Gamma(shape = changes + 1/2, rate =
    cell_years_at_risk) (the Jeffreys posterior of a Poisson rate) times time_at_risk (cell-years of the cells in
    question)."""
    lo, hi = stats.gamma.ppf([(1 - level) / 2, (1 + level) / 2], a=changes + 0.5, scale=1.0 / cell_years_at_risk)
    return float(lo * time_at_risk), float(hi * time_at_risk)


def baseline_cells(scenario: str | Path | None = None) -> dict[str, list[str]]:
    """The baseline's state x format cells by record kind ('STATE:FORMAT'), read from the scenario's formats
    (`kind`, `eligible`, `eligible_turkic_only`) and states (`turkic`): a state not eligible for a format (Tajikistan
    in the OTS) has no cell there, as in the model (only `none` allowed)."""
    data = read_yaml(scenario or BASELINE)
    cells: dict[str, list[str]] = {k: [] for k in KINDS}
    for code, f in data["formats"].items():
        for state, spec in data["states"].items():
            ok = f.get("eligible", "all") == "all" or state in f["eligible"]
            ok = ok and (spec.get("turkic", False) or not f.get("eligible_turkic_only", False))
            if ok:
                cells[FORMAT_KIND[f["kind"]]].append(f"{state}:{code}")
    return cells


def record_churn_3y(record: Record, upto: float = BASELINE_START, scenario: str | Path | None = None,
                    level: float = 0.90) -> dict[str, dict]:
    """Per kind, the record's rate of level changes and the `level` interval of the expected number of the
    baseline's cells of that kind whose status changes in 13 quarters (issue 17 `churn_3y_by_kind`). Changes: the
    choice changes up or down (a same-level change is not a change of the model's status), by PROTOCOL 9b's kind
    rule (the kind of the period the change's quarter starts in; record.md's rule until session 7, PROTOCOL 10), to
    `upto`; for summit_format, the attendance transitions of the five only (PROTOCOL 9b: the cells the
    baseline's dialogue platforms stand for; the GUAM forum spells are another institution and are left out). Time
    at risk: number of cells x 13/4 years."""
    cols = ["up", "down", "same", "cell_years"]
    spells_only = event_counts(record, upto, scored_kind=True).groupby("kind")[cols].sum()
    counts = event_counts(record, upto, attendance=True, scored_kind=True).groupby("kind")[cols].sum()
    if "summit_format" in counts.index:  # attendance rows alone: everything minus the spell-based summit rows
        forum = spells_only.loc["summit_format"] if "summit_format" in spells_only.index else 0
        counts.loc["summit_format"] = counts.loc["summit_format"] - forum
    out = {}
    for kind, cells in baseline_cells(scenario).items():
        up, down, same, cy = (counts.loc[kind].tolist() if kind in counts.index else [0, 0, 0, 0.0])
        changes = int(up + down)
        time_at_risk = len(cells) * CHURN_QUARTERS * QUARTER
        lo, hi = churn_interval(changes, cy, time_at_risk, level)
        out[kind] = {"interval": [lo, hi], "rate_per_cell_year": changes / cy, "changes": changes,
                     "same_level_changes": int(same), "cell_years": float(cy), "cells": cells,
                     "time_at_risk": time_at_risk}
    return out
