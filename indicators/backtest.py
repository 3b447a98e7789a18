"""A pseudo-real-time backtest: hide what was not known at a cut-off year, estimate, and
hold the estimates against what the data later said.

For every cut-off T (2012-2021) only values of reference years up to T are kept; every
indicator is estimated from them as a run would (`run_cutoff`, one task per cut-off) and its
estimates for T+1 … T+4 are compared (`evaluate`):
- country level: with the values later *reported* as national data (the kind a flagging
  source gives; a publisher's estimate is not a truth to score against);
- group level (world, income groups, LDC/LLDC/SIDS, SDG regions): with the aggregate the
  full data give, for group-years whose full-data reported coverage is at least 60%.
The model's parameters are refitted every three cut-offs, on the values known at the first
of them (`FIT_CUTOFFS`: 2012, 2015, 2018), as a producer re-estimates a model every few years:
no cut-off uses anything later than what it keeps. Two baselines are scored beside: the last value carried forward, and a straight line through the last five values.
Cut-offs up to 2017 are the tuning period (where the interval calibration is chosen);
2018-2021 the evaluation period, whose numbers the README reports.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from catalog import estimated, indicators
from indicators.aggregate import aggregate
from indicators.estimate import BANDS, Inputs, Params, band_of, combine, estimate_indicator
from indicators.trend_model import KINDS, Parameters, logit, newest_values
from indicators.weights import weight_column

CUTOFFS = tuple(range(2012, 2022))
LAST_TUNING_CUTOFF = 2017   # cut-offs up to it tune the calibration; later ones score it
# the calibration is taken from the last three tuning cut-offs (2015-2017): errors of the early
# cut-offs (4G roll-out, 2012-2014) are several times those of later years, and a forecaster
# calibrates on recent experience
CALIBRATION_CUTOFFS = 3
FIT_CUTOFFS = (2012, 2015, 2018)   # the parameters of cut-off T: fitted on values up to
#                                    the latest of these not after T
HORIZONS = (1, 2, 3, 4)
GROUP_COVERAGE = 0.6
ALPHA = 0.10           # 90% intervals
TREND_POINTS = 5


def truncated(inputs: Inputs, cutoff: int) -> Inputs:
    o = inputs.observations
    return replace(inputs, observations=o[o["year"] <= cutoff])


def testable(inputs: Inputs, until: int = LAST_TUNING_CUTOFF) -> list:
    """The indicators (catalog estimation order) with values up to `until`: those the
    backtest can fit there (by the last tuning cut-off: those it can tune and score)."""
    o = inputs.observations
    known = set(o.loc[o["year"] <= until, "indicator"])
    return [spec for spec in estimated() if spec.code in known]


def fitted_at(cutoff: int) -> int:
    """The fit a cut-off's estimates use: the latest of FIT_CUTOFFS not after it."""
    return max(f for f in FIT_CUTOFFS if f <= cutoff)


def run_cutoff(inputs: Inputs, groups: pd.DataFrame, params: Params, cutoff: int,
               parameters: dict[str, Parameters]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Country and group estimates of the totals (what is scored: breakdowns are not
    estimated) for the years after `cutoff`, made from the values known by then with the
    model's `parameters` (fitted at `fitted_at(cutoff)`), with the two baselines beside
    them."""
    known = truncated(inputs, cutoff)
    parts = {}
    for spec in estimated():
        if spec.code not in parameters or spec.estimation["first_year"] >= cutoff:
            continue   # not backtested, or not two years of values yet
        parts[spec.code] = estimate_indicator(spec, known, params, parts.get(spec.predictor),
                                              parameters[spec.code], breakdowns=False)
    result = combine(list(parts.values()))
    total, keep = result.estimates, result.replicates
    spread = _spread(total, keep)
    ahead = total["year"].between(cutoff + 1, cutoff + max(HORIZONS)).to_numpy()
    country = total[ahead][["indicator", "iso3", "year", "value", "lower", "upper",
                            "ever_observed"]].assign(
        **{k: spread[k][ahead] for k in ("centre_logit", "sd_logit", "lo_logit", "hi_logit")})
    baselines = _country_baselines(known, cutoff)
    country = country.merge(baselines, on=["indicator", "iso3", "year"], how="left")
    # the calibration band of every row: of the economy's last value by the cut-off
    carry = baselines.drop_duplicates(["indicator", "iso3"]).set_index(
        ["indicator", "iso3"])["carry"].reindex(
        pd.MultiIndex.from_frame(total[["indicator", "iso3"]])).to_numpy()
    component = np.where(total["ever_observed"].to_numpy(), band_of(carry), len(BANDS))
    aggregates, _ = aggregate(total, keep, inputs.weights, groups)
    group = aggregates[aggregates["year"] <= cutoff + max(HORIZONS)]
    group = group[["indicator", "group_scheme", "group_code", "year", "value", "lower",
                   "upper"]].merge(_group_spread(total, spread, component, inputs.weights,
                                                 groups),
                                   on=["indicator", "group_scheme", "group_code", "year"])
    group = _group_baselines(group, cutoff)
    for frame in (country, group):
        frame["cutoff"] = cutoff
        frame["horizon"] = frame["year"] - cutoff
    return country, group[group["horizon"] >= 1]


def _spread(total: pd.DataFrame, replicates: dict) -> dict[str, np.ndarray]:
    """Per row of `total` (in its order): the median, spread and 5th and 95th percentiles
    of its draws on the logit scale, and their spread on the per cent scale."""
    keys = ("centre_logit", "sd_logit", "lo_logit", "hi_logit", "sd_pp")
    out = {k: np.empty(len(total)) for k in keys}
    for code, rows in total.groupby("indicator", sort=False).indices.items():
        reps = replicates[(code, "total", "total")]
        logits = logit(reps)
        lo, centre, hi = np.percentile(logits, [100 * ALPHA / 2, 50, 100 - 100 * ALPHA / 2],
                                       axis=0)
        out["centre_logit"][rows], out["lo_logit"][rows], out["hi_logit"][rows] = centre, lo, hi
        out["sd_logit"][rows] = logits.std(axis=0)
        out["sd_pp"][rows] = reps.std(axis=0)
    return out


def _group_spread(total, spread, component, weights, groups) -> pd.DataFrame:
    """Per group-year and calibration component (`component` of each row of `total`: its
    band, or len(BANDS) for never-observed economies), the parts of the variance its figure
    has: `independent_k` (the economies' errors independent: A_k = sum of w^2 sd^2 / W^2)
    and `together_k` (their errors all going together: S_k = sum of w sd / W). With a scale
    c_k per component and a common share rho of the errors the variance is
    (1 - rho) sum c_k^2 A_k + rho (sum c_k S_k)^2."""
    frame = total[["indicator", "iso3", "year"]].assign(sd=spread["sd_pp"],
                                                        component=component)
    w = weights.set_index(["iso3", "year"])
    frame["w"] = np.nan
    for code, rows in frame.groupby("indicator", sort=False).indices.items():
        keys = pd.MultiIndex.from_frame(frame.iloc[rows][["iso3", "year"]])
        frame.iloc[rows, frame.columns.get_loc("w")] = \
            w[weight_column(indicators()[code].weight)].reindex(keys).to_numpy()
    frame = frame.merge(groups[["iso3", "year", "group_scheme", "group_code"]],
                        on=["iso3", "year"])
    keys = ["indicator", "group_scheme", "group_code", "year"]
    total_w = frame.groupby(keys)["w"].sum()
    frame["wv"], frame["ws"] = frame["w"] ** 2 * frame["sd"] ** 2, frame["w"] * frame["sd"]
    sums = frame.groupby([*keys, "component"])[["wv", "ws"]].sum().unstack(
        "component", fill_value=0.0).reindex(total_w.index, fill_value=0.0)
    out = pd.DataFrame(index=total_w.index)
    for k in range(len(BANDS) + 1):
        wv = sums["wv"].get(k, 0.0)   # a component no economy of the group is in
        ws = sums["ws"].get(k, 0.0)
        out[f"independent_{k}"] = wv / total_w ** 2
        out[f"together_{k}"] = ws / total_w
    return out.reset_index()


def _country_baselines(known: Inputs, cutoff: int) -> pd.DataFrame:
    """Per indicator, economy and year ahead: the last value known at the cut-off (`carry`)
    and the straight line through the last five (`trend_value`; newest release of each
    year)."""
    o = known.observations
    o = o[(o["sex"] == "total") & (o["location"] == "total")]
    o = newest_values(o, ["indicator", "iso3", "year"])
    o = o.sort_values(["indicator", "iso3", "year"])
    last = o.groupby(["indicator", "iso3"], sort=False).tail(TREND_POINTS)
    line = _lines(last)
    ahead = pd.DataFrame({"year": np.arange(cutoff + 1, cutoff + max(HORIZONS) + 1)})
    out = line.merge(ahead, how="cross")
    out["trend_value"] = np.clip(out["intercept"] + out["slope"] * out["year"], 0, 100)
    return out[["indicator", "iso3", "year", "carry", "trend_value"]]


def _lines(points: pd.DataFrame, keys=("indicator", "iso3")) -> pd.DataFrame:
    """Per key: the least-squares line through its points (year, value) and its last value
    (`carry`); a key with one point keeps that value (slope 0)."""
    keys = list(keys)
    g = points.assign(x=points["year"].astype(float), xy=points["year"] * points["value"],
                      xx=points["year"].astype(float) ** 2).groupby(keys, sort=False)
    s = g.agg(n=("x", "size"), sx=("x", "sum"), sy=("value", "sum"), sxy=("xy", "sum"),
              sxx=("xx", "sum"), carry=("value", "last")).reset_index()
    denominator = s["n"] * s["sxx"] - s["sx"] ** 2
    slope = np.where(denominator > 0, (s["n"] * s["sxy"] - s["sx"] * s["sy"])
                     / np.where(denominator > 0, denominator, 1), 0.0)
    s["slope"] = slope
    s["intercept"] = (s["sy"] - slope * s["sx"]) / s["n"]
    return s[[*keys, "carry", "slope", "intercept"]]


def _group_baselines(group: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    keys = ["indicator", "group_scheme", "group_code"]
    past = group[group["year"] <= cutoff].sort_values([*keys, "year"])
    line = _lines(past.groupby(keys, sort=False).tail(TREND_POINTS), keys)
    ahead = group[group["year"] > cutoff].merge(line, on=keys)
    ahead["trend_value"] = np.clip(ahead["intercept"] + ahead["slope"] * ahead["year"], 0, 100)
    return ahead.drop(columns=["slope", "intercept"])


def country_truth(inputs: Inputs) -> pd.DataFrame:
    """indicator, iso3, year, truth: the newest reported value of each economy-year."""
    o = inputs.observations
    o = o[(o["sex"] == "total") & (o["location"] == "total") & (o["kind"] == "reported")]
    o = newest_values(o, ["indicator", "iso3", "year"])
    return o[["indicator", "iso3", "year", "value"]].rename(columns={"value": "truth"})


def group_truth(aggregates: pd.DataFrame) -> pd.DataFrame:
    """The full-data aggregates of group-years with enough reported coverage."""
    a = aggregates[(aggregates["sex"] == "total") & (aggregates["location"] == "total")
                   & (aggregates["population_coverage"] >= GROUP_COVERAGE)]
    return a[["indicator", "group_scheme", "group_code", "year", "value"]].rename(
        columns={"value": "truth"})


def interval_score(lower, upper, truth, alpha: float = ALPHA) -> np.ndarray:
    """Width, plus 2/alpha times how far the truth falls outside (Gneiting & Raftery)."""
    return ((upper - lower) + (2 / alpha) * np.clip(lower - truth, 0, None)
            + (2 / alpha) * np.clip(truth - upper, 0, None))


def evaluate(country: pd.DataFrame, group: pd.DataFrame, truth_country: pd.DataFrame,
             truth_group: pd.DataFrame) -> pd.DataFrame:
    """The `backtest` table: per indicator, level, period and horizon (and 1-3 pooled)."""
    c = country.merge(truth_country, on=["indicator", "iso3", "year"])
    g = group.merge(truth_group, on=["indicator", "group_scheme", "group_code", "year"])
    # an economy with a value by the cut-off (scored against the baselines) or without one
    # (the never-observed model, which no baseline can forecast)
    c = c.assign(level=np.where(c["ever_observed"], "country", "country_modelled"))
    rows = []
    levels = [(level, part) for level, part in c.groupby("level")] + [("group", g)]
    for level, frame in levels:
        frame = frame.assign(period=np.where(frame["cutoff"] <= LAST_TUNING_CUTOFF,
                                             "tuning", "evaluation"))
        for (code, period), part in frame.groupby(["indicator", "period"]):
            subsets = [(str(h), part[part["horizon"] == h]) for h in HORIZONS]
            subsets.append(("1-3", part[part["horizon"] <= 3]))
            for horizon, s in subsets:
                if s.empty:
                    continue
                error = s["value"] - s["truth"]
                rows.append({
                    "indicator": code, "level": level, "period": period, "horizon": horizon,
                    "n": len(s), "bias_pp": float(error.mean()),
                    "mae_pp": float(error.abs().mean()),
                    "mae_carry_forward_pp": float((s["carry"] - s["truth"]).abs().mean()),
                    "mae_linear_trend_pp": float((s["trend_value"] - s["truth"]).abs().mean()),
                    "coverage90": float(((s["truth"] >= s["lower"])
                                         & (s["truth"] <= s["upper"])).mean()),
                    "interval_score": float(interval_score(
                        s["lower"].to_numpy(), s["upper"].to_numpy(),
                        s["truth"].to_numpy()).mean()),
                    "mean_width_pp": float((s["upper"] - s["lower"]).mean()),
                })
    return pd.DataFrame(rows)


Z90 = 1.6449
# a scale is the 90% quantile of the values it is measured on: from fewer than 50 it would rest
# on its two or three largest (20 values gave Internet use's near-0 band x2.43 and 3G's x5.0,
# whose skewed draws put a past edition's urban/rural ratio outside its own interval)
MIN_CALIBRATION_VALUES = 50


def tune(country: pd.DataFrame, group: pd.DataFrame, truth_country: pd.DataFrame,
         truth_group: pd.DataFrame) -> tuple[tuple, ...]:
    """Per indicator, on the last CALIBRATION_CUTOFFS tuning cut-offs at horizons 1-3: the
    interval scales that put 90% of held-out country values inside their intervals, one per
    band of the economy's last value (BANDS) and one for the never-observed model, then the
    common share of errors that does the same for group figures. A row: (code, the band
    scales…, the never-observed scale, the common share)."""
    recent = LAST_TUNING_CUTOFF - CALIBRATION_CUTOFFS
    c = country[country["cutoff"].between(recent + 1, LAST_TUNING_CUTOFF)].merge(
        truth_country, on=["indicator", "iso3", "year"])
    c = c[(c["horizon"] <= 3) & (c["sd_logit"] > 0)]
    c = c.assign(band=band_of(c["carry"]))
    g = group[group["cutoff"].between(recent + 1, LAST_TUNING_CUTOFF)].merge(
        truth_group, on=["indicator", "group_scheme", "group_code", "year"])
    out = []
    for spec in estimated():
        mine = c[c["indicator"] == spec.code]
        observed = mine[mine["ever_observed"]]
        pooled = _scale(observed, 1.0)
        scales = [_scale(observed[observed["band"] == b], pooled) for b in range(len(BANDS))]
        scales.append(_scale(mine[~mine["ever_observed"]], pooled))   # never observed
        groups_ = g[(g["indicator"] == spec.code) & (g["horizon"] <= 3)]
        share = 0.0
        if len(groups_) >= 10:
            miss = np.abs(groups_["truth"] - groups_["value"]).to_numpy()
            independent = sum(k ** 2 * groups_[f"independent_{i}"].to_numpy()
                              for i, k in enumerate(scales))
            together = sum(k * groups_[f"together_{i}"].to_numpy()
                           for i, k in enumerate(scales)) ** 2
            for share in np.linspace(0, 0.9, 19):
                var = (1 - share) * independent + share * together
                if np.mean(miss <= Z90 * np.sqrt(var)) >= 0.9:
                    break
        out.append((spec.code, *(round(k, 3) for k in scales), round(float(share), 3)))
    return tuple(out)


def _scale(rows: pd.DataFrame, otherwise: float) -> float:
    """The factor on the draws' spread around their median that puts 90% of `rows`' truths
    inside their intervals (at least MIN_CALIBRATION_VALUES rows; else `otherwise`). The
    draws' own 5th and 95th percentiles, not a normal approximation: a draw's spread is
    heavy-tailed where levels may jump, and scaling the deviations by c moves each
    percentile c times as far."""
    if len(rows) < MIN_CALIBRATION_VALUES:
        return otherwise
    x, centre = logit(rows["truth"]), rows["centre_logit"].to_numpy()
    reach = np.where(x >= centre, rows["hi_logit"].to_numpy() - centre,
                     centre - rows["lo_logit"].to_numpy())
    miss = np.abs(x - centre)
    need = np.divide(miss, reach, out=np.where(miss > 0, 1e9, 0.0), where=reach > 0)
    return float(np.clip(np.quantile(need, 0.9), 0.5, 5.0))


def truths(prepared, full) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the cut-offs are scored against: reported country values, and the aggregates of
    an estimate of the totals from all the data."""
    aggregates, _ = aggregate(full.estimates, full.replicates, prepared.inputs.weights,
                              prepared.groups)
    return country_truth(prepared.inputs), group_truth(aggregates)


def stack(runs):
    return (pd.concat([c for c, _ in runs], ignore_index=True),
            pd.concat([g for _, g in runs], ignore_index=True))


BACKTEST_REPLICATES = 100
CALIBRATION = ("model_interval_scale", "common_share")   # beside interval_scale per band
SCALAR_PARAMETERS = ("q_level", "q_slope", "phi", "saturation")


def result_tables(parameters: dict[str, Parameters], calibration: tuple,
                  table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The backtest's products as tables (published, and kept in the stage cache)."""
    rows = []
    for code, p in parameters.items():
        for name in SCALAR_PARAMETERS:
            rows.append((code, name, "", getattr(p, name)))
        for kind, sd in zip(KINDS, p.error_sd):
            rows.append((code, "error_sd", kind, sd))
        for release, sd in p.offset_sd.items():
            rows.append((code, "offset_sd", release, sd))
    scale = []
    for code, *values in calibration:
        scale += [(code, "interval_scale", band, k) for band, k in zip(BANDS, values)]
        scale += [(code, name, "", k) for name, k in zip(CALIBRATION, values[len(BANDS):])]
    return {"backtest": table,
            "estimation_parameters": pd.DataFrame(
                rows + scale, columns=["indicator", "parameter", "qualifier", "value"])}


def with_provenance(parameters: pd.DataFrame, same_sources: bool) -> pd.DataFrame:
    """estimation_parameters with, per indicator, whether its backtest (and so its fitted
    parameters and calibration) was run on the publication's own sources (1) or on earlier
    ones (0: the latest yearly backtest)."""
    kept = parameters[parameters["parameter"] != "backtest_on_these_sources"]
    rows = pd.DataFrame({"indicator": kept["indicator"].unique(),
                         "parameter": "backtest_on_these_sources", "qualifier": "",
                         "value": float(same_sources)})
    return pd.concat([kept, rows], ignore_index=True)


def result_from_tables(tables: dict[str, pd.DataFrame]
                       ) -> tuple[dict[str, Parameters], tuple]:
    p = tables["estimation_parameters"]
    parameters, calibration = {}, []
    for code, rows in p.groupby("indicator", sort=False):
        v = {(r.parameter, r.qualifier): float(r.value) for r in rows.itertuples()}
        parameters[code] = Parameters(
            **{name: v[(name, "")] for name in SCALAR_PARAMETERS},
            error_sd=tuple(v[("error_sd", k)] for k in KINDS),
            offset_sd={q: x for (name, q), x in v.items() if name == "offset_sd"})
        calibration.append((code, *(v[("interval_scale", band)] for band in BANDS),
                            *(v[(name, "")] for name in CALIBRATION)))
    return parameters, tuple(calibration)
