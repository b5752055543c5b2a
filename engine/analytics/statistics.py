"""Sharpe-ratio statistics: probabilistic and deflated Sharpe (Bailey & López de Prado 2012, 2014),
expected maximum Sharpe of N trials, stationary bootstrap indices (Politis & Romano 1994),
and vectorised annualised Sharpe and growth over resampled return paths."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

TRADING_DAYS = 252
EULER_GAMMA = 0.5772156649015329


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
    returns: np.ndarray, annual_sharpes: Sequence[float], risk_free: float = 0.0
) -> float:
    """DSR of the daily ``returns`` selected as the best of the trials' annualised Sharpes."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    trials = np.asarray([s for s in annual_sharpes if math.isfinite(s)], dtype=np.float64) / math.sqrt(
        TRADING_DAYS
    )
    if r.size < 3 or trials.size == 0 or float(np.std(r)) == 0.0:
        return math.nan
    excess = r - risk_free / TRADING_DAYS
    sharpe = float(np.mean(excess) / np.std(excess, ddof=1))
    variance = float(np.var(trials, ddof=1)) if trials.size > 1 else 0.0
    return deflated_sharpe_ratio(
        sharpe,
        trials_variance=variance,
        n_trials=int(trials.size),
        n_obs=int(r.size),
        skew=float(stats.skew(r)),
        kurtosis=float(stats.kurtosis(r, fisher=False)),
    )


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
    std = np.std(excess, axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.mean(excess, axis=-1) / std * math.sqrt(TRADING_DAYS)
    return np.where(std > 0, out, np.nan)


def annual_growth(returns: np.ndarray) -> np.ndarray:
    """Row-wise CAGR (252 days a year) of a (samples, days) array of simple returns."""
    with np.errstate(invalid="ignore", divide="ignore"):
        log_growth = np.sum(np.log1p(returns), axis=-1)
    return np.expm1(log_growth * TRADING_DAYS / returns.shape[-1])
