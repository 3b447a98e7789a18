"""UN SDG Global Database adapters: the DDF layout and the official SDG API CSV layout.

Geo areas are UN M49 codes, mapped to ISO3 through the country-code classification plus the
database's own odd codes (see M49_EXTRA). The `nature` of a value gives its status.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from catalog import Source, code_for, indicators
from schemas import raw as raw_layouts
from schemas.layouts import ddf_parts
from sources.base import Context, Extract, SourceError, read_csv_strings
from sources.observations import finish
from sources.validate import check_layout

# nature → status. c (country data) and ca (country data adjusted) are reported; e (estimated),
# m (modelled), g (global monitoring data) and n (non-relevant; one country row in the Internet
# file) are the publisher's estimates. A blank nature (the SDG API CSV) is taken as reported.
NATURE_STATUS = {
    "c": "reported", "ca": "reported", "": "reported",
    "e": "publisher_estimate", "m": "publisher_estimate", "g": "publisher_estimate",
    "n": "publisher_estimate", "nr": "publisher_estimate",
}
SEX = {"bothsex": "total", "female": "female", "male": "male", "notspec": "total",
       "BOTHSEX": "total", "FEMALE": "female", "MALE": "male", "": "total"}
LOCATION = {"allarea": "total", "notspec": "total", "urban": "urban", "rural": "rural",
            "ALLAREA": "total", "URBAN": "urban", "RURAL": "rural", "": "total"}
# Codes of the SDG database that are not the country's M49 code.
M49_EXTRA = {57: "FSM", 412: "XKX", 158: "TWN", 830: "CHI"}


def m49_map(ctx: Context) -> dict[int, str]:
    return {**ctx.m49_to_iso3, **M49_EXTRA}


def _iso3(codes: pd.Series, ctx: Context) -> pd.Series:
    numbers = pd.to_numeric(codes, errors="coerce")
    mapping = m49_map(ctx)
    # Unmapped codes keep a readable marker so the schema quarantines them as unknown.
    return pd.Series([mapping.get(int(n), f"M49:{c}") if pd.notna(n) else f"M49:{c}"
                      for n, c in zip(numbers, codes)], index=codes.index, dtype="str")


def _is_aggregate(codes: pd.Series, ctx: Context) -> pd.Series:
    numbers = pd.to_numeric(codes, errors="coerce")
    mapping = m49_map(ctx)
    return pd.Series([pd.notna(n) and int(n) not in mapping and int(n) in ctx.m49_groups
                      for n in numbers], index=codes.index)


def _mark_aggregates(long: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """SDG regions and groups (World, LDC, …) carry their M49 code as the group code."""
    is_aggregate = _is_aggregate(long["geo"], ctx)
    iso3 = long["iso3"].where(~is_aggregate, long["geo"].str.lstrip("0"))
    return long.assign(iso3=iso3, is_aggregate=is_aggregate).drop(columns="geo")


# Columns of DDF datapoints files that are keys (breakdowns), not the series.
DDF_KEYS = {"geo_area", "year", "nature", "sex", "age", "units", "location", "freq",
            "type_of_speed", "reporting_type", "observation_status", "time_detail", "source"}


def _ddf_series_column(path: Path, raw: pd.DataFrame, keys: list[str]) -> str:
    """The value column: the series the file name declares (…--datapoints--<series>--by--…),
    wherever it stands; a file name that declares none: the one column that is not a key."""
    series, _ = ddf_parts(path.name)
    if series is not None:
        if series not in raw.columns:
            raise SourceError(path, f"wrong layout: missing column(s) {series!r} (the series "
                                    "its file name declares)")
        return series
    candidates = [c for c in raw.columns if c != "_row" and c not in DDF_KEYS | set(keys)]
    if len(candidates) != 1:
        raise SourceError(path, "wrong layout: cannot tell the series column (the file name "
                                "declares none, and " + (f"{len(candidates)} columns are no key"
                                                         if candidates else "every column is a "
                                                         "key") + ")")
    return candidates[0]


def read_sdg_ddf(path: Path, entry: Source, ctx: Context) -> Extract:
    """One DDF datapoints file: key columns and one value column named after the series, in
    any order; other columns are ignored (and noted)."""
    raw, _ = read_csv_strings(path)
    # The file name declares the key columns (…--by--geo_area--nature--sex--units--year.csv):
    # without one of them, rows of different breakdowns would be read as one series.
    _, keys = ddf_parts(path.name)
    check_layout(path, raw, raw_layouts.SDG_DDF, keys)
    value_col = _ddf_series_column(path, raw, keys)
    try:
        indicator = code_for(value_col.upper().replace("II99", "ii99"))
    except KeyError:
        raise SourceError(path, f"series {value_col!r} is not in the indicator catalog") from None
    known = {value_col, "_row"} | DDF_KEYS | set(keys)
    ignored = [c for c in raw.columns if c not in known]
    rows_read = len(raw) + len(raw.attrs["ragged"])  # every data row, before the filters
    if indicator == "IT_NET_BBND" and "type_of_speed" in raw:
        raw = raw[raw["type_of_speed"] == "anys"]  # the total over speed tiers
    if "age" in raw:
        raw = raw[raw["age"].isin(["notspec", "10", "15", "ALLAGE", ""])]
    long = pd.DataFrame({
        "geo": raw["geo_area"],
        "iso3": _iso3(raw["geo_area"], ctx),
        "year": raw["year"], "year_column": "year",
        "sex": raw["sex"].map(SEX).fillna(raw["sex"]) if "sex" in raw else "total",
        "location": (raw["location"].map(LOCATION).fillna(raw["location"])
                     if "location" in raw else "total"),
        "status": raw["nature"].map(NATURE_STATUS).fillna(raw["nature"]) if "nature" in raw
        else "reported",
        "unit": indicators()[indicator].unit,
        "value_text": raw[value_col], "row": raw["_row"], "column": value_col,
        "indicator": indicator,
    })
    long = _mark_aggregates(long, ctx)
    extract = finish(long, path, entry, ctx, rows_read, raw)
    if ignored:
        extract.notes.append(f"column(s) {', '.join(repr(c) for c in ignored)} ignored: not "
                             "part of the layout")
    return extract


def read_sdg_api(path: Path, entry: Source, ctx: Context) -> Extract:
    """The official SDG API CSV layout (SeriesCode, GeoAreaCode, TimePeriod, Value, Sex, …)."""
    raw, _ = read_csv_strings(path)
    check_layout(path, raw, raw_layouts.SDG_API)
    codes = raw["SeriesCode"].unique()
    unknown = [c for c in codes if c not in indicators()]
    if unknown:
        raise SourceError(path, f"series {unknown[0]!r} is not in the indicator catalog")
    named = [c for c in indicators() if path.name.startswith(f"sdg-api_{c}")]
    if named and not set(named) & set(codes):
        raise SourceError(path, f"holds {', '.join(sorted(codes)[:3])} where its name says "
                                f"{named[0]} (a download saved under another name?)")
    release = raw["ReleaseName"].iloc[0] if "ReleaseName" in raw else entry.release
    nature = raw["Nature"].str.strip().str.lower() if "Nature" in raw else ""
    long = pd.DataFrame({
        "geo": raw["GeoAreaCode"],
        "iso3": _iso3(raw["GeoAreaCode"], ctx),
        "year": raw["TimePeriod"], "year_column": "TimePeriod",
        "sex": raw["Sex"].map(SEX).fillna(raw["Sex"]) if "Sex" in raw else "total",
        "location": (raw["Location"].map(LOCATION).fillna(raw["Location"])
                     if "Location" in raw else "total"),
        "status": pd.Series(nature, index=raw.index).map(NATURE_STATUS).fillna(nature),
        "unit": raw["SeriesCode"].map(lambda c: indicators()[c].unit),
        "value_text": raw["Value"], "row": raw["_row"], "column": "Value",
        "indicator": raw["SeriesCode"],
        "release": f"SDG database {release}",
    })
    long = _mark_aggregates(long, ctx)
    return finish(long, path, entry, ctx, len(raw) + len(raw.attrs["ragged"]), raw)
