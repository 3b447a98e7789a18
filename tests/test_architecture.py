"""The layers import in one direction, with no cycles:
catalog → schemas → sources → curate → estimation → aggregation → reporting → flows."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    ("catalog", ["catalog"]),
    ("schemas", ["schemas"]),
    ("sources", ["sources"]),
    ("curate", ["curate"]),
    ("estimation", ["indicators.weights", "indicators.membership", "indicators.kalman",
                    "indicators.trend_model", "indicators.gaps", "indicators.raking",
                    "indicators.never_observed", "indicators.estimate",
                    "indicators.inputs", "indicators.estimation"]),
    ("aggregation", ["indicators.aggregate", "indicators.backtest", "indicators.headline",
                     "indicators.revisions", "indicators.figures"]),
    ("reporting", ["reporting"]),
    ("flows", ["flows"]),
]
PACKAGES = ["catalog", "schemas", "sources", "curate", "indicators", "reporting", "flows"]


def modules() -> dict[str, Path]:
    """Every module of the project by dotted name (empty package markers left out)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__init__.py" and not path.read_text(encoding="utf-8").strip():
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def layer_of(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise LookupError(module)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every project module the file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module, not the package's __init__
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known
                     else node.module for a in node.names]
        out |= {n for n in names if n in known}
    return out


def test_every_module_belongs_to_a_layer():
    for name in modules():
        layer_of(name)


def test_no_module_imports_a_later_layer():
    known = set(modules())
    wrong = []
    for name, path in modules().items():
        for target in imports_of(path, known):
            if layer_of(target) > layer_of(name):
                wrong.append(f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} "
                             f"({LAYERS[layer_of(target)][0]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    known = set(modules())
    graph = {name: imports_of(path, known) - {name} for name, path in modules().items()}
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                pytest.fail("import cycle: " + " → ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])
