"""Estimation: a value, with its uncertainty, for every economy-year an aggregate needs.

Entry point: `estimate_indicator(spec, inputs, params, predictor)`, one indicator at a time,
after the indicator that predicts it, drawing from its own random stream (the same in any
order or process). On the logit scale of the per cent value:
- economies with values: the data model and damped trend of indicators/trend_model.py, its
  parameters estimated by maximum likelihood (a reported value is kept as published; years
  without a value are the smoothed level; `interpolation`, `nowcast`, `backcast`);
- economies never observed: the regression of indicators/never_observed.py (`model`);
- female/male and urban/rural: the economy's gap to its total, measured where a release holds
  both, followed as a slowly moving level (indicators/gaps.py), then both members shifted by
  one logit amount so that their weighted mean equals the total (`breakdown`,
  indicators/raking.py).
Replicates are draws of the whole path from the posterior, each raked like the points; the
90% interval is their 5th-95th percentile.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catalog import Indicator, estimated
from indicators import gaps, trend_model
from indicators.never_observed import model_economies
from indicators.raking import rake, rake_replicates
from indicators.trend_model import expit, logit
from indicators.weights import weight_column

DIMENSIONS = ("sex", "location")  # of a breakdown; its members come from the catalog


# The bands of an economy's last value before the year that the interval calibration tells
# apart: a series before its launch, rising, or saturated errs differently (a launch is a
# jump the trend cannot foresee; a saturated series barely moves).
BANDS = ("last value <= 10", "last value 10-90", "last value >= 90")
BAND_EDGES = (10.0, 90.0)


def band_of(last_value) -> np.ndarray:
    """The band (index into BANDS) of each last value (per cent; NaN: the middle band)."""
    last = np.asarray(last_value, dtype=float)
    return np.where(last <= BAND_EDGES[0], 0, np.where(last >= BAND_EDGES[1], 2, 1))


@dataclass(frozen=True)
class Params:
    last_year: int = 2025
    seed: int = 20251216
    replicates: int = 200
    # per indicator: (code, interval scale of the trend model's estimates in each of BANDS,
    # of the never-observed model's, common share), chosen on the backtest's tuning period
    calibration: tuple[tuple, ...] = ()

    def calibration_of(self, code: str) -> tuple[tuple[float, ...], float, float]:
        """(a scale per band, the never-observed model's scale, the common share)."""
        row = next((rest for c, *rest in self.calibration if c == code), None)
        if row is None:
            return (1.0,) * len(BANDS), 1.0, 0.0
        return tuple(row[:len(BANDS)]), row[len(BANDS)], row[len(BANDS) + 1]


@dataclass
class Inputs:
    """What estimation needs, as plain frames."""

    observations: pd.DataFrame  # every value: indicator, iso3, year, sex, location, value,
    #                             kind, source, release, release_date
    weights: pd.DataFrame        # indicators.weights.build_weights
    covariates: pd.DataFrame     # iso3, income_group (latest), sdg_region


@dataclass
class Result:
    estimates: pd.DataFrame  # one row per indicator, iso3, year, sex, location
    replicates: dict = field(default_factory=dict)  # series key -> (R x n) array of values
    parameters: dict = field(default_factory=dict)  # indicator -> the model's parameters


@dataclass
class IndicatorEstimate:
    """One indicator estimated: its rows of `estimates`, their replicates, its totals on the
    logit scale with their draws (what the indicator it predicts uses), its parameters."""

    code: str
    rows: pd.DataFrame
    replicates: dict
    total: pd.DataFrame          # iso3, year, logit
    total_draws: np.ndarray      # (R, len(total)) logit
    parameters: dict


def _stream(params: Params, *names: str) -> np.random.Generator:
    return np.random.default_rng([params.seed, zlib.crc32("/".join(names).encode())])


def _values(inputs: Inputs, code: str, sex: str = "total", location: str = "total"):
    o = inputs.observations
    return o[(o["indicator"] == code) & (o["sex"] == sex) & (o["location"] == location)]


def grid_of(inputs: Inputs, spec: Indicator, params: Params) -> tuple[list[str], np.ndarray]:
    years = np.arange(spec.estimation["first_year"], params.last_year + 1)
    w = inputs.weights
    economies = sorted(set(w.loc[w["year"].between(years[0], years[-1]), "iso3"]))
    return economies, years


def totals_data(spec: Indicator, inputs: Inputs, params: Params,
                until: int | None = None) -> trend_model.SeriesData:
    """The indicator's total values (up to year `until`) as the trend model's arrays."""
    economies, years = grid_of(inputs, spec, params)
    values = _values(inputs, spec.code)
    values = values[values["year"].between(years[0], until or years[-1])]
    with_values = set(values["iso3"])
    observed = [e for e in economies if e in with_values]
    income = inputs.covariates.set_index("iso3")["income_group"]
    return trend_model.series_data(values, observed, years, income)


def fit_indicator(spec: Indicator, inputs: Inputs, params: Params,
                  first_guess: trend_model.Parameters | None = None) -> trend_model.Parameters:
    """The trend model's maximum-likelihood parameters, from the values `inputs` hold."""
    return trend_model.fit(totals_data(spec, inputs, params), first_guess)


def estimate_indicator(spec: Indicator, inputs: Inputs, params: Params,
                       predictor: IndicatorEstimate | None,
                       fitted: trend_model.Parameters,
                       breakdowns: bool = True) -> IndicatorEstimate:
    """The totals and (with `breakdowns`) the breakdowns of one indicator with their
    replicates; `fitted`: the trend model's parameters (`fit_indicator`)."""
    economies, years = grid_of(inputs, spec, params)
    total, draws, info = estimate_totals(spec, inputs, params, economies, years, predictor,
                                         fitted)
    rows = [_rows(spec.code, "total", "total", total, expit(draws))]
    replicates = {(spec.code, "total", "total"): expit(draws)}
    for dimension in DIMENSIONS if breakdowns else ():
        members = spec.members(dimension)
        if len(members) == 2:
            frames, reps = breakdown(spec, inputs, params, dimension, members, total, draws)
            for member, frame in zip(members, frames):
                sex, location = _member(dimension, member)
                rows.append(_rows(spec.code, sex, location, frame, reps[member]))
                replicates[(spec.code, sex, location)] = reps[member]
    return IndicatorEstimate(spec.code, pd.concat(rows, ignore_index=True), replicates,
                             total[["iso3", "year", "logit"]], draws,
                             {**fitted.__dict__, **info})


def estimate_totals(spec, inputs, params, economies, years, predictor, fitted):
    """Rows (iso3, year, logit, value, kind, method, horizon, release, ever_observed) for the
    whole grid and their draws (R, n)."""
    data = totals_data(spec, inputs, params)
    observed = data.economies
    values = _values(inputs, spec.code)
    est = trend_model.estimate(data, fitted, _stream(params, spec.code, "total"),
                               params.replicates)
    grid = pd.DataFrame({"iso3": np.repeat(observed, len(years)),
                         "year": np.tile(years, len(observed))})
    frame = grid.assign(
        logit=est.point.T.ravel(), method=est.method.T.ravel(), kind=est.kind.T.ravel(),
        horizon=est.horizon.T.ravel(), release=est.release.T.ravel(), ever_observed=True)
    draws = est.draws.transpose(0, 2, 1).reshape(params.replicates, -1)
    observed_set = set(observed)
    never = [e for e in economies if e not in observed_set]
    if never:
        model_frame, model_draws = model_economies(
            inputs.covariates, never, years, frame, draws, predictor,
            _stream(params, spec.code, "model"), params.replicates)
        frame = pd.concat([frame, model_frame], ignore_index=True)
        draws = np.concatenate([draws, model_draws], axis=1)
    order = frame.sort_values(["iso3", "year"]).index.to_numpy()
    frame, draws = frame.loc[order].reset_index(drop=True), draws[:, order]
    by_band, model_scale, share = params.calibration_of(spec.code)
    band = band_of(last_value_before(values, frame))
    scales = np.where(frame["method"].to_numpy() == "model", model_scale,
                      np.asarray(by_band)[band])
    draws = calibrated(draws, frame, scales, share, _stream(params, spec.code, "common"))
    frame["value"] = _published(frame, values, draws)
    # a value kept as published is the centre of its draws, even beyond the model's clip
    kept = frame["method"].to_numpy() == "observed"
    draws[:, kept] += logit(frame["value"].to_numpy()[kept]) - frame["logit"].to_numpy()[kept]
    return frame, draws, {"interval_scale": by_band, "model_interval_scale": model_scale,
                          "common_share": share, "never_observed": len(never),
                          "revised": int(data.revised.sum())}


def last_value_before(values: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Per row of `frame` (iso3, year): the economy's latest value (newest release of its
    year) of a year before the row's, else its first value; NaN for an economy without any."""
    newest = trend_model.newest_values(values)[["iso3", "year", "value"]]
    newest = newest.astype({"iso3": object, "year": "int64"}).sort_values("year")
    rows = frame[["iso3", "year"]].astype({"iso3": object, "year": "int64"}).assign(
        _row=np.arange(len(frame)))
    before = pd.merge_asof(rows.sort_values("year"), newest, on="year", by="iso3",
                           allow_exact_matches=False).sort_values("_row")
    first = newest.sort_values(["iso3", "year"]).groupby("iso3")["value"].first()
    out = before["value"].to_numpy(dtype=float, copy=True)
    missing = np.isnan(out)
    out[missing] = frame["iso3"].iloc[missing].map(first).to_numpy(dtype=float)
    return out


def calibrated(draws: np.ndarray, frame: pd.DataFrame, scale: np.ndarray, share: float,
               rng: np.random.Generator) -> np.ndarray:
    """The draws of the estimated (not observed) cells, their spread around the centre
    multiplied by `scale` (per cell), and `share` of their variance made common to every
    economy and year in a draw: errors of estimates made the same way tend to go the same
    way (a world-wide surprise), which independent draws would average away in a group."""
    if (scale == 1.0).all() and share == 0.0:
        return draws
    estimated_ = frame["method"].to_numpy() != "observed"
    centre = np.median(draws, axis=0)
    deviation = draws - centre
    spread = deviation.std(axis=0)
    common = rng.standard_normal((draws.shape[0], 1)) * spread[None]
    mixed = np.sqrt(1 - share) * deviation + np.sqrt(share) * common
    return np.where(estimated_[None], centre + scale[None] * mixed, draws)


def _published(frame: pd.DataFrame, values: pd.DataFrame, draws: np.ndarray) -> np.ndarray:
    """The point on the per cent scale: a value kept as published where the year's value is
    the economy's own (method observed), else the centre of its predictive distribution: its
    mean, so that a group's figure (the weighted mean of its economies' values) is the mean
    of the group's own replicates and lies within their interval (a sum of medians does not
    where draws are skewed near 0 or 100: world 2G, 2025, 97.75 against 95.44-97.72, in a
    reproduction of the edition); its median where the mean falls outside the draws' 5-95%
    range (draws piled at 0 or 100: the mean 0.002, the range 0-0)."""
    exact = values.drop_duplicates(["iso3", "year", "release"], keep="last").set_index(
        ["iso3", "year", "release"])["value"]
    key = pd.MultiIndex.from_frame(frame[["iso3", "year", "release"]])
    kept = exact.reindex(key).to_numpy()
    per_cent = expit(draws)
    mean = per_cent.mean(axis=0)
    lower, median, upper = np.percentile(per_cent, [5, 50, 95], axis=0)
    centre = np.where((mean >= lower) & (mean <= upper), mean, median)
    return np.where(frame["method"].to_numpy() == "observed", kept, centre)


# ---------------------------------------------------------------- breakdowns
def breakdown(spec, inputs, params, dimension, members, total, total_draws):
    """Both members of one breakdown, raked to the total in the point and in every draw."""
    keys = total[["iso3", "year"]]
    w = inputs.weights.set_index(["iso3", "year"]).reindex(pd.MultiIndex.from_frame(keys))
    weights = np.stack([w[weight_column(spec.weight, *_member(dimension, m))].to_numpy()
                        for m in members], axis=-1)
    total_values = _values(inputs, spec.code)
    frames, logits, fixed, gap_draws = [], [], [], []
    for member in members:
        sex, location = _member(dimension, member)
        member_values = _values(inputs, spec.code, sex, location)
        frame, draws = gaps.estimate(member_values, total_values, keys, inputs.covariates,
                                     _stream(params, spec.code, dimension, member),
                                     params.replicates)
        # a member value of the release the total's point comes from is kept as published
        same = frame["release"].to_numpy() == total["release"].to_numpy()
        keep = same & total["method"].eq("observed").to_numpy() & frame["observed"].to_numpy()
        own = np.where(keep, logit(frame["value"].fillna(50)),
                       total["logit"].to_numpy() + frame["gap"].to_numpy())
        frames.append(frame)
        logits.append(own)
        fixed.append(keep)
        gap_draws.append(draws)
    logits, fixed = np.stack(logits, axis=-1), np.stack(fixed, axis=-1)
    both = fixed.all(axis=-1, keepdims=True)
    free = ~fixed | both
    total_point = total["value"].to_numpy()
    point = rake(total_point, logits, weights, free)
    raked = rake_replicates(total_draws, total_draws[..., None] + np.stack(gap_draws, axis=-1),
                            weights)
    del gap_draws
    rep_logits = logit(raked)
    del raked
    # each member's draws centred on its point (raking moves the draws' centre a little)
    centre = np.median(rep_logits, axis=0)
    rep_logits += logit(point)[None]
    rep_logits -= centre[None]
    reps = expit(rep_logits)
    out_frames, out_reps = [], {}
    for k, member in enumerate(members):
        f = frames[k]
        method = np.where(fixed[:, k] & ~both[:, 0], "observed",
                          np.where(fixed[:, k], "raked", "breakdown"))
        out_frames.append(pd.DataFrame({
            "iso3": keys["iso3"].to_numpy(), "year": keys["year"].to_numpy(),
            "logit": logit(point[:, k]), "value": point[:, k], "method": method,
            "kind": np.where(f["observed"], f["kind"], "imputed"),
            "horizon": f["horizon"].to_numpy(), "release": f["release"].to_numpy(),
            "ever_observed": f["ever_observed"].to_numpy()}))
        out_reps[member] = reps[:, :, k]
    return out_frames, out_reps


# ---------------------------------------------------------------- rows
def combine(parts: list[IndicatorEstimate]) -> Result:
    """One result from every indicator's, in catalog estimation order (so that sums over
    the rows are the same whichever order the indicators were computed in)."""
    order = {spec.code: i for i, spec in enumerate(estimated())}
    parts = sorted(parts, key=lambda p: order[p.code])
    replicates = {k: v for p in parts for k, v in p.replicates.items()}
    return Result(pd.concat([p.rows for p in parts], ignore_index=True), replicates,
                  {p.code: p.parameters for p in parts})


def _member(dimension: str, member: str) -> tuple[str, str]:
    """(sex, location) of one member of a breakdown."""
    return (member, "total") if dimension == "sex" else ("total", member)


REASONS = {
    "observed": "value of {release}, as published",
    "release_adjusted": "value of {release}, moved to the level of the economy's newest "
                        "release",
    "interpolation": "between the economy's values, {horizon} year(s) from the nearest",
    "nowcast": "the economy's damped trend, {horizon} year(s) after its last value",
    "backcast": "the economy's trend, {horizon} year(s) before its first value",
    "model": "no value: the regression on income group, region, year and predictor",
    "breakdown": "the total plus the economy's gap{gap_source}, raked to the total",
    "raked": "values of {release}, shifted together to meet the total",
}


def _rows(code, sex, location, frame, reps) -> pd.DataFrame:
    lower, upper = np.percentile(reps, [5, 95], axis=0)
    reason = [REASONS[m].format(release=r or "no release", horizon=h,
                                gap_source=f" (measured in {r})" if r else " (modelled)")
              for m, r, h in zip(frame["method"], frame["release"], frame["horizon"])]
    return pd.DataFrame({
        "indicator": code, "iso3": frame["iso3"].to_numpy(), "year": frame["year"].to_numpy(),
        "sex": sex, "location": location, "value": frame["value"].to_numpy(dtype=float),
        "lower": lower, "upper": upper, "status": frame["kind"].to_numpy(),
        "method": frame["method"].to_numpy(), "horizon": frame["horizon"].to_numpy(),
        "release": frame["release"].to_numpy(), "reason": reason,
        "ever_observed": frame["ever_observed"].to_numpy(dtype=bool),
    })
