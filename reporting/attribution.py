"""Source notes: who published the data a figure rests on, under which licence, which
releases, and which income classification — built from the `sources`, `observations` and
`aggregates` tables of the publication, never hard-coded."""
from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from catalog import indicators, population_indicators, urban_share_indicator
from reporting.data import ReportData

Series = tuple[str, str, str]   # indicator, sex, location


def predictors(indicator: str) -> list[str]:
    """The indicator chain the estimation model uses for economies never observed
    (indicators.yaml `estimation.predictor`): 4G -> 3G -> 2G -> Internet use."""
    catalog = indicators()
    chain, spec = [], catalog.get(indicator)
    while spec is not None and spec.predictor and spec.predictor not in {indicator, *chain}:
        chain.append(spec.predictor)
        spec = catalog.get(spec.predictor)
    return chain


def _fy_key(label: str) -> tuple[int, str]:
    m = re.search(r"FY(\d+)", label)
    return (int(m.group(1)) if m else 10**6, label)


def income_classification(data: ReportData, indicators: Iterable[str],
                          first_year: int, last_year: int) -> str:
    """'World Bank income groups of each data year (WB FY06 for 2005 to WB FY25 (latest
    available) for 2025)', from the classification column of the aggregates used."""
    agg = data.aggregates
    rows = agg[(agg["group_scheme"] == "income") & agg["indicator"].isin(list(indicators))
               & agg["year"].between(first_year, last_year)]
    if rows.empty:
        rows = agg[(agg["group_scheme"] == "income") & agg["year"].between(first_year, last_year)]
    if rows.empty:
        return "World Bank income groups: none used"
    per_year = (rows.groupby("year")["classification"].agg(lambda s: sorted(set(s), key=_fy_key))
                .sort_index())
    labels = sorted({c for cs in per_year for c in cs}, key=_fy_key)
    first_y, last_y = int(per_year.index[0]), int(per_year.index[-1])
    first_c, last_c = per_year.iloc[0][0], per_year.iloc[-1][-1]
    if len(labels) == 1:
        return f"World Bank income groups: {labels[0]} for every year"
    return (f"World Bank income groups of each data year ({first_c} for {first_y} to "
            f"{last_c} for {last_y})")


def _publisher_list(usage: pd.DataFrame) -> list[str]:
    parts = []
    for (publisher, licence), g in usage.groupby(["publisher", "licence"], sort=False,
                                                 dropna=False):
        releases = sorted(set(g["release"].dropna()))
        rel = ", ".join(releases)
        parts.append(f"{publisher}, {licence} [{rel}]" if rel else f"{publisher}, {licence}")
    return parts


def data_usage(data: ReportData, series: Iterable[Series]) -> pd.DataFrame:
    """Sources and releases of the country values behind the series: each series' own
    values, its total (breakdowns are gaps to the total) and its predictors' totals."""
    keys = set()
    for indicator, sex, location in series:
        keys.add((indicator, sex, location))
        keys.add((indicator, "total", "total"))
        for code in predictors(indicator):
            keys.add((code, "total", "total"))
    u = data.usage
    mask = pd.Series([(i, s, loc) in keys for i, s, loc in
                      zip(u["indicator"], u["sex"], u["location"])], index=u.index)
    used = u[mask].copy()
    # most-used publisher first (the main source of the series)
    order = used.groupby("publisher")["n"].sum().sort_values(ascending=False)
    used["_rank"] = used["publisher"].map({p: i for i, p in enumerate(order.index)})
    return used.sort_values(["_rank", "release"]).drop(columns="_rank")


def weight_usage(data: ReportData, urban: bool = False) -> pd.DataFrame:
    codes = list(population_indicators()) + ([urban_share_indicator()] if urban else [])
    u = data.usage[data.usage["indicator"].isin(codes)].copy()
    u["_rank"] = u["indicator"].map({c: i for i, c in enumerate(codes)})
    return u.sort_values(["_rank", "release"]).drop(columns="_rank")


def source_note(data: ReportData, series: Iterable[Series], first_year: int,
                last_year: int) -> str:
    """The note printed under a chart or table."""
    series = list(series)
    urban = any(loc != "total" for _, _, loc in series)
    parts = ["Source: ictstats estimates (not official ITU figures) from ITU data published by "
             + "; ".join(_publisher_list(data_usage(data, series))) + "."]
    weights = _publisher_list(weight_usage(data, urban))
    if weights:
        parts.append("Population weights: " + "; ".join(weights) + ".")
    parts.append(income_classification(data, {i for i, _, _ in series}, first_year,
                                       last_year) + ".")
    return " ".join(parts)


def all_publishers(data: ReportData) -> pd.DataFrame:
    """Publisher, licence and releases of every file read (for the notes and the page).
    A source's releases are those its values carry (`observations.release`) where it has
    values, else the release the source catalog gives."""
    s = data.sources
    carried = data.usage.groupby("source")["release"].agg(lambda r: sorted(set(r.dropna())))
    rows = []
    for _, f in s.iterrows():
        releases = carried.get(f["source_id"]) or [f["release"]]
        rows += [{"publisher": f["publisher"], "licence": f["licence"], "release": r,
                  "file": f["file"]} for r in releases]
    frame = pd.DataFrame(rows)
    return (frame.groupby(["publisher", "licence"], sort=False)
                 .agg(releases=("release", lambda r: ", ".join(sorted(set(r)))),
                      files=("file", "nunique"))
                 .reset_index())
