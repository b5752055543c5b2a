"""Research calls for the pages: signal analysis, and a sweep with its walk-forward validation.

Like ``services.computations``: validated inputs in, plain JSON-able data out, memoized in
the shared ``results`` cache under ``v<VERSION>:<kind>:<sha256(source | fingerprint | payload)>``.
Every function raises ``engine.EngineError`` (one sentence meant for the user) on bad input.

- ``signal_analysis``: ``engine.analyze_signal`` of the session's data.
- ``sweep``: ``engine.run_sweep(..., keep_returns=True)`` as ``plain.sweep_to_plain`` plus the
  DSR's trial counts (``n_trials``, ``n_distinct_trials``, ``n_effective_trials``), its
  labels per trial (``trials``: ``row``, ``return_series``, ``trial_cluster``) and
  ``has_returns``; the returns matrix (days x configurations) and the benchmark's daily
  returns are cached beside it (``sweep-returns``) so that a walk-forward with other settings
  is slicing, never a rerun of the backtests.
- ``sweep_validation``: ``engine.validate_sweep`` (walk-forward folds, stitched out-of-sample
  returns, PBO) of that matrix, as plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

import engine

from ..state import get_state
from .caching import cache_key, memoized
from .computations import CancelFn, ProgressFn, cluster_errors_for_visitors, executor, params_from, prepared
from .plain import sweep_to_plain, to_plain
from .sources import get_market_data, resolve_source

VERSION = "r4"  # r3: a signal analysis keeps its manifest and export_extras (CSV header); r4: a sweep keeps its DSR trial labels
# A page may rerun a sweep whose returns the cache lost, in its own request, up to this size
# (a fraction of a second on the demo data; larger grids go through the background job).
SYNC_RERUN_LIMIT = 64


SIGNAL_SETTING_NAMES = ("quantiles", "horizons", "rolling_window")
WALK_FORWARD_NAMES = ("n_folds", "scheme", "in_sample_days", "out_of_sample_days", "metric")


def _key(kind: str, source: Mapping[str, str], fingerprint: str, payload: Any) -> str:
    return cache_key(VERSION, kind, source, fingerprint, payload)


# ----- signal analysis ---------------------------------------------------------------------


def signal_settings(values: Mapping[str, Any] | None) -> engine.SignalAnalysisSettings:
    """``SignalAnalysisSettings`` from the page's fields (``ParameterError`` on bad input)."""
    if values is not None and not isinstance(values, Mapping):
        raise engine.ParameterError("the signal analysis settings must be a mapping of names to values")
    given = {k: v for k, v in (values or {}).items() if k in SIGNAL_SETTING_NAMES and v not in (None, "")}
    checked: dict[str, int] = {}
    for name, value in given.items():
        checked[name] = _whole(name, value)
    return engine.SignalAnalysisSettings(**checked)


def _whole(name: str, value: Any) -> int:
    # The engine's label of a walk-forward setting (one spelling with its own messages).
    label = engine.WALK_FORWARD_LABELS.get(name) or name.replace("_", " ")
    if isinstance(value, bool):
        raise engine.ParameterError(f"{label} must be a whole number; got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    digits = value.strip().lstrip("+") if isinstance(value, str) else ""
    # isascii: str.isdigit() accepts '²' and other digits int() refuses.
    if digits.isascii() and digits.isdigit() and len(digits) <= 6:
        return int(digits)
    raise engine.ParameterError(f"{label} must be a whole number; got {engine.short_repr(value, 22)}")


def signal_to_plain(analysis: engine.SignalAnalysis) -> dict[str, Any]:
    """The parts of a ``SignalAnalysis`` the Signal page shows, JSON-able (NaN -> None)."""
    quantile_returns = analysis.quantile_returns.copy()
    quantile_returns.columns = [f"q{c}" for c in quantile_returns.columns]
    cumulative = analysis.cumulative_returns.copy()
    cumulative.columns = [f"q{c}" for c in cumulative.columns]
    signal = analysis.observations["signal"].to_numpy(dtype=float)
    return {
        "periods": to_plain(analysis.periods),
        "ic_summary": to_plain(dict(analysis.ic_summary)),
        "ic_decay": to_plain(analysis.ic_decay),
        "quantile_returns": to_plain(quantile_returns),
        "cumulative_returns": to_plain(cumulative),
        "quantile_summary": to_plain(analysis.quantile_summary),
        "spread_summary": to_plain(dict(analysis.spread_summary)),
        "quantiles": int(analysis.quantiles),
        "quantiles_requested": int(analysis.quantiles_requested),
        "quantile_note": analysis.quantile_note,
        "horizon_note": analysis.horizon_note,
        "top_turnover": to_plain(analysis.top_turnover),
        "signal_summary": to_plain(dict(analysis.signal_summary)),
        "signal_values": to_plain(signal[np.isfinite(signal)]),
        "warnings": list(analysis.warnings),
        "manifest": to_plain(analysis.manifest.to_dict()),
        "export_extras": to_plain(analysis.export_extras()),
        "settings": to_plain(analysis.settings),
        "params": analysis.params.to_dict(),
    }


def signal_analysis(
    source: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``signal_to_plain(engine.analyze_signal(...))`` for the session's data."""
    source = resolve_source(source)
    strategy = params_from(params)
    checked = signal_settings(settings)
    data = get_market_data(source, benchmark=strategy.benchmark)
    payload = {"params": strategy.to_dict(), "settings": to_plain(checked)}
    key = _key("signal", source, data.fingerprint, payload)
    return memoized(
        key, lambda: signal_to_plain(engine.analyze_signal(prepared(data), strategy, settings=checked))
    )


# ----- sweep with kept returns ---------------------------------------------------------------


def _returns_to_plain(result: engine.SweepResult) -> dict[str, Any]:
    """The kept returns for the cache (server side only, never a Store): dates, the table
    rows of the columns, the (days x configurations) matrix and the benchmark's returns."""
    returns = result.returns if result.returns is not None else pd.DataFrame()
    bench = result.benchmark_returns
    span = result.returns_span
    return {
        "index": [str(pd.Timestamp(d).date()) for d in returns.index],
        "columns": [int(c) for c in returns.columns],
        # Arrays, not lists: the cache pickles them compactly (8 bytes a day and configuration).
        "values": returns.to_numpy(dtype=np.float64),
        "benchmark": None if bench is None else bench.reindex(returns.index).to_numpy(dtype=np.float64),
        # Each column's own days (validate_sweep's warning when they are not the same).
        "span": None
        if span is None
        else {
            "first": [str(pd.Timestamp(d).date()) for d in span["first"]],
            "last": [str(pd.Timestamp(d).date()) for d in span["last"]],
            "days": [int(n) for n in span["days"]],
        },
    }


def _returns_from_plain(
    plain: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.Series | None, pd.DataFrame | None]:
    index = pd.DatetimeIndex(pd.to_datetime(plain["index"]))
    values = np.asarray(plain["values"], dtype=float).reshape(len(index), len(plain["columns"]))
    returns = pd.DataFrame(values, index=index, columns=list(plain["columns"]))
    bench = plain.get("benchmark")
    benchmark = None if bench is None else pd.Series(np.asarray(bench, dtype=float), index=index)
    span_plain = plain.get("span")
    span = None
    if span_plain is not None:
        span = pd.DataFrame(
            {
                "first": pd.to_datetime(span_plain["first"]),
                "last": pd.to_datetime(span_plain["last"]),
                "days": span_plain["days"],
            },
            index=returns.columns,
        )
    return returns, benchmark, span


def sweep(
    source: Mapping[str, Any] | None,
    base_params: Mapping[str, Any] | None,
    grid: Mapping[str, Sequence[Any]],
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> dict[str, Any]:
    """``engine.run_sweep(..., keep_returns=True)`` as plain data (see the module docstring)."""
    source = resolve_source(source)
    base = params_from(base_params)
    checked = engine.check_grid(grid)
    data = get_market_data(source, benchmark=base.benchmark)
    payload = {"base": base.to_dict(), "grid": checked}
    key = _key("sweep", source, data.fingerprint, payload)
    returns_key = _key("sweep-returns", source, data.fingerprint, payload)
    cache = get_state().results
    cached = cache.get(key)
    if cached is not None and cache.get(returns_key) is not None:
        return cached
    with cluster_errors_for_visitors():
        result = engine.run_sweep(
            prepared(data),
            checked,
            base=base,
            executor=executor(engine.grid_size(checked)),
            on_progress=on_progress,
            should_cancel=should_cancel,
            keep_returns=True,
        )
    plain = {
        **sweep_to_plain(result, base),
        "n_trials": int(result.n_trials),
        "n_distinct_trials": int(result.n_distinct_trials),
        "n_effective_trials": int(result.n_effective_trials),
        # the DSR's labels per trial (row, return_series, trial_cluster), for sweep.csv
        "trials": to_plain(result.trials) if result.trials is not None else None,
        "has_returns": result.returns is not None and result.returns.shape[1] > 0,
    }
    cache.set(returns_key, _returns_to_plain(result))
    cache.set(key, plain)
    return plain


def walk_forward_settings(
    values: Mapping[str, Any] | None, *, risk_free: float = 0.0
) -> engine.WalkForwardSettings:
    """``WalkForwardSettings`` from the page's fields (empty fields keep the defaults) and the
    strategy's risk-free rate."""
    if values is not None and not isinstance(values, Mapping):
        raise engine.ParameterError("the walk-forward settings must be a mapping of names to values")
    given = {k: v for k, v in (values or {}).items() if k in WALK_FORWARD_NAMES and v not in (None, "")}
    checked: dict[str, Any] = {}
    for name, value in given.items():
        if name in ("scheme", "metric"):
            if not isinstance(value, str):
                label = engine.WALK_FORWARD_LABELS[name]
                raise engine.ParameterError(f"{label} must be text; got {engine.short_repr(value, 22)}")
            checked[name] = value
        else:
            checked[name] = _whole(name, value)
    return engine.WalkForwardSettings(**checked, risk_free=risk_free)


def sweep_validation(
    source: Mapping[str, Any] | None,
    base_params: Mapping[str, Any] | None,
    grid: Mapping[str, Sequence[Any]],
    settings: Mapping[str, Any] | None = None,
    *,
    rerun_limit: int = 0,
) -> dict[str, Any]:
    """Walk-forward and PBO of the sweep ``(source, base_params, grid)`` from its cached
    returns. When the cache no longer has them (evicted, or a ``NullCache``/per-process
    ``SimpleCache`` that the background job's writes do not reach), a grid of at most
    ``rerun_limit`` configurations is run again in this process; a larger one raises
    ``ParameterError`` asking to run the sweep again (a page callback must not start a
    long sweep outside the background job, whatever a client posts)."""
    source = resolve_source(source)
    base = params_from(base_params)
    checked = engine.check_grid(grid)
    wf = walk_forward_settings(settings, risk_free=base.risk_free)
    data = get_market_data(source, benchmark=base.benchmark)
    payload = {"base": base.to_dict(), "grid": checked}
    sweep_key = _key("sweep", source, data.fingerprint, payload)
    returns_key = _key("sweep-returns", source, data.fingerprint, payload)
    cache = get_state().results

    def compute() -> dict[str, Any]:
        # Before a sweep is run again: refused now when the folds cannot fit the data.
        engine.check_walk_forward_fits(prepared(data), checked, wf, base=base)
        plain_returns, plain_sweep = cache.get(returns_key), cache.get(sweep_key)
        if (plain_returns is None or plain_sweep is None) and engine.grid_size(checked) <= rerun_limit:
            plain_sweep = sweep(source, base.to_dict(), checked)
            plain_returns = cache.get(returns_key)
        if plain_returns is None or plain_sweep is None:
            raise engine.ParameterError(
                "this sweep's daily returns are no longer in the cache; run the sweep again"
            )
        returns, bench, span = _returns_from_plain(plain_returns)
        table = pd.DataFrame.from_records(plain_sweep["records"])
        holder = SimpleNamespace(
            returns=returns,
            benchmark_returns=bench,
            returns_span=span,
            grid=checked,
            table=table,
            base=base,
        )
        return validation_to_plain(engine.validate_sweep(holder, wf))

    key = _key("sweep-validation", source, data.fingerprint, {**payload, "settings": to_plain(wf)})
    return memoized(key, compute)


def validation_to_plain(validation: Any) -> dict[str, Any]:
    """``SweepValidation`` as plain data: folds, the three OOS series, summary, PBO."""
    wf = validation.walk_forward
    frame = wf.oos_returns_frame()
    series = {str(name): frame[name] for name in frame.columns}
    dates = [str(pd.Timestamp(d).date()) for d in frame.index]
    pbo = validation.pbo
    return {
        "settings": to_plain(wf.settings),
        "folds": to_plain(wf.folds),
        "dates": dates,
        "series": {name: to_plain(s.to_numpy(dtype=float)) for name, s in series.items()},
        "summary": to_plain(wf.summary),
        "full_history_winner": to_plain(wf.full_history_winner),
        "n_winner_changes": int(wf.n_winner_changes),
        "warnings": list(wf.warnings),
        "pbo": None if pbo is None else to_plain(pbo.to_dict()),
        "pbo_note": validation.pbo_note,
    }
