"""af.jobs() and af.describe(job) (PRODUCT.md "Knowing the jobs"): generated from the catalog, so they
cannot drift from what the client validates; the README's job list is checked against them."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import polars as pl
import pytest

import akool_frames as af
from akool_frames.catalog import JOBS, Field, get_job, validate_body
from tests.test_jobs_catalog import EXAMPLES

README = Path(__file__).resolve().parents[1] / "README.md"


def _paths(fields: tuple[Field, ...], prefix: str = "", required: bool = False) -> list[str]:
    """Every field's dotted path (``required``: only those required where they sit)."""
    out = []
    for f in fields:
        path = f"{prefix}{f.name}"
        out += [path] * (f.required or not required)
        out += _paths(f.fields, f"{path}[]." if f.type == "list" else f"{path}.", required)
    return out


def test_jobs_lists_every_job_once_with_how_it_runs() -> None:
    table = af.jobs()
    assert list(table["job"]) == list(JOBS)
    assert {"job", "provider", "endpoint", "result", "priced", "followed", "webhook", "doc"} <= set(table.columns)
    row = table.set_index("job")
    assert row.loc["tts", "followed"] == "polled through its result list (many jobs a request)"
    assert row.loc["image_to_video", "followed"].startswith("polled, up to 100 ids")
    assert row.loc["detect_faces", "followed"].startswith("immediate")
    assert row.loc["talking_photo", "priced"].startswith("no documented price; rates= in credits per minute")
    assert row.loc["tts", "priced"].startswith("documented: credits per 1000 characters")
    assert not row.loc["audiocleaner.tts", "webhook"] and row.loc["tts", "webhook"]
    assert row.loc["tts", "doc"].startswith("https://docs.akool.com/ai-tools-suite/voiceLab")
    assert af.jobs(backend="polars").shape == table.shape


def test_the_readme_job_list_is_the_catalog() -> None:
    text = README.read_text(encoding="utf-8")
    listed = text[text.index("Jobs (`af.JOBS`"):].split("\n\n", 1)[0]
    names = re.findall(r"`([a-z_.0-9]+)`", listed.split(":", 1)[1])
    assert sorted(names) == sorted(JOBS) and len(names) == len(JOBS)


@pytest.mark.parametrize("job", list(JOBS))
def test_describe_shows_every_documented_field_but_the_callback(job: str) -> None:
    spec = get_job(job)
    table = af.describe(job)
    expected = [p for p in _paths(spec.fields) if p not in ("webhookUrl", "webhookurl", "callback_url")]
    assert list(table["parameter"]) == expected
    required = set(table.loc[table["required"] == True, "parameter"])  # noqa: E712 - a column of True/False/text
    one_of = {name for group in spec.one_of for name in group}
    assert required == set(_paths(spec.fields, required=True)) - one_of
    assert set(table.loc[table["parameter"].isin(one_of), "required"]) <= {f"one of {', '.join(g)}" for g in spec.one_of}


def test_describe_says_limits_choices_aliases_and_rules() -> None:
    tts = af.describe("tts", backend="polars")
    text = tts.filter(pl.col("parameter") == "input_text").row(0, named=True)
    assert text["max_length"] == "pro 5000, max 10000, business 50000" and text["aliases"] == "text"
    speed = tts.filter(pl.col("parameter") == "voice_options.speed").row(0, named=True)
    assert (speed["min"], speed["max"], speed["aliases"]) == (0.7, 1.2, "speed")
    i2v = af.describe("image_to_video").set_index("parameter")
    assert i2v.loc["resolution", "allowed"] == "480p, 720p, 1080p, 4k"
    assert i2v.loc["audio_type", "allowed"] == "1, 2, 3"  # sent as numbers or strings: shown once
    assert i2v.loc["negative_prompt", "rule"].startswith("required on createBySourcePrompt")
    with pytest.raises(KeyError, match="Did you mean 'image_to_video'"):
        af.describe("image_to_vide")


@pytest.mark.parametrize("job", [j for j, s in JOBS.items() if s.rules])
def test_each_rule_that_says_required_is_what_the_check_does(job: str) -> None:
    spec = get_job(job)
    for name, rule in spec.rules.items():
        if not rule.startswith("required"):
            continue
        example = next(e for e in EXAMPLES[job] if name in e)
        body = copy.deepcopy(example)
        del body[name]
        problem = validate_body(spec, body, "pro")
        assert problem is not None and name in problem, (name, problem)
