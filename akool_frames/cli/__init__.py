"""The ``akool-frames`` command: run, estimate, forecast, status, download, the look-ups, the sandbox and the demo,
with messages in the terminal's terms."""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
