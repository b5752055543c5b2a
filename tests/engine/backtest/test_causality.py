"""The two causality invariants, property-based over random calendars, every weighting,
lag and rebalance frequency:

1. every period has ``formation_end <= entry_date``, and no sentiment row dated after an
   entry close changes the holdings bought at it;
2. cutting every input (prices AND sentiment rows) after any day D leaves the returns,
   holdings, weights, turnover and warnings about days up to D unchanged, for the
   strategy, the eligible-universe benchmark and the random-portfolio baseline. D is
   drawn half the time among the entry days: an entry at the last day of the cut data
   is still planned and reported (period_start/period_end NaT, no return day yet).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    AGGREGATIONS,
    REBALANCES,
    SIGNAL_TRANSFORMS,
    WEIGHTINGS,
    StrategyParams,
    analyze_stocks,
    eligible_symbols_by_period,
    prepare,
    run_prepared,
    selection_returns,
)
from engine.backtest.plan import PENDING, SENTIMENT_END, _plan
from engine.backtest.result import BacktestResult
from tests.engine._frames import market, sentiment_frame

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random_inputs(seed: int, n_days: int, gaps: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prices on a random trading calendar (business days with random holidays; halts,
    a late listing, a delisting, a symbol that resumes after a halt) and sentiment rows on
    every calendar day, weekends included, for random symbols; with ``gaps``, up to two
    runs of 5-50 days without any row and, half the time, no row after a random day in
    the second half (empty formation periods inside and at the end of the data)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01") + pd.Timedelta(days=int(rng.integers(0, 60)))
    days = pd.bdate_range(start, periods=n_days)
    days = days[rng.random(len(days)) > 0.04]  # holidays
    symbols = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
    growth = 1.0 + rng.normal(0.0003, 0.02, (len(days), len(symbols)))
    prices = 20.0 * np.cumprod(growth, axis=0)
    prices[rng.random(prices.shape) < 0.03] = np.nan  # single missing closes (halts)
    a, b = sorted(rng.integers(0, len(days), 2))
    prices[a:b, 1] = np.nan  # BBB halted for a while, then trades again
    prices[: int(rng.integers(0, len(days) // 2)), 2] = np.nan  # CCC listed late
    prices[int(rng.integers(len(days) // 2, len(days))) :, 3] = np.nan  # DDD delisted
    frame = pd.DataFrame(prices, index=pd.DatetimeIndex(days, name="date"), columns=symbols)
    frame["QQQ"] = 100.0 * np.cumprod(1.0 + rng.normal(0, 0.01, len(days)))
    calendar = pd.date_range(days[0] - pd.Timedelta(days=20), days[-1])
    rows = [(d, s) for d in calendar for s in symbols if rng.random() < 0.6]
    if gaps:  # sentiment gaps: empty formation periods, in the middle and at the end
        for _ in range(int(rng.integers(0, 3))):
            a = calendar[int(rng.integers(0, len(calendar)))]
            b = a + pd.Timedelta(days=int(rng.integers(5, 50)))
            rows = [r for r in rows if not a <= r[0] <= b]
        if rng.random() < 0.5:  # the sentiment ends before the prices
            tail = calendar[int(rng.integers(len(calendar) // 2, len(calendar)))]
            rows = [r for r in rows if r[0] <= tail]
    n = len(rows)
    sentiment = pd.DataFrame(
        {
            "date": pd.DatetimeIndex([r[0] for r in rows]).astype("datetime64[ns]"),
            "symbol": [r[1] for r in rows],
            "twitterPosts": rng.integers(1, 40, n).astype(float),
            "twitterComments": rng.integers(1, 300, n).astype(float),
            "twitterLikes": rng.integers(1, 3000, n).astype(float),
            "twitterImpressions": rng.integers(100, 100000, n).astype(float),
            "twitterSentiment": rng.normal(0.0, 1.0, n),
        }
    )
    return sentiment, frame


PARAMS = st.builds(
    lambda rebalance, weighting, lag, top_n, signal, cost, transform, aggregation: StrategyParams(
        rebalance=rebalance,
        weighting=weighting,
        lag_days=lag,
        top_n=top_n,
        signal=signal,
        lookback_days=15,
        min_likes=0.0,
        min_comments=0.0,
        cost_bps=cost,
        signal_transform=transform,
        aggregation=aggregation,
    ),
    st.sampled_from(REBALANCES),
    st.sampled_from(WEIGHTINGS),
    st.integers(0, 3),
    st.integers(1, 4),
    st.sampled_from(["engagement_ratio", "sentiment"]),
    st.sampled_from([0.0, 20.0]),
    st.sampled_from(SIGNAL_TRANSFORMS),
    st.sampled_from(AGGREGATIONS),
)


@SETTINGS
@given(seed=st.integers(0, 10_000), params=PARAMS, pick=st.floats(0.0, 1.0))
def test_entries_follow_their_formation_period_and_later_rows_change_nothing(
    seed: int, params: StrategyParams, pick: float
) -> None:
    sentiment, prices = _random_inputs(seed, 90, gaps=True)
    result = run_prepared(prepare(market(sentiment, prices)), params)
    periods = result.periods
    assert (periods["formation_end"] <= periods["entry_date"]).all()
    # Only an entry at the last day has no holding day (period_start NaT).
    assert (periods["period_start"].isna() | (periods["entry_date"] < periods["period_start"])).all()
    assert not periods["period_start"].iloc[:-1].isna().any()
    if len(periods) == 0:
        return
    # Rows dated after an entry close, scrambled: the holdings bought at it and before stay.
    entry = periods["entry_date"].iloc[int(pick * (len(periods) - 1))]
    later = sentiment["date"] > entry
    changed = sentiment.copy()
    changed.loc[later, "twitterComments"] = changed.loc[later, "twitterComments"].to_numpy()[::-1] * 7.0
    changed.loc[later, "twitterSentiment"] = -changed.loc[later, "twitterSentiment"]
    other = run_prepared(prepare(market(changed, prices)), params)
    mine = _with_entry(result)
    theirs = _with_entry(other)
    pd.testing.assert_frame_equal(
        mine[mine["entry_date"] <= entry].reset_index(drop=True),
        theirs[theirs["entry_date"] <= entry].reset_index(drop=True),
    )


def _with_entry(result: BacktestResult) -> pd.DataFrame:
    """The holdings with the entry date of their period (the key that exists for every
    period, also the one at the last day whose period_start is NaT)."""
    periods = result.periods
    started = periods["period_start"].notna()
    holdings = result.holdings.copy()
    key = dict(zip(periods.loc[started, "period_start"], periods.loc[started, "entry_date"], strict=True))
    pending = periods.loc[~started, "entry_date"].iloc[0] if (~started).any() else pd.NaT
    values = [key[s] if pd.notna(s) else pending for s in holdings["period_start"]]
    holdings["entry_date"] = pd.Series(values, index=holdings.index, dtype=periods["entry_date"].dtype)
    assert holdings["entry_date"].notna().all()
    return holdings


_ISO = re.compile(r"\d{4}-\d\d-\d\d")


def _about(warnings: tuple[str, ...], day: pd.Timestamp) -> list[str]:
    """The warnings about days up to ``day``: every date they name is on or before it
    (the benchmark's are reports on its own file, not decisions: left out; so are those
    about the period after an entry at the last day, which has no day yet, and those about
    a formation period cut by the end of the sentiment data: cutting the data moves it)."""
    out = []
    for w in warnings:
        dates = _ISO.findall(w)
        if (
            dates
            and not w.startswith("benchmark")
            and PENDING not in w
            and SENTIMENT_END not in w
            and max(dates) <= day.date().isoformat()
        ):
            out.append(w)
    return out


def _selections(eligible: list[tuple[pd.Timestamp, np.ndarray]], top_n: int) -> list[np.ndarray]:
    """One random portfolio: per period, a seeded draw of top_n eligible symbols."""
    out = []
    for k, (_, members) in enumerate(eligible):
        rng = np.random.default_rng(k)
        n = min(top_n, members.size)
        out.append(np.sort(rng.choice(members, size=n, replace=False)) if n else members[:0])
    return out


@SETTINGS
@given(seed=st.integers(0, 10_000), params=PARAMS, cut=st.floats(0.2, 0.95), on_entry=st.booleans())
def test_cutting_all_inputs_after_any_day_changes_nothing_before_it(
    seed: int, params: StrategyParams, cut: float, on_entry: bool
) -> None:
    sentiment, prices = _random_inputs(seed, 110, gaps=True)
    full_data = prepare(market(sentiment, prices))
    full = run_prepared(full_data, params)
    day = prices.index[int(cut * (len(prices) - 1))]
    entries = full.periods["entry_date"]
    entries = entries[(entries >= prices.index[len(prices) // 5]) & (entries < prices.index[-1])]
    if on_entry and len(entries):  # D an entry day: the trade at its close must survive the cut
        day = entries.iloc[int(cut * (len(entries) - 1))]
    _check_cut(sentiment, prices, full_data, full, params, day)


@pytest.mark.parametrize("rebalance", REBALANCES)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("lag", [0, 1, 2])
def test_cutting_after_an_entry_day_keeps_the_trade_made_at_its_close(
    rebalance: str, weighting: str, lag: int
) -> None:
    """Issue 9: data ending on an entry day still plans that entry (periods, holdings,
    weights, turnover) exactly as the full run does; the period has no day yet."""
    params = StrategyParams(
        rebalance=rebalance,
        weighting=weighting,
        lag_days=lag,
        top_n=3,
        lookback_days=15,
        cost_bps=20.0,
        min_likes=0.0,
        min_comments=0.0,
    )
    sentiment, prices = _random_inputs(17, 160)
    full_data = prepare(market(sentiment, prices))
    full = run_prepared(full_data, params)
    entries = full.periods["entry_date"]
    day = entries[entries < prices.index[-1]].iloc[-1]
    part = _check_cut(sentiment, prices, full_data, full, params, day)
    last = part.periods.iloc[-1]
    assert last["entry_date"] == day
    assert pd.isna(last["period_start"]) and pd.isna(last["period_end"])
    assert last["n_selected"] > 0 and np.isfinite(last["turnover"])
    assert part.returns.index[-1] == day  # no return day after the entry yet
    assert part.holdings["period_start"].isna().sum() == last["n_selected"]


def _closing_stop(full: BacktestResult, part: BacktestResult, day: pd.Timestamp) -> pd.Timestamp:
    """The day up to which ``part`` (the data cut after ``day``, or ``end=day``) equals
    ``full``: ``day``, or the entry of its closing period (the first after its last with a
    kept row) when that is before ``day``: the cut run ends at that sale, and the full run
    (whose later rows are after ``day``) holds cash from there to ``day``: the sale's cost
    on the next day, then returns of exactly 0, and only cash entries (turnover 0)."""
    last_entry = part.periods["entry_date"].iloc[-1]
    stop = last_entry if pd.isna(part.periods["period_start"].iloc[-1]) else day
    if stop >= day:
        return day
    assert len(part.returns) == 0 or part.returns.index[-1] == stop
    after = full.returns.loc[stop:day, "portfolio"].iloc[1:]
    cost = float(full.periods.loc[full.periods["entry_date"] == stop, "cost"].iloc[0])
    if len(after):
        np.testing.assert_allclose(after.iloc[0], -cost, rtol=1e-12, atol=0)
        assert (after.iloc[1:] == 0.0).all()
    later = full.periods[(full.periods["entry_date"] > stop) & (full.periods["entry_date"] <= day)]
    assert (later["n_selected"] == 0).all() and (later["turnover"] == 0.0).all()
    return stop


def _check_cut(
    sentiment: pd.DataFrame,
    prices: pd.DataFrame,
    full_data: object,
    full: BacktestResult,
    params: StrategyParams,
    day: pd.Timestamp,
) -> BacktestResult:
    cut_data = prepare(market(sentiment[sentiment["date"] <= day], prices.loc[:day]))
    part = run_prepared(cut_data, params)

    if len(part.periods) == 0:  # no entry yet by day D: none in the full run either
        assert not (full.periods["entry_date"] <= day).any()
        assert _about(full.warnings, day) == []
        return part
    day = _closing_stop(full, part, day)
    # Strategy and universe returns (the benchmark is a report on its own prices).
    columns = ["portfolio", "universe"]
    pd.testing.assert_frame_equal(full.returns.loc[:day, columns], part.returns.loc[:day, columns])
    # Every entry up to D, the one at D's close included: formation, selection, turnover, costs.
    upto = full.periods.loc[full.periods["entry_date"] <= day]
    keep = ["formation_end", "entry_date", "n_eligible", "n_selected", "turnover", "cost"]
    pd.testing.assert_frame_equal(
        upto[keep].reset_index(drop=True), part.periods[keep].reset_index(drop=True)
    )
    # Holding days: the same where the cut data has them; only an entry at D has none.
    started = part.periods["period_start"].notna()
    assert list(part.periods.loc[started, "period_start"]) == list(
        upto.loc[started.to_numpy(), "period_start"]
    )
    assert started.iloc[:-1].all() and (started.iloc[-1] or part.periods["entry_date"].iloc[-1] == day)
    # Holdings and weights bought at entries up to D.
    h_full = _with_entry(full)
    h_full = h_full[h_full["entry_date"] <= day].drop(columns=["period_start", "period_end"])
    h_part = _with_entry(part).drop(columns=["period_start", "period_end"])
    pd.testing.assert_frame_equal(h_full.reset_index(drop=True), h_part.reset_index(drop=True))
    # Warnings about days up to D.
    assert _about(full.warnings, day) == _about(part.warnings, day)

    # Random-portfolio baseline: the same eligible sets and, drawn alike, the same returns.
    e_full = eligible_symbols_by_period(full_data, params)
    e_part = eligible_symbols_by_period(cut_data, params)
    # The eligible sets leave out the closing period (a sale to cash, no return day).
    closing = _plan(cut_data, params, closing=True).closing
    assert len(e_part) == len(upto) - int(closing.size > 0 and closing[-1])
    for (s1, m1), (s2, m2) in zip(e_full, e_part, strict=False):
        assert s1 == s2 or pd.isna(s2)
        assert [full_data.symbols[i] for i in m1] == [cut_data.symbols[i] for i in m2]
    sel_full = _selections(e_full, params.top_n)
    sel_part = [
        np.array([cut_data.symbol_index(full_data.symbols[i]) for i in s], dtype=np.int64) for s in sel_full
    ]
    d1, r1, t1 = selection_returns(full_data, params, sel_full)
    d2, r2, t2 = selection_returns(cut_data, params, sel_part[: len(e_part)])
    upto_days = d1 <= np.datetime64(day.date(), "D")
    np.testing.assert_array_equal(d1[upto_days], d2)
    np.testing.assert_array_equal(r1[upto_days], r2)
    np.testing.assert_array_equal(t1[: len(t2)], t2)
    return part


@pytest.mark.parametrize("rebalance", REBALANCES)
def test_data_ending_on_the_first_price_day_still_plan_its_entry(rebalance: str) -> None:
    """Cut after D = the first price day, which is an entry (Monday 2021-01-04 for the
    formation period ending on or before Thursday 2020-12-31 / the weekend): the trade at
    its close was not planned (a run needed two price days) and the run said 'no
    sentiment row passes the thresholds', though the full run buys at that close. Now
    it is planned as for any data ending on an entry day (no holding day yet)."""
    params = StrategyParams(rebalance=rebalance, top_n=3, lookback_days=15, min_likes=0.0, min_comments=0.0)
    sentiment, prices = _random_inputs(34, 110)
    full_data = prepare(market(sentiment, prices))
    full = run_prepared(full_data, params)
    day = prices.index[0]
    assert full.periods["entry_date"].iloc[0] == day
    part = _check_cut(sentiment, prices, full_data, full, params, day)
    assert len(part.periods) == 1 and pd.isna(part.periods["period_start"].iloc[0])
    assert not any("passes the thresholds" in w for w in part.warnings)


@SETTINGS
@given(seed=st.integers(0, 10_000), params=PARAMS, offset=st.integers(25, 150))
def test_an_end_date_is_the_data_cut_after_it(seed: int, params: StrategyParams, offset: int) -> None:
    """``end`` = D on any calendar day (a weekend or holiday included) runs as the data cut
    after D: the same periods, holdings and returns, and nothing up to D differs from
    the full run (up to a closing sale before D, after which the full run holds cash)."""
    sentiment, prices = _random_inputs(seed, 110, gaps=True)
    day = prices.index[0] + pd.Timedelta(days=offset)
    if day >= prices.index[-1]:
        return
    full_data = prepare(market(sentiment, prices))
    ended = run_prepared(full_data, params.replace(end=day.date()))
    cut = run_prepared(prepare(market(sentiment[sentiment["date"] <= day], prices.loc[:day])), params)
    upto = day
    same_shape = len(ended.returns) == len(cut.returns) and len(ended.periods) == len(cut.periods)
    if not same_shape and len(cut.periods) == 0:  # no kept row up to D in the cut: end=D holds cash
        assert (ended.periods["n_selected"] == 0).all() and (ended.periods["turnover"] == 0.0).all()
        return
    if not same_shape:
        upto = _closing_stop(ended, cut, day)
        assert upto < day
    if same_shape:
        pd.testing.assert_frame_equal(
            ended.returns[["portfolio", "universe"]], cut.returns[["portfolio", "universe"]]
        )
        keep = ["formation_end", "entry_date", "n_eligible", "n_selected", "turnover", "cost"]
        pd.testing.assert_frame_equal(ended.periods[keep], cut.periods[keep])
        pd.testing.assert_frame_equal(ended.holdings, cut.holdings)
    else:
        # The one known difference: the period containing D has kept rows only after D
        # (end=D counts it, it begins on or before D; the cut has none of them) while the
        # periods before it have none: the cut ends at its closing sale, and end=D holds
        # cash from there to D. Every trade up to that sale is the same.
        columns = ["portfolio", "universe"]
        pd.testing.assert_frame_equal(ended.returns.loc[:upto, columns], cut.returns[columns])
        keep = ["formation_end", "entry_date", "n_eligible", "n_selected", "turnover", "cost"]
        same = ended.periods["entry_date"] <= upto
        pd.testing.assert_frame_equal(
            ended.periods.loc[same, keep].reset_index(drop=True), cut.periods[keep].reset_index(drop=True)
        )
        h_ended = _with_entry(ended)
        h_ended = h_ended[h_ended["entry_date"] <= upto].drop(columns=["period_start", "period_end"])
        h_cut = _with_entry(cut).drop(columns=["period_start", "period_end"])
        pd.testing.assert_frame_equal(h_ended.reset_index(drop=True), h_cut.reset_index(drop=True))
        return
    full = run_prepared(full_data, params)
    if len(ended.periods):
        day = _closing_stop(full, ended, day)
    pd.testing.assert_frame_equal(
        full.returns.loc[:day, ["portfolio", "universe"]], ended.returns[["portfolio", "universe"]]
    )


def test_a_benchmark_closed_on_the_cut_day_has_the_return_it_has_with_later_data() -> None:
    """Breaker pass 5, F11: a crypto universe (priced every day) against QQQ (weekdays
    only). With later data QQQ's Saturday return is 0 (its Friday close carried over the
    closed market); with the data cut on that Saturday it was NaN (read as "QQQ has
    ended"), and the benchmark's metrics over days up to D changed with the cut. A
    benchmark that never closes on a weekend or NYSE holiday exists on the closed-market
    days right after its last close; one that ends on a session stays NaN after it. Pass 10,
    F3: one causal rule for any day without a close, its last close carried ALIVE_DAYS
    calendar days (the weekend after a Friday close among them), then NaN."""
    days = pd.date_range("2024-01-01", "2024-03-31", freq="D")
    rng = np.random.default_rng(3)
    crypto = {s: 50.0 * np.cumprod(1.0 + rng.normal(0, 0.02, len(days))) for s in ("BTC", "ETH", "SOL")}
    qqq = 400.0 * np.cumprod(1.0 + rng.normal(0, 0.01, len(days)))
    qqq[days.day_of_week >= 5] = np.nan
    prices = pd.DataFrame({**crypto, "QQQ": qqq}, index=pd.DatetimeIndex(days, name="date"))
    sentiment = sentiment_frame(
        [(str(d.date()), s, 10.0 + i, 50.0 + 3 * i) for d in days for i, s in enumerate(crypto)]
    )
    params = StrategyParams(top_n=2, min_likes=0.0, min_comments=0.0, benchmark="QQQ")
    full = run_prepared(prepare(market(sentiment, prices)), params)
    for day in (pd.Timestamp("2024-03-16"), pd.Timestamp("2024-03-17")):  # a Saturday, a Sunday
        cut = run_prepared(prepare(market(sentiment[sentiment["date"] <= day], prices.loc[:day])), params)
        before = full.returns.loc[:day, "benchmark"]
        assert before.loc["2024-03-16":day].eq(0.0).all()  # carried over the weekend
        pd.testing.assert_series_equal(before, cut.returns.loc[:day, "benchmark"])
        assert not [w for w in cut.warnings if w.startswith("benchmark QQQ has no close after")]
    # Ending on a session (Friday 2024-03-22 has a close; Monday 2024-03-25 has none): the
    # Friday close is carried ALIVE_DAYS = 10 calendar days, to 2024-04-01, past the data's
    # end 03-31 (breaker pass 10, F3: one causal rule; NaN from 03-25 with a warning
    # before). Ending on Friday 03-15 instead: carried to Monday 03-25, NaN from 03-26.
    ended = prices.copy()
    ended.loc["2024-03-25":, "QQQ"] = np.nan
    run = run_prepared(prepare(market(sentiment, ended)), params)
    assert run.returns.loc["2024-03-23":, "benchmark"].eq(0.0).all()
    assert not [w for w in run.warnings if w.startswith("benchmark QQQ has no close after")]
    ended.loc["2024-03-16":, "QQQ"] = np.nan
    run = run_prepared(prepare(market(sentiment, ended)), params)
    assert run.returns.loc["2024-03-16":"2024-03-25", "benchmark"].eq(0.0).all()
    assert run.returns.loc["2024-03-26":, "benchmark"].isna().all()
    assert any(
        "has no close after 2024-03-15" in w and "from 2024-03-26 to 2024-03-31" in w for w in run.warnings
    )


def _qqq_with_gaps(days: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """QQQ on weekdays only, with a 3-session gap (2024-03-05..03-07, back on Friday 03-08)
    and one of three weeks (no close from Monday 2024-04-08 to Friday 04-26 after its
    close of Friday 04-05, back on Monday 04-29)."""
    qqq = 400.0 * np.cumprod(1.0 + rng.normal(0, 0.01, len(days)))
    qqq[days.day_of_week >= 5] = np.nan
    qqq[(days >= "2024-03-05") & (days <= "2024-03-07")] = np.nan
    qqq[(days >= "2024-04-08") & (days <= "2024-04-26")] = np.nan
    return qqq


CUT_DAYS = (
    "2024-02-10",  # a Saturday after a Friday close
    "2024-03-06",  # inside a session gap
    "2024-03-07",  # at a session gap's end
    "2024-03-08",  # the day it resumes
    "2024-04-15",  # the last day its Friday 04-05 close is carried (ALIVE_DAYS = 10)
    "2024-04-16",  # the first day beyond
    "2024-04-20",  # more than ALIVE_DAYS after its last real close
    "2024-04-29",  # the day it resumes after the long gap
)


def test_the_benchmark_up_to_any_day_does_not_depend_on_the_data_after_it() -> None:
    """Breaker pass 10, F3: a benchmark without a close on the last sessions before the cut
    day D had returns of 0 there with later data (its close carried) and NaN when the data
    ended there, so its series, its metrics and the benchmark-relative metrics' daily
    inputs up to D depended on data after D. One causal rule now: its last close is carried
    ALIVE_DAYS calendar days, then it is missing; the return of the day it resumes spans
    the gap. Checked at every kind of D against a universe priced every day."""
    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    rng = np.random.default_rng(5)
    crypto = {s: 50.0 * np.cumprod(1.0 + rng.normal(0, 0.02, len(days))) for s in ("BTC", "ETH", "SOL")}
    qqq = _qqq_with_gaps(days, rng)
    prices = pd.DataFrame({**crypto, "QQQ": qqq}, index=pd.DatetimeIndex(days, name="date"))
    sentiment = sentiment_frame(
        [(str(d.date()), s, 10.0 + i, 50.0 + 3 * i) for d in days for i, s in enumerate(crypto)]
    )
    params = StrategyParams(top_n=2, min_likes=0.0, min_comments=0.0, benchmark="QQQ", rebalance="weekly")
    full = run_prepared(prepare(market(sentiment, prices)), params)
    bench = full.returns["benchmark"]
    assert bench.loc["2024-03-05":"2024-03-07"].eq(0.0).all()
    assert bench.loc["2024-04-06":"2024-04-15"].eq(0.0).all()
    assert bench.loc["2024-04-16":"2024-04-28"].isna().all()
    close = prices["QQQ"]
    assert bench.loc["2024-04-29"] == pytest.approx(
        close.loc["2024-04-29"] / close.loc["2024-04-05"] - 1, rel=1e-12
    )
    assert any(
        "no close from 2024-04-06 to 2024-04-28" in w
        and "missing (NaN) from 2024-04-16 to 2024-04-28" in w
        and "its return on 2024-04-29 spans the gap" in w
        for w in full.warnings
    )
    for d in CUT_DAYS:
        day = pd.Timestamp(d)
        cut = run_prepared(prepare(market(sentiment[sentiment["date"] <= day], prices.loc[:day])), params)
        pd.testing.assert_frame_equal(
            full.returns.loc[:day, ["portfolio", "benchmark"]], cut.returns[["portfolio", "benchmark"]]
        )
    cut = run_prepared(
        prepare(market(sentiment[sentiment["date"] <= "2024-04-20"], prices.loc[:"2024-04-20"])), params
    )
    assert any(
        "no close after 2024-04-05; its returns are missing (NaN) from 2024-04-16 to 2024-04-20" in w
        for w in cut.warnings
    )


def test_a_benchmark_and_a_stock_halted_before_the_cut_day_breaker_pass_10_f3() -> None:
    """The breaker's example (pass 10, F3): NYSE weekdays of 2021, QQQ and AAA without a
    close on 2021-06-08..06-10. Full data gave QQQ and AAA returns of 0 there (and AAA's
    normalised price 1.1662); cut after D = 06-10 they were NaN, with the warning "QQQ has no
    close after 2021-06-07". Both now carry the 06-07 close (ALIVE_DAYS) either way."""
    days = pd.bdate_range("2021-01-04", "2021-08-31")
    rng = np.random.default_rng(3)
    symbols = ("AAA", "BBB", "CCC", "DDD", "QQQ")
    prices = pd.DataFrame(
        {s: 100.0 * np.cumprod(1.0 + rng.normal(0, 0.015, len(days))) for s in symbols},
        index=pd.DatetimeIndex(days, name="date"),
    )
    prices.loc["2021-06-08":"2021-06-10", ["QQQ", "AAA"]] = np.nan
    sentiment = sentiment_frame(
        [(str(d.date()), s, 10.0 + rng.integers(0, 50), 100.0) for d in days for s in symbols[:4]]
    )
    params = StrategyParams(top_n=2, min_likes=0.0, min_comments=0.0)
    day = pd.Timestamp("2021-06-10")
    full = run_prepared(prepare(market(sentiment, prices)), params)
    cut = run_prepared(prepare(market(sentiment[sentiment["date"] <= day], prices.loc[:day])), params)
    assert cut.returns.loc["2021-06-08":, "benchmark"].eq(0.0).all()
    pd.testing.assert_series_equal(full.returns.loc[:day, "benchmark"], cut.returns["benchmark"])
    assert not [w for w in cut.warnings if "has no close after" in w]
    whole, ended = analyze_stocks(prices, ["AAA", "BBB"]), analyze_stocks(prices.loc[:day], ["AAA", "BBB"])
    assert ended.returns.loc["2021-06-08":, "AAA"].eq(0.0).all()
    pd.testing.assert_frame_equal(whole.returns.loc[:day], ended.returns)
    pd.testing.assert_frame_equal(whole.prices.loc[:day], ended.prices)
