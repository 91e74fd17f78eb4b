"""Chaining jobs with prefixes: speech from text, then a talking photo speaking that speech.

The second job reads the first one's result column (``af.col("tts_url")``); both sets of columns stay,
and the video lasts as long as its audio (the talking-photo docs: "audio duration determines video length").
"""

from __future__ import annotations

import httpx

import akool_frames as af
from tests.client.conftest import RESULT_COLUMNS, VOICE, columns, make_frame
from tests.conftest import media_seconds

SCRIPTS = [
    "Welcome to the spring campaign.",
    "Our new collection arrives in stores this week, with more colours than ever before.",
    "Thank you for watching, and see you soon.",
]
PORTRAIT = "https://example.com/portraits/{}.png"


def test_tts_then_talking_photo(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"script": SCRIPTS, "portrait": [PORTRAIT.format(i) for i in range(len(SCRIPTS))]})

    speech = df.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, prefix="tts_", client=client,
                          progress=False)
    video = speech.akool.run("talking_photo", talking_photo_url=af.col("portrait"), audio_url=af.col("tts_url"),
                             resolution="720", prefix="video_", client=client, progress=False)

    got = columns(video)
    assert list(video.columns) == ["script", "portrait", *(f"tts_{c}" for c in RESULT_COLUMNS),
                                   *(f"video_{c}" for c in RESULT_COLUMNS)]
    assert got["script"] == SCRIPTS
    assert got["tts_status"] == ["completed"] * 3
    assert got["video_status"] == ["completed"] * 3, got["video_error"]
    assert not any(c.startswith("akool_") for c in video.columns)
    assert columns(speech) == {k: v for k, v in got.items() if not k.startswith("video_")}  # tts columns kept
    stats = sb.stats()["creates_by_endpoint"]
    assert stats == {"/api/open/v4/voice/tts": 3, "/api/open/v3/content/video/createbytalkingphoto": 3}

    with httpx.Client(timeout=10) as http:
        for audio_url, video_url in zip(got["tts_url"], got["video_url"], strict=True):
            assert video_url.endswith(".mp4")
            audio = http.get(audio_url)
            clip = http.get(video_url)
            assert audio.status_code == clip.status_code == 200
            speech_s, video_s = media_seconds(audio.content, "mp3"), media_seconds(clip.content, "mp4")
            assert speech_s > 1.0
            assert abs(video_s - speech_s) <= 0.1, (speech_s, video_s)
