"""The ledger: every create's intent, job id and outcome, keyed by what the row asked for, so that no row is paid
for twice. SQLite is the embedded store (``_store``); the schema and keys are ``_entries``; the results saved
(``save_to=``, ``download``) are ``_saves``."""

from __future__ import annotations

from ._entries import CALLBACK_FIELDS, PUBLIC_COLUMNS, TERMINAL, Claim, Entry, decide, ledger_key
from ._saves import Saved
from ._store import Ledger

__all__ = ["CALLBACK_FIELDS", "PUBLIC_COLUMNS", "TERMINAL", "Claim", "Entry", "Ledger", "Saved", "decide", "ledger_key"]
