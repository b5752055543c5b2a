"""A two-level price header under any level names (breaker pass 7, F2): pandas-datareader's
``get_data_yahoo([...]).to_csv()`` writes ``Attributes,Adj Close,...`` / ``Symbols,AAA,...``
/ ``Date,,...``; it was refused with "has no 'date' column" though the same frame in
Parquet loaded. Right: read as the Parquet copy is (the adjusted closes of each ticker)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from engine import load_prices_file

DAYS = pd.DatetimeIndex(["2022-01-03", "2022-01-04", "2022-01-05"], name="Date")
ADJUSTED = {"AAA": [100.0, 100.1, 100.2], "BBB": [50.0, 50.1, 50.2]}


def frame(first: str, second: str) -> pd.DataFrame:
    columns = {}
    for field, k in (("Adj Close", 1.0), ("Close", 1.04), ("High", 1.05), ("Volume", 1e4)):
        for symbol, values in ADJUSTED.items():
            columns[(field, symbol)] = [round(v * k, 4) for v in values]
    out = pd.DataFrame(columns, index=DAYS)
    out.columns = out.columns.set_names([first, second])
    return out


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Attributes", "Symbols"),
        ("Field", "Ticker"),
        ("Price", "Symbol"),
        ("Price", "Symbols"),
        ("Attributes", "Ticker"),
        ("variable", "ticker"),
    ],
)
def test_two_level_csv_under_any_level_names_reads_as_its_parquet(first: str, second: str) -> None:
    data = frame(first, second)
    text = data.to_csv()
    assert text.splitlines()[:3] == [
        f"{first},Adj Close,Adj Close,Close,Close,High,High,Volume,Volume",
        f"{second},AAA,BBB,AAA,BBB,AAA,BBB,AAA,BBB",
        "Date,,,,,,,,",
    ]
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert prices.to_dict("list") == ADJUSTED
    assert report.reading[0].price_column == "Adj Close"
    buffer = io.BytesIO()
    data.to_parquet(buffer)
    from_parquet, _ = load_prices_file(buffer.getvalue(), name="p.parquet")
    pd.testing.assert_frame_equal(prices, from_parquet)
