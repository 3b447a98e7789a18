"""One look for every chart: the style file, the colours of breakdowns, and the labels and
colours of groups and indicators from the catalogs (catalog/groups.yaml: a group has the same
colour in every chart). Sexes and locations use Okabe & Ito's colour-blind-safe palette."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules:   # headless unless a session already chose a backend
    matplotlib.use("Agg")

import matplotlib.pyplot as plt

from catalog import BREAKDOWN_LABELS, groups, indicators
from catalog import series_label as catalog_series_label

STYLE_FILE = Path(__file__).with_name("style.mplstyle")

WIDTH_IN = 6.5        # a full report text column
DPI = 250             # PNG ~1625 px wide

SEX_COLOURS = {"female": "#D55E00", "male": "#0072B2"}
LOCATION_COLOURS = {"urban": "#332288", "rural": "#117733"}
SEX_LABELS = {m: BREAKDOWN_LABELS[m] for m in ("female", "male", "total")}
LOCATION_LABELS = {m: BREAKDOWN_LABELS[m] for m in ("urban", "rural", "total")}


def group_colour(code: str) -> str:
    group = groups().get(code)
    return group.colour if group else "#666666"


def group_label(code: str) -> str:
    group = groups().get(code)
    return group.name if group else code


def short_label(code: str) -> str:
    group = groups().get(code)
    return group.short if group else code


def indicator_label(code: str) -> str:
    spec = indicators().get(code)
    return spec.label if spec else code


def series_label(indicator: str, sex: str = "total", location: str = "total") -> str:
    """'Internet use, women' / 'Internet use, urban' / 'Internet use' (catalog.series_label:
    the headline table's figure labels are made the same way)."""
    return catalog_series_label(indicator, sex, location)


@contextmanager
def chart_style():
    """The shared style, applied for the duration of a block (leaves global state alone)."""
    with plt.style.context(STYLE_FILE):
        yield
