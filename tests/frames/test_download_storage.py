"""``download(dest)`` to any fsspec URI, against a real S3 API on loopback (moto's server, the ``s3`` fixture): the
objects named after the rows hold exactly the result bytes, a second call copies nothing (no upload, no result
fetched again), a large result goes up in parts (streamed, not held whole), a write the store refuses or a download
that breaks leaves no object and says why, and ``dest`` is parsed as fsspec parses it (``file://`` and Windows
paths are local; a URI with a password, or without its backend installed, is refused with the fix)."""

from __future__ import annotations

import hashlib
import http.server
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import akool_frames as af
from akool_frames._loop import run_sync
from akool_frames.engine import save_file
from akool_frames.storage import FsspecFolder, LocalFolder, storage_for
from tests.client.conftest import VOICE, columns

IDS = ["00101", "00101", "00102"]
LANGS = ["es", "fr", "es"]


def _done(client: af.Client, frame: Any) -> Any:
    df = frame({"script_id": IDS, "language": LANGS, "script": [f"Line {i} in {code}." for i, code in enumerate(LANGS)]})
    return df.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False)


def _file_gets(sb: af.Sandbox) -> int:
    return sum(1 for e in sb.log() if e["path"].startswith("/files/"))


def test_download_to_s3_named_after_the_rows_then_nothing_twice(sb: af.Sandbox, client: af.Client, s3: Any,
                                                                frame: Any, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # where the old bug made a local folder called "s3:"
    done = _done(client, frame)
    out = done.akool.download(s3.uri("out/"), client=client, name="{script_id}_{language}")
    names = ["00101_es.mp3", "00101_fr.mp3", "00102_es.mp3"]
    assert columns(out)["akool_file"] == [s3.uri(f"out/{n}") for n in names]
    assert s3.keys("out/") == [f"out/{n}" for n in names]
    assert not list((tmp_path / "cwd").iterdir())  # nothing written locally
    with httpx.Client(timeout=10) as direct:
        for url, name in zip(columns(done)["akool_url"], names, strict=True):
            assert s3.fs.cat_file(f"{s3.bucket}/out/{name}") == direct.get(url).content  # exactly the result bytes
    puts, gets = len(s3.puts()), _file_gets(sb)
    assert puts == 3
    again = done.akool.download(s3.uri("out/"), client=client, name="{script_id}_{language}")
    assert len(s3.puts()) == puts and _file_gets(sb) == gets  # a second call copies nothing
    assert columns(again)["akool_file"] == columns(out)["akool_file"]


def test_an_object_of_another_size_than_recorded_is_fetched_again(sb: af.Sandbox, client: af.Client, s3: Any,
                                                                   frame: Any) -> None:
    done = _done(client, frame)
    done.akool.download(s3.uri("out/"), client=client, name="{script_id}_{language}")
    s3.fs.pipe(f"{s3.bucket}/out/00102_es.mp3", b"not the result")  # overwritten by something else
    gets = _file_gets(sb)
    done.akool.download(s3.uri("out/"), client=client, name="{script_id}_{language}")
    assert _file_gets(sb) == gets + 1  # only the one whose size is not the one the ledger recorded
    with httpx.Client(timeout=10) as direct:
        assert s3.fs.cat_file(f"{s3.bucket}/out/00102_es.mp3") == direct.get(columns(done)["akool_url"][2]).content


def test_a_store_that_refuses_the_write_names_the_rows(sb: af.Sandbox, client: af.Client, s3: Any, frame: Any) -> None:
    done = _done(client, frame)
    with pytest.warns(UserWarning, match=r"3 row\(s\) whose result could not be saved to s3://no-such-bucket-x/out/"):
        out = done.akool.download("s3://no-such-bucket-x/out/", client=client)
    assert columns(out)["akool_file"] == [None] * 3
    assert columns(out)["akool_status"] == ["completed"] * 3  # the rows are as they were


def test_a_filesystem_that_shows_files_as_they_are_written_gets_them_renamed(sb: af.Sandbox, client: af.Client,
                                                                               frame: Any) -> None:
    import fsspec

    done = _done(client, frame)
    out = done.akool.download("memory://akool-test-out/audio/", client=client, name="{script_id}_{language}")
    memory = fsspec.filesystem("memory")
    try:
        assert columns(out)["akool_file"] == [f"memory://akool-test-out/audio/{n}" for n in
                                              ["00101_es.mp3", "00101_fr.mp3", "00102_es.mp3"]]
        assert sorted(p.rsplit("/", 1)[-1] for p in memory.find("/akool-test-out")) == [
            "00101_es.mp3", "00101_fr.mp3", "00102_es.mp3"]  # written as .part, renamed once whole
        assert [memory.cat_file(f) for f in columns(out)["akool_file"]] == [
            httpx.get(url, timeout=10).content for url in columns(done)["akool_url"]]
    finally:
        memory.rm("/akool-test-out", recursive=True)


# ------------------------------------------------------------------------------------ a large result, streamed
BIG = 12 << 20  # 12 MiB: more than two of the 5 MiB parts an upload sends


def _chunk(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * 2048  # 64 KiB, different for each i


class _Big(http.server.BaseHTTPRequestHandler):
    """Serves BIG bytes made chunk by chunk (the server never holds them whole); ``breaks`` first answers end half
    way (the connection drops before Content-Length bytes came)."""

    breaks = 0

    def do_GET(self) -> None:  # (http.server calls it by this name)
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(BIG))
        self.end_headers()
        chunks = BIG // len(_chunk(0))
        if type(self).breaks > 0:
            type(self).breaks -= 1
            chunks //= 2
        for i in range(chunks):
            self.wfile.write(_chunk(i))
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def big_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Big)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/result"  # no extension: the content type names it
    finally:
        server.shutdown()
        server.server_close()
        _Big.breaks = 0


def _digest() -> str:
    h = hashlib.sha256()
    for i in range(BIG // len(_chunk(0))):
        h.update(_chunk(i))
    return h.hexdigest()


def test_a_large_result_goes_up_in_parts(client: af.Client, s3: Any, big_url: str) -> None:
    storage = storage_for(s3.uri("big/"))
    fetched = run_sync(save_file(client, big_url, storage, "video"))
    assert fetched.file == s3.uri("big/video.mp4") and fetched.size == BIG
    assert s3.keys("big/") == ["big/video.mp4"]  # the temporary name is gone
    assert hashlib.sha256(s3.fs.cat_file(f"{s3.bucket}/big/video.mp4")).hexdigest() == _digest()
    parts = [p for p in s3.puts() if p.endswith("/big/video.part")]
    assert len(parts) >= 3  # sent in 5 MiB parts as it came, not as one body at the end


def test_a_large_result_is_never_whole_in_memory(client: af.Client, tmp_path: Path, big_url: str) -> None:
    tracemalloc.start()
    try:
        fetched = run_sync(save_file(client, big_url, LocalFolder(tmp_path), "video"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fetched.size == BIG and Path(str(fetched.file)).name == "video.mp4"
    assert peak < BIG // 3, f"peak {peak} bytes for a {BIG}-byte file"


def test_a_download_that_breaks_commits_no_object(client: af.Client, s3: Any, big_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from akool_frames.transport import _http

    monkeypatch.setitem(_http.RETRY, "attempts", 2)
    storage = storage_for(s3.uri("big/"))
    _Big.breaks = 2  # every answer ends half way: each upload (6 MiB, a part sent) is abandoned
    broken = run_sync(save_file(client, big_url + ".mp4", storage, "video"))  # straight to the final name
    assert broken.file is None and broken.why is not None and broken.why.startswith("could not download it")
    assert s3.keys("big/") == []  # no half-written object that a later call would take for complete
    assert ("DELETE", f"/{s3.bucket}/big/video.mp4") in s3.requests  # the uploads were aborted ...
    assert s3.fs.call_s3("list_multipart_uploads", Bucket=s3.bucket).get("Uploads", []) == []  # ... not left
    _Big.breaks = 1  # the first answer breaks, the retry is whole
    fetched = run_sync(save_file(client, big_url + ".mp4", storage, "video"))
    assert fetched.file == s3.uri("big/video.mp4") and fetched.size == BIG
    assert hashlib.sha256(s3.fs.cat_file(f"{s3.bucket}/big/video.mp4")).hexdigest() == _digest()


# ------------------------------------------------------------------------------------------ what dest means
def test_dest_is_parsed_as_fsspec_parses_it(tmp_path: Path, s3: Any) -> None:
    assert isinstance(storage_for(tmp_path / "out"), LocalFolder)
    assert isinstance(storage_for("C:\\Users\\me\\out"), LocalFolder)  # a drive letter is no protocol
    for uri in (f"file://{tmp_path}/out", f"file://localhost{tmp_path}/out"):
        local = storage_for(uri)
        assert isinstance(local, LocalFolder) and local.root == tmp_path / "out"
    bucket = storage_for(s3.uri("out/"))
    assert isinstance(bucket, FsspecFolder) and bucket.atomic and bucket.join("a.mp3") == s3.uri("out/a.mp3")
    with pytest.raises(af.ValidationError, match="storage_options") as refused:
        storage_for("s3://me:hunter2@bucket/out/")
    assert "hunter2" not in str(refused.value)


def test_a_uri_without_its_backend_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(af.ConfigError, match=r"pip install gcsfs"):
        storage_for("gs://bucket/out/")
    for name in [m for m in sys.modules if m == "fsspec" or m.startswith("fsspec.")]:
        monkeypatch.setitem(sys.modules, name, None)  # fsspec not installed
    with pytest.raises(af.ConfigError, match=r'pip install "akool-frames\[storage\]"'):
        storage_for("s3://bucket/out/")
    assert isinstance(storage_for("out/"), LocalFolder)  # a folder needs none of it
