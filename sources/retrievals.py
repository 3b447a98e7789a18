"""The retrievals under `data/raw/` and the source directory a run reads from them.

    data/raw/edition-2025-11/<world-bank|un-sdg|…>/…   the bundled data edition (in git)
    data/raw/edition-2025-11/MANIFEST.json              its files: checksums, sizes, sources
    data/raw/<folder>/<YYYY-MM-DD>/…                    a download (`ictstats fetch`)
    data/raw/<folder>/<YYYY-MM-DD>/MANIFEST.json        written last: the retrieval is complete
    data/raw/.current/…                                 what the run reads (hard links)
    data/raw/.current/RETRIEVALS.json                   which retrieval each source came from

A retrieval counts only once its MANIFEST.json is there. For each source of the catalog the
run takes the files of the latest retrieval that holds any for it (a download is newer than
the edition it follows); a source no download provides keeps the edition's files.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from catalog import Source, sources

MANIFEST = "MANIFEST.json"
CURRENT = ".current"
RETRIEVALS = "RETRIEVALS.json"
EDITION_PREFIX = "edition-"
_DATE_DIR = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Retrieval:
    name: str        # edition-2025-11, or world-bank/2026-12-01
    retrieved: str   # its date (an edition's month), for ordering
    root: Path       # the folder its files lie in
    prefix: str      # what a file's path under `root` needs in front to be a source path

    def files(self) -> dict[str, Path]:
        """Source path (e.g. world-bank/CLASS.xlsx) -> file."""
        return {self.prefix + p.relative_to(self.root).as_posix(): p
                for p in sorted(self.root.rglob("*"))
                if p.is_file() and p.name not in (MANIFEST, RETRIEVALS)}

    @property
    def is_edition(self) -> bool:
        return self.name.startswith(EDITION_PREFIX)


def retrievals(raw_root: Path) -> list[Retrieval]:
    """Every complete retrieval under `raw_root`, oldest first."""
    raw_root = Path(raw_root)
    found = []
    if not raw_root.is_dir():
        return found
    for folder in sorted(raw_root.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        if folder.name.startswith(EDITION_PREFIX):
            if (folder / MANIFEST).is_file():
                found.append(Retrieval(folder.name, folder.name.removeprefix(EDITION_PREFIX),
                                       folder, ""))
            continue
        for dated in sorted(folder.iterdir()):
            if _DATE_DIR.fullmatch(dated.name) and (dated / MANIFEST).is_file():
                found.append(Retrieval(f"{folder.name}/{dated.name}", dated.name, dated,
                                       f"{folder.name}/"))
    return sorted(found, key=lambda r: (r.retrieved, not r.is_edition, r.name))


def _matches(entry: Source, path: str) -> bool:
    return Path(path).match(entry.pattern) and path.count("/") == entry.pattern.count("/")


def chosen(raw_root: Path) -> dict[str, tuple[Retrieval, dict[str, Path]]]:
    """Source id -> (the latest retrieval holding its files, those files)."""
    out = {}
    for retrieval in retrievals(raw_root):   # oldest first: later ones replace earlier ones
        files = retrieval.files()
        for entry in sources():
            mine = {rel: path for rel, path in files.items() if _matches(entry, rel)}
            if mine:
                out[entry.id] = (retrieval, mine)
    return out


def assemble_source_dir(raw_root: Path) -> Path | None:
    """(Re)build `raw_root/.current` from the chosen retrieval of each source; None when no
    retrieval is complete."""
    raw_root = Path(raw_root)
    picks = chosen(raw_root)
    if not picks:
        return None
    build = Path(tempfile.mkdtemp(prefix=f"{CURRENT}-", dir=raw_root))
    current, old = raw_root / CURRENT, raw_root / f"{build.name}.old"
    try:
        for _, files in picks.values():
            for relative, path in files.items():
                link = build / relative
                link.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, link)
                except OSError:
                    shutil.copy2(path, link)
        record = {source_id: {"retrieval": r.name, "retrieved": r.retrieved,
                              "files": sorted(files)}
                  for source_id, (r, files) in sorted(picks.items())}
        (build / RETRIEVALS).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if current.exists():
            current.rename(old)
        build.rename(current)
    finally:
        shutil.rmtree(build, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return current


def resolve_raw_dir(raw_root: Path, needed: list[str] = ()) -> Path | None:
    """The assembled source directory if there is any complete retrieval and every `needed`
    source id has one; None otherwise."""
    picks = chosen(raw_root)
    if not picks or not set(needed) <= picks.keys():
        return None
    return assemble_source_dir(raw_root)


def describe(source_dir: Path) -> list[str]:
    """Lines saying which retrieval each source of an assembled directory came from."""
    path = Path(source_dir) / RETRIEVALS
    if not path.is_file():
        return [str(source_dir)]
    by_retrieval: dict[str, list[str]] = {}
    for source_id, info in json.loads(path.read_text(encoding="utf-8")).items():
        by_retrieval.setdefault(info["retrieval"], []).append(source_id)
    return [f"{name} ({', '.join(ids) if len(ids) <= 3 else f'{len(ids)} sources'})"
            for name, ids in sorted(by_retrieval.items(), key=lambda kv: -len(kv[1]))]
