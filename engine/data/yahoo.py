"""Adjusted closes from Yahoo Finance (the only module of the engine that imports yfinance).

Downloads go in batches of tickers through an ``Executor`` (serial, or Ray when the
caller supplies one). Each batch retries with exponential backoff and jitter when Yahoo
rate-limits (``YFRateLimitError``) or returns nothing at all; tickers that still have no
price are reported as failed, never silently dropped. Every ticker that did get prices is
cached on disk as Parquet, keyed by ticker, date range and adjustment, so a repeated
request does not touch the network; failed or empty tickers are never cached.

yfinance is imported lazily so that ``import engine`` stays fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import time
import uuid
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from engine.data.prices import normalise_price_frame, resolve_repeated_closes, without_filled_days
from engine.data.reading import DEFAULT_OPTIONS, ReadOptions
from engine.data.symbols import is_ticker, normalise_ticker
from engine.data.tables import PathOrBytes, read_csv_with_dialect, read_source, safe_label
from engine.data.types import SourceInfo, ValidationReport
from engine.data.validation import validate_sentiment
from engine.errors import DataUnavailableError, ParameterError, short_repr
from engine.jobs import Executor, SerialExecutor

DEFAULT_START = dt.date(2000, 1, 1)  # when the caller asks for "everything"
MAX_JITTER = 0.5  # each delay is base * 2**attempt * (1 + U[0, MAX_JITTER))
# yfinance's per-request timeout, passed explicitly so a hung connection cannot hold a
# batch (and the dashboard request waiting on it) for ever; a timeout is reported, not retried.
DOWNLOAD_TIMEOUT_S = 20.0

Downloader = Callable[..., Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DownloadSettings:
    """What every batch needs (the ``shared`` payload of ``Executor.map``; picklable)."""

    downloader: Downloader | None  # None -> yfinance.download, resolved in the worker
    sleep: Callable[[float], None]
    max_retries: int
    base_delay: float
    auto_adjust: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class Batch:
    tickers: tuple[str, ...]
    start: str  # ISO date, inclusive
    end: str  # ISO date, exclusive (yfinance's convention)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BatchResult:
    closes: dict[str, pd.Series]  # ticker -> adjusted closes (non-empty)
    failed: tuple[str, ...]
    attempts: int
    error: str = ""  # last exception seen, one line


def backoff_delay(base_delay: float, attempt: int, key: str) -> float:
    """``base * 2**attempt`` stretched by a deterministic per-batch jitter (de-synchronises workers)."""
    fraction = (zlib.crc32(f"{key}:{attempt}".encode()) % 10_000) / 10_000
    return base_delay * (2.0**attempt) * (1.0 + MAX_JITTER * fraction)


# The modules whose warnings ``quiet_yfinance`` silences: yfinance's own (pandas' deprecation
# warnings are attributed to the yfinance line that calls pandas), not the engine's.
YFINANCE_MODULES = r"yfinance(\.|$)"


@contextlib.contextmanager
def quiet_yfinance() -> Iterator[None]:
    """yfinance's own log lines and warnings silenced for the duration of one download call;
    the logger's level and the warning filters are restored after. Offline, yfinance logged
    "Failed to get ticker 'AAPL' reason: ... curl: (6)" and "Cookie/crumb fetch failed" for
    each try, and pandas' deprecation warnings from its code (Pandas4Warning), before the
    engine's one sentence (breaker pass 13, F5); what failed is the engine's to say
    (``BatchResult.error``, the failed tickers and ``YahooProvider``'s sentences)."""
    logger = logging.getLogger("yfinance")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=YFINANCE_MODULES)
            yield
    finally:
        logger.setLevel(level)


def download_batch(settings: DownloadSettings, batch: Batch) -> BatchResult:
    """Download one batch with retries (module-level so Ray can pickle it)."""
    from yfinance.exceptions import YFRateLimitError

    download = settings.downloader
    if download is None:
        import yfinance

        download = yfinance.download
    remaining = list(batch.tickers)
    closes: dict[str, pd.Series] = {}
    error = ""
    attempt = 0
    for attempt in range(settings.max_retries + 1):
        retry = False
        try:
            with quiet_yfinance():
                frame = download(
                    remaining,
                    start=batch.start,
                    end=batch.end,
                    auto_adjust=settings.auto_adjust,
                    multi_level_index=True,
                    group_by="column",
                    # Daily bars on the exchange's own dates (yfinance's default for daily
                    # intervals, said explicitly): a UTC index would put an Asian close on the
                    # day before.
                    ignore_tz=True,
                    progress=False,
                    threads=False,
                    timeout=DOWNLOAD_TIMEOUT_S,
                )
            found = extract_closes(frame, remaining, auto_adjust=settings.auto_adjust)
            retry = not found  # nothing at all: typically a silent rate limit
        except YFRateLimitError as exc:
            found, retry, error = {}, True, str(exc) or "rate limited"
        except Exception as exc:  # network stack errors vary (curl_cffi, requests, ...); report, do not retry
            found, error = {}, f"{type(exc).__name__}: {str(exc)[:120]}"
        closes.update(found)
        remaining = [t for t in remaining if t not in found]
        if not remaining or not retry or attempt == settings.max_retries:
            break
        settings.sleep(backoff_delay(settings.base_delay, attempt, ",".join(batch.tickers)))
    # An error that a later attempt recovered from is not worth a warning.
    return BatchResult(
        closes=closes, failed=tuple(remaining), attempts=attempt + 1, error=error if remaining else ""
    )


def extract_closes(
    frame: pd.DataFrame | None, tickers: Sequence[str], *, auto_adjust: bool
) -> dict[str, pd.Series]:
    """Adjusted closes by ticker from a yfinance 1.x frame; all-NaN tickers are left out,
    a repeated date keeps each of its valid copies (``YahooProvider`` resolves them).

    ``Close`` is already adjusted when ``auto_adjust=True``; otherwise ``Adj Close`` is.
    Columns are a (Price, Ticker) MultiIndex with ``group_by="column"``.
    """
    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return {}
    field = "Close" if auto_adjust else "Adj Close"
    columns = frame.columns
    table: pd.DataFrame
    if isinstance(columns, pd.MultiIndex):
        # pandas-stubs types both selections as (possibly) a Series; one level of MultiIndex
        # columns is a DataFrame.
        if field in columns.get_level_values(0):
            table = cast(pd.DataFrame, frame[field])
        elif field in columns.get_level_values(-1):  # group_by="ticker" orientation
            table = cast(pd.DataFrame, frame.xs(field, axis=1, level=-1))
        else:
            return {}
    elif field in columns and len(tickers) == 1:
        table = frame[[field]].set_axis([tickers[0]], axis=1)
    else:
        return {}
    index = pd.DatetimeIndex(table.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    table = table.set_axis(index.as_unit("ns").normalize(), axis=0)
    out: dict[str, pd.Series] = {}
    for ticker in tickers:
        if ticker not in table.columns:
            continue
        series = pd.to_numeric(table[ticker], errors="coerce").astype("float64")
        series = series.where(np.isfinite(series) & (series > 0)).dropna()
        # A repeated date (yfinance #765: an empty copy, then the real bar) keeps its copies
        # here; ``YahooProvider`` resolves them by the rule of every price layout and reports them.
        if len(series):
            out[ticker] = series.rename(ticker)
    return out


# ----- cache ---------------------------------------------------------------------------


class PriceCache:
    """One Parquet file per (ticker, start, end, adjustment); writes are atomic."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, ticker: str, batch_start: str, batch_end: str, auto_adjust: bool) -> Path:
        kind = "adj" if auto_adjust else "adjclose"
        return self.directory / f"{ticker}_{batch_start}_{batch_end}_{kind}.parquet"

    def get(self, ticker: str, start: str, end: str, auto_adjust: bool) -> pd.Series | None:
        path = self.path(ticker, start, end, auto_adjust)
        if not path.is_file():
            return None
        try:
            series = pd.read_parquet(path)[ticker]
        except Exception:  # a corrupt or foreign file is a cache miss, not an error
            return None
        return series if series.notna().any() else None

    def put(self, ticker: str, start: str, end: str, auto_adjust: bool, series: pd.Series) -> None:
        if not series.notna().any():
            return  # never cache an empty answer
        path = self.path(ticker, start, end, auto_adjust)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            series.rename(ticker).to_frame().rename_axis("date").to_parquet(temporary)
            os.replace(temporary, path)  # atomic: readers never see half a file
        except Exception:  # read-only or full disk, Arrow error: it only costs a re-download later
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


# ----- provider ------------------------------------------------------------------------


class YahooProvider:
    """Sentiment from a file or frame + adjusted closes from Yahoo Finance (``DataProvider``)."""

    def __init__(
        self,
        *,
        sentiment: PathOrBytes | pd.DataFrame | None = None,
        cache_dir: Path,
        batch_size: int = 25,
        max_retries: int = 5,
        base_delay: float = 1.0,
        downloader: Downloader | None = None,
        sleep: Callable[[float], None] = time.sleep,
        executor: Executor | None = None,
        auto_adjust: bool = True,
        sentiment_name: str = "",
        options: ReadOptions = DEFAULT_OPTIONS,
        on_progress: Callable[[int, int], None] | None = None,
        max_bytes: int | None = None,  # the sentiment file's size limit, also once decompressed
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 200:
            raise ParameterError(f"batch_size must be an integer from 1 to 200, got {short_repr(batch_size)}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or not 0 <= max_retries <= 10:
            raise ParameterError(
                f"max_retries must be an integer from 0 to 10, got {short_repr(max_retries)}"
            )
        if not isinstance(base_delay, (int, float)) or not 0 <= base_delay <= 60:
            raise ParameterError(f"base_delay must be between 0 and 60 seconds, got {short_repr(base_delay)}")
        self._sentiment_source = sentiment
        self.options = options
        self.max_bytes = max_bytes
        self.on_progress = on_progress  # (tickers done, tickers to download), e.g. a terminal bar
        self.sentiment_name = sentiment_name or _source_name(sentiment)
        self.cache = PriceCache(Path(cache_dir))
        self.batch_size = batch_size
        self.settings = DownloadSettings(
            downloader=downloader,
            sleep=sleep,
            max_retries=max_retries,
            base_delay=float(base_delay),
            auto_adjust=bool(auto_adjust),
        )
        self.executor: Executor = executor or SerialExecutor()
        self._sentiment_cache: tuple[pd.DataFrame, ValidationReport] | None = None

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(
            kind="yahoo",
            label=(
                f"{self.sentiment_name} + Yahoo Finance"
                if self._sentiment_source is not None
                else "Yahoo Finance"
            ),
            synthetic=False,
            detail=(
                "adjusted closes from Yahoo Finance "
                f"({'Close, auto_adjust=True' if self.settings.auto_adjust else 'Adj Close'}), "
                f"cached in {self.cache.directory}"
            ),
        )

    def sentiment(self) -> tuple[pd.DataFrame, ValidationReport]:
        if self._sentiment_cache is None:
            source = self._sentiment_source
            if source is None:
                raise DataUnavailableError("no sentiment file was given (prices only from Yahoo Finance)")
            if isinstance(source, pd.DataFrame):
                self._sentiment_cache = validate_sentiment(
                    source.copy(), safe_label(self.sentiment_name), self.options
                )
            else:
                data, label = read_source(source, name=self.sentiment_name, max_bytes=self.max_bytes)
                raw, reading = read_csv_with_dialect(data, label, self.options)
                self._sentiment_cache = validate_sentiment(raw, label, self.options, reading)
        frame, report = self._sentiment_cache
        return frame.copy(), report

    def prices(
        self, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
    ) -> tuple[pd.DataFrame, ValidationReport]:
        wanted = sorted({normalise_ticker(str(s)) for s in symbols})
        invalid = [s for s in wanted if not is_ticker(s)]
        tickers = [s for s in wanted if is_ticker(s)]
        first = (start or DEFAULT_START).isoformat()
        last = ((end or dt.date.today()) + dt.timedelta(days=1)).isoformat()  # yfinance's end is exclusive
        auto_adjust = self.settings.auto_adjust
        closes: dict[str, pd.Series] = {}
        for ticker in tickers:
            cached = self.cache.get(ticker, first, last, auto_adjust)
            if cached is not None:
                closes[ticker] = cached
        missing = [t for t in tickers if t not in closes]
        batches = [
            Batch(tickers=tuple(missing[i : i + self.batch_size]), start=first, end=last)
            for i in range(0, len(missing), self.batch_size)
        ]
        results = self._download(batches)
        cacheable = dt.date.fromisoformat(last) <= dt.date.today()  # today's bar is still moving
        errors: list[str] = []
        for result in results:
            for ticker, series in result.closes.items():
                closes[ticker] = series
                if cacheable:
                    self.cache.put(ticker, first, last, auto_adjust, series)
            if result.error:
                errors.append(result.error)
        return self._assemble(wanted, closes, invalid, errors, start, end)

    def _download(self, batches: list[Batch]) -> list[BatchResult]:
        """Run the batches; if the first one gets nothing even after its retries, Yahoo is
        unreachable or blocking us, so the others are not tried (fail in ~30 s, not minutes)."""
        if not batches:
            return []
        total = sum(len(b.tickers) for b in batches)
        report = self.on_progress or (lambda done, total: None)
        report(0, total)
        first = self.executor.map(download_batch, batches[:1], shared=self.settings)
        head = len(batches[0].tickers)
        report(head, total)
        if not first[0].closes or len(batches) == 1:
            skipped = [BatchResult(closes={}, failed=b.tickers, attempts=0) for b in batches[1:]]
            report(total, total)
            return first + skipped
        sizes = [len(b.tickers) for b in batches[1:]]

        def on_batches(done: int, _n: int) -> None:
            report(head + sum(sizes[:done]), total)

        return first + self.executor.map(
            download_batch, batches[1:], shared=self.settings, on_progress=on_batches
        )

    def _assemble(
        self,
        wanted: list[str],
        closes: dict[str, pd.Series],
        invalid: list[str],
        errors: list[str],
        start: dt.date | None,
        end: dt.date | None,
    ) -> tuple[pd.DataFrame, ValidationReport]:
        failed = tuple(t for t in wanted if t not in closes)
        if not closes:
            raise DataUnavailableError(
                f"Yahoo Finance returned no prices for any of the {len(wanted)} ticker(s) "
                "(offline or rate limited); try again later, or give a price file instead (upload it on the Data page; "
                "CLI: --prices FILE; server: DATA_SOURCE=files)"
            )
        # The duplicate rule of every price layout, ticker by ticker (a stale copy yields).
        closes, repeated = resolve_repeated_closes(closes)
        frame = normalise_price_frame(pd.concat(closes, axis=1))
        if start is not None:
            frame = frame[frame.index >= pd.Timestamp(start)]
        if end is not None:
            frame = frame[frame.index <= pd.Timestamp(end)]
        rows_read = len(frame)
        # The one rule of every price layout: a day on which every ticker repeats its close
        # (a holiday filled forward) is not a trading day.
        frame, filled = without_filled_days(frame, unit="dates")
        warnings: list[str] = []
        if invalid:
            warnings.append(
                f"prices: not requested from Yahoo (not ticker symbols): {', '.join(map(repr, invalid[:5]))}"
            )
        if failed:
            warnings.append(
                f"prices: Yahoo Finance returned no prices for {len(failed)} ticker(s): "
                + ", ".join(failed[:20])
            )
        if errors:
            warnings.append(f"prices: download error: {errors[-1]}")
        report = ValidationReport(
            rows_read=rows_read,
            rows_kept=len(frame),
            dropped=repeated + filled,
            warnings=tuple(warnings),
            symbols=tuple(frame.columns),
            failed_tickers=failed,
            first_date=frame.index.min().date().isoformat() if len(frame) else None,
            last_date=frame.index.max().date().isoformat() if len(frame) else None,
        )
        return frame, report


def _source_name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    if isinstance(source, pd.DataFrame):
        return "sentiment table"
    if source is None:
        return "no sentiment"
    return "uploaded sentiment"
