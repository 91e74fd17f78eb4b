"""Reading a value at a dotted path of a JSON answer or body ("data.result[0].preview"): a leaf module, used by
the job catalog, the price rules and the engine alike."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["get_path"]

_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def get_path(obj: Any, path: str, default: Any = None) -> Any:
    """``get_path(answer, "data.result[0].preview")``; ``default`` when any step is missing."""
    for name, index in _PATH.findall(path):
        try:
            obj = obj[int(index)] if index else obj[name]
        except (KeyError, IndexError, TypeError):
            return default
        if obj is None:
            return default
    return obj
