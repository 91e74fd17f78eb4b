"""Storage credentials and signatures stay out of what a user sees or keeps: reprs, errors, warnings, logs, the
ledger and its table, the result frame."""

from __future__ import annotations

import logging

import pandas as pd

import akool_frames as af
from akool_frames.sandbox._media import render

KEY, SECRET = "AKIACANARYKEY0000001", "canary-secret-0123456789abcdefghijklmnop"


def test_storage_credentials_and_signatures_reach_no_output(sb, s3, tmp_path, caplog, recwarn):
    (tmp_path / "face.png").write_bytes(render("png", seed=9))
    (tmp_path / "line.wav").write_bytes(render("wav", 2.0))
    options = {"key": KEY, "secret": SECRET}  # moto accepts any credentials: these are the ones used
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", staging=s3.uri("in/"),
                       storage_options=options)
    frame = pd.DataFrame({"portrait": [str(tmp_path / "face.png"), s3.uri("missing.png")],
                          "audio": [str(tmp_path / "line.wav")] * 2})
    caplog.set_level(logging.DEBUG, logger="akool_frames")  # ours (botocore's own DEBUG log shows its headers)
    out = frame.akool.run("talking_photo", talking_photo_url=af.col("portrait"), audio_url=af.col("audio"),
                          client=client, save_to=s3.uri("out/"), progress=False)
    assert out["akool_status"].tolist() == ["completed", "invalid"]
    assert s3.keys("in/") and s3.keys("out/")  # the credentials were used: the objects are there
    client.close()
    seen = {
        "repr": repr(client) + repr(client.stager),
        "frame": out.to_csv(),
        "logs": " ".join(r.getMessage() for r in caplog.records if r.name.startswith("akool_frames")),
        "warnings": " ".join(str(w.message) for w in recwarn),
        "ledger": " ".join(p.read_bytes().decode("latin-1") for p in tmp_path.glob("l.sqlite*")),
        "ledger table": af.ledger(client=af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")).to_csv(),
    }
    assert "missing.png" in seen["frame"] and "face.png" in seen["ledger"] and "HTTP 200" in seen["logs"]  # (found)
    for place, text in seen.items():
        assert SECRET not in text, place
        assert "Signature=" not in text and "X-Amz-Signature" not in text, place
    assert KEY not in seen["ledger"] and KEY not in seen["frame"] and KEY not in seen["repr"]
