"""Performance metrics of daily simple-return series, with empyrical's conventions.

- 252 trading days a year; ``risk_free`` is an annual rate, used as ``risk_free / 252``
  per day (as ``StrategyParams`` documents).
- Volatilities use the sample standard deviation (``ddof=1``), as empyrical does.
- ``alpha`` is empyrical's: ``(1 + mean(daily excess return - beta * daily excess
  benchmark return)) ** 252 - 1``; ``beta`` is ``cov / var`` of the daily returns.
- ``information_ratio`` is annualised: ``mean(active) / std(active) * sqrt(252)``, where
  active = portfolio - benchmark (empyrical's ``excess_sharpe`` times ``sqrt(252)``);
  ``tracking_error`` is ``std(active) * sqrt(252)``.
- ``hit_rate`` is the share of days with a strictly positive return.
- ``max_drawdown`` is a negative number (0 when the value never fell).
- Anything undefined (too few days, zero dispersion, an all-cash series) is NaN, never
  an exception or an infinity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

METRIC_NAMES: tuple[str, ...] = (
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "beta",
    "alpha",
    "information_ratio",
    "tracking_error",
    "hit_rate",
    "avg_turnover",
)
# The metrics that are fractions of capital or of days (shown as percentages); the others are ratios.
PERCENT_METRICS: frozenset[str] = frozenset(
    {
        "total_return",
        "cagr",
        "annual_volatility",
        "max_drawdown",
        "alpha",
        "tracking_error",
        "hit_rate",
        "avg_turnover",
    }
)


TRADING_DAYS = 252


def _as_array(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _aligned(returns: object, benchmark: object) -> tuple[np.ndarray, np.ndarray]:
    """Two float arrays of equal length: aligned by index when both are Series, else by position."""
    if isinstance(returns, pd.Series) and isinstance(benchmark, pd.Series):
        benchmark = benchmark.reindex(returns.index)
    r = _as_array(returns)
    b = _as_array(benchmark) if benchmark is not None else np.full(r.shape, np.nan)
    if b.shape != r.shape:
        raise ValueError(f"returns ({r.size}) and benchmark ({b.size}) differ in length")
    return r, b


def _safe_div(num: float, den: float) -> float:
    if not (math.isfinite(num) and math.isfinite(den)) or den == 0.0:
        return math.nan
    return num / den


def _std(values: np.ndarray) -> float:
    if values.size < 2:
        return math.nan
    std = float(np.std(values, ddof=1))
    # A constant series has zero dispersion; floating noise must not make it tiny but non-zero.
    if float(np.max(values)) == float(np.min(values)):
        return 0.0
    return std


def total_return(returns: np.ndarray) -> float:
    return float(np.prod(1.0 + returns) - 1.0) if returns.size else math.nan


def cagr(returns: np.ndarray) -> float:
    if returns.size < 1:
        return math.nan
    ending = float(np.prod(1.0 + returns))
    if ending < 0:
        return math.nan
    return ending ** (TRADING_DAYS / returns.size) - 1.0


def max_drawdown(returns: np.ndarray) -> float:
    if returns.size < 1:
        return math.nan
    value = np.concatenate(([1.0], np.cumprod(1.0 + returns)))
    peak = np.maximum.accumulate(value)
    return float(np.min((value - peak) / peak))


def _beta_alpha(r: np.ndarray, b: np.ndarray, rf_daily: float) -> tuple[float, float]:
    if r.size < 2:
        return math.nan, math.nan
    b_res = b - b.mean()
    var = float(np.mean(b_res * b_res))
    beta = _safe_div(float(np.mean(b_res * r)), var)
    if not math.isfinite(beta):
        return math.nan, math.nan
    alpha_daily = float(np.mean((r - rf_daily) - beta * (b - rf_daily)))
    return beta, (1.0 + alpha_daily) ** TRADING_DAYS - 1.0


def compute_metrics(
    returns: object,
    benchmark: object = None,
    *,
    risk_free: float = 0.0,
    turnover: object = None,
) -> dict[str, float]:
    """``METRIC_NAMES`` of daily simple ``returns`` against daily ``benchmark`` returns.

    Days where either series is NaN are left out of every metric (so both are measured
    over the same days). Without a benchmark the relative metrics are NaN.
    ``turnover``: per-rebalance one-way turnover; its mean is ``avg_turnover``.
    """
    r_all, b_all = _aligned(returns, benchmark)
    has_benchmark = benchmark is not None and bool(np.isfinite(b_all).any())
    keep = np.isfinite(r_all) & (np.isfinite(b_all) if has_benchmark else True)
    r = r_all[keep]
    b = b_all[keep]
    rf = float(risk_free) / TRADING_DAYS
    root = math.sqrt(TRADING_DAYS)

    out = dict.fromkeys(METRIC_NAMES, math.nan)
    out["total_return"] = total_return(r)
    out["cagr"] = cagr(r)
    vol = _std(r)
    out["annual_volatility"] = vol * root
    excess = r - rf
    out["sharpe"] = _safe_div(float(np.mean(excess)) if r.size >= 2 else math.nan, _std(excess)) * root
    if r.size >= 2:
        downside = math.sqrt(float(np.mean(np.square(np.minimum(excess, 0.0))))) * root
        out["sortino"] = _safe_div(float(np.mean(excess)) * TRADING_DAYS, downside)
    out["max_drawdown"] = max_drawdown(r)
    mdd = out["max_drawdown"]
    out["calmar"] = _safe_div(out["cagr"], abs(mdd)) if mdd < 0 else math.nan
    if has_benchmark:
        out["beta"], out["alpha"] = _beta_alpha(r, b, rf)
        active = r - b
        te = _std(active)
        out["tracking_error"] = te * root
        out["information_ratio"] = (
            _safe_div(float(np.mean(active)), te) * root if active.size >= 2 else math.nan
        )
    out["hit_rate"] = float(np.mean(r > 0.0)) if r.size else math.nan
    if turnover is not None:
        t = _as_array(turnover)
        t = t[np.isfinite(t)]
        out["avg_turnover"] = float(t.mean()) if t.size else math.nan
    return {k: float(v) for k, v in out.items()}


def drawdown_info(returns: pd.Series | np.ndarray, dates: object = None) -> dict[str, str | None]:
    """ISO dates of the maximum drawdown: ``peak`` (last high before it), ``trough``,
    ``recovery`` (first day back at the peak value; None if never). All None when the
    series never falls. ``dates`` is needed only when ``returns`` is not a Series.

    The peak may be the day before the first return (the starting value), reported as
    the first date of the series.
    """
    none: dict[str, str | None] = {"peak": None, "trough": None, "recovery": None}
    if isinstance(returns, pd.Series):
        index = pd.DatetimeIndex(returns.index)
        r = _as_array(returns)
    else:
        r = _as_array(returns)
        index = pd.DatetimeIndex(dates) if dates is not None else None
    if r.size == 0 or index is None:
        return none
    r = np.where(np.isfinite(r), r, 0.0)
    value = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    peak_value = np.maximum.accumulate(value)
    dd = (value - peak_value) / peak_value
    trough = int(np.argmin(dd))
    if dd[trough] >= 0.0:
        return none
    peak = int(np.flatnonzero(value[: trough + 1] == peak_value[trough])[-1])
    after = np.flatnonzero(value[trough:] >= peak_value[trough])
    # value index i corresponds to the close after returns[i-1]; index 0 is the start.
    iso = lambda i: index[max(i - 1, 0)].date().isoformat()
    return {
        "peak": iso(peak),
        "trough": iso(trough),
        "recovery": iso(trough + int(after[0])) if after.size else None,
    }


def metrics_table(rows: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Metrics of several series side by side (one column per series), rows in METRIC_NAMES order."""
    return pd.DataFrame(
        {name: [values.get(m, math.nan) for m in METRIC_NAMES] for name, values in rows.items()},
        index=list(METRIC_NAMES),
    )
