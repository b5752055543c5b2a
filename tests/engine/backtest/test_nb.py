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
    group_values,
    holds_prefix,
    net_returns,
    simulate,
    simulate_gross,
    uses_held_path,
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
    # The wide path: every column of the price rows themselves, in column order.
    dense = rng.random((n_seg, n_cols)) / 50
    all_cols = np.broadcast_to(np.arange(n_cols), (n_seg, n_cols))
    assert (
        _block_values(prices[entry[0] + 1 :], entry, end, dense).tobytes()
        == _einsum_values(prices, entry, end, all_cols, dense).tobytes()
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.integers(1, 140),
    n_seg=st.integers(1, 6),
    signed=st.booleans(),
)
def test_group_values_are_each_members_einsum_bits(seed: int, width: int, n_seg: int, signed: bool) -> None:
    """``group_values``: each member's row is ``np.einsum`` of its own closes and shares
    (``weights / entry close``, numpy's division), for every prefix width of the widest
    selection, zero and negative closes, and a member that holds another column where
    it has no weight (it adds 0 times the widest's close there: the same bits)."""
    rng = np.random.default_rng(seed)
    n_days, n_cols = 40, 160
    prices = rng.lognormal(3.0, 1.0, (n_days, n_cols))
    prices[rng.random(prices.shape) < 0.1] = 0.0  # before a listing
    if signed:
        prices *= rng.choice([-1.0, 1.0], prices.shape)
    entry, end = _segments(rng, n_days, n_seg)
    wide = rng.integers(0, n_cols, (n_seg, width))
    widths = sorted({width, *rng.integers(1, width + 1, 3).tolist()})
    members = []
    for n in widths:
        weights = rng.random((n_seg, n)) / n
        weights[rng.random(weights.shape) < 0.2] = 0.0
        if signed:
            weights *= rng.choice([-1.0, 1.0], weights.shape)
        members.append((wide[:, :n].copy(), weights))
    if not signed:  # another column where a member has no weight (positive closes: +0.0 either way)
        held, weights = members[0][0].copy(), members[0][1].copy()
        weights[:, 0], held[:, 0] = 0.0, (held[:, 0] + 1) % n_cols
        prices[prices == 0.0] = 1.0  # 0 / a zero close is NaN, a close apart from the widest's
        members.append((held, weights))
    rows = group_values(prices, entry, end, wide, members)
    assert rows.shape == (len(members), end[-1] - entry[0])
    with np.errstate(all="ignore"):
        for (held, weights), row in zip(members, rows, strict=True):
            assert holds_prefix(wide, held, weights)
            shares = weights / prices[entry[:, None], held]
            assert row.tobytes() == _einsum_values(prices, entry, end, held, shares).tobytes()


def test_holds_prefix_is_the_numpy_rule() -> None:
    wide = np.array([[1, 2, 3], [4, 5, 6]])
    weights = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert holds_prefix(wide, wide[:, :2], weights)
    other = wide[:, :2].copy()
    other[1, 1] = 9
    assert not holds_prefix(wide, other, weights)
    weights[1, 1] = 0.0  # no weight there: it adds 0 whatever it holds
    assert holds_prefix(wide, other, weights)
    weights[1, 1] = np.nan
    assert not holds_prefix(wide, other, weights)
    assert not holds_prefix(wide[:1], wide[:, :2], weights)  # other segments
    assert not holds_prefix(wide[:, :1], wide[:, :2], weights)  # wider than the widest
    assert not holds_prefix(wide, wide[:, :2], weights[:, :1])  # weights of another shape


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
    cost here), on the held and the wide path (``simulate`` asks the exact
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
@pytest.mark.parametrize("given_value", [False, True])
def test_net_returns_charge_each_cost_rate_on_one_unchanged_gross_simulation(
    wide: bool, given_value: bool
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
    assert uses_held_path(width, n_cols) != wide
    held = np.stack([rng.choice(n_cols - 1, width, replace=False) for _ in range(5)])
    weights = rng.dirichlet(np.ones(width), 5)
    value = group_values(prices, entry, end, held, [(held, weights)])[0] if given_value else None
    gross = simulate_gross(prices, entry, end, held, weights, value)
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
    # simulate composes the two: same bits, with or without the given daily value.
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


def _numpy_held_gross(prices, entry, end, held, weights):
    """The held path of ``simulate_gross`` as numpy steps (the code ``_held_gross``
    replaced, kept here as its reference; its tail is ``nb._gross``, which the wide path
    still runs): (returns, turnover, has_day, starts, start_value, start_previous)."""
    from engine.backtest import nb

    n_seg, n_cols = len(entry), prices.shape[1]
    entry_prices = nb._closes_at(prices, entry, held)
    shares = weights / entry_prices
    flat = (np.arange(n_seg)[:, None] * n_cols + held).ravel()
    target = np.bincount(flat, weights=weights.ravel(), minlength=n_seg * n_cols).reshape(n_seg, n_cols)
    lengths = end - entry
    value = _held_values(prices, entry, end, held, shares)
    drifted = nb._closes_at(prices, end, held) * shares / nb._end_values(value, lengths)[:, None]
    drift = np.bincount(flat, weights=drifted.ravel(), minlength=n_seg * n_cols).reshape(n_seg, n_cols)

    def moved(k: np.ndarray) -> np.ndarray:
        following = nb._closes_at(prices, entry[k] + 1, held[k])
        return ((following != entry_prices[k]) & (weights[k] != 0.0)).any(axis=1)

    still = nb._still_first_days(value, entry, lengths, moved)
    gross = nb._gross(int(entry[0]) + 1, value, lengths, target, drift, still)  # the wide path's numpy tail
    return gross.returns, gross.turnover, gross.has_day, gross.starts, gross.start_value, gross.start_previous


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.integers(1, 40),
    n_seg=st.integers(1, 6),
    n_cols=st.integers(5, 300),
    last_without_day=st.booleans(),
)
def test_the_compiled_held_path_gives_the_numpy_steps_bits(
    seed: int, width: int, n_seg: int, n_cols: int, last_without_day: bool
) -> None:
    """``simulate_gross`` on the held columns (one compiled call, ``_held_gross``) gives
    the bits of the numpy steps it replaced: returns, turnover (per-segment sums over
    every column in numpy's pairwise order), the first days and what they are measured
    against; with and without a daily value from ``group_values`` (of a wider selection
    whose first columns are these); repeated columns (cash padding), zero
    weights, segments whose first day moves nothing, and an entry at the last day."""
    rng = np.random.default_rng(seed)
    n_days = 30
    width = min(width, n_cols // 4)  # the held path (``uses_held_path``)
    prices = rng.lognormal(3.0, 0.4, (n_days, n_cols))
    prices[:, -1] = 1.0
    entry, end = _segments(rng, n_days, n_seg)
    if last_without_day:
        entry, end = np.append(entry, end[-1]), np.append(end, end[-1])
    k_count = len(entry)
    held = rng.integers(0, n_cols, (k_count, width))
    held[rng.random(held.shape) < 0.2] = n_cols - 1  # cash padding, repeated
    weights = rng.dirichlet(np.ones(width), k_count)
    weights[rng.random(weights.shape) < 0.15] = 0.0
    for k in range(k_count):
        if rng.random() < 0.3 and entry[k] + 1 < n_days:  # nothing moves on the first day
            prices[entry[k] + 1, held[k]] = prices[entry[k], held[k]]
    assert uses_held_path(width, n_cols)
    wide = np.concatenate([held, held[:, :1]], axis=1)
    value = group_values(prices, entry, end, wide, [(held, weights)])[0]
    expected = _numpy_held_gross(prices, entry, end, held, weights)
    read_only = value.copy()
    read_only.flags.writeable = False  # as a caller may hold it: copied for the kernel
    for shared_value in (None, value, read_only):
        got = simulate_gross(prices, entry, end, held, weights, shared_value)
        fields = (got.returns, got.turnover, got.has_day, got.starts, got.start_value, got.start_previous)
        for name, a, b in zip(
            ("returns", "turnover", "has_day", "starts", "value", "previous"), fields, expected, strict=True
        ):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name


def test_a_zero_entry_close_gives_the_numpy_steps_infinities_not_an_error() -> None:
    """A zero close at an entry (a price before a listing) divides by zero as numpy does
    (infinite shares and values), instead of raising ZeroDivisionError in the kernel."""
    prices = np.array([[0.0, 2.0, 1.0], [1.0, 2.0, 1.0], [2.0, 2.0, 1.0], [3.0, 2.0, 1.0]])
    entry, end = np.array([0, 2]), np.array([2, 3])
    held, weights = np.array([[0], [1]]), np.array([[1.0], [1.0]])
    with np.errstate(all="ignore"):
        expected = _numpy_held_gross(prices, entry, end, held, weights)
    got = simulate_gross(prices, entry, end, held, weights)
    np.testing.assert_array_equal(got.returns, expected[0])
    np.testing.assert_array_equal(got.turnover, expected[1])
    assert not np.isfinite(got.returns[0])
