"""What a sweep's CSV exports hold: the one owner of their tables and header lines.

The CLI's ``sweep --out`` files and the Sweep page's downloads are built here, so they hold
the same columns under the same names (README "Every CSV export", docs/pages.md):

- ``sweep`` (``sweep.csv``): one row per configuration: the swept parameters, the metrics
  (``METRIC_NAMES``), ``error``, then the Deflated Sharpe Ratio's labels of each trial,
  ``return_series`` (configurations with the same daily returns share one: counted once)
  and ``trial_cluster`` (the correlation cluster of that series: the DSR's effective
  trials), empty for a row that is no trial (failed, or no Sharpe ratio). Header lines:
  ``grid``, ``deflated_sharpe``, ``n_trials``, ``n_distinct_trials``,
  ``n_effective_trials``, ``executor``.
- ``walk_forward`` (``walk_forward.csv``): one row per fold. Header lines: ``grid``,
  ``walk_forward`` (the settings), ``n_winner_changes``, ``full_history_winner``, the
  out-of-sample summary, one line per series (``oos_walk_forward``,
  ``oos_full_history_winner``, ``oos_benchmark``: every metric on the out-of-sample days),
  and the PBO: ``pbo``, ``pbo_splits``, ``pbo_probability_of_loss``,
  ``pbo_degradation_slope``, ``pbo_combinations``, ``pbo_configs`` (distinct return
  series compared), ``pbo_identical`` (configurations repeating one, counted once); when
  no PBO was computed, ``pbo_note`` says why.
- ``walk_forward_returns`` (``walk_forward_returns.csv``): the out-of-sample days'
  daily simple returns: ``date``, ``walk_forward`` (the stitched series),
  ``full_history_winner``, ``benchmark``.

Every file's ``params`` line holds the base parameters with each swept one given as
``SWEPT`` (``"swept: see grid"``): its base value applies to no row (``export_params``).
The files are written by ``engine.export`` (``frame_to_csv``: formula-injection safe).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pandas as pd

from engine.analytics.metrics import METRIC_NAMES

# What each CSV of a sweep holds: the ``content`` line of its header (engine.export).
SWEEP_EXPORT_CONTENT: Mapping[str, str] = MappingProxyType(
    {
        "sweep": "parameter sweep: one row per configuration",
        "walk_forward": "walk-forward validation of a parameter sweep: one row per fold",
        "walk_forward_returns": (
            "walk-forward validation of a parameter sweep: daily simple returns on the out-of-sample days"
        ),
    }
)
# The CLI's file name of each export (the page's download: <kind>_<fingerprint>.csv).
SWEEP_EXPORT_FILES: Mapping[str, str] = MappingProxyType(
    {kind: f"{kind}.csv" for kind in SWEEP_EXPORT_CONTENT}
)
SWEPT = "swept: see grid"
TRIAL_COLUMNS: tuple[str, ...] = ("return_series", "trial_cluster")
FOLD_DATE_COLUMNS: tuple[str, ...] = ("is_start", "is_end", "oos_start", "oos_end")
OOS_SERIES: tuple[str, ...] = ("walk_forward", "full_history_winner", "benchmark")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepExport:
    """One CSV of a sweep: ``content`` (its header's sentence), ``params`` (the base
    parameters, swept ones marked: ``export_params``), ``extras`` (its own header lines,
    after the standard ones) and ``frame`` (the table)."""

    content: str
    params: dict[str, Any]
    extras: dict[str, Any]
    frame: pd.DataFrame


def export_params(params: Mapping[str, Any], grid: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with each swept parameter's value replaced by ``SWEPT``: its base value
    applies to no configuration (``top_n: 5`` beside a grid of top_n 1, 2, 3 read as if
    the table were for top_n 5)."""
    return {name: (SWEPT if name in grid else value) for name, value in params.items()}


def _grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    return {name: list(values) for name, values in grid.items()}


def sweep_export(
    table: pd.DataFrame,
    grid: Mapping[str, Sequence[Any]],
    *,
    params: Mapping[str, Any],
    trials: pd.DataFrame | None,
    deflated_sharpe: float | None,
    n_trials: int | None,
    n_distinct_trials: int | None,
    n_effective_trials: int | None,
    executor: str | None,
) -> SweepExport:
    """``sweep.csv`` of a sweep's ``table`` (``SweepResult.table``, or its records: one row
    per configuration, in order) and ``trials`` (``SweepResult.trials``: ``row``,
    ``return_series``, ``trial_cluster``)."""
    columns = [*grid, *METRIC_NAMES, "error"]
    frame = table.reset_index(drop=True).reindex(columns=columns)
    labels = trials if trials is not None else pd.DataFrame(columns=["row", *TRIAL_COLUMNS])
    for name in TRIAL_COLUMNS:
        by_row = dict(zip(labels["row"].tolist(), labels[name].tolist(), strict=True))
        frame[name] = pd.array([by_row.get(i) for i in range(len(frame))], dtype="Int64")
    extras = {
        "grid": _grid(grid),
        "deflated_sharpe": deflated_sharpe,
        "n_trials": n_trials,
        "n_distinct_trials": n_distinct_trials,
        "n_effective_trials": n_effective_trials,
        "executor": executor or "",
    }
    return SweepExport(
        content=SWEEP_EXPORT_CONTENT["sweep"], params=export_params(params, grid), extras=extras, frame=frame
    )


def _walk_forward_extras(
    grid: Mapping[str, Sequence[Any]], settings: Mapping[str, Any], full_history_winner: Any
) -> dict[str, Any]:
    return {"grid": _grid(grid), "walk_forward": dict(settings), "full_history_winner": full_history_winner}


def walk_forward_exports(
    grid: Mapping[str, Sequence[Any]],
    *,
    params: Mapping[str, Any],
    settings: Mapping[str, Any],
    folds: pd.DataFrame,
    n_winner_changes: int,
    full_history_winner: Any,
    summary: pd.DataFrame,
    returns: pd.DataFrame,
    pbo: Mapping[str, Any] | None,
    pbo_note: str | None,
) -> dict[str, SweepExport]:
    """``walk_forward.csv`` and ``walk_forward_returns.csv`` (by kind) of a sweep's
    validation: ``settings`` (``WalkForwardSettings`` as a mapping), ``folds``
    (``WalkForwardResult.folds``; dates as dates or ISO text), ``summary`` (metrics x
    series), ``returns`` (``WalkForwardResult.oos_returns_frame()``: the out-of-sample
    days x series), ``pbo`` (``PBOResult.to_dict()``, None when not computed: ``pbo_note``)."""
    marked = export_params(params, grid)
    table = folds.copy()
    for column in FOLD_DATE_COLUMNS:
        if column in table:
            table[column] = pd.to_datetime(table[column])
    extras = _walk_forward_extras(grid, settings, full_history_winner)
    extras["n_winner_changes"] = n_winner_changes
    for series in OOS_SERIES:
        if series in summary.columns:
            extras[f"oos_{series}"] = {m: summary.at[m, series] for m in METRIC_NAMES if m in summary.index}
    pbo = pbo or {}
    extras.update(
        {
            "pbo": pbo.get("pbo"),
            "pbo_splits": pbo.get("n_splits"),
            "pbo_probability_of_loss": pbo.get("probability_of_loss"),
            "pbo_degradation_slope": pbo.get("degradation_slope"),
            "pbo_combinations": pbo.get("n_combinations"),
            "pbo_configs": pbo.get("n_configs"),
            "pbo_identical": pbo.get("n_identical"),
        }
    )
    if not pbo and pbo_note:
        extras["pbo_note"] = pbo_note
    daily = returns.reindex(columns=[s for s in OOS_SERIES if s in returns.columns])
    daily.index = pd.DatetimeIndex(pd.to_datetime(daily.index), name="date")
    return {
        "walk_forward": SweepExport(
            content=SWEEP_EXPORT_CONTENT["walk_forward"], params=marked, extras=extras, frame=table
        ),
        "walk_forward_returns": SweepExport(
            content=SWEEP_EXPORT_CONTENT["walk_forward_returns"],
            params=marked,
            extras=_walk_forward_extras(grid, settings, full_history_winner),
            frame=daily,
        ),
    }


__all__ = [
    "FOLD_DATE_COLUMNS",
    "OOS_SERIES",
    "SWEEP_EXPORT_CONTENT",
    "SWEEP_EXPORT_FILES",
    "SWEPT",
    "TRIAL_COLUMNS",
    "SweepExport",
    "export_params",
    "sweep_export",
    "walk_forward_exports",
]
