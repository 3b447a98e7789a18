"""The report's charts: those the indicator catalog lists (`charts:` of each indicator: id,
kind and the kind's options), in catalog order, then the headline figures' data coverage.
Entries of one id across indicators make one figure; `KINDS` maps a kind to the function
that draws it (reporting/kinds.py).

Conventions shared by every chart (reporting/style.mplstyle, reporting/style.py):
- values are population-weighted group means from `aggregates` (or `aggregates_derived`); the
  shaded band or whisker is the 90% interval;
- a filled marker is a year in which economies of the group reported data; a hollow marker is
  a year with no reported data (population_coverage = 0): an estimate only;
- the line is dashed after the last year with reported data: the nowcast.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib
import pandas as pd

from catalog import Indicator, indicators
from reporting import facts, kinds, style
from reporting.coverage import data_coverage
from reporting.data import ReportData, load
from reporting.plotting import fix_layout
from reporting.series import Chart

__all__ = ["KINDS", "Chart", "build", "chart_ids", "draw", "inputs_digest", "read_chart",
           "render"]

KINDS = {"world": kinds.world, "groups": kinds.groups, "locations": kinds.locations,
         "sexes": kinds.sexes, "regions": kinds.regions, "data_coverage": data_coverage}
HEADLINE_CHARTS = ["data_coverage"]   # drawn from the headline table, after the catalog's
PNG_COMPRESSION = 1   # zlib level: a fifth of the PNG's time at level 6, for files 2% larger
# what the charts are drawn from: these tables of the report data, and the run's estimation
# parameters (reporting/facts.py)
CHART_INPUTS = ("aggregates", "derived", "headline", "sources", "indicators", "usage",
                "weight_sources")


def chart_specs() -> dict[str, tuple[str, list[tuple[Indicator, dict]]]]:
    """{chart id: (kind, [(indicator, options)])} of the catalog in use, in catalog order."""
    specs: dict[str, tuple[str, list]] = {}
    for ind in indicators().values():
        for entry in ind.charts:
            options = {k: v for k, v in entry.items() if k not in ("id", "kind")}
            kind, members = specs.setdefault(entry["id"], (entry["kind"], []))
            if kind != entry["kind"] or kind not in KINDS:
                raise ValueError(f"chart {entry['id']} of {ind.code}: kind {entry['kind']!r} "
                                 f"(expected {kind!r}, one of {', '.join(KINDS)})")
            members.append((ind, options))
    for chart_id in HEADLINE_CHARTS:
        specs[chart_id] = (chart_id, [])
    return specs


def chart_ids() -> list[str]:
    return list(chart_specs())


def build(data: ReportData, chart_id: str) -> Chart:
    """One chart with its figure, laid out and ready to save."""
    kind, members = chart_specs()[chart_id]
    with style.chart_style():
        chart = KINDS[kind](data, chart_id, members)
        fix_layout(chart.figure)
    return chart


def draw(data: ReportData | Path, out_dir: Path, ids: list[str]) -> dict[str, tuple[Chart, dict]]:
    """Build and render the charts `ids` (from the data, or the database at that path):
    {id: (the chart, its files)}. The figures are dropped; the charts can cross processes."""
    if not isinstance(data, ReportData):
        data = load(Path(data))
    drawn = {}
    for chart_id in ids:
        chart = build(data, chart_id)
        drawn[chart_id] = (chart, render(chart, out_dir))
    return drawn


def chart_files(out_dir: Path, chart_id: str) -> dict[str, Path]:
    paths = {kind: out_dir / f"{chart_id}.{kind}" for kind in ("svg", "png", "json")}
    paths["alt"] = out_dir / f"{chart_id}.alt.txt"
    return paths


def render(chart: Chart, out_dir: Path) -> dict[str, Path]:
    """Write <id>.svg, <id>.png, <id>.alt.txt and <id>.json into out_dir; drops the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = chart_files(out_dir, chart.id)
    with style.chart_style():
        chart.figure.savefig(paths["svg"], format="svg", metadata={"Date": None})
        chart.figure.savefig(paths["png"], format="png", dpi=style.DPI,
                             pil_kwargs={"compress_level": PNG_COMPRESSION})
    chart.figure = None
    paths["alt"].write_text(chart.alt_text + "\n", encoding="utf-8")
    paths["json"].write_text(json.dumps(chart.sidecar(), indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return paths


def read_chart(out_dir: Path, chart_id: str) -> tuple[Chart, dict[str, Path]]:
    """A chart rendered earlier into out_dir, from its files (without its figure)."""
    paths = chart_files(out_dir, chart_id)
    return Chart.from_sidecar(json.loads(paths["json"].read_text(encoding="utf-8"))), paths


def inputs_digest(data: ReportData) -> str:
    """A digest of all the charts are drawn from (CHART_INPUTS, the estimation parameters,
    the matplotlib release): with the same code, an equal digest means equal chart files."""
    digest = hashlib.sha256(matplotlib.__version__.encode())
    for name in CHART_INPUTS:
        frame = getattr(data, name)
        digest.update(json.dumps([list(map(str, frame.columns)),
                                  [str(t) for t in frame.dtypes]]).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(json.dumps(facts.estimation(data), sort_keys=True, default=str).encode())
    return digest.hexdigest()
