"""The public surface is exactly what PRODUCT.md names: a change here is a change to the contract."""

from __future__ import annotations

import pandas as pd
import polars as pl

import akool_frames as af

PUBLIC = {
    "APIError", "AccountError", "AkoolError", "AuthError", "BudgetExceeded", "Client", "Col", "ConfigError", "Faults", "JOBS",
    "LedgerError", "NotFound", "ParameterError", "QuotaError", "RateLimited", "Report", "Sandbox", "SandboxConfig",
    "Secret", "ServerError", "TransportError", "ValidationError", "ai_models", "avatars", "calibrate", "campaigns", "col",
    "credits", "default_client", "effects", "explode_languages", "forecast", "languages", "ledger", "read_sheet",
    "report", "sandbox", "set_default_client", "voices", "write_sheet",
    "jobs", "describe",  # PRODUCT.md "Knowing the jobs" (issue 11)
    "AccountWarning",  # PRODUCT.md "Networks" (issue 19)
    "VoiceLanguageWarning",  # a voice asked for a language other than its locale (issue 20)
}
VERBS = {"estimate", "submit", "run", "refresh", "download", "delete", "aestimate", "asubmit", "arun", "arefresh",
         "adownload", "adelete"}
PRODUCT_JOBS = {
    "tts", "voice_clone", "voice_change", "legacy_tts", "legacy_voice_clone", "talking_photo", "talking_avatar",
    "avatar_upload", "image_to_video", "video_audio", "lip_sync", "video_translation", "faceswap_image",
    "faceswap_video", "faceswap_pro", "reage_image", "reage_video", "background_change", "image_generate",
    "image_button", "character_swap", "moderation", "audiocleaner.tts", "kling.custom_voice",
}
# Issue 9 adds face detection, so that face swap and reage can get their opts: a job beyond PRODUCT.md's table.
ADDED_JOBS = {"detect_faces"}


def test_all_is_the_public_surface() -> None:
    assert set(af.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(af, name), name


def test_accessors_are_registered_with_every_verb() -> None:
    for frame in (pd.DataFrame({"a": [1]}), pl.DataFrame({"a": [1]})):
        assert VERBS <= set(dir(frame.akool))
    assert "estimate" in dir(pl.LazyFrame({"a": [1]}).akool)


def test_every_job_of_the_product_table_exists() -> None:
    assert set(af.JOBS) == PRODUCT_JOBS | ADDED_JOBS
