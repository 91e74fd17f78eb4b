"""The S3 fixture itself: a real S3 API on loopback that s3fs reaches through the environment alone."""

from __future__ import annotations

import urllib.request


def test_the_s3_fixture_serves_objects_and_counts_uploads(s3):
    fs = s3.fs
    fs.pipe(f"{s3.bucket}/a/b.txt", b"hello")
    assert s3.keys("a/") == ["a/b.txt"]
    assert s3.puts() == [f"/{s3.bucket}/a/b.txt"]
    signed = fs.sign(f"{s3.bucket}/a/b.txt", expiration=60)
    assert signed.startswith(s3.endpoint)
    with urllib.request.urlopen(signed) as answer:
        assert answer.read() == b"hello"
