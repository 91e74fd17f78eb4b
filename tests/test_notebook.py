"""The quickstart notebook runs top to bottom in a real Jupyter kernel (sync API inside a running loop)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _text(outputs: list) -> str:
    parts = []
    for out in outputs:
        parts.append(out.get("text", ""))
        parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_quickstart_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "\n".join(_text(cell.get("outputs", [])) for cell in nb.cells if cell.cell_type == "code")
    assert "new creates on re-run: 0" in outputs
    assert "'duplicate_creates': 0" in outputs
    assert "statuses: {'completed': 4}" in outputs
    assert "estimate: 0.66 credits" in outputs  # 150 characters x 4.4 / 1000 on the pro plan
