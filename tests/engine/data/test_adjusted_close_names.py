"""The adjusted close under its vendors' other names (breaker pass 7, F1): J-Quants'
``AdjustmentClose``, ``Split Adjusted Close``, ``Dividend Adjusted Close`` were passed over
for the unadjusted ``Close``, so a 2:1 split was a -50% day. One rule picks the column in
every layout (long, ticker-and-field columns, the two-level Yahoo-shaped header), and a
close adjusted for dividends and splits is preferred to one adjusted for splits only."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from engine import load_prices_file

# AAA splits 2:1 on 2022-03-01: Close halves, the adjusted close does not move.
CLOSES = [2081.58, 1041.83]
ADJUSTED = [1040.79, 1041.83]


@pytest.mark.parametrize(
    "adjusted",
    ["AdjustmentClose", "Adjustment Close", "Split Adjusted Close", "Dividend Adjusted Close"],
)
def test_long_file_reads_the_adjusted_close_of_any_vendor(adjusted: str) -> None:
    """J-Quants' /prices/daily_quotes columns (a subset): the file was priced from 'Close'."""
    text = (
        f"Date,Code,Open,Close,AdjustmentFactor,{adjusted},AdjustmentVolume\n"
        f"2022-02-28,AAA,2081.58,{CLOSES[0]},1.0,{ADJUSTED[0]},1000\n"
        f"2022-03-01,AAA,1041.83,{CLOSES[1]},0.5,{ADJUSTED[1]},1000\n"
        "2022-02-28,QQQ,350.0,350.0,1.0,350.0,1000\n"
        "2022-03-01,QQQ,351.0,351.0,1.0,351.0,1000\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert list(prices["AAA"]) == ADJUSTED
    assert report.reading[0].price_column == adjusted


def test_a_total_return_close_is_preferred_to_a_split_only_one() -> None:
    text = (
        "date,symbol,Close,Split Adjusted Close,Dividend Adjusted Close\n"
        "2022-02-28,AAA,2081.58,1040.79,1030.00\n"
        "2022-03-01,AAA,1041.83,1041.83,1031.00\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert list(prices["AAA"]) == [1030.0, 1031.0]
    assert report.reading[0].price_column == "Dividend Adjusted Close"


def test_ticker_and_field_columns_read_the_split_adjusted_close() -> None:
    text = (
        "date,AAA_Close,AAA_Split Adjusted Close,QQQ_Close,QQQ_Split Adjusted Close\n"
        f"2022-02-28,{CLOSES[0]},{ADJUSTED[0]},350.0,350.0\n"
        f"2022-03-01,{CLOSES[1]},{ADJUSTED[1]},351.0,351.0\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert list(prices["AAA"]) == ADJUSTED
    assert report.reading[0].price_column == "Split Adjusted Close"


def test_ticker_and_field_columns_prefer_the_total_return_close() -> None:
    text = (
        "date,AAA.SplitAdjustedClose,AAA.AdjClose,QQQ.SplitAdjustedClose,QQQ.AdjClose\n"
        "2022-02-28,1040.79,1030.0,350.0,349.0\n"
        "2022-03-01,1041.83,1031.0,351.0,350.0\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert list(prices["AAA"]) == [1030.0, 1031.0] and list(prices["QQQ"]) == [349.0, 350.0]
    assert report.reading[0].price_column == "AdjClose"


def test_two_level_header_reads_the_adjustment_close() -> None:
    text = (
        "Price,Close,Close,AdjustmentClose,AdjustmentClose\n"
        "Ticker,AAA,QQQ,AAA,QQQ\n"
        "Date,,,,\n"
        f"2022-02-28,{CLOSES[0]},350.0,{ADJUSTED[0]},350.0\n"
        f"2022-03-01,{CLOSES[1]},351.0,{ADJUSTED[1]},351.0\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert list(prices["AAA"]) == ADJUSTED
    assert report.reading[0].price_column == "AdjustmentClose"


def test_two_level_parquet_columns_read_the_split_adjusted_close() -> None:
    index = pd.DatetimeIndex(["2022-02-28", "2022-03-01"], name="Date")
    frame = pd.DataFrame({("Close", "AAA"): CLOSES, ("Split Adjusted Close", "AAA"): ADJUSTED}, index=index)
    frame.columns = frame.columns.set_names(["Price", "Ticker"])
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    prices, report = load_prices_file(buffer.getvalue(), name="p.parquet")
    assert list(prices["AAA"]) == ADJUSTED
    assert report.reading[0].price_column == "Split Adjusted Close"
