"""Operations in real Prefect, on the real snapshot.

- the scheduled deployments are served to a loopback Prefect server (started here, stopped by
  PID), with their Cron schedules; one is triggered and its run publishes;
- a rerun on unchanged sources reuses the cache and publishes bit-for-bit the same figures;
- a rerun after one source value changed records the revisions it caused, and why;
- concurrent runs publish one after the other (or fail fast), readers never see a broken file;
- a past edition is reproduced from its archived sources, parameters and seed.

In-process runs skip the report (charts, tables, page): it does not bear on what is tested
here and costs ~15 s a run. Runs in subprocesses (`ictstats run`, `ictstats serve`) are the
real thing, report included.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from curate.database import DATABASE_NAME, REQUIRED_TABLES
from flows.cli import EXIT_LOCKED, main
from flows.deployments import (
    BACKTEST_SCHEDULE,
    SCHEDULES,
    TIMEZONE,
    start_loopback_server,
    stop_server,
)
from flows.locking import publication_lock
from sources.retrievals import MANIFEST

KEY = ["indicator", "sex", "location", "group_scheme", "group_code", "year"]
VALUES = ["value", "lower", "upper"]
# tasks whose results a rerun on unchanged inputs takes from the stage cache
CACHED_TASKS = ("read country-codes.csv", "read wpp2019_pop_sex_10plus_1990_2030.csv",
                "look up cached figures")
BUSY = "another ictstats run is publishing"
INTERNET_2024 = Path("world-bank") / "IT.NET.USER.ZS_2024_countries.csv"
INDIA_LINE = b"India,IND,2024,64.9434967"
INDIA_REVISED = b"India,IND,2024,69.9434967"  # +5 percentage points


# --- helpers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(api_url: str) -> dict[str, str]:
    """Environment of the processes the tests start: the loopback server, offline."""
    return {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


def group_gone(pgid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True, and its children, by PID."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
    if group_gone(proc.pid, timeout=5):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def prefect_client(api_url: str | None = None):
    """A synchronous Prefect client, on `api_url` (default: the current settings')."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    updates = {PREFECT_API_URL: api_url} if api_url else {}
    with temporary_settings(updates=updates), get_client(sync_client=True) as client:
        yield client


def task_states(client, flow_run_id, timeout: float = 60) -> dict[str, str]:
    """Final state name of every task run of a flow run, by task run name (task states reach
    the server through events: wait until they are all final)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    while True:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        states = {r.name: r.state for r in runs if r.state is not None}
        if (states and all(st.is_final() for st in states.values())) \
                or time.monotonic() > deadline:
            return {name: st.name for name, st in states.items()}
        time.sleep(0.5)


def run_in_process(**parameters):
    """The flow in this process (inside the Prefect test harness), without the report."""
    from flows.pipeline import pipeline

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("flows.pipeline.build_report", lambda db, release, cache: None)
        state = pipeline(**parameters, return_state=True)
    assert state.is_completed(), state.message
    return state


def start_cli_run(source_dir: Path, out: Path, api_url: str, cwd: Path, wait: float = 0,
                  *extra: str) -> subprocess.Popen:
    """`ictstats run` in a subprocess (its default raw dir lands under `cwd`)."""
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--source-dir", str(source_dir),
         "--out", str(out), "--wait", str(wait), *extra],
        cwd=cwd, env=child_env(api_url), start_new_session=True, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        stdout, stderr = proc.communicate()
        pytest.fail(f"still running after {timeout:.0f} s: {proc.args}\n{stderr[-2000:]}")
    return proc.returncode, stdout, stderr


def query(db: Path, sql: str, params=None) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).df()


def aggregates(db: Path) -> pd.DataFrame:
    return query(db, f"SELECT {', '.join(KEY + VALUES)} FROM aggregates "
                     f"ORDER BY {', '.join(KEY)}")


def assert_same_figures(old: pd.DataFrame, new: pd.DataFrame) -> None:
    """Same figures, bit for bit: same keys in the same order, exactly equal values."""
    assert len(old) > 1000
    assert len(old) == len(new)
    assert old[KEY].equals(new[KEY])
    for column in VALUES:
        a, b = old[column].to_numpy("float64"), new[column].to_numpy("float64")
        assert np.array_equal(a, b, equal_nan=True), \
            f"{column}: {int((~((a == b) | (np.isnan(a) & np.isnan(b)))).sum())} differ"


def published_runs(db: Path) -> pd.DataFrame:
    return query(db, "SELECT * FROM runs WHERE status = 'published' ORDER BY finished_at")


def last_run_id(out: Path) -> str:
    return published_runs(out / DATABASE_NAME)["run_id"].iloc[-1]


def release_dbs(out: Path) -> list[Path]:
    return sorted((out / "releases").glob(f"*/{DATABASE_NAME}"))


def copy_sources(source: Path, target: Path) -> Path:
    """A writable copy of the (read-only) snapshot's files, without the edition's manifest:
    a copy edited by a test is a user's folder, not the bundled edition."""
    shutil.copytree(source, target, copy_function=shutil.copyfile,
                    ignore=shutil.ignore_patterns(MANIFEST))
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def copy_publication(out: Path, target: Path) -> Path:
    """An output directory as it is: releases, links (relative), journal."""
    shutil.copytree(out, target, symlinks=True)
    return target


def no_leftovers(out: Path) -> None:
    assert not list(out.glob("releases/.*.tmp")), "a staging directory was left behind"
    assert not list(out.glob(".*.link")), "a temporary link was left behind"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real Prefect server on a free loopback port, with its own PREFECT_HOME; stopped by
    PID (its process group) at the end, and checked to be gone."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    server = start_loopback_server(port, env=env)
    try:
        yield f"http://127.0.0.1:{port}/api"
    finally:
        stop_server(server)
        assert server.poll() is not None, f"the Prefect server (pid {server.pid}) still runs"
        assert group_gone(server.pid), f"processes of the server's group {server.pid} remain"


@pytest.fixture(scope="module")
def first_publication(snapshot, prefect_harness, shared_cache, tmp_path_factory) -> dict:
    """One in-process run on the snapshot (default parameters), on the session's stage cache;
    tests copy its output."""
    out = tmp_path_factory.mktemp("first") / "out"
    raw = out.parent / "raw"
    state = run_in_process(source_dir=str(snapshot), out_dir=str(out), raw_dir=str(raw),
                           cache_dir=str(shared_cache))
    return {"out": out, "raw": raw, "run_id": last_run_id(out),
            "flow_run_id": state.state_details.flow_run_id}


# --- the scheduled deployments ------------------------------------------------------------

def test_deployments_are_served_with_schedules_and_a_triggered_run_publishes(
        snapshot, prefect_server, cwd_with_shared_cache, tmp_path):
    from prefect.exceptions import ObjectNotFound

    out = tmp_path / "out"
    log = tmp_path / "serve.log"
    cwd = cwd_with_shared_cache("serve")   # the scheduled run reruns the session's edition
    with open(log, "w") as handle:
        serve = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--source-dir", str(snapshot),
             "--out", str(out)], cwd=cwd, env=child_env(prefect_server),
            start_new_session=True, stdout=handle, stderr=subprocess.STDOUT)
    try:
        found = {}
        wanted = {name: f"ictstats-pipeline/{name}" for name in SCHEDULES}
        wanted[BACKTEST_SCHEDULE[0]] = f"ictstats-backtest/{BACKTEST_SCHEDULE[0]}"
        with prefect_client(prefect_server) as client:
            deadline = time.monotonic() + 90
            while len(found) < len(wanted):
                assert serve.poll() is None, f"ictstats serve exited: {log.read_text()}"
                assert time.monotonic() < deadline, "the deployments were not created in 90 s"
                for name, full_name in wanted.items():
                    with contextlib.suppress(ObjectNotFound):
                        found[name] = client.read_deployment_by_name(full_name)
                time.sleep(1)
        # the yearly backtest, ahead of the annual edition, on the same sources
        yearly = found["annual-backtest"]
        assert yearly.schedules[0].schedule.cron == "0 6 1 11 *"
        assert yearly.schedules[0].schedule.timezone == TIMEZONE
        assert yearly.parameters["source_dir"] == str(snapshot.resolve())
        assert yearly.global_concurrency_limit.limit == 1

        expected = {"monthly-refresh": ("0 6 2 * *", 200),
                    "annual-edition": ("0 6 15 11 *", 1000)}
        for name, (cron, replicates) in expected.items():
            deployment = found[name]
            assert len(deployment.schedules) == 1, name
            schedule = deployment.schedules[0]
            assert schedule.active, name
            assert schedule.schedule.cron == cron, name
            assert schedule.schedule.timezone == TIMEZONE == "Europe/Zurich"
            assert not deployment.paused, name
            parameters = deployment.parameters
            assert parameters["out_dir"] == str(out.resolve())
            assert parameters["source_dir"] == str(snapshot.resolve())
            assert parameters["raw_dir"] == str((cwd / "data" / "raw").resolve())
            assert parameters["replicates"] == replicates
            limit = deployment.global_concurrency_limit
            assert limit is not None and limit.limit == 1, name

        triggered = subprocess.run(
            [sys.executable, "-m", "prefect", "deployment", "run",
             "ictstats-pipeline/monthly-refresh", "--watch", "--watch-timeout", "180"],
            cwd=tmp_path, env=child_env(prefect_server), capture_output=True, text=True,
            timeout=240, check=False)
        assert triggered.returncode == 0, (triggered.stdout[-3000:] + triggered.stderr[-3000:]
                                           + log.read_text()[-3000:])
        flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", triggered.stdout).group(1)
        with prefect_client(prefect_server) as client:
            flow_run = client.read_flow_run(flow_run_id)
        assert flow_run.deployment_id == found["monthly-refresh"].id
        assert flow_run.state.is_completed() and flow_run.state.name == "Completed"
    finally:
        stop_group(serve)
    assert serve.poll() is not None and group_gone(serve.pid), "ictstats serve still runs"

    db = out / DATABASE_NAME
    assert db.exists()
    runs = published_runs(db)
    assert len(runs) == 1
    assert json.loads(runs["parameters"].iloc[0])["replicates"] == 200
    assert query(db, "SELECT count(*) AS n FROM aggregates")["n"].iloc[0] > 1000
    no_leftovers(out)


# --- caching ------------------------------------------------------------------------------

def test_rerun_on_unchanged_sources_reuses_the_cache(first_publication, snapshot, shared_cache,
                                                     tmp_path):
    out = copy_publication(first_publication["out"], tmp_path / "out")
    state = run_in_process(source_dir=str(snapshot), out_dir=str(out),
                           raw_dir=str(tmp_path / "raw"),
                           cache_dir=str(shared_cache))
    with prefect_client() as client:
        states = task_states(client, state.state_details.flow_run_id)
    for name in CACHED_TASKS:
        assert states[name] == "Cached", f"{name}: {states.get(name)} on unchanged sources"
    reads = [n for n in states if n.startswith("read ")]
    assert len(reads) >= 20 and all(states[n] == "Cached" for n in reads)
    assert not [n for n in states if n.startswith(("estimate ", "backtest "))], states
    assert states["write database"] == "Completed"

    first, second = release_dbs(out)
    assert (out / "current").resolve() == second.parent
    assert_same_figures(aggregates(first), aggregates(second))
    assert len(query(second, "SELECT * FROM revisions")) == 0
    runs = published_runs(second)
    assert len(runs) == 2
    assert runs["run_id"].iloc[0] == first_publication["run_id"]
    assert runs["run_id"].iloc[1] != first_publication["run_id"]
    no_leftovers(out)


def test_the_stage_cache_gives_results_back_exactly_and_stays_bounded(tmp_path):
    from flows.cache import LIMITS, StageCache

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"file": ["world-bank/API_IT.NET.USER.ZS_DS2_en_csv.csv"] * 20000,
                          "value": rng.random(20000) * 100,
                          "row": pd.array(range(20000), dtype="Int64"),
                          "year": np.arange(20000, dtype="int32")})
    cache = StageCache(tmp_path / "cache")
    assert cache.load("figures", "k0") is None
    cache.save("figures", "k0", {"aggregates": frame}, {"rows_read": 3})
    tables, meta = cache.load("figures", "k0")
    pd.testing.assert_frame_equal(tables["aggregates"], frame)
    assert meta == {"rows_read": 3}
    one_entry = cache.size()
    for k in range(1, 11):  # ten runs with other inputs
        cache.save("figures", f"k{k}", {"aggregates": frame})
    kept = sorted(p.name for p in (tmp_path / "cache" / "figures").iterdir())
    assert len(kept) == LIMITS["figures"] and "k10" in kept
    assert cache.size() <= (LIMITS["figures"] + 1) * one_entry


# --- revisions ----------------------------------------------------------------------------

def test_rerun_after_one_value_changed_records_its_revisions(first_publication, snapshot,
                                                             shared_cache, tmp_path):
    sources = copy_sources(snapshot, tmp_path / "sources")
    out, raw, cache = tmp_path / "out", tmp_path / "raw", shared_cache
    # The first publication, from the unchanged copy (same files as the snapshot elsewhere).
    run_in_process(source_dir=str(sources), out_dir=str(out), raw_dir=str(raw),
                   cache_dir=str(cache))
    previous_run = last_run_id(out)
    db = out / DATABASE_NAME
    weights = query(db, "SELECT w.population / a.weight_population AS share "
                        "FROM weights w, aggregates a WHERE w.iso3 = 'IND' AND w.year = 2024 "
                        "AND a.group_scheme = 'world' AND a.year = 2024 "
                        "AND a.indicator = 'IT_USE_ii99' AND a.sex = 'total' "
                        "AND a.location = 'total'")
    india_share = float(weights["share"].iloc[0])
    assert 0.1 < india_share < 0.25
    india_groups = query(db, "SELECT group_scheme, group_code FROM groups "
                             "WHERE iso3 = 'IND' AND year = 2024")
    india_groups = set(india_groups.itertuples(index=False, name=None))
    assert {("world", "WLD"), ("sdg_region", "62")} <= india_groups
    assert len({g for g in india_groups if g[0] == "income"}) == 1

    csv = sources / INTERNET_2024
    data = csv.read_bytes()
    assert data.count(INDIA_LINE) == 1
    csv.write_bytes(data.replace(INDIA_LINE, INDIA_REVISED))
    run_in_process(source_dir=str(sources), out_dir=str(out), raw_dir=str(raw),
                   cache_dir=str(cache))

    revisions = query(db, "SELECT * FROM revisions")
    assert len(revisions) > 0
    assert set(revisions["previous_run_id"]) == {previous_run}
    assert set(revisions["run_id"]) == {last_run_id(out)} and previous_run != last_run_id(out)
    internet = revisions[(revisions["indicator"] == "IT_USE_ii99") & (revisions["year"] == 2024)
                         & (revisions["sex"] == "total") & (revisions["location"] == "total")]
    revised = internet[internet["cause"] == "new or revised data"]
    listed = set(revised[["group_scheme", "group_code"]].itertuples(index=False, name=None))
    # Every figure India is in is listed as new or revised data, and only those.
    assert listed == india_groups
    assert (revised["economies_with_changed_input"] == 1).all()
    assert (revised["change"] > 0).all()
    world = revised[revised["group_scheme"] == "world"].iloc[0]
    assert world["change"] > 0.1
    assert world["change"] == pytest.approx(5 * india_share, rel=0.2)
    assert world["value"] - world["previous_value"] == pytest.approx(world["change"])

    # No figure without India is attributed to new or revised data. Other years' figures may
    # be: the 2026 WDI holds 2024 only, so its level carries back through India's estimates
    # since its last reported value (README, methodology), which are inputs that changed.
    all_revised = revisions[revisions["cause"] == "new or revised data"]
    india_every_year = set(query(db, "SELECT group_scheme, group_code, year FROM groups "
                                     "WHERE iso3 = 'IND'").itertuples(index=False, name=None))
    assert set(all_revised[["group_scheme", "group_code", "year"]].itertuples(
        index=False, name=None)) <= india_every_year
    latin_america = revisions[(revisions["group_scheme"] == "sdg_region")
                              & (revisions["group_code"] == "419")]
    assert "new or revised data" not in set(latin_america["cause"])
    figure = latin_america[(latin_america["indicator"] == "IT_USE_ii99")
                           & (latin_america["year"] == 2024) & (latin_america["sex"] == "total")
                           & (latin_america["location"] == "total")]
    assert set(figure["cause"]) <= {"re-estimation"}
    assert set(revisions["cause"]) <= {"new or revised data", "re-estimation"}
    # India's reported value is what changed in the estimates.
    estimate = query(db, "SELECT value FROM estimates WHERE iso3 = 'IND' AND year = 2024 AND "
                         "indicator = 'IT_USE_ii99' AND sex = 'total' AND location = 'total'")
    assert estimate["value"].iloc[0] == pytest.approx(69.9434967)


# --- one publisher at a time, readers unaffected ------------------------------------------

def test_one_publisher_at_a_time_and_readers_never_see_a_broken_file(
        first_publication, snapshot, prefect_server, cwd_with_shared_cache, tmp_path):
    """While a run holds the lock (here: the test), a run without --wait fails at once with
    one line; two runs with --wait wait, then publish one after the other. Meanwhile a
    reader opens the published file over and over."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    out = copy_publication(first_publication["out"], tmp_path / "out")
    db = out / DATABASE_NAME
    before = set(published_runs(db)["run_id"])
    n_aggregates = len(aggregates(db))
    reads: list[tuple[int, str]] = []
    failures: list[str] = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                with duckdb.connect(str(db), read_only=True) as con:
                    n = con.execute("SELECT count(*) FROM aggregates").fetchone()[0]
                    run = con.execute("SELECT run_id FROM runs WHERE status = 'published' "
                                      "ORDER BY finished_at DESC LIMIT 1").fetchone()[0]
                reads.append((n, run))
            except Exception as err:  # noqa: BLE001 - any failure to read is the finding
                failures.append(f"{type(err).__name__}: {err}")
            time.sleep(0.02)

    running = FlowRunFilter(state=FlowRunFilterState(
        type=FlowRunFilterStateType(any_=[StateType.RUNNING])))
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    procs: list[subprocess.Popen] = []
    try:
        with publication_lock(out, 0, "test-holder"):
            fast = start_cli_run(snapshot, out, prefect_server, tmp_path / "fast")
            procs = [fast] + [start_cli_run(snapshot, out, prefect_server,
                                            cwd_with_shared_cache(f"run{i}"), 300)
                              for i in range(2)]
            code, stdout, stderr = finish(fast, 120)
            assert code == EXIT_LOCKED, stdout + stderr  # checked before the run: not 1
            lines = stderr.strip().splitlines()
            assert len(lines) == 1, stderr
            assert lines[0].startswith("ictstats: ") and BUSY in lines[0]
            assert "test-hol" in lines[0]  # names the run holding the lock
            # Both other runs are running in Prefect (so at the lock), and wait.
            with prefect_client(prefect_server) as client:
                deadline = time.monotonic() + 90
                while len(client.read_flow_runs(flow_run_filter=running)) < 2:
                    assert all(p.poll() is None for p in procs[1:]), "a waiting run ended"
                    assert time.monotonic() < deadline, "the waiting runs never started"
                    time.sleep(0.5)
            time.sleep(2)
            assert all(p.poll() is None for p in procs[1:]), "a run with --wait did not wait"
            released = utc_now()
        results = [finish(proc, 300) for proc in procs[1:]]
    finally:
        for proc in procs:
            stop_group(proc)
        stop.set()
        thread.join(timeout=30)
    for code, stdout, stderr in results:
        assert code == 0, stderr[-3000:]
        assert f"published {db}" in stdout

    # The reader never failed, and never saw a partial file, before, during and after.
    assert not failures, failures[:5]
    assert len(reads) > 20
    assert all(n == n_aggregates for n, _ in reads), "a reader saw a partial publication"
    seen = [run for _, run in reads]
    assert seen[0] == first_publication["run_id"]
    assert set(seen) - before, "the reader never saw a new publication"

    # Both waiting runs published, after the lock was released; the refused one did not,
    # and the journal says why.
    journal = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    refused = [r for r in journal if r["status"] == "refused"]
    assert len(refused) == 1 and BUSY in refused[0]["message"]
    published = published_runs(db)
    new = published[~published["run_id"].isin(before)]
    assert len(new) == 2
    assert (new["started_at"] < released).all() and (new["finished_at"] > released).all()
    first = new.iloc[0]
    # The file is whole: every table there, opened read-only, with rows.
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert set(REQUIRED_TABLES) <= tables
        for table in ("observations", "estimates", "aggregates", "sources", "runs"):
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] > 0, table
    releases = release_dbs(out)
    assert len(releases) == 3
    assert (out / "current").resolve() == releases[-1].parent
    assert published_runs(releases[1])["run_id"].iloc[-1] == first["run_id"]
    # Same sources and code (unless the code was edited meanwhile): the same figures.
    if new["code_fingerprint"].nunique() == 1:
        assert_same_figures(aggregates(releases[1]), aggregates(releases[2]))
        assert len(query(db, "SELECT * FROM revisions")) == 0
    no_leftovers(out)


# --- reproducing a past edition -----------------------------------------------------------

@pytest.fixture(scope="module")
def edition(snapshot, prefect_harness, tmp_path_factory) -> dict:
    """A publication with a non-default seed and replicates; its sources archived."""
    base = tmp_path_factory.mktemp("edition")
    out, raw = base / "out", base / "raw"
    run_in_process(source_dir=str(snapshot), out_dir=str(out), raw_dir=str(raw), seed=7,
                   replicates=50)
    run = published_runs(out / DATABASE_NAME).iloc[-1]
    return {"db": out / DATABASE_NAME, "raw": raw, "run": run,
            "checksums": json.loads(run["source_checksums"])}


def reproduce(edition: dict, out: Path, raw: Path | None = None) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("flows.pipeline.build_report", lambda db, release, cache: None)
        return main(["reproduce", edition["run"]["run_id"][:8], "--db", str(edition["db"]),
                     "--out", str(out), "--raw-dir", str(raw or edition["raw"])])


def test_a_past_edition_is_reproduced_from_its_recorded_sources(edition, first_publication,
                                                                tmp_path, capsys):
    run, raw = edition["run"], edition["raw"]
    assert run["seed"] == 7
    for relative, checksum in edition["checksums"].items():
        assert (raw / "archive" / checksum[:2] / checksum).exists(), f"{relative} not archived"
    recorded = aggregates(edition["db"])
    # The seed and replicates matter: the default run's intervals differ from this one's.
    default = aggregates(first_publication["out"] / DATABASE_NAME)
    assert not np.array_equal(default["lower"].to_numpy(), recorded["lower"].to_numpy(),
                              equal_nan=True)

    code = reproduce(edition, tmp_path / "repro")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"reproduced run {run['run_id'][:8]}" in captured.out
    assert "every aggregate matches" in captured.out
    reproduced = tmp_path / "repro" / DATABASE_NAME
    assert_same_figures(recorded, aggregates(reproduced))
    again = published_runs(reproduced).iloc[-1]
    assert again["seed"] == 7
    assert json.loads(again["parameters"])["replicates"] == 50
    assert json.loads(again["source_checksums"]) == edition["checksums"]
    assert again["source_dir"] != run["source_dir"]  # read from the restored archive


def test_a_reproduction_computed_afresh_matches(edition, tmp_path, capsys):
    """No cached result stands in: every stage is computed again from the archive."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime

    since = dt.datetime.now(dt.UTC)
    code = reproduce(edition, tmp_path / "repro")
    captured = capsys.readouterr()
    with prefect_client() as client:
        new = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            start_time=FlowRunFilterStartTime(after_=since)))
        assert len(new) == 1, [r.name for r in new]
        states = task_states(client, new[0].id)
    assert {states[n] for n in CACHED_TASKS} == {"Completed"}, states
    assert "Cached" not in states.values(), states
    assert states["estimate IT_USE_ii99"] == "Completed"

    recorded = aggregates(edition["db"])
    again = aggregates(tmp_path / "repro" / DATABASE_NAME)
    assert recorded[KEY].equals(again[KEY])
    for column in VALUES:
        np.testing.assert_allclose(again[column], recorded[column], rtol=0, atol=1e-6)
    assert code == 0, captured.err
    assert "every aggregate matches" in captured.out
    assert_same_figures(recorded, again)


def test_reproduce_without_an_archived_file_fails_naming_it(edition, tmp_path, capsys):
    raw = tmp_path / "raw"
    shutil.copytree(edition["raw"] / "archive", raw / "archive")
    checksum = edition["checksums"][str(INTERNET_2024)]
    (raw / "archive" / checksum[:2] / checksum).unlink()
    code = reproduce(edition, tmp_path / "repro", raw)
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("ictstats: ")
    assert str(INTERNET_2024) in lines[0] and "not in the archive" in lines[0]
    assert not (tmp_path / "repro").exists()
