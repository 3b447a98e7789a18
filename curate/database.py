"""Write the curated DuckDB file and check it (publishing it is flows/release.py).

Every table is validated against its schema (schemas/published.py) before it is written, and
every view once it is made; the schemas' descriptions are stored with COMMENT ON, so the file
describes itself. The file is written in DuckDB's v1.0.0 storage format so that 1.x clients open
it too.
"""
from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from curate.assemble import Curated
from curate.descriptions import WHOLE_ROW_VIEWS, views
from schemas.published import VIEW_NAMES, empty_table, published_schemas

DATABASE_NAME = "ict.duckdb"
STORAGE_VERSION = "v1.0.0"
REQUIRED_TABLES = ["observations", "economies", "income_groups", "indicators", "sources",
                   "quarantine", "runs", "weights", "groups", "estimates", "aggregates",
                   "headline"]
UNIQUENESS_CHECKS = {"field_uniqueness", "multiple_fields_uniqueness"}


class PublishError(Exception):
    """The new file failed its checks; the previous publication stays in place."""


def write_database(curated: Curated, path: Path) -> None:
    """Write every table, view and comment to a new file at `path` (which must not exist)."""
    schemas = published_schemas()
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS pub (STORAGE_VERSION '{STORAGE_VERSION}')")
        for name, frame in curated.tables.items():
            # one table validated at a time, written, let go: a failure leaves a file that
            # is never published (the release is discarded), and memory holds one copy
            frame = checked_table(name, frame, schemas)
            con.register("frame_to_write", frame)
            con.execute(f'CREATE TABLE pub."{name}" AS SELECT * FROM frame_to_write')
            con.unregister("frame_to_write")
            del frame
        con.execute("USE pub")
        for name, sql in views().items():
            if _view_inputs_exist(con, sql):
                con.execute(f'CREATE VIEW "{name}" AS {sql}')
                _validated_view(con, name, schemas[name])
        _comment(con, schemas)
        con.execute("USE memory")
        con.execute("DETACH pub")
    finally:
        con.close()


def checked_tables(tables: dict[str, pd.DataFrame],
                   schemas: dict[str, pa.DataFrameSchema] | None = None
                   ) -> dict[str, pd.DataFrame]:
    """Every table validated against its schema, as it is to be written (date columns as
    dates; a table with no rows in its schema's column types). PublishError, in one line
    naming the table and column, for the first table that fails."""
    schemas = schemas or published_schemas()
    return {name: checked_table(name, frame, schemas) for name, frame in tables.items()}


def checked_table(name: str, frame: pd.DataFrame,
                  schemas: dict[str, pa.DataFrameSchema]) -> pd.DataFrame:
    if name not in schemas or name in VIEW_NAMES:
        raise PublishError(f"table {name}: not described in schemas/published.py "
                           "(every published table needs a schema there)")
    # the index is not written; a default one keeps pandera's reports of rows simple (and
    # a frame that has one is not copied: observations is the size of everything else)
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)
    return _validated("table", name, schemas[name], frame)


def _validated(kind: str, name: str, schema: pa.DataFrameSchema,
               frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:   # no values to type: the schema's types
        frame = empty_table(name).reindex(columns=frame.columns)
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        raise PublishError(_problem(f"{kind} {name}", schema, frame,
                                    errors.failure_cases)) from None


VIEW_CHUNK_ROWS = 20_480


def _validated_view(con, name: str, schema: pa.DataFrameSchema) -> None:
    """A view validated in chunks of rows (a view of observations is as large as the table:
    validated whole, it would double the memory of the write), its key checked in SQL. A
    view of whole rows of one table (WHOLE_ROW_VIEWS) has its columns and types checked on no rows:
    its values are that table's, checked already."""
    per_chunk = copy.deepcopy(schema)
    per_chunk.unique = None
    limit = " LIMIT 0" if name in WHOLE_ROW_VIEWS else ""
    result = con.execute(f'SELECT * FROM "{name}"{limit}')
    first = True
    while True:
        chunk = result.fetch_df_chunk(VIEW_CHUNK_ROWS // 2048)
        if chunk.empty and not first:
            break
        _validated("view", name, per_chunk, chunk)  # an empty view once, for its columns
        if chunk.empty:
            break
        first = False
    if schema.unique:
        key = ", ".join(f'"{c}"' for c in schema.unique)
        duplicate = con.execute(f'SELECT {key}, count(*) AS n FROM "{name}" GROUP BY ALL '
                                "HAVING count(*) > 1 LIMIT 1").fetchone()
        if duplicate:
            example = ", ".join(f"{c}={v!r}" for c, v in zip(schema.unique, duplicate))
            raise PublishError(f"view {name}, columns {', '.join(schema.unique)}: duplicate "
                               f"key in {duplicate[-1]} row(s), e.g. {example}")


def _problem(where: str, schema: pa.DataFrameSchema, frame: pd.DataFrame,
             cases: pd.DataFrame) -> str:
    """The first problem pandera found (a column's own first), in one line naming the table
    and the column(s), with the first row at fault."""
    cases = cases.assign(check=cases["check"].astype(str))
    cases = cases.iloc[(cases["schema_context"] != "Column").argsort(kind="stable")]
    first = cases.iloc[0]
    check, value = first["check"], first["failure_case"]
    others = cases["check"].nunique() - 1
    more = f" (and {others} other problem(s))" if others else ""
    if check == "column_in_schema":
        return f"{where}, column {value}: not described in schemas/published.py{more}"
    if check == "column_in_dataframe":
        return f"{where}, column {value}: missing{more}"
    if check.startswith("dtype("):
        expected = check.removeprefix("dtype(").removesuffix(")").strip("'")
        return f"{where}, column {first['column']}: type {value}, expected {expected}{more}"
    these = cases[cases["check"] == check]
    columns = [c for c in dict.fromkeys(these["column"]) if isinstance(c, str)]
    if first["schema_context"] != "Column" and check not in UNIQUENESS_CHECKS:
        # a check across columns reports whole rows: name the columns the check names
        columns = [c for c in columns if re.search(rf"\b{re.escape(c)}\b", check)] or columns
    rows = [int(i) for i in these["index"].dropna().unique()]
    what = "duplicate key" if check in UNIQUENESS_CHECKS else f"check {check} fails"
    text = f"{where}, column{'s' if len(columns) > 1 else ''} {', '.join(columns)}: {what}"
    if not rows:
        return f"{text} ({value}){more}"
    row = frame.iloc[rows[0]]
    key = [c for c in (schema.unique or []) if c not in columns and c in frame]
    example = ", ".join(f"{c}={_shown(row[c])}" for c in columns if c in frame)
    where_row = ", ".join(f"{c}={_shown(row[c])}" for c in key) if key else f"row {rows[0]}"
    return f"{text} in {len(rows)} row(s), e.g. {example} at {where_row}{more}"


def _shown(value) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _comment(con, schemas: dict[str, pa.DataFrameSchema]) -> None:
    """COMMENT ON every table, view and column of the file, from its schema (one batch of
    statements: one round trip, not one per column)."""
    objects = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = 'pub'").fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = 'pub' ORDER BY table_name, ordinal_position").fetchall():
        columns.setdefault(table, []).append(column)
    statements = []
    for name, table_type in objects:
        kind = "VIEW" if table_type == "VIEW" else "TABLE"
        schema = schemas[name]
        statements.append(f"COMMENT ON {kind} \"{name}\" IS '{_quote(schema.description)}'")
        for column in columns.get(name, []):
            text = schema.columns[column].description
            if not text:
                raise PublishError(f"{kind.lower()} {name}, column {column}: no description "
                                   "in schemas/published.py")
            statements.append(f"COMMENT ON COLUMN \"{name}\".\"{column}\" IS '{_quote(text)}'")
    con.execute(";\n".join(statements))


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _view_inputs_exist(con, sql: str) -> bool:
    try:
        con.execute(f"EXPLAIN {sql}")
        return True
    except duckdb.Error:
        return False


def check_database(path: Path) -> None:
    """The new file must open read-only and hold every required, non-empty table."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise PublishError(f"{path.name}: the new file does not open ({exc})") from exc
    try:
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing:
            raise PublishError(f"{path.name}: table(s) missing: {', '.join(missing)}")
        for table in ["observations", "economies", "indicators", "sources", "runs",
                      "estimates", "aggregates", "headline"]:
            if con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == 0:
                raise PublishError(f"{path.name}: table {table} is empty")
    finally:
        con.close()


def write_checked(curated: Curated, path: Path) -> None:
    """Write the database to a new file, check it and flush it to disk."""
    write_database(curated, path)
    check_database(path)
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
