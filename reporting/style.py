"""One look for every chart: the style file, the colours of groups and breakdowns, labels.

Colours come from colour-blind-safe palettes (Okabe & Ito 2008 for income groups, UN groups,
sexes and locations; Paul Tol's "muted" scheme for the eight SDG regions). A group has the
same colour in every chart.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules:   # headless unless a session already chose a backend
    matplotlib.use("Agg")

import matplotlib.pyplot as plt

STYLE_FILE = Path(__file__).with_name("style.mplstyle")

WIDTH_IN = 6.5        # a full report text column
DPI = 250             # PNG ~1625 px wide

GROUP_COLOURS = {
    # world and World Bank income groups (Okabe-Ito)
    "WLD": "#222222",
    "HIC": "#0072B2",
    "UMC": "#56B4E9",
    "LMC": "#E69F00",
    "LIC": "#D55E00",
    # UN groups (Okabe-Ito)
    "LDC": "#CC79A7",
    "LLDC": "#009E73",
    "SIDS": "#8C6D31",
    # SDG regions (Tol muted)
    "202": "#CC6677",   # Sub-Saharan Africa
    "419": "#DDCC77",   # Latin America and the Caribbean
    "513": "#332288",   # Europe and Northern America
    "753": "#117733",   # Eastern and South-Eastern Asia
    "62": "#88CCEE",    # Central and Southern Asia
    "747": "#882255",   # Northern Africa and Western Asia
    "543": "#44AA99",   # Oceania excl. Australia and New Zealand
    "53": "#999933",    # Australia and New Zealand
}

SEX_COLOURS = {"female": "#D55E00", "male": "#0072B2"}
LOCATION_COLOURS = {"urban": "#332288", "rural": "#117733"}
NOWCAST_COLOUR = "#666666"

GROUP_LABELS = {
    "WLD": "World",
    "HIC": "High income",
    "UMC": "Upper-middle income",
    "LMC": "Lower-middle income",
    "LIC": "Low income",
    "LDC": "Least developed countries",
    "LLDC": "Landlocked developing countries",
    "SIDS": "Small island developing States",
    "202": "Sub-Saharan Africa",
    "419": "Latin America and the Caribbean",
    "513": "Europe and Northern America",
    "753": "Eastern and South-Eastern Asia",
    "62": "Central and Southern Asia",
    "747": "Northern Africa and Western Asia",
    "543": "Oceania (excl. Australia and New Zealand)",
    "53": "Australia and New Zealand",
}

# Short names for labels at the end of lines (the chart title names the grouping).
SHORT_LABELS = {
    "WLD": "World",
    "HIC": "High income",
    "UMC": "Upper-middle",
    "LMC": "Lower-middle",
    "LIC": "Low income",
    "LDC": "LDCs",
    "LLDC": "LLDCs",
    "SIDS": "SIDS",
}

INCOME_ORDER = ["HIC", "UMC", "LMC", "LIC"]
SDG_REGIONS = ["202", "419", "513", "753", "62", "747", "543", "53"]

INDICATOR_LABELS = {
    "IT_USE_ii99": "Internet use",
    "IT_MOB_OWN": "Mobile phone ownership",
    "IT_MOB_4GNTWK": "4G network coverage",
    "IT_MOB_3GNTWK": "3G network coverage",
    "IT_MOB_2GNTWK": "2G network coverage",
}

INDICATOR_UNITS = {
    "IT_USE_ii99": "% of population",
    "IT_MOB_OWN": "% of population aged 10+",
    "IT_MOB_4GNTWK": "% of population",
    "IT_MOB_3GNTWK": "% of population",
    "IT_MOB_2GNTWK": "% of population",
}

SEX_LABELS = {"female": "Women", "male": "Men", "total": ""}
LOCATION_LABELS = {"urban": "Urban", "rural": "Rural", "total": ""}


def group_colour(code: str) -> str:
    return GROUP_COLOURS.get(code, "#666666")


def group_label(code: str) -> str:
    return GROUP_LABELS.get(code, code)


def short_label(code: str) -> str:
    return SHORT_LABELS.get(code, group_label(code))


def series_label(indicator: str, sex: str = "total", location: str = "total") -> str:
    """'Internet use, women' / 'Internet use, urban' / 'Internet use'."""
    label = INDICATOR_LABELS.get(indicator, indicator)
    parts = [SEX_LABELS.get(sex, sex).lower(), LOCATION_LABELS.get(location, location).lower()]
    parts = [p for p in parts if p]
    return label + (", " + ", ".join(parts) if parts else "")


@contextmanager
def chart_style():
    """The shared style, applied for the duration of a block (leaves global state alone)."""
    with plt.style.context(STYLE_FILE):
        yield
