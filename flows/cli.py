"""The `ictstats` command line: run, validate, query, serve."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flows.runners import RUNNERS
from flows.settings import DEFAULT_OUT, DEFAULT_RAW, configure_prefect


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as err:
        print(f"ictstats: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ictstats: interrupted; the previous publication is unchanged", file=sys.stderr)
        return 130


class CliError(Exception):
    """An expected failure, printed as one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ictstats", description="Official ICT statistics: load, validate, curate, "
        "estimate, aggregate and publish connectivity indicators.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the whole pipeline as a Prefect flow and publish",
                         description="Run acquire → validate → curate → estimate → aggregate "
                         "→ publish as a Prefect flow. Exit 0 only if the run published.")
    run.add_argument("--source-dir", type=Path, help="directory of source files (default: "
                     "$ICTSTATS_SOURCE_DIR, else the latest retrieval of each source under "
                     "data/raw/: a download, or the bundled edition)")
    run.add_argument("--refresh", action="store_true",
                     help="download the official releases first (as `ictstats fetch`)")
    run.add_argument("--quiet", action="store_true",
                     help="print only errors and the published path (for schedules)")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT,
                     help="where to publish (default: data/curated/)")
    run.add_argument("--year", type=int, default=2025, help="latest year to estimate "
                     "(default: 2025)")
    run.add_argument("--seed", type=int, default=None, help="random seed of the intervals' "
                     "bootstrap (default: the project's fixed seed)")
    run.add_argument("--income-fy", type=int, default=None, metavar="YYYY",
                     help="use one World Bank income classification (e.g. 2025 for FY25) for "
                     "every year instead of each data year's")
    run.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                     help="wait this long for another run publishing to --out (default: fail "
                     "at once with a message)")
    run.add_argument("--runner", choices=RUNNERS, default="default",
                     help="Prefect task runner: default (a thread per core) or dask (a local "
                     "cluster of process workers, or the scheduler at $ICTSTATS_DASK_ADDRESS)")
    run.set_defaults(handler=cmd_run)

    fetch = sub.add_parser(
        "fetch", help="download the official releases into a new dated retrieval",
        description="Download every official file of the source catalog into "
        "data/raw/<source>/<date>/ with a manifest of checksums; later runs prefer it to the "
        "bundled edition. Without network: one line and exit 1, within seconds.")
    fetch.add_argument("--raw-dir", type=Path, default=DEFAULT_RAW,
                       help="where retrievals are kept (default: data/raw/)")
    fetch.set_defaults(handler=cmd_fetch)

    reproduce = sub.add_parser(
        "reproduce", help="rebuild a past publication from its recorded sources",
        description="Rebuild the publication of a recorded run: its sources are restored from "
        "data/raw/archive by the checksums in `runs`, and the run's parameters and seed are "
        "used again. Prints whether every aggregate matches the recorded publication.")
    reproduce.add_argument("run_id", help="run id (or a unique prefix) from the runs table")
    reproduce.add_argument("--db", type=Path, default=DEFAULT_OUT / "ict.duckdb",
                           help="publication that recorded the run (default: data/curated)")
    reproduce.add_argument("--out", type=Path, required=True,
                           help="where to publish the reproduction")
    reproduce.add_argument("--raw-dir", type=Path, default=DEFAULT_RAW)
    reproduce.set_defaults(handler=cmd_reproduce)

    validate = sub.add_parser("validate", help="validate the sources without publishing",
                              description="Read and validate every source file; print rows "
                              "read, accepted and quarantined per file, and why. Exit 1 if any "
                              "file cannot be used.")
    validate.add_argument("--source-dir", type=Path, required=True)
    validate.add_argument("--reasons", type=int, default=3,
                          help="reasons to show per file (default 3)")
    validate.set_defaults(handler=cmd_validate)

    query = sub.add_parser("query", help="run SQL on the curated file (read-only)",
                           description="Run SQL on a read-only connection to the curated "
                           "DuckDB file and print the result as a table.")
    query.add_argument("sql")
    query.add_argument("--db", type=Path, default=DEFAULT_OUT / "ict.duckdb")
    query.add_argument("--max-rows", type=int, default=100)
    query.set_defaults(handler=cmd_query)

    serve = sub.add_parser("serve", help="serve the scheduled deployments",
                           description="Serve the scheduled deployments, starting a loopback "
                           "Prefect server when none is configured. Deployments: "
                           "monthly-refresh (2nd of each month, 06:00 Europe/Zurich) and "
                           "annual-edition (15 November, 06:00 Europe/Zurich).")
    serve.add_argument("--source-dir", type=Path, default=None,
                       help="sources for the scheduled runs (default: official downloads)")
    serve.add_argument("--out", type=Path, default=DEFAULT_OUT)
    serve.set_defaults(handler=cmd_serve)
    return parser


def resolve_source_dir(arg: Path | None, refresh: bool = False) -> tuple[Path, list[str]]:
    """The source directory to read and lines saying where its files came from: the given
    folder, else the latest retrieval of each source under data/raw/ (after downloading the
    official files first with `refresh`)."""
    chosen = arg or (Path(os.environ["ICTSTATS_SOURCE_DIR"])
                     if os.environ.get("ICTSTATS_SOURCE_DIR") else None)
    if chosen is not None:
        if not chosen.is_dir():
            raise CliError(f"{chosen}: source directory not found")
        return chosen, [f"sources from {chosen}"]
    from sources import retrievals

    if refresh:
        fetch(DEFAULT_RAW)
    current = retrievals.resolve_raw_dir(DEFAULT_RAW)
    if current is None:
        raise CliError(f"{DEFAULT_RAW}: no data edition and nothing downloaded (run "
                       "`ictstats fetch`, or pass --source-dir)")
    return current, ["retrievals " + " · ".join(retrievals.describe(current))]


def fetch(raw_dir: Path) -> Path:
    """Download every official file into a new dated retrieval, or a CliError in one line."""
    from sources import download

    specs = download.load_download_config()
    try:
        download.check_network(specs[0].url)
        return download.download_all(specs, raw_dir)
    except download.AcquireError as err:
        raise CliError(str(err)) from None


def cmd_fetch(args) -> int:
    current = fetch(args.raw_dir)
    from sources.retrievals import describe

    print("downloaded; runs now read: " + " · ".join(describe(current)))
    return 0


def run_flow(runner: str = "default", **parameters) -> str:
    """Run the pipeline flow; the published path, or a CliError with the flow's message."""
    configure_prefect()
    from flows.lifetime import bind_children
    from flows.pipeline import pipeline
    from flows.runners import task_runner

    bind_children()
    flow = pipeline if runner == "default" else pipeline.with_options(
        task_runner=task_runner(runner))
    state = flow(**parameters, return_state=True)
    if not state.is_completed():
        raise CliError(state.message or "the run failed; the previous publication is unchanged")
    return state.result()


def cmd_run(args) -> int:
    source_dir, origin = resolve_source_dir(args.source_dir, args.refresh)
    parameters = {"source_dir": str(source_dir), "out_dir": str(args.out),
                  "raw_dir": str(DEFAULT_RAW), "year": args.year,
                  "income_fiscal_year": args.income_fy, "wait": args.wait}
    if args.seed is not None:
        parameters["seed"] = args.seed
    if args.quiet:
        print(f"published {run_flow(args.runner, **parameters)}")
        return 0
    from rich.console import Console

    from flows import progress

    console = Console(stderr=False, highlight=False)
    console.print("Reading " + "; ".join(origin))
    with progress.shown(console):
        published = run_flow(args.runner, **parameters)
    from flows.summary import print_summary

    print_summary(Path(published), origin, console)
    return 0


def cmd_reproduce(args) -> int:
    import tempfile

    from flows.reproduce import ReproduceError, compare_publications, recorded_run

    try:
        run = recorded_run(args.db, args.run_id)
    except ReproduceError as err:
        raise CliError(str(err)) from None
    from flows import lineage

    with tempfile.TemporaryDirectory(prefix="ictstats-reproduce-") as sources:
        try:
            lineage.restore_sources(run["files"], args.raw_dir, Path(sources))
        except FileNotFoundError as err:
            raise CliError(str(err)) from None
        # computed afresh: a fresh stage cache, so that nothing earlier stands in
        published = run_flow(source_dir=sources, out_dir=str(args.out),
                             raw_dir=str(args.raw_dir), cache_dir=str(Path(sources) / ".cache"),
                             **run["parameters"])
    differences = compare_publications(args.db, Path(published), run["run_id"])
    if differences:
        raise CliError(f"reproduced run {run['run_id'][:8]} into {published}, but "
                       f"{differences} aggregate value(s) differ from the recorded publication")
    print(f"reproduced run {run['run_id'][:8]} into {published}: every aggregate matches")
    return 0


def cmd_validate(args) -> int:
    from sources.read import read_all

    if not args.source_dir.is_dir():
        raise CliError(f"{args.source_dir}: source directory not found")
    results = read_all(args.source_dir)
    if not results:
        raise CliError(f"{args.source_dir}: no source files found")
    failed = 0
    width = max(len(str(r.path.relative_to(args.source_dir))) for r in results)
    print(f"{'file':{width}}  {'read':>7} {'accepted':>8} {'quarantined':>11}")
    for r in results:
        name = str(r.path.relative_to(args.source_dir))
        if r.error:
            failed += 1
            print(f"{name:{width}}  UNUSABLE: {r.error.problem}")
            continue
        x = r.extract
        print(f"{name:{width}}  {x.rows_read:>7} {x.rows_accepted:>8} {x.rows_quarantined:>11}")
        if len(x.quarantine):
            by_check = x.quarantine.groupby("check", sort=False)
            for check, rows in sorted(by_check, key=lambda kv: -len(kv[1]))[:args.reasons]:
                first = rows.iloc[0]
                print(f"{'':{width}}    {len(rows)} x {check}, e.g. row {first['row']}: "
                      f"{first['reason']}")
            if by_check.ngroups > args.reasons:
                print(f"{'':{width}}    … and {by_check.ngroups - args.reasons} more check(s)")
    print(f"{len(results)} file(s), {failed} unusable")
    return 1 if failed else 0


def cmd_query(args) -> int:
    import duckdb

    if not args.db.exists():
        raise CliError(f"{args.db}: no curated file (run `ictstats run` first)")
    try:
        con = duckdb.connect(str(args.db), read_only=True)
    except duckdb.Error as err:
        raise CliError(f"{args.db}: cannot open ({str(err).splitlines()[0]})") from None
    try:
        frame = con.execute(args.sql).df()
    except duckdb.Error as err:
        raise CliError(f"query failed: {str(err).splitlines()[0]}") from None
    finally:
        con.close()
    import pandas as pd

    with pd.option_context("display.max_rows", args.max_rows, "display.max_columns", None,
                           "display.width", 200):
        print(frame.to_string(index=False, max_rows=args.max_rows) if len(frame)
              else f"(no rows; columns: {', '.join(frame.columns)})")
    return 0


def cmd_serve(args) -> int:
    configure_prefect()
    from flows.deployments import serve

    return serve(str(args.source_dir.resolve()) if args.source_dir else None, str(args.out),
                 str(DEFAULT_RAW))


if __name__ == "__main__":
    sys.exit(main())
