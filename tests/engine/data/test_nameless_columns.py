"""Columns with an empty header cell (breaker pass 9, F7): trailing separators (``date,AAA,,``
and every row ending ``,,``) are dropped silently, a nameless column of row numbers (pandas'
``to_csv()`` after ``reset_index()``, R's ``write.csv``) as row numbers; pandas' ``Unnamed: 4``
is never a ticker written with its exchange. Before, both were dropped as "a ticker with its
exchange (write each ticker alone, without its exchange (4, not 'Unnamed: 4'))"."""

from __future__ import annotations

import pandas as pd
import pytest

import engine
from engine.data.symbols import exchange_advice, ticker_with_exchange

DATES = ["2022-01-03", "2022-01-04", "2022-01-05"]
CLOSES = {"AAA": [100.22, 99.73, 101.50], "BBB": [100.83, 100.19, 98.40], "QQQ": [99.70, 100.49, 101.02]}
WIDE_ROWS = [
    "2022-01-03,100.22,100.83,99.70",
    "2022-01-04,99.73,100.19,100.49",
    "2022-01-05,101.50,98.40,101.02",
]
ROW_NUMBERS = "row numbers (a saved pandas or R index), not prices (column ignored)"
LONG_NOTE = "p.csv: ignored a column of row numbers with no name in the header (a saved pandas or R index)"


def _check_wide(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["AAA", "BBB", "QQQ"]
    assert [d.strftime("%Y-%m-%d") for d in frame.index] == DATES
    assert {c: frame[c].tolist() for c in frame.columns} == CLOSES


@pytest.mark.parametrize("separator", [",", ";"])
def test_trailing_separators_of_a_wide_file_are_dropped_silently(separator: str) -> None:
    lines = ["date,AAA,BBB,QQQ", *WIDE_ROWS]
    text = "".join(line.replace(",", separator) + separator * 2 + "\n" for line in lines)
    frame, report = engine.load_prices_file(text.encode(), name="p.csv")
    _check_wide(frame)
    assert report.dropped == () and report.warnings == ()


@pytest.mark.parametrize(
    "text",
    [
        ",date,AAA,BBB,QQQ\n" + "".join(f"{i},{row}\n" for i, row in enumerate(WIDE_ROWS)),
        '"","date","AAA","BBB","QQQ"\n'
        + "".join(
            f'"{i + 1}",' + ",".join(f'"{v}"' for v in row.split(",")) + "\n"
            for i, row in enumerate(WIDE_ROWS)
        ),
        ",date,AAA,BBB,QQQ\n"
        + "".join(f"{i},{row}\n" for i, row in zip((7, 12, 40), WIDE_ROWS, strict=True)),
    ],
    ids=["pandas-reset-index", "r-write-csv", "r-subset"],
)
def test_a_nameless_column_of_row_numbers_in_a_wide_file_is_row_numbers(text: str) -> None:
    frame, report = engine.load_prices_file(text.encode(), name="p.csv")
    _check_wide(frame)
    assert [(d.reason, d.count, d.unit) for d in report.dropped] == [
        (f"column holds {ROW_NUMBERS}", 1, "columns")
    ]
    assert "exchange" not in str(report.dropped)


def test_a_nameless_column_of_other_values_has_no_name_not_an_exchange() -> None:
    text = "date,AAA,BBB,QQQ,\n" + "".join(f"{row},x{i}\n" for i, row in enumerate(WIDE_ROWS))
    frame, report = engine.load_prices_file(text.encode(), name="p.csv")
    _check_wide(frame)
    assert [(d.reason, d.examples) for d in report.dropped] == [
        ("column has no name in the header (column ignored)", ("'Unnamed: 4'",))
    ]


@pytest.mark.parametrize(
    ("text", "warnings"),
    [
        (
            "date;symbol;close;\n2022-01-03;AAA;100.22;\n2022-01-03;QQQ;99.7;\n2022-01-04;AAA;99.73;\n",
            (),
        ),
        (
            ",date,symbol,close\n0,2022-01-03,AAA,100.22\n1,2022-01-03,QQQ,99.7\n2,2022-01-04,AAA,99.73\n",
            (LONG_NOTE,),
        ),
        (
            '"","date","symbol","close"\n"1","2022-01-03","AAA","100.22"\n"2","2022-01-03","QQQ","99.7"\n'
            '"3","2022-01-04","AAA","99.73"\n',
            (LONG_NOTE,),
        ),
    ],
    ids=["trailing-separator", "pandas-reset-index", "r-write-csv"],
)
def test_nameless_columns_of_a_long_file(text: str, warnings: tuple[str, ...]) -> None:
    frame, report = engine.load_prices_file(text.encode(), name="p.csv")
    assert frame["AAA"].tolist() == [100.22, 99.73]
    assert frame["QQQ"].dropna().tolist() == [99.7]
    assert report.rows_kept == 3 and report.warnings == warnings


SENTIMENT_HEADER = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"
SENTIMENT_ROWS = ["2022-01-03,AAA,10,247,1000,1000,0.1", "2022-01-03,BBB,12,265,900,1100,"]


@pytest.mark.parametrize(
    ("text", "warnings"),
    [
        ("".join(f"{line},,\n" for line in [SENTIMENT_HEADER, *SENTIMENT_ROWS]), ()),
        (
            f",{SENTIMENT_HEADER}\n" + "".join(f"{i},{row}\n" for i, row in enumerate(SENTIMENT_ROWS)),
            (
                "s.csv: ignored a column of row numbers with no name in the header (a saved pandas or R index)",
            ),
        ),
    ],
    ids=["trailing-separators", "pandas-reset-index"],
)
def test_nameless_columns_of_a_sentiment_file(text: str, warnings: tuple[str, ...]) -> None:
    frame, report = engine.load_sentiment_csv(text.encode(), name="s.csv")
    assert frame["symbol"].tolist() == ["AAA", "BBB"]
    assert frame["twitterComments"].tolist() == [247, 265]
    assert report.warnings == warnings


@pytest.mark.parametrize("name", ["Unnamed: 4", "Unnamed: 0", "unnamed: 12", "Unnamed: 0_level_0"])
def test_pandas_unnamed_is_no_ticker_with_an_exchange(name: str) -> None:
    assert ticker_with_exchange(name) is None
    assert exchange_advice(name) == ""


def test_exchange_tickers_are_still_recognised() -> None:
    assert ticker_with_exchange("NASDAQ:AAA") == "AAA"
    assert ticker_with_exchange("HKEX:0700") == "0700"
