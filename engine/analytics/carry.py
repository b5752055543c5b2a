"""The one causal rule for a report series' day without a close (the backtest's benchmark,
``engine.backtest.base.benchmark_returns``; each symbol of the stock analysis,
``engine.analytics.stocks``).

On day d a column's close is carried from its last close on or before d while that close
is at most ``engine.data.prices.ALIVE_DAYS`` calendar days old (the staleness rule of the
trading calendar's majority); beyond that, and before its first close, it is missing.
The rule reads only data on or before d, so a day's value never depends on whether the
column trades again later: a Friday close is carried over the weekend and a halt of a few
sessions gives returns of 0 (its close carried) whether or not the data end inside it,
and a gap longer than ``ALIVE_DAYS`` is missing (NaN) on its days beyond that window
whether the column resumes or has ended; the return of the day it resumes spans the gap
from its last close (breaker pass 10, F3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.prices import ALIVE_DAYS


def carried(dates: pd.DatetimeIndex | np.ndarray, has_close: np.ndarray) -> np.ndarray:
    """Booleans shaped like ``has_close`` ((T,) or (T, k), True where the column has a real
    close on ``dates[d]``; ``dates`` ascending): True on the days the column's close exists
    (a real close, or the last one carried within ``ALIVE_DAYS`` calendar days)."""
    has = np.asarray(has_close, dtype=bool)
    days = pd.DatetimeIndex(dates).values.astype("datetime64[D]").astype(np.int64)
    index = np.arange(has.shape[0]).reshape((-1,) + (1,) * (has.ndim - 1))
    last = np.maximum.accumulate(np.where(has, index, -1), axis=0)
    age = days.reshape(index.shape) - days[np.maximum(last, 0)]
    return (last >= 0) & (age <= ALIVE_DAYS)


def stale_runs(dates: pd.DatetimeIndex | np.ndarray, has_close: np.ndarray) -> list[tuple[int, int, int]]:
    """(last close, first missing day, last missing day) indices of each run of days after
    the first close of a column ((T,) ``has_close``) on which ``carried`` is False: the
    days a gap longer than ``ALIVE_DAYS`` calendar days (or the end of its data) leaves
    without a close."""
    has = np.asarray(has_close, dtype=bool)
    alive = carried(dates, has)
    closes = np.flatnonzero(has)
    if closes.size == 0:
        return []
    missing = ~alive
    missing[: closes[0]] = False
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    prior = closes[np.searchsorted(closes, starts) - 1]
    return [(int(p), int(a), int(b)) for p, a, b in zip(prior, starts, stops, strict=True)]
