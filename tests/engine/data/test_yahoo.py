"""YahooProvider with a fake downloader shaped exactly like yfinance 1.x ``download`` output."""

from __future__ import annotations

import datetime as dt
import itertools
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from yfinance.exceptions import YFRateLimitError

from engine import DataUnavailableError, ParameterError, SerialExecutor, YahooProvider, load_market_data
from engine.data.providers import PRICE_DAYS_BEFORE
from engine.data.yahoo import (
    MAX_JITTER,
    Batch,
    DownloadSettings,
    backoff_delay,
    download_batch,
    extract_closes,
)

START, END = dt.date(2022, 1, 3), dt.date(2022, 3, 31)


def yf_frame(
    tickers: Sequence[str],
    *,
    failed: Sequence[str] = (),
    auto_adjust: bool = True,
    start: str = "2022-01-03",
    end: str = "2022-04-01",
) -> pd.DataFrame:
    """What ``yf.download(..., multi_level_index=True, group_by="column")`` returns in yfinance 1.x."""
    index = pd.bdate_range(start, end, inclusive="left", name="Date")
    fields = (
        ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
        if not auto_adjust
        else ["Close", "High", "Low", "Open", "Volume"]
    )
    ordered = sorted({t.upper() for t in tickers})
    data = {}
    for field in fields:
        for i, ticker in enumerate(ordered):
            if ticker in failed:
                values = np.full(len(index), np.nan)
            else:
                base = 100.0 + 10 * i + np.arange(len(index), dtype=float)
                values = (
                    base * (0.9 if field == "Adj Close" else 1.0)
                    if field != "Volume"
                    else np.full(len(index), 1e6)
                )
            data[(field, ticker)] = values
    frame = pd.DataFrame(data, index=index)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["Price", "Ticker"])
    return frame


def yf_offline_frame(tickers: Sequence[str]) -> pd.DataFrame:
    """What yfinance 1.x returns when every ticker failed (offline, silently rate limited):
    no rows, and yfinance's ``empty_df`` fields (Adj Close included whatever auto_adjust is)."""
    fields = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_product(
        [fields, sorted({t.upper() for t in tickers})], names=["Price", "Ticker"]
    )
    return pd.DataFrame(index=pd.Index([], name="Date"), columns=columns, dtype=float)


class FakeDownloader:
    """Records calls; raises YFRateLimitError for the first ``rate_limited`` calls."""

    def __init__(self, *, failed: Sequence[str] = (), rate_limited: int = 0, empty_calls: int = 0) -> None:
        self.failed = set(failed)
        self.rate_limited = rate_limited
        self.empty_calls = empty_calls
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        self.calls.append((list(tickers), kwargs))
        if len(self.calls) <= self.rate_limited:
            raise YFRateLimitError()
        if len(self.calls) <= self.rate_limited + self.empty_calls:  # a silent rate limit
            return yf_offline_frame(tickers)
        return yf_frame(tickers, failed=self.failed, auto_adjust=kwargs["auto_adjust"])


def provider(
    tmp_path: Path, downloader: FakeDownloader, sleeps: list[float] | None = None, **kwargs: Any
) -> YahooProvider:
    return YahooProvider(
        sentiment=tmp_path / "unused.csv",
        cache_dir=tmp_path / "cache",
        downloader=downloader,
        sleep=(sleeps.append if sleeps is not None else (lambda _: None)),
        **kwargs,
    )


def test_download_uses_the_documented_yfinance_arguments(tmp_path: Path) -> None:
    fake = FakeDownloader()
    provider(tmp_path, fake).prices(["AAA", "QQQ"], START, END)
    tickers, kwargs = fake.calls[0]
    assert tickers == ["AAA", "QQQ"]
    assert kwargs == {
        "start": "2022-01-03",
        "end": "2022-04-01",
        "auto_adjust": True,
        "multi_level_index": True,
        "group_by": "column",
        "ignore_tz": True,
        "progress": False,
        "threads": False,
        "timeout": 20.0,
    }


def test_closes_are_the_adjusted_close_column(tmp_path: Path) -> None:
    frame, report = provider(tmp_path, FakeDownloader()).prices(["AAA", "QQQ"], START, END)
    assert list(frame.columns) == ["AAA", "QQQ"] and frame.index.name == "date"
    assert frame.index.dtype == "datetime64[ns]" and (frame.dtypes == "float64").all()
    assert frame["AAA"].iloc[0] == 100.0 and frame["QQQ"].iloc[0] == 110.0
    assert report.failed_tickers == () and report.symbols == ("AAA", "QQQ")


def test_adj_close_is_used_without_auto_adjust(tmp_path: Path) -> None:
    fake = FakeDownloader()
    frame, _ = provider(tmp_path, fake, auto_adjust=False).prices(["AAA"], START, END)
    assert fake.calls[0][1]["auto_adjust"] is False
    assert frame["AAA"].iloc[0] == pytest.approx(90.0)  # Adj Close, not Close


def test_tickers_go_in_batches(tmp_path: Path) -> None:
    fake = FakeDownloader()
    symbols = [f"T{i:02d}" for i in range(7)]
    frame, _ = provider(tmp_path, fake, batch_size=3).prices(symbols, START, END)
    assert [len(call[0]) for call in fake.calls] == [3, 3, 1]
    assert list(frame.columns) == symbols


def test_rate_limit_backs_off_exponentially_with_jitter(tmp_path: Path) -> None:
    sleeps: list[float] = []
    fake = FakeDownloader(rate_limited=3)
    frame, report = provider(tmp_path, fake, sleeps, base_delay=2.0).prices(["AAA"], START, END)
    assert len(fake.calls) == 4 and len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        assert 2.0 * 2**attempt <= delay < 2.0 * 2**attempt * (1 + MAX_JITTER)
    assert report.failed_tickers == () and frame["AAA"].notna().all()


def test_empty_results_are_retried_too(tmp_path: Path) -> None:
    sleeps: list[float] = []
    fake = FakeDownloader(empty_calls=2)
    frame, _ = provider(tmp_path, fake, sleeps).prices(["AAA", "BBB"], START, END)
    assert len(fake.calls) == 3 and len(sleeps) == 2
    assert list(frame.columns) == ["AAA", "BBB"]


def test_retries_stop_at_max_retries_and_name_the_failures(tmp_path: Path) -> None:
    sleeps: list[float] = []
    fake = FakeDownloader(rate_limited=100)
    with pytest.raises(DataUnavailableError, match="no prices for any of the 2") as raised:
        provider(tmp_path, fake, sleeps, max_retries=2).prices(["AAA", "QQQ"], START, END)
    assert len(fake.calls) == 3 and len(sleeps) == 2
    # The way out for each entry point, not a server setting alone.
    assert "upload it on the Data page; CLI: --prices FILE" in str(raised.value)


def test_partial_results_name_failed_tickers_without_retrying(tmp_path: Path) -> None:
    sleeps: list[float] = []
    fake = FakeDownloader(failed=["BAD"])
    frame, report = provider(tmp_path, fake, sleeps).prices(["AAA", "BAD", "QQQ"], START, END)
    assert report.failed_tickers == ("BAD",)
    assert any("BAD" in w for w in report.warnings)
    assert "BAD" not in frame.columns and len(fake.calls) == 1 and sleeps == []


def test_repeat_request_is_served_from_the_cache(tmp_path: Path) -> None:
    fake = FakeDownloader()
    first, _ = provider(tmp_path, fake).prices(["AAA", "QQQ"], START, END)
    again = FakeDownloader()
    second, _ = provider(tmp_path, again).prices(["AAA", "QQQ"], START, END)
    assert again.calls == []
    pd.testing.assert_frame_equal(first, second)


def test_failed_tickers_are_never_cached(tmp_path: Path) -> None:
    provider(tmp_path, FakeDownloader(failed=["BAD"])).prices(["AAA", "BAD"], START, END)
    cached = sorted(p.name.split("_")[0] for p in (tmp_path / "cache").glob("*.parquet"))
    assert cached == ["AAA"]
    retry = FakeDownloader()
    frame, report = provider(tmp_path, retry).prices(["AAA", "BAD"], START, END)
    assert [call[0] for call in retry.calls] == [["BAD"]]  # only the failure is fetched again
    assert report.failed_tickers == () and "BAD" in frame.columns


def test_cache_is_keyed_by_date_range(tmp_path: Path) -> None:
    provider(tmp_path, FakeDownloader()).prices(["AAA"], START, END)
    other = FakeDownloader()
    provider(tmp_path, other).prices(["AAA"], START, dt.date(2022, 2, 28))
    assert len(other.calls) == 1


def test_corrupt_cache_file_is_a_miss(tmp_path: Path) -> None:
    provider(tmp_path, FakeDownloader()).prices(["AAA"], START, END)
    for path in (tmp_path / "cache").glob("*.parquet"):
        path.write_bytes(b"garbage")
    again = FakeDownloader()
    frame, _ = provider(tmp_path, again).prices(["AAA"], START, END)
    assert len(again.calls) == 1 and frame["AAA"].notna().all()


def test_non_ticker_symbols_are_not_requested(tmp_path: Path) -> None:
    fake = FakeDownloader()
    _, report = provider(tmp_path, fake).prices(["AAA", "../ETC"], START, END)
    assert fake.calls[0][0] == ["AAA"]
    assert "../ETC" in report.failed_tickers


def test_unexpected_exception_is_reported_not_raised(tmp_path: Path) -> None:
    def broken(tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        if "BAD" in tickers:
            raise ConnectionError("boom")
        return yf_frame(tickers)

    frame, report = YahooProvider(
        sentiment=b"", cache_dir=tmp_path, downloader=broken, batch_size=1, sleep=lambda _: None
    ).prices(["AAA", "BAD"], START, END)
    assert report.failed_tickers == ("BAD",) and any("ConnectionError" in w for w in report.warnings)
    assert list(frame.columns) == ["AAA"]


class RecordingExecutor(SerialExecutor):
    """Checks what would be shipped to Ray: a picklable module-level function and items."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, Any]] = []

    def map(self, fn, items, *, shared=None, on_progress=None, should_cancel=None):  # type: ignore[override]
        self.seen.append((fn, shared))
        pickle.dumps(fn)
        pickle.dumps(list(items))
        return super().map(fn, items, shared=shared)


def test_downloads_go_through_the_executor(tmp_path: Path) -> None:
    executor = RecordingExecutor()
    provider(tmp_path, FakeDownloader(), executor=executor, batch_size=1).prices(["AAA", "QQQ"], START, END)
    fn, shared = executor.seen[0]
    assert fn is download_batch and isinstance(shared, DownloadSettings)


def test_extract_closes_handles_tz_aware_index_and_missing_field() -> None:
    frame = yf_frame(["AAA"])
    frame.index = frame.index.tz_localize("America/New_York")
    closes = extract_closes(frame, ["AAA"], auto_adjust=True)
    assert closes["AAA"].index.tz is None and closes["AAA"].index[0] == pd.Timestamp("2022-01-03")
    assert extract_closes(frame, ["AAA"], auto_adjust=False) == {}  # no Adj Close column
    assert extract_closes(pd.DataFrame(), ["AAA"], auto_adjust=True) == {}


def test_backoff_delay_grows_and_is_deterministic() -> None:
    delays = [backoff_delay(1.0, k, "AAA") for k in range(4)]
    assert delays == [backoff_delay(1.0, k, "AAA") for k in range(4)]
    assert all(b > a for a, b in itertools.pairwise(delays))


def test_download_batch_counts_attempts() -> None:
    settings = DownloadSettings(
        downloader=FakeDownloader(rate_limited=1),
        sleep=lambda _: None,
        max_retries=3,
        base_delay=0.0,
        auto_adjust=True,
    )
    result = download_batch(settings, Batch(tickers=("AAA",), start="2022-01-03", end="2022-04-01"))
    assert result.attempts == 2 and result.failed == () and "AAA" in result.closes


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"max_retries": -1}, {"base_delay": -1.0}])
def test_bad_settings_are_parameter_errors(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ParameterError):
        YahooProvider(sentiment=b"", cache_dir=tmp_path, **kwargs)


def test_market_data_from_yahoo_with_a_sentiment_frame(tmp_path: Path) -> None:
    sentiment = pd.DataFrame(
        {
            "date": ["2022-02-01", "2022-02-01"],
            "symbol": ["aaa", "BAD"],
            "twitterPosts": [1, 2],
            "twitterComments": [1, 2],
            "twitterLikes": [3, 4],
            "twitterImpressions": [5, 6],
            "twitterSentiment": [None, 0.5],
        }
    )
    fake = FakeDownloader(failed=["BAD"])
    yahoo = YahooProvider(sentiment=sentiment, cache_dir=tmp_path, downloader=fake, sleep=lambda _: None)
    data = load_market_data(yahoo)
    assert yahoo.info.kind == "yahoo" and not data.source.synthetic
    assert data.report.failed_tickers == ("BAD",)
    assert set(data.prices.columns) == {"AAA", "QQQ"}
    assert (
        fake.calls[0][1]["start"] == (dt.date(2022, 2, 1) - dt.timedelta(days=PRICE_DAYS_BEFORE)).isoformat()
    )


def test_unreachable_yahoo_stops_after_the_first_batch(tmp_path: Path) -> None:
    sleeps: list[float] = []
    fake = FakeDownloader(rate_limited=1000)
    with pytest.raises(DataUnavailableError, match="no prices for any of the 5"):
        provider(tmp_path, fake, sleeps, batch_size=2, max_retries=3).prices(
            ["A", "B", "C", "D", "E"], START, END
        )
    assert len(fake.calls) == 4 and len(sleeps) == 3  # one batch and its retries, not three


def test_default_settings_and_batches_pickle_for_ray(tmp_path: Path) -> None:
    yahoo = YahooProvider(sentiment=b"", cache_dir=tmp_path)
    settings = pickle.loads(pickle.dumps(yahoo.settings))
    assert settings.downloader is None and settings.max_retries == 5 and settings.base_delay == 1.0
    assert pickle.loads(
        pickle.dumps(Batch(tickers=("A",), start="2022-01-01", end="2022-02-01"))
    ).tickers == ("A",)


def test_recovered_rate_limit_leaves_no_warning(tmp_path: Path) -> None:
    _, report = provider(tmp_path, FakeDownloader(rate_limited=2)).prices(["AAA"], START, END)
    assert report.warnings == ()


def test_unwritable_cache_only_costs_a_download(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    fake = FakeDownloader()
    frame, _ = provider(tmp_path, fake).prices(["AAA"], START, END)
    frame_again, _ = provider(tmp_path, fake).prices(["AAA"], START, END)
    assert len(fake.calls) == 2 and frame.equals(frame_again)


def test_all_nan_batch_is_retried_like_an_empty_one(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def flaky(tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        calls.append(list(tickers))
        failed = tickers if len(calls) == 1 else ()  # first answer: rows, but every column NaN
        return yf_frame(tickers, failed=failed, auto_adjust=kwargs["auto_adjust"])

    sleeps: list[float] = []
    yahoo = YahooProvider(sentiment=b"", cache_dir=tmp_path, downloader=flaky, sleep=sleeps.append)
    _, report = yahoo.prices(["AAA", "BBB"], START, END)
    assert len(calls) == 2 and len(sleeps) == 1 and report.failed_tickers == ()


def test_default_downloader_is_yfinance_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yfinance

    fake = FakeDownloader()
    monkeypatch.setattr(yfinance, "download", fake)  # no network: the real path, resolved at call time
    frame, _ = YahooProvider(sentiment=b"", cache_dir=tmp_path).prices(["AAA"], START, END)
    assert len(fake.calls) == 1 and list(frame.columns) == ["AAA"]


def test_a_timed_out_batch_names_its_tickers_as_failed(tmp_path: Path) -> None:
    """A hung connection ends with yfinance's timeout: that batch's tickers are reported as
    failed, the other batches' prices are kept (after a first batch that answered), and nothing failed is cached."""
    good = FakeDownloader()
    timeouts: list[float] = []

    def zzz_times_out(tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        if "ZZZ" in tickers:
            timeouts.append(kwargs["timeout"])
            raise TimeoutError("Read timed out. (read timeout=20.0)")
        return good(tickers, **kwargs)

    frame, report = provider(tmp_path, zzz_times_out, batch_size=1).prices(["QQQ", "ZZZ"], START, END)
    assert timeouts == [20.0]  # bounded, and not retried as if it were a rate limit
    assert report.failed_tickers == ("ZZZ",)
    assert frame["QQQ"].notna().any()
    assert any("TimeoutError" in w for w in report.warnings)
    fresh = FakeDownloader()
    provider(tmp_path, fresh, batch_size=1).prices(["QQQ", "ZZZ"], START, END)
    assert [tickers for tickers, _ in fresh.calls] == [["ZZZ"]], "only the failed ticker is fetched again"


@pytest.mark.parametrize("empty_first", [True, False])
def test_a_repeated_date_keeps_its_first_valid_price(empty_first: bool) -> None:
    frame = yf_frame(["AAA"], start="2022-03-29", end="2022-04-01")
    last = frame.iloc[[-1]].copy()
    empty = last.copy()
    empty.loc[:, :] = np.nan
    frame = pd.concat([frame.iloc[:-1], *((empty, last) if empty_first else (last, empty))])
    closes = extract_closes(frame, ["AAA"], auto_adjust=True)["AAA"]
    assert closes.index.is_unique and closes.loc["2022-03-31"] == frame["Close"]["AAA"].dropna().iloc[-1]


class FilledHolidayDownloader(FakeDownloader):
    """yf_frame with Presidents' Day, Monday 2022-02-21, written as a row of the previous
    closes (a filled holiday), as a grid-filling mirror of Yahoo might return it."""

    def __call__(self, tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        frame = super().__call__(tickers, **kwargs)
        frame.loc[pd.Timestamp("2022-02-21")] = frame.loc[pd.Timestamp("2022-02-18")]
        return frame


def test_a_filled_holiday_in_a_download_is_dropped_and_reported(tmp_path: Path) -> None:
    """The one rule of every price layout (engine.data.prices.without_filled_days) serves the
    download too: the repeated weekday is dropped and counted, rows read = kept + dropped."""
    frame, report = provider(tmp_path, FilledHolidayDownloader()).prices(["AAA", "QQQ"], START, END)
    assert pd.Timestamp("2022-02-21") not in frame.index
    (filled,) = report.dropped
    assert filled.examples == ("2022-02-21 (Mon)",) and "NYSE holiday" in filled.reason
    assert report.rows_read == report.rows_kept + report.rows_dropped == len(frame) + 1
