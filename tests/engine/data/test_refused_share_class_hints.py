"""A share class the price file writes with '/', a space or '_' (BRK/B, 'BRK B', BRK_B) is
dropped there; the sentiment's BRK.B then had no prices and no hint, while the dropped
column's reason told the user to write BRK.B, which the sentiment already did (breaker pass
13, F4). Right: the unpriced symbol names the dropped spelling and how to write it there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import DataValidationError, FileProvider, load_market_data, with_spelling_hint
from engine.data.providers import refused_spelling_hints
from engine.data.validation import refused_share_classes

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)
MARK = {"BRK/B": "'/'", "BRK B": "a space", "BRK_B": "'_'", "brk/b": "'/'"}


def _provider(
    sentiment_symbols: tuple[str, ...], price_symbols: tuple[str, ...], layout: str
) -> FileProvider:
    """Sentiment for ``sentiment_symbols`` (Jan-Mar 2022), daily closes for ``price_symbols``
    in the ``wide`` or ``long`` layout."""
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    wide = pd.DataFrame(
        {s: np.linspace(100 + 10 * i, 120 + 10 * i, len(days)) for i, s in enumerate(price_symbols)},
        index=days.rename("date"),
    )
    if layout == "wide":
        prices = wide.to_csv(date_format="%Y-%m-%d")
    else:
        long = wide.stack().reset_index()
        long.columns = ["date", "symbol", "close"]
        prices = long.to_csv(index=False, date_format="%Y-%m-%d")
    sentiment = SENTIMENT_HEADER + "".join(
        f"{d.date()},{s},100,{30 + 30 * i},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for i, s in enumerate(sentiment_symbols)
    )
    return FileProvider(sentiment=sentiment.encode(), prices=prices.encode())


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("written", ["BRK/B", "BRK B", "BRK_B", "brk/b"])
@pytest.mark.parametrize("asked", ["BRK.B", "BRK-B"])
def test_the_unpriced_share_class_names_the_dropped_price_spelling(
    asked: str, written: str, layout: str
) -> None:
    data = load_market_data(_provider(("AAA", asked), ("AAA", written, "QQQ"), layout))
    report = data.report
    assert report.failed_tickers == (asked,)
    assert report.spelling_hints == ((asked, written),)
    named = (
        f"{asked} (did you mean {written}? the price data writes this share class with {MARK[written]}, "
        f"which is refused: write it {asked} there)"
    )
    assert report.failed_named() == [named]
    assert f"no usable prices for 1 symbol(s), which cannot be held: {named}" in report.warnings
    assert f"No prices could be had for 1 ticker(s), which cannot be held: {named}." in report.notes()
    # The price file's own drop is still listed with its reason.
    assert any("a share class written with '/', '_' or a space" in d.reason for d in report.dropped)


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_a_priced_spelling_wins_over_a_refused_one(layout: str) -> None:
    data = load_market_data(_provider(("AAA", "BRK.B"), ("AAA", "BRK/B", "BRK-B", "QQQ"), layout))
    assert data.report.spelling_hints == (("BRK.B", "BRK-B"),)
    assert data.report.failed_named() == ["BRK.B (did you mean BRK-B?)"]


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_the_benchmark_names_the_dropped_price_spelling(layout: str) -> None:
    with pytest.raises(DataValidationError) as caught:
        load_market_data(_provider(("AAA",), ("AAA", "BRK/B"), layout), benchmark="BRK.B")
    assert str(caught.value).startswith(
        "no prices for the benchmark BRK.B (did you mean BRK/B? the price data writes this share class "
        "with '/', which is refused: write it BRK.B there) between "
    )


def test_other_symbols_get_no_refused_hint() -> None:
    assert refused_spelling_hints(["BRK.A", "BRKB", "ZZZ", "BRK.B"], ["BRK/B", "AAPL"]) == {"BRK.B": "BRK/B"}
    assert refused_spelling_hints(["BRK.B"], []) == {}


def test_the_wording_of_a_refused_spelling_hint() -> None:
    assert with_spelling_hint("BRK-B", "BRK B") == (
        "BRK-B (did you mean BRK B? the price data writes this share class with a space, "
        "which is refused: write it BRK-B there)"
    )
    assert with_spelling_hint("BRK.B", "BRK-B") == "BRK.B (did you mean BRK-B?)"


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_refused_share_classes_reads_the_price_files_drops(layout: str) -> None:
    _, report = _provider(("AAA",), ("AAA", " brk/b", "BRK_A", "QQQ"), layout).prices(
        ["AAA", "QQQ"], None, None
    )
    assert refused_share_classes(report.dropped) == ("brk/b", "BRK_A")


def test_a_dropped_share_class_column_is_told_its_own_spelling() -> None:
    """Breaker pass 15: the reason of a dropped column BF/B said "(write BRK-B as Yahoo does,
    or BRK.B)"; it names BF-B and BF.B."""
    from engine import load_prices_file

    text = "date,AAA,BF/B\n2022-01-03,1,2\n2022-01-04,1,2\n2022-01-05,1,2\n"
    _, report = load_prices_file(text.encode(), name="p.csv")
    (ignored,) = report.dropped
    assert ignored.reason == (
        "column name is a share class written with '/', '_' or a space "
        "(write BF-B as Yahoo does, or BF.B) (column ignored)"
    )
    assert refused_share_classes(report.dropped) == ("BF/B",)


def test_a_group_of_several_share_classes_gives_no_wrong_example() -> None:
    """One reason is shared by the rows of every share class of the file: its example is the
    first one's own spelling, and the examples list each (a long file: BF/B, then BRK B)."""
    from engine import load_prices_file

    rows = "".join(
        f"2022-01-0{d},{s},{p}\n" for d in (3, 4, 5) for s, p in (("AAA", 1), ("BF/B", 2), ("BRK B", 3))
    )
    _, report = load_prices_file(("date,symbol,close\n" + rows).encode(), name="p.csv")
    (dropped,) = [d for d in report.dropped if "share class" in d.reason]
    assert dropped.reason == (
        "symbol is a share class written with '/', '_' or a space "
        "(write each with '-' as Yahoo does, or '.': 'BF/B' as BF-B or BF.B)"
    )
    assert dropped.count == 6 and dropped.examples == ("'BF/B'", "'BRK B'")
    assert refused_share_classes(report.dropped) == ("BF/B", "BRK B")
