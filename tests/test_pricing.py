"""Price rules: PRODUCT.md's worked examples exactly, undocumented prices as None + reason, user rates, durations."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akool_frames.catalog import JOBS, get_job
from akool_frames.pricing import _media as media
from akool_frames.pricing import _rules as pricing
from akool_frames.pricing._rules import Price, PriceContext


def estimate(job: Any, body: Any, context: PriceContext | None = None) -> Price:
    """``pricing.estimate`` of a job given by name (the rules take the job's spec)."""
    return pricing.estimate(get_job(job), body, context)


def ctx(seconds: float | None = None, plan: str = "pro", **rates: float) -> PriceContext:
    """A context whose duration() answers ``seconds`` for every URL (None: unknown)."""
    how = "probed" if seconds is not None else "could not fetch"
    return PriceContext(plan=plan, rates=rates, duration=lambda _url: (seconds, how))


SWAP = {"image": "https://x/c.png", "video": "https://x/v.mp4"}


# ------------------------------------------------------------------------------ PRODUCT.md "Credits", exactly
def test_character_swap_worked_examples() -> None:
    assert estimate("character_swap", {**SWAP, "duration": 12, "resolution": "720p"}).credits == 30
    assert estimate("character_swap", {**SWAP, "duration": 10, "resolution": "720p"}).credits == 20
    assert estimate("character_swap", {**SWAP, "duration": 12}).credits == 30  # 720p is the default
    assert estimate("character_swap", {**SWAP, "duration": 5, "resolution": "480p"}).credits == 5
    assert estimate("character_swap", {**SWAP, "duration": 5.5, "resolution": "1080p"}).credits == 30


def test_character_swap_takes_the_video_length_when_no_duration() -> None:
    price = estimate("character_swap", {**SWAP, "resolution": "720p"}, ctx(12.0))
    assert price.credits == 30 and "probed" in price.basis
    assert estimate("character_swap", {**SWAP}, ctx(10.0)).credits == 20
    unknown = estimate("character_swap", {**SWAP}, ctx(None))
    assert unknown.credits is None and "duration" in (unknown.reason or "")
    assert estimate("character_swap", {**SWAP, "duration": 12}, ctx(99.0)).credits == 30  # the body wins


@pytest.mark.parametrize(("length", "res", "credits"), [
    (5, "720p", 20), (5, "1080p", 25), (5, "4k", 30), (10, "720p", 40), (10, "1080p", 50), (10, "4k", 60)])
def test_image_to_video_fixed_table(length: int, res: str, credits: int) -> None:
    body = {"image_url": "u", "prompt": "p", "negative_prompt": "n", "audio_type": 3,
            "resolution": res, "video_length": length}
    assert estimate("image_to_video", body).credits == credits


def test_image_to_video_model_unit_credit() -> None:
    body = {"image_url": "u", "prompt": "p", "model_name": "seedance-1-0-lite-i2v-250428", "resolution": "720p"}
    assert estimate("image_to_video", {**body, "video_length": 5}).credits == 5
    ten = estimate("image_to_video", {**body, "video_length": 10})
    assert ten.credits == 10 and "derived" in ten.basis
    fast = {**body, "model_name": "AkoolImage2VideoFastV1", "video_length": 5}
    assert estimate("image_to_video", {**fast, "resolution": "4k"}).credits == 20
    unknown = estimate("image_to_video", {**body, "model_name": "vidu-q1", "video_length": 5})
    assert unknown.credits is None and "aigModel" in (unknown.reason or "")


def test_video_audio_by_source_length() -> None:
    body = {"pre_video_id": "6890830af27dfad2a3e6062d", "audio_type": 1}
    assert estimate("video_audio", body, ctx(5.0)).credits == 5
    assert estimate("video_audio", body, ctx(5.063)).credits == 5  # the docs' example video
    assert estimate("video_audio", body, ctx(10.0)).credits == 10
    unknown = estimate("video_audio", body, ctx(None))
    assert unknown.credits is None and unknown.reason


def test_voicelab_tts_worked_example() -> None:
    body = {"input_text": "x" * 117, "voice_id": "v"}
    assert estimate("tts", body, ctx(plan="pro")).credits == 0.5148
    assert estimate("tts", body, ctx(plan="max")).credits == 0.3744
    assert estimate("tts", body, ctx(plan="Pro Max")).credits == 0.3744
    assert estimate("tts", body, ctx(plan="business")).credits == 0.2808
    assert estimate("tts", {"input_text": "a" * 1000, "voice_id": "v"}, ctx(plan="pro")).credits == 4.4
    # characters are code points: the docs' Polish text is 117 characters (124 bytes)
    polish = ("Życie jak wspinaczka górska: ważniejsza od wysokości szczytu jest postawa, z jaką się wspinasz. "
              "Gdy czujesz, że stopy")
    assert len(polish) == 117
    assert estimate("tts", {"input_text": polish, "voice_id": "v"}).credits == 0.5148


def test_voice_changer_worked_example() -> None:
    body = {"voice_id": "v", "source_voice_file": "https://x/a.mp3"}
    assert estimate("voice_change", body, ctx(12.8, plan="business")).credits == 0.512
    assert estimate("voice_change", body, ctx(60.0, plan="pro")).credits == 4.4
    assert estimate("voice_change", body, ctx(None)).credits is None


def test_voice_clone_is_free() -> None:
    assert estimate("voice_clone", {"source_voice_file": "u"}).credits == 0


@pytest.mark.parametrize(("chars", "credits"), [(60, 1), (215, 3), (100, 1), (101, 2), (200, 2), (201, 3), (33, 1)])
def test_audiocleaner_per_started_100(chars: int, credits: int) -> None:
    body = {"voice_id": 2072, "emotion": 0, "speed": 1, "language": "en", "text": "a" * chars}
    assert estimate("audiocleaner.tts", body).credits == credits


def test_moderation_rates() -> None:
    assert estimate("moderation", {"type": 4, "content": "a" * 600}).credits == 0.1
    assert estimate("moderation", {"type": 4, "content": "a" * 300}).credits == 0.05  # pro rata, no rounding
    assert estimate("moderation", {"type": 1, "content": "https://x/i.png"}).credits == 0.2
    assert estimate("moderation", {"type": 3, "content": "https://x/a.mp3"}, ctx(60.0)).credits == 0.5
    assert estimate("moderation", {"type": 3, "content": "https://x/a.mp3"}, ctx(90.0)).credits == 0.75
    assert estimate("moderation", {"type": 2, "content": "https://x/v.mp4"}, ctx(60.0)).credits == 1
    assert estimate("moderation", {"type": 2, "content": "https://x/v.mp4"}, ctx(None)).credits is None
    by_url = estimate("moderation", {"type": 4, "content": "https://x/doc.txt"})
    assert by_url.credits is None and by_url.reason
    # 1 credit = 0.04 USD: the table's USD column agrees with its credit column
    assert math.isclose(0.1 * 0.04, 0.004) and math.isclose(1 * 0.04, 0.04)


# ---------------------------------------------------------------------------------- undocumented, user rates
UNPRICED = ["talking_photo", "talking_avatar", "lip_sync", "video_translation", "legacy_tts", "legacy_voice_clone",
            "faceswap_image", "faceswap_video", "faceswap_pro", "reage_image", "reage_video", "avatar_upload",
            "kling.custom_voice"]


@pytest.mark.parametrize("job", UNPRICED)
def test_undocumented_prices_are_none_with_a_reason(job: str) -> None:
    price = estimate(job, {"input_text": "hello", "elements": []}, ctx(30.0))
    assert price.credits is None
    assert price.reason is not None and "rates=" in price.reason and job in price.reason
    assert price.reason.startswith(f"the docs give no price for {job}; pass rates={{'{job}': ...}}")


@pytest.mark.parametrize(("job", "credits"), [("background_change", 4), ("image_generate", 2), ("image_button", 2)])
def test_image_prices_are_observed_estimates(job: str, credits: int) -> None:
    price = estimate(job, {})
    assert price.credits == credits and "observed" in price.basis and "rates=" in price.basis
    assert estimate(job, {}, PriceContext(rates={job: 3})).credits == 3  # a user rate replaces the estimate


@pytest.mark.parametrize(("job", "body", "seconds", "rate", "credits"), [
    ("talking_photo", {"audio_url": "https://x/a.mp3"}, 90.0, 2.0, 3.0),  # per minute of output
    ("lip_sync", {"video_url": "https://x/v.mp4"}, 11.7, 1.0, 2.0),  # per started 10 s
    ("video_translation", {"url": "https://x/v.mp4", "language": "es,fr,de"}, 30.0, 2.0, 3.0),  # per min x langs
    ("faceswap_video", {"modifyVideo": "https://x/v.mp4"}, 120.0, 1.5, 3.0),
    ("reage_video", {"modifyVideo": "https://x/v.mp4"}, 30.0, 1.0, 0.5),
    ("faceswap_image", {}, None, 1.25, 1.25),  # per job
    ("faceswap_pro", {}, None, 2.0, 2.0),
    ("reage_image", {}, None, 2.0, 2.0),
    ("avatar_upload", {}, None, 10.0, 10.0),
    ("kling.custom_voice", {}, None, 1.0, 1.0),
    ("legacy_tts", {"input_text": "a" * 2500}, None, 2.0, 5.0),  # per 1000 characters
    ("legacy_voice_clone", {"input_text": "a" * 500}, None, 1.0, 0.5),
    ("talking_avatar", {"elements": [{"type": "audio", "url": "https://x/a.mp3"}]}, 30.0, 4.0, 2.0),
])
def test_user_rates_apply_with_their_unit(job: str, body: dict[str, Any], seconds: float | None, rate: float,
                                          credits: float) -> None:
    price = estimate(job, body, PriceContext(rates={job: rate}, duration=lambda _url: (seconds, "probed")))
    assert price.credits == credits, price
    assert "your rate" in price.basis


def test_user_rate_needing_an_unknown_duration_says_why() -> None:
    price = estimate("talking_photo", {"audio_url": "https://x/a.mp3"}, ctx(None, talking_photo=2.0))
    assert price.credits is None and "audio_url" in (price.reason or "") and "could not fetch" in (price.reason or "")


def test_talking_avatar_predicts_speech_from_text() -> None:
    text = "a" * 900  # 60 s at 15 characters a second
    body = {"elements": [{"type": "audio", "input_text": text, "voice_id": "v"}]}
    price = estimate("talking_avatar", body, ctx(None, talking_avatar=3.0))
    assert price.credits == 3.0 and "predicted" in price.basis


def test_user_rates_do_not_override_documented_rules_but_fill_enterprise() -> None:
    body = {"input_text": "a" * 1000, "voice_id": "v"}
    assert estimate("tts", body, ctx(plan="pro", tts=99.0)).credits == 4.4
    enterprise = estimate("tts", body, ctx(plan="enterprise"))
    assert enterprise.credits is None and "rates=" in (enterprise.reason or "")
    assert estimate("tts", body, ctx(plan="enterprise", tts=2.0)).credits == 2.0
    change = {"voice_id": "v", "source_voice_file": "u"}
    assert estimate("voice_change", change, ctx(30.0, plan="enterprise", voice_change=2.0)).credits == 1.0


def test_every_rule_has_a_source_and_every_job_a_rule() -> None:
    for name, rate in pricing.RATES.items():
        assert rate.source and rate.unit, name
    for name, spec in JOBS.items():
        assert isinstance(pricing.rule(spec.price)({}, PriceContext()), Price), name
        assert name in pricing.RATES or name in pricing.UNDOCUMENTED
    assert get_job("tts").price == "tts" and pricing.rule("tts") is pricing.rule("tts")
    with pytest.raises(KeyError, match="UNDOCUMENTED"):
        pricing.rule("no_such_job")


def test_estimate_fills_defaults_and_takes_specs() -> None:
    assert estimate(get_job("character_swap"), {**SWAP, "duration": 10}).credits == 20
    assert pricing.plan_key(" Pro-Max ") == "max" and pricing.plan_key(None) == "pro"


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 50_000), plan=st.sampled_from(["pro", "max", "business"]))
def test_tts_is_linear_and_not_rounded(n: int, plan: str) -> None:
    rate = {"pro": 4.4, "max": 3.2, "business": 2.4}[plan]
    credits = estimate("tts", {"input_text": "a" * n, "voice_id": "v"}, ctx(plan=plan)).credits
    assert credits == round(n * rate / 1000, 6)


@settings(max_examples=80, deadline=None)
@given(seconds=st.floats(0.1, 120), res=st.sampled_from(["480p", "720p", "1080p"]))
def test_character_swap_is_per_started_block(seconds: float, res: str) -> None:
    unit = {"480p": 5, "720p": 10, "1080p": 15}[res]
    credits = estimate("character_swap", {**SWAP, "duration": seconds, "resolution": res}).credits
    assert credits == math.ceil(round(seconds / 5, 9)) * unit


# --------------------------------------------------------------- monotonic and block boundaries (issue 7)
# Every duration-priced job (with a user rate where the docs give none), and every character-priced one.
DURATION_PRICED = ["character_swap", "voice_change", "talking_photo", "talking_avatar", "lip_sync",
                   "video_translation", "faceswap_video", "reage_video", "video_audio"]
CHARACTER_PRICED = ["tts", "audiocleaner.tts", "legacy_tts", "legacy_voice_clone", "moderation"]


def _unit(job: str, seconds: float | None = None, chars: int | None = None) -> float | None:
    from akool_frames.report._forecast import unit_body

    line = {"duration_s": seconds, "characters": chars, "type": 4 if job == "moderation" else None,
            "resolution": "720p" if job == "character_swap" else None}
    body = unit_body(job, {k: v for k, v in line.items() if v is not None})
    return estimate(job, body, PriceContext(rates=dict.fromkeys(pricing.UNDOCUMENTED, 7.0), given=seconds)).credits


@settings(max_examples=60, deadline=None)
@given(job=st.sampled_from(DURATION_PRICED), a=st.floats(0.05, 600), b=st.floats(0.05, 600))
def test_estimates_never_decrease_as_the_media_grows(job: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert _unit(job, seconds=low) <= _unit(job, seconds=high)  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(job=st.sampled_from(CHARACTER_PRICED), a=st.integers(1, 20_000), b=st.integers(1, 20_000))
def test_estimates_never_decrease_as_the_text_grows(job: str, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert _unit(job, chars=low) <= _unit(job, chars=high)  # type: ignore[operator]


@pytest.mark.parametrize(("job", "at", "just_past", "blocks"), [
    ("character_swap", 5.0, 5.01, (1, 2)),      # per started 5 s (12 s at 720p = 30)
    ("character_swap", 10.0, 10.01, (2, 3)),
    ("lip_sync", 10.0, 10.01, (1, 2)),          # per started 10 s (the examples' 10 s blocks)
])
def test_duration_blocks_start_where_the_docs_put_them(job: str, at: float, just_past: float,
                                                        blocks: tuple[int, int]) -> None:
    unit = _unit(job, seconds=at) / blocks[0]  # type: ignore[operator]
    assert _unit(job, seconds=just_past) == pytest.approx(unit * blocks[1])


@pytest.mark.parametrize(("chars", "credits"), [(1, 1), (100, 1), (101, 2), (200, 2), (201, 3)])
def test_audiocleaner_blocks_start_at_each_hundred(chars: int, credits: int) -> None:
    assert _unit("audiocleaner.tts", chars=chars) == credits


# -------------------------------------------------------------------------------------------------- media
def _wav(seconds: float, rate: int = 16000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * channels * int(rate * seconds))
    return buf.getvalue()


def _mp3_cbr(frames: int) -> bytes:
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames
    return (b"\xff\xfb\x90\x00" + bytes(413)) * frames


def _mp3_xing(frames: int) -> bytes:
    first = bytearray(b"\xff\xfb\x90\x00" + bytes(413))
    first[36:48] = b"Xing" + struct.pack(">II", 1, frames)  # stereo MPEG-1: 32 bytes of side info
    return bytes(first) + _mp3_cbr(3)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _mp4(seconds: float, moov_last: bool = False, mdat: int = 1000) -> bytes:
    mvhd = _box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, round(seconds * 1000)) + bytes(80))
    ftyp, moov, data = _box(b"ftyp", b"isom" + bytes(4) + b"isom"), _box(b"moov", mvhd), _box(b"mdat", bytes(mdat))
    return ftyp + (data + moov if moov_last else moov + data)


@pytest.mark.parametrize(("make", "seconds"), [
    (lambda: _wav(3.0), 3.0), (lambda: _wav(1.5, 8000, 2), 1.5),
    (lambda: _mp3_cbr(100), 100 * 417 * 8 / 128000), (lambda: _mp3_xing(250), 250 * 1152 / 44100),
    (lambda: b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(10) + _mp3_cbr(50), 50 * 417 * 8 / 128000),
    (lambda: _mp4(12.5), 12.5), (lambda: _mp4(10.5, moov_last=True), 10.5)])
def test_duration_from_whole_files(make: Callable[[], bytes], seconds: float) -> None:
    assert media.duration_from_bytes(make()) == pytest.approx(seconds, abs=1e-6)


def test_duration_from_a_head_and_the_total_size() -> None:
    wav = _wav(4.0)
    assert media.duration_from_bytes(wav[:64], len(wav)) == pytest.approx(4.0)
    mp3 = _mp3_cbr(400)
    assert media.duration_from_bytes(mp3[:4096], len(mp3)) == pytest.approx(400 * 417 * 8 / 128000)
    mp4 = _mp4(7.0, moov_last=True, mdat=100_000)
    assert media.duration_from_bytes(mp4[:4096], len(mp4)) is None  # moov not in the head: cannot tell
    for junk in (b"", b"hello world", b"\x89PNG\r\n\x1a\n" + bytes(100), bytes(64), b"RIFF"):
        assert media.duration_from_bytes(junk) is None


def test_probe_local(tmp_path: Path) -> None:
    for name, data, seconds in [("a.wav", _wav(2.0), 2.0), ("b.mp4", _mp4(9.0, moov_last=True, mdat=600_000), 9.0),
                                ("c.mp3", _mp3_cbr(1000), 1000 * 417 * 8 / 128000)]:
        path = tmp_path / name
        path.write_bytes(data)
        assert media.probe_local(path) == pytest.approx(seconds)
    (tmp_path / "d.txt").write_text("not media")
    assert media.probe_local(tmp_path / "d.txt") is None


def test_speech_seconds() -> None:
    assert media.speech_seconds("a" * 150) == 10.0
    assert media.speech_seconds("a" * 150, speed=2) == 5.0
    assert media.speech_seconds("你好世界") == 1.0  # CJK: 4 characters a second
    assert media.speech_seconds("") == 0
    with pytest.raises(ValueError, match="speed"):
        media.speech_seconds("hi", speed=0)


def test_probe_local_of_a_missing_file_is_unknown(tmp_path: Path) -> None:
    assert media.probe_local(tmp_path / "nope.mp4") is None
    assert media.probe_local("6890830af27dfad2a3e6062d") is None  # an id is not a file


def test_rules_ask_for_every_duration_they_need() -> None:
    # The engine prices twice: first to learn which URLs to probe, then with their durations.
    asked: list[str] = []

    def record(url: str) -> tuple[float | None, str]:
        asked.append(url)
        return None, "not probed"

    body = {"elements": [{"type": "audio", "url": "https://x/1.mp3"}, {"type": "audio", "url": "https://x/2.mp3"}]}
    estimate("talking_avatar", body, PriceContext(rates={"talking_avatar": 1.0}, duration=record))
    assert asked == ["https://x/1.mp3", "https://x/2.mp3"]
    known = {"https://x/1.mp3": 30.0, "https://x/2.mp3": 90.0}
    price = estimate("talking_avatar", body, PriceContext(rates={"talking_avatar": 1.0},
                                                          duration=lambda u: (known[u], "probed")))
    assert price.credits == 2.0
