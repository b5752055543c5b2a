"""Filled-forward non-trading days (breaker report F1): a weekday holiday written by
reindexing onto a business-day grid and filling forward (``prices.reindex(pd.bdate_range(
...)).ffill()``) repeats every ticker's previous close. Kept, a period ending on it was bought
at that stale close on sentiment dated after it (look-ahead). One rule for every layout:
``engine.data.prices.without_filled_days``. A weekday is a holiday only by the NYSE's
calendar (``engine.data.calendar``): a session on which every ticker closes unchanged is
kept (the first rule, "every ticker flat", dropped 59 of the 64 sessions of the
drawdown-dates field case: breaker pass 2, G1)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from engine import FileProvider, StrategyParams, load_market_data, load_prices_file, run_backtest
from engine.data.prices import STALE_WEEKDAY, STALE_WEEKEND, without_filled_days

SENTIMENT_COLUMNS = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"
)


def grid_prices(first: str, last: str, holiday: str) -> pd.DataFrame:
    """A business-day grid with ``holiday`` filled forward. AAA and QQQ move every trading
    day; BBB is flat at 100, then at 110 from the first trading day after the holiday (news
    over the long weekend), flat again afterwards."""
    grid = pd.bdate_range(first, last)
    trading = grid[grid != holiday]
    step = np.arange(len(trading))
    prices = pd.DataFrame(
        {"AAA": 100.0 + 0.01 * step, "BBB": 100.0, "QQQ": 300.0 + 0.02 * step}, index=trading
    ).round(4)
    prices.loc[prices.index > pd.Timestamp(holiday), "BBB"] = 110.0
    prices = prices.reindex(grid).ffill()  # the holiday repeats the previous closes
    prices.index.name = "date"
    return prices


def sentiment_bytes(days: pd.DatetimeIndex, bbb_wins_from: str) -> bytes:
    """AAA and BBB every calendar day of ``days``; BBB's engagement ratio is the highest
    only on the rows dated from ``bbb_wins_from``."""
    rows = [
        f"{d:%Y-%m-%d},{s},100,{190 if (s == 'BBB' and d >= pd.Timestamp(bbb_wins_from)) else 40},200,10000,"
        for d in days
        for s in ("AAA", "BBB")
    ]
    return ("\n".join((SENTIMENT_COLUMNS, *rows)) + "\n").encode()


def as_long(prices: pd.DataFrame) -> bytes:
    long = prices.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    return long.to_csv(index=False).encode()


def test_memorial_day_filled_forward_is_not_an_entry_close() -> None:
    """Memorial Day 2021 is Monday 31 May, the last day of May. The grid file repeats
    Friday 28 May's closes on it. BBB ranks first only on the rows of Sat 29 to Mon 31 May,
    after the last real close (28 May). It was bought at the '05-31 close' (Friday's 100) and
    credited Tuesday's +10%: total return 10%. Right: the row is dropped and reported, the
    entry is Tuesday 1 June (110), BBB is flat afterwards: total return 0."""
    prices = grid_prices("2021-01-04", "2021-07-30", "2021-05-31")
    sentiment = sentiment_bytes(pd.date_range("2021-05-01", "2021-05-31"), "2021-05-29")
    for layout, data_bytes in (("wide", prices.to_csv().encode()), ("long", as_long(prices))):
        frame, report = load_prices_file(data_bytes, name="p.csv")
        assert pd.Timestamp("2021-05-31") not in frame.index, layout
        (filled,) = [d for d in report.dropped if d.reason == STALE_WEEKDAY]
        assert filled.examples == ("2021-05-31 (Mon)",)
        assert filled.count == (1 if layout == "wide" else 3)
        assert report.rows_read == report.rows_kept + report.rows_dropped
        data = load_market_data(FileProvider(sentiment=sentiment, prices=data_bytes))
        result = run_backtest(data, StrategyParams(top_n=1))
        # then June, with no sentiment row, is the closing period: a sale to cash at 06-30
        assert result.periods["entry_date"].dt.date.astype(str).tolist()[0] == "2021-06-01", layout
        assert set(result.holdings.symbol) == {"BBB"}
        assert result.metrics["total_return"] == 0.0


def test_good_friday_filled_forward_weekly_rebalance() -> None:
    """Good Friday 2022-04-15 filled forward, weekly (W-FRI) rebalancing: the week ending on
    it was bought at its '04-15 close' (Thursday's price), +10%; right: entry Monday 18 April,
    total return 0, in the wide and the long layout alike."""
    prices = grid_prices("2022-01-03", "2022-06-30", "2022-04-15")
    sentiment = sentiment_bytes(pd.date_range("2022-04-09", "2022-04-15"), "2022-04-15")
    for layout, data_bytes in (("wide", prices.to_csv().encode()), ("long", as_long(prices))):
        data = load_market_data(FileProvider(sentiment=sentiment, prices=data_bytes))
        result = run_backtest(data, StrategyParams(top_n=1, rebalance="weekly"))
        assert result.periods["entry_date"].dt.date.astype(str).tolist()[0] == "2022-04-18", layout
        assert result.holdings.symbol.iloc[0] == "BBB"
        assert result.metrics["total_return"] == 0.0, layout


def test_one_tickers_real_flat_day_among_moving_ones_is_kept() -> None:
    """A weekday on which one ticker's close does not move while another's does is a
    trading day: kept, nothing dropped."""
    text = (
        "date,AAA,BBB,QQQ\n"
        "2022-03-01,10.0,20.0,300.0\n"
        "2022-03-02,10.0,20.0,301.0\n"  # AAA and BBB flat, QQQ moved
        "2022-03-03,10.5,20.0,301.5\n"
    )
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert len(frame) == 3 and report.dropped == ()


def test_a_single_ticker_flat_session_is_kept_and_its_filled_holiday_dropped() -> None:
    """One ticker: a flat session (2022-03-02) is kept; the same repeat on Good Friday
    (2022-04-15, no NYSE session) is a holiday filled forward."""
    frame, report = load_prices_file(
        b"date,QQQ\n2022-03-01,300.0\n2022-03-02,300.0\n2022-03-03,301.0\n", name="p.csv"
    )
    assert len(frame) == 3 and report.dropped == ()
    frame, report = load_prices_file(
        b"date,QQQ\n2022-04-14,300.0\n2022-04-15,300.0\n2022-04-18,301.0\n", name="p.csv"
    )
    assert list(frame.index.strftime("%m-%d")) == ["04-14", "04-18"]
    assert [(d.reason, d.examples) for d in report.dropped] == [(STALE_WEEKDAY, ("2022-04-15 (Fri)",))]


def test_sessions_on_which_every_ticker_is_flat_are_kept() -> None:
    """A stable-NAV money-market fund as the benchmark beside two illiquid names: sessions
    on which nothing moves are trading days (they were dropped as holidays, and a run's
    returns lost them)."""
    text = (
        "date,AAA,BBB,MMF\n"
        "2022-03-01,2.15,0.87,1.0\n"
        "2022-03-02,2.15,0.87,1.0\n"
        "2022-03-03,2.15,0.87,1.0\n"
        "2022-03-04,2.16,0.87,1.0\n"
    )
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert len(frame) == 4 and report.dropped == ()


def test_drawdown_dates_field_case_read_from_its_files() -> None:
    """The drawdown-dates field case (AAA 120.50 flat to 2022-01-31, then 110.25, 118.00,
    120.50, 121.00; BBB and QQQ flat) read from files, as the CLI and the Data page read it.
    Right values (its case.md): entry at the 2022-01-31 close, max drawdown -8.51% (110.25 /
    120.50 - 1), peak 01-31, trough 02-01, recovery 02-03, total return 121/120.5 - 1.
    Only the two NYSE holidays of the grid (2021-12-24, 2022-01-17) are dropped."""
    days = pd.bdate_range("2021-12-01", "2022-02-04")
    aaa = {"2022-02-01": 110.25, "2022-02-02": 118.0, "2022-02-03": 120.5, "2022-02-04": 121.0}
    prices = "date,AAA,BBB,QQQ\n" + "".join(
        f"{d:%Y-%m-%d},{aaa.get(f'{d:%Y-%m-%d}', 120.5)},50.0,300.0\n" for d in days
    )
    sentiment = sentiment_bytes(pd.date_range("2022-01-01", "2022-01-31"), "2099-01-01")
    sentiment = sentiment.replace(b",AAA,100,40,", b",AAA,100,60,").replace(b",BBB,100,40,", b",BBB,100,30,")
    _frame, report = load_prices_file(prices.encode(), name="prices.csv")
    (filled,) = report.dropped
    assert filled.reason == STALE_WEEKDAY and filled.examples == ("2021-12-24 (Fri)", "2022-01-17 (Mon)")
    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices.encode()))
    result = run_backtest(data, StrategyParams(top_n=1))
    assert result.periods["entry_date"].dt.date.astype(str).tolist()[0] == "2022-01-31"
    assert result.metrics["max_drawdown"] == pytest.approx(110.25 / 120.5 - 1, abs=1e-12)
    assert result.metrics["total_return"] == pytest.approx(121.0 / 120.5 - 1, abs=1e-12)
    info = result.drawdown
    assert (str(info["peak"])[:10], str(info["trough"])[:10], str(info["recovery"])[:10]) == (
        "2022-01-31",
        "2022-02-01",
        "2022-02-03",
    )


def test_a_repeat_up_to_rounding_is_a_repeat() -> None:
    """10.1 then 10.100000000000001 on a Saturday repeats (the engine's tie rule, 1e-10
    relative): dropped, where exact equality kept it as a trading day."""
    text = (
        "date,AAA,QQQ\n"
        "2022-04-28,10.0,300.0\n"
        "2022-04-29,10.1,301.0\n"
        "2022-04-30,10.100000000000001,301.0\n"
        "2022-05-02,10.2,302.0\n"
    )
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert pd.Timestamp("2022-04-30") not in frame.index
    assert [d.reason for d in report.dropped] == [STALE_WEEKEND]


def test_without_filled_days_of_a_downloaded_frame() -> None:
    """The rule as the Yahoo download uses it (a frame of closes): a holiday on which both
    tickers repeat is dropped; a first listing's day (no previous close) is not a repeat."""
    frame = pd.DataFrame(
        {"AAA": [1.0, 1.1, 1.1, 1.2], "QQQ": [np.nan, 3.0, 3.0, 3.1]},
        index=pd.to_datetime(["2022-06-30", "2022-07-01", "2022-07-04", "2022-07-05"]),
    )
    kept, groups = without_filled_days(frame, unit="dates")
    assert list(kept.index.strftime("%m-%d")) == ["06-30", "07-01", "07-05"]
    assert [(g.reason, g.count) for g in groups] == [(STALE_WEEKDAY, 1)]


@pytest.mark.parametrize("weekday", ["2022-07-04"])
def test_long_file_counts_rows_of_the_filled_weekday(weekday: str) -> None:
    text = "date,AAA,QQQ\n2022-07-01,1.0,3.0\n2022-07-04,1.0,3.0\n2022-07-05,1.1,3.1\n"
    long = pd.read_csv(io.StringIO(text)).melt(id_vars="date", var_name="symbol", value_name="close")
    frame, report = load_prices_file(long.to_csv(index=False).encode(), name="p.csv")
    assert pd.Timestamp(weekday) not in frame.index
    assert [(d.reason, d.count) for d in report.dropped] == [(STALE_WEEKDAY, 2)]
    assert report.rows_read == 6 and report.rows_kept == 4
