"""Catalogue look-ups as DataFrames (pandas and polars), and the client-side webhook receiver: genuine
callbacks verify and update the ledger, forged ones are rejected and change nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from akool_frames.sandbox import _webhook
from akool_frames.sandbox._server import ServerThread
from akool_frames.sandbox._webhook import build_payload
from akool_frames.transport import _webhook as webhook
from tests.client.conftest import VOICE, columns, make_frame

NATIVE = {"pandas": pd.DataFrame, "polars": pl.DataFrame}
LEDGER_COLUMNS = ["key", "attempt", "provider", "job", "body", "job_id", "status", "url", "credits_est", "credits",
                  "error", "created_at", "submitted_at", "updated_at", "price_basis", "duration_s", "duration_source",
                  "completed_at", "extra", "deleted_at"]


# ----------------------------------------------------------------------------------------- look-ups
def test_lookups_are_frames_with_the_documented_columns(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    kind = NATIVE[frame_lib]

    voices = af.voices(client=client, backend=frame_lib)
    assert isinstance(voices, kind)
    assert {"_id", "voice_id", "language", "locale", "name", "gender", "preview"} <= set(voices.columns)
    got = columns(voices)
    assert len(got["_id"]) == 12 and VOICE in got["_id"]
    assert got["name"][got["_id"].index(VOICE)] == "Emma"
    male = columns(af.voices(client=client, backend=frame_lib, gender="Male"))
    assert male["name"] == [n for n, g in zip(got["name"], got["gender"], strict=True) if g == "Male"]
    assert len(af.voices(cloned=True, client=client, backend=frame_lib)) == 0  # no clones yet

    avatars = af.avatars(client=client, backend=frame_lib)
    assert isinstance(avatars, kind)
    assert {"avatar_id", "name", "url", "from"} <= set(avatars.columns)
    assert len(avatars) >= 1 and set(columns(avatars)["from"]) == {2}

    models = af.ai_models(client=client, backend=frame_lib)
    assert isinstance(models, kind)
    assert {"label", "value", "type", "resolutionList", "durationList"} <= set(models.columns)
    assert columns(models)["value"] == ["AkoolImage2VideoFastV1", "seedance-1-0-lite-i2v-250428"]
    assert columns(models)["label"] == ["Akool Image2Video Fast V1", "Seedance Lite Image2Video"]

    languages = af.languages(client=client, backend=frame_lib)
    assert isinstance(languages, kind)
    assert {"lang_code", "lang_name"} <= set(languages.columns)  # one row per language, not one wrapped list
    assert len(languages) > 5 and "es" in columns(languages)["lang_code"]

    effects = af.effects(client=client, backend=frame_lib)
    assert isinstance(effects, kind)
    assert {"effect_code", "name"} <= set(effects.columns) and len(effects) >= 1

    balance = af.credits(client=client, backend=frame_lib)
    assert isinstance(balance, kind)
    assert columns(balance)["credit"] == [1_000_000]

    empty = af.ledger(client=client, backend=frame_lib)
    assert isinstance(empty, kind)
    assert list(empty.columns) == LEDGER_COLUMNS and len(empty) == 0
    df = make_frame(frame_lib, {"text": ["Ledger line one.", "Ledger line two.", "Ledger line one."]})
    out = columns(df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False))
    ledger = af.ledger(client=client, backend=frame_lib)
    assert list(ledger.columns) == LEDGER_COLUMNS
    rows = columns(ledger)
    assert rows["status"] == ["completed", "completed"]  # one attempt per distinct row
    assert sorted(rows["job_id"]) == sorted(set(out["akool_job_id"]))
    assert rows["job"] == ["tts", "tts"]
    assert all(sb.url in p for p in rows["provider"])
    # the balance moved by what was charged
    assert columns(af.credits(client=client))["credit"][0] == pytest.approx(1_000_000 - sb.stats()["credits_charged"])


# ------------------------------------------------------------------------------------------ webhooks
def _payload(sb: af.Sandbox, data: dict[str, Any], **keys: str) -> dict[str, Any]:
    """A callback built the way the sandbox builds the ones it sends (its own module, not the client's)."""
    return build_payload(data, keys.get("client_id", sb.client_id), keys.get("secret", sb.client_secret))


def test_verify_accepts_genuine_and_rejects_forged_callbacks(sb: af.Sandbox, client: af.Client) -> None:
    data = {"_id": "65f8d2f1a1b2c3d4e5f60718", "status": 3, "type": "audio", "url": "https://example.test/a.mp3"}
    genuine = _payload(sb, data)
    assert webhook.verify(genuine, client) == data

    forged = {
        "signature": {**genuine, "signature": "0" * 40},
        "other secret": _payload(sb, data, secret="K" * 32),
        "other client id": _payload(sb, data, client_id="someone-else-123"),
        "swapped data": {**genuine, "dataEncrypt": _payload(sb, {**data, "status": 4})["dataEncrypt"]},
        "replayed nonce": {**genuine, "nonce": str(genuine["nonce"]) + "1"},
        "missing field": {k: v for k, v in genuine.items() if k != "timestamp"},
    }
    for name, payload in forged.items():
        try:
            webhook.verify(payload, client)
        except webhook.WebhookRejected:
            continue
        pytest.fail(f"a callback with a forged {name} was accepted")
    with pytest.raises(webhook.WebhookRejected):
        webhook.verify("not a dict", client)  # type: ignore[arg-type]
    # genuine keys, but the data is not an object: rejected, not a crash
    listed = _webhook.encrypt('[1, 2]', sb.client_id, sb.client_secret)
    not_object = {"signature": _webhook.sign(sb.client_id, 1, "2", listed), "dataEncrypt": listed, "timestamp": 1,
                  "nonce": "2"}
    with pytest.raises(webhook.WebhookRejected, match="object"):
        webhook.verify(not_object, client)
    # a receiver without the clientId cannot verify anything
    with af.Client(api_key=sb.api_key, base_url=sb.url, ledger=client.ledger_path) as no_id:
        with pytest.raises(webhook.WebhookRejected, match="client_id"):
            webhook.verify(genuine, no_id)


def test_apply_records_the_callback_in_the_ledger(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": ["Webhook line."]})
    submitted = df.akool.submit("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    job_id = columns(submitted)["akool_job_id"][0]
    assert columns(af.ledger(client=client))["status"] == ["queued"]

    forged = _payload(sb, {"_id": job_id, "status": 4, "type": "audio", "url": ""}, secret="F" * 32)
    with pytest.raises(webhook.WebhookRejected):
        webhook.apply(forged, client)
    assert columns(af.ledger(client=client))["status"] == ["queued"]  # unchanged

    url = f"{sb.url}/files/{job_id}.mp3"
    data = webhook.apply(_payload(sb, {"_id": job_id, "status": 3, "type": "audio", "url": url}), client)
    assert data["_id"] == job_id
    entry = columns(af.ledger(client=client))
    assert entry["status"] == ["completed"] and entry["url"] == [url] and entry["job_id"] == [job_id]

    # a late or repeated callback with an earlier state does not take the job back
    webhook.apply(_payload(sb, {"_id": job_id, "status": 2, "type": "audio", "url": ""}), client)
    assert columns(af.ledger(client=client))["status"] == ["completed"]

    # the frame learns it from the ledger: no poll needed
    refreshed = columns(submitted.akool.refresh(client=client, progress=False))
    assert refreshed["akool_status"] == ["completed"] and refreshed["akool_url"] == [url]
    assert sb.stats()["polls"] == 0


def test_a_failed_callback_says_so(sb: af.Sandbox, client: af.Client) -> None:
    df = pd.DataFrame({"text": ["Doomed line."]})
    submitted = df.akool.submit("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    job_id = submitted["akool_job_id"][0]
    webhook.apply(_payload(sb, {"_id": job_id, "status": 4, "type": "audio", "url": ""}), client)
    entry = columns(af.ledger(client=client))
    assert entry["status"] == ["failed"] and entry["url"] == [None]
    assert "failed" in entry["error"][0]
    assert submitted.akool.refresh(client=client, progress=False)["akool_status"].tolist() == ["failed"]


def test_sandbox_callbacks_reach_the_client_receiver(make_sandbox: Callable[..., af.Sandbox], tmp_path: Path,
                                                     frame_lib: str) -> None:
    """End to end: the sandbox POSTs its signed, encrypted callbacks to ``webhook.asgi_app`` served over HTTP."""
    sb = make_sandbox()
    ledger = tmp_path / "l.sqlite"
    with af.Client(**sb.client_options(), ledger=ledger) as receiving:
        server = ServerThread(webhook.asgi_app(receiving))  # type: ignore[arg-type]
        port = server.start()
        try:
            hook = f"http://127.0.0.1:{port}/"
            with af.Client(**sb.client_options(), ledger=ledger, webhook_url=hook) as sending:
                df = make_frame(frame_lib, {"text": ["Call me back.", "Call me back too."]})
                submitted = df.akool.submit("tts", input_text=af.col("text"), voice_id=VOICE, client=sending,
                                            progress=False)
                ids = columns(submitted)["akool_job_id"]
                deadline = time.monotonic() + 10
                while columns(af.ledger(client=receiving))["status"] != ["completed"] * 2:
                    assert time.monotonic() < deadline, af.ledger(client=receiving)
                    time.sleep(0.05)
        finally:
            server.stop()
    assert sb.stats()["polls"] == 0  # nobody polled: the callbacks did it
    delivered = [w for w in sb.state.webhooks if w["job"] in ids]
    assert {w["job"] for w in delivered} == set(ids) and all(w["status"] == 200 for w in delivered)
    entry = columns(af.ledger(client=receiving))
    assert sorted(entry["job_id"]) == sorted(ids)
    assert all(u.startswith(sb.url) and u.endswith(".mp3") for u in entry["url"])


def test_the_receiver_refuses_forgeries_over_http(sb: af.Sandbox, client: af.Client) -> None:
    import httpx

    server = ServerThread(webhook.asgi_app(client))  # type: ignore[arg-type]
    port = server.start()
    try:
        forged = _payload(sb, {"_id": "x" * 24, "status": 3, "type": "audio", "url": "https://evil.test/a.mp3"},
                          secret="E" * 32)
        answer = httpx.post(f"http://127.0.0.1:{port}/", json=forged, timeout=10)
        assert answer.status_code == 400
        assert httpx.post(f"http://127.0.0.1:{port}/", content=b"not json", timeout=10).status_code == 400
    finally:
        server.stop()
    assert len(af.ledger(client=client)) == 0
