"""Progress: nothing when disabled; the sink counts engine events, from any thread; the panel in a kernel."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from akool_frames.frames import _calls, _progress
from akool_frames.frames._bind import col
from akool_frames.frames._progress import Progress, make_progress


def test_disabled_is_none() -> None:
    assert make_progress("tts", enabled=False) is None


def test_progress_false_emits_nothing(frame: Any, engine: Any, capsys: pytest.CaptureFixture[str]) -> None:
    frame({"text": ["a", "b"]}).akool.run("tts", text=col("text"), progress=False)
    assert engine.calls[-1]["progress"] is None
    assert capsys.readouterr() == ("", "")


def test_estimate_shows_no_progress_by_default(frame: Any, engine: Any, capsys: pytest.CaptureFixture[str]) -> None:
    frame({"text": ["a"]}).akool.estimate("tts", text=col("text"))
    assert engine.calls[-1]["progress"] is None
    assert capsys.readouterr() == ("", "")


def test_run_feeds_a_sink_made_in_the_callers_thread(frame: Any, engine: Any, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    made: list[tuple[str, Progress]] = []

    def recording(job: str, enabled: bool) -> Progress:
        sink = Progress(job, bars=enabled)
        made.append((threading.current_thread().name, sink))
        return sink

    monkeypatch.setattr(_calls, "make_progress", recording)
    frame({"text": ["a", "bb", None]}).akool.run("tts", text=col("text"))
    (thread, sink), = made
    assert thread == threading.current_thread().name  # not the loop thread: Jupyter output stays in the cell
    assert engine.calls[-1]["progress"] is sink
    assert (sink.total, sink.credits_est, sink.n_submitted, sink.n_finished) == (3, 3.0, 2, 2)
    assert (sink.by_status, sink.credits, sink.closed) == ({"completed": 2}, 3.0, True)
    err = capsys.readouterr().err  # not a terminal: plain lines, the last one with the counts by status
    assert err.splitlines()[-1] == "tts: 2/3 rows submitted, 2/3 finished (2 completed); credits charged: 3 / 3 estimated"
    assert "\x1b" not in err and "\r" not in err


def test_a_sink_can_be_passed_in(frame: Any, engine: Any) -> None:
    sink = Progress("mine", bars=False)
    frame({"text": ["a"]}).akool.submit("tts", text=col("text"), progress=sink)
    assert (sink.n_submitted, sink.n_finished, sink.closed) == (1, 0, True)


def test_counts_are_thread_safe() -> None:
    sink = Progress("tts", bars=False)
    sink.start(4000, 10.0)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: [sink.submitted() for _ in range(500)], range(8)))
        list(pool.map(lambda _: [sink.finished(2) for _ in range(250)], range(8)))
    assert (sink.n_submitted, sink.n_finished) == (4000, 4000)


def test_events_after_close_are_ignored() -> None:
    sink = Progress("tts", bars=False)
    sink.close()
    sink.submitted()
    sink.counts({"completed": 1}, 1.0)
    sink.close()
    assert (sink.n_submitted, sink.by_status) == (0, {})


def test_panel_in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    shown: list[Any] = []
    monkeypatch.setattr(_progress, "_in_kernel", lambda: True)
    monkeypatch.setattr(_progress, "_display", shown.append)
    monkeypatch.setattr(_progress, "REDRAW_EVERY", 3600.0)  # only forced redraws (start, close)
    sink = make_progress("<b>tts</b>", enabled=True)
    assert isinstance(sink, Progress)
    assert len(shown) == 1  # bars and panel in one display
    panel = sink._panel
    sink.start(2, 8.8)
    sink.submitted(2)
    sink.finished(1)
    sink.counts({"completed": 1, "processing": 1}, 4.4)
    assert "0/2 submitted" in panel.value  # throttled: not redrawn since start
    sink.close()
    assert "2/2 submitted, 1/2 finished" in panel.value
    assert "credits charged: 4.4 / 8.8 estimated" in panel.value
    assert "<td>processing</td><td style='text-align:right'>1</td>" in panel.value
    assert "&lt;b&gt;tts&lt;/b&gt;" in panel.value  # the job name is escaped


def test_panel_says_not_reported_where_no_answer_reports_a_charge(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(_progress, "_in_kernel", lambda: True)
    monkeypatch.setattr(_progress, "_display", shown.append)
    sink = make_progress("talking_photo", enabled=True)
    assert len(shown) == 1
    panel = sink._panel
    sink.start(2, None)
    sink.counts({"completed": 2}, None)  # never "0 charged"
    sink.close()
    assert "credits charged: not reported by the API / no estimate" in panel.value


def test_no_panel_outside_a_kernel() -> None:
    assert _progress._in_kernel() is False


def test_the_panel_leaves_its_final_state_as_plain_html(monkeypatch: pytest.MonkeyPatch) -> None:
    # A saved notebook shows a widget as it was when displayed; on close the panel's output is replaced by its
    # final counts as HTML that needs no widget state (and the bars, whose last state it repeats, go).
    pytest.importorskip("ipywidgets")
    updates: list[Any] = []

    class Handle:
        def update(self, obj: Any) -> None:
            updates.append(obj)

    monkeypatch.setattr(_progress, "_in_kernel", lambda: True)
    monkeypatch.setattr(_progress, "_display", lambda widget: Handle())
    sink = make_progress("tts", enabled=True)
    assert isinstance(sink, Progress) and all(not bar.leave for bar in sink._bars)
    sink.start(3, 1.5)
    sink.submitted(3)
    sink.finished(3)
    sink.counts({"completed": 3}, 1.5)
    assert updates == []
    sink.close()
    (final,) = updates
    bundle = final._repr_mimebundle_()
    assert "3/3 submitted, 3/3 finished" in bundle["text/html"] and "1.5 / 1.5 estimated" in bundle["text/html"]
    # Where widgets are not rendered (a saved notebook's text/plain): totals, units, the counts by status.
    assert bundle["text/plain"] == ("tts: 3/3 rows submitted, 3/3 finished (3 completed); "
                                    "credits charged: 1.5 / 1.5 estimated")


def test_the_live_display_reads_as_text_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # While it runs, the display is the widget, but its text/plain is the counts, not "HTML(value=...)" or
    # tqdm's "tts submitted: 0job [00:00, ?job/s]".
    pytest.importorskip("ipywidgets")
    shown: list[Any] = []
    monkeypatch.setattr(_progress, "_in_kernel", lambda: True)
    monkeypatch.setattr(_progress, "_display", shown.append)
    make_progress("tts", enabled=True)
    (live,) = shown
    bundle = live._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("tts: 0/? rows submitted, 0/? finished")


class _Terminal:
    """A stream that says it is a terminal, keeping what is written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_on_a_terminal_bars_say_totals_and_units() -> None:
    out = _Terminal()
    sink = Progress("tts", stream=out)
    sink.start(12, 1.0)
    sink.submitted(3)
    sink.finished(2)
    sink.counts({"completed": 2}, 0.5)
    assert [str(bar).split(" |")[0] for bar in sink._bars] == ["tts: 3/12 rows submitted", "tts: 2/12 rows finished"]
    sink.close()
    written = "".join(out.parts)
    assert "\r" in written  # a terminal gets bars that redraw in place
    assert written.endswith("tts: 3/12 rows submitted, 2/12 finished (2 completed); "
                            "credits charged: 0.5 / 1 estimated\n")


def test_without_a_terminal_lines_are_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    out = io.StringIO()
    monkeypatch.setattr(_progress, "PLAIN_EVERY", 3600.0)  # no heartbeat but the first
    sink = Progress("download", steps=("downloaded",), unit="files", stream=out)
    sink.start(40, None)
    for _ in range(40):
        sink.finished()
    sink.close()
    assert out.getvalue().splitlines() == ["download: 0/40 files downloaded", "download: 40/40 files downloaded"]
