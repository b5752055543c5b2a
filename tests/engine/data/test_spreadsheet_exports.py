"""File shapes that spreadsheets (Excel "Save as CSV") and brokers export, read by the one
reading layer (engine.data.reading) behind every entry point: the right values, by hand."""

from __future__ import annotations

import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = "date;symbol;twitterPosts;twitterComments;twitterLikes;twitterImpressions;twitterSentiment"


# ----- Excel's separator hint: a first line "sep=;" --------------------------------------


@pytest.mark.parametrize("hint", ["sep=;", "sep=;;;", '"sep=;"'])
def test_separator_hint_line_names_the_separator_and_is_not_the_header(hint: str) -> None:
    text = f"{hint}\r\ndate;AAA;QQQ\r\n2022-01-03;10,5;300\r\n2022-01-04;11,25;301\r\n"
    frame, report = load_prices_file(text.encode(), name="prices.csv")
    assert list(frame.columns) == ["AAA", "QQQ"]
    assert frame["AAA"].tolist() == [10.5, 11.25]
    assert frame["QQQ"].tolist() == [300.0, 301.0]
    assert report.reading[0].separator == ";"
    assert report.rows_read == 2 and report.rows_dropped == 0


def test_separator_hint_line_in_a_sentiment_file() -> None:
    text = f"sep=;\n{SENTIMENT_HEADER}\n2022-01-03;AAA;10;30;100;1000;0,5\n2022-01-03;BBB;10;10;100;1000;\n"
    frame, report = load_sentiment_csv(text.encode(), name="sentiment.csv")
    assert frame["symbol"].tolist() == ["AAA", "BBB"]
    assert frame["twitterComments"].tolist() == [30.0, 10.0]
    assert frame["twitterSentiment"].iloc[0] == 0.5
    assert report.rows_dropped == 0


def test_separator_hint_keeps_the_files_line_numbers_in_a_refusal() -> None:
    text = b"sep=,\ndate,AAA\n2022-01-03,10\n2022-01-04,11,12\n"
    with pytest.raises(DataValidationError, match=r"line 4 has 3 fields where the header has 2"):
        load_prices_file(text, name="prices.csv")
