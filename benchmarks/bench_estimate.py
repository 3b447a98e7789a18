"""Benchmark: estimation (with bootstrap replicates) and aggregation on the real data.

    uv run python benchmarks/bench_estimate.py [--source-dir DIR] [--replicates 200]

Reads and curates the sources and fits each indicator's trend-model parameters once (not
timed: a normal run takes them from the backtest's result), then times the estimate stage
(every indicator's estimates and replicates, in one process: indicators.estimation) and the
aggregate stage (every indicator x breakdown x group x year) over several repetitions, and
prints the best and median wall times.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog import estimated
from curate.assemble import assemble
from flows.tasks import sha256
from indicators.estimate import Params, fit_indicator
from indicators.estimation import estimate_all
from indicators.figures import figure_tables
from indicators.inputs import prepare
from sources.read import files_in, read_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path,
                        default=Path(__file__).resolve().parents[1] / "data" / "raw" / "edition-2025-11")
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    checksums = {str(p.relative_to(args.source_dir)): sha256(p)
                 for _, p in files_in(args.source_dir)}
    tables = assemble(read_all(args.source_dir), args.source_dir, checksums).tables
    params = Params(replicates=args.replicates)
    # a normal run takes the trend model's parameters from the backtest's result (reused
    # while the inputs are unchanged): fitted once here, not timed
    fitting = time.perf_counter()
    fitted_on = prepare(tables, params.last_year).inputs
    parameters = {spec.code: fit_indicator(spec, fitted_on, params) for spec in estimated()}
    print(f"fitting the parameters (the backtest stage's first step): "
          f"{time.perf_counter() - fitting:.2f} s")
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        prepared = prepare(tables, params.last_year)
        result = estimate_all(prepared.inputs, params, parameters)
        mid = time.perf_counter()
        figures = figure_tables(prepared, result, {})
        timings.append((time.perf_counter() - start, mid - start, time.perf_counter() - mid))
    total = [t[0] for t in timings]
    print(f"estimate + aggregate: best {min(total):.2f} s, median {statistics.median(total):.2f}"
          f" s (estimate {min(t[1] for t in timings):.2f} s, aggregate "
          f"{min(t[2] for t in timings):.2f} s); replicates {args.replicates}; "
          f"{len(figures['estimates'])} estimates, {len(figures['aggregates'])} aggregates")


if __name__ == "__main__":
    main()
