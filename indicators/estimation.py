"""Every indicator estimated in one process, in catalog order: its backtest's residual pools,
then its estimates. The flow runs the same two steps as tasks (flows/pipeline.py); this is the
form for a notebook, a benchmark or a test."""
from __future__ import annotations

from catalog import estimated
from indicators.backtest import residual_pools
from indicators.estimate import (
    Inputs,
    Params,
    Result,
    combine,
    estimate_indicator,
    series_inputs,
)


def estimate_all(inputs: Inputs, params: Params, pools: dict | None = None) -> Result:
    """Estimates of every indicator; `pools` (indicator -> pools) reuses a backtest's."""
    parts, used = {}, {}
    for spec in estimated():
        predictor = parts[spec.predictor].total if spec.predictor else None
        if pools is None:
            obs, _ = series_inputs(inputs, spec, params)
            used[spec.code] = residual_pools(obs, inputs.covariates, params, predictor)
        else:
            used[spec.code] = pools[spec.code]
        parts[spec.code] = estimate_indicator(spec, inputs, params, used[spec.code], predictor)
    return combine(list(parts.values()), used)
