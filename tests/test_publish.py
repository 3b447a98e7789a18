"""Publishing is atomic: a killed or failed run leaves the previous file as it was, and the
published file opens in DuckDB 1.x clients."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from curate.assemble import Curated
from curate.database import DATABASE_NAME, REQUIRED_TABLES, PublishError, write_checked
from flows.release import clean_stale_staging, new_release

STAGING_GLOB = "releases/.*.tmp"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def curated_from(db: Path) -> Curated:
    """Every table of a published file, read back as DataFrames (no snapshot re-read)."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        return Curated({n: con.execute(f'SELECT * FROM "{n}"').df() for n in names})


def assert_readable(db: Path) -> dict[str, int]:
    """The file opens read-only; every required table and both views can be read."""
    with duckdb.connect(str(db), read_only=True) as con:
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in REQUIRED_TABLES + ["preferred_observations", "population"]}
    for table in ["observations", "economies", "indicators", "sources", "runs"]:
        assert counts[table] > 0, f"{table} is empty"
    return counts


def publish(curated: Curated, out: Path) -> Path:
    """A release holding only the database, published as the flow publishes one."""
    with new_release(out) as staging:
        write_checked(curated, staging / DATABASE_NAME)
    return out / DATABASE_NAME


@pytest.fixture(scope="module")
def curated(published) -> Curated:
    return curated_from(published)


@pytest.fixture
def previous(curated, tmp_path) -> Path:
    """A first publication, made in-process into a fresh directory."""
    final = publish(curated, tmp_path / "out")
    assert final == tmp_path / "out" / DATABASE_NAME
    assert not list(final.parent.glob(STAGING_GLOB))
    return final


def test_kill_during_publish_leaves_previous_file(previous, curated, snapshot, prefect_harness,
                                                  cwd_with_shared_cache):
    from prefect.settings import PREFECT_API_URL

    out = previous.parent
    before = digest(previous)
    with duckdb.connect(str(previous), read_only=True) as con:
        runs_before = con.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall()

    # The run reports to the test harness's Prefect server rather than starting its own, and
    # reuses the session's stage cache: the kill is about the publication, and this saves a
    # server start-up and the computing.
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--source-dir", str(snapshot),
         "--out", str(out)],
        cwd=cwd_with_shared_cache("killed-run"), env=env, start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    staging: list[Path] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            staging = list(out.glob(STAGING_GLOB))
            if staging:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None and not staging:
            os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)

    assert staging, ("the run ended (or timed out) before its staging file appeared: "
                     f"rc={proc.returncode}, stderr tail: {err.decode()[-500:]}")
    assert staging[0].name.endswith(f"-{proc.pid}.tmp")
    assert proc.returncode == -signal.SIGKILL

    # The previous publication is exactly as it was and fully readable.
    assert digest(previous) == before
    assert_readable(previous)
    with duckdb.connect(str(previous), read_only=True) as con:
        assert con.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall() == \
            runs_before

    # Leftover staging (the killed run's, and a stale one with garbage) does not disturb the
    # next publication, and the next run (holding the lock) clears it.
    stale = out / "releases" / ".19700101T000000Z-1.tmp"
    stale.mkdir()
    (stale / DATABASE_NAME).write_bytes(b"not a duckdb file")
    final = publish(curated, out)
    assert final == previous
    assert digest(final) != before  # a new release was published
    assert_readable(final)
    removed = clean_stale_staging(out)
    assert stale in removed and staging[0] in removed
    assert not list(out.glob(STAGING_GLOB))


@pytest.mark.parametrize("breakage, message", [
    ("empty_observations", "observations is empty"),
    ("no_runs_table", "missing: runs"),
])
def test_failed_check_leaves_previous_file(previous, curated, breakage, message):
    before = digest(previous)
    tables = dict(curated.tables)
    if breakage == "empty_observations":
        tables["observations"] = tables["observations"].iloc[0:0]
    else:
        del tables["runs"]

    with pytest.raises(PublishError, match=message):
        publish(Curated(tables), previous.parent)

    assert digest(previous) == before
    assert_readable(previous)
    out = previous.parent
    assert sorted(p.name for p in out.iterdir()) == ["current", DATABASE_NAME, "releases"]
    assert len(list((out / "releases").iterdir())) == 1  # no staging or half release left


@pytest.mark.parametrize("view, sql, message", [
    # a view of whole rows of observations: its key is checked on every row
    ("preferred_observations", "SELECT * FROM observations UNION ALL SELECT * FROM observations",
     "view preferred_observations, columns indicator, iso3, year, sex, location: duplicate key"),
    # a view that computes its columns: its values are checked on every row
    ("population", ("SELECT iso3, year, sex, 'total' AS age, -value AS persons, status, "
                    "'World Bank' AS publisher, source, release FROM preferred_observations "
                    "WHERE indicator = 'SP.POP.TOTL'"), "view population, column persons: check"),
])
def test_a_view_that_breaks_its_schema_stops_the_write(curated, tmp_path, monkeypatch,
                                                        view, sql, message):
    import curate.database

    broken = {**curate.database.views(), view: sql}
    monkeypatch.setattr(curate.database, "views", lambda: broken)
    with pytest.raises(PublishError, match=message):
        write_checked(curated, tmp_path / DATABASE_NAME)


def duckdb_1x_cli() -> Path | None:
    """The duckdb-cli 1.x binary of the dev dependencies, if installed."""
    for candidate in (Path(sys.executable).parent / "duckdb", shutil.which("duckdb")):
        if candidate and Path(candidate).is_file():
            out = subprocess.run([str(candidate), "--version"], capture_output=True, text=True,
                                 timeout=30, check=False)
            if out.returncode == 0 and out.stdout.strip().startswith("v1."):
                return Path(candidate)
    return None


def cli_json(cli: Path, db: Path, sql: str) -> list[dict]:
    out = subprocess.run([str(cli), "-readonly", str(db), "-json", "-c", sql],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert "Error" not in out.stderr, out.stderr
    return json.loads(out.stdout)


def test_published_file_opens_in_duckdb_1x(published):
    cli = duckdb_1x_cli()
    if cli is None:
        pytest.skip("the duckdb 1.x CLI (dev dependency duckdb-cli) is not installed")
    assert duckdb.__version__.startswith("2."), "the pipeline itself writes with DuckDB 2"
    with duckdb.connect(str(published), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM observations").fetchone()[0]
        preferred = con.execute("SELECT count(*) FROM preferred_observations").fetchone()[0]
        comment = con.execute("SELECT comment FROM duckdb_tables() "
                              "WHERE table_name = 'observations'").fetchone()[0]

    rows = cli_json(cli, published, "SELECT count(*) AS n FROM observations")
    assert rows == [{"n": expected}] and expected > 0
    rows = cli_json(cli, published, "SELECT count(*) AS n FROM preferred_observations")
    assert rows == [{"n": preferred}]
    rows = cli_json(cli, published, "SELECT comment FROM duckdb_tables() "
                    "WHERE table_name = 'observations'")
    assert rows == [{"comment": comment}]
    assert "Publisher aggregates are kept out" in rows[0]["comment"]
