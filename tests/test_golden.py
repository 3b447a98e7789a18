"""The figures of a run on the bundled data, held against a small golden file.

`tests/golden/figures.json` holds, per table, its row count and a digest of its keys and
values (floats to 12 significant digits, so a relative change of 1e-12 shows and noise below
it does not), plus the headline figures in the clear. A restructuring must leave it true; a
change of method regenerates it on purpose, in its own commit:

    uv run python tests/test_golden.py --write
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import duckdb

GOLDEN = Path(__file__).with_name("golden") / "figures.json"
# table -> (key columns, value columns)
TABLES = {
    "observations": (["indicator", "iso3", "year", "sex", "location", "source", "release",
                      "file", "row", "column"], ["value", "unit", "status", "release_date"]),
    "weights": (["iso3", "year"], ["population", "population_female", "population_male",
                                   "population_10plus", "population_10plus_female",
                                   "population_10plus_male", "population_urban",
                                   "population_rural", "weight_source"]),
    "groups": (["group_scheme", "group_code", "iso3", "year"], ["classification"]),
    "estimates": (["indicator", "iso3", "year", "sex", "location"],
                  ["value", "status", "method", "horizon"]),
    "estimate_intervals": (["indicator", "iso3", "year", "sex", "location"],
                           ["lower", "upper"]),
    "aggregates": (["indicator", "sex", "location", "group_scheme", "group_code", "year"],
                   ["value", "population_coverage", "n_economies", "n_reported"]),
    "aggregate_intervals": (["indicator", "sex", "location", "group_scheme", "group_code",
                             "year"], ["lower", "upper"]),
    "aggregates_derived": (["indicator", "measure", "sex", "location", "group_scheme",
                            "group_code", "year"], ["value"]),
    "headline": (["paragraph", "indicator", "sex", "location", "group_code", "year"],
                 ["value"]),
}
SOURCE_TABLE = {"estimate_intervals": "estimates", "aggregate_intervals": "aggregates"}


def _text(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.12g}"
    return str(value)


def digest(db: Path) -> dict:
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for name, (key, values) in TABLES.items():
            columns = ", ".join(f'"{c}"' for c in key + values)
            order = ", ".join(f'"{c}"' for c in key)
            rows = con.execute(f"SELECT {columns} FROM {SOURCE_TABLE.get(name, name)} "
                               f"ORDER BY {order}").fetchall()
            h = hashlib.sha256()
            for row in rows:
                h.update("\x1f".join(_text(v) for v in row).encode() + b"\n")
            out[name] = {"rows": len(rows), "sha256": h.hexdigest()}
        out["headline_values"] = [
            [p, i, s, loc, g, y, round(v, 9)] for p, i, s, loc, g, y, v in con.execute(
                "SELECT paragraph, indicator, sex, location, group_code, year, value "
                "FROM headline ORDER BY ALL").fetchall()]
    return out


def test_the_figures_are_the_golden_ones(published):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = digest(published)
    assert now["headline_values"] == golden["headline_values"]
    changed = [name for name in TABLES if now[name] != golden[name]]
    assert not changed, (f"tables {changed} differ from {GOLDEN.name}; if the change of "
                         "figures is meant, regenerate it (see this module's docstring)")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--write"]:
        sys.exit(__doc__)
    db = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("data/curated/ict.duckdb")
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(digest(db), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} from {db}")
