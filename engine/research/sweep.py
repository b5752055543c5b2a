"""Parameter sweeps: every combination of a grid, backtested in chunks on an executor.

``prepare(data)`` runs once (or the caller passes prepared data); the prepared arrays
are the executor's ``shared`` payload (one ``ray.put``). Configurations travel in chunks sized so that a task does at least
``MIN_TASK_S`` of work (the first configuration is timed on the driver), and at most
``MAX_TASK_S`` so that progress and cancel stay responsive (a later sweep of the same data set
whose first signal group samples the same configurations reuses that timing). A configuration that fails
(invalid combination, no prices for the benchmark, ...) gets its message in the
``error`` column; the sweep goes on.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from engine.analytics.metrics import METRIC_NAMES, short_window_warning, weekend_calendar_warning
from engine.analytics.statistics import cluster_sharpes, deflated_sharpe_of_clusters, trial_clusters
from engine.backtest.base import (
    SharedWork,
    backtest_metrics_and_returns,
    benchmark_returns,
    no_period_warnings,
)
from engine.backtest.plan import PENDING, share_batch_sums, signal_key, untraded_warnings
from engine.backtest.prepare import PreparedData, as_prepared
from engine.data.types import MarketData
from engine.dispersion import distinct_series, first_best, series_digest
from engine.errors import Cancelled, EngineError, ParameterError, short_repr
from engine.jobs import CancelFn, Executor, ProgressFn, SerialExecutor
from engine.strategy.params import PARAM_NAMES, StrategyParams

# A Ray task costs ~5 ms to start and ~5 ms to bring a 2.6 MB result back on 2 busy cores,
# and each worker's share runs ~10 ms faster in one task than in two (docs/performance.md,
# "Sixth pass"): a sweep of under ~0.5 s of work per CPU gains more from one task per
# CPU than from the balance of four (bench_peers' W3 sweep, 0.33 s: 239 ms against 249).
MIN_TASK_S = 0.25
MIN_SHARE_S = 0.02  # below this much work per CPU, one task does it all (4x a round trip)
MAX_TASK_S = 1.0
TASKS_PER_CPU = 4  # a few tasks per CPU so that an uneven chunk does not idle the others
DEFAULT_MAX_CONFIGS = 5000
MEASURED_COSTS_KEPT = 64  # timings kept by _MeasuredCosts (a few bytes each)
# The most an in-process sweep's shared run sums hold (12 bytes per setting and run).
SWEEP_SUMS_BYTES = 64 * 2**20

Config = tuple[int, StrategyParams]  # (row, parameters)
Outcome = tuple[int, dict[str, Any] | None, str | None]  # (row, metrics and _RETURNS, error)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepResult:
    """One row per configuration: the grid's parameters, ``METRIC_NAMES``, ``error``.

    ``best``: row label of the highest Sharpe among the rows without error (the first
    of Sharpe ratios equal up to rounding, ``engine.dispersion.first_best``; None if no
    row has a finite Sharpe); ``deflated_sharpe``: its Deflated Sharpe Ratio (a
    probability; None when undefined) given the trials, counted three ways:
    ``n_trials`` configurations with a finite Sharpe; ``n_distinct_trials`` distinct
    daily return series among them (configurations that trade identically, e.g.
    ``lookback_days`` under equal weights, are one); ``n_effective_trials`` clusters of
    correlated return series (López de Prado 2019, ``trial_clusters``), the effective
    number of independent trials the DSR uses (N = clusters, V = variance of the
    clusters' Sharpe ratios). ``trials``: one row per counted configuration (``row``,
    ``return_series`` and ``trial_cluster`` labels), for exports. ``warnings``: what holds
    for the whole table (every configuration's annualised metrics
    extrapolate a window shorter than a year). ``base``: the parameters every
    configuration takes outside the grid (``run_sweep(base=)``; its rebalance frequency
    sizes the walk-forward folds of ``validate_sweep`` when the grid does not sweep it).
    """

    table: pd.DataFrame
    grid: Mapping[str, tuple[Any, ...]]
    base: StrategyParams
    executor: str
    n_configs: int
    n_failed: int
    elapsed_s: float
    best: int | None
    deflated_sharpe: float | None
    n_trials: int = 0
    n_distinct_trials: int = 0
    n_effective_trials: int = 0
    trials: pd.DataFrame | None = None
    # With run_sweep(keep_returns=True): every configuration's daily returns (see _kept_returns).
    returns: pd.DataFrame | None = None
    benchmark_returns: pd.Series | None = None
    # With keep_returns=True: each column's own days in ``returns`` (see _kept_returns).
    returns_span: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()


# ----- grids -----------------------------------------------------------------------------


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or name not in PARAM_NAMES:
        raise ParameterError(
            f"unknown sweep parameter {short_repr(name, 42)}; choose from {', '.join(PARAM_NAMES)}"
        )
    return name


def _typed_value(name: str, raw: Any) -> Any:
    """The value as StrategyParams stores it (validated alone, on the defaults)."""
    _check_name(name)
    try:
        return getattr(StrategyParams.from_mapping({name: raw}), name)
    except ParameterError as exc:
        raise ParameterError(f"sweep value {short_repr(raw, 42)} for {name}: {exc}") from None


def parse_grid(specs: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """``["top_n=3,5,10", "min_likes=10,20"]`` -> ``{"top_n": (3, 5, 10), "min_likes": (10.0, 20.0)}``."""
    grid: dict[str, tuple[Any, ...]] = {}
    for spec in specs:
        # Not str(spec): str() of an int of more than 4,300 digits raises.
        name, sep, values = (spec if isinstance(spec, str) else short_repr(spec)).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(
                f"grid spec {short_repr(spec, 42)} must look like name=v1,v2,... (e.g. top_n=3,5,10)"
            )
        if name in grid:
            raise ParameterError(f"grid parameter {name} is given twice")
        raw_values = [v.strip() for v in values.split(",")]
        if not any(raw_values) or "" in raw_values:
            raise ParameterError(f"grid parameter {name} needs comma-separated values without blanks")
        grid[name] = _unique(_typed_value(name, v) for v in raw_values)
    if not grid:
        raise ParameterError("give at least one --grid name=v1,v2,...")
    return grid


def _unique(values: Any) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))  # repeated values would inflate the trial count (DSR)


def _check_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, tuple[Any, ...]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ParameterError("the sweep grid must name at least one parameter and its values")
    out: dict[str, tuple[Any, ...]] = {}
    for name, values in grid.items():
        _check_name(name)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ParameterError(f"the sweep values of {name} must be a non-empty list")
        out[name] = _unique(_typed_value(name, v) for v in values)
    return out


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    return math.prod(len(v) for v in grid.values())


def check_max_configs(value: Any, *, name: str = "max_configs") -> int:
    """``value`` when it is a whole number from 1 to ``DEFAULT_MAX_CONFIGS`` (5,000, the
    limit of configurations per sweep, ``engine.MAX_SWEEP_CONFIGS``), else ``ParameterError``
    naming it as ``name`` (the CLI: ``--max-configs``): a smaller bound lowers the limit, a
    larger one cannot raise it (the operator's bound, docs/security.md "Limits", holds for
    the dashboard, the CLI and the API alike)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= DEFAULT_MAX_CONFIGS:
        raise ParameterError(
            f"{name} must be a whole number from 1 to {DEFAULT_MAX_CONFIGS} (it can lower the limit of "
            f"{DEFAULT_MAX_CONFIGS} configurations per sweep, not raise it); got {short_repr(value)}"
        )
    return value


def check_grid(
    grid: Mapping[str, Sequence[Any]], *, max_configs: int = DEFAULT_MAX_CONFIGS
) -> dict[str, tuple[Any, ...]]:
    """``grid`` with every value typed as ``StrategyParams`` stores it, repeats dropped.

    The rule ``run_sweep`` applies: known parameter names, a non-empty list of valid
    values each, at most ``max_configs`` configurations (``check_max_configs``: 1 to
    ``DEFAULT_MAX_CONFIGS``). Raises ``ParameterError``.
    """
    check_max_configs(max_configs)
    checked = _check_grid(grid)
    total = grid_size(checked)
    if total > max_configs:
        raise ParameterError(f"the grid has {total} configurations; the limit is {max_configs}")
    return checked


# ----- tasks -----------------------------------------------------------------------------


_RETURNS = "_returns"  # private key of an outcome's metrics: (days, daily returns), for the DSR
# Optional private key of an outcome's metrics: ``series_digest`` of its daily returns
# (computed where the returns are, so the driver's ``distinct_series`` need not read them).
_DIGEST = "_digest"


def _compact_days(day_index: np.ndarray) -> int | np.ndarray:
    """A configuration's backtest days as its result travels back from a task: the first
    day's index when the days are contiguous (a backtest's days are a range of the
    prepared calendar), else the index itself. The result of a task is then half the
    bytes (the returns alone), and the last task's transfer is on the sweep's critical path.

    ``day_index`` must be strictly increasing, as every backtest's is (``net_returns``
    makes it an ``np.arange``): then its ends alone tell whether it is contiguous (n
    strictly increasing integers span ``last - first == n - 1`` only when consecutive),
    which saves a pass over the days per configuration."""
    if day_index.size and int(day_index[-1]) - int(day_index[0]) == day_index.size - 1:
        return int(day_index[0])
    return day_index


def _day_index(days: int | np.ndarray, n: int) -> np.ndarray:
    """(n,) day index into ``prepared.dates`` from ``_compact_days``."""
    if isinstance(days, np.ndarray):
        return days
    return np.arange(days, days + n, dtype=np.int64)


def _run_config(prepared: PreparedData, config: Config, shared: SharedWork) -> Outcome:
    row, params = config
    try:
        metrics, day_index, returns = backtest_metrics_and_returns(prepared, params, shared=shared)
        if day_index.size == 0:  # no return day: NaN metrics, and the sentence saying why
            return row, None, _no_return_day(prepared, params, shared)
        # The digest is read by the driver's distinct_series: computed here, in the task.
        return (
            row,
            {**metrics, _RETURNS: (_compact_days(day_index), returns), _DIGEST: series_digest(returns)},
            None,
        )
    except EngineError as exc:
        return row, None, str(exc)
    except Exception as exc:
        return row, None, f"{type(exc).__name__}: {exc}"


def _no_return_day(prepared: PreparedData, params: StrategyParams, shared: SharedWork) -> str:
    """Why a configuration has no daily return (its metrics are NaN): no holding period
    (the run's own no-period sentence), or only an entry at the last price day."""
    plan = shared.plan(params)
    if len(plan.entry) == 0:
        return " ".join(no_period_warnings(untraded_warnings(prepared, params)))
    last = str(prepared.dates[int(plan.entry[-1])])
    return f"No return day yet: the only entry is at the close of {last}, the last price day ({PENDING})."


def _run_chunk(prepared: PreparedData, chunk: Sequence[Config]) -> tuple[list[Outcome], float]:
    """The chunk's outcomes in order, and the seconds they took (they size the data set's
    next sweep, ``_MeasuredCosts``). Configurations sharing a selection share its plan,
    those sharing the signal share one pass over the closes for their daily values
    (``SharedWork``), and the chunk holds whole signal groups, so the signal is
    aggregated once per group."""
    started = time.perf_counter()
    shared = SharedWork.for_batch(prepared, [params for _, params in chunk])
    outcomes = [_run_config(prepared, config, shared) for config in chunk]
    return outcomes, time.perf_counter() - started


def _grouped(configs: Sequence[Config]) -> list[list[Config]]:
    """Configurations grouped by ``signal_key`` (groups in order of first appearance,
    rows in grid order inside a group)."""
    groups: dict[tuple[Any, ...], list[Config]] = {}
    for config in configs:
        groups.setdefault(signal_key(config[1]), []).append(config)
    return list(groups.values())


def _group_chunks(groups: Sequence[Sequence[Config]], size: int) -> list[list[Config]]:
    """``ceil(total / size)`` chunks of about equal size made of whole signal groups: a
    group is split only when it alone exceeds ``size``, and then into contiguous pieces,
    so every signal, ranking and calendar is computed once per chunk that holds its
    group. Each group (or piece) goes to the chunk its middle falls in, so the chunks are
    even (packing greedily up to ``size`` left a small last chunk running alone)."""
    pieces = [list(group[start : start + size]) for group in groups for start in range(0, len(group), size)]
    total = sum(len(piece) for piece in pieces)
    if total == 0:
        return []
    n_chunks = math.ceil(total / size)
    chunks: list[list[Config]] = [[] for _ in range(n_chunks)]
    done = 0
    for piece in pieces:
        middle = done + len(piece) / 2
        chunks[min(n_chunks - 1, int(middle * n_chunks / total))].extend(piece)
        done += len(piece)
    return [chunk for chunk in chunks if chunk]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Cost:
    first: float  # seconds of a signal group's first configuration (its shared work included)
    each: float  # seconds of each further configuration of a group

    def seconds(self, groups: Sequence[Sequence[Config]]) -> float:
        """What ``groups`` should take: the first of each pays its shared work."""
        n = sum(len(group) for group in groups)
        return self.first * len(groups) + self.each * (n - len(groups))

    def corrected(self, predicted: float, observed: float) -> _Cost:
        """This cost scaled by what a sweep's chunks took against what it predicted: a
        start timed while the process was cold (kernels loading) or the host was busy
        does not size every later sweep of the data set."""
        if not (predicted > 0 and observed > 0 and math.isfinite(observed)):
            return self
        scale = observed / predicted
        return _Cost(first=self.first * scale, each=self.each * scale)


def _measured_start(prepared: PreparedData, group: Sequence[Config]) -> tuple[list[Outcome], _Cost]:
    """The first and the last configuration of the first signal group, run here, timed:
    the first pays the group's signal, ranking and calendar work, the last only its own,
    so chunks are sized on what the rest will cost (not on the first alone, which
    over-estimates a small sweep into more tasks than its work repays). The last, not the
    second: grid order varies the last parameters fastest, so the second is often the
    first's twin in all but a parameter that costs nothing (a lookback under equal
    weights), while the group's last differs in every parameter the group varies (say
    HRP instead of equal weights). Sized on its cheapest corner, a 6 s sweep was put in
    one task."""
    sample = _sample(group)
    shared = SharedWork.for_batch(prepared, [params for _, params in sample])
    outcomes: list[Outcome] = []
    seconds: list[float] = []
    for config in sample:
        timer = time.perf_counter()
        outcomes.append(_run_config(prepared, config, shared))
        seconds.append(time.perf_counter() - timer)
    return outcomes, _Cost(first=seconds[0], each=seconds[-1])


class _MeasuredCosts:
    """The ``_Cost`` measured for each data set and sampled pair of configurations, at
    most ``MEASURED_COSTS_KEPT`` (the oldest goes first). A data set is its content
    fingerprint (``PreparedData.fingerprint``: the same rows prepared again are the same
    work), or, without one, the shipped object itself while it lives.

    Why: the measured start runs on the driver before any task, so on Ray its ~10 ms
    (the first group's signal work, then done again by the task holding that group) is
    on the sweep's critical path. The dashboard keeps one ``PreparedData`` per data set
    and an analyst sweeps it again and again; a sweep whose first signal group samples the
    same two configurations of the same data is sized on the timing already taken. The
    timing only sizes chunks (the tables are the same whichever size is chosen)."""

    def __init__(self) -> None:
        # Reentrant: a data set collected while this thread holds the lock (a GC pass at an
        # allocation inside ``put``) calls ``_drop`` in the same thread.
        self._lock = threading.RLock()
        self._costs: dict[tuple[Any, ...], tuple[weakref.ref[Any] | None, _Cost]] = {}

    @staticmethod
    def _key(shipped: PreparedData, sample: tuple[StrategyParams, ...]) -> tuple[Any, ...]:
        return (
            ("data", shipped.fingerprint, sample) if shipped.fingerprint else ("object", id(shipped), sample)
        )

    def get(self, shipped: PreparedData, sample: tuple[StrategyParams, ...]) -> _Cost | None:
        with self._lock:
            hit = self._costs.get(self._key(shipped, sample))
        if hit is None or (hit[0] is not None and hit[0]() is not shipped):
            return None
        return hit[1]

    def put(self, shipped: PreparedData, sample: tuple[StrategyParams, ...], cost: _Cost) -> None:
        key = self._key(shipped, sample)
        alive = None if shipped.fingerprint else weakref.ref(shipped, lambda dead: self._drop(key, dead))
        with self._lock:
            self._costs.pop(key, None)  # a corrected cost becomes the newest
            while len(self._costs) >= MEASURED_COSTS_KEPT:
                self._costs.pop(next(iter(self._costs)), None)  # the oldest
            self._costs[key] = (alive, cost)

    def _drop(self, key: tuple[Any, ...], dead: weakref.ref[Any]) -> None:
        with self._lock:
            hit = self._costs.get(key)
            if hit is not None and hit[0] is dead:  # not a newer object given the same id
                self._costs.pop(key, None)

    def __len__(self) -> int:
        return len(self._costs)


_measured_costs = _MeasuredCosts()


def _sample(group: Sequence[Config]) -> list[Config]:
    """The configurations ``_measured_start`` times: the group's first and last."""
    return [group[0], group[-1]] if len(group) > 1 else [group[0]]


def _start(
    prepared: PreparedData, group: Sequence[Config], sample: tuple[StrategyParams, ...]
) -> tuple[list[Outcome], _Cost]:
    """``_measured_start``, or no outcome and the cost known for this data set and
    ``sample`` (``_MeasuredCosts``: measured, then corrected by the chunks' times)."""
    known = _measured_costs.get(prepared, sample)
    if known is not None:
        return [], known
    return _measured_start(prepared, group)


def _touch_rows(prepared: PreparedData, configs: Sequence[Config]) -> None:
    """Compute the lazily prepared row arrays the configurations read, before the
    prepared data is shipped (``PreparedData.for_tasks``, ``ray.put``), so that no task
    recomputes them and the raw columns they come from stay here."""
    for signal in dict.fromkeys(params.signal for _, params in configs):
        prepared.row_values[signal]
        prepared.row_defined[signal]
    for rebalance in dict.fromkeys(params.rebalance for _, params in configs):
        prepared.groups[rebalance]


def chunk_size(n_configs: int, seconds_per_config: float, parallelism: int) -> int:
    """Configurations per task: ~total/(4*CPUs), at least MIN_TASK_S, at most MAX_TASK_S of
    work; but one task per CPU at least while each CPU's share is MIN_SHARE_S or more (a
    70 ms sweep still gains from two CPUs; MIN_TASK_S only keeps the tasks from being
    many and short). The tasks evenly filled and, where that keeps them under MAX_TASK_S,
    a multiple of the CPUs in number (7 equal tasks on 2 CPUs leave one running alone at
    the end)."""
    if n_configs <= 0:
        return 1
    cost = max(seconds_per_config, 1e-5)
    cpus = max(1, parallelism)
    largest = math.ceil(MAX_TASK_S / cost)
    size = math.ceil(n_configs / (TASKS_PER_CPU * cpus))
    size = min(size, largest)
    size = max(size, math.ceil(MIN_TASK_S / cost))
    if n_configs * cost / cpus >= MIN_SHARE_S:
        size = min(size, math.ceil(n_configs / cpus))
    size = max(1, min(size, n_configs))
    tasks = math.ceil(n_configs / size)
    if tasks > cpus and math.ceil(n_configs / (tasks // cpus * cpus)) <= largest:
        tasks = tasks // cpus * cpus
    return math.ceil(n_configs / tasks)  # as many tasks, evenly filled


# ----- the sweep -------------------------------------------------------------------------


def _configurations(
    grid: Mapping[str, tuple[Any, ...]], base: StrategyParams
) -> tuple[list[dict[str, Any]], list[Config], dict[int, str]]:
    """(each row's grid values, the valid configurations, the message of each invalid row).
    ``grid``: checked (``check_grid``), so each value is stored as ``StrategyParams``
    stores it and passed its field's rules: only the rules between fields run per row
    (``StrategyParams.replace_stored``)."""
    names = tuple(grid)
    combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    configs: list[Config] = []
    invalid: dict[int, str] = {}
    derive = base.replace_stored
    for row, combo in enumerate(combos):
        try:
            configs.append((row, derive(combo)))
        except ParameterError as exc:  # e.g. start after end: reported in its row
            invalid[row] = str(exc)
    return combos, configs, invalid


def run_sweep(
    data: MarketData | PreparedData,
    grid: Mapping[str, Sequence[Any]],
    *,
    base: StrategyParams = StrategyParams(),  # noqa: B008  (frozen: a shared default is safe)
    executor: Executor | None = None,
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    max_configs: int = DEFAULT_MAX_CONFIGS,
    keep_returns: bool = False,
) -> SweepResult:
    """Backtest every combination of ``grid`` (other parameters from ``base``) on ``executor``
    (None: ``SerialExecutor``; the caller chooses, e.g. ``engine.get_executor``).
    ``data``: validated ``MarketData`` or its ``prepare``d arrays (a caller that keeps them,
    as the dashboard does per data set, skips the preparation); ``ParameterError`` otherwise.

    ``keep_returns``: also put every configuration's daily returns on the result
    (``SweepResult.returns``, days x configurations, and ``benchmark_returns``) for
    walk-forward validation and the probability of backtest overfitting. ``max_configs``:
    the largest grid run, 1 to ``DEFAULT_MAX_CONFIGS`` (``check_max_configs``). The series are
    the ones every configuration computes anyway (for the trial counts), so keeping them
    costs only the assembly of the matrix."""
    started = time.perf_counter()
    checked = check_grid(grid, max_configs=max_configs)
    total = grid_size(checked)
    executor = executor if executor is not None else SerialExecutor()
    combos, configs, invalid = _configurations(checked, base)
    prepared = as_prepared(data)
    outcomes: list[Outcome] = [(row, None, message) for row, message in invalid.items()]
    done = len(invalid)
    report = _progress_reporter(on_progress, total)
    report(done)
    if configs:
        if should_cancel is not None and should_cancel():
            raise Cancelled(f"cancelled after {done} of {total} configurations")
        # Grouped by signal settings BEFORE chunking: configurations sharing them share
        # the signal, ranking and calendar work; those sharing the selection share the plan.
        groups = _grouped(configs)
        _touch_rows(prepared, configs)
        shipped = prepared.for_tasks()  # what every task reads: the touched rows, no raw columns
        sample = tuple(params for _, params in _sample(groups[0]))
        measured, cost = _start(shipped, groups[0], sample)
        outcomes.extend(measured)
        done += len(measured)
        report(done)
        timed = {row for row, _, _ in measured}
        rest_groups = [rest for group in groups if (rest := [c for c in group if c[0] not in timed])]
        rest = [config for group in rest_groups for config in group]
        if rest:
            seconds = cost.seconds(rest_groups)
            executor = executor.for_work(seconds)  # may be in-process when cheaper
            size = chunk_size(len(rest), seconds / len(rest), executor.parallelism)
            chunks = _group_chunks(rest_groups, size)
            if isinstance(executor, SerialExecutor):
                # The chunks run in this process, one after the other: the whole grid's
                # threshold settings share one pass over the sentiment rows (each chunk
                # passed over them for its own settings; ~6% of a 256-configuration sweep).
                share_batch_sums(
                    shipped, [params for _, params in rest], max_bytes=SWEEP_SUMS_BYTES, whole_sweep=True
                )
            ends = list(itertools.accumulate(len(chunk) for chunk in chunks))
            first_done = done

            def chunk_progress(chunks_done: int, _n_chunks: int) -> None:
                report(min(total, first_done + (ends[chunks_done - 1] if chunks_done else 0)))

            observed = 0.0
            for chunk_outcomes, chunk_seconds in executor.map(
                _run_chunk, chunks, shared=shipped, on_progress=chunk_progress, should_cancel=should_cancel
            ):
                outcomes.extend(chunk_outcomes)
                observed += chunk_seconds
            cost = cost.corrected(seconds, observed)
        _measured_costs.put(shipped, sample, cost)
    table = _table(checked, combos, outcomes)
    best = _best_row(table)
    dsr, counts, trials = _deflated_sharpe(prepared, configs, best, table, outcomes)
    return SweepResult(
        table=table,
        grid=checked,
        base=base,
        executor=executor.name,
        n_configs=total,
        n_failed=int(table["error"].notna().sum()),
        elapsed_s=time.perf_counter() - started,
        best=best,
        deflated_sharpe=dsr,
        n_trials=counts[0],
        n_distinct_trials=counts[1],
        n_effective_trials=counts[2],
        trials=trials,
        warnings=_sweep_warnings(prepared, outcomes),
        **(_kept_returns(prepared, outcomes, checked, base) if keep_returns else {}),
    )


def _sweep_warnings(prepared: PreparedData, outcomes: Sequence[Outcome]) -> tuple[str, ...]:
    """The warnings that hold for every row of a sweep's table: when even the longest
    configuration has fewer return days than a year, every row's annualised metrics
    (CAGR, Sharpe, ...) extrapolate (``short_window_warning``, the backtest's rule); when the
    longest configuration's return days include weekends, the annualised metrics assume 252
    trading days a year on a calendar of ~365 (``weekend_calendar_warning``)."""
    kept = [metrics[_RETURNS] for _, metrics, _ in outcomes if metrics is not None]
    if not kept:
        return ()
    days, returns = max(kept, key=lambda pair: pair[1].size)
    out = []
    short = short_window_warning(returns.size, window="the longest configuration's evaluated window")
    if short:
        out.append(short)
    index = pd.DatetimeIndex(prepared.dates[_day_index(days, returns.size)].astype("datetime64[ns]"))
    weekend = weekend_calendar_warning(index, window="the longest configuration's evaluated window")
    if weekend:
        out.append(weekend)
    return tuple(out)


def _progress_reporter(on_progress: ProgressFn | None, total: int) -> Callable[[int], None]:
    last = [-1]

    def report(done: int) -> None:
        if on_progress is not None and done != last[0]:
            last[0] = done
            on_progress(done, total)

    return report


def _table(
    grid: Mapping[str, tuple[Any, ...]], combos: list[dict[str, Any]], outcomes: list[Outcome]
) -> pd.DataFrame:
    """One row per combination (in grid order): its grid values, ``METRIC_NAMES`` (NaN
    without metrics) and ``error`` (None or the message). Built from column arrays: the
    grid's columns are lists (typed as ``DataFrame.from_records`` types them, which the
    table was built with before), the metrics one float64 array (~1 ms less for 256 rows)."""
    n = len(combos)
    found: list[tuple[dict[str, Any] | None, str | None] | None] = [None] * n
    for row, metrics, error in outcomes:
        found[row] = (metrics, error)
    if None in found:  # every row has its outcome (a lost one is a bug, not a NaN row)
        raise KeyError(f"no outcome for row {found.index(None)}")
    by_row = cast(list[tuple[dict[str, Any] | None, str | None]], found)
    nan_row = [math.nan] * len(METRIC_NAMES)
    values = np.array(
        [nan_row if metrics is None else [metrics[name] for name in METRIC_NAMES] for metrics, _ in by_row],
        dtype=np.float64,
    ).reshape(n, len(METRIC_NAMES))
    columns: dict[str, Any] = {name: [combo[name] for combo in combos] for name in grid}
    columns.update({name: values[:, j] for j, name in enumerate(METRIC_NAMES)})
    # object dtype: None or the message (an object array would be inferred as strings)
    columns["error"] = pd.Series(np.array([error for _, error in by_row], dtype=object), dtype=object)
    return pd.DataFrame(columns)


def _trial_rows(table: pd.DataFrame) -> np.ndarray:
    """Positions of the rows without error with a finite Sharpe (the trials)."""
    return np.flatnonzero(
        table["error"].isna().to_numpy() & np.isfinite(table["sharpe"].to_numpy(dtype=np.float64))
    )


def _best_row(table: pd.DataFrame) -> int | None:
    trials = _trial_rows(table)
    # Sharpe ratios equal up to rounding are a tie: the first row wins (first_best).
    sharpe = table["sharpe"].to_numpy(dtype=np.float64)[trials]
    return int(table.index[trials[first_best(sharpe)]]) if trials.size else None


def _deflated_sharpe(
    prepared: PreparedData,
    configs: list[Config],
    best: int | None,
    table: pd.DataFrame,
    outcomes: list[Outcome],
) -> tuple[float | None, tuple[int, int, int], pd.DataFrame]:
    """(DSR of the best row, (trials, distinct return series, effective trials), the
    per-row labels). Trials are the rows without error with a finite Sharpe."""
    series = {row: metrics[_RETURNS] for row, metrics, _ in outcomes if metrics is not None}
    rows = [r for r in _trial_rows(table).tolist() if r in series]
    if best is None or not rows:
        empty = pd.DataFrame({"row": [], "return_series": [], "trial_cluster": []}, dtype=np.int64)
        return None, (len(rows), 0, 0), empty
    digests = {row: metrics.get(_DIGEST) for row, metrics, _ in outcomes if metrics is not None}
    known = [digests[r] for r in rows]
    labels = distinct_series([series[r][1] for r in rows], None if None in known else cast(Any, known))
    n_distinct = int(labels.max()) + 1
    # labels count 0, 1, ... in order of first appearance: each label's first row
    firsts = [series[rows[int(i)]] for i in np.unique(labels, return_index=True)[1]]
    matrix = _trial_matrix(len(prepared.dates), firsts)
    clusters = trial_clusters(matrix, distinct=True)  # one column per distinct series
    n_effective = int(clusters.max()) + 1 if clusters.size else 0
    params = dict(configs)[best]
    best_returns = series[best][1]
    value = deflated_sharpe_of_clusters(
        best_returns, cast(Any, cluster_sharpes(matrix, clusters, params.risk_free)), params.risk_free
    )
    trials = pd.DataFrame(
        {"row": rows, "return_series": labels, "trial_cluster": clusters[labels]}, dtype=np.int64
    )
    return (value if math.isfinite(value) else None), (len(rows), n_distinct, n_effective), trials


def _trial_matrix(n_days: int, firsts: Sequence[tuple[int | np.ndarray, np.ndarray]]) -> np.ndarray:
    """(days, series) C-order matrix of the distinct series (``_compact_days`` days and
    returns each, in label order) on the prepared calendar, NaN off a series' days, the
    days without a finite return in any series left out: the trial clustering's input.

    When every series covers the same contiguous days (a sweep that varies no date), the
    matrix is those days: each column written straight into the C-order result, and no
    day is left out when one series is finite throughout (the clustering reads finite
    returns; ~0.5 ms of the W3 sweep's 1 ms fill). Else each column is written into a
    Fortran-order matrix of the whole calendar (one contiguous copy per series) and the
    days with a finite return are kept (a C-order copy): the same values in the same order."""
    spans = {None if isinstance(days, np.ndarray) else (days, returns.size) for days, returns in firsts}
    if len(spans) == 1 and None not in spans:
        out = np.empty((firsts[0][1].size, len(firsts)))
        for column, (_, returns) in enumerate(firsts):
            out[:, column] = returns
        if np.isfinite(firsts[0][1]).all():  # every day has a finite return: all are kept
            return out
        return out[np.isfinite(out).any(axis=1)]
    matrix = np.full((n_days, len(firsts)), np.nan, order="F")
    for column, (days, returns) in enumerate(firsts):
        if isinstance(days, np.ndarray):
            matrix[days, column] = returns
        else:
            matrix[days : days + returns.size, column] = returns
    return matrix[np.isfinite(matrix).any(axis=1)]


# ----- kept daily returns (walk-forward validation, PBO) --------------------------------


def _kept_returns(
    prepared: PreparedData,
    outcomes: list[Outcome],
    grid: Mapping[str, tuple[Any, ...]],
    base: StrategyParams,
) -> dict[str, Any]:
    """``returns``: (days x configurations) DataFrame of daily simple returns, one column
    per configuration without error (labelled by its row in ``table``), on the union of
    the configurations' days (index ``date``); a day on which a configuration has no return
    of its own is 0, it holds cash: before its first holding period (the backtest starts in
    cash) and after its last day (its ``end``: the strategy has sold at its last entry).
    ``returns_span``: one row per column, ``first`` and ``last`` (its own first and last
    day) and ``days`` (its own days; the others of the matrix are that cash), for
    ``validate_sweep``'s warning when the configurations do not cover the same days.
    ``benchmark_returns``: the benchmark's daily returns on those days (NaN where it has no
    price), when the benchmark is not swept (else None)."""
    kept = sorted(
        (row, (_day_index(days, returns.size), returns))
        for row, metrics, _ in outcomes
        if metrics is not None and _RETURNS in metrics
        for days, returns in [metrics[_RETURNS]]
    )
    if not kept:
        empty = pd.DataFrame(index=pd.DatetimeIndex([], name="date"), dtype=np.float64)
        return {"returns": empty, "benchmark_returns": None, "returns_span": None}
    days = np.unique(np.concatenate([np.asarray(day_index) for _, (day_index, _r) in kept]))
    matrix = np.zeros((days.size, len(kept)))
    for j, (_, (day_index, returns)) in enumerate(kept):
        matrix[np.searchsorted(days, day_index), j] = returns
    index = pd.DatetimeIndex(prepared.dates[days].astype("datetime64[ns]"), name="date")
    frame = pd.DataFrame(matrix, index=index, columns=pd.Index([row for row, _ in kept], name="config"))
    calendar = prepared.dates.astype("datetime64[ns]")
    span = pd.DataFrame(
        {
            "first": pd.DatetimeIndex([calendar[np.asarray(d)[0]] for _, (d, _r) in kept]),
            "last": pd.DatetimeIndex([calendar[np.asarray(d)[-1]] for _, (d, _r) in kept]),
            "days": [int(np.asarray(d).size) for _, (d, _r) in kept],
        },
        index=frame.columns,
    )
    benchmark = None
    column = prepared.symbol_index(base.benchmark)
    if "benchmark" not in grid and column is not None:
        # The backtest's own benchmark series: NaN outside its prices (benchmark_span), not
        # the forward-filled closes' 0 after its last close (breaker pass 8, F1).
        benchmark = pd.Series(benchmark_returns(prepared, column, days), index=index, name="benchmark")
    return {"returns": frame, "benchmark_returns": benchmark, "returns_span": span}
