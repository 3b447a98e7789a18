"""Estimation: a value, with its uncertainty, for every economy-year an aggregate needs.

Entry point: `estimate_indicator(spec, inputs, params, predictor)`, one indicator at a time,
after the indicator that predicts it, drawing from its own random stream (the same in any
order or process). On the logit scale of the per cent value:
- economies with values: the data model and damped trend of indicators/trend_model.py, its
  parameters estimated by maximum likelihood (a reported value is kept as published; years
  without a value are the smoothed level; `interpolation`, `nowcast`, `backcast`);
- economies never observed: a regression, fitted on the estimated series of the observed
  economies in every year, on income group, SDG region, year and the predicting indicator
  (`model`): its year effects exist for every year, so it follows the observed economies'
  nowcasts after the last data year;
- female/male and urban/rural: the economy's gap to its total, measured where a release holds
  both, followed as a slowly moving level (indicators/gaps.py), then both members shifted by
  one logit amount so that their weighted mean equals the total (`breakdown`).
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
from indicators.trend_model import SQUEEZE, expit, logit, sigmoid
from indicators.weights import weight_column

DIMENSIONS = ("sex", "location")  # of a breakdown; its members come from the catalog
CV_FOLDS = 5


@dataclass(frozen=True)
class Params:
    last_year: int = 2025
    seed: int = 20251216
    replicates: int = 200
    # per indicator: (code, interval scale of the trend model's estimates, of the
    # never-observed model's, common share), chosen on the backtest's tuning period
    calibration: tuple[tuple[str, float, float, float], ...] = ()

    def calibration_of(self, code: str) -> tuple[float, float, float]:
        return next((tuple(rest) for c, *rest in self.calibration if c == code),
                    (1.0, 1.0, 0.0))


@dataclass
class Inputs:
    """What estimation needs, as plain frames."""

    observations: pd.DataFrame  # every value: indicator, iso3, year, sex, location, value,
    #                             kind, source, release, release_date
    weights: pd.DataFrame        # indicators.weights.build_weights
    covariates: pd.DataFrame     # iso3, income_group (latest), sdg_region


# Replicates raked at a time: the working arrays of a breakdown's raking stay ~30 MB
# instead of ~300 MB with 200 replicates (the results are the same: each row is its own).
RAKE_CHUNK = 25


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
        model_frame, model_draws = model_economies(spec, inputs, params, never, years, frame,
                                                   draws, predictor)
        frame = pd.concat([frame, model_frame], ignore_index=True)
        draws = np.concatenate([draws, model_draws], axis=1)
    order = frame.sort_values(["iso3", "year"]).index.to_numpy()
    frame, draws = frame.loc[order].reset_index(drop=True), draws[:, order]
    scale, model_scale, share = params.calibration_of(spec.code)
    scales = np.where(frame["method"].to_numpy() == "model", model_scale, scale)
    draws = calibrated(draws, frame, scales, share, _stream(params, spec.code, "common"))
    frame["value"] = _published(frame, values, draws)
    # a value kept as published is the centre of its draws, even beyond the model's clip
    kept = frame["method"].to_numpy() == "observed"
    draws[:, kept] += logit(frame["value"].to_numpy()[kept]) - frame["logit"].to_numpy()[kept]
    return frame, draws, {"interval_scale": scale, "model_interval_scale": model_scale,
                          "common_share": share,
                                  "never_observed": len(never),
                                  "revised": int(data.revised.sum())}


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


def model_economies(spec, inputs, params, never, years, frame, draws, predictor):
    """Economies without any value: a regression on income group, SDG region, year and the
    predicting indicator, fitted on the observed economies' estimated series (their points,
    and every replicate's draws so that the year effects carry the nowcasts' uncertainty),
    plus a lasting economy effect whose spread is measured by leaving economies out."""
    cov = inputs.covariates.set_index("iso3")
    train = frame[["iso3", "year"]]
    target = pd.DataFrame({"iso3": np.repeat(never, len(years)),
                           "year": np.tile(years, len(never))})
    train_pred, target_pred, pred_draws = _predictor_values(predictor, train, target)
    x_train = _design(train, cov, train_pred)
    x_new = _design(target, cov, target_pred, columns=x_train.columns)
    a = x_train.to_numpy()
    gram = a.T @ a + 1e-6 * np.eye(a.shape[1])
    coef = np.linalg.solve(gram, a.T @ frame["logit"].to_numpy())
    coef_draws = np.linalg.solve(gram, a.T @ draws.T)              # (k, R)
    spread = _left_out_spread(frame, a)
    rng = _stream(params, spec.code, "model")
    lasting = rng.standard_normal((params.replicates, len(never))) * spread
    point = x_new.to_numpy() @ coef
    if pred_draws is not None:
        b = x_new.to_numpy()
        k = list(x_new.columns).index("predictor")
        out = np.empty((params.replicates, len(target)))
        for r in range(params.replicates):
            b[:, k] = pred_draws[r]
            out[r] = b @ coef_draws[:, r]
    else:
        out = (x_new.to_numpy() @ coef_draws).T
    out += np.repeat(lasting, len(years), axis=1)
    model_frame = target.assign(logit=point, method="model", kind="imputed", horizon=0,
                                release="", ever_observed=False)
    return model_frame, out


def _predictor_values(predictor, train, target):
    """The predicting indicator's logits for the training and target rows, and its draws
    for the target rows (its mean where it has no estimate)."""
    if predictor is None:
        return None, None, None
    p = predictor.total.set_index(["iso3", "year"])
    pos = pd.Series(np.arange(len(p)), index=p.index)

    def take(frame):
        idx = pos.reindex(pd.MultiIndex.from_frame(frame[["iso3", "year"]])).to_numpy()
        missing = np.isnan(idx)
        idx = np.where(missing, 0, idx).astype(int)
        point = np.where(missing, p["logit"].mean(), p["logit"].to_numpy()[idx])
        return point, np.where(missing[None], point[None], predictor.total_draws[:, idx])

    train_point, _ = take(train)
    target_point, target_draws = take(target)
    return train_point, target_point, target_draws


def _design(frame: pd.DataFrame, cov: pd.DataFrame, predictor: np.ndarray | None,
            columns=None) -> pd.DataFrame:
    c = cov.reindex(frame["iso3"].to_numpy())
    parts = {"inc": c["income_group"].fillna("unknown").to_numpy(),
             "reg": c["sdg_region"].fillna("unknown").astype(str).to_numpy(),
             "y": frame["year"].astype(int).astype(str).to_numpy()}
    blocks = [pd.get_dummies(pd.Series(v), prefix=k, dtype=float) for k, v in parts.items()]
    x = pd.concat(blocks, axis=1)
    if predictor is not None:
        x["predictor"] = predictor
    return x if columns is None else x.reindex(columns=columns, fill_value=0.0)


def _left_out_spread(frame: pd.DataFrame, a: np.ndarray) -> float:
    """Spread of an economy's lasting difference from the regression: the residual standard
    deviation when its economy was left out of the fit (five folds of economies)."""
    econ = frame["iso3"].to_numpy()
    fold = np.array([zlib.crc32(e.encode()) % CV_FOLDS for e in econ])
    y = frame["logit"].to_numpy()
    xtx, xty = a.T @ a, a.T @ y
    ridge = 1e-6 * np.eye(a.shape[1])
    residual = np.empty(len(y))
    for k in range(CV_FOLDS):
        hold = fold == k
        coef = np.linalg.solve(xtx - a[hold].T @ a[hold] + ridge, xty - a[hold].T @ y[hold])
        residual[hold] = y[hold] - a[hold] @ coef
    per_economy = pd.Series(residual).groupby(econ).mean()
    return float(per_economy.std())


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
        g = gaps.estimate(member_values, total_values, keys, inputs.covariates,
                          _stream(params, spec.code, dimension, member), params.replicates)
        frame = g
        # a member value of the release the total's point comes from is kept as published
        same = frame["release"].to_numpy() == total["release"].to_numpy()
        keep = same & total["method"].eq("observed").to_numpy() & frame["observed"].to_numpy()
        own = np.where(keep, logit(frame["value"].fillna(50)),
                       total["logit"].to_numpy() + frame["gap"].to_numpy())
        frames.append(frame)
        logits.append(own)
        fixed.append(keep)
        gap_draws.append(g.attrs["draws"])
    logits, fixed = np.stack(logits, axis=-1), np.stack(fixed, axis=-1)
    both = fixed.all(axis=-1, keepdims=True)
    free = ~fixed | both
    total_point = total["value"].to_numpy()
    point = rake(total_point, logits, weights, free)
    rep_logits = total_draws[..., None] + np.stack(gap_draws, axis=-1)
    reps = np.empty(rep_logits.shape)
    for start in range(0, len(rep_logits), RAKE_CHUNK):  # rows are raked independently
        part = slice(start, start + RAKE_CHUNK)
        reps[part] = rake(expit(total_draws[part]), rep_logits[part], weights[None],
                          np.ones_like(rep_logits[part], bool))
    # each member's draws centred on its point (raking moves the draws' centre a little)
    reps = expit(logit(reps) + logit(point)[None] - np.median(logit(reps), axis=0)[None])
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


def rake(total_p: np.ndarray, logits: np.ndarray, weights: np.ndarray, free: np.ndarray,
         iterations: int = 60, tolerance: float = 1e-7) -> np.ndarray:
    """Shift the free members' logits (last axis: the two members) by one amount per row so
    that the weighted mean of the members equals the total.

    The weighted mean rises monotonically with the shift, so a Newton step is taken when it
    stays inside the bracket known to hold the root, and the bracket is halved otherwise.
    Rows stop once they meet the total; rows that cannot (an observed member leaves no room)
    end at the bound of the bracket."""
    shape = np.broadcast_shapes(logits.shape, weights.shape, free.shape,
                                np.shape(total_p) + (2,))
    l1, l2 = (np.broadcast_to(logits, shape)[..., k].ravel() for k in (0, 1))
    w1, w2 = (np.broadcast_to(weights, shape)[..., k].ravel() for k in (0, 1))
    f1, f2 = (np.broadcast_to(free, shape)[..., k].ravel().astype(float) for k in (0, 1))
    target_p = np.broadcast_to(total_p, shape[:-1]).ravel()
    w_total = w1 + w2
    # a row with no population to split (both weights 0) is split evenly, not divided by 0:
    # it weighs nothing in any aggregate either way
    empty = w_total == 0
    if empty.any():
        w1, w2 = np.where(empty, 1.0, w1), np.where(empty, 1.0, w2)
        w_total = w1 + w2
    # start from the shift that would be exact if both members were equal
    s = np.where(f1 + f2 > 0, logit(target_p) - (w1 * l1 + w2 * l2) / w_total, 0.0)
    rows = np.flatnonzero(f1 + f2 > 0)
    work = [x[rows] for x in (l1, l2, w1, w2, f1, f2, target_p, w_total, s)]
    lo, hi = np.full(rows.size, -30.0), np.full(rows.size, 30.0)
    active = np.ones(rows.size, dtype=bool)
    for _ in range(iterations):
        if 2 * np.count_nonzero(active) < active.size:
            s[rows] = work[-1]
            rows, lo, hi, *work = (x[active] for x in (rows, lo, hi, *work))
            active = active[active]
        if rows.size == 0:
            break
        a1, a2, v1, v2, g1, g2, target, v_total, shift = work
        (p1, d1), (p2, d2) = _expit_and_slope(a1 + shift * g1), _expit_and_slope(a2 + shift * g2)
        gap = (v1 * p1 + v2 * p2) / v_total - target
        lo = np.where(gap < 0, shift, lo)
        hi = np.where(gap > 0, shift, hi)
        slope = (v1 * g1 * d1 + v2 * g2 * d2) / v_total
        newton = shift - np.divide(gap, slope, out=np.full_like(gap, np.inf),
                                   where=slope > 1e-12)
        inside = (newton >= lo) & (newton <= hi)
        work[-1] = np.where(active, np.where(inside, newton, (lo + hi) / 2), shift)
        active &= (np.abs(gap) > tolerance) & (hi - lo > 1e-9)
    s[rows] = work[-1]
    p1, p2 = expit(l1 + s * f1), expit(l2 + s * f2)
    return np.stack([p1, p2], axis=-1).reshape(shape)


def _expit_and_slope(x):
    """`expit` and its derivative (per cent per logit unit; 0 where clipped at 0 or 100)."""
    s = sigmoid(x)
    p = (100 + 2 * SQUEEZE) * s - SQUEEZE
    inside = (p > 0) & (p < 100)
    return np.clip(p, 0.0, 100.0), np.where(inside, (100 + 2 * SQUEEZE) * s * (1 - s), 0.0)


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
