"""The views built on the curated tables. What every table, view and column means is in
schemas/published.py (stored in the file with COMMENT ON)."""
from __future__ import annotations

from catalog import population_indicators

VIEWS = {
    "preferred_observations": """
        SELECT * FROM observations
        QUALIFY row_number() OVER (
            PARTITION BY indicator, iso3, year, sex, location
            ORDER BY release_date DESC, source, file_rank, release DESC,
                     file DESC) = 1
    """,
}
# views that select whole rows of one table, unchanged (preferred_observations: SELECT * FROM
# observations): their rows passed that table's checks, so only the view's key needs checking
WHOLE_ROW_VIEWS = {"preferred_observations"}


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
