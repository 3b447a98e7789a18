"""Read every source file under a directory: classifications first, then the data files."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from catalog import Source
from sources import classifications, itu, owid, population, un_sdg, world_bank
from sources.base import Context, Extract, SourceError
from sources.files import path_problem
from sources.itu import normalise_name
from sources.listing import files_in, header_problem
from sources.plausibility import cross_check

__all__ = ["files_in"]  # sources.listing: every match, regular file or not

ADAPTERS = {
    "country_codes": classifications.read_country_codes,
    "wb_country_metadata": classifications.read_wb_country_metadata,
    "wb_class": classifications.read_wb_class,
    "wb_oghist_wide": classifications.read_wb_oghist_wide,
    "wb_oghist_long": classifications.read_wb_oghist_long,
    "odw_codes": classifications.read_odw_codes,
    "wb_bulk": world_bank.read_wb_bulk,
    "wb_excerpt": world_bank.read_wb_excerpt,
    "wb_long": world_bank.read_wb_long,
    "wb_databank": world_bank.read_wb_databank,
    "sdg_ddf": un_sdg.read_sdg_ddf,
    "sdg_api": un_sdg.read_sdg_api,
    "itu_xls": itu.read_itu_xls,
    "itu_datahub": itu.read_itu_datahub,
    "owid": owid.read_owid,
    "wpp": population.read_wpp,
    "wpp_single_age": population.read_wpp_single_age,
}
# UN M49 codes of the SDG groupings that are not geographic regions of the M49 standard.
SDG_GROUP_CODES = {1, 62, 53, 199, 202, 419, 432, 513, 514, 515, 543, 722, 747, 753}
# Names the classification files spell differently from ITU's print tables.
NAME_ALIASES = {
    "bolivia": "BOL", "cote d ivoire": "CIV", "czech republic": "CZE", "hong kong china": "HKG",
    "iran islamic republic of": "IRN", "korea rep": "KOR", "macao china": "MAC",
    "moldova": "MDA", "russian federation": "RUS", "tanzania": "TZA", "venezuela": "VEN",
    "viet nam": "VNM", "kyrgyzstan": "KGZ", "lao p d r": "LAO", "north macedonia": "MKD",
    "palestine": "PSE", "egypt": "EGY", "turkey": "TUR", "turkiye": "TUR",
    "state of palestine": "PSE", "united states": "USA", "united kingdom": "GBR",
    "bolivia plurinational state of": "BOL", "curacao": "CUW", "dominican rep": "DOM",
    "korea rep of": "KOR", "saint vincent and the grenadines": "VCT",
    "taiwan province of china": "TWN",
}


@dataclass
class FileResult:
    entry: Source
    path: Path
    extract: Extract | None = None
    error: SourceError | None = None
    notes: list[str] = field(default_factory=list)  # found after reading (a shrink accepted)


def read_all(source_dir: Path) -> list[FileResult]:
    """Every catalogued file under `source_dir`, read and validated, then checked against each
    other (sources.plausibility); failures kept as errors. (The flow reads the same files as
    one task each: classifications, then the others, and checks them in the same way.)"""
    files = files_in(source_dir)
    classifications = read_classifications(files)
    ctx = context_of(classifications)
    return cross_check(classifications + [read_file(entry, path, ctx) for entry, path in files
                                          if not entry.is_classification])


def read_classifications(files: list[tuple[Source, Path]]) -> list[FileResult]:
    return [read_file(entry, path, None) for entry, path in files if entry.is_classification]


def context_of(classifications: list[FileResult]) -> Context:
    return build_context([r.extract for r in classifications if r.extract])


def read_file(entry: Source, path: Path, ctx: Context | None) -> FileResult:
    """One file read by its adapter, or its error: not a regular readable file, a header
    that is not its layout's (both found without reading more than 64 KiB), or whatever the
    adapter finds."""
    problem = path_problem(path) or header_problem(entry, path)
    if problem:
        return FileResult(entry, path, error=SourceError(path, problem))
    try:
        return FileResult(entry, path, extract=ADAPTERS[entry.adapter](path, entry, ctx))
    except SourceError as err:
        return FileResult(entry, path, error=err)
    except (KeyError, ValueError, TypeError, IndexError) as err:
        return FileResult(entry, path, error=SourceError(path, f"wrong layout ({err})"))


def tables_of(extracts: list[Extract], name: str) -> pd.DataFrame:
    frames = [e.tables[name] for e in extracts if name in e.tables and len(e.tables[name])]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def build_context(extracts: list[Extract]) -> Context:
    economies = tables_of(extracts, "economies")
    wb = tables_of(extracts, "wb_economies")
    groups = tables_of(extracts, "publisher_groups")
    known = set(economies.get("iso3", [])) | set(wb.get("iso3", []))
    m49 = {}
    names = {}
    m49_groups = set(SDG_GROUP_CODES)
    if len(economies):
        with_m49 = economies.dropna(subset=["m49"])
        m49 = dict(zip(with_m49["m49"].astype(int), with_m49["iso3"]))
        for col in ["region_code", "sub_region_code", "intermediate_region_code"]:
            m49_groups |= set(economies[col].dropna().astype(int))
        names.update({normalise_name(n): i for n, i in zip(economies["name"], economies["iso3"])})
    if len(wb):
        names.update({normalise_name(n): i for n, i in zip(wb["name"], wb["iso3"])})
    names.update(NAME_ALIASES)
    aggregates = set(groups.get("iso3", [])) - known
    return Context(
        known_iso3=frozenset(known), aggregate_codes=frozenset(aggregates),
        m49_to_iso3=m49, m49_groups=frozenset(m49_groups - set(m49)),
        names_to_iso3=names,
    )
