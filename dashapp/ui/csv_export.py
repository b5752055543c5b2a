"""CSV downloads that are safe to open in a spreadsheet and say how they were made.

A download starts with ``# key: value`` comment lines (the run's parameters, data source
and data fingerprint), then the CSV. Text cells that a spreadsheet would evaluate as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are prefixed
with ``'`` (OWASP "CSV injection"); real numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number written as text ("-1.5", "+3e-2") is data, not a formula.
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def header_lines(header: Mapping[str, Any]) -> str:
    """``# key: value`` lines; nested values as JSON; newlines flattened; CSV-safe cells."""
    lines = []
    for key, value in header.items():
        text = value if isinstance(value, str) else json.dumps(_jsonable(value), sort_keys=True, default=str)
        lines.append(safe_comment_line(f"# {_one_line(str(key))}: {_one_line(text)}") + "\n")
    return "".join(lines)


def safe_comment_line(line: str) -> str:
    """``line`` with every cell a spreadsheet would see made inert.

    A comment line is still split into cells at its commas: a value such as
    ``",=cmd|..."`` would put a live formula in the second cell. Each cell after a comma
    gets the cell rule (``neutralise``), and a cell that starts with a double quote gets
    a ``'`` too, so that it cannot open a quoted field that swallows the following lines.
    JSON values are written with ``", "`` separators, so their own cells start with a space
    and stay unchanged.
    """
    first, *rest = line.split(",")
    return ",".join([first, *(("'" + cell) if cell.startswith('"') else neutralise(cell) for cell in rest)])


def frame_to_csv(frame: pd.DataFrame, *, header: Mapping[str, Any]) -> str:
    """The CSV text of ``frame`` (index included when it is not a plain RangeIndex)."""
    table = frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index()
    table = table.copy()
    table.columns = [neutralise(str(c)) for c in table.columns]
    for column in table.columns:
        series = table[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            table[column] = series.dt.strftime("%Y-%m-%d")
        elif not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            table[column] = series.astype(object).map(neutralise)
    return header_lines(header) + table.to_csv(index=False, lineterminator="\n")


def records_to_csv(
    records: list[Mapping[str, Any]], columns: list[str] | None = None, *, header: Mapping[str, Any]
) -> str:
    """Same as ``frame_to_csv`` for plain records (what services return)."""
    return frame_to_csv(pd.DataFrame.from_records(records, columns=columns), header=header)


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
