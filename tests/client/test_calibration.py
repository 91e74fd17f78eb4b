"""Calibration: talking photos report no credits, yet the balance went down. Run them on the sandbox,
calibrate from the ledger, estimate again: within 2% of what the sandbox charged, with the rate's source shown.
After the run, the report puts estimated and charged side by side and says "not reported" where the API is
silent, never 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from tests.client.conftest import VOICE

LENGTHS = [30.0, 30.0, 20.0, 40.0, 30.0, 50.0, 30.0, 60.0]  # seconds of each row's audio
AUDIO = {f"https://cdn.example.com/a{i}.mp3": s for i, s in enumerate(LENGTHS)}


def _photos(client: af.Client, verb: str, **options: Any) -> Any:
    df = pd.DataFrame({"audio": list(AUDIO), "seconds": LENGTHS})
    return getattr(df.akool, verb)("talking_photo", talking_photo_url="https://cdn.example.com/face.png",
                                   audio_url=af.col("audio"), duration=af.col("seconds"), client=client,
                                   **({"progress": False} if verb == "run" else {}), **options)


def test_run_calibrate_estimate_again(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(media=AUDIO)
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    before = _photos(client, "estimate")
    assert before["akool_credits_est"].isna().all()  # no documented price: null, with the reason
    assert before["akool_price_basis"].str.startswith("no estimate: the docs give no price for talking_photo").all()
    assert before["akool_duration_s"].tolist() == LENGTHS and set(before["akool_duration_source"]) == {"given"}
    requests = sb.stats()["requests"]

    done = _photos(client, "run")
    assert done["akool_status"].tolist() == ["completed"] * len(LENGTHS)
    assert done["akool_credits"].isna().all()  # the API reports nothing: null, not 0
    assert done["akool_price_basis"].str.contains("the docs give no price").all()  # the reason stays visible
    charged = sb.stats()["credits_charged"]
    assert charged > 0 and sb.stats()["requests"] > requests

    rates = af.calibrate(client=client)
    line = rates[rates["job"] == "talking_photo"].iloc[0]
    assert line["jobs"] == len(LENGTHS) and line["charged"] == pytest.approx(charged)
    assert line["units"] == pytest.approx(sum(LENGTHS) / 60)  # the unit: minutes of output video
    assert "account balance" in line["source"] and "8 charged jobs" in line["source"]

    for given in ("calibrated", rates):
        again = _photos(client, "estimate", rates=given)
        assert again["akool_credits_est"].sum() == pytest.approx(charged, rel=0.02)
        assert again["akool_price_basis"].str.contains("calibrated from 8 charged jobs").all()
    client.close()


def test_no_balance_record_when_another_run_shares_the_account_meanwhile(make_sandbox: Any, tmp_path: Path) -> None:
    """A balance that another writer may have moved says nothing about this run's jobs: not recorded."""
    sb = make_sandbox(media=AUDIO)
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    other = client.ledger.register("run tts, 3 jobs")  # another run writing to the same ledger
    _photos(client, "run")
    client.ledger.release(other).result()
    assert client.ledger.balance_records() == []
    calibrated = af.calibrate(client=client)
    assert calibrated.empty or calibrated["rate"].isna().all()
    client.close()


def test_report_after_a_chain_puts_estimated_and_charged_side_by_side(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(media=AUDIO)
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    df = pd.DataFrame({"script": ["Hello there.", "Good evening, everyone.", "See you soon."],
                       "language": ["en", "en", "fr"]})
    speech = df.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, prefix="tts_",
                          progress=False)
    videos = speech.akool.run("talking_photo", talking_photo_url="https://cdn.example.com/face.png",
                              audio_url=af.col("tts_url"), client=client, prefix="video_", progress=False)
    rep = af.report(videos, by=["job", "language"])
    table = rep.table
    tts = table[(table["job"] == "tts") & (table["language"] == "en")].iloc[0]
    assert tts["credits_charged"] == pytest.approx(sum(len(t) * 4.4 / 1000 for t in df["script"][:2]), abs=1e-6)
    assert tts["credits_est"] == pytest.approx(tts["credits_charged"], abs=1e-6)
    photos = table[table["job"] == "talking_photo"]
    assert photos["credits_charged"].isna().all() and photos["unreported_rows"].sum() == 3
    assert "not reported by the API for 3 rows (talking_photo)" in rep.summary()
    assert rep.unpriced["job"].tolist() == ["talking_photo"] * 3
    assert rep.unpriced["reason"].str.contains("the docs give no price").all()
    # the speech was probed for the videos' estimate: its lengths are on the rows, from the sandbox's files
    assert videos["video_duration_source"].tolist() == ["probed"] * 3
    assert (videos["video_duration_s"] > 0).all()
    html = rep.to_html(tmp_path / "report.html")
    assert "data:image/png;base64," in Path(html).read_text()
    client.close()
