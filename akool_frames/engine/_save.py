"""Result files to where they should live, before their links expire: one URL streamed into a ``typing.Storage``
(``save_file``: what ``download`` does for each row), and a run's ``save_to=`` (``SaveTo``, ``Saver``): each
result saved as soon as its job is seen completed, while the run goes on, and recorded in the ledger, so that a
re-run saves nothing twice.

Streaming: the download's chunks go, in order, through a small queue (``_Pipe``) to a thread that writes them into
the storage: an object store's writes are network calls (s3fs sends a part every 5 MiB and the last one at close),
which must not hold the loop the run's creates and polls share. Memory per file in flight is the queue (2 MiB) and
the store's part buffer (5 MiB), whatever the file's size. A full queue makes the download wait (the loop blocks
until the thread catches up): a slow store slows the downloads instead of filling memory.

Resumable: a file under its final name with a size (the size recorded when the ledger knows it) is complete and
is not fetched again. A local folder gets ``<name>.part``, renamed once complete; an object store (``atomic``)
gets the final name at once (an object appears only when its upload completes) and a write that fails part way
is abandoned (the multipart upload aborted), never committed half written.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import queue
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .._errors import AkoolError
from ..typing import Storage
from ._prepare import Outcome

__all__ = ["JOB_ID", "Fetched", "SaveTo", "Saver", "save_file"]

JOB_ID = "{job_id}"  # in a SaveTo name: the row's job id, known only once its job is made
PIPE_CHUNKS = 32  # chunks (64 KiB from the transport) between the download and the writing thread: 2 MiB
TYPES = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav",
         "video/mp4": ".mp4", "video/quicktime": ".mov", "image/png": ".png", "image/jpeg": ".jpg",
         "image/webp": ".webp", "audio/ogg": ".ogg", "audio/flac": ".flac", "application/json": ".json",
         "text/plain": ".txt"}
_CLOSE, _ABANDON = object(), object()


@dataclass(frozen=True)
class Fetched:
    """One result file: where it is (written now, or already there), its name in the folder and its size; or why
    there is none."""

    file: str | None
    why: str | None = None
    name: str | None = None  # the file's name in its folder, with its extension
    size: int | None = None


def _suffix(url: str) -> str:
    suffix = Path(url.split("?", 1)[0].split("#", 1)[0]).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


class _Pipe:
    """The file a download writes to on the loop: its chunks go, in order, to a thread that writes them to
    ``location`` in ``storage``. ``done`` resolves with the bytes written once the file is complete, or with the
    error that stopped the writing; a download that fails part way (an exception inside ``with``) abandons it."""

    def __init__(self, storage: Storage, location: str) -> None:
        self.storage, self.location = storage, location
        self.chunks: queue.Queue[Any] = queue.Queue(PIPE_CHUNKS)
        self.done: concurrent.futures.Future[int] = concurrent.futures.Future()
        self.error: BaseException | None = None
        self._ended = False
        threading.Thread(target=self._drain, name="akool-frames-save", daemon=True).start()

    def write(self, chunk: bytes) -> int:
        if self.error is not None:  # the storage refused: stop the download (the caller says why)
            raise _WriteFailed(self.error)
        self.chunks.put(chunk)  # waits while the queue is full: the store sets the pace
        return len(chunk)

    def __enter__(self) -> _Pipe:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        self._end(_ABANDON if kind is not None else _CLOSE)

    def close(self) -> None:
        self._end(_CLOSE)

    def _end(self, how: object) -> None:
        if not self._ended:
            self._ended = True
            self.chunks.put(how)

    def _drain(self) -> None:
        handle: BinaryIO | None = None
        written, item = 0, None
        try:
            while (item := self.chunks.get()) is not _ABANDON:
                if handle is None:
                    handle = self.storage.open_write(self.location)
                if item is _CLOSE:
                    handle.close()  # (an object store's upload completes here)
                    self.done.set_result(written)
                    return
                handle.write(item)
                written += len(item)
            if handle is not None:
                self.storage.abandon(handle, self.location)
            self.done.set_exception(_WriteFailed(None))
        except BaseException as exc:  # noqa: BLE001 - handed to the download (write) and to the caller (done)
            self.error = exc
            if handle is not None:
                with contextlib.suppress(Exception):
                    self.storage.abandon(handle, self.location)
            while item is not _CLOSE and item is not _ABANDON:  # the download may be waiting to put a chunk
                item = self.chunks.get()
            self.done.set_exception(_WriteFailed(exc))


class _WriteFailed(Exception):
    """The storage refused a write (None: the download stopped, and the file was abandoned)."""

    def __init__(self, cause: BaseException | None) -> None:
        super().__init__(str(cause) if cause is not None else "abandoned")
        self.cause = cause


async def save_file(client: Any, url: str, storage: Storage, stem: str, *, size: int | None = None) -> Fetched:
    """Stream ``url`` into ``storage`` as ``<stem><ext>`` (the URL's extension, else the answer's content type),
    unless a complete file is there already (with ``size`` bytes, when the ledger knows the size)."""
    suffix = _suffix(url)
    final = storage.join(f"{stem}{suffix}") if suffix else None
    try:
        found = [final] if final else await asyncio.to_thread(storage.named, stem)
        have = await asyncio.to_thread(storage.size, found[0]) if found else None
    except Exception as exc:  # noqa: BLE001 - a store that cannot be read: said on the row
        return Fetched(None, f"could not look in {storage.address}: {_said(exc)}")
    if found and have and (size is None or have == size):
        return Fetched(found[0], name=Path(found[0]).name, size=have)
    target = final if final and storage.atomic else storage.join(f"{stem}.part")
    pipes: list[_Pipe] = []

    def open_file() -> BinaryIO:
        pipes.append(_Pipe(storage, target))  # a retried download writes the file again from its start
        return pipes[-1]  # type: ignore[return-value]  # (a file as far as the transport's writes go)

    try:
        status, phrase, kind = await client.http.download(url, open_file)
    except _WriteFailed as exc:
        return Fetched(None, f"could not write it to {storage.address}: {_said(exc.cause)}")
    except AkoolError as exc:
        return Fetched(None, f"could not download it: {exc}")
    if status != 200:
        if not storage.atomic:
            await asyncio.to_thread(storage.remove, target)
        gone = status in (403, 404, 410)
        return Fetched(None, "the link has expired (results are kept 7 days)" if gone else f"HTTP {status} {phrase}")
    try:
        written = await asyncio.wrap_future(pipes[-1].done)
    except _WriteFailed as exc:
        return Fetched(None, f"could not write it to {storage.address}: {_said(exc.cause)}")
    name = f"{stem}{suffix or TYPES.get(kind.split(';')[0].strip().lower(), '')}"
    if target != storage.join(name):
        try:
            await asyncio.to_thread(storage.rename, target, storage.join(name))
        except Exception as exc:  # noqa: BLE001 - said on the row
            return Fetched(None, f"could not write it to {storage.address}: {_said(exc)}")
    return Fetched(storage.join(name), name=name, size=written)


def _said(exc: BaseException | None) -> str:
    return f"{type(exc).__name__}: {exc}" if exc is not None and str(exc) else type(exc).__name__


# --------------------------------------------------------------------------------------------- a run's save_to=
class SaveTo:
    """A run's ``save_to=``: the storage, and each row's file name there (without extension; ``JOB_ID`` in it
    stands for the row's job id). The run fills ``files`` (one ``Fetched`` per row; None where the row has no
    result to save) and ``more`` (a row's other videos, ``<name>-2``, ``<name>-3`` ..., by row)."""

    def __init__(self, storage: Storage, names: Sequence[str]) -> None:
        self.storage = storage
        self.names = list(names)
        self.files: list[Fetched | None] = [None] * len(self.names)
        self.more: dict[int, list[Fetched]] = {}

    def name(self, row: int, job_id: str, n: int = 1) -> str:
        name = self.names[row].replace(JOB_ID, re.sub(r'[\x00-\x1f<>:"/\\|?*]+', "_", job_id))
        return name if n == 1 else f"{name}-{n}"


class Saver:
    """Saves a run's results into ``to.storage`` as its jobs complete (``completed``, from the follower), under the
    client's concurrency; ``finish`` saves those the run did not see complete (over before it, or at their
    create) unless the ledger says they were saved there before, waits for every save, and fills ``to``."""

    def __init__(self, client: Any, to: SaveTo, groups: Mapping[str, list[int]]) -> None:
        self.client, self.to, self.groups = client, to, groups
        self.tasks: dict[tuple[str, str], asyncio.Task[Fetched]] = {}  # (job id, name) -> its save
        self.limit = asyncio.Semaphore(client.max_concurrency)

    def completed(self, job_id: str, key: str | None, url: str | None) -> None:
        """A job seen completed: its rows' results saved now, in the background (``{key}#n``: a batch's n-th video)."""
        if not url or key is None:
            return
        base, _, n = key.partition("#")
        for row in self.groups.get(base, ()):
            self._start(job_id, self.to.name(row, job_id, int(n or 1)), url)

    def _start(self, job_id: str, name: str, url: str) -> None:
        if (job_id, name) not in self.tasks:
            self.tasks[(job_id, name)] = asyncio.get_running_loop().create_task(self._save(job_id, name, url))

    async def _save(self, job_id: str, name: str, url: str) -> Fetched:
        async with self.limit:
            fetched = await save_file(self.client, url, self.to.storage, name)
        if fetched.name is not None and fetched.size:
            await self.client.ledger.record_saves([(job_id, self.to.storage.address, name, fetched.name,
                                                    fetched.size)])
        return fetched

    def cancel(self) -> None:
        for task in self.tasks.values():
            task.cancel()

    async def finish(self, outcomes: Sequence[Outcome]) -> None:
        wanted = [(row, job_id, self.to.name(row, job_id, n), url, n) for row, outcome in enumerate(outcomes)
                  for n, (job_id, url) in enumerate(_results(outcome), start=1) if url]
        storage = self.to.storage
        known = self.client.ledger.saved(storage.address, [w[1] for w in wanted if (w[1], w[2]) not in self.tasks])
        for _, job_id, name, url, _ in wanted:
            if (job_id, name) not in self.tasks and (job_id, name) not in known:
                self._start(job_id, name, url)
        try:
            done = dict(zip(self.tasks, await asyncio.gather(*self.tasks.values()), strict=True))
        except BaseException:
            self.cancel()
            raise
        for row, job_id, name, _, n in wanted:
            saved = known.get((job_id, name))
            fetched = done.get((job_id, name)) or Fetched(
                storage.join(saved.file) if saved else None, None if saved else "not saved",
                saved.file if saved else None, saved.size if saved else None)
            if n == 1:
                self.to.files[row] = fetched
            else:
                self.to.more.setdefault(row, []).append(fetched)


def _results(outcome: Outcome) -> list[tuple[str, str | None]]:
    """A completed row's jobs and their result URLs: its own, then its batch's other videos (image to video)."""
    if outcome.status != "completed" or not outcome.job_id:
        return []
    extra = json.loads(outcome.extra) if isinstance(outcome.extra, str) and outcome.extra else {}
    ids, urls = extra.get("video_ids"), extra.get("video_urls")
    if isinstance(ids, list) and isinstance(urls, list) and len(ids) == len(urls) and len(ids) > 1:
        return [(str(i), u) for i, u in zip(ids, urls, strict=True)]
    return [(outcome.job_id, outcome.url)]
