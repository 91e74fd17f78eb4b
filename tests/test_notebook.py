"""The quickstart notebook runs top to bottom in a real Jupyter kernel (sync API inside a running loop)."""

from __future__ import annotations

import re
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
    # The saved file reads well without widget state: the panels' final counts, never their first state.
    saved = [o for c in nb.cells for o in c.get("outputs", [])]
    finals = [o["data"]["text/html"] for o in saved if "finished" in str(o.get("data", {}).get("text/html", ""))]
    assert finals and all("/? submitted" not in f for f in finals)
    assert any("4/4 finished" in f for f in finals)
    assert "0/? submitted" not in outputs
    # Where widgets are not rendered (text/plain): one line per run, with totals, units and the counts by status.
    assert "tts: 4/4 rows submitted, 4/4 finished (4 completed); credits charged: 0.66 / 0.66 estimated" in outputs
    assert "job/s" not in outputs and "0job" not in outputs
    # The estimate shows the columns that matter, not the eleven mostly empty result columns.
    estimate = next(_text(c.outputs) for c in nb.cells if c.cell_type == "code" and "akool.estimate(" in c.source)
    assert "akool_price_basis" in estimate and "akool_status" not in estimate and "<NA>" not in estimate


def test_cost_forecast_notebook_runs() -> None:
    """03: campaign sheet -> forecast, two scenarios, chart, HTML report; a sandbox run -> calibration."""
    nb = nbformat.read(NOTEBOOKS / "03_cost_forecast.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = "\n".join(_text(cell.get("outputs", [])) for cell in nb.cells if cell.cell_type == "code")
    assert "540 units have no price and are not included" in outputs  # never summed as 0
    assert "Scenario as planned: 32,156 credits" in outputs and "Scenario 720p only: 30,156 credits" in outputs
    assert "report written: forecast.html" in outputs
    assert "charges not reported by the API for 6 rows (talking_photo)" in outputs
    assert "calibrated from 6 charged jobs" in outputs
    assert "estimated now: 210.0 credits; the sandbox charged: 210.0" in outputs
    figures = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert figures  # the chart is in the notebook


def test_bulk_localization_notebook_runs() -> None:
    """02: sheet -> rows x languages -> speech -> talking photos -> named downloads -> a sheet again."""
    nb = nbformat.read(NOTEBOOKS / "02_bulk_localization.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = "\n".join(_text(cell.get("outputs", [])) for cell in nb.cells if cell.cell_type == "code")
    assert "8 scripts -> 14 rows" in outputs and "1 row(s) have no language" in outputs
    assert "speech: {'completed': 14} | videos: {'completed': 14}" in outputs
    assert "'00101_de.mp4', '00101_es.mp4', '00101_fr.mp4'" in outputs
    assert "input columns come back identical: True" in outputs
    assert "'duplicate_creates': 0" in outputs
    # Local files in (staged to a loopback S3, each content once), videos saved to the bucket as they completed,
    # and a re-run that creates, uploads and saves nothing.
    found = re.search(r"(\d+) local files, (\d+) distinct contents: uploaded (\d+) objects", outputs)
    assert found and int(found[1]) > int(found[2]) == int(found[3]) > 0, outputs[-2000:]
    assert "videos: {'completed': 14}" in outputs
    assert "saved: ['00101_de.mp4', '00101_es.mp4', '00101_fr.mp4']" in outputs
    assert "s3://localization-demo/videos/00101_es.mp4" in outputs
    assert "re-run: new creates 0 | new uploads 0 | same job ids: True" in outputs
