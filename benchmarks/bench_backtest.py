"""Benchmark: the full backtest (`ictstats backtest`) with the default task runner and with
the Dask runner, side by side.

    uv run python benchmarks/bench_backtest.py [--source-dir DIR] [--rounds 3]

Each round runs both in turn, each in a fresh working directory (a fresh stage cache: the
sources are read again and every cut-off estimated), against a temporary Prefect server; the
medians over rounds and the peak memory of each process tree are printed. The target is under
two minutes with the default runner on a 2-core machine (README, Performance).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run import ROOT, offline_env, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path,
                        default=ROOT / "data" / "raw" / "edition-2025-11")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runners", default="default,dask")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ictstats-bench-backtest-"))
    env = offline_env(work)
    ictstats = str(Path(sys.executable).with_name("ictstats"))
    runners = args.runners.split(",")
    results: dict[str, list[tuple[float, int]]] = {r: [] for r in runners}
    try:
        for _ in range(args.rounds):
            for runner in runners:
                cwd = Path(tempfile.mkdtemp(dir=work))
                results[runner].append(timed(
                    [ictstats, "backtest", "--source-dir", str(args.source_dir.resolve()),
                     "--runner", runner], env, cwd))
                shutil.rmtree(cwd, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"ictstats backtest, median of {args.rounds} interleaved rounds "
          f"({os.cpu_count()} cores):")
    for runner, runs in results.items():
        wall = statistics.median(t for t, _ in runs)
        memory = max(m for _, m in runs) / 2**20
        print(f"  --runner {runner:8} {wall:6.1f} s  peak tree memory {memory:5.0f} MB  [all: "
              + " ".join(f"{t:.1f}" for t, _ in runs) + "]")


if __name__ == "__main__":
    main()
