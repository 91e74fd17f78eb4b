"""Exceptions raised by akool_frames, and the provider business codes that map onto them.

    AkoolError
    ├── ConfigError          a setting is missing or wrong (e.g. no API key)
    ├── ValidationError      a parameter breaks its documented rule (rows get status "invalid")
    ├── BudgetExceeded       the estimate is over ``budget=``; nothing was sent
    ├── LedgerError          the ledger file cannot be used
    ├── TransportError       the request did not complete (connect error, reset, timeout)
    │                        ``may_have_reached`` says whether the provider may have received it
    ├── ServerError          not the provider's own answer: a gateway's 5xx, an HTML page, a body not JSON
    └── APIError             the provider answered with a business error code
        ├── AuthError        missing or invalid credentials (Akool 1101/1102, audiocleaner 101002…)
        ├── QuotaError       not enough credits (Akool 1006/1104, audiocleaner 100100, Kling 1102…)
        ├── AccountError     the account cannot do it: not found, blocked, not subscribed (Akool 1109/1200/1213/1221)
        ├── RateLimited      throttling (HTTP 429, Akool 1005, audiocleaner 101003/101004)
        ├── ParameterError   the provider rejected a parameter (Akool 1003…)
        └── NotFound         the job or resource does not exist (or no longer)

    AccountWarning (UserWarning)  a run stopped sending because the account was refused (key, balance, plan)
    VoiceLanguageWarning (UserWarning)  rows ask a voice for a language other than its locale

Messages never contain secrets: credentials are kept in ``Secret`` objects and headers are
never formatted into text.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import warnings
from collections.abc import Iterator

__all__ = [
    "APIError", "AccountError", "AccountWarning", "AkoolError", "AuthError", "BudgetExceeded", "ConfigError",
    "LedgerError", "NotFound", "ParameterError", "QuotaError", "RateLimited", "ServerError", "TransportError",
    "ValidationError", "VoiceLanguageWarning", "collecting", "error_for_code", "say", "warn_now",
]


class AkoolError(Exception):
    """Base class of every akool_frames error."""


class ConfigError(AkoolError, ValueError):
    """A client setting is missing or wrong."""


class ValidationError(AkoolError, ValueError):
    """A job parameter breaks its documented rule."""


class BudgetExceeded(AkoolError):
    """The estimated cost is over ``budget=``; nothing was sent."""

    def __init__(self, estimate: float, budget: float, unpriced: int = 0) -> None:
        extra = f" ({unpriced} row(s) have no price and are not counted)" if unpriced else ""
        super().__init__(
            f"The estimate is {estimate:g} credits, over the budget of {budget:g}{extra}; nothing was sent.\n\n"
            "Hint: raise budget=, or run a subset of the rows."
        )
        self.estimate, self.budget = estimate, budget


class LedgerError(AkoolError):
    """The ledger cannot be opened or written."""


class TransportError(AkoolError):
    """The request did not complete. ``may_have_reached`` is False only when it provably never left."""

    def __init__(self, message: str, *, may_have_reached: bool) -> None:
        super().__init__(message)
        self.may_have_reached = may_have_reached


class ServerError(AkoolError):
    """An answer that is not the provider's own: a gateway's HTTP 5xx, an HTML page, a body that is not JSON.
    ``status`` is the HTTP status. Unless ``not_processed``, a create answered so may have made its job."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after

    @property
    def not_processed(self) -> bool:
        """HTTP's own word that nothing was done: 429, or 503 with Retry-After (a bare 503 from a CDN may follow
        a job it made)."""
        return self.status == 429 or (self.status == 503 and self.retry_after is not None)


class APIError(AkoolError):
    """The provider answered with an error code."""

    def __init__(self, provider: str, code: int | str, message: str, *, http_status: int = 200) -> None:
        super().__init__(f"{provider} error {code}: {message}")
        self.provider, self.code, self.message, self.http_status = provider, code, message, http_status


class AuthError(APIError):
    """Credentials are missing, wrong or expired."""


class QuotaError(APIError):
    """The account has not enough credits for this job."""


class AccountError(APIError):
    """The account itself cannot do this: it does not exist, is blocked, or its plan does not include it."""


class RateLimited(APIError):
    """The provider asks to slow down. ``retry_after`` in seconds when it says."""

    def __init__(self, provider: str, code: int | str, message: str, *, http_status: int = 200,
                 retry_after: float | None = None) -> None:
        super().__init__(provider, code, message, http_status=http_status)
        self.retry_after = retry_after


class AccountWarning(UserWarning):
    """A call stopped sending because the account, not a row, was refused: a wrong key, no credits, no plan.

    The rows not sent end ``skipped``; the message names the cause and the setting to change. Raised as a
    warning (not an error) because the rows' outcomes are still returned; ``warnings.simplefilter("error",
    af.AccountWarning)`` makes it an exception.
    """


class VoiceLanguageWarning(UserWarning):
    """Rows ask a voice for a language other than its own (its locale): an English voice reading ja, zh, ko lines
    reads them with an English accent, or not at all. One per call, naming each voice and the rows' languages."""


class ParameterError(APIError):
    """The provider rejected a parameter."""


class NotFound(APIError):
    """The job or resource does not exist."""


# Business codes per provider -> error class. Everything else is a plain APIError.
_CODES: dict[str, dict[int, type[APIError]]] = {
    # ai-tools-suite/error-code: 1109 account not exist, 1200 Account blocked, 1213 Requires subscription user
    # to use, 1221 Account not subscribed
    "akool": {1003: ParameterError, 1005: RateLimited, 1006: QuotaError, 1104: QuotaError, 1103: QuotaError,
              1008: NotFound, 1014: NotFound, 1101: AuthError, 1102: AuthError, 1109: AccountError,
              1200: AccountError, 1213: AccountError, 1221: AccountError},
    "audiocleaner": {100100: QuotaError, 101002: AuthError, 101003: RateLimited, 101004: RateLimited,
                     101005: AuthError, 101006: AuthError, 101008: NotFound, 100001: ParameterError},
    "kling": {1000: AuthError, 1001: AuthError, 1002: AuthError, 1003: AuthError, 1004: AuthError,
              1100: QuotaError, 1101: QuotaError, 1102: QuotaError, 1200: ParameterError, 1201: ParameterError,
              1203: NotFound, 1302: RateLimited, 1303: RateLimited},
}


def error_for_code(provider: str, code: int, message: str, *, http_status: int = 200,
                   retry_after: float | None = None) -> APIError:
    cls = _CODES.get(provider, {}).get(code, APIError)
    if http_status == 429 and cls is APIError:
        cls = RateLimited
    if cls is RateLimited:
        return RateLimited(provider, code, message, http_status=http_status, retry_after=retry_after)
    return cls(provider, code, message, http_status=http_status)


_PACKAGE = __name__.split(".")[0]
# Warnings a call has for its user, collected while it runs (see ``collecting``): (category, message).
_NOTICES: contextvars.ContextVar[list[tuple[type[Warning], str]] | None] = contextvars.ContextVar(
    "akool_frames_notices", default=None)


def say(category: type[Warning], message: str) -> None:
    """A warning for the user's call: collected when the call collects (it says them in its own thread once it
    is back: not in the loop's thread, where the caller's filters and ``catch_warnings`` would not apply), else
    said now."""
    collected = _NOTICES.get()
    if collected is not None:
        collected.append((category, message))
    else:
        warn_now(category, message)


@contextlib.contextmanager
def collecting() -> Iterator[list[tuple[type[Warning], str]]]:
    """Collect what ``say`` is told in this context, and in tasks started from it (they copy the context)."""
    found: list[tuple[type[Warning], str]] = []
    token = _NOTICES.set(found)
    try:
        yield found
    finally:
        _NOTICES.reset(token)


def warn_now(category: type[Warning], message: str) -> None:
    """The warning, on every call, not once per line like ``warnings.warn`` (a re-run of a notebook cell must say
    it again): the registry is a fresh one; filters ("ignore", "error") still apply. Attributed to the first frame
    outside this package, the user's line. An ``AccountWarning`` is also a WARNING log record (logger
    ``akool_frames``, marked so the CLI, which prints the warning, leaves the record out)."""
    if issubclass(category, AccountWarning):
        logging.getLogger("akool_frames").warning(message, extra={"akool_account": True})
    here = frame = sys._getframe(1)  # noqa: SLF001  # the caller's frame, cheaply (inspect.stack() reads every file)
    ours = (_PACKAGE, "asyncio", "threading", "concurrent", "contextlib")
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).split(".")[0] in ours:
        frame = frame.f_back
    if str(frame.f_globals.get("__name__", "")).split(".")[0] in ours:  # the loop's thread: no user frame in it
        frame = here
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=str(frame.f_globals.get("__name__", "")), registry=None)
