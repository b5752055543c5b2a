"""``return_day_span``: the price days outside which a backtest has no return (the bound
the sweep's walk-forward check counts, breaker pass 11, F1)."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd

from engine import MarketData, StrategyParams, prepare, run_prepared
from engine.backtest.plan import return_day_span
from tests.engine._frames import random_market


def test_every_runs_return_days_lie_in_the_span_and_fill_it_without_thresholds() -> None:
    whole = random_market(seed=3, n_symbols=8, start="2019-01-01", end="2021-06-30")
    sentiment = whole.sentiment[whole.sentiment["date"] >= pd.Timestamp("2020-07-01")]
    data = MarketData.build(
        sentiment=sentiment.reset_index(drop=True), prices=whole.prices, source=whole.source
    )
    prepared = prepare(data)
    dates = prepared.dates
    windows = [
        (None, None),
        (dt.date(2020, 9, 5), None),
        (None, dt.date(2021, 3, 15)),
        (dt.date(2019, 5, 1), None),
    ]
    for rebalance, lag, (start, end), transform in itertools.product(
        ("weekly", "monthly", "quarterly"), (0, 3), windows, ("level", "change")
    ):
        params = StrategyParams(
            top_n=3, rebalance=rebalance, lag_days=lag, start=start, end=end, signal_transform=transform
        )
        lo, hi = return_day_span(dates, prepared.sentiment_first, prepared.sentiment_last, params)
        days = pd.DatetimeIndex(run_prepared(prepared, params).returns.index).values.astype("datetime64[D]")
        where = (rebalance, lag, start, end, transform)
        assert days.size and dates[lo] <= days[0] and days[-1] <= dates[hi - 1], where
        if transform == "level":  # every period has a signal: the run covers the whole span
            np.testing.assert_array_equal(days, dates[lo:hi], err_msg=str(where))
    # The history before the first sentiment date is never in it.
    lo, _ = return_day_span(dates, prepared.sentiment_first, prepared.sentiment_last, StrategyParams())
    assert dates[lo] > prepared.sentiment_first
