"""Weight populations per economy and year: total, by sex, aged 10+ (by sex), urban and rural.

UN World Population Prospects (as ITU weights its aggregates) where it has the economy; the
World Bank's total population for the economies WPP lacks, with their sex and age structure
taken from their SDG region's WPP economies of the same year. Years beyond a source are filled
by the economy's average growth over its last five years (population), and by carrying the
last urban share forward (urban share). The universe of a year is every economy with a weight.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

WEIGHT_COLUMNS = ["population", "population_female", "population_male", "population_10plus",
                  "population_10plus_female", "population_10plus_male", "population_urban",
                  "population_rural"]
GROWTH_YEARS = 5


def weight_column(weight: str, sex: str = "total", location: str = "total") -> str:
    """The weight population of one breakdown member: an indicator's weight (`population`,
    `population_10plus`) by sex, or the urban/rural population (all ages)."""
    if location != "total":
        return f"population_{location}"
    return weight if sex == "total" else f"{weight}_{sex}"


def _wide(pop: pd.DataFrame, publisher: str) -> pd.DataFrame:
    names = {("total", "total"): "population", ("female", "total"): "population_female",
             ("male", "total"): "population_male", ("total", "10+"): "population_10plus",
             ("female", "10+"): "population_10plus_female",
             ("male", "10+"): "population_10plus_male"}
    sel = pop[pop["publisher"] == publisher].copy()
    keys = sel["sex"].astype(str) + "|" + sel["age"].astype(str)
    sel["name"] = keys.map({f"{s}|{a}": name for (s, a), name in names.items()})
    sel = sel.dropna(subset=["name"])
    return sel.pivot_table(index=["iso3", "year"], columns="name", values="persons",
                           aggfunc="first").reset_index()


def _extend(frame: pd.DataFrame, columns: list[str], last_year: int) -> pd.DataFrame:
    """Extend each economy's series to `last_year` at its average growth of the last years."""
    frame = frame.sort_values(["iso3", "year"])
    last = frame.groupby("iso3").tail(1)
    back = frame.groupby("iso3").nth(-1 - GROWTH_YEARS)
    back = back.set_index("iso3")[columns + ["year"]]
    last = last.set_index("iso3")
    span = (last["year"] - back["year"]).reindex(last.index)
    rows = []
    for h in range(1, last_year - int(last["year"].min()) + 1):
        step = last[last["year"] + h <= last_year].copy()
        if step.empty:
            continue
        for col in columns:
            ratio = (last[col] / back[col].reindex(last.index)).reindex(step.index)
            growth = np.power(ratio, 1 / span.reindex(step.index)).fillna(1.0)
            step[col] = step[col] * np.power(growth, h)
        step["year"] = step["year"] + h
        step["extended"] = True
        rows.append(step.reset_index())
    out = pd.concat([frame.assign(extended=False), *rows], ignore_index=True)
    return out


def build_weights(population: pd.DataFrame, urban_share: pd.DataFrame, sdg_region: pd.Series,
                  first_year: int, last_year: int) -> pd.DataFrame:
    """One row per economy-year in [first_year, last_year] with every weight population.

    `population`: the curated `population` view (iso3, year, sex, age, persons, publisher).
    `urban_share`: iso3, year, value (per cent urban). `sdg_region`: iso3 → SDG region code.
    """
    wpp = _wide(population, "UN WPP")
    wpp = wpp[(wpp["year"] >= first_year) & (wpp["year"] <= last_year)]
    wpp_rows = population[population["publisher"] == "UN WPP"]
    releases = (wpp_rows.groupby(["iso3", "year"])["release"].first() if "release" in wpp_rows
                else pd.Series(dtype="str"))
    wpp["weight_source"] = "UN " + releases.reindex(
        pd.MultiIndex.from_frame(wpp[["iso3", "year"]])).fillna("WPP").to_numpy()
    wb = _wide(population, "World Bank")[["iso3", "year", "population"]]
    wb = _extend(wb, ["population"], last_year)
    wb = wb[wb["year"] >= first_year]
    wb_only = wb[~wb["iso3"].isin(set(wpp["iso3"]))].copy()
    wb_only["weight_source"] = np.where(wb_only["extended"], "World Bank, extended by growth",
                                        "World Bank")
    # sex and age structure of WB-only economies: their SDG region's WPP structure that year
    shares = wpp.assign(region=wpp["iso3"].map(sdg_region)).groupby(["region", "year"])[
        ["population", "population_female", "population_male", "population_10plus",
         "population_10plus_female", "population_10plus_male"]].sum()
    shares = shares.div(shares["population"], axis=0).drop(columns="population")
    wb_only["region"] = wb_only["iso3"].map(sdg_region)
    wb_only = wb_only.merge(shares.reset_index(), on=["region", "year"], how="left")
    for col in shares.columns:
        wb_only[col] = wb_only[col] * wb_only["population"]
    weights = pd.concat([wpp, wb_only.drop(columns=["region", "extended"])], ignore_index=True)
    weights = weights[(weights["year"] >= first_year) & (weights["year"] <= last_year)]
    urban = _urban_share(urban_share, last_year)
    weights = weights.merge(urban, on=["iso3", "year"], how="left")
    weights = weights.sort_values(["iso3", "year"])
    weights["urban_share"] = weights.groupby("iso3")["urban_share"].bfill()
    weights["urban_share"] = weights.groupby("iso3")["urban_share"].ffill()
    # economies with no urban share at all (none in the snapshot): their region's median
    region_median = weights.assign(region=weights["iso3"].map(sdg_region)).groupby(
        ["region", "year"])["urban_share"].transform("median")
    weights["urban_share"] = weights["urban_share"].fillna(region_median).fillna(50.0)
    weights["population_urban"] = weights["population"] * weights["urban_share"] / 100
    weights["population_rural"] = weights["population"] - weights["population_urban"]
    weights = weights.dropna(subset=["population"])
    weights["year"] = weights["year"].astype("int64")
    return weights[["iso3", "year", *WEIGHT_COLUMNS, "urban_share", "weight_source"]] \
        .sort_values(["iso3", "year"]).reset_index(drop=True)


def _urban_share(urban: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """Urban share per economy-year, the last value carried to `last_year`."""
    urban = urban.rename(columns={"value": "urban_share"})[["iso3", "year", "urban_share"]]
    last = urban.sort_values("year").groupby("iso3").tail(1)
    extra = [last[last["year"] < y].assign(year=y) for y in range(int(last["year"].min()) + 1,
                                                                  last_year + 1)]
    extended = pd.concat([urban, *extra], ignore_index=True)
    return extended.drop_duplicates(["iso3", "year"], keep="first")
