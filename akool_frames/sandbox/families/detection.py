"""Akool Face Detection (ai-tools-suite/face-detection, pages 07-09): detect_faces and analyze_frames.

Both answer at once (no job, nothing to poll) in their own envelopes, not Akool's code/msg/data:
detect_faces ``{error_code, error_msg, faces_obj}`` (0 = success, 1 = error), analyze_frames
``{success, frame_count, persons}`` (or ``{success: false, error}``). Full URLs: catalog part 1, E6 and E7
(``https://openapi.akool.com/interface/detect-api/...``, from the pages' code samples).

The sandbox sees no pixels. A URL's faces are made up from a hash of the URL, so the same URL always gets
the same faces; how many comes from ``SandboxConfig.faces`` ({url: n}, default 1). The picture is taken to be
1920x1080 with the faces side by side, left to right. Requests are counted in ``stats()["detections"]``
(not as creates: no job and no charge; the pages give no price).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
from typing import Any
from urllib.parse import urlsplit

from .._inputs import fields
from .._routes import Ctx, Raw, route
from .._state import Media, static_file
from .._validate import ApiError, F, validate

__all__: list[str] = []  # its routes register themselves (@route)

PREFIX = "/interface/detect-api"
WIDTH, HEIGHT = 1920, 1080  # the sandbox's picture size (it reads no pixels)
# Page 07, "Supported Formats": Images JPG, JPEG, PNG, BMP, WEBP; Videos MP4, MOV, AVI, WEBM.
VIDEO_EXTS = ("mp4", "mov", "avi", "webm")
IMAGE_EXTS = ("jpg", "jpeg", "png", "bmp", "webp")
DEFAULT_FRAMES = 5  # page 09: num_frames "No | 5 | Number of frames for video analysis"

Box = tuple[int, int, int, int]  # x, y, width, height


# ----------------------------------------------------------------------------- made-up faces
def _rng(key: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))


def face_count(ctx: Ctx, key: str) -> int:
    """How many faces the sandbox "sees" at a URL (or in a base64 image): SandboxConfig.faces, default 1."""
    return int(ctx.state.config.faces.get(key, 1))


def face_boxes(key: str, count: int) -> list[Box]:
    """``count`` face boxes [x, y, width, height], left to right, fixed by the hash of ``key``."""
    rng = _rng("faces:" + key)
    slot = WIDTH / max(count, 1)
    boxes = []
    for i in range(count):
        w = max(40, int(min(slot * 0.7, 400) * rng.uniform(0.7, 1.0)))
        h = min(HEIGHT - 1, int(w * 1.25))
        x = int(slot * i + (slot - w) * rng.random())
        y = int((HEIGHT - h) * rng.uniform(0.2, 0.6))
        boxes.append((x, y, w, h))
    return boxes


def landmarks(box: Box, key: str) -> list[list[int]]:
    """Page 07's 6 points, in its order: left eye, right eye, nose tip, mouth center, left and right mouth corner."""
    x, y, w, h = box
    rng = _rng(f"landmarks:{key}:{box}")
    where = ((0.32, 0.40), (0.68, 0.40), (0.50, 0.58), (0.50, 0.76), (0.36, 0.76), (0.64, 0.76))
    return [[int(x + fx * w + rng.randint(-2, 2)), int(y + fy * h + rng.randint(-2, 2))] for fx, fy in where]


def landmarks_str(points: list[list[int]], dx: int = 0, dy: int = 0) -> str:
    """Page 09: "First 4 landmarks as string format "x1,y1:x2,y2:x3,y3:x4,y4"" (the face swap ``opts``)."""
    return ":".join(f"{px - dx},{py - dy}" for px, py in points[:4])


def face_url(ctx: Ctx, key: str) -> str:
    """A cropped face picture served by the sandbox (a PNG that never expires)."""
    return static_file(ctx.base_url, "face-" + hashlib.sha256(key.encode()).hexdigest()[:16], Media("png"))


def _frame(ctx: Ctx, key: str, boxes: list[Box], *, with_urls: bool, frame_time: float | None) -> dict[str, Any]:
    """One ``faces_obj`` entry (page 09, "Face Frame Data")."""
    points = [landmarks(box, key) for box in boxes]
    frame: dict[str, Any] = {
        "landmarks": points, "landmarks_str": [landmarks_str(p) for p in points],
        "region": [list(box) for box in boxes], "removed": [], "frame_time": frame_time,
        # Page 09's "Response Format" shows them null unless return_face_url=true.
        "face_urls": None, "crop_region": None, "crop_landmarks": None,
    }
    if with_urls:
        crops, crop_points = [], []
        for (x, y, w, h), p in zip(boxes, points, strict=True):
            # Page 09, Example 3: region [80, 50, 150, 180] -> crop_region [30, 0, 250, 280] and crop_landmarks
            # shifted by the crop's corner: a margin of a third of the face width, clipped at the picture's edge.
            pad = round(w / 3)
            cx, cy = max(0, x - pad), max(0, y - pad)
            crops.append([cx, cy, w + 2 * pad, h + 2 * pad])
            crop_points.append(landmarks_str(p, cx, cy))
        frame.update(face_urls=[face_url(ctx, f"{key}:{i}:{list(b)}") for i, b in enumerate(boxes)],
                     crop_region=crops, crop_landmarks=crop_points)
    return frame


def _largest(boxes: list[Box]) -> list[Box]:
    """Page 09, single_face: "Return only the largest face" (page 07: "by area")."""
    return [max(boxes, key=lambda b: b[2] * b[3])] if boxes else []


def _valid_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_video(ctx: Ctx, url: str) -> bool:
    """Page 07, "Auto Media Type Detection": by file extension first. The sandbox reads no Content-Type or
    content, so a URL without a known extension is an image, unless SandboxConfig.media gives it a length."""
    ext = urlsplit(url).path.rsplit(".", 1)[-1].lower() if "." in urlsplit(url).path else ""
    if ext in VIDEO_EXTS:
        return True
    return ext not in IMAGE_EXTS and url in ctx.state.config.media


# ----------------------------------------------------------------------------- detect_faces
def _detect_error(msg: str) -> Raw:
    # Page 09, "Error Responses": error_code 1 with the message (HTTP status undocumented: 200 here).
    return Raw(error_code=1, error_msg=msg)


@route("POST", f"{PREFIX}/detect_faces", provider="akool", kind="detect", name="detect_faces", inputs=fields("url"))
def detect_faces(ctx: Ctx) -> Raw:
    body = ctx.body
    try:
        validate(body, [F("url"), F("img"), F("num_frames", "int", min=1), F("return_face_url", "bool"),
                        F("single_face", "bool")])
    except ApiError as err:  # not on the page: the sandbox's wording, in the page's error envelope
        return _detect_error(err.msg)
    url, img = body.get("url"), body.get("img", "")
    if not url and not img:
        return _detect_error("Either 'url' or 'img' parameter must be provided")  # page 09
    with_urls, single = bool(body.get("return_face_url")), bool(body.get("single_face"))
    if url:  # page 09: "If both are provided, `url` takes priority."
        if not _valid_url(url):
            return _detect_error("Invalid URL format")  # page 09
        if ctx.bad_input:  # a loopback URL the sandbox could not fetch (_fetch)
            return _detect_error("Failed to download media from URL")  # page 09
        key = url.strip()
    else:
        data = img.split(",", 1)[1] if img.startswith("data:") and "," in img else img  # "with or without data
        try:  # URI prefix" (page 07)
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return _detect_error("Failed to process media")  # page 07, Common Errors
        key = img
    boxes = face_boxes(key, face_count(ctx, key))
    if single:
        boxes = _largest(boxes)
    if not boxes:
        # Page 07, Common Errors: "No faces detected" (catalog: error or empty success is ambiguous).
        return _detect_error("No faces detected")
    if url and _is_video(ctx, key):
        # Video: num_frames frames spread over the video's length (SandboxConfig.media or the default), the
        # same faces in each, drifting a little; frame_time in seconds. For images num_frames "will be ignored".
        frames = int(body.get("num_frames") or DEFAULT_FRAMES)
        seconds = ctx.state.media_seconds(key)
        faces_obj = {}
        for i in range(frames):
            moved = [(min(WIDTH - w, x + 2 * i), y, w, h) for x, y, w, h in boxes]
            faces_obj[str(i)] = _frame(ctx, key, moved, with_urls=with_urls,
                                       frame_time=round(i * seconds / frames, 3))
    else:
        faces_obj = {"0": _frame(ctx, key, boxes, with_urls=with_urls, frame_time=None)}
    return Raw(error_code=0, error_msg="SUCCESS", faces_obj=faces_obj)


# ----------------------------------------------------------------------------- analyze_frames
def _analyze_error(msg: str) -> Raw:
    return Raw(success=False, error=msg)  # page 08, "Error Responses": success false, `error`


@route("POST", f"{PREFIX}/faceswap/analyze_frames", provider="akool", kind="detect", name="analyze_frames",
       inputs=fields("frame_urls[]"))
def analyze_frames(ctx: Ctx) -> Raw:
    body = ctx.body
    frame_urls = body.get("frame_urls")
    if not isinstance(frame_urls, list) or not frame_urls:
        return _analyze_error("frame_urls is required and must not be empty")  # page 08
    try:
        validate(body, [F("timestamps", "list"), F("expand_ratio", "num", min=0, max=1)])  # "(0-1)", page 08
    except ApiError as err:
        return _analyze_error(err.msg)
    if not all(_valid_url(u) for u in frame_urls):
        return _analyze_error("Failed to download image from URL")  # page 08
    if ctx.bad_input:  # a loopback URL the sandbox could not fetch (_fetch)
        return _analyze_error("Failed to download image from URL")  # page 08
    given = body.get("timestamps") or []
    # Page 08: timestamps default "[0.0, 1.0, ...]"; a missing or non-numeric one falls back to its index.
    times = [float(given[i]) if i < len(given) and isinstance(given[i], int | float) and not isinstance(given[i], bool)
             else float(i) for i in range(len(frame_urls))]
    # Page 08: "Single Image: Each face becomes a separate person (no deduplication). Multiple Images: Same person
    # across frames is merged into one entry." The sandbox's reading: the k-th face from the left is the same
    # person in every frame.
    people: dict[int, list[dict[str, Any]]] = {}
    for f, url in enumerate(frame_urls):
        key = url.strip()
        for k, (x, y, w, h) in enumerate(face_boxes(key, face_count(ctx, key))):
            people.setdefault(k, []).append({"timestamp": times[f], "frame_idx": f, "bbox": [x, y, x + w, y + h]})
    persons = []
    for k, seen in people.items():
        first = seen[0]
        key = f"{frame_urls[first['frame_idx']].strip()}:person:{k}"
        persons.append({
            "face_url": face_url(ctx, key), "bbox": first["bbox"],  # page 08: "[x1, y1, x2, y2] from first appearance"
            "confidence": round(_rng(key).uniform(0.90, 0.99), 2), "appearances": seen,
            "first_seen": min(a["timestamp"] for a in seen), "last_seen": max(a["timestamp"] for a in seen),
        })
    persons.sort(key=lambda p: p["bbox"][0])  # page 08, index: "Sort index (left to right by x-coordinate)"
    ordered = [{"person_id": f"person_{i}", "index": i, **p} for i, p in enumerate(persons)]
    # No faces: page 08, "true | (empty persons array) | No faces detected".
    return Raw(success=True, frame_count=len(frame_urls), persons=ordered)
