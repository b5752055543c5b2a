"""long-prices-ticker-column, held-back variants: a ticker with only 'Close' where the
others have an adjusted close. The ticker-and-field layout refused it; the Yahoo export
read only 'Adj Close' and the ticker vanished without a word, and the long layout dropped
every one of its rows as "close is empty" though its 'Close' was there. One rule for every
layout now (``refuse_mixed_closes``)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file

MIXED = (
    "has an adjusted close for AAA, QQQ but only 'Close' for BBB; give every ticker the same kind of close"
)


def test_yahoo_csv_export_with_a_ticker_without_its_adjusted_close_is_refused() -> None:
    text = (
        "Price,Adj Close,Adj Close,Close,Close,Close\n"
        "Ticker,AAA,QQQ,AAA,BBB,QQQ\n"
        "Date,,,,,\n"
        "2021-11-01,102.24,100.08,102.24,101.27,100.08\n"
        "2021-11-02,99.83,99.2,99.83,100.08,99.2\n"
    )
    with pytest.raises(DataValidationError, match=MIXED):
        load_prices_file(text.encode(), name="y.csv")


def test_yahoo_csv_export_grouped_by_ticker_is_refused_the_same() -> None:
    text = (
        "Ticker,AAA,AAA,BBB,QQQ,QQQ\n"
        "Price,Adj Close,Close,Close,Adj Close,Close\n"
        "Date,,,,,\n"
        "2021-11-01,102.24,102.24,101.27,100.08,100.08\n"
        "2021-11-02,99.83,99.83,100.08,99.2,99.2\n"
    )
    with pytest.raises(DataValidationError, match=MIXED):
        load_prices_file(text.encode(), name="y.csv")


def test_yahoo_parquet_frame_with_an_empty_adjusted_close_for_one_ticker_is_refused() -> None:
    index = pd.DatetimeIndex(["2021-11-01", "2021-11-02"], name="Date")
    columns = pd.MultiIndex.from_tuples(
        [("Adj Close", "AAA"), ("Adj Close", "BBB"), ("Adj Close", "QQQ"), ("Close", "AAA"), ("Close", "BBB"),
         ("Close", "QQQ")],
        names=["Price", "Ticker"],
    )  # fmt: skip
    frame = pd.DataFrame(
        [[102.24, None, 100.08, 102.24, 101.27, 100.08], [99.83, None, 99.2, 99.83, 100.08, 99.2]],
        index=index,
        columns=columns,
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    with pytest.raises(DataValidationError, match=MIXED):
        load_prices_file(buffer.getvalue(), name="y.parquet")


def test_a_complete_yahoo_export_still_reads_the_adjusted_close() -> None:
    text = (
        "Price,Adj Close,Adj Close,Close,Close\n"
        "Ticker,AAA,QQQ,AAA,QQQ\n"
        "Date,,,,\n"
        "2021-11-01,100.0,200.0,101.0,201.0\n"
        "2021-11-02,110.0,210.0,111.0,211.0\n"
    )
    prices, _ = load_prices_file(text.encode(), name="y.csv")
    assert prices.loc["2021-11-02", "AAA"] == 110.0 and prices.loc["2021-11-01", "QQQ"] == 200.0


def test_long_file_whose_ticker_has_only_close_values_is_refused() -> None:
    text = (
        "Date,Ticker,Adj Close,Close\n"
        "2021-11-01,AAA,102.24,102.24\n2021-11-01,BBB,,101.27\n2021-11-01,QQQ,100.08,100.08\n"
        "2021-11-02,AAA,99.83,99.83\n2021-11-02,BBB,,100.08\n2021-11-02,QQQ,99.2,99.2\n"
    )
    with pytest.raises(DataValidationError, match=MIXED):
        load_prices_file(text.encode(), name="l.csv")


def test_a_blank_adjusted_close_beside_a_close_is_named_as_such() -> None:
    text = (
        "Date,Ticker,Adj Close,Close\n2022-01-03,AAA,10,10\n2022-01-03,BBB,20,20\n"
        "2022-01-04,AAA,11,11\n2022-01-04,BBB,,21\n2022-01-05,AAA,12,12\n2022-01-05,BBB,22,22\n"
    )
    prices, report = load_prices_file(text.encode(), name="l.csv")
    (drop,) = report.dropped  # its Close is not used: adjusted and unadjusted closes do not mix
    assert drop.reason == "adjusted close ('Adj Close') is empty" and drop.examples == ("row 4",)
    assert prices["BBB"].isna().tolist() == [False, True, False]


def test_a_yahoo_export_with_repair_flags_reads_its_adjusted_closes() -> None:
    """download(repair=True) adds a "Repaired?" field: the export was "no 'date' column"."""
    text = (
        "Price,Adj Close,Adj Close,Close,Close,Repaired?,Repaired?\n"
        "Ticker,AAA,BBB,AAA,BBB,AAA,BBB\n"
        "Date,,,,,,\n"
        "2022-01-03,10,20,11,21,False,False\n"
        "2022-01-04,10.5,20.5,11.5,21.5,False,True\n"
    )
    prices, _ = load_prices_file(text.encode(), name="y.csv")
    assert prices.to_dict("list") == {"AAA": [10.0, 10.5], "BBB": [20.0, 20.5]}


def test_the_mixed_close_check_spells_symbols_as_the_reader_does() -> None:
    """aapl and $AAPL are AAPL everywhere in the reader; the check counted 'aapl' as a
    ticker with only 'Close' and refused a valid file."""
    text = (
        "date,symbol,Adj Close,Close\n"
        "2022-01-03,AAPL,10,11\n2022-01-04,AAPL,10.5,11.5\n2022-01-05,aapl,,12\n"
        "2022-01-03,MSFT,20,21\n2022-01-04,MSFT,20.5,21.5\n2022-01-05,MSFT,21,22\n"
    )
    prices, report = load_prices_file(text.encode(), name="case.csv")
    assert sorted(prices.columns) == ["AAPL", "MSFT"]
    assert [d.reason for d in report.dropped] == ["adjusted close ('Adj Close') is empty"]
