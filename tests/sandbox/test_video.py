"""Sandbox family: Akool video products on v3 content/video (talking photo, lip sync, video translation, character
swap) against the documentation: the examples, validation, credits, failures, and several languages in one
translation create. Talking avatar and avatars are in test_talking_avatar.py."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import poll
from tests.sandbox.conftest import ok, param_error, refused, video_finished, video_info, video_seconds

INFO = "/api/open/v3/content/video/infobymodelid"
TRANSLATE = "/api/open/v3/content/video/createbytranslate"
HEX24 = re.compile(r"[0-9a-f]{24}")
MY_VIDEO = "https://example.com/my-video.mp4"

# Inputs the sandbox cannot fetch, declared with their durations (seconds).
MEDIA = {
    "https://example.com/audio.mp3": 7.5,
    "https://d11fbe263bhqij.cloudfront.net/agicontent/video/global_reach/Global_reach_EN_01.mp4": 11.7,
    "https://drz0f01yeq1cx.cloudfront.net/1712719410293-driving_audio_2.wav": 11.7,
    "https://example.com/my-video.mp4": 30.0,
    "https://example.com/business-video.mp4": 14.0,
    "https://example.com/long-video.mp4": 61.0,
    "https://example.com/long-motion.mp4": 150.0,
    "https://drz0f01yeq1cx.cloudfront.net/source-video.mp4": 10.0,
    "https://example.com/target-video.mp4": 12.0,
}

SWAP_EXAMPLE: dict[str, Any] = {
    "image": "https://drz0f01yeq1cx.cloudfront.net/character-image.png",
    "video": "https://drz0f01yeq1cx.cloudfront.net/source-video.mp4", "duration": 10, "resolution": "720p",
    "mode": "animate", "prompt": "Smooth character animation with natural movement",
    # The docs' example says https://your-callback-url.com/webhook; the sandbox would call it: a loopback port
    # where nothing listens keeps the callback on this machine (the tests' network guard).
    "webhookurl": "http://127.0.0.1:9/webhook",
}


# ----------------------------------------------------------------------------- talking photo
def test_talking_photo_example_completes_with_the_audio_length(box: af.Sandbox, c: httpx.Client) -> None:
    example = {"talking_photo_url": "https://example.com/photo.jpg", "audio_url": "https://example.com/audio.mp3",
               "resolution": "720", "webhookUrl": ""}
    data = ok(c.post("/api/open/v3/content/video/createbytalkingphoto", json=example))
    assert HEX24.fullmatch(data["_id"]) and data["video_status"] == 1 and data["video"] == ""
    done = video_finished(c, data["_id"])
    assert done["video_status"] == 3 and done["_id"] == data["_id"]
    assert video_seconds(done["video"]) == pytest.approx(7.5, abs=0.05)
    # No documented price: the default is 10 credits per started 10 s of output.
    assert box.stats()["credits_charged"] == 10


def test_talking_photo_prompt_example_and_chain_from_tts(box: af.Sandbox, c: httpx.Client) -> None:
    voice = ok(c.get("/api/open/v4/voice/list", params={"type": 2}))["result"][0]
    text = "Hello there, this is a sandbox speech that will drive a talking photo video."
    tts = ok(c.post("/api/open/v4/voice/tts", json={"input_text": text, "voice_id": voice["voice_id"]}))
    speech = poll(lambda: ok(c.get(f"/api/open/v4/voice/resource/detail/{tts['_id']}"))["result"],
                  lambda r: r["status"] == 3)
    body = {"talking_photo_url": "https://example.com/photo.jpg", "audio_url": speech["preview"],
            "prompt": "Throughout the entire video, maintain natural and smooth hand movements.",
            "resolution": "1080", "webhookUrl": ""}
    data = ok(c.post("/api/open/v3/content/video/createbytalkingphoto", json=body))
    done = video_finished(c, data["_id"])
    assert done["resolution"] == "1080"
    assert video_seconds(done["video"]) == pytest.approx(speech["duration"] / 1000, abs=0.05)


def test_talking_photo_validation(box: af.Sandbox, c: httpx.Client) -> None:
    path = "/api/open/v3/content/video/createbytalkingphoto"
    param_error(c.post(path, json={"talking_photo_url": "https://example.com/photo.jpg"}), "audio_url")
    param_error(c.post(path, json={"talking_photo_url": "https://example.com/p.jpg", "audio_url": "https://example.com/audio.mp3",
                                    "resolution": "720p"}), "resolution")
    assert box.stats()["creates"] == 0


# ----------------------------------------------------------------------------- lip sync
def test_lip_sync_example_matches_the_documented_durations(box: af.Sandbox, c: httpx.Client) -> None:
    example = {"video_url": "https://d11fbe263bhqij.cloudfront.net/agicontent/video/global_reach/Global_reach_EN_01.mp4",
               "audio_url": "https://drz0f01yeq1cx.cloudfront.net/1712719410293-driving_audio_2.wav", "webhookUrl": ""}
    data = ok(c.post("/api/open/v3/content/video/lipsync", json=example))
    assert HEX24.fullmatch(data["_id"]) and data["video_status"] == 1 and data["video"] == ""
    # The example's own numbers: an 11.7 s input locks 20 (10 s blocks).
    assert data["video_lock_duration"] == 11.7 and data["deduction_lock_duration"] == 20
    assert data["input_audio"] == example["audio_url"] and data["target_video"] == example["video_url"]
    done = video_finished(c, data["_id"])
    assert done["video_status"] == 3
    assert video_seconds(done["video"]) == pytest.approx(11.7, abs=0.05)
    assert box.stats()["credits_charged"] == 20
    param_error(c.post("/api/open/v3/content/video/lipsync", json={"video_url": example["video_url"]}), "audio_url")
    assert box.stats()["creates"] == 1


# ----------------------------------------------------------------------------- video translation
def test_video_translation_single_language_example(box: af.Sandbox, c: httpx.Client) -> None:
    example = {"url": "https://example.com/my-video.mp4", "source_language": "DEFAULT", "language": "es", "lipsync": True}
    data = ok(c.post("/api/open/v3/content/video/createbytranslate", json=example))
    assert HEX24.fullmatch(data["_id"]) and data["video_status"] == 1 and data["video"] == ""
    assert data["language"] == "es" and data["translation_ids"] == [data["_id"]]
    done = video_finished(c, data["_id"])
    assert done["video_status"] == 3 and "error_code" not in done
    assert video_seconds(done["video"]) == pytest.approx(30.0, abs=0.05)
    assert box.stats()["credits_charged"] == 30
    # Lip-synced translation of the same video into the same language, again: 1202.
    assert c.post("/api/open/v3/content/video/createbytranslate", json=example).json()["code"] == 1202


def test_video_translation_multi_language_makes_one_job_per_language(box: af.Sandbox, c: httpx.Client) -> None:
    example = {"url": "https://example.com/my-video.mp4", "source_language": "DEFAULT", "language": "es,fr,de",
               "lipsync": False, "caption_type": 2, "remove_bgm": True}
    answer = c.post("/api/open/v3/content/video/createbytranslate", json=example).json()
    assert answer["code"] == 1000 and len(answer["data"]["translation_ids"]) == 3
    assert [r["data"]["language"] for r in answer["all_results"]] == ["es", "fr", "de"]
    assert [r["data"]["_id"] for r in answer["all_results"]] == answer["data"]["translation_ids"]
    assert answer["data"]["_id"] == answer["data"]["translation_ids"][0]
    for job_id in answer["data"]["translation_ids"]:
        done = video_finished(c, job_id)
        assert done["video_status"] == 3 and done["remove_bgm"] is True and done["caption_type"] == 2
        assert video_seconds(done["video"]) == pytest.approx(30.0, abs=0.05)
    assert box.stats()["credits_charged"] == 90 and box.stats()["duplicate_creates"] == 0


def test_one_create_translates_into_each_language_of_page_38(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 38 ("es,fr,de"; page 45, October 2025): one translation, and one charge, per distinct language, each
    code checked against the language list; a wrong one refuses the whole create."""
    one = ok(c.post(TRANSLATE, json={"url": MY_VIDEO, "language": "es"}))
    charged = box.stats()["credits_charged"]
    answer = c.post(TRANSLATE, json={"url": MY_VIDEO, "language": "es, fr,de,fr"}).json()
    assert [r["data"]["language"] for r in answer["all_results"]] == ["es", "fr", "de"]
    assert box.stats()["credits_charged"] == charged * 4 and box.stats()["jobs"] == 4
    assert one["language"] == "es" and all(r["code"] == 1000 for r in answer["all_results"])
    refused(c.post(TRANSLATE, json={"url": MY_VIDEO, "language": "es,xx"}), 1003, "language", "'xx'")
    assert box.stats()["jobs"] == 4 and box.stats()["creates"] == 2


def test_video_translation_advanced_example_and_webhook(box: af.Sandbox, c: httpx.Client) -> None:
    example = {"url": "https://example.com/business-video.mp4", "source_language": "DEFAULT", "language": "zh-CN",
               "lipsync": True, "studio_voice": {"style": "professional", "no_translate_words": ["AKool", "API"],
                                                  "fixed_words": {"hello": "您好"}},
               "caption_type": 3, "webhookUrl": box.webhook_sink_url}
    data = ok(c.post("/api/open/v3/content/video/createbytranslate", json=example))
    done = video_finished(c, data["_id"])
    assert done["video_status"] == 3 and video_seconds(done["video"]) == pytest.approx(14.0, abs=0.05)
    sink = poll(box.sink, lambda s: len(s) >= 1)
    assert sink[0]["accepted"] and sink[0]["data"] == {"_id": data["_id"], "status": 3, "type": "video translate",
                                                        "url": done["video"]}


def test_video_translation_limits_and_languages(box: af.Sandbox, c: httpx.Client) -> None:
    path = "/api/open/v3/content/video/createbytranslate"
    too_long = c.post(path, json={"url": "https://example.com/long-video.mp4", "language": "es"}).json()
    assert too_long["code"] == 1204 and too_long["msg"] == "Your video duration exceeds 60 seconds"
    param_error(c.post(path, json={"url": "https://example.com/my-video.mp4", "language": "es,xx"}), "language")
    param_error(c.post(path, json={"url": "https://example.com/my-video.mp4"}), "language")
    param_error(c.post(path, json={"language": "es"}), "url")
    assert box.stats()["creates"] == 0
    languages = ok(c.get("/api/open/v3/language/list"))["lang_list"]
    assert len(languages) == 20 and {"es", "fr", "de", "zh-CN"} <= {lang["lang_code"] for lang in languages}
    assert all(isinstance(lang["lang_name"], str) and lang["url"].endswith(".png") for lang in languages)


def test_video_translation_failure_fields(failing: tuple[af.Sandbox, httpx.Client]) -> None:
    box, c = failing
    data = ok(c.post("/api/open/v3/content/video/createbytranslate",
                      json={"url": "https://example.com/my-video.mp4", "language": "es,fr"}))
    for job_id in data["translation_ids"]:
        done = video_finished(c, job_id)
        assert done["video_status"] == 4 and done["video"] == ""
        assert done["error_code"] == 1205 and isinstance(done["error_reason"], str) and done["error_reason"]
    assert box.stats()["credits_charged"] == 0 and box.stats()["balances"]["akool"] == 1_000_000


# ----------------------------------------------------------------------------- character swap
def test_character_swap_example(box: af.Sandbox, c: httpx.Client) -> None:
    data = ok(c.post("/api/open/v4/characterSwap/create", json={**SWAP_EXAMPLE, "webhookurl": box.webhook_sink_url}))
    # Create: `status` (not video_status), mode and model_name, no video yet.
    assert HEX24.fullmatch(data["_id"]) and data["status"] == 1 and "video_status" not in data
    assert data["deduction_credit"] == 20 and data["video_duration"] == 10 and data["resolution"] == "720p"
    assert data["file_name"] == f"CharacterSwap_{data['create_time']}.mp4"
    assert data["mode"] == "animate" and data["model_name"] == "wavespeed-ai/wan-2.2/animate"
    assert data["webhookUrl"] == box.webhook_sink_url and "video" not in data and "update_time" not in data
    assert data["image_url"] == SWAP_EXAMPLE["image"] and data["video_url"] == SWAP_EXAMPLE["video"]
    queued = video_info(c, data["_id"])
    assert "status" not in queued and "mode" not in queued and queued["video_status"] in (1, 2, 3)
    done = video_finished(c, data["_id"])
    assert done["video_status"] == 3 and done["deduction_credit"] == 20 and done["update_time"] >= done["create_time"]
    assert "faceswap_fail_reason" not in done
    assert video_seconds(done["video"]) == pytest.approx(10.0, abs=0.05)
    assert box.stats()["credits_charged"] == 20
    sink = poll(box.sink, lambda s: len(s) >= 1)
    assert sink[0]["data"]["_id"] == data["_id"] and sink[0]["data"]["status"] == 3


def test_character_swap_documented_credits(box: af.Sandbox, c: httpx.Client) -> None:
    path = "/api/open/v4/characterSwap/create"
    # "a 12-second video at 720p resolution would cost 30 credits"
    assert ok(c.post(path, json={**SWAP_EXAMPLE, "duration": 12}))["deduction_credit"] == 30
    # Face replacement example: no duration, detected from the 12 s video -> 30.
    replace = {"image": "https://example.com/character-face.png", "video": "https://example.com/target-video.mp4",
               "resolution": "720p", "mode": "replace", "model_name": "wavespeed-ai/wan-2.2/animate", "webhookurl": ""}
    detected = ok(c.post(path, json=replace))
    assert detected["deduction_credit"] == 30 and detected["video_duration"] == 12 and detected["mode"] == "replace"
    assert ok(c.post(path, json={**SWAP_EXAMPLE, "duration": 7, "resolution": "480p"}))["deduction_credit"] == 10
    assert ok(c.post(path, json={**SWAP_EXAMPLE, "duration": 15, "resolution": "1080p"}))["deduction_credit"] == 45
    assert box.stats()["credits_charged"] == 30 + 30 + 10 + 45
    done = video_finished(c, detected["_id"])
    assert video_seconds(done["video"]) == pytest.approx(12.0, abs=0.05)


def test_character_swap_validation(box: af.Sandbox, c: httpx.Client) -> None:
    path = "/api/open/v4/characterSwap/create"
    param_error(c.post(path, json={k: v for k, v in SWAP_EXAMPLE.items() if k != "image"}), "image")
    param_error(c.post(path, json={**SWAP_EXAMPLE, "duration": 121}), "duration")
    param_error(c.post(path, json={**SWAP_EXAMPLE, "resolution": "4k"}), "resolution")
    param_error(c.post(path, json={**SWAP_EXAMPLE, "mode": "morph"}), "mode")
    param_error(c.post(path, json={**SWAP_EXAMPLE, "prompt": "x" * 501}), "prompt")
    param_error(c.post(path, json={**{k: v for k, v in SWAP_EXAMPLE.items() if k != "duration"},
                                    "video": "https://example.com/long-motion.mp4"}), "120 seconds")
    assert box.stats()["creates"] == 0
    assert c.get(INFO, params={"video_model_id": "0" * 24}).json()["code"] == 1008
    param_error(c.get(INFO), "video_model_id")


def test_character_swap_failed_job_shows_reason_and_zero_credits(failing: tuple[af.Sandbox, httpx.Client]) -> None:
    box, c = failing
    data = ok(c.post("/api/open/v4/characterSwap/create", json=SWAP_EXAMPLE))
    assert data["deduction_credit"] == 20 and data["status"] == 1  # charged at create
    done = video_finished(c, data["_id"])
    assert done["video_status"] == 4 and done["deduction_credit"] == 0 and "video" not in done
    assert done["faceswap_fail_reason"] == "Failed to process the video. Please check your input resources."
    assert isinstance(done["update_time"], int)
    assert box.stats()["credits_charged"] == 0 and box.stats()["balances"]["akool"] == 1_000_000
