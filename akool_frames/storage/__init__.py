"""Where files live: local folders and object stores (fsspec URIs). Results are written through a
``typing.Storage`` (``LocalFolder`` for a folder); media inputs that are not URLs are staged and presigned
(``Stager``)."""

from __future__ import annotations

from ._local import LocalFolder
from ._staging import NO_STAGING, Source, Stager
from ._stores import filesystem, read_range

__all__ = ["NO_STAGING", "LocalFolder", "Source", "Stager", "filesystem", "read_range"]
