"""Population-weighted group aggregates with coverage and a 90% interval.

Point values, coverage and counts are computed in DuckDB (AGGREGATE_SQL); the interval comes
from the same weighted means over the estimation's bootstrap replicates (NumPy).
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from catalog import indicators
from indicators.weights import WEIGHT_COLUMNS, weight_column

AGGREGATE_SQL = """
SELECT e.indicator, e.sex, e.location, g.group_scheme, g.group_code, e.year,
       sum(w.persons * e.value) / sum(w.persons)                       AS value,
       coalesce(sum(w.persons) FILTER (WHERE e.status = 'reported'), 0) / sum(w.persons)
                                                                        AS population_coverage,
       coalesce(sum(w.persons) FILTER (WHERE e.status = 'publisher_estimate'), 0)
           / sum(w.persons)                                             AS coverage_publisher_estimate,
       coalesce(sum(w.persons) FILTER (WHERE e.status = 'unflagged'), 0) / sum(w.persons)
                                                                        AS coverage_unflagged,
       coalesce(sum(w.persons) FILTER (WHERE e.status = 'imputed'), 0) / sum(w.persons)
                                                                        AS coverage_imputed,
       coalesce(sum(w.persons) FILTER (WHERE e.status <> 'imputed'), 0) / sum(w.persons)
                                                                        AS observed_coverage,
       coalesce(sum(w.persons) FILTER (WHERE e.ever_observed), 0) / sum(w.persons)
                                                                        AS ever_observed_share,
       count(*)::INTEGER                                                AS n_economies,
       (count(*) FILTER (WHERE e.status = 'reported'))::INTEGER         AS n_reported,
       min(g.classification)                                            AS classification,
       sum(w.persons)                                                   AS weight_population
FROM estimates e
JOIN series_weight s USING (indicator, sex, location)
JOIN weights_long w ON w.iso3 = e.iso3 AND w.year = e.year AND w.weight = s.weight
JOIN groups g ON g.iso3 = e.iso3 AND g.year = e.year
GROUP BY ALL
"""


def series_weights(estimates: pd.DataFrame) -> pd.DataFrame:
    keys = estimates[["indicator", "sex", "location"]].drop_duplicates()
    keys["weight"] = [weight_column(indicators()[i].weight, s, loc)
                      for i, s, loc in keys.itertuples(index=False)]
    return keys


def point_aggregates(estimates: pd.DataFrame, weights: pd.DataFrame,
                     groups: pd.DataFrame) -> pd.DataFrame:
    weights_long = weights.melt(id_vars=["iso3", "year"], value_vars=WEIGHT_COLUMNS,
                                var_name="weight", value_name="persons")
    con = duckdb.connect()
    con.execute("SET threads TO 1")  # sums in a fixed order: reruns are bit-identical
    try:
        con.register("estimates", estimates)
        con.register("series_weight", series_weights(estimates))
        con.register("weights_long", weights_long)
        con.register("groups", groups)
        return con.execute(AGGREGATE_SQL + " ORDER BY ALL").df()
    finally:
        con.close()


def replicate_aggregates(estimates: pd.DataFrame, replicates: dict, weights: pd.DataFrame,
                         groups: pd.DataFrame) -> dict:
    """(indicator, sex, location) -> (group-year frame, R x n_group_years replicate means)."""
    out = {}
    w_index = weights.set_index(["iso3", "year"])
    key_cols = ["group_scheme", "group_code", "year"]
    for key, reps in replicates.items():
        code, sex, location = key
        rows = estimates[(estimates["indicator"] == code) & (estimates["sex"] == sex)
                         & (estimates["location"] == location)].reset_index(drop=True)
        weight = weight_column(indicators()[code].weight, sex, location)
        w = w_index[weight].reindex(pd.MultiIndex.from_frame(rows[["iso3", "year"]])).to_numpy()
        pairs = rows[["iso3", "year"]].reset_index().merge(groups, on=["iso3", "year"])
        pairs = pairs.sort_values(key_cols, kind="stable").reset_index(drop=True)
        group_id = pairs.groupby(key_cols, sort=False).ngroup().to_numpy()
        starts = np.flatnonzero(np.r_[True, group_id[1:] != group_id[:-1]])
        idx = pairs["index"].to_numpy()
        num = np.add.reduceat(reps[:, idx] * w[idx], starts, axis=1)
        den = np.add.reduceat(w[idx], starts)
        frame = pairs.loc[starts, key_cols].reset_index(drop=True)
        out[key] = (frame, num / den, den)
    return out


def aggregate(estimates, replicates, weights, groups) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The `aggregates` table and the derived table (parity, urban/rural ratio, people)."""
    point = point_aggregates(estimates, weights, groups)
    reps = replicate_aggregates(estimates, replicates, weights, groups)
    frames = []
    for (code, sex, location), (frame, means, _) in reps.items():
        lower, upper = np.percentile(means, [5, 95], axis=0)
        frames.append(frame.assign(indicator=code, sex=sex, location=location,
                                   lower=lower, upper=upper))
    bounds = pd.concat(frames, ignore_index=True)
    keys = ["indicator", "sex", "location", "group_scheme", "group_code", "year"]
    aggregates = point.merge(bounds, on=keys, how="left")
    aggregates["mostly_imputed"] = aggregates["coverage_imputed"] > 1 / 3
    # a breakdown most of whose weight was never observed rests on modelled gaps
    aggregates["breakdown_mostly_modelled"] = (
        ((aggregates["sex"] != "total") | (aggregates["location"] != "total"))
        & (aggregates["ever_observed_share"] < 0.5))
    aggregates["unit"] = aggregates["indicator"].map(lambda c: indicators()[c].unit)
    aggregates["year"] = aggregates["year"].astype("int32")
    derived = _named(_derived(aggregates, reps), groups)
    aggregates = _named(aggregates, groups)
    order = keys[:3] + ["group_scheme", "group_code", "group_name", "year", "value", "lower",
                        "upper", "unit", "population_coverage", "coverage_publisher_estimate",
                        "coverage_unflagged", "coverage_imputed", "mostly_imputed",
                        "observed_coverage", "ever_observed_share",
                        "breakdown_mostly_modelled", "n_economies", "n_reported",
                        "classification", "weight_population"]
    return aggregates[order].sort_values(keys).reset_index(drop=True), derived


def _named(frame: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the group's name (the groups table's, from the groups catalog) right after
    group_code; rows and their order unchanged."""
    names = groups[["group_scheme", "group_code", "group_name"]].drop_duplicates()
    named = frame.merge(names, on=["group_scheme", "group_code"], how="left",
                        validate="many_to_one")
    columns = list(frame.columns)
    columns.insert(columns.index("group_code") + 1, "group_name")
    return named[columns]


RATIOS = {
    "gender_parity_score": (("female", "total"), ("male", "total")),
    "urban_rural_ratio": (("total", "urban"), ("total", "rural")),
}


def _derived(aggregates: pd.DataFrame, reps: dict) -> pd.DataFrame:
    """Ratios (female ÷ male, urban ÷ rural) and counts of people with and without."""
    keys = ["group_scheme", "group_code", "year"]
    agg = aggregates.set_index(["indicator", "sex", "location", *keys])
    rows = []
    for code in aggregates["indicator"].unique():
        for measure, (num_key, den_key) in RATIOS.items():
            a, b = reps.get((code, *num_key)), reps.get((code, *den_key))
            if a is None or b is None:
                continue
            frame = a[0]
            ratio = a[1] / b[1]
            value = (agg.loc[(code, *num_key)]["value"].reindex(
                pd.MultiIndex.from_frame(frame)).to_numpy()
                / agg.loc[(code, *den_key)]["value"].reindex(
                pd.MultiIndex.from_frame(frame)).to_numpy())
            lower, upper = np.percentile(ratio, [5, 95], axis=0)
            cov = agg.loc[(code, *num_key)].reindex(pd.MultiIndex.from_frame(frame))
            rows.append(frame.assign(indicator=code, measure=measure, unit="ratio",
                                     sex="total" if measure != "gender_parity_score" else
                                     "female/male", location="total" if measure !=
                                     "urban_rural_ratio" else "urban/rural", value=value,
                                     lower=lower, upper=upper,
                                     population_coverage=cov["population_coverage"].to_numpy(),
                                     classification=cov["classification"].to_numpy()))
        for (c, sex, location), (frame, means, den) in reps.items():
            if c != code:
                continue
            sel = agg.loc[(code, sex, location)].reindex(pd.MultiIndex.from_frame(frame))
            share = sel["value"].to_numpy() / 100
            for measure, factor, rep in (("persons_with", share, means / 100),
                                         ("persons_without", 1 - share, 1 - means / 100)):
                value = factor * den
                lower, upper = np.percentile(rep * den, [5, 95], axis=0)
                rows.append(frame.assign(indicator=code, measure=measure, unit="persons",
                                         sex=sex, location=location, value=value,
                                         lower=lower, upper=upper,
                                         population_coverage=sel["population_coverage"].to_numpy(),
                                         classification=sel["classification"].to_numpy()))
    derived = pd.concat(rows, ignore_index=True)
    derived["year"] = derived["year"].astype("int32")
    return derived[["indicator", "measure", "unit", "sex", "location", *keys, "value", "lower",
                    "upper", "population_coverage", "classification"]]
