"""Clean-up: ``df.akool.delete()`` removes what a frame's rows made, where the docs give a way to.

Finished results go through the job's ``delete`` endpoint (VoiceLab voices, face swap and image-to-video
results, Kling custom voices); jobs still queued or processing through its ``cancel`` (reage). Every row
says what happened in ``{prefix}deleted`` (True, False, or null where there was nothing to delete) and
``{prefix}delete_error`` (why not); the ledger keeps ``deleted_at``, so a second call sends nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from .._client import Client
from .._errors import AccountError, APIError, AuthError, ServerError, TransportError
from ..catalog import JOBS, Delete, JobSpec, get_path
from ..typing import EagerFrame, IntoFrame

__all__ = ["adelete"]

IN_FLIGHT = ("queued", "processing")


class Done(NamedTuple):
    deleted: bool | None  # None: nothing to delete on this row
    error: str | None = None


class _Target(NamedTuple):
    row: int
    job_id: str
    value: str  # what the endpoint takes: the job id, or an extra column (Kling's voice_id, reage's task_id)


def _plan(spec: JobSpec, status: str | None, job_id: str,
          extras: dict[str, Any]) -> tuple[Delete, str] | tuple[None, Done]:
    """(rule, the value it takes) for one row, or (None, what to report instead)."""
    if status in IN_FLIGHT and spec.cancel is None:
        return None, Done(False, f"{spec.name} is still {status} and cannot be cancelled; delete it once it has "
                                 "finished (refresh(follow=True))")
    rule = spec.cancel if status in IN_FLIGHT else spec.delete
    if rule is None:
        return None, Done(None, f"{spec.name} has no documented delete endpoint; nothing was sent")
    value = job_id if rule.id_column == "job_id" else extras.get(rule.id_column)
    if value in (None, ""):
        return None, Done(False, f"no {rule.id_column} for this row yet; refresh it, then delete")
    return rule, str(value)


async def _send(client: Any, provider: str, rule: Delete, chunk: list[_Target]) -> dict[str, Done]:
    """One call for a chunk of ids; what became of each id."""
    ids = [t.value for t in chunk]
    body = {rule.id_field: ",".join(ids) if rule.joined else ids if rule.listed else ids[0]}
    try:
        answer = await client.http.request(provider, "POST", rule.path, body=body)
    except (AuthError, AccountError):
        raise  # the account's problem, not the row's: the message names the setting to fix
    except (APIError, ServerError, TransportError) as exc:
        return {i: Done(False, str(exc)) for i in ids}
    refused = {str(r.get("_id")): str(r.get("msg") or "refused") for r in get_path(answer, rule.refused or "") or []
               if isinstance(r, dict)} if rule.refused else {}
    return {i: Done(False, refused[i]) if i in refused else Done(True) for i in ids}


async def delete_rows(client: Any, jobs: Sequence[str | None], job_ids: Sequence[str | None],
                      statuses: Sequence[str | None], extras: Sequence[dict[str, Any]]) -> list[Done]:
    """What delete did for each row (rows in order); the ledger records each removal."""
    known = client.ledger.by_job_ids([i for i in job_ids if i])
    # A row that made several videos (image to video, count > 1) deletes them all.
    videos = client.ledger.videos([e for e in known.values() if e.deleted_at is None and JOBS[e.job].routes])
    done: list[Done] = [Done(None)] * len(job_ids)
    groups: dict[tuple[str, Delete], list[_Target]] = defaultdict(list)
    for row, (job, job_id) in enumerate(zip(jobs, job_ids, strict=True)):
        if not job_id:
            continue  # no job was made: nothing to delete
        entry = known.get(job_id)
        name = job or (entry.job if entry else None)
        if name not in JOBS:
            done[row] = Done(False, f"which job made {job_id} is unknown; pass job=")
            continue
        if entry is not None and entry.deleted_at is not None:
            done[row] = Done(True)  # deleted before: nothing is sent again
            continue
        extra = {**(json.loads(entry.extra) if entry and entry.extra else {}), **extras[row]}
        status = entry.status if entry is not None else statuses[row]
        planned = _plan(JOBS[name], status, job_id, extra)  # (rule, the value it takes), or (None, a Done)
        if planned[0] is None:
            done[row] = planned[1]
        else:
            rule = planned[0]
            groups[JOBS[name].provider, rule].append(_Target(row, job_id, str(planned[1])))
            for video in videos.get(entry.key, ()) if entry is not None and rule.id_column == "job_id" else ():
                groups[JOBS[name].provider, rule].append(_Target(row, str(video.job_id), str(video.job_id)))
    calls = [(provider, rule, targets[i: i + (rule.batch if rule.joined or rule.listed else 1)])
             for (provider, rule), targets in groups.items()
             for i in range(0, len(targets), rule.batch if rule.joined or rule.listed else 1)]
    answers = await asyncio.gather(*(_send(client, provider, rule, chunk) for provider, rule, chunk in calls))
    for (_, rule, chunk), answer in zip(calls, answers, strict=True):
        for target in chunk:  # a row with several videos: done once all are, else its first refusal
            if done[target.row].deleted is not False:
                done[target.row] = answer[target.value]
        removed = [t.job_id for t in chunk if answer[t.value].deleted]
        if removed:
            await client.ledger.deleted(removed, cancelled=rule.path.endswith("/job/del"))
    return done


async def adelete(frame: IntoFrame, /, *, client: Client | None = None, prefix: str = "akool_",
                  job: str | None = None) -> EagerFrame:
    """Delete, at the provider, what the frame's rows made; add ``{prefix}deleted`` and ``{prefix}delete_error``.

    Finished results are deleted (VoiceLab clones, which count against the plan's voice quota; face swap and
    reage results; image-to-video videos; Kling custom voices); reage jobs still running are cancelled. Rows of
    jobs without a documented delete say so and send nothing. Deleting is irreversible.

    Args:
        frame: A frame returned by ``run``/``submit``/``refresh``.
        client: The client; default: the default client.
        prefix: Prefix of the result columns.
        job: The job name, when the frame has no ``{prefix}job`` column and the ledger does not know the ids.

    Example:
        >>> cleaned = await done.akool.adelete()  # doctest: +SKIP
    """
    from ._calls import as_narwhals, client_or_default, on_loop, texts_of
    from ._join import _existing, _with_columns

    eager, back = as_narwhals(frame)
    ids = texts_of(eager, prefix + "job_id", verb="delete", hint="pass the frame run() or submit() returned, or its prefix=.")
    jobs = _existing(eager, prefix + "job") if prefix + "job" in eager.columns else [job] * len(ids)
    statuses = _existing(eager, prefix + "status") if prefix + "status" in eager.columns else [None] * len(ids)
    names = {rule.id_column for spec in JOBS.values() for rule in (spec.delete, spec.cancel) if rule} - {"job_id"}
    present = {name: _existing(eager, prefix + name) for name in names if prefix + name in eager.columns}
    extras = [{name: values[i] for name, values in present.items() if values[i] not in (None, "")}
              for i in range(len(ids))]
    done = await on_loop(delete_rows(client_or_default(client), [job or j for j in jobs], ids, statuses, extras))
    return back(_with_columns(eager, prefix, {"deleted": [d.deleted for d in done],
                                              "delete_error": [d.error for d in done]}))
