"""Issue 19, "The API's last edges", on the sandbox's side: it answers each edge as the page (or Akool's own demo)
says, over real HTTP. The client's side of each edge is in tests/client/test_api_edges.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, poll
from tests.sandbox.conftest import ok

TRANSLATE = "/api/open/v3/content/video/createbytranslate"
SINGLE = "/api/open/v4/image2Video/createBySourcePrompt"
BATCH = "/api/open/v4/image2Video/createBySourcePrompt/batch"
AUDIO = "/api/open/v4/image2Video/updateVideoAudio"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
AVATAR = "/api/open/v3/talkingavatar/create"
TTS = "/api/open/v4/voice/tts"
CLONE = "/api/open/v4/voice/clone"

VIDEO = "https://example.com/my-video.mp4"
IMAGE = "https://drz0f01yeq1cx.cloudfront.net/1753772478686-9524-b6e4169bb1b44d5d8361936b3f6eddb8.png"
VOICE = "6889b628662160e2caad5dbc"
PROMPT = "Animate this image with smooth camera movement and subtle object motion."
# The body Akool's image to video demo sends to the batch create (akool-image-to-video-demo, useAnimatorLogic.ts).
DEMO_BATCH = {"image_url": IMAGE, "prompt": PROMPT, "model_name": "AkoolImage2VideoFastV1",
              "negative_prompt": "blurry, distorted hands", "resolution": "1080p", "audio_url": "", "audio_type": "1",
              "video_length": 5, "is_premium_model": False, "count": 1}
SINGLE_BODY = {"image_url": IMAGE, "prompt": PROMPT, "negative_prompt": "blurry", "resolution": "720p",
               "audio_type": 3, "video_length": 5}


@pytest.fixture
def box(make_sandbox: Any) -> af.Sandbox:
    return make_sandbox(media={VIDEO: 30.0})


@pytest.fixture
def c(box: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(box) as client:
        yield client


def refused(response: httpx.Response, code: int, *words: str) -> str:
    body = response.json()
    assert response.status_code == 200 and body["code"] == code, body
    assert all(w in body["msg"] for w in words), body
    return str(body["msg"])


# ------------------------------------------------------------------------------ 1. several languages, one create
def test_one_create_translates_into_each_language_of_page_38(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 38 ("es,fr,de"; page 45, October 2025): one translation, and one charge, per distinct language, each
    code checked against the language list; a wrong one refuses the whole create."""
    one = ok(c.post(TRANSLATE, json={"url": VIDEO, "language": "es"}))
    charged = box.stats()["credits_charged"]
    answer = c.post(TRANSLATE, json={"url": VIDEO, "language": "es, fr,de,fr"}).json()
    assert [r["data"]["language"] for r in answer["all_results"]] == ["es", "fr", "de"]
    assert box.stats()["credits_charged"] == charged * 4 and box.stats()["jobs"] == 4
    assert one["language"] == "es" and all(r["code"] == 1000 for r in answer["all_results"])
    refused(c.post(TRANSLATE, json={"url": VIDEO, "language": "es,xx"}), 1003, "language", "'xx'")
    assert box.stats()["jobs"] == 4 and box.stats()["creates"] == 2


# ------------------------------------------------------------------- 2. the demo's batch body; integers as text
def test_the_batch_create_takes_the_body_the_demo_sends(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 19's batch table lacks audio_type, audio_url and is_premium_model; Akool's demo sends them with every
    batch create, audio_type as text: accepted, shown by resultsByIds as the Integer it is."""
    data = ok(c.post(BATCH, json=DEMO_BATCH))
    (video,) = data["successList"]
    (result,) = ok(c.post(RESULTS, json={"_ids": video["_id"]}))["result"]
    assert result["audio_type"] == 1 and result["audio_url"] == ""
    ok(c.post(BATCH, json={**DEMO_BATCH, "audio_type": 2, "audio_url": "https://example.com/a.mp3",
                           "is_premium_model": True}))
    assert box.stats()["creates"] == 2


@pytest.mark.parametrize(("path", "changes", "field"), [
    (BATCH, {"audio_type": "one"}, "audio_type"),  # text that is no number: refused, as the API would
    (BATCH, {"audio_type": 4}, "audio_type"),
    (BATCH, {"audio_type": "2", "audio_url": ""}, "audio_url"),  # "required when audio_type = 2"
    (BATCH, {"is_premium_model": "yes"}, "is_premium_model"),
    (SINGLE, {"audio_type": "one"}, "audio_type"),
    (SINGLE, {"audio_type": "3"}, "audio_type"),  # page 19: Integer (the client sends 3)
])
def test_audio_fields_keep_their_types(box: af.Sandbox, c: httpx.Client, path: str, changes: dict[str, Any],
                                       field: str) -> None:
    body = {**(DEMO_BATCH if path == BATCH else SINGLE_BODY), **changes}
    refused(c.post(path, json=body), 1003, field)
    assert box.stats()["creates"] == 0 and box.stats()["credits_charged"] == 0


# ---------------------------------------------------------------------- 3. video_audio: audio_url when type 2
def test_video_audio_needs_an_audio_url_only_for_your_own_audio(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 19, update video audio: audio_url "required when audio_type = 2" (the field's own description; its
    "true" is the literal reading, not taken): AI audio (1) is made without one; type 2 without one is refused."""
    source = ok(c.post(SINGLE, json=SINGLE_BODY))
    poll(lambda: ok(c.post(RESULTS, json={"_ids": source["_id"]})), lambda d: d["result"][0]["status"] == 3)
    refused(c.post(AUDIO, json={"pre_video_id": source["_id"], "audio_type": 2}), 1003, "audio_url")
    data = ok(c.post(AUDIO, json={"pre_video_id": source["_id"], "audio_type": 1}))
    assert data["audio_type"] == 1 and data["audio_url"] == "" and data["only_add_audio"] is True
    assert box.stats()["credits_charged"] == 20 + 5


# ------------------------------------------------------------- 4. 1109: the talking avatar request's own error
def _avatar(avatar_id: str) -> dict[str, Any]:
    return {"width": 3840, "height": 2160, "avatar_from": 2,
            "elements": [{"type": "avatar", "avatar_id": avatar_id, "scale_x": 1, "scale_y": 1, "width": 1080,
                          "height": 1080, "offset_x": 1920, "offset_y": 1080},
                         {"type": "audio", "input_text": "Welcome aboard.", "voice_id": VOICE}]}


def test_a_streaming_avatar_cannot_make_a_talking_avatar_video(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 34's codes: "1109 | create avatar video error". The avatar list's type 2 is "the streaming avatar of
    Akool": asked for a talking avatar video, it is answered 1109, and nothing is made or charged."""
    avatars = ok(c.get("/api/open/v3/avatar/list", params={"from": 2, "type": 2}))
    assert "dvp_Tristan_cloth2_1080P" in {a["avatar_id"] for a in avatars}
    for avatar in avatars:
        assert refused(c.post(AVATAR, json=_avatar(avatar["avatar_id"])), 1109) == "create avatar video error"
    assert box.stats()["jobs"] == 0 and box.stats()["credits_charged"] == 0
    talking = ok(c.get("/api/open/v3/avatar/list", params={"from": 2, "type": 1}))[0]["avatar_id"]
    ok(c.post(AVATAR, json=_avatar(talking)))
    assert box.stats()["jobs"] == 1


# ------------------------------------------------------------------------------- 5. ISO 639-1 on VoiceLab
@pytest.mark.parametrize(("path", "body", "field"), [
    (TTS, {"input_text": "你好", "voice_id": VOICE, "language_code": "zh-CN"}, "language_code"),
    (TTS, {"input_text": "Hello", "voice_id": VOICE, "language_code": "EN"}, "language_code"),
    (TTS, {"input_text": "Hello", "voice_id": VOICE, "language_code": "eng"}, "language_code"),
    (CLONE, {"source_voice_file": "https://example.com/v.mp3", "voice_options": {"language": "en-US"}},
     "voice_options.language"),
])
def test_voicelab_language_codes_are_iso_639_1(box: af.Sandbox, c: httpx.Client, path: str, body: dict[str, Any],
                                               field: str) -> None:
    """Page 42: language_code "only Language code (ISO 639-1) such as "zh", "pt""; voice_options.language
    "Language code (ISO 639-1) of the audio file": anything but two lower-case letters is the documented parameter
    error, naming the field."""
    refused(c.post(path, json=body), 1003, field, "ISO 639-1")
    code = "zh" if path == TTS else None
    fixed = {**body, "language_code": code} if path == TTS else {**body, "voice_options": {"language": "en"}}
    ok(c.post(path, json=fixed))
    assert box.stats()["creates"] == 1
