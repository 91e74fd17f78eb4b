"""Media lengths for prices, measured without stalling a forecast.

``probe_lengths(client, targets)`` gives each target (a URL, a local path, or the job id of a finished job in
the ledger, as video_audio's ``pre_video_id``) its length in seconds, or the reason in plain words:

- a URL already measured by any run on this ledger is not fetched again (source "ledger"); within one
  client session, each target is measured once;
- the others are fetched concurrently, under the client's concurrency gate (never more in flight than
  ``max_concurrency``) but not its API rate limiter, with short timeouts: the first ``HEAD_BYTES`` of the
  file, and its last ``TAIL_BYTES`` when the head does not tell (an MP4 whose moov is at the end);
- the first probe of each host goes alone: when the host cannot be reached (name not resolved, connection
  refused, no answer), every other target on it gets the same reason at once, so 500 rows on a dead CDN
  cost one failed connection, not 500 retried ones;
- a reason never carries a URL's query string (signed URLs hold tokens).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import media
from ._errors import TransportError

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


def _shown(url: str) -> str:
    """The URL as a reason may show it: without its query string or fragment (they may hold tokens)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class _Session:
    """One call's probes: the hosts found unreachable, and the first probe of each host."""

    def __init__(self, client: Any, progress: Any) -> None:
        self.client, self.progress = client, progress
        self.dead: dict[str, str] = {}  # host -> why it cannot be reached
        self.first: dict[str, asyncio.Event] = {}  # host -> set once its first probe is over
        # Names are resolved a few at a time, once per host: resolvers drop bursts of parallel queries (seen
        # here: 100 lookups 50 at a time took 15 s, each drop waiting out a 5 s resolver timeout).
        self.resolving = asyncio.Semaphore(RESOLVERS)

    async def url(self, url: str) -> Length:
        parts = urlsplit(url)
        host = parts.hostname or url
        gate = self.first.get(host)
        if gate is None:
            self.first[host] = asyncio.Event()
            try:
                await self._resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
                return Length(None, reason=self.dead[host]) if host in self.dead else await self._fetch(url, host)
            finally:
                self.first[host].set()
        await gate.wait()
        if host in self.dead:
            return Length(None, reason=self.dead[host])
        return await self._fetch(url, host)

    async def _resolve(self, host: str, port: int) -> None:
        """Look the host's name up once; a name that does not resolve marks the host dead."""
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
                self.dead[host] = f"could not reach {host}: name not resolved"
            except (TimeoutError, OSError):
                self.dead[host] = f"could not reach {host}: no answer from DNS within {CONNECT_TIMEOUT:g} s"

    async def _get(self, url: str, host: str, start: int, length: int) -> tuple[int, str, bytes, int | None]:
        for attempt in (1, 2):
            try:
                return await self.client.http.get_range(url, start, length, connect=CONNECT_TIMEOUT,
                                                        read=READ_TIMEOUT)
            except TransportError as exc:
                if not exc.may_have_reached:  # the host itself is out of reach: so are its other files
                    self.dead[host] = f"could not reach {host}: {exc}"
                    raise
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _fetch(self, url: str, host: str) -> Length:
        try:
            status, phrase, head, total = await self._get(url, host, 0, media.HEAD_BYTES)
            if status >= 500:  # a gateway's hiccup: once more
                status, phrase, head, total = await self._get(url, host, 0, media.HEAD_BYTES)
            if status not in (200, 206):
                return Length(None, reason=f"{host} answered {status} {phrase} for {urlsplit(url).path or '/'}")
            seconds = media.duration_from_bytes(head, total)
            if seconds is None and total is not None and total > len(head):
                size = min(media.TAIL_BYTES, total - len(head))
                status, _, tail, _ = await self._get(url, host, total - size, size)
                seconds = media.duration_from_bytes(head, total, tail) if status in (200, 206) else None
        except TransportError as exc:
            return Length(None, reason=self.dead.get(host) or f"could not read {_shown(url)}: {exc}")
        if seconds is None:
            return Length(None, reason=f"the file at {_shown(url)} is not audio or video that can be read "
                                       f"({_FORMATS})")
        return Length(seconds, "probed")


def _local(target: str) -> Length:
    if not Path(target).exists():
        return Length(None, reason=f"no such file: {target}")
    seconds = media.probe_local(target)
    if seconds is None:
        return Length(None, reason=f"the file {target} is not audio or video that can be read ({_FORMATS})")
    return Length(seconds, "probed")


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def _is_path(target: str) -> bool:
    """A local path (existing or not), as opposed to a job id: it has a folder or a file suffix."""
    return Path(target).exists() or "/" in target or "\\" in target or bool(Path(target).suffix)


async def probe_lengths(client: Any, targets: Iterable[str], *, progress: Any = None) -> dict[str, Length]:
    """Each target's length (see the module docstring); ``progress`` (a ProgressSink) counts the fetches."""
    wanted = list(dict.fromkeys(t for t in targets if isinstance(t, str) and t))
    cache: dict[str, Length] = client.lengths  # this client's session
    out = {t: cache[t] for t in wanted if t in cache}
    todo = [t for t in wanted if t not in out]
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
    session = _Session(client, progress)

    async def one(url: str) -> None:
        lengths[url] = await session.url(url)
        if progress is not None:
            progress.finished()

    await asyncio.gather(*(one(u) for u in fetch))
    found = {u: x.seconds for u, x in lengths.items() if x.source == "probed" and x.seconds is not None}
    if found:
        await client.ledger.remember_lengths(found)
    for t in todo:
        if t in out:
            continue
        out[t] = lengths[resolved[t]] if t in resolved else lengths[t] if _is_url(t) else _local(t)
    cache.update({t: x for t, x in out.items() if x.seconds is not None or _is_url(t)})
    return out
