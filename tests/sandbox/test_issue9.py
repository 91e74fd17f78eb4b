"""Issue 9: the sandbox is wrong where the client is right, and face detection.

Real HTTP against the sandbox. Each test names the documentation page it follows (shared/api/akool/NN_*.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, is_png, media_seconds, poll
from tests.sandbox.conftest import ok

# ----------------------------------------------------------------------------- endpoints
INFO = "/api/open/v3/content/video/infobymodelid"
AVATAR_CREATE = "/api/open/v3/avatar/create"
AVATAR_DETAIL = "/api/open/v3/avatar/detail"
AVATAR_LIST = "/api/open/v3/avatar/list"
TALKING_AVATAR = "/api/open/v3/talkingavatar/create"
TTS = "/api/open/v4/voice/tts"
CHANGE = "/api/open/v4/voice/change"
LEGACY_TTS = "/api/open/v3/audio/create"
LEGACY_CLONE = "/api/open/v3/audio/clone"
FS_IMAGE = "/api/open/v3/faceswap/highquality/specifyimage"
FS_VIDEO = "/api/open/v3/faceswap/highquality/specifyvideo"
FS_PRO = "/api/open/v4/faceswap/faceswapByImage"
REAGE_IMAGE = "/api/open/v3/faceswap/highquality/imgreage"
REAGE_VIDEO = "/api/open/v3/faceswap/highquality/vidreage"
FS_RESULTS = "/api/open/v3/faceswap/result/listbyids"
FS_CANCEL = "/api/open/v3/faceswap/job/del"
I2V_SINGLE = "/api/open/v4/image2Video/createBySourcePrompt"
I2V_RESULTS = "/api/open/v4/image2Video/resultsByIds"
DETECT = "/interface/detect-api/detect_faces"
ANALYZE = "/interface/detect-api/faceswap/analyze_frames"

# ----------------------------------------------------------------------------- inputs
AVATAR_VIDEO = "https://drz0f01yeq1cx.cloudfront.net/1721197444322-leijun000.mp4"  # page 34 upload example
AUDIO = "https://example.com/audio.mp3"
SPEECH = "https://example.com/speech.mp3"
IMAGE = "https://d3t6pcz7y7ey7x.cloudfront.net/material1__a92671d0-7960-4028-b2fc-aadd3541f32d.jpg"
VIDEO = "https://d3t6pcz7y7ey7x.cloudfront.net/Video10__d2a8cf85-10ae-4c2d-8f4b-d818c0a2e4a4.mp4"
SOURCE_FACE = "https://example.com/replacement-face.jpg"
GROUP = "https://example.com/group_photo.jpg"
NOBODY = "https://example.com/landscape.jpg"
MEDIA = {AVATAR_VIDEO: 60.0, AUDIO: 7.5, SPEECH: 12.0, VIDEO: 12.0}
FACES = {GROUP: 3, NOBODY: 0}
FACE_OPTS = "2804,2182:3607,1897:3341,2566:3519,2920"  # the reage example's opts (page 33)
VOICE = "6889b628662160e2caad5dbc"  # the talking-avatar example's voice_id (page 34)


@pytest.fixture
def box(make_sandbox: Any) -> af.Sandbox:
    return make_sandbox(media=MEDIA, faces=FACES)


@pytest.fixture
def c(box: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(box) as client:
        yield client


def _video_done(c: httpx.Client, job_id: str) -> dict[str, Any]:
    return poll(lambda: ok(c.get(INFO, params={"video_model_id": job_id})), lambda d: d["video_status"] in (3, 4))


def _mp4_seconds(url: str) -> float:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    return media_seconds(response.content, "mp4")


def _upload_avatar(c: httpx.Client, avatar_id: str) -> dict[str, Any]:
    record = ok(c.post(AVATAR_CREATE, json={"url": AVATAR_VIDEO, "avatar_id": avatar_id, "name": "Mine", "type": 1}),
                msg="ok")[0]
    done = poll(lambda: {"d": ok(c.get(AVATAR_DETAIL, params={"id": record["_id"]}))},
                lambda a: a["d"][0]["status"] in (3, 4))["d"][0]
    assert done["status"] == 3
    return done


# ============================================================================= 1. uploaded avatar -> talking avatar
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
    done = _video_done(c, created["_id"])
    assert done["video_status"] == 3 and _mp4_seconds(done["video"]) == pytest.approx(7.5, abs=0.05)
    # The same avatar with speech made from text (input_text and voice_id "must both be present").
    text = "Welcome to the quarterly review. " * 5  # 165 characters: 11 s at the sandbox's 15 per second
    body["elements"][1] = {"type": "audio", "input_text": text, "voice_id": VOICE}
    done = _video_done(c, ok(c.post(TALKING_AVATAR, json=body))["_id"])
    assert done["video_status"] == 3 and _mp4_seconds(done["video"]) == pytest.approx(11.0, abs=0.05)
    assert box.stats()["creates_by_endpoint"][TALKING_AVATAR] == 2


def test_talking_avatar_rules_no_page_states_are_gone(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 34: no page asks an image element for a url (its url "can be either a link or a Hexadecimal Color
    Code") or limits the audio elements to one; the first audio element gives the video its length."""
    position = {"scale_x": 1, "scale_y": 1, "offset_x": 0, "offset_y": 0}
    body = {"width": 3840, "height": 2160, "avatar_from": 2, "elements": [
        {"type": "image", **position},
        {"type": "avatar", "avatar_id": "Yasmin_in_White_shirt_20231121", **position},
        {"type": "audio", "url": AUDIO}, {"type": "audio", "url": SPEECH}]}
    done = _video_done(c, ok(c.post(TALKING_AVATAR, json=body))["_id"])
    assert done["video_status"] == 3 and _mp4_seconds(done["video"]) == pytest.approx(7.5, abs=0.05)


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


# ============================================================================= 2. unknown voice -> 1008
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


# ============================================================================= 3. face swap records carry job_id
FACE_A = {"path": "https://d21ksh0k4smeql.cloudfront.net/crop_1695201103793-0234-0-1695201106985-2306.png",
          "opts": FACE_OPTS}
FACE_B = {"path": ("https://static.website-files.org/assets/images/faceswap/"
                   "crop_1719224038759-3888-0-1719224039439-1517.jpg"),
          "opts": "1408,786:1954,798:1653,1091:1447,1343"}
FACESWAP_BODIES = {
    FS_IMAGE: {"targetImage": [FACE_A], "sourceImage": [FACE_B], "face_enhance": 0, "modifyImage": IMAGE},
    FS_VIDEO: {"sourceImage": [FACE_B], "targetImage": [FACE_A], "face_enhance": 1, "modifyVideo": VIDEO},
    FS_PRO: {"targetImage": [{"path": IMAGE}], "sourceImage": [{"path": SOURCE_FACE}],
             "model_name": "akool_faceswap_image_hq", "face_enhance": False},
    REAGE_IMAGE: {"targetImage": [FACE_A], "face_reage": 10, "modifyImage": IMAGE},
    REAGE_VIDEO: {"targetImage": [FACE_B], "face_reage": 10, "modifyVideo": VIDEO},
}


def _results(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    return ok(c.get(FS_RESULTS, params={"_ids": ",".join(ids)}))["result"]


def _swaps_done(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    return poll(lambda: {"r": _results(c, *ids)}, lambda a: all(r["faceswap_status"] in (3, 4) for r in a["r"]))["r"]


def test_faceswap_and_reage_records_carry_the_create_job_id(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 14 (faceswap get-result) and page 33 (reage, Get Reage Result List Byids): the records of
    listbyids carry job_id, as real answers do; its value is the create answer's ("job_id: Task processing unique
    id", page 33), the id the task cancel takes."""
    created = {path: c.post(path, json=body).json() for path, body in FACESWAP_BODIES.items()}
    assert all(a["code"] == 1000 for a in created.values()), created
    ids = [a["data"]["_id"] for a in created.values()]
    queued = _results(c, *ids)
    assert [r["job_id"] for r in queued] == [a["data"]["job_id"] for a in created.values()]
    done = _swaps_done(c, *ids)
    assert [(r["_id"], r["job_id"], r["faceswap_status"]) for r in done] == \
        [(a["data"]["_id"], a["data"]["job_id"], 3) for a in created.values()]


def test_video_faceswap_create_speaks_of_the_input_video(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 17 (video-faceswap): the input is modifyVideo, so the create answer says "input video"; the reage
    page (33) prints "input image" for both of its creates, and the sandbox keeps that wording there."""
    video = c.post(FS_VIDEO, json=FACESWAP_BODIES[FS_VIDEO]).json()
    image = c.post(FS_IMAGE, json=FACESWAP_BODIES[FS_IMAGE]).json()
    reage = c.post(REAGE_VIDEO, json=FACESWAP_BODIES[REAGE_VIDEO]).json()
    assert video["msg"].endswith("please check your input video.") and "image" not in video["msg"]
    assert image["msg"].endswith("please check your input image.")
    assert reage["msg"].endswith("please check your input image.")


# ============================================================================= 4. resultsByIds with a bad _ids
I2V_BODY = {"image_url": IMAGE, "prompt": "Animate this image", "negative_prompt": "blurry", "resolution": "720p",
            "audio_type": 3, "video_length": 5}


def test_image2video_results_with_a_list_or_no_ids_fail_to_get_results(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 19 (image2video, Get Image to Video Results): "_ids | String | true | Multiple IDs separated by
    commas". Given as a JSON list, or missing, real clients get the business error "Failed to get results"
    (code: page 19 and the catalog give none; 1015, the family's failure code), not a parameter error."""
    job = ok(c.post(I2V_SINGLE, json=I2V_BODY))["_id"]
    for body in ({"_ids": [job]}, {}, {"_ids": ""}, {"_ids": None}):
        answer = c.post(I2V_RESULTS, json=body).json()
        assert answer == {"code": 1015, "msg": "Failed to get results"}, (body, answer)
    # The documented comma string still answers the records.
    assert [r["_id"] for r in ok(c.post(I2V_RESULTS, json={"_ids": f"{job},{'0' * 24}"}))["result"]] == [job]


# ============================================================================= 5. face detection
def _detect(c: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = c.post(DETECT, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["error_code"] == 0 and answer["error_msg"] == "SUCCESS", answer
    return answer["faces_obj"]


def _is_landmarks_str(value: str) -> bool:
    points = value.split(":")
    return len(points) == 4 and all(len(p.split(",")) == 2 and all(n.lstrip("-").isdigit() for n in p.split(","))
                                     for p in points)


def test_detect_faces_image_shape_and_determinism(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 09 (detect-faces) and page 07 (overview): faces_obj keyed by frame ("0" for an image), per face 6
    landmarks, landmarks_str "x1,y1:x2,y2:x3,y3:x4,y4" (the first 4), region [x, y, width, height], removed [],
    frame_time null for images; face_urls / crop_region / crop_landmarks null unless return_face_url."""
    faces = _detect(c, {"url": IMAGE})
    assert list(faces) == ["0"]
    frame = faces["0"]
    assert frame["frame_time"] is None and frame["removed"] == []
    assert frame["face_urls"] is None and frame["crop_region"] is None and frame["crop_landmarks"] is None
    assert len(frame["landmarks"]) == len(frame["landmarks_str"]) == len(frame["region"]) == 1  # 1 face by default
    points, text, (x, y, w, h) = frame["landmarks"][0], frame["landmarks_str"][0], frame["region"][0]
    assert len(points) == 6 and all(len(p) == 2 for p in points)
    assert _is_landmarks_str(text) and text == ":".join(f"{px},{py}" for px, py in points[:4])
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in points) and min(w, h) >= 80
    # The same URL gets the same faces; another URL other faces.
    assert _detect(c, {"url": IMAGE}) == faces
    assert _detect(c, {"url": SOURCE_FACE})["0"]["landmarks_str"] != frame["landmarks_str"]
    # return_face_url: cropped faces the sandbox serves, landmarks relative to the crop (page 09, Example 3).
    cropped = _detect(c, {"url": IMAGE, "return_face_url": True})["0"]
    assert cropped["landmarks_str"] == frame["landmarks_str"]
    assert is_png(httpx.get(cropped["face_urls"][0], timeout=10).content)
    cx, cy, cw, ch = cropped["crop_region"][0]
    assert cx <= x and cy <= y and cx + cw >= x + w and cy + ch >= y + h
    assert cropped["crop_landmarks"][0] == ":".join(f"{px - cx},{py - cy}" for px, py in points[:4])
    # base64 input (page 09: "img | Base64-encoded image data"), with the data URI prefix.
    assert len(_detect(c, {"img": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="})["0"]["landmarks_str"]) == 1


def test_detect_faces_counts_single_face_and_errors(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 09: single_face "Return only the largest face" (page 07: "by area"); errors are error_code 1 with
    "Either 'url' or 'img' parameter must be provided" and "Invalid URL format"; page 07 lists "No faces
    detected". The number of faces per URL is SandboxConfig.faces; detections are counted apart from creates."""
    group = _detect(c, {"url": GROUP})["0"]
    assert len(group["region"]) == len(group["landmarks_str"]) == 3
    assert [r[0] for r in group["region"]] == sorted(r[0] for r in group["region"])  # left to right
    largest = max(group["region"], key=lambda r: r[2] * r[3])
    single = _detect(c, {"url": GROUP, "single_face": True})["0"]
    assert single["region"] == [largest] and len(single["landmarks_str"]) == 1
    errors = {"no input": ({}, "Either 'url' or 'img' parameter must be provided"),
              "bad url": ({"url": "example.com/photo.jpg"}, "Invalid URL format"),
              "nobody": ({"url": NOBODY}, "No faces detected")}
    for name, (body, msg) in errors.items():
        answer = c.post(DETECT, json=body).json()
        assert answer == {"error_code": 1, "error_msg": msg}, (name, answer)
    stats = box.stats()
    assert stats["detections"] == 5 and stats["detections_by_endpoint"] == {DETECT: 5}
    assert stats["creates"] == 0 and stats["credits_charged"] == 0 and stats["jobs"] == 0


def test_detect_faces_in_a_video(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 09: num_frames "Number of frames for video analysis" (default 5); frame_time "Timestamp in seconds
    (video only)"; the media type comes from the extension (page 07, "Auto Media Type Detection")."""
    frames = _detect(c, {"url": VIDEO, "num_frames": 4})
    assert list(frames) == ["0", "1", "2", "3"]
    times = [frames[k]["frame_time"] for k in frames]
    assert times == sorted(times) and times[0] == 0 and times[-1] < 12.0  # the video lasts 12 s
    assert all(len(f["landmarks_str"]) == 1 and f["removed"] == [] for f in frames.values())
    assert len(_detect(c, {"url": VIDEO})) == 5  # the default
    assert len(_detect(c, {"url": IMAGE, "num_frames": 10})) == 1  # "ignored" for images


def test_analyze_frames_persons(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 08 (analyze-frames): success, frame_count, persons with person_id, index (left to right), face_url,
    bbox [x1, y1, x2, y2], confidence, appearances {timestamp, frame_idx, bbox}, first_seen, last_seen; one image:
    a person per face; several: the same person merged; errors success false with `error`."""
    one = c.post(ANALYZE, json={"frame_urls": [GROUP]}).json()
    assert one["success"] is True and one["frame_count"] == 1 and len(one["persons"]) == 3
    assert [p["person_id"] for p in one["persons"]] == ["person_0", "person_1", "person_2"]
    assert [p["index"] for p in one["persons"]] == [0, 1, 2]
    assert [p["bbox"][0] for p in one["persons"]] == sorted(p["bbox"][0] for p in one["persons"])
    person = one["persons"][0]
    x1, y1, x2, y2 = person["bbox"]
    assert x2 > x1 and y2 > y1 and 0 < person["confidence"] <= 1 and is_png(httpx.get(person["face_url"]).content)
    assert person["appearances"] == [{"timestamp": 0.0, "frame_idx": 0, "bbox": person["bbox"]}]
    many = c.post(ANALYZE, json={"frame_urls": [IMAGE, SOURCE_FACE, IMAGE], "timestamps": [0.0, 1.0, 2.0],
                                 "expand_ratio": 0.5}).json()
    assert many["success"] is True and many["frame_count"] == 3 and len(many["persons"]) == 1
    merged = many["persons"][0]
    assert [a["frame_idx"] for a in merged["appearances"]] == [0, 1, 2]
    assert merged["first_seen"] == 0.0 and merged["last_seen"] == 2.0
    assert c.post(ANALYZE, json={"frame_urls": [NOBODY]}).json() == {"success": True, "frame_count": 1, "persons": []}
    assert c.post(ANALYZE, json={"frame_urls": []}).json() == {
        "success": False, "error": "frame_urls is required and must not be empty"}
    assert c.post(ANALYZE, json={"frame_urls": ["not a url"]}).json() == {
        "success": False, "error": "Failed to download image from URL"}
    assert c.post(ANALYZE, json={"frame_urls": [IMAGE], "expand_ratio": 1.5}).json()["success"] is False
    assert box.stats()["detections_by_endpoint"] == {ANALYZE: 6} and box.stats()["creates"] == 0


def test_detected_faces_drive_face_swaps_to_completion(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 07: "Pass the landmarks_str value to Face Swap API as the opts parameter"; page 09, Integration with
    Face Swap: {"path": face_urls[0], "opts": crop_landmarks[0]}; page 15 (image-faceswap) "The Face Detect API
    returns a landmarks_str value that should be used as the value of opts"; page 17 (video-faceswap) targetImage
    is "the collection of faces after face detection using modifyVideo"; page 33 (reage) opts the same."""
    target = _detect(c, {"url": IMAGE, "return_face_url": True})["0"]
    source = _detect(c, {"url": SOURCE_FACE, "return_face_url": True})["0"]
    in_video = _detect(c, {"url": VIDEO, "num_frames": 5, "return_face_url": True})["0"]
    bodies = [
        # landmarks_str of the whole picture with the picture itself
        (FS_IMAGE, {"sourceImage": [{"path": SOURCE_FACE, "opts": source["landmarks_str"][0]}],
                    "targetImage": [{"path": IMAGE, "opts": target["landmarks_str"][0]}], "modifyImage": IMAGE}),
        # the cropped faces with their crop_landmarks (page 09's own integration sample)
        (FS_IMAGE, {"sourceImage": [{"path": source["face_urls"][0], "opts": source["crop_landmarks"][0]}],
                    "targetImage": [{"path": target["face_urls"][0], "opts": target["crop_landmarks"][0]}],
                    "modifyImage": IMAGE, "face_enhance": 1}),
        # landmarks_str passed as it comes (a one-element array)
        (FS_IMAGE, {"sourceImage": [{"path": SOURCE_FACE, "opts": source["landmarks_str"]}],
                    "targetImage": [{"path": IMAGE, "opts": target["landmarks_str"]}], "modifyImage": IMAGE}),
        (FS_VIDEO, {"sourceImage": [{"path": source["face_urls"][0], "opts": source["crop_landmarks"][0]}],
                    "targetImage": [{"path": in_video["face_urls"][0], "opts": in_video["crop_landmarks"][0]}],
                    "modifyVideo": VIDEO}),
        (REAGE_IMAGE, {"targetImage": [{"path": target["face_urls"][0], "opts": target["crop_landmarks"][0]}],
                       "face_reage": -10, "modifyImage": IMAGE}),
    ]
    ids = []
    for path, body in bodies:
        answer = c.post(path, json=body).json()
        assert answer["code"] == 1000, (path, answer)
        ids.append(answer["data"]["_id"])
    done = _swaps_done(c, *ids)
    assert [r["faceswap_status"] for r in done] == [3] * len(bodies)
    assert is_png(httpx.get(done[0]["url"], timeout=10).content)
    assert _mp4_seconds(done[3]["url"]) == pytest.approx(12.0, abs=0.1)
    # A group photo: one opts per face, the arrays aligned (page 15: "properly aligned and correspond").
    group = _detect(c, {"url": GROUP})["0"]
    faces = [{"path": GROUP, "opts": opts} for opts in group["landmarks_str"]]
    sources = [{"path": SOURCE_FACE, "opts": source["landmarks_str"][0]}] * len(faces)
    answer = c.post(FS_IMAGE, json={"targetImage": faces, "sourceImage": sources, "modifyImage": GROUP}).json()
    assert answer["code"] == 1000, answer
    assert _swaps_done(c, answer["data"]["_id"])[0]["faceswap_status"] == 3
    # Still refused: an opts array of two strings (which face is meant?).
    body = {"targetImage": [{"path": GROUP, "opts": group["landmarks_str"][:2]}], "sourceImage": [faces[0]],
            "modifyImage": GROUP}
    refused = c.post(FS_IMAGE, json=body).json()
    assert refused["code"] == 1003 and "targetImage[0].opts" in refused["msg"], refused
