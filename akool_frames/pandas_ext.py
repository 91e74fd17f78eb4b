"""``df.akool`` on pandas DataFrames: a thin shell over ``akool_frames._frames``.

Importing this module registers the accessor; it raises ImportError when pandas is not installed.

Example:
    >>> import akool_frames as af
    >>> out = df.akool.run("tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import _frames

__all__ = ["AkoolAccessor"]


@pd.api.extensions.register_dataframe_accessor("akool")
class AkoolAccessor:
    """Akool jobs from the rows of a pandas DataFrame. Every method returns a new frame (same index and
    row order, input untouched) with the ``akool_`` result columns added or replaced.

    Parameters are the job's documented fields: a constant, ``af.col("column")`` or a Series aligned by
    index. Options (keyword-only): ``client``, ``prefix``, ``budget``, ``progress``, ``timeout``, ``force``,
    ``plan``, ``rates``; see ``akool_frames._frames.arun``.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def estimate(self, job: str, /, **params: Any) -> pd.DataFrame:
        """Validate and price every row; adds ``akool_credits_est``, ``akool_status``, ``akool_error``.

        Example:
            >>> df.akool.estimate("tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return _frames.estimate(self._frame, job, **params)

    def submit(self, job: str, /, **params: Any) -> pd.DataFrame:
        """Create one job per row; returns once all are submitted (``akool_job_id``, ``akool_status``...).

        Example:
            >>> df.akool.submit("tts", text=af.col("script"), voice_id="v1", budget=50)  # doctest: +SKIP
        """
        return _frames.submit(self._frame, job, **params)

    def run(self, job: str, /, **params: Any) -> pd.DataFrame:
        """Submit, then follow every job to a terminal state.

        Example:
            >>> df.akool.run("tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return _frames.run(self._frame, job, **params)

    def refresh(self, **options: Any) -> pd.DataFrame:
        """Poll the rows that carry ``akool_job_id`` and update their columns (``follow=True`` to wait).

        Example:
            >>> submitted.akool.refresh(follow=True)  # doctest: +SKIP
        """
        return _frames.refresh(self._frame, **options)

    def download(self, dest: str, /, **options: Any) -> pd.DataFrame:
        """Fetch every row's result file into folder ``dest``; adds ``akool_file``.

        Example:
            >>> done.akool.download("out/")  # doctest: +SKIP
        """
        return _frames.download(self._frame, dest, **options)

    async def aestimate(self, job: str, /, **params: Any) -> pd.DataFrame:
        """Async twin of ``estimate``.

        Example:
            >>> await df.akool.aestimate("tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.aestimate(self._frame, job, **params)

    async def asubmit(self, job: str, /, **params: Any) -> pd.DataFrame:
        """Async twin of ``submit``.

        Example:
            >>> await df.akool.asubmit("tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.asubmit(self._frame, job, **params)

    async def arun(self, job: str, /, **params: Any) -> pd.DataFrame:
        """Async twin of ``run``.

        Example:
            >>> await df.akool.arun("tts", text=af.col("script"), voice_id="v1")  # doctest: +SKIP
        """
        return await _frames.arun(self._frame, job, **params)

    async def arefresh(self, **options: Any) -> pd.DataFrame:
        """Async twin of ``refresh``.

        Example:
            >>> await submitted.akool.arefresh(follow=True)  # doctest: +SKIP
        """
        return await _frames.arefresh(self._frame, **options)

    async def adownload(self, dest: str, /, **options: Any) -> pd.DataFrame:
        """Async twin of ``download``.

        Example:
            >>> await done.akool.adownload("out/")  # doctest: +SKIP
        """
        return await _frames.adownload(self._frame, dest, **options)
