"""What estimation starts from, taken from the curated tables: the preferred country values,
the weight populations, group membership and what the models know of each economy."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from catalog import estimated, population_indicators, status_flagging_sources, urban_share_indicator
from curate.descriptions import VIEWS, population_view
from indicators import membership
from indicators.estimate import Inputs
from indicators.weights import build_weights

# Preferred values for estimation. A value from a source that flags no status (World Bank,
# ITU, OWID) takes the status a flagging source (the SDG database) gives the same key.
ESTIMATION_INPUT_SQL = """
WITH flagged AS (
    SELECT indicator, iso3, year, sex, location, any_value(status) AS flagged_status
    FROM observations WHERE source IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL)
SELECT p.indicator, p.iso3, p.year, p.sex, p.location, p.value, p.source,
       CASE WHEN p.source NOT IN (SELECT unnest(?::VARCHAR[]))
                 AND f.flagged_status IS NOT NULL
            THEN f.flagged_status ELSE p.status END AS status
FROM preferred_observations p
LEFT JOIN flagged f USING (indicator, iso3, year, sex, location)
WHERE p.year <= ?
ORDER BY p.indicator, p.iso3, p.year, p.sex, p.location
"""


@dataclass
class Prepared:
    """The estimation's inputs and the membership the aggregates use."""

    inputs: Inputs
    groups: pd.DataFrame
    groups_changes: pd.DataFrame | None = None  # members groups lost or gained (membership)


def estimation_frames(tables: dict[str, pd.DataFrame], last_year: int) -> dict:
    """Preferred observations, population and urban share from the curated tables."""
    # Both queries end in ORDER BY: the row order, hence every float sum downstream, is fixed.
    urban = urban_share_indicator()
    headline_codes = {i.code for i in estimated()}
    needed = headline_codes | {urban, *population_indicators()}
    observations = tables["observations"]
    flagging = status_flagging_sources()
    con = duckdb.connect()
    try:
        con.register("observations", observations[observations["indicator"].isin(needed)])
        con.execute(f"CREATE VIEW preferred_observations AS {VIEWS['preferred_observations']}")
        con.execute(f"CREATE VIEW population AS {population_view()}")
        preferred = con.execute(ESTIMATION_INPUT_SQL, [flagging, flagging, last_year]).df()
        population = con.execute("SELECT * FROM population ORDER BY ALL").df()
    finally:
        con.close()
    preferred = preferred.astype({"year": "int64"})
    population = population.astype({"year": "int64"})
    return {"preferred": preferred[preferred["indicator"].isin(headline_codes)],
            "population": population,
            "urban": preferred[preferred["indicator"] == urban][["iso3", "year", "value"]]}


def economy_covariates(iso3s, income_groups: pd.DataFrame, regions: pd.Series) -> pd.DataFrame:
    """What the models know of each economy: its latest income group and its SDG region."""
    latest = membership.income_by_fiscal_year(income_groups).sort_values(
        "fiscal_year").groupby("iso3").tail(1)
    covariates = pd.DataFrame({"iso3": list(iso3s)}).merge(
        latest[["iso3", "income_group"]], on="iso3", how="left")
    covariates["sdg_region"] = covariates["iso3"].map(regions)
    return covariates


def prepare(tables: dict[str, pd.DataFrame], last_year: int,
            fixed_fiscal_year: int | None = None) -> Prepared:
    """Weights from the first year any indicator is estimated to `last_year`, membership,
    covariates and the preferred values."""
    frames = estimation_frames(tables, last_year)
    economies, income_groups = tables["economies"], tables["income_groups"]
    regions = membership.sdg_regions(economies)
    first_year = min(i.estimation["first_year"] for i in estimated())
    weights = build_weights(frames["population"], frames["urban"], regions, first_year,
                            last_year)
    groups = membership.membership(weights[["iso3", "year"]], economies, income_groups,
                                   fixed_fiscal_year)
    covariates = economy_covariates(weights["iso3"].unique(), income_groups, regions)
    changes = membership.classification_changes(groups, economies, income_groups,
                                                tables.get("economy_regions"), fixed_fiscal_year)
    lost = membership.weights_lost(tables.get("quarantine", pd.DataFrame()), frames["preferred"],
                                   weights)
    if len(lost):
        changes = pd.concat([changes, lost], ignore_index=True)
    return Prepared(Inputs(frames["preferred"], weights, covariates), groups, changes)
