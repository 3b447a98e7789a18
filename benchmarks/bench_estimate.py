"""Benchmark: estimation (with bootstrap replicates) and aggregation on the real snapshot.

    uv run python benchmarks/bench_estimate.py [--source-dir ../shared/ict-data] [--replicates 200]

Reads and curates the sources once (not timed), then times the estimate and aggregate stages
(every indicator x breakdown x group x year) over several repetitions and prints the best and
median wall time: in one process, and with the run's helper process on the second core (as in
`ictstats run`). Target: under 5 s on 2 cores with 200 replicates.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.helper import helper_process
from indicators.stage import aggregate_stage, estimate_stage

from flows.pipeline import assemble, source_checksums
from sources.read import read_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "ict-data")
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    results = read_all(args.source_dir)
    tables = assemble(results, args.source_dir, source_checksums(args.source_dir)).tables
    with helper_process() as helper:
        helper.submit(int).result()  # started and loaded, as it is when a run needs it
        for label, executor in (("one process", None), ("with the helper", helper)):
            timings = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                estimated = estimate_stage(tables, 2025, seed=1, replicates=args.replicates,
                                           helper=executor)
                mid = time.perf_counter()
                derived = aggregate_stage(estimated)
                end = time.perf_counter()
                timings.append((end - start, mid - start, end - mid))
            total = [t[0] for t in timings]
            print(f"{label}: estimate + aggregate best {min(total):.2f} s, median "
                  f"{statistics.median(total):.2f} s (estimate {min(t[1] for t in timings):.2f}"
                  f" s, aggregate {min(t[2] for t in timings):.2f} s)")
    print(f"replicates: {args.replicates}; estimates: {len(derived['estimates'])} rows; "
          f"aggregates: {len(derived['aggregates'])} rows")


if __name__ == "__main__":
    main()
