"""The catalogs: what an indicator, a group and a source are, read by every stage.

- `indicators.yaml`: code, title, label, unit, weight population, breakdowns, estimation
  order and predictor, charts and tables, SDG reference;
- `groups.yaml`: group code, scheme, name, short name, colour and order, and how membership
  is decided;
- `sources.yaml`: file patterns, adapter, publisher, licence, attribution, release and the
  official downloads;
- `wsis20_headline_figures.csv`: the figures WSIS+20 paragraphs 20-22 quote.

`ICTSTATS_CATALOG_DIR` points the whole pipeline at another copy of this folder (a test adds an
indicator that way).
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
ENV_CATALOG_DIR = "ICTSTATS_CATALOG_DIR"

# Plausible range of a value, by unit: (lowest, highest), both included; None means unbounded.
# Every value must also be finite. The upper bounds are far above any real value, so that only
# a unit or transcription error reaches them: per 100 inhabitants 1,000 (subscriptions reach
# about 200); persons 2 billion (China and India, about 1.4 billion each); GDP per capita
# 1 million US dollars (the highest ever recorded, Monaco's, is about 240,000); CO2 emissions
# 200 tonnes per capita (the highest national figure, Qatar's in the 1960s, is below 80).
UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "percent": (0.0, 100.0),
    "per_100": (0.0, 1000.0),
    "persons": (0.0, 2.0e9),
    "usd": (0.0, 1.0e6),
    "tonnes_per_capita": (0.0, 200.0),
}
# Units whose values must be above zero: an economy's population is never 0.
POSITIVE_UNITS = frozenset({"persons"})


def catalog_dir() -> Path:
    return _directory(_key())


def _key() -> str:
    """Which catalog is in use; the loaders below are cached by it (they are called per row)."""
    return os.environ.get(ENV_CATALOG_DIR) or ""


@cache
def _directory(key: str) -> Path:
    return Path(key) if key else HERE


def _load(name: str):
    return _read_yaml(_key(), name)


@cache
def _read_yaml(key: str, name: str):
    return yaml.safe_load((_directory(key) / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- indicators
@dataclass(frozen=True)
class Indicator:
    code: str
    title: str
    label: str
    unit: str
    unit_label: str
    definition: str
    role: str
    sdg: str | None = None
    weight: str | None = None
    breakdowns: dict = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    projections: bool = False
    estimation: dict | None = None
    charts: tuple[dict, ...] = ()
    tables: tuple[tuple[str, str], ...] = ()
    page_table: bool = False
    population: dict | None = None   # weight role: {age, publisher} of a population count
    urban_share: bool = False        # weight role: the urban share of the population
    partial_coverage: bool = False   # no publisher has it for every economy (see the yaml)

    @property
    def predictor(self) -> str | None:
        return (self.estimation or {}).get("predictor")

    def members(self, dimension: str) -> list[str]:
        """The breakdown members of `dimension` (sex, location) other than the total."""
        return [m for m in self.breakdowns.get(dimension, []) if m != "total"]


def indicators() -> dict[str, Indicator]:
    return _indicators(_key())


@cache
def _indicators(key: str) -> dict[str, Indicator]:
    out = {}
    for code, spec in _read_yaml(key, "indicators.yaml").items():
        spec = dict(spec)
        spec["aliases"] = tuple(spec.get("aliases", []))
        spec["definition"] = " ".join(spec["definition"].split())
        spec["charts"] = tuple(spec.get("charts", []))
        spec["tables"] = tuple(tuple(t) for t in spec.get("tables", []))
        out[code] = Indicator(code=code, **spec)
    return out


def year_range() -> tuple[int, int]:
    """The latest years `ictstats run --year` may estimate to, as the method supports them:
    from the latest first year of an estimated indicator plus MIN_BACKTEST_YEARS - 1 (a trend
    needs values in at least three years) to this calendar year plus MAX_NOWCAST_YEARS (the
    furthest a damped trend is carried). Once the sources are read the flow narrows this to
    what the data support (flows/pipeline.py `data_year_problem`)."""
    first = max(i.estimation["first_year"] for i in estimated())
    return first + MIN_BACKTEST_YEARS - 1, dt.date.today().year + MAX_NOWCAST_YEARS


MIN_BACKTEST_YEARS = 3
MAX_NOWCAST_YEARS = 8


def estimated() -> list[Indicator]:
    """Indicators with an estimation spec, each after the indicator that predicts it."""
    todo = [i for i in indicators().values() if i.estimation]
    done: list[Indicator] = []
    while todo:
        ready = [i for i in todo if i.predictor in {None, *(d.code for d in done)}]
        if not ready:
            raise ValueError("estimation predictors form a cycle in indicators.yaml")
        done += ready
        todo = [i for i in todo if i not in ready]
    return done


def population_indicators() -> dict[str, Indicator]:
    """Indicators that count a population (weights), by code."""
    return {c: i for c, i in indicators().items() if i.population}


def urban_share_indicator() -> str:
    return next(c for c, i in indicators().items() if i.urban_share)


# How a breakdown member reads in a label ('Internet use, women'); a total adds nothing.
BREAKDOWN_LABELS = {"total": "", "female": "Women", "male": "Men", "urban": "Urban",
                    "rural": "Rural"}


def series_label(indicator: str, sex: str = "total", location: str = "total") -> str:
    """'Internet use, women' / 'Internet use, urban' / 'Internet use': the indicator's label
    from the catalog and its breakdown members."""
    spec = indicators().get(indicator)
    parts = [BREAKDOWN_LABELS.get(m, m).lower() for m in (sex, location)]
    parts = [p for p in parts if p]
    return (spec.label if spec else indicator) + (", " + ", ".join(parts) if parts else "")


def code_for(name: str) -> str:
    """The canonical code of an indicator from its own code or any publisher's alias."""
    code = _aliases(_key()).get(name)
    if code is None:
        raise KeyError(name)
    return code


@cache
def _aliases(key: str) -> dict[str, str]:
    return {name: ind.code for ind in _indicators(key).values()
            for name in (ind.code, *ind.aliases)}


# ---------------------------------------------------------------------------- groups
@dataclass(frozen=True)
class Group:
    code: str
    scheme: str
    name: str
    short: str
    colour: str
    member: object   # "all", "income", {"flag": ...} or {"subregions": [...], "economies": [...]}
    order: int
    aliases: tuple[str, ...] = ()


def groups() -> dict[str, Group]:
    return _groups(_key())


@cache
def _groups(key: str) -> dict[str, Group]:
    raw = _read_yaml(key, "groups.yaml")["groups"]
    return {str(code): Group(code=str(code), scheme=g["scheme"], name=g["name"],
                             short=g.get("short", g["name"]), colour=g["colour"],
                             member=g["member"], order=i,
                             aliases=tuple(g.get("aliases", ())))
            for i, (code, g) in enumerate(raw.items())}


def group_code_for(name: str) -> str:
    """The code of a group from its code, name or one of its aliases."""
    for g in groups().values():
        if name in (g.code, g.name, *g.aliases):
            return g.code
    raise KeyError(name)


def schemes() -> dict[str, dict]:
    return _load("groups.yaml")["schemes"]


def groups_of(scheme: str) -> list[str]:
    """The group codes of one scheme, in catalog order."""
    return [c for c, g in groups().items() if g.scheme == scheme]


def expand_groups(names: list[str]) -> list[str]:
    """Group codes from a list of group codes and scheme names (e.g. [WLD, income])."""
    out = []
    for name in names:
        out += groups_of(name) if name in schemes() else [str(name)]
    return out


# ---------------------------------------------------------------------------- sources
# How the files of one source rank when its pattern matches several (catalog/sources.yaml
# `release_rule`; sources/listing.py file_ranks): "version", the version in the file's path,
# compared in natural order (runs of digits as numbers: _v10 after _v9, 2021Q1 after 2020Q4),
# the latest first; paths equal in natural order (v01, v1) by their text, the latest first.
RELEASE_RULES = ("version",)


@dataclass(frozen=True)
class Source:
    id: str
    pattern: str
    adapter: str
    role: str
    publisher: str
    licence: str
    attribution: str
    release: str
    release_date: dt.date
    indicator: str | None = None
    flags_status: bool = False
    required: bool | str = False  # true, or the name of a set of alternatives (see sources.yaml)
    universal: bool = False       # its files cover the classification universe (shrink check)
    release_rule: str = "version"  # how its files rank when several match (RELEASE_RULES)
    downloads: tuple[dict, ...] = ()

    def __post_init__(self) -> None:
        if self.release_rule not in RELEASE_RULES:
            raise ValueError(f"source {self.id}: release_rule {self.release_rule!r} is not one "
                             f"of {', '.join(RELEASE_RULES)} (catalog/sources.yaml)")

    @property
    def is_classification(self) -> bool:
        return self.role == "classification"


def sources() -> tuple[Source, ...]:
    return _sources(_key())


@cache
def _sources(key: str) -> tuple[Source, ...]:
    entries = _read_yaml(key, "sources.yaml")
    return tuple(Source(**{**e, "downloads": tuple(e.get("downloads", ()))}) for e in entries)


def source(source_id: str) -> Source:
    return next(s for s in sources() if s.id == source_id)


def status_flagging_sources() -> list[str]:
    """Ids of the sources that mark each value as country data or the publisher's estimate."""
    return [s.id for s in sources() if s.flags_status]


def quoted_figures_path() -> Path:
    return catalog_dir() / "wsis20_headline_figures.csv"
