"""Backtest: hide known values, estimate them again, and measure the errors.

Three experiments per indicator, each run for all economies at once (an economy's truncated
copy is a pseudo-economy `ISO3|k`):
- nowcast: drop each economy's last h observed years and nowcast its last observation;
- interpolation: drop one interior observation and interpolate it;
- whole economies: hide every observation of one fifth of the economies at a time and predict
  them with the model.
The residuals (truth − estimate, logit scale) are the pools the intervals are drawn from; the
report gives errors in percentage points, the error of carrying the last value forward, and the
share of held-out values inside 90% intervals built from the *other* half of the economies.
"""
from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from indicators.estimate import Params, estimate_totals, expit, model_design

FOLDS = 5


def _pseudo(frame: pd.DataFrame, tag) -> pd.DataFrame:
    return frame.assign(base=frame["iso3"], iso3=frame["iso3"] + f"|{tag}")


def _pseudo_covariates(covariates: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    base = ids.str.split("|").str[0]
    return pd.DataFrame({"iso3": ids.to_numpy()}).assign(base=base.to_numpy()).merge(
        covariates.rename(columns={"iso3": "base"}), on="base", how="left").drop(columns="base")


def nowcast_trials(obs: pd.DataFrame, covariates, params: Params, predictor=None):
    """Truth and estimate of each economy's last observation after dropping its last h
    observations (h = 1 … max_horizon); the horizon is counted in years from the last kept."""
    obs = obs.sort_values(["iso3", "year"]).reset_index(drop=True)
    from_end = obs.groupby("iso3").cumcount(ascending=False)
    last = obs[from_end == 0]
    parts, targets = [], []
    for h in range(1, params.max_horizon + 1):
        kept = obs[from_end >= h]
        kept = kept[kept.groupby("iso3")["year"].transform("size") >= 2]
        parts.append(_pseudo(kept[["iso3", "year", "logit"]], h))
        tgt = last[last["iso3"].isin(set(kept["iso3"]))]
        targets.append(_pseudo(tgt[["iso3", "year", "logit"]], h))
    return _run(parts, targets, covariates, params, predictor)


def interpolation_trials(obs: pd.DataFrame, covariates, params: Params, predictor=None):
    """Truth and estimate of one interior observation per economy, hidden."""
    obs = obs.sort_values(["iso3", "year"]).reset_index(drop=True)
    position = obs.groupby("iso3").cumcount()
    size = obs.groupby("iso3")["year"].transform("size")
    rng = np.random.default_rng(params.seed)
    pick = (rng.random(obs["iso3"].nunique()) * 1e6).astype(int)
    chosen = 1 + pick[pd.factorize(obs["iso3"])[0]] % np.maximum(size - 2, 1)
    hide = (size >= 3) & (position == chosen)
    parts = [_pseudo(obs[~hide & (size >= 3)][["iso3", "year", "logit"]], "i")]
    targets = [_pseudo(obs[hide][["iso3", "year", "logit"]], "i")]
    return _run(parts, targets, covariates, params, predictor)


def model_trials(obs: pd.DataFrame, covariates, params: Params,
                 predictor=None):
    """Truth and model estimate for economies hidden whole, one fold at a time."""
    obs = obs.reset_index(drop=True)
    x = model_design(obs, covariates, predictor).to_numpy()
    y = obs["logit"].to_numpy()
    fold = obs["iso3"].map(lambda c: zlib.crc32(c.encode()) % FOLDS).to_numpy()
    # normal equations of all rows, less each fold's own contribution
    xtx, xty = x.T @ x, x.T @ y
    ridge = 1e-6 * np.eye(x.shape[1])
    estimate = np.full(len(obs), np.nan)
    for k in range(FOLDS):
        hidden = fold == k
        xh = x[hidden]
        coef = np.linalg.solve(xtx - xh.T @ xh + ridge, xty - xh.T @ y[hidden])
        estimate[hidden] = xh @ coef
    return obs[["iso3", "year", "logit"]].assign(
        estimate=estimate, method="model", horizon=0, base=obs["iso3"])


def _run(parts, targets, covariates, params, predictor):
    train = pd.concat(parts, ignore_index=True)
    target = pd.concat(targets, ignore_index=True)
    if target.empty:
        return target.assign(estimate=[], horizon=[], method=[], carry=[])
    ids = pd.Series(pd.concat([train["iso3"], target["iso3"]]).unique())
    cov = _pseudo_covariates(covariates, ids)
    pred = None
    if predictor is not None:
        pred = predictor.merge(pd.DataFrame({"iso3": ids, "base": ids.str.split("|").str[0]}),
                               left_on="iso3", right_on="base", suffixes=("_orig", ""))
        pred = pred[["iso3", "year", "logit"]]
    est = estimate_totals(train[["iso3", "year", "logit"]], target[["iso3", "year"]], cov,
                          params, pred)
    out = target.merge(est.rename(columns={"logit": "estimate"}), on=["iso3", "year"])
    # carry-forward baseline: the last kept value before the target year
    last_kept = train.sort_values("year").groupby("iso3").tail(1)[["iso3", "logit"]]
    return out.merge(last_kept.rename(columns={"logit": "carry"}), on="iso3", how="left")


def residual_pools(obs: pd.DataFrame, covariates, params: Params,
                   predictor=None) -> dict:
    """Residual pools (logit scale) by method, and for nowcasts by horizon; the trials they
    come from are kept under "trials" for the report."""
    obs = obs[["iso3", "year", "logit"]]
    now = nowcast_trials(obs, covariates, params, predictor)
    interp = interpolation_trials(obs, covariates, params, predictor)
    model = model_trials(obs, covariates, params, predictor)
    pools = pools_from(now, interp, model, params)
    pools["trials"] = {"nowcast": now, "interpolation": interp, "model": model}
    return pools


def pools_from(now, interp, model, params: Params) -> dict:
    residual = now["logit"] - now["estimate"]
    by_h = {}
    fallback = residual.to_numpy()
    for h in range(1, params.max_horizon + 1):
        sel = residual[now["horizon"] == h].to_numpy()
        by_h[h] = sel if len(sel) >= 15 else (by_h.get(h - 1, fallback) * np.sqrt(h / max(h - 1, 1)))
    return {
        "nowcast": by_h,
        "interpolation": (interp["logit"] - interp["estimate"]).to_numpy(),
        "model": (model["logit"] - model["estimate"]).to_numpy(),
    }


def report(pools_by_indicator: dict) -> pd.DataFrame:
    """Errors (percentage points) and 90% interval coverage per indicator and experiment."""
    rows = []
    for code, pools in pools_by_indicator.items():
        for name, trials in pools["trials"].items():
            if trials.empty:
                continue
            half = trials["base"].str.split("|").str[0].map(lambda c: zlib.crc32(c.encode()) % 2)
            coverage = _cross_coverage(trials, half, name)
            groups = [(f"h={h}", trials["horizon"] == h) for h in (1, 2, 3)] \
                if name == "nowcast" else [("all", trials["horizon"] >= 0)]
            groups.append(("all horizons", trials["horizon"] >= 0)) if name == "nowcast" else None
            for label, mask in groups:
                t = trials[mask]
                if t.empty:
                    continue
                truth, est = expit(t["logit"]), expit(t["estimate"])
                row = {"indicator": code, "experiment": name, "subset": label, "n": len(t),
                       "mae_pp": float(np.mean(np.abs(truth - est))),
                       "rmse_pp": float(np.sqrt(np.mean((truth - est) ** 2))),
                       "bias_pp": float(np.mean(est - truth)),
                       "coverage90": float(coverage[t.index].mean()),
                       "carry_forward_mae_pp": None}
                if name == "nowcast":
                    row["carry_forward_mae_pp"] = float(np.mean(np.abs(truth - expit(t["carry"]))))
                rows.append(row)
    return pd.DataFrame(rows)


def _cross_coverage(trials: pd.DataFrame, half: pd.Series, name: str) -> pd.Series:
    """Inside a 90% interval whose quantiles come from the other half of the economies?"""
    residual = trials["logit"] - trials["estimate"]
    bucket = trials["horizon"].clip(upper=8) if name == "nowcast" else pd.Series(0, trials.index)
    inside = pd.Series(False, index=trials.index)
    for side in (0, 1):
        fit, test = half != side, half == side
        for b in bucket[test].unique():
            ref = residual[fit & (bucket == b)]
            if len(ref) < 15:
                ref = residual[fit]
            lo, hi = np.quantile(ref - ref.median(), [0.05, 0.95])
            sel = test & (bucket == b)
            inside[sel] = (residual[sel] >= lo) & (residual[sel] <= hi)
    return inside
