"""Drawing helpers shared by the chart kinds: the figure with its title and source note, a
series with its band and markers, axes, legends and labels at the end of lines.

A figure is laid out once, when it is complete (`fix_layout`), and saved without laying it
out again; labels at line ends are placed from the laid-out axes, without drawing the figure.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from catalog import Indicator
from reporting import style

TITLE_FONTSIZE = 12.0
NOTE_FONTSIZE = 7.0
SUBTITLE = {"fontweight": "normal", "fontsize": 8.8, "color": "#444444"}
# keep these together when a note is wrapped
NO_BREAK = ["CC BY 4.0", "CC BY 3.0 IGO", "PDDL 1.0", "WB FY", "(latest available)",
            "(earliest available)", "UN terms of use", "ITU terms"]


def wrap(text: str, width_in: float, fontsize: float, bold: bool = False) -> str:
    """Wrap text to a width in inches (DejaVu Sans averages ~0.55 em a character)."""
    for phrase in NO_BREAK:
        text = text.replace(phrase, phrase.replace(" ", "\u00a0"))
    chars = max(30, int(width_in * 72 / (fontsize * (0.60 if bold else 0.53))))
    return "\n".join(textwrap.wrap(text, chars, break_on_hyphens=False))


def figure(title: str, note: str, height: float, **subplots) -> tuple[Figure, np.ndarray]:
    """A report-width figure with its title above and its source note below the axes."""
    fig = Figure(figsize=(style.WIDTH_IN, height), dpi=style.DPI, layout="constrained")
    axes = fig.subplots(squeeze=False, **subplots)
    fig.suptitle(wrap(title, style.WIDTH_IN - 0.2, TITLE_FONTSIZE, bold=True), x=0.012,
                 ha="left", multialignment="left", fontsize=TITLE_FONTSIZE)
    fig.supxlabel(wrap(note, style.WIDTH_IN - 0.2, NOTE_FONTSIZE), x=0.012, ha="left",
                  multialignment="left", fontsize=NOTE_FONTSIZE, color="#444444",
                  fontweight="normal")
    return fig, axes


def subtitle(ax, text: str) -> None:
    """The axes' title, in the subtitle's style, wrapped to the plot's width."""
    ax.set_title(wrap(text, style.WIDTH_IN - 1.4, SUBTITLE["fontsize"]), **SUBTITLE)


def fix_layout(fig: Figure) -> None:
    """Lay the figure out now and keep that layout: saving it (SVG, then PNG) neither
    computes the constrained layout again nor draws the figure once more for it (savefig
    does, for a figure with any layout engine; the style sets no default, so None is none)."""
    engine = fig.get_layout_engine()
    if engine is not None:   # None: laid out already (end_labels)
        engine.execute(fig)
        fig.set_layout_engine(None)


def plot_series(ax, rows: pd.DataFrame, colour: str, *, band: bool = True,
                linewidth: float = 2.0, zorder: float = 3) -> None:
    """A line with its 90% band: solid up to the last year with reported data, dashed after
    it; filled markers where data were reported that year, hollow where none were."""
    rows = rows.sort_values("year")
    x, y = rows["year"].to_numpy(), rows["value"].to_numpy()
    if band:
        ax.fill_between(x, rows["lower"], rows["upper"], color=colour, alpha=0.2, lw=0,
                        zorder=zorder - 1)
    nowcast = rows["nowcast"].to_numpy()
    dashed_from = 0
    if (~nowcast).any():
        last = int(np.flatnonzero(~nowcast)[-1])
        ax.plot(x[: last + 1], y[: last + 1], color=colour, lw=linewidth, zorder=zorder,
                solid_capstyle="round")
        dashed_from = last
    if nowcast.any():
        ax.plot(x[dashed_from:], y[dashed_from:], color=colour, lw=linewidth,
                ls=(0, (2.2, 1.4)), zorder=zorder)
    est = rows["estimated"].to_numpy()
    ms = 4.2 if linewidth >= 1.8 else 3.4
    ax.plot(x[~est], y[~est], ls="none", marker="o", ms=ms, color=colour, zorder=zorder + 1)
    ax.plot(x[est], y[est], ls="none", marker="o", ms=ms, mfc="white", mec=colour, mew=1.2,
            zorder=zorder + 1)


def convention_handles(band: bool = True, colour: str = "#555555") -> list:
    handles = [
        Line2D([], [], color=colour, marker="o", ms=4.5, ls="none",
               label="reported data that year"),
        Line2D([], [], color=colour, marker="o", ms=4.5, mfc="white", mew=1.2, ls="none",
               label="no reported data that year"),
        Line2D([], [], color=colour, lw=2, ls=(0, (2.2, 1.4)),
               label="nowcast (after the last reported year)"),
    ]
    if band:
        handles.append(Patch(color=colour, alpha=0.25, lw=0, label="90% interval"))
    return handles


def legend_below(fig: Figure, ax, handles: list, ncols: int = 2, fontsize: float = 8) -> None:
    """A legend under the axes' tick labels (inside the layout, so nothing overlaps)."""
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, 0), ncols=ncols,
              bbox_transform=offset_copy(ax.transAxes, fig, y=-20, units="points"),
              borderaxespad=0, fontsize=fontsize, columnspacing=1.6, handlelength=2.2)


EndLabels = tuple[object, list[tuple[float, str, str]], float, float]  # ax, labels, x, size


def end_labels(fig: Figure, requests: list[EndLabels]) -> None:
    """Label lines at their right end: for each (axes, [(y, text, colour)], x, fontsize),
    spread the labels vertically so that no two overlap and none leaves the axes' vertical
    range. The spacing needs the axes' height: the figure is laid out here, once for all
    axes, and keeps that layout (moving labels within the axes' range changes no margin), so
    nothing may be added to the figure after this call."""
    placed = []
    for ax, labels, x, fontsize in requests:
        texts = [ax.annotate(text, (x, y), xytext=(7, 0), textcoords="offset points",
                             va="center", ha="left", fontsize=fontsize, color=colour,
                             fontweight="bold", annotation_clip=False)
                 for y, text, colour in labels]
        placed.append((ax, labels, texts, x, fontsize))
    fix_layout(fig)
    for ax, labels, texts, x, fontsize in placed:
        _spread(fig, ax, labels, texts, x, fontsize)


def _spread(fig: Figure, ax, labels, texts, x: float, fontsize: float) -> None:
    lo, hi = ax.get_ylim()
    height_pt = ax.get_position().height * fig.get_figheight() * 72
    unit = fontsize * 1.2 * (hi - lo) / height_pt      # one text line in data units
    n_lines = [t.get_text().count("\n") + 1 for t in texts]
    order = sorted(range(len(labels)), key=lambda i: -labels[i][0])   # top first
    ys: dict[int, float] = {}
    prev = None
    for i in order:                         # top-down: each below the one above it
        y = min(labels[i][0], hi - unit * n_lines[i] / 2)
        if prev is not None:
            y = min(y, ys[prev] - unit * (n_lines[prev] + n_lines[i]) / 2)
        ys[i] = y
        prev = i
    prev = None
    for i in reversed(order):               # bottom-up: lift any pushed below the floor
        y = max(ys[i], lo + unit * n_lines[i] / 2)
        if prev is not None:
            y = max(y, ys[prev] + unit * (n_lines[prev] + n_lines[i]) / 2)
        ys[i] = y
        prev = i
    for i, t in enumerate(texts):
        t.xy = (x, ys[i])


def value_axis(ax, indicator: Indicator, label: str = "") -> None:
    """0–100% in steps of 20 for a percentage; otherwise from 0, as the data need."""
    if indicator.unit == "percent":
        ax.set_ylim(0, 100)
        ax.set_yticks(np.arange(0, 101, 20))
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    else:
        ax.set_ylim(0, None)
    if label:
        ax.set_ylabel(label)


def year_axis(ax, first: int, last: int) -> None:
    ax.set_xlim(first - 0.6, last + 0.6)
    round_years = [y for y in range(first, last + 1) if y % 5 == 0]
    ticks = sorted({first, *round_years, last})
    keep = [t for t in ticks if t in (first, last) or (t - first >= 3 and last - t >= 2)]
    ax.set_xticks(keep)
