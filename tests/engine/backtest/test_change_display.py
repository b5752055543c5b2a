"""A ``change`` signal that is 0 in exact arithmetic is shown and exported as 0 (breaker
report F8): AAA's monthly mean of comments/likes is 20/200 every day of January (31 rows)
and of February (28 rows); the difference of the two means was -5.551115e-17 in
``holdings`` and its CSV. The ranking already treated it as a tie (ZZZ, also unchanged,
loses to AAA alphabetically); only the shown value changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine import StrategyParams, run_backtest, signal_table
from tests.engine._frames import market, sentiment_frame

DAYS = pd.bdate_range("2021-06-01", "2022-06-30")
PARAMS = StrategyParams(top_n=1, signal_transform="change", min_comments=0, min_likes=0)


def _data():
    t = np.arange(len(DAYS))
    prices = pd.DataFrame(
        {"AAA": 100 * 1.001**t, "ZZZ": 100 * 0.999**t, "QQQ": 300 * 1.0003**t},
        index=pd.DatetimeIndex(DAYS, name="date"),
    ).round(6)
    rows = [(d.date().isoformat(), "AAA", 20, 200) for d in pd.date_range("2022-01-01", "2022-02-28")]
    rows += [("2022-01-15", "ZZZ", 20, 200), ("2022-02-15", "ZZZ", 20, 200)]
    return market(sentiment_frame(rows), prices)


def test_a_change_that_is_zero_up_to_rounding_is_shown_as_zero() -> None:
    assert np.mean([0.1] * 28) - np.mean([0.1] * 31) != 0.0  # the residue the engine met
    result = run_backtest(_data(), PARAMS)
    held = result.holdings[result.holdings["period_start"] == pd.Timestamp("2022-03-01")]
    assert held[["symbol", "signal", "rank"]].values.tolist() == [["AAA", 0.0, 1]]
    table = signal_table(_data().sentiment, PARAMS)
    feb = table[table["formation_start"] == pd.Timestamp("2022-02-01")]
    assert feb[["symbol", "signal", "rank"]].values.tolist() == [["AAA", 0.0, 1], ["ZZZ", 0.0, 2]]
