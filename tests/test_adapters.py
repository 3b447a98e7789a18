"""Every adapter on its real file in the snapshot, checked against the file read independently.

The expected values here come from reading the raw files with the csv module, openpyxl, xlrd
and json, never with the adapters' own helpers: row counts, specific cells (with their
lineage), publisher aggregates kept apart, statuses, units and the quirks PROVENANCE.md lists.
"""
from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from functools import cache
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlrd

# The canonical long table, spelled out here rather than imported from the code under test.
CANONICAL = ["indicator", "iso3", "year", "sex", "location", "value", "unit", "status",
             "source", "release", "file", "row", "column"]
UNITS = {
    "IT_USE_ii99": "percent", "IT_MOB_OWN": "percent", "IT_MOB_2GNTWK": "percent",
    "IT_MOB_3GNTWK": "percent", "IT_MOB_4GNTWK": "percent", "SP.URB.TOTL.IN.ZS": "percent",
    "IT_NET_BBND": "per_100", "IT.CEL.SETS.P2": "per_100",
    "SP.POP.TOTL": "persons", "WPP.POP.TOTL": "persons", "WPP.POP.10UP": "persons",
    "WPP.POP.15UP": "persons",
    "NY.GDP.PCAP.KD": "usd", "NY.GDP.PCAP.PP.KD": "usd", "EN.ATM.CO2E.PC": "tonnes_per_capita",
}
INCOME = {"H": "HIC", "UM": "UMC", "LM": "LMC", "L": "LIC", "High income": "HIC",
          "Upper middle income": "UMC", "Lower middle income": "LMC", "Low income": "LIC"}
BOM = b"\xef\xbb\xbf"

WB_INTERNET = "world-bank/API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
WB_META = "world-bank/Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
WB_EXCERPT = "world-bank/IT.NET.USER.ZS_2024_countries.csv"
WB_URBAN = "world-bank/API_SP.URB.TOTL.IN.ZS_DS2_en_csv_v2_22447.csv"
WB_POP = "world-bank/population_SP.POP.TOTL.csv"
OGHIST_WIDE = "world-bank/OGHIST_FY10-FY23.xlsx"
OGHIST_LONG = "world-bank/OGHIST_long_2000-2022.xlsx"
CLASS = "world-bank/CLASS_FY23.xlsx"
WDI = "world-bank/WDI_extract_GDP_per_capita.xlsx"
SDG = "un-sdg/ddf--datapoints--{}.csv"
SDG_II99 = SDG.format("it_use_ii99--by--age--geo_area--nature--sex--units--year")
SDG_OWN = SDG.format("it_mob_own--by--geo_area--nature--sex--units--year")
SDG_4G = SDG.format("it_mob_4gntwk--by--geo_area--nature--units--year")
SDG_BBND = SDG.format(
    "it_net_bbnd--by--age--freq--geo_area--location--nature--sex--type_of_speed--units--year")
SDG_API = "un-sdg/sdg-api_IT_MOB_OWN_2020Q4.csv"
ITU_XLS = "itu/Individuals_using_the_Internet_by_gender_and_urban-rural_location.xls"
OWID_COVERAGE = "owid/population-covered-by-mobile-network-by-network-capability.csv"
OWID_SUBS = "owid/mobile-cellular-subscriptions-per-100-people.csv"
OWID_BBND = "owid/broadband-penetration-by-country.csv"
WPP = "un-wpp/wpp2019_pop_sex_10plus_1990_2030.csv"
COUNTRY_CODES = "classifications/country-codes.csv"
ODW = "classifications/odw_country_region_codes_2021.csv"


# ---------------------------------------------------------------------------------------------
# Independent raw readers (cached: each raw file is read once per session)
# ---------------------------------------------------------------------------------------------

@cache
def csv_records(path: Path) -> tuple[tuple[str, ...], ...]:
    """All CSV records, BOM removed. Record i is file line i+1 when no value spans lines."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return tuple(tuple(r) for r in csv.reader(handle))


def csv_table(path: Path, first_column: str | None = None) -> tuple[list[str], list[tuple]]:
    """(header, data rows) where each data row is (line number, dict); blank records skipped."""
    records = csv_records(path)
    at = 0 if first_column is None else next(
        i for i, r in enumerate(records) if r and r[0] == first_column)
    header = list(records[at])
    rows = [(i + 1, dict(zip(header, r))) for i, r in enumerate(records) if i > at
            and r and any(f.strip() for f in r)]
    return header, rows


@cache
def xlsx_rows(path: Path, sheet: str) -> tuple[tuple, ...]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return tuple(tuple(r) for r in book[sheet].iter_rows(values_only=True))
    finally:
        book.close()


def xlsx_table(path: Path, sheet: str, key: str) -> list[tuple[int, dict]]:
    """(spreadsheet row, record) below the header row holding `key`; empty rows skipped."""
    rows = xlsx_rows(path, sheet)
    at = next(i for i, r in enumerate(rows) if key in r)
    header = rows[at]
    return [(i + 1, dict(zip(header, r))) for i, r in enumerate(rows) if i > at
            and any(c is not None and str(c).strip() for c in r)]


@cache
def itu_sheet(path: Path):
    return xlrd.open_workbook(str(path)).sheet_by_index(0)


# ---------------------------------------------------------------------------------------------
# Access to the adapters' output
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def by_file(snapshot_results, snapshot) -> dict[str, object]:
    """Snapshot-relative path → FileResult."""
    return {r.path.relative_to(snapshot).as_posix(): r for r in snapshot_results}


@pytest.fixture(scope="module")
def ex(by_file):
    def get(rel: str):
        result = by_file[rel]
        assert result.error is None, f"{rel}: {result.error}"
        return result.extract
    return get


@pytest.fixture(scope="module")
def all_observations(snapshot_results) -> pd.DataFrame:
    frames = [r.extract.tables["observations"] for r in snapshot_results
              if r.extract is not None and "observations" in r.extract.tables]
    return pd.concat(frames, ignore_index=True)


def one(obs: pd.DataFrame, indicator: str, iso3: str, year: int, sex: str = "total",
        location: str = "total") -> pd.Series:
    hit = obs[(obs["indicator"] == indicator) & (obs["iso3"] == iso3) & (obs["year"] == year)
              & (obs["sex"] == sex) & (obs["location"] == location)]
    assert len(hit) == 1, f"{indicator} {iso3} {year} {sex} {location}: {len(hit)} rows"
    return hit.iloc[0]


def absent(obs: pd.DataFrame, indicator: str, iso3: str, year: int, sex: str = "total",
           location: str = "total") -> bool:
    return not ((obs["indicator"] == indicator) & (obs["iso3"] == iso3) & (obs["year"] == year)
                & (obs["sex"] == sex) & (obs["location"] == location)).any()


def check_cell(obs, raw_text, indicator, iso3, year, line, column, sex="total",
               location="total", scale=1.0):
    """The canonical row equals the raw cell (as a number) and points back at it."""
    row = one(obs, indicator, iso3, year, sex, location)
    assert row["value"] == pytest.approx(float(raw_text) * scale, rel=1e-12, abs=0)
    assert int(row["row"]) == line
    assert row["column"] == column
    return row


def groups_of(ex, rel: str) -> pd.DataFrame:
    return ex(rel).tables["income_groups"]


# ---------------------------------------------------------------------------------------------
# Every file read; row counts computed independently
# ---------------------------------------------------------------------------------------------

def test_every_catalogued_snapshot_file_is_read_without_error(snapshot_results, snapshot):
    errors = [str(r.error) for r in snapshot_results if r.error is not None]
    assert errors == []
    read = {r.path.relative_to(snapshot).as_posix() for r in snapshot_results}
    data_files = {p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*")
                  if p.is_file() and ("datapoints" in p.name or p.suffix in (".xls", ".xlsx"))}
    assert data_files <= read
    for rel in [WB_INTERNET, WB_META, WB_EXCERPT, WB_URBAN, WB_POP, SDG_API, OWID_COVERAGE,
                OWID_SUBS, OWID_BBND, WPP, COUNTRY_CODES, ODW]:
        assert rel in read
    assert len([r for r in read if r.startswith("itu/datahub-api-examples/")]) == 4



def _csv_count(first_column=None):
    return lambda path: len(csv_table(path, first_column)[1])


def _xlsx_count(sheet, key, required):
    return lambda path: sum(1 for _, r in xlsx_table(path, sheet, key)
                            if all(r.get(k) is not None for k in required))


def _itu_count(path):
    sheet = itu_sheet(path)
    header = next(i for i in range(sheet.nrows) if "Economy name" in sheet.row_values(i))
    return sum(1 for i in range(header + 1, sheet.nrows)
               if str(sheet.cell_value(i, 1)).strip() and sheet.cell_type(i, 3) == xlrd.XL_CELL_NUMBER)


def _json_count(path):
    return len(json.loads(path.read_text(encoding="utf-8")))


ROW_COUNTS = {
    WB_INTERNET: _csv_count("Country Name"),
    WB_META: _csv_count(),
    WB_EXCERPT: _csv_count(),
    WB_URBAN: _csv_count("Country Name"),
    WB_POP: _csv_count(),
    OGHIST_WIDE: _xlsx_count("Country Analytical History", "Code", ["Code"]),
    OGHIST_LONG: _xlsx_count("Country Analytical History", "Code", ["Code"]),
    CLASS: _xlsx_count("List of economies", "Code", []),
    WDI: _xlsx_count("Data", "Series Name", ["Code", "Series Name"]),
    **{SDG.format(s): _csv_count() for s in [
        "it_mob_2gntwk--by--geo_area--nature--units--year",
        "it_mob_3gntwk--by--geo_area--nature--units--year",
        "it_mob_4gntwk--by--geo_area--nature--units--year",
        "it_mob_own--by--geo_area--nature--sex--units--year",
        "it_net_bbnd--by--age--freq--geo_area--location--nature--sex--type_of_speed--units--year",
        "it_use_ii99--by--age--geo_area--nature--sex--units--year",
    ]},
    SDG_API: _csv_count(),
    ITU_XLS: _itu_count,
    **{f"itu/datahub-api-examples/datahub_itu-{n}.json": _json_count for n in [
        "get-indicator", "get-regional-aggregate", "list-countries", "list-regions"]},
    OWID_COVERAGE: _csv_count(),
    OWID_SUBS: _csv_count(),
    OWID_BBND: _csv_count(),
    WPP: _csv_count(),
    COUNTRY_CODES: _csv_count(),
    ODW: _csv_count(),
}
# Rows the snapshot really rejects, and why (everything else is read clean).
EXPECTED_QUARANTINE = {
    ODW: {"unique_key"},  # Faroe Islands listed twice (rows 71 and 73) with the same group
    SDG_API: {"schema:value_in_unit_range"},  # four ownership values above 100 %
}


@pytest.mark.parametrize("rel", sorted(ROW_COUNTS), ids=lambda rel: Path(rel).name[:60])
def test_rows_read_equals_the_files_data_rows(rel, ex, snapshot):
    extract = ex(rel)
    expected = ROW_COUNTS[rel](snapshot / rel)
    assert expected > 0
    assert extract.rows_read == expected
    assert extract.rows_accepted + extract.rows_quarantined == extract.rows_read
    checks = set(extract.quarantine["check"]) if len(extract.quarantine) else set()
    assert checks == EXPECTED_QUARANTINE.get(rel, set())


def test_known_row_counts_of_the_snapshot(ex):
    """Pins the counts PROVENANCE.md states, so a changed snapshot is noticed."""
    assert ex(WB_EXCERPT).rows_read == 182
    assert ex(ITU_XLS).rows_read == 112
    assert ex(WB_INTERNET).rows_read == 218  # 217 economies + INX
    assert ex(SDG_BBND).rows_read == 8683  # all speed tiers, of which 'anys' is used


# ---------------------------------------------------------------------------------------------
# Canonical columns, no nulls, no publisher aggregates in country data
# ---------------------------------------------------------------------------------------------

def test_every_observations_frame_is_canonical_and_complete(snapshot_results):
    frames = 0
    for r in snapshot_results:
        if r.extract is None or "observations" not in r.extract.tables:
            continue
        obs = r.extract.tables["observations"]
        frames += 1
        assert list(obs.columns) == CANONICAL, r.path.name
        nulls = obs.isna().sum()
        assert not nulls.any(), f"{r.path.name}: nulls in {nulls[nulls > 0].to_dict()}"
        assert pd.api.types.is_integer_dtype(obs["year"]), r.path.name
        assert pd.api.types.is_float_dtype(obs["value"]), r.path.name
        assert set(obs["sex"]) <= {"total", "female", "male"}
        assert set(obs["location"]) <= {"total", "urban", "rural"}
        assert set(obs["status"]) <= {"reported", "publisher_estimate"}
        assert (obs["file"] == r.path.name).all()
        assert (obs["source"] == r.entry.id).all()
        keys = ["indicator", "iso3", "year", "sex", "location", "source", "release"]
        assert not obs.duplicated(keys).any(), r.path.name
    assert frames >= 17


def test_no_publisher_aggregates_in_observations(all_observations, ex, snapshot):
    codes = set(all_observations["iso3"])
    assert all(re.fullmatch(r"[A-Z]{3}", c) for c in codes)
    # Group codes from the World Bank files themselves: metadata rows with no Region, CLASS groups.
    _, meta = csv_table(snapshot / WB_META)
    wb_groups = {r["Country Code"] for _, r in meta if not r["Region"].strip()}
    wb_groups |= {r["GroupCode"] for _, r in xlsx_table(snapshot / CLASS, "Groups", "GroupCode")}
    assert {"WLD", "HIC", "LMY", "EUU", "SSF"} <= wb_groups
    assert codes & wb_groups == set()
    assert "INX" not in codes and "World" not in codes
    assert not any(c.startswith("OWID") for c in codes)
    # Every economy in country data is one of the classification files' economies.
    _, iso = csv_table(snapshot / COUNTRY_CODES)
    known = {r["ISO3166-1-Alpha-3"] for _, r in iso} | {r["Country Code"] for _, r in meta
                                                         if r["Region"].strip()}
    assert codes <= known


def test_inx_not_classified_is_not_an_economy(ex, snapshot):
    _, rows = csv_table(snapshot / WB_INTERNET, "Country Name")
    assert "INX" in {r["Country Code"] for _, r in rows}
    _, meta = csv_table(snapshot / WB_META)
    assert "INX" not in {r["Country Code"] for _, r in meta}
    assert "INX" not in set(ex(WB_INTERNET).tables["observations"]["iso3"])
    assert "INX" not in set(ex(WB_META).tables["wb_economies"]["iso3"])


def test_publisher_aggregates_kept_apart_where_the_file_has_them(ex, snapshot):
    # World Bank population: WLD and the income groups, with the file's values.
    pop = ex(WB_POP)
    agg = pop.tables["publisher_aggregates"]
    _, rows = csv_table(snapshot / WB_POP)
    wld_2020 = next(r for _, r in rows if r["Country Code"] == "WLD" and r["Year"] == "2020")
    hit = agg[(agg["group_code"] == "WLD") & (agg["year"] == 2020)]
    assert hit["value"].tolist() == [float(wld_2020["Value"])]
    assert {"WLD", "HIC", "UMC", "LMC", "LIC"} <= set(agg["group_code"])
    # Nothing dropped silently: every value row is either country data or an aggregate.
    with_value = sum(1 for _, r in rows if r["Value"].strip())
    assert len(pop.tables["observations"]) + len(agg) == with_value
    # OWID subscriptions and broadband keep "World" and the income groups as aggregates.
    for rel, column in [(OWID_SUBS, "Mobile cellular subscriptions"),
                        (OWID_BBND, "Fixed broadband subscriptions")]:
        agg = ex(rel).tables["publisher_aggregates"]
        _, rows = csv_table(snapshot / rel)
        world = {int(r["Year"]): float(r[column]) for _, r in rows
                 if r["Entity"] == "World" and r[column].strip()}
        got = agg[agg["group_code"] == "World"].set_index("year")["value"].to_dict()
        assert got == world and len(world) > 10
        assert "High income" in set(agg["group_code"])
        groups = {r["Entity"] for _, r in rows
                  if r["Code"] == "" or (r["Code"].startswith("OWID_") and r["Code"] != "OWID_KOS")}
        assert set(agg["group_code"]) == groups
    # The DataBank extract keeps WLD apart as well.
    assert "WLD" in set(ex(WDI).tables["publisher_aggregates"]["group_code"])
    # DataHub regional series: regions only, no country data.
    regional = ex("itu/datahub-api-examples/datahub_itu-get-regional-aggregate.json")
    raw = json.loads((snapshot / "itu/datahub-api-examples/"
                      "datahub_itu-get-regional-aggregate.json").read_text(encoding="utf-8"))
    agg = regional.tables["publisher_aggregates"]
    assert len(regional.tables.get("observations", [])) == 0
    assert sorted(zip(agg["group_code"], agg["year"], agg["value"])) == sorted(
        (r["regionName"], r["dataYear"], r["answer"][0]["value"]) for r in raw)


def test_owid_kosovo_is_a_country_not_an_aggregate(ex, snapshot):
    """OWID codes Kosovo OWID_KOS; it is Kosovo (XKX), not one of OWID's groups."""
    _, rows = csv_table(snapshot / OWID_SUBS)
    kosovo = {int(r["Year"]): float(r["Mobile cellular subscriptions"]) for _, r in rows
              if r["Code"] == "OWID_KOS" and r["Mobile cellular subscriptions"].strip()}
    assert kosovo
    extract = ex(OWID_SUBS)
    obs = extract.tables["observations"]
    got = obs[obs["iso3"] == "XKX"].set_index("year")["value"].to_dict()
    assert got == kosovo
    assert "Kosovo" not in set(extract.tables["publisher_aggregates"]["group_code"])


# ---------------------------------------------------------------------------------------------
# World Bank
# ---------------------------------------------------------------------------------------------

def _wb_bulk_cell(path, code, year):
    _, rows = csv_table(path, "Country Name")
    line, record = next((n, r) for n, r in rows if r["Country Code"] == code)
    return record[str(year)], line


def test_wb_internet_values(ex, snapshot):
    obs = ex(WB_INTERNET).tables["observations"]
    path = snapshot / WB_INTERNET
    for code, year in [("ABW", 2016), ("ALB", 2023), ("AFG", 2010), ("NGA", 2021),
                       ("USA", 2000), ("ZWE", 2022)]:
        text, line = _wb_bulk_cell(path, code, year)
        row = check_cell(obs, text, "IT_USE_ii99", code, year, line, str(year))
        assert row["unit"] == "percent" and row["status"] == "reported"
    # Aruba's series in this file ends in 2017: 93.5425 is 2016; 2018-2023 are empty.
    assert one(obs, "IT_USE_ii99", "ABW", 2016)["value"] == 93.5425
    assert one(obs, "IT_USE_ii99", "ABW", 2017)["value"] == 97.17
    # Empty cells give no row.
    for year in (1960, 2018, 2023):
        text, _ = _wb_bulk_cell(path, "ABW", year)
        assert text == "" and absent(obs, "IT_USE_ii99", "ABW", year)
    # 59 countries have a 2023 value in this release.
    assert obs[obs["year"] == 2023]["iso3"].nunique() == 59
    # Every non-empty cell of an economy row is a canonical row.
    _, rows = csv_table(path, "Country Name")
    cells = sum(1 for _, r in rows if r["Country Code"] != "INX"
                for k, v in r.items() if re.fullmatch(r"\d{4}", k) and v.strip())
    assert len(obs) == cells


def test_wb_internet_small_percentages_are_kept(ex, snapshot):
    """Values between 0 and 1 are per cent (early years), not fractions: all accepted."""
    obs = ex(WB_INTERNET).tables["observations"].set_index(["iso3", "year"])["value"]
    _, rows = csv_table(snapshot / WB_INTERNET, "Country Name")
    small = {(r["Country Code"], int(k)): float(v) for _, r in rows for k, v in r.items()
             if re.fullmatch(r"\d{4}", k) and v.strip() and 0 < float(v) < 1}
    assert len(small) > 1000
    assert all(obs[key] == value for key, value in small.items())
    assert ex(WB_INTERNET).rows_quarantined == 0
    # The SDG file's small values are accepted too (AFG 2003: 0.09).
    sdg = ex(SDG_II99).tables["observations"]
    assert one(sdg, "IT_USE_ii99", "AFG", 2003)["value"] == 0.09
    assert ((sdg["value"] > 0) & (sdg["value"] < 1)).sum() > 100


def test_wb_internet_2024_excerpt(ex, snapshot):
    extract = ex(WB_EXCERPT)
    obs = extract.tables["observations"]
    _, rows = csv_table(snapshot / WB_EXCERPT)
    assert len(rows) == 182
    raw = {r["iso3"]: (float(r["pct_usuarios_internet"]), n) for n, r in rows}
    assert {int(r["anio"]) for _, r in rows} == {2024}
    assert set(obs["iso3"]) == set(raw) and len(obs) == 182
    assert set(obs["year"]) == {2024}
    for iso3 in ["AFG", "ALB", "NGA", rows[-1][1]["iso3"]]:
        value, line = raw[iso3]
        row = one(obs, "IT_USE_ii99", iso3, 2024)
        assert row["value"] == value and row["row"] == line
        assert row["column"] == "pct_usuarios_internet"
    assert one(obs, "IT_USE_ii99", "AFG", 2024)["value"] == 16.09499931
    assert set(obs["release"]) == {"WDI 2026"}


def test_wb_urban_trailing_empty_column_ignored(ex, snapshot):
    path = snapshot / WB_URBAN
    header, rows = csv_table(path, "Country Name")
    assert header[-1] == "" and all(r[""] == "" for _, r in rows)  # the quirk is real
    assert path.read_bytes().startswith(BOM)
    extract = ex(WB_URBAN)
    obs = extract.tables["observations"]
    assert extract.rows_quarantined == 0
    assert obs["column"].str.fullmatch(r"\d{4}").all()
    assert obs["year"].max() == 2024
    for code, year in [("ABW", 2024), ("AFG", 1960), ("IND", 2000), ("FRA", 2020)]:
        text, line = _wb_bulk_cell(path, code, year)
        row = check_cell(obs, text, "SP.URB.TOTL.IN.ZS", code, year, line, str(year))
        assert row["unit"] == "percent"
    assert one(obs, "SP.URB.TOTL.IN.ZS", "ABW", 2024)["value"] == 44.474
    assert set(obs["release"]) == {"WDI 2025-07-01"}  # from the file's "Last Updated Date"


def test_wb_population_long(ex, snapshot):
    obs = ex(WB_POP).tables["observations"]
    _, rows = csv_table(snapshot / WB_POP)
    index = {(r["Country Code"], int(r["Year"])): (r["Value"], n) for n, r in rows}
    for code, year in [("ABW", 1960), ("XKX", 1960), ("CHN", 2024), ("NGA", 2000)]:
        text, line = index[(code, year)]
        row = check_cell(obs, text, "SP.POP.TOTL", code, year, line, "Value")
        assert row["unit"] == "persons"
    assert one(obs, "SP.POP.TOTL", "ABW", 1960)["value"] == 54922


def test_wb_databank_extract(ex, snapshot):
    obs = ex(WDI).tables["observations"]
    names = {"GDP per capita (constant 2015 US$)": "NY.GDP.PCAP.KD",
             "GDP per capita, PPP (constant 2017 international $)": "NY.GDP.PCAP.PP.KD",
             "CO2 emissions (metric tons per capita)": "EN.ATM.CO2E.PC"}
    table = xlsx_table(snapshot / WDI, "Data", "Series Name")
    checked = 0
    for line, r in table:
        if r["Code"] in ("AFG", "BRA") and r["Series Name"] in names:
            year_col = next(k for k in r if str(k).startswith("2019"))
            row = one(obs, names[r["Series Name"]], r["Code"], 2019)
            assert row["value"] == pytest.approx(float(r[year_col]), rel=1e-12)
            assert row["row"] == line
            checked += 1
    assert checked == 6
    afg_co2 = next(r for _, r in table
                   if r["Code"] == "AFG" and r["Series Name"].startswith("CO2"))
    assert afg_co2[2021] == ".." and absent(obs, "EN.ATM.CO2E.PC", "AFG", 2021)
    assert set(obs["unit"]) == {"usd", "tonnes_per_capita"}


# ---------------------------------------------------------------------------------------------
# UN SDG
# ---------------------------------------------------------------------------------------------

def _sdg_rows(snapshot, rel):
    header, rows = csv_table(snapshot / rel)
    return header[-1], rows


@pytest.mark.parametrize("rel, indicator, picks", [
    (SDG.format("it_mob_2gntwk--by--geo_area--nature--units--year"), "IT_MOB_2GNTWK",
     [("4", "2007"), ("566", "2015"), ("716", "2021")]),
    (SDG.format("it_mob_3gntwk--by--geo_area--nature--units--year"), "IT_MOB_3GNTWK",
     [("4", "2013"), ("566", "2015"), ("356", "2020")]),
    (SDG_4G, "IT_MOB_4GNTWK", [("4", "2019"), ("566", "2020"), ("840", "2021")]),
    (SDG_II99, "IT_USE_ii99", [("4", "2019"), ("566", "2021"), ("76", "2015")]),
])
def test_sdg_ddf_values(rel, indicator, picks, ex, snapshot):
    obs = ex(rel).tables["observations"]
    value_col, rows = _sdg_rows(snapshot, rel)
    m49 = {int(r["M49"]): r["ISO3166-1-Alpha-3"] for _, r in csv_table(snapshot / COUNTRY_CODES)[1]
           if r["M49"].strip()}
    for geo, year in picks:
        line, r = next((n, r) for n, r in rows if r["geo_area"] == geo and r["year"] == year
                       and r.get("sex", "bothsex") == "bothsex")
        check_cell(obs, r[value_col], indicator, m49[int(geo)], int(year), line, value_col)
    assert set(obs["unit"]) == {"percent"}


def test_sdg_named_values(ex, snapshot):
    assert one(ex(SDG_4G).tables["observations"], "IT_MOB_4GNTWK", "AFG", 2019)["value"] == 22
    own = ex(SDG_OWN).tables["observations"]
    _, rows = _sdg_rows(snapshot, SDG_OWN)
    line, r = next((n, r) for n, r in rows if r["geo_area"] == "12" and r["year"] == "2018"
                   and r["sex"] == "female")
    check_cell(own, r["it_mob_own"], "IT_MOB_OWN", "DZA", 2018, line, "it_mob_own",
               sex="female")
    assert one(own, "IT_MOB_OWN", "DZA", 2018, "female")["value"] == 83.0695


def test_sdg_broadband_any_speed_per_100(ex, snapshot):
    obs = ex(SDG_BBND).tables["observations"]
    _, rows = _sdg_rows(snapshot, SDG_BBND)
    anys = [(n, r) for n, r in rows if r["type_of_speed"] == "anys"]
    assert len(obs) == len(anys) < len(rows)
    assert set(obs["unit"]) == {"per_100"}
    for geo, iso3, year in [("4", "AFG", "2015"), ("826", "GBR", "2020"), ("410", "KOR", "2021")]:
        line, r = next((n, r) for n, r in anys if r["geo_area"] == geo and r["year"] == year)
        check_cell(obs, r["it_net_bbnd"], "IT_NET_BBND", iso3, int(year), line, "it_net_bbnd")
    # Nature is e on every row of this file: all publisher estimates.
    assert {r["nature"] for _, r in rows} == {"e"}
    assert set(obs["status"]) == {"publisher_estimate"}


def test_sdg_nature_mapped_to_status(ex, snapshot):
    from sources.un_sdg import NATURE_STATUS

    obs = ex(SDG_II99).tables["observations"]
    _, rows = _sdg_rows(snapshot, SDG_II99)
    nature = Counter(r["nature"] for _, r in rows)
    assert nature["n"] == 1
    status = Counter(obs["status"])
    assert status["reported"] == nature["c"]
    assert status["publisher_estimate"] == nature["e"] + nature["n"]
    # Spot checks: one c row and one e row.
    for want_nature, want_status in [("c", "reported"), ("e", "publisher_estimate")]:
        line, r = next((n, r) for n, r in rows if r["nature"] == want_nature
                       and r["sex"] == "bothsex" and r["geo_area"] in ("4", "566", "24"))
        iso3 = {"4": "AFG", "566": "NGA", "24": "AGO"}[r["geo_area"]]
        row = check_cell(obs, r["it_use_ii99"], "IT_USE_ii99", iso3, int(r["year"]), line,
                         "it_use_ii99")
        assert row["status"] == want_status
    # Afghanistan 2001, nature n: present, with the status the adapter documents for n.
    line, r = next((n, r) for n, r in rows if r["nature"] == "n")
    assert (r["geo_area"], r["year"]) == ("4", "2001")
    row = check_cell(obs, r["it_use_ii99"], "IT_USE_ii99", "AFG", 2001, line, "it_use_ii99")
    assert row["status"] == NATURE_STATUS["n"] == "publisher_estimate"
    # The coverage files carry c and e.
    cov = ex(SDG_4G).tables["observations"]
    _, rows = _sdg_rows(snapshot, SDG_4G)
    nature = Counter(r["nature"] for _, r in rows)
    assert Counter(cov["status"]) == {"reported": nature["c"], "publisher_estimate": nature["e"]}


def test_sdg_internet_by_sex(ex, snapshot):
    obs = ex(SDG_II99).tables["observations"]
    _, rows = _sdg_rows(snapshot, SDG_II99)
    sexes = Counter(r["sex"] for _, r in rows)
    got = Counter(obs["sex"])
    assert got["female"] == sexes["female"] > 1000
    assert got["male"] == sexes["male"] > 1000
    assert got["total"] == sexes["bothsex"]
    for geo, iso3 in [("12", "DZA"), ("76", "BRA")]:
        for sex in ("female", "male"):
            line, r = next((n, r) for n, r in rows if r["sex"] == sex and r["geo_area"] == geo)
            check_cell(obs, r["it_use_ii99"], "IT_USE_ii99", iso3, int(r["year"]), line,
                       "it_use_ii99", sex=sex)
    # 2022: by sex only, for a few countries.
    y2022 = obs[obs["year"] == 2022]
    assert len(y2022) and set(y2022["sex"]) == {"female", "male"}


def test_sdg_odd_geo_codes(ex, snapshot):
    """57 → FSM (not M49 583), 412 → XKX (the World Bank's Kosovo), 158 → TWN."""
    obs = ex(SDG_II99).tables["observations"]
    _, rows = _sdg_rows(snapshot, SDG_II99)
    geos = Counter(r["geo_area"] for _, r in rows)
    assert geos["583"] == 0
    for geo, iso3 in [("57", "FSM"), ("412", "XKX"), ("158", "TWN")]:
        assert geos[geo] > 0
        assert (obs["iso3"] == iso3).sum() == geos[geo]
        line, r = next((n, r) for n, r in rows if r["geo_area"] == geo)
        sex = {"bothsex": "total"}.get(r["sex"], r["sex"])
        check_cell(obs, r["it_use_ii99"], "IT_USE_ii99", iso3, int(r["year"]), line,
                   "it_use_ii99", sex=sex)
    assert not obs["iso3"].str.startswith("M49").any()


def test_sdg_api_layout(ex, snapshot):
    extract = ex(SDG_API)
    obs = extract.tables["observations"]
    _, rows = csv_table(snapshot / SDG_API)
    assert {r["Nature"] for _, r in rows} == {""}
    assert set(obs["status"]) == {"reported"}  # blank nature → reported
    assert set(obs["release"]) == {f"SDG database {rows[0][1]['ReleaseName']}"}
    sexes = {"BOTHSEX": "total", "FEMALE": "female", "MALE": "male"}
    for geo, iso3, year, sex in [("4", "AFG", "2016", "BOTHSEX"), ("12", "DZA", "2018", "MALE"),
                                 ("12", "DZA", "2018", "FEMALE")]:
        line, r = next((n, r) for n, r in rows if r["GeoAreaCode"] == geo
                       and r["TimePeriod"] == year and r["Sex"] == sex)
        check_cell(obs, r["Value"], "IT_MOB_OWN", iso3, int(year), line, "Value",
                   sex=sexes[sex])
    assert one(obs, "IT_MOB_OWN", "AFG", 2016)["value"] == 46.82207
    # The four values above 100 % (Costa Rica 2016, South Africa 2015 male) are rejected,
    # with the file's line and the reason; every other row is accepted.
    over = sorted(n for n, r in rows if float(r["Value"]) > 100)
    assert len(over) == 4
    q = extract.quarantine
    assert sorted(q["row"].astype(int)) == over
    assert q["reason"].str.contains("outside the range").all()
    assert len(obs) == len(rows) - 4


# ---------------------------------------------------------------------------------------------
# ITU print-layout xls
# ---------------------------------------------------------------------------------------------

ITU_COLUMNS = {4: ("total", "total"), 6: ("male", "total"), 8: ("female", "total"),
               11: ("total", "urban"), 13: ("male", "urban"), 15: ("female", "urban"),
               18: ("total", "rural"), 20: ("male", "rural"), 23: ("female", "rural")}


def _itu_rows(snapshot):
    sheet = itu_sheet(snapshot / ITU_XLS)
    labels = [str(v).strip() for v in sheet.row_values(2)]
    assert labels[1] == "Economy name" and labels[3] == "year"
    assert [labels[j] for j in ITU_COLUMNS] == ["Individuals", "Male", "Female", "Total", "Male",
                                                "Female", "Total", "Male", "Female"]
    return sheet, [i for i in range(3, sheet.nrows) if sheet.cell_type(i, 3) == xlrd.XL_CELL_NUMBER]


def test_itu_xls_values_stored_as_text_are_read(ex, snapshot):
    sheet, data = _itu_rows(snapshot)
    obs = ex(ITU_XLS).tables["observations"]
    algeria = next(i for i in data if sheet.cell_value(i, 1) == "Algeria")
    assert sheet.cell_type(algeria, 15) == xlrd.XL_CELL_TEXT  # numbers stored as text
    assert sheet.cell_value(algeria, 15) == "50.8"
    for name, iso3, col in [("Algeria", "DZA", 15), ("Algeria", "DZA", 18),
                            ("Ukraine", "UKR", 23), ("Zambia", "ZMB", 4),
                            ("Viet Nam", "VNM", 4), ("Australia", "AUS", 20)]:
        i = next(i for i in data if sheet.cell_value(i, 1) == name)
        sex, location = ITU_COLUMNS[col]
        row = one(obs, "IT_USE_ii99", iso3, int(sheet.cell_value(i, 3)), sex, location)
        assert row["value"] == float(sheet.cell_value(i, col))
        assert row["row"] == i + 1
        assert row["unit"] == "percent" and row["status"] == "reported"
    assert one(obs, "IT_USE_ii99", "DZA", 2018, "female", "urban")["value"] == 50.8


def test_itu_xls_ellipsis_is_missing_not_an_error(ex, snapshot):
    sheet, data = _itu_rows(snapshot)
    extract = ex(ITU_XLS)
    obs = extract.tables["observations"]
    cells = [sheet.cell_value(i, j) for i in data for j in ITU_COLUMNS]
    assert "..." in cells
    assert len(obs) == sum(1 for c in cells if str(c).strip() not in ("", "..."))
    assert extract.rows_quarantined == 0
    andorra = next(i for i in data if sheet.cell_value(i, 1) == "Andorra")
    assert sheet.cell_value(andorra, 11) == "..."
    assert absent(obs, "IT_USE_ii99", "AND", 2017, "total", "urban")
    assert len(set(obs["iso3"])) == len(data) == 112


def test_itu_xls_internet_by_sex_and_location(ex, snapshot):
    sheet, data = _itu_rows(snapshot)
    obs = ex(ITU_XLS).tables["observations"]
    rural = {i for i in data if str(sheet.cell_value(i, 18)).strip() not in ("", "...")}
    assert len(rural) == 43
    got = obs[(obs["location"] == "rural") & (obs["sex"] == "total")]
    assert got["iso3"].nunique() == 43
    assert set(obs["location"]) == {"total", "urban", "rural"}
    assert {"female", "male"} <= set(obs[obs["location"] == "total"]["sex"])
    assert set(obs["year"]) <= set(range(2015, 2020))


# ---------------------------------------------------------------------------------------------
# OWID
# ---------------------------------------------------------------------------------------------

def test_owid_coverage_values(ex, snapshot):
    obs = ex(OWID_COVERAGE).tables["observations"]
    header, rows = csv_table(snapshot / OWID_COVERAGE)
    columns = {"_9_c_1__it_mob_4gntwk": "IT_MOB_4GNTWK", "_9_c_1__it_mob_3gntwk": "IT_MOB_3GNTWK",
               "_9_c_1__it_mob_2gntwk": "IT_MOB_2GNTWK"}
    assert set(header[3:]) == set(columns)
    for code, year, column in [("AFG", "2017", "_9_c_1__it_mob_4gntwk"),
                               ("AFG", "2014", "_9_c_1__it_mob_2gntwk"),
                               ("NGA", "2020", "_9_c_1__it_mob_3gntwk"),
                               (rows[-1][1]["Code"], rows[-1][1]["Year"], "_9_c_1__it_mob_2gntwk")]:
        line, r = next((n, r) for n, r in rows if r["Code"] == code and r["Year"] == year)
        row = check_cell(obs, r[column], columns[column], code, int(year), line, column)
        assert row["unit"] == "percent"
    assert one(obs, "IT_MOB_4GNTWK", "AFG", 2017)["value"] == 4
    assert "publisher_aggregates" not in ex(OWID_COVERAGE).tables  # removed from this copy
    cells = sum(1 for _, r in rows for c in columns if r[c].strip())
    assert len(obs) == cells
    assert (obs[(obs["indicator"] == "IT_MOB_4GNTWK") & (obs["year"] == 2022)]["iso3"].nunique()
            == 158)


@pytest.mark.parametrize("rel, column, indicator", [
    (OWID_SUBS, "Mobile cellular subscriptions", "IT.CEL.SETS.P2"),
    (OWID_BBND, "Fixed broadband subscriptions", "IT_NET_BBND"),
])
def test_owid_subscriptions_per_100(rel, column, indicator, ex, snapshot):
    obs = ex(rel).tables["observations"]
    _, rows = csv_table(snapshot / rel)
    countries = [(n, r) for n, r in rows
                 if re.fullmatch(r"[A-Z]{3}", r["Code"]) and r[column].strip()]
    for code in ["AFG", "NGA", "USA"]:
        line, r = next((n, r) for n, r in reversed(countries) if r["Code"] == code)
        row = check_cell(obs, r[column], indicator, code, int(r["Year"]), line, column)
        assert row["unit"] == "per_100" and row["status"] == "reported"
    assert set(obs["unit"]) == {"per_100"}
    assert len(obs) == len(countries) + sum(1 for _, r in rows if r["Code"] == "OWID_KOS"
                                            and r[column].strip())
    if indicator == "IT.CEL.SETS.P2":
        # Subscriptions per 100 people exceed 100 legitimately: all accepted.
        over = {(r["Code"], int(r["Year"])): float(r[column]) for _, r in countries
                if float(r[column]) > 100}
        assert len(over) > 500
        values = obs.set_index(["iso3", "year"])["value"]
        assert all(values[k] == v for k, v in over.items())
        assert ex(rel).rows_quarantined == 0


# ---------------------------------------------------------------------------------------------
# UN WPP
# ---------------------------------------------------------------------------------------------

def test_wpp_thousands_converted_to_persons(ex, snapshot):
    obs = ex(WPP).tables["observations"]
    _, rows = csv_table(snapshot / WPP)
    columns = {"pop_total": ("WPP.POP.TOTL", "total"), "pop_female": ("WPP.POP.TOTL", "female"),
               "pop10plus_male": ("WPP.POP.10UP", "male"),
               "pop15plus_female": ("WPP.POP.15UP", "female")}
    for iso3, year in [("ABW", "1990"), ("NGA", "2020"), ("IND", "2030")]:
        line, r = next((n, r) for n, r in rows if r["iso3"] == iso3 and r["year"] == year)
        for column, (indicator, sex) in columns.items():
            row = check_cell(obs, r[column], indicator, iso3, int(year), line, column, sex=sex,
                             scale=1000)
            assert row["unit"] == "persons"
    assert one(obs, "WPP.POP.TOTL", "ABW", 1990)["value"] == 62152
    # Three decimals of thousands are whole persons.
    assert (obs["value"] == obs["value"].round()).all()
    assert len(obs) == 8 * len(rows)


def test_wpp_projections_are_publisher_estimates(ex):
    obs = ex(WPP).tables["observations"]
    assert obs["year"].min() == 1990 and obs["year"].max() == 2030
    assert set(obs[obs["year"] > 2020]["status"]) == {"publisher_estimate"}
    assert set(obs[obs["year"] <= 2020]["status"]) == {"reported"}


# ---------------------------------------------------------------------------------------------
# Statuses and units across all observations
# ---------------------------------------------------------------------------------------------

def test_units_mapped_per_indicator(all_observations):
    pairs = set(zip(all_observations["indicator"], all_observations["unit"]))
    assert pairs == {(i, UNITS[i]) for i, _ in pairs}
    assert {"IT_USE_ii99", "IT_MOB_OWN", "IT_MOB_4GNTWK", "IT_NET_BBND", "IT.CEL.SETS.P2",
            "SP.POP.TOTL", "WPP.POP.TOTL"} <= {i for i, _ in pairs}


def test_statuses_per_source(all_observations):
    status = all_observations.groupby("source")["status"].agg(set).to_dict()
    for source in ["wb_internet", "wb_internet_2024", "wb_urban", "wb_population",
                   "wb_wdi_extract", "sdg_api", "itu_internet_sex_location", "owid_coverage",
                   "owid_subscriptions", "owid_broadband"]:
        assert status[source] == {"reported"}, source
    assert status["sdg_ddf"] == {"reported", "publisher_estimate"}
    assert status["wpp"] == {"reported", "publisher_estimate"}


def test_internet_use_coverage_across_sources(all_observations):
    net = all_observations[all_observations["indicator"] == "IT_USE_ii99"]
    assert net[net["year"] == 2024]["iso3"].nunique() == 182
    by_sex = net[net["sex"] != "total"]
    assert {"sdg_ddf", "itu_internet_sex_location"} <= set(by_sex["source"])
    by_location = net[net["location"] != "total"]
    assert set(by_location["source"]) == {"itu_internet_sex_location"}
    assert by_location[by_location["location"] == "rural"]["iso3"].nunique() == 43


# ---------------------------------------------------------------------------------------------
# BOM files
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel, first, header_starts_with", [
    (WB_INTERNET, "Country Name", "Country Name"),
    (WB_META, "Country Code", None),
    (WB_URBAN, "Country Name", "Country Name"),
    (ODW, "ISO-3 Code", None),
])
def test_bom_files_read_with_the_right_first_column(rel, first, header_starts_with, snapshot):
    from sources.base import read_csv_strings

    path = snapshot / rel
    assert path.read_bytes().startswith(BOM)
    frame, _ = read_csv_strings(path, header_starts_with=header_starts_with)
    assert frame.columns[0] == first


def test_bom_files_yield_their_first_rows(ex):
    obs = ex(WB_INTERNET).tables["observations"]
    assert "ABW" in set(obs["iso3"])  # first data row, keyed on the second column
    economies = ex(WB_META).tables["wb_economies"]
    assert "ABW" in set(economies["iso3"])  # "Country Code" is the BOM-prefixed first column
    odw = groups_of(ex, ODW)
    afg = odw[odw["iso3"] == "AFG"]
    assert afg[["fiscal_year", "income_group"]].values.tolist() == [[2021, "LIC"]]


# ---------------------------------------------------------------------------------------------
# Income classifications
# ---------------------------------------------------------------------------------------------

def test_wb_metadata_income_groups_are_fy25(ex, snapshot):
    groups = groups_of(ex, WB_META)
    assert set(groups["fiscal_year"]) == {2025}
    _, rows = csv_table(snapshot / WB_META)
    raw = {r["Country Code"]: r["IncomeGroup"] for _, r in rows if r["Region"].strip()}
    got = dict(zip(groups["iso3"], groups["income_group"]))
    assert got == {k: INCOME[v] for k, v in raw.items() if v}
    assert got["ABW"] == "HIC" and got["AFG"] == "LIC"
    assert len(ex(WB_META).tables["wb_economies"]) == len(raw) == 217


def test_wb_class_fy23(ex, snapshot):
    groups = groups_of(ex, CLASS)
    assert set(groups["fiscal_year"]) == {2023}
    raw = {r["Code"]: r["Income group"] for _, r in xlsx_table(snapshot / CLASS,
                                                               "List of economies", "Code")
           if r["Region"]}
    got = dict(zip(groups["iso3"], groups["income_group"]))
    assert got == {k: INCOME[v] for k, v in raw.items() if v}
    assert (got["AFG"], got["ABW"], got["DZA"]) == ("LIC", "HIC", "LMC")
    aggregates = {r["Code"] for _, r in xlsx_table(snapshot / CLASS, "List of economies", "Code")
                  if not r["Region"]}
    assert "WLD" in aggregates and not aggregates & set(got)


def test_oghist_wide_fiscal_years(ex, snapshot):
    groups = groups_of(ex, OGHIST_WIDE)
    assert groups["fiscal_year"].min() == 2010 and groups["fiscal_year"].max() == 2023
    table = xlsx_table(snapshot / OGHIST_WIDE, "Country Analytical History", "Code")
    raw = {(r["Code"], 2000 + int(k[2:])): INCOME[v] for _, r in table if r["Code"]
           for k, v in r.items() if isinstance(k, str) and re.fullmatch(r"FY\d\d", k)
           and v in INCOME}
    got = {(i, int(f)): g for i, f, g in
           zip(groups["iso3"], groups["fiscal_year"], groups["income_group"])}
    assert got == raw
    assert got[("AFG", 2010)] == "LIC" and got[("ALB", 2011)] == "UMC"


def test_oghist_long_year_is_the_gni_year(ex, snapshot):
    """FY = Year + 2: the long file's 2022 rows are FY24."""
    groups = groups_of(ex, OGHIST_LONG)
    table = xlsx_table(snapshot / OGHIST_LONG, "Country Analytical History", "Code")
    raw = {(r["Code"], int(r["Year"]) + 2): INCOME[r["Group"]] for _, r in table
           if r["Group"] in INCOME}
    got = {(i, int(f)): g for i, f, g in
           zip(groups["iso3"], groups["fiscal_year"], groups["income_group"])}
    assert got == raw
    assert groups["fiscal_year"].min() == 2002 and groups["fiscal_year"].max() == 2024
    assert got[("AFG", 2002)] == "LIC"  # the long file's first row: AFG, 2000, L


def test_oghist_long_agrees_with_wide_at_offset_two(ex, snapshot):
    # From the raw files: long (Year + 2) against wide FY columns.
    wide = {(r["Code"], 2000 + int(k[2:])): v
            for _, r in xlsx_table(snapshot / OGHIST_WIDE, "Country Analytical History", "Code")
            if r["Code"] for k, v in r.items()
            if isinstance(k, str) and re.fullmatch(r"FY\d\d", k) and v in INCOME}
    long = {(r["Code"], int(r["Year"])): r["Group"]
            for _, r in xlsx_table(snapshot / OGHIST_LONG, "Country Analytical History", "Code")
            if r["Group"] in INCOME}

    def agreement(offset):
        shared = [k for k in wide if (k[0], k[1] - offset) in long]
        economies = {k[0] for k in shared}
        agree = {e for e in economies
                 if all(wide[k] == long[(k[0], k[1] - offset)] for k in shared if k[0] == e)}
        return len(shared), len(agree) / len(economies)

    shared, share = agreement(2)
    assert shared > 2500 and share >= 0.95
    assert agreement(0)[1] < share - 0.1  # the offset matters
    # The adapters' output agrees the same way.
    a, b = groups_of(ex, OGHIST_WIDE), groups_of(ex, OGHIST_LONG)
    merged = a.merge(b, on=["iso3", "fiscal_year"], suffixes=("_wide", "_long"))
    same = merged["income_group_wide"] == merged["income_group_long"]
    assert len(merged) == shared
    per_economy = same.groupby(merged["iso3"]).all()
    assert per_economy.mean() >= 0.95
    assert math.isclose(same.mean(), 1.0, abs_tol=0.01)


def test_venezuela_unclassified_gives_no_income_row(ex, snapshot):
    # The raw files leave Venezuela blank in recent years ...
    _, meta = csv_table(snapshot / WB_META)
    assert next(r for _, r in meta if r["Country Code"] == "VEN")["IncomeGroup"] == ""
    ven_class = next(r for _, r in xlsx_table(snapshot / CLASS, "List of economies", "Code")
                     if r["Code"] == "VEN")
    assert ven_class["Income group"] is None
    ven_wide = next(r for _, r in xlsx_table(snapshot / OGHIST_WIDE,
                                              "Country Analytical History", "Code")
                    if r["Code"] == "VEN")
    assert ven_wide["FY22"] is None and ven_wide["FY23"] is None
    ven_long = {int(r["Year"]): r["Group"] for _, r in xlsx_table(
        snapshot / OGHIST_LONG, "Country Analytical History", "Code") if r["Code"] == "VEN"}
    assert ven_long[2020] not in INCOME and ven_long[2019] == "UM"
    # ... and the adapters give no row for those years (and no bogus group anywhere).
    for rel, years in [(WB_META, {2025}), (CLASS, {2023}), (OGHIST_WIDE, {2022, 2023}),
                       (OGHIST_LONG, {2022, 2023, 2024})]:
        groups = groups_of(ex, rel)
        ven = groups[groups["iso3"] == "VEN"]
        assert not set(ven["fiscal_year"]) & years, rel
        assert set(groups["income_group"]) <= {"HIC", "UMC", "LMC", "LIC"}
    long = groups_of(ex, OGHIST_LONG)
    assert one_group(long, "VEN", 2021) == "UMC"  # GNI year 2019


def one_group(groups: pd.DataFrame, iso3: str, fiscal_year: int) -> str:
    hit = groups[(groups["iso3"] == iso3) & (groups["fiscal_year"] == fiscal_year)]
    assert len(hit) == 1
    return hit["income_group"].iloc[0]


def test_country_codes_economies(ex, snapshot):
    economies = ex(COUNTRY_CODES).tables["economies"]
    _, rows = csv_table(snapshot / COUNTRY_CODES)
    assert len(economies) == len(rows) == 249
    nga = economies.set_index("iso3").loc["NGA"]
    raw = next(r for _, r in rows if r["ISO3166-1-Alpha-3"] == "NGA")
    assert int(nga["m49"]) == int(raw["M49"]) == 566
    afg = economies.set_index("iso3").loc["AFG"]
    assert bool(afg["ldc"]) and bool(afg["lldc"]) and not bool(afg["sids"])
