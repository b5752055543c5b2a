"""Backtest accounting on hand-computed cases, no look-ahead, and API equivalences."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from engine import (
    METRIC_NAMES,
    DataValidationError,
    StrategyParams,
    backtest_metrics,
    eligible_symbols_by_period,
    prepare,
    run_backtest,
    run_prepared,
    selection_returns,
)
from engine.analytics.metrics import ANNUALISED_METRICS, short_window_warning
from engine.data.types import TRADING_DAYS
from tests.engine._frames import market, price_frame, random_market, sentiment_frame

DAYS = ["2021-01-28", "2021-01-29", "2021-02-01", "2021-02-02", "2021-02-03", "2021-03-01", "2021-03-02"]
DAYS = ["2019-01-30", "2019-01-31", "2019-02-01", "2019-02-04", "2019-02-28", "2019-03-01", "2019-03-04"]


def _two_month_market(**overrides: list[float]):
    # January signal: A 0.5, B 0.4, C 0.1  -> February holds A, B (top 2).
    # February signal: B 0.3, C 0.2, A 0.1 -> March holds B, C.
    sentiment = sentiment_frame(
        [
            ("2019-01-05", "A", 50, 100),
            ("2019-01-05", "B", 40, 100),
            ("2019-01-05", "C", 11, 110),
            ("2019-02-10", "A", 11, 110),
            ("2019-02-10", "B", 30, 100),
            ("2019-02-10", "C", 20, 100),
        ]
    )
    columns = {
        "A": [10, 10, 11, 12.1, 12.1, 12.1, 12.1],
        "B": [20, 20, 18, 18, 19.8, 19.8, 21.78],
        "C": [50, 50, 50, 50, 50, 55, 55],
        "QQQ": [100, 100, 101, 102, 103, 104, 105],
    }
    columns.update(overrides)
    return market(sentiment, price_frame(DAYS, columns))


def test_drift_inside_period_and_first_day_return_counts() -> None:
    result = run_backtest(_two_month_market(), StrategyParams(top_n=2))
    r = result.returns["portfolio"]
    # Bought at the 2019-01-31 close, so 2019-02-01's move counts: 0.5*1.1 + 0.5*0.9 = 1.0.
    assert r.index[0] == pd.Timestamp("2019-02-01")
    # Buy and hold: values 1.0, 1.055, 1.1 (A 1.21 / B 0.99 on Feb 3), not a daily 50/50 mix.
    expected_feb = [0.0, 0.055, 1.1 / 1.055 - 1]
    # March: B, C at 0.5 each from the Feb 3 close: values 1.05, 1.1.
    expected_mar = [0.05, 1.1 / 1.05 - 1]
    np.testing.assert_allclose(r.to_numpy(), expected_feb + expected_mar, rtol=0, atol=1e-12)
    feb = result.holdings[result.holdings["period_start"] == pd.Timestamp("2019-02-01")]
    assert list(feb["symbol"]) == ["A", "B"]
    assert list(feb["rank"]) == [1, 2]
    np.testing.assert_allclose(feb["weight"], [0.5, 0.5])
    np.testing.assert_allclose(feb["signal"], [0.5, 0.4])
    assert feb["likes"].tolist() == [100.0, 100.0] and feb["comments"].tolist() == [50.0, 40.0]
    periods = result.periods
    assert list(periods["entry_date"]) == [pd.Timestamp("2019-01-31"), pd.Timestamp("2019-02-28")]
    assert list(periods["formation_end"]) == [pd.Timestamp("2019-01-31"), pd.Timestamp("2019-02-28")]
    # Drifted Feb 3 weights A 0.55, B 0.45 -> targets B 0.5, C 0.5: 0.5*(0.55+0.05+0.5).
    np.testing.assert_allclose(periods["turnover"], [1.0, 0.55], atol=1e-12)
    np.testing.assert_allclose(
        result.returns["benchmark"], [0.01, 102 / 101 - 1, 103 / 102 - 1, 104 / 103 - 1, 105 / 104 - 1]
    )
    # The sentiment rows end on 2019-02-10, inside the February formation period; and five
    # return days: the annualised metrics are extrapolations. The result says both.
    assert result.warnings == (
        "The formation period 2019-02-01 to 2019-02-28, whose ranking picks the holdings bought at "
        "the 2019-02-28 close, has sentiment data only to 2019-02-10, the last day of the sentiment "
        "data: 2 of its 3 trading days; it is ranked as if it were complete.",
        short_window_warning(5),
    )


def test_costs_are_charged_on_one_way_turnover_at_entry() -> None:
    result = run_backtest(_two_month_market(), StrategyParams(top_n=2, cost_bps=100))
    r = result.returns["portfolio"].to_numpy()
    # First entry from cash: turnover 1 -> cost 1%; value path scaled by 0.99.
    expected = [0.99 * 1.0 - 1, 0.055, 1.1 / 1.055 - 1, 1.05 * (1 - 0.0055) - 1, 1.1 / 1.05 - 1]
    np.testing.assert_allclose(r, expected, atol=1e-12)
    np.testing.assert_allclose(result.periods["cost"], [0.01, 0.0055], atol=1e-12)
    assert result.metrics["avg_turnover"] == pytest.approx(0.775)


def test_symbol_without_price_at_entry_is_skipped_and_others_share_its_weight() -> None:
    nan = math.nan
    data = _two_month_market(A=[nan, nan, 11, 12.1, 12.1, 12.1, 12.1])
    result = run_backtest(data, StrategyParams(top_n=2))
    feb = result.holdings[result.holdings["period_start"] == pd.Timestamp("2019-02-01")]
    assert list(feb["symbol"]) == ["B"]
    assert list(feb["weight"]) == [1.0]
    np.testing.assert_allclose(result.returns["portfolio"].iloc[:3], [-0.1, 0.0, 0.1], atol=1e-12)
    assert any("A was selected" in w and "2019-01-31" in w for w in result.warnings)
    assert result.periods["n_selected"].tolist() == [1, 2]


def test_symbol_delisted_mid_period_is_held_as_cash() -> None:
    nan = math.nan
    data = _two_month_market(B=[20, 20, 18, 18, nan, nan, nan], C=[50, 50, 50, 50, 50, 55, 55])
    result = run_backtest(data, StrategyParams(top_n=2))
    r = result.returns["portfolio"].to_numpy()
    # Feb 3: A 0.605 + B held at its Feb 2 value 0.45 = 1.055 -> 0 return.
    np.testing.assert_allclose(r[:3], [0.0, 0.055, 0.0], atol=1e-12)
    assert any(w.startswith("B (held from 2019-02-01) has no close from 2019-02-28") for w in result.warnings)
    # March: B is no longer listed at the Feb 3 entry -> skipped, C alone.
    np.testing.assert_allclose(r[3:], [0.1, 0.0], atol=1e-12)


def test_lag_days_delays_the_entry() -> None:
    result = run_backtest(_two_month_market(), StrategyParams(top_n=2, lag_days=1))
    assert result.periods["entry_date"].iloc[0] == pd.Timestamp("2019-02-01")
    r = result.returns["portfolio"]
    assert r.index[0] == pd.Timestamp("2019-02-04")
    # From the Feb 1 close: A 12.1/11, B 18/18 -> 1.05; then A 1.1, B 1.1 -> 1.1.
    np.testing.assert_allclose(r.iloc[:2], [0.05, 1.1 / 1.05 - 1], atol=1e-12)
    # The February holdings are kept until the next entry (Mar 1 close), so Mar 1 is theirs.
    assert result.periods["entry_date"].iloc[1] == pd.Timestamp("2019-03-01")
    np.testing.assert_allclose(r.loc["2019-03-01"], 0.0, atol=1e-12)


def test_thresholds_are_strict_and_no_eligible_symbol_means_cash() -> None:
    data = _two_month_market()
    result = run_backtest(data, StrategyParams(top_n=2, min_likes=100, min_comments=10))
    # Only rows with likes > 100: C in January (11/110), A in February (11/110).
    assert result.holdings["symbol"].tolist() == ["C", "A"]
    none = run_backtest(data, StrategyParams(min_likes=1000))
    assert len(none.returns) == 0
    assert math.isnan(none.metrics["sharpe"])
    assert none.warnings


def test_period_without_eligible_symbol_holds_cash() -> None:
    sentiment = sentiment_frame([("2021-01-05", "A", 50, 100), ("2021-03-10", "A", 50, 100)])
    days = ["2021-01-29", "2021-02-01", "2021-02-26", "2021-03-01", "2021-03-31", "2021-04-01"]
    prices = price_frame(days, {"A": [10, 11, 12, 13, 14, 15], "QQQ": [1, 1, 1, 1, 1, 1]})
    result = run_backtest(market(sentiment, prices), StrategyParams())
    r = result.returns["portfolio"]
    # February 28 is a Sunday: January's holdings (A) are kept to the Monday March 1
    # close, the first trading day on or after the end of February (the formation period).
    assert result.periods["entry_date"].tolist() == [
        pd.Timestamp(d) for d in ("2021-02-01", "2021-03-01", "2021-03-31")
    ]
    np.testing.assert_allclose(r.loc["2021-03-01"], 13 / 12 - 1)
    np.testing.assert_allclose(r.loc["2021-03-31"], 0.0)
    assert any("No symbol was eligible for the period starting 2021-03-31" in w for w in result.warnings)
    # Into cash sells everything, back out of cash buys everything.
    np.testing.assert_allclose(result.periods["turnover"], [1.0, 1.0, 1.0])


def test_start_and_end_trim_the_backtest() -> None:
    data = random_market(seed=1)
    params = StrategyParams(start=dt.date(2020, 6, 17), end=dt.date(2021, 3, 10))
    result = run_backtest(data, params)
    assert result.returns.index[0] == pd.Timestamp("2020-06-17")
    assert result.returns.index[-1] == pd.Timestamp("2021-03-10")
    assert result.periods["entry_date"].iloc[0] == pd.Timestamp("2020-06-16")
    assert result.periods["turnover"].iloc[0] == pytest.approx(1.0)


def test_missing_benchmark_is_a_clear_error() -> None:
    with pytest.raises(DataValidationError, match="benchmark SPY"):
        run_backtest(_two_month_market(), StrategyParams(benchmark="SPY"))


def test_universe_is_equal_weight_of_all_eligible_symbols() -> None:
    result = run_backtest(_two_month_market(), StrategyParams(top_n=1))
    u = result.returns["universe"].to_numpy()
    # February: A, B, C at 1/3: values (1.1+0.9+1)/3 = 1, (1.21+0.9+1)/3, (1.21+0.99+1)/3.
    v = [1.0, 3.11 / 3, 3.2 / 3]
    np.testing.assert_allclose(u[:3], [v[0] - 1, v[1] / v[0] - 1, v[2] / v[1] - 1], atol=1e-12)


@pytest.mark.parametrize("rebalance", ["weekly", "monthly", "quarterly"])
@pytest.mark.parametrize("weighting", ["equal", "min_variance", "hrp"])
@pytest.mark.parametrize("lag_days", [0, 3])
def test_no_look_ahead(rebalance: str, weighting: str, lag_days: int) -> None:
    """Changing prices and sentiment from a date on changes nothing before that date."""
    data = random_market(seed=2)
    cut = pd.Timestamp("2021-05-12")
    prices = data.prices.copy()
    later = prices.index >= cut
    prices.loc[later] = prices.loc[later] * np.random.default_rng(9).uniform(
        0.5, 1.5, prices.loc[later].shape
    )
    sentiment = data.sentiment.copy()
    late_rows = sentiment["date"] >= cut
    sentiment.loc[late_rows, "twitterComments"] = sentiment.loc[late_rows, "twitterComments"][::-1].to_numpy()
    changed = market(sentiment, prices)
    params = StrategyParams(
        rebalance=rebalance, weighting=weighting, lag_days=lag_days, top_n=4, lookback_days=20
    )
    a, b = run_backtest(data, params), run_backtest(changed, params)
    before = a.returns.index < cut
    pd.testing.assert_frame_equal(a.returns.loc[before], b.returns.loc[before])
    ha = a.holdings[a.holdings["period_start"] < cut].reset_index(drop=True)
    hb = b.holdings[b.holdings["period_start"] < cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(ha, hb)
    # ...and the perturbation did change what comes after (the test can fail).
    assert not np.allclose(a.returns.loc[~before, "portfolio"], b.returns.loc[~before, "portfolio"])


PARAM_GRID = [
    StrategyParams(),
    StrategyParams(rebalance="weekly", top_n=3, cost_bps=25, lag_days=2),
    StrategyParams(rebalance="quarterly", aggregation="median", signal="sentiment"),
    StrategyParams(signal_transform="change", signal="likes", weighting="inverse_volatility"),
    StrategyParams(weighting="max_sharpe", risk_free=0.02, top_n=8, cost_bps=10),
    StrategyParams(weighting="hrp", start=dt.date(2020, 5, 5), end=dt.date(2021, 8, 1)),
]


@pytest.mark.parametrize("params", PARAM_GRID, ids=lambda p: f"{p.rebalance}-{p.weighting}-{p.signal}")
def test_run_prepared_equals_run_backtest_and_fast_metrics(params: StrategyParams) -> None:
    data = random_market(seed=3)
    prepared = prepare(data)
    full = run_backtest(data, params)
    again = run_prepared(prepared, params)
    pd.testing.assert_frame_equal(full.returns, again.returns)
    pd.testing.assert_frame_equal(full.holdings, again.holdings)
    pd.testing.assert_frame_equal(full.periods, again.periods)
    assert full.warnings == again.warnings
    fast = backtest_metrics(prepared, params)
    assert list(fast) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert fast[name] == full.metrics[name] or (
            math.isnan(fast[name]) and math.isnan(full.metrics[name])
        ), name
    assert full.manifest.fingerprint == data.fingerprint
    assert full.manifest.params == params.to_dict()


def test_prepared_data_pickles() -> None:
    import pickle

    prepared = prepare(random_market(seed=4, n_symbols=8))
    clone = pickle.loads(pickle.dumps(prepared))
    params = StrategyParams(top_n=3)
    assert backtest_metrics(clone, params) == backtest_metrics(prepared, params)


def test_eligible_symbols_and_selection_returns_reproduce_the_universe() -> None:
    data = random_market(seed=5, n_symbols=12)
    prepared = prepare(data)
    params = StrategyParams(top_n=3, cost_bps=5)
    result = run_prepared(prepared, params)
    eligible = eligible_symbols_by_period(prepared, params)
    assert [start for start, _ in eligible] == list(result.periods["period_start"])
    for (_, members), n in zip(eligible, result.periods["n_eligible"], strict=False):
        assert len(members) <= n
    _dates, returns, turnover = selection_returns(prepared, params, [members for _, members in eligible])
    np.testing.assert_allclose(returns, result.returns["universe"].to_numpy(), atol=1e-14)
    assert len(turnover) == len(eligible)
    # The strategy's own holdings fed back through selection_returns give its returns.
    held = [
        np.array([prepared.symbols.index(s) for s in group["symbol"]])
        # dropna=False: an entry at the last day (no holding day yet) has period_start NaT.
        for _, group in result.holdings.groupby("period_start", sort=True, dropna=False)
    ]
    _, own, _ = selection_returns(prepared, params, held)
    np.testing.assert_allclose(own, result.returns["portfolio"].to_numpy(), atol=1e-14)


def test_selection_returns_memo_follows_the_prepared_object() -> None:
    params = StrategyParams(top_n=2)
    short = prepare(random_market(seed=6, n_symbols=6, end="2020-06-30"))
    long = prepare(random_market(seed=6, n_symbols=6, end="2021-06-30"))
    for prepared in (short, long, short):
        eligible = eligible_symbols_by_period(prepared, params)
        dates, _returns, _ = selection_returns(prepared, params, [m[:2] for _, m in eligible])
        assert len(dates) == len(run_prepared(prepared, params).returns)
    with pytest.raises(ValueError, match="selections"):
        selection_returns(long, params, [])


def test_row_order_of_the_sentiment_does_not_matter() -> None:
    data = random_market(seed=7, n_symbols=8)
    shuffled = data.sentiment.sample(frac=1.0, random_state=3).reset_index(drop=True)
    params = StrategyParams(top_n=3, aggregation="median", rebalance="weekly")
    a = run_backtest(data, params)
    b = run_backtest(market(shuffled, data.prices), params)
    pd.testing.assert_frame_equal(a.returns, b.returns)
    pd.testing.assert_frame_equal(a.holdings, b.holdings, check_exact=False, rtol=1e-12)


def _naive_simulation(prices, entry, end, held, weights, cost_rate):
    """Day-by-day bookkeeping in plain Python: units bought with the post-cost capital,
    each segment's value measured from 1.0 (the value before paying the cost)."""
    returns, turnovers = [], []
    cash_col = prices.shape[1] - 1
    previous_weights = {cash_col: 1.0}
    for k in range(len(entry)):
        targets = {}
        for col, w in zip(held[k], weights[k], strict=False):
            targets[int(col)] = targets.get(int(col), 0.0) + float(w)
        cols = set(targets) | set(previous_weights)
        turnover = 0.5 * sum(abs(targets.get(c, 0.0) - previous_weights.get(c, 0.0)) for c in cols)
        turnovers.append(turnover)
        capital = 1.0 - cost_rate * turnover
        units = {c: capital * w / prices[entry[k], c] for c, w in targets.items()}
        value_before = 1.0
        for day in range(entry[k] + 1, end[k] + 1):
            value = sum(u * prices[day, c] for c, u in units.items())
            returns.append(value / value_before - 1.0)
            value_before = value
        final = {c: u * prices[end[k], c] for c, u in units.items()}
        total = sum(final.values())
        previous_weights = {c: v / total for c, v in final.items()}
    return np.array(returns), np.array(turnovers)


@pytest.mark.parametrize("seed", range(4))
def test_simulate_matches_plain_bookkeeping(seed: int) -> None:
    from engine.backtest.nb import simulate

    rng = np.random.default_rng(seed)
    n_days, n_cols = 60, 9
    prices = np.cumprod(1 + rng.normal(0, 0.02, (n_days, n_cols)), axis=0)
    prices[:, -1] = 1.0  # cash column
    cuts = np.sort(rng.choice(np.arange(3, n_days - 1), 5, replace=False))
    entry = np.concatenate(([2], cuts))
    end = np.concatenate((cuts, [n_days - 1]))
    held = np.stack([rng.choice(n_cols - 1, 3, replace=False) for _ in entry])
    weights = rng.dirichlet(np.ones(3), len(entry))
    sim = simulate(prices, entry, end, held, weights, 0.002)
    expected_returns, expected_turnover = _naive_simulation(prices, entry, end, held, weights, 0.002)
    np.testing.assert_allclose(sim.turnover, expected_turnover, atol=1e-12)
    np.testing.assert_allclose(sim.returns, expected_returns, atol=1e-12)
    np.testing.assert_allclose(sim.cost, 0.002 * expected_turnover, atol=1e-15)


def test_result_survives_the_plain_json_round_trip() -> None:
    import json

    from engine import SourceInfo, result_from_plain, result_to_plain

    prepared = prepare(random_market(seed=9, n_symbols=6))
    other = SourceInfo(kind="files", label="my files", synthetic=False)
    result = run_prepared(prepared, StrategyParams(top_n=2, cost_bps=5), source=other)
    assert result.manifest.data_source == "my files" and result.manifest.synthetic is False
    back = result_from_plain(json.loads(json.dumps(result_to_plain(result))))
    pd.testing.assert_frame_equal(back.returns, result.returns, check_freq=False)
    pd.testing.assert_frame_equal(back.holdings, result.holdings, check_dtype=False)
    pd.testing.assert_frame_equal(back.periods, result.periods, check_dtype=False)
    assert dict(back.metrics) == pytest.approx(dict(result.metrics), nan_ok=True)


def test_memoised_signal_is_per_data_set_and_per_signal_parameters() -> None:
    from engine.backtest.base import clear_caches

    a = prepare(random_market(seed=10, n_symbols=8))
    b = prepare(random_market(seed=11, n_symbols=8))
    strict, loose = StrategyParams(min_likes=1500), StrategyParams(min_likes=5)
    cached = [backtest_metrics(p, q) for p in (a, b) for q in (strict, loose, strict)]
    clear_caches()
    fresh = [backtest_metrics(p, q) for p in (a, b) for q in (strict, loose, strict)]
    assert cached == fresh
    assert cached[0] != cached[1] and cached[0] != cached[3]  # the cases really differ
    assert cached[0] == cached[2]


def test_prepared_arrays_are_read_only() -> None:
    prepared = prepare(random_market(seed=12, n_symbols=6))
    with pytest.raises(ValueError):
        prepared.prices[0, 0] = 1.0
    with pytest.raises(ValueError):
        prepared.row_likes[0] = 1.0


def test_dense_universe_equals_the_generic_simulation_bit_for_bit() -> None:
    """The universe's dense fast path (built from the eligibility mask) is the same
    arithmetic as ``simulate`` (scattering per-holding weights) on the
    eligible symbols: identical returns and turnover, not merely close ones."""
    from engine.backtest.base import _universe_sim
    from engine.backtest.nb import simulate
    from engine.backtest.nb_signal import equal_weights
    from engine.backtest.plan import _plan

    prepared = prepare(random_market(seed=13, n_symbols=12))
    params = StrategyParams(top_n=3, cost_bps=7)
    plan = _plan(prepared, params)
    n = prepared.n_symbols
    held = np.full((len(plan.entry), n), n, dtype=np.int64)
    mask = np.zeros(held.shape, dtype=bool)
    for k, e in enumerate(plan.entry):
        ok = np.flatnonzero(
            np.isfinite(plan.signal[k]) & (prepared.first_valid[:n] <= e) & (prepared.last_valid[:n] >= e)
        )
        held[k, : len(ok)], mask[k, : len(ok)] = ok, True
    weights = equal_weights(mask)
    weights[~mask.any(axis=1), 0] = 1.0
    expected = simulate(prepared.prices, plan.entry, plan.end, held, weights, 7 / 1e4)
    got = _universe_sim(prepared, plan, 7 / 1e4)
    assert got.turnover[0] == 1.0  # really the universe: bought from cash
    np.testing.assert_array_equal(got.returns, expected.returns)
    np.testing.assert_array_equal(got.turnover, expected.turnover)
    np.testing.assert_array_equal(got.day_index, expected.day_index)


@pytest.mark.parametrize("form", ["categorical", "microsecond_dates", "shuffled_rows"])
def test_prepare_gives_the_same_arrays_whatever_the_frame_form(form: str) -> None:
    """Categorical symbols, another datetime unit and rows out of (date, symbol) order
    take other paths through prepare (codes, day numbers, full lexsort) to the same arrays."""
    data = random_market(seed=14, n_symbols=7)
    sentiment = data.sentiment.copy()
    if form == "categorical":
        sentiment["symbol"] = sentiment["symbol"].astype("category")
    elif form == "microsecond_dates":
        sentiment["date"] = sentiment["date"].astype("datetime64[us]")
    else:
        sentiment = sentiment.sample(frac=1.0, random_state=3).reset_index(drop=True)
    other = dataclasses.replace(data, sentiment=sentiment)
    a, b = prepare(data), prepare(other)
    assert a.symbols == b.symbols
    for name in ("row_likes", "row_comments"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for rebalance, groups in a.groups.items():
        np.testing.assert_array_equal(groups.starts, b.groups[rebalance].starts)
        np.testing.assert_array_equal(groups.cell, b.groups[rebalance].cell)
    params = StrategyParams(top_n=3)
    assert backtest_metrics(a, params) == pytest.approx(backtest_metrics(b, params), nan_ok=True)
    pd.testing.assert_frame_equal(run_prepared(a, params).holdings, run_prepared(b, params).holdings)


def test_a_window_shorter_than_a_year_warns_that_annualised_metrics_extrapolate() -> None:
    """A backtest over 8 trading days (demo data, 2023-03-01 to 2023-03-10) reported a CAGR of
    -84.7% and a Sharpe of -7.4 with no warning: annualising under a year extrapolates (GIPS
    forbids it). Now one warning gives the day count and names every annualised metric; a
    run over a year or more has none. The threshold is TRADING_DAYS, the one annualisation
    constant."""
    prepared = prepare(random_market(seed=4, n_symbols=12, start="2020-01-01", end="2021-12-31"))
    base = StrategyParams(min_likes=0.0, min_comments=0.0)
    short = run_prepared(prepared, base.replace(start=dt.date(2021, 3, 1), end=dt.date(2021, 3, 10)))
    days = len(short.returns)
    assert days == 8 and short.warnings.count(short_window_warning(8)) == 1
    text = short_window_warning(8)
    assert text is not None and text.startswith(
        "The evaluated window covers 8 trading days, less than a year"
    )
    for label in ("CAGR", "annual volatility", "Sharpe", "Sortino", "Calmar", "alpha", "information ratio"):
        assert label in text
    assert len(ANNUALISED_METRICS) == 8
    full = run_prepared(prepared, base)
    assert len(full.returns) >= TRADING_DAYS
    assert not any("less than a year" in w for w in full.warnings)


def test_short_window_threshold_is_one_year_of_trading_days() -> None:
    assert short_window_warning(0) is None  # no return day: no metric to qualify
    assert short_window_warning(1) is not None and "1 trading day," in short_window_warning(1)
    assert short_window_warning(TRADING_DAYS - 1) is not None
    assert short_window_warning(TRADING_DAYS) is None
    assert TRADING_DAYS == 252


def test_a_benchmark_close_carried_over_a_missing_day_is_named() -> None:
    """A benchmark without a close on 02-01 and 03-01: its previous close is carried (a 0%
    return on each, the move in the next close's return), which changed its numbers
    without a word; the warning names the days."""
    nan = math.nan
    data = _two_month_market(QQQ=[100, 100, nan, 102, 103, nan, 105])
    result = run_backtest(data, StrategyParams(top_n=2))
    bench = result.returns["benchmark"].to_numpy()
    np.testing.assert_allclose(bench, [0.0, 102 / 100 - 1, 103 / 102 - 1, 0.0, 105 / 103 - 1], atol=1e-12)
    (said,) = [w for w in result.warnings if w.startswith("benchmark QQQ has no close on")]
    assert said.startswith(
        "benchmark QQQ has no close on 2 trading day(s) of the window (2019-02-01, 2019-03-01)"
    )
