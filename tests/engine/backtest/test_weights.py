"""Each weighting scheme's defining property, on seeded random windows and a hand case."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine import WEIGHTINGS, StrategyParams, compute_weights, run_backtest
from engine.dispersion import distinct_series
from engine.strategy.weights import hrp, hrp_order, max_sharpe, min_variance
from tests.engine._frames import market, price_frame, sentiment_frame


def _window(seed: int, n_days: int = 120, n_assets: int = 6, drift: float = 0.0005) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vols = rng.uniform(0.005, 0.03, n_assets)
    common = rng.normal(0, 0.01, (n_days, 1))
    loadings = rng.uniform(0.0, 1.0, n_assets)
    return drift + common * loadings + rng.normal(0, 1, (n_days, n_assets)) * vols


def _candidates(window: np.ndarray, seed: int) -> list[np.ndarray]:
    n = window.shape[1]
    rng = np.random.default_rng(seed)
    inv_vol = 1 / window.std(axis=0, ddof=1)
    return [
        np.full(n, 1 / n),
        inv_vol / inv_vol.sum(),
        *np.eye(n),
        *rng.dirichlet(np.ones(n), 300),
        *rng.dirichlet(np.full(n, 0.2), 300),  # sparse, corner-like portfolios
    ]


def _variance(w: np.ndarray, window: np.ndarray) -> float:
    return float(w @ np.cov(window, rowvar=False) @ w)


def _sharpe(w: np.ndarray, window: np.ndarray, rf_daily: float) -> float:
    return (float(window.mean(axis=0) @ w) - rf_daily) / math.sqrt(_variance(w, window))


@pytest.mark.parametrize("scheme", WEIGHTINGS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weights_are_long_only_and_fully_invested(scheme: str, seed: int) -> None:
    weights, problem = compute_weights(scheme, _window(seed))
    assert problem is None
    assert np.all(weights >= 0)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_min_variance_has_the_lowest_in_sample_variance(seed: int) -> None:
    window = _window(seed)
    weights, _ = compute_weights("min_variance", window)
    best = _variance(weights, window)
    others = [_variance(c, window) for c in _candidates(window, seed)]
    assert best <= min(others) * (1 + 1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize(
    ("drift", "rf"), [(0.0005, 0.0), (0.0005, 0.05), (-0.002, 0.0)], ids=["rf0", "rf5", "all-negative"]
)
def test_max_sharpe_has_the_highest_in_sample_sharpe(seed: int, drift: float, rf: float) -> None:
    window = _window(seed, drift=drift)
    weights, problem = compute_weights("max_sharpe", window, risk_free=rf)
    assert problem is None
    best = _sharpe(weights, window, rf / 252)
    others = [_sharpe(c, window, rf / 252) for c in _candidates(window, seed)]
    assert best >= max(others) - 1e-7


def test_inverse_volatility_is_proportional_to_one_over_sigma() -> None:
    window = _window(7)
    weights, _ = compute_weights("inverse_volatility", window)
    sigma = window.std(axis=0, ddof=1)
    np.testing.assert_allclose(weights * sigma, np.full(len(sigma), (weights * sigma)[0]), rtol=1e-12)


def _hand_cov() -> np.ndarray:
    # Two blocks: (0, 1) with correlation 0.8 and (2, 3) with 0.6, uncorrelated across.
    sigma = np.array([0.1, 0.2, 0.15, 0.3])
    corr = np.array([[1, 0.8, 0, 0], [0.8, 1, 0, 0], [0, 0, 1, 0.6], [0, 0, 0.6, 1]])
    return corr * np.outer(sigma, sigma)


def test_hrp_matches_hand_computed_four_assets() -> None:
    # Inverse-variance weights inside each block are (0.8, 0.2) in both blocks:
    # var{0,1} = 0.64*0.01 + 0.04*0.04 + 2*0.8*0.2*0.016 = 0.01312
    # var{2,3} = 0.64*0.0225 + 0.04*0.09 + 2*0.8*0.2*0.027 = 0.02664
    left = 1 - 0.01312 / (0.01312 + 0.02664)
    # Bisection inside each block: alpha = 1 - v_a / (v_a + v_b) = 0.8 in both.
    expected = np.array([0.8 * left, 0.2 * left, 0.8 * (1 - left), 0.2 * (1 - left)])
    np.testing.assert_allclose(hrp(_hand_cov()), expected, rtol=1e-12)
    order = list(hrp_order(_hand_cov()))
    assert {frozenset(order[:2]), frozenset(order[2:])} == {frozenset({0, 1}), frozenset({2, 3})}


def test_hrp_follows_the_assets_when_reordered() -> None:
    perm = np.array([2, 0, 3, 1])
    cov = _hand_cov()[np.ix_(perm, perm)]
    np.testing.assert_allclose(hrp(cov), hrp(_hand_cov())[perm], rtol=1e-12)


def test_hrp_three_assets_by_hand() -> None:
    # 0 and 1 correlated (0.9), 2 independent: leaves (0,1) then 2 -> split [x] | [y, z]
    # depends on leaf order; check against the bisection computed from that order.
    sigma = np.array([0.1, 0.1, 0.2])
    corr = np.array([[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]])
    cov = corr * np.outer(sigma, sigma)
    order = list(hrp_order(cov))
    first, rest = order[0], order[1:]
    w_rest = 1 / np.diag(cov)[rest]
    w_rest /= w_rest.sum()
    var_rest = w_rest @ cov[np.ix_(rest, rest)] @ w_rest
    alpha = 1 - cov[first, first] / (cov[first, first] + var_rest)
    expected = np.zeros(3)
    expected[first] = alpha
    a, b = rest
    inner = 1 - cov[a, a] / (cov[a, a] + cov[b, b])
    expected[a] = (1 - alpha) * inner
    expected[b] = (1 - alpha) * (1 - inner)
    np.testing.assert_allclose(hrp(cov), expected, rtol=1e-12)


@pytest.mark.parametrize("scheme", ["inverse_volatility", "min_variance", "max_sharpe", "hrp"])
def test_too_short_window_falls_back_to_equal(scheme: str) -> None:
    weights, problem = compute_weights(scheme, _window(0, n_days=3))
    np.testing.assert_allclose(weights, np.full(6, 1 / 6))
    assert problem is not None and "3 complete days" in problem


@pytest.mark.parametrize("scheme", ["inverse_volatility", "min_variance", "max_sharpe", "hrp"])
def test_zero_volatility_falls_back_to_equal(scheme: str) -> None:
    window = _window(0)
    window[:, 2] = 0.0
    weights, problem = compute_weights(scheme, window)
    np.testing.assert_allclose(weights, np.full(6, 1 / 6))
    assert problem is not None and "zero volatility" in problem


def test_backtest_uses_only_returns_before_entry_and_warns_on_fallback() -> None:
    # January 2021 ends on a Sunday: entry at the Monday 2021-02-01 close, with only 3
    # earlier returns -> equal weight + warning.
    sentiment = sentiment_frame([("2021-01-05", "A", 50, 100), ("2021-01-05", "B", 40, 100)])
    days = ["2021-01-26", "2021-01-27", "2021-01-28", "2021-01-29", "2021-02-01", "2021-02-02"]
    prices = price_frame(
        days, {"A": [10, 11, 10, 12, 12, 13], "B": [10, 10, 10.1, 10, 11, 11], "QQQ": [1, 1, 1, 1, 1, 1]}
    )
    result = run_backtest(market(sentiment, prices), StrategyParams(top_n=2, weighting="inverse_volatility"))
    np.testing.assert_allclose(result.holdings["weight"], [0.5, 0.5])
    assert any("fell back to equal weight" in w and "2021-02-01" in w for w in result.warnings)


def test_backtest_weights_come_from_the_trailing_window() -> None:
    rng = np.random.default_rng(11)
    days = pd.bdate_range("2021-01-01", "2021-03-31")
    n = len(days)
    a = 10 * np.cumprod(1 + rng.normal(0, 0.01, n))
    b = 10 * np.cumprod(1 + rng.normal(0, 0.03, n))
    prices = price_frame([d.date().isoformat() for d in days], {"A": a, "B": b, "QQQ": np.ones(n)})
    sentiment = sentiment_frame([("2021-02-05", "A", 50, 100), ("2021-02-05", "B", 40, 100)])
    params = StrategyParams(top_n=2, weighting="inverse_volatility", lookback_days=20)
    result = run_backtest(market(sentiment, prices), params)
    # February 2021 ends on a Sunday: the entry is the Monday 2021-03-01 close.
    entry = int(np.searchsorted(days, pd.Timestamp("2021-03-01")))
    window = np.column_stack([a, b])
    returns = window[1:] / window[:-1] - 1  # returns[i] is the return of day i + 1
    trailing = returns[entry - 21 : entry - 1]  # the 20 returns strictly before the entry day
    sigma = trailing.std(axis=0, ddof=1)
    expected = (1 / sigma) / (1 / sigma).sum()
    np.testing.assert_allclose(result.holdings["weight"], expected, rtol=1e-12)


@pytest.mark.parametrize("scheme", ["inverse_volatility", "min_variance", "max_sharpe", "hrp"])
def test_rounding_residue_volatility_falls_back_to_equal(scheme: str) -> None:
    """constant-return-series kind, in the weights: MMF = 100 x 1.001^t at full precision
    has returns 0.001 up to the last bits (std ~1e-16). Its volatility is zero by the
    engine's one zero-dispersion rule, so the scheme falls back to equal weight (0.5, 0.5)
    with the warning, as an exactly constant price does; it used to put 0.99999999999999
    (inverse volatility) or 1.0 (hrp) on MMF."""
    mmf = 100 * 1.001 ** np.arange(21)
    aaa = [
        10.0,
        10.1,
        9.9,
        10.2,
        10.0,
        10.3,
        10.1,
        10.4,
        10.2,
        10.5,
        10.3,
        10.2,
        10.6,
        10.4,
        10.7,
        10.5,
        10.8,
        10.6,
        10.9,
        10.7,
        11.0,
    ]
    prices = np.column_stack([aaa, mmf])
    window = prices[1:] / prices[:-1] - 1
    assert 0 < window[:, 1].std(ddof=1) < 1e-15  # the residue this case is about
    weights, problem = compute_weights(scheme, window)
    np.testing.assert_array_equal(weights, [0.5, 0.5])
    assert problem == "an asset has zero volatility in the window"
    _, named = compute_weights(scheme, window, names=["AAA", "MMF"])
    assert named == "MMF has zero volatility in the window"


def _with_twins(seed: int) -> np.ndarray:
    """Columns 0 and 1 are one return series (1 in other bits), column 2 another."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.001, 0.01, 60), rng.normal(-0.002, 0.012, 60)
    return np.column_stack([b, b * (1 + 1e-13), a * 0.5 - 0.003])


@pytest.mark.parametrize("scheme", ["min_variance", "max_sharpe"])
@pytest.mark.parametrize("seed", range(6))
def test_twin_series_share_the_optimisers_weight_equally(scheme: str, seed: int) -> None:
    """Any split of two identical series is the same portfolio, so the optimum left it to
    rounding: max_sharpe gave [1, 0, 0] or [0, 1, 0] for 5 of these 6 seeds (one security under two
    spellings held under one of them). They now split it equally."""
    window = _with_twins(seed)
    weights, reason = compute_weights(scheme, window)
    assert reason is None
    assert weights[0] == weights[1] > 0
    # The same portfolio as the optimum of the distinct series alone.
    alone, _ = compute_weights(scheme, window[:, [0, 2]])
    np.testing.assert_allclose([weights[0] + weights[1], weights[2]], alone, rtol=0, atol=1e-12)


def test_window_columns_are_twins_by_the_distinct_series_rule() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 0.01, 40), rng.normal(0, 0.01, 40)
    window = np.column_stack([b, a, b + 1e-12, a.copy(), a + 1e-6])
    assert distinct_series(list(window.T)).tolist() == [0, 1, 0, 1, 2]  # 1e-6 a day is a real difference
    assert distinct_series(list(_window(3).T)).tolist() == list(range(6))


@pytest.mark.parametrize("scheme", ["min_variance", "max_sharpe"])
@pytest.mark.parametrize("seed", range(4))
def test_windows_without_twins_get_the_optimisers_own_bits(scheme: str, seed: int) -> None:
    window = _window(seed, drift=0.001)
    weights, _ = compute_weights(scheme, window)
    cov = np.cov(window, rowvar=False)
    direct = min_variance(cov) if scheme == "min_variance" else max_sharpe(window.mean(axis=0), cov, 0.0)
    assert weights.tobytes() == direct.tobytes()


def test_the_backtest_warning_names_the_asset_without_volatility() -> None:
    """A new user's FLAT stock made inverse-volatility fall back to equal weight with 'an
    asset has zero volatility': the warning now names it."""
    from engine import StrategyParams, run_backtest
    from tests.engine._frames import market, sentiment_frame

    days = pd.bdate_range("2022-01-03", "2022-03-31")
    t = np.arange(len(days), dtype=float)
    prices = pd.DataFrame(
        {"AAA": 100 + 3 * np.sin(t), "FLAT": np.full(len(days), 20.0), "QQQ": 300 + t},
        index=pd.DatetimeIndex(days, name="date"),
    )
    rows = [
        (d.strftime("%Y-%m-%d"), s, 50, 200)
        for d in pd.date_range("2022-02-01", "2022-02-28")
        for s in ("AAA", "FLAT")
    ]
    result = run_backtest(
        market(sentiment_frame(rows), prices), StrategyParams(top_n=2, weighting="inverse_volatility")
    )
    assert any(
        "fell back to equal weight: FLAT has zero volatility in the window" in w for w in result.warnings
    )


def test_a_halted_holdings_missing_closes_are_left_out_of_the_window() -> None:
    """Breaker report F5: BBB halted 2021-12-01..2022-01-14 (33 trading days), trading again
    on 2022-01-17. The window forward-filled its closes: 33 returns of 0% and one return
    over the whole halt on the resume day, all kept (inverse volatility AAA 0.5283, BBB
    0.4717). README: days on which a holding has no return are left out; the resume day's
    return spans the halt, not a day, and is left out too. The trailing 63 trading days
    before the 2022-01-31 entry hold 29 days on which both have a real close on the day
    and the day before: 1/sigma over those (sample std), by hand with pandas."""
    days = pd.bdate_range("2021-10-01", "2022-03-31")
    rng = np.random.default_rng(4)
    steps = rng.normal(0, 0.02, (len(days), 3))
    prices = pd.DataFrame(
        100 * np.exp(np.cumsum(steps, axis=0)), index=days.rename("date"), columns=["AAA", "BBB", "QQQ"]
    ).round(6)
    prices.loc["2021-12-01":"2022-01-14", "BBB"] = np.nan
    rows = [
        (day.date().isoformat(), symbol, comments, 200)
        for day in pd.date_range("2022-01-01", "2022-01-31")
        for symbol, comments in (("AAA", 60), ("BBB", 50))
    ]
    params = StrategyParams(top_n=2, weighting="inverse_volatility", lookback_days=63)
    result = run_backtest(market(sentiment_frame(rows), prices), params)
    # By hand: daily returns of real closes only (NaN on the halt and the resume day), the
    # 63 trading days strictly before the entry, the days complete for both.
    returns = prices[["AAA", "BBB"]].pct_change(fill_method=None).loc[:"2022-01-28"].tail(63).dropna()
    assert len(returns) == 29
    inv = 1 / returns.std(ddof=1)
    expected = (inv / inv.sum()).to_dict()
    weights = dict(zip(result.holdings["symbol"], result.holdings["weight"], strict=True))
    assert weights == pytest.approx(expected, rel=1e-12)
    assert weights == pytest.approx({"AAA": 0.4942, "BBB": 0.5058}, abs=5e-5)
    assert (
        "inverse_volatility weights for the period starting 2022-02-01 used 29 of 63 days of returns "
        "(fewer complete prices before the entry)."
    ) in result.warnings


@pytest.mark.parametrize("scheme", ["min_variance", "max_sharpe"])
@pytest.mark.parametrize("n_days", [5, 6])
def test_covariance_optimisers_fall_back_when_days_do_not_outnumber_holdings(
    scheme: str, n_days: int
) -> None:
    """Breaker pass 12, F9: the sample covariance of T complete days of N assets has rank
    at most T - 1, so with T <= N the optimisers found an 'almost riskless' mix in its null
    space (0.6% in-sample annual volatility, 24% realised). 5 or 6 days of 6 holdings now
    fall back to equal weight with the reason; 7 days are optimised as before."""
    weights, problem = compute_weights(scheme, _window(0, n_days=n_days))
    np.testing.assert_array_equal(weights, np.full(6, 1 / 6))
    assert problem == (
        f"only {n_days} complete days of returns for 6 holdings (the sample covariance is singular "
        "unless the complete days outnumber the holdings)"
    )
    weights, problem = compute_weights(scheme, _window(0, n_days=7))
    assert problem is None and not np.allclose(weights, 1 / 6)


@pytest.mark.parametrize("scheme", ["inverse_volatility", "hrp"])
def test_schemes_without_the_full_covariance_keep_a_window_of_as_many_days_as_holdings(scheme: str) -> None:
    weights, problem = compute_weights(scheme, _window(0, n_days=6))
    assert problem is None and not np.allclose(weights, 1 / 6)


@pytest.mark.parametrize("scheme", ["min_variance", "max_sharpe"])
def test_the_backtest_warns_when_the_window_has_no_more_days_than_holdings(scheme: str) -> None:
    """The breaker's case in small: 5 holdings, lookback 5 (the least the parameters allow),
    so every entry's window has 5 complete days. Before, the optimisers' weights came from
    a singular covariance (0 for some holdings), with no note."""
    days = pd.bdate_range("2021-12-01", "2022-03-31")
    rng = np.random.default_rng(12)
    symbols = ["AAA", "BBB", "CCC", "DDD", "EEE"]
    steps = rng.normal(0.0005, 0.02, (len(days), len(symbols) + 1))
    prices = pd.DataFrame(
        100 * np.exp(np.cumsum(steps, axis=0)), index=days.rename("date"), columns=[*symbols, "QQQ"]
    ).round(4)
    rows = [
        (day.date().isoformat(), symbol, 20 + i, 100)
        for day in pd.date_range("2022-01-03", "2022-02-25", freq="7D")
        for i, symbol in enumerate(symbols)
    ]
    params = StrategyParams(top_n=5, weighting=scheme, lookback_days=5)
    result = run_backtest(market(sentiment_frame(rows), prices), params)
    assert result.holdings["weight"].tolist() == [0.2] * 10
    for start, entry in (("2022-02-01", "2022-01-31"), ("2022-03-01", "2022-02-28")):
        assert (
            f"{scheme} weights for the period starting {start} (entry close {entry}) fell back to equal "
            "weight: only 5 complete days of returns for 5 holdings (the sample covariance is singular "
            "unless the complete days outnumber the holdings)."
        ) in result.warnings
    # One holding fewer: 5 days outnumber 4 holdings, and the optimiser runs.
    fewer = run_backtest(market(sentiment_frame(rows), prices), params.replace(top_n=4))
    assert not any("fell back" in w for w in fewer.warnings)
