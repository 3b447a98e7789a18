"""The pipeline's Prefect tasks: thin wrappers around the stages' plain functions.

Tasks that can run side by side (one per source file, per indicator's fit, per backtest
cut-off, per chart)
are submitted to the flow's task runner. Results that a rerun can reuse are kept as Parquet
files in the stage cache (flows/cache.py), keyed on what determines them; Prefect itself
caches nothing. Only the download retries, in sources/download.py.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from catalog import Indicator, Source
from curate.assemble import Curated, assemble
from flows import lineage
from flows.cache import StageCache
from indicators import backtest
from indicators.estimate import IndicatorEstimate, Params, estimate_indicator, fit_indicator
from indicators.inputs import Prepared, prepare
from indicators.trend_model import Parameters
from sources.base import Context, Extract
from sources.files import sha256
from sources.read import FileResult, read_file

__all__ = ["sha256"]  # the checksum of a source file (sources.files), used by the flow


def stage_task(name: str):
    """A step of the flow shown under its own name in the Prefect UI; Prefect caches none."""
    return task(name=name, task_run_name=name, cache_policy=NO_CACHE)


def reused(value) -> State:
    """A task's result taken from the stage cache: the run shows the task as Cached."""
    return Completed(name="Cached", message="reused from the stage cache", data=value)


def fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


# ------------------------------------------------------------------------------ reading
@task(name="read source file", cache_policy=NO_CACHE,
      task_run_name="read {path.name}")
def read_source(entry: Source, path: Path, ctx: Context | None, key: str,
                cache: StageCache) -> FileResult:
    """One source file read and validated, or its error; reused from the cache by `key`."""
    hit = cache.load("read", key)
    if hit is not None:
        tables, meta = hit
        quarantine = tables.pop("_quarantine").astype({"row": "Int64", "year": "Int64"})
        return reused(FileResult(entry, path, extract=Extract(
            tables, meta["rows_read"], quarantine, list(meta.get("notes", [])),
            dict(meta.get("seen", {})))))
    result = read_file(entry, path, ctx)
    if result.extract is not None:
        cache.save("read", key, {**result.extract.tables, "_quarantine":
                                 result.extract.quarantine.astype({"value": "str"})},
                   {"rows_read": result.extract.rows_read, "notes": result.extract.notes,
                    "seen": result.extract.seen})
    return result


def read_key(entry: Source, relative: str, checksum: str, context_key: str) -> str:
    return fingerprint("read", entry, relative, checksum, context_key,
                       lineage.code_fingerprint())


@stage_task(name="curate")
def curate(results: list[FileResult], source_dir: Path, checksums: dict[str, str],
           raw_dir: Path) -> Curated:
    """The curated tables; the files read are archived for reproduction."""
    lineage.archive_sources(checksums, source_dir, raw_dir)
    return assemble(results, source_dir, checksums)


# ------------------------------------------------------------------------------ estimation
@stage_task(name="prepare estimation inputs")
def prepare_inputs(curated: Curated, year: int, income_fiscal_year: int | None) -> Prepared:
    return prepare(curated.tables, year, income_fiscal_year)


@task(name="fit", cache_policy=NO_CACHE, task_run_name="fit {spec.code}")
def fit_series(spec: Indicator, prepared: Prepared, params: Params, until: int | None = None,
               first_guess: Parameters | None = None) -> Parameters:
    """The trend model's parameters, fitted on the values of years up to `until` (all)."""
    inputs = prepared.inputs if until is None else backtest.truncated(prepared.inputs, until)
    return fit_indicator(spec, inputs, params, first_guess)


@task(name="estimate", cache_policy=NO_CACHE, task_run_name="estimate {spec.code}")
def estimate_series(spec: Indicator, prepared: Prepared, params: Params,
                    predictor: IndicatorEstimate | None, fitted: Parameters,
                    breakdowns: bool = True) -> IndicatorEstimate:
    return estimate_indicator(spec, prepared.inputs, params, predictor, fitted, breakdowns)


@task(name="backtest cut-off", cache_policy=NO_CACHE, task_run_name="backtest to {cutoff}")
def backtest_cutoff(prepared: Prepared, params: Params, cutoff: int,
                    parameters: dict[str, Parameters]):
    """Estimates from the values known at `cutoff`, for the years after it."""
    return backtest.run_cutoff(prepared.inputs, prepared.groups, params, cutoff, parameters)


@stage_task(name="look up the cached backtest")
def cached_backtest(cache: StageCache, key: str):
    """The backtest of an earlier run with the same inputs, code and parameters, or None."""
    hit = cache.load("backtest", key)
    return None if hit is None else reused(hit[0])


@stage_task(name="look up cached figures")
def cached_figures(cache: StageCache, key: str):
    """The tables of the estimate and aggregate stages of an earlier run with the same
    inputs, code and parameters, or None."""
    hit = cache.load("figures", key)
    return None if hit is None else reused(hit[0])
