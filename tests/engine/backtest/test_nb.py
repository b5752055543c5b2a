"""The compiled daily-value kernels give ``np.einsum``'s bits (the numpy kernel they
replaced), for every width (the 8-wide blocks and the two-lane tail), sign and zero."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.nb import (
    _block_values,
    _held_values,
    gather_held_prices,
    net_returns,
    simulate,
    simulate_gross,
    uses_gather,
)


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


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("gathered", [False, True])
def test_net_returns_charge_each_cost_rate_on_one_unchanged_gross_simulation(
    wide: bool, gathered: bool
) -> None:
    """``simulate`` is ``net_returns(simulate_gross(...))``: the gross part is shared by
    every cost rate, read-only, and charging rate A, then B, then A gives A's bits again.
    The cost is charged on each segment's first day only."""
    rng = np.random.default_rng(11)
    n_days, n_cols = 60, 41  # the last column is cash
    prices = rng.lognormal(3.0, 0.3, (n_days, n_cols))
    prices[:, -1] = 1.0
    entry, end = _segments(rng, n_days, 5)
    width = 20 if wide else 4  # 4 * width > n_cols: whole price rows
    assert uses_gather(width, n_cols) != wide
    held = np.stack([rng.choice(n_cols - 1, width, replace=False) for _ in range(5)])
    weights = rng.dirichlet(np.ones(width), 5)
    block = gather_held_prices(prices, entry, end, held) if gathered else None
    gross = simulate_gross(prices, entry, end, held, weights, block)
    frozen = [a.tobytes() for a in (gross.returns, gross.turnover, gross.start_value, gross.start_previous)]
    first = net_returns(gross, 0.001)
    second = net_returns(gross, 0.004)
    again = net_returns(gross, 0.001)
    assert first.returns.tobytes() == again.returns.tobytes() != second.returns.tobytes()
    assert first.cost.tobytes() == again.cost.tobytes()
    assert [
        a.tobytes() for a in (gross.returns, gross.turnover, gross.start_value, gross.start_previous)
    ] == frozen
    with pytest.raises(ValueError, match="read-only"):
        gross.returns[0] = 0.0
    # simulate composes the two: same bits, with or without the gathered block.
    alone = simulate(prices, entry, end, held, weights, 0.004)
    assert alone.returns.tobytes() == second.returns.tobytes()
    assert np.array_equal(alone.day_index, np.arange(entry[0] + 1, end[-1] + 1))
    # At cost 0 the net returns are the gross ones; a cost changes only entry days.
    assert net_returns(gross, 0.0).returns.tobytes() == gross.returns.tobytes()
    starts = entry - entry[0]
    others = np.setdiff1d(np.arange(gross.returns.size), starts)
    assert second.returns[others].tobytes() == gross.returns[others].tobytes()
    np.testing.assert_allclose(
        second.returns[starts], (1.0 + gross.returns[starts]) * (1.0 - second.cost) - 1.0, rtol=0, atol=1e-14
    )
    assert np.all(second.cost == 0.004 * gross.turnover) and np.all(gross.turnover > 0.0)
