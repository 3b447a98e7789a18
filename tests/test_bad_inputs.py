"""Bad inputs: copies of the real snapshot files with realistic faults injected.

Every case copies the two classification files that define the known economies plus the one
file under test into pytest's tmp_path (same relative paths as the snapshot), injects one fault
and reads the directory with `sources.read.read_all`. Each case asserts the right outcome:

* a file that cannot be used is reported as an error whose one-line message names the file
  and the problem, and nothing of it reaches `observations`; or
* the faulty rows land in the quarantine with the right `check` and a reason naming the
  problem, the faulty value never reaches `observations`, and every untouched value of the
  clean file is still accepted (nothing good is lost).
"""
from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from flows.cli import main as cli_main
from sources.read import FileResult, read_all

COUNTRY_CODES = "classifications/country-codes.csv"
WB_METADATA = "world-bank/Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
CLASSIFICATIONS = [COUNTRY_CODES, WB_METADATA]

WB_INTERNET = "world-bank/API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"  # wide years, no preamble
WB_URBAN = "world-bank/API_SP.URB.TOTL.IN.ZS_DS2_en_csv_v2_22447.csv"  # wide, 4-line preamble
WB_2024 = "world-bank/IT.NET.USER.ZS_2024_countries.csv"  # long: pais, iso3, anio, value
WDI_XLSX = "world-bank/WDI_extract_GDP_per_capita.xlsx"
SDG_USE = "un-sdg/ddf--datapoints--it_use_ii99--by--age--geo_area--nature--sex--units--year.csv"
SDG_OWN = "un-sdg/ddf--datapoints--it_mob_own--by--geo_area--nature--sex--units--year.csv"
SDG_API = "un-sdg/sdg-api_IT_MOB_OWN_2020Q4.csv"
ITU_XLS = "itu/Individuals_using_the_Internet_by_gender_and_urban-rural_location.xls"
DATAHUB = "itu/datahub-api-examples/datahub_itu-get-regional-aggregate.json"
ODW = "classifications/odw_country_region_codes_2021.csv"

DATA_FILES = [WB_INTERNET, WB_URBAN, WB_2024, WDI_XLSX, SDG_USE, SDG_OWN, SDG_API, ITU_XLS,
              DATAHUB]


# --- reading -------------------------------------------------------------------------------

def _copy(snapshot: Path, rel: str, dest: Path) -> Path:
    target = dest / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(snapshot / rel, target)
    return target


def _result(results: list[FileResult], rel: str) -> FileResult:
    name = Path(rel).name
    matches = [r for r in results if r.path.name == name]
    assert len(matches) == 1, f"{name} was not read: {[r.path.name for r in results]}"
    return matches[0]


@pytest.fixture(scope="module")
def clean(snapshot, tmp_path_factory) -> dict[str, FileResult]:
    """The clean copies of every file under test, read once with the same classifications."""
    root = tmp_path_factory.mktemp("clean")
    for rel in CLASSIFICATIONS + DATA_FILES:
        _copy(snapshot, rel, root)
    results = read_all(root)
    return {rel: _result(results, rel) for rel in DATA_FILES}


@dataclass
class Case:
    """One faulty copy, read beside the classification files."""

    rel: str
    result: FileResult
    broken: dict = None  # cases of classification files broken on purpose, by path

    @property
    def name(self) -> str:
        return Path(self.rel).name

    @property
    def obs(self) -> pd.DataFrame:
        assert self.result.error is None, f"unexpected file error: {self.result.error}"
        return self.result.extract.tables["observations"]

    @property
    def quarantine(self) -> pd.DataFrame:
        assert self.result.error is None, f"unexpected file error: {self.result.error}"
        return self.result.extract.quarantine


@pytest.fixture
def inject(snapshot, tmp_path):
    """inject(rel, fault) -> Case: copy `rel`, apply `fault` (text -> text, or bytes -> bytes
    for binary files), read the directory and return the file's result."""

    def run(rel: str, fault=None, *, binary: bool | None = None, data: bytes | None = None,
            broken: dict | None = None):
        broken = broken or {}
        for cls_rel in CLASSIFICATIONS:
            target = _copy(snapshot, cls_rel, tmp_path)
            if cls_rel in broken:
                target.write_bytes(broken[cls_rel](target.read_bytes()))
        target = _copy(snapshot, rel, tmp_path)
        if data is not None:
            target.write_bytes(data)
        elif fault is not None:
            if binary is None:
                binary = target.suffix in (".xls", ".xlsx")
            if binary:
                target.write_bytes(fault(target.read_bytes()))
            else:
                text = target.read_bytes().decode("utf-8")  # keeps BOM and CRLF as they are
                target.write_bytes(fault(text).encode("utf-8"))
        results = read_all(tmp_path)
        for cls_rel in CLASSIFICATIONS:  # the classifications themselves must stay usable
            assert (_result(results, cls_rel).error is None) == (cls_rel not in broken)
        case = Case(rel, _result(results, rel))
        case.broken = {b: Case(b, _result(results, b)) for b in broken}
        return case

    return run


# --- editing CSV text, line by line (line numbers count from 1, as in the quarantine) -------

def snap(snapshot: Path, rel: str) -> str:
    """A snapshot file's text exactly as `inject` edits it (BOM and CRLF kept)."""
    return (snapshot / rel).read_bytes().decode("utf-8")


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _fields(line: str) -> list[str]:
    return next(csv.reader([line.lstrip("\ufeff").rstrip("\r\n")]))


def _join(fields: list[str], ending: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerow(fields)
    return out.getvalue()


def _header_line(lines: list[str]) -> int:
    """1-based line of the header: the first line with more than three fields."""
    return next(i for i, line in enumerate(lines, start=1) if len(_fields(line)) > 3)


def line_of(text: str, column: str, value: str, nth: int = 0) -> int:
    """1-based line number of the nth data row whose `column` equals `value`."""
    lines = _lines(text)
    h = _header_line(lines)
    j = _fields(lines[h - 1]).index(column)
    hits = [i for i, line in enumerate(lines[h:], start=h + 1)
            if line.strip() and _fields(line)[j] == value]
    return hits[nth]


def cell(text: str, line: int, column: str) -> str:
    lines = _lines(text)
    j = _fields(lines[_header_line(lines) - 1]).index(column)
    return _fields(lines[line - 1])[j]


def set_cells(text: str, edits: dict[tuple[int, str], str]) -> str:
    """Set {(line, column): text}; other lines keep their bytes."""
    lines = _lines(text)
    header = _fields(lines[_header_line(lines) - 1])
    for (line, column), value in edits.items():
        fields = _fields(lines[line - 1])
        fields[header.index(column)] = value
        lines[line - 1] = _join(fields, _ending(lines[line - 1]))
    return "".join(lines)


def rename_column(text: str, old: str, new: str) -> str:
    lines = _lines(text)
    h = _header_line(lines)
    fields = _fields(lines[h - 1])
    fields[fields.index(old)] = new
    bom = "\ufeff" if lines[h - 1].startswith("\ufeff") else ""
    lines[h - 1] = bom + _join(fields, _ending(lines[h - 1]))
    return "".join(lines)


def drop_column(text: str, column: str) -> str:
    lines = _lines(text)
    h = _header_line(lines)
    j = _fields(lines[h - 1]).index(column)
    for i in range(h - 1, len(lines)):
        if lines[i].strip():
            fields = _fields(lines[i])
            del fields[j]
            lines[i] = _join(fields, _ending(lines[i]))
    return "".join(lines)


def append_line(text: str, line: str) -> str:
    lines = _lines(text)
    ending = _ending(lines[-1]) or "\n"
    if not _ending(lines[-1]):
        lines[-1] += ending
    return "".join(lines) + line.rstrip("\r\n") + ending


def copy_line(text: str, line: int) -> str:
    return append_line(text, _lines(text)[line - 1])


def header_only(text: str) -> str:
    lines = _lines(text)
    return "".join(lines[:_header_line(lines)])


# --- assertions ----------------------------------------------------------------------------

def cells(frame: pd.DataFrame) -> dict[tuple[int, str], float]:
    """Accepted values by file cell (line, column): the lineage every observation carries."""
    return {(int(r), str(c)): v for r, c, v in zip(frame["row"], frame["column"], frame["value"])}


def assert_nothing_else_lost(clean_result: FileResult, case: Case, lost) -> None:
    """Accepted = clean accepted minus the cells `lost(line, column)` says the fault touched."""
    before = cells(clean_result.extract.tables["observations"])
    after = cells(case.obs)
    expected = {k: v for k, v in before.items() if not lost(*k)}
    assert len(expected) < len(before), "the fault touched no accepted value of the clean file"
    assert after == expected


def assert_unusable(case: Case, *words: str) -> None:
    err = case.result.error
    assert err is not None, f"{case.name} was accepted: {case.result.extract.quarantine}"
    assert case.result.extract is None  # nothing of an unusable file reaches observations
    message = str(err)
    assert "\n" not in message
    assert message.startswith(f"{case.name}: ")
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"


def quarantined(case: Case, check: str) -> pd.DataFrame:
    q = case.quarantine
    hit = q[q["check"] == check]
    assert len(hit), f"no {check!r} in quarantine: {q[['row', 'check', 'reason']]}"
    return hit


def assert_reason(rows: pd.DataFrame, *words: str) -> None:
    for reason in rows["reason"]:
        for word in words:
            assert word.lower() in reason.lower(), f"{word!r} not in {reason!r}"


def iso3_years(frame: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(frame["iso3"], frame["year"].astype(int)))


# --- file-level faults: the file is unusable, with a one-line reason -------------------------

@pytest.mark.parametrize("rel", [WB_INTERNET, SDG_OWN, WB_2024, DATAHUB, WDI_XLSX, ITU_XLS],
                         ids=["wb_bulk_csv", "sdg_ddf_csv", "wb_excerpt_csv", "datahub_json",
                              "wdi_xlsx", "itu_xls"])
def test_empty_file(inject, rel):
    assert_unusable(inject(rel, data=b""), "empty")


@pytest.mark.parametrize("rel", [WB_INTERNET, WB_URBAN, SDG_USE, SDG_API, WB_2024],
                         ids=["wb_bulk_no_preamble", "wb_bulk_with_preamble", "sdg_ddf",
                              "sdg_api", "wb_excerpt"])
def test_header_only_file(inject, rel):
    assert_unusable(inject(rel, header_only), "header", "no data rows")


@pytest.mark.parametrize("rel, old, new", [
    (WB_INTERNET, "Country Code", "CountryCode"),
    (SDG_USE, "geo_area", "geo"),
    (SDG_API, "TimePeriod", "Year"),
    (WB_2024, "iso3", "ISO3"),
], ids=["wb_country_code_renamed", "sdg_geo_area_renamed", "sdg_api_time_period_renamed",
        "wb_excerpt_iso3_renamed"])
def test_renamed_key_column(inject, rel, old, new):
    assert_unusable(inject(rel, lambda t: rename_column(t, old, new)), "missing column", old)


@pytest.mark.parametrize("rel, column", [
    (WB_INTERNET, "Country Code"),
    (SDG_OWN, "year"),
    (SDG_OWN, "sex"),  # the by-sex rows would otherwise collapse into one "total" series
    (SDG_API, "Value"),
], ids=["wb_country_code_dropped", "sdg_year_dropped", "sdg_sex_dropped",
        "sdg_api_value_dropped"])
def test_dropped_key_column(inject, rel, column):
    assert_unusable(inject(rel, lambda t: drop_column(t, column)), "missing column", column)


def _reencode(encoding: str):
    def fault(data: bytes) -> bytes:
        return data.decode("utf-8-sig").encode(encoding)
    return fault


@pytest.mark.parametrize("rel, encoding, words", [
    (SDG_API, "cp1252", ["byte 0x"]),  # "Côte d’Ivoire", "Curaçao", … as Windows-1252 bytes
    (WB_METADATA, "cp1252", ["byte 0x"]),  # a classification file: "Curaçao", "São Tomé", …
    (WB_INTERNET, "utf-16", ["UTF-16"]),
    (WB_2024, "utf-16-le", ["UTF-16"]),  # no BOM: every byte pair decodes, NULs and all
], ids=["sdg_api_as_cp1252", "wb_metadata_as_cp1252", "wb_bulk_as_utf16_with_bom",
        "wb_excerpt_as_utf16_no_bom"])
def test_undecodable_encoding(inject, snapshot, rel, encoding, words):
    raw = (snapshot / rel).read_bytes()
    assert _reencode(encoding)(raw) != raw
    if rel == WB_METADATA:  # without it the economies are known from country-codes alone
        case = _read_with_broken_classification(inject, rel, _reencode(encoding))
    else:
        case = inject(rel, _reencode(encoding), binary=True)
    assert_unusable(case, "not valid UTF-8", *words)


def _read_with_broken_classification(inject, rel, fault) -> Case:
    """A broken classification file is reported like any other; the data files still read."""
    case = inject(WB_2024, broken={rel: fault})
    assert case.result.error is None and len(case.obs) > 150
    return case.broken[rel]


@pytest.mark.parametrize("rel, data", [
    (WDI_XLSX, bytes(range(256)) * 40),
    (WDI_XLSX, b"Country Name,Country Code\nAruba,ABW\n"),
    (ITU_XLS, b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>\n"),
    (ITU_XLS, b"PK\x03\x04" + b"\x00" * 200),  # a zip header and nothing behind it
], ids=["garbage_bytes_as_xlsx", "csv_saved_as_xlsx", "html_error_page_as_xls",
        "broken_zip_as_xls"])
def test_non_spreadsheet_saved_as_excel(inject, rel, data):
    assert_unusable(inject(rel, data=data), "spreadsheet")


def test_spreadsheet_missing_expected_sheet(inject, snapshot, tmp_path):
    book = openpyxl.load_workbook(snapshot / WDI_XLSX)
    book["Data"].title = "Sheet1"
    buffer = io.BytesIO()
    book.save(buffer)
    case = inject(WDI_XLSX, data=buffer.getvalue())
    assert_unusable(case, "sheet", "Data")


@pytest.mark.parametrize("fault", [
    lambda t: t[: len(t) // 2],
    lambda t: "<html><head><title>429 Too Many Requests</title></head></html>",
    lambda t: t.replace('"value": 8.6', '"value": 8,6', 1),
    lambda t: "\ufeff" + t.replace("null", "None"),
], ids=["json_truncated", "html_error_page_as_json", "json_with_decimal_comma",
        "python_repr_not_json"])
def test_json_that_is_not_valid_json(inject, fault):
    assert_unusable(inject(DATAHUB, fault), "not valid JSON")


def test_semicolon_separated_csv_with_decimal_commas(inject):
    """A European spreadsheet export: ';' between fields, ',' as decimal mark."""
    def fault(text: str) -> str:
        out = []
        for line in _lines(text):
            fields = _fields(line)
            out.append(";".join(f.replace(".", ",") for f in fields) + _ending(line))
        return "".join(out)

    assert_unusable(inject(WB_2024, fault), "missing column", "iso3")


# --- truncation: the file is cut short, and unusable; misaligned rows: row_shape ---------------
#
# A last row cut short (fewer fields and no line break after them) is an incomplete download or
# copy: what followed the cut is lost too, so the file as a whole cannot be trusted. It is a
# file error, not one quarantined row (which would publish the rest as if complete).

def test_truncated_file_cut_mid_row(inject, snapshot):
    text = snap(snapshot, WB_INTERNET)
    last = len(_lines(text))
    cut = text.rindex("Individuals using the Internet")  # inside the last row, after its code
    case = inject(WB_INTERNET, lambda t: t[:cut])
    assert_unusable(case, "cut short", f"last line ({last})", "incomplete download")


def test_truncated_sdg_file_cut_mid_row(inject, snapshot):
    text = snap(snapshot, SDG_OWN)
    last = len(_lines(text))
    case = inject(SDG_OWN, lambda t: t[: t.rindex(",c,")])  # "894" and nothing more
    assert_unusable(case, "cut short", f"last line ({last})")


@pytest.mark.parametrize("rel, column", [(WB_INTERNET, "2021"), (SDG_API, "Value")],
                         ids=["wb_bulk_cut_in_2021_value", "sdg_api_cut_in_value"])
def test_truncated_file_cut_mid_value(inject, snapshot, rel, column):
    """Cut inside a number: "57.5812" becomes "57.5" and the row ends there."""
    text = snap(snapshot, rel)
    lines = _lines(text)
    last = len(lines)
    value = cell(text, last, column)
    assert len(value) > 3
    start = len(text) - len(lines[-1])
    position = start + _lines(text)[-1].index("," + value + ",") + 1 + len(value) // 2
    case = inject(rel, lambda t: t[:position])
    assert_unusable(case, "cut short", f"last line ({last})")


def test_rows_with_extra_fields_unquoted_comma_in_name(inject, clean, snapshot):
    """"Korea, Rep." written without its quotes: every field after the name shifts right."""
    text = snap(snapshot, WB_INTERNET)
    line = line_of(text, "Country Code", "KOR")
    case = inject(WB_INTERNET, lambda t: t.replace('"Korea, Rep.",KOR', "Korea, Rep.,KOR"))
    rows = quarantined(case, "row_shape")
    assert rows["row"].tolist() == [line]
    assert_reason(rows, "fields where the header has", "misaligned")
    assert "KOR" not in set(case.obs["iso3"])
    assert_nothing_else_lost(clean[WB_INTERNET], case, lambda ln, col: ln == line)


def test_rows_with_extra_fields_unquoted_decimal_comma(inject, clean, snapshot):
    """An unquoted decimal comma in the last column adds a field to those rows."""
    text = snap(snapshot, SDG_USE)
    lines = [line_of(text, "geo_area", "4", n) for n in (5, 6)]
    edits = {}
    raw = _lines(text)
    for ln in lines:
        fields = _fields(raw[ln - 1])
        fields[-1] = fields[-1].replace(".", ",")
        assert "," in fields[-1]
        edits[ln] = ",".join(fields) + _ending(raw[ln - 1])

    def fault(t: str) -> str:
        out = _lines(t)
        for ln, new in edits.items():
            out[ln - 1] = new
        return "".join(out)

    case = inject(SDG_USE, fault)
    rows = quarantined(case, "row_shape")
    assert sorted(rows["row"]) == lines
    assert_nothing_else_lost(clean[SDG_USE], case, lambda ln, col: ln in lines)


# --- values that are not usable numbers -----------------------------------------------------

@pytest.mark.parametrize("text_value", ["12.5 (est.)", "n.a.", "<0.1", "45%"],
                         ids=["note_in_cell", "other_missing_marker", "censored_value",
                              "percent_sign"])
def test_text_in_number_cell(inject, clean, snapshot, text_value):
    text = snap(snapshot, WB_INTERNET)
    line = line_of(text, "Country Code", "FRA")
    assert cell(text, line, "2015")
    case = inject(WB_INTERNET, lambda t: set_cells(t, {(line, "2015"): text_value}))
    rows = quarantined(case, "number")
    assert rows[["row", "column", "value"]].values.tolist() == [[line, "2015", text_value]]
    assert_reason(rows, "is not a number")
    assert ("FRA", 2015) not in iso3_years(case.obs)
    assert_nothing_else_lost(clean[WB_INTERNET], case,
                             lambda ln, col: (ln, col) == (line, "2015"))


def test_csv_with_decimal_commas(inject, clean, snapshot):
    """A row re-typed in a locale with decimal commas (quoted, so the fields stay aligned)."""
    text = snap(snapshot, WB_INTERNET)
    line = line_of(text, "Country Code", "DEU")
    years = [str(y) for y in range(2005, 2020) if "." in cell(text, line, str(y))]
    assert len(years) >= 5
    edits = {(line, y): cell(text, line, y).replace(".", ",") for y in years}
    case = inject(WB_INTERNET, lambda t: set_cells(t, edits))
    rows = quarantined(case, "number")
    assert sorted(rows["column"]) == years
    assert set(rows["row"]) == {line}
    assert_reason(rows, "decimal comma")
    assert not iso3_years(case.obs) & {("DEU", int(y)) for y in years}
    assert_nothing_else_lost(clean[WB_INTERNET], case,
                             lambda ln, col: ln == line and col in years)


def test_sdg_values_with_decimal_commas(inject, clean, snapshot):
    text = snap(snapshot, SDG_API)
    lines = sorted(line_of(text, "GeoAreaCode", code) for code in ("4", "566"))
    edits = {(ln, "Value"): cell(text, ln, "Value").replace(".", ",") for ln in lines}
    assert all("," in v for v in edits.values())
    case = inject(SDG_API, lambda t: set_cells(t, edits))
    rows = quarantined(case, "number")
    assert sorted(rows["row"]) == lines
    assert_reason(rows, "decimal comma")
    assert_nothing_else_lost(clean[SDG_API], case, lambda ln, col: ln in lines)


# --- values outside what the unit allows ------------------------------------------------------

@pytest.mark.parametrize("rel, key_column, key, value_column, bad", [
    (WB_INTERNET, "Country Code", "NOR", "2019", "134.5"),
    (SDG_USE, "geo_area", "578", "it_use_ii99", "101.2"),
    (WB_2024, "iso3", "NOR", "pct_usuarios_internet", "9950"),
], ids=["wb_bulk_percent_above_100", "sdg_percent_above_100", "wb_excerpt_percent_x100"])
def test_percent_above_100(inject, clean, snapshot, rel, key_column, key, value_column, bad):
    _assert_out_of_range(inject, clean, snapshot, rel, key_column, key, value_column, bad)


@pytest.mark.parametrize("rel, key_column, key, value_column, bad", [
    (WB_INTERNET, "Country Code", "NOR", "2019", "-5.2"),
    (SDG_OWN, "geo_area", "24", "it_mob_own", "-78.63767"),
    (WB_URBAN, "Country Code", "BRA", "2020", "-87.1"),
], ids=["wb_bulk_negative_percent", "sdg_negative_percent", "wb_urban_negative_percent"])
def test_negative_values(inject, clean, snapshot, rel, key_column, key, value_column, bad):
    _assert_out_of_range(inject, clean, snapshot, rel, key_column, key, value_column, bad)


def _assert_out_of_range(inject, clean, snapshot, rel, key_column, key, value_column, bad):
    text = snap(snapshot, rel)
    line = line_of(text, key_column, key)
    assert cell(text, line, value_column)
    case = inject(rel, lambda t: set_cells(t, {(line, value_column): bad}))
    rows = quarantined(case, "schema:value_in_unit_range")
    assert rows[["row", "column"]].values.tolist() == [[line, value_column]]
    assert float(rows["value"].iloc[0]) == float(bad)
    assert_reason(rows, "outside the range")
    assert float(bad) not in set(case.obs["value"])
    assert_nothing_else_lost(clean[rel], case,
                             lambda ln, col: (ln, col) == (line, value_column))


# --- duplicates --------------------------------------------------------------------------------

def test_conflicting_duplicate_keys_sdg(inject, clean, snapshot):
    """Same country, year, sex twice with two values: neither can be trusted."""
    text = snap(snapshot, SDG_OWN)
    line = line_of(text, "geo_area", "24")  # Angola 2014 bothsex 78.63767
    fields = _fields(_lines(text)[line - 1])
    fields[-1] = "71.2"
    case = inject(SDG_OWN, lambda t: append_line(t, ",".join(fields)))
    added = len(_lines(text)) + 1
    rows = quarantined(case, "unique_key")
    assert sorted(rows["row"]) == [line, added]
    assert_reason(rows, "conflicting values", "AGO", "2014")
    obs = case.obs
    angola = obs[(obs["iso3"] == "AGO") & (obs["year"] == 2014) & (obs["sex"] == "total")]
    assert angola.empty
    assert_nothing_else_lost(clean[SDG_OWN], case, lambda ln, col: ln == line)


def test_conflicting_duplicate_keys_wb_bulk(inject, clean, snapshot):
    """A country's row repeated with one revised year: that year conflicts, the rest repeat."""
    text = snap(snapshot, WB_INTERNET)
    line = line_of(text, "Country Code", "ARG")
    fields = _fields(_lines(text)[line - 1])
    header = _fields(_lines(text)[0])
    j = header.index("2020")
    original = float(fields[j])
    fields[j] = "99.9"
    filled = sum(1 for f in fields[4:] if f.strip())
    case = inject(WB_INTERNET, lambda t: append_line(t, _join(fields, "")))
    added = len(_lines(text)) + 1
    conflicts = quarantined(case, "unique_key")
    conflict = conflicts[conflicts["reason"].str.contains("conflicting")]
    assert sorted(conflict["row"]) == [line, added]
    assert set(conflict["column"]) == {"2020"}
    assert {float(v) for v in conflict["value"]} == {original, 99.9}
    repeats = conflicts[conflicts["reason"].str.contains("kept once")]
    assert set(repeats["row"]) == {added} and len(repeats) == filled - 1
    assert ("ARG", 2020) not in iso3_years(case.obs)
    assert_nothing_else_lost(clean[WB_INTERNET], case,
                             lambda ln, col: (ln, col) == (line, "2020"))


@pytest.mark.parametrize("rel, key_column, key", [
    (SDG_USE, "geo_area", "356"),
    (SDG_API, "GeoAreaCode", "566"),
    (WB_2024, "iso3", "KEN"),
], ids=["sdg_ddf_row_repeated", "sdg_api_row_repeated", "wb_excerpt_row_repeated"])
def test_exact_duplicate_rows_kept_once(inject, clean, snapshot, rel, key_column, key):
    text = snap(snapshot, rel)
    line = line_of(text, key_column, key)
    case = inject(rel, lambda t: copy_line(t, line))
    added = len(_lines(text)) + 1
    rows = quarantined(case, "unique_key")
    assert rows["row"].tolist() == [added]
    assert_reason(rows, f"exact repeat of row {line}", "kept once")
    assert added not in set(case.obs["row"])
    # every clean value is still accepted, the original row once
    assert cells(case.obs) == cells(clean[rel].extract.tables["observations"])


# --- codes that identify nothing ----------------------------------------------------------------

def test_unknown_economy_code_in_wb_bulk(inject, clean, snapshot):
    text = snap(snapshot, WB_INTERNET)
    line = line_of(text, "Country Code", "ABW")
    filled = sum(1 for f in _fields(_lines(text)[line - 1])[4:] if f.strip())
    case = inject(WB_INTERNET, lambda t: set_cells(t, {(line, "Country Code"): "XYZ"}))
    rows = quarantined(case, "schema:known_economy")
    assert set(rows["row"]) == {line} and len(rows) == filled
    assert_reason(rows, "'XYZ' is not a known economy")
    assert not {"XYZ", "ABW"} & set(case.obs["iso3"])
    assert_nothing_else_lost(clean[WB_INTERNET], case, lambda ln, col: ln == line)


def test_unknown_economy_code_in_long_file(inject, clean, snapshot):
    text = snap(snapshot, WB_2024)
    line = line_of(text, "iso3", "PER")
    case = inject(WB_2024, lambda t: set_cells(t, {(line, "iso3"): "XYZ"}))
    rows = quarantined(case, "schema:known_economy")
    assert rows["row"].tolist() == [line]
    assert "XYZ" not in set(case.obs["iso3"])
    assert_nothing_else_lost(clean[WB_2024], case, lambda ln, col: ln == line)


@pytest.mark.parametrize("rel, column, code", [
    (SDG_USE, "geo_area", "999"),
    (SDG_API, "GeoAreaCode", "999"),
    (SDG_OWN, "geo_area", "Angola"),
], ids=["sdg_ddf_unknown_m49", "sdg_api_unknown_m49", "sdg_name_instead_of_m49"])
def test_unknown_m49_code(inject, clean, snapshot, rel, column, code):
    text = snap(snapshot, rel)
    lines = [line_of(text, column, "24", n) for n in range(2)]  # Angola
    case = inject(rel, lambda t: set_cells(t, {(ln, column): code for ln in lines}))
    rows = quarantined(case, "schema:known_economy")
    assert sorted(set(rows["row"])) == lines
    assert_reason(rows, code, "not a known economy")
    assert not any(code in str(i) for i in case.obs["iso3"])
    assert_nothing_else_lost(clean[rel], case, lambda ln, col: ln in lines)


# --- years ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel, key_column, key, year_column, year, check, words", [
    (SDG_USE, "geo_area", "32", "year", "2091", "schema:year_not_in_future", ["later"]),
    (SDG_USE, "geo_area", "32", "year", "1066", "schema:plausible_year", ["1066", "range"]),
    (WB_2024, "iso3", "ARG", "anio", "1066", "schema:plausible_year", ["1066", "range"]),
    (SDG_API, "GeoAreaCode", "4", "TimePeriod", "2O16", "year", ["2O16", "not a whole"]),
    (WB_2024, "iso3", "ARG", "anio", "2024.5", "year", ["2024.5", "not a whole"]),
], ids=["sdg_year_2091", "sdg_year_1066", "wb_excerpt_year_1066", "sdg_api_year_with_letter_o",
        "wb_excerpt_fractional_year"])
def test_impossible_year_in_long_file(inject, clean, snapshot, rel, key_column, key,
                                      year_column, year, check, words):
    text = snap(snapshot, rel)
    line = line_of(text, key_column, key)
    case = inject(rel, lambda t: set_cells(t, {(line, year_column): year}))
    rows = quarantined(case, check)
    assert rows[["row", "column", "value"]].values.tolist() == [[line, year_column, year]]
    assert_reason(rows, *words)
    assert line not in set(case.obs["row"])
    assert not (case.obs["year"] < 1950).any() and not (case.obs["year"] > 2030).any()
    assert_nothing_else_lost(clean[rel], case, lambda ln, col: ln == line)


@pytest.mark.parametrize("rel, year, bad", [
    (WB_INTERNET, "2015", "20X5"),
    (WB_URBAN, "2010", "2O10"),
], ids=["wb_bulk_year_header_20X5", "wb_urban_year_header_letter_o"])
def test_impossible_year_header_in_wide_file(inject, clean, rel, year, bad):
    """A year header that is no year: its values must not vanish silently nor be misdated."""
    case = inject(rel, lambda t: rename_column(t, year, bad))
    rows = quarantined(case, "year")
    assert set(rows["column"]) == {bad}
    assert_reason(rows, bad, "year")
    clean_column = clean[rel].extract.tables["observations"]
    assert len(rows) == (clean_column["column"] == year).sum()  # every value of that column
    assert int(year) not in set(case.obs["year"])
    assert_nothing_else_lost(clean[rel], case, lambda ln, col: col == year)


# --- a column on the wrong scale -----------------------------------------------------------------

def _divide_column(text: str, column: str) -> str:
    lines = _lines(text)
    h = _header_line(lines)
    j = _fields(lines[h - 1]).index(column)
    for i in range(h, len(lines)):
        fields = _fields(lines[i])
        if fields[j].strip():
            fields[j] = repr(float(fields[j]) / 100)
            lines[i] = _join(fields, _ending(lines[i]))
    return "".join(lines)


@pytest.mark.parametrize("rel, column", [(SDG_USE, "it_use_ii99"), (WB_INTERNET, "2022")],
                         ids=["sdg_internet_as_fractions", "wb_2022_column_as_fractions"])
def test_column_given_as_fractions_of_one(inject, clean, rel, column):
    case = inject(rel, lambda t: _divide_column(t, column))
    rows = quarantined(case, "percent_scale")
    clean_obs = clean[rel].extract.tables["observations"]
    assert len(rows) == (clean_obs["column"] == column).sum()
    assert_reason(rows, "fractions of one", column)
    assert column not in set(case.obs["column"])
    if rel == WB_INTERNET:
        assert 2022 not in set(case.obs["year"])
        assert_nothing_else_lost(clean[rel], case, lambda ln, col: col == column)
    else:
        assert case.obs.empty


def test_small_real_percentages_are_not_fractions(inject, clean, snapshot):
    """The guard must not fire on a column that merely has many values below 1 (Afghanistan,
    Angola, … around 2000): keep a clean column whose values span 0-1 and above."""
    text = snap(snapshot, WB_INTERNET)
    obs = clean[WB_INTERNET].extract.tables["observations"]
    y2000 = obs[obs["year"] == 2000]
    assert (y2000["value"] < 1).sum() > 30 and y2000["value"].max() > 1
    line = line_of(text, "Country Code", "AFG")
    case = inject(WB_INTERNET, lambda t: set_cells(t, {(line, "2016"): "0.5"}))
    assert "percent_scale" not in set(case.quarantine["check"])
    assert len(case.quarantine) == 0


# --- SDG code lists ------------------------------------------------------------------------------

@pytest.mark.parametrize("column, code, check", [
    ("sex", "both", "schema:sex_code"),
    ("sex", "F", "schema:sex_code"),
    ("nature", "x", "schema:status_code"),
    ("nature", "estimated", "schema:status_code"),
], ids=["sdg_unknown_sex_both", "sdg_unknown_sex_letter", "sdg_unknown_nature_x",
        "sdg_unknown_nature_word"])
def test_unknown_sdg_codes(inject, clean, snapshot, column, code, check):
    text = snap(snapshot, SDG_OWN)
    lines = [line_of(text, "geo_area", "24", n) for n in range(3)]  # Angola: both, female, male
    case = inject(SDG_OWN, lambda t: set_cells(t, {(ln, column): code for ln in lines}))
    rows = quarantined(case, check)
    assert sorted(rows["row"]) == lines
    assert set(rows["value"]) == {code}
    assert_reason(rows, repr(code), column)
    assert "AGO" not in set(case.obs["iso3"])
    assert_nothing_else_lost(clean[SDG_OWN], case, lambda ln, col: ln in lines)


def test_sdg_api_unknown_sex_code(inject, clean, snapshot):
    text = snap(snapshot, SDG_API)
    line = line_of(text, "GeoAreaCode", "4")
    case = inject(SDG_API, lambda t: set_cells(t, {(line, "Sex"): "_T"}))
    rows = quarantined(case, "schema:sex_code")
    assert rows["row"].tolist() == [line]
    assert_nothing_else_lost(clean[SDG_API], case, lambda ln, col: ln == line)


# --- the command line ----------------------------------------------------------------------------

def test_cli_validate_reports_one_broken_file(snapshot, tmp_path, capsys):
    for rel in CLASSIFICATIONS + [WB_2024, SDG_OWN]:
        _copy(snapshot, rel, tmp_path)
    broken = _copy(snapshot, DATAHUB, tmp_path)
    broken.write_text(broken.read_text(encoding="utf-8")[:500], encoding="utf-8")
    code = cli_main(["validate", "--source-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    unusable = [line for line in out.splitlines() if "UNUSABLE" in line]
    assert len(unusable) == 1
    assert unusable[0].startswith(DATAHUB)
    assert "not valid JSON" in unusable[0]
    # (a directory of a few files also lacks required sources: listed, after the files)
    assert out.splitlines()[-1].startswith("5 file(s), 1 unusable, ")
    good = [line for line in out.splitlines() if line.startswith((WB_2024, SDG_OWN))]
    assert len(good) == 2 and not any("UNUSABLE" in line for line in good)


def test_cli_validate_clean_files_of_an_incomplete_directory(snapshot, tmp_path, capsys):
    """Every file usable, but required sources missing: validate says so and fails, as the
    run would (tests/test_faults.py runs validate on the whole snapshot: exit 0)."""
    for rel in CLASSIFICATIONS + [WB_2024]:
        _copy(snapshot, rel, tmp_path)
    assert cli_main(["validate", "--source-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("3 file(s), 0 unusable, ") and "problem(s)" in out[-1]
    problems = [line for line in out if line.startswith("PROBLEM: ")]
    assert problems and all("required source" in line for line in problems)
    assert any("wb_internet" in line for line in problems)


# --- no false positives on the real snapshot -------------------------------------------------------

def test_clean_snapshot_quarantines_only_the_known_rows(snapshot, snapshot_results):
    assert snapshot_results
    assert [str(r.error) for r in snapshot_results if r.error] == []
    quarantined_files = {r.path.name: r.extract.quarantine for r in snapshot_results
                         if len(r.extract.quarantine)}
    assert set(quarantined_files) == {Path(SDG_API).name, Path(ODW).name}

    # IT_MOB_OWN above 100 % in the 2020.Q4 SDG API file: four values, Costa Rica 2016 (total,
    # female, male) and South Africa 2015 (male)
    q = quarantined_files[Path(SDG_API).name]
    assert set(q["check"]) == {"schema:value_in_unit_range"} and len(q) == 4
    assert (q["value"].astype(float) > 100).all()
    text = snap(snapshot, SDG_API)
    where = sorted((cell(text, int(r), "GeoAreaName"), cell(text, int(r), "TimePeriod"))
                   for r in q["row"])
    assert where == [("Costa Rica", "2016")] * 3 + [("South Africa", "2015")]

    # the Faroe Islands listed twice in the Open Data Watch codes: kept once
    q = quarantined_files[Path(ODW).name]
    assert q[["check", "value"]].values.tolist() == [["unique_key", "FRO"]]


def test_clean_copies_are_fully_accepted(clean):
    """The clean copies read beside only the two classification files lose nothing either."""
    for rel, result in clean.items():
        assert result.error is None, result.error
        q = result.extract.quarantine
        if rel == SDG_API:
            assert len(q) == 4
        else:
            assert q.empty, (rel, q[["row", "check", "reason"]])
        table = "publisher_aggregates" if rel == DATAHUB else "observations"
        assert len(result.extract.tables[table]) > 0
