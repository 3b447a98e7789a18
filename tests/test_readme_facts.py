"""The README's generated parts (the backtest's scores, the economies each headline figure
rests on a model for) are those of the edition's publication: regenerate them on purpose
with `python -m reporting.readme README.md data/curated/ict.duckdb`."""
from __future__ import annotations

from pathlib import Path

from reporting.readme import PARTS, render

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_generated_parts_match_the_publication(published):
    text = README.read_text(encoding="utf-8")
    for name in PARTS:
        assert f"<!-- generated: {name} -->" in text
    assert render(text, published) == text, (
        "the README's generated parts differ from the edition's publication: run "
        "`python -m reporting.readme README.md <the published ict.duckdb>`")
