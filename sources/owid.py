"""Our World in Data grapher CSV: Entity, Code, Year, then one column per series.

Entities without an ISO3 code (World, High income, …) and OWID_ codes are OWID's own groups:
they go to `publisher_aggregates`, never to country data.
"""
from __future__ import annotations

from pathlib import Path

from catalog import Source, code_for, indicators
from schemas import raw as raw_layouts
from sources.base import Context, Extract, SourceError, read_csv_strings
from sources.observations import finish
from sources.validate import check_layout

# OWID's own codes for countries that have no ISO 3166 code (the World Bank's codes for them).
OWID_COUNTRY_CODES = {"OWID_KOS": "XKX"}


def read_owid(path: Path, entry: Source, ctx: Context) -> Extract:
    raw, _ = read_csv_strings(path)
    check_layout(path, raw, raw_layouts.OWID_GRAPHER)
    columns = [c for c in raw.columns if c not in ("Entity", "Code", "Year", "_row")]
    if not columns:
        raise SourceError(path, "wrong layout: no value columns after Entity, Code, Year")
    codes = {}
    for column in columns:
        try:
            codes[column] = code_for(column)
        except KeyError:
            continue
    if not codes:
        raise SourceError(path, f"column {columns[0]!r} is not a series in the indicator "
                          "catalog (nor any other column after Entity, Code, Year)")
    # Columns in any order; others than the catalogued series (OWID adds "Continent", world
    # regions, …) are not data: ignored, and noted.
    series = list(codes)
    ignored = [c for c in columns if c not in codes]
    long = raw.melt(id_vars=["Entity", "Code", "Year", "_row"], value_vars=series,
                    var_name="column", value_name="value_text")
    long["Code"] = long["Code"].str.strip().replace(OWID_COUNTRY_CODES)
    is_aggregate = (long["Code"] == "") | long["Code"].str.startswith("OWID_")
    long = long.assign(
        iso3=long["Code"].where(~is_aggregate, long["Entity"]),
        is_aggregate=is_aggregate,
        indicator=long["column"].map(codes), year=long["Year"], year_column="Year",
        sex="total", location="total", status="reported", row=long["_row"],
    )
    long["unit"] = long["indicator"].map(lambda c: indicators()[c].unit)
    long = long.drop(columns=["Entity", "Code", "Year", "_row"])
    extract = finish(long, path, entry, ctx, len(raw) + len(raw.attrs["ragged"]), raw)
    if ignored:
        extract.notes.append(f"column(s) {', '.join(repr(c) for c in ignored)} ignored: not a "
                             "series in the indicator catalog")
    return extract
