"""The source catalog: which files to read, with which adapter, from which release."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CATALOG = Path(__file__).with_name("catalog.yaml")
CLASSIFICATION_ADAPTERS = {
    "country_codes", "wb_country_metadata", "wb_class", "wb_oghist_wide", "wb_oghist_long",
    "odw_codes",
}


@dataclass(frozen=True)
class SourceEntry:
    id: str
    pattern: str
    adapter: str
    publisher: str
    licence: str
    release: str
    release_date: dt.date

    @property
    def is_classification(self) -> bool:
        return self.adapter in CLASSIFICATION_ADAPTERS


@cache
def catalog() -> tuple[SourceEntry, ...]:
    entries = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return tuple(SourceEntry(**e) for e in entries)


def files_in(source_dir: Path) -> list[tuple[SourceEntry, Path]]:
    """Every (entry, file) found under `source_dir`, classifications first, in a stable order."""
    found = []
    for entry in catalog():
        for path in sorted(Path(source_dir).glob(entry.pattern)):
            if path.is_file():
                found.append((entry, path))
    return sorted(found, key=lambda ep: (not ep[0].is_classification,))
