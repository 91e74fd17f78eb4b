"""Look-up column types: every look-up uses the result columns' nullable types, on pandas and polars alike: text as
`string` / pl.String, integers Int64, numbers Float64, flags boolean, times UTC datetimes; no `object` (pandas'
NaN-based `str` included), nested values as JSON text."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from tests.client.conftest import VOICE

CDN = "https://d11fbe263bhqij.cloudfront.net/agicontent/video/global_reach/"  # images the sandbox serves

LOOKUPS = {"voices": af.voices, "avatars": af.avatars, "ai_models": af.ai_models, "languages": af.languages,
           "effects": af.effects, "credits": af.credits, "ledger": af.ledger,
           "v3_voices": lambda **kw: af.voices(version=3, **kw)}
# Columns whose type the issue names (the rest: every column one of the allowed types below).
EXPECTED = {
    "voices": {"_id": "string", "name": "string", "create_time": "datetime", "update_time": "datetime",
               "duration": "int", "support_stream": "bool", "style": "string"},
    "avatars": {"avatar_id": "string", "from": "int"},
    "ai_models": {"value": "string", "resolutionList": "string", "isPro": "bool", "maxCount": "int",
                  "generate_audio": "string"},  # generate_audio: null everywhere, still text
    "languages": {"lang_code": "string"},
    "effects": {"effect_code": "string", "create_time": "datetime"},
    "credits": {"credit": "float"},
    "v3_voices": {"voice_id": "string", "create_time": "datetime", "from": "int"},
    "ledger": {"key": "string", "attempt": "int", "credits": "float", "credits_est": "float", "extra": "string",
               "created_at": "datetime", "completed_at": "datetime", "deleted_at": "datetime",
               "duration_s": "float"},
}
PANDAS = {"string": pd.StringDtype(), "int": pd.Int64Dtype(), "float": pd.Float64Dtype(),
          "bool": pd.BooleanDtype(), "datetime": pd.DatetimeTZDtype("ns", "UTC")}
POLARS = {"string": pl.String, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean,
          "datetime": pl.Datetime("us", "UTC")}


@pytest.fixture
def used(client: af.Client) -> af.Client:
    """A client whose ledger holds two completed jobs and a deleted one (deleted_at set, the rest null)."""
    df = pd.DataFrame({"line": ["Hello.", "Bye."]})
    df.akool.run("tts", input_text=af.col("line"), voice_id=VOICE, client=client, progress=False)
    video = pd.DataFrame({"img": [CDN + "a.png"]}).akool.run(
        "image_to_video", image_url=af.col("img"), prompt="Slow pan.", model_name="seedance-1-0-lite-i2v-250428",
        resolution="720p", video_length=5, client=client, progress=False)
    assert video.akool.delete(client=client)["akool_deleted"].tolist() == [True]
    return client


@pytest.mark.parametrize("name", list(LOOKUPS))
def test_lookups_use_the_result_columns_types_on_pandas(used: af.Client, name: str) -> None:
    frame = LOOKUPS[name](client=used)
    assert len(frame) > 0
    for column, kind in EXPECTED[name].items():
        assert frame[column].dtype == PANDAS[kind], (column, frame[column].dtype)
    # Every column is one of them: no object, no NaN-based str, no int64 epoch.
    assert {c: d for c, d in frame.dtypes.items() if d not in PANDAS.values()} == {}


@pytest.mark.parametrize("name", list(LOOKUPS))
def test_lookups_use_the_result_columns_types_on_polars(used: af.Client, name: str) -> None:
    frame = LOOKUPS[name](client=used, backend="polars")
    assert isinstance(frame, pl.DataFrame) and len(frame) > 0
    for column, kind in EXPECTED[name].items():
        assert frame.schema[column] == POLARS[kind], (column, frame.schema[column])
    assert {c: d for c, d in frame.schema.items() if d not in POLARS.values()} == {}


def test_the_values_read_as_they_did(used: af.Client) -> None:
    voices = af.voices(client=used)
    first = voices.iloc[0]
    assert first["create_time"] == pd.Timestamp(1751000000000, unit="ms", tz="UTC")  # the sandbox's epoch ms
    assert json.loads(first["style"]) == ["Calm"]  # a tag list, as JSON text
    ledger = af.ledger(client=used)
    assert ledger["deleted_at"].notna().sum() == 1 and ledger["deleted_at"].isna().sum() == len(ledger) - 1
    assert (ledger["created_at"] <= ledger["completed_at"]).all()


def test_an_empty_list_has_no_object_column(client: af.Client) -> None:
    assert af.voices(version=3, cloned=True, client=client).dtypes.tolist() == [pd.StringDtype()]


def test_an_empty_ledger_keeps_its_types(client: af.Client) -> None:
    for backend, types, dtype_of in (("pandas", PANDAS, lambda f, c: f[c].dtype),
                                     ("polars", POLARS, lambda f, c: f.schema[c])):
        frame: Any = af.ledger(client=client, backend=backend)
        assert len(frame) == 0
        for column, kind in EXPECTED["ledger"].items():
            assert dtype_of(frame, column) == types[kind], (backend, column)
