"""Price-quality warnings (engine.data.quality): missing sessions, frozen closes and
split-like moves of a validated close matrix are said in one sentence each (grouped when
many), never silent and never a refusal; clean data, the demo data included, says nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import DemoProvider, FileProvider, load_market_data, price_quality_warnings
from engine.data.calendar import non_sessions
from engine.data.quality import (
    BACKTEST_GAP_EFFECT,
    MIN_FROZEN_SESSIONS,
    MIN_SPLIT_MOVE,
    SPLIT_RATIO_TOLERANCE,
)

# NYSE holidays of June-July 2022 (Juneteenth observed, Independence Day): no sessions.
HOLIDAYS = ("2022-06-20", "2022-07-04")


def sessions(start: str = "2022-06-01", end: str = "2022-07-29") -> pd.DatetimeIndex:
    days = pd.bdate_range(start, end, name="date")
    return days[~days.isin(pd.DatetimeIndex(HOLIDAYS))]


def clean(days: pd.DatetimeIndex, symbols: tuple[str, ...] = ("AAA", "BBB", "QQQ")) -> pd.DataFrame:
    """Closes that rise 0.1% to 0.3% a day: no gap, no repeat, no large move."""
    t = np.arange(len(days))[:, None]
    growth = 1.001 + 0.001 * np.arange(len(symbols))
    return pd.DataFrame(100.0 * growth**t, index=days, columns=list(symbols))


def test_clean_closes_give_no_warning() -> None:
    assert price_quality_warnings(clean(sessions())) == ()


# ----- missing sessions ------------------------------------------------------------------


def test_a_symbol_without_closes_inside_its_span_is_named_with_the_sessions() -> None:
    """Right value: AAA has no close on 2022-06-08 and 06-09 while BBB and QQQ do: one
    sentence with the count, the dates and what the backtest does with the gap."""
    prices = clean(sessions())
    prices.loc[pd.DatetimeIndex(["2022-06-08", "2022-06-09"]), "AAA"] = np.nan
    assert price_quality_warnings(prices) == (
        "prices: AAA has no close on 2 NYSE sessions between its first and its last close "
        f"(e.g. 2022-06-08, 2022-06-09); {BACKTEST_GAP_EFFECT}",
    )
    assert "carries the last close forward" in BACKTEST_GAP_EFFECT
    assert "skips the symbol at an entry without a close" in BACKTEST_GAP_EFFECT


def test_a_late_listing_and_a_delisting_are_no_gap() -> None:
    prices = clean(sessions())
    prices.loc[:"2022-06-15", "AAA"] = np.nan  # lists on 2022-06-16
    prices.loc["2022-07-20":, "BBB"] = np.nan  # delists after 2022-07-19
    assert price_quality_warnings(prices) == ()


def test_a_holiday_row_without_a_close_is_no_missing_session() -> None:
    """2022-07-04 is no NYSE session: a row for it (a London listing LLL priced there) in
    which AAA and QQQ have no close is no gap, and a matrix without that date misses no
    session."""
    days = sessions().union(pd.DatetimeIndex(["2022-07-04"]))
    prices = clean(days, ("AAA", "LLL", "QQQ"))
    prices.loc["2022-07-04", ["AAA", "QQQ"]] = np.nan
    assert price_quality_warnings(prices) == ()
    assert price_quality_warnings(clean(sessions())) == ()  # 07-04 absent: not a session


def test_many_symbols_with_gaps_are_one_sentence_with_a_count() -> None:
    symbols = (*(f"S{i}" for i in range(6)), "QQQ")
    prices = clean(sessions(), symbols)
    gaps = {"S0": 1, "S1": 4, "S2": 2, "S3": 1, "S4": 3}
    for symbol, n in gaps.items():
        prices.loc[prices.index[5 : 5 + n], symbol] = np.nan
    (sentence,) = price_quality_warnings(prices)
    assert sentence == (
        "prices: 5 symbols have no close on some NYSE sessions between their first and their last close, "
        "11 sessions in all: S1 on 4 (e.g. 2022-06-08, 2022-06-09, 2022-06-10), "
        "S4 on 3 (e.g. 2022-06-08, 2022-06-09, 2022-06-10), S2 on 2 (e.g. 2022-06-08, 2022-06-09) and 2 more; "
        f"{BACKTEST_GAP_EFFECT}"
    )


def test_a_session_missing_from_every_symbol_is_said_once() -> None:
    """The file has no row for the session 2022-06-08: no symbol has a close there."""
    days = sessions()
    prices = clean(days[days != pd.Timestamp("2022-06-08")])
    assert price_quality_warnings(prices) == (
        "prices: the price data has no row on 1 NYSE session between its first and its last date "
        "(e.g. 2022-06-08): those days are not seen, and every return across them runs from the close "
        "before to the close after",
    )


# ----- frozen closes ---------------------------------------------------------------------


def test_five_equal_closes_in_a_row_are_frozen() -> None:
    """Right value: BBB closes at exactly 120.5 from 2022-06-13 to 2022-06-17, 5 sessions."""
    prices = clean(sessions())
    prices.loc["2022-06-13":"2022-06-17", "BBB"] = 120.5
    assert price_quality_warnings(prices) == (
        "prices: BBB closes at exactly 120.5 on 5 consecutive sessions, 2022-06-13 to 2022-06-17 "
        "(a halted or delisted stock, or a stale feed?); the backtest takes them as real closes "
        "(0% returns) and trades at them",
    )


def test_four_equal_closes_are_not_frozen() -> None:
    prices = clean(sessions())
    prices.loc["2022-06-13":"2022-06-16", "BBB"] = 120.5
    assert MIN_FROZEN_SESSIONS == 5
    assert price_quality_warnings(prices) == ()


def test_a_holiday_row_does_not_extend_a_frozen_run() -> None:
    """Four sessions at 120.5 around the 2022-07-04 holiday, whose row repeats the close too
    (filled forward beside a London listing): 4 sessions, not 5."""
    days = sessions().union(pd.DatetimeIndex(["2022-07-04"]))
    prices = clean(days, ("AAA", "LLL", "QQQ"))
    prices.loc["2022-06-30":"2022-07-06", "AAA"] = 120.5  # Jun 30, Jul 1, (Jul 4), Jul 5, Jul 6
    assert price_quality_warnings(prices) == ()


def test_a_frozen_run_skips_the_cells_without_a_close() -> None:
    """The same close on the sessions where the symbol has one: a gap inside does not break
    it (the gap is said too)."""
    prices = clean(sessions())
    prices.loc["2022-06-13":"2022-06-21", "BBB"] = 120.5
    prices.loc["2022-06-15", "BBB"] = np.nan
    found = price_quality_warnings(prices)
    assert found[1].startswith(
        "prices: BBB closes at exactly 120.5 on 5 consecutive sessions, 2022-06-13 to 2022-06-21"
    )
    assert found[0].startswith("prices: BBB has no close on 1 NYSE session")


def test_many_frozen_runs_are_one_sentence() -> None:
    symbols = ("AAA", "BBB", "CCC", "DDD", "QQQ")
    prices = clean(sessions(), symbols)
    for symbol in symbols[:4]:
        prices.loc["2022-07-11":"2022-07-15", symbol] = prices.loc["2022-07-11", symbol]
    (sentence,) = price_quality_warnings(prices)
    assert sentence.startswith(
        "prices: 4 runs of 5 or more consecutive sessions with exactly the same close, in 4 symbol(s): "
        "AAA 2022-07-11 to 2022-07-15 (5), BBB 2022-07-11 to 2022-07-15 (5), "
        "CCC 2022-07-11 to 2022-07-15 (5) and 1 more"
    )


# ----- split-like moves ------------------------------------------------------------------


def test_a_halving_close_is_the_size_of_a_two_for_one_split() -> None:
    prices = clean(sessions())
    prices.loc["2022-06-06":, "AAA"] /= 2.002  # from its 0.1% rise to a close of half the previous
    assert price_quality_warnings(prices) == (
        "prices: AAA moved -50.0% on 2022-06-06, the size of a 2-for-1 split: if these closes are not "
        "adjusted for splits, every return across that day is wrong; use adjusted closes (Adj Close)",
    )


def test_reverse_and_three_for_two_splits_are_named() -> None:
    prices = clean(sessions())
    prices.loc["2022-06-06":, "AAA"] *= 10.0
    prices.loc["2022-07-06":, "BBB"] *= 2.0 / 3.0
    found = price_quality_warnings(prices)
    assert [s.split(":")[1].strip() for s in found] == [
        "AAA moved +901.0% on 2022-06-06, the size of a 1-for-10 reverse split",
        "BBB moved -33.2% on 2022-07-06, the size of a 3-for-2 split",
    ]


def test_a_move_within_five_percent_of_a_split_ratio_is_split_like() -> None:
    """The ratio within 5% (relative) of 1/2 counts, 5.5% off does not (a -47.3% crash);
    within 1% of 2/3 counts, 1.5% off does not (a -32.3% crash)."""
    for ratio, expected in ((0.5 * 1.045, 1), (0.5 * 1.055, 0), (2 / 3 * 1.009, 1), (2 / 3 * 1.015, 0)):
        prices = clean(sessions())
        prices.loc["2022-06-06":, "AAA"] *= ratio / 1.001  # AAA's own daily rise is 0.1%
        assert len(price_quality_warnings(prices)) == expected, ratio
    assert SPLIT_RATIO_TOLERANCE == 0.05


@pytest.mark.parametrize(
    ("factor", "day_move", "expected"),
    [
        (1 / 4, 1.034, "AAA moved -74.1% on 2022-06-06, the size of a 4-for-1 split"),  # AAPL 2020, +3.4% day
        (10.0, 1.026, "AAA moved +926.0% on 2022-06-06, the size of a 1-for-10 reverse split"),
        (1 / 20, 0.98, "AAA moved -95.1% on 2022-06-06, the size of a 20-for-1 split"),  # GOOGL 2022
        (1 / 7, 1.01, "AAA moved -85.6% on 2022-06-06, the size of a 7-for-1 split"),  # AAPL 2014
    ],
)
def test_a_split_on_a_day_the_stock_also_moved_is_said(factor: float, day_move: float, expected: str) -> None:
    """Breaker pass 14, F3: at 1% tolerance a split was said only on a day the stock moved
    less than 1%, and 20-for-1 was not checked at all."""
    prices = clean(sessions())
    prices.loc["2022-06-06":, "AAA"] *= factor * day_move / 1.001  # AAA's own daily rise is 0.1%
    (sentence,) = price_quality_warnings(prices)
    assert sentence.startswith(f"prices: {expected}:"), sentence


def test_an_eight_for_one_split_reads_as_english() -> None:
    prices = clean(sessions())
    prices.loc["2022-06-06":, "AAA"] /= 8.008
    assert price_quality_warnings(prices)[0].startswith(
        "prices: AAA moved -87.5% on 2022-06-06, the size of an 8-for-1 split:"
    )


def test_a_29_percent_move_is_not_split_like() -> None:
    prices = clean(sessions())
    prices.loc["2022-06-06":, "AAA"] *= 0.71
    assert MIN_SPLIT_MOVE == 0.30
    assert price_quality_warnings(prices) == ()


def test_many_split_like_moves_are_one_sentence() -> None:
    symbols = ("AAA", "BBB", "CCC", "DDD", "QQQ")
    prices = clean(sessions(), symbols)
    for i, symbol in enumerate(symbols[:4]):
        prices.loc[prices.index[10 + i] :, symbol] /= 3.0
    (sentence,) = price_quality_warnings(prices)
    assert sentence.startswith(
        "prices: 4 one-day moves the size of a split or reverse split, in 4 symbol(s): AAA "
    )
    assert sentence.endswith(
        "and 1 more: if these closes are not adjusted for splits, every return across those days is wrong; "
        "use adjusted closes (Adj Close)"
    )


def test_a_three_day_x100_glitch_is_said_on_both_of_its_days() -> None:
    """Breaker pass 15, F1: three closes of AAA quoted x100 (pence for pounds, a bad tick)
    gave a -99.02% max drawdown, 24,807% volatility and a beta of 165 without a word. The
    closes are the breaker's: 100 x 76.8943 / 75.2027 - 1 = +10,124.9% on 03-10, and
    76.4063 / (100 x 78.0455) - 1 = -99.0% on 03-15."""
    days = pd.DatetimeIndex(
        ["2022-03-09", "2022-03-10", "2022-03-11", "2022-03-14", "2022-03-15"], name="date"
    )
    prices = pd.DataFrame(
        {"AAA": [75.2027, 7689.43, 7750.0, 7804.55, 76.4063], "QQQ": [330.0, 331.0, 332.0, 333.0, 334.0]},
        index=days,
    )
    assert [s.split(":")[1].strip() for s in price_quality_warnings(prices)] == [
        "AAA moved +10,124.9% on 2022-03-10, the size of a 1-for-100 reverse split or of a switch of "
        "price units (pounds to pence, dollars to cents)",
        "AAA moved -99.0% on 2022-03-15, the size of a 100-for-1 split or of a switch of price units "
        "(pence to pounds, cents to dollars)",
    ]


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (25.0, "AAA moved +2,400.0% on 2022-06-06, the size of a 1-for-25 reverse split:"),
        (50.0, "AAA moved +4,900.0% on 2022-06-06, the size of a 1-for-50 reverse split:"),
        (
            30.0,
            "AAA moved +2,900.0% on 2022-06-06, a 20-fold change or more in one session (up, or down to a 20th)",
        ),
        (
            1 / 40,
            "AAA moved -97.5% on 2022-06-06, a 20-fold change or more in one session (up, or down to a 20th)",
        ),
    ],
)
def test_moves_beyond_twenty_fold_are_said_split_sized_or_not(factor: float, expected: str) -> None:
    """Breaker pass 15, F1: x25, x50 and x100 (common reverse splits of penny stocks, unit
    switches) and any 20-fold change of no split's size were never said; x6 and x12 stay
    unsaid (real small-cap moves)."""
    prices = clean(sessions())
    prices.loc["2022-06-06":, "AAA"] *= factor / 1.001  # AAA's own daily rise is 0.1%
    (sentence,) = price_quality_warnings(prices)
    assert sentence.startswith(f"prices: {expected}"), sentence
    for real_move in (6.0, 12.0):
        prices = clean(sessions())
        prices.loc["2022-06-06":, "AAA"] *= real_move
        assert price_quality_warnings(prices) == ()


def test_many_extreme_moves_are_one_sentence() -> None:
    symbols = ("AAA", "BBB", "CCC", "DDD", "QQQ")
    prices = clean(sessions(), symbols)
    for i, symbol in enumerate(symbols[:4]):
        prices.loc[prices.index[10 + i] :, symbol] *= 40.0
    (sentence,) = price_quality_warnings(prices)
    assert sentence.startswith(
        "prices: 4 one-day changes of 20-fold or more (up, or down to a 20th) and of no split's size, "
        "in 4 symbol(s): AAA "
    )
    assert sentence.endswith(
        "and 1 more: bad ticks, switches of price units or unadjusted splits? If a "
        "close is wrong, every return across that day is wrong and so is every metric; check these closes"
    )


# ----- properties and wiring -------------------------------------------------------------


@st.composite
def clean_matrices(draw: st.DrawFn) -> pd.DataFrame:
    """NYSE sessions, closes without a gap inside a symbol's span (a late listing or an
    early delisting allowed), never equal twice in a row, moves under 30%."""
    start = dt.date(2001, 1, 2) + dt.timedelta(days=draw(st.integers(0, 8000)))
    days = pd.bdate_range(start, periods=draw(st.integers(2, 80)), name="date")
    days = days[~non_sessions(days)]
    n_symbols = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.0005, 0.29, (len(days), n_symbols)) * rng.choice([-1.0, 1.0], (len(days), n_symbols))
    closes = 50.0 * np.cumprod(1.0 + size, axis=0)
    for j in range(n_symbols):
        first = draw(st.integers(0, max(0, len(days) - 1)))
        last = draw(st.integers(first, max(first, len(days) - 1)))
        closes[:first, j] = np.nan
        closes[last + 1 :, j] = np.nan
    return pd.DataFrame(closes, index=days, columns=[f"S{j}" for j in range(n_symbols)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prices=clean_matrices())
def test_no_gap_no_repeat_no_large_move_gives_no_warning(prices: pd.DataFrame) -> None:
    assert price_quality_warnings(prices) == ()


def test_the_check_reads_only_the_frame() -> None:
    """A report of the data: the frame is not changed, the same frame gives the same
    sentences, and a copy of it (another object) too."""
    prices = clean(sessions())
    prices.loc["2022-06-06":, "AAA"] /= 2.0
    prices.loc["2022-06-08", "BBB"] = np.nan
    before = prices.copy()
    first = price_quality_warnings(prices)
    pd.testing.assert_frame_equal(prices, before)
    assert len(first) == 2
    assert price_quality_warnings(prices) == first == price_quality_warnings(before.copy())


def test_the_demo_data_gives_no_quality_warning() -> None:
    """The synthetic data (pinned bit-for-bit) has no gap, no frozen close and no split-like
    move: neither in its prices nor in the loaded data's report."""
    data = load_market_data(DemoProvider())
    assert price_quality_warnings(data.prices) == ()
    assert not [w for w in data.report.warnings if w.startswith("prices: ")]


def test_load_market_data_reports_the_warnings(tmp_path: Path) -> None:
    """A price file whose AAA halves on 2022-06-06 (unadjusted closes): the loaded data's
    report says so, the closes are unchanged."""
    prices = clean(sessions("2022-01-03", "2022-07-29"))
    prices.loc["2022-06-06":, "AAA"] /= 2.0
    prices.to_csv(tmp_path / "prices.csv", date_format="%Y-%m-%d")
    header = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    rows = "".join(f"2022-0{m}-10,{s},5,5,5,100,0.1\n" for m in (3, 4, 5, 6) for s in ("AAA", "BBB"))
    (tmp_path / "sentiment.csv").write_text(header + rows)
    data = load_market_data(
        FileProvider(sentiment=tmp_path / "sentiment.csv", prices=tmp_path / "prices.csv")
    )
    assert "prices: AAA moved -50.0% on 2022-06-06, the size of a 2-for-1 split" in " ".join(
        data.report.warnings
    )
    assert data.prices.loc["2022-06-06", "AAA"] == prices.loc["2022-06-06", "AAA"]
    # Every results page and --out record repeats it: it changes the numbers of any run.
    assert data.report.price_quality and data.report.price_quality[0] in data.report.notes()
    assert data.report.price_quality[0] in data.report.record()["notes"]
    assert data.report.merge(data.report).price_quality == data.report.price_quality * 2


def test_a_holiday_row_with_another_close_breaks_a_frozen_run() -> None:
    """Three sessions at 120.5, the 2022-07-04 row at 121.0 (the symbol traded there, a
    London listing), three more at 120.5: two runs of 3, not one of 6."""
    days = sessions().union(pd.DatetimeIndex(["2022-07-04"]))
    prices = clean(days, ("AAA", "LLL", "QQQ"))
    prices.loc["2022-06-29":"2022-07-07", "AAA"] = 120.5
    prices.loc["2022-07-04", "AAA"] = 121.0
    assert price_quality_warnings(prices) == ()
    prices.loc["2022-07-04", "AAA"] = 120.5  # the same close: 6 sessions, the holiday not counted
    assert price_quality_warnings(prices)[0].startswith(
        "prices: AAA closes at exactly 120.5 on 6 consecutive sessions, 2022-06-29 to 2022-07-07"
    )
