"""What the ``akool-frames`` commands say: the library's messages in the syntax the user typed, and the rows that
did not go through, by reason, with the row numbers a spreadsheet shows.

The library's messages speak Python (``budget=``, ``with af.sandbox() as sb:``) because most of its users call it
from Python; the CLI rewrites them with ``SYNTAX``, a table, rather than the library speaking two dialects.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .._values import to_py

__all__ = ["cli_text", "one_line", "reasons", "relabel", "say_warnings", "sheet_rows", "tally", "voice_check"]

_EXPORT = {"akool": "export AKOOL_API_KEY=... (or AKOOL_CLIENT_ID=... and AKOOL_CLIENT_SECRET=...)",
           "audiocleaner": "export AUDIOCLEANER_API_KEY=...",
           "kling": "export KLING_ACCESS_KEY=... and KLING_SECRET_KEY=..."}

def _env(setting: str) -> str:
    return setting.split("(")[1].rstrip(")")  # "base_url (AKOOL_BASE_URL)" -> "AKOOL_BASE_URL"


Rewrite = tuple[str, str] | tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]  # a phrase, or a pattern


@functools.cache
def syntax() -> list[Rewrite]:
    """(what the library says, what a terminal user types instead), applied in order: longer phrases first. The
    settings' texts come from the modules that say them (imported here, not at start: ``--help`` stays quick)."""
    from ..engine import SETTINGS as ACCOUNT_SETTINGS
    from ..transport import BASE_URL_SETTINGS, CA_SETTINGS, PROXY_SETTINGS

    return [
        ("use `with af.sandbox() as sb:` and `client=sb.client`",
         "run `akool-frames sandbox` in another terminal and export the lines it prints"),
        ("set api_key (AKOOL_API_KEY) or client_id + client_secret (AKOOL_CLIENT_ID, AKOOL_CLIENT_SECRET)",
         _EXPORT["akool"]),
        *((f"check {setting}", f"check the credentials you export: {_EXPORT[provider]}")
          for provider, setting in ACCOUNT_SETTINGS.items()),
        *((f"check {setting}", f"check {_env(setting)} (export {_env(setting)}=...)")
          for setting in BASE_URL_SETTINGS.values()),
        (re.compile(r"\b(set|and) [a-z_]+ \(([A-Z][A-Z0-9_]+)\)"),  # "set kling_access_key (KLING_ACCESS_KEY)"
         lambda m: ("and " if m[1] == "and" else "") + f"export {m[2]}=..."),
        (CA_SETTINGS, "export SSL_CERT_FILE=/path/to/ca.pem (or REQUESTS_CA_BUNDLE)"),
        (", or verify=False to skip the check (unsafe)", ""),
        (PROXY_SETTINGS, "export HTTPS_PROXY=http://user:pass@proxy:3128 (or HTTP_PROXY, NO_PROXY)"),
        ("or wait longer with af.Client(ledger_timeout=...)", "or wait for it"),
        (" (af.credits() shows the balance), then run the same rows again", ", then run the same command again"),
        (" (delete()); force=True makes it again", "; --force makes it again"),
        ("(force=True)", "(run with --force)"),
        (re.compile(r"pass rates=\{'([\w.]+)': \.\.\.\}"), lambda m: f"pass --rates {m[1]}=CREDITS"),
        ("or calibrate from the ledger", "or --rates calibrated (what the ledger saw charged)"),
        ("budget= cannot cover it", "--budget cannot cover it (give its job a price: --rates JOB=CREDITS)"),
        ("raise budget=", "raise --budget"),
        (re.compile(r"\b(ledger|rates|prefix|budget|sheet)=(?=[\s.,;)]|$)"), lambda m: f"--{m[1]}"),
        (re.compile(r"\b(ledger|rates|prefix|sheet)= ?"), lambda m: f"--{m[1]} "),
        ("af.voices()", "akool-frames voices"),
        ("af.jobs()", "akool-frames jobs"),
        ("af.describe(job)", "akool-frames describe JOB"),
        (re.compile(r"\baf\.(languages|credits|calibrate)\(\)"), lambda m: f"af.{m[1]}() in Python"),
        ("=....", "=..."),  # a placeholder that ends a sentence
    ]


def cli_text(message: str) -> str:
    """``message`` with its Python-syntax hints in CLI syntax."""
    for rewrite in syntax():
        message = (rewrite[0].sub(rewrite[1], message) if isinstance(rewrite[0], re.Pattern)
                   else message.replace(rewrite[0], rewrite[1]))
    return message


def one_line(message: str) -> str:
    """A message on one line, in CLI syntax."""
    return cli_text(message).replace("\n\nHint: ", " Hint: ").replace("\n", " ")


# ---------------------------------------------------------------------------------------- row numbers
def sheet_rows(path: str, sheet: str | None, storage_options: dict[str, Any] | None = None) -> list[int]:
    """The row number a spreadsheet shows for each row ``read_sheet`` made of it: the header is row 1 and blank
    lines, which ``read_sheet`` skips, still count. A Parquet file has no such numbers: none (rows go by label)."""
    from ..sheets import PARQUET_SUFFIXES, place, raw_rows

    if place(path).suffix in PARQUET_SUFFIXES:
        return []
    raw = raw_rows(path, sheet, storage_options=storage_options)
    return [n for n, row in enumerate(raw[1:], start=2) if any(v is not None for v in row)]


def _number(label: Any, numbers: Sequence[int]) -> str:
    """A frame's row label (its position in the sheet read; an exploded row keeps its source row's) as a sheet row."""
    return str(numbers[label]) if isinstance(label, int) and 0 <= label < len(numbers) else str(label)


def relabel(message: str, numbers: Sequence[int]) -> str:
    """A library message naming rows by frame label ("rows 0, 3") with the sheet's numbers instead."""
    return re.sub(r"\b(rows?) (\d+(?:, \d+)*)",
                  lambda m: f"{m[1]} " + ", ".join(_number(int(n), numbers) for n in m[2].split(", ")), message)


# ----------------------------------------------------------------------------------- rows by reason
NOT_THROUGH = ("invalid", "rejected", "failed", "unknown", "skipped")  # statuses a row is told about, in this order
SHOWN_ROWS, SHOWN_REASONS = 5, 8


# A missing field: how to give it on the command line (and where its values are listed, when a command lists them).
WHERE_LISTED = {"voice_id": " (akool-frames voices lists them)"}
REQUIRED = re.compile(r"^([\w.\[\]]+) is required$")


def _reason(error: Any) -> tuple[str, str]:
    """A row's error as (its reason, in CLI syntax; what to type, if anything)."""
    reason = one_line(re.sub(r"^row [^:]*: ", "", str(error)))  # the row is named by its sheet number instead
    missing = REQUIRED.match(reason)
    field = missing[1] if missing else ""
    return reason, f"give it with --set {field}=...{WHERE_LISTED.get(field, '')} or --map {field}=COLUMN" if field \
        else ""


def reasons(frame: Any, prefix: str, numbers: Callable[[], Sequence[int]], language: str | None = None) -> list[str]:
    """One line per (status, reason): how many rows, the reason, and the first sheet row numbers. Rows without a
    price (an estimate's) are told too. ``numbers`` is called only when there is something to tell."""
    statuses = [to_py(s) for s in frame[prefix + "status"].tolist()]
    errors = [to_py(e) for e in frame[prefix + "error"].tolist()] if prefix + "error" in frame.columns else \
        [None] * len(statuses)
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i, (status, error) in enumerate(zip(statuses, errors, strict=True)):
        if status in NOT_THROUGH or (status is None and error is not None):
            what = status or "without a price"
            groups.setdefault((what, *(_reason(error) if error else ("no reason given", ""))), []).append(i)
    if not groups:
        return []
    sheet = numbers()
    labels = list(frame.index)
    languages = frame[language].tolist() if language and language in frame.columns else None
    order = {s: n for n, s in enumerate((*NOT_THROUGH, "without a price"))}
    lines = []
    for (what, why, hint), rows in sorted(groups.items(), key=lambda g: (order[g[0][0]], -len(g[1])))[:SHOWN_REASONS]:
        named = [_number(to_py(labels[i]), sheet) + (f" {to_py(languages[i])}" if languages is not None and
                                                      to_py(languages[i]) else "") for i in rows]
        shown = ", ".join(named[:SHOWN_ROWS]) + (f" and {len(named) - SHOWN_ROWS} more" if len(named) > SHOWN_ROWS
                                                 else "")
        lines.append(f"  {len(rows)} row{'s' if len(rows) > 1 else ''} {what}: {why} "
                     f"(row{'s' if len(rows) > 1 else ''} {shown}){'; ' + hint if hint else ''}")
    if len(groups) > SHOWN_REASONS:
        lines.append(f"  ... and {len(groups) - SHOWN_REASONS} more reasons: see the {prefix}error column")
    return lines


def tally(statuses: Sequence[Any], estimates: Sequence[Any]) -> Counter[str]:
    """Rows by status; an estimate's valid rows (no status yet) as priced or not."""
    return Counter(str(s) if s is not None else "priced" if e is not None else "without a price"
                   for s, e in zip(map(to_py, statuses), map(to_py, estimates), strict=True))


# ------------------------------------------------------------------------------------------ warnings
def voice_check(frame: Any, job: str, params: dict[str, Any], language_column: str | None, client: Any,
                said: list[Any]) -> None:
    """The voice/language warning in ``said``, about every row of the sheet: the library's is about the rows it
    checked (an estimate that prices whole columns, or a re-run, checks fewer; a language given only by --explode,
    none), so it is made again here from the voice list the library's language check read."""
    import akool_frames as af

    from .._errors import VoiceLanguageWarning
    from .._loop import run_sync
    from ..engine import VOICE_LANGUAGE, voice_mismatch, voice_records

    said[:] = [w for w in said if not issubclass(w.category, VoiceLanguageWarning)]
    if job not in VOICE_LANGUAGE:
        return
    voice, language = (params.get(f) for f in VOICE_LANGUAGE[job])
    if language is None and language_column is not None:
        language = af.col(language_column)
    if voice is None or language is None:
        return

    def values(given: Any) -> list[Any]:
        return frame[given.name].tolist() if isinstance(given, af.Col) else [given] * len(frame)

    valid = [to_py(s) != "invalid" for s in frame["akool_status"].tolist()]  # an invalid row says its own problem
    pairs = [pair for pair, ok in zip(zip(values(voice), values(language), strict=True), valid, strict=True) if ok]
    message = voice_mismatch(run_sync(voice_records(client, job)), pairs)
    if message:
        said.append(warnings.WarningMessage(message, VoiceLanguageWarning, __file__, 0))


def say_warnings(said: Sequence[Any], numbers: Callable[[], Sequence[int]]) -> None:
    """Each warning on one line of stderr, in CLI syntax, rows named by their sheet numbers."""
    for warning in said:
        text = one_line(str(warning.message))
        if re.search(r"\brows? \d", text):
            text = relabel(text, numbers())
        print("warning: " + text, file=sys.stderr)
