"""Wide price files whose columns each name a ticker and a price field (long-prices-ticker-
column kind: price fields must never become tickers). R quantmod's ``merge()`` of
``getSymbols`` written by ``write.csv`` (``"","AAPL.Open",...,"AAPL.Adjusted"``) was read as
tickers AAPL.OPEN, AAPL.HIGH, AAPL.LOW holding the Open/High/Low prices, the closes dropped,
and a backtest stopped with "no prices for the benchmark QQQ", though QQQ is in the file."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, FileProvider, load_market_data, load_prices_file

QUANTMOD = (
    '"","AAPL.Open","AAPL.High","AAPL.Low","AAPL.Close","AAPL.Volume","AAPL.Adjusted",'
    '"QQQ.Open","QQQ.High","QQQ.Low","QQQ.Close","QQQ.Volume","QQQ.Adjusted"\n'
    '"2022-01-03",177.83,182.88,177.71,182.01,104487900,179.95,400.1,405.2,399.3,401.68,40000000,398.2\n'
    '"2022-01-04",182.63,182.94,179.12,179.7,99310400,177.66,401.5,402.0,395.1,396.0,42000000,392.6\n'
)


def test_quantmod_export_reads_each_tickers_adjusted_close() -> None:
    frame, report = load_prices_file(QUANTMOD.encode(), name="quantmod.csv")
    assert list(frame.columns) == ["AAPL", "QQQ"]
    assert list(frame["AAPL"]) == [179.95, 177.66] and list(frame["QQQ"]) == [398.2, 392.6]
    assert report.reading[0].price_column == "Adjusted"
    assert report.reading[0].layout == "ticker-and-field columns"
    assert "ignored the other 10 column(s)" in report.warnings[0]
    assert not report.dropped and report.rows_kept == 2


def test_quantmod_write_zoo_index_column_is_the_date() -> None:
    text = QUANTMOD.replace('"",', '"Index",', 1)
    frame, _ = load_prices_file(text.encode())
    assert list(frame.index) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")]
    assert list(frame.columns) == ["AAPL", "QQQ"]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Date,AAPL_Close,AAPL_Volume,QQQ_Close,QQQ_Volume", "Close"),
        ("Date,Close AAPL,Volume AAPL,Close QQQ,Volume QQQ", "Close"),
        ("Date,Close_AAPL,Volume_AAPL,Close_QQQ,Volume_QQQ", "Close"),
        ("Date,Adj Close AAPL,Close AAPL,Adj Close QQQ,Close QQQ", "Adj Close"),
        (
            "Date,\"('Close', 'AAPL')\",\"('Volume', 'AAPL')\",\"('Close', 'QQQ')\",\"('Volume', 'QQQ')\"",
            "Close",
        ),
    ],
)
def test_flattened_ticker_field_headers(header: str, field: str) -> None:
    frame, report = load_prices_file(
        f"{header}\n2022-01-03,1.5,100,2.5,200\n2022-01-04,1.6,100,2.6,200\n".encode()
    )
    assert list(frame.columns) == ["AAPL", "QQQ"]
    assert list(frame["AAPL"]) == [1.5, 1.6] and list(frame["QQQ"]) == [2.5, 2.6]
    assert report.reading[0].price_column == field


def test_share_class_ticker_with_field() -> None:
    text = "Date,BRK-B.Close,BRK-B.Volume,QQQ.Close,QQQ.Volume\n2022-01-03,300.8,5,401.7,9\n"
    frame, _ = load_prices_file(text.encode())
    assert list(frame.columns) == ["BRK-B", "QQQ"] and frame.loc["2022-01-03", "BRK-B"] == 300.8


def test_ticker_field_column_among_plain_tickers_is_dropped_not_a_ticker() -> None:
    """AAPL.Open next to QQQ: never a ticker AAPL.OPEN; the column is listed as dropped."""
    text = "Date,AAPL.Open,QQQ\n2022-01-03,177.83,401.68\n2022-01-04,182.63,396.0\n"
    frame, report = load_prices_file(text.encode())
    assert list(frame.columns) == ["QQQ"]
    (dropped,) = report.dropped
    assert dropped.unit == "columns" and dropped.examples == ("'AAPL.Open'",)
    assert "ticker and a price field" in dropped.reason


def test_adjusted_close_for_some_tickers_only_is_refused() -> None:
    text = "Date,Close_AAPL,Volume_AAPL,Close_QQQ,Adjusted_QQQ\n2022-01-03,1,2,3,4\n"
    with pytest.raises(DataValidationError, match=r"adjusted close for QQQ but only 'Close' for AAPL"):
        load_prices_file(text.encode())


def test_quantmod_prices_load_with_their_benchmark() -> None:
    """The case's symptom: the benchmark QQQ, in the file, was 'not in the price file'."""
    sentiment = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    sentiment += "2022-01-03,AAPL,5,1,1,1,0.1\n2022-01-04,AAPL,5,1,1,1,0.1\n"
    provider = FileProvider(sentiment=sentiment.encode(), prices=QUANTMOD.encode())
    data = load_market_data(provider, benchmark="QQQ")
    assert list(data.prices.columns) == ["AAPL", "QQQ"] and data.prices["QQQ"].iloc[-1] == 392.6
    assert data.report.failed_tickers == ()


def test_exchange_suffixes_are_never_a_field_before_a_ticker() -> None:
    """OPEN.L and HIGH.V are tickers of London and TSX Venture, not Open/High fields of L and V."""
    prices, report = load_prices_file(b"Date,OPEN.L,HIGH.V,QQQ\n2022-01-03,1.5,2.5,401.68\n")
    assert list(prices.columns) == ["HIGH.V", "OPEN.L", "QQQ"] and not report.dropped
