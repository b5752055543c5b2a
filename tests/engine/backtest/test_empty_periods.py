"""Formation periods without a kept sentiment row (breaker report F3, F6).

A period with no kept row is held as cash wherever it falls. Before, one between two
periods with rows went to cash, but one at the end of the data was not planned at all
("keep only the periods from the first to the last with a kept row"): with sentiment in
January and March 2022 and none in February, the full data sold AAA at the 2022-02-28
close (turnover 1, cost 0.001), while the same inputs cut after 2022-02-28 made no trade
there, and ``end=2022-02-28`` on the full data planned the sale from the March rows,
dated after ``end``. Now the closing period (the first after the last with a kept row)
goes to cash at its entry close and the window ends there: the same trade with or
without the later rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from engine import StrategyParams, prepare, run_prepared
from tests.engine._frames import market, sentiment_frame

DAYS = pd.bdate_range("2021-06-01", "2022-06-30")
PARAMS = StrategyParams(top_n=1, cost_bps=10.0)
D = pd.Timestamp("2022-02-28")


def _prices() -> pd.DataFrame:
    t = np.arange(len(DAYS))
    return pd.DataFrame(
        {"AAA": 100 * 1.001**t, "BBB": 100 * 0.999**t, "QQQ": 300 * 1.0003**t},
        index=pd.DatetimeIndex(DAYS, name="date"),
    ).round(6)


def _sentiment(months: tuple[str, ...] = ("2022-01", "2022-03")) -> pd.DataFrame:
    """Every day of the months, AAA (60 comments, 200 likes) above BBB (30); none else."""
    rows = [
        (day.date().isoformat(), symbol, comments, 200)
        for month in months
        for day in pd.date_range(f"{month}-01", pd.Period(month).end_time.date())
        for symbol, comments in (("AAA", 60), ("BBB", 30))
    ]
    return sentiment_frame(rows)


def _run(sentiment: pd.DataFrame, prices: pd.DataFrame, params: StrategyParams = PARAMS):
    return run_prepared(prepare(market(sentiment, prices)), params)


def _entries(result) -> list[tuple[str, str, int, float, float]]:
    p = result.periods
    return [
        (str(f.date()), str(e.date()), int(n), float(t), float(c))
        for f, e, n, t, c in zip(
            p["formation_end"], p["entry_date"], p["n_selected"], p["turnover"], p["cost"], strict=True
        )
    ]


SALE = ("2022-02-28", "2022-02-28", 0, 1.0, 0.001)


def test_an_empty_period_at_the_end_of_the_data_goes_to_cash_as_in_the_middle() -> None:
    sentiment, prices = _sentiment(), _prices()
    full = _run(sentiment, prices)
    cut = _run(sentiment[sentiment["date"] <= D], prices.loc[:D])
    ended = _run(sentiment, prices, PARAMS.replace(end=dt.date(2022, 2, 28)))
    assert _entries(full)[:2] == [("2022-01-31", "2022-01-31", 1, 1.0, 0.001), SALE]
    # The trade at D's close is planned from the data up to D: the same in all three runs.
    assert _entries(cut) == _entries(full)[:2] == _entries(ended)
    for part in (cut, ended):
        pd.testing.assert_frame_equal(part.returns, full.returns.loc[:D])
        pd.testing.assert_frame_equal(part.periods, _with_pending_sale(full.periods.iloc[:2]))
        pd.testing.assert_frame_equal(part.holdings, full.holdings.iloc[:1])
    # The full run's cost of that sale is charged on the next day (cash: -0.001 exactly as
    # (1 - cost) * 1 - 1), then cash returns 0 until March's holdings are bought.
    march = full.returns.loc["2022-03-01":"2022-03-31", "portfolio"]
    assert march.iloc[0] == pytest.approx(-0.001, rel=1e-12) and (march.iloc[1:] == 0.0).all()


def _with_pending_sale(periods: pd.DataFrame) -> pd.DataFrame:
    out = periods.copy()
    out.loc[out.index[-1], ["period_start", "period_end"]] = pd.NaT
    return out


def test_the_window_ends_at_the_closing_sale_not_years_of_cash() -> None:
    """Sentiment ends in January 2022 and the prices go on to June: the backtest sells at
    the February entry close (the first period without a row) and ends there, warned;
    the four months after it are not turned into cash periods."""
    result = _run(_sentiment(("2022-01",)), _prices())
    assert _entries(result) == [("2022-01-31", "2022-01-31", 1, 1.0, 0.001), SALE]
    assert result.returns.index[-1] == D
    assert pd.isna(result.periods["period_start"].iloc[-1])
    assert (
        "No formation period from 2022-02-01 on has a sentiment row passing the thresholds (the one "
        "from 2022-02-01 to 2022-02-28 has no sentiment row; the last day of the sentiment data is "
        "2022-01-31): the portfolio is in cash from its entry close 2022-02-28, as in any period "
        "without an eligible symbol, and the backtest ends at that close; the 88 later price day(s), "
        "to 2022-06-30, are not evaluated (the portfolio would hold cash until a row passes the "
        "thresholds). The sale's cost (its row of the periods table) is not in the returns: a "
        "trade's cost is booked on the day after its entry close, and the backtest ends at that close."
    ) in result.warnings
    # The sale's cost is not in the returns (breaker pass 2, G2): the warning says so, and
    # without costs it has nothing to say.
    free = _run(_sentiment(("2022-01",)), _prices(), PARAMS.replace(cost_bps=0.0))
    assert not any("The sale's cost" in w for w in free.warnings)


# ----- F6: the warning names the real reason no symbol is eligible ---------------------


def _cash_warnings(result) -> list[str]:
    return [w for w in result.warnings if w.startswith("No symbol was eligible")]


def test_a_period_without_rows_is_blamed_on_its_missing_rows_not_on_closes() -> None:
    """Before: 'none with a signal has a close on the entry day 2022-02-28', though both
    symbols have one: February has no sentiment row."""
    result = _run(_sentiment(), _prices())
    assert _cash_warnings(result) == [
        "No symbol was eligible for the period starting 2022-03-01 (the formation period "
        "2022-02-01 to 2022-02-28 has no sentiment row); the portfolio holds cash and the universe "
        "benchmark's returns are missing (NaN) over that period."
    ]


def test_a_period_whose_rows_fail_the_thresholds_says_so() -> None:
    feb = sentiment_frame([("2022-02-10", "AAA", 5, 200), ("2022-02-11", "BBB", 5, 200)])
    result = _run(pd.concat([_sentiment(), feb], ignore_index=True), _prices())
    assert _cash_warnings(result) == [
        "No symbol was eligible for the period starting 2022-03-01 (no sentiment row of the "
        "formation period 2022-02-01 to 2022-02-28 passes the thresholds with a value of "
        "engagement_ratio); the portfolio holds cash and the universe benchmark's returns are "
        "missing (NaN) over that period."
    ]


def test_a_change_signal_without_a_previous_value_says_so() -> None:
    """signal_transform=change: January (the first period) and March (after the empty
    February) have rows, but no symbol has a value in the period before."""
    result = _run(_sentiment(), _prices(), PARAMS.replace(signal_transform="change"))
    change = (
        "signal_transform=change needs a value in the previous period too, and no symbol with a "
        "value in the formation period {} has one in the period before"
    )
    assert _cash_warnings(result) == [
        f"No symbol was eligible for the period starting 2022-02-01 ({change.format('2022-01-01 to 2022-01-31')}); "
        "the portfolio holds cash and the universe benchmark's returns are missing (NaN) over that period.",
        "No symbol was eligible for the period starting 2022-03-01 (the formation period "
        "2022-02-01 to 2022-02-28 has no sentiment row); the portfolio holds cash and the universe "
        "benchmark's returns are missing (NaN) over that period.",
        f"No symbol was eligible for the period starting 2022-04-01 ({change.format('2022-03-01 to 2022-03-31')}); "
        "the portfolio holds cash and the universe benchmark's returns are missing (NaN) over that period.",
    ]


def test_signals_without_a_close_on_the_entry_day_are_named_as_such() -> None:
    """Symbols with a signal but no close on the entry day: the selected one is named."""
    prices = _prices()
    prices.loc["2022-01-31", ["AAA", "BBB"]] = np.nan
    result = _run(_sentiment(("2022-01",)), prices)
    assert _cash_warnings(result) == []
    assert result.warnings[0] == (
        "AAA was selected for the period starting 2022-02-01 but has no close on the entry day "
        "2022-01-31, and no other selected symbol is holdable: the period is held as cash; the "
        "universe benchmark's returns are missing (NaN) over that period."
    )


def test_the_closing_sale_is_not_a_period_of_the_signal_analysis_or_the_random_draws() -> None:
    """The closing period has no return day and no symbol: the eligible sets (random
    baseline) and the signal analysis's periods leave it out, so data whose prices run
    past the sentiment give them the same periods as before."""
    from engine import SignalAnalysisSettings, analyze_signal, eligible_symbols_by_period

    data = prepare(market(_sentiment(("2022-01",)), _prices()))
    assert len(run_prepared(data, PARAMS).periods) == 2
    assert len(eligible_symbols_by_period(data, PARAMS)) == 1
    analysis = analyze_signal(data, PARAMS, settings=SignalAnalysisSettings(quantiles=2, horizons=1))
    assert len(analysis.periods) == 1
