"""``PreparedData.for_tasks``: what a task on another process receives holds the row
arrays the driver computed, not the raw columns, and gives the same numbers."""

from __future__ import annotations

import pickle

import pytest

from engine import StrategyParams, prepare, run_prepared
from engine.research.sweep import run_sweep
from tests.engine._frames import random_market


def test_shipped_data_is_smaller_and_backtests_the_same() -> None:
    data = random_market(seed=5, n_symbols=30)
    prepared = prepare(data)
    params = StrategyParams(top_n=4, min_likes=0.0, min_comments=0.0)
    expected = run_prepared(prepared, params)  # touches this signal and frequency
    shipped = pickle.loads(pickle.dumps(prepared.for_tasks()))
    assert len(pickle.dumps(prepared.for_tasks())) < 0.7 * len(pickle.dumps(prepared))
    got = run_prepared(shipped, params)
    assert got.metrics == pytest.approx(expected.metrics, nan_ok=True, rel=0, abs=0)
    assert got.returns.equals(expected.returns)
    assert got.holdings.equals(expected.holdings)


def test_an_untouched_signal_is_a_clear_error() -> None:
    prepared = prepare(random_market(seed=1, n_symbols=10, end="2020-09-30"))
    run_prepared(prepared, StrategyParams(top_n=3))
    shipped = prepared.for_tasks()
    with pytest.raises(RuntimeError, match="signal 'sentiment' was not prepared"):
        shipped.row_values["sentiment"]
    with pytest.raises(RuntimeError, match="groups 'weekly' was not prepared"):
        shipped.groups["weekly"]


def test_a_sweep_on_shipped_data_gives_each_configurations_own_backtest() -> None:
    data = random_market(seed=9, n_symbols=25, end="2021-03-31")
    grid = {"top_n": (2, 4), "min_likes": (0.0, 20.0), "signal": ("engagement_ratio", "sentiment")}
    table = run_sweep(data, grid).table
    prepared = prepare(data)
    assert table["error"].isna().all()
    for _, row in table.iterrows():
        params = StrategyParams(top_n=int(row["top_n"]), min_likes=row["min_likes"], signal=row["signal"])
        assert row["sharpe"] == pytest.approx(
            run_prepared(prepared, params).metrics["sharpe"], rel=0, abs=0, nan_ok=True
        )


def test_shipped_data_is_the_same_object_until_another_row_is_touched() -> None:
    """The Ray executor puts one object once: the many sweeps of a data set get one
    shipped object while they touch the same signals and frequencies."""
    prepared = prepare(random_market(seed=2, n_symbols=10, end="2020-09-30"))
    run_prepared(prepared, StrategyParams(top_n=3))
    shipped = prepared.for_tasks()
    assert prepared.for_tasks() is shipped
    run_prepared(prepared, StrategyParams(top_n=5))  # the same signal and frequency
    assert prepared.for_tasks() is shipped
    run_prepared(prepared, StrategyParams(top_n=3, signal="sentiment"))
    again = prepared.for_tasks()
    assert again is not shipped
    assert again.row_values["sentiment"] is prepared.row_values["sentiment"]
    with pytest.raises(RuntimeError, match="signal 'sentiment' was not prepared"):
        shipped.row_values["sentiment"]
    assert prepared.for_tasks() is again


def test_a_pickle_of_prepared_data_does_not_carry_its_shipped_copy() -> None:
    prepared = prepare(random_market(seed=4, n_symbols=10, end="2020-09-30"))
    run_prepared(prepared, StrategyParams(top_n=3))
    size = len(pickle.dumps(prepared))
    prepared.for_tasks()
    assert len(pickle.dumps(prepared)) == size


@pytest.mark.parametrize("zero_likes", [True, False])
def test_prepared_engagement_ratio_is_row_signal_zeroed_where_undefined(zero_likes: bool) -> None:
    """The prepared rows' engagement ratio (computed once, zeroed in place where
    undefined) has the bits of ``row_signal``'s with its NaN replaced by 0, and the same
    mask of defined rows: x/0 and 0/0 rows among them, or every row defined (no mask)."""
    import dataclasses

    import numpy as np

    from engine.strategy.signals import row_signal

    data = random_market(seed=4, n_symbols=12)
    if not zero_likes:
        sentiment = data.sentiment.assign(twitterLikes=data.sentiment["twitterLikes"] + 1.0)
        data = dataclasses.replace(data, sentiment=sentiment)
    prepared = prepare(data)
    rows = prepared.row_values.rows
    v = row_signal("engagement_ratio", comments=rows.comments, likes=rows.likes, columns={})
    finite = np.isfinite(v)
    assert finite.all() != zero_likes
    values, defined = prepared.row_values["engagement_ratio"], prepared.row_defined["engagement_ratio"]
    assert values.tobytes() == np.where(finite, v, 0.0).tobytes()
    assert (defined is None) if finite.all() else np.array_equal(defined, finite)
    assert not values.flags.writeable
