"""UN World Population Prospects: population by sex, total and aged 10+ / 15+ (thousands)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from catalog import Source
from schemas import raw as raw_layouts
from sources.base import (
    Context,
    Extract,
    SourceError,
    quarantine_rows,
    read_csv_strings,
)
from sources.observations import finish
from sources.validate import check_layout

# file column → (indicator, sex)
WPP_COLUMNS = {
    "pop_total": ("WPP.POP.TOTL", "total"),
    "pop_male": ("WPP.POP.TOTL", "male"),
    "pop_female": ("WPP.POP.TOTL", "female"),
    "pop10plus_total": ("WPP.POP.10UP", "total"),
    "pop10plus_male": ("WPP.POP.10UP", "male"),
    "pop10plus_female": ("WPP.POP.10UP", "female"),
    "pop15plus_male": ("WPP.POP.15UP", "male"),
    "pop15plus_female": ("WPP.POP.15UP", "female"),
}
# WPP 2019's estimates end in 2020; later years are medium-variant projections.
LAST_ESTIMATE_YEAR = 2020


def read_wpp(path: Path, entry: Source, ctx: Context) -> Extract:
    raw, _ = read_csv_strings(path)
    check_layout(path, raw, raw_layouts.WPP_2019)
    present = [c for c in WPP_COLUMNS if c in raw]
    long = raw.melt(id_vars=["iso3", "year", "_row"], value_vars=present, var_name="column",
                    value_name="value_text").rename(columns={"_row": "row"})
    long["indicator"] = long["column"].map(lambda c: WPP_COLUMNS[c][0])
    long["sex"] = long["column"].map(lambda c: WPP_COLUMNS[c][1])
    numbers = pd.to_numeric(long["value_text"], errors="coerce")
    # thousands → persons, keeping text that is not a number for the quarantine; rounded to
    # drop float noise (64.623 * 1000 = 64623.00000000001), keeping up to 6 decimals of thousands
    persons = (numbers * 1000).round(3)
    long["value_text"] = long["value_text"].where(numbers.isna(), persons.astype(str))
    years = pd.to_numeric(long["year"], errors="coerce")
    long = long.assign(
        location="total", unit="persons", year_column="year",
        status=["publisher_estimate" if y > LAST_ESTIMATE_YEAR else "reported" for y in years],
    )
    return finish(long, path, entry, ctx, len(raw) + len(raw.attrs["ragged"]), raw)


# WPP 2024 single-age CSV (the official download): one row per location, year, age.
SINGLE_AGE_COLUMNS = ["ISO3_code", "Time", "AgeGrpStart", "PopMale", "PopFemale", "PopTotal"]
WPP2024_LAST_ESTIMATE_YEAR = 2023


def read_wpp_single_age(path: Path, entry: Source, ctx: Context) -> Extract:
    """WPP 2024 population by single age and sex (thousands, 1 January), summed to total,
    aged 10+ and aged 15+ per country and year. Rows for regions (no ISO3 code) are skipped."""
    try:
        raw = pd.read_csv(path, usecols=lambda c: c in SINGLE_AGE_COLUMNS, dtype=str,
                          keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, EOFError, OSError, pd.errors.ParserError) as exc:
        raise SourceError(path, f"cannot be read as a gzipped CSV ({type(exc).__name__})") \
            from None
    except pd.errors.EmptyDataError:
        raise SourceError(path, "is empty") from None
    check_layout(path, raw, raw_layouts.WPP_SINGLE_AGE)
    raw["row"] = raw.index + 2
    countries = raw[raw["ISO3_code"].str.strip() != ""].copy()
    numbers = countries[["Time", "AgeGrpStart", "PopMale", "PopFemale", "PopTotal"]].apply(
        pd.to_numeric, errors="coerce")
    bad = numbers.isna().any(axis=1)
    quarantine = quarantine_rows(
        path.name, countries.loc[bad, "row"], "PopTotal", countries.loc[bad, "PopTotal"],
        "number", "a year, age or population in this row is not a number",
        of=countries.loc[bad].rename(columns={"ISO3_code": "iso3", "Time": "year"}))
    good = countries[~bad].assign(**{c: numbers.loc[~bad, c] for c in numbers.columns})
    sums = []
    for name, min_age in (("WPP.POP.TOTL", 0), ("WPP.POP.10UP", 10), ("WPP.POP.15UP", 15)):
        part = good[good["AgeGrpStart"] >= min_age].groupby(["ISO3_code", "Time"]).agg(
            male=("PopMale", "sum"), female=("PopFemale", "sum"), total=("PopTotal", "sum"),
            row=("row", "min")).reset_index()
        for sex in ("total", "male", "female"):
            sums.append(pd.DataFrame({
                "iso3": part["ISO3_code"], "year": part["Time"].astype(int).astype(str),
                "indicator": name, "sex": sex, "value_text": (part[sex] * 1000).round(3)
                .astype(str), "row": part["row"], "column": f"Pop{sex.title()}",
            }))
    long = pd.concat(sums, ignore_index=True)
    long = long[~((long["indicator"] == "WPP.POP.15UP") & (long["sex"] == "total"))]
    years = long["year"].astype(int)
    long = long.assign(
        location="total", unit="persons", year_column="Time",
        status=["publisher_estimate" if y > WPP2024_LAST_ESTIMATE_YEAR else "reported"
                for y in years])
    extract = finish(long, path, entry, ctx, len(raw))
    extract.quarantine = pd.concat([quarantine, extract.quarantine], ignore_index=True)
    return extract
