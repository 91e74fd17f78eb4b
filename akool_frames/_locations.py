"""What a location string is: an http(s) URL (sent as is), a local file (a path or ``file://``), or an object in a
store that presigns (``s3://``, ``gs://``, ``az://`` ...). Pure text: nothing is opened or looked up here.

The API fetches every media input by URL; ``storage`` stages local files and presigns objects, and the catalog's
``url`` fields are checked with ``form_problem``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Literal
from urllib.parse import unquote, urlsplit

__all__ = [
    "ACCEPTS", "MAX_TTL", "STAGEABLE", "Kind", "form_problem", "kind_of", "local_path", "protocol", "stageable",
    "unsigned",
]

Kind = Literal["http", "local", "store"]

# Object stores that presign, by fsspec protocol: the package that serves each (named in the hint when missing).
STAGEABLE: Mapping[str, str] = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs",
                                "abfs": "adlfs", "abfss": "adlfs"}
# The longest a presigned URL may last, by store: SigV4 (S3) and V4 signed URLs (GCS) allow 7 days; Azure's SAS none.
MAX_TTL: Mapping[str, float] = {"s3": 7 * 86400.0, "s3a": 7 * 86400.0, "gs": 7 * 86400.0, "gcs": 7 * 86400.0}
ACCEPTS = "an http(s) URL, a local file (a path or file://) or an object-store URI (s3://, gs://, az://)"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_DRIVE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")  # C:\x, C:/x, \\server\share
_WINDOWS = sys.platform == "win32"


def protocol(value: str) -> str | None:
    """The scheme of ``value`` in lower case (``s3``, ``https``), or None for a path."""
    found = _SCHEME.match(value.strip())
    return found.group(1).lower() if found else None


def kind_of(value: str) -> Kind | None:
    """What ``value`` is, by its form alone; None when it is none of the three (``form_problem`` says why)."""
    scheme = protocol(value)
    if scheme in ("http", "https"):
        return "http"
    if scheme == "file" or (scheme is None and (_WINDOWS or not _DRIVE.match(value))):
        return "local"
    return "store" if scheme in STAGEABLE else None


def stageable(value: str) -> bool:
    return kind_of(value) == "store"


def local_path(value: str) -> str:
    """The file a local location names (``file:///a/b.jpg`` -> ``/a/b.jpg``)."""
    if protocol(value) == "file":
        return unquote(urlsplit(value.strip()).path)
    return value


def form_problem(value: str, path: str) -> str | None:
    """Why ``value`` cannot be a media input of field ``path`` by its form, or None."""
    text = value.strip()
    scheme = protocol(text)
    if scheme in ("http", "https"):
        return None if urlsplit(text).hostname else f"{path} is {value!r:.60}, a URL without a host"
    if scheme is None and not _WINDOWS and _DRIVE.match(text):
        return (f"{path} is {value!r:.60}, a Windows path, and this machine is not Windows.\n\n"
                f"Hint: give the file's path on this machine, or a URL. {path} takes {ACCEPTS}.")
    if scheme is not None and scheme != "file" and scheme not in STAGEABLE:
        return (f"{path} is {value!r:.60}: {scheme}:// is not a location Akool or akool_frames can fetch from.\n\n"
                f"Hint: {path} takes {ACCEPTS}.")
    return None


# Query parameters that carry a signature or its validity (S3 SigV2/V4, GCS V2/V4, Azure SAS): what makes one
# presigned URL of an object differ from the next; compared without them, two signings of one object are equal.
_SIGNATURE = re.compile(r"^(x-amz-.*|awsaccesskeyid|signature|expires|x-goog-.*|googleaccessid|"
                        r"sv|ss|srt|sp|se|st|spr|sip|sr|sig|skoid|sktid|skt|ske|sks|skv|ses|sdd)$", re.IGNORECASE)


def unsigned(url: str) -> str:
    """``url`` without the query parameters of a presigned URL (the others kept, in order)."""
    head, sep, query = url.partition("?")
    if not sep:
        return url
    kept = [part for part in query.split("&") if part and not _SIGNATURE.match(unquote(part.split("=", 1)[0]))]
    return f"{head}?{'&'.join(kept)}" if kept else head
