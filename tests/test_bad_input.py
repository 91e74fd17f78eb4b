"""Bad input, drilled (issue 11): property-based junk (NaN, None, empty, huge, wrong types, odd unicode, bad URLs,
out-of-range numbers, unknown enums, nested junk) put into every documented field of every job. Preparing a
row never raises; a row found invalid names the field it broke (or the one its rule ties to it); and over
HTTP, junk rows end with a status and only the valid ones are sent."""

from __future__ import annotations

import copy
from typing import Any

import hypothesis.strategies as st
import pandas as pd
from hypothesis import HealthCheck, given, settings

import akool_frames as af
from akool_frames._prepare import prepare
from akool_frames.jobs import JOBS, Field, get_job
from tests.test_jobs_catalog import EXAMPLES

ODD_TEXT = st.sampled_from(["", " ", "\u200b", "\x00", "\ud7ff", "ＡＢＣ", "🙂" * 3, "e\u0301", "\n\t", "=cmd|' /C calc'!A0",
                            "x" * 60_000, "not a url", "http://", "ftp://example.com/a.mp3", "https://exa mple.com/a b"])
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
              ODD_TEXT, st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _paths(fields: tuple[Field, ...], prefix: str = "") -> list[str]:
    """Top-level and dict-nested field paths (list items are filled by the examples as given)."""
    out = []
    for f in fields:
        path = f"{prefix}{f.name}"
        out.append(path)
        if f.type == "dict":
            out += _paths(f.fields, f"{path}.")
    return out


CASES = [(job, path) for job, spec in JOBS.items() if job in EXAMPLES for path in _paths(spec.fields)
         if path not in ("webhookUrl", "webhookurl", "callback_url")]


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        if not isinstance(body.get(name), dict):
            body[name] = {}
        body = body[name]
    body[last] = value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), junk=JUNK)
def test_junk_in_any_field_never_raises_and_names_the_field(case: tuple[str, str], junk: Any) -> None:
    job, path = case
    spec = get_job(job)
    body = copy.deepcopy(EXAMPLES[job][0])
    _put(body, path, junk)
    prepared = prepare(spec, body, "pro")  # must not raise, whatever the value
    if prepared.problem is None:
        return
    named = {path, path.split(".")[0], *path.split(".")}
    rule_fields = {n for text in spec.rules.values() for n in spec.field_names() if n in text}
    words = prepared.problem.replace("[", " ").replace(".", " ").replace(",", " ").split()
    assert named & set(words) or rule_fields & set(words) or any(w in spec.field_names() for w in words), \
        (job, path, junk, prepared.problem)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(JUNK, st.just("A perfectly good line.")), min_size=5, max_size=25))
def test_a_frame_of_junk_runs_every_row_to_a_status_and_sends_only_valid_ones(texts: list[Any]) -> None:
    with af.sandbox(time_scale=500) as sb:
        df = pd.DataFrame({"text": pd.Series(texts, dtype=object)})
        out = df.akool.run("tts", client=sb.client, progress=False, input_text=af.col("text"),
                           voice_id="6889b628662160e2caad5dbc")
        statuses = list(out["akool_status"])
        assert len(statuses) == len(texts) and all(isinstance(s, str) for s in statuses)
        invalid = [e for s, e in zip(statuses, out["akool_error"], strict=True) if s == "invalid"]
        assert all("input_text" in e for e in invalid)
        valid = [t for t, s in zip(out["text"], statuses, strict=True) if s != "invalid"]
        assert all(isinstance(t, str) and t.strip() for t in valid)  # only real text got through
        assert sb.stats()["creates"] == len(set(valid))  # one create per distinct valid row, none for junk
