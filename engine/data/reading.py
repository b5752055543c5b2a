"""The one reading layer: dialect, date format, layout and column detection for every file.

Every entry point (``load_sentiment_csv``, ``load_prices_file``, ``FileProvider``,
``YahooProvider``'s sentiment, ``load_market_data``, the CLI, the Data page upload and
``DATA_SOURCE=files``) reads through ``read_table`` and ``infer_dates``, and what was decided
is returned as a ``FileReading`` (put into ``ValidationReport.reading``).

Decisions are made for a whole file or a whole column, never value by value:

- **separator**: the one of ``, ; TAB |`` that splits the header and every sampled line
  into the same number (>= 2) of fields (quotes respected, Python's ``csv`` module). When
  two separators fit equally, the file is refused with one sentence naming both.
- **decimal and thousands marks**: from the number-shaped cells of the whole file. A cell
  such as ``1,5`` or ``1.234,56`` proves a decimal comma, ``1.5`` or ``1,234.56`` a decimal
  point; a file that proves both is refused; a file whose numbers are all like ``1,234``
  (either reading possible) is refused unless ``decimal=`` is given.
- **date format**: one format for the whole column, inferred from all its values: ISO
  8601 (with or without a time and a UTC offset: the local date as written is kept, so
  offsets that change at daylight saving are fine, except a price file's US closes
  stamped in another zone whose local dates fall on weekends, read at their New York
  dates: ``_exchange_dates``; a column stamped UTC only, ``Z``,
  ``+00:00``, ``GMT`` or a zone name of UTC (``Etc/UTC``, ``Zulu``: ``UTC_ZONE_NAMES``; a local
  abbreviation such as ``BST`` next to ``GMT`` makes the column local), or stored
  as timestamps in UTC (Parquet), with a time other than midnight is refused as Unix
  timestamps are: its local date is not known), ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (any
  value with a first field above 12 settles day-first, a second field above 12
  month-first, one or two values against the order are invalid dates and more than two
  each way a mixed file, refused: ``_ORDER_RULE``; a column where both readings fit every
  value is refused, naming the ``date_format``/``dayfirst`` option; each value may use its
  own separator ``/ . -`` or a space and a 2- or 4-digit year), ``yy/mm/dd`` when 2-digit
  first and last fields say so (a first field that is no day, month ends only that way,
  date order only that way unless the rows are sorted as text, weekdays or a span of
  dates only that way; undecided is refused: ``_year_first``), ``yyyy-dd-mm`` when two different middle fields are above 12 and
  no last field is, month names (``31 Jan 2022``, ``03/Jan/22``, ``Jan 03 22``, ``03JAN2022``:
  any separators, a 2-digit year only as the last field, read as strptime's ``%y``; each
  value may write a 2- or 4-digit year and the month abbreviated or in full; a ``dd-Mon-yy``
  column that reads as ``yy-Mon-dd`` too and falls on few days over many years is refused;
  a month named in another language (``Mär``) is refused, not dropped), CJK
  dates with the year, month and day marked (``2022年1月3日``; a 4-digit year only), ISO
  week dates (``2022-W01-1``), ``yyyymmdd`` (with a time of day, ``20220103 16:00:00`` or
  ``20220103T160000Z``, read by the ISO rules: ``extended_date_time``), and
  Excel serial day numbers (a wholly numeric column between 25569 and 73050, i.e. 1970 to
  2099; such a whole number among text dates is its serial date), Unix timestamps (a wholly
  numeric column of whole numbers in one unit's range of 1973..2099: seconds, ms, us or ns,
  decided for the column, never per value; only instants at midnight UTC, any other instant
  refused: its date depends on its time zone). Tried only when those
  forms leave a value unread: a leading English weekday name (removed, the date read by its
  own form's rules, then checked against the weekday) and an IANA zone name after a time
  (``America/New_York``: the local date as written is kept, as for an offset). Values that
  do not fit the column's format are dropped as invalid dates.
- **an explicit choice the values contradict** (``date_format``, ``dayfirst``) is never
  silently overruled, ignored or obeyed into scrambled dates (``read_dates``): a format
  that fits no value of a day/month column, or that leaves more than two values unread
  where the column's own reading reads more, is refused in one sentence; an order against
  more than two values that fit the other order only is overruled by them, recorded in
  the description and said in a warning.

``csv.Sniffer`` was tried and not used: on short files and on files whose values hold the
candidate separator (decimal commas, quoted thousands) it guesses wrongly or raises; the
field-count rule above is simple, explainable in one sentence and deterministic.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from engine.data.calendar import EXCHANGE_ZONE
from engine.data.types import SEPARATOR_NAMES, FileReading
from engine.errors import DataValidationError

SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")
SAMPLE_LINES = 200
# Excel serial day numbers (origin 1899-12-30) accepted as dates: 1970-01-01 .. 2099-12-31.
# Not earlier: 18264..25568 (Excel's 1950-1969) are also R's days since 1970 of 2020-2039
# (``as.numeric(date)``), so a recent file would be read as the 1950s, silently.
EXCEL_SERIAL_MIN = 25569
# Days since 1970 of 1990-01-01: from here to EXCEL_SERIAL_MIN a numeric date column is
# refused as that ambiguity, by name.
UNIX_DAYS_MIN = 7305
EXCEL_SERIAL_MAX = 73050
EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
# Dates outside this window are typos (or epoch integers) rather than market data.
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2200-01-01")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """What the user may settle when the file itself cannot.

    ``date_format``: a ``strftime`` format for the whole date column (``"%d/%m/%Y"``);
    ``dayfirst``: True for dd/mm, False for mm/dd (ignored when ``date_format`` is given);
    ``decimal``: ``"."`` or ``","`` when the numbers do not show which mark is the decimal one.
    """

    date_format: str | None = None
    dayfirst: bool | None = None
    decimal: str | None = None

    def __post_init__(self) -> None:
        from engine.errors import ParameterError, short_repr

        if self.date_format is not None and (
            not isinstance(self.date_format, str) or "%" not in self.date_format
        ):
            raise ParameterError(
                f"date_format must be a strftime format such as '%d/%m/%Y', got {short_repr(self.date_format)}"
            )
        if self.dayfirst is not None and not isinstance(self.dayfirst, bool):
            raise ParameterError(f"dayfirst must be True or False, got {short_repr(self.dayfirst)}")
        if self.decimal not in (None, ".", ","):
            raise ParameterError(f"decimal must be '.' or ',', got {short_repr(self.decimal)}")


DEFAULT_OPTIONS = ReadOptions()


# ----- CSV dialect -----------------------------------------------------------------------


def _field_counts(lines: Sequence[str], separator: str) -> list[int]:
    return [len(row) for row in csv.reader(lines, delimiter=separator) if row]


def detect_separator(text: str, label: str) -> str:
    """The separator that splits the header and every sampled line alike (see the module doc)."""
    lines = [line for line in text.splitlines()[:SAMPLE_LINES] if line.strip()]
    if not lines:
        raise DataValidationError(f"{label} is empty")
    fitting: dict[str, int] = {}
    for separator in SEPARATORS:
        try:
            counts = _field_counts(lines, separator)
        except csv.Error:
            continue
        if counts and counts[0] >= 2 and all(c == counts[0] for c in counts):
            fitting[separator] = counts[0]
    if len(fitting) == 1:
        return next(iter(fitting))
    if not fitting:
        # A ragged file: the separator the header uses most (the parser reports the bad line).
        header = lines[0]
        best = max(SEPARATORS, key=header.count)
        return best if header.count(best) else ","
    # Two fit: prefer the one the header is split by more often only if it is clear.
    ranked = sorted(fitting, key=lambda s: fitting[s], reverse=True)
    if fitting[ranked[0]] > fitting[ranked[1]] and ranked[1] == ",":
        return ranked[0]  # e.g. "date;AAA;BBB" with decimal commas in every row
    names = " and ".join(SEPARATOR_NAMES[s] for s in ranked[:2])
    raise DataValidationError(
        f"{label} could be separated by {names} alike; save it with one separator "
        "(commas, with decimal points) and try again"
    )


# Thousands marks besides the other decimal mark: spaces (also no-break and narrow no-break,
# as French and Nordic spreadsheets write them) and, with a decimal point, the Swiss apostrophe.
_SPACES = " \u00a0\u202f"
_T_POINT = f"[,'{_SPACES}]"  # thousands marks that go with a decimal point
_T_COMMA = f"[.{_SPACES}]"  # thousands marks that go with a decimal comma
_POINT_PROOF = re.compile(
    r"^[+-]?(\d*\.(\d{1,2}|\d{4,})|\d{4,}\.\d+|0\.\d+|\d{1,3}("
    + _T_POINT
    + r"\d{3})+\.\d*|\d*\.\d+[eE][+-]?\d+)$"
)
_COMMA_PROOF = re.compile(
    r"^[+-]?(\d*,(\d{1,2}|\d{4,})|\d{4,},\d+|0,\d+|\d{1,3}(" + _T_COMMA + r"\d{3})+,\d*)$"
)
_EITHER = re.compile(r"^[+-]?\d{1,3}([.,])\d{3}$")  # 1,234 / 1.234: both readings possible
# 7,981,808 / 7.981.808: a mark written twice is no decimal mark, so it is the thousands one.
_TWICE = re.compile(r"^[+-]?\d{1,3}([.,])\d{3}(?:\1\d{3})+$")


def detect_decimal(
    cells: Sequence[str], label: str, options: ReadOptions
) -> tuple[str, str | None, str | None]:
    """(decimal mark, thousands mark or None, the cell that overruled ``options.decimal``
    or None) for the number-shaped cells of a file.

    A decimal mark asked for (``decimal=``, ``--decimal``, the Data page's choice) settles
    the numbers that fit both marks (``1.234``); it is never obeyed into wrong numbers: a
    file whose numbers can only be read with the other mark (``300.5`` under ``,``: a
    thousands group has three digits) is read their way, and the cell that decided is
    returned for the reading record, as a date order asked for is overruled
    (``read_dates``). The choice applies to both files of a run, which may be written
    differently. Before, ``1.234,1.5`` under ``,`` gave 1234 and 1.5 without a word.

    The cells are joined into one text and each rule is one multi-line regex search (fast on
    files of millions of cells)."""
    text = "\n".join(c.replace("\n", " ") for c in cells)
    point = _multiline(_POINT_PROOF).search(text) if "." in text else None
    comma = _multiline(_COMMA_PROOF).search(text) if "," in text else None
    overruled = None
    if point and comma:
        raise DataValidationError(
            f"{label} mixes decimal marks (both {point.group(0)!r} and {comma.group(0)!r}); "
            "use one decimal mark throughout the file"
        )
    if options.decimal is not None:
        decimal = options.decimal
        proof = point if decimal == "," else comma
        if proof is not None:
            decimal, overruled = ("." if decimal == "," else ","), proof.group(0)
    elif comma:
        decimal = ","
    elif point:
        decimal = "."
    else:
        twice = {m.group(1) for m in _multiline(_TWICE).finditer(text)}
        either = _multiline(_EITHER).search(text)
        if either is not None and len(twice) != 1:
            raise DataValidationError(
                f"{label}: numbers such as {either.group(0)!r} could use either mark as the decimal one; "
                "say which with decimal='.' or decimal=',' (CLI: --decimal)"
            )
        decimal = "," if twice == {"."} else "."
    marks = ",'" + _SPACES if decimal == "." else "." + _SPACES
    if not any(mark in text for mark in marks):
        return decimal, None, overruled
    thousands = _multiline(_THOUSANDS[decimal]).search(text)
    return decimal, (thousands.group(1) if thousands else None), overruled


def _multiline(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(pattern.pattern, re.MULTILINE)


def _number_pattern(decimal: str) -> re.Pattern[str]:
    thousands = _T_POINT if decimal == "." else _T_COMMA
    dec = re.escape(decimal)
    return re.compile(rf"^[+-]?(\d+|\d{{1,3}}({thousands}\d{{3}})+)({dec}\d*)?([eE][+-]?\d+)?$")


_PATTERNS = {".": _number_pattern("."), ",": _number_pattern(",")}
# A number that uses a thousands mark (group 1 is the mark), for each decimal mark.
_THOUSANDS = {
    ".": re.compile(rf"^[+-]?\d{{1,3}}({_T_POINT})\d{{3}}(?:\1\d{{3}})*(?:\.\d*)?$"),
    ",": re.compile(rf"^[+-]?\d{{1,3}}({_T_COMMA})\d{{3}}(?:\1\d{{3}})*(?:,\d*)?$"),
}


def normalise_numbers(frame: pd.DataFrame, decimal: str, thousands: str | None) -> pd.DataFrame:
    """Rewrite number-shaped cells to the plain ``1234.5`` form (other cells untouched)."""
    if decimal == "." and thousands is None:
        return frame
    pattern = _PATTERNS[decimal]
    marks = re.compile(_T_POINT if decimal == "." else _T_COMMA)

    def plain(cell: object) -> object:
        if not isinstance(cell, str) or not pattern.match(cell.strip()):
            return cell
        out = marks.sub("", cell.strip())
        return out.replace(decimal, ".") if decimal != "." else out

    return frame.apply(lambda column: column.map(plain))


# pandas' default missing-value markers (read_csv's na_values), less the two that are
# tickers too: NA (Nano Labs on Nasdaq, National Bank on the TSX) and NULL. Those two are
# missing values only outside a column of text (``_ticker_markers``): R's write.csv writes NA
# for a missing number, while a symbol column's NA is the ticker.
TICKER_MARKERS = ("NA", "NULL")
MISSING_MARKERS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
    "N/A", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip
# A cell of text: a letter other than an exponent's e (a ticker, a name, a currency code).
_TEXT_CELL = re.compile(r"[A-DF-Za-df-z]")


def _ticker_markers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the cells ``NA`` and ``NULL`` (``TICKER_MARKERS``) missing (NaN), as
    pandas reads them, except in a column of text (more than half of its other non-blank
    cells hold a letter: a symbol column), where they are the tickers NA and NULL, never a
    missing symbol. Decided per column (by position: a name may repeat)."""
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        marks = column.isin(TICKER_MARKERS).to_numpy()
        if not marks.any():
            continue
        others = column[~marks].dropna().astype(str)
        others = others[others.str.strip() != ""]
        text = len(others) > 0 and float(others.str.contains(_TEXT_CELL).mean()) > 0.5
        if not text:
            frame.iloc[np.flatnonzero(marks), j] = np.nan
    return frame


# Excel's separator hint: a first line ``sep=;`` (written for Excel, some exports keep it,
# possibly followed by the separator repeated up to the width of the table).
_SEPARATOR_HINT = re.compile(r'\A"?sep=([,;\t|])"?[,;\t|]*[ \t]*(\r\n|\r|\n)', re.IGNORECASE)


def read_csv_text(
    text: str, label: str, options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[pd.DataFrame, FileReading]:
    """All-string frame of a CSV text (empty cells NaN, numbers in plain form) and its dialect.

    A first line ``sep=X`` (Excel's separator hint) names the separator and is not the header."""
    text, skipped = skip_empty_lines(text)
    hint = _SEPARATOR_HINT.match(text)
    if hint is not None:
        text = text[hint.end() :]
        separator = hint.group(1)
        text, after_hint = skip_empty_lines(text)
        skipped += after_hint
    else:
        separator = detect_separator(text, label)
    above = skipped + (1 if hint else 0)  # the file's lines before the header
    header = _check_field_counts(text, separator, label, first_line=above + 1)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, sep=separator, skipinitialspace=True, engine="c",
            keep_default_na=False, na_values=list(MISSING_MARKERS),
        )  # fmt: skip
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(f"{label} is empty") from exc
    except (pd.errors.ParserError, ValueError, TypeError, OverflowError, csv.Error) as exc:
        raise DataValidationError(
            f"{label} is not a readable CSV file ({_parser_detail(exc, above)})"
        ) from exc
    frame.columns = _real_names(frame.columns, header)
    frame = _ticker_markers(frame)
    # Blank cells are NaN already (skipinitialspace); values keep trailing spaces until each
    # column is converted (numbers, dates and symbols are stripped there).
    frame, percent = strip_percent_signs(frame)  # per column, before the cells are listed
    flat = pd.unique(frame.to_numpy(dtype=object).ravel())
    cells = [str(v).strip() for v in flat if isinstance(v, str)]
    frame, cells, currency = strip_currency_signs(frame, cells)
    decimal, thousands, overruled = detect_decimal(cells, label, options)
    frame = normalise_numbers(frame, decimal, thousands)
    frame = _as_fractions(frame, percent)
    return frame, FileReading(
        file=label,
        kind="csv",
        separator=separator,
        decimal=decimal,
        decimal_overruled_by=overruled,
        thousands=thousands,
        currency=currency,
        percent=tuple(str(frame.columns[p]) for p in percent),
        empty_lines_skipped=skipped,
    )


# A line with no data: empty, or only spaces, tabs and separators (",,,", ";;;" as a
# spreadsheet saves an empty row).
_EMPTY_LINE = re.compile(r"[ \t,;|\ufeff]*(?:\r\n|\r|\n)")


def skip_empty_lines(text: str) -> tuple[str, int]:
    """``text`` without the empty lines above its first line of data (empty, or only spaces
    and separators: ``,,,``), and how many were removed. They carry no data, and taken for
    the header they would make one of 0 fields or of ``Unnamed: N`` names (breaker pass 15,
    F2); pandas skips blank lines likewise. A text of such lines only gives ``""`` (refused
    as empty by the caller)."""
    end, count = 0, 0
    while (line := _EMPTY_LINE.match(text, end)) is not None:
        end, count = line.end(), count + 1
    if not text[end:].strip(" \t\r\n,;|\ufeff"):
        return "", count
    return text[end:], count


# A number followed by a percent sign, as spreadsheets format a share: "12.5%", "-3,2 %".
_PERCENT_NUMBER = re.compile(rf"^[+-]?\d[\d.,'{_SPACES}]*\s*%$")


def strip_percent_signs(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """Columns whose every non-empty cell is a number with a percent sign (``12.5%``), without
    the sign, and their positions: decided per column, never per cell (a column that mixes
    ``12%`` and ``0.12`` keeps its cells as written, and the ``%`` ones are not numbers).
    Positions, not names: a file may repeat a column name (reported later)."""
    found: list[int] = []
    for position in range(frame.shape[1]):
        cells = frame.iloc[:, position].dropna()
        if cells.empty or not cells.map(lambda c: isinstance(c, str) and "%" in c).any():
            continue
        if cells.astype(str).str.strip().str.match(_PERCENT_NUMBER).all():
            frame.iloc[:, position] = frame.iloc[:, position].map(
                lambda c: c.strip()[:-1].strip() if isinstance(c, str) else c
            )
            found.append(position)
    return frame, tuple(found)


def _as_fractions(frame: pd.DataFrame, positions: Sequence[int]) -> pd.DataFrame:
    """The percent columns divided by 100, as plain number text (12.5% -> 0.125)."""
    for position in positions:
        column = frame.iloc[:, position]
        numbers = pd.to_numeric(column, errors="coerce") / 100.0
        frame.iloc[:, position] = numbers.map(lambda v: repr(float(v)) if pd.notna(v) else None).where(
            column.notna(), column
        )
    return frame


# A number written with a currency sign before or after it, as spreadsheets format money:
# "$1,234.50", "-$3.10", "$ 12", "1.234,50 €", "£12.5". Group "number" is the number as written.
CURRENCY_SIGNS = "$€£¥"
_CURRENCY_NUMBER = re.compile(
    rf"^(?P<sign>[+-]?)[{CURRENCY_SIGNS}]\s*(?P<number>\d[\d.,'{_SPACES}]*)$"
    rf"|^(?P<sign2>[+-]?)(?P<number2>\d[\d.,'{_SPACES}]*?)\s*[{CURRENCY_SIGNS}]$"
)


def strip_currency_signs(
    frame: pd.DataFrame, cells: Sequence[str]
) -> tuple[pd.DataFrame, list[str], str | None]:
    """Numbers written with a currency sign (``$1,234.50``, ``12,50 €``) without it, before the
    decimal and thousands marks are decided; other cells untouched. Returns the frame, its
    distinct cells and the signs found (``None`` when there are none)."""
    if not any(sign in cell for cell in cells for sign in CURRENCY_SIGNS):
        return frame, list(cells), None

    def plain(cell: object) -> object:
        if not isinstance(cell, str):
            return cell
        match = _CURRENCY_NUMBER.match(cell.strip())
        if match is None:
            return cell
        return (match["sign"] or match["sign2"] or "") + (match["number"] or match["number2"])

    changed = {c: plain(c) for c in cells}
    signs = "".join(s for s in CURRENCY_SIGNS if any(s in c for c, new in changed.items() if new != c))
    if not signs:
        return frame, list(cells), None
    frame = frame.apply(lambda column: column.map(plain))
    return frame, [str(v) for v in changed.values()], " ".join(signs)


def title_line_hint(names: Sequence[object]) -> str:
    """A clause for a refusal when the header is one name and nothing else (the rest empty
    or pandas' ``Unnamed: N``): the first line is most likely a title above the column
    names (a report export). Empty otherwise. The file is refused, never guessed at."""
    named = [str(n).strip() for n in names if str(n).strip() and not str(n).startswith("Unnamed: ")]
    if len(named) != 1:
        return ""
    return f"; the first line ({named[0][:40]!r}) looks like a title, not the column names: delete the lines above the header"


def _check_field_counts(text: str, separator: str, label: str, *, first_line: int = 1) -> list[str]:
    """A line with more fields than the header would shift its values into other columns
    (pandas would even take the first column as an index): refuse it, naming the line.
    Returns the header's fields as written (pandas renames a repeated name ``AAA.1``)."""
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        names = next(reader)
        for row in reader:
            if len(row) > len(names):
                raise DataValidationError(
                    f"{label} is not a readable CSV file (line {reader.line_num + first_line - 1} has {len(row)} fields "
                    f"where the header has {len(names)}{title_line_hint(names)})"
                )
    except csv.Error as exc:
        raise DataValidationError(
            f"{label} is not a readable CSV file ({_csv_error(str(exc), max(reader.line_num, 1) + first_line - 1)})"
        ) from None
    except StopIteration:
        raise DataValidationError(f"{label} is empty") from None
    return names


def _real_names(columns: pd.Index, header: Sequence[str]) -> list[str]:
    """The frame's column names as the header writes them (a repeated name stays repeated,
    to be reported by its real name); pandas' ``Unnamed: N`` for an empty header cell."""
    if len(header) != len(columns):
        return [str(c) for c in columns]
    return [str(c) if not h.strip() else h.strip() for c, h in zip(columns, header, strict=True)]


def _csv_error(text: str, line: int) -> str:
    """One plain sentence for an error of Python's ``csv`` reader at ``line``."""
    limit = re.search(r"field larger than field limit \((\d+)\)", text)
    if limit:
        return f"line {line} has a value longer than {int(limit.group(1)):,} characters; is it really a CSV file?"
    if "new-line character" in text:
        return f"line {line} has a line break inside a value that is not quoted"
    if "NUL" in text or "\\x00" in text:
        return f"line {line} holds NUL bytes; save the file as CSV UTF-8"
    if "EOF" in text or "quote" in text.lower():
        return f"line {line} opens a quote that is never closed"
    return f"line {line} cannot be split into fields (check its quotes and separators)"


def _parser_detail(exc: BaseException, above: int = 0) -> str:
    """One plain sentence (naming the line where known) for a pandas/csv parser error; the
    parser's own text (tokenizing, C error, dtype ...) is never shown. ``above``: the file's
    lines removed before the text was parsed (a ``sep=`` hint, empty lines), added to the
    line numbers so that they name the file's own lines."""
    text = str(exc).strip()
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        expected, line, saw = found.groups()
        return f"line {int(line) + above} has {saw} fields where the header has {expected}"
    quote = re.search(r"EOF inside string starting at row (\d+)", text)
    if quote:
        return f"line {int(quote.group(1)) + 1 + above} opens a quote that is never closed"
    if "EOF" in text and "quot" in text.lower():
        return "a quote is opened and never closed"
    line = re.search(r"(?:line|row) (\d+)", text)
    if isinstance(exc, csv.Error):
        return _csv_error(text, (int(line.group(1)) if line else 1) + above)
    if "field limit" in text or "Buffer overflow" in text or "out of memory" in text.lower():
        return "a value is too long to be a field of a CSV file"
    if line:
        return (
            f"line {int(line.group(1)) + above} cannot be split into fields (check its quotes and separators)"
        )
    return "its lines cannot be split into fields (check the quotes and separators)"


# ----- dates -----------------------------------------------------------------------------

# A space is one more separator (03 01 2022, 2022 01 03: "DD MM YYYY" exports), under the
# same rules as / . and -; Korean dates write a dot and a space, and a dot after the day
# (2022. 1. 3.).
# A UTC offset after a time of day may give the hours only (PostgreSQL writes a timestamptz
# as 2022-03-11 00:00:00-05, then -04 after daylight saving); never after a bare date,
# where 2022-03-11-05 is no offset.
_HOUR_OFFSET = r"(?:\s*[+-]\d{2}(?![\d:]))?"
# A zone after the time: Z, UTC, GMT (also with an offset: UTC+1, GMT-0500), an offset
# (-05:00, -0500) possibly followed by its abbreviation (Go's time.String(): 2022-03-11
# 00:00:00 -0500 EST), or an abbreviation alone.
_ZONE = r"(?:Z|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}:?\d{2}(?:\s*[A-Z]{3,4})?|[A-Z]{3,4})"
_ISO = re.compile(
    r"^(\d{4})(?:[-/ ]|\. ?)(\d{1,2})(?:[-/ ]|\. ?)(\d{1,2})\.?"
    r"(?:,?[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?" + _HOUR_OFFSET + r")?"
    r"\s*(?:[AaPp]\.?[Mm]\.?)?\s*" + _ZONE + r"?$"
)
_NUMERIC_DM = re.compile(
    r"^(\d{1,2})([/.\- ])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:,?[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?" + _HOUR_OFFSET + r"(?:\s*[AaPp]\.?[Mm]\.?)?)?"
    r"(?:\s*" + _ZONE + r")?$"
)
_COMPACT = re.compile(r"^(19|20|21)\d{6}$")
# yyyymmdd with a time of day after a T or a space, the time with colons or without (ISO
# 8601's basic format, 20220103T160000, 20220103T000000Z; Interactive Brokers' 20220103
# 16:00:00, also with its zone name: 20220103 16:00:00 US/Eastern); anything after the
# time (Z, an offset, a zone) is kept for the ISO rules (``extended_date_time``).
_COMPACT_DATE_TIME = re.compile(
    r"^(?P<year>(?:19|20|21)\d{2})(?P<month>\d{2})(?P<day>\d{2})(?P<sep>[T ])"
    r"(?:(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?|(?P<hb>\d{2})(?P<mb>\d{2})(?P<sb>\d{2})?(?![\d:]))"
    r"(?P<rest>.*)$"
)


def _extended(match: re.Match[str]) -> str:
    hour, minute, second = (
        (match["h"], match["m"], match["s"])
        if match["h"] is not None
        else (match["hb"], match["mb"], match["sb"])
    )
    return (
        f"{match['year']}-{match['month']}-{match['day']}{match['sep']}{hour}:{minute}"
        + (f":{second}" if second else "")
        + match["rest"]
    )


def extended_date_time(values: pd.Series) -> pd.Series:
    """Date strings (``date_text``) with compact ``yyyymmdd`` dates that carry a time of day
    written in ISO 8601's extended form (``20220103T160000Z`` -> ``2022-01-03T16:00:00Z``,
    ``20220103 16:00:00 US/Eastern`` -> ``2022-01-03 16:00:00 US/Eastern``), so that they
    are read by the ISO rules (the time dropped, a UTC-only column with times refused, zone
    names kept local) and seen by the intraday check; in such a column a bare ``20220103``
    is written ``2022-01-03`` too. Other values unchanged (a column of bare ``yyyymmdd``
    stays the ``yyyymmdd`` form)."""
    timed = values.str.match(_COMPACT_DATE_TIME).fillna(False).astype(bool)
    if not timed.any():
        return values
    out = values.str.replace(_COMPACT_DATE_TIME, _extended, regex=True)
    return out.str.replace(r"^((?:19|20|21)\d{2})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True)


# Chinese, Japanese and Korean dates: year, month and day each marked (2022年1月3日,
# 2022年01月03日, 2022년 1월 3일), a weekday in brackets or a time of day may follow. Only a
# 4-digit year: "22年" or "30年" may be an era year (Heisei 30 is 2018), never guessed.
# The weekday may also follow without brackets (2022年1月3日 月曜日, 2022年1月3日月, 星期一,
# 2022년 1월 3일 월요일); a time written with its units (15時00分) is 15:00 by then (``date_text``).
_CJK = re.compile(
    r"^(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]"
    r"(?:\s*[(\uff08][^)\uff09]{1,12}[)\uff09]|\s*[月火水木金土日](?:曜日?)?|\s*(?:星期|周|週)[一二三四五六日天]"
    r"|\s*[월화수목금토일]요일)?"
    r"(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
NAMED_FORMATS: tuple[str, ...] = (
    "%d %b %Y",
    "%d-%b-%Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%d-%b-%y",
    # 2-digit years after a month name (dd-Mon-yy as Excel, Oracle and SAS write it; Mon dd
    # yy): the year is the last field and reads as strptime's %y (69..99 -> 19yy, 00..68 ->
    # 20yy, the rule of ``_full_year``); a 2-digit field before the month is the day.
    "%d %b %y",
    "%b %d %y",
    "%b %d, %y",
    "%d%b%Y",  # SAS DATE9: 03JAN2022
    "%d%b%y",  # SAS DATE7: 03JAN22
    "%G-W%V-%u",  # ISO 8601 week dates
    "%GW%V%u",
)


def _fmt_year(year_text: str) -> str:
    return "%Y" if len(year_text) == 4 else "%y"


# Digits of other scripts are the ASCII digits: full-width (U+FF10..U+FF19: Japanese and
# Chinese input), Arabic-Indic (U+0660..) and Extended Arabic-Indic (Persian, U+06F0..);
# so are the full-width date marks (U+FF0F solidus, hyphen, full stop, colon) and the
# ideographic space (U+3000).
_FULL_WIDTH_DIGITS = str.maketrans(
    {
        **{chr(base + d): str(d) for base in (0xFF10, 0x0660, 0x06F0) for d in range(10)},
        "\uff0f": "/",
        "\uff0d": "-",
        "\uff0e": ".",
        "\uff1a": ":",
        "\u3000": " ",
    }
)


# A time written with its units (15時00分, 15시 00분 30초) is the time 15:00(:30).
_CJK_TIME = re.compile(r"(\d{1,2})\s*[時时시]\s*(\d{2})\s*[分분]?(?:\s*(\d{2})\s*[秒초])?")


def date_text(raw: pd.Series) -> pd.Series:
    """The date cells as the date rules read them: digits of other scripts and full-width
    marks as ASCII, stripped, a run of spaces as one ("2022-01-03  16:00"), a CJK time of
    day as hh:mm (15時00分 is 15:00). Used for the dates and for the intraday check alike."""
    text = (
        raw.astype("string")
        .str.translate(_FULL_WIDTH_DIGITS)
        .str.strip()
        .str.replace(r"\s+", " ", regex=True)
    )
    return text.str.replace(
        _CJK_TIME,
        lambda m: f"{m.group(1)}:{m.group(2)}" + (f":{m.group(3)}" if m.group(3) else ""),
        regex=True,
    )


def infer_dates(
    raw: pd.Series, label: str, options: ReadOptions = DEFAULT_OPTIONS, column: str = "date"
) -> tuple[pd.Series, str]:
    """datetime64[ns] at midnight (NaT where a value does not fit) and the format's description.

    One format for the whole column (see the module doc); an ambiguous dd/mm vs mm/dd
    column raises ``DataValidationError`` naming ``date_format`` / ``dayfirst``; so does a
    ``date_format`` the column contradicts (``read_dates``). ``read_dates`` also returns the
    warnings (an order asked for that the values overrule).
    """
    dates, description, _ = read_dates(raw, label, options, column)
    return dates, description


def read_dates(
    raw: pd.Series,
    label: str,
    options: ReadOptions = DEFAULT_OPTIONS,
    column: str = "date",
    *,
    closes: bool = True,
) -> tuple[pd.Series, str, tuple[str, ...]]:
    """``infer_dates`` plus its warnings, one sentence each, for the report.

    ``closes``: the column dates a price file's closes (the default), whose instants stamped
    in another zone than the exchange's may be read at the exchange's dates
    (``_exchange_dates``); False for a sentiment file, whose rows keep their dates as written.

    The rule for an explicit choice (``date_format``, ``dayfirst``) the values contradict:
    never silently overruled, ignored or obeyed into scrambled dates.

    - a ``date_format`` that fits no value of a day/month column (``13/01/2022`` with
      ``%Y-%m-%d``) is refused naming the format, the file and a value; a column written in
      a form with one reading (ISO 8601, ``yyyymmdd``, month names, ...; the other file of
      a run) is read that way and its description says the format fits none of it;
    - a ``date_format`` that leaves more than two values unread while the column's own
      reading reads more of them (``%m/%d/%Y`` on a day-first column) is refused naming
      both, a value and the share the format reads;
    - ``dayfirst`` against more than two values that fit the other order only: the values
      decide (the option applies to both files of a run), the description records it
      ("day first, not the month first asked for") and a warning says so; when more than
      two values fit each order only, the column mixes both and is refused, whatever the
      option (``_ORDER_RULE``).
    """
    notes: list[str] = []
    dates, description = _read_dates(raw, label, options, column, notes, closes)
    return dates, description, tuple(notes)


def _read_dates(
    raw: pd.Series, label: str, options: ReadOptions, column: str, notes: list[str], closes: bool
) -> tuple[pd.Series, str]:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
        unused = (
            f"; the date format {options.date_format} asked for does not apply" if options.date_format else ""
        )
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            if utc_zone(parsed.dtype.tz):  # UTC instants: no local date (as for +00:00)
                _refuse_utc_stamps(parsed, label, column)
            if closes:
                distinct = parsed.dropna().drop_duplicates()
                exchange = _exchange_dates(distinct.dt.tz_localize(None), distinct.dt.tz_convert("UTC"))
                if exchange is not None:
                    return _finish_dates(parsed.dt.tz_convert(EXCHANGE_ZONE)), (
                        f"timestamps (stored as dates){unused}" + _exchange_note(f"{parsed.dtype.tz} time")
                    )
            parsed = parsed.dt.tz_localize(None)  # the local (exchange) calendar date
        return _finish_dates(parsed), f"timestamps (stored as dates){unused}"
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        raw = raw.map(lambda v: None if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
    # Decide and parse on the distinct values only (a sentiment file repeats each date per
    # symbol); each is first written as the date rules read it (``date_text``: other digits,
    # full-width marks, runs of spaces, CJK times).
    codes, written = pd.factorize(raw.astype("string").to_numpy(dtype=object), use_na_sentinel=True)
    full = date_text(pd.Series(written, dtype="string"))
    distinct = pd.Series(full.dropna().unique(), dtype="string")
    parsed, description = _infer_distinct(distinct, label, options, column, notes)
    parsed, description = _with_serials(distinct, parsed, description)
    _refuse_spreadsheet_swap(distinct, parsed, label, column)
    if closes:
        parsed, description = _at_exchange_dates(distinct, parsed, description)
    dates = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    of_written = np.append(
        pd.Index(distinct.to_numpy(dtype=object)).get_indexer(full.to_numpy(dtype=object)), -1
    )
    if WEEKDAY_NOTE in description:
        _refuse_wrong_weekdays(distinct, parsed, of_written[codes], label, column)
    return pd.Series(dates[of_written[codes]], index=raw.index), description  # code -1 (missing) -> NaT


def _infer_distinct(
    text: pd.Series, label: str, options: ReadOptions, column: str, notes: list[str]
) -> tuple[pd.Series, str]:
    """``infer_dates`` on distinct stripped strings (same index in and out); warnings are
    appended to ``notes``."""
    values = text.dropna()
    values = values[values != ""]
    if options.date_format is not None and not values.empty:
        return _given_format(text, values, label, options, column, notes)
    if values.empty:
        return _finish_dates(pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")), "none found"
    # yyyymmdd with a time of day is read as ISO 8601 (``extended_date_time``); the values
    # as written (same index as ``unique``) are shown in a refusal.
    written = pd.Series(values.unique(), dtype="string")
    text, unique = extended_date_time(text), extended_date_time(written)
    iso = unique.str.match(_ISO)
    numeric = unique.str.match(_NUMERIC_DM)
    compact = unique.str.match(_COMPACT)
    plain = unique.str.match(_PLAIN_NUMBER)
    cjk = unique.str.match(_CJK)
    scores = {
        "iso": int(iso.sum()),
        "numeric": int(numeric.sum()),
        "compact": int(compact.sum()),
        "cjk": int(cjk.sum()),
    }
    if plain.all() and not compact.all():
        return _serial_dates(text, label, column)
    family = max(scores, key=lambda k: scores[k])
    if scores[family] < len(unique):
        # Only now (the fast paths read every value of a plain column): a leading weekday
        # name or a zone name after the time, removed before the column is read again.
        plain_text, note = strip_date_decorations(text, unique, label, column, written)
        if note:
            parsed, description = _infer_distinct(plain_text, label, options, column, notes)
            if bool((unique != written).any()):  # read as ISO from yyyymmdd with a time
                description = description.replace("ISO 8601 (yyyy-mm-dd", "ISO 8601 (yyyymmdd", 1)
            return parsed, description + note
    mixed = _mixed_forms(text, label, options, column, notes)
    if mixed is not None:
        return mixed
    if scores[family] == 0:
        return _named_dates(text, unique, label, column)
    if family == "iso":
        stripped = text.str.extract(_ISO)
        year, month, day = stripped[0], stripped[1], stripped[2]
        with_time = unique[iso].str.contains(r"[T ]\d{1,2}:\d", regex=True).any()
        with_offset = bool(unique[iso].str.contains(_ANY_ZONE).any())
        description = (
            "ISO 8601 (yyyymmdd" if bool((unique[iso] != written[iso]).any()) else "ISO 8601 (yyyy-mm-dd"
        )
        # yyyy-dd-mm (some exports): middle fields above 12 and no last field above 12
        # settle the whole column as day before month, as for dd/mm (never value by value).
        # ISO is the standard, so it takes two different such days: one typo (2022-13-01
        # among first-of-month dates) is an invalid date, not a reason to swap every row.
        middle, last = pd.to_numeric(month, errors="coerce"), pd.to_numeric(day, errors="coerce")
        if middle[middle > 12].nunique() >= 2 and not bool((last > 12).any()):
            month, day = day, month
            description = "yyyy-dd-mm (day before month"
        parsed = _from_parts(year, month, day)
        _refuse_utc_times_of_day(unique[iso], label, column, written)
        description += ", with a time of day" if with_time else ""
        description += "; UTC offsets ignored, the local date as written is kept" if with_offset else ""
        return _finish_dates(parsed), description + ")"
    if family == "cjk":
        fields = text.str.extract(_CJK)
        return _finish_dates(
            _from_parts(fields[0], fields[1], fields[2])
        ), "yyyy年mm月dd日 (year, month, day marked)"
    if family == "compact":
        return _finish_dates(pd.to_datetime(text, format="%Y%m%d", errors="coerce")), "yyyymmdd"
    return _day_month_dates(text, unique[numeric], label, options, column, notes)


# The forms of a date column told apart by their shape (disjoint: ISO starts with a
# four-digit year, dd/mm with one or two digits, yyyymmdd is eight digits alone, the CJK form
# marks its fields).
_FORMS = (("iso", _ISO), ("numeric", _NUMERIC_DM), ("compact", _COMPACT), ("cjk", _CJK))
MIXED_FORMS = "mixed forms, each read in its own: "  # the description of such a column


def _mixed_forms(
    text: pd.Series, label: str, options: ReadOptions, column: str, notes: list[str]
) -> tuple[pd.Series, str] | None:
    """A column that writes its dates in two or more forms (ISO 8601 history with rows
    appended as dd/mm/yyyy, ``20220301`` or ``01 Mar 2022``) read value by value in its own
    form: ISO, ``yyyymmdd``, the CJK form and a named month each have one reading; the
    dd/mm values are read by the day/month order rule on those values alone (an ambiguous
    set is refused as any dd/mm column is). Read as one form, the others' rows were dropped
    as "not a valid date" (a third of a file, and its first holding period). The named form
    counts only where a named-month format reads some of its values (text that is no date
    stays an invalid date); plain numbers are left to ``_with_serials``. One or two values
    of a form that cannot be read alone (a lone ``01/04/2022``: which order?) are invalid
    dates, as the order rule has it; more are refused by that form's own rule. None when
    the column has one form. A warning says which forms and how many dates each."""
    values = text.dropna()
    values = values[values != ""]
    masks = {name: values.str.match(pattern).fillna(False).astype(bool) for name, pattern in _FORMS}
    rest = ~pd.concat(masks.values(), axis=1).any(axis=1) & ~values.str.match(_PLAIN_NUMBER).fillna(False)
    forms = {name: mask for name, mask in masks.items() if mask.any()}
    if rest.any() and forms:
        named, _ = _named_dates(values[rest], values[rest], label, column)
        if named.notna().any():
            forms["named"] = rest
    if len(forms) < 2:
        return None
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    described: list[str] = []
    for mask in forms.values():
        part = values[mask]
        try:
            if bool(mask.equals(rest)):
                dates, description = _named_dates(part, part, label, column)
            else:
                dates, description = _infer_distinct(part, label, options, column, notes)
        except DataValidationError:
            if len(part) > _LONE_DECIDERS:
                raise  # e.g. many dd/mm dates of no known order: the column's own refusal
            continue  # one or two values of a form that cannot be read alone: invalid dates
        if not dates.notna().any():
            continue  # placeholders of a form (99/99/9999, 20229999): invalid dates, no form
        parsed[part.index] = dates.to_numpy(dtype="datetime64[ns]")
        count = int(dates.notna().sum())
        described.append(f"{description} for {count} date{'' if count == 1 else 's'}")
    if len(described) == 1:  # the other form's one or two values are invalid dates
        return parsed, described[0].rsplit(" for ", 1)[0]
    notes.append(
        f"{label}: the {column!r} column writes its dates in {len(described)} forms ({'; '.join(described)}); "
        "each date is read in its own form"
    )
    return parsed, MIXED_FORMS + "; ".join(described)


# A weekday name before the date ('Mon 01/03/2022', 'Monday, 3 January 2022', RFC 2822's
# 'Mon, 03 Jan 2022 16:00:00 +0000', 'Tue Jan 4 2022'): English names, full or abbreviated.
# It says nothing the date does not, so it is removed and the date read by the rules of its
# own form (an ambiguous dd/mm stays refused); a weekday that contradicts its date is
# refused (``_refuse_wrong_weekdays``), never read past.
_WEEKDAY_NUMBERS = {
    **{
        name: n
        for n, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
_WEEKDAY_NAMES = "|".join(sorted(_WEEKDAY_NUMBERS, key=len, reverse=True))
_WEEKDAY_PREFIX = re.compile(rf"^(?P<weekday>{_WEEKDAY_NAMES})\.?,?\s+(?=\S)", re.IGNORECASE)
WEEKDAY_NOTE = "; a weekday name before each date, checked against it"
# The zone database's names of UTC itself (offset 0 all year, no place's clock): the one
# owner of "which zone names are UTC". A time of day in one of them is a UTC instant with no
# local date, refused as ``+00:00`` is (``_refuse_utc_times_of_day``); a place's zone whose
# offset happens to be 0 (Africa/Abidjan) keeps its local date.
UTC_ZONE_NAMES = frozenset(
    {
        *("UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Zulu", "Universal", "Greenwich"),
        *("Etc/UTC", "Etc/UCT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0"),
        *("Etc/Zulu", "Etc/Universal", "Etc/Greenwich"),
    }
)
_UTC_NAMES_FOLDED = frozenset(name.casefold() for name in UTC_ZONE_NAMES)
# Those without an Area/ (Zulu, Greenwich) are read after a time too; UTC, UCT and GMT are
# ISO designators already (``_UTC_ZONE``).
_ONE_WORD_UTC = "|".join(
    sorted((re.escape(n) for n in UTC_ZONE_NAMES if "/" not in n), key=len, reverse=True)
)


def utc_zone(tz: object) -> bool:
    """Whether a time zone (a name, a ``zoneinfo``/pytz/fixed-offset tzinfo of pandas) is UTC
    itself: one of ``UTC_ZONE_NAMES`` or a fixed offset of 0."""
    if str(tz).casefold() in _UTC_NAMES_FOLDED:
        return True
    offset = getattr(tz, "utcoffset", None)
    try:
        return offset is not None and offset(None) == pd.Timedelta(0)
    except (TypeError, ValueError):
        return False


# An IANA zone name after a time of day ('2022-01-03 16:00:00 America/New_York',
# Europe/London): as for a UTC offset, the local date as written is kept (the exchange's
# calendar date; 08:00 in Tokyo on the 4th stays the 4th), but a name of UTC itself with a
# time other than midnight is refused as +00:00 is (``UTC_ZONE_NAMES``). Only an
# Area/Location name, the database's POSIX-style US names (EST5EDT, CST6CDT, MST7MDT,
# PST8PDT) or a one-word name of UTC (Zulu) after a time: '3 Jan/22' holds no zone. Also a zone in brackets right after the
# time, its offset or Z (Java's ZonedDateTime.toString() and RFC 9557:
# '2022-03-14T00:00-04:00[America/New_York]', '2022-03-14T00:00Z[UTC]'; '!' marks it critical).
_ZONE_NAME = re.compile(
    r"(?<=\d:\d\d)(?P<seconds>(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?)"
    r"\s+(?P<zone>[A-Za-z][A-Za-z_\-]*(?:/[A-Za-z0-9_+\-]+)+|[A-Z]{3}\d[A-Z]{3}|(?:" + _ONE_WORD_UTC + r"))$"
    r"|(?<=[\dZ])\[!?(?P<bracketed>[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*)\]$"
)


def strip_date_decorations(
    text: pd.Series, unique: pd.Series, label: str, column: str, written: pd.Series | None = None
) -> tuple[pd.Series, str]:
    """``text`` (distinct date strings) without a leading weekday name and a trailing IANA
    zone name, and the description's note ("" when neither is there: ``text`` unchanged).
    A zone name that the zone database (``zoneinfo``) does not know is refused in one
    sentence naming it: it may be a typo of a zone whose date is not the one written.
    ``written``: ``unique`` as written (same index), when ``unique`` has been rewritten
    (``extended_date_time``), for the refusals."""
    written = unique if written is None else written
    weekday = unique.str.match(_WEEKDAY_PREFIX)
    found = unique.str.extract(_ZONE_NAME)
    zones = found["zone"].fillna(found["bracketed"])
    zoned = zones.notna()
    note = ""
    if zoned.any():
        names = zones[zoned]
        for value, name in zip(written[zoned], names, strict=True):
            if not _known_zone(name):
                raise DataValidationError(
                    f"{label}: the {column!r} column names a time zone that is not known, {name!r} (in "
                    f"{value!r}); write a zone name of the IANA database (America/New_York) or a UTC offset (-05:00)"
                )
        utc = names.str.casefold().isin(_UTC_NAMES_FOLDED)
        if utc.any() and utc.all():  # a place's zone name says the column's dates are local
            plain = unique.str.replace(_WEEKDAY_PREFIX, "", regex=True)
            as_utc = plain.str.replace(_ZONE_NAME, _utc_designator, regex=True)
            _refuse_utc_times_of_day(as_utc[as_utc.str.match(_ISO)], label, column, written)
        text = text.str.replace(_ZONE_NAME, lambda m: m.group("seconds") or "", regex=True)
        shown = ", ".join(sorted(names.unique())[:3])
        note += f"; time zone names ({shown}) ignored, the local date as written is kept"
    if weekday.any():
        text = text.str.replace(_WEEKDAY_PREFIX, "", regex=True)
        note += WEEKDAY_NOTE
    return text, note


def _utc_designator(match: re.Match[str]) -> str:
    """A UTC zone name (``_ZONE_NAME``'s match) written as the ISO designator it means: ' UTC'
    after a time, 'Z' for a bracketed one after a bare time (after Z or an offset, nothing)."""
    if match.group("bracketed") is None:
        return (match.group("seconds") or "") + " UTC"
    return "" if re.search(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", match.string[: match.start()]) else "Z"


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _refuse_wrong_weekdays(
    distinct: pd.Series, parsed: pd.Series, of_rows: np.ndarray, label: str, column: str
) -> None:
    """Refuse a column where a value's weekday name is not the weekday of its date as read
    ('Tue 01/03/2022' read month-first is Monday 3 January), naming the first such row
    (``of_rows``: each row's position in ``distinct``, -1 where empty). A wrong weekday is
    a wrong date or a wrong order asked for; either way no date of it is trusted."""
    written = distinct.str.extract(_WEEKDAY_PREFIX)["weekday"].str.lower().map(_WEEKDAY_NUMBERS)
    dates = pd.Series(parsed.to_numpy(dtype="datetime64[ns]"), index=distinct.index)
    wrong = (written.notna() & dates.notna() & (written != dates.dt.day_of_week)).to_numpy()
    if not wrong.any():
        return
    row = int(np.flatnonzero(np.isin(of_rows, np.flatnonzero(wrong)))[0])
    value, date = distinct.iloc[of_rows[row]], pd.Timestamp(dates.iloc[of_rows[row]])
    raise DataValidationError(
        f"{label}: row {row + 1} of the {column!r} column names a weekday that contradicts its date "
        f"({value!r}: {date.date().isoformat()} is a {date.day_name()}); correct the date or remove the weekday"
    )


# A column is a day/month one (its order a reading, not a fact of the text) when most of
# its distinct values are numeric dd/mm or mm/dd dates.
def _day_month_column(values: pd.Series) -> bool:
    return bool(values.str.replace(_WEEKDAY_PREFIX, "", regex=True).str.match(_NUMERIC_DM).mean() > 0.5)


def _given_format(
    text: pd.Series, values: pd.Series, label: str, options: ReadOptions, column: str, notes: list[str]
) -> tuple[pd.Series, str]:
    """The column read with ``options.date_format``, or refused when its values contradict
    it (``read_dates``' rule)."""
    fmt = options.date_format
    assert fmt is not None
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except ValueError as exc:
        raise DataValidationError(f"date_format {fmt!r} is not a usable strftime format") from exc
    fits = int(parsed[values.index].notna().sum())
    note = ""
    if fits < len(values):
        # Mon 03/01/2022 with %d/%m/%Y: the format is the date's, the weekday is checked.
        stripped, note = strip_date_decorations(text, pd.Series(values.unique()), label, column)
        if note:
            again = pd.to_datetime(stripped, format=fmt, errors="coerce")
            if int(again[values.index].notna().sum()) > fits:
                parsed, fits = again, int(again[values.index].notna().sum())
            else:
                note = ""
    if ("%a" in fmt or "%A" in fmt) and WEEKDAY_NOTE not in note:
        note += WEEKDAY_NOTE  # strptime reads a weekday without checking it against the date
    if fits == len(values):
        return _finish_dates(parsed), f"{fmt} (as given){note}"
    # The column's own reading (the order asked for still applies to ambiguous values).
    try:
        own, own_description = _infer_distinct(
            text, label, dataclasses.replace(options, date_format=None), column, []
        )
    except DataValidationError:
        own, own_description = None, ""
    if fits == 0:
        if own is not None and not _day_month_column(values) and own[values.index].notna().any():
            return own, f"{own_description}; the date format {fmt} asked for fits none of them"
        read_as = f" (they read as {own_description})" if own is not None and own.notna().any() else ""
        raise DataValidationError(
            f"{label}: the date format {fmt} asked for fits none of the {column!r} values, such as "
            f"{values.iloc[0]!r}{read_as}; give the date_format they are written in (CLI: --date-format), "
            "or none to have it inferred"
        )
    unread = len(values) - fits
    if unread > _LONE_DECIDERS and own is not None and int(own[values.index].notna().sum()) > fits:
        missed = own[values.index].notna() & parsed[values.index].isna()
        example = values[missed].iloc[0]
        share = 100 * fits // len(values)
        if own_description.startswith(MIXED_FORMS):  # no one format reads such a column
            raise DataValidationError(
                f"{label}: the {column!r} dates are written in several forms "
                f"({own_description.removeprefix(MIXED_FORMS)}), such as {example!r}; no one date format "
                f"reads them all (the format {fmt} asked for reads {share}% of them); give none to have "
                "each form read in its own"
            )
        raise DataValidationError(
            f"{label}: the {column!r} dates are written {own_description}, such as {example!r}; the date "
            f"format {fmt} asked for reads only {share}% of them; give the date_format they are written in "
            "(CLI: --date-format), or none to have it inferred"
        )
    # One or two values it does not fit are invalid dates (dropped and counted), as for an order.
    return _finish_dates(parsed), f"{fmt} (as given){note}"


def _with_serials(text: pd.Series, parsed: pd.Series, description: str) -> tuple[pd.Series, str]:
    """Excel serial day numbers among text dates (a spreadsheet column where some cells lost
    their date format: 44564 next to 2022-01-04) are those dates, not invalid ones: a
    whole number from 25569 to 73050 where the column's format found no date."""
    serial = parsed.isna() & text.str.fullmatch(r"\d{5}(?:\.0+)?").fillna(False).astype(bool)
    if not serial.any() or description.startswith("Excel serial"):
        return parsed, description
    numbers = pd.to_numeric(text[serial], errors="coerce")
    numbers = numbers[_excel_serial(numbers)]
    if numbers.empty:
        return parsed, description
    parsed = parsed.copy()
    parsed[numbers.index] = _finish_dates(_excel_dates(numbers))
    return parsed, f"{description}; Excel serial day numbers among them"


def _refuse_spreadsheet_swap(text: pd.Series, parsed: pd.Series, label: str, column: str) -> None:
    """Refuse a dd/mm (mm/dd) column that went through a spreadsheet set to the other order.

    The spreadsheet turns the values it can read its way, those whose first two fields are
    both 12 or less, into dates (01/02/2022, 1 February, becomes 2 January) and leaves the
    others as text; saved back, the converted ones are Excel serials (R's readxl) or ISO
    timestamps (pandas' read_excel). Each value then has one reading and the rows up to the
    12th of every month moved to other months. The mark: more than two text dates, each of
    one order only, next to more than two dates of another form, each on the 12th or
    earlier, that go against the file's order more than twice as often as with their day
    and month swapped back (an ISO history continued as dd/mm after the 12th is in order)."""
    numeric = text.str.match(_NUMERIC_DM).fillna(False).astype(bool)
    others = parsed[~numeric & parsed.notna()]
    if (
        int(numeric.sum()) <= _LONE_DECIDERS
        or len(others) <= _LONE_DECIDERS
        or bool((others.dt.day > 12).any())
    ):
        return
    parts = text[numeric].str.extract(_NUMERIC_DM)
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_first = bool((first > 12).all())
    if not (day_first or bool((second > 12).all())):
        return
    read = parsed.dropna()
    keys = _date_keys(read)
    swapped = np.where(
        read.index.isin(others.index), read.dt.year * 10000 + read.dt.day * 100 + read.dt.month, keys
    )
    if _descents(keys) <= 2 * _descents(swapped):
        return
    example = text[numeric].iloc[0]
    converted = others.index[0]
    order, other, written = (
        ("day-first", "month first", "01/02/2022")
        if day_first
        else ("month-first", "day first", "02/01/2022")
    )
    raise DataValidationError(
        f"{label}: the {column!r} column holds {order} dates as text only where they cannot be read the other "
        f"way (such as {example!r}) and its other dates (such as {text[converted]!r}, "
        f"{parsed[converted].date().isoformat()}) only up to the 12th of a month, out of order: a {order} file "
        f"converted by a spreadsheet set to {other} (which turns {written!r}, 1 February, into 2 January); these "
        "dates cannot be placed, write them as yyyy-mm-dd from the original file"
    )


def _from_parts(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"year": year, "month": month, "day": day}).apply(pd.to_numeric, errors="coerce")
    ok = (
        frame.notna().all(axis=1) & frame["year"].between(EARLIEST_DATE.year, LATEST_DATE.year - 1)
    ).to_numpy()
    out = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(frame[ok].astype("int64"), errors="coerce").to_numpy(dtype="datetime64[ns]")
    return pd.Series(out, index=year.index)


def _day_month_dates(
    text: pd.Series, numeric: pd.Series, label: str, options: ReadOptions, column: str, notes: list[str]
) -> tuple[pd.Series, str]:
    parts = numeric.str.extract(_NUMERIC_DM)
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_first_fits = bool((second <= 12).all())
    month_first_fits = bool((first <= 12).all())
    if day_first_fits and month_first_fits:
        if options.dayfirst is None:
            sep = numeric.str.extract(_NUMERIC_DM)[1].iloc[0]
            example = next(
                (v for v, a, b in zip(numeric, first, second, strict=True) if a != b), numeric.iloc[0]
            )
            year_code = _fmt_year(str(parts[3].iloc[0]))
            # 2-digit first and last fields (12/01/25) may also be yy/mm/dd (2012-01-25).
            two_digit_ends = bool((parts[0].str.len() == 2).all() and (parts[3].str.len() == 2).all())
            year_first = f" (or '%y{sep}%m{sep}%d' if the year comes first)" if two_digit_ends else ""
            raise DataValidationError(
                f"{label}: the {column!r} column is ambiguous, dates such as {example!r} can be day-first or "
                "month-first; say which with dayfirst=True/False or "
                f"date_format='%d{sep}%m{sep}{year_code}'{year_first} "
                "(CLI: --dayfirst/--monthfirst or --date-format), or write the dates as yyyy-mm-dd"
            )
        dayfirst = options.dayfirst
    else:
        # The order rule (module doc, ``_ORDER_RULE``): values that fit one order only are
        # the evidence. One or two against an order are invalid dates; more than that
        # against both orders is a file that mixes them, refused.
        only_day, only_month = _deciders(parts, True), _deciders(parts, False)
        if min(only_day, only_month) > _LONE_DECIDERS or (
            options.dayfirst is None and only_day > 0 and only_month > 0 and only_day == only_month
        ):
            _refuse_mixed_orders(numeric, parts, label, column)
        dayfirst = only_day > only_month
        if options.dayfirst is None:
            if only_day == 0 or only_month == 0:
                _refuse_lone_deciders(numeric, parts, dayfirst, label, column)
        elif max(only_day, only_month) <= _LONE_DECIDERS:
            # The order asked for (the Data page's choice, --dayfirst) against one or two
            # values: those are invalid dates; it is never overruled by them. More than two
            # overrule it (said in a warning below).
            dayfirst = options.dayfirst
    overruled = options.dayfirst is not None and options.dayfirst != dayfirst
    separator = parts[1].iloc[0]
    reads_year_first = _year_first(parts) if dayfirst and options.dayfirst is None else False
    if reads_year_first is None:
        example = next(
            (v for v, a, b in zip(numeric, parts[0], parts[3], strict=True) if a != b), numeric.iloc[0]
        )
        raise DataValidationError(
            f"{label}: the {column!r} column is ambiguous, dates such as {example!r} can be day-first or "
            "year-first and nothing in them tells which (too few dates, or rows sorted as text); say which "
            f"with date_format='%d{separator}%m{separator}%y' or '%y{separator}%m{separator}%d' (CLI: "
            "--date-format; --dayfirst reads them day-first), or write the dates as yyyy-mm-dd"
        )
    if reads_year_first:
        fields = text.str.extract(_NUMERIC_DM)
        year = pd.to_numeric(fields[0], errors="coerce").astype("float64")
        year = _full_year(year)
        fmt = f"%y{separator}%m{separator}%d"
        return _finish_dates(_from_parts(year, fields[2], fields[3])), f"{fmt} (2-digit year first)"
    year_fmt = _fmt_year(str(parts[3].iloc[0]))
    order = ("%d", "%m") if dayfirst else ("%m", "%d")
    fmt = f"{order[0]}{separator}{order[1]}{separator}{year_fmt}"
    # The order is the column's; each value keeps its own separator (/ . -) and year width
    # (yy as strptime's %y: 69-99 -> 19yy, 00-68 -> 20yy), so 03-01-2022 next to 02/01/22
    # is the same day-first column, not a half of invalid dates.
    fields = text.str.extract(_NUMERIC_DM)
    day, month = (fields[0], fields[2]) if dayfirst else (fields[2], fields[0])
    year = pd.to_numeric(fields[3], errors="coerce").astype("float64")  # NaN, not NA, where no fit
    short = fields[3].str.len() == 2
    year = year.where(~short, _full_year(year))
    mixed = fields[1].dropna().nunique() > 1 or short.dropna().nunique() > 1
    read_as = "day first" if dayfirst else "month first"
    asked = "month first" if dayfirst else "day first"
    against = f", not the {asked} asked for" if overruled else ""
    description = f"{fmt} ({read_as}{against}{'; separators and year widths vary' if mixed else ''})"
    if overruled:
        example = numeric[(first > 12) if dayfirst else (second > 12)].iloc[0]
        notes.append(
            f"{label}: the {column!r} column is read {read_as}, not {asked} as asked: "
            f"{_deciders(parts, dayfirst)} of its dates, such as {example!r}, can only be {read_as}"
        )
    return _finish_dates(_from_parts(year, month, day)), description


# At most this many values that fit one order only, among at least _ORDER_MIN_DATES, are
# checked against the file's order (``_refuse_lone_deciders``); at most this many against
# an order are invalid dates of it, more are a reading of their own (``_ORDER_RULE``).
_LONE_DECIDERS = 2
_ORDER_MIN_DATES = 10

_ORDER_RULE = """The day/month order of a dd/mm or mm/dd column, one rule. A value with a
first field above 12 fits day-first only (13/01/2022), one with a second field above 12
month-first only (01/13/2022); the others fit both. Let d and m count them.

- d = m = 0: ambiguous, read in the order asked for (dayfirst, the Data page's choice),
  else refused naming the options (or read yy/mm/dd when ``_year_first`` says so);
- more than two of each (d, m > 2): the file mixes day-first and month-first rows (two
  exports merged), so its rows that fit both cannot be placed: refused naming one value
  of each, whatever order was asked for; one or two of each, as many of each, with no
  order asked for: nothing tells which are the invalid ones, refused the same way;
- otherwise the order of the larger count; its one or two contradicting values are
  invalid dates (dropped and counted). An order asked for is kept against one or two
  values and overruled (with a warning) by more. Without one, one or two values that alone
  make the order, while the other values are in date order only the other way, are
  refused (``_refuse_lone_deciders``)."""


def _refuse_mixed_orders(numeric: pd.Series, parts: pd.DataFrame, label: str, column: str) -> None:
    """Refuse a column whose values contradict both orders (``_ORDER_RULE``), quoting one
    value that fits day-first only and one that fits month-first only."""
    day_only = numeric[parts[0].astype(int) > 12].iloc[0]
    month_only = numeric[parts[2].astype(int) > 12].iloc[0]
    raise DataValidationError(
        f"{label}: the {column!r} column mixes day-first and month-first dates, such as "
        f"{day_only!r} (day first only) and {month_only!r} (month first only), so its other dates "
        "cannot be placed; write every row one way (yyyy-mm-dd is safest) and read it again"
    )


def _deciders(parts: pd.DataFrame, dayfirst: bool) -> int:
    """How many values fit the chosen order only (a first field above 12 day-first, a second
    one month-first)."""
    return int((parts[0 if dayfirst else 2].astype(int) > 12).sum())


def _refuse_lone_deciders(
    numeric: pd.Series, parts: pd.DataFrame, dayfirst: bool, label: str, column: str
) -> None:
    """Refuse a dd/mm or mm/dd column decided by one or two values against the file's order.

    The order is the one that every value fits; when one or two values alone rule out the
    other order (01/25/2022 among 01/01/2022 .. 12/02/2022) and the other values are in
    date order read the other way only (Jan 1 .. Feb 12 day-first, but Jan 1, Feb 1, ...,
    Dec 1, Jan 2 ... month-first), the few values are likelier a stray row than the key:
    read month-first, 24 rows moved to other months without a word. Refused in one
    sentence naming them; a column whose values are in order both ways (01/01 .. 13/01)
    or in no order is read as before."""
    first, second = parts[0].astype(int), parts[2].astype(int)
    deciding = (first > 12) if dayfirst else (second > 12)
    rest = ~deciding
    if int(deciding.sum()) > _LONE_DECIDERS or int(rest.sum()) < _ORDER_MIN_DATES:
        return
    year = pd.to_numeric(parts[3], errors="coerce")
    year = year.where(parts[3].str.len() != 2, _full_year(year))
    day_keys = (year * 10000 + second * 100 + first)[rest].to_numpy(dtype=np.int64)
    month_keys = (year * 10000 + first * 100 + second)[rest].to_numpy(dtype=np.int64)
    chosen, other = (day_keys, month_keys) if dayfirst else (month_keys, day_keys)
    if _in_order(other) and not _in_order(chosen):
        shown = ", ".join(repr(v) for v in numeric[deciding].head(_LONE_DECIDERS))
        order, other_order = ("day-first", "month-first") if dayfirst else ("month-first", "day-first")
        raise DataValidationError(
            f"{label}: the {column!r} column is ambiguous, {shown} alone make{'s' if int(deciding.sum()) == 1 else ''} "
            f"it {order}, while its other dates "
            f"are in date order only {other_order}; say which with dayfirst=True/False or date_format "
            "(CLI: --dayfirst/--monthfirst or --date-format), or write the dates as yyyy-mm-dd"
        )


_FEW_DATES = 3


def _year_first(parts: pd.DataFrame) -> bool | None:
    """True for a yy/mm/dd column (``22/01/03``, Japanese and Swedish short dates), which
    reads as valid dd/mm/yy dates too (2003-01-22, the rows of one quarter of 2022 spread
    over 2001..2031). Only when every value has a 2-digit first and last field and the
    last fits a day (01..31). The evidence, strongest first; the first rule that decides
    wins:

    1. values: a first field that is no day (00, above 31) in most values or in two
       different ones is year-first;
    2. the calendar: every value a month end one way only is that way; one date in each
       of 13 or more consecutive months one way only (a monthly series on a fixed day) is
       that way; one first field and one month (days of one month, not one calendar day
       over years) is year-first;
    3. the file's order, on the distinct values in file order: a column in date order read
       day-first keeps that reading; else one in date order read year-first is year-first;
       else (sorted in runs: a long file by symbol) the reading going against the file's
       order less than half as often as the other. The year-first order is no evidence when
       the column is sorted as text, whole or in runs (its fields, left to right, go against
       the file's order no more often than the year-first reading does and less than half
       as often as the day-first one: ``sort``, a spreadsheet sorting the date text, a file
       sorted by symbol and then by the date text, where each symbol's new dates are a
       run): a text sort puts a dd/mm/yy column in yy/mm/dd order by construction
       (01.01.22, 01.02.22, 02.01.22 ...), so that order tells nothing;
    4. the calendar again: (unsorted or sorted as text) 20 dates or more on weekdays only
       one way are that way; a column sorted as text whose dates span at least
       ``_SPAN_RATIO`` times fewer days one way is that way (59 days of 2022, not the 22nd
       of January and February of 2001..2031);
    5. the field counts: the last field takes more than 12 values and the first at most
       half as many (a year changes seldom, a day every row) is year-first;
    6. undecided: a column sorted as text, or up to 3 dates, that no rule decides and that
       does not read the same both ways is refused (None), never guessed; any other is
       read day-first.

    Years are strptime's %y (69..99 19yy)."""
    first, last = parts[0], parts[3]
    if not (first.str.len() == 2).all() or not (last.str.len() == 2).all():
        return False
    if not last.astype(int).between(1, 31).all():
        return False  # a last field 00 or above 31 is no day: the year comes last
    # A first field 00 or above 31 is no day either (98/12/15, 00/01/14): year-first when
    # most values, or two different ones, say so (one typo does not turn a dd/mm/yy column).
    no_day = first[~first.astype(int).between(1, 31)]
    if 2 * len(no_day) > len(first) or no_day.nunique() >= 2:
        return True
    month = parts[2].astype(int)
    # Order keys with the years of strptime's %y (69..99 -> 19yy, 00..68 -> 20yy): 99/12/31
    # then 00/01/31 goes forward in time, not back.
    as_dmy = (_full_year(last.astype(int)) * 10000 + month * 100 + first.astype(int)).to_numpy()
    as_ymd = (_full_year(first.astype(int)) * 10000 + month * 100 + last.astype(int)).to_numpy()
    # Month ends (monthly or quarterly closes, calendar or business): every value a month
    # end one way only settles the column; by chance the other reading almost never is
    # (31/03/08 read year-first is 2031-03-08, 20/06/30 read day-first 2030-06-20).
    dmy_ends, ymd_ends = _month_ends(as_dmy), _month_ends(as_ymd)
    if dmy_ends != ymd_ends:
        return ymd_ends
    # A monthly series on a fixed day (the 15th of each month, 15.01.08 .. 15.03.21): one
    # date in each of 13 or more consecutive months one way only is that way. Read the
    # other way, such a column puts many dates in one month (the 8th to 21st of 2015's
    # months): sorted as text, its short span would otherwise pass for the file's. Over
    # whole years both readings are grids (days 08..21 of every month of 2015, or the 15th
    # of every month of 2008..2021; 22.01.01 .. 22.12.28 alike): nothing tells, refused.
    dmy_monthly, ymd_monthly = _monthly_series(as_dmy), _monthly_series(as_ymd)
    if dmy_monthly != ymd_monthly:
        return None if _same_days_each_month(as_dmy if ymd_monthly else as_ymd) else ymd_monthly
    # One first field and one month (22/03/14 .. 22/03/18, in any order): read day-first,
    # the 22nd of March of 2014..2018, a row a year on one calendar day; read year-first,
    # days of one month.
    if first.nunique() == 1 and month.nunique() == 1 and last.nunique() > 1:
        return True
    if _in_order(as_dmy):
        return False
    # Sorted in runs (a long file by symbol, symbols over different dates): the reading
    # that goes back in time clearly less often is the file's. Month-end dd/mm/yy closes
    # over 13+ years (days 28..31, years 05..20) broke once read day-first and at almost
    # every month read year-first, yet passed the value counts below as years 2028..2031.
    back_dmy, back_ymd = _descents(as_dmy), _descents(as_ymd)
    if 2 * back_dmy < back_ymd:
        return False
    # Sorted as text, whole or in runs (by symbol, then by the date text: each symbol's new
    # dates a text-sorted run): the order of the fields as written (first, month, last),
    # which a text sort of zero-padded values makes, is the year-first date order; so it is
    # no evidence for year-first. The text order is the file's when it breaks less than
    # half as often as the day-first reading and no more often than the year-first one.
    as_text = (first.astype(int) * 10000 + month * 100 + last.astype(int)).to_numpy()
    back_text = _descents(as_text)
    text_sorted = back_text <= back_ymd and 2 * back_text < back_dmy
    if not text_sorted:
        if _in_order(as_ymd):
            return True
        if 2 * back_ymd < back_dmy:
            return True
    # Trading days (daily or weekly closes): none on a weekend one way only, over 20 dates
    # or more (the wrong reading has a weekend among 20 dates but by a 0.1% chance).
    if len(first) >= 20:
        dmy_weekdays, ymd_weekdays = _weekdays_only(as_dmy), _weekdays_only(as_ymd)
        if dmy_weekdays != ymd_weekdays:
            return ymd_weekdays
    if text_sorted:
        # Sorted as text, the span stands in for the order: the dates of a file lie close
        # together, the other reading spreads them over the years of the first or last field.
        dmy_span, ymd_span = _span_days(as_dmy), _span_days(as_ymd)
        if max(dmy_span, ymd_span) > 0 and _SPAN_RATIO * dmy_span <= ymd_span:
            return False
        if max(dmy_span, ymd_span) > 0 and _SPAN_RATIO * ymd_span <= dmy_span:
            return True
    # A day field takes more than 12 values (a fixed day of month over a few years,
    # 15/01/22 15/02/23 ..., must not pass for years 2015 with days 22 and 23).
    n_last = last.nunique()
    if n_last > 12 and 2 * first.nunique() <= n_last:
        return True
    # Undecided: up to 3 dates (13/04/19 alone: 2019-04-13 or 2013-04-19), or a column
    # sorted as text, are not guessed at; a date that reads the same both ways (22/03/22) is fine.
    if (text_sorted or len(first) <= _FEW_DATES) and not (as_dmy == as_ymd).all():
        return None
    return False


# A text-sorted 2-digit-year column is read the way whose dates span this many times fewer
# days than the other's (``_year_first``).
_SPAN_RATIO = 10


def _span_days(keys: np.ndarray) -> int:
    """Days from the first to the last ``yyyymmdd`` key (invalid keys ignored)."""
    dates = _key_dates(keys).dropna()
    return int((dates.max() - dates.min()).days) if not dates.empty else 0


def _full_year(two_digits: pd.Series) -> pd.Series:
    """The year of a 2-digit year as strptime's ``%y`` reads it (69..99 -> 19yy, 00..68 -> 20yy)."""
    return two_digits + np.where(two_digits < 69, 2000, 1900)


def _descents(keys: np.ndarray) -> int:
    """How many times ``keys`` go against the file's order (a file sorted in k runs, each
    ascending or each descending, breaks at most k - 1 times)."""
    steps = np.diff(keys)
    return int(min((steps < 0).sum(), (steps > 0).sum()))


def _key_dates(keys: np.ndarray) -> pd.Series:
    return pd.to_datetime(pd.Series(keys).astype(str), format="%Y%m%d", errors="coerce")


def _weekdays_only(keys: np.ndarray) -> bool:
    """True when every ``yyyymmdd`` key is a valid date from Monday to Friday."""
    dates = _key_dates(keys)
    return bool(dates.notna().all() and (dates.dt.day_of_week < 5).all())


def _month_ends(keys: np.ndarray) -> bool:
    """True when every ``yyyymmdd`` key is a valid date on the last day, or last business
    day, of its month."""
    dates = _key_dates(keys)
    if dates.isna().any():
        return False
    weekday = dates.dt.day_of_week
    next_business_day = dates + pd.to_timedelta(np.where(weekday == 4, 3, 1), unit="D")
    business_end = (weekday < 5) & (next_business_day.dt.month != dates.dt.month)
    return bool(dates.dt.is_month_end.all() or business_end.all())


def _monthly_series(keys: np.ndarray) -> bool:
    """True when the distinct ``yyyymmdd`` keys are valid dates, one in each calendar month
    of ``_MONTHLY_MONTHS`` or more consecutive months."""
    distinct = np.unique(keys)
    dates = _key_dates(distinct)
    if len(distinct) < _MONTHLY_MONTHS or dates.isna().any():
        return False
    months = np.unique((dates.dt.year * 12 + dates.dt.month).to_numpy())
    return len(months) == len(distinct) and int(months[-1] - months[0]) == len(months) - 1


def _same_days_each_month(keys: np.ndarray) -> bool:
    """True when the ``yyyymmdd`` keys are valid dates with the same two or more days of
    the month in each of their calendar months (a grid of months x days)."""
    dates = _key_dates(np.unique(keys))
    if dates.isna().any():
        return False
    days = dates.dt.day.groupby([dates.dt.year, dates.dt.month]).agg(tuple)
    return len(days.iloc[0]) >= 2 and days.nunique() == 1


# A year and a month: a monthly series by chance would need all twelve months' days to line up.
_MONTHLY_MONTHS = 13


def _date_keys(dates: pd.Series) -> np.ndarray:
    """``yyyymmdd`` integer keys of parsed dates (``_in_order``, ``_descents``)."""
    return (dates.dt.year * 10000 + dates.dt.month * 100 + dates.dt.day).to_numpy(dtype=np.int64)


def _in_order(keys: np.ndarray) -> bool:
    """True when ``keys`` never go down, or never go up (a file sorted either way)."""
    steps = np.diff(keys)
    return len(steps) > 0 and bool((steps >= 0).all() or (steps <= 0).all())


def _serial_dates(text: pd.Series, label: str, column: str) -> tuple[pd.Series, str]:
    """A wholly numeric column: Excel serial day numbers, else Unix timestamps in one unit
    (``_epoch_unit``), else refused in one sentence."""
    numbers = pd.to_numeric(text, errors="coerce")
    valid = numbers.dropna()
    if not valid.empty and _excel_serial(valid).all():
        return _finish_dates(_excel_dates(numbers)), "Excel serial day numbers (days since 1899-12-30)"
    integers = _epoch_integers(text)
    unit = None if integers is None else _epoch_unit(integers, text, label, column)
    if (
        unit is None
        and not valid.empty
        and bool(((valid >= UNIX_DAYS_MIN) & (valid < EXCEL_SERIAL_MIN)).all())
    ):
        example = valid.iloc[0]
        as_days = (pd.Timestamp("1970-01-01") + pd.to_timedelta(example, unit="D")).date()
        as_excel = (EXCEL_ORIGIN + pd.to_timedelta(example, unit="D")).date()
        raise DataValidationError(
            f"{label}: the {column!r} column holds numbers such as {example:g} that may be days since "
            f"1970-01-01 (R's as.numeric of a date: {as_days}) or Excel serial day numbers ({as_excel}); "
            "neither is assumed: write dates as yyyy-mm-dd"
        )
    if unit is None:
        raise DataValidationError(
            f"{label}: the {column!r} column holds numbers, not dates (Excel serial day numbers are "
            f"accepted from {EXCEL_SERIAL_MIN} to {EXCEL_SERIAL_MAX}, i.e. 1970 to 2099, Unix timestamps "
            "from 1973 to 2099 in one unit: seconds, milliseconds, microseconds or nanoseconds); "
            "write dates as yyyy-mm-dd"
        )
    assert integers is not None  # a unit was found in them
    stamps = _epoch_stamps(integers, text.index, unit)
    _refuse_times_of_day(stamps, text, label, column)
    return _finish_dates(stamps), f"Unix timestamps in {EPOCH_UNITS[unit][0]} (midnight UTC)"


def _refuse_times_of_day(stamps: pd.Series, text: pd.Series, label: str, column: str) -> None:
    """Unix timestamps are read only at midnight UTC (dates written as instants: pandas
    ``to_json`` of a date index, ``Date.UTC``, Binance's daily bars). Any other instant's
    calendar date depends on the time zone it was taken in: Europe/London's midnight is
    23:00 UTC the day before all summer, and read as a UTC date it would move every
    summer row to the previous day, silently. So it is refused, never guessed."""
    timed = stamps.dropna()
    off = timed[timed != timed.dt.normalize()]
    if off.empty:
        return
    row = off.index[0]
    raise utc_instant_refusal(label, column, "Unix timestamps", text[row], off[row])


def utc_instant_refusal(
    label: str, column: str, kind: str, written: str, instant: pd.Timestamp
) -> DataValidationError:
    """The one sentence refusing UTC instants with a time of day as dates (Unix timestamps,
    ISO 8601 with ``Z`` or ``+00:00``): ``written`` is the value as written, ``instant`` its
    UTC time. Their calendar date depends on the time zone the instant was taken in (Tokyo's
    midnight is 15:00 UTC the day before), so it is never guessed."""
    return DataValidationError(
        f"{label}: the {column!r} column holds {kind} with a time of day ({written!r} is "
        f"{instant:%Y-%m-%d %H:%M:%S} UTC); the date of such an instant depends on the time zone "
        "it was taken in, so it is not guessed: write the dates as yyyy-mm-dd (or timestamps of "
        "midnight UTC)"
    )


# A UTC designator at the end of an ISO 8601 value: Z, UTC, UCT, GMT, +00:00/+0000/-00:00,
# UTC+0 (the capitals' names of ``UTC_ZONE_NAMES``, which ``_ISO`` reads as abbreviations).
_UTC_ZONE = re.compile(
    r"(?:Z|"
    + "|".join(sorted(n for n in UTC_ZONE_NAMES if re.fullmatch(r"[A-Z]{3,4}", n)))
    + r"|(?:UTC|GMT)?[+-]00?(?::?00)?)$"
)
# Any zone or offset at the end of an ISO value (a local one when it is not a UTC
# designator): the column "with an offset", whose local dates are kept as written. A zone
# abbreviation alone (``_ISO``'s 3 or 4 capitals: BST, CET/CEST, IST, JST, AEST/AEDT,
# EST/EDT) is a local zone too, unless it is UTC's own (GMT, UTC, UCT): London's closes
# stamped GMT in winter and BST in summer are local, only a column stamped UTC alone is not.
_ANY_ZONE = re.compile(
    r"(?:Z|UTC|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}(?:\s*[A-Z]{3,4})?|:\d{2}(?:\.\d+)?\s*[+-]\d{2}"
    r"|(?<![A-Za-z])[A-Z]{3,4})$"
)


def _refuse_utc_stamps(stamps: pd.Series, label: str, column: str) -> None:
    """Stored timestamps in UTC (a Parquet index in UTC or Etc/UTC: ``utc_zone``) with a
    time of day other than midnight: refused as ISO values stamped ``+00:00`` are."""
    naive = stamps.dt.tz_localize(None).dropna()
    off = naive[naive != naive.dt.normalize()]
    if off.empty:
        return
    row = off.index[0]
    raise utc_instant_refusal(label, column, "UTC timestamps", str(stamps[row]), off[row])


def _refuse_utc_times_of_day(
    values: pd.Series, label: str, column: str, written: pd.Series | None = None
) -> None:
    """ISO 8601 values stamped UTC (``Z``, ``+00:00``) with a time of day other than
    midnight are refused as Unix timestamps are (``utc_instant_refusal``): a yfinance index of
    Tokyo midnights converted to UTC reads 15:00 UTC the day before, and its UTC date moved
    every close a day back (Monday's onto Sunday), silently. A column that also writes a local
    offset (``-05:00``: New York's closes next to London's ``+00:00`` in winter) or a local zone
    abbreviation (London's ``BST`` in summer next to ``GMT`` in winter) says its dates are local, and is read at the local date as written. ``values``: the distinct ISO values;
    ``written``: the same values as written, when ``values`` spells their zone name as a
    designator (``Etc/UTC`` as ``UTC``: ``strip_date_decorations``)."""
    text = values.astype(str).str.strip()
    utc = text.str.contains(_UTC_ZONE)
    if not utc.any():
        return
    local = text.str.contains(_ANY_ZONE) & ~utc
    if local.any():
        return
    parts = text[utc].str.extract(_ISO)
    hours = pd.to_numeric(parts[3], errors="coerce").fillna(0)
    pm = text[utc].str.contains(r"[Pp]\.?[Mm]\.?", regex=True)
    am = text[utc].str.contains(r"[Aa]\.?[Mm]\.?", regex=True)
    hours = hours.where(~(am | pm), hours % 12 + np.where(pm, 12, 0))
    minutes = pd.to_numeric(parts[4], errors="coerce").fillna(0)
    seconds = pd.to_numeric(parts[5], errors="coerce").fillna(0)
    timed = (hours != 0) | (minutes != 0) | (seconds != 0)
    if not timed.any():
        return
    row = timed[timed].index[0]
    shown = text[utc][row] if written is None else str(written[row]).strip()
    fields = parts.loc[row]
    instant = pd.Timestamp(
        year=int(fields[0]), month=int(fields[1]), day=int(fields[2]),
        hour=int(hours[row]), minute=int(minutes[row]), second=int(seconds[row]),
    )  # fmt: skip
    raise utc_instant_refusal(label, column, "UTC timestamps", shown, instant)


# ----- closes stamped in another zone than the exchange's ---------------------------------
#
# A price file's closes are the exchange's (New York's: the universe and benchmark are
# US-listed, ``engine.data.calendar``), and a close's date is its date in New York. Written
# in another zone, the same instant may fall on the next or the previous calendar day: NY's
# 16:00 close of Friday 2022-04-29 is '2022-04-30 05:00:00+09:00' in Tokyo, a yfinance index
# of New York midnights converted to Chicago reads '2021-05-31 23:00:00-05:00' for the
# session of 2021-06-01. Read at the local dates as written, every close moves a day (a
# Saturday becomes a trading day, the weekend look-ahead of a period ending on a Saturday
# comes back). Decided for the whole column, never value by value: only when every value
# has a time of day and a zone or offset that gives its instant, some time is not midnight,
# the local dates put rows on Saturdays or Sundays, and the New York dates of the same
# instants are weekdays only and distinct, is the column read at the New York dates.
# Otherwise the local dates as written are kept (an exchange's closes in its own zone, a
# 7-day crypto file, dates at midnight).

# A time of day: the first h:mm[:ss] of a value (an offset's +09:00 comes after it).
_TIME_OF_DAY = re.compile(
    r"(?<![\d:])(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
)
# All that follows the time: a numeric offset (an abbreviation may follow: -0500 EST, Go's
# time.String()) or a UTC designator (Z, UTC, GMT alone), whose instant is known.
_OFFSET_AFTER_TIME = re.compile(
    r"(?:UTC|GMT)?(?P<sign>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?(?:\s*[A-Z]{3,4})?|(?P<utc>Z|UTC|GMT)"
)


# The notes of the local-date rule, replaced by ``_exchange_note`` when it does not apply.
_LOCAL_KEPT = re.compile(
    r"; (?:UTC offsets|time zone names \([^)]*\)) ignored, the local date as written is kept"
)


def _exchange_note(zone: str) -> str:
    return f"; closes stamped in {zone} read at their New York dates, the exchange's"


def _exchange_dates(local: pd.Series, instants: pd.Series) -> pd.Series | None:
    """The New York dates (datetime64[ns] at midnight, ``local``'s index) of ``instants``
    (tz-aware, UTC), when the column is to be read at them (the rule above): ``local`` holds
    the same values' wall-clock times as written, none missing. None: keep the local dates."""
    if local.empty or bool(local.isna().any()) or bool(instants.isna().any()):
        return None
    wall = pd.DatetimeIndex(local)
    if bool((wall == wall.normalize()).all()):  # midnights: dates written as instants
        return None
    local_days = wall.normalize()
    exchange = pd.DatetimeIndex(instants).tz_convert(EXCHANGE_ZONE).tz_localize(None).normalize()
    if not bool((local_days.day_of_week >= 5).any()) or bool((exchange.day_of_week >= 5).any()):
        return None
    if exchange.nunique() != pd.DatetimeIndex(instants).nunique():  # two closes on one NY date
        return None
    return pd.Series(exchange, index=local.index)


def _at_exchange_dates(text: pd.Series, parsed: pd.Series, description: str) -> tuple[pd.Series, str]:
    """``parsed`` (the local dates of the distinct values ``text``, same index) at the New
    York dates when the column's rule says so (``_exchange_dates``), with the description's
    note; else unchanged. Each value's instant is its local date as read, its time of day and
    its offset or IANA zone name; a value whose instant is not known (no time, a zone
    abbreviation alone such as BST) keeps the whole column at its local dates."""
    values = text.astype("string").str.strip()
    dates = pd.Series(parsed.to_numpy(dtype="datetime64[ns]"), index=text.index)
    read = dates.notna() & values.notna()
    if not read.any() or bool(read.sum() < 2):
        return parsed, description
    walls: list[pd.Timestamp] = []
    instants: list[pd.Timestamp] = []
    zones: list[str] = []
    for value, day in zip(values[read].astype(str), dates[read], strict=True):
        time = _TIME_OF_DAY.search(value)
        if time is None:
            return parsed, description
        hour, ampm = int(time["h"]), (time["ampm"] or " ")[0].lower()
        hour = hour % 12 + 12 if ampm == "p" else hour % 12 if ampm == "a" else hour
        wall = pd.Timestamp(day) + pd.Timedelta(
            hours=hour, minutes=int(time["m"]), seconds=int(time["s"] or 0)
        )
        named = _ZONE_NAME.search(value)
        offset = _OFFSET_AFTER_TIME.fullmatch(value[time.end() :].strip())
        try:
            if named is not None:
                zone = named["zone"] or named["bracketed"]
                instant = wall.tz_localize(zone, ambiguous="raise", nonexistent="raise")
            elif offset is not None and offset["sign"]:
                shift = pd.Timedelta(hours=int(offset["oh"]), minutes=int(offset["om"] or 0))
                instant = (wall - shift if offset["sign"] == "+" else wall + shift).tz_localize("UTC")
                zone = f"UTC{offset['sign']}{int(offset['oh']):02d}:{int(offset['om'] or 0):02d}"
            elif offset is not None:
                instant, zone = wall.tz_localize("UTC"), "UTC"
            else:  # no zone, an abbreviation alone (BST), or more after the time
                return parsed, description
        except (ValueError, TypeError, KeyError, OverflowError, zoneinfo.ZoneInfoNotFoundError):
            return parsed, description
        walls.append(wall)
        instants.append(instant.tz_convert("UTC"))
        zones.append(zone)
    index = dates[read].index
    exchange = _exchange_dates(
        pd.Series(walls, index=index), pd.Series(pd.DatetimeIndex(instants), index=index)
    )
    if exchange is None:
        return parsed, description
    out = dates.copy()
    out[exchange.index] = exchange
    shown = ", ".join(sorted(set(zones))[:3])
    return _finish_dates(out), _LOCAL_KEPT.sub("", description) + _exchange_note(f"{shown} time")


# Unix timestamps (pandas ``to_json``, Polygon, Binance, most web APIs): the unit is decided
# for the whole column by its magnitude, never value by value. Each unit's range is its
# instants from 1973-03-03 (1e8 seconds) to 2100-01-01: the ranges are disjoint (4.1e9 s <
# 1e11 ms), and they start above the 8-digit yyyymmdd numbers and the Excel serial day
# numbers (at most 73050), so years (2022), days of the month and serials are never epochs.
EPOCH_UNITS: dict[Literal["s", "ms", "us", "ns"], tuple[str, int]] = {
    "s": ("seconds", 1),
    "ms": ("milliseconds", 10**3),
    "us": ("microseconds", 10**6),
    "ns": ("nanoseconds", 10**9),
}
EPOCH_FIRST_SECOND = 10**8  # 1973-03-03 09:46:40 UTC
EPOCH_END_SECOND = 4102444800  # 2100-01-01 00:00:00 UTC
_EPOCH_INTEGER = re.compile(r"^\d{9,19}(?:\.0+)?$")


def _epoch_integers(text: pd.Series) -> pd.Series | None:
    """The whole numbers of a column of distinct number strings (int64, same index), or
    None when a value is not a whole number of 9 to 19 digits."""
    values = text.dropna()
    if values.empty or not bool(values.str.match(_EPOCH_INTEGER).all()):
        return None
    return values.str.replace(r"\.0+$", "", regex=True).astype("int64")


def _epoch_unit(
    numbers: pd.Series, text: pd.Series, label: str, column: str
) -> Literal["s", "ms", "us", "ns"] | None:
    """The unit (``s``, ``ms``, ``us``, ``ns``) when every one of ``numbers``
    (``_epoch_integers`` of ``text``, the distinct number strings) is a Unix timestamp of
    1973 to 2099 in that one unit; None when a value is none in any unit. A column whose
    values fall in two units' ranges is refused in one sentence (``1641168000`` next to
    ``1641254400000``: a unit per value is no reading)."""
    units = list(EPOCH_UNITS)
    which = np.full(len(numbers), -1)
    for i, (_, scale) in enumerate(EPOCH_UNITS.values()):
        inside = (numbers >= EPOCH_FIRST_SECOND * scale) & (numbers < EPOCH_END_SECOND * scale)
        which[inside.to_numpy()] = i
    if (which < 0).any():
        return None
    present = np.unique(which)
    if len(present) > 1:
        written = text.dropna().to_numpy(dtype=object)
        (v1, u1), (v2, u2) = ((written[which == i][0], units[i]) for i in present[:2])
        raise DataValidationError(
            f"{label}: the {column!r} column holds Unix timestamps in more than one unit, such as "
            f"{v1!r} in {EPOCH_UNITS[u1][0]} and {v2!r} in {EPOCH_UNITS[u2][0]}; write every "
            "timestamp in one unit, or the dates as yyyy-mm-dd"
        )
    return units[int(present[0])]


def _epoch_stamps(numbers: pd.Series, index: pd.Index, unit: Literal["s", "ms", "us", "ns"]) -> pd.Series:
    """The UTC instants (naive datetime64[ns], on ``index``) of the Unix timestamps
    ``numbers`` (``_epoch_integers``) in ``unit``; NaT where empty."""
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    out[numbers.index] = pd.to_datetime(numbers, unit=unit).to_numpy(dtype="datetime64[ns]")
    return out


def _excel_serial(numbers: pd.Series) -> pd.Series:
    """Where ``numbers`` are Excel serial day numbers of 1950 to 2099 (the one range rule of
    a wholly numeric date column and of serials among text dates)."""
    return (numbers >= EXCEL_SERIAL_MIN) & (numbers <= EXCEL_SERIAL_MAX)


def _excel_dates(numbers: pd.Series) -> pd.Series:
    """The dates of Excel serial day numbers (days since 1899-12-30; a fraction, a time of
    day, rounded to 1e-6 days)."""
    return EXCEL_ORIGIN + pd.to_timedelta(numbers.round(6), unit="D")


def _guessed_named_formats(unique: pd.Series) -> list[str]:
    """Formats with a month name that pandas guesses from a few values (03-January-2022,
    03/Jan/2022, 'Monday, January 03, 2022', 03-Jan-2022 16:00). Only formats naming the
    month are taken: they cannot swap day and month, so one format fits the whole column
    or its rows are dropped as invalid dates, never read value by value."""
    found: dict[str, None] = {}
    for value in unique.iloc[:20]:
        fmt = guess_datetime_format(str(value))
        if fmt is not None and ("%b" in fmt or "%B" in fmt) and fmt not in NAMED_FORMATS:
            if "%y" in fmt and ("%d" not in fmt or fmt.index("%y") < fmt.index("%d")):
                continue  # a 2-digit year is the last field, never read where a day could be
            found.setdefault(fmt)
    return list(found)


# A time of day after a date with a month name ("3-Jan-2022 4:00 PM", "Jan 3, 2022, 16:00:00
# EST"): dropped before the month-name formats are tried, as after ISO and dd/mm dates (the
# calendar date as written is kept; intraday bars are refused by the price reader).
_TRAILING_TIME = re.compile(
    r",?\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?"
    r"(?:\s*" + _ZONE + r")?$"
)


def _named_dates(text: pd.Series, unique: pd.Series, label: str, column: str) -> tuple[pd.Series, str]:
    best_fmt: str | None = None
    timed = unique.str.contains(_TRAILING_TIME)
    if timed.any():
        # The time is cut from each value that has one; the date format is still chosen
        # once for the whole column (a value that does not fit it is an invalid date).
        text = text.str.replace(_TRAILING_TIME, "", regex=True)
        unique = pd.Series(unique.str.replace(_TRAILING_TIME, "", regex=True).unique())
    # With the month named, the separators say nothing about the order: each value may use
    # its own (03/Jan/22 next to 04-Jan-22, Jan. 3, 2022), as for dd/mm dates. The format
    # is still one for the column; it is named as the most values write it.
    spaced = _one_separator(unique)
    best_key = (0, 0)
    candidates = (*NAMED_FORMATS, *_guessed_named_formats(unique))
    # Each %b format also with the month in full (January 03 22, 03 January 22).
    for fmt in dict.fromkeys(f for c in candidates for f in (c, c.replace("%b", "%B"))):
        if "%b" not in fmt and "%B" not in fmt:
            key = (int(pd.to_datetime(unique, format=fmt, errors="coerce").notna().sum()), 0)
        else:
            key = (
                int(pd.to_datetime(spaced, format=_one_separator_format(fmt), errors="coerce").notna().sum()),
                int(pd.to_datetime(unique, format=fmt, errors="coerce").notna().sum()),
            )
        if key > best_key:
            best_fmt, best_key = fmt, key
    if best_fmt is None:
        return _finish_dates(pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")), "none found"
    if "%b" not in best_fmt and "%B" not in best_fmt:
        parsed = pd.to_datetime(text, format=best_fmt, errors="coerce")
        return _finish_dates(parsed), f"{best_fmt} (with a time of day, dropped)" if timed.any() else best_fmt
    spaced_fmt = _one_separator_format(best_fmt)
    fits = pd.to_datetime(spaced, format=spaced_fmt, errors="coerce").notna().to_numpy()
    # Named as the values write it (03/Jan/22 -> %d/%b/%y), not as the formats list does.
    runs = [tuple(_SEPARATOR_RUN.findall(v)) for v in unique[fits]]
    written = _FORMAT_RUN.split(spaced_fmt)
    described = best_fmt
    if runs and len(runs[0]) == len(written) - 1:
        described = "".join(p + (runs[0][i] if i < len(runs[0]) else "") for i, p in enumerate(written))
    described += " (with a time of day, dropped)" if timed.any() else ""
    described += " (separators vary)" if len(set(runs)) > 1 else ""
    _refuse_year_first_named(spaced[fits], unique[fits], spaced_fmt, described.split(" (")[0], label, column)
    spaced_text = _one_separator(text)
    parsed = pd.to_datetime(spaced_text, format=spaced_fmt, errors="coerce")
    # Each value may write the year with 2 or 4 digits and the month abbreviated or in full
    # (03 Jan 22 next to 04 January 2022), as dd/mm values may: the field order stays the
    # column's, so no value is read another way round.
    widened = False
    for variant in _width_variants(spaced_fmt):
        missing = parsed.isna() & spaced_text.notna()
        if not missing.any():
            break
        more = pd.to_datetime(spaced_text[missing], format=variant, errors="coerce")
        if more.notna().any():
            parsed[missing] = more
            widened = True
    _refuse_foreign_months(spaced_text[parsed.isna() & spaced_text.notna()], spaced_fmt, label, column)
    described += " (year widths or month spellings vary)" if widened else ""
    return _finish_dates(parsed), described


_ENGLISH_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Month abbreviations of German, French, Spanish, Italian, Dutch and Portuguese that are
# not English ones (one such value is enough to refuse; another unknown word takes two).
_OTHER_MONTHS = frozenset(
    [
        "mär",
        "mrz",
        "mai",
        "okt",
        "dez",
        "janv",
        "févr",
        "fevr",
        "avr",
        "juin",
        "juil",
        "août",
        "aout",
        "déc",
        "ene",
        "abr",
        "ago",
        "dic",
        "gen",
        "mag",
        "giu",
        "lug",
        "set",
        "ott",
        "mrt",
        "mei",
        "fev",
        "out",
    ]
)
_WORD = re.compile(r"[^\W\d_]+")


def _width_variants(fmt: str) -> list[str]:
    """``fmt`` with the other year width (``%y``/``%Y``) and month spelling (``%b``/``%B``)."""
    years = [fmt, fmt.replace("%y", "%Y") if "%y" in fmt else fmt.replace("%Y", "%y")]
    out = [y.replace("%b", "%B") if "%b" in y else y.replace("%B", "%b") for y in years]
    return [f for f in dict.fromkeys([years[1], *out]) if f != fmt]


def _refuse_foreign_months(failed: pd.Series, fmt: str, label: str, column: str) -> None:
    """A value that fits the column's month-name format once its month word is an English
    one (03-Dez-22, 3 Mär 2022, 03-févr.-22 among English-readable Jan/Feb dates) is refused
    in one sentence: dropping it would leave a silent gap of whole months in the data. The
    word is a known non-English month abbreviation or one written in two values or more."""
    values = failed.drop_duplicates().iloc[:200]
    words = pd.Series([w for v in values for w in dict.fromkeys(_WORD.findall(str(v)))], dtype=object)
    repeated = set(words[words.duplicated()])
    for value in values:
        for word in _WORD.findall(str(value)):
            if word[:3].lower() in _ENGLISH_MONTHS:
                continue
            if word not in repeated and word.lower().rstrip(".") not in _OTHER_MONTHS:
                continue  # one misspelt value (03-Jna-22) is an invalid date, not a language
            probe = str(value).replace(word, "Jan", 1)
            if any(
                pd.notna(pd.to_datetime(probe, format=f, errors="coerce"))
                for f in (fmt, *_width_variants(fmt))
            ):
                raise DataValidationError(
                    f"{label}: the {column!r} column names months in a language other than English "
                    f"({word!r} in {value!r}), which are not read; write the dates as yyyy-mm-dd"
                )


def _refuse_year_first_named(
    spaced: pd.Series, written: pd.Series, fmt: str, as_written: str, label: str, column: str
) -> None:
    """``dd Mon yy`` (or ``Mon dd yy``) values that read with the day and the 2-digit year
    swapped too (22-Jan-03 is 2022-01-03 or 2003-01-22) are refused when the swapped reading
    is the likelier: fewer distinct day fields than year fields (one calendar day over many
    years), unless every date as read is a month end, or the column is in date order read
    day-first only (or, in order neither way, sorted in runs that go back in time less
    than half as often day-first)."""
    if not fmt.endswith("%y") or "%d" not in fmt or spaced.empty:
        return
    numbers = spaced.str.findall(r"\d+")
    days, years = numbers.str[0], numbers.str[-1]
    swapped_fmt = fmt[:-2].replace("%d", "%y") + "%d"
    swapped = pd.to_datetime(spaced, format=swapped_fmt, errors="coerce")
    if swapped.isna().any() or days.nunique() >= years.nunique():
        return
    as_read = pd.to_datetime(spaced, format=fmt, errors="coerce")
    if as_read.dt.is_month_end.all():
        return
    # The file's order settles it as it does for numeric yy/mm/dd columns (``_year_first``):
    # a monthly 01-Jan-15, 01-Feb-15 .. 01-Dec-22 is in date order read day-first, and goes
    # back in time every year read year-first (2001-12-15, then 2001-01-16).
    # In order both ways (22-Jan-03, 22-Jan-04 .. is 2003, 2004 .. read day-first), it says nothing.
    read_keys, swapped_keys = _date_keys(as_read), _date_keys(swapped)
    read_in_order, swapped_in_order = _in_order(read_keys), _in_order(swapped_keys)
    if read_in_order and not swapped_in_order:
        return
    if not (read_in_order or swapped_in_order) and 2 * _descents(read_keys) < _descents(swapped_keys):
        return
    example = written.iloc[0]
    swapped_written = as_written.replace("%d", "%D").replace("%y", "%d").replace("%D", "%y")
    raise DataValidationError(
        f"{label}: the {column!r} column is ambiguous, dates such as {example!r} can be read with the day "
        "or the 2-digit year first, and read day-first they fall on few days over many years; say which "
        f"with date_format='{as_written}' or '{swapped_written}' (CLI: --date-format), or write the dates as "
        "yyyy-mm-dd"
    )


_SEPARATOR_RUN = re.compile(r"(?<=[^\s%])[\s/.\-]+(?=\S)")


def _one_separator(values: pd.Series) -> pd.Series:
    """Month-name dates with every run of ``/ . -`` and spaces between fields written as one
    space (``03/Jan/22``, ``03-Jan-22``, ``Jan. 3, 2022`` -> ``03 Jan 22``, ``Jan 3, 2022``)."""
    spaced = values.str.replace(_ORDINAL, "", regex=True)  # 3rd Jan 2022, January 4th, 2022
    spaced = spaced.str.replace(_SEPARATOR_RUN, " ", regex=True).str.replace(" ,", ",", regex=False)
    return spaced.str.replace(_SEPT, lambda m: m.group(0)[:3], regex=True)  # Sept (UK) is Sep


_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)(?![A-Za-z])", re.IGNORECASE)
_SEPT = re.compile(r"(?<![A-Za-z])[Ss][Ee][Pp][Tt](?![A-Za-z])")


_FORMAT_RUN = re.compile(r"(?<=[A-Za-z,])[\s/.\-]+(?=%)")


def _one_separator_format(fmt: str) -> str:
    """``fmt`` with its separators written as ``_one_separator`` writes the values'."""
    return _FORMAT_RUN.sub(" ", fmt)


def _finish_dates(parsed: pd.Series) -> pd.Series:
    parsed = pd.Series(parsed)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    parsed = parsed.where((parsed >= EARLIEST_DATE) & (parsed < LATEST_DATE))  # before the unit change
    return parsed.astype("datetime64[ns]").dt.normalize()


# ----- columns ---------------------------------------------------------------------------


def squash(name: object) -> str:
    """Lower case, letters and digits only: 'Adj Close' -> 'adjclose', 'stock_name' -> 'stockname'."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


# German, Dutch and Scandinavian exports write Datum, Spanish ones Fecha (with their dd.mm.yyyy
# dates, semicolons and decimal commas, which are read); the last, after every English name.
DATE_NAMES = (
    "date", "datetime", "timestamp", "time", "day", "tradedate", "pricedate", "asofdate", "index", "datum", "fecha",
    "createdat",  # Twitter's (and many APIs') created_at
)  # fmt: skip
# LSEG (Refinitiv) Workspace/Eikon exports name the symbol column ``Instrument`` and fill it
# with RICs (AAPL.O, MSFT.O, BRK.B); ``RIC`` is the same. ``Security`` is left to the content
# rule (``engine.data.prices``): Bloomberg fills it with ``AAPL US Equity``, others with names.
SYMBOL_NAMES = ("symbol", "ticker", "stockname", "stock", "name", "tickersymbol", "code", "instrument", "ric")
# The currency of each price (LSEG's ``Currency``, Bloomberg's ``CRNCY``): one currency in a
# price file is fine, several are refused (``engine.data.prices``).
CURRENCY_NAMES = (
    "currency",
    "ccy",
    "crncy",
    "curr",
    "currencycode",
    "pricecurrency",
    "tradingcurrency",
    "quotecurrency",
)
# LSEG's "Price Close", Nasdaq.com's "Close/Last", Bloomberg's "PX_LAST" and "Last Price".
CLOSE_NAMES = (
    "close",
    "closeprice",
    "priceclose",
    "closingprice",
    "closelast",
    "lastclose",
    "pxlast",
    "lastprice",
    "price",
    "last",
)
# The adjusted close, preferred to the close: Yahoo's "Adj Close", Sharadar's "closeadj",
# R tidyquant's "adjusted" (tq_get: symbol,date,open,high,low,close,volume,adjusted), and any
# close name above with "Adj"/"Adjusted" before or after it ("Adj. Closing Price", "Adj
# Price", "PX_LAST Adj"), or "Dividend Adjusted" before it. Derived from CLOSE_NAMES so that
# no close name can be read while its adjusted version next to it is ignored (the unadjusted
# prices: a split is a -75% return). In order of preference: a close adjusted for dividends
# and splits (a total return) first, then one adjusted for splits only ("Split Adjusted
# Close"; J-Quants' "AdjustmentClose", whose adjustment is for splits and reverse splits).
TOTAL_ADJUSTED_CLOSE_NAMES = tuple(
    dict.fromkeys(
        (
            "adjclose",
            "adjustedclose",
            "adjclose1",
            "closeadj",
            "adjusted",
            "adjclosesplitdiv",  # "Adj Close (split/div)"
            *(
                f"{before}{name}{after}"
                for name in CLOSE_NAMES
                for before, after in (
                    ("adj", ""),
                    ("adjusted", ""),
                    ("", "adj"),
                    ("", "adjusted"),
                    ("dividendadjusted", ""),
                    ("divadjusted", ""),
                    ("dividendadj", ""),
                    ("divadj", ""),
                )
            ),
        )
    )
)
SPLIT_ADJUSTED_CLOSE_NAMES = tuple(
    dict.fromkeys(
        f"{before}{name}{after}"
        for name in CLOSE_NAMES
        for before, after in (
            ("splitadjusted", ""),
            ("splitadj", ""),
            ("", "splitadjusted"),
            ("", "splitadj"),
            ("adjustment", ""),
        )
    )
)
ADJUSTED_CLOSE_NAMES = TOTAL_ADJUSTED_CLOSE_NAMES + SPLIT_ADJUSTED_CLOSE_NAMES
OHLCV_NAMES = frozenset(
    {"open", "high", "low", "close", "adjclose", "volume", "dividends", "stocksplits", "capitalgains"}
)
# Price-field names of one-ticker exports (one security, its fields as columns): the OHLCV
# names, the close names above, Investing.com's "Price, Open, High, Low, Vol., Change %",
# Barchart's "Open, High, Low, Last, Change, %Chg, Volume, Open Int", Bloomberg's PX_OPEN,
# PX_HIGH, PX_LOW, PX_LAST, PX_VOLUME. A file whose every column besides the date is one of
# them, one a close, holds no ticker at all.
CLOSE_FIELD_NAMES = frozenset({*CLOSE_NAMES, *ADJUSTED_CLOSE_NAMES})
ONE_TICKER_FIELD_NAMES = (
    OHLCV_NAMES
    | CLOSE_FIELD_NAMES
    | frozenset(
        {"vol", "change", "changepct", "changepercent", "pctchange", "vwap", "trades", "turnover", "amount"}
    )
    | frozenset({"chg", "pctchg", "chgpct", "netchange", "openint", "openinterest"})
    | frozenset({"pxopen", "pxhigh", "pxlow", "pxvolume", "pxbid", "pxask", "pxmid"})
    | frozenset({"currency", "crncy", "currencycode"})  # Date,Close,Currency: USD is no ticker
)


def price_column_of(columns: Iterable[str]) -> str | None:
    """THE choice of the price column among a file's field names, for every layout (long,
    ticker-and-field columns, the Yahoo-shaped two-level header): the most preferred adjusted
    close (``ADJUSTED_CLOSE_NAMES``: a total-return one before a split-only one), else the
    close (``CLOSE_NAMES``); None when there is neither."""
    names = list(columns)
    return find_column(names, ADJUSTED_CLOSE_NAMES) or find_column(names, CLOSE_NAMES)


def adjusted_rank(name: str) -> int | None:
    """The preference of an adjusted close's name (0 best, in ``ADJUSTED_CLOSE_NAMES``'
    order); None for a name that is no adjusted close."""
    return _ADJUSTED_RANK.get(squash(name))


_ADJUSTED_RANK = {name: i for i, name in enumerate(ADJUSTED_CLOSE_NAMES)}


def find_column(columns: Iterable[str], names: Sequence[str]) -> str | None:
    """The first column whose squashed name is one of ``names`` (in the order of ``names``)."""
    by_squashed: dict[str, str] = {}
    for column in columns:
        by_squashed.setdefault(squash(column), column)
    for name in names:
        if name in by_squashed:
            return by_squashed[name]
    return None
