"""``akool-frames``: the terminal user's twin of the Python API, on csv, xlsx and parquet files, here or in a
bucket (s3://bucket/lines.xlsx: the storage extra).

    akool-frames estimate scripts.xlsx --job tts --map input_text=script --set voice_id=V --out est.xlsx
    akool-frames run      scripts.xlsx --job tts --map input_text=script --map voice_id=voice --out done.xlsx
    akool-frames status                    # what the ledger holds, by job and status
    akool-frames download done.xlsx --dest audio/ --name "{script_id}_{language}"
    akool-frames forecast campaign.xlsx --html forecast.html
    akool-frames voices --language ja      # voice ids for --set voice_id=...
    akool-frames jobs | describe tts       # the jobs; a job's parameters
    akool-frames demo | sandbox

Exit codes: 0 all done, 1 some rows not completed, 2 bad usage. Mistakes are one line, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _commands as commands
from . import _demo as _cli_demo
from . import _lookups as _cli_lookups

__all__ = ["main"]

EXAMPLES = {
    "estimate": """example:
  akool-frames estimate scripts.xlsx --job tts --map input_text=script --set voice_id=6889b628662160e2caad5dbc
  # one row per script x language first:
  akool-frames estimate scripts.xlsx --explode target_languages=language --job tts \\
      --map input_text=script --map language_code=language --set voice_id=6889b628662160e2caad5dbc""",
    "run": """example:
  akool-frames run scripts.xlsx --job tts --map input_text=script --map voice_id=voice --out done.xlsx --budget 50
  # the same command again resumes: rows already submitted are followed, not paid twice
  # a sheet in a bucket (pip install "akool-frames[storage]"; credentials from the environment):
  akool-frames run s3://bucket/lines.xlsx --job tts --map input_text=script --map voice_id=voice \\
      --out s3://bucket/done.xlsx""",
    "status": """example:
  akool-frames status --ledger ./.akool_frames/ledger.sqlite""",
    "download": """example:
  akool-frames download done.xlsx --dest audio/ --name "{script_id}_{language}"
  # files already downloaded are kept; result links expire 7 days after the job completed""",
    "forecast": """example:
  akool-frames forecast campaign.csv --rates talking_photo=60 --html forecast.html
  # a campaign: one line per kind of work: job, count, duration_s, characters, resolution ...""",
    "voices": """example:
  akool-frames voices --language ja --gender female
  akool-frames run lines.xlsx --job tts --map input_text=script --set voice_id=ID --set language_code=ja
  # --legacy: the voices legacy_tts takes; --cloned: your own""",
    "jobs": """example:
  akool-frames jobs
  akool-frames describe talking_photo     # one job's parameters""",
    "describe": """example:
  akool-frames describe tts
  akool-frames estimate scripts.xlsx --job tts --map input_text=script --set voice_id=ID""",
    "demo": """example:
  akool-frames demo --rows 12""",
    "sandbox": """example:
  akool-frames sandbox --port 8765      # then, in another terminal, the export lines it prints""",
}


def _sheet_command(sub: Any, name: str, help_: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, description=help_, epilog=EXAMPLES[name],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sheet_path", metavar="SHEET", help="a .xlsx, .xls, .ods, .csv or .parquet file, or its URI "
                   "(s3://bucket/lines.xlsx)")
    p.add_argument("--sheet", default=None, help="the workbook's sheet (name); default: the first")
    p.add_argument("--out", default=None, help="where to write the result (.xlsx, .csv or .parquet; a file or a URI)")
    _storage_option(p)
    p.add_argument("--ledger", default=None, help="the ledger file (default: AKOOL_FRAMES_LEDGER or ./.akool_frames/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _storage_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage-option", action="append", metavar="KEY=VALUE",
                   help="an option of the store's filesystem for s3:// (or gs://, az://) paths, e.g. profile=work; "
                        "credentials come from the environment")


def _job_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--job", required=True, help="the job, e.g. tts, talking_photo, video_translation")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="a field taken from a column, per row")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="a field with one value for every row")
    p.add_argument("--explode", metavar="COLUMN[=INTO]", help="one row per language listed in COLUMN (e.g. es,fr)")
    p.add_argument("--plan", choices=["pro", "max", "business"], help="the pricing plan (default: pro)")
    p.add_argument("--rates", help="rates for jobs the docs do not price: job=credits,..., calibrated, or a file")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="akool-frames", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    est = _sheet_command(sub, "estimate", "validate and price every row of a sheet; nothing is sent")
    _job_options(est)
    run = _sheet_command(sub, "run", "submit every row and follow the jobs to the end; write the results")
    _job_options(run)
    run.add_argument("--budget", type=float, help="refuse before sending anything if the estimate is over it")
    run.add_argument("--timeout", type=float, help="seconds to follow the jobs at most")
    run.add_argument("--force", action="store_true", help="submit again rows the ledger already has")
    down = _sheet_command(sub, "download", "fetch the result files of a sheet that 'run' wrote")
    down.add_argument("--dest", required=True, help="the folder to write the files to")
    down.add_argument("--name", default=None, help='file names from columns, e.g. "{script_id}_{language}"')
    down.add_argument("--prefix", default="akool_", help="the result columns' prefix")
    st = sub.add_parser("status", help="what the ledger holds, by job and status", epilog=EXAMPLES["status"],
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("--ledger", default=None, help="the ledger file")
    fc = sub.add_parser("forecast", help="what a campaign sheet will cost (one line per kind of work)",
                        epilog=EXAMPLES["forecast"], formatter_class=argparse.RawDescriptionHelpFormatter)
    fc.add_argument("sheet_path", metavar="SHEET", help="a campaign: job, count, duration_s, characters, ...")
    fc.add_argument("--plan", choices=["pro", "max", "business"], help="the pricing plan (default: pro)")
    fc.add_argument("--rates", help="rates for jobs the docs do not price: job=credits,..., calibrated, or a file")
    fc.add_argument("--html", help="write the report (tables and chart) to this .html file (or URI)")
    fc.add_argument("--out", help="write the forecast table to this .xlsx, .csv or .parquet file (or URI)")
    _storage_option(fc)
    voices = sub.add_parser("voices", help="the voices a job takes: id, name, language, gender",
                            epilog=EXAMPLES["voices"], formatter_class=argparse.RawDescriptionHelpFormatter)
    voices.add_argument("--language", help="a language code or name: ja, en-US, Japanese")
    voices.add_argument("--gender", help="female or male")
    voices.add_argument("--provider", default="akool", choices=["akool", "audiocleaner", "kling"],
                        help="whose voices (default: akool's VoiceLab, for tts)")
    voices.add_argument("--legacy", action="store_true", help="the v3 voice list (legacy_tts)")
    voices.add_argument("--cloned", action="store_true", help="your own voices, not Akool's")
    sub.add_parser("jobs", help="the jobs: provider, what they make, how they are priced",
                   epilog=EXAMPLES["jobs"], formatter_class=argparse.RawDescriptionHelpFormatter)
    desc = sub.add_parser("describe", help="a job's parameters: type, required, allowed values, limits",
                          epilog=EXAMPLES["describe"], formatter_class=argparse.RawDescriptionHelpFormatter)
    desc.add_argument("job", metavar="JOB", help="a job, e.g. tts (akool-frames jobs lists them)")
    demo = sub.add_parser("demo", help="run tts then talking_photo over sample scripts on a local sandbox",
                          epilog=EXAMPLES["demo"], formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--out", default="results/demo_results.csv", help="where to write the result table")
    demo.add_argument("--rows", type=int, default=None, help="only the first N scripts")
    demo.add_argument("--time-scale", type=float, default=20.0, help="sandbox seconds per real second")
    box = sub.add_parser("sandbox", help="run the sandbox in the foreground", epilog=EXAMPLES["sandbox"],
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    box.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless you mean it)")
    box.add_argument("--port", type=int, default=8765)
    box.add_argument("--time-scale", type=float, default=20.0)
    box.add_argument("--rate-limit", type=float, default=None, help="requests per second per account")
    box.add_argument("--concurrency-limit", type=int, default=None, help="in-flight requests per account")
    box.add_argument("--credits", type=float, default=1_000_000.0)
    box.add_argument("--plan", default="pro", choices=["pro", "max", "business"])
    box.add_argument("--api-key", default=None, help="accept this key (16, 24 or 32 characters)")
    box.add_argument("--tls-cert", metavar="FILE", default=None, help="serve HTTPS with this PEM certificate")
    box.add_argument("--tls-key", metavar="FILE", default=None, help="the certificate's PEM private key")
    return top


RUN = {"estimate": commands.estimate, "run": commands.run, "status": commands.status,
       "download": commands.download, "forecast": commands.forecast, "voices": _cli_lookups.voices,
       "jobs": _cli_lookups.jobs, "describe": _cli_lookups.describe, "demo": _cli_demo.demo,
       "sandbox": commands.serve}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)  # argparse prints usage errors itself, with exit code 2
    from .._errors import AkoolError

    try:
        return RUN[args.command](args)
    except (commands.UsageError, AkoolError, ImportError, OSError) as exc:
        from ._text import one_line  # the library's hints, in the syntax of a command line

        print(f"akool-frames {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return commands.USAGE
    except KeyboardInterrupt:
        print(f"akool-frames {args.command}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
