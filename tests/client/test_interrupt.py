"""Ctrl-C: a run interrupted by SIGINT stops within seconds and its KeyboardInterrupt says what was
sent, what runs on and how to resume; the ledger stays consistent, so the same cell run again sends only the
rest (the sandbox counts creates: none twice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import akool_frames as af

ROWS = 150
SCRIPT = textwrap.dedent(f"""
    import sys
    import pandas as pd
    import akool_frames as af
    df = pd.DataFrame({{"text": [f"Interrupted line {{i}}." for i in range({ROWS})]}})
    print("running", flush=True)
    out = df.akool.run("tts", progress=False, input_text=af.col("text"), voice_id="6889b628662160e2caad5dbc")
    print("statuses", sorted(set(out["akool_status"])), flush=True)
""")


def _start(sb: af.Sandbox, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **sb.env(), "AKOOL_FRAMES_LEDGER": str(tmp_path / "ledger.sqlite"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ctrl_c_says_what_was_sent_and_the_same_cell_resumes(make_sandbox, tmp_path: Path) -> None:
    sb = make_sandbox(time_scale=5.0, rate_limit=30)  # creates take ~5 s in all, jobs ~1 s each
    first = _start(sb, tmp_path)
    assert first.stdout is not None and first.stdout.readline().strip() == "running"
    time.sleep(1.5)
    first.send_signal(signal.SIGINT)
    try:
        out, err = first.communicate(timeout=15)  # stops within seconds
    finally:
        first.kill()
    assert first.returncode != 0 and "statuses" not in out
    last = err.strip().splitlines()[-1]
    assert last.startswith("KeyboardInterrupt: Interrupted: ") and f" of {ROWS} jobs sent (" in last, err[-2000:]
    assert "re-run the same cell to follow the running jobs and send the rest" in last
    sent_before = sb.stats()["creates"]
    assert 0 < sent_before < ROWS

    second = _start(sb, tmp_path)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err[-2000:]
    assert "statuses ['completed']" in out
    stats = sb.stats()
    assert stats["creates"] == ROWS and stats["duplicate_creates"] == 0  # the rest only, nothing twice
