"""Tickers written with their exchange (breaker pass 7, F3): Google Sheets' and TradingView's
``NASDAQ:AAA``, Bloomberg's ``AAA US Equity``. They are refused (an exchange is never
stripped silently), in a sentence that shows the spelling quoted and says to write the
ticker alone; before, the long file said "symbol is not a ticker" with no example, the wide
one "has no ticker columns" though every column names a ticker, and Bloomberg's long file
asked for a rename that could not help."""

from __future__ import annotations

import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv


def refusal(text: str) -> str:
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text.encode(), name="p.csv")
    return str(info.value)


def test_long_file_of_exchange_tickers_names_one_and_the_ticker_alone() -> None:
    text = (
        "Date,Symbol,Close\n01/03/2022 16:00:00,NASDAQ:AAA,1500.51\n01/14/2022 16:00:00,NASDAQ:AAA,1490.2\n"
        "01/03/2022 16:00:00,NYSE:BBB,50.1\n01/14/2022 16:00:00,NYSE:BBB,50.3\n"
    )
    assert refusal(text) == (
        "p.csv has no usable prices (4 dropped: symbol is not a ticker, e.g. 'NASDAQ:AAA'); "
        "write each ticker alone, without its exchange (AAA, not 'NASDAQ:AAA')"
    )


@pytest.mark.parametrize(
    ("header", "shown", "advice"),
    [
        ("date,NASDAQ:AAA,NYSE:BBB", "'NASDAQ:AAA', 'NYSE:BBB'", "(AAA, not 'NASDAQ:AAA')"),
        (
            "date,AAA US Equity,BBB US Equity",
            "'AAA US Equity', 'BBB US Equity'",
            "(AAA, not 'AAA US Equity')",
        ),
    ],
)
def test_wide_file_of_exchange_tickers_says_its_columns_are_not_tickers(
    header: str, shown: str, advice: str
) -> None:
    text = f"{header}\n2022-01-03,1500.51,50.1\n2022-01-04,1490.2,50.3\n"
    assert refusal(text) == (
        f"p.csv has no ticker columns besides 'date': its columns {shown} are not tickers; "
        f"write each ticker alone, without its exchange {advice}"
    )


def test_wide_exchange_column_beside_tickers_is_dropped_with_the_advice() -> None:
    text = "date,AAA,NYSE:BBB\n2022-01-03,1500.51,50.1\n2022-01-04,1490.2,50.3\n"
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert list(prices.columns) == ["AAA"]
    (dropped,) = report.dropped
    assert dropped.examples == ("'NYSE:BBB'",)
    assert "write each ticker alone, without its exchange (BBB, not 'NYSE:BBB')" in dropped.reason


def test_bloomberg_long_file_says_its_securities_are_not_tickers() -> None:
    text = (
        "date,security,PX_LAST\n2022-01-03,AAA US Equity,1500.51\n2022-01-04,AAA US Equity,1490.2\n"
        "2022-01-03,BBB US Equity,50.1\n2022-01-04,BBB US Equity,50.3\n"
    )
    assert refusal(text) == (
        "p.csv looks like a long price file whose symbols in 'security' are not tickers, e.g. 'AAA US Equity'; "
        "write each ticker alone, without its exchange (AAA, not 'AAA US Equity')"
    )
    renamed = refusal(text.replace("security", "ticker", 1))
    assert renamed == (
        "p.csv has no usable prices (4 dropped: symbol is not a ticker, e.g. 'AAA US Equity'); "
        "write each ticker alone, without its exchange (AAA, not 'AAA US Equity')"
    )


def test_sentiment_file_of_exchange_tickers_gets_the_same_sentence() -> None:
    text = (
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "2022-01-03,NASDAQ:AAA,1,1,1,3,0.5\n2022-01-04,NASDAQ:AAA,1,1,1,3,0.5\n"
    )
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(text.encode(), name="s.csv")
    assert str(info.value) == (
        "s.csv has no usable rows (2 dropped: symbol is not a ticker, e.g. 'NASDAQ:AAA'); "
        "write each ticker alone, without its exchange (AAA, not 'NASDAQ:AAA')"
    )
