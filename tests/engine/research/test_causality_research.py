"""Causality of the research entry points (the backtest's own invariants are in
tests/engine/backtest/test_causality.py):

- signal analysis: cutting every input (prices AND sentiment rows) after any day D leaves
  every period whose entry is on or before D with the same formation end, entry,
  eligible symbols, signals and holdable observations, and every forward return that
  ends on or before D unchanged, with the IC, quantile labels, quantile returns, spread
  and top-quantile turnover of every period that ends by D (any number of quantiles);
- walk-forward: a fold's winner is decided from its in-sample rows only: scrambling every
  row from its out-of-sample start on changes no winner up to that fold;
- sweep: cutting every input after D leaves every configuration's daily returns up to D
  unchanged (every frequency, weighting, lag, transform and aggregation), and each row's
  metrics are those of the configuration's own backtest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    AGGREGATIONS,
    METRIC_NAMES,
    REBALANCES,
    SIGNAL_TRANSFORMS,
    WEIGHTINGS,
    SignalAnalysisSettings,
    StrategyParams,
    WalkForwardSettings,
    analyze_signal,
    prepare,
    run_prepared,
    run_sweep,
    walk_forward,
)
from engine.research.walk_forward import fold_bounds
from tests.engine._frames import market
from tests.engine.backtest.test_causality import _random_inputs

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    rebalance=st.sampled_from(REBALANCES),
    lag=st.integers(0, 2),
    signal=st.sampled_from(["engagement_ratio", "sentiment"]),
    transform=st.sampled_from(SIGNAL_TRANSFORMS),
    aggregation=st.sampled_from(AGGREGATIONS),
    cut=st.floats(0.2, 0.95),
    on_entry=st.booleans(),
    quantiles=st.integers(2, 6),
)
def test_signal_analysis_cut_after_any_day_changes_nothing_before_it(
    seed: int,
    rebalance: str,
    lag: int,
    signal: str,
    transform: str,
    aggregation: str,
    cut: float,
    on_entry: bool,
    quantiles: int,
) -> None:
    params = StrategyParams(
        rebalance=rebalance,
        lag_days=lag,
        signal=signal,
        signal_transform=transform,
        aggregation=aggregation,
        lookback_days=15,
        min_likes=0.0,
        min_comments=0.0,
    )
    sentiment, prices = _random_inputs(seed, 110)
    options = SignalAnalysisSettings(quantiles=quantiles, horizons=1)
    full = analyze_signal(prepare(market(sentiment, prices)), params, settings=options)
    day = prices.index[int(cut * (len(prices) - 1))]
    entries = full.periods["entry_date"]
    entries = entries[entries < prices.index[-1]]
    if on_entry and len(entries):
        day = entries.iloc[int(cut * (len(entries) - 1))]
    part = analyze_signal(
        prepare(market(sentiment[sentiment["date"] <= day], prices.loc[:day])), params, settings=options
    )
    upto = full.periods[full.periods["entry_date"] <= day].reset_index(drop=True)
    mine = part.periods.reset_index(drop=True)
    assert (full.periods["formation_end"] <= full.periods["entry_date"]).all()
    keep = ["formation_end", "entry_date", "n_eligible", "n_observations"]
    pd.testing.assert_frame_equal(upto[keep], mine[keep])
    # Forward returns of the periods that end by D: the same; later ones are not known yet.
    done = upto["next_entry_date"] <= day
    # A period that ends by D is complete in the cut data too; the cut data's incomplete
    # last period (the data end before its next entry close) has no IC (breaker 12, F8).
    assert mine.loc[done, "complete"].all()
    assert mine.loc[~mine["complete"], "ic"].isna().all()
    pd.testing.assert_series_equal(upto.loc[done, "next_entry_date"], mine.loc[done, "next_entry_date"])
    obs_full = full.observations[full.observations["entry_date"] <= day].reset_index(drop=True)
    obs_part = part.observations.reset_index(drop=True)
    pd.testing.assert_frame_equal(
        obs_full[["entry_date", "symbol", "signal"]], obs_part[["entry_date", "symbol", "signal"]]
    )
    ended = obs_full["entry_date"].isin(upto.loc[done, "entry_date"]).to_numpy()
    np.testing.assert_array_equal(
        obs_full.loc[ended, "forward_return"].to_numpy(), obs_part.loc[ended, "forward_return"].to_numpy()
    )
    np.testing.assert_array_equal(upto.loc[done, "ic"].to_numpy(), mine.loc[done, "ic"].to_numpy())
    # Quantiles of the periods that end by D: labels, returns, spread, turnover, bit for bit
    # (Q was the median count over all periods, so later symbols changed finished periods).
    # No quantiles formed at all has no quantile columns: the same missing values.
    np.testing.assert_array_equal(
        obs_full.loc[ended, "signal_quantile"].to_numpy(), obs_part.loc[ended, "signal_quantile"].to_numpy()
    )
    for column in ("spread", "top_turnover"):
        np.testing.assert_array_equal(upto.loc[done, column].to_numpy(), mine.loc[done, column].to_numpy())
    finished = upto.loc[done, "entry_date"]
    columns = range(1, quantiles + 1)
    np.testing.assert_array_equal(
        full.quantile_returns.reindex(columns=columns).loc[finished].to_numpy(),
        part.quantile_returns.reindex(columns=columns).loc[finished].to_numpy(),
    )


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    scheme=st.sampled_from(["anchored", "rolling"]),
    metric=st.sampled_from(["sharpe", "sortino", "cagr", "total_return"]),
    n_folds=st.integers(1, 6),
)
def test_walk_forward_winners_use_only_their_in_sample_rows(
    seed: int, scheme: str, metric: str, n_folds: int
) -> None:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2021-01-04", periods=240)
    matrix = pd.DataFrame(rng.normal(0.0003, 0.01, (len(days), 6)), index=days, columns=list("ABCDEF"))
    matrix["F"] = matrix["A"] / 3 * 3  # A in other bits: a tie
    options = WalkForwardSettings(
        n_folds=n_folds, scheme=scheme, metric=metric, in_sample_days=60, out_of_sample_days=30
    )
    full = walk_forward(matrix, options)
    for i, fold in enumerate(fold_bounds(len(days), options)):
        scrambled = matrix.copy()
        start = fold.out_of_sample[0]
        scrambled.iloc[start:] = -scrambled.iloc[start:].to_numpy()[::-1] * 3.0
        again = walk_forward(scrambled, options)
        assert again.folds["winner"].iloc[: i + 1].tolist() == full.folds["winner"].iloc[: i + 1].tolist()
        np.testing.assert_array_equal(
            again.folds["is_metric"].iloc[: i + 1].to_numpy(),
            full.folds["is_metric"].iloc[: i + 1].to_numpy(),
        )


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cut=st.floats(0.3, 0.9))
def test_sweep_cut_after_any_day_changes_no_return_up_to_it(seed: int, cut: float) -> None:
    grid = {
        "rebalance": list(REBALANCES),
        "weighting": list(WEIGHTINGS),
        "lag_days": [0, 2],
        "signal_transform": list(SIGNAL_TRANSFORMS),
        "aggregation": list(AGGREGATIONS),
    }
    base = StrategyParams(top_n=3, lookback_days=15, min_likes=0.0, min_comments=0.0, cost_bps=10.0)
    sentiment, prices = _random_inputs(seed, 130)
    day = prices.index[int(cut * (len(prices) - 1))]
    prepared = prepare(market(sentiment, prices))
    full = run_sweep(prepared, grid, base=base, keep_returns=True)
    part = run_sweep(
        prepare(market(sentiment[sentiment["date"] <= day], prices.loc[:day])),
        grid,
        base=base,
        keep_returns=True,
    )
    assert full.returns is not None and part.returns is not None
    # A configuration without a return day by D (no entry yet: a quarter with a lag) has
    # no column in the cut sweep; in the full one it holds cash (0) until its first period.
    kept = list(part.returns.columns)
    assert set(kept) <= set(full.returns.columns)
    later = full.returns.columns.difference(kept)
    assert (full.returns.loc[:day, later] == 0.0).all().all()
    pd.testing.assert_frame_equal(full.returns.loc[:day, kept], part.returns.loc[:day])
    # a row is its configuration's own backtest, bit for bit
    for _, row in full.table.sample(6, random_state=seed).iterrows():
        combo = {k: (int(row[k]) if k == "lag_days" else row[k]) for k in grid}
        own = run_prepared(prepared, base.replace(**combo)).metrics
        for name in METRIC_NAMES:
            assert row[name] == own[name] or (np.isnan(row[name]) and np.isnan(own[name])), (combo, name)
