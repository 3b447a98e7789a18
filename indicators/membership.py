"""Group membership per year: world, World Bank income groups, LDC/LLDC/SIDS, SDG regions.

Income groups by year: data year Y uses the classification the World Bank published in July
of Y (fiscal year Y+1). Years beyond the latest list use the latest, and the classification
label says so. `fixed_fiscal_year` instead applies one list to every year (the WDI practice).
"""
from __future__ import annotations

import pandas as pd

from catalog import groups, groups_of, schemes, sources


def sdg_regions(economies: pd.DataFrame) -> pd.Series:
    """iso3 → SDG region code (text), from the M49 sub-regions the groups catalog lists."""
    regions = [g for g in groups().values() if g.scheme == "sdg_region"]
    of_subregion = {int(s): g.code for g in regions for s in g.member.get("subregions", [])}
    sub = economies.set_index("iso3")["sub_region_code"]
    # M49 puts Latin America's sub-regions under one 'sub-region' 419 in this file
    region = sub.map(lambda c: of_subregion.get(int(c)) if pd.notna(c) else None)
    for g in regions:
        for iso3 in g.member.get("economies", []):
            region[iso3] = g.code
    return region.dropna()


def income_by_fiscal_year(income_groups: pd.DataFrame) -> pd.DataFrame:
    """One income group per economy and fiscal year: where several lists give one fiscal
    year, the source listed first in the source catalog wins (the official lists first)."""
    rank = {s.id: i for i, s in enumerate(sources())}
    ordered = income_groups.assign(rank=income_groups["source"].map(rank).fillna(99))
    ordered = ordered.sort_values(["iso3", "fiscal_year", "rank"])
    return ordered.drop_duplicates(["iso3", "fiscal_year"])[
        ["iso3", "fiscal_year", "income_group", "source"]]


def membership(universe: pd.DataFrame, economies: pd.DataFrame, income_groups: pd.DataFrame,
               fixed_fiscal_year: int | None = None) -> pd.DataFrame:
    """group_scheme, group_code, iso3, year, classification for every economy-year of
    `universe` (iso3, year): the membership actually used."""
    years = universe[["iso3", "year"]].drop_duplicates()
    scheme = schemes()
    parts = [years.assign(group_scheme="world", group_code=code,
                          classification=scheme["world"]["classification"])
             for code in groups_of("world")]

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
    for code in groups_of("un_special"):
        members = set(eco.index[eco[groups()[code].member["flag"]]])
        parts.append(years[years["iso3"].isin(members)].assign(
            group_scheme="un_special", group_code=code,
            classification=scheme["un_special"]["classification"]))
    region = sdg_regions(economies)
    regional = years.assign(group_code=years["iso3"].map(region)).dropna(subset=["group_code"])
    parts.append(regional.assign(group_scheme="sdg_region",
                                 classification=scheme["sdg_region"]["classification"]))
    out = pd.concat(parts, ignore_index=True)
    out["group_name"] = out["group_code"].map({c: g.name for c, g in groups().items()})
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
