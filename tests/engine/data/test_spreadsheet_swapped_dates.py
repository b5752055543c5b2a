"""dates-day-first, a held-back variant: a dd/mm/yyyy file that went through a spreadsheet
set to month first. The spreadsheet turns the values it can read its way, the days up to
the 12th, into dates (01/02/2022, 1 February, becomes 2 January) and leaves the others as
text (13/01/2022). Saved back, the converted cells come out as Excel serial day numbers
(R's readxl of a column of dates and text) or ISO timestamps (pandas' read_excel, then
to_csv). Each value has one reading, so the file loaded whole: the rows up to the 12th of
every month moved to other months without a word, the fault of the field case."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)
EXCEL_ORIGIN = pd.Timestamp("1899-12-30")


def _swapped_by_spreadsheet(day: pd.Timestamp, form: str, *, dayfirst: bool = True) -> str:
    """``day`` as written dd/mm/yyyy (mm/dd/yyyy), then through a spreadsheet set to the
    other order: converted where the first two fields are both 12 or less."""
    first, second = (day.day, day.month) if dayfirst else (day.month, day.day)
    if first > 12 or second > 12:
        return f"{first:02d}/{second:02d}/{day.year}"
    misread = pd.Timestamp(day.year, day.day, day.month)  # day and month swapped
    if form == "serial":
        return str((misread - EXCEL_ORIGIN).days)
    return misread.strftime("%Y-%m-%d %H:%M:%S")


def _sentiment(form: str, *, dayfirst: bool = True) -> bytes:
    days = pd.date_range("2022-01-01", "2022-02-28")
    rows = "".join(
        f"{_swapped_by_spreadsheet(d, form, dayfirst=dayfirst)},AAA,100,60,200,10000,\n" for d in days
    )
    return (SENTIMENT_HEADER + rows).encode()


@pytest.mark.parametrize("form", ["serial", "iso"])
def test_day_first_sentiment_converted_by_a_month_first_spreadsheet_is_refused(form: str) -> None:
    with pytest.raises(DataValidationError) as refusal:
        load_sentiment_csv(_sentiment(form), name="s.csv")
    message = str(refusal.value)
    assert message.startswith("s.csv: the 'date' column")
    assert "'13/01/2022'" in message and "spreadsheet" in message and "yyyy-mm-dd" in message


def test_month_first_prices_converted_by_a_day_first_spreadsheet_are_refused() -> None:
    days = pd.bdate_range("2022-01-03", "2022-02-28")
    rows = "".join(
        f"{_swapped_by_spreadsheet(d, 'serial', dayfirst=False)},{100 + i},{300 + i}\n"
        for i, d in enumerate(days)
    )
    with pytest.raises(DataValidationError, match="'01/13/2022'"):
        load_prices_file(("date,AAA,QQQ\n" + rows).encode(), name="p.csv")


def test_an_iso_history_continued_day_first_after_the_12th_is_read() -> None:
    """The same shape, ISO dates up to the 12th and dd/mm text after it, in date order: a
    history continued in another form (each read in its own), not a spreadsheet's swap."""
    iso = [f"2022-01-{day:02d}" for day in range(3, 13)]
    text = [f"{day}/01/2022" for day in range(13, 32)]
    rows = "".join(f"{d},AAA,100,60,200,10000,\n" for d in iso + text)
    frame, report = load_sentiment_csv((SENTIMENT_HEADER + rows).encode())
    assert list(frame["date"]) == list(pd.date_range("2022-01-03", "2022-01-31"))
    assert not report.dropped


def test_excel_serials_among_day_first_text_on_any_day_are_still_their_dates() -> None:
    """Cells that lost their date format in a day-first spreadsheet: serials of every day."""
    days = pd.bdate_range("2022-01-03", "2022-02-28")
    rows = "".join(
        f"{(d - EXCEL_ORIGIN).days if i % 3 == 0 else d.strftime('%d/%m/%Y')},{100 + i},{300 + i}\n"
        for i, d in enumerate(days)
    )
    prices, report = load_prices_file(("date,AAA,QQQ\n" + rows).encode(), name="p.csv")
    assert list(prices.index) == list(days)
    assert not report.dropped
