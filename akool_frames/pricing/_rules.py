"""Price rules kept as data, each with the documentation it comes from, and the small builders the jobs use.

Documented rules (PRODUCT.md "Credits") are applied exactly; their worked examples are test cases. Jobs
whose price the docs do not give return ``Price(None, reason=...)`` unless the user passes a rate for the
job (``rates={"talking_photo": 3.0}``), which is then multiplied by the unit that ``UNDOCUMENTED`` states
for that job. User rates never override a documented rule; they only fill gaps (including the
"Customized" Enterprise column of VoiceLab). Results are rounded to 6 decimals to drop float noise.

Each rule declares above it what it reads of a body (``@reads``, ``_reads``): the vectorised estimate keys
a frame's rows by that and runs the rule once per key. The rates themselves are data, in ``_table``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .._paths import get_path
from ..catalog import I2V_MODELS
from . import _media as media
from ._reads import Declared, Reads, reads, reads_of
from ._table import RATES, Rate

__all__ = [
    "RATES", "UNDOCUMENTED", "Price", "PriceContext", "Priced", "Rate", "Reads",
    "estimate", "plan_key", "reads_of", "rule",
]


@dataclass(frozen=True)
class Price:
    """A credit estimate: the number (None when the docs give no rule), how it was made, and why not;
    with the media length it was priced on, if any, and where that length came from."""

    credits: float | None
    basis: str = ""  # e.g. "117 characters x 4.4/1000 (pro)"; "30 s of audio_url (given) ..."
    reason: str | None = None  # set when credits is None
    duration_s: float | None = None
    duration_source: str | None = None  # given | probed | ledger | predicted from text


@dataclass
class PriceContext:
    """What a price rule may use: the plan, media durations, and the user's own rates.

    ``duration(target)`` gives (seconds, source) of a media URL, path or job id, or (None, why not);
    ``given`` is the row's ``duration=`` (the length in seconds, used instead of asking); the lengths a
    rule priced with are noted in ``used`` as (seconds, source).
    """

    plan: str = "pro"
    rates: Mapping[str, float] = field(default_factory=dict)
    duration: Callable[[Any], tuple[float | None, str]] = lambda _url: (None, "unknown")
    given: float | None = None
    used: list[tuple[float, str]] = field(default_factory=list)

Measure = Callable[[Mapping[str, Any], "PriceContext"], tuple[float | None, str]]
PriceFn = Callable[[Mapping[str, Any], "PriceContext"], "Price"]


@functools.lru_cache(maxsize=64)  # looked up per field per row; plans are few
def plan_key(plan: str | None) -> str:
    """'Pro Max' / 'pro-max' / 'MAX' -> 'max'; the VoiceLab Rates table says "Max", its limits "Pro Max"."""
    key = (plan or "pro").strip().lower().replace("-", " ").replace("_", " ")
    return {"pro max": "max", "promax": "max"}.get(key, key).replace(" ", "_")


def _r(x: float) -> float:
    return round(x + 0.0, 6)


def _blocks(seconds: float, size: float) -> int:
    return max(1, math.ceil(seconds / size - 1e-9))  # 10.0000000001 s is still two 5 s blocks


def _duration(ctx: PriceContext, target: Any) -> tuple[float | None, str]:
    """The length a rule prices by: the row's ``duration=`` when given (then nothing is probed), else what
    the context finds for ``target``. Noted in ``ctx.used`` for the price's duration columns."""
    seconds: float | None
    if ctx.given is not None:
        seconds, how = ctx.given, "given"
    elif not isinstance(target, str) or not target:
        return None, "no media URL given"
    else:
        seconds, how = ctx.duration(target)
    if seconds is not None:
        ctx.used.append((seconds, how))
    return seconds, how


def _predicted(ctx: PriceContext, text: str) -> tuple[float, str]:
    seconds = media.speech_seconds(text)
    ctx.used.append((seconds, "predicted from text"))
    return seconds, "predicted from text"


# ------------------------------------------------------------------------------------ measures for user rates
@reads()
def _one(_body: Mapping[str, Any], _ctx: PriceContext) -> tuple[float | None, str]:
    return 1.0, "1 job"


def _minutes(path: str) -> Measure:
    @reads(duration=True)  # the row's duration= (else its media is probed, a row at a time)
    def measure(body: Mapping[str, Any], ctx: PriceContext) -> tuple[float | None, str]:
        seconds, how = _duration(ctx, get_path(body, path))
        if seconds is None:
            return None, f"the length of {path} is unknown ({how})"
        return seconds / 60, f"{seconds:g} s of {path} ({how})"
    return measure


def _started(size: float, path: str) -> Measure:
    @reads(duration=True)
    def measure(body: Mapping[str, Any], ctx: PriceContext) -> tuple[float | None, str]:
        seconds, how = _duration(ctx, get_path(body, path))
        if seconds is None:
            return None, f"the length of {path} is unknown ({how})"
        return float(_blocks(seconds, size)), f"{seconds:g} s of {path} ({how}) = {_blocks(seconds, size)} blocks"
    return measure


def _chars(per: int, path: str) -> Measure:
    @reads(chars=(path,))
    def measure(body: Mapping[str, Any], _ctx: PriceContext) -> tuple[float | None, str]:
        text = get_path(body, path) or ""
        return len(text) / per, f"{len(text)} characters of {path}"
    return measure


# (no declaration: the audio elements are a list; talking avatars are priced a row at a time)
def _avatar_minutes(body: Mapping[str, Any], ctx: PriceContext) -> tuple[float | None, str]:
    """Output length of a talking avatar: its audio elements (URL wins over text, as the docs say), or the
    row's ``duration=`` (the whole video's length)."""
    if ctx.given is not None:
        seconds, how = _duration(ctx, None)
        return (seconds or 0) / 60, f"{seconds:g} s ({how})"
    parts: list[tuple[float | None, str]] = []
    for el in body.get("elements") or ():
        if isinstance(el, Mapping) and el.get("type") == "audio":
            if el.get("url"):
                parts.append(_duration(ctx, el["url"]))  # ask for every URL: the engine probes what is asked
            else:
                parts.append(_predicted(ctx, str(el.get("input_text") or "")))
    if not parts:
        return None, "no audio element to tell the video's length"
    for seconds, how in parts:
        if seconds is None:
            return None, f"the audio element's length is unknown ({how})"
    return sum(s for s, _ in parts if s is not None) / 60, " + ".join(f"{s:g} s ({h})" for s, h in parts)


# (no declaration: the target languages are checked with the provider's list, a row at a time)
def _translation_minutes(body: Mapping[str, Any], ctx: PriceContext) -> tuple[float | None, str]:
    # Page 38: "es,fr,de" makes one translation per (distinct) language, each of the whole video.
    n = max(len(dict.fromkeys(x.strip() for x in str(body.get("language") or "").split(",") if x.strip())), 1)
    minutes, how = _minutes("url")(body, ctx)
    return (None, how) if minutes is None else (minutes * n, f"{how} x {n} language{'s' if n > 1 else ''}")


# What a user rate is multiplied by, per job the docs do not price.
UNDOCUMENTED: dict[str, tuple[str, Measure]] = {
    "talking_photo": ("credits per minute of output video, as long as its audio", _minutes("audio_url")),
    "talking_avatar": ("credits per minute of output video: the audio element's length or its text's predicted speech",
                       _avatar_minutes),
    "lip_sync": ("credits per started 10 s of video_url, the blocks the docs' examples lock",
                 _started(10, "video_url")),
    "video_translation": ("credits per minute of source video per target language", _translation_minutes),
    "avatar_upload": ("credits per job", _one),
    "faceswap_image": ("credits per job", _one),
    "faceswap_pro": ("credits per job", _one),
    "reage_image": ("credits per job", _one),
    "detect_faces": ("credits per job", _one),  # pages 07-09 name no price
    "faceswap_video": ("credits per minute of modifyVideo", _minutes("modifyVideo")),
    "reage_video": ("credits per minute of modifyVideo", _minutes("modifyVideo")),
    "legacy_tts": ("credits per 1000 characters of input_text", _chars(1000, "input_text")),
    "legacy_voice_clone": ("credits per 1000 characters of input_text", _chars(1000, "input_text")),
    "kling.custom_voice": ("credits per job", _one),
    "background_change": ("credits per job", _one),
    "image_generate": ("credits per job", _one),
    "image_button": ("credits per job", _one),
}


def _user_rate(job: str, body: Mapping[str, Any], ctx: PriceContext) -> Price:
    unit, measure = UNDOCUMENTED.get(job, ("credits per job", _one))
    qty, how = measure(body, ctx)
    if qty is None:
        return Price(None, reason=f"your rate for {job} is {unit}, but {how}")
    given = ctx.rates[job]
    source = getattr(given, "source", "your rate")  # _rates.Rate: "your rate", "calibrated from 212 charged jobs"
    rate = float(given)
    return Price(_r(qty * rate), basis=f"{how}: {_r(qty):g} x {rate:g} ({unit}, {source})")


def _no_price(job: str) -> Price:
    unit = UNDOCUMENTED.get(job, ("credits per job", _one))[0]
    return Price(None, reason=f"the docs give no price for {job}; pass rates={{'{job}': ...}} ({unit}) "
                              "or calibrate from the ledger")


# ------------------------------------------------------------------------------------------ documented rules
@reads(values=("resolution", "duration"), needs=("duration",))  # without duration: its video is probed
def _character_swap(body: Mapping[str, Any], ctx: PriceContext) -> Price:
    res = body.get("resolution") or "720p"  # documented default
    unit = RATES["character_swap"].credits.get(res)
    if unit is None:
        return Price(None, reason=f"character swap has no documented rate for resolution {res!r}")
    if body.get("duration") not in (None, ""):  # the documented field: the length, as given
        seconds, how = float(body["duration"]), "given"
        ctx.used.append((seconds, how))
    else:
        probed, how = _duration(ctx, body.get("video"))
        if probed is None:
            return Price(None, reason=f"character swap is priced per started 5 s and the video's length is "
                                      f"unknown ({how}); pass duration=")
        seconds, how = probed, f"video length {how}"
    n = _blocks(seconds, 5)
    return Price(_r(n * unit), basis=f"{seconds:g} s ({how}) = {n} started 5 s x {unit:g} ({res})")


@reads(values=("resolution", "video_length", "model_name", "count"))
def _image_to_video(body: Mapping[str, Any], ctx: PriceContext) -> Price:
    # Page 19's batch example: count 3, each video's deduction_credit 5: a price is per video, times count.
    one, count = _one_video(body), body.get("count") or 1
    if one.credits is None or count == 1:
        return one
    return Price(_r(one.credits * count), basis=f"{one.basis}, x {count} videos")


def _one_video(body: Mapping[str, Any]) -> Price:
    res, length, model = body.get("resolution"), body.get("video_length"), body.get("model_name")
    if model:
        units = I2V_MODELS.get(model)
        if units is None:
            return Price(None, reason=f"model {model!r} is not bundled ({', '.join(I2V_MODELS)}); its unit_credit "
                                      "is in GET /api/open/v4/aigModel/list")
        if not isinstance(res, str) or res not in units or length not in (5, 10):
            return Price(None, reason=f"{model} has no unit_credit for {res!r} / {length!r} s")
        factor = length / 5
        note = "" if factor == 1 else " x 2 for 10 s (derived: the docs evidence 5 s only)"
        return Price(_r(units[res] * factor), basis=f"{model} unit_credit {units[res]:g} at {res}{note}")
    credits = RATES["image_to_video"].credits.get((length, res))
    if credits is None:
        return Price(None, reason=f"the image-to-video table has no price for {length!r} s at {res!r}")
    return Price(float(credits), basis=f"fixed table: {length} s at {res} (no surcharge for effects or premium)")


# (no declarations below: priced a row at a time)
def _video_audio(body: Mapping[str, Any], ctx: PriceContext) -> Price:
    # The source is an image-to-video result id; the engine's duration() may resolve it (resultsByIds
    # video_duration). Those videos are 5 or 10 s long; a 5.063 s one is charged as the 5 s row.
    seconds, how = _duration(ctx, body.get("pre_video_id"))
    if seconds is None:
        return Price(None, reason=f"video_audio costs 5 credits for a 5 s video and 10 for 10 s; the source "
                                  f"video's length is unknown ({how})")
    row = 5 if seconds < 7.5 else 10
    return Price(float(RATES["video_audio"].credits[row]), basis=f"source {seconds:g} s ({how}) = {row} s row")


def _per_plan(job: str, qty: float, what: str, ctx: PriceContext) -> Price:
    rate = RATES[job].credits.get(plan_key(ctx.plan))
    if rate is None and job in ctx.rates:
        rate, whose = float(ctx.rates[job]), getattr(ctx.rates[job], "source", "your rate")
    elif rate is None:
        return Price(None, reason=f"{job} rates on the {ctx.plan} plan are customized; pass rates={{'{job}': ...}} "
                                  f"({RATES[job].unit.split(',')[0]})")
    else:
        whose = plan_key(ctx.plan)
    return Price(_r(qty * rate), basis=f"{what} x {rate:g} ({whose})")


@reads(chars=("input_text",))
def _tts(body: Mapping[str, Any], ctx: PriceContext) -> Price:
    n = len(str(body.get("input_text") or ""))  # characters = code points (0.5148 checks out that way)
    return _per_plan("tts", n / 1000, f"{n} characters / 1000", ctx)


@reads(duration=True)
def _voice_change(body: Mapping[str, Any], ctx: PriceContext) -> Price:
    seconds, how = _duration(ctx, body.get("source_voice_file"))
    if seconds is None:
        return Price(None, reason=f"the voice changer is priced per minute of source audio, whose length is "
                                  f"unknown ({how})")
    return _per_plan("voice_change", seconds / 60, f"{seconds:g} s ({how}) / 60", ctx)


@reads()
def _voice_clone(_body: Mapping[str, Any], _ctx: PriceContext) -> Price:
    return Price(0.0, basis="voice clones cost no credits; plans cap the number of voices")


@reads(chars=("text",))
def _audiocleaner_tts(body: Mapping[str, Any], _ctx: PriceContext) -> Price:
    n = len(str(body.get("text") or ""))
    return Price(float(math.ceil(n / 100)), basis=f"{n} characters = {math.ceil(n / 100)} started 100")


def _moderation(body: Mapping[str, Any], ctx: PriceContext) -> Price:
    kind, content = body.get("type"), body.get("content")
    rate = RATES["moderation"].credits.get(kind)
    if rate is None:
        return Price(None, reason=f"moderation type {kind!r} has no documented price (1 image, 2 video, "
                                  "3 audio, 4 text)")
    if kind == 1:
        return Price(rate, basis="0.2 per image")
    if kind == 4:
        if isinstance(content, str) and content.lower().startswith(("http://", "https://")):
            return Price(None, reason="text given by URL: its length is unknown until fetched (0.1 per 600 "
                                      "characters)")
        n = len(str(content or ""))
        return Price(_r(n / 600 * rate), basis=f"{n} characters x 0.1/600, pro rata (rounding undocumented)")
    seconds, how = _duration(ctx, content)
    if seconds is None:
        return Price(None, reason=f"moderation of audio/video is priced per minute; the length is unknown ({how})")
    return Price(_r(seconds / 60 * rate), basis=f"{seconds:g} s ({how}) x {rate:g}/min, pro rata")


_DOCUMENTED: dict[str, PriceFn] = {
    "character_swap": _character_swap, "image_to_video": _image_to_video, "video_audio": _video_audio,
    "tts": _tts, "voice_change": _voice_change, "voice_clone": _voice_clone,
    "audiocleaner.tts": _audiocleaner_tts, "moderation": _moderation,
}


@functools.cache  # one function per rule: estimate() looks it up per row
def rule(job: str) -> PriceFn:
    """The price rule of ``job``: the documented one, else an observed estimate or a user rate, else None."""
    if job in _DOCUMENTED:
        return _DOCUMENTED[job]
    if job not in UNDOCUMENTED:
        msg = f"no price rule for {job!r}.\n\nHint: add it to pricing.UNDOCUMENTED with its unit."
        raise KeyError(msg)
    observed = RATES.get(job)

    def price(body: Mapping[str, Any], ctx: PriceContext) -> Price:
        if job in ctx.rates:
            return _user_rate(job, body, ctx)
        if observed is None:  # measured all the same: its media length is shown, and calibration uses it
            UNDOCUMENTED.get(job, ("", _one))[1](body, ctx)
        if observed is not None:
            credits = float(observed.credits["job"])
            return Price(credits, basis=f"estimate: observed in the docs' examples ({observed.source}); "
                                        f"no documented rule. pass rates={{'{job}': ...}} to override")
        return _no_price(job)

    price.__name__ = f"price_{job.replace('.', '_')}"
    declared = reads_of(UNDOCUMENTED[job][1])  # what its measure reads (a rate multiplies it)
    return price if declared is None else Declared(price, declared)


class Priced(Protocol):
    """What ``estimate`` needs of a job (a ``catalog.JobSpec``): its defaults and the name of its price rule."""

    @property
    def defaults(self) -> Mapping[str, Any]: ...

    @property
    def price(self) -> str: ...


def estimate(job: Priced, body: Mapping[str, Any], ctx: PriceContext | None = None) -> Price:
    """Price one body of ``job`` with its defaults filled in."""
    ctx = ctx if ctx is not None else PriceContext()
    ctx.used.clear()
    price = rule(job.price)({**job.defaults, **body}, ctx)
    if not ctx.used:
        return price
    sources = dict.fromkeys(how for _, how in ctx.used)  # in order, once each
    return replace(price, duration_s=_r(sum(s for s, _ in ctx.used)), duration_source=", ".join(sources))

