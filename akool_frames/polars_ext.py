"""``df.akool`` on polars DataFrames and LazyFrames: thin shells over ``akool_frames._frames``.

Importing this module registers both namespaces; it raises ImportError when polars is not installed.
On a LazyFrame, ``estimate`` stays lazy (pure pricing, no network inside polars); ``submit``, ``run``,
``refresh`` and ``download`` collect once, explicitly, and return a DataFrame.

Example:
    >>> import akool_frames as af
    >>> out = df.akool.run("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import _frames

__all__ = ["AkoolFrame", "AkoolLazyFrame"]


@pl.api.register_dataframe_namespace("akool")
class AkoolFrame:
    """Akool jobs from the rows of a polars DataFrame. Every method returns a new DataFrame (same row
    order, input untouched) with the ``akool_`` result columns added or replaced.

    Parameters are the job's documented fields: a constant, ``af.col("c")`` / ``pl.col("c")``, or a Series
    of one value per row. Options (keyword-only): ``client``, ``prefix``, ``budget``, ``progress``,
    ``timeout``, ``force``, ``plan``, ``rates``; see ``akool_frames._frames.arun``.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def estimate(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Validate and price every row; adds ``akool_credits_est``, ``akool_status``, ``akool_error``.

        Example:
            >>> df.akool.estimate("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return _frames.estimate(self._frame, job, **params)

    def submit(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Create one job per row; returns once all are submitted (``akool_job_id``, ``akool_status``...).

        Example:
            >>> df.akool.submit("tts", text=pl.col("script"), voice_id="v1", budget=50)  # doctest: +SKIP
        """
        return _frames.submit(self._frame, job, **params)

    def run(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Submit, then follow every job to a terminal state.

        Example:
            >>> df.akool.run("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return _frames.run(self._frame, job, **params)

    def refresh(self, **options: Any) -> pl.DataFrame:
        """Poll the rows that carry ``akool_job_id`` and update their columns (``follow=True`` to wait).

        Example:
            >>> submitted.akool.refresh(follow=True)  # doctest: +SKIP
        """
        return _frames.refresh(self._frame, **options)

    def download(self, dest: str, /, **options: Any) -> pl.DataFrame:
        """Fetch every row's result file into folder ``dest``; adds ``akool_file``.

        Example:
            >>> done.akool.download("out/")  # doctest: +SKIP
        """
        return _frames.download(self._frame, dest, **options)

    async def aestimate(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Async twin of ``estimate``.

        Example:
            >>> await df.akool.aestimate("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.aestimate(self._frame, job, **params)

    async def asubmit(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Async twin of ``submit``.

        Example:
            >>> await df.akool.asubmit("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.asubmit(self._frame, job, **params)

    async def arun(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Async twin of ``run``.

        Example:
            >>> await df.akool.arun("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.arun(self._frame, job, **params)

    async def arefresh(self, **options: Any) -> pl.DataFrame:
        """Async twin of ``refresh``.

        Example:
            >>> await submitted.akool.arefresh(follow=True)  # doctest: +SKIP
        """
        return await _frames.arefresh(self._frame, **options)

    async def adownload(self, dest: str, /, **options: Any) -> pl.DataFrame:
        """Async twin of ``download``.

        Example:
            >>> await done.akool.adownload("out/")  # doctest: +SKIP
        """
        return await _frames.adownload(self._frame, dest, **options)


@pl.api.register_lazyframe_namespace("akool")
class AkoolLazyFrame:
    """Akool jobs from a polars LazyFrame: ``estimate`` stays lazy; the other verbs collect once, then
    behave as on a DataFrame (and return one)."""

    def __init__(self, frame: pl.LazyFrame) -> None:
        self._frame = frame

    def estimate(self, job: str, /, **params: Any) -> pl.LazyFrame:
        """A lazy plan adding ``akool_credits_est``, ``akool_status``, ``akool_error``, priced from the rows
        alone when collected (no media probing, no network).

        Example:
            >>> lf.akool.estimate("tts", text=pl.col("script"), voice_id="v1").collect()  # doctest: +SKIP
        """
        return _frames.estimate(self._frame, job, **params)

    def submit(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Collect, then ``DataFrame.akool.submit``.

        Example:
            >>> lf.akool.submit("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return _frames.submit(self._frame.collect(), job, **params)

    def run(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Collect, then ``DataFrame.akool.run``.

        Example:
            >>> lf.akool.run("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return _frames.run(self._frame.collect(), job, **params)

    def refresh(self, **options: Any) -> pl.DataFrame:
        """Collect, then ``DataFrame.akool.refresh``.

        Example:
            >>> lf.akool.refresh()  # doctest: +SKIP
        """
        return _frames.refresh(self._frame.collect(), **options)

    def download(self, dest: str, /, **options: Any) -> pl.DataFrame:
        """Collect, then ``DataFrame.akool.download``.

        Example:
            >>> lf.akool.download("out/")  # doctest: +SKIP
        """
        return _frames.download(self._frame.collect(), dest, **options)

    async def aestimate(self, job: str, /, **params: Any) -> pl.LazyFrame:
        """Async twin of ``estimate`` (still lazy).

        Example:
            >>> await lf.akool.aestimate("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.aestimate(self._frame, job, **params)

    async def asubmit(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Async twin of ``submit``.

        Example:
            >>> await lf.akool.asubmit("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.asubmit(self._frame.collect(), job, **params)

    async def arun(self, job: str, /, **params: Any) -> pl.DataFrame:
        """Async twin of ``run``.

        Example:
            >>> await lf.akool.arun("tts", text=pl.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.arun(self._frame.collect(), job, **params)

    async def arefresh(self, **options: Any) -> pl.DataFrame:
        """Async twin of ``refresh``.

        Example:
            >>> await lf.akool.arefresh()  # doctest: +SKIP
        """
        return await _frames.arefresh(self._frame.collect(), **options)

    async def adownload(self, dest: str, /, **options: Any) -> pl.DataFrame:
        """Async twin of ``download``.

        Example:
            >>> await lf.akool.adownload("out/")  # doctest: +SKIP
        """
        return await _frames.adownload(self._frame.collect(), dest, **options)
