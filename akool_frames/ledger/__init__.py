"""The ledger: every create's intent, job id and outcome, keyed by what the row asked for, so that no row is paid
for twice. SQLite is the embedded store (``_store``); PostgreSQL (``_postgres``, ``ledger="postgresql://..."``)
is the one several machines share; the schema and keys are ``_entries``; the results saved (``save_to=``,
``download``) are ``_saves``."""

from __future__ import annotations

from ._address import DatabaseAddress, is_database_url
from ._entries import CALLBACK_FIELDS, PUBLIC_COLUMNS, TERMINAL, Claim, Entry, decide, ledger_key
from ._postgres import PostgresLedger
from ._saves import Saved
from ._store import Ledger

__all__ = [
    "CALLBACK_FIELDS", "PUBLIC_COLUMNS", "TERMINAL", "Claim", "DatabaseAddress", "Entry", "Ledger", "PostgresLedger",
    "Saved", "decide", "is_database_url", "ledger_key",
]
