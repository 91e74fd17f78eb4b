"""Answers that are not what they seem: a CDN in front of the API answers a create that made its job with
an HTML page, a bare 503, or a body labelled gzip that is not. None of them is the provider's refusal: the rows are
looked up (reconciled), never resent blind and never called ``rejected``; a re-run makes nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import akool_frames as af
from akool_frames._errors import ServerError
from akool_frames._loop import run_sync
from tests.client.conftest import VOICE

TTS = "/api/open/v4/voice/tts"


def _frame(n: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"Row {i} {tag}: the CDN answered." for i in range(n)]})


@pytest.mark.parametrize("kind", ["html_after", "unavailable_after", "bad_encoding_after"])
def test_a_create_answered_by_the_cdn_is_looked_up_never_resent(kind: str, make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(**{kind: 0.15}), "poll": af.Faults()}, seed=19)
    frame = _frame(300, kind)
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        out = frame.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False,
                              timeout=120)
        made = sb.stats()["creates"]
        again = frame.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False,
                                timeout=120)
    faults = Counter(e["fault"] for e in sb.log() if e["path"] == TTS and e["fault"])
    assert faults[kind] >= 20  # the CDN did answer a good share of the creates so
    statuses = Counter(out["akool_status"])
    assert "rejected" not in statuses and statuses["completed"] == 300, statuses
    assert sb.stats()["duplicate_creates"] == 0 and made == 300
    assert sb.stats()["creates"] == made  # the re-run made nothing
    assert (again["akool_job_id"] == out["akool_job_id"]).all()


@pytest.mark.parametrize(("status", "headers", "body", "words"), [
    (200, {"Content-Type": "text/html"}, b"<html><title>Just a moment...</title></html>",
     "HTTP 200 OK with an HTML page titled 'Just a moment...'"),
    (503, {"Content-Type": "text/plain"}, b"upstream overloaded", "HTTP 503 Service Unavailable with 19 bytes of text/plain"),
    (302, {"Location": "https://login.example.net/sso"}, b"", "HTTP 302 Found redirecting to https://login.example.net/sso"),
    (200, {"Content-Type": "application/json"}, b'{"error": "no envelope"}', "with 24 bytes of application/json"),
])
def test_what_is_not_the_providers_answer_says_what_it_was(status: int, headers: dict[str, str], body: bytes,
                                                           words: str, tmp_path: Path) -> None:
    # A user's own transport (Client(transport=...)): the same decoding, no network.
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers=headers, content=body)

    with af.Client(api_key="k" * 24, base_url="https://api.akool.invalid", transport=httpx.MockTransport(answer),
                   ledger=tmp_path / "l.sqlite") as client:
        with pytest.raises(ServerError) as caught:
            run_sync(client.http.request("akool", "POST", TTS, body={"input_text": "x"}, create=True))
    assert words in str(caught.value) and not caught.value.not_processed
    assert len(seen) == 1  # a create that may have made its job is not sent again
    assert seen[0].headers["x-api-key"] == "k" * 24 and seen[0].url.host == "api.akool.invalid"


def test_a_503_with_retry_after_was_not_processed_and_is_sent_again(tmp_path: Path) -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "0"}, content=b"busy"),
                    httpx.Response(200, json={"code": 1000, "msg": "ok", "data": {"_id": "j1"}})])
    with af.Client(api_key="k" * 24, base_url="https://api.akool.invalid", ledger=tmp_path / "l.sqlite",
                   transport=httpx.MockTransport(lambda request: next(answers))) as client:
        answer = run_sync(client.http.request("akool", "POST", TTS, body={"input_text": "x"}, create=True))
    assert answer["data"]["_id"] == "j1"


def test_a_user_transport_runs_a_whole_frame(tmp_path: Path) -> None:
    """Client(transport=httpx.MockTransport(...)): a user's own tests of code that calls akool_frames."""
    made: list[dict[str, Any]] = []

    def akool(request: httpx.Request) -> httpx.Response:
        import json

        if request.url.path == TTS:
            made.append(json.loads(request.content))
            return httpx.Response(200, json={"code": 1000, "msg": "OK", "data": {
                "_id": f"job{len(made)}", "status": 3, "preview": f"https://cdn.akool.invalid/{len(made)}.mp3",
                "deduction_credit": 0.01}})
        return httpx.Response(404, json={"code": 1008, "msg": "not here"})

    with af.Client(api_key="k" * 24, base_url="https://api.akool.invalid", ledger=tmp_path / "l.sqlite",
                   transport=httpx.MockTransport(akool)) as client:
        out = _frame(3, "mock").akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client,
                                          progress=False)
    assert list(out["akool_status"]) == ["completed"] * 3 and len(made) == 3
    assert list(out["akool_url"]) == [f"https://cdn.akool.invalid/{i}.mp3" for i in (1, 2, 3)]


def test_a_server_closing_idle_connections_early_loses_no_create(make_sandbox: Any, tmp_path: Path) -> None:
    """The server closes idle connections after 1 s and says so (Keep-Alive: timeout=1); the client, paced at
    one create a second on one connection, would send each create just as the server closes it. It retires
    its idle connections first: no answer is lost."""
    sb = make_sandbox(keep_alive=1.0)
    frame = _frame(8, "keep-alive")
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=1, rate_limit=1.0) as client:
        out = frame.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
        expiry = client.http.media.expiry
    assert list(out["akool_status"]) == ["completed"] * 8
    assert out["akool_error"].isna().all()
    assert expiry < 1.0  # learnt from the header
    assert sb.stats()["duplicate_creates"] == 0
