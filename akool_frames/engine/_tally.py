"""Progress: what a run reports as it goes. ``Tally`` turns engine events (a job sent, a status seen, a job over)
into ProgressSink calls, counting each job once, and says what an interrupted run leaves behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..typing import ProgressSink

if TYPE_CHECKING:
    from ..ledger import Entry

__all__ = ["Tally"]


class Tally:
    """Turns engine events into ProgressSink calls: every job counted once as submitted (its create
    settled, whichever way) and once as finished (nothing more will happen to it in this call).

    Bars count jobs (ledger keys) to send or follow; identical rows share a job. Statuses are
    counted by row, as the result frame shows them.
    """

    def __init__(self, sink: ProgressSink | None, rows: Mapping[str, int]) -> None:
        self.sink = sink
        self.rows = rows  # key -> rows sharing it
        self.status: dict[str, str] = {}
        self.credits: dict[str, float] = {}
        self._by_status: Counter[str] = Counter()  # rows by status, kept as notes come
        self._credits_total = 0.0
        self._submitted: set[str] = set()
        self._finished: set[str] = set()

    def start(self, credits_est: float | None) -> None:
        if self.sink:
            self.sink.start(len(self.rows), credits_est)

    def submitted(self, key: str) -> None:
        if key not in self._submitted and key in self.rows:  # a batch's other videos are not rows
            self._submitted.add(key)
            if self.sink:
                self.sink.submitted()

    def finished(self, key: str) -> None:
        """The job reached its end for this call (terminal, or given up on as unknown/skipped)."""
        self.submitted(key)
        if key not in self._finished and key in self.rows:
            self._finished.add(key)
            if self.sink:
                self.sink.finished()

    def over(self, entries: Sequence[Entry]) -> None:
        """Jobs already over when the call began: noted, and counted as submitted and finished, in one go."""
        for entry in entries:
            self.note(entry.key, entry.status, entry.credits)
        keys = {entry.key for entry in entries if entry.key in self.rows} - self._finished
        fresh = len(keys - self._submitted)
        self._submitted |= keys
        self._finished |= keys
        if self.sink and fresh:
            self.sink.submitted(fresh)
        if self.sink and keys:
            self.sink.finished(len(keys))

    def note(self, key: str, status: str, credits: float | None = None) -> None:
        rows = self.rows.get(key)
        if rows is None:
            return
        before = self.status.get(key)
        if before != status:  # counts kept as they change: report() is then O(statuses), not O(rows)
            if before is not None:
                self._by_status[before] -= rows
            self._by_status[status] += rows
            self.status[key] = status
        if credits is not None:
            self._credits_total += credits - self.credits.get(key, 0.0)
            self.credits[key] = credits

    def interrupted(self, provider: str) -> str:
        """What a run stopped by Ctrl-C leaves behind, in words (the KeyboardInterrupt's message)."""
        total, sent, over = len(self.rows), len(self._submitted), len(self._finished)
        return (f"Interrupted: {sent} of {total} jobs sent ({sent - over} still running at {provider}), "
                f"{total - sent} not sent yet. Nothing is lost: re-run the same cell to follow the running jobs "
                "and send the rest.")

    def report(self) -> None:
        if self.sink:
            by_status = {status: n for status, n in self._by_status.items() if n}
            self.sink.counts(by_status, round(self._credits_total, 6) if self.credits else None)
