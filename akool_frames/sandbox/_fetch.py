"""A request's media inputs, checked and fetched before its handler runs, as the API fetches them.

- A create whose input is not an http(s) URL (a local path, ``file://``, ``s3://``, ``C:\\...``, ``ftp://``) is refused
  with the provider's parameter error, "Invalid URL format: <field>": nothing is charged, no job made.
- An input on a loopback host (127.0.0.0/8, ::1, localhost; any port: a media host or an S3 server a test started)
  is fetched: the sandbox's own files (``<base_url>/files/...``) from its own store, the others over HTTP with a short
  timeout, at most ``MAX_BYTES`` read. Its length is measured (mutagen, then the sandbox's own readers) and bills the
  job (``SandboxState.media_seconds``). One that cannot be fetched (refused, timed out, any answer but 200: a 404, a
  presigned URL expired or badly signed) makes the job fail soon with its documented reason (``ctx.bad_input``; the
  pages show a bad input as a failed job, video_status 4 "please check your input resources", not as a refused create)
  and the face detection endpoints answer their download error.
- Any other host is never contacted: its length comes from ``SandboxConfig.media`` or the default. A loopback server
  redirecting elsewhere is not followed there (the input is then taken as one on that other host). A loopback URL
  that ``SandboxConfig.media`` names is taken as declared (that length, available), not fetched.

A fetch runs on the server's event loop (httpx's async client), never blocking it. Its outcome is kept per URL
(``SandboxState.fetched``): concurrent requests for one URL share one fetch, and a successful one is reused for
``KEEP_SECONDS`` of sandbox time, so the sandbox's fast clock (and ``advance``) ages it like everything else; a failure
is not kept (the next create fetches again). Network timeouts are real seconds: the network does not speed up.
"""

from __future__ import annotations

import asyncio
import io
import ssl
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from . import _media
from ._inputs import INVALID_URL, Fetched, is_http_url, is_loopback
from ._routes import Ctx
from ._state import SandboxState

__all__ = ["InputFetcher", "measure"]

MAX_BYTES = 64 * 1024 * 1024  # read of one input at most (test media are small; a longer file is measured by its head)
TIMEOUT = httpx.Timeout(10.0, connect=3.0)  # real seconds, per connect and per read
DEADLINE = 20.0  # real seconds for a whole fetch, redirects included
MAX_REDIRECTS = 5
KEEP_SECONDS = 60.0  # sandbox seconds a successful fetch is reused for
KEEP_AT_MOST = 10_000  # outcomes kept; the oldest go first


class InputFetcher:
    """Checks and fetches the inputs of the requests of one sandbox app (one event loop)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._pending: dict[str, asyncio.Future[Fetched]] = {}
        self._tls: ssl.SSLContext | None = None

    def cancel(self) -> None:
        """Stop the fetches under way (the server is shutting down)."""
        for pending in list(self._pending.values()):
            pending.cancel()

    async def prepare(self, ctx: Ctx) -> None:
        """Refuse a create's input that is not an http(s) URL; fetch the loopback ones; mark ``ctx.bad_input``."""
        finder = ctx.route.inputs
        if finder is None:
            return
        given = [(path, value.strip()) for path, value in finder(ctx.body) if isinstance(value, str) and value.strip()]
        if ctx.route.kind == "create":  # (face detection answers a bad URL in its own envelope: its handler does)
            for path, value in given:
                if not is_http_url(value):
                    # The documented parameter error of each provider (Akool's error-code page: 1003 "Parameter
                    # error"; Kling 1201 and audiocleaner 100001 are the sandbox's, see _routes.PROVIDERS) with face
                    # detection's documented message for a URL without http(s) (page 09), naming the field.
                    msg = f"{INVALID_URL}: {path} must be an http(s) URL the API can fetch; got {value[:200]!r}"
                    raise ctx.param_error(msg)
        declared = ctx.state.config.media  # inputs whose length the caller gave: taken as given, not fetched
        urls = list(dict.fromkeys(value for _, value in given
                                  if is_http_url(value) and is_loopback(value) and value not in declared))
        outcomes = await asyncio.gather(*(self.fetch(url, ctx.base_url) for url in urls))
        ctx.bad_input = next((url for url, found in zip(urls, outcomes, strict=True) if found.error), None)

    async def fetch(self, url: str, base_url: str = "") -> Fetched:
        """What fetching ``url`` (a loopback http(s) URL) finds, kept or fetched now (one fetch per URL at a time)."""
        state = self.state
        with state.lock:
            kept = state.fetched.get(url)
        if kept is not None and state.clock.now() - kept.at < KEEP_SECONDS:
            return kept
        pending = self._pending.get(url)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(url, base_url))
            self._pending[url] = pending
            pending.add_done_callback(lambda _: self._pending.pop(url, None))
        return await asyncio.shield(pending)  # a request that goes away leaves the fetch to the others

    async def _fetch(self, url: str, base_url: str) -> Fetched:
        state = self.state
        at = state.clock.now()
        own = f"{base_url}/files/" if base_url else None
        if own and url.startswith(own):  # its own file: from its store, as GET /files/<name> would serve it
            media = state.served(urlsplit(url).path.rsplit("/", 1)[-1])
            found = Fetched(at, media.duration if media else None, None if media else "HTTP 404")
        else:
            with state.lock:
                state.input_fetches += 1
            try:
                found = await asyncio.wait_for(self._get(url, at), DEADLINE)
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, TimeoutError, ValueError) as err:
                found = Fetched(at, error=f"{type(err).__name__}: {err}"[:300])
        if found.error is None:
            self._keep(url, found)
        return found

    async def _get(self, url: str, at: float) -> Fetched:
        async with httpx.AsyncClient(trust_env=False, verify=self._context(), timeout=TIMEOUT,
                                     follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                async with client.stream("GET", url) as response:
                    if response.is_redirect:
                        target = urljoin(url, response.headers.get("location", ""))
                        if not (is_http_url(target) and is_loopback(target)):
                            return Fetched(at)  # elsewhere: never contacted, as any other host
                        url = target
                        continue
                    if response.status_code != 200:
                        return Fetched(at, error=f"HTTP {response.status_code}")
                    data = bytearray()
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) >= MAX_BYTES:
                            break
                seconds = await asyncio.to_thread(measure, bytes(data[:MAX_BYTES]))
                return Fetched(at, seconds)
        return Fetched(at, error=f"more than {MAX_REDIRECTS} redirects")

    def _context(self) -> ssl.SSLContext:
        """TLS as the webhooks' urllib verifies: the system's CAs (or ``SSL_CERT_FILE``), made once."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def _keep(self, url: str, found: Fetched) -> None:
        state = self.state
        with state.lock:
            kept = state.fetched
            kept.pop(url, None)
            kept[url] = found  # (a dict keeps insertion order: the oldest first)
            while len(kept) > KEEP_AT_MOST:
                del kept[next(iter(kept))]


def measure(data: bytes) -> float | None:
    """Seconds of the medium in ``data``: mutagen's reading (WAV, MP3, MP4, OGG, FLAC), else the sandbox's own
    readers (WAV, MPEG-1 Layer III, MP4); None for anything without a length (an image)."""
    import mutagen
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    found: Any = None
    try:
        found = mutagen.File(io.BytesIO(data), options=[MP3, MP4, WAVE, FLAC, OggVorbis, OggOpus])
    except Exception:  # noqa: BLE001  # mutagen raises many kinds on bytes it cannot read: all mean "not by mutagen"
        found = None
    info = getattr(found, "info", None)
    seconds = getattr(info, "length", None)
    if not getattr(info, "sketchy", False) and isinstance(seconds, int | float) and seconds > 0:
        return round(float(seconds), 6)
    return _media.probe_duration(data)
