"""Receive Akool webhooks: verify the signature, decrypt, and record the status in the ledger.

Akool POSTs ``{signature, dataEncrypt, timestamp, nonce}`` to the job's callback URL (webhook page):
signature = sha1 of the four values as strings, sorted and joined; dataEncrypt = Base64 of
AES-CBC/PKCS#7 with key = the API key (clientSecret) and IV = the clientId (first 16 bytes, NUL-padded).
Anything that does not verify is rejected and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ._client import Client
from ._errors import AkoolError
from .jobs import AKOOL_STATUS, TERMINAL

__all__ = ["WebhookRejected", "apply", "asgi_app", "read_callback", "verify"]


class WebhookRejected(AkoolError):
    """A callback whose signature or encryption does not check out."""


def _key_iv(client: Client) -> tuple[bytes, bytes]:
    secret = client.client_secret or client.api_key
    if secret is None or not client.client_id:
        msg = "Verifying webhooks needs the clientId and the API key (clientSecret).\n\nHint: pass client_id= to Client."
        raise WebhookRejected(msg)
    return secret.reveal().encode(), client.client_id.encode()[:16].ljust(16, b"\0")


def verify(payload: dict[str, Any], client: Client) -> dict[str, Any]:
    """The decrypted data ``{_id, status, type, url}`` of a genuine callback; WebhookRejected otherwise."""
    key, iv = _key_iv(client)
    try:
        signature, data, timestamp, nonce = (payload[k] for k in ("signature", "dataEncrypt", "timestamp", "nonce"))
    except (KeyError, TypeError) as exc:
        raise WebhookRejected("The callback lacks signature, dataEncrypt, timestamp or nonce.") from exc
    parts = sorted(str(v) for v in (client.client_id, timestamp, nonce, data))
    expected = hashlib.sha1("".join(parts).encode()).hexdigest()
    if not hmac.compare_digest(str(signature), expected):
        raise WebhookRejected("The callback's signature does not match: it was not sent for this account.")
    try:
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(base64.b64decode(str(data), validate=True)) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        decoded = json.loads(unpadder.update(padded) + unpadder.finalize())
    except ValueError as exc:
        raise WebhookRejected("The callback's dataEncrypt does not decrypt with this account's keys.") from exc
    if not isinstance(decoded, dict):
        raise WebhookRejected("The callback's dataEncrypt does not hold a JSON object.")
    return decoded


def read_callback(data: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    """A verified callback's (job id, status, result URL, error) as the ledger keeps them."""
    status = AKOOL_STATUS.get(data.get("status"), "processing")
    url = data.get("url") if status == "completed" else None
    error = "the job failed at akool (reported by its callback)" if status == "failed" else None
    return str(data.get("_id")), status, (str(url) if url else None), error


def record(client: Client, job_id: str, status: str, url: str | None, error: str | None) -> Any:
    """Write a callback's status to the ledger (a ``Written``), unless the ledger already holds the job as
    completed or failed and the callback says less (callbacks may arrive late or more than once)."""
    known = client.ledger.by_job_ids([job_id]).get(job_id)
    if known is not None and known.terminal and status not in TERMINAL:
        return None
    return client.ledger.update([(job_id, status, url, None, error)])


def apply(payload: dict[str, Any], client: Client) -> dict[str, Any]:
    """Verify a callback and record its status and URL in the client's ledger (committed on return).

    Callbacks may arrive late or more than once: one never takes a job that the ledger already holds
    as completed or failed back to an earlier state.
    """
    data = verify(payload, client)
    written = record(client, *read_callback(data))
    if written is not None:
        written.result()  # committed before the 200
    return data


def asgi_app(client: Client) -> Any:
    """A Starlette app answering POST / with 200 for genuine callbacks (recorded) and 400 otherwise."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def receive(request: Request) -> JSONResponse:
        try:
            apply(await request.json(), client)
        except (WebhookRejected, ValueError):
            return JSONResponse({}, status_code=400)
        return JSONResponse({})

    return Starlette(routes=[Route("/", receive, methods=["POST"])])
