"""Processes a run starts share its life: if the run is killed, even with SIGKILL, they go too.

A run starts other processes (Prefect's temporary server, Dask workers). `bind_children()`
makes the run the leader of its own process group, which those processes join, and starts a
small watcher whose parent-death signal (Linux `PR_SET_PDEATHSIG`) fires when the run dies,
however it dies; the watcher then kills the whole group. When the run ends normally, Prefect
has stopped what it started and the watcher is stopped first, so that nothing else in the
group (a `tee` the output is piped to) is touched. Elsewhere than Linux this does nothing.
"""
from __future__ import annotations

import atexit
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
