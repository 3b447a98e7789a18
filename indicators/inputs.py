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

# Every value of the estimated indicators, with its kind: what a source that flags values
# says of it (SDG nature: reported or publisher_estimate), else what a flagging source says of
# the same indicator x economy x year x sex x location, else `unflagged` (no source says).
ESTIMATION_INPUT_SQL = """
WITH flagged AS (
    SELECT indicator, iso3, year, sex, location, min(status) AS flagged_status
    FROM observations WHERE source IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL)
SELECT o.indicator, o.iso3, o.year, o.sex, o.location, o.value, o.source,
       o.source || ' / ' || o.release AS release, o.release_date,
       CASE WHEN o.source IN (SELECT unnest(?::VARCHAR[])) THEN o.status
            ELSE coalesce(f.flagged_status, 'unflagged') END AS kind
FROM observations o
LEFT JOIN flagged f USING (indicator, iso3, year, sex, location)
WHERE o.year <= ? AND o.indicator IN (SELECT unnest(?::VARCHAR[]))
ORDER BY o.indicator, o.iso3, o.year, o.sex, o.location, o.release_date, o.source, o.file
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
        values = con.execute(ESTIMATION_INPUT_SQL, [flagging, flagging, last_year,
                                                    sorted(headline_codes)]).df()
        population = con.execute("SELECT * FROM population ORDER BY ALL").df()
        urban_share = con.execute(
            "SELECT iso3, year, value FROM preferred_observations WHERE indicator = ? "
            "AND year <= ? ORDER BY ALL", [urban, last_year]).df()
    finally:
        con.close()
    return {"values": values.astype({"year": "int64"}),
            "population": population.astype({"year": "int64"}),
            "urban": urban_share.astype({"year": "int64"})}


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
    lost = membership.weights_lost(tables.get("quarantine", pd.DataFrame()), frames["values"],
                                   weights)
    if len(lost):
        changes = pd.concat([changes, lost], ignore_index=True)
    return Prepared(Inputs(frames["values"], weights, covariates), groups, changes)
