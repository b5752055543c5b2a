"""Robustness statistics: deflated Sharpe (the paper's example by hand), the stationary
bootstrap, the random-portfolio baseline and the report."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from scipy import stats

import engine
from engine.analytics import statistics as st
from engine.analytics.metrics import compute_metrics
from engine.backtest.base import run_prepared
from engine.backtest.prepare import prepare
from engine.data.demo import DemoProvider
from engine.data.providers import load_market_data
from engine.jobs import SerialExecutor
from engine.research import robustness as rb


@pytest.fixture(scope="module")
def data() -> engine.MarketData:
    return load_market_data(DemoProvider(seed=5, n_symbols=30, years=2), benchmark="QQQ")


# ----- deflated Sharpe ratio -------------------------------------------------------------


def test_deflated_sharpe_matches_the_papers_example_by_hand() -> None:
    """Bailey & López de Prado (2014), section 4: annualised SR 2.5 over 5 years of daily
    returns (T = 1250, 250 days a year), skew -3, kurtosis 10, selected out of N = 100
    trials whose annualised Sharpe ratios have variance 1/2. The paper finds
    E[max SR] = 0.1132 (per day) and DSR = 0.9004."""
    sr = 2.5 / math.sqrt(250)  # 0.158114
    variance = 0.5 / 250
    gamma = 0.5772156649015329
    # Z^-1(0.99) = 2.326348, Z^-1(1 - 1/(100 e)) = Z^-1(0.996321) = 2.680230
    sr0 = math.sqrt(variance) * ((1 - gamma) * 2.326348 + gamma * 2.680230)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    z = (sr - sr0) * math.sqrt(1250 - 1) / math.sqrt(1 - (-3) * sr + (10 - 1) / 4 * sr**2)
    assert z == pytest.approx(1.2838, abs=5e-4)
    assert st.expected_max_sharpe(100, variance) == pytest.approx(sr0, rel=2e-5)  # 6-digit quantiles
    dsr = st.deflated_sharpe_ratio(
        sr, trials_variance=variance, n_trials=100, n_obs=1250, skew=-3.0, kurtosis=10.0
    )
    assert dsr == pytest.approx(stats.norm.cdf(z), rel=1e-5)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


@pytest.mark.parametrize(
    ("sharpe", "threshold", "n_obs", "skew", "kurtosis", "expected"),
    [
        (0.1, 0.1, 500, 0.0, 3.0, 0.5),  # no edge over the benchmark: a coin flip
        (0.1, 0.0, 101, 0.0, 3.0, stats.norm.cdf(0.1 * 10 / math.sqrt(1 + 0.5 * 0.01))),
        (0.1, 0.0, 1, 0.0, 3.0, math.nan),  # one observation says nothing
    ],
)
def test_probabilistic_sharpe_ratio(
    sharpe: float, threshold: float, n_obs: int, skew: float, kurtosis: float, expected: float
) -> None:
    value = st.probabilistic_sharpe_ratio(sharpe, threshold, n_obs, skew, kurtosis)
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-9)


def test_expected_max_sharpe_grows_with_the_number_of_trials() -> None:
    assert st.expected_max_sharpe(1, 0.01) == 0.0
    assert st.expected_max_sharpe(50, 0.0) == 0.0
    values = [st.expected_max_sharpe(n, 0.01) for n in (2, 10, 100, 1000)]
    assert values == sorted(values) and values[0] > 0


def test_negative_skew_and_fat_tails_lower_the_psr() -> None:
    normal = st.probabilistic_sharpe_ratio(0.1, 0.0, 500, 0.0, 3.0)
    assert st.probabilistic_sharpe_ratio(0.1, 0.0, 500, -2.0, 9.0) < normal


# ----- stationary bootstrap --------------------------------------------------------------


def test_bootstrap_indices_shape_range_and_seed() -> None:
    a = st.stationary_bootstrap_indices(50, 20, 5.0, np.random.default_rng(1))
    b = st.stationary_bootstrap_indices(50, 20, 5.0, np.random.default_rng(1))
    assert a.shape == (20, 50) and a.min() >= 0 and a.max() < 50
    np.testing.assert_array_equal(a, b)


def test_bootstrap_blocks_have_the_requested_mean_length() -> None:
    index = st.stationary_bootstrap_indices(2000, 200, 8.0, np.random.default_rng(0))
    continues = index[:, 1:] == (index[:, :-1] + 1) % 2000
    # New blocks start with probability 1/8 (a random start may also continue by chance: 1/2000).
    assert 1.0 - continues.mean() == pytest.approx(1 / 8, abs=0.005)


def test_one_endless_block_is_the_sample_rotated() -> None:
    index = st.stationary_bootstrap_indices(30, 5, 1e12, np.random.default_rng(2))
    np.testing.assert_array_equal(index, (index[:, :1] + np.arange(30)) % 30)


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate() -> None:
    rng = np.random.default_rng(7)
    bench = rng.normal(0.0004, 0.01, 750)
    port = 0.8 * bench + rng.normal(0.0003, 0.006, 750)
    sharpe, excess = rb.bootstrap_intervals(port, bench, n_boot=400, seed=3)
    again = rb.bootstrap_intervals(port, bench, n_boot=400, seed=3)
    assert (sharpe, excess) == again
    assert sharpe.estimate == pytest.approx(compute_metrics(port)["sharpe"], rel=1e-12)

    def growth(r):
        return np.prod(1 + r) ** (252 / r.size) - 1

    assert excess.estimate == pytest.approx(growth(port) - growth(bench), rel=1e-10)
    assert sharpe.low < sharpe.estimate < sharpe.high and excess.low < excess.estimate < excess.high
    assert sharpe.level == 0.95


def test_paired_resampling_of_identical_series_has_no_excess() -> None:
    r = np.random.default_rng(0).normal(0.001, 0.01, 300)
    _, excess = rb.bootstrap_intervals(r, r.copy(), n_boot=200)
    assert (excess.estimate, excess.low, excess.high) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


# ----- random portfolios -----------------------------------------------------------------


class ReversedExecutor:
    """Runs the items last-first (like an out-of-order cluster) but returns them in order."""

    name = "reversed"

    def map(
        self, fn: Callable[[Any, Any], Any], items: Sequence[Any], *, shared: Any = None, **_: Any
    ) -> list[Any]:
        return [fn(shared, item) for item in reversed(items)][::-1]


def test_random_draws_do_not_depend_on_the_executor(data: engine.MarketData) -> None:
    prepared = prepare(data)
    params = engine.StrategyParams(top_n=3, min_likes=0.0)
    kwargs: dict[str, Any] = {
        "strategy_sharpe": 0.5,
        "strategy_total_return": 0.1,
        "n_random": 120,
        "seed": 4,
    }
    serial = rb.random_baseline(prepared, params, executor=SerialExecutor(), **kwargs)
    shuffled = rb.random_baseline(prepared, params, executor=ReversedExecutor(), **kwargs)
    assert serial == shuffled
    assert serial.n == 120 and len(set(serial.sharpes)) > 100  # really different portfolios


def test_drawing_every_eligible_symbol_is_the_universe_benchmark(data: engine.MarketData) -> None:
    """With top_n above the number of eligible symbols every draw holds all of them:
    exactly the backtest's equal-weight 'universe' series (same eligibility, same accounting)."""
    prepared = prepare(data)
    params = engine.StrategyParams(top_n=500, min_likes=0.0, cost_bps=10.0)
    universe = run_prepared(prepared, params).universe_metrics
    baseline = rb.random_baseline(
        prepared, params, strategy_sharpe=0.0, strategy_total_return=0.0, n_random=3
    )
    assert baseline.sharpes == pytest.approx([universe["sharpe"]] * 3, rel=1e-9)
    assert baseline.total_returns == pytest.approx([universe["total_return"]] * 3, rel=1e-9)


@pytest.mark.parametrize(
    ("value", "draws", "percentile", "p_value"),
    [
        (2.0, [1.0, 3.0, 0.0, 5.0], 50.0, 3 / 5),
        (1.0, [1.0, 1.0, 0.0, 0.0], 75.0, 3 / 5),  # ties count half; ">=" in the p-value
        (9.0, [1.0, 2.0, math.nan], 100.0, 1 / 3),  # NaN draws are left out
    ],
)
def test_rank(value: float, draws: list[float], percentile: float, p_value: float) -> None:
    assert rb._rank(value, np.array(draws)) == pytest.approx((percentile, p_value))


# ----- the report ------------------------------------------------------------------------


def test_report_is_consistent_and_json_ready(data: engine.MarketData) -> None:
    params = engine.StrategyParams(top_n=4, min_likes=0.0)
    report = engine.robustness_report(data, params, n_boot=300, n_random=60, seed=1)
    metrics = engine.run_backtest(data, params).metrics
    assert report.sharpe_ci.estimate == pytest.approx(metrics["sharpe"], rel=1e-12)
    assert report.random_portfolios.strategy_sharpe == metrics["sharpe"]
    assert report.random_portfolios.n == 60 and 0 < report.random_portfolios.p_value <= 1
    assert 0.0 <= report.probabilistic_sharpe <= 1.0
    plain = json.loads(json.dumps(report.to_dict()))
    assert plain["sharpe_ci"].keys() == {"estimate", "low", "high", "level"}
    assert len(plain["random_portfolios"]["sharpes"]) == 60
    assert (
        engine.robustness_report(data, params, n_boot=300, n_random=60, seed=1).to_dict()["sharpe_ci"]
        == plain["sharpe_ci"]
    )


def test_random_portfolios_use_the_strategys_own_weighting_lookback_and_costs(
    data: engine.MarketData,
) -> None:
    # A "random" draw of exactly the strategy's holdings is the strategy, bit for bit:
    # same weighting (inverse volatility over the same lookback), calendar and costs.
    params = engine.StrategyParams(
        top_n=4, min_likes=0.0, weighting="inverse_volatility", lookback_days=40, cost_bps=25.0
    )
    prepared = prepare(data)
    result = run_prepared(prepared, params)
    index = {s: i for i, s in enumerate(prepared.symbols)}
    selections = [
        np.sort([index[s] for s in result.holdings.loc[result.holdings["period_start"] == start, "symbol"]])
        for start in result.periods["period_start"]
    ]
    _dates, returns, _turnover = engine.selection_returns(prepared, params, selections)
    np.testing.assert_allclose(returns, result.returns["portfolio"].to_numpy(), rtol=0, atol=1e-14)
    report = engine.robustness_report(data, params, n_boot=50, n_random=10)
    assert not any("equally weighted" in note for note in report.notes)


@pytest.mark.parametrize("kwargs", [{"n_boot": 0}, {"n_random": 0}, {"block_length": 0.5}])
def test_report_rejects_bad_sizes(data: engine.MarketData, kwargs: dict[str, Any]) -> None:
    with pytest.raises(engine.ParameterError):
        engine.robustness_report(data, engine.StrategyParams(), **kwargs)
