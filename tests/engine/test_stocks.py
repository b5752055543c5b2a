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
    result = analyze_stocks(_prices(), ["AAA"], start="2022-01-04", risk_free=0.0252)
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
        (["AAA"], {"start": "2022-01-06"}, DataValidationError, "fewer than two prices"),
        (["aaa bbb"], {}, ParameterError, "not a ticker"),
        ([], {}, ParameterError, "at least one"),
    ],
)
def test_errors_are_clear(symbols: list[str], kwargs: dict, error: type, fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        analyze_stocks(_prices(), symbols, **kwargs)


def test_a_symbol_whose_prices_end_inside_the_range_has_no_returns_after_its_last_close() -> None:
    """Degenerate series in the stock analysis: AAA halts twice and stops trading two days
    before the range ends. The gaps are carried forward (zero return, then the full move);
    after its last close (18 on 2022-02-14) there is no return at all, so the metrics use
    its 9 returns, not 11 with two invented zeros (vol 1.8425 and Sharpe 8.22 before).
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
        [11 / 10 - 1, 0.0, 0.0, 15 / 11 - 1, 14 / 15 - 1, 0.0, 16 / 14 - 1, 17 / 16 - 1, 18 / 17 - 1]
    )
    aaa = result.metrics.set_index("symbol").loc["AAA"]
    assert aaa["total_return"] == pytest.approx(0.8)
    assert aaa["annual_volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(252), rel=1e-12)
    assert aaa["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r), rel=1e-12)
    assert result.returns["AAA"].iloc[-2:].isna().all()
    assert result.prices["AAA"].iloc[-2:].isna().all()
    np.testing.assert_allclose(result.returns["AAA"].iloc[:9], r)
    bbb = result.returns["BBB"]
    assert result.correlation.loc["AAA", "BBB"] == pytest.approx(
        np.corrcoef(r, bbb.iloc[:9])[0, 1], rel=1e-12
    )


def test_a_symbol_without_dispersion_on_the_common_days_has_no_correlation_there() -> None:
    """constant-return-series kind, pairwise: XXX grows exactly 0.1% a day for its first
    100 closes (returns equal up to rounding), then moves; YYY trades only during those
    100 days. Over their 99 common return days XXX has no dispersion, so their
    correlation is undefined (NaN); it was -0.27, a correlation of rounding residue,
    because only the whole series of a symbol was checked. XXX keeps its volatility and
    its correlation with a symbol that overlaps its moving half."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2022-01-03", periods=200)
    t = np.arange(200)
    x = 100 * 1.001**t
    x[100:] = x[99] * np.cumprod(1 + rng.normal(0, 0.02, 100))
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
