"""The one place that touches DataFrames: bind parameters to rows, join the engine's Outcomes back as columns.

Every frame goes through narwhals, so pandas and polars share one code path. The backend-specific parts
are small and marked: aligning a pandas Series by index, pandas' nullable dtypes for the new columns, and
the polars LazyFrame estimate (``_lazy_estimate``).

Binding parameters to rows lives in ``_bind``, the result columns in ``_join``; the verbs here join the two
to the engine.

The async functions are the real ones; each sync twin is ``run_sync(<async twin>(...))``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import narwhals.stable.v2 as nw
from narwhals.stable.v2.dependencies import is_pandas_dataframe, is_polars_lazyframe

from .. import engine as _engine
from .._client import Client
from .._errors import BudgetExceeded, ValidationError, collecting, say
from .._values import to_py
from ..engine import Outcome, SaveTo, paused_gc
from ..storage import storage_for
from ..typing import EagerFrame, FrameT, IntoFrame, ProgressSink, Rates
from ._bind import _eager_rows
from ._calls import as_narwhals, blocking, client_or_default, labels, on_loop, sink_for, texts_of
from ._download import adownload, names_of, warn_unsaved
from ._fast_estimate import estimate_frame, vectorised
from ._join import ESTIMATE_FIELDS, JOB_FIELDS, RESULT_FIELDS, _attach, _existing, _extras, _join, _with_columns
from ._lazy_estimate import estimate_lazy

if TYPE_CHECKING:
    from ._confirm import ConfirmPanel

__all__ = [
    "adownload", "aestimate", "arefresh", "arun", "asubmit", "download", "estimate", "refresh", "run", "submit",
    "to_py",
]

P = ParamSpec("P")
T = TypeVar("T")
# ``**params: Any`` below: a job's documented fields, open by design (each job has its own; af.describe(job) lists them).


# ------------------------------------------------------------------------------------- verbs
async def _execute(mode: str, frame: IntoFrame, job: str, *, client: Client | None, prefix: str, budget: float | None,
                   progress: bool | ProgressSink | None, timeout: float | None, force: bool, plan: str | None,
                   rates: Rates, params: Mapping[str, Any], follow: str | None = None, stop: Any = None,
                   save_to: str | os.PathLike[str] | None = None, name: str | None = None,
                   campaign: str | None = None) -> Any:
    sink = sink_for(progress, job)
    try:
        eager, back = as_narwhals(frame)
        # save_to=: where and under which names, checked before anything is sent (a dest or name= that cannot work)
        save = _saving(eager, client_or_default(client), save_to, name) if save_to is not None else None
        if mode == "estimate" and vectorised():
            fast = await on_loop(_fast_estimate(eager, job, client=client_or_default(client), plan=plan, rates=rates,
                                                 params=params))
            if fast is not None:
                if budget is not None:
                    _check_budget([Outcome(to_py(s), credits_est=to_py(c)) for s, c in zip(
                        fast["status"].to_list(), fast["credits_est"].to_list(), strict=True)], budget)
                return back(_attach(eager, prefix, fast))
        with paused_gc():
            rows = _eager_rows(eager, params)
        running = _engine.execute(client_or_default(client), job, rows, mode=mode, force=force, budget=budget,
                                  timeout=timeout, progress=sink, plan=plan, rates=rates, labels=labels(eager),
                                  follow=follow, stop=stop, campaign=campaign,
                                  **({"save": save} if save is not None else {}))
        del rows  # the rows are the engine's alone: freed once their bodies exist
        with collecting() as notices:  # the call's warnings (the account's refusal, voices and languages)
            outcomes = await on_loop(running)
        if mode == "estimate" and budget is not None:
            _check_budget(outcomes, budget)
        with paused_gc():
            joined = _join(eager, outcomes, prefix, ESTIMATE_FIELDS if mode == "estimate" else RESULT_FIELDS)
            done = back(joined if mode == "estimate" else _with_columns(joined, prefix, {
                **_extras(job, outcomes), **(_saved(save) if save is not None else {})}))
        for category, notice in notices:  # said once the rows are joined: to a sync twin's caller, else here
            say(category, notice)
        if save is not None:
            warn_unsaved(labels(eager), save.files, save.storage.address)
        return done
    finally:
        if sink is not None:
            sink.close()


def _saving(eager: nw.DataFrame[Any], client: Client, save_to: str | os.PathLike[str], name: str | None) -> SaveTo:
    """``save_to=`` as the engine takes it: the storage, and each row's file name (``{job_id}`` filled in once the
    row's job is made)."""
    return SaveTo(storage_for(save_to, getattr(client, "storage_options", None)), names_of(eager, name, None))


def _saved(save: SaveTo) -> dict[str, list[Any]]:
    """The columns of the files a run saved: ``file``, and ``files`` (each row's, first and others) when a row made
    several videos."""
    columns: dict[str, list[Any]] = {"file": [f.file if f is not None else None for f in save.files]}
    if save.more:
        columns["files"] = [[f.file if f is not None else None, *(m.file for m in save.more.get(i, ()))]
                            for i, f in enumerate(save.files)]
    return columns


async def _fast_estimate(eager: nw.DataFrame[Any], job: str, *, client: Client, plan: str | None, rates: Rates,
                         params: Mapping[str, Any]) -> dict[str, nw.Series[Any]] | None:
    from ..pricing import resolve_rates

    async def per_row(positions: list[int]) -> list[Outcome]:
        subset = eager[positions]
        native = eager.to_native()  # row labels only for these rows (pandas: their index labels)
        labels = [to_py(v) for v in native.index[positions]] if is_pandas_dataframe(native) else positions
        return await _engine.execute(client, job, _eager_rows(subset, params), mode="estimate", plan=plan,
                                     rates=rates, labels=labels)

    return await estimate_frame(eager, job, params, client=client, plan=plan or client.plan,
                                rates=resolve_rates(rates, client), per_row=per_row)


def _check_budget(outcomes: Sequence[Outcome], budget: float) -> None:
    """An estimate's ``budget=``: the total of the priced rows over it raises (invalid rows cost nothing)."""
    priced = [o.credits_est for o in outcomes if o.credits_est is not None]
    unpriced = sum(1 for o in outcomes if o.credits_est is None and o.status != "invalid")
    if sum(priced) > budget:
        raise BudgetExceeded(sum(priced), budget, unpriced=unpriced)


async def aestimate(frame: FrameT, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
                    budget: float | None = None, progress: bool | ProgressSink | None = False,
                    timeout: float | None = None, force: bool = False, plan: str | None = None,
                    rates: Rates = None, **params: Any) -> FrameT:
    """Validate and price every row; nothing is submitted.

    Adds ``{prefix}credits_est``, ``{prefix}status`` ("invalid" for invalid rows, else null) and
    ``{prefix}error`` (why a row is invalid or has no price). A polars LazyFrame stays lazy: the price
    is computed from the rows alone (no media probing, no network), when the frame is collected.

    Args:
        frame: A pandas or polars DataFrame, or a polars LazyFrame.
        job: The job name, e.g. ``"tts"``.
        client: The client (its plan); default: the default client.
        prefix: Prefix of the added columns.
        budget: Raise BudgetExceeded when the total estimate of the priced rows is over it (not on a
            LazyFrame, whose rows are priced only when collected).
        progress: True for bars, False for none, or a ProgressSink.
        timeout: Seconds to wait for media probing.
        force: Accepted for symmetry with ``run``; an estimate never submits.
        plan: Pricing plan; default: the client's.
        rates: Rates for jobs the docs give no price for: a dict, "calibrated", a frame (af.calibrate()) or a
            JSON/TOML file.
        **params: The job's documented fields: constants, ``af.col(...)``, ``pl.col(...)`` or Series.

    Example:
        >>> priced = await aestimate(df, "tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
    """
    native = frame.to_native() if isinstance(frame, nw.LazyFrame) else frame
    if is_polars_lazyframe(native):
        if budget is not None:
            msg = ("budget= needs the priced rows, and a LazyFrame estimate prices them only when collected.\n\n"
                   "Hint: lf.collect().akool.estimate(..., budget=...), or sum akool_credits_est after collecting.")
            raise ValidationError(msg)
        plan = plan or getattr(client_or_default(client), "plan", None) or "pro"
        lazy = estimate_lazy(native, job, prefix=prefix, client=client, plan=plan, rates=rates, params=params)
        return cast("FrameT", nw.from_native(lazy) if isinstance(frame, nw.LazyFrame) else lazy)
    return cast("FrameT", await _execute("estimate", frame, job, client=client, prefix=prefix, budget=budget,
                                         progress=progress, timeout=timeout, force=force, plan=plan, rates=rates,
                                         params=params))


async def asubmit(frame: IntoFrame, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
                  budget: float | None = None, progress: bool | ProgressSink | None = True, timeout: float | None = None,
                  force: bool = False, plan: str | None = None, rates: Rates = None, campaign: str | None = None,
                  **params: Any) -> EagerFrame:
    """Validate, price and create one job per row; return once every row is submitted (or held back).

    Adds ``{prefix}job_id``, ``{prefix}status``, ``{prefix}url``, ``{prefix}credits_est``, ``{prefix}credits``
    and ``{prefix}error``. Rows already submitted with the same inputs reuse their job (no second charge)
    unless ``force=True``. A LazyFrame is collected once; the result is a DataFrame.

    The arguments are those of ``arun``, except that ``timeout`` here bounds only the submitting.

    Example:
        >>> out = await asubmit(df, "tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
    """
    return await _execute("submit", frame, job, client=client, prefix=prefix, budget=budget, progress=progress,
                          timeout=timeout, force=force, plan=plan, rates=rates, params=params, campaign=campaign)


async def arun(frame: IntoFrame, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
               budget: float | None = None, progress: bool | ProgressSink | None = True, timeout: float | None = None,
               force: bool = False, plan: str | None = None, rates: Rates = None, follow: str | None = None,
               save_to: str | os.PathLike[str] | None = None, name: str | None = None, confirm: bool = False,
               campaign: str | None = None, **params: Any) -> EagerFrame | ConfirmPanel:
    """Submit like ``asubmit``, then follow every job to a terminal state (or ``timeout``).

    Args:
        frame: A pandas or polars DataFrame (or a polars LazyFrame, collected).
        job: The job name, e.g. ``"tts"``.
        client: The client; default: the default client.
        prefix: Prefix of the added columns.
        budget: Credits; when the estimate is over it, raise BudgetExceeded before sending anything. With
            ``campaign``, the campaign's budget instead (set once; later runs may leave it out).
        campaign: A campaign name: each create first reserves its row's estimate against the campaign's budget,
            held in the ledger and shared by every run and process that names it; rows that do not fit end
            ``skipped`` with the campaign's figures. ``af.campaigns()`` shows budget, charged and reserved.
        progress: True for bars (and a panel in Jupyter), False for none, or a ProgressSink.
        timeout: Seconds to follow the jobs at most; unfinished rows keep their last status.
        force: Submit again even when the ledger holds a job for the same inputs.
        plan: Pricing plan; default: the client's.
        rates: Rates for jobs the docs give no price for: a dict, "calibrated", a frame (af.calibrate()) or a
            JSON/TOML file.
        follow: "poll" (ask the provider; batched where it allows) or "webhook" (a local receiver hears Akool's
            signed callbacks; jobs whose callback is late are polled); default: the client's ``follow``.
        save_to: Save each result file there as soon as its job completes, while the run goes on: a folder or any
            fsspec URI (``"s3://bucket/out/"``: the ``storage`` extra; the client's ``storage_options``). Adds
            ``{prefix}file`` (the path, or the full URI). The ledger records each save: a re-run saves nothing
            twice (it trusts the ledger; ``download(dest)`` checks the files themselves). A save that fails
            leaves the row's status as its job's, and is named in a warning.
        name: The saved files' name template of the row's columns (``"{script_id}_{language}"``; default
            ``"{job_id}"``), made safe and unique, with the media's extension. For the jobs that have a field
            called ``name`` (voice_clone, avatar_upload), it is that field, and the files are named by job id.
        confirm: Estimate first and return at once a panel (Jupyter) whose "Submit N rows (~X credits)" button
            starts the run in the background and whose Cancel button stops sending; see ``_confirm.ConfirmPanel``.
        **params: The job's documented fields: constants, ``af.col(...)``, ``pl.col(...)`` or Series.

    Example:
        >>> done = await arun(df, "tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
    """
    if name is not None and _has_name(job):
        params, name = {**params, "name": name}, None  # the job's own field, as without save_to=
    elif name is not None and save_to is None:
        msg = (f"name={name!r} names the files save_to= writes, and no save_to= is given ({job} has no field "
               "called name).\n\nHint: add save_to='s3://bucket/out/' (or a folder), or download(dest, name=...) "
               "after the run.")
        raise ValidationError(msg)
    if confirm:
        return await _confirmation(frame, job, client=client, prefix=prefix, budget=budget, timeout=timeout,
                                   force=force, plan=plan, rates=rates, follow=follow, params=params,
                                   save_to=save_to, name=name, campaign=campaign)
    return await _execute("run", frame, job, client=client, prefix=prefix, budget=budget, progress=progress,
                          timeout=timeout, force=force, plan=plan, rates=rates, params=params, follow=follow,
                          save_to=save_to, name=name, campaign=campaign)


def _has_name(job: str) -> bool:
    """Whether the job has a field (or an alias) called ``name``: then ``name=`` is that field."""
    from ..catalog import get_job

    try:
        spec = get_job(job)
    except Exception:  # noqa: BLE001 - an unknown job is named by the run itself
        return False
    return any(f.name == "name" for f in spec.fields) or "name" in spec.aliases


async def _confirmation(frame: IntoFrame, job: str, *, client: Client | None, prefix: str, budget: float | None,
                        timeout: float | None, force: bool, plan: str | None, rates: Rates, follow: str | None,
                        save_to: str | os.PathLike[str] | None = None, name: str | None = None,
                        campaign: str | None = None, params: Mapping[str, Any]) -> ConfirmPanel:
    """``arun(confirm=True)``: the estimate and a panel whose button runs the rows (see ``_confirm``)."""
    from ._confirm import ConfirmPanel

    native = frame.to_native() if isinstance(frame, nw.LazyFrame) else frame
    if is_polars_lazyframe(native):
        native = native.collect()
    priced = await aestimate(native, job, client=client, prefix=prefix, budget=budget if campaign is None else None,
                             plan=plan, rates=rates, progress=False, **params)

    async def start(panel: Any, stop: Any) -> Any:
        return await _execute("run", native, job, client=client, prefix=prefix, budget=budget, progress=panel,
                              timeout=timeout, force=force, plan=plan, rates=rates, params=params, follow=follow,
                              save_to=save_to, name=name, campaign=campaign, stop=stop)

    return ConfirmPanel(priced, start, job=job, prefix=prefix, usd_per_credit=client_or_default(client).usd_per_credit)


async def arefresh(frame: IntoFrame, /, *, client: Client | None = None, prefix: str = "akool_", job: str | None = None,
                   timeout: float | None = None, follow: bool = False,
                   progress: bool | ProgressSink | None = True) -> EagerFrame:
    """Poll the rows that carry ``{prefix}job_id`` and update their columns; other rows stay as they are.

    Args:
        frame: A frame returned by ``submit``/``run`` (or one with a ``{prefix}job_id`` column).
        client: The client; default: the default client.
        prefix: Prefix of the result columns.
        job: The job name, when the ledger does not know the ids.
        timeout: Seconds to wait at most.
        follow: Keep polling until every job reaches a terminal state.
        progress: True for bars, False for none, or a ProgressSink.

    Example:
        >>> later = await arefresh(submitted)  # doctest: +SKIP
    """
    sink = sink_for(progress, job or "refresh")
    try:
        eager, back = as_narwhals(frame)
        ids = texts_of(eager, prefix + "job_id", verb="refresh",
                       hint="submit the rows first, or pass the prefix they were submitted with (prefix=...).")
        old = {f: _existing(eager, prefix + f) for f in JOB_FIELDS}
        found = await on_loop(_engine.refresh_jobs(client_or_default(client), ids, job, timeout=timeout,
                                                    follow=follow, progress=sink))
        new = {f: list(values) for f, values in old.items()}
        for i, outcome in enumerate(found):
            if outcome is None:
                continue
            for f in JOB_FIELDS:
                value = getattr(outcome, f)
                if f in ("status", "error"):
                    if outcome.status is not None:
                        new[f][i] = value
                elif value is not None:
                    new[f][i] = value
        for job_name in {o.job for o in found if o is not None and o.job}:  # extra fields as they are now
            rows = [i for i, o in enumerate(found) if o is not None and o.job == job_name]
            for name, values in _extras(job_name, [o for o in found if o is not None and o.job == job_name]).items():
                column = new.setdefault(name, _existing(eager, prefix + name))
                for i, value in zip(rows, values, strict=True):
                    if value is not None:
                        column[i] = value
        return back(_with_columns(eager, prefix, new))
    finally:
        if sink is not None:
            sink.close()


estimate = blocking(aestimate)
submit = blocking(asubmit)
run = blocking(arun)
refresh = blocking(arefresh)
download = blocking(adownload)
