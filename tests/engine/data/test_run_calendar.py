"""The trading days of a run are its own symbols' (breaker pass 3, F1, F1c, F2;
``engine.data.prices.trading_days_of``). A price column the run does not use (a BTC-USD
priced every calendar day in the same yfinance download, a non-US listing that trades on
Memorial Day) or only reports (the benchmark) made its dates trading days: judged on the
whole file, a Saturday with a BTC price was an entry day (the pick had no close: a month in
cash), and a Memorial Day filled forward for the US symbols was bought at Friday's close on
sentiment dated after it. Right: a run gives the same result with or without such a column;
the benchmark's return runs from the previous trading day's close to the next one's.

Rows rebuilt here from the weekend-period-end field case and the breaker's inputs
(/tmp/breaker3/e14_prices_btc_nan.csv, e1_prices_xyz.csv, e22_prices.csv)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import FileProvider, StrategyParams, load_market_data, run_backtest
from engine.analytics.stocks import analyze_stocks

HEAD = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"


def _sentiment(days: pd.DatetimeIndex, bbb_wins_from: str | None = None) -> bytes:
    """AAA and BBB every calendar day of ``days``, identical (a tie: AAA, alphabetically)
    except that BBB's comments are higher on the rows dated from ``bbb_wins_from``."""
    rows = [
        f"{d:%Y-%m-%d},{s},10,{200 if s == 'BBB' and bbb_wins_from and d >= pd.Timestamp(bbb_wins_from) else 20},"
        "100,1000,0.1\n"
        for d in days
        for s in ("AAA", "BBB")
    ]
    return (HEAD + "".join(rows)).encode()


def _weekend_prices() -> pd.DataFrame:
    """Business days of Jan-Jun 2022 for AAA (+0.1% a session), BBB and QQQ, and a BTC-USD
    column priced every calendar day: the weekend cells of the US symbols are empty (yfinance's
    multi-ticker download with a crypto pair)."""
    sessions = pd.bdate_range("2022-01-03", "2022-06-30")
    t = np.arange(len(sessions))
    stocks = pd.DataFrame(
        {"AAA": 100 * 1.001**t, "BBB": 100 * 1.002**t, "QQQ": 300 * (1 + 0.01 * np.sin(t))}, index=sessions
    )
    days = pd.date_range("2022-01-03", "2022-06-30")
    btc = pd.Series(35000 * (1 + 0.03 * np.cos(np.arange(len(days)))), index=days, name="BTC-USD")
    frame = stocks.reindex(days).join(btc).round(6)
    frame.index.name = "date"
    return frame


def _long(frame: pd.DataFrame) -> bytes:
    long = frame.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    return long.to_csv(index=False).encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def _yahoo_export(frame: pd.DataFrame) -> bytes:
    """yfinance's multi-ticker to_csv(): Price / Ticker / Date header lines."""
    columns = list(frame.columns)
    lines = [
        "Price," + ",".join("Close" for _ in columns),
        "Ticker," + ",".join(columns),
        "Date," + "," * (len(columns) - 1),
    ]
    body = frame.to_csv(header=False)
    return ("\n".join(lines) + "\n" + body).encode()


LAYOUTS = {
    "wide": lambda f: f.to_csv().encode(),
    "long": _long,
    "parquet": _parquet,
    "yahoo export": _yahoo_export,
}


def _run(sentiment: bytes, prices: bytes, benchmark: str = "QQQ") -> tuple:
    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices), benchmark=benchmark)
    result = run_backtest(data, StrategyParams(top_n=1, benchmark=benchmark))
    entries = result.periods["entry_date"].dt.strftime("%Y-%m-%d").tolist()
    return data, result, entries


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_an_unused_column_priced_on_weekends_makes_no_trading_day(layout: str) -> None:
    """F1a: April 2022 ends on Saturday the 30th. Before: BTC-USD (not in the sentiment,
    dropped as "symbol not needed") kept Saturday as a trading day; the entry was 2022-04-30,
    AAA had no close there, May was held in cash: total return 0.00%. Right: the entry is
    Monday 2022-05-02 and AAA is held to 05-31, AAA[05-31]/AAA[05-02] - 1 = 1.001**21 - 1
    = +2.1211% (21 business days, as in the case's own prices.csv), the result of the file
    without BTC-USD."""
    prices = _weekend_prices()
    sentiment = _sentiment(pd.date_range("2022-04-01", "2022-04-29"))
    data, result, entries = _run(sentiment, LAYOUTS[layout](prices))
    assert entries[0] == "2022-05-02", layout
    assert result.holdings["symbol"].iloc[0] == "AAA"
    right = prices.loc["2022-05-31", "AAA"] / prices.loc["2022-05-02", "AAA"] - 1
    assert result.metrics["total_return"] == pytest.approx(right, rel=1e-9)
    assert right == pytest.approx(1.001**21 - 1, rel=1e-6)  # +2.1211%
    _, control, _ = _run(sentiment, prices.drop(columns="BTC-USD").dropna(how="all").to_csv().encode())
    assert result.metrics["total_return"] == pytest.approx(control.metrics["total_return"], rel=1e-12)
    assert not (data.prices.index.day_of_week >= 5).any()
    # Said, with the dates: the 50 weekend days of 2022-01-03..06-30, Saturday 30 April among them.
    report = data.report
    (weekends,) = [d for d in report.dropped if d.reason.startswith("none of the sentiment's symbols")]
    assert weekends.examples[0] == "2022-01-08 (Sat)" and "not a trading day" in weekends.reason
    assert weekends.count == 50 and weekends.unit == ("dates" if layout == "long" else "rows")
    assert report.rows_read == report.rows_kept + report.rows_dropped


def test_the_benchmark_priced_on_weekends_decides_no_entry_day() -> None:
    """F1c: the same file with benchmark BTC-USD. Before: entry 2022-04-30, n_eligible 0,
    total return 0.00%. Right: entry 05-02 and AAA's +2.1211%, as with QQQ; the benchmark is
    measured over the same days, Friday's close to Monday's (the weekend compounded)."""
    prices = _weekend_prices()
    sentiment = _sentiment(pd.date_range("2022-04-01", "2022-04-29"))
    data, result, entries = _run(sentiment, prices.to_csv().encode(), benchmark="BTC-USD")
    assert entries[0] == "2022-05-02"
    right = prices.loc["2022-05-31", "AAA"] / prices.loc["2022-05-02", "AAA"] - 1
    assert result.metrics["total_return"] == pytest.approx(right, rel=1e-9)
    btc = prices["BTC-USD"]
    monday = result.returns.loc[pd.Timestamp("2022-05-09"), "benchmark"]  # after Fri 05-06
    assert monday == pytest.approx(btc["2022-05-09"] / btc["2022-05-06"] - 1, rel=1e-12)
    (alone,) = [d for d in data.report.dropped if "only BTC-USD" in d.reason]
    assert alone.count == 50 and "2022-01-08 (Sat)" in alone.examples


def _memorial_day_prices(*, stocks_on_holiday: str) -> pd.DataFrame:
    """NYSE sessions of Jan-Jul 2021 for AAA, BBB, QQQ on a business-day grid (Memorial Day,
    Monday 31 May, and the other holidays written as rows), plus XYZ, a listing that moves
    on every business day. ``stocks_on_holiday``: "ffill" (the previous closes) or "empty"."""
    grid = pd.bdate_range("2021-01-04", "2021-07-30")
    holidays = pd.DatetimeIndex(["2021-01-18", "2021-02-15", "2021-04-02", "2021-05-31", "2021-07-05"])
    sessions = grid.difference(holidays)
    t = np.arange(len(sessions))
    stocks = pd.DataFrame(
        {"AAA": 100 * (1 + 0.02 * np.sin(t)), "BBB": 90 * (1 + 0.03 * np.cos(t / 2)), "QQQ": 300 + t},
        index=sessions,
    ).reindex(grid)
    if stocks_on_holiday == "ffill":
        stocks = stocks.ffill()
    xyz = pd.Series(50 * (1 + 0.01 * np.arange(len(grid))), index=grid, name="XYZ")
    frame = stocks.join(xyz).round(6)
    frame.index.name = "date"
    return frame


def test_a_memorial_day_filled_forward_next_to_a_moving_column_is_not_an_entry_close() -> None:
    """F1b: BBB ranks first on the rows of Sat 29 to Mon 31 May 2021 only. Before: XYZ moved
    on Memorial Day, so the filled row stayed a trading day; BBB was bought at its
    '05-31 close' (Friday's, filled) on those rows: BBB[06-30]/BBB[05-28] - 1. Right: the row
    is dropped (judged on the sentiment's symbols), the entry is Tuesday 06-01:
    BBB[06-30]/BBB[06-01] - 1 (the breaker's file: -3.3868% instead of -4.5811%)."""
    prices = _memorial_day_prices(stocks_on_holiday="ffill")
    sentiment = _sentiment(pd.date_range("2021-05-01", "2021-05-31"), bbb_wins_from="2021-05-29")
    for layout in ("wide", "long"):
        data, result, entries = _run(sentiment, LAYOUTS[layout](prices))
        assert entries[0] == "2021-06-01", layout
        assert result.holdings["symbol"].iloc[0] == "BBB"
        right = prices.loc["2021-06-30", "BBB"] / prices.loc["2021-06-01", "BBB"] - 1
        assert result.metrics["total_return"] == pytest.approx(right, rel=1e-9), layout
        (filled,) = [d for d in data.report.dropped if d.reason.startswith("an NYSE holiday on which")]
        assert "2021-05-31 (Mon)" in filled.examples and "sentiment's symbols" in filled.reason
        assert filled.count == (5 if layout == "wide" else 15)  # 5 dates; 3 priced cells each
        assert data.report.rows_read == data.report.rows_kept + data.report.rows_dropped


def test_a_benchmark_that_trades_on_memorial_day_decides_no_entry_day() -> None:
    """F1c, case 2 (e22): the US symbols' holiday cells are empty and the benchmark XYZ
    trades on Memorial Day. Before: entry 2021-05-31, BBB unpriced there, June in cash
    (0.00%). Right: entry 06-01, BBB[06-30]/BBB[06-01] - 1, and XYZ over the same days."""
    prices = _memorial_day_prices(stocks_on_holiday="empty")
    sentiment = _sentiment(pd.date_range("2021-05-01", "2021-05-31"), bbb_wins_from="2021-05-29")
    _, result, entries = _run(sentiment, prices.to_csv().encode(), benchmark="XYZ")
    assert entries[0] == "2021-06-01"
    right = prices.loc["2021-06-30", "BBB"] / prices.loc["2021-06-01", "BBB"] - 1
    assert result.metrics["total_return"] == pytest.approx(right, rel=1e-9)
    xyz = prices["XYZ"]  # measured over the same days: from the entry close to the last
    bench = result.benchmark_metrics["total_return"]
    assert bench == pytest.approx(xyz["2021-06-30"] / xyz["2021-06-01"] - 1, rel=1e-9)


def test_stock_analysis_uses_the_calendar_of_the_symbols_asked_for() -> None:
    """F2: AAA grows 0.1% every session. Before: BTC-USD, not asked for, added 50
    zero-return weekend days: AAA volatility 0.72%, Sharpe 25.33. Right: volatility 0 and
    Sharpe n/a, as on the file without BTC-USD; the dropped dates are said."""
    prices = _weekend_prices()
    analysis = analyze_stocks(prices, ["AAA", "BBB"])
    aaa = analysis.metrics.set_index("symbol").loc["AAA"]
    assert aaa["annual_volatility"] == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(aaa["sharpe"])
    assert not (analysis.returns.index.day_of_week >= 5).any()
    control = analyze_stocks(prices.drop(columns="BTC-USD").dropna(how="all"), ["AAA", "BBB"])
    pd.testing.assert_frame_equal(analysis.metrics, control.metrics)
    (said,) = [w for w in analysis.warnings if "none of the symbols asked for" in w]
    assert said.startswith("50 date(s) dropped") and "2022-01-08 (Sat)" in said


def test_cli_stocks_and_backtest_use_the_runs_calendar(tmp_path: Path) -> None:
    """The commands of the breaker's report: ``stocks --symbols AAA,BBB --prices FILE``
    printed AAA volatility 0.72% and Sharpe 25.33 (right: 0.00% and n/a, the dates dropped
    said on stderr); ``backtest --top-n 1`` entered on 2022-04-30 (right: 2022-05-02)."""
    from tests.engine.cli._cli import run_cli

    prices = tmp_path / "prices.csv"
    _weekend_prices().to_csv(prices)
    code, out, err = run_cli(["stocks", "--symbols", "AAA,BBB", "--prices", str(prices)])
    assert code == 0, err
    aaa = next(line for line in out.splitlines() if line.startswith("AAA")).split()
    assert aaa[2:4] == ["0.00%", "n/a"]
    assert "50 date(s) dropped: none of the symbols asked for has a price" in err
    sentiment = tmp_path / "sentiment.csv"
    sentiment.write_bytes(_sentiment(pd.date_range("2022-04-01", "2022-04-29")))
    code, _, err = run_cli(
        [
            "backtest",
            "--sentiment",
            str(sentiment),
            "--prices",
            str(prices),
            "--top-n",
            "1",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 0, err
    periods = pd.read_csv(tmp_path / "o" / "periods.csv", comment="#")
    assert periods["entry_date"].iloc[0][:10] == "2022-05-02"
    assert "none of the sentiment's symbols has a price on this date" in err
