"""The backtest's public names, kept importable from their historical module.

The backtest lives in ``prepare`` (market data -> arrays), ``plan`` (calendar, entries,
selection, holdability), ``nb`` (array-only simulation kernels) and ``base`` (pandas
result assembly and the public entry points).
"""

from __future__ import annotations

from engine.backtest.base import (
    _universe_sim,
    backtest_metrics,
    clear_caches,
    eligible_symbols_by_period,
    run_backtest,
    run_prepared,
    selection_returns,
)
from engine.backtest.nb import simulate
from engine.backtest.plan import _equal_weights, _plan
from engine.backtest.prepare import PreparedData, prepare

__all__ = [
    "PreparedData",
    "_equal_weights",
    "_plan",
    "_universe_sim",
    "backtest_metrics",
    "clear_caches",
    "eligible_symbols_by_period",
    "prepare",
    "run_backtest",
    "run_prepared",
    "selection_returns",
    "simulate",
]
