"""CSV downloads: provenance header, formula neutralisation, numbers kept as numbers."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from engine import frame_to_csv, header_lines, neutralise, records_to_csv

HEADER = {"params": {"top_n": 5, "signal": "engagement_ratio"}, "data_fingerprint": "aa3567b21864b3f5"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1,1)", "'@SUM(1,1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("AAPL", "AAPL"),
        ("", ""),
        ("a=b", "a=b"),
        ("-1.5", "-1.5"),
        ("+3e-2", "+3e-2"),
        (-1.5, -1.5),
        (0, 0),
        (None, None),
    ],
)
def test_neutralise(cell: object, expected: object) -> None:
    assert neutralise(cell) == expected


def test_csv_starts_with_the_provenance_header() -> None:
    text = frame_to_csv(pd.DataFrame({"a": [1]}), header=HEADER)
    lines = text.splitlines()
    assert lines[0] == '# params: {"signal": "engagement_ratio", "top_n": 5}'
    assert lines[1] == "# data_fingerprint: aa3567b21864b3f5"
    assert lines[2] == "a"


def test_header_newlines_cannot_start_a_new_row() -> None:
    text = header_lines({"source": "evil.csv\n=1+1,\r\n@x"})
    assert text.count("\n") == 1 and text.startswith("# source: evil.csv")


def test_numbers_stay_numbers_and_text_is_neutralised() -> None:
    frame = pd.DataFrame(
        {
            "symbol": ["=BAD()", "-AAA", "GOOD"],
            "weight": [0.5, -0.25, np.nan],
            "rank": [1, -2, 3],
            "=col": ["x", "y", "z"],
        }
    )
    text = frame_to_csv(frame, header=HEADER)
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert list(back.columns) == ["symbol", "weight", "rank", "'=col"]
    assert back["symbol"].tolist() == ["'=BAD()", "'-AAA", "GOOD"]
    assert back["weight"].iloc[:2].tolist() == [0.5, -0.25] and np.isnan(back["weight"].iloc[2])
    assert back["rank"].tolist() == [1, -2, 3]
    assert "\n'-AAA,-0.25,-2,y\n" in text  # negative numbers written bare, text escaped


def test_dates_and_named_index_are_written() -> None:
    index = pd.DatetimeIndex(["2023-01-02", "2023-01-03"], name="date")
    frame = pd.DataFrame({"portfolio": [0.01, -0.02]}, index=index)
    lines = frame_to_csv(frame, header={"run": "x"}).splitlines()
    assert lines[1:] == ["date,portfolio", "2023-01-02,0.01", "2023-01-03,-0.02"]


def test_records_to_csv_keeps_column_order() -> None:
    text = records_to_csv([{"b": 1, "a": "@x"}], ["b", "a"], header={})
    assert text == "b,a\n1,'@x\n"


def test_a_semicolon_separated_reading_of_a_header_line_has_no_live_formula() -> None:
    # Spreadsheets in decimal-comma locales split CSV lines at ';': a file name such as
    # 'a;=HYPERLINK(...)' must not put a formula in the second cell there either.
    line = header_lines({"data_source": 'a;=HYPERLINK("http://x","y") + p.csv'})
    for separator in (",", ";"):
        cells = line.rstrip("\n").split(separator)
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells[1:]), (separator, cells)
