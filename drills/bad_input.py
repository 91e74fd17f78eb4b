"""Drill: junk in every documented field of every job, and frames of junk run over HTTP (issue 11).

    python drills/bad_input.py                                   # 3,000 field cases, 20 frames
    python drills/bad_input.py --examples 20000 --frames 100 --seed 7

Field junk: ``--examples`` (job, field path, junk value) cases generated with hypothesis: NaN, None, empty,
huge, wrong types, odd unicode, bad URLs, out-of-range numbers, nested junk, put into one field (top-level
or nested in a dict) of the job's documented example, then ``prepare()``d. Printed: cases tried, jobs and
fields covered, rows found invalid and valid, exceptions escaped from ``prepare()`` and invalid rows whose
problem names neither the field broken nor one a rule ties to it (targets: 0, 0). The examples' callback
fields are left out: a row carrying one is refused before its other fields are read.

Frames over HTTP: ``--frames`` frames of 5-25 rows mixing junk and good lines, each run as TTS with
``df.akool.run`` on a fresh sandbox. Printed: rows without a status, invalid rows whose error does not name
``input_text``, valid rows that are not real text, the creates the sandbox received against the distinct
valid rows, exceptions escaped (targets: 0, 0, 0, equal, 0), and the statuses counted.

The fast versions run in ``tests/test_bad_input.py`` (400 field cases, 25 frames).
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import hypothesis.strategies as st
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.test_jobs_catalog
import akool_frames as af
from akool_frames.catalog import JOBS, Field, get_job
from akool_frames.engine._prepare import prepare
from akool_frames.ledger._entries import CALLBACK_FIELDS
from tests.test_jobs_catalog import EXAMPLES

ODD_TEXT = st.sampled_from(["", " ", "\u200b", "\x00", "\ud7ff", "ＡＢＣ", "🙂" * 3, "e\u0301", "\n\t", "=cmd|' /C calc'!A0",
                            "x" * 60_000, "not a url", "http://", "ftp://example.com/a.mp3", "https://exa mple.com/a b"])
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
              ODD_TEXT, st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)
GOOD_LINE = "A perfectly good line."
VOICE = "6889b628662160e2caad5dbc"


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


def _escaped(exc: BaseException) -> str:
    """An exception in one line, with where it was raised."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}: {str(exc)[:200]}{at}"


# ----------------------------------------------------------------------------- field junk
class Finding(NamedTuple):
    """What one (job, path, junk) case gave: ``problem`` is prepare()'s (None: the row is valid); ``failure``
    is None when the promise held, else what broke it."""

    problem: str | None
    failure: str | None = None
    raised: bool = False  # the failure is an exception that escaped prepare()


def check_case(job: str, path: str, junk: Any) -> Finding:
    """Put ``junk`` at ``path`` of the job's first documented example and prepare it: it must not raise,
    and a problem found must name the field broken, or a field its rule ties to it.

    The examples' callback fields are left out: a row carrying one is refused before its other fields are read
    (the client sets them itself), so junk elsewhere would never be looked at."""
    spec = get_job(job)
    body = {k: v for k, v in copy.deepcopy(EXAMPLES[job][0]).items() if k not in CALLBACK_FIELDS}
    _put(body, path, junk)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # as under pytest (filterwarnings = error)
            prepared = prepare(spec, body, "pro")  # must not raise, whatever the value
    except Exception as exc:  # noqa: BLE001 - the drill counts what escapes
        return Finding(None, f"prepare() raised {_escaped(exc)}", raised=True)
    if prepared.problem is None:
        return Finding(None)
    named = {path, path.split(".")[0], *path.split(".")}
    rule_fields = {n for text in spec.rules.values() for n in spec.field_names() if n in text}
    words = prepared.problem.replace("[", " ").replace(".", " ").replace(",", " ").split()
    if named & set(words) or rule_fields & set(words):
        return Finding(prepared.problem)
    return Finding(prepared.problem, f"problem does not name the field: {prepared.problem!r}")


def field_junk(examples: int, seed: int) -> dict[str, Any]:
    """``examples`` generated cases through ``check_case``; counts, and the failures."""
    found: dict[str, Any] = {"cases": 0, "invalid": 0, "valid": 0, "raised": 0, "unnamed": 0,
                             "covered": set(), "failures": []}

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=st.sampled_from(CASES), junk=JUNK)
    def run(case: tuple[str, str], junk: Any) -> None:
        job, path = case
        finding = check_case(job, path, junk)
        found["cases"] += 1
        found["covered"].add(case)
        found["invalid" if finding.problem is not None else "valid"] += 1
        if finding.failure is not None:
            found["raised" if finding.raised else "unnamed"] += 1
            found["failures"].append((job, path, junk, finding.failure))

    run()
    return found


# ----------------------------------------------------------------------------- frames over HTTP
class FrameFinding(NamedTuple):
    """One frame run as TTS on a fresh sandbox."""

    rows: int
    without_status: int  # rows whose akool_status is not a string (or missing)
    invalid_unnamed: list[str]  # errors of invalid rows not naming input_text
    valid_not_text: list[Any]  # rows sent (not invalid) that are not real text
    creates: int  # creates the sandbox received
    distinct_valid: int  # distinct values among the rows not invalid
    statuses: Counter[str]
    raised: str | None  # an exception that escaped df.akool.run


def run_frame(texts: list[Any]) -> FrameFinding:
    """``texts`` as a frame's ``text`` column, run as TTS (``input_text=af.col("text")``) on a fresh sandbox:
    every row must end with a status, invalid rows must name ``input_text``, and only real text is sent,
    one create per distinct row."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under pytest (filterwarnings = error)
        with af.sandbox(time_scale=500) as sb:
            df = pd.DataFrame({"text": pd.Series(texts, dtype=object)})
            try:
                out = df.akool.run("tts", client=sb.client, progress=False, input_text=af.col("text"),
                                   voice_id=VOICE)
            except Exception as exc:  # noqa: BLE001 - the drill counts what escapes
                return FrameFinding(len(texts), len(texts), [], [], sb.stats()["creates"], 0, Counter(),
                                    _escaped(exc))
            statuses = list(out["akool_status"])
            invalid = [e for s, e in zip(statuses, out["akool_error"], strict=True) if s == "invalid"]
            valid = [t for t, s in zip(out["text"], statuses, strict=True) if s != "invalid"]
            return FrameFinding(
                rows=len(texts),
                without_status=max(0, len(texts) - len(statuses)) + sum(not isinstance(s, str) for s in statuses),
                invalid_unnamed=[e for e in invalid if not (isinstance(e, str) and "input_text" in e)],
                valid_not_text=[t for t in valid if not (isinstance(t, str) and t.strip())],
                creates=sb.stats()["creates"],
                distinct_valid=len({repr(t) for t in valid}),  # repr: a junk row sent may not be hashable
                statuses=Counter(str(s) for s in statuses), raised=None)


def frames_over_http(frames: int, seed: int) -> list[tuple[list[Any], FrameFinding]]:
    """``frames`` generated frames through ``run_frame``."""
    found: list[tuple[list[Any], FrameFinding]] = []

    @hypothesis_seed(seed)
    @settings(max_examples=frames, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.one_of(JUNK, st.just(GOOD_LINE)), min_size=5, max_size=25))
    def run(texts: list[Any]) -> None:
        found.append((texts, run_frame(texts)))

    run()
    return found


# ----------------------------------------------------------------------------- report
def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} chars)"


def _examples(title: str, items: list[str]) -> None:
    if items:
        print(f"    {title} (first {min(5, len(items))} of {len(items)}):")
        for item in items[:5]:
            print(f"      {item}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=3000, help="generated (job, field, junk) cases")
    parser.add_argument("--frames", type=int, default=20, help="frames of 5-25 rows run over HTTP")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    jobs = {job for job, _ in CASES}
    print(f"bad input drill: {args.examples} field cases over {len(CASES)} fields of {len(jobs)} jobs, "
          f"{args.frames} frames, seed {seed}", flush=True)

    started = time.monotonic()
    f = field_junk(args.examples, seed)
    covered_jobs = {job for job, _ in f["covered"]}
    print(f"  field junk ({time.monotonic() - started:.1f} s): {f['cases']} cases tried, "
          f"{len(covered_jobs)}/{len(jobs)} jobs and {len(f['covered'])}/{len(CASES)} fields covered")
    print(f"    rows found invalid {f['invalid']}, valid {f['valid']}")
    print(f"    exceptions escaped from prepare(): {f['raised']} (target 0)")
    print(f"    invalid rows not naming their field: {f['unnamed']} (target 0)", flush=True)
    _examples("failures", [f"{job} {path} = {_short(junk)}: {failure}" for job, path, junk, failure in f["failures"]])
    fields_ok = f["raised"] == 0 and f["unnamed"] == 0

    started = time.monotonic()
    runs = frames_over_http(args.frames, seed)
    rows = sum(r.rows for _, r in runs)
    no_status = sum(r.without_status for _, r in runs)
    unnamed = [e for _, r in runs for e in r.invalid_unnamed]
    not_text = [t for _, r in runs for t in r.valid_not_text]
    creates = sum(r.creates for _, r in runs)
    distinct = sum(r.distinct_valid for _, r in runs)
    raised = [f"frame of {len(texts)} rows: {r.raised}" for texts, r in runs if r.raised]
    unequal = [f"frame of {len(texts)} rows: {r.creates} creates, {r.distinct_valid} distinct valid rows, "
               f"statuses {dict(r.statuses)}" for texts, r in runs if r.creates != r.distinct_valid]
    statuses = sum((r.statuses for _, r in runs), Counter())
    print(f"  frames over HTTP ({time.monotonic() - started:.1f} s): {len(runs)} frames, {rows} rows")
    print(f"    rows without a status: {no_status} (target 0)")
    print(f"    invalid rows whose error does not name input_text: {len(unnamed)} (target 0)")
    print(f"    rows sent that are not real text: {len(not_text)} (target 0)")
    print(f"    creates the sandbox received {creates}, distinct valid rows {distinct} (target: equal; "
          f"frames where not: {len(unequal)})")
    print(f"    exceptions escaped: {len(raised)} (target 0)")
    print("    statuses: " + ", ".join(f"{s} {n}" for s, n in statuses.most_common()))
    _examples("errors not naming input_text", [_short(e) for e in unnamed])
    _examples("rows sent that are not real text", [_short(t) for t in not_text])
    _examples("frames where creates != distinct valid rows", unequal)
    _examples("exceptions", raised)
    frames_ok = no_status == 0 and not unnamed and not not_text and not unequal and not raised

    good = fields_ok and frames_ok
    print("  targets:", "met" if good else "NOT MET")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
