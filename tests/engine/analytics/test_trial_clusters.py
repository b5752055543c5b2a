"""``trial_clusters`` reuses each cluster's summed distances across the cuts of its
hierarchy (``_ClusterDistances``) instead of a (n, n) x k product per cut. The chosen
clusters must be those of the first build's loop (kept here as the reference, with the
tie rule ``QUALITY_TIE``, without which rounding chose among equal cuts): the same labels
on factor-structured, duplicated, flat and gapped return matrices."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from engine import dispersion
from engine.analytics import statistics as st
from engine.dispersion import TIE_RTOL


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
    s = np.where(own > 1, np.nan_to_num(s), 0.0)
    return np.where(np.abs(s) < st.SILHOUETTE_ZERO, 0.0, s)  # the rounding rule, as the engine


def _numpy_distance(common: np.ndarray) -> np.ndarray:
    """The numpy builds' distance matrix of the trials (columns of ``common``, every day
    finite): sqrt((1 - rho) / 2), a trial without dispersion uncorrelated with all."""
    with np.errstate(all="ignore"):
        rho = np.corrcoef(common, rowvar=False)
        flat = st.negligible_dispersion(
            np.std(common, axis=0, ddof=1), np.mean(common, axis=0), np.max(np.abs(common), axis=0)
        )
    rho = np.where(np.isfinite(rho), rho, 0.0)
    rho[flat, :] = 0.0
    rho[:, flat] = 0.0
    np.fill_diagonal(rho, 1.0)
    return np.sqrt(np.clip((1.0 - rho) / 2.0, 0.0, None))


def _distinct_common_days(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the common days of the distinct columns, each column's label): columns equal day
    by day up to rounding on the days all share are one (``_reference_distinct_series``)."""
    r = np.asarray(returns, dtype=np.float64)
    common = r[np.isfinite(r).all(axis=1)]
    same = _reference_distinct_series(list(common.T))
    return common[:, np.unique(same, return_index=True)[1]], same


def _reference_trial_clusters(returns: np.ndarray) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64)
    n = r.shape[1]
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    common = r[np.isfinite(r).all(axis=1)]
    if common.shape[0] < 3:
        return np.arange(n, dtype=np.int64)
    distinct, same = _distinct_common_days(common)
    if distinct.shape[1] < n:  # ties on the common days: one point each
        return same if distinct.shape[1] <= 2 else _reference_trial_clusters(distinct)[same]
    distance = _numpy_distance(common)
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


# ----- the previous build (numpy), kept to check the compiled one bit for bit ---------


class _PreviousClusterDistances:
    """The previous build's shared sums (numpy, before ``_cut_silhouettes``). Each item's summed distance to every cluster of successive cuts of one hierarchy
    (``maxclust`` for k = 2, 3, ... in ``trial_clusters``). The cuts share most of their
    clusters, and a new cluster is part of a cluster of the previous cut: a cluster seen
    before is not summed again, and of the parts of a split parent all but the largest
    are summed and the largest is the parent's sums minus theirs. A cut then costs
    (n, the smaller parts) additions instead of the (n, n) x k product of every cut."""

    def __init__(self, distance: np.ndarray) -> None:
        self.distance = distance
        self.known: dict[tuple[int, int], np.ndarray] = {}  # (first member, size) -> (n,) sums
        # The cluster of each item in the previous cut: the whole set before the first.
        n = distance.shape[0]
        self.whole = (0, n)
        self.parent_of = np.zeros(n, dtype=np.int64)  # index into parent_keys
        self.parent_keys: list[tuple[int, int]] = [self.whole]

    def sums(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """((n, k) summed distance of each item to each cluster, (k,) cluster sizes) for
        ``labels`` 0..k-1, a cut of the hierarchy at least as fine as the previous one.
        Clusters of one hierarchy are nested, so (first member, size) names one."""
        n, k = labels.size, int(labels.max()) + 1
        order = np.argsort(labels, kind="stable")
        sizes = np.bincount(labels, minlength=k)
        bounds = np.concatenate(([0], np.cumsum(sizes)))
        members = [order[bounds[c] : bounds[c + 1]] for c in range(k)]
        keys = [(int(m[0]), int(m.size)) for m in members]
        out = np.empty((n, k))
        by_parent: dict[int, list[int]] = {}
        for c in range(k):
            if keys[c] in self.known:
                out[:, c] = self.known[keys[c]]
                continue
            parents = self.parent_of[members[c]]
            if np.all(parents == parents[0]):
                by_parent.setdefault(int(parents[0]), []).append(c)
            else:  # not a refinement of the previous cut (never for one tree): no shortcut
                out[:, c] = self.known[keys[c]] = self.distance[:, members[c]].sum(axis=1)
        for parent, parts in by_parent.items():
            self._split(self.parent_keys[parent], [members[c] for c in parts], [keys[c] for c in parts])
            for c in parts:
                out[:, c] = self.known[keys[c]]
        self.parent_keys = keys
        self.parent_of = labels.copy()
        return out, sizes

    def _split(self, parent: tuple[int, int], parts: list[np.ndarray], keys: list[tuple[int, int]]) -> None:
        """Sums of the new ``parts`` of ``parent``; when they make up all of it (with any
        parts already known), the largest new part is the parent's sums minus the rest."""
        if parent == self.whole and parent not in self.known:
            self.known[parent] = self.distance.sum(axis=1)
        largest = max(range(len(parts)), key=lambda i: parts[i].size)
        covered = sum(p.size for p in parts)
        whole_parent = parent in self.known and covered == parent[1]
        for i, (part, key) in enumerate(zip(parts, keys, strict=True)):
            if not (whole_parent and i == largest):
                self.known[key] = self.distance[:, part].sum(axis=1)
        if whole_parent:
            rest = sum(self.known[key] for i, key in enumerate(keys) if i != largest)
            self.known[keys[largest]] = self.known[parent] - rest


def _previous_silhouette(
    distance: np.ndarray, labels: np.ndarray, clusters: _PreviousClusterDistances | None = None
) -> np.ndarray:
    """Silhouette coefficient of each item (Rousseeuw 1987) from a distance matrix.

    ``clusters``: the sums already computed for the coarser cuts of the same hierarchy
    (``trial_clusters``); None computes them for these labels alone."""
    clusters = clusters if clusters is not None else _PreviousClusterDistances(distance)
    n = labels.size
    sums, sizes = clusters.sums(labels)  # (n, k) total distance of each item to each cluster
    own = sizes[labels]
    a = np.where(own > 1, sums[np.arange(n), labels] / np.maximum(own - 1, 1), 0.0)
    mean_to = sums / np.maximum(sizes, 1)
    mean_to[np.arange(n), labels] = np.inf
    b = mean_to.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s = np.where(own > 1, np.nan_to_num(s), 0.0)
    return np.where(np.abs(s) < st.SILHOUETTE_ZERO, 0.0, s)  # the rounding rule, as the engine


def _previous_trial_clusters(returns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The previous build's ``trial_clusters`` (numpy shared sums): (labels, each cut's
    silhouettes, NaN rows for cuts of fewer than two clusters)."""
    r = np.asarray(returns, dtype=np.float64)
    n = r.shape[1] if r.ndim == 2 else 0
    if n <= 2:
        return np.arange(n, dtype=np.int64), []
    common = r[np.isfinite(r).all(axis=1)]
    if common.shape[0] < 3:
        return np.arange(n, dtype=np.int64), []
    distinct, same = _distinct_common_days(common)
    if distinct.shape[1] < n:  # ties on the common days: one point each
        if distinct.shape[1] <= 2:
            return same, []
        labels, silhouettes = _previous_trial_clusters(distinct)
        return labels[same], silhouettes
    distance = _numpy_distance(common)
    tree = linkage(squareform(distance, checks=False), method="average")
    maxclust = st._maxclust_labels(tree)
    clusters = _PreviousClusterDistances(distance)  # shared by the cuts: each cluster summed once
    best, best_quality = np.arange(n, dtype=np.int64), -np.inf
    silhouettes = []
    for k in range(2, min(n - 1, st.MAX_CLUSTERS) + 1):
        labels = maxclust(k).astype(np.int64) - 1
        if int(labels.max()) + 1 < 2:
            silhouettes.append(np.full(n, np.nan))
            continue
        s = _previous_silhouette(distance, labels, clusters)
        silhouettes.append(s)
        spread = float(np.std(s))
        quality = float(np.mean(s)) / spread if spread > 0 else (np.inf if np.mean(s) > 0 else -np.inf)
        if st._better(quality, best_quality):
            best, best_quality = labels, quality
    _, relabelled = np.unique(best, return_inverse=True)
    return relabelled.astype(np.int64), silhouettes


def _previous_cluster_sharpes(returns: np.ndarray, labels: np.ndarray, risk_free: float = 0.0) -> np.ndarray:
    """Annualised Sharpe of each cluster's aggregate returns: the inverse-variance
    weighted mix of its trials' daily returns (as López de Prado 2019 aggregates a
    cluster), over the days all its trials share."""
    r = np.asarray(returns, dtype=np.float64)
    out = np.full(int(labels.max()) + 1 if labels.size else 0, np.nan)
    for c in range(out.size):
        members = np.flatnonzero(labels == c)
        block = r[:, members]
        gaps = not np.isfinite(block).all()
        block = block[np.isfinite(block).all(axis=1)]
        if gaps and block.shape[0] >= 3:  # trials equal on the days they share are one
            same = _reference_distinct_series(list(block.T))
            block = r[:, members[np.unique(same, return_index=True)[1]]]
            block = block[np.isfinite(block).all(axis=1)]
        if block.shape[0] < 3:
            continue
        with np.errstate(all="ignore"):
            var = np.var(block, axis=0, ddof=1)
            live = ~st.negligible_dispersion(
                np.sqrt(var), np.mean(block, axis=0), np.max(np.abs(block), axis=0)
            )
        # inverse-variance weights; a trial without dispersion (negligible_dispersion) gets none
        w = np.where(live, 1.0 / np.where(live, var, 1.0), 0.0)
        w = w / w.sum() if w.sum() > 0 else np.full(block.shape[1], 1.0 / block.shape[1])
        out[c] = float(st.annual_sharpe(block @ w, risk_free))
    return out


def _reference_distinct_series(series: Sequence[np.ndarray]) -> np.ndarray:
    """The rule written plainly: each series takes the label of the first earlier label's
    first series of its length that it ties day by day (finite values within TIE_RTOL x
    max(1, |anchor|), non-finite values the same bits), else a new label."""
    anchors: list[np.ndarray] = []
    labels = np.empty(len(series), dtype=np.int64)
    for i, s in enumerate(series):
        a = np.ascontiguousarray(s, dtype=np.float64).reshape(-1)
        labels[i] = len(anchors)
        for label, b in enumerate(anchors):
            if a.size != b.size:
                continue
            finite = np.isfinite(b)
            same_odd = np.array_equal(a[~finite].view(np.uint64), b[~finite].view(np.uint64))
            if (
                same_odd
                and np.isfinite(a[finite]).all()
                and bool(
                    np.all(np.abs(a[finite] - b[finite]) <= TIE_RTOL * np.maximum(1.0, np.abs(b[finite])))
                )
            ):
                labels[i] = label
                break
        else:
            anchors.append(a)
    return labels


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
    fortran=hs.booleans(),
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
    fortran: bool,
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
    if fortran:
        r = np.asfortranarray(r)
    labels = st.trial_clusters(r)
    np.testing.assert_array_equal(labels, _reference_trial_clusters(r))
    _assert_the_previous_builds_bits(r, labels)


def _cuts_and_distance(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the cuts ``trial_clusters`` scores, its distance matrix), as it computes them."""
    common = returns[np.isfinite(returns).all(axis=1)]
    distance = _numpy_distance(common)
    maxclust = st._maxclust_labels(linkage(squareform(distance, checks=False), method="average"))
    n = distance.shape[0]
    cuts = [maxclust(k).astype(np.int64) - 1 for k in range(2, min(n - 1, st.MAX_CLUSTERS) + 1)]
    return np.array(cuts, dtype=np.int64).reshape(-1, n), distance


def _assert_the_previous_builds_bits(r: np.ndarray, labels: np.ndarray) -> None:
    """The compiled cuts give the previous build's labels, every cut's silhouettes and
    their mean and std bit for bit."""
    previous, silhouettes = _previous_trial_clusters(r)
    np.testing.assert_array_equal(labels, previous)
    if not silhouettes:
        return
    r = _distinct_common_days(r)[0]  # the columns clustered
    cuts, distance = _cuts_and_distance(r)
    got, moments = st._cut_silhouettes(distance, cuts)
    expected = np.array(silhouettes)
    assert got[np.isfinite(expected[:, 0])].tobytes() == expected[np.isfinite(expected[:, 0])].tobytes()
    for row, s in enumerate(silhouettes):
        if math.isnan(s[0]):
            assert np.isnan(moments[row]).all()
        else:
            assert moments[row].tobytes() == np.array([np.mean(s), np.std(s)]).tobytes()


@pytest.mark.parametrize(("n_trials", "n_days"), [(300, 120), (600, 60)])
def test_large_sweeps_choose_the_same_clusters(n_trials: int, n_days: int) -> None:
    """Sizes where the shared sums matter (hundreds of distinct trials, up to 50 cuts)."""
    for seed in range(3):
        r = _factor_returns(seed, n_days, n_trials, 10, 0.5)
        labels = st.trial_clusters(r)
        np.testing.assert_array_equal(labels, _reference_trial_clusters(r))
        _assert_the_previous_builds_bits(r, labels)


def _one_cut_silhouettes(distance: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The compiled kernel's silhouettes of one cut (``labels`` 0..k-1, k >= 2)."""
    cuts = np.ascontiguousarray(labels, dtype=np.int64)[None, :]
    return st._cut_silhouettes(np.ascontiguousarray(distance, dtype=np.float64), cuts)[0][0]


def test_one_silhouette_alone_matches_the_product() -> None:
    """The compiled silhouettes of one cut alone agree with the product."""
    rng = np.random.default_rng(7)
    points = rng.normal(size=(40, 3))
    distance = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=-1))
    labels = rng.integers(0, 5, 40)
    labels[:5] = np.arange(5)  # every cluster present
    np.testing.assert_allclose(
        _one_cut_silhouettes(distance, labels),
        _reference_silhouette(distance, labels),
        rtol=1e-12,
        atol=1e-15,
    )
    assert (
        _one_cut_silhouettes(distance, labels).tobytes() == _previous_silhouette(distance, labels).tobytes()
    )


def test_silhouettes_of_rounding_noise_do_not_choose_the_number_of_trials() -> None:
    """Found by hypothesis under load: 3 flat factor trials, 16 copies of them and 3 flat
    columns, so every trial is without dispersion and every distance is the same. Every
    silhouette is 0 in exact arithmetic; they came out at ~1e-16, and noise over its own
    spread made a cut's quality, so the first build chose 3 clusters and the shared sums 2.
    With silhouettes under SILHOUETTE_ZERO set to 0 no cut has structure: one cluster per
    distinct trial (the unscaled copies, equal on every day, are one), in both builds."""
    r = _factor_returns(1, 28, 3, 1, 0.0)
    rng = np.random.default_rng(2)
    picks = rng.integers(0, 3, 16)
    r = np.column_stack([r, r[:, picks] * rng.choice([1.0, 2.0, -1.0], 16)])
    r = np.column_stack([r, np.full((28, 3), 1e-4)])
    labels = st.trial_clusters(r)
    np.testing.assert_array_equal(labels, _reference_trial_clusters(r))
    np.testing.assert_array_equal(labels, _reference_distinct_series(list(r.T)))


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


@settings(max_examples=150, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    n_days=hs.integers(1, 300),
    n_trials=hs.integers(1, 40),
    n_clusters=hs.integers(1, 8),
    flat=hs.integers(0, 3),
    gaps=hs.sampled_from([0.0, 0.02, 0.3]),
    fortran=hs.booleans(),
    risk_free=hs.sampled_from([0.0, 0.03]),
)
def test_cluster_sharpes_are_the_previous_builds(
    seed: int,
    n_days: int,
    n_trials: int,
    n_clusters: int,
    flat: int,
    gaps: float,
    fortran: bool,
    risk_free: float,
) -> None:
    """Each cluster's Sharpe, bit for bit the previous build's (a copy per cluster by a
    boolean column mask): the same days, weights and sums, in any column order."""
    rng = np.random.default_rng(seed)
    r = _factor_returns(seed, n_days, n_trials, 3, 0.5)
    if flat:
        r = np.column_stack([r, np.full((n_days, flat), 1e-4)])
    r[rng.random(r.shape) < gaps] = np.nan
    if fortran:
        r = np.asfortranarray(r)
    labels = rng.integers(0, n_clusters, r.shape[1])
    labels[: min(n_clusters, r.shape[1])] = np.arange(min(n_clusters, r.shape[1]))  # no empty cluster
    got = st.cluster_sharpes(r, labels, risk_free)
    assert got.tobytes() == _previous_cluster_sharpes(r, labels, risk_free).tobytes()


@settings(max_examples=150, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    n_series=hs.integers(0, 30),
    n_distinct=hs.integers(1, 6),
    length=hs.integers(0, 40),
)
def test_distinct_series_follow_the_tie_rule(seed: int, n_series: int, n_distinct: int, length: int) -> None:
    """The labels of the rule written plainly: copies and series a rounding apart (a last
    bit, a relative 1e-15) share a label, -0.0 and 0.0 too; a relative 1e-9 apart, two NaN
    payloads, another length do not; a 2-d row of the same bits is the same series."""
    rng = np.random.default_rng(seed)
    pool = [np.round(rng.normal(size=length), 1) for _ in range(n_distinct)]
    if length:
        pool.append(pool[0].copy())
        pool[-1][-1] = np.nextafter(pool[-1][-1], np.inf)  # a last bit apart
        pool.append(pool[0] * (1 + 1e-15))  # a rounding apart
        pool.append(pool[0] * (1 + 1e-9) + 1e-9)  # a real difference
        zero = np.zeros(length)
        pool += [zero, -zero, np.full(length, np.nan), np.full(length, np.nan).view(np.uint64) ^ np.uint64(1)]
        pool[-1] = pool[-1].view(np.float64)  # another NaN payload
        pool.append(pool[0].reshape(1, -1))  # same bits, another shape
        pool.append(pool[0][::-1].copy())
    pool.append(np.ones(length + 1))
    pool.append(np.zeros((0,)))
    picks = [pool[int(j)].copy() for j in rng.integers(0, len(pool), n_series)]
    picks += [p[...] for p in picks[:3]]  # views of the same arrays
    picks += [pool[0].tolist(), pool[0].astype(np.float32)]  # read as float64
    expected = _reference_distinct_series(picks)
    np.testing.assert_array_equal(st.distinct_series(picks), expected)


@settings(max_examples=200, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    n_days=hs.integers(3, 400),
    n_trials=hs.integers(2, 70),
    flat=hs.integers(0, 3),
    scale=hs.sampled_from([1.0, 1e-9, 1e6]),
    fortran=hs.booleans(),
)
def test_correlation_distances_are_numpys(
    seed: int, n_days: int, n_trials: int, flat: int, scale: float, fortran: bool
) -> None:
    """``_gram`` and ``_correlation_distances`` are ``np.corrcoef``'s correlations and
    ``np.std``'s dispersion verdicts (``negligible_dispersion``) turned into the distance
    matrix by the numpy expression, bit for bit, and the condensed distances are
    ``squareform``'s of that matrix."""
    r = _factor_returns(seed, n_days, n_trials, 3, 0.5) * scale
    if flat:
        r = np.column_stack([r, np.full((n_days, flat), 1e-4), np.zeros((n_days, 1))])
    if fortran:
        r = np.asfortranarray(r)
    with np.errstate(all="ignore"):
        expected = np.corrcoef(r, rowvar=False)
        std, mean, top = np.std(r, axis=0, ddof=1), np.mean(r, axis=0), np.max(np.abs(r), axis=0)
    expected_flat = st.negligible_dispersion(std, mean, top)
    rho = np.where(np.isfinite(expected), expected, 0.0)
    rho[expected_flat, :] = 0.0
    rho[:, expected_flat] = 0.0
    np.fill_diagonal(rho, 1.0)
    distance = np.sqrt(np.clip((1.0 - rho) / 2.0, 0.0, None))
    for total in (None, np.add.reduce(r, axis=0)):  # the caller's column sums or none
        gram, inverse, got_flat = st._gram(r, total)
        np.testing.assert_array_equal(got_flat, expected_flat)
        got, condensed = st._correlation_distances(gram, inverse, got_flat)
        assert got.tobytes() == distance.tobytes()
        assert condensed.tobytes() == squareform(distance, checks=False).tobytes()


@settings(max_examples=200, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    rows=hs.integers(1, 300),
    columns=hs.integers(1, 40),
    special=hs.sampled_from([None, np.nan, np.inf, -np.inf, -0.0]),
    fortran=hs.booleans(),
)
def test_column_spread_is_numpys(
    seed: int, rows: int, columns: int, special: float | None, fortran: bool
) -> None:
    """``_column_spread``: the bits of ``np.var``'s summed squares and of ``np.max(np.abs)``
    per column, in C and F order, one column or more, with NaN, infinities and -0.0."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, columns)) * 10.0 ** rng.integers(-6, 6, size=(rows, columns))
    if special is not None:
        values[rng.random(values.shape) < 0.05] = special
    if fortran:
        values = np.asfortranarray(values)
    with np.errstate(all="ignore"):
        mean = np.mean(values, axis=0)
        squares, top = st._column_spread(values, mean)
        variance = np.var(values, axis=0, ddof=1)
    assert top.tobytes() == np.max(np.abs(values), axis=0).tobytes()
    if rows > 1:  # np.var(ddof=1) is these sums / (rows - 1)
        assert (squares / (rows - 1)).tobytes() == variance.tobytes()
    else:
        assert squares.tobytes() == np.square(values - mean).sum(axis=0).tobytes()


def test_a_read_only_input_is_read_not_written() -> None:
    """The returns are used in place when every day is finite (no copy): a read-only
    array is accepted, left as it was, and gives the previous build's clusters and Sharpes."""
    r = _factor_returns(3, 200, 60, 5, 0.5)
    r.setflags(write=False)
    before = r.copy()
    labels = st.trial_clusters(r)
    np.testing.assert_array_equal(labels, _previous_trial_clusters(r)[0])
    assert st.cluster_sharpes(r, labels).tobytes() == _previous_cluster_sharpes(r, labels).tobytes()
    assert r.tobytes() == before.tobytes()


def test_a_cut_with_an_unused_label_is_refused() -> None:
    """Labels 0..k-1 with one unused (never a cut of fcluster's) are a ValueError, not a
    read past a cluster's members."""
    distance = np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0)))
    with pytest.raises(ValueError, match="each one used"):
        _one_cut_silhouettes(distance, np.array([0, 0, 2, 2, 3, 3]))


_WARM_PROBE = """
import json
import numpy as np
import engine
from engine.analytics import statistics as st

engine.warm_up_kernels()
kernels = sorted(n for n in dir(st) if hasattr(getattr(st, n), "signatures"))
before = {n: len(getattr(st, n).signatures) for n in kernels}
rng = np.random.default_rng(3)
returns = rng.normal(0.0, 0.01, (300, 40))
returns[:20, 5] = np.nan
returns[:, 7] = 0.0
labels = st.trial_clusters(returns)
st.cluster_sharpes(returns, labels, 0.01)
st.distinct_series(list(returns.T))
after = {n: len(getattr(st, n).signatures) for n in kernels}
print(json.dumps({"before": before, "after": after}))
"""


def test_the_warm_up_compiles_every_trial_statistics_kernel_a_sweep_uses() -> None:
    """``engine.warm_up_kernels`` (the web tier's compute processes call it at start) leaves
    nothing for a sweep's trial clustering to compile: a real-sized call adds no signature."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _WARM_PROBE], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    # Kernels called only from other kernels list no signature when loaded from the cache.
    assert counts["before"]["_cut_silhouettes"] > 0 and counts["before"]["_correlation_distances"] > 0, counts
    assert counts["after"] == counts["before"]


@pytest.mark.parametrize("all_candidates", [False, True])
def test_distinct_series_cut_a_chain_of_ties_at_the_anchor(
    monkeypatch: pytest.MonkeyPatch, all_candidates: bool
) -> None:
    """Ties are not transitive: b is 0.6e-10 from a and c 0.6e-10 from b (1.2e-10 from a).
    Each series takes the label of the first anchor (a label's first series) it ties with,
    so a, b, c are 0, 0, 1 and b, a, c (b the anchor) 0, 0, 0; the pre-filter of candidates
    by sums (_may_tie) changes no label."""
    if all_candidates:
        monkeypatch.setattr(dispersion, "_may_tie", lambda series: np.ones(len(series), dtype=bool))
    a = np.random.default_rng(3).normal(0.0, 0.01, 50)
    b, c = a + 0.6e-10, a + 1.2e-10
    assert st.distinct_series([a, b, c]).tolist() == [0, 0, 1]
    assert st.distinct_series([b, a, c]).tolist() == [0, 0, 0]
    assert st.distinct_series([a, b, c]).tolist() == _reference_distinct_series([a, b, c]).tolist()


def _previous_may_tie(series: list[np.ndarray]) -> np.ndarray:
    """``dispersion._may_tie`` before the digests: the group's series stacked and summed."""
    out = np.zeros(len(series), dtype=bool)
    by_length: dict[int, list[int]] = {}
    for i, x in enumerate(series):
        by_length.setdefault(x.size, []).append(i)
    for length, members in by_length.items():
        index = np.asarray(members)
        if len(members) < 2 or length == 0:
            out[index] = len(members) > 1
            continue
        stacked = np.vstack([series[i] for i in members])
        sums = stacked.sum(axis=1)
        finite = np.isfinite(sums)
        out[index[~finite]] = True
        if finite.sum() < 2:
            continue
        kept = stacked if finite.all() else stacked[finite]
        largest = max(1.0, abs(float(kept.max())), abs(float(kept.min())))
        bound = 2.0 * TIE_RTOL * length * largest
        order = np.argsort(sums[finite], kind="stable")
        close = np.diff(sums[finite][order]) <= bound
        near = np.zeros(order.size, dtype=bool)
        near[order[:-1]] |= close
        near[order[1:]] |= close
        out[index[finite][near]] = True
    return out


def test_series_digest_by_hand() -> None:
    """(length, bits summed modulo 2**64, sum, max, min); empty: 0, 0, 0.0, NaN, NaN."""
    x = np.array([1.0, -2.0, 0.5])
    bits = sum(int(v) for v in x.view(np.uint64)) % 2**64
    assert dispersion.series_digest(x) == (3, bits, -0.5, 1.0, -2.0)
    assert dispersion.series_digest([1.0, -2.0, 0.5]) == dispersion.series_digest(x.astype(np.float32))
    assert dispersion.series_digest(x.reshape(1, 3)) == dispersion.series_digest(x)
    length, total, s, top, bottom = dispersion.series_digest(np.array([]))
    assert (length, total, s) == (0, 0, 0.0) and math.isnan(top) and math.isnan(bottom)
    assert dispersion.series_digest(np.array([0.0]))[1] != dispersion.series_digest(np.array([-0.0]))[1]
    with pytest.raises(ValueError, match="one digest per series"):
        dispersion.distinct_series([x, x], [dispersion.series_digest(x)])


@settings(max_examples=150, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    n_series=hs.integers(0, 40),
    lengths=hs.lists(hs.sampled_from([0, 1, 2, 3, 17, 128, 129, 2499, 8193]), min_size=1, max_size=3),
    scale=hs.sampled_from([1e-3, 1.0, 1e8]),
)
def test_digests_give_the_previous_candidates_and_labels(
    seed: int, n_series: int, lengths: list[int], scale: float
) -> None:
    """``_may_tie`` read from the digests picks the candidates the stacked sums picked
    (a series' ``np.sum`` has the bits of its row's sum in the stacked group, at any
    length), and ``distinct_series`` gives the same labels with the digests handed in
    (as a sweep's task computes them) or computed: near-ties a rounding apart, copies,
    NaN and inf days, overflowing sums, several lengths."""
    rng = np.random.default_rng(seed)
    pool: list[np.ndarray] = []
    for length in lengths:
        base = rng.normal(0.0, scale, length)
        pool += [base, base * (1 + 1e-15), base + 1e-11, base * (1 + 1e-9), rng.normal(0.0, scale, length)]
        if length:
            odd = base.copy()
            odd[rng.integers(0, length)] = rng.choice([np.nan, np.inf, -np.inf])
            pool += [odd, odd.copy(), np.full(length, 1e308)]
    picks = [pool[int(j)].copy() for j in rng.integers(0, len(pool), n_series)]
    digests = [dispersion.series_digest(p) for p in picks]
    np.testing.assert_array_equal(dispersion._may_tie(digests), _previous_may_tie(picks))
    labels = dispersion.distinct_series(picks)
    np.testing.assert_array_equal(dispersion.distinct_series(picks, digests), labels)
    np.testing.assert_array_equal(labels, _reference_distinct_series(picks))


@settings(max_examples=100, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    lengths=hs.lists(hs.sampled_from([0, 1, 2, 5, 129, 2499, 8192, 8193, 20001]), min_size=0, max_size=12),
)
def test_stacked_digests_are_each_series_digest(seed: int, lengths: list[int]) -> None:
    """The digests of many series at once (stacked by length) have the bits of each
    series' own ``series_digest``: sums of rows at every length (pairwise blocks included),
    NaN and inf days, overflowing sums, float32 and list inputs, offset views."""
    rng = np.random.default_rng(seed)
    series: list[Any] = []
    for length in lengths:
        x = rng.normal(0.0, 10.0 ** float(rng.integers(-4, 4)), length + 1)[1:]  # an offset view
        if length and rng.random() < 0.3:
            x[rng.integers(0, length)] = rng.choice([np.nan, np.inf, -np.inf, 1e308])
        forms = [x, x.copy(), x.astype(np.float32), x.tolist(), np.full(length, 1e308)]
        series.append(forms[int(rng.integers(0, len(forms)))])
    got = dispersion._digests(series)
    expected = [dispersion.series_digest(s) for s in series]
    assert [np.array(d[2:]).tobytes() for d in got] == [np.array(d[2:]).tobytes() for d in expected]
    assert [d[:2] for d in got] == [d[:2] for d in expected]


def _two_strategies_and_copies_cut_short(days: int = 300, cut: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """(4 full trials: two strategies, each also started a day later (one day's entry cost
    apart, correlated ~0.99999); the 8 trials with a copy of each cut short at ``cut``)."""
    rng = np.random.default_rng(11)
    a, b = rng.normal(0.0, 0.01, (2, days))
    full = np.column_stack([a, b, a, b])
    full[0, 2:] -= 0.0005  # the later start pays its entry cost on another day
    full[1, 2:] += 0.0005
    short = full.copy()
    short[cut:] = np.nan
    return full, np.column_stack([full, short])


def test_trials_equal_on_the_common_days_are_one_point() -> None:
    """Breaker pass 8, F3: a configuration and its copy cut short by ``end`` are equal on
    the days all trials share (distance 0). The cut that isolated such pairs had every
    silhouette 1, std 0, quality inf, and won over the natural cut: 4 clusters where the
    4 full trials alone give 2. Now the copies are one point with their originals: the same
    2 clusters, and the same cluster Sharpes (a copy cut short does not shorten its
    cluster's days)."""
    full, with_copies = _two_strategies_and_copies_cut_short()
    alone = st.trial_clusters(full)
    assert alone[0] == alone[2] != alone[1] == alone[3]
    labels = st.trial_clusters(with_copies)
    assert labels.tolist() == np.tile(alone, 2).tolist()  # before: 4 clusters, [0, 2, 1, 3] twice
    sharpes = st.cluster_sharpes(with_copies, labels)
    assert sharpes.tobytes() == st.cluster_sharpes(full, alone).tobytes()
    # one or two distinct columns: each its own cluster, the copies with their original
    assert st.trial_clusters(with_copies[:, [0, 4, 1]]).tolist() == [0, 0, 1]


def test_distinct_whole_series_skip_the_tie_check_only_when_every_day_is_common() -> None:
    """``trial_clusters(distinct=True)`` (the sweep passes one column per distinct series):
    with every day finite the labels are the plain call's; with days dropped (copies cut
    short) the copies are still merged, as the plain call merges them."""
    rng = np.random.default_rng(11)
    base = rng.normal(0.0005, 0.01, (300, 3))
    matrix = np.ascontiguousarray(np.column_stack([base, base + rng.normal(0, 0.002, (300, 3))]))
    assert st.trial_clusters(matrix, distinct=True).tolist() == st.trial_clusters(matrix).tolist()
    _full, with_copies = _two_strategies_and_copies_cut_short()
    assert st.trial_clusters(with_copies, distinct=True).tolist() == st.trial_clusters(with_copies).tolist()
    assert len(set(st.trial_clusters(with_copies, distinct=True).tolist())) == 2
