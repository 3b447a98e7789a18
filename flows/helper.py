"""The run's second process, so that a run uses both cores of a small machine.

It is started early (by `ictstats run` while Prefect's temporary server starts, else when
the flow begins) and loads the libraries meanwhile; then it reads part of the source files
(sources.read.read_all) and does part of the report (reporting.build.build_report). Both
give the same output with or without it.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager

_started: tuple[ProcessPoolExecutor, Future] | None = None


def start() -> None:
    """Start the helper process, if it is not running yet."""
    global _started
    if _started is None:
        pool = ProcessPoolExecutor(max_workers=1,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_load_libraries)
        _started = (pool, pool.submit(int))


@contextmanager
def helper_process() -> Iterator[ProcessPoolExecutor]:
    """The helper (started now if need be) for the duration of a run; stopped at the end."""
    global _started
    start()
    pool, _ = _started
    try:
        yield pool
    finally:
        _started = None
        pool.shutdown(wait=False, cancel_futures=True)


def if_ready(pool: ProcessPoolExecutor | None) -> ProcessPoolExecutor | None:
    """The helper if it has loaded its libraries, so that work given to it starts at once;
    else None (the caller does the work alone rather than wait)."""
    if pool is not None and _started is not None and _started[0] is pool and _started[1].done():
        return pool
    return None


def _load_libraries() -> None:
    from matplotlib import font_manager

    import indicators.estimate  # noqa: F401
    import reporting.build  # noqa: F401
    import sources.read  # noqa: F401

    font_manager.findfont("DejaVu Sans")
