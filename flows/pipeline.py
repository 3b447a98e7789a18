"""The Prefect flow: acquire → validate → curate → estimate → aggregate → publish.

The flow reads top to bottom; each step is a task (flows/tasks.py, flows/report_tasks.py).
Work that can run side by side is submitted to the flow's task runner (flows/runners.py):
one task per source file, per indicator (after the indicator that predicts it), per chart.
A rerun on unchanged inputs reuses the stage cache and publishes the same figures. One run at
a time publishes to an output directory (flows/locking.py).
"""
from __future__ import annotations

import ctypes
import gc
import json
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
from prefect import flow
from prefect.states import Failed
from threadpoolctl import threadpool_limits

from catalog import estimated
from curate.assemble import Curated
from curate.database import DATABASE_NAME, PublishError, write_checked
from flows import lineage, progress
from flows.backtesting import backtest_result
from flows.cache import StageCache
from flows.locking import LockBusy, publication_lock
from flows.release import clean_stale_staging, new_release
from flows.report_tasks import build_report, publish_artifacts
from flows.runners import task_runner
from flows.tasks import (
    cached_figures,
    curate,
    estimate_series,
    fingerprint,
    prepare_inputs,
    read_key,
    read_source,
    sha256,
    stage_task,
)
from indicators import backtest
from indicators.estimate import Params, combine
from indicators.figures import figure_tables
from indicators.membership import membership_lines
from indicators.revisions import group_changes_since, previous_tables, revisions
from sources import completeness, download, retrievals
from sources.listing import duplicate_problems, listing_problems
from sources.plausibility import cross_check
from sources.read import FileResult, context_of, files_in

DEFAULT_SEED = lineage.DEFAULT_SEED
# Linear algebra runs on one BLAS thread: a multi-threaded BLAS sums in an order that depends
# on its thread count, which moved fitted values in the ninth digit between machines with
# other core counts and between the default runner and Dask's workers (one thread each).
BLAS_THREADS = 1


class SourceProblem(str):
    """Why the run cannot publish (its sources, or a failed check): one line for the user."""


@flow(name="ictstats-pipeline", log_prints=True, task_runner=task_runner("default"))
def pipeline(source_dir: str | None = None, out_dir: str = "data/curated",
             raw_dir: str = "data/raw", year: int = 2025, seed: int = DEFAULT_SEED,
             replicates: int = 200, income_fiscal_year: int | None = None, wait: float = 0,
             cache_dir: str | None = None, accept_shrink: bool = False):
    """Acquire → validate → curate → estimate → aggregate → publish.

    `source_dir`: the sources (default: the latest download under `raw_dir`, else download).
    `income_fiscal_year` applies one World Bank income classification (e.g. 2025 for FY25)
    to every year instead of the classification of each data year. `wait`: seconds to wait
    for another run publishing to `out_dir`. `cache_dir`: the stage cache (default: `cache`
    beside `raw_dir`). `accept_shrink`: publish although a file lacks more of what is expected
    of it than sources/completeness.py allows (the `sources` table notes it)."""
    out, raw = Path(out_dir).resolve(), Path(raw_dir).resolve()
    cache = stage_cache(raw, cache_dir)
    params = Params(last_year=year, seed=seed, replicates=replicates)
    run = lineage.new_run(seed, {"source_dir": source_dir, "out_dir": str(out), "year": year,
                                 "replicates": replicates,
                                 "income_fiscal_year": income_fiscal_year,
                                 "accept_shrink": accept_shrink,
                                 "estimation": asdict(params)})
    try:
        with publication_lock(out, wait, run["run_id"]):
            clean_stale_staging(out)
            lineage.journal(out, run)
            try:
                with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
                    published = _stages(run, source_dir, out, raw, params, income_fiscal_year,
                                        cache, accept_shrink)
            except PublishError as err:
                published = SourceProblem(f"not published: {err}")
            except Exception as err:
                lineage.journal(out, {**run, "status": "failed", "finished_at": lineage.now(),
                                      "message": f"{type(err).__name__}: {err}"})
                raise
    except LockBusy as busy:
        lineage.journal(out, {**run, "status": "refused", "message": str(busy),
                              "finished_at": lineage.now()})
        return Failed(message=str(busy))
    if isinstance(published, SourceProblem):
        lineage.journal(out, {**run, "status": "failed", "message": str(published),
                              "finished_at": lineage.now()})
        return Failed(message=str(published))
    print(f"published {published}")
    return str(published)


@flow(name="ictstats-backtest", log_prints=True, task_runner=task_runner("default"))
def backtest_flow(source_dir: str | None = None, raw_dir: str = "data/raw", year: int = 2025,
                  seed: int = DEFAULT_SEED, income_fiscal_year: int | None = None,
                  cache_dir: str | None = None):
    """The backtest of the sources a run would read (`source_dir`, else the latest under
    `raw_dir`), kept in the stage cache for the runs on them: the `backtest` table."""
    raw = Path(raw_dir).resolve()
    cache = stage_cache(raw, cache_dir)
    params = Params(last_year=year, seed=seed)
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        got = read_and_curate({}, source_dir, raw, params, income_fiscal_year, cache,
                              accept_shrink=True, previous=None)
        if isinstance(got, SourceProblem):
            return Failed(message=str(got))
        curated, checksums = got
        prepared = prepare_inputs(curated, params.last_year, income_fiscal_year)
        return backtest_result(prepared, params, income_fiscal_year, checksums, cache,
                               other_sources=False)["backtest"]


def stage_cache(raw: Path, cache_dir: str | None) -> StageCache:
    """The stage cache: `cache_dir`, else `cache` beside the raw folder."""
    return StageCache(Path(cache_dir) if cache_dir else raw.parent / "cache")


def _stages(run: dict, source_dir: str | None, out: Path, raw: Path, params: Params,
            income_fiscal_year: int | None, cache: StageCache,
            accept_shrink: bool = False) -> str | SourceProblem:
    got = read_and_curate(run, source_dir, raw, params, income_fiscal_year, cache,
                          accept_shrink, previous=out / DATABASE_NAME)
    if isinstance(got, SourceProblem):
        return got
    curated, checksums = got

    figures_key = fingerprint("figures", checksums, lineage.code_fingerprint(), params,
                              income_fiscal_year)
    figures = cached_figures.submit(cache, figures_key).result()
    if figures is None:
        figures = estimate_and_aggregate(curated, params, income_fiscal_year, checksums, cache)
        cache.save("figures", figures_key, figures)

    progress.stage("publishing the database, charts, tables and report page")
    tables = {**curated.tables, **figures}
    del curated, figures  # publish_release lets go of the tables once they are written
    published = publish_release(tables, out, run, cache)
    lineage.journal(out, {**run, "status": "published", "finished_at": lineage.now()})
    return str(published)


def read_and_curate(run: dict, source_dir: str | None, raw: Path, params: Params,
                    income_fiscal_year: int | None, cache: StageCache, accept_shrink: bool,
                    previous: Path | None) -> tuple[Curated, dict[str, str]] | SourceProblem:
    """The sources found, checked, read, validated and curated, with their checksums; or why
    they cannot be used. `previous`: the publication a shrinking file is held against."""
    sources = acquire(source_dir, raw)
    files = files_in(sources)
    # before any file is read (or its checksum taken): every match a regular file of its
    # layout, every required source found
    problem = _first(listing_problems(sources, files)) if files else None
    if problem:
        return SourceProblem(problem)
    checksums = {str(path.relative_to(sources)): sha256(path) for _, path in files}
    run.update(source_dir=str(sources), source_checksums=json.dumps(checksums))
    problem = _first(duplicate_problems(files, checksums, sources))
    if problem:
        return SourceProblem(problem)
    # before any file is read: every file of a retrieval as its manifest records it
    changed = completeness.manifest_mismatches(sources, files, checksums)
    if changed and not accept_shrink:
        return SourceProblem(_not_published(changed))

    progress.stage(f"reading and validating {len(files)} source files")
    results = cross_check(validate(sources, files, checksums, cache))
    problem = source_problem(results, sources, params.last_year, income_fiscal_year)
    if problem:
        return SourceProblem(problem)
    prior = completeness.previous_publication(previous) if previous else None
    problem = shrink_problem(results, accept_shrink, prior, changed)
    if problem:
        return SourceProblem(problem)
    curated = curate(results, sources, checksums, raw)
    let_go(results)
    return curated, checksums


def _first(lines: list[str]) -> str | None:
    if not lines:
        return None
    more = f" (and {len(lines) - 1} more problem(s))" if len(lines) > 1 else ""
    return lines[0] + more


@stage_task(name="acquire sources")
def acquire(source_dir: str | None, raw_dir: Path) -> Path:
    """The given directory, else the latest complete download, else download now."""
    if source_dir is not None:
        return Path(source_dir).resolve()
    current = retrievals.resolve_raw_dir(raw_dir)
    if current is not None:
        return current
    return download.download_all(download.load_download_config(), raw_dir)


def validate(sources: Path, files, checksums: dict[str, str],
             cache: StageCache) -> list[FileResult]:
    """Every file read and validated, one task each: classifications first (they define the
    economies the other files are checked against), then the data files side by side."""
    def submit(entry, path, ctx, context_key):
        relative = str(path.relative_to(sources))
        key = read_key(entry, relative, checksums[relative], context_key)
        return read_source.submit(entry, path, ctx, key, cache)

    first = [submit(e, p, None, "") for e, p in files if e.is_classification]
    classifications = [f.result() for f in first]
    ctx = context_of(classifications)
    context_key = fingerprint([checksums[str(p.relative_to(sources))]
                               for e, p in files if e.is_classification])
    rest = [submit(e, p, ctx, context_key) for e, p in files if not e.is_classification]
    return classifications + [f.result() for f in rest]


def source_problem(results: list[FileResult], source_dir: Path, year: int | None = None,
                   income_fiscal_year: int | None = None) -> str | None:
    """Why the files read cannot make a publication (one line), or None. Checked in the flow,
    not raised in a task, so that Prefect logs no traceback for an expected failure."""
    if not results:
        return f"{source_dir}: no source files found (expected world-bank/, un-sdg/, …)"
    errors = [str(r.error) for r in results if r.error]
    if errors:
        return errors[0] + (f" (and {len(errors) - 1} more file(s))" if len(errors) > 1 else "")
    if not any(len(r.extract.tables.get("observations", ())) for r in results):
        return (f"{source_dir}: no country values in any file (only classification files, "
                "or every value was rejected)")
    problem = _first(completeness.missing_series(results))
    if problem:
        return problem
    if year is not None:
        problem = completeness.year_problem(results, year)
        if problem:
            return problem
    if income_fiscal_year is not None:
        return completeness.fiscal_year_problem(results, income_fiscal_year)
    return None


def shrink_problem(results: list[FileResult], accept: bool,
                   previous: completeness.Previous | None = None,
                   changed: list | None = None) -> str | None:
    """A file that lost more than sources/completeness.py allows (of the classification
    universe or of its series in the `previous` publication), or that differs from its
    retrieval's manifest (`changed`), stops the run unless the run accepts it: then each such
    file's row of `sources` says so."""
    shrinks = list(changed or []) + completeness.shrinks(results, previous)
    if not shrinks:
        return None
    if not accept:
        return _not_published(shrinks)
    for shrink in shrinks:
        label = "difference from the manifest accepted" \
            if isinstance(shrink, completeness.Changed) else "shrink accepted"
        for r in results:
            if r.path.name in shrink.names:
                r.notes.append(f"{label}: {shrink.message()}")
        print(f"accepted: {shrink.message()}")
    return None


def _not_published(shrinks) -> str:
    return (_first([s.message() for s in shrinks]) + "; not published: pass --accept-shrink "
            "to publish anyway")


def estimate_and_aggregate(curated: Curated, params: Params, income_fiscal_year: int | None,
                           checksums: dict[str, str], cache: StageCache) -> dict:
    """The backtest's result (reused where the inputs are unchanged: `ictstats backtest`
    computes it ahead), then each indicator's estimates as a task after its predictor's, with
    the backtest's parameters and calibration, then the aggregates of all."""
    prepared = prepare_inputs(curated, params.last_year, income_fiscal_year)
    tested = backtest_result(prepared, params, income_fiscal_year, checksums, cache)
    parameters, calibration = backtest.result_from_tables(tested)
    calibrated = replace(params, calibration=calibration)
    progress.stage("estimating (estimates and 90% intervals per indicator)")
    estimates = {}
    for spec in estimated():
        estimates[spec.code] = estimate_series.submit(
            spec, prepared, calibrated, estimates.get(spec.predictor), parameters[spec.code])
    parts = [f.result() for f in estimates.values()]
    result = combine(parts)
    figures = aggregate(prepared, result, tested)
    let_go(parts + [result])
    return figures


def let_go(results: list) -> None:
    """Empty the large frames and arrays of task results a later stage no longer needs.
    The flow run keeps every task's result until it ends (Prefect tracks them for
    dependencies), so dropping our own references alone frees nothing."""
    for r in results:
        for holder in (getattr(r, "extract", None), r):
            for name in ("tables", "replicates"):
                held = getattr(holder, name, None)
                if isinstance(held, dict):
                    held.clear()
    gc.collect()
    _return_free_memory()


def _return_free_memory() -> None:
    """Hand freed heap back to the system (glibc keeps it otherwise: the peak of the next
    stage would add to this one's)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


@stage_task(name="aggregate")
def aggregate(prepared, result, tested: dict) -> dict:
    return figure_tables(prepared, result, tested)


def publish_release(tables: dict, out_dir: Path, run: dict, cache: StageCache) -> Path:
    """Revisions against the previous publication, then the release (database, charts,
    tables, report) published together, then the Prefect artifacts of the release."""
    with new_release(out_dir) as staging:
        write_database(tables, out_dir, staging / DATABASE_NAME, run)
        tables.clear()  # the report reads the written file: the frames are not needed again
        gc.collect()
        build_report(staging / DATABASE_NAME, staging, cache)
    publish_artifacts(out_dir)
    return out_dir / DATABASE_NAME


@stage_task(name="write database")
def write_database(tables: dict, out_dir: Path, path: Path, run: dict) -> None:
    previous = previous_tables(out_dir / DATABASE_NAME)
    changes = revisions(previous, tables["aggregates"], tables["estimates"], tables["groups"],
                        run["run_id"])
    since = group_changes_since(previous, tables["groups"])
    tables = {**tables, "groups_changes": pd.concat(
        [t for t in (tables.get("groups_changes"), since) if t is not None and len(t)]
        or [since], ignore_index=True)}
    for line in membership_lines(tables["groups_changes"]):
        print(line)
    runs = lineage.runs_table(out_dir, {**run, "status": "published",
                                        "finished_at": lineage.now()})
    write_checked(Curated({**tables, "revisions": changes, "runs": runs}), path)
