"""The report's tables, as CSV (for reuse) and XLSX (for report authors: number formats,
frozen header, column widths and a Notes sheet with sources, licences and method)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter

from catalog import groups, indicators
from reporting import facts, style
from reporting.attribution import all_publishers
from reporting.data import ReportData

PERCENT, RATIO, PERSONS, SHARE, INTEGER = "0.0", "0.00", "#,##0", "0%", "0"
HEADER_STYLE = {"bold": True, "bg_color": "#DDE6F0", "text_wrap": True, "valign": "top"}

HEADLINE_COLUMNS = ["paragraph", "figure", "indicator", "sex", "location", "group_code",
                    "group_name", "year", "value", "lower", "upper", "unit",
                    "population_coverage", "classification", "quoted_value", "quoted_relation",
                    "difference", "quoted_source", "note"]
AGGREGATE_COLUMNS = ["indicator", "indicator_title", "sex", "location", "group_scheme",
                     "group_code", "group_name", "year", "value", "lower", "upper", "unit",
                     "population_coverage", "observed_coverage", "n_economies", "n_reported",
                     "classification", "weight_population"]
DERIVED_COLUMNS = ["indicator", "measure", "unit", "sex", "location", "group_scheme",
                   "group_code", "group_name", "year", "value", "lower", "upper",
                   "population_coverage", "classification"]

# ---------------------------------------------------------------------------------------------
# frames

def headline_frame(data: ReportData) -> pd.DataFrame:
    """The headline table (its figure labels and group names as published) with the unit."""
    h = data.headline.copy()
    units = data.aggregates.drop_duplicates("indicator").set_index("indicator")["unit"]
    h["unit"] = h["indicator"].map(units)
    return h[HEADLINE_COLUMNS].reset_index(drop=True)


def _group_rank(codes: pd.Series) -> pd.Series:
    rank = {c: g.order for c, g in groups().items()}
    return codes.map(rank).fillna(len(rank))


def aggregates_frame(data: ReportData) -> pd.DataFrame:
    a = data.aggregates.copy()
    titles = data.indicators.set_index("code")["title"]
    a["indicator_title"] = a["indicator"].map(titles)
    a["_g"] = _group_rank(a["group_code"])
    a = a.sort_values(["indicator", "sex", "location", "_g", "year"])
    return a[AGGREGATE_COLUMNS].reset_index(drop=True)


def derived_frame(data: ReportData) -> pd.DataFrame:
    d = data.derived.copy()
    d["_g"] = _group_rank(d["group_code"])
    d = d.sort_values(["indicator", "measure", "sex", "location", "_g", "year"])
    return d[DERIVED_COLUMNS].reset_index(drop=True)


def series_sheets() -> list[tuple[str, str, str]]:
    """The series with a group x year sheet of their own: each indicator's `tables`."""
    return [(code, sex, location) for code, spec in indicators().items()
            for sex, location in spec.tables]


def wide_frame(aggregates: pd.DataFrame, indicator: str, sex: str, location: str
               ) -> pd.DataFrame:
    """Group x year values of one series (the 'aggregates by group x year' view)."""
    a = aggregates[(aggregates["indicator"] == indicator) & (aggregates["sex"] == sex)
                   & (aggregates["location"] == location)]
    wide = a.pivot_table(index=["group_code", "group_name"], columns="year", values="value",
                         aggfunc="first")
    wide = wide.reset_index()
    wide["_g"] = _group_rank(wide["group_code"])
    wide = wide.sort_values("_g").drop(columns="_g").reset_index(drop=True)
    wide.columns = [str(c) for c in wide.columns]
    wide.columns.name = None
    return wide


# ---------------------------------------------------------------------------------------------
# writing

def _value_format(unit: str | None) -> str:
    return {"ratio": RATIO, "persons": PERSONS}.get(unit or "", PERCENT)


def _values(column: pd.Series) -> list:
    """A column's cells: Python values, None where missing."""
    values = column.tolist()
    if column.hasnans:
        values = [None if missing else v for v, missing in zip(values, column.isna())]
    return values


def _runs(keys: list) -> list[tuple[int, int, object]]:
    """(start, stop, key) of each run of equal consecutive keys."""
    runs, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i, keys[start]))
            start = i
    return runs


class Book:
    """An XLSX workbook written with xlsxwriter (fast, and formats set once per column or row
    rather than cell by cell)."""

    def __init__(self, path: Path):
        self.workbook = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
        self._formats: dict[tuple, object] = {}

    def fmt(self, **properties):
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format(properties)
        return self._formats[key]

    def close(self) -> None:
        self.workbook.close()


def _sheet(book: Book, title: str, frame: pd.DataFrame, formats: dict[str, str],
           row_formats: pd.Series | None = None, widths: dict[str, int] | None = None,
           freeze: str = "A2"):
    ws = book.workbook.add_worksheet(title)
    ws.write_row(0, 0, list(frame.columns), book.fmt(**HEADER_STYLE))
    by_row = {"value", "lower", "upper"} if row_formats is not None else set()
    for j, col in enumerate(frame.columns):
        fmt = formats.get(col)
        width = (widths or {}).get(col)
        if width is None:
            sample = [len(str(col))] + [len(str(v)) for v in frame[col].head(200)
                                        if v is not None]
            width = min(max(sample) + 2, 50)
            if fmt in (PERCENT, RATIO, SHARE):
                width = max(len(str(col)) + 2, 9)
        ws.set_column(j, j, width, book.fmt(num_format=fmt) if fmt and col not in by_row
                      else None)
    fmts = list(row_formats) if row_formats is not None else []
    for j, col in enumerate(frame.columns):
        values = _values(frame[col])
        if col not in by_row:
            ws.write_column(1, j, values)        # a None is skipped: no cell
            continue
        keys = [f if v is not None else None for f, v in zip(fmts, values)]
        for start, stop, fmt in _runs(keys):
            if fmt is not None:
                ws.write_column(1 + start, j, values[start:stop], book.fmt(num_format=fmt))
    row, col = _cell_index(freeze)
    ws.freeze_panes(row, col)
    ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)
    return ws


def _cell_index(ref: str) -> tuple[int, int]:
    """'C2' -> (1, 2): zero-based row and column."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return int(ref[len(letters):]) - 1, col - 1


def method_notes(data: ReportData) -> list[str]:
    """The method in brief, with the run's own parameters, weights and classifications."""
    parity = "-".join(f"{p:.2f}" for p in facts.PARITY)
    return [
        ("Country values: every release of each indicator x economy x year, read as a "
         "measurement of the economy's true series with an error by kind (reported, publisher "
         "estimate, unflagged) and a level difference per older release; every value "
         "validated, rejected values kept in the quarantine table of ict.duckdb."),
        ("Estimates for missing years and economies (table estimates, with method and reason): "
         f"{facts.nowcast_rule(data)}; a reported value stays as published; a regression on "
         "income group, SDG region, year and a related indicator for economies never "
         "observed; female/male and urban/rural as the economy's gap to its total in the same "
         "release, raked so that the population-weighted mean of the members equals the "
         "total."),
        (f"Aggregates: population-weighted means over all {facts.economies(data)} economies "
         f"with a weight ({facts.weight_sources(data)}); no figure is suppressed for low "
         "coverage: population_coverage gives the share of the group's population in "
         "economies with reported data that year (0 for a nowcast year)."),
        (f"90% interval: 5th-95th percentile of {facts.replicates(data)} replicates, each a "
         "draw of every series from the model's posterior, raked like the points; width "
         "calibrated on a pseudo-real-time backtest (cut-offs up to 2017), with part of the "
         f"errors common to all economies: {facts.calibration(data)}."),
        "Groups: " + "; ".join(facts.group_schemes(data)) + "; see the classification column.",
        f"Gender parity score: female / male ({parity} counts as parity).",
        ("These are ictstats estimates, not official figures of ITU, the World Bank or the "
         "United Nations; they are computed from the publishers' data and differ from ITU's "
         "own estimates, which use data not published."),
    ]


def _notes_sheet(book: Book, data: ReportData, contents: list[str]) -> None:
    ws = book.workbook.add_worksheet("Notes")
    run = data.run
    wrap = book.fmt(text_wrap=True, valign="top")
    bold = book.fmt(bold=True, text_wrap=True, valign="top")
    rows: list[tuple[list, object]] = []

    def add(cells=(), style=None) -> None:
        rows.append((list(cells), style or wrap))

    add(["ictstats: connectivity figures for the WSIS+20 review"],
        book.fmt(bold=True, font_size=13))
    add([("These are ictstats estimates, not official ITU or UN figures. Cite the "
          "original publishers listed below.")])
    add()
    add(["Contents"], bold)
    for c in contents:
        add(["", c])
    add()
    add(["Publication"], bold)
    for k, v in [("run id", run.get("run_id")), ("code version", run.get("code_version")),
                 ("published (UTC)", str(run.get("finished_at"))),
                 ("random seed", int(run["seed"])),
                 ("latest data year", run["parameters"].get("year")),
                 ("replicates", facts.replicates(data)),
                 ("estimation parameters", ", ".join(
                     f"{k} {v}" for k, v in facts.estimation(data).items()
                     if k not in ("last_year", "seed", "replicates")))]:
        add([k, v])
    add()
    add(["Method (summary of the README's methodology)"], bold)
    for m in method_notes(data):
        add(["", m])
    add()
    add(["Units and number formats"], bold)
    add(["", ("Percent values (value, lower, upper, quoted_value, difference) are "
              "shown with one decimal; population_coverage and observed_coverage are "
              "shares shown as %; ratios (gender parity score, urban/rural ratio) with "
              "two decimals; persons as whole numbers. Cells hold full precision.")])
    add()
    add(["Sources"], bold)
    add(["publisher", "licence", "releases", "files read"], bold)
    for _, p in all_publishers(data).iterrows():
        add([p["publisher"], p["licence"], p["releases"], int(p["files"])])
    add()
    add(["file read", "release", "SHA-256"], bold)
    carried = data.usage.groupby("source")["release"].agg(lambda r: ", ".join(sorted(set(r))))
    for _, s in data.sources.iterrows():
        release = s["release"]
        if str(release).startswith("from the file") and s["source_id"] in carried:
            release = carried[s["source_id"]]
        add([s["file"], release, s["sha256"]])
    for i, (cells, style_) in enumerate(rows):
        for j, v in enumerate(cells):
            if v is not None and v != "":
                ws.write(i, j, v, style_)
    for j, width in enumerate((44, 90, 40, 12)):
        ws.set_column(j, j, width)
    ws.freeze_panes(1, 0)


def _formats_for(frame: pd.DataFrame) -> dict[str, str]:
    fmts = {"population_coverage": SHARE, "observed_coverage": SHARE,
            "quoted_value": PERCENT, "difference": PERCENT, "weight_population": PERSONS,
            "n_economies": INTEGER, "n_reported": INTEGER, "year": INTEGER,
            "paragraph": INTEGER}
    return {k: v for k, v in fmts.items() if k in frame.columns}


def write_headline(data: ReportData, out_dir: Path) -> dict[str, Path]:
    frame = headline_frame(data)
    csv, xlsx = out_dir / "headline.csv", out_dir / "headline.xlsx"
    frame.to_csv(csv, index=False)
    wb = Book(xlsx)
    _sheet(wb, "Headline", frame, _formats_for(frame),
           row_formats=frame["unit"].map(_value_format),
           widths={"figure": 42, "note": 80, "quoted_source": 30, "classification": 24})
    _notes_sheet(wb, data, [
        (f"Headline: the {len(frame)} figures of WSIS+20 outcome paragraphs "
         f"{facts.paragraphs(frame).replace('–', '-')} - our value, 90% interval (lower, "
         "upper) and population coverage beside the quoted value and the difference (value - "
         "quoted_value, percentage points).")])
    wb.close()
    return {"headline_csv": csv, "headline_xlsx": xlsx}


def sheet_name(indicator: str, sex: str, location: str) -> str:
    return style.series_label(indicator, sex, location)[:31]


def xlsx_derived(derived: pd.DataFrame) -> pd.DataFrame:
    """The rows of aggregates_derived in the workbook: ratios, and persons with / without
    for the whole population (the CSV has every row)."""
    keep = ((derived["unit"] == "ratio")
            | ((derived["sex"] == "total") & (derived["location"] == "total")))
    return derived[keep].reset_index(drop=True)


def group_year_frame(aggregates: pd.DataFrame) -> pd.DataFrame:
    """Every series as group x year values: one row per indicator x sex x location x group,
    one column per year (intervals and coverage are in the long table)."""
    wide = aggregates.pivot_table(
        index=["indicator", "indicator_title", "unit", "sex", "location", "group_scheme",
               "group_code", "group_name"], columns="year", values="value", aggfunc="first")
    wide = wide.reset_index()
    wide["_g"] = _group_rank(wide["group_code"])
    wide = wide.sort_values(["indicator", "sex", "location", "_g"]).drop(columns="_g")
    wide.columns = [str(c) for c in wide.columns]
    wide.columns.name = None
    return wide.reset_index(drop=True)


def write_aggregates(data: ReportData, out_dir: Path) -> dict[str, Path]:
    agg, der = aggregates_frame(data), derived_frame(data)
    paths = {"aggregates_csv": out_dir / "aggregates.csv",
             "aggregates_group_year_csv": out_dir / "aggregates_group_year.csv",
             "aggregates_derived_csv": out_dir / "aggregates_derived.csv",
             "aggregates_xlsx": out_dir / "aggregates.xlsx"}
    agg.to_csv(paths["aggregates_csv"], index=False)
    group_year_frame(agg).to_csv(paths["aggregates_group_year_csv"], index=False)
    der.to_csv(paths["aggregates_derived_csv"], index=False)
    wb = Book(paths["aggregates_xlsx"])
    contents = []
    for code, sex, loc in series_sheets():
        wide = wide_frame(agg, code, sex, loc)
        if wide.empty:
            continue
        name = sheet_name(code, sex, loc)
        fmt = {c: PERCENT for c in wide.columns if c.isdigit()}
        _sheet(wb, name, wide, fmt, widths={"group_code": 11, "group_name": 40,
                                            **{c: 7 for c in fmt}}, freeze="C2")
        contents.append(f"{name}: {indicators()[code].unit_label}, value by group and "
                        "year (intervals and coverage in 'All aggregates')")
    _sheet(wb, "All aggregates", agg, _formats_for(agg),
           row_formats=agg["unit"].map(_value_format),
           widths={"indicator_title": 44, "group_name": 36, "classification": 26})
    contents.append("All aggregates: the aggregates table, long: value, 90% interval, "
                    "population and observed coverage, economy counts and classification")
    derived = xlsx_derived(der)
    _sheet(wb, "Derived", derived, _formats_for(derived),
           row_formats=derived["unit"].map(_value_format),
           widths={"group_name": 36, "classification": 26, "measure": 22})
    contents.append("Derived: gender parity score (female/male), urban/rural ratio, and persons "
                    "with and without (e.g. online and offline) for the whole population; "
                    "persons by sex and location are in aggregates_derived.csv")
    _notes_sheet(wb, data, contents)
    wb.close()
    return paths


def write_tables(data: ReportData, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return {**write_headline(data, out_dir), **write_aggregates(data, out_dir)}
