"""The wire: API exchanges over aiohttp (proxies and certificates from the environment or the Client), the
concurrency gate and the adaptive rate limiter, and webhook callbacks (verified, decrypted, recorded)."""

from __future__ import annotations

from ._exchange import is_timeout
from ._http import BASE_URL_SETTINGS, Http
from ._network import CA_SETTINGS, PROXY_SETTINGS, Network, redact
from ._receiver import Receiver, receiver_of
from ._settings import Credential, Settings
from ._webhook import WebhookRejected, apply, asgi_app, read_callback, verify

__all__ = [
    "BASE_URL_SETTINGS", "CA_SETTINGS", "PROXY_SETTINGS", "Credential", "Http", "Network", "Receiver", "Settings",
    "WebhookRejected", "apply", "asgi_app", "is_timeout", "read_callback", "receiver_of", "redact", "verify",
]
