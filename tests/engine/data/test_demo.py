"""The embedded synthetic data set: deterministic, correctly shaped, plausible, labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine
from engine import COUNT_COLUMNS, SENTIMENT_COLUMNS, DemoProvider, ParameterError, is_ticker
from engine.data.demo import MAX_SYMBOLS, SECTORS, demo_frames, demo_symbols

REAL_TICKERS = {"AAPL", "MSFT", "AMZN", "GOOG", "TSLA", "META", "NVDA", "AMD", "ABT", "SPY"}


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return demo_frames()


def test_same_seed_gives_identical_frames_and_fingerprint() -> None:
    first = engine.load_market_data(DemoProvider(seed=11, n_symbols=30, years=3))
    from engine.data.demo import _cached_frames

    _cached_frames.cache_clear()  # regenerate from scratch, not from the cache
    second = engine.load_market_data(DemoProvider(seed=11, n_symbols=30, years=3))
    pd.testing.assert_frame_equal(first.sentiment, second.sentiment)
    pd.testing.assert_frame_equal(first.prices, second.prices)
    assert first.fingerprint == second.fingerprint and len(first.fingerprint) == 16


def test_different_seed_gives_different_data() -> None:
    one = engine.load_market_data(DemoProvider(seed=1, n_symbols=30, years=3))
    two = engine.load_market_data(DemoProvider(seed=2, n_symbols=30, years=3))
    assert one.fingerprint != two.fingerprint
    assert not np.allclose(one.prices["QQQ"].to_numpy(), two.prices["QQQ"].to_numpy())


def test_cached_frames_cannot_be_corrupted_by_callers() -> None:
    sentiment, prices = demo_frames(seed=3, n_symbols=10, years=2)
    prices.iloc[:, 0] = -1.0
    sentiment["twitterLikes"] = -1.0
    again_sentiment, again_prices = demo_frames(seed=3, n_symbols=10, years=2)
    assert (again_prices.iloc[:, 0].dropna() > 0).all()
    assert (again_sentiment["twitterLikes"] >= 0).all()


def test_sentiment_has_the_documented_shape(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sentiment, _ = frames
    assert tuple(sentiment.columns) == SENTIMENT_COLUMNS
    assert sentiment["date"].dtype == "datetime64[ns]"
    assert all(sentiment[c].dtype == "float64" for c in COUNT_COLUMNS)
    assert not sentiment.duplicated(["date", "symbol"]).any()
    assert sentiment.equals(sentiment.sort_values(["date", "symbol"]).reset_index(drop=True))
    assert isinstance(sentiment.index, pd.RangeIndex)
    assert (sentiment["date"] == sentiment["date"].dt.normalize()).all()
    assert all(is_ticker(s) for s in sentiment["symbol"].unique())


def test_prices_have_the_documented_shape(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, prices = frames
    assert isinstance(prices.index, pd.DatetimeIndex) and prices.index.name == "date"
    assert prices.index.dtype == "datetime64[ns]"
    assert prices.index.is_monotonic_increasing and prices.index.is_unique
    assert list(prices.columns) == sorted(prices.columns)
    assert (prices.dtypes == "float64").all()
    assert "QQQ" in prices.columns and prices["QQQ"].notna().all()
    assert prices.shape == (5 * 252, 101)
    assert (prices.stack().dropna() > 0).all()
    assert (prices.index.day_of_week < 5).all()  # business days only


def test_symbols_are_made_up_tickers_in_ten_sectors() -> None:
    symbols = demo_symbols(MAX_SYMBOLS)
    assert len(set(symbols)) == MAX_SYMBOLS
    assert all(is_ticker(s) for s in symbols)
    assert not set(symbols) & (REAL_TICKERS | {"QQQ"})
    sectors = DemoProvider().sectors
    assert set(sectors.values()) == set(SECTORS) and len(SECTORS) == 10


def test_annual_volatilities_are_in_a_realistic_range(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, prices = frames
    vols = np.log(prices).diff().std() * np.sqrt(252)
    stocks = vols.drop("QQQ")
    assert stocks.min() > 0.12 and stocks.max() < 0.65
    assert 0.12 < vols["QQQ"] < 0.30


def test_some_symbols_list_late_or_delist(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, prices = frames
    late = prices.iloc[0].isna().sum()
    delisted = prices.iloc[-1].isna().sum()
    assert late >= 1 and delisted >= 1
    assert late + delisted < 15


def test_sentiment_is_realistic(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sentiment, prices = frames
    nan_share = sentiment["twitterSentiment"].isna().mean()
    assert 0.12 < nan_share < 0.18
    span = (sentiment["date"].max() - sentiment["date"].min()).days
    assert 700 <= span <= 740
    assert sentiment["date"].max() == prices.index.max()
    per_day = sentiment.groupby("date").size()
    assert per_day.max() < 100 and per_day.mean() < 90  # some symbols missing on some days
    likes = sentiment["twitterLikes"]
    assert likes.quantile(0.99) > 20 * likes.median()  # heavy tail
    assert (sentiment[list(COUNT_COLUMNS[:4])] >= 0).all().all()
    scores = sentiment["twitterSentiment"].dropna()
    assert scores.between(0, 1).all() and 0.45 < scores.mean() < 0.65


def test_engagement_counts_move_together(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sentiment, _ = frames
    logs = np.log1p(sentiment[["twitterPosts", "twitterLikes", "twitterImpressions"]])
    assert logs.corr().min().min() > 0.3


def test_info_is_labelled_synthetic() -> None:
    info = DemoProvider().info
    assert info.kind == "demo" and info.synthetic is True
    assert info.label == "Demo data (SYNTHETIC, seed 7)"
    assert DemoProvider(seed=9).info.label == "Demo data (SYNTHETIC, seed 9)"


def test_benchmark_scale_works() -> None:
    sentiment, prices = demo_frames(n_symbols=500, years=10)
    assert prices.shape == (2520, 501)
    assert sentiment["symbol"].nunique() > 450


def test_prices_requests_report_unknown_symbols() -> None:
    frame, report = DemoProvider(n_symbols=10).prices(["QQQ", "NOPE"], None, None)
    assert list(frame.columns) == ["QQQ"]
    assert report.failed_tickers == ("NOPE",)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": -1},
        {"n_symbols": 0},
        {"n_symbols": MAX_SYMBOLS + 1},
        {"years": 0},
        {"end": "not a date"},
        {"seed": 1.5},
    ],
)
def test_bad_arguments_raise_parameter_error(kwargs: dict) -> None:
    with pytest.raises(ParameterError):
        DemoProvider(**kwargs)


def test_short_sample_has_no_sentiment_before_the_first_price() -> None:
    sentiment, prices = demo_frames(seed=4, n_symbols=10, years=1)
    assert sentiment["date"].min() >= prices.index.min()
