"""The figures of a run on the bundled data, held against a small golden file.

`tests/golden/figures.json` holds, per table, its row count and a digest of its keys and
values (floats to 12 significant digits, so a relative change of 1e-12 shows and noise below
it does not), the sums of each float column per indicator, sex, location, ..., the headline
figures in the clear, and the floating-point environment it was made in (numpy's SIMD extensions found at run time, the BLAS
kernels). A restructuring must leave it true; a change of method regenerates it on purpose,
in its own commit:

    uv run python tests/test_golden.py --write

In the environment it was made in, every table is held to the digest. Another CPU's kernels
round exp, log and sums otherwise in the last bit, and the fits amplify that: on an AMD EPYC
(AVX-512) the headline figures of a golden file made on another machine differed by up to
3e-4 relatively (LIC Internet use 2025: 22.7435 against 22.7367). There the tables read
straight from the sources (observations, weights, groups) are still held to the digest, the
estimation's tables keep their row counts and their keys and text columns exactly, and their
float sums and the headline figures stay within RELATIVE_TOLERANCE.
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import duckdb
import numpy as np
from threadpoolctl import threadpool_info

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
READ_FROM_SOURCES = ("observations", "weights", "groups")   # no floating-point arithmetic
STRATA = 12   # key columns with at most this many values stratify the float sums
RELATIVE_TOLERANCE = 2e-3   # across environments: seven times the largest difference seen


def _text(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.12g}"
    return str(value)


def environment() -> dict:
    """What decides the last bits of the arithmetic: numpy's SIMD kernels and the BLAS's."""
    return {"simd": np.show_config(mode="dicts")["SIMD Extensions"]["found"],
            "blas": sorted(f"{i['internal_api']} {i.get('architecture')}"
                           for i in threadpool_info() if i["user_api"] == "blas")}


def _sha(rows) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update("\x1f".join(_text(v) for v in row).encode() + b"\n")
    return h.hexdigest()


def digest(db: Path) -> dict:
    out = {"environment": environment()}
    with duckdb.connect(str(db), read_only=True) as con:
        for name, (key, values) in TABLES.items():
            columns = ", ".join(f'"{c}"' for c in key + values)
            order = ", ".join(f'"{c}"' for c in key)
            rows = con.execute(f"SELECT {columns} FROM {SOURCE_TABLE.get(name, name)} "
                               f"ORDER BY {order}").fetchall()
            names = key + values
            floats = [i for i in range(len(names))
                      if any(isinstance(r[i], float) for r in rows[:200])]
            # the float sums per combination of the few-valued keys (indicator, sex, ...)
            strata = [i for i in range(len(key)) if len({r[i] for r in rows}) <= STRATA]
            sums: dict[str, float] = {}
            for r in rows:
                for i in floats:
                    if r[i] is not None and not math.isnan(r[i]):
                        label = "/".join([names[i]] + [str(r[j]) for j in strata])
                        sums[label] = sums.get(label, 0.0) + r[i]
            out[name] = {"rows": len(rows), "sha256": _sha(rows),
                         "sha256_without_floats": _sha(
                             [[v for i, v in enumerate(r) if i not in floats] for r in rows]),
                         "float_sums": sums}
        out["headline_values"] = [
            [p, i, s, loc, g, y, round(v, 9)] for p, i, s, loc, g, y, v in con.execute(
                "SELECT paragraph, indicator, sex, location, group_code, year, value "
                "FROM headline ORDER BY ALL").fetchall()]
    return out


def test_the_figures_are_the_golden_ones(published):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = digest(published)
    if now["environment"] == golden["environment"]:
        assert now["headline_values"] == golden["headline_values"]
        changed = [name for name in TABLES if now[name] != golden[name]]
    else:
        changed = [name for name in READ_FROM_SOURCES if now[name] != golden[name]]
        changed += [name for name in TABLES if name not in READ_FROM_SOURCES
                    and not _close(now[name], golden[name])]
        assert [r[:6] for r in now["headline_values"]] == \
            [r[:6] for r in golden["headline_values"]]
        np.testing.assert_allclose([r[6] for r in now["headline_values"]],
                                   [r[6] for r in golden["headline_values"]],
                                   rtol=RELATIVE_TOLERANCE)
    assert not changed, (f"tables {changed} differ from {GOLDEN.name}; if the change of "
                         "figures is meant, regenerate it (see this module's docstring)")


def _close(now: dict, golden: dict) -> bool:
    """Equal but for the floats' last bits (another floating-point environment)."""
    return (now["rows"] == golden["rows"]
            and now["sha256_without_floats"] == golden["sha256_without_floats"]
            and now["float_sums"].keys() == golden["float_sums"].keys()
            and all(math.isclose(now["float_sums"][c], golden["float_sums"][c],
                                 rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)
                    for c in golden["float_sums"]))


def test_another_environment_allows_last_bits_only():
    golden = {"rows": 2, "sha256_without_floats": "k", "float_sums": {"value/IT": 100.0}}
    assert _close({**golden, "float_sums": {"value/IT": 100.0 * (1 + 1e-4)}}, golden)
    assert not _close({**golden, "float_sums": {"value/IT": 101.0}}, golden)
    assert not _close({**golden, "sha256_without_floats": "other"}, golden)
    assert not _close({**golden, "rows": 3}, golden)


if __name__ == "__main__":
    if sys.argv[1:2] != ["--write"]:
        sys.exit(__doc__)
    db = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("data/curated/ict.duckdb")
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(digest(db), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} from {db}")
