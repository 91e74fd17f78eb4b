"""Where a sheet lives: a local path, or an object store's URI opened through fsspec (``s3://``, ``gs://``,
``az://``, ``memory://``, ``file://`` ...) with ``storage_options`` for its filesystem.

A URI is told from a path the way fsspec tells them (``protocol://...`` with a protocol of more than one letter,
so ``C:\\sheets\\lines.xlsx`` stays a Windows path); a ``pathlib`` path is always local. A sheet in a bucket is read
into memory once (the readers want the whole file anyway). A sheet for a bucket is written to a local temporary
file first and put in one piece once it is complete, so an error leaves no partial object behind. fsspec and the
store's own package (s3fs, gcsfs, adlfs) are imported only when a URI is given; credentials come from the store's
usual places (environment, profiles) or ``storage_options``, and are never put in a message.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from .._errors import ValidationError

__all__ = ["STORAGE_HINT", "Place", "is_uri", "missing", "place", "read_bytes", "written"]

STORAGE_HINT = ('pip install "akool-frames[storage]" (fsspec and s3fs, for s3://); gcsfs for gs://, '
                "adlfs for az://")
_MERGED = re.compile(r"[A-Za-z][\w+.-]+:/(?!/)")  # what Path("s3://bucket/key") makes of a URI: "s3:/bucket/key"


def _protocol(text: str) -> str | None:
    """The fsspec protocol of ``text`` ("s3", "simplecache::s3"), or None for a local path."""
    if "://" not in text:
        return None  # (fsspec also reads "data:..." as a URL; a local file may be called that)
    try:
        from fsspec.core import split_protocol
    except ImportError:  # fsspec's own rule, so that the message can say to install it
        protocol = text.split("://", 1)[0]
        return protocol if len(protocol) > 1 else None
    found = split_protocol(text)[0]
    return str(found) if found else None


def is_uri(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an fsspec URI (``s3://bucket/key``), not a local path."""
    return not isinstance(path, PurePath) and _protocol(os.fspath(path)) is not None


@dataclass(frozen=True)
class Place:
    """A sheet's place: ``text`` as the user gave it (messages name it), ``local`` for a local file (None for a
    URI), and the filesystem's options (never shown)."""

    text: str
    local: Path | None
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return self.text

    @property
    def name(self) -> str:
        """The file's name: "lines.xlsx" for "s3://bucket/in/lines.xlsx"."""
        if self.local is not None:
            return self.local.name
        return PurePosixPath(self.text.split("://", 1)[1].split("?", 1)[0].rstrip("/")).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower()


def place(path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> Place:
    """Where ``path`` is: a local file, or a URI with ``storage_options``."""
    text = os.fspath(path)
    if not is_uri(path):
        if storage_options:
            msg = (f"storage_options are for an object store's URI, and {text} is a local path.\n\n"
                   "Hint: give the URI as a string ('s3://bucket/key.xlsx'), or leave storage_options out.")
            raise ValidationError(msg)
        return Place(text, Path(text))
    return Place(text, None, dict(storage_options or {}))


def missing(where: Place) -> ValidationError:
    """The error for a sheet that is not there, with a hint where ``Path()`` merged a URI's slashes."""
    msg = f"No such file: {where}."
    if where.local is not None and _MERGED.match(where.text):
        msg += ("\n\nHint: a URI goes in as a string ('s3://bucket/key'): Path() turns its '//' into '/'.")
    return ValidationError(msg)


def _fsspec(where: Place, doing: str) -> Any:
    try:
        import fsspec
    except ImportError as exc:
        msg = f"{doing} {where} needs fsspec and the store's package.\n\nHint: {STORAGE_HINT}."
        raise ImportError(msg) from exc
    return fsspec


def _backend_missing(where: Place, doing: str, exc: ImportError) -> ImportError:
    said = str(exc).rstrip(".")  # fsspec names the package: "Install s3fs to access S3"
    return ImportError(f"{doing} {where} needs fsspec's backend for it ({said}).\n\nHint: {STORAGE_HINT}.")


def _failed(where: Place, doing: str, exc: Exception) -> OSError:
    """A store's error (credentials, permissions, a bucket that is not there) naming the URI; options never shown."""
    said = str(exc).strip() or type(exc).__name__
    return OSError(f"{doing} {where} failed: {type(exc).__name__}: {said}")


def read_bytes(where: Place) -> bytes:
    """The whole object at a URI."""
    fsspec = _fsspec(where, "Reading")
    try:
        with fsspec.open(where.text, "rb", **where.options) as fh:
            return bytes(fh.read())
    except (FileNotFoundError, IsADirectoryError):
        raise missing(where) from None
    except ImportError as exc:
        raise _backend_missing(where, "Reading", exc) from None
    except Exception as exc:
        raise _failed(where, "Reading", exc) from exc


@contextlib.contextmanager
def written(where: Place) -> Iterator[Path]:
    """A local file to write ``where`` to: the file itself, or a temporary one put at the URI once complete (and
    never, when writing it raised)."""
    if where.local is not None:
        where.local.parent.mkdir(parents=True, exist_ok=True)
        yield where.local
        return
    fsspec = _fsspec(where, "Writing")  # before anything is written: a missing package or a bad option is said first
    try:
        fs, path = fsspec.core.url_to_fs(where.text, **where.options)
    except ImportError as exc:
        raise _backend_missing(where, "Writing", exc) from None
    except Exception as exc:
        raise _failed(where, "Writing", exc) from exc
    with tempfile.TemporaryDirectory(prefix="akool-frames-") as folder:
        draft = Path(folder) / (where.name or "sheet")
        yield draft
        try:
            if "file" in _protocols(fs):  # a local folder through file://: made as a local path's would be
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            fs.put_file(str(draft), path)  # one put (a multipart upload is aborted if it fails)
        except Exception as exc:
            raise _failed(where, "Writing", exc) from exc


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
