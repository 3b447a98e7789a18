"""Plausibility rules across files: each value held against the same economy's values in its
own neighbouring years and in the other files, after every file has been read and validated
on its own (sources/validate.py). A value these rules reject moves from its file's
`observations` to its file's quarantine with the reason; a file they show to be on another
scale altogether becomes unusable.

Populations (unit `persons`; positive and below 2 billion is a schema check):
- neighbouring years: a count more than YEAR_FACTOR times above or below the median of the
  same series' counts within two years (at least two of them) is quarantined. The largest
  real jump in the snapshot is Rwanda 1995 (1.28 times the median around it);
- other sources: an economy-year's total population from two files that differ by more than
  SOURCE_FACTOR are both quarantined (which one is wrong cannot be told, and a population off
  by a factor of a thousand must not weight anything); with three or more files, those beyond
  the factor of their median. A file's series contradicted in most of the years it shares is
  set aside whole (its other years would otherwise be extended by growth into the weights).
  The largest real disagreement is Moldova 2024 (1.66: the World Bank leaves out Transnistria
  since 2019, WPP 2019 does not);
- a count set aside takes the file's other counts of that economy and year with it (a WPP row
  holds the total, by sex, aged 10+ and 15+ on one scale);
- a file whose total populations differ from another file's beyond the factor for more than
  half of their common economies (at least MIN_ECONOMIES) is on another scale (thousands read
  as persons?): both files are unusable, with one line naming them.

Per cent series (unit `percent`; 0-100 is a schema check, a whole column within 0-1 too):
- other releases: an economy's series in one file whose values lie within (0, 1] where
  another file gives the same indicator, economy, year and breakdown FRACTION_RATIO times
  more, at least FRACTION_OTHER_MIN per cent, is probable fractions of one: quarantined whole
  when every value of the series lies within 0-1, else the matching values;
- own years: a value within (0, 1] whose nearest earlier and later values of the same series
  (each within three years) are at least FRACTION_OTHER_MIN and FRACTION_RATIO times more.
On the snapshot no value within (0, 1] meets a value of 5 or more for the same key in another
file, nor sits between two such neighbours: the rules reject nothing real.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from catalog import POSITIVE_UNITS, indicators
from sources.base import SourceError, empty_quarantine, quarantine_rows

YEAR_FACTOR = 2.0
YEAR_WINDOW = 2
SOURCE_FACTOR = 3.0
MIN_ECONOMIES = 5
FRACTION_RATIO = (20.0, 500.0)  # about a hundred times, with room for revisions
FRACTION_OTHER_MIN = 5.0
FRACTION_NEIGHBOUR_YEARS = 3
SERIES = ["result_no", "indicator", "iso3", "sex", "location"]
KEY = ["indicator", "iso3", "year", "sex", "location"]


def total_population_indicators() -> list[str]:
    return [c for c, i in indicators().items() if i.population and i.population["age"] == "total"]


def cross_check(results: list) -> list:
    """The results with the values these rules reject moved to their files' quarantine (and
    files on another scale turned into errors). Results are changed in place and returned."""
    frames = []
    for i, r in enumerate(results):
        obs = r.extract.tables.get("observations") if r.extract is not None else None
        if obs is not None and len(obs):
            frames.append(obs[KEY + ["value", "unit"]].assign(result_no=i, obs_no=obs.index))
    if not frames:
        return results
    obs = pd.concat(frames, ignore_index=True)
    rejects: list[pd.DataFrame] = []
    errors: dict[int, str] = {}

    persons = obs[obs["unit"].isin(POSITIVE_UNITS)]
    if len(persons):
        totals = persons[persons["indicator"].isin(total_population_indicators())
                         & (persons["sex"] == "total") & (persons["location"] == "total")]
        errors.update(_scale_errors(totals, results))
        persons = persons[~persons["result_no"].isin(errors)]
        years = _year_outliers(persons)
        rejects.append(years)
        totals = totals[~totals["result_no"].isin(errors)
                        & ~_marked(totals, years)]
        rejects.append(_source_outliers(totals, results))
        rejects.append(_same_economy_year(persons, pd.concat(rejects, ignore_index=True)))

    percent = obs[(obs["unit"] == "percent") & ~obs["result_no"].isin(errors)]
    if len(percent):
        rejects.append(_fractions_across_files(percent, results))
        rejects.append(_fractions_within_series(percent))

    rejects = [r for r in rejects if len(r)]
    for i, message in errors.items():
        results[i].error = SourceError(results[i].path, message)
        results[i].extract = None
    if rejects:
        _apply(results, pd.concat(rejects, ignore_index=True).drop_duplicates(
            ["result_no", "obs_no"]))
    return results


def _marked(frame: pd.DataFrame, rejects: pd.DataFrame) -> pd.Series:
    if rejects.empty:
        return pd.Series(False, index=frame.index)
    keys = set(zip(rejects["result_no"], rejects["obs_no"]))
    return pd.Series([k in keys for k in zip(frame["result_no"], frame["obs_no"])],
                     index=frame.index)


def _reject(rows: pd.DataFrame, check: str, reasons) -> pd.DataFrame:
    return pd.DataFrame({"result_no": rows["result_no"].to_numpy(),
                         "obs_no": rows["obs_no"].to_numpy(), "check": check,
                         "reason": list(reasons)})


def _apply(results: list, rejects: pd.DataFrame) -> None:
    for i, part in rejects.groupby("result_no", sort=True):
        extract = results[i].extract
        obs = extract.tables["observations"]
        rows = obs.loc[part["obs_no"]]
        quarantine = quarantine_rows(results[i].path.name, rows["row"], rows["column"],
                                     rows["value"], "", list(part["reason"]), of=rows)
        quarantine["check"] = list(part["check"])
        extract.tables["observations"] = obs.drop(index=part["obs_no"])
        extract.quarantine = pd.concat(
            [q for q in (extract.quarantine, quarantine) if len(q)] or [empty_quarantine()],
            ignore_index=True)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


# ------------------------------------------------------------------------------ populations
def _year_outliers(persons: pd.DataFrame) -> pd.DataFrame:
    """Counts far from the median of their own series' neighbouring years."""
    base = persons[SERIES + ["year", "value", "obs_no"]]
    series = base.groupby(SERIES, sort=False).ngroup().to_numpy(dtype="int64")
    keys = series * 10_000 + base["year"].to_numpy(dtype="int64")
    index = pd.Index(keys)
    values = base["value"].to_numpy(dtype="float64")
    neighbours = []
    for offset in [o for o in range(-YEAR_WINDOW, YEAR_WINDOW + 1) if o]:
        at = index.get_indexer(keys + offset)
        neighbours.append(np.where(at >= 0, values[at], np.nan))
    stack = np.vstack(neighbours)
    enough = (~np.isnan(stack)).sum(axis=0) >= 2
    median = np.full(len(base), np.nan)
    if enough.any():
        median[enough] = np.nanmedian(stack[:, enough], axis=0)
    ratio = values / median
    far = enough & ((ratio > YEAR_FACTOR) | (ratio < 1 / YEAR_FACTOR))
    rows = base[far]
    reasons = [f"{r.iso3} {r.year}: {_number(r.value)} is {_times(q)} the median "
               f"({_number(m)}) of its series' values within {YEAR_WINDOW} years: an "
               "implausible jump (a unit or typing error?)"
               for r, q, m in zip(rows.itertuples(), ratio[far], median[far])]
    return _reject(rows, "population_years", reasons)


def _times(ratio: float) -> str:
    return f"{ratio:.3g} times" if ratio >= 1 else f"1/{1 / ratio:.3g} of"


def _source_outliers(totals: pd.DataFrame, results: list) -> pd.DataFrame:
    """Total populations of one economy-year that other files contradict; where a file's
    series of an economy is contradicted in most of the years it shares with the others, the
    whole series (so that no year of it is left to be extended by growth in the weights)."""
    shared = totals[totals.groupby(["iso3", "year"])["value"].transform("size") >= 2]
    if shared.empty:
        return _reject(shared, "population_sources", [])
    groups = shared.groupby(["iso3", "year"])["value"]
    n = groups.transform("size").to_numpy()
    low, high = groups.transform("min").to_numpy(), groups.transform("max").to_numpy()
    ratio = shared["value"].to_numpy() / groups.transform("median").to_numpy()
    far = pd.Series(np.where(n == 2, high / low > SOURCE_FACTOR,
                             (ratio > SOURCE_FACTOR) | (ratio < 1 / SOURCE_FACTOR)),
                    index=shared.index)
    if not far.any():
        return _reject(shared.iloc[0:0], "population_sources", [])
    mostly = far.groupby([shared["result_no"], shared["iso3"]]).mean() > 0.5
    whole = set(mostly[mostly].index)
    flagged = shared[far]
    in_whole = pd.Series([k in whole for k in zip(totals["result_no"], totals["iso3"])],
                         index=totals.index)
    rows = pd.concat([flagged, totals[in_whole]]).drop_duplicates(["result_no", "obs_no"])
    peers = shared.merge(flagged[["iso3", "year"]].drop_duplicates(), on=["iso3", "year"])
    others = {key: list(zip(g["result_no"], g["value"]))
              for key, g in peers.groupby(["iso3", "year"])}
    example = {(r.result_no, r.iso3): r for r in flagged.itertuples()}
    own = set(zip(flagged["result_no"], flagged["obs_no"]))

    def against(r) -> str:
        return "; ".join(f"{results[i].path.name} {_number(v)}"
                         for i, v in others.get((r.iso3, r.year), []) if i != r.result_no)

    reasons = []
    for r in rows.itertuples():
        whole_series = (r.result_no, r.iso3) in whole
        if (r.result_no, r.obs_no) in own:
            scope = ("its whole series in this file is set aside (contradicted in most years)"
                     if whole_series else "set aside")
            reasons.append(f"{r.iso3} {r.year}: population {_number(r.value)} differs from "
                           f"the other source(s) by more than a factor of {SOURCE_FACTOR:g} "
                           f"({against(r)}): one of them is wrong (a unit or typing error?); "
                           f"{scope}")
        else:
            e = example[(r.result_no, r.iso3)]
            reasons.append(f"{r.iso3} {r.year}: this file's population series of {r.iso3} "
                           f"differs from the other source(s) by more than a factor of "
                           f"{SOURCE_FACTOR:g} in most years they share (e.g. {e.year}: "
                           f"{_number(e.value)} here; {against(e)}): set aside whole")
    return _reject(rows, "population_sources", reasons)


def _same_economy_year(persons: pd.DataFrame, rejects: pd.DataFrame) -> pd.DataFrame:
    """The file's other counts of an economy-year one of whose counts was set aside."""
    if rejects.empty:
        return rejects
    hit = persons.merge(rejects, on=["result_no", "obs_no"])
    keys = hit[["result_no", "iso3", "year"]].drop_duplicates()
    first = hit.drop_duplicates(["result_no", "iso3", "year"])[["result_no", "iso3", "year",
                                                              "indicator", "sex"]]
    rest = persons.merge(keys, on=["result_no", "iso3", "year"])
    rest = rest[~_marked(rest, rejects)]
    rest = rest.merge(first, on=["result_no", "iso3", "year"], suffixes=("", "_first"))
    reasons = [f"{r.iso3} {r.year}: the file's {r.indicator_first} ({r.sex_first}) count for "
               "this economy and year was set aside as implausible; its other counts share "
               "its scale" for r in rest.itertuples()]
    return _reject(rest, "population_row", reasons)


def _scale_errors(totals: pd.DataFrame, results: list) -> dict[int, str]:
    """Files whose total populations are on another scale than another file's."""
    errors: dict[int, str] = {}
    files = sorted(set(totals["result_no"]))
    for a_pos, a in enumerate(files):
        for b in files[a_pos + 1:]:
            pair = totals[totals["result_no"] == a][["iso3", "year", "value"]].merge(
                totals[totals["result_no"] == b][["iso3", "year", "value"]],
                on=["iso3", "year"], suffixes=("_a", "_b"))
            if pair.empty:
                continue
            ratio = (pair["value_a"] / pair["value_b"]).groupby(pair["iso3"]).median()
            off = (ratio > SOURCE_FACTOR) | (ratio < 1 / SOURCE_FACTOR)
            if off.sum() >= MIN_ECONOMIES and off.mean() > 0.5:
                typical = float(np.median(ratio[off]))
                for me, other in ((a, b), (b, a)):
                    factor = typical if me == a else 1 / typical
                    errors.setdefault(me, (
                        f"total population is {_times(factor)} {results[other].path.name}'s "
                        f"for {int(off.sum())} of the {len(ratio)} economies both hold: one "
                        "of the two files is on another scale (thousands read as persons?)"))
    return errors


# ------------------------------------------------------------------------------ per cent
def _fractions_across_files(percent: pd.DataFrame, results: list) -> pd.DataFrame:
    small = percent[(percent["value"] > 0) & (percent["value"] <= 1)]
    if small.empty:
        return _reject(small, "percent_scale", [])
    large = percent[percent["value"] >= FRACTION_OTHER_MIN][KEY + ["result_no", "value"]]
    pairs = small.merge(large, on=KEY, suffixes=("", "_other"))
    pairs = pairs[pairs["result_no"] != pairs["result_no_other"]]
    ratio = pairs["value_other"] / pairs["value"]
    pairs = pairs[(ratio >= FRACTION_RATIO[0]) & (ratio <= FRACTION_RATIO[1])]
    if pairs.empty:
        return _reject(pairs, "percent_scale", [])
    example = pairs.drop_duplicates(SERIES).set_index(SERIES)
    series_max = percent.groupby(SERIES)["value"].max()
    hit_series = series_max.reindex(example.index)
    whole = set(hit_series[hit_series <= 1].index)
    # the file's other breakdowns of that economy's indicator within 0-1 share its scale
    # (the female and male rows of an economy given in fractions, where no other file has
    # them by sex)
    economies = {k[:3]: k for k in whole}
    within = series_max[series_max <= 1]
    shared = {k: economies[k[:3]] for k in within.index if k[:3] in economies}
    key = pd.Series(list(zip(*(percent[c] for c in SERIES))), index=percent.index)
    in_whole = key.map(lambda k: k in shared)
    matched = pairs[~pd.Series([k in shared for k in zip(*(pairs[c] for c in SERIES))],
                               index=pairs.index)]
    rows = pd.concat([percent[in_whole],
                      percent.merge(matched[["result_no", "obs_no"]], on=["result_no", "obs_no"])],
                     ignore_index=True)
    reasons = []
    for r in rows.itertuples():
        k = (r.result_no, r.indicator, r.iso3, r.sex, r.location)
        e = example.loc[shared.get(k, k)]
        other = results[int(e["result_no_other"])].path.name
        if k in whole:
            scope = f"every value of {r.iso3}'s {r.indicator} series in this file lies within 0-1"
        elif k in shared:
            scope = (f"{r.iso3}'s {r.indicator} ({r.sex}/{r.location}) lies within 0-1 like "
                     "its total, which is")
        else:
            scope = f"{r.iso3} {r.year}: {r.value:g}"
        reasons.append(f"{scope}, about a hundredth of {other}'s for the same years (e.g. "
                       f"{int(e['year'])}: {e['value']:g} here, {e['value_other']:g} there): "
                       "probable fractions of one where per cent (0-100) is expected")
    return _reject(rows, "percent_scale", reasons)


def _fractions_within_series(percent: pd.DataFrame) -> pd.DataFrame:
    frame = percent.assign(series=percent.groupby(SERIES, sort=False).ngroup())
    frame = frame.sort_values(["series", "year"])
    same = frame["series"].shift(1) == frame["series"]
    same_next = frame["series"].shift(-1) == frame["series"]
    prev_v, next_v = frame["value"].shift(1), frame["value"].shift(-1)
    prev_gap = frame["year"] - frame["year"].shift(1)
    next_gap = frame["year"].shift(-1) - frame["year"]
    v = frame["value"]
    low, _ = FRACTION_RATIO
    far = ((v > 0) & (v <= 1) & same & same_next
           & (prev_gap <= FRACTION_NEIGHBOUR_YEARS) & (next_gap <= FRACTION_NEIGHBOUR_YEARS)
           & (prev_v >= FRACTION_OTHER_MIN) & (next_v >= FRACTION_OTHER_MIN)
           & (prev_v >= low * v) & (next_v >= low * v))
    rows = frame[far]
    reasons = [f"{r.iso3} {r.year}: {r.value:g} between {p:g} and {n:g} in the years around "
               "it: probable fractions of one where per cent (0-100) is expected"
               for r, p, n in zip(rows.itertuples(), prev_v[far], next_v[far])]
    return _reject(rows, "percent_scale", reasons)
