"""Empty lines, or lines of separators only (",,,", ";;;"), above the header carry no data:
they are skipped, as pandas skips blank lines, and the reading says so. They were taken for
the header and the file refused for the wrong cause ("line 2 has 7 fields where the header
has 0", "no ticker columns besides 'date'"; breaker pass 15, F2). Line numbers quoted by a
later refusal still name the file's own lines."""

from __future__ import annotations

import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)
SENTIMENT_ROWS = "2022-01-03,AAA,100,60,200,10000,0.5\n2022-01-04,AAA,101,61,201,10001,0.25\n"
PRICES = "date,AAA,BBB\n2022-01-03,10.5,20\n2022-01-04,11,21\n2022-01-05,12,22.25\n"

# What is put above the header: (text with "," as the separator, lines it adds).
ABOVE = [("\n", 1), (",,,,\n", 1), ("\n  \n,,\n", 3), (" , ,\t\n", 1)]


def _as(text: str, separator: str, crlf: bool, bom: bool) -> bytes:
    out = text.replace(",", separator)
    if crlf:
        out = out.replace("\n", "\r\n")
    return (("\ufeff" if bom else "") + out).encode()


@pytest.mark.parametrize("separator", [",", ";"])
@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize(("above", "lines"), ABOVE)
def test_sentiment_file_reads_as_without_the_empty_lines(
    separator: str, crlf: bool, bom: bool, above: str, lines: int
) -> None:
    plain, _ = load_sentiment_csv(_as(SENTIMENT_HEADER + SENTIMENT_ROWS, separator, crlf, bom), name="s.csv")
    frame, report = load_sentiment_csv(
        _as(above + SENTIMENT_HEADER + SENTIMENT_ROWS, separator, crlf, bom), name="s.csv"
    )
    assert frame.equals(plain) and len(frame) == 2 and report.rows_read == 2 and not report.dropped
    assert frame["twitterSentiment"].tolist() == [0.5, 0.25]
    (reading,) = report.reading
    assert reading.empty_lines_skipped == lines
    assert f"{lines} empty line{'s' if lines > 1 else ''} above the header skipped" in reading.describe()


@pytest.mark.parametrize("separator", [",", ";"])
@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize(("above", "lines"), ABOVE)
def test_price_file_reads_as_without_the_empty_lines(
    separator: str, crlf: bool, bom: bool, above: str, lines: int
) -> None:
    prices, report = load_prices_file(_as(above + PRICES, separator, crlf, bom), name="p.csv")
    assert list(prices.columns) == ["AAA", "BBB"] and len(prices) == 3
    assert prices["AAA"].tolist() == [10.5, 11.0, 12.0] and prices["BBB"].iloc[-1] == 22.25
    assert report.reading[0].empty_lines_skipped == lines and not report.dropped


def test_a_file_without_empty_lines_says_nothing_of_them() -> None:
    _, report = load_prices_file(PRICES.encode(), name="p.csv")
    assert report.reading[0].empty_lines_skipped == 0 and "empty line" not in report.reading[0].describe()


def test_later_refusals_name_the_files_own_lines() -> None:
    """Line 6 of the file (2 empty lines, the header, 2 rows, then a row of one field too many)."""
    text = "\n,,\n" + PRICES.splitlines(keepends=True)[0] + "2022-01-03,10,20\n2022-01-04,11,21,5\n"
    with pytest.raises(DataValidationError, match=r"line 5 has 4 fields where the header has 3\)"):
        load_prices_file(text.encode(), name="p.csv")
    with pytest.raises(DataValidationError, match=r"line 6 has 4 fields where the header has 3\)"):
        load_prices_file(("sep=,\n" + text).encode(), name="p.csv")
    quote = "\n\n" + PRICES + '2022-01-06,"1,2\n'
    with pytest.raises(DataValidationError, match="line 7 opens a quote that is never closed"):
        load_prices_file(quote.encode(), name="p.csv")


@pytest.mark.parametrize("text", ["\n\n\n", "\r\n\r\n", "\ufeff\n\n"])
def test_a_file_of_empty_lines_only_is_still_refused_as_empty(text: str) -> None:
    with pytest.raises(DataValidationError, match=r"^p\.csv is empty$"):
        load_prices_file(text.encode(), name="p.csv")
    with pytest.raises(DataValidationError, match=r"^s\.csv is empty$"):
        load_sentiment_csv(text.encode(), name="s.csv")


@pytest.mark.parametrize("text", [",,,\n", "\n;;;\n;;;\n", ",,,\n,,,"])
def test_a_file_of_separators_only_is_refused_as_empty(text: str) -> None:
    """It was "has a header but no data rows", or "line 2 has 4 fields where the header has 0"."""
    with pytest.raises(DataValidationError, match=r"^p\.csv is empty$"):
        load_prices_file(text.encode(), name="p.csv")
