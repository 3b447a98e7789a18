"""The Prefect flow: acquire -> validate -> curate -> estimate -> aggregate -> publish.

Tasks are thin wrappers around plain functions; the flow reads top to bottom. Validation and
the estimate and aggregate stages are cached on the source checksums, the code fingerprint and
the parameters: a rerun on unchanged sources reuses their results and publishes the same
figures. One run at a time publishes to an output directory (flows/locking.py).
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from pathlib import Path

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed
from prefect.tasks import exponential_backoff

from flows import lineage
from flows.curate import DATABASE_NAME, Curated, PublishError, indicators_table
from flows.helper import helper_process, if_ready
from flows.locking import LockBusy, publication_lock
from flows.release import clean_stale_staging, publish
from flows.results import STAGE_RESULTS
from indicators.revisions import previous_tables, revisions
from indicators.stage import aggregate_stage, estimate_stage
from sources.catalog import files_in
from sources.read import FileResult, read_all, tables_of

DEFAULT_SEED = 20251216
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_version() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], check=False,
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version
    return version("ictstats")


def file_errors(results: list[FileResult]) -> list[str]:
    return [str(r.error) for r in results if r.error]


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


def assemble(results: list[FileResult], source_dir: Path, checksums: dict[str, str]) -> Curated:
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
        "publisher": r.entry.publisher, "licence": r.entry.licence,
        "release": _release_of(r),
        "release_date": r.entry.release_date, "sha256": checksums[str(r.path.relative_to(source_dir))],
        "bytes": r.path.stat().st_size, "rows_read": r.extract.rows_read,
        "rows_accepted": r.extract.rows_accepted, "rows_quarantined": r.extract.rows_quarantined,
        "values_accepted": r.extract.values_accepted,
    } for r in results])
    tables = {
        "observations": observations,
        "indicators": indicators_table(),
        "sources": sources,
        "quarantine": quarantine,
    }
    for name in ["economies", "wb_economies", "income_groups", "publisher_groups",
                 "publisher_group_members", "publisher_aggregates", "itu_indicators",
                 "itu_regions", "itu_country_regions"]:
        frame = tables_of(extracts, name)
        if len(frame):
            tables[name] = frame
    return Curated(tables)


def _release_of(result: FileResult) -> str:
    """The catalog's release, or the releases the file itself names (the SDG API CSV)."""
    observations = result.extract.tables.get("observations")
    if result.entry.release.startswith("from the file") and observations is not None \
            and len(observations):
        return ", ".join(sorted(set(observations["release"])))
    return result.entry.release


def cache_key(context, parameters) -> str:
    """Tasks are keyed on what determines their result, never on the frames passed in."""
    return f"{context.task.name}-{parameters['key']}"


@task(name="acquire sources", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=exponential_backoff(10))
def acquire(source_dir: str | None, raw_dir: Path) -> Path:
    """The given directory, else the latest complete download, else download now."""
    if source_dir is not None:
        return Path(source_dir).resolve()
    from flows import acquire as downloads

    current = downloads.resolve_raw_dir(raw_dir)
    if current is not None:
        return current
    return downloads.download_all(downloads.load_download_config(), raw_dir)


@task(name="validate sources", cache_key_fn=cache_key, persist_result=True,
      result_serializer=STAGE_RESULTS)
def validate_sources(source_dir: Path, key: str, helper=None) -> list[FileResult]:
    """Read and validate every source file; the helper reads part of them if it is ready."""
    return read_all(source_dir, if_ready(helper))


@task(name="curate", cache_policy=NO_CACHE)
def curate(results, source_dir: Path, checksums: dict[str, str], raw_dir: Path) -> Curated:
    """The curated tables; the files read are archived for reproduction."""
    lineage.archive_sources(checksums, source_dir, raw_dir)
    return assemble(results, source_dir, checksums)


@task(name="estimate", cache_key_fn=cache_key, persist_result=True,
      result_serializer=STAGE_RESULTS)
def estimate_missing(curated: Curated, year: int, seed: int, replicates: int,
                     income_fiscal_year: int | None, key: str, helper=None):
    """Weights, groups and estimates; the helper computes part of them if it is ready."""
    return estimate_stage(curated.tables, year, seed, replicates, income_fiscal_year,
                          if_ready(helper))


@task(name="aggregate", cache_key_fn=cache_key, persist_result=True,
      result_serializer=STAGE_RESULTS)
def aggregate_groups(estimated, key: str) -> dict:
    return aggregate_stage(estimated)


@task(name="publish", cache_policy=NO_CACHE)
def publish_all(tables: dict, out_dir: Path, run: dict, helper=None) -> Path:
    """Revisions against the previous publication, then the release (database, charts,
    tables, report), then the Prefect artifacts of the published release. `helper`: the
    run's second process (flows/helper.py), which does part of the report."""
    previous = previous_tables(out_dir / DATABASE_NAME)
    changes = revisions(previous, tables["aggregates"], tables["estimates"], tables["groups"],
                        run["run_id"])
    runs = lineage.runs_table(out_dir, {**run, "status": "published",
                                        "finished_at": lineage.now()})
    published = publish(Curated({**tables, "revisions": changes, "runs": runs}), out_dir,
                        build_extras=report_builder(helper))
    artifacts(out_dir)
    return published


def artifacts(out_dir: Path) -> None:
    """The headline table and a page linking the charts, in the Prefect UI."""
    from reporting.build import publish_artifacts

    publish_artifacts(out_dir / DATABASE_NAME, out_dir)


def report_builder(helper=None):
    """Charts, tables and the report page, built into the release beside the database."""
    from reporting.build import build_report

    return lambda db, release_dir: build_report(db, release_dir, helper)


def source_checksums(source_dir: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every catalogued file under `source_dir`."""
    return {str(path.relative_to(source_dir)): sha256(path)
            for _, path in files_in(source_dir)}


def fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


@flow(name="ictstats-pipeline", log_prints=True)
def pipeline(source_dir: str | None = None, out_dir: str = "data/curated",
             raw_dir: str = "data/raw", year: int = 2025, seed: int = DEFAULT_SEED,
             replicates: int = 200, income_fiscal_year: int | None = None, wait: float = 0):
    """Acquire → validate → curate → estimate → aggregate → publish.

    `source_dir`: the sources (default: the latest download under `raw_dir`, else download).
    `income_fiscal_year` applies one World Bank income classification (e.g. 2025 for FY25)
    to every year instead of the classification of each data year. `wait`: seconds to wait
    for another run publishing to `out_dir`."""
    out, raw = Path(out_dir).resolve(), Path(raw_dir).resolve()
    run = {"run_id": str(uuid.uuid4()), "started_at": lineage.now(), "status": "running",
           "code_version": code_version(), "code_fingerprint": lineage.code_fingerprint(),
           "seed": seed, "message": None,
           "parameters": json.dumps({"source_dir": source_dir, "out_dir": str(out),
                                     "year": year, "replicates": replicates,
                                     "income_fiscal_year": income_fiscal_year})}
    try:
        with publication_lock(out, wait, run["run_id"]):
            clean_stale_staging(out)
            lineage.journal(out, run)
            try:
                published = _run(run, source_dir, out, raw, year, seed, replicates,
                                 income_fiscal_year)
            except PublishError as err:
                published = SourceProblem(f"not published: {err}")
            except Exception as err:
                lineage.journal(out, {**run, "status": "failed", "finished_at": lineage.now(),
                                      "message": f"{type(err).__name__}: {err}"})
                raise
    except LockBusy as busy:
        return Failed(message=str(busy))
    if isinstance(published, SourceProblem):
        lineage.journal(out, {**run, "status": "failed", "message": str(published),
                              "finished_at": lineage.now()})
        return Failed(message=str(published))
    print(f"published {published}")
    return str(published)


class SourceProblem(str):
    """Why the run cannot publish (its sources, or a failed check): one line for the user."""


def _run(run, source_dir, out, raw, year, seed, replicates, income_fiscal_year):
    """The flow's body under the lock: the published path, or a SourceProblem."""
    with helper_process() as helper:
        return _stages(run, source_dir, out, raw, year, seed, replicates, income_fiscal_year,
                       helper)


def _stages(run, source_dir, out, raw, year, seed, replicates, income_fiscal_year, helper):
    sources = acquire(source_dir, raw)
    checksums = source_checksums(sources)
    run.update(source_dir=str(sources), source_checksums=json.dumps(checksums))
    inputs = fingerprint(checksums, lineage.code_fingerprint())
    # Validation results hold the paths of the files read: keyed on the directory too, so that
    # the same files elsewhere (a reproduction, a new download) are not read from old paths.
    results = validate_sources(sources, key=fingerprint(inputs, str(sources)), helper=helper)
    problem = source_problem(results, sources)
    if problem:
        return SourceProblem(problem)
    curated = curate(results, sources, checksums, raw)
    stage_key = fingerprint(inputs, year, seed, replicates, income_fiscal_year)
    estimated = estimate_missing(curated, year, seed, replicates, income_fiscal_year,
                                 key=stage_key, helper=helper)
    derived = aggregate_groups(estimated, key=stage_key)
    published = publish_all({**curated.tables, **derived}, out, run, helper)
    lineage.journal(out, {**run, "status": "published", "finished_at": lineage.now()})
    return str(published)
