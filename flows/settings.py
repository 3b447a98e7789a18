"""Process settings Prefect needs to run offline; applied before Prefect is imported."""
from __future__ import annotations

import os
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
