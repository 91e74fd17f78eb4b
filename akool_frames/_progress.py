"""Progress for engine events: tqdm.auto bars, and a live ipywidgets panel inside a Jupyter kernel.

``make_progress`` builds (and displays) everything at once in the caller's thread, so the output lands
under the cell that made the call; afterwards the engine may report from its background loop thread.
Every method takes one lock, and the panel is redrawn at most every ``REDRAW_EVERY`` seconds (and once
more on close). Only the job name and numbers are shown: nothing here can carry a secret.
"""

from __future__ import annotations

import html
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from ._tally import ProgressSink

__all__ = ["REDRAW_EVERY", "Progress", "make_progress"]

REDRAW_EVERY = 0.2  # seconds between two panel redraws


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython with a ``kernel``), where a widget panel can be shown."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    return getattr(shell, "kernel", None) is not None


def _display(widget: Any) -> Any:
    """Show ``widget`` under the calling cell; returns the display's handle (to replace it when done)."""
    from IPython.display import display

    return display(widget, display_id=True)


def _static(html_text: str) -> Any:
    from IPython.display import HTML

    return HTML(html_text)


class Progress:
    """A ``ProgressSink``: counts what the engine reports and shows it as bars (and a panel).

    Args:
        job: The job name, shown as the label.
        bars: Show tqdm.auto bars, one per step ("submitted" and "finished").
        panel: Show an ipywidgets panel with counts by status and credits charged vs estimated.
        steps: The bars' names; with one step (e.g. ("downloaded",)), ``finished`` advances it.
        unit: What the bars count.
    """

    def __init__(self, job: str, *, bars: bool = True, panel: bool = False,
                 steps: tuple[str, ...] = ("submitted", "finished"), unit: str = "job") -> None:
        self.job = job
        self._steps, self._unit = steps, unit
        self.total: int | None = None
        self.credits_est: float | None = 0.0
        self.credits: float | None = None  # None: no job's answer reported a charge (yet)
        self.n_submitted = 0
        self.n_finished = 0
        self.by_status: dict[str, int] = {}
        self.closed = False
        self._lock = threading.Lock()
        self._drawn = float("-inf")
        self._bars: list[Any] = []
        self._want_bars = bars
        self._panel: Any = None
        self._handle: Any = None  # the panel's display: replaced by its final state, as plain HTML, on close
        self._leave = not panel  # with a panel, the bars go when done: the panel's last state says it all
        if bars and panel:  # in Jupyter, widgets must be displayed now, from the calling cell's thread
            self._open_bars(None)
        if panel:
            try:
                import ipywidgets
            except ImportError:
                self._leave = True
            else:
                self._panel = ipywidgets.HTML(value=self._html())
                self._handle = _display(self._panel)

    # -- ProgressSink -------------------------------------------------------------------------
    def start(self, total: int, credits_est: float | None) -> None:
        with self._lock:
            if self.closed:
                return
            self.total, self.credits_est = total, credits_est
            self._open_bars(total)
            self._draw(force=True)

    def submitted(self, n: int = 1) -> None:
        if len(self._steps) > 1:
            self._advance(0, n)

    def finished(self, n: int = 1) -> None:
        self._advance(1, n)

    def counts(self, by_status: Mapping[str, int], credits: float | None) -> None:
        with self._lock:
            if self.closed:
                return
            self.by_status, self.credits = dict(by_status), None if credits is None else float(credits)
            if len(self._bars) == 2:  # a job run's bars: the credits go beside "finished"
                self._bars[1].set_postfix_str(self._credit_text(), refresh=False)
            self._draw()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self._draw(force=True)
            self.closed = True
            for bar in self._bars:
                bar.close()
            if self._handle is not None:
                # A saved notebook keeps what a widget showed when it was displayed ("0/? submitted") unless the
                # output is replaced: the final counts, as HTML that needs no widget state to be read.
                self._handle.update(_static(self._html()))

    # -- internals ----------------------------------------------------------------------------
    def _open_bars(self, total: int | None) -> None:
        """Create the bars (once), or give existing ones their total."""
        if not self._want_bars:
            return
        if not self._bars:
            from tqdm.auto import tqdm

            self._bars = [tqdm(total=total, desc=f"{self.job} {what}", unit=self._unit, leave=self._leave,
                               dynamic_ncols=True) for what in self._steps]
        elif total is not None:
            for bar in self._bars:
                done = bar.n
                bar.reset(total=total)
                bar.update(done)

    def _advance(self, which: int, n: int) -> None:
        with self._lock:
            if self.closed:
                return
            if which == 0:
                self.n_submitted += n
            else:
                self.n_finished += n
            self._open_bars(None)
            if self._bars:
                self._bars[min(which, len(self._bars) - 1)].update(n)
            self._draw()

    def _credit_text(self) -> str:
        estimated = "no estimate" if self.credits_est is None else f"{round(self.credits_est, 4):g} estimated"
        charged = "not reported by the API" if self.credits is None else f"{round(self.credits, 4):g}"
        return f"credits charged: {charged} / {estimated}"

    def _html(self) -> str:
        total = "?" if self.total is None else str(self.total)
        rows = "".join(f"<tr><td>{html.escape(status)}</td><td style='text-align:right'>{count}</td></tr>"
                       for status, count in sorted(self.by_status.items()))
        return (f"<div><b>{html.escape(self.job)}</b>: {self.n_submitted}/{total} submitted, "
                f"{self.n_finished}/{total} finished; {self._credit_text()}"
                f"<table>{rows}</table></div>")

    def _draw(self, force: bool = False) -> None:
        if self._panel is None:
            return
        now = time.monotonic()
        if force or now - self._drawn >= REDRAW_EVERY:
            self._drawn = now
            self._panel.value = self._html()


# What a call that is not a job run counts: one bar, no panel.
STEPS = {"download": (("downloaded",), "file")}


def make_progress(job: str, enabled: bool) -> ProgressSink | None:
    """The progress sink for one call: None when disabled; bars, plus a panel in a Jupyter kernel (job runs)."""
    if not enabled:
        return None
    if job in STEPS:
        steps, unit = STEPS[job]
        return Progress(job, bars=True, panel=False, steps=steps, unit=unit)
    return Progress(job, bars=True, panel=_in_kernel())
