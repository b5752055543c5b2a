"""A repeated column is reported by its real name and dropped (never renamed 'AAA.1')."""

from __future__ import annotations

import engine


def test_repeated_ticker_column_in_a_wide_file() -> None:
    data = b"date,AAA,AAA,QQQ\n2022-01-03,1,2,3\n2022-01-04,1.5,2,3.5\n"
    prices, report = engine.load_prices_file(data)
    assert list(prices.columns) == ["AAA", "QQQ"]
    assert prices["AAA"].tolist() == [1.0, 1.5]  # the first copy is kept
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


# A repeated column whose first copy is empty (duplicate-date-empty-first kind, by column: a
# merged spreadsheet). The first copy was kept and the later one ignored: AAA had no price
# at all, or a price only on the days the first copy had one (the rest forward-filled).


def test_repeated_ticker_column_whose_first_copy_is_empty_takes_the_later_prices() -> None:
    data = b"date,AAA,QQQ,AAA\n2022-03-30,,2,1\n2022-03-31,,3,5\n"
    prices, report = engine.load_prices_file(data, name="p.csv")
    assert prices["AAA"].tolist() == [1.0, 5.0] and prices["QQQ"].tolist() == [2.0, 3.0]
    assert report.failed_tickers == ()
    assert report.warnings == (
        "p.csv: column 'AAA' appears twice; 2 empty cell(s) of the first copy were filled from the later copy",
    )


def test_repeated_ticker_column_fills_only_the_empty_cells_and_says_where_copies_differ() -> None:
    data = b"date,AAA,QQQ,AAA\n2022-03-29,0.5,2,0.7\n2022-03-30,,2,1\n2022-03-31,,3,5\n"
    prices, report = engine.load_prices_file(data, name="p.csv")
    assert prices["AAA"].tolist() == [0.5, 1.0, 5.0]  # the first copy's 0.5 is kept
    assert report.warnings == (
        "p.csv: column 'AAA' appears twice; 2 empty cell(s) of the first copy were filled from the later "
        "copy, and in 1 row(s) where the copies differ the first copy's value was kept",
    )


def test_repeated_close_column_of_a_long_file_whose_first_copy_is_empty() -> None:
    """Was refused: 'has no usable prices (4 dropped: close is empty)'."""
    data = b"date,symbol,close,close\n2022-03-30,AAA,,1\n2022-03-31,AAA,,5\n2022-03-30,QQQ,,2\n2022-03-31,QQQ,,6\n"
    prices, report = engine.load_prices_file(data)
    assert prices["AAA"].tolist() == [1.0, 5.0] and prices["QQQ"].tolist() == [2.0, 6.0]
    assert not report.dropped


def test_repeated_symbol_column_of_a_sentiment_file_whose_first_copy_is_empty() -> None:
    data = (
        b"date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment,symbol\n"
        b"2022-01-03,,1,2,3,4,0.5,AAA\n2022-01-04,AAA,1,2,3,4,0.5,AAA\n"
    )
    frame, report = engine.load_sentiment_csv(data)
    assert frame["symbol"].tolist() == ["AAA", "AAA"] and not report.dropped


def test_same_ticker_in_another_case_fills_the_first_columns_empty_cells() -> None:
    data = b"date,aaa,QQQ,AAA\n2022-03-30,,2,1\n2022-03-31,2,3,5\n"
    prices, report = engine.load_prices_file(data)
    assert prices["AAA"].tolist() == [1.0, 2.0]  # 2.0: the first column's own price is kept
    (dropped,) = report.dropped
    assert dropped.unit == "columns" and dropped.examples == ("'AAA'",)
    assert "its empty cells taken from this one" in dropped.reason
