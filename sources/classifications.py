"""Adapters for the classification files: economies (ISO3, M49, LDC/LLDC/SIDS) and the
World Bank income groups, stored as membership per fiscal year (FY n runs July n-1 to June n).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from catalog import Source
from schemas import classifications as cls
from schemas import raw as raw_layouts
from sources.base import (
    Extract,
    SourceError,
    quarantine_rows,
    ragged_quarantine,
    read_csv_strings,
    read_excel_strings,
)
from sources.validate import apply_schema, check_layout

INCOME_CODES = {
    "H": "HIC", "UM": "UMC", "LM": "LMC", "L": "LIC",
    "High income": "HIC", "Upper middle income": "UMC", "Lower middle income": "LMC",
    "Low income": "LIC", "HIC": "HIC", "UMC": "UMC", "LMC": "LMC", "LIC": "LIC",
}
UNCLASSIFIED = {"", "..", "nan", "None"}


def _income(frame: pd.DataFrame, path: Path, entry: Source, rows_read: int,
            extra: dict | None = None) -> Extract:
    """Income-group rows (iso3, fiscal_year, group text, row) → validated `income_groups`."""
    frame = frame.copy()
    raw = frame["income_group"].fillna("").astype(str).str.strip()
    frame = frame[~raw.isin(UNCLASSIFIED)].copy()
    # "LM*" marks a footnoted classification in OGHIST (Yemen FY87-88): same group.
    raw = frame["income_group"].astype(str).str.strip().str.rstrip("*")
    frame["income_group"] = raw.map(INCOME_CODES).fillna(raw)
    frame["source"] = entry.id
    frame["release"] = entry.release
    frame["column"] = frame.get("column", "income_group")
    frame = frame.astype({"fiscal_year": "int64"}).reset_index(drop=True)
    repeat = frame.duplicated(["iso3", "fiscal_year", "income_group"])
    q_repeat = quarantine_rows(path.name, frame.loc[repeat, "row"], "iso3",
                               frame.loc[repeat, "iso3"], "unique_key",
                               "repeats the income group of an earlier row for this economy and year: kept once",
                               of=frame.loc[repeat])
    accepted, quarantine = apply_schema(frame[~repeat], cls.income_groups_schema, path.name,
                                        cls.REASONS)
    quarantine = pd.concat([q_repeat, quarantine], ignore_index=True)
    tables = {"income_groups": accepted[["iso3", "fiscal_year", "income_group", "source",
                                         "release"]]}
    tables.update(extra or {})
    return Extract(tables, rows_read, quarantine)


def _flag(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.strip().str.lower().isin(["x", "true", "1", "yes"])


def read_country_codes(path: Path, entry: Source, ctx=None) -> Extract:
    raw, _ = read_csv_strings(path)
    columns = {
        "ISO3166-1-Alpha-3": "iso3", "M49": "m49", "CLDR display name": "name",
        "Region Code": "region_code", "Sub-region Code": "sub_region_code",
        "Intermediate Region Code": "intermediate_region_code",
        "Least Developed Countries (LDC)": "ldc",
        "Land Locked Developing Countries (LLDC)": "lldc",
        "Small Island Developing States (SIDS)": "sids",
    }
    check_layout(path, raw, raw_layouts.COUNTRY_CODES)
    frame = raw[[*columns, "_row"]].rename(columns={**columns, "_row": "row"})
    frame = frame[frame["iso3"].str.strip() != ""].copy()  # unassigned codes (none in M49)
    for col in ["m49", "region_code", "sub_region_code", "intermediate_region_code"]:
        frame[col] = pd.to_numeric(frame[col].replace("", None), errors="coerce").astype("Int64")
    for col in ["ldc", "lldc", "sids"]:
        frame[col] = _flag(frame[col])
    frame = frame.reset_index(drop=True)
    accepted, quarantine = apply_schema(frame, cls.economies_schema, path.name, cls.REASONS)
    quarantine = pd.concat([quarantine, ragged_quarantine(path.name, raw)], ignore_index=True)
    accepted = accepted.assign(source=entry.id, release=entry.release).drop(columns="row")
    return Extract({"economies": accepted}, len(raw) + len(raw.attrs["ragged"]), quarantine)


def read_wb_country_metadata(path: Path, entry: Source, ctx=None) -> Extract:
    """World Bank Metadata_Country file: economies have a Region, aggregates have none."""
    raw, _ = read_csv_strings(path)
    check_layout(path, raw, raw_layouts.WB_METADATA)
    raw = raw.rename(columns={"Country Code": "iso3", "TableName": "name", "Region": "wb_region",
                              "_row": "row"})
    is_economy = raw["wb_region"].str.strip() != ""
    aggregates = raw.loc[~is_economy, ["iso3", "name"]].assign(source=entry.id)
    economies, q_eco = apply_schema(raw[is_economy][["iso3", "name", "wb_region", "row"]]
                                    .reset_index(drop=True), cls.wb_economies_schema,
                                    path.name, cls.REASONS)
    fiscal_year = _fiscal_year_of(entry)
    income = raw[is_economy][["iso3", "IncomeGroup", "row"]].rename(
        columns={"IncomeGroup": "income_group"}).assign(fiscal_year=fiscal_year)
    extract = _income(income, path, entry, len(raw), extra={
        "wb_economies": economies.drop(columns="row").assign(source=entry.id),
        "publisher_groups": aggregates,
    })
    extract.quarantine = pd.concat([extract.quarantine, q_eco,
                                    ragged_quarantine(path.name, raw)], ignore_index=True)
    return extract


def _fiscal_year_of(entry: Source) -> int:
    """'WB FY25 …' → 2025."""
    for token in entry.release.replace("(", " ").split():
        if token.startswith("FY") and token[2:4].isdigit():
            return 2000 + int(token[2:4])
    raise SourceError(entry.pattern, f"catalog release {entry.release!r} names no fiscal year")


def read_wb_class(path: Path, entry: Source, ctx=None) -> Extract:
    """CLASS.xlsx: 'List of economies' (income group of one FY) and 'Groups' (aggregates)."""
    sheet = read_excel_strings(path, "List of economies")
    frame = _header_at(sheet, path, "Code")
    check_layout(path, frame, raw_layouts.WB_CLASS_ECONOMIES)
    is_economy = frame["Region"].notna() & (frame["Region"].astype(str).str.strip() != "")
    economies = frame[is_economy].rename(columns={"Code": "iso3", "Economy": "name",
                                                  "Region": "wb_region"})
    groups = read_excel_strings(path, "Groups")
    groups = _header_at(groups, path, "GroupCode")
    check_layout(path, groups, raw_layouts.WB_CLASS_GROUPS)
    publisher_groups = (groups[["GroupCode", "GroupName"]].drop_duplicates()
                        .rename(columns={"GroupCode": "iso3", "GroupName": "name"})
                        .assign(source=entry.id))
    membership = groups[["GroupCode", "CountryCode"]].rename(
        columns={"GroupCode": "group_code", "CountryCode": "iso3"}).assign(source=entry.id)
    income = economies[["iso3", "Income group", "row"]].rename(
        columns={"Income group": "income_group"}).assign(fiscal_year=_fiscal_year_of(entry))
    return _income(income, path, entry, len(frame), extra={
        "wb_economies": economies[["iso3", "name", "wb_region"]].assign(source=entry.id),
        "publisher_groups": publisher_groups,
        "publisher_group_members": membership,
    })


def _header_at(sheet: pd.DataFrame, path: Path, first_key: str) -> pd.DataFrame:
    """Rows below the header row whose cells include `first_key`; keeps the sheet row number."""
    for i in range(min(len(sheet), 30)):
        cells = [str(c).strip() for c in sheet.iloc[i].tolist()]
        if first_key in cells:
            frame = sheet.iloc[i + 1:].copy()
            frame.columns = [c if c != "nan" else f"unnamed{j}" for j, c in enumerate(cells)]
            frame["row"] = frame.index + 1  # spreadsheet rows count from 1
            return frame.dropna(how="all", subset=[c for c in frame.columns if c != "row"])
    raise SourceError(path, f"wrong layout: no header row with a '{first_key}' column")


def read_wb_oghist_wide(path: Path, entry: Source, ctx=None) -> Extract:
    """OGHIST 'Country Analytical History': one column per fiscal year (FY10 … FY23)."""
    sheet = read_excel_strings(path, "Country Analytical History")
    frame = _header_at(sheet, path, "Code")
    fy_columns = [c for c in frame.columns if str(c).startswith("FY") and str(c)[2:].isdigit()]
    if not fy_columns:
        raise SourceError(path, "wrong layout: no FYnn columns in 'Country Analytical History'")
    frame = frame[frame["Code"].notna()]
    long = frame.melt(id_vars=["Code", "row"], value_vars=fy_columns, var_name="column",
                      value_name="income_group").rename(columns={"Code": "iso3"})
    long["fiscal_year"] = [_fy(c) for c in long["column"]]
    return _income(long, path, entry, len(frame))


def _fy(column: str) -> int:
    two = int(column[2:])
    return (1900 if two >= 50 else 2000) + two


def read_wb_oghist_long(path: Path, entry: Source, ctx=None) -> Extract:
    """OGHIST reshaped long (Code, Year, Group): Year is the GNI year, so FY = Year + 2."""
    sheet = read_excel_strings(path, "Country Analytical History")
    frame = _header_at(sheet, path, "Code")
    check_layout(path, frame, raw_layouts.WB_OGHIST_LONG)
    years = pd.to_numeric(frame["Year"], errors="coerce")
    frame = frame.assign(iso3=frame["Code"], income_group=frame["Group"],
                         fiscal_year=years + 2, column="Year")
    bad = frame["fiscal_year"].isna()
    extract = _income(frame[~bad], path, entry, len(frame))
    if bad.any():
        extract.quarantine = pd.concat([extract.quarantine, quarantine_rows(
            path.name, frame.loc[bad, "row"], "Year", frame.loc[bad, "Year"], "number",
            "GNI year is not a number")], ignore_index=True)
    return extract


def read_odw_codes(path: Path, entry: Source, ctx=None) -> Extract:
    """Open Data Watch codes: WB income group as of July 2020 (FY21), and each economy's UN M49
    code and M49 region (a second opinion on where an economy belongs, should the country
    codes lack it: indicators/membership.py `classification_changes`)."""
    raw, _ = read_csv_strings(path)
    code_col = "World Bank Income Group Code (July 2020)"
    check_layout(path, raw, raw_layouts.ODW_CODES)
    frame = raw.rename(columns={"ISO-3 Code": "iso3", code_col: "income_group", "_row": "row"})
    frame = frame.assign(fiscal_year=2021, column=code_col)
    extra = {}
    if {"UN M49 Code", "UN M49 Region Code"} <= set(raw.columns):
        regions = pd.DataFrame({
            "iso3": raw["ISO-3 Code"].str.strip(),
            "m49": pd.to_numeric(raw["UN M49 Code"], errors="coerce").astype("Int64"),
            "m49_region": pd.to_numeric(raw["UN M49 Region Code"], errors="coerce")
            .astype("Int64"),
        }).dropna(subset=["m49_region"])
        extra["economy_regions"] = regions[regions["iso3"].str.fullmatch(r"[A-Z0-9]{3}")] \
            .assign(source=entry.id, file=path.name).reset_index(drop=True)
    extract = _income(frame, path, entry, len(raw), extra=extra)
    extract.quarantine = pd.concat([extract.quarantine, ragged_quarantine(path.name, raw)],
                                   ignore_index=True)
    return extract
