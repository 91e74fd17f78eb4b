"""Akool webhook payloads as the webhook page describes them, built and checked on the sandbox side.

- dataEncrypt: AES-CBC, PKCS#7 to 16 bytes, key = UTF-8 API key / clientSecret (16/24/32 bytes
  pick AES-128/192/256), IV = the clientId's first 16 UTF-8 bytes, NUL-padded; Base64 text.
- signature: sha1 of the four strings clientId, timestamp, nonce, dataEncrypt, sorted and joined.

The docs' own sample values do not verify, so the tests build their own vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["WebhookError", "encrypt", "decrypt", "sign", "build_payload", "verify_payload"]


class WebhookError(ValueError):
    """A webhook payload that must be rejected (bad signature, undecryptable data)."""


def _iv(client_id: str) -> bytes:
    return client_id.encode()[:16].ljust(16, b"\0")


def encrypt(plaintext: str, client_id: str, secret: str) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(secret.encode()), modes.CBC(_iv(client_id))).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


def decrypt(data_encrypt: str, client_id: str, secret: str) -> str:
    try:
        raw = base64.b64decode(data_encrypt, validate=True)
        dec = Cipher(algorithms.AES(secret.encode()), modes.CBC(_iv(client_id))).decryptor()
        padded = dec.update(raw) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()
    except ValueError as exc:
        msg = "dataEncrypt does not decrypt with this clientId and secret."
        raise WebhookError(msg) from exc


def sign(client_id: str, timestamp: Any, nonce: Any, data_encrypt: str) -> str:
    parts = sorted(str(v) for v in (client_id, timestamp, nonce, data_encrypt))
    return hashlib.sha1("".join(parts).encode()).hexdigest()


def build_payload(data: dict[str, Any], client_id: str, secret: str, *, timestamp_ms: int | None = None,
                  nonce: str | None = None) -> dict[str, Any]:
    """The body Akool POSTs to a webhook URL."""
    timestamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    nonce = nonce if nonce is not None else str(random.randint(1000, 9999))
    data_encrypt = encrypt(json.dumps(data, separators=(",", ":")), client_id, secret)
    return {
        "signature": sign(client_id, timestamp, nonce, data_encrypt),
        "dataEncrypt": data_encrypt,
        "timestamp": timestamp,
        "nonce": nonce,
    }


def verify_payload(payload: dict[str, Any], client_id: str, secret: str) -> dict[str, Any]:
    """The decrypted data of a genuine payload; WebhookError for anything else."""
    try:
        fields = [payload[k] for k in ("signature", "dataEncrypt", "timestamp", "nonce")]
    except (KeyError, TypeError) as exc:
        msg = "Webhook payload lacks signature, dataEncrypt, timestamp or nonce."
        raise WebhookError(msg) from exc
    signature, data_encrypt, timestamp, nonce = fields
    expected = sign(client_id, timestamp, nonce, str(data_encrypt))
    if not hmac.compare_digest(str(signature), expected):
        msg = "Webhook signature does not match: the payload was not sent by this account."
        raise WebhookError(msg)
    try:  # a recomputed signature over altered ciphertext can still decrypt to garbage
        data = json.loads(decrypt(str(data_encrypt), client_id, secret))
    except json.JSONDecodeError as exc:
        msg = "dataEncrypt does not hold JSON."
        raise WebhookError(msg) from exc
    if not isinstance(data, dict):
        msg = "dataEncrypt does not hold a JSON object."
        raise WebhookError(msg)
    return data
