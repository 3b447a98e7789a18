"""Which source files a directory holds, and whether each can be read at all, without reading
it: the checks before a run starts (`ictstats run`, `ictstats validate`) and the first step of
the flow. Standard library and the catalog only, so that they answer within a second.

- every catalogued pattern's matches, including those that are not regular files (a directory,
  a dangling link or a link loop named like a source file is an error naming it);
- every source the catalog marks `required` found at least once (see catalog/sources.yaml);
- every file's first bytes: the header of a CSV layout (its key columns present, in any order),
  the signature of a spreadsheet, gzip or JSON file. Only the first 64 KiB are read, so junk
  named like a source file is rejected at once whatever its size;
- no file the exact copy of another of the same source (a download saved twice);
- the rank of each file among those of its source (`file_ranks`, the catalog's
  `release_rule`): where two files of one source hold a value for the same key, the value of
  the file ranked first is the preferred one (curate/descriptions.py).
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections import defaultdict
from pathlib import Path

from catalog import Source, sources
from schemas import layouts
from sources.files import PEEK_BYTES, SourceError, decode, describe_start, path_problem, peek

# adapter -> (key columns, whether a preamble may precede the header line)
CSV_LAYOUTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "country_codes": (layouts.COUNTRY_CODES, False),
    "wb_country_metadata": (layouts.WB_METADATA, False),
    "odw_codes": (layouts.ODW_CODES, False),
    "wb_bulk": (layouts.WB_BULK, True),
    "wb_excerpt": (layouts.WB_EXCERPT, False),
    "wb_long": (layouts.WB_LONG, False),
    "sdg_ddf": (layouts.SDG_DDF, False),
    "sdg_api": (layouts.SDG_API, False),
    "owid": (layouts.OWID_GRAPHER, False),
    "wpp": (layouts.WPP_2019, False),
}
SPREADSHEETS = {"wb_class", "wb_oghist_wide", "wb_oghist_long", "wb_databank", "itu_xls"}
SPREADSHEET_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # xlsx, xls
GZIP = {"wpp_single_age"}
JSON = {"itu_datahub"}
PREAMBLE_LINES = 50  # where a header after a preamble is looked for


def files_in(source_dir: Path) -> list[tuple[Source, Path]]:
    """Every (source, path) a catalogued pattern matches under `source_dir`, whether or not it
    is a regular file, classifications first, then in catalog order and by name."""
    found = []
    for entry in sources():
        matches = sorted(Path(source_dir).glob(entry.pattern))
        literal = Path(source_dir) / entry.pattern
        if not any(c in entry.pattern for c in "*?[") and not matches \
                and os.path.lexists(literal):
            matches = [literal]  # glob skips a dangling link or loop of a literal name
        found += [(entry, path) for path in matches]
    return sorted(found, key=lambda ep: (not ep[0].is_classification,))


def relative(path: Path, source_dir: Path) -> str:
    try:
        return str(Path(path).relative_to(source_dir))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------ headers
def header_line(records, having: tuple[str, ...] = ()) -> int | None:
    """Index of the header among the first records: after a preamble, the first holding any
    column of `having`, wherever it stands (the caller then says which are missing); without
    `having`, the first record."""
    for i, fields in enumerate(records):
        if i >= PREAMBLE_LINES:
            break
        if not having or set(having) & {f.strip() for f in fields}:
            return i
    return None


def no_header_problem(having: tuple[str, ...]) -> str:
    return (f"no header line (with {' or '.join(repr(c) for c in having)}) in its first "
            f"{PREAMBLE_LINES} lines")


def header_fields(path: Path, having: tuple[str, ...] = ()) -> list[str]:
    """The header of a CSV file from its first 64 KiB, or a SourceError: empty, not UTF-8
    text, no complete line, or (after a preamble) no line with every column of `having`."""
    data = peek(path)
    if not data.strip():
        raise SourceError(path, "is empty")
    whole = len(data) < PEEK_BYTES
    text = decode(data, path, final=whole)
    if not whole:
        text = text[: text.rfind("\n") + 1]  # complete lines only
        if not text.strip():
            raise SourceError(path, f"holds no line break in its first {PEEK_BYTES // 1024} "
                                    "KiB: not a CSV file")
    records = list(csv.reader(io.StringIO(text, newline="")))[:PREAMBLE_LINES]
    at = header_line(records, having)
    if at is None:
        raise SourceError(path, no_header_problem(having))
    return [h.strip() for h in records[at]] if records else []


def missing_columns_problem(header: list[str], required) -> str | None:
    missing = [c for c in dict.fromkeys(required) if c not in header]
    if missing:
        return f"wrong layout: missing column(s) {', '.join(repr(c) for c in missing)}"
    return None


def csv_required_columns(entry: Source, path: Path) -> tuple[list[str], tuple[str, ...]]:
    """The columns a CSV file of `entry`'s layout must have: its layout's key columns, and
    for a DDF datapoints file the keys and the series its file name declares."""
    columns, preamble = CSV_LAYOUTS[entry.adapter]
    required = list(columns)
    if entry.adapter == "sdg_ddf":
        series, keys = layouts.ddf_parts(Path(path).name)
        required += keys + ([series] if series else [])
    return required, tuple(columns) if preamble else ()


def header_problem(entry: Source, path: Path) -> str | None:
    """Why the first bytes of `path` cannot be a file of `entry`'s layout, or None."""
    try:
        if entry.adapter in CSV_LAYOUTS:
            required, having = csv_required_columns(entry, path)
            return missing_columns_problem(header_fields(path, having), required)
        if entry.adapter in SPREADSHEETS | GZIP | JSON:
            data = peek(path, 4096)
            if not data.strip():
                return "is empty"
            if entry.adapter in SPREADSHEETS and not data.startswith(SPREADSHEET_SIGNATURES):
                return f"cannot be read as a spreadsheet: it is {describe_start(data)}"
            if entry.adapter in GZIP and not data.startswith(b"\x1f\x8b"):
                return f"cannot be read as a gzipped CSV: it is {describe_start(data)}"
            if entry.adapter in JSON:
                text = decode(data, path, final=False).lstrip()
                if not text.startswith(("[", "{")):
                    return f"is not valid JSON: it is {describe_start(data)}"
    except SourceError as err:
        return err.problem
    return None


# ------------------------------------------------------------------------------ required
def requirements() -> dict[str, list[Source]]:
    """Requirement name -> the sources any one of which satisfies it (catalog `required`:
    true names the source alone; a name groups alternatives, e.g. WPP 2019 or WPP 2024)."""
    out: dict[str, list[Source]] = defaultdict(list)
    for entry in sources():
        if entry.required:
            out[entry.id if entry.required is True else str(entry.required)].append(entry)
    return dict(out)


def missing_required(source_dir: Path, files: list[tuple[Source, Path]]) -> list[str]:
    """One line per requirement no regular file satisfies."""
    found = {entry.id for entry, path in files if path_problem(path) is None}
    lines = []
    for name, alternatives in requirements().items():
        if any(a.id in found for a in alternatives):
            continue
        patterns = " or ".join(f"{a.pattern} ({a.id})" for a in alternatives)
        why = "".join(_folder_note(source_dir, a.pattern) for a in alternatives[:1])
        lines.append(f"required source {name} missing: no file matches {patterns}{why}")
    return lines


def _folder_note(source_dir: Path, pattern: str) -> str:
    folder = pattern.split("/")[0]
    if "/" not in pattern or any(c in folder for c in "*?["):
        return ""
    path = Path(source_dir) / folder
    if path.is_dir():
        return ""
    problem = path_problem(path)
    return f" ({folder} {problem or 'is not a directory'})" if path.is_symlink() or \
        path.exists() else f" (no folder {folder}/)"


# ------------------------------------------------------------------------------ copies
def duplicate_problems(files: list[tuple[Source, Path]], checksums: dict[str, str],
                       source_dir: Path) -> list[str]:
    """Files of one source with the same bytes as an earlier one: a download saved twice
    ("x (1).csv"). Reading both would make the values' precedence depend on file names."""
    seen: dict[tuple[str, str], str] = {}
    lines = []
    for entry, path in files:
        rel = relative(path, source_dir)
        digest = checksums.get(rel)
        if digest is None:
            continue
        first = seen.setdefault((entry.id, digest), rel)
        if first != rel:
            lines.append(f"{rel}: the same bytes as {first} (one download saved twice): "
                         "remove one of them")
    return lines


# ------------------------------------------------------------------------------ all of it
def listing_problems(source_dir: Path, files: list[tuple[Source, Path]],
                     headers: bool = True) -> list[str]:
    """Every reason the directory's files cannot make a run, one line each: matches that are
    not regular readable files, (optionally) headers that are not their layout's, and
    required sources not found."""
    lines = []
    for entry, path in files:
        problem = path_problem(path) or (header_problem(entry, path) if headers else None)
        if problem:
            lines.append(f"{relative(path, source_dir)}: {problem}")
    return lines + missing_required(source_dir, files)


def source_dir_problem(source_dir: Path) -> str | None:
    """The directory is missing, not a directory, or holds no catalogued file."""
    path = Path(source_dir)
    if not path.exists():
        return f"{path}: source directory not found"
    if not path.is_dir():
        return f"{path}: not a directory"
    if not files_in(path):
        examples = ", ".join(s.pattern for s in sources() if s.required is True)
        return f"{path}: no catalogued source files (expected e.g. {examples})"
    return None


# ------------------------------------------------------------------------------ ranks
def version_key(relative_path: str) -> tuple:
    """A path in natural order: runs of digits compared as numbers, the rest as text."""
    parts = re.split(r"(\d+)", relative_path)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), relative_path


RELEASE_RULES = {"version": version_key}  # catalog.RELEASE_RULES: each rule's key


def file_ranks(files, source_dir: Path) -> dict[Path, int]:
    """Each file's rank among the files of its source (1: the latest release, whose values
    win), by the source's `release_rule`; the order of names on disk does not matter."""
    by_source: dict[str, list[tuple[Source, Path]]] = defaultdict(list)
    for entry, path in files:
        by_source[entry.id].append((entry, path))
    ranks = {}
    for pairs in by_source.values():
        rule = RELEASE_RULES[pairs[0][0].release_rule]
        ordered = sorted(pairs, key=lambda ep: rule(relative(ep[1], source_dir)), reverse=True)
        ranks.update({path: rank for rank, (_, path) in enumerate(ordered, start=1)})
    return ranks
