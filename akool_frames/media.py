"""Media lengths without the network: predicted speech length, and durations parsed from a file's first bytes.

The engine fetches the bytes (an HTTP range request for a URL, or ``probe_local`` for a path) and hands them
here. Enough for the common case: WAV (header), MP3 (Xing/Info/VBRI frame count, else CBR bitrate over the
file size) and MP4/MOV (``mvhd`` of the ``moov`` box). Anything else gives None, never a guess.
"""

from __future__ import annotations

import os
import struct
import unicodedata
from typing import BinaryIO

__all__ = ["CHARS_PER_SECOND", "CJK_CHARS_PER_SECOND", "HEAD_BYTES", "duration_from_bytes", "probe_local",
           "speech_seconds"]

# Assumption, not documentation: narrated speech runs ~150 words a minute, about 15 characters a second in
# alphabetic scripts (spaces and punctuation included); Chinese, Japanese and Korean about 4 characters a second.
CHARS_PER_SECOND = 15.0
CJK_CHARS_PER_SECOND = 4.0
HEAD_BYTES = 256 * 1024  # how much of a file the engine should fetch first (moov at the front fits easily)


def _is_cjk(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL"))


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """Predicted length of ``text`` spoken at ``speed`` (a multiplier, 1 = normal), in seconds.

    An estimate for pricing only: 15 characters a second, 4 for CJK characters, divided by ``speed``.
    """
    if speed <= 0:
        msg = f"speed must be positive, got {speed!r}"
        raise ValueError(msg)
    cjk = sum(1 for ch in text if ord(ch) > 0x2E7F and _is_cjk(ch))
    other = len(text.strip()) - cjk
    return round((max(other, 0) / CHARS_PER_SECOND + cjk / CJK_CHARS_PER_SECOND) / speed, 3)


# ---------------------------------------------------------------------------------------------- WAV
def _wav(head: bytes, total: int) -> float | None:
    byte_rate = None
    pos = 12
    while pos + 8 <= len(head):
        tag, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if tag == b"fmt " and pos + 16 <= len(head):
            byte_rate = struct.unpack_from("<I", head, pos + 16)[0]
        elif tag == b"data":
            if not byte_rate:
                return None
            # A streamed WAV may carry 0 or 0xFFFFFFFF here: fall back to what the file really holds.
            available = total - (pos + 8)
            data = size if 0 < size <= available else available
            return data / byte_rate if data > 0 else None
        pos += 8 + size + (size & 1)
    return None


# ---------------------------------------------------------------------------------------------- MP3
_BITRATES = {  # (MPEG-1?, layer) -> kbit/s by index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits


def _frame(head: bytes, pos: int) -> tuple[int, int, int, int, bool, int] | None:
    """(bitrate, sample rate, samples per frame, frame length, mono, version bits) of a frame header at pos."""
    if pos + 4 > len(head) or head[pos] != 0xFF or head[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = head[pos + 1], head[pos + 2], head[pos + 3]
    version, layer_bits, br_index, sr_index = (b1 >> 3) & 3, (b1 >> 1) & 3, b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer_bits == 0 or br_index in (0, 15) or sr_index == 3:
        return None
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _BITRATES[(mpeg1, layer)][br_index - 1] * 1000
    rate = _RATES[version][sr_index]
    samples = 384 if layer == 1 else 1152 if (layer == 2 or mpeg1) else 576
    padding = (b2 >> 1) & 1
    length = (12 * bitrate // rate + padding) * 4 if layer == 1 else samples // 8 * bitrate // rate + padding
    return bitrate, rate, samples, length, (b3 >> 6) == 3, version


def _mp3(head: bytes, total: int) -> float | None:
    start = _id3_size(head) if head[:3] == b"ID3" and len(head) >= 10 else 0
    for pos in range(start, min(len(head) - 4, start + 64 * 1024)):
        info = _frame(head, pos)
        # Demand a second frame right after the first so stray 0xFF bytes are not taken for a header.
        if info is None or (pos + info[3] + 4 <= len(head) and _frame(head, pos + info[3]) is None):
            continue
        bitrate, rate, samples, _length, mono, version = info
        side = (17 if mono else 32) if version == 3 else (9 if mono else 17)
        for tag_at in (pos + 4 + side, pos + 36):  # Xing/Info after the side info; VBRI at a fixed 32 + 4
            tag = head[tag_at:tag_at + 4]
            if tag in (b"Xing", b"Info") and len(head) >= tag_at + 12:
                flags = struct.unpack_from(">I", head, tag_at + 4)[0]
                if flags & 1:
                    return float(struct.unpack_from(">I", head, tag_at + 8)[0] * samples / rate)
            if tag == b"VBRI" and len(head) >= tag_at + 18:
                return float(struct.unpack_from(">I", head, tag_at + 14)[0] * samples / rate)
        audio = total - pos - (128 if total - 128 >= pos and _has_id3v1(head, total) else 0)
        return audio * 8 / bitrate if audio > 0 else None
    return None


def _id3_size(head: bytes) -> int:
    """Bytes taken by an ID3v2 tag at the start: header + syncsafe size (+ footer)."""
    size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9] & 0x7F
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _has_id3v1(head: bytes, total: int) -> bool:
    return total == len(head) and head[-128:-125] == b"TAG"


# ---------------------------------------------------------------------------------------------- MP4
def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in data[start:end]; stops at a box cut off by end."""
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _mvhd(data: bytes, start: int, end: int) -> float | None:
    for kind, body, box_end in _boxes(data, start, min(end, len(data))):
        if kind == b"mvhd" and box_end <= len(data):
            if data[body] == 1:
                timescale, duration = struct.unpack_from(">IQ", data, body + 20)
            else:
                timescale, duration = struct.unpack_from(">II", data, body + 12)
            return duration / timescale if timescale and duration else None
    return None


def _mp4(head: bytes) -> float | None:
    for kind, body, end in _boxes(head, 0, len(head)):
        if kind == b"moov":
            return _mvhd(head, body, end)
    return None  # moov is not in the head (it sits after mdat): the caller must fetch it


def duration_from_bytes(head: bytes, total_size: int | None = None) -> float | None:
    """Seconds of the media file whose first bytes are ``head``; None when it cannot be told.

    ``total_size`` is the whole file's size (HTTP ``Content-Range``/``Content-Length``); None means
    ``head`` is the whole file. MP3 without a Xing/VBRI header is taken as constant bitrate.
    """
    total = len(head) if total_size is None else total_size
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return _wav(head, total)
    if _is_mp4(head):
        return _mp4(head)
    if head[:3] == b"ID3" or _frame(head, 0) is not None:
        return _mp3(head, total)
    return None


def _is_mp4(head: bytes) -> bool:
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


def probe_local(path: str | os.PathLike[str]) -> float | None:
    """Seconds of a local media file (WAV, MP3, MP4/MOV), reading only what is needed; None if unknown.

    A path that does not exist or cannot be read is unknown too: prices then say why they are missing.
    """
    try:
        return _probe_file(path)
    except OSError:
        return None


def _probe_file(path: str | os.PathLike[str]) -> float | None:
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        if _is_mp4(head):
            return _mp4_file(fh, size)
        if head[:3] == b"ID3" and len(head) >= 10 and _id3_size(head) + 4096 > len(head) < size:
            fh.seek(0)  # a large tag (cover art) pushes the first frame past the head
            head = fh.read(_id3_size(head) + HEAD_BYTES)
        return duration_from_bytes(head, size)


def _mp4_file(fh: BinaryIO, size: int) -> float | None:
    """Walk the top-level boxes by seeking, so a moov placed after a large mdat is still found."""
    pos = 0
    while pos + 8 <= size:
        fh.seek(pos)
        header = fh.read(16)
        if len(header) < 8:
            return None
        box_size, kind = struct.unpack_from(">I4s", header)
        if box_size == 1 and len(header) == 16:
            box_size = struct.unpack_from(">Q", header, 8)[0]
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8:
            return None
        if kind == b"moov":
            if box_size > 64 * 1024 * 1024:
                return None
            fh.seek(pos)
            return _mp4(fh.read(box_size))
        pos += box_size
    return None
