"""Held-back variants of the reading field cases (dates-dst-offsets, dates-day-first,
duplicate-date-empty-first, share-class-dot-dash): each test copies the few rows that
were read wrong or refused, and the right values."""

from __future__ import annotations

import pandas as pd

from engine import load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


# ----- dates-dst-offsets: an offset of hours only ----------------------------------------

# PostgreSQL's text form of a timestamptz (COPY ... TO CSV, psql): the offset in hours only,
# -05 before the US daylight-saving change and -04 after it.
POSTGRES_PRICES = (
    "date,AAA,QQQ\n"
    "2022-03-10 00:00:00-05,104.91,307.2\n"
    "2022-03-11 00:00:00-05,105.02,307.35\n"
    "2022-03-14 00:00:00-04,105.12,307.5\n"
    "2022-03-15 16:00:00.5-04,105.3,307.9\n"
)


def test_hour_only_utc_offsets_that_change_at_dst_keep_the_local_dates() -> None:
    """Was refused: every date 'is not a valid date'."""
    prices, report = load_prices_file(POSTGRES_PRICES.encode(), name="prices.csv")
    assert [d.date().isoformat() for d in prices.index] == [
        "2022-03-10",
        "2022-03-11",
        "2022-03-14",
        "2022-03-15",
    ]
    assert prices.loc["2022-03-14", "AAA"] == 105.12 and not report.dropped
    assert "UTC offsets ignored" in str(report.reading[0].date_format)


def test_hour_only_offsets_in_the_sentiment_file_and_after_day_first_dates() -> None:
    text = SENTIMENT_HEADER + (
        "11/03/2022 00:00:00-05,AAA,100,60,200,10000,\n"
        "14/03/2022 00:00:00-04,AAA,100,60,200,10000,\n"
        "2022-03-15 00:00:00+05,AAA,100,60,200,10000,\n"
    )
    frame, report = load_sentiment_csv(text.encode())
    assert [d.date().isoformat() for d in frame["date"]] == ["2022-03-11", "2022-03-14"]
    (drop,) = report.dropped  # the column is day-first: the ISO value does not fit it
    assert drop.reason == "date is not a valid date" and drop.examples == ("'2022-03-15 00:00:00+05'",)


def test_hours_after_a_bare_date_are_no_offset() -> None:
    """2022-03-11-05 is no date with an offset (there is no time of day): not a valid date."""
    text = "date,AAA\n2022-03-10,1.0\n2022-03-11-05,2.0\n"
    prices, report = load_prices_file(text.encode())
    assert list(prices.index) == [pd.Timestamp("2022-03-10")]
    assert report.dropped[0].examples == ("'2022-03-11-05'",)
