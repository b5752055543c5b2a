"""long-prices-ticker-column, a held-back variant: a one-ticker export's fields with another
ticker's closes joined to it (``hist = yf.Ticker("AAPL").history(); hist["QQQ"] = qqq["Close"]``).
The QQQ column kept the file from being refused as a one-ticker export, so it was read as wide
with invented tickers OPEN, HIGH, LOW, CLOSE and VOLUME (a volume of 1,000,000 as a price),
without a word; the symbol whose fields these are had no prices."""

from __future__ import annotations

import pytest

from engine import DataValidationError, load_prices_file

ROWS = "2022-03-01,100,101,99,100.5,1000000,300\n2022-03-02,101,102,100,101.5,1000000,301\n"


def _file(header: str) -> bytes:
    return (header + "\n" + ROWS).encode()


@pytest.mark.parametrize(
    "header",
    ["Date,Open,High,Low,Close,Volume,QQQ", "date,open,high,low,adj close,volume,QQQ"],
)
def test_a_one_ticker_export_joined_with_a_ticker_column_is_refused(header: str) -> None:
    with pytest.raises(DataValidationError) as refusal:
        load_prices_file(_file(header), name="p.csv")
    message = str(refusal.value)
    assert message.startswith("p.csv looks like a one-ticker export")
    assert "'QQQ'" in message and "ticker's name" in message


def test_tickers_that_are_field_words_without_a_close_stay_tickers() -> None:
    """LOW (Lowe's) and OPEN (Opendoor) are tickers: with no close among them, a wide file."""
    text = "date,LOW,OPEN,QQQ\n2022-03-01,200,5,300\n2022-03-02,201,6,301\n"
    prices, _ = load_prices_file(text.encode(), name="p.csv")
    assert list(prices.columns) == ["LOW", "OPEN", "QQQ"]
