"""Result files to a folder or a bucket, named after the rows, before their links expire: ``adownload`` (the verb),
and the names and warnings ``run(..., save_to=...)`` shares with it.

``dest`` is a local folder or any fsspec URI (``s3://bucket/out/``, ``gs://...``; ``storage.storage_for``, with the
client's ``storage_options``). Names come from a template of the row's values (``"{script_id}_{language}"``; default
``"{job_id}"``), made safe for every file system (no separators or reserved characters, no reserved Windows names,
at most 120 characters) and unique within the folder (``_2``, ``_3`` ...), with the extension of the media (the
URL's, or the answer's content type). Downloads stream (``engine.save_file``: no whole file in memory), run
concurrently under the client's limits and are resumable: a file under its final name with the size the ledger
recorded (or any size, when it recorded none) is complete and is not fetched again. Each file written or found is
recorded in the ledger (job id, folder, name, size), where a later ``run(..., save_to=...)`` finds it.

Result links last 7 days after the job completes (the Akool docs); ``expires_at`` is that moment, from the
ledger. Rows that expire within a day, or have expired, are named in a warning; so are rows whose file could not
be written (a refused write, a broken download).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import string
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from .._errors import ValidationError, say
from ..engine import JOB_ID, Fetched, save_file
from ..storage import storage_for
from ..typing import EagerFrame, IntoFrame, ProgressSink, Storage
from ._calls import as_narwhals, client_or_default, labels, on_loop, sink_for, texts_of
from ._join import _existing, _with_columns

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["LINK_LIFETIME", "Fetched", "adownload", "expiry", "fetch_files", "file_names", "names_of",
           "warn_expiring", "warn_unsaved"]

LINK_LIFETIME = dt.timedelta(days=7)  # "result links expire after 7 days" (Akool: results are kept 7 days)
SOON = dt.timedelta(days=1)
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
NOTHING = "no result URL"


def _safe(name: str) -> str:
    name = _UNSAFE.sub("_", name).strip(" .")[:120].rstrip(" .")
    if not name or name.split(".")[0].upper() in _RESERVED:
        name = f"_{name}"
    return name


def file_names(template: str, rows: Sequence[Mapping[str, Any]], *, unique: bool = True) -> list[str]:
    """Each row's file name (without extension) from ``template``; safe, and unique unless ``unique`` is False."""
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    known = set(rows[0]) if rows else set()
    missing = sorted({f.split(".")[0].split("[")[0] for f in fields} - known)
    if missing:
        msg = (f"name={template!r} uses {missing}, which are not columns of the frame.\n\n"
               f"Hint: use the frame's columns, e.g. {', '.join('{' + c + '}' for c in list(known)[:4])}.")
        raise ValidationError(msg)
    names, seen = [], set()
    for row in rows:
        values = {k: "" if v is None else v for k, v in row.items()}
        base = _safe(template.format_map(values))
        name, n = base, 2
        while unique and name.lower() in seen:  # unique even on case-insensitive file systems
            name, n = f"{base}_{n}", n + 1
        seen.add(name.lower())
        names.append(name)
    return names


def names_of(eager: nw.DataFrame[Any], template: str | None, ids: Sequence[str | None] | None) -> list[str]:
    """Each row's file name from ``template`` (default ``"{job_id}"``): ``{job_id}`` is the row's job id (``ids``;
    None: not known yet, ``engine.JOB_ID`` stands for it until the job is made). Names with a job id in them are
    unique already: rows that share a job (identical rows) share its file."""
    template = template or "{job_id}"
    used = {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(template) if f}
    values = {c: _existing(eager, c) for c in (used - {"job_id"}) & set(eager.columns)}
    rows = [{"job_id": JOB_ID if ids is None else ids[i] or f"row{i}", **{c: v[i] for c, v in values.items()}}
            for i in range(len(eager))]
    # (names a template field the frame lacks, if any)
    return file_names(template, rows, unique=ids is not None or "job_id" not in used)


def expiry(completed_at: float | None) -> dt.datetime | None:
    return None if completed_at is None else dt.datetime.fromtimestamp(completed_at, dt.UTC) + LINK_LIFETIME


async def fetch_files(client: Any, urls: Sequence[str | None], storage: Storage, names: Sequence[str], *,
                      progress: Any = None, jobs: Sequence[str | None] | None = None) -> list[Fetched]:
    """Download each URL to ``<name><ext>`` in ``storage``; files already there under their final name are kept.
    ``jobs``: each URL's job id, by which the ledger tells the size a file saved there before has, and records
    each file written or found."""
    if progress is not None:
        progress.start(sum(1 for u in urls if u), None)
    jobs = list(jobs) if jobs is not None else [None] * len(urls)
    known = client.ledger.saved(storage.address, [j for j in jobs if j]) if any(jobs) else {}
    limit = asyncio.Semaphore(client.max_concurrency)

    async def one(url: str | None, name: str, job: str | None) -> Fetched:
        if not url:
            return Fetched(None, NOTHING)
        try:
            saved = known.get((job, name)) if job else None
            async with limit:
                return await save_file(client, url, storage, name, size=saved.size if saved else None)
        finally:
            if progress is not None:
                progress.finished()

    fetched = list(await asyncio.gather(*(one(u, n, j) for u, n, j in zip(urls, names, jobs, strict=True))))
    new = [(job, storage.address, name, f.name, f.size) for job, name, f in zip(jobs, names, fetched, strict=True)
           if job and f.name and f.size and known.get((job, name), (None, None))[:2] != (f.name, f.size)]
    if new:
        await client.ledger.record_saves(new)
    return fetched


def warn_expiring(labels: Sequence[Any], expires: Sequence[dt.datetime | None], fetched: Sequence[Fetched],
                  now: dt.datetime | None = None) -> None:
    """One warning naming the rows whose links have expired or expire within a day."""
    now = now or dt.datetime.now(dt.UTC)
    gone = [label for label, f in zip(labels, fetched, strict=True) if f.why and "expired" in f.why]
    gone += [label for label, when, f in zip(labels, expires, fetched, strict=True)
             if when is not None and when <= now and label not in gone and f.file is None]
    soon = [label for label, when, f in zip(labels, expires, fetched, strict=True)
            if when is not None and now < when <= now + SOON and f.file is None]
    parts = []
    if gone:
        parts.append(f"{len(gone)} row(s) whose result links have expired ({_few(gone)}): run them again "
                     "(force=True) to get new results")
    if soon:
        parts.append(f"{len(soon)} row(s) whose links expire within a day ({_few(soon)}): download them now")
    if parts:
        warnings.warn("; ".join(parts) + ".", UserWarning, stacklevel=4)


def warn_unsaved(labels: Sequence[Any], fetched: Sequence[Fetched | None], where: str, *,
                 expired: bool = True) -> None:
    """One warning naming the rows whose result could not be saved to ``where``, and why (the first reasons);
    ``expired=False`` leaves out expired links (``warn_expiring`` names those)."""
    failed = [(label, f.why) for label, f in zip(labels, fetched, strict=True)
              if f is not None and f.file is None and f.why and f.why != NOTHING
              and (expired or "expired" not in f.why)]
    if not failed:
        return
    reasons = list(dict.fromkeys(why for _, why in failed))
    said = "; ".join(f"{_few([label for label, w in failed if w == why])}: {why}" for why in reasons[:3])
    more = f"; and {len(reasons) - 3} other reason(s)" if len(reasons) > 3 else ""
    say(UserWarning, f"{len(failed)} row(s) whose result could not be saved to {where} ({said}{more}). Their jobs "
                     "are as they were; download() to the same place later tries them again.")


def _few(labels: Sequence[Any]) -> str:
    shown = ", ".join(map(str, labels[:5]))
    return f"rows {shown}" + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")


async def adownload(frame: IntoFrame, dest: str | os.PathLike[str], /, *, client: Client | None = None,
                    prefix: str = "akool_", name: str | None = None,
                    progress: bool | ProgressSink | None = False) -> EagerFrame:
    """Fetch every row's result file into ``dest`` (a folder, or any fsspec URI: ``"s3://bucket/out/"``), named
    after the row; add ``{prefix}file`` (the file's path, or its full URI) and ``{prefix}expires_at``.

    Files are named by ``name``, a template of the row's columns (default ``"{job_id}"``, the row's job id),
    made safe and unique, with the media's extension. Downloads stream, run concurrently under the client's
    limits and are resumable: a file already there under its final name (at the size the ledger recorded) is
    complete and is not fetched again. ``expires_at`` is when the result link expires (7 days after the job
    completed, from the ledger); rows whose links expire within a day, or have expired, are named in a warning,
    and so are rows whose file could not be written.

    Args:
        frame: A frame returned by ``run``/``refresh``.
        dest: The folder, or an fsspec URI (``s3://``, ``gs://``, ``az://`` ...: the ``storage`` extra), with the
            client's ``storage_options``.
        client: The client; default: the default client.
        prefix: Prefix of the result columns.
        name: File-name template, e.g. ``"{script_id}_{language}"``; ``{job_id}`` is the row's job id.
        progress: True for a bar, False for none, or a ProgressSink.

    Example:
        >>> files = await adownload(done, "s3://bucket/audio/", name="{script_id}_{language}")  # doctest: +SKIP
    """
    eager, back = as_narwhals(frame)
    urls = texts_of(eager, prefix + "url", verb="download",
                    hint="run the rows first (or refresh them until completed), or pass their prefix=.")
    ids = [None if v in (None, "") else str(v) for v in _existing(eager, prefix + "job_id")]
    names = names_of(eager, name, ids)
    # Rows that made several videos (image to video, count > 1): the others as "<name>-2", "<name>-3", ...
    batches = [v if isinstance(v, list) else [] for v in _existing(eager, prefix + "video_urls")]
    video_ids = [v if isinstance(v, list) and len(v) == len(b) else [None] * len(b)
                 for v, b in zip(_existing(eager, prefix + "video_ids"), batches, strict=True)]
    more = [(i, f"{names[i]}-{n}", url, video_ids[i][n - 1]) for i, videos in enumerate(batches)
            for n, url in enumerate(videos[1:], 2)]
    settings = client_or_default(client)
    storage = storage_for(dest, getattr(settings, "storage_options", None))
    sink = sink_for(progress, "download")
    try:
        fetched = await on_loop(fetch_files(settings, urls + [url for _, _, url, _ in more], storage,
                                             names + [name for _, name, _, _ in more], progress=sink,
                                             jobs=ids + [job for *_, job in more]))
    finally:
        if sink is not None:
            sink.close()
    fetched, extra = fetched[:len(urls)], fetched[len(urls):]
    known = settings.ledger.by_job_ids([i for i in ids if i])
    expires = [expiry(known[i].completed_at or known[i].updated_at) if i in known and known[i].status == "completed"
               else None for i in ids]
    warn_expiring(labels(eager), expires, fetched)
    rows = labels(eager)
    warn_unsaved(rows + [f"{rows[i]} (video {name.rsplit('-', 1)[-1]})" for i, name, _, _ in more], fetched + extra,
                 storage.address, expired=False)
    columns: dict[str, list[Any]] = {"file": [f.file for f in fetched], "expires_at": expires}
    if more:  # every row's files, as a list beside its first
        files = [[f.file] for f in fetched]
        for (i, _, _, _), f in zip(more, extra, strict=True):
            files[i].append(f.file)
        columns["files"] = files
    return back(_with_columns(eager, prefix, columns))
