"""``df.akool.download`` on pandas and polars: on the fake engine, the akool_file column (names from job ids,
nothing for rows without a URL) and a frame without URLs refused; on the sandbox, the result files written at the
right length, and an expired URL giving a null akool_file and a warning rather than an exception. Named files,
expiry and resuming are in tests/client/test_named_downloads.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import akool_frames as af
from akool_frames._errors import ValidationError
from akool_frames.frames._bind import col
from tests.client.conftest import VOICE, columns
from tests.conftest import akool, media_seconds
from tests.frames.conftest import dtypes

TEXTS = ["First line to speak.", "", "Second line, a little longer than the first one.", "Third and last line."]
VALID = [0, 2, 3]


def _params() -> dict[str, Any]:
    return {"input_text": af.col("text"), "voice_id": VOICE, "progress": False}


def test_download_adds_file_column(frame: Any, engine: Any, tmp_path: Any, as_dict: Any) -> None:
    done = frame({"text": ["a", None]}).akool.run("tts", text=col("text"), progress=False)
    out = done.akool.download(tmp_path)
    assert engine.calls[-1]["urls"] == ["https://files.test/a.mp3", None]
    assert engine.calls[-1]["names"] == ["job-a", "row1"]
    assert as_dict(out)["akool_file"] == [f"{tmp_path}/job-a.mp3", None]
    assert dtypes(out)["akool_file"] in ("string", "String")


def test_download_needs_urls(frame: Any, engine: Any) -> None:
    with pytest.raises(ValidationError, match="no 'akool_url' column"):
        frame({"text": ["a"]}).akool.download("out")


def test_download_writes_files_of_the_right_length(sb: af.Sandbox, client: af.Client, tmp_path: Path,
                                                   backend: str, frame: Any) -> None:
    df = frame({"text": TEXTS})
    done = df.akool.run("tts", client=client, **_params())
    files = done.akool.download(tmp_path / "out", client=client)
    got = columns(files)
    assert list(files.columns) == [*done.columns, "akool_file", "akool_expires_at"]
    assert got["akool_file"][1] is None  # the invalid row has nothing to fetch
    with akool(sb) as http:
        for i in VALID:
            path = Path(got["akool_file"][i])
            assert path.parent == tmp_path / "out"
            assert path.name == f"{got['akool_job_id'][i]}.mp3"
            record = http.get(f"/api/open/v4/voice/resource/detail/{got['akool_job_id'][i]}").json()["data"]["result"]
            assert record["status"] == 3
            assert media_seconds(path.read_bytes(), "mp3") == pytest.approx(record["duration"] / 1000, abs=0.1)
    if backend == "polars":
        assert files.schema["akool_file"] == pl.String
    else:
        assert str(files["akool_file"].dtype) == "string"


def test_an_expired_url_gives_a_null_file(sb: af.Sandbox, client: af.Client, tmp_path: Path, frame: Any) -> None:
    df = frame({"text": TEXTS})
    done = df.akool.run("tts", client=client, **_params())
    sb.advance(8 * 86400)  # result files are served for 7 days
    with pytest.warns(UserWarning, match="3 row\\(s\\) whose result links have expired"):
        files = columns(done.akool.download(tmp_path / "late", client=client))
    assert files["akool_file"] == [None] * 4
    assert files["akool_status"] == columns(done)["akool_status"]  # nothing else changes
    assert not list((tmp_path / "late").glob("*"))
