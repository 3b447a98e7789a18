"""Benchmark: the whole `ictstats run` against a bare one-task Prefect flow, side by side.

    uv run python benchmarks/bench_run.py [--source-dir DIR] [--rounds 5] [--baseline CHECKOUT]

Two settings, as users meet them: a *temporary* server (no PREFECT_API_URL: each process
starts Prefect's own, the case of a single `ictstats run`) and a *running* local server
(`prefect server start` on 127.0.0.1, the case of `ictstats serve` and its schedules).
In each round, for each setting, in turn: the bare flow, a run computing every stage (a fresh
working directory, hence a fresh stage cache), a rerun on unchanged sources (the cache of a
previous run) and, with `--baseline`, a computing run of another checkout (e.g. an older
main; it needs its own `.venv`). Rounds are interleaved so that a slow spell of a shared
machine weighs on every kind alike; the medians over rounds, their ratios to the bare flow and
the peak memory of each run's whole process tree are printed. A computing run computes every
stage but the yearly backtest (`ictstats backtest`, run once beforehand and shared), as a
scheduled run does: bench_backtest.py times the backtest.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def tree_rss(group: int) -> int:
    """Resident memory (bytes) of every process of a process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) == group:
                total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def timed(command: list[str], env: dict, cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak tree memory of one process (run in its own process group)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {err.decode()[-800:]}")
    return elapsed, peak[0]


def offline_env(work: Path) -> dict[str, str]:
    """This environment with Prefect offline, its home in `work`, no server configured (each
    run starts its temporary one)."""
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path,
                        default=ROOT / "data" / "raw" / "edition-2025-11")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout of ictstats (with its .venv) to time beside")
    parser.add_argument("--settings", default="temporary,running")
    args = parser.parse_args()
    from flows.deployments import start_loopback_server, stop_server

    work = Path(tempfile.mkdtemp(prefix="ictstats-bench-"))
    env = {**offline_env(work), "PREFECT_TASKS_REFRESH_CACHE": "true"}
    source = str(args.source_dir.resolve())
    ictstats = str(Path(sys.executable).with_name("ictstats"))
    commands = {
        "bare": [sys.executable, "-c", BARE],
        "computed": [ictstats, "run", "--source-dir", source, "--out", "out"],
        "cached": [ictstats, "run", "--source-dir", source, "--out", "out"],
    }
    if args.baseline:
        commands["baseline"] = [str(args.baseline.resolve() / ".venv" / "bin" / "ictstats"),
                                "run", "--source-dir", source, "--out", "out"]
        commands["baseline-cached"] = commands["baseline"]
    shared = work / "backtest"   # the yearly backtest every computing run finds, once
    shared.mkdir()
    timed([ictstats, "backtest", "--source-dir", source], env, shared)

    def fresh_folder() -> Path:
        folder = Path(tempfile.mkdtemp(dir=work))
        (folder / "data" / "cache").mkdir(parents=True)
        (folder / "data" / "cache" / "backtest").symlink_to(shared / "data" / "cache" /
                                                            "backtest")
        return folder

    reruns = {kind: work / kind for kind in commands if kind.endswith("cached")}
    for kind, folder in reruns.items():   # warm-up: the first run fills the folder's cache
        folder.mkdir()
        timed(commands[kind], {k: v for k, v in env.items()
                               if k != "PREFECT_TASKS_REFRESH_CACHE"}, folder)

    results: dict[tuple[str, str], list[tuple[float, int]]] = {}
    server = None
    try:
        for setting in args.settings.split(","):
            run_env = dict(env)
            if setting == "running":
                server = start_loopback_server(port=4299, env=run_env)
                run_env["PREFECT_API_URL"] = "http://127.0.0.1:4299/api"
            for _ in range(args.rounds):
                for kind, command in commands.items():
                    if kind in reruns:
                        cwd, kind_env = reruns[kind], {k: v for k, v in run_env.items()
                                                       if k != "PREFECT_TASKS_REFRESH_CACHE"}
                    else:
                        cwd, kind_env = fresh_folder(), run_env
                    results.setdefault((setting, kind), []).append(timed(command, kind_env, cwd))
                    if kind not in reruns:
                        shutil.rmtree(cwd, ignore_errors=True)
            if server is not None:
                stop_server(server)
                server = None
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(work, ignore_errors=True)

    for setting in args.settings.split(","):
        bare = statistics.median(t for t, _ in results[setting, "bare"])
        print(f"{setting} server, median of {args.rounds} interleaved rounds:")
        for kind in commands:
            runs = results[setting, kind]
            wall = statistics.median(t for t, _ in runs)
            memory = max(m for _, m in runs) / 2**20
            print(f"  {kind:15} {wall:6.1f} s  ({wall / bare:4.2f} x the bare flow)  "
                  f"peak tree memory {memory:5.0f} MB  [all: "
                  + " ".join(f"{t:.1f}" for t, _ in runs) + "]")


if __name__ == "__main__":
    main()
