"""The look-up commands: ``akool-frames voices``, ``jobs`` and ``describe JOB``, as compact tables that fit a
100-column terminal (long cells are cut with "…"; the Python look-ups give them whole)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._values import to_py
from ._commands import OK, UsageError, _client, _job
from ._text import cli_text

__all__ = ["describe", "jobs", "voices"]

WIDTH = 100  # the terminal the tables are made for
GAP = "  "


# ------------------------------------------------------------------------------------------- tables
def _wide(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1  # a CJK name takes two columns


def _len(text: str) -> int:
    return sum(map(_wide, text))


def _cut(text: str, width: int) -> str:
    """``text`` in ``width`` terminal columns: cut with "…" when longer, padded when shorter."""
    if _len(text) > width:
        out, used = "", 0
        for ch in text:
            if used + _wide(ch) > width - 1:
                break
            out, used = out + ch, used + _wide(ch)
        text = out + "…"
    return text + " " * (width - _len(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int = WIDTH) -> str:
    """Columns as wide as their content, the widest cut down until the table fits ``width``."""
    widths = [max([_len(h), *(_len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    while sum(widths) + len(GAP) * (len(widths) - 1) > width:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    lines = [GAP.join(_cut(h, w) for h, w in zip(headers, widths, strict=True)),
             GAP.join("-" * w for w in widths)]
    lines += [GAP.join(_cut(c, w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _text(value: Any) -> str:
    value = to_py(value)
    if value is None or value is False:
        return ""
    if value is True:
        return "yes"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ------------------------------------------------------------------------------------------- voices
@dataclass(frozen=True)
class VoiceList:
    """One of the voice lists: the look-up that reads it, the columns shown (header, record field), where its
    language is (the fields --language is matched with) and which jobs take its ids."""

    lookup: dict[str, Any]  # af.voices() arguments
    columns: tuple[tuple[str, str], ...]
    language: tuple[str, ...]
    takes: str


_V4 = (("id", "_id"), ("name", "name"), ("language", "language"), ("locale", "locale"), ("gender", "gender"),
       ("model", "voice_model_name"))
VOICE_LISTS: Mapping[tuple[bool, bool], VoiceList] = {  # (--legacy, --cloned)
    (False, False): VoiceList({}, _V4, ("locale", "language"), "tts and voice_change take the id as voice_id"),
    (False, True): VoiceList({"cloned": True}, _V4, ("locale", "language"), "tts and voice_change take the id"),
    (True, False): VoiceList({"version": 3}, (("id", "voice_id"), ("name", "name"), ("accent", "accent"),
                                              ("gender", "gender"), ("style", "description"), ("use", "useCase")),
                             ("accent",), "legacy_tts takes the id as voice_id"),
    (True, True): VoiceList({"version": 3, "cloned": True}, (("id", "voice_id"), ("name", "name"),
                                                             ("gender", "gender")), (), "legacy_tts takes the id"),
}
# Providers whose voices no documented endpoint lists (catalog 6.3; Kling's are the ones kling.custom_voice made).
NO_LIST = {
    "audiocleaner": "audiocleaner.ai documents no voice-list endpoint: its voices are in its web Playground "
                    "(Developer > Playground > AI Voice Generator); audiocleaner.tts takes their numeric id",
    "kling": "Kling's voices are the ones kling.custom_voice made: the voice ids are in the result of that run",
}


def _matches(record: Mapping[str, Any], fields: Sequence[str], wanted: str) -> bool:
    wanted = wanted.strip().lower()
    for field in fields:
        have = str(to_py(record.get(field)) or "").lower()
        if have and (have == wanted or have.split("-")[0] == wanted or have.startswith(wanted + "-")):
            return True
    return False


def voices(args: Any) -> int:
    import akool_frames as af

    if args.provider in NO_LIST:
        raise UsageError(NO_LIST[args.provider])
    kind = VOICE_LISTS[(args.legacy, args.cloned)]
    if args.language and not kind.language:
        msg = "this voice list says no language; list it without --language"
        raise UsageError(msg)
    client = _client(args)
    try:
        frame = af.voices(client=client, **kind.lookup)
    finally:
        client.close()
    records = frame.to_dict("records")
    if args.language:
        records = [r for r in records if _matches(r, kind.language, args.language)]
    if args.gender:
        records = [r for r in records if str(to_py(r.get("gender")) or "").lower() == args.gender.lower()]
    if not records:
        print("no voices" + (" match " + " and ".join(f"--{f} {v}" for f, v in (("language", args.language),
                                                                                 ("gender", args.gender)) if v)
                             if args.language or args.gender else " in this list"))
        return OK
    print(table([h for h, _ in kind.columns], [[_text(r.get(f)) for _, f in kind.columns] for r in records]))
    first = _text(records[0].get(kind.columns[0][1]))
    print(f"{len(records)} voice{'s' if len(records) > 1 else ''}; {kind.takes}:")
    print(f"  --set voice_id={first}")
    return OK


# --------------------------------------------------------------------------------------- jobs, describe
def jobs(args: Any) -> int:
    import akool_frames as af

    frame = af.jobs()
    columns = ("job", "provider", "result", "priced")
    print(table(columns, [[cli_text(_text(r[c])) for c in columns] for r in frame.to_dict("records")]))
    print(f"{len(frame)} jobs; akool-frames describe JOB lists a job's parameters")
    return OK


def _limits(row: Mapping[str, Any]) -> str:
    """A parameter's allowed values, range, length and default in one cell."""
    low, high = _text(row.get("min")), _text(row.get("max"))
    parts = [_text(row.get("allowed")),
             f"{low}..{high}" if low or high else "",
             f"length <= {_text(row['max_length'])}" if _text(row.get("max_length")) else "",
             f"<= {_text(row['max_items'])} items" if _text(row.get("max_items")) else "",
             f"default {_text(row['default'])}" if _text(row.get("default")) else "",
             _text(row.get("rule"))]
    return "; ".join(p for p in parts if p)


def _nested(name: str) -> str:
    """A nested field under its parent, as a tree: "extra_options.audio_setting.format" -> "    .format"."""
    *parents, last = re.findall(r"(?:\[\])?\.?[^.\[]+", name)  # "a", ".b", "[].c"
    return "  " * len(parents) + last


def _required(row: Mapping[str, Any]) -> list[str]:
    """The required cell, and the limits cell (which names a one-of group: too long for the required column)."""
    required, limits = row["required"], _limits(row)
    if isinstance(required, str):  # "one of image_url, image_file"
        return ["one of", "; ".join(p for p in (required, limits) if p)]
    return [_text(required), limits]


def describe(args: Any) -> int:
    import akool_frames as af

    name = _job(args.job, flag="")
    rows = af.describe(name).to_dict("records")
    print(table(("parameter", "type", "required", "values and limits", "also"),
                [[_nested(r["parameter"]), _text(r["type"]), *_required(r), _text(r.get("aliases"))] for r in rows]))
    print(f"{name}: {len(rows)} parameters; give one as --set FIELD=VALUE, or per row as --map FIELD=COLUMN")
    if nested := _nested_example(rows):
        print(nested)
    return OK


def _nested_example(rows: Sequence[Mapping[str, Any]]) -> str:
    """How to give a nested field (as its parent's JSON), with one of the job's own that takes a plain value."""
    import json

    for r in rows:
        parent, dot, child = str(r["parameter"]).partition(".")
        value = to_py(r.get("min")) if to_py(r.get("min")) is not None else \
            (str(r["allowed"]).split(", ")[0] if to_py(r.get("allowed")) is not None else None)
        if dot and "." not in child and "[" not in child and value is not None:
            return f"a nested one as JSON: --set {parent}='{json.dumps({child: value})}'"
    return ""
