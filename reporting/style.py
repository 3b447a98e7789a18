"""One look for every chart: the style file, the colours of breakdowns, and the labels and
colours of groups and indicators from the catalogs (catalog/groups.yaml: a group has the same
colour in every chart). Sexes and locations use Okabe & Ito's colour-blind-safe palette."""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules:   # headless unless a session already chose a backend
    matplotlib.use("Agg")

import matplotlib.style
import pandas as pd

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


def group_labels(codes: pd.Series) -> pd.Series:
    """group_label of every code of a column."""
    return codes.map({c: g.name for c, g in groups().items()}).fillna(codes)


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


_lock = threading.Lock()
_users = 0
_saved: dict = {}


@contextmanager
def chart_style():
    """The shared style for the duration of a block; the settings before it are restored
    after it. Blocks may overlap in threads (the flow draws charts side by side): the first
    block applies the style and the last restores the settings, so that no block finds the
    style undone by another (matplotlib's style.context would restore them per block)."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = dict(matplotlib.rcParams.copy())
            del _saved["backend"]    # as rc_context does: restoring it would reset it
            matplotlib.style.use(STYLE_FILE)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                dict.update(matplotlib.rcParams, _saved)
