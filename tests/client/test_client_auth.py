"""Authentication as documented, per provider: Akool's API key or getToken + Bearer (renewed when it expires),
audiocleaner's api-key header, Kling's HS256 JWT; missing credentials fail before any request; a wrong key
rejects rows with the provider's code and stops the run from sending more."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns, create_entries, make_frame

GET_TOKEN = "/api/open/v3/getToken"


def _token_client(sb: af.Sandbox, ledger: Path, **extra: Any) -> af.Client:
    options = {k: v for k, v in sb.client_options().items() if k != "api_key"}
    return af.Client(**options, client_secret=sb.client_secret, ledger=ledger, **extra)


def _tts(df: Any, client: af.Client, **options: Any) -> dict[str, list[Any]]:
    return columns(df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False,
                                **options))


def test_client_id_and_secret_get_a_token_then_use_it(sb: af.Sandbox, tmp_path: Path, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": [f"Token line {i}." for i in range(5)]})
    with _token_client(sb, tmp_path / "l.sqlite") as client:
        assert client.api_key is None
        got = _tts(df, client)
    assert got["akool_status"] == ["completed"] * 5
    log = sb.log()
    assert [(e["method"], e["path"]) for e in log if e["path"] == GET_TOKEN] == [("POST", GET_TOKEN)]
    assert log[0]["path"] == GET_TOKEN and log[0]["code"] == 1000  # first, before anything else
    rest = log[1:]
    assert len(rest) >= 6  # 5 creates and the list pages that poll them ...
    assert all(e["code"] == 1000 for e in rest), [e for e in rest if e["code"] != 1000]  # ... all accepted
    assert sb.stats()["creates"] == 5
    assert len(sb.state.tokens) == 1  # one token issued, and it is what the Bearer requests carried



@pytest.mark.parametrize("rows", [1, 6])  # 6 creates refused at once still renew the token once
def test_an_expired_token_is_renewed_once(make_sandbox: Callable[..., af.Sandbox], tmp_path: Path,
                                          frame_lib: str, rows: int) -> None:
    sb = make_sandbox(token_ttl=3600)
    with _token_client(sb, tmp_path / "l.sqlite") as client:
        first = _tts(make_frame(frame_lib, {"text": ["Before expiry."]}), client)
        assert first["akool_status"] == ["completed"]
        sb.advance(7200)  # the token is an hour old twice over
        df = make_frame(frame_lib, {"text": [f"After expiry {i}." for i in range(rows)]})
        second = _tts(df, client)
    assert second["akool_status"] == ["completed"] * rows, second["akool_error"]
    token_calls = [e for e in sb.log() if e["path"] == GET_TOKEN]
    assert len(token_calls) == 2
    expired = [e for e in sb.log() if e["code"] == 1101]
    assert 1 <= len(expired) <= rows  # the refusals that made the client renew: nothing else failed
    assert sb.stats()["creates"] == 1 + rows


@pytest.mark.parametrize(("job", "params", "names"), [
    ("tts", {"input_text": "Hello.", "voice_id": VOICE}, ["AKOOL_API_KEY", "AKOOL_CLIENT_ID", "AKOOL_CLIENT_SECRET"]),
    ("audiocleaner.tts", {"text": "Hello.", "voice_id": 2072, "emotion": 0, "speed": 1, "language": "en"},
     ["AUDIOCLEANER_API_KEY"]),
    ("kling.custom_voice", {"voice_name": "mine", "voice_url": "https://example.com/v.mp3"},
     ["KLING_ACCESS_KEY", "KLING_SECRET_KEY"]),
])
def test_missing_credentials_fail_before_any_request(sb: af.Sandbox, tmp_path: Path, frame_lib: str, job: str,
                                                     params: dict[str, Any], names: list[str]) -> None:
    bare = af.Client(base_url=sb.url, audiocleaner_base_url=sb.audiocleaner_url, kling_base_url=sb.kling_url,
                     ledger=tmp_path / "l.sqlite")
    df = make_frame(frame_lib, {"n": [1, 2]})
    for verb in ("run", "submit"):
        with pytest.raises(af.ConfigError) as caught:
            getattr(df.akool, verb)(job, client=bare, progress=False, **params)
        for name in names:
            assert name in str(caught.value)
    # the estimate needs no credentials
    assert columns(df.akool.estimate(job, client=bare, **params))["akool_status"] == [None, None]
    assert sb.log() == []
    bare.close()


def test_audiocleaner_and_kling_run_with_their_auth(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": ["Hello from audiocleaner.", "x" * 215], "name": ["first", "second"]})
    cleaned = columns(df.akool.run("audiocleaner.tts", text=af.col("text"), voice_id=2072, emotion=0, speed=1,
                                   language="en", client=client, progress=False))
    assert cleaned["akool_status"] == ["completed"] * 2
    assert cleaned["akool_credits_est"] == [1.0, 3.0]  # one credit per started 100 characters
    voices = columns(df.akool.run("kling.custom_voice", voice_name=af.col("name"),
                                  voice_url="https://example.com/clip.mp3", client=client, progress=False))
    assert voices["akool_status"] == ["completed"] * 2, voices["akool_error"]
    assert all(u.startswith(sb.url) for u in voices["akool_url"])
    stats = sb.stats()
    assert stats["creates_by_endpoint"] == {"/audiocleaner/audio/api/v1/api-keys/tts/task/create": 2,
                                            "/kling/v1/general/custom-voices": 2}
    assert stats["credits_charged_by_provider"]["audiocleaner"] == 4
    assert not [e for e in sb.log() if e.get("code") not in (None, 0, 100000)]  # no auth refusals on the way


WRONG = "nOtThEkEy" * 4


@pytest.mark.parametrize(("job", "params", "override", "code"), [
    ("tts", {"input_text": af.col("text"), "voice_id": VOICE}, {"api_key": WRONG}, "akool error 1101"),
    ("audiocleaner.tts", {"text": af.col("text"), "voice_id": 2072, "emotion": 0, "speed": 1, "language": "en"},
     {"audiocleaner_api_key": WRONG}, "audiocleaner error 101002"),
    ("kling.custom_voice", {"voice_name": af.col("text"), "voice_url": "https://example.com/v.mp3"},
     {"kling_secret_key": WRONG}, "kling error 1002"),
])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_wrong_key_rejects_and_stops_sending(sb: af.Sandbox, tmp_path: Path, frame_lib: str, job: str,
                                               params: dict[str, Any], override: dict[str, str], code: str,
                                               concurrency: int) -> None:
    n = 12
    df = make_frame(frame_lib, {"text": [f"row {i}" for i in range(n)]})
    with af.Client(**{**sb.client_options(), **override, "max_concurrency": concurrency},
                   ledger=tmp_path / "l.sqlite") as wrong:
        with pytest.warns(af.AccountWarning, match="refused the credentials"):  # and the setting, below
            got = columns(df.akool.run(job, client=wrong, progress=False, **params))
    statuses = got["akool_status"]
    rejected = [i for i, s in enumerate(statuses) if s == "rejected"]
    skipped = [i for i, s in enumerate(statuses) if s == "skipped"]
    assert len(rejected) + len(skipped) == n, statuses
    # creates already in flight when the first refusal came back may be refused too; nothing after that
    assert 1 <= len(rejected) <= concurrency
    assert len(create_entries(sb)) == len(rejected)
    assert sb.stats()["creates"] == 0 and sb.stats()["polls"] == 0
    for i in rejected:
        assert code in got["akool_error"][i], got["akool_error"][i]
    for i in skipped:
        assert "refused the credentials" in got["akool_error"][i] and "Hint: check" in got["akool_error"][i]
    assert all(got["akool_job_id"][i] is None for i in range(n))
