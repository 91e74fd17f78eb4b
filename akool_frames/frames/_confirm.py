"""``run(..., confirm=True)``: the estimate first, then a button that spends the money (Jupyter).

The call prices the rows, shows what would be sent (rows, credits, USD, rows without a price and why, invalid
rows) with a "Submit N rows (~X credits)" button, and returns the panel at once. A click starts the run on the
client's background loop; the panel then shows counts by status, credits charged against estimated and the
time left, and a Cancel button stops sending (rows not sent yet end ``skipped``; jobs already made are
followed to their end, they are paid for). Widgets are only ever changed by setting their values, from the
loop thread that reports progress.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import threading
import time
from collections.abc import Mapping
from typing import Any

from .._errors import ConfigError
from .._loop import get_loop

__all__ = ["ConfirmPanel"]


class ConfirmPanel:
    """What ``run(..., confirm=True)`` returns: the estimate, the buttons, and (once done) the result frame.

    Attributes:
        estimate: The estimated frame (``akool_credits_est``, ``akool_status`` ...).
        submit: The "Submit N rows" button (``.click()`` it to start headlessly).
        cancel: The Cancel button (enabled while the run sends).
        result: The run's result frame, once it has ended (None before).
    """

    def __init__(self, estimate: Any, start: Any, *, job: str, prefix: str, usd_per_credit: float) -> None:
        try:
            import ipywidgets
        except ImportError as exc:
            msg = ("confirm=True shows buttons, which need ipywidgets.\n\n"
                   "Hint: pip install 'akool-frames[notebook]', or estimate first and run without it.")
            raise ConfigError(msg) from exc
        self.estimate, self.job, self.result = estimate, job, None
        self._start, self._stop = start, threading.Event()
        self._future: concurrent.futures.Future[Any] | None = None
        self._lock = threading.Lock()
        self.total, self.sent, self.over = 0, 0, 0
        self.by_status: dict[str, int] = {}
        self.credits: float | None = None
        self.credits_est: float | None = None
        self._began = 0.0
        rows, priced, credits, unpriced, invalid = _summary(estimate, prefix)
        self.to_send = rows - invalid
        dollars = f" (~${credits * usd_per_credit:,.2f})" if credits else ""
        lines = [f"<b>{html.escape(job)}</b>: {rows} rows; {priced} priced: ~{credits:,.4g} credits{dollars}"]
        if unpriced:
            lines.append(f"{sum(unpriced.values())} without a price, not in that total: "
                         + "; ".join(f"{n} {html.escape(why)}" for why, n in unpriced.items()))
        if invalid:
            lines.append(f"{invalid} invalid (not sent; see {html.escape(prefix)}error)")
        self.summary = ipywidgets.HTML(value="<br>".join(lines))
        self.submit = ipywidgets.Button(description=f"Submit {self.to_send} rows (~{credits:,.4g} credits)",
                                        button_style="primary", disabled=self.to_send == 0)
        self.cancel = ipywidgets.Button(description="Cancel", disabled=True)
        self.status = ipywidgets.HTML(value="")
        self.submit.on_click(lambda _b: self._go())
        self.cancel.on_click(lambda _b: self._cancel())
        self.widget = ipywidgets.VBox([self.summary, ipywidgets.HBox([self.submit, self.cancel]), self.status])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # ------------------------------------------------------------------ buttons
    def _go(self) -> None:
        with self._lock:
            if self._future is not None:
                return
            self.submit.disabled, self.cancel.disabled = True, False
            self.submit.description = "Submitted"
            self._began = time.monotonic()
            self._future = asyncio.run_coroutine_threadsafe(self._start(self, self._stop), get_loop())
            self._future.add_done_callback(self._ended)  # runs on the loop thread, which completes it

    def _cancel(self) -> None:
        self._stop.set()
        self.cancel.disabled = True
        self.cancel.description = "Cancelling: nothing more is sent"

    def _ended(self, future: concurrent.futures.Future[Any]) -> None:
        self.cancel.disabled = True
        error = future.exception()
        if error is None:
            self.result = future.result()
        self.status.value = self._html(done=True, error=error)

    @property
    def done(self) -> bool:
        return self._future is not None and self._future.done()

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the run has ended; its result frame (raises what the run raised)."""
        if self._future is None:
            msg = "Nothing was submitted yet: click the Submit button (or .submit.click())."
            raise RuntimeError(msg)
        return self._future.result(timeout)

    # ------------------------------------------------------------------ ProgressSink (the loop thread)
    def start(self, total: int, credits_est: float | None) -> None:
        self.total, self.credits_est = total, credits_est
        self.status.value = self._html()

    def submitted(self, n: int = 1) -> None:
        self.sent += n

    def finished(self, n: int = 1) -> None:
        self.over += n
        self.status.value = self._html()

    def counts(self, by_status: Mapping[str, int], credits: float | None) -> None:
        self.by_status, self.credits = dict(by_status), credits
        self.status.value = self._html()

    def close(self) -> None:
        self.status.value = self._html()

    def _html(self, *, done: bool = False, error: BaseException | None = None) -> str:
        charged = "not reported by the API" if self.credits is None else f"{round(self.credits, 4):g}"
        estimated = "no estimate" if self.credits_est is None else f"{round(self.credits_est, 4):g} estimated"
        elapsed = time.monotonic() - self._began if self._began else 0.0
        left = ""
        if not done and 0 < self.over < self.total:
            left = f"; about {elapsed / self.over * (self.total - self.over):.0f} s left"
        counts = ", ".join(f"{html.escape(s)} {n}" for s, n in sorted(self.by_status.items()))
        state = "done" if done and error is None else f"stopped: {html.escape(str(error))}" if error else "running"
        cancelled = " (cancelled: rows not sent are skipped)" if self._stop.is_set() else ""
        return (f"<div>{state}{cancelled}: {self.sent}/{self.total} sent, {self.over}/{self.total} finished{left}"
                f"<br>{counts}<br>credits charged: {charged} / {estimated}</div>")


def _summary(estimate: Any, prefix: str) -> tuple[int, int, float, dict[str, int], int]:
    """(rows, priced rows, their credits, unpriced rows by reason, invalid rows) of an estimated frame."""
    import narwhals.stable.v2 as nw

    from .._values import to_py

    frame = nw.from_native(estimate, eager_only=True)
    status, credits, errors = ([to_py(v) for v in frame.get_column(prefix + name).to_list()]
                               for name in ("status", "credits_est", "error"))
    invalid = sum(1 for s in status if s == "invalid")
    priced = [c for s, c in zip(status, credits, strict=True) if s != "invalid" and c is not None]
    unpriced: dict[str, int] = {}
    for s, c, e in zip(status, credits, errors, strict=True):
        if s != "invalid" and c is None:
            unpriced[str(e or "no price")] = unpriced.get(str(e or "no price"), 0) + 1
    return len(status), len(priced), round(sum(priced), 6), unpriced, invalid
