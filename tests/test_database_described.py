"""The published file describes itself: every table, view and column carries a comment, the
description its schema gives (schemas/published.py), and names stand beside codes. A table
that fails its schema is not published."""
from __future__ import annotations

import re

import duckdb
import pytest

from curate.database import REQUIRED_TABLES, PublishError, checked_tables
from schemas.published import VIEW_NAMES, published_schemas

FILLED = "{c} IS NULL OR trim({c}) = ''"


@pytest.fixture(scope="module")
def con(published):
    with duckdb.connect(str(published), read_only=True) as connection:
        yield connection


def objects(con) -> list[tuple[str, str, str | None]]:
    return con.execute(
        "SELECT table_name, 'table', comment FROM duckdb_tables() WHERE NOT internal "
        "UNION ALL SELECT view_name, 'view', comment FROM duckdb_views() WHERE NOT internal "
        "ORDER BY 1").fetchall()


def columns(con) -> list[tuple[str, str, str | None]]:
    return con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                       "WHERE NOT internal ORDER BY table_name, column_index").fetchall()


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def test_every_table_and_view_has_a_description(con):
    found = objects(con)
    names = {name for name, _, _ in found}
    assert set(REQUIRED_TABLES + VIEW_NAMES + ["revisions", "aggregates_derived"]) <= names
    for name, kind, comment in found:
        assert comment and comment.strip(), f"{kind} {name} has no comment"
        assert len(words(comment)) >= 8, f"{kind} {name}: {comment!r} is not a description"


def test_every_column_has_a_description_not_its_name(con):
    found = columns(con)
    assert len(found) > 200
    missing = [f"{t}.{c}" for t, c, comment in found if not (comment and comment.strip())]
    assert not missing, f"columns without a comment: {missing}"
    # not the column's name again, nor a word or two: a description in words
    bare = [f"{t}.{c}: {comment!r}" for t, c, comment in found
            if words(comment) == words(c) or len(words(comment)) < 3]
    assert not bare, "comments that only name the column:\n" + "\n".join(bare)


def test_the_comments_are_the_schemas_descriptions(con):
    schemas = published_schemas()
    for name, kind, comment in objects(con):
        assert comment == schemas[name].description, f"{kind} {name}"
    for table, column, comment in columns(con):
        assert comment == schemas[table].columns[column].description, f"{table}.{column}"


def test_units_and_catalog_names_are_in_the_descriptions(con):
    comments = {(t, c): comment for t, c, comment in columns(con)}
    assert "percent" in comments[("aggregates", "value")]
    assert "0-1" in comments[("aggregates", "population_coverage")]
    assert "persons" in comments[("weights", "population")]
    assert "Sub-Saharan Africa" in comments[("aggregates", "group_code")]   # groups.yaml
    assert "Internet use" in comments[("estimates", "indicator")]           # indicators.yaml


def test_group_names_stand_beside_group_codes(con):
    for table in ["aggregates", "aggregates_derived", "headline", "groups"]:
        names = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "ORDER BY column_index", [table]).fetchall()]
        assert names[names.index("group_code") + 1] == "group_name", table
        total, empty = con.execute(f"SELECT count(*), count(*) FILTER (WHERE "
                                   f"{FILLED.format(c='group_name')}) FROM {table}").fetchone()
        assert total > 0 and empty == 0, f"{table}: {empty} of {total} rows without group_name"
        wrong = con.execute(
            f"SELECT count(*) FROM {table} t JOIN (SELECT DISTINCT group_code, group_name AS "
            "name FROM groups) g USING (group_code) WHERE t.group_name <> g.name").fetchone()[0]
        assert wrong == 0, table


def test_every_headline_figure_is_labelled(con):
    rows = con.execute("SELECT figure, group_name, year FROM headline").fetchall()
    assert len(rows) == 12
    for figure, group_name, year in rows:
        assert figure and figure.endswith(f", {group_name}, {year}"), figure
    labels = {r[0] for r in rows}
    assert {"Internet use, women, World, 2025", "Internet use, rural, World, 2025",
            "Internet use, Low income, 2025"} <= labels


def test_a_table_failing_its_schema_is_not_published(con):
    aggregates = con.execute("SELECT * FROM aggregates").df()
    assert set(checked_tables({"aggregates": aggregates})) == {"aggregates"}
    broken = aggregates.copy()
    broken.loc[7, "population_coverage"] = 1.5
    with pytest.raises(PublishError) as failed:
        checked_tables({"aggregates": broken})
    message = str(failed.value)
    assert message.startswith("table aggregates, column population_coverage:")
    assert "\n" not in message and "1.5" in message
    with pytest.raises(PublishError, match="table aggregates, column extra: not described"):
        checked_tables({"aggregates": aggregates.assign(extra=1)})
    with pytest.raises(PublishError, match="table aggregates, column year: type int64"):
        checked_tables({"aggregates": aggregates.astype({"year": "int64"})})


def test_every_schema_describes_every_column():
    for name, schema in published_schemas().items():
        assert schema.description and len(words(schema.description)) >= 8, name
        for column, spec in schema.columns.items():
            assert spec.description and len(words(spec.description)) >= 3, (name, column)
