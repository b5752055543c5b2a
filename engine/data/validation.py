"""Validation of untrusted sentiment and price tables (files, uploads, downloads).

Policy: problems with the whole file (unreadable, empty, missing columns) raise
``DataValidationError`` with one sentence; problems with single rows or cells drop
those rows/cells and are recorded in the ``ValidationReport`` as ``DroppedRows`` with a
few examples. Row numbers in examples count data rows from 1 (the header is row 0).
User-provided text (symbols, column names) is only ever shown through ``repr`` so that
a formula such as ``=HYPERLINK(...)`` is displayed, never interpreted.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.types import COUNT_COLUMNS, SENTIMENT_COLUMNS, DroppedRows, ValidationReport
from engine.errors import DataUnavailableError, DataValidationError
from engine.strategy.params import is_ticker

PathOrBytes = str | os.PathLike | bytes

MAX_EXAMPLES = 5
PARQUET_MAGIC = b"PAR1"
# Dates outside this window are typos (or epoch integers) rather than market data.
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2200-01-01")
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


def read_csv_bytes(data: bytes, label: str) -> pd.DataFrame:
    """All-string frame of a UTF-8 CSV (empty cells are NaN); header names stripped."""
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
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(f"{label} is empty") from exc
    except (pd.errors.ParserError, ValueError, TypeError) as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(f"{label} is not a readable CSV file ({detail})") from exc
    frame.columns = strip_column_names(frame.columns)
    if frame.empty:
        raise DataValidationError(f"{label} has a header but no data rows")
    return frame


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
    """Names without surrounding spaces; a name that would collide keeps its original spelling."""
    out: list[str] = []
    for position, column in enumerate(columns):
        name = str(column).strip()
        if name in out:
            name = str(column) if str(column) not in out else f"{column}#{position}"
        out.append(name)
    return out


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


def parse_dates(raw: pd.Series) -> pd.Series:
    """datetime64[ns] at midnight; NaT where the value is not a plausible date."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        text = raw.astype("string").str.strip()
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        retry = parsed.isna() & text.notna()
        if retry.any():  # other spellings (01/31/2022, 31 Jan 2022) parsed one by one
            parsed = parsed.copy()
            parsed[retry] = pd.to_datetime(text[retry], errors="coerce", format="mixed")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)  # keep the local calendar date
    parsed = parsed.where((parsed >= EARLIEST_DATE) & (parsed < LATEST_DATE))
    return parsed.astype("datetime64[ns]").dt.normalize()


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

    def drop(self, mask: np.ndarray | pd.Series, reason: str, examples: Sequence[str] | None = None) -> None:
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


def validate_sentiment(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, ValidationReport]:
    """Clean a raw sentiment table into the ``SENTIMENT_COLUMNS`` shape (see ``_types``)."""
    if raw.empty:
        raise DataValidationError(f"{label} has no data rows")
    raw = raw.reset_index(drop=True)
    raw.columns = strip_column_names(raw.columns)
    warnings = check_columns(raw, SENTIMENT_COLUMNS, label)
    rows = _RowFilter(len(raw))
    dates = parse_dates(raw["date"])
    rows.drop(dates.isna().to_numpy(), "date is not a valid date")
    symbols = clean_symbols(raw["symbol"])
    rows.drop(
        ~ticker_mask(symbols), "symbol is not a ticker", examples=raw["symbol"].astype("string").fillna("")
    )
    numbers = {}
    for column in COUNT_COLUMNS:
        numbers[column] = to_numbers(raw[column])
        _drop_bad_numbers(
            rows, raw[column], numbers[column], column, required=column != SENTIMENT_SCORE, positive=False
        )
    frame = pd.DataFrame({"date": dates, "symbol": symbols, **numbers}, columns=list(SENTIMENT_COLUMNS))
    rows.drop(
        _duplicated_valid(frame[["date", "symbol"]], rows.keep),
        "duplicate (date, symbol) row; the first one is kept",
    )
    frame = frame[rows.keep]
    if frame.empty:
        raise DataValidationError(f"{label} has no usable rows ({_summary(rows.dropped)})")
    frame = frame.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)
    frame = frame.astype({column: "float64" for column in COUNT_COLUMNS})
    return frame, sentiment_report(frame, rows_read=len(raw), dropped=tuple(rows.dropped), warnings=warnings)


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


def _iso(stamp: object) -> str | None:
    return None if stamp is None or pd.isna(stamp) else pd.Timestamp(stamp).date().isoformat()


# ----- prices --------------------------------------------------------------------------


def validate_prices(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, ValidationReport]:
    """Clean a wide (``date`` + one column per ticker) or long (``date,symbol,close``) table."""
    if raw.empty:
        raise DataValidationError(f"{label} has no data rows")
    raw = yahoo_layout_to_wide(raw, label)
    if not isinstance(raw.index, pd.RangeIndex):
        raw = raw.reset_index()
    raw = raw.reset_index(drop=True)
    raw.columns = strip_column_names(raw.columns)
    by_lower = {}
    for column in raw.columns:
        by_lower.setdefault(column.lower(), column)
    if "date" not in by_lower:
        match = close_match("date", raw.columns)
        hint = f" (rename {match!r} to 'date')" if match else ""
        raise DataValidationError(f"{label} has no 'date' column{hint}")
    date_column = by_lower["date"]
    if "symbol" in by_lower and "close" in by_lower:
        return _validate_long_prices(raw, label, date_column, by_lower["symbol"], by_lower["close"])
    return _validate_wide_prices(raw, label, date_column)


OHLCV = {"open", "high", "low", "close", "adj close", "adj_close", "adjclose", "volume"}


def yahoo_layout_to_wide(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """Accept Yahoo Finance exports: (Price, Ticker) columns, in Parquet or as yfinance's
    three-line CSV header (``Price,...`` / ``Ticker,...`` / ``Date,,...``). The adjusted close
    is ``Adj Close`` when present, else ``Close`` (already adjusted with ``auto_adjust=True``)."""
    if isinstance(raw.columns, pd.MultiIndex) and raw.columns.nlevels == 2:
        fields = {str(f) for f in raw.columns.get_level_values(0)}
        field = "Adj Close" if "Adj Close" in fields else "Close" if "Close" in fields else None
        if field is None:
            return raw
        table = raw[field]
        table.columns = [str(c) for c in table.columns]
        index = raw.index if not isinstance(raw.index, pd.RangeIndex) else None
        if index is None:
            return raw
        return table.set_axis(pd.Index(index, name="date"), axis=0).reset_index()
    columns = [str(c).strip() for c in raw.columns]
    if columns and columns[0].lower() == "price" and len(raw) >= 2:
        first = raw.iloc[:, 0].astype("string").str.strip().str.lower()
        if first.iloc[0] == "ticker" and first.iloc[1] in ("date", "datetime"):
            fields = [re.sub(r"\.\d+$", "", c) for c in columns[1:]]
            wanted = "Adj Close" if "Adj Close" in fields else "Close"
            picks = [i + 1 for i, f in enumerate(fields) if f == wanted]
            if picks:
                tickers = [str(raw.iloc[0, i]) for i in picks]
                body = raw.iloc[2:, [0, *picks]].reset_index(drop=True)
                body.columns = ["date", *tickers]
                return body
    rest = {c.lower() for c in columns} - {"date", "datetime"}
    # Four or more OHLCV names (a real wide file may hold tickers such as LOW or OPEN).
    if len(rest) >= 4 and "close" in rest and rest <= OHLCV:
        raise DataValidationError(
            f"{label} looks like a one-ticker Yahoo export (Open/High/Low/Close columns) "
            "without the ticker's name; use columns date,<TICKER> (one column of adjusted closes per ticker)"
        )
    return raw


def _validate_long_prices(
    raw: pd.DataFrame, label: str, date_column: str, symbol_column: str, close_column: str
) -> tuple[pd.DataFrame, ValidationReport]:
    rows = _RowFilter(len(raw))
    dates = parse_dates(raw[date_column])
    rows.drop(dates.isna().to_numpy(), "date is not a valid date")
    symbols = clean_symbols(raw[symbol_column])
    rows.drop(
        ~ticker_mask(symbols),
        "symbol is not a ticker",
        examples=raw[symbol_column].astype("string").fillna(""),
    )
    closes = to_numbers(raw[close_column])
    _drop_bad_numbers(rows, raw[close_column], closes, "close", required=True, positive=True)
    frame = pd.DataFrame({"date": dates, "symbol": symbols, "close": closes})
    rows.drop(
        _duplicated_valid(frame[["date", "symbol"]], rows.keep),
        "duplicate (date, symbol) row; the first one is kept",
    )
    kept = frame[rows.keep]
    if kept.empty:
        raise DataValidationError(f"{label} has no usable prices ({_summary(rows.dropped)})")
    wide = kept.pivot(index="date", columns="symbol", values="close")
    warnings = tuple(
        f"{label}: ignored column {c!r}"
        for c in raw.columns
        if c not in (date_column, symbol_column, close_column)
    )
    return _finish_prices(
        wide,
        label=label,
        rows_read=len(raw),
        rows_kept=len(kept),
        dropped=tuple(rows.dropped),
        warnings=warnings,
    )


def _validate_wide_prices(
    raw: pd.DataFrame, label: str, date_column: str
) -> tuple[pd.DataFrame, ValidationReport]:
    dropped: list[DroppedRows] = []
    warnings: list[str] = []
    value_columns = [c for c in raw.columns if c != date_column]
    names = {c: c.strip().upper() for c in value_columns}
    not_tickers = [c for c in value_columns if not is_ticker(names[c])]
    if not_tickers:
        dropped.append(
            DroppedRows(
                reason="column name is not a ticker",
                count=len(not_tickers),
                examples=tuple(repr(c) for c in not_tickers[:MAX_EXAMPLES]),
            )
        )
    seen: dict[str, str] = {}
    for column in value_columns:
        if column not in not_tickers:
            seen.setdefault(names[column], column)
    repeated = [c for c in value_columns if c not in not_tickers and seen[names[c]] != c]
    if repeated:
        dropped.append(
            DroppedRows(
                reason="duplicate ticker column; the first one is kept",
                count=len(repeated),
                examples=tuple(repr(c) for c in repeated[:MAX_EXAMPLES]),
            )
        )
    if not seen:
        raise DataValidationError(
            f"{label} has no ticker columns besides 'date' (expected e.g. date,AAPL,MSFT)"
        )
    rows = _RowFilter(len(raw))
    dates = parse_dates(raw[date_column])
    rows.drop(dates.isna().to_numpy(), "date is not a valid date")
    rows.drop(_duplicated_valid(dates, rows.keep), "duplicate date row; the first one is kept")
    values = pd.DataFrame({symbol: to_numbers(raw[column]) for symbol, column in seen.items()})
    present = pd.DataFrame(
        {
            symbol: raw[column].notna() & (raw[column].astype("string").str.strip() != "").fillna(False)
            for symbol, column in seen.items()
        }
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
            dropped.append(DroppedRows(reason=reason, count=int(bad.sum()), examples=examples))
            numbers = np.where(bad, np.nan, numbers)
    wide = pd.DataFrame(numbers[rows.keep], index=dates[rows.keep].to_numpy(), columns=list(values.columns))
    if wide.empty:
        raise DataValidationError(f"{label} has no usable rows ({_summary(rows.dropped)})")
    return _finish_prices(
        wide,
        label=label,
        rows_read=len(raw),
        rows_kept=len(wide),
        dropped=tuple(rows.dropped + dropped),
        warnings=tuple(warnings),
    )


def _duplicated_valid(keys: pd.Series | pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """Rows that repeat the key of an earlier *valid* row (invalid rows never shadow good ones)."""
    mask = np.zeros(len(keys), dtype=bool)
    mask[np.flatnonzero(keep)[keys[keep].duplicated(keep="first").to_numpy()]] = True
    return mask


def _finish_prices(
    wide: pd.DataFrame,
    *,
    label: str,
    rows_read: int,
    rows_kept: int,
    dropped: tuple[DroppedRows, ...],
    warnings: tuple[str, ...],
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
    )
    return wide, report


def normalise_price_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """The documented price shape: sorted unique DatetimeIndex ``date``, sorted float64 columns."""
    wide = wide.copy()
    wide.index = pd.DatetimeIndex(wide.index).astype("datetime64[ns]").normalize()
    wide.index.name = "date"
    wide.columns = pd.Index([str(c) for c in wide.columns])
    wide.columns.name = None
    wide = wide[~wide.index.duplicated(keep="first")]
    return wide.sort_index()[sorted(wide.columns)].astype("float64")


# ----- selection (shared by the providers) ---------------------------------------------


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
    return out, ValidationReport(
        rows_read=len(prices),
        rows_kept=len(out),
        symbols=tuple(usable),
        failed_tickers=failed,
        first_date=_iso(out.index.min()) if len(out) else None,
        last_date=_iso(out.index.max()) if len(out) else None,
    )
