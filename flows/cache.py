"""Stage results kept as Parquet files, keyed on what determines them, for reruns to reuse.

    <cache>/<stage>/<key>/<table>.parquet   one file per table of the result
    <cache>/<stage>/<key>/meta.json         anything else the result holds (counts, errors)
    <cache>/<stage>/<key>/files/<name>      files a stage wrote (a chart's SVG, PNG, …)

A key is a digest of the inputs (source checksums, the code fingerprint, parameters), so an
entry never goes stale: a change of any input is a new key. An entry is written in a hidden
folder and renamed into place, so a killed run leaves no half entry. Each stage keeps its
`limit` most recently used entries (a hit refreshes an entry's time); older ones are removed
when a new one is written, which bounds the cache (see README, "Caching").
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

LIMITS = {"read": 120, "backtest": 6, "figures": 4, "chart": 40}   # entries kept per stage
META = "meta.json"
FILES = "files"


class StageCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _entry(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    def load(self, stage: str, key: str) -> tuple[dict[str, pd.DataFrame], dict] | None:
        """(tables, meta) of an entry, or None if there is none."""
        entry = self._entry(stage, key)
        try:
            meta = self._used(entry)
            tables = {name: pd.read_parquet(entry / f"{name}.parquet")
                      for name in meta["tables"]}
        except FileNotFoundError:   # none, or pruned by another run meanwhile
            return None
        return tables, meta["meta"]

    def latest(self, stage: str, prefix: str) -> str | None:
        """The key of the stage's most recently used entry whose key starts with `prefix`."""
        found = []
        for path in (self.root / stage).glob(f"{prefix}*"):
            try:
                found.append((path.stat().st_mtime, path.name))
            except FileNotFoundError:
                continue
        return max(found)[1] if found else None

    def load_files(self, stage: str, key: str, out_dir: Path) -> list[Path] | None:
        """Copy an entry's files into out_dir: their paths there, or None if there is no
        such entry."""
        entry = self._entry(stage, key)
        try:
            self._used(entry)
            out_dir.mkdir(parents=True, exist_ok=True)
            return [Path(shutil.copyfile(f, out_dir / f.name))
                    for f in sorted((entry / FILES).iterdir())]
        except FileNotFoundError:   # none, or pruned by another run meanwhile
            return None

    @staticmethod
    def _used(entry: Path) -> dict:
        """An entry's meta.json; the entry counts as just used (pruning keeps the most
        recently used)."""
        meta = json.loads((entry / META).read_text(encoding="utf-8"))
        os.utime(entry)
        return meta

    def save(self, stage: str, key: str, tables: dict[str, pd.DataFrame],
             meta: dict | None = None, files: list[Path] = ()) -> None:
        """Keep `tables`, `meta` and copies of `files` (by name) as the entry `key`."""
        entry = self._entry(stage, key)
        if entry.exists():
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=entry.parent))
        try:
            for name, frame in tables.items():
                frame.to_parquet(building / f"{name}.parquet", index=False,
                                 compression="zstd")
            if files:
                (building / FILES).mkdir()
                for path in files:
                    shutil.copyfile(path, building / FILES / Path(path).name)
            (building / META).write_text(json.dumps({"tables": list(tables),
                                                     "meta": meta or {}}), encoding="utf-8")
            os.rename(building, entry)
        except OSError:
            if not entry.exists():
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        self.prune(stage)

    def prune(self, stage: str) -> None:
        """Keep the stage's `LIMITS[stage]` most recently used entries; drop half-written
        folders of killed runs older than an hour."""
        entries = []
        for path in (self.root / stage).iterdir():
            try:   # another task may be renaming or removing an entry meanwhile
                entries.append((path.stat().st_mtime, path))
            except FileNotFoundError:
                continue
        entries.sort(reverse=True)
        done = [p for _, p in entries if not p.name.startswith(".")]
        stale = [p for t, p in entries if p.name.startswith(".") and time.time() - t > 3600]
        for old in done[LIMITS.get(stage, 10):] + stale:
            shutil.rmtree(old, ignore_errors=True)

    def size(self) -> int:
        """Bytes held by the cache."""
        if not self.root.exists():
            return 0
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
