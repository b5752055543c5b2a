"""Compressed files (breaker pass 9, F2): ``prices.csv.gz`` (pandas' ``to_csv("x.csv.gz")``),
``.bz2``, ``.xz`` and a ``.zip`` of one file are read as pandas reads them; before, they were
refused as "not UTF-8 text (undecodable byte at position 1); save it as CSV UTF-8". The size
limit holds on the decompressed content, read incrementally (a bomb is never inflated)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import engine
from engine.data import tables

PRICES = (
    "date,AAA,BBB,QQQ\n"
    "2022-01-03,100.22,100.83,99.70\n"
    "2022-01-04,99.73,100.19,100.49\n"
    "2022-01-05,101.50,98.40,101.02\n"
)
SENTIMENT = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    "2022-01-03,AAA,10,247,1000,1000,0.1\n"
    "2022-01-03,BBB,12,265,900,1100,\n"
    "2022-01-04,AAA,11,250,1010,1005,0.2\n"
)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


COMPRESSORS = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zip": lambda data: _zip({"prices.csv": data}),
    "zip-from-a-mac": lambda data: _zip({"prices.csv": data, "__MACOSX/._prices.csv": b"\x00\x05\x16\x07"}),
    "zip-stored": lambda data: _zip({"prices.csv": data}, zipfile.ZIP_STORED),
}


def _closes(frame: pd.DataFrame) -> dict[str, list[float]]:
    return {c: frame[c].round(2).tolist() for c in frame.columns}


@pytest.mark.parametrize("kind", list(COMPRESSORS))
def test_a_compressed_price_file_reads_as_its_csv(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv.gz"
    path.write_bytes(COMPRESSORS[kind](PRICES.encode()))
    frame, report = engine.load_prices_file(path)
    assert list(frame.columns) == ["AAA", "BBB", "QQQ"]
    assert [d.strftime("%Y-%m-%d") for d in frame.index] == ["2022-01-03", "2022-01-04", "2022-01-05"]
    assert _closes(frame) == {
        "AAA": [100.22, 99.73, 101.50],
        "BBB": [100.83, 100.19, 98.40],
        "QQQ": [99.70, 100.49, 101.02],
    }
    assert report.rows_read == report.rows_kept == 3 and not report.dropped


def test_a_gzip_sentiment_upload_reads_as_its_csv() -> None:
    frame, report = engine.load_sentiment_csv(gzip.compress(SENTIMENT.encode()), name="s.csv.gz")
    assert report.rows_kept == 3
    assert frame["symbol"].tolist() == ["AAA", "BBB", "AAA"]
    assert frame["twitterComments"].tolist() == [247, 265, 250]


def test_a_gzip_parquet_file_is_read_as_parquet(tmp_path: Path) -> None:
    frame = pd.read_csv(io.StringIO(PRICES), index_col="date", parse_dates=["date"])
    path = tmp_path / "prices.parquet.gz"
    path.write_bytes(gzip.compress(frame.to_parquet()))
    read, _ = engine.load_prices_file(path)
    assert _closes(read) == _closes(frame)


def test_the_limit_holds_on_the_decompressed_size() -> None:
    content = PRICES.encode() + b"2022-01-06,1,2,3\n" * 10_000  # 170 kB of CSV, ~1 kB of gzip
    packed = gzip.compress(content)
    assert len(packed) < 4000 < len(content)
    with pytest.raises(engine.DataValidationError) as caught:
        engine.load_prices_file(packed, name="p.csv.gz", max_bytes=4000)
    assert str(caught.value) == "p.csv.gz is larger than the 4 kB limit once decompressed"
    with pytest.raises(engine.DataValidationError, match="larger than the 1 MiB limit once decompressed"):
        engine.FileProvider(sentiment=b"", prices=_zip({"p.csv": content * 7}), max_bytes=2**20).prices(
            ["AAA"], None, None
        )


def test_a_bomb_is_never_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gzip of 1 GB of zeros (1 MB) is refused after the limit, never inflated whole: the
    read stops at limit + 1 bytes. Without a limit the engine's own bound applies."""
    compressor = gzip.compress(b"\0" * 2**20)  # 1 MiB of zeros
    bomb = compressor * 1024  # 1 GiB once inflated, ~1 MB as given
    reads: list[int] = []
    real_read = gzip.GzipFile.read

    def read(self: gzip.GzipFile, size: int = -1) -> bytes:
        reads.append(size)
        return real_read(self, size)

    monkeypatch.setattr(gzip.GzipFile, "read", read)
    monkeypatch.setattr(tables, "MAX_INFLATED_BYTES", 5_000_000)
    with pytest.raises(engine.DataValidationError, match="larger than the 5 MB limit once decompressed"):
        engine.load_prices_file(bomb, name="bomb.csv.gz")
    assert reads == [5_000_001]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _zip({"a.csv": PRICES.encode(), "b.csv": PRICES.encode(), "notes/readme.txt": b"hi"}),
            "p.zip is a zip archive of 3 files (a.csv, b.csv, 'notes/readme.txt'); a zip must hold one CSV "
            "or Parquet file: extract the one to use, or zip it alone",
        ),
        (_zip({}), "p.zip is a zip archive with no file in it"),
        (
            _zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}),
            "p.zip is a spreadsheet workbook (Excel .xlsx or OpenDocument), not a CSV file; save it as CSV UTF-8",
        ),
        (
            _zip({"p.csv": PRICES.encode()}, zipfile.ZIP_BZIP2),
            "p.zip is a zip archive compressed with another method than the usual deflate; "
            "zip the file again with the usual method, or give the file itself",
        ),
        (
            gzip.compress(PRICES.encode())[:-12],
            "p.zip is a damaged gzip file (it ends early); compress it again or give the CSV itself",
        ),
        (
            _zip({"p.csv": PRICES.encode()})[:-40],
            "p.zip is a damaged zip archive (it cannot be read); zip the file again",
        ),
        (
            b"\x28\xb5\x2f\xfd" + b"\x00" * 20,
            "p.zip is compressed with Zstandard, not a CSV or Parquet file; extract or decompress it first "
            "(or compress it with gzip or zip)",
        ),
        (
            gzip.compress(gzip.compress(PRICES.encode())),
            "p.zip holds gzip data where CSV text is expected (compressed twice?); decompress it first",
        ),
    ],
    ids=[
        "several-files",
        "empty-zip",
        "xlsx",
        "bzip2-in-zip",
        "truncated-gzip",
        "truncated-zip",
        "zstd",
        "gzip-twice",
    ],
)
def test_an_unreadable_archive_is_one_sentence(data: bytes, message: str) -> None:
    with pytest.raises(engine.DataValidationError) as caught:
        engine.load_prices_file(data, name="p.zip")
    assert str(caught.value) == message


def test_plain_text_is_not_taken_for_a_compressed_file() -> None:
    """Only the magic bytes decide: a CSV whose first column is named 'BZh...' or 'PK' is a CSV."""
    frame, _ = engine.load_prices_file(PRICES.replace("date,", "Date,").encode(), name="p.csv")
    assert frame.shape == (3, 3)
    assert tables.compression_of(b"BZh9,AAA\n") is None
    assert tables.compression_of(b"PK,AAA\n") is None
