"""UTC written as a zone name, or stored as a tz-aware UTC Parquet index (breaker pass 2,
G3): a Tokyo index converted to UTC reads 15:00 UTC the day before. ``+00:00`` and ``Z``
were refused (``utc_instant_refusal``), but ``2022-01-02 15:00:00 Etc/UTC`` and a Parquet
index in UTC loaded at the UTC date, every close a day early (Monday onto Sunday), silently.
A zone whose offset is always 0 carries no local date: refused the same way, midnight loads;
a place's zone name (Asia/Tokyo) keeps the local date as written."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv
from engine.data.reading import UTC_ZONE_NAMES

TOKYO_UTC = pd.bdate_range("2022-01-03", "2022-01-14", tz="Asia/Tokyo").tz_convert("UTC")
TAIL = (
    "UTC); the date of such an instant depends on the time zone it was taken in, so it is not "
    "guessed: write the dates as yyyy-mm-dd (or timestamps of midnight UTC)"
)
ZERO_OFFSET_NAMES = [
    *("Etc/UTC", "Etc/GMT", "UCT", "Etc/UCT", "Etc/Zulu", "Etc/Universal", "UTC", "Zulu"),
    *("Universal", "GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "GMT0", "Greenwich"),
]


def _prices(stamps: list[str]) -> bytes:
    return ("Date,AAA,QQQ\n" + "".join(f"{d},{100 + i},{300 + i}\n" for i, d in enumerate(stamps))).encode()


def _parquet(index: pd.DatetimeIndex) -> bytes:
    frame = pd.DataFrame(
        {"AAA": 100.0 + np.arange(len(index)), "QQQ": 300.0 + np.arange(len(index))},
        index=pd.Index(index, name="Date"),
    )
    out = io.BytesIO()
    frame.to_parquet(out)
    return out.getvalue()


def test_every_name_tested_is_a_utc_zone_name() -> None:
    assert set(ZERO_OFFSET_NAMES) <= UTC_ZONE_NAMES


@pytest.mark.parametrize("zone", ZERO_OFFSET_NAMES)
def test_a_time_of_day_in_a_zero_offset_zone_name_is_refused(zone: str) -> None:
    with pytest.raises(DataValidationError) as info:
        load_prices_file(_prices([f"{d:%Y-%m-%d %H:%M:%S} {zone}" for d in TOKYO_UTC]), name="p.csv")
    assert str(info.value) == (
        f"p.csv: the 'Date' column holds UTC timestamps with a time of day "
        f"('2022-01-02 15:00:00 {zone}' is 2022-01-02 15:00:00 {TAIL}"
    )


@pytest.mark.parametrize("zone", ["Etc/UTC", "Zulu", "Greenwich", "Etc/GMT-0"])
def test_midnight_in_a_zero_offset_zone_name_loads(zone: str) -> None:
    days = pd.bdate_range("2022-01-03", "2022-01-14")
    wide, _ = load_prices_file(_prices([f"{d:%Y-%m-%d} 00:00:00 {zone}" for d in days]), name="p.csv")
    assert list(wide.index) == list(days)


def test_a_bracketed_utc_name_after_a_bare_time_is_refused() -> None:
    with pytest.raises(DataValidationError, match="holds UTC timestamps with a time of day"):
        load_prices_file(_prices([f"{d:%Y-%m-%dT%H:%M}[Etc/UTC]" for d in TOKYO_UTC]), name="p.csv")


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_a_place_zone_name_keeps_the_local_date_as_written(zone: str) -> None:
    local = TOKYO_UTC.tz_convert(zone)
    wide, report = load_prices_file(_prices([f"{d:%Y-%m-%d %H:%M:%S} {zone}" for d in local]), name="p.csv")
    assert list(wide.index) == list(local.tz_localize(None).normalize())
    assert (
        f"time zone names ({zone}) ignored, the local date as written is kept"
        in report.reading[0].date_format
    )


def test_a_utc_name_next_to_a_place_name_reads_local_dates() -> None:
    stamps = [
        f"{d:%Y-%m-%d} 16:00:00 {'Etc/UTC' if i == 0 else 'Europe/London'}"
        for i, d in enumerate(pd.bdate_range("2022-01-03", "2022-01-14"))
    ]
    wide, _ = load_prices_file(_prices(stamps), name="p.csv")
    assert wide.index[0] == pd.Timestamp("2022-01-03")


@pytest.mark.parametrize("tz", ["UTC", "Etc/UTC"])
def test_a_parquet_index_in_utc_with_a_time_of_day_is_refused(tz: str) -> None:
    with pytest.raises(DataValidationError) as info:
        load_prices_file(_parquet(TOKYO_UTC.tz_convert(tz)), name="p.parquet")
    assert str(info.value) == (
        "p.parquet: the 'Date' column holds UTC timestamps with a time of day "
        f"('2022-01-02 15:00:00+00:00' is 2022-01-02 15:00:00 {TAIL}"
    )


def test_a_parquet_index_at_utc_midnight_loads() -> None:
    days = pd.bdate_range("2022-01-03", "2022-01-14", tz="UTC")
    wide, _ = load_prices_file(_parquet(days), name="p.parquet")
    assert list(wide.index) == list(days.tz_localize(None))


def test_a_parquet_index_in_tokyo_keeps_its_local_dates() -> None:
    wide, _ = load_prices_file(_parquet(TOKYO_UTC.tz_convert("Asia/Tokyo")), name="p.parquet")
    assert list(wide.index) == list(pd.bdate_range("2022-01-03", "2022-01-14"))


SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def test_sentiment_files_follow_the_same_rule() -> None:
    rows = "".join(f"{d:%Y-%m-%d %H:%M:%S} Etc/UTC,AAA,1,2,3,4,0.5\n" for d in TOKYO_UTC)
    with pytest.raises(DataValidationError, match="holds UTC timestamps with a time of day"):
        load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv")
    midnight = "".join(f"{d:%Y-%m-%d} 00:00:00 Etc/UTC,AAA,1,2,3,4,0.5\n" for d in TOKYO_UTC)
    frame, _ = load_sentiment_csv((SENTIMENT_HEADER + midnight).encode(), name="s.csv")
    assert len(frame) == len(TOKYO_UTC)
