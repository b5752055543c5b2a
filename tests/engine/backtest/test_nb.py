"""The compiled daily-value kernels give ``np.einsum``'s bits (the numpy kernel they
replaced), for every width (the 8-wide blocks and the two-lane tail), sign and zero."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.nb import _block_values, _held_values, gather_held_prices, simulate


def _segments(rng: np.random.Generator, n_days: int, n_seg: int) -> tuple[np.ndarray, np.ndarray]:
    cuts = np.sort(rng.choice(np.arange(1, n_days - 1), size=n_seg - 1, replace=False))
    bounds = np.concatenate(([0], cuts, [n_days - 1]))
    return bounds[:-1].astype(np.int64), bounds[1:].astype(np.int64)


def _einsum_values(prices, entry, end, held, shares) -> np.ndarray:
    lengths = end - entry
    days = np.arange(entry[0] + 1, end[-1] + 1)
    gathered = prices[days[:, None], np.repeat(held, lengths, axis=0)]
    return np.einsum("dn,dn->d", gathered, np.repeat(shares, lengths, axis=0))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.integers(1, 140),
    n_seg=st.integers(1, 6),
    signed=st.booleans(),
)
def test_held_values_are_einsums_bits(seed: int, width: int, n_seg: int, signed: bool) -> None:
    rng = np.random.default_rng(seed)
    n_days, n_cols = 40, 160
    prices = rng.lognormal(3.0, 1.0, (n_days, n_cols))
    prices[rng.random(prices.shape) < 0.1] = 0.0  # before a listing
    entry, end = _segments(rng, n_days, n_seg)
    held = rng.integers(0, n_cols, (n_seg, width))
    shares = rng.random((n_seg, width)) / 50
    shares[rng.random(shares.shape) < 0.2] = 0.0  # cash padding
    if signed:
        prices *= rng.choice([-1.0, 1.0], prices.shape)
        shares *= rng.choice([-1.0, 1.0], shares.shape)
    expected = _einsum_values(prices, entry, end, held, shares).tobytes()
    assert _held_values(prices, entry, end, held, shares).tobytes() == expected
    # A block gathered for a wider selection whose first columns are these.
    extra = rng.integers(0, n_cols, (n_seg, 7))
    block = gather_held_prices(prices, entry, end, np.concatenate([held, extra], axis=1))
    assert _block_values(block, entry, end, shares).tobytes() == expected
    # The wide path: every column of the price rows themselves, in column order.
    dense = rng.random((n_seg, n_cols)) / 50
    all_cols = np.broadcast_to(np.arange(n_cols), (n_seg, n_cols))
    assert (
        _block_values(prices[entry[0] + 1 :], entry, end, dense).tobytes()
        == _einsum_values(prices, entry, end, all_cols, dense).tobytes()
    )


def test_gather_reads_the_held_columns_of_each_segment() -> None:
    prices = np.arange(50.0).reshape(10, 5)
    entry, end = np.array([0, 4]), np.array([4, 9])
    held = np.array([[1, 3], [4, 0]])
    block = gather_held_prices(prices, entry, end, held)
    days = np.arange(1, 10)
    assert block.tolist() == [
        [prices[d, 1], prices[d, 3]] if d <= 4 else [prices[d, 4], prices[d, 0]] for d in days
    ]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.sampled_from([1, 3, 8, 50, 120]),
    n_seg=st.integers(1, 6),
    flat_share=st.floats(0.0, 1.0),
)
def test_a_first_day_without_a_move_returns_exactly_0(
    seed: int, width: int, n_seg: int, flat_share: float
) -> None:
    """Every segment whose first day moves no held close returns exactly 0 that day (no
    cost here), on the gathered and the wide path (``simulate`` asks the exact
    question only of the segments whose first-day value is within ``NEAR_ONE`` of 1: the
    answer must be the exhaustive one's), and every other segment's first day keeps the
    value against 1."""
    rng = np.random.default_rng(seed)
    n_days, n_cols = 40, 161  # the last column is cash
    prices = rng.lognormal(3.0, 0.3, (n_days, n_cols))
    prices[:, -1] = 1.0
    entry, end = _segments(rng, n_days, n_seg)
    held = np.stack([rng.choice(n_cols - 1, width, replace=False) for _ in range(n_seg)])
    weights = rng.dirichlet(np.ones(width), n_seg)
    weights[rng.random(weights.shape) < 0.1] = 0.0
    weights /= np.where(weights.sum(axis=1, keepdims=True) > 0, weights.sum(axis=1, keepdims=True), 1.0)
    empty = weights.sum(axis=1) == 0
    held[empty, 0], weights[empty, 0] = n_cols - 1, 1.0  # all cash
    for k in range(n_seg):
        if rng.random() < flat_share:  # no held close moves on the first day
            prices[entry[k] + 1, held[k]] = prices[entry[k], held[k]]
    rate = 0.0
    sim = simulate(prices, entry, end, held, weights, rate)
    first_day = entry - entry[0]
    flat = ~(
        (prices[entry + 1][np.arange(n_seg)[:, None], held] != prices[entry][np.arange(n_seg)[:, None], held])
        & (weights != 0)
    ).any(axis=1)
    assert np.all(sim.returns[first_day[flat]] == 0.0)
    entry_value = (
        weights
        / prices[entry][np.arange(n_seg)[:, None], held]
        * prices[entry + 1][np.arange(n_seg)[:, None], held]
    ).sum(axis=1)
    np.testing.assert_allclose(sim.returns[first_day[~flat]], entry_value[~flat] - 1, rtol=0, atol=1e-12)
    # The wide path (every column dense) decides the same segments.
    wide = simulate(
        prices,
        entry,
        end,
        np.broadcast_to(np.arange(n_cols), (n_seg, n_cols)).copy(),
        _dense(held, weights, n_cols),
        rate,
    )
    assert np.all(wide.returns[first_day[flat]] == 0.0)


def _dense(held: np.ndarray, weights: np.ndarray, n_cols: int) -> np.ndarray:
    out = np.zeros((held.shape[0], n_cols))
    np.put_along_axis(out, held, weights, axis=1)
    return out
