"""The run's process policy (flows/lifetime.py, flows/settings.py), each in a fresh process: the
command keeps its exit status and runs every exit handler although it skips the teardown; the
heap settles after the imports; Arrow allocates from the system allocator."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


def test_the_command_runs_every_exit_handler_and_keeps_its_status():
    # a handler registered while the command runs (as Prefect registers its server's stop)
    # runs before the process ends, and the status is main's
    done = python("import atexit, sys\n"
                  "from flows import cli\n"
                  "def main(argv=None):\n"
                  "    atexit.register(print, 'handler ran', flush=True)\n"
                  "    print('x' * 100000, end='')\n"   # more than a pipe's buffer
                  "    return 3\n"
                  "cli.main = main\n"
                  "cli.entry()\n")
    assert done.returncode == 3
    assert done.stdout == "x" * 100000 + "handler ran\n"


def test_the_command_keeps_a_usage_error_and_an_uncaught_exception_status():
    usage = python("import sys; sys.argv = ['ictstats', 'no-such-command']\n"
                   "from flows.cli import entry; entry()")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
    crash = python("from flows import cli\n"
                   "def main(argv=None):\n"
                   "    raise RuntimeError('boom')\n"
                   "cli.main = main\n"
                   "cli.entry()\n")
    assert crash.returncode == 1 and "RuntimeError: boom" in crash.stderr


def test_the_heap_settles_after_the_imports():
    done = python("import gc\n"
                  "from flows.lifetime import YOUNG_GENERATION_THRESHOLD, settle_heap\n"
                  "import pandas\n"
                  "settle_heap()\n"
                  "print(gc.get_freeze_count() > 10000, "
                  "gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD)")
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_arrow_allocates_from_the_system_allocator_unless_told_otherwise():
    code = ("from flows.settings import configure_prefect\n"
            "configure_prefect()\n"
            "import pyarrow\n"
            "print(pyarrow.default_memory_pool().backend_name)")

    def backend(**setting: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
        return python(code, {**env, **setting}).stdout.strip()

    assert backend() == "system"
    assert backend(ARROW_DEFAULT_MEMORY_POOL="mimalloc") == "mimalloc"
