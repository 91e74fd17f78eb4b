"""akool_frames: DataFrame rows in, paid AI media jobs out.

    import akool_frames as af            # registers df.akool on pandas and polars
    with af.sandbox() as sb:             # a local emulator of the documented APIs
        out = df.akool.run("tts", input_text=af.col("script"), voice_id=af.col("voice"), client=sb.client)

Each row becomes a job; status, result URL, credits and errors come back as columns, and the
ledger makes sure no row is paid for twice.
"""

from __future__ import annotations

from ._client import Client, Secret, default_client, set_default_client
from ._errors import (
    AccountError,
    AccountWarning,
    AkoolError,
    APIError,
    AuthError,
    BudgetExceeded,
    ConfigError,
    LedgerError,
    NotFound,
    ParameterError,
    QuotaError,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
    VoiceLanguageWarning,
)
from .catalog import JOBS
from .engine import explode_languages
from .frames import Col, col  # (importing frames registers df.akool on pandas and polars, where installed)
from .lookups import ai_models, avatars, campaigns, credits, effects, languages, ledger, voices
from .pricing import calibrate
from .reference import describe, jobs
from .report import Report, forecast, report
from .sandbox import Faults, Sandbox, SandboxConfig, sandbox
from .sheets import read_sheet, write_sheet

__all__ = [
    "APIError", "AccountError", "AccountWarning", "AkoolError", "AuthError", "BudgetExceeded", "Client", "Col",
    "ConfigError", "Faults", "JOBS", "LedgerError", "NotFound", "ParameterError", "QuotaError", "RateLimited", "Report",
    "Sandbox", "SandboxConfig", "Secret", "ServerError", "TransportError", "ValidationError", "VoiceLanguageWarning",
    "ai_models", "avatars", "calibrate", "campaigns", "col", "credits", "default_client", "describe", "effects",
    "explode_languages", "forecast", "jobs", "languages", "ledger", "read_sheet", "report", "sandbox",
    "set_default_client", "voices", "write_sheet",
]
__version__ = "0.1.0"
