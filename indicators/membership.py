"""Group membership per year: world, World Bank income groups, LDC/LLDC/SIDS, SDG regions.

Income groups by year: data year Y uses the classification the World Bank published in July
of Y (fiscal year Y+1). Years beyond the latest list use the latest, and the classification
label says so. `fixed_fiscal_year` instead applies one list to every year (the WDI practice).
"""
from __future__ import annotations

import itertools

import pandas as pd

from catalog import groups, groups_of, schemes, sources


def sdg_regions(economies: pd.DataFrame) -> pd.Series:
    """iso3 → SDG region code (text), from the M49 sub-regions the groups catalog lists."""
    regions = [g for g in groups().values() if g.scheme == "sdg_region"]
    of_subregion = {int(s): g.code for g in regions for s in g.member.get("subregions", [])}
    sub = economies.set_index("iso3")["sub_region_code"]
    # M49 puts Latin America's sub-regions under one 'sub-region' 419 in this file
    region = sub.map(lambda c: of_subregion.get(int(c)) if pd.notna(c) else None)
    for g in regions:
        for iso3 in g.member.get("economies", []):
            region[iso3] = g.code
    return region.dropna()


def income_by_fiscal_year(income_groups: pd.DataFrame) -> pd.DataFrame:
    """One income group per economy and fiscal year: where several lists give one fiscal
    year, the source listed first in the source catalog wins (the official lists first)."""
    rank = {s.id: i for i, s in enumerate(sources())}
    ordered = income_groups.assign(rank=income_groups["source"].map(rank).fillna(99))
    ordered = ordered.sort_values(["iso3", "fiscal_year", "rank"])
    return ordered.drop_duplicates(["iso3", "fiscal_year"])[
        ["iso3", "fiscal_year", "income_group", "source"]]


def membership(universe: pd.DataFrame, economies: pd.DataFrame, income_groups: pd.DataFrame,
               fixed_fiscal_year: int | None = None) -> pd.DataFrame:
    """group_scheme, group_code, iso3, year, classification for every economy-year of
    `universe` (iso3, year): the membership actually used."""
    years = universe[["iso3", "year"]].drop_duplicates()
    scheme = schemes()
    parts = [years.assign(group_scheme="world", group_code=code,
                          classification=scheme["world"]["classification"])
             for code in groups_of("world")]

    income = income_by_fiscal_year(income_groups)
    latest = int(income["fiscal_year"].max())
    earliest = int(income["fiscal_year"].min())
    wanted = years.copy()
    if fixed_fiscal_year is not None:
        wanted["fiscal_year"] = fixed_fiscal_year
    else:
        wanted["fiscal_year"] = (wanted["year"] + 1).clip(earliest, latest)
    labelled = wanted.merge(income, on=["iso3", "fiscal_year"], how="inner")
    labelled["classification"] = [
        _income_label(fy, y, latest, earliest, fixed_fiscal_year is not None)
        for fy, y in zip(labelled["fiscal_year"], labelled["year"])]
    parts.append(labelled.rename(columns={"income_group": "group_code"}).assign(
        group_scheme="income")[["iso3", "year", "group_scheme", "group_code",
                                "classification"]])

    eco = economies.set_index("iso3")
    for code in groups_of("un_special"):
        members = set(eco.index[eco[groups()[code].member["flag"]]])
        parts.append(years[years["iso3"].isin(members)].assign(
            group_scheme="un_special", group_code=code,
            classification=scheme["un_special"]["classification"]))
    region = sdg_regions(economies)
    regional = years.assign(group_code=years["iso3"].map(region)).dropna(subset=["group_code"])
    parts.append(regional.assign(group_scheme="sdg_region",
                                 classification=scheme["sdg_region"]["classification"]))
    out = pd.concat(parts, ignore_index=True)
    out["group_name"] = out["group_code"].map({c: g.name for c, g in groups().items()})
    return out[["group_scheme", "group_code", "group_name", "iso3", "year", "classification"]]


def _income_label(fiscal_year: int, year: int, latest: int, earliest: int, fixed: bool) -> str:
    label = f"WB FY{fiscal_year % 100:02d}"
    if fixed:
        return f"{label} (fixed for all years)"
    if year + 1 > latest:
        return f"{label} (latest available)"
    if year + 1 < earliest:
        return f"{label} (earliest available)"
    return label


# ------------------------------------------------------------------------------ changes
CHANGE_COLUMNS = ["group_scheme", "group_code", "group_name", "iso3", "change", "first_year",
                  "last_year", "before", "after", "note"]


def classification_changes(used: pd.DataFrame, economies: pd.DataFrame,
                           income_groups: pd.DataFrame,
                           economy_regions: pd.DataFrame | None = None,
                           fixed_fiscal_year: int | None = None) -> pd.DataFrame:
    """Members a group lost (or gained) between classification files and vintages, for the
    economies of the run's universe (`used`: the membership used, as `membership` makes it):

    - an economy the country codes lack, which another file places in an M49 region
      (`economy_regions`: the Open Data Watch list), is `removed` from that SDG region, and
      from whatever LDC/LLDC/SIDS group it was in (which only the country codes say); one no
      file places is `unplaced`;
    - an economy in one World Bank income list (fiscal year) and in none of the next one used
      is `removed` from its group; one in the next and not the one before is `added`.
    """
    rows = []
    universe = used[used["group_scheme"] == "world"].groupby("iso3")["year"].agg(
        ["min", "max"])
    placed = set(used.loc[used["group_scheme"] == "sdg_region", "iso3"])
    listed = set(economies["iso3"])
    codes = _label(economies, "country codes")
    region_of = _sdg_region_of_m49(economies)
    regions = economy_regions if economy_regions is not None else pd.DataFrame(
        columns=["iso3", "m49_region", "source", "file"])
    for iso3 in sorted(set(universe.index) - placed):
        first, last = (int(v) for v in universe.loc[iso3])
        elsewhere = regions[regions["iso3"] == iso3]
        group = next((region_of.get(int(c)) for c in elsewhere["m49_region"]
                      if region_of.get(int(c))), None)
        missing = iso3 not in listed
        why = (f"{iso3} is not in the country codes" if missing else
               f"{iso3}'s M49 sub-region in the country codes is in no SDG region")
        if group is not None:
            file = elsewhere["file"].iloc[0]
            region = int(elsewhere["m49_region"].iloc[0])
            also = (" nor any LDC, LLDC or SIDS group (only the country codes say)"
                    if missing else "")
            rows.append({
                "group_scheme": "sdg_region", "group_code": group, "iso3": iso3,
                "change": "removed", "first_year": first, "last_year": last,
                "before": f"{file} (M49 region {region})", "after": codes,
                "note": f"{why}, though {file} places it in this region; it is in no SDG "
                        f"region{also}"})
        else:
            rows.append({
                "group_scheme": "sdg_region", "group_code": None, "iso3": iso3,
                "change": "unplaced", "first_year": first, "last_year": last, "before": None,
                "after": codes, "note": f"{why}, and no classification file places it in an "
                                        "M49 region: it is in no SDG region"})
    if fixed_fiscal_year is None and len(income_groups):
        rows += _income_vintage_changes(income_groups, universe)
    return _changes(rows)


def _changes(rows: list[dict]) -> pd.DataFrame:
    """Change records as the `groups_changes` table holds them, with the groups' names."""
    out = pd.DataFrame(rows, columns=[c for c in CHANGE_COLUMNS if c != "group_name"])
    out["group_name"] = out["group_code"].map({c: g.name for c, g in groups().items()})
    return out[CHANGE_COLUMNS].astype({"first_year": "int32", "last_year": "int32"})


def _label(table: pd.DataFrame, fallback: str) -> str:
    if "source" in table and len(table):
        first = table.iloc[0]
        return f"{first['source']} ({first.get('release', '')})".replace(" ()", "")
    return fallback


def _sdg_region_of_m49(economies: pd.DataFrame) -> dict[int, str]:
    """M49 sub-region or intermediate-region code -> SDG region group (the hierarchy as the
    country codes give it)."""
    regions = [g for g in groups().values() if g.scheme == "sdg_region"]
    of_subregion = {int(s): g.code for g in regions for s in g.member.get("subregions", [])}
    out = dict(of_subregion)
    known = economies.dropna(subset=["sub_region_code"])
    for inter, sub in zip(known["intermediate_region_code"], known["sub_region_code"]):
        if pd.notna(inter) and int(sub) in of_subregion:
            out.setdefault(int(inter), of_subregion[int(sub)])
    return out


def _income_vintage_changes(income_groups: pd.DataFrame, universe: pd.DataFrame) -> list[dict]:
    income = income_by_fiscal_year(income_groups)
    providers = income_groups.groupby("fiscal_year")["source"].agg(
        lambda s: ", ".join(sorted(set(s))))
    years = range(int(universe["min"].min()), int(universe["max"].max()) + 1) \
        if len(universe) else range(0)
    earliest, latest = int(income["fiscal_year"].min()), int(income["fiscal_year"].max())
    used = sorted({min(max(y + 1, earliest), latest) for y in years})
    members = {fy: dict(zip(part["iso3"], part["income_group"]))
               for fy, part in income.groupby("fiscal_year")}
    rows = []
    for k, (a, b) in enumerate(itertools.pairwise(used)):
        before, after = members.get(a, {}), members.get(b, {})
        label_a = f"WB FY{a % 100:02d} ({providers.get(a, '?')})"
        label_b = f"WB FY{b % 100:02d} ({providers.get(b, '?')})"
        first_year = b - 1
        for iso3 in sorted(set(before) ^ set(after)):
            if iso3 not in universe.index:
                continue
            last = int(universe.loc[iso3, "max"])
            # until the list in which it is back (or out again): data year FY - 2
            back = next((c for c in used[k + 2:] if (iso3 in members.get(c, {}))
                         != (iso3 in after)), None)
            if back is not None:
                last = min(last, back - 2)
            if iso3 in before:
                if first_year > last:
                    continue
                rows.append({
                    "group_scheme": "income", "group_code": before[iso3], "iso3": iso3,
                    "change": "removed", "first_year": first_year, "last_year": last,
                    "before": label_a, "after": label_b,
                    "note": f"{iso3} is in FY{a % 100:02d}'s list and in no income group of "
                            f"FY{b % 100:02d} (unclassified or not listed)"})
            else:
                rows.append({
                    "group_scheme": "income", "group_code": after[iso3], "iso3": iso3,
                    "change": "added", "first_year": first_year, "last_year": last,
                    "before": label_a, "after": label_b,
                    "note": f"{iso3} is in no income group of FY{a % 100:02d} and in "
                            f"FY{b % 100:02d}'s list"})
    return rows


def weights_lost(quarantine: pd.DataFrame, values: pd.DataFrame,
                 weights: pd.DataFrame) -> pd.DataFrame:
    """Economies with values to aggregate but no weight population because values of theirs
    were rejected (e.g. two population files that disagree beyond the plausible factor are
    both set aside): they left every group, the world included, and say so. Economies the
    sources give no population at all (small territories) are not a loss of this run."""
    weighted = set(weights["iso3"])
    rejected = set(quarantine["iso3"].dropna()) if "iso3" in quarantine else set()
    lost = values[values["iso3"].isin(rejected - weighted)]
    rows = [{"group_scheme": "world", "group_code": code, "iso3": iso3, "change": "removed",
             "first_year": int(years.min()), "last_year": int(years.max()),
             "before": "its values in the sources", "after": "weights",
             "note": f"{iso3} has {len(years)} value(s) to aggregate but no weight population: "
                     "its population values were rejected (table quarantine), so it is in no "
                     "aggregate"}
            for iso3, years in lost.groupby("iso3")["year"]
            for code in [c for c, g in groups().items() if g.member == "all"]]
    return _changes(rows)


def membership_lines(changes: pd.DataFrame | None, limit: int = 10) -> list[str]:
    """The members groups lost (removed, unplaced), one line each, for the run's output;
    gains are only stored (table groups_changes)."""
    if changes is None or changes.empty:
        return []
    lost = changes[changes["change"].isin(["removed", "unplaced"])]
    lines = []
    for r in lost.head(limit).itertuples():
        years = (f"{r.first_year}" if r.first_year == r.last_year
                 else f"{r.first_year}-{r.last_year}")
        if r.change == "unplaced":
            lines.append(f"membership: {r.iso3} is in no {r.group_scheme} group ({years}): "
                         f"{r.note}")
        else:
            lines.append(f"membership: {r.group_code} {r.group_name} lost {r.iso3} ({years}; "
                         f"{r.before} -> {r.after}): {r.note}")
    if len(lost) > limit:
        lines.append(f"membership: … and {len(lost) - limit} more (table groups_changes)")
    return lines
