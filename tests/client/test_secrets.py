"""Secrets (API keys, the client secret, audiocleaner's key, Kling's access/secret keys, getToken tokens)
never show up in reprs, exceptions, the ledger file, result frames, af.ledger(), log records or progress output.

One scenario drives every provider and both Akool auth modes with DEBUG logging captured (httpx and httpcore
included) and progress bars on; then every place a secret could leak to is searched for every secret.
"""

from __future__ import annotations

import logging
import pickle
import traceback
from pathlib import Path
from typing import Any

import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns, make_frame

WRONG_KEY = "WrOnGkEy" * 4  # also a secret: a wrong key must not be echoed either


def _cells(frame: Any) -> str:
    return "\n".join(repr(v) for values in columns(frame).values() for v in values) + "\n" + repr(list(frame.columns))


def _exception_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value and value in text]


def test_secrets_stay_out_of_everything(sb: af.Sandbox, tmp_path: Path, frame_lib: str,
                                        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "aiohttp", "akool_frames", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    options = sb.client_options()
    ledger_path = tmp_path / "ledger.sqlite"
    keyed = af.Client(**options, client_secret=sb.client_secret, ledger=ledger_path)
    token_options = {k: v for k, v in options.items() if k != "api_key"}
    tokened = af.Client(**token_options, client_secret=sb.client_secret, ledger=ledger_path)
    wrong = af.Client(**{**options, "api_key": WRONG_KEY, "audiocleaner_api_key": WRONG_KEY,
                         "kling_secret_key": WRONG_KEY}, ledger=ledger_path)
    texts = ["Secret-free speech, line one.", "Secret-free speech, line two."]
    frames: list[Any] = []
    errors: list[BaseException] = []
    said: list[str] = []  # the account warnings of the wrong key's runs
    try:
        df = make_frame(frame_lib, {"text": texts, "name": ["voice one", "voice two"]})
        frames.append(df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=keyed, progress=True))
        frames.append(df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, speed=0.9, client=tokened,
                                   progress=True))
        frames.append(df.akool.run("audiocleaner.tts", text=af.col("text"), voice_id=2072, emotion=0, speed=1,
                                   language="en", client=keyed, progress=True))
        frames.append(df.akool.run("kling.custom_voice", voice_name=af.col("name"),
                                   voice_url="https://example.com/clip.mp3", client=keyed, progress=True))
        assert [columns(f)["akool_status"] for f in frames] == [["completed"] * 2] * 4

        # wrong credentials: rows rejected with the provider's code, and the exceptions raised by look-ups
        for job, params in (("tts", {"input_text": af.col("text"), "voice_id": VOICE, "speed": 0.8}),
                            ("audiocleaner.tts", {"text": af.col("text"), "voice_id": 2072, "emotion": 1, "speed": 1,
                                                  "language": "en"}),
                            ("kling.custom_voice", {"voice_name": af.col("name"), "voice_url": "https://example.com/b.mp3"})):
            with pytest.warns(af.AccountWarning, match="refused the credentials") as warned:
                rejected = df.akool.run(job, client=wrong, progress=True, **params)
            said.extend(str(w.message) for w in warned)
            statuses = columns(rejected)["akool_status"]
            assert "rejected" in statuses and set(statuses) <= {"rejected", "skipped"}, (job, statuses)
            frames.append(rejected)
        with pytest.raises(af.AuthError) as caught:
            af.voices(client=wrong)
        errors.append(caught.value)
        with pytest.raises(af.ConfigError) as missing:
            df.akool.run("kling.custom_voice", voice_name=af.col("name"), voice_url="https://example.com/c.mp3",
                         client=af.Client(base_url=sb.url, kling_access_key=sb.kling_access_key, ledger=ledger_path),
                         progress=False)
        errors.append(missing.value)
        ledgers = [af.ledger(client=keyed), af.ledger(client=keyed, backend="polars")]
    finally:
        for c in (keyed, tokened, wrong):
            c.close()

    secrets = {
        "api_key": sb.api_key, "client_secret": sb.client_secret, "audiocleaner_api_key": sb.audiocleaner_api_key,
        "kling_access_key": sb.kling_access_key, "kling_secret_key": sb.kling_secret_key, "wrong_key": WRONG_KEY,
    }
    tokens = list(sb.state.tokens)  # what getToken handed out
    assert len(tokens) == 1
    secrets["getToken token"] = tokens[0]
    assert all(len(v) >= 16 for v in secrets.values())

    # reprs and strs of every client and its secrets
    for c in (keyed, tokened, wrong):
        for text in (repr(c), str(c), repr(c.api_key), str(c.client_secret), repr(c.kling_secret_key), f"{c}"):
            assert not _leaks(text, secrets), text
    # exceptions, with their tracebacks
    for exc in errors:
        assert not _leaks(_exception_text(exc), secrets), _exception_text(exc)
    assert "1101" in str(errors[0])
    assert "KLING_SECRET_KEY" in str(errors[1])
    # the wrong key's account warnings (their text is in the log records too, searched below)
    assert len(said) == 3 and not _leaks("\n".join(said), secrets), said
    # result frames (every cell) and the provider codes in the rejected rows' errors
    for frame in frames:
        assert not _leaks(_cells(frame), secrets)
    rejected_errors = [e for f in frames[4:] for e in columns(f)["akool_error"] if e]
    assert any("1101" in e for e in rejected_errors)
    assert any("101002" in e for e in rejected_errors)
    assert any("1002" in e and "kling" in e for e in rejected_errors)
    # af.ledger() and the ledger file's bytes (WAL and shared memory included)
    for frame in ledgers:
        assert frame.shape[0] >= 8
        assert not _leaks(_cells(frame), secrets)
    files = sorted(tmp_path.glob("ledger.sqlite*"))
    assert ledger_path in files
    raw = b"".join(p.read_bytes() for p in files)
    assert texts[0].encode() in raw  # the search does find what the ledger holds
    for name, value in secrets.items():
        assert value.encode() not in raw, name
    # every log record, formatted, with its arguments and exception text
    assert any(r.name == "akool_frames.http" for r in caplog.records)  # the loggers were listening (every request)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert not _leaks(logged, secrets)
    # progress output
    shown = capsys.readouterr()
    assert "tts" in shown.err  # the bars were drawn
    assert not _leaks(shown.out + shown.err, secrets)


def test_secret_objects_refuse_to_leave(sb: af.Sandbox, tmp_path: Path) -> None:
    client = af.Client(**sb.client_options(), client_secret=sb.client_secret, ledger=tmp_path / "l.sqlite")
    for secret in (client.api_key, client.client_secret, client.audiocleaner_api_key, client.kling_access_key,
                   client.kling_secret_key):
        assert isinstance(secret, af.Secret)
        assert repr(secret) == str(secret) == "Secret('********')"
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps(client)
    # values given as Secret objects stay secret, and the key is still what goes on the wire
    with af.Client(api_key=af.Secret(sb.api_key), base_url=sb.url, ledger=tmp_path / "w.sqlite") as wrapped:
        assert sb.api_key not in repr(wrapped)
        assert wrapped.api_key.reveal() == sb.api_key
        assert af.credits(client=wrapped).shape[0] == 1
