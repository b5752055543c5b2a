"""Compiled array reductions behind ``compute_metrics``: every sum, product, extreme and
count the metrics need from one return series and its benchmark, in one call instead of
some thirty numpy calls (whose dispatch cost more than the arithmetic on a sweep's
short series). The scalar formulas stay in ``engine.analytics.metrics``.

Each reduction has the bits of the numpy call it replaces:

- ``np.add.reduce(x)`` is ``0.0 + pairwise(x)`` (the identity first: a -0.0 total is
  +0.0), numpy's pairwise summation (``pairwise_sum`` in ``loops_utils.h.src``): below 8
  numbers left to right from -0.0;
  8 to 128 numbers in 8 lanes started from the first 8 (``r[j] += x[i + j]``), combined
  as ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the rest left to right;
  longer runs split at ``n2 = n // 2 - (n // 2) % 8`` and the halves added (``_pairwise``
  evaluates that tree without recursion: numba's disk cache cannot load recursive
  functions);
- ``np.multiply.reduce`` and ``np.cumprod`` multiply left to right;
- ``np.maximum.accumulate`` keeps ``a`` when ``a >= b`` or ``a`` is NaN, else ``b``;
- elementwise expressions are evaluated operation by operation as numpy does (no
  fused multiply-add: numba compiles without fast-math).

``tests/engine/analytics/test_metrics_bits.py`` checks ``compute_metrics`` against the
plain numpy module it replaced, bit for bit, on normal, constant, rounded, huge, tiny,
signed-zero and gapped series.
"""

from __future__ import annotations

import numpy as np

from engine.compiled import compiled, floats

PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE: longer sums split in two

# Slots of the array ``_moments`` returns.
N, ENDING, DRAWDOWN, MEAN, RAW_STD, SCALE, MEAN_EXCESS, RAW_STD_EXCESS, DOWNSIDE_MEAN, HITS = range(10)
B_N, B_MEAN, B_RAW_STD, B_SCALE, B_VAR, B_COV, A_MEAN, A_RAW_STD, A_SCALE, TURNOVER_MEAN = range(10, 20)
N_SLOTS = 20


@compiled
def pairwise_block(x: np.ndarray, start: int, n: int) -> float:  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` of ``x[start:start + n]`` for ``n <= PAIRWISE_BLOCK`` (the
    module docstring); also the run sums of ``engine.backtest.nb_signal``."""
    if n < 8:
        res = -0.0  # numpy's start: a sum of signed zeros keeps its sign
        for i in range(start, start + n):
            res += x[i]
        return res
    r0, r1, r2, r3 = x[start], x[start + 1], x[start + 2], x[start + 3]
    r4, r5, r6, r7 = x[start + 4], x[start + 5], x[start + 6], x[start + 7]
    i = 8
    while i < n - (n % 8):
        j = start + i
        r0 += x[j]
        r1 += x[j + 1]
        r2 += x[j + 2]
        r3 += x[j + 3]
        r4 += x[j + 4]
        r5 += x[j + 5]
        r6 += x[j + 6]
        r7 += x[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += x[start + i]
        i += 1
    return res


@compiled
def _pairwise(x: np.ndarray, n: int) -> float:  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` of ``x[:n]``, any ``n`` (the tree of ``pairwise_plan``)."""
    if n <= PAIRWISE_BLOCK:
        return pairwise_block(x, 0, n)
    plan = pairwise_plan(n)
    return pairwise_planned(x, plan, np.empty(plan.shape[0]))


@compiled
def pairwise_plan(n: int) -> np.ndarray:  # pragma: no cover - compiled
    """(M, 2) int64: numpy's pairwise tree for ``n`` numbers (the module docstring), in its
    evaluation order (postfix), walked with explicit stacks (numba's disk cache cannot load
    recursive functions): a row ``(start, size)`` is a leaf, ``pairwise_block(x, start,
    size)``; a row ``(-1, 0)`` adds the last two values (left + right). It depends on
    ``n`` only, so a kernel summing many rows of one length walks the tree once and
    each sum then costs its leaves and a few additions (``pairwise_planned``; the walk
    itself was ~0.8 us a sum, most of a 502-column turnover row's)."""
    # Above PAIRWISE_BLOCK each split of s > 128 numbers leaves 64 or more on each side, so
    # there are at most n / 64 leaves and fewer additions.
    plan = np.empty((2 * (n // 32 + 2), 2), dtype=np.int64)
    if n <= PAIRWISE_BLOCK:
        plan[0, 0], plan[0, 1] = 0, n
        return plan[:1].copy()
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    split = np.zeros(64, dtype=np.bool_)
    starts[0], sizes[0], split[0] = 0, n, False
    frames, rows = 1, 0
    while frames:
        top = frames - 1
        size = sizes[top]
        if size <= PAIRWISE_BLOCK:
            plan[rows, 0], plan[rows, 1] = starts[top], size
            rows += 1
            frames -= 1
        elif not split[top]:
            split[top] = True
            half = size // 2
            half -= half % 8
            starts[frames], sizes[frames], split[frames] = starts[top] + half, size - half, False
            starts[frames + 1], sizes[frames + 1], split[frames + 1] = starts[top], half, False
            frames += 2
        else:
            plan[rows, 0], plan[rows, 1] = -1, 0
            rows += 1
            frames -= 1
    return plan[:rows].copy()


@compiled
def pairwise_planned(
    x: np.ndarray, plan: np.ndarray, values: np.ndarray
) -> float:  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` of ``x[:n]`` from ``pairwise_plan(n)``: its leaves added in
    the recursion's order, so numpy's bits. ``values``: scratch of at least ``plan.shape[0]``."""
    top = 0
    for m in range(plan.shape[0]):
        start = plan[m, 0]
        if start >= 0:
            values[top] = pairwise_block(x, start, plan[m, 1])
            top += 1
        else:
            values[top - 2] = values[top - 2] + values[top - 1]
            top -= 1
    return values[0]


@compiled
def _sum(x: np.ndarray, n: int) -> float:  # pragma: no cover - compiled
    """``np.add.reduce(x[:n])`` (identity 0.0 first: a -0.0 total is +0.0)."""
    return 0.0 + _pairwise(x, n)


@compiled
def _dispersion_sums(
    x: np.ndarray, n: int, scratch: np.ndarray
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    """(mean, raw sample std, max |x|) of ``x[:n]`` as ``metrics._dispersion`` reduces
    them (``n >= 2``): the mean, the deviations squared and summed, / (n - 1), sqrt."""
    mean = _sum(x, n) / n
    big = 0.0
    for i in range(n):
        dev = x[i] - mean
        scratch[i] = dev * dev
        a = abs(x[i])
        if not a <= big:  # np.maximum.reduce: a NaN wins
            big = a
    return mean, np.sqrt(_sum(scratch, n) / (n - 1)), big


@compiled
def _moments(
    r_all: np.ndarray, b_all: np.ndarray, turnover: np.ndarray, rf: float, plain: bool
) -> np.ndarray:  # pragma: no cover - compiled
    """The reductions of ``compute_metrics`` (slots named above; NaN where it computes
    none). ``r``: the finite days of ``r_all``; ``rb``, ``b``: the days where both are."""
    out = np.full(N_SLOTS, np.nan)
    size = r_all.shape[0]
    r = np.empty(size)
    rb = np.empty(size)
    b = np.empty(size)
    scratch = np.empty(max(size, turnover.shape[0]) + 1)  # squares, products, finite turnover
    n = 0
    n_both = 0
    for i in range(size):
        if np.isfinite(r_all[i]):
            r[n] = r_all[i]
            n += 1
            if np.isfinite(b_all[i]):
                rb[n_both] = r_all[i]
                b[n_both] = b_all[i]
                n_both += 1
    out[N] = n
    out[B_N] = n_both
    if n:
        ending = 1.0
        value = 1.0  # np.concatenate(([1.0], np.cumprod(1 + r)))
        peak = 1.0
        worst = 0.0
        for i in range(n):
            growth = 1.0 + r[i]
            ending *= growth
            value = growth if i == 0 else value * growth
            if not (peak >= value or peak != peak):  # np.maximum.accumulate
                peak = value
            drop = (value - peak) / peak
            if drop < worst or drop != drop:  # the first value, 1.0, dropped 0.0
                worst = drop if worst == worst else worst
        out[ENDING] = ending
        out[DRAWDOWN] = worst
    hits = 0
    for i in range(n):
        if r[i] > 0.0:
            hits += 1
    out[HITS] = hits
    if n >= 2:
        out[MEAN], out[RAW_STD], out[SCALE] = _dispersion_sums(r, n, scratch)
        if plain:
            excess = r
            out[MEAN_EXCESS] = out[MEAN]
            out[RAW_STD_EXCESS] = out[RAW_STD]
        else:
            excess = np.empty(n)
            for i in range(n):
                excess[i] = r[i] - rf
            out[MEAN_EXCESS] = _sum(excess, n) / n
            for i in range(n):
                dev = excess[i] - out[MEAN_EXCESS]
                scratch[i] = dev * dev
            out[RAW_STD_EXCESS] = np.sqrt(_sum(scratch, n) / (n - 1))
        for i in range(n):  # np.minimum(excess, 0.0) squared
            low = excess[i] if excess[i] < 0.0 or excess[i] != excess[i] else 0.0
            scratch[i] = low * low
        out[DOWNSIDE_MEAN] = _sum(scratch, n) / n
    elif n == 1:
        out[MEAN] = (0.0 + r[0]) / 1.0
        out[MEAN_EXCESS] = out[MEAN] if plain else (0.0 + (r[0] - rf)) / 1.0
    if n_both >= 2:
        out[B_MEAN], out[B_RAW_STD], out[B_SCALE] = _dispersion_sums(b, n_both, scratch)
        for i in range(n_both):
            res = b[i] - out[B_MEAN]
            scratch[i] = res * res
        out[B_VAR] = _sum(scratch, n_both) / n_both
        for i in range(n_both):
            scratch[i] = (b[i] - out[B_MEAN]) * rb[i]
        out[B_COV] = _sum(scratch, n_both) / n_both
        active = np.empty(n_both)
        for i in range(n_both):
            active[i] = rb[i] - b[i]
        out[A_MEAN], out[A_RAW_STD], out[A_SCALE] = _dispersion_sums(active, n_both, scratch)
    elif n_both == 1:
        out[B_MEAN] = (0.0 + b[0]) / 1.0
        out[A_MEAN] = (0.0 + (rb[0] - b[0])) / 1.0
    n_turnover = 0
    for i in range(turnover.shape[0]):
        if np.isfinite(turnover[i]):
            scratch[n_turnover] = turnover[i]
            n_turnover += 1
    if n_turnover:
        out[TURNOVER_MEAN] = _sum(scratch, n_turnover) / n_turnover
    return out


@compiled
def _alpha_mean(
    r_all: np.ndarray, b_all: np.ndarray, beta: float, rf: float
) -> float:  # pragma: no cover - compiled
    """``np.mean((r - rf) - beta * (b - rf))`` over the days where both are finite."""
    scratch = np.empty(r_all.shape[0])
    n = 0
    for i in range(r_all.shape[0]):
        if np.isfinite(r_all[i]) and np.isfinite(b_all[i]):
            scratch[n] = (r_all[i] - rf) - beta * (b_all[i] - rf)
            n += 1
    return _sum(scratch, n) / n


def moments(r_all: np.ndarray, b_all: np.ndarray, turnover: np.ndarray, rf: float, plain: bool) -> np.ndarray:
    """(N_SLOTS,) the reductions of ``compute_metrics`` for daily returns ``r_all`` (D,),
    benchmark ``b_all`` (D,) (NaN = no return that day) and ``turnover`` (K,) (may be
    empty); ``rf`` the daily risk-free rate, ``plain`` True when it is +0.0 (the excess
    return is then the return itself). Slots named in this module; NaN where undefined.
    ``DRAWDOWN`` is NaN when the worst drop is a (signed) zero or undefined: the caller
    asks numpy then (the sign of a zero depends on numpy's vectorised order)."""
    out: np.ndarray = _moments(floats(r_all), floats(b_all), floats(turnover), float(rf), bool(plain))
    return out


def alpha_mean(r_all: np.ndarray, b_all: np.ndarray, beta: float, rf: float) -> float:
    """Mean daily Jensen's-alpha term ``(r - rf) - beta * (b - rf)`` over the days where
    both series are finite (at least one)."""
    return float(_alpha_mean(floats(r_all), floats(b_all), float(beta), float(rf)))


def warm_up() -> None:
    """Compile (or load from the cache) the kernels on tiny inputs."""
    ones = np.ones(3)
    moments(ones, ones, ones, 0.0, True)
    alpha_mean(ones, ones, 1.0, 0.0)
