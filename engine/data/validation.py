"""Validation of untrusted sentiment tables, and the row rules every long (date, symbol,
...) table shares (sentiment and long price files, ``engine.data.prices``).

Policy: problems with the whole file (unreadable, empty, missing columns) raise
``DataValidationError`` with one sentence; problems with single rows or cells drop
those rows/cells and are recorded in the ``ValidationReport`` as ``DroppedRows`` with a
few examples. Row numbers in examples count data rows from 1 (the header is row 0).
User-provided text (symbols, column names) is only ever shown through ``repr`` so that
a formula such as ``=HYPERLINK(...)`` is displayed, never interpreted.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from engine.data.reading import (
    DATE_NAMES,
    DEFAULT_OPTIONS,
    SYMBOL_NAMES,
    ReadOptions,
    date_text,
    extended_date_time,
    find_column,
    infer_dates,
    read_dates,
    squash,
)
from engine.data.symbols import (
    SPACED_SHARE_CLASS,
    exchange_advice,
    is_spaced_share_class,
    is_ticker,
    normalise_ticker,
    spaced_share_class_dash,
)
from engine.data.tables import MAX_EXAMPLES, check_columns, drop_repeated_columns, strip_column_names
from engine.data.types import COUNT_COLUMNS, SENTIMENT_COLUMNS, DroppedRows, FileReading, ValidationReport
from engine.errors import DataValidationError

ENGAGEMENT_COLUMNS: tuple[str, ...] = COUNT_COLUMNS[:4]  # counts that must be present and >= 0
SENTIMENT_SCORE = "twitterSentiment"  # may be empty (NaN is kept, as in the seed data)

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
    """Upper-case, stripped symbol strings ('' where missing); a cashtag is its ticker
    (``$AAPL`` is AAPL: Twitter/StockTwits data writes symbols so)."""
    # engine.data.symbols.normalise_ticker, once per distinct cell (a long file repeats each)
    codes, uniques = pd.factorize(raw.astype("string").fillna(""))
    spelled = np.array([normalise_ticker(str(u)) for u in uniques] + [""], dtype=object)
    text = pd.Series(spelled[codes], index=raw.index, dtype=object)
    return text.astype(str)


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


class RowFilter:
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


def drop_bad_numbers(
    rows: RowFilter, raw: pd.Series, values: pd.Series, column: str, *, required: bool, positive: bool
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
    raw, taken = _key_columns_by_other_names(raw)
    timed: tuple[str, ...] = ()
    time_column = time_column_of(raw, [c for c in raw.columns if c not in SENTIMENT_COLUMNS])
    if "date" in raw.columns and time_column is not None:  # read with the dates: intraday rows are refused
        raw, note = with_times(raw, "date", time_column, label)
        timed = (note,)
    warnings = repeated + taken_notes(label, taken) + timed + check_columns(raw, SENTIMENT_COLUMNS, label)
    empty = empty_rows(raw)
    if empty.all():
        raise DataValidationError(f"{label} has no data rows (every row is empty)")
    rows, dates, date_format, symbols, date_notes = date_symbol_rows(
        raw, label, options, empty, "date", "symbol", closes=False
    )
    refuse_intraday(raw["date"], dates, label, symbols, table="sentiment")
    warnings = date_notes + warnings
    numbers = {}
    for column in COUNT_COLUMNS:
        numbers[column] = to_numbers(raw[column])
        drop_bad_numbers(
            rows, raw[column], numbers[column], column, required=column != SENTIMENT_SCORE, positive=False
        )
    frame = pd.DataFrame({"date": dates, "symbol": symbols, **numbers}, columns=list(SENTIMENT_COLUMNS))
    drop_repeated_keys(rows, frame, COUNT_COLUMNS)
    frame = frame[rows.keep]
    dropped = tuple(rows.dropped)
    if frame.empty:
        meant = {"date": "the column of dates 'date'", "symbol": "the column of tickers 'symbol'"}
        where = "".join(f"; the column {name!r} was read as {key!r}" for name, key in taken.items())
        advice = f"; name {' and '.join(meant[key] for key in taken.values())}" if taken else ""
        raise DataValidationError(
            f"{label} has no usable rows ({dropped_summary(dropped)}{where}){refusal_advice(dropped)}{advice}"
        )
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


def _key_columns_by_other_names(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A missing ``date`` / ``symbol`` column is the one named as the price reader accepts
    (``DATE_NAMES``: Date, Datetime, timestamp, created_at; ``SYMBOL_NAMES``: Ticker,
    stock_name ...; else, for ``symbol``, the one text column of tickers:
    ``symbol_column_by_content``), so one file layout rule holds for both files (a sentiment file with a ``Ticker`` column
    was refused as missing ``symbol`` while a price file with it was read). Returns the
    table and the renames (file's name -> key), named when the file has no usable rows."""
    renames: dict[str, str] = {}
    spare = [c for c in raw.columns if str(c) not in SENTIMENT_COLUMNS]
    for key, names in (("date", DATE_NAMES), ("symbol", SYMBOL_NAMES)):
        if key not in raw.columns:
            free = [c for c in spare if c not in renames]
            found = symbol_column_by_name(raw, free) if key == "symbol" else find_column(free, names)
            if found is None and key == "symbol":
                # The price reader's content rule: the one text column of tickers.
                found, _ = symbol_column_by_content(raw, [c for c in free if c not in SENTIMENT_COLUMNS])
            if found is not None:
                renames[found] = key
    return (raw.rename(columns=renames) if renames else raw), renames


def taken_notes(label: str, taken: dict[str, str]) -> tuple[str, ...]:
    """One report warning per key column taken under another name (file's name -> key), so
    the Data page and the CLI say which column was read as ``date`` / ``symbol``."""
    return tuple(
        f"{label}: no {key!r} column; the column {name!r} was read as {key!r}" for name, key in taken.items()
    )


def symbol_column_by_name(raw: pd.DataFrame, others: Sequence[str]) -> str | None:
    """The column named like a symbol column (``SYMBOL_NAMES``); of several, the first in
    ``SYMBOL_NAMES`` order whose cells are mostly tickers (share classes such as ``BRK B``
    counted as tickers: they get their own reason later), else the most ticker-like
    (``Name`` with company names ``Apple Inc`` next to ``Code`` with tickers reads Code;
    ``Ticker`` next to one-word names ``Apple`` keeps Ticker, as the name order says)."""
    named = [c for name in SYMBOL_NAMES for c in others if squash(c) == name]
    if len(named) <= 1:
        return named[0] if named else None

    def ticker_share(column: str) -> float:
        # On the distinct cells, weighted by their counts (a long file repeats each symbol).
        counts = clean_symbols(raw[column].dropna()).value_counts()
        counts = counts[counts.index != ""]
        if not len(counts):
            return 0.0
        cells = pd.Series(counts.index, dtype=str)
        shaped = ticker_mask(cells) | cells.str.fullmatch(SPACED_SHARE_CLASS).to_numpy(dtype=bool)
        return float(counts.to_numpy()[shaped].sum() / counts.sum())

    shares = {column: ticker_share(column) for column in named}
    mostly = [c for c in named if shares[c] >= MOSTLY_TICKERS]
    return mostly[0] if mostly else max(named, key=shares.__getitem__)  # max keeps the first of ties


MOSTLY_TICKERS = 0.5  # share of ticker-shaped cells that makes a named column the symbol column
# Share of ticker-shaped cells that makes the one text column under another name the symbol column.
TICKER_COLUMN_SHARE = 0.9


def text_columns(raw: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns of text: not of a numeric type, with more than half of their non-blank
    cells not numbers (a symbol column, a currency; not a column of prices or counts)."""
    text = []
    for column in columns:
        if pd.api.types.is_numeric_dtype(raw[column]):
            continue
        cells = raw[column].dropna()
        cells = cells[cells.astype("string").str.strip() != ""]
        if len(cells) and to_numbers(cells).isna().mean() > 0.5:
            text.append(column)
    return text


def symbols_in(raw: pd.DataFrame, column: str) -> pd.Series:
    """The column's non-blank cells as symbols (``clean_symbols``)."""
    symbols = clean_symbols(raw[column].dropna())
    return symbols[symbols != ""]


def symbol_column_by_content(raw: pd.DataFrame, columns: Sequence[str]) -> tuple[str | None, list[str]]:
    """The symbol column under a name that is not a known one (``Stock Symbol``, ``asset``,
    ``sym``, ``cashtag`` with ``$AAA``, ``Company`` holding tickers): among ``columns``, the
    one column of text whose non-blank cells are ticker-shaped (``TICKER_COLUMN_SHARE``, 90%,
    after ``clean_symbols``). The one rule of the price reader (a long file) and the sentiment
    reader. Returns (the column or None, the text columns found): None when there is no text
    column, several, or text that is not tickers."""
    text = text_columns(raw, columns)
    if len(text) != 1:
        return None, text
    symbols = symbols_in(raw, text[0])
    if len(symbols) and ticker_mask(symbols).mean() >= TICKER_COLUMN_SHARE:
        return text[0], text
    return None, text


def dropped_summary(dropped: Sequence[DroppedRows]) -> str:
    """The first reasons of a refusal for a file with no usable rows; the invalid dates and
    the symbols that are not tickers name one value as written (``e.g. 'yesterday'``,
    ``e.g. 'NASDAQ:AAA'``)."""
    if not dropped:
        return "no rows"

    def one(d: DroppedRows) -> str:
        example = _written_example(d)
        return f"{d.count} dropped: {d.reason}" + (f", e.g. {example}" if example else "")

    return "; ".join(one(d) for d in dropped[:3])


def _written_example(d: DroppedRows) -> str:
    """One value as written (quoted) of rows dropped for an invalid date or a symbol that is
    not a ticker, a non-empty one first; "" for other reasons."""
    if d.reason not in (INVALID_DATE, NOT_A_TICKER) or not d.examples or d.examples[0].startswith("row "):
        return ""
    return next((e for e in d.examples if e != "''"), d.examples[0])


NOT_A_TICKER = "symbol is not a ticker"


INVALID_DATE = "date is not a valid date"
# One sentence of the accepted date forms (engine.data.reading; docs/data.md "Dates").
DATE_FORMS_ADVICE = (
    "write the dates in one accepted form: 2022-01-31 (ISO 8601, a time of day may follow), "
    "31/01/2022, 01/31/2022 or 31 01 2022, 31 Jan 2022, 31-Jan-22 or Jan 31, 2022 (English month names), 2022年1月31日 or 2022. 1. 31., "
    "20220131 or Excel serial day numbers, "
    "or give date_format (CLI: --date-format)"
)


def refusal_advice(dropped: Sequence[DroppedRows]) -> str:
    """The advice closing a refusal for a file with no usable rows, from its first reasons
    (``dropped_summary`` shows the same first three): ``"; write the dates in one accepted
    form: ..."`` for invalid dates, ``"; write each ticker alone, without its exchange (AAA,
    not 'NASDAQ:AAA')"`` for symbols written with their exchange; else ``""``."""
    advice = [DATE_FORMS_ADVICE] if any(d.reason == INVALID_DATE for d in dropped[:3]) else []
    symbols = [e for d in dropped[:3] if d.reason == NOT_A_TICKER for e in d.examples]
    exchanged = [a for a in (exchange_advice(str(ast.literal_eval(e))) for e in symbols) if a]
    return "".join(f"; {a}" for a in advice + exchanged[:1])


def written_dates(raw: pd.Series) -> pd.Series:
    """A date column's cells as written (stripped; ``''`` where empty), the examples of
    the rows dropped as invalid dates."""
    return raw.astype("string").str.strip().fillna("")


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
        first_date=iso_day(dates.min()),
        last_date=iso_day(dates.max()),
    )


def iso_day(stamp: pd.Timestamp | None) -> str | None:
    """ISO date of a column's min/max; None for an empty column (NaT)."""
    return None if stamp is None or pd.isna(stamp) else stamp.date().isoformat()


# ----- rows of long tables (sentiment and long prices) -------------------------------


def non_empty(raw: pd.Series, numbers: pd.Series) -> pd.Series:
    """True where a cell holds something (a number, or text that is not blank)."""
    present = numbers.notna()
    maybe = raw.notna() & ~present  # only those need the (slow) string check
    if maybe.any():
        present[maybe] = raw[maybe].astype("string").str.strip() != ""
    return present


def date_symbol_rows(
    raw: pd.DataFrame,
    label: str,
    options: ReadOptions,
    empty: np.ndarray,
    date_column: str,
    symbol_column: str,
    *,
    closes: bool = True,
) -> tuple[RowFilter, pd.Series, str, pd.Series, tuple[str, ...]]:
    """The row rules of a long (date, symbol, ...) table, sentiment or prices: empty rows,
    invalid dates and symbols that are not tickers are dropped with their reasons. Returns the
    row filter, the parsed dates, the date format's description, the cleaned symbols and the
    dates' warnings (``read_dates``; ``closes``: False for sentiment, whose dates are kept as
    written)."""
    rows = RowFilter(len(raw))
    rows.drop(empty, "empty row")
    dates, date_format, date_notes = read_dates(
        raw[date_column], label, options, column=date_column, closes=closes
    )
    rows.drop(dates.isna().to_numpy(), INVALID_DATE, examples=written_dates(raw[date_column]))
    symbols = clean_symbols(raw[symbol_column])
    written = raw[symbol_column].astype("string").fillna("")
    not_ticker = ~ticker_mask(symbols)
    share_classes = not_ticker & symbols.str.fullmatch(SPACED_SHARE_CLASS).to_numpy(dtype=bool)
    rows.drop(
        share_classes,
        f"symbol is {share_class_reason(written[share_classes & rows.keep])}",
        examples=written,
    )
    rows.drop(not_ticker, NOT_A_TICKER, examples=written)
    return rows, dates, date_format, symbols, date_notes


# A column of times of day next to the date column (MetaTrader's and many brokers' exports:
# Date,Time,Open,...; Finam's <DATE>,<TIME>): its name, and every cell a time (9:30, 16:00:00, 4:00 PM).
TIME_NAMES = ("time", "timeofday", "tradetime", "bartime", "hour")
_TIME_CELL = re.compile(
    r"^(?:\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?|(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?)$"
)
# Stooq's and Finam's compact forms: 093000 is 09:30:00, 1600 is 16:00; 20220103 is 2022-01-03.
_COMPACT_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def time_column_of(raw: pd.DataFrame, others: Sequence[str]) -> str | None:
    """The column of times of day (``TIME_NAMES``, every non-blank cell a time), if any."""
    for column in others:
        if squash(column) not in TIME_NAMES:
            continue
        cells = raw[column].dropna().astype(str).str.strip()
        cells = cells[cells != ""]
        if len(cells) and bool(cells.str.fullmatch(_TIME_CELL).all()):
            return column
    return None


def with_times(raw: pd.DataFrame, date_column: str, time_column: str, label: str) -> tuple[pd.DataFrame, str]:
    """The date cells with their time of day appended (``2022-01-03`` and ``09:30`` ->
    ``2022-01-03 09:30``), so that the intraday check sees them: a file of several bars (or
    sentiment rows of one symbol) a day is refused, one time a day (daily closes stamped 16:00) is read as daily. Read as
    dates alone, the bars of a day were repeated dates and the first (09:30) was kept as
    the day's close. Dates that already hold a time, or are not text (Parquet timestamps,
    Excel serial numbers), are left as they are. Returns the frame without the time
    column and the report's note."""
    dates = raw[date_column]
    if pd.api.types.is_datetime64_any_dtype(dates):
        dates = dates.dt.strftime("%Y-%m-%d")
    text = dates.astype("string").str.strip()
    written = text.dropna()
    serials = written.str.fullmatch(r"[+-]?\d+(?:\.\d+)?") & ~written.str.fullmatch(_COMPACT_DATE)
    if (
        pd.api.types.is_numeric_dtype(raw[date_column])
        and not bool(written.str.fullmatch(_COMPACT_DATE).all())
    ) or (len(written) and bool((written.str.contains(r"\d:\d{2}", regex=True) | serials).all())):
        return raw.drop(columns=[time_column]), f"{label}: ignored column(s) {time_column!r}"
    text = text.str.replace(_COMPACT_DATE, r"\1-\2-\3", regex=True)
    times = raw[time_column].astype("string").str.strip()
    times = times.str.replace(_COMPACT_TIME, lambda m: ":".join(g for g in m.groups() if g), regex=True)
    both = text.notna() & times.notna() & (times != "")
    combined = text.where(~both, text + " " + times)
    out = raw.drop(columns=[time_column]).assign(**{date_column: combined.astype(object)})
    return out, f"{label}: the times of day in {time_column!r} were read with the dates"


# After the date: a space or T, or right after a CJK day mark or weekday bracket (3日15:00).
_TIME_OF_DAY = re.compile(
    r"(?:[T ]|(?<=[日일)\uff09]))(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?)"
)
INTRADAY_MIN_DAYS = 2  # one date at two times is yfinance's live last row, a duplicate


def refuse_intraday(
    raw: pd.Series,
    dates: pd.Series,
    label: str,
    symbols: pd.Series | None = None,
    *,
    table: Literal["prices", "sentiment"] = "prices",
) -> None:
    """Intraday rows (a date at several times of day, on ``INTRADAY_MIN_DAYS`` dates or
    more) are refused in one sentence, in a price file and a sentiment file alike.

    Prices (yfinance's ``interval='1h'``): read as daily, each date kept its first bar
    (09:30) as the day's close; the last bar is not the close either when pre/post-market
    bars are included, so no bar is chosen for the user. Sentiment (several snapshots or
    hourly counts of one symbol a day): read as daily, the duplicate rule kept each day's
    first row and dropped the others as "duplicate (date, symbol)" rows; whether the day is
    their sum (hourly counts) or the last one (running totals) the file does not say, so no
    row is chosen either. In a long file the times are counted per symbol: AAPL at 16:00 and
    VOD.L at 16:30 on the same date are two daily closes of two exchanges, not intraday bars.
    ``raw``: the date column as written; ``dates``: its parsed dates (same index);
    ``symbols``: the cleaned symbols of a long table. Raises ``DataValidationError``."""
    # On the distinct values (a long file repeats each date once per symbol).
    codes, uniques = pd.factorize(raw)
    distinct = pd.Series(uniques)
    if pd.api.types.is_datetime64_any_dtype(distinct):
        found = distinct.dt.strftime("%H:%M:%S")
    else:
        found = extended_date_time(date_text(distinct)).str.extract(_TIME_OF_DAY)[0]
    if found.isna().all():
        return
    # codes of -1 (a missing date) index the appended None.
    values = np.concatenate([found.to_numpy(dtype=object), np.array([None], dtype=object)])
    times = pd.Series(values[codes], index=raw.index)
    known = times.notna().to_numpy() & dates.notna().to_numpy()
    pairs = pd.DataFrame({"date": dates[known], "time": times[known]})
    if symbols is not None:
        pairs["symbol"] = symbols[known]
    pairs = pairs.drop_duplicates()
    by_symbol = pairs.groupby(["date", *(["symbol"] if symbols is not None else [])]).size()
    counts = by_symbol.groupby(level="date").max()
    several = counts[counts > 1]
    if len(several) < INTRADAY_MIN_DAYS:
        return
    first = min(several.index)
    day = first.date().isoformat()
    if table == "prices":
        raise DataValidationError(
            f"{label} holds prices at several times of day on {len(several)} dates (e.g. {day} at "
            f"{counts[first]} times): intraday bars, not daily closes; "
            "give one adjusted close per day (yfinance: interval='1d')"
        )
    symbol = by_symbol.loc[first].idxmax() if symbols is not None else ""
    raise DataValidationError(
        f"{label} holds rows of one symbol at several times of day on {len(several)} dates (e.g. "
        f"{symbol} on {day} at {counts[first]} times): intraday data; give one row per symbol and "
        "day (the strategy's thresholds and signals are per day)"
    )


# Daily closes on any exchange calendar have a median gap of 1 calendar day between price
# days (a weekend makes a gap of 3 once a week, a holiday one of 2 to 4 now and then); a daily
# file with many missing days still has a median of at most 4 unless most trading days are
# missing. Weekly bars (yfinance interval="1wk") have 7, monthly ones ("1mo") 28 to 31.
MAX_MEDIAN_GAP_DAYS = 4
# Two price days say nothing of a frequency (one gap): judged from 3 price days.
MIN_DAYS_FOR_GAP = 3


def priced_days(prices: pd.DataFrame) -> pd.DatetimeIndex:
    """The dates of a price frame (dates x tickers) on which some ticker has a close: the
    days ``refuse_sparse_bars`` judges."""
    return pd.DatetimeIndex(prices.index[prices.notna().any(axis=1)])


def refuse_sparse_bars(days: pd.DatetimeIndex, label: str) -> None:
    """Weekly or monthly bars are refused in one sentence, as intraday bars are
    (``refuse_intraday``): read as daily closes, CAGR, volatility and Sharpe were annualised
    over 252 "days" (six monthly bars of +2%: CAGR 14,597% where the right value is 26.8%).
    ``days``: the price days of a file (sorted, unique). Refused when there are at least
    ``MIN_DAYS_FOR_GAP`` (3) of them and the median gap between consecutive ones is more than
    ``MAX_MEDIAN_GAP_DAYS`` (4) calendar days; a long halt in daily data moves the median
    little. Raises ``DataValidationError``."""
    if len(days) < MIN_DAYS_FOR_GAP:
        return
    gaps = np.diff(pd.DatetimeIndex(days).normalize().asi8) / 86_400e9
    median = float(np.median(gaps))
    if median > MAX_MEDIAN_GAP_DAYS:
        raise DataValidationError(
            f"{label} has one price day every {median:g} days (the median gap between its dates): "
            "weekly or monthly bars, not daily closes; the backtest needs daily closes "
            "(yfinance: interval='1d')"
        )


# BRK/B, BRK B, BRK_B (``engine.data.symbols.SPACED_SHARE_CLASS``): dropped (a row of a long
# table, a column of a wide one) with a reason that says how to write it
# (``share_class_reason``); this part of it is what every such reason holds.
SHARE_CLASS_REASON = "a share class written with '/', '_' or a space"


def share_class_reason(names: Iterable[object]) -> str:
    """``SHARE_CLASS_REASON`` with how to write the dropped names, from the names themselves:
    ``"... (write BF-B as Yahoo does, or BF.B)"`` for one share class (any spellings of it),
    ``"... (write each with '-' as Yahoo does, or '.': 'BF/B' as BF-B or BF.B)"`` for several
    (the reason is shared by their group, so its example is the first name's own; breaker
    pass 15: BF/B was told to write BRK-B)."""
    shown: dict[str, str] = {}  # dash spelling -> the first name written so
    for name in names:
        dash = spaced_share_class_dash(str(name))
        if dash is not None:
            shown.setdefault(dash, str(name).strip())
    if not shown:
        return f"{SHARE_CLASS_REASON} (write it with '-' as Yahoo does, or '.')"
    dash, first = next(iter(shown.items()))
    dot = dash.replace("-", ".")
    if len(shown) == 1:
        return f"{SHARE_CLASS_REASON} (write {dash} as Yahoo does, or {dot})"
    return f"{SHARE_CLASS_REASON} (write each with '-' as Yahoo does, or '.': {first!r} as {dash} or {dot})"


def refused_share_classes(dropped: Sequence[DroppedRows]) -> tuple[str, ...]:
    """The share classes a file wrote with '/', '_' or a space, as written (stripped), read
    from the examples of its groups dropped for ``SHARE_CLASS_REASON`` (a wide file's
    columns, a long file's symbols: up to ``MAX_EXAMPLES`` per group), e.g. ``("BRK/B",)``;
    the spelling hints name them (breaker pass 13, F4)."""
    names = (
        str(ast.literal_eval(e)).strip()
        for d in dropped
        if SHARE_CLASS_REASON in d.reason
        for e in d.examples
    )
    return tuple(dict.fromkeys(n for n in names if is_spaced_share_class(n)))


def drop_repeated_keys(rows: RowFilter, frame: pd.DataFrame, values: Sequence[str]) -> None:
    """Drop rows repeating the (date, symbol) of an earlier valid row; the first one is kept,
    with each of its empty ``values`` filled in place from the first repeat that has one
    and agrees with it (a first copy whose optional twitterSentiment is empty does not hide
    the real value of the second: the rule of a wide price file's duplicate dates, per
    column). A repeat whose ``values`` differ from the kept row's (both present) is a
    conflict, reported under its own reason and never used to fill (a row is not pieced
    together from two different observations)."""
    keys = ["date", "symbol"]
    repeats = duplicated_valid(frame[keys], rows.keep)
    if repeats.any():
        columns = list(values)
        first_rows = rows.keep & ~repeats
        repeat_keys = pd.MultiIndex.from_frame(frame.loc[repeats, keys])

        def kept_values() -> np.ndarray:
            first = frame.loc[first_rows].set_index(keys)[columns]  # one row per key
            return first.reindex(repeat_keys).to_numpy(dtype=float)

        repeated = frame.loc[repeats, columns].to_numpy(dtype=float)
        kept = kept_values()
        gaps = np.isnan(kept) & ~np.isnan(repeated)
        if gaps.any():
            agree = repeats & ~conflicting_repeats(repeats, repeated, kept)
            donors = frame.loc[first_rows | agree, [*keys, *columns]]
            firsts = donors.groupby(keys, sort=False)[columns].first()  # first non-NaN per column
            index = pd.MultiIndex.from_frame(frame.loc[first_rows, keys])
            frame.loc[first_rows, columns] = firsts.reindex(index).to_numpy(dtype=float)
            kept = kept_values()
        rows.drop(
            conflicting_repeats(repeats, repeated, kept),
            "duplicate (date, symbol) row with different values; the first valid one is kept",
        )
    rows.drop(repeats, "duplicate (date, symbol) row; the first valid value of each column is kept")


def conflicting_repeats(repeats: np.ndarray, repeated: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Rows of ``repeats`` (a mask) whose values (``repeated``, one row per repeat) differ
    from the ``kept`` values of their key where both are present."""
    differ = (np.isfinite(repeated) & np.isfinite(kept) & (repeated != kept)).any(axis=1)
    out = np.zeros(repeats.size, dtype=bool)
    out[np.flatnonzero(repeats)[differ]] = True
    return out


def duplicated_valid(keys: pd.Series | pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """Rows that repeat the key of an earlier *valid* row (invalid rows never shadow good ones)."""
    mask = np.zeros(len(keys), dtype=bool)
    mask[np.flatnonzero(keep)[keys[keep].duplicated(keep="first").to_numpy()]] = True
    return mask


def ignored_columns(reason: str, columns: Sequence[str]) -> DroppedRows:
    """The ``DroppedRows`` entry (unit ``columns``) for ``columns`` ignored for ``reason``."""
    return DroppedRows(
        reason=reason,
        count=len(columns),
        examples=tuple(repr(c) for c in columns[:MAX_EXAMPLES]),
        unit="columns",
    )
