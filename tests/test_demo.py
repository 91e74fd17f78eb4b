"""The README's first command: `akool-frames demo` runs tts then talking_photo on the sandbox and writes results.

Each job's line says what the sandbox charged (talking photo's answers report no credits: from the
balance, said so), and the lines add up to the sandbox's own total; the results are downloaded next to the csv,
which names the files (the sandbox and its links are gone when the demo ends)."""

from __future__ import annotations

import csv
import re
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


def test_demo_says_what_each_job_cost_and_keeps_the_files(tmp_path: Path) -> None:
    out = tmp_path / "results" / "demo_results.csv"
    done = subprocess.run([sys.executable, "-m", "akool_frames.cli", "demo", "--rows", "6", "--out", str(out),
                           "--time-scale", "200"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    charged = {m[1]: (float(m[2]), m[3]) for m in re.finditer(r"^  (\w+) +6 completed +([\d.]+) credits, ([^(]+)",
                                                             done.stdout, re.M)}
    assert set(charged) == {"tts", "talking_photo"}, done.stdout
    assert charged["tts"][1].strip() == "as the API reported"
    assert charged["talking_photo"][1].strip() == "from the balance before and after"
    assert charged["talking_photo"][0] > 0
    total = float(re.search(r"it charged ([\d.]+) credits in all", done.stdout)[1])  # the sandbox's own count
    assert abs(sum(c for c, _ in charged.values()) - total) < 1e-3, done.stdout
    assert "not reported" not in done.stdout

    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for column, suffix in (("tts_file", ".mp3"), ("video_file", ".mp4")):
            file = out.parent / row[column]  # relative to the csv
            assert file.parent == out.parent / "files" and file.suffix == suffix
            assert file.is_file() and file.stat().st_size > 0
    assert len(list((out.parent / "files").iterdir())) == 12


def test_cli_help_lists_commands() -> None:
    done = subprocess.run([sys.executable, "-m", "akool_frames.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "demo" in done.stdout and "sandbox" in done.stdout
