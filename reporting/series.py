"""What a chart plots and says: the `Chart` record, the rows of one series taken from the
published tables (marked as estimated or nowcast), and the phrases captions are made of."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure

from catalog import Indicator, groups
from reporting import style
from reporting.data import ReportData

FIRST_YEAR = 2005
KEY = ["table", "indicator", "measure", "sex", "location", "group_scheme", "group_code"]
PLOTTED_COLUMNS = ["table", "indicator", "measure", "sex", "location", "group_scheme",
                   "group_code", "group_name", "year", "value", "lower", "upper", "unit",
                   "population_coverage", "estimated", "nowcast"]


@dataclass
class Chart:
    id: str
    title: str
    caption: str
    alt_text: str
    source_note: str
    data: pd.DataFrame                       # the rows plotted, PLOTTED_COLUMNS
    figure: Figure | None = field(default=None, repr=False)

    def sidecar(self) -> dict:
        records = json.loads(self.data.to_json(orient="records", double_precision=15))
        return {"id": self.id, "title": self.title, "caption": self.caption,
                "alt_text": self.alt_text, "source_note": self.source_note,
                "files": {"svg": f"{self.id}.svg", "png": f"{self.id}.png",
                          "alt_text": f"{self.id}.alt.txt"},
                "data": records}

    @classmethod
    def from_sidecar(cls, meta: dict) -> Chart:
        """The chart a sidecar describes (without its figure)."""
        return cls(id=meta["id"], title=meta["title"], caption=meta["caption"],
                   alt_text=meta["alt_text"], source_note=meta["source_note"],
                   data=pd.DataFrame.from_records(meta["data"]))


# ---------------------------------------------------------------------------------------------
# rows

def world_code() -> str:
    """The group every economy belongs to."""
    return next(code for code, g in groups().items() if g.member == "all")


def mark_estimates(frame: pd.DataFrame) -> pd.DataFrame:
    """`estimated`: no reported data that year (coverage 0); `nowcast`: after the last year
    of the series with reported data (every year if no year has any)."""
    frame = frame.copy()
    cov = frame["population_coverage"].fillna(0)
    frame["estimated"] = cov <= 0
    reported_year = frame["year"].where(cov > 0)
    last = reported_year.groupby([frame[k].fillna("") for k in KEY]).transform("max")
    frame["nowcast"] = last.isna() | (frame["year"] > last)
    return frame


def _plotted(rows: pd.DataFrame) -> pd.DataFrame:
    rows = mark_estimates(rows)
    rows["group_name"] = style.group_labels(rows["group_code"])
    return rows[PLOTTED_COLUMNS].sort_values(["group_code", "year"]).reset_index(drop=True)


def aggregate_rows(data: ReportData, indicator: str, groups: list[str], sex: str = "total",
                   location: str = "total", first_year: int = FIRST_YEAR) -> pd.DataFrame:
    """Rows of `aggregates` for one series and some groups, as plotted."""
    a = data.aggregates
    rows = a[(a["indicator"] == indicator) & (a["sex"] == sex) & (a["location"] == location)
             & a["group_code"].isin(groups) & (a["year"] >= first_year)]
    return _plotted(rows.assign(table="aggregates", measure=None))


def derived_rows(data: ReportData, indicator: str, measure: str, groups: list[str],
                 first_year: int = FIRST_YEAR) -> pd.DataFrame:
    """Rows of `aggregates_derived` (e.g. the gender parity score), as plotted."""
    d = data.derived
    rows = d[(d["indicator"] == indicator) & (d["measure"] == measure)
             & d["group_code"].isin(groups) & (d["year"] >= first_year)]
    return _plotted(rows.assign(table="aggregates_derived"))


def last_year(data: ReportData) -> int:
    return int(data.aggregates["year"].max())


def at(frame: pd.DataFrame, year: int, **where) -> pd.Series:
    rows = frame[frame["year"] == year]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    if len(rows) != 1:
        raise LookupError(f"expected one row for {year} {where}, found {len(rows)}")
    return rows.iloc[0]


# ---------------------------------------------------------------------------------------------
# phrases

def value(indicator: Indicator, v: float, digits: int = 1) -> str:
    """A value as printed: 74.5% for a percentage, 12.3 otherwise."""
    return f"{v:.{digits}f}%" if indicator.unit == "percent" else f"{v:,.{digits}f}"


def interval(indicator: Indicator, row: pd.Series, digits: int = 1) -> str:
    unit = "%" if indicator.unit == "percent" else ""
    return f"{row['lower']:.{digits}f}–{row['upper']:.{digits}f}{unit}"


def points(indicator: Indicator) -> str:
    """The unit of a difference of two values."""
    return "percentage points" if indicator.unit == "percent" else indicator.unit_label


def year_span(years) -> str:
    years = sorted(int(y) for y in years)
    if not years:
        return ""
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def signed(v: float, digits: int = 1) -> str:
    """+0.5 / −1.1 (a true minus sign)."""
    return f"{v:+.{digits}f}".replace("-", "\u2212")


def joined(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def coverage_phrase(rows: pd.DataFrame, population: str = "population") -> str:
    """'the last year with reported data is 2024 (97% of the population covered)'."""
    reported = rows[~rows["estimated"]]
    if reported.empty:
        return "no year has reported data"
    last = reported.sort_values("year").iloc[-1]
    return (f"the last year with reported data is {int(last['year'])} "
            f"({last['population_coverage'] * 100:.0f}% of the {population} covered)")


def nowcast_sentence(rows: pd.DataFrame) -> str:
    years = rows.loc[rows["nowcast"], "year"].unique()
    if not len(years):
        return ""
    one = len(years) == 1
    return (f"{year_span(years)} {'is a nowcast' if one else 'are nowcasts'} (dashed): no "
            f"economy has reported data for {'it' if one else 'them'} yet")


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "." if text else ""
