"""Tiny, deterministic, *valid* media files of an exact duration (stdlib only).

The sandbox emulator serves these as job results. Each format is built by
repeating one small unit (one second of PCM, one silent MP3 frame, one
one-second H.264 picture), so even a 120 s file costs about a millisecond.
"""

from __future__ import annotations

import math
import struct
import zlib

__all__ = ["DEFAULT_DURATION", "content_type", "probe_duration", "render"]

DEFAULT_DURATION = 5.0  # seconds, used when render() gets duration=None
_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "mp4": "video/mp4", "png": "image/png"}


def _kind(ext: str) -> str:
    kind = ext.lower().lstrip(".")
    if kind not in _TYPES:
        msg = f"unsupported media extension {ext!r}; allowed: {', '.join(_TYPES)}"
        raise ValueError(msg)
    return kind


def content_type(ext: str) -> str:
    """MIME type for one of the extensions render() supports."""
    return _TYPES[_kind(ext)]


def rendered_duration(ext: str, duration: float) -> float:
    """The duration a rendered file really has (MP3 comes in whole 36 ms frames)."""
    if ext.lower().lstrip(".") == "mp3":
        return max(2, round(duration * _MP3_RATE / 1152)) * 1152 / _MP3_RATE
    return duration


def render(ext: str, duration: float | None = None, *, seed: int = 0) -> bytes:
    """Bytes of a valid `ext` file lasting `duration` seconds (ignored for png)."""
    kind = _kind(ext)
    if kind == "png":
        return _png(seed)
    secs = DEFAULT_DURATION if duration is None else float(duration)
    if not (secs > 0 and math.isfinite(secs)):
        msg = f"duration must be a positive number of seconds, got {duration!r}"
        raise ValueError(msg)
    return {"wav": _wav, "mp3": _mp3, "mp4": _mp4}[kind](secs, seed)


def _hash(seed: int) -> int:
    # crc32 of the decimal seed: stable across runs and Python versions, unlike hash().
    return zlib.crc32(str(seed).encode())


def _colour(seed: int) -> tuple[int, int, int]:
    h = _hash(seed)
    return (64 + h % 160, 64 + (h >> 8) % 160, 64 + (h >> 16) % 160)  # never near black/white


# --- WAV: 8 kHz mono 16-bit PCM sine -----------------------------------------------------------

_WAV_RATE = 8000


def _wav(secs: float, seed: int) -> bytes:
    freq = 220 + _hash(seed) % 661  # integer Hz => one second is a whole number of periods
    second = struct.pack(
        f"<{_WAV_RATE}h",
        *(round(3000 * math.sin(2 * math.pi * freq * i / _WAV_RATE)) for i in range(_WAV_RATE)),
    )
    n = round(secs * _WAV_RATE)
    data = (second * -(-n // _WAV_RATE))[: 2 * n]
    fmt = struct.pack("<HHIIHH", 1, 1, _WAV_RATE, 2 * _WAV_RATE, 2, 16)  # PCM, mono, 2 B/frame
    return b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + \
        b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data


# --- MP3: silent MPEG-1 Layer III frames --------------------------------------------------------

# 32 kbps, 32 kHz, mono, no CRC: 144 * 32000 / 32000 = 144 bytes, never padded, so the usual
# CBR estimate (size * 8 / bitrate) is exact. Zeroed side info + main data decode as silence.
_MP3_RATE = 32000
_MP3_FRAME = b"\xff\xfb\x18\xc0" + bytes(140)
_MP3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_RATES = (44100, 48000, 32000)


def _mp3(secs: float, seed: int) -> bytes:
    # >= 2 frames: parsers (mutagen) want two consecutive frame headers to trust a sync.
    return _MP3_FRAME * max(2, round(secs * _MP3_RATE / 1152))


# --- MP4: one 16x16 H.264 track, one I_PCM IDR picture per second ------------------------------


def _ue(v: int) -> str:  # Exp-Golomb code as a bit string; se(0) == ue(0)
    b = format(v + 1, "b")
    return "0" * (len(b) - 1) + b


def _rbsp(bits: str, stop_bit: bool = True) -> bytes:
    bits += "1" if stop_bit else ""
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def _nal(header: int, rbsp: bytes) -> bytes:
    out, zeros = bytearray([header]), 0
    for byte in rbsp:  # emulation prevention: 00 00 0x (x <= 3) -> 00 00 03 0x
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


_SPS = _nal(0x67, _rbsp(
    format(66, "08b") + "11000000" + format(10, "08b")  # Constrained Baseline, level 1.0
    + _ue(0) + _ue(0)  # sps id, log2_max_frame_num - 4
    + _ue(2) + _ue(1) + "0"  # POC type 2 (output = decode order), 1 ref frame, no gaps
    + _ue(0) + _ue(0)  # 1x1 macroblocks = 16x16 pixels
    + "1100"))  # frame_mbs_only, direct_8x8_inference, no cropping, no VUI
_PPS = _nal(0x68, _rbsp(
    _ue(0) + _ue(0) + "00"  # pps id, sps id, CAVLC, no bottom-field POC
    + _ue(0) + _ue(0) + _ue(0) + "000"  # one slice group, 1 ref idx each, no weighted pred
    + _ue(0) * 3 + "000"))  # qp/qs/chroma offsets 0, no deblock ctrl/constrained intra/redundant


def _idr_sample(idr_pic_id: int, rgb: tuple[int, int, int]) -> bytes:
    r, g, b = rgb  # BT.601 limited range: all samples in 16..240, so no emulation bytes needed
    y = round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255)
    cb = round(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255)
    cr = round(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255)
    head = (_ue(0) + _ue(7) + _ue(0) + "0000"  # first mb, slice_type I (all), pps id, frame_num
            + _ue(idr_pic_id) + "00"  # idr_pic_id, dec_ref_pic_marking (no_output, long_term)
            + _ue(0) + _ue(25))  # slice_qp_delta, mb_type I_PCM: raw samples, no entropy coding
    pcm = bytes([y]) * 256 + bytes([cb]) * 64 + bytes([cr]) * 64
    nal = _nal(0x65, _rbsp(head, stop_bit=False) + pcm + b"\x80")  # pcm align; trailing bits
    return struct.pack(">I", len(nal)) + nal  # avcC uses 4-byte NAL length prefixes


def _box(tag: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + tag + body


def _full(tag: bytes, flags: int, *parts: bytes) -> bytes:  # FullBox, version 0
    return _box(tag, struct.pack(">I", flags), *parts)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _mp4(secs: float, seed: int) -> bytes:
    ms = max(1, round(secs * 1000))  # every timescale below is 1000 (milliseconds)
    n = -(-ms // 1000)
    rgb = _colour(seed)
    # Consecutive IDRs need different idr_pic_id; ue(1) and ue(2) have the same length.
    pair = (_idr_sample(1, rgb), _idr_sample(2, rgb))
    mdat = (pair[0] + pair[1]) * (n // 2) + pair[0] * (n % 2)
    deltas = [(n - 1, 1000)] if n > 1 else []
    deltas.append((1, ms - 1000 * (n - 1)))
    avcc = _box(b"avcC", bytes([1, 66, 0xC0, 10, 0xFF, 0xE1]),  # 4-byte lengths, 1 SPS
                struct.pack(">H", len(_SPS)), _SPS, b"\x01", struct.pack(">H", len(_PPS)), _PPS)
    avc1 = _box(b"avc1", bytes(6), struct.pack(">H", 1), bytes(16),  # VisualSampleEntry, 16x16
                struct.pack(">HHIIIH", 16, 16, 0x480000, 0x480000, 0, 1), bytes(32),
                struct.pack(">Hh", 0x18, -1), avcc)

    def moov(offset: int) -> bytes:
        stbl = _box(b"stbl",
                    _full(b"stsd", 0, struct.pack(">I", 1), avc1),
                    _full(b"stts", 0, struct.pack(f">{1 + 2 * len(deltas)}I", len(deltas),
                                                  *(x for d in deltas for x in d))),
                    _full(b"stsc", 0, struct.pack(">4I", 1, 1, n, 1)),  # one chunk, all samples
                    _full(b"stsz", 0, struct.pack(">II", len(pair[0]), n)),  # constant size
                    _full(b"stco", 0, struct.pack(">II", 1, offset)))
        minf = _box(b"minf", _full(b"vmhd", 1, bytes(8)),
                    _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1), _full(b"url ", 1))), stbl)
        mdia = _box(b"mdia",
                    _full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, 1000, ms, 0x55C4, 0)),  # 'und'
                    _full(b"hdlr", 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00"), minf)
        tkhd = _full(b"tkhd", 3, struct.pack(">5I8x4H", 0, 0, 1, 0, ms, 0, 0, 0, 0), _MATRIX,
                     struct.pack(">II", 16 << 16, 16 << 16))  # flags: enabled | in movie
        mvhd = _full(b"mvhd", 0, struct.pack(">5IH10x", 0, 0, 1000, ms, 0x10000, 0x100),
                     _MATRIX, bytes(24), struct.pack(">I", 2))
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    # moov before mdat ("fast start"); its size doesn't depend on the offset value.
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    offset = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(offset) + _box(b"mdat", mdat)


# --- PNG: 64x64 RGB, one seeded colour -----------------------------------------------------------


def _png(seed: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    raw = (b"\x00" + bytes(_colour(seed)) * 64) * 64  # filter byte 0 + 64 RGB pixels per row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# --- probing -------------------------------------------------------------------------------------


def probe_duration(data: bytes) -> float | None:
    """Duration in seconds of a WAV, MP3 (MPEG-1 Layer III) or MP4 file; None otherwise."""
    try:
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return _probe_wav(data)
        if data[4:8] == b"ftyp":
            return _probe_mp4(data)
        return _probe_mp3(data)
    except (struct.error, ValueError, ZeroDivisionError):
        return None


def _probe_wav(data: bytes) -> float | None:
    pos, byte_rate, size = 12, 0, None
    while pos + 8 <= len(data):
        tag, n = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if tag == b"fmt ":
            byte_rate = struct.unpack_from("<I", data, pos + 16)[0]
        elif tag == b"data":
            size = min(n, len(data) - pos - 8)
        pos += 8 + n + (n & 1)  # chunks are word aligned
    return None if size is None else size / byte_rate


def _probe_mp4(data: bytes) -> float | None:
    def boxes(start: int, end: int):
        while start + 8 <= end:
            size, tag = struct.unpack_from(">I4s", data, start)
            head = 8
            if size == 1:  # 64-bit largesize follows the tag
                size, head = struct.unpack_from(">Q", data, start + 8)[0], 16
            elif size == 0:  # box runs to the end of the file
                size = end - start
            if size < head:
                return
            yield tag, start + head, start + size
            start += size

    for tag, body, end in boxes(0, len(data)):
        if tag == b"moov":
            for sub, mv, _ in boxes(body, end):
                if sub == b"mvhd":
                    if data[mv] == 1:  # version 1: 64-bit times and duration
                        scale, dur = struct.unpack_from(">IQ", data, mv + 20)
                    else:
                        scale, dur = struct.unpack_from(">II", data, mv + 12)
                    return dur / scale
    return None


def _probe_mp3(data: bytes) -> float | None:
    pos = 0
    if data[:3] == b"ID3":  # skip an ID3v2 tag: 10-byte header + synchsafe size
        pos = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    frames, rate = 0, 0
    while pos + 4 <= len(data):
        b1, b2 = data[pos + 1], data[pos + 2]
        # sync + MPEG-1 + Layer III; skip free-format / reserved bitrate and sample rate
        if data[pos] != 0xFF or b1 & 0xFE != 0xFA or not 0 < b2 >> 4 < 15 or (b2 >> 2) & 3 == 3:
            break
        rate = _MP3_RATES[(b2 >> 2) & 3]
        pos += 144000 * _MP3_KBPS[b2 >> 4] // rate + ((b2 >> 1) & 1)
        frames += 1
    return frames * 1152 / rate if frames else None
