"""Price-quality warnings: closes that are consistent yet untrustworthy (honest UI).

A validated close matrix (``engine.data.types``: dates x symbols, float64, NaN where a
symbol has no close) can still hold closes that change a backtest's numbers without a
word. ``price_quality_warnings`` reads the matrix and returns one plain sentence per
finding (grouped into one sentence when there are more than ``MAX_NAMED``), each starting
``"prices: "`` like the other price warnings of ``ValidationReport.warnings``. It never
changes, drops or refuses a price: a real crash can look like a split, a real halt like
a stale feed. Three checks, all vectorised over the whole matrix (numpy; no loop over
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
3. **Split-like moves.** A one-close move (a close against the symbol's previous close)
   whose ratio ``close_t / close_prev`` lies within ``SPLIT_RATIO_TOLERANCE`` (1%,
   relative) of a common split or reverse-split ratio (``SPLIT_RATIOS``: ``1/k`` and ``k``
   for k in ``SPLIT_FACTORS`` = 2, 3, 4, 5, 8, 10, and 2/3, 3/2) and whose absolute return
   is at least ``MIN_SPLIT_MOVE`` (30%): if the closes are not adjusted for splits every
   return across that day is wrong.

Pure: reads only the frame it is given (no clock, no file, no later data decides an
earlier finding's wording beyond the matrix itself); it is a report, not a signal, so
causality is not involved. Cost: a few ms for 500 symbols x 2,520 days.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from engine.data.calendar import non_sessions

# Consecutive sessions with one unchanged close from which a run is reported as frozen.
MIN_FROZEN_SESSIONS = 5
# Relative distance of a move's ratio to a split ratio that makes it split-like (1%).
SPLIT_RATIO_TOLERANCE = 0.01
# Smallest absolute one-close return that can be split-like (30%).
MIN_SPLIT_MOVE = 0.30
# k of the k-for-1 splits (ratio 1/k) and 1-for-k reverse splits (ratio k) checked.
SPLIT_FACTORS: tuple[int, ...] = (2, 3, 4, 5, 8, 10)
# (ratio close_t / close_prev, the split it is the size of), every ratio checked.
SPLIT_RATIOS: tuple[tuple[float, str], ...] = (
    *((1.0 / k, f"{k}-for-1 split") for k in SPLIT_FACTORS),
    *((float(k), f"1-for-{k} reverse split") for k in SPLIT_FACTORS),
    (2.0 / 3.0, "3-for-2 split"),
    (3.0 / 2.0, "2-for-3 reverse split"),
)
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
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    symbols = [str(c) for c in frame.columns]
    finite = np.isfinite(values)
    session = ~non_sessions(days)
    return (
        *_missing_sessions(days, finite, session, symbols, gap_effect),
        *_absent_sessions(days),
        *_frozen_closes(days, values, finite & session[:, None], symbols),
        *_split_like_moves(days, values, finite, symbols),
    )


# ----- the checks ------------------------------------------------------------------------


def _missing_sessions(
    days: pd.DatetimeIndex, finite: np.ndarray, session: np.ndarray, symbols: Sequence[str], effect: str
) -> list[str]:
    n = finite.shape[0]
    priced = finite.any(axis=0)
    first = np.argmax(finite, axis=0)
    last = n - 1 - np.argmax(finite[::-1], axis=0)
    rows = np.arange(n)[:, None]
    missing = ~finite & session[:, None] & (rows > first) & (rows < last) & priced
    counts = missing.sum(axis=0)
    found = np.flatnonzero(counts)
    if not found.size:
        return []
    # Most sessions first, then by symbol (stable: columns are in the frame's order).
    order = found[np.argsort(-counts[found], kind="stable")]

    def examples(j: int) -> str:
        shown = np.flatnonzero(missing[:, j])[:MAX_EXAMPLE_DATES]
        return ", ".join(f"{days[i]:%Y-%m-%d}" for i in shown)

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


def _absent_sessions(days: pd.DatetimeIndex) -> list[str]:
    """NYSE sessions between the first and the last date that are no row of the matrix."""
    weekdays = pd.bdate_range(days[0], days[-1])
    sessions = weekdays[~non_sessions(weekdays)]
    absent = sessions[~sessions.isin(days)]
    if not len(absent):
        return []
    shown = ", ".join(f"{d:%Y-%m-%d}" for d in absent[:MAX_EXAMPLE_DATES])
    return [
        f"prices: the price data has no row on {_sessions(len(absent))} between its first and its last "
        f"date (e.g. {shown}): those days are not seen, and every return across them runs from the close "
        "before to the close after"
    ]


def _frozen_closes(
    days: pd.DatetimeIndex, values: np.ndarray, valid: np.ndarray, symbols: Sequence[str]
) -> list[str]:
    row, column, value = _closes_by_symbol(values, valid)
    if value.size < MIN_FROZEN_SESSIONS:
        return []
    # Runs of one close per symbol over its closes (the cells without a close skipped).
    starts = np.ones(value.size, dtype=bool)
    starts[1:] = (value[1:] != value[:-1]) | (column[1:] != column[:-1])
    begin = np.flatnonzero(starts)
    length = np.diff(np.append(begin, value.size))
    long = np.flatnonzero(length >= MIN_FROZEN_SESSIONS)
    if not long.size:
        return []
    runs = [
        (symbols[column[begin[r]]], days[row[begin[r]]], days[row[begin[r] + length[r] - 1]], int(length[r]))
        for r in long[: MAX_NAMED + 1]
    ]
    if long.size <= MAX_NAMED:
        return [
            f"prices: {name} closes at exactly {value[begin[r]]:.10g} on {count} consecutive sessions, "
            f"{a:%Y-%m-%d} to {b:%Y-%m-%d} (a halted or delisted stock, or a stale feed?); the backtest "
            "takes them as real closes (0% returns) and trades at them"
            for r, (name, a, b, count) in zip(long, runs, strict=True)
        ]
    n_symbols = np.unique(column[begin[long]]).size
    named = ", ".join(
        f"{name} {a:%Y-%m-%d} to {b:%Y-%m-%d} ({count})" for name, a, b, count in runs[:MAX_NAMED]
    )
    return [
        f"prices: {long.size} runs of {MIN_FROZEN_SESSIONS} or more consecutive sessions with exactly the "
        f"same close, in {n_symbols} symbol(s): {named} and {long.size - MAX_NAMED} more (halted or "
        "delisted stocks, or a stale feed?); the backtest takes them as real closes (0% returns) and "
        "trades at them"
    ]


def _split_like_moves(
    days: pd.DatetimeIndex, values: np.ndarray, finite: np.ndarray, symbols: Sequence[str]
) -> list[str]:
    row, column, value = _closes_by_symbol(values, finite)
    if value.size < 2:
        return []
    same = column[1:] == column[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = value[1:] / value[:-1]
        # Only the few large moves are compared with every split ratio.
        found = np.flatnonzero(same & (np.abs(ratio - 1.0) >= MIN_SPLIT_MOVE))
        targets = np.array([r for r, _ in SPLIT_RATIOS])
        near = np.abs(ratio[found, None] / targets[None, :] - 1.0) <= SPLIT_RATIO_TOLERANCE
    split_like = near.any(axis=1)
    found, near = found[split_like], near[split_like]
    if not found.size:
        return []
    moves = [
        (symbols[column[i + 1]], ratio[i] - 1.0, days[row[i + 1]], SPLIT_RATIOS[int(np.argmax(near[k]))][1])
        for k, i in enumerate(found[: MAX_NAMED + 1])
    ]
    if found.size <= MAX_NAMED:
        return [
            f"prices: {name} moved {move:+.1%} on {day:%Y-%m-%d}, the size of {_a(split)}: if these closes "
            "are not adjusted for splits, every return across that day is wrong; use adjusted closes (Adj Close)"
            for name, move, day, split in moves
        ]
    n_symbols = np.unique(column[found + 1]).size
    named = ", ".join(
        f"{name} {move:+.1%} on {day:%Y-%m-%d} ({split})" for name, move, day, split in moves[:MAX_NAMED]
    )
    return [
        f"prices: {found.size} one-day moves the size of a split or reverse split, in {n_symbols} "
        f"symbol(s): {named} and {found.size - MAX_NAMED} more: if these closes are not adjusted for "
        "splits, every return across those days is wrong; use adjusted closes (Adj Close)"
    ]


# ----- helpers ---------------------------------------------------------------------------


def _closes_by_symbol(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, close) of the ``valid`` cells, symbol by symbol and by date within
    a symbol: consecutive entries of one column are the symbol's consecutive closes."""
    column, row = np.nonzero(valid.T)
    return row, column, values[row, column]


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "a 2-for-1 split", "an 8-for-1 split"."""
    return ("an " if noun[0] in "8aeiou" else "a ") + noun


def _sessions(count: int) -> str:
    return f"{count:,} NYSE session" + ("" if count == 1 else "s")
