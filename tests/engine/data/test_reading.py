"""The reading layer (engine.data.reading): field cases with their right values, dialects,
date formats, layouts and the one-sentence refusals. Rows are copied from ../shared/cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine
from engine import DataValidationError, FileProvider, load_market_data, load_prices_file, load_sentiment_csv

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def dropped(report: engine.ValidationReport, fragment: str) -> engine.DroppedRows:
    return next(d for d in report.dropped if fragment in d.reason)


# ----- case dates-dst-offsets ------------------------------------------------------------

DST_PRICES = (
    "Date,AAA,BBB,QQQ\n"
    "2022-03-09 00:00:00-05:00,104.809739,47.703248,307.05\n"
    "2022-03-10 00:00:00-05:00,104.914549,47.655545,307.2\n"
    "2022-03-11 00:00:00-05:00,105.019464,47.607889,307.35\n"
    "2022-03-14 00:00:00-04:00,105.124483,47.560281,307.5\n"
    "2022-05-31 00:00:00-04:00,111.176299,44.968847,315.9\n"
)


def test_dst_offsets_load_as_local_calendar_dates() -> None:
    prices, report = load_prices_file(DST_PRICES.encode(), name="prices.csv")
    assert [d.date().isoformat() for d in prices.index] == [
        "2022-03-09", "2022-03-10", "2022-03-11", "2022-03-14", "2022-05-31",
    ]  # fmt: skip
    assert prices.loc["2022-03-14", "AAA"] == 105.124483 and list(prices.columns) == ["AAA", "BBB", "QQQ"]
    assert "UTC offsets ignored" in report.reading[0].date_format and not report.dropped


def test_dst_offsets_in_the_sentiment_file() -> None:
    text = SENTIMENT_HEADER + (
        "2022-01-01 00:00:00-05:00,AAA,100,60,200,10000,\n"
        "2022-03-13 00:00:00-05:00,AAA,100,60,200,10000,\n"
        "2022-03-14 00:00:00-04:00,AAA,100,60,200,10000,\n"
        "2022-04-30 00:00:00-04:00,BBB,100,30,200,10000,\n"
    )
    frame, report = load_sentiment_csv(text.encode())
    assert [d.date().isoformat() for d in frame["date"]] == [
        "2022-01-01",
        "2022-03-13",
        "2022-03-14",
        "2022-04-30",
    ]
    assert report.first_date == "2022-01-01" and report.last_date == "2022-04-30"


# ----- case dates-day-first --------------------------------------------------------------


def _day_first_sentiment() -> str:
    days = pd.date_range("2022-01-01", "2022-02-28")
    return SENTIMENT_HEADER + "".join(
        f"{d:%d/%m/%Y},{s},100,{c},200,10000,\n" for d in days for s, c in (("AAA", 60), ("BBB", 30))
    )


def test_day_first_column_is_read_day_first_as_a_whole() -> None:
    frame, report = load_sentiment_csv(_day_first_sentiment().encode(), name="s.csv")
    assert len(frame) == 118 and not report.dropped
    assert (report.first_date, report.last_date) == ("2022-01-01", "2022-02-28")
    months = frame["date"].dt.month.value_counts().sort_index().to_dict()
    assert months == {1: 62, 2: 56}
    assert report.reading[0].date_format == "%d/%m/%Y (day first)"


def test_ambiguous_day_month_column_is_refused_naming_the_option() -> None:
    text = SENTIMENT_HEADER + "01/02/2022,AAA,1,2,3,4,\n05/02/2022,AAA,1,2,3,4,\n"
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(text.encode(), name="s.csv")
    message = str(info.value)
    assert message.startswith("s.csv: the 'date' column is ambiguous") and "dayfirst" in message
    assert "date_format" in message and "\n" not in message
    frame, _ = load_sentiment_csv(text.encode(), dayfirst=True)
    assert list(frame["date"]) == [pd.Timestamp("2022-02-01"), pd.Timestamp("2022-02-05")]
    frame, _ = load_sentiment_csv(text.encode(), dayfirst=False)
    assert list(frame["date"]) == [pd.Timestamp("2022-01-02"), pd.Timestamp("2022-05-02")]
    frame, report = load_sentiment_csv(text.encode(), date_format="%d/%m/%Y")
    assert frame["date"].iloc[1] == pd.Timestamp("2022-02-05") and "as given" in report.reading[0].date_format


def test_month_first_column_with_a_day_above_12() -> None:
    text = SENTIMENT_HEADER + "01/02/2022,AAA,1,2,3,4,\n01/13/2022,AAA,1,2,3,4,\n"
    frame, _ = load_sentiment_csv(text.encode())
    assert list(frame["date"]) == [pd.Timestamp("2022-01-02"), pd.Timestamp("2022-01-13")]


@pytest.mark.parametrize("style", ["separators", "year widths"])
def test_day_first_column_with_mixed_separators_or_year_widths_is_read_whole(style: str) -> None:
    """dates-day-first kind, variant: 02/01/2022 next to 03-01-2022 (or 03/01/22). Right
    value: all 118 rows on their true days, Jan 62 and Feb 56 rows; half the file was
    dropped as 'date is not a valid date' (58 rows) because the column's format was
    taken from its first value's separator and year width."""
    days = pd.date_range("2022-01-01", "2022-02-28")
    other = "%d-%m-%Y" if style == "separators" else "%d/%m/%y"
    text = SENTIMENT_HEADER + "".join(
        f"{d.strftime('%d/%m/%Y' if i % 2 else other)},{s},100,{c},200,10000,\n"
        for i, d in enumerate(days)
        for s, c in (("AAA", 60), ("BBB", 30))
    )
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert len(frame) == 118 and not report.dropped
    assert frame["date"].dt.month.value_counts().sort_index().to_dict() == {1: 62, 2: 56}
    assert sorted(set(frame["date"])) == list(days)
    assert "day first" in report.reading[0].date_format


@pytest.mark.parametrize("separator", ["/", "-"])
def test_year_day_month_column_is_read_whole_not_half_swapped(separator: str) -> None:
    """dates-day-first kind, variant: yyyy/dd/mm. Right value: every row on its day
    (2022/13/01 is 13 January). It was read as yyyy/mm/dd value by value: 70 rows dropped
    as invalid, and 2022/02/01 moved to 1 February (48 rows spread over Jan-Dec)."""
    days = pd.date_range("2022-01-01", "2022-02-28")
    fmt = f"%Y{separator}%d{separator}%m"
    text = SENTIMENT_HEADER + "".join(
        f"{d.strftime(fmt)},{s},100,{c},200,10000,\n" for d in days for s, c in (("AAA", 60), ("BBB", 30))
    )
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert len(frame) == 118 and not report.dropped
    assert sorted(set(frame["date"])) == list(days)
    assert report.reading[0].date_format.startswith("yyyy-dd-mm")
    prices = "date,AAA\n2022/13/01,10\n2022/14/01,11\n2022/01/02,12\n"
    frame, _ = load_prices_file(prices.replace("/", separator).encode())
    assert list(frame.index) == [pd.Timestamp(d) for d in ("2022-01-13", "2022-01-14", "2022-02-01")]


def test_one_iso_date_with_month_13_is_a_typo_not_a_day_month_column() -> None:
    """ISO is the standard: first-of-month dates (every last field 01) with one typo
    2022-13-01 stay ISO; the typo is dropped as an invalid date (swapping the column on it
    would move 2022-02-01 .. 2022-12-01 to 2 .. 12 January)."""
    months = [f"2022-{m:02d}-01" for m in range(1, 13)]
    text = SENTIMENT_HEADER + "".join(f"{d},AAA,100,60,200,10000,\n" for d in [*months, "2022-13-01"])
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert sorted(set(frame["date"])) == [pd.Timestamp(d) for d in months]
    assert report.reading[0].date_format.startswith("ISO 8601")
    assert [(d.count, d.unit) for d in report.dropped] == [(1, "rows")]
    assert "date" in report.dropped[0].reason


# ----- case duplicate-date-empty-first ---------------------------------------------------


def _duplicate_case() -> tuple[bytes, bytes]:
    """make_inputs.py of the case: the last date twice, the empty copy first."""
    days = pd.bdate_range("2022-01-03", "2022-03-31")
    t = np.arange(len(days))
    clean = pd.DataFrame(
        {"AAA": 100 * 1.002**t, "BBB": 100 * 0.998**t, "QQQ": 300 * 1.001**t}, index=days
    ).round(6)
    clean.index.name = "date"
    clean.loc["2022-03-31"] = [150.0, 80.0, 330.0]
    lines = clean.to_csv(date_format="%Y-%m-%d").splitlines()
    prices = "\n".join([*lines[:-1], "2022-03-31,,,", lines[-1]]) + "\n"
    sentiment = SENTIMENT_HEADER + "".join(
        f"{d.date()},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-02-28")
        for s, c in (("AAA", 60), ("BBB", 30))
    )
    return sentiment.encode(), prices.encode()


def test_duplicate_date_keeps_the_first_valid_row_and_the_right_total_return() -> None:
    sentiment, prices = _duplicate_case()
    frame, report = load_prices_file(prices, name="prices_dup.csv")
    assert list(frame.loc["2022-03-31"]) == [150.0, 80.0, 330.0]
    # The empty copy is a repeat of a priced date, not a holiday ("not a trading day" before).
    assert dropped(report, "duplicate date row with no price").examples == ("row 64",)
    assert not any("not a trading day" in d.reason for d in report.dropped)
    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices))
    result = engine.run_backtest(data, engine.StrategyParams(top_n=1))
    # By hand (case.md): AAA on 2022-03-31 returns 150 / 113.18757 - 1 = +32.52%.
    assert result.returns["portfolio"].iloc[-1] == pytest.approx(150 / 113.18757 - 1, rel=1e-6)
    assert result.metrics["total_return"] == pytest.approx(0.4412, abs=5e-5)
    assert result.benchmark_metrics["total_return"] == pytest.approx(0.0782, abs=5e-5)


def test_duplicate_date_cellwise_first_valid_value_in_every_layout() -> None:
    wide = b"date,AAA,BBB\n2022-01-03,10,\n2022-01-03,11,20\n2022-01-04,12,21\n"
    frame, report = load_prices_file(wide)
    assert list(frame.loc["2022-01-03"]) == [10.0, 20.0]
    assert dropped(report, "duplicate date").count == 1
    long = b"date,symbol,close\n2022-01-03,AAA,\n2022-01-03,AAA,150\n2022-01-04,AAA,151\n"
    frame, _ = load_prices_file(long)
    assert frame.loc["2022-01-03", "AAA"] == 150.0


def test_all_empty_rows_are_not_trading_days() -> None:
    frame, report = load_prices_file(b"date,AAA,QQQ\n2022-01-03,10,1\n,,\n2022-01-04,,\n2022-01-05,11,2\n")
    assert [d.day for d in frame.index] == [3, 5]
    assert dropped(report, "empty row").count == 1
    assert dropped(report, "not a trading day").examples == ("row 3",)


# ----- case long-prices-ticker-column ----------------------------------------------------

STACKED = (
    "Date,Ticker,Close,High,Low,Open,Volume\n"
    "2021-06-01,AAA,100.0,101.0,99.0,100.0,1000000\n"
    "2021-06-01,BBB,50.0,50.5,49.5,50.0,1000000\n"
    "2021-06-01,QQQ,300.0,303.0,297.0,300.0,1000000\n"
    "2021-06-02,AAA,100.1,101.0,99.0,100.0,1000000\n"
    "2021-06-02,BBB,50.2,50.5,49.5,50.0,1000000\n"
    "2021-06-02,QQQ,301.0,303.0,297.0,300.0,1000000\n"
)
EXPECTED_LONG = pd.DataFrame(
    {"AAA": [100.0, 100.1], "BBB": [50.0, 50.2], "QQQ": [300.0, 301.0]},
    index=pd.DatetimeIndex(["2021-06-01", "2021-06-02"], name="date").astype("datetime64[ns]"),
)


@pytest.mark.parametrize("symbol", ["Ticker", "ticker", "Symbol", "stock_name", "Name", " SYMBOL "])
def test_long_file_with_a_named_symbol_column(symbol: str) -> None:
    text = STACKED.replace("Ticker", symbol, 1)
    frame, report = load_prices_file(text.encode(), name="p.csv")
    pd.testing.assert_frame_equal(frame, EXPECTED_LONG)
    assert report.reading[0].layout == "long" and report.reading[0].symbol_column == symbol.strip()
    assert report.reading[0].price_column == "Close"


@pytest.mark.parametrize("symbol", ["security", "Security", "asset", "RIC", "instrument"])
def test_long_file_with_a_symbol_column_of_another_name(symbol: str) -> None:
    """long-prices-ticker-column kind, variant: the symbol column is named ``security``
    (or asset, RIC ...). Right value: tickers AAA, BBB, QQQ with their closes; it was read
    as wide with tickers CLOSE, HIGH, LOW, OPEN, VOLUME (and SECURITY as a failed ticker)."""
    text = STACKED.replace("Ticker", symbol, 1)
    frame, report = load_prices_file(text.encode(), name="p.csv")
    pd.testing.assert_frame_equal(frame, EXPECTED_LONG)
    assert report.reading[0].layout == "long" and report.reading[0].symbol_column == symbol
    assert not report.failed_tickers


def test_long_file_whose_symbol_column_cannot_be_told_is_refused_in_one_sentence() -> None:
    two_text = STACKED.replace("Ticker", "security", 1).replace(",Volume\n", ",exchange\n", 1)
    two_text = two_text.replace(",1000000\n", ",NASDAQ\n")
    with pytest.raises(DataValidationError, match="looks like a long price file") as info:
        load_prices_file(two_text.encode(), name="p.csv")
    assert "'security', 'exchange'" in str(info.value) and "'symbol'" in str(info.value)
    names = STACKED.replace("Ticker", "security", 1).replace(",AAA,", ",Apple Inc.,")
    with pytest.raises(DataValidationError, match="looks like a long price file"):
        load_prices_file(names.encode(), name="p.csv")


@pytest.mark.parametrize("price", ["PRC", "value", "Mid", "Bid"])
def test_long_file_whose_price_column_is_not_a_close_is_refused_not_read_as_wide(price: str) -> None:
    """long-prices-ticker-column kind, variant: date,ticker,PRC (CRSP). (Bloomberg's PX_LAST is
    read as the close now, and 'adjusted' as the adjusted close, as in R tidyquant's and
    quantmod's files: test_files.py.)
    It was read as wide: one invented ticker PRC holding the first symbol's price of each
    date, the other rows dropped as duplicate dates, the tickers gone. Right: one sentence
    naming the tickers' column and what to rename."""
    text = STACKED.replace("Close,High,Low,Open,Volume", price).replace(",High,Low,Open,Volume", "")
    text = "\n".join(",".join(line.split(",")[:3]) for line in text.splitlines()) + "\n"
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text.encode(), name="p.csv")
    message = str(info.value)
    assert message.startswith("p.csv looks like a long price file (the column 'Ticker' holds tickers")
    assert (
        f"(its other columns: {price!r}); name the column of adjusted closes 'Adj Close' or 'close'"
        in message
    )


def test_wide_file_with_a_text_column_is_still_wide() -> None:
    """The refusal above needs repeated dates: a wide file never repeats them. (A column
    named ``currency`` holding two currencies is refused: test_price_exports_lseg.py.)"""
    frame, report = load_prices_file(
        b"date,AAA,exchange\n2022-01-03,10,NYSE\n2022-01-04,11,LSE\n", name="p.csv"
    )
    assert list(frame.columns) == ["AAA"] and report.reading[0].layout == "wide"


def test_trade_date_is_a_date_column() -> None:
    text = "trade_date,symbol,close\n2022-01-03,AAA,10\n2022-01-03,BBB,20\n2022-01-04,AAA,11\n2022-01-04,BBB,21\n"
    frame, _ = load_prices_file(text.encode(), name="p.csv")
    assert frame.to_dict("list") == {"AAA": [10.0, 11.0], "BBB": [20.0, 21.0]}


def test_european_date_column_names_are_date_columns() -> None:
    """A German Excel export (semicolons, decimal commas, dd.mm.yyyy, all read) names its date
    column 'Datum': it was refused as "has no 'date' column; its columns are 'Datum', ..."
    and a Spanish one's 'Fecha' alike. Right: read as the date column, in both files."""
    text = "Datum;AAA;QQQ\n28.02.2022;1,5;300,25\n01.03.2022;1,6;301,75\n"
    frame, _ = load_prices_file(text.encode(), name="p.csv")
    assert frame.to_dict("list") == {"AAA": [1.5, 1.6], "QQQ": [300.25, 301.75]}
    assert [d.date().isoformat() for d in frame.index] == ["2022-02-28", "2022-03-01"]
    sentiment = (
        "Fecha,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "13/01/2022,AAA,1,20,30,4,0.1\n14/01/2022,AAA,1,20,30,4,0.1\n"
    )
    rows, report = load_sentiment_csv(sentiment.encode(), name="s.csv")
    assert [d.date().isoformat() for d in rows["date"]] == ["2022-01-13", "2022-01-14"]
    assert "s.csv: no 'date' column; the column 'Fecha' was read as 'date'" in report.warnings


def test_long_stock_name_layout_with_columns_in_any_order() -> None:
    text = (
        "date,open,high,low,close,volume,stock_name\n"
        "2021-06-01,100.0,101.0,99.0,100.0,1000000,AAA\n2021-06-01,50.0,50.5,49.5,50.0,1000000,BBB\n"
        "2021-06-01,300,303,297,300.0,1000000,QQQ\n2021-06-02,100.0,101.0,99.0,100.1,1000000,AAA\n"
        "2021-06-02,50.0,50.5,49.5,50.2,1000000,BBB\n2021-06-02,300,303,297,301.0,1000000,QQQ\n"
    )
    frame, _ = load_prices_file(text.encode())
    pd.testing.assert_frame_equal(frame, EXPECTED_LONG)


def test_adj_close_is_preferred_and_named() -> None:
    text = "Date,Ticker,Close,Adj Close\n2021-06-01,AAA,100,90\n2021-06-02,AAA,101,91\n"
    frame, report = load_prices_file(text.encode())
    assert list(frame["AAA"]) == [90.0, 91.0] and report.reading[0].price_column == "Adj Close"
    assert "prices from 'Adj Close'" in report.reading[0].describe()


def test_symbol_column_without_a_close_is_refused_in_one_sentence() -> None:
    with pytest.raises(DataValidationError, match="has a symbol column 'Ticker' but no 'Close'"):
        load_prices_file(b"Date,Ticker,Open,Volume\n2021-06-01,AAA,1,2\n", name="p.csv")


def test_the_case_backtests_with_the_benchmark_found() -> None:
    sentiment = SENTIMENT_HEADER + "2021-06-01,AAA,100,60,200,10000,\n2021-06-01,BBB,100,30,200,10000,\n"
    data = load_market_data(FileProvider(sentiment=sentiment.encode(), prices=STACKED.encode()))
    assert list(data.prices.columns) == ["AAA", "BBB", "QQQ"] and not data.report.failed_tickers


# ----- yfinance's multi-ticker CSV export ------------------------------------------------


def test_yfinance_three_line_header_export() -> None:
    text = (
        "Price,Close,Close,High,High,Volume,Volume\nTicker,AAA,QQQ,AAA,QQQ,AAA,QQQ\nDate,,,,,,\n"
        "2022-01-03,10,300,11,301,5,6\n2022-01-04,11,301,12,302,5,6\n"
    )
    frame, report = load_prices_file(text.encode())
    assert list(frame.columns) == ["AAA", "QQQ"] and list(frame["QQQ"]) == [300.0, 301.0]
    assert report.reading[0].layout == "Yahoo Finance export" and report.reading[0].price_column == "Close"


def test_yfinance_export_prefers_adj_close() -> None:
    text = "Price,Adj Close,Close\nTicker,AAA,AAA\nDate,,\n2022-01-03,9,10\n2022-01-04,10,11\n"
    frame, report = load_prices_file(text.encode())
    assert list(frame["AAA"]) == [9.0, 10.0] and report.reading[0].price_column == "Adj Close"


# ----- case share-class-dot-dash ---------------------------------------------------------


def test_share_class_spelling_gets_one_hint() -> None:
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    prices = pd.DataFrame(
        {"AAA": np.linspace(100, 120, len(days)), "BRK-B": np.linspace(300, 330, len(days)), "QQQ": 300.0},
        index=days.rename("date"),
    ).to_csv(date_format="%Y-%m-%d")
    sentiment = SENTIMENT_HEADER + "".join(
        f"{d.date()},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 30), ("BRK.B", 60))
    )
    data = load_market_data(FileProvider(sentiment=sentiment.encode(), prices=prices.encode()))
    assert data.report.failed_tickers == ("BRK.B",)
    about = [w for w in data.report.warnings if "BRK.B" in w]
    assert about == ["no usable prices for 1 symbol(s), which cannot be held: BRK.B (did you mean BRK-B?)"]


# ----- dialects --------------------------------------------------------------------------


def test_semicolon_and_decimal_comma_with_thousands_points() -> None:
    text = "date;AAA;QQQ\n2022-01-03;100,5;1.001,25\n2022-01-04;101,25;1.002,5\n"
    frame, report = load_prices_file(text.encode(), name="eu.csv")
    assert list(frame["AAA"]) == [100.5, 101.25] and list(frame["QQQ"]) == [1001.25, 1002.5]
    read = report.reading[0]
    assert (read.separator, read.decimal, read.thousands) == (";", ",", ".")
    assert read.describe().startswith("eu.csv: CSV, separator semicolon, decimal mark ','")


def test_quoted_thousands_are_numbers_not_bad_values() -> None:
    text = 'date,AAA,QQQ\n2022-01-03,"1,001.15",300.5\n2022-01-04,"1,002.00",301\n'
    frame, report = load_prices_file(text.encode())
    assert list(frame["AAA"]) == [1001.15, 1002.0] and not report.dropped
    assert report.reading[0].thousands == ","


@pytest.mark.parametrize(
    ("text", "mark"),
    [
        ("date;AAA\n2022-01-03;1\u202f001,5\n2022-01-04;1\u00a0002,25\n", "\u202f"),
        ("date;AAA\n2022-01-03;1 001,5\n2022-01-04;1 002,25\n", " "),
        ("date,AAA\n2022-01-03,1'001.5\n2022-01-04,1'002.25\n", "'"),
    ],
)
def test_space_and_apostrophe_thousands(text: str, mark: str) -> None:
    frame, report = load_prices_file(text.encode())
    assert list(frame["AAA"]) == [1001.5, 1002.25] and report.reading[0].thousands == mark


def test_unnamed_first_column_is_the_date_index_pandas_wrote() -> None:
    frame, _ = load_prices_file(b",AAA\n2022-01-03,10\n2022-01-04,11\n")
    assert list(frame.index) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")]


@pytest.mark.parametrize(
    "text",
    [
        ",Adj Close,Adj Close,Close,Close\n,AAA,QQQ,AAA,QQQ\nDate,,,,\n2022-01-03,10,300,5,6\n2022-01-04,11,301,5,6\n",
        "Ticker,AAA,AAA,QQQ,QQQ\nPrice,Open,Close,Open,Close\nDate,,,,\n2022-01-03,1,10,2,300\n2022-01-04,1,11,2,301\n",
        "Price,Close,Close\nTicker,AAA,QQQ\n2022-01-03,10,300\n2022-01-04,11,301\n",
    ],
    ids=["unnamed-levels", "group-by-ticker", "no-date-line"],
)
def test_yfinance_export_variants(text: str) -> None:
    frame, report = load_prices_file(text.encode())
    assert frame.to_dict("list") == {"AAA": [10.0, 11.0], "QQQ": [300.0, 301.0]}
    assert report.reading[0].layout == "Yahoo Finance export"


@pytest.mark.parametrize(
    "dates",
    [("01/13/2022 4:00 PM", "01/14/2022 4:00 PM"), ("2022-01-13 16:00:00 EST", "2022-01-14 16:00:00 EST")],
)
def test_times_with_am_pm_or_zone_names(dates: tuple[str, str]) -> None:
    frame, _ = load_prices_file(
        ("date,AAA\n" + "".join(f"{d},{i}\n" for i, d in enumerate(dates, 1))).encode()
    )
    assert list(frame.index) == [pd.Timestamp("2022-01-13"), pd.Timestamp("2022-01-14")]


@pytest.mark.parametrize("separator", ["\t", "|"])
def test_tab_and_bar_separated(separator: str) -> None:
    text = f"date{separator}AAA\n2022-01-03{separator}10\n2022-01-04{separator}11\n"
    frame, report = load_prices_file(text.encode())
    assert list(frame["AAA"]) == [10.0, 11.0] and report.reading[0].separator == separator


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date;AAA\n2022-01-03;1,5\n2022-01-04;1.5\n", "p.csv mixes decimal marks (both '1.5' and '1,5')"),
        ("date;AAA\n2022-01-03;1,500\n2022-01-04;1,250\n", "numbers such as '1,500' could use either mark"),
        ("date,AAA\n4456,10\n4457,11\n", "the 'date' column holds numbers, not dates"),
    ],
)
def test_ambiguous_or_wrong_dialects_are_refused_in_one_sentence(text: str, message: str) -> None:
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text.encode(), name="p.csv")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_decimal_option_settles_an_ambiguous_file() -> None:
    frame, _ = load_prices_file(b"date;AAA\n2022-01-03;1,500\n2022-01-04;1,250\n", decimal=",")
    assert list(frame["AAA"]) == [1.5, 1.25]


@pytest.mark.parametrize(
    ("text", "asked", "closes", "decided"),
    [
        # 300.5 and 1.5 can only have a decimal point: read so, not 1.234 as 1234
        ("date,AAA,QQQ\n2022-01-03,1.234,300.5\n2022-01-04,1.5,301\n", ",", [1.234, 1.5], "300.5"),
        ("date;AAA;QQQ\n2022-01-03;1,234;300,5\n2022-01-04;1,5;301\n", ".", [1.234, 1.5], "300,5"),
    ],
)
def test_a_decimal_mark_the_numbers_contradict_is_overruled_and_said(
    text: str, asked: str, closes: list[float], decided: str
) -> None:
    # Obeyed before: decimal=',' read 1.234 as 1234 next to 1.5, without a word (breaker
    # pass 9, F3 follow-up: the Data page's decimal choice applies to both files of a run).
    frame, report = load_prices_file(text.encode(), name="p.csv", decimal=asked)
    assert list(frame["AAA"]) == closes
    reading = report.reading[0]
    assert reading.decimal != asked and reading.decimal_overruled_by == decided
    assert (
        f"(not the {asked!r} asked for: numbers such as {decided!r} can only be read so)"
        in reading.describe()
    )


def test_a_decimal_mark_asked_for_still_settles_numbers_that_fit_both() -> None:
    frame, report = load_prices_file(b"date,AAA\n2022-01-03,1.234\n2022-01-04,2.500\n", decimal=",")
    assert list(frame["AAA"]) == [1234.0, 2500.0]
    assert report.reading[0].decimal == "," and report.reading[0].decimal_overruled_by is None


@pytest.mark.parametrize(
    ("dates", "description"),
    [
        (("2022-01-03T16:00:00", "2022-01-04T16:00:00"), "with a time of day"),
        (("2022-01-03 00:00:00+00:00", "2022-01-04 00:00:00+00:00"), "UTC offsets ignored"),
        (("44564", "44565"), "Excel serial day numbers"),
        (("20220103", "20220104"), "yyyymmdd"),
        (("3 Jan 2022", "4 Jan 2022"), "%d %b %Y"),
        (("2022/01/03", "2022/01/04"), "ISO 8601"),
        (("2022-W01-1", "2022-W01-2"), "%G-W%V-%u"),  # ISO week dates (dates-dst-offsets variant)
        (("2022W011", "2022W012"), "%GW%V%u"),
        # dates-day-first kind, month names in spellings outside NAMED_FORMATS (were all
        # dropped as "date is not a valid date"): the format pandas guesses, month named.
        (("03-January-2022", "04-January-2022"), "%d-%B-%Y"),
        (("03/Jan/2022", "04/Jan/2022"), "%d/%b/%Y"),
        (("03.Jan.2022", "04.Jan.2022"), "%d.%b.%Y"),
        (
            ('"Monday, January 03, 2022"', '"Tuesday, January 04, 2022"'),
            "%B %d, %Y; a weekday name before each date, checked against it",
        ),  # quoted: holds commas; the weekday is checked, then the date read without it
        (("2022-Jan-03", "2022-Jan-04"), "%Y-%b-%d"),
        (("03-Jan-2022 16:00", "04-Jan-2022 16:00"), "%d-%b-%Y (with a time of day, dropped)"),
        # Times with AM/PM after a month-name date (were refused as invalid dates).
        (("3-Jan-2022 4:00 PM", "4-Jan-2022 4:00 PM"), "%d-%b-%Y (with a time of day, dropped)"),
        (('"Jan 3, 2022 4:00 PM"', '"Jan 4, 2022 4:00 PM"'), "%b %d, %Y (with a time of day, dropped)"),
    ],
)
def test_accepted_date_formats(dates: tuple[str, str], description: str) -> None:
    text = "date,AAA\n" + "".join(f"{d},{10 + i}\n" for i, d in enumerate(dates))
    frame, report = load_prices_file(text.encode())
    assert list(frame.index) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")]
    assert description in report.reading[0].date_format


@pytest.mark.parametrize(
    "dates",
    [
        ("3-Jan-2022 4:00 PM", "4-Jan-2022 4:00 PM", "13-Jan-2022 4:00 PM"),
        ('"Jan 3, 2022 4:00 PM"', '"Jan 4, 2022 4:00 PM"', '"Jan 13, 2022 4:00 PM"'),
        ("01/03/2022 04:00 PM", "01/04/2022 04:00 PM", "01/13/2022 04:00 PM"),
    ],
)
def test_am_pm_times_are_dropped_and_intraday_still_refused(dates: tuple[str, ...]) -> None:
    """Times with AM/PM after a month-name (or month-first) date keep the calendar date; the
    same date at two times on two dates is still refused as intraday bars."""
    daily = "date,AAA\n" + "".join(f"{d},{10 + i}\n" for i, d in enumerate(dates))
    frame, _ = load_prices_file(daily.encode())
    assert list(frame.index) == [pd.Timestamp(f"2022-01-{d:02d}") for d in (3, 4, 13)]
    assert list(frame["AAA"]) == [10.0, 11.0, 12.0]
    hourly = [d.replace("04:00 PM", "10:00 AM").replace("4:00 PM", "10:00 AM") for d in dates[1:]]
    rows = [row for pair in zip(hourly, dates[1:], strict=True) for row in pair]
    intraday = "date,AAA\n" + "".join(f"{d},{10 + i}\n" for i, d in enumerate(rows))
    with pytest.raises(DataValidationError, match="intraday bars"):
        load_prices_file(intraday.encode())


def test_parquet_frame_with_tz_aware_index_keeps_local_dates(tmp_path) -> None:
    index = pd.date_range("2022-03-10", periods=4, freq="B", tz="America/New_York", name="Date")
    frame = pd.DataFrame({"AAA": [1.0, 2.0, 3.0, 4.0]}, index=index)
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    prices, report = load_prices_file(path)
    assert [d.date().isoformat() for d in prices.index] == [
        "2022-03-10",
        "2022-03-11",
        "2022-03-14",
        "2022-03-15",
    ]
    assert report.reading[0].kind == "parquet"


@pytest.mark.parametrize(
    "text",
    [
        "Datetime,AAA,BBB\n2022-03-11 09:30:00-05:00,10,20\n2022-03-11 15:30:00-05:00,11,21\n"
        "2022-03-14 09:30:00-04:00,12,22\n2022-03-14 15:30:00-04:00,13,23\n",
        "Datetime,Ticker,Close\n2022-03-11 09:30:00-05:00,AAA,10\n2022-03-11 15:30:00-05:00,AAA,11\n"
        "2022-03-14 09:30:00-04:00,AAA,12\n2022-03-14 15:30:00-04:00,AAA,13\n",
    ],
)
def test_intraday_bars_are_refused_not_read_as_first_bar_closes(text: str) -> None:
    """dates-dst-offsets kind, variant: a yfinance interval='1h' export (times of day, offsets
    changing at DST). Each date kept its 09:30 bar as the day's close (10, 12 where the
    last bars say 11, 13), the rest dropped as duplicates. Right: one sentence."""
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text.encode(), name="h.csv")
    assert str(info.value) == (
        "h.csv holds prices at several times of day on 2 dates (e.g. 2022-03-11 at 2 times): intraday bars, "
        "not daily closes; give one adjusted close per day (yfinance: interval='1d')"
    )


def test_one_date_at_two_times_is_a_duplicate_not_intraday() -> None:
    """yfinance's live last row (the daily bar, then a 15:42 quote of the same date) stays
    the duplicate rule: the first valid price of the date is kept."""
    text = "Date,AAA\n2022-03-10 00:00:00-05:00,9\n2022-03-11 00:00:00-05:00,10\n2022-03-11 15:42:00-05:00,10.5\n"
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert list(frame["AAA"]) == [9.0, 10.0] and "duplicate date row" in report.dropped[0].reason


def test_daily_closes_of_two_exchanges_at_their_own_times_are_not_intraday() -> None:
    """A long file with each symbol's daily close stamped at its exchange's close (AAA
    16:00 New York, VOD.L 16:30 London): every date has two times, but one per symbol. It
    was refused as intraday bars; right: read as daily, every close kept."""
    text = (
        "date,ticker,close\n2022-01-03 16:00:00-05:00,AAA,10\n2022-01-03 16:30:00+00:00,VOD.L,20\n"
        "2022-01-04 16:00:00-05:00,AAA,11\n2022-01-04 16:30:00+00:00,VOD.L,21\n"
    )
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert frame["AAA"].tolist() == [10.0, 11.0] and frame["VOD.L"].tolist() == [20.0, 21.0]
    assert report.dropped == ()


@pytest.mark.parametrize("text_column", ["exchange", "sector"])
def test_wide_file_with_a_text_column_and_one_repeated_date_stays_wide(text_column: str) -> None:
    """A wide file (date,AAA,BBB,currency with USD/EUR) of 30 dates whose last date repeats
    (yfinance's live last row) was refused as a long file without a close column (dates
    repeat, a text column of ticker-shaped values). Right: read as wide as before, the
    duplicate date's first prices kept."""
    days = pd.bdate_range("2022-01-03", periods=30).strftime("%Y-%m-%d")
    lines = [f"{d},{10 + i},{20 + i},{('USD', 'EUR')[i % 2]}" for i, d in enumerate(days)]
    text = f"date,AAA,BBB,{text_column}\n" + "\n".join(lines) + f"\n{days[-1]},99,99,USD\n"
    frame, _ = load_prices_file(text.encode(), name="p.csv")
    assert len(frame) == 30 and frame["AAA"].iloc[-1] == 39.0 and frame["BBB"].iloc[0] == 20.0
    # A long file of two symbols over 10 and 1 years is still refused (no close column).
    long_days = pd.bdate_range("2012-01-02", periods=2520).strftime("%Y-%m-%d")
    long_text = "date,ticker,PRC\n" + "".join(f"{d},AAA,10\n" for d in long_days)
    long_text += "".join(f"{d},BBB,20\n" for d in long_days[-252:])
    with pytest.raises(DataValidationError, match="no 'Close' or 'Adj Close' column"):
        load_prices_file(long_text.encode(), name="l.csv")


def test_ticker_column_with_one_share_class_row_beats_one_word_company_names() -> None:
    """date,Name,Ticker,Close with one-word names (Apple, Tesla) and a ticker column holding
    one share class written with a space (BRK B): Name was taken (its cells look more like
    tickers) and the prices were read under APPLE, BERKSHIRE, ... Right: Ticker, mostly
    tickers and first by name; BRK B dropped with the share-class reason."""
    rows = [("Apple", "AAPL"), ("Berkshire", "BRK B"), ("Tesla", "TSLA")]
    text = "date,Name,Ticker,Close\n" + "".join(
        f"2022-01-0{d},{n},{t},{10 + d}\n" for d in (3, 4) for n, t in rows
    )
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert list(frame.columns) == ["AAPL", "TSLA"] and frame["AAPL"].tolist() == [13.0, 14.0]
    assert "share class" in report.dropped[0].reason and report.dropped[0].count == 2


def test_company_names_next_to_a_ticker_column_do_not_hide_the_tickers() -> None:
    """long-prices-ticker-column kind, variant: ``date,Name,Code,Close`` with company names
    under Name and tickers under Code. Name (first in the name list) was taken as the symbol
    column: every row dropped as a "share class written with a space" (Apple Inc) and the
    file refused. Right: Code, the column whose cells are tickers."""
    text = (
        "date,Name,Code,Close\n2022-01-03,Apple Inc,AAPL,10\n2022-01-03,Microsoft Corp,MSFT,20\n"
        "2022-01-04,Apple Inc,AAPL,11\n2022-01-04,Microsoft Corp,MSFT,21\n"
    )
    frame, report = load_prices_file(text.encode(), name="n.csv")
    assert frame.to_dict("list") == {"AAPL": [10.0, 11.0], "MSFT": [20.0, 21.0]}
    assert report.reading[0].symbol_column == "Code" and report.dropped == ()


def test_month_first_column_with_an_unfitting_value_drops_it_not_crashes() -> None:
    """A value that does not fit the dd/mm pattern (a 3-digit hour) left a missing year that
    raised TypeError ('boolean value of NA is ambiguous'); it is an invalid date."""
    text = b"date,AAA\n01/03/2022 04:00 PM,1\n01/13/2022 4:00 PM,2\n01/14/2022 010:00 AM,3\n"
    frame, report = load_prices_file(text)
    assert list(frame.index) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-13")]
    assert dropped(report, "not a valid date").examples == ("'01/14/2022 010:00 AM'",)


def test_two_digit_year_first_dates_are_not_read_day_first() -> None:
    """dates-day-first kind, variant: yy/mm/dd (22/01/03 = 2022-01-03) fits dd/mm/yy too; it
    was read day-first, 22/01/03 as 2003-01-22 and 22/01/04 as 2004-01-22 (every row of the
    quarter on a 22nd of 2001..2031, silently). Right: the column in date order only when
    read year-first is year-first; a dd/mm/yy column in date order stays day-first."""
    prices = (
        "date,AAA,QQQ\n22/01/03,10,300\n22/01/04,11,301\n22/01/05,12,302\n22/01/31,13,303\n"
        "22/02/01,14,304\n22/03/15,15,305\n"
    )
    frame, report = load_prices_file(prices.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == [
        "2022-01-03", "2022-01-04", "2022-01-05", "2022-01-31", "2022-02-01", "2022-03-15"
    ]  # fmt: skip
    assert report.reading[0].date_format == "%y/%m/%d (2-digit year first)"
    day_first = "date,AAA\n28/01/22,10\n01/02/22,11\n15/03/22,12\n"
    frame, _ = load_prices_file(day_first.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == ["2022-01-28", "2022-02-01", "2022-03-15"]


def test_unsorted_fixed_day_of_month_stays_day_first() -> None:
    """dates-day-first kind, variant: monthly closes on the 15th, dd/mm/yy, in a long file
    sorted by symbol whose symbols hold different months (so the column's distinct values
    are in date order neither way). The first field takes one value and the last two, which
    the unsorted year-first rule alone read as 2015-06-22 and so on; a day field takes more
    than 12 values, so this stays day-first."""
    text = (
        "date,symbol,close\n15/06/22,AAA,10\n15/12/22,AAA,11\n15/06/23,AAA,12\n"
        "15/01/22,BBB,20\n15/01/23,BBB,21\n15/12/23,BBB,22\n"
    )
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == [
        "2022-01-15", "2022-06-15", "2022-12-15", "2023-01-15", "2023-06-15", "2023-12-15"
    ]  # fmt: skip
    assert "year first" not in report.reading[0].date_format


def test_month_end_day_first_long_file_sorted_by_symbol_stays_day_first() -> None:
    """dates-day-first kind, variant: month-end closes, dd/mm/yy, 13 years, in a long file
    sorted by symbol where BBB starts 4 years before AAA (the distinct dates are in order
    neither way). Days take 4 values (28..31) and years 13, which the unsorted year-first
    rule read as 2029-01-10, 2026-02-10, ...; the column goes back in time once read
    day-first and at almost every month read year-first, so it stays day-first."""
    month_ends = pd.date_range("2008-01-01", "2020-12-31", freq="BME")
    dates = [*month_ends[month_ends >= "2012-01-01"], *month_ends]
    symbols = ["AAA"] * (len(dates) - len(month_ends)) + ["BBB"] * len(month_ends)
    rows = "".join(f"{d:%d/%m/%y},{s},{i + 1}\n" for i, (d, s) in enumerate(zip(dates, symbols, strict=True)))
    frame, report = load_prices_file(("date,symbol,close\n" + rows).encode(), name="p.csv")
    assert frame.index[0] == pd.Timestamp("2008-01-31")
    assert frame.index[-1] == pd.Timestamp("2020-12-31")
    assert "year first" not in report.reading[0].date_format


def test_year_first_dates_within_one_month_are_not_one_day_a_year() -> None:
    """dates-day-first kind, variant: a week of yy/mm/dd dates (22/03/14 .. 22/03/21) is in
    date order read day-first too, as 2014-03-22, 2015-03-22, ... 2021-03-22: a row a year
    on one calendar day, which is how it was read. Read year-first it is six business days
    of March 2022; a dd/mm/yy column whose day or month changes stays day-first."""
    prices = "date,AAA\n22/03/14,10\n22/03/15,11\n22/03/16,12\n22/03/17,13\n22/03/18,14\n22/03/21,15\n"
    frame, report = load_prices_file(prices.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == [
        "2022-03-14", "2022-03-15", "2022-03-16", "2022-03-17", "2022-03-18", "2022-03-21"
    ]  # fmt: skip
    assert report.reading[0].date_format == "%y/%m/%d (2-digit year first)"
    day_first = "date,AAA\n22/03/21,10\n23/03/21,11\n24/03/21,12\n"
    frame, _ = load_prices_file(day_first.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == ["2021-03-22", "2021-03-23", "2021-03-24"]


def test_ambiguous_two_digit_year_dates_are_refused_with_their_formats() -> None:
    """dates-day-first kind, variant: 12/01/05 and 12/01/06 (2012-01-05, yy/mm/dd) fit
    dd/mm/yy, mm/dd/yy and yy/mm/dd. The refusal suggested date_format='%d/%m/%Y', which
    cannot read a 2-digit year; it names '%d/%m/%y' and the year-first '%y/%m/%d', and
    the year-first format reads the file."""
    text = SENTIMENT_HEADER + "12/01/05,AAA,1,2,3,4,\n12/01/06,AAA,1,2,3,4,\n"
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(text.encode(), name="s.csv")
    message = str(info.value)
    assert "date_format='%d/%m/%y' (or '%y/%m/%d' if the year comes first)" in message
    assert "%Y" not in message and "\n" not in message
    frame, _ = load_sentiment_csv(text.encode(), date_format="%y/%m/%d")
    assert list(frame["date"]) == [pd.Timestamp("2012-01-05"), pd.Timestamp("2012-01-06")]


def test_year_first_dates_across_the_century_are_in_order() -> None:
    """dates-day-first kind, variant: yy/mm/dd month-end closes from 1999 into 2000 (99/12/31
    then 00/01/31). The order test compared 2-digit years, so 99 -> 00 went back in time and
    the column was in date order neither way; read day-first, every value ('99/06/30') was an
    invalid date and the file had 'no usable rows'. Years count from 1969 as strptime's %y."""
    text = (
        "date,AAA\n99/06/30,10\n99/07/30,11\n99/08/31,12\n99/09/30,13\n99/10/29,14\n99/11/30,15\n"
        "99/12/31,16\n00/01/31,17\n00/02/29,18\n00/03/31,19\n00/04/28,20\n00/05/31,21\n00/06/30,22\n"
    )
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert list(frame.index) == list(pd.date_range("1999-06-01", "2000-06-30", freq="BME"))
    assert report.reading[0].date_format == "%y/%m/%d (2-digit year first)" and not report.dropped
    day_first = "date,AAA\n30/11/99,10\n31/12/99,11\n31/01/00,12\n29/02/00,13\n"
    frame, _ = load_prices_file(day_first.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == [
        "1999-11-30",
        "1999-12-31",
        "2000-01-31",
        "2000-02-29",
    ]


def test_year_first_dates_whose_first_field_is_no_day_are_year_first() -> None:
    """dates-day-first kind, variant: yy/mm/dd closes of 1998..2001 in a long file (98/12/15,
    01/03/15, 99/06/15, 00/01/14: in date order neither way). 98, 99 and 00 cannot be days,
    yet the column was read day-first: three rows dropped as invalid dates and 01/03/15 kept
    as 2015-03-01, silently. A first field that is no day in most values (or in two
    different ones) makes the column year-first; one such typo in a dd/mm/yy column is an
    invalid date."""
    text = "date,symbol,close\n98/12/15,AAA,10\n01/03/15,AAA,11\n99/06/15,BBB,12\n00/01/14,BBB,13\n"
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == [
        "1998-12-15",
        "1999-06-15",
        "2000-01-14",
        "2001-03-15",
    ]
    assert report.reading[0].date_format == "%y/%m/%d (2-digit year first)" and not report.dropped
    typo = "date,AAA\n15/01/22,10\n45/02/22,11\n15/03/22,12\n14/04/22,13\n"
    frame, report = load_prices_file(typo.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == ["2022-01-15", "2022-03-15", "2022-04-14"]
    assert dropped(report, "not a valid date").examples == ("'45/02/22'",)


def test_fixed_day_monthly_two_digit_year_dates_sorted_as_text_read_as_a_monthly_series() -> None:
    """dates-day-first kind, variant: the 15th of each month, dd.mm.yy, 2008-03..2021-07,
    sorted as text. Read year-first they are days 08..21 of 2015's months, whose short span
    once won over the day-first reading's 13 years (silently 2015-01-09..2015-12-20). One
    date in each of 161 consecutive months day-first only: day-first. The mirror (yy.mm.dd,
    2021-03..2023-07) is year-first; over whole years both readings are grids of months x
    days and the column is refused in one sentence."""
    fifteenths = pd.date_range("2008-03-01", "2021-07-31", freq="MS") + pd.Timedelta(days=14)
    rows = "".join(f"{text},AAA,1,2,3,4,\n" for text in sorted(fifteenths.strftime("%d.%m.%y")))
    frame, report = load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv")
    assert sorted(frame["date"]) == list(fifteenths)
    assert report.reading[0].date_format.startswith("%d.%m.%y") and not report.dropped
    mirror = pd.date_range("2021-03-01", "2023-07-31", freq="MS") + pd.Timedelta(days=14)
    rows = "".join(f"{text},AAA,1,2,3,4,\n" for text in sorted(mirror.strftime("%y.%m.%d")))
    frame, report = load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv")
    assert sorted(frame["date"]) == list(mirror)
    assert report.reading[0].date_format.startswith("%y.%m.%d")
    whole_years = pd.date_range("2008-01-01", "2021-12-31", freq="MS") + pd.Timedelta(days=14)
    rows = "".join(f"{text},AAA,1,2,3,4,\n" for text in sorted(whole_years.strftime("%d.%m.%y")))
    with pytest.raises(DataValidationError, match=r"'15\.01\.08' can be day-first or year-first"):
        load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv")


def test_month_end_two_digit_year_dates_read_the_way_that_makes_them_month_ends() -> None:
    """dates-day-first kind, variant: month-end closes, dd/mm/yy, 2005..2020, in no order
    (days take 4 values, years 16, so the unsorted value counts read 31/03/08 as
    2031-03-08); and quarter-end yy/mm/dd closes 20/03/31, 20/06/30 (in date order both ways,
    read day-first as 2031-03-20, 2030-06-20). Every value is a month end one way only, which
    settles the column both times."""
    month_ends = pd.date_range("2005-01-01", "2020-12-31", freq="ME")
    shuffled = month_ends[np.random.default_rng(3).permutation(len(month_ends))]
    rows = "".join(f"{d:%d/%m/%y},AAA,1,2,3,4,\n" for d in shuffled)
    frame, report = load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv")
    assert sorted(frame["date"]) == list(month_ends)
    assert "year first" not in report.reading[0].date_format
    quarters = "date,AAA\n20/03/31,10\n20/06/30,11\n"
    frame, report = load_prices_file(quarters.encode(), name="p.csv")
    assert [d.isoformat() for d in frame.index.date] == ["2020-03-31", "2020-06-30"]
    assert report.reading[0].date_format == "%y/%m/%d (2-digit year first)"


def test_year_first_weekly_long_file_sorted_by_symbol_is_year_first() -> None:
    """dates-day-first kind, variant: weekly (Friday) closes, yy/mm/dd, in a long file sorted
    by symbol (AAA 2008..2020, BBB 2005..2027). Read year-first the column goes back in time
    once; read day-first at almost every week. Only the day-first side of that rule
    existed, so the value counts (years 23 values, days 31) read it day-first: 12/01/06 as
    2006-01-12. It is year-first, as the day-first case is day-first."""
    fridays = pd.date_range("2005-01-01", "2027-12-31", freq="W-FRI")
    aaa = fridays[(fridays >= "2008-01-01") & (fridays < "2021-01-01")]
    rows = "".join(f"{d:%y/%m/%d},AAA,{i + 1}\n" for i, d in enumerate(aaa))
    rows += "".join(f"{d:%y/%m/%d},BBB,{i + 1}\n" for i, d in enumerate(fridays))
    frame, report = load_prices_file(("date,symbol,close\n" + rows).encode(), name="p.csv")
    assert list(frame.index) == list(fridays)
    assert report.reading[0].date_format == "%y/%m/%d (2-digit year first)" and not report.dropped


def test_unsorted_year_first_weekly_closes_read_the_way_without_weekends() -> None:
    """dates-day-first kind, variant: weekly (Friday) closes, yy/mm/dd, 2009..2029, in no
    order. Years take 21 values and days 31, so the value counts read it day-first: 21/11/26
    as 2026-11-21 (a Saturday), 1,932 of 2,000 rows on wrong dates. Read year-first no date
    falls on a weekend and read day-first many do: 20 dates or more on weekdays only one way
    settle the column. Business-day dd/mm/yy closes in no order stay day-first."""
    fridays = pd.date_range("2009-12-04", periods=1000, freq="W-FRI")
    shuffled = fridays[np.random.default_rng(5).permutation(len(fridays))]
    rows = "".join(f"{d:%y.%m.%d},{s},1,2,3,4,\n" for d in shuffled for s in ("AAA", "BBB"))
    frame, report = load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv")
    assert sorted(set(frame["date"])) == list(fridays)
    assert report.reading[0].date_format == "%y.%m.%d (2-digit year first)"
    days = pd.bdate_range("2005-01-03", "2027-12-31")
    days = days[np.random.default_rng(6).permutation(len(days))][:400]
    rows = "".join(f"{d:%d.%m.%y},AAA,1,2,3,4,\n" for d in days)
    frame, report = load_sentiment_csv((SENTIMENT_HEADER + rows).encode(), name="s.csv")
    assert sorted(frame["date"]) == sorted(days)
    assert "year first" not in report.reading[0].date_format


def test_excel_serials_among_text_dates_are_those_dates() -> None:
    """dates-day-first kind, variant: a spreadsheet column where some cells lost their date
    format, so Excel wrote their serial day numbers (44564 = 2022-01-03) among ISO or
    day-first text. The serials were dropped as invalid dates (2 of 3 rows of the sentiment,
    1 of 3 prices). A whole number from 25569 to 73050 where the column's format found no
    date is the Excel serial; other numbers stay invalid dates."""
    text = (
        SENTIMENT_HEADER
        + "44564,AAA,1,2,3,4,\n2022-01-04,AAA,1,2,3,4,\n44566,AAA,1,2,3,4,\n12,AAA,1,2,3,4,\n"
    )
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert list(frame["date"]) == list(pd.date_range("2022-01-03", "2022-01-05"))
    assert report.reading[0].date_format == "ISO 8601 (yyyy-mm-dd); Excel serial day numbers among them"
    assert dropped(report, "not a valid date").examples == ("'12'",)
    prices = "date,AAA\n31/01/2022,10\n44593,11\n02/02/2022,12\n"
    frame, _ = load_prices_file(prices.encode(), name="p.csv")
    assert list(frame.index) == list(pd.date_range("2022-01-31", "2022-02-02"))


def test_too_few_two_digit_year_dates_to_tell_day_first_from_year_first_are_refused() -> None:
    """dates-day-first kind, variant: one date 13/04/19 (2013-04-19 written yy/mm/dd), or
    weekly 15/05/22, 15/06/05, 15/05/29 in no order: no rule tells dd/mm/yy from yy/mm/dd
    and they were read day-first (2019-04-13; 2022-05-15, ...), silently. Up to 3 such
    dates are refused in one sentence naming both formats, and either format reads them;
    a date that reads the same both ways (22/03/22) is kept."""
    for rows in (["13/04/19"], ["15/05/22", "15/06/05", "15/05/29"]):
        text = SENTIMENT_HEADER + "".join(f"{d},AAA,1,2,3,4,\n" for d in rows)
        with pytest.raises(DataValidationError) as info:
            load_sentiment_csv(text.encode(), name="s.csv")
        message = str(info.value)
        assert f"dates such as '{rows[0]}' can be day-first or year-first" in message
        assert "date_format='%d/%m/%y' or '%y/%m/%d'" in message and "\n" not in message
        frame, _ = load_sentiment_csv(text.encode(), date_format="%y/%m/%d")
        assert frame["date"].iloc[0] == pd.Timestamp(f"20{rows[0][:2]}-{rows[0][3:5]}-{rows[0][6:]}")
    frame, _ = load_prices_file(b"date,AAA\n22/03/22,10\n", name="p.csv")
    assert list(frame.index) == [pd.Timestamp("2022-03-22")]


def test_days_of_one_month_in_no_order_are_year_first() -> None:
    """dates-day-first kind, variant: daily yy-mm-dd dates 17-05-27 .. 17-05-31 (the last days
    of May 2017) in no order. In date order they were read year-first (days of one month,
    not the 17th of May of 2027..2031), but shuffled they were read day-first, 17-05-31 as
    2031-05-17. One first field and one month is year-first in any order."""
    rows = ["17-05-29", "17-05-27", "17-05-31", "17-05-28", "17-05-30"]
    text = SENTIMENT_HEADER + "".join(f"{d},AAA,1,2,3,4,\n" for d in rows)
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert list(frame["date"]) == list(pd.date_range("2017-05-27", "2017-05-31"))
    assert report.reading[0].date_format == "%y-%m-%d (2-digit year first)"
