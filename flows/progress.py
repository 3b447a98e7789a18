"""What a run is doing, on the terminal: a spinner with the current stage (rich), shown when
the command line asks for it; elsewhere (schedules, tests) `stage` does nothing."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_status = None


@contextmanager
def shown(console) -> Iterator[None]:
    global _status
    with console.status("starting Prefect …") as status:
        _status = status
        try:
            yield
        finally:
            _status = None


def stage(text: str) -> None:
    if _status is not None:
        _status.update(text + " …")
