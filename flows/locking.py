"""One publisher at a time per output directory: an exclusive lock on `<out>/.ictstats.lock`.

A second run either waits (up to `wait` seconds) or fails with a message naming the run that
holds the lock. The lock is released by the operating system if its holder dies."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time
from pathlib import Path

LOCK_NAME = ".ictstats.lock"


class LockBusy(Exception):
    """Another run holds the publication lock."""


@contextlib.contextmanager
def publication_lock(out_dir: Path, wait: float = 0.0, run_id: str = ""):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_NAME
    handle = open(path, "a+")  # noqa: SIM115 - held open for the lock's whole lifetime
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(f"{out_dir}: another ictstats run is publishing here "
                                   f"({_holder(path)}); try again when it has finished, or "
                                   "pass --wait SECONDS") from None
                time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "run_id": run_id,
                                 "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}))
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock


def busy_message(out_dir: Path) -> str | None:
    """If another run holds the lock of `out_dir`, the message a run that cannot wait gets;
    else None. Takes and drops the lock at once; creates nothing (a check before a run)."""
    path = Path(out_dir) / LOCK_NAME
    try:
        handle = open(path)  # noqa: SIM115 - closed below
    except OSError:
        return None  # no lock file: nobody has published here yet
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return (f"{out_dir}: another ictstats run is publishing here ({_holder(path)}); try "
                "again when it has finished, or pass --wait SECONDS")
    finally:
        handle.close()
    return None


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
        return f"pid {info.get('pid')}, run {info.get('run_id', '?')[:8]}, since {info.get('since')}"
    except (OSError, json.JSONDecodeError):
        return "holder unknown"
