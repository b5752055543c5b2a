"""Vectorised backtest of the sentiment strategy.

Accounting (see docs/strategy.md):
- The holdings chosen from formation period p are bought at the close of the last
  trading day of p, plus ``lag_days`` trading days (the *entry*), and held until the
  next entry. With ``lag_days=0`` that is exactly the calendar period p+1, and the
  return of its first trading day counts.
- Inside a holding segment positions are bought and held (weights drift with prices);
  at the next entry they are reset to the targets.
- Missing prices are carried forward from the last close (0 return). A symbol is
  holdable at an entry when it has a price on or before that day and after it (it is
  listed); a selected symbol that is not is skipped and the others share its weight.
  A held symbol whose prices end inside the segment is thus held as cash at its last
  close. Both are reported in ``warnings``.
- One-way turnover per rebalance is ``0.5 * sum |target - drifted|`` over the symbols
  and the cash line (first rebalance from cash = 1.0, a complete switch = 1.0); the cost
  ``cost_bps / 1e4 * turnover`` is paid at the entry close, so the whole segment's value
  path is scaled by ``1 - cost``, which lowers only the first day's return.

The hot path is matrix work: the days of all segments are one contiguous slice of the
price matrix; each day's value is the gathered prices of the segment's holdings times
the segment's share counts. Only non-equal weightings loop over segments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine._version import __version__
from engine.analytics.metrics import compute_metrics, drawdown_info
from engine.backtest.result import BacktestResult, Manifest
from engine.data.types import COUNT_COLUMNS, MarketData, SourceInfo
from engine.errors import DataValidationError
from engine.strategy.params import REBALANCES, SIGNALS, StrategyParams
from engine.strategy.signals import aggregate, period_keys, period_last_day, row_signal, top_n_descending
from engine.strategy.weights import compute_weights

_NS = "datetime64[ns]"


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Groups:
    """Contiguous runs of sorted sentiment rows sharing (symbol, period) for one rebalance."""

    starts: np.ndarray  # (G,) first row of each run
    symbol: np.ndarray  # (G,) symbol index of each run
    key: np.ndarray  # (G,) period key of each run
    cell: np.ndarray  # (G,) position of each run in the flattened (period - k0, symbol) matrix
    k0: int  # smallest period key
    n_periods: int  # keys k0 .. k0 + n_periods - 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class PreparedData:
    """Numpy precomputation of a ``MarketData``, shared by every configuration of a sweep.

    Picklable (numpy arrays, tuples, dicts): a sweep ``ray.put``s it once.

    - ``dates``: trading days (``datetime64[D]``, length T).
    - ``symbols``: sorted union of the price columns and the sentiment symbols (S).
    - ``prices``: T x (S+1) adjusted closes, forward-filled, 0.0 before a symbol's
      first price (it is never held there); the extra last column is cash (always 1.0).
    - ``first_valid`` / ``last_valid``: (S+1) index of each column's first/last real
      price (T / -1 when it has none; the cash column spans all days).
    - ``returns``: T x S daily simple returns of the forward-filled prices (row 0 NaN).
    - ``row_*``: the sentiment rows as arrays, sorted by (symbol, date), so that the rows
      of one (symbol, period) are contiguous for every rebalance frequency:
      ``row_values[signal]`` the per-row signal (0 where undefined), ``row_defined[signal]``
      where it is defined (None: everywhere); ``groups[rebalance]`` where each (symbol, period) run starts.
    """

    dates: np.ndarray
    symbols: tuple[str, ...]
    prices: np.ndarray
    first_valid: np.ndarray
    last_valid: np.ndarray
    returns: np.ndarray
    row_likes: np.ndarray
    row_comments: np.ndarray
    row_values: dict[str, np.ndarray]
    row_defined: dict[str, np.ndarray | None]
    groups: dict[str, _Groups]
    source: SourceInfo
    fingerprint: str

    @property
    def n_symbols(self) -> int:
        return len(self.symbols)

    def symbol_index(self, symbol: str) -> int | None:
        i = int(np.searchsorted(np.asarray(self.symbols, dtype=object), symbol))
        return i if i < len(self.symbols) and self.symbols[i] == symbol else None


def prepare(data: MarketData) -> PreparedData:
    """Turn validated ``MarketData`` into the arrays every backtest run reuses."""
    prices = data.prices
    sentiment = data.sentiment
    codes, row_names = _symbol_codes(sentiment["symbol"])
    symbols = tuple(sorted(set(map(str, prices.columns)) | set(row_names)))
    n = len(symbols)
    dates = pd.DatetimeIndex(prices.index).values.astype("datetime64[D]")
    raw = prices.reindex(columns=list(symbols)).to_numpy(dtype=np.float64, copy=True)
    raw[~np.isfinite(raw) | (raw <= 0)] = np.nan  # a non-positive close is not a price
    valid = ~np.isnan(raw)
    t = len(dates)
    any_valid = valid.any(axis=0)
    # One extra entry for the cash column, which is always "listed".
    first_valid = np.append(np.where(any_valid, valid.argmax(axis=0), t), 0)
    last_valid = np.append(np.where(any_valid, t - 1 - valid[::-1].argmax(axis=0), -1), t - 1)
    filled = _forward_fill(raw, valid)
    matrix = np.empty((t, n + 1))
    matrix[:, :n] = np.where(np.isnan(filled), 0.0, filled)  # 0 before a symbol's first price
    matrix[:, n] = 1.0
    returns = np.full((t, n), np.nan)
    if t > 1:
        returns[1:] = filled[1:] / filled[:-1] - 1.0

    position = np.searchsorted(np.asarray(symbols, dtype=object), np.asarray(row_names, dtype=object))
    row_symbol = np.take(position, codes) if len(codes) else np.zeros(0, dtype=np.int64)
    row_days = _day_numbers(sentiment["date"])
    order = _symbol_date_order(row_symbol, row_days, n)
    # Sorted by symbol first, so the sorted symbols are runs of each code.
    row_symbol = np.repeat(np.arange(n, dtype=np.int64), np.bincount(row_symbol, minlength=n))
    first_day = int(row_days.min()) if row_days.size else 0
    # Gathers are memory-bound: move 32-bit day offsets and a 32-bit order, not 64-bit.
    small = np.int32 if row_days.size < 2**31 else np.int64
    order = order.astype(small, copy=False)
    day_offset = np.take((row_days - first_day).astype(small), order)
    # np.take of each column's zero-copy view: one gather per column, no intermediate copy.
    column = {c: np.take(sentiment[c].to_numpy(dtype=np.float64), order) for c in COUNT_COLUMNS}
    values = {
        name: row_signal(
            name, comments=column["twitterComments"], likes=column["twitterLikes"], columns=column
        )
        for name in SIGNALS
    }
    defined = {name: None if np.isfinite(v).all() else np.isfinite(v) for name, v in values.items()}
    prepared = PreparedData(
        dates=dates,
        symbols=symbols,
        prices=matrix,
        first_valid=first_valid.astype(np.int64),
        last_valid=last_valid.astype(np.int64),
        returns=returns,
        row_likes=column["twitterLikes"],
        row_comments=column["twitterComments"],
        # Columns without gaps are shared, not copied.
        row_values={
            name: v if defined[name] is None else np.where(defined[name], v, 0.0)
            for name, v in values.items()
        },
        row_defined=defined,
        groups=_all_row_groups(row_symbol, day_offset, first_day, n),
        source=data.source,
        fingerprint=data.fingerprint,
    )
    _freeze(prepared)
    return prepared


def _freeze(prepared: PreparedData) -> None:
    """Make every array read-only: results are memoised per PreparedData object."""
    for field in dataclasses.fields(prepared):
        value = getattr(prepared, field.name)
        arrays = value.values() if isinstance(value, dict) else [value]
        for array in arrays:
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        if isinstance(value, dict):
            for groups in value.values():
                if isinstance(groups, _Groups):
                    for part in (groups.starts, groups.symbol, groups.key, groups.cell):
                        part.flags.writeable = False


def _symbol_date_order(row_symbol: np.ndarray, row_days: np.ndarray, n_symbols: int) -> np.ndarray:
    """Row order by (symbol, date). Rows arrive sorted by (date, symbol) (the MarketData
    contract), so a stable sort on the symbol alone suffices, and on 16-bit codes numpy
    uses a linear-time radix sort; otherwise a full lexsort."""
    if row_days.size and bool(np.all(row_days[1:] >= row_days[:-1])):
        codes = row_symbol.astype(np.int16) if n_symbols < 2**15 else row_symbol
        return np.argsort(codes, kind="stable")
    return np.lexsort((row_days, row_symbol))


def _symbol_codes(symbols: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(code of each row, name of each code). Factorising the underlying array (Arrow
    strings, categorical, object) skips the Series machinery and is about twice as fast."""
    codes, uniques = pd.factorize(symbols.array)
    return np.asarray(codes), [str(u) for u in uniques]


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of each row (int64), straight from the datetime64 values."""
    if isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M":  # naive datetime64 of any unit
        values = dates.to_numpy()
    else:  # anything else pandas reads as dates (time zones: UTC days, as before)
        values = pd.DatetimeIndex(dates).values
    return values.astype("datetime64[D]").view(np.int64)


def _all_row_groups(
    row_symbol: np.ndarray, day_offset: np.ndarray, first_day: int, n_symbols: int
) -> dict[str, _Groups]:
    """``_row_groups`` for every rebalance frequency (rows sorted by symbol, date;
    ``day_offset``: days since ``first_day``), sharing the symbol boundaries."""
    if day_offset.size == 0:
        return {r: _row_groups(row_symbol, np.zeros(0, dtype=np.int64), None, n_symbols) for r in REBALANCES}
    calendar = np.arange(first_day, first_day + int(day_offset.max()) + 1).astype("datetime64[D]")
    new_symbol = np.ones(row_symbol.size, dtype=bool)
    np.not_equal(row_symbol[1:], row_symbol[:-1], out=new_symbol[1:])
    # period_keys through a lookup table over the (short) date range.
    return {
        r: _row_groups(row_symbol, np.take(period_keys(calendar, r), day_offset), new_symbol, n_symbols)
        for r in REBALANCES
    }


def _row_groups(
    row_symbol: np.ndarray, keys: np.ndarray, new_symbol: np.ndarray | None, n_symbols: int
) -> _Groups:
    if keys.size == 0 or new_symbol is None:
        return _Groups(
            starts=np.zeros(0, np.int64),
            symbol=np.zeros(0, np.int64),
            key=np.zeros(0, np.int64),
            cell=np.zeros(0, np.int64),
            k0=0,
            n_periods=0,
        )
    change = new_symbol.copy()
    change[1:] |= keys[1:] != keys[:-1]
    starts = np.flatnonzero(change)
    k0 = int(keys.min())
    symbol, key = row_symbol[starts], keys[starts]
    return _Groups(
        starts=starts,
        symbol=symbol,
        key=key,
        cell=(key - k0) * n_symbols + symbol,
        k0=k0,
        n_periods=int(keys.max()) - k0 + 1,
    )


def _forward_fill(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Carry each column's last real price forward (vectorised: index of the last valid row)."""
    t = raw.shape[0]
    idx = np.where(valid, np.arange(t)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = np.take_along_axis(raw, idx, axis=0)
    return filled


# ----- the plan: formation periods, segments, selections -----


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Plan:
    entry: np.ndarray  # (K,) index of the entry close of each segment
    end: np.ndarray  # (K,) index of the segment's last day
    formation_key: np.ndarray  # (K,) period key of the formation period
    signal: np.ndarray  # (K, S) transformed, aggregated signal (NaN = not eligible)
    keep: np.ndarray  # (rows,) sentiment rows passing the thresholds (sorted row order)
    held: np.ndarray  # (K, N) symbol index, padded with the cash column
    held_mask: np.ndarray  # (K, N) True for a real holding
    rank: np.ndarray  # (K, N) 1-based rank of each held symbol
    n_eligible: np.ndarray  # (K,)
    skipped: list[tuple[int, int]]  # (segment, symbol) selected but not holdable


def _empty_plan(n_symbols: int, top_n: int) -> _Plan:
    zi = np.zeros(0, dtype=np.int64)
    zf = np.zeros((0, n_symbols))
    return _Plan(
        entry=zi,
        end=zi,
        formation_key=zi,
        signal=zf,
        keep=np.zeros(0, dtype=bool),
        held=np.zeros((0, top_n), dtype=np.int64),
        held_mask=np.zeros((0, top_n), dtype=bool),
        rank=np.zeros((0, top_n), dtype=np.int64),
        n_eligible=zi,
        skipped=[],
    )


def _day_index(dates: np.ndarray, day: dt.date | None, side: str) -> int:
    return int(np.searchsorted(dates, np.datetime64(day, "D"), side=side))


def _aggregate_signal(
    prepared: PreparedData, params: StrategyParams
) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(first period key, level P x S over the periods from the first to the last with a
    kept row, the kept-row mask); None when no row is kept.

    Rows are pre-sorted so each (symbol, period) is a contiguous run: the mean is two
    ``add.reduceat`` over the masked rows, with no compaction of the row arrays.
    """
    n_sym = prepared.n_symbols
    groups = prepared.groups[params.rebalance]
    if groups.starts.size == 0:
        return None
    keep = prepared.row_likes > params.min_likes
    keep &= prepared.row_comments > params.min_comments
    defined = prepared.row_defined[params.signal]
    if defined is not None:
        keep &= defined
    counts = _run_counts(keep, groups.starts)
    present = counts > 0
    if not present.any():
        return None
    flat = groups.cell
    size = groups.n_periods * n_sym
    values = prepared.row_values[params.signal]
    level = np.full(size, np.nan)
    if params.aggregation == "mean":
        sums = np.add.reduceat(values * keep, groups.starts)
        level[flat[present]] = sums[present] / counts[present]
    else:
        row_flat = np.repeat(flat, np.diff(np.append(groups.starts, keep.size)))
        level = aggregate(row_flat[keep], values[keep], size, params.aggregation)
    # Keep only the periods from the first to the last with a kept row.
    first_key = int(groups.key[present].min())
    last_key = int(groups.key[present].max())
    lo, hi = (first_key - groups.k0) * n_sym, (last_key - groups.k0 + 1) * n_sym
    shape = (last_key - first_key + 1, n_sym)
    level = level[lo:hi].reshape(shape)
    level.flags.writeable = keep.flags.writeable = False  # memoised and shared: never modified
    return first_key, level, keep


def _run_counts(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """True entries of ``mask`` in each run starting at ``starts`` (a running count read at
    the run bounds: cheaper than a reduceat that casts every boolean)."""
    running = np.empty(mask.size + 1, dtype=np.int32 if mask.size < 2**31 else np.int64)
    running[0] = 0
    np.cumsum(mask, out=running[1:])
    return np.diff(running[np.append(starts, mask.size)]).astype(np.int64)


def _plan(prepared: PreparedData, params: StrategyParams) -> _Plan:
    n_sym = prepared.n_symbols
    t = len(prepared.dates)
    signal_key = (params.rebalance, params.signal, params.min_likes, params.min_comments, params.aggregation)
    aggregated = (
        _SIGNALS.get(prepared, signal_key, lambda: _aggregate_signal(prepared, params)) if t >= 2 else None
    )
    if aggregated is None:
        return _empty_plan(n_sym, params.top_n)
    k0, level, keep = aggregated
    k1 = k0 + level.shape[0] - 1
    if params.signal_transform == "change":
        signal = np.full_like(level, np.nan)
        signal[1:] = level[1:] - level[:-1]
    else:
        signal = level

    # Formation period f (row f - k0) is traded in segment f + 1.
    formation = np.arange(k0, k1 + 1)
    last_close = (
        np.searchsorted(
            prepared.dates, period_last_day(np.arange(k0, k1 + 2), params.rebalance), side="right"
        )
        - 1
    )
    entry = last_close[:-1] + params.lag_days
    end = last_close[1:] + params.lag_days
    first_day = max(1, _day_index(prepared.dates, params.start, "left")) if params.start else 1
    last_day = _day_index(prepared.dates, params.end, "right") - 1 if params.end else t - 1
    entry = np.maximum(entry, first_day - 1)
    end = np.minimum(end, min(last_day, t - 1))
    live = end > entry
    if not live.any():
        return _empty_plan(n_sym, params.top_n)
    entry, end, formation = entry[live], end[live], formation[live]
    rows = formation - k0
    signal = signal[rows]

    top_n = params.top_n
    order = top_n_descending(signal, min(top_n, n_sym))
    if order.shape[1] < top_n:  # fewer symbols than top_n: pad with "no symbol"
        order = np.pad(order, ((0, 0), (0, top_n - order.shape[1])), constant_values=n_sym)
    k_idx = np.arange(len(entry))[:, None]
    sig_padded = np.concatenate([signal, np.full((len(entry), 1), np.nan)], axis=1)
    selected = np.isfinite(sig_padded[k_idx, order])
    holdable = (prepared.first_valid[order] <= entry[:, None]) & (
        prepared.last_valid[order] >= entry[:, None]
    )
    held_mask = selected & holdable
    skipped = [(int(k), int(order[k, j])) for k, j in zip(*np.nonzero(selected & ~holdable))]
    rank = np.broadcast_to(np.arange(1, top_n + 1), order.shape).copy()
    # Move real holdings to the front of each row (keeping rank order), pad with cash.
    front = np.argsort(~held_mask, axis=1, kind="stable")
    held = np.take_along_axis(order, front, axis=1)
    rank = np.take_along_axis(rank, front, axis=1)
    held_mask = np.take_along_axis(held_mask, front, axis=1)
    held = np.where(held_mask, held, n_sym)
    return _Plan(
        entry=entry,
        end=end,
        formation_key=formation,
        signal=signal,
        keep=keep,
        held=held,
        held_mask=held_mask,
        rank=rank,
        n_eligible=np.isfinite(signal).sum(axis=1),
        skipped=skipped,
    )


# ----- simulation: drift inside segments, reset and costs at entries -----


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Sim:
    day_index: np.ndarray  # (D,) price-row index of each backtest day
    returns: np.ndarray  # (D,) net daily simple returns
    turnover: np.ndarray  # (K,)
    cost: np.ndarray  # (K,)


def simulate(
    prices: np.ndarray,
    entry: np.ndarray,
    end: np.ndarray,
    held: np.ndarray,
    weights: np.ndarray,
    cost_rate: float,
) -> _Sim:
    """Daily returns of buy-and-hold segments reset to ``weights`` at each entry.

    ``held`` (K x N) indexes columns of ``prices`` (cash = last column, price 1);
    ``weights`` (K x N) sum to 1 per row (a cash segment holds the cash column at 1).
    Segments must be contiguous: ``entry[k + 1] == end[k]``.
    """
    n_seg = len(entry)
    n_cols = prices.shape[1]
    entry_prices = np.take_along_axis(prices[entry], held, axis=1)
    shares = weights / entry_prices  # units bought per unit of segment value
    flat = (np.arange(n_seg)[:, None] * n_cols + held).ravel()
    target_dense = np.bincount(flat, weights=weights.ravel(), minlength=n_seg * n_cols).reshape(n_seg, n_cols)
    if _is_wide(held.shape[1], n_cols):
        shares_dense = np.bincount(flat, weights=shares.ravel(), minlength=n_seg * n_cols).reshape(
            n_seg, n_cols
        )
        holding = np.zeros(n_seg * n_cols, dtype=bool)
        holding[flat] = True
        return _simulate_dense(
            prices, entry, end, target_dense, shares_dense, holding.reshape(n_seg, n_cols), cost_rate
        )
    lengths = end - entry
    first, last = int(entry[0]) + 1, int(end[-1]) + 1
    day_index = np.arange(first, last)
    seg_of_day = np.repeat(np.arange(n_seg), lengths)
    gathered = np.take(prices.ravel(), day_index[:, None] * n_cols + held[seg_of_day])
    value = np.einsum("dn,dn->d", gathered, shares[seg_of_day])
    end_rows = np.cumsum(lengths) - 1

    # Turnover: targets against the previous segment's drifted weights (cash line included).
    end_values = np.take_along_axis(prices[end], held, axis=1) * shares
    drifted = end_values / value[end_rows][:, None]
    drift_dense = np.bincount(flat, weights=drifted.ravel(), minlength=n_seg * n_cols).reshape(n_seg, n_cols)
    return _finish(day_index, value, lengths, target_dense, drift_dense, cost_rate)


def _is_wide(width: int, n_cols: int) -> bool:
    """Wide portfolios (the eligible universe): one dense row-wise product over the
    contiguous block of days beats gathering nearly every column per day."""
    return 4 * width > n_cols


def _simulate_dense(
    prices: np.ndarray,
    entry: np.ndarray,
    end: np.ndarray,
    target: np.ndarray,
    shares: np.ndarray,
    holding: np.ndarray,
    cost_rate: float,
) -> _Sim:
    """``simulate`` with (segments x columns) target weights and share counts
    (``holding``: where a position is held, so the drifted weights stay 0 elsewhere)."""
    lengths = end - entry
    first, last = int(entry[0]) + 1, int(end[-1]) + 1
    value = np.einsum("dc,dc->d", prices[first:last], np.repeat(shares, lengths, axis=0))
    end_rows = np.cumsum(lengths) - 1
    drifted = np.zeros_like(shares)
    np.multiply(prices[end], shares, out=drifted, where=holding)
    np.divide(drifted, value[end_rows][:, None], out=drifted, where=holding)
    return _finish(np.arange(first, last), value, lengths, target, drifted, cost_rate)


def _finish(
    day_index: np.ndarray,
    value: np.ndarray,
    lengths: np.ndarray,
    target: np.ndarray,
    drifted: np.ndarray,
    cost_rate: float,
) -> _Sim:
    """Turnover against the previous segment's drifted weights, costs, net daily returns."""
    n_cols = target.shape[1]
    before = np.empty_like(target)
    before[0] = 0.0
    before[0, n_cols - 1] = 1.0  # the backtest starts in cash
    before[1:] = drifted[:-1]
    turnover = 0.5 * np.abs(target - before).sum(axis=1)
    cost = cost_rate * turnover

    starts = np.cumsum(lengths) - lengths
    previous = np.empty_like(value)
    previous[1:] = value[:-1]
    previous[starts] = 1.0
    scaled = value.copy()
    scaled[starts] *= 1.0 - cost
    returns = scaled / previous - 1.0
    return _Sim(day_index=day_index, returns=returns, turnover=turnover, cost=cost)


def _equal_weights(mask: np.ndarray) -> np.ndarray:
    counts = mask.sum(axis=1, keepdims=True)
    return np.where(mask, 1.0 / np.maximum(counts, 1), 0.0)


def _targets(
    prepared: PreparedData, params: StrategyParams, plan: _Plan, warnings: list[str] | None
) -> np.ndarray:
    """Target weights (K x N) of the real holdings; cash segments get the cash column at 1."""
    if params.weighting == "equal":
        weights = _equal_weights(plan.held_mask)
    else:
        weights = np.zeros(plan.held.shape)
        for k in range(len(plan.entry)):
            mask = plan.held_mask[k]
            if not mask.any():
                continue
            cols = plan.held[k, mask]
            e = int(plan.entry[k])
            window = prepared.returns[max(e - params.lookback_days, 1) : e, cols]
            w, problem = compute_weights(params.weighting, window, risk_free=params.risk_free)
            weights[k, mask] = w
            if problem and warnings is not None:
                warnings.append(
                    f"{params.weighting} weights for the holdings entered on {_iso(prepared.dates[e])} "
                    f"fell back to equal weight: {problem}."
                )
    cash = ~plan.held_mask.any(axis=1)
    weights[cash, 0] = 1.0  # held[k, 0] is the cash column there
    return weights


def _iso(day: np.datetime64) -> str:
    return str(np.datetime64(day, "D"))


# ----- public entry points -----


def run_backtest(data: MarketData, params: StrategyParams) -> BacktestResult:
    """Backtest ``params`` on ``data`` (prepare + run_prepared)."""
    return run_prepared(prepare(data), params)


def _benchmark_column(prepared: PreparedData, params: StrategyParams) -> int:
    col = prepared.symbol_index(params.benchmark)
    if col is None or prepared.last_valid[col] < 0:
        raise DataValidationError(
            f"benchmark {params.benchmark} has no prices in the data; load it with the prices or choose another"
        )
    return col


def _benchmark_returns(prepared: PreparedData, col: int, day_index: np.ndarray) -> np.ndarray:
    """Buy and hold of the benchmark over the backtest days (0 before its first price)."""
    p = prepared.prices[:, col]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = p[day_index] / p[day_index - 1] - 1.0
    return np.where(np.isfinite(r), r, 0.0)


def backtest_metrics(prepared: PreparedData, params: StrategyParams) -> dict[str, float]:
    """Fast path for sweeps: ``METRIC_NAMES`` of the portfolio, identical to ``run_prepared(...).metrics``."""
    col = _benchmark_column(prepared, params)
    plan = _plan(prepared, params)
    if len(plan.entry) == 0:
        return compute_metrics(np.zeros(0), np.zeros(0), risk_free=params.risk_free)
    weights = _targets(prepared, params, plan, None)
    sim = simulate(prepared.prices, plan.entry, plan.end, plan.held, weights, params.cost_bps / 1e4)
    bench = _benchmark_returns(prepared, col, sim.day_index)
    return compute_metrics(sim.returns, bench, risk_free=params.risk_free, turnover=sim.turnover)


def eligible_symbols_by_period(
    prepared: PreparedData, params: StrategyParams
) -> list[tuple[pd.Timestamp, np.ndarray]]:
    """Per holding segment: (period_start, indices into ``prepared.symbols`` of the symbols
    with a signal in the formation period that are holdable at the entry). The
    random-portfolio baseline draws its top-N sets from these."""
    plan = _plan(prepared, params)
    out: list[tuple[pd.Timestamp, np.ndarray]] = []
    for k in range(len(plan.entry)):
        out.append((pd.Timestamp(prepared.dates[plan.entry[k] + 1]), _universe_members(prepared, plan, k)))
    return out


def _universe_members(prepared: PreparedData, plan: _Plan, k: int) -> np.ndarray:
    e = plan.entry[k]
    n = prepared.n_symbols
    ok = np.isfinite(plan.signal[k]) & (prepared.first_valid[:n] <= e) & (prepared.last_valid[:n] >= e)
    return np.flatnonzero(ok)


def selection_returns(
    prepared: PreparedData, params: StrategyParams, selections: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-weight daily returns of arbitrary per-segment selections with the strategy's
    calendar and accounting (drift, reset, costs). ``selections[k]``: symbol indices held
    in segment k of ``eligible_symbols_by_period``. Returns (dates, returns, turnover).

    Called once per random portfolio, so the segment calendar of the last few
    (prepared, params) pairs is remembered instead of re-aggregating the signal."""
    entry, end = _segment_calendar(prepared, params)
    if len(entry) == 0:
        empty = np.zeros(0)
        return np.zeros(0, dtype="datetime64[D]"), empty, empty
    if len(selections) != len(entry):
        raise ValueError(f"expected {len(entry)} selections, got {len(selections)}")
    width = max(1, max((len(s) for s in selections), default=1))
    n = prepared.n_symbols
    held = np.full((len(selections), width), n, dtype=np.int64)
    mask = np.zeros(held.shape, dtype=bool)
    for k, sel in enumerate(selections):
        held[k, : len(sel)] = sel
        mask[k, : len(sel)] = True
    weights = _equal_weights(mask)
    weights[~mask.any(axis=1), 0] = 1.0
    sim = simulate(prepared.prices, entry, end, held, weights, params.cost_bps / 1e4)
    return prepared.dates[sim.day_index], sim.returns, sim.turnover


class _Memo:
    """A few recent results per (PreparedData object, key), for the repeated work of
    sweeps and random baselines. Holds the prepared data by weak reference only, so it
    never keeps a large data set alive, and checks identity (ids can be reused)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.entries: dict[tuple[int, Any], tuple[weakref.ref, Any]] = {}

    def get(self, prepared: PreparedData, key: Any, compute: Callable[[], Any]) -> Any:
        full_key = (id(prepared), key)
        hit = self.entries.get(full_key)
        if hit is not None and hit[0]() is prepared:
            return hit[1]
        value = compute()
        if len(self.entries) >= self.slots:
            self.entries.pop(next(iter(self.entries)))
        self.entries[full_key] = (weakref.ref(prepared), value)
        return value

    def clear(self) -> None:
        self.entries.clear()


_CALENDARS = _Memo(slots=8)
_NAMES = _Memo(slots=8)
# The signal depends only on these fields; a sweep over top_n, weighting, lag, costs or
# dates reuses it. Each entry holds a row mask (1 byte per sentiment row).
_SIGNALS = _Memo(slots=8)


def clear_caches() -> None:
    """Forget memoised signals and calendars (benchmarks measure the uncached path)."""
    _CALENDARS.clear()
    _SIGNALS.clear()
    _NAMES.clear()


def _segment_calendar(prepared: PreparedData, params: StrategyParams) -> tuple[np.ndarray, np.ndarray]:
    """(entry, end) of the strategy's segments, memoised per (prepared object, params)."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        plan = _plan(prepared, params)
        return plan.entry, plan.end

    return _CALENDARS.get(prepared, params, compute)


def run_prepared(
    prepared: PreparedData, params: StrategyParams, *, source: SourceInfo | None = None
) -> BacktestResult:
    """Backtest ``params`` on already prepared data; the full result with frames and warnings."""
    col = _benchmark_column(prepared, params)
    source = source or prepared.source
    plan = _plan(prepared, params)
    warnings: list[str] = []
    manifest = Manifest(
        params=params.to_dict(),
        data_source=source.label,
        synthetic=source.synthetic,
        fingerprint=prepared.fingerprint,
        version=__version__,
    )
    if len(plan.entry) == 0:
        return _empty_result(params, manifest)
    weights = _targets(prepared, params, plan, warnings)
    cost_rate = params.cost_bps / 1e4
    sim = simulate(prepared.prices, plan.entry, plan.end, plan.held, weights, cost_rate)
    bench = _benchmark_returns(prepared, col, sim.day_index)
    universe = _universe_sim(prepared, plan, cost_rate)
    warnings.extend(_plan_warnings(prepared, plan))
    if prepared.first_valid[col] > sim.day_index[0] - 1:
        warnings.append(
            f"benchmark {params.benchmark} has no price before {_iso(prepared.dates[prepared.first_valid[col]])}; "
            "its return counts as 0 until then."
        )

    dates = pd.DatetimeIndex(prepared.dates[sim.day_index].astype(_NS), name="date")
    returns = pd.DataFrame(
        {"portfolio": sim.returns, "benchmark": bench, "universe": universe.returns}, index=dates
    )
    periods = _periods_frame(prepared, params, plan, sim)
    holdings = _holdings_frame(prepared, params, plan, weights)
    rf = params.risk_free
    return BacktestResult(
        returns=returns,
        holdings=holdings,
        periods=periods,
        metrics=compute_metrics(sim.returns, bench, risk_free=rf, turnover=sim.turnover),
        benchmark_metrics=compute_metrics(bench, bench, risk_free=rf, turnover=None),
        universe_metrics=compute_metrics(universe.returns, bench, risk_free=rf, turnover=universe.turnover),
        drawdown=drawdown_info(returns["portfolio"]),
        warnings=tuple(warnings),
        manifest=manifest,
    )


def _universe_sim(prepared: PreparedData, plan: _Plan, cost_rate: float) -> _Sim:
    """Equal weight of every eligible, holdable symbol of each segment (same accounting).

    The universe is wide (most symbols), so its share and target matrices are built
    densely (segments x columns) straight from the eligibility mask: no per-row sort of
    the symbols and no scatter. The arithmetic is ``simulate``'s wide path, operation for
    operation, so the numbers are identical; a narrow universe goes through ``simulate``.
    """
    n = prepared.n_symbols
    eligible = (
        np.isfinite(plan.signal)
        & (prepared.first_valid[:n] <= plan.entry[:, None])
        & (prepared.last_valid[:n] >= plan.entry[:, None])
    )
    counts = eligible.sum(axis=1)
    width = max(1, int(counts.max()))
    n_cols = prepared.prices.shape[1]
    if not _is_wide(width, n_cols):
        order = np.argsort(~eligible, axis=1, kind="stable")[:, :width]
        mask = np.take_along_axis(eligible, order, axis=1)
        held = np.where(mask, order, n)
        weights = _equal_weights(mask)
        weights[~mask.any(axis=1), 0] = 1.0
        return simulate(prepared.prices, plan.entry, plan.end, held, weights, cost_rate)
    n_seg = len(plan.entry)
    target = np.zeros((n_seg, n_cols))
    # The same expression as _equal_weights, so every weight has the same bits.
    target[:, :n] = np.where(eligible, (1.0 / np.maximum(counts, 1))[:, None], 0.0)
    target[counts == 0, n] = 1.0  # no eligible symbol: the segment is held as cash
    entry_prices = prepared.prices[plan.entry]
    holding = target > 0.0
    shares = np.zeros_like(target)
    np.divide(target, entry_prices, out=shares, where=holding)
    return _simulate_dense(prepared.prices, plan.entry, plan.end, target, shares, holding, cost_rate)


def _plan_warnings(prepared: PreparedData, plan: _Plan) -> list[str]:
    out: list[str] = []
    dates = prepared.dates
    for k, sym in plan.skipped:
        out.append(
            f"{prepared.symbols[sym]} was selected for the period starting {_iso(dates[plan.entry[k] + 1])} "
            f"but has no price on the entry day {_iso(dates[plan.entry[k]])}; skipped, the others share its weight."
        )
    for k in np.flatnonzero(~plan.held_mask.any(axis=1)):
        out.append(
            f"No symbol was eligible for the period starting {_iso(dates[plan.entry[k] + 1])}; held as cash."
        )
    stops = plan.held_mask & (prepared.last_valid[plan.held] < plan.end[:, None])
    for k, j in zip(*np.nonzero(stops)):
        sym = plan.held[k, j]
        out.append(
            f"{prepared.symbols[sym]} has no price after {_iso(dates[prepared.last_valid[sym]])}; "
            f"held as cash at its last close until {_iso(dates[plan.end[k]])}."
        )
    return out


def _periods_frame(prepared: PreparedData, params: StrategyParams, plan: _Plan, sim: _Sim) -> pd.DataFrame:
    d = prepared.dates
    return pd.DataFrame(
        {
            "period_start": d[plan.entry + 1].astype(_NS),
            "period_end": d[plan.end].astype(_NS),
            "formation_end": period_last_day(plan.formation_key, params.rebalance).astype(_NS),
            "entry_date": d[plan.entry].astype(_NS),
            "n_eligible": plan.n_eligible.astype(np.int64),
            "n_selected": plan.held_mask.sum(axis=1).astype(np.int64),
            "turnover": sim.turnover,
            "cost": sim.cost,
        }
    )


_HOLDING_COLUMNS = ("period_start", "period_end", "symbol", "weight", "signal", "rank", "likes", "comments")


def _held_sums(
    prepared: PreparedData, params: StrategyParams, plan: _Plan, k: np.ndarray, sym: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Likes and comments summed over the kept formation-period rows of each held
    (segment, symbol). Only the held symbols' runs of rows are gathered."""
    groups = prepared.groups[params.rebalance]
    likes, comments = np.zeros(len(k)), np.zeros(len(k))
    if len(k) == 0 or groups.starts.size == 0:
        return likes, comments
    # Run number of each (period, symbol) cell, -1 where the symbol has no row in it.
    n_sym = prepared.n_symbols
    run_of_cell = np.full(groups.n_periods * n_sym, -1, dtype=np.int64)
    run_of_cell[groups.cell] = np.arange(groups.starts.size)
    key = plan.formation_key[k] - groups.k0
    inside = (key >= 0) & (key < groups.n_periods)
    g = np.full(len(k), -1, dtype=np.int64)
    g[inside] = run_of_cell[key[inside] * n_sym + sym[inside]]
    found = g >= 0
    if not found.any():
        return likes, comments
    g = g[found]
    bounds = np.append(groups.starts, plan.keep.size)
    lo, lengths = bounds[g], bounds[g + 1] - bounds[g]
    offsets = np.cumsum(lengths) - lengths
    rows = np.repeat(lo - offsets, lengths) + np.arange(int(lengths.sum()))
    # The thresholds again on the gathered rows (as _aggregate_signal applies them):
    # cheaper than gathering the kept-row mask from a million rows.
    row_likes, row_comments = np.take(prepared.row_likes, rows), np.take(prepared.row_comments, rows)
    kept = (row_likes > params.min_likes) & (row_comments > params.min_comments)
    defined = prepared.row_defined[params.signal]
    if defined is not None:
        kept &= np.take(defined, rows)
    likes[found] = np.add.reduceat(row_likes * kept, offsets)
    comments[found] = np.add.reduceat(row_comments * kept, offsets)
    return likes, comments


def _holdings_frame(
    prepared: PreparedData, params: StrategyParams, plan: _Plan, weights: np.ndarray
) -> pd.DataFrame:
    k, j = np.nonzero(plan.held_mask)
    sym = plan.held[k, j]
    d = prepared.dates
    likes, comments = _held_sums(prepared, params, plan, k, sym)
    frame = pd.DataFrame(
        {
            "period_start": d[plan.entry[k] + 1].astype(_NS),
            "period_end": d[plan.end[k]].astype(_NS),
            "symbol": _symbol_names(prepared).take(sym),
            "weight": weights[k, j],
            "signal": plan.signal[k, sym],
            "rank": plan.rank[k, j].astype(np.int64),
            "likes": likes,
            "comments": comments,
        }
    )
    return frame


def _symbol_names(prepared: PreparedData) -> pd.Index:
    """``prepared.symbols`` as a pandas string index, built once per prepared data set
    (taking from it is much cheaper than converting thousands of Python strings per run)."""
    return _NAMES.get(prepared, "names", lambda: pd.Index(list(prepared.symbols), dtype="str"))


def _empty_result(params: StrategyParams, manifest: Manifest) -> BacktestResult:
    empty_dates = pd.DatetimeIndex(np.zeros(0, dtype=_NS), name="date")
    returns = pd.DataFrame({"portfolio": [], "benchmark": [], "universe": []}, index=empty_dates, dtype=float)
    nan_metrics = compute_metrics(np.zeros(0), np.zeros(0), risk_free=params.risk_free)
    holdings = pd.DataFrame({c: [] for c in _HOLDING_COLUMNS})
    periods = pd.DataFrame(
        {
            c: []
            for c in (
                "period_start",
                "period_end",
                "formation_end",
                "entry_date",
                "n_eligible",
                "n_selected",
                "turnover",
                "cost",
            )
        }
    )
    return BacktestResult(
        returns=returns,
        holdings=holdings,
        periods=periods,
        metrics=nan_metrics,
        benchmark_metrics=nan_metrics,
        universe_metrics=nan_metrics,
        drawdown={"peak": None, "trough": None, "recovery": None},
        warnings=(
            "No holding period: no sentiment row passes the thresholds inside the chosen dates and prices.",
        ),
        manifest=manifest,
    )


__all__ = [
    "PreparedData",
    "backtest_metrics",
    "eligible_symbols_by_period",
    "prepare",
    "run_backtest",
    "run_prepared",
    "selection_returns",
    "simulate",
]
