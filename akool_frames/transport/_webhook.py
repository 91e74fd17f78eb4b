"""Receive Akool webhooks: verify the signature, decrypt, and record the status in the ledger.

Akool POSTs ``{signature, dataEncrypt, timestamp, nonce}`` to the job's callback URL (webhook page):
signature = sha1 of the four values as strings, sorted and joined; dataEncrypt = Base64 of
AES-CBC/PKCS#7 with key = the API key (clientSecret) and IV = the clientId (first 16 bytes, NUL-padded).
Anything that does not verify is rejected and changes nothing: every forgery raises ``WebhookRejected`` (never
another error), and the receiving apps answer it with a 4xx, never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .._errors import AkoolError
from ..catalog import AKOOL_STATUS, TERMINAL
from ._settings import Settings

__all__ = ["WebhookRejected", "apply", "asgi_app", "read_callback", "verify"]

LIMIT = 64 * 1024  # bytes of a callback's body: a genuine one is a few hundred


class WebhookRejected(AkoolError):
    """A callback whose signature or encryption does not check out; ``status`` is the HTTP answer it gets."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _key_iv(client: Settings) -> tuple[bytes, bytes]:
    secret = client.client_secret or client.api_key
    if secret is None or not client.client_id:
        msg = "Verifying webhooks needs the clientId and the API key (clientSecret).\n\nHint: pass client_id= to Client."
        raise WebhookRejected(msg)
    return secret.reveal().encode(), client.client_id.encode()[:16].ljust(16, b"\0")


def verify(payload: Any, client: Settings) -> dict[str, Any]:
    """The decrypted data ``{_id, status, type, url}`` of a genuine callback; WebhookRejected otherwise."""
    key, iv = _key_iv(client)
    try:
        signature, data, timestamp, nonce = (payload[k] for k in ("signature", "dataEncrypt", "timestamp", "nonce"))
    except (KeyError, TypeError) as exc:  # not an object, or one without them
        msg = "The callback lacks signature, dataEncrypt, timestamp or nonce."
        raise WebhookRejected(msg) from exc
    # Akool sends strings (the timestamp a number): anything else is forged; str() of a deep list would recurse.
    if not (isinstance(signature, str) and isinstance(data, str) and {type(timestamp), type(nonce)} <= {str, int}):
        msg = "The callback's signature, dataEncrypt, timestamp or nonce is not a string or number."
        raise WebhookRejected(msg)
    unsigned = "The callback's signature does not match: it was not sent for this account."
    try:  # a lone surrogate is no UTF-8, an int of thousands of digits no str: neither was signed by Akool
        parts = sorted(str(v) for v in (client.client_id, timestamp, nonce, data))
        expected = hashlib.sha1("".join(parts).encode()).hexdigest()
        genuine = hmac.compare_digest(signature.encode(), expected.encode())  # bytes: str must be ASCII here
    except ValueError as exc:
        raise WebhookRejected(unsigned) from exc
    if not genuine:
        raise WebhookRejected(unsigned)
    try:  # the signature needs only the clientId: the ciphertext may still be anything
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(base64.b64decode(data, validate=True)) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        decoded = json.loads(unpadder.update(padded) + unpadder.finalize())
    except (ValueError, RecursionError) as exc:  # binascii.Error, UnicodeDecodeError, JSONDecodeError are ValueErrors
        msg = "The callback's dataEncrypt does not decrypt with this account's keys."
        raise WebhookRejected(msg) from exc
    if not isinstance(decoded, dict):
        msg = "The callback's dataEncrypt does not hold a JSON object."
        raise WebhookRejected(msg)
    return decoded


def read_callback(data: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    """A verified callback's (job id, status, result URL, error) as the ledger keeps them; WebhookRejected for
    data of a shape Akool never sends (an unhashable status, a job id or URL that is not a string)."""
    job_id, said, url = data.get("_id"), data.get("status"), data.get("url")
    if not isinstance(job_id, str) or isinstance(said, (dict, list)) or not isinstance(url, (str, type(None))):
        msg = "The callback's data has no job id, or a status or URL of the wrong type."
        raise WebhookRejected(msg)
    status = AKOOL_STATUS.get(said, "processing")
    error = "the job failed at akool (reported by its callback)" if status == "failed" else None
    return job_id, status, (url if url and status == "completed" else None), error


def record(client: Settings, job_id: str, status: str, url: str | None, error: str | None) -> Any:
    """Write a callback's status to the ledger (a ``Written``), unless the ledger already holds the job as
    completed or failed and the callback says less (callbacks may arrive late or more than once)."""
    known = client.ledger.by_job_ids([job_id]).get(job_id)
    if known is not None and known.terminal and status not in TERMINAL:
        return None
    return client.ledger.update([(job_id, status, url, None, error)])


def apply(payload: dict[str, Any], client: Settings) -> dict[str, Any]:
    """Verify a callback and record its status and URL in the client's ledger (committed on return).

    Callbacks may arrive late or more than once: one never takes a job that the ledger already holds
    as completed or failed back to an earlier state.
    """
    data = verify(payload, client)
    written = record(client, *read_callback(data))
    if written is not None:
        written.result()  # committed before the 200
    return data


def asgi_app(client: Settings) -> Any:
    """A Starlette app answering POST / with 200 for genuine callbacks (recorded) and 4xx otherwise."""

    async def handle(payload: Any) -> None:
        apply(payload, client)

    return callback_app(handle)


async def read_payload(request: Any) -> Any:
    """A callback request's JSON body, read up to LIMIT bytes; WebhookRejected with the status to answer otherwise:

    - 415 for a declared type that is not JSON (none declared is read as JSON: a forgery must still verify);
    - 413 for a body over LIMIT, refused from its Content-Length unread, or as soon as the stream passes LIMIT;
    - 400 for bytes that are not UTF-8 JSON (RFC 8259), however deeply nested (json raises RecursionError).
    """
    from starlette.requests import ClientDisconnect

    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        msg = f"The callback's content type is {kind[:40]!r}, not JSON."
        raise WebhookRejected(msg, 415)
    too_big = WebhookRejected(f"The callback's body is over {LIMIT} bytes.", 413)
    try:
        declared = int(request.headers.get("content-length", "0"))
    except ValueError:  # the HTTP server refuses a malformed length itself: count the bytes instead
        declared = 0
    if declared > LIMIT:
        raise too_big
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > LIMIT:
                raise too_big
    except ClientDisconnect as exc:  # nobody hears the answer; it must not be a 500 with a traceback
        msg = "The callback's sender hung up before its body ended."
        raise WebhookRejected(msg) from exc
    try:
        return json.loads(body.decode())
    except (ValueError, RecursionError) as exc:
        msg = "The callback's body is not a JSON document."
        raise WebhookRejected(msg) from exc


def callback_app(handle: Callable[[Any], Awaitable[None]], refused: Callable[[], None] = lambda: None) -> Any:
    """A Starlette app answering POST / with 200 once ``handle`` took the body's JSON, and with a 4xx to anything
    else: ``WebhookRejected``'s status (400, 413, 415), 404 on another path, 405 to another method. ``refused``
    is called for each refusal. A refusal is never a 500: Akool resends what is not answered 2xx, and a forger
    must not fill the log with tracebacks."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def receive(request: Request) -> Response:
        try:
            await handle(await read_payload(request))
        except WebhookRejected as exc:
            refused()
            return JSONResponse({}, status_code=exc.status)
        return JSONResponse({})

    async def not_here(request: Request, exc: Any) -> Response:  # Starlette's HTTPException for 404 and 405
        refused()
        return JSONResponse({}, status_code=exc.status_code, headers=exc.headers)

    return Starlette(routes=[Route("/", receive, methods=["POST"])], exception_handlers={404: not_here, 405: not_here})
