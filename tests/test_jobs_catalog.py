"""The job catalog: every job of PRODUCT.md's table, its documented examples, and its validation messages."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from akool_frames.catalog import JOBS, PLAN_TEXT_LIMITS, JobSpec, get_job, get_path, validate_body
from akool_frames.pricing._rules import Price, PriceContext, rule

# PRODUCT.md "Jobs": job -> (end of the create path, end of the poll path)
TABLE = {
    "tts": ("v4/voice/tts", "v4/voice/resource/detail/{id}"),
    "voice_clone": ("v4/voice/clone", "v4/voice/detail/{id}"),
    "voice_change": ("v4/voice/change", "v4/voice/resource/detail/{id}"),
    "legacy_tts": ("v3/audio/create", "v3/audio/infobymodelid"),
    "legacy_voice_clone": ("v3/audio/clone", "v3/audio/infobymodelid"),
    "talking_photo": ("v3/content/video/createbytalkingphoto", "v3/content/video/infobymodelid"),
    "talking_avatar": ("v3/talkingavatar/create", "v3/content/video/infobymodelid"),
    "avatar_upload": ("v3/avatar/create", "v3/avatar/detail"),
    "image_to_video": ("v4/image2Video/createBySourcePrompt", "v4/image2Video/resultsByIds"),
    "video_audio": ("v4/image2Video/updateVideoAudio", "v4/image2Video/resultsByIds"),
    "lip_sync": ("v3/content/video/lipsync", "v3/content/video/infobymodelid"),
    "video_translation": ("v3/content/video/createbytranslate", "v3/content/video/infobymodelid"),
    "faceswap_image": ("v3/faceswap/highquality/specifyimage", "faceswap/result/listbyids"),
    "faceswap_video": ("v3/faceswap/highquality/specifyvideo", "faceswap/result/listbyids"),
    "faceswap_pro": ("v4/faceswap/faceswapByImage", "faceswap/result/listbyids"),
    "reage_image": ("v3/faceswap/highquality/imgreage", "faceswap/result/listbyids"),
    "reage_video": ("v3/faceswap/highquality/vidreage", "faceswap/result/listbyids"),
    "background_change": ("v3/content/image/bg/replace", "v3/content/image/infobymodelid"),
    "image_generate": ("v3/content/image/createbyprompt", "v3/content/image/infobymodelid"),
    "image_button": ("v3/content/image/createbybutton", "v3/content/image/infobymodelid"),
    "character_swap": ("v4/characterSwap/create", "v3/content/video/infobymodelid"),
    "moderation": ("content/analysis/sentiment", "content/analysis/infobyid"),
    "audiocleaner.tts": ("tts/task/create", "tts/task/get"),
    "kling.custom_voice": ("v1/general/custom-voices", "custom-voices/{id}"),
    "detect_faces": ("interface/detect-api/detect_faces", None),  # answered at once: nothing polled
}

CDN = "https://drz0f01yeq1cx.cloudfront.net"
PEONY = ("In late spring, the peony garden awakens with layers of petals of the Yao Huang and Wei Zi varieties. "
         "When the morning dew has not yet dried, the edges of the petals are glistening.")  # shortened from the page

# The documented request examples, as the pages give them (long texts shortened). Where a page lost its
# example (faceswap v3, legacy clone) the body is built from the fields its prose names; marked "built".
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "tts": [{
        "input_text": PEONY, "voice_id": "6889b628662160e2caad5dbc",
        "voice_options": {"stability": 0.6, "similarity_boost": 0.8, "style": 1, "speed": 1.0,
                          "speaker_boost": True, "emotion": "happy", "volume": 80},
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
            "subtitle_enable": True}}],
    "voice_clone": [{
        "source_voice_file": f"{CDN}/1755534706613-000a30e917d848d9bd166b636530ae21-"
                             "38a696952ca94b9eb9ecf07ced494a58.mp3",
        "name": "My Voice",
        "voice_options": {"remove_background_noise": True,
                          "style": ["Authoritative", "Calm", "Confident", "Enthusiastic"], "gender": ["Male"],
                          "age": ["Elderly"], "scenario": ["Advertisenment"], "language": "en",
                          "clone_prompt": PEONY, "need_volume_normalization": True},
        "voice_model_name": "Akool Multilingual 3", "webhookUrl": ""}],
    "voice_change": [{
        "voice_id": "6889b628662160e2caad5dbc", "source_voice_file": f"{CDN}/1749098405491-5858-1749019840512audio.mp3",
        "voice_options": {"stability": 0.9, "similarity_boost": 0.7, "style": 1, "speaker_boost": False,
                          "remove_background_noise": True, "speed": 1, "file_format": "mp3"},
        "voice_model_name": "Akool Multilingual 1", "webhookUrl": ""}],
    "legacy_tts": [{"input_text": "Choose from male and female voices", "voice_id": "LcfcDJNUP1GQjkzn1xUU",
                    "rate": "100%", "webhookUrl": ""}],
    "legacy_voice_clone": [{"input_text": "Hello there", "rate": "100%", "voice_url": f"{CDN}/sample.mp3",
                            "webhookUrl": ""}],  # built
    "talking_photo": [
        {"talking_photo_url": "https://example.com/photo.jpg", "audio_url": "https://example.com/audio.mp3",
         "resolution": "720", "webhookUrl": ""},
        {"talking_photo_url": "https://example.com/photo.jpg", "audio_url": "https://example.com/audio.mp3",
         "prompt": "Throughout the entire video, maintain natural and smooth hand movements.", "resolution": "1080",
         "webhookUrl": ""}],
    "talking_avatar": [{
        "width": 3840, "height": 2160, "avatar_from": 3,
        "elements": [
            {"type": "image", "url": f"{CDN}/1729480978805-talkingAvatarbg.png", "width": 780, "height": 438,
             "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
            {"type": "avatar", "url": f"{CDN}/1735009621724-avatar-7953.mp4", "scale_x": 1, "scale_y": 1,
             "width": 1080, "height": 1080, "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "url": f"{CDN}/1729666642023-audio-6403.mp3", "input_text": "A military parade is",
             "voice_id": "6889b628662160e2caad5dbc"}],
        "webhookUrl": ""}],
    "avatar_upload": [{"url": f"{CDN}/1721197444322-leijun000.mp4", "avatar_id": "HHdEKhn7k7vVBlR5FSi0e",
                       "name": "My Talking Avatar", "type": 1}],
    "lip_sync": [{"video_url": "https://d11fbe263bhqij.cloudfront.net/agicontent/video/global_reach/Global_reach_EN_01.mp4",
                  "audio_url": f"{CDN}/1712719410293-driving_audio_2.wav", "webhookUrl": ""}],
    "video_translation": [
        {"url": "https://example.com/my-video.mp4", "source_language": "DEFAULT", "language": "es", "lipsync": True},
        {"url": "https://example.com/my-video.mp4", "source_language": "DEFAULT", "language": "es,fr,de",
         "lipsync": False, "caption_type": 2, "remove_bgm": True},  # page 38: several languages in one create
        {"url": "https://example.com/business-video.mp4", "source_language": "DEFAULT", "language": "zh-CN",
         "lipsync": True, "studio_voice": {"style": "professional", "no_translate_words": ["AKool", "API"],
                                           "fixed_words": {"hello": "您好"}},
         "caption_type": 3, "webhookUrl": "https://your-server.com/webhook"}],
    "character_swap": [
        {"image": f"{CDN}/character-image.png", "video": f"{CDN}/source-video.mp4", "duration": 10,
         "resolution": "720p", "mode": "animate", "prompt": "Smooth character animation with natural movement",
         "webhookurl": "https://your-callback-url.com/webhook"},
        {"image": f"{CDN}/character-image.png", "video": f"{CDN}/source-video.mp4", "mode": "replace",
         "model_name": "wavespeed-ai/wan-2.2/animate", "webhookurl": ""}],
    "background_change": [
        {"canvas_size": "3840x3840", "template_url": f"{CDN}/ROne.png", "modify_template_size": "3830x3830",
         "overlay_template_x": 5, "overlay_template_y": 5, "origin_img": f"{CDN}/fg.png",
         "modify_origin_img_size": "3830x2145", "overlay_origin_x": 5, "overlay_origin_y": 849},
        {"color_code": "#c9aafb", "canvas_size": "3840x3840", "origin_img": f"{CDN}/fg.png",
         "modify_origin_img_size": "3060x3824", "overlay_origin_x": 388, "overlay_origin_y": 8},
        {"color_code": "#aafbe3", "canvas_size": "3840x3840", "template_url": f"{CDN}/bg.png",
         "modify_template_size": "3828x3828", "overlay_template_x": 2049, "overlay_template_y": -6,
         "origin_img": f"{CDN}/fg.png", "modify_origin_img_size": "3062x3828", "overlay_origin_x": -72,
         "overlay_origin_y": -84},
        {"canvas_size": "3840x3840", "origin_img": f"{CDN}/fg.png", "modify_origin_img_size": "3060x3824",
         "overlay_origin_x": 388, "overlay_origin_y": 8}],
    "image_generate": [{"prompt": "Sun Wukong is surrounded by heavenly soldiers and generals", "scale": "1:1",
                        "source_image": f"{CDN}/1708333063911-3283.png", "webhookUrl": ""}],
    "image_button": [{"_id": "65d3206b83ccf5ab7d46cdc6", "button": "U2", "webhookUrl": ""}],
    "image_to_video": [
        {"image_url": f"{CDN}/1753772478686-9524-b6e4169bb1b44d5d8361936b3f6eddb8.png",
         "prompt": "Animate this image with smooth camera movement and subtle object motion.",
         "negative_prompt": "blurry, distorted hands, missing fingers", "extend_prompt": True, "resolution": "4k",
         "audio_url": f"{CDN}/1753772497950-9213-1749809724426audio.mp3", "audio_type": 2, "video_length": 10,
         "is_premium_model": True, "effect_code": "squish_89244231312", "webhookurl": ""},
        # the batch example, with count 1 instead of 3: one row is one video
        {"image_url": f"{CDN}/1753772478686-9524-b6e4169bb1b44d5d8361936b3f6eddb8.png",
         "prompt": "Animate this image with smooth camera movement and subtle object motion.",
         "model_name": "seedance-1-0-lite-i2v-250428", "negative_prompt": "blurry, distorted, low quality",
         "extend_prompt": True, "resolution": "720p", "video_length": 5,
         "last_image_url": f"{CDN}/1753772478686-9524-last-frame.png", "count": 1}],
    "video_audio": [{"pre_video_id": "6890830af27dfad2a3e6062d",
                     "audio_url": f"{CDN}/1753772497950-9213-1749809724426audio.mp3", "audio_type": 2}],
    "faceswap_image": [{  # built
        "targetImage": [{"path": f"{CDN}/crop-target.png", "opts": "262,175:363,175:313,215:272,279"}],
        "sourceImage": [{"path": f"{CDN}/crop-source.png", "opts": "2804,2182:3607,1897:3341,2566:3519,2920"}],
        "face_enhance": 0, "modifyImage": f"{CDN}/material.jpg", "webhookUrl": ""}],
    "faceswap_video": [{  # built
        "sourceImage": [{"path": f"{CDN}/crop-source.png", "opts": "262,175:363,175:313,215:272,279"}],
        "targetImage": [{"path": f"{CDN}/crop-target.png", "opts": "1408,786:1954,798:1653,1091:1447,1343"}],
        "face_enhance": 1, "modifyVideo": f"{CDN}/Video10.mp4", "webhookUrl": ""}],
    "faceswap_pro": [{"targetImage": [{"path": "https://example.com/original.jpg"}],
                      "sourceImage": [{"path": "https://example.com/replacement-face.jpg"}],
                      "model_name": "akool_faceswap_image_hq", "face_enhance": False}],
    "reage_image": [{"targetImage": [{"path": "https://d21ksh0k4smeql.cloudfront.net/crop_1695201103793-0234-0-1695201106985-2306.png",
                                      "opts": "2804,2182:3607,1897:3341,2566:3519,2920"}],
                     "face_reage": 10, "modifyImage": "https://d3t6pcz7y7ey7x.cloudfront.net/material1.jpg",
                     "webhookUrl": ""}],
    "reage_video": [{"targetImage": [{"path": "https://static.website-files.org/assets/images/faceswap/crop_1719224038759-3888-0-1719224039439-1517.jpg",
                                      "opts": "1408,786:1954,798:1653,1091:1447,1343"}],
                     "face_reage": 10, "modifyVideo": "https://d3t6pcz7y7ey7x.cloudfront.net/Video10.mp4",
                     "webhookUrl": ""}],
    "moderation": [{"type": 1, "content": f"{CDN}/1714023431475-food.jpg", "webhookUrl": ""},
                   {"type": 4, "content": "some words to check", "language": "en", "input": "no advertising"}],
    # page 09, examples 1, 3 and 4
    "detect_faces": [{"url": "https://example.com/photo.jpg"},
                     {"url": "https://example.com/photo.jpg", "return_face_url": True},
                     {"url": "https://example.com/group_photo.jpg", "single_face": True},
                     {"url": "https://example.com/video.mp4", "num_frames": 10}],
    "audiocleaner.tts": [{"voice_id": 2072, "emotion": 0, "speed": 1, "language": "en",
                          "text": "Hello from Audio Cleaner TTS API."}],
    "kling.custom_voice": [{"video_id": "", "voice_url": "https://p2-kling.klingai.com/kcdn/cdn-kcdn112452/kling-qa-test/out.mp3",
                            "voice_name": "Custom Voice", "callback_url": ""}],
}


def first(job: str, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLES[job][0])
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def test_every_job_of_the_table_is_registered() -> None:
    assert set(JOBS) == set(TABLE)
    assert set(EXAMPLES) == set(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_spec_shape(name: str) -> None:
    spec = get_job(name)
    create, poll = TABLE[name]
    assert spec.create.endswith(create) and spec.status_field and spec.result_field and spec.doc
    assert set(spec.statuses.values()) <= {"queued", "processing", "completed", "failed"}
    assert "completed" in spec.statuses.values()
    if spec.immediate:  # the answer is the result; its error_code != 0 is a refusal, not a failed job
        assert spec.poll is None and poll is None and spec.envelope is not None
        return
    assert spec.poll is not None and spec.poll.path.endswith(poll) and spec.id_path
    assert "failed" in spec.statuses.values()
    assert (spec.poll.id_in == "path") == ("{id}" in spec.poll.path) == (spec.poll.id_param == "")
    assert 1.0 <= spec.poll.every <= 10.0
    assert spec.webhook_field is None or spec.webhook_field in spec.field_names()
    for alias, target in spec.aliases.items():
        assert alias not in spec.field_names(), alias
        assert _documented(spec, target), target
    for name_ in spec.defaults:
        assert name_ in spec.field_names()


def _documented(spec: JobSpec, dotted: str) -> bool:
    fields = spec.fields
    for part in dotted.split("."):
        match = [f for f in fields if f.name == part]
        if not match:
            return False
        fields = match[0].fields
    return True


@pytest.mark.parametrize(("name", "body"), [(n, b) for n, bodies in EXAMPLES.items() for b in bodies])
def test_documented_examples_validate(name: str, body: dict[str, Any]) -> None:
    spec = get_job(name)
    assert validate_body(spec, body, "pro") is None
    assert validate_body(spec, {**spec.defaults, **body}, "pro") is None
    price = rule(spec.price)({**spec.defaults, **body}, PriceContext())
    assert isinstance(price, Price)
    if price.credits is None:  # no price: a reason that says why
        assert price.reason, price
    else:  # a price: a real number of credits, and nothing said against it
        assert math.isfinite(price.credits) and price.credits >= 0 and price.reason is None, price


@pytest.mark.parametrize("name", sorted(TABLE))
def test_missing_required_fields_are_named(name: str) -> None:
    spec = get_job(name)
    required = [f.name for f in spec.fields if f.required]
    if not required:  # detect_faces: url or img, one of them (page 09)
        assert spec.one_of, name
        problem = validate_body(spec, first(name, **{f: ... for group in spec.one_of for f in group}), "pro")
        assert problem is not None and all(f in problem for group in spec.one_of for f in group), problem
        return
    for field in required:
        problem = validate_body(spec, first(name, **{field: ...}), "pro")
        assert problem is not None and field in problem, (field, problem)
        assert validate_body(spec, first(name, **{field: "  "}), "pro") is not None


WRONG: list[tuple[str, dict[str, Any], str]] = [
    # (job, changes, the field the message must name)
    ("tts", {"voice_options": {"speed": "fast"}}, "voice_options.speed"),
    ("tts", {"voice_options": {"speed": 1.5}}, "voice_options.speed"),
    ("tts", {"voice_options": {"volume": 101}}, "voice_options.volume"),
    ("tts", {"voice_options": {"emotion": "bored"}}, "voice_options.emotion"),
    ("tts", {"pitch": 13}, "pitch"),
    ("tts", {"extra_options": {"timber_weights": [{"voice_id": "a", "weight": 1}] * 5}},
     "extra_options.timber_weights"),
    ("tts", {"extra_options": {"timber_weights": [{"voice_id": "a", "weight": 0}]}},
     "extra_options.timber_weights[0].weight"),
    ("tts", {"input_text": 42}, "input_text"),
    ("voice_clone", {"voice_model_name": "Akool Multilingual 2"}, "voice_model_name"),
    ("voice_change", {"voice_options": {"file_format": "ogg"}}, "voice_options.file_format"),
    ("legacy_tts", {"rate": "fast"}, "rate"),
    ("legacy_tts", {"rate": "101%"}, "rate"),
    ("talking_photo", {"resolution": "720p"}, "resolution"),
    ("talking_avatar", {"width": 1920}, "width"),
    ("talking_avatar", {"avatar_from": 1}, "avatar_from"),
    ("avatar_upload", {"avatar_id": "has space"}, "avatar_id"),
    ("character_swap", {"duration": 121}, "duration"),
    ("character_swap", {"duration": 0}, "duration"),
    ("character_swap", {"resolution": "4k"}, "resolution"),
    ("character_swap", {"prompt": "x" * 501}, "prompt"),
    ("character_swap", {"webhookUrl": "https://x"}, "webhookUrl"),  # camelCase is not this endpoint's field
    ("background_change", {"canvas_size": "3840"}, "canvas_size"),
    ("background_change", {"overlay_origin_x": "5"}, "overlay_origin_x"),
    ("image_generate", {"scale": "5:4"}, "scale"),
    ("image_button", {"button": "U5"}, "button"),
    ("image_to_video", {"video_length": 7}, "video_length"),
    ("image_to_video", {"audio_type": 4}, "audio_type"),
    ("image_to_video", {"extend_prompt": "yes"}, "extend_prompt"),
    ("video_audio", {"audio_type": 3}, "audio_type"),
    ("faceswap_image", {"face_enhance": True}, "face_enhance"),
    ("faceswap_pro", {"face_enhance": 1}, "face_enhance"),
    ("faceswap_image", {"targetImage": [{"opts": "1,2:3,4"}]}, "targetImage[0].path"),
    ("reage_image", {"face_reage": 31}, "face_reage"),
    ("reage_video", {"face_reage": -31}, "face_reage"),
    ("moderation", {"type": 5}, "type"),
    ("moderation", {"type": "1"}, "type"),
    ("audiocleaner.tts", {"voice_id": "2072"}, "voice_id"),
    ("audiocleaner.tts", {"emotion": 9}, "emotion"),
    ("audiocleaner.tts", {"speed": 3}, "speed"),
    ("kling.custom_voice", {"voice_name": "x" * 21}, "voice_name"),
    ("video_translation", {"lipsync": "true"}, "lipsync"),
]


@pytest.mark.parametrize(("name", "changes", "field"), WRONG)
def test_wrong_types_and_ranges_are_named(name: str, changes: dict[str, Any], field: str) -> None:
    problem = validate_body(get_job(name), first(name, **changes), "pro")
    assert problem is not None and field in problem, problem


CROSS: list[tuple[str, dict[str, Any], str]] = [
    ("image_to_video", {"audio_url": ...}, "audio_url"),  # audio_type is 2 in the example
    ("image_to_video", {"negative_prompt": ...}, "negative_prompt"),
    ("image_to_video", {"audio_type": ...}, "audio_type"),
    ("image_to_video", {"resolution": "480p"}, "480p"),
    # effect_code: a single-only field on batch (audio_type, audio_url, is_premium_model are not: Akool's demo sends
    # them to the batch create, issue 19)
    ("image_to_video", {"model_name": "seedance-1-0-lite-i2v-250428"}, "effect_code"),
    ("image_to_video", {"count": 3}, "count"),  # count selects the batch create, where audio_type is no field
    ("video_audio", {"audio_url": ...}, "audio_url"),
    ("kling.custom_voice", {"voice_url": ""}, "voice_url / video_id"),
    ("kling.custom_voice", {"video_id": "abc"}, "mutually exclusive"),
    ("legacy_voice_clone", {"voice_url": ...}, "voice_url / voice_id"),
    ("faceswap_image", {"sourceImage": []}, "sourceImage"),
    ("faceswap_video", {"targetImage": [{"path": "a", "opts": "1,1:2,2:3,3:4,4"},
                                        {"path": "b", "opts": "1,1:2,2:3,3:4,4"}]}, "sourceImage has 1"),
    ("faceswap_pro", {"targetImage": [{"path": "a"}, {"path": "b"}]}, "targetImage"),
    ("background_change", {"template_url": ...}, "template_url"),
    ("moderation", {"content": "not a url"}, "content must be a URL"),
    ("video_translation", {"face_enhance": True}, "deprecated"),
    ("video_translation", {"language": " , "}, "no language code"),  # "es,fr,de" is documented (page 38)
]


@pytest.mark.parametrize(("name", "changes", "text"), CROSS)
def test_cross_field_rules(name: str, changes: dict[str, Any], text: str) -> None:
    problem = validate_body(get_job(name), first(name, **changes), "pro")
    assert problem is not None and text in problem, problem


def test_talking_avatar_element_rules() -> None:
    spec = get_job("talking_avatar")
    body = first("talking_avatar")
    body["elements"][2].pop("voice_id")
    assert "elements[2].voice_id" in (validate_body(spec, body, "pro") or "")
    body = first("talking_avatar")
    body["elements"][0].pop("offset_x")
    assert "elements[0].offset_x" in (validate_body(spec, body, "pro") or "")
    body = first("talking_avatar", avatar_from=2)
    assert "avatar_from must be 3" in (validate_body(spec, body, "pro") or "")
    body = first("talking_avatar", avatar_from=2)
    body["elements"][1] = {"type": "avatar", "avatar_id": "Yasmin_in_White_shirt_20231121", "scale_x": 1,
                           "scale_y": 1, "offset_x": 0, "offset_y": 0}
    assert validate_body(spec, body, "pro") is None
    body["elements"][2] = {"type": "audio"}
    assert "elements[2]" in (validate_body(spec, body, "pro") or "")


@pytest.mark.parametrize(("plan", "limit"), [("pro", 5000), ("max", 10000), ("pro_max", 10000), ("business", 50000)])
def test_plan_text_limits(plan: str, limit: int) -> None:
    tts, avatar = get_job("tts"), get_job("talking_avatar")
    assert validate_body(tts, first("tts", input_text="a" * limit), plan) is None
    problem = validate_body(tts, first("tts", input_text="a" * (limit + 1)), plan)
    assert problem is not None and "input_text" in problem and str(limit) in problem
    body = first("talking_avatar")
    body["elements"][2]["input_text"] = "b" * (limit + 1)
    problem = validate_body(avatar, body, plan)
    assert problem is not None and "elements[2].input_text" in problem and plan in problem


@settings(max_examples=60, deadline=None)
@given(plan=st.sampled_from(["pro", "max", "business"]), chunk=st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40), data=st.data())
def test_input_text_limit_property(plan: str, chunk: str, data: st.DataObject) -> None:
    limit = PLAN_TEXT_LIMITS[plan]
    n = data.draw(st.one_of(st.integers(1, limit), st.integers(limit + 1, limit + 500)))
    text = (chunk * (n // len(chunk) + 1))[:n]
    assume(text.strip())
    for job in ("tts", "talking_avatar"):
        spec = get_job(job)
        if job == "tts":
            body = first("tts", input_text=text)
        else:
            body = first("talking_avatar")
            body["elements"][2]["input_text"] = text
        problem = validate_body(spec, body, plan)
        if n <= limit:
            assert problem is None, problem
        else:
            assert problem is not None and "input_text" in problem


def test_a_name_close_to_a_documented_one_is_a_misspelling_at_any_depth() -> None:
    """Issue 9: the misspelling is named (and a misspelled required field does not read as merely missing)."""
    tts = get_job("tts")
    assert validate_body(tts, {"input_txt": "Hi", "voice_id": "v"}, "pro") == \
        "input_txt is not a documented field of tts; did you mean input_text?"
    assert validate_body(tts, {"input_text": "Hi", "voice_id": "v", "voice_options": {"sped": 1.1}}, "pro") == \
        "voice_options.sped is not a documented field of tts; did you mean voice_options.speed?"


def test_other_unknown_fields_are_sent_as_given() -> None:
    """Issue 9: the docs lag the API (official demos send speaker_num, dynamic_duration, voices_map and caption_url
    to video translation): a name like no documented one is no problem, and undocumented() lists it."""
    from akool_frames.catalog import undocumented

    spec = get_job("video_translation")
    body = first("video_translation", speaker_num=2, dynamic_duration=True, voices_map={"a": "b"},
                 caption_url="https://cdn.example.com/c.srt")
    assert validate_body(spec, body, "pro") is None
    assert sorted(undocumented(spec.fields, body)) == [("caption_url", None), ("dynamic_duration", None),
                                                       ("speaker_num", None), ("voices_map", None)]


def test_image_to_video_routes_model_name_to_batch() -> None:
    spec = get_job("image_to_video")
    single = spec.create_for(EXAMPLES["image_to_video"][0])
    assert (single.create, single.id_path, single.create_record, single.batch_records) == \
        (spec.create, "data._id", "data", None)
    batch = spec.create_for(EXAMPLES["image_to_video"][1])
    assert batch.create.endswith("/createBySourcePrompt/batch") and batch.id_path == "data.successList[0]._id"
    answer = {"data": {"successList": [{"_id": "689174694b4dbdd4ab3d28c9", "status": 1}], "errorList": []}}
    assert get_path(answer, batch.id_path) == "689174694b4dbdd4ab3d28c9"
    assert batch.batch_records == "data.successList"  # page 19: count 1-10 videos, all listed there
    assert get_job("tts").create_for({"input_text": "x"}).create == get_job("tts").create


def test_quirks() -> None:
    swap = get_job("character_swap")
    assert (swap.webhook_field, swap.create_status_field, swap.status_field) == ("webhookurl", "status", "video_status")
    assert swap.error_fields == ("faceswap_fail_reason",)
    assert get_job("image_to_video").webhook_field == "webhookurl"
    # image2video#update-video-audio's table has no callback field (issue 9): none is sent
    assert get_job("video_audio").webhook_field is None and "webhookurl" not in get_job("video_audio").field_names()
    # background-change marks webhookUrl required: always sent, empty without a webhook (issue 9)
    assert get_job("background_change").webhook_required and not get_job("tts").webhook_required
    i2v = get_job("image_to_video").poll
    assert (i2v.method, i2v.id_in, i2v.id_param, i2v.many, i2v.records) == ("POST", "body", "_ids", True, "data.result")
    fs = get_job("faceswap_video").poll
    assert (fs.method, fs.id_in, fs.id_param, fs.many, fs.records) == ("GET", "query", "_ids", True, "data.result")
    upload = get_job("avatar_upload")
    answer = {"code": 1000, "data": [{"_id": "655ffeada6976ea317087193", "status": 1}]}
    assert get_path(answer, upload.id_path) == "655ffeada6976ea317087193"
    assert upload.poll.records == "data[0]" and upload.poll.id_param == "id"
    ac = get_job("audiocleaner.tts")
    assert (ac.provider, ac.id_path, ac.poll.id_param, ac.poll.id_in, ac.credit_field, ac.webhook_field) == (
        "audiocleaner", "data.job_id", "global_id", "body", None, None)
    assert ac.statuses == {"waiting": "processing", "success": "completed", "failed": "failed"}
    kling = get_job("kling.custom_voice")
    record = {"task_status": "succeed", "final_unit_deduction": "1",
              "task_result": {"voices": [{"voice_id": "v1", "trial_url": "https://k/t.mp3"}]}}
    assert get_path(record, kling.result_field) == "https://k/t.mp3"
    assert [get_path(record, f) for f in kling.extra_fields.values()] == ["v1"]
    assert kling.statuses["succeed"] == "completed" and kling.webhook_field == "callback_url"
    assert kling.idempotency_field == "external_task_id" and "external_task_id" in kling.field_names()
    assert all(spec.idempotency_field is None for name, spec in JOBS.items() if name != "kling.custom_voice")
    assert get_job("moderation").result_field == "final_conclusion" and "result" in get_job("moderation").extra_fields
    assert "voice_id" in get_job("voice_clone").extra_fields
    assert get_job("video_translation").error_fields == ("error_code", "error_reason")
    assert get_job("tts").poll.records == "data.result" and get_job("voice_clone").poll.records == "data"
    assert get_job("talking_avatar").defaults == {"width": 3840, "height": 2160}


def test_reconcile_matchers() -> None:
    tts = get_job("tts").reconcile
    assert tts is not None and tts.query == {"type": "1"} and tts.records == "data.result"
    body = {"input_text": "Hi", "voice_id": "686379d641e5eb74bb8dfe3f"}
    assert tts.match({"input_text": "Hi", "voice_id": "Tq06", "voice_model_id": "686379d641e5eb74bb8dfe3f"}, body)
    assert tts.match({"input_text": "Hi", "voice_id": "686379d641e5eb74bb8dfe3f"}, body)
    assert not tts.match({"input_text": "Hi", "voice_id": "other", "voice_model_id": "other2"}, body)
    assert not tts.match({"input_text": "Hello", "voice_id": "686379d641e5eb74bb8dfe3f"}, body)
    change = get_job("voice_change").reconcile
    assert change is not None and change.query == {"type": "2"}
    body = {"source_voice_file": "https://a/b.mp3", "voice_id": "hk"}
    assert change.match({"source_voice_file": "https://a/b.mp3", "voice_id": "hk"}, body)
    assert not change.match({"source_voice_file": "https://a/c.mp3", "voice_id": "hk"}, body)
    clone = get_job("voice_clone").reconcile
    assert clone is not None and clone.path.endswith("/v4/voice/list") and clone.query == {"type": "1"}
    body = {"source_voice_file": "https://a/v.mp3", "name": "Mine"}
    assert clone.match({"source_voice_file": "https://a/v.mp3", "name": "Mine"}, body)
    assert not clone.match({"source_voice_file": "https://a/v.mp3", "name": "Theirs"}, body)
    assert not clone.match({"source_voice_file": "https://a/w.mp3", "name": "Mine"}, body)


def test_job_modules_export_jobs() -> None:
    from akool_frames.catalog import audio, audiocleaner, detection, faceswap, image, image2video, kling, moderation, video, voice

    modules = (audio, audiocleaner, detection, faceswap, image, image2video, kling, moderation, video, voice)
    assert sum(len(m.JOBS) for m in modules) == len(JOBS) == 25
    for module in modules:
        assert "JOBS" in module.__all__


@pytest.mark.parametrize("first_import", ["akool_frames.pricing._rules", "akool_frames.catalog", "akool_frames.catalog.voice"])
def test_import_order_does_not_matter(first_import: str) -> None:
    code = f"import {first_import}; from akool_frames.catalog import JOBS; import akool_frames.pricing._rules; print(len(JOBS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "25"
