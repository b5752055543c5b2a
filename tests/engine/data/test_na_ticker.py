"""The tickers NA (Nano Labs on Nasdaq; National Bank on the TSX) and NULL were dropped as
"symbol is not a ticker": pandas read them as missing values. A column of text keeps them as
written; elsewhere NA is still a missing value (R's write.csv writes NA for one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import load_prices_file, load_sentiment_csv

HEADER = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"


@pytest.mark.parametrize("ticker", ["NA", "NULL"])
def test_na_and_null_are_tickers_in_the_sentiment_file(ticker: str) -> None:
    text = f"{HEADER}\n2022-01-03,AAA,1,2,3,4,NA\n2022-01-03,{ticker},1,2,3,4,0.5\n2022-01-04,{ticker},1,2,3,4,\n"
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert sorted(frame["symbol"].unique()) == sorted(["AAA", ticker]) and report.dropped == ()
    # NA in a number column is still a missing value (twitterSentiment may be empty)
    assert np.isnan(frame.loc[frame["symbol"] == "AAA", "twitterSentiment"].iloc[0])


def test_na_in_a_long_price_file_and_as_a_missing_price() -> None:
    days = pd.bdate_range("2022-01-03", periods=4)
    rows = "".join(
        f"{d.date()},{s},{10 + i + k}\n" for i, d in enumerate(days) for k, s in enumerate(("NA", "QQQ"))
    )
    frame, report = load_prices_file(("date,symbol,close\n" + rows).encode(), name="p.csv")
    assert list(frame.columns) == ["NA", "QQQ"] and report.dropped == ()
    wide, report = load_prices_file(b"date,AAA,QQQ\n2022-01-03,1,NA\n2022-01-04,2,3\n", name="p.csv")
    assert np.isnan(wide.loc["2022-01-03", "QQQ"]) and report.dropped == ()
