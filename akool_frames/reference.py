"""Knowing the jobs: ``af.jobs()`` and ``af.describe(job)``, generated from the job catalog and the price rules, so
they cannot drift from what the client validates, sends and prices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from . import pricing
from .catalog import JOBS, Field, JobSpec, get_job
from .ledger import CALLBACK_FIELDS

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from .typing import Backend, EagerFrame

__all__ = ["describe", "jobs"]

DOCS = "https://docs.akool.com/"
URL_FIELD = ("a media URL the API fetches: an http(s) URL (sent as is); a local file or file:// URL (uploaded once to "
             "the Client's staging=, then presigned); an s3:// gs:// az:// object (presigned where it is)")


def _frame(rows: list[dict[str, Any]], backend: Backend) -> EagerFrame:
    if backend == "polars":
        import polars as pl

        return pl.DataFrame(rows, strict=False)
    if backend == "pandas":
        import pandas as pd

        return pd.DataFrame(rows)
    msg = f"backend is {backend!r}; use 'pandas' or 'polars'."
    raise ValueError(msg)


def _priced(spec: JobSpec) -> str:
    if spec.name in pricing.UNDOCUMENTED:
        observed = pricing.RATES.get(spec.name)
        how = "observed in the docs' examples" if observed is not None else "no documented price"
        return f"{how}; rates= in {pricing.UNDOCUMENTED[spec.name][0]}"
    rate = pricing.RATES.get(spec.name)
    return f"documented: {rate.unit}" if rate is not None else "documented rule"


def _followed(spec: JobSpec) -> str:
    if spec.poll is None:
        return "immediate (the create answers with the result)"
    if spec.poll.many:
        return f"polled, up to {spec.poll.max_ids} ids a request"
    if spec.poll.listed and spec.reconcile is not None:
        return "polled through its result list (many jobs a request)"
    return "polled one job a request"


@overload
def jobs(backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def jobs(backend: Literal["polars"]) -> pl.DataFrame: ...
def jobs(backend: Backend = "pandas") -> EagerFrame:
    """A frame of the jobs: name, provider, create endpoint, what ``akool_url`` points to, how it is priced, how it
    is followed, whether it takes a callback (webhook mode), and its documentation page.

    Args:
        backend: "pandas" or "polars".

    Example:
        >>> af.jobs()[["job", "result", "priced"]].head(3)  # doctest: +SKIP
    """
    rows = [{"job": s.name, "provider": s.provider,
             "endpoint": " | ".join(dict.fromkeys([s.create, *(r.create for r in s.routes)])),
             "result": s.result_kind, "priced": _priced(s), "followed": _followed(s),
             "webhook": bool(s.webhook_field) and s.provider == "akool",
             "doc": (DOCS + s.doc) if s.doc and s.provider == "akool" else s.doc}
            for s in JOBS.values()]
    return _frame(rows, backend)


PLANS = ("pro", "max", "business")


def _limit(value: int | Mapping[str, int] | None) -> Any:
    if isinstance(value, Mapping):  # by plan (the mapping also holds the plans' other spellings)
        return ", ".join(f"{plan} {value[plan]}" for plan in PLANS if plan in value)
    return value


def _rows(fields: tuple[Field, ...], spec: JobSpec, prefix: str = "") -> list[dict[str, Any]]:
    aliases: dict[str, list[str]] = {}
    for alias, target in spec.aliases.items():
        aliases.setdefault(target, []).append(alias)
    rows = []
    for f in fields:
        path = f"{prefix}{f.name}"
        if path in CALLBACK_FIELDS:  # set by akool_frames itself (webhook_url=, follow="webhook")
            continue
        rows.append({
            "parameter": path, "type": f.type, "required": f.required,
            "allowed": ", ".join(dict.fromkeys(map(str, f.enum))) if f.enum is not None else None,
            "min": f.min, "max": f.max, "max_length": _limit(f.max_len) if f.max_words is None else f"{f.max_words} words",
            "max_items": f.max_items, "default": spec.defaults.get(path) if path in spec.defaults else None,
            "aliases": ", ".join(aliases.get(path, [])) or None, "rule": spec.rules.get(path),
            "accepts": URL_FIELD if f.type == "url" else None,
        })
        rows += _rows(f.fields, spec, f"{path}[]." if f.type == "list" else f"{path}.")
    return rows


@overload
def describe(job: str, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def describe(job: str, backend: Literal["polars"]) -> pl.DataFrame: ...
def describe(job: str, backend: Backend = "pandas") -> EagerFrame:
    """A frame of ``job``'s parameters, as the client validates them: name (dotted for nested fields, ``[]`` for
    items of a list), type, required, allowed values, limits, default, the short names it also accepts, the
    rule that ties it to other fields (``rule``: "required when audio_type is 2"), and what a media field
    (type ``url``) accepts: URLs, local files (staged) and object-store URIs (presigned).

    Args:
        job: A job name, e.g. "image_to_video" (see ``af.jobs()``).
        backend: "pandas" or "polars".

    Example:
        >>> af.describe("image_to_video").query("required")["parameter"].tolist()  # doctest: +SKIP
        ['image_url', 'prompt', 'negative_prompt', 'resolution', 'audio_type']
    """
    spec = get_job(job)
    rows = _rows(spec.fields, spec)
    if spec.one_of:
        for group in spec.one_of:
            for row in rows:
                if row["parameter"] in group:
                    row["required"] = f"one of {', '.join(group)}"
    return _frame(rows, backend)
