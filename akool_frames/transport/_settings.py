"""What the transport reads of a Client (``Settings``): its credentials, addresses, limits and network. A
protocol, so that the transport does not import the Client that makes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ._network import Network

__all__ = ["Credential", "Settings"]


class Credential(Protocol):
    """A secret that shows itself only when asked (``af.Secret``)."""

    def reveal(self) -> str: ...


class Settings(Protocol):
    """The Client's settings the HTTP layer, the webhook receiver and webhook verification read (the credentials and
    addresses as read-only properties: the Client's ``Secret`` is a ``Credential``, its dict a ``Mapping``)."""

    @property
    def api_key(self) -> Credential | None: ...
    @property
    def client_secret(self) -> Credential | None: ...
    @property
    def audiocleaner_api_key(self) -> Credential | None: ...
    @property
    def kling_access_key(self) -> Credential | None: ...
    @property
    def kling_secret_key(self) -> Credential | None: ...
    @property
    def base_urls(self) -> Mapping[str, str]: ...

    client_id: str | None
    max_concurrency: int
    timeout: float
    rate_limit: float | None
    transport: Any  # an httpx.AsyncBaseTransport of the user's, or None
    network: Network
    webhook_host: str
    webhook_port: int
    gate_at: Any  # where the account-wide gate lives: a folder, a postgresql:// URL, or None (this client's own)

    @property
    def ledger(self) -> Any: ...  # where callbacks are recorded (``af.ledger`` over it)

    @property
    def http(self) -> Any: ...  # this client's ``Http`` (its webhook receiver lives on it)

    def credentials(self, provider: str) -> None: ...
