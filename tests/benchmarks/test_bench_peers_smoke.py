"""Smoke test of benchmarks/bench_peers.py: its agreement checks on tiny data, no timings.

The plain numpy/pandas peers are always checked. vectorbt and bt are benchmark-only
dependencies (benchmarks/requirements-bench.txt, not requirements-dev.txt): without them
the peer checks skip with the reason.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from benchmarks import bench_peers as bp
from engine import StrategyParams, run_backtest

PEERS_MISSING = [name for name in ("vectorbt", "bt") if importlib.util.find_spec(name) is None]
needs_peers = pytest.mark.skipif(
    bool(PEERS_MISSING),
    reason=f"{' and '.join(PEERS_MISSING)} not installed (pip install -r benchmarks/requirements-bench.txt)",
)


@pytest.fixture(scope="module")
def market():
    # 40 symbols is the smallest market synthetic_market builds (25 list late, 15 delist).
    return bp.synthetic_market(seed=7, n_symbols=40, years=2)


def params(cost_bps: float) -> StrategyParams:
    return StrategyParams(top_n=10, rebalance="monthly", weighting="equal", cost_bps=cost_bps)


@pytest.mark.parametrize("cost_bps", [0.0, 10.0])
def test_plain_numpy_peers_agree_with_the_project(market, cost_bps: float) -> None:
    targets, expected = bp.given_targets(market, params(cost_bps))
    t = targets
    assert len(t.entry) >= 20 and t.held.shape[1] == 10
    loop = bp.numpy_loop(t.prices, t.entry, t.end, t.held, t.weights, t.rate)
    kernel = bp.engine_simulate()(t.prices, t.entry, t.end, t.held, t.weights, t.rate).returns
    assert bp.max_diff(kernel, expected.to_numpy()) == 0.0  # the kernel on the given targets
    assert bp.max_diff(loop, expected.to_numpy()) <= bp.EXACT_TOLERANCE
    reference = bp.reference_numpy(market, params(cost_bps))
    full = run_backtest(market, params(cost_bps)).returns["portfolio"]
    assert reference.index.equals(full.index)
    assert bp.max_diff(reference.to_numpy(), full.to_numpy()) <= bp.EXACT_TOLERANCE


def test_costs_move_the_returns_the_tolerance_must_catch(market) -> None:
    """The 10 bps cost is visible: a peer that ignored it would be outside every tolerance."""
    _, free = bp.given_targets(market, params(0.0))
    _, paid = bp.given_targets(market, params(10.0))
    assert bp.max_diff(free.to_numpy(), paid.to_numpy()) > 10 * bp.tolerance_of("vectorbt", 1e-3)


def test_a_disagreeing_peer_is_not_printed_as_a_win() -> None:
    assert bp.verdict(3e-4, 1e-4, "9.9x faster") == "disagrees (max diff 3.0e-04): not a win"
    assert bp.verdict(float("inf"), 1e-4, "9.9x faster").startswith("disagrees")
    assert bp.verdict(float("nan"), 1e-4, "9.9x faster").startswith("disagrees")
    assert bp.verdict(5e-5, 1e-4, "9.9x faster") == "9.9x faster"
    assert bp.tolerance_of("vectorbt", 0.0) == bp.tolerance_of("numpy loop", 1e-3) == bp.EXACT_TOLERANCE


def test_peer_returns_move_the_fee_to_the_next_day() -> None:
    # 100 -> entry close 110 paying a fee of 1.1 (value 108.9) -> 119.79 the next day.
    value = np.array([100.0, 108.9, 119.79])
    fees = np.array([0.0, 1.1, 0.0])
    got = bp.peer_returns(value, fees, 1, 3)
    np.testing.assert_allclose(got, [0.10, (1 - 0.01) * 1.10 - 1], rtol=0, atol=1e-15)


@needs_peers
@pytest.mark.parametrize("cost_bps", [0.0, 10.0])
def test_vectorbt_and_bt_agree_within_the_fee_convention(market, cost_bps: float) -> None:
    p = params(cost_bps)
    targets, expected = bp.given_targets(market, p)
    diffs = bp.check_w1(targets, expected.to_numpy(), bp.engine_simulate())
    for name in ("vectorbt", "bt", "numpy loop", "project kernel"):
        assert diffs[name] <= bp.tolerance_of(name, p.cost_bps / 1e4), (name, diffs[name])
    full = run_backtest(market, p).returns["portfolio"]
    for name, diff in bp.check_w2(market, p, full).items():
        assert diff <= bp.tolerance_of(name, p.cost_bps / 1e4), (name, diff)


@needs_peers
def test_vectorbt_sweep_columns_agree_with_the_project(market) -> None:
    base = params(10.0)
    configs = bp.grid_configurations({"top_n": (5, 10), "min_likes": (0.0, 50.0), "min_comments": (5.0,)})
    run = bp.vbt_sweep(market, configs, base.cost_bps / 1e4)
    assert run.value.shape[1] == len(configs) == 4
    assert bp.check_w3(market, base, configs, run) <= bp.tolerance_of("vectorbt", 1e-3)
    totals = [run_backtest(market, base.replace(**c)).metrics["total_return"] for c in configs]
    np.testing.assert_allclose(run.total_return(), totals, rtol=0, atol=1e-3)
