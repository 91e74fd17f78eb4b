"""Every README code block runs as a reader would run it, as written.

Each block runs in a new empty folder, as a separate process (``python FILE`` for ```python, ``bash -e FILE``
for ```bash; the file itself lives outside that folder), with an environment of PATH (the venv's bin first)
and a temporary HOME, nothing else: no AKOOL_* variables, no ledger path, no sandbox the test started. What a
block needs, it starts or reads itself (its own sandbox, the sample sheet the package ships). Each must exit 0
and print the one fact ``FACTS`` names for it. Blocks that install are not run here, for the reason ``SKIP``
gives.

Where this machine lets the test make a network namespace (root, or unprivileged user namespaces) and
``ip`` can bring its loopback up, each block runs inside one that has loopback and nothing else, so a block
that reached for https://example.com/... would get no answer: the README's promise that its examples send
traffic to this machine only is then enforced, not assumed. ``test_blocks_run_with_loopback_only`` says
(skips, with the reason) when it is not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent  # the venv's bin (not resolved: a venv's python is a symlink)

# The one fact each block's printed output must show, by "heading #n" (the n-th block under that heading).
FACTS = {
    "Use #1": ".mp4",                     # the chain ran to the end: videos/<job id>.mp4 downloaded
    "Faces, several videos, extra columns, clean-up #1": "legacy voices",
    "What will it cost? (forecasts, reports, calibration) #1": "talking_photo",  # counted, not priced
    "Sheets, rows × languages, named downloads (the localization path) #1": "audio/00123_es.mp3",
    "More than one machine #1": "not sent: campaign 'spring' has",
    "Local files and buckets as inputs (`staging=`) #1": "my-bucket/akool-in/",  # staged, content-addressed
    "Results to a bucket, as they complete (`save_to=`) #1": "s3://my-bucket/audio/00123.mp3",
    "The command line #1": "00124_fr.mp3",  # from ls: named by the sheet's columns
    "Following jobs: polls or webhooks #1": "completed",
    "Dask #1": "completed",  # a lazy run computed on a cluster whose workers live in this process
    "The sandbox #1": "duplicate_creates",
}
# Blocks not run here, with the reason.
SKIP = {
    "Two commands (a fresh machine with Python 3.11 and pip) #1":
        "installs the package (pip install) then runs the demo: tests/test_demo.py runs the demo",
    "Two commands (a fresh machine with Python 3.11 and pip) #2":
        "installs the package (pip install) then runs the tests: CI runs exactly this command (.ci/run)",
}


def _blocks() -> dict[str, tuple[str, str]]:
    """Each fenced block as (language, code), by the heading above it: "Use #1"."""
    found: dict[str, tuple[str, str]] = {}
    heading, lang, code, count = "", "", None, 0
    for line in README.read_text(encoding="utf-8").splitlines():
        if code is None and line.startswith("#"):
            heading, count = line.lstrip("# ").strip(), 0
        elif code is None and line.startswith("```") and line.strip() != "```":
            lang, code = line.strip()[3:], []
        elif code is not None and line.strip() == "```":
            count += 1
            found[f"{heading} #{count}"] = (lang, "\n".join(code) + "\n")
            code = None
        elif code is not None:
            code.append(line)
    return found


BLOCKS = _blocks()


@cache
def _loopback_only() -> tuple[list[str], str]:
    """A command prefix running its command in a network namespace with only loopback (up), and why not if not."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not (unshare and ip):
        return [], "no unshare or ip command on this machine"
    why = ""
    for user in ([], ["--map-root-user"]):
        prefix = [unshare, "--net", *user, "sh", "-c", f'{ip} link set lo up && exec "$@"', "sh"]
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = str(exc)
            continue
        if done.returncode == 0:
            return prefix, ""
        why = done.stderr.strip() or f"exit {done.returncode}"
    return [], f"no network namespace can be made here ({why})"


def _env(home: Path) -> dict[str, str]:
    return {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}", "HOME": str(home)}


def test_every_block_is_run_or_skipped_with_a_reason() -> None:
    assert {"Use #1", "The sandbox #1", "The command line #1"} <= set(BLOCKS)
    assert set(FACTS) | set(SKIP) == set(BLOCKS), "each README block needs a fact in FACTS or a reason in SKIP"
    assert not set(FACTS) & set(SKIP)
    assert {lang for lang, _ in BLOCKS.values()} <= {"python", "bash"}


def test_blocks_run_with_loopback_only() -> None:
    """The guard the block runs use, where it can be had: inside it loopback answers and nothing else does."""
    prefix, why = _loopback_only()
    if not prefix:
        pytest.skip(f"the README blocks ran without the loopback-only guard: {why}")
    probe = ("import socket\n"
             "s = socket.create_server(('127.0.0.1', 0)); socket.create_connection(s.getsockname()).close()\n"
             "try:\n    socket.create_connection(('192.0.2.1', 443), timeout=5)\n"
             "except OSError:\n    print('outside unreachable')\n")
    done = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "outside unreachable" in done.stdout


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(BLOCKS))
def test_readme_block_runs_as_written(name: str, tmp_path: Path) -> None:
    if name in SKIP:
        pytest.skip(SKIP[name])
    lang, code = BLOCKS[name]
    script = tmp_path / "block" / ("block.py" if lang == "python" else "block.sh")
    script.parent.mkdir()
    script.write_text(code, encoding="utf-8")
    folder, home = tmp_path / "folder", tmp_path / "home"
    folder.mkdir()
    home.mkdir()
    command = [str(BIN / "python"), str(script)] if lang == "python" else ["bash", "-e", str(script)]
    prefix, _ = _loopback_only()
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    # Output to files, not pipes, and in a session of its own: what a block leaves running (a sandbox it put in
    # the background and did not stop) cannot hold the test up, and is stopped after the block.
    with out.open("w") as stdout, err.open("w") as stderr:
        block = subprocess.Popen([*prefix, *command], cwd=folder, env=_env(home), stdout=stdout, stderr=stderr,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = block.wait(timeout=100)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(block.pid, signal.SIGKILL)
    printed, errors = out.read_text(errors="replace"), err.read_text(errors="replace")
    said = f"--- stdout\n{printed[-3000:]}\n--- stderr\n{errors[-3000:]}"
    assert code == 0, f"README block {name!r} exited {code}\n{said}"
    assert FACTS[name] in printed, f"README block {name!r} did not print {FACTS[name]!r}\n{said}"
