"""Local files and objects in URL fields, against a real S3 API on loopback (moto's server) and the sandbox:
staged once, presigned for each create, keyed by what the row gave (never a signature)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from akool_frames.sandbox._media import render


def _client(sb: af.Sandbox, tmp_path: Path, **options: Any) -> af.Client:
    return af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite", **options)


@pytest.fixture
def portraits(tmp_path: Path) -> pd.DataFrame:
    """Three rows of local files: two portraits (one used twice) and two audio files."""
    folder = tmp_path / "portraits"
    folder.mkdir()
    (folder / "ana.png").write_bytes(render("png", seed=1))
    (folder / "ben.png").write_bytes(render("png", seed=2))
    (folder / "hello.wav").write_bytes(render("wav", 3.0))
    (folder / "bye.wav").write_bytes(render("wav", 2.0))
    return pd.DataFrame({"script_id": ["s1", "s2", "s3"],
                         "portrait": [str(folder / "ana.png"), str(folder / "ben.png"), f"file://{folder}/ana.png"],
                         "audio": [str(folder / "hello.wav"), str(folder / "bye.wav"), str(folder / "bye.wav")]})


def test_local_files_are_staged_once_and_the_talking_photos_complete(sb, s3, tmp_path, portraits):
    client = _client(sb, tmp_path, staging=s3.uri("in/"))
    out = portraits.akool.run("talking_photo", talking_photo_url=af.col("portrait"), audio_url=af.col("audio"),
                              client=client)
    assert list(out["akool_status"]) == ["completed"] * 3, out["akool_error"].tolist()
    # four distinct contents (ana.png twice, once as file://; bye.wav twice): four objects, each put once
    lists = [r for r in s3.requests if r == ("GET", f"/{s3.bucket}")]  # a listing (a new object's HEAD is enough)
    assert lists == [] and sum(1 for method, _ in s3.requests if method == "HEAD") == 4
    staged = s3.keys("in/")
    assert len(staged) == 4 and len(s3.puts()) == 4
    # the sandbox fetched the presigned URLs from the S3 server to measure them, as the API fetches its inputs
    fetched = {path.split("/", 2)[2] for method, path in s3.requests if method == "GET" and "/in/" in path}
    assert fetched == set(staged) and sb.stats()["inputs_fetched"] >= 4
    # the estimate priced the audio from the local files
    assert out["akool_duration_s"].round(1).tolist() == [3.0, 2.0, 2.0]
    assert sb.stats()["creates"] == 3
    # the ledger keeps what the row gave, never a signature
    client.close()
    text = _ledger_text(tmp_path / "ledger.sqlite")
    assert "hello.wav" in text and "Signature=" not in text and "AWSAccessKeyId" not in text


def _ledger_text(path: Path) -> str:
    """Every byte of the ledger's files, as text: what a reader of the file could find in it."""
    return " ".join(p.read_bytes().decode("latin-1") for p in path.parent.glob(path.name + "*"))


def _run(frame: pd.DataFrame, client: af.Client) -> pd.DataFrame:
    return frame.akool.run("talking_photo", talking_photo_url=af.col("portrait"), audio_url=af.col("audio"),
                           client=client)


def test_a_rerun_after_the_signatures_expired_creates_nothing(sb, s3, tmp_path, portraits):
    first = _run(portraits, _client(sb, tmp_path, staging=s3.uri("in/"), staging_ttl=1))
    assert list(first["akool_status"]) == ["completed"] * 3
    import time

    time.sleep(1.1)  # every URL signed for the first run has expired (and a new signature differs)
    puts = len(s3.puts())
    again = _run(portraits, _client(sb, tmp_path, staging=s3.uri("in/"), staging_ttl=1))
    assert list(again["akool_status"]) == ["completed"] * 3
    assert list(again["akool_job_id"]) == list(first["akool_job_id"])
    assert sb.stats()["creates"] == 3  # the re-run made none
    assert len(s3.puts()) == puts  # and uploaded nothing


def test_changed_bytes_at_the_same_path_are_a_new_row(sb, s3, tmp_path, portraits):
    one = portraits.iloc[:1]
    first = _run(one, _client(sb, tmp_path, staging=s3.uri("in/")))
    Path(one["audio"].iloc[0]).write_bytes(render("wav", 4.0))  # the same name, other content
    second = _run(one, _client(sb, tmp_path, staging=s3.uri("in/")))
    assert second["akool_job_id"].iloc[0] != first["akool_job_id"].iloc[0]
    assert second["akool_duration_s"].round(1).tolist() == [4.0]
    assert sb.stats()["creates"] == 2


def test_objects_in_a_bucket_are_presigned_where_they_are(sb, s3, tmp_path):
    s3.fs.pipe(f"{s3.bucket}/media/face.png", render("png", seed=3))
    s3.fs.pipe(f"{s3.bucket}/media/line.wav", render("wav", 2.5))
    frame = pd.DataFrame({"portrait": [s3.uri("media/face.png")], "audio": [s3.uri("media/line.wav")]})
    before = len(s3.puts())
    out = _run(frame, _client(sb, tmp_path))  # no staging needed: nothing is copied
    assert list(out["akool_status"]) == ["completed"], out["akool_error"].tolist()
    assert len(s3.puts()) == before
    assert s3.keys() == ["media/face.png", "media/line.wav"]
    assert out["akool_duration_s"].round(1).tolist() == [2.5]  # read from the object (ranged reads)
    # a re-run signs again and creates nothing
    again = _run(frame, _client(sb, tmp_path))
    assert list(again["akool_job_id"]) == list(out["akool_job_id"]) and sb.stats()["creates"] == 1


def test_a_replaced_object_is_a_new_row(sb, s3, tmp_path):
    s3.fs.pipe(f"{s3.bucket}/media/face.png", render("png", seed=3))
    s3.fs.pipe(f"{s3.bucket}/media/line.wav", render("wav", 2.5))
    frame = pd.DataFrame({"portrait": [s3.uri("media/face.png")], "audio": [s3.uri("media/line.wav")]})
    first = _run(frame, _client(sb, tmp_path))
    s3.fs.pipe(f"{s3.bucket}/media/line.wav", render("wav", 3.5))  # another ETag and size
    second = _run(frame, _client(sb, tmp_path))
    assert second["akool_job_id"].iloc[0] != first["akool_job_id"].iloc[0]


def test_a_lost_create_with_a_staged_input_is_found_not_resent(make_sandbox, s3, tmp_path):
    # The first create is made (job exists, charged), then its answer is lost: the list has the job, with the
    # URL it was sent (signed); the run looks it up by the URL without its signature, and adopts it.
    sb = make_sandbox(faults={"voice_clone": af.Faults(at={1: "reset_after"})})
    voice = tmp_path / "me.wav"
    voice.write_bytes(render("wav", 6.0))
    frame = pd.DataFrame({"audio": [str(voice)], "name": ["me"]})
    client = _client(sb, tmp_path, staging=s3.uri("in/"))
    out = frame.akool.run("voice_clone", audio_url=af.col("audio"), voice_name=af.col("name"), client=client)
    assert [e["fault"] for e in sb.log() if e.get("kind") == "create"] == ["reset_after"]
    assert list(out["akool_status"]) == ["completed"], out["akool_error"].tolist()
    assert sb.stats()["creates"] == 1


def test_the_same_bytes_under_two_names_are_one_job_and_a_moved_file_is_the_same_row(sb, s3, tmp_path, portraits):
    folder = tmp_path / "portraits"
    (folder / "copy-of-ana.png").write_bytes((folder / "ana.png").read_bytes())
    frame = pd.DataFrame({"portrait": [str(folder / "ana.png"), str(folder / "copy-of-ana.png")],
                          "audio": [str(folder / "hello.wav")] * 2})
    out = _run(frame, _client(sb, tmp_path, staging=s3.uri("in/")))
    assert out["akool_job_id"].nunique() == 1 and sb.stats()["creates"] == 1  # identical rows share one job
    assert sb.stats()["duplicate_creates"] == 0
    moved = tmp_path / "elsewhere"
    (folder).rename(moved)
    again = _run(frame.replace(str(folder), str(moved), regex=True), _client(sb, tmp_path, staging=s3.uri("in/")))
    assert list(again["akool_job_id"]) == list(out["akool_job_id"]) and sb.stats()["creates"] == 1
