"""Write the curated DuckDB file and check it (publishing it is flows/release.py).

The file is written in DuckDB's v1.0.0 storage format so that 1.x clients open it too.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from curate.assemble import Curated
from curate.descriptions import COLUMN_COMMENTS, TABLE_COMMENTS, views

DATABASE_NAME = "ict.duckdb"
STORAGE_VERSION = "v1.0.0"
REQUIRED_TABLES = ["observations", "economies", "income_groups", "indicators", "sources",
                   "quarantine", "runs", "weights", "groups", "estimates", "aggregates",
                   "headline"]


class PublishError(Exception):
    """The new file failed its checks; the previous publication stays in place."""


def write_database(curated: Curated, path: Path) -> None:
    """Write every table, view and comment to a new file at `path` (which must not exist)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS pub (STORAGE_VERSION '{STORAGE_VERSION}')")
        for name, frame in curated.tables.items():
            con.register("frame_to_write", frame)
            con.execute(f'CREATE TABLE pub."{name}" AS SELECT * FROM frame_to_write')
            con.unregister("frame_to_write")
        con.execute("USE pub")
        for name, sql in views().items():
            if _view_inputs_exist(con, sql):
                con.execute(f'CREATE VIEW "{name}" AS {sql}')
        for name, text in TABLE_COMMENTS.items():
            kind = _kind(con, name)
            if kind:
                con.execute(f"COMMENT ON {kind} \"{name}\" IS '{_quote(text)}'")
        for (table, column), text in COLUMN_COMMENTS.items():
            if _has_column(con, table, column):
                con.execute(f"COMMENT ON COLUMN \"{table}\".\"{column}\" IS '{_quote(text)}'")
        con.execute("USE memory")
        con.execute("DETACH pub")
    finally:
        con.close()


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _kind(con, name: str) -> str | None:
    row = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog='pub' "
        "AND table_name=?", [name]).fetchone()
    if row is None:
        return None
    return "VIEW" if row[0] == "VIEW" else "TABLE"


def _has_column(con, table: str, column: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_catalog='pub' "
        "AND table_name=? AND column_name=?", [table, column]).fetchone()[0] > 0


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
