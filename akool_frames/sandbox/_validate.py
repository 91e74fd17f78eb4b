"""Request-body validation as the providers document it: declarative fields, errors naming the field."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = ["ApiError", "F", "Range", "one_of_required", "validate"]


class ApiError(Exception):
    """An answer other than success: a business code, its message, and the HTTP status."""

    def __init__(self, code: int, msg: str, http: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.http, self.headers = code, msg, http, headers or {}


_TYPES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "num": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
    # Fields documented as String but sent as numbers in the docs' own examples.
    "strnum": lambda v: isinstance(v, str | int | float) and not isinstance(v, bool),
    # Face swap opts: face detection's landmarks_str string, or the one-element array holding it.
    "landmarks": lambda v: isinstance(v, str) or (isinstance(v, list) and len(v) == 1 and isinstance(v[0], str)
                                                            and bool(v[0].strip())),
}
_TYPE_NAMES = {"str": "a string", "int": "an integer", "num": "a number", "bool": "a boolean",
               "list": "an array", "dict": "an object", "strnum": "a string or number",
               "landmarks": "a landmarks string (or a one-element array of it)"}


class Range(TypedDict):
    """Bounds several fields share, spread into each: ``F("speed", "num", **SPEED_RANGE)``."""

    min: float
    max: float


@dataclass(frozen=True)
class F:
    """One body field: type, required, limits. ``fields`` describes a dict or the items of a list."""

    name: str
    type: str = "str"
    required: bool = False
    enum: Sequence[Any] | None = None
    min: float | None = None
    max: float | None = None
    max_len: int | Callable[[], int] | None = None  # callable: a limit that depends on the plan
    max_words: int | None = None  # whitespace-separated words (legacy audio's "limited to 5000 words")
    min_items: int | None = None
    max_items: int | None = None
    fields: tuple[F, ...] = ()
    nonempty: bool = False  # a required string must not be blank


def _fail(code: int, path: str, problem: str) -> ApiError:
    return ApiError(code, f"Parameter error: {path} {problem}")


def validate(body: dict[str, Any], fields: Sequence[F], *, code: int = 1003, prefix: str = "") -> None:
    """Raise ApiError(code) naming the first field that breaks its documented rule."""
    if not isinstance(body, dict):
        raise _fail(code, prefix.rstrip(".") or "body", "must be a JSON object")
    for f in fields:
        path = prefix + f.name
        value = body.get(f.name)
        if value is None or (f.nonempty and isinstance(value, str) and not value.strip()):
            if f.required:
                raise _fail(code, path, "is required")
            continue
        if not _TYPES[f.type](value):
            raise _fail(code, path, f"must be {_TYPE_NAMES[f.type]}, got {type(value).__name__}")
        if f.enum is not None and value not in f.enum:
            raise _fail(code, path, f"must be one of {', '.join(map(str, f.enum))}; got {value!r}")
        if f.min is not None and value < f.min:
            raise _fail(code, path, f"must be at least {f.min}; got {value}")
        if f.max is not None and value > f.max:
            raise _fail(code, path, f"must be at most {f.max}; got {value}")
        limit = f.max_len() if callable(f.max_len) else f.max_len
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise _fail(code, path, f"is {len(value)} characters; the limit is {limit}")
        if f.max_words is not None and isinstance(value, str) and len(value.split()) > f.max_words:
            raise _fail(code, path, f"is {len(value.split())} words; the limit is {f.max_words}")
        if isinstance(value, list):
            if f.min_items is not None and len(value) < f.min_items:
                raise _fail(code, path, f"needs at least {f.min_items} item(s)")
            if f.max_items is not None and len(value) > f.max_items:
                raise _fail(code, path, f"takes at most {f.max_items} items; got {len(value)}")
            for i, item in enumerate(value):
                if f.fields:
                    validate(item, f.fields, code=code, prefix=f"{path}[{i}].")
        elif isinstance(value, dict) and f.fields:
            validate(value, f.fields, code=code, prefix=f"{path}.")


def one_of_required(body: dict[str, Any], names: Sequence[str], *, code: int = 1003, exactly: bool = False) -> None:
    present = [n for n in names if body.get(n) not in (None, "")]
    if not present:
        raise _fail(code, " or ".join(names), "is required (one of them must be given)")
    if exactly and len(present) > 1:
        raise _fail(code, " and ".join(present), "are mutually exclusive; give only one")
