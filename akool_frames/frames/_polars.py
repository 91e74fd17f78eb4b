"""``df.akool`` on polars DataFrames and LazyFrames: thin shells over ``akool_frames._frames``.

Importing this module registers both namespaces; it raises ImportError when polars is not installed.
On a LazyFrame, ``estimate`` stays lazy (pure pricing, no network inside polars); ``submit``, ``run``,
``refresh`` and ``download`` collect once, explicitly, and return a DataFrame.

Example:
    >>> import akool_frames as af
    >>> out = df.akool.run("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
"""

from __future__ import annotations

import polars as pl

from ._accessor import FrameAccessor

__all__ = ["AkoolFrame", "AkoolLazyFrame"]


@pl.api.register_dataframe_namespace("akool")
class AkoolFrame(FrameAccessor[pl.DataFrame]):
    """Akool jobs from the rows of a polars DataFrame. Every method returns a new DataFrame (same row
    order, input untouched) with the ``akool_`` result columns added or replaced.

    Parameters are the job's documented fields: a constant, ``af.col("c")`` / ``pl.col("c")``, or a Series
    of one value per row. Options (keyword-only) are each method's own
    named parameters (``help(df.akool.run)``); the verbs are ``FrameAccessor``'s.
    """


@pl.api.register_lazyframe_namespace("akool")
class AkoolLazyFrame(FrameAccessor[pl.LazyFrame]):
    """Akool jobs from a polars LazyFrame: ``estimate`` stays lazy; the other verbs collect once, then
    behave as on a DataFrame (and return one).

    Example:
        >>> lf.akool.estimate("tts", text=pl.col("script"), voice_id="v1").collect()  # doctest: +SKIP
        >>> lf.akool.run("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
    """

    def _collected(self) -> pl.DataFrame:
        """Collected once per call, here in the caller's thread, before anything is sent."""
        return self._obj.collect()
