"""Sandbox family: talking avatar (v3 talkingavatar/create) and avatars (upload, detail, list): the documented
examples, avatars by url or by avatar_id (official, uploaded), speech from an audio url or from text and a voice,
page 34's element rules (those the page states, none it does not), 1109 for a streaming avatar, failed jobs
refunded.

Real HTTP against the sandbox; the tests name the documentation page they follow (shared/api/akool/NN_*.md).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import is_png, poll
from tests.sandbox.conftest import ok, param_error, refused, video_finished, video_seconds

INFO = "/api/open/v3/content/video/infobymodelid"
TALKING_AVATAR = "/api/open/v3/talkingavatar/create"
AVATAR_CREATE = "/api/open/v3/avatar/create"
AVATAR_DETAIL = "/api/open/v3/avatar/detail"
AVATAR_LIST = "/api/open/v3/avatar/list"
HEX24 = re.compile(r"[0-9a-f]{24}")

AVATAR_VIDEO = "https://drz0f01yeq1cx.cloudfront.net/1721197444322-leijun000.mp4"  # page 34 upload example
AUDIO = "https://example.com/audio.mp3"
SPEECH = "https://example.com/speech.mp3"
VOICE = "6889b628662160e2caad5dbc"  # the talking-avatar example's voice_id (page 34)
# Inputs the sandbox cannot fetch, declared with their durations (seconds).
MEDIA = {
    AUDIO: 7.5,
    SPEECH: 12.0,
    "https://drz0f01yeq1cx.cloudfront.net/1729666642023-bd6ad5f1-d558-40c7-b720-ad729688f814-6403.mp3": 20.0,
    AVATAR_VIDEO: 60.0,
}

PARADE = ("A military parade is a formation of military personnels whose movement is restricted by close-order "
          "manoeuvering known as drilling or marching. Large military parades are today held on major holidays and "
          "military events around the world.") * 3

TALKING_AVATAR_EXAMPLE: dict[str, Any] = {
    "width": 3840, "height": 2160, "avatar_from": 3,
    "elements": [
        {"type": "image", "url": "https://drz0f01yeq1cx.cloudfront.net/1729480978805-talkingAvatarbg.png",
         "width": 780, "height": 438, "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
        {"type": "avatar",
         "url": "https://drz0f01yeq1cx.cloudfront.net/1735009621724-7ce105c6-ed9a-4d13-9061-7e3df59d9798-7953.mp4",
         "scale_x": 1, "scale_y": 1, "width": 1080, "height": 1080, "offset_x": 1920, "offset_y": 1080},
        {"type": "audio",
         "url": "https://drz0f01yeq1cx.cloudfront.net/1729666642023-bd6ad5f1-d558-40c7-b720-ad729688f814-6403.mp3",
         "input_text": PARADE, "voice_id": "6889b628662160e2caad5dbc"},
    ],
    "webhookUrl": "",
}


def _upload_avatar(c: httpx.Client, avatar_id: str) -> dict[str, Any]:
    record = ok(c.post(AVATAR_CREATE, json={"url": AVATAR_VIDEO, "avatar_id": avatar_id, "name": "Mine", "type": 1}),
                msg="ok")[0]
    done = poll(lambda: {"d": ok(c.get(AVATAR_DETAIL, params={"id": record["_id"]}))},
                lambda a: a["d"][0]["status"] in (3, 4))["d"][0]
    assert done["status"] == 3
    return done


# ----------------------------------------------------------------------------- talking avatar
def test_talking_avatar_example_uses_the_audio_url(box: af.Sandbox, c: httpx.Client) -> None:
    data = ok(c.post("/api/open/v3/talkingavatar/create", json=TALKING_AVATAR_EXAMPLE))
    assert HEX24.fullmatch(data["_id"]) and data["video_status"] == 1 and data["video"] == ""
    assert isinstance(data["video_id"], str) and isinstance(data["task_id"], str) and isinstance(data["create_time"], int)
    done = video_finished(c, data["_id"])
    assert done["video_status"] == 3 and done["deduction_duration"] == 20  # 20 s audio, 2 blocks of 10 s
    assert video_seconds(done["video"]) == pytest.approx(20.0, abs=0.05)
    assert box.stats()["credits_charged"] == 20


def test_talking_avatar_official_avatar_and_text(box: af.Sandbox, c: httpx.Client) -> None:
    avatar = ok(c.get("/api/open/v3/avatar/list", params={"from": 2, "type": 1}))[0]
    voice = ok(c.get("/api/open/v4/voice/list", params={"type": 2}))["result"][0]
    text = "Welcome to the quarterly review. " * 5  # 165 characters -> 11 s at 15 characters a second
    body = {"width": 3840, "height": 2160, "avatar_from": 2, "webhookUrl": "", "elements": [
        {"type": "avatar", "avatar_id": avatar["avatar_id"], "scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0},
        {"type": "audio", "input_text": text, "voice_id": voice["voice_id"]}]}
    done = video_finished(c, ok(c.post("/api/open/v3/talkingavatar/create", json=body))["_id"])
    assert video_seconds(done["video"]) == pytest.approx(11.0, abs=0.05)
    assert done["deduction_duration"] == 20


# Each case breaks the documented example one way; the error names the field.
TALKING_AVATAR_BREAKS: list[tuple[Any, str]] = [
    (lambda b: b.update(width=1920), "width"),
    (lambda b: b.update(height=1080), "height"),
    (lambda b: b.update(avatar_from=1), "avatar_from"),
    (lambda b: b["elements"][1].pop("scale_x"), "elements[1].scale_x"),
    (lambda b: b["elements"][1].pop("url"), "elements[1].url"),  # avatar_from 3 needs the avatar's url
    (lambda b: b["elements"][2].pop("url") and b["elements"][2].pop("voice_id"), "elements[2].voice_id"),
    (lambda b: b["elements"][2].update(input_text="x" * 5001), "elements[2].input_text"),  # pro plan: 5,000
    (lambda b: b.update(avatar_from=2), "elements[1].avatar_id"),  # avatar_from 2 needs a listed avatar_id
    (lambda b: b["elements"].pop(2), "audio element"),
    (lambda b: b.pop("elements"), "elements"),
]


def test_talking_avatar_validation(box: af.Sandbox, c: httpx.Client) -> None:
    for change, field in TALKING_AVATAR_BREAKS:
        body = {**TALKING_AVATAR_EXAMPLE, "elements": [dict(e) for e in TALKING_AVATAR_EXAMPLE["elements"]]}
        change(body)
        param_error(c.post("/api/open/v3/talkingavatar/create", json=body), field)
    assert box.stats()["creates"] == 0


def test_talking_avatar_failed_job_is_refunded(failing: tuple[af.Sandbox, httpx.Client]) -> None:
    box, c = failing
    done = video_finished(c, ok(c.post("/api/open/v3/talkingavatar/create", json=TALKING_AVATAR_EXAMPLE))["_id"])
    assert done["video_status"] == 4 and done["video"] == "" and done["deduction_duration"] == 0
    assert box.stats()["credits_charged"] == 0 and box.stats()["balances"]["akool"] == 1_000_000


# ----------------------------------------------------------------------------- an uploaded avatar; page 34's rules
def test_uploaded_avatar_drives_a_talking_avatar_to_completion(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 34 (talking-avatar): Upload Talking Avatar (v3/avatar/create), the list's `from` "3 represents the
    avatar uploaded by the user themselves", and Create Talking Avatar with avatar_from "you will obtain the field
    【from】 and pass it here" and the avatar_id of the list ("When avatar_from =2, you don't need to pass" url)."""
    _upload_avatar(c, "MyPresenter1")
    mine = ok(c.get(AVATAR_LIST, params={"from": 3}), msg="ok")
    assert [(a["avatar_id"], a["from"]) for a in mine] == [("MyPresenter1", 3)]
    avatar = mine[0]
    position = {"scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0}
    # By its avatar_id, no url: accepted with avatar_from 3 (it was refused before).
    body = {"width": 3840, "height": 2160, "avatar_from": avatar["from"], "webhookUrl": "", "elements": [
        {"type": "avatar", "avatar_id": avatar["avatar_id"], **position},
        {"type": "audio", "url": AUDIO}]}
    created = ok(c.post(TALKING_AVATAR, json=body))
    done = video_finished(c, created["_id"])
    assert done["video_status"] == 3 and video_seconds(done["video"]) == pytest.approx(7.5, abs=0.05)
    # The same avatar with speech made from text (input_text and voice_id "must both be present").
    text = "Welcome to the quarterly review. " * 5  # 165 characters: 11 s at the sandbox's 15 per second
    body["elements"][1] = {"type": "audio", "input_text": text, "voice_id": VOICE}
    done = video_finished(c, ok(c.post(TALKING_AVATAR, json=body))["_id"])
    assert done["video_status"] == 3 and video_seconds(done["video"]) == pytest.approx(11.0, abs=0.05)
    assert box.stats()["creates_by_endpoint"][TALKING_AVATAR] == 2


def test_talking_avatar_rules_no_page_states_are_gone(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 34: no page asks an image element for a url (its url "can be either a link or a Hexadecimal Color
    Code") or limits the audio elements to one; the first audio element gives the video its length."""
    position = {"scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0}
    body = {"width": 3840, "height": 2160, "avatar_from": 2, "elements": [
        {"type": "image", **position},
        {"type": "avatar", "avatar_id": "Yasmin_in_White_shirt_20231121", **position},
        {"type": "audio", "url": AUDIO}, {"type": "audio", "url": SPEECH}]}
    done = video_finished(c, ok(c.post(TALKING_AVATAR, json=body))["_id"])
    assert done["video_status"] == 3 and video_seconds(done["video"]) == pytest.approx(7.5, abs=0.05)


def test_talking_avatar_rules_the_page_states_stay(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 34: "If you provide an avatar URL yourself, avatar_from must be 3"; avatar_id comes from the avatar
    list; scale_x ... offset_y "Required when type is equal to image or avatar"."""
    position = {"scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0}
    audio = {"type": "audio", "url": AUDIO}
    cases = [
        (2, {"type": "avatar", "url": AVATAR_VIDEO, **position}, "avatar_from must be 3"),
        (3, {"type": "avatar", **position}, "elements[0].avatar_id or elements[0].url"),
        (3, {"type": "avatar", "avatar_id": "NotUploaded", **position}, "NotUploaded"),
        (3, {"type": "avatar", "url": AVATAR_VIDEO, "scale_x": 1}, "elements[0].scale_y"),
    ]
    for avatar_from, element, text in cases:
        body = {"width": 3840, "height": 2160, "avatar_from": avatar_from, "elements": [element, audio]}
        answer = c.post(TALKING_AVATAR, json=body).json()
        assert answer["code"] == 1003 and text in answer["msg"], (element, answer)
    # An upload that has not finished is not in the list yet.
    ok(c.post(AVATAR_CREATE, json={"url": AVATAR_VIDEO, "avatar_id": "StillQueued", "type": 1}), msg="ok")
    body = {"width": 3840, "height": 2160, "avatar_from": 3,
            "elements": [{"type": "avatar", "avatar_id": "StillQueued", **position}, audio]}
    assert c.post(TALKING_AVATAR, json=body).json()["code"] == 1003
    assert box.stats()["creates_by_endpoint"].get(TALKING_AVATAR, 0) == 0


# ----------------------------------------------------------------------------- 1109: a streaming avatar
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
        assert refused(c.post(TALKING_AVATAR, json=_avatar(avatar["avatar_id"])), 1109) == "create avatar video error"
    assert box.stats()["jobs"] == 0 and box.stats()["credits_charged"] == 0
    talking = ok(c.get("/api/open/v3/avatar/list", params={"from": 2, "type": 1}))[0]["avatar_id"]
    ok(c.post(TALKING_AVATAR, json=_avatar(talking)))
    assert box.stats()["jobs"] == 1


# ----------------------------------------------------------------------------- avatars
def test_avatar_upload_example_detail_and_list(box: af.Sandbox, c: httpx.Client) -> None:
    example = {"url": "https://drz0f01yeq1cx.cloudfront.net/1721197444322-leijun000.mp4",
               "avatar_id": "HHdEKhn7k7vVBlR5FSi0e", "name": "My Talking Avatar", "type": 1}
    answer = c.post("/api/open/v3/avatar/create", json=example).json()
    assert answer["code"] == 1000 and answer["msg"] == "ok" and isinstance(answer["data"], list)
    record = answer["data"][0]
    assert HEX24.fullmatch(record["_id"]) and record["status"] == 1 and record["avatar_id"] == example["avatar_id"]
    assert record["from"] == 3 and record["type"] == 1 and record["url"] == example["url"]
    detail = poll(lambda: ok(c.get("/api/open/v3/avatar/detail", params={"id": record["_id"]})),
                  lambda d: d[0]["status"] in (3, 4))
    assert detail[0]["status"] == 3 and detail[0]["_id"] == record["_id"]
    mine = ok(c.get("/api/open/v3/avatar/list", params={"from": 3}))
    assert [a["avatar_id"] for a in mine] == ["HHdEKhn7k7vVBlR5FSi0e"] and mine[0]["from"] == 3
    # The uploaded avatar drives a talking avatar (avatar_from 2 by avatar_id).
    body = {"width": 3840, "height": 2160, "avatar_from": 2, "elements": [
        {"type": "avatar", "avatar_id": "HHdEKhn7k7vVBlR5FSi0e", "scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0},
        {"type": "audio", "url": "https://example.com/audio.mp3"}]}
    assert video_finished(c, ok(c.post("/api/open/v3/talkingavatar/create", json=body))["_id"])["video_status"] == 3
    # A second upload with the same avatar_id is refused; a string type is accepted ("String", value 1).
    assert c.post("/api/open/v3/avatar/create", json=example).json()["code"] == 1222
    assert ok(c.post("/api/open/v3/avatar/create", json={**example, "avatar_id": "Other1", "type": "1"}))[0]["type"] == 1


def test_official_avatar_list_serves_pictures(box: af.Sandbox, c: httpx.Client) -> None:
    answer = c.get("/api/open/v3/avatar/list", params={"from": 2, "page": 1, "size": 100}).json()
    assert answer["msg"] == "ok" and isinstance(answer["data"], list) and len(answer["data"]) == 6
    assert {tuple(sorted(a)) for a in answer["data"]} == {("avatar_id", "from", "gender", "name", "thumbnailUrl", "url")}
    assert all(a["from"] == 2 for a in answer["data"])
    assert answer["data"][0]["avatar_id"] == "Yasmin_in_White_shirt_20231121"
    assert is_png(httpx.get(answer["data"][0]["url"]).content)
    assert is_png(httpx.get(answer["data"][0]["thumbnailUrl"]).content)
    assert len(ok(c.get("/api/open/v3/avatar/list", params={"from": 2, "page": 2, "size": 4}))) == 2
    assert ok(c.get("/api/open/v3/avatar/list", params={"from": 3})) == []


def test_avatar_upload_validation(box: af.Sandbox, c: httpx.Client) -> None:
    param_error(c.post("/api/open/v3/avatar/create", json={"avatar_id": "abc", "name": "x", "type": 1}), "url")
    param_error(c.post("/api/open/v3/avatar/create", json={"url": "https://example.com/a.mp4", "avatar_id": "my-avatar"}),
                 "avatar_id")
    param_error(c.post("/api/open/v3/avatar/create", json={"url": "https://example.com/a.mp4", "avatar_id": "a1",
                                                           "type": 3}), "type")
    assert box.stats()["creates"] == 0
    assert c.get("/api/open/v3/avatar/detail", params={"id": "0" * 24}).json()["code"] == 1008
