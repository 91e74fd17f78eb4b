"""The media inputs of a body: the values of its ``url`` fields, at any depth the fields describe (faceswap's
``targetImage[].path``), read and replaced without touching the body given (a row's dicts may be the caller's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._spec import Field, JobSpec, rewrite

__all__ = ["has_media_inputs", "media_inputs", "replace_inputs"]


def _any_url(fields: tuple[Field, ...]) -> bool:
    return any(f.type == "url" or _any_url(f.fields) for f in fields)


def has_media_inputs(spec: JobSpec) -> bool:
    """Whether the job takes any media input (text to speech takes none: its rows are not walked)."""
    known = _WITH_URLS.get(id(spec.fields))  # asked per call: made once per fields tuple
    if known is None or known[0] is not spec.fields:
        known = _WITH_URLS[id(spec.fields)] = (spec.fields, _any_url(spec.fields))
    return known[1]


_WITH_URLS: dict[int, tuple[tuple[Field, ...], bool]] = {}


def _walk(fields: tuple[Field, ...], body: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if not isinstance(body, Mapping):
        return
    for f in fields:
        value = body.get(f.name)
        path = f"{prefix}{f.name}"
        if f.type == "url" and isinstance(value, str) and value.strip():
            yield path, value
        elif f.fields and isinstance(value, Mapping):
            yield from _walk(f.fields, value, f"{path}.")
        elif f.fields and isinstance(value, list | tuple):
            for i, item in enumerate(value):
                yield from _walk(f.fields, item, f"{path}[{i}].")


def media_inputs(spec: JobSpec, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field path, value) of each media input the body gives."""
    return list(_walk(spec.fields, body, ""))


def replace_inputs(spec: JobSpec, body: Mapping[str, Any], swap: Callable[[str], str]) -> Any:
    """``body`` with each media input ``v`` replaced by ``swap(v)`` (copied where changed)."""
    return rewrite(spec.fields, body,
                   lambda f, v: swap(v) if f.type == "url" and isinstance(v, str) and v.strip() else v)
