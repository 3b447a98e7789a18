"""Descriptions of the curated tables (stored with COMMENT ON) and the views built on them."""

TABLE_COMMENTS = {
    "observations": "Every country value read from every source file, long: one row per "
                    "indicator x economy x year x sex x location x release, with the file and "
                    "row it came from. Publisher aggregates are kept out (publisher_aggregates).",
    "preferred_observations": "One value per indicator x economy x year x sex x location: the "
                              "most recent release wins (release_date), ties broken by source.",
    "population": "Population counts (persons) by economy, year, sex and age band, from the "
                  "World Bank (total) and UN World Population Prospects (by sex, 10+, 15+).",
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
    "sources": "Every file read: publisher, licence, release, SHA-256 checksum, and rows read, "
               "accepted and quarantined.",
    "quarantine": "Every rejected value or row, with the file, row, column, value, the check "
                  "that failed and a reason a person understands.",
    "runs": "Every publication: when, code version, parameters, random seed and the checksums "
            "of the sources it read.",
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
    ("runs", "source_checksums"): "JSON object: file -> SHA-256",
}

VIEWS = {
    "preferred_observations": """
        SELECT * FROM observations
        QUALIFY row_number() OVER (
            PARTITION BY indicator, iso3, year, sex, location
            ORDER BY release_date DESC, source) = 1
    """,
    "population": """
        SELECT iso3, year, sex,
               CASE indicator WHEN 'WPP.POP.10UP' THEN '10+' WHEN 'WPP.POP.15UP' THEN '15+'
                    ELSE 'total' END AS age,
               value AS persons, status,
               CASE WHEN indicator = 'SP.POP.TOTL' THEN 'World Bank' ELSE 'UN WPP' END AS publisher,
               source, release
        FROM observations
        WHERE indicator IN ('SP.POP.TOTL', 'WPP.POP.TOTL', 'WPP.POP.10UP', 'WPP.POP.15UP')
    """,
}
