"""The README's Python examples run as written: each ```python block, in a fresh folder, against a sandbox.

The "Use" block reads ``scripts.csv`` (columns script, voice, portrait) and makes a default ``af.Client()``
from the environment: here the environment points at a sandbox and the folder holds such a file, as a
user's would. Each block must end without an error, and leave what it says it leaves.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import akool_frames as af

README = Path(__file__).resolve().parents[1] / "README.md"
VOICE = "6889b628662160e2caad5dbc"


def _blocks() -> dict[str, str]:
    """Each ```python block by the heading above it ("Use #1")."""
    found: dict[str, str] = {}
    heading, code, count = "", None, 0
    for line in README.read_text(encoding="utf-8").splitlines():
        if code is None and line.startswith("#"):
            heading, count = line.lstrip("# ").strip(), 0
        elif code is None and line.strip() == "```python":
            code = []
        elif code is not None and line.strip() == "```":
            count += 1
            found[f"{heading} #{count}"] = "\n".join(code)
            code = None
        elif code is not None:
            code.append(line)
    return found


BLOCKS = _blocks()


def test_the_readme_has_its_examples() -> None:
    assert {"Use #1", "The sandbox #1"} <= set(BLOCKS)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_readme_example_runs(name: str, sb: af.Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for variable, value in sb.env().items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("AKOOL_FRAMES_LEDGER", raising=False)
    pd.DataFrame({"script": ["Good morning, everyone.", "Thanks for watching."], "voice": VOICE,
                  "portrait": "https://example.com/portrait.png"}).to_csv("scripts.csv", index=False)
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        exec(compile(BLOCKS[name], f"README.md: {name}", "exec"), namespace)  # noqa: S102
    finally:
        made = af._client._default  # noqa: SLF001  # the default client a block set or made from the environment
        af.set_default_client(None)  # the next test starts without one
        for value in [*namespace.values(), made]:  # what a user's kernel would close on exit
            if isinstance(value, af.Client):
                value.close()
    if name == "Use #1":
        assert sorted(p.suffix for p in (tmp_path / "videos").iterdir()) == [".mp4", ".mp4"]
        assert (tmp_path / ".akool_frames" / "ledger.sqlite").exists()  # the default path, in the folder
        assert sb.stats()["duplicate_creates"] == 0
    if name == "The sandbox #1":
        printed = capsys.readouterr().out
        assert "1000" in printed and "duplicate_creates" in printed
