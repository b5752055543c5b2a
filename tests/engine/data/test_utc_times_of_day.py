"""UTC-stamped ISO 8601 dates with a time of day (breaker report F4): a yfinance index of
Tokyo midnights converted to UTC before ``to_csv`` reads 15:00 UTC the day before; read at
the written (UTC) date, every close moved a day back (Monday onto Sunday), silently, while
the same instants as Unix seconds were refused. One sentence for both now
(``engine.data.reading.utc_instant_refusal``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

TOKYO_UTC = pd.bdate_range("2022-01-03", "2022-01-14", tz="Asia/Tokyo").tz_convert("UTC")
TAIL = (
    "UTC); the date of such an instant depends on the time zone it was taken in, so it is not "
    "guessed: write the dates as yyyy-mm-dd (or timestamps of midnight UTC)"
)


def _prices(stamps: list[str]) -> bytes:
    return ("Date,AAA,QQQ\n" + "".join(f"{d},{100 + i},{300 + i}\n" for i, d in enumerate(stamps))).encode()


@pytest.mark.parametrize("writer", [lambda d: d.isoformat(), lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")])
def test_utc_stamps_with_a_time_of_day_are_refused_like_unix_seconds(writer) -> None:
    text = _prices([writer(d) for d in TOKYO_UTC])
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text, name="p.csv")
    first = writer(TOKYO_UTC[0])
    assert str(info.value) == (
        f"p.csv: the 'Date' column holds UTC timestamps with a time of day ({first!r} is "
        f"2022-01-02 15:00:00 {TAIL}"
    )
    unix = _prices([str(int(d.timestamp())) for d in TOKYO_UTC])
    with pytest.raises(DataValidationError) as same:
        load_prices_file(unix, name="p.csv")
    assert str(same.value).endswith(TAIL)


def test_sentiment_file_with_utc_times_of_day_is_refused() -> None:
    text = (
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "2022-01-02T15:00:00Z,AAA,1,2,3,4,\n2022-01-03T15:00:00Z,AAA,1,2,3,4,\n"
    )
    with pytest.raises(DataValidationError, match="holds UTC timestamps with a time of day"):
        load_sentiment_csv(text.encode(), name="s.csv")


def test_utc_midnight_and_local_offsets_are_read_at_the_date_as_written() -> None:
    """Midnight UTC is a date (pandas' to_csv of a UTC date index); a column that writes a
    local offset (New York's -05:00 next to London's +00:00) says its dates are local."""
    midnight = _prices(["2022-01-03T00:00:00Z", "2022-01-04 00:00:00+00:00", "2022-01-05T00:00:00+00:00"])
    frame, _ = load_prices_file(midnight, name="p.csv")
    assert [d.date().isoformat() for d in frame.index] == ["2022-01-03", "2022-01-04", "2022-01-05"]
    mixed = (
        "date,ticker,close\n2022-01-03 16:00:00-05:00,AAA,10\n2022-01-03 16:30:00+00:00,VOD.L,20\n"
        "2022-01-04 16:00:00-05:00,AAA,11\n2022-01-04 16:30:00+00:00,VOD.L,21\n"
    )
    frame, _ = load_prices_file(mixed.encode(), name="p.csv")
    assert [d.date().isoformat() for d in frame.index] == ["2022-01-03", "2022-01-04"]
    local = _prices(["2022-01-03T16:00:00-05:00", "2022-01-04T16:00:00-05:00", "2022-01-05T16:00:00-05:00"])
    frame, _ = load_prices_file(local, name="p.csv")
    assert [d.date().isoformat() for d in frame.index] == ["2022-01-03", "2022-01-04", "2022-01-05"]


# London closes written with their zone abbreviation: GMT in winter, BST from 2022-03-27.
LONDON = pd.bdate_range("2022-03-21", "2022-04-01")


@pytest.mark.parametrize(
    ("winter", "summer"),
    [
        ("GMT", "BST"),  # London (the LSE closes at 16:30)
        ("CET", "CEST"),  # Paris, Frankfurt
        ("AEDT", "AEST"),  # Sydney (summer first, south of the equator)
        ("IST", "IST"),  # India, no daylight saving
        ("JST", "JST"),
    ],
)
def test_zone_abbreviations_are_local_zones_and_keep_the_date_as_written(winter: str, summer: str) -> None:
    """Breaker pass 9, F1: 'GMT' in winter and 'BST' in summer (an LSE vendor's London closes)
    were refused as "UTC timestamps with a time of day": only offsets and UTC+n counted as
    local zones, never an abbreviation. A column that writes a local zone is read at the
    local dates as written, as the same column with +00:00/+01:00 is (10 rows, 10 dates)."""
    stamps = [
        d.strftime("%Y-%m-%d 16:30:00 ") + (summer if d >= pd.Timestamp("2022-03-28") else winter)
        for d in LONDON
    ]
    prices, report = load_prices_file(_prices(stamps), name="p.csv")
    assert len(prices) == 10 and not report.dropped
    assert prices.index[0].date().isoformat() == "2022-03-21"
    assert prices.index[-1].date().isoformat() == "2022-04-01"
    assert prices.loc["2022-03-28", "AAA"] == 105 and prices.loc["2022-03-25", "QQQ"] == 304
    assert report.reading[0].date_format == (
        "ISO 8601 (yyyy-mm-dd, with a time of day; UTC offsets ignored, the local date as written is kept)"
    )


def test_gmt_and_bst_in_a_sentiment_file_and_a_long_price_file() -> None:
    sentiment = (
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "2022-03-25 16:30:00 GMT,VOD.L,1,2,3,4,\n2022-03-28 16:30:00 BST,VOD.L,1,2,3,4,\n"
    )
    frame, _ = load_sentiment_csv(sentiment.encode(), name="s.csv")
    assert [d.date().isoformat() for d in frame["date"]] == ["2022-03-25", "2022-03-28"]
    long = "date,ticker,close\n2022-03-25 16:30:00 GMT,VOD.L,101.5\n2022-03-28 16:30:00 BST,VOD.L,102.5\n"
    prices, _ = load_prices_file(long.encode(), name="p.csv")
    assert [d.date().isoformat() for d in prices.index] == ["2022-03-25", "2022-03-28"]
    assert prices["VOD.L"].tolist() == [101.5, 102.5]


@pytest.mark.parametrize("zones", [("GMT", "GMT"), ("GMT", "UTC"), ("UTC", "UCT")])
def test_a_column_stamped_with_utc_abbreviations_only_is_still_refused(zones: tuple[str, str]) -> None:
    """docs/data.md: a column stamped UTC only (UTC, GMT, UCT) with a time of day other than
    midnight has no local date (London's winter alone cannot be told from UTC)."""
    stamps = ["2022-01-03 16:30:00 " + zones[0], "2022-01-04 16:30:00 " + zones[1]]
    with pytest.raises(DataValidationError) as info:
        load_prices_file(_prices(stamps), name="p.csv")
    assert str(info.value) == (
        f"p.csv: the 'Date' column holds UTC timestamps with a time of day ('2022-01-03 16:30:00 {zones[0]}' "
        f"is 2022-01-03 16:30:00 {TAIL}"
    )


CASE = Path("/work/shared/cases/dates-dst-offsets")


@pytest.mark.skipif(not CASE.exists(), reason="the field case is not on this machine")
def test_dates_dst_offsets_field_case_still_loads() -> None:
    prices, _ = load_prices_file(CASE / "prices.csv")
    assert prices.index[0].date().isoformat() == "2022-01-03"
    frame, _ = load_sentiment_csv(CASE / "sentiment_tz.csv")
    assert len(frame) == 240
