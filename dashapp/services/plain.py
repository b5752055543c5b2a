"""Engine results as plain, JSON-able data (what Stores, caches and figures take)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

import engine


def to_plain(value: Any) -> Any:
    """JSON-able copy: dataclasses and mappings -> dict, frames -> column dicts, NaN -> None."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return to_plain(value.item())
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.DataFrame):
        frame = value if isinstance(value.index, pd.RangeIndex) else value.reset_index()
        return {str(c): [to_plain(v) for v in frame[c].tolist()] for c in frame.columns}
    if isinstance(value, pd.Series):
        return {str(k): to_plain(v) for k, v in value.items()}
    if callable(getattr(value, "to_dict", None)) and not isinstance(value, Mapping):
        return to_plain(value.to_dict())  # engine results with their own plain form
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [to_plain(v) for v in value]
    return str(value)


def report_to_plain(report: engine.ValidationReport) -> dict[str, Any]:
    """JSON-able form of a ``ValidationReport`` (tuples become lists)."""
    return {
        "rows_read": int(report.rows_read),
        "rows_kept": int(report.rows_kept),
        "dropped": [
            {
                "reason": d.reason,
                "count": int(d.count),
                "examples": list(d.examples),
                "unit": d.unit,
                "file": d.file,
            }
            for d in report.dropped
        ],
        "warnings": list(report.warnings),
        "symbols": list(report.symbols),
        "failed_tickers": list(report.failed_tickers),
        "first_date": report.first_date,
        "last_date": report.last_date,
        "reading": [r.describe() for r in report.reading],  # how each file was read
        # [[failed symbol, the spelling the data has], ...]; read back by ui.components.failed_named
        "spelling_hints": [[asked, hint] for asked, hint in report.spelling_hints],
        "price_quality": list(report.price_quality),  # repeated in every results page's notes
    }


def sweep_to_plain(result: engine.SweepResult, base: engine.StrategyParams) -> dict[str, Any]:
    """``columns``, ``records`` (one per configuration), ``deflated_sharpe``, ``executor``,
    ``n_runs``, ``n_failed``, ``best`` (row of the best Sharpe), ``elapsed_s``, ``base``
    (validated base parameters), ``grid`` and ``warnings`` (for the whole table) of a
    ``SweepResult``."""
    table = result.table
    return {
        "columns": [str(c) for c in table.columns],
        "records": to_plain(table.to_dict("records")),
        "deflated_sharpe": to_plain(result.deflated_sharpe),
        "executor": result.executor,
        "n_runs": len(table),
        "n_failed": int(result.n_failed),
        "best": result.best,
        "elapsed_s": to_plain(result.elapsed_s),
        "base": base.to_dict(),
        "grid": to_plain(result.grid),
        "warnings": list(result.warnings),
    }
