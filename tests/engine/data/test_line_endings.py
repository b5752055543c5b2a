"""Line endings (breaker pass 9, F6): a file whose lines end with a lone CR (Excel for Mac's
"CSV (Macintosh)", classic Mac text) reads exactly as its LF copy; before, it was refused as
"line 1 has a line break inside a value that is not quoted". CRLF and LF read as before, and
a quoted value holding a line break stays one value."""

from __future__ import annotations

import pandas as pd
import pytest

import engine
from engine.data import tables

PRICE_LINES = [
    "date,AAA,BBB,QQQ",
    "2022-01-03,100.22,100.83,99.70",
    "2022-01-04,99.73,100.19,100.49",
    "2022-01-05,101.50,98.40,101.02",
]
SENTIMENT_LINES = [
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment",
    "2022-01-03,AAA,10,247,1000,1000,0.1",
    "2022-01-03,BBB,12,265,900,1100,",
    "2022-01-04,AAA,11,250,1010,1005,0.2",
]


def _frame_of(lines: list[str], ending: str) -> pd.DataFrame:
    return engine.load_prices_file((ending.join(lines) + ending).encode(), name="p.csv")[0]


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
def test_price_file_reads_alike_whatever_its_line_endings(ending: str) -> None:
    frame = _frame_of(PRICE_LINES, ending)
    assert list(frame.columns) == ["AAA", "BBB", "QQQ"]
    assert [d.strftime("%Y-%m-%d") for d in frame.index] == ["2022-01-03", "2022-01-04", "2022-01-05"]
    assert frame["AAA"].tolist() == [100.22, 99.73, 101.50]
    assert frame["QQQ"].tolist() == [99.70, 100.49, 101.02]
    pd.testing.assert_frame_equal(frame, _frame_of(PRICE_LINES, "\n"))


def test_cr_only_file_without_a_final_line_ending() -> None:
    frame = engine.load_prices_file("\r".join(PRICE_LINES).encode(), name="p.csv")[0]
    assert frame["BBB"].tolist() == [100.83, 100.19, 98.40]


@pytest.mark.parametrize("ending", ["\r", "\r\n"], ids=["cr", "crlf"])
def test_sentiment_file_reads_alike_whatever_its_line_endings(ending: str) -> None:
    frame, report = engine.load_sentiment_csv((ending.join(SENTIMENT_LINES) + ending).encode(), name="s.csv")
    assert report.rows_kept == 3
    assert frame["symbol"].tolist() == ["AAA", "BBB", "AAA"]
    assert frame["twitterComments"].tolist() == [247, 265, 250]


def test_mixed_line_endings_are_each_a_line() -> None:
    text = "date,AAA\r\n2022-01-03,1\r2022-01-04,2\n2022-01-05,3\r"
    frame = engine.load_prices_file(text.encode(), name="p.csv")[0]
    assert frame["AAA"].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
def test_a_quoted_value_with_a_line_break_stays_one_value(ending: str) -> None:
    """A quoted long file's extra column holds a line break (Excel's Alt+Enter writes LF)."""
    lines = ["date,symbol,close,note", '2022-01-03,AAA,10.5,"split\nday"', "2022-01-04,AAA,11,"]
    frame, report = engine.load_prices_file((ending.join(lines) + ending).encode(), name="p.csv")
    assert frame["AAA"].tolist() == [10.5, 11.0]
    assert report.rows_kept == 2


def test_text_without_a_lone_cr_is_unchanged() -> None:
    crlf = 'a,b\r\n"x\r\ny",1\r\n'
    assert tables.universal_newlines(crlf) is crlf
    assert tables.universal_newlines("a,b\r1,2\r\n3,4\n") == "a,b\n1,2\n3,4\n"
