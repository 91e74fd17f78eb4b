"""Sandbox family: face detection (detect-api detect_faces and faceswap/analyze_frames) and what it feeds: the
shape of the answers for images, videos and base64 input, single_face, the documented errors, persons across
frames, and detected landmarks (whole picture or crop) driving the face swap and reage creates to completion.

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

DETECT = "/interface/detect-api/detect_faces"
ANALYZE = "/interface/detect-api/faceswap/analyze_frames"
FS_IMAGE = "/api/open/v3/faceswap/highquality/specifyimage"
FS_VIDEO = "/api/open/v3/faceswap/highquality/specifyvideo"
REAGE_IMAGE = "/api/open/v3/faceswap/highquality/imgreage"
FS_RESULTS = "/api/open/v3/faceswap/result/listbyids"

IMAGE = "https://d3t6pcz7y7ey7x.cloudfront.net/material1__a92671d0-7960-4028-b2fc-aadd3541f32d.jpg"
VIDEO = "https://d3t6pcz7y7ey7x.cloudfront.net/Video10__d2a8cf85-10ae-4c2d-8f4b-d818c0a2e4a4.mp4"
SOURCE_FACE = "https://example.com/replacement-face.jpg"
GROUP = "https://example.com/group_photo.jpg"
NOBODY = "https://example.com/landscape.jpg"
MEDIA = {VIDEO: 12.0}
FACES = {GROUP: 3, NOBODY: 0}


@pytest.fixture
def box(make_sandbox: Any) -> af.Sandbox:
    return make_sandbox(media=MEDIA, faces=FACES)


@pytest.fixture
def c(box: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(box) as client:
        yield client


def _mp4_seconds(url: str) -> float:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    return media_seconds(response.content, "mp4")


def _results(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    return ok(c.get(FS_RESULTS, params={"_ids": ",".join(ids)}))["result"]


def _swaps_done(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    return poll(lambda: {"r": _results(c, *ids)}, lambda a: all(r["faceswap_status"] in (3, 4) for r in a["r"]))["r"]


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
