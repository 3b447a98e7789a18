"""The `headline` table: the twelve figures of WSIS+20 outcome paragraphs 20-22, ours beside
the quoted ones (catalog/wsis20_headline_figures.csv, from ITU Facts and Figures 2025 and
UN A/80/L.41). The quoted values are for readers: no method here looks at them."""
from __future__ import annotations

import pandas as pd

from catalog import group_code_for, groups, indicators, quoted_figures_path, series_label

# the quoted file's breakdown -> (sex, location)
BREAKDOWN = {"total": ("total", "total"), "female": ("female", "total"),
             "male": ("male", "total"), "urban": ("total", "urban"), "rural": ("total", "rural")}


def quoted_figures() -> pd.DataFrame:
    q = pd.read_csv(quoted_figures_path(), dtype={"note": "str", "relation": "str"})
    q["sex"] = q["breakdown"].map(lambda b: BREAKDOWN[b][0])
    q["location"] = q["breakdown"].map(lambda b: BREAKDOWN[b][1])
    q["group_code"] = q["group"].map(group_code_for)
    return q


def headline(aggregates: pd.DataFrame, estimates: pd.DataFrame,
             observations: pd.DataFrame) -> pd.DataFrame:
    q = quoted_figures()
    keys = ["indicator", "sex", "location", "group_code", "year"]
    ours = aggregates[aggregates["group_scheme"].isin(["world", "income"])]
    table = q.merge(ours, on=keys, how="left")
    table["difference"] = table["value_y"] - table["value_x"]
    notes = [_note(r, estimates, observations) for r in table.itertuples()]
    names = {c: g.name for c, g in groups().items()}
    return pd.DataFrame({
        "paragraph": table["paragraph"].astype("int32"),
        "figure": [figure_label(*r) for r in table[keys].itertuples(index=False)],
        "indicator": table["indicator"], "sex": table["sex"], "location": table["location"],
        "group_code": table["group_code"], "group_name": table["group_code"].map(names),
        "year": table["year"].astype("int32"), "value": table["value_y"],
        "lower": table["lower"], "upper": table["upper"],
        "population_coverage": table["population_coverage"],
        "classification": table["classification"],
        "quoted_value": table["value_x"].astype(float),
        "quoted_relation": table["relation"].fillna(""), "difference": table["difference"],
        "quoted_source": table["source"], "note": notes,
    })


def figure_label(indicator: str, sex: str, location: str, group_code: str, year: int) -> str:
    """'Internet use, women, World, 2025': the series, group and year in words (the labels
    and group names of the catalogs)."""
    return f"{series_label(indicator, sex, location)}, {groups()[group_code].name}, {int(year)}"


def _note(row, estimates: pd.DataFrame, observations: pd.DataFrame) -> str:
    parts = []
    series = observations[(observations["indicator"] == row.indicator)
                          & (observations["sex"] == row.sex)
                          & (observations["location"] == row.location)]
    last_year = int(series["year"].max()) if len(series) else None
    if pd.isna(row.value_y):
        return "no estimate could be made for this figure"
    if row.population_coverage == 0 and last_year is not None and row.year > last_year:
        parts.append(f"nowcast: the sources hold no country data for {row.year} (latest "
                     f"{last_year}); each economy follows its own trend from its last value")
    elif row.population_coverage < 0.5:
        parts.append(f"only {row.population_coverage:.0%} of the population lives in economies "
                     f"with reported data for {row.year}")
    latest = series[series["year"] == last_year] if last_year else series
    n_econ = series["iso3"].nunique()
    spec = indicators()[row.indicator]
    universe = estimates.loc[estimates["indicator"] == row.indicator, "iso3"].nunique()
    if row.sex == row.location == "total" and n_econ < universe / 2:
        predictor = indicators()[spec.predictor].label if spec.predictor else "year"
        parts.append(f"{spec.label.lower()} is observed in {n_econ} economies in all (at most "
                     f"{series.groupby('year')['iso3'].nunique().max()} in a year); the others "
                     f"are modelled from {predictor.lower()}, income group and region")
    if row.location != "total":
        years = f"{series['year'].min()}-{last_year}" if last_year else "no years"
        parts.append(f"urban/rural values rest on one ITU cross-section ({years}, "
                     f"{n_econ} economies); other economies' gaps are modelled and all gaps "
                     "are held constant on the logit scale")
    if row.sex != "total":
        parts.append(f"{spec.label} by sex is observed to {last_year} "
                     f"({latest['iso3'].nunique()} economies that year)")
    if isinstance(row.note, str) and row.note:
        parts.append(row.note.replace("in ict-data", "in the sources"))
    if abs(row.difference) > 3:
        parts.append(f"differs from the quoted figure by {row.difference:+.1f} pp")
    return "; ".join(parts)
