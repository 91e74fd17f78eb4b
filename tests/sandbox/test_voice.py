"""Sandbox family: Akool VoiceLab v4 (TTS, voice clone, voice changer, lists) against the documentation, with the
voice look-up every route that takes a voice shares (an unknown voice is 1008 on VoiceLab, legacy v3 audio and
talking avatar; a url wins over the voice) and VoiceLab's ISO 639-1 language codes."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, media_seconds, poll
from tests.sandbox.conftest import ok, refused

PEONY = (
    "In late spring, the peony garden awakens with layers of petals of the Yao Huang and Wei Zi varieties. When the "
    "morning dew has not yet dried, the edges of the petals are glistening with crystal-like droplets, and the inner "
    "crimson, like silk, gradually deepens, as if the sunset had been cut into a dress. When the wind blows, the sea of "
    "flowers surges, and the golden stamens tremble, releasing a faint fragrance that lures bees and butterflies to "
    "swirl around the flower centers in golden vortices. The green peony, in particular, when it first blooms, has tips "
    "like jade carvings with a hint of moon white, and when it is in full bloom, it is like an ice wine in an emerald "
    "cup, making one suspect it is a divine creation from the Queen Mother's Jade Pool. Occasionally, a petal falls, "
    "becoming a rolling agate bead on the embroidered carpet, and even the soil is permeated with the elegant "
    "fragrance. Such a captivating beauty is why Liu Yuxi wrote that only the peony is truly the national color, and "
    "when it blooms, it moves the entire capital. It uses the entire season's brilliance to interpret the grandeur of "
    "being the queen of flowers."
)
POLISH_117 = ("Życie jak wspinaczka górska: ważniejsza od wysokości szczytu jest postawa, z jaką się wspinasz. "
              "Gdy czujesz, że stopy")

# The documented example bodies (S42), verbatim.
TTS_EXAMPLE: dict[str, Any] = {
    "input_text": PEONY, "voice_id": "6889b628662160e2caad5dbc",
    "voice_options": {"stability": 0.6, "similarity_boost": 0.8, "style": 1, "speed": 1.0, "speaker_boost": True,
                      "emotion": "happy", "volume": 80},
    "pitch": -5, "webhookUrl": "", "language_code": "zh",
    "extra_options": {
        "previous_text": PEONY, "next_text": PEONY, "apply_text_normalization": "auto",
        "apply_language_text_normalization": True, "latex_read": True, "text_normalization": True,
        "audio_setting": {"sample_rate": 24000, "bitrate": 32000, "format": "mp3", "channel": 2},
        "timber_weights": [{"voice_id": "6889b7f4662160e2caad60e9", "weight": 80},
                           {"voice_id": "6889b7f3662160e2caad60e8", "weight": 60},
                           {"voice_id": "6889b7f3662160e2caad60e7", "weight": 30},
                           {"voice_id": "6889b7f2662160e2caad60e6", "weight": 10}],
        "pronunciation_dict": {"tone": ["雍容/(yong3)(neng4)", "牡丹/(mu4)(dan3)"]},
        "voice_modify": {"pitch": 50, "intensity": 30, "timbre": -50, "sound_effects": "robotic"},
        "subtitle_enable": True,
    },
}
CLONE_SOURCE = ("https://drz0f01yeq1cx.cloudfront.net/1755534706613-000a30e917d848d9bd166b636530ae21-"
                "38a696952ca94b9eb9ecf07ced494a58.mp3")
CLONE_EXAMPLE: dict[str, Any] = {
    "source_voice_file": CLONE_SOURCE, "name": "My Voice",
    "voice_options": {"remove_background_noise": True, "style": ["Authoritative", "Calm", "Confident", "Enthusiastic"],
                      "gender": ["Male"], "age": ["Elderly"], "scenario": ["Advertisenment"], "language": "en",
                      "clone_prompt": PEONY, "need_volume_normalization": True},
    "voice_model_name": "Akool Multilingual 3", "webhookUrl": "",
}
CHANGE_SOURCE = "https://drz0f01yeq1cx.cloudfront.net/1749098405491-5858-1749019840512audio.mp3"
CHANGE_EXAMPLE: dict[str, Any] = {
    "voice_id": "6889b628662160e2caad5dbc", "source_voice_file": CHANGE_SOURCE,
    "voice_options": {"stability": 0.9, "similarity_boost": 0.7, "style": 1, "speaker_boost": False,
                      "remove_background_noise": True, "speed": 1, "file_format": "mp3"},
    "voice_model_name": "Akool Multilingual 1", "webhookUrl": "",
}

# Endpoints and inputs of the tests of unknown voices (across every route that takes a voice) and language codes.
TTS = "/api/open/v4/voice/tts"
CLONE = "/api/open/v4/voice/clone"
CHANGE = "/api/open/v4/voice/change"
LEGACY_TTS = "/api/open/v3/audio/create"
LEGACY_CLONE = "/api/open/v3/audio/clone"
TALKING_AVATAR = "/api/open/v3/talkingavatar/create"
AUDIO = "https://example.com/audio.mp3"
SPEECH = "https://example.com/speech.mp3"
VOICE = "6889b628662160e2caad5dbc"  # the examples' voice_id (pages 34, 42)


_ok = functools.partial(ok, msg="OK")  # VoiceLab answers also say "OK"


def _resource(http: httpx.Client, _id: str) -> dict[str, Any]:
    return _ok(http.get(f"/api/open/v4/voice/resource/detail/{_id}"))["result"]


def test_tts_example_body_runs_to_a_downloadable_mp3(sb: af.Sandbox) -> None:
    assert len(PEONY) == 1146
    with akool(sb) as http:
        data = _ok(http.post("/api/open/v4/voice/tts", json=TTS_EXAMPLE))
        assert isinstance(data["_id"], str) and len(data["_id"]) == 24
        assert data["status"] in (1, 2) and data["preview"] is None and data["duration"] == 0
        assert data["deduction_credit"] == pytest.approx(5.0424, abs=1e-9)  # 1146 chars x 4.4 / 1000 (pro)
        assert isinstance(data["deduction_credit"], float)
        assert data["input_text"] == PEONY and data["voice_model_id"] == "6889b628662160e2caad5dbc"
        assert isinstance(data["voice_id"], str) and data["file_name"].endswith(".mp3")
        assert {"create_time", "uid", "team_id", "webhookUrl", "gender", "name", "voice_options"} <= data.keys()
        done = poll(lambda: _resource(http, data["_id"]), lambda r: r["status"] == 3)
        assert done["_id"] == data["_id"] and done["deduction_credit"] == data["deduction_credit"]
        assert done["update_time"] > 0 and done["language_code"] == "zh" and done["priority"] == 2
        audio = httpx.get(done["preview"], timeout=10)
    assert audio.status_code == 200
    assert done["duration"] == pytest.approx(1146 / 15 * 1000, abs=36)  # 15 chars/s, in whole 36 ms MP3 frames
    assert media_seconds(audio.content, "mp3") == pytest.approx(done["duration"] / 1000, abs=0.1)
    assert sb.stats()["credits_charged"] == pytest.approx(5.0424)


def test_voice_clone_example_body_yields_a_voice(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        data = _ok(http.post("/api/open/v4/voice/clone", json=CLONE_EXAMPLE))
        assert data["voice_id"] is None and data["preview"] is None and data["status"] == 1
        assert data["deduction_credit"] == 0 and data["source_voice_file"] == CLONE_SOURCE
        assert data["gender"] == "Male" and data["style"] == CLONE_EXAMPLE["voice_options"]["style"]
        assert data["duration"] == 8000  # the source's length (the sandbox default for unknown URLs)
        detail = poll(lambda: _ok(http.get(f"/api/open/v4/voice/detail/{data['_id']}")), lambda d: d["status"] == 3)
        assert isinstance(detail["voice_id"], str) and len(detail["voice_id"]) == 64  # a Multilingual 3 id
        assert detail["voice_model_name"] == "Akool Multilingual 3" and detail["support_stream"] is True
        assert (detail["language"], detail["locale"]) == ("English", "en")
        listed = _ok(http.get("/api/open/v4/voice/list", params={"type": 1}))
        assert [v["_id"] for v in listed["result"]] == [data["_id"]]
        preview = httpx.get(detail["preview"], timeout=10)
        # The new voice is usable by TTS, by its voice_id.
        tts = _ok(http.post("/api/open/v4/voice/tts", json={"input_text": "Hello there.", "voice_id": detail["voice_id"]}))
        assert tts["voice_model_id"] == data["_id"]
    assert preview.status_code == 200 and media_seconds(preview.content, "mp3") == pytest.approx(5.0, abs=0.1)
    assert sb.stats()["creates_by_endpoint"]["/api/open/v4/voice/clone"] == 1


def test_voice_change_example_costs_0_512_on_business(make_sandbox: Any) -> None:
    sb = make_sandbox(plan="business", media={CHANGE_SOURCE: 12.8})
    with akool(sb) as http:
        data = _ok(http.post("/api/open/v4/voice/change", json=CHANGE_EXAMPLE))
        assert data["deduction_credit"] == 0.512 and data["duration"] == 12800
        assert data["preview"] is None and data["status"] == 1 and data["source_voice_file"] == CHANGE_SOURCE
        assert data["file_name"] == "1749098405491-5858-1749019840512audio.mp3"
        done = poll(lambda: _resource(http, data["_id"]), lambda r: r["status"] == 3)
        audio = httpx.get(done["preview"], timeout=10)
    assert media_seconds(audio.content, "mp3") == pytest.approx(12.8, abs=0.1)
    assert sb.stats()["credits_charged"] == 0.512


def test_tts_117_characters_on_pro_costs_0_5148(sb: af.Sandbox) -> None:
    assert len(POLISH_117) == 117
    with akool(sb) as http:
        data = _ok(http.post("/api/open/v4/voice/tts", json={"input_text": POLISH_117, "voice_id": "6889b628662160e2caad5dbc"}))
    assert data["deduction_credit"] == 0.5148
    assert sb.stats()["credits_charged"] == 0.5148


@pytest.mark.parametrize(("plan", "limit"), [("pro", 5000), ("max", 10000)])
def test_text_over_the_plan_limit_is_refused(make_sandbox: Any, plan: str, limit: int) -> None:
    sb = make_sandbox(plan=plan)
    with akool(sb) as http:
        body = http.post("/api/open/v4/voice/tts",
                         json={"input_text": "a" * (limit + 1), "voice_id": "6889b628662160e2caad5dbc"}).json()
        assert body["code"] == 1003 and "input_text" in body["msg"] and str(limit) in body["msg"]
        assert sb.stats()["creates"] == 0
        _ok(http.post("/api/open/v4/voice/tts", json={"input_text": "a" * limit, "voice_id": "6889b628662160e2caad5dbc"}))


@pytest.mark.parametrize(("path", "body", "missing"), [
    ("/api/open/v4/voice/tts", {"input_text": "Hi"}, "voice_id"),
    ("/api/open/v4/voice/tts", {"voice_id": "6889b628662160e2caad5dbc"}, "input_text"),
    ("/api/open/v4/voice/change", {"voice_id": "6889b628662160e2caad5dbc"}, "source_voice_file"),
    ("/api/open/v4/voice/clone", {"name": "x"}, "source_voice_file"),
])
def test_missing_required_field_is_named_and_nothing_is_created(sb: af.Sandbox, path: str, body: dict[str, Any],
                                                                missing: str) -> None:
    with akool(sb) as http:
        answer = http.post(path, json=body).json()
    assert answer["code"] == 1003 and missing in answer["msg"] and "required" in answer["msg"]
    assert sb.stats()["creates"] == 0


def test_out_of_range_option_and_unknown_voice_are_refused(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        speed = http.post("/api/open/v4/voice/tts", json={**TTS_EXAMPLE, "voice_options": {"speed": 2}}).json()
        voice = http.post("/api/open/v4/voice/tts", json={"input_text": "Hi", "voice_id": "nope"}).json()
    assert speed["code"] == 1003 and "voice_options.speed" in speed["msg"]
    # An unknown voice is 1008 "content not exist" (error-code page), as real clients meet it (issue 9).
    assert voice["code"] == 1008 and "voice_id" in voice["msg"] and "does not exist" in voice["msg"]
    assert sb.stats()["creates"] == 0


def test_failed_tts_shows_status_4_and_is_refunded(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0, faults=af.Faults(job_fail=1.0))
    with akool(sb) as http:
        data = _ok(http.post("/api/open/v4/voice/tts", json={"input_text": POLISH_117, "voice_id": "6889b628662160e2caad5dbc"}))
        assert sb.stats()["balances"]["akool"] == pytest.approx(1_000_000 - 0.5148)
        sb.advance(3600)  # real-time clock: charged until the clock moves, then failed and refunded
        done = poll(lambda: _resource(http, data["_id"]), lambda r: r["status"] in (3, 4))
    assert done["status"] == 4 and done["preview"] is None  # no failure-reason field is documented
    stats = sb.stats()
    assert stats["credits_charged"] == 0 and stats["balances"]["akool"] == 1_000_000


def test_resource_list_pages(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        ids = [_ok(http.post("/api/open/v4/voice/tts",
                             json={"input_text": f"Text {i}", "voice_id": "6889b628662160e2caad5dbc"}))["_id"]
               for i in range(3)]
        first = _ok(http.get("/api/open/v4/voice/resource/list", params={"type": 1, "page": 1, "size": 2}))
        second = _ok(http.get("/api/open/v4/voice/resource/list", params={"type": "1", "page": "2", "size": "2"}))
        changes = _ok(http.get("/api/open/v4/voice/resource/list", params={"type": 2}))
        missing = http.get("/api/open/v4/voice/resource/list").json()
    assert (first["count"], first["page"], first["size"], len(first["result"])) == (3, 1, 2, 2)
    assert (second["count"], second["page"], second["size"], len(second["result"])) == (3, 2, 2, 1)
    assert {r["_id"] for r in first["result"] + second["result"]} == set(ids)
    assert first["result"][0]["_id"] == ids[-1]  # newest first
    assert changes == {"result": [], "count": 0, "page": 1, "size": 10}
    assert missing["code"] == 1003 and "type" in missing["msg"]


def test_voice_list_pages_and_filters(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        page = _ok(http.get("/api/open/v4/voice/list", params={"type": 2, "page": 3, "size": 5}))
        default = _ok(http.get("/api/open/v4/voice/list", params={"type": 2}))
        female = _ok(http.get("/api/open/v4/voice/list", params={"type": 2, "gender": "Female", "size": 100}))
        clones = _ok(http.get("/api/open/v4/voice/list", params={"type": 1}))
        preview = httpx.get(default["result"][0]["preview"], timeout=10)
    assert (page["count"], page["page"], page["size"], len(page["result"])) == (12, 3, 5, 2)
    assert (default["page"], default["size"], len(default["result"])) == (1, 10, 10)
    assert default["result"][0]["_id"] == "6889b628662160e2caad5dbc"
    assert female["count"] == len(female["result"]) > 0 and {v["gender"] for v in female["result"]} == {"Female"}
    assert clones["count"] == 0
    assert preview.status_code == 200 and media_seconds(preview.content, "mp3") == pytest.approx(4.0, abs=0.1)


# ----------------------------------------------------------------------------- unknown voices: 1008 on every route
@pytest.fixture
def box(make_sandbox: Any) -> af.Sandbox:
    return make_sandbox(media={AUDIO: 7.5, SPEECH: 12.0})


@pytest.fixture
def c(box: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(box) as client:
        yield client


UNKNOWN = "NoSuchVoice0000000000"
POSITION = {"scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0}
UNKNOWN_VOICE_BODIES = {
    TTS: {"input_text": "Hello there", "voice_id": UNKNOWN},
    CHANGE: {"voice_id": UNKNOWN, "source_voice_file": SPEECH},
    LEGACY_TTS: {"input_text": "Hello there", "voice_id": UNKNOWN, "rate": "100%"},
    LEGACY_CLONE: {"input_text": "Hello there", "voice_id": UNKNOWN, "rate": "100%"},
    TALKING_AVATAR: {"width": 3840, "height": 2160, "avatar_from": 2, "elements": [
        {"type": "avatar", "avatar_id": "Yasmin_in_White_shirt_20231121", **POSITION},
        {"type": "audio", "input_text": "Hello there", "voice_id": UNKNOWN}]},
}


@pytest.mark.parametrize("path", list(UNKNOWN_VOICE_BODIES))
def test_unknown_voice_is_1008(box: af.Sandbox, c: httpx.Client, path: str) -> None:
    """Page 06 (error-code): "1008 | content not exist" — what real clients meet for an unknown voice ("does not
    exist" / "voice not found"), not 1003; VoiceLab (page 42) tts/change, legacy v3 audio create/clone (seed 000,
    catalog part 3), talking-avatar audio elements (page 34)."""
    answer = c.post(path, json=UNKNOWN_VOICE_BODIES[path]).json()
    assert answer["code"] == 1008, answer
    assert "does not exist" in answer["msg"] and "voice not found" in answer["msg"] and UNKNOWN in answer["msg"]
    assert box.stats()["creates"] == 0 and box.stats()["credits_charged"] == 0


def test_known_voices_still_pass_and_a_url_wins_over_the_voice(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 34: "If both the URL and the input text fields are passed, the URL takes precedence": the voice is
    then not looked up. Page 42: the example voice id works."""
    ok(c.post(TTS, json={"input_text": "Hello there", "voice_id": VOICE}), msg="OK")
    body = UNKNOWN_VOICE_BODIES[TALKING_AVATAR]
    body = {**body, "elements": [body["elements"][0], {**body["elements"][1], "url": AUDIO}]}
    ok(c.post(TALKING_AVATAR, json=body))


# ----------------------------------------------------------------------------- ISO 639-1 language codes
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
