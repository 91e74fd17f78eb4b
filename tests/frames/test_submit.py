"""``df.akool.submit``: the options it hands the engine (client, budget, timeout, force) and the default client,
on pandas and polars."""

from __future__ import annotations

from typing import Any

from akool_frames.frames._bind import col


def test_options_reach_the_engine(frame: Any, engine: Any) -> None:
    client = object()
    frame({"text": ["a"]}).akool.submit("tts", text=col("text"), client=client, budget=9.5, timeout=3.0,
                                        force=True, progress=False)
    call = engine.calls[-1]
    assert (call["client"], call["budget"], call["timeout"], call["force"], call["mode"]) == (
        client, 9.5, 3.0, True, "submit")


def test_default_client(frame: Any, engine: Any, default_client: Any) -> None:
    frame({"text": ["a"]}).akool.submit("tts", text=col("text"), progress=False)
    assert engine.calls[-1]["client"] is default_client
