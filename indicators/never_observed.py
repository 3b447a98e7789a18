"""Economies without any value of an indicator: a regression, fitted on the estimated series
of the observed economies in every year, on income group, SDG region, year and the
predicting indicator. Its year effects exist for every year (the observed economies' nowcasts
included), so a modelled economy follows the observed ones after the last data year."""
from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

CV_FOLDS = 5


def model_economies(covariates: pd.DataFrame, never: list[str], years: np.ndarray,
                    frame: pd.DataFrame, draws: np.ndarray, predictor,
                    rng: np.random.Generator, replicates: int):
    """Rows (iso3, year, logit, method `model`, …) of the economies `never` and their draws:
    the regression fitted on the observed economies' `frame` (their points) and on each of
    their `draws` (so that the year effects carry the nowcasts' uncertainty), plus a lasting
    economy effect whose spread is measured by leaving economies out. `predictor`: the
    predicting indicator's IndicatorEstimate, or None."""
    cov = covariates.set_index("iso3")
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
    lasting = rng.standard_normal((replicates, len(never))) * spread
    point = x_new.to_numpy() @ coef
    if pred_draws is not None:
        b = x_new.to_numpy()
        k = list(x_new.columns).index("predictor")
        out = np.empty((replicates, len(target)))
        for r in range(replicates):
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
