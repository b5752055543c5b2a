"""Portfolio weighting schemes, computed from a trailing window of daily returns.

All schemes are long-only and fully invested (weights >= 0, summing to 1). The window
holds only returns realised strictly before the entry day (see docs/strategy.md). When
the window is too short, a covariance optimiser has no more complete days than holdings
(a singular covariance, ``covariance_is_singular``) or a scheme is undefined (zero
volatility, optimiser failure) the weights fall back to equal weight, and the reason is returned so the backtest can
warn.

- ``inverse_volatility``: w_i proportional to 1 / sigma_i (sample std, ddof=1).
  Every scheme falls back when an asset's sigma is zero by the engine's zero-dispersion
  rule (``engine.dispersion.negligible_dispersion``).
- ``min_variance``: argmin w' S w (S = sample covariance), SLSQP.
- ``max_sharpe``: argmax (w' mu - rf) / sqrt(w' S w), rf = risk_free / 252. When some
  asset beats rf this is solved as the convex problem min y' S y s.t. (mu - rf)' y = 1,
  y >= 0, w = y / sum(y); otherwise SLSQP on the ratio itself from several starts.
  For both optimisers, assets whose window returns are equal day by day up to rounding
  (``engine.dispersion.distinct_series``; one security under two spellings) are one asset: the
  optimum leaves their split open (any split is the same portfolio), so they share its
  weight equally rather than as rounding decides (1 and 0 for one of them, before).
- ``hrp``: hierarchical risk parity (Lopez de Prado 2016): correlation distance
  sqrt((1 - rho) / 2), single linkage on it, leaf order (quasi-diagonalisation), then
  recursive bisection of that order into halves, splitting weight by the halves'
  inverse-variance-portfolio variances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.optimize import minimize
from scipy.spatial.distance import squareform

from engine.data.types import TRADING_DAYS
from engine.dispersion import distinct_series, negligible_dispersion
from engine.strategy.params import WEIGHTINGS

MIN_OBSERVATIONS = 5  # fewer complete days of returns than this: equal weight

# The schemes that optimise over the sample covariance S. S of T complete days of N assets
# has rank at most T - 1, so with T <= N it is singular: some long-only mix has an
# in-sample variance of (almost) 0 that the next days do not have (breaker pass 12, F9:
# 5 days for 5 holdings gave an "almost riskless" 0.6% annual volatility, 24% realised).
# These schemes need more complete days than holdings (``covariance_is_singular``);
# inverse volatility and hrp use only variances and correlations of pairs.
COVARIANCE_OPTIMISERS = ("min_variance", "max_sharpe")


def covariance_is_singular(days: int, holdings: int) -> bool:
    """The one rule: a sample covariance of ``days`` complete days of ``holdings`` assets
    is not of full rank when ``days <= holdings`` (its rank is at most ``days - 1``)."""
    return days <= holdings


def equal_weights(n: int) -> np.ndarray:
    return np.full(n, 1.0 / n)


def compute_weights(
    scheme: str, window: np.ndarray, *, risk_free: float = 0.0, names: Sequence[str] | None = None
) -> tuple[np.ndarray, str | None]:
    """Weights of the window's columns, and ``None`` or the reason for falling back to equal weight.

    ``window``: days x assets of daily simple returns; days with a missing return for
    any asset are left out. ``names``: the assets' names (one per column), so that the
    reason names the asset without volatility.
    """
    if scheme not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {scheme!r}")
    window = np.asarray(window, dtype=np.float64)
    n = window.shape[1]
    if n == 1 or scheme == "equal":
        return equal_weights(n), None
    clean = window[np.isfinite(window).all(axis=1)]
    if clean.shape[0] < MIN_OBSERVATIONS:
        return equal_weights(n), f"only {clean.shape[0]} complete days of returns (need {MIN_OBSERVATIONS})"
    if scheme in COVARIANCE_OPTIMISERS and covariance_is_singular(clean.shape[0], n):
        return equal_weights(n), (
            f"only {clean.shape[0]} complete days of returns for {n} holdings (the sample covariance "
            "is singular unless the complete days outnumber the holdings)"
        )
    try:
        # Every scheme is undefined with a riskless asset in the window (README, Weighting):
        # inverse volatility divides by its zero sigma, the Sharpe ratio is unbounded, and
        # the variance-based schemes would put the whole portfolio in it without a word.
        sigma = clean.std(axis=0, ddof=1)
        _check_volatility(clean, sigma, names)
        if scheme == "inverse_volatility":
            weights = inverse_volatility(sigma)
        elif scheme == "min_variance":
            weights = _twins_share(clean, lambda r: min_variance(np.cov(r, rowvar=False)))
        elif scheme == "max_sharpe":
            rf = risk_free / TRADING_DAYS
            weights = _twins_share(clean, lambda r: max_sharpe(r.mean(axis=0), np.cov(r, rowvar=False), rf))
        else:
            weights = hrp(np.cov(clean, rowvar=False))
    except _Undefined as exc:
        return equal_weights(n), str(exc)
    return weights, None


def _twins_share(returns: np.ndarray, solve: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``solve`` on the distinct columns of ``returns`` (``engine.dispersion.distinct_series``:
    equal day by day up to rounding, the rule that counts a sweep's distinct trials), each
    distinct column's weight split equally among its twins; ``solve(returns)`` when all differ."""
    labels = distinct_series(list(returns.T))  # 0, 1, ... in order of first appearance
    n_distinct = int(labels.max()) + 1 if labels.size else 0
    if n_distinct == labels.size:
        return solve(returns)
    if n_distinct == 1:
        return equal_weights(labels.size)
    _, first = np.unique(labels, return_index=True)
    weights = solve(returns[:, first])
    counts = np.bincount(labels, minlength=n_distinct)
    return weights[labels] / counts[labels]


class _Undefined(ValueError):
    """The scheme has no answer for this window."""


def _normalise(weights: np.ndarray) -> np.ndarray:
    weights = np.clip(weights, 0.0, None)
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        raise _Undefined("the optimiser returned no usable weights")
    return weights / total


def _check_volatility(returns: np.ndarray, sigma: np.ndarray, names: Sequence[str] | None = None) -> None:
    """Raise ``_Undefined`` when an asset has no volatility in the window: a std that is 0
    or negligible by the engine's zero-dispersion rule (``engine.dispersion``), e.g. a
    price growing exactly 0.1% a day, whose std is rounding residue (~1e-16), not a
    volatility to divide by. The message names those assets when ``names`` are given."""
    flat = negligible_dispersion(sigma, returns.mean(axis=0), np.abs(returns).max(axis=0))
    flat |= ~np.isfinite(sigma) | (sigma <= 0)
    if np.any(flat):
        which = (
            "an asset has"
            if names is None
            else ", ".join(str(names[int(i)]) for i in np.flatnonzero(flat))
            + (" has" if flat.sum() == 1 else " have")
        )
        raise _Undefined(f"{which} zero volatility in the window")


def inverse_volatility(sigma: np.ndarray) -> np.ndarray:
    """Weights proportional to 1 / sigma (each asset's sample std, checked non-zero by
    ``compute_weights``), as ``min_variance`` and ``hrp`` take the covariance."""
    return _normalise(1.0 / sigma)


def _simplex_constraints(n: int) -> tuple[list[tuple[float, float]], dict]:
    return [(0.0, 1.0)] * n, {"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}


def min_variance(cov: np.ndarray) -> np.ndarray:
    n = cov.shape[0]
    scale = float(np.mean(np.diag(cov)))
    if not np.isfinite(scale) or scale <= 0:
        raise _Undefined("the covariance matrix is degenerate")
    c = cov / scale  # O(1) numbers keep SLSQP's tolerances meaningful
    bounds, budget = _simplex_constraints(n)
    result = minimize(
        lambda w: float(w @ c @ w),
        equal_weights(n),
        jac=lambda w: 2.0 * c @ w,
        method="SLSQP",
        bounds=bounds,
        constraints=[budget],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    if not result.success:
        raise _Undefined(f"the minimum-variance optimiser failed ({result.message})")
    return _normalise(result.x)


def _sharpe(w: np.ndarray, mu: np.ndarray, cov: np.ndarray, rf: float) -> float:
    var = float(w @ cov @ w)
    return (float(w @ mu) - rf) / np.sqrt(var) if var > 0 else -np.inf


def max_sharpe(mu: np.ndarray, cov: np.ndarray, rf: float) -> np.ndarray:
    n = cov.shape[0]
    excess = mu - rf
    scale = float(np.mean(np.diag(cov)))
    if not np.isfinite(scale) or scale <= 0:
        raise _Undefined("the covariance matrix is degenerate")
    c = cov / scale
    if np.any(excess > 0):
        # Tangency portfolio as a convex QP in y = w / (w' excess); the scale of excess
        # is normalised so the equality constraint is O(1).
        e = excess / np.max(np.abs(excess))
        start = np.where(e > 0, 1.0, 0.0)
        start /= start @ e
        result = minimize(
            lambda y: float(y @ c @ y),
            start,
            jac=lambda y: 2.0 * c @ y,
            method="SLSQP",
            bounds=[(0.0, None)] * n,
            constraints=[{"type": "eq", "fun": lambda y: y @ e - 1.0, "jac": lambda y: e}],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        if not result.success:
            raise _Undefined(f"the maximum-Sharpe optimiser failed ({result.message})")
        return _normalise(result.x)
    # No asset beats the risk-free rate: maximise the (negative) ratio directly.
    bounds, budget = _simplex_constraints(n)
    # Starts: equal weight and the best few single assets (the optimum of a negative
    # ratio tends to sit on a corner), not every corner: n SLSQP runs would be slow.
    single = excess / np.sqrt(np.diag(cov))
    starts = [equal_weights(n), *np.eye(n)[np.argsort(-single)[:3]]]
    best, best_value = None, -np.inf
    for start in starts:
        result = minimize(
            lambda w: -_sharpe(w, mu, cov, rf),
            start,
            method="SLSQP",
            bounds=bounds,
            constraints=[budget],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        candidate = np.clip(result.x, 0.0, None)
        if candidate.sum() > 0:
            candidate = candidate / candidate.sum()
            value = _sharpe(candidate, mu, cov, rf)
            if value > best_value:
                best, best_value = candidate, value
    if best is None:
        raise _Undefined("the maximum-Sharpe optimiser failed")
    return best


def correlation_distance(cov: np.ndarray) -> np.ndarray:
    sigma = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sigma, sigma)
    corr = np.clip(corr, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, None))


def hrp_order(cov: np.ndarray) -> np.ndarray:
    """Quasi-diagonal order: the leaves of the single-linkage tree on the correlation distance."""
    dist = correlation_distance(cov)
    return leaves_list(linkage(squareform(dist, checks=False), method="single"))


def _cluster_variance(cov: np.ndarray, items: np.ndarray) -> float:
    sub = cov[np.ix_(items, items)]
    ivp = 1.0 / np.diag(sub)
    ivp /= ivp.sum()
    return float(ivp @ sub @ ivp)


def hrp(cov: np.ndarray) -> np.ndarray:
    variances = np.diag(cov)
    if not np.all(np.isfinite(cov)) or np.any(variances <= 0):
        raise _Undefined("an asset has zero volatility in the window")
    order = hrp_order(cov)
    weights = np.ones(cov.shape[0])
    clusters = [order]
    while clusters:
        next_clusters = []
        for cluster in clusters:
            if len(cluster) < 2:
                continue
            half = len(cluster) // 2
            left, right = cluster[:half], cluster[half:]
            var_left = _cluster_variance(cov, left)
            var_right = _cluster_variance(cov, right)
            alpha = 1.0 - var_left / (var_left + var_right)
            weights[left] *= alpha
            weights[right] *= 1.0 - alpha
            next_clusters.extend([left, right])
        clusters = next_clusters
    return _normalise(weights)
