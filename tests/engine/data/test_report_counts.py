"""Report counts add up for every file: rows read = rows kept + rows dropped, by reason
(reviewer finding: rows outside the loading window vanished without a reason, and a long
price file counted long rows in and dates out)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

import engine

HEAD = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
# dates-day-first case, shortened: sentiment in Jan-Feb 2022, prices from 2018 to 2023.
SENTIMENT = HEAD + "".join(
    f"2022-{m:02d}-{d:02d},{s},5,3,40,900,0.1\n" for m in (1, 2) for d in (3, 10, 17) for s in ("AAA", "BBB")
)
# Mostly daily (weekly or monthly bars are refused): 17 days, 15 in the loading window.
PRICE_DAYS = [
    "2018-06-01",
    "2018-12-20",
    "2021-06-01",
    *(f"{d:%Y-%m-%d}" for d in pd.bdate_range("2022-01-03", "2022-01-14")),
    "2022-02-01",
    "2022-02-02",
    "2022-06-01",
    "2023-01-02",
]


def _wide() -> bytes:
    # prices move from day to day: a weekday whose every price repeats is a filled holiday
    return (
        "date,AAA,BBB,QQQ\n" + "".join(f"{d},{1 + i},{2 + i},{3 + i}\n" for i, d in enumerate(PRICE_DAYS))
    ).encode()


def _long(extra: str = "") -> bytes:
    symbols = ["AAA", "BBB", "QQQ", *([extra] if extra else [])]
    return (
        "date,symbol,close\n"
        + "".join(f"{d},{s},{2 + i}\n" for i, d in enumerate(PRICE_DAYS) for s in symbols)
    ).encode()


def _outside(report: engine.ValidationReport) -> int:
    return sum(d.count for d in report.dropped if d.reason.startswith("outside the backtest's date window"))


def test_wide_price_rows_outside_the_window_are_counted() -> None:
    data = engine.load_market_data(engine.FileProvider(sentiment=SENTIMENT.encode(), prices=_wide()))
    report = data.report
    # 12 sentiment rows + 17 price rows read; 2018-06-01 and 2023-01-02 are outside the window
    assert report.rows_read == 12 + 17
    assert _outside(report) == 2
    assert report.rows_kept == 12 + 15
    assert report.rows_read == report.rows_kept + report.rows_dropped


def test_long_price_file_counts_long_rows_in_and_out() -> None:
    data = engine.load_market_data(engine.FileProvider(sentiment=SENTIMENT.encode(), prices=_long("ZZZ")))
    report = data.report
    assert report.rows_read == 12 + 17 * 4  # long rows, not dates
    assert _outside(report) == 2 * 4
    unused = [d for d in report.dropped if d.reason.startswith("symbol not needed")]
    assert unused[0].count == 15 and unused[0].examples == ("'ZZZ'",)
    assert report.rows_kept == 12 + 15 * 3
    assert report.rows_read == report.rows_kept + report.rows_dropped


def test_a_wide_file_names_its_unused_symbols_as_columns() -> None:
    """The long file says its ZZZ rows were not needed; the same data as a wide file
    dropped the ZZZ column without a word ("No rows dropped")."""
    wide = (
        "date,AAA,BBB,QQQ,ZZZ\n" + "".join(f"{d},{1 + i},2,3,4\n" for i, d in enumerate(PRICE_DAYS))
    ).encode()
    report = engine.load_market_data(engine.FileProvider(sentiment=SENTIMENT.encode(), prices=wide)).report
    unused = [d for d in report.dropped if d.reason.startswith("symbol not needed")]
    assert [(d.count, d.unit, d.examples) for d in unused] == [(1, "columns", ("'ZZZ'",))]
    assert report.rows_read == report.rows_kept + report.rows_dropped  # columns are not rows


def test_narrowing_the_sentiment_dates_is_counted() -> None:
    provider = engine.FileProvider(sentiment=SENTIMENT.encode(), prices=_wide())
    data = engine.load_market_data(provider, start=dt.date(2022, 2, 1))
    report = data.report
    assert len(data.sentiment) == 6
    assert report.rows_read == report.rows_kept + report.rows_dropped
    assert _outside(report) >= 6


def test_cells_and_columns_are_not_counted_as_rows() -> None:
    prices = b"date,AAA,bad name,QQQ\n2022-01-03,1,2,x\n2022-01-04,1,2,3\n"
    _, report = engine.load_prices_file(prices)
    units = {d.reason: d.unit for d in report.dropped}
    assert "columns" in units.values() and "cells" in units.values()
    assert report.rows_read == report.rows_kept + report.rows_dropped == 2
