"""The estimate by frame operations (issue 7) equals the per-row estimate, column by column, on pandas and polars,
for random frames with the usual mess (nulls, blanks, whitespace, over-long text, unknown enums, wrong types); and
it is taken where it should be and not where it must not be."""

from __future__ import annotations

import math
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import akool_frames as af
from akool_frames import _blank
from akool_frames.frames import _fast_estimate, _fast_rules

TEXT = st.one_of(st.none(), st.just(""), st.just("   "), st.just(" leading space"), st.just("\x1c"),
                 st.text(min_size=1, max_size=40), st.text(alphabet="x", min_size=4990, max_size=5010),
                 st.sampled_from(["你好世界", "مرحبا", "🎉 party", "Hello there.", "\u3000x", "\u00a0y", "\u2028",
                                  "“quoted”", "€5", "Ở đây", "ខ្មែរ", "\u202fz", "\x85"]))
PLAIN = st.one_of(st.none(), st.just(""), st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e),
                                                  min_size=1, max_size=60))
RESOLUTION = st.one_of(st.none(), st.sampled_from(["480p", "720p", "1080p", "4k", "2k", "", " 720p"]))
LENGTH = st.one_of(st.none(), st.sampled_from([5, 10, 7]))


@pytest.fixture(scope="module")
def client(offline_client: af.Client) -> af.Client:
    # No server: an estimate sends nothing (these jobs have no language list to read).
    return offline_client


def _both(lib: str, data: dict[str, list[Any]], job: str, client: Any, **params: Any) -> tuple[Any, Any]:
    frame = pd.DataFrame(data, index=[f"r{i}" for i in range(len(next(iter(data.values()))))]) if lib == "pandas" \
        else pl.DataFrame(data, strict=False)
    # (a column of nulls only has no type to go by: the fast path declines it; the results must still match)
    fast = frame.akool.estimate(job, client=client, **params)
    with _fast_estimate.row_by_row():
        slow = frame.akool.estimate(job, client=client, **params)
    return fast, slow


def _same(fast: Any, slow: Any) -> None:
    if isinstance(fast, pl.DataFrame):
        assert fast.schema == slow.schema
        for name in fast.columns:
            assert fast[name].to_list() == slow[name].to_list(), name
        return
    assert list(fast.columns) == list(slow.columns) and list(fast.index) == list(slow.index)
    assert dict(fast.dtypes) == dict(slow.dtypes)
    for name in fast.columns:
        a, b = fast[name].tolist(), slow[name].tolist()
        assert [None if _na(x) else x for x in a] == [None if _na(x) else x for x in b], name


def _na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


SETTINGS = settings(max_examples=int(__import__("os").environ.get("FAST_EXAMPLES", "25")), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_surely_filled_ranges_hold_no_whitespace() -> None:
    # The whitespace the ranges are cut from is every character str.isspace calls so (none above U+3000).
    assert _blank.WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    # Every character the ranges call "surely not whitespace" is not, for Python's str.strip (every code point).
    for low, high in _blank.SURELY_FILLED:
        top = ord(high) if high is not None else 0x110000
        assert not any(chr(c).isspace() for c in range(ord(low), top)), (low, high)
    # and the characters left out are few (whitespace, controls, and the blocks around them)
    inside = sum((ord(h) if h else 0x110000) - ord(lo) for lo, h in _blank.SURELY_FILLED)
    assert 0x110000 - inside < 0x100


@SETTINGS
@given(texts=st.lists(PLAIN, min_size=1, max_size=30), lib=st.sampled_from(["pandas", "polars"]))
def test_tts_plain_ascii_column(client: Any, texts: list[Any], lib: str) -> None:
    # A column of printable-ASCII texts (and nulls, "") takes the shortcut of _plain: same answers.
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String}) if lib == "polars" \
        else pd.DataFrame({"t": pd.Series(texts, dtype="str")})
    assert _fast_rules.plain_columns(nw.from_native(frame, eager_only=True), ["t"]) == {"t"}
    _same(*_both(lib, {"t": texts}, "tts", client, input_text=af.col("t"), voice_id="v1"))


def test_plain_shortcut_refuses_other_starts() -> None:
    for first in (" x", "\u3000x", "“q”", "\x1cx", "你好"):
        frame = nw.from_native(pl.DataFrame({"t": ["Hello", None, "", first]}), eager_only=True)
        assert _fast_rules.plain_columns(frame, ["t"]) == set(), first


@SETTINGS
@given(texts=st.lists(TEXT, min_size=1, max_size=30), plan=st.sampled_from(["pro", "max", "business"]),
       lib=st.sampled_from(["pandas", "polars"]))
def test_tts(client: Any, texts: list[Any], plan: str, lib: str) -> None:
    _same(*_both(lib, {"t": texts}, "tts", client, input_text=af.col("t"), voice_id="v1", plan=plan))


@SETTINGS
@given(rows=st.lists(st.tuples(RESOLUTION, LENGTH, st.one_of(st.none(), st.just(""), st.just("blurry")),
                               st.sampled_from([None, "seedance-1-0-lite-i2v-250428", "unknown-model"])),
                     min_size=1, max_size=25),
       lib=st.sampled_from(["pandas", "polars"]))
def test_image_to_video(client: Any, rows: list[tuple[Any, ...]], lib: str) -> None:
    res, length, negative, model = (list(c) for c in zip(*rows, strict=True))
    if lib == "pandas":
        length = pd.array(length, dtype="Int64")
    params = {"image_url": "https://x.invalid/i.png", "prompt": "a harbour at dawn", "audio_type": 3,
              "resolution": af.col("res"), "video_length": af.col("len"), "negative_prompt": af.col("neg"),
              "model_name": af.col("model")}
    data = {"res": res, "len": length, "neg": negative, "model": model}
    _same(*_both(lib, data, "image_to_video", client, **params))


@SETTINGS
@given(rows=st.lists(st.tuples(st.sampled_from(["480p", "720p", "1080p", "2k", None]),
                               st.one_of(st.none(), st.floats(-5, 130, allow_nan=False), st.just(5.0),
                                         st.just(5.01))), min_size=1, max_size=25),
       lib=st.sampled_from(["pandas", "polars"]))
def test_character_swap(client: Any, rows: list[tuple[Any, ...]], lib: str) -> None:
    res, seconds = (list(c) for c in zip(*rows, strict=True))
    _same(*_both(lib, {"res": res, "sec": seconds}, "character_swap", client, image="https://x.invalid/f.png",
                 video="https://x.invalid/v.mp4", resolution=af.col("res"), duration=af.col("sec")))


@SETTINGS
@given(texts=st.lists(TEXT, min_size=1, max_size=25), lib=st.sampled_from(["pandas", "polars"]))
def test_audiocleaner(client: Any, texts: list[Any], lib: str) -> None:
    _same(*_both(lib, {"t": texts}, "audiocleaner.tts", client, text=af.col("t"), voice_id=2072, emotion=0,
                 speed=1, language="en"))


@SETTINGS
@given(seconds=st.lists(st.one_of(st.none(), st.floats(-1, 600, allow_nan=False), st.just(math.inf)), min_size=1,
                        max_size=25),
       lib=st.sampled_from(["pandas", "polars"]))
def test_talking_photo_with_given_lengths(client: Any, seconds: list[Any], lib: str) -> None:
    if any(s is None for s in seconds):  # a missing length would be probed: that is the per-row path's job
        seconds = [30.0 if s is None else s for s in seconds]
    _same(*_both(lib, {"sec": seconds, "a": [f"https://x.invalid/{i}.mp3" for i in range(len(seconds))]},
                 "talking_photo", client, talking_photo_url="https://x.invalid/p.png", audio_url=af.col("a"),
                 duration=af.col("sec"), rates={"talking_photo": 12.5}))


@pytest.mark.parametrize(("job", "data", "params"), [
    ("tts", {"t": ["Hello", "", None, "x" * 6000]}, {"input_text": af.col("t"), "voice_id": "v"}),
    ("image_to_video", {"r": ["720p", "2k"], "n": [5, 10]},
     {"image_url": "https://x.invalid/u.png", "prompt": "p", "negative_prompt": "n", "audio_type": 3, "resolution": af.col("r"),
      "video_length": af.col("n")}),
    ("character_swap", {"s": [12.0, -1.0]}, {"image": "https://x.invalid/i.png", "video": "https://x.invalid/v.mp4",
                                          "duration": af.col("s")}),
    ("talking_photo", {"s": [30.0, 0.0]}, {"talking_photo_url": "https://x.invalid/p.png",
                                            "audio_url": "https://x.invalid/a.mp3", "duration": af.col("s"),
                                            "rates": {"talking_photo": 10}}),
])
@pytest.mark.parametrize("lib", ["pandas", "polars"])
def test_the_fast_path_is_taken_for_ordinary_frames(client: Any, job: str, data: dict[str, list[Any]],
                                                     params: dict[str, Any], lib: str) -> None:
    taken = _fast_estimate.TAKEN[job]
    fast, slow = _both(lib, data, job, client, **params)
    assert _fast_estimate.TAKEN[job] == taken + 1
    _same(fast, slow)
    statuses = fast["akool_status"].to_list() if lib == "polars" else [None if _na(s) else s for s in fast["akool_status"]]
    assert statuses[0] is None and statuses[-1] == "invalid"  # one valid, one not: both paths meet


@pytest.mark.parametrize(("why", "job", "params"), [
    ("a Series", "tts", {"input_text": pd.Series(["a", "b"]), "voice_id": "v"}),
    ("a nested dict", "tts", {"input_text": af.col("t"), "voice_id": "v", "voice_options": {"speed": 1.1}}),
    ("no declared signature", "talking_avatar", {"avatar_from": 2, "elements": [{"type": "audio"}]}),
    ("media to probe", "talking_photo", {"talking_photo_url": "x", "audio_url": af.col("t"),
                                         "rates": {"talking_photo": 1}}),
])
def test_the_per_row_path_where_it_must(client: Any, why: str, job: str, params: dict[str, Any]) -> None:
    before = sum(_fast_estimate.TAKEN.values())
    pd.DataFrame({"t": ["a", "b"]}).akool.estimate(job, client=client, **params)
    assert sum(_fast_estimate.TAKEN.values()) == before, why


def test_a_lazy_frame_stays_lazy(client: Any) -> None:
    lazy = pl.LazyFrame({"t": ["hello", "world"]}).akool.estimate("tts", input_text=af.col("t"), voice_id="v",
                                                                  client=client)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect()["akool_credits_est"].to_list() == [pytest.approx(5 * 4.4 / 1000)] * 2
