"""The exchange calendar: which weekdays the New York Stock Exchange was closed.

``exchange_calendars`` (its ``XNYS`` calendar: the regular holidays, Good Friday,
Juneteenth from 2022, and the one-off closures such as 2012-10-29/30 or 2025-01-09) is
imported here only, on first use. Why a calendar: a price file filled forward onto a
business-day grid (``prices.reindex(pd.bdate_range(...)).ffill()``) writes a holiday as a
weekday row whose every close repeats the previous one, and a real session on which every
ticker closes unchanged (a stable-NAV money-market fund, a few illiquid names, flat test
data) looks the same. Only the exchange's calendar tells them apart
(``engine.data.prices.without_filled_days``). The product's universe and benchmark (QQQ)
are US-listed; another exchange's holidays are not known here (docs/data.md).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pandas as pd

EXCHANGE = "XNYS"  # the New York Stock Exchange, as exchange_calendars names it
# Its time zone: the calendar date of a close is its date in New York (a close stamped in
# another zone is read at this date when the zone's own dates say it traded on weekends:
# ``engine.data.reading``).
EXCHANGE_ZONE = "America/New_York"
_FIRST_DAY = "1885-01-01"  # the first day exchange_calendars' XNYS knows
_YEARS_AHEAD = 1  # its rules are known this far ahead of today


@functools.lru_cache(maxsize=1)
def _calendar(today: str) -> Any:
    import exchange_calendars

    end = (pd.Timestamp(today) + pd.DateOffset(years=_YEARS_AHEAD)).strftime("%Y-%m-%d")
    with warnings.catch_warnings():  # its use of Series.values on tz-aware data (pandas 3.1)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return exchange_calendars.get_calendar(EXCHANGE, start=_FIRST_DAY, end=end)


def exchange_holidays(days: pd.DatetimeIndex) -> np.ndarray:
    """(n,) bool: True for each of ``days`` that is a weekday on which the NYSE held no
    session (a holiday or a one-off closure). Weekends, and days outside the calendar's
    range (before 1885, more than a year after today), are False: not known as holidays."""
    index = pd.DatetimeIndex(days).tz_localize(None).normalize()
    out = np.zeros(len(index), dtype=bool)
    if not len(index):
        return out
    calendar = _calendar(pd.Timestamp.today().strftime("%Y-%m-%d"))
    first, last = calendar.first_session.tz_localize(None), calendar.last_session.tz_localize(None)
    known = (index >= first) & (index <= last) & (index.day_of_week < 5)
    if not known.any():
        return out
    sessions = calendar.sessions_in_range(index[known].min(), index[known].max())
    out[known] = ~index[known].isin(pd.DatetimeIndex(sessions).tz_localize(None))
    return out


def non_sessions(days: pd.DatetimeIndex) -> np.ndarray:
    """(n,) bool: True for each of ``days`` that is no NYSE session: a Saturday, a Sunday,
    or an ``exchange_holidays`` weekday (outside the calendar's range, weekends only)."""
    index = pd.DatetimeIndex(days)
    return np.asarray(index.day_of_week >= 5) | exchange_holidays(index)
