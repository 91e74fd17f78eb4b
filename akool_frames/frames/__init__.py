"""The frame side: parameters bound from columns (``af.col``), the verbs (estimate, submit, run, refresh,
download, delete), results joined back as columns, and the ``.akool`` accessors, registered here on pandas and
polars when they are installed."""

from __future__ import annotations

from ._bind import Col, col
from ._verbs import adownload, aestimate, arefresh, arun, asubmit, download, estimate, refresh, run, submit

__all__ = [
    "Col", "adownload", "aestimate", "arefresh", "arun", "asubmit", "col", "download", "estimate", "refresh", "run",
    "submit",
]

# Importing registers the accessors on whichever frame libraries are installed.
try:
    from . import _pandas  # noqa: F401
except ImportError:
    pass
try:
    from . import _polars  # noqa: F401
except ImportError:
    pass
