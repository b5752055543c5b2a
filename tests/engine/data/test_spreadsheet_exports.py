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


# ----- money formats: a currency sign around the number ---------------------------------


def test_currency_formatted_prices_are_numbers() -> None:
    # Excel "Currency" cells saved as CSV: quoted because of the thousands comma.
    text = (
        "date,AAA,BBB,QQQ\r\n"
        '2022-01-03,"$1,234.50",$12.00,$300\r\n'
        '2022-01-04,"$1,357.95",$ 11.40,$303\r\n'
        "2022-01-05,,-$1.00,$306\r\n"
    )
    frame, report = load_prices_file(text.encode(), name="prices.csv")
    assert frame["AAA"].iloc[:2].tolist() == [1234.5, 1357.95]
    assert frame["BBB"].iloc[:2].tolist() == [12.0, 11.4]
    assert frame["QQQ"].tolist() == [300.0, 303.0, 306.0]
    # The negative price is still refused (cell emptied and reported), never read as 1.00.
    assert next(d for d in report.dropped if "positive" in d.reason).examples == ("BBB row 3",)
    assert report.reading[0].currency == "$"
    assert "currency sign $ removed" in report.reading[0].describe()
    # AAA's return on 2022-01-04 by hand: 1357.95 / 1234.5 - 1 = +10.0%.
    assert frame["AAA"].iloc[1] / frame["AAA"].iloc[0] - 1 == pytest.approx(0.1)


def test_euro_amounts_with_decimal_comma_and_a_long_layout() -> None:
    text = "date;symbol;close\n2022-01-03;VOD.L;1.234,50 €\n2022-01-04;VOD.L;1.358,00 €\n2022-01-03;QQQ;300,00 €\n"
    frame, report = load_prices_file(text.encode(), name="prices.csv")
    assert frame["VOD.L"].tolist() == [1234.5, 1358.0]
    assert frame.loc["2022-01-03", "QQQ"] == 300.0
    assert (report.reading[0].decimal, report.reading[0].thousands) == (",", ".")


def test_prices_that_are_all_text_are_refused_with_the_reason_not_as_empty() -> None:
    with pytest.raises(DataValidationError, match=r"no usable prices \(2 dropped: price is not a number"):
        load_prices_file(b"date,AAA\n2022-01-03,USD 10\n2022-01-04,USD 11\n", name="prices.csv")
    with pytest.raises(DataValidationError, match=r"no usable prices \(every ticker column is empty\)"):
        load_prices_file(b"date,AAA\n2022-01-03,\n", name="prices.csv")


@pytest.mark.parametrize("trailing", ["", ",,"])
def test_a_title_line_above_the_header_is_refused_naming_it(trailing: str) -> None:
    """A report export with a title above the column names is refused (never guessed at)
    in one sentence that names the title line and says what to do."""
    text = f"Daily closes{trailing}\ndate,AAA,QQQ\n2022-01-03,10,20\n2022-01-04,11,21\n"
    with pytest.raises(DataValidationError) as refused:
        load_prices_file(text.encode(), name="p.csv")
    message = str(refused.value)
    assert "the first line ('Daily closes') looks like a title" in message
    assert "delete the lines above the header" in message and "\n" not in message
    sentiment = (
        f"Sentiment export{trailing},,,,\n"
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "2022-01-03,AAA,1,2,3,4,0.1\n"
    )
    with pytest.raises(DataValidationError, match=r"\('Sentiment export'\) looks like a title"):
        load_sentiment_csv(sentiment.encode(), name="s.csv")


def test_a_header_with_two_names_gets_no_title_hint() -> None:
    with pytest.raises(DataValidationError) as refused:
        load_prices_file(b"when,AAA\n2022-01-03,10\n", name="p.csv")
    assert "looks like a title" not in str(refused.value)


COMMA_SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def test_a_percentage_column_is_read_as_fractions_and_named() -> None:
    """A spreadsheet formats the sentiment score as a percentage: every cell of the column
    is a number with '%', so the column is 0.10, -0.125 (it was: every row dropped as
    'twitterSentiment is not a number'). The reading says so; an empty cell stays empty."""
    text = COMMA_SENTIMENT_HEADER + (
        "2022-01-03,AAA,1,2,3,4,10%\n2022-01-04,AAA,1,2,3,4,-12.5 %\n2022-01-05,AAA,1,2,3,4,\n"
    )
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert frame["twitterSentiment"].tolist()[:2] == [0.1, -0.125]
    assert frame["twitterSentiment"].isna().tolist() == [False, False, True]
    assert not report.dropped
    assert "percentages read as fractions in twitterSentiment" in report.reading[0].describe()


def test_percentages_with_a_decimal_comma_are_fractions_too() -> None:
    text = COMMA_SENTIMENT_HEADER.replace(",", ";") + (
        "03/01/2022;AAA;1;2;3;4;10,5%\n04/01/2022;AAA;1;2;3;4;-2,25%\n13/01/2022;AAA;1;2;3;4;0%\n"
    )
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert frame["twitterSentiment"].tolist() == [0.105, -0.0225, 0.0]
    assert report.reading[0].decimal == ","


def test_a_column_mixing_percentages_and_plain_numbers_is_not_guessed() -> None:
    """Decided per column, never per cell: 12% next to 0.12 keeps the cells as written, and
    the '12%' row is dropped with its reason (not silently read as 12 or 0.12)."""
    text = COMMA_SENTIMENT_HEADER + "2022-01-03,AAA,1,2,3,4,12%\n2022-01-04,AAA,1,2,3,4,0.12\n"
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert frame["twitterSentiment"].tolist() == [0.12]
    assert [(d.reason, d.count) for d in report.dropped] == [("twitterSentiment is not a number", 1)]
    assert "percentages" not in report.reading[0].describe()
