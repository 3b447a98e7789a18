"""Completeness: each file held against what is expected of it (its manifest before any file
is read, the rest after every file is read).

A file cut at a line boundary is well-formed: nothing in it says what it lost. So each file is
held against what it should cover:

- the classification universe: the economies of the ISO/M49 country codes that a World
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
- the retrieval's manifest, where the file lies in a folder holding one (the bundled edition's
  MANIFEST.json, sources/edition.py, or a download's, sources/download.py; symbolic links are
  followed to the folder, and an assembled `data/raw/.current` names each file's retrieval in
  its RETRIEVALS.json): its size and SHA-256 must be those recorded. Any difference stops the
  run, before a file is read: a changed or half-copied file; so does a file the manifest does
  not list (added to the retrieval later). The checksums are those the run takes anyway (no
  file is hashed twice); a file in a folder without a manifest (a user's `--source-dir`) is
  not checked this way;
- per series (source × indicator × sex × location), the previous publication in the output
  folder (its `observations`, read read-only): a series must not lose more than
  SERIES_ECONOMIES (5%) of the economies, nor more than SERIES_ROWS (5%) of the rows (economy
  × year) it had there, nor any whole year it had. The edition rerun on its own publication
  loses nothing; its SDG mobile-ownership file cut in half loses about half of each. This covers what the universe cannot: series no
  publisher has for every economy and files of sources not marked `universal`. An economy or
  a row of the file that was quarantined is reported there, not lost (the quarantine names its
  economy and year, not its series: it counts for each series of the file). A series whose
  source has no file at all in the run is not compared (a source left out is the listing's
  business: sources/listing.py); a series of a source that still has files is.

A shrink stops the run with one line naming the file and what it lost, unless the run is
told to accept it (`ictstats run --accept-shrink`); the `sources` table records it then.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from catalog import (
    MAX_NOWCAST_YEARS,
    MIN_BACKTEST_YEARS,
    estimated,
    indicators,
    population_indicators,
)
from sources.retrievals import EDITION_PREFIX, MANIFEST, RETRIEVALS

SHRINK_ECONOMIES = 0.15
SHRINK_POPULATION = 0.02
# against the previous publication, per series: more than these shares lost stops the run
SERIES_ECONOMIES = 0.05
SERIES_ROWS = 0.05
SERIES = ["source", "indicator", "sex", "location"]


@dataclass(frozen=True)
class Shrink:
    file: str            # the file's name
    what: str            # the series or list that lost economies
    expected: int        # economies expected of it
    lost: tuple[str, ...]  # economies missing, largest population first
    population_share: float  # of the universe's population

    @property
    def names(self) -> tuple[str, ...]:
        return (self.file,)

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


# ------------------------------------------------------------------------------ previous
@dataclass(frozen=True)
class Previous:
    """The series of the previous publication: one row per source × indicator × sex ×
    location × economy × year it held, and the file(s) of each series."""
    keys: pd.DataFrame
    files: dict[tuple, str]
    run_id: str


def previous_publication(db_path: Path) -> Previous | None:
    """The observations' keys of the publication at `db_path`, read read-only, or None when
    there is none (a first run) or it cannot be read."""
    if not Path(db_path).is_file():
        return None
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            keys = con.execute("SELECT DISTINCT source, indicator, sex, location, iso3, year "
                               "FROM observations").df()
            files = con.execute("SELECT source, indicator, sex, location, "
                                "string_agg(DISTINCT file, ' + ' ORDER BY file) "
                                "FROM observations GROUP BY ALL").fetchall()
            run = con.execute("SELECT run_id FROM runs WHERE status = 'published' "
                              "ORDER BY finished_at DESC LIMIT 1").fetchone()
    except duckdb.Error:
        return None
    return Previous(keys.astype({"year": "int64"}), {tuple(f[:4]): f[4] for f in files},
                    str(run[0]) if run else "")


@dataclass(frozen=True)
class Lost:
    file: str                 # the file(s) of the series in this run (or, gone, in the last)
    what: str                 # the series
    economies: int            # economies of the series in the previous publication
    lost: tuple[str, ...]     # economies it no longer has, largest population first
    rows: int                 # rows (economy × year) of the series in the previous publication
    rows_lost: int
    years_lost: tuple[int, ...]
    run_id: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.file.split(" + "))

    def message(self) -> str:
        parts = []
        if self.lost:
            examples = ", ".join(self.lost[:6]) + (", …" if len(self.lost) > 6 else "")
            parts.append(f"{len(self.lost)} of its {self.economies} economies "
                         f"({len(self.lost) / self.economies:.0%}: {examples})")
        parts.append(f"{self.rows_lost:,} of its {self.rows:,} rows "
                     f"({self.rows_lost / self.rows:.0%})")
        if self.years_lost:
            years = ", ".join(str(y) for y in self.years_lost[:6]) + \
                (", …" if len(self.years_lost) > 6 else "")
            parts.append(f"the whole year(s) {years}")
        run = f" (run {self.run_id[:8]})" if self.run_id else ""
        return (f"{self.file}: {self.what} lost {'; '.join(parts)} against the previous "
                f"publication{run}; more than {SERIES_ECONOMIES:.0%} of its economies or "
                f"{SERIES_ROWS:.0%} of its rows, or a whole year, means the file is "
                "incomplete (cut short at a line?)")


def _series_name(key: tuple) -> str:
    source, indicator, sex, location = key
    breakdown = "" if sex == location == "total" else f" ({sex}/{location})"
    return f"{indicator}{breakdown} of {source}"


def _held(results) -> pd.DataFrame:
    """source, indicator, sex, location, iso3, year, file of every row this run holds: its
    observations, and for each series of a file the economies and years it quarantined."""
    frames = []
    for r, table in _table(results, "observations"):
        rows = table[SERIES + ["iso3", "year"]].drop_duplicates().assign(file=r.path.name)
        frames.append(rows)
        q = r.extract.quarantine
        q = q[q["iso3"].notna() & q["year"].notna()] if len(q) else q
        if len(q):
            series = rows[SERIES].drop_duplicates()
            frames.append(series.merge(q[["iso3", "year"]].drop_duplicates(), how="cross")
                          .assign(file=r.path.name))
    if not frames:
        return pd.DataFrame(columns=SERIES + ["iso3", "year", "file"])
    held = pd.concat(frames, ignore_index=True)
    return held.astype({"year": "int64", "iso3": "str"})


def against_previous(results, expected: Expected) -> list[Lost]:
    """Each series of this run held against the same series of the previous publication."""
    previous = expected.previous
    if previous is None or previous.keys.empty:
        return []
    present = {r.entry.id for r in results if r.extract is not None}
    before = previous.keys[previous.keys["source"].isin(present)]
    held = _held(results)
    both = before.merge(held[SERIES + ["iso3", "year"]].drop_duplicates(), how="left",
                        on=SERIES + ["iso3", "year"], indicator=True)
    both["gone"] = both["_merge"] == "left_only"
    lossy = both[both["gone"]][SERIES].drop_duplicates()
    if lossy.empty:
        return []
    seen: dict[tuple, set[str]] = {}  # economies with rows, accepted or quarantined
    for r in results:
        if r.extract is not None:
            for code, economies in r.extract.seen.items():
                seen.setdefault((r.entry.id, code), set()).update(economies)
    files_now = held.groupby(SERIES)["file"].agg(lambda f: " + ".join(sorted(set(f))))
    population = expected.universe.population if expected.universe else pd.Series(dtype=float)
    out = []
    for key, part in both.merge(lossy, on=SERIES).groupby(SERIES):
        now = part[~part["gone"]]
        had_economies = set(part["iso3"])
        lost = had_economies - set(now["iso3"]) - seen.get((key[0], key[1]), set())
        years = sorted(set(part["year"]) - set(now["year"]))
        rows_lost = int(part["gone"].sum())
        if len(lost) <= SERIES_ECONOMIES * len(had_economies) and not years \
                and rows_lost <= SERIES_ROWS * len(part):
            continue
        order = population.reindex(sorted(lost)).fillna(0).sort_values(ascending=False,
                                                                        kind="stable")
        file = files_now.get(key) or previous.files.get(key, "?")
        out.append(Lost(file, _series_name(key), len(had_economies), tuple(order.index),
                        len(part), rows_lost, tuple(int(y) for y in years), previous.run_id))
    return out


# ------------------------------------------------------------------------------ manifests
@dataclass(frozen=True)
class Changed:
    file: str       # path relative to the source directory
    retrieval: str  # edition-2025-11, world-bank/2026-12-01
    detail: str     # what differs
    kind: str = "differs"  # differs | unlisted | unreadable
    what: str = "the manifest"

    @property
    def names(self) -> tuple[str, ...]:
        return (Path(self.file).name,)

    def message(self) -> str:
        if self.kind == "unlisted":
            return (f"{self.file}: not in the manifest of {self.retrieval}: a file added to "
                    "the retrieval after it was made")
        if self.kind == "unreadable":
            return f"{self.file}: the manifest of {self.retrieval} cannot be read ({self.detail})"
        return (f"{self.file}: differs from the manifest of {self.retrieval} ({self.detail}): "
                "a changed or half-copied file")


def _manifest_rows(folder: Path) -> tuple[str, dict[str, dict] | str]:
    """The retrieval's name and its files by path (both manifest formats: the edition's and
    a download's list `file`, `bytes` and `sha256`), or why the manifest cannot be read."""
    name = folder.name
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if "edition" in manifest:
            name = f"{EDITION_PREFIX}{manifest['edition']}"
        elif "source" in manifest and "retrieved" in manifest:
            name = f"{manifest['source']}/{manifest['retrieved']}"
        return name, {row["file"]: row for row in manifest["files"]}
    except (OSError, ValueError, KeyError, TypeError) as err:
        return name, f"{type(err).__name__}: {err}"


def _assembled(source_dir: Path) -> dict[str, tuple[Path, str]]:
    """For a directory assembled from retrievals (data/raw/.current, sources/retrievals.py):
    source path -> (the retrieval's folder, the file's path in its manifest)."""
    record = source_dir / RETRIEVALS
    if not record.is_file():
        return {}
    try:
        picks = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for info in picks.values():
        name = str(info.get("retrieval", ""))
        edition = name.startswith(EDITION_PREFIX)
        prefix = "" if edition else name.split("/")[0] + "/"
        for rel in info.get("files", []):
            out[rel] = (source_dir.parent / name, rel.removeprefix(prefix))
    return out


def _manifest_above(path: Path, rel: str) -> tuple[Path, str] | None:
    """The retrieval folder holding a MANIFEST.json that `path` (links followed) lies in, at
    most as deep as its source path: an edition's root, or a download's dated folder."""
    resolved = Path(path).resolve()
    for folder in list(resolved.parents)[: rel.count("/") + 1]:
        if (folder / MANIFEST).is_file():
            return folder, resolved.relative_to(folder).as_posix()
    return None


def manifest_mismatches(source_dir: Path, files, checksums: dict[str, str]) -> list[Changed]:
    """Every file in a retrieval folder with a manifest whose size or SHA-256 is not the one
    recorded there (`checksums`: the run's, by path relative to `source_dir`)."""
    source_dir = Path(source_dir)
    assembled = _assembled(source_dir)
    manifests: dict[Path, tuple] = {}
    out = []
    for _, path in files:
        rel = Path(path).relative_to(source_dir).as_posix()
        digest = checksums.get(rel)
        found = assembled.get(rel) or _manifest_above(path, rel)
        if digest is None or found is None:
            continue
        folder, key = found
        if folder not in manifests:
            manifests[folder] = _manifest_rows(folder)
        name, rows = manifests[folder]
        if isinstance(rows, str):
            out.append(Changed(rel, name, rows, "unreadable"))
            continue
        row = rows.get(key)
        if row is None:
            out.append(Changed(rel, name, "", "unlisted"))
            continue
        size = Path(path).stat().st_size
        differs = []
        if size != row.get("bytes"):
            differs.append(f"{size:,} bytes, {row.get('bytes', 0):,} expected")
        if digest != row.get("sha256"):
            differs.append(("" if differs else f"the same size, {size:,} bytes; ") +
                           "checksum differs")
        if differs:
            out.append(Changed(rel, name, "; ".join(differs)))
    return out


# ------------------------------------------------------------------------------ all of it
@dataclass(frozen=True)
class Expected:
    """What the files are held against: the classification universe, the previous
    publication (None on a first run)."""
    universe: Universe | None
    previous: Previous | None = None


def _against_universe(results, expected: Expected) -> list[Shrink]:
    return against_universe(results, expected.universe) if expected.universe else []


# Each: (results, expected) -> records with `file`, `what`, `names` and `message()`. The
# manifest check runs before any file is read (manifest_mismatches), not here.
EXPECTATIONS = [_against_universe, against_previous]


def shrinks(results, previous: Previous | None = None) -> list:
    """Every file that lost more than the thresholds allow of what is expected of it."""
    expected = Expected(universe(results), previous)
    merged: dict[tuple, object] = {}  # one line per file and loss (WPP's three counts)
    for s in (s for check in EXPECTATIONS for s in check(results, expected)):
        if not isinstance(s, Shrink):
            merged[(s.file, s.what)] = s
            continue
        key = (s.file, s.lost, s.expected)
        merged[key] = Shrink(s.file, f"{merged[key].what}, {s.what}", s.expected, s.lost,
                             s.population_share) if key in merged else s
    return list(merged.values())


def missing_series(results) -> list[str]:
    """Series the estimation needs that no file holds a value of: each estimated indicator in
    each breakdown member the catalog lists, and a total population."""
    held = set()
    for _, table in _table(results, "observations"):
        keys = table[["indicator", "sex", "location"]].drop_duplicates()
        held |= set(zip(keys["indicator"], keys["sex"], keys["location"]))
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
