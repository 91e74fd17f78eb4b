"""Media lengths for prices, measured without stalling a forecast.

``probe_lengths(client, targets)`` gives each target (a URL, a local path, or the job id of a finished job in
the ledger, as video_audio's ``pre_video_id``) its length in seconds, or the reason in plain words:

- a URL already measured by any run on this ledger is not fetched again (source "ledger"); within one
  client session each target is measured once, and calls asking for the same target at the same time
  share one probe;
- the others are fetched concurrently, under the client's concurrency gate (never more in flight than
  ``max_concurrency``) but not its API rate limiter, with short timeouts: the first ``HEAD_BYTES`` of the
  file, and its last ``TAIL_BYTES`` when the head does not tell (an MP4 whose moov is at the end);
- at most one retry, for a 5xx answer or a broken connection; a host out of reach is never retried;
- the first probe of each host goes alone: when the host cannot be reached (name not resolved, connection
  refused, no answer) or sends nothing, every other target on it gets the same reason at once, so 500 rows
  on a dead CDN cost one failed connection, not 500 retried ones;
- a reason never carries a URL's query string or user info (signed URLs hold tokens).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from .._errors import TransportError
from .._locations import kind_of, local_path
from ..storage import filesystem, read_range
from ..transport import is_timeout
from . import _media as media

__all__ = ["CONNECT_TIMEOUT", "READ_TIMEOUT", "Length", "probe_lengths"]

CONNECT_TIMEOUT = 3.0  # seconds to connect to a media host
READ_TIMEOUT = 5.0  # seconds of silence while reading its bytes
RESOLVERS = 4  # name lookups at once
_FORMATS = "WAV, MP3, MP4/M4A/MOV, OGG, FLAC"


@dataclass(frozen=True)
class Length:
    """A target's length in seconds and where it came from ("probed", "ledger"), or why it is unknown."""

    seconds: float | None
    source: str = ""
    reason: str | None = None


def _host(parts: SplitResult) -> tuple[str, int, str]:
    """Host, port and how a reason names them (the port only when the URL gives one)."""
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        shown = f"{host}:{parts.port}" if parts.port else host
    except ValueError:  # a port that is not a number: the connection attempt will say so
        port, shown = 0, host
    return host, port, shown


def _shown(url: str) -> str:
    """The URL as a reason may show it: no user info, query string or fragment (they may hold tokens)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{_host(parts)[2]}{parts.path}"


class _Session:
    """One call's probes: the hosts found unreachable, and the first probe of each host."""

    def __init__(self, client: Any) -> None:
        self.http = client.http
        self.dead: dict[tuple[str, int], str] = {}  # (host, port) -> why nothing there can be read
        self.first: dict[tuple[str, int], asyncio.Event] = {}  # set once the host's first probe is over
        # Names are resolved a few at a time, once per host: resolvers drop bursts of parallel queries (seen
        # here: 100 lookups 50 at a time took 15 s, each drop waiting out a 5 s resolver timeout).
        self.resolving = asyncio.Semaphore(RESOLVERS)

    async def url(self, url: str) -> Length:
        parts = urlsplit(url)
        host, port, shown = _host(parts)
        key = (host, port)
        gate = self.first.get(key)
        if gate is None:
            self.first[key] = asyncio.Event()
            try:
                await self._resolve(key, shown)
                return Length(None, reason=self.dead[key]) if key in self.dead else await self._fetch(url, key, shown)
            finally:
                self.first[key].set()
        await gate.wait()
        if key in self.dead:
            return Length(None, reason=self.dead[key])
        return await self._fetch(url, key, shown)

    async def _resolve(self, key: tuple[str, int], shown: str) -> None:
        """Look the host's name up once; a name that does not resolve marks the host dead."""
        host, port = key
        try:
            ipaddress.ip_address(host)
            return  # an address needs no lookup
        except ValueError:
            pass
        async with self.resolving:
            try:
                await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                                       CONNECT_TIMEOUT)
            except socket.gaierror:
                self.dead[key] = f"could not reach {shown}: name not resolved"
            except (TimeoutError, OSError):
                self.dead[key] = f"could not reach {shown}: no answer from DNS within {CONNECT_TIMEOUT:g} s"

    async def _get(self, url: str, key: tuple[str, int], shown: str, start: int,
                   length: int) -> tuple[int, str, bytes, int | None]:
        """One ranged GET, tried again once after a 5xx answer or a broken connection, never otherwise."""
        for attempt in (0, 1):
            try:
                answer = await self.http.get_range(url, start, length, connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
            except TransportError as exc:
                if not exc.may_have_reached:  # the host itself is out of reach: so are its other files
                    self.dead.setdefault(key, f"could not reach {shown}: {exc}")
                    raise
                if exc.__cause__ is not None and is_timeout(exc.__cause__):
                    # Connected, then silence: waiting READ_TIMEOUT for each of its files would stall the run.
                    self.dead.setdefault(key, f"{shown} did not answer: {exc}")
                    raise
                if attempt:
                    raise
                continue
            if answer[0] < 500 or attempt:
                return answer
        msg = "unreachable"
        raise AssertionError(msg)  # pragma: no cover

    async def _fetch(self, url: str, key: tuple[str, int], shown: str) -> Length:
        try:
            status, phrase, head, total = await self._get(url, key, shown, 0, media.HEAD_BYTES)
            if status not in (200, 206):
                return Length(None, reason=f"{shown} answered {status} {phrase} for {urlsplit(url).path or '/'}")
            if total is None and len(head) < media.HEAD_BYTES:
                total = len(head)  # it all fit in the head: that is the whole file
            if total is None:  # the bytes alone would give the length of the head, not of the file
                return Length(None, reason=f"{shown} did not say how big {_shown(url)} is, so its length "
                                           f"cannot be read from its first bytes")
            seconds = media.duration_from_bytes(head, total)
            # More only from a server that honours ranges (one that does not would send the head again).
            if seconds is None and status == 206 and total > len(head):
                seconds = await self._more(url, key, shown, head, total)
        except TransportError as exc:
            return Length(None, reason=self.dead.get(key) or f"could not read {_shown(url)}: {exc}")
        if seconds is None:
            return Length(None, reason=f"the file at {_shown(url)} is not audio or video that can be read "
                                       f"({_FORMATS})")
        return Length(seconds, "probed")


    async def _more(self, url: str, key: tuple[str, int], shown: str, head: bytes, total: int) -> float | None:
        """The length from the head and one more range: the rest of an MP4's moov box (at the front but
        bigger than the head, or after mdat), else the file's last TAIL_BYTES (an OGG's final page)."""
        start, end = _next_range(head, total)
        status, _, more, _ = await self._get(url, key, shown, start, end - start)
        if status != 206 or len(more) != end - start:
            return None
        if start == len(head):
            return media.duration_from_bytes(head + more, total)
        return media.duration_from_bytes(head, total, more)


def _next_range(head: bytes, total: int) -> tuple[int, int]:
    """The one more range to read when the head does not tell the length (see ``_Session._more``)."""
    tail = (total - min(media.TAIL_BYTES, total - len(head)), total)
    start, end = media.moov_span(head, total) or tail
    if start < len(head):  # a big moov at the front: the head goes on
        start, end = len(head), min(end, len(head) + media.MOOV_BYTES)
    elif end < total:  # boxes after the moov: fetch up to the end, so the bytes are a tail
        end = total
    if end - start > media.MOOV_BYTES:  # more than a moov (a box the head does not reach): the end only
        start, end = tail
    return start, end


def _stored(target: str, options: Mapping[str, Any]) -> Length:
    """An object's length, read from the store directly (ranged reads; never through a presigned URL)."""
    fs, path = filesystem(target, options)
    try:
        total = int(fs.size(path))
        head = read_range(fs, path, 0, min(total, media.HEAD_BYTES))
        seconds = media.duration_from_bytes(head, total)
        if seconds is None and total > len(head):
            start, end = _next_range(head, total)
            more = read_range(fs, path, start, end)
            seconds = media.duration_from_bytes(head + more, total) if start == len(head) \
                else media.duration_from_bytes(head, total, more)
    except FileNotFoundError:
        return Length(None, reason=f"there is no object {target}")
    except Exception as exc:  # noqa: BLE001 - a store's errors (botocore's, gcsfs') share no base class
        return Length(None, reason=f"could not read {target} ({type(exc).__name__})")
    if seconds is None:
        return Length(None, reason=f"the object {target} is not audio or video that can be read ({_FORMATS})")
    return Length(seconds, "probed")


def _exists(target: str) -> bool:
    try:
        return Path(target).exists()
    except (OSError, ValueError):  # a name too long for a file, a NUL byte: text, not a path
        return False


def _local(target: str) -> Length:
    target = local_path(target)  # (file:// too)
    if not _exists(target):
        return Length(None, reason=f"no such file: {target}")
    seconds = media.probe_local(target)
    if seconds is None:
        return Length(None, reason=f"the file {target} is not audio or video that can be read ({_FORMATS})")
    return Length(seconds, "probed")


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def _is_path(target: str) -> bool:
    """A local path (existing or not), as opposed to a job id: it has a folder or a file suffix."""
    return _exists(target) or "/" in target or "\\" in target or bool(Path(target).suffix)


async def _measure(client: Any, targets: list[str], progress: Any) -> dict[str, Length]:
    """The lengths of ``targets`` (none of them known to this session yet)."""
    out: dict[str, Length] = {}
    stored = [t for t in targets if kind_of(t) == "store"]
    for t in targets:
        if kind_of(t) is None and "://" in t:
            out[t] = Length(None, reason=f"{_shown(t)} is not an http(s) URL: it cannot be fetched")
    options = getattr(client, "storage_options", None) or {}
    out.update(zip(stored, await asyncio.gather(*(asyncio.to_thread(_stored, t, options) for t in stored)),
                   strict=True))
    todo = [t for t in targets if t not in out]
    # A job id (video_audio's pre_video_id): the length of that job's result, when the ledger has it.
    ids = [t for t in todo if not _is_url(t) and not _is_path(t)]
    jobs = client.ledger.by_job_ids(ids) if ids else {}
    resolved = {t: jobs[t].url for t in ids if t in jobs and jobs[t].url}
    for t in ids:
        if t not in resolved:
            out[t] = Length(None, reason=f"{t} is neither a URL, a file, nor a finished job in the ledger")
    urls = list(dict.fromkeys([*(t for t in todo if _is_url(t)), *resolved.values()]))
    known = client.ledger.media_lengths(urls)
    lengths = {u: Length(s, "ledger") for u, s in known.items()}
    fetch = [u for u in urls if u not in known]
    if progress is not None and fetch:
        progress.start(len(fetch), None)
    session = _Session(client)

    async def one(url: str) -> None:
        lengths[url] = await session.url(url)
        if progress is not None:
            progress.finished()

    local = [t for t in todo if t not in out and not _is_url(t) and t not in resolved]
    read, _ = await asyncio.gather(asyncio.gather(*(asyncio.to_thread(_local, t) for t in local)),
                                   asyncio.gather(*(one(u) for u in fetch)))
    out.update(zip(local, read, strict=True))
    probed = {u: x.seconds for u, x in lengths.items() if x.source == "probed" and x.seconds is not None}
    if probed:
        await client.ledger.remember_lengths(probed)
    for t in todo:
        if t not in out:
            out[t] = lengths[resolved[t]] if t in resolved else lengths[t]
    return out


async def _shared(client: Any, target: str, probing: asyncio.Future[Length]) -> Length:
    """The result of another call's probe of ``target``; if that call was cancelled, probed here."""
    try:
        return await asyncio.shield(probing)
    except asyncio.CancelledError:
        if not probing.cancelled():
            raise  # this call was cancelled
    return (await probe_lengths(client, [target]))[target]


async def probe_lengths(client: Any, targets: Iterable[str], *, progress: Any = None) -> dict[str, Length]:
    """Each target's length (see the module docstring); ``progress`` (a ProgressSink) counts the fetches:
    ``start(n, None)`` with the number that need a request, ``finished()`` for each; closing it is the caller's."""
    wanted = list(dict.fromkeys(t for t in targets if isinstance(t, str) and t))
    if getattr(client, "lengths", None) is None:
        client.lengths = {}
    cache: dict[str, Length | asyncio.Future[Length]] = client.lengths  # this session's: known or being probed
    loop = asyncio.get_running_loop()
    out = {t: v for t in wanted if isinstance(v := cache.get(t), Length)}
    others = {t: v for t in wanted if isinstance(v := cache.get(t), asyncio.Future)}
    mine = {t: loop.create_future() for t in wanted if t not in cache}
    cache.update(mine)
    try:
        gathered: list[Any] = await asyncio.gather(_measure(client, list(mine), progress),
                                                   *(_shared(client, t, f) for t, f in others.items()))
        found, shared = gathered[0], gathered[1:]  # mine measured, then each of the others' probes
    except BaseException:
        for t, f in mine.items():  # nothing kept; a call waiting on these probes its targets itself
            if cache.get(t) is f:
                del cache[t]
            f.cancel()
        raise
    for t, f in mine.items():
        f.set_result(found[t])
        # Kept for the session: every URL's answer, and lengths of files and jobs. Not kept: a missing file
        # or an unfinished job, which may be there when asked again.
        if found[t].seconds is not None or _is_url(t):
            cache[t] = found[t]
        elif cache.get(t) is f:
            del cache[t]
    out.update(found)
    out.update(zip(others, shared, strict=True))
    return {t: out[t] for t in wanted}
