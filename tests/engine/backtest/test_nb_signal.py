"""The compiled signal aggregation gives the bits of the numpy code it replaced
(``np.add.reduceat`` over the masked values, a running count of the kept rows), for
every run length (numpy's pairwise blocks below 8, 8 to 128, and the longer runs that
go back to numpy), sign, threshold and undefined rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.nb_signal import (
    MASK_ROWS,
    MAX_LEVELS,
    PAIRWISE_BLOCK,
    chosen_run_sums,
    equal_weights,
    flags_at,
    ranked_selection,
    run_levels,
    run_sums,
    run_sums_many,
    select_holdings,
    symbol_period_runs,
)


def _reference(values, likes, comments, defined, starts, min_likes, min_comments):
    keep = (likes > min_likes) & (comments > min_comments)
    if defined is not None:
        keep &= defined
    running = np.concatenate(([0], np.cumsum(keep)))
    counts = np.diff(running[np.append(starts, keep.size)])
    return np.add.reduceat(values * keep, starts), counts


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    longest=st.sampled_from([3, 9, 40, PAIRWISE_BLOCK + 1, PAIRWISE_BLOCK + 2, 300]),
    with_defined=st.booleans(),
    min_likes=st.sampled_from([0.0, 10.0, 60.0]),
    min_comments=st.sampled_from([0.0, 3.0]),
)
def test_run_sums_are_reduceats_bits(seed, longest, with_defined, min_likes, min_comments) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, longest + 1, rng.integers(1, 40))
    sizes[0] = longest  # the longest run is always there
    n = int(sizes.sum())
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    # Values over many magnitudes and both signs, so that any change of order shows.
    values = rng.normal(size=n) * 10.0 ** rng.uniform(-4, 4, n)
    values[rng.random(n) < 0.05] = 0.0
    values[rng.random(n) < 0.05] = -0.0  # a kept signed zero keeps its sign in numpy's sums
    likes = rng.integers(0, 100, n).astype(float)
    comments = rng.integers(0, 10, n).astype(float)
    defined = rng.random(n) > 0.1 if with_defined else None
    sums, counts = run_sums(values, likes, comments, defined, starts, min_likes, min_comments)
    expected_sums, expected_counts = _reference(
        values, likes, comments, defined, starts, min_likes, min_comments
    )
    np.testing.assert_array_equal(counts, expected_counts)
    assert counts.dtype == np.int64
    present = expected_counts > 0  # a run without a kept row is never read
    assert sums[present].tobytes() == expected_sums[present].tobytes()


def test_a_changed_order_would_show() -> None:
    """The test data can tell the orders apart: a left-to-right sum of the same run
    differs from numpy's pairwise one, so the bit test above can fail."""
    # Run of 9: the first row, then 8 summed in numpy's 8 lanes: (1e16 + 1) + (1 + 1) + ...
    # keeps the ones (1e16 + 6), while left to right each 1 is rounded away (1e16).
    values = np.array([0.0, 1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    ones = np.ones(values.size)
    sums, _ = run_sums(values, ones, ones, None, np.array([0]), 0.0, 0.0)
    left_to_right = 0.0
    for v in values:
        left_to_right += v
    assert sums[0] == np.add.reduceat(values, [0])[0]
    assert sums[0] != left_to_right


def test_signed_zero_runs_keep_their_sign() -> None:
    """numpy copies a one-row run and starts a short pairwise sum at -0.0: runs of kept
    -0.0 sum to -0.0 (the reviewer's case: a zero sentiment quoted as -0.0)."""
    values = np.array([-0.0, 1.0, -0.0, -0.0, 2.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0])
    starts = np.array([0, 1, 2, 4, 5])
    ones = np.ones(values.size)
    sums, _ = run_sums(values, ones, ones, None, starts, 0.0, 0.0)
    expected = np.add.reduceat(values, starts)
    assert sums.tobytes() == expected.tobytes()
    assert [np.signbit(x) for x in sums] == [True, False, True, False, True]
    like_sums, _ = chosen_run_sums(values, ones, None, starts, np.arange(5), -1.0, 0.0)
    assert like_sums.tobytes() == expected.tobytes()


def test_no_run_and_no_kept_row() -> None:
    empty = np.zeros(0)
    sums, counts = run_sums(empty, empty, empty, None, np.zeros(0, dtype=np.int64), 0.0, 0.0)
    assert sums.size == counts.size == 0
    ones = np.ones(4)
    sums, counts = run_sums(ones, ones, ones, None, np.array([0, 2]), 5.0, 0.0)
    np.testing.assert_array_equal(counts, [0, 0])


def _reference_selection(order, selected, holdable, cash):
    """The numpy code select_holdings replaced (a stable argsort moving holdings first)."""
    held_mask = selected & holdable
    seg, pos = np.nonzero(selected & ~holdable)
    skipped = np.column_stack((seg, order[seg, pos])).astype(np.int64, copy=False)
    rank = np.broadcast_to(np.arange(1, order.shape[1] + 1), order.shape).copy()
    front = np.argsort(~held_mask, axis=1, kind="stable")
    held = np.take_along_axis(order, front, axis=1)
    rank = np.take_along_axis(rank, front, axis=1)
    held_mask = np.take_along_axis(held_mask, front, axis=1)
    return np.where(held_mask, held, cash), held_mask, rank, skipped


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(0, 15),
    width=st.integers(1, 90),
    unselected=st.sampled_from([0.0, 0.2, 1.0]),
    unholdable=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
def test_select_holdings_is_the_stable_reordering(seed, rows, width, unselected, unholdable) -> None:
    rng = np.random.default_rng(seed)
    cash = 500
    order = np.argsort(rng.random((rows, cash)), axis=1)[:, :width]
    selected = rng.random((rows, width)) >= unselected
    holdable = rng.random((rows, width)) >= unholdable
    got = select_holdings(order, selected, holdable, cash)
    for ours, expected in zip(got, _reference_selection(order, selected, holdable, cash), strict=True):
        np.testing.assert_array_equal(ours, expected)
        assert ours.shape == expected.shape and ours.dtype == expected.dtype


def _reference_runs(row_symbol, day_offset, period_of_day, n_periods, n_sym):
    """The numpy code symbol_period_runs replaced (a lookup and a bincount)."""
    cell_of_row = row_symbol.astype(np.int64) * n_periods + period_of_day[day_offset]
    counts = np.bincount(cell_of_row, minlength=n_sym * n_periods)
    present = np.flatnonzero(counts)
    symbol, offset = np.divmod(present, n_periods)
    return (np.cumsum(counts) - counts)[present], symbol, offset, offset * n_sym + symbol


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_rows=st.integers(0, 400),
    n_sym=st.integers(1, 30),
    n_days=st.integers(1, 70),
    wide_days=st.booleans(),
)
def test_symbol_period_runs_are_the_bincount_runs(seed, n_rows, n_sym, n_days, wide_days) -> None:
    rng = np.random.default_rng(seed)
    period_of_day = np.sort(rng.integers(0, max(1, n_days // 7), n_days))
    period_of_day -= period_of_day[0]
    n_periods = int(period_of_day[-1]) + 1
    row_symbol = rng.integers(0, n_sym, n_rows).astype(np.int32)
    day_offset = rng.integers(0, n_days, n_rows).astype(np.int32 if wide_days else np.int16)
    got = symbol_period_runs(row_symbol, day_offset, period_of_day, n_periods, n_sym)
    expected = _reference_runs(row_symbol, day_offset, period_of_day, n_periods, n_sym)
    for ours, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == np.int64


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    longest=st.sampled_from([2, 9, 60, PAIRWISE_BLOCK + 1, 200]),
    with_defined=st.booleans(),
    min_likes=st.sampled_from([0.0, 30.0]),
)
def test_chosen_run_sums_are_reduceats_bits(seed, longest, with_defined, min_likes) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, longest + 1, rng.integers(1, 30))
    n = int(sizes.sum())
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    likes = rng.integers(0, 100, n) * 10.0 ** rng.uniform(-3, 6, n) * rng.choice([-1.0, 1.0], n)
    comments = rng.integers(0, 10, n) * 10.0 ** rng.uniform(-3, 6, n)
    defined = rng.random(n) > 0.1 if with_defined else None
    runs = rng.choice(len(sizes), rng.integers(0, len(sizes) + 1), replace=False)
    like_sums, comment_sums = chosen_run_sums(likes, comments, defined, starts, runs, min_likes, 2.0)
    keep = (likes > min_likes) & (comments > 2.0)
    if defined is not None:
        keep &= defined
    assert like_sums.tobytes() == np.add.reduceat(likes * keep, starts)[runs].tobytes()
    assert comment_sums.tobytes() == np.add.reduceat(comments * keep, starts)[runs].tobytes()


def _rows_for_many(rng, longest: int, with_defined: bool):
    """Runs of 1 to ``longest`` rows (one of each bound: 1 row and ``longest``); integer
    likes and comments, so thresholds fall on and between the row values; NaN likes and
    comments; undefined rows."""
    sizes = rng.integers(1, longest + 1, rng.integers(2, 50))
    sizes[0], sizes[-1] = longest, 1
    n = int(sizes.sum())
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    values = rng.normal(size=n) * 10.0 ** rng.uniform(-4, 4, n)
    values[rng.random(n) < 0.05] = -0.0
    likes = rng.integers(0, 60, n).astype(float)
    comments = rng.integers(0, 12, n).astype(float)
    likes[rng.random(n) < 0.05] = np.nan
    comments[rng.random(n) < 0.05] = np.nan
    defined = rng.random(n) > 0.1 if with_defined else None
    return values, likes, comments, defined, starts


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    longest=st.sampled_from(
        [1, 7, 23, MASK_ROWS, MASK_ROWS + 1, PAIRWISE_BLOCK + 1, PAIRWISE_BLOCK + 2, 300]
    ),
    with_defined=st.booleans(),
)
def test_run_sums_many_are_run_sums_bits_per_setting(seed, longest, with_defined) -> None:
    rng = np.random.default_rng(seed)
    values, likes, comments, defined, starts = _rows_for_many(rng, longest, with_defined)
    # Repeated settings and thresholds, on row values (10, 3) and between them (10.5),
    # below every row (-1) and above every row (1e9).
    thresholds = np.array(
        [(a, b) for a in (0.0, 10.0, 10.5, 30.0, -1.0, 1e9, 10.0) for b in (0.0, 3.0, 3.5, 11.0)]
        + [(10.0, 3.0), (59.0, 0.0)]
    )
    sums, counts = run_sums_many(values, likes, comments, defined, starts, thresholds)
    assert sums.shape == counts.shape == (len(thresholds), len(starts))  # one row per setting
    for t, (min_likes, min_comments) in enumerate(thresholds):
        alone_sums, alone_counts = run_sums(values, likes, comments, defined, starts, min_likes, min_comments)
        expected_sums, expected_counts = _reference(
            values, likes, comments, defined, starts, min_likes, min_comments
        )
        np.testing.assert_array_equal(counts[t], alone_counts)
        np.testing.assert_array_equal(counts[t], expected_counts)
        present = expected_counts > 0
        column = np.ascontiguousarray(sums[t])
        assert column[present].tobytes() == expected_sums[present].tobytes()
        if longest <= PAIRWISE_BLOCK + 1:  # run_sums's own kernel: every run, 0.0 when empty
            assert column.tobytes() == alone_sums.tobytes()


@pytest.mark.parametrize("seed", range(4))
def test_run_sums_many_with_hundreds_of_settings_shares_only_equal_row_sets(seed: int) -> None:
    """168 settings (14 likes x 12 comments thresholds; the kernel's table of distinct
    kept-row sets grows past its first 128 slots) over runs of up to MASK_ROWS rows with
    many distinct row sets each: every setting's sums and counts are its own run_sums'."""
    rng = np.random.default_rng(seed)
    values, likes, comments, defined, starts = _rows_for_many(rng, MASK_ROWS, seed % 2 == 0)
    thresholds = np.array([(a, b) for a in np.arange(-1.0, 60.0, 4.5) for b in np.arange(-1.0, 12.0, 1.1)])
    assert len(thresholds) == 168
    sums, counts = run_sums_many(values, likes, comments, defined, starts, thresholds)
    for t, (min_likes, min_comments) in enumerate(thresholds):
        alone_sums, alone_counts = run_sums(values, likes, comments, defined, starts, min_likes, min_comments)
        np.testing.assert_array_equal(counts[t], alone_counts)
        assert np.ascontiguousarray(sums[t]).tobytes() == alone_sums.tobytes()


def test_run_sums_many_with_many_thresholds_goes_to_run_sums() -> None:
    rng = np.random.default_rng(5)
    values, likes, comments, defined, starts = _rows_for_many(rng, 30, True)
    likes = rng.integers(0, 400, likes.size).astype(float)
    thresholds = np.column_stack((np.arange(MAX_LEVELS + 5, dtype=float), np.full(MAX_LEVELS + 5, 2.0)))
    sums, counts = run_sums_many(values, likes, comments, defined, starts, thresholds)
    for t in (0, 100, MAX_LEVELS + 4):
        alone_sums, alone_counts = run_sums(values, likes, comments, defined, starts, *thresholds[t])
        assert sums[t].tobytes() == alone_sums.tobytes()
        np.testing.assert_array_equal(counts[t], alone_counts)


def test_run_sums_many_of_no_run_or_setting() -> None:
    ones = np.ones(3)
    sums, counts = run_sums_many(ones, ones, ones, None, np.zeros(0, dtype=np.int64), np.zeros((2, 2)))
    assert sums.shape == counts.shape == (2, 0)
    sums, counts = run_sums_many(ones, ones, ones, None, np.array([0, 2]), np.zeros((0, 2)))
    assert sums.shape == counts.shape == (0, 2)


def test_run_levels_divides_and_places_the_kept_runs() -> None:
    sums = np.array([[3.0, 1.0], [7.0, 0.0], [0.1, 0.0]])
    counts = np.array([[2, 1], [0, 0], [3, 0]], dtype=np.int32)
    cell = np.array([4, 0, 2])
    key = np.array([7, 5, 6])
    level, first, last = run_levels(sums[:, 0], counts[:, 0], cell, key, 6)
    expected = np.full(6, np.nan)
    expected[[4, 2]] = np.array([3.0, 0.1]) / np.array([2, 3])
    assert level.tobytes() == expected.tobytes()
    assert (first, last) == (6, 7)  # the run of key 5 keeps no row
    level, first, last = run_levels(sums[:, 1], counts[:, 1].astype(np.int64), cell, key, 6)
    assert (first, last) == (7, 7) and level[4] == 1.0 and np.isnan(level[[0, 1, 2, 3, 5]]).all()
    assert run_levels(sums[:, 1], np.zeros(3, dtype=np.int64), cell, key, 6) is None


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(0, 7),
    width=st.integers(0, 9),
    missing=st.floats(0.0, 1.0),
)
def test_ranked_selection_is_the_numpy_gather_and_count(seed, rows, width, missing) -> None:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(rows, width))
    signal[rng.random((rows, width)) < missing] = np.nan
    signal[rng.random((rows, width)) < missing / 4] = np.inf  # not finite: not selected
    ranking = np.argsort(rng.random((rows, width)), axis=1)
    has_close = rng.random((12, width + 1)) < 0.7
    entry = rng.integers(0, 12, size=rows)
    holdable = has_close[entry[:, None], ranking]
    assert np.array_equal(flags_at(has_close, entry, ranking), holdable)
    selected, n_eligible = ranked_selection(signal, ranking, holdable)
    expected = np.isfinite(np.take_along_axis(signal, ranking, axis=1))
    assert selected.dtype == bool and np.array_equal(selected, expected)
    assert n_eligible.dtype == np.int64 and np.array_equal(n_eligible, (expected & holdable).sum(axis=1))


def test_flags_at_keeps_numpys_indexing_outside_the_matrix() -> None:
    flags = np.array([[True, False, True], [False, False, True]])
    # a negative row or column wraps, as numpy's fancy index does
    assert np.array_equal(flags_at(flags, np.array([-1]), np.array([[0, -1]])), [[False, True]])
    # a row past the end raises numpy's IndexError, not a read of other memory
    with pytest.raises(IndexError):
        flags_at(flags, np.array([2]), np.array([[0, 1]]))
    # (1, N) columns broadcast over every row, as the signal analysis passes them
    assert np.array_equal(
        flags_at(flags, np.array([0, 1]), np.array([[2, 0]])), [[True, True], [True, False]]
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 9), width=st.integers(0, 130), share=st.floats(0, 1)
)
def test_equal_weights_are_the_numpy_expressions_bits(seed, rows, width, share) -> None:
    mask = np.random.default_rng(seed).random((rows, width)) < share
    expected = np.where(mask, 1.0 / np.maximum(mask.sum(axis=1, keepdims=True), 1), 0.0)
    weights = equal_weights(mask)
    assert weights.dtype == np.float64 and weights.shape == mask.shape
    assert weights.tobytes() == expected.tobytes()  # 1/3 and 1/7 included: the same division
