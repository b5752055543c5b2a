"""Adversarial spellings of the month-name, CJK and space-separated date forms (dates-day-first
kind): a year-first ``yy-Mon-dd`` column, months named in another language, mixed year widths
and full month names, full-width digits. Each was a silently wrong or partly dropped read."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def _prices(dates: tuple[str, ...]) -> bytes:
    return ("date,AAA\n" + "".join(f"{d},{10 + i}\n" for i, d in enumerate(dates))).encode()


def test_year_first_month_name_dates_are_refused_not_read_as_day_22_of_many_years() -> None:
    """22-Jan-03 .. 22-Jan-07 (yy-Mon-dd, 2022-01-03 ..) were read as 2003-01-22 .. 2007-01-22."""
    dates = ("22-Jan-03", "22-Jan-04", "22-Jan-05", "22-Jan-06", "22-Jan-07")
    with pytest.raises(DataValidationError, match="day or the 2-digit year first"):
        load_prices_file(_prices(dates), name="p.csv")
    frame, _ = load_prices_file(_prices(dates), name="p.csv", date_format="%y-%b-%d")
    assert list(frame.index) == list(pd.date_range("2022-01-03", periods=5))


def test_a_monthly_day_first_column_in_date_order_is_read() -> None:
    """01-Jan-15 .. 01-Dec-22 (a monthly file on the first of the month, Excel's DD-MON-YY)
    was refused as "few days over many years": in date order read day-first, it goes back
    in time every year read year-first (2001-12-15, then 2001-01-16), as the numeric
    yy/mm/dd rule decides. Sorted by symbol (runs) too; shuffled, it stays refused."""
    months = pd.date_range("2015-01-01", "2022-12-01", freq="MS")
    written = tuple(months.strftime("%d-%b-%y"))
    frame, _ = load_prices_file(_prices(written), name="p.csv")
    assert list(frame.index) == list(months)
    runs = "".join(f"{d},{s},1,2,30,40,0.5\n" for s in ("AAA", "BBB") for d in written)
    sentiment, _ = load_sentiment_csv((SENTIMENT_HEADER + runs).encode(), name="s.csv")
    assert sorted(set(sentiment["date"])) == list(months)
    shuffled = tuple(pd.Series(written).sample(frac=1.0, random_state=0))
    with pytest.raises(DataValidationError, match="day or the 2-digit year first"):
        load_prices_file(_prices(shuffled), name="p.csv")


def test_a_year_first_column_in_order_both_ways_stays_refused() -> None:
    """22-Jan-03 .. 22-Jan-28 are in date order read either way (2003, 2004, .. read
    day-first): the order says nothing, so the column is still refused."""
    written = tuple(pd.bdate_range("2022-01-03", periods=20).strftime("%y-%b-%d"))
    with pytest.raises(DataValidationError, match="day or the 2-digit year first"):
        load_prices_file(_prices(written), name="p.csv")


def test_day_first_month_name_dates_over_few_years_are_still_read() -> None:
    dates = ("03-Jan-22", "04-Jan-22", "31-Dec-21")
    frame, _ = load_prices_file(_prices(dates), name="p.csv")
    assert list(frame.index) == [pd.Timestamp(d) for d in ("2021-12-31", "2022-01-03", "2022-01-04")]


@pytest.mark.parametrize(
    ("dates", "word"),
    [
        (("28-Feb-22", "01-Mär-22", "02-Mär-22"), "Mär"),  # German: Feb read, Mär dropped before
        (("3 Jan 2022", "1 Mai 2022", "2 Mai 2022"), "Mai"),
        (("30-Nov-22", "01-Dez-22"), "Dez"),
        (("03-gen-22", "01-feb-22", "01-mag-22"), "gen"),  # Italian
    ],
)
def test_months_named_in_another_language_are_refused(dates: tuple[str, ...], word: str) -> None:
    with pytest.raises(DataValidationError, match=f"language other than English \\('{word}'"):
        load_prices_file(_prices(dates), name="p.csv")


def test_mixed_year_widths_and_full_month_names_in_one_column() -> None:
    """03-Jan-22 next to 04-Jan-2022: the 4-digit half was dropped as invalid dates;
    'February 21 22' among 'May 02 22' was dropped (only May read)."""
    frame, _ = load_prices_file(_prices(("03-Jan-22", "04-Jan-2022", "05-Jan-22")), name="p.csv")
    assert list(frame.index) == list(pd.date_range("2022-01-03", periods=3))
    frame, _ = load_prices_file(_prices(("February 21 22", "March 01 22", "May 02 22")), name="p.csv")
    assert list(frame.index) == [pd.Timestamp(d) for d in ("2022-02-21", "2022-03-01", "2022-05-02")]
    assert list(frame["AAA"]) == [10, 11, 12]


def test_full_width_digits_are_read_as_digits() -> None:
    """2022年1月3日 in full-width digits (U+FF10..U+FF19, Japanese input) was refused as an
    invalid date."""
    wide = str.maketrans({str(d): chr(0xFF10 + d) for d in range(10)})
    first, second = "2022年1月3日".translate(wide), "2022年1月4日".translate(wide)
    text = SENTIMENT_HEADER + f"{first},AAPL,1,2,3,4,0.5\n{second},AAPL,1,2,3,4,0.25\n"
    frame, _ = load_sentiment_csv(text.encode(), name="s.csv")
    assert list(frame["date"]) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")]
    frame, _ = load_prices_file(
        _prices(("2022-01-03".translate(wide), "2022-01-04".translate(wide))), name="p.csv"
    )
    assert list(frame.index) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")]


def test_sept_is_september() -> None:
    """03-Sept-22 (the UK abbreviation) was dropped as an invalid date."""
    frame, _ = load_prices_file(_prices(("30-Aug-22", "01-Sept-22", "02-SEPT-22")), name="p.csv")
    assert list(frame.index) == [pd.Timestamp(d) for d in ("2022-08-30", "2022-09-01", "2022-09-02")]


def test_korean_dotted_dates() -> None:
    """2022. 1. 3. (Korean: year, month, day, each followed by a dot) was refused."""
    frame, _ = load_prices_file(_prices(("2022. 1. 3.", "2022. 1. 4.", "2022. 1. 14.")), name="p.csv")
    assert list(frame.index) == [pd.Timestamp(d) for d in ("2022-01-03", "2022-01-04", "2022-01-14")]


def test_one_misspelt_month_is_an_invalid_date_not_a_language() -> None:
    frame, report = load_prices_file(_prices(("03-Jan-22", "04-Jna-22", "05-Jan-22")), name="p.csv")
    assert list(frame.index) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-05")]
    assert report.dropped[0].count == 1 and "not a valid date" in report.dropped[0].reason


def test_month_first_with_year_before_day_is_refused_and_the_named_format_reads_it() -> None:
    """Jan 22 03 (Mon yy dd) was read as 2003-01-22 .. 2005-01-22."""
    dates = ("Jan 22 03", "Jan 22 04", "Jan 22 05")
    with pytest.raises(DataValidationError, match="date_format='%b %d %y' or '%b %y %d'"):
        load_prices_file(_prices(dates), name="p.csv")
    with pytest.raises(DataValidationError, match="date_format='%d-%b-%y' or '%y-%b-%d'"):
        load_prices_file(_prices(("22-Jan-03", "22-Jan-04", "22-Jan-05")), name="p.csv")
    frame, _ = load_prices_file(_prices(dates), name="p.csv", date_format="%b %y %d")
    assert list(frame.index) == list(pd.date_range("2022-01-03", periods=3))


def test_ordinal_days() -> None:
    """4th Jan 2022 next to 3rd Jan 2022 was dropped (the guessed format was %drd %b %Y)."""
    frame, _ = load_prices_file(_prices(("3rd Jan 2022", "4th Jan 2022", "21st Jan 2022")), name="p.csv")
    assert list(frame.index) == [pd.Timestamp(d) for d in ("2022-01-03", "2022-01-04", "2022-01-21")]
