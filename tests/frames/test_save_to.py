"""``run(..., save_to=dest, name=...)``: each result saved as its job completes, while the run goes on, to a bucket
on a real S3 API on loopback (the ``s3`` fixture) or a local folder; the objects hold exactly the result bytes, the
ledger records each save, and a re-run (or a download to the same place) saves nothing twice and still returns
``akool_file``. A save that fails leaves the row's status as its job's and says why; invalid rows have no file. A
ledger from before the ``saves`` table gets it when opened."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pandas as pd
import pytest

import akool_frames as af
from akool_frames.ledger import Ledger, Saved
from akool_frames.ledger._entries import _SCHEMA
from tests.client.conftest import VOICE, columns

T = TypeVar("T")
IDS = ["00101", "00101", "00102"]
LANGS = ["es", "fr", "es"]
NAMES = ["00101_es.mp3", "00101_fr.mp3", "00102_es.mp3"]


def _frame(frame: Any) -> Any:
    return frame({"script_id": IDS, "language": LANGS, "script": [f"Line {i} in {c}." for i, c in enumerate(LANGS)]})


def _tts(df: Any, client: af.Client, **options: Any) -> Any:
    return df.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False, **options)


def _file_gets(sb: af.Sandbox) -> int:
    return sum(1 for e in sb.log() if e["path"].startswith("/files/"))


def _results(urls: list[str]) -> list[bytes]:
    with httpx.Client(timeout=10) as direct:
        return [direct.get(url).content for url in urls]


def _until(found: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """``found()`` once it is truthy; fails after ``timeout`` seconds (a bound, not a measure)."""
    deadline = time.monotonic() + timeout
    while not (value := found()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.02)
    return value


def test_run_saves_to_s3_and_a_rerun_saves_nothing(sb: af.Sandbox, client: af.Client, s3: Any, frame: Any) -> None:
    df = _frame(frame)
    out = _tts(df, client, save_to=s3.uri("out/"), name="{script_id}_{language}")
    got = columns(out)
    assert got["akool_status"] == ["completed"] * 3
    assert got["akool_file"] == [s3.uri(f"out/{n}") for n in NAMES]
    assert s3.keys("out/") == [f"out/{n}" for n in NAMES]
    puts, gets = len(s3.puts()), _file_gets(sb)
    for name, body in zip(NAMES, _results(got["akool_url"]), strict=True):
        assert s3.fs.cat_file(f"{s3.bucket}/out/{name}") == body  # exactly the result bytes
    saved = client.ledger.saved(s3.uri("out/"), got["akool_job_id"])
    assert {(job, name): (s.file, s.size) for (job, name), s in saved.items()} == {
        (job, name.removesuffix(".mp3")): (name, s3.fs.size(f"{s3.bucket}/out/{name}"))
        for job, name in zip(got["akool_job_id"], NAMES, strict=True)}
    creates = sb.stats()["creates"]

    asked = len(s3.requests)
    again = _tts(df, client, save_to=s3.uri("out/"), name="{script_id}_{language}")
    assert len(s3.puts()) == puts and _file_gets(sb) == gets + 3  # (those 3 GETs are this test's own, above)
    assert len(s3.requests) == asked  # the ledger says what was saved where: the bucket is not even asked
    assert columns(again)["akool_file"] == got["akool_file"] and sb.stats()["creates"] == creates
    # download() to the same place and names finds them complete, at the sizes the ledger recorded
    files = out.akool.download(s3.uri("out/"), client=client, name="{script_id}_{language}")
    assert columns(files)["akool_file"] == got["akool_file"]
    assert len(s3.puts()) == puts and _file_gets(sb) == gets + 3


def test_each_result_is_saved_while_the_run_goes_on(make_sandbox: Callable[..., af.Sandbox], s3: Any,
                                                    tmp_path: Path) -> None:
    sb = make_sandbox(time_scale=1e-6)  # its clock all but stopped: a job finishes when the test moves the clock
    client = af.Client(**{**sb.client_options(), "poll_interval": 0.05, "reconcile_after": 5.0},
                       ledger=tmp_path / "ledger.sqlite")
    df = pd.DataFrame({"script_id": ["a", "b"], "script": ["The first line.", "The second line."]})
    try:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(_tts, df, client, save_to=s3.uri("out/"), name="{script_id}")
            try:
                jobs = _until(lambda: list(sb.state.jobs.values()) if len(sb.state.jobs) == 2 else None, "two creates")
                first, last = sorted(jobs, key=lambda j: j.finished)
                now = sb.state.clock.now()
                sb.advance(first.finished - now + (last.finished - first.finished) / 2)  # the first is over, not the last
                name = "a" if first.body["input_text"] == "The first line." else "b"
                _until(lambda: s3.keys("out/") == [f"out/{name}.mp3"], "the first job's result saved")
                assert not running.done()  # the run goes on ...
                assert last.status(sb.state.clock.now()) != 3  # ... following the last job, still unfinished (3: done)
            finally:
                sb.advance(3600)  # every job over: the run ends, whatever was found above
            out = running.result(timeout=60)
    finally:
        client.close()
    assert s3.keys("out/") == ["out/a.mp3", "out/b.mp3"]
    assert columns(out)["akool_file"] == [s3.uri("out/a.mp3"), s3.uri("out/b.mp3")]
    for name, body in zip(["a", "b"], _results(columns(out)["akool_url"]), strict=True):
        assert s3.fs.cat_file(f"{s3.bucket}/out/{name}.mp3") == body


def test_save_to_a_local_folder(sb: af.Sandbox, client: af.Client, tmp_path: Path, frame: Any) -> None:
    df = frame({"script": ["One line.", "", "Another line."]})  # the blank one is an invalid row: no file
    out = _tts(df, client, save_to=tmp_path / "audio")
    got = columns(out)
    assert got["akool_status"] == ["completed", "invalid", "completed"]
    assert got["akool_file"][1] is None
    files = [Path(got["akool_file"][i]) for i in (0, 2)]
    assert [f.name for f in files] == [f"{got['akool_job_id'][i]}.mp3" for i in (0, 2)]  # named by job id
    assert [f.read_bytes() for f in files] == _results([got["akool_url"][i] for i in (0, 2)])
    assert sorted(p.name for p in (tmp_path / "audio").iterdir()) == sorted(f.name for f in files)  # no .part
    gets = _file_gets(sb)
    again = _tts(df, client, save_to=tmp_path / "audio")
    assert _file_gets(sb) == gets and columns(again)["akool_file"] == got["akool_file"]


def test_a_save_that_fails_keeps_the_row_and_says_why(sb: af.Sandbox, client: af.Client, s3: Any,
                                                      frame: Any) -> None:
    df = _frame(frame)
    done = columns(_tts(df, client))
    sb.advance(8 * 86400)  # result files are served for 7 days: the links answer 404 now
    creates = sb.stats()["creates"]
    with pytest.warns(UserWarning, match=re.escape(
            f"3 row(s) whose result could not be saved to {s3.uri('out/')} (rows 0, 1, 2: the link has expired")):
        out = columns(_tts(df, client, save_to=s3.uri("out/")))
    assert out["akool_status"] == ["completed"] * 3 and out["akool_job_id"] == done["akool_job_id"]
    assert out["akool_file"] == [None] * 3 and s3.keys("out/") == []
    assert sb.stats()["creates"] == creates  # the re-run made nothing


def test_name_is_the_jobs_own_field_where_it_has_one(frame: Any, engine: Any, tmp_path: Path) -> None:
    frame({"text": ["a"]}).akool.run("voice_clone", source_voice_file="https://x.test/v.mp3", name="My voice",
                                     save_to=tmp_path / "voices", progress=False)
    call = engine.calls[-1]
    assert call["rows"][0]["name"] == "My voice"  # voice_clone's field, as without save_to=
    assert call["save"].names == ["{job_id}"]  # the files are named by job id
    frame({"text": ["a"]}).akool.run("tts", text=af.col("text"), name="{text}_x", save_to=tmp_path / "a",
                                     progress=False)
    assert "name" not in engine.calls[-1]["rows"][0] and engine.calls[-1]["save"].names == ["a_x"]
    with pytest.raises(af.ValidationError, match="names the files save_to= writes"):
        frame({"text": ["a"]}).akool.run("tts", text=af.col("text"), name="{text}", progress=False)


def test_a_ledger_from_before_saves_gets_the_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = re.sub(r"CREATE TABLE IF NOT EXISTS saves \(.*?\);", "", _SCHEMA, flags=re.DOTALL)
    assert "saves" not in old
    with sqlite3.connect(path) as db:
        db.executescript(old)
    ledger = Ledger(path)
    try:
        ledger.record_saves([("job-1", "s3://b/out/", "x", "x.mp3", 10)]).result()
        found = ledger.saved("s3://b/out/", ["job-1", "job-2"])
        assert list(found) == [("job-1", "x")] and found["job-1", "x"][:2] == Saved("x.mp3", 10, 0)[:2]
    finally:
        ledger.close()
