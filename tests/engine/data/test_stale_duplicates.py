"""A repeated date whose first copy is stale (breaker pass 3, F4; breaker pass 4, F3, F4;
breaker pass 5, F2; ``engine.data.prices.stale_copies`` and ``resolve_repeated_closes``).
The duplicate rule keeps the first valid copy of the date (yfinance #765: an empty first
copy yields to the real bar). A price that repeats the previous kept close is the previous
day filled forward, not the day's: it yields to the other copy's price, ticker by ticker, in
every layout and in a Yahoo download, so no column decides another's. Rows rebuilt from the
duplicate-date-empty-first field case (/tmp/breaker3/e5_stale.csv, /tmp/breaker4/
c2_two_stale.csv, /tmp/breaker5/d3_with.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine import (
    FileProvider,
    StrategyParams,
    YahooProvider,
    load_market_data,
    load_prices_file,
    run_backtest,
)
from engine.data.prices import (
    REPEATED_PRICE,
    REPEATED_SAME_PRICE,
    STALE_COPY_CELL,
    STALE_COPY_DATE_ROW,
    STALE_COPY_PRICE,
    STALE_COPY_ROW,
    resolve_repeated_closes,
    stale_copies,
)
from engine.dispersion import tied

HEAD = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
# AAA is the more engaged symbol in January and February: held in February and March.
SENTIMENT = (
    HEAD
    + "".join(
        f"{d:%Y-%m-%d},{s},10,{60 if s == 'AAA' else 30},200,1000,0.1\n"
        for d in pd.date_range("2022-01-01", "2022-02-28")
        for s in ("AAA", "BBB")
    )
).encode()


def _prices() -> pd.DataFrame:
    """Business days 2022-01-03..03-30 (AAA +0.2% a session, BBB -0.1%, QQQ +0.1%)."""
    days = pd.bdate_range("2022-01-03", "2022-03-30")
    t = np.arange(len(days))
    frame = pd.DataFrame(
        {"AAA": 100 * 1.002**t, "BBB": 90 * 0.999**t, "QQQ": 300 * 1.001**t}, index=days
    ).round(6)
    frame.index.name = "date"
    return frame


def _wide_with_stale_copy() -> tuple[bytes, pd.Series]:
    """The clean rows, then 2022-03-31 twice: first AAA and QQQ at 03-30's closes (stale) and
    BBB at 79.0, then the real bar 150, 80, 330."""
    prices = _prices()
    last = prices.iloc[-1]
    text = prices.to_csv()
    text += f"2022-03-31,{last['AAA']},79.0,{last['QQQ']}\n2022-03-31,150.0,80.0,330.0\n"
    return text.encode(), last


def test_a_stale_first_copy_of_a_repeated_date_yields_to_the_real_bar() -> None:
    """Before: the first copy was kept, 03-31's return was 0 for AAA (held) and QQQ
    (the case: total 8.75%, benchmark 4.29%). Right: AAA 150 and QQQ 330 on 03-31, the
    returns 150/AAA[03-30] - 1 and 330/QQQ[03-30] - 1 (the case: 44.12% and 7.82%). Each
    ticker on its own: BBB's 79.0 does not repeat its previous close, so its first valid
    copy is kept."""
    data_bytes, last = _wide_with_stale_copy()
    frame, report = load_prices_file(data_bytes, name="p.csv")
    assert frame.loc["2022-03-31"].to_dict() == {"AAA": 150.0, "BBB": 79.0, "QQQ": 330.0}
    (stale,) = [d for d in report.dropped if d.reason == STALE_COPY_CELL]
    assert (stale.count, stale.unit, stale.examples) == (2, "cells", ("AAA row 64", "QQQ row 64"))
    assert report.rows_read == report.rows_kept + report.rows_dropped
    data = load_market_data(FileProvider(sentiment=SENTIMENT, prices=data_bytes))
    result = run_backtest(data, StrategyParams(top_n=1))
    day = result.returns.loc[pd.Timestamp("2022-03-31")]
    assert day["portfolio"] == pytest.approx(150.0 / last["AAA"] - 1, rel=1e-12)
    assert day["benchmark"] == pytest.approx(330.0 / last["QQQ"] - 1, rel=1e-12)


def test_a_stale_long_row_yields_to_the_real_close() -> None:
    """The long layout: 2022-03-31,AAA at 03-30's close, then 2022-03-31,AAA,150."""
    prices = _prices()
    long = prices.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    text = long.to_csv(index=False) + f"2022-03-31,AAA,{prices['AAA'].iloc[-1]}\n2022-03-31,AAA,150.0\n"
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert frame.loc["2022-03-31", "AAA"] == 150.0
    (stale,) = [d for d in report.dropped if d.reason == STALE_COPY_ROW]
    assert stale.count == 1
    assert report.rows_read == report.rows_kept + report.rows_dropped


def test_copies_that_all_repeat_the_previous_close_are_kept() -> None:
    """A flat close written twice: both copies repeat, nothing yields (one row, the close)."""
    prices = _prices()
    last = prices.iloc[-1]
    row = f"2022-03-31,{last['AAA']},{last['BBB']},{last['QQQ']}\n"
    frame, report = load_prices_file((prices.to_csv() + row + row).encode(), name="p.csv")
    assert frame.loc["2022-03-31"].tolist() == last.tolist()
    assert not [d for d in report.dropped if d.reason in (STALE_COPY_CELL, STALE_COPY_DATE_ROW)]


def _two_stale_days() -> tuple[pd.DataFrame, pd.Series]:
    """/tmp/breaker4/c2_two_stale.csv: the clean rows to 03-29, then 03-30 written first with
    03-29's closes (stale) and then 120, 85, 325, then 03-31 written first with those (stale)
    and then 150, 80, 330 (a feed writing each day's row before its close and after it)."""
    prices = _prices().iloc[:-1]  # to 2022-03-29
    before = prices.iloc[-1]
    real30, real31 = [120.0, 85.0, 325.0], [150.0, 80.0, 330.0]
    rows = pd.DataFrame(
        [before.tolist(), real30, real30, real31],
        index=pd.DatetimeIndex(["2022-03-30", "2022-03-30", "2022-03-31", "2022-03-31"], name="date"),
        columns=prices.columns,
    )
    return pd.concat([prices, rows]), before


def test_two_stale_days_in_a_row_both_yield_wide() -> None:
    """Pass 4, F4. Before: 03-31's first copy was compared with 03-30's FIRST copy (03-29's
    closes), not with the kept 120: 03-31 kept 120/85/325, a zero return, and the stale
    03-30 row was reported as "duplicate date row with no price". Right: 03-31 is 150/80/330
    (AAA 150/120 - 1 = +25% on 03-31), both stale rows dropped as stale copies."""
    wide, before = _two_stale_days()
    data_bytes = wide.to_csv().encode()
    frame, report = load_prices_file(data_bytes, name="p.csv")
    assert frame.loc["2022-03-30"].tolist() == [120.0, 85.0, 325.0]
    assert frame.loc["2022-03-31"].tolist() == [150.0, 80.0, 330.0]
    (stale,) = [d for d in report.dropped if d.reason == STALE_COPY_CELL]
    assert stale.count == 6  # two dates x three tickers
    (rows,) = [d for d in report.dropped if d.reason == STALE_COPY_DATE_ROW]
    assert rows.count == 2 and not [d for d in report.dropped if "with no price" in d.reason]
    assert report.rows_read == report.rows_kept + report.rows_dropped == len(wide)
    result = run_backtest(
        load_market_data(FileProvider(sentiment=SENTIMENT, prices=data_bytes)), StrategyParams(top_n=1)
    )
    returns = result.returns.loc["2022-03-30":, "portfolio"].tolist()
    assert returns == pytest.approx([120.0 / before["AAA"] - 1, 150.0 / 120.0 - 1], rel=1e-12)
    assert result.returns.loc[pd.Timestamp("2022-03-31"), "benchmark"] == pytest.approx(330.0 / 325.0 - 1)


def test_two_stale_days_in_a_row_both_yield_long() -> None:
    """The same rows in the long layout (/tmp/breaker4/c2_two_stale_long.csv)."""
    wide, _ = _two_stale_days()
    long = wide.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    frame, report = load_prices_file(long.to_csv(index=False).encode(), name="p.csv")
    assert frame.loc["2022-03-31"].tolist() == [150.0, 80.0, 330.0]
    (stale,) = [d for d in report.dropped if d.reason == STALE_COPY_ROW]
    assert stale.count == 6  # two dates x three symbols
    assert report.rows_read == report.rows_kept + report.rows_dropped == len(long)


def test_no_column_decides_another_columns_copy_of_a_repeated_date() -> None:
    """Breaker pass 5, F2 (/tmp/breaker5/d3_with.csv): 03-03 written first with AAA and BBB at
    03-02's closes (QQQ and ZZZ moved), then with AAA and BBB moved (QQQ and ZZZ at 03-02's
    closes). Before, a wide copy yielded whole: both copies were stale in some column, nothing
    yielded, and the first was kept, a zero return for AAA and BBB on 03-03 with the QQQ or
    ZZZ column and +0.4132% without them. Right: each ticker on its own, the same closes
    with or without the columns the run does not hold (and as a download resolves them)."""
    rows = (
        "date,AAA,BBB,QQQ,ZZZ\n2022-03-01,120.5,60.25,341.0,113.5\n2022-03-02,121.0,60.50,342.0,114.0\n"
        "2022-03-03,121.0,60.50,343.0,114.333333\n2022-03-03,121.5,60.75,342.0,114.0\n"
        "2022-03-04,122.0,61.00,344.0,114.666667\n"
    )
    frame, report = load_prices_file(rows.encode(), name="p.csv")
    assert frame.loc["2022-03-03"].to_dict() == {"AAA": 121.5, "BBB": 60.75, "QQQ": 343.0, "ZZZ": 114.333333}
    held = pd.read_csv(pd.io.common.StringIO(rows))[["date", "AAA", "BBB"]].to_csv(index=False)
    alone, _ = load_prices_file(held.encode(), name="p.csv")
    pd.testing.assert_frame_equal(frame[["AAA", "BBB"]], alone)
    (stale,) = [d for d in report.dropped if d.reason == STALE_COPY_CELL]
    assert stale.examples == ("AAA row 3", "BBB row 3", "QQQ row 4", "ZZZ row 4")
    assert report.rows_read == report.rows_kept + report.rows_dropped


def test_a_flat_long_close_next_to_another_copy_yields() -> None:
    """docs/data.md: in the long layout each (date, symbol) row stands alone, so a flat close
    (AAA at its 03-30 close) written next to a copy with another close yields to it."""
    prices = _prices()
    long = prices.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    text = long.to_csv(index=False) + f"2022-03-31,AAA,{prices['AAA'].iloc[-1]}\n2022-03-31,AAA,150.0\n"
    text += "2022-03-31,BBB,80.0\n2022-03-31,QQQ,330.0\n"
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert frame.loc["2022-03-31"].to_dict() == {"AAA": 150.0, "BBB": 80.0, "QQQ": 330.0}
    assert [d.count for d in report.dropped if d.reason == STALE_COPY_ROW] == [1]


def _yfinance_download(wide: pd.DataFrame) -> pd.DataFrame:
    """``wide`` (dates x tickers, closes; a date may repeat) as yfinance 1.x's
    ``download(..., multi_level_index=True, group_by="column")`` returns it."""
    fields = {"Close": wide, "High": wide * 1.01, "Low": wide * 0.99, "Open": wide, "Volume": wide * 0 + 1e6}
    frame = pd.concat(fields, axis=1)
    frame.columns = frame.columns.set_names(["Price", "Ticker"])
    frame.index.name = "Date"
    return frame


def test_a_yahoo_download_resolves_and_reports_a_stale_copy(tmp_path: Path) -> None:
    """Pass 4, F3. Before: the download kept each ticker's first copy of a repeated date
    (``keep="first"``) and reported nothing: 03-31 at 03-30's closes, the case's 8.75% /
    4.29%. Right: the rule of every price layout, each copy's price that repeats the
    ticker's previous close yields (03-31 = 150/80/330, AAA 150/AAA[03-30] - 1; the case:
    44.12% / 7.82%), reported as cells; the same from the cache."""
    prices = _prices()
    last = prices.iloc[-1]
    days = pd.DatetimeIndex([*prices.index, pd.Timestamp("2022-03-31"), pd.Timestamp("2022-03-31")])
    wide = pd.DataFrame(
        [*prices.to_numpy(), last.to_numpy(), [150.0, 80.0, 330.0]], index=days, columns=prices.columns
    )

    def download(tickers: list[str], *, start: str, end: str, **_: Any) -> pd.DataFrame:
        window = wide[(wide.index >= pd.Timestamp(start)) & (wide.index < pd.Timestamp(end))]
        return _yfinance_download(window[[t for t in tickers if t in wide.columns]])

    for _round in range(2):  # downloaded, then served from the cache
        data = load_market_data(
            YahooProvider(sentiment=SENTIMENT, cache_dir=tmp_path, downloader=download, sleep=lambda _: None)
        )
        assert data.prices.loc["2022-03-31"].to_dict() == {"AAA": 150.0, "BBB": 80.0, "QQQ": 330.0}
        (stale,) = [d for d in data.report.dropped if d.reason == STALE_COPY_PRICE]
        assert (stale.count, stale.unit) == (3, "cells")
        assert stale.examples == ("AAA 2022-03-31", "BBB 2022-03-31", "QQQ 2022-03-31")
        result = run_backtest(data, StrategyParams(top_n=1))
        day = result.returns.loc[pd.Timestamp("2022-03-31")]
        assert day["portfolio"] == pytest.approx(150.0 / last["AAA"] - 1, rel=1e-12)
        assert day["benchmark"] == pytest.approx(330.0 / last["QQQ"] - 1, rel=1e-12)


def _stale_one_column(dates: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The duplicate rule written plainly for one column (the reference): dates in order,
    each against the previous kept close; at a repeated date a copy that repeats it while
    another copy has another price is stale, unless every copy is; the date keeps its first
    price that is not stale."""
    stale = np.zeros(len(values), dtype=bool)
    last = np.nan
    for day in np.unique(dates):
        copies = [i for i in np.flatnonzero(dates == day) if np.isfinite(values[i])]
        if not copies:
            continue
        repeats = [bool(tied(values[i], last)) for i in copies]
        moved = any(np.isfinite(last) and not r for r in repeats)
        mine = [r and moved for r in repeats]
        if not all(mine):
            for i, m in zip(copies, mine, strict=True):
                stale[i] = m
            last = values[next(i for i, m in zip(copies, mine, strict=True) if not m)]
        else:
            last = values[copies[0]]
    return stale


def test_every_symbol_at_once_is_the_rule_symbol_by_symbol() -> None:
    """``stale_copies`` (every symbol at once, date by date) decides as the plain rule does on
    each symbol's column alone: checked on random small tables with repeated dates, flat
    closes, empty closes and dropped rows."""
    rng = np.random.default_rng(3)
    for _ in range(500):
        n = int(rng.integers(1, 40))
        dates = (pd.Timestamp("2022-01-03") + pd.to_timedelta(rng.integers(0, 8, n), "D")).to_numpy()
        symbols = rng.choice(np.array(["A", "B", "C"], dtype=object), n)
        values = rng.choice([1.0, 2.0, 3.0, np.nan], n)
        keep = rng.random(n) < 0.9
        want = np.zeros(n, dtype=bool)
        for symbol in ("A", "B", "C"):
            mine = np.flatnonzero((symbols == symbol) & keep)
            want[mine[_stale_one_column(dates[mine], values[mine])]] = True
        assert (stale_copies(dates, symbols, values, keep) == want).all()


def test_a_download_lists_a_repeated_date_with_another_price() -> None:
    """Pass 4, F3 (the related silent drop): a download's repeated date whose copies both
    moved keeps the first (as a file does) and now lists the other, as a cell."""
    days = pd.DatetimeIndex(["2022-03-29", "2022-03-30", "2022-03-30", "2022-03-31", "2022-03-31"])
    closes = {"AAA": pd.Series([10.0, 11.0, 12.0, 13.0, 13.0], index=days, name="AAA")}
    resolved, dropped = resolve_repeated_closes(closes)
    assert resolved["AAA"].tolist() == [10.0, 11.0, 13.0]
    assert [(d.reason, d.count, d.unit, d.examples) for d in dropped] == [
        (REPEATED_PRICE, 1, "cells", ("AAA 2022-03-30",)),
        (REPEATED_SAME_PRICE, 1, "cells", ("AAA 2022-03-31",)),
    ]
