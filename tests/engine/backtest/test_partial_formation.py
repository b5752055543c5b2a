"""A formation period the sentiment data cover only in part is ranked like a full one,
and warned (``engine.backtest.plan.partial_formation_warnings``).

The real sentiment file ends on 2023-01-04: the January 2023 formation period had 3 of
its trading days, yet its ranking picked the February holdings exactly like a full month,
with no word. Hand-written rows below reproduce it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import StrategyParams, prepare, run_prepared
from tests.engine._frames import market, sentiment_frame

PARAMS = StrategyParams(top_n=2, min_likes=0.0, min_comments=0.0)
DAYS = pd.bdate_range("2022-12-01", "2023-02-28")  # no holidays: Jan 2023 has 22 price days


def _prices() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    cols = ["A", "B", "C", "QQQ"]
    values = 50.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, (len(DAYS), len(cols))), axis=0)
    return pd.DataFrame(values, index=pd.DatetimeIndex(DAYS, name="date"), columns=cols)


def _rows(first: str, last: str, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row a calendar day per symbol from ``first`` to ``last`` (A ranks first)."""
    rows = [
        (day.date().isoformat(), symbol, comments, 100)
        for day in pd.date_range(first, last)
        for symbol, comments in (("A", 50), ("B", 40), ("C", 30))
        if day.date().isoformat() not in skip
    ]
    return sentiment_frame(rows)


def _partial(result) -> list[str]:
    return [w for w in result.warnings if w.startswith("The formation period")]


def test_sentiment_ending_inside_the_last_formation_period_is_warned() -> None:
    result = run_prepared(prepare(market(_rows("2022-12-01", "2023-01-04"), _prices())), PARAMS)
    # The January period is still traded at the 2023-01-31 close, from its 3 days (causal).
    assert pd.Timestamp("2023-01-31") in set(result.periods["entry_date"])
    assert _partial(result) == [
        "The formation period 2023-01-01 to 2023-01-31, whose ranking picks the holdings bought at "
        "the 2023-01-31 close, has sentiment data only to 2023-01-04, the last day of the sentiment "
        "data: 3 of its 22 trading days; it is ranked as if it were complete."
    ]


def test_sentiment_starting_inside_the_first_formation_period_is_warned() -> None:
    result = run_prepared(prepare(market(_rows("2022-12-15", "2023-02-28"), _prices())), PARAMS)
    assert _partial(result) == [
        "The formation period 2022-12-01 to 2022-12-31, whose ranking picks the holdings bought at "
        "the 2023-01-02 close, has sentiment data only from 2022-12-15, the first day of the sentiment "
        "data: 12 of its 22 trading days; it is ranked as if it were complete."
    ]


@pytest.mark.parametrize(("last", "skip"), [("2023-01-31", ()), ("2023-02-28", ("2023-01-16", "2023-01-17"))])
def test_periods_the_data_cover_are_not_warned(last: str, skip: tuple[str, ...]) -> None:
    """Data to the last period's last trading day, or to the last price day with days
    without any row inside the data's span (sparse rows are the data, not a cut): no warning."""
    result = run_prepared(prepare(market(_rows("2022-12-01", last, skip), _prices())), PARAMS)
    assert _partial(result) == []


def test_weekly_periods_count_the_weeks_trading_days() -> None:
    """The data end on Wednesday 2023-02-22: the week of Saturday 18 to Friday 24 February
    (W-FRI) has 5 trading days, 3 of them covered; its entry is Friday's close."""
    params = PARAMS.replace(rebalance="weekly")
    result = run_prepared(prepare(market(_rows("2022-12-01", "2023-02-22"), _prices())), params)
    assert _partial(result) == [
        "The formation period 2023-02-18 to 2023-02-24, whose ranking picks the holdings bought at "
        "the 2023-02-24 close, has sentiment data only to 2023-02-22, the last day of the sentiment "
        "data: 3 of its 5 trading days; it is ranked as if it were complete."
    ]
