"""The curated tables of one publication, assembled from what the adapters read."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from catalog import indicators
from sources.base import empty_quarantine
from sources.listing import file_ranks
from sources.read import FileResult, tables_of

# Tables adapters may return beside observations (classifications, publisher groups, ITU lists).
EXTRA_TABLES = ["economies", "wb_economies", "income_groups", "economy_regions",
                "publisher_groups", "publisher_group_members", "publisher_aggregates",
                "itu_indicators", "itu_regions", "itu_country_regions"]


@dataclass
class Curated:
    """Every table of one publication, as DataFrames, before it is written."""

    tables: dict[str, pd.DataFrame]


def indicators_table() -> pd.DataFrame:
    return pd.DataFrame([
        {"code": i.code, "title": i.title, "label": i.label, "unit": i.unit,
         "unit_label": i.unit_label, "definition": i.definition, "sdg_indicator": i.sdg,
         "weight": i.weight, "role": i.role, "aliases": ", ".join(i.aliases)}
        for i in indicators().values()
    ])


def assemble(results: list[FileResult], source_dir: Path, checksums: dict[str, str]) -> Curated:
    """All extracts → the tables of one publication."""
    extracts = [r.extract for r in results]
    release_dates = {r.entry.id: r.entry.release_date for r in results}
    ranks = file_ranks([(r.entry, r.path) for r in results], source_dir)
    observations = pd.concat(
        [r.extract.tables["observations"].assign(file_rank=ranks[r.path]) for r in results
         if len(r.extract.tables.get("observations", ()))]
        or [tables_of(extracts, "observations").assign(file_rank=None)], ignore_index=True)
    observations = observations.astype({"year": "int32", "row": "int64", "file_rank": "int64"})
    observations["release_date"] = pd.to_datetime(
        observations["source"].map(release_dates)).dt.date
    quarantine = pd.concat(
        [r.extract.quarantine.assign(source=r.entry.id) for r in results
         if len(r.extract.quarantine)] or [empty_quarantine().assign(source=None)],
        ignore_index=True)
    quarantine = quarantine.astype({"row": "Int64", "value": "str", "column": "str",
                                    "year": "Int64"})
    sources = pd.DataFrame([{
        "source_id": r.entry.id, "file": str(r.path.relative_to(source_dir)),
        "publisher": r.entry.publisher, "licence": r.entry.licence,
        "release": release_of(r),
        "release_date": r.entry.release_date,
        "file_rank": ranks[r.path],
        "sha256": checksums[str(r.path.relative_to(source_dir))],
        "bytes": r.path.stat().st_size, "rows_read": r.extract.rows_read,
        "rows_accepted": r.extract.rows_accepted, "rows_quarantined": r.extract.rows_quarantined,
        "values_accepted": r.extract.values_accepted,
        "economies": int(r.extract.tables["observations"]["iso3"].nunique())
        if "observations" in r.extract.tables else None,
        "notes": "; ".join(r.extract.notes + r.notes) or None,
    } for r in results])
    sources["economies"] = sources["economies"].astype("Int64")
    tables = {
        "observations": observations,
        "indicators": indicators_table(),
        "sources": sources,
        "quarantine": quarantine,
    }
    for name in EXTRA_TABLES:
        frame = tables_of(extracts, name)
        if len(frame):
            tables[name] = frame
    return Curated(tables)


def release_of(result: FileResult) -> str:
    """The catalog's release, or the releases the file itself names (the SDG API CSV)."""
    observations = result.extract.tables.get("observations")
    if result.entry.release.startswith("from the file") and observations is not None \
            and len(observations):
        return ", ".join(sorted(set(observations["release"])))
    return result.entry.release
