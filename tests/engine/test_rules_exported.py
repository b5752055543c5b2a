"""The rules the dashboard takes from the engine (one owner each), as public names."""

from __future__ import annotations

import pytest

import engine


def test_check_grid_types_values_drops_repeats_and_keeps_order() -> None:
    assert engine.check_grid({"top_n": ["5", 3, 5], "rebalance": ["weekly"]}) == {
        "top_n": (5, 3),
        "rebalance": ("weekly",),
    }


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, "at least one parameter"),
        ({"nope": [1]}, "unknown sweep parameter"),
        ({"top_n": []}, "non-empty list"),
        ({"top_n": "3,5"}, "non-empty list"),
        ({"top_n": ["x"]}, "top_n"),
    ],
)
def test_check_grid_errors(grid: object, message: str) -> None:
    with pytest.raises(engine.ParameterError, match=message):
        engine.check_grid(grid)  # type: ignore[arg-type]


def test_grid_limit_is_run_sweeps() -> None:
    at_limit = {"top_n": list(range(1, 101)), "lag_days": list(range(0, 50))}
    assert engine.grid_size(engine.check_grid(at_limit)) == engine.MAX_SWEEP_CONFIGS == 5000
    over = {**at_limit, "rebalance": ["weekly", "monthly"]}
    with pytest.raises(engine.ParameterError, match="the grid has 10000 configurations; the limit is 5000"):
        engine.check_grid(over)
    with pytest.raises(engine.ParameterError, match="the grid has 10000 configurations; the limit is 5000"):
        engine.run_sweep(None, over)  # type: ignore[arg-type]  (refused before the data is touched)


def test_symbol_rule() -> None:
    assert engine.parse_symbols("aapl, msft,AAPL") == ["AAPL", "MSFT"]
    assert len(engine.parse_symbols([f"S{i}" for i in range(engine.MAX_STOCKS)])) == engine.MAX_STOCKS == 50
    with pytest.raises(engine.ParameterError, match="at most 50"):
        engine.parse_symbols([f"S{i}" for i in range(51)])


def test_metric_units_and_names() -> None:
    assert engine.PERCENT_METRICS.issubset(engine.METRIC_NAMES) and "sharpe" not in engine.PERCENT_METRICS
    assert set(engine.STOCK_METRIC_COLUMNS) - {"symbol"} < set(engine.METRIC_NAMES)
    assert engine.TRADING_DAYS == 252
    assert engine.DATA_SOURCES == ("demo", "files", "yahoo")
    assert set(engine.EXECUTOR_MODES) == {"auto", "ray", "serial"}
