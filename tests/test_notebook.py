"""The analyst notebook runs headless against a published database and shows its figures."""
from __future__ import annotations

from pathlib import Path

import duckdb
import nbformat

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "analyst_walkthrough.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def _outputs(nb) -> tuple[str, int, list]:
    text, images, errors = [], 0, []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                errors.append(out)
            if out.output_type == "stream":
                text.append(out.text)
            if out.output_type in ("execute_result", "display_data"):
                text.append(out.data.get("text/plain", ""))
                images += "image/png" in out.data
    return "\n".join(text), images, errors


def test_notebook_runs_headless_on_the_published_database(published, monkeypatch, tmp_path):
    from nbclient import NotebookClient

    monkeypatch.setenv("ICTSTATS_DB", str(published))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=180,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    text, images, errors = _outputs(nb)
    assert not errors
    with duckdb.connect(str(published), read_only=True) as con:
        value, lower, upper = con.execute(
            "SELECT value, lower, upper FROM aggregates WHERE indicator = 'IT_USE_ii99' "
            "AND sex = 'total' AND location = 'total' AND group_code = 'WLD' "
            "AND year = 2025").fetchone()
        run_id = con.execute("SELECT run_id FROM runs ORDER BY finished_at DESC "
                             "LIMIT 1").fetchone()[0]
    assert f"World Internet use 2025: {value:.1f}%" in text
    assert f"(90% interval {lower:.1f}-{upper:.1f}%)" in text
    assert f"opened {published} read-only" in text
    assert run_id in text
    assert images >= 1, "the chart was not drawn"
    nbformat.write(nb, tmp_path / "executed.ipynb")             # the executed copy is valid

