"""The summary `ictstats run` prints when it has published: the headline figures with their
90% intervals beside the quoted ones, the data it read, and where the outputs are."""
from __future__ import annotations

import math
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from reporting.data import load
from reporting.tables import headline_frame


def _pct(value) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.1f}"


def print_summary(db: Path, source_lines: list[str], console: Console) -> None:
    db = Path(db)
    headline = headline_frame(load(db))
    table = Table(title="WSIS+20 headline figures (paragraphs 20-22), per cent",
                  title_justify="left")
    for column, justify in [("para.", "right"), ("figure", "left"), ("value", "right"),
                            ("90% interval", "right"), ("quoted", "right"),
                            ("coverage", "right")]:
        table.add_column(column, justify=justify)
    for r in headline.itertuples():
        quoted = f"{r.quoted_relation} {r.quoted_value:.0f}".strip()
        table.add_row(str(r.paragraph), r.figure, _pct(r.value),
                      f"{_pct(r.lower)}–{_pct(r.upper)}", quoted,
                      f"{r.population_coverage:.0%}")
    console.print(table)
    with duckdb.connect(str(db), read_only=True) as con:
        files, read, quarantined = con.execute(
            "SELECT count(*), sum(rows_read), sum(rows_quarantined) FROM sources").fetchone()
    console.print(f"Data: {files} files, {read:,} rows read, {quarantined:,} quarantined "
                  "(table `quarantine`); " + "; ".join(source_lines))
    out = db.parent
    console.print(f"published {db}", soft_wrap=True)
    console.print(f"  charts {out / 'charts'}, tables {out / 'tables'}, "
                  f"report {out / 'report' / 'index.html'}", soft_wrap=True)
    console.print("Coverage: share of the population with reported data that year; "
                  "0% marks a nowcast.", style="dim")
