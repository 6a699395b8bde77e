"""Plots of a scenario's results: regional fan chart, per-state grid, status/engagement heat map."""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .results import Results

FALLBACK_COLOURS = {"RUS": "#c0392b", "CHN": "#e1a100", "USA": "#1f5fa8", "EU": "#2e8b57", "TUR": "#8e44ad"}


def power_colour(results: Results, power: str) -> str:
    """The power's fixed colour: the scenario's `colour`, else the house default, else grey."""
    return results.colours.get(power) or FALLBACK_COLOURS.get(power, "#555555")


def fan(ax: Axes, x: pd.DatetimeIndex, series: np.ndarray, colour: str, label: str, singles: int = 0) -> None:
    """Median line with 50% and 90% bands over runs, and `singles` faint single runs; series is (T, R)."""
    q = np.nanquantile(series, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    for k in range(min(singles, series.shape[1])):
        ax.plot(x, series[:, k], color=colour, alpha=0.25, linewidth=0.6)
    ax.fill_between(x, q[0], q[4], color=colour, alpha=0.15, linewidth=0)
    ax.fill_between(x, q[1], q[3], color=colour, alpha=0.3, linewidth=0)
    ax.plot(x, q[2], color=colour, linewidth=2, label=label)


def date_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator(2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.grid(alpha=0.3)


def plot_regional(results: Results, path: Path) -> Path:
    """influence.png: regional influence of each power over time (median, 50% and 90% bands across runs)."""
    x = pd.to_datetime(results.dates)
    fig = Figure(figsize=(9, 5.2), dpi=120)
    ax = fig.subplots()
    for j, p in enumerate(results.powers):
        fan(ax, x, results.regional_total[:, :, j], power_colour(results, p), p)
    ax.set_ylim(0, max(0.05, float(np.nanmax(results.regional_total)) * 1.15))
    ax.set_ylabel("regional influence (GDP-weighted, 0-1)")
    ax.set_title(f"Regional influence, scenario '{results.scenario_name}' "
                 f"({len(results.runs)} runs; line: median, bands: 50% and 90%)", fontsize=10)
    date_axis(ax)
    ax.legend(loc="upper left", ncol=len(results.powers), frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_states(results: Results, path: Path) -> Path:
    """influence_states.png: one panel per state, each power's influence (median and bands), shared y axis."""
    x = pd.to_datetime(results.dates)
    S = len(results.states)
    cols = 3
    rows = -(-(S + 1) // cols)
    fig = Figure(figsize=(12, 3.4 * rows), dpi=110)
    axes = fig.subplots(rows, cols, sharey=True, sharex=True)
    axes = axes.ravel()
    top = float(np.nanmax(results.totals)) * 1.1
    for i, name in enumerate([*results.states, "REGION"]):
        ax = axes[i]
        for j, p in enumerate(results.powers):
            fan(ax, x, results.totals[:, :, i, j], power_colour(results, p), p)
        ax.set_title(name, fontsize=10)
        ax.set_ylim(0, top)
        date_axis(ax)
    for ax in axes[S + 1:]:
        ax.axis("off")
    axes[0].legend(loc="upper left", frameon=False, fontsize=8)
    fig.suptitle(f"Influence by state, scenario '{results.scenario_name}' (median, 50% and 90% bands)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_status(results: Results, path: Path) -> Path:
    """status.png: mean engagement per state and format at the start and at the horizon, each cell labelled with
    the modal status over runs (N none, P partial, M member; grey: format not active)."""
    fig = Figure(figsize=(12, 3.8), dpi=110)
    axes = fig.subplots(1, 2, sharey=True)
    letters = np.array(["N", "P", "M"])
    for ax, t, label in ((axes[0], 0, "start"), (axes[1], -1, "horizon")):
        eng = results.engagement[t].mean(axis=0)
        counts = np.stack([(results.status[t] == k).sum(axis=0) for k in range(3)])
        mode = counts.argmax(axis=0)
        im = ax.imshow(eng, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for s in range(eng.shape[0]):
            for f in range(eng.shape[1]):
                ax.text(f, s, letters[mode[s, f]], ha="center", va="center",
                        color="white" if eng[s, f] < 0.6 else "black", fontsize=9)
        ax.set_xticks(range(len(results.formats)), results.formats, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(results.states)), results.states)
        ax.set_title(f"{label}: {results.dates[t][:7]}", fontsize=10)
    fig.colorbar(im, ax=axes, label="mean engagement (0-1)", shrink=0.9)
    fig.suptitle(f"Status and engagement, scenario '{results.scenario_name}' (letter: modal status)", fontsize=11)
    fig.savefig(path, bbox_inches="tight")
    return path


def plot_all(results: Results, out_dir: Path) -> list[Path]:
    """Write the three standard figures into out_dir."""
    out_dir = Path(out_dir)
    return [plot_regional(results, out_dir / "influence.png"), plot_states(results, out_dir / "influence_states.png"),
            plot_status(results, out_dir / "status.png")]
