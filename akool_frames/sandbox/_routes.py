"""The route table: every emulated endpoint is one entry, registered by a decorator in a family module."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._inputs import Finder
from ._state import Job, Media, SandboxState, new_id
from ._validate import ApiError, one_of_required, validate

__all__ = ["Ctx", "Raw", "Route", "ROUTES", "route", "PROVIDERS", "make_job"]


@dataclass(frozen=True)
class Provider:
    """How one provider wraps answers and names its codes."""

    ok_code: int
    msg_key: str
    ok_msg: str
    param_code: int
    param_http: int
    quota_code: int
    not_found_code: int
    rate_code: int
    concurrency_code: int
    throttle_http: int
    throttle_msg: str
    concurrency_msg: str

    def envelope(self, data: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.ok_code, self.msg_key: self.ok_msg, "data": data}
        if self is PROVIDERS["kling"]:
            body["request_id"] = str(uuid.uuid4())
        return body

    def error(self, code: int, msg: str) -> dict[str, Any]:
        body: dict[str, Any] = {"code": code, self.msg_key: msg}
        if self is PROVIDERS["kling"]:
            body["request_id"] = str(uuid.uuid4())
        elif self is PROVIDERS["audiocleaner"]:
            body["data"] = None
        return body


PROVIDERS: dict[str, Provider] = {
    # Akool: HTTP 200 with a business code; 1005 is its throttling answer.
    "akool": Provider(1000, "msg", "OK", 1003, 200, 1006, 1008, 1005, 1005, 200,
                      "Operation is too frequent", "Operation is too frequent"),
    # audiocleaner documents no parameter-error code; 100001 is the sandbox's choice.
    "audiocleaner": Provider(100000, "message", "Request Success", 100001, 200, 100100, 101008, 101003, 101004, 200,
                             "API key rate limit exceeded", "API key concurrent request limit exceeded"),
    # Kling maps codes to HTTP statuses (reconstructed from its general-information page).
    "kling": Provider(0, "message", "SUCCEED", 1201, 400, 1102, 1203, 1302, 1303, 429,
                      "The API request is too fast, exceeding the rate limit",
                      "Concurrency exceeds the resource package limit"),
}


class Raw(dict[str, Any]):
    """A handler result sent as-is, without the provider's envelope (getToken's top-level token)."""


@dataclass
class Ctx:
    """What a handler sees of one request."""

    state: SandboxState
    route: Route
    body: dict[str, Any]
    query: dict[str, list[str]]
    params: dict[str, str]
    base_url: str
    fault: str | None = None  # "job_fail" for a create that must end failed
    bad_input: str | None = None  # an input URL that could not be fetched: the job ends failed (see _fetch)

    @property
    def provider(self) -> Provider:
        return PROVIDERS[self.route.provider]

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name) or self.query.get(name + "[]")
        return values[0] if values else default

    def qlist(self, name: str) -> list[str]:
        """Array query parameters, in bracket form (``types[]=1``) or repeated/comma form."""
        values = self.query.get(name + "[]") or self.query.get(name) or []
        return [v for value in values for v in value.split(",") if v]

    def require_query(self, name: str) -> str:
        value = self.q(name)
        if not value:
            msg = f"Parameter error: {name} is required"
            raise self.param_error(msg)
        return value

    def validate(self, fields: Any, body: Any = None) -> None:
        """Check the body (or ``body``) against field rules, answering with this provider's parameter error."""
        try:
            validate(self.body if body is None else body, fields, code=self.provider.param_code)
        except ApiError as err:
            raise self.param_error(err.msg) from None

    def one_of(self, names: tuple[str, ...], *, exactly: bool = False) -> None:
        try:
            one_of_required(self.body, names, code=self.provider.param_code, exactly=exactly)
        except ApiError as err:
            raise self.param_error(err.msg) from None

    def param_error(self, msg: str) -> ApiError:
        return ApiError(self.provider.param_code, msg, self.provider.param_http)

    def file_url(self, job: Job) -> str | None:
        """The result URL, once the job completed (None before and on failure)."""
        if job.media is None or job.status(self.state.clock.now()) != 3:
            return None
        return f"{self.base_url}/files/{SandboxState.file_name(job)}"

    def job(self, job_id: str | None, name: str | tuple[str, ...] | None = None) -> Job:
        """The caller's job by id, or the provider's not-found error."""
        names = (name,) if isinstance(name, str) else name
        job = self.state.jobs.get(job_id or "")
        if job is None or job.deleted or job.provider != self.route.provider or (names and job.name not in names):
            raise ApiError(self.provider.not_found_code, _NOT_FOUND[self.route.provider],
                           404 if self.route.provider == "kling" else 200)
        return job


_NOT_FOUND = {"akool": "The content you get does not exist", "audiocleaner": "Task not found",
              "kling": "The requested resource does not exist"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    provider: str  # akool | audiocleaner | kling | sandbox
    kind: str  # create | poll | lookup | delete | detect | auth | file | admin
    name: str  # job or endpoint name, used for stats and fault keys
    handler: Callable[[Ctx], Any]
    pattern: re.Pattern[str] = field(compare=False, default=re.compile(""))
    inputs: Finder | None = field(compare=False, default=None)  # the body's media input URLs (creates, detections)

    def keys(self) -> tuple[str, ...]:
        """Fault-config keys, most specific first."""
        return (self.path, self.name, self.kind)


ROUTES: list[Route] = []


def route(method: str, path: str, *, provider: str, kind: str, name: str,
          inputs: Finder | None = None) -> Callable[[Callable[[Ctx], Any]], Callable[[Ctx], Any]]:
    """Register a handler. ``{name}`` in the path is a path parameter. ``inputs`` finds the body's media input
    URLs: each must be an http(s) URL, and the loopback ones are fetched before the handler runs (``_fetch``)."""

    def deco(fn: Callable[[Ctx], Any]) -> Callable[[Ctx], Any]:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"
        ROUTES.append(Route(method, path, provider, kind, name, fn, re.compile(regex), inputs))
        return fn

    return deco


def make_job(ctx: Ctx, *, name: str, processing: float, credits: float, media: Media | None,
             webhook_field: str | None = "webhookUrl", webhook_type: str = "", job_id: str | None = None,
             extra: dict[str, Any] | None = None, record_create: bool = True,
             fail_reason: str = "Failed to process the input. Please check your input resources.") -> Job:
    """Charge the caller and create a job (the common tail of every create handler).

    ``processing`` is simulated sandbox seconds after the queue; a ``job_fail`` fault, or an input URL that could
    not be fetched (``ctx.bad_input``), makes the job end failed with ``fail_reason``: the latter soon, as a
    download that fails does not wait for the work.
    """
    state = ctx.state
    provider = ctx.route.provider
    if not state.charge(provider, credits):
        raise ApiError(ctx.provider.quota_code, _QUOTA[provider], 429 if provider == "kling" else 200)
    failing = ctx.fault == "job_fail" or ctx.bad_input is not None
    created, started, finished = state.timing(min(processing, BAD_INPUT_SECONDS) if ctx.bad_input else processing)
    webhook = ctx.body.get(webhook_field) if webhook_field else None
    job = Job(
        id=job_id or new_id(), name=name, provider=provider, body=ctx.body, created=created, started=started,
        finished=finished, credits=credits, media=media, webhook=webhook or None, webhook_type=webhook_type,
        extra=extra or {}, fail_reason=fail_reason if failing else None,
    )
    if record_create:  # a batch request records itself once, not once per item
        state.record_create(ctx.route.path, ctx.body)
    return state.add_job(job)


BAD_INPUT_SECONDS = 2.0  # sandbox seconds of processing before a job whose input could not be fetched fails

_QUOTA = {"akool": "Your quota is not enough", "audiocleaner": "Insufficient credit balance",
          "kling": "Resource pack depleted or expired"}
