"""Account-level refusals stop the run: a wrong key, or a balance of 0, is the account's problem, not the
row's. At most the creates already on the wire go out (the client's concurrency), every other row is ``skipped``
with the reason, and the message names the setting to fix; the call warns ``af.AccountWarning`` too (see
tests/client/test_account_warning.py). Codes from ai-tools-suite/error-code (1101 Illegal
token, 1006 Insufficient quota balance, 1104 Insufficient credit balance, 1109 account not exist, 1200 Account
blocked, 1213/1221 subscription)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from akool_frames._errors import error_for_code
from tests.client.conftest import VOICE, create_entries

ROWS = 300


def _run(client: af.Client) -> pd.DataFrame:
    df = pd.DataFrame({"t": [f"Line {i} of the campaign." for i in range(ROWS)]})
    return df.akool.run("tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False)


def test_a_wrong_key_sends_a_handful_and_names_the_setting(sb: af.Sandbox, tmp_path: Path) -> None:
    client = af.Client(**{**sb.client_options(), "api_key": "W" * 32}, ledger=tmp_path / "l.sqlite")
    with pytest.warns(af.AccountWarning, match="refused the credentials"):
        out = _run(client)
    sent = len(create_entries(sb))
    assert 1 <= sent <= client.max_concurrency  # the creates already on the wire, nothing after
    statuses = out["akool_status"].value_counts().to_dict()
    assert statuses == {"rejected": sent, "skipped": ROWS - sent}
    skipped = out[out["akool_status"] == "skipped"]["akool_error"]
    assert skipped.str.startswith("not sent: akool refused the credentials (1101").all()
    assert skipped.str.contains("check AKOOL_API_KEY / api_key=").all()
    assert "W" * 32 not in " ".join(out["akool_error"])  # the key itself is never shown
    client.close()


def test_a_balance_of_zero_sends_a_handful_and_says_top_up(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(credits=0)
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    with pytest.warns(af.AccountWarning, match="has not enough credits"):
        out = _run(client)
    sent = len(create_entries(sb))
    assert 1 <= sent <= client.max_concurrency and sb.stats()["creates"] == 0
    assert (out["akool_status"] == "skipped").sum() == ROWS - sent
    assert out["akool_error"].str.contains("has not enough credits").all()
    assert out["akool_error"].str.contains("top up the account").all()
    client.close()


@pytest.mark.parametrize(("provider", "code", "kind"), [
    ("akool", 1101, af.AuthError), ("akool", 1102, af.AuthError), ("akool", 1109, af.AccountError),
    ("akool", 1200, af.AccountError), ("akool", 1213, af.AccountError), ("akool", 1221, af.AccountError),
    ("akool", 1006, af.QuotaError), ("akool", 1104, af.QuotaError), ("akool", 1103, af.QuotaError),
    ("audiocleaner", 101002, af.AuthError), ("audiocleaner", 100100, af.QuotaError),
    ("kling", 1000, af.AuthError), ("kling", 1102, af.QuotaError),
])
def test_account_codes_are_account_errors(provider: str, code: int, kind: type) -> None:
    """Each code that speaks of the account maps to a class the engine stops on."""
    assert isinstance(error_for_code(provider, code, "x"), kind)
