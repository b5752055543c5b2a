"""The result of one backtest and its plain-data (JSON-able) form for caches, stores and exports."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
import pandas as pd

from engine._version import __version__
from engine.data.types import SourceInfo

# What each CSV of a backtest holds: the ``content`` line of its header (engine.export),
# the same in the CLI's --out files and the Backtest page's downloads.
BACKTEST_EXPORT_CONTENT: Mapping[str, str] = MappingProxyType(
    {
        "returns": "daily simple returns (net of costs)",
        "holdings": "holdings per period (target weights at entry)",
        "periods": "holding periods: formation_end (last day of the signal's period), entry_date "
        "(close bought at), period_start/period_end (days held), turnover, cost",
    }
)


class _Described(Protocol):
    """What a manifest reads of a data set: ``MarketData`` and ``PreparedData`` both have it."""

    @property
    def source(self) -> SourceInfo: ...

    @property
    def fingerprint(self) -> str: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class Manifest:
    """Everything needed to reproduce a run."""

    params: Mapping[str, Any]  # StrategyParams.to_dict()
    data_source: str  # SourceInfo.label
    synthetic: bool
    fingerprint: str  # MarketData.fingerprint
    version: str  # engine.__version__

    @classmethod
    def of(cls, params: Mapping[str, Any], data: _Described, *, source: SourceInfo | None = None) -> Manifest:
        """The manifest of a run of ``params`` (``StrategyParams.to_dict()``) on ``data``
        (``MarketData`` or ``PreparedData``: its fingerprint), labelled with ``source``
        (default: the data's own) and this engine's version."""
        source = source or data.source
        return cls(
            params=params,
            data_source=source.label,
            synthetic=source.synthetic,
            fingerprint=data.fingerprint,
            version=__version__,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": dict(self.params),
            "data_source": self.data_source,
            "synthetic": self.synthetic,
            "fingerprint": self.fingerprint,
            "version": self.version,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class BacktestResult:
    """Outcome of one backtest.

    - ``returns``: index ``date`` (trading days of the backtest), columns ``portfolio``
      (net of costs), ``benchmark`` (buy and hold of ``params.benchmark``) and
      ``universe`` (equal weight of every symbol eligible that period); daily simple returns.
    - ``holdings``: one row per (period, symbol): ``period_start``, ``period_end``,
      ``symbol``, ``weight`` (target weight at entry), ``signal``, ``rank`` (1 = best),
      ``likes``, ``comments`` (formation-period sums).
    - ``periods``: one row per holding period: ``period_start``, ``period_end``,
      ``formation_end`` (last day of the signal's period), ``entry_date`` (close bought at),
      ``n_eligible`` (symbols with a signal and a close on the entry day), ``n_selected``,
      ``turnover`` (one-way traded fraction), ``cost``.
      An entry whose close is the last day of the data (no holding day after it yet) has
      its row and its holdings, with ``period_start`` and ``period_end`` NaT; its cost is
      charged on the first day after the entry, so no return includes it yet.
    - ``metrics``: ``METRIC_NAMES`` of the portfolio against the benchmark;
      ``benchmark_metrics``: the same for the benchmark itself (beta 1, alpha 0, ...);
      ``universe_metrics``: the same for the eligible-universe benchmark.
    - ``drawdown``: ``peak``, ``trough``, ``recovery`` ISO dates of the portfolio's max
      drawdown (``recovery`` None when not recovered).
    """

    returns: pd.DataFrame
    holdings: pd.DataFrame
    periods: pd.DataFrame
    metrics: Mapping[str, float]
    benchmark_metrics: Mapping[str, float]
    universe_metrics: Mapping[str, float]
    drawdown: Mapping[str, str | None]
    warnings: tuple[str, ...]
    manifest: Manifest

    def __post_init__(self) -> None:
        for name in ("metrics", "benchmark_metrics", "universe_metrics", "drawdown"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


# ----- plain-data form (JSON-able): what caches, dcc.Store and CSV exports hold -----


def holdings_with_dates(holdings: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """``holdings`` with each row's period ``formation_end`` and ``entry_date`` (from
    ``periods``, matched on ``period_start``; a pending entry's rows, whose period_start
    is NaT, match its NaT row), placed after ``period_end``: what the holdings exports
    write (the CLI's holdings.csv and the Backtest page's download). ``holdings`` as is
    when either frame lacks the columns."""
    dates = [c for c in ("formation_end", "entry_date") if c in periods.columns]
    if (
        holdings.empty
        or "period_start" not in holdings.columns
        or "period_start" not in periods.columns
        or not dates
    ):
        return holdings
    lookup = periods[["period_start", *dates]].drop_duplicates("period_start")
    frame = holdings.merge(lookup, on="period_start", how="left")
    order = [c for c in ("period_start", "period_end", *dates) if c in frame.columns]
    return frame[[*order, *[c for c in frame.columns if c not in order]]]


def _frame_to_plain(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Column-oriented dict; datetimes as ISO dates, NaN as None."""
    out: dict[str, list[Any]] = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            out[str(name)] = [None if pd.isna(v) else v.date().isoformat() for v in column]
        else:
            out[str(name)] = [None if _is_missing(v) else _to_builtin(v) for v in column.tolist()]
    return out


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _to_builtin(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _plain_to_frame(data: Mapping[str, list[Any]], date_columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame({k: list(v) for k, v in data.items()})
    for name in date_columns:
        if name in frame.columns:
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
    return frame


_PERIOD_DATE_COLUMNS = ("period_start", "period_end", "formation_end", "entry_date")


def result_to_plain(result: BacktestResult) -> dict[str, Any]:
    """JSON-able dict of a result (the form cached by the dashboard). Inverse: ``result_from_plain``."""
    returns = result.returns.reset_index()
    returns = returns.rename(columns={returns.columns[0]: "date"})
    return {
        "returns": _frame_to_plain(returns),
        "holdings": _frame_to_plain(result.holdings),
        "periods": _frame_to_plain(result.periods),
        "metrics": dict(result.metrics),
        "benchmark_metrics": dict(result.benchmark_metrics),
        "universe_metrics": dict(result.universe_metrics),
        "drawdown": dict(result.drawdown),
        "warnings": list(result.warnings),
        "manifest": result.manifest.to_dict(),
    }


def result_from_plain(data: Mapping[str, Any]) -> BacktestResult:
    returns = _plain_to_frame(data["returns"], ("date",)).set_index("date")
    returns = returns.astype(np.float64)  # a column of missing days (None) is still float NaN
    manifest = data["manifest"]
    return BacktestResult(
        returns=returns,
        holdings=_plain_to_frame(data["holdings"], _PERIOD_DATE_COLUMNS),
        periods=_plain_to_frame(data["periods"], _PERIOD_DATE_COLUMNS),
        metrics=data["metrics"],
        benchmark_metrics=data["benchmark_metrics"],
        universe_metrics=data["universe_metrics"],
        drawdown=data["drawdown"],
        warnings=tuple(data["warnings"]),
        manifest=Manifest(**manifest),
    )
