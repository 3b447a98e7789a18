"""Build every report output from one published database, and publish Prefect artifacts.

`build_report(db_path, out_dir)` reads the database read-only and writes
`out_dir/charts`, `out_dir/tables` and `out_dir/report`, one after the other (the flow runs
the same steps as parallel tasks: flows/report_tasks.py).
"""
from __future__ import annotations

import math
from pathlib import Path

from reporting.charts import chart_ids, draw
from reporting.data import load
from reporting.page import write_page
from reporting.tables import headline_frame, write_tables

HEADLINE_ARTIFACT_KEY = "ictstats-headline"
CHARTS_ARTIFACT_KEY = "ictstats-charts"


def build_report(db_path: Path, out_dir: Path) -> dict:
    """Charts, tables and the page from the database at db_path, written under out_dir.

    Returns {"charts": {chart id: {"svg", "png", "alt", "json": Path}},
             "tables": {name: Path}, "page": Path}."""
    db_path, out_dir = Path(db_path), Path(out_dir)
    data = load(db_path)
    ids = chart_ids()
    drawn = draw(data, out_dir / "charts", ids)
    tables = write_tables(data, out_dir / "tables")
    charts = [drawn[c][0] for c in ids]
    chart_paths = {c: drawn[c][1] for c in ids}
    page = write_page(data, charts, chart_paths, out_dir / "report")
    return {"charts": chart_paths, "tables": tables, "page": page}


def _plain(v):
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def headline_records(db_path: Path) -> list[dict]:
    """The headline table as JSON-safe records (NaN -> None)."""
    frame = headline_frame(load(Path(db_path)))
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def charts_markdown(out_dir: Path) -> str:
    """Markdown linking every chart of out_dir/charts (file paths), with captions."""
    import json

    out_dir = Path(out_dir).resolve()
    page = out_dir / "report" / "index.html"
    lines = ["# ictstats charts", "", f"Report page: [{page}]({page.as_uri()})", "",
             "| chart | files | caption |", "|---|---|---|"]
    for sidecar in sorted((out_dir / "charts").glob("*.json")):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        files = " · ".join(f"[{kind}]({(sidecar.parent / name).as_uri()})"
                           for kind, name in meta["files"].items())
        caption = meta["caption"].replace("|", "\\|")
        lines.append(f"| {meta['title']} | {files} | {caption} |")
    lines += ["", "Tables: " + ", ".join(
        f"[{p.name}]({p.as_uri()})" for p in sorted((out_dir / "tables").glob("*")))]
    return "\n".join(lines) + "\n"


def publish_artifacts(db_path: Path, out_dir: Path) -> dict:
    """Create the Prefect artifacts of a publication (call inside a flow or task run):
    a table artifact with the headline table (key `ictstats-headline`) and a markdown
    artifact linking the charts, tables and page under out_dir (key `ictstats-charts`)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    table_id = create_table_artifact(
        table=headline_records(db_path), key=HEADLINE_ARTIFACT_KEY,
        description="WSIS+20 headline figures (paragraphs 20-22): ictstats value, 90% "
                    "interval and population coverage beside the quoted value.")
    markdown_id = create_markdown_artifact(
        markdown=charts_markdown(out_dir), key=CHARTS_ARTIFACT_KEY,
        description="Charts (SVG, PNG, alt text, plotted data), tables and the report page "
                    "of this publication.")
    return {HEADLINE_ARTIFACT_KEY: table_id, CHARTS_ARTIFACT_KEY: markdown_id}
