"""Validation of untrusted price tables: wide (a date column and one column per ticker),
long (date, symbol, close) and yfinance's multi-line header layouts, to the documented
wide shape (``normalise_price_frame``); and the selection of a date window and symbols
shared by the providers. Same policy as ``engine.data.validation``: one sentence for a
file that cannot be used, ``DroppedRows`` for rows and cells that are dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from engine.data.calendar import exchange_holidays, non_sessions
from engine.data.reading import (
    ADJUSTED_CLOSE_NAMES,
    CLOSE_FIELD_NAMES,
    CLOSE_NAMES,
    CURRENCY_NAMES,
    DATE_NAMES,
    DEFAULT_OPTIONS,
    OHLCV_NAMES,
    ONE_TICKER_FIELD_NAMES,
    ReadOptions,
    adjusted_rank,
    find_column,
    price_column_of,
    read_dates,
    squash,
    title_line_hint,
)
from engine.data.symbols import exchange_advice, is_spaced_share_class, is_ticker, normalise_ticker
from engine.data.tables import (
    MAX_EXAMPLES,
    close_match,
    drop_repeated_columns,
    holds_row_numbers,
    ignored_column_notes,
    is_nameless,
    strip_column_names,
)
from engine.data.types import DroppedRows, FileReading, ValidationReport
from engine.data.validation import (
    INVALID_DATE,
    TICKER_COLUMN_SHARE,
    RowFilter,
    clean_symbols,
    conflicting_repeats,
    date_symbol_rows,
    drop_bad_numbers,
    drop_repeated_keys,
    dropped_summary,
    duplicated_valid,
    empty_rows,
    ignored_columns,
    iso_day,
    non_empty,
    refusal_advice,
    refuse_intraday,
    share_class_reason,
    symbol_column_by_content,
    symbol_column_by_name,
    symbols_in,
    text_columns,
    ticker_mask,
    time_column_of,
    to_numbers,
    with_times,
    written_dates,
)
from engine.dispersion import same_price
from engine.errors import DataValidationError

# ----- prices --------------------------------------------------------------------------


def validate_prices(
    raw: pd.DataFrame,
    label: str,
    options: ReadOptions = DEFAULT_OPTIONS,
    reading: FileReading | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Clean a price table in any accepted layout (docs/data.md: wide, long, Yahoo export).

    Layouts are told apart by their columns: a symbol column (``symbol``, ``Ticker``,
    ``stock_name``, ``Name``, ``Instrument``, ``RIC``, any case; or, under another name, the one
    text column of ticker-shaped cells) next to ``Adj Close`` or ``Close`` is long (``Adj Close`` preferred); yfinance's (Price, Ticker) header is the Yahoo export; otherwise
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
        raise DataValidationError(
            f"{label} has no 'date' column{hint}; its columns are {found}{title_line_hint(list(raw.columns))}"
        )
    empty = empty_rows(raw)
    if empty.all():
        raise DataValidationError(f"{label} has no data rows (every row is empty)")
    others = [c for c in raw.columns if c != date_column]
    time_column = time_column_of(raw, others)
    if time_column is not None:
        raw, note = with_times(raw, date_column, time_column, label)
        others = [c for c in others if c != time_column]
        repeated = (*repeated, note)
    if yahoo_field is not None:
        read = dataclasses.replace(read, layout="Yahoo Finance export", price_column=yahoo_field)
        return _validate_wide_prices(raw, label, date_column, options, read, empty, notes=repeated)
    flat = ticker_field_columns(others, label)
    if flat is not None:
        field, picks, note = flat
        raw = raw[[date_column, *picks]].set_axis([date_column, *picks.values()], axis=1)
        read = dataclasses.replace(read, layout="ticker-and-field columns", price_column=field)
        return _validate_wide_prices(raw, label, date_column, options, read, empty, notes=(*repeated, note))
    _refuse_one_ticker_export(label, others)
    currency_note = _one_currency(raw, others, label)
    if currency_note:
        currency_column = find_column(others, CURRENCY_NAMES)
        raw = raw.drop(columns=[currency_column])
        others = [c for c in others if c != currency_column]
        repeated = (*repeated, currency_note)
    symbol_column = symbol_column_by_name(raw, others)
    price_column = price_column_of(others)
    close_column = find_column(others, CLOSE_NAMES)
    if (
        price_column is not None
        and close_column not in (None, price_column)
        and raw[price_column].isna().all()
    ):
        # An empty 'Adj Close' column next to a 'Close' column (a template, a vendor without
        # adjustments): the closes are the prices; reading the empty column dropped every row.
        repeated = (*repeated, f"{label}: the {price_column!r} column is empty; prices from {close_column!r}")
        price_column = close_column
    if symbol_column is None and price_column is not None:
        symbol_column = _symbol_column_by_content(raw, others, price_column, label)
    if symbol_column is None and price_column is not None:
        raw, symbol_column, id_note = _numeric_symbol_column(raw, date_column, others, price_column, label)
        repeated = (*repeated, *id_note)
    if symbol_column is not None and price_column is not None:
        if close_column not in (None, price_column):
            _refuse_long_mixed_closes(raw, label, symbol_column, price_column, close_column)
        read = dataclasses.replace(
            read, layout="long", symbol_column=symbol_column, price_column=price_column
        )
        return _validate_long_prices(
            raw, label, date_column, symbol_column, price_column, options, read, empty, notes=repeated
        )
    fields = {squash(c) for c in others}
    if price_column is None:
        _refuse_long_without_close(raw, label, date_column, others)
    # A symbol column by name whose cells are text (Date,Ticker,Last Price of one symbol):
    # read as wide, 'Ticker' became a ticker TICKER whose cells are "not a number".
    if symbol_column is not None and (
        len(fields & OHLCV_NAMES) >= 1 or symbol_column in text_columns(raw, [symbol_column])
    ):
        raise DataValidationError(
            f"{label} has a symbol column {symbol_column!r} but no 'Close' or 'Adj Close' column; "
            "name the column of adjusted closes 'Adj Close' or 'close'"
        )
    _refuse_fields_beside_tickers(label, others)
    read = dataclasses.replace(read, layout="wide")
    return _validate_wide_prices(raw, label, date_column, options, read, empty, notes=repeated)


_NOT_A_CURRENCY = frozenset({"-", "--", "\u2014", "n/a", "na", "nan", "none", "null", "#n/a"})


def _one_currency(raw: pd.DataFrame, others: Sequence[str], label: str) -> str:
    """The report warning for a currency column (``CURRENCY_NAMES``: LSEG's ``Currency``),
    "" when there is none. One currency is fine (the column is ignored, the warning names
    it); several are refused in one sentence naming them: a portfolio's returns would mix
    them silently. Any text is a currency as written (``USD``, ``$``, ``US Dollar``: two
    spellings of one currency are refused too, a refusal is better than a guess), except
    that a wholly lower-case code is its upper-case one (``usd`` is ``USD``; LSEG's ``GBp``,
    pence, is not ``GBP``); blanks and placeholders (``-``, ``N/A``) say nothing. A column
    of numbers holds no currency ("": a ticker CURR of a wide file holds prices) unless
    every one is a 3-digit ISO 4217 numeric code (840 is USD)."""
    column = find_column(others, CURRENCY_NAMES)
    if column is None:
        return ""
    written = raw[column].dropna().astype(str).str.strip()
    written = written[(written != "") & ~written.str.lower().isin(_NOT_A_CURRENCY)]
    if written.empty:
        return f"{label}: ignored column(s) {column!r}"
    numbers = pd.to_numeric(written.str.replace(",", "", regex=False), errors="coerce")
    if numbers.notna().all() and not written.str.fullmatch(r"\d{3}").all():
        return ""  # ISO 4217 numeric codes (840, 978) are codes
    codes = sorted({code.upper() if code.islower() else code for code in written})
    if len(codes) > 1:
        shown = ", ".join(codes[:MAX_EXAMPLES]) + (
            f" and {len(codes) - MAX_EXAMPLES} more" if len(codes) > MAX_EXAMPLES else ""
        )
        raise DataValidationError(
            f"{label} holds prices in {len(codes)} currencies ({shown} in its {column!r} column), whose "
            "returns a portfolio would mix silently; give every price in one currency (one file per currency)"
        )
    return f"{label}: ignored column(s) {column!r} (every price in {codes[0]})"


def _refuse_one_ticker_export(label: str, others: Sequence[str]) -> None:
    """A one-ticker export (every column besides the date a price field, two or more, one a
    close: yfinance's ``Date,Open,High,Low,Close,Volume``, Nasdaq.com's ``Date,Close/Last,
    Volume,Open,High,Low``, Investing.com's ``Date,Price,Open,High,Low,Vol.,Change %``) is
    refused in one sentence: it names no ticker. Read as wide it invented tickers OPEN, HIGH,
    VOLUME; read as long, Investing.com's volumes (``99.31M``) became tickers. A real wide
    file may hold tickers such as LOW and OPEN, never without a ticker that is not a field."""
    fields = {squash(c) for c in others}
    if len(others) == 1 and fields <= CLOSE_FIELD_NAMES:
        # One close column (Ticker.history()["Close"].to_csv(): Date,Close): read as wide it
        # was a ticker CLOSE (PRICE, LAST); a sentiment symbol then had no price.
        raise DataValidationError(
            f"{label} looks like a one-ticker series (its only price column is {others[0]!r}) without the "
            "ticker's name; name the column by its ticker (date,AAPL) or add a 'Ticker' column"
        )
    if len(fields) >= 2 and fields & CLOSE_FIELD_NAMES and fields <= ONE_TICKER_FIELD_NAMES:
        raise DataValidationError(
            f"{label} looks like a one-ticker export (Open/High/Low/Close columns) "
            "without the ticker's name; use columns date,<TICKER> (one column of adjusted closes per ticker) "
            "or add a 'Ticker' column"
        )


def _refuse_fields_beside_tickers(label: str, others: Sequence[str]) -> None:
    """A one-ticker export's fields (two or more, one a close) next to ticker columns (a
    download's ``history()`` with another ticker's closes joined: ``Date,Open,High,Low,Close,
    Volume,QQQ``) is refused in one sentence: read as wide, it invented tickers OPEN, HIGH,
    CLOSE and VOLUME (a volume as a price), and the ticker whose fields they are had none.
    Tickers that are field words (LOW, OPEN) without a close among them stay tickers."""
    fields = [c for c in others if squash(c) in ONE_TICKER_FIELD_NAMES]
    tickers = [c for c in others if c not in fields]
    if len(fields) < 2 or not tickers or not {squash(c) for c in fields} & CLOSE_FIELD_NAMES:
        return
    raise DataValidationError(
        f"{label} looks like a one-ticker export ({', '.join(repr(c) for c in fields[:MAX_EXAMPLES])} "
        f"columns) without the ticker's name, next to the ticker column(s) "
        f"{', '.join(repr(c) for c in tickers[:MAX_EXAMPLES])}; name that ticker's adjusted closes by the "
        "ticker (date,AAPL,QQQ) and remove its other columns, or give a long file with a 'Ticker' column"
    )


# Share of rows with a repeated date from which a file with a text column of tickers is
# long: 2 symbols over the same dates give 1.0, over 10 and 1 years 0.18; one repeated
# last row of a 2-year wide file 0.004.
LONG_REPEATED_SHARE = 0.1


def _refuse_long_without_close(
    raw: pd.DataFrame, label: str, date_column: str, others: Sequence[str]
) -> None:
    """A long file (dates repeat, one text column of several tickers) whose price column has
    a name that is not a close (``PRC``, ``PX_LAST``, ``value``) is refused in one sentence:
    read as wide, its price column became a ticker (PRC) holding one symbol's prices per
    date. In a long file most rows share their date with another row (one per symbol); a
    wide file repeats a date now and then (yfinance's live last row) and may hold a text
    column (an exchange, a source), which is not a symbol column: it stays wide when
    fewer than ``LONG_REPEATED_SHARE`` of its rows have a repeated date."""
    dates = raw[date_column].dropna()
    if not len(dates) or dates.duplicated(keep=False).mean() < LONG_REPEATED_SHARE:
        return
    for column in text_columns(raw, others):
        symbols = symbols_in(raw, column)
        if symbols.nunique() >= 2 and ticker_mask(symbols).mean() >= TICKER_COLUMN_SHARE:
            rest = ", ".join(repr(c) for c in others if c != column)
            raise DataValidationError(
                f"{label} looks like a long price file (the column {column!r} holds tickers and dates "
                f"repeat) but has no 'Close' or 'Adj Close' column (its other columns: {rest}); "
                "name the column of adjusted closes 'Adj Close' or 'close'"
            )


def _refuse_long_mixed_closes(
    raw: pd.DataFrame, label: str, symbol_column: str, adjusted_column: str, close_column: str
) -> None:
    """A long file with both an adjusted close and ``Close`` in which some tickers have no
    adjusted close at all, only ``Close``: ``refuse_mixed_closes`` (their rows were dropped
    as "close is empty", the tickers then failed, although the file holds their closes).
    The rule is the Yahoo export's (``_close_only_tickers``), on each ticker's two columns."""
    symbols = clean_symbols(raw[symbol_column])  # the reader's one spelling: aapl, $AAPL are AAPL
    columns = [
        (name, str(ticker), bool(filled))
        for name in (adjusted_column, close_column)
        for ticker, filled in to_numbers(raw[name]).notna().groupby(symbols).any().items()
    ]
    adjusted, close_only = _close_only_tickers(columns, adjusted_column)
    if adjusted and close_only:
        refuse_mixed_closes(label, adjusted, close_only)


# Share of rows with a number that makes a column of whole numbers a candidate ID column:
# a row without its ID is one dropped row ("symbol is empty"), not a reason to read the file
# as wide (at 90%, one missing PERMNO in six rows did).
ID_COLUMN_SHARE = 0.5


def _numeric_symbol_column(
    raw: pd.DataFrame, date_column: str, others: Sequence[str], price_column: str, label: str
) -> tuple[pd.DataFrame, str | None, tuple[str, ...]]:
    """(the table, the symbol column, the report's note) of a long price file whose symbols
    are numbers under a name that is not a known one (CRSP's ``PERMNO``, ``secid``, Korea's
    ``005930`` under ``krx``): next to a close column, the one other column of whole
    numbers that is no price field and, when dates repeat (``LONG_REPEATED_SHARE``), repeat
    across dates (at most half as many distinct as rows) and never twice on one date (a
    volume is none of these: its numbers hardly repeat). Read as wide, the IDs were "prices"
    of a ticker SECID and the closes a ticker CLOSE. The symbols are the numbers as written
    (``005930`` keeps its zeros; ``101.0`` is ``101``). Refused in one sentence: two such
    columns, and, when no date repeats, one column holding one whole number throughout
    (one symbol's file, or a constant such as an exchange code: not guessed). (raw, None,
    ()) when there is none."""
    dates = raw[date_column]
    if not len(dates.dropna()):
        return raw, None, ()
    repeated = dates.dropna().duplicated(keep=False).mean() >= LONG_REPEATED_SHARE
    found = []
    for column in others:
        if column == price_column or squash(column) in ONE_TICKER_FIELD_NAMES:
            continue
        numbers = to_numbers(raw[column])
        filled = numbers.notna()
        if not filled.any() or filled.mean() < ID_COLUMN_SHARE:
            continue
        values = numbers[filled]
        whole = np.isfinite(values.to_numpy()) & (values.to_numpy() % 1 == 0)
        distinct = values.nunique()
        if not whole.all():
            continue
        if repeated:
            unique_per_date = not pd.DataFrame({"date": dates[filled], "id": values}).duplicated().any()
            if 2 <= distinct <= len(values) / 2 and unique_per_date:
                found.append(column)
        elif distinct == 1 and len(values) >= 2:
            found.append(column)
    if len(found) > 1:  # IDs of two schemes (secid and permno): which one is not guessed
        names = ", ".join(repr(c) for c in found[:4])
        raise DataValidationError(
            f"{label} looks like a long price file (a {price_column!r} column next to the columns {names} of "
            "whole numbers that repeat on every date) but its symbol column is not recognised; name the "
            "column of tickers 'symbol'"
        )
    if not found:
        return raw, None, ()
    column = found[0]
    written = _whole_number_text(raw[column])
    if not repeated:  # one number throughout: a symbol, or a constant (an exchange code)?
        value = written.dropna().iloc[0]
        raise DataValidationError(
            f"{label} looks like one symbol's long price file (a {price_column!r} column next to the column "
            f"{column!r}, which holds the one whole number {value} throughout), not a wide file of tickers "
            f"{str(price_column).upper()!r} and {str(column).upper()!r}; if {value} is the symbol, name that "
            "column 'symbol', else drop the column"
        )
    ids = written.dropna().unique()
    examples = ", ".join(map(str, ids[:MAX_EXAMPLES])) + (", ..." if len(ids) > MAX_EXAMPLES else "")
    note = f"{label}: the numbers in column {column!r} read as the symbols ({examples})"
    return raw.assign(**{column: written}), column, (note,)


def _whole_number_text(cells: pd.Series) -> pd.Series:
    """Whole numbers as the text of a symbol: as written (leading zeros kept), without a
    decimal part of zeros (``101.0`` -> ``101``); a number stored as a float (Parquet) as
    its integer."""
    if pd.api.types.is_numeric_dtype(cells):  # whole numbers (checked): exact as Int64
        return cells.astype("Int64").astype("string")
    text = cells.astype("string").str.strip()
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _symbol_column_by_content(
    raw: pd.DataFrame, others: Sequence[str], price_column: str, label: str
) -> str | None:
    """The symbol column of a long price file whose name is not a known one (``security``,
    ``asset``, ``RIC`` ...): next to a close column, the one column of text (most cells not
    numbers) whose cells are ticker-shaped. None when no column holds text (a wide file);
    several text columns, or text that is not tickers, are refused in one sentence rather
    than read as a wide file whose "tickers" would be CLOSE, OPEN, VOLUME."""
    found, text = symbol_column_by_content(raw, [c for c in others if c != price_column])
    if found is not None or not text:
        return found
    for column in text:
        # Bloomberg's AAA US Equity, NASDAQ:AAA: symbols, but not tickers (a rename cannot help)
        cells = [str(c).strip() for c in raw[column].dropna().head(200)]
        exchanged = [c for c in cells if exchange_advice(c)]
        if exchanged and len(exchanged) >= TICKER_COLUMN_SHARE * len(cells):
            raise DataValidationError(
                f"{label} looks like a long price file whose symbols in {column!r} are not tickers, "
                f"e.g. {exchanged[0]!r}; {exchange_advice(exchanged[0])}"
            )
    names = ", ".join(repr(c) for c in text[:4])
    raise DataValidationError(
        f"{label} looks like a long price file (a {price_column!r} column next to the text column(s) "
        f"{names}) but its symbol column is not recognised; name the column of tickers 'symbol'"
    )


def yahoo_layout_to_wide(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, str | None]:
    """Accept Yahoo Finance exports: (Price, Ticker) columns, in Parquet or as yfinance's
    three-line CSV header (``Price,...`` / ``Ticker,...`` / ``Date,,...``), and the same two
    column levels under any other level names when a ``Date,,...`` line follows them
    (pandas-datareader's ``Attributes``/``Symbols``, ``Field``/``Ticker``). The price is the
    adjusted close when present, else ``Close`` (already adjusted with ``auto_adjust=True``;
    ``price_column_of``). Returns the frame (wide, with a ``date`` column, when it was an
    export) and the field used."""
    if isinstance(raw.columns, pd.MultiIndex) and raw.columns.nlevels == 2:
        field = None
        for level in (0, 1):
            # the level of price fields: yfinance's, with any name of the adjusted close
            # (other columns, such as yfinance's "Repaired?", may stand beside them)
            names = [str(f) for f in raw.columns.get_level_values(level) if squash(f) in _FLAT_FIELDS]
            field = price_column_of(names)
            if field is not None:
                break
        if field is None or isinstance(raw.index, pd.RangeIndex):
            return raw, None
        adjusted, close_only = _close_only_tickers(
            [(str(pair[level]), str(pair[1 - level]), bool(raw[pair].notna().any())) for pair in raw.columns],
            field,
        )
        if adjusted and close_only:
            refuse_mixed_closes(label, adjusted, close_only)
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
    top = [re.sub(r"\.\d+$", "", c) for c in columns[1:]]
    # One column level and its name above the "Date" line (yfinance's download()["Close"],
    # whose columns are named "Ticker"): a wide file whose tickers are the first line's names.
    one_level = first_cell == "ticker" and second_cell in ("date", "datetime")
    if one_level and raw.iloc[0, 1:].isna().all() and not _fields_row(top):
        return raw.iloc[1:].reset_index(drop=True).set_axis(["date", *raw.columns[1:]], axis=1), None
    # Other level names (pandas-datareader's get_data_yahoo([...]).to_csv(): Attributes,Adj
    # Close,... / Symbols,AAA,... / Date,,...; Field/Ticker, Price/Symbol) are read the same
    # when the third line is the "Date" line: it was "no 'date' column" though the same frame
    # in Parquet loaded.
    third = _cell_text(raw, 1, 0)
    date_line = third in ("date", "datetime") and raw.iloc[1, 1:].isna().all()
    named = first_cell in ("price", "ticker", "") and second_cell in ("price", "ticker", "")
    if not named and not (date_line and first_cell and second_cell):
        return raw, None
    below = [str(v).strip() for v in raw.iloc[0, 1:]]
    if _fields_row(top):
        fields, tickers = top, below
    elif _fields_row(below):
        fields, tickers = below, top
    else:
        return raw, None
    skip = 2 if third in ("date", "datetime", "") and raw.iloc[1, 1:].isna().all() else 1
    wanted = price_column_of(fields)
    picks = [i + 1 for i, f in enumerate(fields) if f == wanted]
    if not picks:
        return raw, None
    body_cells = raw.iloc[skip:]
    adjusted, close_only = _close_only_tickers(
        [(f, tickers[i], bool(body_cells.iloc[:, i + 1].notna().any())) for i, f in enumerate(fields)],
        str(wanted),
    )
    if adjusted and close_only:
        refuse_mixed_closes(label, adjusted, close_only)
    body = raw.iloc[skip:, [0, *picks]].reset_index(drop=True)
    body.columns = ["date", *(tickers[i - 1] for i in picks)]
    return body, wanted


# The price fields of a column named for a ticker and a field (squashed): R quantmod's
# AAPL.Adjusted, yfinance's fields, and the adjusted close under its other names.
_FLAT_ADJUSTED = frozenset(ADJUSTED_CLOSE_NAMES)  # the one list of the adjusted close's names
_FLAT_FIELDS = OHLCV_NAMES | _FLAT_ADJUSTED
_FLAT_SEPARATORS = "._ "
_TUPLE_NAME = re.compile(r"""^\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)$""")


def _ticker_and_field(name: str) -> tuple[str, str] | None:
    """(ticker, field as written) of a column named for both, in either order: quantmod's
    ``AAPL.Adjusted``, ``AAPL_Close``, ``Close AAPL``, ``Adj Close_BRK-B``, a flattened pandas
    MultiIndex ``('Close', 'AAPL')``; None for any other name (``AAPL``, ``BRK.B``, ``AAPL.O``)."""
    tupled = _TUPLE_NAME.match(name)
    pairs: list[tuple[str, str]] = []
    if tupled is not None:
        pairs = [(tupled.group(1), tupled.group(2)), (tupled.group(2), tupled.group(1))]
    else:
        for i, char in enumerate(name):
            if char in _FLAT_SEPARATORS and 0 < i < len(name) - 1:
                pairs.append((name[:i], name[i + 1 :]))
                if char != ".":  # Close.L is no field before a ticker: it is a ticker of London
                    pairs.append((name[i + 1 :], name[:i]))
    for ticker, field in pairs:
        ticker = normalise_ticker(ticker)
        if squash(field) in _FLAT_FIELDS and is_ticker(ticker) and squash(ticker) not in _FLAT_FIELDS:
            return ticker, field.strip()
    return None


def ticker_field_columns(others: Sequence[str], label: str) -> tuple[str, dict[str, str], str] | None:
    """A wide file whose columns each name a ticker and a price field (R quantmod's
    ``merge()`` of ``getSymbols`` written with ``write.csv``: ``AAPL.Open, AAPL.High, ...,
    AAPL.Adjusted, QQQ.Open, ...``; a flattened yfinance download ``AAPL_Close``): the field
    read (the adjusted close when every ticker has one, else ``Close``), {column: ticker}
    of its columns and the report's note on the other columns. Read as plain wide, the
    fields that look like share classes became tickers (``AAPL.OPEN``, ``AAPL.HIGH``, from
    the Open and High prices) and the closes were dropped. None when some column is not
    such a pair (a plain wide file). A file where only some tickers have an adjusted close is
    refused in one sentence (which close to use is not guessed ticker by ticker)."""
    parsed = {column: _ticker_and_field(str(column)) for column in others}
    if len(parsed) < 2 or any(pair is None for pair in parsed.values()):
        return None
    pairs = cast(dict[str, tuple[str, str]], parsed)
    tickers = sorted({ticker for ticker, _ in pairs.values()})
    by_kind: dict[str, dict[str, str]] = {"adjusted": {}, "close": {}}
    for column, (ticker, field) in pairs.items():
        kind = (
            "adjusted" if squash(field) in _FLAT_ADJUSTED else "close" if squash(field) == "close" else None
        )
        if kind is not None:
            best = by_kind[kind].get(ticker)
            # each ticker's most preferred adjusted close (a total-return one before a split-only one)
            if best is None or (kind == "adjusted" and _rank(field) < _rank(pairs[best][1])):
                by_kind[kind][ticker] = column
    if not by_kind["adjusted"] and not by_kind["close"]:
        return None
    kind = "adjusted" if by_kind["adjusted"] else "close"
    picks = by_kind[kind]
    missing = [t for t in tickers if t not in picks]
    if kind == "adjusted" and missing and all(t in by_kind["close"] for t in missing):
        refuse_mixed_closes(label, list(picks), missing)
    field = pairs[next(iter(picks.values()))][1]
    ignored = [c for c in others if c not in picks.values()]
    note = f"{label}: read each ticker's {field!r} column" + (
        f"; ignored the other {len(ignored)} column(s) ({', '.join(repr(c) for c in ignored[:MAX_EXAMPLES])}"
        + (", ...)" if len(ignored) > MAX_EXAMPLES else ")")
        if ignored
        else ""
    )
    return field, {column: pairs[column][0] for column in picks.values()}, note


def refuse_mixed_closes(label: str, adjusted: Sequence[str], close_only: Sequence[str]) -> None:
    """Refuse a file in which some tickers have an adjusted close and others only ``Close``
    (one sentence, every layout: ticker-and-field columns, the Yahoo export, long). Which
    close to use is not guessed ticker by ticker: adjusted and unadjusted closes differ by
    every dividend and split since, and a ticker without its adjusted close silently missing
    from the universe (the Yahoo export read only ``Adj Close``) is a wrong portfolio."""
    raise DataValidationError(
        f"{label} has an adjusted close for {', '.join(sorted(adjusted)[:5])} but only 'Close' for "
        f"{', '.join(sorted(close_only)[:5])}; give every ticker the same kind of close"
    )


def _close_only_tickers(columns: Sequence[tuple[str, str, bool]], wanted: str) -> tuple[list[str], list[str]]:
    """(tickers with values under ``wanted``, tickers with values under a close only) of a
    file's (field, ticker, has values) columns: a two-level export's, or a long file's two
    close columns per ticker; both empty unless ``wanted`` is an adjusted close."""
    if squash(wanted) not in _FLAT_ADJUSTED:
        return [], []
    adjusted = {ticker for field, ticker, filled in columns if field == wanted and filled}
    closes = {ticker for field, ticker, filled in columns if squash(field) in CLOSE_NAMES and filled}
    return sorted(adjusted), sorted(closes - adjusted)


def _rank(field: str) -> int:
    rank = adjusted_rank(field)
    return len(ADJUSTED_CLOSE_NAMES) if rank is None else rank


def _cell_text(frame: pd.DataFrame, row: int, column: int) -> str:
    """The stripped, lower-case text of one cell; "" for an empty cell."""
    # pandas-stubs types a cell more widely (Period, Interval, ...) than pd.isna accepts.
    value: Any = frame.iloc[row, column]
    return "" if pd.isna(value) else str(value).strip().lower()


def _fields_row(names: Sequence[str]) -> bool:
    """True when every name is a price field (yfinance's, or a close or adjusted close under
    any of its names) and one of them is a close."""
    squashed = {squash(n) for n in names} - _EXPORT_FLAGS
    return bool(squashed) and squashed <= _FLAT_FIELDS and bool(squashed & CLOSE_FIELD_NAMES)


# Fields of yfinance's exports that are no price: download(repair=True) adds "Repaired?".
_EXPORT_FLAGS = frozenset({"repaired"})


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
    rows, dates, date_format, symbols, date_notes = date_symbol_rows(
        raw, label, options, empty, date_column, symbol_column
    )
    notes = date_notes + notes
    refuse_intraday(raw[date_column], dates, label, symbols)
    closes = to_numbers(raw[close_column])
    # Beside a plain 'Close' the reason names the adjusted close: "close is empty" was
    # false for a row whose 'Close' is there (it is not used: the two do not mix).
    beside_close = squash(close_column) in _FLAT_ADJUSTED and find_column(raw.columns, CLOSE_NAMES) not in (
        None,
        close_column,
    )
    name = f"adjusted close ({close_column!r})" if beside_close else "close"
    drop_bad_numbers(rows, raw[close_column], closes, name, required=True, positive=True)
    frame = pd.DataFrame({"date": dates, "symbol": symbols, "close": closes})
    rows.drop(
        stale_copies(
            dates.to_numpy(), np.asarray(symbols, dtype=object), closes.to_numpy(dtype=np.float64), rows.keep
        ),
        STALE_COPY_ROW,
    )
    drop_repeated_keys(rows, frame, ["close"])
    kept = frame[rows.keep]
    dropped = tuple(rows.dropped)
    if kept.empty:
        raise DataValidationError(
            f"{label} has no usable prices ({dropped_summary(dropped)}){refusal_advice(dropped)}"
        )
    wide = kept.pivot(index="date", columns="symbol", values="close")
    ignored = [c for c in raw.columns if c not in (date_column, symbol_column, close_column)]
    warnings = notes + ignored_column_notes(raw, ignored, label)
    wide, stale = without_filled_days(wide, unit="rows")
    return _finish_prices(
        wide,
        label=label,
        rows_read=len(raw),
        rows_kept=len(kept) - sum(d.count for d in stale),
        dropped=dropped + stale,
        warnings=warnings,
        reading=dataclasses.replace(read, date_format=date_format),
    )


def _row_numbers(raw: pd.DataFrame, column: str) -> bool:
    """True for a column named ``index`` (or ``level_0``) holding 0, 1, 2, ... or 1, 2, 3, ...:
    the row numbers ``reset_index()`` writes, never a ticker INDEX with 'prices' 1, 2, 3; or
    for a nameless column of row numbers (``to_csv()`` after ``reset_index()``, R's
    ``write.csv``: header ``,date,AAA``, ``holds_row_numbers``)."""
    if is_nameless(column):
        return holds_row_numbers(raw[column])
    if squash(column) not in ("index", "level0"):
        return False
    numbers = to_numbers(raw[column]).dropna()
    if numbers.empty:
        return False
    steps = np.diff(numbers.to_numpy())
    return bool(numbers.iloc[0] in (0, 1) and (steps == 1).all())


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
    names = {c: normalise_ticker(c) for c in value_columns}
    not_tickers = [
        c
        for c in value_columns
        if not is_ticker(names[c]) or _ticker_and_field(c) is not None or _row_numbers(raw, c)
    ]
    numbering = [c for c in not_tickers if _row_numbers(raw, c)]
    if numbering:
        dropped.append(
            ignored_columns(
                "column holds row numbers (a saved pandas or R index), not prices (column ignored)", numbering
            )
        )
    share_classes = [c for c in not_tickers if is_spaced_share_class(c)]
    if share_classes:
        dropped.append(
            ignored_columns(
                f"column name is {share_class_reason(share_classes)} (column ignored)", share_classes
            )
        )
    # AAPL.Open next to plain tickers: a ticker and a price field, never a ticker AAPL.OPEN.
    fields = [c for c in not_tickers if c not in share_classes and _ticker_and_field(c) is not None]
    if fields:
        dropped.append(
            ignored_columns(
                "column name is a ticker and a price field, in a file whose other columns are tickers "
                "(name each ticker's adjusted-close column by the ticker alone; column ignored)",
                fields,
            )
        )
    others = [c for c in not_tickers if c not in share_classes and c not in fields and c not in numbering]
    nameless = [c for c in others if is_nameless(c)]  # values under an empty header cell
    others = [c for c in others if c not in nameless]
    if nameless:
        dropped.append(ignored_columns("column has no name in the header (column ignored)", nameless))
    # NASDAQ:AAA, AAA US Equity: a ticker written with its exchange is not a ticker (never stripped)
    exchanged = [c for c in others if exchange_advice(c)]
    others = [c for c in others if c not in exchanged]
    if exchanged:
        dropped.append(
            ignored_columns(
                f"column name is not a ticker but a ticker with its exchange ({exchange_advice(exchanged[0])}; "
                "column ignored)",
                exchanged,
            )
        )
    if others:
        dropped.append(ignored_columns("column name is not a ticker (column ignored)", others))
    seen: dict[str, str] = {}
    for column in value_columns:
        if column not in not_tickers:
            seen.setdefault(names[column], column)
    repeated = [c for c in value_columns if c not in not_tickers and seen[names[c]] != c]
    if repeated:
        dropped.append(
            ignored_columns(
                "duplicate ticker column (the same ticker in another case); the first one is kept, "
                "its empty cells taken from this one (column ignored)",
                repeated,
            )
        )
    if not seen and exchanged:
        shown = ", ".join(repr(c) for c in exchanged[:MAX_EXAMPLES])
        raise DataValidationError(
            f"{label} has no ticker columns besides 'date': its columns {shown} are not tickers; "
            f"{exchange_advice(exchanged[0])}"
        )
    if not seen:
        raise DataValidationError(
            f"{label} has no ticker columns besides 'date' (expected e.g. date,AAPL,MSFT)"
        )
    rows = RowFilter(len(raw))
    rows.drop(empty, "empty row")
    dates, date_format, date_notes = read_dates(raw[date_column], label, options, column=date_column)
    notes = date_notes + notes
    refuse_intraday(raw[date_column], dates, label)
    rows.drop(dates.isna().to_numpy(), INVALID_DATE, examples=written_dates(raw[date_column]))
    values = pd.DataFrame({symbol: to_numbers(raw[column]) for symbol, column in seen.items()})
    present = pd.DataFrame(
        {symbol: non_empty(raw[column], values[symbol]) for symbol, column in seen.items()}
    )
    for column in repeated:  # aaa after AAA: the first valid price per cell, as for repeated dates
        symbol = names[column]
        later = to_numbers(raw[column])
        fill = (values[symbol].isna() & ~present[symbol] & later.notna()).to_numpy()
        values.loc[fill, symbol] = later[fill]
        present.loc[fill, symbol] = True
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
        reason = dropped_summary(tuple(dropped)) if dropped else "every ticker column is empty"
        raise DataValidationError(f"{label} has no usable prices ({reason})")
    # A stale copy of a repeated date yields, ticker by ticker, to a copy with the day's price:
    # the rule of the long layout and of a download, so that no column decides another's (the
    # benchmark's or an unused column's repeated close made the held symbols' real copy
    # "stale" too when a wide row yielded whole: breaker pass 5, F2).
    stale_cells = _stale_cells(dates.to_numpy(), np.asarray(values.columns, dtype=object), numbers, rows.keep)
    if stale_cells.any():
        where = np.argwhere(stale_cells)[:MAX_EXAMPLES]
        examples = tuple(f"{values.columns[j]} row {i + 1}" for i, j in where)
        dropped.append(
            DroppedRows(reason=STALE_COPY_CELL, count=int(stale_cells.sum()), examples=examples, unit="cells")
        )
        numbers = np.where(stale_cells, np.nan, numbers)
        # A copy whose every price was stale holds no price now: said so, not "no price".
        rows.drop(stale_cells.any(axis=1) & ~np.isfinite(numbers).any(axis=1), STALE_COPY_DATE_ROW)
    # A date on which no ticker has a price is not a trading day (yfinance writes some
    # holidays as empty rows); it must not become a day of zero returns.
    # A priceless copy of a date that has prices in another row (yfinance #765's empty first
    # copy of the last date) is a duplicate, not a holiday: said so, never "not a trading day".
    priceless = ~np.isfinite(numbers).any(axis=1)
    priced_dates = pd.Index(dates[rows.keep & ~priceless].dropna().unique())
    copies = priceless & rows.keep & dates.isin(priced_dates).to_numpy()
    rows.drop(copies, "duplicate date row with no price (the date's prices are in another row)")
    rows.drop(priceless, "no ticker has a price on this date (not a trading day)")
    # Duplicate dates: for each ticker, the first valid price of that date is kept.
    repeats = duplicated_valid(dates, rows.keep)
    body = pd.DataFrame(numbers, columns=list(values.columns))
    body["__date"] = dates.to_numpy()
    valid = rows.keep
    merged = body[valid].groupby("__date", sort=True).first()
    if repeats.any():
        kept = merged.reindex(dates[repeats].to_numpy()).to_numpy(dtype=float)
        rows.drop(
            conflicting_repeats(repeats, numbers[repeats], kept),
            "duplicate date row with a different price; for each ticker the first valid price of the date is kept",
        )
    rows.drop(repeats, "duplicate date row; for each ticker the first valid price of the date is kept")
    wide = merged.set_axis(merged.index.rename(None), axis=0)
    wide, stale = without_filled_days(wide, unit="dates")
    all_dropped = tuple(rows.dropped) + tuple(dropped) + stale
    if wide.empty:
        raise DataValidationError(
            f"{label} has no usable rows ({dropped_summary(all_dropped)}){refusal_advice(all_dropped)}"
        )
    return _finish_prices(
        wide,
        label=label,
        rows_read=len(raw),
        rows_kept=len(wide),
        dropped=all_dropped,
        warnings=notes,
        reading=dataclasses.replace(read, date_format=date_format),
    )


# A repeated date's copy that repeats the previous close (a feed that wrote the day's row
# before the close, filled forward) next to a copy with another price (breaker pass 3, F4).
STALE_COPY_CELL = (
    "price of a repeated date that repeats the ticker's previous kept close (a stale copy, filled "
    "forward) while another copy of the date has another price (cell left empty; the other copy's "
    "price is used)"
)
STALE_COPY_DATE_ROW = (
    "duplicate date row whose every price is a stale copy (the date's prices are in another row)"
)
STALE_COPY_ROW = (
    "duplicate (date, symbol) row whose close repeats the symbol's previous close (a stale copy, "
    "filled forward); the row of the date with another close is kept"
)
# A download (Yahoo Finance) is resolved ticker by ticker: a ticker's price on a date is a cell.
STALE_COPY_PRICE = (
    "price of a repeated date in the download that repeats the ticker's previous close (a stale copy, "
    "filled forward) while another copy of the date has another price (the other copy's price is used)"
)
REPEATED_PRICE = "price of a repeated date in the download that differs from the kept one; the first valid price of the date is kept"
REPEATED_SAME_PRICE = "price of a repeated date in the download, equal to the kept one (one copy is kept)"


def _stale_cells(dates: np.ndarray, tickers: np.ndarray, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(rows, tickers) bool: the prices of a wide table (``values``, NaN for no price;
    ``keep``: rows still used) that yield under the duplicate rule, each ticker on its own
    column (``stale_copies``): a price of a repeated date that repeats the ticker's previous
    kept close while another copy has another price there."""
    n_rows, n_tickers = values.shape
    if n_rows < 2 or not pd.Index(dates[keep]).duplicated().any():
        return np.zeros(values.shape, dtype=bool)
    return stale_copies(
        np.repeat(dates, n_tickers), np.tile(tickers, n_rows), values.ravel(), np.repeat(keep, n_tickers)
    ).reshape(values.shape)


def stale_copies(dates: np.ndarray, symbols: np.ndarray, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(n,) bool: the rows of a long table (one (date, symbol, close) each) that yield under
    the duplicate rule of every price layout, each symbol on its own: among the copies
    of a (date, symbol), a close that repeats the symbol's previous KEPT close yields to a
    copy with another close (dates in order: two stale days in a row both yield). In this
    layout a row stands alone, so a flat close (the symbol did not trade, or closed
    unchanged) written next to a copy with another close yields too: it cannot be told from
    a stale copy. When every copy repeats it (a flat close written twice) nothing yields.
    ``keep``: rows still used; NaN closes are never copies. Every symbol is resolved at once,
    date by date (a feed that writes each day twice: one step per date, not per symbol)."""
    out = np.zeros(len(values), dtype=bool)
    cells = np.flatnonzero(keep & np.isfinite(values))
    if len(cells) < 2:
        return out
    codes, names = pd.factorize(symbols[cells])
    days = pd.factorize(dates[cells], sort=True)[0]
    order = np.lexsort((cells, codes, days))  # by date, then symbol, then file order
    cells, codes, days = cells[order], codes[order], days[order]
    value = values[cells]
    starts = np.flatnonzero(np.r_[True, (days[1:] != days[:-1]) | (codes[1:] != codes[:-1])])
    group = np.zeros(len(cells), dtype=np.int64)
    group[starts[1:]] = 1
    group = np.cumsum(group)  # the (date, symbol) of each row
    counts = np.diff(np.r_[starts, len(cells)])
    contested = (counts > 1) & ~same_price(
        np.maximum.reduceat(value, starts), np.minimum.reduceat(value, starts)
    )
    if not contested.any():
        return out
    kept = value[starts].copy()  # the first close of each (date, symbol)
    group_day, group_symbol = days[starts], codes[starts]
    last = np.full(len(names), np.nan)  # each symbol's kept close on its last date so far
    done = 0  # groups whose kept close is in ``last``
    for day in np.unique(group_day[contested]):
        first = int(np.searchsorted(group_day, day))
        if first > done:
            block = group_symbol[done:first][::-1]
            symbol, at = np.unique(block, return_index=True)
            last[symbol] = kept[done:first][::-1][at]
            done = first
        stop = int(np.searchsorted(group_day, day, side="right"))
        rows = np.flatnonzero(
            contested[group[starts[first] : starts[stop] if stop < len(starts) else len(cells)]]
        )
        rows += starts[first]
        mine, previous = group[rows] - first, last[codes[rows]]
        repeats = same_price(value[rows], previous)
        moved = np.bincount(mine, weights=~repeats & np.isfinite(previous), minlength=stop - first) > 0
        stale = repeats & moved[mine]
        every = np.bincount(mine, weights=stale, minlength=stop - first) == counts[first:stop]
        stale &= ~every[mine]
        fresh, at = np.unique(mine[~stale], return_index=True)
        kept[first + fresh] = value[rows[~stale][at]]
        out[cells[rows[stale]]] = True
    return out


def resolve_repeated_closes(
    closes: dict[str, pd.Series],
) -> tuple[dict[str, pd.Series], tuple[DroppedRows, ...]]:
    """Each ticker's closes (a download: positive prices indexed by date, possibly with a
    date written twice, yfinance #765) with one price per date, and the dropped groups (unit
    ``cells``: a ticker's price on a date). The rule of the long layout, ticker by ticker
    (``stale_copies``): a price that repeats the previous kept close yields to a copy with
    another price; otherwise the first price of the date is kept."""
    out: dict[str, pd.Series] = {}
    found: dict[str, list[str]] = {STALE_COPY_PRICE: [], REPEATED_PRICE: [], REPEATED_SAME_PRICE: []}
    for ticker, series in closes.items():
        if series.index.is_unique:
            out[ticker] = series
            continue
        dates = pd.DatetimeIndex(series.index).to_numpy()
        values = series.to_numpy(dtype=np.float64)
        stale = stale_copies(dates, np.full(len(values), ticker, dtype=object), values, np.isfinite(values))
        rest = series[~stale]
        repeats = rest.index.duplicated(keep="first")
        first = rest[~repeats]
        kept = first.reindex(rest.index[repeats]).to_numpy(dtype=np.float64)
        differ = ~same_price(rest.to_numpy(dtype=np.float64)[repeats], kept)
        for reason, days in (
            (STALE_COPY_PRICE, series.index[stale]),
            (REPEATED_PRICE, rest.index[repeats][differ]),
            (REPEATED_SAME_PRICE, rest.index[repeats][~differ]),
        ):
            found[reason].extend(f"{ticker} {pd.Timestamp(day):%Y-%m-%d}" for day in days)
        out[ticker] = first
    dropped = tuple(
        DroppedRows(reason=reason, count=len(cells), examples=tuple(cells[:MAX_EXAMPLES]), unit="cells")
        for reason, cells in found.items()
        if cells
    )
    return out, dropped


# A Saturday or Sunday whose every price repeats the previous day's (a calendar-day file,
# pandas' resample("D").ffill(), a spreadsheet that fills weekends) is no trading day.
STALE_WEEKEND = (
    "a weekend date whose every price repeats the previous day's (filled forward, not a trading day)"
)
# A weekday holiday written by reindexing onto a business-day grid and filling forward
# (prices.reindex(pd.bdate_range(...)).ffill()): every priced ticker repeats its close.
STALE_WEEKDAY = (
    "an NYSE holiday on which every price repeats the previous day's (filled forward, not a trading day)"
)


def without_filled_days(wide: pd.DataFrame, *, unit: str) -> tuple[pd.DataFrame, tuple[DroppedRows, ...]]:
    """``wide`` (dates x tickers, closes) without its forward-filled non-trading rows, and
    their dropped groups (reasons ``STALE_WEEKEND`` and ``STALE_WEEKDAY``).

    The one rule for every price layout (wide, long, yfinance exports, Yahoo downloads): a row
    is filled forward when every ticker priced on it repeats its previous close, "repeats"
    meaning equal up to rounding (``engine.dispersion.same_price``: 10.100000000000001 repeats 10.1),
    and the day is a Saturday or a Sunday, or a weekday on which the NYSE held no session
    (``engine.data.calendar.exchange_holidays``). Kept, such a row was a trading day at a
    stale close: a month ending on Saturday 30 April (or on Memorial Day, Monday 31 May 2021)
    was bought at that day's "close", the previous close, on a signal that counted sentiment
    dated after it (look-ahead), and every such day added a zero return to the volatility.
    A session on which every ticker closes unchanged is kept: flat closes alone cannot tell a
    holiday from a quiet day (a stable-NAV money-market fund, a few illiquid names; dropping
    every all-flat weekday dropped 59 of the 64 sessions of the drawdown-dates field case).
    A row with a price that moved (a market open on weekends) is kept. ``unit``: "dates" (a
    wide file, one row per date: the count is of dates) or any other text (a long file or a
    download: the count is of priced cells)."""
    wide = wide.sort_index()
    values = wide.to_numpy(dtype=np.float64)
    previous = wide.ffill().shift(1).to_numpy(dtype=np.float64)
    priced = np.isfinite(values)
    repeats = np.where(priced, same_price(values, previous), True).all(axis=1)
    compared = (priced & np.isfinite(previous)).any(axis=1)
    days = pd.DatetimeIndex(wide.index)
    weekend = days.day_of_week.to_numpy() >= 5
    holiday = exchange_holidays(days)
    groups: list[DroppedRows] = []
    stale = np.zeros(len(wide), dtype=bool)
    for reason, kind in ((STALE_WEEKEND, weekend), (STALE_WEEKDAY, holiday)):
        filled = kind & repeats & compared
        if not filled.any():
            continue
        stale |= filled
        count = int(filled.sum()) if unit == "dates" else int(priced[filled].sum())
        groups.append(DroppedRows(reason=reason, count=count, examples=_day_examples(wide.index, filled)))
    if not stale.any():
        return wide, ()
    return wide[~stale], tuple(groups)


def _day_examples(index: pd.Index, mask: np.ndarray) -> tuple[str, ...]:
    return tuple(f"{d:%Y-%m-%d} ({d:%a})" for d in pd.DatetimeIndex(index)[mask][:MAX_EXAMPLES])


# Alive: a symbol priced within this many calendar days up to and including a date counts
# in that date's majority (a delisted or long-halted symbol does not count against it).
ALIVE_DAYS = 10


def _and(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def trading_days_of(
    prices: pd.DataFrame,
    holdable: Sequence[str],
    *,
    whose: str,
    cells: bool = False,
    first_rows: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, tuple[DroppedRows, ...]]:
    """``prices`` (the columns a run selected: dates x tickers) on the run's trading days,
    and the dates dropped, by reason. The one calendar rule of every run (backtest, sweep,
    signal analysis, stock analysis; every layout and source).

    The universe of a date d: the ``holdable`` columns (the sentiment's symbols that have
    prices; the symbols a stock analysis was asked for) whose first sentiment row
    (``first_rows``; none given: every holdable column) and first close are both on or
    before d (its *join*); before the first join, the symbols that join then. d is a trading
    day when (a) a symbol of its universe has a price on d (before the first join, an NYSE
    session on which any column is priced: the lookback history of risk-based weights,
    which a symbol listing later must not cut; breaker pass 5, F1), and (b) d is an NYSE session (``engine.data.calendar``;
    outside the calendar's range, Monday to Friday), or, on a weekend or NYSE holiday, more
    than half of the universe's symbols alive on d (priced within ``ALIVE_DAYS`` calendar
    days up to d) have a genuine price on d, one that does not repeat the symbol's previous
    close. Causal: a symbol whose sentiment starts after d does not decide d (breaker pass 4,
    F1: a BTC-USD with sentiment from June made the Saturdays of a US-stock run trading days
    before it: April entered on Sat 04-30, May in cash, where entry 05-02 and 3.7255% are
    right). A minority priced on a weekend or holiday (a stray Saturday quote of an illiquid
    symbol, a London listing on July 4) makes no entry day on which the majority's picks
    have no close (F2: 0.00% where +2.1211% is right), and the same data spelled with the
    holiday's closes filled forward gives the same calendar. A market open every day (a
    crypto universe) keeps its weekends. Never decided by a column the run only reports (the
    benchmark) or does not use (breaker pass 3, F1): another column's price on a dropped
    date is not lost, its return runs from the previous trading day's close to the next
    one's. With no holdable column every column decides. ``whose``: how the reasons name the
    holdable columns ("the sentiment's symbols"); ``cells``: count the priced cells of the
    dropped dates (a long file's rows), else the dates."""
    judged = [c for c in prices.columns if c in set(holdable)] or list(prices.columns)
    prices = prices.sort_index()
    days = pd.DatetimeIndex(prices.index)
    values = prices.to_numpy(dtype=np.float64)
    priced = np.isfinite(values)
    position = {c: i for i, c in enumerate(prices.columns)}
    # The universe of each date (dates x columns): the judged columns that have joined by
    # then (sentiment started and a close); before the first join, those of the first join
    # (every judged column would let a symbol whose sentiment starts after a day D decide the
    # days before the first join: not causal).
    universe = np.zeros(values.shape, dtype=bool)
    starts = {c: pd.Timestamp(first_rows[c]) for c in judged if first_rows and c in first_rows}
    # A symbol joins the universe once it has both its first sentiment row and its first
    # close: whether a symbol without a close yet lists later is not known on the day (cut
    # after D, the file holds no close of it and it is a failed ticker). Its sentiment start
    # alone let a symbol listing after D, from the first sentiment date, drop the sessions
    # before the others' sentiment began, the lookback of their weights (breaker pass 9).
    joins = {c: max(start, _first_close(days, priced[:, position[c]], start)) for c, start in starts.items()}
    earliest = min(joins.values()) if joins else None
    for c in judged:
        start = joins.get(c)
        # start == earliest: a symbol of the first join (sentiment and a close), in every date's universe
        universe[:, position[c]] = True if start is None or start == earliest else (days >= start)
    groups: list[DroppedRows] = []
    drop = np.zeros(len(prices), dtype=bool)

    def group(reason: str, mask: np.ndarray) -> DroppedRows:
        examples = _day_examples(prices.index, mask)
        if not cells:
            return DroppedRows(reason=reason, count=int(mask.sum()), examples=examples)
        # A long file's rows are its priced cells; dates whose every cell was dropped before
        # (a symbol not needed) are still said, counted as dates.
        count = int(priced[mask].sum())
        if count:
            return DroppedRows(reason=reason, count=count, examples=examples)
        return DroppedRows(reason=reason, count=int(mask.sum()), examples=examples, unit="dates")

    # (a) no symbol of the date's universe priced: not a trading day. Before the first join
    # (the lookback history of risk-based weights) an NYSE session priced by any column is
    # kept: a symbol whose sentiment starts first may list later (an IPO),
    # and dropping every session before it cut the other holdings' lookback windows
    # (breaker pass 5, F1: min-variance weights 0.2045/0.7955 where 0.1954/0.8046 are right).
    unpriced = ~(priced & universe).any(axis=1)
    weekend = days.day_of_week.to_numpy() >= 5
    off_days = non_sessions(days)
    if earliest is not None:
        unpriced &= ~((days < earliest) & ~off_days & priced.any(axis=1))
    # Each dropped date names every column priced on it (none is in the date's universe).
    by_names: dict[tuple[str, ...], np.ndarray] = {}
    for i in np.flatnonzero(unpriced):
        names = tuple(str(c) for c, p in zip(prices.columns, priced[i], strict=True) if p)
        by_names.setdefault(names, np.zeros(len(prices), dtype=bool))[i] = True
    for names, mask in by_names.items():
        if not names:
            # the date's row holds only columns the run does not use (dropped before)
            reason = f"none of {whose} has a price on this date, only other symbols (not a trading day)"
        else:
            later = [n for n in names if n in starts]
            notes = [f"{n}'s sentiment starts on {starts[n]:%Y-%m-%d}" for n in later]
            if len(names) > len(later):
                others = [n for n in names if n not in starts]
                notes.append(
                    f"{_and(others)}'s return runs from the previous trading day's close to the next one's"
                    if len(others) == 1
                    else f"the returns of {_and(others)} run from the previous trading day's close to the next one's"
                )
            reason = (
                f"none of {whose} has a price on this date, only {_and(list(names))} "
                f"(not a trading day; {'; '.join(notes)})"
            )
        groups.append(group(reason, mask))
        drop |= mask
    # (b) a weekend or NYSE holiday is a trading day when most of the universe's live symbols
    # have a genuine price on it (not a repeat of the symbol's previous close).
    off = off_days & ~drop
    if off.any():
        previous = prices.ffill().shift(1).to_numpy(dtype=np.float64)
        genuine = priced & ~same_price(values, previous) & universe
        last_priced = pd.DataFrame(
            np.where(priced, days.to_numpy()[:, None], np.datetime64("NaT")), index=days
        ).ffill()
        recent = (days.to_numpy()[:, None] - last_priced.to_numpy(dtype="datetime64[ns]")) < np.timedelta64(
            ALIVE_DAYS, "D"
        )
        alive = recent & universe
        column_names = np.asarray(prices.columns, dtype=object)
        reasons: dict[str, np.ndarray] = {}
        for i in np.flatnonzero(off):
            n_alive, n_new = int(alive[i].sum()), int(genuine[i].sum())
            if 2 * n_new > n_alive:
                continue
            day = "a weekend date" if weekend[i] else "an NYSE holiday"
            if n_new == 0:
                reason = (
                    f"{day} on which every price of {whose} repeats the previous day's "
                    "(filled forward, not a trading day)"
                )
            else:
                reason = (
                    f"{day} on which only {n_new} of the {n_alive} of {whose} priced in the "
                    f"{ALIVE_DAYS} days to it ({', '.join(map(str, column_names[genuine[i]]))}) "
                    f"{'has' if n_new == 1 else 'have'} a new price "
                    "(not a trading day: a weekend or holiday needs more than half)"
                )
            reasons.setdefault(reason, np.zeros(len(prices), dtype=bool))[i] = True
        for reason, mask in reasons.items():
            groups.append(group(reason, mask))
            drop |= mask
        # On a weekend or holiday that stays a trading day (most of the universe trades: a
        # crypto majority), a symbol whose price repeats its previous close there did not
        # trade (its market was closed: the close filled forward). Left empty: it is not
        # bought at Friday's close on a Sunday entry chosen with Saturday's rows (breaker
        # pass 5, F3: -1.5075% with the weekend filled forward against a month in cash with
        # it written empty; now the same, and no stale price is an entry close).
        closed = priced & universe & ~genuine & (off & ~drop)[:, None]
        if closed.any():
            where = np.argwhere(closed)[:MAX_EXAMPLES]
            prices = prices.mask(closed)
            groups.append(
                DroppedRows(
                    reason=(
                        "price of a weekend or holiday trading day that repeats the symbol's previous close "
                        "(its market was closed: the close filled forward; cell left empty)"
                    ),
                    count=int(closed.sum()),
                    examples=tuple(f"{prices.columns[j]} {days[i]:%Y-%m-%d}" for i, j in where),
                    unit="cells",
                )
            )
    if not drop.any():
        return prices, tuple(groups)
    return prices[~drop], tuple(groups)


def _first_close(days: pd.DatetimeIndex, priced: np.ndarray, fallback: pd.Timestamp) -> pd.Timestamp:
    """The date of a column's first close (``fallback`` when it has none)."""
    return pd.Timestamp(days[int(priced.argmax())]) if priced.any() else fallback


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
        reason = dropped_summary(dropped) if dropped else "every ticker column is empty"
        raise DataValidationError(f"{label} has no usable prices ({reason}){refusal_advice(dropped)}")
    report = ValidationReport(
        rows_read=rows_read,
        rows_kept=rows_kept,
        dropped=dropped,
        warnings=warnings + ((f"prices: no usable price for {', '.join(empty)}",) if empty else ()),
        symbols=tuple(wide.columns),
        failed_tickers=tuple(sorted(empty)),
        first_date=iso_day(wide.index.min()),
        last_date=iso_day(wide.index.max()),
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
    other = np.array([c not in set(selected) for c in frame.columns], dtype=bool)
    examples = tuple(repr(str(c)) for c in frame.columns[other][:MAX_EXAMPLES])
    if not long:
        # A wide file's unused symbols are columns (its rows are dates): said as such, as
        # the long layout says their rows, so the same data reads the same in both layouts.
        outside = int((~in_window).sum())
        dropped = [DroppedRows(reason=window_reason(start, end), count=outside)] if outside else []
        if other.any():
            dropped.append(
                DroppedRows(reason=UNUSED_SYMBOL, count=int(other.sum()), examples=examples, unit="columns")
            )
        return report.rows_kept - outside, tuple(dropped)
    cells = frame.notna().to_numpy()
    outside = int(cells[~in_window].sum())
    unused = int(cells[in_window][:, other].sum())
    out: list[DroppedRows] = []
    if outside:
        out.append(DroppedRows(reason=window_reason(start, end), count=outside))
    if unused:
        out.append(DroppedRows(reason=UNUSED_SYMBOL, count=unused, examples=examples))
    return report.rows_kept - outside - unused, tuple(out)


UNUSED_SYMBOL = "symbol not needed (not in the sentiment data, not the benchmark)"


def select_prices(
    prices: pd.DataFrame, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Columns ``symbols`` of a clean price frame between ``start`` and ``end`` (inclusive).

    Symbols absent from the frame, or with no price in the window, are failed tickers.
    """
    wanted = sorted({normalise_ticker(str(s)) for s in symbols})
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
        first_date=iso_day(out.index.min()) if len(out) else None,
        last_date=iso_day(out.index.max()) if len(out) else None,
    )
