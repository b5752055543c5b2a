"""Untrusted bytes to tables: the size limit, CSV (through ``engine.data.reading``'s
dialect and date inference) or Parquet, and the column names (stripped, repeated ones
dropped, a missing one named with the closest match). Raises ``DataValidationError``
with one sentence; reads nothing but the bytes it is given (or a path's file).
"""

from __future__ import annotations

import difflib
import io
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.reading import (
    DEFAULT_OPTIONS,
    ReadOptions,
    read_csv_text,
    title_line_hint,
)
from engine.data.types import FileReading
from engine.errors import DataUnavailableError, DataValidationError

PathOrBytes = str | os.PathLike | bytes

MAX_EXAMPLES = 5  # examples shown per group of dropped rows or columns
PARQUET_MAGIC = b"PAR1"

# ----- reading bytes ---------------------------------------------------------------------


def read_source(source: PathOrBytes, *, name: str = "", max_bytes: int | None = None) -> tuple[bytes, str]:
    """Bytes of a path or an upload, and the label to use in messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, label = bytes(source), safe_label(name) if name else "the uploaded file"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = safe_label(name or path.name or str(path))
        if path.is_dir():
            raise DataUnavailableError(
                f"{str(path)!r} is a directory, not a file; give the path of a CSV or Parquet file"
            )
        if not path.is_file():
            raise DataUnavailableError(f"the file {str(path)!r} does not exist; check the path")
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise DataValidationError(f"{label} is larger than the {_megabytes(max_bytes)} limit")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataUnavailableError(
                f"the file {str(path)!r} cannot be read ({exc.strerror or 'I/O error'})"
            ) from exc
    else:
        raise DataValidationError(f"expected a file path or bytes, got {type(source).__name__}")
    if max_bytes is not None and len(data) > max_bytes:
        raise DataValidationError(f"{label} is larger than the {_megabytes(max_bytes)} limit")
    return data, label


def safe_label(name: str) -> str:
    """A file name as it may appear in a message: plain names as is, anything odd quoted."""
    return (
        name
        if re.fullmatch(r"[\w.\- ()\[\]]{1,120}", name) and not name.startswith(("=", "+", "-", "@"))
        else repr(name[:120])
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def is_parquet(data: bytes, name: str = "") -> bool:
    """Parquet files start and end with the magic bytes ``PAR1``."""
    return data[:4] == PARQUET_MAGIC or name.lower().endswith((".parquet", ".pq"))


def read_csv_bytes(data: bytes, label: str, options: ReadOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """All-string frame of a UTF-8 CSV (empty cells are NaN, numbers in plain ``1234.5`` form)."""
    return read_csv_with_dialect(data, label, options)[0]


def read_csv_with_dialect(
    data: bytes, label: str, options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[pd.DataFrame, FileReading]:
    """``read_csv_bytes`` and how the file was read (separator, decimal and thousands marks)."""
    if not data.strip():
        raise DataValidationError(f"{label} is empty")
    if data[:4] == PARQUET_MAGIC:
        raise DataValidationError(f"{label} is a Parquet file, but a CSV file is expected here")
    try:
        # UTF-8, with or without the BOM Excel writes; UTF-16 only with its BOM (Excel's
        # "Unicode Text" export: UTF-16 LE, tab-separated).
        encoding = "UTF-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "UTF-8"
        text = data.decode("utf-16" if encoding == "UTF-16" else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"{label} is not {encoding} text (undecodable byte at position {exc.start}); save it as CSV UTF-8"
        ) from exc
    if "\x00" in text:
        raise DataValidationError(f"{label} is not a text file (it holds NUL bytes); save it as CSV UTF-8")
    frame, reading = read_csv_text(text, label, options)
    frame.columns = strip_column_names(frame.columns)
    if frame.empty:
        raise DataValidationError(f"{label} has a header but no data rows")
    return frame, reading


def read_table_bytes(
    data: bytes, label: str, *, file_name: str = "", options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[pd.DataFrame, FileReading]:
    """A CSV or Parquet file's raw frame and how it was read."""
    if is_parquet(data, file_name):
        return read_parquet_bytes(data, label), FileReading(file=label, kind="parquet")
    return read_csv_with_dialect(data, label, options)


def read_parquet_bytes(data: bytes, label: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, ...): translate all
        raise DataValidationError(f"{label} is not a readable Parquet file") from exc
    if isinstance(frame.columns, pd.MultiIndex):  # e.g. a yfinance download saved as is
        return frame
    if not isinstance(frame.index, pd.RangeIndex):  # a saved DatetimeIndex becomes a column
        frame = frame.reset_index()
    frame.columns = strip_column_names(frame.columns)
    if frame.empty:
        raise DataValidationError(f"{label} has no data rows")
    return _decode_binary_columns(frame, label)


def _decode_binary_columns(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Parquet may store text as raw bytes: decode it as UTF-8 like a CSV, or refuse the column.

    Later checks turn cells into strings; undecodable bytes must fail here, with the
    column named, not as a UnicodeDecodeError deep inside pandas.
    """
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object or not values.map(lambda v: isinstance(v, bytes)).any():
            continue
        try:
            frame[column] = values.map(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v)
        except UnicodeDecodeError:
            raise DataValidationError(
                f"{label}: column {str(column)!r} holds binary data that is not UTF-8 text or numbers"
            ) from None
    return frame


# ----- columns -------------------------------------------------------------------------


def strip_column_names(columns: Iterable[object]) -> list[str]:
    """Names without surrounding spaces (a repeated name stays repeated: ``drop_repeated_columns``)."""
    return [str(column).strip() for column in columns]


def drop_repeated_columns(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Keep one column per repeated name: the first copy, whose empty cells take the first
    later copy's value in that row (the first valid value, as for repeated dates: a merged
    spreadsheet whose first ``AAA`` column is empty lost every price of AAA); where both
    copies hold a value, the first copy's is kept. One warning per repeated name, e.g.
    "prices.csv: column 'AAA' appears twice; the second copy was ignored", or "...; 3 empty
    cell(s) of the first copy were filled from the later copy"."""
    names = [str(c) for c in raw.columns]
    repeated = pd.Index(names).duplicated(keep="first")
    if not repeated.any():
        return raw, ()
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        positions.setdefault(name, []).append(i)
    first_positions = [i for i in range(len(names)) if not repeated[i]]
    kept = raw.iloc[:, first_positions].copy()
    warnings = []
    for name, where in positions.items():
        if len(where) < 2:
            continue
        column = raw.iloc[:, where[0]]
        filled = 0
        differ = 0
        for later in where[1:]:
            other = raw.iloc[:, later]
            empty, other_empty = _empty_cells(column), _empty_cells(other)
            fill = empty & ~other_empty
            filled += int(fill.sum())
            both = ~empty & ~other_empty
            differ += int((both & (column.astype(str).str.strip() != other.astype(str).str.strip())).sum())
            column = column.where(~fill, other)
        kept.isetitem(first_positions.index(where[0]), column.to_numpy())
        count = len(where)
        times = "twice" if count == 2 else f"{count} times"
        copy = "the later copy" if count == 2 else "the later copies"
        if not filled:
            copies = "the second copy was" if count == 2 else f"the {count - 1} later copies were"
            warnings.append(f"{label}: column {name!r} appears {times}; {copies} ignored")
            continue
        text = f"{label}: column {name!r} appears {times}; {filled} empty cell(s) of the first copy were filled from {copy}"
        if differ:
            text += f", and in {differ} row(s) where the copies differ the first copy's value was kept"
        warnings.append(text)
    return kept, tuple(warnings)


def _empty_cells(column: pd.Series) -> np.ndarray:
    """True where a cell holds nothing: missing, or text of spaces only."""
    missing = column.isna().to_numpy()
    blank = column.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    return np.asarray(missing | blank, dtype=bool)


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def close_match(wanted: str, candidates: Iterable[str]) -> str | None:
    """The candidate that looks like a misspelling of ``wanted`` (case, spaces, typos)."""
    candidates = list(candidates)
    for candidate in candidates:
        if _squash(candidate) == _squash(wanted):
            return candidate
    by_squashed = {_squash(c): c for c in candidates}
    found = difflib.get_close_matches(_squash(wanted), list(by_squashed), n=1, cutoff=0.8)
    return by_squashed[found[0]] if found else None


def check_columns(frame: pd.DataFrame, required: Sequence[str], label: str) -> tuple[str, ...]:
    """Raise naming missing columns (with a rename hint); return warnings for extra ones."""
    present = [str(c) for c in frame.columns]
    missing = [c for c in required if c not in present]
    if missing:
        spare = [c for c in present if c not in required]
        hints = []
        for column in missing:
            match = close_match(column, spare)
            if match is not None:
                hints.append(f"rename {match!r} to {column!r}")
        if hints:
            hint = f" ({'; '.join(hints)})"
        else:
            found = ", ".join(repr(c) for c in present[:8])
            hint = f"; expected the columns {', '.join(required)} but found {found}{title_line_hint(present)}"
        raise DataValidationError(f"{label} is missing column(s) {', '.join(missing)}{hint}")
    extra = [c for c in present if c not in required]
    if extra:
        shown = ", ".join(repr(c) for c in extra[:MAX_EXAMPLES])
        return (f"{label}: ignored {len(extra)} extra column(s): {shown}",)
    return ()
