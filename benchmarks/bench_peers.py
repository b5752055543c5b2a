"""This project against the peers a user would otherwise pick: vectorbt, bt, plain numpy.

One run on the seeded synthetic market of ``bench_backtest.py`` (``synthetic_market()``:
500 symbols x 10 years of business days, ~1M sentiment rows; ``--quick``: 100 symbols x
3 years), monthly rebalancing, top 50, equal weight, 10 bps. Prints one ratio per line:

- **W1** simulation from given monthly target weights (the targets are the project's own
  selection, read from its public result frames; untimed): the project's simulation
  kernel on prepared data, vectorbt ``Portfolio.from_orders`` (target percent, cash
  sharing, one group, ``call_seq="auto"``), bt (``RunOnDate`` at the entry closes,
  ``WeighTarget``, ``Rebalance``), a plain numpy loop over the holding segments, and the
  floor: one ``np.sum`` pass over the price matrix (W1 printed as a multiple of it; the
  floor and the kernel are each timed many times in a row, so both read a cache-warm
  matrix).
- **W2** end to end from the raw sentiment rows (signal, ranking, backtest):
  ``run_backtest(data, params)`` against the strategy written with a pandas group-by and
  the numpy segment loop, and against the same pandas signal code feeding vectorbt.
- **W3** a serial sweep of 256 configurations (top_n x min_likes x min_comments): the
  project's ``run_sweep`` on a ``SerialExecutor`` against vectorbt with the
  configurations as column groups (one ``from_orders`` call). vectorbt runs an evenly
  spread subset of the configurations when all of them would not fit in memory
  (``VBT_SWEEP_CELLS``: 8 of 256 on the full data); the line says so and the rate is
  extrapolated per configuration.

Before any timing, every peer's daily returns are compared with the project's; a peer
whose returns differ by more than its tolerance gets "disagrees (max diff X): not a win"
instead of a ratio. Timings are medians over interleaved rounds (all candidates see the
same machine load), with BLAS and OpenMP single-threaded for every candidate (a serial
comparison; idle BLAS threads spinning would tax whoever calls BLAS). Run: ``pip install
-r benchmarks/requirements-bench.txt`` then ``python benchmarks/bench_peers.py [--quick]``.

How each peer's fee convention maps to the project's (README "Turnover and costs": cost =
``cost_bps / 1e4 * one-way turnover``, the turnover counting the cash line, so the first
purchase from cash is 1.0 and a full switch is 1.0; paid at the entry close):

- For a portfolio that is fully invested before and after a rebalance (all rebalances
  here but the first), the one-way turnover is the value bought = the value sold, i.e.
  half the traded value; for the first purchase from cash it is the value bought. So
  "rate x one-way turnover" is "rate x value bought" at every entry of this benchmark.
- **bt**: commission function ``rate * q * p`` for a purchase (q > 0), 0 for a sale:
  a fee on the value bought. ``integer_positions=False``.
- **vectorbt**: ``fees`` is a rate on traded value for both sides and cannot depend on the
  order's side, so the rate is given per day: ``rate`` on the first entry (purchases
  only), ``rate / 2`` on the later entries (bought + sold = 2 x one-way turnover).
- **numpy loop**: written to the project's convention directly.
- **Where the fee lands.** Peers deduct the fee from the value at the entry close; the
  project reports the entry close before its cost and scales the next day's return,
  ``r_first = (1 - cost) * (1 + r_gross) - 1``. The peers' value series are compared
  after adding back each entry day's fees (their own fee records), which moves the cost
  to the project's day without changing any compounded return.
- **Who pays the fee.** The project scales every position by ``1 - cost``. The peers pay
  it from cash while buying, so the last purchases of a rebalance are a little smaller
  (vectorbt fills the last order partially; bt sizes each purchase net of its fee). The
  value after the entry is the same; the daily returns then differ by at most about
  ``cost x (spread of the holdings' daily returns)``: hence the fee peers' tolerance
  ``FEE_TOLERANCE_PER_RATE x rate`` (1e-4 at 10 bps), while the numpy loop must agree
  to 1e-10. With ``cost_bps = 0`` every peer must agree to ``EXACT_TOLERANCE`` (checked
  too: the accounting is otherwise the same to the last bits).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before numpy: every candidate single-threaded (as bench_sweep.py)

import argparse
import importlib
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import synthetic_market

from engine import (
    MarketData,
    StrategyParams,
    freeze_startup_objects,
    prepare,
    run_backtest,
    run_prepared,
    single_blas_thread,
    tune_allocator,
)
from engine.jobs import SerialExecutor
from engine.research.sweep import run_sweep

TOP_N = 50
COST_BPS = 10.0
EXACT_TOLERANCE = 1e-10  # same accounting, different arithmetic order
# vectorbt and bt pay the fee from cash while buying (see the docstring): their daily
# returns may differ by up to fee rate x a 10% daily spread between a holding and the
# portfolio, i.e. 1e-4 at 10 bps (observed: vectorbt 3e-5, bt 3e-6).
FEE_TOLERANCE_PER_RATE = 0.1
AIM_W1_PASSES = 2.0
AIM_W2_SPEEDUP = 2.0
W3_GRID: dict[str, tuple[Any, ...]] = {
    "top_n": (10, 20, 30, 40, 50, 60, 70, 80),
    "min_likes": (0.0, 10.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0),
    "min_comments": (0.0, 5.0, 10.0, 20.0),
}
INIT_CASH = 1e6  # the peers' starting cash (returns do not depend on it)
VBT_SWEEP_CELLS = 20_000_000  # days x columns of one vectorbt sweep call (~160 MB per float array)


def engine_simulate() -> Callable[..., Any]:
    """The project's simulation kernel: ``simulate(prices, entry, end, held, weights, cost_rate)``.

    The only private import of this script (W1 times the kernel alone); it lives in
    ``engine.backtest.nb``; the other names are where it may move."""
    for module in (
        "engine.backtest.nb",
        "engine.backtest.simulate",
        "engine.backtest",
    ):
        try:
            found = getattr(importlib.import_module(module), "simulate", None)
        except ImportError:
            continue
        if callable(found):
            return found
    raise ImportError("the engine's simulate kernel was not found; update engine_simulate()")


# ----- the given targets (W1 inputs) -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Targets:
    """Monthly targets on the prepared price matrix (T x (S + 1), cash last, price 1)."""

    dates: pd.DatetimeIndex  # (T,)
    symbols: tuple[str, ...]  # (S,)
    prices: np.ndarray  # (T, S + 1) forward-filled closes; 0 before a symbol's first price
    close: pd.DataFrame  # (T, S) the same closes for the peers, back-filled before the first price
    entry: np.ndarray  # (K,) price row of each entry close
    end: np.ndarray  # (K,) price row of each segment's last day
    held: np.ndarray  # (K, N) columns of ``prices`` (cash column as padding)
    weights: np.ndarray  # (K, N) target weights, each row sums to 1
    days: pd.DatetimeIndex  # the backtest days: rows entry[0] + 1 .. end[-1]
    rate: float  # cost per unit of one-way turnover (cost_bps / 1e4)

    def dense(self) -> np.ndarray:
        """(K, S) target weights, 0 for the symbols not held."""
        out = np.zeros((len(self.entry), len(self.symbols) + 1))
        np.put_along_axis(out, self.held, self.weights, axis=1)
        return out[:, :-1]


def given_targets(data: MarketData, params: StrategyParams) -> tuple[Targets, pd.Series]:
    """The project's selection as explicit targets (from the public result frames), and
    the project's daily returns for them."""
    prepared = prepare(data)
    result = run_prepared(prepared, params)
    dates = pd.DatetimeIndex(prepared.dates.astype("datetime64[ns]"))
    symbols = prepared.symbols
    n_sym = len(symbols)
    periods, holdings = result.periods, result.holdings
    entry = dates.get_indexer(pd.DatetimeIndex(periods["entry_date"])).astype(np.int64)
    end = dates.get_indexer(pd.DatetimeIndex(periods["period_end"])).astype(np.int64)
    segment = pd.DatetimeIndex(periods["period_start"]).get_indexer(
        pd.DatetimeIndex(holdings["period_start"])
    )
    column = pd.Index(symbols).get_indexer(holdings["symbol"])
    width = max(1, int(np.bincount(segment, minlength=len(entry)).max()))
    held = np.full((len(entry), width), n_sym, dtype=np.int64)
    weights = np.zeros((len(entry), width))
    slot = np.zeros(len(entry), dtype=np.int64)
    for k, c, w in zip(segment, column, holdings["weight"].to_numpy(), strict=True):
        held[k, slot[k]], weights[k, slot[k]] = c, w
        slot[k] += 1
    weights[slot == 0, 0] = 1.0  # a segment without holdings is held as cash
    close = data.prices.reindex(columns=list(symbols)).ffill().bfill()
    close.index = dates
    days = dates[entry[0] + 1 : end[-1] + 1]
    targets = Targets(
        dates=dates,
        symbols=symbols,
        prices=prepared.prices,
        close=close,
        entry=entry,
        end=end,
        held=held,
        weights=weights,
        days=days,
        rate=params.cost_bps / 1e4,
    )
    return targets, result.returns["portfolio"]


# ----- peers: the simulation from targets ---------------------------------------------------


def numpy_loop(
    prices: np.ndarray, entry: np.ndarray, end: np.ndarray, held: np.ndarray, weights: np.ndarray, rate: float
) -> np.ndarray:
    """The project's accounting written plainly: one numpy step per holding segment.

    ``prices`` (T x C) has the cash column last (price 1); ``held``/``weights`` (K x N)
    the columns and target weights of each segment. Returns the daily returns of the days
    ``entry[0] + 1 .. end[-1]``."""
    n_cols = prices.shape[1]
    out = np.empty(int(end[-1] - entry[0]))
    before = np.zeros(n_cols)
    before[-1] = 1.0  # start in cash
    pos = 0
    for k in range(len(entry)):
        cols, w = held[k], weights[k]
        target = np.zeros(n_cols)
        np.add.at(target, cols, w)
        cost = rate * 0.5 * np.abs(target - before).sum()  # one-way turnover incl. cash
        relative = prices[entry[k] + 1 : end[k] + 1, cols] / prices[entry[k], cols]
        value = relative @ w  # value of 1 invested at the entry close, before the cost
        n = len(value)
        out[pos] = (1.0 - cost) * value[0] - 1.0
        out[pos + 1 : pos + n] = value[1:] / value[:-1] - 1.0
        pos += n
        before = np.zeros(n_cols)
        np.add.at(before, cols, w * relative[-1] / value[-1])
    return out


def peer_returns(value: np.ndarray, fees: np.ndarray, first: int, last: int) -> np.ndarray:
    """Daily returns in the project's convention from a peer's end-of-day values (after
    that day's fees ``fees``), for the price rows first .. last - 1.

    The project reports an entry close before its cost and carries the cost into the
    next day: ``r_t = W_t / W_{t-1} - 1`` with ``W_t = V_t + fee_t`` (fees are paid on
    entry days only). Compounded returns are unchanged."""
    reported = value + fees
    return reported[first:last] / reported[first - 1 : last - 1] - 1.0


def vbt_fee_rates(n_days: int, entry: np.ndarray, rate: float) -> np.ndarray:
    """(T, 1) vectorbt fee rates on traded value: ``rate`` at the first entry (purchases
    only), ``rate / 2`` at the later ones (bought + sold = 2 x one-way turnover)."""
    fees = np.zeros((n_days, 1))
    fees[entry[1:], 0] = rate / 2.0
    fees[entry[0], 0] = rate
    return fees


def vbt_simulate(close: pd.DataFrame, size: np.ndarray, fees: np.ndarray, group_by: Any = True) -> Any:
    """vectorbt from target percents: one cash-sharing group (or one per ``group_by``
    label), sells before buys in each row (``call_seq="auto"``)."""
    import vectorbt as vbt

    return vbt.Portfolio.from_orders(
        close,
        size,
        size_type="targetpercent",
        fees=fees,
        cash_sharing=True,
        group_by=group_by,
        call_seq="auto",
        init_cash=INIT_CASH,
        freq="1D",
    )


def vbt_values(pf: Any) -> tuple[np.ndarray, np.ndarray]:
    """(T, G) end-of-day group values and (T, G) fees paid per day and group."""
    value = np.asarray(pf.value(), dtype=np.float64)
    value = value.reshape(len(value), -1)
    records = pf.orders.values
    group_of_col = np.asarray(pf.wrapper.grouper.get_groups(), dtype=np.int64)
    fees = np.zeros(value.shape)
    np.add.at(fees, (records["idx"], group_of_col[records["col"]]), records["fees"])
    return value, fees


def vbt_targets(t: Targets) -> tuple[np.ndarray, np.ndarray]:
    """(size, fees) for ``vbt_simulate`` from the given targets."""
    size = np.full(t.close.shape, np.nan)
    size[t.entry] = t.dense()
    return size, vbt_fee_rates(len(size), t.entry, t.rate)


def bt_targets(t: Targets) -> pd.DataFrame:
    return pd.DataFrame(t.dense(), index=t.dates[t.entry], columns=list(t.symbols))


def bt_run(close: pd.DataFrame, weights: pd.DataFrame, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """bt with target weights on the rows of ``weights`` (on their dates, the entry closes): (end-of-day
    value, fees per day) aligned on ``close``."""
    import bt

    strategy = bt.Strategy(
        "targets",
        [
            # The entry closes: the first trading day on or after each month's last calendar
            # day (the next month's first when the month ends on a weekend or a holiday).
            bt.algos.RunOnDate(*weights.index),
            bt.algos.WeighTarget(weights),
            bt.algos.Rebalance(),
        ],
    )

    def commission(quantity: float, price: float) -> float:
        return rate * quantity * price if quantity > 0 else 0.0  # on the value bought

    test = bt.Backtest(
        strategy,
        close,
        initial_capital=INIT_CASH,
        commissions=commission,
        integer_positions=False,
        progress_bar=False,
    )
    bt.run(test)
    node = test.strategy
    value = node.values.reindex(close.index).to_numpy(dtype=np.float64)
    fees = node.fees.reindex(close.index).fillna(0.0).to_numpy(dtype=np.float64)
    return value, fees


# ----- W2: the strategy from raw rows, written with pandas ----------------------------------


@dataclass(frozen=True, kw_only=True)
class Market:
    """The price frame as a pandas user prepares it once."""

    close: pd.DataFrame  # forward-filled closes
    first_valid: np.ndarray  # (S,) first row with a price (T when none)
    last_valid: np.ndarray  # (S,) last row with a price (-1 when none)
    has_close: np.ndarray  # (T, S) True where the symbol has a real close that day


def pandas_market(data: MarketData) -> Market:
    prices = data.prices
    valid = prices.notna().to_numpy()
    t = len(prices)
    has = valid.any(axis=0)
    return Market(
        close=prices.ffill(),
        first_valid=np.where(has, valid.argmax(axis=0), t),
        last_valid=np.where(has, t - 1 - valid[::-1].argmax(axis=0), -1),
        has_close=valid,
    )


def pandas_signal(data: MarketData, min_likes: float, min_comments: float) -> pd.DataFrame:
    """Monthly mean of comments / likes over the rows with likes > min_likes and comments >
    min_comments, one row per (month, symbol), sorted by month, signal (highest first), symbol."""
    rows = data.sentiment
    rows = rows[(rows["twitterLikes"] > min_likes) & (rows["twitterComments"] > min_comments)]
    month = rows["date"].dt.to_period("M").rename("month")
    ratio = (rows["twitterComments"] / rows["twitterLikes"]).rename("signal")
    signal = ratio.groupby([month, rows["symbol"]]).mean().reset_index()
    return signal.sort_values(["month", "signal", "symbol"], ascending=[True, False, True])


def pandas_selection(
    market: Market, signal: pd.DataFrame, top_n: int, lag_days: int = 0
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(entry rows, end rows, held columns per segment): the top ``top_n`` of month m,
    bought at the close of the first trading day on or after m's last calendar day (+
    ``lag_days`` trading days) if it has a close that day, held to the next entry close."""
    index = pd.DatetimeIndex(market.close.index)
    t = len(index)
    top = signal.groupby("month", sort=True).head(top_n)
    by_month = dict(iter(top.groupby("month", sort=True)["symbol"]))
    months = pd.period_range(signal["month"].min(), signal["month"].max() + 1, freq="M")
    closes = index.searchsorted(months.end_time.normalize(), side="left") + lag_days
    entry, end = closes[:-1], np.minimum(closes[1:], t - 1)
    live = end > entry
    held: list[np.ndarray] = []
    for m, e in zip(months[:-1][live], entry[live], strict=True):
        picks = by_month.get(m)
        cols = market.close.columns.get_indexer(picks) if picks is not None else np.zeros(0, dtype=np.int64)
        cols = cols[cols >= 0]
        held.append(cols[market.has_close[e, cols]])
    return entry[live], end[live], held


def reference_numpy(data: MarketData, params: StrategyParams) -> pd.Series:
    """W2 reference: the pandas group-by selection, then the numpy segment loop."""
    market = pandas_market(data)
    signal = pandas_signal(data, params.min_likes, params.min_comments)
    entry, end, held = pandas_selection(market, signal, params.top_n, params.lag_days)
    matrix = market.close.to_numpy(dtype=np.float64)
    matrix = np.concatenate([np.nan_to_num(matrix, nan=0.0), np.ones((len(matrix), 1))], axis=1)
    cash = matrix.shape[1] - 1
    cols = np.full((len(held), max(1, max(map(len, held)))), cash, dtype=np.int64)
    weights = np.zeros(cols.shape)
    for k, h in enumerate(held):
        cols[k, : len(h)] = h
        weights[k, : max(1, len(h))] = 1.0 / max(1, len(h))  # no holding: all in cash
    returns = numpy_loop(matrix, entry, end, cols, weights, params.cost_bps / 1e4)
    return pd.Series(returns, index=market.close.index[entry[0] + 1 : end[-1] + 1])


def _vbt_size(market: Market, entry: np.ndarray, held: list[np.ndarray]) -> np.ndarray:
    size = np.full(market.close.shape, np.nan)
    size[entry] = 0.0
    for e, h in zip(entry, held, strict=True):
        if len(h):
            size[e, h] = 1.0 / len(h)
    return size


def pandas_vbt(
    data: MarketData, params: StrategyParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """W2 peer: the pandas group-by selection, then vectorbt. (value, fees, entry, end)."""
    market = pandas_market(data)
    signal = pandas_signal(data, params.min_likes, params.min_comments)
    entry, end, held = pandas_selection(market, signal, params.top_n, params.lag_days)
    close = market.close.bfill()  # never traded before listing: not holdable there
    pf = vbt_simulate(
        close, _vbt_size(market, entry, held), vbt_fee_rates(len(close), entry, params.cost_bps / 1e4)
    )
    value, fees = vbt_values(pf)
    return value[:, 0], fees[:, 0], entry, end


# ----- W3: a sweep, vectorbt with configurations as column groups --------------------------


def grid_configurations(grid: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every combination, the last key varying fastest (as run_sweep's table rows)."""
    out: list[dict[str, Any]] = [{}]
    for key, values in grid.items():
        out = [{**c, key: v} for c in out for v in values]
    return out


@dataclass(frozen=True, kw_only=True)
class SweepRun:
    """A vectorbt sweep: per configuration (column g) its end-of-day values and fees."""

    value: np.ndarray  # (T, G)
    fees: np.ndarray  # (T, G)
    first_entry: np.ndarray  # (G,) first entry row
    last_end: np.ndarray  # (G,) last segment's last row

    def total_return(self) -> np.ndarray:
        return self.value[self.last_end, np.arange(self.value.shape[1])] / INIT_CASH - 1.0

    def daily_returns(self, g: int) -> np.ndarray:
        """Configuration g's daily returns in the project's convention."""
        first, last = int(self.first_entry[g]) + 1, int(self.last_end[g]) + 1
        return peer_returns(self.value[:, g], self.fees[:, g], first, last)


def vbt_sweep(data: MarketData, configs: Sequence[dict[str, Any]], rate: float) -> SweepRun:
    """The pandas signal once per threshold pair (shared by its top_n values), then one
    vectorbt call with a column group per configuration."""
    market = pandas_market(data)
    close = market.close.bfill()
    signals: dict[tuple[float, float], pd.DataFrame] = {}
    sizes, fees, firsts, ends = [], [], [], []
    for c in configs:
        key = (c["min_likes"], c["min_comments"])
        if key not in signals:
            signals[key] = pandas_signal(data, *key)
        entry, end, held = pandas_selection(market, signals[key], c["top_n"])
        sizes.append(_vbt_size(market, entry, held))
        fees.append(np.repeat(vbt_fee_rates(len(close), entry, rate), close.shape[1], axis=1))
        firsts.append(int(entry[0]))
        ends.append(int(end[-1]))
    wide_close = pd.DataFrame(
        np.tile(close.to_numpy(), len(configs)),
        index=close.index,
        columns=pd.MultiIndex.from_product([range(len(configs)), close.columns], names=["config", "symbol"]),
    )
    pf = vbt_simulate(
        wide_close, np.concatenate(sizes, axis=1), np.concatenate(fees, axis=1), group_by="config"
    )
    value, paid = vbt_values(pf)
    return SweepRun(value=value, fees=paid, first_entry=np.array(firsts), last_end=np.array(ends))


# ----- the run -------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(candidates: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Median seconds per candidate; each round runs every candidate ``per_round`` times."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, (fn, per_round) in candidates.items():
            samples[name].extend(timed(fn) for _ in range(per_round))
    return {name: statistics.median(values) for name, values in samples.items()}


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def faster(ratio: float) -> str:
    """``peer time / project time`` in words: "3.1x faster" or "1.6x slower"."""
    x = ratio if ratio >= 1.0 else 1.0 / ratio
    digits = 0 if x >= 100 else 1 if x >= 10 else 2
    return f"{x:.{digits}f}x {'faster' if ratio >= 1.0 else 'slower'}"


def verdict(diff: float, tolerance: float, text: str) -> str:
    """The ratio, or why there is none (results that disagree are not a win)."""
    if not diff <= tolerance:
        return f"disagrees (max diff {diff:.1e}): not a win"
    return text


def check_w1(t: Targets, expected: np.ndarray, simulate: Callable[..., Any]) -> dict[str, float]:
    """Max |daily return - the project's| per W1 candidate (also warms vectorbt's JIT up)."""
    first, last = int(t.entry[0]) + 1, int(t.end[-1]) + 1
    kernel = simulate(t.prices, t.entry, t.end, t.held, t.weights, t.rate).returns
    loop = numpy_loop(t.prices, t.entry, t.end, t.held, t.weights, t.rate)
    size, fees = vbt_targets(t)
    value, paid = vbt_values(vbt_simulate(t.close, size, fees))
    diffs = {
        "project kernel": max_diff(kernel, expected),
        "numpy loop": max_diff(loop, expected),
        "vectorbt": max_diff(peer_returns(value[:, 0], paid[:, 0], first, last), expected),
    }
    value, paid = bt_run(t.close, bt_targets(t), t.rate)
    diffs["bt"] = max_diff(peer_returns(value, paid, first, last), expected)
    return diffs


def tolerance_of(name: str, rate: float) -> float:
    """Largest max |daily return difference| accepted from peer ``name`` at fee ``rate``."""
    fee_peer = name in {"vectorbt", "bt", "pandas + vectorbt"}
    return FEE_TOLERANCE_PER_RATE * rate if fee_peer and rate > 0 else EXACT_TOLERANCE


def check_w2(data: MarketData, params: StrategyParams, expected: pd.Series) -> dict[str, float]:
    """Max |daily return - run_backtest's| of the W2 peers (same days required)."""
    reference = reference_numpy(data, params)
    same_days = reference.index.equals(expected.index)
    value, fees, entry, end = pandas_vbt(data, params)
    via_vbt = peer_returns(value, fees, int(entry[0]) + 1, int(end[-1]) + 1)
    return {
        "pandas + numpy loop": max_diff(reference.to_numpy(), expected.to_numpy())
        if same_days
        else float("inf"),
        "pandas + vectorbt": max_diff(via_vbt, expected.to_numpy()),
    }


def vbt_subset(n_configs: int, n_cols: int, n_days: int) -> int:
    """Configurations per vectorbt sweep call within ``VBT_SWEEP_CELLS`` (a power of 2)."""
    fit = max(1, VBT_SWEEP_CELLS // max(1, n_cols * n_days))
    return min(n_configs, 2 ** int(np.log2(fit)))


def check_w3(
    data: MarketData, base: StrategyParams, configs: Sequence[dict[str, Any]], run: SweepRun
) -> float:
    """Max |daily return - run_prepared's| over the configurations of a vectorbt sweep."""
    prepared = prepare(data)
    worst = 0.0
    for g, c in enumerate(configs):
        expected = run_prepared(prepared, base.replace(**c)).returns["portfolio"].to_numpy()
        worst = max(worst, max_diff(run.daily_returns(g), expected))
    return worst


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 symbols x 3 years (a smoke run)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    args = parser.parse_args(argv)
    # As every engine entry point does (the CLI, the app, Ray tasks); all candidates share
    # them: the allocator's settings, and one BLAS thread (the product's driver never runs
    # more: its numbers do not depend on the thread count, engine.threads).
    tune_allocator()
    freeze_startup_objects()  # as the CLI, the app and Ray tasks do
    single_blas_thread()
    import bt
    import vectorbt as vbt
    from vectorbt._engine import is_rust_available

    n_symbols, years = (100, 3) if args.quick else (500, 10)
    rounds = max(1, args.rounds)
    print(f"building the synthetic market: {n_symbols} symbols x {years} years ...", flush=True)
    data = synthetic_market(n_symbols=n_symbols, years=years)
    params = StrategyParams(top_n=TOP_N, rebalance="monthly", weighting="equal", cost_bps=COST_BPS)
    vbt_name = f"vectorbt {vbt.__version__} ({'rust' if is_rust_available() else 'numba'} engine)"
    bt_name = f"bt {bt.__version__}"
    print(
        f"prices {data.prices.shape[0]} days x {data.prices.shape[1]} columns, sentiment "
        f"{len(data.sentiment):,} rows; monthly top {TOP_N}, equal weight, {COST_BPS:g} bps; {vbt_name}, {bt_name}"
    )
    simulate = engine_simulate()
    rate = params.cost_bps / 1e4

    # ----- agreement first: daily returns against the project's, per peer
    print("\nagreement of daily returns with the project (max |diff|; tolerance in brackets)")
    zero_targets, zero_returns = given_targets(data, params.replace(cost_bps=0.0))
    diffs0 = check_w1(zero_targets, zero_returns.to_numpy(), simulate)
    targets, project_returns = given_targets(data, params)
    expected = project_returns.to_numpy()
    diffs1 = check_w1(targets, expected, simulate)
    full = run_backtest(data, params).returns["portfolio"]
    diffs2 = check_w2(data, params, full)
    for name in ("project kernel", "numpy loop", "vectorbt", "bt"):
        print(
            f"  W1 {name:22s} 0 bps: {diffs0[name]:.1e} [{tolerance_of(name, 0.0):.0e}]   "
            f"{COST_BPS:g} bps: {diffs1[name]:.1e} [{tolerance_of(name, rate):.0e}]"
        )
    for name, diff in diffs2.items():
        print(f"  W2 {name:22s} {COST_BPS:g} bps: {diff:.1e} [{tolerance_of(name, rate):.0e}]")
    w1_ok = {
        name: max(diffs0[name] / tolerance_of(name, 0.0), diffs1[name] / tolerance_of(name, rate))
        for name in diffs1
    }
    # A peer passes when both its 0 bps and its 10 bps returns are inside their tolerances.
    w1_diff = {name: diffs1[name] if w1_ok[name] <= 1 else max(diffs0[name], diffs1[name]) for name in diffs1}
    w1_tol = {name: tolerance_of(name, rate) if w1_ok[name] <= 1 else 0.0 for name in diffs1}

    configs = grid_configurations(W3_GRID)
    base = params
    project_sweep = run_sweep(data, W3_GRID, base=base, executor=SerialExecutor())
    n_sub = vbt_subset(len(configs), data.prices.shape[1], data.prices.shape[0])
    picked = np.linspace(0, len(configs) - 1, n_sub).round().astype(int)
    subset = [configs[i] for i in picked]
    w3_diff = check_w3(data, base, subset, vbt_sweep(data, subset, rate))
    same_total = max_diff(
        project_sweep.table["total_return"].to_numpy()[picked],
        [run_backtest(data, base.replace(**c)).metrics["total_return"] for c in subset],
    )
    print(
        f"  W3 vectorbt sweep, {n_sub} configurations: {w3_diff:.1e} [{tolerance_of('vectorbt', rate):.0e}]"
        f"   (run_sweep's total_return == run_backtest's: {same_total == 0.0})"
    )

    # ----- W1: simulation from the given targets
    t = targets
    matrix = t.prices
    size, fees = vbt_targets(t)
    weights_frame = bt_targets(t)
    light = 20 if args.quick else 10
    w1 = interleaved(
        {
            "floor": (lambda: np.sum(matrix), 5 * light),
            "project": (lambda: simulate(t.prices, t.entry, t.end, t.held, t.weights, t.rate), 5 * light),
            "numpy loop": (lambda: numpy_loop(t.prices, t.entry, t.end, t.held, t.weights, t.rate), light),
            "vectorbt": (lambda: vbt_values(vbt_simulate(t.close, size, fees)), 1),
            "bt": (lambda: bt_run(t.close, weights_frame, t.rate), 1),
        },
        rounds,
    )
    # ----- W2: end to end from the raw rows
    w2 = interleaved(
        {
            "project": (lambda: run_backtest(data, params), 2),
            "pandas + numpy loop": (lambda: reference_numpy(data, params), 2),
            "pandas + vectorbt": (lambda: pandas_vbt(data, params), 1),
        },
        rounds,
    )
    # ----- W3: the sweep, serial
    w3_rounds = max(1, min(rounds, 3))
    w3 = interleaved(
        {
            "project": (lambda: run_sweep(data, W3_GRID, base=base, executor=SerialExecutor()), 1),
            "vectorbt": (lambda: vbt_sweep(data, subset, rate), 1),
        },
        w3_rounds,
    )

    floor = w1["floor"]
    k, n = t.held.shape
    print(
        f"\nW1 simulation from given monthly targets ({k} segments x {n} holdings, "
        f"{matrix.shape[0]} days x {matrix.shape[1]} columns; medians of {rounds} rounds)"
    )
    print(f"W1 floor: one np.sum pass over the price matrix = {floor * 1e3:.2f} ms")
    passes = w1["project"] / floor
    meets = "meets" if passes <= AIM_W1_PASSES else "MISSES"
    text = f"{passes:.1f} floor passes ({w1['project'] * 1e3:.2f} ms; aim <= {AIM_W1_PASSES:g}: {meets})"
    kernel_diff = max(diffs0["project kernel"], diffs1["project kernel"])
    print(f"W1 project kernel: {verdict(kernel_diff, EXACT_TOLERANCE, text)}")
    for name, label in (
        ("numpy loop", "a plain numpy segment loop"),
        ("vectorbt", vbt_name),
        ("bt", bt_name),
    ):
        ratio = w1[name] / w1["project"]
        text = f"{faster(ratio)} ({w1[name] * 1e3:.1f} ms = {w1[name] / floor:.0f} floor passes)"
        print(f"W1 project vs {label}: {verdict(w1_diff[name], w1_tol[name], text)}")

    print(f"\nW2 end to end from {len(data.sentiment):,} raw sentiment rows (medians of {rounds} rounds)")
    ratio = w2["pandas + numpy loop"] / w2["project"]
    meets = "meets" if ratio >= AIM_W2_SPEEDUP else "MISSES"
    text = (
        f"{faster(ratio)} ({w2['project'] * 1e3:.0f} ms vs {w2['pandas + numpy loop'] * 1e3:.0f} ms; "
        f"aim >= {AIM_W2_SPEEDUP:g}x: {meets})"
    )
    diff = diffs2["pandas + numpy loop"]
    print(f"W2 project run_backtest vs pandas groupby + numpy loop: {verdict(diff, EXACT_TOLERANCE, text)}")
    ratio = w2["pandas + vectorbt"] / w2["project"]
    text = f"{faster(ratio)} ({w2['project'] * 1e3:.0f} ms vs {w2['pandas + vectorbt'] * 1e3:.0f} ms)"
    diff = diffs2["pandas + vectorbt"]
    print(
        f"W2 project run_backtest vs pandas + {vbt_name}: {verdict(diff, tolerance_of('vectorbt', rate), text)}"
    )

    n_configs = len(configs)
    project_rate = n_configs / w3["project"]
    vbt_rate = n_sub / w3["vectorbt"]
    print(
        f"\nW3 serial sweep of {n_configs} configurations (top_n x min_likes x min_comments; medians of {w3_rounds})"
    )
    print(
        f"W3 project run_sweep (SerialExecutor): {project_rate:.1f} configurations/s ({w3['project']:.2f} s)"
    )
    scope = (
        f"all {n_configs} configurations"
        if n_sub == n_configs
        else f"{n_sub} of {n_configs} configurations run, rate extrapolated per configuration"
    )
    print(
        f"W3 {vbt_name}, configurations as column groups: {vbt_rate:.2f} configurations/s "
        f"({scope}: ~{n_configs / vbt_rate:.0f} s for all {n_configs})"
    )
    text = f"{project_rate / vbt_rate:.1f}x the configurations/s"
    print(f"W3 project vs vectorbt: {verdict(w3_diff, tolerance_of('vectorbt', rate), text)}")


if __name__ == "__main__":
    main()
