"""Small hand-made MarketData for the engine's unit tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from engine import SENTIMENT_COLUMNS, MarketData, SourceInfo

SOURCE = SourceInfo(kind="demo", label="hand-made test data", synthetic=True)


def sentiment_frame(rows: Sequence[tuple[str, str, float, float]]) -> pd.DataFrame:
    """Rows of (date, symbol, comments, likes); the other counts are filler."""
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime([r[0] for r in rows]).astype("datetime64[ns]"),
            "symbol": [r[1] for r in rows],
            "twitterPosts": 1.0,
            "twitterComments": [float(r[2]) for r in rows],
            "twitterLikes": [float(r[3]) for r in rows],
            "twitterImpressions": 1000.0,
            "twitterSentiment": 0.5,
        }
    )
    frame = frame.sort_values(["date", "symbol"]).reset_index(drop=True)
    return frame[list(SENTIMENT_COLUMNS)]


def price_frame(days: Sequence[str], columns: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(list(days)).astype("datetime64[ns]"), name="date")
    frame = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in sorted(columns.items())}, index=index)
    return frame


def market(sentiment: pd.DataFrame, prices: pd.DataFrame) -> MarketData:
    return MarketData.build(sentiment=sentiment, prices=prices, source=SOURCE)


def random_market(
    seed: int = 0, n_symbols: int = 30, start: str = "2020-01-01", end: str = "2021-12-31"
) -> MarketData:
    """Seeded random prices (with late listings and a delisting) and daily sentiment."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, end)
    symbols = [f"S{i:03d}" for i in range(n_symbols)]
    growth = 1.0 + rng.normal(0.0003, 0.015, (len(days), n_symbols + 1))
    prices = 50.0 * np.cumprod(growth, axis=0)
    prices[:60, 3] = np.nan  # listed late
    prices[-100:, 5] = np.nan  # delisted
    price_df = pd.DataFrame(prices, index=pd.DatetimeIndex(days, name="date"), columns=[*symbols, "QQQ"])
    calendar = pd.date_range(start, end)
    n = len(calendar) * n_symbols
    sentiment = pd.DataFrame(
        {
            "date": np.repeat(calendar.values, n_symbols).astype("datetime64[ns]"),
            "symbol": np.tile(symbols, len(calendar)),
            "twitterPosts": rng.integers(1, 40, n).astype(float),
            "twitterComments": rng.integers(0, 300, n).astype(float),
            "twitterLikes": rng.integers(0, 3000, n).astype(float),
            "twitterImpressions": rng.integers(100, 100000, n).astype(float),
            "twitterSentiment": rng.normal(0.0, 1.0, n),
        }
    )
    return MarketData.build(sentiment=sentiment, prices=price_df[sorted(price_df.columns)], source=SOURCE)
