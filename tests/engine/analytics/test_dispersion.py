"""Zero dispersion below what the data resolves (reviewer finding: constant-return series
through rounded prices gave volatility 0.00% but Sharpe 4,171,700, beta 0.63, IR 2,118,051)."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import compute_metrics
from engine.analytics.pbo import column_metric
from engine.analytics.statistics import annual_sharpe
from engine.analytics.stocks import analyze_stocks
from engine.dispersion import first_best, negligible_dispersion, zero_within_rounding


def _rounded_returns(base: float, rate: float, decimals: int, n: int = 60) -> pd.Series:
    prices = pd.Series(np.round(base * (1.0 + rate) ** np.arange(n), decimals))
    return prices.pct_change().dropna()


def test_reviewer_case_rounded_to_six_decimals_has_no_ratios() -> None:
    r = _rounded_returns(100.0, 0.001, 6)
    q = _rounded_returns(300.0, 0.0005, 6)
    m = compute_metrics(r, q)
    assert m["annual_volatility"] == 0.0
    for key in ("sharpe", "sortino", "beta", "alpha", "information_ratio"):
        assert math.isnan(m[key]), key
    assert m["tracking_error"] == 0.0
    assert m["total_return"] > 0.05  # the series' own growth is still reported


def test_rounded_benchmark_alone_makes_beta_and_alpha_nan() -> None:
    rng = np.random.default_rng(3)
    port = pd.Series(rng.normal(0.0005, 0.01, 59))
    bench = _rounded_returns(300.0, 0.0005, 4)
    m = compute_metrics(port, bench)
    assert math.isnan(m["beta"]) and math.isnan(m["alpha"])
    assert math.isfinite(m["sharpe"]) and math.isfinite(m["information_ratio"])


def test_vectorised_sharpes_use_the_same_rule() -> None:
    r = _rounded_returns(100.0, 0.001, 6).to_numpy()
    assert np.isnan(annual_sharpe(r[None, :]))[0]
    noisy = np.random.default_rng(1).normal(0.0005, 0.01, r.size)
    out = column_metric(np.column_stack([r, noisy]), "sharpe")
    assert math.isnan(out[0]) and math.isfinite(out[1])


def test_stock_correlation_of_a_rounded_constant_growth_is_nan() -> None:
    dates = pd.bdate_range("2022-01-03", periods=60)
    rng = np.random.default_rng(5)
    prices = pd.DataFrame(
        {
            "MMF": np.round(100 * 1.001 ** np.arange(60), 6),
            "AAA": 50 * np.cumprod(1 + rng.normal(0, 0.01, 60)),
        },
        index=dates,
    )
    out = analyze_stocks(prices, ["MMF", "AAA"])
    assert out.correlation.loc["MMF", "AAA"] != out.correlation.loc["MMF", "AAA"]
    row = out.metrics.set_index("symbol").loc["MMF"]
    assert row["annual_volatility"] == 0.0 and math.isnan(row["sharpe"])


def test_quotes_differing_in_the_twelfth_digit_are_constant() -> None:
    """constant-return-series kind, variant a flat price quoted 100.1 / 100.1000000001
    alternating (returns +-9.99e-13, mean ~0 so the CV part of the rule cannot help, std
    1.001e-12 just above the old 1e-12 floor): it had a Sharpe ratio of 0.13 and a
    correlation of 0.13 with another series. Now (DISPERSION_RTOL = 1e-10) no volatility,
    Sharpe, correlation; a real 1e-9 daily wobble keeps them."""
    dates = pd.bdate_range("2022-01-03", periods=120)
    t = np.arange(120)
    rng = np.random.default_rng(1)
    prices = pd.DataFrame(
        {
            "NEAR": np.where(t % 2 == 0, 100.1, 100.1000000001),
            "AAA": 50 * np.cumprod(1 + rng.normal(0, 0.01, 120)),
        },
        index=dates,
    )
    out = analyze_stocks(prices, ["NEAR", "AAA"])
    row = out.metrics.set_index("symbol").loc["NEAR"]
    assert row["annual_volatility"] == 0.0 and math.isnan(row["sharpe"])
    assert math.isnan(out.correlation.loc["NEAR", "AAA"])
    returns = prices["NEAR"].pct_change().dropna().to_numpy()
    assert math.isnan(compute_metrics(returns, returns)["beta"])
    wobble = np.where(t % 2 == 0, 100.1, 100.1 * (1 + 1e-9))
    real = compute_metrics(wobble[1:] / wobble[:-1] - 1.0)
    assert real["annual_volatility"] > 0 and math.isfinite(real["sharpe"])


def test_helper_is_elementwise() -> None:
    got = negligible_dispersion(
        np.array([1e-7, 1e-2, 0.0]), np.array([1e-3, 1e-3, 0.0]), np.array([0.1, 0.1, 0.0])
    )
    assert got.tolist() == [True, False, True]


@settings(max_examples=60, deadline=None)
@given(
    # |rate| >= 1e-4 (2.5% a year): at 4 decimals of a price of 100 the rounding spread of a
    # return is ~4e-7, std/mean <= ~4e-3, inside DISPERSION_CV (1e-2).
    rate=st.floats(min_value=-0.004, max_value=0.004).filter(lambda x: abs(x) >= 1e-4),
    decimals=st.integers(min_value=4, max_value=10),
    base=st.floats(min_value=100.0, max_value=2000.0),
    rf=st.sampled_from([0.0, 0.02]),
)
def test_rounded_constant_growth_never_has_a_sharpe(
    rate: float, decimals: int, base: float, rf: float
) -> None:
    r = _rounded_returns(base, rate, decimals)
    q = _rounded_returns(base * 3, rate, decimals)
    m = compute_metrics(r, q, risk_free=rf)
    assert math.isnan(m["sharpe"])
    assert math.isnan(m["beta"])


def test_a_normal_random_series_is_unaffected() -> None:
    rng = np.random.default_rng(11)
    port = rng.normal(0.0005, 0.012, 500)
    bench = rng.normal(0.0004, 0.01, 500)
    m = compute_metrics(port, bench, risk_free=0.02)
    assert math.isclose(m["sharpe"], empyrical.sharpe_ratio(port, risk_free=0.02 / 252), rel_tol=1e-12)
    assert math.isclose(m["annual_volatility"], empyrical.annual_volatility(port), rel_tol=1e-12)
    _, beta = empyrical.alpha_beta(port, bench, risk_free=0.02 / 252)
    assert math.isclose(m["beta"], beta, rel_tol=1e-9)


def test_cluster_weights_ignore_a_trial_without_dispersion() -> None:
    from engine.analytics.statistics import cluster_sharpes, deflated_sharpe_of_returns

    flat = _rounded_returns(100.0, 0.001, 6).to_numpy()
    noisy = np.random.default_rng(2).normal(0.0005, 0.01, flat.size)
    both = np.column_stack([flat, noisy])
    # one cluster of the two: inverse-variance weights would put ~all weight on the flat one
    got = cluster_sharpes(both, np.array([0, 0]))
    assert math.isclose(got[0], float(annual_sharpe(noisy[None, :])[0]), rel_tol=1e-9)
    assert math.isnan(deflated_sharpe_of_returns(flat, [1.0, 2.0]))


def test_sortino_of_rounding_noise_is_nan_everywhere() -> None:
    """constant-return-series kind, variant: returns that are 1e-17 noise around zero.

    Their downside deviation (~7e-18) is rounding residue like their std, so Sortino is
    undefined (NaN), as Sharpe is; it was -2.21 (a ratio of two residues). A constant
    loss keeps empyrical's Sortino: -0.001 a day gives -0.001 * 252 / (0.001 * sqrt(252)).
    """
    noise = np.random.default_rng(1).normal(0.0, 1e-17, 250)
    assert math.isnan(compute_metrics(noise)["sortino"])
    assert math.isnan(compute_metrics(noise)["sharpe"])
    real = np.random.default_rng(2).normal(0.0005, 0.01, 250)
    out = column_metric(np.column_stack([noise, real]), "sortino")
    assert math.isnan(out[0]) and math.isfinite(out[1])
    loss = np.full(250, -0.001)
    expected = float(empyrical.sortino_ratio(loss))
    assert expected == pytest.approx(-math.sqrt(252))
    assert compute_metrics(loss)["sortino"] == pytest.approx(expected, rel=1e-12)
    assert column_metric(loss[:, None], "sortino")[0] == pytest.approx(expected, rel=1e-12)


def test_first_best_treats_values_equal_up_to_rounding_as_one() -> None:
    """The sweep's best row and a walk-forward fold's winner: the first of the highest."""
    assert first_best([0.2522577244880066, 0.2522577244879997, 0.25225772448800844]) == 0
    assert first_best([0.1, 0.3, 0.30000000000000004]) == 1
    assert first_best([math.nan, 0.3, 0.2]) == 1
    assert first_best([math.nan, math.nan]) == -1
    assert first_best([1.0, math.inf, math.inf]) == 1
    assert first_best([0.3, 0.3 + 1e-7]) == 1  # a real difference


@pytest.mark.parametrize(
    ("risk_free", "before"),
    [(0.2519, 104.4701850828153), (0.252, -0.0814097103014)],
)
def test_sortino_of_a_quoted_constant_growth_near_the_risk_free_rate_is_nan(
    risk_free: float, before: float
) -> None:
    """constant-return-series kind, variant with a risk-free rate: 100 x 1.001^t quoted to
    4 decimals (returns 0.001 up to the quotes' rounding, std 3.3e-7: no volatility, Sharpe
    NaN). Against a risk-free rate of 0.2519 or 0.252 a year (0.0009996 and 0.001 a day)
    its excess return is within its rounding of 0, and its downside deviation is the
    rounding: the Sortino was 104.47 and -0.0814, ratios of the quotes' rounding. No
    dispersion and no loss beyond rounding: no downside deviation, Sortino NaN (as for a
    constant gain). A constant loss keeps empyrical's -sqrt(252)."""
    prices = np.round(100.0 * 1.001 ** np.arange(301), 4)
    r = prices[1:] / prices[:-1] - 1.0
    m = compute_metrics(r, risk_free=risk_free)
    assert math.isnan(m["sharpe"]) and m["annual_volatility"] == 0.0
    assert math.isnan(m["sortino"]), f"was {before}"
    assert math.isnan(column_metric(r[:, None], "sortino", risk_free=risk_free)[0])
    # well below: a constant loss of 3.2e-5 a day, empyrical's -sqrt(252) up to the rounding
    loss = compute_metrics(r, risk_free=0.26)["sortino"]
    assert loss == pytest.approx(-math.sqrt(252), rel=1e-3)
    assert column_metric(r[:, None], "sortino", risk_free=0.26)[0] == pytest.approx(loss, rel=1e-12)


def test_information_ratio_of_two_series_without_dispersion_is_nan() -> None:
    """constant-return-series kind, benchmark role: a portfolio holding 100 x 1.001^t
    quoted to 4 decimals against the same growth at full precision (or quoted at another
    price scale). Both have no volatility (Sharpe NaN, beta NaN); their active return is
    the quotes' rounding around 0 (std 3.3e-7, mean ~1e-9), so the information ratio was
    a ratio of rounding (-0.0566, -0.0287) and the tracking error 0.0005%. Two series
    without dispersion differ by a constant: tracking error 0, information ratio NaN."""
    t = np.arange(301)

    def returns(prices: np.ndarray) -> np.ndarray:
        return prices[1:] / prices[:-1] - 1.0

    quoted = returns(np.round(100.0 * 1.001**t, 4))
    for bench in (returns(100.0 * 1.001**t), returns(np.round(37.0 * 1.001**t, 4))):
        m = compute_metrics(quoted, bench)
        assert m["annual_volatility"] == 0.0 and math.isnan(m["beta"])
        assert m["tracking_error"] == 0.0
        assert math.isnan(m["information_ratio"])
    # a real active return keeps its ratio
    rng = np.random.default_rng(4)
    moving = rng.normal(0.0005, 0.01, 300)
    m = compute_metrics(quoted, moving)
    active = quoted - moving
    assert m["information_ratio"] == pytest.approx(
        active.mean() / active.std(ddof=1) * math.sqrt(252), rel=1e-9
    )


@pytest.mark.parametrize("loss", [-0.00017, -0.0000152, -0.00001])
def test_sortino_of_a_small_real_loss_beside_a_large_gain_is_empyricals(loss: float) -> None:
    """constant-return-series kind, the other side of the rule: ``[0.0306, loss]`` has a
    real dispersion (std 0.0216), and its one loss is real, only ~1e-3 of the mean gain.
    The relative part of the zero-dispersion rule (std <= 1e-3 x |mean|) was applied to
    the downside deviation too: Sortino NaN where empyrical gives 22,580 (loss
    -0.0000152) and 34,327 (-0.00001); only floating-point residue is no downside."""
    r = np.array([0.0306, loss])
    expected = float(empyrical.sortino_ratio(r))
    assert math.isfinite(expected) and expected > 1_000
    assert compute_metrics(r)["sortino"] == pytest.approx(expected, rel=1e-12)
    assert column_metric(r[:, None], "sortino")[0] == pytest.approx(expected, rel=1e-12)


def test_zero_within_rounding_snaps_residue_only() -> None:
    """The one rule for a difference that is 0 up to rounding (a change signal, the
    robustness report's excess return): within 1e-10 of 0 it is +0.0; NaN stays."""
    assert zero_within_rounding(-2.7755575615628914e-16) == 0.0
    assert math.copysign(1.0, zero_within_rounding(-1e-17)) == 1.0
    assert zero_within_rounding(2e-10) == 2e-10
    out = zero_within_rounding(np.array([-3.66e-15, 3.11e-15, 1e-9, np.nan]))
    np.testing.assert_array_equal(out, [0.0, 0.0, 1e-9, np.nan])


def test_a_fund_accruing_2_5_percent_a_year_quoted_to_4_decimals_has_no_ratios() -> None:
    """Breaker pass 13, F2: MMF = round(100 x 1.0001^t, 4) on 2022's sessions, returns 1e-4
    +- the half-tick's 5e-7 (std/mean 4.0e-3). Before: volatility 0.00% but Sharpe 3,928,
    correlation -0.016 with AAA; as the benchmark beta -5,227 and alpha 8e47%; 99.998% of
    inverse-volatility weight. Right (README, Metrics): no dispersion, so no ratio."""
    from engine import compute_weights

    dates = pd.bdate_range("2022-01-03", periods=252)
    t = np.arange(dates.size)
    mmf = np.round(100.0 * 1.0001**t, 4)
    aaa = 100.0 * np.cumprod(1.0 + np.random.default_rng(5).normal(0.0005, 0.01, dates.size))
    prices = pd.DataFrame({"MMF": mmf, "AAA": aaa}, index=dates)
    out = analyze_stocks(prices, ["MMF", "AAA"])
    row = out.metrics.set_index("symbol").loc["MMF"]
    assert row["annual_volatility"] == 0.0 and math.isnan(row["sharpe"])
    assert math.isnan(out.correlation.loc["MMF", "AAA"])
    returns = prices.pct_change().dropna().to_numpy()
    as_benchmark = compute_metrics(returns[:, 1], returns[:, 0])
    assert math.isnan(as_benchmark["beta"]) and math.isnan(as_benchmark["alpha"])
    weights, reason = compute_weights("inverse_volatility", returns[-60:], names=["MMF", "AAA"])
    assert weights.tolist() == [0.5, 0.5] and reason is not None and "MMF" in reason


def test_the_same_fund_at_a_price_of_1_keeps_its_rounding_as_dispersion() -> None:
    # At 1 quoted to 4 decimals the 0.1% a day series' rounding spread is ~4% of its mean:
    # counted as real (README's example, Sharpe ~430), as the standard libraries count it.
    r = _rounded_returns(1.0, 0.001, 4, n=252).to_numpy()
    m = compute_metrics(r)
    assert 300 < m["sharpe"] < 600
    assert math.isclose(m["sharpe"], empyrical.sharpe_ratio(r), rel_tol=1e-9)
