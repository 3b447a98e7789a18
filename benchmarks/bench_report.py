"""Benchmark: the report built from one published database, step by step.

    uv run python benchmarks/bench_report.py data/curated/ict.duckdb [--repeat 3]

Times `build_report` as a whole, then its steps (load, each chart, the tables, the page), in
this process after a warm-up build; prints the best wall and CPU seconds of `--repeat` runs.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from reporting.build import build_report
from reporting.charts import chart_ids, draw
from reporting.data import load
from reporting.page import write_page
from reporting.tables import write_tables


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="ictstats-bench-report-"))
    build_report(args.db, out / "warm")
    data = load(args.db)
    drawn = {}
    steps = {"build_report": lambda: build_report(args.db, out / "all"),
             "load": lambda: load(args.db)}
    ids = chart_ids()
    for chart_id in ids:
        steps[f"chart {chart_id}"] = (
            lambda c=chart_id: drawn.update(draw(data, out / "charts", [c])))
    steps["tables"] = lambda: write_tables(data, out / "tables")
    steps["page"] = lambda: write_page(data, [drawn[c][0] for c in ids],
                                       {c: drawn[c][1] for c in ids}, out / "report")
    best = {name: min((timed(fn) for _ in range(args.repeat)), key=lambda t: t[0])
            for name, fn in steps.items()}
    charts = [t for name, t in best.items() if name.startswith("chart ")]
    best["charts (sum)"] = (sum(t[0] for t in charts), sum(t[1] for t in charts))
    for name, (wall, cpu) in best.items():
        print(f"{name:28s} {wall:6.2f} s wall {cpu:6.2f} s CPU")


if __name__ == "__main__":
    main()
