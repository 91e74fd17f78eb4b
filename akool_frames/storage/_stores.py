"""Object stores through fsspec: the filesystem of a URI (its package named when missing), and ranged reads.

fsspec and the store's package (s3fs, gcsfs, adlfs) are the ``storage`` extra; they are imported on first use.
Credentials come from the store's usual places (environment, profiles) or ``storage_options``; no message here
ever shows the options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._errors import ConfigError
from .._locations import STAGEABLE, protocol

__all__ = ["filesystem", "object_size", "read_range"]


def filesystem(uri: str, options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """(fsspec filesystem, path within it) for ``uri``; a ConfigError naming the package to install when missing."""
    scheme = protocol(uri) or "file"
    try:
        import fsspec
    except ImportError:
        msg = (f"{uri!r} needs fsspec to be read or written.\n\n"
               f'Hint: pip install "akool-frames[storage]" (fsspec and s3fs{_extra(scheme)}).')
        raise ConfigError(msg) from None
    try:
        return fsspec.core.url_to_fs(uri, **dict(options or {}))
    except ImportError:
        package = STAGEABLE.get(scheme, f"the fsspec backend for {scheme}://")
        msg = (f"{uri!r} needs {package} to reach {scheme}:// locations.\n\n"
               f'Hint: pip install {package} (the "storage" extra installs s3fs for s3://).')
        raise ConfigError(msg) from None
    except ValueError as exc:  # an unknown protocol
        msg = f"{uri!r}: {exc}.\n\nHint: give a local path, or a URI of a store fsspec knows (s3://, gs://, az://)."
        raise ConfigError(msg) from None


def _extra(scheme: str) -> str:
    package = STAGEABLE.get(scheme)
    return f"; {package} for {scheme}://" if package and package != "s3fs" else ""


def read_range(fs: Any, path: str, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of an object (a ranged GET on object stores)."""
    return bytes(fs.cat_file(path, start=start, end=end))


def _s3_head(fs: Any, path: str) -> int:
    bucket, key, _ = fs.split_path(path)
    return int(fs.call_s3("head_object", Bucket=bucket, Key=key)["ContentLength"])


# Where a store answers "is this object there, and how big" in one request: s3fs's info() follows a missing
# object's HEAD with a LIST (is it a folder?), a second request per new object, and LISTs are the dear ones.
_HEAD: dict[str, Callable[[Any, str], int]] = {"s3": _s3_head, "s3a": _s3_head}


def object_size(fs: Any, path: str) -> int | None:
    """The size of the object (or file) at ``path``, None when there is none (or a folder is there)."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    head = next((_HEAD[p] for p in protocols if p in _HEAD), None)
    try:
        if head is not None:
            return head(fs, path)
        info = fs.info(path)
    except FileNotFoundError:
        return None
    return int(info.get("size") or 0) if info.get("type", "file") == "file" else None
