"""World Bank adapters: bulk CSV (wide years), the 2024 excerpt, the long population file and
DataBank extracts. Indicator codes are mapped to the catalog's (IT.NET.USER.ZS is read as
IT_USE_ii99, the same ITU series); a layout that names no indicator takes its source's."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from catalog import Source, code_for, indicators
from schemas import layouts
from schemas import raw as raw_layouts
from sources.base import (
    YEAR_HEADER,
    Context,
    Extract,
    SourceError,
    read_csv_strings,
    read_excel_strings,
)
from sources.observations import finish
from sources.validate import check_layout


def _canonical(code: str, path: Path) -> str:
    try:
        return code_for(code)
    except KeyError:
        raise SourceError(path, f"indicator {code!r} is not in the indicator catalog") from None


def _constant(long: pd.DataFrame, indicator: str, status: str = "reported") -> pd.DataFrame:
    unit = indicators()[indicator].unit
    return long.assign(indicator=indicator, sex="total", location="total", unit=unit,
                       status=status)


BULK_ID_COLUMNS = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]


def read_wb_bulk(path: Path, entry: Source, ctx: Context) -> Extract:
    """World Bank API bulk CSV, with or without its four metadata lines. Columns may come in
    any order; other columns than the identifiers and the years are ignored (and noted)."""
    raw, _ = read_csv_strings(path, header_with=layouts.WB_BULK)
    check_layout(path, raw, raw_layouts.WB_BULK)
    years = [c for c in raw.columns if YEAR_HEADER.match(c)]
    if not years:
        raise SourceError(path, "wrong layout: no year columns (1960, 1961, …)")
    # A column whose header looks like a mistyped year ("20X5", "2O10", a blank header between
    # years) is read too, so that its values are quarantined (check `year`) instead of lost
    # silently; a named column that is no year at all ("Unit", "Source") is not data.
    others = [c for c in raw.columns if c not in BULK_ID_COLUMNS and c != "_row"
              and c not in years]
    bad_years = [c for c in others if _looks_like_a_year(c, raw.columns, years)]
    ignored = [c for c in others if c not in bad_years]
    value_columns = [c for c in raw.columns if c in years or c in bad_years]
    release = _last_updated(path) or entry.release
    long = raw.melt(id_vars=["Country Code", "Indicator Code", "_row"], value_vars=value_columns,
                    var_name="column", value_name="value_text")
    long = long[long["value_text"].fillna("").str.strip() != ""]  # empty cells: no value
    long = long.rename(columns={"Country Code": "iso3", "_row": "row"})
    long = long.assign(year=long["column"], year_column=long["column"])
    codes = long["Indicator Code"].unique()
    _check_named_indicator(path, raw["Indicator Code"].dropna().unique())
    parts = [_constant(long[long["Indicator Code"] == c], _canonical(c, path)) for c in codes]
    long = pd.concat(parts).drop(columns="Indicator Code").assign(release=release)
    extract = finish(long, path, entry, ctx, len(raw) + len(raw.attrs["ragged"]), raw)
    if ignored:
        extract.notes.append(ignored_note(ignored))
    return extract


BULK_NAME = re.compile(r"^API_(?P<code>.+?)_DS2_")


def _check_named_indicator(path: Path, codes) -> None:
    """A bulk file's name says which indicator it holds (API_<code>_DS2_…): a file holding
    another one was saved under the wrong name, and would be read as the wrong source."""
    named = BULK_NAME.match(path.name)
    if named and len(codes) and named["code"] not in set(codes):
        raise SourceError(path, f"holds {', '.join(sorted(codes)[:3])} where its name says "
                                f"{named['code']} (a download saved under another name?)")


def _looks_like_a_year(column: str, columns, years: list[str]) -> bool:
    """Two digits or more ("20X5"), or a blank header with year columns on both sides."""
    if sum(ch.isdigit() for ch in column) >= 2:
        return True
    if column.startswith("unnamed"):
        position = list(columns).index(column)
        before = [c for c in list(columns)[:position] if c in years]
        after = [c for c in list(columns)[position + 1:] if c in years]
        return bool(before and after)
    return False


def ignored_note(columns: list[str]) -> str:
    return (f"column(s) {', '.join(repr(c) for c in columns)} ignored: not part of the "
            "layout")


def _last_updated(path: Path) -> str | None:
    """The 'Last Updated Date' line of a bulk file's preamble, as the release name."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        for _ in range(4):
            line = handle.readline()
            if line.startswith('"Last Updated Date"'):
                date = line.split(",")[1].strip().strip('"')
                try:
                    return f"WDI {dt.date.fromisoformat(date):%Y-%m-%d}"
                except ValueError:
                    return None
    return None


def read_wb_excerpt(path: Path, entry: Source, ctx: Context) -> Extract:
    """The 2024 Internet-use excerpt (columns pais, iso3, anio, pct_usuarios_internet)."""
    raw, _ = read_csv_strings(path)
    check_layout(path, raw, raw_layouts.WB_EXCERPT)
    long = raw.rename(columns={"pct_usuarios_internet": "value_text", "_row": "row"})
    long = long.assign(year=long["anio"], year_column="anio")
    long = _constant(long.assign(column="pct_usuarios_internet"), entry.indicator)
    return finish(long, path, entry, ctx, len(raw) + len(raw.attrs["ragged"]), raw)


def read_wb_long(path: Path, entry: Source, ctx: Context) -> Extract:
    """Long layout: Country Name, Country Code, Year, Value (of the source's indicator)."""
    raw, _ = read_csv_strings(path)
    check_layout(path, raw, raw_layouts.WB_LONG)
    long = raw.rename(columns={"Country Code": "iso3", "Value": "value_text", "_row": "row"})
    long = long.assign(year=long["Year"], year_column="Year", column="Value")
    long = _constant(long, entry.indicator)
    return finish(long, path, entry, ctx, len(raw) + len(raw.attrs["ragged"]), raw)


def read_wb_databank(path: Path, entry: Source, ctx: Context) -> Extract:
    """DataBank extract: sheet 'Data' (Country, Code, Series Name, years; '..' = missing)."""
    sheet = read_excel_strings(path, "Data")
    header = [str(c).strip() for c in sheet.iloc[0].tolist()]
    sheet = sheet.iloc[1:].copy()
    sheet.columns = header
    check_layout(path, sheet, raw_layouts.WB_DATABANK)
    meta = read_excel_strings(path, "Series - Metadata")
    meta.columns = [str(c).strip() for c in meta.iloc[0].tolist()]
    names = dict(zip(meta["Indicator Name"].iloc[1:], meta["Code"].iloc[1:]))
    sheet = sheet[sheet["Code"].notna() & sheet["Series Name"].notna()]
    unknown = set(sheet["Series Name"]) - set(names)
    if unknown:
        raise SourceError(path, f"series {min(unknown)!r} has no code in 'Series - Metadata'")
    sheet["row"] = sheet.index + 1
    years = [c for c in sheet.columns if YEAR_HEADER.match(c.split(" ")[0])]
    long = sheet.melt(id_vars=["Code", "Series Name", "row"], value_vars=years,
                      var_name="column", value_name="value_text")
    long["year"] = long["column"].str[:4].astype(int)
    long = long.rename(columns={"Code": "iso3"})
    parts = [_constant(long[long["Series Name"] == name], _canonical(names[name], path))
             for name in long["Series Name"].unique()]
    long = pd.concat(parts).drop(columns="Series Name")
    return finish(long, path, entry, ctx, len(sheet))
