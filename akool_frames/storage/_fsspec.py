"""Any fsspec filesystem as a ``typing.Storage`` (``s3://``, ``gs://``, ``az://``, ``memory://`` ...), and the one
function the verbs call to turn a ``dest`` into a Storage (``storage_for``).

A destination is a URI when fsspec's own parsing says it names a protocol (``<protocol>://...``, a protocol longer
than one letter: ``C:\\out`` and ``C://out`` are Windows paths); ``file://`` URIs and plain paths are local folders
(``LocalFolder``), which need no fsspec at all. fsspec and the backend (s3fs, gcsfs, adlfs) are optional and
imported only when a URI needs them (``_stores.filesystem``: without them the error names the package to install).

Object stores write a file straight under its final name (``atomic``): an object becomes visible only when its
upload completes (a single PUT, or a multipart upload's completion), so an object under its final name is whole,
and a download that fails half way is abandoned (its multipart upload aborted), never committed. Writing under a
temporary name and renaming would be a copy and a delete on S3: twice the traffic for nothing. Other filesystems
(sftp, ...) show a file while it is written: they keep the temporary name and the rename, as a local folder does.

Credentials come from the backend's usual places (environment, profiles) or the client's ``storage_options``;
never from the URI (one with a password in it is refused), so none reaches ``akool_file`` or the ledger.
"""

from __future__ import annotations

import contextlib
import os
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, BinaryIO

from .._errors import ValidationError
from ..typing import Storage
from ._local import LocalFolder
from ._stores import filesystem, object_size

__all__ = ["OBJECT_STORES", "FsspecFolder", "is_uri", "storage_for"]

OBJECT_STORES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss", "r2")  # objects appear whole
BLOCK_SIZE = 5 << 20  # bytes an upload buffers before it sends a part: S3's smallest part (s3fs's default is 50 MiB)


def _split(dest: str) -> tuple[str | None, str]:
    """(protocol, path) as fsspec parses them (``fsspec.core.split_protocol``; the same rule without fsspec)."""
    try:
        from fsspec.core import split_protocol
    except ImportError:
        head, sep, rest = dest.partition("://")
        return (head, rest) if sep and len(head) > 1 else (None, dest)
    protocol, path = split_protocol(dest)
    return (None, dest) if protocol == "data" else (protocol, path)


def is_uri(dest: str | os.PathLike[str]) -> bool:
    """Whether ``dest`` names a filesystem other than this machine's (``s3://...``; not a path, not ``file://``)."""
    if not isinstance(dest, str):
        return False
    protocol, _ = _split(dest)
    return protocol is not None and protocol.split("::")[-1] not in ("file", "local")


def _no_secret(uri: str) -> None:
    netloc = urllib.parse.urlsplit(uri.split("::")[-1]).netloc
    if ":" in netloc.rpartition("@")[0]:
        msg = ("The destination holds a password (user:password@...); it would be shown in akool_file and kept in "
               "the ledger.\n\nHint: give credentials through the Client's storage_options= or the backend's usual "
               "places (environment, profiles), and the location without them.")
        raise ValidationError(msg)


def storage_for(dest: str | os.PathLike[str], options: Mapping[str, Any] | None = None) -> Storage:
    """Where ``dest`` is: a ``LocalFolder`` for a path or a ``file://`` URI, else an ``FsspecFolder`` (``options``:
    the filesystem's, e.g. the client's ``storage_options``). A ConfigError names the package a URI needs."""
    if not isinstance(dest, str | os.PathLike):
        msg = f"dest must be a folder or a URI such as 's3://bucket/prefix/', got {type(dest).__name__}."
        raise ValidationError(msg)
    if isinstance(dest, str) and not dest.strip():
        msg = "dest is empty.\n\nHint: give a folder ('audio/') or a URI such as 's3://bucket/prefix/'."
        raise ValidationError(msg)
    if not is_uri(dest):
        if isinstance(dest, str) and _split(dest)[0] is not None:  # file:///x, file://localhost/x: the path named
            rest = dest.split("::")[-1].split("://", 1)[1]
            return LocalFolder(urllib.request.url2pathname(rest.removeprefix("localhost")))
        return LocalFolder(dest)
    assert isinstance(dest, str)
    _no_secret(dest)
    fs, path = filesystem(dest, options)
    return FsspecFolder(dest, fs, path)


class FsspecFolder:
    """Files under ``uri`` on the fsspec filesystem ``fs`` (``path``: the same place in the filesystem's terms).
    Locations are full URIs (``s3://bucket/out/x.mp4``): what ``akool_file`` shows and the ledger records."""

    def __init__(self, uri: str, fs: Any, path: str) -> None:
        self.fs = fs
        self.uri = uri.rstrip("/")
        self._path = path.rstrip("/")
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        self.atomic = protocol in OBJECT_STORES  # an object appears only once its upload completes
        self.address = self.uri + "/"

    def __repr__(self) -> str:
        return f"FsspecFolder({self.address!r})"  # (never the filesystem's options: they may hold keys)

    def _in_fs(self, location: str) -> str:
        return self._path + location[len(self.uri):] if location.startswith(self.uri) else location

    def join(self, *parts: str) -> str:
        return "/".join([self.uri, *parts])

    def size(self, location: str) -> int | None:
        path = self._in_fs(location)
        self.fs.invalidate_cache(path)  # a listing cached earlier must not hide (or invent) an object
        return object_size(self.fs, path)

    def named(self, stem: str) -> list[str]:
        """The files called ``stem`` with any extension, but no temporary one."""
        self.fs.invalidate_cache(self._path)
        try:
            found = self.fs.glob(f"{self._path}/{_glob_escape(stem)}.*")
        except FileNotFoundError:
            return []
        names = sorted(str(p).rsplit("/", 1)[-1] for p in found)
        return [self.join(name) for name in names if not name.endswith(".part")]

    def open_write(self, location: str) -> BinaryIO:
        path = self._in_fs(location)
        if not self.atomic:  # (an object store has no folders to make; making one could make a bucket)
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        handle: BinaryIO = self.fs.open(path, "wb", block_size=BLOCK_SIZE)  # parts of 5 MiB, not the whole file
        return handle

    def abandon(self, handle: BinaryIO, location: str) -> None:
        """Drop a file whose writing failed: an upload is aborted (nothing appears), a local one removed."""
        discard = getattr(handle, "discard", None)
        if callable(discard) and hasattr(handle, "buffer"):  # fsspec's buffered files: close() would commit it
            discard()
            handle.closed = True  # type: ignore[misc]  # (fsspec's own flag: no commit when it is collected)
            return
        with contextlib.suppress(Exception):
            handle.close()
        self.remove(location)

    def rename(self, source: str, dest: str) -> None:
        self.fs.mv(self._in_fs(source), self._in_fs(dest))

    def remove(self, location: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._in_fs(location))


def _glob_escape(stem: str) -> str:
    return re.sub(r"([*?\[\]])", r"[\1]", stem)

