"""Data containers shared by the data layer, the backtest, the sweeps and the dashboard.

Shapes (the contract every module codes against):

- sentiment: ``pd.DataFrame`` with exactly ``SENTIMENT_COLUMNS``; ``date`` is
  ``datetime64[ns]`` normalised to midnight, ``symbol`` is an upper-case ticker string,
  the five count columns are ``float64`` (``twitterSentiment`` may be NaN), sorted by
  (date, symbol), unique on (date, symbol), default RangeIndex.
- prices: ``pd.DataFrame`` of adjusted closes, ``DatetimeIndex`` named ``date``
  (sorted, unique, normalised), one ``float64`` column per ticker (columns named by the
  ticker, sorted), NaN where the symbol has no price that day. The benchmark is a column.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Literal

import pandas as pd

from engine.data.symbols import with_spelling_hint

# Trading days a year: the one constant of every annualisation (metrics, the daily
# risk-free rate ``risk_free / TRADING_DAYS``, the weightings, the demo data's daily drift
# and volatility) and of "shorter than a year". Here, in the lowest layer, so that every
# layer reads the same number.
TRADING_DAYS = 252

SENTIMENT_COLUMNS: tuple[str, ...] = (
    "date",
    "symbol",
    "twitterPosts",
    "twitterComments",
    "twitterLikes",
    "twitterImpressions",
    "twitterSentiment",
)
COUNT_COLUMNS: tuple[str, ...] = SENTIMENT_COLUMNS[2:]

SourceKind = Literal["demo", "files", "yahoo", "upload"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SourceInfo:
    """Where the data came from; shown on every page (honest UI)."""

    kind: SourceKind
    label: str  # e.g. "Demo data (SYNTHETIC, seed 7)" or "sentiment_data.csv + Yahoo Finance"
    synthetic: bool
    detail: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class DroppedRows:
    """A group of input rows that was not used, and why."""

    reason: str  # one plain sentence, e.g. "twitterLikes is negative"
    count: int
    examples: tuple[str, ...] = ()  # a few row numbers / symbols, for the report
    # What ``count`` counts: "rows" of the file (rows_read = rows_kept + the rows dropped),
    # or "cells" / "columns" dropped inside rows that are kept.
    unit: str = "rows"
    # The file (or source) the rows came from, set by ``load_market_data`` when it merges
    # the sentiment and price reports ("" when unknown: a report read alone).
    file: str = ""

    def count_text(self) -> str:
        """The count in its unit, singular for one: "1,560 rows", "1 cell", "2 columns"."""
        unit = self.unit[:-1] if self.count == 1 and self.unit.endswith("s") else self.unit
        return f"{self.count:,} {unit}"

    def record(self) -> dict[str, Any]:
        """The group as plain JSON values (``ValidationReport.record``)."""
        return {
            "file": self.file,
            "count": int(self.count),
            "unit": self.unit,
            "reason": self.reason,
            "examples": list(self.examples),
        }


# Failed tickers named in one note; the rest are counted ("and 12 more").
MAX_FAILED_NAMED = 15

SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
MARK_NAMES = {" ": "space", "\u00a0": "no-break space", "\u202f": "narrow no-break space"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class FileReading:
    """How one file was read (shown in the report, the Data page and the CLI)."""

    file: str
    kind: str = "csv"  # "csv" | "parquet" | "table"
    separator: str | None = None
    decimal: str | None = None
    # The cell that can only be read with ``decimal`` where the other mark was asked for
    # (``engine.data.reading.detect_decimal``), or None.
    decimal_overruled_by: str | None = None
    thousands: str | None = None
    currency: str | None = None  # the currency sign(s) written around numbers ("$1,234.50")
    percent: tuple[str, ...] = ()  # columns written as percentages ("12.5%"), read as fractions
    # Empty lines (or lines of separators only, ",,,") above the header, skipped as pandas
    # skips blank lines (``engine.data.reading.skip_empty_lines``).
    empty_lines_skipped: int = 0
    date_format: str | None = None  # a description, e.g. "ISO 8601" or "%d/%m/%Y (day first)"
    layout: str | None = None  # "sentiment" | "wide" | "long" | "Yahoo Finance export"
    symbol_column: str | None = None
    price_column: str | None = None

    def describe(self) -> str:
        """One sentence, e.g. "prices.csv: CSV, separator ';', decimal ',', dates %d/%m/%Y, ..."."""
        parts = [self.kind.upper() if self.kind != "table" else "in-memory table"]
        if self.empty_lines_skipped:
            n = self.empty_lines_skipped
            parts.append(f"{n} empty line{'s' if n != 1 else ''} above the header skipped")
        if self.separator is not None:
            parts.append(f"separator {SEPARATOR_NAMES.get(self.separator, repr(self.separator))}")
        if self.decimal is not None:
            asked = "," if self.decimal == "." else "."
            against = (
                f" (not the {asked!r} asked for: numbers such as {self.decimal_overruled_by!r} can only be read so)"
                if self.decimal_overruled_by is not None
                else ""
            )
            parts.append(f"decimal mark {self.decimal!r}{against}")
        if self.thousands is not None:
            parts.append(f"thousands mark {MARK_NAMES.get(self.thousands, repr(self.thousands))}")
        if self.currency is not None:
            parts.append(f"currency sign {self.currency} removed from numbers")
        if self.percent:
            parts.append(f"percentages read as fractions in {', '.join(self.percent)}")
        if self.date_format is not None:
            parts.append(f"dates {self.date_format}")
        if self.layout is not None:
            layout = f"{self.layout} layout"
            if self.symbol_column:
                layout += f" (symbols from {self.symbol_column!r})"
            parts.append(layout)
        if self.price_column is not None:
            parts.append(f"prices from {self.price_column!r}")
        return f"{self.file}: " + ", ".join(parts)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValidationReport:
    """What loading kept, dropped and warned about. Never hidden from the user."""

    rows_read: int = 0
    rows_kept: int = 0
    dropped: tuple[DroppedRows, ...] = ()
    warnings: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    failed_tickers: tuple[str, ...] = ()  # tickers for which no price could be had
    first_date: str | None = None  # ISO date
    last_date: str | None = None
    reading: tuple[FileReading, ...] = ()  # how each file was read (dialect, dates, layout)
    # (failed symbol, the spelling the data has it under), one pair per failed symbol with a
    # hint, sorted: (("BRK.B", "BRK-B"),) when BRK.B was asked and the prices hold BRK-B.
    # ``engine.data.symbols.with_spelling_hint`` turns a pair into "BRK.B (did you mean BRK-B?)".
    spelling_hints: tuple[tuple[str, str], ...] = ()
    # The price-quality sentences (``engine.data.quality``: missing sessions, frozen closes,
    # split-like moves), also among ``warnings``: they change the numbers of every run on
    # these closes, so every results page and --out record repeats them (``notes``).
    price_quality: tuple[str, ...] = ()

    def failed_named(self) -> list[str]:
        """``failed_tickers``, each with its spelling hint when it has one:
        ``["BRK.B (did you mean BRK-B?)", "ZZZ"]`` (``with_spelling_hint``)."""
        hints = dict(self.spelling_hints)
        return [with_spelling_hint(s, hints.get(s)) for s in self.failed_tickers]

    def notes(self, *, cannot: str = "be held") -> list[str]:
        """The report's failed tickers, dropped input and price-quality findings as
        plain-words sentences, the one wording of every results page's notes and of the
        CLI's ``--out`` records: "No prices could be had for 1 ticker(s), which cannot be
        held: TAB.", "Dropped 1,560 rows of the input: symbol is not a ticker." and each of
        ``price_quality``. ``cannot``: what a ticker without prices cannot do there ("be
        held", "be analysed")."""
        notes = []
        failed = self.failed_named()
        if failed:
            shown = ", ".join(failed[:MAX_FAILED_NAMED])
            if len(failed) > MAX_FAILED_NAMED:
                shown += f" and {len(failed) - MAX_FAILED_NAMED} more"
            notes.append(
                f"No prices could be had for {len(failed)} ticker(s), which cannot {cannot}: {shown}."
            )
        notes.extend(f"Dropped {d.count_text()} of the input: {d.reason}." for d in self.dropped)
        notes.extend(self.price_quality)
        return notes

    def record(self, *, cannot: str = "be held") -> dict[str, Any]:
        """What a run's saved files say of its input (the CLI's ``--out``: manifest.json,
        robustness.json, the CSVs' ``data_report`` line): rows read and kept, the failed
        tickers, each dropped group with its file, count, unit, reason and examples, and the
        ``notes`` sentences."""
        return {
            "rows_read": int(self.rows_read),
            "rows_kept": int(self.rows_kept),
            "failed_tickers": list(self.failed_tickers),
            "dropped": [d.record() for d in self.dropped],
            "notes": self.notes(cannot=cannot),
        }

    @property
    def rows_dropped(self) -> int:
        """Rows dropped for any reason: ``rows_read == rows_kept + rows_dropped``."""
        return sum(d.count for d in self.dropped if d.unit == "rows")

    def merge(self, other: ValidationReport) -> ValidationReport:
        """Combine the sentiment report with the price report."""
        return ValidationReport(
            rows_read=self.rows_read + other.rows_read,
            rows_kept=self.rows_kept + other.rows_kept,
            dropped=self.dropped + other.dropped,
            warnings=self.warnings + other.warnings,
            symbols=tuple(sorted(set(self.symbols) | set(other.symbols))),
            failed_tickers=tuple(sorted(set(self.failed_tickers) | set(other.failed_tickers))),
            first_date=min(filter(None, (self.first_date, other.first_date)), default=None),
            last_date=max(filter(None, (self.last_date, other.last_date)), default=None),
            reading=self.reading + other.reading,
            # One hint per symbol; this report's wins when both name one.
            spelling_hints=tuple(sorted({**dict(other.spelling_hints), **dict(self.spelling_hints)}.items())),
            price_quality=self.price_quality + other.price_quality,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class MarketData:
    """Validated inputs of a backtest. Build with ``MarketData.build`` to get the fingerprint."""

    sentiment: pd.DataFrame
    prices: pd.DataFrame
    source: SourceInfo
    report: ValidationReport = ValidationReport()
    fingerprint: str = ""

    @classmethod
    def build(
        cls,
        *,
        sentiment: pd.DataFrame,
        prices: pd.DataFrame,
        source: SourceInfo,
        report: ValidationReport | None = None,
    ) -> MarketData:
        return cls(
            sentiment=sentiment,
            prices=prices,
            source=source,
            report=report or ValidationReport(),
            fingerprint=fingerprint_frames(sentiment, prices),
        )


def fingerprint_frames(*frames: pd.DataFrame) -> str:
    """Stable content hash (16 hex chars) of the frames, used in cache keys and manifests."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()[:16]
