"""Facts shared by the Akool families: the account's ids, plan limits, simulated speech length."""

from __future__ import annotations

import math
from typing import Any

from .._routes import Ctx
from .._state import Job
from .._validate import ApiError

__all__ = ["UID", "TEAM_ID", "PLAN_TEXT_LIMIT", "speech_seconds", "base_record", "price", "started_blocks",
           "voice_not_found"]

UID = 101400
TEAM_ID = "6805fb69e92d9edc7ca0b409"

# Per-request text limits by plan (VoiceLab TTS and talking-avatar input_text).
PLAN_TEXT_LIMIT = {"pro": 5000, "max": 10000, "business": 50000}

# The sandbox's assumption for speech made from text: 15 characters per second at speed 1.
CHARS_PER_SECOND = 15.0


def speech_seconds(text: str, speed: float = 1.0) -> float:
    return round(max(0.5, len(text) / CHARS_PER_SECOND / max(speed, 0.1)), 3)


def started_blocks(seconds: float, block: float) -> int:
    """Whole blocks, a started block counting as one (12 s in 5 s blocks -> 3)."""
    return max(1, math.ceil(round(seconds / block, 9)))


def price(ctx: Ctx, name: str, default: float) -> float:
    """A configurable price for jobs whose price the docs do not give."""
    return float(ctx.state.config.prices.get(name, default))


def base_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """Fields every Akool job record carries in the examples."""
    return {"_id": job.id, "create_time": int(job.created * 1000), "uid": UID, "team_id": TEAM_ID}


def voice_not_found(ctx: Ctx, field: str, value: object) -> ApiError:
    """An unknown voice: 1008, not a parameter error (what real clients meet: "does not exist" / "voice not found").

    ai-tools-suite/error-code (page 06): "1008 | content not exist"; the product pages word it
    "The content you get does not exist".
    """
    return ApiError(ctx.provider.not_found_code,
                    f"content not exist: voice not found, {field} {value!r} does not exist")
