"""How many trials the Deflated Sharpe Ratio of a sweep counts: configurations, distinct
return series, effective independent trials (correlation clusters)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import engine
from engine.analytics import statistics as st
from engine.cli.main import main
from engine.data.demo import DemoProvider
from engine.data.providers import load_market_data
from engine.jobs import SerialExecutor


@pytest.fixture(scope="module")
def data() -> engine.MarketData:
    return load_market_data(DemoProvider(), benchmark="QQQ")


def test_identical_return_series_count_once(data: engine.MarketData) -> None:
    # Under equal weights lookback_days changes nothing: 3 x 2 configurations, 2 series.
    grid = {"lookback_days": (20, 60, 120), "top_n": (3, 8)}
    result = engine.run_sweep(data, grid, executor=SerialExecutor())
    assert (result.n_trials, result.n_distinct_trials) == (6, 2)
    assert 1 <= result.n_effective_trials <= result.n_distinct_trials
    trials = result.trials
    assert list(trials["row"]) == list(range(6))
    # Rows with the same top_n share one return series.
    by_top = {n: set(trials.loc[result.table["top_n"] == n, "return_series"]) for n in (3, 8)}
    assert all(len(v) == 1 for v in by_top.values()) and by_top[3] != by_top[8]
    assert result.deflated_sharpe is None or 0.0 <= result.deflated_sharpe <= 1.0


def test_return_series_equal_up_to_rounding_count_once() -> None:
    """constant-return-series kind (ties up to rounding), the DSR's trial counts: with
    top_n above the 24 symbols every configuration holds them all, and inverse-volatility
    weights summed over other thresholds differ in the last bits (returns 1.1e-16 apart).
    They counted as 2 distinct trials (the golden 96-configuration sweep had 7 such
    twins: 55 distinct series, 13 effective trials, where 48 and 5 are right)."""
    small = load_market_data(DemoProvider(seed=11, n_symbols=24, years=2), benchmark="QQQ")
    base = engine.StrategyParams(top_n=40, rebalance="weekly", weighting="inverse_volatility")
    result = engine.run_sweep(small, {"min_likes": (0.0, 20.0)}, base=base, keep_returns=True)
    twins = result.returns.to_numpy()
    assert not np.array_equal(twins[:, 0], twins[:, 1])
    assert np.abs(twins[:, 0] - twins[:, 1]).max() <= 1e-15
    assert (result.n_trials, result.n_distinct_trials, result.n_effective_trials) == (2, 1, 1)


def test_the_dsr_uses_the_effective_number_of_trials(data: engine.MarketData) -> None:
    grid = {"top_n": (3, 5, 8), "weighting": ("equal", "inverse_volatility")}
    result = engine.run_sweep(data, grid, executor=SerialExecutor())
    assert result.n_trials == 6 and result.n_distinct_trials == 6
    best = dict(zip(range(6), result.table.to_dict("records"), strict=True))[result.best]
    params = engine.StrategyParams(top_n=best["top_n"], weighting=best["weighting"])
    returns = engine.run_backtest(data, params).returns["portfolio"].to_numpy()
    # Rebuild the clusters as the sweep does and check its DSR against the formula.
    series = [
        engine.run_backtest(data, engine.StrategyParams(top_n=r["top_n"], weighting=r["weighting"]))
        .returns["portfolio"]
        .to_numpy()
        for r in result.table.to_dict("records")
    ]
    matrix = np.column_stack(series)
    labels = st.trial_clusters(matrix)
    assert int(labels.max()) + 1 == result.n_effective_trials
    expected = st.deflated_sharpe_of_returns(returns, list(st.cluster_sharpes(matrix, labels)))
    assert result.deflated_sharpe == pytest.approx(expected, rel=1e-9) or (
        result.deflated_sharpe is None and math.isnan(expected)
    )


def test_cli_prints_the_trial_counts() -> None:
    out = io.StringIO()
    code = main(
        ["sweep", "--grid", "lookback_days=20,60", "--grid", "top_n=3,5", "--executor", "serial"],
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    assert "trials: 4 configurations, 2 distinct return series" in out.getvalue()
