"""One catalog edit adds an indicator everywhere: read, estimated, aggregated, charted, tabled
and on the page, with no change of code.

A copy of catalog/ gains IT_MOB_5GNTWK (one entry in indicators.yaml, nothing else); a copy of
the snapshot gains a UN SDG DDF file for it, made from the 4G file's rows with lower values, in
the layout the `sdg_ddf` source already reads. The whole flow runs in real Prefect with
ICTSTATS_CATALOG_DIR pointing at the copy.

The run is also the Dask runner's test (one whole run serves both, to keep the suite short):
its tasks run on a local cluster of two Dask *process* workers, and every figure of the
other indicators must equal the default runner's (the session's `published` run): each
indicator draws from its own random stream, so an added indicator changes no other figure."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from sources.retrievals import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
CODE = "IT_MOB_5GNTWK"
ENTRY = f"""
{CODE}:
  title: Population covered by at least a 5G mobile network
  unit: percent
  sdg: "9.c.1"
  weight: population
  breakdowns: {{sex: [total], location: [total]}}
  aliases: []
  definition: Proportion of inhabitants living within range of at least a 5G mobile signal.
  role: headline
  estimation: {{first_year: 2019, predictor: IT_MOB_4GNTWK}}
  label: 5G network coverage
  unit_label: "% of population"
  charts:
    - {{id: coverage_5g, kind: groups, groups: [WLD, income]}}
  tables: [[total, total]]
  page_table: true
"""
SOURCE_4G = "un-sdg/ddf--datapoints--it_mob_4gntwk--by--geo_area--nature--units--year.csv"
SOURCE_5G = "un-sdg/ddf--datapoints--it_mob_5gntwk--by--geo_area--nature--units--year.csv"


def synthetic_5g(path_4g: Path) -> pd.DataFrame:
    """The 4G file's rows from 2019, with 5G coverage at two fifths of 4G's."""
    rows = pd.read_csv(path_4g, dtype=str)
    rows = rows[rows["year"].astype(int) >= 2019].copy()
    rows["it_mob_5gntwk"] = (rows.pop("it_mob_4gntwk").astype(float) * 0.4).round(1)
    return rows


@pytest.fixture(scope="module")
def release(snapshot, prefect_harness, tmp_path_factory) -> Path:
    from prefect_dask import DaskTaskRunner

    from flows.pipeline import pipeline

    tmp = tmp_path_factory.mktemp("synthetic")
    catalog = tmp / "catalog"
    shutil.copytree(ROOT / "catalog", catalog)
    with open(catalog / "indicators.yaml", "a", encoding="utf-8") as handle:
        handle.write(ENTRY)
    sources = tmp / "ict-data"
    # a folder with a file added is not the bundled edition: without its manifest
    shutil.copytree(snapshot, sources, ignore=shutil.ignore_patterns(MANIFEST))
    synthetic_5g(sources / SOURCE_4G).to_csv(sources / SOURCE_5G, index=False)
    out = tmp / "out"
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1,
                                            "processes": True, "dashboard_address": None})
    with pytest.MonkeyPatch.context() as mp:   # set before the workers start: they inherit it
        mp.setenv("ICTSTATS_CATALOG_DIR", str(catalog))
        state = pipeline.with_options(task_runner=runner)(
            source_dir=str(sources), out_dir=str(out), raw_dir=str(tmp / "raw"),
            return_state=True)
    assert state.is_completed(), state.message
    return out


FIGURES = {"estimates": "indicator, iso3, year, sex, location",
           "aggregates": "indicator, sex, location, group_scheme, group_code, year",
           "headline": "paragraph, figure"}


def test_dask_process_workers_give_the_default_runner_s_figures(release, published):
    """Every estimate, aggregate and headline figure of the catalog's own indicators is the
    default runner's, to the bit (linear algebra runs on one BLAS thread in both: see
    flows.pipeline.BLAS_THREADS); the report was drawn on the workers too."""
    for table, order in FIGURES.items():
        query = f"SELECT * FROM {table} WHERE indicator <> ? ORDER BY {order}"
        with duckdb.connect(str(release / "ict.duckdb"), read_only=True) as con:
            on_dask = con.execute(query, [CODE]).df()
        with duckdb.connect(str(published), read_only=True) as con:
            default = con.execute(query, [CODE]).df()
        assert len(default) > 10, table
        pd.testing.assert_frame_equal(on_dask, default, check_exact=True, obj=table)
    charts = {p.name for p in (release / "charts").iterdir()}
    assert {"internet_world.svg", "gender.png", "coverage_5g.svg"} <= charts


def test_the_indicator_is_read_estimated_and_aggregated(release):
    with duckdb.connect(str(release / "ict.duckdb"), read_only=True) as con:
        def count(table: str) -> int:
            return con.execute(f"SELECT count(*) FROM {table} WHERE indicator = ?",
                               [CODE]).fetchone()[0]

        assert count("observations") > 0
        assert count("estimates") > 0
        years = con.execute("SELECT min(year), max(year) FROM aggregates WHERE indicator = ?",
                            [CODE]).fetchone()
        assert years == (2019, 2025)
        groups = {r[0] for r in con.execute(
            "SELECT DISTINCT group_code FROM aggregates WHERE indicator = ?", [CODE]).fetchall()}
        assert {"WLD", "HIC", "UMC", "LMC", "LIC"} <= groups
        assert con.execute("SELECT count(*) FROM headline").fetchone()[0] == 12


def test_its_chart_is_drawn_from_the_catalog_entry(release):
    charts = release / "charts"
    for suffix in ("svg", "png", "json", "alt.txt"):
        assert (charts / f"coverage_5g.{suffix}").stat().st_size > 0, suffix
    meta = json.loads((charts / "coverage_5g.json").read_text(encoding="utf-8"))
    plotted = pd.DataFrame(meta["data"])
    assert set(plotted["indicator"]) == {CODE}
    assert set(plotted["group_code"]) == {"WLD", "HIC", "UMC", "LMC", "LIC"}
    assert meta["title"].startswith("5G network coverage")
    assert "5G network coverage" in meta["caption"] and "5G network coverage" in meta["alt_text"]


def test_its_tables_and_page_section(release):
    aggregates = pd.read_csv(release / "tables" / "aggregates.csv")
    assert (aggregates["indicator"] == CODE).any()
    assert "5G network coverage" in load_workbook(release / "tables" / "aggregates.xlsx",
                                                  read_only=True).sheetnames
    page = (release / "report" / "index.html").read_text(encoding="utf-8")
    assert 'id="fig-coverage_5g"' in page
    assert f'id="table-{CODE}-' in page and "5G network coverage by group and year" in page
