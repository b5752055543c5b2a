"""load_market_data (price window, failed tickers, benchmark) and provider_from_env."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import (
    DataProvider,
    DataValidationError,
    DemoProvider,
    FileProvider,
    MarketData,
    ParameterError,
    SourceInfo,
    StrategyParams,
    ValidationReport,
    fingerprint_frames,
    load_market_data,
    provider_from_env,
    run_backtest,
)
from engine.backtest.plan import entry_closes
from engine.data.calendar import non_sessions
from engine.data.prices import select_prices
from engine.data.providers import PRICE_DAYS_AFTER, PRICE_DAYS_BEFORE
from engine.strategy.params import MAX_LAG_DAYS, REBALANCES
from engine.strategy.signals import period_keys


class StubProvider:
    """Two symbols of sentiment; prices for whatever ``available`` lists; records requests."""

    def __init__(self, available: Sequence[str] = ("AAA", "QQQ")) -> None:
        self.available = list(available)
        self.requests: list[tuple[tuple[str, ...], dt.date | None, dt.date | None]] = []

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(kind="files", label="stub", synthetic=False)

    def sentiment(self) -> tuple[pd.DataFrame, ValidationReport]:
        dates = pd.to_datetime(["2022-01-03", "2022-01-03", "2022-06-30", "2022-06-30"]).astype(
            "datetime64[ns]"
        )
        frame = pd.DataFrame(
            {
                "date": dates,
                "symbol": ["AAA", "BBB", "AAA", "BBB"],
                "twitterPosts": 1.0,
                "twitterComments": 2.0,
                "twitterLikes": 3.0,
                "twitterImpressions": 4.0,
                "twitterSentiment": [0.5, np.nan, 0.6, 0.4],
            }
        )
        return frame, ValidationReport(rows_read=4, rows_kept=4, symbols=("AAA", "BBB"))

    def prices(
        self, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
    ) -> tuple[pd.DataFrame, ValidationReport]:
        self.requests.append((tuple(symbols), start, end))
        index = pd.bdate_range("2020-01-01", "2023-12-29", name="date").astype("datetime64[ns]")
        full = pd.DataFrame({s: np.linspace(10, 20, len(index)) for s in self.available}, index=index)
        return select_prices(full, symbols, start, end)


def test_stub_and_builtin_providers_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(StubProvider(), DataProvider)
    assert isinstance(DemoProvider(n_symbols=5, years=1), DataProvider)
    assert isinstance(FileProvider(sentiment=tmp_path / "x.csv"), DataProvider)


def test_prices_are_requested_for_every_symbol_and_the_widened_range() -> None:
    provider = StubProvider(available=("AAA", "BBB", "QQQ"))
    data = load_market_data(provider)
    symbols, start, end = provider.requests[0]
    assert symbols == ("AAA", "BBB", "QQQ")
    assert start == dt.date(2022, 1, 3) - dt.timedelta(days=PRICE_DAYS_BEFORE)
    assert end == dt.date(2022, 6, 30) + dt.timedelta(days=PRICE_DAYS_AFTER)
    assert data.prices.index.min() >= pd.Timestamp(start) and data.prices.index.max() <= pd.Timestamp(end)
    assert data.report.failed_tickers == ()


@pytest.mark.parametrize("rebalance", REBALANCES)
def test_the_price_window_covers_the_last_holding_period_of_any_last_row(rebalance: str) -> None:
    # For every possible last sentiment day of 1995-2026 on the NYSE's sessions, the
    # closing sale (the entry close of the period after the last row's, MAX_LAG_DAYS late)
    # falls within PRICE_DAYS_AFTER calendar days of it: 120 days cut a quarterly holding
    # period short (breaker pass 10, F1). The bound is tight: at most one week of slack.
    weekdays = pd.bdate_range("1995-01-02", "2027-12-31")
    sessions = weekdays[~non_sessions(weekdays)].to_numpy().astype("datetime64[D]")
    last_rows = np.arange(np.datetime64("1995-01-01"), np.datetime64("2026-12-31"))
    closing = entry_closes(sessions, period_keys(last_rows, rebalance) + 1, rebalance, MAX_LAG_DAYS)
    needed = (sessions[closing] - last_rows).astype(np.int64)
    assert needed.max() <= PRICE_DAYS_AFTER
    if rebalance == "quarterly":
        assert needed.max() > PRICE_DAYS_AFTER - 7


def test_a_quarterly_last_holding_period_is_held_to_its_closing_sale() -> None:
    # Sentiment rows to 2021-07-02 (the first days of Q3), prices to 2022: Q3's signal is
    # bought at the 2021-09-30 close and sold at the 2021-12-31 close, the next quarter's
    # entry. With prices asked to 120 days after the last row (2021-10-30) the holding
    # period ended on 2021-10-29 without a word (breaker pass 10, F1).
    class QuarterProvider(StubProvider):
        def sentiment(self) -> tuple[pd.DataFrame, ValidationReport]:
            days = pd.bdate_range("2021-01-04", "2021-07-02").astype("datetime64[ns]")
            frame = pd.DataFrame(
                {
                    "date": np.repeat(days, 2),
                    "symbol": ["AAA", "BBB"] * len(days),
                    "twitterPosts": 1.0,
                    "twitterComments": np.tile([20.0, 10.0], len(days)),
                    "twitterLikes": 30.0,
                    "twitterImpressions": 40.0,
                    "twitterSentiment": 0.5,
                }
            )
            return frame, ValidationReport(rows_read=len(frame), rows_kept=len(frame), symbols=("AAA", "BBB"))

    data = load_market_data(QuarterProvider(available=("AAA", "BBB", "QQQ")))
    assert data.prices.index.max() >= pd.Timestamp("2021-12-31")
    result = run_backtest(data, StrategyParams(rebalance="quarterly", top_n=1, signal="comments"))
    assert result.returns.index.max() == pd.Timestamp("2021-12-31")
    assert str(pd.Timestamp(result.periods["period_end"].max()).date()) == "2021-12-31"


def test_ticker_without_prices_is_reported_not_silently_dropped() -> None:
    data = load_market_data(StubProvider(available=("AAA", "QQQ")))
    assert data.report.failed_tickers == ("BBB",)
    assert any("BBB" in w for w in data.report.warnings)
    assert "BBB" in set(data.sentiment["symbol"])  # sentiment kept; it just cannot be held
    assert "BBB" not in data.prices.columns


def test_all_nan_price_column_counts_as_failed() -> None:
    class NanProvider(StubProvider):
        def prices(self, symbols, start, end):  # type: ignore[override]
            frame, report = super().prices(symbols, start, end)
            frame = frame.assign(BBB=np.nan)
            return frame, report

    data = load_market_data(NanProvider(available=("AAA", "QQQ")))
    assert "BBB" in data.report.failed_tickers and "BBB" not in data.prices.columns


def test_missing_benchmark_raises_naming_it() -> None:
    with pytest.raises(DataValidationError, match="benchmark SPY"):
        load_market_data(StubProvider(), benchmark="SPY")


def test_bad_benchmark_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        load_market_data(StubProvider(), benchmark="=cmd|' /C calc'!A0")


def test_market_data_is_fingerprinted_and_labelled() -> None:
    data = load_market_data(StubProvider(available=("AAA", "BBB", "QQQ")))
    assert isinstance(data, MarketData)
    assert data.fingerprint == fingerprint_frames(data.sentiment, data.prices)
    assert data.source.label == "stub"
    # Merged with prices, which start PRICE_DAYS_BEFORE calendar days before the sentiment
    # (or where the stub's prices start, 2020-01-01).
    assert data.report.rows_read > 4 and data.report.first_date == "2020-01-01"


def test_start_end_filter_sentiment_and_cap_prices() -> None:
    provider = StubProvider(available=("AAA", "BBB", "QQQ"))
    data = load_market_data(provider, start=dt.date(2022, 6, 1), end=dt.date(2022, 7, 15))
    assert list(data.sentiment["date"].unique()) == [pd.Timestamp("2022-06-30")]
    _, start, end = provider.requests[0]
    assert start == dt.date(2022, 6, 30) - dt.timedelta(days=PRICE_DAYS_BEFORE)
    assert end == dt.date(2022, 7, 15)


def test_start_after_all_sentiment_is_a_clear_error() -> None:
    with pytest.raises(DataValidationError, match="no rows between"):
        load_market_data(StubProvider(), start=dt.date(2030, 1, 1))


def test_demo_market_data_has_the_lookback_window() -> None:
    data = load_market_data(DemoProvider(n_symbols=20, years=5))
    first_signal = data.sentiment["date"].min()
    assert (first_signal - data.prices.index.min()).days >= 395
    assert "QQQ" in data.prices.columns
    assert data.source.synthetic


# ----- provider_from_env ----------------------------------------------------------------


def test_env_defaults_to_demo_seed_7() -> None:
    provider = provider_from_env({})
    assert isinstance(provider, DemoProvider) and provider.info.label == "Demo data (SYNTHETIC, seed 7)"


def test_env_demo_seed() -> None:
    assert provider_from_env({"DATA_SOURCE": "demo", "DEMO_SEED": "12"}).info.label.endswith("seed 12)")


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DATA_SOURCE": "ftp"}, "DATA_SOURCE must be one of"),
        ({"DEMO_SEED": "abc"}, "DEMO_SEED"),
        ({"DATA_SOURCE": "files"}, "SENTIMENT_PATH"),
        ({"DATA_SOURCE": "yahoo"}, "SENTIMENT_PATH"),
    ],
)
def test_env_errors_are_parameter_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        provider_from_env(env)


def test_env_files(tmp_path: Path) -> None:
    provider = provider_from_env(
        {
            "DATA_SOURCE": "files",
            "SENTIMENT_PATH": str(tmp_path / "s.csv"),
            "PRICES_PATH": str(tmp_path / "p.parquet"),
        }
    )
    assert isinstance(provider, FileProvider)
    assert provider.info.kind == "files" and provider.info.label == "s.csv + p.parquet"


def test_env_yahoo(tmp_path: Path) -> None:
    from engine import YahooProvider

    provider = provider_from_env(
        {
            "DATA_SOURCE": "YAHOO",
            "SENTIMENT_PATH": str(tmp_path / "s.csv"),
            "YAHOO_CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    assert isinstance(provider, YahooProvider)
    assert provider.info.kind == "yahoo" and not provider.info.synthetic


def test_files_source_reads_with_the_date_options_from_the_environment(tmp_path: Path) -> None:
    from engine import provider_from_env

    sentiment = tmp_path / "s.csv"
    sentiment.write_text(
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "01/02/2022,AAA,1,2,3,4,\n05/02/2022,AAA,1,2,3,4,\n"
    )
    env = {"DATA_SOURCE": "files", "SENTIMENT_PATH": str(sentiment)}
    with pytest.raises(DataValidationError, match="ambiguous"):
        provider_from_env(env).sentiment()
    frame, _ = provider_from_env({**env, "DAYFIRST": "true"}).sentiment()
    assert list(frame["date"].dt.month) == [2, 2]
    with pytest.raises(ParameterError, match="DAYFIRST must be true or false"):
        provider_from_env({**env, "DAYFIRST": "maybe"})


def test_yahoo_share_class_hint_is_its_dash_spelling(tmp_path: Path) -> None:
    from engine.data.providers import _spelling_hints

    class Yahooish:
        info = SourceInfo(kind="yahoo", label="x", synthetic=False)

    hints = _spelling_hints(
        Yahooish(), ["BRK.B", "BF/B", "BRK-A", "AAA"], dt.date(2022, 1, 1), dt.date(2022, 2, 1)
    )
    assert hints == {"BRK.B": "BRK-B", "BF/B": "BF-B"}


def test_one_share_class_spelled_two_ways_in_one_table_is_warned(tmp_path: Path) -> None:
    """share-class-dot-dash kind, variant: BRK.B and BRK-B both in the sentiment file and
    both as price columns. They are two symbols as written (never merged silently), and
    each table says that two of its names look like one share class."""
    sentiment = tmp_path / "s.csv"
    sentiment.write_text(
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        + "".join(f"2022-0{m}-10,{s},1,5,50,100,0.1\n" for m in (1, 2, 3) for s in ("BRK.B", "BRK-B", "AAA"))
    )
    prices = tmp_path / "p.csv"
    days = pd.bdate_range("2021-12-01", "2022-05-31")
    prices.write_text("date,AAA,BRK.B,BRK-B,QQQ\n" + "".join(f"{d.date()},10,300,301,400\n" for d in days))
    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices))
    assert {"BRK.B", "BRK-B"} <= set(data.prices.columns)
    spelled = [w for w in data.report.warnings if "spelled two ways" in w]
    assert spelled == [
        "sentiment: BRK-B and BRK.B look like one share class spelled two ways; they are kept as "
        "separate symbols (rename one to merge them)",
        "prices: BRK-B and BRK.B look like one share class spelled two ways; they are kept as "
        "separate symbols (rename one to merge them)",
    ]


def test_share_classes_of_different_companies_are_not_one() -> None:
    from engine.data.providers import two_spellings

    assert two_spellings(["BRK.B", "BRK-A", "BF.B", "GOOG", "GOOGL", "BF/B"]) == [("BF.B", "BF/B")]


def _share_class_files(tmp_path: Path, sentiment_symbol: str, price_symbol: str) -> tuple[Path, Path]:
    sentiment = tmp_path / "s.csv"
    sentiment.write_text(
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        + "".join(f"2022-0{m}-10,{s},1,5,50,100,0.1\n" for m in (1, 2, 3) for s in (sentiment_symbol, "AAA"))
    )
    prices = tmp_path / "p.csv"
    days = pd.bdate_range("2021-12-01", "2022-05-31")
    # Prices move every day: a weekday on which every price repeats is a filled holiday.
    prices.write_text(
        f"date,AAA,{price_symbol},QQQ\n"
        + "".join(f"{d.date()},{10 + i / 100},{300 + i / 100},{400 + i / 100}\n" for i, d in enumerate(days))
    )
    return sentiment, prices


def test_benchmark_spelled_with_the_other_share_class_mark_gets_the_hint(tmp_path: Path) -> None:
    """share-class-dot-dash kind, as benchmark: --benchmark BRK.B with BRK-B in the price
    file was refused with no word of BRK-B."""
    sentiment, prices = _share_class_files(tmp_path, "BBB", "BRK-B")
    with pytest.raises(DataValidationError, match=r"benchmark BRK\.B .*\(did you mean BRK-B\?\)"):
        load_market_data(FileProvider(sentiment=sentiment, prices=prices), benchmark="BRK.B")


@pytest.mark.parametrize(
    ("written", "priced", "hint"),
    [("AAPL.O", "AAPL", "AAPL"), ("AAPL.OQ", "AAPL", "AAPL"), ("AAPL", "AAPL.O", "AAPL.O")],
)
def test_reuters_suffix_against_the_bare_ticker_gets_a_hint(
    tmp_path: Path, written: str, priced: str, hint: str
) -> None:
    """A vendor's AAPL.O (Reuters: Nasdaq) in one file and AAPL in the other: the failed
    symbol's warning names the spelling that has prices."""
    sentiment, prices = _share_class_files(tmp_path, written, priced)
    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices))
    assert data.report.failed_tickers == (written,)
    assert f"{written} (did you mean {hint}?)" in data.report.warnings[-1]


def test_yahoo_hint_for_a_reuters_suffix_is_the_bare_ticker() -> None:
    from engine.data.providers import _spelling_hints

    class Yahooish:
        info = SourceInfo(kind="yahoo", label="x", synthetic=False)

    hints = _spelling_hints(
        Yahooish(), ["AAPL.O", "IBM.N", "HEI.A"], dt.date(2022, 1, 1), dt.date(2022, 2, 1)
    )
    assert hints == {"AAPL.O": "AAPL", "IBM.N": "IBM", "HEI.A": "HEI-A"}


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("BAC.PK", None),  # OTC Pink quote, not a Reuters exchange suffix (was 'did you mean BAC?')
        ("XYZ.OB", None),  # OTC Bulletin Board
        ("BRK.B", "BRK-B"),
        ("BF.B", "BF-B"),
        ("RDS.A", "RDS-A"),
        ("VOD.L", None),  # Yahoo's own London suffix (was 'VOD-L')
        ("7203.T", None),  # Tokyo (was '7203-T')
        ("SHOP.TO", None),  # Toronto (was 'SHOP-TO')
        ("AAPL.OQ", "AAPL"),
        ("BRK-B", None),
    ],
)
def test_yahoo_hint_only_for_reuters_us_suffixes_and_share_classes(written: str, hint: str | None) -> None:
    from engine.data.providers import _spelling_hints

    class Yahooish:
        info = SourceInfo(kind="yahoo", label="x", synthetic=False)

    hints = _spelling_hints(Yahooish(), [written], dt.date(2022, 1, 1), dt.date(2022, 2, 1))
    assert hints == ({written: hint} if hint else {})


def test_otc_pink_suffix_against_the_bare_ticker_gets_no_hint(tmp_path: Path) -> None:
    """BAC.PK in the sentiment file and BAC priced: the OTC quote is not the NYSE listing,
    so the failed symbol is named without a 'did you mean BAC?'."""
    sentiment, prices = _share_class_files(tmp_path, "BAC.PK", "BAC")
    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices))
    assert data.report.failed_tickers == ("BAC.PK",)
    assert data.report.warnings[-1] == "no usable prices for 1 symbol(s), which cannot be held: BAC.PK"


@pytest.mark.parametrize("column", ["BRK/B", "BRK B", "BRK_B"])
def test_wide_price_column_with_a_refused_share_class_mark_says_how_to_write_it(
    tmp_path: Path, column: str
) -> None:
    """A wide price column BRK/B, 'BRK B' or BRK_B was ignored as 'not a ticker'; its reason
    now says to write BRK-B or BRK.B (the rule the long layout and the sentiment file use)."""
    _, prices = _share_class_files(tmp_path, "BRK.B", column)
    from engine import load_prices_file

    frame, report = load_prices_file(prices)
    assert list(frame.columns) == ["AAA", "QQQ"]
    (ignored,) = report.dropped
    assert ignored.unit == "columns" and ignored.examples == (repr(column),)
    assert "share class written with '/', '_' or a space (write BRK-B" in ignored.reason


def test_underscore_share_class_in_the_sentiment_file_gets_the_share_class_reason(tmp_path: Path) -> None:
    from engine import load_sentiment_csv

    sentiment, _ = _share_class_files(tmp_path, "BRK_B", "BRK-B")
    frame, report = load_sentiment_csv(sentiment)
    assert set(frame["symbol"]) == {"AAA"}
    assert [(d.reason.split(" (")[0], d.count) for d in report.dropped] == [
        ("symbol is a share class written with '/', '_' or a space", 3)
    ]


def test_underscore_names_that_are_not_share_classes_keep_the_plain_reason() -> None:
    from engine.data.symbols import is_spaced_share_class

    assert is_spaced_share_class("BRK_B") and is_spaced_share_class("brk/b") and is_spaced_share_class("BF B")
    assert not is_spaced_share_class("PX_LAST") and not is_spaced_share_class("OPEN_INT")
    # A company name is not a share class (it was told to "write BRK-B").
    assert not is_spaced_share_class("Apple Inc") and not is_spaced_share_class("Microsoft Corp")


@pytest.mark.parametrize("spelled", ["BRK/B", "brk b", "BRK_B"])
def test_benchmark_share_class_with_a_slash_or_space_says_how_to_write_it(spelled: str) -> None:
    """share-class-dot-dash kind, variant: --benchmark BRK/B (Bloomberg's spelling) was refused
    as "must be a ticker symbol such as QQQ"; right: the sentence names the dash spelling."""
    from engine.data.providers import _check_benchmark

    with pytest.raises(ParameterError, match="write it BRK-B as Yahoo does"):
        _check_benchmark(spelled)
    assert _check_benchmark("brk.b") == "BRK.B"


def test_each_dropped_group_names_its_file() -> None:
    """The merged report lists both files' dropped groups: each says which file it came
    from (its reading record's file, else the role), as the Data page's table shows."""
    from engine.data.types import DroppedRows, FileReading

    class Dropping(StubProvider):
        def sentiment(self):  # type: ignore[override]
            frame, report = super().sentiment()
            return frame, dataclasses.replace(
                report,
                dropped=(DroppedRows(reason="twitterLikes is negative", count=1),),
                reading=(FileReading(file="s.csv"),),
            )

        def prices(self, symbols, start, end):  # type: ignore[override]
            frame, report = super().prices(symbols, start, end)
            return frame, dataclasses.replace(
                report, dropped=(DroppedRows(reason="close is empty", count=2),)
            )

    dropped = load_market_data(Dropping()).report.dropped
    assert [(d.reason, d.file) for d in dropped][:2] == [
        ("twitterLikes is negative", "s.csv"),
        ("close is empty", "the price data"),
    ]


@pytest.mark.parametrize(
    ("name", "value"), [("DAYFIRST", "maybe"), ("DECIMAL", "x"), ("DATE_FORMAT", "dd/mm/yyyy")]
)
def test_reading_settings_are_checked_whatever_the_source(name: str, value: str) -> None:
    """A bad reading option is refused when the settings are read, also with the demo
    data (the dashboard's start-up relies on it: its config check calls this once)."""
    with pytest.raises(ParameterError):
        provider_from_env({"DATA_SOURCE": "demo", name: value})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1_0", "DEMO_SEED must be a whole number, got '1_0'"),  # int() read it as 10
        ("\u0667", "DEMO_SEED must be a whole number"),  # an Arabic-Indic 7: int() read it as 7
        ("9" * 5000, "DEMO_SEED is far too large a number"),  # the refusal echoed all 5,000 digits
        ("-3", "DEMO_SEED must be a non-negative integer, got '-3'"),
    ],
)
def test_demo_seed_is_read_by_the_engine_rule(raw: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        provider_from_env({"DATA_SOURCE": "demo", "DEMO_SEED": raw})
    assert message in str(caught.value) and len(str(caught.value)) < 200
