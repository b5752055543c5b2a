"""US closes stamped in another time zone are read at their New York dates (breaker pass 9,
F9; ``engine.data.reading._exchange_dates``).

Before: a price file whose closes are the right instants but written in another zone was
read at the local dates as written, every close moved to a neighbouring calendar day. NY's
16:00 closes shown in Tokyo time (``2022-04-30 05:00:00+09:00`` is Friday 2022-04-29's
close) landed on Saturdays, and the Saturday rows of a period ending on a Saturday picked
what was bought at Friday's close (14.71% where 4.29% is right on the breaker's case); a
yfinance index of NY midnights converted to America/Chicago (``2021-05-31 23:00:00-05:00``
is the session of 2021-06-01) put every close a day early (Sunday rows, no Friday). Right:
the same run as the NY-dated file. Closes stamped in their own exchange's zone, crypto
files with weekend rows and sentiment files keep the local dates as written."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from engine import (
    FileProvider,
    StrategyParams,
    load_market_data,
    load_prices_file,
    load_sentiment_csv,
    run_backtest,
)

HEAD = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
NY = "America/New_York"
SESSIONS = pd.bdate_range("2022-01-03", "2022-06-30")
NOTE = "read at their New York dates, the exchange's"


def _closes() -> pd.DataFrame:
    """AAA, BBB, QQQ on NY business days; BBB jumps 10% on Monday 2022-05-02."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            s: np.round(100 * np.cumprod(1 + rng.normal(0.0005, 0.01, len(SESSIONS))), 4)
            for s in ("AAA", "BBB", "QQQ")
        },
        index=SESSIONS,
    )
    frame.loc[pd.Timestamp("2022-05-02") :, "BBB"] *= 1.1
    return frame


def _sentiment() -> bytes:
    """Every calendar day Jan-May 2022; AAA leads, except on Saturday 2022-04-30, whose rows
    (the end of April's formation period) make BBB the April pick."""
    rows = []
    for day in pd.date_range("2022-01-01", "2022-05-31"):
        lead = "BBB" if day == pd.Timestamp("2022-04-30") else "AAA"
        for symbol, comments in (("AAA", 30), ("BBB", 20)):
            count = 5000 if symbol == lead and lead == "BBB" else comments
            rows.append(f"{day:%Y-%m-%d},{symbol},10,{count},200,1000,0.1\n")
    return (HEAD + "".join(rows)).encode()


def _csv(frame: pd.DataFrame, stamps: list[str]) -> bytes:
    out = frame.copy()
    out.index = pd.Index(stamps, name="Date")
    return out.to_csv().encode()


def _tokyo_closes(frame: pd.DataFrame) -> list[str]:
    closes = (frame.index + pd.Timedelta(hours=16)).tz_localize(NY).tz_convert("Asia/Tokyo")
    return [d.isoformat(sep=" ") for d in closes]


def _chicago_midnights(frame: pd.DataFrame) -> list[str]:
    return [d.isoformat(sep=" ") for d in frame.index.tz_localize(NY).tz_convert("America/Chicago")]


def _run(prices: bytes) -> tuple[float, list[str]]:
    data = load_market_data(FileProvider(sentiment=_sentiment(), prices=prices))
    result = run_backtest(data, StrategyParams(top_n=1))
    return result.metrics["total_return"], result.periods["entry_date"].dt.strftime("%a %Y-%m-%d").tolist()


@pytest.mark.parametrize(
    "stamps", [_tokyo_closes, _chicago_midnights], ids=["tokyo-closes", "chicago-midnights"]
)
def test_closes_stamped_in_another_zone_load_at_the_new_york_dates(stamps) -> None:
    frame = _closes()
    loaded, report = load_prices_file(_csv(frame, stamps(frame)), name="p.csv")
    assert loaded.index.equals(pd.DatetimeIndex(SESSIONS))
    assert NOTE in report.reading[0].date_format
    assert "local date as written" not in report.reading[0].date_format


def test_tokyo_stamped_closes_run_as_the_new_york_dated_file() -> None:
    """The breaker's repro A: entry on Mon 05-02 (not Sat 04-30, Friday's close), total
    return equal to the NY-dated file's (BBB from the 05-02 close, after its jump)."""
    frame = _closes()
    expected, entries = _run(frame.to_csv().encode())
    assert entries[3] == "Mon 2022-05-02"
    for stamps in (_tokyo_closes, _chicago_midnights):
        total, moved = _run(_csv(frame, stamps(frame)))
        assert moved == entries
        assert total == pytest.approx(expected, abs=1e-12)


def test_a_tz_aware_parquet_index_loads_at_the_new_york_dates() -> None:
    frame = _closes()
    stored = frame.copy()
    stored.index = (frame.index + pd.Timedelta(hours=16)).tz_localize(NY).tz_convert("Asia/Tokyo")
    stored.index.name = "Date"
    buffer = io.BytesIO()
    stored.to_parquet(buffer)
    loaded, report = load_prices_file(buffer.getvalue(), name="p.parquet")
    assert loaded.index.equals(pd.DatetimeIndex(SESSIONS))
    assert "Asia/Tokyo time " + NOTE in report.reading[0].date_format
    expected, entries = _run(frame.to_csv().encode())
    total, moved = _run(buffer.getvalue())
    assert (total, moved) == (pytest.approx(expected, abs=1e-12), entries)


def test_an_iana_zone_name_is_read_at_the_new_york_dates() -> None:
    text = (
        b"Date,AAA\n2022-04-29 05:00:00 Asia/Tokyo,1\n2022-04-30 05:00:00 Asia/Tokyo,2\n"
        b"2022-05-03 05:00:00 Asia/Tokyo,3\n"
    )
    loaded, _ = load_prices_file(text, name="p.csv")
    assert [f"{d:%a %m-%d}" for d in loaded.index] == ["Thu 04-28", "Fri 04-29", "Mon 05-02"]


@pytest.mark.parametrize(
    ("stamps", "dates"),
    [
        # London closes in their own zone (abbreviations, offsets)
        (["2022-03-25 16:30:00 GMT", "2022-03-28 16:30:00 BST"], ["2022-03-25", "2022-03-28"]),
        (["2022-03-25 16:30:00+00:00", "2022-03-28 16:30:00+01:00"], ["2022-03-25", "2022-03-28"]),
        # Tokyo closes in Tokyo time
        (["2022-04-28 15:00:00+09:00", "2022-05-02 15:00:00+09:00"], ["2022-04-28", "2022-05-02"]),
        # crypto at UTC midnight with weekend rows: dates
        (
            ["2022-04-29 00:00:00+00:00", "2022-04-30 00:00:00+00:00", "2022-05-01 00:00:00+00:00"],
            ["2022-04-29", "2022-04-30", "2022-05-01"],
        ),
        # yfinance NY midnights with their own offsets
        (["2022-03-11 00:00:00-05:00", "2022-03-14 00:00:00-04:00"], ["2022-03-11", "2022-03-14"]),
        # a 7-day file at noon in Tokyo: its New York dates have weekends too
        (
            [f"2022-04-{d} 12:00:00+09:00" for d in (28, 29, 30)] + ["2022-05-01 12:00:00+09:00"],
            ["2022-04-28", "2022-04-29", "2022-04-30", "2022-05-01"],
        ),
    ],
    ids=[
        "london-abbrev",
        "london-offsets",
        "tokyo-closes",
        "utc-midnight-crypto",
        "yfinance-ny",
        "crypto-7-day",
    ],
)
def test_closes_in_their_own_zone_keep_the_local_dates(stamps: list[str], dates: list[str]) -> None:
    text = ("Date,AAA\n" + "".join(f"{s},{10 + i}\n" for i, s in enumerate(stamps))).encode()
    loaded, report = load_prices_file(text, name="p.csv")
    assert [d.date().isoformat() for d in loaded.index] == dates
    assert NOTE not in report.reading[0].date_format


def test_sentiment_rows_keep_their_local_dates() -> None:
    """A sentiment row has no exchange close: its date is the one written (docs/data.md)."""
    text = HEAD + "2022-04-29 05:00:00+09:00,AAA,1,2,3,4,\n2022-04-30 05:00:00+09:00,AAA,1,2,3,4,\n"
    frame, _ = load_sentiment_csv(text.encode(), name="s.csv")
    assert sorted(pd.DatetimeIndex(frame["date"]).strftime("%Y-%m-%d")) == ["2022-04-29", "2022-04-30"]
