"""Reproduce a past publication: its run's sources (from the archive), parameters and seed."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

KEY = ["indicator", "sex", "location", "group_scheme", "group_code", "year"]


class ReproduceError(Exception):
    """The run cannot be found or rebuilt; one line for the user."""


def recorded_run(db: Path, run_id: str) -> dict:
    """The run's files (relative path -> SHA-256) and the flow parameters to pass again."""
    if not Path(db).exists():
        raise ReproduceError(f"{db}: no publication to read the run from")
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT run_id, parameters, seed, source_checksums FROM runs "
                           "WHERE run_id LIKE ? AND status = 'published'",
                           [f"{run_id}%"]).fetchall()
    if len(rows) != 1:
        raise ReproduceError(f"{db}: {'no' if not rows else 'more than one'} published run "
                             f"matches {run_id!r}")
    found, parameters, seed, checksums = rows[0]
    parameters = json.loads(parameters)
    return {
        "run_id": found,
        "files": json.loads(checksums),
        "parameters": {"year": parameters["year"], "seed": int(seed),
                       "replicates": parameters["replicates"],
                       "income_fiscal_year": parameters["income_fiscal_year"],
                       # a run published with --accept-shrink is rebuilt from the same files
                       "accept_shrink": bool(parameters.get("accept_shrink", False))},
    }


def aggregates_of(db: Path, run_id: str | None = None) -> pd.DataFrame:
    """The aggregates of a publication (of the release that recorded `run_id`, if given)."""
    if run_id is not None:
        db = release_of(db, run_id)
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT {', '.join(KEY)}, value, lower, upper FROM aggregates "
                           f"ORDER BY {', '.join(KEY)}").df()


def release_of(db: Path, run_id: str) -> Path:
    """The database of the release that published `run_id` (kept under releases/)."""
    releases = Path(db).parent / "releases"
    for candidate in sorted(releases.glob("*/ict.duckdb"), reverse=True) or [Path(db)]:
        with duckdb.connect(str(candidate), read_only=True) as con:
            last = con.execute("SELECT run_id FROM runs WHERE status = 'published' "
                               "ORDER BY finished_at DESC LIMIT 1").fetchone()
        if last and last[0] == run_id:
            return candidate
    raise ReproduceError(f"{db}: the release of run {run_id[:8]} is no longer kept")


def compare_publications(recorded_db: Path, new_db: Path, run_id: str) -> int:
    """How many aggregate values differ (bit for bit) between the two publications."""
    old, new = aggregates_of(recorded_db, run_id), aggregates_of(new_db)
    if len(old) != len(new) or not old[KEY].equals(new[KEY]):
        return max(len(old), len(new))
    values = ["value", "lower", "upper"]
    return int((old[values].to_numpy() != new[values].to_numpy()).any(axis=1).sum())
