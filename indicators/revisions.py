"""What changed since the previous publication, and why.

Every aggregate figure whose value moved (or that appeared or disappeared) is listed with the
change and its cause:
- `new or revised data`: an input value of a member economy changed (a value reported,
  revised or withdrawn; a publisher's estimate replaced), or the group's economies changed;
- `classification`: the group's membership vintage changed (e.g. a new income list);
- `re-estimation`: same inputs, different estimate (new code, parameters or seed, or a change
  elsewhere that moved a model or a trend).
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from indicators.membership import CHANGE_COLUMNS

FIGURE_KEY = ["indicator", "sex", "location", "group_scheme", "group_code", "year"]
ESTIMATE_KEY = ["indicator", "iso3", "year", "sex", "location"]
OBSERVED = ("reported", "publisher_estimate", "unflagged")   # a value a source holds
TOLERANCE = 1e-9


def previous_tables(db_path) -> dict[str, pd.DataFrame] | None:
    """The previous publication's aggregates, estimates, membership and last run, if there is
    one."""
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            return {
                "aggregates": con.execute("SELECT * FROM aggregates").df(),
                "estimates": con.execute(
                    "SELECT indicator, iso3, year, sex, location, value, status "
                    "FROM estimates").df(),
                "groups": con.execute(
                    "SELECT group_scheme, group_code, iso3, year FROM groups").df(),
                "run_id": con.execute("SELECT run_id FROM runs WHERE status = 'published' "
                                      "ORDER BY finished_at DESC LIMIT 1").fetchone()[0],
            }
    except (duckdb.Error, TypeError):
        return None


def group_changes_since(previous: dict | None, groups: pd.DataFrame) -> pd.DataFrame:
    """Members each group lost or gained since the previous publication, over the years both
    publications cover (columns of indicators.membership.CHANGE_COLUMNS)."""
    if previous is None or previous.get("groups") is None:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    key = ["group_scheme", "group_code", "iso3", "year"]
    old, new = previous["groups"][key], groups[key]
    years = set(old["year"]) & set(new["year"])
    both = old[old["year"].isin(years)].merge(new[new["year"].isin(years)], on=key,
                                              how="outer", indicator=True)
    both = both[both["_merge"] != "both"]
    if both.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    both["change"] = both["_merge"].map({"left_only": "removed", "right_only": "added"})
    out = both.groupby(["group_scheme", "group_code", "iso3", "change"], observed=True)[
        "year"].agg(first_year="min", last_year="max").reset_index()
    names = groups.drop_duplicates("group_code").set_index("group_code")["group_name"]
    out["group_name"] = out["group_code"].map(names)
    out["before"] = f"previous publication (run {str(previous['run_id'])[:8]})"
    out["after"] = "this run"
    out["note"] = [f"{r.iso3} {'was' if r.change == 'removed' else 'was not'} a member in the "
                   f"previous publication for {r.first_year}-{r.last_year}"
                   for r in out.itertuples()]
    return out[CHANGE_COLUMNS].astype({"first_year": "int32", "last_year": "int32"})


def revisions(previous: dict | None, aggregates: pd.DataFrame, estimates: pd.DataFrame,
              groups: pd.DataFrame, run_id: str) -> pd.DataFrame:
    columns = FIGURE_KEY + ["previous_value", "value", "change", "cause",
                            "economies_with_changed_input", "previous_run_id", "run_id"]
    if previous is None:
        return pd.DataFrame(columns=columns)
    old, new = previous["aggregates"], aggregates
    both = old[FIGURE_KEY + ["value", "classification", "n_economies"]].merge(
        new[FIGURE_KEY + ["value", "classification", "n_economies"]], on=FIGURE_KEY,
        how="outer", suffixes=("_previous", ""), indicator=True)
    both["year"] = both["year"].astype("int32")
    change = both["value"] - both["value_previous"]
    moved = (both["_merge"] != "both") | (change.abs() > TOLERANCE)
    both = both[moved].copy()
    inputs = _changed_inputs(previous["estimates"], estimates, groups)
    both = both.merge(inputs, on=FIGURE_KEY, how="left")
    both["economies_with_changed_input"] = both["changed"].fillna(0).astype("int32")
    both["cause"] = np.select(
        [both["_merge"] == "right_only", both["_merge"] == "left_only",
         (both["economies_with_changed_input"] > 0)
         | (both["n_economies"] != both["n_economies_previous"]),
         both["classification"] != both["classification_previous"]],
        ["new figure", "figure withdrawn", "new or revised data", "classification"],
        "re-estimation")
    both["change"] = both["value"] - both["value_previous"]
    both["previous_run_id"] = previous["run_id"]
    both["run_id"] = run_id
    both = both.rename(columns={"value_previous": "previous_value"})
    both = both.reindex(both["change"].abs().sort_values(ascending=False).index)
    return both[columns].reset_index(drop=True)


def _changed_inputs(old: pd.DataFrame, new: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Per figure: member economies whose observed input value changed."""
    pair = old.merge(new, on=ESTIMATE_KEY, how="outer", suffixes=("_old", ""))
    was = pair["status_old"].isin(OBSERVED)
    now = pair["status"].isin(OBSERVED)
    changed = (was != now) | (was & now & ((pair["value"] - pair["value_old"]).abs()
                                           > TOLERANCE))
    changed_rows = pair.loc[changed, ESTIMATE_KEY]
    if changed_rows.empty:
        return pd.DataFrame(columns=FIGURE_KEY + ["changed"])
    members = changed_rows.merge(groups[["iso3", "year", "group_scheme", "group_code"]],
                                 on=["iso3", "year"])
    return members.groupby(FIGURE_KEY).size().rename("changed").reset_index()
