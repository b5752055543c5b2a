"""Sweeps share work by design: configurations are grouped by their signal settings
before chunking, so each signal setting is aggregated once, whatever the chunking."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import StrategyParams
from engine.backtest import base as base_module
from engine.backtest import plan as plan_module
from engine.backtest.base import clear_caches
from engine.data.demo import DemoProvider
from engine.data.providers import load_market_data
from engine.jobs import SerialExecutor
from engine.research import sweep as sweep_module

GRID = {
    "weighting": ("equal", "inverse_volatility"),
    "min_likes": (0.0, 20.0, 40.0),
    "top_n": (3, 5, 8),
    "min_comments": (0.0, 10.0),
}  # 36 configurations, 6 signal settings, innermost keys alternate between them


@pytest.fixture(scope="module")
def data():
    return load_market_data(DemoProvider(seed=5, n_symbols=20, years=2), benchmark="QQQ")


def _count_run_sums(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The settings of each ``run_sums_many`` call (a pass over the rows), as they happen."""
    calls: list[int] = []
    original = plan_module.run_sums_many

    def counting(*args):
        calls.append(len(args[-1]))
        return original(*args)

    monkeypatch.setattr(plan_module, "run_sums_many", counting)
    return calls


def test_each_signal_setting_is_aggregated_once(data, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[float, float]] = []
    original = plan_module._aggregate_signal

    def counting(prepared, params):
        calls.append((params.min_likes, params.min_comments))
        return original(prepared, params)

    monkeypatch.setattr(plan_module, "_aggregate_signal", counting)
    monkeypatch.setattr(sweep_module, "chunk_size", lambda *_args: 4)  # many small chunks
    # One memo slot: only the order of the work (grouped, contiguous) avoids recomputing.
    monkeypatch.setattr(plan_module._SIGNALS, "slots", 1)
    monkeypatch.setattr(plan_module._RANKINGS, "slots", 1)
    clear_caches()
    result = sweep_module.run_sweep(data, GRID, base=StrategyParams(), executor=SerialExecutor())
    assert result.n_failed == 0 and len(result.table) == 36
    assert sorted(calls) == sorted({(a, b) for a in (0.0, 20.0, 40.0) for b in (0.0, 10.0)})


def test_chunks_hold_whole_groups_and_split_only_large_ones() -> None:
    groups = [[(i, None)] * n for i, n in enumerate((2, 3, 7, 1))]
    chunks = sweep_module._group_chunks(groups, 4)  # type: ignore[arg-type]
    assert [[row for row, _ in chunk] for chunk in chunks] == [
        [0, 0],
        [1, 1, 1],
        [2, 2, 2, 2],
        [2, 2, 2, 3],
    ]
    assert sum(len(c) for c in chunks) == 13


def test_a_sweep_of_prepared_data_is_the_sweep_of_the_data(data) -> None:
    """``run_sweep`` takes the prepared arrays too (the dashboard keeps them per data set):
    the same table, trial counts and kept returns, bit for bit."""
    from engine.backtest.prepare import prepare

    grid = {"top_n": (3, 5), "min_likes": (0.0, 20.0)}
    from_data = sweep_module.run_sweep(data, grid, executor=SerialExecutor(), keep_returns=True)
    from_prepared = sweep_module.run_sweep(prepare(data), grid, executor=SerialExecutor(), keep_returns=True)
    assert from_prepared.table.equals(from_data.table)
    assert from_prepared.returns is not None and from_prepared.returns.equals(from_data.returns)
    assert (from_prepared.n_trials, from_prepared.n_effective_trials, from_prepared.deflated_sharpe) == (
        from_data.n_trials,
        from_data.n_effective_trials,
        from_data.deflated_sharpe,
    )


def test_a_sweep_refuses_data_of_another_type(data) -> None:
    from engine.errors import ParameterError

    with pytest.raises(ParameterError, match=r"MarketData .* or PreparedData"):
        sweep_module.run_sweep(data.sentiment, {"top_n": (3, 5)})


def test_a_batch_aggregates_its_threshold_settings_together_with_the_same_bits(
    data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep batch computes its settings' run sums in one pass (``share_batch_sums``);
    the table is the same bits as with each setting aggregated alone."""
    grid = {**GRID, "min_comments": (0.0, 3.0, 10.0), "aggregation": ("mean", "median")}
    shared = _count_run_sums(monkeypatch)
    clear_caches()
    together = sweep_module.run_sweep(data, grid, base=StrategyParams(), executor=SerialExecutor()).table
    assert sum(shared) >= 8  # most of the 9 mean settings were computed together
    monkeypatch.setattr(plan_module, "share_batch_sums", lambda prepared, batch: None)
    monkeypatch.setattr(base_module, "share_batch_sums", lambda prepared, batch: None)
    monkeypatch.setattr(sweep_module, "share_batch_sums", lambda prepared, batch, **_: None)
    clear_caches()
    alone = sweep_module.run_sweep(data, grid, base=StrategyParams(), executor=SerialExecutor()).table
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
    for column in together.select_dtypes("float").columns:
        assert together[column].to_numpy().tobytes() == alone[column].to_numpy().tobytes(), column


def test_an_in_process_sweep_passes_over_the_rows_once_for_all_its_chunks(
    data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On ``SerialExecutor`` the chunks run one after the other in the driver's process:
    the grid's threshold settings (all but the measured group's, aggregated already) get
    their run sums in one pass before the chunks, however many chunks there are, and no
    chunk passes over the rows again; the table is the same bits as with each chunk
    sharing its own settings only."""
    calls = _count_run_sums(monkeypatch)
    monkeypatch.setattr(sweep_module, "chunk_size", lambda *_args: 12)  # chunks of 2 signal groups
    # One memoised level: each chunk's aggregations evict what the sweep found memoised.
    monkeypatch.setattr(plan_module._SIGNALS, "slots", 1)
    clear_caches()
    once = sweep_module.run_sweep(data, GRID, base=StrategyParams(), executor=SerialExecutor()).table
    again = sweep_module.run_sweep(data, GRID, base=StrategyParams(), executor=SerialExecutor()).table
    # One pass per sweep over all 6 settings, a memoised one included (a chunk would
    # otherwise find it evicted and pass over the rows again for it).
    assert calls == [6, 6]
    pd.testing.assert_frame_equal(once, again, check_exact=True)
    calls.clear()
    monkeypatch.setattr(sweep_module, "SWEEP_SUMS_BYTES", 0)  # too large to share: each chunk its own
    clear_caches()
    per_chunk = sweep_module.run_sweep(data, GRID, base=StrategyParams(), executor=SerialExecutor()).table
    assert len(calls) >= 2 and max(calls) == 2  # a pass per chunk, over its own 2 settings
    pd.testing.assert_frame_equal(once, per_chunk, check_exact=True)
    for column in once.select_dtypes("float").columns:
        assert once[column].to_numpy().tobytes() == per_chunk[column].to_numpy().tobytes(), column


def test_a_chunk_answers_in_its_order_each_configuration_as_alone(data) -> None:
    """A chunk values each signal group's configurations in one pass (``SharedWork``,
    at the group's first simulation, whichever top_n it is): every outcome is the one the
    configuration gets alone, and they come back in the chunk's order."""
    prepared = sweep_module.as_prepared(data)
    base = StrategyParams()
    grid = {"min_likes": (0.0, 20.0), "top_n": (3, 8, 5), "cost_bps": (0.0, 10.0)}
    configs = sweep_module._configurations(sweep_module.check_grid(grid), base)[1]
    outcomes, _ = sweep_module._run_chunk(prepared, configs)
    assert [row for row, _, _ in outcomes] == list(range(12))  # the chunk's order
    in_order = [
        sweep_module._run_config(prepared, config, sweep_module.SharedWork.for_batch(prepared, [config[1]]))
        for config in configs
    ]
    for (row, metrics, error), (row_alone, metrics_alone, error_alone) in zip(
        outcomes, in_order, strict=True
    ):
        assert row == row_alone and error == error_alone is None
        assert {k: float(v).hex() for k, v in metrics.items() if not k.startswith("_")} == {
            k: float(v).hex() for k, v in metrics_alone.items() if not k.startswith("_")
        }
        assert metrics["_returns"][1].tobytes() == metrics_alone["_returns"][1].tobytes()
