"""A local folder as a ``typing.Storage``: locations are paths, files are written under a temporary name and
renamed once complete (so a file under its final name is whole)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

__all__ = ["LocalFolder"]


class LocalFolder:
    """Files under ``root`` (made on first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

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
        return sorted(str(p) for p in self.root.glob(f"{stem}.*") if p.suffix != ".part")

    def open_write(self, location: str) -> BinaryIO:
        self.root.mkdir(parents=True, exist_ok=True)
        return open(location, "wb")  # the caller closes it (streamed chunk by chunk)

    def rename(self, source: str, dest: str) -> None:
        Path(source).replace(dest)

    def remove(self, location: str) -> None:
        Path(location).unlink(missing_ok=True)
