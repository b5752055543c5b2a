"""Price/sentiment files: wide and long CSV and Parquet round trips, and FileProvider."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import (
    DataUnavailableError,
    DataValidationError,
    DemoProvider,
    FileProvider,
    load_market_data,
    load_prices_file,
    load_sentiment_csv,
)
from engine.data.demo import demo_frames


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    sentiment, prices = demo_frames(seed=5, n_symbols=12, years=3)
    return sentiment, prices


def wide_csv(prices: pd.DataFrame) -> bytes:
    return prices.reset_index().to_csv(index=False, float_format="%.17g").encode()


def long_frame(prices: pd.DataFrame) -> pd.DataFrame:
    long = prices.stack().dropna().rename("close").reset_index()
    return long.rename(columns={"level_1": "symbol"}).sample(
        frac=1.0, random_state=3
    )  # order must not matter


@pytest.mark.parametrize(
    "layout", ["wide_csv", "long_csv", "wide_parquet", "long_parquet", "wide_parquet_index"]
)
def test_price_round_trips(tmp_path: Path, demo: tuple[pd.DataFrame, pd.DataFrame], layout: str) -> None:
    _, prices = demo
    path = tmp_path / ("prices.parquet" if "parquet" in layout else "prices.csv")
    if layout == "wide_csv":
        path.write_bytes(wide_csv(prices))
    elif layout == "long_csv":
        long_frame(prices).to_csv(path, index=False, float_format="%.17g")
    elif layout == "wide_parquet":
        prices.reset_index().to_parquet(path, index=False)
    elif layout == "long_parquet":
        long_frame(prices).to_parquet(path, index=False)
    else:
        prices.to_parquet(path)  # DatetimeIndex stored as the index
    loaded, report = load_prices_file(path)
    # Late-listed / delisted symbols keep their NaN cells; long files have no rows for them,
    # so their days vanish only if no symbol traded (never here: QQQ always has a price).
    pd.testing.assert_frame_equal(loaded, prices, check_freq=False)
    assert report.failed_tickers == () and report.dropped == ()


def test_sentiment_csv_round_trip(demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sentiment, _ = demo
    data = sentiment.to_csv(index=False, float_format="%.17g", date_format="%Y-%m-%d").encode()
    loaded, report = load_sentiment_csv(data, name="demo.csv")
    pd.testing.assert_frame_equal(loaded, sentiment)
    assert report.rows_read == report.rows_kept == len(sentiment)


def test_parquet_detected_by_extension_or_magic(
    tmp_path: Path, demo: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, prices = demo
    buffer = io.BytesIO()
    prices.to_parquet(buffer)
    from_bytes, _ = load_prices_file(buffer.getvalue(), name="upload.bin")
    pd.testing.assert_frame_equal(from_bytes, prices, check_freq=False)


def test_file_provider_end_to_end(tmp_path: Path, demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sentiment, prices = demo
    sentiment_path = tmp_path / "sentiment.csv"
    sentiment.to_csv(sentiment_path, index=False, float_format="%.17g", date_format="%Y-%m-%d")
    prices_path = tmp_path / "prices.csv"
    dropped_symbol = next(c for c in prices.columns if c != "QQQ")
    prices_path.write_bytes(wide_csv(prices.drop(columns=[dropped_symbol])))
    provider = FileProvider(sentiment=sentiment_path, prices=prices_path)
    assert provider.info.kind == "files" and provider.info.label == "sentiment.csv + prices.csv"
    assert not provider.info.synthetic
    data = load_market_data(provider)
    assert data.report.failed_tickers == (dropped_symbol,)
    reference = load_market_data(DemoProvider(seed=5, n_symbols=12, years=3))
    pd.testing.assert_frame_equal(data.sentiment, reference.sentiment)
    pd.testing.assert_frame_equal(
        data.prices, reference.prices.drop(columns=[dropped_symbol]), check_freq=False
    )


def test_file_provider_from_uploaded_bytes(demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sentiment, prices = demo
    provider = FileProvider(
        sentiment=sentiment.to_csv(index=False).encode(),
        prices=wide_csv(prices),
        sentiment_name="mine.csv",
        prices_name="px.csv",
    )
    assert provider.info.kind == "upload" and provider.info.label == "mine.csv + px.csv"
    frame, report = provider.prices(["QQQ", "NOPE"], dt.date(2023, 1, 2), dt.date(2023, 1, 31))
    assert list(frame.columns) == ["QQQ"] and report.failed_tickers == ("NOPE",)
    assert frame.index.min() >= pd.Timestamp("2023-01-02") and frame.index.max() <= pd.Timestamp("2023-01-31")


def test_file_provider_without_prices_names_the_fix(tmp_path: Path) -> None:
    provider = FileProvider(sentiment=b"unused")
    with pytest.raises(DataUnavailableError, match="PRICES_PATH"):
        provider.prices(["AAA"], None, None)


def test_file_provider_keeps_price_file_drops_in_its_report(demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, prices = demo
    broken = prices.reset_index()
    broken.loc[3, "QQQ"] = -1.0
    provider = FileProvider(sentiment=b"unused", prices=broken.to_csv(index=False).encode())
    frame, report = provider.prices(["QQQ"], None, None)
    assert np.isnan(frame["QQQ"].iloc[3])
    assert any("positive" in d.reason for d in report.dropped)


def test_file_provider_sentiment_is_a_fresh_copy(demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sentiment, _ = demo
    provider = FileProvider(sentiment=sentiment.to_csv(index=False).encode())
    first, _ = provider.sentiment()
    first["twitterLikes"] = -5.0
    second, _ = provider.sentiment()
    assert (second["twitterLikes"] >= 0).all()


def test_market_data_from_the_seed_file_and_demo_prices_reports_every_missing_ticker(
    shared_sentiment_path: Path, demo: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, prices = demo
    provider = FileProvider(sentiment=shared_sentiment_path, prices=wide_csv(prices), prices_name="demo.csv")
    data = load_market_data(provider)
    assert len(data.report.failed_tickers) == 85  # none of the real tickers is in the synthetic file
    assert any("85 symbol(s)" in w for w in data.report.warnings)


# ----- Yahoo Finance exports -------------------------------------------------------------


def _yf_export(auto_adjust: bool) -> pd.DataFrame:
    """A yfinance 1.x ``download`` result for AAA (prices) and BBB (failed: all NaN)."""
    index = pd.bdate_range("2022-01-03", periods=4, name="Date")
    fields = (
        ["Close", "High", "Low", "Open", "Volume"]
        if auto_adjust
        else ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
    )
    columns = pd.MultiIndex.from_product([fields, ["AAA", "BBB"]], names=["Price", "Ticker"])
    frame = pd.DataFrame(np.nan, index=index, columns=columns)
    for field in fields:
        frame[(field, "AAA")] = [10.0, 11.0, 12.0, 13.0] if field != "Adj Close" else [9.0, 9.9, 10.8, 11.7]
    return frame


@pytest.mark.parametrize("auto_adjust, first_close", [(True, 10.0), (False, 9.0)])
@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_yfinance_exports_are_read_as_adjusted_closes(
    auto_adjust: bool, first_close: float, form: str
) -> None:
    export = _yf_export(auto_adjust)
    if form == "csv":
        data = export.to_csv().encode()  # three header lines: Price / Ticker / Date
    else:
        buffer = io.BytesIO()
        export.to_parquet(buffer)
        data = buffer.getvalue()
    frame, report = load_prices_file(data, name=f"yf.{form}")
    assert list(frame.columns) == ["AAA"] and frame["AAA"].iloc[0] == first_close
    assert report.failed_tickers == ("BBB",)


def test_one_ticker_yahoo_export_without_names_is_refused() -> None:
    export = _yf_export(True).xs("AAA", axis=1, level="Ticker")
    with pytest.raises(Exception, match="one-ticker export"):
        load_prices_file(export.to_csv().encode())


@pytest.mark.parametrize(
    "header", ["Date,Adj Close,Close,Volume", "Date,Close,Volume", "Date,Adj Close,Close", "Date,Open,Close"]
)
def test_short_one_ticker_export_is_refused_not_read_as_tickers_close_and_volume(header: str) -> None:
    """long-prices-ticker-column kind, variant: a one-ticker yfinance export with fewer than
    four price fields (``df[["Adj Close", "Close", "Volume"]].to_csv()``) was read as wide
    with invented tickers CLOSE and VOLUME (a volume of 1,000,000 as a price)."""
    text = header + "\n" + "".join(f"2022-01-0{d},{','.join(['10'] * header.count(','))}\n" for d in (3, 4))
    with pytest.raises(DataValidationError, match="looks like a one-ticker export"):
        load_prices_file(text.encode(), name="one.csv")


def test_tickers_named_like_price_fields_are_still_tickers() -> None:
    frame, _ = load_prices_file(b"date,LOW,OPEN\n2022-01-03,1,2\n")
    assert list(frame.columns) == ["LOW", "OPEN"]


def test_parquet_text_stored_as_utf8_bytes_is_decoded_like_csv() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"date": ["2021-01-04", "2021-01-05"], "symbol": pa.array([b"AAPL", b"AAPL"]), "close": [10.0, 11.0]}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    prices, _ = load_prices_file(buffer.getvalue(), name="p.parquet")
    assert list(prices.columns) == ["AAPL"]
    assert prices["AAPL"].tolist() == [10.0, 11.0]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (  # Nasdaq.com historical quotes: read as wide, it invented tickers HIGH, LOW, OPEN, VOLUME
            "nasdaq.csv",
            "Date,Close/Last,Volume,Open,High,Low\n"
            "01/04/2022,$179.70,99310400,$182.63,$182.94,$179.12\n"
            "01/03/2022,$182.01,104701200,$177.83,$182.88,$177.71\n"
            "01/05/2022,$174.92,94537600,$179.61,$180.17,$174.64\n",
        ),
        (  # Investing.com: read as long, its volumes 99.31M, 104.70M became the "tickers"
            "investing.csv",
            '"Date","Price","Open","High","Low","Vol.","Change %"\n'
            '"Jan 04, 2022","179.70","182.63","182.94","179.12","99.31M","-1.27%"\n'
            '"Jan 03, 2022","182.01","177.83","182.88","177.71","104.70M","2.50%"\n'
            '"Jan 05, 2022","174.92","179.61","180.17","174.64","94.54M","-2.66%"\n',
        ),
        (  # Barchart.com price history: read as wide, it invented tickers CHANGE, HIGH, LAST, ...
            "barchart.csv",
            "Time,Open,High,Low,Last,Change,%Chg,Volume\n"
            "01/13/2022,175.78,176.62,171.79,172.19,-3.34,-1.90%,84505760\n"
            "01/14/2022,171.34,173.78,171.09,173.07,0.88,+0.51%,80440780\n",
        ),
        (  # Barchart.com futures: an open interest column
            "barchart_futures.csv",
            "Time,Open,High,Low,Last,Change,Volume,Open Int\n"
            "01/13/2022,4710.00,4744.75,4647.00,4653.25,-68.50,1834120,2416230\n"
            "01/14/2022,4646.25,4666.00,4611.00,4654.25,1.00,2003000,2398790\n",
        ),
        (  # Bloomberg BDH of one security: PX_ fields (was 'no ticker columns besides date')
            "bloomberg.csv",
            "Date,PX_OPEN,PX_HIGH,PX_LOW,PX_LAST,PX_VOLUME\n"
            "2022-01-03,177.83,182.88,177.71,182.01,104701220\n"
            "2022-01-04,182.63,182.94,179.12,179.70,99310438\n",
        ),
    ],
)
def test_one_ticker_exports_of_other_sites_are_refused_not_read_as_tickers(name: str, text: str) -> None:
    """long-prices-ticker-column kind, variant: one-ticker exports whose close is not named
    Close (Nasdaq.com's Close/Last, Investing.com's Price). Right: one sentence, no invented ticker."""
    with pytest.raises(DataValidationError, match=f"^{name} looks like a one-ticker export"):
        load_prices_file(text.encode(), name=name)


@pytest.mark.parametrize("close", ["PX_LAST", "Last Price", "Close/Last", "Closing Price", "Last Close"])
def test_long_file_reads_vendor_names_of_the_close(close: str) -> None:
    """long-prices-ticker-column kind, variant: the close under a vendor's name (Bloomberg's
    PX_LAST and Last Price, Nasdaq.com's Close/Last). They were refused as 'no Close
    column'. Right: the closes, by ticker and date."""
    text = (
        f"Date,Ticker,{close}\n2022-01-03,AAA,10.5\n2022-01-04,AAA,10.7\n"
        "2022-01-03,QQQ,401.68\n2022-01-04,QQQ,$396.00\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert prices.to_dict("list") == {"AAA": [10.5, 10.7], "QQQ": [401.68, 396.0]}
    assert [str(d.date()) for d in prices.index] == ["2022-01-03", "2022-01-04"]
    assert report.reading[0].price_column == close


@pytest.mark.parametrize(
    ("close", "adjusted"),
    [
        ("close", "adjusted"),  # R tidyquant's tq_get(): symbol,date,open,...,close,volume,adjusted
        ("Closing Price", "Adj. Closing Price"),
        ("Close Price", "Adjusted Close Price"),
        ("Price", "Adj Price"),
        ("Last Price", "Adj Last Price"),
        ("PX_LAST", "PX_LAST Adj"),
    ],
)
def test_long_file_reads_the_adjusted_close_under_any_close_name(close: str, adjusted: str) -> None:
    """Unadjusted closes chosen over adjusted ones: a long file with a close and its adjusted
    version under a name not listed (tidyquant's 'adjusted', 'Adj. Closing Price') read the
    unadjusted close and ignored the adjusted one with a mere warning (a split became a
    -75% return; 'Closing Price' next to 'Adj. Closing Price' was refused before the vendor
    names of the close were read). Right: the adjusted closes, the report naming their column."""
    text = (
        f"date,symbol,open,{close},volume,{adjusted}\n"
        "2022-01-03,AAPL,177.83,182.01,104487900,179.95\n"
        "2022-01-03,MSFT,335.35,334.75,28865100,329.49\n"
        "2022-01-04,AAPL,182.63,179.70,99310400,177.67\n"
        "2022-01-04,MSFT,334.83,329.01,32674300,323.84\n"
    )
    prices, report = load_prices_file(text.encode(), name="p.csv")
    assert prices.to_dict("list") == {"AAPL": [179.95, 177.67], "MSFT": [329.49, 323.84]}
    assert report.reading[0].price_column == adjusted


def test_one_symbol_long_file_without_a_close_names_its_ticker_column() -> None:
    """long-prices-ticker-column kind, variant: Date,Ticker,Last Price of one symbol (dates
    never repeat). It was read as wide, 'Ticker' a ticker TICKER whose cells AAA were "not a
    number". Right: the sentence naming the symbol column and the close's name. ('Last
    Price' is read now: see the test below; a field that is no close is still refused.)"""
    text = "Date,Ticker,Bid\n2022-01-03,AAA,10.5\n2022-01-04,AAA,10.7\n2022-01-05,AAA,10.6\n"
    with pytest.raises(DataValidationError) as info:
        load_prices_file(text.encode(), name="p.csv")
    assert str(info.value) == (
        "p.csv has a symbol column 'Ticker' but no 'Close' or 'Adj Close' column; "
        "name the column of adjusted closes 'Adj Close' or 'close'"
    )
