"""CSV exports that say how they were made and are safe to open in a spreadsheet.

A file starts with ``# key: value`` lines (nested values as JSON, one line each), then the
CSV. ``export_header`` is the one owner of those lines: every export, the CLI's ``--out``
files and the dashboard's downloads, starts with the same keys (``HEADER_KEYS``: what the
file holds, the parameters, the data source, the synthetic flag, the data fingerprint, the
engine version, the export time), then the export's own lines. ``download_filename`` is the
one rule of a download's name (kind + data fingerprint). Text cells that a
spreadsheet would evaluate as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading ``'`` (OWASP "CSV injection"); real numbers, negative ones
included, stay numbers. The one writer of the CSV exports (the CLI commands' ``--out``
files and the dashboard's downloads); a shared low module: it imports no engine layer.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine._version import __version__

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number written as text ("-1.5", "+3e-2") is data, not a formula.
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# The standard header of every CSV export, in this order (README "Downloads", docs/pages.md):
# - content: what the file holds (one sentence)
# - params: the parameters of the run (JSON)
# - data_source: the data's label (SourceInfo.label), "(SYNTHETIC)" added if it lacks it
# - synthetic: true for generated data (the demo), false for real data
# - fingerprint: the data's content hash (MarketData.fingerprint)
# - engine_version: the engine's version (engine.__version__, or the run's manifest's)
# - exported_at: when the file was written, UTC, ISO 8601 to the second
HEADER_KEYS: tuple[str, ...] = (
    "content",
    "params",
    "data_source",
    "synthetic",
    "fingerprint",
    "engine_version",
    "exported_at",
)
SYNTHETIC_MARK = "SYNTHETIC"
# A download's name: letters, digits, "_" and "-" only (no path, no quote, no space).
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_NAME_PART_MAX = 64


def export_header(
    content: str,
    *,
    params: Mapping[str, Any],
    data_source: str,
    synthetic: Any,
    fingerprint: str,
    extras: Mapping[str, Any] | None = None,
    engine_version: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The ``# key: value`` lines of a CSV export (for ``frame_to_csv``'s ``header``):
    ``HEADER_KEYS`` in that order, then ``extras`` (the export's own lines: the grid, the
    quantiles, the page's link...). ``data_source`` is the data's label
    (``SourceInfo.label``); synthetic data is labelled in every header: ``synthetic: true``
    and a label that says SYNTHETIC (`` (SYNTHETIC)`` is added to one that does not).
    ``engine_version`` defaults to this engine's; ``now`` (the export time) to the current
    UTC time. Raises ``ValueError`` (a programming error, not bad input) when the
    fingerprint is empty or an extra reuses a standard key."""
    if not isinstance(fingerprint, str) or not fingerprint.strip():
        raise ValueError("an export must name its data's fingerprint")
    clash = sorted(set(extras or {}) & set(HEADER_KEYS))
    if clash:
        raise ValueError(f"export extras reuse the standard header keys {', '.join(clash)}")
    flag = synthetic.strip().lower() == "true" if isinstance(synthetic, str) else bool(synthetic)
    label = str(data_source or "").strip() or "unknown data source"
    if flag and SYNTHETIC_MARK not in label.upper():
        label = f"{label} ({SYNTHETIC_MARK})"
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    header = {
        "content": content,
        "params": dict(params),
        "data_source": label,
        "synthetic": flag,
        "fingerprint": fingerprint,
        "engine_version": engine_version or __version__,
        "exported_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {**header, **(extras or {})}


def manifest_header(
    content: str,
    manifest: Mapping[str, Any],
    *,
    extras: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """``export_header`` of a run's manifest (``Manifest.to_dict()`` or its plain copy in
    a cache or store: ``params``, ``data_source``, ``synthetic``, ``fingerprint``,
    ``version``): the engine version is the one that made the run."""
    return export_header(
        content,
        params=manifest.get("params") or {},
        data_source=manifest.get("data_source") or "",
        synthetic=manifest.get("synthetic"),
        fingerprint=manifest.get("fingerprint") or "",
        engine_version=manifest.get("version") or None,
        extras=extras,
        now=now,
    )


def download_filename(kind: str, fingerprint: str | None, extension: str = "csv") -> str:
    """The name of a download: ``<kind>_<fingerprint>.<extension>`` (``sweep_06c7c6faf74e8386.csv``),
    every character other than a letter, digit, ``_`` or ``-`` replaced by ``_`` and each
    part cut to 64 characters; ``nodata`` stands for a missing fingerprint."""
    parts = [_UNSAFE_NAME.sub("_", str(p or "")).strip("_")[:_NAME_PART_MAX] for p in (kind, fingerprint)]
    suffix = _UNSAFE_NAME.sub("", extension)[:8] or "csv"
    return f"{parts[0] or 'export'}_{parts[1] or 'nodata'}.{suffix}"


def neutralise(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula (then ``'`` + it)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def header_lines(header: Mapping[str, Any]) -> str:
    """``# key: value`` lines (one per key, newlines flattened), each made safe by
    ``safe_comment_line``."""
    lines = []
    for key, value in header.items():
        text = value if isinstance(value, str) else json.dumps(_jsonable(value), sort_keys=True, default=str)
        lines.append(safe_comment_line(f"# {_one_line(str(key))}: {_one_line(text)}") + "\n")
    return "".join(lines)


# Spreadsheets split a CSV line into cells at the comma, or at the semicolon in locales
# whose decimal mark is a comma (most of Europe): a comment line is cut at both.
_CELL_BREAK = re.compile(r"([,;])")


def safe_comment_line(line: str) -> str:
    """``line`` with every cell a spreadsheet would see made inert.

    A comment line is still split into cells at its commas (or semicolons): a value such
    as ``",=cmd|..."`` would put a live formula in the second cell. Each cell after a
    separator gets the cell rule (``neutralise``), and a cell that starts with a double
    quote gets a ``'`` too, so that it cannot open a quoted field that swallows the
    following lines. JSON values are written with ``", "`` separators, so their own cells
    start with a space and stay unchanged.
    """
    first, *rest = _CELL_BREAK.split(line)  # [cell, sep, cell, sep, cell, ...]
    safe = [
        part if i % 2 == 0 else ("'" + part) if part.startswith('"') else neutralise(part)
        for i, part in enumerate(rest)  # even i: a separator, odd i: the cell after it
    ]
    return first + "".join(safe)


def frame_to_csv(frame: pd.DataFrame, *, header: Mapping[str, Any], index_label: str | None = None) -> str:
    """The CSV text of ``frame`` after ``header_lines(header)``: dates as ``YYYY-MM-DD``,
    text cells and column names inert, a number that is not finite (NaN, +-inf: an undefined
    metric, a CAGR too large for a float) an empty cell, as JSON's ``null`` and the
    dashboard's "n/a"; the index is written (named ``index_label`` or its own name) unless
    it is a plain RangeIndex."""
    table = frame
    if not isinstance(frame.index, pd.RangeIndex):
        table = frame.reset_index(names=index_label or frame.index.name or "index")
    table = table.copy()
    table.columns = [neutralise(str(c)) for c in table.columns]
    for column in table.columns:
        series = table[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            table[column] = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(series):
            table[column] = series.where(np.isfinite(series))
        elif not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            table[column] = series.astype(object).map(_finite_or_none).map(neutralise)
    return header_lines(header) + table.to_csv(index=False, lineterminator="\n")


def records_to_csv(
    records: list[Mapping[str, Any]], columns: list[str] | None = None, *, header: Mapping[str, Any]
) -> str:
    """``frame_to_csv`` for plain records (what caches and dashboard stores hold). Plain
    records hold a date as its ISO text (``2022-01-03T00:00:00``, JSON has no date): a
    column of nothing but such midnight stamps is a date column, written ``YYYY-MM-DD``
    as ``frame_to_csv`` writes dates (the dashboard's walk_forward.csv had the stamps
    where the CLI's file has dates)."""
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in frame.columns:
        values = frame[column].dropna()
        textual = frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column])
        if len(values) and textual and values.map(_is_midnight_stamp).all():
            frame[column] = frame[column].map(lambda v: v[:10] if isinstance(v, str) else v)
    return frame_to_csv(frame, header=header)


_MIDNIGHT_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T00:00:00")


def _is_midnight_stamp(value: Any) -> bool:
    return isinstance(value, str) and _MIDNIGHT_STAMP.fullmatch(value) is not None


def write_csv(
    path: Path, frame: pd.DataFrame, *, header: Mapping[str, Any], index_label: str | None = None
) -> Path:
    """``frame_to_csv`` written to ``path`` (UTF-8); returns ``path``."""
    path.write_text(frame_to_csv(frame, header=header, index_label=index_label), encoding="utf-8")
    return path


def _finite_or_none(value: Any) -> Any:
    """A float cell that is not finite (in a column of mixed cells) as ``None`` (empty)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


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
