"""Sandbox: media inputs as the API takes them (issue 22). A create whose input is not an http(s) URL is refused with
"Invalid URL format" (face detection's documented message, page 09; Akool's parameter error 1003, page 06), nothing
charged; an input on loopback (a media host the test starts, moto's S3, the sandbox's own files) is fetched and
measured, and one that cannot be fetched fails its job (video_status 4, "please check your input resources"); any
other host is never contacted (the tests' network guard would see it).

Real HTTP against the sandbox and a small loopback media host that counts what it is asked for.
"""

from __future__ import annotations

import copy
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

import akool_frames as af
from akool_frames.sandbox._inputs import is_http_url, is_loopback
from akool_frames.sandbox._media import render
from tests.conftest import akool, media_seconds, poll
from tests.sandbox.conftest import ok, video_finished
from tests.sandbox.test_kling import client as kling_client

IMG, AUDIO, VIDEO = "https://x.test/face.png", "https://x.test/speech.mp3", "https://x.test/clip.mp4"
FACE = {"path": IMG, "opts": "1,2:3,4:5,6:7,8"}
VOICE = "6889b628662160e2caad5dbc"  # a listed VoiceLab voice (page 42's example)
# What a user has where the API wants a URL: each is refused by the API ("Invalid URL format").
NOT_HTTP = ["portraits/face.jpg", "file:///x", "s3://b/k", "C:\\x.jpg", "ftp://h/x"]

TALKING_PHOTO = "/api/open/v3/content/video/createbytalkingphoto"
LIP_SYNC = "/api/open/v3/content/video/lipsync"
VOICE_CHANGE = "/api/open/v4/voice/change"
DETECT = "/interface/detect-api/detect_faces"
ANALYZE = "/interface/detect-api/faceswap/analyze_frames"
I2V = "/api/open/v4/image2Video/createBySourcePrompt"
I2V_BODY = {"image_url": IMG, "prompt": "Waves", "negative_prompt": "blur", "resolution": "720p", "audio_type": 3,
            "video_length": 5}
AT = {"scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0}  # an image or avatar element's placement

# Every create with media inputs: its path, a body the sandbox accepts, and each input field of it.
CREATES: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "talking_photo": (TALKING_PHOTO, {"talking_photo_url": IMG, "audio_url": AUDIO}, ["talking_photo_url", "audio_url"]),
    "talking_avatar": ("/api/open/v3/talkingavatar/create", {
        "width": 3840, "height": 2160, "avatar_from": 3,
        "elements": [{"type": "image", "url": IMG, **AT}, {"type": "avatar", "url": VIDEO, **AT},
                     {"type": "audio", "url": AUDIO}]}, ["elements[0].url", "elements[1].url", "elements[2].url"]),
    "avatar_upload": ("/api/open/v3/avatar/create", {"url": VIDEO, "avatar_id": "mine1"}, ["url"]),
    "lip_sync": (LIP_SYNC, {"video_url": VIDEO, "audio_url": AUDIO}, ["video_url", "audio_url"]),
    "video_translation": ("/api/open/v3/content/video/createbytranslate", {"url": VIDEO, "language": "es"}, ["url"]),
    "character_swap": ("/api/open/v4/characterSwap/create", {"image": IMG, "video": VIDEO}, ["image", "video"]),
    "voice_change": (VOICE_CHANGE, {"voice_id": VOICE, "source_voice_file": AUDIO}, ["source_voice_file"]),
    "voice_clone": ("/api/open/v4/voice/clone", {"source_voice_file": AUDIO}, ["source_voice_file"]),
    "legacy_voice_clone": ("/api/open/v3/audio/clone", {"input_text": "Hello", "rate": "100%", "voice_url": AUDIO},
                           ["voice_url"]),
    "background_change": ("/api/open/v3/content/image/bg/replace", {
        "origin_img": IMG, "template_url": IMG, "modify_origin_img_size": "100x100", "overlay_origin_x": 0,
        "overlay_origin_y": 0, "canvas_size": "200x200"}, ["origin_img", "template_url"]),
    "image_generate": ("/api/open/v3/content/image/createbyprompt", {"prompt": "A cat", "source_image": IMG},
                       ["source_image"]),
    "image_to_video": (I2V, {**I2V_BODY, "audio_type": 2, "audio_url": AUDIO}, ["image_url", "audio_url"]),
    "image_to_video_batch": (I2V + "/batch", {
        "image_url": IMG, "prompt": "Waves", "model_name": "seedance-1-0-lite-i2v-250428", "resolution": "720p",
        "video_length": 5, "last_image_url": IMG, "audio_type": 2, "audio_url": AUDIO},
        ["image_url", "last_image_url", "audio_url"]),
    "video_audio": ("/api/open/v4/image2Video/updateVideoAudio", {"pre_video_id": "(made by the test)",
                                                                  "audio_type": 2, "audio_url": AUDIO}, ["audio_url"]),
    "faceswap_image": ("/api/open/v3/faceswap/highquality/specifyimage", {
        "targetImage": [dict(FACE)], "sourceImage": [dict(FACE)], "modifyImage": IMG},
        ["targetImage[0].path", "sourceImage[0].path", "modifyImage"]),
    "faceswap_video": ("/api/open/v3/faceswap/highquality/specifyvideo", {
        "targetImage": [dict(FACE)], "sourceImage": [dict(FACE)], "modifyVideo": VIDEO},
        ["targetImage[0].path", "sourceImage[0].path", "modifyVideo"]),
    "faceswap_pro": ("/api/open/v4/faceswap/faceswapByImage", {"targetImage": [{"path": IMG}],
                                                               "sourceImage": [{"path": IMG}]},
                     ["targetImage[0].path", "sourceImage[0].path"]),
    "reage_image": ("/api/open/v3/faceswap/highquality/imgreage", {"targetImage": [FACE], "face_reage": 10,
                                                                   "modifyImage": IMG}, ["targetImage[0].path", "modifyImage"]),
    "reage_video": ("/api/open/v3/faceswap/highquality/vidreage", {"targetImage": [FACE], "face_reage": 10,
                                                                   "modifyVideo": VIDEO}, ["targetImage[0].path", "modifyVideo"]),
    "kling_custom_voice": ("/v1/general/custom-voices", {"voice_name": "Mine", "voice_url": AUDIO}, ["voice_url"]),
}
CASES = [(name, field) for name, (_, _, fields) in CREATES.items() for field in fields]


def put(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with ``value`` at ``path`` ("url", "elements[2].url", "targetImage[0].path")."""
    out = copy.deepcopy(body)
    node: Any = out
    keys: list[Any] = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", path)]
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return out


def answer(r: httpx.Response) -> tuple[int, Any, str]:
    """HTTP status, the business code and the message, of Akool's envelope or Kling's."""
    body = r.json()
    return r.status_code, body.get("code"), str(body.get("msg", body.get("message", "")))


def completed_image_to_video(sb: af.Sandbox, c: httpx.Client) -> str:
    job = ok(c.post(I2V, json=I2V_BODY))["_id"]
    poll(lambda: ok(c.post("/api/open/v4/image2Video/resultsByIds", json={"_ids": job}))["result"][0],
         lambda d: d["status"] == 3)
    return str(job)


@pytest.mark.parametrize(("name", "field"), CASES, ids=[f"{n}:{f}" for n, f in CASES])
def test_an_input_that_is_no_http_url_is_refused_and_free(make_sandbox: Any, name: str, field: str) -> None:
    path, body, _ = CREATES[name]
    sb = make_sandbox()
    kling = name.startswith("kling")
    with (kling_client(sb) if kling else akool(sb)) as c:
        if name == "video_audio":
            body = {**body, "pre_video_id": completed_image_to_video(sb, c)}
        before = sb.stats()
        for value in NOT_HTTP:
            status, code, msg = answer(c.post(path, json=put(body, field, value)))
            # Akool: HTTP 200, 1003 "Parameter error" (page 06); Kling: its parameter error (1201, HTTP 400).
            assert (status, code) == ((400, 1201) if kling else (200, 1003)), msg
            assert msg.startswith("Invalid URL format") and field in msg and repr(value) in msg, msg
        after = sb.stats()
        assert after["creates"] == before["creates"] and after["jobs"] == before["jobs"]
        assert after["credits_charged"] == before["credits_charged"] and after["balances"] == before["balances"]
        # The same body with an http(s) URL there is taken: the refusal was the value's.
        status, code, msg = answer(c.post(path, json=body))
    assert status == 200 and code == (0 if kling else 1000), msg
    assert sb.stats()["jobs"] == before["jobs"] + 1


def test_face_detection_refuses_them_in_its_own_envelope(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        for value in NOT_HTTP:
            assert c.post(DETECT, json={"url": value}).json() == {"error_code": 1, "error_msg": "Invalid URL format"}
    assert sb.stats()["detections"] == len(NOT_HTTP) and sb.stats()["credits_charged"] == 0


def test_a_talking_avatar_image_may_be_a_colour_but_no_other_element(sb: af.Sandbox) -> None:
    path, body, _ = CREATES["talking_avatar"]
    with akool(sb) as c:
        ok(c.post(path, json=put(body, "elements[0].url", "#aafbe3")))  # page 34: "a Hexadecimal Color Code"
        for element in ("elements[1].url", "elements[2].url"):  # the avatar, the audio
            assert c.post(path, json=put(body, element, "#aafbe3")).json()["msg"].startswith("Invalid URL format")
    assert sb.stats()["creates"] == 1


# ---------------------------------------------------------------------------------------------- fetching
class MediaHost:
    """Files on a loopback HTTP server: ``files`` maps a path to (status, bytes); ``seen`` lists the paths asked for."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, bytes]] = {}
        self.seen: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.seen.append(self.path)
                status, data = host.files.get(self.path.split("?")[0], (404, b"<Error><Code>NoSuchKey</Code></Error>"))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", data.decode())
                    data = b""
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, data: bytes, status: int = 200) -> str:
        self.files[path.split("?")[0]] = (status, data)
        return self.url + path


@pytest.fixture
def host() -> Iterator[MediaHost]:
    served = MediaHost()
    yield served
    served.server.shutdown()
    served.server.server_close()


def guard_attempts() -> list[str]:
    """The hosts the tests' network guard refused since the test began. Read through the guard installed (pytest
    loads tests/conftest.py as ``conftest``, a module apart from the ``tests.conftest`` the tests import)."""
    installed = socket.socket.connect
    assert installed.__name__ == "_guarded_connect"
    with installed.__globals__["_ATTEMPTS_LOCK"]:
        return list(installed.__globals__["_ATTEMPTS"])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_loopback_inputs_are_fetched_and_measured(sb: af.Sandbox, host: MediaHost) -> None:
    audio = host.add("/speech.wav", render("wav", 13.0))
    video = host.add("/clip.mp4", render("mp4", 3.0))
    with akool(sb) as c:
        job = ok(c.post(LIP_SYNC, json={"video_url": video, "audio_url": audio}))
        done = video_finished(c, job["_id"])
    assert sorted(host.seen) == ["/clip.mp4", "/speech.wav"]
    # 13 s measured in the file (not the default 8 s): two started 10 s blocks, 20 credits.
    assert done["video_status"] == 3 and done["video_lock_duration"] == 13 and done["deduction_lock_duration"] == 20
    assert sb.stats()["credits_charged"] == 20 and sb.stats()["inputs_fetched"] == 2


def test_a_talking_photo_lasts_as_long_as_the_fetched_audio(sb: af.Sandbox, host: MediaHost) -> None:
    photo, audio = host.add("/me.png", render("png")), host.add("/me.mp3", render("mp3", 6.5))
    with akool(sb) as c:
        done = video_finished(c, ok(c.post(TALKING_PHOTO, json={"talking_photo_url": photo, "audio_url": audio}))["_id"])
        result = httpx.get(done["video"], timeout=10).content
    assert done["video_status"] == 3 and media_seconds(result, "mp4") == pytest.approx(6.516, abs=0.01)
    assert sorted(host.seen) == ["/me.mp3", "/me.png"]


def test_a_fetch_is_kept_a_minute_of_sandbox_time(make_sandbox: Any, host: MediaHost) -> None:
    sb = make_sandbox(time_scale=1.0)  # a real minute: the two creates fall in it, however slow the machine
    audio = host.add("/speech.wav", render("wav", 13.0))
    body = {"voice_id": VOICE, "source_voice_file": audio}
    with akool(sb) as c:
        ok(c.post(VOICE_CHANGE, json=body))
        ok(c.post(VOICE_CHANGE, json=body))
        assert host.seen == ["/speech.wav"]
        sb.advance(61)
        ok(c.post(VOICE_CHANGE, json=body))
    assert host.seen == ["/speech.wav"] * 2


@pytest.mark.parametrize("kind", ["404", "403 expired", "refused", "500"])
def test_a_loopback_input_that_cannot_be_fetched_fails_the_job(sb: af.Sandbox, host: MediaHost, kind: str) -> None:
    photo = host.add("/me.png", render("png"))
    audio = {"404": f"{host.url}/missing.mp3",
             "403 expired": host.add("/old.mp3?X-Amz-Expires=1", b"<Error><Code>AccessDenied</Code>"
                                     b"<Message>Request has expired</Message></Error>", 403),
             "refused": f"http://127.0.0.1:{closed_port()}/speech.mp3",
             "500": host.add("/busy.mp3", b"oops", 500)}[kind]
    with akool(sb) as c:
        job = ok(c.post(TALKING_PHOTO, json={"talking_photo_url": photo, "audio_url": audio}))  # taken: the API
        done = video_finished(c, job["_id"])                                                   # fetches later
    assert done["video_status"] == 4 and done["video"] == ""
    assert sb.stats()["credits_charged"] == 0  # a failed job is refunded
    assert "/me.png" in host.seen and (kind == "refused" or audio.removeprefix(host.url) in host.seen)
    failed = [j for j in sb.state.jobs.values() if j.name == "talking_photo"]
    assert [j.fail_reason for j in failed] == ["Failed to process the video. Please check your input resources."]


def test_face_detection_says_it_could_not_download(sb: af.Sandbox, host: MediaHost) -> None:
    with akool(sb) as c:
        missing = c.post(DETECT, json={"url": f"{host.url}/gone.jpg"}).json()
        found = c.post(DETECT, json={"url": host.add("/face.png", render("png"))}).json()
        frames = c.post(ANALYZE, json={"frame_urls": [host.add("/f1.png", render("png")), f"{host.url}/f2.png"]}).json()
    assert missing == {"error_code": 1, "error_msg": "Failed to download media from URL"}  # page 09
    assert found["error_code"] == 0
    assert frames == {"success": False, "error": "Failed to download image from URL"}  # page 08
    assert sorted(host.seen) == ["/f1.png", "/f2.png", "/face.png", "/gone.jpg"]


def test_a_presigned_s3_url_is_fetched_from_the_s3_server(sb: af.Sandbox, s3: Any) -> None:
    s3.fs.pipe(f"{s3.bucket}/in/speech.wav", render("wav", 21.0))
    signed = s3.fs.sign(f"{s3.bucket}/in/speech.wav", expiration=60)
    absent = s3.fs.sign(f"{s3.bucket}/in/nothing.wav", expiration=60)
    with akool(sb) as c:
        good = ok(c.post(LIP_SYNC, json={"video_url": VIDEO, "audio_url": signed}))
        bad = ok(c.post(LIP_SYNC, json={"video_url": VIDEO, "audio_url": absent}))
        good, bad = video_finished(c, good["_id"]), video_finished(c, bad["_id"])
    assert good["video_status"] == 3 and good["video_lock_duration"] == 21 and good["deduction_lock_duration"] == 30
    assert bad["video_status"] == 4
    gets = [p for m, p in s3.requests if m == "GET"]
    assert f"/{s3.bucket}/in/speech.wav" in gets and f"/{s3.bucket}/in/nothing.wav" in gets
    assert sb.stats()["credits_charged"] == 30


def test_other_hosts_are_never_contacted(make_sandbox: Any, host: MediaHost) -> None:
    elsewhere = "https://example.com/speech.mp3"
    sb = make_sandbox(media={elsewhere: 12.0})
    bounce = host.add("/bounce.mp3", b"https://example.com/speech.mp3", 302)  # a loopback host sending us away
    with akool(sb) as c:
        direct = ok(c.post(LIP_SYNC, json={"video_url": "http://10.1.2.3/clip.mp4", "audio_url": elsewhere}))
        redirected = ok(c.post(LIP_SYNC, json={"video_url": VIDEO, "audio_url": bounce}))
        direct, redirected = video_finished(c, direct["_id"]), video_finished(c, redirected["_id"])
    assert guard_attempts() == []  # the network guard saw no look-up nor connect beyond loopback
    assert direct["video_status"] == 3 and direct["video_lock_duration"] == 12  # SandboxConfig.media
    assert redirected["video_status"] == 3 and redirected["video_lock_duration"] == 8  # the default, not followed
    assert host.seen == ["/bounce.mp3"] and sb.stats()["inputs_fetched"] == 1


def test_its_own_result_files_are_inputs_while_they_are_served(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        tts = ok(c.post("/api/open/v4/voice/tts", json={"input_text": "Hello there, " * 20, "voice_id": VOICE}))
        done = poll(lambda: ok(c.get(f"/api/open/v4/voice/resource/detail/{tts['_id']}"))["result"],
                    lambda d: d["status"] == 3)
        body = {"video_url": VIDEO, "audio_url": done["preview"]}
        fresh = video_finished(c, ok(c.post(LIP_SYNC, json=body))["_id"])
        sb.advance(8 * 86400)  # results are served 7 days
        stale = video_finished(c, ok(c.post(LIP_SYNC, json=body))["_id"])
    assert fresh["video_status"] == 3 and fresh["video_lock_duration"] == pytest.approx(260 / 15, abs=0.05)
    assert stale["video_status"] == 4
    assert sb.stats()["inputs_fetched"] == 0  # from its own store, not over HTTP


def test_which_urls_are_http_and_which_hosts_loopback() -> None:
    assert all(not is_http_url(v) for v in [*NOT_HTTP, "http://", "https:///x", "http://h:99999/x", "", None, 7])
    assert all(is_http_url(v) for v in ["http://h/x", "HTTPS://h:8443/x?a=b", " https://x.test/a.mp3 "])
    loopback = ["http://127.0.0.1:9/x", "http://127.8.9.10/x", "http://[::1]:80/x", "http://localhost/x",
                "http://LOCALHOST./x", "http://[::ffff:127.0.0.1]/x"]
    assert all(is_loopback(u) for u in loopback)
    assert not any(is_loopback(u) for u in ["https://example.com/x", "http://10.0.0.1/x", "http://0.0.0.0/x",
                                           "http://localhost.example.com/x", "http://[::2]/x", "http://2130706433/x"])


def test_a_fetch_does_not_hold_up_other_requests(sb: af.Sandbox) -> None:
    """A slow input is fetched on the event loop without blocking it: while the sandbox waits for that input's answer
    (the test holds it back), another request is answered; then the slow input comes, and its request goes on."""
    quiet = socket.socket()
    quiet.bind(("127.0.0.1", 0))
    quiet.listen(1)
    quiet.settimeout(30)
    slow = f"http://127.0.0.1:{quiet.getsockname()[1]}/slow.png"
    results: list[Any] = []
    with akool(sb) as c, akool(sb) as other:
        waiting = threading.Thread(target=lambda: results.append(c.post(DETECT, json={"url": slow}, timeout=60).json()))
        waiting.start()
        try:
            conn, _ = quiet.accept()  # the sandbox is fetching the slow input
            with conn:
                conn.settimeout(30)
                assert conn.recv(65536).startswith(b"GET /slow.png ")
                answered = other.post(DETECT, json={"url": "https://x.test/face.png"}).json()  # meanwhile
                png = render("png")
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(png) + png)
        finally:
            quiet.close()
            waiting.join(30)
    assert answered["error_code"] == 0
    assert [r["error_code"] for r in results] == [0]  # fetched once answered, after the other request


def test_a_loopback_input_named_in_media_is_taken_as_declared(make_sandbox: Any, host: MediaHost) -> None:
    """SandboxConfig.media says the provider knows that input: its length, not fetched (tests name made-up
    inputs so, e.g. on the sandbox's own host, where nothing is served)."""
    declared = host.url + "/never-served.mp3"
    sb = make_sandbox(media={declared: 21.0})
    with akool(sb) as c:
        done = video_finished(c, ok(c.post(LIP_SYNC, json={"video_url": VIDEO, "audio_url": declared}))["_id"])
    assert done["video_status"] == 3 and done["video_lock_duration"] == 21 and host.seen == []
