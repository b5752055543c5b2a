"""The plan of a backtest: formation periods, entry closes, selections and the one
holdability rule, shared by the strategy, the eligible-universe benchmark and the
random-portfolio baseline; and the target weights at each entry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from engine.analytics.carry import carried, stale_runs
from engine.backtest.nb_signal import (
    equal_weights,
    flags_at,
    ranked_selection,
    run_levels,
    run_sums,
    run_sums_many,
    select_holdings,
)
from engine.backtest.prepare import PreparedData, _Memo
from engine.data.prices import ALIVE_DAYS
from engine.errors import DataValidationError
from engine.strategy.params import StrategyParams
from engine.strategy.signals import (
    aggregate,
    period_first_day,
    period_keys,
    period_last_day,
    rank_snapping_ties,
)
from engine.strategy.weights import compute_weights


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Plan:
    entry: np.ndarray  # (K,) index of the entry close of each segment
    end: np.ndarray  # (K,) index of the segment's last day
    formation_key: np.ndarray  # (K,) period key of the formation period
    closing: np.ndarray  # (K,) True for the closing period: the first after the last with a kept row
    signal: np.ndarray  # (K, S) transformed, aggregated signal (NaN = not eligible)
    held: np.ndarray  # (K, N) symbol index, padded with the cash column
    held_mask: np.ndarray  # (K, N) True for a real holding
    rank: np.ndarray  # (K, N) 1-based rank of each held symbol
    n_eligible: np.ndarray  # (K,)
    skipped: np.ndarray  # (M, 2) (segment, symbol) selected but not holdable, by segment then rank


def _empty_plan(n_symbols: int, top_n: int) -> _Plan:
    zi = np.zeros(0, dtype=np.int64)
    zf = np.zeros((0, n_symbols))
    return _Plan(
        entry=zi,
        end=zi,
        formation_key=zi,
        closing=np.zeros(0, dtype=bool),
        signal=zf,
        held=np.zeros((0, top_n), dtype=np.int64),
        held_mask=np.zeros((0, top_n), dtype=bool),
        rank=np.zeros((0, top_n), dtype=np.int64),
        n_eligible=zi,
        skipped=np.zeros((0, 2), dtype=np.int64),
    )


def _day_index(dates: np.ndarray, day: dt.date, side: Literal["left", "right"]) -> int:
    return int(np.searchsorted(dates, np.datetime64(day, "D"), side=side))


def _aggregate_signal(prepared: PreparedData, params: StrategyParams) -> tuple[int, np.ndarray] | None:
    """(first period key, level P x S over the periods from the first to the last with a
    kept row); None when no row is kept.

    Rows are pre-sorted so each (symbol, period) is a contiguous run: the mean is one
    compiled pass over the runs (``run_sums``: thresholds, counts and sums, the bits of
    ``add.reduceat`` over the masked rows), with no compaction of the row arrays; in a
    sweep batch, the run sums its ``share_batch_sums`` computed with the batch's other
    settings (the same bits). ``run_levels`` divides and places them in one more pass.
    """
    n_sym = prepared.n_symbols
    groups = prepared.groups[params.rebalance]
    if groups.starts.size == 0:
        return None
    values = prepared.row_values[params.signal]
    defined = prepared.row_defined[params.signal]
    size = groups.n_periods * n_sym
    if params.aggregation == "mean":
        shared = _SIGNALS.take_batch_sums(prepared, _level_key(params))
        if shared is None:
            sums, counts = run_sums(
                values,
                prepared.row_likes,
                prepared.row_comments,
                defined,
                groups.starts,
                params.min_likes,
                params.min_comments,
            )
            shared = sums, counts
        found = run_levels(*shared, groups.cell, groups.key, size)
        if found is None:
            return None
        level, first_key, last_key = found
    else:
        keep = prepared.row_likes > params.min_likes
        keep &= prepared.row_comments > params.min_comments
        if defined is not None:
            keep &= defined
        present = _run_counts(keep, groups.starts) > 0
        if not present.any():
            return None
        row_flat = np.repeat(groups.cell, np.diff(np.append(groups.starts, keep.size)))
        level = aggregate(row_flat[keep], values[keep], size, params.aggregation)
        first_key = int(groups.key[present].min())
        last_key = int(groups.key[present].max())
    # Keep only the periods from the first to the last with a kept row.
    lo, hi = (first_key - groups.k0) * n_sym, (last_key - groups.k0 + 1) * n_sym
    shape = (last_key - first_key + 1, n_sym)
    level = level[lo:hi].reshape(shape)
    level.flags.writeable = False  # memoised and shared: never modified
    return first_key, level


def _run_counts(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """True entries of ``mask`` in each run starting at ``starts`` (a running count read at
    the run bounds: cheaper than a reduceat that casts every boolean)."""
    running = np.empty(mask.size + 1, dtype=np.int32 if mask.size < 2**31 else np.int64)
    running[0] = 0
    np.cumsum(mask, out=running[1:])
    return np.diff(running[np.append(starts, mask.size)]).astype(np.int64)


def entry_closes(dates: np.ndarray, keys: np.ndarray, rebalance: str, lag_days: int) -> np.ndarray:
    """Index into ``dates`` of the entry close of each formation period ``keys`` (K,).

    The entry is the close of the first trading day on or after the period's last
    calendar day, plus ``lag_days`` trading days; so every row of the formation period
    is dated on or before the entry day (no look-ahead when a period ends on a weekend
    or a holiday). An index ``>= len(dates)`` means the entry is not in the data yet.
    """
    first_on_or_after = np.searchsorted(dates, period_last_day(keys, rebalance), side="left")
    return first_on_or_after + lag_days


def holdable_at(prepared: PreparedData, entry: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """THE holdability rule, for the strategy, the eligible universe and the random
    baseline: column ``columns[k, j]`` is holdable at entry ``entry[k]`` when it has a
    real close on the entry day. Causal: it reads nothing dated after the entry.
    (K,) and (K, N) -> (K, N) booleans; the cash column is always holdable."""
    return flags_at(prepared.has_close, entry, columns)


def eligible_mask(prepared: PreparedData, plan: _Plan) -> np.ndarray:
    """(K, S) the eligible universe of each segment: a defined signal in the formation
    period and holdable at the entry (``holdable_at``)."""
    n = prepared.n_symbols
    return np.isfinite(plan.signal) & prepared.has_close[plan.entry, :n]


def signal_key(params: StrategyParams) -> tuple[Any, ...]:
    """The fields the signal, the ranking and the segment calendar depend on."""
    return (
        params.signal,
        params.signal_transform,
        params.min_likes,
        params.min_comments,
        params.aggregation,
        params.rebalance,
        params.lag_days,
        params.start,
        params.end,
    )


def selection_key(params: StrategyParams) -> tuple[Any, ...]:
    """The fields the plan (calendar, selection, holdability) depends on: ``signal_key``
    and ``top_n``. Weighting, lookback, costs, benchmark and risk-free rate are not in it."""
    return (*signal_key(params), params.top_n)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Ranked:
    """The part of a plan that depends only on ``signal_key``: the live segments, their
    signal, the full ranking of every period and, along it, which symbols have a signal
    and which are holdable at the entry. Shared by every ``top_n`` (read-only)."""

    entry: np.ndarray  # (K,)
    end: np.ndarray  # (K,)
    formation: np.ndarray  # (K,)
    closing: np.ndarray  # (K,) True for the closing period (the one after the last with a kept row)
    signal: np.ndarray  # (K, S)
    ranking: np.ndarray  # (K, S) rank_descending(signal)
    selected: np.ndarray  # (K, S) the ranked symbol has a signal
    holdable: np.ndarray  # (K, S) the ranked symbol has a close on the entry day
    n_eligible: np.ndarray  # (K,)


def _level_key(params: StrategyParams) -> tuple[Any, ...]:
    """The fields the aggregated level matrix (``_aggregate_signal``) depends on."""
    return (params.rebalance, params.signal, params.min_likes, params.min_comments, params.aggregation)


def _transformed_signal(prepared: PreparedData, params: StrategyParams) -> tuple[int, np.ndarray] | None:
    """(first period key, P x S signal after ``signal_transform``), None when no row is
    kept or there is no price day. One price day is enough: an entry at it is planned
    (no holding day yet), as when the data end on any other entry day."""
    aggregated = (
        _SIGNALS.get(prepared, _level_key(params), lambda: _aggregate_signal(prepared, params))
        if len(prepared.dates) >= 1
        else None
    )
    if aggregated is None:
        return None
    k0, level = aggregated
    if params.signal_transform == "change":
        signal = np.full_like(level, np.nan)
        signal[1:] = level[1:] - level[:-1]
        return k0, signal
    return k0, level


def _last_day(prepared: PreparedData, params: StrategyParams) -> int:
    """Index of the backtest's last day: the last price day, or the last one on or before ``end``."""
    return _last_index(prepared.dates, params)


def _last_index(dates: np.ndarray, params: StrategyParams) -> int:
    return _day_index(dates, params.end, "right") - 1 if params.end else len(dates) - 1


def _window_days(dates: np.ndarray, params: StrategyParams) -> tuple[int, int]:
    """(first, last): index of the first day that can have a return (the first price day
    on or after ``start``, day 1 at the earliest: day 0 has no close before it) and of the
    last day (``_last_day``, within the data)."""
    first = max(1, _day_index(dates, params.start, "left")) if params.start else 1
    return first, min(_last_index(dates, params), len(dates) - 1)


def return_day_span(
    dates: np.ndarray, sentiment_first: np.datetime64, sentiment_last: np.datetime64, params: StrategyParams
) -> tuple[int, int]:
    """``(lo, hi)``: the price days ``dates[lo:hi]`` outside which a backtest of ``params``
    has no return, whatever its thresholds, signal and holdings: from the day after the
    entry close (``entry_closes``) of the period holding the first sentiment day, not before
    ``start``, to the entry close of the period after the one holding the last sentiment day
    (the closing sale), not after ``end`` or the last price day. The rule ``_ranked`` plans
    by; a run's return days (and so a sweep's returns matrix, the union of its runs') lie
    within. ``(0, 0)`` without a price day or a sentiment row. ``dates``: datetime64[D]."""
    if len(dates) == 0 or np.isnat(sentiment_first) or np.isnat(sentiment_last):
        return 0, 0
    first_day, last_day = _window_days(dates, params)
    keys = period_keys(np.array([sentiment_first, sentiment_last], dtype="datetime64[D]"), params.rebalance)
    first_entry, closing_entry = entry_closes(
        dates, np.array([keys[0], keys[1] + 1]), params.rebalance, params.lag_days
    )
    lo = max(int(first_entry) + 1, first_day)
    hi = min(int(closing_entry), last_day) + 1
    return lo, max(lo, hi)


def untraded_warnings(prepared: PreparedData, params: StrategyParams) -> list[str]:
    """The formation periods with a signal that begin on or before the backtest's last day
    but whose entry close (``entry_closes``) is after it, so they are not traded: one
    sentence naming them, or none. It is the reason given for a run without a holding
    period (``engine.backtest.base.no_period_warnings``) when rows do pass the thresholds:
    a quarter ending 2022-03-31 with prices to 2022-03-25 has no entry close in the data.
    It speaks of a day not in the data yet (``PENDING``)."""
    window = _window_outside_sentiment(prepared, params)
    if window:
        return [window]
    found = _transformed_signal(prepared, params)
    if found is None:
        return []
    k0, signal = found
    dates = prepared.dates
    last = min(_last_day(prepared, params), len(dates) - 1)
    if last < 0:
        return []
    keys = k0 + np.flatnonzero(np.isfinite(signal).any(axis=1))
    keys = keys[period_first_day(keys, params.rebalance) <= dates[last]]
    keys = keys[entry_closes(dates, keys, params.rebalance, params.lag_days) > last]
    if keys.size == 0:
        return []
    ends = [_iso(day) for day in period_last_day(keys, params.rebalance)]
    lag = f", plus {params.lag_days} trading day(s)" if params.lag_days else ""
    which = "the last price day" if not params.end or last == len(dates) - 1 else "the chosen end"
    if len(ends) == 1:
        head = f"the signal of the period ending {ends[0]} is not traded: its entry close"
    else:
        head = f"the signals of the periods ending {', '.join(ends)} are not traded: their entry closes"
    return [
        f"{head} (the first trading day on or after the period's last day{lag}) is after "
        f"{_iso(dates[last])}, {which} ({PENDING})."
    ]


def _window_outside_sentiment(prepared: PreparedData, params: StrategyParams) -> str | None:
    """The reason a run has no holding period when the chosen window misses the sentiment
    data (not the thresholds): an ``end`` before their first day, or a ``start`` after
    their last day past every holding period their rows pick. None otherwise."""
    first, last = prepared.sentiment_first, prepared.sentiment_last
    if np.isnat(first) or np.isnat(last):
        return None
    span = f"(the sentiment data run from {_iso(first)} to {_iso(last)})"
    if params.end is not None and np.datetime64(params.end, "D") < first:
        return f"the chosen end {params.end} is before the first sentiment date {_iso(first)} {span}."
    start_after = params.start is not None and np.datetime64(params.start, "D") > last
    if start_after and _RANKINGS.get(prepared, signal_key(params), lambda: _ranked(prepared, params)) is None:
        return (
            f"the chosen start {params.start} is after the last sentiment date {_iso(last)} and "
            f"after every holding period its rows pick {span}."
        )
    return None


def _ranked(prepared: PreparedData, params: StrategyParams) -> _Ranked | None:
    found = _transformed_signal(prepared, params)
    if found is None:
        return None
    k0, signal = found
    if params.end is not None:
        # The last period with a kept row is found among those that begin on or before
        # ``end``, as in the data cut after it (rows dated after ``end`` are not read).
        _, level = _SIGNALS.get(prepared, _level_key(params), lambda: _aggregate_signal(prepared, params))
        begins = period_first_day(np.arange(k0, k0 + level.shape[0]), params.rebalance)
        kept = np.flatnonzero(np.isfinite(level).any(axis=1) & (begins <= np.datetime64(params.end, "D")))
        if kept.size == 0:
            return None
        signal = signal[: kept[-1] + 1]
    k1 = k0 + signal.shape[0] - 1

    # Formation period f (row f - k0) is traded in segment f + 1. The period after the
    # last one with a kept row (k1 + 1) is the closing period: it has no eligible symbol,
    # so at its entry close the portfolio goes to cash, as in any such period (the same
    # trade whether or not later rows exist: causal), and the window ends at that close.
    formation = np.arange(k0, k1 + 2)
    entry_close = entry_closes(prepared.dates, np.arange(k0, k1 + 3), params.rebalance, params.lag_days)
    entry, end = entry_close[:-1].copy(), entry_close[1:].copy()
    closing_entry = int(entry[-1])
    end[-1] = entry[-1]
    first_day, last_day = _window_days(prepared.dates, params)
    entry = np.maximum(entry, first_day - 1)
    end = np.minimum(end, last_day)
    live = end > entry
    live[-1] = False
    # The entry at the last day (of the data or of ``params.end``) has no holding day
    # yet; it is still planned (what to buy at that close), as a segment with
    # end == entry: turnover and cost are known, no return day exists.
    at_last = np.flatnonzero(
        (entry[:-1] == end[:-1]) & (entry[:-1] == last_day) & (entry[:-1] >= first_day - 1)
    )
    if at_last.size:
        live[at_last[-1]] = True
    # The closing period is planned when its entry close is inside the window and after
    # the last traded entry (a segment with end == entry: no holding day in the window).
    if first_day - 1 <= closing_entry <= last_day and (not live.any() or closing_entry > entry[live].max()):
        live[-1] = True
        # Of the periods with that entry close (several, before the first price day), the
        # last is the one traded there, as for every other entry.
        on = prepared.dates[closing_entry - params.lag_days]
        key = int(period_keys(np.array([on]), params.rebalance)[0])
        formation[-1] = key if period_last_day(np.array([key]), params.rebalance)[0] <= on else key - 1
    if not live.any():
        return None
    closing = np.zeros(len(formation), dtype=bool)
    closing[-1] = True
    entry, end, formation, closing = entry[live], end[live], formation[live], closing[live]
    signal = np.vstack([signal, np.full((1, signal.shape[1]), np.nan)])[
        np.minimum(formation - k0, k1 + 1 - k0)
    ]
    signal, ranking = rank_snapping_ties(signal)
    holdable = holdable_at(prepared, entry, ranking)
    selected, n_eligible = ranked_selection(signal, ranking, holdable)
    ranked = _Ranked(
        entry=entry,
        end=end,
        formation=formation,
        closing=closing,
        signal=signal,
        ranking=ranking,
        selected=selected,
        holdable=holdable,
        # Eligible as README defines it, and as the universe benchmark and the random
        # draws count: a signal in the formation period and a close on the entry day.
        n_eligible=n_eligible,
    )
    for field in dataclasses.fields(ranked):
        getattr(ranked, field.name).flags.writeable = False
    return ranked


def check_window(prepared: PreparedData, params: StrategyParams) -> None:
    """``DataValidationError`` (one sentence) when the chosen ``start``/``end`` hold no
    price day of the data: a start after the last price day, an end before the first, or
    a window between two price days. Without it such a run had no return day and NaN
    metrics with no word of why (an entry was even planned before the chosen start)."""
    dates = prepared.dates
    if len(dates) == 0 or not (params.start or params.end):
        return
    first = _day_index(dates, params.start, "left") if params.start else 0
    if first <= _last_day(prepared, params):
        return
    prices = f"the prices run from {_iso(dates[0])} to {_iso(dates[-1])}"
    if params.start and first >= len(dates):
        raise DataValidationError(f"the chosen start {params.start} is after the last price day; {prices}")
    if params.end and params.end < dates[0].astype(dt.date):
        raise DataValidationError(f"the chosen end {params.end} is before the first price day; {prices}")
    raise DataValidationError(
        f"there is no price day from the chosen start {params.start} to the end {params.end}; {prices}"
    )


def _plan(prepared: PreparedData, params: StrategyParams, *, closing: bool = False) -> _Plan:
    """The plan of ``params``. ``closing``: keep the closing period (the first after the
    last with a kept row: the sale to cash at its entry close, no holding day), as the
    backtest's own result and metrics do; without it, the periods that pick holdings or
    hold cash over return days (the signal analysis, the random baseline's draws: the
    closing sale adds no return day, only its turnover)."""
    plan = _plan_all(prepared, params)
    if closing or not plan.closing.size or not plan.closing[-1]:
        return plan
    k = len(plan.entry) - 1
    return dataclasses.replace(
        plan,
        entry=plan.entry[:k],
        end=plan.end[:k],
        formation_key=plan.formation_key[:k],
        closing=plan.closing[:k],
        signal=plan.signal[:k],
        held=plan.held[:k],
        held_mask=plan.held_mask[:k],
        rank=plan.rank[:k],
        n_eligible=plan.n_eligible[:k],
        skipped=plan.skipped[plan.skipped[:, 0] < k],
    )


def _plan_all(prepared: PreparedData, params: StrategyParams) -> _Plan:
    check_window(prepared, params)
    n_sym = prepared.n_symbols
    ranked = _RANKINGS.get(prepared, signal_key(params), lambda: _ranked(prepared, params))
    if ranked is None:
        return _empty_plan(n_sym, params.top_n)
    top_n = params.top_n
    width = min(top_n, n_sym)
    order = ranked.ranking[:, :width]
    selected = ranked.selected[:, :width]
    holdable = ranked.holdable[:, :width]
    if width < top_n:  # fewer symbols than top_n: pad with "no symbol" (the cash column)
        pad = ((0, 0), (0, top_n - width))
        order = np.pad(order, pad, constant_values=n_sym)
        selected = np.pad(selected, pad, constant_values=False)
        holdable = np.pad(holdable, pad, constant_values=True)
    held, held_mask, rank, skipped = select_holdings(order, selected, holdable, n_sym)
    return _Plan(
        entry=ranked.entry,
        end=ranked.end,
        formation_key=ranked.formation,
        closing=ranked.closing,
        signal=ranked.signal,
        held=held,
        held_mask=held_mask,
        rank=rank,
        n_eligible=ranked.n_eligible,
        skipped=skipped,
    )


def _targets(
    prepared: PreparedData, params: StrategyParams, plan: _Plan, warnings: list[str] | None
) -> np.ndarray:
    """Target weights (K x N) of the real holdings; cash segments get the cash column at 1."""
    return target_weights(prepared, params, plan.entry, plan.held, plan.held_mask, warnings, plan.end)


def target_weights(
    prepared: PreparedData,
    params: StrategyParams,
    entry: np.ndarray,
    held: np.ndarray,
    held_mask: np.ndarray,
    warnings: list[str] | None,
    end: np.ndarray | None = None,
) -> np.ndarray:
    """Target weights (K x N) of ``held`` (column indices, cash-padded) at each entry with
    the strategy's weighting: from the ``lookback_days`` daily returns strictly before
    the entry day. A shorter window (fewer prices before the entry) is used and warned;
    cash segments get the cash column at 1. Shared by the strategy and the random baseline.
    ``end`` (K,), when given, marks the segment with ``end == entry`` (an entry at the
    last day, no holding day yet) so its warnings say so."""
    if params.weighting == "equal":
        weights = equal_weights(held_mask)
    else:
        weights = np.zeros(held.shape)
        for k in range(len(entry)):
            mask = held_mask[k]
            if not mask.any():
                continue
            cols = held[k, mask]
            e = int(entry[k])
            window = _window_returns(prepared, max(e - params.lookback_days, 1), e, cols)
            names = [prepared.symbols[c] for c in cols]
            w, problem = compute_weights(params.weighting, window, risk_free=params.risk_free, names=names)
            weights[k, mask] = w
            if warnings is None or mask.sum() < 2:
                continue
            pending = end is not None and int(end[k]) == e
            period = _period_phrase(prepared.dates, e, pending)
            complete = int(np.isfinite(window).all(axis=1).sum())
            if problem:
                entry_note = "" if pending else f" (entry close {_iso(prepared.dates[e])})"
                warnings.append(
                    f"{params.weighting} weights for {period}{entry_note} fell back to equal weight: {problem}."
                )
            elif complete < params.lookback_days:
                warnings.append(
                    f"{params.weighting} weights for {period} used {complete} of "
                    f"{params.lookback_days} days of returns (fewer complete prices before the entry)."
                )
    cash = ~held_mask.any(axis=1)
    weights[cash, 0] = 1.0  # held[k, 0] is the cash column there
    return weights


def _window_returns(prepared: PreparedData, lo: int, hi: int, cols: np.ndarray) -> np.ndarray:
    """Daily returns of days ``lo .. hi - 1`` for ``cols``, NaN where a column has no real
    close that day or the day before: a halt's forward-filled days (0% returns) and the
    day it trades again (one return over the whole halt) are not daily returns, so the
    weights' window leaves them out as it does any day without a return. Data without
    gaps get the same array (same bits)."""
    window = prepared.returns[lo:hi, cols]
    hi = max(hi, lo)  # an entry at the first price day: no day before it
    real = prepared.has_close[lo:hi, cols] & prepared.has_close[lo - 1 : hi - 1, cols]
    if real.all():
        return window
    return np.where(real, window, np.nan)


def _iso(day: Any) -> str:
    return str(np.datetime64(day, "D"))


PENDING = "no holding day in the data yet"


def _period_phrase(dates: np.ndarray, e: int, pending: bool) -> str:
    """'the period starting <day after the entry>', or, for an entry at the last day
    (no holding day yet), 'the period after the entry close <entry>' (``PENDING``)."""
    if pending:
        return f"the period after the entry close {_iso(dates[e])} ({PENDING})"
    return f"the period starting {_iso(dates[e + 1])}"


def _missing_close(no_price_yet: bool) -> str:
    """Why a selected symbol cannot be bought at the entry close: no close that day, or no
    price at all up to it (never priced in the data so far, or listed later); both causal."""
    return "no price up to the entry" if no_price_yet else "no close on the entry"


def _formation_rows(prepared: PreparedData, params: StrategyParams, key: int) -> tuple[bool, bool, bool]:
    """(any sentiment row, a row passing the thresholds, a value of the signal) of the
    formation period ``key``; all dated inside it, so on or before its entry close."""
    groups = prepared.groups[params.rebalance]
    any_row = bool(np.any(groups.key == key)) if groups.starts.size else False
    found = _SIGNALS.get(prepared, _level_key(params), lambda: _aggregate_signal(prepared, params))
    if found is None:
        return any_row, False, False
    k0, level = found
    kept = 0 <= key - k0 < level.shape[0] and bool(np.isfinite(level[key - k0]).any())
    valued = kept
    if kept and params.signal_transform == "change":
        valued = key - k0 >= 1 and bool(
            (np.isfinite(level[key - k0]) & np.isfinite(level[key - k0 - 1])).any()
        )
    return any_row, kept, valued


def _formation_span(key: int, rebalance: str) -> str:
    keys = np.array([key])
    return f"{_iso(period_first_day(keys, rebalance)[0])} to {_iso(period_last_day(keys, rebalance)[0])}"


def _no_eligible_cause(prepared: PreparedData, params: StrategyParams, key: int, entry: str) -> str:
    """Why no symbol is eligible in formation period ``key``, in words: no sentiment row,
    none passing the thresholds, (change) no symbol with a value in the previous period
    too, or no symbol with a signal has a close on the entry day."""
    any_row, kept, valued = _formation_rows(prepared, params, key)
    span = _formation_span(key, params.rebalance)
    if not any_row:
        return f"the formation period {span} has no sentiment row"
    if not kept:
        return f"no sentiment row of the formation period {span} passes the thresholds with a value of {params.signal}"
    if not valued:
        return (
            f"signal_transform=change needs a value in the previous period too, and no symbol with a "
            f"value in the formation period {span} has one in the period before"
        )
    return f"none with a signal has a close on the entry day {entry}"


def _closing_warning(prepared: PreparedData, params: StrategyParams, plan: _Plan, k: int) -> str:
    """The closing period (the first after the last with a kept row): the portfolio goes
    to cash at its entry close and the backtest ends there. Speaks of the end of the
    sentiment data (``SENTIMENT_END``): a cut of the data moves it."""
    dates = prepared.dates
    key = int(plan.formation_key[k])
    any_row, _, _ = _formation_rows(prepared, params, key)
    what = "no sentiment row" if not any_row else "no sentiment row passing the thresholds"
    e = int(plan.entry[k])
    last = min(_last_day(prepared, params), len(dates) - 1)
    later = last - e
    tail = (
        f"; the {later} later price day(s), to {_iso(dates[last])}, are not evaluated (the portfolio "
        "would hold cash until a row passes the thresholds)"
        if later > 0
        else ""
    )
    # A trade's cost is booked on the day after its entry close, which the window does not
    # reach: the sale's turnover and cost are in its row of the periods table, not in the
    # returns (breaker pass 2, G2: 20 bps on the real file, 23.87% instead of 23.62%).
    charged = (
        " The sale's cost (its row of the periods table) is not in the returns: a trade's cost is "
        "booked on the day after its entry close, and the backtest ends at that close."
        if params.cost_bps > 0
        else ""
    )
    first = _iso(period_first_day(np.array([key]), params.rebalance)[0])
    return (
        f"No formation period from {first} on has a sentiment row passing the thresholds (the one "
        f"from {_formation_span(key, params.rebalance)} has {what}; {SENTIMENT_END} is "
        f"{_iso(prepared.sentiment_last)}): the portfolio is in cash from its entry close {_iso(dates[e])}, "
        f"as in any period without an eligible symbol, and the backtest ends at that close{tail}.{charged}"
    )


def _plan_warnings(
    prepared: PreparedData, params: StrategyParams, plan: _Plan, universe_empty: np.ndarray
) -> list[str]:
    """Warnings about the plan, each naming the first day it is about (so a run on data
    cut after day D gives the same warnings about days up to D)."""
    out: list[str] = []
    dates = prepared.dates
    cash = np.logical_not(plan.held_mask.any(axis=1))
    skipped_in: dict[int, list[str]] = {}
    unpriced_in: dict[int, set[str]] = {}
    for k, sym in plan.skipped.tolist():
        skipped_in.setdefault(k, []).append(prepared.symbols[sym])
        if prepared.first_valid[sym] > plan.entry[k]:
            unpriced_in.setdefault(k, set()).add(prepared.symbols[sym])
    pending = plan.end == plan.entry
    for k, names in skipped_in.items():
        unpriced = unpriced_in.get(k, set())
        period, entry = (
            _period_phrase(dates, int(plan.entry[k]), bool(pending[k])),
            _iso(dates[plan.entry[k]]),
        )
        if not cash[k]:
            out.extend(
                f"{name} was selected for {period} but has {_missing_close(name in unpriced)} "
                f"day {entry}; skipped, the others share its weight."
                for name in names
            )
            continue
        # No selected symbol is holdable: one sentence, not "the others share its weight"
        # followed by "no symbol was eligible" (it was eligible; it has no close).
        who = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        verb = "was" if len(names) == 1 else "were"
        has = "has" if len(names) == 1 else "have"
        tail = (
            "; the universe benchmark's returns are missing (NaN) over that period"
            if universe_empty[k]
            else ""
        )
        out.append(
            f"{who} {verb} selected for {period} but {has} {_missing_close(set(names) <= unpriced)} day "
            f"{entry}, and no other selected symbol is holdable: the period is held as cash{tail}."
        )
    for cash_k in np.flatnonzero(cash):
        k = int(cash_k)
        if k in skipped_in:
            continue
        if plan.closing[k]:
            out.append(_closing_warning(prepared, params, plan, k))
            continue
        period = _period_phrase(dates, int(plan.entry[k]), bool(pending[k]))
        why = _no_eligible_cause(prepared, params, int(plan.formation_key[k]), _iso(dates[plan.entry[k]]))
        if universe_empty[k]:
            out.append(
                f"No symbol was eligible for {period} ({why}); the portfolio holds cash and the "
                "universe benchmark's returns are missing (NaN) over that period."
            )
        else:
            out.append(f"No symbol was eligible for {period}; held as cash.")
    for k, day, col in _close_gaps(prepared, plan):
        e = int(plan.entry[k])
        out.append(
            f"{prepared.symbols[col]} (held from {_iso(dates[e + 1])}) has no close from "
            f"{_iso(dates[day])}; its sleeve is held as cash at the {_iso(dates[day - 1])} close "
            "until it trades again, or is sold at that stale close at the next rebalance if it "
            "has no close there."
        )
        out.extend(_stale_sale_warnings(prepared, plan, k, day, col))
    return out


def _stale_sale_warnings(prepared: PreparedData, plan: _Plan, k: int, day: int, col: int) -> list[str]:
    """The honest account of a held symbol still without a close at the next entry (breaker
    pass 12, F10): the simulation sells its sleeve there at the stale close, which a halted
    stock could not do, and so never sees the move when it trades again. One warning naming
    the sale (its entry day), and one more naming the reopening and the move from the stale
    close when the data show a later close: separate sentences, so each names only the days
    it is about and a run on data cut between them says the same of the earlier one."""
    end = int(plan.end[k])
    if k + 1 >= len(plan.entry) or prepared.has_close[day : end + 1, col].any():
        return []  # it traded again inside the period, or the backtest ends with it held
    name, stale, entry = prepared.symbols[col], _iso(prepared.dates[day - 1]), _iso(prepared.dates[end])
    sold = f"sold at the stale {stale} close at the {entry} rebalance"
    out = [
        f"{name} still has no close at the {entry} rebalance: its sleeve was {sold}, a sale a halted "
        "stock could not make, so the backtest misses its move when it trades again (README, Missing "
        "prices while held)."
    ]
    later = np.flatnonzero(prepared.has_close[end + 1 :, col])
    if later.size:
        again = end + 1 + int(later[0])
        move = prepared.prices[again, col] / prepared.prices[day - 1, col] - 1.0
        out.append(
            f"{name}, {sold}, reopened on {_iso(prepared.dates[again])} at {move:+.1%} from that "
            "close, a move the backtest does not see."
        )
    return out


# The phrase of the warning about a formation period cut by the end of the sentiment data:
# a statement about where the data end (cutting the data moves it), as ``PENDING`` is.
SENTIMENT_END = "the last day of the sentiment data"


def partial_formation_warnings(prepared: PreparedData, params: StrategyParams, plan: _Plan) -> list[str]:
    """One warning per traded formation period (each segment of ``plan``, the entry at the
    last day included) whose trading days the sentiment data cover only in part: the data
    begin after its first trading day (``prepared.sentiment_first``) or end before its
    last (``prepared.sentiment_last``), so its ranking, which picks the holdings exactly as
    a complete period's does, reads only the days covered. The sentence names the period
    (first to last calendar day), the entry close it is traded at, the first or last day
    of the data, and the trading days covered of the period's (January 2023 with data to
    2023-01-04 and prices on every weekday: "3 of its 22 trading days"). Trading days are the price days. Causal: the
    data's first day is before every entry; a data end inside a period is reported as
    such (``SENTIMENT_END``), and only a cut of the data can move it. Sparse rows inside
    the data's span (a symbol without a row on some days) are the data, not a cut, and are
    not warned. Nothing is changed in what is traded: the run is causal either way."""
    first, last = prepared.sentiment_first, prepared.sentiment_last
    dates = prepared.dates
    if len(plan.entry) == 0 or np.isnat(first) or np.isnat(last) or len(dates) == 0:
        return []
    begins = period_first_day(plan.formation_key, params.rebalance)
    ends = period_last_day(plan.formation_key, params.rebalance)
    lo = np.searchsorted(dates, begins, side="left")  # first price day of each period
    hi = np.searchsorted(dates, ends, side="right")  # one past its last price day
    out: list[str] = []
    for k in range(len(plan.entry)):
        if plan.closing[k]:  # no row passes the thresholds from it on: warned by _closing_warning
            continue
        a, b = int(lo[k]), int(hi[k])
        if b <= a:  # no price day in the period (a week of holidays): nothing to cover
            continue
        cut_start, cut_end = first > dates[a], last < dates[b - 1]
        if not (cut_start or cut_end):
            continue
        covered = int(
            np.searchsorted(dates, min(last, dates[b - 1]), side="right")
            - np.searchsorted(dates, max(first, dates[a]), side="left")
        )
        covered = max(covered, 0)
        if cut_start and cut_end:
            span = (
                f"from {_iso(first)}, the first day of the sentiment data, to {_iso(last)}, {SENTIMENT_END}"
            )
        elif cut_start:
            span = f"from {_iso(first)}, the first day of the sentiment data"
        else:
            span = f"to {_iso(last)}, {SENTIMENT_END}"
        entry = _iso(dates[plan.entry[k]])
        out.append(
            f"The formation period {_iso(begins[k])} to {_iso(ends[k])}, whose ranking picks the "
            f"holdings bought at the {entry} close, has sentiment data only {span}: {covered} of its "
            f"{b - a} trading days; it is ranked as if it were complete."
        )
    return out


def _close_gaps(prepared: PreparedData, plan: _Plan) -> list[tuple[int, int, int]]:
    """(segment, day, column) where a held column has a close on day - 1 and none on
    ``day``, for the days inside each segment (entry + 1 .. end), by segment, day, then
    holding order. One gather of the held columns' closes, not a loop over segments."""
    live = plan.held_mask.any(axis=1) & (plan.end > plan.entry)
    if not live.any():
        return []
    entry, end = plan.entry[live], plan.end[live]
    segments = np.flatnonzero(live)
    lengths = end - entry
    # Days entry .. end of each live segment (one more than its holding days).
    first = np.repeat(entry - (np.cumsum(lengths + 1) - (lengths + 1)), lengths + 1)
    days = np.arange(int((lengths + 1).sum())) + first
    held = np.repeat(np.where(plan.held_mask[live], plan.held[live], -1), lengths + 1, axis=0)
    has = np.where(held >= 0, prepared.has_close[days[:, None], np.maximum(held, 0)], False)
    gap = has[:-1] & ~has[1:]
    # A pair of rows counts only inside one segment (not across a segment boundary).
    gap[np.cumsum(lengths + 1)[:-1] - 1] = False
    rows, pos = np.nonzero(gap)
    seg_of_row = np.repeat(np.arange(len(segments)), lengths + 1)
    return [
        (int(segments[seg_of_row[r]]), int(days[r + 1]), int(held[r + 1, j]))
        for r, j in zip(rows.tolist(), pos.tolist(), strict=True)
    ]


def benchmark_days(prepared: PreparedData, col: int) -> np.ndarray:
    """(T,) booleans: the days of ``prepared.dates`` on which the benchmark column ``col``
    exists, by the one causal rule of a report series' day without a close
    (``engine.analytics.carry.carried``): a real close, or its last close carried at most
    ``engine.data.prices.ALIVE_DAYS`` calendar days. It reads only data on or before each
    day: a Friday close is carried over the weekend after it (breaker pass 5, F11) and over
    a halt or data gap of a few sessions whether or not the data end inside it (pass 10,
    F3: 0 with later data, NaN when cut there, before)."""
    return carried(prepared.dates, prepared.has_close[:, col])


def _benchmark_warnings(
    prepared: PreparedData, params: StrategyParams, col: int, day_index: np.ndarray
) -> list[str]:
    """The days without a benchmark return (``benchmark_days``), each stretch once: a warning naming the dates."""
    out: list[str] = []
    dates = prepared.dates
    first = int(prepared.first_valid[col])
    if first > day_index[0] - 1:
        out.append(
            f"benchmark {params.benchmark} has no close before {_iso(dates[first])}; its returns are missing "
            f"(NaN) until then, and its own metrics and the benchmark-relative metrics (beta, alpha, "
            "information ratio, tracking error) use only the days where it exists."
        )
    lo, hi = int(day_index[0]), int(day_index[-1])
    for last, a, b in stale_runs(dates, prepared.has_close[:, col]):
        if b < lo or a > hi:
            continue
        span = f"from {_iso(dates[max(a, lo)])} to {_iso(dates[min(b, hi)])}"
        if b + 1 < dates.size:
            resume = (
                f", and its return on {_iso(dates[b + 1])} spans the gap from that close"
                if b + 1 <= hi
                else ""
            )
            out.append(
                f"benchmark {params.benchmark} has no close from {_iso(dates[last + 1])} to "
                f"{_iso(dates[b])}; its returns are missing (NaN) {span}, more than "
                f"{ALIVE_DAYS} calendar days after its close of {_iso(dates[last])}{resume}; its own "
                "metrics and the benchmark-relative metrics use only the days where it exists."
            )
        else:
            out.append(
                f"benchmark {params.benchmark} has no close after {_iso(dates[last])}; its returns are missing "
                f"(NaN) {span} (its close is carried {ALIVE_DAYS} calendar days), and its own metrics and "
                "the benchmark-relative metrics use only the days where it exists."
            )
    # Days without a close of its own in the window, from the first entry close (the base of
    # the first return) on, on which its last close is carried (at most ALIVE_DAYS): a 0%
    # benchmark return that day (or a stale base), its move counted in its next close's return.
    base = max(lo - 1, 0)
    carried_days = np.flatnonzero(
        benchmark_days(prepared, col)[base : hi + 1] & ~prepared.has_close[base : hi + 1, col]
    )
    if carried_days.size:
        shown = ", ".join(_iso(dates[base + i]) for i in carried_days[:3])
        shown += ", ..." if carried_days.size > 3 else ""
        out.append(
            f"benchmark {params.benchmark} has no close on {carried_days.size} trading day(s) of the window "
            f"({shown}); its previous close is carried over them, so its move shows in the return of its "
            "next close."
        )
    return out


class _SignalMemo(_Memo):
    """The memo of the aggregated level matrices (``_level_key``), and the run sums of
    the threshold settings of the sweep batch being run (``share_batch_sums``): each
    setting's (sums, counts) wait there until its one ``_aggregate_signal`` takes them
    out. ``clear`` forgets both."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots)
        self.batch: dict[tuple[int, Any], tuple[weakref.ref, np.ndarray, np.ndarray]] = {}

    def take_batch_sums(self, prepared: PreparedData, key: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """This level key's (sums (G,), counts (G,)): its rows of the batch's (T, G) arrays,
        removed from the store; None when the batch did not compute them."""
        hit = self.batch.pop((id(prepared), key), None)
        if hit is None or hit[0]() is not prepared:
            return None
        return hit[1], hit[2]

    def clear(self) -> None:
        super().clear()
        self.batch.clear()


def share_batch_sums(
    prepared: PreparedData,
    batch: Sequence[StrategyParams],
    *,
    max_bytes: int | None = None,
    whole_sweep: bool = False,
) -> None:
    """Aggregate the mean signal of all the threshold settings of a sweep batch together.

    Per (signal, rebalance) with two or more (min_likes, min_comments) settings whose
    level matrix is not memoised yet, ``run_sums_many`` computes every setting's run sums
    in one compiled pass (same bits as ``run_sums`` per setting); ``_aggregate_signal``
    then takes each setting's out of the store instead of computing it alone. The store
    holds one batch at most: this call first drops what an earlier batch left (a setting
    never aggregated, e.g. its configurations all refused), and the batch's (T, G) arrays
    are released when its last setting is taken, so the 12 bytes per setting and run
    (float64 sum, int32 count; a 32-setting batch over 58,000 runs: 22 MB) live only
    while the batch runs. A single backtest never calls it.

    A batch whose settings are all in the store already (put there by a call for a
    larger batch holding it: an in-process sweep shares its whole grid's sums before its
    chunks run, ``engine.research.sweep``) keeps them and computes nothing.
    ``whole_sweep``: the batch is a whole sweep run here chunk after chunk, so its
    settings whose level is memoised now are computed too (the chunks' aggregations evict
    memoised levels as they go: a chunk would find such a setting neither memoised nor in
    the store, and pass over the rows again for it; one still memoised when its chunk runs
    is never taken, so the arrays then live until the next batch or ``clear_caches``, at
    most the sweep's ``max_bytes``). ``max_bytes``: compute nothing (and
    keep the store) when the batch's sums would take more than this; its chunks then
    share their own."""
    store = _SIGNALS.batch
    wanted = _wanted_settings(prepared, batch, memoised_too=whole_sweep)
    if wanted and all(
        (hit := store.get((id(prepared), key))) is not None and hit[0]() is prepared
        for settings in wanted.values()
        for key in settings
    ):
        return
    if max_bytes is not None and _batch_sums_bytes(prepared, wanted) > max_bytes:
        return
    store.clear()
    if not wanted:
        return  # nothing to run (an empty chunk, or no signal without a price day)
    ref = weakref.ref(prepared)
    for (signal, rebalance), settings in wanted.items():
        groups = prepared.groups[rebalance]
        if len(settings) < 2 or groups.starts.size == 0:
            continue  # one setting: run_sums alone is as fast
        sums, counts = run_sums_many(
            prepared.row_values[signal],
            prepared.row_likes,
            prepared.row_comments,
            prepared.row_defined[signal],
            groups.starts,
            np.array([key[2:4] for key in settings], dtype=np.float64),
        )
        for t, key in enumerate(settings):
            store[(id(prepared), key)] = (ref, sums[t], counts[t])


def _wanted_settings(
    prepared: PreparedData, batch: Sequence[StrategyParams], *, memoised_too: bool = False
) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    """The batch's level keys to aggregate by mean (and not memoised, unless
    ``memoised_too``), per (signal, rebalance); none without a configuration or a price day."""
    wanted: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    if not batch or len(prepared.dates) < 1:
        return wanted  # nothing to run (an empty chunk), or no signal without a price day
    # One pass over the batch (thousands of configurations share a few dozen keys).
    for key in dict.fromkeys(_level_key(params) for params in batch):
        rebalance, signal, _, _, aggregation = key
        if aggregation == "mean" and (memoised_too or not _SIGNALS.holds(prepared, key)):
            wanted.setdefault((signal, rebalance), []).append(key)
    return wanted


def _batch_sums_bytes(prepared: PreparedData, wanted: Mapping[tuple[str, str], Sequence[Any]]) -> int:
    """What ``run_sums_many`` allocates for ``wanted``: 12 bytes per setting and run."""
    return sum(
        12 * len(settings) * prepared.groups[rebalance].starts.size
        for (_, rebalance), settings in wanted.items()
        if len(settings) >= 2
    )


_CALENDARS = _Memo(slots=8)
# The signal_key part of plans (_Ranked), memoised and shared: read-only.
_RANKINGS = _Memo(slots=8)
# The signal depends only on these fields; a sweep over top_n, weighting, lag, costs or
# dates reuses it. Each entry holds one (periods x symbols) level matrix.
_SIGNALS = _SignalMemo(slots=8)


def _segment_calendar(prepared: PreparedData, params: StrategyParams) -> tuple[np.ndarray, np.ndarray]:
    """(entry, end) of the strategy's segments, memoised per (prepared object, params)."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        plan = _plan(prepared, params)
        return plan.entry, plan.end

    return _CALENDARS.get(prepared, params, compute)
