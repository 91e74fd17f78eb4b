"""Named downloads: file names from row values (safe, unique, the media's extension), concurrent under the
client's limits, resumable (complete files are not fetched again), ``akool_expires_at`` 7 days after completion,
and a warning for rows whose links expire soon or have expired."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from akool_frames.frames import _download
from tests.client.conftest import VOICE, columns, make_frame

IDS = ["00101", "00101", "00102", "a/b:c*?", "CON"]
LANGS = ["es", "fr", "es", "de", "it"]


def _done(client: af.Client, lib: str) -> Any:
    df = make_frame(lib, {"script_id": IDS, "language": LANGS,
                          "script": [f"Line {i} for {code}." for i, code in enumerate(LANGS)]})
    return df.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False)


def _file_gets(sb: af.Sandbox) -> int:
    return sum(1 for e in sb.log() if e["path"].startswith("/files/"))


def test_files_are_named_after_the_rows(sb: af.Sandbox, client: af.Client, tmp_path: Path, frame_lib: str) -> None:
    done = _done(client, frame_lib)
    out = done.akool.download(tmp_path / "audio", client=client, name="{script_id}_{language}", progress=True)
    files = [Path(f).name for f in columns(out)["akool_file"]]
    assert files == ["00101_es.mp3", "00101_fr.mp3", "00102_es.mp3", "a_b_c__de.mp3", "CON_it.mp3"]
    assert sorted(p.name for p in (tmp_path / "audio").iterdir()) == sorted(files)  # no .part left behind
    # the same name twice gets a number; a reserved Windows name gets a prefix
    same = done.akool.download(tmp_path / "same", client=client, name="{script_id}")
    assert [Path(f).name for f in columns(same)["akool_file"]] == [
        "00101.mp3", "00101_2.mp3", "00102.mp3", "a_b_c_.mp3", "_CON.mp3"]
    with pytest.raises(af.ValidationError, match="(?s)uses \\['lang'\\].*not columns of the frame"):
        done.akool.download(tmp_path / "x", client=client, name="{script_id}_{lang}")


def test_expiry_is_seven_days_after_completion(sb: af.Sandbox, client: af.Client, tmp_path: Path,
                                               frame_lib: str) -> None:
    started = dt.datetime.now(dt.UTC)
    done = _done(client, frame_lib)
    out = done.akool.download(tmp_path / "audio", client=client)
    expires = columns(out)["akool_expires_at"]
    for when in expires:
        assert isinstance(when, dt.datetime) and when.tzinfo is not None
        assert started + dt.timedelta(days=7) - dt.timedelta(seconds=1) <= when
        assert when <= dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    if frame_lib == "polars":
        assert out.schema["akool_expires_at"] == pl.Datetime("us", "UTC")
    else:
        assert str(out["akool_expires_at"].dtype) == "datetime64[ns, UTC]"


def test_an_interrupted_download_resumes_without_fetching_complete_files(sb: af.Sandbox, client: af.Client,
                                                                          tmp_path: Path) -> None:
    done = _done(client, "pandas")
    folder = tmp_path / "audio"
    first = done.akool.download(folder, client=client, name="{script_id}_{language}")
    files = [Path(f) for f in first["akool_file"]]
    # An interruption: two files never finished (a partial .part, nothing under the final name).
    for lost in files[3:]:
        lost.rename(lost.with_suffix(".part"))
        lost.with_suffix(".part").write_bytes(lost.with_suffix(".part").read_bytes()[:100])
    before = _file_gets(sb)
    again = done.akool.download(folder, client=client, name="{script_id}_{language}")
    assert _file_gets(sb) == before + 2  # only the two unfinished ones were fetched
    assert [Path(f) for f in again["akool_file"]] == files
    assert all(f.stat().st_size > 1000 for f in files) and not list(folder.glob("*.part"))


def test_rows_near_or_past_expiry_are_named_in_a_warning(sb: af.Sandbox, client: af.Client, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    done = _done(client, "pandas")
    sb.advance(8 * 86400)  # the sandbox's links are gone
    with pytest.warns(UserWarning, match=r"5 row\(s\) whose result links have expired \(rows 0, 1, 2, 3, 4\)"):
        out = done.akool.download(tmp_path / "late", client=client)
    assert out["akool_file"].isna().all()
    # rows whose links expire within the day are named too (a 6 days 23 hours old completion)
    fetched = [_download.Fetched(None, "could not download it: the connection broke")] * 2
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with pytest.warns(UserWarning, match=r"2 row\(s\) whose links expire within a day \(rows a, b\)"):
        _download.warn_expiring(["a", "b"], [soon, soon], fetched)


def test_downloads_stay_under_the_concurrency_gate(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(faults={"files": af.Faults(latency=0.05)})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite", max_concurrency=2)
    df = pd.DataFrame({"t": [f"Row {i}." for i in range(10)]})
    done = df.akool.run("tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False)
    out = done.akool.download(tmp_path / "audio", client=client)
    assert out["akool_file"].notna().all() and sb.stats()["max_in_flight"] <= 2
    client.close()
