"""Lineage: the code fingerprint, the run journal and the archive of sources read.

- `code_fingerprint()` hashes the pipeline's own source files: with the source checksums and
  the parameters it keys the task cache, so a rerun on unchanged inputs reuses every result.
- The run journal `<out>/runs.jsonl` records every run, published or failed; the `runs` table
  of each publication is built from it.
- Every source file read is archived under `data/raw/archive/` by its SHA-256, so a past
  edition can be rebuilt from the checksums its `runs` row records (`ictstats reproduce`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from catalog import catalog_dir

if TYPE_CHECKING:
    import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CODE_PACKAGES = ("catalog", "schemas", "sources", "curate", "indicators", "reporting", "flows")
JOURNAL_NAME = "runs.jsonl"
DEFAULT_SEED = 20251216  # of the intervals' bootstrap, recorded in `runs`


def code_fingerprint() -> str:
    """The pipeline's own files, and the catalog in use (which may be another copy)."""
    return _fingerprint(catalog_dir())


@cache
def _fingerprint(catalog: Path) -> str:
    digest = hashlib.sha256()
    folders = [PROJECT_ROOT / p for p in CODE_PACKAGES] + [catalog]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".yaml", ".csv", ".mplstyle", ".html"}:
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_version() -> str:
    """`git describe` of the checkout, or the installed package's version."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], check=False,
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version
    return version("ictstats")


def new_run(seed: int, parameters: dict) -> dict:
    """The journal record of a run starting now (status `running`)."""
    return {"run_id": str(uuid.uuid4()), "started_at": now(), "status": "running",
            "code_version": code_version(), "code_fingerprint": code_fingerprint(),
            "seed": seed, "message": None,
            "parameters": json.dumps(parameters, default=str)}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def journal(out_dir: Path, record: dict) -> None:
    """Append one record (started, published or failed) to the run journal."""
    path = Path(out_dir) / JOURNAL_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def runs_table(out_dir: Path, current: dict) -> pd.DataFrame:
    """One row per run in the journal (its last record wins), plus the current run."""
    path = Path(out_dir) / JOURNAL_NAME
    records = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a crash: the run's other records remain
    records.append(current)
    import pandas as pd  # not at the top: a run refused by the lock journals without it

    frame = pd.DataFrame(records)
    frame = frame.groupby("run_id", sort=False).agg("last").reset_index()
    # a run whose last record is its start never finished: it was killed or crashed
    ended = frame["status"].eq("running") & frame["run_id"].ne(current["run_id"])
    frame.loc[ended, "status"] = "interrupted"
    for column in ("started_at", "finished_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame[["run_id", "started_at", "finished_at", "status", "message", "code_version",
                  "code_fingerprint", "parameters", "seed", "source_dir", "source_checksums"]]


def archive_sources(files: dict[str, str], source_dir: Path, raw_dir: Path) -> None:
    """Copy every file (relative path -> SHA-256) into the content-addressed archive."""
    archive = Path(raw_dir) / "archive"
    for relative, checksum in files.items():
        target = archive / checksum[:2] / checksum
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".part")
        shutil.copyfile(Path(source_dir) / relative, temporary)
        os.replace(temporary, target)


def restore_sources(files: dict[str, str], raw_dir: Path, target_dir: Path) -> Path:
    """Rebuild a source directory from the archive; fails naming the first file missing."""
    archive = Path(raw_dir) / "archive"
    for relative, checksum in files.items():
        stored = archive / checksum[:2] / checksum
        if not stored.exists():
            raise FileNotFoundError(f"{relative}: not in the archive {archive} "
                                    f"(sha256 {checksum[:12]}…)")
        destination = Path(target_dir) / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored, destination)
    return Path(target_dir)
