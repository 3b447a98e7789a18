"""The whole flow, run in real Prefect on the real snapshot: what the published file holds."""
from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from curate.database import DATABASE_NAME
from flows.pipeline import DEFAULT_SEED
from sources.read import files_in

TABLES = ["observations", "economies", "income_groups", "indicators", "sources", "quarantine",
          "runs"]
VIEWS = ["population", "preferred_observations"]
# Catalogued files that hold no country values: classifications, and the ITU DataHub API
# examples (indicator metadata, region and country lists, one regional aggregate).
NO_COUNTRY_VALUES = {"itu_datahub"}
KEY = "indicator, iso3, year, sex, location"


@pytest.fixture(scope="module")
def con(published):
    with duckdb.connect(str(published), read_only=True) as connection:
        yield connection


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def scalar(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def test_tables_and_views_with_comments(con):
    tables = dict(rows(con, "SELECT table_name, comment FROM duckdb_tables()"))
    views = dict(rows(con, "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"))
    for name in TABLES:
        assert name in tables, f"table {name} missing"
        assert tables[name] and tables[name].strip(), f"table {name} has no comment"
    for name in VIEWS:
        assert name in views, f"view {name} missing"
        assert views[name] and views[name].strip(), f"view {name} has no comment"
    for name in TABLES + VIEWS:
        assert scalar(con, f'SELECT count(*) FROM "{name}"') >= 0
    assert scalar(con, "SELECT count(*) FROM population WHERE age = '15+'") > 0
    assert {c for (c,) in rows(con, "SELECT DISTINCT sex FROM observations")} == \
        {"total", "female", "male"}
    assert {c for (c,) in rows(con, "SELECT DISTINCT location FROM observations")} == \
        {"total", "urban", "rural"}


def test_every_file_with_country_values_contributes(con, snapshot):
    catalogued = files_in(snapshot)
    data_files = {str(path.relative_to(snapshot)): entry.id for entry, path in catalogued
                  if not entry.is_classification and entry.id not in NO_COUNTRY_VALUES}
    assert len(data_files) >= 15
    sources = dict(rows(con, "SELECT file, source_id FROM sources"))
    for file, source_id in data_files.items():
        assert sources.get(file) == source_id, f"{file} not in sources as {source_id}"
        n = scalar(con, "SELECT count(*) FROM observations WHERE source = ? AND file = ?",
                   [source_id, Path(file).name])
        assert n > 0, f"{file} ({source_id}) contributes no observations"
    # ... and nothing in observations comes from elsewhere.
    assert scalar(con, "SELECT count(*) FROM observations WHERE source NOT IN "
                  "(SELECT source_id FROM sources)") == 0


def test_internet_use_2024_by_sex_and_location(con):
    n2024 = scalar(con, "SELECT count(DISTINCT iso3) FROM observations "
                   "WHERE indicator = 'IT_USE_ii99' AND year = 2024")
    assert n2024 >= 150  # the 2024 World Bank excerpt covers 182 countries
    by = dict(rows(con, "SELECT sex || '/' || location, count(*) FROM observations "
                   "WHERE indicator = 'IT_USE_ii99' GROUP BY ALL"))
    for key in ["female/total", "male/total", "total/urban", "total/rural"]:
        assert by.get(key, 0) > 0, f"IT_USE_ii99 has no {key} values"


def test_no_publisher_aggregates_in_observations(con):
    # The inputs do carry aggregates (WLD, HIC, ... in the WB population and WDI files) ...
    kept_apart = {g for (g,) in rows(con, "SELECT DISTINCT group_code FROM publisher_aggregates")}
    assert {"WLD", "HIC", "LIC"} <= kept_apart
    # ... and none of them, nor any other non-economy code, reaches observations.
    assert scalar(con, "SELECT count(*) FROM observations WHERE iso3 IN "
                  "('WLD', 'HIC', 'LIC', 'LMC', 'UMC', 'EUU', 'OED', 'ARB', 'SSF', 'INX')") == 0
    assert scalar(con, "SELECT count(*) FROM observations WHERE iso3 IN "
                  "(SELECT group_code FROM publisher_aggregates UNION "
                  "SELECT iso3 FROM publisher_groups)") == 0
    assert scalar(con, "SELECT count(*) FROM observations WHERE iso3 IS NULL OR iso3 NOT IN "
                  "(SELECT iso3 FROM economies UNION SELECT iso3 FROM wb_economies)") == 0


def test_sources_one_row_per_file_with_checksum(con, snapshot):
    frame = con.execute("SELECT * FROM sources").df()
    expected = sorted(str(p.relative_to(snapshot)) for _, p in files_in(snapshot))
    assert sorted(frame["file"]) == expected
    for row in frame.itertuples():
        assert re.fullmatch(r"[0-9a-f]{64}", row.sha256), row.file
        assert row.sha256 == hashlib.sha256((snapshot / row.file).read_bytes()).hexdigest()
        assert row.rows_read == row.rows_accepted + row.rows_quarantined, row.file
        assert row.bytes == (snapshot / row.file).stat().st_size


def test_quarantine_holds_the_known_rejects(con, snapshot):
    file = "sdg-api_IT_MOB_OWN_2020Q4.csv"
    rejects = con.execute("SELECT * FROM quarantine WHERE file = ? ORDER BY row", [file]).df()
    assert list(rejects["row"]) == [125, 126, 127, 513]
    assert (rejects["value"].astype(float) > 100).all()
    assert (rejects["source"] == "sdg_api").all()
    assert rejects["reason"].str.contains("outside the range").all()
    assert rejects["check"].str.len().gt(0).all()
    # The row numbers are lines of the file: Costa Rica 2016 (x3) and South Africa 2015.
    with open(snapshot / "un-sdg" / file, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        lines = {}
        for record in reader:
            lines[reader.line_num] = record
    countries = [lines[r]["GeoAreaName"] for r in rejects["row"]]
    assert countries == ["Costa Rica"] * 3 + ["South Africa"]
    # ... and each reject says which economy and year it was about
    assert list(rejects["iso3"]) == ["CRI"] * 3 + ["ZAF"]
    assert list(rejects["year"]) == [int(lines[r]["TimePeriod"]) for r in rejects["row"]]
    assert [float(lines[r]["Value"]) for r in rejects["row"]] == \
        list(rejects["value"].astype(float))
    assert scalar(con, "SELECT rows_quarantined FROM sources WHERE file LIKE ?",
                  [f"%{file}"]) == 4
    assert scalar(con, "SELECT count(*) FROM observations "
                  "WHERE indicator = 'IT_MOB_OWN' AND value > 100") == 0


def test_runs_records_the_run(con, snapshot):
    runs = con.execute("SELECT * FROM runs").df()
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["status"] == "published"
    parameters = json.loads(run["parameters"])
    assert Path(parameters["source_dir"]).resolve() == snapshot.resolve()
    assert {"year", "replicates", "income_fiscal_year"} <= set(parameters)
    assert run["source_dir"] == str(snapshot.resolve())
    assert run["seed"] == DEFAULT_SEED
    assert run["finished_at"] >= run["started_at"]
    assert len(run["code_fingerprint"]) == 16
    checksums = json.loads(run["source_checksums"])
    sources = dict(rows(con, "SELECT file, sha256 FROM sources"))
    assert checksums == sources


def test_preferred_observations_one_per_key_latest_release(con):
    assert scalar(con, f"SELECT count(*) FROM (SELECT {KEY} FROM preferred_observations "
                  "GROUP BY ALL HAVING count(*) > 1)") == 0
    assert scalar(con, "SELECT count(*) FROM preferred_observations") == \
        scalar(con, f"SELECT count(*) FROM (SELECT DISTINCT {KEY} FROM observations)")
    # Overlaps exist, and the view never picks an older release than the key's latest.
    assert scalar(con, f"SELECT count(*) FROM (SELECT {KEY} FROM observations "
                  "GROUP BY ALL HAVING count(*) > 1)") > 1000
    assert scalar(con, f"""SELECT count(*) FROM preferred_observations p JOIN (
                  SELECT {KEY}, max(release_date) AS latest FROM observations GROUP BY ALL
                  ) m USING ({KEY}) WHERE p.release_date <> m.latest""") == 0

    nga = "indicator = 'IT_USE_ii99' AND iso3 = 'NGA' AND year = 2021 AND sex = 'total' " \
          "AND location = 'total'"
    kept = dict(rows(con, f"SELECT source, value FROM observations WHERE {nga}"))
    assert kept["sdg_ddf"] == pytest.approx(55.36, abs=0.05)
    assert kept["wb_internet"] == pytest.approx(32.33, abs=0.05)
    assert rows(con, f"SELECT source, round(value, 1) FROM preferred_observations "
                f"WHERE {nga}") == [("wb_internet", 32.3)]


def test_second_publication_appends_to_runs(published, snapshot, prefect_harness, tmp_path,
                                            shared_cache):
    from flows.pipeline import pipeline

    out = tmp_path / "out"
    shutil.copytree(published.parent, out, symlinks=True)  # the release, links and journal
    with duckdb.connect(str(published), read_only=True) as con:
        first = con.execute("SELECT run_id, started_at FROM runs").fetchall()

    state = pipeline(source_dir=str(snapshot), out_dir=str(out), raw_dir=str(tmp_path / "raw"),
                     cache_dir=str(shared_cache), return_state=True)
    assert state.is_completed(), state.message
    assert Path(state.result()) == out / DATABASE_NAME

    with duckdb.connect(str(out / DATABASE_NAME), read_only=True) as con:
        runs = con.execute("SELECT run_id, started_at, status FROM runs "
                           "ORDER BY started_at").fetchall()
    assert len(runs) == 2
    assert runs[0][:2] == first[0]
    assert runs[1][0] != runs[0][0]
    assert [r[2] for r in runs] == ["published", "published"]
    assert not list(out.glob("releases/.*.tmp"))
