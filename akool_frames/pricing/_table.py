"""The documented rates, as data, each with the page it comes from (``_rules`` applies them; the image-to-video
models' unit credits are the catalog's ``I2V_MODELS``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RATES", "Rate"]


@dataclass(frozen=True)
class Rate:
    """Credits per ``unit``, keyed (by plan, resolution, ...), and the page that says so."""

    unit: str
    credits: Mapping[Any, float]
    source: str
    documented: bool = True  # False: only seen in example responses


RATES: dict[str, Rate] = {
    "character_swap": Rate(
        "credits per started 5 s of video, by resolution", {"480p": 5, "720p": 10, "1080p": 15},
        "ai-tools-suite/character-swap#pricing: 'Unit Credit (per 5 seconds)'; 12 s at 720p = 30 (so blocks "
        "are rounded up; the page's own formula 12/5x10 = 24 contradicts its total)"),
    "image_to_video": Rate(
        "credits per video, by (video_length s, resolution)",
        {(5, "720p"): 20, (5, "1080p"): 25, (5, "4k"): 30, (10, "720p"): 40, (10, "1080p"): 50, (10, "4k"): 60},
        "ai-tools-suite/image2video#pricing 'Image to Video' table"),
    "video_audio": Rate(
        "credits per video, by the source video's length (5 or 10 s)", {5: 5, 10: 10},
        "ai-tools-suite/image2video#pricing 'Video to Audio' table (charged only when used separately)"),
    "tts": Rate(
        "credits per 1000 characters, by plan, no rounding", {"pro": 4.4, "max": 3.2, "business": 2.4},
        "ai-tools-suite/voiceLab#rates (Enterprise: Customized); 117 chars on pro = 0.5148 in the resource "
        "detail example"),
    "voice_change": Rate(
        "credits per minute of source audio, by plan, no rounding", {"pro": 4.4, "max": 3.2, "business": 2.4},
        "ai-tools-suite/voiceLab#rates (Enterprise: Customized); 12.8 s on business = 0.512 in the changer "
        "example"),
    "voice_clone": Rate(
        "credits per clone", {"clone": 0},
        "ai-tools-suite/voiceLab#rates: plans cap the number of voices (30/180/500); clone answers show "
        "deduction_credit 0"),
    "audiocleaner.tts": Rate(
        "credits per started 100 characters", {"block": 1},
        "audiocleaner.ai TTS API 'Credit Billing Rules': 215 characters = 3, 60 = 1"),
    "moderation": Rate(
        "credits by content type: text per 600 characters, image per image, audio/video per minute",
        {1: 0.2, 2: 1.0, 3: 0.5, 4: 0.1},
        "ai-tools-suite/jarvis-moderator pricing table (1 credit = 0.04 USD); rounding of partial 600-character "
        "blocks and minutes is not documented: priced pro rata, not rounded"),
    # Seen only as deduction_credit in example answers, never stated as a rule: returned as estimates.
    "background_change": Rate("credits per job (observed)", {"job": 4},
                              "ai-tools-suite/background-change examples: deduction_credit 4", documented=False),
    "image_generate": Rate("credits per job (observed)", {"job": 2},
                           "ai-tools-suite/image-generate createbyprompt example: deduction_credit 2",
                           documented=False),
    "image_button": Rate("credits per job (observed)", {"job": 2},
                         "ai-tools-suite/image-generate createbybutton example: deduction_credit 2",
                         documented=False),
}
