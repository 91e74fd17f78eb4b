"""Drill: canary keys searched for in everything a user sees or saves (issue 11).

    python drills/secrets_canary.py                  # about 8 s
    python drills/secrets_canary.py --keep canary/   # and copy the files it made there

A sandbox in this process with a recognisable key for every provider (``CANARY``: Akool's API key, which is
also its client secret, and client id; audiocleaner's key; Kling's access and secret keys), DEBUG logging of
httpx, httpcore, aiohttp, akool_frames and asyncio captured in a buffer, progress bars on. Then every output
a user could see or save: the CLI's ``run``, a ``run`` refused for a wrong key and ``status`` (their
printed output, the result csv); in this process, runs on every provider and both Akool auth modes (API key,
client id + secret), a ``follow="webhook"`` run and its receiver, reprs of the client, the sandbox and the
result frames, the text of the exception a refused key raises (traceback included), the ledger file's bytes
and ``af.ledger()``'s frame, an HTML report (and its repr), sheets written as csv and xlsx and read back;
and a notebook executed in a real kernel with nbclient and saved (cell sources blanked before the search:
the keys are given there; skipped with a note without nbclient, nbformat or ipykernel).
Printed: each place with the bytes searched and the canaries found in it, and checks that the search finds
things (known row texts in the result csv, the sheets and the ledger; log records; the refusal's code).
Target: 0 hits everywhere. The wrong key of the refused runs and the getToken tokens handed out are
searched too. ``tests/test_secrets_canary.py`` runs this drill's pieces.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

import akool_frames as af

CANARY = {"api_key": "CANARYakoolKEY0123456789abcdef01", "client_id": "CANARYclientID01",
          "audiocleaner_api_key": "CANARYcleanerKEY0123456789abcdef", "kling_access_key": "ak-CANARYklingAccess",
          "kling_secret_key": "CANARYklingSECRET0123456789abcdef"}
# The sandbox takes no client secret: its clientSecret is its API key (the docs), so the api_key canary is
# also what a client id + secret client sends to getToken.
REFUSED_KEY = CANARY["api_key"][::-1]  # a wrong key must not be echoed either
SEARCHED = {**CANARY, "refused api_key": REFUSED_KEY}  # and the getToken tokens, once handed out
LOGGERS = ("httpx", "httpcore", "aiohttp", "akool_frames", "asyncio")
VOICE = "6889b628662160e2caad5dbc"  # the first Akool voice of the sandbox

NOTEBOOK_CELLS = [
    ("import pandas as pd\nimport akool_frames as af\n"
     "sb = af.Sandbox(time_scale=200, **{keys!r}).start()\n"
     "client = af.Client(**sb.client_options(), ledger='ledger.sqlite')\nclient"),
    ("out = pd.DataFrame({{'text': ['Canary four.', '']}}).akool.run('tts', client=client, input_text=af.col('text'),\n"
     "                                                              voice_id='6889b628662160e2caad5dbc')\nout"),
    "af.ledger(client=client)",
    "af.report(out, client=client)",
    ("refused = af.Client(**{{**sb.client_options(), 'api_key': {reversed!r}}}, ledger='ledger.sqlite')\n"
     "pd.DataFrame({{'text': ['Canary five.']}}).akool.run('tts', client=refused, input_text=af.col('text'),\n"
     "                                                  voice_id='6889b628662160e2caad5dbc')"),
    "af.credits(client=refused)",  # raises: its traceback is saved
]


def _hits(text: str | bytes, secrets: dict[str, str] | None = None) -> list[str]:
    """The names of the secrets (default: ``CANARY``) whose value appears in ``text``."""
    found = text if isinstance(text, bytes) else text.encode()
    return [name for name, value in (CANARY if secrets is None else secrets).items() if value.encode() in found]


class _Records(logging.Handler):
    """Every record, as a user's handler could show it: formatted message, arguments, exception, stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.buffer = io.StringIO()
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        exc = logging.Formatter().formatException(record.exc_info) if record.exc_info else record.exc_text or ""
        self.names.add(record.name)
        self.buffer.write(f"{record.name} {record.levelname} {record.getMessage()} {record.args!r} {exc} "
                          f"{record.stack_info or ''}\n")


@contextlib.contextmanager
def debug_logs() -> Iterator[_Records]:
    """DEBUG records of ``LOGGERS`` captured while inside; their levels are put back after."""
    handler = _Records()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _exception_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + "\n" + str(exc)


def _frame_text(frame: Any) -> str:
    return repr(frame) + "\n" + frame.to_csv()  # what a notebook shows, and every cell


def cli_outputs(sb: af.Sandbox, folder: Path) -> tuple[dict[str, str], dict[str, bool]]:
    """``akool-frames run``, a run refused for a wrong key and ``status``, in processes pointed at ``sb`` by
    environment variables (ledger: ``folder/ledger.sqlite``): their output and the result csv."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))},
           **sb.env(), "AKOOL_FRAMES_LEDGER": str(folder / "ledger.sqlite")}
    pd.DataFrame({"id": ["001", "002"], "text": ["Canary one.", "Canary two."]}).to_csv(folder / "in.csv", index=False)
    # Rows of its own: rows the ledger holds already would be followed, and the wrong key never sent.
    pd.DataFrame({"id": ["003"], "text": ["Canary refused."]}).to_csv(folder / "in-refused.csv", index=False)
    cli = [sys.executable, "-m", "akool_frames.cli"]

    def tts(sheet: str, out: str) -> list[str]:
        return [*cli, "run", str(folder / sheet), "--job", "tts", "--map", "input_text=text",
                "--set", f"voice_id={VOICE}", "--out", str(folder / out)]

    run = subprocess.run(tts("in.csv", "out.csv"), env=env, capture_output=True, text=True, timeout=120, cwd=folder,
                         check=False)
    refused = subprocess.run(tts("in-refused.csv", "refused.csv"), env={**env, "AKOOL_API_KEY": REFUSED_KEY},
                             capture_output=True, text=True, timeout=120, cwd=folder, check=False)
    status = subprocess.run([*cli, "status", str(folder / "out.csv")], env=env, capture_output=True, text=True,
                            timeout=120, cwd=folder, check=False)
    texts = {"cli run": run.stdout + run.stderr, "cli refused run": refused.stdout + refused.stderr,
             "cli status": status.stdout + status.stderr}
    for place, name in (("result csv", "out.csv"), ("refused run's result csv", "refused.csv")):
        texts[place] = (folder / name).read_text(encoding="utf-8-sig") if (folder / name).exists() else ""
    checks = {
        "the processes were given the canary key": env["AKOOL_API_KEY"] == CANARY["api_key"],
        f"cli run exit 0 (got {run.returncode})": run.returncode == 0,
        f"cli refused run exit 1 (got {refused.returncode})": refused.returncode == 1,
        "result csv holds 'Canary one.'": "Canary one." in texts["result csv"],
        "refused run's result csv holds the refusal (1101)": "akool error 1101" in texts["refused run's result csv"],
    }
    return texts, checks


def client_outputs(sb: af.Sandbox, folder: Path) -> tuple[dict[str, str], dict[str, bool]]:
    """Runs in this process on every provider and both Akool auth modes, a webhook run, a refused key;
    the reprs, frames, exception, report, sheets and receiver they leave (ledger: ``folder/ledger.sqlite``)."""
    ledger = folder / "ledger.sqlite"
    options = sb.client_options()
    texts: dict[str, str] = {}
    with af.Client(**options, ledger=ledger) as client:
        out = pd.DataFrame({"text": ["Canary three."]}).akool.run(
            "tts", client=client, progress=True, follow="webhook", input_text=af.col("text"), voice_id=VOICE)
        texts["webhook receiver"] = repr(client.http.receiver.__dict__)
        texts["client repr"] = repr(client) + "\n" + str(client)
        texts["sandbox repr"] = repr(sb) + "\n" + repr(sb.config)
        names = pd.DataFrame({"text": ["Canary six."], "name": ["canary voice"]})
        cleaned = names.akool.run("audiocleaner.tts", client=client, progress=True, text=af.col("text"),
                                  voice_id=2072, emotion=0, speed=1, language="en")
        kling = names.akool.run("kling.custom_voice", client=client, progress=True, voice_name=af.col("name"),
                                voice_url="https://example.com/canary.mp3")
        report = af.report(out, client=client)
        report.to_html(folder / "report.html")
        texts["report html"] = (folder / "report.html").read_text()
        texts["report repr"] = repr(report)
        af.write_sheet(out, folder / "sheet.xlsx")
        af.write_sheet(out, folder / "sheet.csv")
        texts["sheet csv"] = (folder / "sheet.csv").read_text(encoding="utf-8-sig")
        texts["sheet xlsx"] = af.read_sheet(folder / "sheet.xlsx").to_csv()
        texts["af.ledger()"] = _frame_text(af.ledger(client=client))
    token_options = {k: v for k, v in options.items() if k != "api_key"}
    with af.Client(**token_options, client_secret=sb.client_secret, ledger=ledger) as tokened:
        by_token = pd.DataFrame({"text": ["Canary seven."]}).akool.run(
            "tts", client=tokened, progress=True, input_text=af.col("text"), voice_id=VOICE, speed=0.9)
        texts["client repr"] += "\n" + repr(tokened)
    with af.Client(**{**options, "api_key": REFUSED_KEY}, ledger=ledger) as refused:
        with warnings.catch_warnings(record=True) as said:  # the account stop's af.AccountWarning: searched too
            warnings.simplefilter("always", af.AccountWarning)
            rejected = pd.DataFrame({"text": ["Canary eight."]}).akool.run(
                "tts", client=refused, progress=True, input_text=af.col("text"), voice_id=VOICE)
        texts["refused run's warning"] = "\n".join(str(w.message) for w in said)
        texts["client repr"] += "\n" + repr(refused)
        try:
            af.credits(client=refused)
            texts["refused key exception"] = ""
        except af.AuthError as exc:
            texts["refused key exception"] = _exception_text(exc)
    texts["result frames"] = "\n".join(_frame_text(f) for f in (out, cleaned, kling, by_token, rejected))
    statuses = [str(f["akool_status"].iloc[0]) for f in (out, cleaned, kling, by_token, rejected)]
    checks = {
        f"runs completed on every provider and auth mode, the refused one rejected (got {statuses})":
            statuses == ["completed"] * 4 + ["rejected"],
        "sheet csv and sheet xlsx hold 'Canary three.'": all("Canary three." in texts[p] for p in ("sheet csv",
                                                                                                    "sheet xlsx")),
        "the refused key's exception names code 1101": "1101" in texts["refused key exception"],
        "the refused run warned with code 1101": "1101" in texts["refused run's warning"],
    }
    return texts, checks


def outputs(folder: Path) -> tuple[dict[str, bytes], dict[str, bool], dict[str, str]]:
    """Everything but the notebook: a sandbox with ``CANARY`` keys, the CLI's and this process's outputs,
    DEBUG logs and progress output, the ledger's bytes. Returns the places (name: bytes), the checks that
    the search finds things (name: passed), and the secrets to search for (name: value)."""
    stream = io.StringIO()
    with af.sandbox(time_scale=200, **CANARY) as sb, debug_logs() as logs:
        cli, cli_checks = cli_outputs(sb, folder)
        with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(stream):
            mine, my_checks = client_outputs(sb, folder)
        tokens = list(sb.state.tokens)
        checks = {"the sandbox holds the canary keys": all(getattr(sb, k) == v for k, v in CANARY.items()),
                  **cli_checks, **my_checks}
    places = {name: text.encode() for name, text in {**cli, **mine}.items()}
    places["debug logs"] = logs.buffer.getvalue().encode()
    places["progress output"] = stream.getvalue().encode()
    files = sorted(folder.glob("ledger.sqlite*"))
    places["ledger file"] = b"".join(p.read_bytes() for p in files)  # WAL and shared memory included
    checks.update({
        f"debug logs hold akool_frames.http records (loggers heard: {', '.join(sorted(logs.names))})":
            "akool_frames.http" in logs.names,
        "progress bars were drawn": b"tts" in places["progress output"],
        "ledger file holds 'Canary three.'": b"Canary three." in places["ledger file"],
        f"getToken handed out a token ({len(tokens)})": len(tokens) >= 1,
    })
    secrets = {**SEARCHED, **{f"getToken token {i + 1}": token for i, token in enumerate(tokens)}}
    return places, checks, secrets


def notebook(folder: Path) -> tuple[str, str, bool]:
    """``NOTEBOOK_CELLS`` executed in a real kernel (cwd ``folder``) and saved as ``folder/canary.ipynb``, as a
    user would (outputs, widget states, a traceback). Returns the saved file's text, the text searched (the
    same notebook with its cells' sources blanked: the keys are given there) and whether a cell raised."""
    import nbclient
    import nbformat

    cells = [c.format(keys=CANARY, reversed=REFUSED_KEY) for c in NOTEBOOK_CELLS]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, store_widget_state=True,
                            resources={"metadata": {"path": str(folder)}}).execute()
    saved = folder / "canary.ipynb"
    nbformat.write(nb, saved)
    raised = any(o.get("output_type") == "error" for cell in nb.cells for o in cell.get("outputs", []))
    for cell in nb.cells:
        cell.source = ""
    return saved.read_text(), nbformat.writes(nb), raised


def drill(folder: Path) -> tuple[dict[str, bytes], dict[str, bool], dict[str, str], str]:
    """Every place searched; also a note when the notebook was skipped."""
    places, checks, secrets = outputs(folder)
    try:
        import ipykernel  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as exc:
        return places, checks, secrets, f"notebook skipped: {exc} (pip install nbclient nbformat ipykernel)"
    (folder / "notebook").mkdir()
    saved, searched, raised = notebook(folder / "notebook")
    places["saved notebook"] = searched.encode()
    files = sorted((folder / "notebook").glob("ledger.sqlite*"))
    places["notebook ledger file"] = b"".join(p.read_bytes() for p in files)
    checks["saved notebook holds 'Canary four.' and a traceback"] = "Canary four." in saved and raised
    return places, checks, secrets, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="copy the files made (and each place's text, under places/) to DIR")
    args = parser.parse_args()
    print(f"secrets drill: canaries {', '.join(CANARY)} (api_key is also the client secret), the refused key, "
          "getToken tokens")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="akool-secrets-") as tmp:
        folder = Path(tmp)
        places, checks, secrets, note = drill(folder)
        hits = {place: _hits(text, secrets) for place, text in places.items()}
        if args.keep is not None:
            (folder / "places").mkdir()
            for place, text in places.items():
                (folder / "places" / (re.sub(r"[^a-z0-9]+", "_", place).strip("_") + ".txt")).write_bytes(text)
            shutil.copytree(folder, args.keep, dirs_exist_ok=True)
    width = max(len(p) for p in places)
    print(f"\n  {'place':<{width}}  {'bytes searched':>14}  hits")
    for place, text in places.items():
        print(f"  {place:<{width}}  {len(text):>14,}  {', '.join(hits[place]) or 0}")
    if note:
        print(f"  {note}")
    print("\n  the search finds things:")
    for check, passed in checks.items():
        print(f"    {'ok ' if passed else 'NO '} {check}")
    found = sum(len(h) for h in hits.values())
    empty = [p for p, text in places.items() if not text]
    if empty:
        print(f"  places with nothing to search: {', '.join(empty)}")
    print(f"\n  {time.monotonic() - began:.1f} s" + (f"; files kept in {args.keep}" if args.keep else ""))
    good = found == 0 and all(checks.values()) and not empty
    where = "; ".join(f"{p}: {', '.join(h)}" for p, h in hits.items() if h)
    print(f"  target (0 hits in {len(places)} places, every check ok):", "met" if good else
          f"NOT MET ({found} hits{': ' + where if where else ''})")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
