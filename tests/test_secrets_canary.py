"""The secrets drill's other half (issue 11; tests/client/test_secrets.py covers reprs, logs, exceptions, the
ledger, frames and progress output): with canary keys, a run through the CLI, a failing CLI run, an HTML report,
sheets written as csv and xlsx, a webhook-mode run's receiver, and a notebook executed in a real kernel and saved
(outputs, widget states, a traceback) never carry a key. Target: 0 hits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import akool_frames as af

CANARY = {"api_key": "CANARYakoolKEY0123456789abcdef01", "client_id": "CANARYclientID01",
          "audiocleaner_api_key": "CANARYcleanerKEY0123456789abcdef", "kling_access_key": "ak-CANARYklingAccess",
          "kling_secret_key": "CANARYklingSECRET0123456789abcdef"}


def _hits(text: str) -> list[str]:
    return [name for name, value in CANARY.items() if value in text]


def test_canary_keys_reach_no_output(tmp_path: Path) -> None:
    with af.sandbox(time_scale=200, **CANARY) as sb:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))},
               **sb.env(), "AKOOL_FRAMES_LEDGER": str(tmp_path / "ledger.sqlite")}
        assert env["AKOOL_API_KEY"] == CANARY["api_key"]  # the canary is what the client really sends
        pd.DataFrame({"id": ["001", "002"], "text": ["Canary one.", "Canary two."]}).to_csv(tmp_path / "in.csv",
                                                                                          index=False)
        cli = [sys.executable, "-m", "akool_frames.cli"]
        run = subprocess.run([*cli, "run", str(tmp_path / "in.csv"), "--job", "tts", "--map", "input_text=text",
                              "--set", "voice_id=6889b628662160e2caad5dbc", "--out", str(tmp_path / "out.csv")],
                             env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert run.returncode == 0, run.stderr[-2000:]
        refused = subprocess.run([*cli, "run", str(tmp_path / "in.csv"), "--job", "tts", "--map", "input_text=text",
                                  "--set", "voice_id=6889b628662160e2caad5dbc", "--out", str(tmp_path / "bad.csv")],
                                 env={**env, "AKOOL_API_KEY": CANARY["api_key"][::-1]}, capture_output=True, text=True,
                                 timeout=120, cwd=tmp_path)
        status = subprocess.run([*cli, "status", str(tmp_path / "out.csv")], env=env, capture_output=True, text=True,
                                timeout=120, cwd=tmp_path)
        with af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite") as client:
            out = pd.DataFrame({"text": ["Canary three."]}).akool.run(
                "tts", client=client, progress=False, follow="webhook", input_text=af.col("text"),
                voice_id="6889b628662160e2caad5dbc")
            receiver = repr(client._receiver.__dict__)
            report = af.report(out, client=client)
            report.to_html(tmp_path / "report.html")
            af.write_sheet(out, tmp_path / "out.xlsx")
            af.write_sheet(out, tmp_path / "out2.csv")
            xlsx = af.read_sheet(tmp_path / "out.xlsx")
    texts = {
        "cli run": run.stdout + run.stderr, "cli refused": refused.stdout + refused.stderr,
        "cli status": status.stdout + status.stderr, "result csv": (tmp_path / "out.csv").read_text(),
        "report html": (tmp_path / "report.html").read_text(), "report repr": repr(report),
        "sheet csv": (tmp_path / "out2.csv").read_text(encoding="utf-8-sig"), "sheet xlsx": xlsx.to_csv(),
        "receiver": receiver, "frame": out.to_csv(),
    }
    assert "Canary one." in texts["result csv"] and "Canary three." in texts["sheet xlsx"]  # the search finds things
    assert {where: _hits(text) for where, text in texts.items() if _hits(text)} == {}


NOTEBOOK_CELLS = [
    ("import pandas as pd\nimport akool_frames as af\n"
     "sb = af.Sandbox(time_scale=200, **{keys!r}).start()\n"
     "client = af.Client(**sb.client_options(), ledger='ledger.sqlite')\nclient"),
    ("out = pd.DataFrame({{'text': ['Canary four.', '']}}).akool.run('tts', client=client, input_text=af.col('text'),\n"
     "                                                              voice_id='6889b628662160e2caad5dbc')\nout"),
    "af.ledger(client=client)",
    "af.report(out, client=client)",
    ("refused = af.Client(**{{**sb.client_options(), 'api_key': {reversed!r}}}, ledger='ledger.sqlite')\n"
     "pd.DataFrame({{'text': ['Canary five.']}}).akool.run('tts', client=refused, input_text=af.col('text'),\n"
     "                                                  voice_id='6889b628662160e2caad5dbc')"),
    "af.credits(client=refused)",  # raises: its traceback is saved
]


def test_canary_keys_reach_no_saved_notebook(tmp_path: Path) -> None:
    """A notebook run in a real kernel and saved as a user would (outputs, widget states, a traceback)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [c.format(keys=CANARY, reversed=CANARY["api_key"][::-1]) for c in NOTEBOOK_CELLS]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, store_widget_state=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = tmp_path / "canary.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text()
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert "Canary four." in text and any(o.get("output_type") == "error" for o in outputs)  # the search finds things
    # The keys the cells were given appear in their sources; outputs and widget states must not carry them.
    for cell in nb.cells:
        cell.source = ""
    assert _hits(nbformat.writes(nb)) == []
