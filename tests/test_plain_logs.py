"""Plain logs: with stderr piped to a file (CI, `2> run.log`), progress is plain lines, no escape codes
and no carriage-return rewrites, and the last line of each call says how it ended."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
import pandas as pd
import akool_frames as af

with af.Sandbox(time_scale=200) as sb:
    client = af.Client(**sb.client_options(), ledger=sys.argv[1] + "/ledger.sqlite")
    voice = af.voices(client=client)["_id"][0]
    df = pd.DataFrame({"line": [f"Line number {i}." for i in range(12)]})
    out = df.akool.run("tts", input_text=af.col("line"), voice_id=voice, client=client, progress=True)
    out.akool.download(sys.argv[1] + "/audio", client=client, progress=True)
    client.close()
"""


def test_progress_piped_to_a_file_is_plain_lines(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    with log.open("wb") as err:
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], stderr=err, stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=120, check=False)
    text = log.read_bytes().decode()
    assert done.returncode == 0, text
    assert "\x1b" not in text and "\r" not in text  # no escape codes, no rewrites of a line
    lines = text.splitlines()
    assert lines and all(line.startswith(("tts: ", "download: ")) for line in lines), text  # nothing but counts
    assert lines[0].startswith("tts: 0/12 rows submitted, 0/12 finished")
    ends = [line for line in lines if "12/12" in line]
    assert ends[0].startswith("tts: 12/12 rows submitted, 12/12 finished (12 completed); credits charged: ")
    assert ends[-1].startswith("download: 12/12 files downloaded")
