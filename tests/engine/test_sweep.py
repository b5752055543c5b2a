"""Parameter sweeps: grid parsing, one row per configuration equal to a single backtest,
failures reported in their row, identical tables on the serial and the Ray executor."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import engine
from engine import METRIC_NAMES, DemoProvider, SerialExecutor, load_market_data, run_backtest
from engine.analytics.metrics import short_window_warning
from engine.research import sweep as _sweep
from tests.support.ray_cluster import counting_puts, runtime_dir  # noqa: F401  (the shared test cluster)

GRID = {"top_n": (3, 5), "min_likes": (10.0, 50.0), "rebalance": ("weekly", "monthly")}


@pytest.fixture(scope="module")
def data() -> engine.MarketData:
    return load_market_data(DemoProvider(seed=3, n_symbols=30, years=2), benchmark="QQQ")


# ----- parse_grid ------------------------------------------------------------------------


def test_parse_grid_types_values_as_strategy_params_does() -> None:
    grid = engine.parse_grid(["top_n=3, 5,10", "min_likes=10,20.5", "rebalance=weekly", "start=2022-01-03"])
    assert grid == {
        "top_n": (3, 5, 10),
        "min_likes": (10.0, 20.5),
        "rebalance": ("weekly",),
        "start": (dt.date(2022, 1, 3),),
    }
    assert isinstance(grid["top_n"][0], int) and isinstance(grid["min_likes"][0], float)


def test_parse_grid_drops_repeated_values() -> None:
    assert engine.parse_grid(["top_n=3,3,5"]) == {"top_n": (3, 5)}


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["top_n"], "must look like name=v1,v2"),
        (["=3"], "must look like name=v1,v2"),
        (["colour=red"], "unknown sweep parameter 'colour'"),
        (["top_n=3,zero"], "top_n must be a whole number"),
        (["top_n=0"], "from 1 to 500"),
        (["top_n=3,,5"], "without blanks"),
        (["top_n="], "without blanks"),
        (["top_n=3", "top_n=5"], "given twice"),
        (["rebalance=daily"], "rebalance must be one of"),
        ([], "at least one"),
    ],
)
def test_parse_grid_rejects_with_a_clear_message(specs: list[str], message: str) -> None:
    with pytest.raises(engine.ParameterError, match=message):
        engine.parse_grid(specs)


# ----- run_sweep (serial) ----------------------------------------------------------------


def test_rows_equal_single_backtests(data: engine.MarketData) -> None:
    base = engine.StrategyParams(cost_bps=5.0)
    result = engine.run_sweep(data, GRID, base=base, executor=SerialExecutor())
    table = result.table
    assert list(table.columns) == [*GRID, *METRIC_NAMES, "error"]
    assert len(table) == result.n_configs == 8
    for _, row in table.iterrows():
        params = base.replace(**{name: row[name] for name in GRID})
        expected = run_backtest(data, params).metrics
        assert row["error"] is None
        np.testing.assert_allclose(
            [row[m] for m in METRIC_NAMES], [expected[m] for m in METRIC_NAMES], rtol=1e-12
        )


def test_grid_order_is_the_product_order(data: engine.MarketData) -> None:
    table = engine.run_sweep(data, GRID, executor=SerialExecutor()).table
    assert list(zip(table["top_n"], table["min_likes"], table["rebalance"], strict=False)) == [
        (3, 10.0, "weekly"), (3, 10.0, "monthly"), (3, 50.0, "weekly"), (3, 50.0, "monthly"),
        (5, 10.0, "weekly"), (5, 10.0, "monthly"), (5, 50.0, "weekly"), (5, 50.0, "monthly"),
    ]  # fmt: skip


def test_failing_configurations_are_reported_in_their_rows(data: engine.MarketData) -> None:
    grid = {"benchmark": ("QQQ", "ZZZZ"), "end": (dt.date(2023, 6, 30), dt.date(2000, 1, 3))}
    base = engine.StrategyParams(start=dt.date(2022, 1, 3))
    result = engine.run_sweep(data, grid, base=base, executor=SerialExecutor())
    table = result.table.set_index(["benchmark", "end"])
    assert table.loc[("QQQ", dt.date(2023, 6, 30)), "error"] is None
    assert math.isfinite(table.loc[("QQQ", dt.date(2023, 6, 30)), "sharpe"])
    assert "benchmark ZZZZ has no prices" in table.loc[("ZZZZ", dt.date(2023, 6, 30)), "error"]
    assert "must be before end" in table.loc[("QQQ", dt.date(2000, 1, 3)), "error"]
    failed = table[table["error"].notna()]
    assert len(failed) == result.n_failed == 3
    assert failed[list(METRIC_NAMES)].isna().all().all()


def test_best_is_the_highest_sharpe_and_its_deflated_sharpe_is_a_probability(data: engine.MarketData) -> None:
    result = engine.run_sweep(data, GRID, executor=SerialExecutor())
    assert result.best == int(result.table["sharpe"].idxmax())
    assert result.deflated_sharpe is not None and 0.0 <= result.deflated_sharpe <= 1.0
    assert result.executor == "serial" and result.elapsed_s > 0


def test_no_successful_configuration_means_no_best(data: engine.MarketData) -> None:
    result = engine.run_sweep(data, {"benchmark": ("ZZZZ", "YYYY")}, executor=SerialExecutor())
    assert (result.best, result.deflated_sharpe, result.n_failed) == (None, None, 2)


def test_progress_counts_configurations(data: engine.MarketData) -> None:
    calls: list[tuple[int, int]] = []
    engine.run_sweep(data, GRID, executor=SerialExecutor(), on_progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 8) and calls[-1] == (8, 8)
    assert [d for d, _ in calls] == sorted({d for d, _ in calls})


def test_cancel_stops_the_sweep(data: engine.MarketData) -> None:
    with pytest.raises(engine.Cancelled):
        engine.run_sweep(data, GRID, executor=SerialExecutor(), should_cancel=lambda: True)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, "at least one parameter"),
        ({"top_n": ()}, "non-empty list"),
        ({"top_n": "35"}, "non-empty list"),
        ({"colour": ("red",)}, "unknown sweep parameter"),
        ({"top_n": (0,)}, "top_n must be a whole number"),
        (
            {"top_n": tuple(range(1, 101)), "min_likes": tuple(range(60))},
            "6000 configurations; the limit is 5000",
        ),
    ],
)
def test_bad_grids_raise_parameter_error(data: engine.MarketData, grid: dict[str, Any], message: str) -> None:
    with pytest.raises(engine.ParameterError, match=message):
        engine.run_sweep(data, grid, executor=SerialExecutor())


@pytest.mark.parametrize(
    ("n_configs", "seconds_each", "cpus", "expected"),
    [
        (1000, 0.002, 2, 125),  # total / (4 * CPUs)
        (1000, 0.002, 64, 16),  # 64 CPUs: one task each (32 ms), not 100 ms tasks on 20 of them
        (254, 0.00027, 2, 127),  # the real file's W3 grid, 69 ms: two tasks, not one (MIN_SHARE_S)
        (30, 0.001, 2, 30),  # 15 ms per CPU: one task
        (3000, 0.0002, 2, 1500),  # at least 250 ms of work per task (MIN_TASK_S): 2, not 8
        (100_000, 0.002, 2, 500),  # at most 1 s of work per task
        (10, 0.002, 2, 10),  # never more than there is
        (8, 1.0, 2, 1),  # slow configurations: one per task
        (255, 0.00125, 2, 128),  # bench_peers' W3 sweep, 0.32 s: one task per CPU, not 4 of 80 ms
        (700, 0.0025, 2, 117),  # 7 tasks of >= 250 ms would leave one alone at the end: 6
        (3, 1.0, 2, 1),  # 2 tasks would exceed 1 s of work: 3 stay
        (0, 0.002, 2, 1),
    ],
)
def test_chunk_size(n_configs: int, seconds_each: float, cpus: int, expected: int) -> None:
    assert _sweep.chunk_size(n_configs, seconds_each, cpus) == expected


# ----- Ray -------------------------------------------------------------------------------


def test_serial_and_ray_sweeps_give_identical_tables(data: engine.MarketData, runtime_dir: Any) -> None:  # noqa: F811
    grid = {"top_n": (2, 3, 5, 8), "min_likes": (0.0, 10.0, 50.0), "weighting": ("equal", "inverse_volatility"),
            "benchmark": ("QQQ", "ZZZZ")}  # fmt: skip
    serial = engine.run_sweep(data, grid, executor=SerialExecutor())
    progress: list[int] = []
    on_ray = engine.run_sweep(
        data, grid, executor=engine.RayExecutor(), on_progress=lambda d, t: progress.append(d)
    )
    assert (serial.executor, on_ray.executor) == ("serial", "ray")
    pd.testing.assert_frame_equal(serial.table, on_ray.table)
    assert (on_ray.best, on_ray.deflated_sharpe, on_ray.n_failed) == (serial.best, serial.deflated_sharpe, 24)
    assert progress[-1] == 48


def test_sweeps_on_one_prepared_data_set_put_it_in_the_object_store_once(
    data: engine.MarketData,
    runtime_dir: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dashboard keeps one ``PreparedData`` per data set and sweeps it many times:
    the second sweep on Ray reuses the first one's object-store copy and gives the
    serial table."""

    grid = {
        "top_n": (2, 3, 5, 8),
        "min_likes": (0.0, 10.0, 50.0),
        "weighting": ("equal", "inverse_volatility"),
    }
    prepared = engine.prepare(data)
    serial = engine.run_sweep(prepared, grid, executor=SerialExecutor())
    puts = counting_puts(monkeypatch)
    first = engine.run_sweep(prepared, grid, executor=engine.RayExecutor())
    second = engine.run_sweep(prepared, grid, executor=engine.RayExecutor())
    assert (first.executor, second.executor) == ("ray", "ray")
    pd.testing.assert_frame_equal(serial.table, first.table)
    pd.testing.assert_frame_equal(serial.table, second.table)
    assert len(puts) == 1 and puts[0] is prepared.for_tasks()


def _small_sweep_in_forked_child(queue: Any, data: engine.MarketData) -> None:
    # As ENGINE_EXECUTOR=auto chooses it for a job of unknown size (the dashboard's default);
    # an executor asked for by name would go to Ray whatever the job's size.
    result = engine.run_sweep(data, {"top_n": (2, 3, 4)}, executor=engine.RayExecutor(may_run_inline=True))
    queue.put((result.executor, result.table["sharpe"].tolist()))


def test_a_small_sweep_in_a_forked_child_runs_in_process(data: engine.MarketData, runtime_dir: Any) -> None:  # noqa: F811
    """A Dash background callback forks a worker that has joined Ray: a sweep cheaper than
    starting a fresh driver runs in-process there (and says so)."""
    import multiprocessing

    engine.RayExecutor().map(_sweep._run_chunk, [[]], shared=None)  # this process has joined Ray
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_small_sweep_in_forked_child, args=(queue, data))
    child.start()
    executor, sharpes = queue.get(timeout=120)
    child.join(timeout=30)
    expected = (
        engine.run_sweep(data, {"top_n": (2, 3, 4)}, executor=SerialExecutor()).table["sharpe"].tolist()
    )
    assert (executor, sharpes) == ("serial", expected)


@pytest.mark.parametrize(
    "day_index",
    [
        np.arange(21, 2520),
        np.zeros(0, dtype=np.int64),
        np.array([4]),
        np.array([3, 4, 6]),
        np.array([5, 4, 3]),
    ],
)
def test_a_results_days_travel_as_their_first_index_when_contiguous(day_index: np.ndarray) -> None:
    """A task sends back a configuration's days as the first day's index when they are a
    range (every backtest's are), else the index itself; either way the driver reads the
    same days."""
    days = _sweep._compact_days(day_index)
    contiguous = day_index.size > 0 and np.array_equal(
        day_index, np.arange(day_index[0], day_index[0] + day_index.size)
    )
    assert isinstance(days, int) == contiguous
    assert np.array_equal(_sweep._day_index(days, day_index.size), day_index)


def test_the_sweep_is_sized_on_the_first_and_last_configuration_of_its_first_signal_group(
    data: engine.MarketData,
) -> None:
    """The timed start runs the first signal group's first configuration (it pays the
    group's signal work) and its last (which differs in every parameter the group varies,
    here HRP weights and the longest lookback), not the first's twin under equal weights."""
    grid = {"weighting": ("equal", "hrp"), "lookback_days": (21, 126)}
    _, configs, _ = _sweep._configurations(_sweep._check_grid(grid), engine.StrategyParams())
    group = _sweep._grouped(configs)[0]
    assert len(group) == 4
    prepared = engine.prepare(data)
    _sweep._touch_rows(prepared, configs)  # as run_sweep does before shipping
    outcomes, cost = _sweep._measured_start(prepared.for_tasks(), group)
    assert [row for row, _, _ in outcomes] == [0, 3]
    assert group[-1][1].weighting == "hrp" and group[-1][1].lookback_days == 126
    assert all(error is None for _, _, error in outcomes) and cost.first > 0 and cost.each > 0
    whole = engine.run_sweep(data, grid, executor=SerialExecutor())
    assert whole.table["error"].isna().all() and len(whole.table) == 4


def test_rows_without_a_return_day_say_why(data: engine.MarketData) -> None:
    """A configuration with NaN metrics carries the sentence saying why: a start after the
    data, or no row passing the thresholds (was: NaN metrics, no error)."""
    last = data.prices.index[-1].date()
    grid = {"start": (last - dt.timedelta(days=90), last + dt.timedelta(days=30)), "min_likes": (0.0, 1e12)}
    table = engine.run_sweep(data, grid, executor=SerialExecutor()).table
    assert table["error"].iloc[0] is None and math.isfinite(table["sharpe"].iloc[0])
    assert table["error"].iloc[1] == (
        "No holding period: no sentiment row passes the thresholds inside the chosen dates and prices."
    )
    for row in (2, 3):
        assert (
            table["error"]
            .iloc[row]
            .startswith(f"the chosen start {last + dt.timedelta(days=30)} is after the last price day")
        )
    assert table.loc[table["error"].notna(), "sharpe"].isna().all()


def test_a_row_whose_only_entry_is_the_last_price_day_says_so() -> None:
    """January's signal enters at the close of 2022-01-31, the last price day: a planned
    entry, no return day yet. The row says that, not 'no row passes the thresholds'."""
    from tests.engine._frames import market, price_frame, sentiment_frame

    days = [str(d.date()) for d in pd.bdate_range("2022-01-03", "2022-01-31")]
    prices = price_frame(days, {"AAA": np.linspace(10, 11, len(days)), "QQQ": np.full(len(days), 100.0)})
    sentiment = sentiment_frame([("2022-01-10", "AAA", 50, 100)])
    table = engine.run_sweep(market(sentiment, prices), {"top_n": (1, 2)}, executor=SerialExecutor()).table
    expected = (
        "No return day yet: the only entry is at the close of 2022-01-31, the last price day "
        "(no holding day in the data yet)."
    )
    assert table["error"].tolist() == [expected, expected]


def test_a_sweep_shorter_than_a_year_warns_that_every_row_is_annualised(data: engine.MarketData) -> None:
    """Its backtests warn one by one (``short_window_warning``); the table's annualised
    columns had no word. The warning names the longest configuration's day count."""
    base = engine.StrategyParams(start=dt.date(2023, 6, 1), end=dt.date(2023, 9, 29))
    short = engine.run_sweep(data, {"top_n": (3, 5)}, base=base)
    days = max(len(run_backtest(data, base.replace(top_n=n)).returns) for n in (3, 5))
    assert 0 < days < engine.TRADING_DAYS
    assert short.warnings == (
        short_window_warning(days, window="the longest configuration's evaluated window"),
    )
    assert short.warnings[0].startswith(
        f"The longest configuration's evaluated window covers {days} trading days"
    )
    assert engine.run_sweep(data, {"top_n": (3, 5)}).warnings == ()  # two years: none


def _counting_measured_starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    measure = _sweep._measured_start

    def counted(prepared: Any, group: Any) -> Any:
        calls.append(len(group))
        return measure(prepared, group)

    monkeypatch.setattr(_sweep, "_measured_start", counted)
    monkeypatch.setattr(_sweep, "_measured_costs", _sweep._MeasuredCosts())  # none kept yet
    return calls


def test_a_data_sets_next_sweep_is_sized_on_the_timing_already_taken(
    data: engine.MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard sweeps one PreparedData again and again: the second sweep whose first
    signal group samples the same configurations runs nothing on the driver before its
    tasks (the timing is kept), nor does a sweep of the same rows prepared again (the same
    fingerprint); its table is the same bits as the first's. Other data, or another
    sample, is timed."""
    calls = _counting_measured_starts(monkeypatch)
    prepared = engine.prepare(data)
    first = engine.run_sweep(prepared, GRID, executor=SerialExecutor())
    assert calls == [2]  # GRID's first signal group: top_n 3 and 5 at min_likes 10 (weekly)
    again = engine.run_sweep(prepared, GRID, executor=SerialExecutor())
    assert calls == [2]  # same data set, same sampled pair: no timed start
    prepared_again = engine.run_sweep(data, GRID, executor=SerialExecutor())
    assert calls == [2]  # the same rows prepared again: the same fingerprint
    assert first.table.equals(again.table) and first.table.equals(prepared_again.table)
    assert again.deflated_sharpe == first.deflated_sharpe
    other_data = load_market_data(DemoProvider(seed=4, n_symbols=30, years=2), benchmark="QQQ")
    engine.run_sweep(other_data, GRID, executor=SerialExecutor())
    assert calls == [2, 2]  # another data set is timed
    other = engine.run_sweep(prepared, {"top_n": (4, 6)}, executor=SerialExecutor())
    assert calls == [2, 2, 2] and other.table["error"].isna().all()  # another sample is timed


def test_the_kept_timings_go_with_their_data_set(
    data: engine.MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timing is kept at most MEASURED_COSTS_KEPT times (the oldest goes first), only for
    the sampled configurations it was taken on, and, for data without a fingerprint, while
    the data set lives."""
    import dataclasses
    import gc

    monkeypatch.setattr(_sweep, "MEASURED_COSTS_KEPT", 2)
    costs = _sweep._MeasuredCosts()
    kept = [dataclasses.replace(engine.prepare(data), fingerprint="") for _ in range(3)]
    sample = (engine.StrategyParams(),)
    for i, shipped in enumerate(kept[:2]):
        costs.put(shipped, sample, _sweep._Cost(first=float(i), each=0.0))
    assert costs.get(kept[1], sample) == _sweep._Cost(first=1.0, each=0.0)
    assert costs.get(kept[2], sample) is None  # another object without a fingerprint
    assert costs.get(kept[1], (engine.StrategyParams(top_n=9),)) is None
    costs.put(kept[2], sample, _sweep._Cost(first=2.0, each=0.0))
    assert len(costs) == 2 and costs.get(kept[0], sample) is None  # the oldest went
    del kept[2]
    gc.collect()
    assert len(costs) == 1 and costs.get(kept[1], sample) == _sweep._Cost(first=1.0, each=0.0)
    fingerprinted = engine.prepare(data)
    costs.put(fingerprinted, sample, _sweep._Cost(first=3.0, each=0.0))
    assert costs.get(engine.prepare(data), sample) == _sweep._Cost(first=3.0, each=0.0)  # same rows


def test_a_timing_taken_cold_is_corrected_by_what_the_chunks_took(
    data: engine.MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start timed while the process was cold (kernels loading) said 100 s a
    configuration: the sweep sized on it reports what its chunks took, and the next sweep
    of the data set is sized on that (a cost scaled by observed / predicted)."""
    prepared = engine.prepare(data)
    _, configs, _ = _sweep._configurations(_sweep._check_grid(GRID), engine.StrategyParams())
    _sweep._touch_rows(prepared, configs)
    shipped = prepared.for_tasks()  # the object run_sweep ships and keys the timing on
    sample = tuple(params for _, params in _sweep._sample(_sweep._grouped(configs)[0]))
    _sweep._measured_costs.put(shipped, sample, _sweep._Cost(first=100.0, each=100.0))
    sized: list[float] = []
    size = _sweep.chunk_size
    monkeypatch.setattr(_sweep, "chunk_size", lambda n, cost, cpus: sized.append(cost) or size(n, cost, cpus))
    first = engine.run_sweep(prepared, GRID, executor=SerialExecutor())
    second = engine.run_sweep(prepared, GRID, executor=SerialExecutor())
    assert sized[0] == 100.0 and 0 < sized[1] < 1.0
    assert first.table.equals(second.table)
    cost = _sweep._Cost(first=2.0, each=1.0)
    assert cost.corrected(10.0, 5.0) == _sweep._Cost(first=1.0, each=0.5)
    assert cost.corrected(0.0, 5.0) == cost and cost.corrected(10.0, math.nan) == cost


def test_a_configurations_digest_travels_with_its_returns(data: engine.MarketData) -> None:
    """The task computes the digest distinct_series reads (not the driver, after the
    map): the outcome carries series_digest of its own daily returns."""
    from engine.dispersion import series_digest

    prepared = engine.prepare(data)
    _, configs, _ = _sweep._configurations(_sweep._check_grid(GRID), engine.StrategyParams())
    _sweep._touch_rows(prepared, configs)
    outcomes, _seconds = _sweep._run_chunk(prepared.for_tasks(), configs[:2])
    for _row, metrics, error in outcomes:
        assert error is None and metrics is not None
        assert metrics[_sweep._DIGEST] == series_digest(metrics[_sweep._RETURNS][1])
