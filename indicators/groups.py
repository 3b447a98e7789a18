"""Group membership per year: world, World Bank income groups, LDC/LLDC/SIDS, SDG regions.

Income groups by year: data year Y uses the classification the World Bank published in July
of Y (fiscal year Y+1). Years beyond the latest list use the latest, and the classification
label says so. `fixed_fiscal_year` instead applies one list to every year (the WDI practice).
"""
from __future__ import annotations

import pandas as pd

# SDG regions (M49 codes, as text without leading zeros) from M49 sub-regions.
SDG_REGION_OF_SUBREGION = {
    202: "202",            # Sub-Saharan Africa
    15: "747", 145: "747",  # Northern Africa and Western Asia
    143: "62", 34: "62",   # Central and Southern Asia
    30: "753", 35: "753",  # Eastern and South-Eastern Asia
    419: "419",            # Latin America and the Caribbean
    53: "53",              # Australia and New Zealand
    54: "543", 57: "543", 61: "543",  # Oceania excl. Australia and New Zealand
    151: "513", 154: "513", 155: "513", 39: "513", 21: "513",  # Europe and Northern America
}
GROUP_NAMES = {
    "WLD": "World", "HIC": "High income", "UMC": "Upper middle income",
    "LMC": "Lower middle income", "LIC": "Low income", "LDC": "Least developed countries",
    "LLDC": "Landlocked developing countries", "SIDS": "Small island developing States",
    "202": "Sub-Saharan Africa", "419": "Latin America and the Caribbean",
    "513": "Europe and Northern America", "753": "Eastern and South-Eastern Asia",
    "62": "Central and Southern Asia", "747": "Northern Africa and Western Asia",
    "543": "Oceania excl. Australia and New Zealand", "53": "Australia and New Zealand",
}
# Which list wins when several files give one fiscal year: the official lists first.
INCOME_SOURCE_ORDER = ["wb_country_metadata", "wb_class", "wb_oghist_wide", "wb_oghist_long",
                       "odw_codes"]
M49_VINTAGE = "M49 (country-codes)"
# Kosovo and the Channel Islands have no M49 code; their SDG region by geography.
EXTRA_SDG_REGION = {"XKX": "513", "CHI": "513"}


def sdg_regions(economies: pd.DataFrame) -> pd.Series:
    """iso3 → SDG region code (text)."""
    sub = economies.set_index("iso3")["sub_region_code"]
    # M49 puts Latin America's sub-regions under one 'sub-region' 419 in this file
    region = sub.map(lambda c: SDG_REGION_OF_SUBREGION.get(int(c)) if pd.notna(c) else None)
    for iso3, code in EXTRA_SDG_REGION.items():
        region[iso3] = code
    return region.dropna()


def income_by_fiscal_year(income_groups: pd.DataFrame) -> pd.DataFrame:
    """One income group per economy and fiscal year, by source precedence."""
    rank = {s: i for i, s in enumerate(INCOME_SOURCE_ORDER)}
    ordered = income_groups.assign(rank=income_groups["source"].map(rank).fillna(99))
    ordered = ordered.sort_values(["iso3", "fiscal_year", "rank"])
    return ordered.drop_duplicates(["iso3", "fiscal_year"])[
        ["iso3", "fiscal_year", "income_group", "source"]]


def membership(universe: pd.DataFrame, economies: pd.DataFrame, income_groups: pd.DataFrame,
               fixed_fiscal_year: int | None = None) -> pd.DataFrame:
    """group_scheme, group_code, iso3, year, classification for every economy-year of
    `universe` (iso3, year): the membership actually used."""
    years = universe[["iso3", "year"]].drop_duplicates()
    parts = [years.assign(group_scheme="world", group_code="WLD", classification="all economies")]

    income = income_by_fiscal_year(income_groups)
    latest = int(income["fiscal_year"].max())
    earliest = int(income["fiscal_year"].min())
    wanted = years.copy()
    if fixed_fiscal_year is not None:
        wanted["fiscal_year"] = fixed_fiscal_year
    else:
        wanted["fiscal_year"] = (wanted["year"] + 1).clip(earliest, latest)
    labelled = wanted.merge(income, on=["iso3", "fiscal_year"], how="inner")
    labelled["classification"] = [
        _income_label(fy, y, latest, earliest, fixed_fiscal_year is not None)
        for fy, y in zip(labelled["fiscal_year"], labelled["year"])]
    parts.append(labelled.rename(columns={"income_group": "group_code"}).assign(
        group_scheme="income")[["iso3", "year", "group_scheme", "group_code",
                                "classification"]])

    eco = economies.set_index("iso3")
    for flag, code in [("ldc", "LDC"), ("lldc", "LLDC"), ("sids", "SIDS")]:
        members = set(eco.index[eco[flag]])
        parts.append(years[years["iso3"].isin(members)].assign(
            group_scheme="un_special", group_code=code, classification=M49_VINTAGE))
    region = sdg_regions(economies)
    regional = years.assign(group_code=years["iso3"].map(region)).dropna(subset=["group_code"])
    parts.append(regional.assign(group_scheme="sdg_region", classification=M49_VINTAGE))
    out = pd.concat(parts, ignore_index=True)
    out["group_name"] = out["group_code"].map(GROUP_NAMES)
    return out[["group_scheme", "group_code", "group_name", "iso3", "year", "classification"]]


def _income_label(fiscal_year: int, year: int, latest: int, earliest: int, fixed: bool) -> str:
    label = f"WB FY{fiscal_year % 100:02d}"
    if fixed:
        return f"{label} (fixed for all years)"
    if year + 1 > latest:
        return f"{label} (latest available)"
    if year + 1 < earliest:
        return f"{label} (earliest available)"
    return label
