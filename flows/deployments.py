"""Scheduled operation: the pipeline's deployments, served by `ictstats serve`.

- `monthly-refresh`: 06:00 Zurich (Geneva) time on the 2nd of every month, on the latest official
  downloads, publishing to data/curated/;
- `annual-edition`: 06:00 Zurich (Geneva) time on 15 November (ahead of ITU's Facts and Figures
  edition), same sources, 1000 bootstrap replicates;
- `annual-backtest`: 06:00 Zurich time on 1 November, the backtest of the same sources
  (`ictstats backtest`), kept in the stage cache for the runs that follow on them.
Each uses concurrency limit 1: a second run of a deployment waits for the first.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TIMEZONE = "Europe/Zurich"
SCHEDULES = {
    "monthly-refresh": ("0 6 2 * *", {"replicates": 200}),
    "annual-edition": ("0 6 15 11 *", {"replicates": 1000}),
}
BACKTEST_SCHEDULE = ("annual-backtest", "0 6 1 11 *")
SERVER_PORT = int(os.environ.get("ICTSTATS_SERVER_PORT", "4200"))


def deployments(source_dir: str | None = None, out_dir: str = "data/curated",
                raw_dir: str = "data/raw") -> list:
    from prefect.schedules import Cron

    from flows.pipeline import backtest_flow, pipeline

    made = []
    for name, (cron, extra) in SCHEDULES.items():
        made.append(pipeline.to_deployment(
            name=name, schedules=[Cron(cron, timezone=TIMEZONE)],
            parameters={"source_dir": source_dir, "out_dir": str(Path(out_dir).resolve()),
                        "raw_dir": str(Path(raw_dir).resolve()), "wait": 3600, **extra},
            concurrency_limit=1, tags=["ictstats"],
            description=f"ictstats pipeline, {name.replace('-', ' ')} ({cron}, {TIMEZONE})"))
    name, cron = BACKTEST_SCHEDULE
    made.append(backtest_flow.to_deployment(
        name=name, schedules=[Cron(cron, timezone=TIMEZONE)],
        parameters={"source_dir": source_dir, "raw_dir": str(Path(raw_dir).resolve())},
        concurrency_limit=1, tags=["ictstats"],
        description=f"ictstats backtest of the estimation ({cron}, {TIMEZONE})"))
    return made


def start_loopback_server(port: int = SERVER_PORT, timeout: float = 120,
                          env: dict[str, str] | None = None) -> subprocess.Popen:
    """`prefect server start` on 127.0.0.1, returned once its API answers. `env`: the
    server's environment (default: this process's), e.g. with its own PREFECT_HOME."""
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}/api/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the Prefect server exited at start (code {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(1)
    stop_server(server)
    raise RuntimeError(f"the Prefect server did not answer at {url} within {timeout:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server's whole process group (its worker ignores a single SIGTERM)."""
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        if server.poll() is not None:
            return
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue


def serve(source_dir: str | None = None, out_dir: str = "data/curated",
          raw_dir: str = "data/raw") -> int:
    """Serve the deployments until interrupted, with a loopback server if none is set."""
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        print(f"starting a Prefect server on http://127.0.0.1:{SERVER_PORT} …", flush=True)
        server = start_loopback_server()
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{SERVER_PORT}/api"
        print(f"Prefect UI: http://127.0.0.1:{SERVER_PORT}", flush=True)
    try:
        from prefect import serve as prefect_serve

        prefect_serve(*deployments(source_dir, out_dir, raw_dir))
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            stop_server(server)
    return 0
