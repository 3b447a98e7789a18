"""Facts the report states about its method and inputs, each read from the published data
(the `runs` parameters, `weights`, `aggregates`, `usage`) or from the code that applies it,
for the page and the workbooks' Notes sheets to print the same."""
from __future__ import annotations

import re

import pandas as pd

from catalog import groups, indicators, schemes, urban_share_indicator
from reporting.data import ReportData

PARITY = (0.98, 1.02)   # a gender parity score in this range counts as parity (ITU's rule)


def estimation(data: ReportData) -> dict:
    """The estimation settings of the run (last_year, seed, replicates, calibration)."""
    return data.run["parameters"]["estimation"]


def replicates(data: ReportData) -> int:
    return int(estimation(data)["replicates"])


def economies(data: ReportData) -> int:
    """How many economies the world aggregate is taken over."""
    a = data.aggregates
    world = a[a["group_scheme"].isin(_world_schemes())]
    return int(world["n_economies"].max()) if len(world) else 0


def _world_schemes() -> set[str]:
    return {g.scheme for g in groups().values() if g.member == "all"}


def _parameter(data: ReportData, name: str) -> dict[str, float]:
    """{indicator: value} of one estimation parameter (estimation_parameters), catalog order."""
    p = data.parameters
    if p is None or p.empty:
        return {}
    rows = p[(p["parameter"] == name) & (p["qualifier"].fillna("") == "")]
    values = dict(zip(rows["indicator"], rows["value"].astype(float)))
    return {c: values[c] for c in indicators() if c in values}


def _per_indicator(values: dict[str, float], fmt: str) -> str:
    return "; ".join(f"{indicators()[c].label} {format(v, fmt)}" for c, v in values.items())


def nowcast_rule(data: ReportData) -> str:
    """How a series goes on after its last value, with the damping fitted per indicator."""
    damping = _per_indicator(_parameter(data, "phi"), ".2f")
    return ("the economy's damped local linear trend on the logit scale, its slope pulled "
            "towards its income group's median trend (damping per year, fitted by maximum "
            f"likelihood: {damping or 'not fitted'})")


def calibration(data: ReportData) -> str:
    """The interval scales (per band of the last value) and the common share of errors
    chosen on the backtest's tuning cut-offs, per indicator."""
    p = data.parameters
    rows = (p[p["parameter"] == "interval_scale"] if p is not None
            else pd.DataFrame(columns=["indicator", "qualifier", "value"]))
    model, share = _parameter(data, "model_interval_scale"), _parameter(data, "common_share")
    parts = []
    for code in indicators():
        bands = rows[rows["indicator"] == code]
        if bands.empty:
            continue
        # a publication from before the bands has one scale without a qualifier
        scales = ", ".join(f"x{r.value:.2f} ({r.qualifier})" if _named(r.qualifier)
                           else f"x{r.value:.2f}" for r in bands.itertuples())
        parts.append(f"{indicators()[code].label} {scales}, never-observed economies "
                     f"x{model.get(code, 1.0):.2f}, common share {share.get(code, 0.0):.2f}")
    text = "; ".join(parts) or "none"
    if 0.0 in _parameter(data, "backtest_on_these_sources").values():
        text += " (from the latest yearly backtest, run on earlier sources)"
    return text


def _named(qualifier) -> bool:
    return isinstance(qualifier, str) and qualifier != ""


def weight_sources(data: ReportData) -> str:
    """'UN WPP 2019 (201 economies, 2000–2025); World Bank (23 economies, 2000–2024); …'."""
    w = data.weight_sources.sort_values(["economies", "first_year"], ascending=[False, True])
    return "; ".join(
        f"{r.weight_source} ({r.economies} economies, "
        + (f"{r.first_year}–{r.last_year})" if r.first_year != r.last_year else f"{r.first_year})")
        for r in w.itertuples())


def urban_share_source(data: ReportData) -> str:
    """The publisher and releases of the urban share the urban and rural weights use."""
    u = data.usage[data.usage["indicator"] == urban_share_indicator()]
    if u.empty:
        return "no urban share"
    releases = ", ".join(sorted(set(u["release"].dropna())))
    return f"{u['publisher'].iloc[0]} [{releases}]"


def _vintage_key(label: str) -> tuple[int, str]:
    m = re.search(r"(\d+)", label)
    return (int(m.group(1)) if m else 10**6, label)


def group_schemes(data: ReportData) -> list[str]:
    """One phrase per scheme of groups aggregated (world aside): its groups and the
    classification they follow, year by year where it changes."""
    a = data.aggregates
    out = []
    for scheme, spec in schemes().items():
        rows = a[a["group_scheme"] == scheme]
        if rows.empty or scheme in _world_schemes():
            continue
        present = set(rows["group_code"].unique())
        codes = [c for c in groups() if c in present]
        names = (", ".join(groups()[c].short for c in codes) if len(codes) <= 4
                 else f"{len(codes)} groups")
        pairs = rows[["year", "classification"]].drop_duplicates()
        per_year = (pairs.groupby("year")["classification"]
                    .agg(lambda s: sorted(s, key=_vintage_key)).sort_index())
        if per_year.map(tuple).nunique() == 1:
            out.append(f"{spec['name']} ({names}): {', '.join(per_year.iloc[0])}")
        else:
            out.append(f"{spec['name']} ({names}) of each data year: {per_year.iloc[0][0]} for "
                       f"{per_year.index[0]} to {per_year.iloc[-1][-1]} for "
                       f"{per_year.index[-1]}")
    return out


def nowcast_year(data: ReportData) -> int | None:
    """The latest year if no figure of it rests on reported data, else None."""
    a = data.aggregates
    end = int(a["year"].max())
    return end if (a.loc[a["year"] == end, "population_coverage"].fillna(0) == 0).all() else None


def paragraphs(headline: pd.DataFrame) -> str:
    """The outcome paragraphs the headline figures come from: '20–22'."""
    p = sorted(int(x) for x in headline["paragraph"].unique())
    return "" if not p else str(p[0]) if p[0] == p[-1] else f"{p[0]}–{p[-1]}"
