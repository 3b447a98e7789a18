"""The key columns of every raw source layout, as plain tuples (no pandera, no pandas).

These are the columns a file must have to be read at all; a file may hold them in any order
and carry other columns beside them. `schemas.raw` turns them into pandera schemas for the
adapters; `sources.listing` checks a file's header against them before anything else is read
(the checks before a run starts import neither pandas nor Prefect).
"""
from __future__ import annotations

WB_BULK = ("Country Name", "Country Code", "Indicator Code")  # after a preamble of up to 4 lines
WB_EXCERPT = ("iso3", "anio", "pct_usuarios_internet")
WB_LONG = ("Country Code", "Year", "Value")
WB_DATABANK = ("Code", "Series Name")
WB_METADATA = ("Country Code", "Region", "IncomeGroup", "TableName")
WB_CLASS_ECONOMIES = ("Economy", "Code", "Region", "Income group")
WB_CLASS_GROUPS = ("GroupCode", "GroupName", "CountryCode")
WB_OGHIST_LONG = ("Code", "Year", "Group")
SDG_DDF = ("geo_area", "year")          # plus the keys and the series its file name declares
SDG_API = ("SeriesCode", "GeoAreaCode", "TimePeriod", "Value")
OWID_GRAPHER = ("Entity", "Code", "Year")
WPP_2019 = ("iso3", "year", "pop_total")
WPP_SINGLE_AGE = ("ISO3_code", "Time", "AgeGrpStart", "PopMale", "PopFemale", "PopTotal")
COUNTRY_CODES = (
    "ISO3166-1-Alpha-3", "M49", "CLDR display name", "Region Code", "Sub-region Code",
    "Intermediate Region Code", "Least Developed Countries (LDC)",
    "Land Locked Developing Countries (LLDC)", "Small Island Developing States (SIDS)")
ODW_CODES = ("ISO-3 Code", "World Bank Income Group Code (July 2020)")


def ddf_parts(name: str) -> tuple[str | None, list[str]]:
    """(series, key columns) a DDF datapoints file name declares:
    ddf--datapoints--<series>--by--<key>--<key>….csv; (None, []) for another name."""
    stem = name.removesuffix(".csv")
    head, sep, keys = stem.partition("--by--")
    if not sep or not head.startswith("ddf--datapoints--"):
        return None, []
    return head.removeprefix("ddf--datapoints--") or None, [k for k in keys.split("--") if k]
