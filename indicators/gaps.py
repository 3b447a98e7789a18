"""A breakdown member's gap to its total (e.g. women's Internet use to everyone's), on the
logit scale, for every economy-year.

A gap is measured only where one release holds both the member and the total of the same
year: never against another release's total. Measured gaps are followed as a slowly moving
level with measurement error (a local level: indicators/kalman.py with no slope), started
from the regression of economies' mean gaps on income group and SDG region; economies never
measured take that regression plus a lasting economy effect of the spread the regression
leaves. The drift and error variances are estimated by maximum likelihood.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from indicators.kalman import Model, kalman_filter, sample_levels, smooth
from indicators.trend_model import logit, newest_values


def measured(member: pd.DataFrame, total: pd.DataFrame) -> pd.DataFrame:
    """iso3, year, gap: the member's logit less the total's of the same release (mean over
    releases holding both)."""
    pairs = member.merge(total, on=["iso3", "year", "release"], suffixes=("", "_total"))
    pairs = pairs.assign(gap=logit(pairs["value"]) - logit(pairs["value_total"]))
    return pairs.groupby(["iso3", "year"], as_index=False)["gap"].mean()


def estimate(member: pd.DataFrame, total: pd.DataFrame, keys: pd.DataFrame,
             covariates: pd.DataFrame, rng: np.random.Generator,
             draws: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per `keys` row (iso3, year): gap, horizon, ever_observed, and the member's own
    value where it has one (value, kind, release of the newest release, observed); and the
    gap's draws (R, n). (Not in the frame's `attrs`: pandas deep-copies those into every
    column taken from it.)"""
    economies = sorted(keys["iso3"].unique())
    years = np.sort(keys["year"].unique())
    obs = measured(member, total)
    obs = obs[obs["iso3"].isin(set(economies)) & obs["year"].between(years[0], years[-1])]
    with_values = set(obs["iso3"])
    seen = [e for e in economies if e in with_values]
    prior, spread = _regression(obs, covariates, economies)
    n, steps = len(economies), len(years)
    gap = np.repeat(prior[None, :], steps, axis=0)
    gap_draws = gap[None] + rng.standard_normal((draws, 1, n)) * spread
    horizon = np.zeros((steps, n), dtype=int)
    if seen:
        idx = np.array([economies.index(e) for e in seen])
        y = np.full((steps, len(seen), 1), np.nan)
        t = np.searchsorted(years, obs["year"].to_numpy())
        y[t, obs["iso3"].map({e: i for i, e in enumerate(seen)}).to_numpy(), 0] = \
            obs["gap"].to_numpy()
        model, _q, s2 = _fit(y, prior[idx], spread)
        f = kalman_filter(model, y, np.full_like(y, s2))
        means, _ = smooth(model, f)
        gap[:, idx] = means[:, :, 0]
        gap_draws[:, :, idx] = sample_levels(model, f, rng, draws)
        horizon[:, idx] = _distance(~np.isnan(y[:, :, 0]))
    frame = pd.DataFrame({"iso3": np.repeat(economies, steps),
                          "year": np.tile(years, n), "gap": gap.T.ravel(),
                          "horizon": horizon.T.ravel(),
                          "ever_observed": np.repeat(np.isin(economies, seen), steps)})
    order = pd.MultiIndex.from_frame(frame[["iso3", "year"]])
    position = pd.Series(np.arange(len(frame)), index=order).reindex(
        pd.MultiIndex.from_frame(keys[["iso3", "year"]])).to_numpy()
    out = frame.iloc[position].reset_index(drop=True)
    own = newest_values(member).set_index(["iso3", "year"])
    own = own.reindex(pd.MultiIndex.from_frame(out[["iso3", "year"]]))
    out["value"] = own["value"].to_numpy()
    out["kind"] = own["kind"].fillna("imputed").to_numpy()
    out["release"] = own["release"].fillna("").to_numpy()
    out["observed"] = own["value"].notna().to_numpy()
    return out, gap_draws.transpose(0, 2, 1).reshape(draws, -1)[:, position]


def _regression(obs: pd.DataFrame, covariates: pd.DataFrame, economies: list[str]):
    """Each economy's expected gap (income group and region effects, fitted on the measured
    economies' mean gaps) and the spread of economies around it."""
    cov = covariates.set_index("iso3").reindex(economies)
    x = pd.concat([pd.get_dummies(cov["income_group"].fillna("unknown"), dtype=float),
                   pd.get_dummies(cov["sdg_region"].fillna("unknown").astype(str),
                                  dtype=float)], axis=1).to_numpy()
    means = obs.groupby("iso3")["gap"].mean().reindex(economies)
    has = means.notna().to_numpy()
    if has.sum() < 3:
        level = float(means.mean()) if has.any() else 0.0
        return np.full(len(economies), level), 0.3
    a = x[has]
    coef = np.linalg.solve(a.T @ a + 0.5 * np.eye(a.shape[1]), a.T @ means.to_numpy()[has])
    residual = means.to_numpy()[has] - a @ coef
    return x @ coef, float(np.sqrt(np.mean(residual ** 2)))


def _model(prior: np.ndarray, spread: float, q: float) -> Model:
    n = len(prior)
    m0 = np.zeros((n, 4))
    m0[:, 0] = prior
    p0 = np.zeros((n, 4, 4))
    p0[:, 0, 0] = spread ** 2
    return Model(0.0, q, 0.0, np.zeros(n), m0, p0, np.zeros((1, n, 1)))


def _fit(y: np.ndarray, prior: np.ndarray, spread: float) -> tuple[Model, float, float]:
    """Maximum-likelihood drift and error variances of the measured gaps."""
    loads = np.zeros_like(y)

    def negative_loglik(v):
        model = _model(prior, spread, float(np.exp(v[0])))
        model.loads = loads
        return -kalman_filter(model, y, np.full_like(y, np.exp(2 * v[1])),
                              moments=False).loglik.sum()

    found = minimize(negative_loglik, np.log([0.005, 0.1]), method="L-BFGS-B",
                     bounds=[(np.log(1e-6), np.log(0.5)), (np.log(0.01), np.log(1.0))])
    q, s2 = float(np.exp(found.x[0])), float(np.exp(2 * found.x[1]))
    model = _model(prior, spread, q)
    model.loads = loads
    return model, q, s2


def _distance(seen: np.ndarray) -> np.ndarray:
    """(T, N) years to the nearest measured year."""
    steps = seen.shape[0]
    idx = np.arange(steps)[:, None]
    last = np.maximum.accumulate(np.where(seen, idx, -10**6), axis=0)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(seen, idx, 10**6), 0), axis=0), 0)
    return np.minimum(idx - last, nxt - idx)
