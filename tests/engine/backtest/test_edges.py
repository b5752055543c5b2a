"""Edges that must never distort numbers silently: benchmark gaps at either end, a
universe period without eligible symbols, a short lookback window, halts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine import StrategyParams, compute_metrics, run_backtest
from tests.engine._frames import market, sentiment_frame


def _prices(benchmark: np.ndarray | None = None, n: int = 60) -> pd.DataFrame:
    days = pd.bdate_range("2022-01-03", periods=n)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "AAA": 10 * np.cumprod(1 + rng.normal(0.001, 0.02, n)),
            "BBB": 20 * np.cumprod(1 + rng.normal(0.0, 0.01, n)),
            "QQQ": 100 * np.cumprod(1 + rng.normal(0.0, 0.01, n)) if benchmark is None else benchmark,
        },
        index=pd.DatetimeIndex(days, name="date"),
    )
    return frame


def _january() -> pd.DataFrame:
    return sentiment_frame([("2022-01-10", "AAA", 50, 100), ("2022-01-10", "BBB", 40, 100)])


def test_benchmark_gaps_at_both_edges_are_nan_warned_and_left_out_of_relative_metrics() -> None:
    prices = _prices()
    qqq = prices["QQQ"].copy()
    qqq.loc[:"2022-02-04"] = np.nan  # starts late
    qqq.loc["2022-03-10":] = np.nan  # ends early
    sentiment = sentiment_frame(
        [(d, s, c, 100) for d in ("2022-01-10", "2022-02-10") for s, c in (("AAA", 50), ("BBB", 40))]
    )
    result = run_backtest(market(sentiment, prices.assign(QQQ=qqq)), StrategyParams(top_n=2))
    assert result.returns.index[-1] == pd.Timestamp("2022-03-25")
    bench = result.returns["benchmark"]
    assert bench.loc[:"2022-02-07"].isna().all()  # no close before 02-07 -> first return 02-08
    assert bench.loc["2022-02-08":"2022-03-09"].notna().all()
    # Its last close (Wed 2022-03-09) is carried ALIVE_DAYS = 10 calendar days, to Sat
    # 03-19 (returns of 0; breaker pass 10, F3: the causal rule of a day without a close,
    # NaN from 03-10 before); missing from the first day beyond, Monday 03-21.
    assert bench.loc["2022-03-10":"2022-03-18"].eq(0.0).all()
    assert bench.loc["2022-03-21":].isna().all()
    late = [w for w in result.warnings if "no close before 2022-02-07" in w]
    early = [
        w
        for w in result.warnings
        if "no close after 2022-03-09" in w and "from 2022-03-21 to 2022-03-25" in w
    ]
    assert late and early
    # Relative metrics over the shared days only; the portfolio's own over all its days.
    shared = bench.notna()
    port = result.returns["portfolio"]
    expected = compute_metrics(port[shared].to_numpy(), bench[shared].to_numpy())
    for name in ("beta", "alpha", "information_ratio", "tracking_error"):
        assert result.metrics[name] == pytest.approx(expected[name], rel=1e-12)
    assert result.metrics["total_return"] == pytest.approx(float(np.prod(1 + port) - 1), rel=1e-12)
    assert result.benchmark_metrics["total_return"] == pytest.approx(
        float(qqq.loc["2022-03-09"] / qqq.loc["2022-02-07"] - 1), rel=1e-12
    )


def test_universe_period_without_eligible_symbol_is_missing_not_cash() -> None:
    prices = _prices()
    prices.loc["2022-01-31", ["AAA", "BBB"]] = np.nan  # no close on the entry day
    result = run_backtest(market(_january(), prices), StrategyParams(top_n=2))
    assert result.returns["universe"].isna().all()
    assert (result.returns["portfolio"] == 0).all()
    cash = [w for w in result.warnings if "held as cash" in w]
    assert cash == [
        "AAA and BBB were selected for the period starting 2022-02-01 but have no close on the entry day "
        "2022-01-31, and no other selected symbol is holdable: the period is held as cash; the universe "
        "benchmark's returns are missing (NaN) over that period."
    ]
    assert math.isnan(result.universe_metrics["total_return"])


def test_a_selected_share_class_without_prices_gets_one_accurate_warning() -> None:
    """Case share-class-dot-dash: sentiment says BRK.B, the prices say BRK-B. With top_n=1
    BRK.B (the more engaged) is selected but cannot be held, and AAA is not selected: one
    sentence says so, not "the others share its weight" plus "no symbol was eligible"; and
    it says BRK.B has no price at all so far, not a missing close on one day (which read
    as a one-day gap for a ticker the data never priced)."""
    days = pd.bdate_range("2021-12-01", "2022-04-29")
    t = np.arange(len(days))
    prices = pd.DataFrame(
        {"AAA": 100 * 1.0002**t, "BRK-B": 300 * 1.001**t, "QQQ": 300 * 1.0005**t}, index=days
    ).round(6)
    prices.index.name = "date"
    rows = [
        (str(d.date()), s, c, 200.0)
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 30.0), ("BRK.B", 60.0))
    ]
    result = run_backtest(market(sentiment_frame(rows), prices), StrategyParams(top_n=1))
    february = [w for w in result.warnings if "2022-02-01" in w]
    assert february == [
        "BRK.B was selected for the period starting 2022-02-01 but has no price up to the entry day "
        "2022-01-31, and no other selected symbol is holdable: the period is held as cash."
    ]
    assert not any("share its weight" in w or "No symbol was eligible" in w for w in result.warnings)
    assert (result.returns["portfolio"] == 0).all()
    assert result.returns["universe"].notna().all()  # AAA was eligible: the universe holds it


def test_short_lookback_window_is_warned_with_the_count() -> None:
    prices = _prices(n=80)
    sentiment = sentiment_frame([("2022-02-10", "AAA", 50, 100), ("2022-02-10", "BBB", 40, 100)])
    params = StrategyParams(top_n=2, weighting="inverse_volatility", lookback_days=500)
    result = run_backtest(market(sentiment, prices), params)
    # Entry 2022-02-28 (index 40): returns of days 1..39 precede it.
    assert result.periods["entry_date"].iloc[0] == pd.Timestamp("2022-02-28")
    assert any(
        "inverse_volatility weights for the period starting 2022-03-01 used 39 of 500 days" in w
        for w in result.warnings
    )


def test_a_halted_symbol_is_held_through_the_halt_and_warned() -> None:
    prices = _prices()
    prices.loc["2022-02-08":"2022-02-10", "AAA"] = np.nan
    result = run_backtest(market(_january(), prices), StrategyParams(top_n=2))
    assert any(
        w.startswith("AAA (held from 2022-02-01) has no close from 2022-02-08") for w in result.warnings
    )
    # The sleeve is valued at the last close during the halt, and the move is realised
    # on the day AAA trades again (02-11).
    aaa = prices["AAA"]
    w_aaa = 0.5 * aaa / aaa.loc["2022-01-31"]
    w_bbb = 0.5 * prices["BBB"] / prices["BBB"].loc["2022-01-31"]
    value = (w_aaa.ffill() + w_bbb).loc["2022-02-01":"2022-02-28"]
    expected = value / value.shift(1).fillna(1.0) - 1
    np.testing.assert_allclose(
        result.returns["portfolio"].loc["2022-02-01":"2022-02-28"], expected, atol=1e-12
    )


def test_a_holding_halted_across_a_rebalance_is_warned_as_sold_at_the_stale_close() -> None:
    """Breaker pass 12, F10: AAA, held in February, has no close from 02-24 to 03-03 and
    reopens on 03-04 at half its price. The simulation sells its sleeve at the 02-28
    rebalance at the stale 02-23 close (a halted stock cannot be sold), so the -50% is never
    in the returns, and the warning said the sleeve was held as cash "until it trades
    again". The warnings now say what happened and show the move the backtest missed."""
    prices = _prices()
    prices.loc["2022-03-04":, "AAA"] /= 2
    prices.loc["2022-02-24":"2022-03-03", "AAA"] = np.nan
    sentiment = sentiment_frame(
        [(d, s, c, 100) for d in ("2022-01-10", "2022-02-10") for s, c in (("AAA", 50), ("BBB", 40))]
    )
    result = run_backtest(market(sentiment, prices), StrategyParams(top_n=2))
    move = prices.loc["2022-03-04", "AAA"] / prices.loc["2022-02-23", "AAA"] - 1
    assert f"{move:+.1%}" == "-52.8%"
    about_aaa = [w for w in result.warnings if w.startswith("AAA")]
    assert about_aaa == [
        "AAA was selected for the period starting 2022-03-01 but has no close on the entry day "
        "2022-02-28; skipped, the others share its weight.",
        "AAA (held from 2022-02-01) has no close from 2022-02-24; its sleeve is held as cash at the "
        "2022-02-23 close until it trades again, or is sold at that stale close at the next rebalance "
        "if it has no close there.",
        "AAA still has no close at the 2022-02-28 rebalance: its sleeve was sold at the stale 2022-02-23 "
        "close at the 2022-02-28 rebalance, a sale a halted stock could not make, so the backtest misses "
        "its move when it trades again (README, Missing prices while held).",
        "AAA, sold at the stale 2022-02-23 close at the 2022-02-28 rebalance, reopened on 2022-03-04 at "
        "-52.8% from that close, a move the backtest does not see.",
    ]
    # What the warnings describe: from 03-01 the portfolio is BBB alone (the bias, documented).
    bbb = prices["BBB"].pct_change().loc["2022-03-02":"2022-03-31"]
    np.testing.assert_allclose(result.returns["portfolio"].loc["2022-03-02":"2022-03-31"], bbb, rtol=1e-12)

    # Cut before the reopening: the sale is warned, the reopening is not in the data.
    cut = run_backtest(market(sentiment, prices.loc[:"2022-03-03"]), StrategyParams(top_n=2))
    assert any(w.startswith("AAA still has no close at the 2022-02-28 rebalance") for w in cut.warnings)
    assert not any("reopened" in w for w in cut.warnings)
    # A halt that ends inside the period, or one the backtest (to 2022-03-25) ends in, sells
    # nothing at a stale close.
    for first, last, held_from in (
        ("2022-02-08", "2022-02-10", "02-01"),
        ("2022-03-21", "2022-03-25", "03-01"),
    ):
        inside = _prices()
        inside.loc[first:last, "AAA"] = np.nan
        run = run_backtest(market(sentiment, inside), StrategyParams(top_n=2))
        gap = f"AAA (held from 2022-{held_from}) has no close from {first}"
        assert any(w.startswith(gap) for w in run.warnings)
        assert not any("stale 20" in w for w in run.warnings)


def test_missing_days_survive_the_plain_round_trip_as_float_nan() -> None:
    from engine import result_from_plain, result_to_plain

    prices = _prices()
    prices.loc["2022-01-31", ["AAA", "BBB"]] = np.nan
    result = run_backtest(market(_january(), prices), StrategyParams(top_n=2))
    back = result_from_plain(result_to_plain(result))
    assert (back.returns.dtypes == np.float64).all()
    pd.testing.assert_frame_equal(back.returns, result.returns, check_freq=False)


def quarter_cut_short() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sentiment on every day of Q1 2022 (AAA more engaged), prices to Friday 2022-03-25:
    the quarter's entry close (the first trading day on or after 2022-03-31) is not in the data."""
    days = pd.bdate_range("2022-01-03", "2022-03-25")
    prices = pd.DataFrame(
        {"AAA": np.linspace(10, 11, len(days)), "BBB": np.linspace(20, 21, len(days)), "QQQ": 100.0},
        index=pd.DatetimeIndex(days, name="date"),
    )
    rows = [
        (str(d.date()), s, c, 100)
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 50), ("BBB", 30))
    ]
    return sentiment_frame(rows), prices


UNTRADED_Q1 = (
    "No holding period: the signal of the period ending 2022-03-31 is not traded: its entry close "
    "(the first trading day on or after the period's last day) is after 2022-03-25, the last price day "
    "(no holding day in the data yet)."
)


def test_a_run_whose_only_signal_has_its_entry_after_the_last_price_says_so() -> None:
    """Calendar edge, data ending mid-period: rows pass the thresholds, so the reason for no
    holding period is the entry close after the last price, not 'no sentiment row passes the
    thresholds' (what the run said before)."""
    sentiment, prices = quarter_cut_short()
    result = run_backtest(market(sentiment, prices), StrategyParams(top_n=1, rebalance="quarterly"))
    assert len(result.periods) == 0
    assert result.warnings == (UNTRADED_Q1,)
    # The same rule with lag_days and an ``end`` inside the quarter.
    lagged = run_backtest(
        market(sentiment, prices), StrategyParams(top_n=1, rebalance="quarterly", lag_days=2)
    )
    assert lagged.warnings == (UNTRADED_Q1.replace("last day)", "last day, plus 2 trading day(s))"),)
    cut = run_backtest(
        market(sentiment, prices),
        StrategyParams(top_n=1, rebalance="quarterly", end=pd.Timestamp("2022-03-16").date()),
    )
    assert cut.warnings == (
        UNTRADED_Q1.replace("2022-03-25, the last price day", "2022-03-16, the chosen end"),
    )


def test_no_row_passing_the_thresholds_keeps_its_own_reason() -> None:
    sentiment, prices = quarter_cut_short()
    result = run_backtest(
        market(sentiment, prices), StrategyParams(top_n=1, rebalance="quarterly", min_likes=1e9)
    )
    assert result.warnings == (
        "No holding period: no sentiment row passes the thresholds inside the chosen dates and prices.",
    )


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            {"start": "2022-03-28"},
            "the chosen start 2022-03-28 is after the last price day; the prices run from 2022-01-03 to 2022-03-25",
        ),
        (
            {"end": "2021-12-31"},
            "the chosen end 2021-12-31 is before the first price day; the prices run from 2022-01-03 to 2022-03-25",
        ),
        (
            {"start": "2022-03-05", "end": "2022-03-06"},  # a weekend
            "there is no price day from the chosen start 2022-03-05 to the end 2022-03-06; the prices run "
            "from 2022-01-03 to 2022-03-25",
        ),
    ],
)
def test_a_window_without_a_price_day_is_refused_in_one_sentence(
    window: dict[str, str], message: str
) -> None:
    """A start after the data (or an end before it, or a window between two price days)
    had no return day and NaN metrics without a word, with an entry planned before the
    chosen start; now the run says why in one sentence."""
    from engine import DataValidationError

    sentiment, prices = quarter_cut_short()
    dates = {k: pd.Timestamp(v).date() for k, v in window.items()}
    with pytest.raises(DataValidationError) as raised:
        run_backtest(market(sentiment, prices), StrategyParams(top_n=1, **dates))
    assert str(raised.value) == message


def test_a_window_of_the_last_price_day_still_runs() -> None:
    """The entry is the close before the start, so a start on the last price day has one
    return day: not refused."""
    sentiment, prices = quarter_cut_short()
    result = run_backtest(
        market(sentiment, prices), StrategyParams(top_n=1, start=pd.Timestamp("2022-03-25").date())
    )
    assert len(result.returns) == 1


def test_a_run_on_one_price_day_says_why_it_has_no_return() -> None:
    """Calendar edge, one price day (Monday 2022-01-03, the entry of December's signal):
    the entry is planned (194391a) but no day is held, so every metric is NaN. The run
    said nothing (before 194391a it said 'no sentiment row passes the thresholds', which
    was wrong); now one sentence names the entry and why there is no return."""
    prices = pd.DataFrame(
        {"AAA": [10.0], "BBB": [20.0], "QQQ": [300.0]},
        index=pd.DatetimeIndex([pd.Timestamp("2022-01-03")], name="date"),
    )
    rows = [
        (str(d.date()), s, c, 100)
        for d in pd.date_range("2021-12-01", "2021-12-31")
        for s, c in (("AAA", 30), ("BBB", 20))
    ]
    result = run_backtest(market(sentiment_frame(rows), prices), StrategyParams(top_n=1))
    assert len(result.returns) == 0 and math.isnan(result.metrics["total_return"])
    assert list(result.holdings["symbol"]) == ["AAA"]
    assert result.warnings == (
        "No return day: the only entry is at the close of 2022-01-03, the run's last day "
        "(no holding day in the data yet); returns and metrics need a later close.",
    )
