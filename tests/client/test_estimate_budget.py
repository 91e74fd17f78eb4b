"""estimate(): exact documented prices, invalid rows, unpriced jobs with a reason, user rates; budget=
refuses before anything is sent; a polars LazyFrame estimate stays lazy and equals the eager one."""

from __future__ import annotations

import httpx
import polars as pl
import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns, make_frame, tts_credits
from tests.conftest import media_seconds

TEXT_117 = "x" * 117  # the docs' worked example: 117 characters on pro -> 0.5148
TEXTS = [TEXT_117, "Hello world, this is a short line.", "", "y" * 5001, "A" * 1000]


def _estimate(df: object, client: af.Client, **options: object) -> dict[str, list[object]]:
    out = df.akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, client=client, **options)
    return columns(out)


def test_tts_estimate_is_the_documented_rule(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    got = _estimate(df, client)
    assert list(got) == ["text", "akool_credits_est", "akool_status", "akool_error", "akool_job", "akool_price_basis",
                         "akool_duration_s", "akool_duration_source"]
    assert got["akool_credits_est"][0] == pytest.approx(0.5148, abs=1e-12)
    assert got["akool_credits_est"][1] == pytest.approx(tts_credits(TEXTS[1]), abs=1e-12)
    assert got["akool_credits_est"][4] == pytest.approx(4.4, abs=1e-12)
    assert [got["akool_status"][i] for i in (0, 1, 4)] == [None, None, None]
    assert [got["akool_error"][i] for i in (0, 1, 4)] == [None, None, None]
    # invalid rows: no price, status invalid, the field named
    assert got["akool_status"][2] == got["akool_status"][3] == "invalid"
    assert got["akool_credits_est"][2] is None and got["akool_credits_est"][3] is None
    assert got["akool_error"][2].startswith("row 2: input_text is required")
    assert got["akool_error"][3] == "row 3: input_text has 5001 characters; the limit on the pro plan is 5000"
    # other plans: their rate and their text limit
    on_max = _estimate(df, client, plan="max")
    assert on_max["akool_credits_est"][0] == pytest.approx(117 * 3.2 / 1000, abs=1e-12)
    assert on_max["akool_credits_est"][3] == pytest.approx(5001 * 3.2 / 1000, abs=1e-12)  # under max's 10,000
    with af.Client(**{**sb.client_options(), "plan": "business"}, ledger=client.ledger_path) as business:
        assert _estimate(df, business)["akool_credits_est"][4] == pytest.approx(2.4, abs=1e-12)
    assert sb.stats()["requests"] == 0  # pricing text needs no network


def test_unpriced_job_says_why_and_takes_rates(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    preview = af.voices(client=client)["preview"].tolist()[0]  # a 4 s sandbox clip: its length can be probed
    df = make_frame(frame_lib, {"photo": ["https://example.com/a.png", "https://example.com/b.png"],
                                "audio": [preview, None]})
    params = {"talking_photo_url": af.col("photo"), "audio_url": af.col("audio"), "client": client}

    unpriced = columns(df.akool.estimate("talking_photo", **params))
    assert unpriced["akool_credits_est"] == [None, None]
    assert unpriced["akool_status"][0] is None
    assert "rates=" in unpriced["akool_error"][0] and "talking_photo" in unpriced["akool_error"][0]
    assert unpriced["akool_status"][1] == "invalid" and "audio_url is required" in unpriced["akool_error"][1]

    priced = columns(df.akool.estimate("talking_photo", rates={"talking_photo": 3.0}, **params))
    seconds = media_seconds(httpx.get(preview, timeout=10).content, "mp3")
    assert priced["akool_credits_est"][0] == pytest.approx(3.0 * seconds / 60, rel=0.02)
    assert priced["akool_error"][0] is None
    assert priced["akool_status"][1] == "invalid"
    assert sb.stats()["creates"] == 0


def test_budget_below_the_estimate_sends_nothing(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    texts = [f"Line {i} of the script." for i in range(10)]
    df = make_frame(frame_lib, {"text": texts})
    total = sum(tts_credits(t) for t in texts)
    for verb in ("run", "submit"):
        with pytest.raises(af.BudgetExceeded) as caught:
            getattr(df.akool, verb)("tts", input_text=af.col("text"), voice_id=VOICE, budget=total * 0.99,
                                    client=client, progress=False)
        assert caught.value.estimate == pytest.approx(total)
        assert "nothing was sent" in str(caught.value)
    assert sb.stats()["requests"] == 0
    assert sb.log() == []
    assert af.ledger(client=client).shape[0] == 0  # not even an intent

    out = columns(df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, budget=total * 1.01, client=client,
                               progress=False))
    assert out["akool_status"] == ["completed"] * 10
    assert sb.stats()["creates"] == 10
    assert sb.stats()["credits_charged"] == pytest.approx(total, abs=1e-5)


def test_estimate_takes_a_budget_too(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    priced = tts_credits(TEXTS[0]) + tts_credits(TEXTS[1]) + tts_credits(TEXTS[4])  # invalid rows cost nothing
    with pytest.raises(af.BudgetExceeded) as caught:
        df.akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, budget=priced - 0.01, client=client)
    assert caught.value.estimate == pytest.approx(priced)
    within = columns(df.akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, budget=priced + 0.01,
                                       client=client))
    assert within["akool_credits_est"][0] == pytest.approx(0.5148, abs=1e-12)
    if frame_lib == "polars":  # a lazy plan has no rows to add up before it is collected: said, not ignored
        with pytest.raises(af.ValidationError, match="collect"):
            df.lazy().akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, budget=100, client=client)
    assert sb.stats()["requests"] == 0


def test_budget_holds_back_rows_without_a_price(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    """An unpriced row cannot be promised under a budget: skipped, not sent; the priced ones run."""
    # an audio whose length cannot be read (a name that never resolves, RFC 2606): no price
    df = make_frame(frame_lib, {"photo": ["https://example.com/a.png"],
                                "audio": ["https://cdn.unreachable.invalid/x.mp3"]})
    out = columns(df.akool.run("talking_photo", talking_photo_url=af.col("photo"), audio_url=af.col("audio"),
                               budget=1000, client=client, progress=False))
    assert out["akool_status"] == ["skipped"]
    assert "budget" in out["akool_error"][0]
    assert sb.stats()["creates"] == 0


def test_lazy_estimate_stays_lazy_and_equals_the_eager_one(sb: af.Sandbox, client: af.Client) -> None:
    lf = pl.LazyFrame({"text": TEXTS, "n": list(range(len(TEXTS)))}).filter(pl.col("n") >= 0)
    lazy = lf.akool.estimate("tts", input_text=pl.col("text"), voice_id=VOICE, client=client)
    assert isinstance(lazy, pl.LazyFrame)
    eager = lf.collect().akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, client=client)
    assert isinstance(eager, pl.DataFrame)
    collected = lazy.collect()
    assert collected.schema == eager.schema
    assert collected.to_dicts() == eager.to_dicts()
    assert collected["akool_credits_est"][0] == pytest.approx(0.5148, abs=1e-12)
    assert sb.stats()["requests"] == 0
