"""Preparing rows, the flow's first step: one row's parameters made the documented body (aliases expanded,
defaults filled, blanks dropped) and validated, then priced (the media the price rules ask for probed once, all
at once); a re-run's rows already sent keep the price the ledger kept. Knows nothing of sending.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .._blank import blank, without_blanks
from ..catalog import JobSpec, coerce_ints, undocumented, validate_body
from ..ledger import CALLBACK_FIELDS, Entry
from ..pricing import Price, PriceContext, probe_lengths
from ..pricing import estimate as price_of

if TYPE_CHECKING:
    from ..typing import ProgressSink

__all__ = ["Outcome", "Prepared", "estimate_outcome", "prepare", "prepare_rows"]

log = logging.getLogger("akool_frames")


@dataclass(slots=True)
class Outcome:
    """What one row ends with. ``status`` is one of PRODUCT.md's statuses (None only for a valid
    row in an estimate, where nothing is submitted)."""

    status: str | None
    job_id: str | None = None
    url: str | None = None
    credits_est: float | None = None
    credits: float | None = None
    error: str | None = None
    job: str | None = None
    price_basis: str | None = None  # how credits_est was made, or "no estimate: <why>"
    duration_s: float | None = None  # the media length the price used
    duration_source: str | None = None  # given | probed | ledger | predicted from text
    extra: str | None = None  # the job's extra fields (JobSpec.extra_fields) as JSON text


# --------------------------------------------------------------------------- preparing rows
def _set_path(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        body = body.setdefault(name, {})
    body[last] = value


class Prepared(NamedTuple):
    """One row made ready: the documented body, its first problem (None when valid), and the media length
    given with ``duration=`` (seconds; None when not given)."""

    body: dict[str, Any]
    problem: str | None
    given: float | None = None
    unchecked: dict[str, Any] | None = None  # prepared with check=False: the body as given, to validate later

    def checked(self, spec: JobSpec, plan: str) -> Prepared:
        """This row validated (when it was prepared without checking)."""
        if self.unchecked is None or self.problem is not None:
            return self._replace(unchecked=None)
        return self._replace(problem=validate_body(spec, self.unchecked, plan), unchecked=None)


def prepare(spec: JobSpec, params: Mapping[str, Any], plan: str, *, check: bool = True) -> Prepared:
    """The documented body for one row (aliases expanded, defaults filled) and its first problem (``check``
    False leaves the validation to ``Prepared.checked``: a re-run's rows already sent need none).

    ``duration`` is the media length in seconds used for pricing instead of probing; it is not sent,
    except where it is a documented field of the job (character swap's ``duration``)."""
    prepared = _Preparer(spec)(params)
    return prepared.checked(spec, plan) if check else prepared


def prepare_rows(spec: JobSpec, rows: Sequence[Mapping[str, Any]]) -> list[Prepared]:
    """``prepare(..., check=False)`` of every row, what they share looked up once."""
    one = _Preparer(spec)
    return [one(params) for params in rows]


class _Preparer:
    """``prepare`` for one job: its names, aliases and defaults read once, not per row."""

    def __init__(self, spec: JobSpec) -> None:
        self.names, self.aliases, self.defaults = spec.field_names(), spec.aliases, spec.defaults
        self.fields = spec.fields
        # The usual defaults are flat and not blank: a shallow copy is a row's own, and none is dropped as blank.
        self.flat = all(type(v) in _SCALARS and not blank(v) for v in self.defaults.values())

    def __call__(self, params: Mapping[str, Any]) -> Prepared:
        defaults, flat = self.defaults, self.flat
        body: dict[str, Any] = dict(defaults) if flat else json.loads(json.dumps(dict(defaults)))
        given, problem = None, None
        for name, value in params.items():
            if name in CALLBACK_FIELDS:  # (documented fields of some jobs, and still refused: checked first)
                return Prepared(body, f"{name} is set by akool_frames itself; pass webhook_url= to the Client instead")
            if name in self.names:
                target = name
            elif name == "duration":
                given, problem = _given_duration(value)
                continue
            else:
                target = self.aliases.get(name, name)
            if value is None and target in defaults:
                continue
            if "." in target:
                _set_path(body, target, value)
                flat = False
            else:  # (per row: the common case without the split)
                body[target] = value
                flat = flat and not isinstance(value, dict | list)
        body = coerce_ints(self.fields, body)  # integer fields given as numeric text are sent as integers
        return Prepared(without_blanks(body, flat=flat), problem, given, body)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _given_duration(value: Any) -> tuple[float | None, str | None]:
    """``duration=`` of one row: seconds, or a problem naming the value. Blank means not given (probe)."""
    if blank(value):
        return None, None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value), None
    return None, f"duration must be the media length in seconds (a positive number), got {value!r:.40}"


def estimate_outcome(prepared: Prepared, price: Price | None, label: Any, job: str | None = None) -> Outcome:
    """A row's estimate: ``invalid`` naming the row and its problem, else its price (or why there is none)."""
    if prepared.problem is not None:
        return Outcome("invalid", error=f"row {label}: {prepared.problem}", job=job)
    assert price is not None  # a valid row is always priced (possibly to None, with a reason)
    unpriced = None if price.credits is not None else f"no estimate: {price.reason}"
    return Outcome(None, credits_est=price.credits, error=unpriced, job=job, price_basis=unpriced or price.basis,
                   duration_s=price.duration_s, duration_source=price.duration_source)


# --------------------------------------------------------------------------- durations for prices
async def _prices(client: Any, spec: JobSpec, bodies: list[dict[str, Any] | None], plan: str,
                  rates: Mapping[str, float], probe: bool, given: Sequence[float | None] | None = None,
                  progress: ProgressSink | None = None) -> list[Any]:
    """Each body's Price; ``given`` the rows' ``duration=`` (their media is then not probed). The media the
    rules ask for are measured first, all at once (``_probe``); ``progress`` counts those measurements."""
    given = given if given is not None else [None] * len(bodies)
    wanted: set[str] = set()
    asked = False

    def record(url: Any) -> tuple[float | None, str]:
        nonlocal asked
        asked = True
        if isinstance(url, str):
            wanted.add(url)
        return None, "not probed"

    # A first pass records the media the rules ask the length of; a price that asked for none is already final.
    first: list[Any] = []
    for body, seconds in zip(bodies, given, strict=True):
        asked = False
        price = price_of(spec, body, PriceContext(plan=plan, rates=rates, duration=record, given=seconds)) \
            if body is not None else None
        first.append(_ASKED if asked else price)
    known: dict[str, tuple[float | None, str]] = {}
    if wanted and probe:
        lengths = await probe_lengths(client, sorted(wanted), progress=progress)
        known = {t: (x.seconds, x.source if x.seconds is not None else str(x.reason)) for t, x in lengths.items()}

    def lookup(url: Any) -> tuple[float | None, str]:
        return known.get(url, (None, "not probed (lazy estimate)")) if isinstance(url, str) else (None, "no media")

    return [price_of(spec, body, PriceContext(plan=plan, rates=rates, duration=lookup, given=seconds))
            if price is _ASKED and body is not None else price  # (asked: it had a body)
            for body, seconds, price in zip(bodies, given, first, strict=True)]


_ASKED = object()  # a first-pass price that asked for a media length: made again once lengths are known


def _report_undocumented(spec: JobSpec, bodies: Sequence[Mapping[str, Any] | None]) -> None:
    """Fields the docs do not have are sent as given (the docs lag the API): said once per call."""
    names = sorted({path.split("[")[0] for body in bodies if body is not None
                    for path, close in undocumented(spec.fields, body) if close is None})
    if names:
        log.warning("%s: %s %s not in the docs; sent as given.", spec.name, ", ".join(names),
                    "is" if len(names) == 1 else "are")


def _sent_basis(entry: Entry) -> str:
    """How the estimate a row had when its job was sent was made (or why there was none), as the ledger keeps it."""
    basis = entry.price_basis or "as estimated when it was sent"  # (ledgers of earlier versions kept no basis)
    if entry.credits_est is None:
        reason = basis.removeprefix("no estimate: ") if entry.price_basis else "none was made when it was sent"
        basis = f"no estimate: {reason}"
    return basis


def _sent_outcome(entry: Entry, job: str) -> Outcome:
    """A row whose job was sent before: the estimate it had then, as the ledger keeps it (not made again)."""
    basis = _sent_basis(entry)
    return Outcome(None, credits_est=entry.credits_est, error=basis if entry.credits_est is None else None, job=job,
                   price_basis=basis, duration_s=entry.duration_s, duration_source=entry.duration_source)
