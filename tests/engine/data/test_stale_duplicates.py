"""A repeated date whose first copy is stale (breaker pass 3, F4;
``engine.data.prices.stale_copies``). The duplicate rule keeps, per ticker, the first valid
price of the date (yfinance #765: an empty first copy yields to the real bar). A first copy
that repeats the previous closes is the previous day filled forward, not the day's bar: its
prices yield to the other copy's, in every layout. Rows rebuilt from the
duplicate-date-empty-first field case (/tmp/breaker3/e5_stale.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import FileProvider, StrategyParams, load_market_data, load_prices_file, run_backtest
from engine.data.prices import STALE_COPY_CELL, STALE_COPY_ROW

HEAD = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
# AAA is the more engaged symbol in January and February: held in February and March.
SENTIMENT = (
    HEAD
    + "".join(
        f"{d:%Y-%m-%d},{s},10,{60 if s == 'AAA' else 30},200,1000,0.1\n"
        for d in pd.date_range("2022-01-01", "2022-02-28")
        for s in ("AAA", "BBB")
    )
).encode()


def _prices() -> pd.DataFrame:
    """Business days 2022-01-03..03-30 (AAA +0.2% a session, BBB -0.1%, QQQ +0.1%)."""
    days = pd.bdate_range("2022-01-03", "2022-03-30")
    t = np.arange(len(days))
    frame = pd.DataFrame(
        {"AAA": 100 * 1.002**t, "BBB": 90 * 0.999**t, "QQQ": 300 * 1.001**t}, index=days
    ).round(6)
    frame.index.name = "date"
    return frame


def _wide_with_stale_copy() -> tuple[bytes, pd.Series]:
    """The clean rows, then 2022-03-31 twice: first AAA and QQQ at 03-30's closes (stale) and
    BBB at 79.0, then the real bar 150, 80, 330."""
    prices = _prices()
    last = prices.iloc[-1]
    text = prices.to_csv()
    text += f"2022-03-31,{last['AAA']},79.0,{last['QQQ']}\n2022-03-31,150.0,80.0,330.0\n"
    return text.encode(), last


def test_a_stale_first_copy_of_a_repeated_date_yields_to_the_real_bar() -> None:
    """Before: the first copy was kept, 03-31's return was 0 for AAA (held) and QQQ
    (the case: total 8.75%, benchmark 4.29%). Right: AAA 150 and QQQ 330 on 03-31, the
    returns 150/AAA[03-30] - 1 and 330/QQQ[03-30] - 1 (the case: 44.12% and 7.82%). BBB's
    copies differ and neither repeats 03-30's close: the first valid (79.0) is kept, as
    before."""
    data_bytes, last = _wide_with_stale_copy()
    frame, report = load_prices_file(data_bytes, name="p.csv")
    assert frame.loc["2022-03-31"].to_dict() == {"AAA": 150.0, "BBB": 79.0, "QQQ": 330.0}
    (stale,) = [d for d in report.dropped if d.reason == STALE_COPY_CELL]
    assert (stale.count, stale.unit, stale.examples) == (2, "cells", ("AAA row 64", "QQQ row 64"))
    assert report.rows_read == report.rows_kept + report.rows_dropped
    data = load_market_data(FileProvider(sentiment=SENTIMENT, prices=data_bytes))
    result = run_backtest(data, StrategyParams(top_n=1))
    day = result.returns.loc[pd.Timestamp("2022-03-31")]
    assert day["portfolio"] == pytest.approx(150.0 / last["AAA"] - 1, rel=1e-12)
    assert day["benchmark"] == pytest.approx(330.0 / last["QQQ"] - 1, rel=1e-12)


def test_a_stale_long_row_yields_to_the_real_close() -> None:
    """The long layout: 2022-03-31,AAA at 03-30's close, then 2022-03-31,AAA,150."""
    prices = _prices()
    long = prices.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    text = long.to_csv(index=False) + f"2022-03-31,AAA,{prices['AAA'].iloc[-1]}\n2022-03-31,AAA,150.0\n"
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert frame.loc["2022-03-31", "AAA"] == 150.0
    (stale,) = [d for d in report.dropped if d.reason == STALE_COPY_ROW]
    assert stale.count == 1
    assert report.rows_read == report.rows_kept + report.rows_dropped


def test_copies_that_all_repeat_the_previous_close_are_kept() -> None:
    """A flat close written twice: both copies repeat, nothing yields (one row, the close)."""
    prices = _prices()
    last = prices.iloc[-1]
    row = f"2022-03-31,{last['AAA']},{last['BBB']},{last['QQQ']}\n"
    frame, report = load_prices_file((prices.to_csv() + row + row).encode(), name="p.csv")
    assert frame.loc["2022-03-31"].tolist() == last.tolist()
    assert not [d for d in report.dropped if d.reason == STALE_COPY_CELL]
