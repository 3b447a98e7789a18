"""Descriptions of the curated tables (stored with COMMENT ON) and the views built on them."""
from __future__ import annotations

from catalog import population_indicators

TABLE_COMMENTS = {
    "observations": "Every country value read from every source file, long: one row per "
                    "indicator x economy x year x sex x location x release, with the file and "
                    "row it came from. Publisher aggregates are kept out (publisher_aggregates).",
    "preferred_observations": "One value per indicator x economy x year x sex x location: the "
                              "most recent release wins (release_date), ties broken by source, "
                              "then by the later release name and file name.",
    "population": "Population counts (persons) by economy, year, sex and age band, from the "
                  "World Bank (total) and UN World Population Prospects (by sex, 10+, 15+); "
                  "the most recent release of each where several are read.",
    "economies": "ISO 3166 economies with their UN M49 code, M49 region, sub-region and "
                 "intermediate region, and LDC / LLDC / SIDS flags.",
    "wb_economies": "Economies as the World Bank lists them (with their WB region).",
    "income_groups": "World Bank income group of each economy per fiscal year (FY n = July "
                     "n-1 to June n, classifying by GNI per capita of year n-2), per source.",
    "publisher_groups": "Group codes the publishers use for their own aggregates (WLD, HIC, "
                        "...): these are not economies.",
    "publisher_group_members": "Membership of the World Bank's own groups (CLASS Groups sheet).",
    "publisher_aggregates": "Aggregates computed by the publishers (World Bank, OWID, ITU, UN "
                            "SDG), kept for comparison; never used as country data.",
    "indicators": "The indicator catalog: code, title, unit, definition, weight population.",
    "sources": "Every file read: publisher, licence, release, SHA-256 checksum, rows read, "
               "accepted and quarantined, the economies it holds values for, and notes (a "
               "shrink published with --accept-shrink, columns ignored).",
    "quarantine": "Every rejected value or row, with the file, row, column, value, the check "
                  "that failed and a reason a person understands.",
    "runs": "Every publication: when, code version, parameters, random seed and the checksums "
            "of the sources it read.",
    "weights": "Weight populations per economy and year (persons): total, by sex, aged 10+ by "
               "sex, urban and rural; UN WPP 2019 where it has the economy, else World Bank "
               "with the SDG region's sex and age structure; weight_source says which.",
    "groups": "Group membership actually used, per scheme, group and year, with the "
              "classification vintage (e.g. WB FY25 for income groups).",
    "groups_changes": "Members a group lost or gained: between classification files (an "
                      "economy the country codes lack that another file places in a region), "
                      "between vintages (an economy in one World Bank income list and not the "
                      "next) and since the previous publication; the years affected, before "
                      "and after what, and why.",
    "economy_regions": "Each economy's UN M49 code and region as a second classification file "
                       "(Open Data Watch) gives them: where an economy the country codes lack "
                       "belongs.",
    "estimates": "One value per indicator x economy x year x sex x location used by the "
                 "aggregates, with its 90% interval, status (reported, publisher_estimate, "
                 "imputed) and the method that made it.",
    "aggregates": "Population-weighted group means per indicator, sex, location and year, "
                  "with the 90% interval, population coverage (share of the group's weight "
                  "population in economies with reported data), economy counts and the "
                  "classification used.",
    "aggregates_derived": "Gender parity score (female / male), urban/rural ratio, and people "
                          "with and without (e.g. online and offline), per group and year, "
                          "with their unit and 90% interval.",
    "headline": "The twelve figures of WSIS+20 outcome paragraphs 20-22: our value, interval "
                "and coverage beside the quoted value, the difference and a note.",
    "backtest": "Backtest of the estimation: error (percentage points) of nowcasts, "
                "interpolation and whole-economy models on hidden known values, the error of "
                "carrying the last value forward, and 90% interval coverage.",
    "itu_indicators": "ITU DataHub indicator metadata.",
    "itu_regions": "ITU DataHub region list (ITU regions, income groups and UN groupings).",
    "itu_country_regions": "ITU DataHub country list with the regions each country belongs to "
                           "(example extract: only a few countries).",
}

COLUMN_COMMENTS = {
    ("observations", "indicator"): "SDG series code where one exists, else the WB code",
    ("observations", "iso3"): "ISO 3166-1 alpha-3 code of the economy (WB XKX for Kosovo, "
                              "CHI for the Channel Islands)",
    ("observations", "sex"): "total, female or male",
    ("observations", "location"): "total, urban or rural",
    ("observations", "value"): "in the indicator's unit (see indicators.unit)",
    ("observations", "status"): "reported (country data) or publisher_estimate",
    ("observations", "source"): "source id in sources.source_id",
    ("observations", "release"): "the publisher's release the value comes from",
    ("observations", "release_date"): "date of that release; orders releases for precedence",
    ("observations", "file"): "file the value was read from",
    ("observations", "row"): "line (CSV) or sheet row (spreadsheet) in that file",
    ("observations", "column"): "column of the file that held the value",
    ("quarantine", "check"): "the property that failed (schema:<check>, number, unique_key, "
                             "percent_scale, row_shape, known_economy, year)",
    ("quarantine", "reason"): "why the value was rejected, for a person",
    ("sources", "sha256"): "SHA-256 of the file as read",
    ("sources", "economies"): "economies with at least one accepted value in the file",
    ("sources", "notes"): "what the file's figures rest on beyond its rows: a shrink accepted "
                          "with --accept-shrink, columns ignored",
    ("groups_changes", "change"): "removed, added, or unplaced (in no group of the scheme)",
    ("groups_changes", "first_year"): "first data year the change affects",
    ("groups_changes", "before"): "the classification file or vintage (or publication) the "
                                  "member was in",
    ("groups_changes", "after"): "the one it is not in",
    ("runs", "source_checksums"): "JSON object: file -> SHA-256",
    ("aggregates", "value"): "population-weighted mean, in the indicator's unit",
    ("aggregates", "lower"): "lower bound of the 90% interval",
    ("aggregates", "upper"): "upper bound of the 90% interval",
    ("aggregates", "population_coverage"): "share (0-1) of the group's weight population in "
                                           "economies with reported data that year",
    ("aggregates", "observed_coverage"): "share (0-1) in economies with a reported value or a "
                                         "publisher's estimate that year",
    ("aggregates", "n_economies"): "economies in the group that year",
    ("aggregates", "n_reported"): "of which with reported data",
    ("aggregates", "classification"): "membership vintage used (income: WB FYnn)",
    ("estimates", "status"): "reported, publisher_estimate or imputed (ours)",
    ("estimates", "method"): "observed, interpolation, nowcast, backcast, model or breakdown",
    ("estimates", "horizon"): "years to the nearest observation the value rests on",
    ("headline", "difference"): "value - quoted_value, percentage points",
}

VIEWS = {
    "preferred_observations": """
        SELECT * FROM observations
        QUALIFY row_number() OVER (
            PARTITION BY indicator, iso3, year, sex, location
            ORDER BY release_date DESC, source, release DESC, file DESC) = 1
    """,
}


def population_view() -> str:
    """The population view: every population count of the catalog (role weight, with an age
    band), by economy, year, sex and age band, with its publisher."""
    counts = population_indicators()
    cases = " ".join(f"WHEN '{c}' THEN '{i.population['age']}'" for c, i in counts.items())
    publishers = " ".join(f"WHEN '{c}' THEN '{i.population['publisher']}'"
                          for c, i in counts.items())
    codes = ", ".join(f"'{c}'" for c in counts)
    return f"""
        SELECT iso3, year, sex, CASE indicator {cases} END AS age,
               value AS persons, status, CASE indicator {publishers} END AS publisher,
               source, release
        FROM preferred_observations
        WHERE indicator IN ({codes})
    """


def views() -> dict[str, str]:
    return {**VIEWS, "population": population_view()}
