"""Data providers and the one function that turns a provider into ``MarketData``.

A provider delivers a clean sentiment table and clean adjusted closes (the shapes of
``engine.data.types``), each with a ``ValidationReport``. ``load_market_data`` is the only
place that decides which price window a backtest needs and which tickers failed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

from engine.data.prices import trading_days_of, window_reason
from engine.data.quality import price_quality_warnings
from engine.data.reading import ReadOptions
from engine.data.symbols import (
    is_ticker,
    normalise_ticker,
    share_class_refusal,
    spaced_share_class_dash,
    with_spelling_hint,
)
from engine.data.types import DroppedRows, MarketData, SourceInfo, ValidationReport
from engine.data.validation import iso_day, priced_days, refuse_sparse_bars, refused_share_classes
from engine.errors import DataValidationError, EngineError, ParameterError, short_repr, whole_number_text

# Risk-based weightings need a trailing window of returns before the first signal:
# MAX_LOOKBACK_DAYS (756) trading days are 756 / 5 * 7 = 1059 calendar days, plus 5% for
# exchange holidays.
PRICE_DAYS_BEFORE = 1112
# The last holding period needs prices after the last sentiment row, at worst (quarterly,
# a row on a quarter's first day): its formation period ends up to 91 days later, the
# holding period runs to the next quarter's end (up to 92 days more: Jul 1 - Dec 31 is
# 184 days), and every entry may come MAX_LAG_DAYS (60) trading days late: 84 calendar
# days plus a first quarter's holidays. On the NYSE's sessions of 1995-2026 that is at
# most 274 days (tested); 280 leaves a few for one-off closures. 120 days cut a quarterly
# holding period short (breaker pass 10, F1): a truncated file held less than it uncut.
PRICE_DAYS_AFTER = 280
DATA_SOURCES = ("demo", "files", "yahoo")
DEFAULT_YAHOO_CACHE = Path.home() / ".cache" / "sentiment-portfolio-lab" / "yahoo"


@runtime_checkable
class DataProvider(Protocol):
    """Where sentiment and prices come from (demo, files, Yahoo Finance)."""

    @property
    def info(self) -> SourceInfo: ...

    def sentiment(self) -> tuple[pd.DataFrame, ValidationReport]: ...

    def prices(
        self, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
    ) -> tuple[pd.DataFrame, ValidationReport]: ...


def load_market_data(
    provider: DataProvider,
    *,
    benchmark: str = "QQQ",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> MarketData:
    """Sentiment + the prices it needs (every symbol and the benchmark), validated and fingerprinted.

    Prices cover the sentiment's date range widened by ``PRICE_DAYS_BEFORE`` calendar days
    before and ``PRICE_DAYS_AFTER`` after. ``start``/``end`` only narrow the sentiment (and
    ``end`` the prices). Tickers without any price are listed in ``report.failed_tickers``
    with a warning; their sentiment rows are kept (the backtest cannot invest in them).
    The report's warnings include the price-quality warnings of the loaded closes
    (``engine.data.quality.price_quality_warnings``: missing sessions, frozen closes,
    split-like moves). Raises ``DataValidationError`` (one sentence) for a benchmark without prices and for
    weekly or monthly price bars (``refuse_sparse_bars``: the median gap between the price
    days of the window, or of those from the first sentiment date, is more than 4 calendar
    days).
    """
    benchmark = _check_benchmark(benchmark)
    sentiment, sentiment_report = provider.sentiment()
    narrowed = _filter_sentiment(sentiment, start, end)
    if len(narrowed) < len(sentiment):  # rows of the file: read = kept + dropped
        outside = DroppedRows(reason=window_reason(start, end), count=len(sentiment) - len(narrowed))
        sentiment_report = dataclasses.replace(
            sentiment_report,
            rows_kept=sentiment_report.rows_kept - outside.count,
            dropped=(*sentiment_report.dropped, outside),
        )
    sentiment = narrowed
    first, last = sentiment["date"].min(), sentiment["date"].max()
    price_start = (first - pd.Timedelta(days=PRICE_DAYS_BEFORE)).date()
    price_end = (last + pd.Timedelta(days=PRICE_DAYS_AFTER)).date()
    if end is not None:
        price_end = min(price_end, end)
    # Each symbol's first sentiment row (a group-by on the Arrow strings: iterating them one
    # by one, as set() does, took ~0.16 s per pass on a million rows).
    first_rows = sentiment.groupby("symbol", sort=True)["date"].min()
    sentiment_symbols = [str(symbol) for symbol in first_rows.index]
    symbols = sorted(set(sentiment_symbols) | {benchmark})
    prices, price_report = provider.prices(symbols, price_start, price_end)
    prices = prices[[c for c in prices.columns if prices[c].notna().any()]]
    # The trading days are the sentiment's symbols' (trading_days_of): neither the benchmark
    # nor a column the run does not use (a BTC-USD priced on Saturdays) makes a trading day,
    # and a symbol decides only from its first sentiment row on (causal: breaker pass 4, F1).
    long = any(r.layout == "long" for r in price_report.reading)
    prices, calendar = trading_days_of(
        prices,
        sentiment_symbols,
        whose="the sentiment's symbols",
        cells=long,
        first_rows=dict(zip(sentiment_symbols, first_rows.tolist(), strict=True)),
    )
    if calendar:
        price_report = dataclasses.replace(
            price_report,
            rows_kept=price_report.rows_kept - sum(d.count for d in calendar if d.unit == "rows"),
            dropped=(*price_report.dropped, *calendar),
            first_date=iso_day(prices.index.min()),
            last_date=iso_day(prices.index.max()),
        )
    # Weekly or monthly bars read as daily closes annualise over 252 "days": refused, judged
    # over the whole window and over the sentiment's span, the days the runs evaluate (weekly
    # bars after three years of daily history passed on the whole window's median: CAGR 65.5%
    # where 10.96% is right; breaker pass 2, G4).
    price_file = price_report.reading[0].file if price_report.reading else "the price data"
    days = priced_days(prices)
    refuse_sparse_bars(days, price_file)
    refuse_sparse_bars(days[days >= first], price_file)
    failed = tuple(sorted(set(symbols) - set(map(str, prices.columns))))
    # BRK/B, 'BRK B', BRK_B in the price file: dropped there, and the hint for the BRK.B asked.
    refused = refused_share_classes(price_report.dropped)
    if benchmark in failed:
        hint = _spelling_hints(provider, (benchmark,), price_start, price_end, refused).get(benchmark)
        raise DataValidationError(
            f"no prices for the benchmark {with_spelling_hint(benchmark, hint)} "
            f"between {price_start} and {price_end}; choose another benchmark or add it to the price file"
        )
    # Closes that are consistent yet untrustworthy (missing sessions, frozen closes,
    # split-like moves) on the run's trading days: price warnings, the closes unchanged.
    quality = price_quality_warnings(prices)
    if quality:
        price_report = dataclasses.replace(
            price_report, warnings=(*price_report.warnings, *quality), price_quality=quality
        )
    # Each dropped group names its file: the merged report lists both files' groups.
    report = _from_file(sentiment_report, "the sentiment data").merge(
        _from_file(price_report, "Yahoo Finance" if provider.info.kind == "yahoo" else "the price data")
    )
    if failed:
        hints = _spelling_hints(provider, failed, price_start, price_end, refused)
        unpriced = ValidationReport(failed_tickers=failed, spelling_hints=tuple(sorted(hints.items())))
        named = unpriced.failed_named()
        shown = ", ".join(named[:20]) + (f" and {len(failed) - 20} more" if len(failed) > 20 else "")
        warning = f"no usable prices for {len(failed)} symbol(s), which cannot be held: {shown}"
        report = report.merge(dataclasses.replace(unpriced, warnings=(warning,)))
    for where, names in (("sentiment", sentiment["symbol"].unique()), ("prices", prices.columns)):
        for spellings in two_spellings(map(str, names)):
            report = _with(
                report,
                failed=(),
                warning=f"{where}: {' and '.join(spellings)} look like one share class spelled two ways; "
                "they are kept as separate symbols (rename one to merge them)",
            )
    return MarketData.build(sentiment=sentiment, prices=prices, source=provider.info, report=report)


SHARE_CLASS_MARKS = (".", "-", "/")


def two_spellings(symbols: Iterable[str]) -> list[tuple[str, ...]]:
    """Groups of symbols that differ only in their share-class mark (BRK.B, BRK-B), each
    group sorted; one table holding both is most likely one share class spelled twice."""
    groups: dict[str, set[str]] = {}
    for symbol in symbols:
        if any(mark in symbol for mark in SHARE_CLASS_MARKS):
            canonical = symbol
            for mark in SHARE_CLASS_MARKS:
                canonical = canonical.replace(mark, "-")
            groups.setdefault(canonical, set()).add(symbol)
    return [tuple(sorted(group)) for _, group in sorted(groups.items()) if len(group) > 1]


# Reuters (RIC) suffixes of US exchanges whose bare ticker is the same listed share: AAPL.O
# (Nasdaq; LSEG's RIC table, MSFT.O), AAPL.OQ (Nasdaq Global Select; reuters.com's
# company pages), IBM.N (NYSE; the RIC article's own example). A data vendor's AAPL.O is the
# AAPL of Yahoo and of most price files. Left out, each because the same suffix means
# another security on a Yahoo-style ticker: .PK (OTC Pink) and .OB (OTC Bulletin Board) are
# over-the-counter quotes (Investopedia, "What does .PK mean"), not a US exchange listing of
# the bare ticker; .A/.B/.C are share classes (BRK.B, RDS.A); .P and .K also mean a
# preferred issue and non-voting shares (Investopedia), though RIC uses them for NYSE Arca.
RIC_US_SUFFIXES = ("O", "OQ", "N")
# Stooq and EOD Historical Data suffix every US listing with .US (aapl.us, AAPL.US): the
# bare ticker too. The suffixes whose bare ticker is the same US listing, both ways.
US_LISTING_SUFFIXES = (*RIC_US_SUFFIXES, "US")
# Yahoo's one-letter exchange suffixes (London VOD.L, Tokyo 7203.T, Frankfurt MSF.F, TSX
# Venture .V): a one-letter suffix that is not one of them is a share class (BRK.B -> BRK-B).
YAHOO_ONE_LETTER_EXCHANGES = ("F", "L", "T", "V")


def spelling_variants(symbol: str) -> list[str]:
    """Other spellings of the same security, most likely first: the share class with the
    other marks (BRK.B -> [BRK-B, BRK/B]), then its Reuters spelling, the class letter
    appended to the root with a US exchange suffix (LSEG's BRKb.N, upper-cased as every
    symbol is: BRK.B -> [..., BRKB.N, BRKB.O, BRKB.OQ, BRKB]); for a Reuters US suffix, the bare
    ticker (AAPL.O, AAPL.US -> [AAPL]; only ``_spelling_hints`` asks the reverse, AAPL -> AAPL.O)."""
    marks = [m for m in SHARE_CLASS_MARKS if m in symbol]
    if len(marks) != 1:
        return []
    base, _, suffix = symbol.partition(".")
    if suffix in US_LISTING_SUFFIXES:
        return [base]
    root, _, share_class = symbol.partition(marks[0])
    # The class letter appended without an exchange (a price column 'BRKb', upper-cased as
    # every symbol is: BRKB) is the same Reuters spelling without its suffix.
    reuters = (
        [f"{root}{share_class}.{exchange}" for exchange in ("N", "O", "OQ")] + [f"{root}{share_class}"]
        if len(share_class) == 1
        else []
    )
    return [symbol.replace(marks[0], other) for other in SHARE_CLASS_MARKS if other != marks[0]] + reuters


def refused_spelling_hints(failed: Iterable[str], refused: Iterable[str]) -> dict[str, str]:
    """Failed symbol -> the share class the price data wrote with '/', '_' or a space and so
    refused (``refused_share_classes``), as written: BRK.B or BRK-B asked, a price column
    'BRK/B' -> ``{"BRK.B": "BRK/B"}`` (``with_spelling_hint`` then says how to write it)."""
    by_dash: dict[str, str] = {}
    for name in refused:
        dash = spaced_share_class_dash(name)
        if dash is not None:
            by_dash.setdefault(dash, name)
    marks = str.maketrans({mark: "-" for mark in SHARE_CLASS_MARKS})
    return {s: by_dash[key] for s in failed if (key := s.translate(marks)) in by_dash}


def _spelling_hints(
    provider: DataProvider,
    failed: Sequence[str],
    start: dt.date,
    end: dt.date,
    refused: Sequence[str] = (),
) -> dict[str, str]:
    """Failed symbol -> the spelling that has prices (Yahoo: its documented dash spelling);
    else the spelling the price data wrote with a refused mark (``refused``: BRK/B)."""
    return {**refused_spelling_hints(failed, refused), **_priced_hints(provider, failed, start, end)}


def _priced_hints(
    provider: DataProvider, failed: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, str]:
    """Failed symbol -> the spelling that has prices (Yahoo: its documented dash spelling)."""
    candidates = {symbol: spelling_variants(symbol) for symbol in failed[:50]}
    if provider.info.kind == "yahoo":  # Yahoo spells share classes with '-'; asking costs a download
        return {s: hint for s in candidates if (hint := _yahoo_hint(s)) is not None}
    # A bare ticker in one file and its Reuters or Stooq spelling in the other (AAPL vs AAPL.O, AAPL.US).
    for symbol, variants in candidates.items():
        if not variants and "." not in symbol:
            variants.extend(f"{symbol}.{suffix}" for suffix in US_LISTING_SUFFIXES)
            # BRKB in one file, BRK-B or BRK.B in the other: the last letter as a share class.
            if len(symbol) >= 3 and symbol[-1].isalpha() and symbol[:-1].isalnum():
                variants.extend(f"{symbol[:-1]}{mark}{symbol[-1]}" for mark in ("-", "."))
    candidates = {s: v for s, v in candidates.items() if v}
    if not candidates:
        return {}
    wanted = sorted({v for variants in candidates.values() for v in variants if is_ticker(v)})
    try:
        found, _ = provider.prices(wanted, start, end)
    except EngineError:
        return {}
    priced = {str(c) for c in found.columns if found[c].notna().any()}
    hints = {}
    for symbol, variants in candidates.items():
        match = next((v for v in variants if v in priced), None)
        if match is not None:
            hints[symbol] = match
    return hints


def _yahoo_hint(symbol: str) -> str | None:
    """The Yahoo spelling of a failed symbol, without a download: the bare ticker for a
    Reuters or Stooq US suffix (AAPL.O, AAPL.US -> AAPL), the dash for a one-letter share class (BRK.B,
    BRK/B -> BRK-B); None for Yahoo's own exchange suffixes (VOD.L, 7203.T, SHOP.TO), OTC
    suffixes (BAC.PK) and anything else, which a dash would turn into another security."""
    if "-" in symbol:
        return None
    base, mark, suffix = symbol.replace("/", ".").partition(".")
    if not mark or not base or "." in suffix:
        return None
    if suffix in US_LISTING_SUFFIXES:
        return base
    if len(suffix) == 1 and suffix.isalpha() and suffix not in YAHOO_ONE_LETTER_EXCHANGES:
        return f"{base}-{suffix}"
    return None


def _from_file(report: ValidationReport, default: str) -> ValidationReport:
    """``report`` with each dropped group's ``file`` set to the file(s) the report read
    (its reading records), else ``default``; a group that names its file keeps it."""
    name = " + ".join(r.file for r in report.reading) or default
    dropped = tuple(d if d.file else dataclasses.replace(d, file=name) for d in report.dropped)
    return dataclasses.replace(report, dropped=dropped)


def _check_benchmark(benchmark: str) -> str:
    cleaned = normalise_ticker(benchmark) if isinstance(benchmark, str) else ""
    refusal = share_class_refusal("benchmark", benchmark) if cleaned else None
    if refusal is not None:
        raise ParameterError(refusal)
    if not is_ticker(cleaned):
        raise ParameterError(f"benchmark must be a ticker symbol such as QQQ, got {short_repr(benchmark)}")
    return cleaned


def _filter_sentiment(sentiment: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    if start is not None and end is not None and start > end:
        raise ParameterError(f"start ({start}) must be before end ({end})")
    mask = pd.Series(True, index=sentiment.index)
    if start is not None:
        mask &= sentiment["date"] >= pd.Timestamp(start)
    if end is not None:
        mask &= sentiment["date"] <= pd.Timestamp(end)
    out = sentiment[mask].reset_index(drop=True)
    if out.empty:
        raise DataValidationError(
            f"the sentiment data has no rows between {start or 'the start'} and {end or 'the end'}"
        )
    return out


def _with(report: ValidationReport, *, failed: tuple[str, ...], warning: str) -> ValidationReport:
    return report.merge(ValidationReport(failed_tickers=failed, warnings=(warning,)))


# ----- configuration -------------------------------------------------------------------


def provider_from_env(env: Mapping[str, str]) -> DataProvider:
    """Provider selected by environment variables (the app's and the CLI's configuration).

    ``DATA_SOURCE`` = ``demo`` (default) | ``files`` | ``yahoo``; ``SENTIMENT_PATH`` (files,
    yahoo); ``PRICES_PATH`` (files); ``YAHOO_CACHE_DIR`` (yahoo); ``DEMO_SEED`` (demo);
    ``DATE_FORMAT``, ``DAYFIRST``, ``DECIMAL`` (files, yahoo: see ``engine.data.reading``;
    checked for every source). ``ParameterError`` for a bad setting.
    """
    source = (env.get("DATA_SOURCE") or "demo").strip().lower()
    if source not in DATA_SOURCES:
        raise ParameterError(f"DATA_SOURCE must be one of {', '.join(DATA_SOURCES)}, got {source!r}")
    # Checked whatever the source: a bad setting is refused when it is read, not when a
    # later upload or source switch first uses it.
    options = _read_options(env)
    if source == "demo":
        from engine.data.demo import DemoProvider

        return DemoProvider(seed=_seed(env.get("DEMO_SEED")))
    sentiment_path = (env.get("SENTIMENT_PATH") or "").strip()
    if not sentiment_path:
        raise ParameterError(f"DATA_SOURCE={source} needs SENTIMENT_PATH (the sentiment CSV file)")
    if source == "files":
        from engine.data.files import FileProvider

        prices_path = (env.get("PRICES_PATH") or "").strip()
        return FileProvider(
            sentiment=Path(sentiment_path), prices=Path(prices_path) if prices_path else None, options=options
        )
    from engine.data.yahoo import YahooProvider

    return YahooProvider(sentiment=Path(sentiment_path), cache_dir=yahoo_cache_dir(env), options=options)


def yahoo_cache_dir(env: Mapping[str, str]) -> Path:
    """Where downloaded Yahoo prices are kept: ``env["YAHOO_CACHE_DIR"]`` (blank = unset),
    else ``DEFAULT_YAHOO_CACHE``. The one reader of the name for ``provider_from_env`` and
    the CLI (which passes its environment, read once at start); nothing here reads
    ``os.environ``."""
    configured = (env.get("YAHOO_CACHE_DIR") or "").strip()
    return Path(configured) if configured else DEFAULT_YAHOO_CACHE


def _read_options(env: Mapping[str, str]) -> ReadOptions:
    """``DATE_FORMAT`` (e.g. %d/%m/%Y), ``DAYFIRST`` (true/false), ``DECIMAL`` (. or ,)."""
    raw_dayfirst = (env.get("DAYFIRST") or "").strip().lower()
    if raw_dayfirst not in ("", "true", "false", "1", "0", "yes", "no"):
        raise ParameterError(f"DAYFIRST must be true or false, got {env.get('DAYFIRST')!r}")
    return ReadOptions(
        date_format=(env.get("DATE_FORMAT") or "").strip() or None,
        dayfirst=None if not raw_dayfirst else raw_dayfirst in ("true", "1", "yes"),
        decimal=(env.get("DECIMAL") or "").strip() or None,
    )


def _seed(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return 7
    seed = whole_number_text(raw, "DEMO_SEED")
    if seed < 0:
        raise ParameterError(f"DEMO_SEED must be a non-negative integer, got {short_repr(raw.strip())}")
    return seed
