"""dates-day-first, a held-back variant: a date column written in several forms (an ISO
history with rows appended as dd/mm/yyyy, yyyymmdd or with the month named). Read as one
form, the other rows were dropped as "not a valid date" and the run started a month late;
each value is now read in its own form, and the report says so."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def _sentiment(dates: list[str]) -> bytes:
    return (SENTIMENT_HEADER + "".join(f"{d},AAA,100,60,200,10000,0.1\n" for d in dates)).encode()


def test_iso_history_with_day_first_rows_appended_keeps_every_row() -> None:
    written = ["2022-01-03", "2022-01-17", "01/02/2022", "15/02/2022", "01/03/2022", "28/03/2022"]
    frame, report = load_sentiment_csv(_sentiment(written))
    assert [d.date().isoformat() for d in frame["date"]] == [
        "2022-01-03", "2022-01-17", "2022-02-01", "2022-02-15", "2022-03-01", "2022-03-28",
    ]  # fmt: skip
    assert not report.dropped
    (note,) = [w for w in report.warnings if "forms" in w]
    assert "ISO 8601 (yyyy-mm-dd) for 2 dates" in note and "%d/%m/%Y (day first) for 4 dates" in note


def test_compact_and_named_month_rows_among_iso_are_read() -> None:
    written = ["2022-01-03", "2022-01-04", "2022-01-05", "20220301", "02 Mar 2022"]
    frame, report = load_sentiment_csv(_sentiment(written))
    assert [d.date().isoformat() for d in frame["date"]] == [
        "2022-01-03", "2022-01-04", "2022-01-05", "2022-03-01", "2022-03-02",
    ]  # fmt: skip
    assert not report.dropped


def test_a_named_month_column_with_one_iso_value_keeps_the_named_ones() -> None:
    """The one ISO value was the column's 'form' (the only one with a pattern of its own)
    and every named date was dropped."""
    frame, report = load_sentiment_csv(_sentiment(["03 Jan 2022", "04 Jan 2022", "2022-01-05"]))
    assert [d.date().isoformat() for d in frame["date"]] == ["2022-01-03", "2022-01-04", "2022-01-05"]
    assert not report.dropped


def test_price_history_with_a_month_appended_day_first_keeps_that_month() -> None:
    iso = "date,AAA,QQQ\n2022-03-30,10.0,100.0\n2022-03-31,10.5,101.0\n"
    appended = "01/04/2022,11.0,102.0\n04/04/2022,11.5,101.5\n13/04/2022,12.0,103.0\n"
    prices, report = load_prices_file((iso + appended).encode(), name="p.csv")
    assert [d.date().isoformat() for d in prices.index] == [
        "2022-03-30", "2022-03-31", "2022-04-01", "2022-04-04", "2022-04-13",
    ]  # fmt: skip
    assert prices.loc["2022-04-13", "AAA"] == 12.0 and not report.dropped


def test_a_lone_ambiguous_day_month_value_among_iso_is_an_invalid_date() -> None:
    frame, report = load_sentiment_csv(_sentiment(["2022-01-03", "2022-01-04", "01/04/2022"]))
    assert [d.date().isoformat() for d in frame["date"]] == ["2022-01-03", "2022-01-04"]
    (drop,) = report.dropped
    assert drop.reason == "date is not a valid date" and drop.examples == ("'01/04/2022'",)


def test_many_ambiguous_day_month_values_among_iso_are_refused_until_the_order_is_given() -> None:
    written = ["2022-01-03", "2022-01-04", "01/02/2022", "02/02/2022", "03/02/2022"]
    with pytest.raises(DataValidationError, match=r"ambiguous.*dayfirst"):
        load_sentiment_csv(_sentiment(written))
    frame, _ = load_sentiment_csv(_sentiment(written), dayfirst=True)
    assert list(frame["date"]) == list(
        pd.to_datetime(["2022-01-03", "2022-01-04", "2022-02-01", "2022-02-02", "2022-02-03"])
    )


def test_placeholders_of_another_form_are_invalid_dates_not_a_form() -> None:
    written = [f"2022-01-{d:02d}" for d in range(3, 15)] + ["12/31/9999", "20229999"]
    frame, report = load_sentiment_csv(_sentiment(written))
    assert len(frame) == 12 and not any("forms" in w for w in report.warnings)
    (drop,) = report.dropped
    assert drop.reason == "date is not a valid date" and drop.count == 2


def test_a_date_format_asked_for_a_mixed_column_says_no_one_format_reads_it() -> None:
    written = [f"2022-01-{d:02d}" for d in range(3, 13)] + [f"{d:02d}/02/2022" for d in range(13, 23)]
    with pytest.raises(
        DataValidationError, match=r"written in several forms .*no one date format reads them all"
    ):
        load_sentiment_csv(_sentiment(written), date_format="%d/%m/%Y")
