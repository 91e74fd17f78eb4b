"""Never pay twice: re-runs reuse the ledger's jobs, identical rows share one job, force=True resubmits,
a fresh Client on the same ledger file reuses too, and another base URL is another set of jobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns, make_frame

TEXTS = ["Good morning.", "Good evening.", "Good morning.", "See you soon.", "Good evening.", "Good morning."]
DISTINCT = len(set(TEXTS))  # 3


def _run(df: Any, client: af.Client, **options: Any) -> dict[str, list[Any]]:
    out = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False, **options)
    return columns(out)


def test_identical_rows_are_submitted_once_and_share_the_result(sb: af.Sandbox, client: af.Client,
                                                                 frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    got = _run(df, client)
    stats = sb.stats()
    assert stats["creates"] == DISTINCT
    assert stats["duplicate_creates"] == 0
    assert got["akool_status"] == ["completed"] * len(TEXTS)
    by_text: dict[str, set[tuple[Any, ...]]] = {}
    for text, job_id, url, credits in zip(TEXTS, got["akool_job_id"], got["akool_url"], got["akool_credits"],
                                          strict=True):
        by_text.setdefault(text, set()).add((job_id, url, credits))
    assert all(len(results) == 1 for results in by_text.values()), by_text  # same job for the same row
    assert len({r for results in by_text.values() for r in results}) == DISTINCT
    # what the sandbox charged once per distinct text
    assert stats["credits_charged"] == pytest.approx(sum(len(t) * 4.4 / 1000 for t in set(TEXTS)), abs=1e-6)


def test_rerun_sends_no_create_and_returns_the_same_jobs(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    first = _run(df, client)
    creates, charged = sb.stats()["creates"], sb.stats()["credits_charged"]
    assert creates == DISTINCT

    second = _run(df, client)
    assert sb.stats()["creates"] == creates
    assert sb.stats()["credits_charged"] == charged
    assert second == first

    # a subset in another order reuses too: keys are per row, not per frame
    subset = make_frame(frame_lib, {"text": TEXTS[::-1][:3]})
    third = _run(subset, client)
    assert sb.stats()["creates"] == creates
    assert third["akool_job_id"] == first["akool_job_id"][::-1][:3]


def test_force_resubmits_each_distinct_row_once(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    first = _run(df, client)
    forced = _run(df, client, force=True)
    stats = sb.stats()
    assert stats["creates"] == 2 * DISTINCT
    assert stats["duplicate_creates"] == DISTINCT  # the sandbox saw each body twice: on purpose
    assert forced["akool_status"] == ["completed"] * len(TEXTS)
    assert not set(forced["akool_job_id"]) & set(first["akool_job_id"])
    assert len(set(forced["akool_job_id"])) == DISTINCT
    # and the ledger now answers with the newest attempt
    again = _run(df, client)
    assert sb.stats()["creates"] == 2 * DISTINCT
    assert again["akool_job_id"] == forced["akool_job_id"]


def test_a_new_client_on_the_same_ledger_reuses(sb: af.Sandbox, tmp_path: Path, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    path = tmp_path / "shared.sqlite"
    with af.Client(**sb.client_options(), ledger=path) as one:
        first = _run(df, one)
    assert sb.stats()["creates"] == DISTINCT

    with af.Client(**sb.client_options(), ledger=path) as two:  # nothing in memory: only the file remembers
        second = _run(df, two)
    assert sb.stats()["creates"] == DISTINCT
    assert second == first

    # control: the same rows with another ledger file are new to that ledger, so they are sent
    with af.Client(**sb.client_options(), ledger=tmp_path / "other.sqlite") as three:
        third = _run(df, three)
    assert sb.stats()["creates"] == 2 * DISTINCT
    assert not set(third["akool_job_id"]) & set(first["akool_job_id"])


def test_another_base_url_is_another_set_of_jobs(sb: af.Sandbox, make_sandbox: Callable[..., af.Sandbox],
                                                 tmp_path: Path, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    path = tmp_path / "ledger.sqlite"
    with af.Client(**sb.client_options(), ledger=path) as here:
        first = _run(df, here)
    other = make_sandbox()
    with af.Client(**other.client_options(), ledger=path) as there:
        second = _run(df, there)
    assert sb.stats()["creates"] == DISTINCT
    assert other.stats()["creates"] == DISTINCT
    assert second["akool_status"] == ["completed"] * len(TEXTS)
    assert all(url.startswith(other.url) for url in second["akool_url"])
    assert not set(second["akool_job_id"]) & set(first["akool_job_id"])
    # both are remembered: going back to the first sandbox sends nothing
    with af.Client(**sb.client_options(), ledger=path) as back:
        assert _run(df, back) == first
    assert sb.stats()["creates"] == DISTINCT
