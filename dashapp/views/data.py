"""What the Data page decides and shows about an upload: the reading options chosen on the
page (date order, date format, decimal mark), the hints next to the engine's refusals of
ambiguous dates and numbers, and the Yahoo download summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashapp.ui import components

DATE_ORDERS: tuple[tuple[str, str], ...] = (
    ("auto", "Detect from the file"),
    ("dayfirst", "Day first (31/01/2022)"),
    ("monthfirst", "Month first (01/31/2022)"),
)
DECIMAL_MARKS: tuple[tuple[str, str], ...] = (
    ("auto", "Detect from the file"),
    (".", "Point (1,234.56)"),
    (",", "Comma (1.234,56)"),
)
DATE_FORMAT_MAX = 40
MAX_FAILED_SHOWN = 15
# Words of the engine's refusal of a date column it cannot settle (engine/data/reading.py).
_AMBIGUOUS_DATE_WORDS = ("dayfirst", "date_format")
DATE_HINT = (
    "On this page: choose the date order (or type the exact format) under “Dates in the files” "
    "above; the files are read again at once."
)
# Words of the engine's refusal of numbers whose decimal mark it cannot settle
# (engine/data/reading.py ``detect_decimal``: "... say which with decimal='.' or decimal=','").
_AMBIGUOUS_DECIMAL_WORDS = ("decimal=",)
DECIMAL_HINT = (
    "On this page: choose the decimal mark under “Numbers in the files” above (point or comma); "
    "the files are read again at once."
)


def reading_choice(order: Any, date_format: Any, decimal: Any = None) -> dict[str, Any]:
    """``{"date_format", "dayfirst", "decimal"}`` for the engine's reading layer (its
    ``ReadOptions``) from the page's controls.

    ``order``: ``auto`` (None: the engine detects), ``dayfirst`` or ``monthfirst``;
    ``date_format``: a strftime format such as ``%d/%m/%Y`` (blank: none), which wins over
    the order when given (the engine checks it and refuses a bad one in one sentence);
    ``decimal``: ``auto`` (None: the engine detects), ``.`` or ``,`` (anything else: auto).
    """
    text = date_format.strip()[:DATE_FORMAT_MAX] if isinstance(date_format, str) else ""
    dayfirst = {"dayfirst": True, "monthfirst": False}.get(order if isinstance(order, str) else "")
    mark = decimal if decimal in (".", ",") else None
    return {"date_format": text or None, "dayfirst": dayfirst, "decimal": mark}


def needs_date_choice(message: str) -> bool:
    """Whether an engine refusal is about a date column the page's control can settle."""
    return any(word in message for word in _AMBIGUOUS_DATE_WORDS)


def needs_decimal_choice(message: str) -> bool:
    """Whether an engine refusal is about a decimal mark the page's control can settle."""
    return any(word in message for word in _AMBIGUOUS_DECIMAL_WORDS)


def reading_text(reading: Mapping[str, Any] | None, report: Mapping[str, Any] | None = None) -> str:
    """One line saying how the dates were read, when the page chose it.

    ``reading``: the page's choice (``reading_choice``); ``report``: the engine's report as
    a dict, whose reading records (``report["reading"]``, one line per file) say what was
    used. A file whose dates overruled the choice (its record says "... asked for", and a
    warning says why; ``engine.data.reading.read_dates``) is named, never said to be read
    "as chosen". Without a report the line claims only what the choice settles (the dates
    that read both ways) and points to the report.
    """
    reading = reading or {}
    if reading.get("date_format"):
        chosen, other = f"with the format {reading['date_format']}", "in their own form"
    elif isinstance(reading.get("dayfirst"), bool):
        chosen, other = ("day first", "month first") if reading["dayfirst"] else ("month first", "day first")
    else:
        return ""
    if report is None:
        settles = (
            "in the files it fits" if reading.get("date_format") else "where the files leave the order open"
        )
        return f"Dates read {chosen} {settles} (as chosen on this page); the report below says how each file was read."
    records = [str(line) for line in report.get("reading") or []]
    overruled = [line.split(":", 1)[0] for line in records if "asked for" in line]
    if not overruled:
        return f"Dates read {chosen} (as chosen on this page)."
    names = " and ".join(overruled)
    if len(overruled) == len(records):
        return f"Dates read {other}, not {chosen} as chosen on this page: the dates of {names} say so (see the warnings)."
    return f"Dates read {chosen} (as chosen on this page), except in {names}, read {other} as its dates say (see the warnings)."


def decimal_text(reading: Mapping[str, Any] | None) -> str:
    """One line saying the decimal mark chosen on the page, when one was (it applies to both
    files; the report's reading lines say how each file was read)."""
    mark = (reading or {}).get("decimal")
    if mark not in (".", ","):
        return ""
    name = "point" if mark == "." else "comma"
    return (
        f"Numbers read with a decimal {name} ({mark}), as chosen on this page, in both files; "
        "the report below says how each file was read."
    )


def yahoo_text(report: Mapping[str, Any], *, from_yahoo: bool) -> str:
    """Prices from Yahoo Finance: how many tickers were had and which failed."""
    if not from_yahoo:
        return ""
    failed = components.failed_named(report)  # with the loader's spelling hints
    priced = len(report.get("symbols") or [])
    text = f"Prices from Yahoo Finance: {priced} ticker(s) downloaded."
    if failed:
        shown = ", ".join(failed[:MAX_FAILED_SHOWN])
        if len(failed) > MAX_FAILED_SHOWN:
            shown += f" and {len(failed) - MAX_FAILED_SHOWN} more"
        text += f" No prices for {len(failed)} ticker(s), left out: {shown}."
    return text


def progress_value(done: int, total: int) -> tuple[int, str]:
    """``(percent, label)`` of the download progress bar."""
    total = max(int(total), 0)
    done = min(max(int(done), 0), total) if total else 0
    percent = round(100 * done / total) if total else 0
    return percent, f"{done}/{total} tickers"
