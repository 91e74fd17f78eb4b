"""Media inputs that are files or objects (a local path, ``file://``, ``s3://`` ...): checked before anything is
priced or sent, keyed by what the row gave, and made presigned URLs only in the body a create sends.

- a row whose input is missing, or a local file without ``staging``, is invalid (free), naming the field;
- the ledger key reads each such input as ``Source.key_text`` (the value as given and the object's identity), so
  a re-run whose URLs are signed again finds its jobs;
- a provider's record is matched to a lost create by URLs without their signatures (``_locations.unsigned``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from .._locations import unsigned
from ..catalog import JobSpec, has_media_inputs, media_inputs, replace_inputs
from ..storage import Source
from ._prepare import Prepared

__all__ = ["keyed", "matchable", "resolve_inputs", "staged", "without_signatures"]


async def resolve_inputs(client: Any, spec: JobSpec, prepared: Sequence[Prepared], *,
                         identity: bool) -> tuple[list[Prepared], dict[str, Source]]:
    """The rows, those whose media inputs cannot be used made invalid; the Sources of the others, by value."""
    if not has_media_inputs(spec):
        return list(prepared), {}
    given = [media_inputs(spec, p.body) if p.problem is None else [] for p in prepared]
    values = {value for inputs in given for _, value in inputs}
    if not values:
        return list(prepared), {}
    found = await client.stager.resolve(values, identity=identity)
    if not found:
        return list(prepared), {}
    out = []
    for p, inputs in zip(prepared, given, strict=True):
        problem = next((f"{path}: {found[value]}" for path, value in inputs if isinstance(found.get(value), str)),
                       None)
        out.append(p._replace(problem=problem) if problem else p)
    return out, {value: source for value, source in found.items() if isinstance(source, Source)}


def keyed(spec: JobSpec, body: Mapping[str, Any], sources: Mapping[str, Source]) -> Any:
    """What the ledger key reads: ``body`` with each file or object as given plus its identity."""
    if not sources:
        return body
    return replace_inputs(spec, body, lambda v: sources[v].key_text if v in sources else v)


async def staged(client: Any, spec: JobSpec, body: Mapping[str, Any], sources: Mapping[str, Source]) -> Any:
    """The body a create sends: each file uploaded (once) and each object presigned."""
    wanted = list(dict.fromkeys(v for _, v in media_inputs(spec, body) if v in sources))
    if not wanted:
        return body
    urls = await asyncio.gather(*(client.stager.url(sources[v]) for v in wanted))
    signed = dict(zip(wanted, urls, strict=True))
    return replace_inputs(spec, body, lambda v: signed.get(v, v))


async def matchable(client: Any, spec: JobSpec, body: Mapping[str, Any], sources: Mapping[str, Source]) -> Any:
    """A lost create's body as a provider's record would show it, signatures left out."""
    wanted = list(dict.fromkeys(v for _, v in media_inputs(spec, body) if v in sources))
    bare = dict(zip(wanted, await asyncio.gather(*(asyncio.to_thread(client.stager.unsigned, sources[v])
                                                   for v in wanted)), strict=True))
    return replace_inputs(spec, body, lambda v: bare[v] if v in bare else unsigned(v))


def without_signatures(spec: JobSpec, record: Mapping[str, Any]) -> Any:
    """A provider's record with the signatures of its media inputs' URLs left out."""
    return replace_inputs(spec, record, unsigned)
