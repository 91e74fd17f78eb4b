"""A separate process for test_kill.py: run TTS over a CSV of scripts against a sandbox, write the result frame.

    python kill_worker.py OPTIONS_JSON SCRIPTS_CSV LEDGER OUT_CSV LIB

OPTIONS_JSON holds ``af.Client`` keyword arguments (``sb.client_options()``, from the test process that
runs the sandbox); LIB is "pandas" or "polars". The test SIGKILLs it halfway through and runs it again.
"""

from __future__ import annotations

import json
import sys

import akool_frames as af

VOICE = "6889b628662160e2caad5dbc"  # the first Akool voice of the sandbox


def main(options_json: str, scripts: str, ledger: str, out: str, lib: str) -> None:
    client = af.Client(**json.loads(options_json), ledger=ledger, max_concurrency=8)
    if lib == "pandas":
        import pandas as pd

        df = pd.read_csv(scripts)
    else:
        import polars as pl

        df = pl.read_csv(scripts)
    result = df.akool.run("tts", client=client, progress=False, timeout=120, input_text=af.col("script"),
                          voice_id=VOICE)
    if lib == "pandas":
        result.to_csv(out, index=False)
    else:
        result.write_csv(out)
    client.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
