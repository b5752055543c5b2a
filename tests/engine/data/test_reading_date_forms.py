"""Unambiguous real-world date forms that were refused: Unix epoch timestamps (pandas
``to_json``, Polygon, Binance), a leading weekday name (``Mon 01/03/2022``, RFC 2822's
``Mon, 03 Jan 2022``) and IANA zone names after a time (``America/New_York``). Each test
copies the few rows needed and asserts the dates and values read, or the refusal's sentence.
2022-01-03 is a Monday."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)
JAN_3_S = 1641168000  # 2022-01-03 00:00:00 UTC, seconds since 1970-01-01
DAY = 86400


def _days(index: pd.Index | pd.Series) -> list[str]:
    return [pd.Timestamp(d).date().isoformat() for d in index]


def _sentiment(dates: list[str], **options: object) -> tuple[pd.DataFrame, object]:
    rows = "".join(f"{d},AAA,{10 + i},5,20,1000,0.{i + 1}\n" for i, d in enumerate(dates))
    return load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv", **options)  # type: ignore[arg-type]


# ----- Unix epoch timestamps -------------------------------------------------------------


def test_epoch_seconds_in_a_sentiment_file_are_utc_dates() -> None:
    frame, report = _sentiment([str(JAN_3_S + k * DAY) for k in range(3)])
    assert _days(frame["date"]) == ["2022-01-03", "2022-01-04", "2022-01-05"]
    assert list(frame["twitterPosts"]) == [10, 11, 12]
    assert list(frame["twitterSentiment"]) == [0.1, 0.2, 0.3]
    assert report.reading[0].date_format == "Unix timestamps in seconds (midnight UTC)"


def test_epoch_milliseconds_at_midnight_utc_in_a_wide_price_file() -> None:
    """pandas to_json of a date index: every instant at 00:00 UTC."""
    day = JAN_3_S * 1000
    text = f"date,AAA,QQQ\n{day},100.5,300.25\n{day + DAY * 1000},101.0,301.0\n"
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert _days(prices.index) == ["2022-01-03", "2022-01-04"]
    assert prices.loc["2022-01-04", "AAA"] == 101.0 and prices.loc["2022-01-03", "QQQ"] == 300.25
    assert report.reading[0].date_format == "Unix timestamps in milliseconds (midnight UTC)"


@pytest.mark.parametrize(
    ("hour", "shown"),
    [
        (21, "'1641243600000' is 2022-01-03 21:00:00 UTC"),  # a US close: its date is kept in UTC
        (
            -1,
            "'1641164400000' is 2022-01-02 23:00:00 UTC",
        ),  # a midnight at UTC+1: the UTC date is a day early
    ],
)
def test_epoch_instants_with_a_time_of_day_are_refused_not_guessed(hour: int, shown: str) -> None:
    """dates-dst-offsets kind, variant: Europe/London's midnight is 23:00 UTC the day before
    all summer (to_json of a tz-aware index); read as UTC dates, every summer row would move
    to the previous day. Right: refused, as is any instant off midnight UTC."""
    first = (JAN_3_S + hour * 3600) * 1000
    text = f"date,AAA\n{first},100.5\n{first + DAY * 1000},101.0\n"
    with pytest.raises(DataValidationError) as refused:
        load_prices_file(text.encode(), name="p.csv")
    assert str(refused.value) == (
        f"p.csv: the 'date' column holds Unix timestamps with a time of day ({shown}); the date "
        "of such an instant depends on the time zone it was taken in, so it is not guessed: write "
        "the dates as yyyy-mm-dd (or timestamps of midnight UTC)"
    )


@pytest.mark.parametrize(("scale", "unit"), [(10**6, "microseconds"), (10**9, "nanoseconds")])
def test_epoch_micro_and_nanoseconds_in_a_long_price_file(scale: int, unit: str) -> None:
    rows = "".join(
        f"{(JAN_3_S + k * DAY) * scale},{symbol},{price + k}\n"
        for k in range(2)
        for symbol, price in (("AAA", 10.0), ("BBB", 20.0))
    )
    prices, report = load_prices_file(("timestamp,symbol,close\n" + rows).encode(), name="p.csv")
    assert _days(prices.index) == ["2022-01-03", "2022-01-04"]
    assert prices["AAA"].tolist() == [10.0, 11.0] and prices["BBB"].tolist() == [20.0, 21.0]
    assert report.reading[0].date_format == f"Unix timestamps in {unit} (midnight UTC)"


def test_epoch_stamps_at_several_times_a_day_are_refused() -> None:
    hours = [JAN_3_S + 15 * 3600, JAN_3_S + 21 * 3600, JAN_3_S + DAY + 15 * 3600, JAN_3_S + DAY + 21 * 3600]
    text = "date,AAA\n" + "".join(f"{h},{100 + i}\n" for i, h in enumerate(hours))
    with pytest.raises(
        DataValidationError,
        match=r"Unix timestamps with a time of day \('1641222000' is 2022-01-03 15:00:00 UTC\)",
    ):
        load_prices_file(text.encode(), name="p.csv")


def test_epoch_units_mixed_in_one_column_are_refused() -> None:
    with pytest.raises(DataValidationError) as refused:
        _sentiment([str(JAN_3_S), str((JAN_3_S + DAY) * 1000)])
    assert str(refused.value) == (
        "s.csv: the 'date' column holds Unix timestamps in more than one unit, such as '1641168000' "
        "in seconds and '1641254400000' in milliseconds; write every timestamp in one unit, "
        "or the dates as yyyy-mm-dd"
    )


@pytest.mark.parametrize("values", [["1", "2", "31"], ["2021", "2022", "2023"], [str(JAN_3_S), "5"]])
def test_small_integers_are_no_epoch_timestamps(values: list[str]) -> None:
    text = "date,AAA\n" + "".join(f"{v},{10 + i}\n" for i, v in enumerate(values))
    with pytest.raises(DataValidationError) as refused:
        load_prices_file(text.encode(), name="p.csv")
    assert str(refused.value) == (
        "p.csv: the 'date' column holds numbers, not dates (Excel serial day numbers are accepted "
        "from 25569 to 73050, i.e. 1970 to 2099, Unix timestamps from 1973 to 2099 in one unit: "
        "seconds, milliseconds, microseconds or nanoseconds); write dates as yyyy-mm-dd"
    )


# ----- a leading weekday name ------------------------------------------------------------


def test_weekday_before_an_ambiguous_numeric_date_is_still_refused_without_an_order() -> None:
    with pytest.raises(DataValidationError) as refused:
        _sentiment(["Mon 01/03/2022", "Tue 01/04/2022"])
    assert str(refused.value).startswith(
        "s.csv: the 'date' column is ambiguous, dates such as '01/03/2022' can be day-first or month-first"
    )


def test_weekday_before_a_numeric_date_with_the_order_given() -> None:
    frame, report = _sentiment(["Mon 01/03/2022", "Tue 01/04/2022"], dayfirst=False)
    assert _days(frame["date"]) == ["2022-01-03", "2022-01-04"]
    assert list(frame["twitterPosts"]) == [10, 11]
    assert report.reading[0].date_format == (
        "%m/%d/%Y (month first); a weekday name before each date, checked against it"
    )


def test_a_weekday_that_contradicts_its_date_is_refused_naming_the_row() -> None:
    """Read day-first as asked, 01/03/2022 is Tuesday 1 March: the Monday says otherwise."""
    with pytest.raises(DataValidationError) as refused:
        _sentiment(["Mon 03/01/2022", "Mon 01/03/2022"], dayfirst=True)
    assert str(refused.value) == (
        "s.csv: row 2 of the 'date' column names a weekday that contradicts its date ('Mon 01/03/2022': "
        "2022-03-01 is a Tuesday); correct the date or remove the weekday"
    )


def test_full_weekday_and_month_names_quoted_in_a_wide_price_file() -> None:
    text = 'date,AAA\n"Monday, 3 January 2022",100.5\n"Tuesday, 4 January 2022",101.5\n'
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert _days(prices.index) == ["2022-01-03", "2022-01-04"]
    assert prices["AAA"].tolist() == [100.5, 101.5]
    assert report.reading[0].date_format == "%d %B %Y; a weekday name before each date, checked against it"


def test_rfc_2822_dates_with_a_time_in_a_long_price_file() -> None:
    text = (
        "date,symbol,close\n"
        '"Mon, 03 Jan 2022 21:00:00 +0000",AAA,10.0\n'
        '"Mon, 03 Jan 2022 21:00:00 +0000",BBB,20.0\n'
        '"Tue, 04 Jan 2022 21:00:00 +0000",AAA,11.0\n'
        '"Tue, 04 Jan 2022 21:00:00 +0000",BBB,21.0\n'
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert _days(prices.index) == ["2022-01-03", "2022-01-04"]
    assert prices["AAA"].tolist() == [10.0, 11.0] and prices["BBB"].tolist() == [20.0, 21.0]
    # Read before through the format pandas guessed (%a, %d %b %Y), the weekday unchecked.
    assert report.reading[0].date_format == (
        "%d %b %Y (with a time of day, dropped); a weekday name before each date, checked against it"
    )


def test_ctime_like_weekday_month_day_year_in_a_sentiment_file() -> None:
    frame, report = _sentiment(["Tue Jan 4 2022", "Wed Jan 5 2022"])
    assert _days(frame["date"]) == ["2022-01-04", "2022-01-05"]
    assert list(frame["twitterPosts"]) == [10, 11]
    assert report.reading[0].date_format == "%b %d %Y; a weekday name before each date, checked against it"
    with pytest.raises(
        DataValidationError, match=r"row 1 of the 'date' column names a weekday that contradicts"
    ):
        _sentiment(["Wed Jan 4 2022", "Wed Jan 5 2022"])  # was read as 2022-01-04, a Tuesday


def test_a_wrong_weekday_in_rfc_2822_form_is_refused() -> None:
    text = 'date,AAA\n"Mon, 03 Jan 2022",100\n"Mon, 04 Jan 2022",101\n'
    with pytest.raises(DataValidationError) as refused:
        load_prices_file(text.encode(), name="p.csv")
    assert str(refused.value) == (
        "p.csv: row 2 of the 'date' column names a weekday that contradicts its date ('Mon, 04 Jan 2022': "
        "2022-01-04 is a Tuesday); correct the date or remove the weekday"
    )


# ----- IANA zone names -------------------------------------------------------------------


def test_zone_names_keep_the_local_date_as_written_across_dst() -> None:
    """As for -05:00 then -04:00: the exchange's calendar date, not the UTC date."""
    text = (
        "date,AAA\n2022-03-11 00:00:00 America/New_York,104.5\n2022-03-14 00:00:00 America/New_York,105.5\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert _days(prices.index) == ["2022-03-11", "2022-03-14"]
    assert prices["AAA"].tolist() == [104.5, 105.5]
    assert report.reading[0].date_format == (
        "ISO 8601 (yyyy-mm-dd, with a time of day); time zone names (America/New_York) ignored, "
        "the local date as written is kept"
    )


def test_zone_names_east_of_utc_in_a_long_price_file_keep_the_local_date() -> None:
    """08:00 in Tokyo on the 4th is 23:00 UTC on the 3rd: the Tokyo date is kept."""
    text = (
        "date,symbol,close\n"
        "2022-01-04T08:00:00 Asia/Tokyo,7203.T,2000\n"
        "2022-01-05T08:00:00 Asia/Tokyo,7203.T,2010\n"
    )
    prices, _ = load_prices_file(text.encode(), name="p.csv")
    assert _days(prices.index) == ["2022-01-04", "2022-01-05"]
    assert prices["7203.T"].tolist() == [2000.0, 2010.0]


def test_zone_names_in_a_sentiment_file() -> None:
    frame, _ = _sentiment(["2022-01-03T16:00:00 Europe/London", "2022-01-04T16:00:00 Europe/London"])
    assert _days(frame["date"]) == ["2022-01-03", "2022-01-04"]
    assert list(frame["twitterSentiment"]) == [0.1, 0.2]


def test_java_bracketed_zone_names_keep_the_local_date_across_dst() -> None:
    """dates-dst-offsets kind, variant: Java's ZonedDateTime.toString() (RFC 9557) writes the
    zone in brackets after the offset, which changes at daylight saving. Every row was
    dropped as "date is not a valid date" and the file refused. Right: the local dates."""
    text = (
        "date,AAA,QQQ\n"
        "2022-03-11T00:00-05:00[America/New_York],104.5,300\n"
        "2022-03-14T00:00-04:00[America/New_York],105.5,301\n"
        "2022-03-15T00:00Z[UTC],106.5,302\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert _days(prices.index) == ["2022-03-11", "2022-03-14", "2022-03-15"]
    assert prices["AAA"].tolist() == [104.5, 105.5, 106.5] and not report.dropped
    assert "time zone names (America/New_York, UTC) ignored" in report.reading[0].date_format
    frame, _ = _sentiment(["2022-03-11T09:30+01:00[!Europe/Paris]", "2022-03-28T09:30+02:00[!Europe/Paris]"])
    assert _days(frame["date"]) == ["2022-03-11", "2022-03-28"]
    with pytest.raises(DataValidationError, match="names a time zone that is not known, 'America/Gotham'"):
        load_prices_file(b"date,AAA\n2022-03-11T00:00-05:00[America/Gotham],1\n", name="p.csv")


def test_zone_names_at_several_times_a_day_are_intraday_bars() -> None:
    text = "date,AAA\n" + "".join(
        f"2022-01-0{d} {h}:00:00 America/New_York,{100 + i}\n"
        for i, (d, h) in enumerate([(3, 10), (3, 15), (4, 10), (4, 15)])
    )
    with pytest.raises(DataValidationError, match="intraday bars, not daily closes"):
        load_prices_file(text.encode(), name="p.csv")


def test_an_unknown_zone_name_is_refused() -> None:
    with pytest.raises(DataValidationError) as refused:
        _sentiment(["2022-01-03 16:00:00 America/Gotham", "2022-01-04 16:00:00 America/Gotham"])
    assert str(refused.value) == (
        "s.csv: the 'date' column names a time zone that is not known, 'America/Gotham' (in "
        "'2022-01-03 16:00:00 America/Gotham'); write a zone name of the IANA database "
        "(America/New_York) or a UTC offset (-05:00)"
    )


def test_a_weekday_with_the_date_format_given_is_checked_too() -> None:
    """strptime reads %a without checking it: 'Tue 01/03/2022' was silently 2022-01-03."""
    frame, report = _sentiment(["Mon 03/01/2022", "Tue 04/01/2022"], date_format="%d/%m/%Y")
    assert _days(frame["date"]) == ["2022-01-03", "2022-01-04"]
    assert report.reading[0].date_format == (
        "%d/%m/%Y (as given); a weekday name before each date, checked against it"
    )
    with pytest.raises(DataValidationError) as refused:
        _sentiment(["Mon 01/03/2022", "Tue 01/03/2022"], date_format="%a %m/%d/%Y")
    assert str(refused.value) == (
        "s.csv: row 2 of the 'date' column names a weekday that contradicts its date ('Tue 01/03/2022': "
        "2022-01-03 is a Monday); correct the date or remove the weekday"
    )


def test_days_since_1970_are_refused_not_read_as_1950s_excel_serials() -> None:
    """R's as.numeric of a Date (days since 1970: 19000 is 2022-01-08) fell in the Excel
    serial range and was read as 1952-01-07, silently. Right: refused by name."""
    text = "date,AAA\n19000,10.0\n19001,10.5\n19004,10.7\n"
    with pytest.raises(DataValidationError) as refused:
        load_prices_file(text.encode(), name="p.csv")
    assert str(refused.value) == (
        "p.csv: the 'date' column holds numbers such as 19000 that may be days since 1970-01-01 "
        "(R's as.numeric of a date: 2022-01-08) or Excel serial day numbers (1952-01-07); neither "
        "is assumed: write dates as yyyy-mm-dd"
    )


def test_excel_serials_from_1970_are_still_read() -> None:
    prices, report = load_prices_file(b"date,AAA\n44564,10.0\n44565,10.5\n", name="p.csv")
    assert _days(prices.index) == ["2022-01-03", "2022-01-04"]
    assert report.reading[0].date_format == "Excel serial day numbers (days since 1899-12-30)"


# ----- yyyymmdd with a time of day -------------------------------------------------------

JAN_3_TO_7 = ["2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06", "2022-01-07"]


@pytest.mark.parametrize(
    ("time", "described"),
    [
        (" 00:00:00", "ISO 8601 (yyyymmdd, with a time of day)"),
        ("  16:00:00", "ISO 8601 (yyyymmdd, with a time of day)"),  # Interactive Brokers: two spaces
        ("T160000", "ISO 8601 (yyyymmdd, with a time of day)"),  # ISO 8601 basic format
        (
            "T000000Z",
            "ISO 8601 (yyyymmdd, with a time of day; UTC offsets ignored, the local date as written is kept)",
        ),
        (" 160000", "ISO 8601 (yyyymmdd, with a time of day)"),
        (
            "T160000-0500",
            "ISO 8601 (yyyymmdd, with a time of day; UTC offsets ignored, the local date as written is kept)",
        ),
        (
            " 16:00:00 US/Eastern",  # Interactive Brokers with its zone
            "ISO 8601 (yyyymmdd, with a time of day); time zone names (US/Eastern) ignored, "
            "the local date as written is kept",
        ),
    ],
)
def test_compact_dates_with_a_time_of_day_in_a_wide_price_file(time: str, described: str) -> None:
    """Breaker pass 9, F4: 20220103 alone was read, 20220103 16:00:00 (and every other time
    after a compact date) never: every row dropped as "not a valid date". The time is
    dropped as after the other date forms (5 rows, 5 dates)."""
    text = "Date,AAA,QQQ\n" + "".join(
        f"{d.replace('-', '')}{time},{100 + i},{300 + i}\n" for i, d in enumerate(JAN_3_TO_7)
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert _days(prices.index) == JAN_3_TO_7 and not report.dropped
    assert prices["AAA"].tolist() == [100, 101, 102, 103, 104] and prices.loc["2022-01-07", "QQQ"] == 304
    assert report.reading[0].date_format == described


def test_compact_dates_with_a_time_in_a_long_file_a_sentiment_file_and_parquet() -> None:
    long = "date,ticker,close\n" + "".join(
        f"{d.replace('-', '')} 16:00:00,{s},{p + i}\n"
        for i, d in enumerate(JAN_3_TO_7[:2])
        for s, p in (("AAA", 10), ("BBB", 20))
    )
    prices, _ = load_prices_file(long.encode(), name="p.csv")
    assert _days(prices.index) == JAN_3_TO_7[:2]
    assert prices["AAA"].tolist() == [10, 11] and prices["BBB"].tolist() == [20, 21]
    frame, report = _sentiment([d.replace("-", "") + "T093000" for d in JAN_3_TO_7[:3]])
    assert _days(frame["date"]) == JAN_3_TO_7[:3] and list(frame["twitterPosts"]) == [10, 11, 12]
    assert report.reading[0].date_format == "ISO 8601 (yyyymmdd, with a time of day)"
    table = pd.DataFrame({"date": ["20220103  16:00:00", "20220104  16:00:00"], "AAA": [1.5, 2.5]})
    prices, _ = load_prices_file(table.to_parquet(), name="p.parquet")
    assert _days(prices.index) == JAN_3_TO_7[:2] and prices["AAA"].tolist() == [1.5, 2.5]


def test_compact_dates_follow_the_iso_rules_for_utc_zones_and_intraday_bars() -> None:
    """A compact column stamped UTC only with a time of day is refused as the ISO extended
    form is (the value shown as written); several times a day are intraday bars."""
    with pytest.raises(DataValidationError) as refused:
        _sentiment(["20220103T150000Z", "20220104T150000Z"])
    assert str(refused.value).startswith(
        "s.csv: the 'date' column holds UTC timestamps with a time of day ('20220103T150000Z' is "
        "2022-01-03 15:00:00 UTC)"
    )
    with pytest.raises(
        DataValidationError, match=r"\('20220103 15:00:00 Etc/UTC' is 2022-01-03 15:00:00 UTC\)"
    ):
        _sentiment(["20220103 15:00:00 Etc/UTC", "20220104 15:00:00 Etc/UTC"])
    bars = "date,AAA\n" + "".join(
        f"2022010{d}T{h}0000,{100 + i}\n" for i, (d, h) in enumerate([(3, 10), (3, 15), (4, 10), (4, 15)])
    )
    with pytest.raises(DataValidationError, match=r"several times of day on 2 dates .* intraday bars"):
        load_prices_file(bars.encode(), name="p.csv")
