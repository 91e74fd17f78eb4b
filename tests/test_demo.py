"""The README's first command: `akool-frames demo` runs tts then talking_photo on the sandbox and writes results."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path


def test_demo_command(tmp_path: Path) -> None:
    out = tmp_path / "results" / "demo.csv"
    done = subprocess.run([sys.executable, "-m", "akool_frames.cli", "demo", "--rows", "12", "--out", str(out),
                           "--time-scale", "200"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "12 completed" in done.stdout
    assert "(0 duplicates)" in done.stdout
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12
    assert [r["line_id"] for r in rows] == [f"L{i:03d}" for i in range(1, 13)]  # input order kept
    assert all(r["tts_status"] == "completed" and r["video_status"] == "completed" for r in rows)
    assert all(r["video_url"].endswith(".mp4") and r["tts_url"].endswith(".mp3") for r in rows)
    assert len({r["video_job_id"] for r in rows}) == 12


def test_cli_help_lists_commands() -> None:
    done = subprocess.run([sys.executable, "-m", "akool_frames.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "demo" in done.stdout and "sandbox" in done.stdout
