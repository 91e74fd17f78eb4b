"""The webhook receiver under forged callbacks: every forgery is answered with its 4xx (never a 500,
never a 200), prints no traceback, is counted as rejected and changes nothing, while a webhook-mode run beside
them completes from its genuine callbacks. Forgeries are generated from a seed and sent over real HTTP on
loopback; ``KINDS`` gives the answer each kind must get."""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import akool_frames as af
from akool_frames._loop import run_sync
from akool_frames.sandbox._state import SandboxState
from akool_frames.sandbox._webhook import build_payload, sign
from akool_frames.transport._receiver import Receiver, receiver_of
from akool_frames.transport._webhook import LIMIT
from tests.client.conftest import VOICE
from tests.conftest import FAST, poll

KINDS = {  # kind: the answer every forgery of that kind must get
    "deep": 400,  # ~1,000 to 10,000 nested brackets, bare, in a field, or encrypted under a valid signature
    "huge": 413,  # a body over LIMIT, with its Content-Length or chunked
    "content_type": 415,  # a callback sent as text, a form, XML...
    "garbage": 400,  # bytes that are not UTF-8, not JSON, or nothing
    "not_object": 400,  # a JSON array, string, number, null
    "wrong_types": 400,  # signature a dict, timestamp a list, a field missing, a non-ASCII or lone-surrogate signature
    "bad_cipher": 400,  # a valid signature over data that is not Base64, AES blocks, JSON, or a callback's object
    "wrong_keys": 400,  # a job of the run declared failed, signed or encrypted with someone else's keys
    "method": 405,
    "path": 404,
}
Request = tuple[str, str, dict[str, str], Any]  # method, path, headers, content
JSON = {"content-type": "application/json"}


def _encrypt(plain: bytes, sb: af.Sandbox) -> str:
    """AES-CBC/PKCS#7 with the account's own keys, over any bytes (the sandbox's encrypt takes text only)."""
    padder = padding.PKCS7(128).padder()
    iv = sb.client_id.encode()[:16].ljust(16, b"\0")
    enc = Cipher(algorithms.AES(sb.client_secret.encode()), modes.CBC(iv)).encryptor()
    return base64.b64encode(enc.update(padder.update(plain) + padder.finalize()) + enc.finalize()).decode()


def _signed(data_encrypt: str, sb: af.Sandbox, rng: random.Random) -> dict[str, Any]:
    """A callback whose signature is right (it needs only the clientId) over ``data_encrypt``."""
    timestamp, nonce = rng.randrange(10**12, 10**13), str(rng.randrange(1000, 9999))
    return {"signature": sign(sb.client_id, timestamp, nonce, data_encrypt), "dataEncrypt": data_encrypt,
            "timestamp": timestamp, "nonce": nonce}


def _genuine(sb: af.Sandbox, rng: random.Random, job_id: str = "0" * 24, **keys: str) -> dict[str, Any]:
    data = {"_id": job_id, "status": 4, "type": "audio", "url": "https://evil.test/a.mp3"}
    return build_payload(data, keys.get("client_id", sb.client_id), keys.get("secret", sb.client_secret),
                         timestamp_ms=rng.randrange(10**12, 10**13), nonce=str(rng.randrange(1000, 9999)))


def _nested(n: int, rng: random.Random) -> str:
    return rng.choice(["[" * n + "]" * n, '{"a":' * n + "1" + "}" * n, "[" * n])


def forgery(kind: str, rng: random.Random, sb: af.Sandbox, jobs: Callable[[], list[str]]) -> Request:
    """One forged request of ``kind``; ``jobs`` gives the sandbox's job ids at the time (forgeries name them)."""
    body = json.dumps(_genuine(sb, rng)).encode()
    if kind == "deep":
        nested, smaller = _nested(rng.randrange(1_000, 10_000), rng), _nested(rng.randrange(1_000, 6_000), rng)
        return "POST", "/", JSON, rng.choice([  # all under LIMIT: the depth, not the size, is refused
            nested.encode(),
            b'{"signature":' + nested.encode() + b',"dataEncrypt":"","timestamp":1,"nonce":"1"}',
            json.dumps(_signed(_encrypt(smaller.encode(), sb), sb, rng)).encode(),
        ])
    if kind == "huge":
        size = rng.randrange(LIMIT + 1, 4 * LIMIT)
        filler = rng.choice([b'{"signature":"' + b"0" * size + b'"}', b"[" * size, rng.randbytes(size)])
        if rng.random() < 0.5:  # chunked: no Content-Length to refuse it by, the cap applies while reading
            return "POST", "/", JSON, iter([filler[i:i + 8192] for i in range(0, len(filler), 8192)])
        return "POST", "/", JSON, filler
    if kind == "content_type":
        kind_ = rng.choice(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                            "application/xml", "text/html; charset=utf-8", "application/octet-stream", "image/png"])
        return "POST", "/", {"content-type": kind_}, body
    if kind == "garbage":
        return "POST", "/", JSON, rng.choice([
            b"\xff" + rng.randbytes(rng.randrange(0, 4096)),  # never UTF-8
            json.dumps({"nonce": "\u00e9t\u00e9"}, ensure_ascii=False).encode("latin-1"),
            json.dumps(_genuine(sb, rng)).encode("utf-16"),
            b"", b"not json", body[: rng.randrange(1, len(body))], body + b"}", b"NaN", b"1" * 5000,
        ])
    if kind == "not_object":
        return "POST", "/", JSON, json.dumps(rng.choice([[_genuine(sb, rng)], [], "callback", 12345, 1.5, None,
                                                          True])).encode()
    if kind == "wrong_types":
        payload = _genuine(sb, rng)
        field = rng.choice(["signature", "dataEncrypt", "timestamp", "nonce"])
        wrong: Any = rng.choice([{"a": 1}, [payload[field]], 1.5, True, None, [[[[[[1]]]]]], {"$gt": ""}])
        if field == "signature" and rng.random() < 0.3:
            wrong = rng.choice(["\u00e9" * 40, "\ud800" * 40])  # non-ASCII (compare_digest's TypeError), surrogate
        if rng.random() < 0.15:
            del payload[field]
        else:
            payload[field] = wrong
        return "POST", "/", JSON, json.dumps(payload).encode()
    if kind == "bad_cipher":
        ids = jobs() or ["0" * 24]
        data = rng.choice([
            "not base64!!", "", "\u00e9" * 24,
            base64.b64encode(rng.randbytes(rng.choice([1, 15, 17, 33]))).decode(),  # not whole AES blocks
            base64.b64encode(rng.randbytes(16 * rng.randrange(1, 8))).decode(),  # blocks of noise
            _encrypt(b"not json", sb), _encrypt(b"\xff" + rng.randbytes(40), sb), _encrypt(b"[1, 2]", sb),
            _encrypt(b'"callback"', sb), _encrypt(b"3", sb),
            *(_encrypt(json.dumps(d).encode(), sb) for d in (
                {"_id": [rng.choice(ids)], "status": 4}, {"_id": 123, "status": 4}, {"status": 4},
                {"_id": rng.choice(ids), "status": [4]}, {"_id": rng.choice(ids), "status": {"4": 4}},
                {"_id": rng.choice(ids), "status": 3, "url": ["https://evil.test/a.mp3"]})),
        ])
        return "POST", "/", JSON, json.dumps(_signed(data, sb, rng)).encode()
    if kind == "wrong_keys":
        job_id = rng.choice(jobs() or ["0" * 24])
        payload = rng.choice([_genuine(sb, rng, job_id, secret="K" * 32),
                              _genuine(sb, rng, job_id, client_id="someone-else-123"),
                              {**_genuine(sb, rng, job_id), "signature": "0" * 40}])
        if rng.random() < 0.3:  # a genuine callback's nonce altered
            payload = {**_genuine(sb, rng, job_id), "nonce": str(rng.randrange(10_000, 99_999))}
        return "POST", "/", JSON, json.dumps(payload).encode()
    if kind == "method":
        return rng.choice(["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]), "/", JSON, body
    assert kind == "path"
    path = rng.choice(["/webhook", "/x", "/akool/callback", "//", "/a/b/c", "/%2F", f"/{rng.randbytes(4).hex()}"])
    return "POST", path, JSON, body


def send(http: httpx.Client, url: str, request: Request) -> int:
    """The answer's status; 0 when the receiver dropped the connection instead of answering."""
    method, path, headers, content = request
    try:
        return http.request(method, url.rstrip("/") + path, headers=headers, content=content).status_code
    except httpx.TransportError:
        return 0


class Records(logging.Handler):
    """Log records of WARNING and above (uvicorn logs a failed request's traceback at ERROR)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log() -> Iterator[Records]:
    """uvicorn's error log. Attached once the receiver is configured: uvicorn's configuration replaces handlers."""
    records = Records()
    yield records
    logging.getLogger("uvicorn.error").removeHandler(records)


def test_a_webhook_run_completes_beside_2000_forgeries(make_sandbox: Callable[..., af.Sandbox], tmp_path: Path,
                                                       capfd: pytest.CaptureFixture[str], server_log: Records) -> None:
    rows, total = 200, 2000
    # Jobs that wait in the queue until the test moves the clock: the first half of the forgeries surely lands
    # while the run is in flight; the second half meets the genuine callbacks that the clock's move releases.
    sb = make_sandbox(job_time=10_000)
    options = {**sb.client_options(), "poll_interval": 5.0}  # callbacks, not polls, end the jobs
    df = pd.DataFrame({"text": [f"Forged around {i}." for i in range(rows)]})
    with af.Client(**options, ledger=tmp_path / "l.sqlite") as client:
        outcome: list[Any] = []

        def go() -> None:
            try:
                outcome.append(df.akool.run("tts", client=client, progress=False, follow="webhook",
                                            input_text=af.col("text"), voice_id=VOICE))
            except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread below)
                outcome.append(exc)

        run = threading.Thread(target=go)
        run.start()
        poll(lambda: sb.stats(), lambda stats: stats["creates"] == rows, timeout=60)
        receiver: Receiver = client.http.receiver
        logging.getLogger("uvicorn.error").addHandler(server_log)

        def jobs() -> list[str]:
            with sb.state.lock:
                return list(sb.state.jobs)

        rng = random.Random(19)
        kinds = [list(KINDS)[i % len(KINDS)] for i in range(total)]
        requests = [(kind, forgery(kind, rng, sb, jobs)) for kind in kinds]
        answers: list[tuple[str, int]] = []
        with httpx.Client(timeout=60) as http, ThreadPoolExecutor(4) as pool:
            def fire(batch: list[tuple[str, Request]]) -> None:
                answers.extend(pool.map(lambda kr: (kr[0], send(http, receiver.url, kr[1])), batch))

            fire(requests[: total // 2])
            assert run.is_alive()  # the run is waiting for its callbacks: its jobs cannot end before the clock moves
            sb.advance(10**7)  # every job ends: the sandbox sends its callbacks
            fire(requests[total // 2:])
        run.join(120)
        assert not run.is_alive()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        out = outcome[0]

        codes = Counter(code for _, code in answers)
        assert len(answers) == total and all(400 <= code < 500 for code in codes), codes  # no 5xx, no 200
        assert [(kind, code) for kind, code in answers if code != KINDS[kind]] == []
        assert receiver.counts["rejected"] == total
        assert receiver.counts["callbacks"] == rows  # each genuine callback heard once
        err = capfd.readouterr().err
        assert "Traceback" not in err and "Exception" not in err, err[-2000:]
        assert [r.getMessage() for r in server_log.records] == []

        # The forgeries changed nothing: every row completed with the file the sandbox made, in the ledger too.
        assert (out["akool_status"] == "completed").all()
        ledger = af.ledger(client=client).set_index("job_id")
        now = sb.state.clock.now()
        for job_id, url in zip(out["akool_job_id"], out["akool_url"], strict=True):
            job = sb.state.jobs[job_id]
            assert job.status(now) == 3 and url == f"{sb.url}/files/{SandboxState.file_name(job)}"
            assert ledger.loc[job_id, "status"] == "completed" and ledger.loc[job_id, "url"] == url
        assert len(ledger) == rows and ledger["error"].isna().all()


# --------------------------------------------------------------------------- one kind at a time
@pytest.fixture(scope="module")
def hub() -> Iterator[tuple[af.Sandbox, Receiver]]:
    """A sandbox and a started receiver, shared by the per-kind tests."""
    import tempfile

    with af.sandbox(time_scale=FAST) as sb, tempfile.TemporaryDirectory() as folder:
        with af.Client(**sb.client_options(), ledger=Path(folder) / "l.sqlite") as client:
            yield sb, run_sync(receiver_of(client))


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_forgery_gets_its_code(kind: str, hub: tuple[af.Sandbox, Receiver]) -> None:
    sb, receiver = hub
    before = Counter(receiver.counts)
    rng = random.Random(f"{kind} 19")
    with httpx.Client(timeout=30) as http:
        codes = [send(http, receiver.url, forgery(kind, rng, sb, lambda: ["65f8d2f1a1b2c3d4e5f60718"]))
                 for _ in range(30)]
    assert codes == [KINDS[kind]] * 30
    assert receiver.counts["rejected"] - before["rejected"] == 30
    assert receiver.counts["callbacks"] == before["callbacks"]


def test_a_genuine_callback_still_gets_200(hub: tuple[af.Sandbox, Receiver]) -> None:
    sb, receiver = hub
    before = receiver.counts["callbacks"]
    payload = _genuine(sb, random.Random(19), "65f8d2f1a1b2c3d4e5f60718")
    assert httpx.post(receiver.url, json=payload, timeout=30).status_code == 200
    assert receiver.counts["callbacks"] == before + 1
