"""Process settings Prefect needs to run offline; applied before Prefect is imported."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

DEFAULT_OUT = Path("data/curated")
DEFAULT_RAW = Path("data/raw")


def configure_prefect(home: Path | None = None) -> None:
    """Offline defaults (no telemetry, a local PREFECT_HOME); explicit settings win."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_HOME", str(home or Path.cwd() / ".prefect"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@contextmanager
def orchestrator_starting():
    """Start Prefect's temporary server in the background while the body runs (e.g. the
    imports of the pipeline), and wait for it at the end.

    Without `PREFECT_API_URL`, a flow run starts a temporary server and waits for it for
    about ten seconds; a second core can load the pipeline's libraries meanwhile. It is the
    same server, started the same way, that the flow would start itself."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    failure: list[Exception] = []

    def start() -> None:
        try:
            SubprocessASGIServer().start()
        except Exception as err:  # noqa: BLE001  (re-raised in the caller's thread)
            failure.append(err)

    starter = threading.Thread(target=start, name="prefect-server-start", daemon=True)
    starter.start()
    try:
        yield
    finally:
        starter.join()
    if failure:
        raise failure[0]
