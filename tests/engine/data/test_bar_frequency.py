"""Weekly or monthly price bars are refused (breaker report F2): read as daily closes, the
metrics annualised over 252 "days" (six monthly bars of +2%: CAGR 14,597% where the right
value is 26.8%). The rule: ``engine.data.validation.refuse_sparse_bars``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import DataValidationError, FileProvider, StrategyParams, load_market_data, run_backtest

SENTIMENT_COLUMNS = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"
)


def sentiment(first: str, last: str) -> bytes:
    rows = [
        f"{d:%Y-%m-%d},{s},100,{c},200,10000,"
        for d in pd.date_range(first, last)
        for s, c in (("AAA", 60), ("BBB", 30))
    ]
    return ("\n".join((SENTIMENT_COLUMNS, *rows)) + "\n").encode()


def bars(days: pd.DatetimeIndex) -> bytes:
    k = np.arange(len(days))
    frame = pd.DataFrame(
        {"AAA": 100 * 1.02**k, "BBB": 100 * 1.01**k, "QQQ": 300 * 1.01**k},
        index=days.rename("Date"),
    ).round(4)
    return frame.to_csv().encode()


def test_monthly_bars_are_refused_in_one_sentence() -> None:
    """yf.download(interval="1mo"): bars dated the 1st of each month."""
    prices = bars(pd.date_range("2021-01-01", "2022-12-01", freq="MS"))
    provider = FileProvider(
        sentiment=sentiment("2022-01-01", "2022-06-30"), prices=prices, prices_name="p.csv"
    )
    with pytest.raises(DataValidationError) as info:
        load_market_data(provider)
    assert str(info.value) == (
        "p.csv has one price day every 31 days (the median gap between its dates): weekly or monthly "
        "bars, not daily closes; the backtest needs daily closes (yfinance: interval='1d')"
    )


def test_weekly_bars_are_refused() -> None:
    prices = bars(pd.date_range("2021-06-07", "2022-12-26", freq="W-MON"))
    provider = FileProvider(
        sentiment=sentiment("2022-01-01", "2022-06-30"), prices=prices, prices_name="p.csv"
    )
    with pytest.raises(DataValidationError, match=r"one price day every 7 days .*weekly or monthly bars"):
        load_market_data(provider)


def test_short_daily_file_and_a_long_halt_are_accepted() -> None:
    """Three business days (a weekend among them), and daily closes with a 3-month halt in
    the middle: the median gap is 1 or 3 days, both daily."""
    short = bars(pd.DatetimeIndex(["2022-01-06", "2022-01-07", "2022-01-10"]))
    data = load_market_data(FileProvider(sentiment=sentiment("2022-01-03", "2022-01-07"), prices=short))
    assert len(data.prices) == 3
    days = pd.bdate_range("2021-10-01", "2022-08-31")
    halted = days[(days < "2022-02-01") | (days > "2022-05-01")]
    data = load_market_data(
        FileProvider(sentiment=sentiment("2022-01-01", "2022-06-30"), prices=bars(halted))
    )
    result = run_backtest(data, StrategyParams(top_n=1))
    assert len(result.returns) > 0


def test_two_price_days_a_week_apart_are_not_judged() -> None:
    """Two dates say nothing of a frequency (one gap): accepted."""
    two = bars(pd.DatetimeIndex(["2022-01-03", "2022-01-10"]))
    data = load_market_data(FileProvider(sentiment=sentiment("2022-01-03", "2022-01-07"), prices=two))
    assert len(data.prices) == 2


def test_weekly_bars_after_years_of_daily_history_are_refused() -> None:
    """Three years of daily closes, then weekly bars over the sentiment's months: the
    whole window's median gap is a day, but the evaluated days are weekly (CAGR 65.5% where
    10.96% is right; breaker pass 2, G4). Judged over the sentiment's span too: refused."""
    days = pd.bdate_range("2019-01-01", "2021-12-31").append(
        pd.date_range("2022-01-07", "2022-12-30", freq="W-FRI")
    )
    provider = FileProvider(
        sentiment=sentiment("2022-01-01", "2022-06-30"), prices=bars(days), prices_name="p.csv"
    )
    with pytest.raises(DataValidationError, match=r"one price day every 7 days .*weekly or monthly bars"):
        load_market_data(provider)
