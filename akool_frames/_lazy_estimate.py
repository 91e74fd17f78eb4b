"""The polars LazyFrame estimate: a lazy plan that prices the rows when it is collected, from their values alone
(no media is probed and no list is asked of the provider: nothing touches the network inside polars).

The plan is one elementwise ``map_batches`` over a struct of the row position and the bound columns; each batch is
priced the way an eager frame is (``_fast_estimate.estimate_rows``: frame operations, the price rule once per
distinct key), and the rows that are not surely valid, or a job whose rule declares no reads, a row at a time
(``pure_pricer``), so the lazy estimate is the eager one's, not a third path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw

from . import pricing
from ._bind import _bind, _eager_rows
from ._fast_estimate import estimate_rows, vectorised
from ._join import _NUMERIC, ESTIMATE_FIELDS
from ._prepare import Outcome, estimate_outcome, prepare
from ._rates import resolve_rates
from .jobs import (  # names, not the module: af.jobs is the job table
    PriceContext,
    get_job,
)

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

    names = lf.collect_schema().names()
    binding = _bind(params, names, None)
    resolved = resolve_rates(rates, client)
    price = pure_pricer(job, plan, resolved)
    schema = {prefix + f: (pl.Float64 if f in _NUMERIC else pl.String) for f in ESTIMATE_FIELDS}
    dtype = pl.Struct(schema)
    position = nw.generate_temporary_column_name(8, names, prefix="akool_row_")
    fast = vectorised()  # (read now: the batches run in polars' threads, outside this context)

    def batch(struct: Any) -> Any:
        frame = nw.from_native(struct.struct.unnest(), eager_only=True)
        labels = frame.get_column(position).to_list()

        def per_row(rows: Sequence[int]) -> list[Outcome]:
            params_of = _eager_rows(frame[list(rows)], params) if rows else []
            return [price(row, labels[i]) for row, i in zip(params_of, rows, strict=True)]

        out = estimate_rows(frame, job, params, plan=plan, rates=resolved, per_row=per_row) if fast else None
        if out is None:
            outcomes = per_row(range(len(frame)))
            records = [{prefix + f: getattr(outcome, f) for f in ESTIMATE_FIELDS} for outcome in outcomes]
            return pl.Series(struct.name, records, dtype=dtype)
        columns = {prefix + f: out[f].to_native() for f in ESTIMATE_FIELDS}
        return pl.DataFrame(columns).cast(schema).to_struct(struct.name)

    # One expression that unnests into the estimate's columns: each row is priced once, and columns that
    # already exist are replaced in place.
    computed = (pl.struct(position, *binding.columns)
                .map_batches(batch, return_dtype=dtype, is_elementwise=True).struct.unnest())
    return lf.with_row_index(position).with_columns(computed).drop(position)
