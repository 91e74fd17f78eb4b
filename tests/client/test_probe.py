"""Probes that never stall a forecast: media lengths fetched concurrently under the client's gate, with
short timeouts, once per session and kept in the ledger; an unreachable host costs one failed connection, not one
per row, and every row says why in plain words.

Real HTTP only: the sandbox for its result files, and (where the sandbox cannot help: it serves whole files and no
ranges) a small file server of the test's own that honours ranges and can answer 5xx, reset, hang or ignore ranges.
Speed is checked by counting requests, and by the timeout marks.
"""

from __future__ import annotations

import asyncio
import io
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import akool_frames as af
from akool_frames._loop import run_sync
from akool_frames.frames._progress import Progress
from akool_frames.pricing._media import HEAD_BYTES
from akool_frames.pricing._probe import READ_TIMEOUT, Length, probe_lengths
from akool_frames.sandbox._media import render
from tests.client.conftest import VOICE
from tests.test_media import mp4_big_moov, mp4_moov_last, ogg_vorbis


def _refused_port() -> int:
    with socket.socket() as s:  # bound, never listening: connections to it are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _speech(client: af.Client, n: int, **options: Any) -> list[str]:
    df = pd.DataFrame({"text": [f"Sentence number {i}, long enough to last a while." * (i + 1) for i in range(n)]})
    done = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False, **options)
    return done["akool_url"].tolist()


def _mutagen_seconds(data: bytes) -> float:
    from mutagen import File

    return float(File(io.BytesIO(data)).info.length)


def _file_requests(sb: af.Sandbox) -> int:
    return sum(1 for e in sb.log() if e["path"].startswith("/files/"))


# ------------------------------------------------------------------ a file server that honours ranges
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Files

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        srv, path = self.server, self.path.split("?", 1)[0]
        with srv.lock:
            srv.requests.append((path, self.headers.get("Range")))
            fault = srv.faults.get(path, []).pop(0) if srv.faults.get(path) else None
        if fault == "hang":
            time.sleep(READ_TIMEOUT + 2)  # connected, then silence
            self.close_connection = True
            return
        if fault == "reset":  # closed with no answer
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        data = srv.files.get(path)
        if fault is not None or data is None:
            status = int(fault or 404)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
        if path in srv.chunked:  # no size told anywhere
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(0, len(data), 65536):
                    part = data[i:i + 65536]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.close_connection = True  # the prober stopped reading: fine
            return
        if wanted is None or path in srv.plain:
            self.send_response(200)
            body = data
        else:
            start, end = int(wanted[1]), min(int(wanted[2]), len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            body = data[start:end + 1]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


class _Files(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.files: dict[str, bytes] = {}
        self.faults: dict[str, list[str]] = {}  # path -> what its next requests get: "503", "reset", "hang"
        self.plain: set[str] = set()  # paths served whole, Range ignored
        self.chunked: set[str] = set()  # paths served whole, chunked, no size
        self.requests: list[tuple[str, str | None]] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if p == path)


@pytest.fixture
def files() -> Iterator[_Files]:
    server = _Files()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


# ------------------------------------------------------------------ unreachable hosts
@pytest.mark.timeout(30)
def test_500_rows_on_unreachable_hosts_say_why_and_cost_seconds(sb: af.Sandbox, client: af.Client) -> None:
    port = _refused_port()
    urls = [f"https://cdn.unreachable.invalid/audio/{i}.mp3?token=secret{i}" for i in range(250)]
    urls += [f"http://127.0.0.1:{port}/audio/{i}.mp3" for i in range(250)]
    df = pd.DataFrame({"audio": urls})
    before = sb.stats()["requests"]
    est = df.akool.estimate("talking_photo", talking_photo_url="https://cdn.example.com/p.png",
                            audio_url=af.col("audio"), rates={"talking_photo": 10}, client=client)
    assert sb.stats()["requests"] == before  # none of this touched the API
    errors = est["akool_error"].tolist()
    assert est["akool_credits_est"].isna().all() and est["akool_status"].isna().all()  # unpriced, not invalid
    assert all("could not reach cdn.unreachable.invalid: name not resolved" in e for e in errors[:250])
    assert all(f"could not reach 127.0.0.1:{port}: connection refused" in e for e in errors[250:]), errors[250]
    assert not any("HTTP 0" in e or "secret" in e for e in errors)  # plain words; no query strings (tokens)
    # at most one connection tried per host, not one per row (the rest are answered from the first failure;
    # a name that does not resolve is not even connected to)
    assert client.http.counts["requests"] <= 1


@pytest.mark.timeout(30)
def test_unreachable_hosts_next_to_a_live_one(sb: af.Sandbox, client: af.Client) -> None:
    live = _speech(client, 1)[0]
    missing = live.rsplit("/", 1)[0] + "/no-such-file.mp3?X-Amz-Signature=secret"
    dead = [f"http://127.0.0.1:{_refused_port()}/a.mp3", "https://cdn.unreachable.invalid/b.wav"]
    progress = Progress("probe", bars=False)
    found = run_sync(probe_lengths(client, [live, missing, *dead] * 3, progress=progress))
    assert found[live].source == "probed" and found[live].seconds  # a refused port on the same address: not this one
    assert found[missing].seconds is None and found[missing].source == ""
    assert found[missing].reason.endswith("answered 404 Not Found for /files/no-such-file.mp3")
    assert "could not reach 127.0.0.1:" in found[dead[0]].reason and "connection refused" in found[dead[0]].reason
    assert found[dead[1]].reason == "could not reach cdn.unreachable.invalid: name not resolved"
    assert (progress.total, progress.n_finished) == (4, 4)  # one per distinct target that needed a request


@pytest.mark.timeout(30)
def test_a_host_that_connects_then_says_nothing_is_waited_for_once(client: af.Client, files: _Files) -> None:
    files.faults = {f"/{i}.mp3": ["hang"] for i in range(20)}
    urls = [files.url(f"/{i}.mp3") for i in range(20)]
    found = run_sync(probe_lengths(client, urls))
    where = f"127.0.0.1:{files.server_address[1]}"
    assert all(found[u].reason == f"{where} did not answer: no data within {READ_TIMEOUT:g} s" for u in urls)
    assert len(files.requests) == 1  # one silent wait, not twenty


# ------------------------------------------------------------------ lengths right
def test_lengths_of_each_kind_the_sandbox_serves(sb: af.Sandbox, client: af.Client) -> None:
    mp3 = _speech(client, 2)
    wav = _speech(client, 1, extra_options={"audio_setting": {"format": "wav"}})
    photo = pd.DataFrame({"audio": mp3[:1]}).akool.run(
        "talking_photo", talking_photo_url="https://cdn.example.com/p.png", audio_url=af.col("audio"),
        resolution="720", client=client, progress=False)
    mp4 = photo["akool_url"].tolist()
    png = str(af.effects(client=client)["logo"].iloc[0])
    assert [u.rsplit(".", 1)[1] for u in (*mp3, *wav, *mp4, png)] == ["mp3", "mp3", "wav", "mp4", "png"]
    lengths = run_sync(probe_lengths(client, [*mp3, *wav, *mp4, png]))
    for url in (*mp3, *wav, *mp4):
        assert lengths[url].source == "probed", lengths[url]
        assert lengths[url].seconds == pytest.approx(_mutagen_seconds(httpx.get(url, timeout=10).content), abs=0.05)
    assert lengths[png].seconds is None
    assert lengths[png].reason == (f"the file at {png} is not audio or video that can be read "
                                   "(WAV, MP3, MP4/M4A/MOV, OGG, FLAC)")


@pytest.mark.parametrize(("name", "make", "fetches"), [
    ("long.mp3", lambda: render("mp3", 300), 1),  # CBR without Xing: the head and the size from Content-Range
    ("long.wav", lambda: render("wav", 300), 1),
    ("moov-last.mp4", lambda: mp4_moov_last(120), 2),  # the head, then the moov from its end
    ("big-moov.mp4", lambda: mp4_big_moov(61.3), 2),  # the head, then the rest of its moov
    ("long.ogg", lambda: ogg_vorbis(37.5, pad=1_200_000), 2),  # the head, then the last page
])
def test_lengths_from_part_of_a_big_file(client: af.Client, files: _Files, name: str, make: Any,
                                         fetches: int) -> None:
    data = make()
    assert len(data) > HEAD_BYTES
    files.files[f"/{name}"] = data
    found = run_sync(probe_lengths(client, [files.url(f"/{name}")]))[files.url(f"/{name}")]
    assert found.source == "probed"
    assert found.seconds == pytest.approx(_mutagen_seconds(data), abs=0.05)
    assert files.count(f"/{name}") == fetches
    assert all(r is not None and r.startswith("bytes=") for _, r in files.requests)  # never the whole file
    assert sum(len(data) if r is None else int(r.split("-")[1]) - int(r[6:].split("-")[0]) + 1
               for _, r in files.requests) < len(data)


def test_servers_that_ignore_ranges_or_hide_the_size(client: af.Client, files: _Files) -> None:
    files.files = {"/whole.mp3": render("mp3", 120), "/whole.mp4": mp4_moov_last(120), "/chunked.mp3": render("mp3", 120)}
    files.plain = {"/whole.mp3", "/whole.mp4"}
    files.chunked = {"/chunked.mp3"}
    found = run_sync(probe_lengths(client, [files.url(p) for p in files.files]))
    assert found[files.url("/whole.mp3")].seconds == pytest.approx(_mutagen_seconds(files.files["/whole.mp3"]), abs=0.05)
    # no tail from a server that sends the start again: unknown, not guessed
    assert "is not audio or video that can be read" in found[files.url("/whole.mp4")].reason
    assert files.count("/whole.mp4") == 1
    assert found[files.url("/chunked.mp3")].reason.endswith("so its length cannot be read from its first bytes")


def test_one_retry_for_a_5xx_or_a_reset_never_more(client: af.Client, files: _Files) -> None:
    data = render("mp3", 20)
    files.files = {"/a.mp3": data, "/b.mp3": data, "/c.mp3": data, "/d.mp3": data}
    # A reset GET is also resent once by aiohttp itself (RFC 9112 9.3.1: idempotent requests only, never a
    # create's POST): two resets in a row are one failed try of ours.
    files.faults = {"/a.mp3": ["503"], "/b.mp3": ["reset", "reset"], "/c.mp3": ["502", "502", "502"],
                    "/d.mp3": ["reset"] * 5}
    found = run_sync(probe_lengths(client, [files.url(p) for p in sorted(files.files)]))
    assert found[files.url("/a.mp3")].seconds == pytest.approx(20, abs=0.05)
    assert found[files.url("/b.mp3")].seconds == pytest.approx(20, abs=0.05)
    assert found[files.url("/c.mp3")].reason.endswith("answered 502 Bad Gateway for /c.mp3")
    assert found[files.url("/d.mp3")].reason.startswith(f"could not read {files.url('/d.mp3')}: the connection broke")
    assert [files.count(p) for p in sorted(files.files)] == [2, 3, 2, 4]


# ------------------------------------------------------------------ once a session, then the ledger
def test_each_url_is_fetched_once_a_session_and_kept_in_the_ledger(sb: af.Sandbox, client: af.Client,
                                                                     tmp_path: Path) -> None:
    url = _speech(client, 1)[0]
    df = pd.DataFrame({"audio": [url] * 50})
    params: dict[str, Any] = {"talking_photo_url": "https://cdn.example.com/p.png", "audio_url": af.col("audio"),
                              "rates": {"talking_photo": 10}}
    files = _file_requests(sb)
    first = df.akool.estimate("talking_photo", client=client, **params)
    assert _file_requests(sb) == files + 1  # 50 rows, one fetch
    assert set(first["akool_duration_source"]) == {"probed"}
    df.akool.estimate("talking_photo", client=client, **params)
    assert run_sync(probe_lengths(client, [url] * 50))[url].source == "probed"
    assert _file_requests(sb) == files + 1  # the session remembers
    other = af.Client(**sb.client_options(), ledger=client.ledger_path)  # another session, the same ledger
    again = df.akool.estimate("talking_photo", client=other, **params)
    assert _file_requests(sb) == files + 1  # the ledger remembers
    assert set(again["akool_duration_source"]) == {"ledger"}
    assert again["akool_duration_s"].tolist() == first["akool_duration_s"].tolist()
    assert run_sync(probe_lengths(other, [url]))[url] == Length(first["akool_duration_s"][0], "ledger")
    other.close()


def test_calls_at_the_same_time_share_one_probe(sb: af.Sandbox, client: af.Client) -> None:
    urls = _speech(client, 2)
    before = _file_requests(sb)

    async def both() -> list[Any]:
        return await asyncio.gather(probe_lengths(client, urls), probe_lengths(client, urls[::-1] * 25),
                                    probe_lengths(client, urls[:1]))

    one, two, three = run_sync(both())
    assert _file_requests(sb) == before + 2
    assert one == {u: two[u] for u in urls} and three[urls[0]] == one[urls[0]]


def test_probes_stay_under_the_concurrency_gate(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(faults={"files": af.Faults(latency=0.05)})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite", max_concurrency=3)
    urls = _speech(client, 12)
    client.lengths.clear()
    with client.ledger._lock:  # forget them, so they are fetched again
        client.ledger._db.execute("DELETE FROM media")
    lengths = run_sync(probe_lengths(client, urls))
    assert all(x.seconds for x in lengths.values())
    assert sb.stats()["max_in_flight"] <= 3
    client.close()


def test_local_files_objects_and_job_ids(sb: af.Sandbox, client: af.Client, tmp_path: Path, s3: Any) -> None:
    url = _speech(client, 1)[0]
    local = tmp_path / "a.mp3"
    local.write_bytes(httpx.get(url, timeout=10).content)
    junk = tmp_path / "notes.txt"
    junk.write_text("not audio")
    job = str(af.ledger(client=client)["job_id"].iloc[0])  # a finished TTS job: its result's length
    text = "A script pasted where a file was meant " * 10  # too long for a file name: not a crash
    s3.fs.pipe(f"{s3.bucket}/a.mp3", local.read_bytes())
    targets = [str(local), str(junk), str(tmp_path / "nope.wav"), "64d985c5571729d3", job, s3.uri("a.mp3"),
               s3.uri("none.mp3"), "ftp://files.invalid/a.mp3?sig=x", text, f"{tmp_path}/a\x00.mp3", f"file://{local}"]
    found = run_sync(probe_lengths(client, targets))
    assert found[text].reason.endswith("is neither a URL, a file, nor a finished job in the ledger")
    assert found[f"{tmp_path}/a\x00.mp3"].reason.startswith("no such file")
    assert found[str(local)].seconds == pytest.approx(_mutagen_seconds(local.read_bytes()), abs=0.05)
    assert "is not audio or video that can be read" in found[str(junk)].reason
    assert found[str(tmp_path / "nope.wav")].reason == f"no such file: {tmp_path / 'nope.wav'}"
    assert "neither a URL, a file, nor a finished job in the ledger" in found["64d985c5571729d3"].reason
    assert found[job].seconds == found[str(local)].seconds and found[job].source == "probed"
    # an object is read from its store (ranged reads); file:// is a local file
    assert found[s3.uri("a.mp3")].seconds == found[str(local)].seconds
    assert found[s3.uri("none.mp3")].reason == f"there is no object {s3.uri('none.mp3')}"
    assert found[f"file://{local}"].seconds == found[str(local)].seconds
    assert found["ftp://files.invalid/a.mp3?sig=x"].reason == \
        "ftp://files.invalid/a.mp3 is not an http(s) URL: it cannot be fetched"
