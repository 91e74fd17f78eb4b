"""The library's messages as the CLI prints them: hints in the syntax the user typed (`--budget`,
`--ledger`, `export AKOOL_API_KEY=...`, `akool-frames sandbox`), made from the messages the library really raises,
so a reworded library message that the CLI's table no longer matches fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import akool_frames as af
from akool_frames._errors import AuthError, BudgetExceeded, QuotaError
from akool_frames.cli._text import one_line, relabel
from akool_frames.engine._run import account_problem as _account_problem

# Python syntax a terminal user cannot type: a keyword argument (not --flag=), a call of af., a with-block.
PYTHON = re.compile(r"(?<![-\w])[a-z_]+=|\baf\.(?!languages\(\) in Python|credits\(\) in Python)|with af\.|sb\.client")


def _python(text: str) -> re.Match[str] | None:
    """Python syntax left in ``text``, once the command-line options (--rates tts=5, --set voice_id=...) are out."""
    return PYTHON.search(re.sub(r"--[\w-]+ [\w.]+=\S*", "", text))


def _no_credentials(provider: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("AKOOL_API_KEY", "AKOOL_CLIENT_ID", "AKOOL_CLIENT_SECRET", "AUDIOCLEANER_API_KEY",
                 "KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(af.ConfigError) as raised:
        af.Client().credentials(provider)
    return str(raised.value)


@pytest.mark.parametrize(("provider", "said"), [
    ("akool", "No akool credentials: export AKOOL_API_KEY=... (or AKOOL_CLIENT_ID=... and AKOOL_CLIENT_SECRET=...). "
              "Hint: to try things without an account, run `akool-frames sandbox` in another terminal and export "
              "the lines it prints."),
    ("audiocleaner", "No audiocleaner credentials: export AUDIOCLEANER_API_KEY=..."),
    ("kling", "No kling credentials: export KLING_ACCESS_KEY=... and export KLING_SECRET_KEY=..."),
])
def test_missing_credentials_say_what_to_export(provider: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = one_line(_no_credentials(provider, monkeypatch))
    assert text.startswith(said), text
    assert not _python(text), text


def test_budget_ledger_and_account_hints(tmp_path: Path) -> None:
    budget = one_line(str(BudgetExceeded(5.0, 1.0)))
    assert budget.endswith("Hint: raise --budget, or run a subset of the rows.")
    with pytest.raises(af.LedgerError) as folder:
        af.Client(ledger=tmp_path).ledger  # a folder, not a file
    ledger = one_line(str(folder.value))
    assert "--ledger" in ledger and "ledger=" not in ledger
    refused = one_line(_account_problem("akool", AuthError("akool", 1101, "Invalid token")))
    assert refused.endswith("Hint: check the credentials you export: export AKOOL_API_KEY=... (or AKOOL_CLIENT_ID=... "
                            "and AKOOL_CLIENT_SECRET=...).")
    poor = one_line(_account_problem("akool", QuotaError("akool", 1006, "Your quota is not enough")))
    assert poor.endswith("Hint: top up the account, then run the same command again.")
    for text in (budget, ledger, refused, poor):
        assert not _python(text), text


def test_row_labels_become_sheet_rows() -> None:
    # frame rows 0..3 come from sheet rows 2, 3, 5, 6 (row 4 was blank)
    said = relabel("2 row(s) whose links expire within a day (rows 0, 3): download them now", [2, 3, 5, 6])
    assert said == "2 row(s) whose links expire within a day (rows 2, 6): download them now"


def test_a_missing_price_says_the_rates_option(tmp_path: Path) -> None:
    import pandas as pd

    client = af.Client(api_key="k" * 32, base_url="http://127.0.0.1:9", ledger=tmp_path / "l.sqlite")
    est = pd.DataFrame({"p": ["https://example.com/a.png"], "a": ["https://example.com/a.mp3"]}).akool.estimate(
        "talking_photo", talking_photo_url=af.col("p"), audio_url=af.col("a"), duration=30, client=client)
    client.close()
    text = one_line(est["akool_error"][0])  # the price basis: given a duration, nothing is fetched
    assert "pass --rates talking_photo=CREDITS" in text and "or --rates calibrated" in text
    assert not _python(text), text
