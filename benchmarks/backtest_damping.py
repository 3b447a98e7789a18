"""How the nowcast damping was chosen: the nowcast backtest's mean absolute error for each
candidate damping, per headline indicator, on the real snapshot.

    uv run python benchmarks/backtest_damping.py [--source-dir ../shared/ict-data]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indicators.stage import economy_covariates, estimation_frames

from flows.pipeline import assemble, source_checksums
from indicators import groups as grouping
from indicators.backtest import nowcast_trials
from indicators.estimate import Params, expit, logit
from sources.read import read_all

CANDIDATES = (1.0, 0.9, 0.8, 0.7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "ict-data")
    args = parser.parse_args()
    tables = assemble(read_all(args.source_dir), args.source_dir,
                      source_checksums(args.source_dir)).tables
    preferred = estimation_frames(tables, 2025)["preferred"]
    covariates = economy_covariates(sorted(set(preferred["iso3"])), tables["income_groups"],
                                    grouping.sdg_regions(tables["economies"]))
    print("indicator       " + "  ".join(f"damping {d:.1f}" for d in CANDIDATES))
    for code in ("IT_USE_ii99", "IT_MOB_OWN", "IT_MOB_4GNTWK"):
        obs = preferred[(preferred["indicator"] == code) & (preferred["sex"] == "total")
                        & (preferred["location"] == "total")]
        obs = obs.assign(logit=logit(obs["value"]))
        errors = []
        for damping in CANDIDATES:
            trials = nowcast_trials(obs, covariates, replace(Params(), damping=damping))
            errors.append(np.mean(np.abs(expit(trials["logit"]) - expit(trials["estimate"]))))
        print(f"{code:15} " + "  ".join(f"{e:9.2f} pp" for e in errors))


if __name__ == "__main__":
    main()
