"""The Prefect flow: validate -> curate -> estimate -> aggregate -> publish.

The CLI acquires the source directory before the flow starts. Tasks are thin wrappers around
plain functions; the flow reads top to bottom.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import uuid
from pathlib import Path

import duckdb
import pandas as pd
from prefect import flow, task
from prefect.states import Failed

from flows.curate import DATABASE_NAME, Curated, indicators_table, publish
from indicators.stage import aggregate_stage, estimate_stage
from sources.read import FileResult, read_all, tables_of

DEFAULT_SEED = 20251216
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class RunError(Exception):
    """An expected failure: one line for the user, no traceback."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_version() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], check=False, cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=5)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version
    return version("ictstats")


def file_errors(results: list[FileResult]) -> list[str]:
    return [str(r.error) for r in results if r.error]


@task(name="validate sources")
def validate_sources(source_dir: Path) -> list[FileResult]:
    return read_all(source_dir)


def source_problem(results: list[FileResult], source_dir: Path) -> str | None:
    """Why the files read cannot make a publication (one line), or None. Checked in the flow,
    not raised in a task, so that Prefect logs no traceback for an expected failure."""
    if not results:
        return f"{source_dir}: no source files found (expected world-bank/, un-sdg/, …)"
    errors = file_errors(results)
    if errors:
        return errors[0] + (f" (and {len(errors) - 1} more file(s))" if len(errors) > 1 else "")
    if not any(len(r.extract.tables.get("observations", ())) for r in results):
        return (f"{source_dir}: no country values in any file (only classification files, "
                "or every value was rejected)")
    return None


def assemble(results: list[FileResult], source_dir: Path, run: dict,
             previous_db: Path | None) -> Curated:
    """All extracts → the tables of one publication."""
    extracts = [r.extract for r in results]
    release_dates = {r.entry.id: r.entry.release_date for r in results}
    observations = tables_of(extracts, "observations")
    observations = observations.astype({"year": "int32", "row": "int64"})
    observations["release_date"] = pd.to_datetime(
        observations["source"].map(release_dates)).dt.date
    quarantine = pd.concat(
        [r.extract.quarantine.assign(source=r.entry.id) for r in results
         if len(r.extract.quarantine)] or [pd.DataFrame(columns=["file", "row", "column",
                                                                  "value", "check", "reason",
                                                                  "source"])],
        ignore_index=True)
    quarantine = quarantine.astype({"row": "Int64", "value": "str", "column": "str"})
    sources = pd.DataFrame([{
        "source_id": r.entry.id, "file": str(r.path.relative_to(source_dir)),
        "publisher": r.entry.publisher, "licence": r.entry.licence, "release": r.entry.release,
        "release_date": r.entry.release_date, "sha256": run["checksums"][str(r.path)],
        "bytes": r.path.stat().st_size, "rows_read": r.extract.rows_read,
        "rows_accepted": r.extract.rows_accepted, "rows_quarantined": r.extract.rows_quarantined,
        "values_accepted": r.extract.values_accepted,
    } for r in results])
    tables = {
        "observations": observations,
        "indicators": indicators_table(),
        "sources": sources,
        "quarantine": quarantine,
        "runs": runs_table(run, previous_db),
    }
    for name in ["economies", "wb_economies", "income_groups", "publisher_groups",
                 "publisher_group_members", "publisher_aggregates", "itu_indicators",
                 "itu_regions", "itu_country_regions"]:
        frame = tables_of(extracts, name)
        if len(frame):
            tables[name] = frame
    return Curated(tables)


def runs_table(run: dict, previous_db: Path | None) -> pd.DataFrame:
    """This run appended to the runs recorded in the previous publication."""
    row = pd.DataFrame([{
        "run_id": run["run_id"], "started_at": run["started_at"],
        "finished_at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "status": "published",
        "code_version": run["code_version"], "parameters": json.dumps(run["parameters"]),
        "seed": run["seed"], "source_dir": run["parameters"]["source_dir"],
        "source_checksums": json.dumps({Path(k).name: v for k, v in run["checksums"].items()}),
    }])
    if previous_db and previous_db.exists():
        try:
            with duckdb.connect(str(previous_db), read_only=True) as con:
                before = con.execute("SELECT * FROM runs").df()
            return pd.concat([before, row], ignore_index=True)
        except duckdb.Error:
            pass  # an unreadable previous file does not block a new publication
    return row


@task(name="curate")
def curate(results, source_dir: Path, out_dir: Path, run: dict) -> Curated:
    return assemble(results, source_dir, run, out_dir / DATABASE_NAME)


@task(name="estimate")
def estimate_missing(curated: Curated, year: int, seed: int, replicates: int,
                     income_fiscal_year: int | None):
    return estimate_stage(curated.tables, year, seed, replicates, income_fiscal_year)


@task(name="aggregate")
def aggregate_groups(estimated) -> dict:
    return aggregate_stage(estimated)


@task(name="publish")
def publish_all(curated: Curated, derived: dict, out_dir: Path) -> Path:
    return publish(Curated({**curated.tables, **derived}), out_dir)


@flow(name="ictstats-pipeline", log_prints=True)
def pipeline(source_dir: str, out_dir: str, year: int = 2025, seed: int = DEFAULT_SEED,
             replicates: int = 200, income_fiscal_year: int | None = None):
    """Validate → curate → estimate → aggregate → publish.

    `income_fiscal_year` applies one World Bank income classification (e.g. 2025 for FY25)
    to every year instead of the classification of each data year."""
    source_dir, out_dir = Path(source_dir).resolve(), Path(out_dir).resolve()
    run = {
        "run_id": str(uuid.uuid4()),
        "started_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "code_version": code_version(),
        "parameters": {"source_dir": str(source_dir), "out_dir": str(out_dir), "year": year,
                       "replicates": replicates, "income_fiscal_year": income_fiscal_year},
        "seed": seed,
    }
    results = validate_sources(source_dir)
    problem = source_problem(results, source_dir)
    if problem:
        return Failed(message=problem)
    run["checksums"] = {str(r.path): sha256(r.path) for r in results}
    curated = curate(results, source_dir, out_dir, run)
    estimated = estimate_missing(curated, year, seed, replicates, income_fiscal_year)
    derived = aggregate_groups(estimated)
    published = publish_all(curated, derived, out_dir)
    print(f"published {published}")
    return str(published)
