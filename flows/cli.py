"""The `ictstats` command line: run, backtest, validate, query, serve.

`run` checks what it can before Prefect is imported, within a second: the source folder and
its files (every match a regular file with its layout's header, read from the first 64 KiB;
every required source found), `--year`, the output folder and the publication lock. Each
failure is one line and an exit status of its own (EXIT_CODES), distinct from a failed run's.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from flows.runners import RUNNERS
from flows.settings import DEFAULT_OUT, DEFAULT_RAW, configure_prefect

EXIT_FAILED = 1    # the run (validation, query) failed
EXIT_USAGE = 2     # argparse: a wrong option or value
EXIT_SOURCES = 3   # the sources fail a check before the run starts
EXIT_YEAR = 4      # --year outside what the method supports
EXIT_LOCKED = 5    # another run holds the publication lock
EXIT_OUTPUT = 6    # the output folder cannot be written
EXIT_INTERRUPTED = 130
EXIT_CODES = f"""exit status:
  0    done (run: published; validate: every file usable)
  {EXIT_FAILED}    the run failed and published nothing (a source file unusable or incomplete,
       a check of the new file failed, …); validate: a file unusable, a required source
       missing or a file shrunk; query: the statement failed or was refused
  {EXIT_USAGE}    usage error (an unknown option, a value of the wrong type)
  {EXIT_SOURCES}    checked before the run starts: the source folder is missing or holds no
       catalogued file, a file named like a source is not a regular readable file or does
       not start like its layout, or a required source is missing
  {EXIT_YEAR}    --year is outside the years the method supports (checked before the run;
       once the sources are read, years they cannot support fail the run: status 1)
  {EXIT_LOCKED}    another run holds the publication lock of --out (and --wait is 0)
  {EXIT_OUTPUT}    --out cannot be written (not a directory, no permission, read-only)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); the previous publication is unchanged"""


def entry() -> None:
    """The `ictstats` command: `main`, ending without the interpreter's teardown (lifetime)."""
    from flows.lifetime import end_after_exit_handlers

    outcome = end_after_exit_handlers()
    try:
        outcome["code"] = main()
    except SystemExit as stop:   # argparse's --help and usage errors
        outcome["code"] = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        raise
    sys.exit(outcome["code"])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as err:
        print(f"ictstats: {err}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        print("ictstats: interrupted; the previous publication is unchanged", file=sys.stderr)
        return EXIT_INTERRUPTED


class CliError(Exception):
    """An expected failure, printed as one line; `code` is the exit status (EXIT_CODES)."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ictstats", description="Official ICT statistics: load, validate, curate, "
        "estimate, aggregate and publish connectivity indicators.", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the whole pipeline as a Prefect flow and publish",
                         description="Run acquire → validate → curate → estimate → aggregate "
                         "→ publish as a Prefect flow. Exit 0 only if the run published. "
                         "The sources, --year, --out and the lock are checked first, before "
                         "Prefect starts.", epilog=EXIT_CODES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--source-dir", type=Path, help="directory of source files (default: "
                     "$ICTSTATS_SOURCE_DIR, else the latest retrieval of each source under "
                     "data/raw/: a download, or the bundled edition)")
    run.add_argument("--refresh", action="store_true",
                     help="download the official releases first (as `ictstats fetch`)")
    run.add_argument("--quiet", action="store_true",
                     help="print only errors and the published path (for schedules)")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT,
                     help="where to publish (default: data/curated/)")
    low, ahead = _year_range()
    run.add_argument("--year", type=int, default=2025, help="latest year to estimate "
                     f"(default: 2025; from {low} to this year + {ahead}, as the method "
                     "allows; the sources read may narrow it)")
    run.add_argument("--seed", type=non_negative, default=None, help="random seed of the "
                     "intervals' bootstrap (default: the project's fixed seed)")
    run.add_argument("--income-fy", type=int, default=None, metavar="YYYY",
                     help="use one World Bank income classification (e.g. 2025 for FY25) for "
                     "every year instead of each data year's")
    run.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                     help="wait this long for another run publishing to --out (default: fail "
                     "at once with a message)")
    run.add_argument("--accept-shrink", action="store_true",
                     help="publish although a file lacks more economies of the classification "
                     "universe than allowed (15%% of them or 2%% of their population): the "
                     "sources table notes it")
    run.add_argument("--runner", choices=RUNNERS, default="default",
                     help="Prefect task runner: default (a thread per core) or dask (a local "
                     "cluster of process workers, or the scheduler at $ICTSTATS_DASK_ADDRESS)")
    run.set_defaults(handler=cmd_run)

    test = sub.add_parser(
        "backtest", help="backtest the estimation on the sources (a yearly job)",
        description="Estimate every cut-off year 2012-2021 from the values known then (with "
        "parameters refitted in 2012, 2015 and 2018 on the values known then), "
        "choose the interval calibration on the cut-offs up to 2017, score 2018-2021 with it, "
        "and fit the parameters a publication uses. The result is kept in the stage cache: "
        "`ictstats run` on the same sources reuses it (and publishes it as the backtest "
        "table). Prints the scores pooled over horizons 1-3.")
    test.add_argument("--source-dir", type=Path, help="directory of source files (default: as "
                      "`ictstats run`)")
    test.add_argument("--year", type=int, default=2025, help="latest year to estimate "
                      "(default: 2025; the same as the runs that will use the result)")
    test.add_argument("--seed", type=non_negative, default=None,
                      help="random seed (default: the project's fixed seed)")
    test.add_argument("--income-fy", type=int, default=None, metavar="YYYY",
                      help="as `ictstats run --income-fy`")
    test.add_argument("--runner", choices=RUNNERS, default="default",
                      help="Prefect task runner (as `ictstats run --runner`)")
    test.set_defaults(handler=cmd_backtest)

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
    reproduce.add_argument("--raw-dir", type=Path, default=DEFAULT_RAW,
                           help="folder holding archive/, the sources kept by checksum "
                           "(default: data/raw/)")
    reproduce.set_defaults(handler=cmd_reproduce)

    validate = sub.add_parser("validate", help="validate the sources without publishing",
                              description="Read and validate every source file; print rows "
                              "read, accepted and quarantined per file, and why. Exit 1 if any "
                              "file cannot be used, a required source is missing or a file "
                              "lacks more of the classification universe than allowed.",
                              epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    validate.add_argument("--source-dir", type=Path, required=True,
                          help="directory of source files to check (e.g. a retrieval under "
                          "data/raw/)")
    validate.add_argument("--accept-shrink", action="store_true",
                          help="report files that lack economies, without failing")
    validate.add_argument("--reasons", type=int, default=3,
                          help="reasons to show per file (default 3)")
    validate.set_defaults(handler=cmd_validate)

    query = sub.add_parser("query", help="run SQL on the curated file (read-only)",
                           description="Run SQL on a read-only connection to the curated "
                           "DuckDB file and print the result as a table. The connection cannot "
                           "write anything, read or list files outside the database, attach "
                           "another database, install or load extensions, or change its "
                           "settings.")
    query.add_argument("sql", help="one SQL statement, e.g. \"SELECT * FROM headline\"")
    query.add_argument("--db", type=Path, default=DEFAULT_OUT / "ict.duckdb",
                       help="curated file to query (default: data/curated/ict.duckdb)")
    query.add_argument("--max-rows", type=non_negative, default=100,
                       help="rows to print at most (default 100)")
    query.add_argument("--max-width", type=non_negative, default=40,
                       help="characters to print of a long text cell (default 40)")
    query.set_defaults(handler=cmd_query)

    serve = sub.add_parser("serve", help="serve the scheduled deployments",
                           description="Serve the scheduled deployments, starting a loopback "
                           "Prefect server when none is configured. Deployments: "
                           "monthly-refresh (2nd of each month, 06:00 Europe/Zurich), "
                           "annual-edition (15 November, 06:00 Europe/Zurich) and "
                           "annual-backtest (1 November, 06:00 Europe/Zurich).")
    serve.add_argument("--source-dir", type=Path, default=None,
                       help="sources for the scheduled runs (default: official downloads)")
    serve.add_argument("--out", type=Path, default=DEFAULT_OUT,
                       help="where the scheduled runs publish (default: data/curated/)")
    serve.set_defaults(handler=cmd_serve)
    return parser


def _year_range() -> tuple[int, int]:
    from catalog import MAX_NOWCAST_YEARS, year_range

    low, _ = year_range()
    return low, MAX_NOWCAST_YEARS


def resolve_source_dir(arg: Path | None, refresh: bool = False) -> tuple[Path, list[str]]:
    """The source directory to read, checked, and lines saying where its files came from:
    the given folder, else the latest retrieval of each source under data/raw/ (after
    downloading the official files first with `refresh`)."""
    chosen = arg or (Path(os.environ["ICTSTATS_SOURCE_DIR"])
                     if os.environ.get("ICTSTATS_SOURCE_DIR") else None)
    if chosen is not None:
        check_sources(chosen)
        return chosen, [f"sources from {chosen}"]
    from sources import retrievals

    if refresh:
        fetch(DEFAULT_RAW)
    current = retrievals.resolve_raw_dir(DEFAULT_RAW)
    if current is None:
        raise CliError(f"{DEFAULT_RAW}: no data edition and nothing downloaded (run "
                       "`ictstats fetch`, or pass --source-dir)", EXIT_SOURCES)
    check_sources(current)
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


def check_sources(source_dir: Path) -> None:
    """The folder exists and holds catalogued files; each match is a regular readable file
    whose first bytes are its layout's; every required source is found (sources.listing:
    no pandas, no Prefect, no file read beyond its first 64 KiB)."""
    from sources.listing import files_in, listing_problems, source_dir_problem

    problem = source_dir_problem(source_dir)
    if problem:
        raise CliError(problem, EXIT_SOURCES)
    problems = listing_problems(source_dir, files_in(source_dir))
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise CliError(f"{source_dir}/{problems[0]}{more}", EXIT_SOURCES)


def check_year(year: int) -> None:
    from catalog import MAX_NOWCAST_YEARS, MIN_BACKTEST_YEARS, year_range

    low, high = year_range()
    if not low <= year <= high:
        raise CliError(f"--year {year}: outside the years the method supports ({low}-{high}: "
                       f"from the year every estimated indicator has {MIN_BACKTEST_YEARS} years "
                       f"since its first estimated year, to this year plus "
                       f"{MAX_NOWCAST_YEARS}, the longest horizon the backtest measures)",
                       EXIT_YEAR)


def check_output(out: Path) -> None:
    """--out is (or can be made) a directory this process can write into."""
    out = Path(out)
    existing = out
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():
            raise CliError(f"{out}: output folder {existing} is a broken symbolic link",
                           EXIT_OUTPUT)
        existing = existing.parent
    if not existing.is_dir():
        raise CliError(f"{out}: cannot be the output folder ({existing} is not a directory)",
                       EXIT_OUTPUT)
    try:
        handle, probe = tempfile.mkstemp(prefix=".ictstats-probe-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise CliError(f"{out}: output folder not writable ({existing}: {exc.strerror})",
                       EXIT_OUTPUT) from None


def check_lock(args) -> None:
    from flows.locking import busy_message

    if args.wait > 0:
        return  # the run waits for the lock itself
    message = busy_message(args.out)
    if message:
        _journal_refused(args, message)
        raise CliError(message, EXIT_LOCKED)


def _journal_refused(args, message: str) -> None:
    """A run refused before it starts is in the journal too (so in the next `runs` table)."""
    from flows import lineage

    seed = lineage.DEFAULT_SEED if args.seed is None else args.seed
    run = lineage.new_run(seed, {"source_dir": args.source_dir,
                                 "out_dir": Path(args.out).resolve(), "year": args.year})
    lineage.journal(args.out, {**run, "status": "refused", "message": message,
                               "finished_at": run["started_at"]})


def preflight(args) -> tuple[Path, list[str]]:
    """Every check that needs neither the sources read nor Prefect; the source directory
    and where its files came from."""
    check_year(args.year)
    check_output(args.out)
    check_lock(args)
    return resolve_source_dir(args.source_dir, args.refresh)


def run_flow(runner: str = "default", **parameters) -> str:
    """Run the pipeline flow; the published path, or a CliError with the flow's message."""
    configure_prefect()
    from flows.lifetime import settle_run_process
    from flows.pipeline import pipeline
    from flows.runners import task_runner

    settle_run_process()
    flow = pipeline if runner == "default" else pipeline.with_options(
        task_runner=task_runner(runner))
    state = flow(**parameters, return_state=True)
    if not state.is_completed():
        message = state.message or "the run failed; the previous publication is unchanged"
        locked = "another ictstats run is publishing here" in message
        raise CliError(message, EXIT_LOCKED if locked else EXIT_FAILED)
    return state.result()


def cmd_run(args) -> int:
    source_dir, origin = preflight(args)
    parameters = {"source_dir": str(source_dir), "out_dir": str(args.out),
                  "raw_dir": str(DEFAULT_RAW), "year": args.year,
                  "income_fiscal_year": args.income_fy, "wait": args.wait,
                  "accept_shrink": args.accept_shrink}
    if args.seed is not None:
        parameters["seed"] = args.seed
    if args.quiet:
        published = run_flow(args.runner, **parameters)
    else:
        from rich.console import Console

        from flows import progress

        console = Console(stderr=False, highlight=False)
        console.print("Reading " + "; ".join(origin))
        with progress.shown(console):
            published = run_flow(args.runner, **parameters)
        from flows.summary import print_summary

        print_summary(Path(published), origin, console)
    for line in run_summary(Path(published)):
        print(line)
    if args.quiet:
        print(f"published {published}")
    return 0


def run_summary(db: Path) -> list[str]:
    """What the published run should tell its user: the members groups lost, and the files
    published although they shrank (--accept-shrink)."""
    import duckdb

    from indicators.membership import membership_lines

    try:
        with duckdb.connect(str(db), read_only=True) as con:
            changes = con.execute("SELECT * FROM groups_changes ORDER BY group_scheme, "
                                  "group_code, iso3, first_year").df()
            notes = con.execute("SELECT file, notes FROM sources WHERE notes IS NOT NULL "
                                "ORDER BY file").fetchall()
    except duckdb.Error:
        return []
    return membership_lines(changes) + [f"note: {file}: {note}" for file, note in notes]


def cmd_backtest(args) -> int:
    check_year(args.year)
    source_dir, origin = resolve_source_dir(args.source_dir)
    print("Reading " + "; ".join(origin), flush=True)
    configure_prefect()
    from flows.lifetime import settle_run_process
    from flows.pipeline import backtest_flow
    from flows.runners import task_runner

    settle_run_process()
    flow = backtest_flow if args.runner == "default" else backtest_flow.with_options(
        task_runner=task_runner(args.runner))
    parameters = {"source_dir": str(source_dir), "raw_dir": str(DEFAULT_RAW),
                  "year": args.year, "income_fiscal_year": args.income_fy}
    if args.seed is not None:
        parameters["seed"] = args.seed
    state = flow(**parameters, return_state=True)
    if not state.is_completed():
        raise CliError(state.message or "the backtest failed")
    table = state.result()
    pooled = table[table["horizon"] == "1-3"].sort_values(["period", "level", "indicator"])
    columns = ["period", "level", "indicator", "n", "bias_pp", "mae_pp", "mae_carry_forward_pp",
               "mae_linear_trend_pp", "coverage90", "interval_score"]
    print("Backtest, horizons 1-3 pooled (evaluation: cut-offs 2018-2021, out of sample):")
    print(as_text(pooled[columns], 40).to_string(index=False))
    print("kept in the stage cache: `ictstats run` on these sources publishes it")
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
    from sources import completeness
    from sources.files import path_problem, sha256
    from sources.listing import (
        duplicate_problems,
        files_in,
        missing_required,
        relative,
        source_dir_problem,
    )
    from sources.read import read_all

    problem = source_dir_problem(args.source_dir)
    if problem:
        raise CliError(problem, EXIT_SOURCES)
    results = read_all(args.source_dir)
    files = files_in(args.source_dir)
    failed = 0
    width = max(len(relative(r.path, args.source_dir)) for r in results)
    print(f"{'file':{width}}  {'read':>7} {'accepted':>8} {'quarantined':>11}")
    for r in results:
        name = relative(r.path, args.source_dir)
        if r.error:
            failed += 1
            print(f"{name:{width}}  UNUSABLE: {r.error.problem}")
            continue
        x = r.extract
        print(f"{name:{width}}  {x.rows_read:>7} {x.rows_accepted:>8} {x.rows_quarantined:>11}")
        for note in x.notes:
            print(f"{'':{width}}    note: {note}")
        if len(x.quarantine):
            by_check = x.quarantine.groupby("check", sort=False)
            for check, rows in sorted(by_check, key=lambda kv: -len(kv[1]))[:args.reasons]:
                first = rows.iloc[0]
                print(f"{'':{width}}    {len(rows)} x {check}, e.g. row {first['row']}: "
                      f"{first['reason']}")
            if by_check.ngroups > args.reasons:
                print(f"{'':{width}}    … and {by_check.ngroups - args.reasons} more check(s)")
    checksums = {relative(p, args.source_dir): sha256(p) for _, p in files
                 if path_problem(p) is None}
    problems = missing_required(args.source_dir, files) + \
        duplicate_problems(files, checksums, args.source_dir)
    shrinks = [s.message() for s in completeness.manifest_mismatches(
        args.source_dir, [(e, p) for e, p in files if path_problem(p) is None], checksums)] + \
        [s.message() for s in completeness.shrinks(results)]
    for line in problems:
        print(f"PROBLEM: {line}")
    for line in shrinks:
        print(f"{'SHRUNK (accepted)' if args.accept_shrink else 'SHRUNK'}: {line}")
    print(f"{len(results)} file(s), {failed} unusable"
          + (f", {len(problems)} problem(s)" if problems else "")
          + (f", {len(shrinks)} shrunk" if shrinks else ""))
    return 1 if failed or problems or (shrinks and not args.accept_shrink) else 0


QUERY_CONFIG = {
    # nothing outside the database file: no COPY TO, no read_csv/glob/ATTACH of paths
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "temp_directory": "",            # nothing spilled to disk either
    "lock_configuration": True,      # and no statement can SET any of this back
}


def cmd_query(args) -> int:
    import duckdb

    if not args.db.exists():
        raise CliError(f"{args.db}: no curated file (run `ictstats run` first)")
    try:
        con = duckdb.connect(str(args.db), read_only=True, config=QUERY_CONFIG)
    except duckdb.Error as err:
        raise CliError(f"{args.db}: cannot open ({one_line(err)})") from None
    try:
        frame = con.execute(args.sql).df()
    except duckdb.Error as err:
        raise CliError(f"query failed: {one_line(err)}") from None
    finally:
        con.close()
    if not len(frame):
        print(f"(no rows; columns: {', '.join(frame.columns)})")
        return 0
    print(as_text(frame.head(args.max_rows), args.max_width).to_string(index=False))
    if len(frame) > args.max_rows:
        print(f"({len(frame):,} rows; the first {args.max_rows} shown: --max-rows for more)")
    return 0


def as_text(frame, max_width: int):
    """Every cell as the text to print: missing values empty, numbers without float noise,
    text longer than `max_width` cut with an ellipsis."""
    import numpy as np
    import pandas as pd

    def cell(value) -> str:
        if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                             and pd.isna(value)):
            return ""
        if isinstance(value, (float, np.floating)):
            return np.format_float_positional(value, precision=4, trim="-")
        text = " ".join(str(value).split())
        return text if len(text) <= max_width else text[:max_width - 1] + "…"

    return pd.DataFrame({c: [cell(v) for v in frame[c]] for c in frame.columns})


def one_line(err: Exception) -> str:
    """DuckDB's message on one line: its hints ("Did you mean …?") kept, the echo of the
    statement with its caret marks (LINE 1: …) left out."""
    lines = []
    for line in str(err).splitlines():
        text = line.strip()
        if not text or set(text) <= {"^"}:
            continue
        if text.startswith("LINE "):
            break
        lines.append(text)
    return " ".join(lines)


def cmd_serve(args) -> int:
    configure_prefect()
    from flows.deployments import serve

    return serve(str(args.source_dir.resolve()) if args.source_dir else None, str(args.out),
                 str(DEFAULT_RAW))


if __name__ == "__main__":
    entry()
