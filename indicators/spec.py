"""Indicators as data: `catalog.yaml` holds one declarative spec per indicator."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CATALOG = Path(__file__).with_name("catalog.yaml")

# Plausible range of a value, by unit: (lowest, highest); None means unbounded.
UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "percent": (0.0, 100.0),
    "per_100": (0.0, 1000.0),
    "persons": (0.0, 2.0e9),
    "usd": (0.0, None),
    "tonnes_per_capita": (0.0, None),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    title: str
    unit: str
    definition: str
    role: str
    sdg: str | None = None
    weight: str | None = None
    breakdowns: dict = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    projections: bool = False
    estimation: dict | None = None


@cache
def indicators() -> dict[str, Indicator]:
    raw = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    out = {}
    for code, spec in raw.items():
        spec = dict(spec)
        spec["aliases"] = tuple(spec.get("aliases", []))
        spec["definition"] = " ".join(spec["definition"].split())
        out[code] = Indicator(code=code, **spec)
    return out


def estimated() -> list[Indicator]:
    """Indicators with an estimation spec, each after the indicator that predicts it."""
    todo = [i for i in indicators().values() if i.estimation]
    done: list[Indicator] = []
    while todo:
        ready = [i for i in todo if i.estimation.get("predictor") in
                 {None, *(d.code for d in done)}]
        if not ready:
            raise ValueError("estimation predictors form a cycle in catalog.yaml")
        done += ready
        todo = [i for i in todo if i not in ready]
    return done


@cache
def code_for(name: str) -> str:
    """The canonical code of an indicator from its own code or any publisher's alias."""
    for ind in indicators().values():
        if name == ind.code or name in ind.aliases:
            return ind.code
    raise KeyError(name)
