"""Every indicator estimated in one process, in catalog order (the flow runs the same steps
as tasks: flows/pipeline.py); the form for a notebook, a benchmark or a test."""
from __future__ import annotations

from catalog import estimated
from indicators.estimate import Inputs, Params, Result, combine, estimate_indicator, fit_indicator
from indicators.trend_model import Parameters

TUNING_END = 2017   # the parameters of a publication are fitted on values up to this year


def estimate_all(inputs: Inputs, params: Params,
                 parameters: dict[str, Parameters] | None = None) -> Result:
    """Estimates of every indicator; `parameters` (indicator -> trend-model parameters)
    default to a fit on the values up to TUNING_END."""
    parts = {}
    for spec in estimated():
        fitted = (parameters or {}).get(spec.code) or fit_indicator(spec, inputs, params,
                                                                    TUNING_END)
        parts[spec.code] = estimate_indicator(spec, inputs, params, parts.get(spec.predictor),
                                              fitted)
    return combine(list(parts.values()))
