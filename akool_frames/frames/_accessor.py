"""``frame.akool``: the verbs of ``_verbs`` bound to one frame, with their options as named, typed, documented
parameters (``help(df.akool.run)`` and IDEs show them); the job's own fields stay ``**params``.

The docstrings are put together from one table of argument texts (``ARGS``), so that twelve methods say the
same thing about ``budget`` or ``progress``; ``tests/frames/test_signatures.py`` holds each method's signature
to its module function's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Generic

from .._loop import run_sync
from ..typing import FrameT
from . import _verbs as _frames

if TYPE_CHECKING:
    from .._client import Client
    from ..typing import EagerFrame, IntoFrame, ProgressSink, Rates
    from ._confirm import ConfirmPanel

__all__ = ["ARGS", "FrameAccessor"]

ARGS = {
    "job": 'The job name, e.g. "tts" (``af.jobs()`` lists them, ``af.describe(job)`` their parameters).',
    "client": "The client (keys, limits, ledger); default: the default client, made from the environment.",
    "prefix": 'Prefix of the added columns (default "akool_").',
    "budget": "Credits; when the estimate of what would be sent is over it, raise BudgetExceeded before "
              "sending anything.",
    "progress": "True for progress bars (and a panel in Jupyter), False for none, or a ProgressSink.",
    "timeout": "Seconds at most; rows not finished by then keep their last status (re-run to resume).",
    "force": "Send again even when the ledger holds a job for the same inputs (a new charge).",
    "plan": 'Pricing plan ("pro", "max", "business"); default: the client\'s.',
    "rates": 'Rates for jobs the docs give no price for: a dict, "calibrated", a frame (``af.calibrate()``) or '
             "a JSON/TOML file.",
    "follow": '"poll" (ask the provider, batched where its API allows) or "webhook" (a local receiver hears '
              "Akool's signed callbacks; late jobs are polled); default: the client's ``follow``.",
    "params": "The job's documented fields (or their short names): constants, ``af.col(...)``, "
              "``pl.col(...)`` or Series.",
    "confirm": 'Jupyter: estimate first and return at once a panel whose "Submit N rows (~X credits)" button starts '
               "the run in the background (counts, credits, time left) and whose Cancel button stops sending.",
    "campaign": "A campaign name: each create reserves its row's estimate against the campaign's budget (budget=, "
                "set once), held in the ledger and shared by every run and process naming it; rows that do not fit "
                "end skipped. af.campaigns() shows the figures.",
    "refresh_job": "The job name, when the ledger does not know the rows' job ids.",
    "until_done": "Keep polling until every job reaches a terminal state.",
    "dest": 'The folder, or any fsspec URI ("s3://bucket/out/", gs://, az://: the storage extra), to write the '
            "files to; the client's storage_options reach the filesystem.",
    "save_to": 'Save each result as soon as its job completes, while the run goes on: a folder or an fsspec URI '
               '("s3://bucket/out/"); adds akool_file. The ledger records each save, so a re-run saves nothing twice.',
    "save_name": 'File-name template of the saved files (with save_to=), e.g. "{script_id}_{language}"; default '
                 '"{job_id}". For the jobs with a field called name (voice_clone, avatar_upload), that field.',
    "name": 'File-name template of the row\'s columns, e.g. "{script_id}_{language}"; default "{job_id}".',
    "delete_job": "The job name, when the ledger does not know the rows' job ids.",
}


def _doc(summary: str, args: dict[str, str], example: str) -> str:
    lines = [summary, "", "Args:"]
    for name, key in args.items():
        lines.append(f"    {name}: {ARGS[key]}")
    return "\n".join([*lines, "", "Example:", f"    >>> {example}  # doctest: +SKIP"])


_SEND = {"job": "job", "client": "client", "prefix": "prefix", "budget": "budget", "progress": "progress",
         "timeout": "timeout", "force": "force", "plan": "plan", "rates": "rates"}
_PARAMS = {"**params": "params"}


class FrameAccessor(Generic[FrameT]):
    """``frame.akool``: the verbs bound to one frame; ``_pandas`` and ``_polars`` register it, each for its frame type
    (``estimate`` gives that type back; the verbs that send give a DataFrame). ``**params: Any``: a job's documented
    fields, open by design (each job has its own).

    Each method calls the module function of the same name. Those that submit or read results take
    ``_collected()``, which a LazyFrame accessor overrides to collect once, explicitly, before anything is sent.
    """

    def __init__(self, frame: FrameT) -> None:
        self._obj = frame

    def _collected(self) -> IntoFrame:
        """The frame that submit, run, refresh and download work on: the frame itself."""
        return self._obj

    # ------------------------------------------------------------------ blocking
    def estimate(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
                 budget: float | None = None, progress: bool | ProgressSink | None = False,
                 timeout: float | None = None, force: bool = False, plan: str | None = None, rates: Rates = None,
                 **params: Any) -> FrameT:
        return _frames.estimate(self._obj, job, client=client, prefix=prefix, budget=budget, progress=progress,
                                timeout=timeout, force=force, plan=plan, rates=rates, **params)

    estimate.__doc__ = _doc(
        "Validate and price every row; nothing is sent. Adds akool_credits_est, akool_status ('invalid' or null), "
        "akool_error and how each price was made. On a polars LazyFrame the result stays lazy.",
        {**_SEND, **_PARAMS}, 'df.akool.estimate("tts", text=af.col("script"), voice_id="v1")')

    def submit(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
               budget: float | None = None, progress: bool | ProgressSink | None = True,
               timeout: float | None = None, force: bool = False, plan: str | None = None, rates: Rates = None,
               campaign: str | None = None, **params: Any) -> EagerFrame:
        return _frames.submit(self._collected(), job, client=client, prefix=prefix, budget=budget,
                              progress=progress, timeout=timeout, force=force, plan=plan, rates=rates,
                              campaign=campaign, **params)

    submit.__doc__ = _doc(
        "Create one job per row and return once every row is submitted (akool_job_id, akool_status ...). Rows "
        "already sent with the same inputs reuse their job.", {**_SEND, "campaign": "campaign", **_PARAMS},
        'df.akool.submit("tts", text=af.col("script"), voice_id="v1", budget=50)')

    def run(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_", budget: float | None = None,
            progress: bool | ProgressSink | None = True, timeout: float | None = None, force: bool = False,
            plan: str | None = None, rates: Rates = None, follow: str | None = None,
            save_to: str | os.PathLike[str] | None = None, name: str | None = None, confirm: bool = False,
            campaign: str | None = None, **params: Any) -> EagerFrame | ConfirmPanel:
        return _frames.run(self._collected(), job, client=client, prefix=prefix, budget=budget, progress=progress,
                           timeout=timeout, force=force, plan=plan, rates=rates, follow=follow, save_to=save_to,
                           name=name, confirm=confirm, campaign=campaign, **params)

    run.__doc__ = _doc(
        "Submit, then follow every job to its end; adds akool_job_id, akool_status, akool_url, akool_credits, "
        "akool_error (and akool_file with save_to=). Re-running the same cell reuses the jobs already paid for.",
        {**_SEND, "follow": "follow", "save_to": "save_to", "name": "save_name", "confirm": "confirm",
         "campaign": "campaign", **_PARAMS},
        'df.akool.run("tts", text=af.col("script"), voice_id="v1", save_to="s3://bucket/audio/")')

    def refresh(self, *, client: Client | None = None, prefix: str = "akool_", job: str | None = None,
                timeout: float | None = None, follow: bool = False,
                progress: bool | ProgressSink | None = True) -> EagerFrame:
        return _frames.refresh(self._collected(), client=client, prefix=prefix, job=job, timeout=timeout,
                               follow=follow, progress=progress)

    refresh.__doc__ = _doc(
        "Poll the rows that carry akool_job_id and update their columns; other rows stay as they are.",
        {"client": "client", "prefix": "prefix", "job": "refresh_job", "timeout": "timeout",
         "follow": "until_done", "progress": "progress"}, "submitted.akool.refresh(follow=True)")

    def download(self, dest: str | os.PathLike[str], /, *, client: Client | None = None, prefix: str = "akool_",
                 name: str | None = None, progress: bool | ProgressSink | None = False) -> EagerFrame:
        return _frames.download(self._collected(), dest, client=client, prefix=prefix, name=name, progress=progress)

    download.__doc__ = _doc(
        "Fetch every row's result file into dest (a folder or an fsspec URI such as s3://bucket/out/), named after "
        "the row; streamed and resumable. Adds akool_file (the path or full URI) and akool_expires_at (result "
        "links expire 7 days after completion).",
        {"dest": "dest", "client": "client", "prefix": "prefix", "name": "name", "progress": "progress"},
        'done.akool.download("audio/", name="{script_id}_{language}", progress=True)')

    def delete(self, *, client: Client | None = None, prefix: str = "akool_", job: str | None = None) -> EagerFrame:
        from ._delete import adelete

        return run_sync(adelete(self._collected(), client=client, prefix=prefix, job=job))

    delete.__doc__ = _doc(
        "Delete at the provider what the rows made (cancel reage jobs still running); adds akool_deleted and "
        "akool_delete_error. Irreversible.", {"client": "client", "prefix": "prefix", "job": "delete_job"},
        "done.akool.delete()")

    # ------------------------------------------------------------------ async twins
    async def aestimate(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
                        budget: float | None = None, progress: bool | ProgressSink | None = False,
                        timeout: float | None = None, force: bool = False, plan: str | None = None,
                        rates: Rates = None, **params: Any) -> FrameT:
        return await _frames.aestimate(self._obj, job, client=client, prefix=prefix, budget=budget,
                                       progress=progress, timeout=timeout, force=force, plan=plan, rates=rates,
                                       **params)

    aestimate.__doc__ = "Async twin of ``estimate``.\n\n" + (estimate.__doc__ or "").replace(
        "df.akool.estimate(", "await df.akool.aestimate(")

    async def asubmit(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
                      budget: float | None = None, progress: bool | ProgressSink | None = True,
                      timeout: float | None = None, force: bool = False, plan: str | None = None, rates: Rates = None,
                      campaign: str | None = None, **params: Any) -> EagerFrame:
        return await _frames.asubmit(self._collected(), job, client=client, prefix=prefix, budget=budget,
                                     progress=progress, timeout=timeout, force=force, plan=plan, rates=rates,
                                     campaign=campaign, **params)

    asubmit.__doc__ = "Async twin of ``submit``.\n\n" + (submit.__doc__ or "").replace(
        "df.akool.submit(", "await df.akool.asubmit(")

    async def arun(self, job: str, /, *, client: Client | None = None, prefix: str = "akool_",
                   budget: float | None = None, progress: bool | ProgressSink | None = True,
                   timeout: float | None = None, force: bool = False, plan: str | None = None, rates: Rates = None,
                   follow: str | None = None, save_to: str | os.PathLike[str] | None = None, name: str | None = None,
                   confirm: bool = False, campaign: str | None = None, **params: Any) -> EagerFrame | ConfirmPanel:
        return await _frames.arun(self._collected(), job, client=client, prefix=prefix, budget=budget,
                                  progress=progress, timeout=timeout, force=force, plan=plan, rates=rates,
                                  follow=follow, save_to=save_to, name=name, confirm=confirm, campaign=campaign,
                                  **params)

    arun.__doc__ = "Async twin of ``run``.\n\n" + (run.__doc__ or "").replace("df.akool.run(", "await df.akool.arun(")

    async def arefresh(self, *, client: Client | None = None, prefix: str = "akool_", job: str | None = None,
                       timeout: float | None = None, follow: bool = False,
                       progress: bool | ProgressSink | None = True) -> EagerFrame:
        return await _frames.arefresh(self._collected(), client=client, prefix=prefix, job=job, timeout=timeout,
                                      follow=follow, progress=progress)

    arefresh.__doc__ = "Async twin of ``refresh``.\n\n" + (refresh.__doc__ or "").replace(
        "submitted.akool.refresh(", "await submitted.akool.arefresh(")

    async def adownload(self, dest: str | os.PathLike[str], /, *, client: Client | None = None, prefix: str = "akool_",
                        name: str | None = None, progress: bool | ProgressSink | None = False) -> EagerFrame:
        return await _frames.adownload(self._collected(), dest, client=client, prefix=prefix, name=name,
                                       progress=progress)

    adownload.__doc__ = "Async twin of ``download``.\n\n" + (download.__doc__ or "").replace(
        "done.akool.download(", "await done.akool.adownload(")

    async def adelete(self, *, client: Client | None = None, prefix: str = "akool_", job: str | None = None) -> EagerFrame:
        from ._delete import adelete

        return await adelete(self._collected(), client=client, prefix=prefix, job=job)

    adelete.__doc__ = "Async twin of ``delete``.\n\n" + (delete.__doc__ or "").replace(
        "done.akool.delete(", "await done.akool.adelete(")
