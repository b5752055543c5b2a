"""The sentiment reader finds a symbol column under another name by the price reader's
content rule (breaker report F9): ``Stock Symbol``, ``asset``, ``sym``, ``cashtag`` (``$AAA``)
and ``Company`` holding tickers were refused as "missing column(s) symbol" with no hint, while
the price reader read the same columns; a date column ``created_at`` was refused too."""

from __future__ import annotations

import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv

COUNTS = "twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"


def _sentiment(date_name: str, symbol_name: str, symbols=("AAA", "BBB")) -> bytes:
    rows = [f"2022-01-{d:02d},{s},100,30,200,10000," for d in range(3, 8) for s in symbols]
    return "\n".join((f"{date_name},{symbol_name},{COUNTS}", *rows)).encode() + b"\n"


@pytest.mark.parametrize("name", ["Stock Symbol", "asset", "sym", "cashtag", "Company"])
def test_a_ticker_column_under_another_name_is_read_as_symbol(name: str) -> None:
    frame, report = load_sentiment_csv(_sentiment("date", name), name="s.csv")
    assert sorted(frame["symbol"].unique()) == ["AAA", "BBB"] and len(frame) == 10
    assert f"s.csv: no 'symbol' column; the column {name!r} was read as 'symbol'" in report.warnings
    # the price reader reads the same column name as the symbols of a long file
    prices = (
        f"date,{name},close\n2022-01-03,AAA,10\n2022-01-03,BBB,20\n2022-01-04,AAA,11\n2022-01-04,BBB,21\n"
    )
    wide, _ = load_prices_file(prices.encode(), name="p.csv")
    assert list(wide.columns) == ["AAA", "BBB"]


def test_cashtags_in_a_cashtag_column() -> None:
    frame, _ = load_sentiment_csv(_sentiment("date", "cashtag", ("$AAA", "$BBB")), name="s.csv")
    assert sorted(frame["symbol"].unique()) == ["AAA", "BBB"]


def test_created_at_is_the_date_column() -> None:
    frame, report = load_sentiment_csv(_sentiment("created_at", "symbol"), name="s.csv")
    assert frame["date"].min().date().isoformat() == "2022-01-03" and len(frame) == 10
    assert "s.csv: no 'date' column; the column 'created_at' was read as 'date'" in report.warnings


def test_a_text_column_that_is_not_tickers_is_still_refused() -> None:
    """Company names are not tickers: refused as before, naming the columns found."""
    text = _sentiment("date", "Company", ("Apple Inc", "Microsoft Corp"))
    with pytest.raises(DataValidationError, match=r"s\.csv is missing column\(s\) symbol"):
        load_sentiment_csv(text, name="s.csv")
