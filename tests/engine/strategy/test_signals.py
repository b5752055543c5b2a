"""Calendar periods, vectorised aggregation, ranking and the signal transforms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    SignalAnalysisSettings,
    StrategyParams,
    analyze_signal,
    prepare,
    run_backtest,
    run_prepared,
    signal_table,
)
from engine.dispersion import TIE_RTOL
from engine.strategy.signals import (
    aggregate,
    period_first_day,
    period_keys,
    period_last_day,
    rank_descending,
    rank_snapping_ties,
    snap_ties,
    stable_argsort_rows,
    top_n_descending,
)
from tests.engine._frames import market, price_frame, random_market, sentiment_frame


@pytest.mark.parametrize(
    ("day", "rebalance", "first", "last"),
    [
        ("2021-12-15", "monthly", "2021-12-01", "2021-12-31"),
        ("2024-02-29", "monthly", "2024-02-01", "2024-02-29"),
        ("2022-05-10", "quarterly", "2022-04-01", "2022-06-30"),
        ("2022-01-01", "quarterly", "2022-01-01", "2022-03-31"),
        # W-FRI weeks run Saturday..Friday.
        ("2021-12-17", "weekly", "2021-12-11", "2021-12-17"),  # a Friday ends its week
        ("2021-12-18", "weekly", "2021-12-18", "2021-12-24"),  # a Saturday starts the next
        ("2021-12-13", "weekly", "2021-12-11", "2021-12-17"),
    ],
)
def test_calendar_periods(day: str, rebalance: str, first: str, last: str) -> None:
    key = period_keys(np.array([day], dtype="datetime64[D]"), rebalance)
    assert str(period_first_day(key, rebalance)[0]) == first
    assert str(period_last_day(key, rebalance)[0]) == last


def test_weekly_keys_match_pandas_w_fri_periods() -> None:
    days = pd.date_range("2021-01-01", "2021-03-31")
    keys = period_keys(days.values.astype("datetime64[D]"), "weekly")
    ends = pd.DatetimeIndex(days.to_period("W-FRI").end_time.normalize())
    assert (pd.DatetimeIndex(period_last_day(keys, "weekly")) == ends).all()
    assert np.all(np.diff(np.unique(keys)) == 1)


@pytest.mark.parametrize("how", ["mean", "median"])
def test_aggregate_matches_pandas(how: str) -> None:
    rng = np.random.default_rng(0)
    group = rng.integers(0, 40, 500)
    values = rng.normal(size=500)
    ours = aggregate(group, values, 45, how)
    reference = pd.Series(values).groupby(group).agg(how).reindex(range(45))
    np.testing.assert_allclose(ours, reference.to_numpy(), equal_nan=True)


def test_rank_descending_breaks_ties_by_symbol_and_puts_nan_last() -> None:
    matrix = np.array([[0.5, np.nan, 0.7, 0.5, 0.1]])
    assert rank_descending(matrix)[0].tolist() == [2, 0, 3, 4, 1]


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(0, 12), st.integers(0, 700)),
    distinct=st.sampled_from([2, 5, 1_000_000]),
    nan_share=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_rank_descending_is_the_stable_argsort(seed, shape, distinct, nan_share) -> None:
    """The fast ranking (unstable sort, then ties back in column order) is the stable
    argsort of (-value, NaN last), permutation for permutation: many ties, NaN runs,
    -0.0 against 0.0, infinities."""
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, distinct, shape).astype(float) - distinct // 2
    matrix[rng.random(shape) < 0.05] = -0.0
    matrix[rng.random(shape) < 0.02] = np.inf
    matrix[rng.random(shape) < 0.02] = -np.inf
    matrix[rng.random(shape) < nan_share] = np.nan
    expected = np.argsort(np.where(np.isnan(matrix), np.inf, -matrix), axis=1, kind="stable")
    np.testing.assert_array_equal(rank_descending(matrix), expected)


@pytest.mark.parametrize("seed", range(5))
def test_partition_top_n_equals_full_sort_with_ties_and_nan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, 4, (30, 25)).astype(float)  # many ties
    matrix[rng.random(matrix.shape) < 0.3] = np.nan
    for n in (1, 3, 10, 24, 25):
        np.testing.assert_array_equal(top_n_descending(matrix, n), rank_descending(matrix)[:, :n])


def test_signal_choices_use_their_columns() -> None:
    frame = sentiment_frame([("2021-11-02", "AAA", 30, 60), ("2021-11-02", "BBB", 50, 40)])
    frame.loc[frame["symbol"] == "AAA", "twitterSentiment"] = 0.9
    frame.loc[frame["symbol"] == "BBB", "twitterSentiment"] = -0.2

    def by(signal):
        return signal_table(frame, StrategyParams(signal=signal))["symbol"].tolist()

    assert by("engagement_ratio") == ["BBB", "AAA"]  # 1.25 vs 0.5
    assert by("likes") == ["AAA", "BBB"]
    assert by("comments") == ["BBB", "AAA"]
    assert by("sentiment") == ["AAA", "BBB"]


def test_change_transform_needs_the_previous_period() -> None:
    rows = [
        ("2021-10-05", "AAA", 20, 100),  # 0.2 -> 0.5: change +0.3
        ("2021-11-05", "AAA", 50, 100),
        ("2021-10-05", "BBB", 60, 100),  # 0.6 -> 0.4: change -0.2
        ("2021-11-05", "BBB", 40, 100),
        ("2021-11-05", "CCC", 90, 100),  # new in November: not eligible
    ]
    table = signal_table(sentiment_frame(rows), StrategyParams(signal_transform="change"))
    november = table[table["formation_start"] == pd.Timestamp("2021-11-01")]
    assert november["symbol"].tolist() == ["AAA", "BBB"]
    np.testing.assert_allclose(november["signal"], [0.3, -0.2])

    days = ["2021-11-30", "2021-12-01", "2021-12-02"]
    prices = price_frame(days, {"AAA": [1, 1, 1], "BBB": [1, 1, 1], "CCC": [1, 1, 1], "QQQ": [1, 1, 1]})
    result = run_prepared(
        prepare(market(sentiment_frame(rows), prices)), StrategyParams(signal_transform="change", top_n=2)
    )
    assert result.holdings["symbol"].tolist() == ["AAA", "BBB"]
    np.testing.assert_allclose(result.holdings["signal"], [0.3, -0.2])


@pytest.mark.parametrize("rebalance", ["weekly", "monthly", "quarterly"])
@pytest.mark.parametrize("aggregation", ["mean", "median"])
def test_backtest_holdings_agree_with_signal_table(rebalance: str, aggregation: str) -> None:
    """The numpy path used by the backtest and the readable pandas table pick the same symbols."""
    data = random_market(seed=6, n_symbols=15)
    params = StrategyParams(rebalance=rebalance, aggregation=aggregation, top_n=4)
    result = run_prepared(prepare(data), params)
    table = signal_table(data.sentiment, params)
    top = table[table["rank"] <= 4]
    periods = result.periods.assign(period=range(len(result.periods)))
    merged = result.holdings.merge(periods[["period_start", "formation_end"]], on="period_start")
    for formation_end, group in merged.groupby("formation_end"):
        start = period_first_day(
            period_keys(np.array([formation_end], dtype="datetime64[D]"), rebalance), rebalance
        )
        expected = top[top["formation_start"] == pd.Timestamp(start[0])]
        listed = set(expected["symbol"])
        assert set(group["symbol"]) <= listed
        assert len(listed - set(group["symbol"])) == len(listed) - len(group)
        mine = group.sort_values("symbol")
        theirs = expected[expected["symbol"].isin(group["symbol"])].sort_values("symbol")
        np.testing.assert_allclose(mine["signal"], theirs["signal"])
        np.testing.assert_allclose(mine["likes"], theirs["likes"])
        np.testing.assert_allclose(mine["comments"], theirs["comments"])


def test_signals_equal_up_to_rounding_tie_and_the_first_symbol_wins() -> None:
    """constant-return-series kind (equal up to rounding) in the ranking: engagement
    ratios AAA 0.12, 0.12, 0.12 (mean 0.12) and BBB 0.01, 0.01, 0.34 (mean
    0.12000000000000001, 0.12 in exact arithmetic). The tie rule (the symbol first
    alphabetically) should buy AAA; rounding bought BBB, and signal_table ranked BBB
    first. Now the signals are one value (snap_ties) everywhere: backtest, signal table,
    signal analysis."""
    days = pd.bdate_range("2022-01-03", "2022-02-28")
    prices = price_frame(
        [d.date().isoformat() for d in days],
        {"AAA": np.full(len(days), 10.0), "BBB": np.full(len(days), 20.0), "QQQ": np.full(len(days), 1.0)},
    )
    rows = []
    for day, a, b in zip(["2022-01-10", "2022-01-11", "2022-01-12"], [12, 12, 12], [1, 1, 34], strict=True):
        rows += [(day, "AAA", float(a), 100.0), (day, "BBB", float(b), 100.0)]
    data = market(sentiment_frame(rows), prices)
    params = StrategyParams(top_n=1, min_likes=0.0, min_comments=0.0)
    assert list(run_backtest(data, params).holdings["symbol"]) == ["AAA"]
    table = signal_table(data.sentiment, params)
    assert list(table["symbol"]) == ["AAA", "BBB"] and table["signal"].nunique() == 1
    observed = analyze_signal(data, params, settings=SignalAnalysisSettings(quantiles=2)).observations
    # One value, so the signal analysis never splits the tie (alphalens' qcut rule, breaker
    # pass 12, F6): the period forms no quantiles, where rounding put AAA and BBB apart.
    assert observed["signal"].nunique() == 1 and (observed["signal_quantile"] == 0).all()  # 0: left out


def test_snap_ties_keeps_real_differences_nan_and_inf() -> None:
    row = np.array([[0.12000000000000001, 0.12, np.nan, np.inf, 0.12 + 1e-9, -np.inf]])
    got = snap_ties(row)[0]
    assert got[0] == got[1] == 0.12
    assert np.isnan(got[2]) and got[3] == np.inf and got[5] == -np.inf
    assert got[4] == 0.12 + 1e-9


def _snap_ties_by_its_own_sort(matrix: np.ndarray) -> np.ndarray:
    """The snapping rule written plainly (a stable ascending sort per row of its own)."""
    out = np.array(matrix, dtype=np.float64, copy=True)
    for r in range(out.shape[0]):
        anchor = np.nan
        for c in np.argsort(out[r], kind="stable"):
            v = out[r, c]
            if not np.isfinite(v):
                anchor = np.nan
            elif anchor == anchor and v - anchor <= TIE_RTOL * max(1.0, abs(anchor)):
                out[r, c] = anchor
            else:
                anchor = v
    return out


_NEAR_TIES = [0.12, 0.12000000000000001, 0.12 + 1e-11, 0.12 + 2e-10, 1e6, 1e6 * (1 + 5e-11)]
# near-ties, exact ties, signed zeros, other values, non-finite values
_SIGNAL_VALUES = st.sampled_from([*_NEAR_TIES, 0.5, -3.0, 0.0, -0.0, np.nan, np.inf, -np.inf])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda rows: st.lists(
            st.lists(_SIGNAL_VALUES, min_size=1, max_size=12).map(tuple), min_size=rows, max_size=rows
        ).filter(lambda m: len({len(r) for r in m}) == 1)
    )
)
def test_rank_snapping_ties_is_snap_then_rank_from_one_sort(rows: list[tuple[float, ...]]) -> None:
    """The backtest's ranking snaps ties inside the ranking's own sort; it must give what
    snapping by a sort of its own and then ranking gives (values chosen to
    make runs of near-ties, exact ties, signed zeros and non-finite values)."""
    matrix = np.array(rows, dtype=np.float64)
    expected_values = _snap_ties_by_its_own_sort(matrix)
    values, ranking = rank_snapping_ties(matrix)
    # Equal values (a nonzero float's value is its bits; 0.0 and -0.0 tie either way).
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(ranking, rank_descending(expected_values))
    keyed = np.where(np.isnan(expected_values), np.inf, -expected_values)
    np.testing.assert_array_equal(ranking, np.argsort(keyed, axis=1, kind="stable"))
    np.testing.assert_array_equal(snap_ties(matrix), expected_values)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 4),
    cols=st.one_of(st.integers(1, 40), st.integers(500, 2100)),
    kind=st.sampled_from(["normal", "rounded", "last_bits", "infinities_and_zeros", "huge_and_tiny"]),
)
def test_stable_argsort_rows_is_numpys_stable_argsort(seed: int, rows: int, cols: int, kind: str) -> None:
    """The ranking's sort (int64 keys with the column in their lowest bits, then the
    runs that share the high bits put back in key order) is numpy's stable argsort, bit
    for bit: keys a few ulps apart (they share the high bits and must still sort by
    value), exact ties (by column), -0.0 and 0.0 (equal), infinities, and rows as wide
    as 2,100 columns (12 column bits)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols))
    if kind == "rounded":
        x = np.round(x, 1)
    elif kind == "last_bits":  # within a few thousand ulps of one value per row
        base = rng.normal(size=(rows, 1))
        x = base + base * rng.integers(-3000, 3000, (rows, cols)) * 2.0**-52
    elif kind == "infinities_and_zeros":
        x[rng.random(x.shape) < 0.2] = np.inf
        x[rng.random(x.shape) < 0.2] = -np.inf
        x[rng.random(x.shape) < 0.2] = 0.0
        x[rng.random(x.shape) < 0.2] = -0.0
    elif kind == "huge_and_tiny":
        x = x * 10.0 ** rng.integers(-300, 300, x.shape)
    np.testing.assert_array_equal(stable_argsort_rows(x), np.argsort(x, axis=1, kind="stable"))
    # The ranking makes its keys (-value, NaN as +inf) inside the same kernels: the same
    # ulp-close runs, zeros and infinities, and NaN, read in the other direction.
    x[rng.random(x.shape) < 0.1] = np.nan
    keyed = np.where(np.isnan(x), np.inf, -x)
    np.testing.assert_array_equal(rank_descending(x), np.argsort(keyed, axis=1, kind="stable"))
    np.testing.assert_array_equal(rank_snapping_ties(x)[1], rank_descending(snap_ties(x)))
