"""The backtest stage: the estimation's parameters and interval calibration, and its scores.

Its result is kept in the stage cache under a key of the sources' checksums, the code and
the parameters, so that a publication reuses it for unchanged inputs; `ictstats backtest`
(and the yearly deployment) computes it ahead of the runs that use it.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from catalog import estimated
from flows import lineage, progress
from flows.cache import StageCache
from flows.tasks import (
    backtest_cutoff,
    cached_backtest,
    estimate_series,
    fingerprint,
    fit_series,
)
from indicators import backtest
from indicators.estimate import Params, combine
from indicators.inputs import Prepared


def backtest_key(checksums: dict[str, str], params: Params,
                 income_fiscal_year: int | None) -> tuple[str, str]:
    """(prefix, key): the prefix names the code and settings, the key adds the sources."""
    prefix = fingerprint("backtest", lineage.code_fingerprint(), params.last_year, params.seed,
                         income_fiscal_year)[:20]
    return prefix, f"{prefix}-{fingerprint(checksums)[:20]}"


def backtest_result(prepared: Prepared, params: Params, income_fiscal_year: int | None,
                    checksums: dict[str, str], cache: StageCache,
                    other_sources: bool = True) -> dict[str, pd.DataFrame]:
    """The backtest's tables (backtest, estimation_parameters): of these sources from the
    stage cache; else, with `other_sources`, the latest of the same code and settings on
    other sources (a monthly run uses the yearly backtest, as parameters of official
    statistics are re-estimated yearly; estimation_parameters says so); else computed now
    and kept there."""
    prefix, key = backtest_key(checksums, params, income_fiscal_year)
    tested = cached_backtest.submit(cache, key).result()
    same = tested is not None
    if tested is None and other_sources and (latest := cache.latest("backtest", prefix)):
        tested = cached_backtest.submit(cache, latest).result()
        if tested is not None:
            progress.stage("using the latest backtest, of other sources (`ictstats backtest` "
                           "brings it up to date)")
    if tested is None:
        progress.stage("backtesting the estimation over ten cut-off years")
        tested = backtest_stage(prepared, params)
        cache.save("backtest", key, tested)
        same = True
    return {**tested, "estimation_parameters": backtest.with_provenance(
        tested["estimation_parameters"], same)}


def backtest_stage(prepared: Prepared, params: Params) -> dict[str, pd.DataFrame]:
    """Fit each indicator's parameters at every fit cut-off (2012, 2015, 2018) on the values
    known then (an indicator without values by then is not backtested there), estimate every
    cut-off from what was known then with the latest of those fits, choose the calibration on
    the tuning cut-offs, score the evaluation cut-offs with it, and fit the parameters a
    publication uses on all values (indicators the backtest cannot score, e.g. a series
    starting later, stay uncalibrated): fits and cut-offs are tasks side by side."""
    quick = replace(params, replicates=backtest.BACKTEST_REPLICATES)
    last = backtest.LAST_TUNING_CUTOFF
    fits = {at: {spec.code: fit_series.submit(spec, prepared, quick, until=at)
                 for spec in backtest.testable(prepared.inputs, at)}
            for at in backtest.FIT_CUTOFFS}
    fitted: dict[int, dict] = {}

    def cutoff(t: int, p: Params):
        at = backtest.fitted_at(t)
        if at not in fitted:
            fitted[at] = {code: f.result() for code, f in fits[at].items()}
        return backtest_cutoff.submit(prepared, p, t, fitted[at])

    tuning = [cutoff(t, quick) for t in backtest.CUTOFFS if t <= last]
    latest = {code: f.result() for code, f in fits[backtest.FIT_CUTOFFS[-1]].items()}
    full_fits = {spec.code: fit_series.submit(spec, prepared, quick,
                                              first_guess=latest.get(spec.code))
                 for spec in estimated()}
    parameters = {code: f.result() for code, f in full_fits.items()}
    full = {}
    for spec in estimated():
        full[spec.code] = estimate_series.submit(spec, prepared, quick, full.get(spec.predictor),
                                                 parameters[spec.code], breakdowns=False)
    truth_country, truth_group = backtest.truths(
        prepared, combine([f.result() for f in full.values()]))
    tuning = [f.result() for f in tuning]
    calibration = backtest.tune(*backtest.stack(tuning), truth_country, truth_group)
    calibrated = replace(quick, calibration=calibration)
    evaluation = [cutoff(t, calibrated) for t in backtest.CUTOFFS if t > last]
    evaluation = [f.result() for f in evaluation]
    table = backtest.evaluate(*backtest.stack(tuning + evaluation), truth_country, truth_group)
    return backtest.result_tables(parameters, calibration, table)
