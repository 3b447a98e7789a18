"""pandera schemas for the classification tables: economies and income groups by fiscal year."""
from __future__ import annotations

import pandera.pandas as pa

INCOME_GROUPS = ["HIC", "UMC", "LMC", "LIC"]

economies_schema = pa.DataFrameSchema(
    {
        "iso3": pa.Column(str, pa.Check.str_matches(r"^[A-Z0-9]{3}$", name="iso3_format"),
                          unique=True),
        "m49": pa.Column("Int64", pa.Check.in_range(1, 999, name="m49_range"), nullable=True),
        "name": pa.Column(str),
        "region_code": pa.Column("Int64", nullable=True),
        "sub_region_code": pa.Column("Int64", nullable=True),
        "intermediate_region_code": pa.Column("Int64", nullable=True),
        "ldc": pa.Column(bool),
        "lldc": pa.Column(bool),
        "sids": pa.Column(bool),
    },
    strict=False,
)

income_groups_schema = pa.DataFrameSchema(
    {
        "iso3": pa.Column(str, pa.Check.str_matches(r"^[A-Z0-9]{3}$", name="iso3_format")),
        "fiscal_year": pa.Column(int, pa.Check.in_range(1988, 2100, name="fiscal_year_range")),
        "income_group": pa.Column(str, pa.Check.isin(INCOME_GROUPS, name="income_group_code")),
        "source": pa.Column(str),
        "release": pa.Column(str),
    },
    unique=["iso3", "fiscal_year", "source"],
    strict=False,
)

wb_economies_schema = pa.DataFrameSchema(
    {
        "iso3": pa.Column(str, pa.Check.str_matches(r"^[A-Z0-9]{3}$", name="iso3_format"),
                          unique=True),
        "name": pa.Column(str),
        "wb_region": pa.Column(str),
    },
    strict=False,
)

REASONS = {
    "iso3_format": "{value!r} is not an ISO 3166 alpha-3 code",
    "m49_range": "M49 code {value} is outside 1-999",
    "fiscal_year_range": "fiscal year {value} is implausible",
    "income_group_code": "income group {value!r} is not one of H, UM, LM, L",
    "field_uniqueness": "duplicate key {value!r}",
    "multiple_fields_uniqueness": "more than one income group for one economy and fiscal year",
    "not_nullable": "required value is missing",
}
