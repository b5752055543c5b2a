"""Array-only kernels of the plan: the signal aggregation (the thresholds and the
per-(symbol, period) sums of the sorted sentiment rows in one compiled pass, with no
mask, masked-product or running-count temporaries) and the selection of the holdings
from the ranked candidates (``select_holdings``, one pass instead of a stable argsort
and three gathers per configuration).

The sums are the bits of ``np.add.reduceat(values * keep, starts)``: numpy reduces a
run ``x[a:b]`` as ``x[a] + pairwise(x[a+1:b])`` (a one-row run is ``x[a]`` itself), with
numpy's pairwise summation (``engine.analytics.nb_metrics.pairwise_block``, whose module
docstring gives its order; one copy for both modules). Runs of more than
``PAIRWISE_BLOCK + 1`` rows, where numpy splits the sum, go back to numpy. Rows outside
the thresholds add ``value * 0.0`` at their position, exactly as the masked product does,
so the lanes see the same numbers. ``tests/engine/backtest/test_nb_signal.py`` checks the
bits against ``reduceat`` itself; numba compiles without fast-math, so nothing is
reordered.
"""

from __future__ import annotations

import numpy as np

from engine.analytics.nb_metrics import PAIRWISE_BLOCK, pairwise_block
from engine.compiled import compiled, floats, ints, read_only


@compiled
def _masked_values(
    values: np.ndarray,
    likes: np.ndarray,
    comments: np.ndarray,
    defined: np.ndarray,
    min_likes: float,
    min_comments: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """(rows,) ``values * keep`` and ``keep`` (uint8): a row is kept when ``likes >
    min_likes`` and ``comments > min_comments`` and (unless ``defined`` is empty) its
    signal is defined. Branch-free loops, so LLVM vectorises them."""
    n = values.shape[0]
    masked = np.empty(n)
    kept = np.empty(n, dtype=np.uint8)
    if defined.shape[0] > 0:
        for i in range(n):
            k = (likes[i] > min_likes) & (comments[i] > min_comments) & defined[i]
            kept[i] = k
            masked[i] = values[i] * (1.0 if k else 0.0)
    else:
        for i in range(n):
            k = (likes[i] > min_likes) & (comments[i] > min_comments)
            kept[i] = k
            masked[i] = values[i] * (1.0 if k else 0.0)
    return masked, kept


@compiled
def _run_sums(
    masked: np.ndarray, kept: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:  # pragma: no cover - compiled
    """(sums (G,), kept counts (G,), every run fitted) of the runs beginning at
    ``starts`` (G,): ``masked`` summed in ``reduceat``'s order. A run longer than
    ``PAIRWISE_BLOCK + 1`` rows stops the pass (third item False)."""
    g_count = starts.shape[0]
    n_rows = masked.shape[0]
    sums = np.zeros(g_count)
    counts = np.zeros(g_count, dtype=np.int64)
    for g in range(g_count):
        a = starts[g]
        b = starts[g + 1] if g + 1 < g_count else n_rows
        if b - a > PAIRWISE_BLOCK + 1:
            return sums, counts, False
        c = 0
        for i in range(a, b):
            c += kept[i]
        counts[g] = c
        if c:
            sums[g] = masked[a] + pairwise_block(masked, a + 1, b - a - 1)
    return sums, counts, True


def run_sums(
    values: np.ndarray,
    likes: np.ndarray,
    comments: np.ndarray,
    defined: np.ndarray | None,
    starts: np.ndarray,
    min_likes: float,
    min_comments: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per run of the sorted rows (``starts`` (G,), increasing from 0, the last run
    ending at the last row): (sum of ``values`` over the rows with ``likes > min_likes``
    and ``comments > min_comments`` (and ``defined``, when given), kept-row count (int64)).
    All row arrays have the same length.

    The sums are the bits of ``np.add.reduceat(values * keep, starts)`` (module
    docstring); a run with no kept row sums to 0.0 here (its mean is never read)."""
    if len(starts) == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    mask = read_only(
        np.zeros(0, dtype=bool) if defined is None else np.ascontiguousarray(defined, dtype=bool)
    )
    masked, kept = _masked_values(
        floats(values), floats(likes), floats(comments), mask, float(min_likes), float(min_comments)
    )
    st = ints(starts)
    sums, counts, fitted = _run_sums(read_only(masked), read_only(kept), st)
    if fitted:
        return sums, counts
    # A run too long for the kernel's pairwise sum (over 129 rows of one symbol in one
    # period): numpy's own reduction, over the same masked values.
    counts = np.add.reduceat(kept, st, dtype=np.int64)
    return np.add.reduceat(masked, st), counts


@compiled
def _chosen_run_sums(
    likes: np.ndarray,
    comments: np.ndarray,
    defined: np.ndarray,
    starts: np.ndarray,
    runs: np.ndarray,
    min_likes: float,
    min_comments: float,
) -> tuple[np.ndarray, np.ndarray, bool]:  # pragma: no cover - compiled
    """``chosen_run_sums`` for runs up to ``PAIRWISE_BLOCK + 1`` rows (else the third
    item is False and the sums are incomplete)."""
    n_rows = likes.shape[0]
    like_sums = np.zeros(runs.shape[0])
    comment_sums = np.zeros(runs.shape[0])
    like_buf = np.empty(PAIRWISE_BLOCK + 1)
    comment_buf = np.empty(PAIRWISE_BLOCK + 1)
    check = defined.shape[0] > 0
    for m in range(runs.shape[0]):
        g = runs[m]
        a = starts[g]
        b = starts[g + 1] if g + 1 < starts.shape[0] else n_rows
        if b - a > PAIRWISE_BLOCK + 1:
            return like_sums, comment_sums, False
        for i in range(a, b):
            k = (likes[i] > min_likes) & (comments[i] > min_comments)
            if check:
                k &= defined[i]
            like_buf[i - a] = likes[i] * (1.0 if k else 0.0)
            comment_buf[i - a] = comments[i] * (1.0 if k else 0.0)
        like_sums[m] = like_buf[0] + pairwise_block(like_buf, 1, b - a - 1)
        comment_sums[m] = comment_buf[0] + pairwise_block(comment_buf, 1, b - a - 1)
    return like_sums, comment_sums, True


def chosen_run_sums(
    likes: np.ndarray,
    comments: np.ndarray,
    defined: np.ndarray | None,
    starts: np.ndarray,
    runs: np.ndarray,
    min_likes: float,
    min_comments: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Likes and comments summed over the kept rows of the chosen runs (``runs`` (M,)
    indices into ``starts`` (G,), as ``run_sums`` takes them; the thresholds and
    ``defined`` as there): two (M,) float arrays, the bits of ``np.add.reduceat`` over
    the masked rows of each run. The holdings report reads its few held runs this way
    instead of gathering their rows."""
    mask = read_only(
        np.zeros(0, dtype=bool) if defined is None else np.ascontiguousarray(defined, dtype=bool)
    )
    lk, cm, st, chosen = floats(likes), floats(comments), ints(starts), ints(runs)
    if chosen.size == 0:
        return np.zeros(0), np.zeros(0)
    like_sums, comment_sums, fitted = _chosen_run_sums(
        lk, cm, mask, st, chosen, float(min_likes), float(min_comments)
    )
    if fitted:
        return like_sums, comment_sums
    bounds = np.append(st, lk.size)
    lo, lengths = bounds[chosen], bounds[chosen + 1] - bounds[chosen]
    offsets = np.cumsum(lengths) - lengths
    rows = np.repeat(lo - offsets, lengths) + np.arange(int(lengths.sum()))
    row_likes, row_comments = lk[rows], cm[rows]
    kept = (row_likes > min_likes) & (row_comments > min_comments)
    if defined is not None:
        kept &= mask[rows]
    return np.add.reduceat(row_likes * kept, offsets), np.add.reduceat(row_comments * kept, offsets)


@compiled
def _select(
    order: np.ndarray, selected: np.ndarray, holdable: np.ndarray, cash: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``select_holdings`` in one pass over the ranked rows."""
    rows, width = order.shape
    held = np.full((rows, width), cash, dtype=np.int64)
    held_mask = np.zeros((rows, width), dtype=np.bool_)
    rank = np.empty((rows, width), dtype=np.int64)
    skipped = np.empty((rows * width, 2), dtype=np.int64)
    n_skipped = 0
    for k in range(rows):
        front = 0
        for j in range(width):  # the holdings first, in rank order
            if selected[k, j] and holdable[k, j]:
                held[k, front] = order[k, j]
                held_mask[k, front] = True
                rank[k, front] = j + 1
                front += 1
            elif selected[k, j]:
                skipped[n_skipped, 0] = k
                skipped[n_skipped, 1] = order[k, j]
                n_skipped += 1
        for j in range(width):  # then the ranks of the rest, in order (cash padding)
            if not (selected[k, j] and holdable[k, j]):
                rank[k, front] = j + 1
                front += 1
    return held, held_mask, rank, skipped[:n_skipped].copy()


def select_holdings(
    order: np.ndarray, selected: np.ndarray, holdable: np.ndarray, cash: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The holdings of each segment from its ranked candidates.

    ``order`` (K, N) symbol indices best first; ``selected`` (K, N) the candidate has a
    signal; ``holdable`` (K, N) it has a close at the entry. Returns ``held`` (K, N) the
    selected and holdable symbols first, in rank order, padded with ``cash``;
    ``held_mask`` (K, N) True for those; ``rank`` (K, N) the 1-based rank of each
    position's candidate (the padding keeps the ranks of the others, in order);
    ``skipped`` (M, 2) (segment, symbol) selected but not holdable, by segment then rank.
    """
    return _select(
        ints(order),
        read_only(np.ascontiguousarray(selected, dtype=bool)),
        read_only(np.ascontiguousarray(holdable, dtype=bool)),
        int(cash),
    )


@compiled
def _cell_counts(
    row_symbol: np.ndarray, day_offset: np.ndarray, period_of_day: np.ndarray, n_periods: int, n_cells: int
) -> np.ndarray:  # pragma: no cover - compiled
    """(n_cells,) rows per (symbol, period) cell, cell = symbol * n_periods + period."""
    counts = np.zeros(n_cells, dtype=np.int64)
    for i in range(row_symbol.shape[0]):
        counts[row_symbol[i] * n_periods + period_of_day[day_offset[i]]] += 1
    return counts


@compiled
def _runs_of_cells(
    counts: np.ndarray, n_periods: int, n_symbols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """(start row, symbol, period offset, level cell) of each non-empty cell, in cell order."""
    n_runs = 0
    for c in range(counts.shape[0]):
        if counts[c] > 0:
            n_runs += 1
    starts = np.empty(n_runs, dtype=np.int64)
    symbol = np.empty(n_runs, dtype=np.int64)
    offset = np.empty(n_runs, dtype=np.int64)
    cell = np.empty(n_runs, dtype=np.int64)
    g = 0
    total = 0
    for c in range(counts.shape[0]):
        if counts[c] > 0:
            s = c // n_periods
            starts[g] = total
            symbol[g] = s
            offset[g] = c - s * n_periods
            cell[g] = offset[g] * n_symbols + s
            g += 1
        total += counts[c]
    return starts, symbol, offset, cell


def symbol_period_runs(
    row_symbol: np.ndarray, day_offset: np.ndarray, period_of_day: np.ndarray, n_periods: int, n_symbols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The runs of the rows sorted by (symbol, date) that share a (symbol, period), from the
    unsorted rows: ``row_symbol`` (rows,) symbol index, ``day_offset`` (rows,) index into
    ``period_of_day`` (days,) the period offset of each day (0 .. n_periods - 1).

    Returns, per non-empty (symbol, period) in symbol-major order (G,) int64 each: the
    first sorted row of the run, its symbol, its period offset and its cell in the
    (period, symbol) level matrix (``offset * n_symbols + symbol``). One counting pass
    over the rows and one over the cells."""
    # Row arrays in their narrow stored types (int32 symbols, int16 or int32 day offsets:
    # no 1M-row widening copy); two compiled signatures, both warmed up.
    days = day_offset if day_offset.dtype == np.int16 else day_offset.astype(np.int32, copy=False)
    counts = _cell_counts(
        read_only(np.ascontiguousarray(row_symbol, dtype=np.int32)),
        read_only(np.ascontiguousarray(days)),
        ints(period_of_day),
        int(n_periods),
        int(n_symbols) * int(n_periods),
    )
    return _runs_of_cells(read_only(counts), int(n_periods), int(n_symbols))


def warm_up() -> None:
    """Compile (or load from the cache) the kernels on tiny inputs."""
    ones = np.ones(3)
    run_sums(ones, ones, ones, None, np.array([0, 2]), 0.0, 0.0)
    run_sums(ones, ones, ones, np.ones(3, dtype=bool), np.array([0]), 0.0, 0.0)
    chosen_run_sums(ones, ones, None, np.array([0, 2]), np.array([1]), 0.0, 0.0)
    chosen_run_sums(ones, ones, np.ones(3, dtype=bool), np.array([0]), np.array([0]), 0.0, 0.0)
    for day_type in (np.int16, np.int32):
        symbol_period_runs(
            np.zeros(2, dtype=np.int32), np.zeros(2, dtype=day_type), np.zeros(1, dtype=np.int64), 1, 1
        )
    flags = np.ones((1, 2), dtype=bool)
    select_holdings(np.zeros((1, 2), dtype=np.int64), flags, flags, 2)
