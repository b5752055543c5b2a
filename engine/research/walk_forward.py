"""Walk-forward validation of a sweep: would the winner have been picked without the future?

Input: the (T x N) matrix of every configuration's daily simple returns on the same T
trading days (``run_sweep(..., keep_returns=True).returns``; a day on which a
configuration has no return of its own is 0, it holds cash: before its first holding
period, as the backtest starts in cash, and after its own end, as it has sold; when that
padding is not limited to the warm-up, ``validate_sweep`` warns, ``padding_warning``). No
backtest is rerun: each fold is a slice of the matrix.

Fold layout (Pardo, *The Evaluation and Optimization of Trading Strategies*, 2nd ed.,
2008, ch. 11; López de Prado, *Advances in Financial Machine Learning*, 2018, sec. 11.3):

- The out-of-sample (OOS) windows are the last ``K * L`` days cut into K consecutive
  windows of L = ``out_of_sample_days`` days (default ``T // (K + 1)``), so they end on
  the last day; ``s_i`` is the first day of fold i's OOS window.
- In-sample (IS) window of fold i: ``anchored`` (default) ``[s_1 - W, s_i)``, growing;
  ``rolling`` ``[s_i - W, s_i)``, a fixed W = ``in_sample_days`` days (default
  ``W = s_1``: all the days before the first OOS window).
- A sweep's windows (``validate_sweep``) must each span ``MIN_FOLD_PERIODS`` (3) holding
  periods of the strategy's rebalance frequency, else ``ParameterError`` says so
  (``check_fold_periods``): 5 folds over 21 trading days would score folds of 3 days.
- In each fold the configuration with the highest IS ``metric`` (``SELECTION_METRICS``;
  default the annualised Sharpe ratio; a tie, equal up to rounding, goes to the first
  column) is chosen using
  only the IS rows; its returns on the OOS rows are appended to the stitched OOS series.
  A fold where no configuration has a defined IS metric holds cash (0) and is warned.
- The full-history winner is the configuration with the best metric over all T days
  (what picking the sweep's best does; ``validate_sweep`` of configurations over different
  windows: over each one's own days, the sweep table's metric); its returns over the same
  OOS days are the comparison. ``n_winner_changes``: folds whose winner differs from the previous fold's.
- Summary metrics (``engine.analytics.metrics.compute_metrics``, empyrical's definitions)
  of the stitched OOS series, the full-history winner and the benchmark on the OOS days;
  over fewer OOS days than a year the annualised ones are extrapolations, and
  ``warnings`` says so (``short_window_warning``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from engine.analytics.metrics import compute_metrics, short_window_warning
from engine.analytics.pbo import (
    SELECTION_METRICS,
    PBOResult,
    PBOSettings,
    check_metric,
    check_returns_matrix,
    column_metric,
    probability_of_backtest_overfitting,
)
from engine.backtest.plan import return_day_span
from engine.backtest.prepare import PreparedData, as_prepared
from engine.data.types import MarketData
from engine.dispersion import first_best
from engine.errors import ParameterError, short_repr
from engine.research.sweep import SweepResult
from engine.research.sweep_export import OOS_SERIES
from engine.strategy.params import REBALANCE_TRADING_DAYS, REBALANCES, StrategyParams

Scheme = Literal["anchored", "rolling"]
SCHEMES: tuple[str, ...] = ("anchored", "rolling")
MAX_FOLDS = 50
MIN_WINDOW_DAYS = 2  # a Sharpe ratio needs two returns
# How every message names the settings: the Sweep page's labels ("Folds (K)", "In-sample
# days", "Out-of-sample days"), one spelling for the engine, the dashboard and the CLI
# (before: "n_folds must be ..." from here and "n folds must be ..." from the page).
WALK_FORWARD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "n_folds": "folds",
        "scheme": "scheme",
        "in_sample_days": "in-sample days",
        "out_of_sample_days": "out-of-sample days",
        "metric": "metric",
    }
)
# Holding periods of the strategy's rebalance frequency that every in-sample and
# out-of-sample window of a sweep's walk-forward must span (``check_fold_periods``).
# Three: a window of one period measures one basket's drift, not the rule that picks
# baskets; with three it holds at least two rebalances of its own, so the selection rule is
# applied and scored more than once per fold (weekly 15 trading days, monthly 63, quarterly
# 189: Pardo's rule that a test window hold several trading cycles of the strategy, 2008, ch. 11).
MIN_FOLD_PERIODS = 3


@dataclasses.dataclass(frozen=True, kw_only=True)
class WalkForwardSettings:
    """``n_folds`` K (1..50, default 5); ``scheme`` ``anchored`` (default) or ``rolling``;
    ``in_sample_days`` W (None: all days before the first OOS window);
    ``out_of_sample_days`` L (None: ``T // (K + 1)``); ``metric`` one of
    ``SELECTION_METRICS`` (default ``sharpe``); ``risk_free`` annual rate."""

    n_folds: int = 5
    scheme: Scheme = "anchored"
    in_sample_days: int | None = None
    out_of_sample_days: int | None = None
    metric: str = "sharpe"
    risk_free: float = 0.0

    def __post_init__(self) -> None:
        k = self.n_folds
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_FOLDS:
            label = WALK_FORWARD_LABELS["n_folds"]
            raise ParameterError(f"{label} must be a whole number from 1 to {MAX_FOLDS}; got {short_repr(k)}")
        if self.scheme not in SCHEMES:
            raise ParameterError(f"scheme must be one of {', '.join(SCHEMES)}; got {short_repr(self.scheme)}")
        for name in ("in_sample_days", "out_of_sample_days"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < MIN_WINDOW_DAYS):
                label = WALK_FORWARD_LABELS[name]
                raise ParameterError(
                    f"{label} must be a whole number of at least {MIN_WINDOW_DAYS} days; got {short_repr(v)}"
                )
        check_metric(self.metric)
        rf = self.risk_free
        if isinstance(rf, bool) or not isinstance(rf, (int, float)) or not -0.5 <= rf <= 1.0:
            raise ParameterError(f"risk_free must be an annual rate between -0.5 and 1; got {short_repr(rf)}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fold:
    """Row bounds (half-open, into the returns matrix) of one fold."""

    in_sample: tuple[int, int]
    out_of_sample: tuple[int, int]


@dataclasses.dataclass(frozen=True, kw_only=True)
class WalkForwardResult:
    """Outcome of ``walk_forward``.

    - ``folds``: one row per fold: ``fold`` (1..K), ``is_start``, ``is_end``, ``oos_start``,
      ``oos_end`` (dates, inclusive), ``winner`` (column label, None when no IS metric is
      defined), the winner's parameters (the columns of ``configs``, when given),
      ``is_metric``, ``oos_metric`` (the winner's metric on the IS and OOS windows),
      ``winner_changed``.
    - ``oos_returns``: the stitched OOS daily returns (index: the OOS days).
    - ``full_history_winner``: label of the best configuration on all days;
      ``full_history_returns``: its returns on the OOS days.
    - ``benchmark_returns``: the benchmark on the OOS days (None when not given).
    - ``summary``: metrics (``METRIC_NAMES``) per series: columns ``walk_forward``,
      ``full_history_winner`` and ``benchmark`` (when given), on the OOS days.
    - ``n_winner_changes``, ``settings``, ``warnings``.
    """

    settings: WalkForwardSettings
    folds: pd.DataFrame
    oos_returns: pd.Series
    full_history_winner: Any
    full_history_returns: pd.Series
    benchmark_returns: pd.Series | None
    summary: pd.DataFrame
    n_winner_changes: int
    warnings: tuple[str, ...]

    def oos_returns_frame(self) -> pd.DataFrame:
        """The out-of-sample days' daily returns (index ``date``): ``walk_forward`` (the
        stitched series), ``full_history_winner`` and ``benchmark`` (when given)."""
        series = [self.oos_returns, self.full_history_returns]
        if self.benchmark_returns is not None:
            series.append(self.benchmark_returns)
        frame = pd.concat([s.rename(name) for s, name in zip(series, OOS_SERIES, strict=False)], axis=1)
        frame.index.name = "date"
        return frame


def fold_bounds(n_days: int, settings: WalkForwardSettings) -> list[Fold]:
    """The K folds' row bounds for a matrix of ``n_days`` rows (see the module docstring);
    ``ParameterError`` when the windows do not fit."""
    k = settings.n_folds
    oos = settings.out_of_sample_days if settings.out_of_sample_days is not None else n_days // (k + 1)
    if oos < MIN_WINDOW_DAYS:
        raise ParameterError(
            f"{n_days} days of returns are too few for {k} walk-forward folds (each out-of-sample "
            f"window needs {MIN_WINDOW_DAYS} days); use fewer folds or a longer range"
        )
    first = n_days - k * oos
    window = settings.in_sample_days if settings.in_sample_days is not None else first
    if first <= 0:  # the out-of-sample windows alone need as many days as there are, or more
        which = (
            f"more than the {n_days} days of returns"
            if first < 0
            else f"all {n_days} days of returns, none left for the in-sample window"
        )
        raise ParameterError(
            f"{k} out-of-sample windows of {oos} days need {k * oos} days, {which}; "
            "shorten the windows or use fewer folds"
        )
    if window < MIN_WINDOW_DAYS or window > first:
        raise ParameterError(
            f"the first in-sample window needs {window} days before the out-of-sample windows "
            f"({k} x {oos} days) but {n_days} days of returns leave {first}; shorten the windows or "
            "use fewer folds"
        )
    folds = []
    for i in range(k):
        start = first + i * oos
        lo = first - window if settings.scheme == "anchored" else start - window
        folds.append(Fold(in_sample=(lo, start), out_of_sample=(start, start + oos)))
    return folds


def check_fold_periods(folds: Sequence[Fold], rebalance: str | Sequence[str] | None) -> None:
    """``ParameterError`` (one sentence) when a fold's out-of-sample (test) window, or its
    in-sample window, spans fewer than ``MIN_FOLD_PERIODS`` holding periods of
    ``rebalance`` (``REBALANCE_TRADING_DAYS`` trading days each): its winners and PBO would
    score a few days of one basket. ``rebalance``: the strategy's frequency; several (a
    sweep over ``rebalance``): the slowest counts, as each configuration needs its own
    periods; None or empty (unknown): the fastest, weekly, the bound no strategy of the
    engine can go below. ``folds``: from ``fold_bounds`` (non-empty)."""
    if isinstance(rebalance, str) or rebalance is None:
        known = [rebalance] if rebalance is not None else []
    else:
        known = list(rebalance)
    unknown = [r for r in known if r not in REBALANCES]
    if unknown:
        raise ParameterError(
            f"rebalance must be one of {', '.join(REBALANCES)}; got {short_repr(unknown[0])}"
        )
    slowest = max(known, key=REBALANCE_TRADING_DAYS.__getitem__) if known else "weekly"
    need = MIN_FOLD_PERIODS * REBALANCE_TRADING_DAYS[slowest]
    if not known:
        which = f"{MIN_FOLD_PERIODS} holding periods ({need} trading days even when rebalancing weekly)"
    else:
        many = " (the slowest rebalance of the sweep)" if len(set(known)) > 1 else ""
        which = f"{MIN_FOLD_PERIODS} {slowest} holding periods{many} ({need} trading days)"
    test = min(b - a for a, b in (f.out_of_sample for f in folds))
    train = min(b - a for a, b in (f.in_sample for f in folds))
    if test < need:
        raise ParameterError(
            f"each test fold would cover about {test} trading days; walk-forward needs at least "
            f"{which} per fold: use fewer folds or a longer window"
        )
    if train < need:
        raise ParameterError(
            f"the in-sample window would cover {train} trading days; walk-forward needs at least "
            f"{which} in it: use a longer in-sample window, fewer folds or a longer range"
        )


def _as_frame(returns: Any) -> pd.DataFrame:
    frame = returns if isinstance(returns, pd.DataFrame) else pd.DataFrame(check_returns_matrix(returns))
    check_returns_matrix(frame.to_numpy(dtype=np.float64) if frame.size else np.zeros(frame.shape))
    if frame.shape[1] < 1:
        raise ParameterError("walk-forward validation needs at least one configuration's returns")
    if isinstance(frame.index, pd.DatetimeIndex) and not frame.index.is_monotonic_increasing:
        raise ParameterError("the returns matrix must be in date order")
    return frame


def _best(values: np.ndarray) -> int | None:
    """The first of the highest values, equal up to rounding being a tie
    (``engine.dispersion.first_best``); None when none is defined."""
    best = first_best(values)
    return None if best < 0 else best


def walk_forward(
    returns: Any,
    settings: WalkForwardSettings | None = None,
    *,
    configs: pd.DataFrame | None = None,
    benchmark: pd.Series | None = None,
    rebalance: str | Sequence[str] | None = None,
    full_history_values: np.ndarray | None = None,
) -> WalkForwardResult:
    """Walk-forward selection over a (T x N) daily returns matrix (DataFrame: index the
    days in order, columns the configurations; or an array). ``configs``: optional table
    of the configurations' parameters indexed by the column labels (e.g. the sweep's
    ``table`` with the grid columns); ``benchmark``: optional daily returns aligned on
    the matrix's index; ``rebalance``: the strategy's rebalance frequency (or the sweep's
    frequencies; an empty tuple: a strategy of unknown frequency): when given, every window
    must span ``MIN_FOLD_PERIODS`` of its holding periods (``check_fold_periods``); None: a
    returns matrix of any origin, windows of ``MIN_WINDOW_DAYS`` days or more;
    ``full_history_values``: each column's full-history metric, when it is not the metric
    over all rows of the matrix (``validate_sweep``: over each configuration's own days when
    they differ). Raises ``ParameterError`` for a bad matrix or windows that do not fit."""
    settings = settings or WalkForwardSettings()
    frame = _as_frame(returns)
    matrix = frame.to_numpy(dtype=np.float64)
    folds = fold_bounds(matrix.shape[0], settings)
    if rebalance is not None:
        check_fold_periods(folds, rebalance)
    metric, rf = settings.metric, settings.risk_free
    labels = list(frame.columns)
    index = frame.index
    warnings: list[str] = []
    rows: list[dict[str, Any]] = []
    pieces: list[np.ndarray] = []
    previous: Any = None
    changes = 0
    for number, fold in enumerate(folds, start=1):
        (a, b), (c, d) = fold.in_sample, fold.out_of_sample
        is_values = column_metric(matrix[a:b], metric, risk_free=rf)
        j = _best(is_values)
        if j is None:
            warnings.append(f"fold {number}: no configuration has a defined in-sample {metric}; held as cash")
            pieces.append(np.zeros(d - c))
            winner, is_m, oos_m = None, math.nan, math.nan
        else:
            pieces.append(matrix[c:d, j])
            winner = labels[j]
            is_m = float(is_values[j])
            oos_m = float(column_metric(matrix[c:d, j : j + 1], metric, risk_free=rf)[0])
        changed = number > 1 and winner != previous
        changes += int(changed)
        previous = winner
        row: dict[str, Any] = {
            "fold": number,
            "is_start": index[a],
            "is_end": index[b - 1],
            "oos_start": index[c],
            "oos_end": index[d - 1],
            "winner": winner,
        }
        if configs is not None:
            for name in configs.columns:
                row[name] = (
                    configs.at[winner, name] if winner is not None and winner in configs.index else None
                )
        row.update({"is_metric": is_m, "oos_metric": oos_m, "winner_changed": changed})
        rows.append(row)
    oos_lo, oos_hi = folds[0].out_of_sample[0], folds[-1].out_of_sample[1]
    oos_index = index[oos_lo:oos_hi]
    stitched = pd.Series(np.concatenate(pieces), index=oos_index, name="walk_forward")
    if full_history_values is None:
        full_history_values = column_metric(matrix, metric, risk_free=rf)
    full = _best(np.asarray(full_history_values, dtype=np.float64))
    full_label = labels[full] if full is not None else None
    full_returns = pd.Series(
        matrix[oos_lo:oos_hi, full] if full is not None else np.zeros(oos_hi - oos_lo),
        index=oos_index,
        name="full_history_winner",
    )
    bench = None
    if benchmark is not None:
        bench_values = pd.Series(benchmark).reindex(index) if isinstance(benchmark, pd.Series) else benchmark
        bench_array = np.asarray(bench_values, dtype=np.float64).reshape(-1)
        if bench_array.size != len(index):
            raise ParameterError("the benchmark returns must have one value per day of the returns matrix")
        bench = pd.Series(bench_array[oos_lo:oos_hi], index=oos_index, name="benchmark")
    series: dict[str, pd.Series] = {"walk_forward": stitched, "full_history_winner": full_returns}
    if bench is not None:
        series["benchmark"] = bench
    bench_for_metrics = bench.to_numpy() if bench is not None else None
    summary = pd.DataFrame(
        {name: compute_metrics(s.to_numpy(), bench_for_metrics, risk_free=rf) for name, s in series.items()}
    )
    if short := short_window_warning(oos_hi - oos_lo, "the walk-forward's out-of-sample window"):
        warnings.append(short)
    folds_table = pd.DataFrame(rows)
    # Object columns: a fold without a winner keeps None (not a string column's NaN).
    folds_table["winner"] = pd.Series([r["winner"] for r in rows], dtype=object)
    return WalkForwardResult(
        settings=settings,
        folds=folds_table,
        oos_returns=stitched,
        full_history_winner=full_label,
        full_history_returns=full_returns,
        benchmark_returns=bench,
        summary=summary,
        n_winner_changes=changes,
        warnings=tuple(warnings),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepValidation:
    """Walk-forward result and probability of backtest overfitting of one sweep."""

    walk_forward: WalkForwardResult
    pbo: PBOResult | None  # None when the matrix is too short or has a single configuration
    pbo_note: str | None


def _frequencies(grid: Mapping[str, Sequence[Any]], rebalance: str) -> str | Sequence[str]:
    """The rebalance frequencies a sweep's folds are judged on (``check_fold_periods``):
    the grid's when it sweeps ``rebalance``, else ``rebalance`` (the base parameters')."""
    swept = tuple(grid.get("rebalance", ())) if len(grid) else ()
    return swept or rebalance


def sweep_return_days(
    data: MarketData | PreparedData, grid: Mapping[str, Sequence[Any]], *, base: StrategyParams
) -> int:
    """The number of days a sweep of ``grid`` (other parameters from ``base``) can have
    returns on: the union over its configurations of the days outside which a backtest has
    no return (``engine.backtest.plan.return_day_span``: from after the first entry close
    the sentiment data allow, not before ``start``, to the last closing sale, not after
    ``end``). The sweep's returns matrix (``run_sweep(..., keep_returns=True)``) has at most
    these rows; on the demo data 520 of the 1,260 price days (the price history before the
    first sentiment date, read by the weights' lookback, has no return of the strategy)."""
    prepared = as_prepared(data)
    dates = prepared.dates
    fields = ("rebalance", "lag_days", "start", "end")  # the fields the span depends on
    values = [tuple(grid[f]) if f in grid else (getattr(base, f),) for f in fields]
    covered = np.zeros(len(dates), dtype=bool)
    for combo in itertools.product(*values):
        try:
            params = base.replace(**dict(zip(fields, combo, strict=True)))
        except ParameterError:  # e.g. a start after an end: that row fails, it has no days
            continue
        lo, hi = return_day_span(dates, prepared.sentiment_first, prepared.sentiment_last, params)
        covered[lo:hi] = True
    return int(covered.sum())


def check_walk_forward_fits(
    data: MarketData | PreparedData,
    grid: Mapping[str, Sequence[Any]],
    settings: WalkForwardSettings,
    *,
    base: StrategyParams,
) -> None:
    """``ParameterError`` (``validate_sweep``'s sentence) when the walk-forward of a sweep of
    ``grid`` (other parameters from ``base``) cannot fit even on every day the sweep can
    have returns on (``sweep_return_days``): its returns matrix has at most those days, and
    fewer days only shorten the folds. So the sentence counts the days ``validate_sweep``
    counts (on the demo data, "... more than the 520 days of returns", not the 1,260 price
    days that include the history before the first sentiment date). Called before the
    sweep, so that a sweep whose validation is bound to be refused is not run first (a
    5,000-configuration sweep, then "each test fold would cover about 12 trading days").
    ``data``: ``MarketData`` or its ``prepare``d arrays (pass these when the sweep runs on
    them: no second preparation). Passing is no promise: ``validate_sweep`` judges the
    matrix the sweep returns."""
    days = sweep_return_days(data, grid, base=base)
    check_fold_periods(fold_bounds(days, settings), _frequencies(grid, base.rebalance))


def _padded(returns: pd.DataFrame, span: pd.DataFrame | None, grid: Mapping[str, Sequence[Any]]) -> bool:
    """Whether the configurations of a sweep's matrix hold cash beyond the warm-up: some
    column lacks days of its own, and the grid sweeps ``start`` or ``end`` or some
    column's own days stop before the matrix's last day (``padding_warning``)."""
    if span is None or returns.shape[0] == 0 or returns.shape[1] == 0:
        return False
    span = span.reindex(returns.columns)
    if span["days"].isna().any():
        return False
    if not (span["days"].to_numpy(dtype=np.int64) < returns.shape[0]).any():
        return False
    stops_early = bool((pd.DatetimeIndex(span["last"]) < returns.index[-1]).any())
    return "start" in grid or "end" in grid or stops_early


def own_days_metric(returns: pd.DataFrame, span: pd.DataFrame, metric: str, risk_free: float) -> np.ndarray:
    """Each column's ``metric`` over its own days (``span``'s ``first`` to ``last``), not
    the cash around them: the sweep table's metric of that configuration."""
    values = np.full(returns.shape[1], np.nan)
    index = pd.DatetimeIndex(returns.index).to_numpy()
    span = span.reindex(returns.columns)
    los = np.searchsorted(index, pd.DatetimeIndex(span["first"]).to_numpy(), side="left")
    his = np.searchsorted(index, pd.DatetimeIndex(span["last"]).to_numpy(), side="right")
    matrix = returns.to_numpy(dtype=np.float64)
    for j, (lo, hi) in enumerate(zip(los, his, strict=True)):
        values[j] = column_metric(matrix[lo:hi, j : j + 1], metric, risk_free=risk_free)[0]
    return values


def padding_warning(
    returns: pd.DataFrame,
    span: pd.DataFrame | None,
    grid: Mapping[str, Sequence[Any]],
    *,
    winner: Any = None,
    oos_index: pd.Index | None = None,
) -> str | None:
    """The sentence ``validate_sweep`` adds to its warnings when the configurations of a
    sweep's returns matrix do not cover the same days and the padding is not only the
    warm-up: the grid sweeps ``start`` or ``end``, or some configuration's own days stop
    before the matrix's last day. Such a configuration holds cash (0) in the matrix on the
    days outside its own (``span``: ``SweepResult.returns_span``, its ``first``, ``last``
    and ``days`` per column), and walk-forward and PBO rank it on them: the full-history
    winner and the folds' winners are then chosen on series no backtest of theirs produced.
    ``winner`` and ``oos_index``: the full-history winner and the OOS days, to say on how
    many of them it holds such cash. None when there is nothing to say (or no ``span``: a
    returns matrix of another origin)."""
    if span is None or not _padded(returns, span, grid):
        return None
    span = span.reindex(returns.columns)
    n_days = int(returns.shape[0])
    padded = n_days - span["days"].to_numpy(dtype=np.int64)
    dated = "start" in grid or "end" in grid
    n_padded = int((padded > 0).sum())
    lo, hi = int(padded[padded > 0].min()), int(padded.max())
    days = f"{lo} days" if lo == hi else f"{lo} to {hi} days"
    text = (
        f"{n_padded} of {returns.shape[1]} configurations have no return of their own on {days} "
        f"of the {n_days} days of the walk-forward and PBO (before their start or after their end"
        f"{', as the grid sweeps start or end' if dated else ''}); they count as cash (0) there, "
        "so the folds' winners and the PBO rank series that no backtest of theirs produced "
        "(the full-history winner is chosen on each configuration's own days)"
    )
    if winner is not None and oos_index is not None and winner in span.index and len(oos_index):
        at = list(span.index).index(winner)
        first, last = pd.DatetimeIndex(span["first"])[at], pd.DatetimeIndex(span["last"])[at]
        days_oos = pd.DatetimeIndex(oos_index)
        outside = int(((days_oos < first) | (days_oos > last)).sum())
        if outside:
            text += (
                f"; the full-history winner (row {winner}) holds such cash on {outside} of the "
                f"{len(days_oos)} out-of-sample days"
            )
    return text


def validate_sweep(
    sweep: SweepResult,
    settings: WalkForwardSettings | None = None,
    *,
    pbo_settings: PBOSettings | None = None,
) -> SweepValidation:
    """Walk-forward validation and PBO of a ``SweepResult`` made with ``keep_returns=True``
    (its ``returns`` matrix, ``table`` for the winners' parameters, ``benchmark_returns``).
    The PBO uses the walk-forward's metric and risk-free rate unless ``pbo_settings`` says
    otherwise; when it cannot be computed (fewer than 2 configurations or too few days)
    ``pbo`` is None and ``pbo_note`` says why. Raises ``ParameterError`` when the sweep
    kept no returns, or when a fold would span fewer than ``MIN_FOLD_PERIODS`` holding
    periods (``check_fold_periods``) of the sweep's rebalance frequencies: those of the
    grid when it sweeps ``rebalance``, else its base parameters' (``SweepResult.base``).
    When the configurations do not cover the same days beyond the warm-up (the grid sweeps
    ``start`` or ``end``), the walk-forward's ``warnings`` end with ``padding_warning``."""
    settings = settings or WalkForwardSettings()
    returns = sweep.returns
    if returns is None:
        raise ParameterError("the sweep kept no daily returns; run it with keep_returns=True")
    if returns.shape[1] == 0:
        raise ParameterError("no configuration of the sweep ran without error; nothing to validate")
    grid = sweep.grid
    configs = sweep.table.loc[list(returns.columns), list(grid)] if len(grid) else None
    span = sweep.returns_span
    result = walk_forward(
        returns,
        settings,
        configs=configs,
        benchmark=sweep.benchmark_returns,
        rebalance=_frequencies(grid, sweep.base.rebalance),
        # Configurations over different windows: the best on its own days, as the table says.
        full_history_values=own_days_metric(returns, span, settings.metric, settings.risk_free)
        if span is not None and _padded(returns, span, grid)
        else None,
    )
    padding = padding_warning(
        returns,
        span,
        grid,
        winner=result.full_history_winner,
        oos_index=result.oos_returns.index,
    )
    if padding:
        result = dataclasses.replace(result, warnings=(*result.warnings, padding))
    pbo_settings = pbo_settings or PBOSettings(metric=settings.metric, risk_free=settings.risk_free)
    pbo, note = None, None
    try:
        pbo = probability_of_backtest_overfitting(returns, pbo_settings)
    except ParameterError as exc:
        note = f"probability of backtest overfitting not computed: {exc}"
    return SweepValidation(walk_forward=result, pbo=pbo, pbo_note=note)


__all__ = [
    "MIN_FOLD_PERIODS",
    "SCHEMES",
    "SELECTION_METRICS",
    "Fold",
    "SweepValidation",
    "WalkForwardResult",
    "WalkForwardSettings",
    "check_fold_periods",
    "check_walk_forward_fits",
    "fold_bounds",
    "own_days_metric",
    "padding_warning",
    "sweep_return_days",
    "validate_sweep",
    "walk_forward",
]
