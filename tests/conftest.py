"""Shared test fixtures: the bundled data edition, offline Prefect settings, one pipeline run."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The real data the tests run on: the edition the project ships (data/raw/edition-*/).
EDITION = ROOT / "data" / "raw" / "edition-2025-11"

# Prefect must run offline, with its own home, in every process the tests start.
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="ictstats-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def pytest_collection_finish(session):
    """Each test process settles its heap once the test modules (and the pipeline) are
    imported, as `ictstats` does after its imports (flows/lifetime.py)."""
    from flows.lifetime import settle_heap

    settle_heap()


@pytest.fixture(scope="session")
def snapshot() -> Path:
    """The bundled edition, checked against its manifest: a missing or altered file fails
    every test that reads it (it never skips)."""
    from sources.edition import verify

    problems = verify(EDITION)
    assert not problems, f"{EDITION} does not match its manifest: " + "; ".join(problems[:5])
    return EDITION


@pytest.fixture(scope="session")
def snapshot_results(snapshot):
    """Every snapshot file read and validated once per test session."""
    from sources.read import read_all

    return read_all(snapshot)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One stage cache for the session's runs that are reruns in all but name (the edition
    again, or a copy with a few files changed): they reuse what `published` computed, as a
    user's rerun does. Runs that test computing (runners, caching, reproduction) keep their
    own fresh cache."""
    return tmp_path_factory.mktemp("stage-cache")


@pytest.fixture(scope="session")
def link_shared_cache(shared_cache):
    """`link_shared_cache(cwd)`: `ictstats` runs started in `cwd` use the session's stage
    cache (theirs sits beside their default raw dir, cwd/data/raw); returns `cwd`."""
    def link(cwd: Path) -> Path:
        (cwd / "data").mkdir(parents=True, exist_ok=True)
        (cwd / "data" / "cache").symlink_to(shared_cache, target_is_directory=True)
        return cwd

    return link


@pytest.fixture(scope="session")
def cwd_with_shared_cache(link_shared_cache, tmp_path_factory):
    """A new working directory for an `ictstats` subprocess whose stage cache is the
    session's: `cwd_with_shared_cache("name")`."""
    return lambda name: link_shared_cache(tmp_path_factory.mktemp(name))


@pytest.fixture(scope="session")
def published(snapshot, prefect_harness, shared_cache, tmp_path_factory) -> Path:
    """The whole flow run once in real Prefect on the real snapshot; returns the database."""
    from flows.pipeline import pipeline

    out = tmp_path_factory.mktemp("published")
    raw = tmp_path_factory.mktemp("raw")
    state = pipeline(source_dir=str(snapshot), out_dir=str(out), raw_dir=str(raw),
                     cache_dir=str(shared_cache), return_state=True)
    assert state.is_completed(), state.message
    return out / "ict.duckdb"
