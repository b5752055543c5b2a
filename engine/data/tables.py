"""Untrusted bytes to tables: the size limit, a compressed file's content (gzip, bzip2, xz, a
zip of one file; the limit holds on the decompressed size), CSV (through
``engine.data.reading``'s dialect and date inference) or Parquet, and the column names
(stripped, repeated ones dropped, a missing one named with the closest match, nameless
empty ones dropped). Raises ``DataValidationError`` with one sentence; reads nothing but the
bytes it is given (or a path's file).
"""

from __future__ import annotations

import bz2
import difflib
import gzip
import io
import lzma
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
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
# The bound on a compressed file's content when the caller gives none (a path on the CLI or
# DATA_SOURCE=files): a few kB of gzip can inflate to gigabytes. With ``max_bytes`` (the
# Data page's upload limit) that bound holds on the decompressed size too.
MAX_INFLATED_BYTES = 500_000_000

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
    return inflate(data, label, max_bytes=max_bytes), label


def safe_label(name: str) -> str:
    """A file name as it may appear in a message: plain names as is, anything odd quoted."""
    return (
        name
        if re.fullmatch(r"[\w.\- ()\[\]]{1,120}", name) and not name.startswith(("=", "+", "-", "@"))
        else repr(name[:120])
    )


def _megabytes(size: int) -> str:
    if size % 2**20 == 0:  # the Data page's limit is set in MiB (MAX_UPLOAD_BYTES = 10 MiB)
        return f"{size // 2**20} MiB"
    return f"{size / 1_000_000:g} MB" if size >= 1_000_000 else f"{size / 1000:g} kB"


# ----- compressed files ----------------------------------------------------------------

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive
XZ_MAGIC = b"\xfd7zXZ\x00"
# Formats pandas or a desktop archiver may write that are not read here: named, not decoded
# as text ("not UTF-8 text, undecodable byte at position 1" said nothing of the cause).
_UNREAD_FORMATS = (
    (b"\x28\xb5\x2f\xfd", "compressed with Zstandard"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
)
_ARCHIVE_JUNK = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)


def _is_bzip2(data: bytes) -> bool:
    return data[:3] == b"BZh" and data[3:4] in b"123456789" and data[4:10] in (b"1AY&SY", b"\x17rE8P\x90")


def compression_of(data: bytes) -> str | None:
    """The compression or archive format ``data`` starts with (its magic bytes), or None."""
    if data[:2] == GZIP_MAGIC:
        return "gzip"
    if data[:4] in ZIP_MAGICS:
        return "zip"
    if _is_bzip2(data):
        return "bzip2"
    if data[:6] == XZ_MAGIC:
        return "xz"
    return next((what for magic, what in _UNREAD_FORMATS if data.startswith(magic)), None)


def inflate(data: bytes, label: str, *, max_bytes: int | None = None) -> bytes:
    """The content of a compressed file, as pandas reads ``prices.csv.gz``: gzip, bzip2, xz,
    or a zip holding one file (a Mac's ``__MACOSX/`` entries aside); any other bytes as they
    are. The bound (``max_bytes``, else ``MAX_INFLATED_BYTES``) holds on the content, which is
    read incrementally: a "zip bomb" is refused after ``bound + 1`` bytes, never inflated."""
    kind = compression_of(data)
    if kind is None:
        return data
    bound = MAX_INFLATED_BYTES if max_bytes is None else max_bytes
    if kind == "zip":
        return _unzip(data, label, bound)
    openers: dict[str, Callable[[io.BytesIO], io.BufferedIOBase]] = {
        "gzip": lambda raw: gzip.GzipFile(fileobj=raw),
        "bzip2": bz2.BZ2File,
        "xz": lzma.LZMAFile,
    }
    opener = openers.get(kind)
    if opener is None:
        raise DataValidationError(
            f"{label} is {kind}, not a CSV or Parquet file; extract or decompress it first "
            "(or compress it with gzip or zip)"
        )
    try:
        with opener(io.BytesIO(data)) as stream:
            content = stream.read(bound + 1)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        ended = isinstance(exc, EOFError)
        raise DataValidationError(
            f"{label} is a damaged {kind} file ({'it ends early' if ended else 'it cannot be decompressed'}); "
            "compress it again or give the CSV itself"
        ) from None
    return _bounded(content, label, bound)


def _bounded(content: bytes, label: str, bound: int) -> bytes:
    if len(content) > bound:
        raise DataValidationError(f"{label} is larger than the {_megabytes(bound)} limit once decompressed")
    return content


# What zipfile raises on a damaged archive or member (read as "damaged", never a traceback).
_ZIP_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def _unzip(data: bytes, label: str, bound: int) -> bytes:
    """The one file of a zip archive (see ``inflate``)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_DAMAGED:
        raise DataValidationError(
            f"{label} is a damaged zip archive (it cannot be read); zip the file again"
        ) from None
    with archive:
        return _one_member(archive, label, bound)


def _one_member(archive: zipfile.ZipFile, label: str, bound: int) -> bytes:
    entries = archive.infolist()
    names = [entry.filename for entry in entries]
    if "[Content_Types].xml" in names or "mimetype" in names:
        raise DataValidationError(
            f"{label} is a spreadsheet workbook (Excel .xlsx or OpenDocument), not a CSV file; save it as CSV UTF-8"
        )
    files = [e for e in entries if not e.is_dir() and not _ARCHIVE_JUNK.search(e.filename)]
    if not files:
        raise DataValidationError(f"{label} is a zip archive with no file in it")
    if len(files) > 1:
        shown = ", ".join(safe_label(e.filename) for e in files[:MAX_EXAMPLES])
        more = f" and {len(files) - MAX_EXAMPLES} more" if len(files) > MAX_EXAMPLES else ""
        raise DataValidationError(
            f"{label} is a zip archive of {len(files)} files ({shown}{more}); a zip must hold one "
            "CSV or Parquet file: extract the one to use, or zip it alone"
        )
    entry = files[0]
    if entry.flag_bits & 0x1:
        raise DataValidationError(f"{label} is a password-protected zip archive; extract the file first")
    if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise DataValidationError(
            f"{label} is a zip archive compressed with another method than the usual deflate; "
            "zip the file again with the usual method, or give the file itself"
        )
    if entry.file_size > bound:  # the archive says so: refused before anything is inflated
        raise DataValidationError(f"{label} is larger than the {_megabytes(bound)} limit once decompressed")
    try:
        with archive.open(entry) as stream:
            content = stream.read(bound + 1)  # at most bound + 1 bytes are ever inflated
    except _ZIP_DAMAGED:
        raise DataValidationError(
            f"{label} is a damaged zip archive (its file cannot be decompressed); zip the file again"
        ) from None
    return _bounded(content, label, bound)


def is_parquet(data: bytes, name: str = "") -> bool:
    """Parquet files start and end with the magic bytes ``PAR1``."""
    return data[:4] == PARQUET_MAGIC or name.lower().endswith((".parquet", ".pq"))


def read_csv_bytes(data: bytes, label: str, options: ReadOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """All-string frame of a UTF-8 CSV (empty cells are NaN, numbers in plain ``1234.5`` form)."""
    return read_csv_with_dialect(data, label, options)[0]


# A web page saved under a .csv name (or a login page downloaded instead of the data): its
# first tag, after any blank lines and HTML comments.
_HTML_START = re.compile(
    r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|table)\b", re.IGNORECASE | re.DOTALL
)


def read_csv_with_dialect(
    data: bytes, label: str, options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[pd.DataFrame, FileReading]:
    """``read_csv_bytes`` and how the file was read (separator, decimal and thousands marks)."""
    if not data.strip():
        raise DataValidationError(f"{label} is empty")
    if data[:4] == PARQUET_MAGIC:
        raise DataValidationError(f"{label} is a Parquet file, but a CSV file is expected here")
    compressed = compression_of(data)  # read_source inflated one layer: given directly, or twice compressed
    if compressed is not None:
        raise DataValidationError(
            f"{label} holds {compressed} data where CSV text is expected (compressed twice?); decompress it first"
        )
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
    if _HTML_START.match(text):  # a saved web page: read as CSV it was "a header but no data rows"
        raise DataValidationError(f"{label} is an HTML web page, not a CSV file; save the data as CSV UTF-8")
    frame, reading = read_csv_text(universal_newlines(text), label, options)
    frame.columns = strip_column_names(frame.columns)
    frame = drop_empty_nameless_columns(frame)
    if frame.empty:
        raise DataValidationError(f"{label} has a header but no data rows")
    return frame, reading


def universal_newlines(text: str) -> str:
    """``text`` with every line ending ``\\n`` when it has a lone ``\\r`` (Excel for Mac's "CSV
    (Macintosh)", classic Mac text: a ``\\r`` ends each line, which Python's ``csv`` reader took
    for "a line break inside a value that is not quoted"); ``\\r\\n`` and ``\\r`` both become
    ``\\n``, as Python's universal newlines read them. Text without a lone ``\\r`` is returned
    as it is (a quoted value keeps its ``\\r\\n``)."""
    if "\r" not in text.replace("\r\n", ""):
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


# pandas' name for a column whose header cell is empty (a trailing separator, the index of
# to_csv() or R's write.csv); a real name is never read so.
_NAMELESS = re.compile(r"Unnamed: \d+")


def is_nameless(name: object) -> bool:
    """True for a column with an empty header cell (``""``, pandas' ``Unnamed: 4``)."""
    text = str(name).strip()
    return not text or _NAMELESS.fullmatch(text) is not None


def drop_empty_nameless_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Without the columns that have neither a name nor a value: the trailing separators of a
    spreadsheet export (``date,AAA,BBB,,`` and every row ending ``,,``) hold nothing to read or
    report (they were dropped as "a ticker with its exchange (4, not 'Unnamed: 4')")."""
    empty = [
        i
        for i, name in enumerate(frame.columns)
        if is_nameless(name) and _empty_cells(frame.iloc[:, i]).all()
    ]
    if not empty:
        return frame
    dropped = set(empty)
    return frame.iloc[:, [i for i in range(frame.shape[1]) if i not in dropped]]


def holds_row_numbers(column: pd.Series) -> bool:
    """True for a nameless column of row numbers: every cell a whole number, strictly
    increasing or decreasing (pandas' ``to_csv()`` of a frame after ``reset_index()``:
    0, 1, 2, ...; R's ``write.csv`` row names "1", "2", ..., also after a subset or a sort)."""
    cells = column[~_empty_cells(column)].astype(str).str.strip()
    if cells.empty or not cells.str.fullmatch(r"\d{1,12}").all():
        return False
    steps = np.diff(cells.astype(np.int64).to_numpy())
    return bool((steps > 0).all() or (steps < 0).all())


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
    numbering = [c for c in extra if is_nameless(c) and holds_row_numbers(frame[c])]
    extra = [c for c in extra if c not in numbering]
    notes = _row_number_notes(numbering, label)
    if extra:
        shown = ", ".join(repr(c) for c in extra[:MAX_EXAMPLES])
        return (*notes, f"{label}: ignored {len(extra)} extra column(s): {shown}")
    return notes


def ignored_column_notes(frame: pd.DataFrame, ignored: Sequence[str], label: str) -> tuple[str, ...]:
    """The warnings for the ``ignored`` columns of a long file: ``<file>: ignored column(s)
    'Open', 'High'``, a nameless column of row numbers under its own (``_row_number_notes``)."""
    numbering = [c for c in ignored if is_nameless(c) and holds_row_numbers(frame[c])]
    rest = [c for c in ignored if c not in numbering]
    notes = _row_number_notes(numbering, label)
    if rest:
        notes = (*notes, f"{label}: ignored column(s) {', '.join(repr(c) for c in rest)}")
    return notes


def _row_number_notes(numbering: Sequence[str], label: str) -> tuple[str, ...]:
    if not numbering:
        return ()
    what = "a column" if len(numbering) == 1 else f"{len(numbering)} columns"
    return (f"{label}: ignored {what} of row numbers with no name in the header (a saved pandas or R index)",)
