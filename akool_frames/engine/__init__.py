"""The engine: prepare (validate, price) -> submit (claim, create) -> follow -> reconcile, around one run's state
(``_run``) that the steps share; results saved as their jobs complete (``_save``). Frames, reports and the CLI call
it through these names."""

from __future__ import annotations

from ._budget import open_campaign
from ._execute import execute, refresh_jobs
from ._gc import paused_gc
from ._localize import LANGUAGE_FIELDS, VOICE_LANGUAGE, check_languages, explode_languages, voice_mismatch, voice_records
from ._prepare import Outcome, Prepared, estimate_outcome, prepare, prepare_rows
from ._run import SETTINGS
from ._save import JOB_ID, Fetched, SaveTo, save_file

__all__ = [
    "JOB_ID", "LANGUAGE_FIELDS", "SETTINGS", "VOICE_LANGUAGE", "Fetched", "Outcome", "Prepared", "SaveTo",
    "check_languages", "estimate_outcome", "execute", "explode_languages", "open_campaign", "paused_gc", "prepare",
    "prepare_rows",
    "refresh_jobs", "save_file", "voice_mismatch", "voice_records",
]
