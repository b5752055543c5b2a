"""The sweep's driver-side assembly, made faster, keeps its outputs bit for bit: the table
from column arrays against the ``from_records`` build it replaced, the configurations by
``StrategyParams.replace_stored`` against ``replace``, and the trial matrix's fast path
(every series on the same days) against the whole-calendar fill."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from engine.analytics.metrics import METRIC_NAMES
from engine.dispersion import first_best
from engine.errors import ParameterError
from engine.research import sweep
from engine.strategy.params import StrategyParams


def _previous_table(
    grid: dict[str, tuple[Any, ...]], combos: list[dict[str, Any]], outcomes: list
) -> pd.DataFrame:
    by_row = {row: (metrics, error) for row, metrics, error in outcomes}
    records = []
    for row, combo in enumerate(combos):
        metrics, error = by_row[row]
        record: dict[str, Any] = dict(combo)
        for name in METRIC_NAMES:
            record[name] = float(metrics[name]) if metrics is not None else math.nan
        record["error"] = error
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=[*grid, *METRIC_NAMES, "error"])
    table["error"] = table["error"].astype(object).where(table["error"].notna(), None)
    return table


def _previous_configurations(grid: dict[str, tuple[Any, ...]], base: StrategyParams) -> tuple:
    combos = [dict(zip(grid, values, strict=False)) for values in itertools.product(*grid.values())]
    configs, invalid = [], {}
    for row, combo in enumerate(combos):
        try:
            configs.append((row, base.replace(**combo)))
        except ParameterError as exc:
            invalid[row] = str(exc)
    return combos, configs, invalid


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.equals(b)
    assert list(a.columns) == list(b.columns) and a.columns.dtype == b.columns.dtype
    assert list(a.dtypes) == list(b.dtypes)
    assert a.index.equals(b.index) and type(a.index) is type(b.index)
    for name in a.columns:
        x, y = a[name].to_numpy(), b[name].to_numpy()
        if x.dtype.kind == "f":
            assert x.tobytes() == y.tobytes(), name
        else:
            assert [type(v) for v in x] == [type(v) for v in y], name
            assert [v if v == v else "nan" for v in x] == [v if v == v else "nan" for v in y], name


GRIDS: list[dict[str, Any]] = [
    {"top_n": (3, 5), "min_likes": (0, 10.5), "weighting": ("equal", "hrp")},
    {"start": (None, "2021-01-01", "2022-03-01"), "end": ("2021-06-30", None), "benchmark": ("qqq", "SPY")},
    {"risk_free": (0.0, 0.01), "lag_days": (1,), "signal_transform": ("change", "level")},
]


@settings(max_examples=60, deadline=None)
@given(
    grid_index=hs.integers(0, len(GRIDS) - 1),
    seed=hs.integers(0, 2**32 - 1),
    failed=hs.floats(0.0, 1.0),
)
def test_table_and_configurations_are_the_previous_bits(grid_index: int, seed: int, failed: float) -> None:
    """Random outcomes (metrics as floats and numpy floats, NaN and inf among them; rows
    failed with a message; every row or none failed) give the table ``from_records``
    gave: the same dtypes (ints, floats, strings, dates and None, the error as objects)
    and the same values; the configurations and invalid rows are ``replace``'s."""
    grid = sweep.check_grid(GRIDS[grid_index])
    base = StrategyParams(cost_bps=10.0)
    combos, configs, invalid = sweep._configurations(grid, base)
    old_combos, old_configs, old_invalid = _previous_configurations(grid, base)
    assert combos == old_combos and configs == old_configs and invalid == old_invalid
    assert [type(v) for c in combos for v in c.values()] == [type(v) for c in old_combos for v in c.values()]
    rng = np.random.default_rng(seed)
    outcomes = []
    for row in range(len(combos)):
        if row in invalid or rng.random() < failed:
            outcomes.append((row, None, invalid.get(row, f"failed {row}")))
            continue
        values = rng.normal(size=len(METRIC_NAMES))
        values[rng.random(values.size) < 0.2] = rng.choice([np.nan, np.inf, -np.inf])
        metrics: dict[str, Any] = {
            name: (float(v) if j % 2 else np.float64(v))
            for j, (name, v) in enumerate(zip(METRIC_NAMES, values, strict=True))
        }
        metrics[sweep._RETURNS] = (0, values)
        outcomes.append((row, metrics, None))
    outcomes.reverse()  # the table follows the rows, not the order of the outcomes
    _same_frames(sweep._table(grid, combos, outcomes), _previous_table(grid, combos, outcomes))


def _previous_matrix(n_days: int, firsts: list) -> np.ndarray:
    matrix = np.full((n_days, len(firsts)), np.nan, order="F")
    for column, (days, returns) in enumerate(firsts):
        if isinstance(days, np.ndarray):
            matrix[days, column] = returns
        else:
            matrix[days : days + returns.size, column] = returns
    return matrix[np.isfinite(matrix).any(axis=1)]


@settings(max_examples=150, deadline=None)
@given(
    seed=hs.integers(0, 2**32 - 1),
    n_series=hs.integers(1, 12),
    length=hs.integers(1, 60),
    same_days=hs.booleans(),
    odd=hs.sampled_from([0.0, 0.05, 1.0]),
)
def test_trial_matrix_is_the_whole_calendar_fill(
    seed: int, n_series: int, length: int, same_days: bool, odd: float
) -> None:
    """The same values in the same C order as the whole-calendar fill: series on the
    same contiguous days (the fast path) or not (other starts, lengths, index arrays),
    with NaN and inf days, days where every series is NaN (left out), a first series
    finite throughout or not."""
    rng = np.random.default_rng(seed)
    n_days = length + 20
    firsts: list[tuple[int | np.ndarray, np.ndarray]] = []
    for j in range(n_series):
        returns = rng.normal(0.0, 0.01, length)
        mask = rng.random(length) < odd
        returns[mask] = rng.choice([np.nan, np.inf, -np.inf], int(mask.sum()))
        if same_days or j == 0:
            firsts.append((5, returns))
        elif j % 3 == 1:
            firsts.append((int(rng.integers(0, 20)), returns))
        else:
            firsts.append((np.sort(rng.choice(n_days, length, replace=False)).astype(np.int64), returns))
    got, expected = sweep._trial_matrix(n_days, firsts), _previous_matrix(n_days, firsts)
    assert got.flags.c_contiguous == expected.flags.c_contiguous
    assert got.shape == expected.shape and got.tobytes() == expected.tobytes()


def test_trial_matrix_fast_path_by_hand() -> None:
    a, b = np.array([0.01, np.nan, 0.02]), np.array([np.nan, np.nan, 0.03])
    got = sweep._trial_matrix(9, [(4, a), (4, b)])
    np.testing.assert_array_equal(got, np.array([[0.01, np.nan], [0.02, 0.03]]))
    assert got.flags.c_contiguous
    got = sweep._trial_matrix(9, [(4, np.array([0.01, 0.02])), (4, np.array([np.nan, 0.5]))])
    np.testing.assert_array_equal(got, np.array([[0.01, np.nan], [0.02, 0.5]]))
    assert sweep._configurations({"end": (dt.date(2019, 1, 1),)}, StrategyParams(start=dt.date(2020, 1, 1)))[
        2
    ] == {0: "start (2020-01-01) must be before end (2019-01-01)"}


def _previous_best_row(table: pd.DataFrame) -> int | None:
    sharpe = table["sharpe"].where(table["error"].isna())
    sharpe = sharpe[np.isfinite(sharpe.to_numpy(dtype=np.float64))]
    return int(sharpe.index[first_best(sharpe.to_numpy(dtype=np.float64))]) if len(sharpe) else None


@settings(max_examples=150, deadline=None)
@given(seed=hs.integers(0, 2**32 - 1), n=hs.integers(0, 30))
def test_best_row_is_the_previous_rule(seed: int, n: int) -> None:
    """The first of the highest finite Sharpe ratios (ties up to rounding) among the rows
    without error: NaN, inf, errors (with a Sharpe), ties a rounding apart, no trial."""
    rng = np.random.default_rng(seed)
    sharpe = np.round(rng.normal(size=n), 1)
    sharpe[rng.random(n) < 0.2] = rng.choice([np.nan, np.inf, -np.inf])
    tie = rng.random(n) < 0.2
    sharpe[tie] = np.nanmax(np.where(np.isfinite(sharpe), sharpe, np.nan), initial=0.0) * (1 + 1e-14)
    errors = np.array([f"e{i}" if rng.random() < 0.2 else None for i in range(n)], dtype=object)
    table = pd.DataFrame({"sharpe": sharpe, "error": pd.Series(errors, dtype=object)})
    assert sweep._best_row(table) == _previous_best_row(table)


def test_table_refuses_a_row_without_outcome() -> None:
    grid = sweep.check_grid({"top_n": (3, 5)})
    combos, _, _ = sweep._configurations(grid, StrategyParams())
    with pytest.raises(KeyError, match="no outcome for row 1"):
        sweep._table(grid, combos, [(0, None, "failed")])


@pytest.mark.parametrize("limit", [0, 5001, 99999, 2.5, True])
def test_the_api_cannot_raise_the_sweep_limit_either(limit: Any) -> None:
    """Breaker pass 11, F2: the limit of 5,000 configurations (engine.MAX_SWEEP_CONFIGS) is
    the operator's bound for every entry point; ``max_configs`` lowers it, never raises it."""
    big = {"min_likes": tuple(float(i) for i in range(5001))}
    for call in (
        lambda: sweep.check_grid(big, max_configs=limit),
        lambda: sweep.run_sweep(None, big, max_configs=limit),  # refused before the data are read
    ):
        with pytest.raises(
            ParameterError, match=rf"^max_configs must be a whole number from 1 to 5000 .*; got {limit!r}$"
        ):
            call()
    assert sweep.check_max_configs(5000) == 5000
    with pytest.raises(ParameterError, match="the grid has 3 configurations; the limit is 2"):
        sweep.check_grid({"top_n": (1, 2, 3)}, max_configs=2)
