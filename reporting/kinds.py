"""The kinds of chart an indicator's `charts:` entry can ask for (catalog/indicators.yaml).

A kind is a function (data, chart id, [(indicator, options)]) -> Chart: the indicators whose
catalog entry names the chart, in catalog order, each with the options of its entry. Every
word of a title, caption or alt text comes from the catalog (label, title, unit label, group
and scheme names) or from the data.

- `world`      the world total over time, with its 90% band
- `groups`     one line per group; option `groups`: group codes and scheme names
- `locations`  the world by location (the indicator's location members) and the total
- `sexes`      one panel per indicator (option `panel`: its title): women and men, and the
               gender parity score below
- `regions`    the groups of a scheme (option `scheme`, default sdg_region) as bars for the
               last year with reported data and circles for the latest year
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from catalog import Indicator, expand_groups, groups_of, schemes
from reporting import style
from reporting.attribution import source_note
from reporting.data import ReportData
from reporting.facts import PARITY
from reporting.plotting import (
    convention_handles,
    end_labels,
    figure,
    legend_below,
    plot_series,
    subtitle,
    value_axis,
    year_axis,
)
from reporting.series import (
    Chart,
    aggregate_rows,
    at,
    coverage_phrase,
    derived_rows,
    interval,
    joined,
    last_year,
    nowcast_sentence,
    points,
    sentence,
    signed,
    value,
    world_code,
    year_span,
)

Members = list[tuple[Indicator, dict]]
PARITY_MEASURE = "gender_parity_score"


def _one(chart_id: str, members: Members) -> tuple[Indicator, dict]:
    if len(members) != 1:
        raise ValueError(f"chart {chart_id}: this kind draws one indicator, the catalog gives "
                         f"{', '.join(i.code for i, _ in members)}")
    return members[0]


def _scheme_name(scheme: str) -> str:
    return schemes()[scheme]["name"]


def _classifications(data: ReportData, indicator: str, codes, first: int, end: int) -> str:
    """How the groups' classification changes over the years plotted, per scheme."""
    a = data.aggregates
    used = a[(a["indicator"] == indicator) & a["group_code"].isin(list(codes))
             & a["year"].isin([first, end])]
    out = []
    for scheme, part in used.groupby("group_scheme", sort=False):
        c0 = part.loc[part["year"] == first, "classification"]
        c1 = part.loc[part["year"] == end, "classification"]
        if len(c0) and len(c1) and c0.iloc[0] != c1.iloc[0]:
            out.append(f"{_scheme_name(scheme)} follow the classification of each data year "
                       f"({c0.iloc[0]} for {first} to {c1.iloc[0]} for {end}), so economies "
                       "move between groups over time.")
    return " ".join(out)


def _at_edges(rows: pd.DataFrame) -> str:
    edge = (rows["upper"] > rows["lower"]) & ((rows["value"] >= rows["upper"])
                                              | (rows["value"] <= rows["lower"]))
    if not edge.any():
        return ""
    return (f"In {int(edge.sum())} of the {len(rows)} points the value sits at an edge of its "
            "90% interval (a skewed interval).")


# ---------------------------------------------------------------------------------------------
# world

def world(data: ReportData, chart_id: str, members: Members) -> Chart:
    ind, _ = _one(chart_id, members)
    end, wld = last_year(data), world_code()
    rows = aggregate_rows(data, ind.code, [wld])
    first = int(rows["year"].min())
    r0, r1 = at(rows, first), at(rows, end)
    mid_year = first + (end - first) // 2
    mid = at(rows, mid_year)
    title = f"{ind.label} worldwide, {first}–{end}"
    note = source_note(data, [(ind.code, "total", "total")], first, end)
    fig, axes = figure(title, note, 4.4)
    ax = axes[0, 0]
    colour = style.group_colour(wld)
    plot_series(ax, rows, colour)
    value_axis(ax, ind, ind.unit_label)
    year_axis(ax, first, end)
    subtitle(ax, f"{ind.title}, world")
    ax.annotate(f"{value(ind, r1['value'])}\n90% interval\n{interval(ind, r1)}",
                (end, r1["value"]), xytext=(-10, 12), textcoords="offset points", ha="right",
                va="bottom", fontsize=8.5, fontweight="bold", multialignment="right")
    ax.annotate(value(ind, r0["value"]), (first, r0["value"]), xytext=(2, 9),
                textcoords="offset points", ha="left", va="bottom", fontsize=8.5,
                fontweight="bold")
    legend_below(fig, ax, convention_handles(colour=colour))
    verb = "rose" if r1["value"] > r0["value"] else "fell"
    nowcast = nowcast_sentence(rows)
    caption = (f"{ind.label} ({ind.unit_label}) worldwide {verb} from {value(ind, r0['value'])} "
               f"in {first} to {value(ind, r1['value'])} in {end} (90% interval "
               f"{interval(ind, r1)}). " + (f"{nowcast}; " if nowcast else "")
               + coverage_phrase(rows) + ".")
    widest = rows.loc[(rows["upper"] - rows["lower"]).idxmax()]
    alt = (f"Line chart of {ind.label} worldwide ({ind.unit_label}), {first} to "
           f"{end}. The line goes from {value(ind, r0['value'])} in {first} to "
           f"{value(ind, mid['value'])} in {mid_year} and {value(ind, r1['value'])} in {end}. "
           f"A shaded band shows the 90% interval, widest in {int(widest['year'])} "
           f"({interval(ind, widest)}). "
           + ("The line is dashed, with hollow markers, over the nowcast years "
              f"({year_span(rows.loc[rows['nowcast'], 'year'])})."
              if rows["nowcast"].any() else ""))
    return Chart(chart_id, title, caption, alt, note, rows, fig)


# ---------------------------------------------------------------------------------------------
# groups

def groups(data: ReportData, chart_id: str, members: Members) -> Chart:
    ind, options = _one(chart_id, members)
    wld = world_code()
    codes = expand_groups([str(e) for e in options.get("groups", [wld])])
    end = last_year(data)
    rows = aggregate_rows(data, ind.code, codes)
    first = int(rows["year"].min())
    title = f"{ind.label} by group, {first}–{end}"
    note = source_note(data, [(ind.code, "total", "total")], first, end)
    fig, axes = figure(title, note, 4.7)
    ax = axes[0, 0]
    for code in codes:
        is_world = code == wld
        plot_series(ax, rows[rows["group_code"] == code], style.group_colour(code),
                    linewidth=1.4 if is_world else 2.0, zorder=2 if is_world else 3)
    value_axis(ax, ind, ind.unit_label)
    year_axis(ax, first, end)
    subtitle(ax, ind.title)
    legend_below(fig, ax, convention_handles())
    v = {c: at(rows, end, group_code=c) for c in codes}
    labels = [(v[c]["value"], f"{style.short_label(c)} {value(ind, v[c]['value'], 0)}",
               style.group_colour(c)) for c in codes]
    end_labels(fig, [(ax, labels, end, 8.5)])

    start = rows[rows["year"] == first].set_index("group_code")
    ranked = sorted((c for c in codes if c != wld), key=lambda c: v[c]["value"])
    parts = []
    if ranked:
        lo, hi = ranked[0], ranked[-1]
        gap = v[hi]["value"] - v[lo]["value"]
        then = (f" ({signed(start.loc[hi, 'value'] - start.loc[lo, 'value'], 0)} in {first})"
                if {lo, hi} <= set(start.index) else "")
        parts.append(f"In {end}, {ind.label} ({ind.unit_label}) ranged from "
                     f"{value(ind, v[lo]['value'])} ({style.group_label(lo)}) to "
                     f"{value(ind, v[hi]['value'])} ({style.group_label(hi)}): a gap of "
                     f"{gap:.0f} {points(ind)}{then}.")
    if wld in v:
        world_rows = rows[rows["group_code"] == wld]
        parts.append(f"The world figure is {value(ind, v[wld]['value'])} (90% interval "
                     f"{interval(ind, v[wld])}).")
        parts += [sentence(nowcast_sentence(world_rows)),
                  sentence(f"for the world, {coverage_phrase(world_rows)}")]
    parts += [_classifications(data, ind.code, codes, first, end), _at_edges(rows)]
    caption = " ".join(p for p in parts if p)
    alt = (f"Line chart of {ind.label} ({ind.unit_label}) from {first} to {end} "
           f"for {joined([style.group_label(c) for c in codes])}. {end} values: "
           + "; ".join(f"{style.group_label(c)} {value(ind, v[c]['value'])} "
                       f"({interval(ind, v[c])})" for c in codes)
           + f". {first} values: "
           + "; ".join(f"{style.group_label(c)} {value(ind, start.loc[c, 'value'])}"
                       for c in codes if c in start.index) + ".")
    return Chart(chart_id, title, caption, alt, note, rows, fig)


# ---------------------------------------------------------------------------------------------
# locations

def locations(data: ReportData, chart_id: str, members: Members) -> Chart:
    ind, _ = _one(chart_id, members)
    end, wld = last_year(data), world_code()
    locs = ind.members("location")
    parts = {loc: aggregate_rows(data, ind.code, [wld], location=loc)
             for loc in [*locs, "total"]}
    rows = pd.concat(parts.values(), ignore_index=True)
    first = int(rows["year"].min())
    names = [style.LOCATION_LABELS[loc].lower() for loc in locs]
    title = f"{ind.label} in {joined(names)} areas worldwide, {first}–{end}"
    note = source_note(data, [(ind.code, "total", loc) for loc in locs], first, end)
    fig, axes = figure(title, note, 4.5)
    ax = axes[0, 0]
    ax.plot(parts["total"]["year"], parts["total"]["value"], color="#8C8C8C", lw=1.3,
            ls=":", zorder=2)
    for loc in locs:
        plot_series(ax, parts[loc], style.LOCATION_COLOURS[loc])
    value_axis(ax, ind, ind.unit_label)
    year_axis(ax, first, end)
    subtitle(ax, f"{ind.title}, by location, world")
    handles = convention_handles() + [
        Line2D([], [], color="#8C8C8C", lw=1.3, ls=":", label="all areas (for reference)")]
    legend_below(fig, ax, handles)
    last = {loc: at(parts[loc], end) for loc in parts}
    start = {loc: at(parts[loc], first) for loc in parts}
    names_colours = [(loc, style.LOCATION_LABELS[loc], style.LOCATION_COLOURS[loc])
                     for loc in locs] + [("total", "All", "#6E6E6E")]
    labels = [(last[loc]["value"], f"{name} {value(ind, last[loc]['value'], 0)}", colour)
              for loc, name, colour in names_colours]
    end_labels(fig, [(ax, labels, end, 8.5)])

    by_location = pd.concat([parts[loc] for loc in locs])
    reported = by_location[~by_location["estimated"]]
    if len(reported):
        best = reported.sort_values("population_coverage").iloc[-1]
        cov = (f"Reported {joined(names)} figures exist only for "
               f"{year_span(reported['year'])} and cover at most "
               f"{best['population_coverage'] * 100:.0f}% of the world population in any "
               f"year ({int(best['year'])}); the other years (hollow markers) rest on each "
               "economy's gap to its total.")
    else:
        cov = f"No {joined(names)} figure was reported: all rest on modelled gaps."
    caption = (f"In {end}, {ind.label} ({ind.unit_label}) was an estimated "
               + joined([f"{value(ind, last[loc]['value'])} in {name} areas"
                         for loc, name in zip(locs, names)])
               + " (90% intervals " + joined([interval(ind, last[loc]) for loc in locs])
               + "). " + cov)
    alt = (f"Line chart of {ind.label} in {joined(names)} areas worldwide, "
           f"{first} to {end}, with a dotted line for all areas. "
           + "; ".join(f"{style.LOCATION_LABELS[loc]}: from {value(ind, start[loc]['value'])} "
                       f"to {value(ind, last[loc]['value'])}" for loc in locs) + ". ")
    if len(locs) == 2:
        a, b = locs
        gap0 = start[a]["value"] - start[b]["value"]
        gap1 = last[a]["value"] - last[b]["value"]
        trend = "widens" if gap1 > gap0 + 0.5 else "narrows" if gap1 < gap0 - 0.5 else "stays"
        alt += (f"The gap between them {trend} "
                + (f"from {gap0:.0f} to {gap1:.0f} {points(ind)}. " if trend != "stays"
                   else f"at about {gap1:.0f} {points(ind)}. "))
    alt += (f"{int(by_location['estimated'].sum())} of the {len(by_location)} markers are "
            "hollow: no economy reported figures by location that year.")
    return Chart(chart_id, title, caption, alt, note, rows, fig)


# ---------------------------------------------------------------------------------------------
# sexes

def sexes(data: ReportData, chart_id: str, members: Members) -> Chart:
    end, wld = last_year(data), world_code()
    female, male = "female", "male"
    by_sex, gps = {}, {}
    for ind, _ in members:
        for sex in (female, male):
            by_sex[ind.code, sex] = aggregate_rows(data, ind.code, [wld], sex=sex)
        gps[ind.code] = derived_rows(data, ind.code, PARITY_MEASURE, [wld])
    rows = pd.concat([*by_sex.values(), *gps.values()], ignore_index=True)
    women, men = style.SEX_LABELS[female], style.SEX_LABELS[male]
    title = (f"{', '.join(ind.label for ind, _ in members)}: {women.lower()} and "
             f"{men.lower()}, world")
    note = source_note(data, [(ind.code, s, "total") for ind, _ in members
                              for s in (female, male)], int(rows["year"].min()), end)
    fig, axes = figure(title, note, 6.4, nrows=2, ncols=len(members), sharex="col",
                       gridspec_kw={"height_ratios": [3, 2]})
    panels, labelled = [], []
    for j, (ind, options) in enumerate(members):
        ax, ax2 = axes[0, j], axes[1, j]
        first = int(by_sex[ind.code, female]["year"].min())
        for sex in (female, male):
            plot_series(ax, by_sex[ind.code, sex], style.SEX_COLOURS[sex], linewidth=1.8)
        value_axis(ax, ind, ind.unit_label if j == 0 else "")
        ax.set_title(options.get("panel", ind.label), fontsize=9.5)
        f, m = at(by_sex[ind.code, female], end), at(by_sex[ind.code, male], end)
        labelled.append((ax, [(f["value"], f"{women}\n{value(ind, f['value'], 0)}",
                               style.SEX_COLOURS[female]),
                              (m["value"], f"{men}\n{value(ind, m['value'], 0)}",
                               style.SEX_COLOURS[male])], end, 8))
        g = gps[ind.code]
        ax2.axhspan(*PARITY, color="#009E73", alpha=0.18, lw=0)
        ax2.text(first, PARITY[1] + 0.015, f"parity: {PARITY[0]:.2f}–{PARITY[1]:.2f}",
                 fontsize=7.5, color="#00704F", va="bottom", ha="left")
        plot_series(ax2, g, "#444444", linewidth=1.8)
        ax2.set_ylim(0.7, 1.1)
        ax2.set_yticks([0.7, 0.8, 0.9, 1.0])
        ax2.yaxis.set_major_formatter(lambda v, _: f"{v:.1f}")
        if j == 0:
            ax2.set_ylabel(f"Gender parity score\n({women.lower()} ÷ {men.lower()})")
        year_axis(ax2, first, end)
        ge = at(g, end)
        ax2.annotate(f"{ge['value']:.2f}\n({ge['lower']:.2f}–{ge['upper']:.2f})",
                     (end, ge["lower"]), xytext=(0, -4), textcoords="offset points",
                     ha="right", va="top", fontsize=7.5, fontweight="bold")
        panels.append((ind, options, f, m, ge, first))
    handles = convention_handles()
    for h, short in zip(handles, ["reported", "none reported", "nowcast", "90% interval"]):
        h.set_label(short)
    axes[0, 0].legend(handles=handles, loc="upper left", fontsize=7.2, ncols=2,
                      handlelength=1.8, columnspacing=1.0)
    end_labels(fig, labelled)

    def zone(g) -> str:
        return ("below" if g["value"] < PARITY[0] else "above" if g["value"] > PARITY[1]
                else "within")

    caption = (f"In {end}, worldwide: "
               + "; ".join(f"{ind.label} ({ind.unit_label}): {women.lower()} "
                           f"{value(ind, f['value'])}, {men.lower()} {value(ind, m['value'])} "
                           f"(gender parity score {g['value']:.2f}, 90% interval "
                           f"{g['lower']:.2f}–{g['upper']:.2f})"
                           for ind, _, f, m, g, _ in panels)
               + f". The gender parity score is {women.lower()}'s value divided by "
               f"{men.lower()}'s; {PARITY[0]:.2f}–{PARITY[1]:.2f} counts as parity. "
               + " ".join(sentence(f"for {ind.label} by sex "
                                   + coverage_phrase(by_sex[ind.code, female],
                                                     "female population"))
                          for ind, *_ in panels))
    alt = (f"Chart of {len(members)} columns, one per series; top: {women.lower()} and "
           f"{men.lower()} worldwide; bottom: the gender parity score ({women.lower()} divided "
           f"by {men.lower()}) against the parity zone of {PARITY[0]:.2f} to "
           f"{PARITY[1]:.2f}. "
           + " ".join(f"{options.get('panel', ind.label)}, {first} to {end}: in {end} "
                      f"{women.lower()} {value(ind, f['value'])}, {men.lower()} "
                      f"{value(ind, m['value'])}; gender parity score {g['value']:.2f}, "
                      f"{zone(g)} the parity zone."
                      for ind, options, f, m, g, first in panels))
    return Chart(chart_id, title, caption, alt, note, rows, fig)


# ---------------------------------------------------------------------------------------------
# regions

def regions(data: ReportData, chart_id: str, members: Members) -> Chart:
    ind, options = _one(chart_id, members)
    scheme = options.get("scheme", "sdg_region")
    end, wld = last_year(data), world_code()
    full = aggregate_rows(data, ind.code, [*groups_of(scheme), wld])
    regional = full[full["group_code"] != wld]
    reported_years = regional.loc[~regional["estimated"] & (regional["year"] < end), "year"]
    base = int(reported_years.max()) if len(reported_years) else end - 1
    rows = full[full["year"].isin([base, end])].reset_index(drop=True)
    title = f"{ind.label} in the {_scheme_name(scheme)}, {base} and {end}"
    note = source_note(data, [(ind.code, "total", "total")], base, end)
    fig, axes = figure(title, note, 5.0)
    ax = axes[0, 0]
    now = rows[(rows["year"] == end) & (rows["group_code"] != wld)]
    order = list(now.sort_values("value")["group_code"])
    top = 100.0 if ind.unit == "percent" else float(rows["upper"].max())
    for i, code in enumerate(order):
        b, e = at(rows, base, group_code=code), at(rows, end, group_code=code)
        ax.barh(i, b["value"], height=0.62, color=style.group_colour(code), zorder=2)
        ax.errorbar(b["value"], i, xerr=[[b["value"] - b["lower"]], [b["upper"] - b["value"]]],
                    fmt="none", ecolor="#222222", elinewidth=0.9, capsize=2, zorder=3)
        ax.errorbar(e["value"], i, xerr=[[e["value"] - e["lower"]], [e["upper"] - e["value"]]],
                    fmt="o", ms=6, mfc="white", mec="#222222", mew=1.4, ecolor="#222222",
                    elinewidth=1.1, capsize=2.5, zorder=4)
        ax.text(max(e["upper"], b["upper"]) + top * 0.015, i, value(ind, e["value"], 0),
                va="center", ha="left", fontsize=8.5, fontweight="bold")
    w = at(rows, end, group_code=wld)
    ax.axvline(w["value"], color="#222222", lw=1, ls=(0, (4, 2)), zorder=1)
    ax.text(w["value"], len(order) - 0.45,
            f"{style.short_label(wld)} {end}: {value(ind, w['value'], 0)}", ha="center",
            va="bottom", fontsize=8, bbox={"fc": "white", "ec": "none", "pad": 1})
    ax.set_yticks(range(len(order)),
                  [textwrap.fill(style.group_label(c), 24) for c in order], fontsize=8.5)
    ax.set_xlim(0, top * 1.08)
    if ind.unit == "percent":
        ax.set_xticks(np.arange(0, 101, 20))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    ax.set_ylim(-0.6, len(order) - 0.05)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    subtitle(ax, f"{ind.title} ({ind.unit_label}); labels: {end}")
    latest = rows[rows["year"] == end]
    nowcast = bool(latest["nowcast"].all())
    handles = [Patch(color="#8C8C8C", label=f"{base}: last year with reported data"),
               Line2D([], [], ls="none", marker="o", ms=6, mfc="white", mec="#222222",
                      mew=1.4, label=f"{end}: nowcast, no reported data" if nowcast
                      else f"{end}"),
               Line2D([], [], color="#222222", lw=1, marker="|", ms=6,
                      label="90% interval")]
    legend_below(fig, ax, handles, ncols=2)

    hi, lo = at(rows, end, group_code=order[-1]), at(rows, end, group_code=order[0])
    bw = at(rows, base, group_code=wld)
    caption = (f"{ind.label} ({ind.unit_label}) in the {_scheme_name(scheme)}: bars for "
               f"{base}, the last year with reported data (covering "
               f"{bw['population_coverage'] * 100:.0f}% of the world population), circles for "
               f"{end}{' (a nowcast)' if nowcast else ''}, both with 90% intervals. In {end} "
               f"the value ranges from {value(ind, lo['value'])} in "
               f"{style.group_label(order[0])} to {value(ind, hi['value'])} in "
               f"{style.group_label(order[-1])}; the world figure is "
               f"{value(ind, w['value'])}.")
    alt = (f"Horizontal bar chart of {ind.label} in the {_scheme_name(scheme)}, "
           f"sorted from lowest to highest, with bars for {base} and circles for {end}. "
           f"{end} values: "
           + "; ".join(f"{style.group_label(c)} {value(ind, at(rows, end, group_code=c)['value'])} "
                       f"({base}: {value(ind, at(rows, base, group_code=c)['value'])})"
                       for c in order)
           + f". A dashed vertical line marks the world value, {value(ind, w['value'])}.")
    return Chart(chart_id, title, caption, alt, note, rows, fig)
