"""The zero-dispersion rule: when a standard deviation counts as zero.

A shared low module (it imports no engine layer), so that the metrics
(``engine.analytics``) and the weighting schemes (``engine.strategy.weights``) decide
"no dispersion" by one rule. README, Metrics: a standard deviation of at most
``DISPERSION_RTOL * max(1, max |x|)`` (1e-10) (floating-point residue) or at most
``DISPERSION_CV * |mean(x)|`` (spread below what the prices resolve) is 0. For example a
price growing exactly 0.1% a day has returns that differ only in their last bits (std
~1e-16): it has no volatility, so no Sharpe ratio, no correlation, and no inverse-volatility
weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DISPERSION_RTOL = 1e-10  # std below this x max(1, max|x|) is rounding residue, i.e. zero
# (1e-10, not 1e-12: quotes 100.1 / 100.1000000001 alternating give returns of +-1e-12,
# std 1.001e-12, which had a Sharpe ratio and correlations; same scale as DRAWDOWN_RTOL)
DISPERSION_CV = 1e-3  # std below this x |mean| is price-precision noise, i.e. zero
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


def tied(values: Any, value: Any) -> Any:
    """True where ``values`` equal ``value`` up to rounding: ``|values - value| <=
    TIE_RTOL * max(1, |value|)``. The one rule for ties of statistics computed along
    different paths (a random portfolio that draws the strategy's own holdings has its
    Sharpe ratio in other bits: 18.883832799441752 against 18.88383279944175); NaN ties
    nothing, an infinite value only itself."""
    with np.errstate(all="ignore"):
        v = np.asarray(value, dtype=np.float64)
        a = np.asarray(values, dtype=np.float64)
        # an infinite value ties only itself
        out = (a == v) | ((np.abs(a - v) <= TIE_RTOL * np.maximum(1.0, np.abs(v))) & np.isfinite(v))
    return bool(out) if np.ndim(out) == 0 else out


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


__all__ = ["DISPERSION_CV", "DISPERSION_RTOL", "TIE_RTOL", "first_best", "negligible_dispersion", "tied"]
