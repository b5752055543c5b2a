"""Fuzzing the sentiment and price loaders beyond tests/engine/data/test_validation.py.

test_validation.py already fuzzes short UTF-8 CSV cells and 64 random bytes. Here: other
encodings (latin-1, UTF-16 with BOM, cp1252), extreme numbers (1e400, 400-digit integers,
NaN, infinities), dates at and beyond pandas' nanosecond range (1677, 2262, 9999),
duplicate and unsorted dates, formula-injection symbols, and Parquet files with odd column
types. Each example either loads into the documented shape or raises an ``EngineError``
whose message is one clean line (``assert_user_message``).
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine import SENTIMENT_COLUMNS, is_ticker

from . import assert_user_message, binaries, texts

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FORMULAS = ("=cmd|' /C calc'!A0", "+1", "@SUM(1)", "-2+3", '=HYPERLINK("http://x")', "\t=1")
EXTREME_DATES = (
    "1677-09-21",
    "1677-09-22",
    "2262-04-11",
    "2262-04-12",
    "9999-12-31",
    "0001-01-01",
    "1899-12-31",
    "2199-12-31",
    "2021-02-30",
    "20210104",
    "01/04/2021",
    "",
    " ",
    "NaT",
)
EXTREME_NUMBERS = (
    "1e400",
    "-1e400",
    "9" * 400,
    "-" + "9" * 400,
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e-400",
    "0",
    "-0",
    "0x10",
    "1_000",
    "1,5",
    "",
    "  ",
    "1e308",
    "-1",
    "١٢",
)
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le")

dates = st.one_of(
    st.sampled_from(EXTREME_DATES), st.dates(dt.date(2021, 1, 1), dt.date(2021, 3, 31)).map(dt.date.isoformat)
)
symbols = st.one_of(
    st.sampled_from(("AAPL", "MSFT", "QQQ", "brk.b", " aapl ", "ÄPFEL", "A" * 12)),
    st.sampled_from(FORMULAS),
    texts(max_size=6),
)
numbers = st.one_of(
    st.sampled_from(EXTREME_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
)


def _csv(rows: list[list[str]], header: list[str]) -> str:
    frame = pd.DataFrame(rows, columns=header) if rows else pd.DataFrame(columns=header)
    return frame.to_csv(index=False)


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


# Words of the parser's own error texts: a user never sees them (one plain sentence instead).
PARSER_JARGON = ("tokenizing", "C error", "field limit", "Traceback", "dtype", "EOF inside")


def assert_no_parser_jargon(text: str) -> None:
    for word in PARSER_JARGON:
        assert word.lower() not in text.lower(), f"parser jargon {word!r} in {text!r}"


def _load(loader, data: bytes):
    try:
        return loader(data)
    except engine.EngineError as exc:
        assert_user_message(str(exc))
        assert_no_parser_jargon(str(exc))
        return None


def _check_counts(report: engine.ValidationReport) -> None:
    """Rows of a file add up: read = kept + dropped (cells/columns are not rows)."""
    assert report.rows_read == report.rows_kept + report.rows_dropped, report
    assert all(d.count > 0 and d.unit in ("rows", "cells", "columns") for d in report.dropped)


def _check_sentiment_shape(frame: pd.DataFrame, report: engine.ValidationReport) -> None:
    _check_counts(report)
    assert list(frame.columns) == list(SENTIMENT_COLUMNS)
    assert len(frame) == report.rows_kept > 0
    assert frame["date"].between(pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")).all()
    assert frame["date"].is_monotonic_increasing
    assert not frame.duplicated(["date", "symbol"]).any()
    assert all(is_ticker(s) for s in frame["symbol"])
    counts = frame[list(SENTIMENT_COLUMNS[2:6])].to_numpy()
    assert np.isfinite(counts).all() and (counts >= 0).all()
    assert not np.isinf(frame["twitterSentiment"].to_numpy()).any()
    for dropped in report.dropped:
        for example in dropped.examples:  # user text is only ever shown repr'd (or as "row N")
            assert example.startswith(("'", '"', "row ")) or " row " in example, example


def _check_price_shape(frame: pd.DataFrame, report: engine.ValidationReport) -> None:
    _check_counts(report)
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert len(frame.columns) > 0 and all(is_ticker(c) for c in frame.columns)
    values = frame.to_numpy()
    assert ((values > 0) & np.isfinite(values) | np.isnan(values)).all()
    assert report.symbols == tuple(frame.columns)


# ----- sentiment CSV ------------------------------------------------------------------------


@FAST
@given(
    rows=st.lists(st.tuples(dates, symbols, numbers, numbers, numbers, numbers, numbers), max_size=8),
    encoding=st.sampled_from(ENCODINGS),
)
def test_sentiment_csv_in_any_encoding_loads_cleanly_or_fails_in_one_line(
    rows: list[tuple[str, ...]], encoding: str
) -> None:
    data = _encode(_csv([list(r) for r in rows], list(SENTIMENT_COLUMNS)), encoding)
    loaded = _load(engine.load_sentiment_csv, data)
    if loaded is not None:
        _check_sentiment_shape(*loaded)


@pytest.mark.parametrize(
    "encoding,fragment",
    [
        ("utf-16-le", "not UTF-8 text"),  # UTF-16 without its BOM (with it, Excel's "Unicode text" is read)
        ("latin-1", "not UTF-8 text"),
    ],
)
def test_non_utf8_files_are_named_as_such(encoding: str, fragment: str) -> None:
    text = (
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "2021-01-04,CAFÉ,1,2,3,4,0.5\n"
    )
    with pytest.raises(engine.DataValidationError, match=fragment) as caught:
        engine.load_sentiment_csv(text.encode(encoding))
    assert_user_message(str(caught.value))


def test_single_row_and_header_only_files() -> None:
    header = ",".join(SENTIMENT_COLUMNS) + "\n"
    with pytest.raises(engine.DataValidationError, match="no data rows") as caught:
        engine.load_sentiment_csv(header.encode())
    assert_user_message(str(caught.value))
    frame, report = engine.load_sentiment_csv((header + "2021-01-04,AAPL,1,2,3,4,0.5\n").encode())
    assert len(frame) == report.rows_kept == 1


@pytest.mark.parametrize("day", ["1677-09-21", "2262-04-12", "9999-12-31", "0001-01-01"])
def test_dates_outside_the_nanosecond_range_are_dropped_not_crashed(day: str) -> None:
    text = ",".join(SENTIMENT_COLUMNS) + f"\n{day},AAPL,1,2,3,4,0.5\n2021-01-04,AAPL,1,2,3,4,0.5\n"
    frame, report = engine.load_sentiment_csv(text.encode())
    assert frame["date"].tolist() == [pd.Timestamp("2021-01-04")]
    assert [d.reason for d in report.dropped] == ["date is not a valid date"]


def test_duplicate_and_unsorted_dates_keep_the_first_valid_row_and_sort() -> None:
    text = ",".join(SENTIMENT_COLUMNS) + (
        "\n2021-01-05,MSFT,1,2,3,4,0.1\n2021-01-04,AAPL,1,2,3,4,0.2\n2021-01-05,MSFT,9,9,9,9,0.9\n"
    )
    frame, report = engine.load_sentiment_csv(text.encode())
    assert frame[["date", "symbol"]].astype(str).values.tolist() == [
        ["2021-01-04", "AAPL"],
        ["2021-01-05", "MSFT"],
    ]
    assert frame["twitterPosts"].tolist() == [1.0, 1.0]
    assert report.dropped[0].count == 1 and "duplicate" in report.dropped[0].reason


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_symbols_are_dropped_and_only_shown_quoted(formula: str) -> None:
    frame = pd.DataFrame(
        [["2021-01-04", formula, 1, 2, 3, 4, 0.5], ["2021-01-04", "AAPL", 1, 2, 3, 4, 0.5]],
        columns=list(SENTIMENT_COLUMNS),
    )
    clean, report = engine.load_sentiment_csv(frame.to_csv(index=False).encode())
    assert clean["symbol"].tolist() == ["AAPL"]
    (dropped,) = [d for d in report.dropped if d.reason == "symbol is not a ticker"]
    assert dropped.examples[0][0] in "'\"" and formula.strip()[:10] in dropped.examples[0]


# ----- price CSV ---------------------------------------------------------------------------


@FAST
@given(
    tickers=st.lists(symbols, min_size=1, max_size=4),
    rows=st.lists(st.tuples(dates, st.lists(numbers, min_size=4, max_size=4)), max_size=8),
    encoding=st.sampled_from(ENCODINGS),
)
def test_wide_price_csv_loads_cleanly_or_fails_in_one_line(
    tickers: list[str], rows: list[tuple[str, list[str]]], encoding: str
) -> None:
    header = ["date", *tickers]
    body = [[day, *values[: len(tickers)]] for day, values in rows]
    loaded = _load(engine.load_prices_file, _encode(_csv(body, header), encoding))
    if loaded is not None:
        _check_price_shape(*loaded)


@FAST
@given(rows=st.lists(st.tuples(dates, symbols, numbers), max_size=10))
def test_long_price_csv_loads_cleanly_or_fails_in_one_line(rows: list[tuple[str, str, str]]) -> None:
    loaded = _load(
        engine.load_prices_file, _csv([list(r) for r in rows], ["date", "symbol", "close"]).encode()
    )
    if loaded is not None:
        _check_price_shape(*loaded)


# ----- Parquet price files ------------------------------------------------------------------


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


PARQUET_DATE_COLUMNS = {
    "timestamp_us_9999": pa.array([dt.datetime(9999, 1, 1), dt.datetime(2021, 1, 4)], pa.timestamp("us")),
    "timestamp_s_1677": pa.array([dt.datetime(1677, 1, 1), dt.datetime(2021, 1, 4)], pa.timestamp("s")),
    "date32_9999": pa.array([dt.date(9999, 1, 1), dt.date(2021, 1, 4)], pa.date32()),
    "int64_extremes": pa.array([2**62, -(2**62)], pa.int64()),
    "float_nan": pa.array([1.5, float("nan")]),
    "all_null": pa.array([None, None], pa.null()),
    "dictionary": pa.array(["2021-01-01", "2021-01-04"]).dictionary_encode(),
    "duration": pa.array([1, 2], pa.duration("s")),
}
PARQUET_PRICE_COLUMNS = {
    "bool": pa.array([True, False]),
    "uint64_max": pa.array([2**64 - 1, 1], pa.uint64()),
    "list": pa.array([[1.0], [2.0]]),
    "struct": pa.array([{"a": 1}, {"a": 2}]),
    "decimal": pa.array([None, None], pa.decimal128(10, 2)),
    "inf": pa.array([float("inf"), -1.0]),
    "utf8_binary": pa.array([b"1.5", b"2"], pa.binary()),
}


@pytest.mark.parametrize("name", sorted(PARQUET_DATE_COLUMNS))
def test_parquet_date_column_of_any_type(name: str) -> None:
    table = pa.table({"date": PARQUET_DATE_COLUMNS[name], "AAPL": [1.0, 2.0]})
    loaded = _load(engine.load_prices_file, _parquet(table))
    if loaded is not None:
        _check_price_shape(*loaded)
        assert loaded[0].index.min() >= pd.Timestamp("1900-01-01")


@pytest.mark.parametrize("name", sorted(PARQUET_PRICE_COLUMNS))
def test_parquet_price_column_of_any_type(name: str) -> None:
    table = pa.table({"date": ["2021-01-01", "2021-01-04"], "AAPL": PARQUET_PRICE_COLUMNS[name]})
    loaded = _load(engine.load_prices_file, _parquet(table))
    if loaded is not None:
        _check_price_shape(*loaded)


def test_parquet_binary_column_with_undecodable_bytes_is_a_validation_error() -> None:
    table = pa.table({"date": ["2021-01-01", "2021-01-04"], "AAPL": pa.array([b"1", b"\xff"], pa.binary())})
    with pytest.raises(engine.DataValidationError) as caught:
        engine.load_prices_file(_parquet(table))
    assert_user_message(str(caught.value))


@FAST
@given(data=binaries(min_size=4, max_size=512))
def test_random_bytes_after_the_parquet_magic_fail_in_one_line(data: bytes) -> None:
    with pytest.raises(engine.EngineError) as caught:
        engine.load_prices_file(b"PAR1" + data)
    assert_user_message(str(caught.value))


@FAST
@given(data=binaries(max_size=2048), name=texts(max_size=30))
def test_random_bytes_with_any_file_name_fail_in_one_line(data: bytes, name: str) -> None:
    for loader in (engine.load_sentiment_csv, engine.load_prices_file):
        try:
            loader(data, name=name)
        except engine.EngineError as exc:
            assert_user_message(str(exc), formulas_quoted=False)


# ----- parser errors in plain words ----------------------------------------------------------

RAGGED_PIECES = ('"', '""', ",", ";", "\n", "\r\n", "AAA", "1", "2022-01-03", "'", "\t", "x" * 50)


@FAST
@given(pieces=st.lists(st.sampled_from(RAGGED_PIECES), min_size=1, max_size=30))
def test_broken_quotes_and_ragged_lines_never_show_parser_jargon(pieces: list[str]) -> None:
    data = ("date,AAA,BBB\n2022-01-03,1,2\n" + "".join(pieces)).encode()
    for loader in (engine.load_prices_file, engine.load_sentiment_csv):
        loaded = _load(loader, data)  # a refusal is checked inside _load
        if loaded is not None:
            for text in loaded[1].warnings:
                assert_no_parser_jargon(text)


def test_an_unclosed_quote_names_its_line() -> None:
    data = b'date,AAA,BBB,CCC,DDD\n2022-01-03,"AAA,1,2,3,4,\n2022-01-04,1,2,3,4\n'
    with pytest.raises(engine.DataValidationError) as caught:
        engine.load_prices_file(data)
    assert "line 2 opens a quote that is never closed" in str(caught.value)
    assert_no_parser_jargon(str(caught.value))


def test_a_one_line_file_longer_than_a_field_names_line_1() -> None:
    data = ("date," + "A" * 200_000 + "\n").encode()
    with pytest.raises(engine.DataValidationError) as caught:
        engine.load_prices_file(data)
    assert "line 1 has a value longer than 131,072 characters" in str(caught.value)
    assert_no_parser_jargon(str(caught.value))


# ----- rows add up through the loading window (FileProvider) ---------------------------------


@FAST
@given(
    sentiment_days=st.lists(st.dates(dt.date(2022, 1, 1), dt.date(2022, 3, 31)), min_size=1, max_size=6),
    price_days=st.lists(st.dates(dt.date(2017, 1, 1), dt.date(2023, 6, 30)), min_size=1, max_size=25),
    long=st.booleans(),
    extra_symbol=st.booleans(),
)
def test_provider_rows_read_equal_kept_plus_dropped(
    sentiment_days: list[dt.date], price_days: list[dt.date], long: bool, extra_symbol: bool
) -> None:
    head = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    sentiment = head + "".join(f"{d},AAA,1,2,3,4,0.5\n" for d in sentiment_days)
    price_days = [*price_days, *sentiment_days]  # the benchmark has a price in the window
    symbols = ["AAA", "QQQ", *(["ZZZ"] if extra_symbol else [])]
    if long:
        prices = "date,symbol,close\n" + "".join(f"{d},{s},10\n" for d in price_days for s in symbols)
    else:
        prices = (
            "date,"
            + ",".join(symbols)
            + "\n"
            + "".join(f"{d}" + ",10" * len(symbols) + "\n" for d in price_days)
        )
    provider = engine.FileProvider(sentiment=sentiment.encode(), prices=prices.encode())
    try:
        data = engine.load_market_data(provider)
    except engine.EngineError as exc:
        assert_user_message(str(exc))
        return
    _check_counts(data.report)
    _, price_report = provider.prices(["AAA", "QQQ"], None, None)
    _check_counts(price_report)
