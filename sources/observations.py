"""The step every observation adapter ends with: split off publisher aggregates, validate."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from catalog import Source
from sources.base import Context, Extract, empty_quarantine, quarantine_rows, ragged_quarantine
from sources.validate import validate_observations

AGGREGATE_COLUMNS = ["indicator", "group_code", "year", "sex", "location", "value", "unit",
                     "source", "release"]


def finish(long: pd.DataFrame, path: Path, entry: Source, ctx: Context, rows_read: int,
           raw: pd.DataFrame | None = None) -> Extract:
    """`long` has indicator, iso3, year, sex, location, unit, status, value_text, row, column.

    Rows for the publisher's own groups (WLD, HIC, …) are not country data: they go to
    `publisher_aggregates`, kept for comparison and never used as an economy's value.
    """
    long = long.assign(source=entry.id, release=long.get("release", entry.release),
                       file=path.name)
    long, q_year = _parse_years(long, path.name)
    if "is_aggregate" in long:
        is_aggregate = long.pop("is_aggregate").astype(bool)
    else:
        is_aggregate = long["iso3"].isin(ctx.aggregate_codes)
    aggregates = long[is_aggregate]
    countries = long[~is_aggregate]
    seen = {str(code): sorted(part["iso3"].astype(str).unique())
            for code, part in countries.groupby("indicator")}
    accepted, quarantine = validate_observations(countries, path.name, set(ctx.known_iso3))
    tables = {"observations": accepted}
    q_aggregates = empty_quarantine()
    if len(aggregates):
        values = pd.to_numeric(aggregates["value_text"], errors="coerce")
        # kept for comparison only, but never as inf or 1e309: a non-finite one is quarantined
        infinite = values.notna() & ~np.isfinite(values.to_numpy(dtype="float64"))
        bad = aggregates[infinite]
        q_aggregates = quarantine_rows(
            path.name, bad["row"], bad["column"], bad["value_text"], "schema:finite_value",
            [f"publisher aggregate {v!r} of {g} is not a finite number"
             for v, g in zip(bad["value_text"], bad["iso3"])], of=bad)
        tables["publisher_aggregates"] = (
            aggregates.assign(value=values, group_code=aggregates["iso3"])[~infinite]
            .dropna(subset=["value"])[AGGREGATE_COLUMNS]
        )
    quarantine = pd.concat([q for q in (q_year, quarantine, q_aggregates) if len(q)]
                           or [empty_quarantine()], ignore_index=True)
    if raw is not None:
        quarantine = pd.concat([quarantine, ragged_quarantine(path.name, raw)],
                               ignore_index=True)
    return Extract(tables, rows_read, quarantine, seen=seen)


def _parse_years(long: pd.DataFrame, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Years read from a cell (long layouts) must be whole numbers; header years already are."""
    if "year_column" not in long:
        return long, empty_quarantine()
    text = long["year"].astype("str").str.strip()
    year = pd.to_numeric(text, errors="coerce")
    ok = year.notna() & (year % 1 == 0)
    bad = long[~ok]
    quarantine = quarantine_rows(file, bad["row"], bad["year_column"], text[~ok], "year",
                                 [f"year {t!r} is not a whole number" for t in text[~ok]], of=bad)
    # `year_column` stays: a year failing the schema is reported in its own column
    return long[ok].assign(year=year[ok].astype("int64")), quarantine
