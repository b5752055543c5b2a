"""Probability of backtest overfitting (CSCV): a hand case, a brute-force twin, known answers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import engine
from engine import ParameterError, compute_metrics
from engine.analytics.pbo import (
    SELECTION_METRICS,
    PBOSettings,
    column_metric,
    probability_of_backtest_overfitting,
)
from engine.dispersion import first_best, tied


def test_tiny_case_by_hand() -> None:
    """T = 4 days, N = 2 configurations, S = 2 halves of 2 days, metric total return.
    A: +1%, +3% | -1%, 0%      -> halves 4.03%, -1%
    B:  0%, +2% | +2%, +1%     -> halves 2%, 3.02%
    Combination 1: IS = first half, A wins (4.03% > 2%); OOS A -1% < B 3.02%: rank 1 of 2.
    Combination 2: IS = second half, B wins (3.02% > -1%); OOS B 2% < A 4.03%: rank 1.
    w = 1 / 3 both times, logit ln(0.5) < 0: PBO = 1."""
    returns = np.array([[0.01, 0.0], [0.03, 0.02], [-0.01, 0.02], [0.0, 0.01]])
    result = probability_of_backtest_overfitting(returns, PBOSettings(n_splits=2, metric="total_return"))
    assert result.n_combinations == 2
    np.testing.assert_allclose(result.logits, [math.log(0.5), math.log(0.5)])
    assert result.pbo == 1.0
    np.testing.assert_allclose(result.is_metric, [1.01 * 1.03 - 1, 1.02 * 1.01 - 1])
    np.testing.assert_allclose(result.oos_metric, [0.99 - 1, 1.02 - 1], atol=1e-15)
    assert result.probability_of_loss == 0.5
    assert result.rows_per_split == 2 and result.n_days_used == 4


def _brute_force_pbo(matrix: np.ndarray, s: int, metric: str) -> np.ndarray:
    """The paper's procedure written plainly: one pass over the rows per combination, with
    the engine's metrics (compute_metrics) per column."""
    t, n = matrix.shape
    size = t // s
    blocks = [matrix[t - size * s + i * size : t - size * s + (i + 1) * size] for i in range(s)]
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        is_rows = np.vstack([blocks[i] for i in combo])
        oos_rows = np.vstack([blocks[i] for i in range(s) if i not in combo])
        is_m = np.array([compute_metrics(is_rows[:, j])[metric] for j in range(n)])
        oos_m = np.array([compute_metrics(oos_rows[:, j])[metric] for j in range(n)])
        best = int(np.argmax(is_m))
        rank = stats.rankdata(oos_m)[best]  # average ranks, 1 = worst
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    return np.array(logits)


@pytest.mark.parametrize("metric", SELECTION_METRICS)
def test_matches_a_brute_force_twin(metric: str) -> None:
    rng = np.random.default_rng(11)
    matrix = rng.normal(0.0004, 0.01, (123, 5))  # 123 = 6 x 20 + 3 rows left out
    result = probability_of_backtest_overfitting(matrix, PBOSettings(n_splits=6, metric=metric))
    expected = _brute_force_pbo(matrix, 6, metric)
    assert result.n_combinations == math.comb(6, 3) == len(expected)
    np.testing.assert_allclose(result.logits, expected, rtol=1e-9, atol=1e-12)
    assert result.pbo == pytest.approx(np.mean(expected <= 0))
    assert result.n_days_used == 120


def test_pure_noise_gives_pbo_near_one_half() -> None:
    rng = np.random.default_rng(2015)
    values = []
    for _ in range(4):
        noise = rng.normal(0.0, 0.01, (1000, 40))
        values.append(probability_of_backtest_overfitting(noise, PBOSettings(n_splits=16)).pbo)
    assert 0.35 < float(np.mean(values)) < 0.65
    assert all(0.15 < v < 0.85 for v in values)


def test_planted_edge_gives_pbo_near_zero() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(0.0, 0.01, (1000, 40))
    matrix[:, 17] += 0.002  # a Sharpe ratio of about 3 a year against noise
    result = probability_of_backtest_overfitting(matrix, PBOSettings(n_splits=16))
    assert result.pbo < 0.05
    assert result.probability_of_loss < 0.05
    assert np.nanmedian(result.logits) > 2.0


def test_undefined_metrics_never_win_and_rank_last() -> None:
    # Column 0 is all cash (no Sharpe ratio); it must never be the in-sample best.
    rng = np.random.default_rng(3)
    matrix = np.column_stack([np.zeros(80), rng.normal(0.001, 0.01, (80, 3))])
    result = probability_of_backtest_overfitting(matrix, PBOSettings(n_splits=4))
    assert np.isfinite(result.logits).all()
    assert np.isfinite(result.is_metric).all()


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.zeros((40, 1)), "at least 2 configurations"),
        (np.arange(60.0).reshape(20, 3) * 1e-3, "too few"),
        (np.full((40, 3), np.nan), "missing or infinite"),
        (np.full((40, 3), -1.5), "-100%"),
        (np.zeros(40), "two-dimensional"),
    ],
)
def test_bad_matrices_are_refused_in_one_sentence(matrix: np.ndarray, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        probability_of_backtest_overfitting(matrix, PBOSettings(n_splits=16))


@pytest.mark.parametrize(
    "changes", [{"n_splits": 3}, {"n_splits": 22}, {"n_splits": 0}, {"metric": "calmar"}, {"risk_free": 2.0}]
)
def test_settings_are_validated(changes: dict) -> None:
    with pytest.raises(ParameterError):
        PBOSettings(**changes)


@settings(max_examples=40, deadline=None)
@given(
    days=st.integers(min_value=2, max_value=300),
    seed=st.integers(min_value=0, max_value=10_000),
    risk_free=st.sampled_from([0.0, 0.03]),
    metric=st.sampled_from(SELECTION_METRICS),
)
def test_column_metric_equals_compute_metrics(days: int, seed: int, risk_free: float, metric: str) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0005, 0.02, (days, 3))
    matrix[:, 2] = 0.0  # cash: undefined Sharpe and Sortino
    got = column_metric(matrix, metric, risk_free=risk_free)
    for j in range(3):
        want = compute_metrics(matrix[:, j], risk_free=risk_free)[metric]
        if math.isnan(want):
            assert math.isnan(got[j])
        else:
            assert got[j] == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_constant_growth_has_no_sharpe_ratio() -> None:
    # Dispersion of floating-point noise only: undefined, as compute_metrics says for a constant.
    matrix = np.full((250, 2), 0.001)
    assert np.isnan(column_metric(matrix, "sharpe")).all()


def test_engine_exports_pbo() -> None:
    assert engine.probability_of_backtest_overfitting is probability_of_backtest_overfitting
    assert "PBOSettings" in engine.__all__


def test_identical_configurations_have_no_overfitting_probability() -> None:
    """constant-return-series kind, variant: every configuration trades identically.
    There is nothing to choose, so there is no PBO (every logit was exactly 0 and the
    rule lambda <= 0 gave 1.0, "certainly overfit")."""
    rng = np.random.default_rng(3)
    one = rng.normal(0.0005, 0.01, 160)
    with pytest.raises(ParameterError, match="all 4 trade identically"):
        probability_of_backtest_overfitting(np.column_stack([one] * 4))


def test_identical_columns_count_once() -> None:
    """Copies of a configuration are one configuration (as the DSR counts distinct return
    series): the PBO of a matrix with repeated columns is that of its distinct columns."""
    rng = np.random.default_rng(4)
    distinct = rng.normal(0.0003, 0.01, (160, 5))
    repeated = np.column_stack([distinct, distinct[:, [0, 0, 3]]])
    alone = probability_of_backtest_overfitting(distinct)
    with_copies = probability_of_backtest_overfitting(repeated)
    assert with_copies.pbo == alone.pbo
    np.testing.assert_array_equal(with_copies.logits, alone.logits)
    assert (with_copies.n_configs, with_copies.n_identical) == (5, 3)
    assert (alone.n_configs, alone.n_identical) == (5, 0)


def test_configurations_equal_up_to_rounding_count_once() -> None:
    """constant-return-series kind (ties up to rounding), PBO: configurations that trade
    the same portfolios in other bits (equal and inverse-volatility weights of symbols
    with one return series: returns 2.2e-16 apart) gave a PBO of 0.137, while bit-identical
    copies were refused. They are one configuration: the PBO is that of the distinct ones,
    and two such columns alone are refused."""
    rng = np.random.default_rng(5)
    distinct = rng.normal(0.0003, 0.01, (160, 5))
    twins = distinct[:, [0, 3]] * (1 + 1e-15)
    assert not np.array_equal(twins[:, 0], distinct[:, 0])
    alone = probability_of_backtest_overfitting(distinct)
    with_twins = probability_of_backtest_overfitting(np.column_stack([distinct, twins]))
    assert with_twins.pbo == alone.pbo
    np.testing.assert_array_equal(with_twins.logits, alone.logits)
    with pytest.raises(ParameterError, match="trade identically"):
        probability_of_backtest_overfitting(np.column_stack([distinct[:, 0], twins[:, 0]]))


def _quoted_constant_growth(decimals: int = 4, days: int = 300) -> np.ndarray:
    """Returns of a price of 100 growing exactly 0.1% a day, quoted to ``decimals``: they
    differ only by the quotes' rounding (std 3.3e-7 around 0.001, below the zero-dispersion
    rule's 1e-3 x |mean|), so the series has no volatility (README, Metrics)."""
    prices = np.round(100.0 * 1.001 ** np.arange(days + 1), decimals)
    return prices[1:] / prices[:-1] - 1.0


@pytest.mark.parametrize("risk_free", [0.0, 0.03, 0.2, 0.252])
def test_column_metric_judges_zero_dispersion_on_the_returns_as_compute_metrics(risk_free: float) -> None:
    # The rule is judged on r, not on r - rf: with risk_free 0.2 the excess mean is
    # 0.001 - 0.2/252 = 0.000206, and std 3.3e-7 is above 1e-3 x 0.000206, so the
    # column Sharpe was 9,853.87 (and -0.0202 at 0.252, a ratio of rounding residue)
    # where compute_metrics (and the metric cards) say NaN: the walk-forward and the PBO
    # picked such a series as their in-sample best, the rolling chart drew it.
    r = _quoted_constant_growth()
    assert math.isnan(compute_metrics(r, risk_free=risk_free)["sharpe"])
    assert math.isnan(column_metric(r[:, None], "sharpe", risk_free=risk_free)[0])


def _tie_aware_brute_force(matrix: np.ndarray, s: int) -> np.ndarray:
    """The paper's procedure with the engine's tie rule (``engine.dispersion``): the first
    of the in-sample Sharpe ratios equal up to rounding wins, and out-of-sample Sharpe
    ratios equal up to rounding share their average rank."""
    t, n = matrix.shape
    size = t // s
    blocks = [matrix[t - size * s + i * size : t - size * s + (i + 1) * size] for i in range(s)]
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        is_rows = np.vstack([blocks[i] for i in combo])
        oos_rows = np.vstack([blocks[i] for i in range(s) if i not in combo])
        is_m = np.array([compute_metrics(is_rows[:, j])["sharpe"] for j in range(n)])
        oos_m = np.array([compute_metrics(oos_rows[:, j])["sharpe"] for j in range(n)])
        best = first_best(is_m)
        tie = tied(oos_m, oos_m[best])
        rank = float(np.sum(~tie & (oos_m < oos_m[best]))) + (float(np.sum(tie)) + 1) / 2
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    return np.array(logits)


@pytest.mark.parametrize("seed", range(12))
def test_configurations_equal_on_some_rows_tie_there(seed: int) -> None:
    """B trades as A in the first half of the days and differently after (say a parameter
    that only matters once enough history exists). On the rows where they are equal their
    Sharpe ratios differ by a few ulps (each column's sums are centred on its own mean
    over all rows), and rounding chose the in-sample best between them and ranked one
    above the other out of sample: seed 10 had a PBO of 0 where the right value is 1/6
    (in-sample first half: B picked by rounding, logit 1.10 where A's is 0; in-sample
    second half: the pick ranked 3rd of 3 out of sample, logit 1.10, where it shares ranks
    2 and 3 with its twin, 0.51). They tie: A, the first, wins in sample; they share a
    rank out of sample. 5 of these 12 seeds failed."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0.001, 0.01, 80)
    b = a.copy()
    b[40:] = rng.normal(0.0, 0.01, 40)
    c = rng.normal(0.0005, 0.01, 80)
    matrix = np.column_stack([a, b, c])
    result = probability_of_backtest_overfitting(matrix, PBOSettings(n_splits=4))
    np.testing.assert_allclose(result.logits, _tie_aware_brute_force(matrix, 4), rtol=1e-9, atol=1e-12)
    if seed == 10:
        assert result.pbo == pytest.approx(1 / 6)


def test_column_metric_total_return_and_cagr_of_a_path_back_at_its_start_are_zero() -> None:
    """The one rule of ``engine.analytics.metrics.ending_value``: the walk-forward's and the
    PBO's column_metric gave -2.2e-16 where compute_metrics gives 0."""
    from engine.analytics.pbo import column_metric

    returns = np.array([[1 / 3 - 1.0], [2.0], [0.0]])
    assert column_metric(returns, "total_return")[0] == 0.0 and column_metric(returns, "cagr")[0] == 0.0
