"""The published tables of the estimate and aggregate stages: weights, groups, estimates,
aggregates and their derived ratios and counts, the headline figures and the backtest."""
from __future__ import annotations

import pandas as pd

from indicators.aggregate import aggregate
from indicators.estimate import Result
from indicators.headline import headline
from indicators.inputs import Prepared


def figure_tables(prepared: Prepared, result: Result, tested: dict[str, pd.DataFrame]
                  ) -> dict[str, pd.DataFrame]:
    """`tested`: the backtest's tables (backtest, estimation_parameters)."""
    inputs = prepared.inputs
    aggregates, derived = aggregate(result.estimates, result.replicates, inputs.weights,
                                    prepared.groups)
    estimates = result.estimates.astype({"year": "int32", "horizon": "int32"})
    return {
        "weights": inputs.weights.astype({"year": "int32"}),
        "groups": prepared.groups.astype({"year": "int32"}),
        "groups_changes": prepared.groups_changes,
        "estimates": estimates,
        "aggregates": aggregates,
        "aggregates_derived": derived,
        "headline": headline(aggregates, estimates, inputs.observations),
        **tested,
    }
