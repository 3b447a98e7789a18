"""The run's second process, so that a run uses both cores of a small machine.

It is started early (by `ictstats run` while Prefect's temporary server starts, else when
the flow begins) and loads the libraries meanwhile; then it reads part of the source files
(sources.read.read_all), computes a breakdown (indicators.estimate.estimate) and does part of
the report (reporting.build.build_report). Each gives the same output with or without it, and
does the helper's share itself if the helper has died.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager


class Helper(ProcessPoolExecutor):
    """A one-process pool whose `submit` never raises for a dead process: the future then
    holds BrokenProcessPool, as it does when the process dies during the work, and the
    caller does the work itself."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        try:
            return super().submit(fn, *args, **kwargs)
        except BrokenProcessPool as err:
            failed: Future = Future()
            failed.set_exception(err)
            return failed


_started: tuple[Helper, Future] | None = None


def start() -> None:
    """Start the helper process, if it is not running yet."""
    global _started
    if _started is None:
        pool = Helper(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                      initializer=_load_libraries)
        _started = (pool, pool.submit(int))


@contextmanager
def helper_process() -> Iterator[Helper]:
    """The helper (started now if need be) for the duration of a run; stopped at the end."""
    global _started
    start()
    pool, _ = _started
    try:
        yield pool
    finally:
        _started = None
        pool.shutdown(wait=False, cancel_futures=True)


def if_ready(pool: Helper | None) -> Helper | None:
    """The helper if it has loaded its libraries, so that work given to it starts at once;
    else None (the caller does the work alone rather than wait for it, or for a dead one)."""
    if pool is None or _started is None or _started[0] is not pool:
        return None
    warm_up = _started[1]
    return pool if warm_up.done() and warm_up.exception() is None else None


def _load_libraries() -> None:
    from matplotlib import font_manager

    import indicators.estimate  # noqa: F401
    import reporting.build  # noqa: F401
    import sources.read  # noqa: F401

    font_manager.findfont("DejaVu Sans")
