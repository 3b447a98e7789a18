"""pandera schemas of the raw source layouts: the columns each format must have, as text.

Adapters check a file against its layout before reading values (`sources.validate.check_layout`):
a missing or renamed key column makes the file unusable, with one line naming the column.
What a usable value is (a number, a known economy, a plausible year, a unit's range) is checked
once, on the canonical table (`schemas.observations`) and the classification tables
(`schemas.classifications`), whatever the layout it came from. The ITU print-layout XLS (a
two-row header) and the DataHub JSON shapes are recognised by their structure in sources/itu.py.
"""
from __future__ import annotations

import pandera.pandas as pa


def layout(*columns: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({c: pa.Column(str, nullable=True) for c in columns}, strict=False)


WB_BULK = layout("Country Name", "Country Code", "Indicator Code")
WB_EXCERPT = layout("iso3", "anio", "pct_usuarios_internet")
WB_LONG = layout("Country Code", "Year", "Value")
WB_DATABANK = layout("Code", "Series Name")
WB_METADATA = layout("Country Code", "Region", "IncomeGroup", "TableName")
WB_CLASS_ECONOMIES = layout("Economy", "Code", "Region", "Income group")
WB_CLASS_GROUPS = layout("GroupCode", "GroupName", "CountryCode")
WB_OGHIST_LONG = layout("Code", "Year", "Group")
SDG_DDF = layout("geo_area", "year")
SDG_API = layout("SeriesCode", "GeoAreaCode", "TimePeriod", "Value")
OWID_GRAPHER = layout("Entity", "Code", "Year")
WPP_2019 = layout("iso3", "year", "pop_total")
WPP_SINGLE_AGE = layout("ISO3_code", "Time", "AgeGrpStart", "PopMale", "PopFemale", "PopTotal")
COUNTRY_CODES = layout(
    "ISO3166-1-Alpha-3", "M49", "CLDR display name", "Region Code", "Sub-region Code",
    "Intermediate Region Code", "Least Developed Countries (LDC)",
    "Land Locked Developing Countries (LLDC)", "Small Island Developing States (SIDS)")
ODW_CODES = layout("ISO-3 Code", "World Bank Income Group Code (July 2020)")
