"""Joining, the frame side's last step: the engine's Outcomes (or an estimate's columns) back on the frame as
result columns, with the library's nullable types (pandas' NA-based dtypes, polars' own), replaced in place
where they exist; a job's extra fields as columns of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from .._values import to_py, typed_series

__all__ = ["ESTIMATE_FIELDS", "JOB_FIELDS", "PRICE_FIELDS", "RESULT_FIELDS"]

if TYPE_CHECKING:
    from ..engine import Outcome

PRICE_FIELDS = ("job", "price_basis", "duration_s", "duration_source")  # how each estimate was made
JOB_FIELDS = ("job_id", "status", "url", "credits_est", "credits", "error")  # what refresh updates
RESULT_FIELDS = (*JOB_FIELDS, *PRICE_FIELDS)
ESTIMATE_FIELDS = ("credits_est", "status", "error", *PRICE_FIELDS)
_NUMERIC = frozenset({"credits_est", "credits", "duration_s"})
_DATETIME = frozenset({"expires_at"})
_BOOLEAN = frozenset({"deleted"})
_LIST = frozenset({"video_ids", "video_urls", "files"})  # one row, several results (image to video, count > 1)


# ------------------------------------------------------------------------------- result columns
def _new_series(name: str, values: list[Any], like: nw.DataFrame[Any], kind: str) -> nw.Series[Any]:
    """A result column of ``kind`` for a frame like ``like`` (see ``typed_series``)."""
    return typed_series(name, values, like.implementation, kind)


def _with_columns(frame: nw.DataFrame[Any], prefix: str, columns: Mapping[str, list[Any]]) -> nw.DataFrame[Any]:
    """New frame with ``prefix + field`` columns: existing ones replaced in place, the others appended in order.
    Credits are nullable Float64, flags nullable booleans, everything else nullable strings."""
    kinds = {f: "float" if f in _NUMERIC else "datetime" if f in _DATETIME else "bool" if f in _BOOLEAN
             else "list" if f in _LIST else "string" for f in columns}
    return frame.with_columns(*(_new_series(prefix + f, values, frame, kinds[f]) for f, values in columns.items()))


def _join(frame: nw.DataFrame[Any], outcomes: Sequence[Outcome], prefix: str,
          fields: Sequence[str]) -> nw.DataFrame[Any]:
    if len(outcomes) != len(frame):
        msg = f"The engine returned {len(outcomes)} outcomes for {len(frame)} rows."
        raise RuntimeError(msg)
    if not outcomes:
        return _with_columns(frame, prefix, {f: [] for f in fields})
    columns = zip(*map(attrgetter(*fields), outcomes), strict=True) if len(fields) > 1 else [
        [getattr(o, fields[0]) for o in outcomes]]
    return _with_columns(frame, prefix, {f: list(values) for f, values in zip(fields, columns, strict=True)})


def _existing(frame: nw.DataFrame[Any], name: str) -> list[Any]:
    if name not in frame.columns:
        return [None] * len(frame)
    return [to_py(v) for v in frame.get_column(name).to_list()]


def _attach(frame: nw.DataFrame[Any], prefix: str, columns: Mapping[str, nw.Series[Any]]) -> nw.DataFrame[Any]:
    """The estimate's columns, computed apart, on the frame (by position), with the result columns' types."""
    native = frame.to_native()
    if frame.implementation is nw.Implementation.PANDAS:
        pd = frame.implementation.to_native_namespace()
        added = {prefix + name: pd.Series(series.to_native().to_numpy(), index=native.index,
                                          dtype="Float64" if name in _NUMERIC else "string")
                 for name, series in columns.items()}
        return nw.from_native(native.assign(**added), eager_only=True)
    return frame.with_columns(*(series.cast(nw.Float64() if name in _NUMERIC else nw.String()).alias(prefix + name)
                                for name, series in columns.items()))


def _extras(job: str, outcomes: Sequence[Outcome]) -> dict[str, list[Any]]:
    """A job's extra fields as columns (a clone's or Kling's voice_id, moderation's result), one per name;
    values that are lists or objects as JSON text."""
    import json

    from ..catalog import get_job

    spec = get_job(job)
    found = [json.loads(o.extra) if o.extra else {} for o in outcomes]
    columns: dict[str, list[Any]] = {
        name: [None if (v := row.get(name)) is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
               for row in found] for name in spec.extra_fields}
    if any(route.batch_records for route in spec.routes):  # every row's videos, as lists (one for a single video)
        for name, one in (("video_ids", "job_id"), ("video_urls", "url")):
            columns[name] = [row.get(name) or ([getattr(o, one)] if o.job_id else None)
                             for row, o in zip(found, outcomes, strict=True)]
    return columns
