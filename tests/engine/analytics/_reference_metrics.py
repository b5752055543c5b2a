"""The metrics as the first build computed them (np.mean, np.std, np.prod through their
Python wrappers): the reference ``test_metrics_bits.py`` holds the current, leaner
``engine.analytics.metrics.compute_metrics`` to, bit for bit. Only the functions whose
implementation changed are copied here; the rest is imported from the engine."""

from __future__ import annotations

import math

import numpy as np

from engine.analytics.metrics import (
    METRIC_NAMES,
    _aligned,
    _as_array,
    _power,
    _safe_div,
    cagr,
    total_return,
)
from engine.data.types import TRADING_DAYS
from engine.dispersion import negligible_dispersion


def _std(values: np.ndarray) -> float:
    """Sample std (ddof=1); 0 when it is negligible (``negligible_dispersion``)."""
    if values.size < 2:
        return math.nan
    with np.errstate(all="ignore"):
        std = float(np.std(values, ddof=1))
        scale = float(np.max(np.abs(values)))
        mean = float(np.mean(values))
    if not math.isfinite(std):
        return math.nan
    if negligible_dispersion(std, mean, scale):
        return 0.0
    return std


def _mean(values: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.mean(values)) if values.size else math.nan


def max_drawdown(returns: np.ndarray) -> float:
    returns = _as_array(returns)
    if returns.size < 1:
        return math.nan
    with np.errstate(all="ignore"):
        value = np.concatenate(([1.0], np.cumprod(1.0 + returns)))
        peak = np.maximum.accumulate(value)
        return float(np.min((value - peak) / peak))


def _beta_alpha(r: np.ndarray, b: np.ndarray, rf_daily: float, flat: bool) -> tuple[float, float]:
    if r.size < 2 or not _std(b) > 0:  # a benchmark without dispersion has no beta
        return math.nan, math.nan
    with np.errstate(all="ignore"):
        b_res = b - b.mean()
        var = float(np.mean(b_res * b_res))
        # returns without dispersion have covariance 0 with anything: beta 0
        beta = 0.0 if flat else _safe_div(float(np.mean(b_res * r)), var)
        if not math.isfinite(beta):
            return math.nan, math.nan
        alpha_daily = float(np.mean((r - rf_daily) - beta * (b - rf_daily)))
    return beta, _power(1.0 + alpha_daily, TRADING_DAYS) - 1.0


def compute_metrics(
    returns: object,
    benchmark: object = None,
    *,
    risk_free: float = 0.0,
    turnover: object = None,
) -> dict[str, float]:
    """The first build's ``compute_metrics`` (same contract as the engine's)."""
    r_all, b_all = _aligned(returns, benchmark)
    has_benchmark = benchmark is not None and bool(np.isfinite(b_all).any())
    own = np.isfinite(r_all)
    r = r_all[own]  # the series' own days
    both = own & np.isfinite(b_all)
    rb, b = r_all[both], b_all[both]  # the days where both exist
    rf = float(risk_free) / TRADING_DAYS
    root = math.sqrt(TRADING_DAYS)

    out = dict.fromkeys(METRIC_NAMES, math.nan)
    with np.errstate(all="ignore"):
        out["total_return"] = total_return(r)
        out["cagr"] = cagr(r)
        vol = _std(r)
        out["annual_volatility"] = vol * root
        excess = r - rf
        # std(r - rf) is std(r); its zero is judged on r (an rf near the mean hides nothing)
        sd_excess = float(np.std(excess, ddof=1)) if vol > 0 else vol
        out["sharpe"] = _safe_div(_mean(excess) if r.size >= 2 else math.nan, sd_excess) * root
        if r.size >= 2:  # downside deviation: its own dispersion (cash below rf has a Sortino)
            downside = math.sqrt(float(np.mean(np.square(np.minimum(excess, 0.0)))))
            # floating-point residue (the rule's absolute part, on the returns' scale) is 0
            residue = negligible_dispersion(downside, 0.0, float(np.max(np.abs(r))))
            downside = 0.0 if residue else downside * root
            out["sortino"] = _safe_div(_mean(excess) * TRADING_DAYS, downside)
        out["max_drawdown"] = max_drawdown(r)
        mdd = out["max_drawdown"]
        out["calmar"] = _safe_div(out["cagr"], abs(mdd)) if mdd < 0 else math.nan
        if has_benchmark:
            out["beta"], out["alpha"] = _beta_alpha(rb, b, rf, vol == 0.0)
            active = rb - b
            te = _std(active)
            if vol == 0.0 and _std(b) == 0.0 and te == te:
                te = 0.0  # two series without dispersion: the active return has none
            out["tracking_error"] = te * root
            out["information_ratio"] = _safe_div(_mean(active), te) * root if active.size >= 2 else math.nan
        out["hit_rate"] = float(np.mean(r > 0.0)) if r.size else math.nan
        if turnover is not None:
            t = _as_array(turnover)
            t = t[np.isfinite(t)]
            out["avg_turnover"] = float(t.mean()) if t.size else math.nan
    return {k: float(v) for k, v in out.items()}
