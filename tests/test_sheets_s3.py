"""Sheets in a bucket: ``read_sheet`` / ``write_sheet`` on ``s3://`` against a real S3 API on loopback (moto's
server, the ``s3`` fixture), in every format the sheets take, on pandas and polars. A sheet is put in one piece once
written in full (one upload; none when writing fails); a missing object is "No such file" naming the URI as given;
a URI is told from a path by fsspec's rule; without fsspec, or the store's package, the error names the extra;
storage options reach the filesystem and never a message."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal as assert_polars_equal

import akool_frames as af
from akool_frames.sheets import _workbook, is_uri, place

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "localization.xlsx"
CANARY = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYCANARY"  # a secret key in storage_options: never in a message


def _sample(backend: str) -> Any:
    """The sample sheet as read (text ids, dates, nulls) with formula-looking text, whole numbers and fractions."""
    sheet = af.read_sheet(SAMPLE, backend=backend)
    n = len(sheet)
    extra = {"risky": (["=1+1", "+44 20", "@here", None] * n)[:n], "count": list(range(n)),
             "score": [0.5 + i for i in range(n)]}
    if backend == "pandas":
        kinds = {"risky": "string", "count": "Int64", "score": "Float64"}  # read_sheet's dtypes
        return sheet.assign(**{k: pd.array(v, dtype=kinds[k]) for k, v in extra.items()})
    return sheet.with_columns(*(pl.Series(k, v) for k, v in extra.items()))


def _same(back: Any, frame: Any) -> None:
    if isinstance(frame, pl.DataFrame):
        assert_polars_equal(back, frame)
        return
    # pandas keeps a date column at the resolution it was made with (seconds from a workbook, microseconds from
    # text, milliseconds from Parquet, which has no seconds): the values are compared, and every other dtype.
    def unit(f: pd.DataFrame) -> pd.DataFrame:
        return f.astype({c: "datetime64[us]" for c in f.columns if str(f[c].dtype).startswith("datetime64")})

    pd.testing.assert_frame_equal(unit(back), unit(frame))


@pytest.mark.parametrize("backend", ["pandas", "polars"])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".parquet"])
def test_s3_round_trip(s3: Any, backend: str, suffix: str) -> None:
    frame = _sample(backend)
    uri = s3.uri(f"out/done{suffix}")
    assert af.write_sheet(frame, uri) == uri  # the URI as given (never a local "s3:/..." path)
    assert s3.keys() == [f"out/done{suffix}"]
    assert s3.puts() == [f"/{s3.bucket}/out/done{suffix}"]  # written in full, then one upload
    assert not Path("s3:").exists()
    _same(af.read_sheet(uri, backend=backend), frame)


def test_a_workbook_in_a_bucket_is_read_like_a_local_one(s3: Any) -> None:
    s3.fs.put_file(str(SAMPLE), f"{s3.bucket}/in/lines.xlsx")
    local, remote = af.read_sheet(SAMPLE), af.read_sheet(s3.uri("in/lines.xlsx"))
    pd.testing.assert_frame_equal(remote, local)
    assert remote["script_id"].tolist()[:2] == ["00101", "00102"]  # ids stay text
    with pytest.raises(af.ValidationError, match=r"(?s)lines.xlsx has no sheet 'Scripts'.*its sheets are"):
        af.read_sheet(s3.uri("in/lines.xlsx"), sheet="Scripts")


@pytest.mark.parametrize("key", ["nope/lines.xlsx", "nope/lines.csv", "nope/lines.parquet"])
def test_s3_missing_object(s3: Any, key: str) -> None:
    uri = s3.uri(key)
    with pytest.raises(af.ValidationError) as caught:
        af.read_sheet(uri)
    assert str(caught.value) == f"No such file: {uri}."  # not "s3:/bucket/...", not a traceback from the store


def test_a_failed_write_leaves_no_object(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_then_fail(path: Path, *args: Any) -> None:
        path.write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(_workbook, "write_xlsx", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        af.write_sheet(pd.DataFrame({"a": [1]}), s3.uri("out/done.xlsx"))
    with pytest.raises(af.ValidationError, match="32,767"):  # Excel's limits: checked before anything is written
        af.write_sheet(pd.DataFrame({"a": ["x" * 40_000]}), s3.uri("out/long.xlsx"))
    assert s3.keys() == [] and s3.puts() == []


def test_storage_options_reach_the_store_and_no_message(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a closed port: only the options say where it is
    options = {"key": "testing", "secret": CANARY, "client_kwargs": {"endpoint_url": s3.endpoint}}
    uri = af.write_sheet(pd.DataFrame({"id": ["007"]}), s3.uri("opts/a.csv"), storage_options=options)
    assert af.read_sheet(uri, storage_options=options)["id"].tolist() == ["007"]
    said = []
    for call in (lambda: af.read_sheet(s3.uri("opts/missing.xlsx"), storage_options=options),
                 lambda: af.read_sheet(SAMPLE, storage_options=options),
                 lambda: af.write_sheet(pd.DataFrame({"a": [1]}), "s3://no-such-bucket-here/a.csv",
                                        storage_options=options)):
        with pytest.raises((af.ValidationError, OSError)) as caught:
            call()
        said.append(str(caught.value))
    assert said[0] == f"No such file: {s3.uri('opts/missing.xlsx')}."
    assert "storage_options are for an object store's URI" in said[1]  # a local path takes none
    assert said[2].startswith("Writing s3://no-such-bucket-here/a.csv failed")
    assert not any(CANARY in text for text in said)
    assert CANARY not in repr(place(uri, options))


def test_a_uri_is_told_from_a_path_the_way_fsspec_tells_it(tmp_path: Path) -> None:
    for uri in ("s3://bucket/a.xlsx", "gs://bucket/a.csv", "az://container/a.csv", "memory://a.csv",
                "file:///tmp/a.csv", "simplecache::s3://bucket/a.csv"):
        assert is_uri(uri), uri
    for path in ("lines.xlsx", "/data/lines.xlsx", "C:\\sheets\\lines.xlsx", "c:/sheets/lines.xlsx",
                 "C://sheets/lines.xlsx", Path("s3://bucket/a.xlsx")):
        assert not is_uri(path), path
    with pytest.raises(af.ValidationError, match=r"(?s)No such file: s3:/bucket/a.xlsx.*Path\(\) turns its '//'"):
        af.read_sheet(Path("s3://bucket/a.xlsx"))  # what Path() makes of a URI: a local path, said so
    uri = (tmp_path / "new" / "folder" / "a.parquet").as_uri()  # file:// through fsspec, folders made
    af.write_sheet(pl.DataFrame({"id": ["001"]}), uri)
    assert af.read_sheet(uri, backend="polars")["id"].to_list() == ["001"]
    assert (tmp_path / "new" / "folder" / "a.parquet").is_file()


def test_without_fsspec_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "fsspec" or m.startswith("fsspec.")]:
        monkeypatch.setitem(sys.modules, name, None)  # import fsspec (and fsspec.core) now raises ImportError
    for call in (lambda: af.read_sheet("s3://bucket/lines.xlsx"),
                 lambda: af.write_sheet(pd.DataFrame({"a": [1]}), "s3://bucket/done.csv")):
        with pytest.raises(ImportError, match=r'pip install "akool-frames\[storage\]"'):
            call()
    path = tmp_path / "local.csv"  # local sheets need none of it
    af.write_sheet(pd.DataFrame({"a": ["001"]}), path)
    assert af.read_sheet(path)["a"].tolist() == ["001"]


def test_a_store_without_its_package_names_it() -> None:
    pytest.importorskip("fsspec")
    if any(importlib.util.find_spec(p) for p in ("gcsfs", "adlfs")):
        pytest.skip("gcsfs or adlfs is installed here")
    with pytest.raises(ImportError, match=r"(?s)gcsfs.*akool-frames\[storage\].*gcsfs for gs://"):
        af.read_sheet("gs://bucket/lines.xlsx")
    with pytest.raises(ImportError, match=r"(?s)adlfs.*akool-frames\[storage\]"):
        af.write_sheet(pd.DataFrame({"a": [1]}), "az://container/done.xlsx")
