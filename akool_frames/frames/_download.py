"""Result files to disk, named after the rows, before their links expire.

Names come from a template of the row's values (``"{script_id}_{language}"``; default ``"{job_id}"``), made
safe for every file system (no separators or reserved characters, no reserved Windows names, at most 120
characters) and unique within the folder (``_2``, ``_3`` ...), with the extension of the media (the URL's, or
the answer's content type). Downloads run concurrently under the client's limits and are resumable: each
goes to ``<name>.part`` and is renamed only once complete, so a file that exists under its final name is
complete and is not fetched again.

Result links last 7 days after the job completes (the Akool docs); ``expires_at`` is that moment, from the
ledger. Rows that expire within a day, or have expired, are named in a warning.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import string
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import AkoolError, ValidationError
from ..typing import Storage

__all__ = ["LINK_LIFETIME", "Fetched", "expiry", "fetch_files", "file_names", "warn_expiring"]

LINK_LIFETIME = dt.timedelta(days=7)  # "result links expire after 7 days" (Akool: results are kept 7 days)
SOON = dt.timedelta(days=1)
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_TYPES = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav",
          "audio/wave": ".wav", "video/mp4": ".mp4", "video/quicktime": ".mov", "image/png": ".png",
          "image/jpeg": ".jpg", "image/webp": ".webp", "audio/ogg": ".ogg", "audio/flac": ".flac",
          "application/json": ".json", "text/plain": ".txt"}


@dataclass(frozen=True)
class Fetched:
    """One row's download: the file written (or already there), or why there is none."""

    file: str | None
    why: str | None = None


def _safe(name: str) -> str:
    name = _UNSAFE.sub("_", name).strip(" .")[:120].rstrip(" .")
    if not name or name.split(".")[0].upper() in _RESERVED:
        name = f"_{name}"
    return name


def file_names(template: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each row's file name (without extension) from ``template``; safe and unique."""
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
        while name.lower() in seen:  # unique even on case-insensitive file systems
            name, n = f"{base}_{n}", n + 1
        seen.add(name.lower())
        names.append(name)
    return names


def _suffix(url: str) -> str:
    suffix = Path(url.split("?", 1)[0].split("#", 1)[0]).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


def expiry(completed_at: float | None) -> dt.datetime | None:
    return None if completed_at is None else dt.datetime.fromtimestamp(completed_at, dt.UTC) + LINK_LIFETIME


async def fetch_files(client: Any, urls: Sequence[str | None], storage: Storage, names: Sequence[str], *,
                      progress: Any = None) -> list[Fetched]:
    """Download each URL to ``<name><ext>`` in ``storage``; files already there under their final name are kept."""
    if progress is not None:
        progress.start(sum(1 for u in urls if u), None)

    async def one(url: str | None, name: str) -> Fetched:
        if not url:
            return Fetched(None, "no result URL")
        try:
            return await _one(client, url, storage, name)
        finally:
            if progress is not None:
                progress.finished()

    return list(await asyncio.gather(*(one(u, n) for u, n in zip(urls, names, strict=True))))


async def _one(client: Any, url: str, storage: Storage, name: str) -> Fetched:
    suffix = _suffix(url)
    done = [storage.join(f"{name}{suffix}")] if suffix else storage.named(name)
    if done and (storage.size(done[0]) or 0) > 0:
        return Fetched(done[0])  # complete: only complete files carry their final name
    part = storage.join(f"{name}.part")
    try:
        status, phrase, kind = await client.http.download(url, lambda: storage.open_write(part))
    except AkoolError as exc:
        return Fetched(None, f"could not download it: {exc}")
    if status != 200:
        storage.remove(part)
        gone = status in (403, 404, 410)
        return Fetched(None, "the link has expired (results are kept 7 days)" if gone else f"HTTP {status} {phrase}")
    final = storage.join(f"{name}{suffix or _TYPES.get(kind.split(';')[0].strip().lower(), '')}")
    storage.rename(part, final)
    return Fetched(final)


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


def _few(labels: Sequence[Any]) -> str:
    shown = ", ".join(map(str, labels[:5]))
    return f"rows {shown}" + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")
