"""Sharpe-ratio statistics (``engine.analytics.statistics``): deflated Sharpe (the paper's
example by hand), the probabilistic Sharpe ratio, the expected maximum Sharpe of many
trials, and the stationary bootstrap's indices (a private kernel of this layer)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from scipy import stats

from engine.analytics import statistics as st

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


@settings(max_examples=40, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1), n=hst.integers(3, 120), ties=hst.booleans())
def test_maxclust_labels_are_fclusters(seed: int, n: int, ties: bool) -> None:
    from scipy.cluster.hierarchy import fcluster, linkage

    from engine.analytics.statistics import _maxclust_labels

    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, 3))
    if ties:  # duplicated points: merges at equal heights, where maxclust may give fewer clusters
        points[: n // 2] = np.round(points[: n // 2], 0)
    tree = linkage(points, method="average")
    labels = _maxclust_labels(tree)
    for k in range(2, min(n - 1, 50) + 1):
        assert labels(k).tolist() == fcluster(tree, k, criterion="maxclust").tolist()


@settings(max_examples=300, deadline=None)
@given(
    seed=hst.integers(0, 2**32 - 1),
    n=hst.integers(3, 3000),
    kind=hst.sampled_from(["normal", "constant", "quoted", "fat", "offset", "huge"]),
)
def test_skew_kurtosis_are_scipys_bits(seed: int, n: int, kind: str) -> None:
    """The DSR's moments without scipy's argument handling have scipy's bits: normal and
    fat-tailed returns at every scale, constants (NaN), returns quoted to 4 decimals, a
    large mean (the eps x mean rule), huge values (overflow to inf/NaN)."""
    rng = np.random.default_rng(seed)
    r = {
        "normal": lambda: rng.normal(0.0, 10.0 ** float(rng.integers(-6, 3)), n),
        "constant": lambda: np.full(n, rng.normal()),
        "quoted": lambda: np.round(rng.normal(0.001, 0.01, n), 4),
        "fat": lambda: rng.standard_t(3, n) * 1e-3,
        "offset": lambda: rng.normal(0.0, 1e-9, n) + 0.5,
        "huge": lambda: rng.normal(0.0, 1e300, n),
    }[kind]()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = (float(stats.skew(r)), float(stats.kurtosis(r, fisher=False)))
        got = st._skew_kurtosis(r)
    assert np.array(got).tobytes() == np.array(expected).tobytes()
