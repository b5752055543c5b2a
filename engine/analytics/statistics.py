"""Sharpe-ratio statistics: probabilistic and deflated Sharpe (Bailey & López de Prado 2012, 2014),
expected maximum Sharpe of N trials, stationary bootstrap indices (Politis & Romano 1994),
and vectorised annualised Sharpe and growth over resampled return paths."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

from engine.analytics.nb_metrics import _sum
from engine.compiled import compiled, compiled_ieee
from engine.data.types import TRADING_DAYS
from engine.dispersion import distinct_series, negligible_dispersion

EULER_GAMMA = 0.5772156649015329
_LARGEST = float(np.finfo(np.float64).max)  # np.nan_to_num's +inf


# ----- deflated Sharpe ratio -------------------------------------------------------------


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios whose true value is 0 (per period)."""
    if n_trials < 2 or not math.isfinite(variance) or variance <= 0:
        return 0.0
    quantile_1 = stats.norm.ppf(1.0 - 1.0 / n_trials)
    quantile_2 = stats.norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(math.sqrt(variance) * ((1.0 - EULER_GAMMA) * quantile_1 + EULER_GAMMA * quantile_2))


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark_sharpe: float, n_obs: int, skew: float, kurtosis: float
) -> float:
    """P(true Sharpe > benchmark_sharpe) given an observed per-period Sharpe (PSR)."""
    if n_obs < 2 or not all(map(math.isfinite, (sharpe, benchmark_sharpe, skew, kurtosis))):
        return math.nan
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if spread <= 0:
        return math.nan
    return float(stats.norm.cdf((sharpe - benchmark_sharpe) * math.sqrt(n_obs - 1) / math.sqrt(spread)))


def deflated_sharpe_ratio(
    sharpe: float, *, trials_variance: float, n_trials: int, n_obs: int, skew: float, kurtosis: float
) -> float:
    """DSR: the PSR of the selected strategy against the expected maximum of ``n_trials``."""
    return probabilistic_sharpe_ratio(
        sharpe, expected_max_sharpe(n_trials, trials_variance), n_obs, skew, kurtosis
    )


def deflated_sharpe_of_returns(
    returns: np.ndarray, annual_sharpes: Sequence[float] | np.ndarray, risk_free: float = 0.0
) -> float:
    """DSR of the daily ``returns`` selected as the best of the trials' annualised Sharpes."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    trials = np.asarray([s for s in annual_sharpes if math.isfinite(s)], dtype=np.float64) / math.sqrt(
        TRADING_DAYS
    )
    if r.size < 3 or trials.size == 0:
        return math.nan
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # huge values: moments overflow to inf/NaN
        if negligible_dispersion(float(np.std(r, ddof=1)), float(np.mean(r)), float(np.max(np.abs(r)))):
            return math.nan
        excess = r - risk_free / TRADING_DAYS
        sharpe = float(np.mean(excess) / np.std(excess, ddof=1))
        variance = float(np.var(trials, ddof=1)) if trials.size > 1 else 0.0
        skew, kurtosis = _skew_kurtosis(r)
    return deflated_sharpe_ratio(
        sharpe,
        trials_variance=variance,
        n_trials=int(trials.size),
        n_obs=int(r.size),
        skew=skew,
        kurtosis=kurtosis,
    )


def _skew_kurtosis(r: np.ndarray) -> tuple[float, float]:
    """``(scipy.stats.skew(r), scipy.stats.kurtosis(r, fisher=False))`` (biased moments)
    of a 1-d array of finite values, by scipy's own operations in its order (the central
    moments as ``_moment`` computes them: ``d**2``, ``d**2 * d``, ``(d**2)**2`` averaged;
    NaN when ``m2 <= (eps x mean)**2``), without scipy's argument handling (~0.4 ms a
    sweep's DSR, more than the arithmetic). The same bits as scipy's (checked against it in
    tests/engine/analytics/test_statistics.py)."""
    mean = np.mean(r, keepdims=True)
    deviation = r - mean
    square = deviation**2
    m2 = np.mean(square)
    m3 = np.mean(square * deviation)
    m4 = np.mean(square**2)
    zero = m2 <= (np.finfo(np.float64).eps * mean[0]) ** 2
    skew = np.nan if zero else m3 / m2**1.5
    kurtosis = np.nan if zero else m4 / m2**2.0
    return float(skew), float(kurtosis)


# ----- stationary bootstrap --------------------------------------------------------------


def stationary_bootstrap_indices(
    n_obs: int, n_samples: int, block_length: float, rng: np.random.Generator
) -> np.ndarray:
    """(n_samples, n_obs) day indices of Politis-Romano resamples (vectorised).

    Each position starts a new block with probability ``1 / block_length`` (always at 0);
    inside a block the index advances by one day, wrapping around the sample.
    """
    if n_obs < 1 or n_samples < 1:
        return np.zeros((max(n_samples, 0), max(n_obs, 0)), dtype=np.int64)
    starts = rng.integers(0, n_obs, size=(n_samples, n_obs))
    new_block = rng.random((n_samples, n_obs)) < 1.0 / block_length
    new_block[:, 0] = True
    position = np.arange(n_obs)
    block_start = np.maximum.accumulate(np.where(new_block, position, 0), axis=1)
    first_index = np.take_along_axis(starts, block_start, axis=1)
    return (first_index + position - block_start) % n_obs


def annual_sharpe(returns: np.ndarray, risk_free: float = 0.0) -> np.ndarray:
    """Row-wise annualised Sharpe of a (samples, days) array; NaN without dispersion."""
    excess = returns - risk_free / TRADING_DAYS
    if excess.shape[-1] < 2:
        return np.full(excess.shape[:-1], np.nan)
    with np.errstate(all="ignore"):
        std = np.std(returns, axis=-1, ddof=1)
        scale = np.max(np.abs(returns), axis=-1)
        out = np.mean(excess, axis=-1) / std * math.sqrt(TRADING_DAYS)
        # A negligible dispersion (engine.dispersion.negligible_dispersion) has no Sharpe.
        zero = negligible_dispersion(std, np.mean(returns, axis=-1), scale)
    return np.where(zero, np.nan, out)


def annual_growth(returns: np.ndarray) -> np.ndarray:
    """Row-wise CAGR (252 days a year) of a (samples, days) array of simple returns."""
    with np.errstate(all="ignore"):
        log_growth = np.sum(np.log1p(returns), axis=-1)
        return np.expm1(log_growth * TRADING_DAYS / returns.shape[-1])


# ----- how many trials: distinct return series and effective independent trials ---------


@compiled
def _find(
    firsts: np.ndarray, sizes: np.ndarray, count: int, first: int, size: int
) -> int:  # pragma: no cover - compiled
    """Slot of the known cluster (first member, size), -1 when not known."""
    for slot in range(count):
        if firsts[slot] == first and sizes[slot] == size:
            return slot
    return -1


MAX_CLUSTERS = 50  # the largest number of clusters tried
# A silhouette this close to 0 is 0: (b - a) / max(a, b) of means of up to thousands of
# distances in [0, 1] rounds to ~1e-13 where a = b in exact arithmetic (every trial
# without dispersion is at the same distance from all others), and such noise divided
# by its own spread made up a cut's quality (mean / std), so rounding chose the number
# of trials (found by hypothesis: 22 trials, 19 of them flat, 2 clusters or 3).
SILHOUETTE_ZERO = 1e-10


@compiled
def _cut_silhouettes(
    distance: np.ndarray, cuts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """((cuts, n) silhouette of each item, (cuts, 2) their mean and std) of each cut (rows
    of ``cuts``: labels 0..k-1, each used (else ValueError), each cut at least as fine as
    the previous; a cut of fewer than two clusters is skipped: zeros, NaN moments). Each cluster's summed distances (an (n,) row per
    cluster, named by (first member, size): clusters of one hierarchy are nested) are
    computed once over the cuts: a cluster seen before is not summed again, and of the
    parts of a split parent all but the largest are summed and the largest is the
    parent's sums minus theirs. A cut then costs (n, the smaller parts) additions
    instead of the (n, n) x k product of every cut.

    Bit for bit the numpy code it replaced (kept in tests/engine/analytics/
    test_trial_clusters.py): a part's sums ``distance[:, members].sum(axis=1)`` (an F-order
    copy: members added left to right from 0.0), the whole set's ``distance.sum(axis=1)``
    (numpy's pairwise sum per row, ``nb_metrics._sum``), the largest part ``parent - ((0 +
    part) + part ...)``; the silhouette's ``a``, ``b``, ``(b - a) / max(a, b)``, and
    ``np.mean``/``np.std`` (pairwise sums) operation by operation."""
    n = distance.shape[0]
    n_cuts = cuts.shape[0]
    silhouettes = np.zeros((n_cuts, n))
    moments = np.full((n_cuts, 2), np.nan)
    capacity = 128
    known_first = np.empty(capacity, dtype=np.int64)
    known_size = np.empty(capacity, dtype=np.int64)
    known = np.empty((capacity, n))
    count = 0
    parent_of = np.zeros(n, dtype=np.int64)  # the previous cut: the whole set before the first
    parent_first = np.zeros(1, dtype=np.int64)
    parent_size = np.full(1, n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    rest = np.empty(n)
    dev = np.empty(n)
    a_of = np.empty(n)
    b_of = np.empty(n)
    for row in range(n_cuts):
        labels = cuts[row]
        k = labels.max() + 1
        if k < 2:
            continue
        sizes = np.zeros(k, dtype=np.int64)
        for i in range(n):
            sizes[labels[i]] += 1
        starts = np.zeros(k + 1, dtype=np.int64)
        for c in range(k):
            starts[c + 1] = starts[c] + sizes[c]
        fill = starts[:k].copy()
        for i in range(n):  # members of each cluster in ascending order
            order[fill[labels[i]]] = i
            fill[labels[i]] += 1
        firsts = np.empty(k, dtype=np.int64)
        for c in range(k):
            if sizes[c] == 0:
                raise ValueError("a cut's labels must be 0..k-1, each one used")
            firsts[c] = order[starts[c]]
        slot = np.full(k, -1, dtype=np.int64)
        parent = np.full(k, -1, dtype=np.int64)
        # Room for every cluster of this cut, the whole set and the parents' parts.
        if count + 2 * k + 1 > capacity:
            capacity = 2 * (count + 2 * k + 1)
            grown_first = np.empty(capacity, dtype=np.int64)
            grown_size = np.empty(capacity, dtype=np.int64)
            grown = np.empty((capacity, n))
            grown_first[:count] = known_first[:count]
            grown_size[:count] = known_size[:count]
            grown[:count] = known[:count]
            known_first, known_size, known = grown_first, grown_size, grown
        for c in range(k):
            slot[c] = _find(known_first, known_size, count, firsts[c], sizes[c])
            if slot[c] >= 0:
                continue
            p = parent_of[order[starts[c]]]
            same = True
            for j in range(starts[c], starts[c + 1]):
                if parent_of[order[j]] != p:
                    same = False
                    break
            if same:
                parent[c] = p
            else:  # not a refinement of the previous cut (never for one tree): no shortcut
                _member_sums(distance, order, starts[c], starts[c + 1], known[count])
                known_first[count], known_size[count], slot[c] = firsts[c], sizes[c], count
                count += 1
        for c in range(k):  # the new parts of each split parent
            p = parent[c]
            if p < 0 or slot[c] >= 0:
                continue
            p_first, p_size = parent_first[p], parent_size[p]
            if p_first == 0 and p_size == n and _find(known_first, known_size, count, 0, n) < 0:
                for i in range(n):
                    known[count, i] = _sum(distance[i], n)
                known_first[count], known_size[count] = 0, n
                count += 1
            largest, covered = -1, 0
            for part in range(c, k):
                if parent[part] == p and slot[part] < 0:
                    covered += sizes[part]
                    if largest < 0 or sizes[part] > sizes[largest]:
                        largest = part
            p_slot = _find(known_first, known_size, count, p_first, p_size)
            whole_parent = p_slot >= 0 and covered == p_size
            for part in range(c, k):
                if parent[part] == p and slot[part] < 0 and not (whole_parent and part == largest):
                    _member_sums(distance, order, starts[part], starts[part + 1], known[count])
                    known_first[count], known_size[count], slot[part] = firsts[part], sizes[part], count
                    count += 1
            if whole_parent:
                rest[:] = 0.0
                for part in range(c, k):
                    if parent[part] == p and part != largest:
                        for i in range(n):
                            rest[i] = rest[i] + known[slot[part], i]
                for i in range(n):
                    known[count, i] = known[p_slot, i] - rest[i]
                known_first[count], known_size[count], slot[largest] = firsts[largest], sizes[largest], count
                count += 1
        # a: mean distance to the own cluster; b: the least mean distance to another
        # (np.min: exact in any order, NaN wins); one contiguous row of sums at a time.
        a_of[:] = 0.0
        b_of[:] = np.inf
        for c in range(k):
            sums = known[slot[c]]
            size = sizes[c]
            if size > 1:
                for j in range(starts[c], starts[c + 1]):
                    a_of[order[j]] = sums[order[j]] / (size - 1)
            divisor = max(size, 1)
            for i in range(n):  # branch-free (selects) so that it vectorises
                v = sums[i] / divisor
                take = labels[i] != c and (v < b_of[i] or v != v)
                b_of[i] = v if take else b_of[i]
        s = silhouettes[row]
        for i in range(n):
            if sizes[labels[i]] <= 1:
                s[i] = 0.0
                continue
            a, b = a_of[i], b_of[i]
            top = a if (a >= b or np.isnan(a)) else b
            gap = b - a
            if top != 0.0:
                value = gap / top
            elif gap == 0.0 or np.isnan(gap):  # numpy's 0 / 0 (numba would raise)
                value = np.nan
            else:  # numpy's x / +-0: an infinity signed by both
                value = np.copysign(np.inf, gap) * np.copysign(1.0, top)
            if np.isnan(value):
                value = 0.0
            elif value == np.inf:
                value = _LARGEST
            elif value == -np.inf:
                value = -_LARGEST
            elif abs(value) < SILHOUETTE_ZERO:  # rounding of a = b (SILHOUETTE_ZERO)
                value = 0.0
            s[i] = value
        mean = _sum(s, n) / n
        for i in range(n):
            dev[i] = (s[i] - mean) * (s[i] - mean)
        moments[row, 0], moments[row, 1] = mean, np.sqrt(_sum(dev, n) / n)
        parent_of[:] = labels
        parent_first, parent_size = firsts, sizes
    return silhouettes, moments


@compiled
def _member_sums(
    distance: np.ndarray, order: np.ndarray, lo: int, hi: int, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``out[i] = distance[i, order[lo:hi]].sum()`` added left to right from 0.0, as
    numpy sums the F-order copy ``distance[:, members]`` along its rows. Rows in blocks of
    ``_ROWS`` (independent running sums, each still left to right)."""
    n = distance.shape[0]
    total = np.empty(_ROWS)
    for start in range(0, n, _ROWS):
        rows = min(_ROWS, n - start)
        total[:] = 0.0
        for j in range(lo, hi):
            column = order[j]
            for r in range(rows):
                total[r] += distance[start + r, column]
        out[start : start + rows] = total[:rows]


_ROWS = 16


# Qualities this close (relative) are equal: cuts whose silhouettes are equal in exact
# arithmetic (e.g. trials without dispersion as one cluster or as singletons, both s = 0)
# differ by rounding only, and rounding must not choose the number of trials.
QUALITY_TIE = 1e-9


def _better(quality: float, best: float) -> bool:
    """``quality`` beats ``best`` by more than a tie (``QUALITY_TIE``)."""
    if not math.isfinite(best) or not math.isfinite(quality):
        return quality > best
    return quality - best > QUALITY_TIE * max(abs(quality), abs(best))


def _column_spread(values: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the summed squared deviations from ``mean``, max |x|) of each column of a (rows,
    columns) array: the sums of ``np.var(values, axis=0)`` and ``np.max(np.abs(values),
    axis=0)``, with their bits. numpy reduces the columns of a C-order array row by row
    (each column's squares added top to bottom), in one compiled pass without the
    deviations' array; a single column or another order is reduced pairwise by numpy, so
    numpy does it."""
    if values.ndim == 2 and values.shape[1] >= 2 and values.flags.c_contiguous:
        return _column_spread_rows(values, np.ascontiguousarray(mean, dtype=np.float64))
    deviation = values - mean
    return np.add.reduce(np.square(deviation, out=deviation), axis=0), np.max(np.abs(values), axis=0)


@compiled
def _column_spread_rows(
    values: np.ndarray, mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``_column_spread`` of a C-order array of two or more columns, row by row."""
    rows, columns = values.shape
    squares = np.zeros(columns)
    top = np.zeros(columns)
    for i in range(rows):
        for j in range(columns):
            x = values[i, j]
            deviation = x - mean[j]
            squares[j] += deviation * deviation
            size = abs(x)
            top[j] = size if (size > top[j] or size != size) else top[j]  # np.max: NaN wins
    return squares, top


def _gram(common: np.ndarray, total: np.ndarray | None = None) -> tuple[np.ndarray, float, np.ndarray]:
    """(the (n, n) sums of cross products of the deviations from the column means, the
    factor ``1 / (days - 1)`` that makes them covariances, the columns without dispersion
    by ``negligible_dispersion(np.std(ddof=1), np.mean, np.max(np.abs))``) of a C-order
    (days >= 3, trials >= 2) array, operation by operation as ``np.corrcoef`` and ``np.std``
    compute them (the bits of ``trial_clusters`` depend on them), the mean and the
    deviations computed once for both: ``np.cov`` averages, subtracts and multiplies
    ``dot(X, X.T.conj())``, ``np.var`` averages, subtracts and sums the squares. ``total``:
    ``np.add.reduce(common, axis=0)`` when the caller has it."""
    days = common.shape[0]
    with np.errstate(all="ignore"):
        mean = (np.add.reduce(common, axis=0) if total is None else total) / days
        deviation = common - mean
        gram = np.dot(deviation.T, deviation.T.T.conj())  # np.cov's X, X.T.conj(): its BLAS call
        squares, top = _column_spread(common, mean)
        flat = negligible_dispersion(np.sqrt(squares / (days - 1)), mean, top)
    return gram, float(np.true_divide(1, days - 1)), flat


@compiled_ieee
def _correlation_distances(
    gram: np.ndarray, inverse: float, flat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """(the (n, n) distances ``sqrt((1 - rho) / 2)``, the same distances condensed as
    ``scipy.spatial.distance.squareform`` gives them: row by row above the diagonal) of
    the correlations of ``_gram``'s output. rho is ``np.corrcoef``'s: each cross product
    times ``inverse``, divided by the row's and then by the column's standard deviation
    (the square root of its own scaled product) and clipped to [-1, 1] (NaN kept); a
    non-finite rho and every rho of a trial without dispersion (``flat``) is 0
    (uncorrelated), the diagonal 1. numpy's ``*=``, ``/=``, ``clip``, ``where``,
    ``fill_diagonal``, ``clip`` and ``sqrt`` in one pass, each element by the same exactly
    rounded operations in the same order: as five numpy passes over the (n, n) matrix and
    ``squareform``'s copy they took ~52 ms at n = 3,312 (a 4,096-configuration sweep's
    trials), in this pass ~39 ms: two divisions and a square root per element bound it,
    next to the 83 ms of the BLAS product. Written over ``gram`` (a fresh page of a large
    matrix costs more than the arithmetic), which is returned. IEEE division: a standard
    deviation of 0 gives an infinite or NaN rho, as numpy's."""
    n = gram.shape[0]
    scale = np.empty(n)
    for i in range(n):
        scale[i] = np.sqrt(gram[i, i] * inverse)
    dispersed = np.empty(n)  # 0.0 for a trial without dispersion: a float, so that it vectorises
    for j in range(n):
        dispersed[j] = 0.0 if flat[j] else 1.0
    condensed = np.empty(n * (n - 1) // 2)
    row = np.empty(n)  # a row of its own: the loop then reads and writes no common array
    at = 0
    for i in range(n):
        row_scale, row_dispersed, products = scale[i], dispersed[i], gram[i]
        for j in range(n):  # branch-free (selects) so that it vectorises
            v = ((products[j] * inverse) / row_scale) / scale[j]
            v = min(max(v, -1.0), 1.0) if v == v else v  # np.clip: NaN stays NaN
            keep = (v - v == 0.0) & (row_dispersed * dispersed[j] == 1.0)  # finite, both dispersed
            x = (1.0 - (v if keep else 0.0)) / 2.0
            row[j] = np.sqrt(x if x >= 0.0 else 0.0)  # np.maximum(x, 0.0) of a finite x
        row[i] = 0.0  # the diagonal: rho = 1, sqrt((1 - 1) / 2)
        products[:] = row
        condensed[at : at + n - 1 - i] = row[i + 1 :]
        at += n - 1 - i
    return gram, condensed


def trial_clusters(returns: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    """Cluster label of each trial (columns of ``returns``, days x trials, NaN = no
    return that day) by the correlation of their daily returns.

    After López de Prado, "A Data Science Solution to the Multiple-Testing Crisis in
    Financial Research" (2019) and his ONC algorithm: the distance is
    ``sqrt((1 - rho) / 2)`` (rho over the days all trials share); the trials are
    clustered hierarchically (average linkage) into k = 2 .. min(n - 1, 50) clusters and
    the k with the best silhouette quality ``mean / std`` is kept (on a tie, the fewest
    clusters: ``QUALITY_TIE``). The number of clusters is the effective number of
    independent trials. One or two trials: each its own
    cluster (nothing to learn from one correlation).

    Trials equal day by day up to rounding on the common days (``distinct_series``, the
    one rule: e.g. a configuration and a copy cut short by ``end``) are one point: the
    distinct columns are clustered and each trial takes its column's cluster (one or two
    distinct columns: each its own cluster). Else pairs at distance 0 had silhouettes of
    exactly 1, and the cut isolating them won by a spread of 0 over series correlated at
    0.999996. With those ties gone, silhouettes without spread (all equal, std 0) come
    from a cut itself: all 0 or less (e.g. every trial without dispersion, or singletons,
    0 by convention) is no quality (0 / 0) and never chosen; all equal and positive (every
    trial equally well placed, e.g. copies scaled by a constant whose correlation rounds
    to exactly 1) is infinite, the limit of mean / std as the spread vanishes, as the same
    cut with a rounding of spread would score (~1e8). When no cut has a quality, each
    distinct column is its own cluster.

    ``distinct``: the columns are already distinct series (``distinct_series`` labels
    0 .. n-1 of whole series, as the sweep passes them): when every day is common, they
    are distinct there too and the check is skipped (~2 ms of a 256-trial sweep's
    serial driver work)."""
    r = np.asarray(returns, dtype=np.float64)
    n = r.shape[1] if r.ndim == 2 else 0
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    # Every day finite (the column sums are: a NaN or an infinity would make theirs
    # not) and C order: the returns are the common days, and the sums the mean's.
    with np.errstate(all="ignore"):
        total = np.add.reduce(r, axis=0) if r.flags.c_contiguous else None
    if total is not None and np.isfinite(total).all():
        common = r
    else:
        common, total = r[np.isfinite(r).all(axis=1)], None
    if common.shape[0] < 3:
        return np.arange(n, dtype=np.int64)
    if distinct and common is r:  # whole distinct series: no tie on the common days
        return _clusters(common, total)
    # Columns equal day by day up to rounding are one point (distinct_series: digests,
    # ~linear); without such ties the columns are clustered as they are, bit for bit.
    same = distinct_series(list(np.ascontiguousarray(common.T)))
    n_distinct = int(same.max()) + 1
    if n_distinct < n:
        if n_distinct <= 2:
            return same.astype(np.int64)
        firsts = np.unique(same, return_index=True)[1]
        return _clusters(np.ascontiguousarray(common[:, firsts]), None)[same]
    return _clusters(common, total)


def _clusters(common: np.ndarray, total: np.ndarray | None) -> np.ndarray:
    """``trial_clusters`` of the C-order (days >= 3, n >= 3) common days of distinct
    columns (``total``: their column sums when the caller has them)."""
    from scipy.cluster.hierarchy import linkage

    n = common.shape[1]
    gram, inverse, flat = _gram(common, total)
    distance, condensed = _correlation_distances(gram, inverse, np.ascontiguousarray(flat, dtype=np.bool_))
    tree = linkage(condensed, method="average")
    maxclust = _maxclust_labels(tree)
    cuts = (
        np.array([maxclust(k) for k in range(2, min(n - 1, MAX_CLUSTERS) + 1)], dtype=np.int64).reshape(-1, n)
        - 1
    )
    _, moments = _cut_silhouettes(np.ascontiguousarray(distance), cuts)
    best, best_quality = np.arange(n, dtype=np.int64), -np.inf
    for labels, (mean, spread) in zip(cuts, moments.tolist(), strict=True):
        if math.isnan(mean):  # fewer than two clusters
            continue
        if not spread > 0 and not mean > 0:  # all silhouettes equal, none positive: 0 / 0
            continue
        quality = mean / spread if spread > 0 else np.inf  # every trial equally well placed
        if _better(quality, best_quality):
            best, best_quality = labels, quality
    _, relabelled = np.unique(best, return_inverse=True)
    return relabelled.astype(np.int64)


def _maxclust_labels(tree: np.ndarray) -> Callable[[int], np.ndarray]:
    """``k -> fcluster(tree, k, criterion="maxclust")`` for many k. scipy's ``fcluster``
    validates the linkage on every call, which costs more than the clustering (11 of the
    16 ms of a 220-trial ``trial_clusters``); this validates once (``fcluster`` at k = 2,
    first: an invalid linkage raises there, before the routine sees it) and then calls
    the routine ``fcluster`` itself calls, checked against that first cut; any mismatch or
    a changed private API falls back to ``fcluster``."""
    from scipy.cluster import hierarchy

    def public(k: int) -> np.ndarray:
        return np.asarray(hierarchy.fcluster(tree, k, criterion="maxclust"))

    try:
        from scipy.cluster import _hierarchy

        expected = public(2)  # validates the linkage
        z = np.ascontiguousarray(tree, dtype=np.float64)
        n = z.shape[0] + 1

        def direct(k: int) -> np.ndarray:
            out = np.zeros(n, dtype="i")
            _hierarchy.cluster_maxclust_dist(z, out, n, k)
            return out

        if np.array_equal(direct(2), expected):
            return direct
    except (ImportError, AttributeError, TypeError, ValueError):
        pass
    return public


def cluster_sharpes(returns: np.ndarray, labels: np.ndarray, risk_free: float = 0.0) -> np.ndarray:
    """Annualised Sharpe of each cluster's aggregate returns: the inverse-variance
    weighted mix of its trials' daily returns (as López de Prado 2019 aggregates a
    cluster), over the days all its trials share. Trials equal day by day up to rounding
    on those days (``distinct_series``, as ``trial_clusters`` reads them) are one: the
    first of each is mixed, over the days the kept trials share."""
    r = np.asarray(returns, dtype=np.float64)
    out = np.full(int(labels.max()) + 1 if labels.size else 0, np.nan)
    # The columns sorted by cluster once (stable: each cluster's in their order); each
    # cluster's block is a C-order copy (the bits of the sums below depend on the layout).
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(out.size + 1))
    for c in range(out.size):
        members = order[bounds[c] : bounds[c + 1]]
        block = np.take(r, members, axis=1)
        with np.errstate(all="ignore"):
            total = np.add.reduce(block, axis=0)  # finite: so is every day (a NaN or inf is not)
        if not np.isfinite(total).all():
            block = block[np.isfinite(block).all(axis=1)]
            if block.shape[0] >= 3 and block.shape[1] > 1:
                # trials equal on the days they share are one (trial_clusters): the first
                # of each, over the days those share (a copy cut short by ``end`` does
                # not shorten its cluster's days)
                same = distinct_series(list(np.ascontiguousarray(block.T)))
                if int(same.max()) + 1 < same.size:
                    block = np.take(r, members[np.unique(same, return_index=True)[1]], axis=1)
                    block = block[np.isfinite(block).all(axis=1)]
            with np.errstate(all="ignore"):
                total = np.add.reduce(block, axis=0)
        if block.shape[0] < 3:
            continue
        with np.errstate(all="ignore"):
            # np.mean and np.var(ddof=1) operation by operation, the mean reduced once
            mean = total / block.shape[0]
            squares, top = _column_spread(block, mean)
            var = squares / (block.shape[0] - 1)
            live = ~negligible_dispersion(np.sqrt(var), mean, top)
        # inverse-variance weights; a trial without dispersion (negligible_dispersion) gets none
        w = np.where(live, 1.0 / np.where(live, var, 1.0), 0.0)
        w = w / w.sum() if w.sum() > 0 else np.full(block.shape[1], 1.0 / block.shape[1])
        out[c] = float(annual_sharpe(block @ w, risk_free))
    return out


def deflated_sharpe_of_clusters(
    returns: np.ndarray, cluster_annual_sharpes: Sequence[float] | np.ndarray, risk_free: float = 0.0
) -> float:
    """DSR of the selected daily ``returns`` with N = the number of clusters (effective
    independent trials) and V = the variance of the clusters' per-period Sharpe ratios."""
    return deflated_sharpe_of_returns(returns, list(cluster_annual_sharpes), risk_free)


def warm_up() -> None:
    """Compile (or load from the disk cache) the trial statistics' kernels now, on a tiny
    input, so that a process's first sweep does not pay for it (~10 s to compile, ~0.25 s
    to load)."""
    returns = np.random.default_rng(0).normal(0.0, 0.01, (8, 4))
    returns[:, 3] = 0.0  # a trial without dispersion: every branch of the kernels
    labels = trial_clusters(returns)
    cluster_sharpes(returns, labels)
    distinct_series(list(returns.T))
