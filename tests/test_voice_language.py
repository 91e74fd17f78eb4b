"""An English voice used for ja, zh, ko lines: one VoiceLanguageWarning per call naming the voice, its
language and the rows' languages with counts, from the voice list the language check reads anyway (no request
more); no warning where each voice speaks its rows' language."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from akool_frames import VoiceLanguageWarning
from akool_frames.engine._localize import voice_mismatch

EMMA = "6889b628662160e2caad5dbc"  # the sandbox's first voice: Emma, English (en)
LINES = pd.DataFrame({"text": ["Hello", "こんにちは", "你好", "안녕하세요", "おはよう"],
                      "lang": ["en", "ja", "zh", "ko", "ja"]})


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with af.sandbox(time_scale=200) as box:
        yield box


def _voice_lists(sb: Any) -> int:
    return sum(1 for entry in sb.log() if entry["path"] == "/api/open/v4/voice/list")


def test_an_english_voice_for_ja_zh_ko_lines_warns_once(sb: Any, tmp_path: Any) -> None:
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    lists = _voice_lists(sb)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        out = LINES.akool.run("tts", input_text=af.col("text"), voice_id=EMMA, language_code=af.col("lang"),
                              client=client, progress=False)
    client.close()
    voice = [w for w in said if issubclass(w.category, VoiceLanguageWarning)]
    assert len(voice) == 1, [str(w.message) for w in said]  # one per call, not one per row
    message = str(voice[0].message)
    assert f"voice {EMMA} (Emma) speaks English (en)" in message
    assert "asked for ja (2), ko (1), zh (1)" in message and message.startswith("4 row(s)")
    assert issubclass(VoiceLanguageWarning, UserWarning)
    assert set(out["akool_status"]) == {"completed"}  # a warning, not an error: a multilingual voice may do it
    assert _voice_lists(sb) == lists + 1  # the language check's own look-up, nothing more


def test_each_language_with_its_own_voice_is_quiet(sb: Any, tmp_path: Any) -> None:
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    voices = af.voices(client=client)
    by_locale = dict(zip(voices["locale"], voices["_id"], strict=False))
    lines = LINES.assign(voice=LINES["lang"].map(by_locale))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        lines.akool.run("tts", input_text=af.col("text"), voice_id=af.col("voice"), language_code=af.col("lang"),
                        client=client, progress=False)
    client.close()
    assert not [w for w in said if issubclass(w.category, VoiceLanguageWarning)]


def test_a_regional_locale_and_an_unknown_voice_are_not_judged() -> None:
    voices = {"v1": {"name": "Ava", "language": "English", "locale": "en-US"}}
    assert voice_mismatch(voices, [("v1", "en"), ("v1", "EN"), ("clone", "ja"), ("v1", None)]) is None
    said = voice_mismatch(voices, [("v1", "ja"), ("v1", "ko"), ("v1", "ja"), ("v1", "en")])
    assert said is not None and "Ava) speaks English (en-US), asked for ja (2), ko (1)" in said


@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_an_estimate_warns_too(backend: str, sb: Any, tmp_path: Any) -> None:
    """The vectorised estimate (no row at a time) says the same, counted by rows, from the same look-up."""
    import polars as pl

    from akool_frames.frames._fast_estimate import vectorised

    assert vectorised()  # (not inside row_by_row())
    lines = LINES if backend == "pandas" else pl.from_pandas(LINES)
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        lines.akool.estimate("tts", input_text=af.col("text"), voice_id=EMMA, language_code=af.col("lang"),
                             client=client)
    client.close()
    voice = [str(w.message) for w in said if issubclass(w.category, VoiceLanguageWarning)]
    assert len(voice) == 1 and voice[0].startswith("4 row(s)") and "asked for ja (2), ko (1), zh (1)" in voice[0]
