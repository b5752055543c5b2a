"""Held-back variants of the reading field cases (dates-dst-offsets, dates-day-first,
duplicate-date-empty-first, share-class-dot-dash): each test copies the few rows that
were read wrong or refused, and the right values."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

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
    # day-first values and an ISO one: each read in its own form, the local dates as written
    assert [d.date().isoformat() for d in frame["date"]] == ["2022-03-11", "2022-03-14", "2022-03-15"]
    assert not report.dropped and any("2 forms" in w for w in report.warnings)


def test_hours_after_a_bare_date_are_no_offset() -> None:
    """2022-03-11-05 is no date with an offset (there is no time of day): not a valid date."""
    text = "date,AAA\n2022-03-10,1.0\n2022-03-11-05,2.0\n"
    prices, report = load_prices_file(text.encode())
    assert list(prices.index) == [pd.Timestamp("2022-03-10")]
    assert report.dropped[0].examples == ("'2022-03-11-05'",)


def test_go_time_strings_with_offset_and_zone_across_dst() -> None:
    """Go's time.Time.String() (-0500 EST, then -0400 EDT): every date was 'not a valid date'."""
    text = (
        "date,AAA,QQQ\n"
        "2022-03-11 00:00:00 -0500 EST,105.02,307.35\n"
        "2022-03-14 00:00:00 -0400 EDT,105.12,307.5\n"
        "2022-03-15 00:00:00.123456789 -0400 EDT,105.3,307.9\n"
    )
    prices, report = load_prices_file(text.encode())
    assert [d.date().isoformat() for d in prices.index] == ["2022-03-11", "2022-03-14", "2022-03-15"]
    assert prices.loc["2022-03-14", "QQQ"] == 307.5 and not report.dropped


def test_go_time_strings_at_several_times_of_day_are_still_intraday_bars() -> None:
    text = "date,AAA\n" + "".join(
        f"2022-03-{d} {t} -0400 EDT,1.0\n" for d in (14, 15) for t in ("09:30:00", "10:30:00")
    )
    with pytest.raises(DataValidationError, match="intraday bars"):
        load_prices_file(text.encode())


def test_comma_between_date_and_time() -> None:
    """JavaScript's toLocaleString: en-US '1/13/2022, 4:00:00 PM', de-DE '13.1.2022, 16:00:00'."""
    us = SENTIMENT_HEADER + '"1/3/2022, 4:00:00 PM",AAA,1,2,3,4,\n"1/13/2022, 4:00:00 PM",AAA,1,2,3,4,\n'
    frame, report = load_sentiment_csv(us.encode())
    assert [d.date().isoformat() for d in frame["date"]] == [
        "2022-01-03",
        "2022-01-13",
    ] and not report.dropped
    de = 'date,AAA\n"3.1.2022, 16:00:00",1.5\n"13.1.2022, 16:00:00",1.6\n'
    prices, _ = load_prices_file(de.encode())
    assert [d.date().isoformat() for d in prices.index] == ["2022-01-03", "2022-01-13"]


# ----- numbers: a mark written twice in one number is the thousands mark ------------------


def test_counts_with_a_thousands_mark_written_twice_settle_the_decimal_mark() -> None:
    """Integer counts only (twitterSentiment empty): '2,592' alone could be 2.592, but
    '7,981,808' cannot hold two decimal marks. Was refused as undecidable."""
    comma = SENTIMENT_HEADER + '2022-01-13,AAPL,811,"2,592","21,674","7,981,808",\n'
    frame, report = load_sentiment_csv(comma.encode())
    assert frame.loc[0, "twitterComments"] == 2592.0 and frame.loc[0, "twitterImpressions"] == 7981808.0
    assert (report.reading[0].decimal, report.reading[0].thousands) == (".", ",")
    dots = SENTIMENT_HEADER.replace(",", ";") + "13.01.2022;AAPL;811;2.592;21.674;7.981.808;\n"
    frame, report = load_sentiment_csv(dots.encode())
    assert frame.loc[0, "twitterLikes"] == 21674.0 and frame.loc[0, "twitterImpressions"] == 7981808.0
    assert (report.reading[0].decimal, report.reading[0].thousands) == (",", ".")


def test_both_marks_written_twice_is_still_undecidable() -> None:
    text = SENTIMENT_HEADER.replace(",", ";") + (
        "13.01.2022;AAPL;811;2.592;21.674;7.981.808;\n14.01.2022;AAPL;811;2,592;21,674;7,981,808;\n"
    )
    with pytest.raises(DataValidationError, match="could use either mark as the decimal one"):
        load_sentiment_csv(text.encode())


# ----- long-prices-ticker-column: Adj Close vs Close ---------------------------------------


def test_long_file_with_an_empty_adj_close_column_reads_the_closes() -> None:
    """Was refused: 'has no usable prices (4 dropped: close is empty)', though Close is full."""
    text = (
        "Date,Ticker,Close,Adj Close\n"
        "2022-03-29,AAPL,175.6,\n2022-03-30,AAPL,177.77,\n2022-03-29,QQQ,368.2,\n2022-03-30,QQQ,365.1,\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert prices["AAPL"].tolist() == [175.6, 177.77] and prices["QQQ"].tolist() == [368.2, 365.1]
    assert report.reading[0].price_column == "Close"
    assert "p.csv: the 'Adj Close' column is empty; prices from 'Close'" in report.warnings


def test_adj_close_with_values_is_still_preferred() -> None:
    text = "Date,Ticker,Close,Adj Close\n2022-03-29,AAPL,175.6,174.0\n2022-03-30,AAPL,177.77,\n"
    prices, report = load_prices_file(text.encode())
    assert prices["AAPL"].tolist() == [174.0] and report.reading[0].price_column == "Adj Close"


# ----- encodings ------------------------------------------------------------------------


def test_excel_unicode_text_utf16_with_bom_is_read() -> None:
    """Excel's 'Unicode Text' export (UTF-16 LE with a BOM, tabs, decimal commas): was
    refused as 'not UTF-8 text (undecodable byte at position 0)'."""
    text = "date\tAAPL\tQQQ\r\n2022-03-30\t177,77\t365,1\r\n2022-03-31\t174,61\t362,54\r\n"
    prices, report = load_prices_file(text.encode("utf-16"), name="prices.txt")
    assert prices["AAPL"].tolist() == [177.77, 174.61] and prices["QQQ"].tolist() == [365.1, 362.54]
    assert (report.reading[0].separator, report.reading[0].decimal) == ("\t", ",")
    sentiment = SENTIMENT_HEADER.replace(",", "\t") + "2022-01-13\tAAPL\t811\t2592\t21674\t7981808\t0,5\n"
    frame, _ = load_sentiment_csv(sentiment.encode("utf-16"))
    assert frame.loc[0, "twitterImpressions"] == 7981808.0 and frame.loc[0, "twitterSentiment"] == 0.5


def test_utf16_without_a_bom_is_still_refused_in_one_sentence() -> None:
    text = "date\tAAPL\r\n2022-03-30\t177.77\r\n"
    with pytest.raises(DataValidationError, match="holds NUL bytes"):
        load_prices_file(text.encode("utf-16-le"))


# ----- symbols: cashtags -----------------------------------------------------------------


def test_cashtag_symbols_are_their_tickers_in_every_layout() -> None:
    """Twitter data writes $AAPL: the rows were dropped as 'symbol is not a ticker', and a
    wide price file of $AAPL,$QQQ was refused as having no ticker columns."""
    sentiment = SENTIMENT_HEADER + "2022-01-13,$AAPL,811,2592,21674,7981808,0.5\n2022-01-13,$brk.b,8,2,1,7,\n"
    frame, report = load_sentiment_csv(sentiment.encode())
    assert frame["symbol"].tolist() == ["AAPL", "BRK.B"] and not report.dropped
    wide, _ = load_prices_file(b"date,$AAPL,$QQQ\n2022-01-13,177.77,365.1\n")
    assert list(wide.columns) == ["AAPL", "QQQ"] and wide.loc["2022-01-13", "AAPL"] == 177.77
    long, _ = load_prices_file(b"date,symbol,close\n2022-01-13,$AAPL,177.77\n2022-01-13,$QQQ,365.1\n")
    assert list(long.columns) == ["AAPL", "QQQ"] and long.loc["2022-01-13", "QQQ"] == 365.1


# ----- dates once refused: CJK times and weekdays, other digits, runs of spaces -----------


@pytest.mark.parametrize(
    "dates",
    [
        ("2022年1月3日 15時00分", "2022年1月13日 15時00分30秒"),  # Japanese time with its units
        ("2022年1月3日月曜日", "2022年1月13日 木"),  # weekday without brackets
        ("2022年1月3日 星期一", "2022年1月13日 星期四"),
        ("2022년 1월 3일 월요일", "2022년 1월 13일 15시 00분"),
        ("2022-01-03  16:00", "2022-01-13  16:00"),  # two spaces before the time
        ("03/01/2022  16:00", "13/01/2022  16:00"),
        (
            "\u0662\u0660\u0662\u0662-\u0660\u0661-\u0660\u0663",
            "\u0662\u0660\u0662\u0662-\u0660\u0661-\u0661\u0663",
        ),
        (
            "\u06f0\u06f3/\u06f0\u06f1/\u06f2\u06f0\u06f2\u06f2",
            "\u06f1\u06f3/\u06f0\u06f1/\u06f2\u06f0\u06f2\u06f2",
        ),
        (
            "2022\uff0f01\uff0f03",
            "\uff12\uff10\uff12\uff12\uff0f\uff10\uff11\uff0f\uff11\uff13",
        ),  # full-width
    ],
)
def test_dates_once_refused_are_read(dates: tuple[str, str]) -> None:
    """Each was refused: every date 'is not a valid date'."""
    text = SENTIMENT_HEADER + "".join(f"{d},AAA,1,2,3,4,\n" for d in dates)
    frame, report = load_sentiment_csv(text.encode())
    assert [d.date().isoformat() for d in frame["date"]] == [
        "2022-01-03",
        "2022-01-13",
    ] and not report.dropped


@pytest.mark.parametrize("sep", [" ", "", "\u3000"])
def test_cjk_times_at_several_times_of_day_are_intraday_bars(sep: str) -> None:
    """Read as dates, 9時00分 and 10時00分 of one day would be one date twice: still refused."""
    text = "date,AAA\n" + "".join(
        f"2022年1月{d}日{sep}{t},1\n" for d in (3, 4) for t in ("9時00分", "10時00分")
    )
    with pytest.raises(DataValidationError, match="intraday bars"):
        load_prices_file(text.encode())


def test_ideographic_space_before_intraday_times_is_still_intraday() -> None:
    text = "date,AAA\n" + "".join(f"2022-01-0{d}\u3000{t},1\n" for d in (3, 4) for t in ("09:00", "10:00"))
    with pytest.raises(DataValidationError, match="intraday bars"):
        load_prices_file(text.encode())


# ----- yfinance: one column level with its name above the Date line ------------------------


def test_ticker_named_columns_above_a_date_line_are_a_wide_file() -> None:
    """yfinance's download()['Close'] (columns named 'Ticker') written with its level name:
    was refused as 'has no date column; its columns are Ticker, AAPL, QQQ'."""
    text = (
        "Ticker,AAPL,QQQ\nDatetime,,\n"
        "2022-03-11 00:00:00-05:00,154.73,325.13\n2022-03-14 00:00:00-04:00,150.62,318.17\n"
    )
    prices, report = load_prices_file(text.encode())
    assert list(prices.columns) == ["AAPL", "QQQ"] and prices.loc["2022-03-14", "AAPL"] == 150.62
    assert [d.date().isoformat() for d in prices.index] == ["2022-03-11", "2022-03-14"]
    assert report.rows_read == 2 and not report.dropped


# ----- intraday bars with the time in its own column ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Date,Time,AAPL,QQQ\n2022-01-03,09:30,180,400\n2022-01-03,16:00,182,401\n"
        "2022-01-04,09:30,181,399\n2022-01-04,16:00,179,396\n",
        "<DATE>,<TIME>,<TICKER>,<CLOSE>\n2022-01-03,09:30,AAPL,180\n2022-01-03,16:00,AAPL,182\n"
        "2022-01-04,09:30,AAPL,181\n2022-01-04,16:00,AAPL,179\n",
    ],
)
def test_bars_with_the_time_in_its_own_column_are_intraday(text: str) -> None:
    """Was read: each day's 09:30 bar kept as its close (the 16:00 rows dropped as repeats)."""
    with pytest.raises(DataValidationError, match="intraday bars"):
        load_prices_file(text.encode())


def test_one_time_a_day_in_a_time_column_is_daily() -> None:
    text = (
        "Date,Time,Ticker,Close\n2022-01-03,16:00,AAPL,182.01\n2022-01-03,16:30,VOD.L,182.2\n"
        "2022-01-04,16:00,AAPL,179.7\n2022-01-04,16:30,VOD.L,179.1\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert prices["AAPL"].tolist() == [182.01, 179.7] and prices["VOD.L"].tolist() == [182.2, 179.1]
    assert "p.csv: the times of day in 'Time' were read with the dates" in report.warnings
    wide, _ = load_prices_file(b"Date,Time,AAPL\n03/01/2022,16:00,180\n13/01/2022,16:00,181\n")
    assert list(wide.columns) == ["AAPL"]  # never a ticker TIME


def test_a_saved_row_number_column_is_never_a_ticker_index() -> None:
    """df.reset_index().to_csv(index=False) writes 'index' = 0, 1, 2: it was a ticker INDEX
    with 'prices' 1 and 2 (its 0 emptied as not positive)."""
    text = "index,Date,AAPL,QQQ\n0,2022-01-03,182.01,401.68\n1,2022-01-04,179.7,396.0\n2,2022-01-05,174.92,385.0\n"
    prices, report = load_prices_file(text.encode())
    assert list(prices.columns) == ["AAPL", "QQQ"] and prices["AAPL"].iloc[-1] == 174.92
    (dropped,) = report.dropped
    assert dropped.unit == "columns" and dropped.examples == ("'index'",) and "row numbers" in dropped.reason


def test_a_ticker_column_named_index_with_prices_stays_a_ticker() -> None:
    prices, _ = load_prices_file(b"Date,INDEX,QQQ\n2022-01-03,100.5,401.68\n2022-01-04,101.0,396.0\n")
    assert list(prices.columns) == ["INDEX", "QQQ"]


@pytest.mark.parametrize("column", ["Close", "Adj Close", "Price", "Last"])
def test_one_close_column_without_a_ticker_is_refused_not_a_ticker_close(column: str) -> None:
    """yf.Ticker('AAPL').history()['Close'].to_csv() writes Date,Close (DST offsets included):
    it was read as a wide file of one ticker CLOSE (or PRICE, LAST)."""
    text = f"Date,{column}\n2022-03-11 00:00:00-05:00,154.73\n2022-03-14 00:00:00-04:00,150.62\n"
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text.encode(), name="aapl.csv")
    assert str(info.value) == (
        f"aapl.csv looks like a one-ticker series (its only price column is {column!r}) without the ticker's "
        "name; name the column by its ticker (date,AAPL) or add a 'Ticker' column"
    )


def test_stooq_compact_dates_and_times() -> None:
    """Stooq/Finam: <DATE> 20220103, <TIME> 093000. Hourly bars were read as daily (the first
    bar of each day kept); daily files (<TIME> 000000) read as before."""
    hourly = "<TICKER>,<PER>,<DATE>,<TIME>,<CLOSE>\n" + "".join(
        f"AAPL.US,60,2022010{d},{t},18{d}.5\n" for d in (3, 4) for t in ("093000", "103000")
    )
    with pytest.raises(DataValidationError, match="intraday bars"):
        load_prices_file(hourly.encode())
    daily = (
        "<TICKER>,<PER>,<DATE>,<TIME>,<CLOSE>\nAAPL.US,D,20220103,000000,182.01\n"
        "AAPL.US,D,20220104,000000,179.7\nQQQ.US,D,20220103,000000,401.68\nQQQ.US,D,20220104,000000,396.0\n"
    )
    prices, _ = load_prices_file(daily.encode())
    assert prices["AAPL.US"].tolist() == [182.01, 179.7] and prices["QQQ.US"].tolist() == [401.68, 396.0]
    assert [d.date().isoformat() for d in prices.index] == ["2022-01-03", "2022-01-04"]


@pytest.mark.parametrize(
    "dates",
    [
        ("2022-03-11 16:00:00 UTC+1", "2022-03-28 16:00:00 UTC+2"),  # the offset changes at DST
        ("2022-03-11 16:00:00 GMT+0100", "2022-03-28 16:00:00 GMT+02:00"),
        ("11/03/2022 4:00:00 p.m.", "28/03/2022 4:00:00 P.M."),
    ],
)
def test_utc_plus_offsets_and_dotted_pm(dates: tuple[str, str]) -> None:
    """Each was refused: every date 'is not a valid date'."""
    text = SENTIMENT_HEADER + "".join(f"{d},AAA,1,2,3,4,\n" for d in dates)
    frame, report = load_sentiment_csv(text.encode())
    assert [d.date().isoformat() for d in frame["date"]] == [
        "2022-03-11",
        "2022-03-28",
    ] and not report.dropped


# ----- dates-day-first: one or two stray values must not decide the column ----------------


def _day_first_up_to_the_12th_and(stray: str) -> str:
    """Day-first rows of Jan and Feb 2022, days 1..12 only (each fits month-first too),
    in date order, then one stray value that fits month-first only."""
    days = [d for d in pd.date_range("2022-01-01", "2022-02-28") if d.day <= 12]
    return (
        SENTIMENT_HEADER + "".join(f"{d:%d/%m/%Y},AAA,1,2,3,4,\n" for d in days) + f"{stray},AAA,1,2,3,4,\n"
    )


def test_one_stray_value_against_the_files_date_order_is_refused() -> None:
    """Was read month-first because of '01/25/2022' alone: 24 rows moved to Mar..Dec, no word."""
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(_day_first_up_to_the_12th_and("01/25/2022").encode(), name="s.csv")
    assert str(info.value).startswith(
        "s.csv: the 'date' column is ambiguous, '01/25/2022' alone makes it month-first, while its other dates "
        "are in date order only day-first; say which with dayfirst=True/False"
    )


def test_the_asked_order_wins_over_one_stray_value() -> None:
    """dayfirst=True (the Data page's 'Day first', --dayfirst) was overruled by '01/25/2022'."""
    frame, report = load_sentiment_csv(_day_first_up_to_the_12th_and("01/25/2022").encode(), dayfirst=True)
    assert sorted(set(frame["date"].dt.month)) == [1, 2] and len(frame) == 24
    (drop,) = report.dropped
    assert drop.reason == "date is not a valid date" and drop.examples == ("'01/25/2022'",)


def test_many_values_of_the_other_order_still_win_over_the_asked_order() -> None:
    """--dayfirst applies to both files of a run: a month-first price file (days 13..31)
    is still read month-first."""
    # Closes that move: a flat close on an NYSE holiday (01-17, 02-21) is a filled-forward day.
    days = pd.bdate_range("2022-01-03", "2022-02-28")
    text = "date,AAA\n" + "".join(f"{d:%m/%d/%Y},{1.5 + i / 100:.2f}\n" for i, d in enumerate(days))
    prices, report = load_prices_file(text.encode(), dayfirst=True)
    assert len(prices) == 41 and not report.dropped and "month first" in str(report.reading[0].date_format)


def test_dates_in_order_both_ways_are_read_as_the_deciding_value_says() -> None:
    text = SENTIMENT_HEADER + "".join(
        f"{d:%d/%m/%Y},AAA,1,2,3,4,\n" for d in pd.date_range("2022-01-01", "2022-01-13")
    )
    frame, _ = load_sentiment_csv(text.encode())
    assert frame["date"].dt.day.tolist() == list(range(1, 14)) and set(frame["date"].dt.month) == {1}


# ----- dates-dst-offsets: the zone database's POSIX-style US names ------------------------


def test_posix_style_zone_names_are_zone_names() -> None:
    """EST5EDT is a name of the IANA database (zoneinfo knows it): the file was refused as
    "date is not a valid date"; an unknown name of that shape is refused naming it."""
    text = "date,AAA\n2022-03-11 00:00:00 EST5EDT,1\n2022-03-14 00:00:00 EST5EDT,2\n"
    prices, report = load_prices_file(text.encode())
    assert [d.date().isoformat() for d in prices.index] == ["2022-03-11", "2022-03-14"] and not report.dropped
    with pytest.raises(DataValidationError, match="time zone that is not known, 'ABC5DEF'"):
        load_prices_file(text.replace("EST5EDT", "ABC5DEF").encode())
