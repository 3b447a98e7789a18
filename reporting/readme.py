"""The README's generated parts, read from a published database: the backtest's scores and the
economies each headline figure rests on a model for. Each part sits between two markers,

    <!-- generated: NAME -->
    …
    <!-- end: NAME -->

`python -m reporting.readme README.md DB` rewrites them from DB; `--check` only says whether
they match (tests/test_readme_facts.py runs it on the session's publication).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb
import pandas as pd

from catalog import indicators
from indicators.weights import weight_column

LEVELS = ("country", "country_modelled", "group")
NAMED = 6   # economies named per headline figure, by weight


def backtest_table(con: duckdb.DuckDBPyConnection) -> str:
    """The evaluation cut-offs' scores pooled over horizons 1-3, per indicator and level."""
    bt = con.execute("SELECT * FROM backtest WHERE period = 'evaluation' AND horizon = '1-3'"
                     ).df()
    order = {c: i for i, c in enumerate(indicators())}
    bt = bt.assign(i=bt["indicator"].map(order), l=bt["level"].map(LEVELS.index))
    header = ("| indicator | level | n | bias | MAE | carry forward | linear trend "
              "| 90% coverage | interval score |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for r in bt.sort_values(["i", "l"]).itertuples():
        lines.append(f"| {indicators()[r.indicator].label} | {r.level} | {r.n} | "
                     f"{r.bias_pp:+.2f} | {r.mae_pp:.2f} | {_pp(r.mae_carry_forward_pp)} | "
                     f"{_pp(r.mae_linear_trend_pp)} | {r.coverage90:.3f} | "
                     f"{r.interval_score:.1f} |")
    return "\n".join(lines)


def _pp(value) -> str:
    return "" if pd.isna(value) else f"{value:.2f}"


def modelled_economies(con: duckdb.DuckDBPyConnection) -> str:
    """Per headline figure: the share of its weight in economies never observed in its series
    (their value is the never-observed model's, or a modelled gap), and the largest of them."""
    h = con.execute("SELECT * FROM headline ORDER BY paragraph").df()
    lines = []
    for r in h.itertuples():
        column = weight_column(indicators()[r.indicator].weight, r.sex, r.location)
        rows = con.execute(f"""
            SELECT coalesce(e2.name, e.iso3) AS name, w.{column} AS weight, e.ever_observed
            FROM estimates e
            JOIN groups g ON g.iso3 = e.iso3 AND g.year = e.year AND g.group_code = ?
            JOIN weights w ON w.iso3 = e.iso3 AND w.year = e.year
            LEFT JOIN economies e2 ON e2.iso3 = e.iso3
            WHERE e.indicator = ? AND e.sex = ? AND e.location = ? AND e.year = ?""",
                           [r.group_code, r.indicator, r.sex, r.location, int(r.year)]).df()
        never = rows[~rows["ever_observed"]].sort_values("weight", ascending=False)
        share = never["weight"].sum() / rows["weight"].sum()
        named = ", ".join(never["name"].head(NAMED))
        more = f" and {len(never) - NAMED} more" if len(never) > NAMED else ""
        lines.append(f"- {r.figure}: {share:.1%} of the weight in {len(never)} economies"
                     + (f" ({named}{more})" if len(never) else ""))
    return "\n".join(lines)


PARTS = {"backtest": backtest_table, "modelled": modelled_economies}


def render(text: str, db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        for name, make in PARTS.items():
            pattern = re.compile(
                rf"(<!-- generated: {name} -->\n)(?:.*?\n)?(<!-- end: {name} -->)", re.DOTALL)
            if not pattern.search(text):
                raise ValueError(f"the README has no generated part {name!r}")
            body = make(con)
            text = pattern.sub(lambda m, b=body: m.group(1) + b + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", type=Path)
    parser.add_argument("db", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the generated parts differ from the database's")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new = render(text, args.db)
    if args.check:
        return int(new != text)
    args.readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
