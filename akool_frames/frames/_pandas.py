"""``df.akool`` on pandas DataFrames: a thin shell over ``akool_frames._frames``.

Importing this module registers the accessor; it raises ImportError when pandas is not installed.

Example:
    >>> import akool_frames as af
    >>> out = df.akool.run("tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from ._accessor import FrameAccessor

__all__ = ["AkoolAccessor"]


@pd.api.extensions.register_dataframe_accessor("akool")
class AkoolAccessor(FrameAccessor["pd.DataFrame"]):
    """Akool jobs from the rows of a pandas DataFrame. Every method returns a new frame (same index and
    row order, input untouched) with the ``akool_`` result columns added or replaced.

    Parameters are the job's documented fields: a constant, ``af.col("column")`` or a Series aligned by
    index. Options (keyword-only) are each
    method's own named parameters (``help(df.akool.run)``); the verbs are ``FrameAccessor``'s.
    """
