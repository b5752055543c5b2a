"""Side-by-side analysis of individual stocks (the seed's "stocks" command).

Daily simple returns of each symbol's adjusted closes over [start, end], on the trading
days of the symbols asked for (``engine.data.prices.trading_days_of``: another column of the
file adds no day; a missing close inside that calendar is carried forward at most
``engine.data.prices.ALIVE_DAYS`` calendar days, ``engine.analytics.carry``, so a short gap
gives 0 returns and then the full move, a longer one or a delisting missing days), their
metrics with the same conventions as the backtest (empyrical, 252 days), the Pearson
correlation of the daily returns (pairwise complete days), and prices normalised to
1.0 at each symbol's first close in the range.

``start`` means what it means to the backtest: the start day's own return counts, so the
range begins at the last close before ``start`` (the close the backtest buys at), when one
is at most ``ALIVE_DAYS`` calendar days before it (breaker pass 12, F7: AAA "from 15 March"
left out 15 March's return here and counted it in a backtest holding AAA).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from engine.analytics.carry import carried
from engine.analytics.metrics import _std, compute_metrics, short_window_warning, weekend_calendar_warning
from engine.data.calendar import non_sessions
from engine.data.prices import ALIVE_DAYS, trading_days_of
from engine.data.symbols import is_ticker, normalise_ticker, share_class_refusal
from engine.data.types import TRADING_DAYS
from engine.errors import DataValidationError, ParameterError, short_repr

STOCK_METRIC_COLUMNS: tuple[str, ...] = (
    "symbol",
    "total_return",
    "annual_volatility",
    "sharpe",
    "max_drawdown",
)
MAX_STOCKS = 50
# What a stock analysis does with a symbol's missing close (``_daily_returns``), the end of
# the missing-sessions warning of ``engine.data.quality.price_quality_warnings`` (the CLI's
# ``stocks``).
STOCKS_GAP_EFFECT = (
    f"the stock analysis carries the last close forward at most {ALIVE_DAYS} calendar days (0% returns, "
    "then the whole move on the day it trades again); over a longer gap its returns are missing and the "
    "return of the day it resumes spans the gap"
)
# What each CSV of a stock analysis holds: the ``content`` line of its header
# (engine.export), the same in the CLI's --out files and the Stocks page's download.
STOCK_EXPORT_CONTENT: Mapping[str, str] = MappingProxyType(
    {
        "stock_metrics": f"per-stock metrics of daily simple returns ({TRADING_DAYS}-day annualisation)",
        "correlation": "Pearson correlation of the daily simple returns (pairwise complete days)",
        "normalised_prices": "adjusted closes normalised to 1.0 at each symbol's first close in the range "
        "(the close before start, where the start day's return counts)",
    }
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class StockAnalysis:
    """``metrics``: one row per symbol (``STOCK_METRIC_COLUMNS``); ``correlation``:
    symbols x symbols; ``prices``: closes normalised to 1.0 at the first day;
    ``returns``: daily simple returns (index ``date``, one column per symbol);
    ``warnings``: the dates dropped as no trading day of the symbols asked for (none of them
    priced, or a weekend/NYSE holiday on which no more than half of them have a new price:
    ``engine.data.prices.trading_days_of``), and over fewer return days than a year, that
    the annualised columns (volatility, Sharpe) extrapolate them (``short_window_warning``,
    the backtest's rule)."""

    metrics: pd.DataFrame
    correlation: pd.DataFrame
    prices: pd.DataFrame
    returns: pd.DataFrame
    warnings: tuple[str, ...] = ()


def parse_symbols(text: str | Sequence[str]) -> list[str]:
    """Upper-cased, de-duplicated tickers from "AAPL, msft" or a sequence; ParameterError if malformed."""
    items = text.split(",") if isinstance(text, str) else list(text)
    symbols: list[str] = []
    for raw in items:
        # str() of an int of more than 4,300 digits raises; short_repr names it instead.
        item = raw if isinstance(raw, str) else short_repr(raw, 100)
        symbol = normalise_ticker(item)
        if not symbol:
            continue
        if refusal := share_class_refusal("symbol", item.strip()):
            raise ParameterError(refusal)
        if not is_ticker(symbol):
            raise ParameterError(f"{short_repr(raw)} is not a ticker symbol (letters and digits, e.g. AAPL)")
        if symbol not in symbols:
            symbols.append(symbol)
    if not symbols:
        raise ParameterError("give at least one ticker symbol, e.g. AAPL,MSFT")
    if len(symbols) > MAX_STOCKS:
        raise ParameterError(f"at most {MAX_STOCKS} symbols at a time, got {len(symbols)}")
    return symbols


def _daily_returns(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(daily simple returns, closes carried forward) of ``frame`` (dates x symbols), by the
    one causal rule of a day without a close (``engine.analytics.carry.carried``, as the
    backtest's benchmark): a close is carried at most ``ALIVE_DAYS`` calendar days (a halt
    or data gap of a few sessions: returns of 0, then the full move), beyond that (a
    delisting, a long gap) the symbol's prices and returns are missing, not flat, and the
    return of the day it resumes spans the gap. It reads no later day: cutting the data
    after a day changes nothing up to it (breaker pass 10, F3: the old rule carried a gap
    only when a later close existed, so a day's return was 0 with later data, NaN without)."""
    alive = carried(pd.DatetimeIndex(frame.index), frame.notna().to_numpy())
    filled = frame.ffill().where(alive)
    # The return of day d against the last close carried forward (which may be stale on
    # d - 1: the resume day after a long gap spans it), NaN where d itself has no close.
    returns = (filled / frame.ffill().shift(1) - 1.0).iloc[1:]
    returns.index.name = "date"
    return returns, filled


def base_day(prices: pd.DataFrame, start: dt.date | str) -> pd.Timestamp:
    """The first day of the range that begins at ``start``: the last day before ``start``
    with a close of any column of ``prices`` (dates x symbols), if it is at most
    ``ALIVE_DAYS`` calendar days before ``start`` (a close the backtest could buy at, by
    the carry rule), else ``start`` itself. The start day's own return then counts."""
    at = pd.Timestamp(start)
    index = pd.DatetimeIndex(prices.index)
    earlier = index[(index < at) & prices.notna().any(axis=1).to_numpy()]
    if len(earlier) and (at - earlier[-1]).days <= ALIVE_DAYS:
        return pd.Timestamp(earlier[-1])
    return at


def _own_days(column: pd.DataFrame, joint: pd.Index) -> pd.DataFrame:
    """``column`` (one symbol's closes) on its own days: the NYSE sessions of the joint
    calendar ``joint`` (a halt there is a day of the symbol: carried forward) and the
    weekends and holidays the symbol trades on its own (``trading_days_of`` of it alone), not
    those a neighbour's majority kept or dropped."""
    symbol = str(column.columns[0])
    alone, _ = trading_days_of(column, [symbol], whose="the symbols asked for")
    days, alone_days = pd.DatetimeIndex(joint), pd.DatetimeIndex(alone.index)
    own = days[~non_sessions(days)].union(alone_days[non_sessions(alone_days)])
    return alone.reindex(own).combine_first(column.reindex(own))


def analyze_stocks(
    prices: pd.DataFrame,
    symbols: Sequence[str],
    *,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    risk_free: float = 0.0,
) -> StockAnalysis:
    """Metrics, correlations and normalised prices of ``symbols`` from a price frame."""
    wanted = parse_symbols(symbols)
    missing = [s for s in wanted if s not in prices.columns]
    if missing:
        raise DataValidationError(f"no prices for {', '.join(missing)} in the price data")
    frame = prices.loc[:, wanted].sort_index()
    if start is not None:
        frame = frame.loc[frame.index >= base_day(frame, start)]
    if end is not None:
        frame = frame.loc[frame.index <= pd.Timestamp(end)]
    frame = frame.astype(np.float64)
    # The calendar is the symbols asked for (engine.data.prices.trading_days_of): another
    # column of the file (a BTC-USD priced on weekends) adds no zero-return days (breaker
    # pass 3, F2: a constant 0.1%-a-day series got volatility 0.72% and Sharpe 25.33), nor
    # does a minority of them on a weekend or holiday (pass 4, F5: AAA 12.97% volatility
    # asked with BTC-USD, 15.35% alone).
    asked = frame
    frame, calendar = trading_days_of(frame, wanted, whose="the symbols asked for")
    empty = [s for s in wanted if frame[s].notna().sum() < 2]
    if empty:
        raise DataValidationError(f"fewer than two prices for {', '.join(empty)} between the chosen dates")

    returns, filled = _daily_returns(frame)
    first = filled.apply(lambda col: col.loc[col.first_valid_index()])
    normalised = filled / first
    rows = []
    for symbol in wanted:
        # Each symbol's metrics on its own weekends and holidays: with a neighbour on another
        # calendar (BTC-USD next to AAA: one of two trades on weekends, no majority) the joint
        # calendar drops or keeps days that are not this symbol's (breaker pass 5, F6:
        # BTC-USD's volatility 54.37% alone, 64.52% next to AAA). The joint calendar serves
        # the correlation and the chart.
        series = _daily_returns(_own_days(asked[[symbol]], frame.index))[0][symbol].dropna()
        m = compute_metrics(series.to_numpy(), None, risk_free=risk_free)
        rows.append({"symbol": symbol, **{k: m[k] for k in STOCK_METRIC_COLUMNS[1:]}})
    metrics = pd.DataFrame(rows, columns=list(STOCK_METRIC_COLUMNS))
    metrics["symbol"] = metrics["symbol"].astype(str)
    correlation = returns.corr()
    # A pair is correlated over the days both have a return; a symbol without dispersion
    # on those days (up to rounding: negligible_dispersion) has no correlation there,
    # though it may move on others (a constant-growth stretch, then trading).
    values = returns.to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    for i in range(len(wanted)):
        for j in range(i, len(wanted)):
            both = finite[:, i] & finite[:, j]
            if not (_std(values[both, i]) > 0 and _std(values[both, j]) > 0):
                correlation.iloc[i, j] = correlation.iloc[j, i] = np.nan
    short = short_window_warning(len(returns), window="the chosen window")
    weekend = weekend_calendar_warning(pd.DatetimeIndex(returns.index), window="the chosen window")
    dropped = tuple(f"{d.count} date(s) dropped: {d.reason} (e.g. {', '.join(d.examples)})" for d in calendar)
    return StockAnalysis(
        metrics=metrics,
        correlation=correlation,
        prices=normalised,
        returns=returns,
        warnings=dropped + tuple(w for w in (short, weekend) if w),
    )
