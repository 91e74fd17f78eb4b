"""A create's media inputs: which body fields hold input URLs, whether a value is an http(s) URL, whether its host
is a loopback one (the only hosts the sandbox ever fetches), and what a fetch found.

The API takes media only as URLs it fetches itself. A route names its input fields (``@route(..., inputs=
fields("talking_photo_url", "audio_url"))``); before its handler runs, a value that is not an http(s) URL is refused
and a loopback one is fetched (``_fetch``). Webhook and callback URLs are no inputs: no route names them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["INVALID_URL", "Fetched", "Finder", "colour_code", "fields", "is_http_url", "is_loopback"]

# Face detection's page (09, "Error Responses": "1 | Invalid URL format | Bad URL"; page 07, Common Errors: "Invalid
# URL format | Malformed URL provided | Ensure URL is properly formatted with protocol (http/https)"), and the catalog
# (part 1, E6). The other pages document no message for it: the sandbox answers their parameter error with this one.
INVALID_URL = "Invalid URL format"

Finder = Callable[[dict[str, Any]], list[tuple[str, Any]]]  # a body -> (field path, value) of each input it holds

_COLOUR = re.compile(r"#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


@dataclass(frozen=True)
class Fetched:
    """What fetching one input URL found: its length (None: no length to read, e.g. an image, or a host the sandbox
    does not contact) or why it could not be fetched. ``at``: sandbox time of the fetch."""

    at: float
    seconds: float | None = None
    error: str | None = None


def fields(*paths: str) -> Finder:
    """A Finder for fields by path: ``"url"``, ``"targetImage[].path"`` (each item's ``path``), ``"frame_urls[]"``."""
    split = [path.split(".") for path in paths]

    def find(body: dict[str, Any]) -> list[tuple[str, Any]]:
        return [found for parts in split for found in _walk(body, parts, "")]

    return find


def _walk(node: Any, parts: list[str], where: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield where, node
        return
    if not isinstance(node, dict):
        return
    key = parts[0].removesuffix("[]")
    name = f"{where}.{key}" if where else key
    value = node.get(key)
    if parts[0].endswith("[]"):
        for i, item in enumerate(value if isinstance(value, list) else []):
            yield from _walk(item, parts[1:], f"{name}[{i}]")
    else:
        yield from _walk(value, parts[1:], name)


def colour_code(value: Any) -> bool:
    """A hexadecimal colour code ("#aafbe3"): what a talking avatar's image element may give instead of a URL."""
    return isinstance(value, str) and bool(_COLOUR.fullmatch(value.strip()))


def is_http_url(value: Any) -> bool:
    """An http(s) URL with a host (and, if any, a valid port): what the API fetches. A local path, ``file://``,
    ``s3://``, ``C:\\...`` or ``ftp://`` is not."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value.strip())
        _ = parts.port  # raises on a port that is no number or out of range
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def is_loopback(url: str) -> bool:
    """The URL's host is a loopback address (127.0.0.0/8, ::1, an IPv4-mapped loopback) or ``localhost``."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
