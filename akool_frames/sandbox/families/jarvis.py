"""Akool Jarvis Moderator (page 20): moderate an image, video, audio or text; poll the conclusion.

The sandbox's verdict is deterministic, from the content itself (the text, or the URL string):
a word of a moderated label (e.g. "violence", "gun") or one of the caller's own ``input`` terms
makes it Non-Compliant, "unknown" or "unclear" makes it Unknown, anything else is Compliant.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from .._inputs import fields, is_http_url
from .._routes import Ctx, make_job, route
from .._state import Job
from .._validate import F, validate
from ._common import UID

__all__: list[str] = []  # its routes register themselves (@route)

IMAGE, VIDEO, AUDIO, TEXT = 1, 2, 3, 4
# Pricing table: text 0.1 per 600 characters, image 0.2 each, audio 0.5 per minute, video 1 per minute.
# Rounding of partial blocks/minutes is undocumented: the sandbox charges pro rata, no rounding.
TEXT_CREDITS_PER_600 = 0.1
IMAGE_CREDITS = 0.2
PER_MINUTE = {AUDIO: 0.5, VIDEO: 1.0}
AUDIO_MAX_SECONDS = 60 * 60  # "We restrict audio to 25MB, 60minute"
FORMATS = {  # documented extensions, checked when the URL's path has one
    IMAGE: (".png", ".jpeg", ".jpg", ".webp", ".gif"),
    VIDEO: (".mp4", ".avi"),
    AUDIO: (".flac", ".mp3", ".mp4", ".mpeg", ".mpga", ".m4a", ".ogg", ".wav", ".webm"),
    TEXT: (".txt", ".docx", ".xml", ".pdf", ".csv", ".md", ".json"),
}
KIND_NAME = {IMAGE: "image", VIDEO: "video", AUDIO: "audio", TEXT: "text"}

# label -> words that trigger it (labels from the page's "Internationalization labels").
LABELS = {
    "violence": ("violence", "violent", "gun", "weapon", "kill", "blood", "terror"),
    "sexual": ("porn", "nude", "sexual", "nsfw"),
    "contraband": ("cocaine", "heroin", "contraband", "drugs"),
    "profanity": ("profanity", "damn"),
    "advertising": ("casino", "free money", "click here"),
    "cyberbullying": ("loser", "bully"),
}
UNKNOWN_WORDS = ("unknown", "unclear")

FIELDS = [  # no required flags are documented (only input is marked Optional): content and type are needed
    F("content", required=True, nonempty=True),
    F("type", "int", required=True, enum=(IMAGE, VIDEO, AUDIO, TEXT)),
    F("language"), F("webhookUrl"), F("input"),
]


def _is_url(value: str) -> bool:
    parsed = urlparse(value.strip())
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _check_content(ctx: Ctx, kind: int, content: str) -> None:
    if not _is_url(content):
        if kind != TEXT:
            raise ctx.param_error(f"Parameter error: content must be a URL when type is {kind} ({KIND_NAME[kind]})")
        return
    path = urlparse(content.strip()).path.lower()
    ext = path[path.rfind("."):] if "." in path.rsplit("/", 1)[-1] else ""
    if ext and ext not in FORMATS[kind]:
        raise ctx.param_error(f"Parameter error: content {ext} files are not supported for {KIND_NAME[kind]}; "
                              f"use {', '.join(FORMATS[kind])}")


def credits_for(ctx: Ctx, kind: int, content: str) -> tuple[float, float]:
    """(credits, media seconds). A text given by URL is counted by the characters sent (the sandbox reads no documents)."""
    if kind == IMAGE:
        return IMAGE_CREDITS, 0.0
    if kind == TEXT:
        return round(len(content) / 600 * TEXT_CREDITS_PER_600, 6), 0.0
    seconds = ctx.state.media_seconds(content)
    if kind == AUDIO and seconds > AUDIO_MAX_SECONDS:
        raise ctx.param_error(f"Parameter error: content audio is {seconds:g} s; the limit is 60 minutes")
    return round(seconds / 60 * PER_MINUTE[kind], 6), seconds


def verdict(content: str, custom: str | None) -> tuple[str, str]:
    """(result text, final_conclusion), decided by the words in the content."""
    text = content.lower()
    findings = [f"- {label}: the content contains {word!r}, which can be associated with {label} content."
                for label, words in LABELS.items() for word in words if re.search(rf"\b{re.escape(word)}\b", text)]
    terms = [t.strip().lower() for t in re.split(r"[,;\n]", custom or "") if t.strip()]
    findings += [f"- customized: the content contains the specified term {t!r}." for t in terms if t in text]
    if findings:
        conclusion = "Non-Compliant"
    elif any(word in text for word in UNKNOWN_WORDS):
        findings, conclusion = ["- The content could not be assessed with confidence."], "Unknown"
    else:
        findings, conclusion = ["- No policy violations detected."], "Compliant"
    return "\n".join(findings) + f"\nResult: {conclusion}", conclusion


def analysis_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """The create example's fields; result and final_conclusion (poll example) once completed."""
    status = job.status(ctx.state.clock.now())
    record: dict[str, Any] = {
        "_id": job.id, "create_time": int(job.created * 1000), "uid": UID, "type": job.body["type"],
        "status": status, "webhookUrl": job.body.get("webhookUrl", ""), "result": "", "__v": 0,
    }
    if status == 3:
        record["result"], record["final_conclusion"] = job.extra["result"], job.extra["final_conclusion"]
    return record


# content is fetched when it is a URL (image, video and audio must be; a text may be), never refused as one here:
# _check_content says what a non-URL content of a medium lacks.
@route("POST", "/api/open/v3/content/analysis/sentiment", provider="akool", kind="create", name="moderation",
       inputs=lambda body: [(p, v) for p, v in fields("content")(body) if is_http_url(v)])
def create_analysis(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, FIELDS)
    kind, content = ctx.body["type"], ctx.body["content"]
    language = ctx.body.get("language")
    if language and not re.fullmatch(r"[A-Za-z]{2}", language):
        raise ctx.param_error(f"Parameter error: language must be an ISO-639-1 code such as 'en'; got {language!r}")
    _check_content(ctx, kind, content)
    credits, seconds = credits_for(ctx, kind, content)
    result, conclusion = verdict(content, ctx.body.get("input"))
    processing = {IMAGE: 3.0, TEXT: 1.0 + len(content) / 2000}.get(kind, 2.0 + seconds * 0.1)
    # No result file. The webhook type list has no moderation entry: "image", the docs' example content.
    job = make_job(ctx, name="moderation", processing=processing, credits=credits, media=None, webhook_type="image",
                   extra={"result": result, "final_conclusion": conclusion})
    return analysis_record(job, ctx)


@route("GET", "/api/open/v3/content/analysis/infobyid", provider="akool", kind="poll", name="moderation_info")
def analysis_info(ctx: Ctx) -> dict[str, Any]:
    return analysis_record(ctx.job(ctx.require_query("_id"), "moderation"), ctx)
