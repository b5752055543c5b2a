"""weekend-period-end / causality, a held-back variant: a symbol whose sentiment starts
first but whose first close comes after a day D. Its sentiment start alone put it in every
date's universe, so the sessions before the other symbols' sentiment began were dropped
as "not a trading day" (nobody priced them in that universe); cut after D the file holds no
close of it, it is a failed ticker, and the sessions were kept as the others' lookback. The
inverse-volatility weights bought at the 2022-01-14 close were 0.819967 / 0.180033 with
the full files and 0.856320 / 0.143680 cut; the second is right (1 / std of the 5 daily
returns to 01-13 over every session, by hand below)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine import FileProvider, StrategyParams, load_market_data, run_backtest

CLOSES = [  # date, AAA, BBB, ZZZ, QQQ
    ("2021-12-27", 100, 100, None, 300), ("2021-12-28", 101, 98, None, 301), ("2021-12-29", 100, 101, None, 302),
    ("2021-12-30", 102, 97, None, 303), ("2021-12-31", 101, 102, None, 304), ("2022-01-03", 103, 96, None, 305),
    ("2022-01-04", 101, 103, None, 306), ("2022-01-05", 104, 95, None, 307), ("2022-01-06", 102, 104, None, 308),
    ("2022-01-07", 105, 94, None, 309), ("2022-01-10", 104, 105, None, 310), ("2022-01-11", 106, 95, None, 311),
    ("2022-01-12", 105, 104, None, 312), ("2022-01-13", 107, 96, None, 313), ("2022-01-14", 106, 103, None, 314),
    ("2022-01-18", 108, 99, None, 315), ("2022-01-19", 107, 100, None, 316), ("2022-01-20", 109, 98, None, 317),
    ("2022-01-21", 110, 101, None, 318), ("2022-01-24", 111, 102, 20, 319), ("2022-01-25", 112, 103, 21, 320),
]  # fmt: skip
ROWS = [
    ("2022-01-03", "ZZZ", 30),
    ("2022-01-10", "AAA", 60),
    ("2022-01-10", "BBB", 50),
    ("2022-01-24", "AAA", 60),
]
CUT = "2022-01-21"


def _data(cut: str | None) -> object:
    closes = [c for c in CLOSES if cut is None or c[0] <= cut]
    rows = [r for r in ROWS if cut is None or r[0] <= cut]
    prices = "date,AAA,BBB,ZZZ,QQQ\n" + "".join(
        f"{d},{a},{b},{'' if z is None else z},{q}\n" for d, a, b, z, q in closes
    )
    sentiment = (
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        + "".join(f"{d},{s},100,{c},200,10000,\n" for d, s, c in rows)
    )
    return load_market_data(
        FileProvider(
            sentiment=sentiment.encode(), prices=prices.encode(), sentiment_name="s", prices_name="p"
        )
    )


def test_a_symbol_listing_after_the_cut_day_does_not_decide_the_sessions_before_it() -> None:
    full, cut = _data(None), _data(CUT)
    assert list(full.prices.loc[:CUT].index) == list(cut.prices.index)  # 01-03 .. 01-07 kept in both
    assert pd.Timestamp("2022-01-05") in cut.prices.index


def test_the_weights_bought_before_the_listing_are_the_cut_files_ones() -> None:
    params = StrategyParams(rebalance="weekly", top_n=2, weighting="inverse_volatility", lookback_days=5)
    full, cut = run_backtest(_data(None), params), run_backtest(_data(CUT), params)
    aaa, bbb = (np.array([c[1] for c in CLOSES], float), np.array([c[2] for c in CLOSES], float))
    at = [c[0] for c in CLOSES].index("2022-01-14")
    closes = slice(at - 6, at)  # 01-06 .. 01-13: the 5 daily returns 01-07, 01-10 .. 01-13
    inverse = [1.0 / np.std(np.diff(x[closes]) / x[closes][:-1], ddof=1) for x in (aaa, bbb)]
    by_hand = np.array(inverse) / sum(inverse)  # 0.856320 / 0.143680, every session kept
    for result in (full, cut):
        held = result.holdings[result.holdings["period_start"] == pd.Timestamp("2022-01-18")]
        np.testing.assert_allclose(
            held.set_index("symbol")["weight"].loc[["AAA", "BBB"]], by_hand, rtol=1e-12
        )
    np.testing.assert_array_equal(
        full.returns.loc[:CUT, "portfolio"].to_numpy(), cut.returns.loc[:CUT, "portfolio"].to_numpy()
    )


def test_the_calendar_up_to_any_day_is_the_cut_files_calendar() -> None:
    full = _data(None)
    for cut_day in [c[0] for c in CLOSES[5:-1]]:
        assert list(full.prices.loc[:cut_day].index) == list(_data(cut_day).prices.index), cut_day
