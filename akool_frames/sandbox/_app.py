"""The sandbox as an ASGI app: auth, limits and faults around the route table; files; admin; webhooks."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs

from . import _media
from ._auth import authenticate
from ._config import own_tls
from ._fetch import InputFetcher
from ._routes import PROVIDERS, ROUTES, Ctx, Raw, Route
from ._state import STATIC_FILES, Job, SandboxState
from ._validate import ApiError
from ._webhook import WebhookError, build_payload, verify_payload

__all__ = ["SandboxApp"]

Scope = dict[str, Any]
logger = logging.getLogger("akool_frames.sandbox")
LOG_LIMIT = 200_000

# Faults after a create was handled (job made, credits charged): what a CDN in front of the API may answer
# instead of the envelope. kind -> (HTTP status, content type, body or None for the envelope's own bytes, headers).
CDN_PAGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
            b"<body><h1>Checking your browser before accessing the site.</h1></body></html>")
UNAVAILABLE_PAGE = (b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
                    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>")
AFTER_ANSWERS: dict[str, tuple[int, str, bytes | None, dict[str, str]]] = {
    "html_after": (200, "text/html; charset=utf-8", CDN_PAGE, {}),
    "unavailable_after": (503, "text/html", UNAVAILABLE_PAGE, {}),
    "bad_encoding_after": (200, "application/json", None, {"Content-Encoding": "gzip"}),  # labelled gzip, is not
}
CREATE_FAULTS = ("reset_after", *AFTER_ANSWERS, "job_fail")


class SandboxApp:
    """ASGI callable. One instance per sandbox; its state is inspected by the test or the user."""

    def __init__(self, state: SandboxState) -> None:
        from . import families  # noqa: F401  (registers every route family)

        self.state = state
        self.base_url = ""  # set by the server once the port is known
        self._ticker: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self.http_in_flight = 0
        self.inputs = InputFetcher(state)  # checks and fetches (loopback) the media inputs of a request

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/_sandbox/"):
            # The harness's own channel (stats, log, clock, webhook sink): not client traffic,
            # so it is neither counted, logged, limited nor faulted.
            await self._admin(scope["method"], scope["path"], await _read_body(receive), send, {})
            return
        state = self.state
        with state.lock:
            self.http_in_flight += 1
            state.requests += 1
            state.max_in_flight = max(state.max_in_flight, self.http_in_flight)
        try:
            await self._handle(scope, receive, send)
        finally:
            with state.lock:
                self.http_in_flight -= 1

    async def _handle(self, scope: Scope, receive: Any, send: Any) -> None:
        method, path = scope["method"], scope["path"]
        raw = await _read_body(receive)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        # latin-1 maps every byte: a stray non-UTF-8 header is an auth failure, not a crash.
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        entry: dict[str, Any] = {"t": self.state.clock.now(), "method": method, "path": path, "fault": None,
                                 "query": {k: v[-1] for k, v in query.items()}}
        # Logged on arrival and filled in as the request goes: once the client has its answer,
        # the entry is complete (logging after sending raced with a client reading the log).
        self._log(entry)
        if path.startswith("/files/"):
            await self._file(path.removeprefix("/files/"), send, entry)
            return
        found = _match(method, path)
        if found is None:
            await _send_json(send, 404, {"code": 404, "msg": f"No route {method} {path}"}, entry)
            return
        rt, params = found
        await self._api(rt, params, raw, query, headers, scope, send, entry)

    async def _api(self, rt: Route, params: dict[str, str], raw: bytes, query: dict[str, list[str]],
                   headers: dict[str, str], scope: Scope, send: Any, entry: dict[str, Any]) -> None:
        state, provider = self.state, PROVIDERS[rt.provider]
        entry.update(endpoint=rt.name, kind=rt.kind)
        try:
            account = authenticate(rt, headers, state)
        except ApiError as err:
            await _send_json(send, err.http, provider.error(err.code, err.msg), entry, err.code, err.headers)
            return
        if not state.enter(account):
            await self._throttled(rt, send, entry, provider.concurrency_code, provider.concurrency_msg, 1.0)
            return
        try:
            wait = state.take_rate_token(account)
            if wait > 0:
                await self._throttled(rt, send, entry, provider.rate_code, provider.throttle_msg, wait)
                return
            kinds = ("reset_before", "error_5xx", "throttle") + (CREATE_FAULTS if rt.kind == "create" else ())
            fault, delay = state.draw_fault(rt.keys(), kinds)
            if delay > 0:
                await asyncio.sleep(delay)
            if fault:
                entry["fault"] = fault
                with state.lock:
                    state.faults[fault] += 1
            if fault == "reset_before":
                await _reset(send)
                return
            if fault == "error_5xx":
                status = state.fault_status(rt.keys())
                await _send_json(send, status, {"error": "injected server error"}, entry)
                return
            if fault == "throttle":
                await self._throttled(rt, send, entry, provider.rate_code, provider.throttle_msg, 1.0)
                return
            try:
                body = json.loads(raw) if raw.strip() and rt.method != "GET" else {}
            except json.JSONDecodeError:
                bad = ApiError(provider.param_code, "Parameter error: the body is not valid JSON", provider.param_http)
                await _send_json(send, bad.http, provider.error(bad.code, bad.msg), entry, bad.code)
                return
            ctx = Ctx(state, rt, body if isinstance(body, dict) else {"_": body}, query, params, self.base_url,
                      fault if fault == "job_fail" else None)
            if rt.kind == "poll":
                with state.lock:
                    state.polls[rt.path] += 1
            elif rt.kind == "detect":  # face detection: answered at once, no job (counted apart from creates)
                with state.lock:
                    state.detections[rt.path] += 1
            reshape = observed_shape if rt.provider == "akool" and state.config.answer_shapes == "observed" \
                else (lambda answer: answer)
            try:
                await self.inputs.prepare(ctx)  # refuses a non-http input; a loopback one that fails: ctx.bad_input
                result = rt.handler(ctx)
            except ApiError as err:
                await _send_json(send, err.http, reshape(provider.error(err.code, err.msg)), entry, err.code,
                                 err.headers)
                return
            if fault == "reset_after":
                await _reset(send)  # handled: the job exists, the answer is lost
                return
            payload = result if isinstance(result, Raw) else provider.envelope(result)
            if fault in AFTER_ANSWERS:  # handled: the job exists, the answer is not the provider's
                status, content_type, page, extra = AFTER_ANSWERS[fault]
                entry["code"] = payload.get("code") if page is None else None
                body = json.dumps(reshape(payload)).encode() if page is None else page
                await _send(send, status, body, content_type, entry, extra)
                return
            await _send_json(send, 200, reshape(payload), entry, payload.get("code"))
        finally:
            state.leave(account)

    async def _throttled(self, rt: Route, send: Any, entry: dict[str, Any], code: int, msg: str, wait: float) -> None:
        provider = PROVIDERS[rt.provider]
        with self.state.lock:
            self.state.throttled += 1
        entry["throttled"] = True
        retry_after = {"Retry-After": f"{max(wait, 0.001):.3f}"}
        if self.state.config.http_429:
            await _send_json(send, 429, provider.error(code, msg), entry, code, retry_after)
        else:
            await _send_json(send, provider.throttle_http, provider.error(code, msg), entry, code,
                             retry_after if provider.throttle_http == 429 else None)

    # ------------------------------------------------------------------ files
    async def _file(self, name: str, send: Any, entry: dict[str, Any]) -> None:
        media = self.state.served(name)  # catalogue previews (voices, avatars, effects) never expire; results do
        if media is None:
            await _send(send, 404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml", entry)
            return
        data = _media.render(media.ext, media.duration, seed=0 if name in STATIC_FILES else hash(name) & 0xFFFF)
        await _send(send, 200, data, _media.content_type(media.ext), entry)

    # ------------------------------------------------------------------ admin
    async def _admin(self, method: str, path: str, raw: bytes, send: Any, entry: dict[str, Any]) -> None:
        state, action = self.state, path.removeprefix("/_sandbox/")
        body: Any  # JSON as sent (None: not JSON, which only the webhook sink takes, to reject it)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if body is None and action != "webhook-sink":
            await _send_json(send, 400, {"error": "the body is not valid JSON"}, entry)
            return
        if action == "stats":
            await _send_json(send, 200, state.stats(), entry)
        elif action == "log":
            with state.lock:
                log = [dict(e) for e in state.log]
            await _send_json(send, 200, log, entry)
        elif action == "advance" and method == "POST":
            state.clock.advance(float(body.get("seconds", 0)))
            await _send_json(send, 200, {"now": state.clock.now()}, entry)
        elif action == "webhook-sink" and method == "POST":
            status, reply = self._sink(body)
            await _send_json(send, status, reply, entry)
        elif action == "sink":
            with state.lock:  # copy under the lock, send outside it (never await holding it)
                sink = list(state.sink)
            await _send_json(send, 200, sink, entry)
        else:
            await _send_json(send, 404, {"error": f"unknown admin action {action!r}"}, entry)

    def _sink(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A webhook receiver that checks signatures with the sandbox's own verifier."""
        cfg = self.state.config
        try:
            data = verify_payload(payload, cfg.client_id, cfg.client_secret)
        except WebhookError as err:
            with self.state.lock:
                self.state.sink.append({"accepted": False, "error": str(err), "payload": payload})
            return 400, {}
        with self.state.lock:
            self.state.sink.append({"accepted": True, "data": data})
        return 200, {}

    # ------------------------------------------------------------------ webhooks
    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._ticker = asyncio.create_task(self._tick())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in [self._ticker, *self._deliveries]:
                    if task is not None:
                        task.cancel()
                self.inputs.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _tick(self) -> None:
        while True:
            try:
                for job in self.state.webhooks_due():
                    task = asyncio.create_task(self._deliver(job))
                    self._deliveries.add(task)
                    task.add_done_callback(self._deliveries.discard)
            except Exception:  # a broken family must not stop every later callback
                logger.exception("sandbox webhook ticker")
            await asyncio.sleep(0.02)

    def webhook_body(self, job: Job) -> dict[str, Any]:
        state, cfg = self.state, self.state.config
        status = job.status(state.clock.now())
        if job.provider == "kling":
            from .families import task_object  # the callback carries the task object

            return task_object(job, self.base_url, state.clock.now())
        url = f"{self.base_url}/files/{SandboxState.file_name(job)}" if status == 3 and job.media else ""
        data = {"_id": job.id, "status": status, "type": job.webhook_type, "url": url}
        return build_payload(data, cfg.client_id, cfg.client_secret, timestamp_ms=state.clock.now_ms())

    async def _deliver(self, job: Job) -> None:
        cfg = self.state.config
        for attempt in range(cfg.webhook_retries + 1):
            try:
                body = json.dumps(self.webhook_body(job)).encode()
            except Exception:
                logger.exception("sandbox webhook body for job %s", job.id)
                return
            url = str(job.webhook)
            own = own_tls(cfg) if self.base_url and url.startswith(self.base_url + "/") else None
            status = await asyncio.to_thread(_post, url, body, own)
            with self.state.lock:
                self.state.webhooks.append({"job": job.id, "url": job.webhook, "attempt": attempt + 1, "status": status})
            if status == 200:
                return
            await asyncio.sleep(self.state.clock.real_seconds(cfg.webhook_retry_interval))

    def _log(self, entry: dict[str, Any]) -> None:
        with self.state.lock:
            if len(self.state.log) < LOG_LIMIT:
                self.state.log.append(entry)


def observed_shape(payload: Any) -> Any:
    """``answer_shapes="observed"``: an Akool answer as real clients meet it where the docs show another shape
    (issue 9): ``message`` for ``msg``, a one-element ``data`` array as its object (avatar create/detail),
    ``data.list`` for ``data.result``. The client must read both."""
    if not isinstance(payload, dict) or "code" not in payload:
        return payload  # another envelope (face detection): as it is
    out = {("message" if k == "msg" else k): v for k, v in payload.items()}
    data = out.get("data")
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        out["data"] = data[0]
    elif isinstance(data, dict) and isinstance(data.get("result"), list):
        out["data"] = {("list" if k == "result" else k): v for k, v in data.items()}
    return out


def _match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for rt in ROUTES:
        if rt.method == method:
            m = rt.pattern.match(path)
            if m:
                return rt, m.groupdict()
    return None


def _post(url: str, body: bytes, context: Any = None) -> int:
    """POST a callback. ``context``: TLS for the sandbox's own sink; others verify as urllib does
    (the system's CAs, or ``SSL_CERT_FILE``)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:  # a user-given callback URL
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except Exception:  # noqa: BLE001  # unreachable, refused, or not a URL at all ("abc"): a failed attempt
        return 0


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_json(send: Any, status: int, payload: Any, entry: dict[str, Any], code: Any = None,
                     headers: dict[str, str] | None = None) -> None:
    entry["code"] = code
    await _send(send, status, json.dumps(payload).encode(), "application/json", entry, headers)


async def _send(send: Any, status: int, body: bytes, content_type: str, entry: dict[str, Any],
                headers: dict[str, str] | None = None) -> None:
    entry["status"] = status
    hdrs = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body})


async def _reset(send: Any) -> None:
    """Drop the connection without an answer.

    uvicorn's ``send`` is a bound method of the request cycle, which holds the transport;
    aborting it is what a crashed gateway looks like to the client. Elsewhere, fall back
    to a truncated response, which the client sees as a broken connection too.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    # Returning with the body incomplete makes the server close the connection.
