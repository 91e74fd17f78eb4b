"""Media inputs that cannot be sent: each row invalid, free, naming the field and the fix; the rest still runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import akool_frames as af
from akool_frames.sandbox._media import render

GOOD_AUDIO = "https://media.invalid/hello.mp3"


@pytest.fixture
def face(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    Path("portraits").mkdir()
    Path("portraits/face.jpg").write_bytes(render("png", seed=4))
    return "portraits/face.jpg"


CASES = {  # value -> what the row's error must say
    "portraits/face.jpg": ["talking_photo_url: 'portraits/face.jpg' is a local file; Akool fetches inputs by URL",
                           "Hint: set staging='s3://your-bucket/prefix/' on the Client (or AKOOL_FRAMES_STAGING), "
                           "or give a public URL."],
    "portraits/nobody.jpg": ["talking_photo_url: 'portraits/nobody.jpg' is neither a URL nor an existing file",
                             "Hint: check the path"],
    "C:\\Users\\ana\\face.jpg": ["talking_photo_url is 'C:\\\\Users\\\\ana\\\\face.jpg', a Windows path",
                                 "give the file's path on this machine, or a URL"],
    "ftp://files.invalid/face.jpg": ["talking_photo_url is 'ftp://files.invalid/face.jpg': ftp:// is not a location",
                                     "takes an http(s) URL, a local file (a path or file://) or an object-store URI"],
}


@pytest.mark.parametrize("verb", ["estimate", "run"])
def test_each_input_that_cannot_be_sent_is_an_invalid_free_row(sb, tmp_path, face, verb):
    values = [*CASES, "https://media.invalid/face.jpg"]
    frame = pd.DataFrame({"portrait": values})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    out = getattr(frame.akool, verb)("talking_photo", talking_photo_url=af.col("portrait"), audio_url=GOOD_AUDIO,
                                     duration=3.0, client=client)
    for i, needles in enumerate(CASES.values()):
        assert out["akool_status"][i] == "invalid"
        for needle in needles:
            assert needle in out["akool_error"][i], (needle, out["akool_error"][i])
        assert out["akool_error"][i].startswith(f"row {i}: ")
    last = out["akool_status"].iloc[-1]
    assert last == "completed" if verb == "run" else pd.isna(last)
    assert sb.stats()["creates"] == (1 if verb == "run" else 0)  # the invalid rows cost nothing


def test_the_same_local_file_with_staging_is_valid(sb, s3, tmp_path, face):
    frame = pd.DataFrame({"portrait": [face]})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", staging=s3.uri("in/"))
    out = frame.akool.estimate("talking_photo", talking_photo_url=af.col("portrait"), audio_url=GOOD_AUDIO,
                               duration=3.0, client=client)
    assert out["akool_status"].isna().all()  # valid (talking photos have no documented price: not "invalid")
    assert "is a local file" not in str(out["akool_error"][0])
    assert s3.puts() == []  # an estimate uploads nothing


def test_a_missing_object_is_an_invalid_row(sb, s3, tmp_path):
    frame = pd.DataFrame({"portrait": [s3.uri("nothing/here.png")]})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    out = frame.akool.run("talking_photo", talking_photo_url=af.col("portrait"), audio_url=GOOD_AUDIO, duration=3.0,
                          client=client)
    assert out["akool_status"].tolist() == ["invalid"]
    assert f"talking_photo_url: '{s3.uri('nothing/here.png')}': there is no such object" in out["akool_error"][0]
    assert sb.stats()["creates"] == 0


def test_faceswap_paths_inside_lists_are_checked_and_named(sb, tmp_path, face):
    frame = pd.DataFrame({"n": [1]})
    out = frame.akool.estimate("faceswap_image", targetImage=[{"path": face, "opts": "1"}],
                               sourceImage=[{"path": "https://media.invalid/s.png", "opts": "1"}],
                               modifyImage="https://media.invalid/m.png",
                               client=af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite"))
    assert out["akool_status"].tolist() == ["invalid"]
    assert "targetImage[0].path: 'portraits/face.jpg' is a local file" in out["akool_error"][0]


def test_describe_shows_the_media_fields_and_what_they_take():
    table = af.describe("talking_photo").set_index("parameter")
    assert table.loc["talking_photo_url", "type"] == "url"
    assert "local file" in table.loc["audio_url", "accepts"] and "s3://" in table.loc["audio_url", "accepts"]
    assert pd.isna(table.loc["resolution", "accepts"]) if "resolution" in table.index else True
    faces = af.describe("faceswap_image").set_index("parameter")
    assert faces.loc["targetImage[].path", "type"] == "url"
    assert af.describe("tts")["accepts"].isna().all()  # no media input
