"""Publish one run's outputs together, atomically.

Layout under the output directory:

    releases/<UTC time>-<pid>/   ict.duckdb, charts/, tables/, report/ of one run
    current -> releases/<…>      the published release (a symbolic link)
    ict.duckdb -> current/ict.duckdb, charts -> current/charts, …  (stable paths for users)

A release is built in `releases/.<name>.tmp/`, checked, renamed, and published by replacing
the `current` link in one atomic step: readers see the previous release or the new one, never
a mix, and a failed or killed run leaves the previous release untouched.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from curate.database import DATABASE_NAME

PUBLISHED_ITEMS = (DATABASE_NAME, "charts", "tables", "report")
KEEP_RELEASES = 5


@contextmanager
def new_release(out_dir: Path) -> Iterator[Path]:
    """A staging folder to build one release in; published when the block ends without an
    error, removed in any case. Yields the folder."""
    out_dir = Path(out_dir)
    releases = out_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
    staging = releases / f".{name}.tmp"
    staging.mkdir()
    try:
        yield staging
        release = releases / name
        os.rename(staging, release)
        _fsync(releases)
        _point(out_dir / "current", Path("releases") / name)
        for item in PUBLISHED_ITEMS:
            if (release / item).exists():
                _point(out_dir / item, Path("current") / item, only_if_missing=True)
        _fsync(out_dir)
        prune(releases)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def published_release(out_dir: Path) -> Path | None:
    current = Path(out_dir) / "current"
    return current.resolve() if current.is_symlink() and current.exists() else None


def _point(link: Path, target: Path, only_if_missing: bool = False) -> None:
    """Make `link` a symbolic link to `target`, replacing what is there in one step."""
    if only_if_missing and link.is_symlink() and os.readlink(link) == str(target):
        return
    if link.is_dir() and not link.is_symlink():  # an older layout's real directory
        shutil.rmtree(link)
    temporary = link.with_name(f".{link.name}.{os.getpid()}.link")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)


def clean_stale_staging(out_dir: Path) -> list[Path]:
    """Remove the staging folders of runs that died. Call only while holding the
    publication lock, so that no other run is building one."""
    removed = []
    for stale in (Path(out_dir) / "releases").glob(".*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
        removed.append(stale)
    for link in Path(out_dir).glob(".*.link"):
        link.unlink(missing_ok=True)
    return removed


def prune(releases: Path, keep: int = KEEP_RELEASES) -> None:
    """Keep the newest `keep` releases (the published one always among them)."""
    current = published_release(releases.parent)
    done = sorted((p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)
    for old in done[:-keep]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def _fsync(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
