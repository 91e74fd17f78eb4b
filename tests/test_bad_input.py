"""Bad input, drilled: property-based junk (NaN, None, empty, huge, wrong types, odd unicode, bad URLs,
out-of-range numbers, unknown enums, nested junk) put into every documented field of every job. Preparing a
row never raises; a row found invalid names the field it broke (or the one its rule ties to it); and over
HTTP, junk rows end with a status and only the valid ones are sent. The fast version of
``python drills/bad_input.py`` (see drills/README.md), which holds the strategies and the checks."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from drills.bad_input import CASES, GOOD_LINE, JUNK, check_case, run_frame


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), junk=JUNK)
def test_junk_in_any_field_never_raises_and_names_the_field(case: tuple[str, str], junk: Any) -> None:
    job, path = case
    finding = check_case(job, path, junk)
    assert finding.failure is None, (job, path, junk, finding.failure)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(JUNK, st.just(GOOD_LINE)), min_size=5, max_size=25))
def test_a_frame_of_junk_runs_every_row_to_a_status_and_sends_only_valid_ones(texts: list[Any]) -> None:
    found = run_frame(texts)
    assert found.raised is None, found.raised
    assert found.rows == len(texts) and found.without_status == 0
    assert not found.invalid_unnamed, found.invalid_unnamed
    assert not found.valid_not_text, found.valid_not_text  # only real text got through
    assert found.creates == found.distinct_valid, found  # one create per distinct valid row, none for junk
