"""The default strategy reproduces the seed project's selections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine import StrategyParams, run_backtest, signal_table

from ._frames import market, price_frame, sentiment_frame


def _hand_sentiment() -> pd.DataFrame:
    # November 2021, per-row comments/likes ratios (rows failing the strict thresholds
    # likes > 20 and comments > 10 are marked "dropped"):
    #   AAA: 30/60 = 0.5, 60/100 = 0.6            -> mean 0.55
    #   BBB: 50/100 = 0.5                          -> 0.5
    #   CCC: 90/100 = 0.9, 11/20 dropped (likes)   -> 0.9
    #   DDD: 10/11 dropped (comments == 10)        -> not eligible
    #   EEE: 40/100 = 0.4, 20/50 = 0.4             -> 0.4
    #   FFF: 25/50 = 0.5                           -> 0.5 (tie with BBB: BBB first)
    #   GGG: 30/100 = 0.3                          -> 0.3
    # Ranking: CCC 0.9, AAA 0.55, BBB 0.5, FFF 0.5, EEE 0.4 | GGG 0.3.
    return sentiment_frame(
        [
            ("2021-11-02", "AAA", 30, 60),
            ("2021-11-03", "AAA", 60, 100),
            ("2021-11-02", "BBB", 50, 100),
            ("2021-11-02", "CCC", 90, 100),
            ("2021-11-05", "CCC", 11, 20),
            ("2021-11-02", "DDD", 10, 11),
            ("2021-11-02", "EEE", 40, 100),
            ("2021-11-09", "EEE", 20, 50),
            ("2021-11-02", "FFF", 25, 50),
            ("2021-11-02", "GGG", 30, 100),
            ("2021-12-01", "GGG", 30, 100),  # December signal, traded in January only
        ]
    )


def test_hand_fixture_top5() -> None:
    table = signal_table(_hand_sentiment())
    november = table[table["formation_start"] == pd.Timestamp("2021-11-01")]
    assert november["symbol"].tolist()[:5] == ["CCC", "AAA", "BBB", "FFF", "EEE"]
    np.testing.assert_allclose(november["signal"].tolist(), [0.9, 0.55, 0.5, 0.5, 0.4, 0.3])
    assert "DDD" not in set(table["symbol"])

    symbols = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "QQQ"]
    days = ["2021-11-30", "2021-12-01", "2021-12-31", "2022-01-03"]
    prices = price_frame(days, {s: [1.0, 1.0, 1.0, 1.0] for s in symbols})
    result = run_backtest(market(_hand_sentiment(), prices), StrategyParams())
    december = result.holdings[result.holdings["period_start"] == pd.Timestamp("2021-12-01")]
    assert december["symbol"].tolist() == ["CCC", "AAA", "BBB", "FFF", "EEE"]
    assert december["rank"].tolist() == [1, 2, 3, 4, 5]
    january = result.holdings[result.holdings["period_start"] == pd.Timestamp("2022-01-03")]
    assert january["symbol"].tolist() == ["GGG"]


def test_median_aggregation_by_hand() -> None:
    rows = [("2021-11-02", "AAA", c, 100) for c in (11, 12, 90)] + [
        ("2021-11-02", "BBB", c, 100) for c in (40, 50)
    ]
    table = signal_table(sentiment_frame(rows), StrategyParams(aggregation="median"))
    assert dict(zip(table["symbol"], table["signal"], strict=False)) == pytest.approx(
        {"AAA": 0.12, "BBB": 0.45}
    )


def _read_real(path: Path) -> pd.DataFrame:
    loader = getattr(engine, "load_sentiment_csv", None)
    if loader is not None:
        loaded = loader(path)
        return loaded[0] if isinstance(loaded, tuple) else loaded
    frame = pd.read_csv(path, parse_dates=["date"])
    return frame


def test_real_data_december_2021(shared_sentiment_path: Path) -> None:
    sentiment = _read_real(shared_sentiment_path)
    table = signal_table(sentiment)
    november = table[table["formation_start"] == pd.Timestamp("2021-11-01")]
    assert set(november["symbol"].head(5)) == {"AES", "FCX", "MNST", "OXY", "SLB"}

    # Through the backtest, on flat prices for every symbol.
    symbols = sorted(set(sentiment["symbol"]) | {"QQQ"})
    days = pd.bdate_range("2021-11-01", "2022-02-28")
    prices = pd.DataFrame(1.0, index=pd.DatetimeIndex(days, name="date"), columns=symbols)
    result = run_backtest(market(sentiment, prices), StrategyParams())
    december = result.holdings[result.holdings["period_start"] == pd.Timestamp("2021-12-01")]
    assert set(december["symbol"]) == {"AES", "FCX", "MNST", "OXY", "SLB"}
    np.testing.assert_allclose(december["weight"], 0.2)
