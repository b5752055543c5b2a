"""A repeated column is reported by its real name and dropped (never renamed 'AAA.1')."""

from __future__ import annotations

import engine


def test_repeated_ticker_column_in_a_wide_file() -> None:
    data = b"date,AAA,AAA,QQQ\n2022-01-03,1,2,3\n2022-01-04,1,2,3\n"
    prices, report = engine.load_prices_file(data)
    assert list(prices.columns) == ["AAA", "QQQ"]
    assert prices["AAA"].tolist() == [1.0, 1.0]  # the first copy is kept
    assert any("column 'AAA' appears twice; the second copy was ignored" in w for w in report.warnings)
    assert not any("AAA.1" in w for w in report.warnings)


def test_repeated_symbol_column_in_a_sentiment_file() -> None:
    data = (
        b"date,symbol,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        b"2022-01-03,AAA,BBB,1,2,3,4,0.5\n"
    )
    frame, report = engine.load_sentiment_csv(data)
    assert frame["symbol"].tolist() == ["AAA"]
    assert any("column 'symbol' appears twice; the second copy was ignored" in w for w in report.warnings)
    assert not any("symbol.1" in w for w in report.warnings)


def test_repeated_close_column_in_a_long_file() -> None:
    data = b"date,symbol,close,close\n2022-01-03,AAA,1,2\n2022-01-04,AAA,1,2\n"
    prices, report = engine.load_prices_file(data)
    assert prices["AAA"].tolist() == [1.0, 1.0]
    assert any("column 'close' appears twice" in w for w in report.warnings)


def test_repeated_ticker_in_a_yfinance_export() -> None:
    data = b"Price,Close,Close,Close\nTicker,AAA,AAA,QQQ\nDate,,,\n2022-01-03,1,2,3\n2022-01-04,1.5,2,3\n"
    prices, report = engine.load_prices_file(data)
    assert list(prices.columns) == ["AAA", "QQQ"]
    assert prices["AAA"].tolist() == [1.0, 1.5]
    assert any("column 'AAA' appears twice" in w for w in report.warnings)


def test_three_copies_are_counted() -> None:
    data = b"date,AAA,AAA,AAA\n2022-01-03,1,2,3\n"
    _, report = engine.load_prices_file(data)
    assert any("column 'AAA' appears 3 times; the 2 later copies were ignored" in w for w in report.warnings)
