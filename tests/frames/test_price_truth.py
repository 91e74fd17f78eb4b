"""One price truth: for every job of the catalog (so every price rule), generated frames estimated by frame
operations and the same rows one at a time (``row_by_row()``) give the same credits, statuses, errors and bases,
on pandas and polars. The frames hold valid rows, blanks, bad values (outside a list, a range, a length, a
format), texts of varied lengths, and media lengths given with ``duration=`` (so nothing is probed); each job runs
on several plans, with and without a rate of the user's.

And the comparison has teeth: a rule whose declared reads are cut short (one field fewer) gives other answers
than the per-row path on these frames, and the test says so."""

from __future__ import annotations

import math
import random
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from akool_frames.catalog import I2V_MODELS, JOBS, Field
from akool_frames.engine._localize import LANGUAGE_FIELDS
from akool_frames.frames._fast_estimate import TAKEN, row_by_row
from akool_frames.ledger._entries import CALLBACK_FIELDS
from akool_frames.pricing import _rules as pricing

PLANS = ("pro", "max", "business", "enterprise")
# Jobs that must take the vectorised path on some of these frames: every job whose rule declares its reads, but
# those whose required fields are lists of faces (a constant list is not a column: a row at a time).
FAST_JOBS = {"tts", "voice_clone", "voice_change", "legacy_tts", "legacy_voice_clone", "talking_photo",
             "avatar_upload", "lip_sync", "character_swap", "background_change", "image_generate", "image_button",
             "image_to_video", "detect_faces", "audiocleaner.tts", "kling.custom_voice"}
PATTERNS = {r"\d+x\d+": "512x512", r"#[0-9A-Fa-f]{6}": "#a1B2c3", r"[A-Za-z0-9]+": "avatar42",
            r"[a-z]{2}": "en", r"(100|[1-9]?[0-9])%": "80%"}
NAMED = {"model_name": [*I2V_MODELS, "akool_faceswap_image_hq", "unknown-model"]}  # values the rules name
CONSTANT_LISTS = {  # required lists of faces or elements, as constants (those jobs go a row at a time)
    "targetImage": [{"path": "https://x.invalid/t.png", "opts": "1,2:3,4"}],
    "sourceImage": [{"path": "https://x.invalid/s.png", "opts": "1,2:3,4"}],
    "elements": [{"type": "avatar", "avatar_id": "a1"}, {"type": "audio", "url": "https://x.invalid/a.mp3"}],
}


@pytest.fixture(scope="module")
def client(offline_client: af.Client) -> af.Client:
    # No server: an estimate sends nothing, no media is probed (lengths are given), no language list is read.
    return offline_client


# ------------------------------------------------------------------------------------------- values
def _limit(f: Field, plan: str) -> int | None:
    return f.max_len.get(plan, 5000) if isinstance(f.max_len, dict) else f.max_len  # type: ignore[return-value]


URLS = ("https://media.invalid/a.png", "http://cdn.invalid:8080/b.mp4?x=1", "https://x.invalid/c.mp3",
        " https://x.invalid/spaced.png")  # (the last is sent stripped: a row at a time)
NOT_URLS = ("ftp://x.invalid/a.png", "no/such/file.png", "C:\\faces\\a.png", "https://", "HTTP://x.invalid/a.png")


def _valid(f: Field, rng: random.Random, plan: str) -> Any:
    if f.type == "url":
        return rng.choice(URLS)
    if f.name in NAMED:
        return rng.choice(NAMED[f.name])
    if f.enum is not None:
        return rng.choice(f.enum)
    if f.pattern is not None:
        return PATTERNS[f.pattern]
    if f.type == "bool":
        return rng.random() < 0.5
    if f.type in ("int", "num"):
        low, high = f.min if f.min is not None else -20, f.max if f.max is not None else 50
        value = rng.randint(math.ceil(low), math.floor(high))
        return value if f.type == "int" else value + rng.choice((0.0, 0.25, 0.5))
    top = _limit(f, plan) or 400
    n = rng.choice((1, 7, 99, 100, 101, 117, 999, 1000, 1001, min(top, 4999)))
    return rng.choice(("Hello there. ", "你好世界", "“quoted” ", "x")) * n if n < 50 else "y" * min(n, top)


def _blank(f: Field, rng: random.Random) -> Any:
    if f.type in ("int", "bool"):
        return None
    if f.type == "num":
        return rng.choice((None, math.nan))
    return rng.choice((None, "", "   ", "\u3000"))


def _bad(f: Field, rng: random.Random, plan: str) -> Any:
    if f.type == "url":
        return rng.choice(NOT_URLS)
    if f.enum is not None:
        return "bogus" if isinstance(f.enum[0], str) else 99
    if f.type in ("int", "num"):
        if f.min is not None and (f.max is None or rng.random() < 0.5):
            return math.floor(f.min) - 1 if f.type == "int" else f.min - 0.5
        if f.max is not None:
            return math.ceil(f.max) + 1 if f.type == "int" else f.max + 0.5
        return None if f.type == "int" else math.inf
    if f.pattern is not None:
        return "not the format!"
    limit = _limit(f, plan)
    if limit is not None:
        return "z" * (limit + rng.choice((1, 50)))
    return " leading space is no problem"  # free text has no bad value: a valid row


def _flat(job: str) -> list[Field]:
    """The fields a frame can give by column: flat, not set by akool_frames, not checked against a provider list."""
    languages = set(LANGUAGE_FIELDS.get(job, {}))
    return [f for f in JOBS[job].fields if f.type not in ("list", "dict", "any") and not f.fields
            and f.name not in CALLBACK_FIELDS and f.name not in languages]


def _measures_media(job: str) -> bool:
    reads = pricing.reads_of(pricing.rule(JOBS[job].price))
    return reads is None or reads.duration


def _frame(job: str, rng: random.Random, plan: str, variant: int, rows: int) -> tuple[dict[str, list[Any]],
                                                                                      dict[str, Any]]:
    """Columns and parameters. Variant 0: every flat field a column but formats and word limits (constants);
    1: some fields columns, some constants, some left out; 2: every flat field a column."""
    spec = JOBS[job]
    data: dict[str, list[Any]] = {}
    params: dict[str, Any] = {}
    fields = _flat(job)
    for f in fields:
        plain = f.pattern is None and f.max_words is None  # (formats and word limits: a row at a time)
        as_column = variant == 2 or (plain and (variant == 0 or rng.random() < 0.6))
        if as_column:
            # (optional fields often left out, so that fields that exclude each other meet in few rows)
            data[f.name] = [_valid(f, rng, plan) if f.required or rng.random() < 0.6 else None for _ in range(rows)]
            params[f.name] = af.col(f.name)
        elif f.required or f.name == "duration" or rng.random() < 0.5:
            params[f.name] = _valid(f, rng, plan)
    for f in spec.fields:
        if f.required and f.name in CONSTANT_LISTS:
            params[f.name] = CONSTANT_LISTS[f.name]
    columns = [n for n in data if n != "duration"]  # (a blank documented duration would be probed)
    for i in range(rows):  # most rows valid; the others with one blank or one bad value
        if columns and rng.random() < 0.45:
            name = rng.choice(columns)
            f = next(f for f in fields if f.name == name)
            data[name][i] = _blank(f, rng) if rng.random() < 0.5 else _bad(f, rng, plan)
    if _measures_media(job) and "duration" not in spec.field_names():
        seconds = [rng.choice((0.4, 5.0, 7.5, 9.99, 10.0, 12.8, 30.0, 61.0, 299.5)) for _ in range(rows)]
        for i in rng.sample(range(rows), k=rows // 8):
            seconds[i] = rng.choice((0.0, -3.0, math.inf))  # bad lengths: the row is invalid, nothing probed
        data["sec"] = seconds
        params["duration"] = af.col("sec")
    return data, params


def _native(lib: str, data: dict[str, list[Any]], fields: list[Field], rows: int) -> Any:
    if not data:
        data = {"n": list(range(rows))}
    if lib == "polars":
        return pl.DataFrame(data, strict=False)
    kinds = {f.name: f.type for f in fields}
    columns = {}
    for name, values in data.items():
        typed = {type(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))}
        if kinds.get(name) == "int" and typed <= {int}:
            columns[name] = pd.array(values, dtype="Int64")
        elif kinds.get(name) == "bool" and typed <= {bool}:
            columns[name] = pd.array(values, dtype="boolean")
        else:
            columns[name] = values
    return pd.DataFrame(columns, index=[f"r{i}" for i in range(rows)])


# ------------------------------------------------------------------------------------------ compare
def _cells(frame: Any, name: str) -> list[Any]:
    values = frame[name].to_list() if isinstance(frame, pl.DataFrame) else frame[name].tolist()
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else v for v in values]


def _differences(fast: Any, slow: Any) -> list[str]:
    out = []
    if list(fast.columns) != list(slow.columns):
        return [f"columns {list(fast.columns)} != {list(slow.columns)}"]
    dtypes = (fast.schema, slow.schema) if isinstance(fast, pl.DataFrame) else (dict(fast.dtypes), dict(slow.dtypes))
    if dtypes[0] != dtypes[1]:
        out.append(f"dtypes {dtypes[0]} != {dtypes[1]}")
    for name in fast.columns:
        a, b = _cells(fast, name), _cells(slow, name)
        out += [f"row {i} {name}: {x!r} (vectorised) != {y!r} (row by row)"
                for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y][:3]
    return out


def _cases(job: str, seed: int) -> list[tuple[str, Any, dict[str, Any], str]]:
    """(library, frame, parameters, plan) for one job: three variants on each library, plans and rates varied."""
    rng = random.Random(f"{job}-{seed}")
    cases = []
    for variant in range(3):
        plan = PLANS[(variant + seed) % len(PLANS)]
        rows = rng.choice((1, 9, 40))
        data, params = _frame(job, rng, plan, variant, rows)
        if variant != 1:  # a rate of the user's: used by the rules without a documented price
            params["rates"] = {job: rng.choice((0.5, 3.0, 12.5))}
        for lib in ("pandas", "polars"):
            cases.append((lib, _native(lib, data, _flat(job), rows), params, plan))
    return cases


def _compare(job: str, client: Any, seed: int = 0) -> list[str]:
    found = []
    for lib, frame, params, plan in _cases(job, seed):
        fast = frame.akool.estimate(job, client=client, plan=plan, **params)
        with row_by_row():
            slow = frame.akool.estimate(job, client=client, plan=plan, **params)
        found += [f"{lib}, {plan}: {d}" for d in _differences(fast, slow)]
    return found


# --------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("job", sorted(JOBS))
def test_every_rule_agrees_with_the_per_row_path(client: Any, job: str) -> None:
    before = TAKEN[job]
    for seed in range(2):
        assert _compare(job, client, seed) == []
    if job in FAST_JOBS:  # and the vectorised path was really taken, not declined every time
        assert TAKEN[job] > before, f"{job}: the vectorised path was never taken"
    else:
        assert TAKEN[job] == before


def test_every_job_is_covered() -> None:
    declared = {name for name, spec in JOBS.items() if pricing.reads_of(pricing.rule(spec.price)) is not None}
    lists = {name for name, spec in JOBS.items() if any(f.required and f.name in CONSTANT_LISTS for f in spec.fields)}
    assert FAST_JOBS == declared - lists


def _cuts() -> list[tuple[str, str, str]]:
    """Every declared read of a field a frame can give as a column, for the jobs that take the vectorised path."""
    out = []
    for job in sorted(FAST_JOBS):
        reads = pricing.reads_of(pricing.rule(JOBS[job].price))
        assert reads is not None
        keyable = {f.name for f in _flat(job) if f.pattern is None and f.max_words is None}
        out += [(job, kind, name) for kind in ("values", "chars") for name in getattr(reads, kind) if name in keyable]
    return out


@pytest.mark.parametrize(("job", "kind", "name"), _cuts())
def test_a_declaration_cut_short_is_caught(client: Any, monkeypatch: pytest.MonkeyPatch, job: str, kind: str,
                                           name: str) -> None:
    rule = pricing.rule(JOBS[job].price)
    reads = pricing.reads_of(rule)
    assert reads is not None
    cut = pricing.Reads(**{**reads.__dict__, kind: tuple(n for n in getattr(reads, kind) if n != name)})
    monkeypatch.setattr(rule, "reads", cut)
    assert pricing.reads_of(rule) == cut
    assert any(_compare(job, client, seed) for seed in range(2)), f"{job}: cutting {name} from {kind} went unseen"
