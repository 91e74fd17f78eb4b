"""The client against the documentation pages and what real clients send, job by job: legacy TTS limits in words,
which webhook fields each create sends, unknown and misspelled fields, face swap opts and several faces, ISO 639-1
codes, the v3 voices, extra fields as columns, face detection chained into face swap, image to video's count, and
answers in the shapes real clients meet. One test per item, each naming the page (or the observed behaviour) it
follows; all over real HTTP against the sandbox, reading what the sandbox received."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns, create_entries, make_frame

CDN = "https://d11fbe263bhqij.cloudfront.net/agicontent/video/global_reach/"
FACE = "https://d21ksh0k4smeql.cloudfront.net/crop_1694593694387-4562-0-1694593694575-8306.png"
FACE_OPTS = "262,175:363,175:313,215:272,279"


def received(sb: af.Sandbox, job: str) -> list[dict[str, Any]]:
    """The bodies of the ``job`` creates the sandbox accepted, in order."""
    with sb.state.lock:
        jobs = sorted((j for j in sb.state.jobs.values() if j.name == job), key=lambda j: j.created)
        return [dict(j.body) for j in jobs]


def run(df: Any, job: str, client: af.Client, **params: Any) -> dict[str, list[Any]]:
    return columns(df.akool.run(job, client=client, progress=False, **params))


# ------------------------------------------------------------------------------------------ shared errors
def test_legacy_text_is_limited_in_words_not_characters(sb: af.Sandbox, client: af.Client) -> None:
    """Seed 000 (legacy audio): the text "is limited to 5000 words". 6,000 characters in 1,000 words go out; 5,001
    words are an invalid row that costs nothing."""
    short_words = " ".join(["hello"] * 1000)  # 5,999 characters
    too_many = " ".join(["a"] * 5001)
    df = pd.DataFrame({"text": [short_words, too_many]})
    out = run(df, "legacy_tts", client, input_text=af.col("text"), voice_id="LcfcDJNUP1GQjkzn1xUU", rate="100%")
    assert out["akool_status"] == ["completed", "invalid"]
    assert out["akool_error"][1] == "row 1: input_text has 5001 words; the limit is 5000"
    assert len(create_entries(sb)) == 1


def test_background_change_always_sends_its_required_webhook_url(sb: af.Sandbox, client: af.Client) -> None:
    """Page 02 (background change) marks webhookUrl required: without a webhook it is sent empty, as real clients
    send it."""
    df = pd.DataFrame({"x": [5]})
    out = run(df, "background_change", client, canvas_size="3840x3840", color_code="#c9aafb",
              origin_img=CDN + "1712133151184-origin.png", modify_origin_img_size="3060x3824",
              overlay_origin_x=af.col("x"), overlay_origin_y=8)
    assert out["akool_status"] == ["completed"]
    assert received(sb, "background_change")[0]["webhookUrl"] == ""


def test_video_audio_sends_no_webhook_field(sb: af.Sandbox, tmp_path: Any) -> None:
    """Page 19 (image to video, update video audio): its table has no webhook field, so none is sent, even with a
    webhook configured on the client."""
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", webhook_url=sb.webhook_sink_url)
    video = run(pd.DataFrame({"i": [CDN + "1753772478686-9524.png"]}), "image_to_video", client, image_url=af.col("i"),
                prompt="Animate gently.", negative_prompt="blurry", extend_prompt=True, resolution="720p", audio_type=3,
                video_length=5)
    assert video["akool_status"] == ["completed"], video["akool_error"]
    out = run(pd.DataFrame({"v": video["akool_job_id"]}), "video_audio", client, pre_video_id=af.col("v"),
              audio_url=CDN + "1753772478686-audio.mp3", audio_type=2)
    assert out["akool_status"] == ["completed"], out["akool_error"]
    (body,) = received(sb, "video_audio")
    assert not {"webhookurl", "webhookUrl"} & set(body)
    client.close()


# ------------------------------------------------------------------------------ what the API accepts
def test_unknown_fields_are_sent_and_said_once(sb: af.Sandbox, client: af.Client,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """Official demos send speaker_num, dynamic_duration, voices_map and caption_url to video translation (the docs
    lag the API): sent as given, reported once per call."""
    df = pd.DataFrame({"lang": ["es", "fr", "de"]})
    with caplog.at_level(logging.WARNING, logger="akool_frames"):
        out = run(df, "video_translation", client, url=CDN + "my-video.mp4", language=af.col("lang"),
                  source_language="en", lipsync=False, speaker_num=1, dynamic_duration=True,
                  duration=60)  # (given: not probed from the CDN)
    assert out["akool_status"] == ["completed"] * 3
    assert all(b["speaker_num"] == 1 and b["dynamic_duration"] is True for b in received(sb, "video_translation"))
    said = [r.getMessage() for r in caplog.records if "not in the docs" in r.getMessage()]
    assert said == ["video_translation: dynamic_duration, speaker_num are not in the docs; sent as given."]


def test_a_misspelled_field_is_an_invalid_row_naming_the_intended_one(sb: af.Sandbox, client: af.Client,
                                                                       frame_lib: str) -> None:
    """`input_txt` and `voice_options.sped` are misspellings: the row is invalid and says which field was meant
    (not merely "input_text is required"); nothing is sent."""
    df = make_frame(frame_lib, {"t": ["Hello there."]})
    out = run(df, "tts", client, input_txt=af.col("t"), voice_id=VOICE)
    assert out["akool_status"] == ["invalid"]
    assert out["akool_error"] == ["row 0: input_txt is not a documented field of tts; did you mean input_text?"]
    out = run(df, "tts", client, input_text=af.col("t"), voice_id=VOICE, voice_options={"sped": 1.2})
    assert out["akool_error"] == ["row 0: voice_options.sped is not a documented field of tts; did you mean voice_options.speed?"]
    assert create_entries(sb) == []


@pytest.mark.parametrize("opts", [None, FACE_OPTS, [FACE_OPTS]], ids=["absent", "string", "one-element list"])
def test_face_swap_opts_as_real_clients_send_them(sb: af.Sandbox, client: af.Client, opts: Any) -> None:
    """The newer copy of the face swap docs: opts is required only where an array holds more than one face; real
    clients send it as a string or a one-element list."""
    face = {"path": FACE} if opts is None else {"path": FACE, "opts": opts}
    out = run(pd.DataFrame({"e": [0]}), "faceswap_image", client, targetImage=[face], sourceImage=[face],
              modifyImage=CDN + "m.jpg", face_enhance=af.col("e"))
    assert out["akool_status"] == ["completed"], out["akool_error"]


def test_face_swap_with_several_faces_needs_their_opts(sb: af.Sandbox, client: af.Client) -> None:
    out = run(pd.DataFrame({"e": [0]}), "faceswap_image", client,
              targetImage=[{"path": FACE, "opts": FACE_OPTS}, {"path": FACE}],
              sourceImage=[{"path": FACE, "opts": FACE_OPTS}, {"path": FACE, "opts": FACE_OPTS}],
              modifyImage=CDN + "m.jpg", face_enhance=af.col("e"))
    assert out["akool_status"] == ["invalid"] and "targetImage[1].opts" in out["akool_error"][0]
    assert create_entries(sb) == []


def test_moderation_language_is_iso_639_1(sb: af.Sandbox, client: af.Client) -> None:
    """Page 20 (Jarvis moderator): language is an ISO-639-1 code; `zh-CN` is refused by the provider, so it is an
    invalid row here, and `zh` goes out."""
    df = pd.DataFrame({"lang": ["zh-CN", "zh"]})
    out = run(df, "moderation", client, content="A calm, friendly line.", type=4, language=af.col("lang"))
    assert out["akool_status"] == ["invalid", "completed"]
    assert "language" in out["akool_error"][0] and "zh-CN" in out["akool_error"][0]
    assert len(create_entries(sb)) == 1


# --------------------------------------------------------------------------- what a user could not get
def test_v3_voices_are_the_ones_legacy_tts_accepts(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    """legacy_tts takes ids from v3/voice/list (seed 000), not VoiceLab's: ``af.voices(version=3)`` lists them."""
    voices = columns(af.voices(version=3, client=client, backend=frame_lib))
    assert {"voice_id", "name", "preview"} <= set(voices) and len(voices["voice_id"]) >= 2
    assert set(voices["from"]) == {3}
    df = make_frame(frame_lib, {"v": voices["voice_id"][:2]})
    out = run(df, "legacy_tts", client, input_text="Hello from the legacy audio API.", voice_id=af.col("v"),
              rate="100%")
    assert out["akool_status"] == ["completed", "completed"]
    v4 = run(make_frame(frame_lib, {"v": [VOICE]}), "legacy_tts", client, input_text="Hi.", voice_id=af.col("v"),
             rate="100%")
    assert v4["akool_status"] == ["rejected"] and "1008" in v4["akool_error"][0]  # a VoiceLab id is no v3 voice
    assert len(af.voices(version=3, cloned=True, client=client, backend=frame_lib)) == 0  # no clones yet
    with pytest.raises(ValueError, match="version 3 .* and 4"):
        af.voices(version=2, client=client)


def test_extra_fields_are_columns(sb: af.Sandbox, client: af.Client, frame_lib: str) -> None:
    """Kling's reusable voice id (task_result.voices[0].voice_id), a clone's voice_id and moderation's findings
    (result) come back as columns, on pandas and on polars."""
    kling = run(make_frame(frame_lib, {"n": ["mine"]}), "kling.custom_voice", client, voice_name=af.col("n"),
                voice_url="https://cdn.example.com/v.mp3")
    assert kling["akool_voice_id"][0].startswith("cv_")
    clone = run(make_frame(frame_lib, {"u": ["https://cdn.example.com/v.mp3"]}), "voice_clone", client,
                source_voice_file=af.col("u"))
    assert clone["akool_voice_id"][0]
    moderated = run(make_frame(frame_lib, {"t": ["A calm, friendly line."]}), "moderation", client,
                    content=af.col("t"), type=4)
    assert moderated["akool_url"][0] in ("Compliant", "Non-Compliant", "Unknown")
    assert "Result:" in moderated["akool_result"][0]


def test_face_detection_chains_into_face_swap(make_sandbox: Any, tmp_path: Any, frame_lib: str) -> None:
    """Pages 07-09: detect_faces answers at once; its landmarks_str is face swap's opts ("use this for Face Swap
    opts parameter"). One frame goes detect -> faceswap_image to completed on the sandbox, nothing else needed."""
    group = "https://cdn.example.com/team-photo.jpg"
    sb = make_sandbox(faces={group: 3, "https://cdn.example.com/empty-room.jpg": 0})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    photos = make_frame(frame_lib, {"photo": [FACE, group, "https://cdn.example.com/empty-room.jpg"]})
    found = photos.akool.run("detect_faces", url=af.col("photo"), single_face=True, client=client, progress=False)
    got = columns(found)
    assert got["akool_status"] == ["completed", "completed", "rejected"]
    assert got["akool_error"][2] == "akool error 1: No faces detected"  # page 07, Common Errors; nothing charged
    assert all(o.count(":") == 3 for o in got["akool_opts"][:2])  # "x1,y1:x2,y2:x3,y3:x4,y4"
    assert sb.stats()["detections"] == 3 and sb.stats()["creates"] == 0

    faces = found.filter(found["akool_status"] == "completed") if frame_lib == "polars" else \
        found[found["akool_status"] == "completed"]
    swapped = columns(faces.akool.run(
        "faceswap_image", targetImage=[{"path": af.col("photo"), "opts": af.col("akool_opts")}],
        sourceImage=[{"path": FACE, "opts": FACE_OPTS}], modifyImage=af.col("photo"), client=client,
        progress=False, prefix="swap_"))
    assert swapped["swap_status"] == ["completed", "completed"]
    sent = received(sb, "faceswap_image")
    assert [b["targetImage"][0]["opts"] for b in sent] == got["akool_opts"][:2]

    again = columns(photos.akool.run("detect_faces", url=af.col("photo"), single_face=True, client=client,
                                     progress=False))
    assert again["akool_opts"] == got["akool_opts"] and sb.stats()["detections"] == 4  # only the refused row again
    client.close()


def test_one_image_to_video_row_makes_count_videos(sb: af.Sandbox, client: af.Client, frame_lib: str,
                                                   tmp_path: Any) -> None:
    """Page 19, batch create: "count | Number of videos to create simultaneously (1-10)", answered as
    data.successList (each video its own record and deduction_credit). One row keeps one row: its job id and url
    are the first video's, akool_video_ids / akool_video_urls list them all, credits add up; no row is dropped or
    reordered. Re-runs, refresh, download and delete see every video."""
    df = make_frame(frame_lib, {"img": [CDN + "a.png", CDN + "b.png"], "n": [3, 1]})
    params = {"image_url": af.col("img"), "prompt": "Slow pan.", "model_name": "seedance-1-0-lite-i2v-250428",
              "resolution": "720p", "video_length": 5, "count": af.col("n")}
    est = columns(df.akool.estimate("image_to_video", client=client, **params))
    assert est["akool_credits_est"] == [15.0, 5.0]  # unit_credit 5 per video (page 19's example)

    submitted = df.akool.submit("image_to_video", client=client, progress=False, **params)
    assert sb.stats()["creates"] == 2  # one request per row, whatever its count
    out = columns(submitted.akool.refresh(client=client, follow=True, progress=False))
    assert out["img"] == [CDN + "a.png", CDN + "b.png"] and out["akool_status"] == ["completed", "completed"]
    assert [len(ids) for ids in out["akool_video_ids"]] == [3, 1]
    assert out["akool_video_ids"][0][0] == out["akool_job_id"][0] and all(out["akool_video_urls"][0])
    assert out["akool_credits"] == [15.0, 5.0] and sb.stats()["credits_charged"] == 20

    again = columns(df.akool.run("image_to_video", client=client, progress=False, **params))
    assert again["akool_video_ids"] == out["akool_video_ids"] and sb.stats()["creates"] == 2

    done = df.akool.run("image_to_video", client=client, progress=False, **params)
    files = columns(done.akool.download(tmp_path / "videos", client=client))["akool_files"]
    assert [len(f) for f in files] == [3, 1] and all(Path(f).stat().st_size for row in files for f in row)
    assert Path(files[0][1]).name == f"{out['akool_job_id'][0]}-2.mp4"

    removed = columns(done.akool.delete(client=client))
    assert removed["akool_deleted"] == [True, True]
    with sb.state.lock:
        assert all(sb.state.jobs[i].deleted for ids in out["akool_video_ids"] for i in ids)


def test_answers_in_the_shape_real_clients_meet_are_read(make_sandbox: Any, tmp_path: Any) -> None:
    """Read tolerantly: real Akool answers carry `message` for `msg`, a one-element `data` array as an object
    (avatar create/detail: seed 002/page 34 show an array, real clients read an object) and lists at `data.list`
    for `data.result`. With the sandbox answering that way, jobs, look-ups and refusals read the same."""
    sb = make_sandbox(answer_shapes="observed")
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    assert len(af.voices(client=client)) == 12 and len(af.effects(client=client)) >= 1
    speech = columns(pd.DataFrame({"t": ["Hello.", "Bonjour."]}).akool.run(
        "tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False))
    assert speech["akool_status"] == ["completed", "completed"] and all(speech["akool_credits"])
    avatar = columns(pd.DataFrame({"a": ["MyAvatar9"]}).akool.run(
        "avatar_upload", url="https://drz0f01yeq1cx.cloudfront.net/1721197444322-leijun000.mp4",
        avatar_id=af.col("a"), name="Mine", type=1, client=client, progress=False))
    assert avatar["akool_status"] == ["completed"]
    videos = columns(pd.DataFrame({"n": [2]}).akool.run(
        "image_to_video", image_url=CDN + "a.png", prompt="Slow pan.", model_name="seedance-1-0-lite-i2v-250428",
        resolution="720p", video_length=5, count=af.col("n"), client=client, progress=False))
    assert videos["akool_status"] == ["completed"] and len(videos["akool_video_ids"][0]) == 2
    refused = columns(pd.DataFrame({"t": ["Hi."]}).akool.run(
        "tts", input_text=af.col("t"), voice_id="no-such-voice", client=client, progress=False))
    assert refused["akool_status"] == ["rejected"] and "does not exist" in refused["akool_error"][0]
    client.close()
