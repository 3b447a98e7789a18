"""The `data_coverage` chart: for each series behind a headline figure, the share of the
group's population living in economies that reported data, year by year."""
from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from catalog import groups, indicators
from reporting import style
from reporting.attribution import source_note
from reporting.data import BREAKDOWN_ORDER, ReportData
from reporting.plotting import SUBTITLE, figure, legend_below
from reporting.series import Chart, aggregate_rows, last_year, world_code

Key = tuple[str, str, str, str]   # indicator, sex, location, group


def headline_series(data: ReportData) -> list[Key]:
    """The series of the headline figures: by indicator (catalog order), breakdown, group."""
    h = data.headline
    keys = dict.fromkeys(zip(h["indicator"], h["sex"], h["location"], h["group_code"]))
    indicator_rank = {c: i for i, c in enumerate(indicators())}
    group_rank = {c: g.order for c, g in groups().items()}
    return sorted(keys, key=lambda k: (indicator_rank.get(k[0], len(indicator_rank)),
                                       BREAKDOWN_ORDER.get((k[1], k[2]), 9),
                                       group_rank.get(k[3], len(group_rank))))


def series_name(code: str, sex: str, location: str, group: str) -> str:
    """'Internet use (high income)', 'Internet use (world)', 'Internet use, women'."""
    label = style.series_label(code, sex, location)
    if group != world_code() or sex == location == "total":
        return f"{label} ({style.group_label(group).lower()})"
    return label


def data_coverage(data: ReportData, chart_id: str, members: list) -> Chart:
    end = last_year(data)
    series = headline_series(data)
    rows = pd.concat([aggregate_rows(data, c, [g], sex=s, location=loc)
                      for c, s, loc, g in series], ignore_index=True)
    first = int(rows["year"].min())
    years = list(range(first, end + 1))
    labels = [series_name(*k) for k in series]
    grid = np.full((len(series), len(years)), np.nan)
    for i, (code, sex, loc, group) in enumerate(series):
        sub = rows[(rows["indicator"] == code) & (rows["sex"] == sex)
                   & (rows["location"] == loc) & (rows["group_code"] == group)]
        for y, c in zip(sub["year"], sub["population_coverage"]):
            grid[i, years.index(int(y))] = c * 100
    title = "How much of each headline figure rests on reported data"
    note = source_note(data, [(c, s, loc) for c, s, loc, _ in series], first, end)
    fig, axes = figure(title, note, 0.3 * len(series) + 2.9)
    ax = axes[0, 0]
    cmap = mpl.colormaps["Blues"].with_extremes(bad="#EDEDED")
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=100, aspect="auto",
                   interpolation="none")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            if math.isnan(v):
                continue
            text = "–" if v == 0 else "<1" if v < 0.5 else f"{v:.0f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=6.2,
                    color="white" if v >= 55 else "#222222")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ticks = [j for j, y in enumerate(years) if y % 5 == 0 or y in (first, end)]
    ax.set_xticks(ticks, [str(years[j]) for j in ticks])
    ax.set_xticks(np.arange(-0.5, len(years), 1), minor=True)
    ax.set_yticks(np.arange(-0.5, len(series), 1), minor=True)
    ax.grid(False)
    ax.grid(which="minor", color="white", lw=1)
    ax.tick_params(which="both", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.01, aspect=25)
    cb.set_label("% of the group's population covered", fontsize=8)
    cb.ax.tick_params(labelsize=7.5)
    cb.outline.set_visible(False)
    legend_below(fig, ax, [
        Patch(fc="white", ec="#BBBBBB", label="– none reported: estimate only"),
        Patch(fc="#EDEDED", ec="none", label="not estimated for that year")], ncols=1)
    ax.set_title("% of population in economies with reported data", **SUBTITLE)

    best = {labels[i]: float(np.nanmax(grid[i])) for i in range(len(series))}
    zero_end = bool(np.all(grid[:, -1] == 0))
    thinnest = sorted(best.items(), key=lambda kv: kv[1])[:3]
    code, sex, loc, group = series[0]
    lead = rows[(rows["indicator"] == code) & (rows["sex"] == sex)
                & (rows["location"] == loc) & (rows["group_code"] == group)]
    reported = lead[~lead["estimated"]].sort_values("year")
    lead_text = (f"{labels[0]} rests on reported data for "
                 f"{reported['population_coverage'].iloc[-1] * 100:.0f}% of the population in "
                 f"{int(reported['year'].iloc[-1])}" if len(reported)
                 else f"{labels[0]} rests on no reported data")
    caption = ("Share of each headline figure's population living in economies that reported "
               "data for that year; the rest of the figure is estimated (interpolated, "
               "nowcast or modelled). "
               + (f"No economy has reported {end} data, so every {end} figure is a nowcast. "
                  if zero_end else "")
               + f"{lead_text}; the thinnest series are "
               + ", ".join(f"{k} (at most {v:.0f}% in any year)" for k, v in thinnest) + ".")
    alt = (f"Heat map with one row per headline series and one column per year from {first} to "
           f"{end}; darker cells mean a larger share of the population is covered by reported "
           "data. Highest share in any year: "
           + "; ".join(f"{k} {v:.0f}%" for k, v in best.items())
           + (f". The {end} column shows no reported data for any series." if zero_end
              else "."))
    return Chart(chart_id, title, caption, alt, note, rows, fig)
