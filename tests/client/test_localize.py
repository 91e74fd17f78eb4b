"""The localization path: a sheet with leading-zero ids, CJK, Arabic, emoji and formula-like cells is
read, exploded to rows x languages, spoken on the sandbox, written to xlsx and csv and read again: the input
columns come back identical, the result columns are added, no cell is a formula, the csv has a BOM. A language
the provider does not offer is an invalid row, caught before anything is sent."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from tests.client.conftest import columns, create_entries

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "localization.xlsx"


def _voices(client: af.Client) -> dict[str, str]:
    voices = af.voices(client=client)
    return dict(zip(voices["locale"], voices["_id"], strict=False))


@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_sheet_to_speech_per_language_and_back(sb: af.Sandbox, client: af.Client, tmp_path: Path,
                                               backend: str) -> None:
    sheet = af.read_sheet(SAMPLE, backend=backend)
    long = af.explode_languages(sheet, "target_languages", into="language")
    by_locale = _voices(client)
    voices = [by_locale.get(code or "en") for code in columns(long)["language"]]
    long = long.assign(voice=voices) if backend == "pandas" else long.with_columns(pl.Series("voice", voices))
    before = columns(long)
    out = long.akool.run("tts", input_text=af.col("script"), voice_id=af.col("voice"),
                         language_code=af.col("language"), client=client, progress=False)
    got = columns(out)
    # the row with no language is kept (and spoken with the English voice here), not dropped
    assert got["akool_status"] == ["completed"] * len(voices), got["akool_error"]
    assert len(create_entries(sb)) == len(voices) == sb.stats()["creates"]
    assert {c: got[c] for c in before} == before  # inputs untouched, in order
    for suffix in (".xlsx", ".csv"):
        back = columns(af.read_sheet(af.write_sheet(out, tmp_path / f"done{suffix}"), backend=backend))
        for name in ("script_id", "script", "target_languages", "portrait", "language", "row_key"):
            assert back[name] == before[name], (suffix, name)
        assert back["akool_status"] == got["akool_status"] and back["akool_job_id"] == got["akool_job_id"]
        assert back["akool_credits"] == pytest.approx(got["akool_credits"])
    with zipfile.ZipFile(tmp_path / "done.xlsx") as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
    assert (tmp_path / "done.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_language_the_provider_does_not_offer_is_caught_before_sending(sb: af.Sandbox, client: af.Client) -> None:
    df = pd.DataFrame({"url": ["https://cdn.example.com/clip.mp4"] * 4, "langs": ["es, zh, ZH-cn, fr"] * 4})
    long = af.explode_languages(df.head(1), "langs", into="language")
    out = long.akool.run("video_translation", url=af.col("url"), language=af.col("language"), client=client,
                         duration=30, progress=False)  # (the clip's length given: not probed)
    got = columns(out)
    assert got["akool_status"][0] == "completed" and got["akool_status"][3] == "completed"  # es, fr
    assert got["akool_status"][1:3] == ["invalid", "invalid"]
    assert "language is 'zh'" in got["akool_error"][1] and "did you mean 'zh-CN' or 'zh-TW'?" in got["akool_error"][1]
    assert "did you mean 'zh-CN'?" in got["akool_error"][2]
    sent = [e for e in create_entries(sb)]
    assert len(sent) == 2  # the two wrong codes never left: no refused create
    with pytest.warns(af.VoiceLanguageWarning, match=r"speaks English \(en\), asked for es \(1\)"):  # Emma reads es
        speech = pd.DataFrame({"t": ["Hola", "你好"], "code": ["es", "zh-CN"]}).akool.estimate(
            "tts", input_text=af.col("t"), voice_id="6889b628662160e2caad5dbc", language_code=af.col("code"),
            client=client)
    assert speech["akool_status"].tolist()[1] == "invalid"
    assert "not in the locales of VoiceLab's voices (af.voices()); did you mean 'zh'?" in speech["akool_error"][1]


def test_language_lists_are_read_once_a_session(sb: af.Sandbox, client: af.Client) -> None:
    df = pd.DataFrame({"url": ["https://cdn.example.com/clip.mp4"] * 3, "language": ["es", "fr", "de"]})
    params: dict[str, Any] = {"url": af.col("url"), "language": af.col("language"), "client": client,
                              "rates": {"video_translation": 1}, "duration": 30}
    df.akool.estimate("video_translation", **params)
    lists = sum(1 for e in sb.log() if e["path"].endswith("/language/list"))
    df.akool.estimate("video_translation", **params)
    assert lists == 1 and sum(1 for e in sb.log() if e["path"].endswith("/language/list")) == 1
