"""The CLI as a new user types it from the README: against `akool-frames sandbox` in another process,
on the sample localization sheet: estimate, run, status, download, forecast; exit codes 0 / 1 / 2; one-line
errors; `--help` that teaches with an example; a re-run that resumes instead of paying twice.

Rows that did not go through are told in the terminal by reason, with the row numbers the spreadsheet
shows; hints in CLI syntax; `voices`, `jobs`, `describe JOB`; 0 rows is "nothing to do"; a voice whose locale is
not the rows' language is a one-line warning."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import akool_frames as af

ROOT = Path(__file__).resolve().parents[1]
VOICE = "6889b628662160e2caad5dbc"


def _sandbox(*options: str) -> Iterator[dict[str, str]]:
    """`akool-frames sandbox` in its own process; the environment it prints, as a user would export it."""
    proc = subprocess.Popen([sys.executable, "-m", "akool_frames.cli", "sandbox", "--port", "0", "--time-scale", "200",
                             *options], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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


@pytest.fixture(scope="module")
def sandbox_env() -> Iterator[dict[str, str]]:
    yield from _sandbox()


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
    assert "1 row invalid: input_text is required (row 3)" in out.stdout  # the header is row 1


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
    (["voices"], "No akool credentials"),
    (["voices", "--provider", "audiocleaner"], "audiocleaner.ai documents no voice-list endpoint"),
    (["describe", "tss"], "tss: no such job; did you mean 'tts'?"),
])
def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    (tmp_path / "s.csv").write_text("id,text\n001,Hello\n", encoding="utf-8")
    out = _cli(args, {}, tmp_path)  # no credentials in this environment
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert said in out.stderr and "Traceback" not in out.stderr
    assert len([line for line in out.stderr.splitlines() if "error:" in line]) == 1


@pytest.mark.parametrize("command", ["estimate", "run", "status", "download", "forecast", "voices", "jobs", "describe",
                                     "demo", "sandbox"])
def test_help_teaches_with_an_example(command: str, tmp_path: Path) -> None:
    out = _cli([command, "--help"], {}, tmp_path)
    assert out.returncode == 0 and "example:" in out.stdout and f"akool-frames {command}" in out.stdout


# ------------------------------------------------------------------------------------------ issue 20
PYTHON_SYNTAX = ("af.", "budget=", "ledger=", "client=", "sandbox()", "api_key (")


def _one_line_in_cli_syntax(text: str) -> None:
    for said in PYTHON_SYNTAX:
        assert said not in text, (said, text)


@pytest.mark.parametrize(("args", "env", "said"), [
    (["run", "s.csv", "--job", "tts", "--map", "input_text=text", "--set", "voice_id=v"], {},
     ["export AKOOL_API_KEY=...", "run `akool-frames sandbox` in another terminal and export the lines it prints"]),
    (["run", "s.csv", "--job", "tts", "--map", "input_text=text", "--set", f"voice_id={VOICE}", "--budget", "0.001"],
     None, ["over the budget of 0.001; nothing was sent. Hint: raise --budget"]),
])
def test_hints_are_in_cli_syntax(sandbox_env: dict[str, str], tmp_path: Path, args: list[str],
                                 env: dict[str, str] | None, said: list[str]) -> None:
    (tmp_path / "s.csv").write_text("id,text\n001,Hello there\n", encoding="utf-8")
    out = _cli(args, sandbox_env if env is None else env, tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    for text in said:
        assert text in out.stderr
    _one_line_in_cli_syntax(out.stderr)


def test_invalid_rows_by_reason_with_the_sheets_row_numbers(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    # Sheet rows: 1 header, 2 ok, 3 no text, 4 blank (not a row, but counted), 5 a wrong code, 6-10 no text.
    lines = ["id,text,lang", "001,Hello,en", "002,,en", "", "003,Hola,xx"] + [f"00{i},,en" for i in range(4, 9)]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _cli(["estimate", "s.csv", "--job", "tts", "--map", "input_text=text", "--map", "language_code=lang",
                "--set", f"voice_id={VOICE}", "--quiet"], sandbox_env, tmp_path)
    assert out.returncode == 1, out.stderr
    said = out.stdout.splitlines()
    assert said[0] == "8 rows: 7 invalid, 1 priced; estimate 0.022 credits"
    assert said[1] == ("  6 rows invalid: input_text is required (rows 3, 6, 7, 8, 9 and 1 more); "
                       "give it with --set input_text=... or --map input_text=COLUMN")
    assert said[2].startswith("  1 row invalid: language_code is 'xx', which is not in the locales of VoiceLab's voices "
                              "(akool-frames voices)") and said[2].endswith("(row 5)")


def test_exploded_rows_are_named_by_their_source_row_and_language(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    sheet = pd.DataFrame({"script_id": ["00101", "00102", "00103"], "script": ["Hello", None, "Bonjour"],
                          "target_languages": ["fr", "es, de", "fr"]})
    af.write_sheet(sheet, tmp_path / "lines.xlsx")
    out = _cli(["estimate", "lines.xlsx", "--explode", "target_languages=language", "--job", "tts",
                "--map", "input_text=script", "--set", f"voice_id={VOICE}", "--quiet"], sandbox_env, tmp_path)
    assert out.returncode == 1, out.stderr
    assert "  2 rows invalid: input_text is required (rows 3 es, 3 de)" in out.stdout


def test_rejected_rows_are_told_with_the_accounts_reason(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("id,text\n001," + "a" * 40 + "\n002," + "b" * 40 + "\n", encoding="utf-8")
    for env in _sandbox("--credits", "0.01"):  # too poor for one line
        out = _cli(["run", "s.csv", "--job", "tts", "--map", "input_text=text", "--set", f"voice_id={VOICE}",
                    "--quiet"], env, tmp_path)
    assert out.returncode == 1, out.stderr
    assert "2 rows: 2 rejected; estimate 0.352 credits" in out.stdout
    reason = next(line for line in out.stdout.splitlines() if line.startswith("  2 rows rejected: "))
    assert "1006" in reason and reason.endswith("(rows 2, 3)")
    _one_line_in_cli_syntax(out.stdout + out.stderr)


@pytest.mark.parametrize(("args", "said"), [
    (["run", "empty.csv"], "nothing to do: the sheet has no rows"),
    (["estimate", "empty.csv"], "nothing to do: the sheet has no rows"),
    (["run", "nolang.csv", "--explode", "langs"], "nothing to do: no languages in column 'langs'"),
])
def test_nothing_to_do_is_no_failure(sandbox_env: dict[str, str], tmp_path: Path, args: list[str], said: str) -> None:
    (tmp_path / "empty.csv").write_text("id,text,langs\n", encoding="utf-8")
    (tmp_path / "nolang.csv").write_text("id,text,langs\n1,Hello,\n2,Hi,\n", encoding="utf-8")
    creates = _stats(sandbox_env)["creates"]
    out = _cli([*args, "--job", "tts", "--map", "input_text=text", "--set", f"voice_id={VOICE}", "--quiet"],
               sandbox_env, tmp_path)
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert out.stdout.strip() == said
    assert _stats(sandbox_env)["creates"] == creates


def test_an_english_voice_for_ja_zh_ko_lines_is_one_warning_line(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("id,text,lang\n1,Hello,en\n2,こんにちは,ja\n3,你好,zh\n4,안녕,ko\n5,やあ,ja\n",
                                    encoding="utf-8")
    for command in ("estimate", "run"):
        out = _cli([command, "s.csv", "--job", "tts", "--map", "input_text=text", "--map", "language_code=lang",
                    "--set", f"voice_id={VOICE}", "--quiet"], sandbox_env, tmp_path)
        assert out.returncode == 0, out.stderr
        warned = [line for line in out.stderr.splitlines() if line.startswith("warning:")]
        assert len(warned) == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert f"voice {VOICE} (Emma) speaks English (en), asked for ja (2), ko (1), zh (1)" in warned[0]
        assert "akool-frames voices" in warned[0]
        _one_line_in_cli_syntax(warned[0])
    # --explode's language column, without language_code, is the rows' language too
    (tmp_path / "x.csv").write_text("id,text,langs\n1,Hello,\"ja,ko\"\n", encoding="utf-8")
    out = _cli(["estimate", "x.csv", "--explode", "langs", "--job", "tts", "--map", "input_text=text",
                "--set", f"voice_id={VOICE}", "--quiet"], sandbox_env, tmp_path)
    assert "speaks English (en), asked for ja (1), ko (1)" in out.stderr


def test_a_voice_of_each_rows_language_is_quiet(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("id,text,lang,voice\n1,Hello,en,6889b628662160e2caad5dbc\n", encoding="utf-8")
    out = _cli(["estimate", "s.csv", "--job", "tts", "--map", "input_text=text", "--map", "language_code=lang",
                "--map", "voice_id=voice", "--quiet"], sandbox_env, tmp_path)
    assert out.returncode == 0 and "warning" not in out.stderr, out.stderr


def test_voices_lists_ids_with_filters(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    every = _cli(["voices"], sandbox_env, tmp_path)
    assert every.returncode == 0, every.stderr
    assert every.stdout.splitlines()[0].split() == ["id", "name", "language", "locale", "gender", "model"]
    assert f"{VOICE}  Emma" in every.stdout and "--set voice_id=" in every.stdout
    ja = _cli(["voices", "--language", "ja"], sandbox_env, tmp_path)
    rows = [line for line in ja.stdout.splitlines() if "Japanese" in line]
    assert ja.returncode == 0 and len(rows) == 1 and "Yuki" in rows[0] and " ja " in rows[0]
    assert "English" not in ja.stdout
    japanese = _cli(["voices", "--language", "Japanese"], sandbox_env, tmp_path)
    assert japanese.stdout == ja.stdout
    male = _cli(["voices", "--gender", "male"], sandbox_env, tmp_path)
    genders = {line.split()[-4] for line in male.stdout.splitlines()[2:] if "Akool Multilingual" in line}
    assert genders == {"Male"}
    legacy = _cli(["voices", "--legacy"], sandbox_env, tmp_path)
    assert legacy.returncode == 0 and "legacy_tts takes the id" in legacy.stdout and "accent" in legacy.stdout
    for out in (every, ja, male, legacy):
        assert all(len(line) <= 100 for line in out.stdout.splitlines())


def test_jobs_and_describe_fit_a_terminal(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    jobs = _cli(["jobs"], sandbox_env, tmp_path)
    assert jobs.returncode == 0, jobs.stderr
    lines = jobs.stdout.splitlines()
    assert lines[0].split() == ["job", "provider", "result", "priced"]
    assert len([line for line in lines if re.match(r"^[a-z_.]+\s+(akool|audiocleaner|kling)\s", line)]) == len(af.JOBS)
    assert all(len(line) <= 100 for line in lines) and "…" in jobs.stdout  # long cells cut, not wrapped
    _one_line_in_cli_syntax(jobs.stdout)  # "--rates in credits per job", not "rates="
    tts = _cli(["describe", "tts"], sandbox_env, tmp_path)
    assert tts.returncode == 0, tts.stderr
    assert all(len(line) <= 100 for line in tts.stdout.splitlines())
    assert re.search(r"^input_text\s+str\s+yes\s+length <= pro 5000", tts.stdout, re.M)
    assert re.search(r"^  \.speed\s+num\s+0\.7\.\.1\.2\s+speed$", tts.stdout, re.M)  # nested: under its parent
    assert "--set FIELD=VALUE" in tts.stdout


# ------------------------------------------------------------------------- sheets in a bucket (s3://, on loopback)
def _object(s3: Any, key: str, tmp_path: Path) -> Any:
    """An object of the test's bucket read as a local sheet (fetched by s3fs itself, not through read_sheet)."""
    local = tmp_path / "fetched" / key.replace("/", "_")
    local.parent.mkdir(exist_ok=True)
    s3.fs.get_file(f"{s3.bucket}/{key}", str(local))
    return af.read_sheet(local)


def test_cli_s3_run_round_trip(sandbox_env: dict[str, str], s3: Any, tmp_path: Path) -> None:
    """`akool-frames run s3://.../lines.xlsx ... --out s3://.../done.xlsx`: read from the bucket, results put there;
    the sheet's row numbers (read from the object) in the messages; the default output name beside the sheet."""
    lines = pd.DataFrame({"script_id": ["00101", "00102", "00103"], "script": ["Hello there.", None, "Good morning."]})
    af.write_sheet(lines, tmp_path / "lines.xlsx")
    s3.fs.put_file(str(tmp_path / "lines.xlsx"), f"{s3.bucket}/in/lines.xlsx")
    job = ["--job", "tts", "--map", "input_text=script", "--set", f"voice_id={VOICE}", "--quiet"]
    creates = _stats(sandbox_env)["creates"]

    done = _cli(["run", s3.uri("in/lines.xlsx"), *job, "--out", s3.uri("out/done.xlsx")], sandbox_env, tmp_path)
    assert done.returncode == 1, done.stderr  # one row has no text
    assert "3 rows: 2 completed, 1 invalid" in done.stdout
    assert "1 row invalid: input_text is required (row 3)" in done.stdout
    assert f"written: {s3.uri('out/done.xlsx')}" in done.stdout
    sheet = _object(s3, "out/done.xlsx", tmp_path)
    assert sheet["script_id"].tolist() == ["00101", "00102", "00103"]  # ids stay text
    assert sheet["akool_status"].tolist() == ["completed", "invalid", "completed"]
    assert {"akool_job_id", "akool_url", "akool_credits"} <= set(sheet.columns)
    assert _stats(sandbox_env)["creates"] == creates + 2
    assert not (tmp_path / "s3:").exists()  # nothing written to a local folder named after the URI

    est = _cli(["estimate", s3.uri("in/lines.xlsx"), *job], sandbox_env, tmp_path)  # no --out: beside the sheet
    assert est.returncode == 1, est.stderr
    assert f"written: {s3.uri('in/lines.estimate.xlsx')}" in est.stdout
    assert s3.keys() == ["in/lines.estimate.xlsx", "in/lines.xlsx", "out/done.xlsx"]
    estimated = _object(s3, "in/lines.estimate.xlsx", tmp_path)
    assert estimated["akool_status"].fillna("").tolist() == ["", "invalid", ""]  # (an estimate: valid rows unsent)
    assert estimated["akool_credits_est"].notna().tolist() == [True, False, True]


def test_cli_s3_forecast_and_storage_options(sandbox_env: dict[str, str], s3: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """forecast reads its campaign from a bucket and puts its report and table there; --storage-option passes the
    store's options (here the endpoint: the environment's now points at a closed loopback port)."""
    s3.fs.put_file(str(ROOT / "sample_data" / "campaign.csv"), f"{s3.bucket}/plans/campaign.csv")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # (never a real store, whatever goes wrong)
    out = _cli(["forecast", s3.uri("plans/campaign.csv"), "--rates", "talking_photo=60",
                "--html", s3.uri("plans/forecast.html"), "--out", s3.uri("plans/forecast.csv"),
                "--storage-option", f"endpoint_url={s3.endpoint}"], sandbox_env, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint)
    assert out.returncode == 0, out.stderr
    assert "40 units have no price" in out.stdout and f"written: {s3.uri('plans/forecast.html')}" in out.stdout
    assert s3.keys("plans/") == ["plans/campaign.csv", "plans/forecast.csv", "plans/forecast.html"]
    assert "data:image/png;base64," in s3.fs.cat(f"{s3.bucket}/plans/forecast.html").decode()
    assert "credits_est" in _object(s3, "plans/forecast.csv", tmp_path).columns


def test_cli_s3_missing_sheet(s3: Any, tmp_path: Path) -> None:
    out = _cli(["run", s3.uri("nope/lines.xlsx"), "--job", "tts", "--map", "input_text=script"], {}, tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert f"error: No such file: {s3.uri('nope/lines.xlsx')}." in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
