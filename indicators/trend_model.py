"""The estimation model of one indicator's totals: every value read is a measurement of the
economy's true series, which follows a damped local linear trend on the logit scale
(indicators/kalman.py).

Data model. A value of release r (a source and its release, ordered by release date) in year
t measures level_t + offset_r with an error whose variance depends on its kind: reported
national data, a publisher's estimate (SDG nature e), or a publisher value no source flags.
The economy's newest release is its reference (offset 0); an older release's level
difference is estimated where the releases overlap and, where they do not (the 2026 WDI holds
2024 only), from how the newer value compares with the older series' trend: a revised level
carries through the series instead of making a step where the releases meet.

Process shocks shrink towards 0 and 100: their variance is q (4 s (1 - s))^saturation, s
the share the economy's latest value before the year stands at (squeezed as in `logit`), so
that a series saturating at 99.9 per cent is not forecast with the spread of one in the middle
of its rise, which on the logit scale would pull its mean down and widen its interval.

Parameters (trend and slope shocks, saturation, damping, the three error variances, the spread
of release offsets) are estimated by maximum likelihood over all economies of the indicator. The pooled
slope an economy's trend is damped towards is the median recent trend of its income group.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from indicators.kalman import Model, kalman_filter, sample_levels, smooth

KINDS = ("reported", "publisher_estimate", "unflagged")
SQUEEZE = 0.5          # per cent: the logit is taken of (p + 0.5) / 101 (see `logit`)
SLOPE_WINDOW = 5       # observations an economy's own recent trend is measured on
LEVEL_PRIOR = 1.0      # variance of the first year's level around the first value (logit)
SLOPE_PRIOR = 0.1      # variance of the first year's slope around the pooled slope
REVISION_SD = 1.5      # spread of a release offset where an economy's series was revised
JUMP_Z = 4.0           # a value this many standard errors off its prediction is a level jump
# the fit stops when an iteration gains less than this share of the log-likelihood (scipy's
# default, 2e-9, is ~1e-5 on 4,000-5,000: far below what moves a parameter; 1e-6 saves a
# quarter of the evaluations and changes no log-likelihood by more than 0.01)
FIT_TOLERANCE = 1e-6


def logit(p):
    """The model's scale: the logit of the per cent value squeezed into (0, 1) as
    (p + SQUEEZE) / (100 + 2 SQUEEZE), so that 0 and 100 (common for network coverage) are
    finite values a series can reach, and a draw can cross, instead of limits clipped away."""
    p = np.clip(np.asarray(p, dtype="float64"), 0.0, 100.0)
    q = (p + SQUEEZE) / (100 + 2 * SQUEEZE)
    return np.log(q / (1 - q))


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype="float64")))


def expit(x):
    """The inverse of `logit`, per cent, clipped to 0-100."""
    return np.clip((100 + 2 * SQUEEZE) * sigmoid(x) - SQUEEZE, 0.0, 100.0)


@dataclass
class SeriesData:
    """One indicator's values as arrays: years x economies x releases."""

    economies: list[str]
    years: np.ndarray
    releases: list[str]
    y: np.ndarray          # (T, N, R) logit values, NaN where none
    kind: np.ndarray       # (T, N, R) index into KINDS, -1 where none
    reference: np.ndarray  # (N,) the economy's reference release
    pooled_slope: np.ndarray  # (N,)
    revised: np.ndarray | None = None  # (N,) older releases carry a free level difference
    jumps: np.ndarray | None = None    # (T, N) years the level jumps (set by `fit`)

    @property
    def observed(self) -> np.ndarray:
        """(T, N) some release has a value."""
        return ~np.isnan(self.y).all(axis=2)


def newest_values(values: pd.DataFrame, keys=("iso3", "year")) -> pd.DataFrame:
    """One row per `keys`: the value of the newest release (by release date, then name)."""
    return values.sort_values(["release_date", "release"]).drop_duplicates(
        list(keys), keep="last")


def series_data(obs: pd.DataFrame, economies: list[str], years: np.ndarray,
                income: pd.Series) -> SeriesData:
    """`obs`: iso3, year, value, kind, release, release_date — every value read (all
    releases) of one indicator's totals, for economies in `economies`."""
    obs = obs[obs["iso3"].isin(set(economies)) & obs["year"].between(years[0], years[-1])]
    order = (obs[["release", "release_date"]].drop_duplicates("release")
             .sort_values(["release_date", "release"]))
    releases = list(order["release"])
    e_index = {e: i for i, e in enumerate(economies)}
    r_index = {r: i for i, r in enumerate(releases)}
    shape = (len(years), len(economies), len(releases))
    y, kind = np.full(shape, np.nan), np.full(shape, -1)
    t = (obs["year"].to_numpy() - years[0]).astype(int)
    n = obs["iso3"].map(e_index).to_numpy(dtype=int)
    r = obs["release"].map(r_index).to_numpy(dtype=int)
    y[t, n, r] = logit(obs["value"].to_numpy())
    kind[t, n, r] = obs["kind"].map({k: i for i, k in enumerate(KINDS)}).to_numpy()
    present = ~np.isnan(y).all(axis=0)                           # (N, R)
    reference = np.where(present.any(axis=1),
                         len(releases) - 1 - np.argmax(present[:, ::-1], axis=1), -1)
    data = SeriesData(economies, years, releases, y, kind, reference,
                      pooled_slopes(y, economies, income))
    data.revised = revisions(data)
    return data


def _mean_over_releases(y: np.ndarray) -> np.ndarray:
    """(T, N): the mean of the releases' values, NaN where there is none."""
    count = (~np.isnan(y)).sum(axis=2)
    total = np.where(np.isnan(y), 0.0, y).sum(axis=2)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def pooled_slopes(y: np.ndarray, economies: list[str], income: pd.Series) -> np.ndarray:
    """Per economy: the median recent logit trend of the observed economies of its income
    group (all observed economies where its group has too few)."""
    level = _mean_over_releases(y)                               # (T, N)
    slopes = np.full(level.shape[1], np.nan)
    for i in range(level.shape[1]):
        t = np.flatnonzero(~np.isnan(level[:, i]))[-SLOPE_WINDOW:]
        if len(t) >= 3 and t[-1] - t[0] >= 3:
            slopes[i] = np.polyfit(t, level[t, i], 1)[0]
    groups = income.reindex(economies).fillna("unknown").to_numpy()
    overall = np.nanmedian(slopes) if np.isfinite(slopes).any() else 0.0
    out = np.full(len(economies), overall)
    for g in np.unique(groups):
        mine = slopes[groups == g]
        if np.isfinite(mine).sum() >= 5:
            out[groups == g] = np.nanmedian(mine)
    return out


@dataclass
class Parameters:
    q_level: float
    q_slope: float
    phi: float
    error_sd: tuple[float, float, float]   # by kind
    offset_sd: dict[str, float]            # by release: its level difference to a newer one
    saturation: float = 0.0                # how much shocks shrink near 0 and 100

    def offset_of(self, release: str) -> float:
        return self.offset_sd.get(release, OFFSET_SD)

    @classmethod
    def from_vector(cls, v: np.ndarray, releases: list[str]) -> Parameters:
        """An unflagged value, of a report or an estimate no source says, carries at least a
        report's error: where unflagged values stand alone (4G's 2022, one release) nothing
        else identifies their error, and the fit would take them as exact."""
        reported, estimate, unflagged = (float(x) for x in np.exp(v[4:7]))
        return cls(float(np.exp(v[0])), float(np.exp(v[1])), float(1 / (1 + np.exp(-v[2]))),
                   (reported, estimate, max(unflagged, reported)),
                   dict(zip(releases, (float(x) for x in np.exp(v[7:])))), float(v[3]))

    def to_vector(self, releases: list[str]) -> np.ndarray:
        return np.array([np.log(self.q_level), np.log(self.q_slope),
                         np.log(self.phi / (1 - self.phi)), self.saturation,
                         *np.log(self.error_sd),
                         *np.log([self.offset_of(r) for r in releases])])


OFFSET_SD = 0.3   # a release's level difference where no fit has seen the release
START = Parameters(q_level=0.01, q_slope=0.005, phi=0.9, error_sd=(0.1, 0.2, 0.2),
                   offset_sd={}, saturation=0.5)


def bounds(releases: int) -> list[tuple[float, float]]:
    return [(np.log(1e-5), np.log(1.0)), (np.log(1e-6), np.log(0.5)), (-2.0, 6.0), (0.0, 2.0),
            *[(np.log(0.01), np.log(2.0))] * 3, *[(np.log(0.005), np.log(3.0))] * releases]


def state_model(data: SeriesData, p: Parameters) -> tuple[Model, np.ndarray]:
    """The state-space model of every observed economy, and the value error variances."""
    n, releases = len(data.economies), len(data.releases)
    d = 3 + releases
    first = np.argmax(data.observed, axis=0)
    m0 = np.zeros((n, d))
    m0[:, 0] = _mean_over_releases(data.y[first, np.arange(n)][None])[0]
    m0[:, 1] = data.pooled_slope
    p0 = np.zeros((n, d, d))
    p0[:, 0, 0], p0[:, 1, 1] = LEVEL_PRIOR, SLOPE_PRIOR
    for r in range(releases):
        sd = p.offset_of(data.releases[r])
        p0[:, 2 + r, 2 + r] = np.where(data.reference == r, 0.0, sd ** 2)
    p0[:, -1, -1] = np.where(data.revised, REVISION_SD ** 2, 0.0)
    loads = revision_loads(data).astype(float)
    s2 = np.choose(np.clip(data.kind, 0, 2), [sd ** 2 for sd in p.error_sd])
    return Model(p.phi, p.q_level, p.q_slope, data.pooled_slope, m0, p0, loads,
                 data.jumps, JUMP_Z, no_jump=revising_years(data),
                 shock_scale=shock_scale(data, p.saturation)), s2


def shock_scale(data: SeriesData, saturation: float) -> np.ndarray | None:
    """(T, N): (4 s (1 - s))^saturation, s the economy's latest value before year t (its
    first value up to its first year)."""
    if saturation == 0.0:
        return None
    level = _mean_over_releases(data.y)                          # (T, N)
    steps = np.arange(level.shape[0])[:, None]
    seen = np.where(~np.isnan(level), steps, -1)
    latest = np.maximum.accumulate(seen, axis=0)
    before = np.vstack([latest[:1], latest[:-1]])                # the latest before year t
    first = np.argmax(~np.isnan(level), axis=0)
    index = np.where(before >= 0, before, first[None, :])
    s = sigmoid(np.take_along_axis(level, index, axis=0))
    return (4 * s * (1 - s)) ** saturation


def fit(data: SeriesData, first_guess: Parameters | None = None) -> Parameters:
    """Maximum-likelihood parameters (over every economy with a value), from `START` and,
    where there is one, from `first_guess` (an earlier fit of the same indicator): the
    likelihood has local optima, and neither start finds the best one for every indicator
    (4G's full fit: -1614 from START, -1772 from the tuning fit; Internet use the other way
    round), so the better of the two fits is kept."""
    starts = [START] if first_guess is None else [START, first_guess]
    return max((_fit_from(data, start) for start in starts), key=lambda fitted: fitted[1])[0]


def _fit_from(data: SeriesData, guess: Parameters) -> tuple[Parameters, float]:
    """The fit from `guess` and its log-likelihood. The years the level jumps are found with
    the first parameters, the parameters fitted with those jumps held, the jumps found again
    and the fit refined: the likelihood stays smooth for the optimiser."""
    for maxiter in (60, 30):
        data.jumps = None
        model, s2 = state_model(data, guess)
        data.jumps = kalman_filter(model, data.y, s2, moments=False).jumps

        def negative_loglik(v):
            model, s2 = state_model(data, Parameters.from_vector(v, data.releases))
            return -kalman_filter(model, data.y, s2, moments=False).loglik.sum()

        found = minimize(negative_loglik, guess.to_vector(data.releases), method="L-BFGS-B",
                         bounds=bounds(len(data.releases)),
                         options={"maxiter": maxiter, "ftol": FIT_TOLERANCE})
        guess = Parameters.from_vector(found.x, data.releases)
    data.jumps = None
    return guess, -float(found.fun)


def revision_loads(data: SeriesData) -> np.ndarray:
    """(T, N, R): how much of a revision each value carries. A new release that revises an
    economy's level replaces the publisher's estimates made since its last reported value:
    an older release's estimates and unflagged values carry the revision in proportion to
    their distance from that last report (0 there, 1 in the newest release's first year), so
    the revised level joins the survey it rests on without a step at either end. Reported
    values carry none (a survey is not what a new release revises)."""
    steps = np.arange(data.y.shape[0])
    n = len(data.economies)
    older = np.arange(len(data.releases))[None, None, :] != data.reference[None, :, None]
    reported = (data.kind == 0).any(axis=2)                                  # (T, N)
    first = np.where(data.observed, steps[:, None], steps[-1] + 1).min(axis=0)
    anchor = np.where(reported.any(axis=0),
                      np.where(reported, steps[:, None], -1).max(axis=0), first - 1)
    has_ref = ~np.isnan(data.y[:, np.arange(n), np.maximum(data.reference, 0)])
    newest = np.where(has_ref, steps[:, None], steps[-1] + 1).min(axis=0)    # (N,)
    span = np.maximum(newest - anchor, 1)
    ramp = np.clip((steps[:, None] - anchor[None, :]) / span[None, :], 0.0, 1.0)
    return np.where(older & (data.kind > 0), ramp[:, :, None], 0.0)


def revisions(data: SeriesData) -> np.ndarray:
    """Economies whose newest release holds only years that no older release holds (the
    2026 WDI: 2024 only): its level against the older series can only come from how its
    values compare with their trend, so a level difference shared by the older releases is
    let free (spread REVISION_SD) and the newest level carries back through the series."""
    has = ~np.isnan(data.y)                                      # (T, N, R)
    n = len(data.economies)
    ref = has[:, np.arange(n), data.reference]                   # (T, N)
    older = (has & (np.arange(len(data.releases)) != data.reference[:, None])).any(axis=2)
    return (data.reference >= 0) & ~(ref & older).any(axis=0) & older.any(axis=0)


def revising_years(data: SeriesData) -> np.ndarray:
    """(T, N): the years a revised economy's newest release alone holds. Their values meet
    the older series through the revision (a level shared by the older releases), never
    through a jump of the level in that year: that is the step where releases meet."""
    has = ~np.isnan(data.y)
    n = len(data.economies)
    ref = has[:, np.arange(n), np.maximum(data.reference, 0)] & (data.reference >= 0)
    older = (has & (np.arange(len(data.releases)) != data.reference[:, None])).any(axis=2)
    return data.revised[None, :] & ref & ~older


@dataclass
class SeriesEstimate:
    """Point logits, how each was made, and draws, for every observed economy and year."""

    point: np.ndarray      # (T, N) logit
    method: np.ndarray     # (T, N) observed | release_adjusted | interpolation | nowcast | backcast
    kind: np.ndarray       # (T, N) the kind of the value used, or "imputed"
    release: np.ndarray    # (T, N) the release of the value used, or ""
    horizon: np.ndarray    # (T, N) years to the nearest value
    draws: np.ndarray      # (R, T, N) logit
    innovations: np.ndarray  # (T, N, R) standardised one-step errors


def estimate(data: SeriesData, p: Parameters, rng: np.random.Generator,
             draws: int) -> SeriesEstimate:
    """Points and posterior draws. A value of the economy's reference release, or one
    reported as national data, is kept as published; a publisher's estimate of an older
    release only (which a newer release may have revised) and the years without a value take
    the smoothed level. Draws are the point plus
    the posterior deviation of the level."""
    model, s2 = state_model(data, p)
    filtered = kalman_filter(model, data.y, s2)
    means, _ = smooth(model, filtered)
    paths = sample_levels(model, filtered, rng, draws)
    steps, n = data.observed.shape
    level = means[:, :, 0]
    point, method = level.copy(), np.full((steps, n), "", dtype=object)
    kind = np.full((steps, n), "imputed", dtype=object)
    release = np.full((steps, n), "", dtype=object)
    has = ~np.isnan(data.y)                                          # (T, N, R)
    newest = np.where(has.any(axis=2), data.y.shape[2] - 1 - np.argmax(has[:, :, ::-1], axis=2),
                      -1)
    econ = np.broadcast_to(np.arange(n), (steps, n))
    tt = np.broadcast_to(np.arange(steps)[:, None], (steps, n))
    seen = newest >= 0
    t_, e_, r_ = tt[seen], econ[seen], newest[seen]
    kinds = data.kind[t_, e_, r_]
    # kept: the economy's reference release, or a value reported as national data
    kept = (r_ == data.reference[e_]) | (kinds == 0)
    point[seen] = np.where(kept, data.y[t_, e_, r_], level[t_, e_])
    method[seen] = np.where(kept, "observed", "release_adjusted")
    kind[seen] = np.array(KINDS, dtype=object)[kinds]
    release[seen] = np.array(data.releases, dtype=object)[r_]
    method_, horizon = _gaps(seen)
    method[~seen] = method_[~seen]
    return SeriesEstimate(point, method, kind, release, horizon,
                          point[None] + paths - level[None], filtered.innovations)


def _gaps(seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Method and horizon (years to the nearest value) of the years without a value."""
    steps = seen.shape[0]
    idx = np.arange(steps)[:, None]
    last = np.maximum.accumulate(np.where(seen, idx, -1), axis=0)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(seen, idx, steps), 0), axis=0), 0)
    before, after = last >= 0, nxt < steps
    method = np.select([seen, before & after, before, after],
                       ["observed", "interpolation", "nowcast", "backcast"], "")
    horizon = np.select([seen, before & after, before, after],
                        [0, np.minimum(idx - last, nxt - idx), idx - last, nxt - idx], 0)
    return method.astype(object), horizon.astype(int)
