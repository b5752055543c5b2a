"""Probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation.

Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting",
Journal of Computational Finance 20(4), 2017 (SSRN 2326253, 2015), section 2:

1. The (T x N) matrix ``M`` holds the daily returns of N configurations on the same T days.
   Configurations with identical daily returns (bit for bit, or day by day up to
   rounding: ``engine.dispersion.tied``) are one configuration, as the Deflated Sharpe
   Ratio counts distinct return series (``distinct_series``): copies would tie with the
   in-sample best and pull its relative rank to the median, and N identical
   configurations (nothing to choose between) would have a PBO of 1. At least 2
   distinct configurations are needed. The rows are split into S disjoint, contiguous
   submatrices of ``T // S`` rows each (the ``T mod S`` oldest rows are left out, so every
   submatrix has the same length).
2. For every one of the ``C(S, S/2)`` combinations ``c`` of S/2 submatrices, the rows of
   those submatrices (in time order) are the in-sample set J and the others the
   out-of-sample set J-bar.
3. The metric (default the annualised Sharpe ratio) of every configuration on J picks the
   in-sample best ``n*`` (the first column wins a tie, metrics equal up to rounding,
   ``engine.dispersion.tied``, being a tie: configurations with the same returns on J
   have Sharpe ratios a few ulps apart; configurations whose metric is undefined are
   never picked). Its out-of-sample metric gets the relative rank
   ``w = rank / (N + 1)`` among the N out-of-sample metrics (rank 1 = worst, N = best;
   ties, up to rounding, get the average rank; an undefined metric ranks below every
   defined one), and
   the logit ``lambda = ln(w / (1 - w))``.
4. ``PBO = share of combinations with lambda <= 0``: how often the in-sample best is at or
   below the out-of-sample median. A combination whose in-sample metrics are all
   undefined has no logit and is not counted.

Also reported, from the same combinations (section 2 of the paper): the probability of
loss (share of combinations where the selected configuration's out-of-sample metric is
below 0) and the slope of the OLS regression of the out-of-sample on the in-sample metric
of the selected configuration (performance degradation).

Metrics are those of ``engine.analytics.metrics`` (empyrical's definitions, 252 days a year,
sample standard deviation), computed column-wise: ``sharpe``, ``sortino``, ``cagr``,
``total_return``. They are additive over days (sums of returns, squares, downside squares
and log growth), so every combination is a sum of per-submatrix moments: the cost is
``O(T N + C(S, S/2) N)``, not a pass over the rows per combination.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np

from engine.data.types import TRADING_DAYS
from engine.dispersion import (
    constant_loss,
    distinct_series,
    negligible_dispersion,
    tied,
    zero_within_rounding,
)
from engine.errors import ParameterError, short_repr

SELECTION_METRICS: tuple[str, ...] = ("sharpe", "sortino", "cagr", "total_return")
MAX_SPLITS = 20  # C(20, 10) = 184,756 combinations
_CELLS = 2_000_000  # combinations x configurations evaluated at once (16 MB per moment)
# The moments each metric reads (the others are not summed per combination).
_NEEDS = {
    "sharpe": ("s1", "s2", "abs_sum"),
    "sortino": ("s1", "s2", "down", "abs_sum"),
    "cagr": ("log_growth",),
    "total_return": ("log_growth",),
}


def check_metric(metric: str) -> str:
    if metric not in SELECTION_METRICS:
        raise ParameterError(
            f"the selection metric must be one of {', '.join(SELECTION_METRICS)}; got {short_repr(metric)}"
        )
    return metric


def check_returns_matrix(values: Any, *, what: str = "the returns matrix") -> np.ndarray:
    """``values`` as a finite (T x N) float array, or ``ParameterError`` in one sentence."""
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must hold numbers (daily simple returns)") from None
    if matrix.ndim != 2:
        raise ParameterError(f"{what} must be two-dimensional (days x configurations)")
    if not np.isfinite(matrix).all():
        raise ParameterError(
            f"{what} has missing or infinite returns; fill the days a configuration is not invested with 0"
        )
    if (matrix <= -1.0).any():
        raise ParameterError(f"{what} has a daily return of -100% or less")
    return matrix


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Moments:
    """Per-block sums of each column: count, excess returns, their squares (around the
    column's mean, for accuracy), downside squares and log growth; block min and max."""

    n: np.ndarray  # (B,)
    rf: float  # the daily risk-free rate subtracted (the returns' mean is the excess mean + rf)
    center: np.ndarray  # (N,) column mean of the excess returns over all rows
    s1: np.ndarray  # (B, N) sum of (excess - center)
    s2: np.ndarray  # (B, N) sum of (excess - center)^2
    down: np.ndarray  # (B, N) sum of min(excess, 0)^2
    log_growth: np.ndarray  # (B, N) sum of log(1 + r)
    abs_sum: np.ndarray  # (B, N) sum of |r| (the returns', as compute_metrics' scale max |r|)


def _moments(matrix: np.ndarray, bounds: list[tuple[int, int]], risk_free: float) -> _Moments:
    rf = risk_free / TRADING_DAYS
    excess = matrix - rf
    center = excess.mean(axis=0) if excess.shape[0] else np.zeros(excess.shape[1])
    dev = excess - center
    parts = [slice(a, b) for a, b in bounds]
    return _Moments(
        n=np.array([b - a for a, b in bounds], dtype=np.float64),
        rf=rf,
        center=center,
        s1=np.array([dev[p].sum(axis=0) for p in parts]),
        s2=np.array([np.square(dev[p]).sum(axis=0) for p in parts]),
        down=np.array([np.square(np.minimum(excess[p], 0.0)).sum(axis=0) for p in parts]),
        log_growth=np.array([np.log1p(matrix[p]).sum(axis=0) for p in parts]),
        abs_sum=np.array([np.abs(matrix[p]).sum(axis=0) for p in parts]),
    )


def _computed(value: np.ndarray | None) -> np.ndarray:
    """A moment sum the metric needs: ``_NEEDS`` names it, so the caller computed it."""
    if value is None:  # pragma: no cover  (a defect of the _NEEDS table)
        raise AssertionError("a moment sum the metric needs was not computed")
    return value


def _metric_from_sums(
    metric: str,
    n: np.ndarray,
    rf: float,
    center: np.ndarray,
    s1: np.ndarray | None,
    s2: np.ndarray | None,
    down: np.ndarray | None,
    log_growth: np.ndarray | None,
    abs_sum: np.ndarray | None,
) -> np.ndarray:
    """The metric of each (set of rows, column) from its summed moments; NaN where undefined.
    ``n`` has one entry per set (shape (R, 1)); the others are (R, N); ``rf`` the daily
    risk-free rate the excess returns are net of. A sum the metric does
    not need (``_NEEDS``) may be None (the PBO loop skips computing it)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if metric in ("total_return", "cagr"):
            # A growth of 0 up to rounding (a path back at its start) is 0: ``ending_value``'s rule.
            growth = _computed(log_growth)
            growth = np.where(zero_within_rounding(np.expm1(growth)) == 0.0, 0.0, growth)
            if metric == "total_return":
                return np.expm1(growth)
            return np.where(n >= 1, np.exp(growth * (TRADING_DAYS / n)) - 1.0, np.nan)
        sum1 = _computed(s1)
        mean = center + sum1 / n
        var = (_computed(s2) - sum1 * sum1 / n) / (n - 1)
        std = np.sqrt(np.maximum(var, 0.0))
        scale = _computed(abs_sum) / n  # mean |r|, a lower bound of compute_metrics' max |r|
        # The one zero-dispersion rule, judged on the returns as compute_metrics does
        # (std(r - rf) is std(r); an rf near the mean hides nothing): their mean is the
        # excess mean + rf.
        flat = negligible_dispersion(std, mean + rf, scale)
        if metric == "sharpe":
            out = mean / std * math.sqrt(TRADING_DAYS)
            return np.where((n >= 2) & ~flat & np.isfinite(out), out, np.nan)
        if metric == "sortino":
            daily_downside = np.sqrt(_computed(down) / n)
            downside = daily_downside * math.sqrt(TRADING_DAYS)
            out = mean * TRADING_DAYS / downside
            noise = negligible_dispersion(daily_downside, 0.0, scale)  # residue only
            # Returns without dispersion have a downside deviation only when their
            # constant excess return is a loss beyond their rounding (the rule
            # compute_metrics applies): a gain, or an excess of 0 up to rounding, has none.
            loss = constant_loss(mean, std, scale)
            return np.where((n >= 2) & ~noise & ~(flat & ~loss) & np.isfinite(out), out, np.nan)
    raise ParameterError(f"unknown metric {short_repr(metric)}")  # pragma: no cover  (checked before)


def column_metric(returns: Any, metric: str = "sharpe", *, risk_free: float = 0.0) -> np.ndarray:
    """``metric`` of every column of a (T x N) matrix of daily simple returns: (N,) floats,
    NaN where undefined. Same definitions as ``engine.analytics.metrics.compute_metrics``
    (empyrical's): Sharpe ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(252)``, Sortino
    ``252 mean(r - rf) / (sqrt(mean(min(r - rf, 0)^2)) sqrt(252))``, CAGR
    ``prod(1 + r)^(252 / T) - 1``, total return ``prod(1 + r) - 1``; ``rf = risk_free / 252``."""
    check_metric(metric)
    matrix = check_returns_matrix(returns)
    m = _moments(matrix, [(0, matrix.shape[0])], risk_free)
    return _metric_from_sums(
        metric, m.n[:, None], m.rf, m.center, m.s1, m.s2, m.down, m.log_growth, m.abs_sum
    )[0]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PBOSettings:
    """``n_splits``: S, the number of submatrices (even, 2 to 20; default 16 as in the
    paper's examples); ``metric``: one of ``SELECTION_METRICS``; ``risk_free``: annual rate."""

    n_splits: int = 16
    metric: str = "sharpe"
    risk_free: float = 0.0

    def __post_init__(self) -> None:
        s = self.n_splits
        if isinstance(s, bool) or not isinstance(s, int) or s < 2 or s > MAX_SPLITS or s % 2:
            raise ParameterError(
                f"n_splits must be an even whole number from 2 to {MAX_SPLITS}; got {short_repr(s)}"
            )
        check_metric(self.metric)
        rf = self.risk_free
        if isinstance(rf, bool) or not isinstance(rf, (int, float)) or not -0.5 <= rf <= 1.0:
            raise ParameterError(f"risk_free must be an annual rate between -0.5 and 1; got {short_repr(rf)}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PBOResult:
    """Outcome of CSCV.

    - ``pbo``: share of the combinations with a logit ``<= 0`` (NaN when none has a logit).
    - ``logits``: (C,) the logit of each combination, NaN where undefined (for the histogram).
    - ``is_metric`` / ``oos_metric``: (C,) the in-sample best's metric in and out of sample.
    - ``probability_of_loss``: share of combinations with ``oos_metric < 0``, among those
      whose selected configuration has a defined IS and OOS metric.
    - ``degradation_slope``: OLS slope of ``oos_metric`` on ``is_metric`` (NaN when undefined).
    - ``n_combinations`` = C(S, S/2), ``n_splits`` = S, ``n_configs`` = N (distinct
      return series compared), ``n_identical`` = the columns given that repeat an
      earlier one (not compared), ``rows_per_split`` = T // S, ``n_days_used`` = S * (T // S).
    """

    settings: PBOSettings
    pbo: float
    logits: np.ndarray
    is_metric: np.ndarray
    oos_metric: np.ndarray
    probability_of_loss: float
    degradation_slope: float
    n_combinations: int
    n_splits: int
    n_configs: int
    rows_per_split: int
    n_days_used: int
    n_identical: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain scalars and lists (JSON-able, NaN kept as float nan)."""
        return {
            **dataclasses.asdict(self.settings),
            "pbo": self.pbo,
            "probability_of_loss": self.probability_of_loss,
            "degradation_slope": self.degradation_slope,
            "n_combinations": self.n_combinations,
            "n_splits": self.n_splits,
            "n_configs": self.n_configs,
            "n_identical": self.n_identical,
            "rows_per_split": self.rows_per_split,
            "n_days_used": self.n_days_used,
            "logits": [float(v) for v in self.logits],
        }


def _relative_rank(oos: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Average rank (1 = worst) of column ``best[i]`` among row ``oos[i]``; NaN ranks
    lowest. Metrics equal up to rounding (``engine.dispersion.tied``) are a tie: two
    configurations with the same returns on the out-of-sample rows have Sharpe ratios a
    few ulps apart (each column's sums are centred on its own mean over all rows)."""
    filled = np.where(np.isnan(oos), -np.inf, oos)
    chosen = filled[np.arange(len(best)), best][:, None]
    tie = tied(filled, chosen)  # includes the chosen column itself
    below = ((filled < chosen) & ~tie).sum(axis=1)
    return below + (tie.sum(axis=1) + 1) / 2.0


def _first_best(metrics: np.ndarray) -> np.ndarray:
    """(R,) per row, the first column of the highest metric, metrics equal up to rounding
    being one value (``engine.dispersion.first_best``'s rule, row by row); NaN never wins
    (a row without a defined metric gives 0, and has no logit)."""
    filled = np.where(np.isnan(metrics), -np.inf, metrics)
    top = filled.max(axis=1, keepdims=True)
    return np.argmax(tied(filled, top), axis=1)


def probability_of_backtest_overfitting(returns: Any, settings: PBOSettings | None = None) -> PBOResult:
    """PBO of choosing the best of N configurations by CSCV (Bailey et al. 2015).

    ``returns``: (T x N) daily simple returns, days in time order, one column per
    configuration (a DataFrame or an array), finite, with ``T >= 2 S`` and at least 2
    distinct columns (identical ones count once).
    Raises ``ParameterError`` otherwise. See the module docstring for the procedure.
    """
    settings = settings or PBOSettings()
    matrix = check_returns_matrix(returns)
    n_given = matrix.shape[1]
    if n_given < 2:
        raise ParameterError("the probability of backtest overfitting needs at least 2 configurations")
    # The first column of each distinct series, in order (labels number them by first
    # appearance, so their first indices come out in column order).
    _, first = np.unique(distinct_series(list(matrix.T)), return_index=True)
    matrix = matrix[:, first]
    t, n_cfg = matrix.shape
    s = settings.n_splits
    if n_cfg < 2:
        raise ParameterError(
            f"the probability of backtest overfitting needs at least 2 configurations with different "
            f"daily returns; all {n_given} trade identically (nothing was chosen among them)"
        )
    if t < 2 * s:
        raise ParameterError(
            f"{t} days are too few for {s} splits; give at least {2 * s} days or fewer splits"
        )
    size = t // s
    offset = t - size * s  # the oldest rows that do not fill a submatrix
    bounds = [(offset + i * size, offset + (i + 1) * size) for i in range(s)]
    m = _moments(matrix, bounds, settings.risk_free)
    combos = np.array(list(itertools.combinations(range(s), s // 2)), dtype=np.int64)
    n_comb = len(combos)
    member = np.zeros((n_comb, s))
    member[np.arange(n_comb)[:, None], combos] = 1.0
    logits = np.full(n_comb, np.nan)
    is_best = np.full(n_comb, np.nan)
    oos_best = np.full(n_comb, np.nan)
    half_n = np.full((1, 1), float(size * (s // 2)))
    chunk_size = max(1, min(n_comb, _CELLS // n_cfg))
    needed = _NEEDS[settings.metric]
    for lo in range(0, n_comb, chunk_size):
        rows = member[lo : lo + chunk_size]
        metrics = []
        for side in (rows, 1.0 - rows):
            sums = {
                name: side @ getattr(m, name) if name in needed else None
                for name in ("s1", "s2", "down", "log_growth", "abs_sum")
            }
            metrics.append(_metric_from_sums(settings.metric, half_n, m.rf, m.center, **sums))
        is_m, oos_m = metrics
        defined = ~np.isnan(is_m).all(axis=1)
        best = _first_best(is_m)
        rank = _relative_rank(oos_m, best)
        w = rank / (n_cfg + 1.0)
        idx = np.arange(len(best))
        chunk = slice(lo, lo + len(best))
        logits[chunk] = np.where(defined, np.log(w / (1.0 - w)), np.nan)
        is_best[chunk] = np.where(defined, is_m[idx, best], np.nan)
        oos_best[chunk] = np.where(defined, oos_m[idx, best], np.nan)
    finite = np.isfinite(logits)
    pbo = float(np.mean(logits[finite] <= 0.0)) if finite.any() else math.nan
    both = np.isfinite(is_best) & np.isfinite(oos_best)
    loss = float(np.mean(oos_best[both] < 0.0)) if both.any() else math.nan
    return PBOResult(
        settings=settings,
        pbo=pbo,
        logits=logits,
        is_metric=is_best,
        oos_metric=oos_best,
        probability_of_loss=loss,
        degradation_slope=_slope(is_best[both], oos_best[both]),
        n_combinations=n_comb,
        n_splits=s,
        n_configs=n_cfg,
        n_identical=n_given - n_cfg,
        rows_per_split=size,
        n_days_used=size * s,
    )


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 2:
        return math.nan
    dx = x - x.mean()
    var = float(np.dot(dx, dx))
    if var <= 0.0:
        return math.nan
    return float(np.dot(dx, y - y.mean()) / var)


__all__ = [
    "SELECTION_METRICS",
    "PBOResult",
    "PBOSettings",
    "column_metric",
    "probability_of_backtest_overfitting",
]
