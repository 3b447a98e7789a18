"""A run's process: the processes it starts share its life, its heap is collected sparingly,
and it ends without tearing the interpreter down.

Children: a run starts other processes (Prefect's temporary server, Dask workers); if the run
is killed, even with SIGKILL, they go too. `bind_children()`
makes the run the leader of its own process group, which those processes join, and starts a
small watcher whose parent-death signal (Linux `PR_SET_PDEATHSIG`) fires when the run dies,
however it dies; the watcher then kills the whole group. When the run ends normally, Prefect
has stopped what it started and the watcher is stopped first, so that nothing else in the
group (a `tee` the output is piped to) is touched. Elsewhere than Linux this does nothing.

Garbage collection: the imports leave ~500,000 objects that live as long as the process, and
CPython's default thresholds (700, 10, 10) made a computing run traverse them in 13 full
collections, ~2.7 CPU-s of a ~20 s run. `settle_heap()` moves what the imports made out of
collection (`gc.freeze`) and collects the young generation every 20,000 net allocations
instead of 700: ~1 CPU-s of collection per run.

Teardown: at exit the interpreter frees module by module what the process holds (~3,500
modules, ~600,000 objects): about a second after a run, with every output written and closed.
`end_after_exit_handlers()` lets every exit handler run (Prefect stops its temporary server,
logging flushes) and then ends the process at once.
"""
from __future__ import annotations

import atexit
import gc
import os
import subprocess
import sys

WATCHER = r"""
import ctypes, os, signal, sys
group, parent = int(sys.argv[1]), int(sys.argv[2])
def kill_group(*_):
    os.killpg(group, signal.SIGKILL)
signal.signal(signal.SIGTERM, kill_group)
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != parent:  # the run died before the signal was armed
    kill_group()
os.close(1)
while True:
    signal.pause()
"""

_watcher: subprocess.Popen | None = None
YOUNG_GENERATION_THRESHOLD = 20_000


def bind_children() -> None:
    """Make this process a process-group leader and start the group's watcher (once)."""
    global _watcher
    if _watcher is not None or not sys.platform.startswith("linux"):
        return
    if os.getpgrp() != os.getpid():
        try:
            os.setpgid(0, 0)
        except OSError:   # a session leader cannot move; it leads its own group already
            return
    _watcher = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", WATCHER, str(os.getpgrp()), str(os.getpid())],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _watcher.stdout.read()   # the watcher closes its stdout once its signal is armed
    atexit.register(_watcher.kill)


def settle_run_process() -> None:
    """After a run's imports, before its flow: its children bound to it, its heap settled."""
    bind_children()
    settle_heap()


def settle_heap() -> None:
    """After the imports: leave their objects out of future collections, collect less often."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)


def end_after_exit_handlers() -> dict[str, int]:
    """Register, before any other, the exit handler that ends the process with
    `outcome["code"]` (set it to the exit status): handlers run last-registered first, so every
    other one has run by then. Call it first thing in the process."""
    outcome = {"code": 1}   # an uncaught exception's status, unless set
    atexit.register(_end_now, outcome)
    return outcome


def _end_now(outcome: dict[str, int]) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # closed, or the reader went away
            pass
    os._exit(outcome["code"])
