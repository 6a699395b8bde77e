"""The likelihood of the dated record under the model's own choice functions, and its penalised ML fit (issue 17
item 3; docs/validation/PROTOCOL.md sections 2, 4 and 9b).

**Level values through the model.** For each year Y the record covers, `PanelModel` is a GreatGameModel whose
scenario holds the panel states (the five and ARM AZE BLR GEO MDA UKR) and the record's formats, and whose data are
`covariates.panel_inputs(Y)` (fundamentals, remittances) and the transit routes of Y (`_data_inputs` override). Its
runs are (parameter vector v) x (situation c): a situation is what a quarter of Y starts from, the statuses observed
at its start (`spells.cell_quarters`; summit formats: the attendance of the latest meeting year <= Y) and the events
PROTOCOL 5 imposes (sanctions on Russia 0.3 from 2014Q2, 0.8 from 2022Q1; secondary enforcement 0.2 from 2022Q1; the
Afghan threat 0.3 from 2021Q3, else 0.2 as scenarios/backcast_2017.yaml). The level values V[v, c, s, f, k] are the
model's `derive()`, `update_influence()`, `perceive()` and `level_values()` with the vector's values set as run values;
nothing of the utility is recomputed here. Engagement is the status target (LEVEL_ENGAGEMENT), as at the model's start.

**Transition matrices.** T = `choice.transition_matrix(V, depth = 1, rationality = 1, join = exp(theta_kind,join),
exit = exp(theta_kind,exit), allowed, revision_rate = 0.25)`: the model's switching equation (cost x depth per level
moved) with each format's cost J_f = join x depth_f replaced by its kind's free cost (PROTOCOL 4: switching costs by
kind x direction). The depth stays the format's judgement wherever else the model reads it (institution role, hence
influence and hedging), so the shipped model is untouched.

**Likelihood.** ln L = sum over scored cell-quarters (at risk, not a transformation, ending by `upto`) of
ln T_q[from, to] under the kind of the period the quarter starts in, plus over summit-attendance years Y <= upto of
ln (T_q1 T_q2 T_q3 T_q4)[from, to], the four quarters of Y - 1 (PROTOCOL 2). A quarter of year Y reads the covariates
of year max(Y, 1993) (the panel's first year with growth; 1992 quarters read 1993: a documented judgement, never past
an origin >= 1994).

**Parameters** (`PARAMS`): theta (4 kinds x join/exit; cost = exp(theta)), then the standardised weights b_k of the
terms that vary with covariates: weight_k = b_k / s_k, s_k the standard deviation over the training cell-quarters of
the term's contribution to the member value at unit weight (the root mean square where it is constant: every format
carries consultation 1). Fixed: rationality 1, revision rate 0.25, weights.investment (PROTOCOL 9b), weights.sanctions
1 (the unit of the cost side, a judgement), the partial shares and the doctrine penalties (the v2 values: judgements),
everything else the baseline's. The baseline carries this estimate (scenarios/baseline.yaml): its values of the free
parameters are replaced by each vector's, so they never enter the fit; changing a fixed value there changes it.
Penalty: b ~ N(0, 2^2), theta ~ N(0, 3^2); bounds |b| <= 20, |theta| <= 10.
The restricted model (PROTOCOL 7a) zeroes every utility term (the free weights, weights.sanctions and the doctrine
penalties), so every level value is 0 and only the eight costs act: persistence with base rates by kind.

Judgements of the estimation scenario (`estimation_scenario`), each documented here: formats are the baseline's CIS,
CSTO, SCO, EAEU (the whole customs-union / EurAsEC / EAEU lineage, the baseline's EAEU attributes in every period,
its kind per period from the record), OTS and the four summit formats, plus GUUAM (`GUAM_FORMAT`: a regional
organisation with no member power, consultation only, regional cooperation with its own members, friction as the
OTS); eligibility = the state has a spell or attendance row in that lineage; doctrine: TKM permanent_neutrality and
UZB non_bloc from the first whole year after their founding texts (1995 law -> 1996.0; 2012 Concept -> 2013.0, so
the doctrine never explains the June 2012 CSTO suspension it followed), others none; afghan_border TJK TKM UZB;
turkic KAZ KGZ TKM UZB AZE.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from greatgame.experiments.fit.arms_stock import estimate_delta
from greatgame.experiments.fit.covariates import panel_inputs
from greatgame.experiments.fit.spells import KINDS, MODEL_KIND, QUARTER, Record, cell_quarters, load_record, summit_years
from greatgame.model.choice import LEVEL_ENGAGEMENT, transition_matrix
from greatgame.model.core import GreatGameModel
from greatgame.model.files import BASELINE, SCENARIOS
from greatgame.model.fundamentals import Fundamentals, load_routes
from greatgame.model.migration import RemittanceStart
from greatgame.model.panel import STATES as PANEL_STATES
from greatgame.model.scenario import Scenario, build_scenario
from greatgame.model.yamlio import read_yaml
from scipy.optimize import minimize

POWERS = ("RUS", "CHN", "USA", "EU", "TUR")
LINEAGES = ("CIS", "CSTO", "SCO", "EAEU", "OTS", "GUUAM")
SUMMITS = ("C5+1", "CA-China", "CA-Russia", "EU-CA")
FORMATS = LINEAGES + SUMMITS
GUAM_FORMAT = {
    "name": "GUAM (GUUAM 1999-2005)", "kind": "regional_organisation", "convenors": [], "powers": [],
    "depth": 0.3,  # judgement: as the CIS and the OTS (consensus body, no binding rules)
    "eligible": [], "active": True,
    # judgement: cooperation among its own members (own club), no power's channels (no member power)
    "channels": {"trade": 0.0, "investment": 0.0, "security": 0.0, "energy_transport": 0.0, "migration": 0.0,
                 "regional": 1.0},
    # judgement: consultation only (2001 Yalta Charter, 2006 Kyiv Charter: no binding obligations)
    "obligations": {"collective_defence": 0.0, "supranational": 0.0, "binding_security": 0.0, "consultation": 1.0},
    "costs": {"friction": 0.2, "sanctions_exposure": 0.0},  # judgement: as the OTS
}
AFGHAN_BORDER = ("TJK", "TKM", "UZB")
TURKIC = ("KAZ", "KGZ", "TKM", "UZB", "AZE")
DOCTRINES = {"TKM": ("permanent_neutrality", 1996.0), "UZB": ("non_bloc", 2013.0)}
"""Doctrine and the date from which it holds (the first whole year after the founding text)."""
FIRST_COVARIATE_YEAR = 1993
THREAT = ((2021.5, 0.3), (-math.inf, 0.2))  # (from, level): PROTOCOL 5; 0.2 = scenarios/backcast_2017.yaml
RUS_SANCTIONS = ((2022.0, 0.8), (2014.25, 0.3), (-math.inf, 0.0))  # PROTOCOL 5
SECONDARY = ((2022.0, 0.2), (-math.inf, 0.0))  # scenarios/backcast_2017.yaml's events
REVISION_RATE = 0.25
BASELINE_ORIGIN = 2022.83
THETAS = tuple(f"{kind}.{d}" for kind in KINDS for d in ("join", "exit"))
WEIGHTS = ("weights.trade", "weights.security", "weights.energy_transport", "weights.migration", "weights.regional",
           "weights.friction", "weights.hedging", "obligation_cost.collective_defence",
           "obligation_cost.supranational", "obligation_cost.binding_security", "obligation_cost.consultation")
"""Free utility weights (keys under `parameters`), PROTOCOL 4 less weights.investment (9b)."""
PARAMS = tuple(f"theta.{t}" for t in THETAS) + WEIGHTS
N_THETA = len(THETAS)
THETA_SD, BETA_SD, THETA_BOUND, BETA_BOUND = 3.0, 2.0, 10.0, 20.0
PROFILE_DROP = 1.92
P_FLOOR = 1e-300  # chi2(1) 95% / 2


def _at(schedule: tuple[tuple[float, float], ...], t: float) -> float:
    return next(v for start, v in schedule if t >= start - 1e-9)


def covariate_year(t: float) -> int:
    """The panel year whose covariates a quarter starting at t reads: max(floor(t), 1993)."""
    return max(int(math.floor(t + 1e-9)), FIRST_COVARIATE_YEAR)


def estimation_scenario(year: int, eligible: dict[str, Sequence[str]], states: Sequence[str] = PANEL_STATES,
                        base: str = str(BASELINE), arms_delta: float | None = None) -> Scenario:
    """The scenario of the estimation model for `year`: the baseline's powers and parameters, the panel `states` with
    the doctrine of `year` (DOCTRINES), the formats of FORMATS with `eligible[format]` (states with a record there),
    statuses blank (set per situation), no uncertainty draws, one step. Validated by the model's own
    `build_scenario`, with the panel's state codes allowed (the model's data inputs are replaced by PanelModel)."""
    raw = estimation_raw(year, eligible, states, base, arms_delta)
    return build_scenario(raw, f"<estimation {year}>", known_states=tuple(PANEL_STATES))


def estimation_raw(year: int, eligible: dict[str, Sequence[str]], states: Sequence[str] = PANEL_STATES,
                   base: str = str(BASELINE), arms_delta: float | None = None) -> dict:
    """The unvalidated mapping of `estimation_scenario` (experiments/fit/oos.py edits it for its 5-year runs)."""
    raw = copy.deepcopy(read_yaml(base))
    raw.update(name=f"estimation_{year}", initial_status="blank", steps=1, events=[], uncertainty="fixed")
    if arms_delta is not None:  # the origin's own estimate (PROTOCOL 9b), not the 2022 one the baseline carries
        raw["parameters"]["security"]["arms_depreciation_per_year"] = float(arms_delta)
    raw.pop("description", None)
    raw["states"] = {s: {"doctrine": (DOCTRINES[s][0] if s in DOCTRINES and year >= DOCTRINES[s][1] else "none"),
                         "afghan_border": s in AFGHAN_BORDER, "turkic": s in TURKIC} for s in states}
    formats = {}
    for code in FORMATS:
        f = copy.deepcopy(GUAM_FORMAT if code == "GUUAM" else raw["formats"][code])
        f.update(eligible=[s for s in states if s in eligible.get(code, ())], active=True)
        f.pop("eligible_turkic_only", None)
        formats[code] = f
    raw["formats"] = formats
    return raw


class PanelModel(GreatGameModel):
    """A GreatGameModel whose data are the panel's for `year` (covariates.panel_inputs, trade basis `basis`) instead
    of the shipped start years: everything else (structure, parameters, perception, level values) is the model's."""

    def __init__(self, scenario: Scenario, year: int, runs: int, basis: str = "exporters") -> None:
        self.panel_year, self.panel_basis = int(year), basis
        super().__init__(scenario, runs=runs, steps=1)

    def _data_inputs(self) -> tuple[Fundamentals, tuple[np.ndarray, np.ndarray], RemittanceStart]:
        inputs = panel_inputs(self.panel_year, tuple(self.states), tuple(self.powers), self.panel_basis)
        return inputs.fundamentals, load_routes(self.panel_year, tuple(self.states), tuple(self.powers)), \
            inputs.remittances0


@dataclass
class YearBlock:
    """What one covariate year contributes: its situations (status (C, S, F), threat, RUS sanctions, secondary (C,))
    and its scored rows: quarterly (situation c, state s, format f, kind index, from, to) and summit years (the four
    situations of the year before, s, f, from, to)."""

    year: int
    status: np.ndarray
    threat: np.ndarray
    sanctions: np.ndarray
    secondary: np.ndarray
    quarters: pd.DataFrame
    summits: pd.DataFrame
    models: dict[tuple[int, bool], PanelModel] = field(default_factory=dict)


@dataclass
class Data:
    """The record cut at `upto` as year blocks, with the scenario's eligibility and the weights' scales."""

    upto: float
    blocks: list[YearBlock]
    eligible: dict[str, list[str]]
    states: tuple[str, ...]
    basis: str
    scales: np.ndarray | None = None
    n_rows: int = 0
    provenance: list[tuple[int, tuple]] = field(default_factory=list)
    arms_delta: float | None = None  # the arms-stock decay estimated on SIPRI deliveries <= the origin (PROTOCOL 9b)


def _statuses(q: pd.DataFrame, att: pd.DataFrame, states: tuple[str, ...], times: np.ndarray) -> np.ndarray:
    """(len(times), S, F) status codes at each quarter start: spells' level_from where at risk (else 0); summit
    formats: the attendance of the latest meeting year <= the quarter's year."""
    out = np.zeros((len(times), len(states), len(FORMATS)), dtype=np.int64)
    si, fi = {s: i for i, s in enumerate(states)}, {f: i for i, f in enumerate(FORMATS)}
    tpos = {round(t, 4): i for i, t in enumerate(times)}
    sel = q[q["at_risk"] & q["t"].round(4).isin(list(tpos)) & q["lineage"].isin(LINEAGES) & q["state"].isin(states)]
    out[sel["t"].round(4).map(tpos).to_numpy(), sel["state"].map(si).to_numpy(), sel["lineage"].map(fi).to_numpy()] = \
        sel["i_from"].to_numpy()
    att = att[att["lineage"].isin(SUMMITS) & att["state"].isin(states)]
    for (s, f), g in att.groupby(["state", "lineage"]):
        years, levels = g["year"].to_numpy(), g["level"].to_numpy()
        for i, t in enumerate(times):
            k = np.searchsorted(years, math.floor(t + 1e-9), side="right") - 1
            if k >= 0:
                out[i, si[s], fi[f]] = levels[k]
    return out


def eligibility(rec: Record, states: Sequence[str]) -> dict[str, list[str]]:
    """Per format, the `states` with a spell or an attendance row there in `rec` (the estimation scenario's
    eligibility: module docstring)."""
    out: dict[str, list[str]] = {}
    for f in FORMATS:
        have = set(rec.spells.loc[rec.spells["lineage"] == f, "state"]) | \
            set(rec.attendance.loc[rec.attendance["lineage"] == f, "state"])
        out[f] = [s for s in states if s in have]
    return out


def prepare(upto: float = BASELINE_ORIGIN, record: Record | None = None, states: Sequence[str] = PANEL_STATES,
            basis: str = "exporters") -> Data:
    """Cut the record at `upto` (`Record.upto`: nothing after it is read) and lay out the year blocks."""
    rec = (record or load_record()).upto(upto)
    states = tuple(states)
    q = cell_quarters(rec)
    q = q[q["state"].isin(states) & q["lineage"].isin(LINEAGES)]
    sy = summit_years(rec)
    sy = sy[sy["state"].isin(states) & sy["lineage"].isin(SUMMITS)]
    eligible = eligibility(rec, states)
    scored = q[q["at_risk"] & ~q["transformation"] & (q["t"] + QUARTER <= upto + 1e-9)]
    t_all = np.sort(q["t"].unique())
    t_all = t_all[t_all + QUARTER <= upto + 1e-9]
    years = sorted({covariate_year(t) for t in t_all} | {covariate_year(y - 1.0) for y in sy["year"]})
    blocks, n_rows = [], 0
    si, fi = {s: i for i, s in enumerate(states)}, {f: i for i, f in enumerate(FORMATS)}
    for y in years:
        times = np.array([t for t in t_all if covariate_year(t) == y])
        # summit years Y read the quarters of Y - 1; those quarters must be situations of this block
        need = [y + k * QUARTER for k in range(4)] if (sy["year"] - 1 == y).any() else []
        times = np.unique(np.concatenate([times, np.array(need, dtype=float)])) if len(need) else times
        status = _statuses(q, rec.attendance, states, times)
        ctx = np.array([[_at(THREAT, t), _at(RUS_SANCTIONS, t), _at(SECONDARY, t)] for t in times])
        key = np.concatenate([status.reshape(len(times), -1).astype(float), ctx], axis=1)
        uniq, inv = np.unique(key, axis=0, return_inverse=True)
        inv = inv.ravel()
        first = np.array([np.flatnonzero(inv == c)[0] for c in range(len(uniq))])
        c_of_t = {round(t, 4): int(inv[i]) for i, t in enumerate(times)}
        rows = scored[scored["t"].map(covariate_year) == y]
        qrows = pd.DataFrame({"c": rows["t"].round(4).map(c_of_t).to_numpy(), "s": rows["state"].map(si).to_numpy(),
                              "f": rows["lineage"].map(fi).to_numpy(),
                              "kind": rows["kind"].map(KINDS.index).to_numpy(), "i_from": rows["i_from"].to_numpy(),
                              "i_to": rows["i_to"].to_numpy(), "t": rows["t"].to_numpy(),
                              "state": rows["state"].to_numpy(), "lineage": rows["lineage"].to_numpy()})
        srows = sy[sy["year"] - 1 == y]
        cs = np.array([[c_of_t[round(y + k * QUARTER, 4)] for k in range(4)] for _ in range(len(srows))],
                      dtype=np.int64).reshape(len(srows), 4)
        sframe = pd.DataFrame({"c1": cs[:, 0], "c2": cs[:, 1], "c3": cs[:, 2], "c4": cs[:, 3],
                               "s": srows["state"].map(si).to_numpy(), "f": srows["lineage"].map(fi).to_numpy(),
                               "i_from": srows["i_from"].to_numpy(), "i_to": srows["i_to"].to_numpy(),
                               "year": srows["year"].to_numpy(), "state": srows["state"].to_numpy(),
                               "lineage": srows["lineage"].to_numpy()})
        n_rows += len(qrows) + len(sframe)
        blocks.append(YearBlock(y, status[first], ctx[first, 0], ctx[first, 1], ctx[first, 2], qrows, sframe))
    delta = estimate_delta(int(math.floor(upto)), boot=20).delta  # only the point estimate is used
    return Data(float(upto), blocks, eligible, states, basis, n_rows=n_rows, arms_delta=delta)


def _model(data: Data, block: YearBlock, V: int, restricted: bool) -> PanelModel:
    key = (V, restricted)
    if key not in block.models:
        C = len(block.threat)
        m = PanelModel(estimation_scenario(block.year, data.eligible, data.states, arms_delta=data.arms_delta),
                       block.year, V * C, data.basis)
        block.models[key] = m
        data.provenance.append((block.year, m.structure.fundamentals.provenance))
    return block.models[key]


def level_values(data: Data, block: YearBlock, weights: np.ndarray, restricted: bool = False) -> np.ndarray:
    """Level values (V, C, S, F, 3) of the block's situations for V weight vectors (V, len(WEIGHTS)) in the model's
    own units (not standardised): run values set, then the model's derive / update_influence / perceive /
    level_values. `restricted`: weights.sanctions and every doctrine penalty 0 as well (PROTOCOL 7a)."""
    V, C = weights.shape[0], len(block.threat)
    m = _model(data, block, V, restricted)
    vals = m.values
    vals.set("parameters.rationality", 1.0)
    vals.set("parameters.revision_rate", REVISION_RATE)
    for j, key in enumerate(WEIGHTS):
        vals.set(f"parameters.{key}", np.repeat(weights[:, j], C))
    vals.set("parameters.threat_level", np.tile(block.threat, V))
    vals.set("parameters.secondary_sanctions", np.tile(block.secondary, V))
    if restricted:
        vals.set("parameters.weights.sanctions", 0.0)
        for key in [k for k in vals.values if k.startswith("parameters.doctrine_penalty.")]:
            vals.set(key, 0.0)
    m.derive()
    x = m.state
    status = np.tile(block.status, (V, 1, 1))
    x.status = status
    x.engagement = LEVEL_ENGAGEMENT[status]
    x.engagement0 = x.engagement.copy()
    x.sanctions = np.zeros((V * C, m.P))
    x.sanctions[:, m.powers.index("RUS")] = np.tile(block.sanctions, V)
    with np.errstate(invalid="ignore", divide="ignore"):
        m.update_influence()
        m.perceive()
        lv = m.level_values()
    return lv.reshape(V, C, *lv.shape[1:])


def _split(params: np.ndarray, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    params = np.atleast_2d(params)
    theta = params[:, :N_THETA].reshape(-1, len(KINDS), 2)
    return np.exp(theta[..., 0]), np.exp(theta[..., 1]), params[:, N_THETA:] / scales


def model_units(x: np.ndarray, scales: np.ndarray) -> dict[str, float]:
    """The model's parameter keys (under `parameters.`) of an estimate x (PARAMS): `switching_cost_kind.<kind>.<join|
    exit>` = e^theta with the model's kind names, and each weight b / s."""
    join, exit_, w = _split(x, scales)
    out = {}
    for i, k in enumerate(KINDS):
        out[f"switching_cost_kind.{MODEL_KIND[k]}.join"] = float(join[0, i])
        out[f"switching_cost_kind.{MODEL_KIND[k]}.exit"] = float(exit_[0, i])
    out.update({key: float(v) for key, v in zip(WEIGHTS, w[0], strict=True)})
    return out


def _log(p: np.ndarray) -> np.ndarray:
    """The log of p, floored at P_FLOOR (a probability the logit underflows to 0 scores ln 1e-300 = -690.8, not -inf:
    numerical only, so the optimiser's line search stays finite)."""
    return np.log(np.maximum(p, P_FLOOR))


def row_transitions(lv: np.ndarray, allowed: np.ndarray, block: YearBlock, join: np.ndarray, exit_: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The transition matrix of every scored row of a year block, from the model's `transition_matrix` with the
    block's level values lv (V, C, S, F, 3): the quarter rows' one-quarter matrices (V, nq, 3, 3), each with its kind's
    costs, and the annual rows' products of four quarters (V, ns, 3, 3): the summit-attendance years (the quarters of
    the year before, summit kind) and, where the frame has a `kind` column (index into KINDS), any cell-year of that
    kind (the 1-year forecasts of experiments/fit/oos.py). The likelihood, the synthetic records and the forecasts
    read the same matrices."""
    V = lv.shape[0]
    ones, rho = np.ones(V), np.full(V, REVISION_RATE)
    qr, sr = block.quarters, block.summits
    Tq = np.zeros((V, len(qr), 3, 3))
    if len(qr):
        s, f, kinds = qr["s"].to_numpy(), qr["f"].to_numpy(), qr["kind"].to_numpy()
        vals = lv[:, qr["c"].to_numpy(), s, f]  # (V, n, 3)
        for k in np.unique(kinds):
            sel = kinds == k
            Tq[:, sel] = transition_matrix(vals[:, sel], np.ones(int(sel.sum())), ones, join[:, k], exit_[:, k],
                                           allowed[s[sel], f[sel]], rho)
    Ts = np.zeros((V, len(sr), 3, 3))
    if len(sr):
        s, f = sr["s"].to_numpy(), sr["f"].to_numpy()
        kinds = sr["kind"].to_numpy() if "kind" in sr else np.full(len(sr), KINDS.index("summit_format"))
        for k in np.unique(kinds):
            sel = kinds == k
            prod = None
            for col in ("c1", "c2", "c3", "c4"):
                T = transition_matrix(lv[:, sr[col].to_numpy()[sel], s[sel], f[sel]], np.ones(int(sel.sum())), ones,
                                      join[:, k], exit_[:, k], allowed[s[sel], f[sel]], rho)
                prod = T if prod is None else prod @ T
            Ts[:, sel] = prod
    return Tq, Ts


def loglik(params: np.ndarray, data: Data, restricted: bool = False, per_row: bool = False) -> np.ndarray:
    """The log-likelihood ln L of the record to data.upto (the module docstring's sum) for V parameter vectors
    (V, len(PARAMS)), (V,); per_row=True returns (V, rows) in block order (quarters, then summit years)."""
    join, exit_, weights = _split(params, scales(data))
    V = join.shape[0]
    if restricted:
        weights = np.zeros_like(weights)
    out, parts = np.zeros(V), []
    for block in data.blocks:
        if block.quarters.empty and block.summits.empty:
            continue
        Tq, Ts = row_transitions(level_values(data, block, weights, restricted), m_allowed(data, block, V, restricted),
                                 block, join, exit_)
        for rows, T in ((block.quarters, Tq), (block.summits, Ts)):
            if len(rows):
                logp = _log(T[:, np.arange(len(rows)), rows["i_from"].to_numpy(), rows["i_to"].to_numpy()])
                out += logp.sum(axis=1)
                parts.append(logp)
    return np.concatenate(parts, axis=1) if per_row else out


def m_allowed(data: Data, block: YearBlock, V: int, restricted: bool) -> np.ndarray:
    """(S, F, 3) levels the model allows each state in each format (its `structure.allowed`: eligibility)."""
    return _model(data, block, V, restricted).structure.allowed


def scales(data: Data) -> np.ndarray:
    """s_k of each free weight (PROTOCOL 4): the standard deviation over the scored rows of the term's contribution
    to the member value at unit weight (the model's level values at e_k minus at 0); the root mean square where the
    term is constant over the rows. Computed once per Data."""
    if data.scales is not None:
        return data.scales
    K = len(WEIGHTS)
    w = np.vstack([np.zeros(K), np.eye(K)])
    cols = []
    for block in data.blocks:
        rows = [(block.quarters[["c", "s", "f"]].to_numpy())]
        if len(block.summits):
            rows.append(block.summits[["c1", "s", "f"]].to_numpy())
        idx = np.concatenate(rows) if rows else np.zeros((0, 3), dtype=int)
        if not len(idx):
            continue
        lv = level_values(data, block, w, restricted=True)[..., 2]  # member value, (K + 1, C, S, F)
        cols.append((lv[1:] - lv[:1])[:, idx[:, 0], idx[:, 1], idx[:, 2]])
    term = np.concatenate(cols, axis=1)
    sd = term.std(axis=1)
    rms = np.sqrt((term ** 2).mean(axis=1))
    data.scales = np.where(sd > 1e-9 * np.maximum(rms, 1e-300), sd, np.where(rms > 0, rms, 1.0))
    return data.scales


def penalty(params: np.ndarray) -> np.ndarray:
    """Negative log prior: theta^2 / (2 x 3^2) + b^2 / (2 x 2^2), summed, (V,)."""
    p = np.atleast_2d(params)
    return (p[:, :N_THETA] ** 2).sum(axis=1) / (2 * THETA_SD ** 2) + (p[:, N_THETA:] ** 2).sum(axis=1) / (2 * BETA_SD ** 2)


def bounds(restricted: bool = False) -> list[tuple[float, float]]:
    """L-BFGS-B bounds of PARAMS; the restricted model's weights are held at 0."""
    b = [(-THETA_BOUND, THETA_BOUND)] * N_THETA
    return b + [(0.0, 0.0) if restricted else (-BETA_BOUND, BETA_BOUND)] * len(WEIGHTS)


def objective(data: Data, restricted: bool = False, free: np.ndarray | None = None,
              h: float = 1e-5) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """f(x) = -ln L - ln prior and its forward-difference gradient over the `free` coordinates, all V = 1 + n_free
    vectors in one batch on the run axis. Returns a function of the full parameter vector."""
    n = len(PARAMS)
    free = np.arange(n) if free is None else np.asarray(free)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        xs = np.tile(x, (1 + len(free), 1))
        xs[np.arange(1, 1 + len(free)), free] += h
        f = -loglik(xs, data, restricted) + penalty(xs)
        g = np.zeros(n)
        g[free] = (f[1:] - f[0]) / h
        return float(f[0]), g
    return fun


@dataclass
class Fit:
    """A penalised ML fit: the estimate, ln L and the penalised ln L at it, the starts' results, runtime."""

    x: np.ndarray
    loglik: float
    penalised: float
    restricted: bool
    starts: list[dict]
    seconds: float
    intervals: dict[str, tuple[float, float, str]] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per parameter: estimate, interval (from profile()), the model-unit value (cost or weight)."""
        rows = []
        for i, name in enumerate(PARAMS):
            lo, hi, note = self.intervals.get(name, (math.nan, math.nan, ""))
            rows.append({"parameter": name, "estimate": self.x[i], "low": lo, "high": hi, "note": note})
        return pd.DataFrame(rows)


def _minimise(fun: Callable, x0: np.ndarray, bnds: list[tuple[float, float]], maxiter: int = 200):
    x0 = np.clip(x0, [b[0] for b in bnds], [b[1] for b in bnds])
    return minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bnds, options={"maxiter": maxiter})


def v2_start(data: Data, base: str | None = None) -> np.ndarray:
    """The v2 values on the estimation's scale (PROTOCOL 4): the utility is lambda x U, so each weight is
    lambda x w (standardised by s_k); each kind's cost lambda x cost x the mean depth of its baseline formats.
    The values are the stand-in calibration's (`scenarios/calibrated.yaml`, resolved: the baseline now carries the
    estimated rule), unless `base` names another scenario."""
    from greatgame.model.scenario import load_scenario

    raw = load_scenario(base or SCENARIOS / "calibrated.yaml").raw
    p = raw["parameters"]
    lam = float(p["rationality"])
    depth = {k: [] for k in KINDS}
    kind_of = {"dialogue_platform": "summit_format"}
    for f in raw["formats"].values():
        depth[kind_of.get(f["kind"], f["kind"])].append(float(f["depth"]))
    theta = []
    for kind in KINDS:
        d = float(np.mean(depth[kind]))
        theta += [math.log(lam * float(p["switching_cost_join"]) * d), math.log(lam * float(p["switching_cost_exit"]) * d)]
    w = []
    for key in WEIGHTS:
        sec, name = key.split(".")
        w.append(lam * float(p[sec][name]))
    return np.concatenate([theta, np.array(w) * scales(data)])


def fit(upto: float = BASELINE_ORIGIN, data: Data | None = None, starts: int = 3, restricted_fit: Fit | None = None,
        maxiter: int = 200) -> tuple[Fit, Fit]:
    """Penalised ML (PROTOCOL 4): the restricted model (weights 0, eight costs free) from theta = 0, then the full
    model from `starts` of (zero weights and theta = 0, the restricted fit, the v2 values rescaled); the best kept,
    every start reported. Returns (full, restricted). Computed on the stacked rows (`fast_refit`: the same objective
    with exact gradients of the quarter rows; PROTOCOL 10 lists the change from the per-block objective)."""
    data = data or prepare(upto)
    scales(data)
    if restricted_fit is None:
        restricted_fit, _ = fast_refit(data, True, {"zero": np.zeros(len(PARAMS))}, maxiter)
    x0s = {"zero": np.zeros(len(PARAMS)), "restricted": restricted_fit.x.copy(), "v2": v2_start(data)}
    full, _ = fast_refit(data, False, {k: x0s[k] for k in list(x0s)[:starts]}, maxiter)
    return full, restricted_fit


@dataclass
class Stacked:
    """Every scored row of a Data on one axis, with its level values as the affine function of the weights that the
    model's `level_values` is: V(w) = V(0) + sum_k w_k (V(e_k) - V(0)) (w in model units; checked on a random vector
    of each year block by `stack`). Quarter rows: base (n, 3), basis (K, n, 3); summit rows: the four quarters of the
    year before, base (4, n, 3), basis (K, 4, n, 3). Identical quarter rows (same kind, levels, allowed levels and
    level-value function: the quarters of a year that start from the same situation) are kept once with their count.
    One `transition_matrix` call per kind then scores every row, instead of one model pass per year block:
    `fast_loglik` gives `loglik`'s numbers at a fraction of its cost."""

    restricted: bool
    scales: np.ndarray
    q_kind: np.ndarray
    q_base: np.ndarray
    q_basis: np.ndarray
    q_allowed: np.ndarray
    q_from: np.ndarray
    q_to: np.ndarray
    q_count: np.ndarray
    s_base: np.ndarray
    s_basis: np.ndarray
    s_allowed: np.ndarray
    s_from: np.ndarray
    s_to: np.ndarray


AFFINE_TOL = 1e-8


def stack(data: Data, restricted: bool = False, seed: int = 0) -> Stacked:
    """Lay out `data`'s scored rows for `fast_loglik`: the model's level values of each year block at w = 0, at each
    unit vector e_k and at one random w (all in one batch); raises ValueError if V(w) differs from the affine
    reconstruction by more than AFFINE_TOL x (1 + max |V|) (the model's level values would not be linear in the
    weights, and the fast path would not be the model's)."""
    K = len(WEIGHTS)
    rng = np.random.default_rng(seed)
    test = rng.normal(0.0, 1.0, K) / scales(data)
    w = np.vstack([np.zeros(K), np.eye(K), test])
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("qk", "qb", "qB", "qa", "qf", "qt", "sb", "sB", "sa", "sf",
                                                          "st")}
    for block in data.blocks:
        qr, sr = block.quarters, block.summits
        if qr.empty and sr.empty:
            continue
        lv = level_values(data, block, w, restricted)  # (K + 2, C, S, F, 3)
        base, basis = lv[0], lv[1:K + 1] - lv[:1]
        err = np.abs(base + np.tensordot(test, basis, axes=(0, 0)) - lv[K + 1])
        if np.nanmax(err, initial=0.0) > AFFINE_TOL * (1.0 + np.nanmax(np.abs(lv), initial=0.0)):
            raise ValueError(f"level values of year {block.year} are not affine in the weights (error {err.max():g})")
        allowed = m_allowed(data, block, K + 2, restricted)
        if len(qr):
            c, s, f = qr["c"].to_numpy(), qr["s"].to_numpy(), qr["f"].to_numpy()
            parts["qk"].append(qr["kind"].to_numpy())
            parts["qb"].append(base[c, s, f])
            parts["qB"].append(basis[:, c, s, f])
            parts["qa"].append(allowed[s, f])
            parts["qf"].append(qr["i_from"].to_numpy())
            parts["qt"].append(qr["i_to"].to_numpy())
        if len(sr):
            s, f = sr["s"].to_numpy(), sr["f"].to_numpy()
            cs = [sr[col].to_numpy() for col in ("c1", "c2", "c3", "c4")]
            parts["sb"].append(np.stack([base[c, s, f] for c in cs]))
            parts["sB"].append(np.stack([basis[:, c, s, f] for c in cs], axis=1))
            parts["sa"].append(allowed[s, f])
            parts["sf"].append(sr["i_from"].to_numpy())
            parts["st"].append(sr["i_to"].to_numpy())

    def cat(key: str, axis: int, shape: tuple[int, ...], dtype: type = float) -> np.ndarray:
        return np.concatenate(parts[key], axis=axis) if parts[key] else np.zeros(shape, dtype=dtype)

    qk, qb, qB, qa, qf, qt = (cat("qk", 0, (0,), int), cat("qb", 0, (0, 3)), cat("qB", 1, (K, 0, 3)),
                              cat("qa", 0, (0, 3), bool), cat("qf", 0, (0,), int), cat("qt", 0, (0,), int))
    key = np.column_stack([qk, qf, qt, qa, qb, qB.transpose(1, 0, 2).reshape(len(qk), -1)])
    _, first, count = np.unique(key, axis=0, return_index=True, return_counts=True)
    return Stacked(restricted, scales(data), qk[first], qb[first], qB[:, first], qa[first], qf[first], qt[first],
                   count.astype(float), cat("sb", 1, (4, 0, 3)), cat("sB", 2, (K, 4, 0, 3)),
                   cat("sa", 0, (0, 3), bool), cat("sf", 0, (0,), int), cat("st", 0, (0,), int))


def _quarter_terms(params: np.ndarray, st: Stacked, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The quarter rows' part of ln L (V,) and, with `grad`, its exact gradient (V, len(PARAMS)). With M the logit
    rows of T = (1 - rho) I + rho M (the model's matrix, M read back from it) and l = ln T[i, j] of a row from i to j,
    dl / du_ik = rho M_ij (1[j = k] - M_ik) / T_ij; u_ik = V_k - join (k - i)+ - exit (i - k)+ and
    V = V(0) + sum_m (b_m / s_m) basis_m, so dl/db_m = sum_k dl/du_ik basis_mk / s_m, dl/dtheta_join =
    -join sum_k dl/du_ik (k - i)+, dl/dtheta_exit = -exit sum_k dl/du_ik (i - k)+ (cost = exp(theta))."""
    join, exit_, weights = _split(params, st.scales)
    V = join.shape[0]
    if st.restricted:
        weights = np.zeros_like(weights)
    ones, rho = np.ones(V), np.full(V, REVISION_RATE)
    out = np.zeros(V)
    g = np.zeros((V, len(PARAMS))) if grad else None
    if not len(st.q_kind):
        return out, g
    vals = st.q_base[None] + np.tensordot(weights, st.q_basis, axes=(1, 0))  # (V, n, 3)
    dv = np.zeros_like(vals) if grad else None
    for k in np.unique(st.q_kind):
        sel = np.flatnonzero(st.q_kind == k)
        n, i_, j_ = len(sel), st.q_from[sel], st.q_to[sel]
        T = transition_matrix(vals[:, sel], np.ones(n), ones, join[:, k], exit_[:, k], st.q_allowed[sel], rho)
        tij = T[:, np.arange(n), i_, j_]  # (V, n)
        out += _log(tij) @ st.q_count[sel]
        if not grad:
            continue
        M = (T[:, np.arange(n), i_] - (1.0 - REVISION_RATE) * (np.arange(3) == i_[:, None])) / REVISION_RATE
        mij = M[:, np.arange(n), j_]
        live = tij > P_FLOOR  # a floored probability is constant
        G = np.where(live, REVISION_RATE * mij / np.where(live, tij, 1.0), 0.0)[..., None] * \
            ((np.arange(3) == j_[:, None]) - M)  # (V, n, 3): dl/du_ik
        G *= st.q_count[sel][:, None]
        dv[:, sel] = G
        up = np.maximum(np.arange(3) - i_[:, None], 0)  # (n, 3)
        down = np.maximum(i_[:, None] - np.arange(3), 0)
        g[:, 2 * k] = -join[:, k] * (G * up).sum(axis=(1, 2))
        g[:, 2 * k + 1] = -exit_[:, k] * (G * down).sum(axis=(1, 2))
    if grad and not st.restricted:
        g[:, N_THETA:] = np.einsum("vnk,mnk->vm", dv, st.q_basis) / st.scales
    return out, g


def _summit_terms(params: np.ndarray, st: Stacked) -> np.ndarray:
    """The summit rows' part of ln L (V,): the four-quarter product of the model's matrices."""
    join, exit_, weights = _split(params, st.scales)
    V = join.shape[0]
    if st.restricted:
        weights = np.zeros_like(weights)
    out = np.zeros(V)
    if len(st.s_from):
        ones, rho = np.ones(V), np.full(V, REVISION_RATE)
        k = KINDS.index("summit_format")
        n = len(st.s_from)
        prod = None
        for q in range(4):
            vals = st.s_base[q][None] + np.tensordot(weights, st.s_basis[:, q], axes=(1, 0))
            T = transition_matrix(vals, np.ones(n), ones, join[:, k], exit_[:, k], st.s_allowed, rho)
            prod = T if prod is None else prod @ T
        out += _log(prod[:, np.arange(n), st.s_from, st.s_to]).sum(axis=1)
    return out


def fast_loglik(params: np.ndarray, st: Stacked) -> np.ndarray:
    """`loglik` (V,) from the stacked rows: level values V(0) + w . basis, then the model's `transition_matrix` for
    every quarter row of a kind at once and the four-quarter product for the summit rows; equal to `loglik` up to
    rounding (the order of the sums differs)."""
    params = np.atleast_2d(params)
    return _quarter_terms(params, st, False)[0] + _summit_terms(params, st)


def fast_objective(st: Stacked, free: np.ndarray | None = None,
                   h: float = 1e-5) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """`objective` on the stacked rows: f(x) = -ln L - ln prior and its gradient over `free`: exact for the quarter
    rows (`_quarter_terms`) and the prior, forward differences (step h, all in one batch) for the few summit rows."""
    n = len(PARAMS)
    free = np.arange(n) if free is None else np.asarray(free)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        xs = np.tile(x, (1 + len(free), 1))
        xs[np.arange(1, 1 + len(free)), free] += h
        ls = _summit_terms(xs, st)
        lq, gq = _quarter_terms(x[None], st, True)
        g = np.zeros(n)
        g[free] = -gq[0, free] - (ls[1:] - ls[0]) / h
        g[:N_THETA] += x[:N_THETA] / THETA_SD ** 2
        g[N_THETA:] += x[N_THETA:] / BETA_SD ** 2
        keep = np.zeros(n, dtype=bool)
        keep[free] = True
        g[~keep] = 0.0
        return float(-lq[0] - ls[0] + penalty(x)[0]), g
    return fun


def hessian(fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, free: np.ndarray, h: float = 1e-3,
            batch: int = 64) -> np.ndarray:
    """Central-difference Hessian over the `free` coordinates of a batched function fun (V, n) -> (V,): diagonal
    (f(x + h e_i) - 2 f(x) + f(x - h e_i)) / h^2, off-diagonal (f(++) - f(+-) - f(-+) + f(--)) / 4h^2; every
    displaced vector evaluated in batches of `batch` on the run axis."""
    free = np.asarray(free)
    m = len(free)
    pairs = [(a, b) for a in range(m) for b in range(a + 1, m)]
    steps = [np.zeros(len(x))]
    for a in range(m):
        for sgn in (1.0, -1.0):
            e = np.zeros(len(x))
            e[free[a]] = sgn * h
            steps.append(e)
    for a, b in pairs:
        for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            e = np.zeros(len(x))
            e[free[a]], e[free[b]] = sa * h, sb * h
            steps.append(e)
    X = x[None] + np.array(steps)
    f = np.concatenate([fun(X[k:k + batch]) for k in range(0, len(X), batch)])
    H = np.zeros((m, m))
    for a in range(m):
        H[a, a] = (f[1 + 2 * a] - 2 * f[0] + f[2 + 2 * a]) / h ** 2
    base = 1 + 2 * m
    for n, (a, b) in enumerate(pairs):
        pp, pm, mp, mm = f[base + 4 * n: base + 4 * n + 4]
        H[a, b] = H[b, a] = (pp - pm - mp + mm) / (4 * h ** 2)
    return H


PROFILE_FTOL = 0.02
"""The fast profile stops refining an end once a profile point lies within about this of the 1.92 drop (ln L units;
PROFILE_FTOL / 1.96 on the root-deviance scale)."""
Z_DROP = math.sqrt(2 * PROFILE_DROP)


def _root_dev(top: float, pl: float) -> float:
    """The root deviance sqrt(2 (top - pl)) (0 above the top): about linear in the parameter near the maximum, so the
    secant on it finds the 1.92 drop (Z_DROP = 1.96) in few steps where the profile is near quadratic."""
    return math.sqrt(2.0 * max(top - pl, 0.0))


def _profile_fast(result: Fit, data: Data, names: Sequence[str], maxiter: int, tol: float,
                  st: Stacked | None) -> dict[str, tuple[float, float, str]]:
    """The fast path of `profile`: the same profile (penalised ln L maximised over the others by L-BFGS-B) on the
    stacked rows (`fast_loglik`), with the first trial point of each side at the quadratic approximation's drop,
    estimate +- sqrt(2 x 1.92 x Sigma_ii) (Sigma the inverse of the numerical Hessian of the penalised -ln L at the
    estimate), each inner fit warm-started at the nearest inside point moved along the approximation's conditional
    mode (dx = Sigma_:i / Sigma_ii x dv). Outward steps extrapolate the quadratic through the estimate and the last
    inside point (1.25 to 4 times the distance); a bracket is refined by Illinois secant on the root deviance
    (`_root_dev`) until it is narrower than `tol` or a point lies within PROFILE_FTOL of the drop (at most 10
    refinements); the end is the root deviance's linear interpolation across the bracket."""
    st = st or stack(data, result.restricted)
    free_all = np.arange(N_THETA) if result.restricted else np.arange(len(PARAMS))
    bnds = bounds(result.restricted)
    lo_b, hi_b = np.array([b[0] for b in bnds]), np.array([b[1] for b in bnds])
    target = result.penalised - PROFILE_DROP
    H = hessian(lambda X: -fast_loglik(X, st) + penalty(X), result.x, free_all)
    w, U = np.linalg.eigh((H + H.T) / 2)
    cov = (U / np.maximum(w, 1e-6)) @ U.T  # a flat direction gets a variance of 1e6: its first trial is the bound
    out = {}
    for name in names:
        i = PARAMS.index(name)
        j = int(np.flatnonzero(free_all == i)[0])
        fun = fast_objective(st, free_all[free_all != i])
        direction = np.zeros(len(PARAMS))
        direction[free_all] = cov[:, j] / cov[j, j]

        def prof(v: float, warm: np.ndarray, i: int = i, fun=fun, direction=direction) -> tuple[float, np.ndarray]:
            b = list(bnds)
            b[i] = (v, v)
            x0 = np.clip(warm + direction * (v - warm[i]), lo_b, hi_b)
            x0[i] = v
            r = _minimise(fun, x0, b, maxiter)
            return -float(r.fun), r.x

        ends, notes = [], []
        x_hat = result.x[i]
        for side in (-1.0, 1.0):
            bound = bnds[i][0] if side < 0 else bnds[i][1]
            room = abs(bound - x_hat)
            x_in, v_in, pl_in = result.x, x_hat, result.penalised
            dist = min(math.sqrt(2 * PROFILE_DROP * cov[j, j]), room)
            v_out = pl_out = None
            while True:  # outwards until the profile falls below the target or the bound is reached
                v = x_hat + side * dist
                pl, xv = prof(v, x_in)
                if pl < target:
                    v_out, pl_out = v, pl
                    break
                x_in, v_in, pl_in = xv, v, pl
                if dist >= room:
                    break
                drop = result.penalised - pl
                guess = dist * math.sqrt(PROFILE_DROP / drop) * 1.1 if drop > 1e-9 else 4 * dist
                dist = min(min(max(guess, 1.25 * dist), 4 * dist), room)
            if v_out is None:
                ends.append(bound)
                notes.append("one-sided " + ("low" if side < 0 else "high"))
                continue
            z_in, z_out, last = _root_dev(result.penalised, pl_in), _root_dev(result.penalised, pl_out), 0
            for _ in range(10):  # Illinois secant on the signed root deviance between v_in (below 1.96) and v_out
                if abs(v_out - v_in) < tol or min(Z_DROP - z_in, z_out - Z_DROP) < PROFILE_FTOL / Z_DROP:
                    break
                w_ = (Z_DROP - z_in) / (z_out - z_in)
                v = v_in + min(max(w_, 0.02), 0.98) * (v_out - v_in)
                pl, xv = prof(v, x_in)
                z = _root_dev(result.penalised, pl)
                if pl >= target:
                    v_in, z_in, x_in = v, z, xv
                    z_out = Z_DROP + (z_out - Z_DROP) / 2 if last == 1 else z_out  # Illinois: the stale end halved
                    last = 1
                else:
                    v_out, z_out = v, z
                    z_in = Z_DROP - (Z_DROP - z_in) / 2 if last == -1 else z_in
                    last = -1
            ends.append(v_in + (Z_DROP - z_in) / (z_out - z_in) * (v_out - v_in))
        out[name] = (float(min(ends)), float(max(ends)), "; ".join(notes))
    return out


def profile(result: Fit, data: Data, names: Sequence[str] | None = None, maxiter: int = 60,
            tol: float = 0.05, fast: bool = True, stacked: Stacked | None = None) -> dict[str, tuple[float, float, str]]:
    """Profile-likelihood 95% intervals (PROTOCOL 4): for parameter i, the values where the penalised ln L, maximised
    over the others (warm-started L-BFGS-B), falls 1.92 below its maximum; found by a bracketing secant search from
    the estimate outwards. A side that does not reach the drop inside the bound is reported as the bound ('one-sided
    low/high'). Restricted fits profile only the thetas. fast=True: `_profile_fast` (the same function on the
    stacked rows, brackets started from the Hessian; ends within 0.05 of this exact path's, tests/test_recovery.py);
    fast=False: steps of 1, 2, 4 ... from the estimate on `loglik` itself."""
    free_all = np.arange(N_THETA) if result.restricted else np.arange(len(PARAMS))
    if fast:
        out = _profile_fast(result, data, list(names or [PARAMS[i] for i in free_all]), maxiter, tol, stacked)
        result.intervals.update(out)
        return out
    bnds = bounds(result.restricted)
    target = result.penalised - PROFILE_DROP
    out = {}
    for name in (names or [PARAMS[i] for i in free_all]):
        i = PARAMS.index(name)
        others = free_all[free_all != i]
        fun = objective(data, result.restricted, others)
        cache: dict[float, tuple[float, np.ndarray]] = {}

        def prof(v: float, warm: np.ndarray, i: int = i, fun=fun, cache=cache) -> tuple[float, np.ndarray]:
            if v in cache:
                return cache[v]
            b = list(bnds)
            b[i] = (v, v)
            x0 = warm.copy()
            x0[i] = v
            r = _minimise(fun, x0, b, maxiter)
            cache[v] = (-float(r.fun), r.x)
            return cache[v]

        ends, notes = [], []
        for side in (-1.0, 1.0):
            bound = bnds[i][0] if side < 0 else bnds[i][1]
            x_in, v_in, pl_in = result.x, result.x[i], result.penalised
            step = 1.0
            v_out = None
            while True:  # step outwards until the profile falls below the target or the bound is reached
                v = v_in + side * step
                if side * (v - bound) >= 0:
                    v = bound
                pl, xv = prof(v, x_in)
                if pl < target:
                    v_out, pl_out = v, pl
                    break
                x_in, v_in, pl_in = xv, v, pl
                if v == bound:
                    break
                step *= 2.0
            if v_out is None:
                ends.append(bound)
                notes.append("one-sided " + ("low" if side < 0 else "high"))
                continue
            for _ in range(8):  # secant / bisection between v_in (above target) and v_out (below)
                if abs(v_out - v_in) < tol:
                    break
                w = (pl_in - target) / (pl_in - pl_out)
                v = v_in + min(max(w, 0.1), 0.9) * (v_out - v_in)
                pl, xv = prof(v, x_in)
                if pl >= target:
                    v_in, pl_in, x_in = v, pl, xv
                else:
                    v_out, pl_out = v, pl
            ends.append(v_in + (pl_in - target) / (pl_in - pl_out) * (v_out - v_in))
        out[name] = (float(ends[0]), float(ends[1]), "; ".join(notes))
    result.intervals.update(out)
    return out


def simulate(params: np.ndarray, data: Data, seed: int, restricted: bool = False) -> Data:
    """A synthetic record on the real cells and covariates: every scored row's to-level drawn from the fitted
    transition matrix of its from-level (the observed from-level and situation, as the likelihood conditions on
    them), with a fixed seed. Returns a copy of `data` with the drawn to-levels (the models are shared)."""
    rng = np.random.default_rng(seed)
    join, exit_, weights = _split(params, scales(data))
    if restricted:
        weights = np.zeros_like(weights)
    blocks = []
    for block in data.blocks:
        nb = copy.copy(block)
        nb.quarters, nb.summits = block.quarters.copy(), block.summits.copy()
        if len(block.quarters) or len(block.summits):
            Tq, Ts = row_transitions(level_values(data, block, weights, restricted),
                                     m_allowed(data, block, 1, restricted), block, join, exit_)
            for rows, T in ((nb.quarters, Tq), (nb.summits, Ts)):
                if len(rows):
                    p = T[0, np.arange(len(rows)), rows["i_from"].to_numpy()]  # (n, 3): the row of its from-level
                    rows["i_to"] = (rng.random(len(rows))[:, None] > np.cumsum(p, axis=1)[:, :2]).sum(axis=1)
        blocks.append(nb)
    return Data(data.upto, blocks, data.eligible, data.states, data.basis, data.scales, data.n_rows, data.provenance,
                data.arms_delta)


def refit(data: Data, restricted: bool, x0: np.ndarray, maxiter: int = 200) -> Fit:
    """One penalised ML fit of `data` from x0 (the restricted model: thetas only)."""
    t0 = time.perf_counter()
    free = np.arange(N_THETA) if restricted else np.arange(len(PARAMS))
    r = _minimise(objective(data, restricted, free), x0, bounds(restricted), maxiter)
    ll = float(loglik(r.x, data, restricted)[0])
    return Fit(r.x, ll, -float(r.fun), restricted, [{"start": "given", "penalised": -float(r.fun),
                                                     "iterations": int(r.nit)}], time.perf_counter() - t0)


def fast_refit(data: Data, restricted: bool, starts: dict[str, np.ndarray], maxiter: int = 200,
               stacked: Stacked | None = None) -> tuple[Fit, Stacked]:
    """`refit` on the stacked rows (`fast_objective`: the same objective and L-BFGS-B) from each start of `starts`
    (name -> x0); the best kept, every start reported. Returns the fit and the stacked rows (for `profile`)."""
    t0 = time.perf_counter()
    st = stacked or stack(data, restricted)
    free = np.arange(N_THETA) if restricted else np.arange(len(PARAMS))
    fun = fast_objective(st, free)
    results = [(name, _minimise(fun, x0.copy(), bounds(restricted), maxiter)) for name, x0 in starts.items()]
    _, best = min(results, key=lambda nr: nr[1].fun)
    ll = float(fast_loglik(best.x, st)[0])
    report = [{"start": n, "penalised": -float(r.fun), "iterations": int(r.nit), "converged": bool(r.success),
               "x": r.x.tolist()} for n, r in results]
    return Fit(best.x, ll, -float(best.fun), restricted, report, time.perf_counter() - t0), st


def recovery(truth: np.ndarray, data: Data, seed: int, restricted: bool = False,
             names: Sequence[str] | None = None, maxiter: int = 200, from_zero: bool = False,
             profile_maxiter: int = 60) -> pd.DataFrame:
    """Parameter recovery (issue 17 item 7): a synthetic record simulated from `truth` on the real cells and
    covariates (`simulate`, fixed seed; the from-levels and situations the observed ones, as the likelihood conditions
    on them), refitted (`fast_refit`) from the truth (and from zero when `from_zero`, the better kept), profiled
    (`profile`, fast path); one row per parameter profiled: truth, estimate, interval, note (one-sided), whether the
    truth is inside the interval, the refit's penalised ln L and the seconds taken."""
    t0 = time.perf_counter()
    synth = simulate(truth, data, seed, restricted)
    starts = {"truth": truth.copy()}
    if from_zero:
        starts["zero"] = np.zeros(len(PARAMS))
    est, st = fast_refit(synth, restricted, starts, maxiter)
    names = list(names or (PARAMS[:N_THETA] if restricted else PARAMS))
    profile(est, synth, names, maxiter=profile_maxiter, stacked=st)
    best = max(est.starts, key=lambda r: r["penalised"])["start"]
    rows = []
    for n in names:
        lo, hi, note = est.intervals[n]
        i = PARAMS.index(n)
        rows.append({"parameter": n, "truth": truth[i], "estimate": est.x[i], "low": lo, "high": hi, "note": note,
                     "covered": bool(lo - 1e-9 <= truth[i] <= hi + 1e-9), "penalised": est.penalised,
                     "best_start": best, "seconds": 0.0})
    out = pd.DataFrame(rows)
    out["seconds"] = time.perf_counter() - t0
    return out
