"""The task runners a run can use: `default` (a thread per core of this machine) or `dask`
(a local cluster of process workers, or the scheduler at $ICTSTATS_DASK_ADDRESS)."""
from __future__ import annotations

import os

RUNNERS = ("default", "dask")
ENV_DASK_ADDRESS = "ICTSTATS_DASK_ADDRESS"


def task_runner(name: str = "default"):
    if name == "default":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2)
    if name == "dask":
        from prefect_dask import DaskTaskRunner

        address = os.environ.get(ENV_DASK_ADDRESS)
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": min(os.cpu_count() or 2, 4),
                                              "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    raise ValueError(f"unknown task runner {name!r} (one of {', '.join(RUNNERS)})")
