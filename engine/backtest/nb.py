"""Array-only simulation kernels: drift inside segments, reset and costs at entries.
No pandas: (days x columns) price matrices in, daily returns and turnover out.

The daily portfolio value (the hot loop) is compiled with numba: one pass over the held
columns' closes, without the (days x holdings) index and price temporaries that a numpy
gather needs. Its sums follow ``np.einsum("dn,dn->d", ...)``'s exact order (numpy's
baseline two-lane kernel: lanes over even/odd positions, blocks of 8 as
``a0*b0 + (a1*b1 + (a2*b2 + (a3*b3 + acc)))``, a zero-padded tail, then lane 0 + lane 1),
so the numbers are the bits the earlier numpy kernel gave (``tests/engine/backtest/
test_golden.py`` pins them; ``test_nb.py`` checks against ``np.einsum`` directly).
numba compiles without fast-math, so no product is fused into an FMA and no sum is
reordered.

On the held columns (a portfolio of at most a quarter of the columns) the whole
simulation before costs is one compiled call (``_held_gross``: shares, values, drifted
weights, turnover, first days), each step in the order of the numpy steps it replaced
(``test_nb.py`` keeps them as its reference); the wide path keeps its numpy steps.

Compiled with ``engine.compiled.compiled`` (disk cache, no fast-math; where no cache
is writable, each process compiles once, ~1 s; ``compiled_ieee`` where a kernel divides
by data). ``warm_up()`` compiles or loads every kernel ahead of the first backtest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from engine.analytics.nb_metrics import pairwise_plan, pairwise_planned
from engine.compiled import compiled, compiled_ieee, floats, ints
from engine.shapes import BoolVector, FloatMatrix, FloatVector, IntMatrix, IntVector


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Sim:
    day_index: IntVector  # (D,) price-row index of each backtest day
    returns: FloatVector  # (D,) net daily simple returns
    turnover: FloatVector  # (K,)
    cost: FloatVector  # (K,)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Gross:
    """The part of a simulation that does not depend on the cost rate (``simulate_gross``):
    every cost rate's net returns follow from it (``net_returns``). Its arrays are
    read-only, since the configurations of a sweep that differ only in costs share one.

    The cost of segment k is charged on its first day, ``starts[i]`` (segments with a day,
    in order): that day's net return is ``(start_value[i] * (1 - cost)) / start_previous[i]
    - 1``; every other day's is its return before costs, ``returns``."""

    first_day: int  # price-row index of the first backtest day (``entry[0] + 1``)
    returns: FloatVector  # (D,) daily returns before costs (the net returns at cost 0)
    turnover: FloatVector  # (K,) one-way turnover at each entry
    has_day: BoolVector  # (K,) segments with at least one day (all but an entry at the last day)
    starts: IntVector  # (S,) the first day, in ``returns``, of each segment with a day
    start_value: FloatVector  # (S,) the value on those days
    start_previous: FloatVector  # (S,) what those days' value is measured against


def simulate(
    prices: FloatMatrix,  # (days, columns): forward-filled closes, cash column last
    entry: IntVector,  # (K,) day index of each segment's entry close
    end: IntVector,  # (K,) day index of each segment's last day
    held: IntMatrix,  # (K, N) column indices
    weights: FloatMatrix,  # (K, N) target weights
    cost_rate: float,
) -> _Sim:
    """Daily returns of buy-and-hold segments reset to ``weights`` at each entry, net of
    ``cost_rate`` (a fraction of the traded value) times the turnover at each entry:
    ``net_returns(simulate_gross(...), cost_rate)`` (arguments as ``simulate_gross``)."""
    return net_returns(simulate_gross(prices, entry, end, held, weights), cost_rate)


def simulate_gross(
    prices: FloatMatrix,  # (days, columns): forward-filled closes, cash column last
    entry: IntVector,  # (K,) day index of each segment's entry close
    end: IntVector,  # (K,) day index of each segment's last day
    held: IntMatrix,  # (K, N) column indices
    weights: FloatMatrix,  # (K, N) target weights
    value: FloatVector | None = None,  # (D,) from group_values, or None
) -> _Gross:
    """``simulate`` before costs: the daily values of buy-and-hold segments reset to
    ``weights`` at each entry, and the turnover at each entry (read-only ``_Gross``).

    ``held`` (K x N) indexes columns of ``prices`` (cash = last column, price 1);
    ``weights`` (K x N) sum to 1 per row (a cash segment holds the cash column at 1).
    Segments must be contiguous: ``entry[k + 1] == end[k]``. Only the last segment may
    have ``end == entry`` (an entry at the last day: turnover and cost, no return day).

    ``value``: the daily value of these holdings as ``group_values`` computed it for
    the configurations of a sweep that share the signal (the same bits as computed
    here); the held path then skips its own pass over the closes. Ignored on the wide
    path, which reads whole rows anyway.
    """
    n_cols = prices.shape[1]
    if _is_wide(held.shape[1], n_cols):
        return _wide_gross(prices, entry, end, held, weights)
    returns, turnover, has_day, starts, start_value, start_previous = _held_gross(
        floats(prices),
        ints(entry),
        ints(end),
        ints(held),
        floats(weights),
        _NO_VALUE if value is None else np.require(value, np.float64, ["C_CONTIGUOUS", "WRITEABLE"]),
        value is not None,
        NEAR_ONE,
    )
    return _frozen(int(entry[0]) + 1, returns, turnover, has_day, starts, start_value, start_previous)


def _wide_gross(
    prices: FloatMatrix, entry: IntVector, end: IntVector, held: IntMatrix, weights: FloatMatrix
) -> _Gross:
    """``simulate_gross`` of a wide portfolio: (segments x columns) targets and shares."""
    n_seg = len(entry)
    n_cols = prices.shape[1]
    entry_prices = _closes_at(prices, entry, held)
    shares = weights / entry_prices  # units bought per unit of segment value
    flat = (np.arange(n_seg)[:, None] * n_cols + held).ravel()
    target_dense = np.bincount(flat, weights=weights.ravel(), minlength=n_seg * n_cols).reshape(n_seg, n_cols)
    shares_dense = np.bincount(flat, weights=shares.ravel(), minlength=n_seg * n_cols).reshape(n_seg, n_cols)
    holding = np.zeros(n_seg * n_cols, dtype=bool)
    holding[flat] = True
    return _dense_gross(prices, entry, end, target_dense, shares_dense, holding.reshape(n_seg, n_cols))


# ``_held_gross`` without a given value. A given value is passed writable (a read-only one
# is copied), as the value ``_held_values`` returns: numba types a read-only array apart,
# and the kernel takes either in one variable. Neither is written.
_NO_VALUE = np.zeros(0)


def net_returns(gross: _Gross, cost_rate: float) -> _Sim:
    """The net daily returns of ``gross`` at ``cost_rate`` (a fraction of the traded value):
    ``cost = cost_rate * turnover``, charged on each segment's first day as the value
    that day times ``1 - cost``. The operations and their order are the ones of a
    single pass (the value scaled, then divided by the previous value, minus 1; on the
    other days the scaled value is the value, so their return is ``gross.returns``), so
    the numbers are the same bits whichever cost rates share ``gross``; ``gross`` is not
    modified, and the ``_Sim`` is the caller's own (its turnover a copy of ``gross``'s)."""
    cost = cost_rate * gross.turnover
    returns = gross.returns.copy()
    returns[gross.starts] = gross.start_value * (1.0 - cost[gross.has_day]) / gross.start_previous - 1.0
    day_index = np.arange(gross.first_day, gross.first_day + returns.size)
    return _Sim(day_index=day_index, returns=returns, turnover=gross.turnover.copy(), cost=cost)


def group_values(
    prices: FloatMatrix,  # (days, columns), as ``simulate_gross`` takes it
    entry: IntVector,  # (K,) the segments every member shares
    end: IntVector,  # (K,)
    wide: IntMatrix,  # (K, W) the widest member's held columns
    members: Sequence[tuple[IntMatrix, FloatMatrix]],  # (held (K, N), weights (K, N)), N <= W
) -> FloatMatrix:
    """(C, D) the daily value of each member's holdings, for the days ``entry[0] + 1 ..
    end[-1]``: row c is the ``value`` ``simulate_gross`` computes for ``members[c]`` on the
    held path (its shares ``weights / entry close``, then the einsum-ordered sum of the
    day's closes times the shares), bit for bit.

    The members are a sweep's configurations that share the signal, hence the segments
    and the ranking: a narrower ``top_n`` holds a prefix of the widest's columns. Each
    member must hold ``wide[k, j]`` at every position with a weight (``held[k, j] ==
    wide[k, j]`` wherever ``weights[k, j] != 0``; a position without weight adds +0.0
    whatever it holds; ``SharedWork`` checks this). One pass over the days reads each
    day's W held closes once into a small buffer and takes every member's sum from it:
    before, each signal group gathered a (D, W) block of closes (10 MB of price rows read
    per group) and each member re-read it (an ad-hoc probe of W3's 254 configurations:
    gathers 13 ms, values 18 ms; here both in one pass, docs/performance.md)."""
    widths = np.array([held.shape[1] for held, _ in members], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(widths * len(entry)))).astype(np.int64)
    return _group_values(
        floats(prices),
        ints(entry),
        ints(end),
        ints(wide),
        ints(np.concatenate([held.ravel() for held, _ in members])),
        floats(np.concatenate([weights.ravel() for _, weights in members])),
        ints(offsets),
        ints(widths),
    )


def holds_prefix(wide: IntMatrix, held: IntMatrix, weights: FloatMatrix) -> bool:
    """Whether ``held`` (K, N) holds ``wide[:, :N]`` (K, >= N) at every position with a
    weight: ``np.all((wide[:, :N] == held) | (weights == 0.0))``, the rule of
    ``group_values``' members, in one compiled pass (the numpy expression took ~20 us
    per configuration of a sweep). False when the shapes do not line up."""
    if held.shape[0] != wide.shape[0] or held.shape[1] > wide.shape[1] or weights.shape != held.shape:
        return False
    return bool(_holds_prefix(ints(wide), ints(held), floats(weights)))


@compiled
def _holds_prefix(
    wide: np.ndarray, held: np.ndarray, weights: np.ndarray
) -> bool:  # pragma: no cover - compiled
    """``holds_prefix`` of arrays of matching shapes."""
    for k in range(held.shape[0]):
        for j in range(held.shape[1]):
            if held[k, j] != wide[k, j] and weights[k, j] != 0.0:
                return False
    return True


def uses_held_path(width: int, n_cols: int) -> bool:
    """Whether ``simulate`` reads the held columns (else: the wide path, whole rows)."""
    return not _is_wide(width, n_cols)


def _closes_at(prices: FloatMatrix, days: IntVector, held: IntMatrix) -> FloatMatrix:
    """(K, N) ``prices[days[k], held[k, j]]``, read without copying whole rows."""
    return np.take(prices.ravel(), np.asarray(days)[:, None] * prices.shape[1] + held)


def _is_wide(width: int, n_cols: int) -> bool:
    """Wide portfolios (the eligible universe): one dense row-wise product over the
    contiguous block of days beats gathering nearly every column per day."""
    return 4 * width > n_cols


def _dense_gross(
    prices: np.ndarray,
    entry: np.ndarray,
    end: np.ndarray,
    target: np.ndarray,
    shares: np.ndarray,
    holding: np.ndarray,
) -> _Gross:
    """``simulate_gross`` with (segments x columns) target weights and share counts
    (``holding``: where a position is held, so the drifted weights stay 0 elsewhere).
    ``target`` is consumed: ``_gross`` reuses it as scratch."""
    lengths = end - entry
    first = int(entry[0]) + 1
    # Every column of each day's row: the block is the price rows themselves.
    value = _block_values(floats(prices[first:]), ints(entry), ints(end), floats(shares))
    drifted = np.zeros_like(shares)
    np.multiply(prices[end], shares, out=drifted, where=holding)
    np.divide(drifted, _end_values(value, lengths)[:, None], out=drifted, where=holding)

    def moved(k: np.ndarray) -> np.ndarray:  # the close of a position differs from its entry close
        return ((prices[entry[k] + 1] != prices[entry[k]]) & (shares[k] != 0.0)).any(axis=1)

    still = _still_first_days(value, entry, lengths, moved)
    return _gross(first, value, lengths, target, drifted, still)


# A segment whose first day moves no held close has the value sum_j (w_j / p_j) * p_j
# that day: 1 within ~2 (N + 1) ulps for N positions (each term within 2 ulps of w_j,
# the weights' sum within N ulps of 1, the sum's own rounding within N ulps): 1.1e-12
# for 5,000 positions. Only segments this close to 1 are checked close by close.
NEAR_ONE = 1e-9


def _still_first_days(
    value: np.ndarray, entry: np.ndarray, lengths: np.ndarray, moved: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """(K,) ``_finish``'s ``still``: the segments with a day whose first day moves no held
    close. ``moved(k)`` answers exactly for the segments ``k`` (an index array); it is
    asked only for those whose first day's value is within ``NEAR_ONE`` of 1 (a segment
    with a move there is rarely that close, so the check costs a comparison per segment
    instead of a second gather of every held close)."""
    still = np.zeros(len(entry), dtype=bool)
    has_day = lengths > 0
    if value.size == 0 or not has_day.any():
        return still
    at = np.minimum(entry - entry[0], value.size - 1)  # each segment's first day in ``value``
    near = np.flatnonzero(has_day & (np.abs(value[at] - 1.0) <= NEAR_ONE))
    if near.size:
        still[near] = ~moved(near)
    return still


def _end_values(value: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(K,) the value on each segment's last day; 1 for a segment with no day (an entry
    at the last day of the data: its drifted weights are never used, no segment follows)."""
    if value.size == 0:
        return np.ones(len(lengths))
    return np.where(lengths > 0, value[np.maximum(np.cumsum(lengths) - 1, 0)], 1.0)


def _gross(
    first_day: int,
    value: np.ndarray,
    lengths: np.ndarray,
    target: np.ndarray,
    drifted: np.ndarray,
    still: np.ndarray,
) -> _Gross:
    """Turnover against the previous segment's drifted weights and the daily returns
    before costs (``net_returns`` charges the costs).

    ``still`` (K,): segments whose first day moves no held close (every position's close
    that day is its entry close: prices that end at the entry, as a delisting at that
    close, or a halt). Their first day's gross return is exactly 0, as on any later day
    without a move: the value ``sum_i (w_i / p_i) * p_i`` that day is the entry value
    computed the same way, which rounds to 1 +- a few ulps (1 + 2.2e-16 for
    inverse-volatility weights), and against 1 it was a gain of 2.2e-16 (a day won in
    the hit rate of a month held as cash). The other segments' first day is against 1."""
    n_cols = target.shape[1]
    # |target - before| in place (``target`` is the caller's scratch): before the first
    # entry the backtest is all cash; before each later one, the previous drifted weights.
    change = target
    change[0, n_cols - 1] -= 1.0
    np.subtract(change[1:], drifted[:-1], out=change[1:])
    np.abs(change, out=change)
    turnover = 0.5 * change.sum(axis=1)

    # A segment with no day (entry at the last day) has its turnover and cost, but no
    # return day to charge the cost on yet (it is charged on the first day after the entry).
    has_day = lengths > 0
    starts = (np.cumsum(lengths) - lengths)[has_day]
    previous = np.empty_like(value)
    previous[1:] = value[:-1]
    previous[starts] = 1.0
    flat = starts[still[has_day]]
    previous[flat] = value[flat]  # the entry value computed as every later day's: no move, 0
    return _frozen(
        first_day, value / previous - 1.0, turnover, has_day, starts, value[starts], previous[starts]
    )


def _frozen(
    first_day: int,
    returns: FloatVector,
    turnover: FloatVector,
    has_day: BoolVector,
    starts: IntVector,
    start_value: FloatVector,
    start_previous: FloatVector,
) -> _Gross:
    """A ``_Gross`` of these arrays, made read-only: every cost rate of a sweep batch shares it."""
    for array in (returns, turnover, has_day, starts, start_value, start_previous):
        array.flags.writeable = False
    return _Gross(
        first_day=first_day,
        returns=returns,
        turnover=turnover,
        has_day=has_day,
        starts=starts,
        start_value=start_value,
        start_previous=start_previous,
    )


@compiled_ieee
def _held_gross(
    prices: np.ndarray,
    entry: np.ndarray,
    end: np.ndarray,
    held: np.ndarray,
    weights: np.ndarray,
    given_value: np.ndarray,
    use_given: bool,
    near_one: float,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # pragma: no cover - compiled
    """``simulate_gross`` of the held columns in one call: (returns before costs (D,),
    turnover (K,), has_day (K,), starts (S,), start_value (S,), start_previous (S,)), the
    fields of ``_Gross``. The numpy steps it replaces (``_wide_gross``'s, on (K, N) instead
    of (K, columns) arrays; about twenty calls whose dispatch cost more than their
    arithmetic), operation by operation:

    - entry closes and shares ``weights / close``; the daily values ``_held_values``, or
      ``given_value`` (``group_values``, the same bits) when ``use_given``;
    - the drifted weights ``(close at the end * shares) / the segment's last value``
      (``_end_values``: 1 for a segment with no day);
    - the turnover: per segment, the targets and the previous segment's drifted weights
      summed into a row of every column in position order (``np.bincount``'s order),
      ``|target - before|`` (before the first entry: the cash column at 1), then ``0.5 *``
      the row's sum in numpy's order (``0.0 + pairwise``; the tree of a row's length walked
      once, ``nb_metrics.pairwise_plan``);
    - ``_still_first_days`` with ``near_one`` (``NEAR_ONE``), and ``_gross``'s previous
      values and returns.

    Compiled with numpy's division rules (``compiled_ieee``): a zero close or value gives
    the infinity or NaN the numpy steps gave."""
    n_seg, width = held.shape
    n_cols = prices.shape[1]
    entry_prices = np.empty((n_seg, width))
    shares = np.empty((n_seg, width))
    for k in range(n_seg):
        for j in range(width):
            close = prices[entry[k], held[k, j]]
            entry_prices[k, j] = close
            shares[k, j] = weights[k, j] / close
    value = given_value if use_given else _held_values(prices, entry, end, held, shares)
    n_days = value.shape[0]
    lengths = end - entry
    has_day = lengths > 0
    last_value = np.ones(n_seg)
    n_starts = 0
    position = 0
    for k in range(n_seg):
        if has_day[k]:
            n_starts += 1
        position += lengths[k]
        if has_day[k] and n_days > 0:
            last_value[k] = value[position - 1]
    turnover = np.empty(n_seg)
    # ``row`` and ``before`` are all zeros at the top of each segment: only the columns a
    # segment wrote are reset after it (a full pass per segment was most of this loop).
    # ``before`` stays zero at k == 0, and ``x - 0.0`` is ``x`` bit for bit (-0.0 too).
    row = np.zeros(n_cols)
    before = np.zeros(n_cols)
    gap = np.empty(n_cols)
    plan = pairwise_plan(n_cols)
    scratch = np.empty(plan.shape[0])
    for k in range(n_seg):
        for j in range(width):
            row[held[k, j]] += weights[k, j]
        if k == 0:
            row[n_cols - 1] -= 1.0
        else:
            for j in range(width):
                drifted = (prices[end[k - 1], held[k - 1, j]] * shares[k - 1, j]) / last_value[k - 1]
                before[held[k - 1, j]] += drifted
        for c in range(n_cols):
            gap[c] = abs(row[c] - before[c])
        turnover[k] = 0.5 * (0.0 + pairwise_planned(gap, plan, scratch))
        for j in range(width):
            row[held[k, j]] = 0.0
        row[n_cols - 1] = 0.0
        if k > 0:
            for j in range(width):
                before[held[k - 1, j]] = 0.0
    still = np.zeros(n_seg, dtype=np.bool_)
    if n_days > 0:
        for k in range(n_seg):
            if not has_day[k] or not abs(value[min(entry[k] - entry[0], n_days - 1)] - 1.0) <= near_one:
                continue
            moved = False
            for j in range(width):
                if prices[entry[k] + 1, held[k, j]] != entry_prices[k, j] and weights[k, j] != 0.0:
                    moved = True
            still[k] = not moved
    starts = np.empty(n_starts, dtype=np.int64)
    previous = np.empty(n_days)
    for i in range(1, n_days):
        previous[i] = value[i - 1]
    s = 0
    position = 0
    for k in range(n_seg):
        if has_day[k]:
            starts[s] = position
            previous[position] = value[position] if still[k] else 1.0
            s += 1
        position += lengths[k]
    returns = np.empty(n_days)
    for i in range(n_days):
        returns[i] = value[i] / previous[i] - 1.0
    start_value = np.empty(n_starts)
    start_previous = np.empty(n_starts)
    for s in range(n_starts):
        start_value[s] = value[starts[s]]
        start_previous[s] = previous[starts[s]]
    return returns, turnover, has_day, starts, start_value, start_previous


# ----- compiled: the daily value of each segment's holdings ------------------------------


@compiled
def _dot(row: np.ndarray, cols: np.ndarray, w: np.ndarray) -> float:  # pragma: no cover - compiled
    """sum_j row[cols[j]] * w[j] in ``np.einsum``'s order (module docstring)."""
    n = cols.shape[0]
    even = 0.0
    odd = 0.0
    i = 0
    while n - i >= 8:
        even = row[cols[i]] * w[i] + (
            row[cols[i + 2]] * w[i + 2] + (row[cols[i + 4]] * w[i + 4] + (row[cols[i + 6]] * w[i + 6] + even))
        )
        odd = row[cols[i + 1]] * w[i + 1] + (
            row[cols[i + 3]] * w[i + 3] + (row[cols[i + 5]] * w[i + 5] + (row[cols[i + 7]] * w[i + 7] + odd))
        )
        i += 8
    while i < n:  # the zero-padded tail, two lanes at a time
        even = row[cols[i]] * w[i] + even
        odd = (row[cols[i + 1]] * w[i + 1] if i + 1 < n else 0.0) + odd
        i += 2
    return 0.0 + (even + odd)


@compiled
def _dot_dense(row: np.ndarray, w: np.ndarray) -> float:  # pragma: no cover - compiled
    """sum_c row[c] * w[c] in ``np.einsum``'s order (module docstring)."""
    n = w.shape[0]
    even = 0.0
    odd = 0.0
    i = 0
    while n - i >= 8:
        even = row[i] * w[i] + (
            row[i + 2] * w[i + 2] + (row[i + 4] * w[i + 4] + (row[i + 6] * w[i + 6] + even))
        )
        odd = row[i + 1] * w[i + 1] + (
            row[i + 3] * w[i + 3] + (row[i + 5] * w[i + 5] + (row[i + 7] * w[i + 7] + odd))
        )
        i += 8
    while i < n:
        even = row[i] * w[i] + even
        odd = (row[i + 1] * w[i + 1] if i + 1 < n else 0.0) + odd
        i += 2
    return 0.0 + (even + odd)


@compiled
def _held_values(
    prices: np.ndarray, entry: np.ndarray, end: np.ndarray, held: np.ndarray, shares: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """(D,) value of ``shares[k]`` units of columns ``held[k]`` on each day of segment k
    (days ``entry[0] + 1 .. end[-1]``)."""
    first = entry[0] + 1
    out = np.empty(end[-1] + 1 - first)
    for k in range(entry.shape[0]):
        for d in range(entry[k] + 1, end[k] + 1):
            out[d - first] = _dot(prices[d], held[k], shares[k])
    return out


@compiled_ieee
def _group_values(
    prices: np.ndarray,
    entry: np.ndarray,
    end: np.ndarray,
    wide: np.ndarray,
    held: np.ndarray,
    weights: np.ndarray,
    offsets: np.ndarray,
    widths: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    """``group_values`` of the members flattened: member c's (K, widths[c]) held columns
    and weights are ``held[offsets[c]:offsets[c + 1]]`` and the same of ``weights``."""
    n_members = widths.shape[0]
    n_seg, width = wide.shape
    shares = np.empty(weights.shape[0])
    for i in range(n_members):
        n = widths[i]
        for k in range(n_seg):
            for j in range(n):
                at = offsets[i] + k * n + j
                shares[at] = weights[at] / prices[entry[k], held[at]]  # as ``_held_gross``
    first = entry[0] + 1
    out = np.empty((n_members, end[-1] + 1 - first))
    closes = np.empty(width)
    for k in range(n_seg):
        for d in range(entry[k] + 1, end[k] + 1):
            for j in range(width):
                closes[j] = prices[d, wide[k, j]]
            for i in range(n_members):
                n = widths[i]
                at = offsets[i] + k * n
                out[i, d - first] = _dot_dense(closes[:n], shares[at : at + n])
    return out


@compiled
def _block_values(
    block: np.ndarray, entry: np.ndarray, end: np.ndarray, shares: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """``_held_values`` from a (D x >= N) block of closes, one row per day from
    ``entry[0] + 1``: the first N columns of each row (the price rows themselves on the
    wide path, where N is every column)."""
    first = entry[0] + 1
    n = shares.shape[1]
    out = np.empty(end[-1] + 1 - first)
    for k in range(entry.shape[0]):
        for d in range(entry[k] + 1, end[k] + 1):
            out[d - first] = _dot_dense(block[d - first, :n], shares[k])
    return out


def warm_up() -> None:
    """Compile (or load from the cache) every kernel now, on tiny inputs, so that the
    first real backtest of a process does not pay for it."""
    prices = np.ones((3, 5))
    entry, end = np.array([0]), np.array([2])
    held, weights = np.zeros((1, 1), dtype=np.int64), np.ones((1, 1))
    simulate(prices, entry, end, held, weights, 0.0)  # the held columns
    value = group_values(prices, entry, end, held, [(held, weights)])[0]
    simulate_gross(prices, entry, end, held, weights, value)  # a sweep's shared values
    simulate(prices, entry, end, np.zeros((1, 2), dtype=np.int64), np.full((1, 2), 0.5), 0.0)  # dense
