"""Sentiment and price files (paths on disk or uploaded bytes)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from engine.data.prices import price_file_rows, select_prices, validate_prices
from engine.data.reading import ReadOptions
from engine.data.tables import PathOrBytes, read_csv_with_dialect, read_source, read_table_bytes
from engine.data.types import SourceInfo, ValidationReport
from engine.data.validation import validate_sentiment
from engine.errors import DataUnavailableError


def read_options(
    options: ReadOptions | None = None,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    decimal: str | None = None,
) -> ReadOptions:
    """``options`` or one built from the keyword arguments (``ParameterError`` if invalid)."""
    if options is not None:
        return options
    return ReadOptions(date_format=date_format, dayfirst=dayfirst, decimal=decimal)


def load_sentiment_csv(
    source: PathOrBytes,
    *,
    name: str = "",
    max_bytes: int | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    decimal: str | None = None,
    options: ReadOptions | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate a sentiment CSV (columns ``SENTIMENT_COLUMNS``, any case).

    The dialect (separator, decimal mark) and the date format are detected from the whole
    file (``engine.data.reading``); ``date_format``/``dayfirst``/``decimal`` settle what the
    file cannot. ``report.reading`` says what was decided. Raises ``DataValidationError``
    (one sentence) for an unusable file, ``DataUnavailableError`` for a missing one.
    """
    opts = read_options(options, date_format=date_format, dayfirst=dayfirst, decimal=decimal)
    data, label = read_source(source, name=name, max_bytes=max_bytes)
    raw, reading = read_csv_with_dialect(data, label, opts)
    return validate_sentiment(raw, label, opts, reading)


def load_prices_file(
    source: PathOrBytes,
    *,
    name: str = "",
    max_bytes: int | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    decimal: str | None = None,
    options: ReadOptions | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate adjusted closes from CSV or Parquet in any accepted layout
    (wide, long with a symbol/Ticker column, Yahoo Finance export; see ``validate_prices``).

    Returns the documented price shape (``engine.data.types``) and the report, whose
    ``reading`` names the separator, decimal mark, date format, layout and price column used.
    """
    opts = read_options(options, date_format=date_format, dayfirst=dayfirst, decimal=decimal)
    data, label = read_source(source, name=name, max_bytes=max_bytes)
    file_name = name or (str(source) if isinstance(source, (str, os.PathLike)) else "")
    raw, reading = read_table_bytes(data, label, file_name=file_name, options=opts)
    return validate_prices(raw, label, opts, reading)


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
        date_format: str | None = None,
        dayfirst: bool | None = None,
        decimal: str | None = None,
        options: ReadOptions | None = None,
        max_bytes: int | None = None,
    ) -> None:
        """``max_bytes``: the size limit of each file, also once decompressed (a ``.gz`` or
        ``.zip``); None: no limit on a file as given, ``MAX_INFLATED_BYTES`` decompressed."""
        self.options = read_options(options, date_format=date_format, dayfirst=dayfirst, decimal=decimal)
        self.max_bytes = max_bytes
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
            self._sentiment_cache = load_sentiment_csv(
                self._sentiment_source,
                name=self.sentiment_name,
                options=self.options,
                max_bytes=self.max_bytes,
            )
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
            self._prices_cache = load_prices_file(
                self._prices_source, name=self.prices_name, options=self.options, max_bytes=self.max_bytes
            )
        frame, file_report = self._prices_cache
        selected, selection_report = select_prices(frame, symbols, start, end)
        # Keep what reading the file dropped; the selection decides the symbols and dates.
        # Rows of the file: read = kept + dropped (the window's and unused symbols' rows too).
        kept, window_dropped = price_file_rows(frame, file_report, selection_report.symbols, start, end)
        report = ValidationReport(
            rows_read=file_report.rows_read,
            rows_kept=kept,
            dropped=file_report.dropped + window_dropped,
            warnings=file_report.warnings + selection_report.warnings,
            symbols=selection_report.symbols,
            failed_tickers=selection_report.failed_tickers,
            first_date=selection_report.first_date,
            last_date=selection_report.last_date,
            reading=file_report.reading,
        )
        return selected, report
