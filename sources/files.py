"""What a source file is before any adapter reads it: a regular, readable file with text or
the bytes its format starts with. Standard library only: the checks before a run starts use
these without importing pandas (sources/listing.py).
"""
from __future__ import annotations

import codecs
import errno
import os
import stat
from pathlib import Path

PEEK_BYTES = 64 * 1024  # what a header check reads of a file, whatever its size


class SourceError(Exception):
    """A file that cannot be used at all. The message is one line a person understands."""

    def __init__(self, path: Path | str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{Path(path).name}: {problem}")


def path_problem(path: Path) -> str | None:
    """Why `path` is not a regular file this process can read, or None.

    A glob matches directories, dangling links and link loops as well as files: each of those
    named like a source file is an error naming it, never a file silently left out."""
    path = Path(path)
    try:
        own = os.lstat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(own.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"is a symbolic link loop (-> {target}), not a file"
            return f"is a broken symbolic link (-> {target}: {exc.strerror.lower()})"
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "a device")
        return f"is {kind}, not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def require_regular(path: Path) -> None:
    problem = path_problem(path)
    if problem:
        raise SourceError(path, problem)


def peek(path: Path, size: int = PEEK_BYTES) -> bytes:
    """The first `size` bytes of a file (never more), or a SourceError."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise SourceError(path, f"cannot be read ({exc.strerror})") from exc


def decode(data: bytes, path: Path, final: bool = True) -> str:
    """UTF-8 text with or without a byte-order mark, or a SourceError saying what it is.

    `final=False` decodes a prefix: a character cut by the end of the prefix is not an error."""
    nul = data.find(b"\x00")  # no text file has NULs; UTF-16 has one in every ASCII char
    if nul >= 0:
        raise SourceError(path, f"is not valid UTF-8 text (NUL byte at offset {nul}: "
                                "UTF-16 or binary data)")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        return decoder.decode(data, final=final)
    except UnicodeDecodeError as exc:
        if final and exc.start >= len(data) - 3 and exc.end == len(data):
            raise SourceError(path, "is cut short: it ends inside a character (an "
                                    "incomplete download or copy)") from exc
        raise SourceError(
            path, f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from exc


def describe_start(data: bytes) -> str:
    """What the first bytes of a file look like, for a message: an HTML page, a ZIP, …"""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return "an HTML page (an error page saved under the file's name?)"
    if head.startswith(b"<?xml"):
        return "an XML document"
    if data.startswith(b"PK\x03\x04"):
        return "a ZIP archive (an .xlsx workbook or a zipped download?)"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old-format Excel (.xls) workbook"
    if data.startswith(b"\x1f\x8b"):
        return "gzip-compressed data"
    if head.startswith((b"{", b"[")):
        return "JSON"
    text = data[:40].decode("utf-8", errors="replace").replace("\n", " ").replace("\r", " ")
    return f"data starting {text.strip()[:30]!r}"


def sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
