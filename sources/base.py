"""What every source adapter shares: the canonical long table, file errors and raw readers.

An adapter turns one source file into an `Extract`: rows for one curated table, the rows it
had to reject (with the reason), and how many rows it read. File-level problems (unreadable,
empty, wrong layout, a key column missing) raise `SourceError` with one line naming the file.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sources.files import SourceError, decode
from sources.listing import header_line, no_header_problem

__all__ = ["SourceError"]  # defined in sources.files (no pandas), raised from here by adapters

OBSERVATION_COLUMNS = [
    "indicator", "iso3", "year", "sex", "location", "value", "unit", "status", "source", "release",
]
QUARANTINE_COLUMNS = ["file", "row", "column", "value", "check", "reason", "iso3", "year"]


@dataclass
class Extract:
    """What one adapter read from one file: rows for one or more curated tables."""

    tables: dict[str, pd.DataFrame]  # curated table name -> rows (observations, economies, ...)
    rows_read: int
    quarantine: pd.DataFrame = field(default_factory=lambda: empty_quarantine())
    notes: list[str] = field(default_factory=list)  # what a reader should know (columns ignored)
    # indicator -> the economies the file has rows of, accepted or quarantined (completeness:
    # an economy whose values were all rejected is not missing from the file)
    seen: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rows_quarantined(self) -> int:
        """File rows with at least one rejected value."""
        return int(self.quarantine["row"].nunique()) if len(self.quarantine) else 0

    @property
    def rows_accepted(self) -> int:
        """File rows with no rejected value."""
        return self.rows_read - self.rows_quarantined

    @property
    def values_accepted(self) -> int:
        return sum(len(frame) for frame in self.tables.values())


@dataclass(frozen=True)
class Context:
    """What adapters need to know beyond their own file."""

    known_iso3: frozenset[str]  # economies: the country universe of the classification files
    aggregate_codes: frozenset[str]  # publishers' group codes (WLD, HIC, ...): not economies
    m49_to_iso3: dict = field(default_factory=dict)
    m49_groups: frozenset[int] = frozenset()  # M49 codes of regions and groups
    names_to_iso3: dict = field(default_factory=dict)


_NO_QUARANTINE = pd.DataFrame({c: pd.Series(dtype="Int64" if c in ("row", "year") else "object")
                               for c in QUARANTINE_COLUMNS})


def empty_quarantine() -> pd.DataFrame:
    return _NO_QUARANTINE.copy()   # copying a built frame costs far less than building one


def quarantine_rows(file: str, rows, column, values, check: str, reason,
                    of: pd.DataFrame | None = None) -> pd.DataFrame:
    """Build quarantine records; `rows`, `values` (and `column`, `reason`) may be sequences.
    `of`: the rejected records themselves, whose `iso3` and `year` (where they have them)
    say which economy and year each rejected value was about."""
    n = len(rows)
    if n == 0:
        return empty_quarantine()
    economy, year = [None] * n, [None] * n
    if of is not None and len(of) == n:
        if "iso3" in of:
            economy = [None if pd.isna(v) else str(v) for v in of["iso3"]]
        if "year" in of:
            year = pd.to_numeric(of["year"], errors="coerce").tolist()
    frame = pd.DataFrame({
        "file": [file] * n,
        "row": list(rows),
        "column": list(column) if isinstance(column, (list, pd.Series)) else [column] * n,
        "value": [None if pd.isna(v) else str(v) for v in values],
        "check": [check] * n,
        "reason": list(reason) if isinstance(reason, (list, pd.Series)) else [reason] * n,
        "iso3": economy,
        "year": year,
    })
    year_values = pd.to_numeric(frame["year"], errors="coerce")
    frame["year"] = year_values.where(year_values % 1 == 0).astype("Int64")
    return frame.astype({"row": "Int64"})


def read_text(path: Path) -> str:
    """The file's text, UTF-8 with or without a byte-order mark, or a SourceError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot be read ({exc.strerror})") from exc
    if not data.strip():
        raise SourceError(path, "is empty")
    return decode(data, path)


# More than this share of a file's rows misshapen: the header does not describe the rows.
MISSHAPEN_FILE_SHARE = 0.5


def read_csv_strings(path: Path, header_starts_with: str | None = None,
                     header_with: tuple[str, ...] = ()) -> tuple[pd.DataFrame, int]:
    """Read a CSV as strings, keeping the file's line number of every data row in `_row`.

    `header_with` finds the header line after any preamble (the World Bank's four metadata
    lines): the first line holding any of those columns, in any order (`header_starts_with`:
    the first line whose first cell is that). `sources.read.read_file` has checked the header
    against the layout's key columns from the first 64 KiB before: junk is rejected before it
    is read whole.

    Rows with more or fewer fields than the header are kept aside in
    `frame.attrs["ragged"]` as (line, n_fields) so the caller can quarantine them: that is how
    a misaligned row shows up. A last row cut short (fewer fields and no line break after it,
    or a quote left open) means the file itself is incomplete, and more than half the rows
    misshapen means the header is not theirs: both are a SourceError. Returns the frame and
    the header's line number.
    """
    text = read_text(path)
    lines = list(csv.reader(io.StringIO(text, newline="")))
    header_index = 0
    if header_with:
        header_index = header_line(lines, header_with)
        if header_index is None:
            raise SourceError(path, no_header_problem(header_with))
    elif header_starts_with is not None:
        for i, fields in enumerate(lines[:50]):
            if fields and fields[0].strip() == header_starts_with:
                header_index = i
                break
        else:
            raise SourceError(path, f"no header line starting with '{header_starts_with}'")
    # csv.reader counts records, not lines: quoted values in this data never span lines.
    header = [h.strip() for h in lines[header_index]]
    raw_width = len(header)
    while header and header[-1] == "":
        header.pop()  # trailing empty unnamed column(s), as in the World Bank urban file
    width = len(header)
    rows, numbers, ragged = [], [], []
    last = None
    for offset, fields in enumerate(lines[header_index + 1:], start=header_index + 2):
        if not fields or all(f.strip() == "" for f in fields):
            continue
        last = (offset, fields)
        # a row has the header's fields, with or without its trailing unnamed empty ones;
        # one more, even empty, is a row the header does not describe (a header cell lost)
        fits = len(fields) in (width, raw_width) and all(f.strip() == "" for f in fields[width:])
        trimmed = fields[:width] if fits else fields
        if not fits:
            ragged.append((offset, len(fields)))
            continue
        rows.append(trimmed)
        numbers.append(offset)
    if not rows and not ragged:
        raise SourceError(path, "has a header but no data rows")
    _check_complete(path, text, last, width)
    if len(ragged) >= 3 and len(ragged) > MISSHAPEN_FILE_SHARE * (len(rows) + len(ragged)):
        line, n = ragged[0]
        raise SourceError(path, f"{len(ragged)} of {len(rows) + len(ragged)} rows do not have "
                                f"the header's {width} fields (line {line} has {n}): the "
                                "header does not describe the rows (misaligned or mixed file)")
    frame = pd.DataFrame(rows, columns=_unique_names(header), dtype="str")
    frame["_row"] = numbers
    frame.attrs["ragged"] = ragged
    frame.attrs["width"] = width
    return frame, header_index + 1


def _check_complete(path: Path, text: str, last, width: int) -> None:
    """The file's last record cut short: a quote left open (an odd number of quote marks, and
    the last record running to the end of the file inside it), or too few fields and no line
    break after them. A cut inside the last value of a complete-looking last line without a
    line break cannot be told from a file that merely lacks a final line break (the OWID
    coverage file has none): the shrink check (sources/completeness.py) is the defence there."""
    if last is None:
        return
    line, fields = last
    if text.count('"') % 2 and (len(fields) < width or any("\n" in f for f in fields[-1:])):
        raise SourceError(path, f"is cut short: a quote opened on line {line} is never "
                                "closed (an incomplete download or copy)")
    if len(fields) < width and not text.endswith(("\n", "\r")):
        raise SourceError(path, f"is cut short: its last line ({line}) ends without a line "
                                f"break after {len(fields)} of the header's {width} fields "
                                "(an incomplete download or copy)")


def ragged_quarantine(file: str, frame: pd.DataFrame) -> pd.DataFrame:
    ragged = frame.attrs.get("ragged", [])
    if not ragged:
        return empty_quarantine()
    width = frame.attrs["width"]
    return quarantine_rows(
        file, [r for r, _ in ragged], None, [None] * len(ragged), "row_shape",
        [f"row has {n} fields where the header has {width}: truncated or misaligned row"
         for _, n in ragged],
    )


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        name = name or "unnamed"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def require_columns(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceError(
            path, f"wrong layout: missing column(s) {', '.join(repr(c) for c in missing)}"
        )


def read_excel_strings(path: Path, sheet: str | int = 0) -> pd.DataFrame:
    """A sheet as strings with no header, or a SourceError."""
    try:
        empty = Path(path).stat().st_size == 0
    except OSError as exc:
        raise SourceError(path, f"cannot be read ({exc.strerror})") from exc
    if empty:
        raise SourceError(path, "is empty")
    try:
        return pd.read_excel(path, sheet_name=sheet, header=None, dtype=str, engine="calamine")
    except ValueError as exc:
        if "Worksheet" in str(exc) or "sheet" in str(exc).lower():
            raise SourceError(path, f"has no sheet {sheet!r}") from exc
        raise SourceError(path, f"cannot be read as a spreadsheet ({exc})") from exc
    except Exception as exc:  # xlrd / openpyxl / zipfile raise many kinds
        raise SourceError(path, f"cannot be read as a spreadsheet ({type(exc).__name__})") from exc


YEAR_HEADER = re.compile(r"^\d{4}$")
