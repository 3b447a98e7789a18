"""The report's charts: one function per chart, each taking the data read from the database
and returning a `Chart` with its matplotlib figure and the rows actually plotted.

Conventions shared by every chart (reporting/style.mplstyle, reporting/style.py):
- values are population-weighted group means from `aggregates` (or `aggregates_derived`); the
  shaded band or whisker is the 90% interval;
- a filled marker is a year in which economies of the group reported data; a hollow marker is
  a year with no reported data (population_coverage = 0): an estimate only;
- the line is dashed after the last year with reported data: the nowcast.
"""
from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from catalog import groups_of
from reporting import style
from reporting.attribution import source_note
from reporting.data import ReportData

FIRST_YEAR = 2005
KEY = ["table", "indicator", "measure", "sex", "location", "group_scheme", "group_code"]
PLOTTED_COLUMNS = ["table", "indicator", "measure", "sex", "location", "group_scheme",
                   "group_code", "group_name", "year", "value", "lower", "upper", "unit",
                   "population_coverage", "estimated", "nowcast"]
TITLE_FONTSIZE = 12.0
NOTE_FONTSIZE = 7.0
SUBTITLE = {"fontweight": "normal", "fontsize": 8.8, "color": "#444444"}
# keep these together when a note is wrapped
NO_BREAK = ["CC BY 4.0", "CC BY 3.0 IGO", "PDDL 1.0", "WB FY", "(latest available)",
            "(earliest available)", "UN terms of use", "ITU terms"]


@dataclass
class Chart:
    id: str
    title: str
    caption: str
    alt_text: str
    source_note: str
    data: pd.DataFrame                       # the rows plotted, PLOTTED_COLUMNS
    figure: Figure | None = field(default=None, repr=False)

    def sidecar(self) -> dict:
        records = json.loads(self.data.to_json(orient="records", double_precision=15))
        return {"id": self.id, "title": self.title, "caption": self.caption,
                "alt_text": self.alt_text, "source_note": self.source_note,
                "files": {"svg": f"{self.id}.svg", "png": f"{self.id}.png",
                          "alt_text": f"{self.id}.alt.txt"},
                "data": records}


# ---------------------------------------------------------------------------------------------
# data selection

def mark_estimates(frame: pd.DataFrame) -> pd.DataFrame:
    """`estimated`: no reported data that year (coverage 0); `nowcast`: after the last year
    of the series with reported data (every year if no year has any)."""
    frame = frame.copy()
    cov = frame["population_coverage"].fillna(0)
    frame["estimated"] = cov <= 0
    reported_year = frame["year"].where(cov > 0)
    last = reported_year.groupby([frame[k].fillna("") for k in KEY]).transform("max")
    frame["nowcast"] = last.isna() | (frame["year"] > last)
    return frame


def aggregate_rows(data: ReportData, indicator: str, groups: list[str], sex: str = "total",
                   location: str = "total", first_year: int = FIRST_YEAR,
                   years: list[int] | None = None) -> pd.DataFrame:
    """Rows of `aggregates` for one series and some groups, as plotted."""
    a = data.aggregates
    rows = a[(a["indicator"] == indicator) & (a["sex"] == sex) & (a["location"] == location)
             & a["group_code"].isin(groups) & (a["year"] >= first_year)]
    rows = rows.assign(table="aggregates", measure=None)
    rows = mark_estimates(rows)
    if years is not None:
        rows = rows[rows["year"].isin(years)]
    rows["group_name"] = rows["group_code"].map(style.group_label)
    return rows[PLOTTED_COLUMNS].sort_values(["group_code", "year"]).reset_index(drop=True)


def derived_rows(data: ReportData, indicator: str, measure: str, groups: list[str],
                 first_year: int = FIRST_YEAR) -> pd.DataFrame:
    """Rows of `aggregates_derived` (e.g. the gender parity score), as plotted."""
    d = data.derived
    rows = d[(d["indicator"] == indicator) & (d["measure"] == measure)
             & d["group_code"].isin(groups) & (d["year"] >= first_year)]
    rows = mark_estimates(rows.assign(table="aggregates_derived"))
    rows["group_name"] = rows["group_code"].map(style.group_label)
    return rows[PLOTTED_COLUMNS].sort_values(["group_code", "year"]).reset_index(drop=True)


def last_year(data: ReportData) -> int:
    return int(data.aggregates["year"].max())


def _at(frame: pd.DataFrame, year: int, **where) -> pd.Series:
    rows = frame[frame["year"] == year]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    if len(rows) != 1:
        raise LookupError(f"expected one row for {year} {where}, found {len(rows)}")
    return rows.iloc[0]


# ---------------------------------------------------------------------------------------------
# text

def pct(v: float, digits: int = 1) -> str:
    return f"{v:.{digits}f}%"


def interval(lower: float, upper: float, digits: int = 1, unit: str = "%") -> str:
    return f"{lower:.{digits}f}–{upper:.{digits}f}{unit}"


def year_span(years) -> str:
    years = sorted(int(y) for y in years)
    if not years:
        return ""
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def wrap(text: str, width_in: float, fontsize: float, bold: bool = False) -> str:
    """Wrap text to a width in inches (DejaVu Sans averages ~0.55 em a character)."""
    for phrase in NO_BREAK:
        text = text.replace(phrase, phrase.replace(" ", "\u00a0"))
    chars = max(30, int(width_in * 72 / (fontsize * (0.60 if bold else 0.53))))
    return "\n".join(textwrap.wrap(text, chars, break_on_hyphens=False))


def _coverage_phrase(rows: pd.DataFrame, population: str = "population") -> str:
    """'the last year with reported data is 2024 (97% of the population covered)'."""
    reported = rows[~rows["estimated"]]
    if reported.empty:
        return "no year has reported data"
    last = reported.sort_values("year").iloc[-1]
    return (f"the last year with reported data is {int(last['year'])} "
            f"({last['population_coverage'] * 100:.0f}% of the {population} covered)")


def _nowcast_sentence(rows: pd.DataFrame) -> str:
    years = rows.loc[rows["nowcast"], "year"].unique()
    if not len(years):
        return ""
    span = year_span(years)
    verb = "is a nowcast" if len(years) == 1 else "are nowcasts"
    return f"{span} {verb} (dashed): no economy has reported data for {'it' if len(years) == 1 else 'them'} yet"


# ---------------------------------------------------------------------------------------------
# drawing helpers

def _figure(title: str, note: str, height: float, **subplots) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(figsize=(style.WIDTH_IN, height), layout="constrained",
                             squeeze=False, **subplots)
    fig.suptitle(wrap(title, style.WIDTH_IN - 0.2, TITLE_FONTSIZE, bold=True), x=0.012,
                 ha="left", multialignment="left", fontsize=TITLE_FONTSIZE)
    fig.supxlabel(wrap(note, style.WIDTH_IN - 0.2, NOTE_FONTSIZE), x=0.012, ha="left",
                  multialignment="left", fontsize=NOTE_FONTSIZE, color="#444444",
                  fontweight="normal")
    return fig, axes


def _plot_series(ax, rows: pd.DataFrame, colour: str, *, band: bool = True,
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


def _convention_handles(band: bool = True, colour: str = "#555555") -> list:
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


def _legend_below(fig: Figure, ax, handles: list, ncols: int = 2, fontsize: float = 8) -> None:
    """A legend under the axes' tick labels (inside the layout, so nothing overlaps)."""
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, 0), ncols=ncols,
              bbox_transform=offset_copy(ax.transAxes, fig, y=-20, units="points"),
              borderaxespad=0, fontsize=fontsize, columnspacing=1.6, handlelength=2.2)


def _end_labels(fig: Figure, ax, labels: list[tuple[float, str, str]], x: float,
                fontsize: float = 8.5) -> None:
    """Label lines at their right end, spread vertically so that no two labels overlap and
    none leaves the axes' vertical range."""
    if not labels:
        return
    texts = [ax.annotate(text, (x, y), xytext=(7, 0), textcoords="offset points",
                         va="center", ha="left", fontsize=fontsize, color=colour,
                         fontweight="bold", annotation_clip=False)
             for y, text, colour in labels]
    fig.draw_without_rendering()            # lay out once to know the axes' height
    lo, hi = ax.get_ylim()
    height_pt = ax.get_window_extent().height * 72 / fig.dpi
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


def _percent_axis(ax, label: str = "", top: float = 100) -> None:
    ax.set_ylim(0, top)
    ax.set_yticks(np.arange(0, top + 1, 20))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    if label:
        ax.set_ylabel(label)


def _year_axis(ax, first: int, last: int) -> None:
    ax.set_xlim(first - 0.6, last + 0.6)
    round_years = [y for y in range(first, last + 1) if y % 5 == 0]
    ticks = sorted({first, *round_years, last})
    keep = [t for t in ticks if t in (first, last) or (t - first >= 3 and last - t >= 2)]
    ax.set_xticks(keep)


# ---------------------------------------------------------------------------------------------
# the charts

def internet_world(data: ReportData) -> Chart:
    end = last_year(data)
    rows = aggregate_rows(data, "IT_USE_ii99", ["WLD"])
    first = int(rows["year"].min())
    r0, r1 = _at(rows, first), _at(rows, end)
    mid_year = first + (end - first) // 2
    mid = _at(rows, mid_year)
    title = f"Internet use worldwide, {first}–{end}"
    note = source_note(data, [("IT_USE_ii99", "total", "total")], first, end)
    fig, axes = _figure(title, note, 4.4)
    ax = axes[0, 0]
    colour = style.group_colour("WLD")
    _plot_series(ax, rows, colour)
    _percent_axis(ax, "Population using the Internet")
    _year_axis(ax, first, end)
    ax.set_title("Share of the world population using the Internet", **SUBTITLE)
    ax.annotate(f"{pct(r1['value'])}\n90% interval\n{interval(r1['lower'], r1['upper'])}",
                (end, r1["value"]), xytext=(-10, 12), textcoords="offset points", ha="right",
                va="bottom", fontsize=8.5, fontweight="bold", multialignment="right")
    ax.annotate(pct(r0["value"]), (first, r0["value"]), xytext=(2, 9),
                textcoords="offset points", ha="left", va="bottom", fontsize=8.5,
                fontweight="bold")
    _legend_below(fig, ax, _convention_handles(colour=colour))
    nowcast = _nowcast_sentence(rows)
    caption = (f"Internet use worldwide rose from {pct(r0['value'])} of the population in "
               f"{first} to {pct(r1['value'])} in {end} (90% interval "
               f"{interval(r1['lower'], r1['upper'])}). "
               + (f"{nowcast}; " if nowcast else "") + _coverage_phrase(rows) + ".")
    alt = (f"Line chart of the share of the world population using the Internet, {first} to "
           f"{end}. The line rises steadily from {pct(r0['value'])} in {first} to "
           f"{pct(mid['value'])} in {mid_year} and {pct(r1['value'])} in {end}. "
           f"A shaded band shows the 90% interval; it is narrow while the figure rests on "
           f"reported data and widest in {end} ({interval(r1['lower'], r1['upper'])}). "
           + ("The line is dashed, with hollow markers, over the nowcast years "
              f"({year_span(rows.loc[rows['nowcast'], 'year'])})."
              if rows["nowcast"].any() else ""))
    return Chart("internet_world", title, caption, alt, note, rows, fig)


def _group_lines(data: ReportData, indicator: str, groups: list[str], title: str,
                 subtitle: str, ylabel: str) -> tuple[pd.DataFrame, str, str, Figure, int, int]:
    end = last_year(data)
    rows = aggregate_rows(data, indicator, groups)
    first = int(rows["year"].min())
    title = title.format(first=first, end=end)
    note = source_note(data, [(indicator, "total", "total")], first, end)
    fig, axes = _figure(title, note, 4.7)
    ax = axes[0, 0]
    for code in groups:
        world = code == "WLD"
        _plot_series(ax, rows[rows["group_code"] == code], style.group_colour(code),
                     linewidth=1.4 if world else 2.0, zorder=2 if world else 3)
    _percent_axis(ax, ylabel)
    _year_axis(ax, first, end)
    ax.set_title(subtitle, **SUBTITLE)
    _legend_below(fig, ax, _convention_handles())
    ends = [_at(rows, end, group_code=c) for c in groups]
    _end_labels(fig, ax, [(r["value"], f"{style.short_label(c)} {r['value']:.0f}%",
                           style.group_colour(c)) for c, r in zip(groups, ends)], end)
    return rows, title, note, fig, first, end


def internet_income(data: ReportData) -> Chart:
    groups = ["WLD", *groups_of("income")]
    rows, title, note, fig, first, end = _group_lines(
        data, "IT_USE_ii99", groups, "Internet use by income group, {first}–{end}",
        "Share of the population using the Internet, by World Bank income group",
        "Population using the Internet")
    v = {c: _at(rows, end, group_code=c) for c in groups}
    v0 = {c: _at(rows, first, group_code=c) for c in groups}
    a = data.aggregates
    cls_end = a[(a["group_scheme"] == "income") & (a["year"] == end)
                & (a["indicator"] == "IT_USE_ii99")]["classification"].iloc[0]
    cls_first = a[(a["group_scheme"] == "income") & (a["year"] == first)
                  & (a["indicator"] == "IT_USE_ii99")]["classification"].iloc[0]
    gap, gap0 = (v["HIC"]["value"] - v["LIC"]["value"], v0["HIC"]["value"] - v0["LIC"]["value"])
    caption = (f"In {end}, {pct(v['HIC']['value'])} of people in high-income economies used "
               f"the Internet against {pct(v['LIC']['value'])} in low-income economies: a gap "
               f"of {gap:.0f} percentage points ({gap0:.0f} in {first}). Each year's groups "
               f"follow the World Bank classification published in July of that year "
               f"({cls_first} for {first} to {cls_end} for {end}), so economies move between "
               f"groups over time. {_nowcast_sentence(rows[rows['group_code'] == 'WLD'])}.")
    alt = (f"Line chart of Internet use from {first} to {end} for the world and the four World "
           f"Bank income groups; every group rises. {end} values: "
           + "; ".join(f"{style.group_label(c)} {pct(v[c]['value'])} "
                       f"({interval(v[c]['lower'], v[c]['upper'])})" for c in groups)
           + f". {first} values: "
           + "; ".join(f"{style.group_label(c)} {pct(v0[c]['value'])}" for c in groups)
           + ". High-income economies approach saturation while low-income economies remain "
             "far behind.")
    return Chart("internet_income", title, caption, alt, note, rows, fig)


def coverage_4g(data: ReportData) -> Chart:
    groups = ["WLD", *groups_of("income"), "LDC"]
    rows, title, note, fig, first, end = _group_lines(
        data, "IT_MOB_4GNTWK", groups, "4G mobile network coverage by group, {first}–{end}",
        "Share of the population within range of at least a 4G mobile network",
        "Population covered")
    v = {c: _at(rows, end, group_code=c) for c in groups}
    world = rows[rows["group_code"] == "WLD"]
    caption = (f"Population covered by at least a 4G mobile network: {pct(v['WLD']['value'])} "
               f"worldwide in {end} (90% interval "
               f"{interval(v['WLD']['lower'], v['WLD']['upper'])}), "
               f"{pct(v['LIC']['value'])} in low-income economies and "
               f"{pct(v['LDC']['value'])} in the least developed countries (LDCs). "
               f"{_coverage_phrase(world)[0].upper()}{_coverage_phrase(world)[1:]}; "
               f"{year_span(world.loc[world['nowcast'], 'year'])} are nowcasts (dashed). "
               "Near full coverage the interval is skewed and the point can sit at its upper "
               "edge. Income groups follow the World Bank classification of each year.")
    alt = (f"Line chart of 4G network coverage from {first} to {end} for the world, the four "
           f"World Bank income groups and the least developed countries. Coverage spreads "
           f"fast after {first}. {end} values: "
           + "; ".join(f"{style.group_label(c)} {pct(v[c]['value'])}" for c in groups)
           + ". High- and upper-middle-income economies are close to full coverage; "
             "low-income economies and the least developed countries lag behind, with wide "
             "intervals after the last reported year.")
    return Chart("coverage_4g", title, caption, alt, note, rows, fig)


def internet_urban_rural(data: ReportData) -> Chart:
    end = last_year(data)
    parts = {loc: aggregate_rows(data, "IT_USE_ii99", ["WLD"], location=loc)
             for loc in ("urban", "rural", "total")}
    rows = pd.concat(parts.values(), ignore_index=True)
    first = int(rows["year"].min())
    title = f"Internet use in urban and rural areas worldwide, {first}–{end}"
    note = source_note(data, [("IT_USE_ii99", "total", "urban"),
                              ("IT_USE_ii99", "total", "rural")], first, end)
    fig, axes = _figure(title, note, 4.5)
    ax = axes[0, 0]
    ax.plot(parts["total"]["year"], parts["total"]["value"], color="#8C8C8C", lw=1.3,
            ls=":", zorder=2)
    for loc in ("urban", "rural"):
        _plot_series(ax, parts[loc], style.LOCATION_COLOURS[loc])
    _percent_axis(ax, "Population using the Internet")
    _year_axis(ax, first, end)
    ax.set_title("Share of the urban and of the rural population using the Internet",
                 **SUBTITLE)
    u, r, t = (_at(parts[k], end) for k in ("urban", "rural", "total"))
    handles = _convention_handles() + [
        Line2D([], [], color="#8C8C8C", lw=1.3, ls=":", label="all areas (for reference)")]
    _legend_below(fig, ax, handles)
    _end_labels(fig, ax, [(u["value"], f"Urban {u['value']:.0f}%",
                           style.LOCATION_COLOURS["urban"]),
                          (r["value"], f"Rural {r['value']:.0f}%",
                           style.LOCATION_COLOURS["rural"]),
                          (t["value"], f"All {t['value']:.0f}%", "#6E6E6E")], end)
    members = pd.concat([parts["urban"], parts["rural"]])
    reported = members[~members["estimated"]]
    if len(reported):
        best = reported.sort_values("population_coverage").iloc[-1]
        cov = (f"Reported urban and rural figures exist only for "
               f"{year_span(reported['year'])} and cover at most "
               f"{best['population_coverage'] * 100:.0f}% of the world population in any "
               f"year ({int(best['year'])}); the other years (hollow markers) rest on each "
               "economy's urban–rural gap, held constant relative to its total.")
    else:
        cov = "No urban or rural figure was reported: all rest on modelled gaps."
    u0, r0 = _at(parts["urban"], first), _at(parts["rural"], first)
    gap0, gap1 = u0["value"] - r0["value"], u["value"] - r["value"]
    trend = "widens" if gap1 > gap0 + 0.5 else "narrows" if gap1 < gap0 - 0.5 else "stays"
    caption = (f"In {end}, an estimated {pct(u['value'])} of urban dwellers and "
               f"{pct(r['value'])} of rural dwellers used the Internet (90% intervals "
               f"{interval(u['lower'], u['upper'])} and {interval(r['lower'], r['upper'])}). "
               + cov)
    alt = (f"Line chart of Internet use in urban and rural areas worldwide, {first} to {end}, "
           f"with a dotted line for all areas between them. Urban use rises from "
           f"{pct(u0['value'])} to {pct(u['value'])} and rural use from {pct(r0['value'])} "
           f"to {pct(r['value'])}; the gap between them {trend} "
           + (f"from {gap0:.0f} to {gap1:.0f} percentage points. " if trend != "stays"
              else f"at about {gap1:.0f} percentage points. ")
           + "Most markers are hollow because few economies report urban and rural figures.")
    return Chart("internet_urban_rural", title, caption, alt, note, rows, fig)


def gender(data: ReportData) -> Chart:
    end = last_year(data)
    panels = [("IT_USE_ii99", "Internet use"), ("IT_MOB_OWN", "Mobile phone ownership, 10+")]
    sexes, gps = {}, {}
    for code, _ in panels:
        for sex in ("female", "male"):
            sexes[code, sex] = aggregate_rows(data, code, ["WLD"], sex=sex)
        gps[code] = derived_rows(data, code, "gender_parity_score", ["WLD"])
    rows = pd.concat([*sexes.values(), *gps.values()], ignore_index=True)
    title = "Internet use and mobile phone ownership by sex, world"
    note = source_note(data, [(c, s, "total") for c, _ in panels for s in ("female", "male")],
                       int(rows["year"].min()), end)
    fig, axes = _figure(title, note, 6.4, nrows=2, ncols=2, sharex="col",
                        gridspec_kw={"height_ratios": [3, 2]})
    facts = {}
    for j, (code, label) in enumerate(panels):
        ax, ax2 = axes[0, j], axes[1, j]
        first = int(sexes[code, "female"]["year"].min())
        for sex in ("female", "male"):
            _plot_series(ax, sexes[code, sex], style.SEX_COLOURS[sex], linewidth=1.8)
        _percent_axis(ax, "Share of population" if j == 0 else "")
        ax.set_title(label, fontsize=9.5)
        f, m = _at(sexes[code, "female"], end), _at(sexes[code, "male"], end)
        _end_labels(fig, ax, [(f["value"], f"Women\n{f['value']:.0f}%", style.SEX_COLOURS["female"]),
                              (m["value"], f"Men\n{m['value']:.0f}%", style.SEX_COLOURS["male"])],
                    end, fontsize=8)
        g = gps[code]
        ax2.axhspan(0.98, 1.02, color="#009E73", alpha=0.18, lw=0)
        ax2.text(first, 1.035, "parity: 0.98–1.02", fontsize=7.5, color="#00704F",
                 va="bottom", ha="left")
        _plot_series(ax2, g, "#444444", linewidth=1.8)
        ax2.set_ylim(0.7, 1.1)
        ax2.set_yticks([0.7, 0.8, 0.9, 1.0])
        ax2.yaxis.set_major_formatter(lambda v, _: f"{v:.1f}")
        if j == 0:
            ax2.set_ylabel("Gender parity score\n(women ÷ men)")
        _year_axis(ax2, first, end)
        ge = _at(g, end)
        ax2.annotate(f"{ge['value']:.2f}\n({ge['lower']:.2f}–{ge['upper']:.2f})",
                     (end, ge["lower"]), xytext=(0, -4), textcoords="offset points",
                     ha="right", va="top", fontsize=7.5, fontweight="bold")
        facts[code] = (f, m, ge, first)
    handles = _convention_handles()
    for h, short in zip(handles, ["reported", "none reported", "nowcast", "90% interval"]):
        h.set_label(short)
    axes[0, 0].legend(handles=handles, loc="upper left", fontsize=7.2, ncols=2,
                      handlelength=1.8, columnspacing=1.0)
    (fi, mi, gi, first_i), (fo, mo, go, first_o) = facts["IT_USE_ii99"], facts["IT_MOB_OWN"]
    cov_i = _coverage_phrase(sexes["IT_USE_ii99", "female"], "female population")
    cov_o = _coverage_phrase(sexes["IT_MOB_OWN", "female"], "female population aged 10+")
    caption = (f"In {end}, an estimated {pct(fi['value'])} of women and {pct(mi['value'])} of "
               f"men used the Internet (gender parity score {gi['value']:.2f}, 90% interval "
               f"{gi['lower']:.2f}–{gi['upper']:.2f}), and {pct(fo['value'])} of women and "
               f"{pct(mo['value'])} of men aged 10 and over owned a mobile phone (score "
               f"{go['value']:.2f}, {go['lower']:.2f}–{go['upper']:.2f}). The gender parity "
               "score is women's value divided by men's; 0.98–1.02 counts as parity. For "
               f"Internet use by sex {cov_i}; for phone ownership {cov_o}. Ownership is the "
               "nearest series to the 'use of a mobile phone' quoted in WSIS+20 paragraph 22.")
    alt = (f"Four-panel chart. Top left: Internet use of women and men worldwide, {first_i} to "
           f"{end}, both rising, men above women throughout; {end}: women "
           f"{pct(fi['value'])}, men {pct(mi['value'])}. Top right: mobile phone ownership, "
           f"aged 10 and over, {first_o} to {end}; {end}: women {pct(fo['value'])}, men "
           f"{pct(mo['value'])}, with wide intervals. Bottom panels: the gender parity score "
           f"(women divided by men) stays below the parity zone of 0.98 to 1.02, at "
           f"{gi['value']:.2f} for Internet use and {go['value']:.2f} for phone ownership in "
           f"{end}.")
    return Chart("gender", title, caption, alt, note, rows, fig)


def sdg_regions(data: ReportData) -> Chart:
    end = last_year(data)
    full = aggregate_rows(data, "IT_USE_ii99", [*groups_of("sdg_region"), "WLD"])
    regional = full[full["group_code"] != "WLD"]
    reported_years = regional.loc[~regional["estimated"] & (regional["year"] < end), "year"]
    base = int(reported_years.max()) if len(reported_years) else end - 1
    rows = full[full["year"].isin([base, end])].reset_index(drop=True)
    title = f"Internet use by SDG region, {base} and {end}"
    note = source_note(data, [("IT_USE_ii99", "total", "total")], base, end)
    fig, axes = _figure(title, note, 5.0)
    ax = axes[0, 0]
    now = rows[(rows["year"] == end) & (rows["group_code"] != "WLD")]
    order = list(now.sort_values("value")["group_code"])
    for i, code in enumerate(order):
        b, e = _at(rows, base, group_code=code), _at(rows, end, group_code=code)
        ax.barh(i, b["value"], height=0.62, color=style.group_colour(code), zorder=2)
        ax.errorbar(b["value"], i, xerr=[[b["value"] - b["lower"]], [b["upper"] - b["value"]]],
                    fmt="none", ecolor="#222222", elinewidth=0.9, capsize=2, zorder=3)
        ax.errorbar(e["value"], i, xerr=[[e["value"] - e["lower"]], [e["upper"] - e["value"]]],
                    fmt="o", ms=6, mfc="white", mec="#222222", mew=1.4, ecolor="#222222",
                    elinewidth=1.1, capsize=2.5, zorder=4)
        ax.text(max(e["upper"], b["upper"]) + 1.5, i, f"{e['value']:.0f}%", va="center",
                ha="left", fontsize=8.5, fontweight="bold")
    w = _at(rows, end, group_code="WLD")
    ax.axvline(w["value"], color="#222222", lw=1, ls=(0, (4, 2)), zorder=1)
    ax.text(w["value"], len(order) - 0.45, f"World {end}: {w['value']:.0f}%", ha="center",
            va="bottom", fontsize=8, bbox={"fc": "white", "ec": "none", "pad": 1})
    ax.set_yticks(range(len(order)),
                  [textwrap.fill(style.group_label(c), 24) for c in order], fontsize=8.5)
    ax.set_xlim(0, 108)
    ax.set_xticks(np.arange(0, 101, 20))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    ax.set_ylim(-0.6, len(order) - 0.05)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.set_title(f"Share of the population using the Internet; labels: {end}", **SUBTITLE)
    handles = [Patch(color="#8C8C8C", label=f"{base}: last year with reported data"),
               Line2D([], [], ls="none", marker="o", ms=6, mfc="white", mec="#222222",
                      mew=1.4, label=f"{end}: nowcast, no reported data"),
               Line2D([], [], color="#222222", lw=1, marker="|", ms=6,
                      label="90% interval")]
    _legend_below(fig, ax, handles, ncols=2)
    hi, lo = _at(rows, end, group_code=order[-1]), _at(rows, end, group_code=order[0])
    bw = _at(rows, base, group_code="WLD")
    caption = (f"Share of the population using the Internet in the eight SDG regions: bars "
               f"for {base}, the last year with reported data (covering "
               f"{bw['population_coverage'] * 100:.0f}% of the world population), circles for "
               f"the {end} nowcast, both with 90% intervals. In {end} the share ranges from "
               f"{pct(lo['value'])} in {style.group_label(order[0])} to {pct(hi['value'])} in "
               f"{style.group_label(order[-1])}; the world figure is {pct(w['value'])}.")
    alt = (f"Horizontal bar chart of Internet use by SDG region, sorted from lowest to highest, "
           f"with bars for {base} and circles for the {end} nowcast. {end} values: "
           + "; ".join(f"{style.group_label(c)} {pct(_at(rows, end, group_code=c)['value'])} "
                       f"({base}: {pct(_at(rows, base, group_code=c)['value'])})"
                       for c in order)
           + f". A dashed vertical line marks the world value, {pct(w['value'])}.")
    return Chart("sdg_regions", title, caption, alt, note, rows, fig)


# The series behind the WSIS+20 headline figures, in reading order (the headline table
# decides which are shown; unknown ones go last).
HEADLINE_ORDER = [
    ("IT_USE_ii99", "total", "total", "WLD"),
    ("IT_USE_ii99", "total", "total", "HIC"),
    ("IT_USE_ii99", "total", "total", "LIC"),
    ("IT_USE_ii99", "total", "urban", "WLD"),
    ("IT_USE_ii99", "total", "rural", "WLD"),
    ("IT_USE_ii99", "female", "total", "WLD"),
    ("IT_USE_ii99", "male", "total", "WLD"),
    ("IT_MOB_OWN", "total", "total", "WLD"),
    ("IT_MOB_OWN", "female", "total", "WLD"),
    ("IT_MOB_OWN", "male", "total", "WLD"),
    ("IT_MOB_4GNTWK", "total", "total", "WLD"),
]


def headline_series(data: ReportData) -> list[tuple[str, str, str, str]]:
    h = data.headline
    keys = list(dict.fromkeys(zip(h["indicator"], h["sex"], h["location"], h["group_code"])))
    rank = {k: i for i, k in enumerate(HEADLINE_ORDER)}
    return sorted(keys, key=lambda k: rank.get(k, len(rank))) or HEADLINE_ORDER


def _series_name(code: str, sex: str, loc: str, group: str) -> str:
    label = style.series_label(code, sex, loc)
    return label + (f" ({style.group_label(group).lower()})" if group != "WLD" else
                    (" (world)" if sex == loc == "total" else ""))


def data_coverage(data: ReportData) -> Chart:
    end = last_year(data)
    series = headline_series(data)
    rows = pd.concat([aggregate_rows(data, c, [g], sex=s, location=loc)
                      for c, s, loc, g in series], ignore_index=True)
    first = int(rows["year"].min())
    years = list(range(first, end + 1))
    labels = [_series_name(*k) for k in series]
    grid = np.full((len(series), len(years)), np.nan)
    for i, (code, sex, loc, group) in enumerate(series):
        sub = rows[(rows["indicator"] == code) & (rows["sex"] == sex)
                   & (rows["location"] == loc) & (rows["group_code"] == group)]
        for y, c in zip(sub["year"], sub["population_coverage"]):
            grid[i, years.index(int(y))] = c * 100
    title = "How much of each headline figure rests on reported data"
    note = source_note(data, [(c, s, loc) for c, s, loc, _ in series], first, end)
    fig, axes = _figure(title, note, 0.3 * len(series) + 2.9)
    ax = axes[0, 0]
    cmap = plt.get_cmap("Blues").with_extremes(bad="#EDEDED")
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
    _legend_below(fig, ax, [
        Patch(fc="white", ec="#BBBBBB", label="– none reported: estimate only"),
        Patch(fc="#EDEDED", ec="none", label="not estimated for that year")], ncols=1)
    ax.set_title("% of population in economies with reported data", **SUBTITLE)
    best = {labels[i]: float(np.nanmax(grid[i])) for i in range(len(series))}
    zero_end = bool(np.all(grid[:, -1] == 0))
    thinnest = sorted(best.items(), key=lambda kv: kv[1])[:3]
    world = rows[(rows["indicator"] == "IT_USE_ii99") & (rows["sex"] == "total")
                 & (rows["location"] == "total") & (rows["group_code"] == "WLD")]
    world_last = world[~world["estimated"]].sort_values("year").iloc[-1]
    caption = ("Share of each headline figure's population living in economies that reported "
               "data for that year; the rest of the figure is estimated (interpolated, "
               "nowcast or modelled). "
               + (f"No economy has reported {end} data, so every {end} figure is a nowcast. "
                  if zero_end else "")
               + f"World Internet use rests on reported data for "
               f"{world_last['population_coverage'] * 100:.0f}% of the population in "
               f"{int(world_last['year'])}; the thinnest series are "
               + ", ".join(f"{k} (at most {v:.0f}% in any year)" for k, v in thinnest) + ".")
    alt = (f"Heat map with one row per headline series and one column per year from {first} to "
           f"{end}; darker cells mean a larger share of the population is covered by reported "
           "data. Highest share in any year: "
           + "; ".join(f"{k} {v:.0f}%" for k, v in best.items())
           + (f". The {end} column shows no reported data for any series." if zero_end
              else "."))
    return Chart("data_coverage", title, caption, alt, note, rows, fig)


CHARTS = [internet_world, internet_income, internet_urban_rural, gender, coverage_4g,
          sdg_regions, data_coverage]
CHART_IDS = [make.__name__ for make in CHARTS]  # each function returns the chart of its name


def build_charts(data: ReportData) -> list[Chart]:
    with style.chart_style():
        return [make(data) for make in CHARTS]


def draw(data: ReportData | Path, out_dir: Path, ids: list[str]) -> dict[str, tuple[Chart, dict]]:
    """Build and render the charts `ids` (from the data, or the database at that path):
    {id: (the chart, its files)}. The figures are closed; the charts can cross processes."""
    if not isinstance(data, ReportData):
        from reporting.data import load

        data = load(Path(data))
    makers = dict(zip(CHART_IDS, CHARTS))
    drawn = {}
    for chart_id in ids:
        with style.chart_style():
            chart = makers[chart_id](data)
        paths = render(chart, out_dir)
        chart.figure = None
        drawn[chart_id] = (chart, paths)
    return drawn


def render(chart: Chart, out_dir: Path) -> dict[str, Path]:
    """Write <id>.svg, <id>.png, <id>.alt.txt and <id>.json into out_dir; closes the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / f"{chart.id}.{kind}" for kind in ("svg", "png", "json")}
    paths["alt"] = out_dir / f"{chart.id}.alt.txt"
    with style.chart_style():
        chart.figure.savefig(paths["svg"], format="svg", metadata={"Date": None})
        chart.figure.savefig(paths["png"], format="png", dpi=style.DPI)
    plt.close(chart.figure)
    paths["alt"].write_text(chart.alt_text + "\n", encoding="utf-8")
    paths["json"].write_text(json.dumps(chart.sidecar(), indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return paths
