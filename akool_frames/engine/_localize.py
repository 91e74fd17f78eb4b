"""Rows × languages: explode a sheet's target-language lists, and check codes against the provider's own list.

``af.explode_languages(sheet, "target_languages", into="language")`` makes one row per source row and
distinct language ("es, fr,es" gives es and fr), the source columns repeated and a stable ``row_key``
(the source row and the language); a row with no language is kept once, with a null language, and a
warning says how many there were.

Before anything is sent, a job's language fields are checked against the list the provider publishes
(video translation: the language list, each code of "es,fr,de"; VoiceLab TTS: its voices' locales), fetched
once per client session, and against the format the page gives (VoiceLab: ISO 639-1, two letters): a code it
does not offer makes the row invalid, with "did you mean 'zh-CN'?" for a near miss, instead of a create the
provider refuses. A valid code the row's voice does not speak (an English voice reading ja lines) is no error
(a multilingual voice may read it) but one ``VoiceLanguageWarning`` per call, from the same voice list.
"""

from __future__ import annotations

import difflib
import itertools
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import narwhals.stable.v2 as nw

from .._errors import AkoolError, ValidationError, VoiceLanguageWarning, say
from .._paths import get_path
from .._values import to_py

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = [
    "LANGUAGE_FIELDS", "VOICE_LANGUAGE", "check_languages", "explode_languages", "voice_mismatch", "voice_records",
]

log = logging.getLogger("akool_frames")
EagerFrameT = TypeVar("EagerFrameT", "pd.DataFrame", "pl.DataFrame")  # explode_languages: a frame of the same library


# ------------------------------------------------------------------------------------------ explode
def _codes(value: Any, sep: str) -> list[str]:
    value = to_py(value)  # pandas' NA, NaN, NaT and friends: no language
    if value is None:
        return []
    return list(dict.fromkeys(part.strip() for part in str(value).split(sep) if part.strip()))


def explode_languages(frame: EagerFrameT, column: str, into: str = "language", sep: str = ",", *,
                      key: str = "row_key") -> EagerFrameT:
    """One row per source row and distinct language of ``column`` (a list like "es, fr,de").

    Args:
        frame: A pandas or polars DataFrame.
        column: The column holding each row's target languages, separated by ``sep``.
        into: The new column with one language per row.
        sep: The separator of the lists.
        key: A new column naming each row stably: the source row (pandas index label, else position) and
            the language, e.g. ``"7:es"``.

    Returns:
        A frame of the same library: the source columns repeated (pandas keeps each source row's index
        label), then ``into`` and ``key``. Languages are trimmed and each appears once per row, in the
        order given; a row with no language is kept once with ``into`` null (and a warning).

    Example:
        >>> long = af.explode_languages(sheet, "target_languages", into="language")  # doctest: +SKIP
    """
    table = nw.from_native(frame, eager_only=True)
    if column not in table.columns:
        close = difflib.get_close_matches(column, table.columns, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        msg = f"explode_languages: the frame has no column {column!r}.\n\nHint: {hint}columns: {table.columns}."
        raise ValidationError(msg)
    for name in (into, key):
        if name in table.columns:
            msg = f"explode_languages: the frame already has a column {name!r}.\n\nHint: pass into=/key= another name."
            raise ValidationError(msg)
    native = table.to_native()
    labels = list(native.index) if hasattr(native, "index") and not isinstance(native.index, range) and \
        hasattr(native, "iloc") else list(range(len(table)))
    take: list[int] = []
    languages: list[str | None] = []
    none = 0
    for i, value in enumerate(table.get_column(column).to_list()):  # a sheet's rows, not millions
        codes: Sequence[str | None] = _codes(value, sep) or [None]
        none += codes == [None]
        take += [i] * len(codes)
        languages += codes
    if none:
        log.warning("explode_languages: %d row(s) have no language in %r; kept with %s null.", none, column, into)
    keys = [f"{labels[i]}:{code if code is not None else ''}" for i, code in zip(take, languages, strict=True)]
    if hasattr(native, "iloc"):  # pandas: repeat rows with their index labels
        out = native.iloc[take].copy()
        out[into] = languages
        out[key] = keys
        return out.astype({into: "string", key: "string"})
    exploded = table[take] if take else table.head(0)
    return exploded.with_columns(nw.new_series(into, languages, nw.String(), backend=table.implementation),
                                 nw.new_series(key, keys, nw.String(), backend=table.implementation)).to_native()


# ------------------------------------------------------------------------------------------- check
@dataclass(frozen=True)
class LanguageList:
    """Where a job field's allowed codes come from: a look-up and the column holding the codes (no look-up: the
    field's format alone), the format the page gives them, and the separator of several codes in one value."""

    lookup: str | None  # a name of lookups.LOOKUPS
    column: str
    what: str  # how a message names the list, or the format
    also: tuple[str, ...] = ()  # values the field takes that the list does not show
    sep: str | None = None  # several codes in one value, each checked
    iso639_1: bool = False  # the page takes ISO 639-1 codes only: two lower-case letters
    ids: tuple[str, ...] = ()  # columns naming a record (a voice): kept by id, to compare a row's code with its own


_TARGETS = LanguageList("languages", "lang_code", "video translation's language list (af.languages())")
# Page 42 (voiceLab): TTS language_code "only Language code (ISO 639-1) such as "zh", "pt""; a clone's
# voice_options.language "Language code (ISO 639-1) of the audio file". Two letters: "zh", never "zh-CN" (which
# the locales of the voices agree with: "zh", "pl").
_ISO = "ISO 639-1 codes only (two letters such as 'zh', 'pt')"
# job -> field -> list. VoiceLab TTS speaks the locales of its voices (voice list: locale).
LANGUAGE_FIELDS: Mapping[str, Mapping[str, LanguageList]] = {
    # Page 38: several target languages in one create, "es,fr,de"
    "video_translation": {"language": LanguageList(_TARGETS.lookup, _TARGETS.column, _TARGETS.what, sep=","),
                          "source_language": LanguageList(_TARGETS.lookup, _TARGETS.column, _TARGETS.what,
                                                          also=("DEFAULT",))},
    "tts": {"language_code": LanguageList("voices", "locale", "the locales of VoiceLab's voices (af.voices())",
                                          iso639_1=True, ids=("_id", "voice_id"))},
    "voice_clone": {"voice_options.language": LanguageList(None, "", _ISO, iso639_1=True)},
}
_TWO_LETTERS = re.compile(r"[a-z]{2}")


async def _allowed(client: Any, lists: Sequence[LanguageList]) -> dict[str, set[str]]:
    """The codes of each list, fetched once per client session (None where the list could not be read)."""
    from ..lookups import LOOKUPS, fetch_records

    cache: dict[str, Any] = client.language_lists  # each list's codes (None: unread), and its records by id
    for lang in lists:
        if lang.lookup is not None and lang.lookup not in cache:
            try:
                rows = await fetch_records(client, LOOKUPS[lang.lookup], {})
                cache[lang.lookup] = {str(r[lang.column]) for r in rows if r.get(lang.column)}
                cache[lang.lookup + ":records"] = {str(r[i]): r for r in rows for i in lang.ids if r.get(i)}
            except AkoolError as exc:  # no list, no check: the provider still refuses a wrong code
                log.warning("Could not read %s to check language codes (%s); they are sent unchecked.",
                            lang.what, exc)
                cache[lang.lookup] = None
    return {lang.lookup: cache[lang.lookup] for lang in lists
            if lang.lookup is not None and cache[lang.lookup] is not None}


def _suggest(code: str, allowed: set[str]) -> str:
    lowered = {a.lower(): a for a in allowed}
    if code.lower() in lowered:
        return f"; did you mean {lowered[code.lower()]!r}?"
    starts = sorted(a for a in allowed if a.lower().startswith(code.lower() + "-") or
                    code.lower().startswith(a.lower() + "-"))
    close = starts or difflib.get_close_matches(code, sorted(allowed), n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


def _value(body: Mapping[str, Any] | None, name: str) -> Any:
    return None if body is None else body.get(name) if "." not in name else get_path(body, name)


def _problem(name: str, value: Any, lang: LanguageList, codes: set[str] | None) -> str | None:
    """What is wrong with one value of a language field (each of its codes, when it lists several)."""
    parts = [p.strip() for p in str(value).split(lang.sep)] if lang.sep else [str(value)]
    for code in parts:
        iso = not lang.iso639_1 or bool(_TWO_LETTERS.fullmatch(code))
        listed = codes is None or code in codes or code in lang.also
        if iso and listed:
            continue
        said = f"{name} is {value!r}, which" if len(parts) == 1 else f"{name} is {value!r}: {code!r}"
        rule = f"{name} takes {_ISO}, as ai-tools-suite/voiceLab says"
        if not listed:
            return f"{said} is not in {lang.what}{_suggest(code, codes or set())}" + ("" if iso else f" ({rule})")
        short = code.split("-")[0].split("_")[0].lower()  # "zh-CN" -> "zh", "EN" -> "en"
        hint = f"; did you mean {short!r}?" if _TWO_LETTERS.fullmatch(short) else ""
        return f"{said} is not an ISO 639-1 code: {rule}{hint}"
    return None


async def check_languages(client: Any, job: str, bodies: Sequence[Mapping[str, Any] | None]) -> list[str | None]:
    """Per body: None, or the problem with a language code it has (for the row's ``invalid`` status)."""
    fields = LANGUAGE_FIELDS.get(job, {})
    wanted = [f for f in fields if any(_value(b, f) not in (None, "") for b in bodies)]
    if not wanted:
        return [None] * len(bodies)
    allowed = await _allowed(client, [fields[f] for f in wanted])
    problems: list[str | None] = []
    for body in bodies:
        problem = None
        for name in wanted:
            lang, code = fields[name], _value(body, name)
            if code in (None, ""):
                continue
            problem = _problem(name, code, lang, allowed.get(lang.lookup) if lang.lookup else None)
            if problem:
                break
        problems.append(problem)
    if job in VOICE_LANGUAGE:
        voice, language = VOICE_LANGUAGE[job]
        said = voice_mismatch(await voice_records(client, job), [
            (_value(b, voice), _value(b, language)) for b, p in zip(bodies, problems, strict=True) if not p and b])
        if said:
            say(VoiceLanguageWarning, said)
    return problems


# ------------------------------------------------------------------------------- voice vs language
# job -> (its voice field, its language field): the voice list's locale of the one against the other
VOICE_LANGUAGE: Mapping[str, tuple[str, str]] = {"tts": ("voice_id", "language_code")}


async def voice_records(client: Any, job: str) -> dict[str, Mapping[str, Any]]:
    """The job's voices by id (``_id`` and ``voice_id``): the list the language check reads, once a session."""
    lang = LANGUAGE_FIELDS[job][VOICE_LANGUAGE[job][1]]
    await _allowed(client, [lang])
    return client.language_lists.get(f"{lang.lookup}:records") or {}


def _primary(code: Any) -> str:
    return re.split(r"[-_]", str(code).strip().lower(), maxsplit=1)[0]  # "en-US" speaks "en"


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]  # most rows first, then by code: the same text whatever order the rows came in


def voice_mismatch(voices: Mapping[str, Mapping[str, Any]], pairs: Iterable[tuple[Any, Any]],
                   counts: Iterable[int] | None = None) -> str | None:
    """One message for every (voice id, language) whose language is not the voice's locale; None when all agree.
    ``counts``: how many rows each pair stands for (one each by default). Voices the list does not hold (clones, a
    typo the provider will refuse) are not judged."""
    wrong: dict[str, Counter[str]] = {}
    for (voice_id, language), n in zip(pairs, itertools.repeat(1) if counts is None else counts, strict=False):
        voice_id, language = to_py(voice_id), to_py(language)
        record = voices.get(str(voice_id)) if voice_id is not None else None
        if record is None or language in (None, "") or not record.get("locale"):
            continue
        if _primary(language) != _primary(record["locale"]):
            wrong.setdefault(str(voice_id), Counter())[str(language)] += n
    if not wrong:
        return None
    rows = sum(sum(c.values()) for c in wrong.values())
    said = "; ".join(
        f"voice {voice_id} ({voices[voice_id].get('name') or 'no name'}) speaks "
        f"{voices[voice_id].get('language') or voices[voice_id]['locale']} ({voices[voice_id]['locale']}), "
        f"asked for {', '.join(f'{code} ({n})' for code, n in sorted(counts.items(), key=_most_first))}"
        for voice_id, counts in wrong.items())
    return (f"{rows} row(s) ask a voice for a language other than its own: {said}.\n\n"
            "Hint: give each language a voice of its locale (af.voices() lists them with their locale).")
