"""The shape of a job: declarative data the engine, validation and pricing read. No I/O here."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._locations import ACCEPTS, form_problem
from .._paths import get_path

__all__ = [
    "AKOOL_STATUS", "I2V_MODELS", "PLAN_TEXT_LIMITS", "TERMINAL", "Delete", "Field", "JobSpec", "Poll", "Reconcile",
    "Route", "coerce_ints", "get_path", "get_path_either", "rewrite", "undocumented", "validate_body",
]

# Akool's job status codes, the same on every product page.
AKOOL_STATUS: Mapping[Any, str] = {1: "queued", 2: "processing", 3: "completed", 4: "failed"}
TERMINAL = frozenset({"completed", "failed"})  # a job's states after which it is not polled again

# Per-request text limits of the plans (voiceLab#create-text-to-speech; talking-avatar elements[].input_text).
# Several spellings of the middle plan, since Field.max_len is looked up with the plan string as given.
PLAN_TEXT_LIMITS: Mapping[str, int] = {"pro": 5000, "max": 10000, "pro_max": 10000, "pro max": 10000,
                                       "business": 50000}

# The image-to-video models the aigModel list example shows (ai-tools-suite/aimodel), each with its resolutions
# and their unit_credit. The unit is not stated; the image2video batch example (seedance lite, 720p, 5 s) charged
# 5 per video, so pricing reads it as credits per 5 s video; 10 s = 2 x unit_credit is derived, not documented.
I2V_MODELS: Mapping[str, Mapping[str, float]] = {
    "AkoolImage2VideoFastV1": {"720p": 5, "1080p": 10, "4k": 20},
    "seedance-1-0-lite-i2v-250428": {"480p": 3, "720p": 5, "1080p": 10},
}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "num": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list | tuple),
    "dict": lambda v: isinstance(v, dict),
    "strnum": lambda v: isinstance(v, str | int | float) and not isinstance(v, bool),
    "any": lambda v: True,  # a field listed only so a rule can say something about it (e.g. "deprecated")
    "url": lambda v: isinstance(v, str),  # a media input: its form is checked by _locations.form_problem
}
_TYPE_NAMES = {"str": "text", "int": "a whole number", "num": "a number", "bool": "true or false",
               "list": "a list", "dict": "a dict", "strnum": "text or a number", "any": "anything",
               "url": ACCEPTS}


@dataclass(frozen=True)
class Field:
    """A documented body field and its rule. ``max_len`` may depend on the plan (a mapping)."""

    name: str
    type: str = "str"
    required: bool = False
    enum: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    max_len: int | Mapping[str, int] | None = None
    max_words: int | None = None  # a limit in words (legacy audio: "limited to 5000 words")
    min_items: int | None = None
    max_items: int | None = None
    pattern: str | None = None
    fields: tuple[Field, ...] = ()  # of a dict, or of each item of a list of dicts


@dataclass(frozen=True)
class Poll:
    """How a job is followed: endpoint, where the id goes, whether it takes many ids at once."""

    path: str  # "{id}" is replaced for path ids
    id_param: str  # query/body parameter name ("video_model_id", "_ids", "global_id"), or "" for a path id
    method: str = "GET"
    id_in: str = "query"  # query | body | path
    many: bool = False  # comma-joined ids in one request
    records: str = "data"  # where the record(s) sit in the answer: "data", "data.result", "data[0]"
    record_id: str = "_id"  # id field inside each record (for many-id answers)
    max_ids: int = 100
    every: float = 3.0  # seconds between two polls of the same job (real time)
    # The job's list endpoint (its ``reconcile``) carries each record's status: one page answers for many jobs,
    # so jobs are polled through it, newest first, and one at a time only when the pages no longer show them.
    listed: bool = False


@dataclass(frozen=True)
class Reconcile:
    """A list endpoint that can tell whether a create whose answer was lost made a job.

    ``match`` gets (record, body) and says whether the record is that create's job.
    """

    path: str
    query: Mapping[str, str]
    records: str
    match: Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
    record_id: str = "_id"
    pages: int = 5  # pages of ``size`` records to look through, newest first
    size: int = 100
    # Where a record says when it was made (epoch ms). With it, a create is proven absent once the pages reach
    # records made before its claim (less CLOCK_SKEW): they are then read up to ``max_pages``, not ``pages``.
    created: str | None = None
    max_pages: int = 100


@dataclass(frozen=True)
class Delete:
    """A documented clean-up endpoint (POST): which value of a row it takes, in which body field, and how.

    ``id_column`` is ``job_id`` or one of the job's extra columns (Kling's voice_id, reage's task_id);
    ``joined``: many ids as one comma string ("a,b"), ``listed``: as a JSON array, else one id per call.
    ``refused`` is where the answer lists the ids it would not delete, as ``{_id, msg}`` records.
    """

    path: str
    id_field: str
    id_column: str = "job_id"
    joined: bool = False
    listed: bool = False
    refused: str | None = None
    batch: int = 50


@dataclass(frozen=True)
class Route:
    """Another create endpoint of the same job, taken when the body has any of the ``when`` fields
    (image to video: ``model_name`` exists only on ``createBySourcePrompt/batch``)."""

    when: tuple[str, ...]
    create: str
    id_path: str | None = "data._id"
    create_record: str = "data"
    batch_records: str | None = None  # where a create that makes several jobs lists them all (one row, n results)


@dataclass(frozen=True)
class JobSpec:
    """One job: create endpoint, fields, poll, status/result/credit/error fields, price rule."""

    name: str
    provider: str  # akool | audiocleaner | kling
    create: str  # path of the create endpoint (POST)
    fields: tuple[Field, ...]
    poll: Poll | None  # None: the create's answer is the result (immediate)
    status_field: str
    result_field: str  # path inside the polled record
    price: str  # the name of its price rule in pricing's table (pricing.rule(name))
    statuses: Mapping[Any, str] = field(default_factory=lambda: AKOOL_STATUS)
    id_path: str | None = "data._id"  # where the job id sits in the create answer (None: it names none)
    create_record: str = "data"  # where the create answer's record sits (for status/credits at create)
    credit_field: str | None = "deduction_credit"
    error_fields: tuple[str, ...] = ()
    webhook_field: str | None = "webhookUrl"
    webhook_required: bool = False  # the page marks the callback required: it is always sent (empty without one)
    webhook_type: str = ""
    one_of: tuple[tuple[str, ...], ...] = ()  # at least one of each group
    exclusive: tuple[tuple[str, ...], ...] = ()  # at most one of each group
    defaults: Mapping[str, Any] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # friendly flat name -> dotted documented path
    check: Callable[[Mapping[str, Any], str], str | None] | None = None  # cross-field rule -> message
    # The check's rules in words, by field (shown by af.describe; tests hold each against the check itself).
    rules: Mapping[str, str] = field(default_factory=dict)
    reconcile: Reconcile | None = None
    result_kind: str = "video"  # audio | video | image | text | voice: what akool_url points to
    doc: str = ""  # the documentation page
    # Status field of the create answer when it differs from the poll's (character swap: status vs video_status).
    create_status_field: str | None = None
    # Other record fields worth keeping, as columns: column name -> record path (a clone's voice_id, moderation's
    # result, reage's job_id as task_id: the id its cancel takes).
    extra_fields: Mapping[str, str] = field(default_factory=dict)
    delete: Delete | None = None  # removes a finished result (a voice, a video)
    cancel: Delete | None = None  # stops a job still queued or processing
    routes: tuple[Route, ...] = ()  # alternative create endpoints chosen by the body; see create_for
    # A body field the provider keeps and can be queried by (Kling's external_task_id): the engine may fill it
    # with the row's idempotency key, so a create whose answer was lost can be found again.
    idempotency_field: str | None = None
    immediate: bool = False  # the create answers with the result (face detection): nothing to poll, safe to resend
    envelope: tuple[str, Any, str] | None = None  # (code field, success value, message field) if not the provider's
    # Codes that the provider's error classes read as the account's (they stop a run) but that this job's own page
    # gives as a refusal of one request: such a row ends rejected and the run goes on (talking avatar's 1109).
    row_codes: frozenset[int | str] = frozenset()

    def field_names(self) -> frozenset[str]:
        known = _FIELD_NAMES.get(id(self.fields))  # asked per row: made once per fields tuple
        if known is None or known[0] is not self.fields:
            known = _FIELD_NAMES[id(self.fields)] = (self.fields, frozenset(f.name for f in self.fields))
        return known[1]

    def create_for(self, body: Mapping[str, Any]) -> Route:
        """The create endpoint for this body: the first route whose fields it has, else the job's own."""
        for route in self.routes:
            if any(not _missing(body.get(name)) for name in route.when):
                return route
        return Route((), self.create, self.id_path, self.create_record)


_FIELD_NAMES: dict[int, tuple[tuple[Field, ...], frozenset[str]]] = {}


# Where real answers and the docs put the same thing differently (read tolerantly, send strictly): data as a
# one-element array in the docs and an object in real clients (avatar create/detail), and lists at data,
# data.result or data.list depending on the endpoint's age.
_ALTERNATIVES = (("data[0]", ("data",)), ("data.result", ("data.list", "data")), ("data.list", ("data.result", "data")),
                 ("data", ("data[0]", "data.result", "data.list")),
                 # video translation: one {code, msg, data} per language in all_results, where Akool's demo reads
                 # them; an answer without it (one language) has the record in data, where the demo falls back
                 ("all_results[0].data", ("data",)))


def get_path_either(obj: Any, path: str, kind: type | tuple[type, ...] | None = None, default: Any = None) -> Any:
    """``get_path``, and where it finds nothing (or not ``kind``), the same path in the other shape real answers
    use (see ``_ALTERNATIVES``). ``"list[].name"`` is the ``name`` of each item of a list (items without one left
    out): video translation's records, ``all_results[].data``."""
    if "[]" in path:
        return _each(obj, path, kind, default)
    found = get_path(obj, path)
    if found is not None and (kind is None or isinstance(found, kind)):
        return found
    for prefix, others in _ALTERNATIVES:
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            rest = path[len(prefix):]
            for other in others:
                found = get_path(obj, other + rest)
                if found is not None and (kind is None or isinstance(found, kind)):
                    return found
            break
    return default


def _each(obj: Any, path: str, kind: type | tuple[type, ...] | None, default: Any) -> Any:
    head, _, rest = path.partition("[]")
    items = get_path_either(obj, head, list)
    if not items:
        return default
    found = [item for item in (get_path(i, rest[1:]) if rest else i for i in items) if item is not None]
    return found if kind is None or isinstance(found, kind) else default


# ------------------------------------------------------------------------------------ integers given as text
_INT_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_INT_FIELDS: dict[int, tuple[tuple[Field, ...], tuple[Field, ...]]] = {}


def _with_ints(fields: tuple[Field, ...]) -> tuple[Field, ...]:
    """The fields that are integers or hold some (a dict's, a list of dicts'), made once per fields tuple."""
    known = _INT_FIELDS.get(id(fields))
    if known is None or known[0] is not fields:
        found = tuple(f for f in fields if f.type == "int" or (f.fields and _with_ints(f.fields)))
        known = _INT_FIELDS[id(fields)] = (fields, found)
    return known[1]


def rewrite(fields: tuple[Field, ...], body: Any, leaf: Callable[[Field, Any], Any],
            select: Callable[[tuple[Field, ...]], tuple[Field, ...]] = lambda fields: fields) -> Any:
    """``body`` with the value ``v`` of each field without fields of its own made ``leaf(f, v)``, at any depth
    the fields describe (a dict's, each item of a list of dicts'; ``select`` picks the fields looked at on each
    level). Copied where changed, never changed in place (a row's dicts may be the caller's)."""
    if not isinstance(body, Mapping):
        return body
    out: dict[str, Any] | None = None
    for f in select(fields):
        value = body.get(f.name)
        if not f.fields:
            new = leaf(f, value)
        elif isinstance(value, Mapping):
            new = rewrite(f.fields, value, leaf, select)
        elif isinstance(value, list | tuple):
            items = [rewrite(f.fields, item, leaf, select) for item in value]
            new = items if any(a is not b for a, b in zip(items, value, strict=True)) else value
        else:
            continue
        if new is not value:
            out = dict(body) if out is None else out
            out[f.name] = new
    return body if out is None else out


def _int_text(f: Field, value: Any) -> Any:
    return int(value) if f.type == "int" and isinstance(value, str) and _INT_TEXT.fullmatch(value) else value


def coerce_ints(fields: tuple[Field, ...], body: Any) -> Any:
    """``body`` with the numeric strings of its integer fields as integers (``"1"`` -> ``1``), at any depth the
    fields describe: sent as the page types them (image to video's audio_type is an Integer; Akool's demo holds
    it as text). Other text is left for validation to name."""
    return rewrite(fields, body, _int_text, _with_ints)


def _check(value: Any, f: Field, path: str, plan: str) -> str | None:
    if not _TYPES[f.type](value):
        return f"{path} must be {_TYPE_NAMES[f.type]}, got {type(value).__name__} {value!r:.40}"
    if f.type == "url":
        return form_problem(value, path)
    if f.enum is not None and value not in f.enum:
        return f"{path} is {value!r}; allowed: {', '.join(map(repr, f.enum))}"
    if f.min is not None and value < f.min:
        return f"{path} is {value}; the minimum is {f.min:g}"
    if f.max is not None and value > f.max:
        return f"{path} is {value}; the maximum is {f.max:g}"
    limit = f.max_len.get(plan) if isinstance(f.max_len, Mapping) else f.max_len
    if limit is not None and isinstance(value, str) and len(value) > limit:
        plan_note = f" on the {plan} plan" if isinstance(f.max_len, Mapping) else ""
        return f"{path} has {len(value)} characters; the limit{plan_note} is {limit}"
    if f.max_words is not None and isinstance(value, str) and len(value.split()) > f.max_words:
        return f"{path} has {len(value.split())} words; the limit is {f.max_words}"
    if f.pattern is not None and isinstance(value, str) and not re.fullmatch(f.pattern, value):
        return f"{path} is {value!r:.40}, which is not in the documented format"
    if isinstance(value, list | tuple):
        if f.min_items is not None and len(value) < f.min_items:
            return f"{path} needs at least {f.min_items} item(s)"
        if f.max_items is not None and len(value) > f.max_items:
            return f"{path} takes at most {f.max_items} items; got {len(value)}"
        if f.fields:
            for i, item in enumerate(value):
                problem = _fields(item, f.fields, f"{path}[{i}]", plan)
                if problem:
                    return problem
    elif isinstance(value, dict) and f.fields:
        return _fields(value, f.fields, path, plan)
    return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def _fields(body: Any, fields: tuple[Field, ...], prefix: str, plan: str) -> str | None:
    if not isinstance(body, dict):
        return f"{prefix or 'the body'} must be a dict"
    for f in fields:
        path = f"{prefix}.{f.name}" if prefix else f.name
        value = body.get(f.name)
        if _missing(value):
            if f.required:
                return f"{path} is required" + (" (it is empty)" if value is not None else "")
            continue
        problem = _check(value, f, path, plan)
        if problem:
            return problem
    return None


CLOSE = 0.8  # how alike an unknown name must be to a documented one to be taken for a misspelling of it


def undocumented(fields: tuple[Field, ...], body: Any, prefix: str = "") -> list[tuple[str, str | None]]:
    """Names in ``body`` (at any depth the docs describe) that no documented field has: (path, the documented
    name it is most likely a misspelling of, or None)."""
    if not isinstance(body, Mapping):
        return []
    names = {f.name: f for f in fields}
    found: list[tuple[str, str | None]] = []
    for key, value in body.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        f = names.get(key)
        if f is None:
            close = difflib.get_close_matches(str(key), list(names), n=1, cutoff=CLOSE)
            found.append((path, f"{prefix}.{close[0]}" if prefix and close else close[0] if close else None))
        elif f.fields and isinstance(value, Mapping):
            found += undocumented(f.fields, value, path)
        elif f.fields and isinstance(value, list | tuple):
            for i, item in enumerate(value):
                found += undocumented(f.fields, item, f"{path}[{i}]")
    return found


def validate_body(spec: JobSpec, body: Mapping[str, Any], plan: str) -> str | None:
    """The first broken rule of ``body`` as a sentence naming the field, or None when it is valid.

    A name close to a documented one (``input_txt``, ``voice_options.sped``) is taken for a misspelling and
    named first (so a misspelled required field does not read as merely missing). Any other name the docs do
    not have is no problem here: the docs lag the API, so it is sent as given (``undocumented`` lists them).
    """
    for path, close in undocumented(spec.fields, body):
        if close is not None:
            return f"{path} is not a documented field of {spec.name}; did you mean {close}?"
    problem = _fields(dict(body), spec.fields, "", plan)
    if problem:
        return problem
    for group in spec.one_of:
        if all(_missing(body.get(n)) for n in group):
            return f"one of {' / '.join(group)} is required"
    for group in spec.exclusive:
        given = [n for n in group if not _missing(body.get(n))]
        if len(given) > 1:
            return f"{' and '.join(given)} are mutually exclusive; give only one"
    return spec.check(body, plan) if spec.check else None
