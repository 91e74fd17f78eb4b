"""Akool Jarvis Moderator (v3): moderate an image, video, audio or text (ai-tools-suite/jarvis-moderator).

Enterprise users only. The answer is a verdict, not a file: ``final_conclusion`` (Non-Compliant, Compliant or
Unknown) is the result, and the free-text findings in ``result`` are kept beside it. No credit field exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._spec import Field, JobSpec, Poll

__all__ = ["JOBS", "MODERATION"]

_URL_ONLY = {1: "image", 2: "video", 3: "audio"}  # "a url must be provided"; text may be text or a url


def _check(body: Mapping[str, Any], plan: str) -> str | None:
    kind, content = body.get("type"), str(body.get("content") or "")
    if kind in _URL_ONLY and not content.lower().startswith(("http://", "https://")):
        return f"content must be a URL when type is {kind} ({_URL_ONLY[kind]})"
    return None


MODERATION = JobSpec(
    name="moderation",
    provider="akool",
    create="/api/open/v3/content/analysis/sentiment",
    fields=(
        # The table has no required flags (only input says "Optional"); content and type are what it moderates.
        Field("content", required=True),  # a URL, or for type 4 the text itself
        Field("type", "int", required=True, enum=(1, 2, 3, 4)),  # 1 image, 2 video, 3 audio, 4 text
        # jarvis-moderator: "language ... ISO-639-1" (two letters: zh, not zh-CN, which the provider refuses)
        Field("language", pattern=r"[a-z]{2}"),
        Field("webhookUrl"),
        Field("input"),  # your own criteria, in words
    ),
    poll=Poll("/api/open/v3/content/analysis/infobyid", "_id", every=3.0),
    status_field="status",  # the table text says video_status; every example says status
    result_field="final_conclusion",
    extra_fields={"result": "result"},
    price="moderation",
    credit_field=None,
    check=_check,
    aliases={"text": "content", "url": "content"},
    result_kind="text",
    doc="ai-tools-suite/jarvis-moderator",
)

JOBS = (MODERATION,)
