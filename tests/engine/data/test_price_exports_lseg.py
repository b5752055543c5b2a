"""LSEG (Refinitiv) long price exports (long-prices-ticker-column kind): ``Date,Instrument,
Currency,Close`` with RICs. ``Instrument``/``RIC`` is the symbol column; one currency is fine,
several are refused in one sentence; a RIC next to a bare sentiment ticker gets the hint."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import DataValidationError, FileProvider, load_market_data, load_prices_file, load_sentiment_csv

LSEG = (
    "Date,Instrument,Currency,Close\n"
    "2022-01-03,AAPL.O,USD,182.01\n"
    "2022-01-03,MSFT.O,USD,334.75\n"
    "2022-01-03,BRK.B,USD,300.79\n"
    "2022-01-04,AAPL.O,USD,179.70\n"
    "2022-01-04,MSFT.O,USD,329.01\n"
    "2022-01-04,BRK.B,USD,308.53\n"
)


def test_lseg_export_reads_instrument_as_the_symbol_column() -> None:
    """Was refused: 'its symbol column is not recognised' (Instrument and Currency, two
    text columns, next to Close)."""
    frame, report = load_prices_file(LSEG.encode(), name="lseg.csv")
    assert list(frame.columns) == ["AAPL.O", "BRK.B", "MSFT.O"]
    assert list(frame.index) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")]
    assert list(frame["AAPL.O"]) == [182.01, 179.70] and list(frame["BRK.B"]) == [300.79, 308.53]
    assert list(frame["MSFT.O"]) == [334.75, 329.01]
    assert report.reading[0].symbol_column == "Instrument" and report.reading[0].layout == "long"
    assert report.warnings == ("lseg.csv: ignored column(s) 'Currency' (every price in USD)",)
    assert not report.dropped and report.rows_kept == 6


@pytest.mark.parametrize("name", ["RIC", "ric", "Instrument"])
def test_ric_or_instrument_column_without_currency(name: str) -> None:
    text = f"Date,{name},Close\n2022-01-03,AAPL.O,182.01\n2022-01-03,IBM.N,133.66\n"
    frame, report = load_prices_file(text.encode())
    assert list(frame.columns) == ["AAPL.O", "IBM.N"] and frame.loc["2022-01-03", "IBM.N"] == 133.66
    assert report.reading[0].symbol_column == name and not report.warnings


def test_instrument_column_names_the_sentiment_symbols_too() -> None:
    text = (
        "date,Instrument,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "2022-01-03,AAPL.O,100,60,200,10000,0.5\n"
    )
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert list(frame["symbol"]) == ["AAPL.O"]
    assert "s.csv: no 'symbol' column; the column 'Instrument' was read as 'symbol'" in report.warnings


def test_several_currencies_in_one_price_file_are_refused_naming_them() -> None:
    """Returns of AAPL in USD and VOD in pence would be mixed in one portfolio, silently."""
    text = (
        "Date,Instrument,Currency,Close\n"
        "2022-01-03,AAPL.O,USD,182.01\n2022-01-03,VOD.L,GBp,128.4\n"
        "2022-01-04,AAPL.O,USD,179.70\n2022-01-04,VOD.L,GBp,130.1\n"
    )
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text.encode(), name="lseg.csv")
    assert str(info.value) == (
        "lseg.csv holds prices in 2 currencies (GBp, USD in its 'Currency' column), whose returns a "
        "portfolio would mix silently; give every price in one currency (one file per currency)"
    )


def test_currency_column_is_never_a_symbol_or_a_ticker() -> None:
    """A currency column next to a symbol column by content (Security) stays a currency; in a
    wide file it is not a ticker CURRENCY of 'not a number' cells; with only a close it is a
    one-ticker export (USD was read as the symbol); a ticker CURR of prices is a ticker."""
    text = "Date,Security,Currency,Close\n2022-01-03,AAPL,EUR,1\n2022-01-03,MSFT,EUR,2\n"
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert list(frame.columns) == ["AAPL", "MSFT"] and report.reading[0].symbol_column == "Security"
    assert report.warnings == ("p.csv: ignored column(s) 'Currency' (every price in EUR)",)
    frame, report = load_prices_file(b"Date,Currency,AAA\n2022-01-03,USD,1\n2022-01-04,USD,1.5\n")
    assert list(frame.columns) == ["AAA"] and list(frame["AAA"]) == [1.0, 1.5] and not report.dropped
    with pytest.raises(DataValidationError, match="one-ticker export"):
        load_prices_file(b"Date,Close,Currency\n2022-01-03,182.01,USD\n2022-01-04,179.70,USD\n")
    frame, _ = load_prices_file(b"Date,CURR,AAA\n2022-01-03,3.5,1\n2022-01-04,3.6,1.1\n")
    assert list(frame.columns) == ["AAA", "CURR"] and list(frame["CURR"]) == [3.5, 3.6]


def test_ric_prices_and_bare_sentiment_tickers_get_the_reuters_hint() -> None:
    """Sentiment AAPL, MSFT; prices AAPL.O, MSFT.O (Nasdaq RICs): the symbols are not priced,
    and the report says which spelling has prices (providers' Reuters US suffix rule)."""
    days = pd.bdate_range("2022-01-03", "2022-03-31")
    sentiment = (
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        + "".join(f"{d:%Y-%m-%d},{s},100,60,200,10000,\n" for d in days for s in ("AAPL", "MSFT"))
    )
    prices = "Date,Instrument,Currency,Close\n" + "".join(
        f"{d:%Y-%m-%d},{s},USD,{100 + i}\n" for i, d in enumerate(days) for s in ("AAPL.O", "MSFT.O", "QQQ.O")
    )
    provider = FileProvider(sentiment=sentiment.encode(), prices=prices.encode(), prices_name="lseg.csv")
    data = load_market_data(provider, benchmark="QQQ.O")
    assert data.report.failed_tickers == ("AAPL", "MSFT")
    assert (
        "no usable prices for 2 symbol(s), which cannot be held: AAPL (did you mean AAPL.O?), "
        "MSFT (did you mean MSFT.O?)"
    ) in data.report.warnings
    with pytest.raises(DataValidationError, match=r"benchmark QQQ .*\(did you mean QQQ\.O\?\)"):
        load_market_data(FileProvider(sentiment=sentiment.encode(), prices=prices.encode()), benchmark="QQQ")


def test_wide_file_whose_currency_column_changes_is_refused() -> None:
    """date,AAA,currency with USD on one date and EUR on the next: AAA's returns would mix
    the two (the column was read as a ticker CURRENCY and dropped, silently)."""
    with pytest.raises(
        DataValidationError, match=r"p\.csv holds prices in 2 currencies \(EUR, USD in its 'currency'"
    ):
        load_prices_file(b"date,AAA,currency\n2022-01-03,10,USD\n2022-01-04,11,EUR\n", name="p.csv")


def _two_rows(currencies: tuple[str, str], column: str = "Currency") -> bytes:
    return (
        f"Date,Instrument,{column},Close\n"
        f"2022-01-03,AAPL.O,{currencies[0]},182.01\n2022-01-03,SAP.DE,{currencies[1]},120.50\n"
        f"2022-01-04,AAPL.O,{currencies[0]},179.70\n2022-01-04,SAP.DE,{currencies[1]},121.00\n"
    ).encode()


@pytest.mark.parametrize(
    ("currencies", "column"),
    [
        (("$", "€"), "Currency"),  # signs, not codes: were ignored and the two mixed silently
        (("US Dollar", "Euro"), "Currency"),
        (("840", "978"), "Currency"),  # ISO 4217 numeric codes
        (("USD", "EUR"), "Curr"),  # a currency column named Curr was ignored
        (("USD", "EUR (Euro)"), "CCY"),
    ],
)
def test_several_currencies_written_other_than_as_codes_are_refused(
    currencies: tuple[str, str], column: str
) -> None:
    with pytest.raises(DataValidationError, match="holds prices in 2 currencies"):
        load_prices_file(_two_rows(currencies, column), name="lseg.csv")


def test_mixed_currency_rows_with_a_placeholder_are_refused() -> None:
    text = (
        "Date,Instrument,Currency,Close\n2022-01-03,AAPL.O,USD,182.01\n"
        "2022-01-04,AAPL.O,-,179.70\n2022-01-04,SAP.DE,EUR,121.00\n"
    )
    with pytest.raises(DataValidationError, match=r"2 currencies \(EUR, USD"):
        load_prices_file(text.encode(), name="lseg.csv")


@pytest.mark.parametrize("codes", [("usd", "USD"), ("$", "$"), ("USD", "-")])
def test_one_currency_however_written_is_ignored_with_the_warning(codes: tuple[str, str]) -> None:
    text = (
        f"Date,Instrument,Currency,Close\n2022-01-03,AAPL.O,{codes[0]},182.01\n"
        f"2022-01-04,AAPL.O,{codes[1]},179.70\n"
    )
    frame, report = load_prices_file(text.encode(), name="lseg.csv")
    assert list(frame["AAPL.O"]) == [182.01, 179.70]
    assert report.warnings[0].startswith("lseg.csv: ignored column(s) 'Currency' (every price in ")


def test_lseg_price_close_column_is_the_close() -> None:
    """Workspace names the close 'Price Close'; was refused (no 'Close' column)."""
    text = (
        "Date,Instrument,Currency,Price Close\n2022-01-03,AAPL.O,USD,182.01\n2022-01-04,AAPL.O,USD,179.70\n"
    )
    frame, _ = load_prices_file(text.encode(), name="lseg.csv")
    assert list(frame["AAPL.O"]) == [182.01, 179.70]
