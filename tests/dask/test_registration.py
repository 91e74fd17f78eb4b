"""``ddf.akool`` exists whenever Dask is imported, before or after akool_frames, and importing akool_frames alone never
imports Dask (about a second that most sessions do not need). Each case runs in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("dask.dataframe")

FRAME = "import pandas as pd; ddf = dd.from_pandas(pd.DataFrame({'a': [1, 2]}), npartitions=1)\n"


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_akool_frames_does_not_import_dask() -> None:
    out = _python("import sys\nimport akool_frames\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
                  "('dask', 'distributed')))\n")
    assert out.strip() == "[]"


def test_the_accessor_is_there_when_dask_is_imported_after_akool_frames() -> None:
    out = _python("import akool_frames\nimport dask.dataframe as dd\n" + FRAME + "print(type(ddf.akool).__name__)\n"
                  "import sys; print(sys.modules['dask.dataframe'].__loader__.__class__.__module__)\n")
    assert out.split() == ["AkoolDaskFrame", "_frozen_importlib_external"]  # (the module's own loader, as ever)


def test_the_accessor_is_there_when_dask_is_imported_first() -> None:
    out = _python("import dask.dataframe as dd\nimport akool_frames\n" + FRAME + "print(type(ddf.akool).__name__)\n")
    assert out.strip() == "AkoolDaskFrame"
