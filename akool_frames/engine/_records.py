"""What a provider record says of a job (``Read``), read the same way after a create, a poll, a list page and a
reconciliation; and the requests that find a job again (its poll, our id for it)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from ..catalog import TERMINAL, JobSpec, get_path

__all__ = ["ENDED", "Read", "external_id", "poll_request", "read_record"]


def poll_request(spec: JobSpec, ids: list[str]) -> tuple[str, str]:
    poll = spec.poll
    assert poll is not None
    return poll.method, poll.path.replace("{id}", ids[0]) if poll.id_in == "path" else poll.path


def external_id(key: str, attempt: int) -> str:
    """Our id for a create where the provider keeps one (unique per account, so one per ledger attempt)."""
    return f"af-{key[:24]}-{max(attempt, 1)}"


class Read(NamedTuple):
    """What a provider record says of a job: its status, result URL, credits, failure reason, and the job's
    extra fields (``JobSpec.extra_fields``) as JSON text, or None when the record has none of them."""

    status: str
    url: str | None
    credits: float | None
    error: str | None
    extra: str | None = None


ENDED = {status: Read(status, None, None, None) for status in TERMINAL}  # a finished job's read, once recorded


def _extra(spec: JobSpec, record: Any) -> str | None:
    found = {name: get_path(record, path) for name, path in spec.extra_fields.items()}
    found = {k: v for k, v in found.items() if v not in (None, "", [])}
    return json.dumps(found, ensure_ascii=False, sort_keys=True) if found else None


def read_record(spec: JobSpec, record: Any, *, create: bool = False) -> Read:
    """Status, result URL, credits, failure reason and extra fields from a provider record."""
    field_name = (spec.create_status_field or spec.status_field) if create else spec.status_field
    raw = get_path(record, field_name)
    status = spec.statuses.get(raw, "queued" if create else "processing")
    url = get_path(record, spec.result_field) if status == "completed" else None
    credits = None
    if spec.credit_field:
        value = get_path(record, spec.credit_field)
        try:
            credits = float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            credits = None
    error = None
    if status == "failed":
        reasons = [f"{f}: {v}" for f in spec.error_fields if (v := get_path(record, f)) not in (None, "", [])]
        error = "; ".join(reasons) or f"the job failed at {spec.provider} (no reason given)"
        if spec.credit_field:
            credits = 0.0  # a failed job is not charged (the documented failed records show 0)
    return Read(status, (str(url) if url else None), credits, error, _extra(spec, record))
