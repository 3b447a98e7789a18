"""Turn an adapter's long frame (values still as text) into accepted rows and quarantine rows.

Steps, each adding to the quarantine with a reason a person understands:
1. parse the value text as a number (blank and the publishers' missing markers are no value);
2. the canonical schema (`schemas.observations`), validated lazily so every failure is reported;
3. duplicates: identical repeats are kept once, conflicting values for one key are all rejected;
4. scale: a per cent column whose values all lie within 0-1 is fractions of one, not per cent.
"""
from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa

from schemas.observations import REASONS, ROW_CHECK_COLUMN, observation_schema
from sources.base import OBSERVATION_COLUMNS, empty_quarantine, quarantine_rows

MISSING_MARKERS = {"", "..", "...", "…", "-", "NA", "N/A", "n/a", "NaN", "nan"}
KEY = ["indicator", "iso3", "year", "sex", "location", "source", "release"]
# A per cent column is checked for fractions only from this year on: by then some economy
# exceeded 1% on every indicator in the catalog.
FRACTION_CHECK_FROM = 2000
FRACTION_CHECK_MIN_ROWS = 10


def check_layout(path, raw: pd.DataFrame, schema: pa.DataFrameSchema,
                 extra: list[str] = ()) -> None:
    """The file has its layout's columns (and `extra` ones), or a SourceError naming them."""
    from sources.base import require_columns

    require_columns(path, raw, list(dict.fromkeys([*schema.columns, *extra])))


def parse_values(long: pd.DataFrame, file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse `value_text` into `value`; drop empty cells; quarantine text that is not a number."""
    text = long["value_text"].astype("str").str.strip()
    present = ~text.isin(MISSING_MARKERS) & long["value_text"].notna()
    long, text = long[present].copy(), text[present]
    value = pd.to_numeric(text, errors="coerce")
    bad = value.isna()
    quarantine = quarantine_rows(
        file, long.loc[bad, "row"], long.loc[bad, "column"], text[bad], "number",
        [_why_not_a_number(t) for t in text[bad]], of=long[bad],
    )
    long = long[~bad].copy()
    long["value"] = value[~bad].astype("float64")
    return long.drop(columns="value_text"), quarantine


def _why_not_a_number(text: str) -> str:
    if re.fullmatch(r"-?\d+,\d+", text):
        return f"{text!r} is not a number: decimal comma where a decimal point is expected"
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
        return f"{text!r} is not a number: thousands separators are not allowed"
    return f"{text!r} is not a number"


def validate_observations(
    long: pd.DataFrame, file: str, known_iso3: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a long frame with `value_text`, `row` and `column`; return (accepted, quarantine)."""
    long = long.reset_index(drop=True)
    long, q_number = parse_values(long, file)
    long, q_schema = _schema_failures(long, file, known_iso3)
    long, q_duplicates = _duplicate_failures(long, file)
    long, q_scale = _fraction_failures(long, file)
    quarantine = pd.concat(
        [q for q in (q_number, q_schema, q_duplicates, q_scale) if len(q)] or [empty_quarantine()],
        ignore_index=True,
    )
    return long[OBSERVATION_COLUMNS + ["file", "row", "column"]], quarantine


def _schema_failures(long, file, known_iso3):
    long = long.astype({"year": "int64"}) if len(long) else long
    return apply_schema(long, observation_schema(known_iso3), file, REASONS, ROW_CHECK_COLUMN)


def apply_schema(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    file: str,
    reasons: dict[str, str],
    row_check_column: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate lazily; return the passing rows and one quarantine row per failing check.

    `frame` carries the file's line number in `row` and, for values, the file's column name
    in `column`. A structural failure (a column missing, a wrong type) is not a row problem:
    it is raised as it is, for the adapter to turn into a SourceError.
    """
    row_check_column = row_check_column or {}
    try:
        schema.validate(frame, lazy=True)
        return frame, empty_quarantine()
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    structural = cases["index"].isna()
    if structural.any():
        first = cases[structural].iloc[0]
        raise ValueError(f"column {first['column']!r} fails {first['check']}")
    cases = cases.copy()
    cases["index"] = cases["index"].astype("int64")
    # A row-wide check reports every column of a failing row: keep the column it is about.
    row_wide = cases["check"].isin(list(row_check_column))
    cases = cases[~row_wide | (cases["column"] == cases["check"].map(row_check_column))]
    cases = cases.drop_duplicates(["index", "check"])
    rows = frame.loc[cases["index"]]
    names = _check_names(schema)
    checks = [names.get((col, str(c)), str(c).split("(")[0])
              for col, c in zip(cases["column"], cases["check"])]
    reason_texts = [
        reasons.get(check, f"fails check {check}").format(value=value)
        for check, value in zip(checks, cases["failure_case"])
    ]
    file_columns = rows["column"] if "column" in rows else pd.Series([None] * len(rows))
    year_columns = rows.get("year_column", file_columns)
    columns = [
        year_col if col == "year" and isinstance(year_col, str)
        else source_col if col in ("value", "year") and isinstance(source_col, str) else col
        for col, source_col, year_col in zip(cases["column"], file_columns, year_columns)
    ]
    quarantine = quarantine_rows(
        file, rows["row"], columns, cases["failure_case"], "", reason_texts, of=rows
    )
    quarantine["check"] = ["schema:" + c for c in checks]
    return frame.drop(index=cases["index"].unique()), quarantine


def _check_names(schema: pa.DataFrameSchema) -> dict[tuple[str, str], str]:
    """(column, check as pandera reports it) -> the check's `name`.

    pandera reports a built-in check by its description ("isin([...])"), not by the `name`
    the schema gives it ("known_economy"), so map the description back to the name.
    """
    names = {}
    for column_name, column in schema.columns.items():
        for check in column.checks:
            if check.name:
                names[(column_name, str(check.error or check.name))] = check.name
    return names


def _duplicate_failures(long, file):
    if long.empty:
        return long, empty_quarantine()
    dup = long.duplicated(KEY, keep=False)
    if not dup.any():
        return long, empty_quarantine()
    groups = long[dup].groupby(KEY, sort=False)
    conflicting = groups["value"].transform("nunique") > 1
    conflict_rows = long[dup][conflicting]
    repeats = long[dup][~conflicting]
    repeat_extra = repeats[repeats.duplicated(KEY, keep="first")]
    first_row = repeats.groupby(KEY, sort=False)["row"].transform("first")
    q_conflict = quarantine_rows(
        file, conflict_rows["row"], conflict_rows["column"], conflict_rows["value"],
        "unique_key",
        [f"conflicting values for {r.indicator} {r.iso3} {r.year} sex={r.sex} "
         f"location={r.location} in one release" for r in conflict_rows.itertuples()],
        of=conflict_rows,
    )
    q_repeat = quarantine_rows(
        file, repeat_extra["row"], repeat_extra["column"], repeat_extra["value"], "unique_key",
        [f"exact repeat of row {first_row[i]}: kept once" for i in repeat_extra.index],
        of=repeat_extra,
    )
    drop = conflict_rows.index.union(repeat_extra.index)
    return long.drop(index=drop), pd.concat([q_conflict, q_repeat], ignore_index=True)


def _fraction_failures(long, file):
    percent = long[(long["unit"] == "percent") & (long["year"] >= FRACTION_CHECK_FROM)]
    if percent.empty:
        return long, empty_quarantine()
    stats = percent.groupby(["indicator", "column"])["value"].agg(["max", "size"])
    suspect = stats[(stats["max"] <= 1.0) & (stats["size"] >= FRACTION_CHECK_MIN_ROWS)]
    if suspect.empty:
        return long, empty_quarantine()
    keys = set(suspect.index)
    mask = pd.Series(
        [(i, c) in keys for i, c in zip(long["indicator"], long["column"])], index=long.index
    ) & (long["unit"] == "percent")
    rows = long[mask]
    quarantine = quarantine_rows(
        file, rows["row"], rows["column"], rows["value"], "percent_scale",
        [f"every value of column {c!r} lies within 0-1: fractions of one where per cent "
         f"(0-100) is expected" for c in rows["column"]], of=rows,
    )
    return long[~mask], quarantine
