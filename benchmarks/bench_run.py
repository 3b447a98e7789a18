"""Benchmark: the whole `ictstats run` against a bare Prefect flow, same settings.

    uv run python benchmarks/bench_run.py [--source-dir ../shared/ict-data] [--repeat 2]

The bare flow is one @flow calling one @task that returns a constant: the orchestrator's own
cost (here a temporary Prefect server per process, unless PREFECT_API_URL points at one).
Each is run in a fresh process, the three kinds in turn; the best wall time of each and their
ratio are printed, for a run that computes every stage and for a rerun on unchanged sources
(cached stages).
Target: the run costs no more than twice the bare flow.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE = """
from prefect import flow, task

@task
def constant():
    return 42

@flow
def bare():
    return constant()

assert bare() == 42
"""


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, default=ROOT.parent / "shared" / "ict-data")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="ictstats-bench-"))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    out = Path(tempfile.mkdtemp(prefix="ictstats-bench-out-"))
    timed([sys.executable, "-c", BARE], env)  # warm the Prefect home and its database
    command = [sys.executable, "-m", "flows.cli", "run", "--source-dir", str(args.source_dir),
               "--out", str(out)]
    # Interleaved, so that a slower spell of a shared machine weighs on every kind alike:
    # the bare flow, a run computing every stage (task cache refreshed), a rerun reusing it.
    times = {"bare": [], "computed": [], "cached": []}
    for _ in range(args.repeat):
        times["bare"].append(timed([sys.executable, "-c", BARE], env))
        times["computed"].append(timed(command, {**env, "PREFECT_TASKS_REFRESH_CACHE": "true"}))
        times["cached"].append(timed(command, env))
    bare, fresh, cached = (min(times[k]) for k in ("bare", "computed", "cached"))
    print(f"bare Prefect flow: {bare:.1f} s; ictstats run: {fresh:.1f} s computed "
          f"(ratio {fresh / bare:.2f}), {cached:.1f} s on unchanged sources (ratio "
          f"{cached / bare:.2f}); best of {args.repeat}, all runs: "
          + "; ".join(f"{k} " + " ".join(f"{t:.1f}" for t in v) for k, v in times.items()))


if __name__ == "__main__":
    main()
