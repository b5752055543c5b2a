"""Data page upload of compressed files (breaker pass 9, F2): the page hands the decoded bytes
to the engine's one reader, which reads a ``.csv.gz`` or ``.zip`` as its CSV and holds the
upload limit (``MAX_UPLOAD_BYTES``) on the decompressed size too."""

from __future__ import annotations

import base64
import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashapp import create_app
from tests.dashapp.test_page_data import GOOD_SENTIMENT, _prices_csv


def _uri(data: bytes) -> str:
    return "data:application/gzip;base64," + base64.b64encode(data).decode()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    app = create_app(
        {"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial", "MAX_UPLOAD_BYTES": 2**20}
    )
    from dashapp.pages import data

    with app.server.test_request_context("/"):
        yield data


def test_gzip_and_zip_uploads_are_read(page: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("closes.csv", _prices_csv())
    candidate, body, disabled, *_ = page.validate_upload(
        _uri(gzip.compress(GOOD_SENTIMENT.encode())), _uri(buffer.getvalue()), "s.csv.gz", "closes.zip"
    )
    assert disabled is False and candidate is not None
    assert "96 sentiment rows kept, 4 symbols" in str(body)


def test_the_upload_limit_holds_once_decompressed(page: Any) -> None:
    """1.5 MiB of CSV in ~40 kB of gzip: under the 1 MiB limit as sent, over it inflated."""
    big = _prices_csv() * 30
    packed = gzip.compress(big.encode())
    assert len(packed) < 2**20 < len(big)
    candidate, body, disabled, *_ = page.validate_upload(
        _uri(gzip.compress(GOOD_SENTIMENT.encode())), _uri(packed), "s.csv.gz", "p.csv.gz"
    )
    assert candidate is None and disabled is True
    assert "p.csv.gz is larger than the 1 MiB limit once decompressed" in str(body)


def test_the_limit_holds_on_a_sentiment_upload_without_prices(page: Any) -> None:
    """No price file (prices from Yahoo): the sentiment file is checked alone, under the same limit."""
    header, _, rows = GOOD_SENTIMENT.partition("\n")
    packed = gzip.compress((header + "\n" + rows * 600).encode())
    assert len(packed) < 2**20
    answer = page.read_upload(_uri(packed), None, "s.csv.gz", None)
    assert answer[0] is None and answer[-1] is None
    assert "s.csv.gz is larger than the 1 MiB limit once decompressed" in str(answer[1])
