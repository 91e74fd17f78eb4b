"""Media inputs that are not URLs, made fetchable: a local file is uploaded once to the client's ``staging``
location, content-addressed (the same bytes are one object, however many rows and runs use them); an object
already in a store is presigned where it is, never copied. The API gets a presigned URL valid ``staging_ttl``.

A row's ledger key reads each input's ``Source.key_text`` (a file's SHA-256, or an object's URI, ETag and size),
never a signature: a re-run that signs again creates nothing, and a file moved or renamed is still the same row.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .._locations import MAX_TTL, Kind, kind_of, local_path, protocol, unsigned
from ._stores import filesystem, object_size

__all__ = ["NO_STAGING", "Source", "Stager"]

NO_STAGING = ("{given!r} is a local file; Akool fetches inputs by URL.\n\nHint: set "
              "staging='s3://your-bucket/prefix/' on the Client (or AKOOL_FRAMES_STAGING), or give a public URL.")
_CHUNK = 1 << 20  # bytes hashed at a time


@dataclass(frozen=True)
class Source:
    """One media input as given, where it is read from, and what it is (identity and size in bytes)."""

    given: str
    kind: Kind  # "local" | "store"
    location: str  # the local file (absolute), or the object's URI
    identity: str  # "sha256:<hex>" of a file, "etag:<etag>:<size>" of an object; "" when not asked for
    size: int

    @property
    def key_text(self) -> str:
        """What a ledger key reads in place of the value: what the API will be sent, without a signature. A
        file: its content (hash and suffix: the staged object's name), wherever it sits, so rows naming the same
        bytes by two paths share a job as identical rows do; an object: its URI and identity (ETag and size)."""
        if self.kind == "local":
            return f"file:{self.identity}{PurePosixPath(self.location).suffix.lower()}"
        return f"{self.given}#{self.identity}"


class Stager:
    """The client's staging: resolves inputs, uploads files once per process and presigns."""

    def __init__(self, staging: str | None, ttl: float, options: Mapping[str, Any], concurrency: int) -> None:
        self.staging, self.ttl, self.concurrency = staging, ttl, concurrency
        self._options = dict(options)  # (may hold keys: never shown)
        self._hashes: dict[tuple[str, int, int], str] = {}  # (file, size, mtime) -> sha256: a re-run hashes nothing
        self._uploads: dict[tuple[int, str], asyncio.Future[None]] = {}  # (loop, object) -> its one upload
        self._slots: dict[int, asyncio.Semaphore] = {}
        self._threads: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.uploaded = 0  # objects this process put (tests and benches read it)

    def __repr__(self) -> str:
        return f"Stager(staging={self.staging!r}, ttl={self.ttl:g})"

    # ------------------------------------------------------------------------------------------- resolving
    async def resolve(self, values: Iterable[str], *, identity: bool = True) -> dict[str, Source | str]:
        """Each local or stored value's Source, or why it cannot be used (a sentence naming the value).
        ``identity`` False only checks that it is there (an estimate needs no hash)."""
        wanted = [v for v in dict.fromkeys(values) if kind_of(v) in ("local", "store")]

        async def one(value: str) -> Source | str:
            async with self._slot():
                return await asyncio.to_thread(self._resolve, value, identity)

        found = await asyncio.gather(*(one(v) for v in wanted))
        return dict(zip(wanted, found, strict=True))

    def _resolve(self, value: str, identity: bool) -> Source | str:
        if kind_of(value) == "local":
            return self._file(value, identity)
        fs, path = filesystem(value, self._options)
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return f"{value!r}: there is no such object"
        except (OSError, PermissionError) as exc:
            return f"{value!r} cannot be read ({type(exc).__name__}: {str(exc)[:120]})"
        if info.get("type") == "directory":
            return f"{value!r} is a folder, not a file"
        size = int(info.get("size") or 0)
        tag = str(info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("mtime") or "").strip('"')
        return Source(value, "store", value, f"etag:{tag}:{size}" if identity else "", size)

    def _file(self, value: str, identity: bool) -> Source | str:
        path = os.path.abspath(os.path.expanduser(local_path(value)))
        try:
            stat = os.stat(path)
        except (OSError, ValueError):
            return (f"{value!r} is neither a URL nor an existing file (looked for {path}).\n\n"
                    "Hint: check the path (relative paths start from the current folder), or give an http(s) URL.")
        if not os.path.isfile(path):
            return f"{value!r} is a folder, not a file"
        if self.staging is None:
            return NO_STAGING.format(given=value)
        if not identity:
            return Source(value, "local", path, "", stat.st_size)
        key = (path, stat.st_size, stat.st_mtime_ns)
        digest = self._hashes.get(key)
        if digest is None:
            digest = self._hashes[key] = _sha256(path)
        return Source(value, "local", path, f"sha256:{digest}", stat.st_size)

    # ------------------------------------------------------------------------------------------- sending
    def target(self, source: Source) -> str:
        """Where the API reads ``source`` from: its staged object (content-addressed), or the object itself."""
        if source.kind == "store":
            return source.location
        assert self.staging is not None and source.identity  # (a local Source exists only with staging)
        suffix = PurePosixPath(source.location).suffix.lower()
        return f"{self.staging}{source.identity.removeprefix('sha256:')}{suffix}"

    async def url(self, source: Source) -> str:
        """A presigned URL of ``source`` (a local file is uploaded first, once)."""
        target = self.target(source)
        if source.kind == "local":
            await self._upload_once(source, target)
        return await asyncio.to_thread(self._sign, target)

    def unsigned(self, source: Source) -> str:
        """The URL the API is given for ``source``, without its signature (what a provider's record is matched by)."""
        return unsigned(self._sign(self.target(source)))

    def _sign(self, target: str) -> str:
        fs, path = filesystem(target, self._options)
        ttl = min(self.ttl, MAX_TTL.get(protocol(target) or "", self.ttl))
        return str(fs.sign(path, expiration=int(ttl)))

    async def _upload_once(self, source: Source, target: str) -> None:
        loop = asyncio.get_running_loop()
        key = (id(loop), target)
        with self._lock:
            pending = self._uploads.get(key)
            mine = pending is None
            if mine:
                pending = self._uploads[key] = loop.create_future()
        assert pending is not None
        if not mine:
            return await asyncio.shield(pending)
        try:
            async with self._slot():
                await loop.run_in_executor(self._pool(), self._put, source, target)
        except BaseException as exc:
            with self._lock:
                del self._uploads[key]  # (a later row tries again)
            if isinstance(exc, asyncio.CancelledError):
                pending.cancel()
            else:
                pending.set_exception(exc)
                pending.exception()  # (retrieved here: no "exception was never retrieved" when nobody else waits)
            raise
        pending.set_result(None)
        return None

    def _put(self, source: Source, target: str) -> None:
        fs, path = filesystem(target, self._options)
        if object_size(fs, path) == source.size:
            return  # already there (content-addressed: the same name is the same bytes)
        fs.put_file(source.location, path)
        fs.invalidate_cache(path)
        with self._lock:
            self.uploaded += 1

    def _pool(self) -> ThreadPoolExecutor:
        """Threads for uploads, as many as may run at once (asyncio's default pool has cores + 4, shared)."""
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.concurrency, thread_name_prefix="akool-staging")
            return self._threads

    def _slot(self) -> asyncio.Semaphore:
        loop = id(asyncio.get_running_loop())
        with self._lock:
            slots = self._slots.get(loop)
            if slots is None:
                slots = self._slots[loop] = asyncio.Semaphore(self.concurrency)
            return slots


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
