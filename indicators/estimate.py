"""Estimation: a value, with its uncertainty, for every economy-year an aggregate needs.

Entry point: `estimate_indicator(spec, inputs, params, pools, predictor)`. Everything runs on
the logit scale of the per cent value, where diffusion curves are close to straight lines:
- observed years keep their value (status reported or publisher_estimate);
- years between two observations are interpolated linearly (method `interpolation`);
- years after the last (before the first) observation follow the economy's own recent logit
  trend, shrunk towards the median trend of its income group (`nowcast`, `backcast`): a
  logistic curve continues as one and stays within 0-100;
- economies never observed get a regression on year, income group, SDG region and the
  logit of a related indicator (`model`);
- female/male and urban/rural values are the total plus the economy's logit gap (observed gap
  carried between and beyond observed years, else modelled), then shifted together on the
  logit scale so their population-weighted mean equals the total (`breakdown`).
Uncertainty: each imputed value gets an error drawn from the backtest's residuals for its
method and horizon (`indicators.backtest`, computed first and passed in as `pools`), one
quantile per economy and replicate, so errors persist over the years of an economy as trend
errors do. Each indicator is estimated on its own (`estimate_indicator`), after the indicator
that predicts it, with random draws from its own stream: the same in any order or process.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catalog import MAX_NOWCAST_YEARS, Indicator, estimated
from indicators.weights import weight_column

P_FLOOR = 0.1  # per cent: values are clipped to [0.1, 99.9] before the logit
DIMENSIONS = ("sex", "location")  # of a breakdown; its members come from the catalog


@dataclass(frozen=True)
class Params:
    last_year: int = 2025
    seed: int = 20251216
    replicates: int = 200
    slope_window: int = 5      # observations used for an economy's own trend
    shrink_years: float = 4.0  # span (years) at which own and pooled trends weigh equally
    max_horizon: int = MAX_NOWCAST_YEARS  # pools beyond this horizon reuse the last one (8)
    damping: float = 0.9       # trend kept per year of horizon (chosen on the backtest)


@dataclass
class Inputs:
    """What estimation needs, as plain frames."""

    observations: pd.DataFrame  # preferred: indicator, iso3, year, sex, location, value, status
    weights: pd.DataFrame        # indicators.weights.build_weights
    covariates: pd.DataFrame     # iso3, income_group (latest), sdg_region


# Replicates raked at a time: the working arrays of a breakdown's raking stay ~30 MB
# instead of ~300 MB with 200 replicates (the results are the same: each row is its own).
RAKE_CHUNK = 25


@dataclass
class Result:
    estimates: pd.DataFrame  # one row per indicator, iso3, year, sex, location
    replicates: dict = field(default_factory=dict)  # series key -> (R x n) array of values
    pools: dict = field(default_factory=dict)       # indicator -> its backtest's pools


def logit(p):
    p = np.clip(np.asarray(p, dtype="float64"), P_FLOOR, 100 - P_FLOOR) / 100
    return np.log(p / (1 - p))


def expit(x):
    return 100 / (1 + np.exp(-np.asarray(x, dtype="float64")))


# ---------------------------------------------------------------- totals
def estimate_totals(obs: pd.DataFrame, grid: pd.DataFrame, covariates: pd.DataFrame,
                    params: Params, predictor: pd.DataFrame | None = None,
                    trend: bool = True) -> pd.DataFrame:
    """obs: iso3, year, logit. grid: iso3, year to fill. Returns grid + logit, method, horizon.
    With `trend=False` values are held constant beyond the first and last observations.

    `iso3` may be any economy key (the backtest passes pseudo-economies).
    """
    obs = obs.sort_values(["iso3", "year"])
    g = grid[["iso3", "year"]].sort_values("year").reset_index(drop=True)
    o = obs[["iso3", "year", "logit"]].sort_values("year")
    prev = pd.merge_asof(g, o.rename(columns={"year": "y0", "logit": "l0"}), left_on="year",
                         right_on="y0", by="iso3", direction="backward")
    nxt = pd.merge_asof(g, o.rename(columns={"year": "y1", "logit": "l1"}), left_on="year",
                        right_on="y1", by="iso3", direction="forward")
    g["y0"], g["l0"], g["y1"], g["l1"] = prev["y0"], prev["l0"], nxt["y1"], nxt["l1"]
    t = g["year"].to_numpy(float)
    y0, y1, l0, l1 = (g[c].to_numpy(float) for c in ("y0", "y1", "l0", "l1"))
    observed = y0 == t
    between = ~observed & ~np.isnan(y0) & ~np.isnan(y1)
    after = ~observed & ~np.isnan(y0) & np.isnan(y1)
    before = ~observed & np.isnan(y0) & ~np.isnan(y1)
    never = np.isnan(y0) & np.isnan(y1)
    if trend and (after | before).any():
        g = g.merge(_trend_slopes(obs, covariates, params), on="iso3", how="left")
    else:
        g["slope_end"] = g["slope_start"] = 0.0
    value = np.full(len(g), np.nan)
    value[observed] = l0[observed]
    frac = np.where(between, (t - y0) / np.where(y1 > y0, y1 - y0, 1), 0)
    value[between] = (l0 + frac * (l1 - l0))[between]
    value[after] = (l0 + g["slope_end"].to_numpy() * _damped(t - y0, params.damping))[after]
    value[before] = (l1 - g["slope_start"].to_numpy() * _damped(y1 - t, params.damping))[before]
    if never.any():
        value[never] = _model_prediction(obs, g[never].reset_index(drop=True), covariates,
                                         predictor)
    method = np.select([observed, between, after, before], ["observed", "interpolation",
                       "nowcast", "backcast"], "model")
    horizon = np.select([between, after, before],
                        [np.minimum(t - y0, y1 - t), t - y0, y1 - t], 0)
    g["logit"], g["method"], g["horizon"] = value, method, horizon.astype("int64")
    return g[["iso3", "year", "logit", "method", "horizon"]]


def _damped(h: np.ndarray, damping: float) -> np.ndarray:
    """Years of trend after h years when each year keeps `damping` of the previous one's."""
    h = np.nan_to_num(h)
    return h if damping >= 1 else (1 - damping ** h) / (1 - damping)


def _trend_slopes(obs: pd.DataFrame, covariates: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Per economy: logit trend of its last (first) observations, shrunk to its income
    group's median trend by the span of years they cover."""
    def ols(part: pd.DataFrame) -> pd.DataFrame:
        t, y = part["year"].astype(float), part["logit"]
        sums = pd.DataFrame({"iso3": part["iso3"], "n": 1.0, "t": t, "y": y, "tt": t * t,
                             "ty": t * y}).groupby("iso3").sum()
        years = part.groupby("iso3")["year"]
        span = years.max() - years.min()
        denom = sums["n"] * sums["tt"] - sums["t"] ** 2
        slope = (sums["n"] * sums["ty"] - sums["t"] * sums["y"]) / denom.where(denom > 0)
        return pd.DataFrame({"slope": slope, "span": span})

    last = ols(obs.groupby("iso3").tail(params.slope_window))
    first = ols(obs.groupby("iso3").head(params.slope_window))
    income = covariates.set_index("iso3")["income_group"]
    out = pd.DataFrame(index=last.index)
    for name, part in (("slope_end", last), ("slope_start", first)):
        group = income.reindex(part.index).fillna("unknown").to_numpy()
        trusted = part[part["span"] >= 3]["slope"]
        pooled_by_group = trusted.groupby(income.reindex(trusted.index).fillna("unknown")).median()
        overall = trusted.median() if len(trusted) else 0.0
        pooled = pd.Series(group, index=part.index).map(pooled_by_group).fillna(overall)
        weight = part["span"] / (part["span"] + params.shrink_years)
        own = part["slope"].fillna(pooled)
        out[name] = (weight * own + (1 - weight) * pooled).fillna(overall)
    return out.reset_index()


def _design(frame: pd.DataFrame, covariates: pd.DataFrame, years: bool = True) -> pd.DataFrame:
    """One-hot columns for income group, SDG region (and year) of each row."""
    cov = covariates.set_index("iso3").reindex(frame["iso3"].to_numpy())
    keys = {"inc": cov["income_group"].fillna("unknown").to_numpy(),
            "reg": cov["sdg_region"].fillna("unknown").astype(str).to_numpy()}
    if years:
        keys["y"] = frame["year"].astype(int).astype(str).to_numpy()
    blocks = []
    for prefix, values in keys.items():
        codes, labels = pd.factorize(values)
        block = np.zeros((len(values), len(labels)))
        block[np.arange(len(values)), codes] = 1.0
        blocks.append(pd.DataFrame(block, columns=[f"{prefix}_{v}" for v in labels]))
    return pd.concat(blocks, axis=1)


def model_design(frame: pd.DataFrame, covariates: pd.DataFrame,
                 predictor: pd.DataFrame | None, years: bool = True) -> pd.DataFrame:
    """Design of the model for economies never observed: income group, SDG region and year
    effects, plus the logit of the predicting indicator where one is given."""
    x = _design(frame, covariates, years)
    if predictor is not None:
        p = predictor.set_index(["iso3", "year"])["logit"]
        values = p.reindex(pd.MultiIndex.from_frame(frame[["iso3", "year"]])).to_numpy()
        x["pred"] = np.nan_to_num(values, nan=np.nanmean(p.to_numpy()))
    return x


def fit_predict(train_x: pd.DataFrame, train_y: np.ndarray, x: pd.DataFrame) -> np.ndarray:
    """Least squares with a tiny ridge (dummy sets are collinear: each sums to one)."""
    columns = sorted(set(train_x.columns) | set(x.columns))
    a = train_x.reindex(columns=columns, fill_value=0.0).to_numpy()
    b = x.reindex(columns=columns, fill_value=0.0).to_numpy()
    coef = np.linalg.solve(a.T @ a + 1e-6 * np.eye(a.shape[1]), a.T @ train_y)
    return b @ coef


def _model_prediction(obs: pd.DataFrame, grid: pd.DataFrame, covariates: pd.DataFrame,
                      predictor: pd.DataFrame | None) -> np.ndarray:
    """Regression of observed logits on year, income group, SDG region (and predictor)."""
    return fit_predict(model_design(obs, covariates, predictor), obs["logit"].to_numpy(),
                       model_design(grid, covariates, predictor))


# ---------------------------------------------------------------- breakdowns
def estimate_gaps(member_obs: pd.DataFrame, total: pd.DataFrame, grid: pd.DataFrame,
                  covariates: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Logit gap of one breakdown member (e.g. female) to the total, for every grid row.

    Observed gaps are interpolated between observed years and held constant beyond them;
    economies never observed get the regression on income group and SDG region."""
    t = total.set_index(["iso3", "year"])["logit"]
    obs = member_obs.assign(gap=member_obs["logit"].to_numpy()
                            - t.reindex(pd.MultiIndex.from_frame(member_obs[["iso3", "year"]]))
                            .to_numpy()).dropna(subset=["gap"])
    gaps = estimate_totals(obs.assign(logit=obs["gap"]), grid, covariates, params, trend=False)
    never = gaps["method"] == "model"
    if never.any():
        train_x = _design(obs, covariates, years=False)
        x = _design(gaps[never], covariates, years=False)
        gaps.loc[never, "logit"] = fit_predict(train_x, obs["gap"].to_numpy(), x)
    return gaps.rename(columns={"logit": "gap"})


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
    # Iterate on the rows still active; converged rows keep their shift, and are dropped
    # from the arrays once they are the majority.
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
        p1, p2 = expit(a1 + shift * g1), expit(a2 + shift * g2)
        gap = (v1 * p1 + v2 * p2) / v_total - target
        lo = np.where(gap < 0, shift, lo)
        hi = np.where(gap > 0, shift, hi)
        slope = (v1 * g1 * p1 * (100 - p1) + v2 * g2 * p2 * (100 - p2)) / (100 * v_total)
        newton = shift - np.divide(gap, slope, out=np.full_like(gap, np.inf),
                                   where=slope > 1e-12)
        inside = (newton >= lo) & (newton <= hi)
        work[-1] = np.where(active, np.where(inside, newton, (lo + hi) / 2), shift)
        active &= (np.abs(gap) > tolerance) & (hi - lo > 1e-9)
    s[rows] = work[-1]
    p1, p2 = expit(l1 + s * f1), expit(l2 + s * f2)
    return np.stack([p1, p2], axis=-1).reshape(shape)


# ---------------------------------------------------------------- whole estimation
def _series_grid(weights: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    w = weights[(weights["year"] >= first_year) & (weights["year"] <= last_year)]
    return w[["iso3", "year"]].reset_index(drop=True)


def _preferred(obs: pd.DataFrame, indicator: str, sex="total", location="total") -> pd.DataFrame:
    sel = obs[(obs["indicator"] == indicator) & (obs["sex"] == sex)
              & (obs["location"] == location)]
    return sel.assign(logit=logit(sel["value"]))[["iso3", "year", "logit", "value", "status"]]


def series_inputs(inputs: Inputs, spec: Indicator, params: Params
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The observed totals of one indicator (iso3, year, logit, value, status) and the grid of
    economy-years to estimate."""
    grid = _series_grid(inputs.weights, spec.estimation["first_year"], params.last_year)
    obs = _preferred(inputs.observations, spec.code)
    return obs[obs["iso3"].isin(set(grid["iso3"]))], grid


@dataclass
class IndicatorEstimate:
    """One indicator estimated: its rows of `estimates`, their replicates, and its totals on
    the logit scale (which the indicator it predicts uses)."""

    code: str
    rows: pd.DataFrame
    replicates: dict            # (code, sex, location) -> (R x n) array of values
    total: pd.DataFrame         # iso3, year, logit, method, horizon


def estimate_indicator(spec: Indicator, inputs: Inputs, params: Params, pools: dict,
                       predictor: pd.DataFrame | None = None) -> IndicatorEstimate:
    """The totals and breakdowns of one indicator with their replicates. `pools`: the
    residual pools of its backtest; `predictor`: the totals of its predicting indicator."""
    code = spec.code
    obs, grid = series_inputs(inputs, spec, params)
    total = estimate_totals(obs[["iso3", "year", "logit"]], grid, inputs.covariates, params,
                            predictor)
    logits = total
    total = total.merge(obs[["iso3", "year", "value", "status"]], on=["iso3", "year"],
                        how="left")
    rng = np.random.default_rng([params.seed, zlib.crc32(f"{code}/total".encode())])
    q = rng.random((params.replicates, total["iso3"].nunique()))
    econ_index = pd.factorize(total["iso3"])[0]
    errors = draw_errors(pools, total["method"].to_numpy(), total["horizon"].to_numpy(),
                         q[:, econ_index])
    total_reps = expit(total["logit"].to_numpy() + errors)
    observed = total["method"].to_numpy() == "observed"
    total_reps[:, observed] = total["value"].to_numpy()[observed]
    point = np.where(observed, total["value"], expit(total["logit"]))
    rows = [_rows(code, "total", "total", total, point, total_reps)]
    replicates = {(code, "total", "total"): total_reps}
    for dimension in DIMENSIONS:
        members = spec.members(dimension)
        if len(members) != 2:
            continue
        member_rows, member_reps = _breakdown(inputs, spec, dimension, members, total, point,
                                              total_reps, params, pools)
        rows += member_rows
        replicates.update(member_reps)
    return IndicatorEstimate(code, pd.concat(rows, ignore_index=True), replicates, logits)


def combine(parts: list[IndicatorEstimate], pools: dict | None = None) -> Result:
    """One result from every indicator's, in catalog estimation order (so that sums over
    the rows are the same whichever order the indicators were computed in)."""
    order = {spec.code: i for i, spec in enumerate(estimated())}
    parts = sorted(parts, key=lambda p: order[p.code])
    replicates = {k: v for p in parts for k, v in p.replicates.items()}
    return Result(pd.concat([p.rows for p in parts], ignore_index=True), replicates,
                  pools or {})


def _rows(code, sex, location, frame, point, reps) -> pd.DataFrame:
    lower, upper = np.percentile(reps, [5, 95], axis=0)
    status = np.where(frame["method"] == "observed", frame.get("status", "imputed"), "imputed")
    return pd.DataFrame({
        "indicator": code, "iso3": frame["iso3"].to_numpy(), "year": frame["year"].to_numpy(),
        "sex": sex, "location": location, "value": point,
        "lower": np.minimum(lower, point), "upper": np.maximum(upper, point),
        "status": status, "method": frame["method"].to_numpy(),
        "horizon": frame["horizon"].to_numpy(),
    })


def _member(dimension: str, member: str) -> tuple[str, str]:
    """(sex, location) of one member of a breakdown."""
    return (member, "total") if dimension == "sex" else ("total", member)


def _breakdown(inputs, spec, dimension, members, total, total_point, total_reps, params,
               pool):
    """Both members of one breakdown, raked to the total, with their replicates. The draws
    come from the breakdown's own random stream: the same wherever it is computed."""
    rng = np.random.default_rng([params.seed, zlib.crc32(f"{spec.code}/{dimension}".encode())])
    keys = total[["iso3", "year"]]
    w = inputs.weights.set_index(["iso3", "year"]).reindex(pd.MultiIndex.from_frame(keys))
    weights = np.stack([w[weight_column(spec.weight, *_member(dimension, m))].to_numpy()
                        for m in members], axis=-1)
    logits, free, gap_err, frames = [], [], [], []
    econ_index = pd.factorize(total["iso3"])[0]
    n_econ = econ_index.max() + 1
    for member in members:
        sex, location = _member(dimension, member)
        obs = _preferred(inputs.observations, spec.code, sex, location)
        obs = obs[obs["iso3"].isin(set(keys["iso3"]))]
        gaps = estimate_gaps(obs, total, keys, inputs.covariates, params)
        gaps = keys.merge(gaps, on=["iso3", "year"], how="left")
        gaps = gaps.merge(obs[["iso3", "year", "value", "status"]], on=["iso3", "year"],
                          how="left")
        observed = gaps["value"].notna().to_numpy()
        logits.append(np.where(observed, logit(gaps["value"].fillna(50)),
                               total["logit"].to_numpy() + gaps["gap"].to_numpy()))
        free.append(~observed)
        q = rng.random((params.replicates, n_econ))[:, econ_index]
        gap_pool = pool.get(f"gap_{dimension}", pool["interpolation"])
        err = draw_errors({"carried": gap_pool, "model": gap_pool}, np.where(
            gaps["method"] == "model", "model", "carried"), gaps["horizon"].to_numpy(), q)
        gap_err.append(np.where(observed, 0.0, err))
        frames.append(gaps.assign(method=np.where(observed, "observed", "breakdown")))
    logits, free = np.stack(logits, axis=-1), np.stack(free, axis=-1)
    point = rake(total_point, logits, weights, free)
    gap_err = np.stack(gap_err, axis=-1)
    reps = np.empty(total_reps.shape + (len(members),))
    for start in range(0, len(total_reps), RAKE_CHUNK):  # rows are raked independently
        part = slice(start, start + RAKE_CHUNK)
        rep_logits = logit(total_reps[part])[..., None] - logit(total_point)[None, :, None] \
            + logits[None] + gap_err[part]
        rep_logits = np.where(free[None], rep_logits, logits[None])
        reps[part] = rake(total_reps[part], rep_logits, weights[None], free[None])
    rows, out_reps = [], {}
    for k, member in enumerate(members):
        sex, location = _member(dimension, member)
        rows.append(_rows(spec.code, sex, location, frames[k], point[:, k], reps[:, :, k]))
        out_reps[(spec.code, sex, location)] = reps[:, :, k]
    return rows, out_reps


def draw_errors(pool: dict, method: np.ndarray, horizon: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Logit errors for each value: the q-quantile of the residual pool of its method and
    horizon (observed values: 0). `q` is (replicates x n)."""
    errors = np.zeros(q.shape)
    for name in np.unique(method):
        if name == "observed":
            continue
        cols = method == name
        key = "nowcast" if name in ("nowcast", "backcast") else name
        residuals = pool.get(key)
        if isinstance(residuals, dict):  # by horizon
            for h in np.unique(horizon[cols]):
                at = cols & (horizon == h)
                res = residuals.get(min(int(h), max(residuals)), residuals[max(residuals)])
                errors[:, at] = _quantiles(res, q[:, at])
        elif residuals is not None and len(residuals):
            errors[:, cols] = _quantiles(residuals, q[:, cols])
    return errors


def _quantiles(residuals: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles of the residuals centred on their median: the interval describes the spread
    of the backtest errors around the estimate, which stays the interval's centre."""
    ordered = np.sort(np.asarray(residuals, dtype=float))
    ordered = ordered - np.median(ordered)
    grid = (np.arange(len(ordered)) + 0.5) / len(ordered)
    return np.interp(q, grid, ordered)
