"""Every indicator estimated in one process, in catalog order (the flow runs the same steps
as tasks: flows/pipeline.py); the form for a notebook, a benchmark or a test."""
from __future__ import annotations

from catalog import estimated
from indicators.estimate import Inputs, Params, Result, combine, estimate_indicator, fit_indicator
from indicators.trend_model import Parameters


def estimate_all(inputs: Inputs, params: Params,
                 parameters: dict[str, Parameters] | None = None) -> Result:
    """Estimates of every indicator; `parameters` (indicator -> trend-model parameters)
    default to a fit on the values `inputs` hold."""
    parts = {}
    for spec in estimated():
        fitted = (parameters or {}).get(spec.code) or fit_indicator(spec, inputs, params)
        parts[spec.code] = estimate_indicator(spec, inputs, params, parts.get(spec.predictor),
                                              fitted)
    return combine(list(parts.values()))
