"""The report as tasks: every chart drawn side by side, the tables, then the page, all into
the release being built; and the Prefect artifacts of the published release.

A chart's files are kept in the stage cache, keyed on the code and on everything the chart is
drawn from (reporting.charts.inputs_digest): a rerun whose figures did not change copies them
instead of drawing again. The tables and the page name the run, so they are written anew."""
from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from curate.database import DATABASE_NAME
from flows import lineage
from flows.cache import StageCache
from flows.tasks import fingerprint, reused, stage_task
from reporting import build
from reporting.charts import chart_ids, draw, inputs_digest, read_chart
from reporting.data import ReportData, load
from reporting.page import write_page
from reporting.tables import write_tables


@task(name="draw chart", cache_policy=NO_CACHE, task_run_name="draw {chart_id}")
def draw_chart(data: ReportData, chart_id: str, out_dir: Path, key: str, cache: StageCache):
    """(the chart, its files in out_dir): drawn, or copied from the cache entry `key`."""
    if cache.load_files("chart", key, out_dir) is not None:
        return reused(read_chart(out_dir, chart_id))
    chart, paths = draw(data, out_dir, [chart_id])[chart_id]
    cache.save("chart", key, {}, files=list(paths.values()))
    return chart, paths


@stage_task(name="write tables")
def tables_task(data: ReportData, out_dir: Path) -> dict:
    return write_tables(data, out_dir)


@stage_task(name="write report page")
def page_task(data: ReportData, drawn: list, out_dir: Path) -> Path:
    return write_page(data, [chart for chart, _ in drawn],
                      {chart.id: paths for chart, paths in drawn}, out_dir)


def build_report(db_path: Path, release_dir: Path, cache: StageCache) -> None:
    """Charts, tables and the page from the release's database, written beside it."""
    data = load(db_path)
    drawn_from = fingerprint(lineage.code_fingerprint(), inputs_digest(data))
    charts = [draw_chart.submit(data, chart_id, release_dir / "charts",
                                fingerprint("chart", chart_id, drawn_from), cache)
              for chart_id in chart_ids()]
    tables = tables_task.submit(data, release_dir / "tables")
    page_task(data, [f.result() for f in charts], release_dir / "report")
    tables.result()


@stage_task(name="publish artifacts")
def publish_artifacts(out_dir: Path) -> None:
    """The headline table and a page linking the charts, in the Prefect UI."""
    build.publish_artifacts(out_dir / DATABASE_NAME, out_dir)
