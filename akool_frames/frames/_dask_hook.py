"""``ddf.akool`` registered when Dask is there, without importing it: importing Dask costs about a second and most
sessions never use it.

``install()`` registers the accessor at once when ``dask.dataframe`` is imported already; otherwise it puts a finder
in front of ``sys.meta_path`` that lets the import system load ``dask.dataframe`` as it would, then imports ``_dask``
(which registers the accessor) right after the module has run, and takes itself out. Nothing is installed when Dask
is not installed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["install"]

_TARGET = "dask.dataframe"


def _register() -> None:
    try:
        from . import _dask  # noqa: F401  (imported for its effect: it registers ddf.akool)
    except ImportError:  # (Dask without its dataframe extra's dependencies: no accessor, as without Dask)
        return


class _Loader(importlib.abc.Loader):
    """The real loader of ``dask.dataframe``; once the module has run, the accessor is registered."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        module.__loader__ = module.__spec__.loader = self._loader  # type: ignore[union-attr]  # (as if never here)
        _register()

    def __getattr__(self, name: str) -> Any:  # (resource readers and the like: the real loader's)
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET:
            return None
        _uninstall()  # (once: the real finders find the real spec)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


_finder = _Finder()


def _uninstall() -> None:
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)


def install() -> None:
    """Register ``ddf.akool`` now if ``dask.dataframe`` is imported, else as soon as it is (see the module's doc)."""
    if _TARGET in sys.modules:
        _register()
    elif importlib.util.find_spec("dask") is not None and _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
