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
    series = [c for c in raw.columns if c not in ("Entity", "Code", "Year", "_row")]
    if not series:
        raise SourceError(path, "wrong layout: no value columns after Entity, Code, Year")
    codes = {}
    for column in series:
        try:
            codes[column] = code_for(column)
        except KeyError:
            raise SourceError(path, f"column {column!r} is not a series in the indicator "
                              "catalog") from None
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
    return finish(long, path, entry, ctx, len(raw) + len(raw.attrs["ragged"]), raw)
