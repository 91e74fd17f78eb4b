"""``df.akool.run`` on pandas and polars.

On the fake engine: the result columns it adds (names, order, values, the index, the input left untouched), a
LazyFrame collected, an empty frame. End to end on the sandbox, ``run("tts")`` over 200 rows, 20 of them invalid:
invalid rows are never sent; every valid row completes with a URL that downloads; the input columns, row order and
pandas index are untouched; credits follow the documented rule (4.4 per 1000 characters on pro, no rounding) row by
row and add up to what the sandbox charged. pandas row labels (not positions) name the rows.
"""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from akool_frames.frames._bind import col
from tests.client.conftest import VOICE, columns, create_entries, tts_credits
from tests.conftest import akool, media_seconds
from tests.frames.conftest import PRICED_BY, RESULT

N, LIMIT = 200, 5000  # rows; the pro plan's TTS text limit


def test_run_adds_result_columns(frame: Any, engine: Any, as_dict: Any) -> None:
    df = frame({"text": ["bb", None, "a"], "n": [3, 1, 2]}, index=[30, 10, 20])
    before = as_dict(df)
    out = df.akool.run("tts", text=col("text"))
    assert type(out) is type(df)
    assert list(out.columns) == ["text", "n", *RESULT]
    assert as_dict(df) == before and list(df.columns) == ["text", "n"]  # input untouched
    assert as_dict(out) == {
        **before,
        "akool_job_id": ["job-bb", None, "job-a"],
        "akool_status": ["completed", "invalid", "completed"],
        "akool_url": ["https://files.test/bb.mp3", None, "https://files.test/a.mp3"],
        "akool_credits_est": [2.0, None, 1.0],
        "akool_credits": [2.0, None, 1.0],
        "akool_error": [None, f"row {10 if isinstance(df, pd.DataFrame) else 1}: text is required", None],
        **{c: [None, None, None] for c in PRICED_BY},  # the fake engine's outcomes say nothing of prices
    }
    if isinstance(df, pd.DataFrame):
        assert list(out.index) == [30, 10, 20]


def test_lazyframe_submit_collects(engine: Any) -> None:
    out = pl.LazyFrame({"text": ["a", "b"]}).akool.run("tts", text=pl.col("text"), progress=False)
    assert isinstance(out, pl.DataFrame)
    assert out["akool_status"].to_list() == ["completed", "completed"]


def test_empty_frame(frame: Any, engine: Any) -> None:
    out = frame({"text": []}).akool.run("tts", text=col("text"), progress=False)
    assert list(out.columns) == ["text", *RESULT] and len(out) == 0


def _rows() -> tuple[list[str], list[Any], list[Any], dict[int, str]]:
    """Labels, texts, voices, and for each invalid position the field its error must name."""
    labels = [f"line-{i:03d}" for i in range(N)]
    texts: list[Any] = [f"Sentence number {i} of the campaign script, read aloud." for i in range(N)]
    voices: list[Any] = [VOICE] * N
    invalid: dict[int, str] = {}
    for k, i in enumerate(range(7, N, 10)):  # 20 invalid rows spread over the frame
        kind = k % 4
        if kind == 0:
            texts[i] = ""  # empty text
            invalid[i] = "input_text"
        elif kind == 1:
            texts[i] = f"too long {i} " + "x" * LIMIT  # over the pro limit
            invalid[i] = "input_text"
        elif kind == 2:
            voices[i] = None  # missing voice
            invalid[i] = "voice_id"
        else:
            texts[i] = "   "  # only blanks: empty too
            invalid[i] = "input_text"
    assert len(invalid) == 20
    return labels, texts, voices, invalid


def _list_input_texts(sb: af.Sandbox) -> list[str]:
    """Every TTS input text the sandbox holds, read through its documented resource list (type=1)."""
    found: list[str] = []
    with akool(sb) as http:
        page = 1
        while True:
            answer = http.get("/api/open/v4/voice/resource/list", params={"type": "1", "page": page, "size": 100}).json()
            assert answer["code"] == 1000, answer
            batch = answer["data"]["result"]
            found += [r["input_text"] for r in batch]
            if len(batch) < 100:
                return found
            page += 1


def test_run_tts_200_rows_20_invalid(sb: af.Sandbox, client: af.Client, backend: str, frame: Any) -> None:
    labels, texts, voices, invalid = _rows()
    data = {"script": texts, "voice": voices, "n": list(range(N))}
    df = frame(data, index=labels)
    before = columns(df)

    out = df.akool.run("tts", input_text=af.col("script"), voice_id=af.col("voice"), client=client, progress=False)

    # -- the input is untouched, and the output keeps its columns, order and index
    assert columns(df) == before
    got = columns(out)
    for name in data:
        assert got[name] == before[name], name
    added = ["akool_job_id", "akool_status", "akool_url", "akool_credits_est", "akool_credits", "akool_error",
             "akool_job", "akool_price_basis", "akool_duration_s", "akool_duration_source"]
    assert list(out.columns) == [*data, *added]
    if backend == "pandas":
        assert out.index.tolist() == labels
        assert {c: str(out[c].dtype) for c in added} == {
            "akool_job_id": "string", "akool_status": "string", "akool_url": "string",
            "akool_credits_est": "Float64", "akool_credits": "Float64", "akool_error": "string",
            "akool_job": "string", "akool_price_basis": "string", "akool_duration_s": "Float64",
            "akool_duration_source": "string"}
    else:
        assert {c: out.schema[c] for c in added} == {
            "akool_job_id": pl.String, "akool_status": pl.String, "akool_url": pl.String,
            "akool_credits_est": pl.Float64, "akool_credits": pl.Float64, "akool_error": pl.String,
            "akool_job": pl.String, "akool_price_basis": pl.String, "akool_duration_s": pl.Float64,
            "akool_duration_source": pl.String}

    # -- invalid rows: status, an error naming the field and the row, nothing sent
    row_name = (lambda i: labels[i]) if backend == "pandas" else (lambda i: str(i))
    for i, field in invalid.items():
        assert got["akool_status"][i] == "invalid", (i, got["akool_error"][i])
        error = got["akool_error"][i]
        assert error.startswith(f"row {row_name(i)}: "), error
        assert field in error, error
        assert got["akool_job_id"][i] is None and got["akool_url"][i] is None
        assert got["akool_credits"][i] is None and got["akool_credits_est"][i] is None
    too_long = [i for i in invalid if len(texts[i] or "") > LIMIT]
    assert too_long and all("5000" in got["akool_error"][i] for i in too_long)

    valid = [i for i in range(N) if i not in invalid]
    stats = sb.stats()
    assert stats["creates"] == len(valid) == 180
    assert stats["duplicate_creates"] == 0
    assert len(create_entries(sb)) == 180  # not even refused creates: invalid rows never left
    sent = _list_input_texts(sb)
    assert sorted(sent) == sorted(texts[i] for i in valid)
    assert not {texts[i] for i in invalid} & set(sent)

    # -- valid rows: completed, distinct jobs, URLs, credits by the documented rule
    assert all(got["akool_status"][i] == "completed" for i in valid), {got["akool_status"][i] for i in valid}
    assert len({got["akool_job_id"][i] for i in valid}) == 180
    assert all(got["akool_error"][i] is None for i in valid)
    for i in valid:
        expected = tts_credits(texts[i])
        assert got["akool_credits_est"][i] == pytest.approx(expected, rel=1e-12)
        assert got["akool_credits"][i] == pytest.approx(expected, abs=1e-6)
    assert sum(got["akool_credits"][i] for i in valid) == pytest.approx(stats["credits_charged"], abs=1e-5)
    # -- how each number was made: the job, the rule with this row's characters; no media length for TTS
    assert set(got["akool_job"]) == {"tts"}
    assert all(got["akool_price_basis"][i] == f"{len(texts[i])} characters / 1000 x 4.4 (pro)" for i in valid)
    assert all(got["akool_price_basis"][i] is None for i in invalid)
    assert set(got["akool_duration_s"]) == {None} and set(got["akool_duration_source"]) == {None}

    # -- a few URLs download as audio of the predicted length
    with httpx.Client(timeout=10) as http:
        for i in valid[:: 45]:
            response = http.get(got["akool_url"][i])
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("audio/")
            assert media_seconds(response.content, "mp3") > 0.5


def test_run_keeps_a_default_index_and_reports_positions(sb: af.Sandbox, client: af.Client) -> None:
    """pandas with a non-contiguous integer index: labels (not positions) name the rows."""
    df = pd.DataFrame({"script": ["Hello there.", ""], "voice": [VOICE, VOICE]}, index=[10, 20])
    out = df.akool.run("tts", input_text=af.col("script"), voice_id=af.col("voice"), client=client, progress=False)
    assert out.index.tolist() == [10, 20]
    assert out["akool_status"].tolist() == ["completed", "invalid"]
    assert out["akool_error"][20].startswith("row 20: input_text is required")
