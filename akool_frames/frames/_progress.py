"""Progress for engine events, in the form the output can show:

- in a Jupyter kernel: tqdm bars and a counts panel (ipywidgets) in one display, replaced on close by its final
  state as HTML and as text (the text/plain a saved notebook shows where widgets are not rendered);
- on a terminal: tqdm bars ("tts: 3/12 rows submitted |██  | 00:02");
- anywhere else (stderr piped to a file, CI): plain lines, at most one every ``PLAIN_EVERY`` seconds, and a
  final one with the counts by status; no escape codes, no ``\\r`` rewrites.

``make_progress`` builds (and displays) everything at once in the caller's thread, so the output lands
under the cell that made the call; afterwards the engine may report from its background loop thread.
Every method takes one lock; the panel is redrawn at most every ``REDRAW_EVERY`` seconds (and once more on
close). Only the job name and numbers are shown: nothing here can carry a secret.
"""

from __future__ import annotations

import html
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from ..typing import ProgressSink

__all__ = ["PLAIN_EVERY", "REDRAW_EVERY", "Progress", "make_progress"]

REDRAW_EVERY = 0.2  # seconds between two panel redraws
PLAIN_EVERY = 5.0  # seconds between two plain lines (a log gets a heartbeat, not a line per job)


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython with a ``kernel``), where a widget panel can be shown."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def _display(obj: Any) -> Any:
    """Show ``obj`` under the calling cell; returns the display's handle (to replace it when done)."""
    from IPython.display import display

    return display(obj, display_id=True)


class _Shown:
    """What the notebook shows: the live widget (if any), else the HTML; and always ``text`` as text/plain,
    which is what a saved notebook reads as where widgets are not rendered (not "HTML(value=...)")."""

    def __init__(self, text: str, html_text: str, widget: Any = None) -> None:
        self.text, self.html, self.widget = text, html_text, widget

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs)) if self.widget is not None else {
            "text/html": self.html}
        bundle["text/plain"] = self.text
        return bundle

    def __repr__(self) -> str:
        return self.text


class Progress:
    """A ``ProgressSink``: counts what the engine reports and shows it as bars (and a panel), or plain lines.

    Args:
        job: The job name, shown as the label.
        bars: Show progress (bars, or plain lines where ``stream`` is not a terminal).
        panel: Show an ipywidgets panel with counts by status and credits charged vs estimated (in a kernel).
        steps: The steps counted; with one step (e.g. ("downloaded",)), ``finished`` advances it.
        unit: What is counted, plural ("rows", "files").
        stream: Where bars and lines go (default: stderr).
    """

    def __init__(self, job: str, *, bars: bool = True, panel: bool = False,
                 steps: tuple[str, ...] = ("submitted", "finished"), unit: str = "rows",
                 stream: IO[str] | None = None) -> None:
        self.job = job
        self._steps, self._unit = steps, unit
        self._stream = stream
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
        self._handle: Any = None  # the display: replaced by its final state (HTML and text) on close
        self._widgets = False  # notebook bars, inside the panel's display
        self._plain = False  # plain lines instead of bars
        if panel:
            try:
                import ipywidgets
            except ImportError:
                panel = False
        if panel:  # in Jupyter, widgets must be displayed now, from the calling cell's thread
            self._widgets = bars
            self._open_bars(None)
            self._panel = ipywidgets.HTML(value=self._html())
            box = ipywidgets.VBox([*(bar.container for bar in self._bars), self._panel])
            self._handle = _display(_Shown(self.text(), self._html(), box))
        elif bars and not _is_tty(self._out()):
            self._plain = True

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
            if not self._plain:  # plain: the final line below, not one more heartbeat
                self._draw(force=True)
            self.closed = True
            for bar in self._bars:
                bar.close()
            if self._handle is not None:
                # A saved notebook keeps what a widget showed when it was displayed ("0/? submitted") unless the
                # output is replaced: the final counts, as HTML and text that need no widget state to be read.
                self._handle.update(_Shown(self.text(), self._html()))
            elif self._want_bars and (self._plain or self._bars):
                self._say(self.text())  # the last line says how it ended, bars or not

    def text(self) -> str:
        """The counts in one line: "tts: 12/12 rows submitted, 12/12 finished (12 completed); credits ..."."""
        total = "?" if self.total is None else str(self.total)
        if len(self._steps) > 1:
            line = (f"{self.job}: {self.n_submitted}/{total} {self._unit} {self._steps[0]}, "
                    f"{self.n_finished}/{total} {self._steps[1]}")
        else:
            line = f"{self.job}: {self.n_finished}/{total} {self._unit} {self._steps[0]}"
        if self.by_status:
            line += " (" + ", ".join(f"{n} {status}" for status, n in sorted(self.by_status.items())) + ")"
        return line + (f"; {self._credit_text()}" if len(self._steps) > 1 else "")

    # -- internals ----------------------------------------------------------------------------
    def _out(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    def _say(self, line: str) -> None:
        out = self._out()
        out.write(line + "\n")
        out.flush()

    def _open_bars(self, total: int | None) -> None:
        """Create the bars (once), or give existing ones their total."""
        if not self._want_bars or self._plain:
            return
        if not self._bars:
            if self._widgets:
                from tqdm.notebook import tqdm

                extra: dict[str, Any] = {"display": False}  # shown inside the panel's display
            else:
                from tqdm import tqdm

                extra = {"file": self._out()}
            # "tts: 3/12 rows submitted |██  | 00:02": the total, and a space before the unit
            self._bars = [tqdm(total=total, desc=self.job, unit=self._unit, leave=not self._widgets,
                               bar_format=f"{{desc}}: {{n_fmt}}/{{total_fmt}} {self._unit} {what} |{{bar}}| "
                                          "{elapsed}{postfix}", dynamic_ncols=True, **extra)
                          for what in self._steps]
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
        charged = ("none yet" if not self.by_status else "not reported by the API") if self.credits is None else \
            f"{round(self.credits, 4):g}"
        return f"credits charged: {charged} / {estimated}"

    def _html(self) -> str:
        total = "?" if self.total is None else str(self.total)
        rows = "".join(f"<tr><td>{html.escape(status)}</td><td style='text-align:right'>{count}</td></tr>"
                       for status, count in sorted(self.by_status.items()))
        return (f"<div><b>{html.escape(self.job)}</b>: {self.n_submitted}/{total} submitted, "
                f"{self.n_finished}/{total} finished; {self._credit_text()}"
                f"<table>{rows}</table></div>")

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._plain:  # a heartbeat line; the last one comes from close
            if not self.closed and now - self._drawn >= PLAIN_EVERY:
                self._drawn = now
                self._say(self.text())
            return
        if self._panel is None:
            return
        if force or now - self._drawn >= REDRAW_EVERY:
            self._drawn = now
            self._panel.value = self._html()


# What a call that is not a job run counts: one bar, no panel.
STEPS = {"download": (("downloaded",), "files")}


def make_progress(job: str, enabled: bool) -> ProgressSink | None:
    """The progress sink for one call: None when disabled; bars, plus a panel in a Jupyter kernel (job runs);
    plain lines where stderr is not a terminal."""
    if not enabled:
        return None
    kernel = _in_kernel()
    if job in STEPS:
        steps, unit = STEPS[job]
        # In a kernel its lines go to stdout, as tqdm's widgets do: stderr is shown as an alarm.
        return Progress(job, bars=True, panel=False, steps=steps, unit=unit, stream=sys.stdout if kernel else None)
    return Progress(job, bars=True, panel=kernel)
