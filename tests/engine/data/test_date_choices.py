"""An explicit date order or format the file contradicts is never silently overruled,
ignored, or obeyed into scrambled dates (``engine.data.reading.read_dates``).

A new user's day-first files (sentiment.csv, prices.csv; they read right with no option):
``--monthfirst`` was overruled without a word, ``--date-format %Y-%m-%d`` (fits no value) was
ignored, and ``--date-format %m/%d/%Y`` (fits the values up to the 12th) dropped the other
rows as invalid dates and read the rest with day and month swapped, all with exit 0.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from engine import DataValidationError, FileProvider, load_market_data, load_prices_file, load_sentiment_csv
from engine.cli.main import main

# The first rows of the user's sentiment.csv (AAPL, 1..19 January 2022, day first).
SENTIMENT = """date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment
01/01/2022,AAPL,30,2140,5049,1514700,
02/01/2022,AAPL,98,782,8325,2497500,
04/01/2022,AAPL,155,860,1734,520200,0.466
05/01/2022,AAPL,381,2028,9009,2702700,
06/01/2022,AAPL,94,666,1355,406500,-0.929
07/01/2022,AAPL,106,751,1816,544800,-0.885
09/01/2022,AAPL,47,109,1095,328500,
10/01/2022,AAPL,819,201,735,220500,-0.059
11/01/2022,AAPL,29,1940,6810,2043000,0.21
12/01/2022,AAPL,33,10820,25467,7640100,
13/01/2022,AAPL,76,210,1606,481800,
14/01/2022,AAPL,44,400,1050,315000,-0.467
15/01/2022,AAPL,60,1269,2753,825900,-0.763
17/01/2022,AAPL,176,3308,10232,3069600,0.814
18/01/2022,AAPL,50,1435,5709,1712700,-0.448
19/01/2022,AAPL,20,343,1370,411000,0.81
"""

MONTH_FIRST_WARNING = (
    "s.csv: the 'date' column is read day first, not month first as asked: "
    "6 of its dates, such as '13/01/2022', can only be day first"
)


def _prices(fmt: str = "%d/%m/%Y") -> str:
    """A long price file in the layout of the user's prices.csv (Date,Ticker,...,Adj Close)."""
    days = pd.bdate_range("2021-11-01", "2022-02-28")
    lines = ["Date,Ticker,Adj Close"]
    for i, day in enumerate(days):
        lines.append(f"{day.strftime(fmt)},AAPL,{150 + 0.5 * i:.2f}")
        lines.append(f"{day.strftime(fmt)},QQQ,{380 + 0.25 * i:.2f}")
    return "\n".join(lines) + "\n"


def test_month_first_overruled_by_the_values_is_recorded_and_said() -> None:
    frame, report = load_sentiment_csv(SENTIMENT.encode(), name="s.csv", dayfirst=False)
    assert frame["date"].iloc[10] == pd.Timestamp("2022-01-13")  # the values decide: day first
    assert frame["date"].iloc[1] == pd.Timestamp("2022-01-02")
    assert report.reading[0].date_format == "%d/%m/%Y (day first, not the month first asked for)"
    assert MONTH_FIRST_WARNING in report.warnings


def test_month_first_that_the_values_do_not_contradict_says_nothing() -> None:
    ambiguous = "".join(line + "\n" for line in SENTIMENT.splitlines()[:11])  # 1..12 January only
    frame, report = load_sentiment_csv(ambiguous.encode(), name="s.csv", dayfirst=False)
    assert frame["date"].iloc[1] == pd.Timestamp("2022-02-01")  # 02/01 month first, as asked
    assert report.reading[0].date_format == "%m/%d/%Y (month first)"
    assert not any("asked" in w for w in report.warnings)


def test_a_format_that_fits_no_value_is_refused() -> None:
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(SENTIMENT.encode(), name="s.csv", date_format="%Y-%m-%d")
    assert str(info.value) == (
        "s.csv: the date format %Y-%m-%d asked for fits none of the 'date' values, such as "
        "'01/01/2022' (they read as %d/%m/%Y (day first)); give the date_format they are written in "
        "(CLI: --date-format), or none to have it inferred"
    )


def test_a_format_that_reads_a_part_of_a_column_read_whole_otherwise_is_refused() -> None:
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(SENTIMENT.encode(), name="s.csv", date_format="%m/%d/%Y")
    assert str(info.value) == (
        "s.csv: the 'date' dates are written %d/%m/%Y (day first), such as '13/01/2022'; the date "
        "format %m/%d/%Y asked for reads only 62% of them; give the date_format they are written in "
        "(CLI: --date-format), or none to have it inferred"
    )
    with pytest.raises(DataValidationError, match="reads only 40% of them"):
        load_prices_file(_prices().encode(), name="p.csv", date_format="%m/%d/%Y")


def test_a_format_with_one_or_two_unfit_values_is_obeyed_and_they_are_invalid_dates() -> None:
    lines = SENTIMENT.splitlines()
    text = "\n".join(lines[:12]) + "\n"  # 1..13 January: one value fits day first only
    frame, report = load_sentiment_csv(text.encode(), name="s.csv", date_format="%m/%d/%Y")
    assert frame["date"].iloc[1] == pd.Timestamp("2022-02-01")  # as the format says
    assert report.reading[0].date_format == "%m/%d/%Y (as given)"
    assert sum(d.count for d in report.dropped if "not a valid date" in d.reason) == 1


def test_a_format_for_the_other_file_leaves_an_iso_file_read_and_says_so() -> None:
    frame, report = load_prices_file(_prices("%Y-%m-%d").encode(), name="p.csv", date_format="%d/%m/%Y")
    assert frame.index[0] == pd.Timestamp("2021-11-01")
    assert report.reading[0].date_format == (
        "ISO 8601 (yyyy-mm-dd); the date format %d/%m/%Y asked for fits none of them"
    )


def test_the_right_format_and_no_option_read_the_same_dates() -> None:
    plain, _ = load_sentiment_csv(SENTIMENT.encode(), name="s.csv")
    given, _ = load_sentiment_csv(SENTIMENT.encode(), name="s.csv", date_format="%d/%m/%Y")
    assert list(plain["date"]) == list(given["date"])


def test_load_market_data_with_month_first_warns_for_each_file(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(SENTIMENT)
    (tmp_path / "p.csv").write_text(_prices())
    provider = FileProvider(sentiment=tmp_path / "s.csv", prices=tmp_path / "p.csv", dayfirst=False)
    data = load_market_data(provider)
    assert MONTH_FIRST_WARNING in data.report.warnings
    assert any(
        w.startswith("p.csv: the 'Date' column is read day first, not month first")
        for w in data.report.warnings
    )
    assert pd.Timestamp("2022-01-13") in set(data.sentiment["date"])


def _cli(tmp_path: Path, *flags: str) -> tuple[int, str, str]:
    (tmp_path / "s.csv").write_text(SENTIMENT)
    (tmp_path / "p.csv").write_text(_prices())
    out, err = io.StringIO(), io.StringIO()
    argv = ["backtest", "--sentiment", str(tmp_path / "s.csv"), "--prices", str(tmp_path / "p.csv"), *flags]
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--date-format", "%Y-%m-%d"), "the date format %Y-%m-%d asked for fits none of the 'date' values"),
        (("--date-format", "%m/%d/%Y"), "the date format %m/%d/%Y asked for reads only 62% of them"),
    ],
)
def test_cli_refuses_a_contradicted_format_in_one_line(
    tmp_path: Path, flags: tuple[str, ...], words: str
) -> None:
    code, _, err = _cli(tmp_path, *flags)
    assert code == 2 and err.count("\n") == 1 and words in err, err


def test_cli_prints_the_month_first_warning(tmp_path: Path) -> None:
    code, out, err = _cli(tmp_path, "--monthfirst")
    shown = out + err
    assert code == 0, shown
    assert MONTH_FIRST_WARNING in shown, shown
    assert "dates %d/%m/%Y (day first, not the month first asked for)" in shown


def test_a_format_given_for_stored_dates_is_said_not_to_apply() -> None:
    from engine.data.reading import ReadOptions, read_dates

    stored = pd.Series(pd.to_datetime(["2022-01-03", "2022-01-04"]))
    dates, description, warnings = read_dates(stored, "p.parquet", ReadOptions(date_format="%m/%d/%Y"))
    assert list(dates) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")] and warnings == ()
    assert description == "timestamps (stored as dates); the date format %m/%d/%Y asked for does not apply"
    # Excel serials and month names (one reading each) are read in their own form, and said so.
    serials = pd.Series(["44564", "44565", "44566"])
    _, description, _ = read_dates(serials, "s.csv", ReadOptions(date_format="%m/%d/%Y"))
    assert description.endswith("; the date format %m/%d/%Y asked for fits none of them")
    assert description.startswith("Excel serial day numbers")
