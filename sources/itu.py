"""ITU adapters: the print-layout XLS of Internet use by sex and location, and DataHub JSON."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from catalog import Source, code_for, indicators
from sources.base import (
    Context,
    Extract,
    SourceError,
    empty_quarantine,
    quarantine_rows,
    read_excel_strings,
    read_text,
)
from sources.observations import finish

# (section of the two-row header, column label) → (sex, location)
XLS_CELLS = {
    ("All", "Individuals"): ("total", "total"),
    ("Gender", "Male"): ("male", "total"),
    ("Gender", "Female"): ("female", "total"),
    ("Urban", "Total"): ("total", "urban"),
    ("Urban", "Male"): ("male", "urban"),
    ("Urban", "Female"): ("female", "urban"),
    ("Rural", "Total"): ("total", "rural"),
    ("Rural", "Male"): ("male", "rural"),
    ("Rural", "Female"): ("female", "rural"),
}


def normalise_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(name).lower()).strip()


def read_itu_xls(path: Path, entry: Source, ctx: Context) -> Extract:
    """Sheet with a two-row header (section: All/Gender/Urban/Rural; label) above the data.

    The economy is named, not coded: names are matched to ISO3 through the classification
    files' names. Rows with a name but no year are the sheet's notes, not data.
    """
    sheet = read_excel_strings(path, 0)
    header_row = next((i for i in range(min(len(sheet), 20))
                       if "Economy name" in [str(c).strip() for c in sheet.iloc[i]]), None)
    if header_row is None or header_row == 0:
        raise SourceError(path, "wrong layout: no 'Economy name' header row")
    labels = [str(c).strip() for c in sheet.iloc[header_row]]
    sections = pd.Series([str(c).strip() for c in sheet.iloc[header_row - 1]])
    sections = sections.where(sections != "nan").ffill().fillna("")
    name_col = labels.index("Economy name")
    year_col = next((j for j, (s, lab) in enumerate(zip(sections, labels))
                     if lab == "year" or (s == "Latest" and lab == "year")), None)
    cells = {j: XLS_CELLS[(s, lab)] for j, (s, lab) in enumerate(zip(sections, labels))
             if (s, lab) in XLS_CELLS}
    if year_col is None or len(cells) < 3:
        raise SourceError(path, "wrong layout: year or value columns not found under the header")
    data = sheet.iloc[header_row + 1:]
    data = data[data[name_col].notna() & data[year_col].notna()]
    names = data[name_col].astype(str).str.strip()
    iso3 = names.map(lambda n: ctx.names_to_iso3.get(normalise_name(n)))
    rows = data.index + 1  # spreadsheet row numbers
    unmatched = iso3.isna()
    q_names = quarantine_rows(path.name, rows[unmatched.to_numpy()], "Economy name",
                              names[unmatched], "known_economy",
                              [f"economy name {n!r} matches no known economy"
                               for n in names[unmatched]],
                              of=pd.DataFrame({"year": data.loc[unmatched.to_numpy(), year_col]}))
    parts = []
    for j, (sex, location) in cells.items():
        parts.append(pd.DataFrame({
            "iso3": iso3, "year": data[year_col], "year_column": "year",
            "sex": sex, "location": location, "value_text": data[j],
            "row": rows, "column": f"{sections[j]} {labels[j]}",
        })[~unmatched.to_numpy()])
    long = pd.concat(parts).assign(indicator=entry.indicator,
                                   unit=indicators()[entry.indicator].unit, status="reported")
    extract = finish(long, path, entry, ctx, len(data))
    extract.quarantine = pd.concat([q_names, extract.quarantine], ignore_index=True)
    return extract


def read_itu_datahub(path: Path, entry: Source, ctx: Context) -> Extract:
    """ITU DataHub API JSON. Data records (`dataYear` with `answer`) for a country (`isoCode`,
    `IsoCode` or `entityIso`) are observations; for a region (`regionName`) publisher
    aggregates. Indicator metadata and code lists are kept as reference tables."""
    try:
        payload = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    records = payload if isinstance(payload, list) else payload.get("data", [payload])
    if not records or not all(isinstance(r, dict) for r in records):
        raise SourceError(path, "wrong layout: expected a list of JSON objects")
    first = records[0]
    if "dataYear" in first:
        return _datahub_data(records, path, entry, ctx)
    if "IsoCode" in first and "Regions" in first:
        rows = [{"iso3": r["IsoCode"], "name": r.get("ShortName"), "class": g.get("class"),
                 "region_code": g.get("regionCode"), "region": g.get("region")}
                for r in records for g in r.get("Regions", [])]
        return Extract({"itu_country_regions": pd.DataFrame(rows)}, len(records))
    if "regionCode" in first and "className" in first:
        return Extract({"itu_regions": pd.DataFrame(records)[
            ["className", "regionCode", "regionName", "regionID"]]}, len(records))
    if "code" in first and "label" in first:
        rows = [{"code": r["code"], "label": r["label"], "units": r.get("units"),
                 "definition": r.get("codeDesc")} for r in records]
        return Extract({"itu_indicators": pd.DataFrame(rows)}, len(records))
    raise SourceError(path, "wrong layout: not a DataHub data, country, region or indicator list")


def _catalog_code(code: str | None) -> str | None:
    """The catalog's code for a DataHub code (i99H is IT_USE_ii99); unknown ones as they are,
    for the schema to reject."""
    try:
        return code_for(code)
    except KeyError:
        return code


def _datahub_data(records, path, entry, ctx) -> Extract:
    rows = []
    for number, r in enumerate(records, start=1):
        answer = r.get("answer") or [{}]
        iso = r.get("isoCode") or r.get("IsoCode") or r.get("entityIso")
        rows.append({
            "iso3": iso if iso else r.get("regionName", ""),
            "is_aggregate": not iso,
            "indicator": _catalog_code(r.get("code")),
            "year": r.get("dataYear"), "year_column": "dataYear",
            "value_text": None if answer[0].get("value") is None else str(answer[0]["value"]),
            "row": number, "column": "answer.value",
            "sex": "total", "location": "total", "status": "reported",
            "release": f"ITU DataHub (updated {str(r.get('updateDate', ''))[:10]})",
        })
    long = pd.DataFrame(rows)
    if long.empty:
        return Extract({}, 0, empty_quarantine())
    long["unit"] = long["indicator"].map(
        lambda c: indicators()[c].unit if c in indicators() else "")
    return finish(long, path, entry, ctx, len(records))
