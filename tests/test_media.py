"""Checks that akool_frames.sandbox._media makes valid files of the requested duration."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest

from akool_frames.sandbox._media import content_type, probe_duration, render

DURATIONS = [0.5, 1, 3.7, 10, 61.3, 120]
AV_KINDS = ["wav", "mp3", "mp4"]


def _mutagen_length(ext: str, data: bytes) -> float:
    if ext == "wav":
        from mutagen.wave import WAVE as cls
    elif ext == "mp3":
        from mutagen.mp3 import MP3 as cls
    else:
        from mutagen.mp4 import MP4 as cls
    return cls(io.BytesIO(data)).info.length


@pytest.mark.parametrize("duration", DURATIONS)
@pytest.mark.parametrize("ext", AV_KINDS)
def test_mutagen_reads_requested_duration(ext: str, duration: float) -> None:
    pytest.importorskip("mutagen")
    assert _mutagen_length(ext, render(ext, duration)) == pytest.approx(duration, abs=0.05)


def test_mutagen_sees_plain_cbr_mp3() -> None:
    mp3 = pytest.importorskip("mutagen.mp3")
    info = mp3.MP3(io.BytesIO(render("mp3", 3))).info
    assert (info.sample_rate, info.bitrate, info.channels, info.sketchy) == (32000, 32000, 1, False)


@pytest.mark.parametrize("duration", DURATIONS)
@pytest.mark.parametrize("ext", AV_KINDS)
def test_probe_duration_agrees(ext: str, duration: float) -> None:
    # MP3 is quantised to whole 1152-sample frames (36 ms at 32 kHz).
    tol = 1152 / 32000 / 2 + 1e-9 if ext == "mp3" else 1e-3
    assert probe_duration(render(ext, duration)) == pytest.approx(duration, abs=tol)


def test_probe_duration_rejects_png_and_junk() -> None:
    for data in (render("png"), b"", b"hello world", b"RIFF", bytes(100), b"\xff\xfb"):
        assert probe_duration(data) is None


def test_png_is_valid() -> None:
    data = render("png", seed=3)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack_from(">I", data, pos + 8 + n)[0] == zlib.crc32(tag + body)
        chunks.append((tag, body))
        pos += 12 + n
    assert [t for t, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (64, 64, 8, 2, 0, 0, 0)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == 64 * (1 + 64 * 3) and raw[0] == 0


def test_wav_is_an_audible_tone() -> None:
    data = render("wav", 1)
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    samples = struct.unpack_from("<8000h", data, 44)
    assert 1000 < max(samples) < 32767


def test_deterministic_and_seeded() -> None:
    for ext in ("wav", "mp3", "mp4", "png"):
        assert render(ext, 2.5, seed=7) == render(ext, 2.5, seed=7)
    for ext in ("wav", "mp4", "png"):
        assert render(ext, 2.5, seed=1) != render(ext, 2.5, seed=2)


def test_default_duration_and_bad_args() -> None:
    assert probe_duration(render("wav")) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="wav, mp3, mp4, png"):
        render("jpg")
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            render("mp4", bad)


def test_content_types() -> None:
    assert [content_type(e) for e in ("wav", "mp3", "mp4", "png")] == [
        "audio/wav", "audio/mpeg", "video/mp4", "image/png"]
    assert content_type(".MP4") == "video/mp4"
    with pytest.raises(ValueError):
        content_type("gif")


@pytest.mark.parametrize("ext", ["wav", "mp3", "mp4", "png"])
def test_render_is_cheap_and_small(ext: str) -> None:
    best = min(_timed(ext) for _ in range(3))  # best of 3 keeps a busy CI box from flaking
    assert best < 0.1
    assert len(render(ext, 120)) < (2_000_000 if ext == "wav" else 500_000)


def _timed(ext: str) -> float:
    start = time.perf_counter()
    render(ext, 120)
    return time.perf_counter() - start
