"""Why a run has no holding period (breaker report F7): a chosen window that misses the
sentiment data is named with its dates, not blamed on the thresholds. Before,
``backtest --end 2021-01-01`` on data whose sentiment begins 2021-11-18 said "No holding
period: no sentiment row passes the thresholds inside the chosen dates and prices."; the
backtest, the signal analysis and the robustness report share the sentence
(``engine.backtest.base.no_period_warnings``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from engine import SignalAnalysisSettings, StrategyParams, analyze_signal, prepare, run_prepared
from engine.backtest.base import NO_PERIOD
from tests.engine._frames import market, sentiment_frame

DAYS = pd.bdate_range("2020-06-01", "2022-06-30")
SPAN = "(the sentiment data run from 2021-11-18 to 2021-12-31)"


def _prepared():
    t = np.arange(len(DAYS))
    prices = pd.DataFrame(
        {"AAA": 100 * 1.001**t, "BBB": 100 * 0.999**t, "CCC": 50 + 0 * t, "QQQ": 300 * 1.0003**t},
        index=pd.DatetimeIndex(DAYS, name="date"),
    )
    rows = [
        (day.date().isoformat(), symbol, comments, 200)
        for day in pd.date_range("2021-11-18", "2021-12-31")
        for symbol, comments in (("AAA", 60), ("BBB", 30), ("CCC", 20))
    ]
    return prepare(market(sentiment_frame(rows), prices))


def test_an_end_before_the_first_sentiment_date_is_named() -> None:
    params = StrategyParams(end=dt.date(2021, 1, 1))
    result = run_prepared(_prepared(), params)
    expected = (
        f"No holding period: the chosen end 2021-01-01 is before the first sentiment date 2021-11-18 {SPAN}.",
    )
    assert result.warnings == expected
    # The signal analysis gives the same sentence.
    analysis = analyze_signal(_prepared(), params, settings=SignalAnalysisSettings(quantiles=2, horizons=1))
    assert expected[0] in analysis.warnings


def test_a_start_after_the_last_holding_period_is_named() -> None:
    result = run_prepared(_prepared(), StrategyParams(start=dt.date(2022, 3, 1)))
    assert result.warnings == (
        "No holding period: the chosen start 2022-03-01 is after the last sentiment date 2021-12-31 and "
        f"after every holding period its rows pick {SPAN}.",
    )


def test_a_start_after_the_sentiment_but_inside_its_holding_period_still_trades() -> None:
    result = run_prepared(
        _prepared(), StrategyParams(start=dt.date(2022, 1, 10), min_likes=0, min_comments=0)
    )
    assert len(result.periods) > 0 and not any("No holding period" in w for w in result.warnings)


def test_thresholds_that_keep_no_row_are_still_blamed() -> None:
    result = run_prepared(_prepared(), StrategyParams(min_likes=1000.0))
    assert result.warnings == (NO_PERIOD,)
