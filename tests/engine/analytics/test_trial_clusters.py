"""``trial_clusters`` reuses each cluster's summed distances across the cuts of its
hierarchy (``_ClusterDistances``) instead of a (n, n) x k product per cut. The chosen
clusters must be those of the first build's loop (kept here as the reference, with the
tie rule ``QUALITY_TIE``, without which rounding chose among equal cuts): the same labels
on factor-structured, duplicated, flat and gapped return matrices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from engine.analytics import statistics as st


def _reference_silhouette(distance: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The first build's silhouette: every cluster's sums by one matrix product."""
    k = int(labels.max()) + 1
    onehot = np.zeros((labels.size, k))
    onehot[np.arange(labels.size), labels] = 1.0
    sizes = onehot.sum(axis=0)
    sums = distance @ onehot
    own = sizes[labels]
    a = np.where(own > 1, sums[np.arange(labels.size), labels] / np.maximum(own - 1, 1), 0.0)
    mean_to = sums / np.maximum(sizes, 1)
    mean_to[np.arange(labels.size), labels] = np.inf
    b = mean_to.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    return np.where(own > 1, np.nan_to_num(s), 0.0)


def _reference_trial_clusters(returns: np.ndarray) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64)
    n = r.shape[1]
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    common = r[np.isfinite(r).all(axis=1)]
    if common.shape[0] < 3:
        return np.arange(n, dtype=np.int64)
    with np.errstate(all="ignore"):
        rho = np.corrcoef(common, rowvar=False)
        flat = st.negligible_dispersion(
            np.std(common, axis=0, ddof=1), np.mean(common, axis=0), np.max(np.abs(common), axis=0)
        )
    rho = np.where(np.isfinite(rho), rho, 0.0)
    rho[flat, :] = 0.0
    rho[:, flat] = 0.0
    np.fill_diagonal(rho, 1.0)
    distance = np.sqrt(np.clip((1.0 - rho) / 2.0, 0.0, None))
    tree = linkage(squareform(distance, checks=False), method="average")
    maxclust = st._maxclust_labels(tree)  # fcluster's cuts (checked against it there)
    best, best_quality = np.arange(n, dtype=np.int64), -np.inf
    for k in range(2, min(n - 1, st.MAX_CLUSTERS) + 1):
        labels = maxclust(k).astype(np.int64) - 1
        if int(labels.max()) + 1 < 2:
            continue
        s = _reference_silhouette(distance, labels)
        spread = float(np.std(s))
        quality = float(np.mean(s)) / spread if spread > 0 else (np.inf if np.mean(s) > 0 else -np.inf)
        if st._better(quality, best_quality):  # ties (equal up to rounding): fewest clusters
            best, best_quality = labels, quality
    _, relabelled = np.unique(best, return_inverse=True)
    return relabelled.astype(np.int64)


def _factor_returns(seed: int, n_days: int, n_trials: int, n_factors: int, noise: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n_days, n_factors))
    loadings = rng.normal(size=(n_factors, n_trials)) * (rng.random((n_factors, n_trials)) < 0.5)
    return 0.01 * (factors @ loadings + noise * rng.normal(size=(n_days, n_trials)))


@settings(max_examples=150, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    n_days=hs.integers(4, 90),
    n_trials=hs.integers(3, 140),
    n_factors=hs.integers(1, 12),
    noise=hs.sampled_from([0.0, 0.05, 0.3, 1.0, 3.0]),
    duplicated=hs.integers(0, 20),
    flat=hs.integers(0, 3),
    gaps=hs.booleans(),
)
def test_the_chosen_clusters_are_the_first_builds(
    seed: int,
    n_days: int,
    n_trials: int,
    n_factors: int,
    noise: float,
    duplicated: int,
    flat: int,
    gaps: bool,
) -> None:
    r = _factor_returns(seed, n_days, n_trials, n_factors, noise)
    rng = np.random.default_rng(seed + 1)
    if duplicated:  # identical and scaled copies: tied merge heights in the tree
        picks = rng.integers(0, n_trials, duplicated)
        r = np.column_stack([r, r[:, picks] * rng.choice([1.0, 2.0, -1.0], duplicated)])
    if flat:  # trials without dispersion: uncorrelated with everything
        r = np.column_stack([r, np.full((n_days, flat), 1e-4)])
    if gaps:
        r[rng.random(r.shape) < 0.02] = np.nan
    np.testing.assert_array_equal(st.trial_clusters(r), _reference_trial_clusters(r))


@pytest.mark.parametrize(("n_trials", "n_days"), [(300, 120), (600, 60)])
def test_large_sweeps_choose_the_same_clusters(n_trials: int, n_days: int) -> None:
    """Sizes where the shared sums matter (hundreds of distinct trials, up to 50 cuts)."""
    for seed in range(3):
        r = _factor_returns(seed, n_days, n_trials, 10, 0.5)
        np.testing.assert_array_equal(st.trial_clusters(r), _reference_trial_clusters(r))


def test_one_silhouette_alone_matches_the_product() -> None:
    """``_silhouette`` without the shared sums (one cut) agrees with the product."""
    rng = np.random.default_rng(7)
    points = rng.normal(size=(40, 3))
    distance = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=-1))
    labels = rng.integers(0, 5, 40)
    labels[:5] = np.arange(5)  # every cluster present
    np.testing.assert_allclose(
        st._silhouette(distance, labels), _reference_silhouette(distance, labels), rtol=1e-12, atol=1e-15
    )


def test_equal_cuts_are_a_tie_decided_for_the_fewest_clusters() -> None:
    """Three trials without dispersion: as one cluster or as three singletons, their
    silhouettes are 0 either way, so the two cuts have the same quality in exact
    arithmetic and differ by rounding only (the first build's product and the shared
    sums round them in opposite directions). The tie goes to the fewest clusters."""
    r = np.column_stack([_factor_returns(3, 9, 62, 11, 3.0), np.full((9, 3), 1e-4)])
    labels = st.trial_clusters(r)
    assert labels[-1] == labels[-2] == labels[-3]
    assert int(labels.max()) + 1 == 4


@pytest.mark.parametrize(
    ("quality", "best", "expected"),
    [
        (1.5030541090405860, 1.5030541090405856, False),  # rounding apart: a tie
        (1.5031, 1.5030, True),
        (1.0, -np.inf, True),
        (np.inf, 2.0, True),
        (-1.0, -1.0 - 1e-14, False),
        (-1.0, -1.1, True),
    ],
)
def test_better_means_more_than_a_tie(quality: float, best: float, expected: bool) -> None:
    assert st._better(quality, best) is expected
