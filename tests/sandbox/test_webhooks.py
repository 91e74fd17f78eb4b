"""Sandbox core: Akool webhook payloads (AES-CBC + sha1 signature), the built-in sink, and retries."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from akool_frames.sandbox import _webhook
from tests.conftest import akool, media_seconds, poll

VOICES = "/api/open/v4/voice/list?type=2"
TTS = "/api/open/v4/voice/tts"

CLIENT_ID = "AKDt8rWEczpYPzCGur2xE="  # 22 characters: the IV is its first 16 bytes
SECRET_32 = "nmwUjMAK0PJpl0MOiXLOOOwZADm0gkLo"
SECRET_24 = "nmwUjMAK0PJpl0MOiXLOOOwZ"  # the docs: "fixed at 24 characters", AES-192
TIMESTAMP, NONCE = 1710757981609, "1529"
DATA = {"_id": "65f8d2f1a1b2c3d4e5f60718", "status": 3, "type": "audio", "url": "https://example.test/a.mp3"}
PLAINTEXT = '{"_id":"65f8d2f1a1b2c3d4e5f60718","status":3,"type":"audio","url":"https://example.test/a.mp3"}'


def _reference_encrypt(plaintext: str, client_id: str, secret: str) -> str:
    """The webhook page's algorithm, written here independently of the sandbox's module."""
    key = secret.encode()
    iv = client_id.encode()[:16].ljust(16, b"\0")
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


def _reference_sign(*values: object) -> str:
    return hashlib.sha1("".join(sorted(str(v) for v in values)).encode()).hexdigest()


@pytest.mark.parametrize("secret", [SECRET_32, SECRET_24], ids=["aes256", "aes192"])
def test_payload_matches_independent_vector(secret: str) -> None:
    expected_cipher = _reference_encrypt(PLAINTEXT, CLIENT_ID, secret)
    payload = _webhook.build_payload(DATA, CLIENT_ID, secret, timestamp_ms=TIMESTAMP, nonce=NONCE)
    assert payload == {
        "signature": _reference_sign(CLIENT_ID, TIMESTAMP, NONCE, expected_cipher),
        "dataEncrypt": expected_cipher,
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
    }
    # the ciphertext is whole AES blocks (PKCS#7 to 16 bytes), and the key size is the secret's
    assert len(base64.b64decode(expected_cipher)) % 16 == 0
    assert algorithms.AES(secret.encode()).key_size == len(secret) * 8
    assert _webhook.verify_payload(payload, CLIENT_ID, secret) == DATA
    # a nonce sent as a number (as in the docs' second sample) signs the same
    assert _webhook.verify_payload({**payload, "nonce": int(NONCE)}, CLIENT_ID, secret) == DATA


def test_short_client_id_iv_is_nul_padded() -> None:
    short_id = "abc123"
    cipher = _reference_encrypt(PLAINTEXT, short_id, SECRET_32)
    assert _webhook.encrypt(PLAINTEXT, short_id, SECRET_32) == cipher
    assert _webhook.decrypt(cipher, short_id, SECRET_32) == PLAINTEXT


def test_verify_rejects_forgeries() -> None:
    payload = _webhook.build_payload(DATA, CLIENT_ID, SECRET_32, timestamp_ms=TIMESTAMP, nonce=NONCE)
    flipped_sig = {**payload, "signature": _flip(payload["signature"])}
    flipped_data = {**payload, "dataEncrypt": _flip(payload["dataEncrypt"])}
    # the signature is not keyed: a forger can re-sign altered ciphertext, decryption must still fail
    resigned = {**flipped_data, "signature": _reference_sign(CLIENT_ID, TIMESTAMP, NONCE, flipped_data["dataEncrypt"])}
    garbage = _reference_encrypt("not json", CLIENT_ID, SECRET_32)
    not_json = {**payload, "dataEncrypt": garbage, "signature": _reference_sign(CLIENT_ID, TIMESTAMP, NONCE, garbage)}
    for forged in (flipped_sig, flipped_data, resigned, not_json, {"signature": "x"}, []):
        with pytest.raises(_webhook.WebhookError):
            _webhook.verify_payload(forged, CLIENT_ID, SECRET_32)  # type: ignore[arg-type]
    with pytest.raises(_webhook.WebhookError):
        _webhook.verify_payload(payload, "another-client-id", SECRET_32)


def _flip(text: str) -> str:
    """Change one character (to another of the same alphabet)."""
    i = len(text) // 2
    return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1:]


def _voice(c: httpx.Client) -> str:
    return str(c.get(VOICES).json()["data"]["result"][0]["_id"])


def test_sink_receives_genuine_callback(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1)  # the job is still running until the clock is moved
    with akool(sb) as c:
        created = c.post(TTS, json={"input_text": "Call me back when done.", "voice_id": _voice(c),
                                    "webhookUrl": sb.webhook_sink_url}).json()
        _id = created["data"]["_id"]
        sb.advance(3600)
        # stats() right away settles the finished job before the webhook ticker sees it;
        # that must not swallow the callback
        assert sb.stats()["jobs_by_status"] == {"completed": 1}
        poll(lambda: {"n": len(sb.sink())}, lambda a: a["n"] >= 1, timeout=5)
        sink = sb.sink()
        assert len(sink) == 1 and sink[0]["accepted"] is True
        data = sink[0]["data"]
        assert set(data) == {"_id", "status", "type", "url"}
        assert data["_id"] == _id and data["status"] == 3 and data["type"] == "audio"
        assert data["url"] == f"{sb.url}/files/{_id}.mp3"
        audio = c.get(data["url"])
        assert audio.status_code == 200
        assert media_seconds(audio.content, "mp3") == pytest.approx(23 / 15, abs=0.1)
    assert sb.state.webhooks == [{"job": _id, "url": sb.webhook_sink_url, "attempt": 1, "status": 200}]
    assert sb.stats()["webhooks_sent"] == 1


def test_sink_rejects_forged_payloads(sb: Any) -> None:
    genuine = _webhook.build_payload(DATA, sb.client_id, sb.client_secret)
    assert httpx.post(sb.webhook_sink_url, json=genuine, timeout=10).status_code == 200
    for forged in ({**genuine, "signature": _flip(genuine["signature"])},
                   {**genuine, "dataEncrypt": _flip(genuine["dataEncrypt"])}):
        assert httpx.post(sb.webhook_sink_url, json=forged, timeout=10).status_code == 400
    assert httpx.post(sb.webhook_sink_url, content=b"not json", timeout=10).status_code == 400
    assert [entry["accepted"] for entry in sb.sink()] == [True, False, False, False]
    assert sb.sink()[0]["data"] == DATA
    assert "signature" in sb.sink()[1]["error"]
    assert sb.stats()["requests"] == 0  # the sink is the harness's channel, not client traffic


def test_24_char_api_key_sandbox(make_sandbox: Any) -> None:
    sb = make_sandbox(api_key="k" * 24)
    with akool(sb) as c:
        c.post(TTS, json={"input_text": "AES-192.", "voice_id": _voice(c), "webhookUrl": sb.webhook_sink_url})
        poll(lambda: {"n": len(sb.sink())}, lambda a: a["n"] >= 1, timeout=5)
    assert sb.sink()[0]["accepted"] is True and sb.sink()[0]["data"]["status"] == 3


@pytest.fixture
def flaky_receiver() -> Iterator[dict[str, Any]]:
    """A tiny HTTP server answering 500, 500, then 200; it records every body it gets."""
    seen: dict[str, Any] = {"bodies": [], "answers": [500, 500]}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen["bodies"].append(json.loads(body))
            status = seen["answers"].pop(0) if seen["answers"] else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    seen["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_retries_until_200(make_sandbox: Any, flaky_receiver: dict[str, Any]) -> None:
    sb = make_sandbox(webhook_retry_interval=2.0)  # 2 sandbox seconds = 10 ms at 200x
    with akool(sb) as c:
        _id = c.post(TTS, json={"input_text": "Try again.", "voice_id": _voice(c),
                                "webhookUrl": flaky_receiver["url"]}).json()["data"]["_id"]
    poll(lambda: {"w": list(sb.state.webhooks)}, lambda a: len(a["w"]) >= 3, timeout=5)
    time.sleep(0.1)  # room for a wrong 4th attempt
    assert [(w["attempt"], w["status"]) for w in sb.state.webhooks] == [(1, 500), (2, 500), (3, 200)]
    assert len(flaky_receiver["bodies"]) == 3
    for body in flaky_receiver["bodies"]:
        data = _webhook.verify_payload(body, sb.client_id, sb.client_secret)
        assert data["_id"] == _id and data["status"] == 3


def test_retries_stop_after_the_limit(make_sandbox: Any, flaky_receiver: dict[str, Any]) -> None:
    flaky_receiver["answers"] = [503] * 10
    sb = make_sandbox(webhook_retry_interval=1.0, webhook_retries=2)
    with akool(sb) as c:
        c.post(TTS, json={"input_text": "Never mind.", "voice_id": _voice(c), "webhookUrl": flaky_receiver["url"]})
    poll(lambda: {"w": list(sb.state.webhooks)}, lambda a: len(a["w"]) >= 3, timeout=5)
    time.sleep(0.1)
    assert [w["status"] for w in sb.state.webhooks] == [503, 503, 503]
