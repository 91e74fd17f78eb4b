"""``ddf.akool`` on Dask DataFrames: every verb gives back a lazy Dask DataFrame (computed by ``.compute()``,
``.to_parquet()`` ...), whose partitions each run the pandas verb (``_dask_tasks``), with the same index, order,
partitions and result columns.

Importing this module imports Dask and registers the accessor; ``_dask_hook`` imports it once ``dask.dataframe`` is
imported, so that importing akool_frames never imports Dask.

What is checked when the verb is called, before any graph exists: the job, the bound columns, ``budget=`` (a frame
that is only priced when computed cannot be held to one total), and, for ``submit`` and ``run`` on a SQLite ledger,
that the scheduler is one process (threads, or a cluster whose workers all live in one process): a SQLite file is seen
by one machine, so several processes could each claim and pay for the same row.

Example:
    >>> done = ddf.akool.run("tts", input_text=af.col("text"), voice_id="v1", client=client)  # doctest: +SKIP
    >>> done.to_parquet("s3://bucket/done/")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import dask.base
import dask.dataframe as dd
import narwhals.stable.v2 as nw
from dask.dataframe.extensions import register_dataframe_accessor
from dask.dataframe.utils import make_meta
from narwhals.stable.v2.dependencies import is_pandas_series, is_polars_series

from .._client import FOLLOW_MODES
from .._errors import ConfigError, ValidationError
from .._loop import run_sync
from ..catalog import get_job
from ..engine import open_campaign
from ..pricing import resolve_rates
from ._accessor import ARGS
from ._bind import _bind
from ._calls import client_or_default
from ._dask_tasks import (
    SQLITE_HINT,
    Settings,
    akool_download,
    akool_estimate,
    akool_refresh,
    akool_run,
    akool_submit,
    identity,
    settings_of,
)
from ._join import JOB_FIELDS, RESULT_FIELDS, _extras, _with_columns
from ._verbs import _has_name, estimate

if TYPE_CHECKING:
    from .._client import Client
    from ..typing import Rates

__all__ = ["AkoolDaskFrame"]

_RESERVED = {
    "progress": "Dask shows the progress of a computation itself: its dashboard, or "
                "`with dask.diagnostics.ProgressBar(): out.compute()` on the local schedulers.",
    "confirm": "estimate first (ddf.akool.estimate(...)), look at the total, then run.",
}
_ARGS = {
    **ARGS,
    "client": "The client whose settings the partitions use (keys, limits, ledger); default: the default client. In "
              "this process the partitions use it as it is; another process makes its own from its settings, with "
              "the credentials of that process's environment (credentials never enter the task graph).",
    "budget": "Only with campaign= (the campaign's budget, held in the ledger: every partition reserves from it); "
              "alone, not on a Dask frame (its rows are priced only when computed): sum the estimate first, "
              "``ddf.akool.estimate(...)['akool_credits_est'].sum().compute()``.",
    "timeout": "Seconds at most, for each partition.",
    "save_to": ARGS["save_to"] + " Each partition saves its own rows: with a name template, make it unique across "
                                 "the whole frame (or keep {job_id} in it).",
}


def _doc(summary: str, names: list[str], example: str) -> str:
    """A verb's docstring; ``names`` are its options, each as ``"option"`` or ``"option=text"`` (a text of ARGS under
    another name)."""
    pairs = [n.partition("=")[::2] for n in names]
    lines = [summary, "", "Args:", *(f"    {'**params' if n == 'params' else n}: {_ARGS[key or n]}" for n, key in pairs)]
    return "\n".join([*lines, "", "Example:", f"    >>> {example}  # doctest: +SKIP"])


class AkoolDaskFrame:
    """Akool jobs from the rows of a Dask DataFrame. Every verb returns a lazy Dask DataFrame with the ``akool_``
    result columns of the pandas verb (same index, row order and partitions); nothing is sent before it is computed,
    and each partition runs the pandas verb where the scheduler puts it.

    On a cluster of several processes, the ledger must be shared (PostgreSQL: ``af.Client(ledger="postgresql://...")``)
    and each worker needs the credentials in its environment (``AKOOL_API_KEY`` ...).
    """

    def __init__(self, frame: dd.DataFrame) -> None:
        self._obj = frame

    def estimate(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
                 budget: float | None = None, timeout: float | None = None, force: bool = False,
                 plan: str | None = None, rates: Rates = None, **params: Any) -> dd.DataFrame:
        _refuse_budget(budget, "estimate")
        chosen, params, rates = _prepare(self._obj, client, params, rates)
        meta = estimate(_empty(self._obj), job, client=chosen, prefix=prefix, progress=False, plan=plan, rates=rates,
                        **params)  # (an empty frame: nothing is priced, the job and the columns are checked)
        options = {"timeout": timeout, "force": force, "plan": plan, "rates": rates}
        return _lazy(self._obj, akool_estimate, settings_of(chosen), job, prefix, tuple(meta.columns), options, params,
                     meta=meta)

    estimate.__doc__ = _doc(
        "Validate and price every row, lazily: the partitions are priced when computed (by the pandas estimate, "
        "media lengths measured where the partition runs). Adds akool_credits_est, akool_status, akool_error and "
        "how each price was made.", ["job", "client", "prefix", "budget", "timeout", "force", "plan", "rates", "params"],
        'ddf.akool.estimate("tts", input_text=af.col("script"), voice_id="v1")["akool_credits_est"].sum().compute()')

    def submit(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
               budget: float | None = None, timeout: float | None = None, force: bool = False,
               plan: str | None = None, rates: Rates = None, campaign: str | None = None,
               **params: Any) -> dd.DataFrame:
        return self._send("submit", job, client, prefix, budget, params, rates, {
            "timeout": timeout, "force": force, "plan": plan, "campaign": campaign})

    submit.__doc__ = _doc(
        "Create one job per row when computed; each partition returns once its rows are submitted (akool_job_id, "
        "akool_status ...). Rows already sent with the same inputs reuse their job.",
        ["job", "client", "prefix", "budget", "timeout", "force", "plan", "rates", "campaign", "params"],
        'ddf.akool.submit("tts", input_text=af.col("script"), voice_id="v1").to_parquet("s3://bucket/sent/")')

    def run(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_", budget: float | None = None,
            timeout: float | None = None, force: bool = False, plan: str | None = None, rates: Rates = None,
            follow: str | None = None, save_to: str | os.PathLike[str] | None = None, name: str | None = None,
            campaign: str | None = None, **params: Any) -> dd.DataFrame:
        return self._send("run", job, client, prefix, budget, params, rates, {
            "timeout": timeout, "force": force, "plan": plan, "follow": follow,
            "save_to": None if save_to is None else _location(save_to), "name": name, "campaign": campaign})

    run.__doc__ = _doc(
        "Submit, then follow every job to its end, when computed; adds akool_job_id, akool_status, akool_url, "
        "akool_credits, akool_error (and akool_file with save_to=). Computing it again reuses the jobs already paid "
        "for.", ["job", "client", "prefix", "budget", "timeout", "force", "plan", "rates", "follow", "save_to",
                 "name", "campaign", "params"],
        'ddf.akool.run("tts", input_text=af.col("script"), voice_id="v1").to_parquet("s3://bucket/done/")')

    def refresh(self, *, client: Client | None = None, prefix: str = "akool_", job: str | None = None,
                timeout: float | None = None, follow: bool = False) -> dd.DataFrame:
        chosen = client_or_default(client)
        _need(self._obj, prefix + "job_id", "refresh", "submit the rows first, or pass their prefix=.")
        fields = list(JOB_FIELDS)
        if job is not None:
            fields += list(_extras(get_job(job).name, []))
        meta = _meta(self._obj, prefix, fields)
        return _lazy(self._obj, akool_refresh, settings_of(chosen), prefix, tuple(meta.columns),
                     {"job": job, "timeout": timeout, "follow": follow}, meta=meta)

    refresh.__doc__ = _doc(
        "Poll, when computed, the rows that carry akool_job_id and update their columns; other rows stay as they "
        "are. A job's extra columns the frame lacks come with job=.",
        ["client", "prefix", "job=refresh_job", "timeout", "follow=until_done"], "sent.akool.refresh(follow=True).compute()")

    def download(self, dest: str | os.PathLike[str], /, *, client: Client | None = None, prefix: str = "akool_",
                 name: str | None = None) -> dd.DataFrame:
        chosen = client_or_default(client)
        _need(self._obj, prefix + "url", "download", "run the rows first, or pass their prefix=.")
        fields = ["file", "expires_at", *(["files"] if prefix + "video_urls" in self._obj.columns else [])]
        meta = _meta(self._obj, prefix, fields)
        return _lazy(self._obj, akool_download, settings_of(chosen), _location(dest), prefix, tuple(meta.columns),
                     {"name": name}, meta=meta)

    download.__doc__ = _doc(
        "Fetch, when computed, every row's result file into dest (a folder or an fsspec URI such as "
        "s3://bucket/out/), each partition its own rows; adds akool_file and akool_expires_at. With name=, make "
        "the names unique across the whole frame.", ["dest", "client", "prefix", "name"],
        'done.akool.download("s3://bucket/audio/").compute()')

    def _send(self, verb: str, job: str, client: Client | None, prefix: str, budget: float | None,
              params: Mapping[str, Any], rates: Rates, options: dict[str, Any]) -> dd.DataFrame:
        """``submit`` and ``run``: checked now (the job, the columns, a SQLite ledger on several processes), sent
        when computed."""
        chosen, params, rates = _prepare(self._obj, client, params, rates)
        if options.get("campaign") is not None:  # the campaign's budget, held in the ledger: set once, here
            run_sync(open_campaign(chosen, options["campaign"], budget))
        else:
            _refuse_budget(budget, verb)
        spec = get_job(job)
        _check_run_options(spec.name, options)
        settings = settings_of(chosen)
        if settings.sqlite:
            settings = replace(settings, processes=_one_process(self._obj, verb, settings))
        fields = [*RESULT_FIELDS, *_extras(spec.name, [])]
        if options.get("save_to") is not None:
            fields += ["file", *(["files"] if any(route.batch_records for route in spec.routes) else [])]
        meta = _meta(self._obj, prefix, fields)
        task = akool_run if verb == "run" else akool_submit
        return _lazy(self._obj, task, settings, job, prefix, tuple(meta.columns), {**options, "rates": rates}, params,
                     spec.provider, meta=meta)


# ------------------------------------------------------------------------------------------- checks, now
def _refuse_budget(budget: float | None, verb: str) -> None:
    if budget is not None:
        msg = (f"budget= holds one call's total, and a Dask {verb} prices its rows only when computed, partition by "
               "partition.\n\nHint: look at the total first, ddf.akool.estimate(...)['akool_credits_est'].sum()"
               ".compute(), then run without budget=.")
        raise ValidationError(msg)


def _prepare(frame: dd.DataFrame, client: Client | None, params: Mapping[str, Any],
             rates: Rates) -> tuple[Client, dict[str, Any], Any]:
    """The client, the parameters (checked against the frame's columns) and the rates, resolved once here."""
    for reserved, hint in _RESERVED.items():
        if reserved in params:
            msg = f"{reserved}= is not an option of the Dask verbs.\n\nHint: {hint}"
            raise ValidationError(msg)
    for name, value in params.items():
        if is_pandas_series(value) or is_polars_series(value) or isinstance(value, nw.Series | dd.Series):
            msg = (f"parameter {name!r} is bound to a Series, which cannot be lined up with the partitions of a Dask "
                   "frame.\n\nHint: add it as a column (ddf.assign(...)) and pass af.col(name).")
            raise ValidationError(msg)
    _bind(params, list(frame.columns), None)  # (a column the frame lacks: said now, not when computed)
    chosen = client_or_default(client)
    return chosen, dict(params), None if rates is None else resolve_rates(rates, chosen)


def _one_process(frame: dd.DataFrame, verb: str, settings: Settings) -> frozenset[tuple[str, int]]:
    """The processes a sending graph may run in on a SQLite ledger (besides this one): the one worker process of a
    distributed cluster. Several processes (a cluster's, the multiprocessing scheduler's) are refused now."""
    scheduler = dask.base.get_scheduler(collections=[frame])  # type: ignore[no-untyped-call]  # (Dask's, untyped)
    owner = getattr(scheduler, "__self__", None)
    found: set[tuple[str, int]] = set()
    if owner is not None and type(owner).__module__.startswith("distributed"):
        if getattr(owner, "asynchronous", False):  # (no blocking look here: only this process may send)
            return frozenset()
        found = {tuple(v) for v in owner.run(identity).values()}
        if len(found) == 1:
            return frozenset(found)
        what = f"{len(found)} worker processes" if found else "a cluster that has no worker yet"
    elif getattr(scheduler, "__module__", "") == "dask.multiprocessing":
        what = "the processes of the multiprocessing scheduler"
    else:  # threads, synchronous, or a scheduler of its own (each partition checks the process it runs in)
        return frozenset()
    msg = (f"A Dask {verb} on a SQLite ledger ({settings.ledger}) cannot be spread over {what}: a SQLite file is seen "
           "by one machine, and a partition retried in another process would not see its claims, so a row could be "
           f"paid twice.\n\n{SQLITE_HINT}")
    raise ConfigError(msg)


def _check_run_options(job: str, options: Mapping[str, Any]) -> None:
    """What the pandas verb would refuse in every partition, refused once, now."""
    if options.get("follow") not in (None, *FOLLOW_MODES):
        msg = f"follow is {options['follow']!r}.\n\nHint: use 'poll' or 'webhook'."
        raise ConfigError(msg)
    if options.get("name") is not None and options.get("save_to") is None and not _has_name(job):
        msg = (f"name={options['name']!r} names the files save_to= writes, and no save_to= is given ({job} has no "
               "field called name).\n\nHint: add save_to='s3://bucket/out/' (or a folder), or download(dest, "
               "name=...) after the run.")
        raise ValidationError(msg)


def _need(frame: dd.DataFrame, column: str, verb: str, hint: str) -> None:
    if column not in frame.columns:
        msg = f"The frame has no {column!r} column, so there is nothing to {verb}.\n\nHint: {hint}"
        raise ValidationError(msg)


def _meta(frame: dd.DataFrame, prefix: str, fields: list[str]) -> Any:
    """The result's meta: the frame's, with the verb's result columns as the pandas verb types them."""
    return _with_columns(nw.from_native(_empty(frame), eager_only=True), prefix, {f: [] for f in fields}).to_native()


def _location(dest: str | os.PathLike[str]) -> str:
    """A folder as every process finds it (absolute), or a URI as given."""
    text = os.fspath(dest)
    return text if "://" in text else os.path.abspath(text)


def _lazy(frame: dd.DataFrame, task: Any, *args: Any, meta: Any) -> dd.DataFrame:
    """``task`` on each partition, lazily, with this meta (given, so that Dask never calls the task to guess it)."""
    return cast("dd.DataFrame", frame.map_partitions(task, *args, meta=meta))  # type: ignore[no-untyped-call]


def _empty(frame: dd.DataFrame) -> Any:
    """The frame's meta: an empty pandas frame of its columns and types."""
    return make_meta(frame)  # type: ignore[no-untyped-call]  # (Dask's, untyped)


register_dataframe_accessor("akool")(AkoolDaskFrame)  # type: ignore[no-untyped-call]  # (Dask's, untyped)
