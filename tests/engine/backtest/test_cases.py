"""The field cases of issue 9, each with its inputs copied here and its right value.

Cases (../shared/cases): weekend-period-end, last-close-on-entry-day,
constant-return-series, drawdown-dates. The inputs are rebuilt with the cases'
own generators (same rows), not read from ../shared.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine import StrategyParams, analyze_stocks, compute_metrics, run_backtest
from engine.analytics.metrics import drawdown_info
from tests.engine._frames import market, sentiment_frame

# ----- weekend-period-end ------------------------------------------------------------------


def _weekend_market(with_saturday: bool):
    """AAA and BBB identical every day of April 2022 except Saturday 04-30 (BBB 40 -> 190
    comments); prices: business days Jan-Jun 2022, AAA 1.001^t, BBB 1.002^t, QQQ."""
    rows = []
    for d in pd.date_range("2022-04-01", "2022-04-30"):
        day = d.strftime("%Y-%m-%d")
        if day == "2022-04-30" and not with_saturday:
            continue
        rows += [(day, "AAA", 40, 200), (day, "BBB", 190 if day == "2022-04-30" else 40, 200)]
    days = pd.bdate_range("2022-01-03", "2022-06-30")
    t = np.arange(len(days))
    prices = pd.DataFrame(
        {"AAA": 100 * 1.001**t, "BBB": 100 * 1.002**t, "QQQ": 300 * 1.0005**t},
        index=pd.DatetimeIndex(days, name="date"),
    ).round(6)
    return market(sentiment_frame(rows), prices)


@pytest.mark.parametrize("lag_days", [0, 1])
def test_weekend_period_end_entry_is_on_or_after_the_formation_end(lag_days: int) -> None:
    # Right value: April ends on Saturday 04-30, so the entry is the close of Monday
    # 2022-05-02 (the first trading day on or after it), plus lag_days trading days; the
    # Saturday rows are known there and BBB (signal 0.225) is bought.
    result = run_backtest(_weekend_market(True), StrategyParams(top_n=1, lag_days=lag_days))
    first = result.periods.iloc[0]
    assert first["formation_end"] == pd.Timestamp("2022-04-30")
    assert first["entry_date"] == pd.Timestamp("2022-05-02") + pd.offsets.BDay(lag_days)
    assert (result.periods["formation_end"] <= result.periods["entry_date"]).all()
    assert result.holdings["symbol"].tolist() == ["BBB"]
    assert result.holdings["signal"].iloc[0] == pytest.approx((29 * 0.2 + 0.95) / 30)


def test_weekend_period_end_rows_after_the_entry_cannot_change_it() -> None:
    # Without the Saturday rows (what was known at Friday 04-29) the pick is AAA (tie, A
    # first); a run whose data end at the Friday close has no May holdings at all: no
    # decision is taken at a close before the formation period is over.
    without = run_backtest(_weekend_market(False), StrategyParams(top_n=1))
    assert without.periods["entry_date"].iloc[0] == pd.Timestamp("2022-05-02")
    assert without.holdings["symbol"].tolist() == ["AAA"]
    data = _weekend_market(True)
    cut = market(data.sentiment, data.prices.loc[:"2022-04-29"])
    assert len(run_backtest(cut, StrategyParams(top_n=1)).periods) == 0


# ----- last-close-on-entry-day -------------------------------------------------------------


def _last_close_market():
    days = pd.bdate_range("2021-12-01", "2022-02-28")
    feb = days >= "2022-02-01"
    k = np.cumsum(feb)
    prices = pd.DataFrame(
        {
            "AAA": 100.0 * 1.005**k,
            "BBB": 100.0 * 0.999**k,
            "CCC": np.where(feb, np.nan, 40.0),  # last close 2022-01-31, the entry close
            "QQQ": 300.0 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, len(days)))),
        },
        index=pd.DatetimeIndex(days, name="date"),
    ).round(8)
    rows = [
        (d.strftime("%Y-%m-%d"), s, c, 200)
        for d in pd.date_range("2022-01-01", "2022-01-31")
        for s, c in (("AAA", 40), ("BBB", 50), ("CCC", 60))
    ]
    return market(sentiment_frame(rows), prices)


def test_last_close_on_entry_day_is_bought_and_held_as_cash() -> None:
    # Right value: CCC has a close on the entry day, so it is holdable (causal rule) and
    # bought; its third is cash all February: ((1.005^20 - 1) + (0.999^20 - 1)) / 3.
    result = run_backtest(_last_close_market(), StrategyParams(top_n=3))
    expected = ((1.005**20 - 1) + (0.999**20 - 1)) / 3
    assert expected == pytest.approx(0.028361, abs=5e-7)
    assert result.periods["entry_date"].iloc[0] == pd.Timestamp("2022-01-31")
    assert sorted(result.holdings["symbol"]) == ["AAA", "BBB", "CCC"]
    np.testing.assert_allclose(result.holdings["weight"], 1 / 3)
    # (prices are rounded to 8 decimals, as in the case's file)
    assert result.metrics["total_return"] == pytest.approx(expected, rel=1e-9)
    assert compute_metrics(result.returns["universe"])["total_return"] == pytest.approx(expected, rel=1e-9)
    assert any(w.startswith("CCC") and "2022-02-01" in w and "2022-01-31" in w for w in result.warnings)


def _both_end_at_the_entry_market():
    """Variant: AAA and BBB both have their last close on the entry close 2022-01-31 (37
    and 22); before it AAA alternates +-2% a day and BBB +-3%, so inverse-volatility
    weights are 0.6 and 0.4. February is held as cash."""
    days = pd.bdate_range("2021-12-01", "2022-02-28")
    n_pre = int((days <= "2022-01-31").sum())
    sign = np.where(np.arange(n_pre) % 2 == 0, 1.0, -1.0)

    def path(last: float, step: float) -> np.ndarray:
        p = np.empty(n_pre)
        p[-1] = last
        for i in range(n_pre - 2, -1, -1):
            p[i] = p[i + 1] / (1 + step * sign[i + 1])
        return np.concatenate([p, np.full(len(days) - n_pre, np.nan)])

    prices = pd.DataFrame(
        {"AAA": path(37.0, 0.02), "BBB": path(22.0, 0.03), "QQQ": 300.0 + np.arange(len(days))},
        index=pd.DatetimeIndex(days, name="date"),
    )
    rows = [
        (d.strftime("%Y-%m-%d"), s, c, 200)
        for d in pd.date_range("2022-01-01", "2022-01-31")
        for s, c in (("AAA", 60), ("BBB", 50))
    ]
    return market(sentiment_frame(rows), prices)


def test_a_period_whose_holdings_all_end_at_the_entry_is_cash_to_the_bit() -> None:
    # Right value: both sleeves are cash at their last close all February, so every daily
    # return is 0, the total return 0 and the hit rate 0. The first day's value
    # (0.6 / 37) * 37 + (0.4 / 22) * 22 rounds to 1 + 2.2e-16: it was a gain of 2.2e-16,
    # a hit rate of 5% (1 day in 20) and a total return of 2.2e-16.
    params = StrategyParams(top_n=2, weighting="inverse_volatility", min_likes=0.0, min_comments=0.0)
    result = run_backtest(_both_end_at_the_entry_market(), params)
    assert result.holdings["weight"].tolist() == pytest.approx([0.6, 0.4])
    assert len(result.returns) == 20
    assert (result.returns["portfolio"] == 0.0).all()
    assert result.metrics["total_return"] == 0.0
    assert result.metrics["hit_rate"] == 0.0
    assert (result.returns["universe"] == 0.0).all()


# ----- constant-return-series --------------------------------------------------------------


def _constant_prices() -> pd.DataFrame:
    days = pd.bdate_range("2022-01-03", "2022-12-30")
    t = np.arange(len(days))
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "MMF": 100 * 1.001**t,
            "AAA": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(t)))),
            "QQQ": 300 * np.exp(np.cumsum(rng.normal(0, 0.012, len(t)))),
        },
        index=pd.DatetimeIndex(days, name="date"),
    )


def test_constant_return_series_has_zero_volatility_and_nan_sharpe() -> None:
    prices = _constant_prices()
    returns = (prices["MMF"] / prices["MMF"].shift(1) - 1).iloc[1:].to_numpy()
    assert returns.std(ddof=1) > 0  # rounding residue, ~1e-16
    m = compute_metrics(returns)
    assert m["annual_volatility"] == 0.0
    assert math.isnan(m["sharpe"])
    assert math.isnan(compute_metrics(np.full(250, 0.001))["sharpe"])
    stocks = analyze_stocks(prices, ["MMF", "AAA"])
    mmf = stocks.metrics.set_index("symbol").loc["MMF"]
    assert mmf["annual_volatility"] == 0.0 and math.isnan(mmf["sharpe"])
    assert math.isnan(stocks.correlation.loc["MMF", "AAA"])


def test_constant_return_benchmark_gives_nan_beta_alpha_not_an_error() -> None:
    rows = [(d.strftime("%Y-%m-%d"), "AAA", 60, 200) for d in pd.date_range("2022-03-01", "2022-05-31")]
    result = run_backtest(market(sentiment_frame(rows), _constant_prices()), StrategyParams(benchmark="MMF"))
    assert math.isnan(result.metrics["beta"]) and math.isnan(result.metrics["alpha"])
    assert math.isfinite(result.metrics["total_return"])
    assert math.isnan(result.benchmark_metrics["sharpe"])


def test_one_day_of_plus_1500_percent_does_not_raise() -> None:
    m = compute_metrics([15.0])
    assert m["total_return"] == pytest.approx(15.0)
    assert m["cagr"] == pytest.approx(16.0**252 - 1)  # 2.7e303: still a float
    assert compute_metrics([1e6])["cagr"] == math.inf  # beyond a float: inf, as numpy gives it


# ----- drawdown-dates ----------------------------------------------------------------------


def _drawdown_market():
    days = pd.bdate_range("2021-12-01", "2022-02-28")
    special = {"2022-02-01": 110.25, "2022-02-02": 118.00, "2022-02-03": 120.50}
    aaa = [
        120.50 if d <= pd.Timestamp("2022-01-31") else special.get(d.strftime("%Y-%m-%d"), 121.00)
        for d in days
    ]
    prices = pd.DataFrame({"AAA": aaa, "BBB": 50.0, "QQQ": 300.0}, index=pd.DatetimeIndex(days, name="date"))
    rows = [
        (d.strftime("%Y-%m-%d"), s, c, 200)
        for d in pd.date_range("2022-01-01", "2022-01-31")
        for s, c in (("AAA", 60), ("BBB", 30))
    ]
    return market(sentiment_frame(rows), prices)


def test_drawdown_dates_peak_at_entry_close_and_recovery_on_the_day_back() -> None:
    # Right value: peak 2022-01-31 (the entry close), trough 2022-02-01, recovery 2022-02-03.
    result = run_backtest(_drawdown_market(), StrategyParams(top_n=1))
    assert result.periods["entry_date"].iloc[0] == pd.Timestamp("2022-01-31")
    assert dict(result.drawdown) == {"peak": "2022-01-31", "trough": "2022-02-01", "recovery": "2022-02-03"}
    assert result.metrics["max_drawdown"] == pytest.approx(110.25 / 120.50 - 1)


def test_drawdown_recovery_on_the_last_day_is_found() -> None:
    # 120.50 -> 110.25 -> 118.00 -> 120.50 compounds to 0.9999999999999999, not 1.
    prices = np.array([120.50, 110.25, 118.00, 120.50])
    returns = prices[1:] / prices[:-1] - 1
    assert np.prod(1 + returns) < 1.0
    dates = pd.bdate_range("2022-02-01", periods=3)
    info = drawdown_info(returns, dates, start="2022-01-31")
    assert info == {"peak": "2022-01-31", "trough": "2022-02-01", "recovery": "2022-02-03"}
    for a, b in ((9, 3), (7, 2), (11, 5)):
        r = np.array([b / a - 1, a / b - 1])
        assert drawdown_info(r, pd.bdate_range("2022-02-01", periods=2))["recovery"] == "2022-02-02"


def test_eligible_counts_the_symbols_with_a_signal_and_a_close_at_the_entry() -> None:
    """README's eligible universe (a signal, holdable at the entry): a symbol with a
    signal but no price yet at the entry (NOPR, listed in March) is not eligible in the
    backtest's periods nor in the signal analysis, as the universe benchmark counts it."""
    from engine import analyze_signal

    days = pd.bdate_range("2022-01-03", "2022-04-29")
    t = np.arange(len(days), dtype=float)
    prices = pd.DataFrame(
        {
            "AAA": 100 * 1.001**t,
            "BBB": 50 * 1.002**t,
            "NOPR": np.where(days >= "2022-03-01", 20.0 + t, np.nan),
            "QQQ": 300 + t,
        },
        index=pd.DatetimeIndex(days, name="date"),
    )
    rows = [
        (d.strftime("%Y-%m-%d"), s, c, 200)
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 60), ("BBB", 50), ("NOPR", 70))
    ]
    data = market(sentiment_frame(rows), prices)
    periods = run_backtest(data, StrategyParams(top_n=2)).periods
    by_entry = dict(zip(periods["entry_date"].dt.strftime("%Y-%m-%d"), periods["n_eligible"], strict=True))
    assert by_entry == {"2022-01-31": 2, "2022-02-28": 2, "2022-03-31": 3}
    analysis = analyze_signal(data, StrategyParams(top_n=2))
    assert analysis.periods["n_eligible"].tolist() == [2, 2, 3]
