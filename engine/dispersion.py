"""The zero-dispersion rule: when a standard deviation counts as zero.

A shared low module (it imports no engine layer), so that the metrics
(``engine.analytics``) and the weighting schemes (``engine.strategy.weights``) decide
"no dispersion" by one rule. README, Metrics: a standard deviation of at most
``DISPERSION_RTOL * max(1, max |x|)`` (1e-10) (floating-point residue) or at most
``DISPERSION_CV * |mean(x)|`` (spread below what the prices resolve) is 0. For example a
price growing exactly 0.1% a day has returns that differ only in their last bits (std
~1e-16): it has no volatility, so no Sharpe ratio, no correlation, and no inverse-volatility
weight.

Also the tie rules built on it: ``tied`` (statistics equal up to rounding), ``first_best``,
and ``distinct_series`` (return series equal day by day up to rounding are one: the
sweep's distinct trials, the PBO's columns and the optimisers' twin assets).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

DISPERSION_RTOL = 1e-10  # std below this x max(1, max|x|) is rounding residue, i.e. zero
# (1e-10, not 1e-12: quotes 100.1 / 100.1000000001 alternating give returns of +-1e-12,
# std 1.001e-12, which had a Sharpe ratio and correlations; same scale as DRAWDOWN_RTOL)
DISPERSION_CV = 1e-2  # std below this x |mean| is price-precision noise, i.e. zero
# (1e-2, not 1e-3, breaker pass 13, F2: a fund accruing 0.01% a day, 100 x 1.0001^t quoted
# to 4 decimals, has returns 1e-4 +- the half-tick's 5e-7, std/mean 4e-3: a Sharpe of 3,928,
# beta -5,227 and an alpha of 8e47% as a benchmark, 99.998% of inverse-volatility weight.
# A daily mean/std above 100, an annualised Sharpe above ~1,590, is no tradeable risk.)
TIE_RTOL = 1e-10  # two statistics this close (relative to max(1, |value|)) are equal


def negligible_dispersion(std: Any, mean: Any, scale: Any) -> Any:
    """True where a standard deviation counts as zero (bool, or a bool array when the
    arguments are arrays of one shape): ``std <= DISPERSION_RTOL * max(1, scale)``
    (floating-point residue; ``scale`` = the largest |value|) or ``std <= DISPERSION_CV
    * |mean|`` (spread below what the data resolves, e.g. a constant-growth path quoted
    to a few decimals). The one rule for every dispersion in the engine."""
    with np.errstate(all="ignore"):
        out = (np.asarray(std) <= DISPERSION_RTOL * np.maximum(1.0, np.asarray(scale))) | (
            np.asarray(std) <= DISPERSION_CV * np.abs(np.asarray(mean))
        )
    return bool(out) if np.ndim(out) == 0 else out


def constant_loss(mean_excess: Any, noise: Any, scale: Any) -> Any:
    """True where returns without dispersion (``negligible_dispersion``) lose against the
    risk-free rate: their excess return is the constant ``mean_excess`` up to their
    rounding (their raw std ``noise``, at least ``DISPERSION_RTOL x max(1, scale)``), so
    it has a downside deviation only below minus that rounding. A constant gain has none,
    and an excess within the rounding of 0 (a risk-free rate equal to the yield of a
    price quoted to 4 decimals) is 0: no Sortino, not a ratio of the quotes' rounding
    (104.47 at risk_free 0.2519 for 100 x 1.001^t quoted to 4 decimals, whose Sharpe is
    NaN). Scalars or arrays of one shape; an undefined ``noise`` counts as 0 and an
    undefined ``scale`` leaves ``noise`` alone as the bound. The one rule for the Sortino
    of ``engine.analytics.metrics`` and of the column metrics (walk-forward, PBO)."""
    with np.errstate(all="ignore"):
        noise = np.asarray(noise, dtype=np.float64)
        scale = np.asarray(scale, dtype=np.float64)
        floor = np.where(np.isnan(scale) | (scale > 1.0), scale, 1.0)
        bound = np.fmax(np.where(np.isnan(noise), 0.0, noise), DISPERSION_RTOL * floor)
        out = np.asarray(mean_excess) < -bound
    return bool(out) if np.ndim(out) == 0 else out


def tied(values: Any, value: Any) -> Any:
    """True where ``values`` equal ``value`` up to rounding: ``|values - value| <=
    TIE_RTOL * max(1, |value|)``. The one rule for ties of statistics computed along
    different paths (a random portfolio that draws the strategy's own holdings has its
    Sharpe ratio in other bits: 18.883832799441752 against 18.88383279944175); NaN ties
    nothing, an infinite value only itself."""
    return _equal_up_to_rounding(values, value, floor=1.0)


def same_price(values: Any, value: Any) -> Any:
    """True where the prices ``values`` equal ``value`` up to rounding, relative to the
    price: ``|values - value| <= TIE_RTOL * |value|``. The one rule for a repeated close (a
    weekend or holiday row, a stale copy; the frozen-close warning counts exact repeats): a
    price's scale changes nothing, while ``tied``'s floor of ``TIE_RTOL`` in absolute terms
    made every move of a token priced at 1e-9 a "repeat" and dropped its genuine days. NaN
    ties nothing, an infinite price only itself."""
    return _equal_up_to_rounding(values, value, floor=0.0)


def _equal_up_to_rounding(values: Any, value: Any, *, floor: float) -> Any:
    """``|values - value| <= TIE_RTOL * max(floor, |value|)`` (``tied``: floor 1, an
    absolute tolerance near 0; ``same_price``: floor 0, relative only); NaN ties nothing,
    an infinite value only itself."""
    with np.errstate(all="ignore"):
        v = np.asarray(value, dtype=np.float64)
        a = np.asarray(values, dtype=np.float64)
        out = (a == v) | ((np.abs(a - v) <= TIE_RTOL * np.maximum(floor, np.abs(v))) & np.isfinite(v))
    return bool(out) if np.ndim(out) == 0 else out


def zero_within_rounding(values: Any) -> Any:
    """``values`` with those equal to 0 up to rounding (``tied`` with 0: within
    ``TIE_RTOL`` = 1e-10) set to 0 (a float for a scalar, else a float64 array). The one
    rule for a difference of two values computed along different paths that is 0 in exact
    arithmetic: a ``change`` signal of an unchanged mean (-1.4e-17, README, Ranking) and
    the excess return of a strategy that holds its benchmark (its CAGR from the closes,
    the benchmark's from chained daily returns: -2.8e-16, printed "-0.00%"). NaN stays."""
    v = np.asarray(values, dtype=np.float64)
    out = np.where(tied(v, 0.0), 0.0, v)
    return float(out) if np.ndim(out) == 0 else out


def first_best(values: Any) -> int:
    """Index of the first of the highest values, values equal up to rounding (``tied``)
    being one value; NaN is never the best. -1 when no value is defined. The one rule for
    picking a winner (the sweep's best row, a walk-forward fold's winner):
    configurations that trade the same portfolios in other bits (equal weights and
    inverse-volatility weights of symbols with one return series) do not win by rounding."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    defined = ~np.isnan(v)
    if not defined.any():
        return -1
    top = float(np.max(v[defined]))
    return int(np.flatnonzero(defined & tied(v, top))[0])


__all__ = [
    "DISPERSION_CV",
    "DISPERSION_RTOL",
    "TIE_RTOL",
    "first_best",
    "negligible_dispersion",
    "same_price",
    "tied",
    "zero_within_rounding",
]


# ----- series equal day by day up to rounding ------------------------------------------


SeriesDigest = tuple[int, int, float, float, float]


def series_digest(returns: np.ndarray) -> SeriesDigest:
    """What ``distinct_series`` reads of one series before it compares two: (length, the
    float64 bits summed modulo 2**64, ``np.sum``, ``np.max``, ``np.min``; the last three
    0.0, NaN, NaN when empty). A pure function of the series alone: a sweep's task can
    compute it next to the returns and hand it to ``distinct_series(..., digests=)``, so
    that the driver does not read every series again (~1 ms of a 256-series sweep)."""
    x = np.ascontiguousarray(returns, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return 0, 0, 0.0, math.nan, math.nan
    with np.errstate(all="ignore"):  # a sum may overflow (an infinite sum is a candidate)
        total = float(np.add.reduce(x))
    return (
        x.size,
        int(np.add.reduce(x.view(np.uint64))),
        total,
        float(np.maximum.reduce(x)),
        float(np.minimum.reduce(x)),
    )


def _digests(series: Sequence[np.ndarray]) -> list[SeriesDigest]:
    """``series_digest`` of each series: those of one length in one stacked pass per
    reduction (a row's sums, max and min have the bits of the series' own: integers
    modulo 2**64 in any order, ``np.sum`` of a contiguous row pairwise as of the series)
    instead of four small reductions per series."""
    arrays = [np.ascontiguousarray(s, dtype=np.float64).reshape(-1) for s in series]
    out: list[SeriesDigest] = [(0, 0, 0.0, math.nan, math.nan)] * len(arrays)
    by_length: dict[int, list[int]] = {}
    for i, x in enumerate(arrays):
        by_length.setdefault(x.size, []).append(i)
    for length, members in by_length.items():
        if length == 0:
            continue
        if len(members) == 1:
            out[members[0]] = series_digest(arrays[members[0]])
            continue
        stacked = np.vstack([arrays[i] for i in members])
        with np.errstate(all="ignore"):
            totals = np.add.reduce(stacked, axis=1).tolist()
        bits = np.add.reduce(stacked.view(np.uint64), axis=1).tolist()
        tops = np.maximum.reduce(stacked, axis=1).tolist()
        bottoms = np.minimum.reduce(stacked, axis=1).tolist()
        for j, i in enumerate(members):
            out[i] = (length, bits[j], totals[j], tops[j], bottoms[j])
    return out


def distinct_series(
    series: Sequence[np.ndarray], digests: Sequence[SeriesDigest] | None = None
) -> np.ndarray:
    """Label of each series (0, 1, ... in order of first appearance). Series of one length
    equal day by day up to rounding (``engine.dispersion.tied``: ``|a - b| <= TIE_RTOL x
    max(1, |b|)`` for finite values, the same bits for NaN and inf) share a label: each
    series takes the label of the first label whose first series (its anchor) it ties
    with, else a new label. Ties are not transitive, so a chain is cut at the anchor:
    b within 0.6e-10 of a and c within 0.6e-10 of b (1.2e-10 of a) label 0, 0, 1 (c
    ties b, not the anchor a); the labels follow the order of the series. Configurations that trade the same portfolios are one
    trial, not several: ``lookback_days`` under equal weights (the same bits), or equal
    and inverse-volatility weights of symbols with one return series (returns a rounding
    apart, which counted as other trials and moved the trial clustering and the DSR).

    ``digests``: each series' ``series_digest`` when the caller has them (else computed
    here). (n,) list of 1-d float arrays -> (n,) int64 labels."""
    if digests is None:
        digests = _digests(series)
    elif len(digests) != len(series):
        raise ValueError("distinct_series needs one digest per series")
    exact, firsts = _bit_identical(series, digests)
    kept = [np.asarray(series[i], dtype=np.float64).reshape(-1) for i in firsts]
    return _tie_up_to_rounding(kept, [digests[i] for i in firsts])[exact]


def _bits(series: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(series, dtype=np.float64).reshape(-1).view(np.uint64)


def _bit_identical(
    series: Sequence[np.ndarray], digests: Sequence[SeriesDigest]
) -> tuple[np.ndarray, list[int]]:
    """(labels of bit-identical series, in order of first appearance; index of each
    label's first series)."""
    # Candidates by (length, the bits summed modulo 2**64), then compared bit for bit:
    # the digests only, unless two series share theirs.
    buckets: dict[tuple[int, int], list[tuple[int, int]]] = {}
    labels = np.empty(len(series), dtype=np.int64)
    firsts: list[int] = []
    for i, digest in enumerate(digests):
        bucket = buckets.setdefault((digest[0], digest[1]), [])
        match = None
        if bucket:  # only then are the series' bits read
            bits = _bits(series[i])
            match = next(
                (label for other, label in bucket if np.array_equal(bits, _bits(series[other]))), None
            )
        if match is None:
            match = len(firsts)
            bucket.append((i, match))
            firsts.append(i)
        labels[i] = match
    return labels, firsts


def _tie_up_to_rounding(series: list[np.ndarray], digests: Sequence[SeriesDigest]) -> np.ndarray:
    """Labels of bit-distinct series (in order of first appearance) once series equal up
    to rounding are one: each takes the label of the first anchor (a label's first
    series) it ties with, else starts a label and is its anchor.
    Only a series that has a possible tie is compared day by day (``_may_tie``), with
    the earlier series of its length and non-finite days (positions and bits) whose sums
    are within what day-by-day ties allow, so a sweep without near-ties pays ~one pass."""
    labels = np.empty(len(series), dtype=np.int64)
    may_tie = _may_tie(digests)
    groups: dict[tuple[int, bytes], _Anchors] = {}
    count = 0
    for i, x in enumerate(series):
        label = -1
        if may_tie[i]:
            finite = np.isfinite(x)
            odd = np.flatnonzero(~finite)
            values = x[finite]
            total, weight = float(np.sum(values)), float(np.sum(np.maximum(1.0, np.abs(values))))
            anchors = groups.setdefault(
                (x.size, odd.tobytes() + x[odd].view(np.uint64).tobytes()), _Anchors()
            )
            for j in anchors.near(total, weight):  # earlier series first
                if bool(np.all(tied(values, series[j][finite]))):
                    label = int(labels[j])
                    break
            if label < 0:
                anchors.add(i, total, weight)
        if label < 0:
            label, count = count, count + 1
        labels[i] = label
    return labels


def _may_tie(digests: Sequence[SeriesDigest]) -> np.ndarray:
    """(n,) bool: the series might tie another up to rounding (a superset). Series of one
    length tie only if their sums differ by at most ``TIE_RTOL x sum max(1, |x|)``, here
    bounded by ``TIE_RTOL x length x max(1, max |x|)`` over the group and doubled for the
    sums' own rounding: a series whose sum has no neighbour that close cannot tie. Series
    with a non-finite day are always candidates (rare, and compared among themselves).
    From the series' digests (``series_digest``: a series' ``np.sum`` has the bits of its
    row's in ``np.vstack(group).sum(axis=1)``, which this read before)."""
    out = np.zeros(len(digests), dtype=bool)
    by_length: dict[int, list[int]] = {}
    for i, digest in enumerate(digests):
        by_length.setdefault(digest[0], []).append(i)
    for length, members in by_length.items():
        index = np.asarray(members)
        if len(members) < 2 or length == 0:  # empty series are all equal (compared anyway)
            out[index] = len(members) > 1
            continue
        group = np.array([digests[i][2:] for i in members], dtype=np.float64).reshape(-1, 3)
        sums = group[:, 0]
        finite = np.isfinite(sums)
        out[index[~finite]] = True
        if finite.sum() < 2:
            continue
        # a finite sum: every day finite, so the group's extremes are its members'
        largest = max(1.0, abs(float(group[finite, 1].max())), abs(float(group[finite, 2].min())))
        bound = 2.0 * TIE_RTOL * length * largest
        order = np.argsort(sums[finite], kind="stable")
        close = np.diff(sums[finite][order]) <= bound
        near = np.zeros(order.size, dtype=bool)
        near[order[:-1]] |= close
        near[order[1:]] |= close
        out[index[finite][near]] = True
    return out


class _Anchors:
    """The first series of each label in one (length, non-finite days) group: index, sum
    of finite values and ``sum max(1, |x|)``, in growing arrays (a list turned into an
    array per lookup made a 4,096-trial sweep quadratic in Python)."""

    def __init__(self) -> None:
        self.size = 0
        self.index: np.ndarray = np.empty(8, dtype=np.int64)
        self.sums: np.ndarray = np.empty(8)
        self.weights: np.ndarray = np.empty(8)

    def near(self, total: float, weight: float) -> np.ndarray:
        """Indices of the anchors whose sum is within the tie allowance of ``total``."""
        sums, weights = self.sums[: self.size], self.weights[: self.size]
        return self.index[: self.size][np.abs(sums - total) <= 2.0 * TIE_RTOL * np.maximum(weights, weight)]

    def add(self, index: int, total: float, weight: float) -> None:
        if self.size == self.index.size:
            self.index, self.sums, self.weights = (
                np.resize(a, 2 * a.size) for a in (self.index, self.sums, self.weights)
            )
        self.index[self.size], self.sums[self.size], self.weights[self.size] = index, total, weight
        self.size += 1
