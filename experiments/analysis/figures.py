"""Figures of an experiment folder: fan charts by scenario, per-state small multiples, outcome distributions,
and the Sobol bar chart. Each reads the store one matrix at a time, so memory stays bounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from greatgame.model.plots import colour_of, date_axis, fan, figure_legend, in_power_order, panels, save
from matplotlib import colormaps
from matplotlib.figure import Figure

from ..batch.store import Store


def _paths(store: Store, designs: list[int], state: str, power: str) -> np.ndarray:
    """Influence of `power` over `state` (or REGION) as a (T, runs) array, runs ordered by (design, replicate).
    Reads only the rows and columns it needs, so memory stays at one matrix."""
    f = (ds.field("state") == state) & (ds.field("power") == power) & ds.field("design").isin(designs)
    tab = store.read_arrow("influence", ["design", "replicate", "step", "influence"], f)
    if tab.num_rows == 0:
        return np.empty((0, 0))
    step = tab.column("step").to_numpy()
    order = np.lexsort((tab.column("replicate").to_numpy(), tab.column("design").to_numpy(), step))
    T = int(step.max()) + 1
    return tab.column("influence").to_numpy()[order].reshape(T, -1)


def _powers_and_dates(store: Store) -> tuple[list[str], pd.DatetimeIndex]:
    first = sorted((store.parts / "influence").glob("*.parquet"))[0]
    head = pd.read_parquet(first, columns=["date", "power"])
    powers = in_power_order({str(p) for p in head["power"].unique()})
    return powers, pd.to_datetime(sorted(head["date"].astype(str).unique()))


def fan_charts(store: Store, design: pd.DataFrame, out: Path) -> Path:
    """fan_regional.png: one panel per scenario, regional influence of each power (all design points pooled)."""
    scenarios = list(dict.fromkeys(design["scenario"]))
    fig, axes = panels(len(scenarios), 4, (4.2, 3.3), 110)
    top = 0.0
    powers, dates = _powers_and_dates(store)
    for i, sc in enumerate(scenarios):
        ax = axes.ravel()[i]
        designs = design.loc[design["scenario"] == sc, "design"].tolist()
        for power in powers:
            m = _paths(store, designs, "REGION", power)
            if m.size == 0:
                continue
            fan(ax, dates[: m.shape[0]], m, colour_of(power), power, singles=5)
            top = max(top, float(np.nanmax(m)))
        ax.set_title(sc, fontsize=10)
        date_axis(ax)
    axes[0, 0].set_ylim(0, top * 1.1)
    for ax in axes[:, 0]:
        ax.set_ylabel("regional influence (0-1)", fontsize=8)
    figure_legend(fig, axes, loc="upper right", fontsize=9)
    fig.suptitle("Regional influence by scenario: median, 50% and 90% bands, five single runs", fontsize=11, x=0.4)
    return save(fig, out / "fan_regional.png", rect=(0, 0, 1, 0.95))


def state_multiples(store: Store, design: pd.DataFrame, out: Path) -> Path:
    """fan_states.png: rows = states, columns = powers; a median line with a 50% band per scenario."""
    scenarios = list(dict.fromkeys(design["scenario"]))
    cmap = colormaps["tab10"]
    powers, x_all = _powers_and_dates(store)
    states = [str(x) for x in pd.read_parquet(sorted((store.parts / "status").glob("*.parquet"))[0],
                                              columns=["state"])["state"].unique()]
    quant: dict[tuple[str, str, str], np.ndarray] = {}
    for sc in scenarios:
        designs = design.loc[design["scenario"] == sc, "design"].tolist()
        for state in states:
            for power in powers:  # one matrix at a time: memory stays bounded
                m = _paths(store, designs, state, power)
                if m.size:
                    quant[(sc, state, power)] = np.nanquantile(m, [0.25, 0.5, 0.75], axis=1)
    fig, axes = panels(len(states) * len(powers), len(powers), (3.6, 2.3), 100)
    for i, s in enumerate(states):
        for j, p in enumerate(powers):
            ax = axes[i, j]
            for k, sc in enumerate(scenarios):
                q = quant.get((sc, s, p))
                if q is None:
                    continue
                x = x_all[: q.shape[1]]
                ax.fill_between(x, q[0], q[2], color=cmap(k % 10), alpha=0.15, linewidth=0)
                ax.plot(x, q[1], color=cmap(k % 10), linewidth=1.2, label=sc)
            if i == 0:
                ax.set_title(p, fontsize=10)
            if j == 0:
                ax.set_ylabel(s)
            date_axis(ax)
    figure_legend(fig, axes, columns=5, loc="lower center", fontsize=9)
    fig.suptitle("Influence by state (rows) and power (columns): median and 50% band per scenario", fontsize=11)
    return save(fig, out / "fan_states.png", rect=(0, 0.05, 1, 0.97))


def outcome_distributions(outcomes: pd.DataFrame, names: list[str], out: Path) -> Path:
    """outcomes.png: box plots of each outcome by scenario."""
    scenarios = list(dict.fromkeys(outcomes["scenario"]))
    fig, axes = panels(len(names), 3, (4.6, 3.0), 100, sharex=False, sharey=False)
    for i, name in enumerate(names):
        ax = axes.ravel()[i]
        data = [outcomes.loc[outcomes["scenario"] == sc, name].dropna().to_numpy() for sc in scenarios]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(scenarios) + 1), scenarios, rotation=35, ha="right", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Horizon outcomes by scenario (boxes: quartiles, whiskers: 1.5 IQR)", fontsize=11)
    return save(fig, out / "outcomes.png")


def sobol_figure(table: pd.DataFrame, names: list[str], out: Path) -> Path:
    """sobol.png: first- and total-order indices with their bootstrap 95% intervals (first scenario)."""
    fig = Figure(figsize=(4.5 * len(names), 3.6), dpi=100)
    axes = fig.subplots(1, len(names), squeeze=False, sharey=True)
    sc0 = table["scenario"].iloc[0]
    for ax, name in zip(axes[0], names, strict=True):
        sub = table[(table["outcome"] == name) & (table["scenario"] == sc0)]
        y = np.arange(len(sub))
        ax.barh(y - 0.2, sub["first_order"], height=0.4, label="first order",
                xerr=[sub["first_order"] - sub["first_low"], sub["first_high"] - sub["first_order"]])
        ax.barh(y + 0.2, sub["total_order"], height=0.4, label="total order",
                xerr=[sub["total_order"] - sub["total_low"], sub["total_high"] - sub["total_order"]])
        ax.set_yticks(y, [".".join(p.split(".")[-2:]) for p in sub["parameter"]], fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    axes[0, 0].legend(fontsize=8, frameon=False)
    fig.suptitle(f"Sobol indices with bootstrap 95% intervals (scenario '{sc0}')", fontsize=11)
    return save(fig, out / "sobol.png")
