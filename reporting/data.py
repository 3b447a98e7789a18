"""Everything the report needs, read once from a published database (read-only)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from catalog import groups, indicators


@dataclass
class ReportData:
    aggregates: pd.DataFrame          # the aggregates table
    derived: pd.DataFrame             # aggregates_derived
    headline: pd.DataFrame            # headline
    sources: pd.DataFrame             # sources (one row per file)
    runs: pd.DataFrame                # runs, oldest first
    indicators: pd.DataFrame          # the indicator catalog
    usage: pd.DataFrame               # which source / release each indicator x sex x location rests on
    weight_sources: pd.DataFrame      # weight_source, economies, first_year, last_year (weights)
    revisions: pd.DataFrame | None = None  # figures changed since the previous publication
    parameters: pd.DataFrame | None = None  # estimation_parameters: the model's, per indicator

    @property
    def run(self) -> dict:
        """The publication this database holds: the latest published row of runs."""
        runs = self.runs
        if "status" in runs and (runs["status"] == "published").any():
            runs = runs[runs["status"] == "published"]
        row = runs.iloc[-1].to_dict()
        try:
            row["parameters"] = json.loads(row.get("parameters") or "{}")
        except (TypeError, ValueError):
            row["parameters"] = {}
        return row


# Reading order of the headline figures within a paragraph.
BREAKDOWN_ORDER = {("total", "total"): 0, ("total", "urban"): 1, ("total", "rural"): 2,
                   ("female", "total"): 3, ("male", "total"): 4}


def _reading_order(headline: pd.DataFrame) -> pd.DataFrame:
    key = pd.DataFrame({
        "p": headline["paragraph"],
        "i": headline["indicator"].map({c: i for i, c in enumerate(indicators())}),
        "g": headline["group_code"].map({c: g.order for c, g in groups().items()}),
        "b": [BREAKDOWN_ORDER.get((s, loc), 9)
              for s, loc in zip(headline["sex"], headline["location"])],
        "y": headline["year"]})
    order = key.sort_values(["p", "i", "g", "b", "y"], kind="stable").index
    return headline.loc[order].reset_index(drop=True)


def load(db_path: Path) -> ReportData:
    with duckdb.connect(str(db_path), read_only=True) as con:
        def q(sql: str) -> pd.DataFrame:
            return con.execute(sql).df()

        aggregates = q("SELECT * FROM aggregates ORDER BY indicator, sex, location, "
                       "group_scheme, group_code, year")
        derived = q("SELECT * FROM aggregates_derived ORDER BY indicator, measure, sex, "
                    "location, group_scheme, group_code, year")
        headline = q("SELECT * FROM headline")
        sources = q("SELECT * FROM sources ORDER BY source_id, file")
        runs = q("SELECT * FROM runs ORDER BY finished_at")
        indicators = q("SELECT * FROM indicators")
        weight_sources = q("SELECT weight_source, count(DISTINCT iso3) AS economies, "
                           "min(year) AS first_year, max(year) AS last_year FROM weights "
                           "GROUP BY ALL ORDER BY ALL")
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        revisions = q("SELECT * FROM revisions") if "revisions" in tables else None
        parameters = (q("SELECT * FROM estimation_parameters")
                      if "estimation_parameters" in tables else None)
        usage = q("""
            SELECT o.indicator, o.sex, o.location, o.source, o.release,
                   min(o.year) AS first_year, max(o.year) AS last_year, count(*) AS n
            FROM preferred_observations o
            GROUP BY ALL ORDER BY ALL
        """)
    headline = _reading_order(headline)
    publishers = sources.drop_duplicates("source_id").set_index("source_id")
    usage["publisher"] = usage["source"].map(publishers["publisher"])
    usage["licence"] = usage["source"].map(publishers["licence"])
    return ReportData(aggregates=aggregates, derived=derived, headline=headline,
                      sources=sources, runs=runs, indicators=indicators,
                      usage=usage, weight_sources=weight_sources, revisions=revisions,
                      parameters=parameters)
