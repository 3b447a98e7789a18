"""The canonical long table every observation adapter returns, as a pandera schema.

The schema states the properties usable data has; `sources.validate` turns its failures into
quarantine rows with a reason a person understands (see REASONS).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pandera.pandas as pa

from catalog import POSITIVE_UNITS, UNIT_RANGES, indicators

SEXES = ["total", "female", "male"]
LOCATIONS = ["total", "urban", "rural"]
STATUSES = ["reported", "publisher_estimate"]
FIRST_YEAR = 1950
PROJECTION_HORIZON = 2100

REASONS = {
    "known_indicator": "indicator {value!r} is not in the indicator catalog",
    "iso3_format": "{value!r} is not an ISO 3166 alpha-3 code",
    "known_economy": "{value!r} is not a known economy (not in the classification files)",
    "plausible_year": "year {value} is outside the plausible range",
    "sex_code": "sex {value!r} is not one of total, female, male",
    "location_code": "location {value!r} is not one of total, urban, rural",
    "status_code": "status {value!r} is not one of reported, publisher_estimate: the "
                   "publisher's nature/status code is unknown",
    "unit_matches_indicator": "unit does not match the indicator's unit in the catalog",
    "value_in_unit_range": "value {value} is outside the range its unit allows",
    "finite_value": "value {value} is not a finite number (infinite, or beyond the range of a "
                    "float): a transcription or export error",
    "positive_value": "value {value} is not above zero: an economy's population is never 0 or "
                      "less (a missing value written as 0?)",
    "year_not_in_future": "year is later than the current year for a series without projections",
    "not_nullable": "required value is missing",
}
# The column a failure of a whole-row check is about.
ROW_CHECK_COLUMN = {
    "unit_matches_indicator": "unit",
    "value_in_unit_range": "value",
    "positive_value": "value",
    "year_not_in_future": "year",
}


def _finite(values: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(values.to_numpy(dtype="float64")), index=values.index)


def _unit_range_ok(df: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=df.index)
    for unit, (low, high) in UNIT_RANGES.items():
        mask = df["unit"] == unit
        if low is not None:
            ok &= ~mask | (df["value"] >= low)
        if high is not None:
            ok &= ~mask | (df["value"] <= high)
    return ok | ~_finite(df["value"])  # a value that is not finite fails `finite_value` alone


def _positive_ok(df: pd.DataFrame) -> pd.Series:
    return ~df["unit"].isin(POSITIVE_UNITS) | (df["value"] > 0) | ~_finite(df["value"])


def _unit_matches(df: pd.DataFrame) -> pd.Series:
    expected = df["indicator"].map({c: i.unit for c, i in indicators().items()})
    return df["unit"] == expected


def _year_not_in_future(df: pd.DataFrame) -> pd.Series:
    projected = {c for c, i in indicators().items() if i.projections}
    return df["indicator"].isin(projected) | (df["year"] <= dt.date.today().year)


def observation_schema(known_iso3: set[str]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "indicator": pa.Column(str, pa.Check.isin(list(indicators()), name="known_indicator")),
            "iso3": pa.Column(str, [
                pa.Check.str_matches(r"^[A-Z]{3}$", name="iso3_format"),
                pa.Check.isin(sorted(known_iso3), name="known_economy"),
            ]),
            "year": pa.Column(int, pa.Check.in_range(
                FIRST_YEAR, PROJECTION_HORIZON, name="plausible_year")),
            "sex": pa.Column(str, pa.Check.isin(SEXES, name="sex_code")),
            "location": pa.Column(str, pa.Check.isin(LOCATIONS, name="location_code")),
            "value": pa.Column(float, pa.Check(_finite, name="finite_value"),
                               nullable=False),
            "unit": pa.Column(str),
            "status": pa.Column(str, pa.Check.isin(STATUSES, name="status_code")),
            "source": pa.Column(str),
            "release": pa.Column(str),
        },
        checks=[
            pa.Check(_unit_matches, name="unit_matches_indicator"),
            pa.Check(_unit_range_ok, name="value_in_unit_range"),
            pa.Check(_positive_ok, name="positive_value"),
            pa.Check(_year_not_in_future, name="year_not_in_future"),
        ],
        strict=False,
        coerce=False,
    )
