"""The `ictstats` command line: help, query (read-only), and one-line errors."""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from curate.database import DATABASE_NAME
from flows.cli import EXIT_SOURCES, main
from sources.read import files_in

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ictstats: "), err
    return lines[0]


@pytest.mark.parametrize("argv", [[], ["run"], ["validate"], ["query"], ["serve"]])
def test_help_exits_zero(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv + ["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ictstats")
    if argv:
        assert f"ictstats {argv[0]}" in out


def test_every_option_has_help_text():
    from flows.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {action.dest}" for name, sub in commands.choices.items()
               for action in sub._actions
               if not isinstance(action, argparse._HelpAction) and not action.help]
    assert not missing


def test_query_prints_missing_values_empty_and_cuts_long_text(published, capsys):
    sql = ("SELECT 'CRI' AS iso3, NULL::DOUBLE AS value, NULL AS status, 1.25::DOUBLE AS x, "
           "repeat('abc ', 30) AS note")
    assert main(["query", "--db", str(published), "--max-width", "20", sql]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["iso3", "value", "status", "x", "note"]
    assert "NaN" not in row and "None" not in row and "<NA>" not in row
    assert row.split()[:2] == ["CRI", "1.25"]
    assert row.rstrip().endswith("abc abc abc abc abc…")
    assert len(row) < 80


def test_query_says_how_many_rows_it_left_out(published, capsys):
    assert main(["query", "--db", str(published), "--max-rows", "3",
                 "SELECT * FROM range(10)"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 + 3 + 1 and out[-1].startswith("(10 rows; the first 3 shown")


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "usage: ictstats" in capsys.readouterr().err


def test_query_prints_a_table(published, capsys):
    with duckdb.connect(str(published), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM observations").fetchone()[0]
    assert main(["query", "--db", str(published), "select count(*) as n from observations"]) == 0
    out = capsys.readouterr().out.split()
    assert out == ["n", str(n)]


def test_query_no_rows_names_the_columns(published, capsys):
    assert main(["query", "--db", str(published),
                 "select iso3, value from observations where false"]) == 0
    assert "no rows; columns: iso3, value" in capsys.readouterr().out


def test_query_bad_sql_is_one_line(published, capsys):
    assert main(["query", "--db", str(published), "selec nonsense frm nowhere"]) == 1
    assert one_line_error(capsys).startswith("ictstats: query failed:")


def test_query_missing_db_is_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.duckdb"
    assert main(["query", "--db", str(missing), "select 1"]) == 1
    assert str(missing) in one_line_error(capsys)
    assert not missing.exists()


def test_query_is_read_only(published, tmp_path, capsys):
    db = tmp_path / DATABASE_NAME
    shutil.copy2(published, db)
    before = db.read_bytes()
    assert main(["query", "--db", str(db), "create table x(a int)"]) == 1
    assert "read-only" in one_line_error(capsys)
    assert db.read_bytes() == before
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables() "
                           "WHERE table_name = 'x'").fetchone()[0] == 0


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_source_dir_is_one_line(command, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [command, "--source-dir", "/nonexistent"]
    if command == "run":
        argv += ["--out", str(out)]
    assert main(argv) == EXIT_SOURCES  # checked before the run starts: not a failed run (1)
    assert "/nonexistent" in one_line_error(capsys)
    assert not out.exists()


@pytest.fixture(scope="module")
def classifications_only(snapshot, tmp_path_factory) -> Path:
    """A source directory holding the snapshot's classification files and nothing else."""
    source = tmp_path_factory.mktemp("classifications-only")
    for entry, path in files_in(snapshot):
        if entry.is_classification:
            target = source / path.relative_to(snapshot)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return source


@pytest.mark.parametrize("case, message", [
    ("empty", "no catalogued source files"),
    ("classifications", "required source wb_internet missing"),
])
def test_run_without_country_data_stops_before_the_run(case, message, classifications_only,
                                                        tmp_path, capsys):
    """Checked before Prefect starts: exit status 3, one line, nothing written to --out."""
    source = tmp_path / "empty"
    source.mkdir()
    if case == "classifications":
        source = classifications_only
    out = tmp_path / "out"
    assert main(["run", "--source-dir", str(source), "--out", str(out)]) == EXIT_SOURCES
    line = one_line_error(capsys)
    assert message in line and str(source) in line
    assert not out.exists()


@pytest.mark.parametrize("case, message", [
    ("empty", "no source files found"),
    ("classifications", "required source wb_internet missing"),
])
def test_flow_without_country_data_fails_in_one_line(case, message, classifications_only,
                                                     prefect_harness, tmp_path, caplog):
    """The flow (run by a deployment, without the command line's checks) checks the same."""
    from flows.pipeline import pipeline

    source = tmp_path / "empty"
    source.mkdir()
    if case == "classifications":
        source = classifications_only
    out = tmp_path / "out"
    state = pipeline(source_dir=str(source), out_dir=str(out), raw_dir=str(tmp_path / "raw"),
                     return_state=True)
    assert not state.is_completed()
    assert message in state.message and "\n" not in state.message
    # An expected failure: Prefect logs no error with a traceback.
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    # Nothing is published; the run journal records the failure and why.
    assert not (out / "ict.duckdb").exists() and not (out / "releases").exists()
    records = [json.loads(x) for x in (out / "runs.jsonl").read_text().splitlines()]
    assert records[-1]["status"] == "failed" and message in records[-1]["message"]


def test_run_with_an_unusable_file_publishes_nothing(classifications_only, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(classifications_only, source)
    bad = source / "world-bank" / "API_IT.NET.USER.ZS_DS2_x.csv"
    bad.write_bytes(b"")
    out = tmp_path / "out"

    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--source-dir", str(source),
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)

    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ictstats: ") and bad.name in last, done.stderr
    assert not (out / DATABASE_NAME).exists()
    assert not out.exists() or not list(out.glob(f".{DATABASE_NAME}.*"))
