"""Property: a random valid data set written in any supported dialect, date format, layout
and column naming reads back identical (engine.data.reading + validation)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import SENTIMENT_COLUMNS, load_prices_file, load_sentiment_csv
from engine.data.prices import without_filled_days

TICKERS = ("AAA", "BBB", "MSFT", "QQQ", "BRK-B", "T", "GOOGL")
SEPARATORS = (",", ";", "\t", "|")
EXCEL_ORIGIN = pd.Timestamp("1899-12-30")


def _offset_iso(day: pd.Timestamp) -> str:
    # yfinance's tz-aware daily index; the offset changes at daylight saving
    return f"{day:%Y-%m-%d} 00:00:00{'-04:00' if 3 <= day.month <= 10 else '-05:00'}"


DATE_WRITERS = {
    "iso": lambda d: f"{d:%Y-%m-%d}",
    "iso-time": lambda d: f"{d:%Y-%m-%d}T16:00:00",
    "iso-offset": _offset_iso,
    "day-first": lambda d: f"{d:%d/%m/%Y}",
    "month-first": lambda d: f"{d:%m/%d/%Y}",
    "day-first-dots": lambda d: f"{d:%d.%m.%Y}",
    "day-month-name": lambda d: f"{d:%d %b %Y}",
    "month-name-first": lambda d: f"{d:%b %d, %Y}",
    "compact": lambda d: f"{d:%Y%m%d}",
    "excel": lambda d: str((d - EXCEL_ORIGIN).days),
}
NEEDS_DAY_ABOVE_12 = {"day-first", "month-first", "day-first-dots"}
DATE_NAMES = ("date", "Date", "DATE", " Date ")
SYMBOL_NAMES = ("symbol", "Ticker", "ticker", "Symbol", "stock_name", "Name")
PRICE_NAMES = ("close", "Close", "Adj Close", "adj_close")


def _number(value: float, decimals: int, decimal: str, thousands: str | bool) -> str:
    """``thousands``: False (none), True (the other mark) or the mark itself (space, ', ...)."""
    text = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    mark = ("." if decimal == "," else ",") if thousands is True else thousands
    text = text.replace(",", "\0").replace(".", decimal)
    return text.replace("\0", mark) if thousands else text


def _write(rows: list[list[str]], separator: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


@st.composite
def price_sets(draw: st.DrawFn) -> tuple[pd.DataFrame, dict]:
    tickers = sorted(draw(st.sets(st.sampled_from(TICKERS), min_size=1, max_size=4)))
    start = draw(
        st.dates(min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2030-01-01").date())
    )
    n = draw(st.integers(min_value=2, max_value=30))
    days = pd.bdate_range(start, periods=n)
    decimals = draw(st.sampled_from([2, 4]))
    values = draw(
        st.lists(
            st.lists(
                st.one_of(st.none(), st.floats(min_value=0.01, max_value=2e6, allow_nan=False)),
                min_size=len(tickers),
                max_size=len(tickers),
            ),
            min_size=n,
            max_size=n,
        )
    )
    matrix = np.array(
        [[np.nan if v is None else round(v, decimals) for v in row] for row in values], dtype=float
    )
    matrix[matrix <= 0] = 0.01
    matrix = np.round(matrix, decimals)
    # every date has a price (else it is not a trading day) and every ticker has one
    for i in range(n):
        if np.isnan(matrix[i]).all():
            matrix[i, i % len(tickers)] = 1.5
    for j in range(len(tickers)):
        if np.isnan(matrix[:, j]).all():
            matrix[0, j] = 2.25
    # no weekday on which two or more priced tickers all repeat their previous close (a
    # holiday filled forward, dropped by the reader: not a round trip)
    last = np.full(len(tickers), np.nan)
    for i in range(n):
        priced = ~np.isnan(matrix[i])
        if priced.sum() >= 2 and (matrix[i][priced] == last[priced]).all():
            matrix[i, np.flatnonzero(priced)[0]] += 1
        last = np.where(priced, matrix[i], last)
    expected = pd.DataFrame(
        matrix, index=pd.DatetimeIndex(days, name="date").astype("datetime64[ns]"), columns=tickers
    )
    dialect = {
        "separator": draw(st.sampled_from(SEPARATORS)),
        "decimal": draw(st.sampled_from([".", ","])),
        "thousands": draw(st.sampled_from([False, True, " ", "\u00a0", "\u202f"])),
        "decimals": decimals,
        "dates": draw(st.sampled_from(sorted(DATE_WRITERS))),
        "layout": draw(st.sampled_from(["wide", "long", "yahoo"])),
        "date_name": draw(st.sampled_from(DATE_NAMES)),
        "symbol_name": draw(st.sampled_from(SYMBOL_NAMES)),
        "price_name": draw(st.sampled_from(PRICE_NAMES)),
        "shuffle_long": draw(st.booleans()),
    }
    return expected, dialect


def _price_file(expected: pd.DataFrame, d: dict) -> bytes:
    write_date = DATE_WRITERS[d["dates"]]

    def number(v: float) -> str:
        return "" if np.isnan(v) else _number(v, d["decimals"], d["decimal"], d["thousands"])

    if d["layout"] == "wide":
        rows = [[d["date_name"], *expected.columns]]
        rows += [
            [write_date(day), *map(number, row)]
            for day, row in zip(expected.index, expected.to_numpy(), strict=True)
        ]
    elif d["layout"] == "long":
        rows = [[d["date_name"], d["symbol_name"], d["price_name"], "Volume"]]
        body = [
            [write_date(day), ticker, number(value), "1000"]
            for day, row in zip(expected.index, expected.to_numpy(), strict=True)
            for ticker, value in zip(expected.columns, row, strict=True)
            if not np.isnan(value)
        ]
        rows += body[::-1] if d["shuffle_long"] else body
    else:  # yfinance's multi-ticker CSV export
        tickers = list(expected.columns)
        rows = [["Price", *(["Close"] * len(tickers)), *(["Volume"] * len(tickers))]]
        rows += [["Ticker", *tickers, *tickers], ["Date", *([""] * 2 * len(tickers))]]
        rows += [
            [write_date(day), *map(number, row), *(["1000"] * len(tickers))]
            for day, row in zip(expected.index, expected.to_numpy(), strict=True)
        ]
    return _write(rows, d["separator"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(price_sets())
def test_price_files_read_back_identical(case: tuple[pd.DataFrame, dict]) -> None:
    expected, d = case
    if d["dates"] in NEEDS_DAY_ABOVE_12:
        assume((expected.index.day > 12).any())
    # Not a reading matter: a row repeating every close on a weekend or an NYSE holiday is
    # a filled-forward day, dropped by design (tests/engine/data/test_filled_holidays.py).
    assume(without_filled_days(expected, unit="dates")[1] == ())
    frame, report = load_prices_file(_price_file(expected, d), name="p.csv")
    pd.testing.assert_frame_equal(frame, expected, check_exact=True, check_freq=False)
    read = report.reading[0]
    assert read.separator == d["separator"] and read.decimal == d["decimal"]
    assert not report.dropped and not report.failed_tickers


@st.composite
def sentiment_sets(draw: st.DrawFn) -> tuple[pd.DataFrame, dict]:
    symbols = sorted(draw(st.sets(st.sampled_from(TICKERS), min_size=1, max_size=3)))
    start = draw(
        st.dates(min_value=pd.Timestamp("2005-01-01").date(), max_value=pd.Timestamp("2030-01-01").date())
    )
    days = pd.date_range(start, periods=draw(st.integers(min_value=1, max_value=25)))
    n = len(days) * len(symbols)
    counts = draw(st.lists(st.integers(min_value=0, max_value=10**7), min_size=4 * n, max_size=4 * n))
    scores = draw(
        st.lists(st.one_of(st.none(), st.floats(min_value=-1, max_value=1)), min_size=n, max_size=n)
    )
    frame = pd.DataFrame(
        {
            "date": np.repeat(days.to_numpy(), len(symbols)),
            "symbol": symbols * len(days),
            **{
                column: np.array(counts[k * n : (k + 1) * n], dtype="float64")
                for k, column in enumerate(SENTIMENT_COLUMNS[2:6])
            },
            "twitterSentiment": [np.nan if s is None else round(s, 4) for s in scores],
        }
    )
    frame["date"] = frame["date"].astype("datetime64[ns]")
    naming = draw(st.sampled_from(["as is", "lower", "upper", "spaced"]))
    dialect = {
        "separator": draw(st.sampled_from(SEPARATORS)),
        "decimal": draw(st.sampled_from([".", ","])),
        "dates": draw(st.sampled_from(sorted(DATE_WRITERS))),
        "naming": naming,
    }
    return frame, dialect


def _column_name(name: str, naming: str) -> str:
    if naming == "lower":
        return name.lower()
    if naming == "upper":
        return name.upper()
    if naming == "spaced":
        return " " + "".join(" " + c if c.isupper() else c for c in name) + " "
    return name


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentiment_sets())
def test_sentiment_files_read_back_identical(case: tuple[pd.DataFrame, dict]) -> None:
    expected, d = case
    if d["dates"] in NEEDS_DAY_ABOVE_12:
        assume((expected["date"].dt.day > 12).any())
    write_date = DATE_WRITERS[d["dates"]]
    rows = [[_column_name(c, d["naming"]) for c in SENTIMENT_COLUMNS]]
    for record in expected.itertuples(index=False):
        score = "" if np.isnan(record[6]) else _number(record[6], 4, d["decimal"], False)
        counts = [_number(v, 1, d["decimal"], False) for v in record[2:6]]  # "811.0" as in the seed data
        rows.append([write_date(pd.Timestamp(record[0])), record[1], *counts, score])
    frame, report = load_sentiment_csv(_write(rows, d["separator"]), name="s.csv")
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert not report.dropped and report.reading[0].separator == d["separator"]
