"""The estimate and aggregate stages on the curated tables: weights, groups, estimates,
aggregates, the headline figures and the backtest report."""
from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import duckdb
import pandas as pd

from indicators import backtest
from indicators import groups as grouping
from indicators.aggregate import aggregate
from indicators.estimate import Inputs, Params, Result, estimate
from indicators.headline import headline
from indicators.spec import estimated
from indicators.weights import build_weights

FIRST_YEAR = 2000

# Preferred values for estimation. A value from a source that states no nature (World Bank,
# ITU, OWID) takes the SDG release's nature for the same key where that release has one.
ESTIMATION_INPUT_SQL = """
WITH sdg AS (
    SELECT indicator, iso3, year, sex, location, any_value(status) AS sdg_status
    FROM observations WHERE source IN ('sdg_ddf', 'sdg_api') GROUP BY ALL)
SELECT p.indicator, p.iso3, p.year, p.sex, p.location, p.value, p.source,
       CASE WHEN p.source NOT IN ('sdg_ddf', 'sdg_api') AND sdg.sdg_status IS NOT NULL
            THEN sdg.sdg_status ELSE p.status END AS status
FROM preferred_observations p
LEFT JOIN sdg USING (indicator, iso3, year, sex, location)
WHERE p.year <= ?
ORDER BY p.indicator, p.iso3, p.year, p.sex, p.location
"""


@dataclass
class Estimated:
    """What the estimate stage hands to the aggregate stage."""

    weights: pd.DataFrame
    groups: pd.DataFrame
    preferred: pd.DataFrame
    result: Result
    backtest: pd.DataFrame


def estimation_frames(tables: dict[str, pd.DataFrame], last_year: int) -> dict:
    """Preferred observations, population and urban share from the curated tables."""
    from flows.tables import VIEWS

    # Both queries end in ORDER BY: the row order, hence every float sum downstream, is fixed.
    needed = {i.code for i in estimated()} | {"SP.URB.TOTL.IN.ZS", "SP.POP.TOTL",
                                              "WPP.POP.TOTL", "WPP.POP.10UP", "WPP.POP.15UP"}
    observations = tables["observations"]
    con = duckdb.connect()
    try:
        con.register("observations", observations[observations["indicator"].isin(needed)])
        con.execute(f"CREATE VIEW preferred_observations AS {VIEWS['preferred_observations']}")
        con.execute(f"CREATE VIEW population AS {VIEWS['population']}")
        preferred = con.execute(ESTIMATION_INPUT_SQL, [last_year]).df().astype({"year": "int64"})
        population = con.execute("SELECT * FROM population ORDER BY ALL").df().astype(
            {"year": "int64"})
    finally:
        con.close()
    urban = preferred[preferred["indicator"] == "SP.URB.TOTL.IN.ZS"][["iso3", "year", "value"]]
    headline_codes = {i.code for i in estimated()}
    return {"preferred": preferred[preferred["indicator"].isin(headline_codes)],
            "population": population, "urban": urban}


def economy_covariates(iso3s, income_groups: pd.DataFrame, regions: pd.Series) -> pd.DataFrame:
    """What the models know of each economy: its latest income group and its SDG region."""
    latest = grouping.income_by_fiscal_year(income_groups).sort_values(
        "fiscal_year").groupby("iso3").tail(1)
    covariates = pd.DataFrame({"iso3": list(iso3s)}).merge(
        latest[["iso3", "income_group"]], on="iso3", how="left")
    covariates["sdg_region"] = covariates["iso3"].map(regions)
    return covariates


def estimate_stage(tables: dict[str, pd.DataFrame], last_year: int, seed: int,
                   replicates: int = 200, fixed_fiscal_year: int | None = None,
                   helper: Executor | None = None) -> Estimated:
    """Weights, group membership and estimates (with replicates) from the curated tables;
    `helper`: a one-process executor that computes part of the estimates."""
    frames = estimation_frames(tables, last_year)
    economies, income_groups = tables["economies"], tables["income_groups"]
    regions = grouping.sdg_regions(economies)
    weights = build_weights(frames["population"], frames["urban"], regions, FIRST_YEAR,
                            last_year)
    groups = grouping.membership(weights[["iso3", "year"]], economies, income_groups,
                                 fixed_fiscal_year)
    covariates = economy_covariates(weights["iso3"].unique(), income_groups, regions)
    params = Params(last_year=last_year, seed=seed, replicates=replicates)
    result = estimate(Inputs(frames["preferred"], weights, covariates), params, helper=helper)
    report = backtest.report(result.pools)
    # Keep what the aggregate stage needs, compactly: this result is cached on disk.
    result.pools = {}
    result.replicates = {k: v.astype("float32") for k, v in result.replicates.items()}
    return Estimated(weights, groups, frames["preferred"], result, report)


def aggregate_stage(estimated: Estimated) -> dict[str, pd.DataFrame]:
    """The published tables of the estimate and aggregate stages."""
    result = estimated.result
    aggregates, derived = aggregate(result.estimates, result.replicates, estimated.weights,
                                    estimated.groups)
    estimates = result.estimates.astype({"year": "int32", "horizon": "int32"})
    return {
        "weights": estimated.weights.astype({"year": "int32"}),
        "groups": estimated.groups.astype({"year": "int32"}),
        "estimates": estimates,
        "aggregates": aggregates,
        "aggregates_derived": derived,
        "headline": headline(aggregates, estimates, estimated.preferred),
        "backtest": estimated.backtest,
    }
