"""Where files live: local folders and object stores (fsspec URIs). Results are written through a
``typing.Storage``: a local folder (``LocalFolder``) or any fsspec filesystem (``FsspecFolder``: ``s3://``,
``gs://``, ``az://`` ...), ``storage_for(dest, options)`` giving the right one for a folder or a URI; media inputs
that are not URLs are staged and presigned (``Stager``)."""

from __future__ import annotations

from ._fsspec import OBJECT_STORES, FsspecFolder, is_uri, storage_for
from ._local import LocalFolder
from ._staging import NO_STAGING, Source, Stager
from ._stores import filesystem, read_range

__all__ = [
    "NO_STAGING", "OBJECT_STORES", "FsspecFolder", "LocalFolder", "Source", "Stager", "filesystem", "is_uri",
    "read_range", "storage_for",
]
