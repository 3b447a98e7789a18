"""Fault classes swept over every source layout, on copies of the real snapshot files.

A careless download, a half-finished copy or a curious analyst produce faults of a few kinds;
each kind is tried on every layout it applies to (World Bank bulk with and without preamble,
excerpt and long, DataBank xlsx, SDG DDF and API CSV, ITU XLS and DataHub JSON, OWID, WPP 2019
and 2024, the classification files), read with the adapters (`sources.read.read_all`, which
also applies the cross-file rules of `sources.plausibility`) and, where the figures matter,
`indicators.inputs.prepare`. A few cases run the whole flow. Each case asserts the expected
file error or quarantine reason and that no faulty value reaches `observations` or `weights`
(and, end to end, `estimates` and `aggregates`).

Classes: a match that is not a regular file; a required source missing; a file cut mid-row and
at a line; an economy dropped; an implausible magnitude in one row and in one economy; numbers
that are not finite; columns reordered and extra columns; and faults nobody listed (a download
saved twice, a file under another indicator's name, a header that is not the rows', junk of
200 MB, a whole file on another scale, an AppleDouble file). Then the checks before the run
starts (exit statuses), the read-only query, and the real data passing with the same counts.
"""
from __future__ import annotations

import csv
import fcntl
import gzip
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from catalog import source
from curate.assemble import assemble
from flows.cli import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OUTPUT,
    EXIT_SOURCES,
    EXIT_YEAR,
    main,
)
from indicators.inputs import prepare
from sources import completeness, plausibility
from sources.files import sha256
from sources.listing import (
    duplicate_problems,
    files_in,
    listing_problems,
    missing_required,
    requirements,
)
from sources.read import FileResult, read_all, read_file

ROOT = Path(__file__).resolve().parents[1]

COUNTRY_CODES = "classifications/country-codes.csv"
ODW = "classifications/odw_country_region_codes_2021.csv"
WB_METADATA = "world-bank/Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
CLASSIFICATIONS = [COUNTRY_CODES, WB_METADATA]
WB_INTERNET = "world-bank/API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"  # bulk, no preamble
WB_URBAN = "world-bank/API_SP.URB.TOTL.IN.ZS_DS2_en_csv_v2_22447.csv"  # bulk, 4-line preamble
WB_2024 = "world-bank/IT.NET.USER.ZS_2024_countries.csv"
WB_POP = "world-bank/population_SP.POP.TOTL.csv"
WDI_XLSX = "world-bank/WDI_extract_GDP_per_capita.xlsx"
CLASS_XLSX = "world-bank/CLASS_FY23.xlsx"
SDG = "un-sdg/ddf--datapoints--{}.csv"
SDG_USE = SDG.format("it_use_ii99--by--age--geo_area--nature--sex--units--year")
SDG_OWN = SDG.format("it_mob_own--by--geo_area--nature--sex--units--year")
SDG_4G = SDG.format("it_mob_4gntwk--by--geo_area--nature--units--year")
SDG_2G = SDG.format("it_mob_2gntwk--by--geo_area--nature--units--year")
SDG_API = "un-sdg/sdg-api_IT_MOB_OWN_2020Q4.csv"
ITU_XLS = "itu/Individuals_using_the_Internet_by_gender_and_urban-rural_location.xls"
DATAHUB = "itu/datahub-api-examples/datahub_itu-get-regional-aggregate.json"
OWID = "owid/population-covered-by-mobile-network-by-network-capability.csv"
WPP = "un-wpp/wpp2019_pop_sex_10plus_1990_2030.csv"
WPP2024 = "un-wpp/WPP2024_Population1JanuaryBySingleAgeSex_Medium_1950-2023.csv.gz"

# CSV layouts: name -> (file, a column holding values, key column, an economy's key in it)
CSV = {
    "wb_bulk": (WB_INTERNET, "2019", "Country Code", "NOR"),
    "wb_bulk_preamble": (WB_URBAN, "2019", "Country Code", "NOR"),
    "wb_excerpt": (WB_2024, "pct_usuarios_internet", "iso3", "NOR"),
    "wb_long": (WB_POP, "Value", "Country Code", "LUX"),  # x1000 stays below 2 billion
    "sdg_ddf": (SDG_OWN, "it_mob_own", "geo_area", "578"),
    "sdg_api": (SDG_API, "Value", "GeoAreaCode", "4"),
    "owid": (OWID, "_9_c_1__it_mob_2gntwk", "Code", "NOR"),
    "wpp": (WPP, "pop_total", "iso3", "LUX"),
}
ISO3 = {"578": "NOR", "4": "AFG"}  # the economy of each key above
KNOWN_REJECTS = {SDG_API: {125, 126, 127, 513}}  # lines the clean file already quarantines
CSV_CLASSIFICATIONS = {"country_codes": COUNTRY_CODES, "wb_metadata": WB_METADATA, "odw": ODW}
BINARY = {"itu_xls": ITU_XLS, "wdi_xlsx": WDI_XLSX, "class_xlsx": CLASS_XLSX,
          "datahub_json": DATAHUB, "wpp2024_gz": WPP2024}
EVERY_LAYOUT = {**{k: v[0] for k, v in CSV.items()}, **CSV_CLASSIFICATIONS, **BINARY}
# what a reader of the cross-file rules needs beside a file: the files it is held against
REFERENCES = {WB_INTERNET: [SDG_USE], SDG_USE: [WB_INTERNET], OWID: [SDG_2G, SDG_4G],
              SDG_API: [SDG_OWN], WPP: [WB_POP], WB_POP: [WPP], ITU_XLS: [WB_INTERNET]}


# --- building source directories -----------------------------------------------------------

def wpp2024_bytes() -> bytes:
    """A small WPP 2024 single-age file in the official layout (two countries, three ages)."""
    header = ("SortOrder,LocID,Notes,ISO3_code,ISO2_code,SDMX_code,LocTypeID,LocTypeName,"
              "ParentID,Location,VarID,Variant,Time,MidPeriod,AgeGrp,AgeGrpStart,AgeGrpSpan,"
              "PopMale,PopFemale,PopTotal")
    rows = [f"1,4,,{iso3},XX,XX,4,Country/Area,5501,Somewhere,2,Medium,{year},{year}.5,{age},"
            f"{age},1,{m},{m},{2 * m}"
            for iso3, m in (("NOR", 100.0), ("SWE", 200.0)) for year in (2019, 2020)
            for age in (0, 10, 20)]
    return gzip.compress(("\n".join([header, *rows]) + "\n").encode())


def original(snapshot: Path, rel: str) -> bytes:
    return wpp2024_bytes() if rel == WPP2024 else (snapshot / rel).read_bytes()


def build(snapshot: Path, root: Path, rels, edits: dict | None = None,
          classifications: bool = True) -> Path:
    """`root` with copies of the classification files and `rels`; `edits` maps a path to its
    new bytes, to a function of its bytes, or to None (left out)."""
    edits = edits or {}
    for rel in dict.fromkeys([*(CLASSIFICATIONS if classifications else []), *rels, *edits]):
        edit = edits.get(rel, ...)
        target = root / rel
        if target.is_symlink() or target.exists():
            target.unlink()  # never write through a link into the snapshot
        if edit is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        data = original(snapshot, rel) if edit is ... or callable(edit) else edit
        target.write_bytes(edit(data) if callable(edit) else data)
    return root


def farm(snapshot: Path, root: Path, edits: dict | None = None) -> Path:
    """The whole snapshot under `root` as symbolic links, the edited files as real ones."""
    for _, path in files_in(snapshot):
        target = root / path.relative_to(snapshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path)
    return build(snapshot, root, [], edits, classifications=False)


def result_of(results: list[FileResult], rel: str) -> FileResult:
    name = Path(rel).name
    hits = [r for r in results if r.path.name == name]
    assert len(hits) == 1, f"{name} not read: {[r.path.name for r in results]}"
    return hits[0]


def read(snapshot, root, rel, edit=..., with_references=False) -> FileResult:
    rels = [rel] + (REFERENCES.get(rel, []) if with_references else [])
    build(snapshot, root, rels, {rel: edit} if edit is not ... else None)
    return result_of(read_all(root), rel)


def observations(result: FileResult) -> pd.DataFrame:
    assert result.error is None, f"unexpected file error: {result.error}"
    return result.extract.tables.get("observations", pd.DataFrame())


def quarantine(result: FileResult, check: str | None = None) -> pd.DataFrame:
    assert result.error is None, f"unexpected file error: {result.error}"
    q = result.extract.quarantine
    if check is None:
        return q
    hit = q[q["check"] == check]
    assert len(hit), f"no {check!r} in the quarantine: {q[['row', 'check', 'reason']]}"
    return hit


def unusable(result: FileResult, *words: str) -> str:
    assert result.error is not None, f"{result.path.name} was accepted"
    assert result.extract is None  # nothing of it reaches observations
    message = str(result.error)
    assert "\n" not in message and message.startswith(f"{result.path.name}: ")
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    return message


def reasons(rows: pd.DataFrame, *words: str) -> None:
    for reason in rows["reason"]:
        for word in words:
            assert word.lower() in reason.lower(), f"{word!r} not in {reason!r}"


# --- editing CSV text ----------------------------------------------------------------------

def text_edit(fn):
    """A fault on the text of a file (BOM and line endings kept)."""
    def edit(data: bytes) -> bytes:
        return fn(data.decode("utf-8")).encode("utf-8")
    return edit


def records(text: str) -> tuple[list[str], int, list[list[str]]]:
    """(lines with their endings, header line index, parsed records of those lines)."""
    lines = text.splitlines(keepends=True)
    parsed = [next(csv.reader([ln.lstrip("\ufeff")]), []) for ln in lines]
    header = next(i for i, fields in enumerate(parsed) if len(fields) > 3)
    return lines, header, parsed


def unparse(fields: list[str], ending: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=ending or "\n").writerow(fields)
    return out.getvalue()


def ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def edit_rows(text: str, match, change) -> str:
    """`change(fields, header)` on every data row for which `match(fields, header)` holds.
    Rows spanning lines (a quoted line break) are left alone."""
    lines, h, parsed = records(text)
    header = [c.strip() for c in parsed[h]]
    for i in range(h + 1, len(lines)):
        fields = parsed[i]
        if len(fields) >= len(header) - 1 and match(fields, header):
            new = change(list(fields), header)
            lines[i] = unparse(new, ending(lines[i]))
    return "".join(lines)


def where(column: str, value: str):
    return lambda fields, header: fields[header.index(column)] == value


def set_value(column: str, value):
    def change(fields, header):
        j = header.index(column)
        fields[j] = value(fields[j]) if callable(value) else value
        return fields
    return change


def scale(factor: float):
    return lambda text: repr(float(text) * factor) if text.strip() else text


def split_header(text: str) -> tuple[str, str, list[list[str]], str]:
    """(preamble text, BOM, records from the header on, line ending), by records: a quoted
    value may span lines (the World Bank metadata notes)."""
    lines, h, _ = records(text)
    prefix, rest = "".join(lines[:h]), "".join(lines[h:])
    bom = "\ufeff" if rest.startswith("\ufeff") else ""
    parsed = list(csv.reader(io.StringIO(rest.removeprefix(bom), newline="")))
    return prefix, bom, parsed, ending(lines[h]) or "\n"


def keep_first_lines(share: float):
    """The header and the first `share` of the records, cut between two records."""
    def fault(text: str) -> str:
        lines, h, _ = records(text)
        rest = "".join(lines[h:])
        reader = csv.reader(io.StringIO(rest, newline=""))
        total = sum(1 for _ in csv.reader(io.StringIO(rest, newline=""))) - 1
        for k, _ in enumerate(reader):
            if k == int(total * share):
                break
        kept = rest.splitlines(keepends=True)[:reader.line_num]
        return "".join(lines[:h]) + "".join(kept)
    return fault


def drop_records(text: str, column: str, value: str) -> str:
    """The file without the records whose `column` is `value` (records, not lines)."""
    prefix, bom, parsed, eol = split_header(text)
    j = [c.strip() for c in parsed[0]].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator=eol).writerows(
        r for r in parsed if not (len(r) > j and r[j] == value))
    return prefix + bom + out.getvalue()


def reorder_with_extra_column(text: str) -> str:
    """Columns in reverse order, and a column 'note' of text inserted in the middle."""
    prefix, bom, parsed, eol = split_header(text)
    width = len(parsed[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=eol)
    for i, fields in enumerate(parsed):
        if not any(f.strip() for f in fields):
            writer.writerow(fields) if fields else out.write(eol)  # blank rows stay blank
            continue
        fields = list(reversed((fields + [""] * width)[:max(width, len(fields))]))
        fields.insert(len(fields) // 2, "note" if i == 0 else "checked by hand")
        writer.writerow(fields)
    return prefix + bom + out.getvalue()


def cells(frame: pd.DataFrame) -> dict:
    return {(int(r), str(c)): v for r, c, v in zip(frame["row"], frame["column"], frame["value"])}


# ============================================================================== 1. completeness
@pytest.mark.parametrize("layout", sorted(EVERY_LAYOUT))
@pytest.mark.parametrize("kind, words", [
    ("directory", ["is a directory"]),
    ("broken_link", ["broken symbolic link"]),
    ("link_loop", ["symbolic link loop"]),
    ("fifo", ["named pipe", "not a regular file"]),
])
def test_a_match_that_is_not_a_regular_file_is_an_error_naming_it(snapshot, tmp_path, layout,
                                                                  kind, words):
    rel = EVERY_LAYOUT[layout]
    build(snapshot, tmp_path, [c for c in CLASSIFICATIONS if c != rel], classifications=False)
    target = tmp_path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "directory":
        target.mkdir()
        (target / "inside.csv").write_text("x")
    elif kind == "broken_link":
        target.symlink_to(tmp_path / "gone.csv")
    elif kind == "link_loop":
        target.symlink_to(target)
    else:
        os.mkfifo(target)
    # listed, never silently left out: the check before the run names it ...
    problems = listing_problems(tmp_path, files_in(tmp_path))
    mine = [p for p in problems if p.startswith(f"{rel}: ")]
    assert len(mine) == 1 and all(w in mine[0] for w in words), problems
    # ... and reading reports the file unusable (a FIFO would otherwise block the read)
    unusable(result_of(read_all(tmp_path), rel), *words)


@pytest.mark.parametrize("requirement", sorted(requirements()))
def test_every_required_source_must_be_found(snapshot, tmp_path, requirement):
    needed = {s.id for s in requirements()[requirement]}
    edits = {str(p.relative_to(snapshot)): None for e, p in files_in(snapshot) if e.id in needed}
    root = farm(snapshot, tmp_path, edits)
    lines = missing_required(root, files_in(root))
    assert len(lines) == 1 and f"required source {requirement} missing" in lines[0], lines
    for entry_id in needed:
        assert source(entry_id).pattern in lines[0]
    # and the command line stops before the run, in one line, with the sources' status
    assert main(["run", "--source-dir", str(root), "--out", str(tmp_path / "out")]) \
        == EXIT_SOURCES
    assert not (tmp_path / "out").exists()


def test_a_required_folder_that_is_a_broken_link_is_named(snapshot, tmp_path):
    root = farm(snapshot, tmp_path / "src")
    shutil.rmtree(root / "un-wpp")
    (root / "un-wpp").symlink_to(tmp_path / "unmounted")
    lines = missing_required(root, files_in(root))
    assert any("un_wpp" in ln and "un-wpp is a broken symbolic link" in ln for ln in lines)


@pytest.mark.parametrize("layout", sorted({**{k: v[0] for k, v in CSV.items()},
                                           **CSV_CLASSIFICATIONS}))
def test_a_csv_cut_mid_row_is_unusable(snapshot, tmp_path, layout):
    rel = EVERY_LAYOUT[layout]

    def cut(data: bytes) -> bytes:
        last = data.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
        return data.rstrip(b"\r\n")[: -(len(last) // 2)]

    unusable(read(snapshot, tmp_path, rel, cut), "cut short", "incomplete download")


@pytest.mark.parametrize("layout, words", [
    ("itu_xls", ["spreadsheet"]), ("wdi_xlsx", ["spreadsheet"]), ("class_xlsx", ["spreadsheet"]),
    ("datahub_json", ["not valid JSON"]), ("wpp2024_gz", ["gzip"]),
])
def test_a_binary_file_cut_short_is_unusable(snapshot, tmp_path, layout, words):
    rel = BINARY[layout]
    unusable(read(snapshot, tmp_path, rel, lambda data: data[: len(data) // 2]), *words)


@pytest.mark.parametrize("layout, what", [
    ("wb_bulk", "IT_USE_ii99"), ("wb_bulk_preamble", "SP.URB.TOTL.IN.ZS"),
    ("wb_long", "SP.POP.TOTL"), ("owid", "IT_MOB_2GNTWK"), ("wpp", "WPP.POP.TOTL"),
    ("sdg_ddf_4g", "IT_MOB_4GNTWK"),
    ("country_codes", "the economy list"), ("wb_metadata", "income classification FY25"),
])
def test_a_file_cut_at_a_line_boundary_is_a_shrink_naming_it(snapshot, tmp_path, layout, what):
    """Half the rows, cut between two lines: well-formed, so only what is expected of the
    file shows the loss (the classification universe, weighted by population)."""
    rel = SDG_4G if layout == "sdg_ddf_4g" else EVERY_LAYOUT[layout]
    build(snapshot, tmp_path, [WB_POP, WPP], {rel: text_edit(keep_first_lines(0.5))})
    results = read_all(tmp_path)
    assert result_of(results, rel).error is None  # the file itself reads
    shrinks = [s for s in completeness.shrinks(results) if s.file == Path(rel).name]
    assert shrinks, [s.message() for s in completeness.shrinks(results)]
    message = next(s.message() for s in shrinks if what in s.what)
    assert message.startswith(Path(rel).name) and "lacks" in message and "\n" not in message


def test_the_complete_snapshot_shrinks_nowhere(snapshot_results):
    assert completeness.shrinks(snapshot_results) == []
    assert completeness.missing_series(snapshot_results) == []


# ============================================================================== 2. economies
def test_an_economy_dropped_from_a_classification_says_which_group_lost_it(snapshot,
                                                                           tmp_path):
    """Kenya missing from the country codes, Ghana from the FY25 World Bank list."""
    drop = {COUNTRY_CODES: text_edit(lambda t: drop_records(t, "ISO3166-1-Alpha-3", "KEN")),
            WB_METADATA: text_edit(lambda t: drop_records(t, "Country Code", "GHA"))}
    root = farm(snapshot, tmp_path, drop)
    results = read_all(root)
    assert completeness.shrinks(results) == []  # one economy: no shrink, a membership change
    tables = assemble(results, root, {str(r.path.relative_to(root)): "" for r in results}).tables
    prepared = prepare(tables, 2025)
    changes = prepared.groups_changes
    kenya = changes[changes["iso3"] == "KEN"]
    assert kenya[["group_scheme", "group_code", "change"]].values.tolist() == \
        [["sdg_region", "202", "removed"]]
    assert "odw_country_region_codes_2021.csv" in kenya["before"].iloc[0]
    assert "country_codes" in kenya["after"].iloc[0]
    assert "KEN" not in set(prepared.groups.loc[prepared.groups["group_scheme"] == "sdg_region",
                                                "iso3"])
    ghana = changes[(changes["iso3"] == "GHA") & (changes["change"] == "removed")]
    assert ghana[["group_scheme", "group_code"]].values.tolist() == [["income", "LMC"]]
    assert "FY24" in ghana["before"].iloc[0] and "FY25" in ghana["after"].iloc[0]
    assert ghana["first_year"].iloc[0] == 2024


@pytest.mark.parametrize("layout", ["wb_bulk", "wb_long", "sdg_ddf", "owid", "wpp"])
def test_an_economy_dropped_from_a_data_file_loses_only_it(snapshot, tmp_path, layout):
    rel, _, key, code = CSV[layout]
    clean = observations(read(snapshot, tmp_path / "clean", rel))
    case = read(snapshot, tmp_path / "case", rel, text_edit(lambda t: edit_rows(
        t, where(key, code), lambda f, h: ["" for _ in f])))  # the rows blanked out
    obs = observations(case)
    iso3 = ISO3.get(code, code)
    assert iso3 not in set(obs["iso3"])
    dropped = set(cells(clean[clean["iso3"] == iso3]))
    assert dropped and cells(obs) == {k: v for k, v in cells(clean).items() if k not in dropped}


# ============================================================================== 3. magnitudes
def first_row_of(key: str, code: str, column: str):
    """A match for edit_rows: the first data row of the economy with a value in `column`."""
    done = {"n": 0}

    def match(fields, header):
        if done["n"] or fields[header.index(key)] != code or \
                not fields[header.index(column)].strip() or \
                float(fields[header.index(column)]) == 0:
            return False
        done["n"] += 1
        return True
    return match


@pytest.mark.parametrize("layout, check", [
    ("wb_bulk", "schema:value_in_unit_range"),
    ("wb_bulk_preamble", "schema:value_in_unit_range"),
    ("wb_excerpt", "schema:value_in_unit_range"),
    ("sdg_ddf", "schema:value_in_unit_range"),
    ("sdg_api", "schema:value_in_unit_range"),
    ("owid", "schema:value_in_unit_range"),
    ("wb_long", "population_years"),
    ("wpp", "population_years"),
])
def test_an_implausible_magnitude_in_one_row_is_quarantined(snapshot, tmp_path, layout, check):
    """One value a thousand times too large: beyond its unit (per cent), or far from the
    economy's neighbouring years (a population, whose unit allows 2 billion)."""
    rel, column, key, code = CSV[layout]
    case = read(snapshot, tmp_path, rel, text_edit(lambda t: edit_rows(
        t, first_row_of(key, code, column), set_value(column, scale(1000)))),
        with_references=True)
    rows = quarantine(case, check)
    rows = rows[~rows["row"].isin(KNOWN_REJECTS.get(rel, set()))]
    assert len(set(rows["row"])) == 1
    line = int(rows["row"].iloc[0])
    if check == "population_years":
        reasons(rows, "times the median", "implausible jump")
    obs = observations(case)
    assert obs[(obs["row"] == line) & (obs["column"] == column)].empty
    assert rows["value"].astype(float).max() not in set(obs["value"])


def _itu_sheet(monkeypatch, fault):
    """The ITU print-layout sheet, changed by `fault(frame)` before the adapter sees it."""
    from sources import base, itu

    def patched(path, sheet=0):
        frame = base.read_excel_strings(path, sheet)
        return fault(frame) if Path(path).suffix == ".xls" else frame
    monkeypatch.setattr(itu, "read_excel_strings", patched)


def _itu_row(frame: pd.DataFrame, name: str) -> int:
    return int(frame.index[frame[1].astype(str).str.strip() == name][0])


@pytest.mark.parametrize("value, check", [("4900", "schema:value_in_unit_range"),
                                          ("inf", "schema:finite_value")])
def test_itu_xls_one_implausible_or_non_finite_cell(snapshot, tmp_path, monkeypatch, value,
                                                    check):
    def fault(frame):
        frame = frame.copy()
        frame.iloc[_itu_row(frame, "Norway"), 4] = value  # All / Individuals
        return frame
    _itu_sheet(monkeypatch, fault)
    case = read(snapshot, tmp_path, ITU_XLS)
    rows = quarantine(case, check)
    assert rows["column"].tolist() == ["All Individuals"]
    assert "NOR" not in set(observations(case).query("sex == 'total' and location == 'total'")
                            ["iso3"])


def test_wdi_xlsx_gdp_beyond_its_unit_and_not_finite(snapshot, tmp_path):
    book = openpyxl.load_workbook(snapshot / WDI_XLSX)
    sheet = book["Data"]
    header = [c.value for c in sheet[1]]
    year = next(j for j, h in enumerate(header) if str(h).startswith("2019"))
    hits = [r for r in sheet.iter_rows(min_row=2) if r[header.index("Code")].value == "NOR"]
    hits[0][year].value = "1e308"
    hits[1][year].value = "inf"
    buffer = io.BytesIO()
    book.save(buffer)
    case = read(snapshot, tmp_path, WDI_XLSX, buffer.getvalue())
    assert len(quarantine(case, "schema:value_in_unit_range")) == 1
    assert len(quarantine(case, "schema:finite_value")) == 1
    obs = observations(case)
    assert obs["value"].map(math.isfinite).all() and obs["value"].max() < 1e6


def test_datahub_json_country_and_aggregate_values_not_finite_or_out_of_range(snapshot,
                                                                              tmp_path):
    records_ = json.loads((snapshot / DATAHUB).read_text(encoding="utf-8"))
    country = dict(records_[0], isoCode="NOR", answer=[{"value": 150.0}])
    huge = dict(records_[1], isoCode="SWE", answer=[{"value": 1e999}])  # json: Infinity
    records_[2]["answer"] = [{"value": float("inf")}]  # a regional aggregate
    text = json.dumps(records_ + [country, huge])
    case = read(snapshot, tmp_path, DATAHUB, text.encode())
    quarantine(case, "schema:value_in_unit_range")
    assert len(quarantine(case, "schema:finite_value")) == 2  # the country's and the region's
    assert observations(case).empty
    aggregates = case.extract.tables["publisher_aggregates"]
    assert aggregates["value"].map(math.isfinite).all()


@pytest.mark.parametrize("layout, reference", [
    ("wb_bulk", SDG_USE), ("sdg_ddf_use", WB_INTERNET), ("owid", SDG_2G), ("sdg_api", SDG_OWN),
])
def test_one_economy_given_in_fractions_is_quarantined_as_probable_fractions(
        snapshot, tmp_path, layout, reference):
    """France's whole series a hundred times too small (0.853 for 85.3): only other years and
    other releases can tell, and do."""
    if layout == "sdg_ddf_use":
        rel, columns, key, code = SDG_USE, ["it_use_ii99"], "geo_area", "250"
    elif layout == "sdg_api":
        rel, columns, key, code = SDG_API, ["Value"], "GeoAreaCode", "76"  # Brazil
    elif layout == "owid":
        rel, columns, key, code = OWID, ["_9_c_1__it_mob_2gntwk"], "Code", "FRA"
    else:
        rel, key, code = WB_INTERNET, "Country Code", "FRA"
        columns = [str(y) for y in range(1960, 2024)]

    def change(fields, header):
        for column in columns:
            j = header.index(column)
            if fields[j].strip():
                fields[j] = repr(float(fields[j]) / 100)
        return fields
    build(snapshot, tmp_path, [rel, reference],
          {rel: text_edit(lambda t: edit_rows(t, where(key, code), change))})
    results = read_all(tmp_path)
    case = result_of(results, rel)
    iso3 = "BRA" if layout == "sdg_api" else "FRA"
    rows = quarantine(case, "percent_scale")
    reasons(rows, iso3, "probable fractions", Path(reference).name)
    obs = observations(case)
    series = obs[(obs["iso3"] == iso3) & (obs["column"].isin(columns))]
    assert series.empty or (series["value"] == 0).all()  # zeros are zeros on either scale
    assert len(quarantine(result_of(results, reference))) == 0  # the reference loses nothing


def test_itu_xls_one_economy_in_fractions(snapshot, tmp_path, monkeypatch):
    def fault(frame):
        frame = frame.copy()
        row = _itu_row(frame, "France")
        for j in range(4, frame.shape[1]):
            try:
                frame.iloc[row, j] = repr(float(frame.iloc[row, j]) / 100)
            except (TypeError, ValueError):
                continue
        return frame
    _itu_sheet(monkeypatch, fault)
    build(snapshot, tmp_path, [ITU_XLS, WB_INTERNET])
    case = result_of(read_all(tmp_path), ITU_XLS)
    rows = quarantine(case, "percent_scale")
    reasons(rows, "FRA", "fractions")
    assert len(rows) == 9  # total, by sex, urban and rural (by sex): all on the file's scale
    assert "FRA" not in set(observations(case)["iso3"])


def test_one_value_in_fractions_between_its_neighbours(snapshot, tmp_path):
    rel = SDG_USE

    def match(fields, header):
        ok = fields[header.index("geo_area")] == "250" and \
            fields[header.index("year")] == "2012" and fields[header.index("sex")] == "bothsex"
        return ok
    case = read(snapshot, tmp_path, rel, text_edit(lambda t: edit_rows(
        t, match, set_value("it_use_ii99", scale(0.01)))))
    rows = quarantine(case, "percent_scale")
    assert len(rows) == 1
    reasons(rows, "FRA 2012", "between")


WPP_COUNTS = ["pop_total", "pop_male", "pop_female", "pop10plus_total", "pop10plus_male",
              "pop10plus_female", "pop15plus_male", "pop15plus_female"]


def _population_faults(text: str) -> str:
    """Nigeria 0 in every year; Luxembourg x1000 in every year (every count of its rows)."""
    text = edit_rows(text, where("iso3", "NGA"),
                     lambda f, h: [("0" if c in WPP_COUNTS else v) for c, v in zip(h, f)])
    return edit_rows(text, where("iso3", "LUX"), lambda f, h: [
        (repr(float(v) * 1000) if c in WPP_COUNTS and v.strip() else v) for c, v in zip(h, f)])


@pytest.fixture(scope="module")
def population_case(snapshot, tmp_path_factory):
    """Classifications, urban share, WB population and WPP with Nigeria 0, Luxembourg x1000."""
    root = tmp_path_factory.mktemp("population")
    build(snapshot, root, [WB_POP, WB_URBAN, SDG_USE, CLASS_XLSX],
          {WPP: text_edit(_population_faults)})
    results = read_all(root)
    tables = assemble(results, root, {str(r.path.relative_to(root)): "" for r in results}).tables
    return results, tables, prepare(tables, 2025)


def test_populations_zero_or_a_thousandfold_are_quarantined(population_case):
    results, tables, _ = population_case
    wpp = result_of(results, WPP)
    zero = quarantine(wpp, "schema:positive_value")
    assert (zero["value"].astype(float) == 0).all() and len(zero) == 41 * len(WPP_COUNTS)
    reasons(zero, "not above zero")
    lux = quarantine(wpp, "population_sources")
    reasons(lux, "LUX", "factor of 3", "set aside")
    assert set(quarantine(wpp, "population_row")["column"]) == set(WPP_COUNTS) - {"pop_total"}
    wb = result_of(results, WB_POP)
    assert set(quarantine(wb, "population_sources")["reason"].str[:3]) == {"LUX"}
    obs = tables["observations"]
    persons = obs[obs["unit"] == "persons"]
    assert not ((persons["iso3"] == "NGA") & (persons["value"] <= 0)).any()
    assert not (persons["iso3"] == "LUX").any()  # both files' series set aside whole
    assert (persons["value"] > 0).all()


def test_implausible_populations_never_reach_the_weights(population_case):
    _, tables, prepared = population_case
    weights = prepared.inputs.weights
    assert (weights[["population", "population_10plus"]] > 0).all().all()
    assert "LUX" not in set(weights["iso3"])
    # ... and Luxembourg's leaving every aggregate is said, not silent
    lost = prepared.groups_changes.query("iso3 == 'LUX' and group_code == 'WLD'")
    assert list(lost["change"]) == ["removed"] and "no weight population" in lost["note"].iloc[0]
    nga = weights[(weights["iso3"] == "NGA") & (weights["year"] == 2020)].iloc[0]
    wb = tables["observations"].query("iso3 == 'NGA' and year == 2020 and "
                                      "indicator == 'SP.POP.TOTL'")["value"].iloc[0]
    assert nga["weight_source"].startswith("World Bank")
    assert nga["population"] == pytest.approx(wb)


def test_a_population_file_on_another_scale_is_unusable(snapshot, tmp_path):
    """The World Bank population in thousands: every economy a thousand times too small."""
    build(snapshot, tmp_path, [WPP], {WB_POP: text_edit(lambda t: edit_rows(
        t, lambda f, h: True, set_value("Value", scale(0.001))))})
    results = read_all(tmp_path)
    unusable(result_of(results, WB_POP), "another scale", Path(WPP).name)
    unusable(result_of(results, WPP), "another scale", Path(WB_POP).name)


# ============================================================================== 4. not finite
@pytest.mark.parametrize("layout", sorted(CSV))
@pytest.mark.parametrize("text, check", [
    ("inf", "schema:finite_value"), ("-Infinity", "schema:finite_value"),
    ("1e309", "schema:finite_value"), ("1e308", "schema:value_in_unit_range"),
])
def test_numbers_that_are_not_finite_are_quarantined(snapshot, tmp_path, layout, text, check):
    rel, column, key, code = CSV[layout]
    match = first_row_of(key, code, column)
    if layout == "wpp" and text == "1e308":
        check = "schema:finite_value"  # thousands: 1e308 x 1000 is beyond a float
    case = read(snapshot, tmp_path, rel, text_edit(lambda t: edit_rows(
        t, match, set_value(column, text))))
    rows = quarantine(case, check)
    assert len(set(rows["row"]) - KNOWN_REJECTS.get(rel, set())) == 1
    obs = observations(case)
    assert obs["value"].map(math.isfinite).all()
    assert obs["value"].abs().max() < 1e12


# ============================================================================== 5. columns
@pytest.mark.parametrize("layout", sorted({**{k: v[0] for k, v in CSV.items()},
                                           **CSV_CLASSIFICATIONS}))
def test_columns_reordered_and_an_extra_column_are_accepted(snapshot, tmp_path, layout):
    rel = EVERY_LAYOUT[layout]
    clean = read(snapshot, tmp_path / "clean", rel)
    case = read(snapshot, tmp_path / "case", rel, text_edit(reorder_with_extra_column))
    assert case.error is None, case.error
    assert case.extract.rows_read == clean.extract.rows_read
    assert case.extract.rows_quarantined == clean.extract.rows_quarantined
    assert case.extract.rows_accepted == clean.extract.rows_accepted
    for name, table in clean.extract.tables.items():
        other = case.extract.tables[name]
        if name == "observations":
            assert cells(other) == cells(table)
        else:
            key = [c for c in table.columns if c not in ("row",)]
            pd.testing.assert_frame_equal(
                other[key].sort_values(key).reset_index(drop=True),
                table[key].sort_values(key).reset_index(drop=True), check_dtype=False)
    if layout in ("wb_bulk", "wb_bulk_preamble", "sdg_ddf", "owid"):
        assert any("'note'" in n and "ignored" in n for n in case.extract.notes)


def test_a_world_bank_extra_column_quarantines_nothing(snapshot, tmp_path):
    """One extra named column used to put all 218 rows in the quarantine."""
    lines = (snapshot / WB_INTERNET).read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n") + ',"Unit"' + ending(lines[0])
    body = [ln.rstrip("\r\n") + ',"%"' + ending(ln) if ln.strip() else ln for ln in lines[1:]]
    case = read(snapshot, tmp_path, WB_INTERNET, ("".join([header, *body])).encode())
    assert case.extract.rows_quarantined == 0
    assert case.extract.rows_accepted == case.extract.rows_read == 218
    assert case.extract.notes == ["column(s) 'Unit' ignored: not part of the layout"]


# ============================================================================== 6. unlisted
def test_a_download_saved_twice_is_refused(snapshot, tmp_path, capsys):
    root = farm(snapshot, tmp_path / "src")
    copy = root / "world-bank" / "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160 (1).csv"
    shutil.copyfile(snapshot / WB_INTERNET, copy)
    files = files_in(root)
    assert copy in [p for _, p in files]
    checksums = {str(p.relative_to(root)): sha256(p) for _, p in files}
    lines = duplicate_problems(files, checksums, root)
    assert len(lines) == 1 and "saved twice" in lines[0] and copy.name in lines[0]


def test_a_file_saved_under_another_indicator_s_name_is_unusable(snapshot, tmp_path):
    case = read(snapshot, tmp_path, WB_INTERNET, (snapshot / WB_URBAN).read_bytes())
    unusable(case, "holds SP.URB.TOTL.IN.ZS", "IT.NET.USER.ZS")
    api = (snapshot / SDG_API).read_text(encoding="utf-8").replace(",IT_MOB_OWN,", ",IT_USE_ii99,")
    unusable(read(snapshot, tmp_path / "api", SDG_API, api.encode()), "holds IT_USE_ii99")


def test_a_header_that_does_not_describe_the_rows_is_unusable(snapshot, tmp_path):
    """A year column's header deleted: every row has one field more than the header (rows
    whose last year is empty used to be read shifted by a year)."""
    def fault(text):
        lines = text.splitlines(keepends=True)
        fields = next(csv.reader([lines[0].lstrip("\ufeff")]))
        fields.remove("1960")
        lines[0] = ("\ufeff" if lines[0].startswith("\ufeff") else "") + \
            unparse(fields, ending(lines[0]))
        return "".join(lines)
    unusable(read(snapshot, tmp_path, WB_INTERNET, text_edit(fault)), "do not have the header")


@pytest.mark.parametrize("layout", sorted({**{k: v[0] for k, v in CSV.items()},
                                           **CSV_CLASSIFICATIONS}))
def test_an_html_error_page_under_a_csv_name_is_unusable(snapshot, tmp_path, layout):
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>\n"
    message = unusable(read(snapshot, tmp_path, EVERY_LAYOUT[layout], page))
    assert "missing column" in message or "no header line" in message


def test_200_mb_of_junk_is_rejected_at_once_in_little_memory(snapshot, tmp_path):
    build(snapshot, tmp_path, [])
    junk = tmp_path / WB_INTERNET
    junk.parent.mkdir(parents=True, exist_ok=True)
    with open(junk, "wb") as handle:
        line = b"lorem ipsum dolor sit amet, consectetur adipiscing elit, 0.1234 5678\n"
        handle.write(line * (200 * 2**20 // len(line)))
    assert junk.stat().st_size > 199 * 2**20
    entry = source("wb_internet")
    tracemalloc.start()
    started = time.perf_counter()
    result = read_file(entry, junk, None)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    message = unusable(result)
    assert "no header line" in message or "missing column" in message
    assert elapsed < 0.5 and peak < 4 * 2**20, (elapsed, peak)
    # the check before a run reads no more of it either
    assert any(p.startswith(WB_INTERNET) for p in listing_problems(tmp_path, files_in(tmp_path)))


def test_an_appledouble_file_beside_the_datahub_examples_is_named(snapshot, tmp_path):
    """A copy from a Mac leaves ._name files; one named like a source is not silently read."""
    apple = "itu/datahub-api-examples/._datahub_itu-get-regional-aggregate.json"
    case = read(snapshot, tmp_path, apple, b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    unusable(case, "not valid UTF-8")


def test_every_estimated_series_must_be_held_by_some_file(snapshot, tmp_path):
    """The SDG 4G file missing: the sdg_ddf source is still found (other SDG files), but the
    estimation has no value of IT_MOB_4GNTWK; so OWID's 4G column gone too."""
    build(snapshot, tmp_path, [SDG_USE, SDG_OWN, ITU_XLS, WB_POP])
    results = read_all(tmp_path)
    assert any("IT_MOB_4GNTWK" in line for line in completeness.missing_series(results))


def test_the_data_must_support_year_and_income_fy(snapshot_results):
    assert completeness.year_problem(snapshot_results, 2025) is None
    assert "IT_MOB_OWN" in completeness.year_problem(snapshot_results, 2014)
    assert "latest value" in completeness.year_problem(snapshot_results, 2034)
    assert completeness.fiscal_year_problem(snapshot_results, 2025) is None
    assert "FY2002-FY2025" in completeness.fiscal_year_problem(snapshot_results, 1995)


# ============================================================================== 7. checks before
def run_cli_quickly(argv: list[str]) -> tuple[int, str, float, bool]:
    """`ictstats` in a fresh process: exit status, stderr, seconds inside main(), and whether
    Prefect (or pandas) was imported."""
    code = ("import sys, time; from flows.cli import main; t = time.perf_counter(); "
            f"rc = main({argv!r}); print(time.perf_counter() - t, "
            "'prefect' in sys.modules or 'pandas' in sys.modules); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    seconds, imported = done.stdout.split()[-2:]
    return done.returncode, done.stderr.strip(), float(seconds), imported == "True"


@pytest.fixture
def lock_held(tmp_path):
    out = tmp_path / "locked"
    out.mkdir()
    with open(out / ".ictstats.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield out


@pytest.mark.parametrize("case, status, words", [
    ("missing", EXIT_SOURCES, ["source directory not found"]),
    ("empty", EXIT_SOURCES, ["no catalogued source files"]),
    ("directory_named_like_a_source", EXIT_SOURCES, ["is a directory"]),
    ("junk", EXIT_SOURCES, [WB_URBAN, "no header line"]),
    ("year_1990", EXIT_YEAR, ["--year 1990", "2015"]),
    ("year_2100", EXIT_YEAR, ["--year 2100"]),
    ("out_is_a_file", EXIT_OUTPUT, ["not a directory"]),
    ("out_read_only", EXIT_OUTPUT, ["not writable"]),
    ("locked", EXIT_LOCKED, ["another ictstats run is publishing"]),
])
def test_checks_before_the_run_are_one_line_in_a_second_without_prefect(
        snapshot, tmp_path, lock_held, case, status, words):
    source, out, extra = snapshot, tmp_path / "out", []
    if case == "missing":
        source = tmp_path / "nowhere"
    elif case == "empty":
        source = tmp_path / "empty"
        source.mkdir()
    elif case in ("directory_named_like_a_source", "junk"):
        source = farm(snapshot, tmp_path / "src", {WB_URBAN: None})
        if case == "junk":
            (source / WB_URBAN).write_bytes(b"lorem ipsum\n" * 1000)
        else:
            (source / WB_URBAN).mkdir()
    elif case.startswith("year"):
        extra = ["--year", case.split("_")[1]]
    elif case == "out_is_a_file":
        out.write_text("not a folder")
    elif case == "out_read_only":
        out = Path("/proc/ictstats-out")
    elif case == "locked":
        out = lock_held
    status_, err, seconds, imported = run_cli_quickly(
        ["run", "--source-dir", str(source), "--out", str(out), *extra])
    assert status_ == status, err
    assert len(err.splitlines()) == 1 and err.startswith("ictstats: ") and "Traceback" not in err
    for word in words:
        assert word in err
    assert seconds < 1.0 and not imported
    if case != "out_is_a_file" and case != "locked":
        assert not out.exists()


def test_the_exit_statuses_are_documented_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for status in (EXIT_FAILED, EXIT_SOURCES, EXIT_YEAR, EXIT_LOCKED, EXIT_OUTPUT):
        assert f"\n  {status}  " in text
    assert "--accept-shrink" in text


def test_a_negative_seed_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--seed", "-1"])
    assert exit_info.value.code == 2


# ============================================================================== 8. the query
QUERY_ATTEMPTS = [
    "COPY (SELECT 'tampered') TO '{out}/tables/headline.csv'",
    "COPY observations TO '{tmp}/x.csv'",
    "EXPORT DATABASE '{tmp}/export'",
    "ATTACH '{tmp}/other.duckdb' AS other (READ_WRITE)",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/root/*')",
    "SELECT * FROM '/etc/passwd'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET enable_external_access",
    "SET temp_directory = '{tmp}/spill'",
    "CREATE TABLE x AS SELECT 1",
    "PRAGMA enable_profiling",
]


@pytest.mark.parametrize("sql", QUERY_ATTEMPTS)
def test_the_query_cannot_write_or_read_outside_the_database(published, tmp_path, capsys, sql):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    before = {p: p.read_bytes() for p in published.parent.rglob("*") if p.is_file()}
    other_before = other.read_bytes()
    statement = sql.format(out=published.parent, tmp=tmp_path)
    assert main(["query", "--db", str(published), statement]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("ictstats: query failed: "), err
    assert {p: p.read_bytes() for p in published.parent.rglob("*") if p.is_file()} == before
    assert other.read_bytes() == other_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.duckdb"]


def test_the_query_error_keeps_duckdb_s_hint(published, capsys):
    assert main(["query", "--db", str(published), "SELECT * FROM headlin"]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert 'Did you mean "headline"?' in err and "LINE 1" not in err


def test_the_query_still_reads_the_database(published, capsys):
    assert main(["query", "--db", str(published),
                 "SELECT count(*) AS n FROM groups_changes WHERE change = 'removed'"]) == 0
    assert capsys.readouterr().out.split()[0] == "n"


# ============================================================================== 9. real data
def test_validate_passes_the_real_snapshot_with_the_known_counts(snapshot, capsys):
    assert main(["validate", "--source-dir", str(snapshot)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "27 file(s), 0 unusable"
    quarantined = [line for line in out if " x " in line]
    assert len(quarantined) == 2  # SDG API above 100% (4), ODW Faroe Islands twice (1)


def test_the_cross_file_rules_reject_nothing_real(snapshot_results):
    q = pd.concat([r.extract.quarantine for r in snapshot_results if r.extract is not None])
    assert len(q) == 5
    assert not set(q["check"]) & {"population_years", "population_sources", "population_row",
                                  "percent_scale"}
    assert plausibility.SOURCE_FACTOR > 1.66 and plausibility.YEAR_FACTOR > 1.28


# ============================================================================== 10. end to end
@pytest.fixture(scope="module")
def faulty_run(snapshot, prefect_harness, tmp_path_factory, shared_cache):
    """The whole flow on the snapshot with several faults at once: Nigeria's population 0 and
    Luxembourg's x1000 (WPP), France's Internet use in fractions (World Bank), GDP per capita
    inf and 1e308 (DataBank), Kenya missing from the country codes, and the SDG 4G file with
    its columns reordered and a column added."""
    from flows.pipeline import pipeline

    book = openpyxl.load_workbook(snapshot / WDI_XLSX)
    sheet = book["Data"]
    header = [c.value for c in sheet[1]]
    year = next(j for j, h in enumerate(header) if str(h).startswith("2019"))
    rows = [r for r in sheet.iter_rows(min_row=2) if r[header.index("Code")].value == "CHE"]
    rows[0][year].value, rows[1][year].value = "inf", "1e308"
    buffer = io.BytesIO()
    book.save(buffer)

    def france(fields, header_):
        for j, column in enumerate(header_):
            if column.isdigit() and fields[j].strip():
                fields[j] = repr(float(fields[j]) / 100)
        return fields
    root = farm(snapshot, tmp_path_factory.mktemp("faulty-src"), {
        WPP: text_edit(_population_faults),
        WB_INTERNET: text_edit(lambda t: edit_rows(t, where("Country Code", "FRA"), france)),
        WDI_XLSX: buffer.getvalue(),
        COUNTRY_CODES: text_edit(lambda t: drop_records(t, "ISO3166-1-Alpha-3", "KEN")),
        SDG_4G: text_edit(reorder_with_extra_column),
    })
    out = tmp_path_factory.mktemp("faulty-out")
    state = pipeline(source_dir=str(root), out_dir=str(out),
                     raw_dir=str(tmp_path_factory.mktemp("faulty-raw")),
                     cache_dir=str(shared_cache), return_state=True)
    assert state.is_completed(), state.message
    return out / "ict.duckdb"


def test_end_to_end_no_faulty_value_is_published(faulty_run):
    with duckdb.connect(str(faulty_run), read_only=True) as con:
        def one(sql):
            return con.execute(sql).fetchone()[0]
        assert one("SELECT count(*) FROM observations WHERE unit = 'persons' AND "
                   "(value <= 0 OR iso3 = 'LUX')") == 0
        assert one("SELECT count(*) FROM observations WHERE source = 'wb_internet' AND "
                   "iso3 = 'FRA'") == 0
        assert one("SELECT count(*) FROM observations WHERE NOT isfinite(value) "
                   "OR (unit = 'usd' AND value > 1e6)") == 0
        assert one("SELECT count(*) FROM weights WHERE iso3 = 'LUX' OR population <= 0 "
                   "OR NOT isfinite(population)") == 0
        assert one("SELECT weight_source FROM weights WHERE iso3 = 'NGA' AND year = 2020") \
            .startswith("World Bank")
        for table in ("estimates", "aggregates"):
            assert one(f"SELECT count(*) FROM {table} WHERE NOT isfinite(value) "
                       "OR value < 0 OR value > 100") == 0
        # the world total lies between the female and male figures (it did not, issue 12)
        world = dict(con.execute(
            "SELECT sex, value FROM aggregates WHERE indicator = 'IT_USE_ii99' AND "
            "group_code = 'WLD' AND location = 'total' AND year = 2024").fetchall())
        assert min(world["female"], world["male"]) <= world["total"] <= \
            max(world["female"], world["male"])
        # 2024 rests on the World Bank's values, which no source flags as reported
        assert 0.9 < one("SELECT observed_coverage FROM aggregates WHERE indicator = "
                         "'IT_USE_ii99' AND group_code = 'WLD' AND sex = 'total' AND "
                         "location = 'total' AND year = 2024") <= 1
        checks = {c for (c,) in
                  con.execute('SELECT DISTINCT "check" FROM quarantine').fetchall()}
        assert {"schema:positive_value", "population_sources", "population_row",
                "percent_scale", "schema:finite_value", "schema:value_in_unit_range"} <= checks
        assert con.execute("SELECT group_code, change FROM groups_changes WHERE iso3 = 'KEN'"
                           ).fetchall() == [("202", "removed")]
        assert one("SELECT count(*) FROM sources WHERE rows_read <> rows_accepted + "
                   "rows_quarantined") == 0
        assert "'note' ignored" in one("SELECT notes FROM sources WHERE file LIKE "
                                        "'%it_mob_4gntwk%'")


def test_end_to_end_the_run_prints_the_member_a_group_lost(faulty_run):
    from flows.cli import run_summary

    lines = run_summary(faulty_run)
    assert any(line.startswith("membership: 202 Sub-Saharan Africa lost KEN") for line in lines)


@pytest.mark.parametrize("case", ["wpp_cut_at_a_line", "directory_named_like_a_source"])
def test_end_to_end_the_run_stops_in_one_line(snapshot, prefect_harness, tmp_path, case):
    from flows.pipeline import pipeline

    if case == "wpp_cut_at_a_line":
        root = farm(snapshot, tmp_path / "src", {WPP: text_edit(keep_first_lines(4139 / 8241))})
        words = [Path(WPP).name, "lacks", "--accept-shrink"]
    else:
        root = farm(snapshot, tmp_path / "src", {WB_INTERNET: None})
        (root / WB_INTERNET).mkdir()
        words = [WB_INTERNET, "is a directory"]
    out = tmp_path / "out"
    state = pipeline(source_dir=str(root), out_dir=str(out), raw_dir=str(tmp_path / "raw"),
                     return_state=True)
    assert not state.is_completed()
    assert "\n" not in state.message
    for word in words:
        assert word in state.message
    assert not (out / "ict.duckdb").exists()
    journal = [json.loads(x) for x in (out / "runs.jsonl").read_text().splitlines()]
    assert journal[-1]["status"] == "failed"


def test_a_shrink_accepted_is_noted_in_the_sources_table(snapshot, tmp_path):
    from flows.pipeline import shrink_problem

    build(snapshot, tmp_path, [WB_POP], {WPP: text_edit(keep_first_lines(0.5))})
    results = read_all(tmp_path)
    assert "not published" in shrink_problem(results, accept=False)
    assert shrink_problem(results, accept=True) is None
    tables = assemble(results, tmp_path, {str(r.path.relative_to(tmp_path)): ""
                                          for r in results}).tables
    notes = tables["sources"].set_index("source_id")["notes"]
    assert notes["wpp"].startswith("shrink accepted: ") and "lacks" in notes["wpp"]


# ============================================================================== 11. warnings
def test_numeric_warnings_of_the_project_are_errors_in_the_tests():
    """pyproject.toml filterwarnings: a RuntimeWarning raised in the project's modules fails
    the test (in Prefect's worker threads too: the filters are the process's)."""
    import warnings

    with pytest.raises(RuntimeWarning):
        warnings.warn_explicit("invalid value encountered in divide", RuntimeWarning,
                               "indicators/estimate.py", 1, module="indicators.estimate")


def test_rake_splits_a_row_with_no_population_without_dividing_by_zero():
    """Nigeria's WPP population 0 made rake divide 0 by 0 (the RuntimeWarning of issue 12)."""
    import numpy as np

    from indicators.raking import rake

    out = rake(np.array([50.0, 60.0]), np.zeros((2, 2)), np.array([[0.0, 0.0], [1.0, 2.0]]),
               np.ones((2, 2), dtype=bool))
    assert np.isfinite(out).all()
    assert out[0].tolist() == [50.0, 50.0]


def test_group_members_lost_since_the_previous_publication():
    from indicators.revisions import group_changes_since

    def groups(members):
        return pd.DataFrame([{"group_scheme": "sdg_region", "group_code": "202",
                              "group_name": "Sub-Saharan Africa", "iso3": m, "year": y}
                             for m in members for y in (2023, 2024)])
    previous = {"groups": groups(["KEN", "GHA"]), "run_id": "abcdef0123456789"}
    changes = group_changes_since(previous, groups(["GHA"]))
    assert changes[["group_code", "iso3", "change", "first_year", "last_year"]].values.tolist() \
        == [["202", "KEN", "removed", 2023, 2024]]
    assert changes["before"].iloc[0] == "previous publication (run abcdef01)"
