"""Sentiment and price validation: one test per file-level error and per row-level drop."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import (
    COUNT_COLUMNS,
    SENTIMENT_COLUMNS,
    DataUnavailableError,
    DataValidationError,
    DroppedRows,
    FileProvider,
    StrategyParams,
    load_market_data,
    load_prices_file,
    load_sentiment_csv,
    run_backtest,
)
from engine.data.prices import validate_prices
from engine.data.tables import close_match
from engine.data.validation import parse_dates, validate_sentiment

HEADER = ",".join(SENTIMENT_COLUMNS)
GOOD_ROW = "2022-01-03,AAPL,10,5,20,1000,0.5"


def sentiment_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def dropped(report, reason_part: str) -> DroppedRows:
    matches = [d for d in report.dropped if reason_part in d.reason]
    assert len(matches) == 1, report.dropped
    return matches[0]


# ----- file-level errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "up.csv is empty"),
        (b"   \n\n", "up.csv is empty"),
        (sentiment_csv(), "has a header but no data rows"),
        (b"\xff\xfe\x00\x01garbage,\x9c", "not UTF-16 text"),  # its BOM says UTF-16
        (b"\x81garbage,\x9c", "not UTF-8 text"),
        (b"PAR1\x00\x00", "is a Parquet file, but a CSV file is expected"),
    ],
)
def test_unusable_sentiment_files_raise_one_sentence(data: bytes, message: str) -> None:
    with pytest.raises(DataValidationError, match=message) as info:
        load_sentiment_csv(data, name="up.csv")
    assert "\n" not in str(info.value)


def test_column_names_match_whatever_their_case_and_spacing() -> None:
    header = HEADER.replace("twitterLikes", " Twitter Likes").replace("date", "DATE")
    frame, report = load_sentiment_csv(sentiment_csv(GOOD_ROW, header=header), name="up.csv")
    assert list(frame.columns) == list(SENTIMENT_COLUMNS) and len(frame) == 1 and not report.warnings


def test_misspelt_column_is_named_with_a_suggestion() -> None:
    header = HEADER.replace("twitterLikes", "twiterLikes")
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(sentiment_csv(GOOD_ROW, header=header), name="up.csv")
    assert (
        str(info.value) == "up.csv is missing column(s) twitterLikes (rename 'twiterLikes' to 'twitterLikes')"
    )


def test_missing_columns_are_all_named() -> None:
    with pytest.raises(
        DataValidationError, match="missing column\\(s\\) twitterImpressions, twitterSentiment"
    ):
        load_sentiment_csv(
            sentiment_csv(
                "2022-01-03,AAPL,1,2,3", header="date,symbol,twitterPosts,twitterComments,twitterLikes"
            )
        )


def test_unrelated_columns_list_what_was_found_with_repr() -> None:
    with pytest.raises(DataValidationError, match="found 'a', '=b'"):
        load_sentiment_csv(b"a,=b\n1,2\n")


def test_extra_columns_are_ignored_with_a_warning() -> None:
    frame, report = load_sentiment_csv(sentiment_csv(GOOD_ROW + ",x", header=HEADER + ",note"))
    assert tuple(frame.columns) == SENTIMENT_COLUMNS
    assert any("'note'" in w for w in report.warnings)


def test_malformed_csv_is_translated() -> None:
    with pytest.raises(DataValidationError, match="not a readable CSV"):
        load_sentiment_csv(sentiment_csv(GOOD_ROW, '2022-01-04,"MSFT,1,2,3,4,5'))


def test_missing_path_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match="does not exist"):
        load_sentiment_csv(tmp_path / "nope.csv")


def test_max_bytes_is_enforced_for_bytes_and_paths(tmp_path: Path) -> None:
    data = sentiment_csv(GOOD_ROW)
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(DataValidationError, match="larger than"):
            load_sentiment_csv(source, max_bytes=10)
    assert len(load_sentiment_csv(path, max_bytes=10_000)[0]) == 1


def test_wrong_source_type_is_a_validation_error() -> None:
    with pytest.raises(DataValidationError, match="file path or bytes"):
        load_sentiment_csv(12345)  # type: ignore[arg-type]


def test_no_usable_rows_left_is_a_file_level_error() -> None:
    with pytest.raises(DataValidationError, match=r"no usable rows.*date is not a valid date"):
        load_sentiment_csv(sentiment_csv("yesterday,AAPL,1,2,3,4,0.5"))


ACCEPTED_FORMS = (
    "write the dates in one accepted form: 2022-01-31 (ISO 8601, a time of day may follow), "
    "31/01/2022, 01/31/2022 or 31 01 2022, 31 Jan 2022, 31-Jan-22 or Jan 31, 2022 (English month names), 2022年1月31日 or 2022. 1. 31., "
    "20220131 or Excel serial day numbers, "
    "or give date_format (CLI: --date-format)"
)


@pytest.mark.parametrize(
    ("loader", "text", "expected"),
    [
        (
            load_sentiment_csv,
            HEADER + "\n,AAPL,1,2,3,4,0.5\nyesterday,AAPL,1,2,3,4,0.5\n",
            "s.csv has no usable rows (2 dropped: date is not a valid date, e.g. 'yesterday'); ",
        ),
        (
            load_prices_file,
            "date,AAA\n3rd of Jan,10\n4th of Jan,11\n",
            "s.csv has no usable rows (2 dropped: date is not a valid date, e.g. '3rd of Jan'); ",
        ),
        (
            load_prices_file,
            "date,symbol,close\n3rd of Jan,AAA,10\n3rd of Jan,BBB,11\n",
            "s.csv has no usable prices (2 dropped: date is not a valid date, e.g. '3rd of Jan'); ",
        ),
    ],
    ids=["sentiment", "wide prices", "long prices"],
)
def test_unreadable_dates_refusal_names_a_value_and_the_accepted_forms(loader, text, expected) -> None:
    """The refusal names one value as written (an empty cell is not the example) and the
    accepted forms in one sentence (was 'no usable rows (1 dropped: date is not a valid date)')."""
    with pytest.raises(DataValidationError) as caught:
        loader(text.encode(), name="s.csv")
    assert str(caught.value) == expected + ACCEPTED_FORMS


# ----- row-level drops (sentiment) -------------------------------------------------------


@pytest.mark.parametrize(
    "bad_row, reason, example",
    [
        ("2022-13-45,MSFT,1,2,3,4,0.5", "date is not a valid date", "'2022-13-45'"),
        (
            '2022-01-03,=HYPERLINK("http://x"),1,2,3,4,0.5',
            "symbol is not a ticker",
            "'=HYPERLINK(\"http://x\")'",
        ),
        ("2022-01-03,,1,2,3,4,0.5", "symbol is not a ticker", "''"),
        ("2022-01-03,MSFT,-1,2,3,4,0.5", "twitterPosts is negative", "row 2"),
        ("2022-01-03,MSFT,1,2,-3,4,0.5", "twitterLikes is negative", "row 2"),
        ("2022-01-03,MSFT,1,many,3,4,0.5", "twitterComments is not a number", "row 2"),
        ("2022-01-03,MSFT,1,2,3,,0.5", "twitterImpressions is empty", "row 2"),
        ("2022-01-03,MSFT,1,2,inf,4,0.5", "twitterLikes is infinite", "row 2"),
        ("2022-01-03,MSFT,1,2,3,4,good", "twitterSentiment is not a number", "row 2"),
        ("2022-01-03,MSFT,1,2,3,4,-inf", "twitterSentiment is infinite", "row 2"),
        ("2022-01-03,aapl,1,2,3,4,0.9", "duplicate (date, symbol)", "row 2"),
    ],
)
def test_bad_rows_are_dropped_and_reported(bad_row: str, reason: str, example: str) -> None:
    frame, report = load_sentiment_csv(sentiment_csv(GOOD_ROW, bad_row))
    assert len(frame) == 1 and frame.loc[0, "symbol"] == "AAPL"
    entry = dropped(report, reason)
    assert entry.count == 1 and entry.examples == (example,)
    assert report.rows_read == 2 and report.rows_kept == 1


def test_duplicate_keeps_the_first_row() -> None:
    frame, _ = load_sentiment_csv(sentiment_csv(GOOD_ROW, "2022-01-03,AAPL,99,99,99,99,0.1"))
    assert frame.loc[0, "twitterPosts"] == 10.0


def test_duplicate_whose_first_copy_has_an_empty_sentiment_keeps_the_second_copys_value() -> None:
    """duplicate-date-empty-first kind, sentiment file: the first copy of (2022-01-03, AAPL)
    has an empty twitterSentiment, the second 0.5. It kept NaN and dropped the 0.5 ("first
    valid one kept"), so the sentiment signal lost that day. Right: 0.5, the first valid
    value of the column, as a wide price file keeps the first valid price per ticker."""
    frame, report = load_sentiment_csv(sentiment_csv("2022-01-03,AAPL,10,5,20,1000,", GOOD_ROW))
    assert len(frame) == 1 and frame.loc[0, "twitterSentiment"] == 0.5
    assert [(d.reason, d.count) for d in report.dropped] == [
        ("duplicate (date, symbol) row; the first valid value of each column is kept", 1)
    ]
    # Both empty: NaN, as one empty row would be; a later different value is a conflict.
    frame, _ = load_sentiment_csv(
        sentiment_csv("2022-01-03,AAPL,10,5,20,1000,", "2022-01-03,AAPL,10,5,20,1000,")
    )
    assert np.isnan(frame.loc[0, "twitterSentiment"])
    frame, report = load_sentiment_csv(sentiment_csv(GOOD_ROW, "2022-01-03,AAPL,10,7,20,1000,"))
    assert frame.loc[0, "twitterComments"] == 5.0 and frame.loc[0, "twitterSentiment"] == 0.5
    assert "with different values" in report.dropped[0].reason


def test_a_conflicting_repeat_never_fills_the_kept_row() -> None:
    """The first copy has an empty twitterSentiment; the second has 0.5 but other counts
    (twitterPosts 2 vs 1): a different observation, reported as a conflict. Its 0.5 was
    still copied into the kept row, a row pieced together from two observations. Right:
    the kept row stays as read (NaN); only agreeing repeats fill it."""
    frame, report = load_sentiment_csv(
        sentiment_csv(
            "2022-01-03,AAPL,1,1,1,1,", "2022-01-03,AAPL,2,1,1,1,0.5", "2022-01-04,AAPL,1,1,1,1,0.1"
        )
    )
    assert np.isnan(frame.loc[0, "twitterSentiment"]) and frame.loc[0, "twitterPosts"] == 1.0
    assert [(d.reason, d.count) for d in report.dropped] == [
        ("duplicate (date, symbol) row with different values; the first valid one is kept", 1)
    ]


def test_three_copies_fill_from_the_first_agreeing_one_and_count_each_drop_once() -> None:
    """Copies NaN, 0.5, 0.7 (same counts): the kept row takes 0.5 (first valid value); the
    0.7 copy then differs from it and is a conflict; a conflicting copy (posts 2) in
    between gives nothing. Every dropped row is counted once: read 5 = kept 2 + 3."""
    frame, report = load_sentiment_csv(
        sentiment_csv(
            "2022-01-03,AAPL,1,1,1,1,",
            "2022-01-03,AAPL,2,1,1,1,0.9",
            "2022-01-03,AAPL,1,1,1,1,0.5",
            "2022-01-03,AAPL,1,1,1,1,0.7",
            "2022-01-04,AAPL,1,1,1,1,0.1",
        )
    )
    assert frame["twitterSentiment"].tolist() == [0.5, 0.1]
    assert (frame.dtypes.iloc[2:] == "float64").all()
    assert [(d.reason, d.count) for d in report.dropped] == [
        ("duplicate (date, symbol) row with different values; the first valid one is kept", 2),
        ("duplicate (date, symbol) row; the first valid value of each column is kept", 1),
    ]
    assert report.rows_read == report.rows_kept + sum(d.count for d in report.dropped)


@pytest.mark.parametrize(
    ("date", "symbol"), [("Date", "Ticker"), ("date", "stock_name"), ("Datetime", "Symbol")]
)
def test_sentiment_key_columns_under_the_price_readers_names(date: str, symbol: str) -> None:
    """long-prices-ticker-column kind, sentiment file: a ``Ticker`` (or stock_name) column
    was refused as "missing column(s) symbol" while the price reader reads it; one rule."""
    header = HEADER.replace("date", date, 1).replace("symbol", symbol, 1)
    frame, _ = load_sentiment_csv(sentiment_csv(GOOD_ROW, header=header))
    assert list(frame["symbol"]) == ["AAPL"] and frame.loc[0, "date"] == pd.Timestamp("2022-01-03")


def test_sentiment_key_column_taken_under_another_name_is_named_when_nothing_is_usable() -> None:
    """date,Name,... with company names under Name (no symbol column): Name is read as
    symbol, every row dropped as 'not a ticker', and the refusal said only that; it was
    refused before as 'missing column(s) symbol'. Right: the sentence names the column
    read as symbol and what to do."""
    header = HEADER.replace("symbol", "Name", 1)
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(
            sentiment_csv(
                "2022-01-03,Apple Inc,1,1,1,1,0.5", "2022-01-04,Microsoft Corp,1,1,1,1,0.5", header=header
            ),
            name="s.csv",
        )
    assert str(info.value) == (
        "s.csv has no usable rows (2 dropped: symbol is not a ticker, e.g. 'Apple Inc'; the column 'Name' was read as "
        "'symbol'); name the column of tickers 'symbol'"
    )


def test_sentiment_symbol_column_among_several_named_ones_is_the_one_of_tickers() -> None:
    header = HEADER.replace("symbol", "Name,Code", 1)
    frame, report = load_sentiment_csv(
        sentiment_csv("2022-01-03,Apple Inc,AAPL,10,5,20,1000,0.5", header=header)
    )
    assert list(frame["symbol"]) == ["AAPL"] and any("'Name'" in w for w in report.warnings)
    assert (
        report.warnings[0] == "the uploaded file: no 'symbol' column; the column 'Code' was read as 'symbol'"
    )


def test_sentiment_key_columns_taken_under_other_names_are_named_in_the_report() -> None:
    """Datetime read as date and Ticker as symbol: the report (shown by the Data page and
    the CLI) said nothing; now one warning per column names the column read and as what."""
    header = "Datetime,Ticker,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"
    frame, report = load_sentiment_csv(
        sentiment_csv("2022-01-03,AAPL,10,5,20,1000,0.5", "2022-01-04,MSFT,1,2,3,4,-0.1", header=header),
        name="s.csv",
    )
    assert list(frame["symbol"]) == ["AAPL", "MSFT"]
    assert report.warnings == (
        "s.csv: no 'date' column; the column 'Datetime' was read as 'date'",
        "s.csv: no 'symbol' column; the column 'Ticker' was read as 'symbol'",
    )
    from engine.cli.common import report_lines

    lines = report_lines(report)
    assert "warning: s.csv: no 'symbol' column; the column 'Ticker' was read as 'symbol'" in lines
    # Same name up to case is the column itself, not another name: no warning.
    _, plain = load_sentiment_csv(sentiment_csv(GOOD_ROW, header=HEADER.replace("symbol", "Symbol")))
    assert plain.warnings == ()


def test_invalid_row_does_not_shadow_a_valid_duplicate() -> None:
    frame, report = load_sentiment_csv(sentiment_csv("2022-01-03,AAPL,-1,5,20,1000,0.5", GOOD_ROW))
    assert len(frame) == 1 and frame.loc[0, "twitterPosts"] == 10.0
    assert [d.reason for d in report.dropped] == ["twitterPosts is negative"]


def test_empty_sentiment_score_is_kept_as_nan() -> None:
    frame, report = load_sentiment_csv(sentiment_csv("2022-01-03,AAPL,10,5,20,1000,"))
    assert np.isnan(frame.loc[0, "twitterSentiment"]) and report.dropped == ()


def test_examples_are_capped_and_counts_exact() -> None:
    rows = [f"2022-01-{d:02d},MSFT,-1,2,3,4,0.5" for d in range(1, 21)]
    _, report = load_sentiment_csv(sentiment_csv(GOOD_ROW, *rows))
    entry = dropped(report, "negative")
    assert entry.count == 20 and len(entry.examples) == 5


def test_output_has_the_documented_shape() -> None:
    csv = sentiment_csv(" 2022-01-04 , msft ,1,2,3,4,0.5", GOOD_ROW, "2022-01-03T15:30:00,AMD,1,2,3,4,0.5")
    frame, report = load_sentiment_csv(csv)
    assert tuple(frame.columns) == SENTIMENT_COLUMNS
    assert frame["date"].dtype == "datetime64[ns]"
    assert all(frame[c].dtype == "float64" for c in COUNT_COLUMNS)
    assert list(frame["symbol"]) == ["AAPL", "AMD", "MSFT"]  # sorted by (date, symbol), upper-cased
    assert list(frame["date"].dt.hour) == [0, 0, 0]
    assert isinstance(frame.index, pd.RangeIndex)
    assert report.symbols == ("AAPL", "AMD", "MSFT")
    assert (report.first_date, report.last_date) == ("2022-01-03", "2022-01-04")


def test_utf8_bom_is_accepted() -> None:
    frame, _ = load_sentiment_csv(b"\xef\xbb\xbf" + sentiment_csv(GOOD_ROW))
    assert len(frame) == 1


def test_sentiment_frame_input_is_validated_the_same_way() -> None:
    raw = pd.DataFrame(
        {
            "date": pd.to_datetime(["2022-01-03", "2022-01-04"]),
            "symbol": ["aapl", "=1+1"],
            "twitterPosts": [1, 2],
            "twitterComments": [1, 2],
            "twitterLikes": [1, 2],
            "twitterImpressions": [1, 2],
            "twitterSentiment": [np.nan, 0.3],
        }
    )
    frame, report = validate_sentiment(raw, "table")
    assert list(frame["symbol"]) == ["AAPL"] and frame["twitterPosts"].dtype == "float64"
    assert dropped(report, "not a ticker").examples == ("'=1+1'",)


def test_loads_the_seed_data_set(shared_sentiment_path: Path) -> None:
    frame, report = load_sentiment_csv(shared_sentiment_path)
    assert report.rows_read == 27_235 and report.rows_kept == 27_235 and report.dropped == ()
    assert frame["symbol"].nunique() == 85
    assert frame["twitterSentiment"].isna().sum() == 4_240  # empty scores kept as NaN
    assert (report.first_date, report.last_date) == ("2021-11-18", "2023-01-04")


# ----- helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wanted, candidates, expected",
    [
        ("twitterLikes", ["TwitterLikes"], "TwitterLikes"),
        ("twitterLikes", ["twitter_likes"], "twitter_likes"),
        ("twitterLikes", ["twiterLikes"], "twiterLikes"),
        ("twitterLikes", ["volume"], None),
    ],
)
def test_close_match(wanted: str, candidates: list[str], expected: str | None) -> None:
    assert close_match(wanted, candidates) == expected


def test_parse_dates_one_format_per_column_and_plausible_years() -> None:
    parsed = parse_dates(
        pd.Series(["2022-01-03", "2022-01-04T10:30", "01/04/2022", "3000-01-01", "", None, "x"])
    )
    assert list(parsed[:2]) == [pd.Timestamp("2022-01-03"), pd.Timestamp("2022-01-04")]
    # a lone dd/mm value of no known order, a year out of range, no text: no date
    assert parsed[2:].isna().all() and parsed.dtype == "datetime64[ns]"


# ----- prices ----------------------------------------------------------------------------


def test_wide_prices_cells_are_cleaned_and_reported() -> None:
    csv = (
        b"Date,AAA,bbb,=cmd|' /C calc'!A0,CCC\n"
        b"2022-01-03,10,20,1,\n"
        b"2022-01-04,abc,-5,1,\n"
        b"2022-01-04,12,21,1,\n"
        b"someday,1,1,1,\n"
        b"2022-01-05,inf,22,1,\n"
    )
    frame, report = load_prices_file(csv, name="w.csv")
    assert list(frame.columns) == ["AAA", "BBB"] and frame.index.name == "date"
    # Row 2 has no valid price at all, a priceless copy of a date whose prices are row 3's.
    assert list(frame.loc["2022-01-04"]) == [12.0, 21.0] and frame.loc["2022-01-05", "BBB"] == 22.0
    assert dropped(report, "not a valid date").examples == ("'someday'",)
    assert dropped(report, "duplicate date row with no price").examples == ("row 2",)
    assert dropped(report, "column name is not a ticker").examples == ("\"=cmd|' /C calc'!A0\"",)
    assert dropped(report, "price is not a number").examples == ("AAA row 2",)
    assert dropped(report, "positive finite").count == 2
    assert report.failed_tickers == ("CCC",) and any("CCC" in w for w in report.warnings)


def test_long_prices_rows_are_cleaned_and_reported() -> None:
    csv = (
        b"date,symbol,close,volume\n2022-01-03,AAA,10,5\n2022-01-03,aaa,11,5\n"
        b"2022-01-04,AAA,0,5\n2022-01-04,BBB,x,5\n2022-01-05,BBB,3,5\n2022-01-05,../x,3,5\n"
    )
    frame, report = load_prices_file(csv, name="l.csv")
    assert frame.loc["2022-01-03", "AAA"] == 10.0
    assert pd.Timestamp("2022-01-04") not in frame.index  # both of its rows were dropped
    assert dropped(report, "close is not a positive number").count == 1
    assert dropped(report, "close is not a number").count == 1
    assert dropped(report, "duplicate (date, symbol)").examples == ("row 2",)
    assert dropped(report, "symbol is not a ticker").examples == ("'../x'",)
    assert any("'volume'" in w for w in report.warnings)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (b"date,AAA\n", "header but no data rows"),
        (b"when,AAA\n2022-01-03,1\n", "no 'date' column"),
        (b"Dates,AAA\n2022-01-03,1\n", "rename 'Dates' to 'date'"),
        (b"date\n2022-01-03\n", "no ticker columns"),
        (b"date,AAA\n2022-01-03,\n", "every ticker column is empty"),
        (b"date,AAA\nnope,1\n", "no usable rows"),
        (b"date,symbol,close\n2022-01-03,AAA,-1\n", "no usable prices"),
        (b"PAR1 this is not really parquet PAR1", "not a readable Parquet file"),
        (b"\x81\x82\x83,\x84", "not UTF-8"),
    ],
)
def test_unusable_price_files_raise_one_sentence(data: bytes, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        load_prices_file(data, name="p.csv")


def test_price_frame_with_datetime_index_is_accepted() -> None:
    index = pd.DatetimeIndex(["2022-01-04", "2022-01-03"], name="Date")
    frame, _ = validate_prices(pd.DataFrame({"msft": [2.0, 1.0]}, index=index), "frame")
    assert list(frame.columns) == ["MSFT"] and list(frame["MSFT"]) == [1.0, 2.0]
    assert frame.index.dtype == "datetime64[ns]"


def test_parquet_is_detected_by_magic_bytes_without_a_name() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"date": pd.to_datetime(["2022-01-03"]), "AAA": [1.5]}).to_parquet(buffer)
    frame, _ = load_prices_file(buffer.getvalue())
    assert frame.loc["2022-01-03", "AAA"] == 1.5


# ----- fuzzing: never a raw pandas/pyarrow exception --------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from engine import EngineError  # noqa: E402

CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "1",
            "-1",
            "0",
            "1e308",
            "1e999",
            "nan",
            "inf",
            "2022-01-03",
            "AAPL",
            "=1+1",
            '"',
            ",",
            "2022-02-30",
            "NULL",
            " 7 ",
            "١٢",
            "\u00a0",
        ]
    ),
    st.text(max_size=6),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(CELLS, min_size=5, max_size=8), max_size=6))
def test_fuzzed_sentiment_csv_never_leaks_a_raw_exception(rows: list[list[str]]) -> None:
    text = HEADER + "\n" + "\n".join(",".join(row) for row in rows)
    try:
        frame, _ = load_sentiment_csv(text.encode("utf-8"))
    except EngineError as error:
        assert "\n" not in str(error)
    else:
        assert tuple(frame.columns) == SENTIMENT_COLUMNS and len(frame) >= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(["date", "Date", "symbol", "close", "AAA", "bbb", "=X", "", "AAA "]),
        min_size=1,
        max_size=5,
    ),
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=6),
)
def test_fuzzed_price_csv_never_leaks_a_raw_exception(header: list[str], rows: list[list[str]]) -> None:
    text = ",".join(header) + "\n" + "\n".join(",".join(row) for row in rows)
    try:
        frame, _ = load_prices_file(text.encode("utf-8"))
    except EngineError:
        return
    assert frame.index.name == "date" and (frame.dtypes == "float64").all()
    assert (frame.stack().dropna() > 0).all()


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64))
def test_fuzzed_bytes_never_leak_a_raw_exception(data: bytes) -> None:
    for loader in (load_sentiment_csv, load_prices_file):
        with contextlib.suppress(EngineError):
            loader(data)


@pytest.mark.parametrize(
    "name, shown", [("data.csv", "data.csv is empty"), ("=HYPERLINK(1).csv", "'=HYPERLINK(1).csv' is empty")]
)
def test_odd_file_names_are_quoted_in_messages(name: str, shown: str) -> None:
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(b"", name=name)
    assert str(info.value) == shown


@pytest.mark.parametrize(
    ("loader", "text", "reason"),
    [
        (
            "prices",
            "date,AAA,BBB\n2022-01-03,10,20\n2022-01-04,11,21\n2022-01-04,12,21\n",
            "duplicate date row with a different price",
        ),
        (
            "prices",
            "date,symbol,close\n2022-01-03,AAA,10\n2022-01-04,AAA,11\n2022-01-04,AAA,12\n",
            "duplicate (date, symbol) row with different values",
        ),
        (
            "sentiment",
            "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
            "2022-01-03,AAA,100,60,200,10000,\n2022-01-03,AAA,100,70,200,10000,\n",
            "duplicate (date, symbol) row with different values",
        ),
    ],
)
def test_conflicting_duplicates_are_reported_as_conflicts(loader: str, text: str, reason: str) -> None:
    """duplicate-date-empty-first kind, variant: two non-empty copies that disagree (AAA 11
    then 12 on 2022-01-04; comments 60 then 70). Right value: the first valid copy is kept
    (11; 60) and the drop is listed as a conflict, not as a harmless repeat; an identical
    copy stays a plain duplicate."""
    load = load_prices_file if loader == "prices" else load_sentiment_csv
    frame, report = load(text.encode(), name="f.csv")
    conflict = next(d for d in report.dropped if reason in d.reason)
    assert conflict.count == 1 and conflict.examples == (("row 3",) if loader == "prices" else ("row 2",))
    if loader == "prices":
        assert frame.loc["2022-01-04", "AAA"] == 11.0
    else:
        assert frame["twitterComments"].tolist() == [60.0]
    lines = text.splitlines()
    same = "\n".join([*lines[:-1], lines[-2]]) + "\n"  # the repeat now equals the first copy
    _, report = load(same.encode(), name="f.csv")
    reasons = [d.reason for d in report.dropped]
    assert not any(reason in r for r in reasons) and sum("duplicate" in r for r in reasons) == 1


def test_intraday_sentiment_rows_are_refused_not_cut_to_each_days_first_row() -> None:
    """Intraday sentiment (several rows of one symbol a day, at different times): each day
    kept its 09:00 row and the 13:00 row was dropped as a "duplicate (date, symbol) row with
    different values", so the signal silently used a morning snapshot (AAA's comments 20,
    not 20 + 25 = 45 or 25). Whether the day is the sum or the last row the file does not
    say; the price reader refuses intraday bars for the same reason. Right: one sentence."""
    rows = [
        f"2022-01-0{day} {hour},{symbol},1,{comments},30,4,0.1"
        for day in (3, 4)
        for symbol in ("AAA", "BBB")
        for hour, comments in (("09:00", 20), ("13:00", 25))
    ]
    with pytest.raises(DataValidationError) as caught:
        load_sentiment_csv(sentiment_csv(*rows), name="s.csv")
    assert str(caught.value) == (
        "s.csv holds rows of one symbol at several times of day on 2 dates (e.g. AAA on 2022-01-03 "
        "at 2 times): intraday data; give one row per symbol and day (the strategy's thresholds and "
        "signals are per day)"
    )
    # The same from a DataFrame with timestamps (YahooProvider's sentiment argument).
    frame = pd.read_csv(io.BytesIO(sentiment_csv(*rows)), parse_dates=["date"])
    with pytest.raises(DataValidationError, match="intraday data"):
        validate_sentiment(frame, "frame")


def test_sentiment_times_of_one_row_a_day_or_one_repeated_date_stay_daily() -> None:
    """The intraday refusal's limits: one time a day per symbol is daily (two symbols at two
    times on one date are two rows), and one date at two times is a duplicate (first kept)."""
    frame, report = load_sentiment_csv(
        sentiment_csv(
            "2022-01-03 16:00,AAA,1,20,30,4,0.1",
            "2022-01-03 16:30,BBB,1,20,30,4,0.1",
            "2022-01-04 16:00,AAA,1,20,30,4,0.1",
            "2022-01-04 16:30,BBB,1,20,30,4,0.1",
        )
    )
    assert len(frame) == 4 and not report.dropped
    frame, report = load_sentiment_csv(
        sentiment_csv(
            "2022-01-03 09:00,AAA,1,20,30,4,0.1",
            "2022-01-03 13:00,AAA,1,25,30,4,0.1",
            "2022-01-04 09:00,AAA,1,20,30,4,0.1",
        )
    )
    assert frame["twitterComments"].tolist() == [20.0, 20.0]
    assert [(d.reason, d.count) for d in report.dropped] == [
        ("duplicate (date, symbol) row with different values; the first valid one is kept", 1)
    ]


def test_sentiment_times_in_their_own_column_are_read_with_the_dates() -> None:
    """The intraday kind with the time of day in its own column (Date,Time,... as brokers'
    and MetaTrader's exports write it): the 'Time' column was ignored as an extra column and
    the 13:00 rows dropped as duplicates with different values. Right: the times are read
    with the dates, as in a price file, so intraday rows are refused and one time a day is
    daily (with the report's note)."""
    header = "Date,Time,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"
    rows = [f"2022-01-0{d},{h},AAA,1,{c},30,4,0.1" for d in (3, 4) for h, c in (("09:00", 20), ("13:00", 25))]
    with pytest.raises(
        DataValidationError, match=r"^s\.csv holds rows of one symbol at several times of day on 2 dates"
    ):
        load_sentiment_csv(sentiment_csv(*rows, header=header), name="s.csv")
    frame, report = load_sentiment_csv(
        sentiment_csv(
            "2022-01-03,16:00,AAA,1,20,30,4,0.1", "2022-01-04,16:00,AAA,1,25,30,4,0.1", header=header
        ),
        name="s.csv",
    )
    assert frame["twitterComments"].tolist() == [20.0, 25.0] and not report.dropped
    assert report.warnings == ("s.csv: the times of day in 'Time' were read with the dates",)


# ----- forward-filled weekend rows (weekend-period-end kind, calendar-day price file) -------

CALENDAR_PRICES = (
    "date,AAA,BBB,QQQ\n"
    "2022-04-27,10.0,20.0,300.0\n"
    "2022-04-28,10.5,20.5,301.0\n"
    "2022-04-29,11.0,21.0,302.0\n"
    "2022-04-30,11.0,21.0,302.0\n"  # Saturday: Friday's closes filled forward
    "2022-05-01,11.0,21.0,302.0\n"  # Sunday
    "2022-05-02,12.0,20.0,303.0\n"
    "2022-05-03,13.0,19.0,304.0\n"
)


def test_forward_filled_weekend_rows_of_a_price_file_are_not_trading_days() -> None:
    """A calendar-day price file (pandas' resample('D').ffill()) repeats Friday's closes on
    Saturday and Sunday. They were read as trading days: April 2022 ends on Saturday the 30th,
    so the May holdings were bought at Saturday's 'close' (Friday's price) on a signal that
    counted Saturday's sentiment (BBB's jump: BBB bought, not AAA), and each weekend added two
    zero-return days. Right: both dates dropped and reported (2 dates; 6 rows of a long file),
    the entry is Monday 2 May, as with a business-day file."""
    prices, report = load_prices_file(CALENDAR_PRICES.encode(), name="p.csv")
    assert [d.date().isoformat() for d in prices.index] == [
        "2022-04-27", "2022-04-28", "2022-04-29", "2022-05-02", "2022-05-03"
    ]  # fmt: skip
    weekend = dropped(report, "weekend date")
    assert weekend.reason == (
        "a weekend date whose every price repeats the previous day's (filled forward, not a trading day)"
    )
    assert (weekend.count, weekend.examples) == (2, ("2022-04-30 (Sat)", "2022-05-01 (Sun)"))
    assert report.rows_read == 7 and report.rows_kept == 5
    long = pd.read_csv(io.StringIO(CALENDAR_PRICES)).melt(
        id_vars="date", var_name="symbol", value_name="close"
    )
    prices_long, report_long = load_prices_file(long.to_csv(index=False).encode(), name="p.csv")
    assert prices_long.equals(prices)
    assert dropped(report_long, "weekend date").count == 6 and report_long.rows_kept == 15
    # A weekend price that moved (a market open on weekends) is a trading day.
    moved = CALENDAR_PRICES.replace("2022-05-01,11.0,21.0,302.0", "2022-05-01,11.2,21.0,302.0")
    prices_moved, _ = load_prices_file(moved.encode(), name="p.csv")
    assert pd.Timestamp("2022-05-01") in prices_moved.index
    assert pd.Timestamp("2022-04-30") not in prices_moved.index

    sentiment = HEADER + "".join(
        f"\n2022-04-{day:02d},{symbol},100,{190 if (symbol, day) == ('BBB', 30) else 40},200,10000,"
        for day in range(1, 31)
        for symbol in ("AAA", "BBB")
    )
    data = load_market_data(
        FileProvider(sentiment=(sentiment + "\n").encode(), prices=CALENDAR_PRICES.encode())
    )
    result = run_backtest(data, StrategyParams(top_n=1))
    assert result.periods["entry_date"].dt.date.astype(str).tolist() == ["2022-05-02"]
