"""The data edition the project ships: a dated copy of the source files under
`data/raw/edition-<YYYY-MM>/`, with a manifest and an attribution page generated from the
source catalog.

    uv run python -m sources.edition build SNAPSHOT_DIR data/raw/edition-2025-11
    uv run python -m sources.edition verify data/raw/edition-2025-11

`MANIFEST.json` lists every file with its size and SHA-256, the catalog source that reads it,
its publisher, licence, attribution and release (only files the catalog reads are shipped);
`ATTRIBUTION.md` says the same for people. `verify` checks every file against the manifest.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from catalog import Source
from sources.files import sha256
from sources.read import files_in
from sources.retrievals import EDITION_PREFIX, MANIFEST

ATTRIBUTION = "ATTRIBUTION.md"


def manifest_of(edition: Path) -> dict:
    readers: dict[str, Source] = {str(p.relative_to(edition)): e for e, p in files_in(edition)}
    files = []
    for path in sorted(p for p in edition.rglob("*") if p.is_file()):
        relative = str(path.relative_to(edition))
        if relative in (MANIFEST, ATTRIBUTION):
            continue
        row = {"file": relative, "bytes": path.stat().st_size, "sha256": sha256(path)}
        source = readers.get(relative)
        if source is not None:
            row.update(source=source.id, publisher=source.publisher, licence=source.licence,
                       attribution=source.attribution, release=source.release)
        files.append(row)
    return {"edition": edition.name.removeprefix(EDITION_PREFIX), "complete": True,
            "files": files}


def attribution_page(manifest: dict) -> str:
    lines = [f"# Data edition {manifest['edition']}: sources and licences", "",
             ("These files are the publishers' own releases, redistributed under their "
              "licences for offline, reproducible runs of ictstats. Cite the publishers."), "",
             "| file | publisher | licence | attribution |", "|---|---|---|---|"]
    for row in manifest["files"]:
        if "source" in row:
            lines.append(f"| {row['file']} | {row['publisher']} | {row['licence']} | "
                         f"{row['attribution']} |")
    return "\n".join(lines) + "\n"


def build(snapshot: Path, edition: Path) -> dict:
    """Copy the snapshot's files that the source catalog reads into `edition` and write its
    manifest and attribution page."""
    edition.mkdir(parents=True, exist_ok=True)
    for _, path in files_in(snapshot):
        target = edition / path.relative_to(snapshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    manifest = manifest_of(edition)
    (edition / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (edition / ATTRIBUTION).write_text(attribution_page(manifest), encoding="utf-8")
    return manifest


def verify(edition: Path) -> list[str]:
    """What does not match the manifest: missing, changed or unlisted files (empty if none)."""
    try:
        listed = json.loads((edition / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError) as err:
        return [f"{edition / MANIFEST}: cannot be read ({err})"]
    problems = []
    for row in listed:
        path = edition / row["file"]
        if not path.is_file():
            problems.append(f"{row['file']}: missing")
        elif path.stat().st_size != row["bytes"] or sha256(path) != row["sha256"]:
            problems.append(f"{row['file']}: differs from the manifest (size or SHA-256)")
    known = {row["file"] for row in listed} | {MANIFEST, ATTRIBUTION}
    problems += [f"{p.relative_to(edition)}: not in the manifest"
                 for p in sorted(edition.rglob("*"))
                 if p.is_file() and str(p.relative_to(edition)) not in known]
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"] and len(argv) == 3:
        manifest = build(Path(argv[1]), Path(argv[2]))
        print(f"{argv[2]}: {len(manifest['files'])} files")
        return 0
    if argv[:1] == ["verify"] and len(argv) == 2:
        problems = verify(Path(argv[1]))
        print("\n".join(problems) or f"{argv[1]}: every file matches its manifest")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
