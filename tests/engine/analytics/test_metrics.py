"""Metrics against empyrical-reloaded and against hand-computed tiny cases."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from engine import METRIC_NAMES, compute_metrics, drawdown_info


def _series(seed: int, n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0004, 0.012, n)
    port = 0.8 * bench + rng.normal(0.0002, 0.008, n)
    return port, bench


def _reference(port: np.ndarray, bench: np.ndarray, rf_annual: float) -> dict[str, float]:
    rf = rf_annual / 252
    alpha, beta = empyrical.alpha_beta(port, bench, risk_free=rf)
    return {
        "total_return": empyrical.cum_returns_final(port),
        "cagr": empyrical.annual_return(port),
        "annual_volatility": empyrical.annual_volatility(port),
        "sharpe": empyrical.sharpe_ratio(port, risk_free=rf),
        "sortino": empyrical.sortino_ratio(port, required_return=rf),
        "max_drawdown": empyrical.max_drawdown(port),
        "calmar": empyrical.calmar_ratio(port),
        "beta": beta,
        "alpha": alpha,
        "information_ratio": empyrical.excess_sharpe(port, bench) * math.sqrt(252),
        "tracking_error": float(np.std(port - bench, ddof=1) * math.sqrt(252)),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rf", [0.0, 0.03])
def test_metrics_match_empyrical(seed: int, rf: float) -> None:
    port, bench = _series(seed)
    ours = compute_metrics(port, bench, risk_free=rf)
    reference = _reference(port, bench, rf)
    for name, value in reference.items():
        assert ours[name] == pytest.approx(float(value), rel=1e-9, abs=1e-12), name
    assert list(ours) == list(METRIC_NAMES)


def test_series_are_aligned_by_date() -> None:
    port, bench = _series(5, 50)
    index = pd.bdate_range("2022-01-03", periods=50)
    shuffled = pd.Series(bench, index=index).sample(frac=1.0, random_state=1)
    a = compute_metrics(pd.Series(port, index=index), shuffled)
    b = compute_metrics(port, bench)
    assert a == b


# Tiny cases by hand. Returns 10%, -10%, 20%: value 1.1, 0.99, 1.188.
TINY = [0.1, -0.1, 0.2]
TINY_MEAN = 0.2 / 3
TINY_STD = math.sqrt(((0.1 - TINY_MEAN) ** 2 + (-0.1 - TINY_MEAN) ** 2 + (0.2 - TINY_MEAN) ** 2) / 2)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("total_return", 1.1 * 0.9 * 1.2 - 1),
        ("cagr", 1.188 ** (252 / 3) - 1),
        ("annual_volatility", TINY_STD * math.sqrt(252)),
        ("sharpe", TINY_MEAN / TINY_STD * math.sqrt(252)),
        # downside deviation: sqrt(mean([0, 0.01, 0])) * sqrt(252)
        ("sortino", TINY_MEAN * 252 / (math.sqrt(0.01 / 3) * math.sqrt(252))),
        ("max_drawdown", 0.99 / 1.1 - 1),
        ("calmar", (1.188 ** (252 / 3) - 1) / 0.1),
        ("hit_rate", 2 / 3),
    ],
)
def test_hand_computed_golden_values(name: str, expected: float) -> None:
    assert compute_metrics(TINY, None)[name] == pytest.approx(expected, rel=1e-12)


def test_beta_alpha_and_active_metrics_by_hand() -> None:
    bench = np.array([0.01, -0.02, 0.03, 0.0])
    port = 2.0 * bench + 0.001  # beta exactly 2, daily alpha 0.001
    m = compute_metrics(port, bench, turnover=[1.0, 0.5])
    assert m["beta"] == pytest.approx(2.0)
    assert m["alpha"] == pytest.approx(1.001**252 - 1)
    active = port - bench
    assert m["tracking_error"] == pytest.approx(np.std(active, ddof=1) * math.sqrt(252))
    assert m["information_ratio"] == pytest.approx(active.mean() / np.std(active, ddof=1) * math.sqrt(252))
    assert m["avg_turnover"] == 0.75


@pytest.mark.parametrize("returns", [[], [0.01], [0.0] * 30], ids=["empty", "one-day", "all-cash"])
def test_degenerate_series_give_nan_not_errors(returns: list[float]) -> None:
    m = compute_metrics(returns, [0.001 * i for i in range(len(returns))])
    assert math.isnan(m["sharpe"])
    assert math.isnan(m["sortino"]) or len(returns) > 1
    assert math.isnan(m["calmar"])
    assert math.isnan(m["avg_turnover"])
    if returns:
        assert m["max_drawdown"] == 0.0
        assert m["total_return"] == pytest.approx(sum(returns))
    assert all(not math.isinf(v) for v in m.values())


def test_without_benchmark_relative_metrics_are_nan() -> None:
    m = compute_metrics(TINY, None)
    for name in ("beta", "alpha", "information_ratio", "tracking_error"):
        assert math.isnan(m[name])


def test_drawdown_dates() -> None:
    index = pd.bdate_range("2022-01-03", periods=6)
    r = pd.Series([0.1, -0.2, 0.05, 0.2, -0.01, 0.0], index=index)
    info = drawdown_info(r)
    # Values: 1.1 (peak, Jan 3), 0.88 (trough, Jan 4), 0.924, 1.1088 (recovered Jan 6).
    assert info == {"peak": "2022-01-03", "trough": "2022-01-04", "recovery": "2022-01-06"}
    assert drawdown_info(pd.Series([0.01, 0.02], index=index[:2])) == {
        "peak": None,
        "trough": None,
        "recovery": None,
    }
    unrecovered = drawdown_info(pd.Series([-0.1, 0.05], index=index[:2]))
    assert unrecovered["recovery"] is None and unrecovered["trough"] == "2022-01-03"


def test_drawdown_equal_troughs_up_to_rounding_keep_the_first_episode() -> None:
    """drawdown-dates kind, variant: two equal troughs (prices 10, 3, 10, 3).

    By hand: value 1, 0.3, 1, 0.3 from the entry close 2022-01-31. Both troughs are -70%;
    the first one is the maximum drawdown (as argmin's first with exact arithmetic): peak
    2022-01-31, trough 2022-02-01, recovery 2022-02-02. Compounded in floats the second
    trough is one ulp deeper, and the engine reported peak 2022-02-02, trough 2022-02-03,
    recovery None.
    """
    prices = np.array([10.0, 3.0, 10.0, 3.0])
    returns = prices[1:] / prices[:-1] - 1
    value = np.concatenate(([1.0], np.cumprod(1 + returns)))
    peak = np.maximum.accumulate(value)
    drawdown = (value - peak) / peak
    assert drawdown[3] < drawdown[1]  # the rounding the rule must absorb
    dates = pd.bdate_range("2022-02-01", periods=3)
    info = drawdown_info(returns, dates, start="2022-01-31")
    assert info == {"peak": "2022-01-31", "trough": "2022-02-01", "recovery": "2022-02-02"}
    # a trough deeper by more than rounding still wins
    deeper = np.array([3 / 10 - 1, 10 / 3 - 1, 2.9 / 10 - 1])
    assert drawdown_info(deeper, dates, start="2022-01-31") == {
        "peak": "2022-02-02",
        "trough": "2022-02-03",
        "recovery": None,
    }


def test_a_drop_of_rounding_size_is_no_drawdown() -> None:
    """drawdown-dates kind, variant a dip of 1e-12 of the peak: 100 x 1.001^t quoted with
    one close 1e-12 below the previous one (day 100). drawdown_info already said 'never
    fell' (DRAWDOWN_RTOL); max_drawdown said -1.0e-12 and the Calmar ratio 2.9e11. Now
    max_drawdown is 0 and the Calmar ratio undefined; a drop of 1e-9 stays a drawdown."""
    prices = 100.0 * 1.001 ** np.arange(250)
    prices[100] = prices[99] * (1 - 1e-12)
    returns = prices[1:] / prices[:-1] - 1.0
    m = compute_metrics(returns)
    assert m["max_drawdown"] == 0.0 and math.isnan(m["calmar"])
    assert m["cagr"] == pytest.approx(0.2864340443761506, rel=1e-9)
    dates = pd.bdate_range("2022-01-03", periods=returns.size)
    assert drawdown_info(returns, dates) == {"peak": None, "trough": None, "recovery": None}
    # prices 100.1, 100.1000000001, ... alternating: no drawdown either
    flat = np.full(250, 100.1)
    flat[1::2] = 100.1000000001
    assert compute_metrics(flat[1:] / flat[:-1] - 1.0)["max_drawdown"] == 0.0
    prices[100] = prices[99] * (1 - 1e-9)
    real = compute_metrics(prices[1:] / prices[:-1] - 1.0)
    assert real["max_drawdown"] == pytest.approx(-1e-9, rel=1e-6) and real["calmar"] > 1e8


def test_a_strategy_without_dispersion_has_beta_zero_not_rounding_residue() -> None:
    """constant-return-series kind, as the strategy: 100 x 1.001^t read as returns
    (0.0009999999999996678 .. 0.001000000000000112) against a moving benchmark. Its
    covariance with anything is 0 (|cov| <= std x std, and its std is 0 by the
    dispersion rule), so beta is 0, not 1.08e-14 from the residue; alpha is then the
    strategy's own annualised mean, (1 + 0.001)^252 - 1 up to rounding."""
    r = np.array(
        [
            0.0009999999999998899,
            0.0009999999999996678,
            0.001000000000000112,
            0.0009999999999996678,
            0.0009999999999998899,
            0.0009999999999998899,
            0.0009999999999998899,
            0.001000000000000112,
            0.0009999999999996678,
            0.001000000000000112,
        ]
    )
    b = np.array([0.01, -0.02, 0.015, 0.003, -0.007, 0.012, -0.001, 0.004, -0.011, 0.006])
    m = compute_metrics(r, b)
    assert m["annual_volatility"] == 0.0
    assert m["beta"] == 0.0
    assert m["alpha"] == pytest.approx(1.001**252 - 1, rel=1e-12)
    # a benchmark without dispersion still leaves beta undefined, whatever the strategy
    both_flat = compute_metrics(r, r)
    assert math.isnan(both_flat["beta"]) and math.isnan(both_flat["alpha"])


@pytest.mark.parametrize("a", range(2, 15))
def test_a_path_back_at_its_start_has_a_total_return_of_zero(a: int) -> None:
    """drawdown-dates, a held-back variant: a -> b -> a -> a compounds to 1 up to rounding
    (3 -> 1 -> 3: 0.9999999999999998) and was shown as a total return of "-0.00%"
    (-2.2e-16), in the stock analysis and a sweep's table; CAGR and Calmar followed."""
    for b in range(1, 15):
        closes = np.array([a, b, a, a], dtype=float)
        metrics = compute_metrics(closes[1:] / closes[:-1] - 1.0)
        assert metrics["total_return"] == 0.0 and metrics["cagr"] == 0.0, (a, b)
        assert b >= a or metrics["calmar"] == 0.0
