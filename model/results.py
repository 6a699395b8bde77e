"""Recorded arrays -> the documented output tables (docs/OUTPUT.md), as pandas DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .axes import INFLUENCE as INFLUENCE_CHANNELS
from .axes import LEVELS, TOTAL_SLOT, RecordedInfluence
from .core import Failure, GreatGameModel


@dataclass
class Results(RecordedInfluence):
    """The arrays of one or more runs of one scenario, with the run numbers they belong to.

    influence: (T, R, S+1, P, C+1) with the region last on the state axis and the total last on the channel axis,
    read through its named views `influence_total` (T, R, S, P), `regional_total` (T, R, P), `influence_channels`,
    `regional_channels` and `totals` (`axes.RecordedInfluence`); status (T, R, S, F) int codes 0/1/2 (-1: failed);
    engagement (T, R, S, F); turnover (T, R, S, P) US$ bn/year; active (T, R, F) bool.
    """

    scenario_name: str
    dates: list[str]
    powers: tuple[str, ...]
    states: tuple[str, ...]
    formats: tuple[str, ...]
    runs: np.ndarray
    influence: np.ndarray
    status: np.ndarray
    engagement: np.ndarray
    turnover: np.ndarray
    active: np.ndarray
    colours: dict[str, str | None] = field(default_factory=dict)
    event_log: list[tuple[int, int, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # runs stopped because a state went non-finite
    parameters: dict[str, np.ndarray] = field(default_factory=dict)  # drawn values, key -> one value per run

    @classmethod
    def from_model(cls, model: GreatGameModel, run_numbers: np.ndarray | None = None) -> Results:
        """A model's recorded arrays as Results; `run_numbers` (R,) replaces the replicate numbers of its spawn keys."""
        rec, sc = model.recorder, model.spec
        T = rec.periods
        runs = np.asarray(run_numbers if run_numbers is not None else [k[-1] for k in model.spawn_keys])
        return cls(sc.name, [sc.date_of(t).isoformat() for t in range(T)], model.powers, model.states,
                   model.formats, runs, rec.influence[:T], rec.status[:T], rec.engagement[:T], rec.turnover[:T],
                   rec.active[:T], dict(model.structure.colours), [(int(runs[0]), t, text) for t, text in model.event_log],
                   list(model.failures), dict(model.drawn))

    @classmethod
    def concat(cls, parts: list[Results]) -> Results:
        """Join results of the same scenario made in several chunks of runs (run axis)."""
        first = parts[0]
        return cls(first.scenario_name, first.dates, first.powers, first.states, first.formats,
                   np.concatenate([p.runs for p in parts]),
                   *(np.concatenate([getattr(p, k) for p in parts], axis=1)
                     for k in ("influence", "status", "engagement", "turnover", "active")),
                   colours=first.colours, event_log=[e for p in parts for e in p.event_log],
                   failures=[f for p in parts for f in p.failures],
                   parameters={k: np.concatenate([p.parameters[k] for p in parts]) for k in first.parameters})

    @property
    def steps(self) -> int:
        """Number of steps recorded (periods minus one)."""
        return len(self.dates) - 1

    def _grid(self, *sizes: int) -> list[np.ndarray]:
        return [g.ravel() for g in np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")]

    def influence_table(self) -> pd.DataFrame:
        """Columns run, step, date, power, state (a code or REGION), influence, and one column per channel."""
        T, R, S1, P, _ = self.influence.shape
        t, r, s, p = self._grid(T, R, S1, P)
        flat = self.influence.reshape(T * R * S1 * P, -1)
        df = pd.DataFrame({
            "run": self.runs[r].astype(np.int64), "step": t.astype(np.int32),
            "date": pd.Categorical.from_codes(t, self.dates),
            "power": pd.Categorical.from_codes(p, self.powers),
            "state": pd.Categorical.from_codes(s, [*self.states, "REGION"]),
            "influence": flat[:, TOTAL_SLOT]})
        for i, c in enumerate(INFLUENCE_CHANNELS):
            df[c] = flat[:, i]
        return df

    def status_table(self) -> pd.DataFrame:
        """Columns run, step, date, state, format, status (none/partial/member), engagement."""
        T, R, S, F = self.status.shape
        t, r, s, f = self._grid(T, R, S, F)
        return pd.DataFrame({
            "run": self.runs[r].astype(np.int64), "step": t.astype(np.int32),
            "date": pd.Categorical.from_codes(t, self.dates),
            "state": pd.Categorical.from_codes(s, self.states),
            "format": pd.Categorical.from_codes(f, self.formats),
            "status": pd.Categorical.from_codes(self.status.ravel().astype(np.int64), LEVELS),
            "engagement": self.engagement.ravel()})

    def trade_table(self) -> pd.DataFrame:
        """Columns run, step, date, state, partner, turnover_usd_bn (annualised goods trade with each power)."""
        T, R, S, P = self.turnover.shape
        t, r, s, p = self._grid(T, R, S, P)
        return pd.DataFrame({
            "run": self.runs[r].astype(np.int64), "step": t.astype(np.int32),
            "date": pd.Categorical.from_codes(t, self.dates),
            "state": pd.Categorical.from_codes(s, self.states),
            "partner": pd.Categorical.from_codes(p, self.powers),
            "turnover_usd_bn": self.turnover.ravel()})

    def parameters_table(self) -> pd.DataFrame:
        """Columns run, parameter, value: the values each run drew from the scenario's `uncertainty` section
        (`uncertainty.behaviour_row` is the row of the joint behaviour vectors); empty when nothing is drawn."""
        keys = sorted(self.parameters)
        if not keys:
            return pd.DataFrame({"run": pd.Series(dtype=np.int64), "parameter": pd.Series(dtype=str),
                                 "value": pd.Series(dtype=float)})
        R = len(self.runs)
        return pd.DataFrame({"run": np.tile(self.runs.astype(np.int64), len(keys)),
                             "parameter": pd.Categorical(np.repeat(keys, R), categories=keys),
                             "value": np.concatenate([self.parameters[k] for k in keys])})

    def summary(self) -> pd.DataFrame:
        """Regional influence of each power at the start and at the horizon: median and 5-95% range over runs."""
        reg = self.regional_total  # (T, R, P)
        rows = []
        for j, p in enumerate(self.powers):
            end = reg[-1, :, j]
            rows.append({"power": p, "start": float(np.median(reg[0, :, j])), "horizon_median": float(np.median(end)),
                         "horizon_p05": float(np.quantile(end, 0.05)), "horizon_p95": float(np.quantile(end, 0.95))})
        df = pd.DataFrame(rows).set_index("power")
        return df

    def convened(self) -> dict[str, tuple[float, str | None]]:
        """Formats inactive at the start: share of runs in which they were opened, and the median opening date."""
        out = {}
        for f, code in enumerate(self.formats):
            act = self.active[:, :, f]  # (T, R)
            if act[0].all():
                continue
            opened = act[-1] & ~act[0]
            first = act.argmax(axis=0)[opened]
            median = self.dates[int(np.median(first))] if first.size else None
            out[code] = (float(opened.mean()), median)
        return out

    def plot(self, out_dir: str | Path) -> list[Path]:
        """Write influence.png, influence_states.png and status.png into out_dir (created if missing)."""
        from .plots import plot_all

        Path(out_dir).mkdir(parents=True, exist_ok=True)
        return plot_all(self, Path(out_dir))

    def probability_leads(self, leader: str, other: str) -> float:
        """Share of runs in which `leader` has more regional influence than `other` at the horizon."""
        reg = self.regional_total[-1]
        return float((reg[:, self.powers.index(leader)] > reg[:, self.powers.index(other)]).mean())
