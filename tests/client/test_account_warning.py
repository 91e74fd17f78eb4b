"""Account-level stops are loud: a wrong key (1101), no credits (1006) or an empty credit balance (1104)
stops the run as before (rows not sent end ``skipped``), and the call also warns ``af.AccountWarning`` and logs one
WARNING record (logger ``akool_frames``) naming the cause and the setting to change, in the caller's thread (sync)
or the awaiting task (async). The CLI prints it on one line and exits 1. Real HTTP against the sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from akool_frames.sandbox import _routes
from tests.client.conftest import VOICE, create_entries

ROWS = 40
WRONG = "W" * 32
CAUSES = {  # the cause's words in the message, and the setting it names
    "wrong key": (r"akool refused the credentials \(1101", "check AKOOL_API_KEY / api_key="),
    "1006": (r"akool says the account has not enough credits \(1006", "top up the account"),
    "1104": (r"akool says the account has not enough credits \(1104", "top up the account"),
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"t": [f"Line {i} of the campaign." for i in range(ROWS)]})


Refused = tuple[af.Sandbox, dict[str, Any], str]


@pytest.fixture
def refused(request: pytest.FixtureRequest, make_sandbox: Callable[..., af.Sandbox], tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Refused:
    """A sandbox, client options that its account refuses for the cause ``request.param``, and the cause."""
    cause = request.param
    if cause == "1104":  # Akool's "Insufficient credit balance" (ai-tools-suite/error-code), not the sandbox's 1006
        akool = dataclasses.replace(_routes.PROVIDERS["akool"], quota_code=1104)
        monkeypatch.setitem(_routes.PROVIDERS, "akool", akool)
        monkeypatch.setitem(_routes._QUOTA, "akool", "Insufficient credit balance")
    sb = make_sandbox(credits=1_000_000.0 if cause == "wrong key" else 0)
    options = {**sb.client_options(), "ledger": tmp_path / "l.sqlite"}
    if cause == "wrong key":
        options["api_key"] = WRONG
    return sb, options, cause


def _said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "akool_frames" and r.levelno == logging.WARNING
            and "the rest was not sent" in r.getMessage()]


def _check_rows(out: pd.DataFrame, sb: af.Sandbox, cause: str) -> int:
    """The rows as before issue 19: the creates on the wire rejected, every other row skipped with the reason."""
    sent = len(create_entries(sb))
    assert 1 <= sent <= 8
    assert out["akool_status"].value_counts().to_dict() == {"rejected": sent, "skipped": ROWS - sent}
    assert out["akool_error"].str.contains(CAUSES[cause][1]).all()
    return sent


@pytest.mark.parametrize("refused", list(CAUSES), indirect=True)
def test_a_sync_run_stopped_by_the_account_warns_and_logs_once(refused: Refused,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    sb, options, cause = refused
    words, fix = CAUSES[cause]
    with af.Client(**options) as client, caplog.at_level(logging.WARNING, logger="akool_frames"), \
            pytest.warns(af.AccountWarning, match=words) as said:
        out = _frame().akool.run("tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False)
    sent = _check_rows(out, sb, cause)
    warned = [w for w in said if issubclass(w.category, af.AccountWarning)]
    assert len(warned) == 1  # once per call
    text = str(warned[0].message)
    assert fix in text and f"({ROWS - sent} of {ROWS} rows)" in text
    assert WRONG not in text  # the key itself is never shown
    assert warned[0].filename == __file__  # attributed to the caller's line, not the library's
    records = _said(caplog)
    assert [r.getMessage() for r in records] == [text]
    assert records[0].thread == threading.get_ident()  # said in the caller's thread, not the I/O loop's


@pytest.mark.parametrize("refused", ["wrong key", "1104"], indirect=True)
def test_an_async_run_warns_in_the_awaiting_task(refused: Refused, caplog: pytest.LogCaptureFixture) -> None:
    sb, options, cause = refused

    async def main() -> pd.DataFrame:
        with pytest.warns(af.AccountWarning, match=CAUSES[cause][0]) as said:
            out = await _frame().akool.arun("tts", input_text=af.col("t"), voice_id=VOICE, client=client,
                                            progress=False)
        assert len([w for w in said if issubclass(w.category, af.AccountWarning)]) == 1
        return out

    with af.Client(**options) as client, caplog.at_level(logging.WARNING, logger="akool_frames"):
        out = asyncio.run(main())
    _check_rows(out, sb, cause)
    records = _said(caplog)
    assert len(records) == 1 and records[0].thread == threading.get_ident()


@pytest.mark.parametrize("refused", ["1006"], indirect=True)
def test_submit_warns_too_and_a_second_call_warns_again(refused: Refused) -> None:
    """Every call that is stopped says so (a re-run of a notebook cell included), not once per line of code."""
    _, options, _ = refused
    with af.Client(**options) as client:
        for _ in range(2):
            with pytest.warns(af.AccountWarning, match="top up the account"):
                _frame().akool.submit("tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False)


def test_a_run_not_stopped_by_the_account_does_not_warn(client: af.Client) -> None:
    # pytest turns any warning into an error here (filterwarnings = error): a clean run must say nothing
    out = _frame().head(3).akool.run("tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False)
    assert set(out["akool_status"]) == {"completed"}


@pytest.mark.parametrize("refused", ["wrong key", "1006"], indirect=True)
def test_the_cli_prints_the_warning_on_one_line_and_exits_1(refused: Refused, tmp_path: Path) -> None:
    sb, _, cause = refused
    _frame().to_csv(tmp_path / "rows.csv", index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))}
    env |= sb.env()
    if cause == "wrong key":
        env |= {"AKOOL_API_KEY": WRONG}
        env.pop("AKOOL_CLIENT_ID"), env.pop("AKOOL_CLIENT_SECRET")
    done = subprocess.run([sys.executable, "-m", "akool_frames.cli", "run", "rows.csv", "--job", "tts", "--map",
                           "input_text=t", "--set", f"voice_id={VOICE}", "--quiet", "--ledger", "l.sqlite"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # the warning once: no traceback, no second copy from the log record
    setting = {"wrong key": "AKOOL_API_KEY", "1006": "top up the account"}[cause]  # (the CLI may say it its way)
    assert lines[0].startswith("warning: ") and re.search(CAUSES[cause][0], lines[0]) and setting in lines[0], lines[0]
    assert WRONG not in done.stderr + done.stdout
    assert f"{ROWS} rows:" in done.stdout and "skipped" in done.stdout
