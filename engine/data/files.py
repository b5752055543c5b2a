"""Sentiment and price files (paths on disk or uploaded bytes)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from engine.data.types import SourceInfo, ValidationReport
from engine.data.validation import (
    PathOrBytes,
    is_parquet,
    read_csv_bytes,
    read_parquet_bytes,
    read_source,
    select_prices,
    validate_prices,
    validate_sentiment,
)
from engine.errors import DataUnavailableError


def load_sentiment_csv(
    source: PathOrBytes, *, name: str = "", max_bytes: int | None = None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate a sentiment CSV (columns ``SENTIMENT_COLUMNS``)."""
    data, label = read_source(source, name=name, max_bytes=max_bytes)
    return validate_sentiment(read_csv_bytes(data, label), label)


def load_prices_file(
    source: PathOrBytes, *, name: str = "", max_bytes: int | None = None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate adjusted closes from CSV or Parquet, wide or long (see ``validate_prices``)."""
    data, label = read_source(source, name=name, max_bytes=max_bytes)
    file_name = name or (str(source) if isinstance(source, (str, os.PathLike)) else "")
    raw = read_parquet_bytes(data, label) if is_parquet(data, file_name) else read_csv_bytes(data, label)
    return validate_prices(raw, label)


def _display_name(source: PathOrBytes | None, name: str, fallback: str) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return fallback


class FileProvider:
    """Sentiment CSV + price file (``DataProvider``); files are read once, on first use."""

    def __init__(
        self,
        *,
        sentiment: PathOrBytes,
        prices: PathOrBytes | None = None,
        sentiment_name: str = "",
        prices_name: str = "",
    ) -> None:
        self._sentiment_source = sentiment
        self._prices_source = prices
        self.sentiment_name = _display_name(sentiment, sentiment_name, "uploaded sentiment")
        self.prices_name = _display_name(prices, prices_name, "uploaded prices") if prices is not None else ""
        self._sentiment_cache: tuple[pd.DataFrame, ValidationReport] | None = None
        self._prices_cache: tuple[pd.DataFrame, ValidationReport] | None = None

    @property
    def info(self) -> SourceInfo:
        uploaded = isinstance(self._sentiment_source, (bytes, bytearray))
        label = self.sentiment_name + (f" + {self.prices_name}" if self.prices_name else "")
        return SourceInfo(
            kind="upload" if uploaded else "files",
            label=label,
            synthetic=False,
            detail="sentiment and adjusted closes from user files",
        )

    def sentiment(self) -> tuple[pd.DataFrame, ValidationReport]:
        if self._sentiment_cache is None:
            self._sentiment_cache = load_sentiment_csv(self._sentiment_source, name=self.sentiment_name)
        frame, report = self._sentiment_cache
        return frame.copy(), report

    def prices(
        self, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
    ) -> tuple[pd.DataFrame, ValidationReport]:
        if self._prices_source is None:
            raise DataUnavailableError(
                "no price file was given: set PRICES_PATH (or upload a price file), or use DATA_SOURCE=yahoo"
            )
        if self._prices_cache is None:
            self._prices_cache = load_prices_file(self._prices_source, name=self.prices_name)
        frame, file_report = self._prices_cache
        selected, selection_report = select_prices(frame, symbols, start, end)
        # Keep what reading the file dropped; the selection decides the symbols and dates.
        report = ValidationReport(
            rows_read=file_report.rows_read,
            rows_kept=selection_report.rows_kept,
            dropped=file_report.dropped,
            warnings=file_report.warnings,
            symbols=selection_report.symbols,
            failed_tickers=selection_report.failed_tickers,
            first_date=selection_report.first_date,
            last_date=selection_report.last_date,
        )
        return selected, report
