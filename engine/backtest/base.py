"""Public entry points of the backtest and the pandas result assembly."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.analytics import nb_metrics, statistics
from engine.analytics.metrics import (
    compute_metrics,
    drawdown_info,
    short_window_warning,
    weekend_calendar_warning,
)
from engine.backtest import nb, nb_prepare, nb_signal
from engine.backtest.nb import (
    _dense_gross,
    _Gross,
    _is_wide,
    _Sim,
    group_values,
    holds_prefix,
    net_returns,
    simulate,
    simulate_gross,
    uses_held_path,
)
from engine.backtest.nb_signal import chosen_run_sums, equal_weights
from engine.backtest.plan import (
    _CALENDARS,
    _RANKINGS,
    _SIGNALS,
    PENDING,
    _benchmark_warnings,
    _iso,
    _Plan,
    _plan,
    _plan_warnings,
    _segment_calendar,
    _targets,
    benchmark_days,
    eligible_mask,
    partial_formation_warnings,
    selection_key,
    share_batch_sums,
    signal_key,
    target_weights,
    untraded_warnings,
)
from engine.backtest.prepare import PreparedData, _Memo, prepare
from engine.backtest.result import BacktestResult, Manifest
from engine.data.types import MarketData, SourceInfo
from engine.errors import DataValidationError
from engine.shapes import FloatVector
from engine.strategy.params import StrategyParams
from engine.strategy.signals import period_last_day, rank_snapping_ties, shown_change

_NS = "datetime64[ns]"


def warm_up_kernels() -> None:
    """Compile (or load from the disk cache) every numba kernel of the backtest now, on
    tiny inputs, so that the first real backtest of a process does not pay for it."""
    nb.warm_up()
    nb_prepare.warm_up()
    nb_signal.warm_up()
    nb_metrics.warm_up()
    statistics.warm_up()  # the sweep's trial clustering (DSR)
    rank_snapping_ties(np.array([[1.0, 1.0 + 1e-12]]))  # the ranking, a snapped tie and its re-sort


def run_backtest(data: MarketData, params: StrategyParams) -> BacktestResult:
    """Backtest ``params`` on ``data`` (prepare + run_prepared)."""
    return run_prepared(prepare(data), params)


def _benchmark_column(prepared: PreparedData, params: StrategyParams) -> int:
    col = prepared.symbol_index(params.benchmark)
    if col is None or prepared.last_valid[col] < 0:
        raise DataValidationError(
            f"benchmark {params.benchmark} has no prices in the data; load it with the prices or choose another"
        )
    return col


def benchmark_returns(prepared: PreparedData, col: int, day_index: np.ndarray) -> np.ndarray:
    """(n,) daily simple returns of the benchmark column ``col`` on the days ``day_index``
    (n,) (each >= 1: a return day follows an entry): buy and hold, from the forward-filled
    closes, NaN on a day where it does not exist (``benchmark_days``: no close yet, or its
    last close more than ``ALIVE_DAYS`` calendar days old) or whose previous day precedes
    its first close. The return of the day it resumes after a longer gap spans the gap from
    its last close. The benchmark is a report, never a decision; the rule is causal, so a
    day's return does not depend on the data after it."""
    p = prepared.prices[:, col]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = p[day_index] / p[day_index - 1] - 1.0
    exists = benchmark_days(prepared, col)[day_index] & (day_index - 1 >= prepared.first_valid[col])
    return np.where(exists & np.isfinite(r), r, np.nan)


def backtest_metrics(prepared: PreparedData, params: StrategyParams) -> dict[str, float]:
    """Fast path for sweeps: ``METRIC_NAMES`` of the portfolio, identical to ``run_prepared(...).metrics``."""
    return backtest_metrics_and_returns(prepared, params)[0]


def weights_key(params: StrategyParams) -> tuple[Any, ...]:
    """The fields besides the plan (``selection_key``) that the target weights read
    (``target_weights``, ``engine.strategy.weights.compute_weights``): equal weights read
    none; the other schemes read ``lookback_days`` days of returns, and max-Sharpe the
    risk-free rate too. With the plan they determine ``simulate_gross`` (the costs,
    benchmark and, except for max-Sharpe, risk-free rate are not in it)."""
    if params.weighting == "equal":
        return ("equal",)
    risk_free = params.risk_free if params.weighting == "max_sharpe" else None
    return (params.weighting, params.lookback_days, risk_free)


@dataclasses.dataclass(kw_only=True)
class SharedWork:
    """What the configurations of one batch (a sweep chunk) share, computed once each:

    - ``plans``: the plan of each selection (``selection_key``): configurations that
      differ only in weighting, costs, benchmark, ... share it;
    - ``values``: per ``signal_key``, the daily values of every configuration of the
      batch that simulates on the held path (``members``), computed together at the
      first of them to simulate (``group_values``: one pass over the days reads the
      widest selection's closes once for all; a narrower ``top_n`` holds a prefix of the
      same ranking, same bits);
    - ``grosses``: the simulation before costs (``simulate_gross``) of each selection and
      weighting (``weights_key``): configurations that differ only in costs, benchmark or
      risk-free rate (but max-Sharpe weights) simulate once and only charge their costs
      (``net_returns``, same bits).

    A mutable memo for one batch in one thread; build it with ``for_batch``. Its memory is
    bounded by the batch: at most one plan, one target weights matrix, one (D,) daily
    value and one ``_Gross`` (a (D,) float array of returns before costs and a few (K,)
    arrays) per configuration of it, freed with it (a value as soon as its gross is made)."""

    prepared: PreparedData
    members: dict[tuple[Any, ...], list[StrategyParams]]  # per signal_key, on the held path
    plans: dict[tuple[Any, ...], _Plan] = dataclasses.field(default_factory=dict)
    weights: dict[tuple[Any, ...], np.ndarray] = dataclasses.field(default_factory=dict)
    values: dict[tuple[Any, ...], FloatVector] = dataclasses.field(default_factory=dict)
    benchmarks: dict[tuple[int, bytes], np.ndarray] = dataclasses.field(default_factory=dict)
    grosses: dict[tuple[Any, ...], _Gross] = dataclasses.field(default_factory=dict)

    @classmethod
    def for_batch(cls, prepared: PreparedData, batch: Sequence[StrategyParams]) -> SharedWork:
        members: dict[tuple[Any, ...], dict[tuple[Any, ...], StrategyParams]] = {}
        for params in batch:
            if uses_held_path(params.top_n, prepared.prices.shape[1]):
                group = members.setdefault(signal_key(params), {})
                group.setdefault(_simulation_key(params), params)
        share_batch_sums(prepared, batch)
        return cls(prepared=prepared, members={key: list(group.values()) for key, group in members.items()})

    def plan(self, params: StrategyParams) -> _Plan:
        key = selection_key(params)
        hit = self.plans.get(key)
        if hit is None:
            hit = self.plans[key] = _plan(self.prepared, params, closing=True)
        return hit

    def benchmark_returns(self, col: int, day_index: np.ndarray) -> np.ndarray:
        """``benchmark_returns`` once per benchmark column and backtest days: the
        configurations of a batch mostly share both (~3% of a sweep's time)."""
        key = (col, day_index.tobytes())
        hit = self.benchmarks.get(key)
        if hit is None:
            hit = self.benchmarks[key] = benchmark_returns(self.prepared, col, day_index)
            hit.flags.writeable = False  # shared by the batch's configurations
        return hit

    def gross(self, params: StrategyParams, plan: _Plan) -> _Gross:
        """``simulate_gross`` of ``params`` (whose plan is ``plan``), once per selection and
        weighting: the costs are charged per configuration (``net_returns``)."""
        key = _simulation_key(params)
        hit = self.grosses.get(key)
        if hit is None:
            weights = self._weights(params, plan)
            value = self._value(params, key)
            hit = simulate_gross(self.prepared.prices, plan.entry, plan.end, plan.held, weights, value)
            self.grosses[key] = hit
            self.weights.pop(key, None)  # the gross holds what the batch needs of them
        return hit

    def _weights(self, params: StrategyParams, plan: _Plan) -> np.ndarray:
        key = _simulation_key(params)
        hit = self.weights.get(key)
        if hit is None:
            hit = self.weights[key] = _targets(self.prepared, params, plan, None)
        return hit

    def _value(self, params: StrategyParams, key: tuple[Any, ...]) -> FloatVector | None:
        """The daily value ``group_values`` computed for this configuration, or None
        (it computes its own: the wide path, or a selection that is not a prefix of the
        widest, e.g. one that fell back to cash where the wider one holds a symbol)."""
        group = self.members.pop(signal_key(params), None)
        if group is not None:
            self._simulate_values(group)
        return self.values.pop(key, None)

    def _simulate_values(self, group: Sequence[StrategyParams]) -> None:
        """``values`` of every member of a signal group that fits the widest's columns."""
        planned = []
        for params in group:
            try:
                planned.append((params, self.plan(params)))
            except Exception:  # that configuration's own error: raised in its own turn
                continue
        if not planned:
            return
        wide = max((plan for _, plan in planned), key=lambda plan: plan.held.shape[1])
        if len(wide.entry) == 0:  # no segment: nothing to value
            return
        fitting = []
        for params, plan in planned:
            try:
                weights = self._weights(params, plan)
            except Exception:  # as above: it fails alone, in its own turn
                continue
            same_segments = np.array_equal(plan.entry, wide.entry) and np.array_equal(plan.end, wide.end)
            if same_segments and holds_prefix(wide.held, plan.held, weights):
                fitting.append((_simulation_key(params), plan.held, weights))
        if not fitting:
            return
        rows = group_values(
            self.prepared.prices, wide.entry, wide.end, wide.held, [(held, w) for _, held, w in fitting]
        )
        for (key, _, _), row in zip(fitting, rows, strict=True):
            self.values[key] = row


def _simulation_key(params: StrategyParams) -> tuple[Any, ...]:
    """What ``simulate_gross`` of a configuration depends on: its selection and weighting."""
    return (selection_key(params), weights_key(params))


def backtest_metrics_and_returns(
    prepared: PreparedData, params: StrategyParams, *, shared: SharedWork | None = None
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """``backtest_metrics`` and the portfolio's daily returns: (metrics, day index into
    ``prepared.dates`` (D,), returns (D,)). The sweep's trial counting (DSR) uses them.

    ``shared``: the batch's ``SharedWork`` (plans, daily values and simulations before
    costs shared between configurations; the numbers are the same bits as without it)."""
    col = _benchmark_column(prepared, params)
    plan = _plan(prepared, params, closing=True) if shared is None else shared.plan(params)
    if len(plan.entry) == 0:
        empty = np.zeros(0)
        metrics = compute_metrics(empty, empty, risk_free=params.risk_free)
        return metrics, np.zeros(0, dtype=np.int64), empty
    if shared is None:
        gross = simulate_gross(
            prepared.prices, plan.entry, plan.end, plan.held, _targets(prepared, params, plan, None)
        )
    else:
        gross = shared.gross(params, plan)
    sim = net_returns(gross, params.cost_bps / 1e4)
    bench = (
        benchmark_returns(prepared, col, sim.day_index)
        if shared is None
        else shared.benchmark_returns(col, sim.day_index)
    )
    metrics = compute_metrics(sim.returns, bench, risk_free=params.risk_free, turnover=sim.turnover)
    return metrics, sim.day_index, sim.returns


def eligible_symbols_by_period(
    prepared: PreparedData, params: StrategyParams
) -> list[tuple[pd.Timestamp, np.ndarray]]:
    """Per holding segment: (period_start, indices into ``prepared.symbols`` of the symbols
    with a signal in the formation period that are holdable at the entry). The
    random-portfolio baseline draws its top-N sets from these. An entry at the last day
    (no holding day yet) has period_start NaT."""
    plan = _plan(prepared, params)
    starts, _ = _holding_bounds(prepared, plan, np.arange(len(plan.entry)))
    eligible = eligible_mask(prepared, plan)
    return [(pd.Timestamp(starts[k]), np.flatnonzero(eligible[k])) for k in range(len(plan.entry))]


def _universe_members(prepared: PreparedData, plan: _Plan, k: int) -> np.ndarray:
    return np.flatnonzero(eligible_mask(prepared, plan)[k])


def selection_returns(
    prepared: PreparedData, params: StrategyParams, selections: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily returns of arbitrary per-segment selections with the strategy's calendar,
    weighting (``target_weights``: its scheme and lookback) and accounting (drift, reset,
    costs). ``selections[k]``: symbol indices held
    in segment k of ``eligible_symbols_by_period``. Returns (dates, returns, turnover).

    Called once per random portfolio, so the segment calendar of the last few
    (prepared, params) pairs is remembered instead of re-aggregating the signal."""
    entry, end = _segment_calendar(prepared, params)
    if len(entry) == 0:
        empty = np.zeros(0)
        return np.zeros(0, dtype="datetime64[D]"), empty, empty
    if len(selections) != len(entry):
        raise ValueError(f"expected {len(entry)} selections, got {len(selections)}")
    width = max(1, max((len(s) for s in selections), default=1))
    n = prepared.n_symbols
    held = np.full((len(selections), width), n, dtype=np.int64)
    mask = np.zeros(held.shape, dtype=bool)
    for k, sel in enumerate(selections):
        held[k, : len(sel)] = sel
        mask[k, : len(sel)] = True
    weights = target_weights(prepared, params, entry, held, mask, None)
    sim = simulate(prepared.prices, entry, end, held, weights, params.cost_bps / 1e4)
    return prepared.dates[sim.day_index], sim.returns, sim.turnover


_NAMES = _Memo(slots=8)


def clear_caches() -> None:
    """Forget memoised signals and calendars (benchmarks measure the uncached path)."""
    _CALENDARS.clear()
    _SIGNALS.clear()
    _RANKINGS.clear()
    _NAMES.clear()


def run_prepared(
    prepared: PreparedData, params: StrategyParams, *, source: SourceInfo | None = None
) -> BacktestResult:
    """Backtest ``params`` on already prepared data; the full result with frames and warnings
    (among them ``short_window_warning`` when the run has fewer than a year of return days:
    its annualised metrics extrapolate)."""
    col = _benchmark_column(prepared, params)
    plan = _plan(prepared, params, closing=True)
    warnings: list[str] = []
    manifest = Manifest.of(params.to_dict(), prepared, source=source)
    if len(plan.entry) == 0:
        return _empty_result(params, manifest, untraded_warnings(prepared, params))
    weights = _targets(prepared, params, plan, warnings)
    cost_rate = params.cost_bps / 1e4
    sim = simulate(prepared.prices, plan.entry, plan.end, plan.held, weights, cost_rate)
    bench = benchmark_returns(prepared, col, sim.day_index)
    universe = _universe(prepared, plan, cost_rate)
    warnings.extend(_plan_warnings(prepared, params, plan, universe.empty))
    warnings.extend(partial_formation_warnings(prepared, params, plan))
    if len(sim.day_index):
        warnings.extend(_benchmark_warnings(prepared, params, col, sim.day_index))
    else:  # one price day (or a window of it): the entry is planned, nothing is held yet
        warnings.append(
            f"No return day: the only entry is at the close of {_iso(prepared.dates[plan.entry[-1]])}, "
            f"the run's last day ({PENDING}); returns and metrics need a later close."
        )

    if short := short_window_warning(int(np.isfinite(sim.returns).sum())):
        warnings.append(short)

    dates = pd.DatetimeIndex(prepared.dates[sim.day_index].astype(_NS), name="date")
    if weekend := weekend_calendar_warning(dates[np.isfinite(sim.returns)]):
        warnings.append(weekend)
    returns = pd.DataFrame(
        {"portfolio": sim.returns, "benchmark": bench, "universe": universe.returns}, index=dates
    )
    periods = _periods_frame(prepared, params, plan, sim)
    holdings = _holdings_frame(prepared, params, plan, weights)
    rf = params.risk_free
    return BacktestResult(
        returns=returns,
        holdings=holdings,
        periods=periods,
        metrics=compute_metrics(sim.returns, bench, risk_free=rf, turnover=sim.turnover),
        benchmark_metrics=compute_metrics(bench, bench, risk_free=rf, turnover=None),
        universe_metrics=compute_metrics(universe.returns, bench, risk_free=rf, turnover=universe.turnover),
        drawdown=drawdown_info(returns["portfolio"], start=prepared.dates[plan.entry[0]]),
        warnings=tuple(warnings),
        manifest=manifest,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Universe:
    returns: np.ndarray  # (D,) NaN over the segments without an eligible symbol
    turnover: np.ndarray  # (K,)
    empty: np.ndarray  # (K,) True where no symbol was eligible


def _universe(prepared: PreparedData, plan: _Plan, cost_rate: float) -> _Universe:
    """The eligible-universe benchmark: ``_universe_sim``, with the segments that have no
    eligible symbol missing (NaN), not counted as cash."""
    sim = _universe_sim(prepared, plan, cost_rate)
    empty = np.logical_not(eligible_mask(prepared, plan).any(axis=1))
    returns = sim.returns
    if empty.any():
        returns = np.where(np.repeat(empty, plan.end - plan.entry), np.nan, returns)
    return _Universe(returns=returns, turnover=sim.turnover, empty=empty)


def _universe_sim(prepared: PreparedData, plan: _Plan, cost_rate: float) -> _Sim:
    """Equal weight of every eligible, holdable symbol of each segment (same accounting).

    The universe is wide (most symbols), so its share and target matrices are built
    densely (segments x columns) straight from the eligibility mask: no per-row sort of
    the symbols and no scatter. The arithmetic is ``simulate``'s wide path, operation for
    operation, so the numbers are identical; a narrow universe goes through ``simulate``.
    """
    n = prepared.n_symbols
    eligible = eligible_mask(prepared, plan)
    counts = eligible.sum(axis=1)
    width = max(1, int(counts.max()))
    n_cols = prepared.prices.shape[1]
    if not _is_wide(width, n_cols):
        order = np.argsort(~eligible, axis=1, kind="stable")[:, :width]
        mask = np.take_along_axis(eligible, order, axis=1)
        held = np.where(mask, order, n)
        weights = equal_weights(mask)
        weights[~mask.any(axis=1), 0] = 1.0
        return simulate(prepared.prices, plan.entry, plan.end, held, weights, cost_rate)
    n_seg = len(plan.entry)
    target = np.zeros((n_seg, n_cols))
    target[:, :n] = equal_weights(eligible)  # the weights simulate's path gets, bit for bit
    target[counts == 0, n] = 1.0  # no eligible symbol: the segment is held as cash
    entry_prices = prepared.prices[plan.entry]
    holding = target > 0.0
    shares = np.zeros_like(target)
    np.divide(target, entry_prices, out=shares, where=holding)
    return net_returns(
        _dense_gross(prepared.prices, plan.entry, plan.end, target, shares, holding), cost_rate
    )


def _periods_frame(prepared: PreparedData, params: StrategyParams, plan: _Plan, sim: _Sim) -> pd.DataFrame:
    start, end = _holding_bounds(prepared, plan, np.arange(len(plan.entry)))
    return pd.DataFrame(
        {
            "period_start": start,
            "period_end": end,
            "formation_end": period_last_day(plan.formation_key, params.rebalance).astype(_NS),
            "entry_date": prepared.dates[plan.entry].astype(_NS),
            "n_eligible": plan.n_eligible.astype(np.int64),
            "n_selected": plan.held_mask.sum(axis=1).astype(np.int64),
            "turnover": sim.turnover,
            "cost": sim.cost,
        }
    )


def _holding_bounds(prepared: PreparedData, plan: _Plan, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(period_start, period_end) of segments ``k`` as datetime64[ns]; both NaT for a
    segment with no holding day yet (its entry close is the last day)."""
    d = prepared.dates
    pending = plan.end[k] == plan.entry[k]
    start_index = np.minimum(plan.entry[k] + 1, len(d) - 1)
    start = np.where(pending, np.datetime64("NaT"), d[start_index]).astype(_NS)
    end = np.where(pending, np.datetime64("NaT"), d[plan.end[k]]).astype(_NS)
    return start, end


_HOLDING_COLUMNS = ("period_start", "period_end", "symbol", "weight", "signal", "rank", "likes", "comments")


def _held_sums(
    prepared: PreparedData, params: StrategyParams, plan: _Plan, k: np.ndarray, sym: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Likes and comments summed over the kept formation-period rows of each held
    (segment, symbol). Only the held symbols' runs of rows are read (``chosen_run_sums``)."""
    groups = prepared.groups[params.rebalance]
    likes, comments = np.zeros(len(k)), np.zeros(len(k))
    if len(k) == 0 or groups.starts.size == 0:
        return likes, comments
    # Run number of each (period, symbol) cell, -1 where the symbol has no row in it.
    n_sym = prepared.n_symbols
    run_of_cell = np.full(groups.n_periods * n_sym, -1, dtype=np.int64)
    run_of_cell[groups.cell] = np.arange(groups.starts.size)
    key = plan.formation_key[k] - groups.k0
    inside = (key >= 0) & (key < groups.n_periods)
    g = np.full(len(k), -1, dtype=np.int64)
    g[inside] = run_of_cell[key[inside] * n_sym + sym[inside]]
    found = g >= 0
    if not found.any():
        return likes, comments
    likes[found], comments[found] = chosen_run_sums(
        prepared.row_likes,
        prepared.row_comments,
        prepared.row_defined[params.signal],
        groups.starts,
        g[found],
        params.min_likes,
        params.min_comments,
    )
    return likes, comments


def _holdings_frame(
    prepared: PreparedData, params: StrategyParams, plan: _Plan, weights: np.ndarray
) -> pd.DataFrame:
    k, j = np.nonzero(plan.held_mask)
    sym = plan.held[k, j]
    likes, comments = _held_sums(prepared, params, plan, k, sym)
    start, end = _holding_bounds(prepared, plan, k)
    frame = pd.DataFrame(
        {
            "period_start": start,
            "period_end": end,
            "symbol": _symbol_names(prepared).take(sym),
            "weight": weights[k, j],
            "signal": shown_change(plan.signal[k, sym])
            if params.signal_transform == "change"
            else plan.signal[k, sym],
            "rank": plan.rank[k, j].astype(np.int64),
            "likes": likes,
            "comments": comments,
        }
    )
    return frame


def _symbol_names(prepared: PreparedData) -> pd.Index:
    """``prepared.symbols`` as a pandas string index, built once per prepared data set
    (taking from it is much cheaper than converting thousands of Python strings per run)."""
    return _NAMES.get(prepared, "names", lambda: pd.Index(list(prepared.symbols), dtype="str"))


NO_PERIOD = "No holding period: no sentiment row passes the thresholds inside the chosen dates and prices."


def no_period_warnings(untraded: list[str]) -> tuple[str, ...]:
    """Why a run has no holding period: the reasons of ``untraded_warnings`` (a chosen
    window that misses the sentiment data, naming the dates; signals whose entry close is
    after the data) when there are some, else no row passing the thresholds (``NO_PERIOD``)."""
    return tuple(f"No holding period: {reason}" for reason in untraded) if untraded else (NO_PERIOD,)


def _empty_result(params: StrategyParams, manifest: Manifest, untraded: list[str]) -> BacktestResult:
    empty_dates = pd.DatetimeIndex(np.zeros(0, dtype=_NS), name="date")
    returns = pd.DataFrame({"portfolio": [], "benchmark": [], "universe": []}, index=empty_dates, dtype=float)
    nan_metrics = compute_metrics(np.zeros(0), np.zeros(0), risk_free=params.risk_free)
    holdings = pd.DataFrame({c: [] for c in _HOLDING_COLUMNS})
    periods = pd.DataFrame(
        {
            c: []
            for c in (
                "period_start",
                "period_end",
                "formation_end",
                "entry_date",
                "n_eligible",
                "n_selected",
                "turnover",
                "cost",
            )
        }
    )
    return BacktestResult(
        returns=returns,
        holdings=holdings,
        periods=periods,
        metrics=nan_metrics,
        benchmark_metrics=nan_metrics,
        universe_metrics=nan_metrics,
        drawdown={"peak": None, "trough": None, "recovery": None},
        warnings=no_period_warnings(untraded),
        manifest=manifest,
    )


__all__ = [
    "PreparedData",
    "SharedWork",
    "backtest_metrics",
    "eligible_symbols_by_period",
    "prepare",
    "run_backtest",
    "run_prepared",
    "selection_returns",
    "simulate",
    "warm_up_kernels",
]
