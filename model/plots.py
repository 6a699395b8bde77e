"""Plots of a scenario's results (regional fan chart, per-state grid, status/engagement heat map), and the one home
of the drawing helpers that every figure of the project uses (experiments/analysis/figures.py, dashboard/figures.py,
the lever and sensitivity charts): power colours and order, the date axis, fan bands, panel grids, the status grid,
figure legends and saving."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from .results import Results

FALLBACK_COLOURS = {"RUS": "#c0392b", "CHN": "#e1a100", "USA": "#1f5fa8", "EU": "#2e8b57", "TUR": "#8e44ad"}
OTHER_COLOUR = "#555555"  # a power without a colour of its own
POWER_ORDER = tuple(FALLBACK_COLOURS)  # the order powers are drawn and listed in; others follow
STATUS_LETTERS = np.array(["N", "P", "M"])  # none, partial, member


# ------------------------------------------------------------------------------------------- shared helpers
def colour_of(power: str, colours: Mapping[str, str | None] | None = None) -> str:
    """The power's fixed colour: `colours[power]` (a scenario's `colour`), else the house default, else grey."""
    return (colours or {}).get(power) or FALLBACK_COLOURS.get(power, OTHER_COLOUR)


def power_colour(results: Results, power: str) -> str:
    """The power's colour in a result: the scenario's `colour`, else the house default, else grey."""
    return colour_of(power, results.colours)


def in_power_order(powers: Iterable[str]) -> list[str]:
    """Powers in the house order (POWER_ORDER), any others after them."""
    return sorted(powers, key=lambda p: POWER_ORDER.index(p) if p in POWER_ORDER else len(POWER_ORDER))


def fan(ax: Axes, x: pd.DatetimeIndex, series: np.ndarray, colour: str, label: str, singles: int = 0) -> None:
    """Median line with 50% and 90% bands over runs, and `singles` faint single runs; series is (T, R)."""
    q = np.nanquantile(series, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    for k in range(min(singles, series.shape[1])):
        ax.plot(x, series[:, k], color=colour, alpha=0.25, linewidth=0.6)
    ax.fill_between(x, q[0], q[4], color=colour, alpha=0.15, linewidth=0)
    ax.fill_between(x, q[1], q[3], color=colour, alpha=0.3, linewidth=0)
    ax.plot(x, q[2], color=colour, linewidth=2, label=label)


def power_fans(ax: Axes, x: pd.DatetimeIndex, series: np.ndarray, powers: list[str],
               colours: Mapping[str, str | None] | None = None) -> None:
    """One fan per power (`fan`) on one axis; series is (T, R, P) in the order of `powers`."""
    for j, p in enumerate(powers):
        fan(ax, x, series[:, :, j], colour_of(p, colours), p)


def date_axis(ax: Axes) -> None:
    """Years every two years on the x axis, and a faint grid."""
    ax.xaxis.set_major_locator(mdates.YearLocator(2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.grid(alpha=0.3)


def panels(n: int, most: int, panel: tuple[float, float], dpi: int, sharex: bool = True,
           sharey: bool = True) -> tuple[Figure, np.ndarray]:
    """A figure of `n` panels in rows of at most `most`, each `panel` inches (width, height): the figure and its
    (rows, cols) axes, the axes after the n-th switched off."""
    cols = min(most, n)
    rows = -(-n // cols)
    fig = Figure(figsize=(panel[0] * cols, panel[1] * rows), dpi=dpi)
    axes = fig.subplots(rows, cols, sharex=sharex, sharey=sharey, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes


def figure_legend(fig: Figure, axes: np.ndarray, columns: int | None = None, **kwargs: object) -> None:
    """One legend for the whole figure: each label of any panel once, in at most `columns` columns (default: one
    row), without a frame (kwargs to fig.legend)."""
    handles = {h.get_label(): h for ax in np.ravel(axes) for h in ax.get_legend_handles_labels()[0]}
    ncol = len(handles) if columns is None else min(len(handles), columns)
    fig.legend(handles.values(), handles.keys(), ncol=max(ncol, 1), frameon=False, **kwargs)


def status_grid(ax: Axes, engagement: np.ndarray, status: np.ndarray, states: list[str], formats: list[str],
                active: np.ndarray | None = None, fontsize: int = 9) -> AxesImage:
    """Mean engagement of each state (rows) in each format (columns) on a 0-1 colour scale, each cell labelled with
    the modal status over runs (N, P, M); engagement (S, F), status (R, S, F); `active` (F,) blanks the formats not
    active. Returns the image (for a colour bar)."""
    mode = np.stack([(status == k).sum(axis=0) for k in range(len(STATUS_LETTERS))]).argmax(axis=0)
    shown = engagement if active is None else np.where(active[None, :], engagement, np.nan)
    im = ax.imshow(shown, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for s in range(engagement.shape[0]):
        for f in range(engagement.shape[1]):
            if active is None or active[f]:
                ax.text(f, s, STATUS_LETTERS[mode[s, f]], ha="center", va="center", fontsize=fontsize,
                        color="white" if engagement[s, f] < 0.6 else "black")
    ax.set_xticks(range(len(formats)), formats, rotation=40, ha="right", fontsize=fontsize - 1)
    ax.set_yticks(range(len(states)), states, fontsize=fontsize - 1)
    return im


def save(fig: Figure, path: Path, **tight: object) -> Path:
    """tight_layout (kwargs, e.g. rect) and write the figure to path; returns path."""
    fig.tight_layout(**tight)
    fig.savefig(path)
    return path


# ------------------------------------------------------------------------------------------- a scenario's figures
def plot_regional(results: Results, path: Path) -> Path:
    """influence.png: regional influence of each power over time (median, 50% and 90% bands across runs)."""
    fig = Figure(figsize=(9, 5.2), dpi=120)
    ax = fig.subplots()
    power_fans(ax, pd.to_datetime(results.dates), results.regional_total, results.powers, results.colours)
    ax.set_ylim(0, max(0.05, float(np.nanmax(results.regional_total)) * 1.15))
    ax.set_ylabel("regional influence (GDP-weighted, 0-1)")
    ax.set_title(f"Regional influence, scenario '{results.scenario_name}' "
                 f"({len(results.runs)} runs; line: median, bands: 50% and 90%)", fontsize=10)
    date_axis(ax)
    ax.legend(loc="upper left", ncol=len(results.powers), frameon=False)
    return save(fig, path)


def plot_states(results: Results, path: Path) -> Path:
    """influence_states.png: one panel per state, each power's influence (median and bands), shared y axis."""
    x = pd.to_datetime(results.dates)
    names = [*results.states, "REGION"]
    fig, axes = panels(len(names), 3, (4, 3.4), 110)
    top = float(np.nanmax(results.totals)) * 1.1
    for i, (ax, name) in enumerate(zip(axes.ravel(), names, strict=False)):
        power_fans(ax, x, results.totals[:, :, i], results.powers, results.colours)
        ax.set_title(name, fontsize=10)
        ax.set_ylim(0, top)
        date_axis(ax)
    axes[0, 0].legend(loc="upper left", frameon=False, fontsize=8)
    fig.suptitle(f"Influence by state, scenario '{results.scenario_name}' (median, 50% and 90% bands)", fontsize=11)
    return save(fig, path)


def plot_status(results: Results, path: Path) -> Path:
    """status.png: mean engagement per state and format at the start and at the horizon, each cell labelled with
    the modal status over runs (N none, P partial, M member)."""
    fig = Figure(figsize=(12, 3.8), dpi=110)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, t, label in ((axes[0], 0, "start"), (axes[1], -1, "horizon")):
        im = status_grid(ax, results.engagement[t].mean(axis=0), results.status[t], results.states, results.formats)
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
