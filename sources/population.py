"""UN World Population Prospects: population by sex, total and aged 10+ / 15+ (thousands)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from sources.base import Context, Extract, read_csv_strings, require_columns
from sources.catalog import SourceEntry
from sources.observations import finish

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


def read_wpp(path: Path, entry: SourceEntry, ctx: Context) -> Extract:
    raw, _ = read_csv_strings(path)
    require_columns(path, raw, ["iso3", "year", "pop_total"])
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
