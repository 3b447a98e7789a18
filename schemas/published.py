"""The published database as pandera schemas: every table and view of ict.duckdb, each column
with its type, the properties it has and what it means.

The descriptions are the file's own documentation (curate/database.py stores them with
COMMENT ON): in plain words, what one row is, what each column holds and in which unit, with the
codes and names the catalogs give. The checks are properties the pipeline guarantees, by
construction or because the sources' validation already enforced them (keys unique, shares
within 0-1, intervals around their value, codes from the catalogs); a table failing one is a
bug, and the run does not publish. Properties the data merely happen to have are not checked.

A table or column without a schema here cannot be published: describe it here first.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from catalog import (
    UNIT_RANGES,
    estimated,
    groups,
    indicators,
    quoted_figures_path,
    schemes,
    urban_share_indicator,
)
from schemas.classifications import INCOME_GROUPS
from schemas.observations import (
    FIRST_YEAR,
    LOCATIONS,
    PROJECTION_HORIZON,
    SEXES,
    STATUSES,
    _unit_matches,
    _unit_range_ok,
)

VIEW_NAMES = ["preferred_observations", "population"]
ESTIMATE_STATUSES = [*STATUSES, "unflagged", "imputed"]
METHODS = ["observed", "release_adjusted", "interpolation", "nowcast", "backcast", "model",
           "breakdown", "raked"]
MEASURES = ["gender_parity_score", "urban_rural_ratio", "persons_with", "persons_without"]
CAUSES = ["new or revised data", "classification", "re-estimation", "new figure",
          "figure withdrawn"]
RUN_STATUSES = ["published", "failed", "refused", "interrupted"]
AGES = ["total", "10+", "15+"]
SHA256 = r"^[0-9a-f]{64}$"
ROUNDING = 1e-9   # relative: sums and differences of the same numbers in another order


# ------------------------------------------------------------------------- words from catalogs
def _codes(codes: list[str]) -> str:
    """'IT_USE_ii99 (Internet use), IT_MOB_OWN (Mobile phone ownership), ...'"""
    return ", ".join(f"{c} ({indicators()[c].label})" for c in codes)


def _estimated() -> list[str]:
    return [i.code for i in estimated()]


def _units(codes: list[str]) -> str:
    """The units of these indicators as a reader sees them: 'percent (% of population, % of
    population aged 10+)'."""
    by_unit: dict[str, list[str]] = {}
    for c in codes:
        labels = by_unit.setdefault(indicators()[c].unit, [])
        if indicators()[c].unit_label not in labels:
            labels.append(indicators()[c].unit_label)
    return "; ".join(f"{unit} ({', '.join(labels)})" for unit, labels in by_unit.items())


def _ranges() -> str:
    def bound(v):
        return "no upper bound" if v is None else f"{v:g}"
    return "; ".join(f"{u} {lo:g} to {bound(hi)}" for u, (lo, hi) in UNIT_RANGES.items())


def _groups_text() -> str:
    """'world: WLD World; income: HIC High income, ...' from catalog/groups.yaml."""
    parts = []
    for scheme in schemes():
        members = [f"{c} {g.name}" for c, g in groups().items() if g.scheme == scheme]
        parts.append(f"{scheme} ({schemes()[scheme]['name']}): {', '.join(members)}")
    return "; ".join(parts)


def _classifications() -> str:
    fixed = [f"{s}: {v['classification']}" for s, v in schemes().items()
             if "classification" in v]
    return ("the membership vintage used: for income groups the World Bank list by fiscal "
            "year, e.g. 'WB FY25' (with '(latest available)', '(earliest available)' or "
            f"'(fixed for all years)' where that list stood in for another year); {'; '.join(fixed)}")


def _list(values) -> str:
    values = list(values)
    return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]


# ------------------------------------------------------------------------- columns
def _text(description: str, checks=None, nullable: bool = False, unique: bool = False):
    return pa.Column(str, checks, nullable=nullable, unique=unique, description=description)


def _indicator(codes: list[str] | None = None, what: str = "") -> pa.Column:
    if codes is None:
        return _text("indicator code of the indicator catalog (table indicators, column "
                     "code): the SDG series code where one exists, else the World Bank code"
                     + what, pa.Check.isin(list(indicators())))
    return _text(f"indicator code (table indicators): {_codes(codes)}" + what,
                 pa.Check.isin(codes))


def _iso3(what: str = "the economy", pattern: str = r"^[A-Z]{3}$", unique: bool = False):
    return _text(f"ISO 3166-1 alpha-3 code of {what} (the World Bank's XKX for Kosovo, CHI for "
                 "the Channel Islands)", pa.Check.str_matches(pattern), unique=unique)


def _year(what: str = "data year", dtype: str = "int32") -> pa.Column:
    return pa.Column(dtype, pa.Check.in_range(FIRST_YEAR, PROJECTION_HORIZON),
                     description=f"{what} (calendar year)")


def _sex(members: list[str] = SEXES, what: str = "") -> pa.Column:
    return _text(f"sex: {_list(members)}{what}", pa.Check.isin(members))


def _location(members: list[str] = LOCATIONS, what: str = "") -> pa.Column:
    return _text(f"location: {_list(members)}{what}", pa.Check.isin(members))


def _share(description: str, nullable: bool = False) -> pa.Column:
    return pa.Column(float, pa.Check.in_range(0.0, 1.0), nullable=nullable,
                     description=description)


def _number(description: str, checks=None, nullable: bool = False, dtype=float) -> pa.Column:
    return pa.Column(dtype, checks, nullable=nullable, description=description)


def _count(description: str, dtype: str = "int64", nullable: bool = False) -> pa.Column:
    return pa.Column(dtype, pa.Check.ge(0), nullable=nullable, description=description)


def _date(description: str) -> pa.Column:
    # DuckDB reads a DATE back as a timestamp: coercion gives the column its DATE type again
    return pa.Column(pa.Date, coerce=True, description=description)


def _source(what: str = "the file the row comes from") -> pa.Column:
    return _text(f"source id of {what} (table sources, column source_id; catalog/sources.yaml)")


def _release(what: str = "the publisher's release the value comes from") -> pa.Column:
    return _text(what)


def _group_scheme() -> pa.Column:
    return _text("grouping scheme (catalog/groups.yaml): "
                 + "; ".join(f"{s} ({v['name']})" for s, v in schemes().items()),
                 pa.Check.isin(list(schemes())))


def _group_code() -> pa.Column:
    return _text("group code (catalog/groups.yaml; SDG regions by their UN M49 code as text): "
                 + _groups_text(), pa.Check.isin(list(groups())))


def _group_name() -> pa.Column:
    return _text("name of the group (catalog/groups.yaml)")


def _classification() -> pa.Column:
    return _text(_classifications())


def _interval(bound: str, unit: str, nullable: bool = False) -> pa.Column:
    return _number(f"{bound} bound of the 90% interval around value (5th/95th percentile of "
                   f"the bootstrap replicates), {unit}", nullable=nullable)


# ------------------------------------------------------------------------- table checks
def _interval_contains_value(df: pd.DataFrame) -> pd.Series:
    """lower <= value <= upper: the draws are centred on the value (up to 1e-6 of it: a
    value of 0 or 100 per cent sits at the edge its logit can reach)."""
    slack = 1e-6 * df["value"].abs().clip(lower=1)
    return df["value"].isna() | ((df["lower"] <= df["value"] + slack)
                                 & (df["value"] <= df["upper"] + slack))


def _group_name_of_code(df: pd.DataFrame) -> pd.Series:
    return df["group_name"] == df["group_code"].map({c: g.name for c, g in groups().items()})


def _estimate_in_unit_range(df: pd.DataFrame) -> pd.Series:
    units = df["indicator"].map({c: i.unit for c, i in indicators().items()})
    return _unit_range_ok(df.assign(unit=units))


CHECK_INTERVAL = pa.Check(_interval_contains_value, name="lower <= value <= upper")
CHECK_GROUP_NAME = pa.Check(_group_name_of_code, name="group_name is the catalog's name of "
                                                      "group_code")


def _schema(description: str, columns: dict, unique: list[str] | None = None,
            checks: list | None = None) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(columns, checks=checks, unique=unique, strict=True,
                              description=" ".join(description.split()))


# ------------------------------------------------------------------------- tables
def _observation_columns() -> dict:
    return {
        "indicator": _indicator(),
        "iso3": _iso3(),
        "year": _year(),
        "sex": _sex(),
        "location": _location(),
        "value": _number("the value, in the indicator's unit (column unit; indicators.unit_label "
                         "says how it reads)"),
        "unit": _text(f"unit of value: {_ranges()} (the range each unit allows)",
                      pa.Check.isin(list(UNIT_RANGES))),
        "status": _text("reported (country data) or publisher_estimate (the publisher's own "
                        "estimate, as its file flags it)", pa.Check.isin(STATUSES)),
        "source": _source(),
        "release": _release(),
        "file": _text("name of the file the value was read from"),
        "row": _count("line (CSV) or sheet row (spreadsheet) of that file, or record number "
                      "(JSON)"),
        "column": _text("column (or field) of that file that held the value"),
        "release_date": _date("date of that release (catalog/sources.yaml); orders releases "
                              "for precedence"),
        "file_rank": _count("rank of that file among the files of its source (1: the latest "
                            "release by the source's release_rule in catalog/sources.yaml); "
                            "orders the files of one source for precedence"),
    }


def _observations() -> pa.DataFrameSchema:
    return _schema(
        "Every country value read from every source file, long: one row per indicator x "
        "economy x year x sex x location x release, with the file and row it came from. "
        "Publisher aggregates are kept out (publisher_aggregates); rejected values are in "
        "quarantine.",
        _observation_columns(),
        unique=["indicator", "iso3", "year", "sex", "location", "source", "release", "file",
                "row", "column"],
        checks=[pa.Check(_unit_matches, name="unit is the indicator's unit in the catalog"),
                pa.Check(_unit_range_ok, name="value within the range its unit allows")])


def _preferred_observations() -> pa.DataFrameSchema:
    return _schema(
        "View of observations with one value per indicator x economy x year x sex x location: "
        "the most recent release wins (release_date), ties broken by source, then by the "
        "file's rank among the files of its source (file_rank: the catalog's release_rule, the "
        "version in the file's name in natural order), then by the later release name and file "
        "name. The columns are those of observations.",
        _observation_columns(),
        unique=["indicator", "iso3", "year", "sex", "location"])


def _population() -> pa.DataFrameSchema:
    counts = {c: i for c, i in indicators().items() if i.population}
    made_of = "; ".join(f"{c} ({i.population['publisher']}, age {i.population['age']})"
                        for c, i in counts.items())
    return _schema(
        "View of the population counts (persons) by economy, year, sex and age band, from "
        "preferred_observations: the World Bank's total population and UN World Population "
        "Prospects by sex, total, 10+ and 15+ (the most recent release of each where several "
        f"are read). Made of the indicators {made_of}.",
        {
            "iso3": _iso3(),
            "year": _year(),
            "sex": _sex(),
            "age": _text(f"age band: {_list(AGES)} (total is all ages; 10+ is aged 10 and over)",
                         pa.Check.isin(AGES)),
            "persons": _number("number of people (persons, not thousands)", pa.Check.ge(0)),
            "status": _text("reported or publisher_estimate (as in observations)",
                            pa.Check.isin(STATUSES)),
            "publisher": _text("who publishes the count: "
                               + _list(sorted({i.population["publisher"]
                                               for i in counts.values()}))),
            "source": _source(),
            "release": _release(),
        },
        unique=["iso3", "year", "sex", "age", "publisher"])


def _economies() -> pa.DataFrameSchema:
    def m49(what: str) -> pa.Column:
        return pa.Column("Int64", nullable=True, description=f"UN M49 code of the economy's "
                         f"{what} (empty where it has none)")

    return _schema(
        "ISO 3166 economies (UN M49 country codes) with their M49 code, region, sub-region and "
        "intermediate region, and whether they are least developed countries (LDC), "
        "landlocked developing countries (LLDC) or small island developing States (SIDS): "
        "the economies every country value is checked against.",
        {
            "iso3": _iso3(pattern=r"^[A-Z0-9]{3}$", unique=True),
            "m49": pa.Column("Int64", pa.Check.in_range(1, 999), nullable=True,
                             description="UN M49 numeric code of the economy"),
            "name": _text("name of the economy (M49)"),
            "region_code": m49("region (e.g. 2 Africa, 150 Europe)"),
            "sub_region_code": m49("sub-region (e.g. 202 Sub-Saharan Africa); SDG regions are "
                                   "made of sub-regions"),
            "intermediate_region_code": m49("intermediate region (e.g. 14 Eastern Africa)"),
            "ldc": pa.Column(bool, description="a least developed country (UN LDC list)"),
            "lldc": pa.Column(bool, description="a landlocked developing country"),
            "sids": pa.Column(bool, description="a small island developing State"),
            "source": _source("the classification file"),
            "release": _release("release of that file"),
        })


def _wb_economies() -> pa.DataFrameSchema:
    return _schema(
        "Economies as the World Bank lists them, with their World Bank region, one row per "
        "economy and World Bank file (the country metadata of a WDI download, the CLASS "
        "list).",
        {
            "iso3": _iso3(pattern=r"^[A-Z0-9]{3}$"),
            "name": _text("name of the economy in the World Bank's file"),
            "wb_region": _text("World Bank region (e.g. Sub-Saharan Africa, South Asia)"),
            "source": _source("the World Bank file"),
        })


def _income_groups() -> pa.DataFrameSchema:
    names = {c: g.name for c, g in groups().items()}
    return _schema(
        "World Bank income group of each economy per fiscal year, per source file (FY n runs "
        "from July n-1 to June n and classifies by GNI per capita of year n-2). Where several "
        "files give one fiscal year, the aggregates use the first source in "
        "catalog/sources.yaml.",
        {
            "iso3": _iso3(pattern=r"^[A-Z0-9]{3}$"),
            "fiscal_year": pa.Column("int64", pa.Check.in_range(1988, PROJECTION_HORIZON),
                                     description="World Bank fiscal year of the list (2025 "
                                                 "for FY25)"),
            "income_group": _text("income group: " + ", ".join(
                f"{c} ({names.get(c, c)})" for c in INCOME_GROUPS),
                pa.Check.isin(INCOME_GROUPS)),
            "source": _source("the classification file"),
            "release": _release("release of that file"),
        },
        unique=["iso3", "fiscal_year", "source"])


def _publisher_groups() -> pa.DataFrameSchema:
    return _schema(
        "Codes the World Bank uses for its own aggregates (WLD, HIC, SSF, ...): these are "
        "groups, not economies, and their values go to publisher_aggregates.",
        {
            "iso3": _text("the publisher's group code, in the column where its files put "
                          "economy codes"),
            "name": _text("the publisher's name of the group", nullable=True),
            "source": _source("the file that lists it"),
        })


def _publisher_group_members() -> pa.DataFrameSchema:
    return _schema(
        "Membership of the World Bank's own groups, as its CLASS file lists them (the Groups "
        "sheet): one row per group and member economy as listed (a pair can be listed more "
        "than once).",
        {
            "group_code": _text("the World Bank's group code (publisher_groups)"),
            "iso3": _iso3("the member economy", pattern=r"^[A-Z0-9]{3}$"),
            "source": _source("the file that lists it"),
        })


def _publisher_aggregates() -> pa.DataFrameSchema:
    return _schema(
        "Aggregates computed by the publishers themselves (World Bank, Our World in Data, ITU, "
        "UN SDG), as their files give them: kept for comparison, never used as country data.",
        {
            "indicator": _text("indicator code (the catalog's code where the publisher's code "
                               "is known to it; table indicators)", nullable=True),
            "group_code": _text("the publisher's code of the group (World Bank: WLD, HIC, ...; "
                                "ITU DataHub: the region's name)"),
            "year": _year(dtype="int64"),
            "sex": _sex(),
            "location": _location(),
            "value": _number("the publisher's aggregate, in the unit given by unit"),
            "unit": _text("unit of value (as in observations)"),
            "source": _source(),
            "release": _release(),
        })


def _indicators() -> pa.DataFrameSchema:
    roles = "headline (estimated and aggregated), auxiliary (read and kept), weight (builds " \
            "the weight populations)"
    return _schema(
        "The indicator catalog (catalog/indicators.yaml): one row per indicator with its "
        "code, title, unit, definition and the population its aggregates are weighted by.",
        {
            "code": _text("indicator code, as the other tables give it: the SDG series code "
                          "where one exists, else the World Bank code", unique=True),
            "title": _text("full title of the indicator"),
            "label": _text("short name used in charts and tables (e.g. Internet use)"),
            "unit": _text("unit of its values: " + _ranges(), pa.Check.isin(list(UNIT_RANGES))),
            "unit_label": _text("the unit as a reader sees it (e.g. % of population)"),
            "definition": _text("what the indicator measures"),
            "sdg_indicator": _text("SDG indicator number (e.g. 17.8.1); empty if none",
                                   nullable=True),
            "weight": _text("weight population of its aggregates (column of table weights: "
                            "population, population_10plus); empty if not aggregated",
                            nullable=True),
            "role": _text(f"role: {roles}", pa.Check.isin(["headline", "auxiliary", "weight"])),
            "aliases": _text("the codes other publishers use for the same series, comma-"
                             "separated (empty if none)"),
        })


def _sources() -> pa.DataFrameSchema:
    return _schema(
        "Every source file read for this publication: its publisher, licence, release and "
        "SHA-256 checksum, and how many rows were read, accepted and quarantined.",
        {
            "source_id": _text("source id (catalog/sources.yaml); the source column of the "
                               "other tables"),
            "file": _text("path of the file, relative to the source directory", unique=True),
            "publisher": _text("who publishes the file"),
            "licence": _text("the licence the publisher gives the data under"),
            "release": _release("the publisher's release (edition) of the file, as the catalog "
                                "names it or as the file itself says"),
            "release_date": _date("date of the release (catalog/sources.yaml)"),
            "file_rank": _count("rank of the file among the files of its source, 1 for the "
                                "latest release by the source's release_rule (catalog/"
                                "sources.yaml: the version in its name, in natural order); "
                                "for one key, the value of the file ranked first is preferred"),
            "sha256": _text("SHA-256 checksum of the file as read (hex)",
                            pa.Check.str_matches(SHA256)),
            "bytes": _count("size of the file in bytes"),
            "rows_read": _count("data rows (or records) read from the file"),
            "rows_accepted": _count("rows kept: rows read minus rows quarantined"),
            "rows_quarantined": _count("rows with at least one rejected value or a rejected "
                                       "row (table quarantine)"),
            "values_accepted": _count("values accepted from the file (a row of a wide file "
                                      "holds several)"),
            "economies": _count("economies with at least one accepted value in the file "
                                "(empty for a classification file)", nullable=True),
            "notes": _text("what the file's figures rest on beyond its rows: a shrink published "
                           "with --accept-shrink, columns ignored; empty if nothing",
                           nullable=True),
        },
        checks=[pa.Check(lambda df: df["rows_accepted"] + df["rows_quarantined"]
                         == df["rows_read"], name="rows_accepted + rows_quarantined = "
                                                  "rows_read")])


def _groups_changes() -> pa.DataFrameSchema:
    return _schema(
        "Members a group lost or gained: between classification files (an economy the country "
        "codes lack that another file places in a region), between vintages (an economy in one "
        "World Bank income list and not the next) and since the previous publication; the "
        "years affected, before and after what, and why.",
        {
            "group_scheme": _group_scheme(),
            "group_code": _group_code(),
            "group_name": _group_name(),
            "iso3": _iso3("the member economy"),
            "change": _text("removed, added, or unplaced (in no group of the scheme)",
                            pa.Check.isin(["removed", "added", "unplaced"])),
            "first_year": _year("first data year the change affects"),
            "last_year": _year("last data year the change affects"),
            "before": _text("the classification file or vintage (or publication) the member "
                            "was in", nullable=True),
            "after": _text("the one it is not in", nullable=True),
            "note": _text("why, in words", nullable=True),
        })


def _economy_regions() -> pa.DataFrameSchema:
    return _schema(
        "Each economy's UN M49 code and region as a second classification file (the Open Data "
        "Watch list) gives them: where an economy the country codes lack belongs.",
        {
            "iso3": _iso3(),
            "m49": _count("UN M49 code of the economy", dtype="Int64", nullable=True),
            "m49_region": _count("UN M49 code of its region", dtype="Int64"),
            "source": _source("the source id of the file (catalog/sources.yaml)"),
            "file": _text("the file it comes from"),
        })


def _quarantine() -> pa.DataFrameSchema:
    return _schema(
        "Every value or row rejected while reading the sources, with its file, row, column "
        "and value, the check that failed and a reason a person understands. Nothing "
        "rejected reaches the other tables.",
        {
            "file": _text("name of the file"),
            "row": pa.Column("Int64", pa.Check.ge(0), nullable=True,
                             description="line (CSV), sheet row or record number in that file; "
                                         "empty for a problem of the whole file"),
            "column": _text("column of the file the rejected value was in; empty for a "
                            "whole row", nullable=True),
            "value": _text("the rejected value as it was written in the file; empty if it "
                           "was missing", nullable=True),
            "check": _text("the property that failed: schema:<check> (a schema of schemas/), "
                           "number, unique_key, percent_scale, row_shape, known_economy or "
                           "year"),
            "reason": _text("why the value was rejected, for a person"),
            "iso3": _text("ISO 3166-1 alpha-3 code of the economy the rejected value was "
                          "about, where the row names one", nullable=True),
            "year": pa.Column("Int64", nullable=True,
                              description="year the rejected value was for, where the row "
                                          "gives one"),
            "source": _source("the file"),
        })


def _runs() -> pa.DataFrameSchema:
    return _schema(
        "Every run of the pipeline on this output directory (from its journal runs.jsonl), "
        "published or not: when, code version, parameters, random seed and the checksums of "
        "the sources it read. The publication this file holds is the latest published row.",
        {
            "run_id": _text("id of the run (a UUID)", unique=True),
            "started_at": pa.Column(pa.DateTime, description="when the run started (UTC)"),
            "finished_at": pa.Column(pa.DateTime, nullable=True,
                                     description="when it ended (UTC); empty if it was "
                                                 "interrupted"),
            "status": _text("published, failed, refused (another run held the publication "
                            "lock), or interrupted (the run was killed or crashed before it "
                            "ended)", pa.Check.isin(RUN_STATUSES)),
            "message": _text("why a failed run did not publish; empty otherwise", nullable=True),
            "code_version": _text("git describe of the code (or the package version)"),
            "code_fingerprint": _text("hash of the pipeline's code and catalogs"),
            "parameters": _text("JSON object: the run's parameters (source_dir, out_dir, year, "
                                "replicates, income_fiscal_year) and the estimation's"),
            "seed": pa.Column("int64", description="random seed of the bootstrap replicates"),
            "source_dir": _text("directory the sources were read from; empty if the run failed "
                                "before", nullable=True),
            "source_checksums": _text("JSON object: file (relative to source_dir) -> SHA-256; "
                                      "empty if the run failed before reading", nullable=True),
        })


def _weights() -> pa.DataFrameSchema:
    def persons(what: str, nullable: bool = True) -> pa.Column:
        # population_rural = population - population_urban: a rounding error below 0 where
        # the urban share is 100
        return _number(f"{what} (persons)", pa.Check.ge(-1e-6), nullable=nullable)

    return _schema(
        "Weight populations per economy and year (persons), the populations the aggregates "
        "are weighted by: UN World Population Prospects where it has the economy, else the "
        "World Bank's total population with its SDG region's sex and age structure, extended "
        "past the last year by the economy's recent growth (weight_source says which). The "
        "economies of a year are those with a weight.",
        {
            "iso3": _iso3(),
            "year": _year(),
            "population": persons("total population", nullable=False),
            "population_female": persons("female population"),
            "population_male": persons("male population"),
            "population_10plus": persons("population aged 10 and over"),
            "population_10plus_female": persons("female population aged 10 and over"),
            "population_10plus_male": persons("male population aged 10 and over"),
            "population_urban": persons("urban population: population x urban_share / 100",
                                        nullable=False),
            "population_rural": persons("rural population: population - population_urban",
                                        nullable=False),
            "urban_share": _number("share of the population living in urban areas, percent "
                                   f"(0-100; indicator {urban_share_indicator()}, its last "
                                   "value carried forward)", pa.Check.in_range(0.0, 100.0)),
            "weight_source": _text("where the populations come from: UN WPP <release>, World "
                                   "Bank, or World Bank, extended by growth"),
        },
        unique=["iso3", "year"],
        checks=[pa.Check(lambda df: (df["population_urban"] + df["population_rural"]
                                     - df["population"]).abs() <= ROUNDING * df["population"],
                         name="population_urban + population_rural = population")])


def _groups() -> pa.DataFrameSchema:
    return _schema(
        "Group membership actually used by the aggregates, per scheme, group, economy and "
        "year, with the classification vintage (e.g. WB FY25 for income groups).",
        {
            "group_scheme": _group_scheme(),
            "group_code": _group_code(),
            "group_name": _group_name(),
            "iso3": _iso3("the member economy"),
            "year": _year(),
            "classification": _classification(),
        },
        unique=["group_scheme", "group_code", "iso3", "year"],
        checks=[CHECK_GROUP_NAME])


def _estimates() -> pa.DataFrameSchema:
    codes = _estimated()
    unit = f"in the indicator's unit ({_units(codes)})"
    return _schema(
        "One value per indicator x economy x year x sex x location, as the aggregates use "
        "them: the preferred observation where there is one, else our estimate, with its 90% "
        "interval, its status and the method that made it.",
        {
            "indicator": _indicator(codes),
            "iso3": _iso3(),
            "year": _year(),
            "sex": _sex(),
            "location": _location(),
            "value": _number(f"the value, {unit}"),
            "lower": _interval("lower", unit),
            "upper": _interval("upper", unit),
            "status": _text("the kind of value the estimate rests on that year: reported "
                            "(national data, as a source flags it), publisher_estimate (the "
                            "publisher's estimate, SDG nature e), unflagged (a publisher's "
                            "value no source flags either way) or imputed (ours: no value "
                            "that year)", pa.Check.isin(ESTIMATE_STATUSES)),
            "method": _text("how the value was made: observed (a value kept as published), "
                            "release_adjusted (an older release's estimate, moved to the "
                            "level of the economy's newest release), interpolation (between "
                            "values), nowcast (after the last value: damped trend), backcast "
                            "(before the first), model (economy never observed: regression "
                            "on income group, region, year and a related indicator), "
                            "breakdown (a sex or location member: the total plus the "
                            "economy's gap, raked to the total) or raked (members observed "
                            "together, shifted together to meet the total)",
                            pa.Check.isin(METHODS)),
            "horizon": _count("years from the value to the nearest value it rests on (0 for "
                              "a value of that year, and for a modelled economy)",
                              dtype="int32"),
            "release": _text("the release (source / release) of the value used that year; "
                             "empty where there is none"),
            "reason": _text("why the value is what it is, in words",
                            pa.Check.str_length(min_value=1)),
            "ever_observed": pa.Column(bool, description="whether the economy has any value "
                                                         "of this series (else: modelled)"),
        },
        unique=["indicator", "iso3", "year", "sex", "location"],
        checks=[CHECK_INTERVAL,
                pa.Check(_estimate_in_unit_range, name="value within the range its unit "
                                                       "allows")])


def _aggregates() -> pa.DataFrameSchema:
    codes = _estimated()
    unit = f"in the indicator's unit (column unit: {_units(codes)})"
    return _schema(
        "Population-weighted group means: one row per indicator x sex x location x group x "
        "year, with the 90% interval, the population coverage (share of the group's weight "
        "population in economies with reported data), economy counts and the classification "
        "used. No figure is suppressed for low coverage.",
        {
            "indicator": _indicator(codes),
            "sex": _sex(),
            "location": _location(),
            "group_scheme": _group_scheme(),
            "group_code": _group_code(),
            "group_name": _group_name(),
            "year": _year(),
            "value": _number(f"population-weighted mean over the group's economies, {unit}"),
            "lower": _interval("lower", unit),
            "upper": _interval("upper", unit),
            "unit": _text("unit of value, lower and upper (indicators.unit)",
                          pa.Check.isin(list(UNIT_RANGES))),
            "population_coverage": _share(
                "share (0-1) of the group's weight population living in economies whose value "
                "that year a source flags as reported national data (0 for a nowcast year, "
                "which is still published)"),
            "coverage_publisher_estimate": _share(
                "share (0-1) living in economies whose value is a publisher's flagged estimate"),
            "coverage_unflagged": _share(
                "share (0-1) living in economies whose value is a publisher's value no source "
                "flags as reported or estimated"),
            "coverage_imputed": _share("share (0-1) living in economies whose value is our "
                                       "imputation; the four coverages sum to 1"),
            "mostly_imputed": pa.Column(bool, description="more than a third of the weight "
                                        "imputed by us (the World Bank's rule for not "
                                        "publishing; published here, flagged)"),
            "observed_coverage": _share(
                "share (0-1) living in economies with a publisher's value that year (1 - "
                "coverage_imputed)"),
            "ever_observed_share": _share(
                "share (0-1) living in economies with any value of this series (sex and "
                "location members: where the breakdown was ever measured)"),
            "breakdown_mostly_modelled": pa.Column(
                bool, description="a sex or location member for which most of the group's "
                "weight was never measured: the figure rests on modelled gaps"),
            "n_economies": _count("economies in the group that year (with a weight)",
                                  dtype="int32"),
            "n_reported": _count("of which with reported data that year", dtype="int32"),
            "classification": _classification(),
            "weight_population": _number("the group's weight population that year (persons; "
                                         "the indicator's weight, by sex or location: see "
                                         "indicators.weight)", pa.Check.gt(0)),
        },
        unique=["indicator", "sex", "location", "group_scheme", "group_code", "year"],
        checks=[CHECK_INTERVAL, CHECK_GROUP_NAME,
                pa.Check(lambda df: df["n_reported"] <= df["n_economies"],
                         name="n_reported <= n_economies"),
                pa.Check(lambda df: df["population_coverage"]
                         <= df["observed_coverage"] + ROUNDING,
                         name="population_coverage <= observed_coverage"),
                pa.Check(lambda df: (df["population_coverage"] + df["coverage_publisher_estimate"]
                                     + df["coverage_unflagged"] + df["coverage_imputed"]
                                     - 1).abs() <= 1e-9,
                         name="the four coverages sum to 1")])


def _aggregates_derived() -> pa.DataFrameSchema:
    return _schema(
        "Figures derived from the aggregates, per indicator, group and year: the gender "
        "parity score (female / male), the urban/rural ratio (urban / rural), and the number "
        "of people with and without (e.g. online and offline), each with its unit and 90% "
        "interval.",
        {
            "indicator": _indicator(_estimated()),
            "measure": _text("gender_parity_score (female / male; 0.98-1.02 counts as "
                             "parity), urban_rural_ratio (urban / rural), persons_with (people "
                             "the indicator counts, e.g. online) or persons_without (the "
                             "others, e.g. offline)", pa.Check.isin(MEASURES)),
            "unit": _text("ratio (the two ratios) or persons (the counts)",
                          pa.Check.isin(["ratio", "persons"])),
            "sex": _sex([*SEXES, "female/male"], " (female/male for the gender parity score)"),
            "location": _location([*LOCATIONS, "urban/rural"],
                                  " (urban/rural for the urban/rural ratio)"),
            "group_scheme": _group_scheme(),
            "group_code": _group_code(),
            "group_name": _group_name(),
            "year": _year(),
            "value": _number("the ratio, or the number of persons"),
            "lower": _interval("lower", "in the unit of value"),
            "upper": _interval("upper", "in the unit of value"),
            "population_coverage": _share("population coverage (0-1) of the aggregate the figure "
                                          "comes from (for a ratio, its numerator's)"),
            "classification": _classification(),
        },
        unique=["indicator", "measure", "sex", "location", "group_scheme", "group_code",
                "year"],
        checks=[CHECK_INTERVAL, CHECK_GROUP_NAME])


def _headline() -> pa.DataFrameSchema:
    unit = _units(_estimated())
    quoted = pd.read_csv(quoted_figures_path(), dtype={"relation": "str"})
    relations = sorted(set(quoted["relation"].dropna()))
    return _schema(
        "The twelve figures of WSIS+20 outcome paragraphs 20-22: our value, 90% interval and "
        "population coverage beside the value quoted (catalog/wsis20_headline_figures.csv: "
        "ITU Facts and Figures 2025, UN A/80/L.41), the difference and a note.",
        {
            "paragraph": pa.Column("int32", description="paragraph of the WSIS+20 outcome "
                                                        "document that quotes the figure"),
            "figure": _text("the figure in words: series, group and year (e.g. 'Internet use, "
                            "women, World, 2025'), from the catalogs' labels and group names",
                            pa.Check.str_length(min_value=1)),
            "indicator": _indicator(_estimated()),
            "sex": _sex(),
            "location": _location(),
            "group_code": _group_code(),
            "group_name": _group_name(),
            "year": _year(),
            "value": _number(f"our value ({unit}): the aggregate of that series, group and "
                             "year; empty if none could be made", nullable=True),
            "lower": _interval("lower", unit, nullable=True),
            "upper": _interval("upper", unit, nullable=True),
            "population_coverage": _share("population coverage (0-1) of our value (see "
                                          "aggregates)", nullable=True),
            "classification": _text(_classifications(), nullable=True),
            "quoted_value": _number(f"the value quoted in the outcome document ({unit})"),
            "quoted_relation": _text("how the document qualifies the quoted value: "
                                     + ", ".join(f"'{r}'" for r in relations)
                                     + ", or empty (the value itself)"),
            "difference": _number("value - quoted_value, in percentage points",
                                  nullable=True),
            "quoted_source": _text("where the quoted value is published"),
            "note": _text("why our value may differ from the quoted one: coverage, nowcast, "
                          "modelled economies; empty if nothing to say"),
        },
        unique=["paragraph", "indicator", "sex", "location", "group_code", "year"],
        checks=[CHECK_INTERVAL, CHECK_GROUP_NAME,
                pa.Check(lambda df: df["difference"].isna()
                         | ((df["difference"] - (df["value"] - df["quoted_value"])).abs()
                            <= ROUNDING), name="difference = value - quoted_value")])


def _backtest() -> pa.DataFrameSchema:
    pp = "percentage points"
    return _schema(
        "Pseudo-real-time backtest of the estimation: for each cut-off year 2012-2021 only "
        "values of reference years up to it were kept, every indicator estimated again, and "
        "the estimates for 1-4 years after it held against what the data later said: reported "
        "country values, and group figures from all the data where those rest on reported "
        "data for at least 60% of the group's population.",
        {
            "indicator": _indicator(_estimated()),
            "level": _text("country (economies with a value by the cut-off, beside the "
                           "baselines), country_modelled (economies without one: the "
                           "never-observed model; no baseline) or group",
                           pa.Check.isin(["country", "country_modelled", "group"])),
            "period": _text("tuning (cut-offs 2012-2017: where the interval "
                            "calibration was chosen) or evaluation (2018-2021: scored with "
                            "it, out of sample); every cut-off's parameters were fitted on "
                            "values known by it (refitted in 2012, 2015 and 2018)",
                            pa.Check.isin(["tuning", "evaluation"])),
            "horizon": _text("years after the cut-off: 1, 2, 3, 4, or 1-3 (pooled)"),
            "n": _count("held-out values scored"),
            "bias_pp": _number(f"mean error (estimate - later value), {pp}"),
            "mae_pp": _number(f"mean absolute error, {pp}", pa.Check.ge(0)),
            "mae_carry_forward_pp": _number(f"the same for the last value carried forward, "
                                            f"{pp}", pa.Check.ge(0), nullable=True),
            "mae_linear_trend_pp": _number(f"the same for a straight line through the last "
                                           f"five values, {pp}", pa.Check.ge(0),
                                           nullable=True),
            "coverage90": _share("share (0-1) of later values inside their 90% interval"),
            "interval_score": _number(f"mean interval score: the interval's width plus 20 "
                                      f"times how far the later value falls outside, {pp} "
                                      "(lower is better; width is not free)", pa.Check.ge(0)),
            "mean_width_pp": _number(f"mean width of the 90% intervals, {pp}",
                                     pa.Check.ge(0)),
        },
        unique=["indicator", "level", "period", "horizon"])


def _estimation_parameters() -> pa.DataFrameSchema:
    return _schema(
        "The estimation's parameters per indicator: the trend model's, by maximum likelihood "
        "on every value (the backtest's cut-offs use fits on the values known in 2012, 2015 "
        "and 2018), and "
        "the interval calibration chosen on the backtest's tuning "
        "cut-offs (2012-2017).",
        {
            "indicator": _indicator(_estimated()),
            "parameter": _text("q_level and q_slope (variances of the yearly level and slope "
                               "shocks, logit scale, at the middle of the scale), saturation "
                               "(the shocks' variance times (4 s (1 - s)) to this power, s the "
                               "economy's latest share), phi (damping of the slope towards its "
                               "income group's), error_sd (a value's error, logit scale, by "
                               "kind), offset_sd (spread of a release's level difference to "
                               "the economy's newest release), interval_scale (spread of the "
                               "draws of the trend model's estimates, times, per band of the "
                               "economy's last value), model_interval_scale (of the "
                               "never-observed model's), "
                               "common_share (share of the error variance common to all "
                               "economies) or backtest_on_these_sources (1: the backtest ran "
                               "on this publication's sources; 0: the latest yearly "
                               "backtest, of earlier sources, was used)"),
            "qualifier": _text("the kind (error_sd), the release (offset_sd) or the band "
                               "of the last value (interval_scale); else empty"),
            "value": _number("the parameter's value"),
        },
        unique=["indicator", "parameter", "qualifier"])


def _revisions() -> pa.DataFrameSchema:
    return _schema(
        "Every aggregate figure whose value changed since the previous publication (or that "
        "is new or withdrawn), by how much and why. Empty for a first publication.",
        {
            # no codes checked: a withdrawn figure may be of an indicator or group the
            # catalogs no longer have
            "indicator": _text("indicator code (as in aggregates)"),
            "sex": _text("sex: " + _list(SEXES)),
            "location": _text("location: " + _list(LOCATIONS)),
            "group_scheme": _text("grouping scheme (as in aggregates)"),
            "group_code": _text("group code (as in aggregates)"),
            "year": _year(),
            "previous_value": _number("value in the previous publication (as in aggregates); "
                                      "empty for a new figure", nullable=True),
            "value": _number("value in this publication; empty for a withdrawn figure",
                             nullable=True),
            "change": _number("value - previous_value, in the indicator's unit (percentage "
                              "points for a percent)", nullable=True),
            "cause": _text("new or revised data (an input value of a member economy changed, "
                           "or the group's economies), classification (a new membership "
                           "vintage), re-estimation (same inputs, another estimate: new code, "
                           "parameters or seed), new figure, figure withdrawn",
                           pa.Check.isin(CAUSES)),
            "economies_with_changed_input": _count("member economies whose observed input "
                                                   "value changed", dtype="int32"),
            "previous_run_id": _text("run_id of the previous publication (table runs)"),
            "run_id": _text("run_id of this publication"),
        },
        unique=["indicator", "sex", "location", "group_scheme", "group_code", "year"])


def _itu_indicators() -> pa.DataFrameSchema:
    return _schema(
        "Indicator metadata from the ITU DataHub API (an example extract).",
        {
            "code": _text("ITU DataHub indicator code (e.g. i99H; catalog aliases map it to "
                          "ours)"),
            "label": _text("ITU's name of the indicator"),
            "units": _text("ITU's unit of the indicator", nullable=True),
            "definition": _text("ITU's definition", nullable=True),
        })


def _itu_regions() -> pa.DataFrameSchema:
    # the column names are the API's own
    return _schema(
        "Regions of the ITU DataHub API: ITU regions, income groups and UN groupings (an "
        "example extract).",
        {
            "className": _text("the classification the region belongs to (e.g. ITU/BDT "
                               "Classification, WB_Income2022, UN M49 LDC)"),
            "regionCode": _text("ITU's code of the region (e.g. AFR, LDC)"),
            "regionName": _text("ITU's name of the region"),
            "regionID": pa.Column("int64", description="ITU DataHub's numeric id of the "
                                                       "region"),
        })


def _itu_country_regions() -> pa.DataFrameSchema:
    return _schema(
        "Countries of the ITU DataHub API with each region they belong to, one row per country "
        "and classification (an example extract: only a few countries).",
        {
            "iso3": _iso3("the country"),
            "name": _text("ITU's short name of the country", nullable=True),
            "class": _text("the classification (e.g. ITU/BDT Classification, UN M49 "
                           "Developed-developing)", nullable=True),
            "region_code": _text("ITU's code of the region in that classification",
                                 nullable=True),
            "region": _text("ITU's name of that region", nullable=True),
        })


_BUILDERS = {
    "observations": _observations,
    "preferred_observations": _preferred_observations,
    "population": _population,
    "economies": _economies,
    "wb_economies": _wb_economies,
    "income_groups": _income_groups,
    "publisher_groups": _publisher_groups,
    "publisher_group_members": _publisher_group_members,
    "publisher_aggregates": _publisher_aggregates,
    "indicators": _indicators,
    "sources": _sources,
    "quarantine": _quarantine,
    "groups_changes": _groups_changes,
    "economy_regions": _economy_regions,
    "runs": _runs,
    "weights": _weights,
    "groups": _groups,
    "estimates": _estimates,
    "aggregates": _aggregates,
    "aggregates_derived": _aggregates_derived,
    "headline": _headline,
    "backtest": _backtest,
    "estimation_parameters": _estimation_parameters,
    "revisions": _revisions,
    "itu_indicators": _itu_indicators,
    "itu_regions": _itu_regions,
    "itu_country_regions": _itu_country_regions,
}


def published_schemas() -> dict[str, pa.DataFrameSchema]:
    """The schema of every table and view the database can hold, by name (built from the
    catalogs in use)."""
    return {name: build() for name, build in _BUILDERS.items()}


def published_schema(name: str) -> pa.DataFrameSchema:
    return _BUILDERS[name]()


def empty_table(name: str) -> pd.DataFrame:
    """A table with no rows and the columns and types of its schema."""
    schema = published_schema(name)
    return pd.DataFrame({c: pd.Series(dtype=col.dtype.type) for c, col in
                         schema.columns.items()})
