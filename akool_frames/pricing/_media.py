"""Media lengths without the network: predicted speech length, and durations read from a file's bytes.

Reading is mutagen's (WAV, MP3, MP4/M4A/MOV, OGG, FLAC), a maintained reader rather than parsers of our own.
``_probe`` fetches the first ``HEAD_BYTES`` of a URL (and, when the head is not enough, the rest of an MP4's
``moov`` box (``moov_span`` says where it lies) or the last ``TAIL_BYTES``: an OGG's final page) and hands them
here; mutagen then reads a file of the real size whose unfetched middle reads as zeros, so a CBR MP3's length
comes from the real file size. Anything mutagen cannot read gives None, never a guess.
"""

from __future__ import annotations

import io
import os
import struct
import unicodedata
from typing import Any

__all__ = [
    "CHARS_PER_SECOND", "CJK_CHARS_PER_SECOND", "HEAD_BYTES", "MOOV_BYTES", "TAIL_BYTES", "duration_from_bytes",
    "moov_span", "probe_local", "speech_seconds",
]

# Assumption, not documentation: narrated speech runs ~150 words a minute, about 15 characters a second in
# alphabetic scripts (spaces and punctuation included); Chinese, Japanese and Korean about 4 characters a second.
CHARS_PER_SECOND = 15.0
CJK_CHARS_PER_SECOND = 4.0
HEAD_BYTES = 256 * 1024  # how much of a file a probe fetches first (moov at the front fits easily)
TAIL_BYTES = 512 * 1024  # and of its end, when the head is not enough
MOOV_BYTES = 8 * 1024 * 1024  # the most of an MP4's moov box fetched beyond the head (hours of samples)


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


# ------------------------------------------------------------------------------------------ reading
class _Parts(io.RawIOBase):
    """A read-only file of ``size`` bytes of which the head (and maybe the tail) were fetched; the bytes
    in between read as zeros, so a reader sees the real size and real offsets."""

    def __init__(self, head: bytes, size: int, tail: bytes = b"") -> None:
        self._head, self._tail, self._size, self._pos = head, tail, max(size, len(head)), 0
        self._tail_at = self._size - len(tail)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self._size - self._pos))
        out = bytearray(n)
        for start, data in ((0, self._head), (self._tail_at, self._tail)):
            lo, hi = max(self._pos, start), min(self._pos + n, start + len(data))
            if lo < hi:
                out[lo - self._pos:hi - self._pos] = data[lo - start:hi - start]
        buffer[:n] = out
        self._pos += n
        return n


def _kinds() -> list[Any]:
    """The formats read: those whose length the file states (or, for CBR MP3, its size and bitrate give).
    Not mutagen's whole list: some of its readers estimate (ADTS AAC from the first frames' bitrate)."""
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggspeex import OggSpeex
    from mutagen.oggtheora import OggTheora
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    return [MP3, MP4, WAVE, FLAC, OggVorbis, OggOpus, OggFLAC, OggSpeex, OggTheora]


def _length(fileobj: Any) -> float | None:
    import mutagen

    try:
        found = mutagen.File(fileobj, options=_kinds())
    except Exception:  # noqa: BLE001  # mutagen raises many kinds on files it cannot read: all mean "unknown"
        return None
    info = getattr(found, "info", None)
    if getattr(info, "sketchy", False):  # MP3 frames mutagen is not sure of: maybe not an MP3 at all
        return None
    seconds = getattr(info, "length", None)
    return float(seconds) if isinstance(seconds, int | float) and seconds > 0 else None


def moov_span(head: bytes, total_size: int) -> tuple[int, int] | None:
    """The bytes (start, end) an MP4 reader still needs when its ``moov`` box is not all in ``head``: the rest
    of a moov at the front that is bigger than the head, or, after ``mdat``, from the first top-level box the
    head does not reach to the end of the file. None when that is not so (moov in the head, not an MP4).
    Read from the top-level box headers only."""
    pos = 0
    while pos + 8 <= min(len(head), total_size):
        size, tag = struct.unpack_from(">I4s", head, pos)
        if size == 1 and pos + 16 <= len(head):  # 64-bit size
            (size,) = struct.unpack_from(">Q", head, pos + 8)
        elif size == 0:  # runs to the end of the file
            size = total_size - pos
        if size < 8 or (pos == 0 and tag != b"ftyp"):
            return None
        if tag == b"moov":
            return (pos, min(pos + size, total_size)) if pos + size > len(head) else None
        pos += size
    return (pos, total_size) if len(head) <= pos < total_size else None


def duration_from_bytes(head: bytes, total_size: int | None = None, tail: bytes = b"") -> float | None:
    """Seconds of the media file whose first bytes are ``head`` (and last bytes ``tail``); None when
    they cannot tell. ``total_size`` is the whole file's size (HTTP ``Content-Range``/``Content-Length``);
    None means ``head`` is the whole file."""
    return _length(_Parts(head, total_size if total_size is not None else len(head), tail))


def probe_local(path: str | os.PathLike[str]) -> float | None:
    """Seconds of a local media file, reading only what the reader needs; None if unknown (a path that
    does not exist or cannot be read is unknown too: prices then say why they are missing)."""
    try:
        with open(path, "rb") as fh:
            return _length(fh)
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return None
