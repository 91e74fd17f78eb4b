"""The polars LazyFrame estimate: a lazy plan that prices the rows when it is collected, from their values alone
(no media is probed and no list is asked of the provider: nothing touches the network inside polars).

The plan is one ``LazyFrame.map_batches`` node: the collected frame is priced the way an eager frame is
(``_fast_estimate.estimate_rows``: frame operations, the price rule once per distinct key), and the rows that are
not surely valid, or a job whose rule declares no reads, a row at a time (``pure_pricer``): the lazy estimate is
the eager one's, not a third path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw

from .. import pricing
from ..catalog import get_job
from ..engine import Outcome, estimate_outcome, prepare
from ..pricing import PriceContext, resolve_rates
from ._bind import _bind, _eager_rows
from ._fast_estimate import estimate_rows, vectorised
from ._join import _NUMERIC, ESTIMATE_FIELDS

__all__ = ["estimate_lazy", "not_probed", "pure_pricer"]


def not_probed(target: Any) -> tuple[float | None, str]:
    """A media length, lazily: unknown, and said so (nothing is fetched)."""
    return (None, "not probed (lazy estimate)") if isinstance(target, str) else (None, "no media")


def pure_pricer(job: str, plan: str, rates: Mapping[str, float]) -> Callable[[Mapping[str, Any], Any], Outcome]:
    """Validate and price one row from its values alone, as the engine's estimate does, but without
    a client or any I/O: media durations stay unknown (the price then says why it is missing)."""
    spec = get_job(job)
    context = PriceContext(plan=plan, rates=rates, duration=not_probed)

    def price(row: Mapping[str, Any], label: Any) -> Outcome:
        prepared = prepare(spec, row, plan)
        context.given = prepared.given
        priced = pricing.estimate(spec, prepared.body, context) if prepared.problem is None else None
        return estimate_outcome(prepared, priced, label, spec.name)

    return price


def estimate_lazy(lf: Any, job: str, *, prefix: str, client: Any, plan: str, rates: Any,
                  params: Mapping[str, Any]) -> Any:
    """The estimate as a lazy plan (see above). Nothing runs until the plan is collected; an unknown job, column
    or rate fails here, not at collect time."""
    import polars as pl

    schema = lf.collect_schema()
    _bind(params, schema.names(), None)  # (a column the frame lacks, a Series: said now)
    resolved = resolve_rates(rates, client)
    price = pure_pricer(job, plan, resolved)
    added = {prefix + f: (pl.Float64 if f in _NUMERIC else pl.String) for f in ESTIMATE_FIELDS}
    fast = vectorised()  # (read now: the plan runs in polars' threads, outside this context)

    def estimate(native: Any) -> Any:
        frame = nw.from_native(native, eager_only=True)

        def per_row(rows: Sequence[int]) -> list[Outcome]:
            params_of = _eager_rows(frame[list(rows)], params) if rows else []
            return [price(row, i) for row, i in zip(params_of, rows, strict=True)]

        out = estimate_rows(frame, job, params, plan=plan, rates=resolved, per_row=per_row) if fast else None
        if out is None:
            outcomes = per_row(range(len(frame)))
            columns = [pl.Series(name, [getattr(o, f) for o in outcomes], dtype=added[name])
                       for f, name in zip(ESTIMATE_FIELDS, added, strict=True)]
        else:
            columns = [out[f].to_native().alias(name).cast(added[name]) for f, name in zip(ESTIMATE_FIELDS, added,
                                                                                            strict=True)]
        return native.with_columns(columns)  # (columns that exist already are replaced in place)

    # The whole frame at once, as collected: no pushdown through it, so that every row is priced and named by its
    # position in the frame (an error says "row 7"), and a later filter or slice applies to the priced rows.
    return lf.map_batches(estimate, schema=pl.Schema({**schema, **added}), predicate_pushdown=False,
                          projection_pushdown=False, slice_pushdown=False, streamable=False)
