"""The spelling hint as data: ``ValidationReport.spelling_hints`` (asked symbol, spelling the
data has), filled by ``load_market_data``, merged, and worded once by ``with_spelling_hint``.
Case share-class-dot-dash: BRK.B in the sentiment, BRK-B in the prices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import (
    DataValidationError,
    FileProvider,
    ValidationReport,
    YahooProvider,
    load_market_data,
    with_spelling_hint,
)
from engine.data.providers import spelling_variants
from tests.engine.data.test_yahoo import FakeDownloader

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def _files(sentiment_symbols: tuple[str, ...], price_symbols: tuple[str, ...]) -> FileProvider:
    """Sentiment for ``sentiment_symbols`` (Jan-Mar 2022), daily closes for ``price_symbols``."""
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    prices = pd.DataFrame(
        {s: np.linspace(100 + 10 * i, 120 + 10 * i, len(days)) for i, s in enumerate(price_symbols)},
        index=days.rename("date"),
    ).to_csv(date_format="%Y-%m-%d")
    sentiment = SENTIMENT_HEADER + "".join(
        f"{d.date()},{s},100,30,200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s in sentiment_symbols
    )
    return FileProvider(sentiment=sentiment.encode(), prices=prices.encode())


def test_with_spelling_hint_is_the_one_wording() -> None:
    assert with_spelling_hint("BRK.B", "BRK-B") == "BRK.B (did you mean BRK-B?)"
    assert with_spelling_hint("ZZZ", None) == "ZZZ"
    assert with_spelling_hint("ZZZ", "") == "ZZZ"


def test_files_provider_fills_the_hint_and_words_the_warning_from_it() -> None:
    data = load_market_data(_files(("AAA", "BRK.B", "ZZZ"), ("AAA", "BRK-B", "QQQ")))
    assert data.report.failed_tickers == ("BRK.B", "ZZZ")
    assert data.report.spelling_hints == (("BRK.B", "BRK-B"),)  # ZZZ has no other spelling
    named = ", ".join(
        with_spelling_hint(s, dict(data.report.spelling_hints).get(s)) for s in ("BRK.B", "ZZZ")
    )
    assert named == "BRK.B (did you mean BRK-B?), ZZZ"
    assert f"no usable prices for 2 symbol(s), which cannot be held: {named}" in data.report.warnings


def test_no_failed_ticker_no_hint() -> None:
    data = load_market_data(_files(("AAA", "BRK-B"), ("AAA", "BRK-B", "QQQ")))
    assert data.report.failed_tickers == () and data.report.spelling_hints == ()


@pytest.mark.parametrize(("written", "priced"), [("AAPL.O", "AAPL"), ("AAPL", "AAPL.O")])
def test_reuters_suffix_hint_is_in_the_field(written: str, priced: str) -> None:
    data = load_market_data(_files(("AAA", written), ("AAA", priced, "QQQ")))
    assert data.report.spelling_hints == ((written, priced),)


def test_stooq_us_suffix_gets_the_hint_both_ways_and_for_the_benchmark() -> None:
    """share-class-dot-dash kind, variant: a Stooq (or EOD Historical Data) long file writes
    every US listing with .US (aapl.us, read AAPL.US). AAA and the benchmark QQQ were in the
    file as AAA.US and QQQ.US, and loading stopped with "no prices for the benchmark QQQ ...;
    add it to the price file", no hint; AAA failed without one. Right: the hint, as for AAPL.O."""
    with pytest.raises(
        DataValidationError, match=r"^no prices for the benchmark QQQ \(did you mean QQQ\.US\?\) "
    ):
        load_market_data(_files(("AAA",), ("AAA.US", "QQQ.US")))
    data = load_market_data(_files(("AAA", "BBB.US"), ("AAA.US", "BBB", "QQQ")))
    assert data.report.spelling_hints == (("AAA", "AAA.US"), ("BBB.US", "BBB"))
    assert spelling_variants("AAPL.US") == ["AAPL"]


def test_a_share_class_priced_under_its_reuters_code_gets_the_hint() -> None:
    """LSEG writes Berkshire's B shares BRKb.N; symbols are upper-cased, so the prices hold
    BRKB.N while the sentiment file says BRK.B."""
    data = load_market_data(_files(("AAA", "BRK.B"), ("AAA", "BRKB.N", "QQQ")))
    assert data.report.failed_tickers == ("BRK.B",)
    assert data.report.spelling_hints == (("BRK.B", "BRKB.N"),)


def test_a_share_class_priced_under_a_lower_case_class_letter_gets_the_hint() -> None:
    """A price column 'BRKb' (the Reuters class letter without an exchange) is read BRKB:
    BRK.B in the sentiment file was failed without a hint."""
    sentiment = SENTIMENT_HEADER + "2022-01-03,BRK.B,1,2,3,4,0.5\n2022-01-04,BRK.B,1,2,3,4,0.5\n"
    prices = "date,BRKb,QQQ\n2022-01-03,300.8,401.7\n2022-01-04,308.5,396.0\n"
    data = load_market_data(FileProvider(sentiment=sentiment.encode(), prices=prices.encode()))
    assert data.report.failed_tickers == ("BRK.B",)
    assert data.report.spelling_hints == (("BRK.B", "BRKB"),)
    assert "BRK.B (did you mean BRKB?)" in " ".join(data.report.warnings)


def test_spelling_variants_of_a_share_class() -> None:
    assert spelling_variants("BRK.B") == ["BRK-B", "BRK/B", "BRKB.N", "BRKB.O", "BRKB.OQ", "BRKB"]
    assert spelling_variants("BRK-B")[:2] == ["BRK.B", "BRK/B"]
    assert spelling_variants("AAPL.O") == ["AAPL"]
    assert spelling_variants("BF.BX") == ["BF-BX", "BF/BX"]  # not a one-letter class: no Reuters code


def test_benchmark_refusal_uses_the_same_wording() -> None:
    with pytest.raises(
        DataValidationError, match=r"^no prices for the benchmark BRK\.B \(did you mean BRK-B\?\) "
    ):
        load_market_data(_files(("AAA",), ("AAA", "BRK-B", "QQQ")), benchmark="BRK.B")


def test_yahoo_provider_fills_the_hint_through_the_downloader_seam(tmp_path: Path) -> None:
    """Yahoo has BRK.B as BRK-B (its documented dash spelling): the fake yfinance returns no
    prices for BRK.B, and the report carries the hint without a second download."""
    sentiment = pd.DataFrame(
        {
            "date": ["2022-02-01", "2022-02-01"],
            "symbol": ["AAA", "BRK.B"],
            "twitterPosts": [1, 2],
            "twitterComments": [1, 2],
            "twitterLikes": [3, 4],
            "twitterImpressions": [5, 6],
            "twitterSentiment": [None, 0.5],
        }
    )
    fake = FakeDownloader(failed=["BRK.B"])
    yahoo = YahooProvider(sentiment=sentiment, cache_dir=tmp_path, downloader=fake, sleep=lambda _: None)
    data = load_market_data(yahoo)
    assert data.report.failed_tickers == ("BRK.B",)
    assert data.report.spelling_hints == (("BRK.B", "BRK-B"),)
    assert len(fake.calls) == 1
    assert data.report.warnings[-1].endswith("which cannot be held: BRK.B (did you mean BRK-B?)")


def test_merge_keeps_every_hint_once_sorted() -> None:
    prices = ValidationReport(failed_tickers=("BRK.B",), spelling_hints=(("BRK.B", "BRK-B"),))
    other = ValidationReport(failed_tickers=("AAPL.O",), spelling_hints=(("AAPL.O", "AAPL"),))
    both = (("AAPL.O", "AAPL"), ("BRK.B", "BRK-B"))
    assert prices.merge(other).spelling_hints == both
    assert other.merge(prices).spelling_hints == both
    assert ValidationReport().merge(prices).spelling_hints == (("BRK.B", "BRK-B"),)
    assert prices.merge(ValidationReport()).spelling_hints == (("BRK.B", "BRK-B"),)
    # One hint per symbol: the report merged into keeps its own.
    clash = ValidationReport(spelling_hints=(("BRK.B", "BRK/B"),))
    assert prices.merge(clash).spelling_hints == (("BRK.B", "BRK-B"),)


def test_report_is_frozen_and_the_field_defaults_to_no_hint() -> None:
    report = ValidationReport()
    assert report.spelling_hints == ()
    with pytest.raises(AttributeError):
        report.spelling_hints = (("A.B", "A-B"),)  # type: ignore[misc]


@pytest.mark.parametrize("priced", ["BRK-B", "BRK.B"])
def test_a_share_class_written_without_its_mark_gets_the_hint(priced: str) -> None:
    """Breaker pass 6, F2: BRK.B in the sentiment against BRKB in the prices got the hint,
    but BRKB in the sentiment against BRK-B or BRK.B did not (the failed ticker was listed,
    with no hint). The last letter of a bare symbol is now also tried as a share class."""
    data = load_market_data(_files(("BRKB", "AAA"), (priced, "AAA", "QQQ")))
    assert dict(data.report.spelling_hints) == {"BRKB": priced}
    assert any(f"BRKB (did you mean {priced}?)" in w for w in data.report.warnings)
