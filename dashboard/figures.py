"""The dashboard's figures, built with matplotlib's Figure API (no pyplot, so the user's backend is never touched).
Each takes Results (possibly of a model part-way through its horizon) and returns a Figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from greatgame.model.plots import colour_of, date_axis, fan, panels, power_colour, power_fans, status_grid
from greatgame.model.results import Results
from matplotlib.figure import Figure

from .logic import Batch, Comparison

DPI = 80  # page figures: small PNGs keep a step under a second


def _x(dates: list[str]) -> pd.DatetimeIndex:
    return pd.to_datetime(dates)


def _frame(ax, horizon: list[str], top: float) -> None:  # type: ignore[no-untyped-def]
    x = _x(horizon)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, max(0.05, top * 1.15))
    date_axis(ax)


def regional_fan(res: Results, horizon: list[str]) -> Figure:
    """Regional influence of each power so far: median line, 50% and 90% bands over the runs; the x axis spans the
    whole horizon (`horizon`: the dates of steps 0..T)."""
    fig = Figure(figsize=(8, 3.6), dpi=DPI)
    ax = fig.subplots()
    x = _x(res.dates)
    reg = res.regional_total
    power_fans(ax, x, reg, res.powers, res.colours)
    for j, p in enumerate(res.powers):
        ax.plot(x[-1:], np.nanmedian(reg[-1:, :, j], axis=1), "o", color=power_colour(res, p), markersize=4)
    _frame(ax, horizon, float(np.nanmax(reg)) if np.isfinite(reg).any() else 0.0)
    ax.set_ylabel("regional influence (0-1)")
    ax.set_title(f"Regional influence, {len(res.runs)} runs, step {res.steps} ({res.dates[-1][:7]}): median, "
                 "50% and 90% bands", fontsize=10)
    ax.legend(loc="upper left", ncol=len(res.powers), frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


def state_multiples(res: Results, horizon: list[str]) -> Figure:
    """One small panel per state: each power's influence (median and bands), shared y axis."""
    fig, grid = panels(len(res.states), 3, (8 / 3, 2.2), DPI)
    axes = grid.ravel()
    x = _x(res.dates)
    top = float(np.nanmax(res.influence_total)) if np.isfinite(res.influence).any() else 0.0
    for s, name in enumerate(res.states):
        ax = axes[s]
        power_fans(ax, x, res.influence_total[:, :, s], res.powers, res.colours)
        ax.set_title(name, fontsize=9)
        _frame(ax, horizon, top)
        ax.tick_params(labelsize=7)
    axes[0].legend(loc="upper left", frameon=False, fontsize=7)
    fig.suptitle("Influence by state (median, 50% and 90% bands)", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.88, wspace=0.08, hspace=0.35)  # tight_layout is slow
    return fig


def status_heatmap(res: Results) -> Figure:
    """Left: every state's status in every format now (mean engagement; letter: modal status N/P/M; blank: the
    format is not active). Right: mean engagement of each state-format pair over time."""
    fig = Figure(figsize=(10, 3.8), dpi=DPI)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    active = res.active[-1].mean(axis=0) > 0.5  # (F,)
    status_grid(left, np.nanmean(res.engagement[-1], axis=0), res.status[-1], res.states, res.formats, active, fontsize=8)
    left.set_title(f"status at {res.dates[-1][:7]}", fontsize=9)
    T, S, F = len(res.dates), len(res.states), len(res.formats)
    over_time = np.nanmean(res.engagement, axis=1).transpose(1, 2, 0).reshape(S * F, T)  # (S*F, T)
    im = right.imshow(over_time, vmin=0, vmax=1, cmap="viridis", aspect="auto", interpolation="nearest")
    right.set_yticks(np.arange(S) * F + F / 2 - 0.5, res.states, fontsize=8)
    for s in range(1, S):
        right.axhline(s * F - 0.5, color="white", linewidth=0.8)
    step_ticks = list(range(0, T, max(1, T // 6)))
    right.set_xticks(step_ticks, [res.dates[t][:4] for t in step_ticks], fontsize=7)
    right.set_title(f"engagement over time (rows: the {F} formats within each state)", fontsize=9)
    fig.subplots_adjust(left=0.07, right=0.9, bottom=0.22, top=0.92, wspace=0.25)
    fig.colorbar(im, ax=right, label="mean engagement (0-1)", shrink=0.9)
    return fig


def comparison(cmp: Comparison) -> Figure:
    """A and B side by side (regional fan charts), and B minus A run by run (median, 50% and 90% bands)."""
    fig = Figure(figsize=(12, 3.6), dpi=DPI)
    axes = fig.subplots(1, 3)
    x = _x(cmp.a.dates)
    top = max(float(np.nanmax(cmp.a.regional_total)), float(np.nanmax(cmp.b.regional_total)))
    for ax, res, label in ((axes[0], cmp.a, cmp.a_label), (axes[1], cmp.b, cmp.b_label)):
        power_fans(ax, x, res.regional_total, res.powers, res.colours)
        _frame(ax, cmp.a.dates, top)
        ax.set_title(label, fontsize=10)
        ax.legend(loc="upper left", frameon=False, fontsize=8, ncol=3)
    ax = axes[2]
    for p in cmp.powers:
        fan(ax, x, cmp.difference(p), power_colour(cmp.a, p), p)
    ax.axhline(0, color="black", linewidth=0.6)
    date_axis(ax)
    ax.set_title("B minus A, run by run (common seeds)", fontsize=10)
    axes[0].set_ylabel("regional influence (0-1)")
    fig.tight_layout()
    return fig


def batch_fans(batch: Batch) -> Figure:
    """One panel per scenario of a batch: regional influence of each power (median, 50% and 90% bands)."""
    fig, grid = panels(len(batch.scenarios), 4, (3.2, 2.6), DPI)
    axes = grid.ravel()
    x = _x(batch.dates)
    top = max(float(np.nanmax(m)) for per in batch.regional.values() for m in per.values())
    for i, sc in enumerate(batch.scenarios):
        ax = axes[i]
        for p, m in batch.regional.get(sc, {}).items():
            fan(ax, x[: m.shape[0]], m, colour_of(p), p)
        _frame(ax, batch.dates, top)
        ax.set_title(sc, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(loc="upper left", frameon=False, fontsize=7)
    fig.suptitle(f"Batch '{batch.name}': regional influence by scenario (median, 50% and 90% bands)", fontsize=10)
    fig.tight_layout()
    return fig
