"""Where files live: today a local folder (``LocalFolder``); the engine and the frames ask a ``typing.Storage``,
so object stores plug in behind the same protocol."""

from __future__ import annotations

from ._local import LocalFolder

__all__ = ["LocalFolder"]
