"""Charts, tables and the report page built from the published database of one real run.

The plotted values are checked against `aggregates` (never pixels); the page is checked for
self-containment and rendered in headless Chromium where it is installed."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from catalog import indicators

# the charts of catalog/indicators.yaml in catalog order, then the headline coverage chart
CHART_IDS = ["internet_world", "internet_income", "internet_urban_rural", "gender",
             "sdg_regions", "coverage_4g", "data_coverage"]
KEY = ["indicator", "sex", "location", "group_scheme", "group_code", "year"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def db(published) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(published), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t}").df()
                for t in ["aggregates", "aggregates_derived", "headline", "sources", "runs",
                          "weights", "estimation_parameters"]}


@pytest.fixture(scope="module")
def report(published, tmp_path_factory) -> tuple[Path, dict, str]:
    from reporting import build_report

    before = sha256(published)
    out = tmp_path_factory.mktemp("report-out") / "staging"
    paths = build_report(published, out)
    assert sha256(published) == before, "build_report must only read the database"
    return out, paths, before


def sidecars(out: Path) -> dict[str, dict]:
    return {p.name.removesuffix(".json"): json.loads(p.read_text(encoding="utf-8"))
            for p in (out / "charts").glob("*.json")}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# ---------------------------------------------------------------------------------------------
# charts

def test_build_report_returns_and_writes_every_output(report):
    out, paths, _ = report
    assert list(paths["charts"]) == CHART_IDS
    files = [p for c in paths["charts"].values() for p in c.values()]
    files += list(paths["tables"].values()) + [paths["page"]]
    for p in files:
        assert p.is_file() and p.stat().st_size > 0, p
        assert out in p.parents, f"{p} written outside the output directory"
    assert paths["page"] == out / "report" / "index.html"
    assert {p.name for p in (out / "tables").iterdir()} >= {
        "headline.csv", "headline.xlsx", "aggregates.csv", "aggregates.xlsx",
        "aggregates_group_year.csv"}


def test_the_flow_s_parallel_report_is_the_one_built_in_one_process(report, published):
    """The release the flow published (charts drawn as parallel tasks) holds, byte for byte,
    the chart files, CSV tables and page that one process builds from the same database."""
    alone, _, _ = report
    release = published.resolve().parent
    compared = [p.relative_to(alone) for p in alone.rglob("*")
                if p.is_file() and p.suffix != ".xlsx"]  # xlsx files carry their write time
    assert sorted(p.relative_to(release) for p in release.rglob("*")
                  if p.is_file() and p.suffix != ".xlsx" and p.name != "ict.duckdb") \
        == sorted(compared)
    for name in compared:
        assert (release / name).read_bytes() == (alone / name).read_bytes(), name


def test_a_chart_drawn_from_unchanged_inputs_is_copied_from_the_cache(report, published,
                                                                      tmp_path):
    """A rerun's chart is the cached files, byte for byte, with its caption and alt text;
    a changed value of what the chart is drawn from changes the digest its key is made of,
    and the run's own rows (runs) do not."""
    from dataclasses import replace

    from flows.cache import StageCache
    from flows.report_tasks import draw_chart
    from reporting.charts import inputs_digest
    from reporting.data import load

    alone, _, _ = report
    data = load(published)
    cache = StageCache(tmp_path / "cache")
    drawn = draw_chart.fn(data, "internet_world", tmp_path / "first", "k1", cache)
    assert not hasattr(drawn, "is_completed"), "drawn, not reused, on the first call"
    again = draw_chart.fn(data, "internet_world", tmp_path / "again", "k1", cache)
    assert again.name == "Cached"
    chart, paths = again.result()
    assert chart.figure is None and chart.title == drawn[0].title
    assert chart.alt_text == drawn[0].alt_text and chart.caption == drawn[0].caption
    for kind, path in paths.items():
        assert path.parent == tmp_path / "again"
        assert path.read_bytes() == (alone / "charts" / path.name).read_bytes(), kind

    digest = inputs_digest(data)
    changed = data.aggregates.copy()
    changed.loc[changed.index[0], "value"] += 0.01
    assert inputs_digest(replace(data, aggregates=changed)) != digest
    other_run = data.runs.assign(run_id="another run")
    assert inputs_digest(replace(data, runs=other_run)) == digest


def test_every_chart_has_svg_png_alt_text_and_sidecar(report):
    out, _, _ = report
    meta = sidecars(out)
    assert set(meta) == set(CHART_IDS)
    for cid, m in meta.items():
        svg = out / "charts" / f"{cid}.svg"
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg"), cid
        width, height = png_size((out / "charts" / f"{cid}.png").read_bytes())
        assert 1500 <= width <= 1800 and height > 800, (cid, width, height)
        alt = (out / "charts" / f"{cid}.alt.txt").read_text(encoding="utf-8").strip()
        assert len(alt) > 80 and alt == m["alt_text"], cid
        assert m["title"] and m["caption"] and len(m["caption"]) > 60, cid
        assert m["data"], f"{cid}: no plotted data in the sidecar"


def test_source_notes_name_publishers_releases_and_income_classification(report, db):
    out, _, _ = report
    agg = db["aggregates"]
    sources = db["sources"]
    latest = int(agg["year"].max())
    income_latest = agg[(agg["group_scheme"] == "income") & (agg["year"] == latest)]
    classification = income_latest["classification"].iloc[0]          # e.g. WB FY25 (...)
    wpp = sources[sources["source_id"] == "wpp"].iloc[0]
    wdi = sources[sources["source_id"] == "wb_internet"].iloc[0]
    for cid, m in sidecars(out).items():
        note = m["source_note"]
        assert note.startswith("Source:"), cid
        assert classification in note, (cid, note)
        assert "World Bank income groups" in note, cid
        # publishers with the licence they are used under, and their releases
        assert f"{wpp['publisher']}, {wpp['licence']} [{wpp['release']}]" in note, cid
        assert f"{wdi['publisher']}, {wdi['licence']} [" in note, cid
        assert wdi["release"] in note, cid
        assert "UN SDG Global Database" in note, cid
    assert "Our World in Data" in sidecars(out)["coverage_4g"]["source_note"]


def test_plotted_values_equal_the_aggregates(report, db):
    out, _, _ = report
    agg = db["aggregates"].set_index(KEY).sort_index()
    der = db["aggregates_derived"].set_index(KEY + ["measure"]).sort_index()
    for cid, m in sidecars(out).items():
        rows = pd.DataFrame(m["data"])
        for table, frame, key in [("aggregates", agg, KEY),
                                  ("aggregates_derived", der, KEY + ["measure"])]:
            mine = rows[rows["table"] == table]
            if mine.empty:
                continue
            ref = frame.loc[[tuple(r) for r in mine[key].itertuples(index=False)]]
            assert len(ref) == len(mine), cid
            for col in ["value", "lower", "upper", "population_coverage"]:
                np.testing.assert_allclose(mine[col].to_numpy(float), ref[col].to_numpy(float),
                                           rtol=1e-12, atol=1e-12, err_msg=f"{cid} {col}")
        assert set(rows["table"]) <= {"aggregates", "aggregates_derived"}, cid


def test_chart_series_cover_what_their_titles_say(report, db):
    out, _, _ = report
    meta = sidecars(out)
    latest = int(db["aggregates"]["year"].max())
    world = pd.DataFrame(meta["internet_world"]["data"])
    assert set(world["group_code"]) == {"WLD"} and set(world["indicator"]) == {"IT_USE_ii99"}
    assert sorted(world["year"]) == list(range(2005, latest + 1))
    income = pd.DataFrame(meta["internet_income"]["data"])
    assert set(income["group_code"]) == {"WLD", "HIC", "UMC", "LMC", "LIC"}
    ur = pd.DataFrame(meta["internet_urban_rural"]["data"])
    assert set(ur["location"]) == {"urban", "rural", "total"}
    gender = pd.DataFrame(meta["gender"]["data"])
    assert set(gender["indicator"]) == {"IT_USE_ii99", "IT_MOB_OWN"}
    assert set(gender.loc[gender["table"] == "aggregates", "sex"]) == {"female", "male"}
    assert set(gender["measure"].dropna()) == {"gender_parity_score"}
    g4 = pd.DataFrame(meta["coverage_4g"]["data"])
    assert set(g4["indicator"]) == {"IT_MOB_4GNTWK"} and "LIC" in set(g4["group_code"])
    sdg = pd.DataFrame(meta["sdg_regions"]["data"])
    assert set(sdg["group_scheme"]) == {"sdg_region", "world"} and sdg["group_code"].nunique() == 9
    cov = pd.DataFrame(meta["data_coverage"]["data"])
    headline = db["headline"]
    assert (set(zip(cov["indicator"], cov["sex"], cov["location"], cov["group_code"]))
            == set(zip(headline["indicator"], headline["sex"], headline["location"],
                       headline["group_code"])))


def test_estimated_years_are_flagged_from_coverage(report, db):
    out, _, _ = report
    world = pd.DataFrame(sidecars(out)["internet_world"]["data"]).set_index("year")
    agg = db["aggregates"]
    wld = agg[(agg["indicator"] == "IT_USE_ii99") & (agg["sex"] == "total")
              & (agg["location"] == "total") & (agg["group_code"] == "WLD")].set_index("year")
    last_reported = int(wld.index[wld["population_coverage"] > 0].max())
    for year, r in world.iterrows():
        assert r["estimated"] == (wld.loc[year, "population_coverage"] == 0), year
        assert r["nowcast"] == (year > last_reported), year
    assert world.loc[int(world.index.max()), "nowcast"]        # 2025 has no reported data


def test_figures_draw_the_aggregates_with_nowcast_dashed_and_hollow(published, db):
    """The matplotlib artists themselves hold the aggregates' values."""
    from reporting.charts import build
    from reporting.data import load

    data = load(published)
    agg = db["aggregates"]
    charts = [build(data, "internet_world"), build(data, "internet_income")]
    for chart in charts:
        ax = chart.figure.axes[0]
        points = {(round(float(x), 6), round(float(y), 9))
                  for line in ax.get_lines() for x, y in zip(*line.get_data())}
        for code in set(chart.data["group_code"]):
            ref = agg[(agg["indicator"] == "IT_USE_ii99") & (agg["sex"] == "total")
                      & (agg["location"] == "total") & (agg["group_code"] == code)
                      & (agg["year"] >= 2005)]
            for y, v in zip(ref["year"], ref["value"]):
                assert (float(y), round(float(v), 9)) in points, (chart.id, code, y)
    world = charts[0].figure.axes[0]
    last = int(agg["year"].max())
    dashed = [ln for ln in world.get_lines() if ln.get_linestyle() not in ("-", "None")]
    assert dashed and any(last in ln.get_xdata() for ln in dashed)
    hollow = [ln for ln in world.get_lines() if ln.get_markerfacecolor() in ("white", "w")]
    assert hollow and last in hollow[0].get_xdata()


# ---------------------------------------------------------------------------------------------
# tables

def test_headline_tables_match_the_database(report, db):
    out, _, _ = report
    ref = db["headline"]
    csv = pd.read_csv(out / "tables" / "headline.csv", keep_default_na=False,
                      na_values=[""])
    assert len(csv) == len(ref)
    keys = ["paragraph", "indicator", "sex", "location", "group_code", "year"]
    merged = csv.merge(ref, on=keys, suffixes=("", "_db"), validate="1:1")
    assert len(merged) == len(ref)
    for col in ["value", "lower", "upper", "population_coverage", "quoted_value", "difference"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_db"], rtol=1e-12, err_msg=col)

    wb = load_workbook(out / "tables" / "headline.xlsx")
    assert wb.sheetnames == ["Headline", "Notes"]
    ws = wb["Headline"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header == list(csv.columns)
    sheet = pd.DataFrame(list(ws.iter_rows(min_row=2, values_only=True)), columns=header)
    np.testing.assert_allclose(sheet["value"].astype(float), csv["value"], rtol=1e-12)
    np.testing.assert_allclose(sheet["difference"].astype(float), csv["difference"], rtol=1e-12)
    col = {name: i + 1 for i, name in enumerate(header)}
    assert ws.cell(row=2, column=col["value"]).number_format == "0.0"
    assert ws.cell(row=2, column=col["population_coverage"]).number_format == "0%"
    assert ws.column_dimensions["B"].width >= 30          # the figure label is readable


def test_notes_sheet_names_sources_licences_method_and_run(report, db):
    out, _, _ = report
    runs = db["runs"]
    run = runs[runs["status"] == "published"].sort_values("finished_at").iloc[-1]
    for name in ["headline.xlsx", "aggregates.xlsx"]:
        ws = load_workbook(out / "tables" / name)["Notes"]
        text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row
                         if v is not None)
        assert run["run_id"] in text and run["code_version"] in text, name
        for _, s in db["sources"].drop_duplicates("publisher").iterrows():
            assert s["publisher"] in text and s["licence"] in text, (name, s["publisher"])
        assert "90% interval" in text and "population-weighted" in text, name
        assert "not official" in text, name
        # the method as this run applied it: its fitted damping and calibration per indicator
        estimation = json.loads(run["parameters"])["estimation"]
        flat = " ".join(text.split())
        p = db["estimation_parameters"]
        for row in p[p["parameter"] == "phi"].itertuples():
            assert f"{indicators()[row.indicator].label} {row.value:.2f}" in flat, name
        for row in p[p["parameter"] == "interval_scale"].itertuples():
            assert f"x{row.value:.2f} ({row.qualifier})" in flat, name
        assert f"{estimation['replicates']} replicates" in text, name
        assert str(run["seed"]) in text, name
        for source in db["weights"]["weight_source"].unique():
            assert source in text, (name, source)


def test_method_text_follows_the_run_not_the_code(published):
    """The page and the Notes sheet print the parameters, weights and classifications of the
    publication they describe: change them in the data and the text follows."""
    from reporting.data import load
    from reporting.page import _methodology
    from reporting.tables import method_notes

    data = load(published)
    last = data.runs.index[-1]
    parameters = json.loads(data.runs.loc[last, "parameters"])
    parameters["estimation"].update(replicates=321)
    data.runs.loc[last, "parameters"] = json.dumps(parameters)
    p = data.parameters
    p.loc[(p["indicator"] == "IT_USE_ii99") & (p["parameter"] == "phi"), "value"] = 0.123
    p.loc[(p["indicator"] == "IT_MOB_OWN") & (p["parameter"] == "interval_scale")
          & (p["qualifier"] == "last value <= 10"), "value"] = 4.56
    p.loc[p["parameter"] == "backtest_on_these_sources", "value"] = 0.0
    data.weight_sources["weight_source"] = data.weight_sources["weight_source"].str.replace(
        "WPP 2019", "WPP 2031")
    income = data.aggregates["group_scheme"] == "income"
    data.aggregates.loc[income, "classification"] = "WB FY99"
    for where, text in [("page", _methodology(data)), ("notes", " ".join(method_notes(data)))]:
        text = " ".join(text.split())
        assert "Internet use 0.12" in text and "Mobile phone ownership x4.56" in text, where
        assert "from the latest yearly backtest, run on earlier sources" in text, where
        assert "321 replicates" in text, where
        assert "UN WPP 2031" in text and "2019" not in text, where
        assert "World Bank income groups (High income, Upper-middle, Lower-middle, Low " \
               "income): WB FY99" in text, where


def _sheet_name(indicator: str, sex: str, location: str) -> str:
    from catalog import indicators

    parts = {"female": "women", "male": "men", "urban": "urban", "rural": "rural"}
    return ", ".join([indicators()[indicator].label,
                      *(parts[m] for m in (sex, location) if m != "total")])


def test_aggregate_tables_match_the_database(report, db):
    out, _, _ = report
    agg = db["aggregates"]
    csv = pd.read_csv(out / "tables" / "aggregates.csv", dtype={"group_code": str})
    assert len(csv) == len(agg)
    merged = csv.merge(agg, on=KEY, suffixes=("", "_db"), validate="1:1")
    assert len(merged) == len(agg)
    for col in ["value", "lower", "upper", "population_coverage", "n_reported"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_db"], rtol=1e-12, err_msg=col)

    gy = pd.read_csv(out / "tables" / "aggregates_group_year.csv", dtype={"group_code": str})
    series = agg.groupby(["indicator", "sex", "location", "group_code"])
    assert len(gy) == series.ngroups
    for _, r in agg.sample(200, random_state=1).iterrows():
        row = gy[(gy["indicator"] == r["indicator"]) & (gy["sex"] == r["sex"])
                 & (gy["location"] == r["location"]) & (gy["group_code"] == r["group_code"])]
        assert row[str(r["year"])].iloc[0] == pytest.approx(r["value"], rel=1e-12)

    wb = load_workbook(out / "tables" / "aggregates.xlsx", read_only=False)
    assert "Notes" in wb.sheetnames and "All aggregates" in wb.sheetnames
    long = wb["All aggregates"]
    assert long.freeze_panes == "A2"
    header = [c.value for c in long[1]]
    values = pd.DataFrame(list(long.iter_rows(min_row=2, values_only=True)), columns=header)
    values["group_code"] = values["group_code"].astype(str)
    assert len(values) == len(agg)
    check = values.merge(agg, on=KEY, suffixes=("", "_db"), validate="1:1")
    np.testing.assert_allclose(check["value"].astype(float), check["value_db"], rtol=1e-12)
    np.testing.assert_allclose(check["upper"].astype(float), check["upper_db"], rtol=1e-12)

    # a group x year sheet for each series an indicator lists under `tables`
    from catalog import indicators

    series = [(code, sex, loc) for code, spec in indicators().items() for sex, loc in spec.tables]
    assert wb.sheetnames == [*(_sheet_name(*key) for key in series),
                             "All aggregates", "Derived", "Notes"]
    # one row per group, one column per year
    wide = wb["Internet use"]
    assert wide.freeze_panes == "C2"
    header = [str(c.value) for c in wide[1]]
    rows = {r[0]: r for r in wide.iter_rows(min_row=2, values_only=True)}
    latest = int(agg["year"].max())
    ref = agg[(agg["indicator"] == "IT_USE_ii99") & (agg["sex"] == "total")
              & (agg["location"] == "total")]
    assert set(rows) == set(ref["group_code"])
    for code in ["WLD", "HIC", "LIC", "202"]:
        want = ref[(ref["group_code"] == code) & (ref["year"] == latest)]["value"].iloc[0]
        assert rows[code][header.index(str(latest))] == pytest.approx(want, rel=1e-12)
    assert wide.cell(row=2, column=header.index(str(latest)) + 1).number_format == "0.0"

    derived = wb["Derived"]
    header = [c.value for c in derived[1]]
    formats = {}
    for row in derived.iter_rows(min_row=2):
        unit = row[header.index("unit")].value
        formats.setdefault(unit, row[header.index("value")].number_format)
    assert formats == {"ratio": "0.00", "persons": "#,##0"}


# ---------------------------------------------------------------------------------------------
# the page

class PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._style = False
        self.css = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._style = False

    def handle_data(self, data):
        if self._style:
            self.css += data
        else:
            self.text.append(data)


@pytest.fixture(scope="module")
def page(report) -> PageParser:
    parser = PageParser()
    parser.feed(report[1]["page"].read_text(encoding="utf-8"))
    return parser


def test_page_is_self_contained(page):
    for tag, attrs in page.tags:
        for name in ("src", "href", "srcset", "data", "action", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (tag, name, value)
            assert not (name == "src" and value and not value.startswith("data:")), (tag, value)
        assert tag not in ("script", "iframe", "object", "embed", "link"), tag
    assert "url(" not in page.css and "@import" not in page.css


def test_page_images_are_valid_with_alt_text(page, report):
    out = report[0]
    meta = sidecars(out)
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) == len(CHART_IDS)
    alts = {m["alt_text"] for m in meta.values()}
    for img in imgs:
        assert img.get("alt") and img["alt"] in alts
        mime, _, payload = img["src"].partition(";base64,")
        data = base64.b64decode(payload, validate=True)
        if mime == "data:image/svg+xml":
            root = ET.fromstring(data)
            assert root.tag.endswith("svg") and len(root) > 0
        else:
            assert mime == "data:image/png" and png_size(data)[0] > 0


def test_page_structure_tables_and_headline_figures(page, report, db):
    tags = [t for t, _ in page.tags]
    for required in ("main", "header", "section", "figure", "figcaption", "table", "caption",
                     "h1", "h2"):
        assert required in tags, required
    assert tags.count("figure") == len(CHART_IDS)
    html = report[1]["page"].read_text(encoding="utf-8")
    for table in re.findall(r"<table.*?</table>", html, flags=re.DOTALL):
        assert "<caption>" in table and '<th scope="col"' in table
    assert tags.count("table") >= 3
    text = " ".join(page.text)
    h = db["headline"]
    for _, r in h.iterrows():
        assert f"{r['value']:.1f}%" in text, r["indicator"]
    for word in ("Methodology", "Sources and licences", "CC BY 4.0", "CC BY 3.0 IGO",
                 "90% interval"):
        assert word in text, word
    # a group x year table for each indicator the catalog marks `page_table`, in its order
    from catalog import indicators

    paged = [spec for spec in indicators().values() if spec.page_table]
    assert [c for c, _ in re.findall(r'<table id="table-([^"]+)-(\d+)"', html)] \
        == [spec.code for spec in paged]
    for spec in paged:
        assert f"{spec.label} by group and year ({spec.unit_label})" in text, spec.code


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium not installed: the page is checked without rendering "
                "(apt-get install chromium)")


def test_page_renders_in_headless_chromium(report, tmp_path):
    from PIL import Image

    browser = _chromium()
    page_url = report[1]["page"].resolve().as_uri()

    def chromium(name: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / name}", *args, page_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)

    shot = tmp_path / "shot.png"
    runs = [chromium("shot", f"--screenshot={shot}", "--window-size=1280,4000"),
            chromium("dom", "--dump-dom")]                   # both at once: half the time
    (_, shot_err), (dom, dom_err) = (p.communicate(timeout=90) for p in runs)
    assert runs[0].returncode == 0, shot_err[-2000:]
    assert runs[1].returncode == 0, dom_err[-2000:]

    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (4000, 1280)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50, "blank screenshot"
    # below the headline cards the charts are drawn: many pixels far from white
    assert (image[1500:] < 200).any(axis=2).mean() > 0.005

    assert dom.count("<img") == len(CHART_IDS)
    assert dom.count("<figure") == len(CHART_IDS)
    assert "Headline figures" in dom and "<main>" in dom


# ---------------------------------------------------------------------------------------------
# Prefect artifacts

def test_publish_artifacts_in_a_flow_run(published, report, prefect_harness):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterId

    from reporting.build import (
        CHARTS_ARTIFACT_KEY,
        HEADLINE_ARTIFACT_KEY,
        headline_records,
        publish_artifacts,
    )

    out = report[0]
    records = headline_records(published)
    json.dumps(records, allow_nan=False)                       # NaN became None

    @flow(name="ictstats-artifacts-test")
    def publish_flow():
        return publish_artifacts(published, out)

    ids = publish_flow()
    assert set(ids) == {HEADLINE_ARTIFACT_KEY, CHARTS_ARTIFACT_KEY}
    with get_client(sync_client=True) as client:
        # this flow run's artifacts (the pipeline runs of other tests publish under the keys too)
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            id=ArtifactFilterId(any_=list(ids.values()))))
    by_key = {a.key: a for a in found}
    assert set(by_key) == {HEADLINE_ARTIFACT_KEY, CHARTS_ARTIFACT_KEY}
    assert by_key[HEADLINE_ARTIFACT_KEY].type == "table"
    table = by_key[HEADLINE_ARTIFACT_KEY].data
    table = json.loads(table) if isinstance(table, str) else table
    assert len(table) == len(records) == 12
    assert {r["value"] for r in table} == {r["value"] for r in records}
    markdown = by_key[CHARTS_ARTIFACT_KEY].data
    assert by_key[CHARTS_ARTIFACT_KEY].type == "markdown"
    for cid in CHART_IDS:
        assert (out / "charts" / f"{cid}.png").resolve().as_uri() in markdown
    assert (out / "report" / "index.html").resolve().as_uri() in markdown


def test_page_lists_the_largest_revisions_with_their_cause(published):
    from reporting.data import load
    from reporting.page import REVISIONS_SHOWN, _revisions

    data = load(published)
    assert "first publication" in _revisions(data)  # one run: nothing to compare with
    rows = [{"indicator": "IT_USE_ii99", "sex": "total", "location": "total",
             "group_scheme": "world", "group_code": "WLD", "year": 2024,
             "previous_value": 70.0 + k / 10, "value": 71.0, "change": 1.0 - k / 10,
             "cause": "new or revised data" if k == 0 else "re-estimation",
             "economies_with_changed_input": 1, "previous_run_id": "abcdef123456",
             "run_id": "x"} for k in range(REVISIONS_SHOWN + 3)]
    data.revisions = pd.DataFrame(rows)
    html = _revisions(data)
    assert f"{REVISIONS_SHOWN + 3} figures changed since publication abcdef12" in html
    assert html.count("<tr>") == REVISIONS_SHOWN + 1  # header row + the largest only
    assert "new or revised data" in html and "+1.0" in html
