"""A run killed with SIGKILL leaves none of its processes behind. (That Dask's process
workers give the default runner's figures is tested on the synthetic-indicator run,
tests/test_synthetic_indicator.py, which runs on them.)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
def group_members(group: int) -> list[int]:
    """Live processes of a process group (zombies left out)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_run_killed_with_sigkill_leaves_no_process_of_its_own(snapshot, tmp_path):
    # no PREFECT_API_URL: the run starts a temporary server of its own
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    run = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--source-dir", str(snapshot),
         "--out", str(tmp_path / "out")], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not any(b"uvicorn" in cmdline(pid)
                      for pid in group_members(run.pid)):   # Prefect's temporary server
            assert run.poll() is None, "the run ended before it started its server"
            assert time.monotonic() < deadline, "the run never started Prefect's server"
            time.sleep(0.2)
        children = set(group_members(run.pid)) - {run.pid}
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 15
        while group_members(run.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert group_members(run.pid) == [], f"still alive: {group_members(run.pid)}"
        assert children, "the run had started no other process"
    finally:
        if group_members(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
