"""The CLI as a new user types it from the README (issue 8): against `akool-frames sandbox` in another process,
on the sample localization sheet: estimate, run, status, download, forecast; exit codes 0 / 1 / 2; one-line
errors; `--help` that teaches with an example; a re-run that resumes instead of paying twice."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import akool_frames as af

ROOT = Path(__file__).resolve().parents[1]
VOICE = "6889b628662160e2caad5dbc"


@pytest.fixture(scope="module")
def sandbox_env() -> Iterator[dict[str, str]]:
    """`akool-frames sandbox` in its own process; the environment it prints, as a user would export it."""
    proc = subprocess.Popen([sys.executable, "-m", "akool_frames.cli", "sandbox", "--port", "0", "--time-scale", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    env: dict[str, str] = {}
    for _ in range(30):
        line = proc.stdout.readline()
        if found := re.match(r"\s+export (\w+)=(\S+)", line):
            env[found.group(1)] = found.group(2)
        if line.startswith("Inspect"):
            break
    assert {"AKOOL_API_KEY", "AKOOL_CLIENT_ID", "AKOOL_CLIENT_SECRET", "AKOOL_BASE_URL"} <= set(env)
    yield env
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))}
    return subprocess.run([sys.executable, "-m", "akool_frames.cli", *args], env={**clean, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _stats(env: dict[str, str]) -> dict[str, object]:
    return httpx.get(f"{env['AKOOL_BASE_URL']}/_sandbox/stats", timeout=10).json()


def test_estimate_run_status_download_as_the_readme_says(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    shutil.copy(ROOT / "sample_data" / "localization.xlsx", tmp_path / "scripts.xlsx")
    common = ["scripts.xlsx", "--explode", "target_languages=language", "--job", "tts", "--map", "input_text=script",
              "--map", "language_code=language", "--set", f"voice_id={VOICE}", "--quiet"]
    est = _cli(["estimate", *common, "--out", "est.xlsx"], sandbox_env, tmp_path)
    assert est.returncode == 0, est.stderr
    assert "14 rows: 14 priced; estimate" in est.stdout and (tmp_path / "est.xlsx").exists()
    creates = _stats(sandbox_env)["creates"]

    done = _cli(["run", *common, "--out", "done.xlsx"], sandbox_env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "14 rows: 14 completed" in done.stdout and "charged" in done.stdout
    sheet = af.read_sheet(tmp_path / "done.xlsx")
    assert sheet["script_id"].tolist()[:3] == ["00101", "00101", "00101"]  # ids stay text through the CLI
    assert set(sheet["akool_status"]) == {"completed"}
    assert _stats(sandbox_env)["creates"] == creates + 14

    again = _cli(["run", *common, "--out", "done.xlsx"], sandbox_env, tmp_path)  # the same command: resumes
    assert again.returncode == 0 and _stats(sandbox_env)["creates"] == creates + 14

    status = _cli(["status"], sandbox_env, tmp_path)
    assert status.returncode == 0, status.stderr
    assert re.search(r"tts\s+completed\s+14\s", status.stdout), status.stdout

    down = _cli(["download", "done.xlsx", "--dest", "audio", "--name", "{script_id}_{language}", "--quiet"],
                sandbox_env, tmp_path)
    assert down.returncode == 0, down.stderr
    assert "14 of 14 files in audio" in down.stdout
    assert sorted(p.name for p in (tmp_path / "audio").iterdir())[:3] == ["00101_de.mp3", "00101_es.mp3",
                                                                         "00101_fr.mp3"]
    assert "akool_expires_at" in af.read_sheet(tmp_path / "done.downloaded.xlsx").columns


def test_some_rows_not_completed_exit_1(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("id,text\n001,Hello\n002,\n", encoding="utf-8")
    out = _cli(["run", "s.csv", "--job", "tts", "--map", "input_text=text", "--set", f"voice_id={VOICE}", "--quiet"],
               sandbox_env, tmp_path)
    assert out.returncode == 1, out.stderr
    assert "2 rows: 1 completed, 1 invalid" in out.stdout and (tmp_path / "s.done.csv").exists()


def test_forecast_writes_its_report(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    out = _cli(["forecast", str(ROOT / "sample_data" / "campaign.csv"), "--rates", "talking_photo=60",
                "--html", "forecast.html"], sandbox_env, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "40 units have no price" in out.stdout and "data:image/png;base64," in (tmp_path / "forecast.html").read_text()


@pytest.mark.parametrize(("args", "said"), [
    (["run", "missing.xlsx", "--job", "tts"], "no such file: missing.xlsx"),
    (["run", "s.csv", "--job", "ttz"], "no such job; did you mean 'tts'?"),
    (["run", "s.csv", "--job", "tts", "--map", "input_text=txt"], "the sheet has no column 'txt'"),
    (["run", "s.csv", "--job", "tts", "--set", "voice_id"], "--set takes field=value"),
    (["estimate", "s.csv", "--job", "tts", "--rates", "talking_photo=lots"], "--rates takes job=credits pairs"),
    (["run", "s.csv", "--job", "tts", "--map", "input_text=text", "--set", "voice_id=v"],
     "No akool credentials"),
])
def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    (tmp_path / "s.csv").write_text("id,text\n001,Hello\n", encoding="utf-8")
    out = _cli(args, {}, tmp_path)  # no credentials in this environment
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert said in out.stderr and "Traceback" not in out.stderr
    assert len([line for line in out.stderr.splitlines() if "error:" in line]) == 1


@pytest.mark.parametrize("command", ["estimate", "run", "status", "download", "forecast", "demo", "sandbox"])
def test_help_teaches_with_an_example(command: str, tmp_path: Path) -> None:
    out = _cli([command, "--help"], {}, tmp_path)
    assert out.returncode == 0 and "example:" in out.stdout and f"akool-frames {command}" in out.stdout
