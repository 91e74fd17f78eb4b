"""The engine: prepare (validate, price) -> submit (claim, create) -> follow -> reconcile, around one run's state
(``_run``) that the steps share. Frames, reports and the CLI call it through these names."""

from __future__ import annotations

from ._execute import execute, refresh_jobs
from ._gc import paused_gc
from ._localize import LANGUAGE_FIELDS, VOICE_LANGUAGE, check_languages, explode_languages, voice_mismatch, voice_records
from ._prepare import Outcome, Prepared, estimate_outcome, prepare, prepare_rows
from ._run import SETTINGS

__all__ = [
    "LANGUAGE_FIELDS", "SETTINGS", "VOICE_LANGUAGE", "Outcome", "Prepared", "check_languages",
    "estimate_outcome", "execute", "explode_languages", "paused_gc", "prepare", "prepare_rows", "refresh_jobs",
    "voice_mismatch", "voice_records",
]
