"""The trading days of a run are causal and decided by the majority of its universe on
weekends and NYSE holidays (breaker pass 4, F1, F2, F5; ``engine.data.prices.trading_days_of``).

A date is a trading day when a symbol of its universe (the sentiment's symbols with prices
whose first sentiment row is on or before it) has a price on it and it is an NYSE session,
or, on a weekend or NYSE holiday, more than half of the universe's symbols alive on it have
a new price. Before: any sentiment symbol of the whole file priced on a date made it a
trading day, so a crypto pair whose sentiment starts in June made the Saturdays before it
trading days (look-ahead), a stray Saturday quote of an illiquid symbol or a London close
on July 4 became the entry day on which the US pick has no close (a month in cash), and a
stock's metrics changed with the symbols asked next to it.

Rows rebuilt here after the breaker's inputs (/tmp/breaker4/a1_*, e4_*, b1_*, b2_*)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import FileProvider, StrategyParams, load_market_data, run_backtest
from engine.analytics.stocks import analyze_stocks
from engine.data.calendar import exchange_holidays

HEAD = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"


def _sentiment(
    comments: dict[str, int], days: pd.DatetimeIndex, starts: dict[str, str] | None = None
) -> bytes:
    """One row per symbol and calendar day of ``days`` (a symbol of ``starts`` from that
    date on), likes 200: the symbol with the most comments ranks first."""
    starts = starts or {}
    rows = [
        f"{d:%Y-%m-%d},{s},10,{c},200,1000,0.1\n"
        for d in days
        for s, c in comments.items()
        if d >= pd.Timestamp(starts.get(s, days[0]))
    ]
    return (HEAD + "".join(rows)).encode()


def _walk(n: int, seed: int, vol: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(100 * np.cumprod(1 + rng.normal(0.0005, vol, n)), 4)


def _run(sentiment: bytes, prices: pd.DataFrame, **params: object) -> tuple:
    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices.to_csv().encode()))
    result = run_backtest(data, StrategyParams(**params))  # type: ignore[arg-type]
    entries = result.periods["entry_date"].dt.strftime("%Y-%m-%d").tolist()
    return data, result, entries


def _crypto_late_prices() -> pd.DataFrame:
    """AAA, BBB, QQQ on business days and BTC-USD on every calendar day, Oct 2021 - Jul 2022
    (the breaker's a1_prices.csv: the stocks' weekend cells empty)."""
    sessions = pd.bdate_range("2021-10-01", "2022-07-29")
    days = pd.date_range("2021-10-01", "2022-07-31")
    frame = pd.DataFrame(index=days)
    for i, symbol in enumerate(("AAA", "BBB", "QQQ")):
        frame[symbol] = pd.Series(_walk(len(sessions), i), index=sessions)
    frame["BTC-USD"] = _walk(len(days), 9, 0.03)
    frame.index.name = "date"
    return frame


def test_a_symbol_whose_sentiment_starts_after_d_changes_no_trading_day_before_it() -> None:
    """F1 (a1): BTC-USD, priced every day, has sentiment from 2022-06-01 only. Before: the
    Saturdays from February were trading days; April was entered on Sat 04-30 (AAA has no
    close: May in cash), 4.5189% over 02-01..05-31, while the same inputs cut after
    D = 05-31 entered on Mon 05-02. Right: the cut run's, AAA held from the 01-31 close to
    05-31, AAA[05-31]/AAA[01-31] - 1 (3.7255% on the breaker's file)."""
    prices = _crypto_late_prices()
    days = pd.date_range("2022-01-01", "2022-07-15")
    comments = {"AAA": 40, "BBB": 30, "BTC-USD": 10}
    sentiment = _sentiment(comments, days, starts={"BTC-USD": "2022-06-01"})
    cut = pd.Timestamp("2022-05-31")
    cut_sentiment = _sentiment(comments, days[days <= cut], starts={"BTC-USD": "2022-06-01"})
    full_data, full, entries = _run(sentiment, prices, top_n=1)
    cut_data, part, cut_entries = _run(cut_sentiment, prices.loc[:cut], top_n=1)
    assert entries[:4] == cut_entries[:4] == ["2022-01-31", "2022-02-28", "2022-03-31", "2022-05-02"]
    assert full_data.prices.loc[:cut].index.equals(cut_data.prices.index)
    assert not (full_data.prices.loc[:cut].index.day_of_week >= 5).any()
    assert (full_data.prices.loc["2022-06-01":].index.day_of_week >= 5).sum() == 0  # still a minority
    pd.testing.assert_series_equal(full.returns.loc[:cut, "portfolio"], part.returns.loc[:cut, "portfolio"])
    held = full.returns.loc["2022-02-01":cut, "portfolio"]
    right = prices.loc["2022-05-31", "AAA"] / prices.loc["2022-01-31", "AAA"] - 1
    assert float((1 + held).prod() - 1) == pytest.approx(right, rel=1e-9)
    # Said: a Saturday before June is priced by BTC-USD alone, whose sentiment starts later.
    (late,) = [d for d in full_data.report.dropped if "only BTC-USD" in d.reason]
    assert "sentiment starts on 2022-06-01" in late.reason and late.examples[0] == "2021-10-02 (Sat)"
    # From June on, BTC-USD is 1 of the 3 symbols on a weekend: a minority, no trading day.
    assert any("(BTC-USD) has a new price" in d.reason for d in full_data.report.dropped)
    report = full_data.report
    assert report.rows_read == report.rows_kept + report.rows_dropped


def _weekend_case_prices() -> pd.DataFrame:
    """The weekend-period-end case's shape: AAA +0.1% a session, BBB, QQQ on business days
    of Jan-Jun 2022, and CCC, an illiquid symbol with three quotes, one on Sat 2022-04-30."""
    sessions = pd.bdate_range("2022-01-03", "2022-06-30")
    t = np.arange(len(sessions))
    frame = pd.DataFrame(
        {"AAA": 100 * 1.001**t, "BBB": 100 * 1.002**t, "QQQ": 300 * (1 + 0.01 * np.sin(t))}, index=sessions
    )
    ccc = pd.Series({"2022-03-15": 10.0, "2022-04-30": 10.1, "2022-05-16": 10.2})
    ccc.index = pd.DatetimeIndex(ccc.index)
    frame = frame.reindex(frame.index.union(ccc.index))
    frame["CCC"] = ccc
    frame.index.name = "date"
    return frame.round(6)


def test_a_stray_saturday_quote_of_an_illiquid_symbol_is_no_entry_day() -> None:
    """F2a (e4): CCC, never selected (fewest comments), is quoted on Sat 2022-04-30. Before:
    the entry of May was that Saturday, AAA had no close there, 0.00%. Right: 1 of the 4
    symbols alive has a new price on it, a minority: the entry is Mon 05-02 and AAA is held
    to 05-31, AAA[05-31]/AAA[05-02] - 1 = 1.001**21 - 1 = +2.1211%."""
    prices = _weekend_case_prices()
    sentiment = _sentiment({"AAA": 40, "BBB": 40, "CCC": 21}, pd.date_range("2022-04-01", "2022-04-29"))
    data, result, entries = _run(sentiment, prices, top_n=1)
    assert entries[0] == "2022-05-02"
    assert result.holdings["symbol"].iloc[0] == "AAA"
    assert result.metrics["total_return"] == pytest.approx(1.001**21 - 1, rel=1e-6)
    (minority,) = [d for d in data.report.dropped if "has a new price" in d.reason]
    assert minority.examples == ("2022-04-30 (Sat)",) and minority.count == 1
    assert (
        "only 1 of the 3 of the sentiment's symbols priced in the 10 days to it (CCC) has" in minority.reason
    )
    assert data.report.rows_read == data.report.rows_kept + data.report.rows_dropped


US_HOLIDAYS = ("2022-05-30", "2022-06-20", "2022-07-04", "2022-09-05")
UK_HOLIDAYS = ("2022-06-02", "2022-06-03", "2022-08-29")


def _us_london_prices(*, us_holidays: str) -> pd.DataFrame:
    """AAA, BBB, QQQ on NYSE sessions and VOD.L on UK business days, May-Sep 2022.
    ``us_holidays``: "empty" (b1) or "ffill" (b2: the US closes filled forward)."""
    grid = pd.bdate_range("2022-05-02", "2022-09-30")
    us = grid.difference(pd.DatetimeIndex(US_HOLIDAYS))
    uk = grid.difference(pd.DatetimeIndex(UK_HOLIDAYS))
    frame = pd.DataFrame(index=grid)
    for i, symbol in enumerate(("AAA", "BBB", "QQQ")):
        frame[symbol] = pd.Series(_walk(len(us), 20 + i, 0.02), index=us)
    if us_holidays == "ffill":
        frame = frame.ffill()
    frame["VOD.L"] = pd.Series(_walk(len(uk), 30), index=uk)
    frame.index.name = "date"
    return frame


def test_a_london_close_on_july_4_is_no_entry_day_however_the_us_holiday_is_written() -> None:
    """F2b (b1, b2): lag_days 2, so June's entry is the second trading day after Thu 06-30.
    Before: July 4 (VOD.L priced, the US closed) was the entry; AAA skipped, July in cash
    (b1: -3.64%); with the US holiday closes filled forward (b2) AAA was bought at the 07-01
    close (-10.14%). Right: July 4 is an NYSE holiday on which 1 of the 3 symbols has a new
    price: dropped in both spellings; the entry is 07-05, as in the US-only control."""
    sentiment = _sentiment({"AAA": 40, "BBB": 30, "VOD.L": 20}, pd.date_range("2022-05-01", "2022-08-31"))
    us_only = _sentiment({"AAA": 40, "BBB": 30}, pd.date_range("2022-05-01", "2022-08-31"))
    empty = _us_london_prices(us_holidays="empty")
    runs = {
        "b1": _run(sentiment, empty, top_n=1, lag_days=2),
        "b2": _run(sentiment, _us_london_prices(us_holidays="ffill"), top_n=1, lag_days=2),
        "us": _run(us_only, empty.drop(columns="VOD.L").dropna(how="all"), top_n=1, lag_days=2),
    }
    for name, (data, result, entries) in runs.items():
        assert entries[1] == "2022-07-05", name
        assert pd.Timestamp("2022-07-04") not in data.prices.index, name
        assert result.returns.index.equals(runs["us"][1].returns.index), name
        assert result.metrics["total_return"] == pytest.approx(
            runs["us"][1].metrics["total_return"], rel=1e-12
        )
        assert data.report.rows_read == data.report.rows_kept + data.report.rows_dropped, name
    july = runs["b1"][1].holdings
    assert july.loc[july["period_start"] == pd.Timestamp("2022-07-06"), "symbol"].tolist() == ["AAA"]
    dropped = runs["b1"][0].report.dropped
    assert any("2022-07-04 (Mon)" in d.examples and "(VOD.L) has a new price" in d.reason for d in dropped)
    # A session the UK closed (the Jubilee, 06-02) stays a US trading day.
    assert pd.Timestamp("2022-06-02") in runs["b1"][0].prices.index


def test_a_crypto_universe_keeps_its_weekends() -> None:
    """Every symbol of the universe priced (and moving) on every calendar day: a weekend on
    which all have a new price is a trading day, in a backtest and in a stock analysis."""
    days = pd.date_range("2022-01-01", "2022-06-30")
    sessions = pd.bdate_range("2022-01-03", "2022-06-30")
    prices = pd.DataFrame(
        {"BTC-USD": _walk(len(days), 1, 0.03), "ETH-USD": _walk(len(days), 2, 0.04)}, index=days
    )
    prices["QQQ"] = pd.Series(_walk(len(sessions), 3), index=sessions)
    prices.index.name = "date"
    sentiment = _sentiment({"BTC-USD": 40, "ETH-USD": 30}, pd.date_range("2022-03-01", "2022-05-31"))
    data, result, _ = _run(sentiment, prices, top_n=1)
    assert data.prices.index.equals(prices.index)
    assert (result.returns.index.day_of_week >= 5).any()
    analysis = analyze_stocks(prices, ["BTC-USD", "ETH-USD"])
    assert len(analysis.returns) == len(days) - 1


@pytest.mark.parametrize("other", ["BTC-USD", "VOD.L"])
def test_a_stocks_metrics_do_not_depend_on_the_symbols_asked_next_to_it(other: str) -> None:
    """F5: ``stocks --symbols AAA,BTC-USD`` gave AAA 12.97% volatility where AAA alone gives
    15.35% (a1): BTC-USD's weekends, a minority of the symbols asked for (1 of 2), added
    zero-return days to AAA. Right: AAA's metrics are the same, alone or with the other."""
    prices = _crypto_late_prices() if other == "BTC-USD" else _us_london_prices(us_holidays="empty")
    alone = analyze_stocks(prices, ["AAA"]).metrics.set_index("symbol").loc["AAA"]
    paired = analyze_stocks(prices, ["AAA", other]).metrics.set_index("symbol").loc["AAA"]
    pd.testing.assert_series_equal(alone, paired)
    returns = prices["AAA"].dropna().pct_change().dropna()
    assert alone["annual_volatility"] == pytest.approx(returns.std() * np.sqrt(252), rel=1e-9)


def _mixed_inputs(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """US stocks on business days (random halts, a delisting), BTC-USD and ETH-USD every
    calendar day, VOD.L on business days with other holidays, stray weekend quotes of an
    illiquid symbol; sentiment every calendar day, each symbol from a random first date."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2021-09-01", "2022-06-30")
    frame = pd.DataFrame(index=days)
    business = days.day_of_week < 5
    for i, symbol in enumerate(("AAA", "BBB", "CCC", "QQQ")):
        values = _walk(len(days), seed * 10 + i).astype(float)
        values[~business | (rng.random(len(days)) < 0.02)] = np.nan
        frame[symbol] = values
    frame.loc[days[int(rng.integers(150, 280))] :, "CCC"] = np.nan  # delisted
    for i, symbol in enumerate(("BTC-USD", "ETH-USD")):
        frame[symbol] = _walk(len(days), seed * 10 + 5 + i, 0.03)
    vod = _walk(len(days), seed * 10 + 8).astype(float)
    vod[~business | (rng.random(len(days)) < 0.03)] = np.nan
    frame["VOD.L"] = vod
    ill = np.full(len(days), np.nan)
    quoted = rng.random(len(days)) < 0.05
    ill[quoted] = 10 + np.arange(quoted.sum()) * 0.1
    frame["ILL"] = ill
    frame.index.name = "date"
    symbols = ["AAA", "BBB", "CCC", "BTC-USD", "ETH-USD", "VOD.L", "ILL"]
    sentiment_days = pd.date_range("2022-01-01", "2022-06-15")
    starts = {s: sentiment_days[int(rng.integers(0, 120))] for s in symbols}
    starts["AAA"] = sentiment_days[0]
    rows = [(d, s, int(rng.integers(1, 300))) for d in sentiment_days for s in symbols if d >= starts[s]]
    sentiment = pd.DataFrame(rows, columns=["date", "symbol", "twitterComments"])
    return frame, sentiment


def _sentiment_csv(sentiment: pd.DataFrame) -> bytes:
    body = "".join(f"{d:%Y-%m-%d},{s},10,{c},200,1000,0.1\n" for d, s, c in sentiment.itertuples(index=False))
    return (HEAD + body).encode()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cutting_every_input_after_d_changes_no_trading_day_up_to_d(seed: int) -> None:
    """Truncation: for random days D (weekends and holidays among them), the trading days up
    to D of the full inputs are those of the inputs cut after D (sentiment rows and price
    rows), on a universe mixing US stocks, crypto pairs priced every day, a London listing,
    an illiquid symbol with stray quotes, and symbols whose sentiment starts late."""
    prices, sentiment = _mixed_inputs(seed)
    full = load_market_data(
        FileProvider(sentiment=_sentiment_csv(sentiment), prices=prices.to_csv().encode())
    )
    rng = np.random.default_rng(100 + seed)
    cuts = pd.date_range("2022-01-10", "2022-06-15")
    for cut in sorted(rng.choice(cuts, size=8, replace=False)):
        cut = pd.Timestamp(cut)
        part = load_market_data(
            FileProvider(
                sentiment=_sentiment_csv(sentiment[sentiment["date"] <= cut]),
                prices=prices.loc[:cut].to_csv().encode(),
            )
        )
        before = full.prices.index[full.prices.index <= cut]
        assert before.equals(part.prices.index), (seed, cut, before.symmetric_difference(part.prices.index))


def _ipo_prices(aaa_from: str | None) -> pd.DataFrame:
    """AAA, BBB, CCC, QQQ on NYSE sessions Jun 2021 - Jun 2022; AAA empty before ``aaa_from``
    (an IPO) or priced throughout (None)."""
    weekdays = pd.bdate_range("2021-06-01", "2022-06-30")
    sessions = weekdays[~exchange_holidays(weekdays)]
    frame = pd.DataFrame(
        {s: _walk(len(sessions), 20 + i) for i, s in enumerate(("AAA", "BBB", "CCC", "QQQ"))},
        index=sessions,
    )
    if aaa_from is not None:
        frame.loc[frame.index < pd.Timestamp(aaa_from), "AAA"] = np.nan
    frame.index.name = "date"
    return frame


def test_an_ipo_on_the_first_sentiment_date_keeps_the_sessions_before_it() -> None:
    """Breaker pass 5, F1: AAA lists on 2022-01-03, the first sentiment date (never held
    after January); BBB and CCC, whose sentiment starts on 2022-02-01, have every close.
    Before: every session before AAA's first close was dropped ("none of the sentiment's
    symbols has a price on this date, only BBB"), so BBB/CCC's min-variance weights read
    39 of 63 days of returns (0.2045/0.7955 where 0.1954/0.8046 are right). Now the
    sessions before the first sentiment row are kept when any column is priced: the
    weights do not depend on when an unheld symbol listed."""
    days = pd.bdate_range("2022-01-03", "2022-05-31")
    sentiment = _sentiment(
        {"AAA": 5, "BBB": 40, "CCC": 30}, days, starts={"BBB": "2022-02-01", "CCC": "2022-02-01"}
    )
    ipo_data, ipo, _ = _run(sentiment, _ipo_prices("2022-01-03"), top_n=2, weighting="min_variance")
    _, listed, _ = _run(sentiment, _ipo_prices(None), top_n=2, weighting="min_variance")
    assert not [d for d in ipo_data.report.dropped if d.reason.startswith("none of")]
    pd.testing.assert_frame_equal(ipo.holdings, listed.holdings)
    march = ipo.holdings[ipo.holdings["period_start"] == ipo.holdings["period_start"].unique()[1]]
    assert set(march["symbol"]) == {"BBB", "CCC"} and march["weight"].sum() == pytest.approx(1.0)
    assert not any("used" in w and "days of returns" in w for w in ipo.warnings)  # full lookbacks


def test_a_dropped_date_names_every_column_priced_on_it() -> None:
    """Breaker pass 5, F9: a date dropped because no symbol of its universe is priced named
    the first priced column only ("none of the sentiment's symbols has a price on this
    date, only BBB") although BBB, CCC and QQQ were priced. Now it names them all and
    why none decides."""
    prices = _ipo_prices(None)
    prices.loc[pd.Timestamp("2022-01-14"), "AAA"] = np.nan  # AAA, the only started symbol, halted
    days = pd.bdate_range("2022-01-03", "2022-05-31")
    sentiment = _sentiment(
        {"AAA": 5, "BBB": 40, "CCC": 30}, days, starts={"BBB": "2022-02-01", "CCC": "2022-02-01"}
    )
    data, _, _ = _run(sentiment, prices, top_n=2)
    (halt,) = [d for d in data.report.dropped if d.reason.startswith("none of")]
    assert halt.examples == ("2022-01-14 (Fri)",)
    assert halt.reason == (
        "none of the sentiment's symbols has a price on this date, only BBB, CCC and QQQ (not a trading "
        "day; BBB's sentiment starts on 2022-02-01; CCC's sentiment starts on 2022-02-01; QQQ's return "
        "runs from the previous trading day's close to the next one's)"
    )


def test_a_weekend_calendar_says_what_its_annualised_metrics_assume() -> None:
    """Breaker pass 5, F4: a crypto universe keeps its weekends, but the annualised metrics
    assume 252 trading days a year: 273 daily returns of 9 months compounded over 1.08
    'years' (CAGR -29.4% where the annual rate of the total is -39.6%) with no short-window
    warning (273 >= 252). The metrics stay empyrical's; the backtest, the sweep and the
    stock analysis now say what they mean on this calendar."""
    from engine.analytics.metrics import weekend_calendar_warning

    days = pd.date_range("2022-01-01", periods=273)
    sentence = weekend_calendar_warning(days)
    assert sentence is not None
    assert sentence.startswith(
        "78 of the 273 return days of the evaluated window fall on a Saturday or Sunday"
    )
    assert (
        "compounds the total over 1.08 years where the window spans 0.75 calendar years (less than a year"
        in sentence
    )
    assert "a year of this calendar holds about 365 return days" in sentence
    assert weekend_calendar_warning(pd.bdate_range("2022-01-03", periods=300)) is None
    assert weekend_calendar_warning(pd.DatetimeIndex([])) is None

    every_day = pd.date_range("2022-01-01", "2022-06-30")
    sessions = pd.bdate_range("2022-01-03", "2022-06-30")
    prices = pd.DataFrame(
        {"BTC-USD": _walk(len(every_day), 1, 0.03), "ETH-USD": _walk(len(every_day), 2, 0.04)},
        index=every_day,
    )
    prices["QQQ"] = pd.Series(_walk(len(sessions), 3), index=sessions)
    prices.index.name = "date"
    sentiment = _sentiment({"BTC-USD": 40, "ETH-USD": 30}, pd.date_range("2022-03-01", "2022-05-31"))
    data, result, _ = _run(sentiment, prices, top_n=1)
    assert any("fall on a Saturday or Sunday" in w for w in result.warnings)
    from engine import SerialExecutor, run_sweep

    swept = run_sweep(data, {"top_n": (1, 2)}, executor=SerialExecutor())
    assert any("fall on a Saturday or Sunday" in w for w in swept.warnings)
    assert any("fall on a Saturday or Sunday" in w for w in analyze_stocks(prices, ["BTC-USD"]).warnings)
    us = _ipo_prices(None)
    assert not any("Saturday" in w for w in analyze_stocks(us, ["AAA", "BBB"]).warnings)


def test_a_closed_markets_filled_forward_close_is_no_entry_close_on_a_majority_weekend() -> None:
    """Breaker pass 5, F3: a universe whose majority trades every day (three crypto pairs
    and two US stocks) keeps its weekends; April ends on Saturday 04-30, the entry day. With
    the US weekend cells filled forward, AAA (the pick) was bought at the 04-30 'close',
    Friday's, chosen with Saturday's rows (look-ahead: -1.5075% for May); written empty,
    May was cash. Now a price that repeats the previous close on such a day is left empty
    (the market was closed): both spellings give the same run, and it is reported."""
    every_day = pd.date_range("2022-01-01", "2022-06-30")
    weekdays = pd.bdate_range("2022-01-03", "2022-06-30")
    sessions = weekdays[~exchange_holidays(weekdays)]
    empty = pd.DataFrame(
        {s: _walk(len(every_day), 40 + i, 0.03) for i, s in enumerate(("BTC-USD", "ETH-USD", "SOL-USD"))},
        index=every_day,
    )
    for i, s in enumerate(("AAA", "BBB", "QQQ")):
        empty[s] = pd.Series(_walk(len(sessions), 50 + i), index=sessions)
    empty.index.name = "date"
    filled = empty.copy()
    filled[["AAA", "BBB", "QQQ"]] = filled[["AAA", "BBB", "QQQ"]].ffill()
    sentiment = _sentiment(
        {"AAA": 90, "BBB": 80, "BTC-USD": 30, "ETH-USD": 20, "SOL-USD": 10},
        pd.date_range("2022-03-01", "2022-05-31"),
    )
    data_empty, run_empty, entries = _run(sentiment, empty, top_n=1)
    data_filled, run_filled, _ = _run(sentiment, filled, top_n=1)
    assert "2022-04-30" in entries  # Saturday: most of the universe trades on it
    pd.testing.assert_frame_equal(run_filled.returns, run_empty.returns)
    pd.testing.assert_frame_equal(run_filled.holdings, run_empty.holdings)
    (closed,) = [d for d in data_filled.report.dropped if "its market was closed" in d.reason]
    assert closed.unit == "cells" and closed.examples[0] == "AAA 2022-01-08"
    assert not [d for d in data_empty.report.dropped if "its market was closed" in d.reason]


def test_a_symbol_on_another_calendar_keeps_its_own_metrics_next_to_another() -> None:
    """Breaker pass 5, F6: asked with AAA, BTC-USD's weekends were one of two symbols (no
    majority), so the joint calendar dropped them and BTC-USD's metrics came from its
    Friday-to-Monday moves (volatility 64.52% against 54.37% alone). Each symbol's metrics
    now read its own weekends and holidays, and the NYSE sessions of the joint calendar."""
    prices = _crypto_late_prices()
    for symbol, other in (("BTC-USD", "AAA"), ("AAA", "BTC-USD")):
        alone = analyze_stocks(prices, [symbol]).metrics.set_index("symbol").loc[symbol]
        paired = analyze_stocks(prices, [symbol, other]).metrics.set_index("symbol").loc[symbol]
        pd.testing.assert_series_equal(alone, paired)
    btc = prices["BTC-USD"].dropna().pct_change().dropna()
    alone = analyze_stocks(prices, ["BTC-USD"]).metrics.set_index("symbol").loc["BTC-USD"]
    assert alone["annual_volatility"] == pytest.approx(btc.std() * np.sqrt(252), rel=1e-9)
