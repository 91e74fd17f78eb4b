"""What each ``akool-frames`` command does; ``cli.py`` parses the command line and calls these.

Every command takes its settings from the environment (``AKOOL_API_KEY`` ..., as ``af.Client()``) and works
on the same ledger as the Python API (``--ledger`` or ``AKOOL_FRAMES_LEDGER``, default
``./.akool_frames/ledger.sqlite``), so a re-run resumes. Exit codes: 0 all done, 1 some rows not completed
(an account stop too: its warning is printed on one line), 2 bad usage (raised as ``UsageError`` and printed on
one line by ``cli.main``).

A sheet and every file a command writes may be an object store's URI (``s3://bucket/lines.xlsx``, ``gs://``,
``az://`` ...; the ``storage`` extra), read and written through fsspec with the store's credentials from its usual
places (environment, profiles) and ``--storage-option KEY=VALUE`` for its filesystem's other options.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import warnings
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

from .._values import to_py
from ..sheets import is_uri, place, written
from ._text import say_warnings, voice_check

__all__ = ["UsageError", "download", "estimate", "forecast", "run", "serve", "status"]

OK, NOT_DONE, USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in the command line or its files: printed on one line, exit code 2."""


# ------------------------------------------------------------------------------------------ helpers
def _client(args: Any) -> Any:
    import akool_frames as af

    options: dict[str, Any] = {}
    if getattr(args, "ledger", None):
        options["ledger"] = args.ledger
    if getattr(args, "plan", None):
        options["plan"] = args.plan
    if _storage_options(args):  # (a download to a bucket, staging)
        options["storage_options"] = _storage_options(args)
    return af.Client(**options)


def _storage_options(args: Any) -> dict[str, Any]:
    """--storage-option KEY=VALUE, as a filesystem's options (values as --set reads them: JSON where they are)."""
    return {key: _value(text) for key, text in _pairs(getattr(args, "storage_option", None),
                                                      "--storage-option").items()}


def _options_for(args: Any, target: str) -> dict[str, Any] | None:
    """The storage options for ``target``: a URI's; a local path takes none."""
    return (_storage_options(args) or None) if is_uri(target) else None


def _value(text: str) -> Any:
    """A --set value: JSON where it reads as JSON (5, true, {"speed": 1.1}), else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if not isinstance(value, str) else text


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            msg = f"{flag} takes field=value, got {item!r} (e.g. {flag} input_text=script)"
            raise UsageError(msg)
        out[field.strip()] = value
    return out


def _params(args: Any, columns: list[str]) -> dict[str, Any]:
    import akool_frames as af

    mapped = _pairs(args.map, "--map")
    for field, column in mapped.items():
        if column not in columns:
            msg = (f"--map {field}={column}: the sheet has no column {column!r}; its columns: "
                   f"{', '.join(columns)}")
            raise UsageError(msg)
    constants = {field: _value(text) for field, text in _pairs(args.set, "--set").items()}
    both = sorted(set(mapped) & set(constants))
    if both:
        msg = f"{', '.join(both)} given by both --map and --set; keep one"
        raise UsageError(msg)
    return {**{f: af.col(c) for f, c in mapped.items()}, **constants}


def _job(name: str, flag: str = "--job ") -> str:
    import difflib

    from ..catalog import JOBS

    if name not in JOBS:
        close = difflib.get_close_matches(name, list(JOBS), n=1)
        msg = (f"{flag}{name}: no such job{'; did you mean ' + repr(close[0]) + '?' if close else ''} "
               f"(jobs: {', '.join(sorted(JOBS))})")
        raise UsageError(msg)
    return name


def _read(args: Any) -> Any:
    import akool_frames as af

    if getattr(args, "job", None):
        _job(args.job)
    _exists(args.sheet_path)
    frame = af.read_sheet(args.sheet_path, sheet=args.sheet, storage_options=_options_for(args, args.sheet_path))
    if getattr(args, "explode", None):
        column, _, into = args.explode.partition("=")
        frame = af.explode_languages(frame, column, into=into or "language")
    return frame


def _exists(sheet: str) -> None:
    """A local sheet that is not there: said before anything else (a URI's is said by read_sheet)."""
    if not is_uri(sheet) and not Path(sheet).exists():
        msg = f"no such file: {sheet}"
        raise UsageError(msg)


def _out(args: Any, verb: str) -> str:
    """--out, or the sheet's name with ``verb`` (lines.xlsx -> lines.done.xlsx) beside it, in its folder or bucket."""
    if args.out:
        return str(args.out)
    source = str(args.sheet_path)
    name = PurePosixPath(place(source).name)
    renamed = f"{name.stem}.{verb}{name.suffix if name.suffix in ('.xlsx', '.csv', '.parquet') else '.xlsx'}"
    if is_uri(source):
        return f"{source.rpartition('/')[0]}/{renamed}"
    return str(Path(source).with_name(renamed))


def _write(frame: Any, args: Any, target: str) -> Any:
    import akool_frames as af

    return af.write_sheet(frame, target, storage_options=_options_for(args, target))


def _rates(args: Any) -> Any:
    text = getattr(args, "rates", None)
    if not text or text == "calibrated" or Path(text).suffix.lower() in (".json", ".toml"):
        return text
    try:
        return {job: float(rate) for job, rate in _pairs(text.split(","), "--rates").items()}
    except ValueError:
        msg = f"--rates takes job=credits pairs, 'calibrated' or a .json/.toml file; got {text!r}"
        raise UsageError(msg) from None


def _credits(values: Any, missing: str) -> str:
    known = [float(v) for v in map(to_py, values) if v is not None]
    return f"{round(sum(known), 4):,g}" if known else missing


def _numbers(args: Any) -> Any:
    """The sheet's row numbers, read once and only when a message needs them (header row 1; blank lines count)."""
    from ._text import sheet_rows

    if not hasattr(args, "row_numbers"):
        args.row_numbers = functools.cache(lambda: sheet_rows(args.sheet_path, getattr(args, "sheet", None),
                                                              _options_for(args, args.sheet_path)))
    return args.row_numbers


def _tell(frame: Any, prefix: str, out: Path | str | None, args: Any) -> Counter[str]:
    from ._text import reasons, tally

    statuses = frame[prefix + "status"].tolist()
    est = [to_py(e) for e in frame[prefix + "credits_est"].tolist()]
    counts = tally(statuses, est)
    unpriced = sum(1 for e, s in zip(est, map(to_py, statuses), strict=True) if e is None and s != "invalid")
    line = f"{len(frame)} row{'s' if len(frame) > 1 else ''}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    line += f"; estimate {_credits(est, 'none')} credits" if any(e is not None for e in est) else "; nothing priced"
    line += f" ({unpriced} rows without a price, not included)" if unpriced and len(est) > unpriced else ""
    sent = prefix + "job_id" not in frame.columns or frame[prefix + "job_id"].notna().any()
    if prefix + "credits" in frame.columns and sent:  # (nothing sent: nothing to say about charges)
        line += f"; charged {_credits(frame[prefix + 'credits'].tolist(), 'not reported by the API')}"
    print(line)
    for said in reasons(frame, prefix, _numbers(args), language=_language_column(args)):
        print(said)
    if out is not None:
        print(f"written: {out}")
    return counts


def _language_column(args: Any) -> str | None:
    """The column --explode makes of each row's languages (the rows' language even without language_code)."""
    if getattr(args, "explode", None):
        column, _, into = args.explode.partition("=")
        return into or "language"
    return None


def _nothing(frame: Any, args: Any) -> bool:
    """No rows (or, after --explode, no language in any): say so; there is nothing to do, which is no failure."""
    if len(frame) and not (getattr(args, "explode", None) and frame[_language_column(args)].isna().all()):
        return False
    where = f"no languages in column {args.explode.partition('=')[0]!r}" if len(frame) else "the sheet has no rows"
    print(f"nothing to do: {where}")
    return True


# ----------------------------------------------------------------------------------------- commands
def estimate(args: Any) -> int:
    frame = _read(args)
    if _nothing(frame, args):
        return OK
    client = _client(args)
    params = _params(args, list(frame.columns))
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", UserWarning)
            est = frame.akool.estimate(args.job, client=client, rates=_rates(args), progress=not args.quiet, **params)
        voice_check(est, args.job, params, _language_column(args), client, said)
    finally:
        client.close()
    say_warnings(said, _numbers(args))
    out = _write(est, args, _out(args, "estimate"))
    counts = _tell(est, "akool_", out, args)
    return NOT_DONE if counts.get("invalid") else OK


def _not_account(record: logging.LogRecord) -> bool:
    """The account's log record is left out: its warning is printed instead (once, on one line)."""
    return not getattr(record, "akool_account", False)


def run(args: Any) -> int:
    import akool_frames as af

    frame = _read(args)
    if _nothing(frame, args):
        return OK
    client = _client(args)
    params = _params(args, list(frame.columns))
    logger = logging.getLogger("akool_frames")
    logger.addFilter(_not_account)
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", UserWarning)
            done = frame.akool.run(args.job, client=client, rates=_rates(args), budget=args.budget,
                                   timeout=args.timeout, force=args.force, progress=not args.quiet, **params)
        voice_check(done, args.job, params, _language_column(args), client, said)
    finally:
        logger.removeFilter(_not_account)
        client.close()
    say_warnings(said, _numbers(args))  # an account stop names its cause and the setting to change
    out = _write(done, args, _out(args, "done"))
    counts = _tell(done, "akool_", out, args)
    stopped = any(issubclass(w.category, af.AccountWarning) for w in said)
    return OK if set(counts) == {"completed"} and not stopped else NOT_DONE


def status(args: Any) -> int:
    client = _client(args)
    entries = client.ledger.entries()
    client.close()
    print(f"ledger: {client.ledger_path}")
    if not entries:
        print("empty: nothing has been submitted with this ledger")
        return OK
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:  # oldest first: the last attempt of each key wins
        latest[entry["key"]] = entry
    table: dict[tuple[str, str], list[Any]] = {}
    for entry in latest.values():
        status_ = "unknown" if entry["status"] == "intent" else entry["status"]
        table.setdefault((entry["job"], status_), []).append(entry)
    width = max(len(job) for job, _ in table)
    print(f"{'job':<{width}}  {'status':<10} {'rows':>6}  {'credits est':>12}  {'charged':>12}")
    for (job, status_), rows in sorted(table.items()):
        est = _credits([r["credits_est"] for r in rows], "-")
        charged = _credits([r["credits"] for r in rows], "not reported")
        print(f"{job:<{width}}  {status_:<10} {len(rows):>6}  {est:>12}  {charged:>12}")
    pending = sum(len(rows) for (_, s), rows in table.items() if s not in ("completed",))
    return OK if not pending else NOT_DONE


def download(args: Any) -> int:
    frame = _read(args)
    if f"{args.prefix}url" not in frame.columns:
        msg = (f"{args.sheet_path} has no {args.prefix}url column: give the sheet 'run' wrote "
               "(or --prefix of its columns)")
        raise UsageError(msg)
    if _nothing(frame, args):
        return OK
    client = _client(args)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        files = frame.akool.download(args.dest, client=client, prefix=args.prefix, name=args.name,
                                     progress=not args.quiet)
    client.close()
    say_warnings(said, _numbers(args))
    out = _write(files, args, _out(args, "downloaded"))
    got = sum(1 for f in files[f"{args.prefix}file"].tolist() if to_py(f) is not None)
    print(f"{got} of {len(files)} files in {args.dest}; written: {out}")
    return OK if got == len(files) else NOT_DONE


def forecast(args: Any) -> int:
    import akool_frames as af

    _exists(args.sheet_path)
    fc = af.forecast(args.sheet_path, plan=args.plan, rates=_rates(args),
                     storage_options=_options_for(args, args.sheet_path))
    print(fc.summary())
    if args.html:
        with written(place(args.html, _options_for(args, args.html))) as page:  # a bucket's: put once written
            fc.to_html(page)
        print(f"written: {args.html}")
    if args.out:
        print(f"written: {_write(fc.table, args, args.out)}")
    return OK


# ---------------------------------------------------------------------------------------- sandbox
def serve(args: Any) -> int:
    from ..sandbox import Sandbox, serve_forever

    options = {"time_scale": args.time_scale, "rate_limit": args.rate_limit, "credits": args.credits,
               "concurrency_limit": args.concurrency_limit, "plan": args.plan}
    if args.api_key:
        options["api_key"] = args.api_key
    if bool(args.tls_cert) != bool(args.tls_key):
        msg = "--tls-cert and --tls-key go together.\n\nHint: give both PEM files, or neither."
        raise UsageError(msg)
    if args.tls_cert:
        options["tls"] = (args.tls_cert, args.tls_key)
    try:
        box = Sandbox(host=args.host, port=args.port, **options)
    except ValueError as exc:  # a bad option (a missing certificate file): a usage error, not a traceback
        raise UsageError(str(exc)) from exc

    def announce(url: str) -> None:
        box.url = url
        print(f"akool-frames sandbox listening on {url}  (Ctrl-C stops it)")
        print("Point a client at it with these environment variables (sandbox-only keys):")
        for name, value in box.env().items():
            print(f"  export {name}={value}")
        print(f"Inspect it: GET {url}/_sandbox/stats, {url}/_sandbox/log")
        sys.stdout.flush()

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding {args.host} exposes the sandbox beyond this machine", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the way to stop it
        serve_forever(box.app, args.host, args.port, on_start=announce)
    return OK
