"""Route families, one module per product page. Importing this package registers them all."""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["task_object"]

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

from .kling import task_object  # noqa: E402  (the core posts Kling's callbacks with it)
