"""A local folder as a ``typing.Storage``: locations are paths, files are written under a temporary name and
renamed once complete (so a file under its final name is whole)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

__all__ = ["LocalFolder"]


class LocalFolder:
    """Files under ``root`` (made on first write). A file shows while it is written: not ``atomic``."""

    atomic = False

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.address = str(self.root.absolute())  # the folder as the ledger records it (wherever the call ran)

    def __repr__(self) -> str:
        return f"LocalFolder({str(self.root)!r})"

    def join(self, *parts: str) -> str:
        return str(self.root.joinpath(*parts))

    def size(self, location: str) -> int | None:
        try:
            return Path(location).stat().st_size
        except FileNotFoundError:
            return None

    def named(self, stem: str) -> list[str]:
        """The files called ``stem`` with any extension (``stem.mp3``, ``stem.mp4``), but no temporary one."""
        return sorted(str(p) for p in self.root.glob(f"{_escape(stem)}.*") if p.suffix != ".part")

    def open_write(self, location: str) -> BinaryIO:
        self.root.mkdir(parents=True, exist_ok=True)
        return open(location, "wb")  # the caller closes it (streamed chunk by chunk)

    def abandon(self, handle: BinaryIO, location: str) -> None:
        with contextlib.suppress(OSError):
            handle.close()
        self.remove(location)

    def rename(self, source: str, dest: str) -> None:
        Path(source).replace(dest)

    def remove(self, location: str) -> None:
        Path(location).unlink(missing_ok=True)


def _escape(stem: str) -> str:
    """``stem`` as a glob pattern matching only itself."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in stem)
