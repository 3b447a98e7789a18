"""A clone of the repository with nothing beside it runs the main job on the bundled edition
and prints what it found. .ci/run does this from scratch with the clone's own environment;
here the clone's stage cache is the session's (a clone of the same commit reuses what the
session computed, as a rerun does), so that the test checks the clone, not the estimation
again."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.usefixtures("published")  # the session's stage cache filled first
def test_a_clone_alone_runs_on_the_bundled_edition_and_prints_its_figures(link_shared_cache,
                                                                          tmp_path):
    clone = tmp_path / "ictstats"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (tmp_path / "shared").exists()
    link_shared_cache(clone)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "ICTSTATS_SOURCE_DIR")}
    env["COLUMNS"] = "160"
    run = subprocess.run([sys.executable, "-m", "flows.cli", "run"], cwd=clone, env=env,
                         check=False,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "Reading retrievals edition-2025-11" in out
    assert "WSIS+20 headline figures" in out and "90% interval" in out
    assert "Internet use, World, 2025" in out and "quoted" in out
    assert "27 files" in out and "quarantined" in out
    db = clone / "data" / "curated" / "ict.duckdb"
    assert str(db) in out
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM headline").fetchone()[0] == 12
        source_dir = con.execute("SELECT source_dir FROM runs").fetchone()[0]
    assert source_dir == str(clone / "data" / "raw" / ".current")
