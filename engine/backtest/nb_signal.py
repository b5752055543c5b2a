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
so the lanes see the same numbers. ``run_sums_many`` gives the same sums for the
threshold settings of a sweep batch at once (per run, a bitmask of the kept rows per
setting; settings keeping the same rows share one sum), and ``run_levels`` turns a
setting's sums into its level. ``tests/engine/backtest/test_nb_signal.py`` checks the
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


#: Rows of a run whose kept rows ``run_sums_many`` holds as one bitmask per threshold.
MASK_ROWS = 64
#: Distinct thresholds per column ``run_sums_many`` ranks rows against (uint8 levels).
MAX_LEVELS = 255
# Fibonacci hashing's multiplier (2**64 / the golden ratio): the top bits of mask x it.
_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)


@compiled
def _levels(
    column: np.ndarray, thresholds: np.ndarray, defined: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """(rows,) uint8: how many of the increasing ``thresholds`` each row's value is above
    (``column > threshold``, float64, as ``_masked_values`` compares). A NaN is above
    none. Rows with ``defined`` False (when given) get 0, so they pass no threshold.
    One branch-free pass over the rows (2.5 -> 1.9 ms for 8 thresholds over 1M rows
    against a vectorised pass per threshold)."""
    n = column.shape[0]
    n_thresholds = thresholds.shape[0]
    level = np.zeros(n, dtype=np.uint8)
    for i in range(n):  # one pass over the rows (a pass per threshold read them 8 times)
        value = column[i]
        above = np.uint8(0)
        for j in range(n_thresholds):
            above += np.uint8(value > thresholds[j])
        level[i] = above
    if defined.shape[0] > 0:
        for i in range(n):
            level[i] *= np.uint8(defined[i])
    return level


@compiled
def _popcount(mask: np.uint64) -> int:  # pragma: no cover - compiled
    """Set bits of a 64-bit mask (the SWAR count)."""
    m = mask - ((mask >> np.uint64(1)) & np.uint64(0x5555555555555555))
    m = (m & np.uint64(0x3333333333333333)) + ((m >> np.uint64(2)) & np.uint64(0x3333333333333333))
    m = (m + (m >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((m * np.uint64(0x0101010101010101)) >> np.uint64(56))


@compiled
def _run_sums_many(
    values: np.ndarray,
    like_level: np.ndarray,
    comment_level: np.ndarray,
    starts: np.ndarray,
    n_like: int,
    n_comment: int,
    setting_like: np.ndarray,
    setting_comment: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``run_sums_many`` for runs up to ``PAIRWISE_BLOCK + 1`` rows: (sums (T, G), kept
    counts (T, G) int32, the runs longer than that, left at 0 for numpy).

    Setting t keeps the rows with ``like_level > setting_like[t]`` and ``comment_level >
    setting_comment[t]`` (``_levels`` of the sorted distinct thresholds: the same
    booleans as comparing with the thresholds). In a run of up to ``MASK_ROWS`` rows,
    bit r of ``like_masks[j]`` says row a + r passes likes threshold j (built from one
    bitmask per level: each row sets one bit, then a suffix OR), so a setting's kept
    rows are one AND, and settings keeping the same rows share one sum. Longer runs take
    each setting in turn. Every sum is ``run_sums``'s arithmetic: ``value * (1.0 or
    0.0)`` per row, then ``x[0] + pairwise_block(x, 1, n - 1)``; no kept row sums to 0.0.
    The (T, G) layout keeps each setting's sums contiguous for ``run_levels``, which reads
    one setting at a time (from a (G, T) layout, a strided read of every run: 32 settings
    of 58,000 runs took 32 ms to place instead of 7)."""
    n_set = setting_like.shape[0]
    g_count = starts.shape[0]
    n_rows = values.shape[0]
    sums = np.zeros((n_set, g_count))
    counts = np.zeros((n_set, g_count), dtype=np.int32)
    long_runs = np.zeros(g_count, dtype=np.int64)
    n_long = 0
    buf = np.empty(PAIRWISE_BLOCK + 1)
    by_like = np.zeros(n_like + 1, dtype=np.uint64)  # rows of each level
    by_comment = np.zeros(n_comment + 1, dtype=np.uint64)
    like_masks = np.zeros(n_like, dtype=np.uint64)  # rows above each threshold
    comment_masks = np.zeros(n_comment, dtype=np.uint64)
    seen_mask = np.zeros(n_set, dtype=np.uint64)
    seen_sum = np.zeros(n_set)
    seen_count = np.zeros(n_set, dtype=np.int32)
    one = np.uint64(1)
    zero = np.uint64(0)
    # The distinct kept-row masks of a run, found by a hash table of at least twice the
    # settings' slots (a linear search of those seen cost ~20% of this kernel at 32
    # settings): slot -> index into seen_mask, valid when stamped with the run's number.
    n_slots = 128
    slot_bits = 7
    while n_slots < 2 * n_set:
        n_slots *= 2
        slot_bits += 1
    hash_shift = np.uint64(64 - slot_bits)
    slot_mask = np.int64(n_slots - 1)
    slot_generation = np.zeros(n_slots, dtype=np.int64)
    slot_seen = np.zeros(n_slots, dtype=np.int64)
    generation = 0
    for g in range(g_count):
        a = starts[g]
        b = starts[g + 1] if g + 1 < g_count else n_rows
        n = b - a
        if n > PAIRWISE_BLOCK + 1:
            long_runs[n_long] = g
            n_long += 1
            continue
        if n > MASK_ROWS:  # too long for a bitmask: each setting in turn, as run_sums
            for t in range(n_set):
                c = 0
                for i in range(a, b):
                    k = (like_level[i] > setting_like[t]) & (comment_level[i] > setting_comment[t])
                    c += k
                    buf[i - a] = values[i] * (1.0 if k else 0.0)
                counts[t, g] = c
                if c:
                    sums[t, g] = buf[0] + pairwise_block(buf, 1, n - 1)
            continue
        by_like[:] = zero
        by_comment[:] = zero
        for r in range(n):
            bit = one << np.uint64(r)
            by_like[like_level[a + r]] |= bit
            by_comment[comment_level[a + r]] |= bit
        above = zero
        for j in range(n_like - 1, -1, -1):
            above |= by_like[j + 1]
            like_masks[j] = above
        above = zero
        for j in range(n_comment - 1, -1, -1):
            above |= by_comment[j + 1]
            comment_masks[j] = above
        n_seen = 0
        generation += 1  # empties the table: a slot counts only if stamped in this run
        for t in range(n_set):
            mask = like_masks[setting_like[t]] & comment_masks[setting_comment[t]]
            h = np.int64((mask * _FIBONACCI) >> hash_shift)
            found = -1
            while slot_generation[h] == generation:  # linear probing; at most half full
                if seen_mask[slot_seen[h]] == mask:
                    found = slot_seen[h]
                    break
                h = (h + np.int64(1)) & slot_mask
            if found < 0:
                found = n_seen
                n_seen += 1
                slot_generation[h] = generation
                slot_seen[h] = found
                seen_mask[found] = mask
                seen_sum[found] = 0.0
                seen_count[found] = _popcount(mask)
                if mask != zero:
                    for r in range(n):
                        buf[r] = values[a + r] * np.float64((mask >> np.uint64(r)) & one)
                    seen_sum[found] = buf[0] + pairwise_block(buf, 1, n - 1)
            sums[t, g] = seen_sum[found]
            counts[t, g] = seen_count[found]
    return sums, counts, long_runs[:n_long].copy()


def run_sums_many(
    values: np.ndarray,
    likes: np.ndarray,
    comments: np.ndarray,
    defined: np.ndarray | None,
    starts: np.ndarray,
    thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``run_sums`` for T threshold settings at once: ``thresholds`` (T, 2) rows of
    (min_likes, min_comments); returns sums (T, G) float64 and kept counts (T, G) int32,
    row t the bits of ``run_sums(..., *thresholds[t])`` (setting-major, as ``run_levels``
    reads them; the counts int32, as a run's count never exceeds its rows).

    One compiled pass over the runs: each row is ranked once against the distinct
    thresholds (``_levels``), and the settings that keep the same rows of a run share
    its sum (a sweep chunk of 2 x 4 thresholds keeps ~5 distinct sets of rows per run
    of ~17). Runs over ``PAIRWISE_BLOCK + 1`` rows go to numpy, as in ``run_sums``;
    more than ``MAX_LEVELS`` distinct thresholds in a column, to ``run_sums`` itself."""
    grid = np.asarray(thresholds, dtype=np.float64).reshape(-1, 2)
    n_set, g_count = grid.shape[0], len(starts)
    like_levels, setting_like = np.unique(grid[:, 0], return_inverse=True)
    comment_levels, setting_comment = np.unique(grid[:, 1], return_inverse=True)
    if g_count == 0 or n_set == 0 or max(like_levels.size, comment_levels.size) > MAX_LEVELS:
        sums, counts = np.zeros((n_set, g_count)), np.zeros((n_set, g_count), dtype=np.int32)
        for t in range(n_set if g_count else 0):
            sums[t], counts[t] = run_sums(values, likes, comments, defined, starts, *grid[t])
        return sums, counts
    mask = read_only(
        np.zeros(0, dtype=bool) if defined is None else np.ascontiguousarray(defined, dtype=bool)
    )
    vals, lk, cm, st = floats(values), floats(likes), floats(comments), ints(starts)
    no_rows = read_only(np.zeros(0, dtype=bool))
    sums, counts, long_runs = _run_sums_many(
        vals,
        read_only(_levels(lk, floats(like_levels), mask)),
        read_only(_levels(cm, floats(comment_levels), no_rows)),
        st,
        like_levels.size,
        comment_levels.size,
        ints(setting_like),
        ints(setting_comment),
    )
    if long_runs.size:
        # Runs too long for the kernel's pairwise sum: numpy's own reduction of the same
        # masked values, on the long runs' rows only (reduceat reduces each run alone).
        rows, offsets = _rows_of_runs(st, vals.size, long_runs)
        row_values, row_likes, row_comments = vals[rows], lk[rows], cm[rows]
        for t in range(n_set):
            kept = (row_likes > grid[t, 0]) & (row_comments > grid[t, 1])
            if defined is not None:
                kept &= mask[rows]
            sums[t, long_runs] = np.add.reduceat(row_values * kept, offsets)
            counts[t, long_runs] = np.add.reduceat(kept, offsets, dtype=np.int64)
    return sums, counts


@compiled
def _run_levels(
    sums: np.ndarray, counts: np.ndarray, cell: np.ndarray, key: np.ndarray, size: int
) -> tuple[np.ndarray, bool, int, int]:  # pragma: no cover - compiled
    """``run_levels`` in one pass over the runs."""
    level = np.full(size, np.nan)
    found = False
    first = 0
    last = 0
    for g in range(cell.shape[0]):
        c = counts[g]
        if c > 0:
            level[cell[g]] = sums[g] / np.float64(c)
            k = key[g]
            if not found:
                first = k
                last = k
                found = True
            first = min(first, k)
            last = max(last, k)
    return level, found, first, last


def run_levels(
    sums: np.ndarray, counts: np.ndarray, cell: np.ndarray, key: np.ndarray, size: int
) -> tuple[np.ndarray, int, int] | None:
    """The mean level of one threshold setting from its run sums: ``sums`` (G,) float64
    and ``counts`` (G,) int32 or int64 (``run_sums``', or a row of ``run_sums_many``'s);
    ``cell`` (G,) each run's place in the flat (size,)
    level and ``key`` (G,) its period key. Returns (level (size,): sum / count where a run
    keeps a row, NaN elsewhere; the first and the last period key with a kept row), or
    None when no run keeps a row. The division is numpy's (float64, correctly rounded), so
    the level has the bits of ``sums[present] / counts[present]`` scattered into NaNs."""
    level, found, first, last = _run_levels(
        read_only(np.ascontiguousarray(sums, dtype=np.float64)),
        read_only(np.ascontiguousarray(counts, dtype=np.int32 if counts.dtype == np.int32 else np.int64)),
        ints(cell),
        ints(key),
        int(size),
    )
    return (level, int(first), int(last)) if found else None


def _rows_of_runs(starts: np.ndarray, n_rows: int, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the row indices of the runs ``runs`` (indices into ``starts`` (G,), the last run
    ending at ``n_rows``), concatenated in that order; the offset of each run's first row
    in them): what ``np.add.reduceat`` needs to reduce each chosen run alone."""
    bounds = np.append(starts, n_rows)
    lo, lengths = bounds[runs], bounds[runs + 1] - bounds[runs]
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(lo - offsets, lengths) + np.arange(int(lengths.sum())), offsets


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
    rows, offsets = _rows_of_runs(st, lk.size, chosen)
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
def _flags_at(
    flags: np.ndarray, rows: np.ndarray, columns: np.ndarray
) -> tuple[np.ndarray, bool]:  # pragma: no cover - compiled
    """``(flags[rows[:, None], columns], True)``, or ``(empty, False)`` when an index is
    outside ``flags`` (numpy then wraps a negative one or raises: the caller's fallback)."""
    n_rows, n_cols = flags.shape
    k_n, width = columns.shape
    out = np.empty((k_n, width), dtype=np.bool_)
    for k in range(k_n):
        r = rows[k]
        if r < 0 or r >= n_rows:
            return out, False
        for j in range(width):
            c = columns[k, j]
            if c < 0 or c >= n_cols:
                return out, False
            out[k, j] = flags[r, c]
    return out, True


def flags_at(flags: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``flags[rows[:, None], columns]``: (R, C) bool, (K,) and (K, N) int -> (K, N) bool,
    in one compiled pass (numpy's broadcast fancy index cost ~0.15 ms per 116 x 501
    ranking, paid once per signal setting of a sweep). Out-of-range or negative indices
    go to numpy itself, which wraps or raises as it always did."""
    row_index, column_index = np.asarray(rows), np.asarray(columns)
    if row_index.ndim != 1 or column_index.ndim != 2 or row_index.shape[0] != column_index.shape[0]:
        return np.asarray(flags[row_index[:, None], column_index], dtype=bool)
    out, inside = _flags_at(
        read_only(np.ascontiguousarray(flags, dtype=bool)), ints(row_index), ints(column_index)
    )
    return out if inside else np.asarray(flags[row_index[:, None], column_index], dtype=bool)


@compiled
def _ranked_selection(
    signal: np.ndarray, ranking: np.ndarray, holdable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``ranked_selection`` in one pass."""
    k_n, width = ranking.shape
    selected = np.empty((k_n, width), dtype=np.bool_)
    n_eligible = np.zeros(k_n, dtype=np.int64)
    for k in range(k_n):
        count = 0
        for j in range(width):
            has_signal = np.isfinite(signal[k, ranking[k, j]])
            selected[k, j] = has_signal
            if has_signal and holdable[k, j]:
                count += 1
        n_eligible[k] = count
    return selected, n_eligible


def ranked_selection(
    signal: np.ndarray, ranking: np.ndarray, holdable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(selected, n_eligible)`` of a ranking: ``selected`` (K, N) bool, the ranked
    candidate has a finite signal (``np.isfinite(np.take_along_axis(signal, ranking,
    axis=1))``), and ``n_eligible`` (K,) int64, the candidates both selected and
    ``holdable`` ((K, N) bool) per row (``(selected & holdable).sum(axis=1)``). ``signal``
    (K, S) float, ``ranking`` (K, N) column indices into it (a permutation of each row, as
    ``stable_argsort_rows`` gives; an index outside a row goes to numpy, which raises)."""
    order = np.asarray(ranking)
    values = np.asarray(signal)
    if order.ndim != 2 or values.ndim != 2 or order.shape[0] != values.shape[0]:
        raise ValueError("ranked_selection: signal (K, S) and ranking (K, N) need the same K")
    if order.size and (order.min() < 0 or order.max() >= values.shape[1]):
        selected = np.isfinite(np.take_along_axis(values, order, axis=1))
        return selected, (selected & holdable).sum(axis=1)
    return _ranked_selection(
        floats(values), ints(order), read_only(np.ascontiguousarray(holdable, dtype=bool))
    )


@compiled
def _equal_weights(mask: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """``equal_weights`` in one pass."""
    rows, width = mask.shape
    out = np.zeros((rows, width))
    for k in range(rows):
        count = 0
        for j in range(width):
            count += mask[k, j]
        weight = 1.0 / max(count, 1)
        for j in range(width):
            if mask[k, j]:
                out[k, j] = weight
    return out


def equal_weights(mask: np.ndarray) -> np.ndarray:
    """(K, N) float64: ``1 / (True values of the row)`` where ``mask`` (K, N) bool is True,
    0.0 elsewhere (a row without one is all 0.0): ``np.where(mask, 1.0 / np.maximum(
    mask.sum(axis=1, keepdims=True), 1), 0.0)``, the same division of 1.0 by the count,
    in one compiled pass instead of four numpy calls per configuration of a sweep."""
    return _equal_weights(read_only(np.ascontiguousarray(mask, dtype=bool)))


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
    run_sums_many(ones, ones, ones, None, np.array([0, 2]), np.zeros((2, 2)))
    cells = np.arange(2)
    for count_type in (np.int32, np.int64):
        run_levels(np.ones(2), np.ones(2, dtype=count_type), cells, cells, 2)
    run_sums_many(ones, ones, ones, np.ones(3, dtype=bool), np.array([0]), np.zeros((1, 2)))
    chosen_run_sums(ones, ones, None, np.array([0, 2]), np.array([1]), 0.0, 0.0)
    chosen_run_sums(ones, ones, np.ones(3, dtype=bool), np.array([0]), np.array([0]), 0.0, 0.0)
    for day_type in (np.int16, np.int32):
        symbol_period_runs(
            np.zeros(2, dtype=np.int32), np.zeros(2, dtype=day_type), np.zeros(1, dtype=np.int64), 1, 1
        )
    flags = np.ones((1, 2), dtype=bool)
    select_holdings(np.zeros((1, 2), dtype=np.int64), flags, flags, 2)
    flags_at(flags, np.zeros(1, dtype=np.int64), np.zeros((1, 2), dtype=np.int64))
    ranked_selection(np.ones((1, 2)), np.array([[1, 0]]), flags)
    equal_weights(flags)
