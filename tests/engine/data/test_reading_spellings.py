"""Real-world date spellings whose meaning is fixed (dates-day-first kind): month names with a
2-digit year, CJK year/month/day dates and space-separated numeric dates are read; the
ambiguous variant of each is still refused (or dropped as an invalid date), never guessed."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)
JAN = [pd.Timestamp(f"2022-01-{d:02d}") for d in (3, 4, 5)]


def _prices(dates: tuple[str, ...]) -> str:
    return "date,AAA\n" + "".join(f"{d},{10 + i}\n" for i, d in enumerate(dates))


# ----- month names with a 2-digit year ---------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "description"),
    [
        (("03/Jan/22", "04/Jan/22", "05/Jan/22"), "%d/%b/%y"),
        (("03-Jan-22", "04-Jan-22", "05-Jan-22"), "%d-%b-%y"),
        (("03-JAN-22", "04-JAN-22", "05-JAN-22"), "%d-%b-%y"),  # Oracle's DD-MON-RR
        (("03 Jan 22", "04 Jan 22", "05 Jan 22"), "%d %b %y"),
        (("Jan 03 22", "Jan 04 22", "Jan 05 22"), "%b %d %y"),
        (('"Jan 3, 22"', '"Jan 4, 22"', '"Jan 5, 22"'), "%b %d, %y"),
        (("03JAN2022", "04JAN2022", "05JAN2022"), "%d%b%Y"),  # SAS DATE9
        (("03JAN22", "04JAN22", "05JAN22"), "%d%b%y"),  # SAS DATE7
        (("03 Jan 2022", "04 Jan 2022", "05 Jan 2022"), "%d %b %Y"),
        (("3-jan-2022", "4-jan-2022", "5-jan-2022"), "%d-%b-%Y"),  # lower case
        (('"January 3, 2022"', '"January 4, 2022"', '"January 5, 2022"'), "%B %d, %Y"),
        (("03-JANUARY-2022", "04-JANUARY-2022", "05-JANUARY-2022"), "%d-%B-%Y"),
        (('"Jan. 3, 2022"', '"Jan. 4, 2022"', '"Jan. 5, 2022"'), "%b. %d, %Y"),  # AP style
        # Each value its own separator, as for dd/mm dates (04-Jan-22 was an invalid date).
        (("03/Jan/22", "04-Jan-22", "05 Jan 22"), "%d/%b/%y (separators vary)"),
    ],
)
def test_month_name_dates_with_any_separator_or_a_2_digit_year(
    dates: tuple[str, ...], description: str
) -> None:
    frame, report = load_prices_file(_prices(dates).encode(), name="p.csv")
    assert list(frame.index) == JAN and list(frame["AAA"]) == [10.0, 11.0, 12.0]
    assert report.reading[0].date_format == description and not report.dropped


def test_2_digit_year_after_a_month_name_follows_the_century_rule_and_is_never_a_day() -> None:
    """%y as strptime (and ``_full_year``) reads it: 00..68 -> 20yy, 69..99 -> 19yy. The
    2-digit field after the month name is the year even where it could be a day (Jan 22 03
    is 22 January 2003, not 3 January 2022)."""
    frame, _ = load_prices_file(_prices(("31-Dec-68", "02-Jan-69", "15-Mar-99", "15-Mar-00")).encode())
    assert [d.date().isoformat() for d in frame.index] == [
        "1969-01-02", "1999-03-15", "2000-03-15", "2068-12-31",
    ]  # fmt: skip
    frame, _ = load_prices_file(_prices(("Jan 22 03", "Jan 23 03")).encode())
    assert list(frame.index) == [pd.Timestamp("2003-01-22"), pd.Timestamp("2003-01-23")]


def test_month_name_column_with_a_first_field_that_is_no_day_is_not_read_year_first() -> None:
    """98-Jan-15 (a year before the month name) fits no day-first month-name format: its
    rows are invalid dates, named in the report, never moved to another day."""
    text = _prices(("03-Jan-22", "04-Jan-22", "98-Jan-15"))
    frame, report = load_prices_file(text.encode())
    assert list(frame.index) == JAN[:2]
    invalid = next(d for d in report.dropped if d.reason == "date is not a valid date")
    assert invalid.count == 1 and "'98-Jan-15'" in invalid.examples
    with pytest.raises(DataValidationError, match="write the dates in one accepted form"):
        load_prices_file(_prices(("98-Jan-15", "99-Jan-15")).encode(), name="p.csv")


def test_numeric_variant_of_a_2_digit_year_date_is_still_refused() -> None:
    """The same days without the month name (03/01/22, 04/01/22) fit day-first, month-first
    and year-first: refused in one sentence naming the options."""
    with pytest.raises(DataValidationError) as info:
        load_prices_file(_prices(("03/01/22", "04/01/22", "05/01/22")).encode(), name="p.csv")
    message = str(info.value)
    assert "is ambiguous" in message and "date_format='%d/%m/%y'" in message and "\n" not in message


# ----- CJK dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dates",
    [
        ("2022年01月03日", "2022年01月04日", "2022年01月05日"),
        ("2022年1月3日", "2022年1月4日", "2022年1月5日"),
        ("2022年1月3日(月)", "2022年1月4日(火)", "2022年1月5日(水)"),  # weekday in brackets
        ("2022년 1월 3일", "2022년 1월 4일", "2022년 1월 5일"),  # Korean
        (
            "2022年1月3日\uff08月\uff09",
            "2022年1月4日\uff08火\uff09",
            "2022年1月5日 16:00",
        ),  # full-width brackets
    ],
)
def test_cjk_year_month_day_dates(dates: tuple[str, ...]) -> None:
    frame, report = load_prices_file(_prices(dates).encode(), name="p.csv")
    assert list(frame.index) == JAN and list(frame["AAA"]) == [10.0, 11.0, 12.0]
    assert report.reading[0].date_format.startswith("yyyy年mm月dd日") and not report.dropped


def test_cjk_dates_in_a_sentiment_file() -> None:
    text = SENTIMENT_HEADER + "2022年1月3日,AAA,1,2,3,4,\n2022年1月31日,BBB,1,2,3,4,\n"
    frame, report = load_sentiment_csv(text.encode())
    assert list(frame["date"]) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-31")]
    assert not report.dropped


def test_cjk_2_digit_year_or_month_13_is_not_guessed() -> None:
    """22年1月3日 may be an era year (Heisei 22 is 2010): never read as 2022. A 13月 is no
    month: an invalid date, never swapped with the day."""
    with pytest.raises(DataValidationError, match=r"date is not a valid date, e\.g\. '22年1月3日'"):
        load_prices_file(_prices(("22年1月3日", "22年1月4日")).encode(), name="p.csv")
    frame, report = load_prices_file(_prices(("2022年1月3日", "2022年13月1日", "2022年14月1日")).encode())
    assert list(frame.index) == JAN[:1]
    assert next(d for d in report.dropped if d.reason == "date is not a valid date").count == 2


def test_iso_date_with_midnight_time() -> None:
    frame, report = load_prices_file(_prices(("2022-01-03T00:00:00", "2022-01-04T00:00:00")).encode())
    assert list(frame.index) == JAN[:2]
    assert report.reading[0].date_format == "ISO 8601 (yyyy-mm-dd, with a time of day)"


# ----- space-separated numeric dates -------------------------------------------------------


def test_space_separated_day_first_and_year_first_dates() -> None:
    frame, report = load_prices_file(_prices(("03 01 2022", "13 01 2022", "31 01 2022")).encode())
    assert [d.date().isoformat() for d in frame.index] == ["2022-01-03", "2022-01-13", "2022-01-31"]
    assert report.reading[0].date_format == "%d %m %Y (day first)"
    frame, _ = load_prices_file(_prices(("01 13 2022", "01 14 2022")).encode())
    assert list(frame.index) == [pd.Timestamp("2022-01-13"), pd.Timestamp("2022-01-14")]
    frame, report = load_prices_file(_prices(("2022 01 03", "2022 01 04", "2022 01 05")).encode())
    assert list(frame.index) == JAN and report.reading[0].date_format == "ISO 8601 (yyyy-mm-dd)"


def test_space_separated_ambiguous_dates_are_refused_as_the_slash_form() -> None:
    with pytest.raises(DataValidationError) as info:
        load_prices_file(_prices(("03 01 2022", "04 01 2022")).encode(), name="p.csv")
    message = str(info.value)
    assert message.startswith("p.csv: the 'date' column is ambiguous, dates such as '03 01 2022'")
    assert "date_format='%d %m %Y'" in message and "\n" not in message
    frame, _ = load_prices_file(_prices(("03 01 2022", "04 01 2022")).encode(), dayfirst=False)
    assert list(frame.index) == [pd.Timestamp("2022-03-01"), pd.Timestamp("2022-04-01")]
    # Too few 2-digit-year dates to tell dd mm yy from yy mm dd (as 13/04/19).
    with pytest.raises(DataValidationError, match="day-first or year-first"):
        load_prices_file(_prices(("13 04 19",)).encode(), name="p.csv")


def test_space_and_slash_in_one_column_is_one_day_first_column() -> None:
    """A column mixing separators is one column, as 03/01/2022 next to 04-01-2022: the 13
    settles day-first for every value, the space-separated ones included."""
    text = _prices(("03 01 2022", "04/01/2022", "13-01-2022"))
    frame, report = load_prices_file(text.encode())
    assert [d.date().isoformat() for d in frame.index] == ["2022-01-03", "2022-01-04", "2022-01-13"]
    assert "day first; separators" in report.reading[0].date_format and not report.dropped
    with pytest.raises(DataValidationError, match="is ambiguous"):
        load_prices_file(_prices(("03 01 2022", "04/01/2022", "05-01-2022")).encode())


@pytest.mark.parametrize("dates", [("Jan-22", "Feb-22"), ("22-Jan", "23-Jan"), ("Jan 22", "Feb 22")])
def test_month_name_with_one_2_digit_field_is_not_guessed(dates: tuple[str, ...]) -> None:
    """Jan-22 is January 2022 or the 22nd of January (of no year): no day is invented and no
    year is read as a day; the file is refused with the accepted forms."""
    with pytest.raises(
        DataValidationError, match=r"date is not a valid date.*write the dates in one accepted form"
    ):
        load_prices_file(_prices(dates).encode(), name="p.csv")
