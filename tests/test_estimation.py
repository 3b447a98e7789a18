"""Estimation: the estimators on known curves and toy data, then the published tables of one
pipeline run on the real snapshot (the session's `published` fixture)."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from catalog import estimated
from indicators.backtest import nowcast_trials
from indicators.estimate import (
    Inputs,
    Params,
    _damped,
    estimate_gaps,
    estimate_totals,
    expit,
    logit,
)
from indicators.estimation import estimate_all

SDG_CONTRACT_CODES = {"202", "419", "513", "753", "62", "747", "543", "53"}
STATUSES = {"reported", "publisher_estimate", "imputed"}
METHODS = {"observed", "interpolation", "nowcast", "backcast", "model", "breakdown"}


def logistic(t, k=0.4, t0=2012):
    return 100 / (1 + np.exp(-k * (np.asarray(t, dtype=float) - t0)))


def series(iso3: str, years, values=None) -> pd.DataFrame:
    years = np.asarray(list(years))
    values = logistic(years) if values is None else np.asarray(values, dtype=float)
    return pd.DataFrame({"iso3": iso3, "year": years, "logit": logit(values)})


def grid_of(iso3s, years) -> pd.DataFrame:
    return pd.MultiIndex.from_product([list(iso3s), list(years)],
                                      names=["iso3", "year"]).to_frame(index=False)


def covariates(income: dict, region: dict | None = None) -> pd.DataFrame:
    return pd.DataFrame({"iso3": list(income), "income_group": list(income.values()),
                         "sdg_region": [(region or {}).get(k, "513") for k in income]})


def percent(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(expit(frame["logit"]), index=frame["year"].to_numpy())


ONE = covariates({"AAA": "HIC"})


# ---------------------------------------------------------------- totals on known curves
def test_damping_one_is_the_straight_trend():
    h = np.arange(0, 8)
    np.testing.assert_allclose(_damped(h, 1.0), h)
    np.testing.assert_allclose(_damped(h, 0.9), (1 - 0.9 ** h) / 0.1)


def test_nowcast_recovers_logistic_curve_without_damping():
    obs = series("AAA", range(2000, 2016))
    out = estimate_totals(obs, grid_of(["AAA"], range(2000, 2021)), ONE, Params(damping=1.0))
    p = percent(out)
    after = out.set_index("year").loc[2016:2020]
    assert (after["method"] == "nowcast").all()
    assert after["horizon"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(p.loc[2016:2020], logistic(range(2016, 2021)), atol=1e-6)
    np.testing.assert_allclose(p.loc[2000:2015], logistic(range(2000, 2016)), atol=1e-9)


def test_default_damping_nowcasts_below_curve_above_last_value():
    obs = series("AAA", range(2000, 2016))
    out = estimate_totals(obs, grid_of(["AAA"], range(2016, 2026)), ONE, Params())
    assert Params().damping < 1
    p = percent(out)
    curve = pd.Series(logistic(range(2016, 2026)), index=range(2016, 2026))
    last = logistic(2015)
    assert (p > last).all()
    assert p.is_monotonic_increasing
    assert (p <= curve + 1e-9).all()
    assert (p.loc[2017:] < curve.loc[2017:] - 0.1).all()  # damping bites from h = 2


def test_interpolation_on_logistic_curve_is_exact():
    obs = series("AAA", [2000, 2005, 2010, 2015])
    out = estimate_totals(obs, grid_of(["AAA"], range(2000, 2016)), ONE, Params())
    inner = out[~out["year"].isin([2000, 2005, 2010, 2015])]
    assert (inner["method"] == "interpolation").all()
    # horizon: years to the nearest observation
    assert out.set_index("year").loc[[2001, 2002, 2003, 2004], "horizon"].tolist() == \
        [1, 2, 2, 1]
    np.testing.assert_allclose(percent(out).sort_index(), logistic(range(2000, 2016)),
                               atol=1e-9)


def test_backcast_recovers_logistic_curve_symmetrically():
    obs = series("AAA", range(2010, 2021))
    out = estimate_totals(obs, grid_of(["AAA"], range(2003, 2021)), ONE, Params(damping=1.0))
    before = out.set_index("year").loc[2003:2009]
    assert (before["method"] == "backcast").all()
    assert before["horizon"].tolist() == [7, 6, 5, 4, 3, 2, 1]
    np.testing.assert_allclose(percent(out).loc[2003:2009], logistic(range(2003, 2010)),
                               atol=1e-6)
    damped = percent(estimate_totals(obs, grid_of(["AAA"], range(2003, 2010)), ONE, Params()))
    assert (damped < logistic(2010)).all()  # below the first value ...
    assert (damped >= logistic(range(2003, 2010)) - 1e-9).all()  # ... above the curve


def test_own_trend_is_shrunk_to_income_group_trend():
    """A short own series (span 1) leans on the group's median trend; a long one on its own."""
    peers = pd.concat([series(f"P{i}", range(2005, 2016),
                              logistic(range(2005, 2016), k=0.6)) for i in range(3)])
    short = series("SSS", [2014, 2015], [40.0, 40.0])  # flat, span 1
    obs = pd.concat([peers, short])
    cov = covariates({"P0": "HIC", "P1": "HIC", "P2": "HIC", "SSS": "HIC"})
    out = estimate_totals(obs, grid_of(["SSS"], [2016]), cov, Params(damping=1.0))
    weight = 1 / (1 + Params().shrink_years)
    expected = logit(40.0) + (1 - weight) * 0.6
    assert out["logit"].iloc[0] == pytest.approx(expected, abs=1e-9)


HAND_PICKED = {
    "STEEP": [(2015, 1.0), (2016, 10.0), (2017, 50.0), (2018, 90.0), (2019, 99.5)],
    "DROP": [(2010, 90.0), (2011, 60.0), (2012, 30.0), (2013, 5.0)],
    "FULL": [(y, 100.0) for y in range(2010, 2020)],
    "ZERO": [(y, 0.0) for y in range(2010, 2020)],
    "FLAT": [(y, 42.0) for y in range(2008, 2016)],
    "ONCE": [(2012, 40.0)],
    "NOISY": list(zip(range(2005, 2020), [50, 5, 95, 20, 80, 0, 100, 33, 66, 10, 90, 45, 55,
                                          1, 99])),
}


def noisy_batch(seed: int = 20251216, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n):
        k = int(rng.integers(1, 14))
        years = np.sort(rng.choice(np.arange(2000, 2024), k, replace=False))
        values = np.clip(rng.uniform(0, 100) + np.cumsum(rng.normal(0, 20, k)), 0, 100)
        parts.append(series(f"R{i:02d}", years, values))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("damping", [0.9, 1.0])
def test_estimates_stay_within_0_100(damping):
    hand = pd.concat([series(k, [y for y, _ in v], [x for _, x in v])
                      for k, v in HAND_PICKED.items()])
    obs = pd.concat([hand, noisy_batch()], ignore_index=True)
    ids = obs["iso3"].unique()
    income = ["HIC", "LIC", None]
    # each hand-picked series is alone in its group: its pooled trend is its own
    cov = covariates({k: (f"G_{k}" if k in HAND_PICKED else income[i % 3])
                      for i, k in enumerate(ids)})
    out = estimate_totals(obs, grid_of(ids, range(2000, 2026)), cov, Params(damping=damping))
    p = expit(out["logit"])
    assert len(out) == len(ids) * 26
    assert not np.isnan(p).any()
    assert ((p >= 0) & (p <= 100)).all()
    assert {"nowcast", "backcast", "interpolation", "observed"} <= set(out["method"])
    at = out.set_index(["iso3", "year"])["logit"]
    assert expit(at["STEEP", 2025]) > 99.5
    assert expit(at["DROP", 2025]) < 5.0
    assert expit(at["FLAT", 2025]) == pytest.approx(42.0, abs=1.0)


def test_growing_series_is_not_carried_forward_flat():
    values = [20.0, 24.0, 29.0, 34.0, 40.0, 46.0]
    obs = series("AAA", range(2017, 2023), values)
    out = estimate_totals(obs, grid_of(["AAA"], range(2023, 2026)), ONE, Params())
    p = percent(out)
    assert p[2025] > values[-1] + 5
    assert p[2023] < p[2024] < p[2025] < 100


# ---------------------------------------------------------------- economies never observed
def test_never_observed_economy_gets_model_value_by_income_group():
    levels = {"H1": 2.0, "H2": 2.5, "H3": 1.5, "L1": -2.0, "L2": -2.5, "L3": -1.5}
    obs = pd.DataFrame([(k, y, b + 0.1 * (y - 2015)) for k, b in levels.items()
                        for y in range(2010, 2021)], columns=["iso3", "year", "logit"])
    cov = covariates({k: ("HIC" if k.startswith("H") else "LIC") for k in
                      [*levels, "HNEW", "LNEW"]})
    out = estimate_totals(obs, grid_of(["HNEW", "LNEW"], [2012, 2015, 2018]), cov, Params())
    assert (out["method"] == "model").all()
    at = out.set_index(["iso3", "year"])["logit"]
    for year in (2012, 2015, 2018):
        assert expit(at["HNEW", year]) > expit(at["LNEW", year]) + 50
        # the group means: +-2 on the logit scale, plus the common year effect
        assert at["HNEW", year] == pytest.approx(2.0 + 0.1 * (year - 2015), abs=1e-3)
        assert at["LNEW", year] == pytest.approx(-2.0 + 0.1 * (year - 2015), abs=1e-3)


def test_never_observed_economy_gets_model_value_by_region():
    levels = {"A1": 1.0, "A2": 1.2, "B1": -1.0, "B2": -1.2}
    region = {"A1": "513", "A2": "513", "B1": "202", "B2": "202", "ANEW": "513",
              "BNEW": "202"}
    obs = pd.DataFrame([(k, y, b) for k, b in levels.items() for y in range(2010, 2016)],
                       columns=["iso3", "year", "logit"])
    cov = covariates({k: "UMC" for k in region}, region)
    out = estimate_totals(obs, grid_of(["ANEW", "BNEW"], [2012]), cov, Params())
    at = out.set_index("iso3")["logit"]
    assert at["ANEW"] == pytest.approx(1.1, abs=1e-3)
    assert at["BNEW"] == pytest.approx(-1.1, abs=1e-3)


# ---------------------------------------------------------------- breakdown gaps
def gap_case(member_gaps: dict, years=range(2010, 2021), observed_years=(2012, 2013, 2014),
             slope=0.1):
    """Totals on a common logit line; members observed in `observed_years` with a gap per
    economy (a number, or a function of the year)."""
    ids = list(member_gaps) + ["HN", "LN"]
    total = pd.DataFrame([(k, y, slope * (y - 2015)) for k in ids for y in years],
                         columns=["iso3", "year", "logit"])
    rows = []
    for k, gap in member_gaps.items():
        for y in observed_years:
            g = gap(y) if callable(gap) else gap
            rows.append((k, y, slope * (y - 2015) + g))
    member = pd.DataFrame(rows, columns=["iso3", "year", "logit"])
    cov = covariates({k: ("HIC" if k.startswith("H") else "LIC") for k in ids},
                     {k: "202" for k in ids})
    out = estimate_gaps(member, total, total[["iso3", "year"]], cov, Params())
    return out.pivot(index="year", columns="iso3", values="gap"), \
        out.pivot(index="year", columns="iso3", values="method")


def test_observed_gap_carried_beyond_its_years_and_modelled_for_the_rest():
    gaps, methods = gap_case({"H1": -0.1, "H2": -0.1, "L1": -0.7, "L2": -0.7})
    np.testing.assert_allclose(gaps["H1"], -0.1, atol=1e-9)  # 2010-2020, observed 2012-2014
    np.testing.assert_allclose(gaps["L2"], -0.7, atol=1e-9)
    assert methods.loc[2020, "H1"] == "nowcast" and methods.loc[2010, "H1"] == "backcast"
    # never observed: the regression on income group (and region)
    assert (methods["HN"] == "model").all()
    np.testing.assert_allclose(gaps["HN"], -0.1, atol=1e-3)
    np.testing.assert_allclose(gaps["LN"], -0.7, atol=1e-3)


def test_observed_gap_interpolated_between_observed_years():
    gaps, _ = gap_case({"H1": lambda y: -0.5 if y == 2012 else -0.1, "L1": -0.7},
                       observed_years=(2012, 2016))
    assert gaps.loc[2014, "H1"] == pytest.approx(-0.3, abs=1e-9)
    assert gaps.loc[2013, "H1"] == pytest.approx(-0.4, abs=1e-9)


def test_gap_held_constant_beyond_last_observation_when_peers_trend():
    gaps, methods = gap_case({"H1": lambda y: -0.5 + 0.1 * (y - 2010),
                              "H2": -0.3, "L1": -0.7}, observed_years=(2010, 2011, 2012, 2013,
                                                                      2014))
    assert (methods.loc[2015:, "H2"] == "nowcast").all()
    np.testing.assert_allclose(gaps.loc[2015:, "H2"], -0.3, atol=1e-6)
    np.testing.assert_allclose(gaps.loc[2015:, "H1"], -0.1, atol=1e-6)


# ---------------------------------------------------------------- backtest trials
def test_nowcast_trials_on_annual_series_one_per_horizon():
    obs = pd.concat([series(k, range(2005, 2021)) for k in ("AAA", "BBB")])
    cov = covariates({"AAA": "HIC", "BBB": "HIC"})
    trials = nowcast_trials(obs, cov, Params(damping=1.0))
    assert len(trials) == 2 * Params().max_horizon
    assert sorted(trials.loc[trials["base"] == "AAA", "horizon"]) == list(range(1, 9))
    assert (trials["year"] == 2020).all()
    # a logistic curve without damping is nowcast exactly: zero residuals
    np.testing.assert_allclose(trials["logit"], trials["estimate"], atol=1e-9)
    np.testing.assert_allclose(trials["carry"], logit(logistic(2020 - trials["horizon"])))


def test_nowcast_trials_have_no_duplicate_trials():
    obs = series("AAA", range(2004, 2021, 2))  # observed every other year
    trials = nowcast_trials(obs, ONE, Params())
    assert not trials.duplicated(["base", "horizon"]).any()


# ---------------------------------------------------------------- whole estimation, toy data
def toy_inputs(seed: int = 3, n: int = 14) -> Inputs:
    """14 economies, 2000-2025, all five estimated indicators with gaps; by sex (Internet use,
    ownership) from 2015 for some; urban/rural in 2017-2018 for half; E13 never observed."""
    rng = np.random.default_rng(seed)
    ids = [f"E{i:02d}" for i in range(n)]
    incomes = ["HIC", "UMC", "LMC", "LIC"]
    cov = pd.DataFrame({"iso3": ids, "income_group": [incomes[i % 4] for i in range(n)],
                        "sdg_region": [["513", "202", "753"][i % 3] for i in range(n)]})
    wrows = []
    for i, k in enumerate(ids):
        pop, fem = 1e6 * (1 + i), 1e6 * (1 + i) * (0.45 + 0.02 * (i % 5))
        for y in range(2000, 2026):
            wrows.append({"iso3": k, "year": y, "population": pop, "population_female": fem,
                          "population_male": pop - fem, "population_10plus": 0.8 * pop,
                          "population_10plus_female": 0.8 * fem,
                          "population_10plus_male": 0.8 * (pop - fem),
                          "population_urban": 0.4 * pop, "population_rural": 0.6 * pop,
                          "urban_share": 40.0, "weight_source": "toy"})
    level = {"HIC": 1.5, "UMC": 0.5, "LMC": -0.5, "LIC": -1.5}
    rows = []
    for i, k in enumerate(ids):
        base = level[cov["income_group"][i]] + rng.normal(0, 0.3)
        for code, first, shift in [("IT_USE_ii99", 2000, 0.0), ("IT_MOB_2GNTWK", 2000, 3.0),
                                   ("IT_MOB_3GNTWK", 2007, 1.0), ("IT_MOB_4GNTWK", 2012, -1.0),
                                   ("IT_MOB_OWN", 2013, 1.5)]:
            if i == n - 1 or (i == n - 2 and code != "IT_USE_ii99"):
                continue  # never observed
            for y in [y for y in range(first, 2023) if rng.random() < 0.7]:
                lt = base + shift + 0.25 * (y - 2012) + rng.normal(0, 0.1)
                status = "reported" if rng.random() < 0.8 else "publisher_estimate"
                rows.append((code, k, y, "total", "total", float(expit(lt)), status))
                if code in ("IT_USE_ii99", "IT_MOB_OWN") and i % 3 != 2 and y >= 2015 \
                        and rng.random() < 0.6:
                    rows.append((code, k, y, "female", "total", float(expit(lt - 0.3)), status))
                    if rng.random() < 0.8:
                        rows.append((code, k, y, "male", "total", float(expit(lt + 0.25)),
                                     status))
                if code == "IT_USE_ii99" and i % 2 == 0 and y in (2017, 2018):
                    rows.append((code, k, y, "total", "urban", float(expit(lt + 0.4)), status))
                    rows.append((code, k, y, "total", "rural", float(expit(lt - 0.5)), status))
    obs = pd.DataFrame(rows, columns=["indicator", "iso3", "year", "sex", "location", "value",
                                      "status"])
    return Inputs(obs, pd.DataFrame(wrows), cov)


TOY_PARAMS = Params(replicates=40)


@pytest.fixture(scope="module")
def toy():
    inputs = toy_inputs()
    return inputs, estimate_all(inputs, TOY_PARAMS)


def test_toy_estimates_one_row_per_key_and_full_grid(toy):
    _, result = toy
    est = result.estimates
    keys = ["indicator", "iso3", "year", "sex", "location"]
    assert not est.duplicated(keys).any()
    for spec in estimated():
        first = spec.estimation["first_year"]
        rows = est[(est["indicator"] == spec.code) & (est["sex"] == "total")
                   & (est["location"] == "total")]
        assert len(rows) == 14 * (2025 - first + 1), spec.code
    series = set(map(tuple, est[["indicator", "sex", "location"]].drop_duplicates().to_numpy()))
    assert series == {("IT_USE_ii99", s, loc) for s, loc in [
        ("total", "total"), ("female", "total"), ("male", "total"), ("total", "urban"),
        ("total", "rural")]} | {("IT_MOB_OWN", s, "total") for s in ("total", "female", "male")} \
        | {(c, "total", "total") for c in ("IT_MOB_2GNTWK", "IT_MOB_3GNTWK", "IT_MOB_4GNTWK")}
    assert set(result.replicates) == series
    for key, reps in result.replicates.items():
        n = ((est["indicator"] == key[0]) & (est["sex"] == key[1])
             & (est["location"] == key[2])).sum()
        assert reps.shape == (TOY_PARAMS.replicates, n)


def test_toy_observed_values_kept_and_imputed_bounded(toy):
    inputs, result = toy
    est = result.estimates
    obs = inputs.observations.merge(est, on=["indicator", "iso3", "year", "sex", "location"],
                                    suffixes=("_obs", ""))
    assert len(obs) == len(inputs.observations)
    np.testing.assert_allclose(obs["value"], obs["value_obs"])
    assert (obs["status"] == obs["status_obs"]).all()
    assert (obs["method"] == "observed").all()
    imputed = est[est["status"] == "imputed"]
    assert set(est["status"]) == STATUSES and set(est["method"]) == METHODS
    assert ((imputed["lower"] <= imputed["value"]) & (imputed["value"] <= imputed["upper"])).all()
    assert imputed["value"].between(0, 100).all()
    assert (imputed["upper"] > imputed["lower"]).mean() > 0.95
    never = est[(est["iso3"] == "E13") & (est["sex"] == "total") & (est["location"] == "total")]
    assert (never["method"] == "model").all()


def test_toy_breakdowns_raked_to_total(toy):
    inputs, result = toy
    indexed = result.estimates.set_index(["indicator", "sex", "location", "iso3",
                                          "year"]).sort_index()
    est, status = indexed["value"], indexed["status"]
    w = inputs.weights.set_index(["iso3", "year"])
    checks = [("IT_USE_ii99", ("female", "total"), ("male", "total"), "population_female",
               "population_male"),
              ("IT_USE_ii99", ("total", "urban"), ("total", "rural"), "population_urban",
               "population_rural"),
              ("IT_MOB_OWN", ("female", "total"), ("male", "total"), "population_10plus_female",
               "population_10plus_male")]
    for code, a, b, wa, wb in checks:
        pa, pb = est[(code, *a)], est[(code, *b)]
        total = est[(code, "total", "total")]
        either = (status[(code, *a)] == "imputed") | (status[(code, *b)] == "imputed")
        ww = w.reindex(pa.index)
        mean = (pa * ww[wa] + pb * ww[wb]) / (ww[wa] + ww[wb])
        diff = (mean - total.reindex(pa.index))[either]
        assert len(diff) > 100
        assert diff.abs().max() < 0.01, (code, a, b)
        # and each replicate too
        ra, rb = result.replicates[(code, *a)], result.replicates[(code, *b)]
        rt = result.replicates[(code, "total", "total")]
        order = result.estimates
        rows = order[(order["indicator"] == code) & (order["sex"] == a[0])
                     & (order["location"] == a[1])]
        wr = w.reindex(pd.MultiIndex.from_frame(rows[["iso3", "year"]]))
        rmean = (ra * wr[wa].to_numpy() + rb * wr[wb].to_numpy()) / (wr[wa] + wr[wb]).to_numpy()
        rows_b = order[(order["indicator"] == code) & (order["sex"] == b[0])
                       & (order["location"] == b[1])]
        imputed_member = ((rows["status"] == "imputed").to_numpy()
                          | (rows_b["status"] == "imputed").to_numpy())
        assert np.abs(rmean - rt)[:, imputed_member].max() < 0.01


def test_female_below_male_where_the_toy_gap_says_so(toy):
    _, result = toy
    est = result.estimates
    sel = est[(est["indicator"] == "IT_USE_ii99") & est["sex"].isin(["female", "male"])
              & (est["year"] == 2025)].pivot(index="iso3", columns="sex", values="value")
    assert (sel["female"] < sel["male"]).all()


def test_same_seed_same_estimates(toy):
    inputs, result = toy
    again = estimate_all(inputs, TOY_PARAMS)
    pd.testing.assert_frame_equal(result.estimates, again.estimates)
    for key, reps in result.replicates.items():
        np.testing.assert_array_equal(reps, again.replicates[key])


def test_other_seed_changes_intervals_not_values(toy):
    inputs, result = toy
    other = estimate_all(inputs, Params(replicates=TOY_PARAMS.replicates, seed=TOY_PARAMS.seed + 1))
    a, b = result.estimates, other.estimates
    pd.testing.assert_frame_equal(a.drop(columns=["lower", "upper"]),
                                  b.drop(columns=["lower", "upper"]))
    imputed = (a["status"] == "imputed").to_numpy()
    changed = (a["lower"] != b["lower"]) | (a["upper"] != b["upper"])
    assert changed[imputed].mean() > 0.5
    assert not changed[~imputed].any()  # observed values have no interval to draw


def test_seed_drives_the_draws_given_the_same_pools(toy):
    """With the backtest's residual pools held fixed, the seed alone moves the intervals."""
    inputs, result = toy
    same = estimate_all(inputs, TOY_PARAMS, pools=result.pools)
    pd.testing.assert_frame_equal(result.estimates, same.estimates)
    other = estimate_all(inputs, Params(replicates=TOY_PARAMS.replicates, seed=7),
                     pools=result.pools)
    a, b = result.estimates, other.estimates
    np.testing.assert_array_equal(a["value"], b["value"])
    imputed = (a["status"] == "imputed").to_numpy()
    assert ((a["lower"] != b["lower"]) | (a["upper"] != b["upper"]))[imputed].mean() > 0.5


# ---------------------------------------------------------------- the real snapshot
@pytest.fixture(scope="module")
def con(published):
    with duckdb.connect(str(published), read_only=True) as connection:
        yield connection


def fetch(con, sql, params=None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def scalar(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def test_snapshot_estimates_one_row_per_key(con):
    assert scalar(con, "SELECT count(*) FROM estimates") > 40_000
    assert scalar(con, """SELECT count(*) FROM (SELECT indicator, iso3, year, sex, location
                          FROM estimates GROUP BY ALL HAVING count(*) > 1)""") == 0
    # every series covers every economy-year of the weights from its first year
    for spec in estimated():
        missing = scalar(con, """
            SELECT count(*) FROM weights w WHERE w.year >= ? AND NOT EXISTS (
              SELECT 1 FROM estimates e WHERE e.indicator = ? AND e.sex = 'total'
                AND e.location = 'total' AND e.iso3 = w.iso3 AND e.year = w.year)""",
                         [spec.estimation["first_year"], spec.code])
        assert missing == 0, spec.code


def test_snapshot_estimates_status_method_and_bounds(con):
    by = fetch(con, "SELECT status, method, count(*) AS n FROM estimates GROUP BY ALL")
    assert set(by["status"]) == STATUSES
    assert set(by["method"]) <= METHODS and by["method"].notna().all()
    pairs = set(zip(by["status"], by["method"]))
    assert all((m == "observed") == (s != "imputed") for s, m in pairs), pairs
    bad = scalar(con, """SELECT count(*) FROM estimates WHERE status = 'imputed' AND NOT (
                         lower <= value AND value <= upper AND value BETWEEN 0 AND 100
                         AND lower IS NOT NULL AND upper IS NOT NULL)""")
    assert bad == 0


def raking_frame(con, indicator, a, b, wa, wb):
    """Both members, the total and the weights of every economy-year with a member imputed."""
    return fetch(con, f"""
        SELECT t.iso3, t.year, t.value AS total, a.value AS a, b.value AS b,
               a.status AS a_status, b.status AS b_status, w.{wa} AS wa, w.{wb} AS wb
        FROM estimates t
        JOIN estimates a ON a.indicator = t.indicator AND a.iso3 = t.iso3 AND a.year = t.year
             AND a.sex = ? AND a.location = ?
        JOIN estimates b ON b.indicator = t.indicator AND b.iso3 = t.iso3 AND b.year = t.year
             AND b.sex = ? AND b.location = ?
        JOIN weights w ON w.iso3 = t.iso3 AND w.year = t.year
        WHERE t.indicator = ? AND t.sex = 'total' AND t.location = 'total'
          AND (a.status = 'imputed' OR b.status = 'imputed')""",
                 [*a, *b, indicator])


@pytest.mark.parametrize("indicator, a, b, wa, wb", [
    ("IT_USE_ii99", ("female", "total"), ("male", "total"), "population_female",
     "population_male"),
    ("IT_USE_ii99", ("total", "urban"), ("total", "rural"), "population_urban",
     "population_rural"),
    ("IT_MOB_OWN", ("female", "total"), ("male", "total"), "population_10plus_female",
     "population_10plus_male"),
], ids=["use-sex", "use-location", "own-sex"])
def test_snapshot_breakdowns_average_to_total(con, indicator, a, b, wa, wb):
    """Where the total is attainable (the imputed member would need a value within 0-100)
    the members average to it within 0.01 pp; where the observed member and the total
    contradict each other, the imputed member sits at the bound nearest to it."""
    f = raking_frame(con, indicator, a, b, wa, wb)
    assert len(f) > 1000
    mean = (f["a"] * f["wa"] + f["b"] * f["wb"]) / (f["wa"] + f["wb"])
    one_free = (f["a_status"] == "imputed") != (f["b_status"] == "imputed")
    need = np.where(f["a_status"] == "imputed",
                    (f["total"] * (f["wa"] + f["wb"]) - f["b"] * f["wb"]) / f["wa"],
                    (f["total"] * (f["wa"] + f["wb"]) - f["a"] * f["wa"]) / f["wb"])
    infeasible = one_free & ((need < 0) | (need > 100))
    diff = (mean - f["total"]).abs()
    assert diff[~infeasible].max() < 0.01, f[~infeasible & (diff >= 0.01)].head().to_string()
    assert infeasible.mean() < 0.005
    free_value = np.where(f["a_status"] == "imputed", f["a"], f["b"])[infeasible]
    bound = np.where(need[infeasible] > 100, 100.0, 0.0)
    np.testing.assert_allclose(free_value, bound, atol=0.01)


def test_snapshot_aggregates_bounds_and_coverage(con):
    agg = fetch(con, "SELECT * FROM aggregates")
    assert len(agg) > 1000
    assert agg["population_coverage"].between(0, 1).all()
    assert agg["observed_coverage"].between(0, 1).all()
    assert (agg["observed_coverage"] >= agg["population_coverage"] - 1e-12).all()
    assert ((agg["lower"] <= agg["value"]) & (agg["value"] <= agg["upper"])).all()
    assert agg["classification"].notna().all()
    assert agg[["value", "lower", "upper"]].notna().all().all()
    assert (agg["n_reported"] <= agg["n_economies"]).all()
    assert not agg.duplicated(["indicator", "sex", "location", "group_scheme", "group_code",
                               "year"]).any()


def test_snapshot_2025_aggregates_published_with_zero_coverage_and_an_interval(con):
    agg = fetch(con, "SELECT * FROM aggregates WHERE year = 2025")
    assert set(agg["indicator"]) == {s.code for s in estimated()}
    assert set(agg["group_scheme"]) == {"world", "income", "un_special", "sdg_region"}
    assert (agg["population_coverage"] == 0).all()
    assert (agg["n_reported"] == 0).all()
    assert (agg["upper"] - agg["lower"] > 0).all()
    assert agg["value"].notna().all()


def test_snapshot_world_aggregate_is_weighted_mean_of_estimates(con):
    """The published world value recomputed from the published estimates and weights."""
    f = fetch(con, """
        SELECT sum(e.value * w.population) / sum(w.population) AS mine, any_value(a.value) AS v
        FROM estimates e JOIN weights w USING (iso3, year)
        JOIN aggregates a ON a.indicator = e.indicator AND a.sex = e.sex
             AND a.location = e.location AND a.year = e.year AND a.group_code = 'WLD'
        WHERE e.indicator = 'IT_USE_ii99' AND e.sex = 'total' AND e.location = 'total'
          AND e.year IN (2005, 2025)
        GROUP BY e.year""")
    assert len(f) == 2
    np.testing.assert_allclose(f["mine"], f["v"], rtol=1e-9)


def test_snapshot_headline_figures_complete(con):
    h = fetch(con, "SELECT * FROM headline")
    assert len(h) == 12
    assert not h.duplicated(["indicator", "sex", "location", "group_code", "year"]).any()
    for column in ("value", "lower", "upper", "quoted_value", "difference"):
        assert h[column].notna().all(), column
    assert ((h["lower"] <= h["value"]) & (h["value"] <= h["upper"])).all()
    np.testing.assert_allclose(h["difference"], h["value"] - h["quoted_value"])
    assert set(h["paragraph"]) == {20, 21, 22}


def test_snapshot_backtest_nowcast_beats_carry_forward_and_intervals_cover(con):
    bt = fetch(con, "SELECT * FROM backtest WHERE indicator = 'IT_USE_ii99'")
    now = bt[(bt["experiment"] == "nowcast") & (bt["subset"] == "all horizons")]
    assert len(now) == 1
    assert now["mae_pp"].iloc[0] < now["carry_forward_mae_pp"].iloc[0]
    summary = bt[bt["subset"].isin(["all", "all horizons"])]
    assert set(summary["experiment"]) == {"nowcast", "interpolation", "model"}
    for row in summary.itertuples():
        assert 0.80 <= row.coverage90 <= 0.97, (row.experiment, row.coverage90)
        assert row.n >= 30
    every = fetch(con, "SELECT DISTINCT indicator, experiment FROM backtest")
    assert len(every) == 3 * len(estimated())


def test_snapshot_groups_schemes_and_sdg_regions(con):
    schemes = {r[0] for r in con.execute("SELECT DISTINCT group_scheme FROM groups").fetchall()}
    assert schemes == {"world", "income", "un_special", "sdg_region"}
    codes = {r[0] for r in con.execute(
        "SELECT DISTINCT group_code FROM groups WHERE group_scheme = 'sdg_region'").fetchall()}
    assert codes == SDG_CONTRACT_CODES
    # one income group and one SDG region per economy-year
    assert scalar(con, """SELECT count(*) FROM (SELECT iso3, year, group_scheme FROM groups
                          WHERE group_scheme IN ('income', 'sdg_region', 'world')
                          GROUP BY ALL HAVING count(*) > 1)""") == 0
    assert scalar(con, """SELECT classification FROM groups WHERE group_scheme = 'income'
                          AND year = 2010 LIMIT 1""") == "WB FY11"
