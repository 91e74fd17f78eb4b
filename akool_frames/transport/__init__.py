"""The wire: API exchanges over aiohttp (proxies and certificates from the environment or the Client), the
concurrency gate and the adaptive rate limiter (this process's, or one shared by every process on a ledger: lock
files on one machine, PostgreSQL across machines), and webhook callbacks (verified, decrypted, recorded)."""

from __future__ import annotations

from ._exchange import is_timeout
from ._file_gate import FileGate, gate_for, gate_place
from ._http import BASE_URL_SETTINGS, Http
from ._network import CA_SETTINGS, PROXY_SETTINGS, Network, redact
from ._pg_gate import PostgresGate
from ._receiver import Receiver, receiver_of
from ._settings import Credential, Settings
from ._shared_gate import SharedGate, SharedLimiter, is_postgres
from ._webhook import WebhookRejected, apply, asgi_app, read_callback, verify

__all__ = [
    "BASE_URL_SETTINGS", "CA_SETTINGS", "PROXY_SETTINGS", "Credential", "FileGate", "Http", "Network", "PostgresGate",
    "Receiver", "Settings", "SharedGate", "SharedLimiter", "WebhookRejected", "apply", "asgi_app", "gate_for",
    "gate_place", "is_postgres", "is_timeout", "read_callback", "receiver_of", "redact", "verify",
]
