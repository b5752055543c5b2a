"""``SharedWork``: configurations of a sweep batch that share the signal have their daily
values computed together (``group_values``: one pass reading the widest selection's
closes). The numbers must be the same bits as each configuration run alone, including
when a narrower selection falls back to cash where the wider one holds a symbol (then it
computes its own)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import StrategyParams, prepare
from engine.backtest import base
from engine.backtest.base import SharedWork, backtest_metrics_and_returns
from engine.backtest.nb import holds_prefix, uses_held_path
from tests.engine._frames import market, price_frame, random_market, sentiment_frame


def _bits(outcome) -> tuple[dict[str, str], bytes, bytes]:
    metrics, day_index, returns = outcome
    return {k: float(v).hex() for k, v in metrics.items()}, day_index.tobytes(), returns.tobytes()


def _alone_and_shared(prepared, batch: list[StrategyParams]) -> tuple[list, list, SharedWork]:
    alone = [_bits(backtest_metrics_and_returns(prepared, p)) for p in batch]
    shared = SharedWork.for_batch(prepared, batch)
    together = [_bits(backtest_metrics_and_returns(prepared, p, shared=shared)) for p in batch]
    return alone, together, shared


@pytest.fixture
def group_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[int]]]:
    """Each ``group_values`` call of ``SharedWork``: (the widest's width, the members' widths)."""
    calls: list[tuple[int, list[int]]] = []
    real = base.group_values

    def counted(prices, entry, end, wide, members):
        calls.append((wide.shape[1], [held.shape[1] for held, _ in members]))
        return real(prices, entry, end, wide, members)

    monkeypatch.setattr(base, "group_values", counted)
    return calls


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_shared_values_give_the_same_bits_as_each_configuration_alone(
    seed: int, group_calls: list[tuple[int, list[int]]]
) -> None:
    prepared = prepare(random_market(seed=seed, n_symbols=40))
    batch = [
        StrategyParams(top_n=n, min_likes=likes, weighting=w, cost_bps=cost)
        for n in (1, 2, 3, 5, 8)
        for likes in (0.0, 30.0)
        for w in ("equal", "inverse_volatility")
        for cost in (0.0, 10.0)
    ]
    alone, together, shared = _alone_and_shared(prepared, batch)
    assert together == alone
    # Sharing happened: one pass per signal setting, reading its widest top_n's closes,
    # for each selection and weighting (the costs share a simulation).
    assert len(group_calls) == 2
    assert all(wide == 8 and sorted(widths) == sorted([1, 2, 3, 5, 8] * 2) for wide, widths in group_calls)
    assert not shared.values and not shared.members  # each value taken by its simulation


def _fallback_market():
    """Twelve symbols; in January S00 has the best signal, S01 the second. S00 has no
    close on Monday 2022-01-31 (the entry): top 1 holds cash in February, top 3 holds
    S01 and S02 in the same first column."""
    symbols = [f"S{i:02d}" for i in range(12)]
    rows = [
        (day.strftime("%Y-%m-%d"), s, 10.0 * (12 - i), 100.0)
        for day in pd.date_range("2022-01-01", "2022-02-28")
        for i, s in enumerate(symbols)
    ]
    days = pd.bdate_range("2022-01-03", "2022-03-31")
    t = np.arange(len(days), dtype=float)
    columns = {s: 100.0 * (1.0 + 0.001 * (i + 1)) ** t for i, s in enumerate(symbols)}
    columns["S00"][days.get_loc(pd.Timestamp("2022-01-31"))] = np.nan
    columns["QQQ"] = 300.0 * 1.0005**t
    return market(sentiment_frame(rows), price_frame([d.strftime("%Y-%m-%d") for d in days], columns))


def test_a_narrow_selection_that_fell_back_to_cash_computes_its_own_values(
    group_calls: list[tuple[int, list[int]]],
) -> None:
    prepared = prepare(_fallback_market())
    batch = [StrategyParams(top_n=n, cost_bps=10.0) for n in (1, 3)]
    alone, together, shared = _alone_and_shared(prepared, batch)
    assert together == alone
    narrow = shared.plan(batch[0])
    weights = np.where(narrow.held_mask, 1.0, 0.0)
    weights[~narrow.held_mask.any(axis=1), 0] = 1.0  # a cash segment holds cash at 1
    assert (narrow.held[:, 0] == prepared.n_symbols).any()  # February in cash ...
    assert not holds_prefix(shared.plan(batch[1]).held, narrow.held, weights)  # ... not top 3's S01
    assert group_calls == [(3, [3])]  # so only the top 3 is valued in the shared pass


def test_a_member_that_fails_fails_in_its_own_turn_not_in_its_groups_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The group's values are computed at its first simulation; a member whose target
    weights raise there is skipped, and raises in its own turn: the first configuration
    gets its numbers, the failing one its error."""
    from engine.errors import ParameterError

    prepared = prepare(random_market(seed=3, n_symbols=40))
    batch = [StrategyParams(top_n=n, cost_bps=10.0) for n in (5, 3)]
    expected = _bits(backtest_metrics_and_returns(prepared, batch[0]))
    real = base._targets

    def failing(prepared_, params, plan, warnings):
        if params.top_n == 3:
            raise ParameterError("no weights for top 3")
        return real(prepared_, params, plan, warnings)

    monkeypatch.setattr(base, "_targets", failing)
    shared = SharedWork.for_batch(prepared, batch)
    assert _bits(backtest_metrics_and_returns(prepared, batch[0], shared=shared)) == expected
    with pytest.raises(ParameterError, match="top 3"):
        backtest_metrics_and_returns(prepared, batch[1], shared=shared)


def _cost_batch(top_ns: tuple[int, ...]) -> list[StrategyParams]:
    """A sweep's cost dimension: configurations that differ only in costs, benchmark and
    risk-free rate, for several selections and weightings (rows in grid order)."""
    return [
        StrategyParams(
            top_n=n,
            weighting=w,
            lookback_days=look,
            cost_bps=cost,
            benchmark=bench,
            risk_free=rf,
            min_likes=10.0,
        )
        for n in top_ns
        for w, look in (("equal", 63), ("equal", 21), ("inverse_volatility", 21), ("inverse_volatility", 42))
        for cost in (0.0, 2.0, 10.0, 50.0)
        for bench, rf in (("QQQ", 0.0), ("S001", 0.03))
    ]


@pytest.mark.parametrize(
    ("top_ns", "wide"),
    [((2, 3, 5), False), ((12, 20), True)],  # 42 price columns: 4 * top_n > 42 reads whole rows
)
def test_configurations_differing_in_costs_share_one_simulation_with_the_same_bits(
    top_ns: tuple[int, ...], wide: bool
) -> None:
    prepared = prepare(random_market(seed=5, n_symbols=40))
    assert all(uses_held_path(n, prepared.prices.shape[1]) != wide for n in top_ns)
    batch = _cost_batch(top_ns)
    alone, together, shared = _alone_and_shared(prepared, batch)
    assert together == alone
    # One simulation per selection and weighting (equal weights read no lookback): the
    # 16 cost, benchmark and risk-free settings of each share it.
    assert len(shared.grosses) == len(top_ns) * 3
    assert len({returns for _, _, returns in alone}) > len(shared.grosses)  # the costs show


def test_a_shared_simulation_is_not_changed_by_charging_costs() -> None:
    """Cost A, then B, then A again in one batch: A's bits both times, each as alone."""
    prepared = prepare(random_market(seed=6, n_symbols=40))
    for n in (3, 15):  # the held and the wide path
        batch = [StrategyParams(top_n=n, cost_bps=cost) for cost in (10.0, 40.0, 10.0)]
        alone, together, shared = _alone_and_shared(prepared, batch)
        assert together == alone
        assert together[0] == together[2] and together[0] != together[1]
        (gross,) = shared.grosses.values()
        assert not gross.returns.flags.writeable and not gross.turnover.flags.writeable


def test_max_sharpe_weights_read_the_risk_free_rate_so_they_do_not_share_across_it() -> None:
    prepared = prepare(random_market(seed=7, n_symbols=40))
    batch = [
        StrategyParams(top_n=4, weighting="max_sharpe", lookback_days=look, risk_free=rf, cost_bps=5.0)
        for look in (42, 63)
        for rf in (0.0, 0.5)
    ]
    alone, together, shared = _alone_and_shared(prepared, batch)
    assert together == alone
    assert alone[0][2] != alone[1][2]  # the risk-free rate moves the weights, hence the returns
    assert len(shared.grosses) == 4


def test_a_batch_computes_its_threshold_settings_together() -> None:
    """``SharedWork.for_batch`` has the run sums of the batch's mean threshold settings
    computed in one pass (``share_batch_sums``); each setting's are taken out by its
    aggregation, with the bits of the setting aggregated alone, so the store is empty
    when the batch is done. Settings already memoised, other aggregations and a lone
    setting are not computed; a new batch and ``clear_caches`` drop what is left."""
    from engine.backtest import plan as plan_module
    from engine.backtest.base import clear_caches

    prepared = prepare(random_market(seed=7, n_symbols=30))
    store = plan_module._SIGNALS.batch
    batch = [
        StrategyParams(top_n=n, min_likes=likes, min_comments=comments, aggregation=how)
        for n in (2, 4)
        for likes in (0.0, 20.0, 35.0)
        for comments in (0.0, 5.0)
        for how in ("mean", "median")
    ]
    clear_caches()
    alone = [_bits(backtest_metrics_and_returns(prepared, p)) for p in batch]
    clear_caches()
    memoised = batch[0]  # min_likes 0, min_comments 0, mean
    backtest_metrics_and_returns(prepared, memoised)
    shared = SharedWork.for_batch(prepared, batch)
    assert {key[1][2:] for key in store} == {
        (likes, comments, "mean") for likes in (0.0, 20.0, 35.0) for comments in (0.0, 5.0)
    } - {(0.0, 0.0, "mean")}
    together = [_bits(backtest_metrics_and_returns(prepared, p, shared=shared)) for p in batch]
    assert together == alone
    assert not store  # every setting taken: the batch's arrays are released

    clear_caches()
    SharedWork.for_batch(prepared, batch[:6])  # a new batch, never run: 0/0, 0/5, 20/0
    assert len(store) == 3
    SharedWork.for_batch(prepared, [StrategyParams(min_likes=1.0), StrategyParams(min_likes=1.0, top_n=3)])
    assert not store  # the earlier batch's sums dropped; one setting alone is not shared
    SharedWork.for_batch(prepared, [StrategyParams(min_likes=1.0), StrategyParams(min_likes=2.0)])
    assert len(store) == 2
    clear_caches()
    assert not store


def test_a_batch_held_by_a_larger_batch_keeps_its_sums_and_a_too_large_one_computes_none() -> None:
    """An in-process sweep shares its whole grid's run sums before its chunks run: a chunk
    whose settings are all in the store already keeps them (it would otherwise drop them
    and pass over the rows again), and takes the same bits. ``max_bytes`` below what a
    batch's sums take leaves the store as it was (the chunks share their own)."""
    from engine.backtest import plan as plan_module
    from engine.backtest.base import clear_caches
    from engine.backtest.plan import share_batch_sums

    prepared = prepare(random_market(seed=11, n_symbols=30))
    store = plan_module._SIGNALS.batch
    grid = [
        StrategyParams(top_n=n, min_likes=likes, min_comments=comments)
        for likes in (0.0, 20.0, 35.0)
        for comments in (0.0, 5.0)
        for n in (2, 4)
    ]
    clear_caches()
    alone = [_bits(backtest_metrics_and_returns(prepared, p)) for p in grid]
    clear_caches()
    share_batch_sums(prepared, grid)
    held = dict(store)
    assert len(held) == 6
    first_chunk, second_chunk = grid[:6], grid[6:]
    shared = SharedWork.for_batch(prepared, first_chunk)
    assert store == held  # kept: not recomputed, not dropped
    together = [_bits(backtest_metrics_and_returns(prepared, p, shared=shared)) for p in first_chunk]
    assert len(store) == 3  # the first chunk took its three settings
    shared = SharedWork.for_batch(prepared, second_chunk)
    together += [_bits(backtest_metrics_and_returns(prepared, p, shared=shared)) for p in second_chunk]
    assert together == alone and not store

    clear_caches()
    SharedWork.for_batch(prepared, grid[:4])  # a chunk's own sums: 0/0 and 0/5
    before = dict(store)
    share_batch_sums(prepared, grid, max_bytes=12 * 6 * prepared.groups["monthly"].starts.size - 1)
    assert store == before  # too large: nothing computed, nothing dropped
    share_batch_sums(prepared, grid, max_bytes=12 * 6 * prepared.groups["monthly"].starts.size)
    assert len(store) == 6
    SharedWork.for_batch(prepared, [])  # an empty chunk: an earlier batch's sums dropped
    assert not store
    clear_caches()
