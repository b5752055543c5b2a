"""Price-quality warnings: closes that are consistent yet untrustworthy (honest UI).

A validated close matrix (``engine.data.types``: dates x symbols, float64, NaN where a
symbol has no close) can still hold closes that change a backtest's numbers without a
word. ``price_quality_warnings`` reads the matrix and returns one plain sentence per
finding (grouped into one sentence when there are more than ``MAX_NAMED``), each starting
``"prices: "`` like the other price warnings of ``ValidationReport.warnings``. It never
changes, drops or refuses a price: a real crash can look like a split, a real halt like
a stale feed. Four checks, all vectorised over the whole matrix (numpy; no loop over
cells, only over the few findings that are named):

1. **Missing sessions.** A symbol without a close on an NYSE session
   (``engine.data.calendar.non_sessions``) strictly between its first and its last close,
   on a date that is a row of the matrix (another symbol has a close there). The backtest
   carries the last close forward over such a gap (0% returns, then the whole move on the
   day it trades again), skips the symbol at an entry without a close (the other selected
   symbols share its weight) and sells a holding still without a close at the next
   rebalance at that stale close (README, "Missing prices while held"). NYSE sessions
   between the matrix's first and last date that are no row at all are said in one more
   sentence: those days are not seen, and every return across them spans the gap.
2. **Frozen closes.** The same close, exactly equal, on ``MIN_FROZEN_SESSIONS`` (5) or
   more consecutive sessions on which the symbol has a close (a halted or delisted stock,
   a stale feed); the backtest takes them as real closes (0% returns) and trades at them.
   A weekend or holiday row with the same close neither counts nor breaks the run; one
   with another close breaks it (the symbol traded).
3. **Split-like moves.** A one-close move (a close against the symbol's previous close)
   whose ratio ``close_t / close_prev`` lies within ``SPLIT_RATIO_TOLERANCE`` (5%,
   relative) of ``1/k`` or ``k`` for k in ``SPLIT_FACTORS`` = 2, 3, 4, 5, 7, 8, 10, 15, 20
   (a k-for-1 split, a 1-for-k reverse split), or within ``FRACTIONAL_SPLIT_TOLERANCE``
   (1%) of 2/3 or 3/2 (a 3-for-2 split, a 2-for-3 reverse split), and whose absolute
   return is at least ``MIN_SPLIT_MOVE`` (30%): if the closes are not adjusted for splits
   every return across that day is wrong. 5% because a split day is also a trading day: a
   2-for-1 split on a day the stock rose 3% is a ratio of 0.515 (breaker pass 14, F3: at 1%,
   a 4-for-1 split on a +3.4% day and a 1-for-10 on a +2.6% day were not said). The
   3-for-2 ratios keep 1%: -33% and +50% are sizes of real one-day crashes and jumps (the
   demo data has two -30% days within 5% of 2/3). Ratios of 1/100 and 100 (``UNIT_FACTOR``)
   are also said as a switch of price units (pence and pounds, cents and dollars).
4. **Extreme moves.** A one-close ratio of at least ``EXTREME_MOVE_RATIO`` (20) or at most
   its inverse that is not split-like: a bad tick, a unit switch or a split of another size
   (breaker pass 15, F1: three closes quoted x100 made a -99% drawdown without a word).

Pure: reads only the frame it is given (no clock, no file, no later data decides an
earlier finding's wording beyond the matrix itself); it is a report, not a signal, so
causality is not involved. Cost: about 3 ms for 86 symbols x 300 days, 20 ms for 500
symbols x 2,520 days (a few passes over the matrix; the NYSE calendar is loaded once).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from engine.data.calendar import non_sessions

# Consecutive sessions with one unchanged close from which a run is reported as frozen.
MIN_FROZEN_SESSIONS = 5
# Relative distance of a move's ratio to 1/k or k that makes it split-like (5%), and to
# 2/3 or 3/2 (1%: moves of that size are also real crashes and jumps; module docstring).
SPLIT_RATIO_TOLERANCE = 0.05
FRACTIONAL_SPLIT_TOLERANCE = 0.01
# Smallest absolute one-close return that can be split-like (30%).
MIN_SPLIT_MOVE = 0.30
# k of the k-for-1 splits (ratio 1/k) and 1-for-k reverse splits (ratio k) checked (1-for-25
# and 1-for-50 are common reverse splits of penny stocks).
SPLIT_FACTORS: tuple[int, ...] = (2, 3, 4, 5, 7, 8, 10, 15, 20, 25, 50)
# A close 100 times, or a 100th of, the previous one: a 1-for-100 reverse split (100-for-1
# split), or closes that switch price units (pence and pounds on the LSE, cents and dollars;
# yfinance's "100x" errors, which its ``repair=True`` exists for).
UNIT_FACTOR = 100
# (ratio close_t / close_prev, the split it is the size of, the relative tolerance), every
# ratio checked; no two windows overlap.
SPLIT_RATIOS: tuple[tuple[float, str, float], ...] = (
    *((1.0 / k, f"{k}-for-1 split", SPLIT_RATIO_TOLERANCE) for k in SPLIT_FACTORS),
    *((float(k), f"1-for-{k} reverse split", SPLIT_RATIO_TOLERANCE) for k in SPLIT_FACTORS),
    (2.0 / 3.0, "3-for-2 split", FRACTIONAL_SPLIT_TOLERANCE),
    (3.0 / 2.0, "2-for-3 reverse split", FRACTIONAL_SPLIT_TOLERANCE),
    (
        1.0 / UNIT_FACTOR,
        f"{UNIT_FACTOR}-for-1 split or of a switch of price units (pence to pounds, cents to dollars)",
        SPLIT_RATIO_TOLERANCE,
    ),
    (
        float(UNIT_FACTOR),
        f"1-for-{UNIT_FACTOR} reverse split or of a switch of price units (pounds to pence, dollars to cents)",
        SPLIT_RATIO_TOLERANCE,
    ),
)
# A one-close ratio this far from 1 (at least 20-fold up, or down to a 20th) that is no
# split size: an adjusted close does not move so much in one session without a reason to
# check (a bad tick, a unit switch, an unadjusted split of another size), and one such close
# turns every metric (a -99% drawdown from a three-day x100 glitch that cancels out).
EXTREME_MOVE_RATIO = 20.0
# Findings named one by one (each its own sentence); more are grouped into one sentence
# that names this many and counts the rest.
MAX_NAMED = 3
# Example dates given per finding.
MAX_EXAMPLE_DATES = 3

# What the backtest does with a symbol's missing session (engine.backtest.plan; README,
# "Missing prices while held").
BACKTEST_GAP_EFFECT = (
    "the backtest carries the last close forward over such a gap (0% returns, then the whole move "
    "on the day it trades again), skips the symbol at an entry without a close (the others share "
    "its weight) and sells a holding still without a close at the next rebalance at that stale close"
)


def price_quality_warnings(prices: pd.DataFrame, *, gap_effect: str = BACKTEST_GAP_EFFECT) -> tuple[str, ...]:
    """The quality warnings of a validated close matrix, in check order (missing
    sessions, frozen closes, split-like moves); ``()`` when nothing is found.

    ``prices``: dates x symbols (``DatetimeIndex``, float64 closes, NaN where a symbol has
    no close; the shape of ``engine.data.types``), sorted by date. ``gap_effect``: what the
    caller does with a missing close, ending the missing-sessions sentence (default: the
    backtest's rule, ``BACKTEST_GAP_EFFECT``). Reads the frame only; never raises for
    data (an empty frame gives ``()``)."""
    if prices.shape[0] < 2 or prices.shape[1] == 0:
        return ()
    frame = prices.sort_index()
    days = pd.DatetimeIndex(frame.index).tz_localize(None).normalize()
    # symbols x dates: each symbol's closes contiguous (a float frame's own block layout,
    # not copied when every column is float64)
    values = frame.to_numpy()
    if values.dtype != np.float64:  # nullable floats (pd.NA), integers
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    values = values.T
    symbols = [str(c) for c in frame.columns]
    finite = np.isfinite(values)
    weekdays = pd.bdate_range(days[0], days[-1])
    sessions = weekdays[~non_sessions(weekdays)]  # the NYSE sessions of the span
    session = np.asarray(days.isin(sessions))
    span = _Span.of(finite)
    previous = _previous(values, finite, span)  # each symbol's previous close
    return (
        *_missing_sessions(days, finite, session, span, symbols, gap_effect),
        *_absent_sessions(sessions[~sessions.isin(days)]),
        *_frozen_closes(days, values, finite, session, previous, symbols),
        *_split_like_moves(days, values, previous, symbols),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Span:
    """Per symbol: the number of closes and the positions of its first and last one."""

    count: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, finite: np.ndarray) -> _Span:
        n = finite.shape[1]
        return cls(
            count=np.count_nonzero(finite, axis=1),
            first=np.argmax(finite, axis=1),
            last=n - 1 - np.argmax(finite[:, ::-1], axis=1),
        )

    def gaps(self) -> np.ndarray:
        """The symbols with a cell without a close between their first and last close."""
        return np.flatnonzero((self.count > 0) & (self.count < self.last - self.first + 1))


# ----- the checks (arrays are symbols x dates) -------------------------------------------


def _missing_sessions(
    days: pd.DatetimeIndex,
    finite: np.ndarray,
    session: np.ndarray,
    span: _Span,
    symbols: Sequence[str],
    effect: str,
) -> list[str]:
    gaps = span.gaps()  # only these can miss a session
    first, last = span.first[gaps], span.last[gaps]
    # Sessions strictly between the first and the last close, less those with a close.
    sessions_before = np.concatenate(([0], np.cumsum(session)))  # sessions in rows [0, k)
    between = sessions_before[last] - sessions_before[first + 1]
    closes = np.count_nonzero(finite[gaps] & session, axis=1) - session[first] - session[last]
    counts = np.zeros(len(symbols), dtype=np.int64)
    counts[gaps] = between - closes
    found = np.flatnonzero(counts)
    if not found.size:
        return []
    # Most sessions first, then by symbol (stable: columns are in the frame's order).
    order = found[np.argsort(-counts[found], kind="stable")]

    def examples(j: int) -> str:
        a, b = span.first[j] + 1, span.last[j]
        inside = np.flatnonzero(~finite[j, a:b] & session[a:b])
        return ", ".join(f"{days[a + i]:%Y-%m-%d}" for i in inside[:MAX_EXAMPLE_DATES])

    if order.size <= MAX_NAMED:
        return [
            f"prices: {symbols[j]} has no close on {_sessions(int(counts[j]))} between its first and "
            f"its last close (e.g. {examples(int(j))}); {effect}"
            for j in order
        ]
    named = ", ".join(
        f"{symbols[j]} on {int(counts[j])} (e.g. {examples(int(j))})" for j in order[:MAX_NAMED]
    )
    return [
        f"prices: {order.size} symbols have no close on some NYSE sessions between their first and "
        f"their last close, {int(counts[order].sum()):,} sessions in all: {named} and "
        f"{order.size - MAX_NAMED} more; {effect}"
    ]


def _absent_sessions(absent: pd.DatetimeIndex) -> list[str]:
    """NYSE sessions between the first and the last date that are no row of the matrix."""
    if not len(absent):
        return []
    shown = ", ".join(f"{d:%Y-%m-%d}" for d in absent[:MAX_EXAMPLE_DATES])
    return [
        f"prices: the price data has no row on {_sessions(len(absent))} between its first and its last "
        f"date (e.g. {shown}): those days are not seen, and every return across them runs from the close "
        "before to the close after"
    ]


def _frozen_closes(
    days: pd.DatetimeIndex,
    values: np.ndarray,
    finite: np.ndarray,
    session: np.ndarray,
    previous: np.ndarray,
    symbols: Sequence[str],
) -> list[str]:
    """Runs of one close over a symbol's closes, counted in sessions: a weekend or holiday
    row with the same close neither counts nor breaks the run, one with another close
    breaks it (the symbol traded)."""
    # A session close equal to the symbol's previous close: a run of n sessions has n - 1 of
    # them, so only a symbol with enough (rare) can hold one; its runs are then found over
    # its closes alone.
    same = finite & session & (values == previous)
    candidates = np.flatnonzero(np.count_nonzero(same, axis=1) >= MIN_FROZEN_SESSIONS - 1)
    if not candidates.size:
        return []
    row, column, value = _closes_by_symbol(values[candidates], finite[candidates])
    column = candidates[column]
    starts = np.ones(value.size, dtype=bool)
    starts[1:] = (value[1:] != value[:-1]) | (column[1:] != column[:-1])
    begin = np.flatnonzero(starts)
    end = np.append(begin[1:], value.size)
    sessions_before = np.concatenate(([0], np.cumsum(session[row])))
    length = sessions_before[end] - sessions_before[begin]
    long = np.flatnonzero(length >= MIN_FROZEN_SESSIONS)
    if not long.size:
        return []

    def run(r: int) -> tuple[str, pd.Timestamp, pd.Timestamp, int, float]:
        held = row[begin[r] : end[r]]
        held = held[session[held]]
        return (
            symbols[column[begin[r]]],
            days[held[0]],
            days[held[-1]],
            int(length[r]),
            float(value[begin[r]]),
        )

    runs = [run(int(r)) for r in long[: MAX_NAMED + 1]]
    if long.size <= MAX_NAMED:
        return [
            f"prices: {name} closes at exactly {close:.10g} on {count} consecutive sessions, "
            f"{a:%Y-%m-%d} to {b:%Y-%m-%d} (a halted or delisted stock, or a stale feed?); the backtest "
            "takes them as real closes (0% returns) and trades at them"
            for name, a, b, count, close in runs
        ]
    n_symbols = np.unique(column[begin[long]]).size
    named = ", ".join(
        f"{name} {a:%Y-%m-%d} to {b:%Y-%m-%d} ({count})" for name, a, b, count, _ in runs[:MAX_NAMED]
    )
    return [
        f"prices: {long.size} runs of {MIN_FROZEN_SESSIONS} or more consecutive sessions with exactly the "
        f"same close, in {n_symbols} symbol(s): {named} and {long.size - MAX_NAMED} more (halted or "
        "delisted stocks, or a stale feed?); the backtest takes them as real closes (0% returns) and "
        "trades at them"
    ]


def _split_like_moves(
    days: pd.DatetimeIndex, values: np.ndarray, previous: np.ndarray, symbols: Sequence[str]
) -> list[str]:
    """The split-like moves' sentences, then those of the extreme moves of no split size."""
    with np.errstate(divide="ignore", invalid="ignore"):
        move = np.divide(values, previous)
        np.subtract(move, 1.0, out=move)
        np.abs(move, out=move)
        large_move = move >= MIN_SPLIT_MOVE  # NaN (no previous close): False
        if not large_move.any():
            return []
        # Only the few large moves are compared with every split ratio.
        column, row = np.nonzero(large_move)
        large = values[column, row] / previous[column, row]
        targets = np.array([r for r, _, _ in SPLIT_RATIOS])
        tolerances = np.array([tol for _, _, tol in SPLIT_RATIOS])
        near = np.abs(large[:, None] / targets[None, :] - 1.0) <= tolerances[None, :]
        split_like = near.any(axis=1)
        # Validated closes are positive (a 0 is no close): every ratio here is finite and > 0.
        extreme = ~split_like & ((large >= EXTREME_MOVE_RATIO) | (large <= 1.0 / EXTREME_MOVE_RATIO))

    def moves(mask: np.ndarray, label: Callable[[int], str]) -> tuple[list[_Move], int, int]:
        """(the first ``MAX_NAMED + 1`` moves of ``mask``, how many in all, in how many symbols)."""
        named = [
            (symbols[column[k]], large[k] - 1.0, days[row[k]], label(k))
            for k in np.flatnonzero(mask)[: MAX_NAMED + 1]
        ]
        return named, int(mask.sum()), np.unique(column[mask]).size

    sentences = _moves_sentences(
        *moves(split_like, lambda k: SPLIT_RATIOS[int(np.argmax(near[k]))][1]),
        one=lambda split: (
            f"the size of {_a(split)}: if these closes are not adjusted for splits, every "
            "return across that day is wrong; use adjusted closes (Adj Close)"
        ),
        many="one-day moves the size of a split or reverse split",
        why="if these closes are not adjusted for splits, every return across those days is wrong; use "
        "adjusted closes (Adj Close)",
    )
    fold = f"{EXTREME_MOVE_RATIO:g}-fold"
    sentences += _moves_sentences(
        *moves(extreme, lambda _: ""),
        one=lambda _: (
            f"a {fold} change or more in one session (up, or down to a 20th) and of no split's "
            "size: a bad tick, a switch of price units or an unadjusted split? If the close is wrong, every "
            "return across that day is wrong and so is every metric; check these closes"
        ),
        many=f"one-day changes of {fold} or more (up, or down to a 20th) and of no split's size",
        why="bad ticks, switches of price units or unadjusted splits? If a close is wrong, every return "
        "across that day is wrong and so is every metric; check these closes",
    )
    return sentences


# (symbol, move, day, label) of one named one-day move.
_Move = tuple[str, float, pd.Timestamp, str]


def _moves_sentences(
    found: Sequence[_Move],
    count: int,
    n_symbols: int,
    *,
    one: Callable[[str], str],
    many: str,
    why: str,
) -> list[str]:
    """A sentence per move (``one(label)`` after its name, move and day) when at most
    ``MAX_NAMED``; else one sentence naming ``MAX_NAMED`` and counting the rest. ``found``:
    (symbol, move, day, label) of the first ``MAX_NAMED + 1`` moves; ``count`` in all."""
    if not count:
        return []
    if count <= MAX_NAMED:
        return [
            f"prices: {name} moved {move:+,.1%} on {day:%Y-%m-%d}, {one(label)}"
            for name, move, day, label in found
        ]
    named = ", ".join(
        f"{name} {move:+,.1%} on {day:%Y-%m-%d}" + (f" ({label})" if label else "")
        for name, move, day, label in found[:MAX_NAMED]
    )
    return [f"prices: {count} {many}, in {n_symbols} symbol(s): {named} and {count - MAX_NAMED} more: {why}"]


# ----- helpers ---------------------------------------------------------------------------


def _previous(values: np.ndarray, finite: np.ndarray, span: _Span) -> np.ndarray:
    """(symbols x dates) each symbol's last close (``finite`` cell) before each date, NaN
    before its first: the previous date's close (one shifted copy), except in the rare
    symbols with a cell without a close between their first and last close
    (``_Span.gaps``), where it is the close at the running last closed cell (a cumulative
    maximum of the closed cells' flat positions, 1-based; 0 picks the NaN put before the
    closes)."""
    previous = np.empty(values.shape)
    previous[:, 0] = np.nan
    previous[:, 1:] = values[:, :-1]
    gaps = span.gaps()
    if gaps.size:
        closes, closed = values[gaps], finite[gaps]
        position = np.where(closed, np.arange(1, closes.size + 1, dtype=np.intp).reshape(closes.shape), 0)
        np.maximum.accumulate(position, axis=1, out=position)
        before = np.zeros_like(position)
        before[:, 1:] = position[:, :-1]
        previous[gaps] = np.concatenate(([np.nan], closes.ravel())).take(before)
    return previous


def _closes_by_symbol(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(date, symbol, close) of the ``valid`` cells (symbols x dates), symbol by symbol and
    by date within a symbol: consecutive entries of one symbol are its consecutive closes."""
    column, row = np.nonzero(valid)
    return row, column, values[column, row]


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "a 2-for-1 split", "an 8-for-1 split"."""
    return ("an " if noun[0] in "8aeiou" else "a ") + noun


def _sessions(count: int) -> str:
    return f"{count:,} NYSE session" + ("" if count == 1 else "s")
