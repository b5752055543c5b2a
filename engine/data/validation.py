"""Validation of untrusted sentiment and price tables (files, uploads, downloads).

Policy: problems with the whole file (unreadable, empty, missing columns) raise
``DataValidationError`` with one sentence; problems with single rows or cells drop
those rows/cells and are recorded in the ``ValidationReport`` as ``DroppedRows`` with a
few examples. Row numbers in examples count data rows from 1 (the header is row 0).
User-provided text (symbols, column names) is only ever shown through ``repr`` so that
a formula such as ``=HYPERLINK(...)`` is displayed, never interpreted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import io
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from engine.data.reading import (
    ADJUSTED_CLOSE_NAMES,
    CLOSE_NAMES,
    DATE_NAMES,
    DEFAULT_OPTIONS,
    OHLCV_NAMES,
    SYMBOL_NAMES,
    ReadOptions,
    find_column,
    infer_dates,
    read_csv_text,
    squash,
)
from engine.data.symbols import is_ticker
from engine.data.types import COUNT_COLUMNS, SENTIMENT_COLUMNS, DroppedRows, FileReading, ValidationReport
from engine.errors import DataUnavailableError, DataValidationError

PathOrBytes = str | os.PathLike | bytes

MAX_EXAMPLES = 5
PARQUET_MAGIC = b"PAR1"
ENGAGEMENT_COLUMNS: tuple[str, ...] = COUNT_COLUMNS[:4]  # counts that must be present and >= 0
SENTIMENT_SCORE = "twitterSentiment"  # may be empty (NaN is kept, as in the seed data)


# ----- reading bytes ---------------------------------------------------------------------


def read_source(source: PathOrBytes, *, name: str = "", max_bytes: int | None = None) -> tuple[bytes, str]:
    """Bytes of a path or an upload, and the label to use in messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, label = bytes(source), safe_label(name) if name else "the uploaded file"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = safe_label(name or path.name or str(path))
        if path.is_dir():
            raise DataUnavailableError(
                f"{str(path)!r} is a directory, not a file; give the path of a CSV or Parquet file"
            )
        if not path.is_file():
            raise DataUnavailableError(f"the file {str(path)!r} does not exist; check the path")
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise DataValidationError(f"{label} is larger than the {_megabytes(max_bytes)} limit")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataUnavailableError(
                f"the file {str(path)!r} cannot be read ({exc.strerror or 'I/O error'})"
            ) from exc
    else:
        raise DataValidationError(f"expected a file path or bytes, got {type(source).__name__}")
    if max_bytes is not None and len(data) > max_bytes:
        raise DataValidationError(f"{label} is larger than the {_megabytes(max_bytes)} limit")
    return data, label


def safe_label(name: str) -> str:
    """A file name as it may appear in a message: plain names as is, anything odd quoted."""
    return (
        name
        if re.fullmatch(r"[\w.\- ()\[\]]{1,120}", name) and not name.startswith(("=", "+", "-", "@"))
        else repr(name[:120])
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def is_parquet(data: bytes, name: str = "") -> bool:
    """Parquet files start and end with the magic bytes ``PAR1``."""
    return data[:4] == PARQUET_MAGIC or name.lower().endswith((".parquet", ".pq"))


def read_csv_bytes(data: bytes, label: str, options: ReadOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """All-string frame of a UTF-8 CSV (empty cells are NaN, numbers in plain ``1234.5`` form)."""
    return read_csv_with_dialect(data, label, options)[0]


def read_csv_with_dialect(
    data: bytes, label: str, options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[pd.DataFrame, FileReading]:
    """``read_csv_bytes`` and how the file was read (separator, decimal and thousands marks)."""
    if not data.strip():
        raise DataValidationError(f"{label} is empty")
    if data[:4] == PARQUET_MAGIC:
        raise DataValidationError(f"{label} is a Parquet file, but a CSV file is expected here")
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM that Excel writes
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"{label} is not UTF-8 text (undecodable byte at position {exc.start}); save it as CSV UTF-8"
        ) from exc
    if "\x00" in text:
        raise DataValidationError(f"{label} is not a text file (it holds NUL bytes); save it as CSV UTF-8")
    frame, reading = read_csv_text(text, label, options)
    frame.columns = strip_column_names(frame.columns)
    if frame.empty:
        raise DataValidationError(f"{label} has a header but no data rows")
    return frame, reading


def read_table_bytes(
    data: bytes, label: str, *, file_name: str = "", options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[pd.DataFrame, FileReading]:
    """A CSV or Parquet file's raw frame and how it was read."""
    if is_parquet(data, file_name):
        return read_parquet_bytes(data, label), FileReading(file=label, kind="parquet")
    return read_csv_with_dialect(data, label, options)


def read_parquet_bytes(data: bytes, label: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, ...): translate all
        raise DataValidationError(f"{label} is not a readable Parquet file") from exc
    if isinstance(frame.columns, pd.MultiIndex):  # e.g. a yfinance download saved as is
        return frame
    if not isinstance(frame.index, pd.RangeIndex):  # a saved DatetimeIndex becomes a column
        frame = frame.reset_index()
    frame.columns = strip_column_names(frame.columns)
    if frame.empty:
        raise DataValidationError(f"{label} has no data rows")
    return _decode_binary_columns(frame, label)


def _decode_binary_columns(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Parquet may store text as raw bytes: decode it as UTF-8 like a CSV, or refuse the column.

    Later checks turn cells into strings; undecodable bytes must fail here, with the
    column named, not as a UnicodeDecodeError deep inside pandas.
    """
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object or not values.map(lambda v: isinstance(v, bytes)).any():
            continue
        try:
            frame[column] = values.map(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v)
        except UnicodeDecodeError:
            raise DataValidationError(
                f"{label}: column {str(column)!r} holds binary data that is not UTF-8 text or numbers"
            ) from None
    return frame


# ----- columns -------------------------------------------------------------------------


def strip_column_names(columns: Iterable[object]) -> list[str]:
    """Names without surrounding spaces (a repeated name stays repeated: ``drop_repeated_columns``)."""
    return [str(column).strip() for column in columns]


def drop_repeated_columns(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Keep the first of each repeated column name; one warning per repeated name, e.g.
    "prices.csv: column 'AAA' appears twice; the second copy was ignored"."""
    names = [str(c) for c in raw.columns]
    repeated = pd.Index(names).duplicated(keep="first")
    if not repeated.any():
        return raw, ()
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    warnings = []
    for name, count in counts.items():
        if count > 1:
            times = "twice" if count == 2 else f"{count} times"
            copies = "the second copy was" if count == 2 else f"the {count - 1} later copies were"
            warnings.append(f"{label}: column {name!r} appears {times}; {copies} ignored")
    return raw.loc[:, ~repeated], tuple(warnings)


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def close_match(wanted: str, candidates: Iterable[str]) -> str | None:
    """The candidate that looks like a misspelling of ``wanted`` (case, spaces, typos)."""
    candidates = list(candidates)
    for candidate in candidates:
        if _squash(candidate) == _squash(wanted):
            return candidate
    by_squashed = {_squash(c): c for c in candidates}
    found = difflib.get_close_matches(_squash(wanted), list(by_squashed), n=1, cutoff=0.8)
    return by_squashed[found[0]] if found else None


def check_columns(frame: pd.DataFrame, required: Sequence[str], label: str) -> tuple[str, ...]:
    """Raise naming missing columns (with a rename hint); return warnings for extra ones."""
    present = [str(c) for c in frame.columns]
    missing = [c for c in required if c not in present]
    if missing:
        spare = [c for c in present if c not in required]
        hints = []
        for column in missing:
            match = close_match(column, spare)
            if match is not None:
                hints.append(f"rename {match!r} to {column!r}")
        if hints:
            hint = f" ({'; '.join(hints)})"
        else:
            found = ", ".join(repr(c) for c in present[:8])
            hint = f"; expected the columns {', '.join(required)} but found {found}"
        raise DataValidationError(f"{label} is missing column(s) {', '.join(missing)}{hint}")
    extra = [c for c in present if c not in required]
    if extra:
        shown = ", ".join(repr(c) for c in extra[:MAX_EXAMPLES])
        return (f"{label}: ignored {len(extra)} extra column(s): {shown}",)
    return ()


# ----- values --------------------------------------------------------------------------


def parse_dates(raw: pd.Series, label: str = "the file", options: ReadOptions = DEFAULT_OPTIONS) -> pd.Series:
    """datetime64[ns] at midnight; NaT where a value does not fit the column's one format
    (``engine.data.reading.infer_dates``)."""
    return infer_dates(raw, label, options)[0]


def empty_rows(raw: pd.DataFrame) -> np.ndarray:
    """True for rows in which every cell is empty (spreadsheet exports end with ``,,,``).

    The CSV reader already turns blank cells into NaN."""
    return raw.isna().all(axis=1).to_numpy(dtype=bool)


def match_columns(raw: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    """Rename columns that equal a wanted name up to case, spaces and punctuation."""
    present = set(map(str, raw.columns))
    renames: dict[str, str] = {}
    for name in wanted:
        if name in present:
            continue
        for column in raw.columns:
            if squash(column) == squash(name) and column not in renames and str(column) not in wanted:
                renames[column] = name
                break
    return raw.rename(columns=renames) if renames else raw


def clean_symbols(raw: pd.Series) -> pd.Series:
    """Upper-case, stripped symbol strings ('' where missing)."""
    return raw.astype("string").fillna("").str.strip().str.upper().astype(str)


def ticker_mask(symbols: pd.Series) -> np.ndarray:
    """True where the symbol is ticker-shaped (checked once per distinct symbol)."""
    codes, uniques = pd.factorize(symbols)
    valid = np.fromiter((is_ticker(str(s)) for s in uniques), dtype=bool, count=len(uniques))
    return np.append(valid, False)[codes]  # code -1 (missing) maps to the appended False


def to_numbers(raw: pd.Series) -> pd.Series:
    """float64; NaN where empty or not a number (inf is kept, to be reported)."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    text = raw.astype("string").str.strip()
    return pd.to_numeric(text, errors="coerce").astype("float64")


class _RowFilter:
    """Accumulates row-drop masks; each dropped row is attributed to its first reason."""

    def __init__(self, n_rows: int) -> None:
        self.keep = np.ones(n_rows, dtype=bool)
        self.dropped: list[DroppedRows] = []

    def drop(
        self, mask: np.ndarray | pd.Series, reason: str, examples: Sequence[str] | pd.Series | None = None
    ) -> None:
        hit = np.asarray(mask, dtype=bool) & self.keep
        count = int(hit.sum())
        if count == 0:
            return
        if examples is None:
            shown = tuple(f"row {i + 1}" for i in np.flatnonzero(hit)[:MAX_EXAMPLES])
        else:
            values = np.asarray(examples, dtype=object)[hit]
            shown = tuple(dict.fromkeys(repr(str(v)[:40]) for v in values))[:MAX_EXAMPLES]
        self.dropped.append(DroppedRows(reason=reason, count=count, examples=shown))
        self.keep &= ~hit


def _drop_bad_numbers(
    rows: _RowFilter, raw: pd.Series, values: pd.Series, column: str, *, required: bool, positive: bool
) -> None:
    present = raw.notna().to_numpy() & (raw.astype("string").str.strip() != "").fillna(False).to_numpy()
    number = values.to_numpy()
    if required:
        rows.drop(~present, f"{column} is empty")
    rows.drop(present & np.isnan(number), f"{column} is not a number")
    rows.drop(np.isinf(number), f"{column} is infinite")
    if positive:
        rows.drop(number <= 0, f"{column} is not a positive number")
    elif required:
        rows.drop(number < 0, f"{column} is negative")


# ----- sentiment -----------------------------------------------------------------------


def validate_sentiment(
    raw: pd.DataFrame,
    label: str,
    options: ReadOptions = DEFAULT_OPTIONS,
    reading: FileReading | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Clean a raw sentiment table into the ``SENTIMENT_COLUMNS`` shape (see ``types``)."""
    if raw.empty:
        raise DataValidationError(f"{label} has no data rows")
    raw = raw.reset_index(drop=True)
    raw.columns = strip_column_names(raw.columns)
    raw, repeated = drop_repeated_columns(raw, label)
    raw = match_columns(raw, SENTIMENT_COLUMNS)
    warnings = repeated + check_columns(raw, SENTIMENT_COLUMNS, label)
    empty = empty_rows(raw)
    if empty.all():
        raise DataValidationError(f"{label} has no data rows (every row is empty)")
    rows, dates, date_format, symbols = _date_symbol_rows(raw, label, options, empty, "date", "symbol")
    numbers = {}
    for column in COUNT_COLUMNS:
        numbers[column] = to_numbers(raw[column])
        _drop_bad_numbers(
            rows, raw[column], numbers[column], column, required=column != SENTIMENT_SCORE, positive=False
        )
    frame = pd.DataFrame({"date": dates, "symbol": symbols, **numbers}, columns=list(SENTIMENT_COLUMNS))
    _drop_repeated_keys(rows, frame, COUNT_COLUMNS)
    frame = frame[rows.keep]
    dropped = tuple(rows.dropped)
    if frame.empty:
        raise DataValidationError(f"{label} has no usable rows ({_summary(dropped)})")
    frame = frame.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)
    frame = frame.astype({column: "float64" for column in COUNT_COLUMNS})
    read = dataclasses.replace(
        reading or FileReading(file=label, kind="table"), date_format=date_format, layout="sentiment"
    )
    report = sentiment_report(
        frame,
        rows_read=len(raw),
        dropped=dropped,
        warnings=warnings,
    )
    return frame, dataclasses.replace(report, reading=(read,))


def _summary(dropped: Sequence[DroppedRows]) -> str:
    if not dropped:
        return "no rows"
    return "; ".join(f"{d.count} dropped: {d.reason}" for d in dropped[:3])


def sentiment_report(
    frame: pd.DataFrame,
    *,
    rows_read: int,
    dropped: tuple[DroppedRows, ...] = (),
    warnings: tuple[str, ...] = (),
) -> ValidationReport:
    dates = frame["date"]
    return ValidationReport(
        rows_read=rows_read,
        rows_kept=len(frame),
        dropped=dropped,
        warnings=warnings,
        symbols=tuple(sorted(frame["symbol"].unique())),
        first_date=_iso(dates.min()),
        last_date=_iso(dates.max()),
    )


def _iso(stamp: pd.Timestamp | None) -> str | None:
    """ISO date of a column's min/max; None for an empty column (NaT)."""
    return None if stamp is None or pd.isna(stamp) else stamp.date().isoformat()


# ----- prices --------------------------------------------------------------------------


def validate_prices(
    raw: pd.DataFrame,
    label: str,
    options: ReadOptions = DEFAULT_OPTIONS,
    reading: FileReading | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Clean a price table in any accepted layout (docs/data.md: wide, long, Yahoo export).

    Layouts are told apart by their columns: a symbol column (``symbol``, ``Ticker``,
    ``stock_name``, ``Name``, any case; or, under another name, the one text column of
    ticker-shaped cells) next to ``Adj Close`` or ``Close`` is long (``Adj Close`` preferred); yfinance's (Price, Ticker) header is the Yahoo export; otherwise
    every column besides the date is a ticker (wide).
    """
    if raw.empty:
        raise DataValidationError(f"{label} has no data rows")
    read = reading or FileReading(file=label, kind="table")
    raw, yahoo_field = yahoo_layout_to_wide(raw, label)
    if not isinstance(raw.index, pd.RangeIndex):
        raw = raw.reset_index()
    raw = raw.reset_index(drop=True)
    raw.columns = strip_column_names(raw.columns)
    raw, repeated = drop_repeated_columns(raw, label)
    date_column = find_column(raw.columns, DATE_NAMES)
    if date_column is None and (raw.columns[0] == "" or str(raw.columns[0]).startswith("Unnamed: 0")):
        date_column = raw.columns[0]  # pandas' to_csv() of an index without a name
    if date_column is None:
        match = close_match("date", raw.columns)
        hint = f" (rename {match!r} to 'date')" if match else ""
        found = ", ".join(repr(c) for c in list(raw.columns)[:6])
        raise DataValidationError(f"{label} has no 'date' column{hint}; its columns are {found}")
    empty = empty_rows(raw)
    if empty.all():
        raise DataValidationError(f"{label} has no data rows (every row is empty)")
    others = [c for c in raw.columns if c != date_column]
    if yahoo_field is not None:
        read = dataclasses.replace(read, layout="Yahoo Finance export", price_column=yahoo_field)
        return _validate_wide_prices(raw, label, date_column, options, read, empty, notes=repeated)
    symbol_column = find_column(others, SYMBOL_NAMES)
    price_column = find_column(others, ADJUSTED_CLOSE_NAMES) or find_column(others, CLOSE_NAMES)
    if symbol_column is None and price_column is not None:
        symbol_column = _symbol_column_by_content(raw, others, price_column, label)
    if symbol_column is not None and price_column is not None:
        read = dataclasses.replace(
            read, layout="long", symbol_column=symbol_column, price_column=price_column
        )
        return _validate_long_prices(
            raw, label, date_column, symbol_column, price_column, options, read, empty, notes=repeated
        )
    fields = {squash(c) for c in others}
    if symbol_column is not None and len(fields & OHLCV_NAMES) >= 1:
        raise DataValidationError(
            f"{label} has a symbol column {symbol_column!r} but no 'Close' or 'Adj Close' column; "
            "name the column of adjusted closes 'Adj Close' or 'close'"
        )
    # Four or more OHLCV names (a real wide file may hold tickers such as LOW or OPEN).
    if len(fields) >= 4 and "close" in fields and fields <= OHLCV_NAMES:
        raise DataValidationError(
            f"{label} looks like a one-ticker Yahoo export (Open/High/Low/Close columns) "
            "without the ticker's name; use columns date,<TICKER> (one column of adjusted closes per ticker) "
            "or add a 'Ticker' column"
        )
    read = dataclasses.replace(read, layout="wide")
    return _validate_wide_prices(raw, label, date_column, options, read, empty, notes=repeated)


def _symbol_column_by_content(
    raw: pd.DataFrame, others: Sequence[str], price_column: str, label: str
) -> str | None:
    """The symbol column of a long price file whose name is not a known one (``security``,
    ``asset``, ``RIC`` ...): next to a close column, the one column of text (most cells not
    numbers) whose cells are ticker-shaped. None when no column holds text (a wide file);
    several text columns, or text that is not tickers, are refused in one sentence rather
    than read as a wide file whose "tickers" would be CLOSE, OPEN, VOLUME."""
    text = []
    for column in others:
        if column == price_column or pd.api.types.is_numeric_dtype(raw[column]):
            continue
        cells = raw[column].dropna()
        cells = cells[cells.astype("string").str.strip() != ""]
        if len(cells) and to_numbers(cells).isna().mean() > 0.5:
            text.append(column)
    if not text:
        return None
    if len(text) == 1:
        cells = clean_symbols(raw[text[0]].dropna())
        if ticker_mask(cells[cells != ""]).mean() >= 0.9:
            return text[0]
    names = ", ".join(repr(c) for c in text[:4])
    raise DataValidationError(
        f"{label} looks like a long price file (a {price_column!r} column next to the text column(s) "
        f"{names}) but its symbol column is not recognised; name the column of tickers 'symbol'"
    )


def yahoo_layout_to_wide(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, str | None]:
    """Accept Yahoo Finance exports: (Price, Ticker) columns, in Parquet or as yfinance's
    three-line CSV header (``Price,...`` / ``Ticker,...`` / ``Date,,...``). The adjusted close
    is ``Adj Close`` when present, else ``Close`` (already adjusted with ``auto_adjust=True``).
    Returns the frame (wide, with a ``date`` column, when it was an export) and the field used."""
    if isinstance(raw.columns, pd.MultiIndex) and raw.columns.nlevels == 2:
        for level in (0, 1):
            names = {str(f) for f in raw.columns.get_level_values(level)}
            field = "Adj Close" if "Adj Close" in names else "Close" if "Close" in names else None
            if field is not None:
                break
        if field is None or isinstance(raw.index, pd.RangeIndex):
            return raw, None
        # pandas-stubs types xs as DataFrame | Series; one level of MultiIndex columns is a DataFrame.
        table = cast(pd.DataFrame, raw.xs(field, axis=1, level=level))
        table.columns = [str(c) for c in table.columns]
        return table.set_axis(pd.Index(raw.index, name="date"), axis=0).reset_index(), field
    columns = [str(c).strip() for c in raw.columns]
    if len(columns) < 2 or len(raw) < 2:
        return raw, None
    # yfinance writes the two column levels as two header lines, then a "Date" line:
    # group_by="column": Price,Close,... / Ticker,AAA,... ; group_by="ticker": Ticker,AAA,... /
    # Price,Close,... ; older pandas leave the level names empty (",Close,..." / ",AAA,...").
    first_cell = columns[0].lower()
    second_cell = _cell_text(raw, 0, 0)
    if first_cell.startswith("unnamed"):
        first_cell = ""
    if first_cell not in ("price", "ticker", "") or second_cell not in ("price", "ticker", ""):
        return raw, None
    top = [re.sub(r"\.\d+$", "", c) for c in columns[1:]]
    below = [str(v).strip() for v in raw.iloc[0, 1:]]
    if _fields_row(top):
        fields, tickers = top, below
    elif _fields_row(below):
        fields, tickers = below, top
    else:
        return raw, None
    third = _cell_text(raw, 1, 0)
    skip = 2 if third in ("date", "datetime", "") and raw.iloc[1, 1:].isna().all() else 1
    wanted = "Adj Close" if "Adj Close" in fields else "Close"
    picks = [i + 1 for i, f in enumerate(fields) if f == wanted]
    if not picks:
        return raw, None
    body = raw.iloc[skip:, [0, *picks]].reset_index(drop=True)
    body.columns = ["date", *(tickers[i - 1] for i in picks)]
    return body, wanted


def _cell_text(frame: pd.DataFrame, row: int, column: int) -> str:
    """The stripped, lower-case text of one cell; "" for an empty cell."""
    # pandas-stubs types a cell more widely (Period, Interval, ...) than pd.isna accepts.
    value: Any = frame.iloc[row, column]
    return "" if pd.isna(value) else str(value).strip().lower()


def _fields_row(names: Sequence[str]) -> bool:
    """True when every name is a yfinance price field and one of them is a close."""
    squashed = {squash(n) for n in names}
    return bool(squashed) and squashed <= OHLCV_NAMES and bool(squashed & {"close", "adjclose"})


def _validate_long_prices(
    raw: pd.DataFrame,
    label: str,
    date_column: str,
    symbol_column: str,
    close_column: str,
    options: ReadOptions,
    read: FileReading,
    empty: np.ndarray,
    *,
    notes: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, ValidationReport]:
    rows, dates, date_format, symbols = _date_symbol_rows(
        raw, label, options, empty, date_column, symbol_column
    )
    closes = to_numbers(raw[close_column])
    _drop_bad_numbers(rows, raw[close_column], closes, "close", required=True, positive=True)
    frame = pd.DataFrame({"date": dates, "symbol": symbols, "close": closes})
    _drop_repeated_keys(rows, frame, ["close"])
    kept = frame[rows.keep]
    dropped = tuple(rows.dropped)
    if kept.empty:
        raise DataValidationError(f"{label} has no usable prices ({_summary(dropped)})")
    wide = kept.pivot(index="date", columns="symbol", values="close")
    ignored = [c for c in raw.columns if c not in (date_column, symbol_column, close_column)]
    warnings = notes + (
        (f"{label}: ignored column(s) {', '.join(repr(c) for c in ignored)}",) if ignored else ()
    )
    return _finish_prices(
        wide,
        label=label,
        rows_read=len(raw),
        rows_kept=len(kept),
        dropped=dropped,
        warnings=warnings,
        reading=dataclasses.replace(read, date_format=date_format),
    )


def _validate_wide_prices(
    raw: pd.DataFrame,
    label: str,
    date_column: str,
    options: ReadOptions,
    read: FileReading,
    empty: np.ndarray,
    *,
    notes: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, ValidationReport]:
    dropped: list[DroppedRows] = []
    value_columns = [c for c in raw.columns if c != date_column]
    names = {c: c.strip().upper() for c in value_columns}
    not_tickers = [c for c in value_columns if not is_ticker(names[c])]
    if not_tickers:
        dropped.append(_ignored_columns("column name is not a ticker (column ignored)", not_tickers))
    seen: dict[str, str] = {}
    for column in value_columns:
        if column not in not_tickers:
            seen.setdefault(names[column], column)
    repeated = [c for c in value_columns if c not in not_tickers and seen[names[c]] != c]
    if repeated:
        dropped.append(
            _ignored_columns("duplicate ticker column; the first one is kept (column ignored)", repeated)
        )
    if not seen:
        raise DataValidationError(
            f"{label} has no ticker columns besides 'date' (expected e.g. date,AAPL,MSFT)"
        )
    rows = _RowFilter(len(raw))
    rows.drop(empty, "empty row")
    dates, date_format = infer_dates(raw[date_column], label, options, column=date_column)
    rows.drop(dates.isna().to_numpy(), "date is not a valid date")
    values = pd.DataFrame({symbol: to_numbers(raw[column]) for symbol, column in seen.items()})
    present = pd.DataFrame(
        {symbol: _non_empty(raw[column], values[symbol]) for symbol, column in seen.items()}
    )
    numbers = values.to_numpy()
    keep_rows = rows.keep[:, None]
    for reason, bad in (
        ("price is not a number (cell left empty)", present.to_numpy() & np.isnan(numbers)),
        ("price is not a positive finite number (cell left empty)", np.isinf(numbers) | (numbers <= 0)),
    ):
        bad = bad & keep_rows
        if bad.any():
            where = np.argwhere(bad)[:MAX_EXAMPLES]
            examples = tuple(f"{values.columns[j]} row {i + 1}" for i, j in where)
            dropped.append(DroppedRows(reason=reason, count=int(bad.sum()), examples=examples, unit="cells"))
            numbers = np.where(bad, np.nan, numbers)
    if rows.keep.any() and not np.isfinite(numbers[rows.keep]).any():
        raise DataValidationError(f"{label} has no usable prices (every ticker column is empty)")
    # A date on which no ticker has a price is not a trading day (yfinance writes some
    # holidays as empty rows); it must not become a day of zero returns.
    rows.drop(~np.isfinite(numbers).any(axis=1), "no ticker has a price on this date (not a trading day)")
    # Duplicate dates: for each ticker, the first valid price of that date is kept.
    repeats = _duplicated_valid(dates, rows.keep)
    body = pd.DataFrame(numbers, columns=list(values.columns))
    body["__date"] = dates.to_numpy()
    valid = rows.keep
    merged = body[valid].groupby("__date", sort=True).first()
    if repeats.any():
        kept = merged.reindex(dates[repeats].to_numpy()).to_numpy(dtype=float)
        rows.drop(
            _conflicts(repeats, numbers[repeats], kept),
            "duplicate date row with a different price; for each ticker the first valid price of the date is kept",
        )
    rows.drop(repeats, "duplicate date row; for each ticker the first valid price of the date is kept")
    wide = merged.set_axis(merged.index.rename(None), axis=0)
    all_dropped = tuple(rows.dropped) + tuple(dropped)
    if wide.empty:
        raise DataValidationError(f"{label} has no usable rows ({_summary(all_dropped)})")
    return _finish_prices(
        wide,
        label=label,
        rows_read=len(raw),
        rows_kept=len(wide),
        dropped=all_dropped,
        warnings=notes,
        reading=dataclasses.replace(read, date_format=date_format),
    )


def _non_empty(raw: pd.Series, numbers: pd.Series) -> pd.Series:
    """True where a cell holds something (a number, or text that is not blank)."""
    present = numbers.notna()
    maybe = raw.notna() & ~present  # only those need the (slow) string check
    if maybe.any():
        present[maybe] = raw[maybe].astype("string").str.strip() != ""
    return present


def _date_symbol_rows(
    raw: pd.DataFrame,
    label: str,
    options: ReadOptions,
    empty: np.ndarray,
    date_column: str,
    symbol_column: str,
) -> tuple[_RowFilter, pd.Series, str, pd.Series]:
    """The row rules of a long (date, symbol, ...) table, sentiment or prices: empty rows,
    invalid dates and symbols that are not tickers are dropped with their reasons. Returns the
    row filter, the parsed dates, the date format's description and the cleaned symbols."""
    rows = _RowFilter(len(raw))
    rows.drop(empty, "empty row")
    dates, date_format = infer_dates(raw[date_column], label, options, column=date_column)
    rows.drop(dates.isna().to_numpy(), "date is not a valid date")
    symbols = clean_symbols(raw[symbol_column])
    written = raw[symbol_column].astype("string").fillna("")
    not_ticker = ~ticker_mask(symbols)
    rows.drop(
        not_ticker & symbols.str.fullmatch(SPACED_SHARE_CLASS).to_numpy(dtype=bool),
        "symbol is a share class written with '/' or a space (write BRK-B as Yahoo does, or BRK.B)",
        examples=written,
    )
    rows.drop(not_ticker, "symbol is not a ticker", examples=written)
    return rows, dates, date_format, symbols


# BRK/B, BRK B: a share class with a mark the ticker rule does not accept (it names a path
# or splits a word); dropped with a reason that says how to write it.
SPACED_SHARE_CLASS = r"[A-Z0-9]{1,10}\s*[/ ]\s*[A-Z0-9]{1,4}"


def _drop_repeated_keys(rows: _RowFilter, frame: pd.DataFrame, values: Sequence[str]) -> None:
    """Drop rows repeating the (date, symbol) of an earlier valid row; the first one is kept.
    A repeat whose ``values`` differ from the kept row's (both present) is a conflict and
    is reported under its own reason (never chosen silently)."""
    keys = ["date", "symbol"]
    repeats = _duplicated_valid(frame[keys], rows.keep)
    if repeats.any():
        first = frame[rows.keep & ~repeats].drop_duplicates(keys).set_index(keys)[list(values)]
        kept = first.reindex(pd.MultiIndex.from_frame(frame.loc[repeats, keys])).to_numpy(dtype=float)
        rows.drop(
            _conflicts(repeats, frame.loc[repeats, list(values)].to_numpy(dtype=float), kept),
            "duplicate (date, symbol) row with different values; the first valid one is kept",
        )
    rows.drop(repeats, "duplicate (date, symbol) row; the first valid one is kept")


def _conflicts(repeats: np.ndarray, repeated: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Rows of ``repeats`` (a mask) whose values (``repeated``, one row per repeat) differ
    from the ``kept`` values of their key where both are present."""
    differ = (np.isfinite(repeated) & np.isfinite(kept) & (repeated != kept)).any(axis=1)
    out = np.zeros(repeats.size, dtype=bool)
    out[np.flatnonzero(repeats)[differ]] = True
    return out


def _duplicated_valid(keys: pd.Series | pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """Rows that repeat the key of an earlier *valid* row (invalid rows never shadow good ones)."""
    mask = np.zeros(len(keys), dtype=bool)
    mask[np.flatnonzero(keep)[keys[keep].duplicated(keep="first").to_numpy()]] = True
    return mask


def _ignored_columns(reason: str, columns: Sequence[str]) -> DroppedRows:
    """The ``DroppedRows`` entry (unit ``columns``) for ``columns`` ignored for ``reason``."""
    return DroppedRows(
        reason=reason,
        count=len(columns),
        examples=tuple(repr(c) for c in columns[:MAX_EXAMPLES]),
        unit="columns",
    )


def _finish_prices(
    wide: pd.DataFrame,
    *,
    label: str,
    rows_read: int,
    rows_kept: int,
    dropped: tuple[DroppedRows, ...],
    warnings: tuple[str, ...],
    reading: FileReading | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Sort, type and name the wide frame; all-empty tickers become failed tickers."""
    wide = normalise_price_frame(wide)
    empty = [str(c) for c in wide.columns if not wide[c].notna().any()]
    wide = wide.drop(columns=empty)
    if wide.shape[1] == 0:
        reason = _summary(dropped) if dropped else "every ticker column is empty"
        raise DataValidationError(f"{label} has no usable prices ({reason})")
    report = ValidationReport(
        rows_read=rows_read,
        rows_kept=rows_kept,
        dropped=dropped,
        warnings=warnings + ((f"prices: no usable price for {', '.join(empty)}",) if empty else ()),
        symbols=tuple(wide.columns),
        failed_tickers=tuple(sorted(empty)),
        first_date=_iso(wide.index.min()),
        last_date=_iso(wide.index.max()),
        reading=(reading,) if reading is not None else (),
    )
    return wide, report


def normalise_price_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """The documented price shape: sorted unique DatetimeIndex ``date``, sorted float64 columns."""
    wide = wide.copy()
    wide.index = pd.DatetimeIndex(wide.index).as_unit("ns").normalize()
    wide.index.name = "date"
    wide.columns = pd.Index([str(c) for c in wide.columns])
    wide.columns.name = None
    wide = wide[~wide.index.duplicated(keep="first")]
    return wide.sort_index()[sorted(wide.columns)].astype("float64")


# ----- selection (shared by the providers) ---------------------------------------------


def window_reason(start: dt.date | None, end: dt.date | None) -> str:
    """The reason of rows dropped because their date is outside the loading window."""
    return f"outside the backtest's date window ({start or 'the first date'} to {end or 'the last date'})"


def price_file_rows(
    frame: pd.DataFrame,
    report: ValidationReport,
    selected: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
) -> tuple[int, tuple[DroppedRows, ...]]:
    """(rows kept, rows dropped by reason) of a price file after the window and symbol
    selection, counted in the file's own rows: a date row of a wide file, a (date, symbol)
    row of a long one (``report.reading`` names the layout)."""
    in_window = np.ones(len(frame), dtype=bool)
    if start is not None:
        in_window &= frame.index >= pd.Timestamp(start)
    if end is not None:
        in_window &= frame.index <= pd.Timestamp(end)
    long = any(r.layout == "long" for r in report.reading)
    if not long:
        outside = int((~in_window).sum())
        dropped = (DroppedRows(reason=window_reason(start, end), count=outside),) if outside else ()
        return report.rows_kept - outside, dropped
    cells = frame.notna().to_numpy()
    outside = int(cells[~in_window].sum())
    other = np.array([c not in set(selected) for c in frame.columns], dtype=bool)
    unused = int(cells[in_window][:, other].sum())
    out: list[DroppedRows] = []
    if outside:
        out.append(DroppedRows(reason=window_reason(start, end), count=outside))
    if unused:
        out.append(
            DroppedRows(
                reason="symbol not needed (not in the sentiment data, not the benchmark)",
                count=unused,
                examples=tuple(repr(str(c)) for c in frame.columns[other][:MAX_EXAMPLES]),
            )
        )
    return report.rows_kept - outside - unused, tuple(out)


def select_prices(
    prices: pd.DataFrame, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Columns ``symbols`` of a clean price frame between ``start`` and ``end`` (inclusive).

    Symbols absent from the frame, or with no price in the window, are failed tickers.
    """
    wanted = sorted({str(s).strip().upper() for s in symbols})
    window = prices
    if start is not None:
        window = window[window.index >= pd.Timestamp(start)]
    if end is not None:
        window = window[window.index <= pd.Timestamp(end)]
    present = [s for s in wanted if s in window.columns]
    usable = [s for s in present if window[s].notna().any()] if len(window) else []
    failed = tuple(s for s in wanted if s not in usable)
    out = window[usable]
    outside = len(prices) - len(window)
    return out, ValidationReport(
        rows_read=len(prices),
        rows_kept=len(out),
        dropped=(DroppedRows(reason=window_reason(start, end), count=outside),) if outside else (),
        symbols=tuple(usable),
        failed_tickers=failed,
        first_date=_iso(out.index.min()) if len(out) else None,
        last_date=_iso(out.index.max()) if len(out) else None,
    )
