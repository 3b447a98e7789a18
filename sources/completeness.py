"""Completeness: each file held against what is expected of it, after every file is read.

A file cut at a line boundary is well-formed: nothing in it says what it lost. So each file is
held against what it should cover:

- today, the classification universe: the economies of the ISO/M49 country codes that a World
  Bank economy list or a population file knows too (222 in the snapshot). A file of a source
  the catalog marks `universal` (and each World Bank economy or income list, and the country
  codes against the World Bank lists) must not lack more than SHRINK_ECONOMIES of them, nor
  economies holding more than SHRINK_POPULATION of their population (each economy's latest
  total population in any file). "Lack" means no row at all: an economy whose values were all
  quarantined is reported there, with reasons, not lost. On the snapshot the complete files
  lack at most 9.9% of the economies (WPP 2019 lacks 22 small ones: Andorra, Monaco, Tuvalu,
  …) and 0.76% of the population (OWID's fixed broadband: North Korea, Taiwan, Sierra Leone,
  …); a file cut in half lacks about half of both. A DataBank extract is a selection, not
  universal (its GDP series lack 2.1%); nor is a series no publisher has for every economy
  (`partial_coverage` in indicators.yaml: mobile ownership);
- hooks, not done yet (issue 12, point 1): the edition's manifest (checksum and size of a
  bundled file) and, per series, the economies, years and rows of its previous publication.
  Each is one more function of `EXPECTATIONS` returning `Shrink` records.

A shrink stops the run with one line naming the file and what it lost, unless the run is
told to accept it (`ictstats run --accept-shrink`); the `sources` table records it then.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from catalog import (
    MAX_NOWCAST_YEARS,
    MIN_BACKTEST_YEARS,
    estimated,
    indicators,
    population_indicators,
)

SHRINK_ECONOMIES = 0.15
SHRINK_POPULATION = 0.02


@dataclass(frozen=True)
class Shrink:
    file: str            # the file's name
    what: str            # the series or list that lost economies
    expected: int        # economies expected of it
    lost: tuple[str, ...]  # economies missing, largest population first
    population_share: float  # of the universe's population

    def message(self) -> str:
        examples = ", ".join(self.lost[:6]) + (", …" if len(self.lost) > 6 else "")
        return (f"{self.file}: {self.what} lacks {len(self.lost)} of the {self.expected} "
                f"economies of the classification universe ({len(self.lost) / self.expected:.0%}"
                f" of them, {self.population_share:.1%} of their population: {examples}); "
                f"more than {SHRINK_ECONOMIES:.0%} or {SHRINK_POPULATION:.0%} means the file "
                "is incomplete (cut short at a line?)")


@dataclass(frozen=True)
class Universe:
    economies: frozenset[str]
    population: pd.Series  # iso3 -> latest total population (persons), 0 where none
    country_codes: frozenset[str]
    wb_lists: frozenset[str]

    def share(self, lost: set[str]) -> float:
        total = float(self.population.reindex(list(self.economies)).fillna(0).sum())
        if total <= 0:
            return 0.0
        return float(self.population.reindex(list(lost)).fillna(0).sum()) / total


def _table(results, name: str) -> list[tuple[object, pd.DataFrame]]:
    return [(r, r.extract.tables[name]) for r in results
            if r.extract is not None and len(r.extract.tables.get(name, ()))]


def universe(results) -> Universe | None:
    """The classification universe and each economy's latest population, or None when no
    classification file lists economies: the country codes' economies that a World Bank list
    or a population file knows too (so that a World Bank list cut short does not shrink the
    universe it is held to)."""
    cc = set().union(*[set(t["iso3"]) for _, t in _table(results, "economies")])
    wb = set().union(*[set(t["iso3"]) for _, t in _table(results, "wb_economies")])
    totals = [c for c, i in population_indicators().items() if i.population["age"] == "total"]
    frames = [t[(t["indicator"].isin(totals)) & (t["sex"] == "total")
                & (t["year"] <= dt.date.today().year)][["iso3", "year", "value"]]
              for _, t in _table(results, "observations")]
    frames = [f for f in frames if len(f)]
    if frames:
        pop = pd.concat(frames, ignore_index=True)
        latest = pop[pop["year"] == pop.groupby("iso3")["year"].transform("max")]
        population = latest.groupby("iso3")["value"].max()
    else:
        population = pd.Series(dtype="float64")
    known = wb | set(population.index)
    economies = (cc & known) if cc and known else (cc or wb)
    if not economies:
        return None
    return Universe(frozenset(economies), population, frozenset(cc), frozenset(wb))


def _shrink(file: str, what: str, held: set[str], expected: frozenset[str],
            world: Universe) -> Shrink | None:
    lost = set(expected) - held
    if not expected or not lost:
        return None
    share = world.share(lost)
    if len(lost) / len(expected) <= SHRINK_ECONOMIES and share <= SHRINK_POPULATION:
        return None
    order = world.population.reindex(sorted(lost)).fillna(0).sort_values(ascending=False)
    return Shrink(file, what, len(expected), tuple(order.index), share)


def against_universe(results, world: Universe) -> list[Shrink]:
    out = []
    for r, table in _table(results, "economies"):
        if world.wb_lists:
            out.append(_shrink(r.path.name, "the economy list", set(table["iso3"]),
                               world.wb_lists, world))
    for r, table in _table(results, "wb_economies"):
        out.append(_shrink(r.path.name, "the World Bank economy list", set(table["iso3"]),
                           world.economies, world))
    for r, table in _table(results, "income_groups"):
        for fiscal_year, part in table.groupby("fiscal_year"):
            out.append(_shrink(r.path.name, f"the income classification FY{fiscal_year % 100:02d}",
                               set(part["iso3"]), world.economies, world))
    partial = {c for c, i in indicators().items() if i.partial_coverage}
    for r, table in _table(results, "observations"):
        if not r.entry.universal:
            continue
        for code, part in table.groupby("indicator"):
            if code not in partial:
                # economies whose rows were all quarantined are reported there, not lost
                held = set(part["iso3"]) | set(r.extract.seen.get(code, []))
                out.append(_shrink(r.path.name, code, held, world.economies, world))
    return [s for s in out if s is not None]


# Each: (results, universe) -> shrinks. Add the manifest and previous-publication checks here.
EXPECTATIONS = [against_universe]


def shrinks(results) -> list[Shrink]:
    """Every file that lost more than the thresholds allow of what is expected of it."""
    world = universe(results)
    if world is None:
        return []
    merged: dict[tuple, Shrink] = {}  # one line per file and loss (WPP's three counts)
    for s in (s for check in EXPECTATIONS for s in check(results, world)):
        key = (s.file, s.lost, s.expected)
        merged[key] = Shrink(s.file, f"{merged[key].what}, {s.what}", s.expected, s.lost,
                             s.population_share) if key in merged else s
    return list(merged.values())


def missing_series(results) -> list[str]:
    """Series the estimation needs that no file holds a value of: each estimated indicator in
    each breakdown member the catalog lists, and a total population."""
    held = set()
    for _, table in _table(results, "observations"):
        held |= set(zip(table["indicator"], table["sex"], table["location"]))
    lines = []
    for spec in estimated():
        wanted = [("total", "total")] + [(s, "total") for s in spec.members("sex")] + \
            [("total", loc) for loc in spec.members("location")]
        for sex, location in wanted:
            if (spec.code, sex, location) not in held:
                label = "" if sex == location == "total" else f" ({sex}/{location})"
                lines.append(f"no file holds a value of {spec.code}{label}: the estimation "
                             "needs some (a file that should hold it is missing or empty?)")
    if not {code for code, _, _ in held} & set(population_indicators()):
        lines.append("no file holds a population count: there is nothing to weight by")
    return lines


def year_problem(results, year: int) -> str | None:
    """`--year` beyond what the data support: each estimated indicator needs values in at
    least MIN_BACKTEST_YEARS years from its first estimated year to `year` (its backtest),
    and `year` at most MAX_NOWCAST_YEARS after its latest value (the backtest's horizon)."""
    held: dict[str, set[int]] = {}
    for _, table in _table(results, "observations"):
        totals = table[(table["sex"] == "total") & (table["location"] == "total")]
        for code, years in totals.groupby("indicator")["year"]:
            held.setdefault(code, set()).update(int(y) for y in years)
    for spec in estimated():
        years = held.get(spec.code, set())
        first = spec.estimation["first_year"]
        usable = sorted(y for y in years if first <= y <= year)
        if len(usable) < MIN_BACKTEST_YEARS:
            span = f"{usable[0]}-{usable[-1]}" if usable else "none"
            return (f"--year {year}: {spec.code} has values in {len(usable)} year(s) from "
                    f"{first} to {year} ({span}); estimating it needs at least "
                    f"{MIN_BACKTEST_YEARS} (its backtest hides one of them)")
        latest = max(years)
        if year > latest + MAX_NOWCAST_YEARS:
            return (f"--year {year} is {year - latest} years after the latest value of "
                    f"{spec.code} ({latest}); estimates reach at most {MAX_NOWCAST_YEARS} "
                    "years beyond the data")
    return None


def fiscal_year_problem(results, fiscal_year: int) -> str | None:
    """`--income-fy` naming a fiscal year no income list in the sources gives."""
    available = set()
    for _, table in _table(results, "income_groups"):
        available |= {int(y) for y in table["fiscal_year"]}
    if fiscal_year not in available:
        span = f"FY{min(available)}-FY{max(available)}" if available else "none"
        return (f"--income-fy {fiscal_year}: no income classification of that fiscal year in "
                f"the sources (they give {span})")
    return None
