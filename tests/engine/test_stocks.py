"""Individual stock analysis: hand-computed metrics, correlations, errors."""

from __future__ import annotations

import dataclasses
import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from engine import DataValidationError, ParameterError, StockAnalysis, analyze_stocks

from ._frames import price_frame

DAYS = ["2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06"]


def _prices() -> pd.DataFrame:
    return price_frame(
        DAYS, {"AAA": [10, 11, 9.9, 11.88], "BBB": [20, 22, 19.8, 23.76], "CCC": [5, 5, 5.5, 5]}
    )


def test_hand_computed_metrics_and_normalised_prices() -> None:
    result = analyze_stocks(_prices(), ["AAA", "CCC"])
    assert isinstance(result, StockAnalysis)
    assert list(result.metrics.columns) == [
        "symbol",
        "total_return",
        "annual_volatility",
        "sharpe",
        "max_drawdown",
    ]
    aaa = result.metrics.set_index("symbol").loc["AAA"]
    # Returns 10%, -10%, 20%.
    assert aaa["total_return"] == pytest.approx(1.188 - 1)
    assert aaa["max_drawdown"] == pytest.approx(0.99 / 1.1 - 1)
    r = np.array([0.1, -0.1, 0.2])
    assert aaa["annual_volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(252))
    assert aaa["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r))
    np.testing.assert_allclose(result.prices["AAA"], [1.0, 1.1, 0.99, 1.188])
    np.testing.assert_allclose(result.returns["AAA"], r)


def test_correlation_of_daily_returns() -> None:
    result = analyze_stocks(_prices(), "AAA,BBB,CCC")
    # BBB moves exactly like AAA: correlation 1; CCC's returns 0, 10%, -9.09%.
    assert result.correlation.loc["AAA", "BBB"] == pytest.approx(1.0)
    expected = np.corrcoef([0.1, -0.1, 0.2], [0.0, 0.1, 5 / 5.5 - 1])[0, 1]
    assert result.correlation.loc["AAA", "CCC"] == pytest.approx(expected)


def test_date_window_and_risk_free() -> None:
    result = analyze_stocks(_prices(), ["AAA"], start="2022-01-05", risk_free=0.0252)
    assert len(result.returns) == 2  # returns of Jan 5 and Jan 6 from the Jan 4 close
    r = np.array([-0.1, 0.2])
    assert result.metrics.loc[0, "sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, risk_free=0.0001))


def test_result_is_frozen() -> None:
    result = analyze_stocks(_prices(), ["AAA"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.metrics = pd.DataFrame()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("symbols", "kwargs", "error", "fragment"),
    [
        (["ZZZ"], {}, DataValidationError, "no prices for ZZZ"),
        (["AAA"], {"start": "2022-01-07"}, DataValidationError, "fewer than two prices"),
        (["aaa bbb"], {}, ParameterError, "not a ticker"),
        ([], {}, ParameterError, "at least one"),
    ],
)
def test_errors_are_clear(symbols: list[str], kwargs: dict, error: type, fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        analyze_stocks(_prices(), symbols, **kwargs)


def test_a_symbol_whose_prices_end_inside_the_range_is_carried_alive_days_then_missing() -> None:
    """Degenerate series in the stock analysis: AAA halts twice and stops trading two days
    before the range ends. The gaps are carried forward (zero return, then the full move),
    and so are the two days after its last close (18 on 2022-02-14): within ALIVE_DAYS = 10
    calendar days of it, a day without a close is carried whatever follows (breaker pass 10,
    F3: they were NaN because no later close came, 0 when one did: a look-ahead; before,
    9 returns, vol 1.8425 and Sharpe 8.22 with the trailing zeros left out, now 11).
    Twelve NYSE sessions, no holiday among them (on Martin Luther King Day, BBB alone
    priced is half of the symbols asked for, not a majority: no trading day)."""
    days = [d.date().isoformat() for d in pd.bdate_range("2022-02-01", periods=12)]
    nan = float("nan")
    prices = price_frame(
        days,
        {"AAA": [10, 11, nan, nan, 15, 14, nan, 16, 17, 18, nan, nan], "BBB": np.linspace(20, 25, 12)},
    )
    result = analyze_stocks(prices, ["AAA", "BBB"])
    r = np.array(
        [
            11 / 10 - 1,
            0.0,
            0.0,
            15 / 11 - 1,
            14 / 15 - 1,
            0.0,
            16 / 14 - 1,
            17 / 16 - 1,
            18 / 17 - 1,
            0.0,
            0.0,
        ]
    )
    aaa = result.metrics.set_index("symbol").loc["AAA"]
    assert aaa["total_return"] == pytest.approx(0.8)
    assert aaa["annual_volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(252), rel=1e-12)
    assert aaa["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r), rel=1e-12)
    np.testing.assert_allclose(result.returns["AAA"], r)
    np.testing.assert_allclose(result.prices["AAA"].iloc[-3:], [1.8, 1.8, 1.8])
    bbb = result.returns["BBB"]
    assert result.correlation.loc["AAA", "BBB"] == pytest.approx(np.corrcoef(r, bbb)[0, 1], rel=1e-12)


def test_a_symbol_ended_more_than_alive_days_before_the_range_end_is_missing_after_them() -> None:
    """After the ALIVE_DAYS calendar days its last close is carried, a delisted symbol's
    prices and returns are missing, not flat: its metrics use only the days it exists."""
    days = pd.bdate_range("2022-02-01", periods=20)  # no holiday among them
    aaa = 10.0 * 1.01 ** np.arange(20)
    aaa[8:] = np.nan  # last close Thu 2022-02-10, carried to Sun 02-20
    prices = price_frame([d.date().isoformat() for d in days], {"AAA": aaa, "BBB": np.linspace(20, 25, 20)})
    result = analyze_stocks(prices, ["AAA", "BBB"])
    returns = result.returns["AAA"]
    np.testing.assert_allclose(returns.loc[:"2022-02-10"], 0.01, rtol=1e-9)
    assert returns.loc["2022-02-11":"2022-02-18"].eq(0.0).all()
    assert returns.loc["2022-02-21":].isna().all() and result.prices["AAA"].loc["2022-02-21":].isna().all()
    expected = np.r_[np.full(7, 0.01), np.zeros(6)]
    aaa_row = result.metrics.set_index("symbol").loc["AAA"]
    assert aaa_row["annual_volatility"] == pytest.approx(expected.std(ddof=1) * math.sqrt(252), rel=1e-9)


def test_a_symbol_without_dispersion_on_the_common_days_has_no_correlation_there() -> None:
    """constant-return-series kind, pairwise: XXX grows exactly 0.1% a day for its first
    110 closes (returns equal up to rounding), then moves; YYY trades on the first 100
    days (its last close carried 8 more). Over their 107 common return days XXX has no dispersion, so their
    correlation is undefined (NaN); it was -0.27, a correlation of rounding residue,
    because only the whole series of a symbol was checked. XXX keeps its volatility and
    its correlation with a symbol that overlaps its moving half."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2022-01-03", periods=200)
    t = np.arange(200)
    x = 100 * 1.001**t
    # It moves from close 110 on: YYY's last close (99) is carried ALIVE_DAYS calendar days
    # (8 sessions) into XXX's constant-growth stretch (breaker pass 10, F3).
    x[110:] = x[109] * np.cumprod(1 + rng.normal(0, 0.02, 90))
    y = 50 * np.cumprod(1 + rng.normal(0, 0.01, 200))
    y[100:] = np.nan
    w = 80 * np.cumprod(1 + rng.normal(0, 0.01, 200))
    w[:100] = np.nan
    prices = price_frame([d.date().isoformat() for d in days], {"XXX": x, "YYY": y, "WWW": w})
    result = analyze_stocks(prices, ["XXX", "YYY", "WWW"])
    corr = result.correlation
    assert math.isnan(corr.loc["XXX", "YYY"]) and math.isnan(corr.loc["YYY", "XXX"])
    assert corr.loc["XXX", "XXX"] == 1.0 and corr.loc["YYY", "YYY"] == 1.0
    r = result.returns
    both = r["XXX"].notna() & r["WWW"].notna()
    expected = np.corrcoef(r.loc[both, "XXX"], r.loc[both, "WWW"])[0, 1]
    assert corr.loc["XXX", "WWW"] == pytest.approx(expected, abs=1e-12)
    assert result.metrics.set_index("symbol").loc["XXX", "annual_volatility"] > 0.1


@pytest.mark.parametrize("spelled", ["BRK/B", " brk b", "BRK_B"])
def test_a_share_class_written_with_a_slash_or_space_is_told_how_to_write_it(spelled: str) -> None:
    """share-class-dot-dash kind, variant: stocks --symbols BRK/B was refused as "'BRK/B' is
    not a ticker symbol (letters and digits, e.g. AAPL)", while the same spelling as the
    benchmark or in a file names the dash spelling. Right: the one share-class sentence."""
    from engine import parse_symbols

    with pytest.raises(ParameterError) as caught:
        parse_symbols(f"AAPL,{spelled}")
    assert str(caught.value) == (
        f"symbol {spelled.strip()!r} is a share class written with '/', '_' or a space; "
        "write it BRK-B as Yahoo does (or with a dot)"
    )


def test_a_window_shorter_than_a_year_warns_that_volatility_and_sharpe_extrapolate() -> None:
    """Three return days: the annualised volatility and Sharpe ratio above extrapolate them
    (the backtest's short_window_warning, with the day count); a year of days does not warn."""
    (warning,) = analyze_stocks(_prices(), ["AAA"]).warnings
    assert warning.startswith("The chosen window covers 3 trading days, less than a year (252)")
    days = pd.bdate_range("2021-01-04", periods=253)
    year = price_frame([str(d.date()) for d in days], {"AAA": list(100.0 + np.sin(np.arange(253)))})
    assert analyze_stocks(year, ["AAA"]).warnings == ()


@pytest.mark.parametrize(
    "day",
    [
        "2024-02-10",  # a Saturday after AAA's Friday close
        "2024-03-06",  # inside a session gap
        "2024-03-07",  # at a session gap's end
        "2024-03-08",  # the day it resumes
        "2024-04-15",  # the last day its Friday 04-05 close is carried (ALIVE_DAYS = 10)
        "2024-04-16",  # the first day beyond
        "2024-04-20",  # more than ALIVE_DAYS after its last real close
        "2024-04-29",  # the day it resumes after the long gap
    ],
)
def test_the_stock_returns_up_to_any_day_do_not_depend_on_the_data_after_it(day: str) -> None:
    """Breaker pass 10, F3: a stock without a close on the last sessions before the cut day
    D had returns of 0 there with later data and NaN when the data ended there (the old
    rule looked for a later close). One causal rule now (``engine.analytics.carry``): its
    last close carried ALIVE_DAYS calendar days, then missing; the return of the day it
    resumes spans the gap. AAA trades on weekdays next to two symbols priced every day (the
    weekends are trading days: two of three have a new price)."""
    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    rng = np.random.default_rng(8)
    aaa = 40.0 * np.cumprod(1.0 + rng.normal(0, 0.01, len(days)))
    aaa[days.day_of_week >= 5] = np.nan
    aaa[(days >= "2024-03-05") & (days <= "2024-03-07")] = np.nan
    aaa[(days >= "2024-04-08") & (days <= "2024-04-26")] = np.nan
    columns = {s: 50.0 * np.cumprod(1.0 + rng.normal(0, 0.02, len(days))) for s in ("BTC", "ETH")}
    prices = price_frame([d.date().isoformat() for d in days], {"AAA": aaa, **columns})
    full = analyze_stocks(prices, ["AAA", "BTC", "ETH"])
    r = full.returns["AAA"]
    assert r.loc["2024-02-10":"2024-02-11"].eq(0.0).all() and r.loc["2024-03-05":"2024-03-07"].eq(0.0).all()
    assert r.loc["2024-04-06":"2024-04-15"].eq(0.0).all() and r.loc["2024-04-16":"2024-04-28"].isna().all()
    assert r.loc["2024-04-29"] == pytest.approx(
        aaa[days == "2024-04-29"][0] / aaa[days == "2024-04-05"][0] - 1
    )
    cut = analyze_stocks(prices.loc[:day], ["AAA", "BTC", "ETH"])
    pd.testing.assert_frame_equal(full.returns.loc[:day], cut.returns)
    pd.testing.assert_frame_equal(full.prices.loc[:day], cut.prices)


def test_start_counts_the_start_days_return_as_the_backtest_does() -> None:
    # Breaker pass 12, F7: "from Jan 5" is bought at the Jan 4 close, so Jan 5's return counts.
    result = analyze_stocks(_prices(), ["AAA"], start="2022-01-05")
    assert [d.strftime("%m-%d") for d in result.returns.index] == ["01-05", "01-06"]
    np.testing.assert_allclose(result.returns["AAA"], [-0.1, 0.2])
    np.testing.assert_allclose(result.prices["AAA"], [1.0, 0.9, 1.08])  # 1.0 at the Jan 4 close
    assert result.metrics.loc[0, "total_return"] == pytest.approx(11.88 / 11 - 1)


def test_a_close_more_than_alive_days_before_start_is_no_base() -> None:
    days = pd.to_datetime(["2022-01-03", "2022-01-18", "2022-01-19", "2022-01-20"])
    prices = price_frame(days, {"AAA": [10, 11, 9.9, 11.88]})
    result = analyze_stocks(prices, ["AAA"], start="2022-01-18")  # Jan 3 is 15 days before
    assert result.returns.index[0] == pd.Timestamp("2022-01-19")
    np.testing.assert_allclose(result.prices["AAA"], [1.0, 0.9, 1.08])
