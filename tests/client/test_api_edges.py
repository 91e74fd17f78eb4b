"""The client at the API's edges, where the pages and Akool's own demos say more than a first reading: a row
translated into several languages (page 38), the batch image to video's audio fields and integers given as text,
video audio with AI audio, talking avatar's 1109, and ISO 639-1 codes on TTS and clone. One test or two per edge,
each naming the page it follows; all over real HTTP against the sandbox, reading what it received. The sandbox's
side of each edge is in its family's file under tests/sandbox/ (test_video, test_image2video, test_talking_avatar,
test_voice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import akool_frames as af
from tests.client.conftest import VOICE, columns, create_entries, make_frame

STREAMING_AVATAR = "dvp_Tristan_cloth2_1080P"  # af.avatars(): type 2, a streaming avatar
TALKING_AVATAR = "Yasmin_in_White_shirt_20231121"  # type 1


def received(sb: af.Sandbox, job: str) -> list[dict[str, Any]]:
    """The bodies of the ``job`` jobs the sandbox made, in order."""
    with sb.state.lock:
        return [dict(j.body) for j in sorted((j for j in sb.state.jobs.values() if j.name == job),
                                             key=lambda j: j.created)]


def sent(sb: af.Sandbox, path: str) -> int:
    """How many creates were sent to ``path``, whatever the answer."""
    return sum(1 for e in create_entries(sb) if e["path"] == path)


def run(df: Any, job: str, client: af.Client, **params: Any) -> dict[str, list[Any]]:
    return columns(df.akool.run(job, client=client, progress=False, **params))


def media(sb: af.Sandbox, name: str, seconds: float) -> str:
    """An input URL on the sandbox (a probe would get a quick 404; rows pass duration=) of ``seconds``."""
    url = f"{sb.url}/files/input-{name}"
    sb.config.media[url] = seconds
    return url


# ------------------------------------------------------------------------------ 1. several languages, one row
def test_a_row_translates_into_the_languages_page_38_lists(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    """Page 38 ("Multiple Language Translation", "es,fr,de"; page 45, October 2025): one create, one translation
    per language. The row's job is the first language's; akool_video_ids / akool_video_urls hold one per language,
    in the order given; the estimate and the credits count every language."""
    url = media(sb, "my-video.mp4", 30.0)
    df = make_frame(frame_lib, {"lang": ["es,fr,de", "zh-CN"]})
    params: dict[str, Any] = {"url": url, "language": af.col("lang"), "duration": 30,
                              "rates": {"video_translation": 2.0}}
    est = columns(df.akool.estimate("video_translation", client=client, **params))
    assert est["akool_credits_est"] == [3.0, 1.0]  # 0.5 min x 2 per language
    assert "x 3 languages" in est["akool_price_basis"][0] and "x 1 language:" in est["akool_price_basis"][1]

    out = run(df, "video_translation", client, **params)
    assert out["akool_status"] == ["completed", "completed"], out["akool_error"]
    assert [len(ids) for ids in out["akool_video_ids"]] == [3, 1] and all(u for row in out["akool_video_urls"]
                                                                         for u in row)
    assert out["akool_video_ids"][0][0] == out["akool_job_id"][0]
    with sb.state.lock:
        assert [sb.state.jobs[i].body["language"] for i in out["akool_video_ids"][0]] == ["es", "fr", "de"]
    assert [b["language"] for b in received(sb, "video_translation")] == ["es", "fr", "de", "zh-CN"]
    stats = sb.stats()
    assert stats["creates"] == 2 and stats["jobs"] == 4 and stats["duplicate_creates"] == 0
    assert stats["credits_charged"] == 4 * 30  # (no credit field in its answers) the sandbox's 30 per translation

    again = run(df, "video_translation", client, **params)  # a re-run follows the same four jobs
    assert again["akool_video_ids"] == out["akool_video_ids"] and sb.stats()["creates"] == 2


def test_each_language_of_a_row_is_checked_against_the_list(sb: af.Sandbox, client: af.Client) -> None:
    """Each code of "es,fr,de" is checked against the language list, as a single code is (af.languages())."""
    df = pd.DataFrame({"lang": ["es, fr", "es,zh", "fr,xx"]})
    out = run(df, "video_translation", client, url=media(sb, "clip.mp4", 20.0), language=af.col("lang"), duration=20)
    assert out["akool_status"] == ["completed", "invalid", "invalid"]
    assert out["akool_error"][1] == ("row 1: language is 'es,zh': 'zh' is not in video translation's language list "
                                     "(af.languages()); did you mean 'zh-CN' or 'zh-TW'?")
    assert "'xx' is not in video translation's language list" in out["akool_error"][2]
    assert len(create_entries(sb)) == 1


# ------------------------------------------------------------- 2. the batch body the demo sends; integers as text
def test_the_batch_create_takes_the_audio_fields_the_demo_sends(sb: af.Sandbox, client: af.Client,
                                                               frame_lib: str) -> None:
    """Akool's image to video demo sends audio_type (as text, "1"), audio_url and is_premium_model to
    createBySourcePrompt/batch with every request (page 19's batch table lags): they go out, audio_type as the
    Integer page 19 types it."""
    df = make_frame(frame_lib, {"n": [2], "kind": ["1"]})
    out = run(df, "image_to_video", client, image_url=media(sb, "a.png", 0), prompt="Slow pan.", count=af.col("n"),
              model_name="seedance-1-0-lite-i2v-250428", resolution="720p", video_length=5,
              audio_type=af.col("kind"), audio_url="", is_premium_model=False)
    assert out["akool_status"] == ["completed"], out["akool_error"]
    assert len(out["akool_video_ids"][0]) == 2
    assert sent(sb, "/api/open/v4/image2Video/createBySourcePrompt/batch") == 1
    body = received(sb, "image_to_video")[0]
    assert body["audio_type"] == 1 and type(body["audio_type"]) is int and body["is_premium_model"] is False
    assert "audio_url" not in body  # blank: not given


def test_integer_fields_given_as_text_are_sent_as_integers(sb: af.Sandbox, client: af.Client) -> None:
    """Page 19 types audio_type an Integer (the single create refuses "3"); numeric text of any integer field
    the spec declares, at any depth, goes out as a number; the caller's own dicts are left as they were; text
    that is no number is an invalid row, never sent."""
    df = pd.DataFrame({"kind": ["3", " 3 ", "three"]})
    out = run(df, "image_to_video", client, image_url=media(sb, "b.png", 0), prompt="Slow pan.",
              negative_prompt="blurry", resolution="720p", video_length="5", audio_type=af.col("kind"))
    assert out["akool_status"] == ["completed", "completed", "invalid"], out["akool_error"]
    assert "audio_type must be a whole number" in out["akool_error"][2]
    assert sent(sb, "/api/open/v4/image2Video/createBySourcePrompt") == 1  # rows 0 and 1 are one body: one job
    (body,) = received(sb, "image_to_video")
    assert body["audio_type"] == 3 and body["video_length"] == 5

    options = {"volume": "80", "speed": 1.0}  # voice_options.volume: an Integer (page 42)
    speech = run(pd.DataFrame({"t": ["Hello there."]}), "tts", client, input_text=af.col("t"), voice_id=VOICE,
                 voice_options=options, extra_options={"audio_setting": {"sample_rate": "24000"}})
    assert speech["akool_status"] == ["completed"], speech["akool_error"]
    (tts,) = received(sb, "tts")
    assert tts["voice_options"]["volume"] == 80 and tts["extra_options"]["audio_setting"]["sample_rate"] == 24000
    assert options == {"volume": "80", "speed": 1.0}


# ---------------------------------------------------------------------- 3. video_audio: audio_url when type 2
def test_video_audio_with_ai_audio_needs_no_audio_url(sb: af.Sandbox, client: af.Client) -> None:
    """Page 19, update video audio: audio_url "required when audio_type = 2" (the reading both sides take; the
    table's "true" beside it is the literal one): AI audio (1) without a URL goes out and completes; type 2
    without one is an invalid row, never sent."""
    video = run(pd.DataFrame({"i": [media(sb, "c.png", 0)]}), "image_to_video", client, image_url=af.col("i"),
                prompt="Animate gently.", negative_prompt="blurry", resolution="720p", audio_type=3, video_length=5)
    assert video["akool_status"] == ["completed"], video["akool_error"]
    df = pd.DataFrame({"v": video["akool_job_id"] * 2, "kind": [1, 2]})
    out = run(df, "video_audio", client, pre_video_id=af.col("v"), audio_type=af.col("kind"))
    assert out["akool_status"] == ["completed", "invalid"], out["akool_error"]
    assert out["akool_error"][1] == "row 1: audio_url is required when audio_type is 2 (your own audio)"
    assert sent(sb, "/api/open/v4/image2Video/updateVideoAudio") == 1
    assert received(sb, "video_audio") == [{"pre_video_id": video["akool_job_id"][0], "audio_type": 1}]


# ------------------------------------------------------------------- 4. 1109 refuses the row, not the account
def _avatar_body(sb: af.Sandbox) -> dict[str, Any]:
    return {"width": 3840, "height": 2160, "avatar_from": 2,
            "elements": [{"type": "image", "url": media(sb, "bg.png", 0), "width": 780, "height": 438,
                          "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
                         {"type": "avatar", "avatar_id": af.col("avatar"), "scale_x": 1, "scale_y": 1,
                          "width": 1080, "height": 1080, "offset_x": 1920, "offset_y": 1080},
                         {"type": "audio", "input_text": af.col("script"), "voice_id": VOICE}]}


def test_talking_avatar_1109_rejects_its_row_and_the_run_goes_on(sb: af.Sandbox, tmp_path: Path) -> None:
    """Page 34's codes: "1109 | create avatar video error", this request's own failure (the global table reads
    1109 as "account not exist", which stops a run). The first row, sent alone first, asks a streaming avatar
    for a talking avatar video (the sandbox answers 1109): it is rejected with that message, nothing is charged
    for it, and every other row is sent and completes."""
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=1)
    scripts = [f"Line {i} of the welcome video." for i in range(4)]
    df = pd.DataFrame({"avatar": [STREAMING_AVATAR] + [TALKING_AVATAR] * 3, "script": scripts})
    out = run(df, "talking_avatar", client, **_avatar_body(sb))
    assert out["akool_status"] == ["rejected", "completed", "completed", "completed"], out["akool_error"]
    assert out["akool_error"][0] == "akool error 1109: create avatar video error"
    assert out["akool_error"][1:] == [None, None, None]
    assert len(create_entries(sb)) == 4 and sb.stats()["jobs"] == 3
    client.close()


def test_1109_still_stops_a_run_of_other_jobs() -> None:
    """Elsewhere 1109 keeps the global table's meaning (page 06: "account not exist"): only talking avatar's page
    gives it as a refusal of the request, so only that job lists it among its own row codes."""
    assert af.JOBS["talking_avatar"].row_codes == {1109}
    assert [name for name, spec in af.JOBS.items() if spec.row_codes] == ["talking_avatar"]


# ------------------------------------------------------------------------------- 5. ISO 639-1 on VoiceLab
def test_tts_language_code_is_iso_639_1(sb: af.Sandbox, client: af.Client) -> None:
    """Page 42: language_code takes "only Language code (ISO 639-1) such as "zh", "pt"": two letters. "zh-CN" and
    "EN" are invalid rows naming the field, with the two letters to use (as the localization check already said
    for "zh-CN": "did you mean 'zh'?"); "zh" goes out."""
    voices = af.voices(client=client)
    chinese = voices.loc[voices["locale"] == "zh", "_id"].iloc[0]  # a voice of the line's own language
    df = pd.DataFrame({"code": ["zh-CN", "EN", "zh"]})
    out = run(df, "tts", client, input_text="你好", voice_id=chinese, language_code=af.col("code"))
    assert out["akool_status"] == ["invalid", "invalid", "completed"], out["akool_error"]
    for error, hint in zip(out["akool_error"][:2], ("'zh'", "'en'"), strict=True):
        assert error.startswith("row ") and "language_code is" in error and f"did you mean {hint}?" in error
        assert "ISO 639-1 codes only (two letters such as 'zh', 'pt')" in error
    assert sent(sb, "/api/open/v4/voice/tts") == 1 and received(sb, "tts")[0]["language_code"] == "zh"


def test_clone_language_is_iso_639_1(sb: af.Sandbox, client: af.Client) -> None:
    """Page 42: a clone's voice_options.language is the "Language code (ISO 639-1) of the audio file"."""
    df = pd.DataFrame({"lang": ["en-US", "en"]})
    out = run(df, "voice_clone", client, source_voice_file=media(sb, "voice.mp3", 12.0), name="Mine",
              language=af.col("lang"))
    assert out["akool_status"] == ["invalid", "completed"], out["akool_error"]
    assert out["akool_error"][0] == (
        "row 0: voice_options.language is 'en-US', which is not an ISO 639-1 code: voice_options.language takes "
        "ISO 639-1 codes only (two letters such as 'zh', 'pt'), as ai-tools-suite/voiceLab says; did you mean 'en'?")
    assert sent(sb, "/api/open/v4/voice/clone") == 1
    assert received(sb, "voice_clone")[0]["voice_options"]["language"] == "en"
