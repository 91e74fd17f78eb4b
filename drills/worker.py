"""A separate process for the drills and the tests that kill or race runs: one ``df.akool.run`` of TTS over a
CSV of scripts against a sandbox, on a given ledger, the result frame written as CSV.

    python drills/worker.py OPTIONS_JSON SCRIPTS_CSV LEDGER OUT_CSV [pandas|polars]

LEDGER is an SQLite file, or ``-`` for the ledger ``AKOOL_FRAMES_LEDGER`` names (a ``postgresql://`` URL is given
that way, so that its password is not on the command line).
OPTIONS_JSON holds ``af.Client`` keyword arguments (``sb.client_options()`` of the process running the
sandbox). With ``DRILL_GO`` set to a path, it imports everything first and starts the run only once that
file exists, so that several workers start at the same moment. It prints nothing on success; what goes
wrong ends in its output (the drills keep it).
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import time
from pathlib import Path

import akool_frames as af

VOICE = "6889b628662160e2caad5dbc"  # the first Akool voice of the sandbox


def _dump_tasks(*_: object) -> None:
    import asyncio

    from akool_frames._loop import get_loop

    for task in asyncio.all_tasks(get_loop()):
        task.print_stack(file=sys.stdout)
    sys.stdout.flush()


def main(options_json: str, scripts: str, ledger: str, out: str, lib: str = "pandas") -> None:
    faulthandler.register(signal.SIGUSR2, all_threads=True)  # a drill that finds it stuck asks where it is:
    signal.signal(signal.SIGUSR1, _dump_tasks)               # the threads (USR2) and the loop's tasks (USR1)
    client = af.Client(**json.loads(options_json), ledger=None if ledger == "-" else ledger, max_concurrency=8)
    if lib == "pandas":
        import pandas as pd

        df = pd.read_csv(scripts)
    else:
        import polars as pl

        df = pl.read_csv(scripts)
    go = os.environ.get("DRILL_GO")
    while go and not Path(go).exists():
        time.sleep(0.005)
    timeout = float(os.environ.get("DRILL_TIMEOUT", "180"))  # the soak drill's runs are long
    result = df.akool.run("tts", client=client, progress=False, timeout=timeout, input_text=af.col("script"),
                          voice_id=VOICE)
    if lib == "pandas":
        result.to_csv(out, index=False)
    else:
        result.write_csv(out)
    client.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
