"""What each file is held against beyond the classification universe (sources/completeness.py,
issue 12 point 1), on copies of the real bundled edition: its retrieval's manifest, the same
series in the previous publication, and the rank of several files of one source.

- a bundled file changed by one byte stops the run before any file is read, naming the file
  and what differs; with --accept-shrink the run publishes and `sources` notes it; a file of a
  download retrieval (its own manifest format), reached through data/raw/.current or a link,
  is checked the same way;
- the SDG mobile-ownership file (a `partial_coverage` series the universe does not check) cut
  in half at a line passes a first run and is caught by the second, against the first's
  publication; the edition rerun on its own publication passes;
- two files of one pattern with different values for one key: the file ranked first by the
  catalog's release rule wins in preferred_observations, whatever the order of their names.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from test_faults import SDG_OWN, WB_INTERNET, farm, keep_first_lines, result_of, text_edit

from catalog import RELEASE_RULES, source
from curate.assemble import assemble
from curate.descriptions import VIEWS
from sources import completeness, listing
from sources.files import sha256
from sources.listing import file_ranks, files_in
from sources.read import read_all
from sources.retrievals import MANIFEST, RETRIEVALS, assemble_source_dir

EDITION_NAME = "edition-2025-11"


def checksums_of(root: Path) -> tuple[list, dict[str, str]]:
    files = files_in(root)
    return files, {str(p.relative_to(root)): sha256(p) for _, p in files}


def one_byte_changed(data: bytes) -> bytes:
    """The first decimal of a value past the middle of the file changed: the same size,
    another checksum, a plausible value."""
    i = re.compile(rb"\d\.(\d)").search(data, len(data) // 2).start(1)
    digit = b"1" if data[i:i + 1] != b"1" else b"2"
    return data[:i] + digit + data[i + 1:]


def journal(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "runs.jsonl").read_text().splitlines()]


# ============================================================================== 1. manifests
@pytest.fixture()
def edition_copy(snapshot, tmp_path) -> Path:
    """A real copy of the bundled edition, its MANIFEST.json included."""
    root = tmp_path / EDITION_NAME
    shutil.copytree(snapshot, root)
    return root


def test_the_bundled_edition_matches_its_manifest(snapshot, edition_copy):
    for root in (snapshot, edition_copy):
        files, checksums = checksums_of(root)
        assert completeness.manifest_mismatches(root, files, checksums) == []


def test_a_file_cut_short_differs_in_size_and_checksum(edition_copy):
    path = edition_copy / SDG_OWN
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    files, checksums = checksums_of(edition_copy)
    changed = completeness.manifest_mismatches(edition_copy, files, checksums)
    assert [c.file for c in changed] == [SDG_OWN]
    message = changed[0].message()
    assert message.startswith(f"{SDG_OWN}: differs from the manifest of {EDITION_NAME} (")
    assert f"{len(data) // 2:,} bytes, {len(data):,} expected; checksum differs" in message
    assert "half-copied" in message and "\n" not in message


def test_a_file_the_manifest_does_not_list_is_named(edition_copy):
    extra = edition_copy / "world-bank" / "API_IT.NET.USER.ZS_DS2_en_csv_v2_9999.csv"
    extra.write_bytes(one_byte_changed((edition_copy / WB_INTERNET).read_bytes()))
    files, checksums = checksums_of(edition_copy)
    changed = completeness.manifest_mismatches(edition_copy, files, checksums)
    expected = (f"world-bank/{extra.name}: not in the manifest of {EDITION_NAME}: a file "
                "added to the retrieval after it was made")
    assert [c.message() for c in changed] == [expected]


def test_links_are_followed_and_a_folder_without_manifest_is_not_checked(snapshot, tmp_path):
    """A user's folder: links into the edition are held against its manifest; a real file
    of the folder is not (no manifest there), however it differs from the bundled one."""
    root = farm(snapshot, tmp_path / "src", {WB_INTERNET: one_byte_changed})
    files, checksums = checksums_of(root)
    assert completeness.manifest_mismatches(root, files, checksums) == []
    (tmp_path / "changed.csv").write_bytes(one_byte_changed((snapshot / SDG_OWN).read_bytes()))
    (root / SDG_OWN).unlink()
    (root / SDG_OWN).symlink_to(tmp_path / "changed.csv")  # a link out of the edition
    files, checksums = checksums_of(root)
    assert completeness.manifest_mismatches(root, files, checksums) == []
    # a link to a changed file inside the edition copy is checked against its manifest
    copy = tmp_path / EDITION_NAME
    shutil.copytree(snapshot, copy)
    (copy / SDG_OWN).write_bytes(one_byte_changed((snapshot / SDG_OWN).read_bytes()))
    (root / SDG_OWN).unlink()
    (root / SDG_OWN).symlink_to(copy / SDG_OWN)
    files, checksums = checksums_of(root)
    changed = completeness.manifest_mismatches(root, files, checksums)
    assert [(c.file, c.retrieval) for c in changed] == [(SDG_OWN, EDITION_NAME)]
    assert "the same size" in changed[0].message()


def test_a_download_retrieval_is_held_against_its_own_manifest(snapshot, tmp_path):
    """A download's MANIFEST.json (sources/download.py: url, file, sha256, bytes, …, paths
    inside <folder>/<date>/) read through data/raw/.current (hard links, RETRIEVALS.json)."""
    raw = tmp_path / "raw"
    shutil.copytree(snapshot, raw / EDITION_NAME)
    day = raw / "world-bank" / "2026-12-01"
    day.mkdir(parents=True)
    name = Path(WB_INTERNET).name
    data = (snapshot / WB_INTERNET).read_bytes()
    (day / name).write_bytes(data)
    entry = {"id": "wb-internet-users", "file": name, "url": "https://example.org/x",
             "sha256": sha256(day / name), "bytes": len(data),
             "retrieved_at": "2026-12-01T00:00:00Z", "http_status": 200,
             "content_type": "text/csv", "publisher": "World Bank", "licence": "CC BY 4.0"}
    (day / MANIFEST).write_text(json.dumps({"source": "world-bank", "retrieved": "2026-12-01",
                                            "complete": True, "files": [entry]}))
    current = assemble_source_dir(raw)
    picks = json.loads((current / RETRIEVALS).read_text())
    assert picks["wb_internet"]["retrieval"] == "world-bank/2026-12-01"
    files, checksums = checksums_of(current)
    assert completeness.manifest_mismatches(current, files, checksums) == []
    (day / name).write_bytes(one_byte_changed(data))  # in place: .current holds a hard link
    files, checksums = checksums_of(current)
    changed = completeness.manifest_mismatches(current, files, checksums)
    assert [(c.file, c.retrieval) for c in changed] == [(WB_INTERNET,
                                                         "world-bank/2026-12-01")]
    # the retrieval's folder itself given as the source directory's file, through a link
    root = farm(snapshot, tmp_path / "src", {WB_INTERNET: None})
    (root / WB_INTERNET).symlink_to(day / name)
    files, checksums = checksums_of(root)
    assert [c.retrieval for c in completeness.manifest_mismatches(root, files, checksums)] \
        == ["world-bank/2026-12-01"]


def test_a_bundled_file_changed_by_one_byte_stops_the_run_unless_accepted(
        edition_copy, prefect_harness, shared_cache, tmp_path):
    from flows.pipeline import pipeline

    path = edition_copy / WB_INTERNET
    size = path.stat().st_size
    path.write_bytes(one_byte_changed(path.read_bytes()))
    out = tmp_path / "out"
    state = pipeline(source_dir=str(edition_copy), out_dir=str(out),
                     raw_dir=str(tmp_path / "raw"), return_state=True)
    assert not state.is_completed()
    assert "\n" not in state.message
    assert state.message.startswith(
        f"{WB_INTERNET}: differs from the manifest of {EDITION_NAME} (the same size, "
        f"{size:,} bytes; checksum differs): a changed or half-copied file"), state.message
    assert "--accept-shrink" in state.message
    assert not (out / "ict.duckdb").exists()
    assert journal(out)[-1]["status"] == "failed"

    state = pipeline(source_dir=str(edition_copy), out_dir=str(out),
                     raw_dir=str(tmp_path / "raw"), accept_shrink=True,
                     cache_dir=str(shared_cache), return_state=True)
    assert state.is_completed(), state.message
    with duckdb.connect(str(out / "ict.duckdb"), read_only=True) as con:
        notes = dict(con.execute("SELECT file, notes FROM sources").fetchall())
    assert notes[WB_INTERNET].startswith("difference from the manifest accepted: "
                                         f"{WB_INTERNET}: differs from the manifest")
    assert not any("manifest" in (n or "") for f, n in notes.items() if f != WB_INTERNET)


# ============================================================================== 2. previous
@pytest.fixture()
def republished(published, tmp_path) -> Path:
    """An output folder holding a copy of the edition's publication (releases and links)."""
    out = tmp_path / "out"
    shutil.copytree(published.parent, out, symlinks=True)
    assert (out / "ict.duckdb").resolve().is_file()
    return out


def test_the_edition_against_its_own_publication_loses_nothing(snapshot_results, published):
    previous = completeness.previous_publication(published)
    assert previous is not None and len(previous.keys) > 100_000
    assert completeness.against_previous(
        snapshot_results, completeness.Expected(None, previous)) == []
    assert completeness.shrinks(snapshot_results, previous) == []
    assert completeness.previous_publication(published.parent / "none.duckdb") is None


def test_a_series_losing_less_than_the_thresholds_is_not_a_loss(snapshot_results, published):
    """Below the thresholds: 1 of the 313 rows of female mobile ownership, 1 of 90
    economies; a whole year is always one."""
    previous = completeness.previous_publication(published)
    keys = previous.keys
    series = (keys["source"] == "sdg_ddf") & (keys["indicator"] == "IT_MOB_OWN") & \
        (keys["sex"] == "female")
    extra = keys[series].iloc[:1].assign(iso3="ZZZ")  # a row the previous one had, lost now
    more = dataclasses.replace(previous, keys=pd.concat([keys, extra], ignore_index=True))
    assert completeness.shrinks(snapshot_results, more) == []
    years = keys[series].assign(year=1901).iloc[:1]
    older = dataclasses.replace(previous, keys=pd.concat([keys, years], ignore_index=True))
    lost = completeness.shrinks(snapshot_results, older)
    assert [s.what for s in lost] == ["IT_MOB_OWN (female/total) of sdg_ddf"]
    assert "the whole year(s) 1901" in lost[0].message()


def test_an_unchanged_rerun_on_the_previous_publication_publishes(
        snapshot, republished, prefect_harness, tmp_path_factory, shared_cache):
    from flows.pipeline import pipeline

    before = (republished / "ict.duckdb").resolve()
    state = pipeline(source_dir=str(snapshot), out_dir=str(republished),
                     raw_dir=str(tmp_path_factory.mktemp("raw")),
                     cache_dir=str(shared_cache), return_state=True)
    assert state.is_completed(), state.message
    assert (republished / "ict.duckdb").resolve() != before
    with duckdb.connect(str(republished / "ict.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sources WHERE notes LIKE '%accepted%'"
                           ).fetchone()[0] == 0


def test_a_partial_series_cut_in_half_is_caught_against_the_previous_publication(
        snapshot, republished, prefect_harness, shared_cache, tmp_path):
    """Mobile ownership is `partial_coverage`: the universe does not check it, so a first
    run takes the file cut in half; the second, against the publication, does not."""
    from flows.pipeline import pipeline

    root = farm(snapshot, tmp_path / "src", {SDG_OWN: text_edit(keep_first_lines(0.5))})
    results = read_all(root)
    assert result_of(results, SDG_OWN).error is None
    name = Path(SDG_OWN).name
    assert not [s for s in completeness.shrinks(results) if name in s.names]  # first run

    before = (republished / "ict.duckdb").resolve()
    state = pipeline(source_dir=str(root), out_dir=str(republished),
                     raw_dir=str(tmp_path / "raw"), cache_dir=str(shared_cache),
                     return_state=True)
    assert not state.is_completed()
    assert "\n" not in state.message
    assert state.message.startswith(f"{name}: IT_MOB_OWN"), state.message
    for words in ("of sdg_ddf lost", "economies (", "rows (",
                  "against the previous publication (run ", "--accept-shrink"):
        assert words in state.message, (words, state.message)
    assert (republished / "ict.duckdb").resolve() == before  # the publication stays
    assert journal(republished)[-1]["status"] == "failed"


# ============================================================================== 3. ranks
def test_release_rules_of_the_catalog_are_those_listing_ranks_by():
    assert set(RELEASE_RULES) == set(listing.RELEASE_RULES)
    assert all(s.release_rule in RELEASE_RULES for s in (source("wb_internet"),))
    with pytest.raises(ValueError, match="release_rule"):
        dataclasses.replace(source("wb_internet"), release_rule="mtime")


def test_ranks_follow_the_version_in_natural_order_not_the_names_on_disk(tmp_path):
    entry = source("sdg_api")
    names = ["sdg-api_X_2020Q4.csv", "sdg-api_X_2021Q1.csv", "sdg-api_X_v9.csv",
             "sdg-api_X_v10.csv"]
    for order in (names, names[::-1]):
        ranks = file_ranks([(entry, tmp_path / "un-sdg" / n) for n in order], tmp_path)
        assert sorted(ranks, key=ranks.get) == [tmp_path / "un-sdg" / n for n in
                                                ["sdg-api_X_v10.csv", "sdg-api_X_v9.csv",
                                                 "sdg-api_X_2021Q1.csv",
                                                 "sdg-api_X_2020Q4.csv"]]


def norway_2019(value: str):
    """The World Bank bulk file with Norway's 2019 Internet use set to `value`."""
    def edit(text: str) -> str:
        from test_faults import edit_rows, set_value, where
        return edit_rows(text, where("Country Code", "NOR"), set_value("2019", value))
    return text_edit(edit)


@pytest.mark.parametrize("other, other_wins", [
    ("API_IT.NET.USER.ZS_DS2_en_csv_v2_10000.csv", True),  # before _2160 as text, after it
    ("API_IT.NET.USER.ZS_DS2_en_csv_v2_999.csv", False),   # after _2160 as text, before it
])
def test_the_file_ranked_first_wins_for_one_key(snapshot, tmp_path, other, other_wins):
    """Two files of wb_internet with Norway's 2019 value 97.25 and 98.75: the one of the
    later version wins in preferred_observations, whichever sorts later as text."""
    other_rel = f"world-bank/{other}"
    data = (snapshot / WB_INTERNET).read_bytes()
    root = farm(snapshot, tmp_path, {WB_INTERNET: norway_2019("97.25")(data),
                                     other_rel: norway_2019("98.75")(data)})
    results = read_all(root)
    checksums = {str(r.path.relative_to(root)): sha256(r.path) for r in results}
    tables = assemble(results, root, checksums).tables
    ranks = tables["sources"].set_index("file")["file_rank"]
    assert (ranks[other_rel], ranks[WB_INTERNET]) == ((1, 2) if other_wins else (2, 1))
    with duckdb.connect() as con:
        con.register("observations", tables["observations"])
        both = con.execute("SELECT file, value FROM observations WHERE source = 'wb_internet' "
                           "AND iso3 = 'NOR' AND year = 2019 ORDER BY file").fetchall()
        assert sorted(v for _, v in both) == [97.25, 98.75]
        preferred = con.execute(
            f"SELECT source, file, value FROM ({VIEWS['preferred_observations']}) WHERE "
            "indicator = 'IT_USE_ii99' AND iso3 = 'NOR' AND year = 2019 AND sex = 'total' "
            "AND location = 'total'").fetchall()
    assert preferred == [("wb_internet", other if other_wins else Path(WB_INTERNET).name,
                          98.75 if other_wins else 97.25)]
