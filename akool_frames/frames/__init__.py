"""The frame side: parameters bound from columns (``af.col``), the verbs (estimate, submit, run, refresh,
download, delete), results joined back as columns, and the ``.akool`` accessors, registered here on pandas and
polars when they are installed, and on Dask DataFrames once ``dask.dataframe`` is imported (``_dask_hook``)."""

from __future__ import annotations

import contextlib

from ._bind import Col, col
from ._dask_hook import install as _install_dask
from ._verbs import adownload, aestimate, arefresh, arun, asubmit, download, estimate, refresh, run, submit

__all__ = [
    "Col", "adownload", "aestimate", "arefresh", "arun", "asubmit", "col", "download", "estimate", "refresh", "run",
    "submit",
]

# Importing registers the accessors on whichever frame libraries are installed (ImportError: not installed).
with contextlib.suppress(ImportError):
    from . import _pandas  # noqa: F401  (imported for its effect: it registers df.akool on pandas)
with contextlib.suppress(ImportError):
    from . import _polars  # noqa: F401  (imported for its effect: it registers df.akool on polars)
_install_dask()  # ddf.akool: now if dask.dataframe is imported, else when it is (Dask is never imported here)
