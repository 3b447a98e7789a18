"""report/index.html: one self-contained page (no scripts, no external requests) with the
headline figures, the charts, the tables, and a short methodology and sources section."""
from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path

import pandas as pd

from catalog import Indicator, groups, indicators, sources
from reporting import facts, style
from reporting.attribution import all_publishers
from reporting.charts import Chart
from reporting.data import ReportData
from reporting.series import signed
from reporting.tables import headline_frame

CSS = """
:root { --ink: #1f1f1f; --muted: #555; --rule: #d0d7de; --accent: #0b4f8a; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink);
       line-height: 1.5; font-size: 16px; background: #fff; }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 2rem; border-bottom: 3px solid var(--accent); }
h1 { font-size: 1.9rem; margin: 0 0 .4rem; line-height: 1.2; }
h2 { font-size: 1.4rem; margin: 2.5rem 0 .8rem; padding-bottom: .3rem;
     border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { font-size: 1.05rem; color: var(--muted); margin-top: 0; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1.4rem; }
nav a, a { color: var(--accent); }
.meta { font-size: .85rem; color: var(--muted); }
.cards { list-style: none; padding: 0; display: grid; gap: .9rem;
         grid-template-columns: repeat(auto-fill, minmax(26rem, 1fr)); }
.card { border: 1px solid var(--rule); border-left: 5px solid var(--accent); border-radius: 4px;
        padding: .8rem 1rem; background: #fff; break-inside: avoid; }
.card h3 { margin: 0 0 .3rem; font-size: .95rem; }
.card .value { font-size: 2rem; font-weight: bold; margin: 0; line-height: 1.1; }
.card dl { display: grid; grid-template-columns: 11rem 1fr; gap: .1rem .7rem; margin: .5rem 0;
           font-size: .85rem; }
.card dt { color: var(--muted); }
.card dd { margin: 0; }
.card .note { font-size: .8rem; color: var(--muted); margin: .4rem 0 0; }
figure { margin: 1.5rem 0 2.5rem; break-inside: avoid; }
figure img { display: block; width: 100%; max-width: 50rem; height: auto;
             border: 1px solid var(--rule); }
figcaption { font-size: .92rem; margin-top: .6rem; max-width: 50rem; }
figcaption .source { display: block; font-size: .78rem; color: var(--muted); margin-top: .4rem; }
figcaption .files { display: block; font-size: .78rem; color: var(--muted); }
.table-wrap { overflow-x: auto; margin: 1rem 0 2rem; }
table { border-collapse: collapse; font-size: .85rem; min-width: 100%; }
caption { text-align: left; font-weight: bold; padding: .3rem 0 .6rem; font-size: .95rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .35rem .55rem; vertical-align: top; }
thead th { background: var(--bg); text-align: left; border-bottom: 2px solid #9aa5b1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody th { text-align: left; font-weight: normal; min-width: 12rem; }
footer { margin-top: 3rem; padding: 1rem 1.25rem 3rem; font-size: .8rem; color: var(--muted);
         border-top: 1px solid var(--rule); }
@media print { body { font-size: 11pt; } nav { display: none; } h2 { break-after: avoid; } }
"""

def esc(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _num(v, digits: int = 1, suffix: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{digits}f}{suffix}"


def data_uri(path: Path) -> str:
    mime = {"svg": "image/svg+xml", "png": "image/png"}[path.suffix.lstrip(".")]
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# ---------------------------------------------------------------------------------------------
# sections

def _headline_cards(h: pd.DataFrame) -> str:
    cards = []
    for _, r in h.iterrows():
        quoted = (f"{esc(r['quoted_relation'])} {_num(r['quoted_value'], 0, '%')}".strip()
                  if not pd.isna(r["quoted_value"]) else "–")
        diff = "–" if pd.isna(r["difference"]) else signed(r["difference"]) + " pp"
        note = f'<p class="note">{esc(r["note"])}</p>' if r["note"] else ""
        cards.append(f"""
<li class="card"><article aria-label="{esc(r['figure'])}">
  <h3>{esc(r['figure'])}</h3>
  <p class="value">{_num(r['value'], 1, '%')}</p>
  <dl>
    <dt>90% interval</dt><dd>{_num(r['lower'])}–{_num(r['upper'], 1, '%')}</dd>
    <dt>Reported-data coverage</dt><dd>{_num(r['population_coverage'] * 100, 0, '%')} of the population</dd>
    <dt>Quoted (para. {int(r['paragraph'])})</dt><dd>{quoted} <span class="meta">({esc(r['quoted_source'])})</span></dd>
    <dt>Difference</dt><dd>{diff}</dd>
  </dl>
  {note}
</article></li>""")
    return '<ul class="cards">' + "".join(cards) + "\n</ul>"


def _figure(chart: Chart, number: int, svg: Path) -> str:
    return f"""
<figure id="fig-{esc(chart.id)}">
  <img src="{data_uri(svg)}" alt="{esc(chart.alt_text)}" width="650" height="{_img_height(svg)}">
  <figcaption><strong>Figure {number}. {esc(chart.title)}.</strong> {esc(chart.caption)}
    <span class="source">{esc(chart.source_note)}</span>
    <span class="files">Files: charts/{esc(chart.id)}.svg (print), charts/{esc(chart.id)}.png (screen), charts/{esc(chart.id)}.alt.txt (alt text)</span>
  </figcaption>
</figure>"""


def _img_height(svg: Path) -> int:
    """The height of the image shown 650 px wide, from the size the SVG file declares."""
    head = svg.read_text(encoding="utf-8")[:2000]
    size = re.search(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', head)
    if size is None:
        return 440
    width, height = map(float, size.groups())
    return round(650 * height / width)


def _headline_table(h: pd.DataFrame) -> str:
    head = ("<tr><th scope=\"col\">Figure</th><th scope=\"col\">Para.</th>"
            "<th scope=\"col\" class=\"num\">Value</th><th scope=\"col\" class=\"num\">90% "
            "interval</th><th scope=\"col\" class=\"num\">Coverage</th><th scope=\"col\" "
            "class=\"num\">Quoted</th><th scope=\"col\" class=\"num\">Difference (pp)</th>"
            "<th scope=\"col\">Income classification</th></tr>")
    body = []
    for _, r in h.iterrows():
        quoted = (f"{esc(r['quoted_relation'])} {_num(r['quoted_value'], 0, '%')}".strip()
                  if not pd.isna(r["quoted_value"]) else "–")
        diff = "–" if pd.isna(r["difference"]) else signed(r["difference"])
        body.append(
            f"<tr><th scope=\"row\">{esc(r['figure'])}</th><td>{int(r['paragraph'])}</td>"
            f"<td class=\"num\">{_num(r['value'], 1, '%')}</td>"
            f"<td class=\"num\">{_num(r['lower'])}–{_num(r['upper'], 1, '%')}</td>"
            f"<td class=\"num\">{_num(r['population_coverage'] * 100, 0, '%')}</td>"
            f"<td class=\"num\">{quoted}</td>"
            f"<td class=\"num\">{diff}</td>"
            f"<td>{esc(r['classification'])}</td></tr>")
    return (f"<div class=\"table-wrap\"><table id=\"table-headline\">"
            f"<caption>Table 1. WSIS+20 headline figures (paragraphs {facts.paragraphs(h)}): "
            "ictstats value, 90% interval and reported-data coverage beside the quoted value; "
            "the notes are with the headline figures above. Files: tables/headline.csv, "
            "tables/headline.xlsx.</caption>"
            f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div>")


def _table_years(present: set[int]) -> list[int]:
    """The first year, every fifth, and the last two (last reported, latest)."""
    if not present:
        return []
    first, last = min(present), max(present)
    return sorted(y for y in present if y in (first, last - 1, last) or y % 5 == 0)


def _group_year_table(data: ReportData, number: int, indicator: Indicator) -> str:
    """The total of an indicator by group (groups.yaml order) and year."""
    a = data.aggregates
    a = a[(a["indicator"] == indicator.code) & (a["sex"] == "total")
          & (a["location"] == "total")]
    years = _table_years(set(a["year"]))
    head = "<tr><th scope=\"col\">Group</th>" + "".join(
        f"<th scope=\"col\" class=\"num\">{y}</th>" for y in years) + "</tr>"
    body = []
    for code in groups():
        g = a[a["group_code"] == code].set_index("year")
        if g.empty:
            continue
        cells = []
        for y in years:
            if y in g.index:
                r = g.loc[y]
                mark = "*" if r["population_coverage"] == 0 else ""
                cells.append(f"<td class=\"num\">{r['value']:.1f}{mark}</td>")
            else:
                cells.append("<td class=\"num\">–</td>")
        body.append(f"<tr><th scope=\"row\">{esc(style.group_label(code))}</th>"
                    + "".join(cells) + "</tr>")
    return (f"<div class=\"table-wrap\"><table id=\"table-{esc(indicator.code)}-{number}\">"
            f"<caption>Table {number}. {esc(indicator.label)} by group and year "
            f"({esc(indicator.unit_label)}). * no reported data that year (estimate only). "
            f"Intervals and all years: tables/aggregates.xlsx."
            f"</caption><thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div>")


def _sources_table(data: ReportData) -> str:
    rows = "".join(
        f"<tr><th scope=\"row\">{esc(p['publisher'])}</th><td>{esc(p['licence'])}</td>"
        f"<td>{esc(p['releases'])}</td><td class=\"num\">{int(p['files'])}</td></tr>"
        for _, p in all_publishers(data).iterrows())
    return ("<div class=\"table-wrap\"><table id=\"table-sources\"><caption>Sources read by "
            "this publication, with their licences and releases.</caption><thead><tr>"
            "<th scope=\"col\">Publisher</th><th scope=\"col\">Licence</th><th scope=\"col\">"
            "Releases</th><th scope=\"col\" class=\"num\">Files</th></tr></thead><tbody>"
            f"{rows}</tbody></table></div>")


def _methodology(data: ReportData) -> str:
    run = data.run
    nowcast_year = facts.nowcast_year(data)
    all_nowcast = (f" — all {nowcast_year} figures are nowcasts, as no economy has reported "
                   "data for that year yet" if nowcast_year else "")
    parity = "–".join(f"{p:.2f}" for p in facts.PARITY)
    return f"""
<p>Every figure is a population-weighted mean over the {facts.economies(data)} economies with a
population weight, computed by ictstats from the publishers' country data. Every value of every
release read is a measurement of the economy's true series, with an error that depends on its
kind (reported national data, a publisher's estimate, a value no source flags); an older release's
level difference to the newest is estimated where releases overlap, so no series jumps where two
releases meet. Every value is validated and rejected values are kept, with the reason, in the
<code>quarantine</code> table of <code>ict.duckdb</code>.</p>
<ul>
  <li><strong>Missing years and economies</strong> are estimated on the logit scale of the per
  cent: between and after an economy's values from {esc(facts.nowcast_rule(data))}; a reported
  value stays as published. Economies never observed: a regression on income group, SDG region,
  year and a related indicator, whose year effects follow the observed economies' nowcasts.
  Female/male and urban/rural values are the economy's gap to its total in the same release,
  raked so that the members average to the total.</li>
  <li><strong>Weights</strong>: {esc(facts.weight_sources(data))}; urban and rural
  populations from the urban share of {esc(facts.urban_share_source(data))}.</li>
  <li><strong>90% intervals</strong> are the 5th–95th percentiles of {facts.replicates(data)}
  replicates (seed {esc(run.get('seed'))}), each a draw of every series from the model's
  posterior (measurement errors included), raked like the points. Their width was calibrated on
  a pseudo-real-time backtest (cut-offs up to 2017), with part of the errors common to all
  economies in a draw: {esc(facts.calibration(data))}.</li>
  <li><strong>Coverage</strong> is the share of the group's population living in economies
  that reported data that year. No figure is suppressed for low coverage; it is published
  beside every figure. A coverage of 0% means the figure is an estimate only{all_nowcast}.</li>
  <li><strong>Groups</strong>: {esc("; ".join(facts.group_schemes(data)))}.</li>
  <li><strong>Gender parity score</strong>: women's value divided by men's ({parity} is
  parity).</li>
</ul>
<p><strong>How these figures differ from ITU's.</strong> ITU estimates missing countries with its
own models and operator data, which are not published; ictstats uses the published country
series only, with the open models above. These are ictstats estimates, not official ITU or
United Nations figures. Full methodology, backtest and limits: the README of ictstats.</p>
"""


def _attributions(data: ReportData) -> str:
    """How to cite each source read (catalog/sources.yaml), data before classifications."""
    known = {s.id: s for s in sources()}
    read = [known[i] for i in dict.fromkeys(data.sources["source_id"]) if i in known]
    ordered = sorted(read, key=lambda s: s.is_classification)
    items = "".join(f"<li>{esc(a)}</li>" for a in dict.fromkeys(s.attribution for s in ordered))
    return f"<ul>{items}</ul>"


REVISIONS_SHOWN = 12


def _revisions(data: ReportData) -> str:
    """The largest revisions since the previous publication, with their cause."""
    revisions = data.revisions
    if revisions is None or revisions.empty:
        text = ("No figure changed since the previous publication." if _had_previous(data)
                else "This is the first publication in this output directory: there is "
                "nothing to compare with.")
        return f"<p>{text}</p>"
    shown = revisions.head(REVISIONS_SHOWN)
    rows = "".join(
        f"<tr><th scope=\"row\">{esc(style.series_label(r.indicator, r.sex, r.location))}</th>"
        f"<td>{esc(style.group_label(r.group_code))}</td><td class=\"num\">{r.year}</td>"
        f"<td class=\"num\">{_num(r.previous_value)}</td><td class=\"num\">{_num(r.value)}</td>"
        f"<td class=\"num\">{signed(r.change) if pd.notna(r.change) else ''}</td>"
        f"<td>{esc(r.cause)}</td></tr>" for r in shown.itertuples())
    causes = revisions["cause"].value_counts()
    summary = "; ".join(f"{n} {esc(c)}" for c, n in causes.items())
    return (f"<p>{len(revisions)} figures changed since publication "
            f"{esc(str(revisions['previous_run_id'].iloc[0])[:8])} ({summary}). The largest:</p>"
            "<div class=\"table-wrap\"><table id=\"table-revisions\"><caption>Largest "
            "revisions since the previous publication (percentage points for per cent "
            "series).</caption><thead><tr><th scope=\"col\">Figure</th><th scope=\"col\">Group"
            "</th><th scope=\"col\" class=\"num\">Year</th><th scope=\"col\" class=\"num\">"
            "Previous</th><th scope=\"col\" class=\"num\">Now</th><th scope=\"col\" "
            "class=\"num\">Change</th><th scope=\"col\">Cause</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")


def _had_previous(data: ReportData) -> bool:
    runs = data.runs
    return "status" in runs and int((runs["status"] == "published").sum()) > 1


def write_page(data: ReportData, charts: list[Chart], chart_paths: dict[str, dict],
               out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    run = data.run
    h = headline_frame(data)
    end = int(data.aggregates["year"].max())
    figures = "".join(_figure(c, i, chart_paths[c.id]["svg"])
                      for i, c in enumerate(charts, start=1))
    toc = "".join(f'<li><a href="#fig-{esc(c.id)}">{esc(c.title)}</a></li>' for c in charts)
    paged = [spec for spec in indicators().values() if spec.page_table]
    tables = _headline_table(h) + "".join(_group_year_table(data, n, spec)
                                          for n, spec in enumerate(paged, start=2))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connectivity figures for the WSIS+20 review — ictstats</title>
<style>{CSS}</style>
</head>
<body>
<header>
  <h1>Connectivity figures for the WSIS+20 review</h1>
  <p class="lead">Headline connectivity figures of the WSIS+20 outcome document (paragraphs
  {facts.paragraphs(h)}), recomputed openly from official ITU data with intervals and data
  coverage, for the Partnership on Measuring ICT for Development.</p>
  <p class="meta">ictstats publication {esc(run.get('run_id'))} · code version
  {esc(run.get('code_version'))} · published {esc(str(run.get('finished_at'))[:16])} UTC ·
  latest data year {end}</p>
  <nav aria-label="Contents"><ul>
    <li><a href="#headline">Headline figures</a></li>
    <li><a href="#charts">Charts</a></li>
    <li><a href="#tables">Tables</a></li>
    <li><a href="#revisions">Revisions</a></li>
    <li><a href="#methodology">Methodology</a></li>
    <li><a href="#sources">Sources and licences</a></li>
  </ul></nav>
</header>
<main>
<section id="headline" aria-labelledby="headline-title">
  <h2 id="headline-title">Headline figures</h2>
  <p>Each figure with its 90% interval, the share of the population living in economies with
  reported data for that year, and the value quoted in the outcome document. A coverage of 0%
  marks a nowcast.</p>
  {_headline_cards(h)}
</section>
<section id="charts" aria-labelledby="charts-title">
  <h2 id="charts-title">Charts</h2>
  <p>Filled markers: years with reported data; hollow markers: no reported data that year;
  dashed lines: nowcasts after the last reported year; shaded bands: 90% intervals. Each chart
  is also published as SVG and PNG with its alt text and a JSON file of the plotted values.</p>
  <ul>{toc}</ul>
  {figures}
</section>
<section id="tables" aria-labelledby="tables-title">
  <h2 id="tables-title">Tables</h2>
  <p>The complete tables, with number formats and a notes sheet, are in
  <code>tables/headline.xlsx</code> and <code>tables/aggregates.xlsx</code> (CSV beside them).</p>
  {tables}
</section>
<section id="revisions" aria-labelledby="revisions-title">
  <h2 id="revisions-title">Revisions since the previous publication</h2>
  {_revisions(data)}
</section>
<section id="methodology" aria-labelledby="methodology-title">
  <h2 id="methodology-title">Methodology</h2>
  {_methodology(data)}
</section>
<section id="sources" aria-labelledby="sources-title">
  <h2 id="sources-title">Sources and licences</h2>
  <p>Data and classifications, as their publishers ask them to be cited:</p>
  {_attributions(data)}
  <p>Cite the original publishers and this publication; the figures are ictstats calculations
  on their data.</p>
  {_sources_table(data)}
</section>
</main>
<footer>
  <p>Generated by ictstats from <code>ict.duckdb</code> (run {esc(run.get('run_id'))}). This page
  is self-contained: it loads nothing from the network.</p>
</footer>
</body>
</html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
