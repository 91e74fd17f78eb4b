"""Checks that akool_frames.sandbox._media makes valid files of the requested duration, and that akool_frames.pricing._media
reads lengths from parts of files (what a probe fetches) without guessing."""

from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from akool_frames.pricing._media import HEAD_BYTES, TAIL_BYTES, duration_from_bytes, moov_span, probe_local
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
    """Two minutes cost what one second costs: the bytes of a second (a frame, a sample) are repeated, not made
    again per second. Counted in Python calls, not seconds, so a busy machine does not change the answer (a loop
    per second or per frame adds 120 calls or more)."""
    assert _calls(ext, 120) <= _calls(ext, 1) + 50
    assert len(render(ext, 120)) < (2_000_000 if ext == "wav" else 500_000)


def _calls(ext: str, seconds: float) -> int:
    """Python and C function calls ``render`` makes (in this thread, where it runs)."""
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        render(ext, seconds)
    finally:
        sys.setprofile(None)
    return calls


# ------------------------------------------------------------------ lengths from part of a file (akool_frames.pricing._media)
# A probe fetches the first HEAD_BYTES of a file and knows its real size (Content-Range); these are the cases where
# that head alone would mislead or not tell, read here from bytes alone (tests/client/test_probe.py fetches them).


def _box(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + tag + body


def _top_boxes(data: bytes) -> dict[bytes, bytes]:
    boxes, pos = {}, 0
    while pos < len(data):
        (size,) = struct.unpack_from(">I", data, pos)
        boxes[data[pos + 4:pos + 8]] = data[pos + 8:pos + size]
        pos += size
    return boxes


def _with_stco(moov_body: bytes, mdat_payload_at: int) -> bytes:
    i = moov_body.index(b"stco") + 12  # tag, version/flags, entry count: then the one chunk offset
    return moov_body[:i] + struct.pack(">I", mdat_payload_at) + moov_body[i + 4:]


def mp4_moov_last(seconds: float, pad: int = 300 * 1024) -> bytes:
    """An MP4 laid out ftyp, mdat (the samples, then ``pad`` bytes), moov: its moov lies beyond a HEAD_BYTES head."""
    b = _top_boxes(render("mp4", seconds))
    ftyp = _box(b"ftyp", b[b"ftyp"])
    return ftyp + _box(b"mdat", b[b"mdat"] + bytes(pad)) + _box(b"moov", _with_stco(b[b"moov"], len(ftyp) + 8))


def mp4_big_moov(seconds: float, pad: int = 300 * 1024) -> bytes:
    """A fast-start MP4 whose moov (mvhd, a ``pad``-byte free box, then the track) is bigger than the head."""
    b = _top_boxes(render("mp4", seconds))
    moov = b[b"moov"]
    trak = moov.index(b"trak") - 4
    ftyp = _box(b"ftyp", b[b"ftyp"])
    body = moov[:trak] + _box(b"free", bytes(pad)) + moov[trak:]
    at = len(ftyp) + len(body) + 8 + 8
    return ftyp + _box(b"moov", _with_stco(body, at)) + _box(b"mdat", b[b"mdat"])


def ogg_vorbis(seconds: float, pad: int = 400_000) -> bytes:
    """A Vorbis stream (headers, filler pages, a last page): its length is the last page's granule position."""
    from mutagen.ogg import OggPage

    rate = 44100

    def page(packets: list[bytes], seq: int, position: int, *, first: bool = False, last: bool = False) -> bytes:
        p = OggPage()
        p.serial, p.sequence, p.position, p.packets, p.first, p.last = 1, seq, position, packets, first, last
        return p.write()

    ident = b"\x01vorbis" + struct.pack("<IBIiiiBB", 0, 1, rate, 0, 128000, 0, 0xB8, 1)
    comment = b"\x03vorbis" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0) + b"\x01"
    out = page([ident], 0, 0, first=True) + page([comment, b"\x05vorbis" + bytes(20)], 1, 0)
    while len(out) < pad:
        out += page([bytes(60_000)], out.count(b"OggS"), rate)
    return out + page([bytes(100)], out.count(b"OggS"), round(seconds * rate), last=True)


def flac(seconds: float) -> bytes:
    """fLaC with its STREAMINFO block (44.1 kHz, mono, 16 bit): the length is in the header."""
    rate = 44100
    fields = (rate << 44) | (15 << 36) | round(seconds * rate)  # rate, channels - 1, bits - 1, samples
    info = struct.pack(">HH", 4096, 4096) + bytes(6) + fields.to_bytes(8, "big") + bytes(16)
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info + b"\xff\xf8" + bytes(400_000)


def test_cbr_mp3_length_comes_from_its_head_and_the_real_size() -> None:
    data = render("mp3", 120)  # CBR, no Xing/Info header: the length is (size - start) / bitrate
    assert b"Xing" not in data[:4096] and b"Info" not in data[:4096] and len(data) > HEAD_BYTES
    head = data[:HEAD_BYTES]
    assert duration_from_bytes(head, len(data)) == pytest.approx(_mutagen_length("mp3", data), abs=0.05)
    assert duration_from_bytes(head) == pytest.approx(HEAD_BYTES * 8 / 32000, abs=0.1)  # the head alone: its length


def test_mp4_with_moov_after_mdat_needs_the_tail() -> None:
    data = mp4_moov_last(120)
    head, total = data[:HEAD_BYTES], len(data)
    assert _mutagen_length("mp4", data) == pytest.approx(120, abs=0.05)
    assert duration_from_bytes(head, total) is None  # the head cannot tell: no guess
    start, end = moov_span(head, total)
    assert (end, data[start + 4:start + 8]) == (total, b"moov")
    assert duration_from_bytes(head, total, data[start:]) == pytest.approx(120, abs=0.05)
    assert duration_from_bytes(head, total, data[-TAIL_BYTES:]) == pytest.approx(120, abs=0.05)


def test_mp4_with_a_moov_bigger_than_the_head() -> None:
    data = mp4_big_moov(61.3)
    head, total = data[:HEAD_BYTES], len(data)
    assert _mutagen_length("mp4", data) == pytest.approx(61.3, abs=0.05)
    assert duration_from_bytes(head, total) is None
    start, end = moov_span(head, total)
    assert start < HEAD_BYTES < end < total
    assert duration_from_bytes(data[:end], total) == pytest.approx(61.3, abs=0.05)


def test_moov_span_is_none_when_the_head_has_it_or_is_no_mp4() -> None:
    fast = render("mp4", 10)
    assert moov_span(fast, len(fast)) is None
    for data in (render("mp3", 10), render("wav", 10), b"", bytes(64)):
        assert moov_span(data[:HEAD_BYTES], len(data)) is None


def test_ogg_needs_its_last_page_and_flac_its_header() -> None:
    data = ogg_vorbis(37.5)
    assert duration_from_bytes(data[:HEAD_BYTES], len(data)) is None  # the last page is not in the head
    assert duration_from_bytes(data[:HEAD_BYTES], len(data), data[-TAIL_BYTES:]) == pytest.approx(37.5)
    data = flac(12.25)
    assert duration_from_bytes(data[:HEAD_BYTES], len(data)) == pytest.approx(12.25)


def test_what_cannot_be_read_gives_none() -> None:
    adts = bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]) + bytes(9)  # an AAC frame: mutagen would estimate
    for data in (render("png"), b"hello world", bytes(HEAD_BYTES), adts * 2000, render("mp3", 3)[:3]):
        assert duration_from_bytes(data, len(data) * 4) is None
        assert duration_from_bytes(data) is None


def test_probe_local_reads_only_what_it_needs(tmp_path: Path) -> None:
    for name, data, seconds in (("a.mp4", mp4_moov_last(30), 30), ("b.ogg", ogg_vorbis(7), 7),
                                ("c.flac", flac(3), 3), ("d.wav", render("wav", 2), 2)):
        (tmp_path / name).write_bytes(data)
        assert probe_local(tmp_path / name) == pytest.approx(seconds, abs=0.05)
    (tmp_path / "e.txt").write_text("not audio")
    assert probe_local(tmp_path / "e.txt") is None
    assert probe_local(tmp_path / "missing.mp3") is None
