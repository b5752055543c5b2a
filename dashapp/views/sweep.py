"""What the Sweep page shows of a sweep result (the ``sweep-result`` Store, plain data).

The result is ``services.sweep``'s: ``records`` (one per configuration), ``columns``,
``grid``, ``base``, ``best``, ``n_runs``, ``n_failed``, ``deflated_sharpe``, ``executor``,
``elapsed_s``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from dash import dash_table

import engine
from dashapp.ui import components, csv_export, forms, url_state

DEFAULT_METRIC = "sharpe"
ERROR_COLUMN = "error"
MAX_FAILED_SHOWN = 50
ERROR_STYLE: Mapping[str, Any] = MappingProxyType(
    {"if": {"filter_query": "{error} != ''", "column_id": ERROR_COLUMN}, "color": "#b91c1c"}
)


# ----- the form --------------------------------------------------------------------------


def read_grid(grid_values: Mapping[str, Any]) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Parsed grid and ``{param: message}`` for each invalid grid input (never raises)."""
    grid: dict[str, list[Any]] = {}
    errors: dict[str, str] = {}
    for name in forms.SWEEPABLE:
        try:
            values = forms.parse_grid_values(name, grid_values.get(name))
        except engine.ParameterError as exc:
            errors[name] = str(exc)
            continue
        if values:
            grid[name] = values
    return grid, errors


def grid_status(grid: Mapping[str, Sequence[Any]], n_problems: int) -> tuple[str, bool]:
    """The line under Run (how many configurations, or what to fix) and whether it can run."""
    count = engine.grid_size(grid) if grid else 0
    limit = engine.MAX_SWEEP_CONFIGS
    if n_problems:
        return f"Fix {n_problems} field{'s' if n_problems > 1 else ''} to run.", False
    if not grid:
        return "Give at least one parameter some values to try.", False
    if count > limit:
        return f"{count} configurations: more than the limit of {limit}.", False
    return f"{count} configuration{'s' if count != 1 else ''} to run.", True


def sweep_query(
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    x: Any = None,
    y: Any = None,
    metric: Any = None,
) -> str:
    """The URL query of a sweep page state (base parameters, grid, heatmap choices)."""
    values: dict[str, Any] = {k: v for k, v in base.items() if k not in grid}
    values.update({url_state.GRID_PREFIX + name: list(v) for name, v in grid.items()})
    values.update({"x": x, "y": y, "metric": metric})
    return "?" + url_state.params_to_query(values)


# ----- the results -----------------------------------------------------------------------


def metric_columns(result: Mapping[str, Any]) -> list[str]:
    columns = list(result.get("columns") or [])
    return [m for m in engine.METRIC_NAMES if m in columns]


def column_spec(name: str, grid: Mapping[str, Any]) -> dict[str, Any]:
    if name in engine.METRIC_NAMES:
        fmt = (
            dash_table.FormatTemplate.percentage(2)
            if name in engine.PERCENT_METRICS
            else dash_table.Format.Format(precision=3, scheme=dash_table.Format.Scheme.fixed)
        )
        return {"name": name.replace("_", " "), "id": name, "type": "numeric", "format": fmt}
    numeric = name in grid and all(isinstance(v, (int, float)) for v in grid[name])
    return {"name": name.replace("_", " "), "id": name, "type": "numeric" if numeric else "text"}


def table_columns(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Swept parameters first, then the metrics, then the error (if any configuration failed)."""
    grid = result.get("grid") or {}
    columns = list(result.get("columns") or [])
    ordered = [c for c in grid if c in columns or not columns]
    ordered += metric_columns(result)
    if ERROR_COLUMN in columns:
        ordered.append(ERROR_COLUMN)
    return [column_spec(name, grid) for name in ordered]


def table_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Records with a stable ``id`` (their position) so a click finds its configuration."""
    return [{**record, "id": i} for i, record in enumerate(result.get("records") or [])]


def best_index(result: Mapping[str, Any]) -> int | None:
    """Position of the highest-Sharpe configuration (``services`` reports it as ``best``)."""
    best = result.get("best")
    n = len(result.get("records") or [])
    return best if isinstance(best, int) and not isinstance(best, bool) and 0 <= best < n else None


def table_styles(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Failed configurations' error in red; the best configuration's row highlighted."""
    styles: list[dict[str, Any]] = [dict(ERROR_STYLE)]
    best = best_index(result)
    if best is not None:
        styles.append(
            {"if": {"filter_query": f"{{id}} = {best}"}, "backgroundColor": "#dbeafe", "fontWeight": "600"}
        )
    return styles


def axis_options(result: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"label": name.replace("_", " "), "value": name} for name in result.get("grid") or {}]


def summary_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Configurations run and failed, the Deflated Sharpe Ratio, the executor and the time."""
    n_runs = int(result.get("n_runs") or len(result.get("records") or []))
    elapsed = result.get("elapsed_s")
    executor = str(result.get("executor") or "")
    if isinstance(elapsed, (int, float)):
        executor += f" ({elapsed:.1f} s)"
    return [
        ("Configurations run", f"{n_runs:,}"),
        ("Failed", f"{int(result.get('n_failed') or 0):,}"),
        (
            "Deflated Sharpe ratio of the best configuration",
            components.format_value(result.get("deflated_sharpe"), "{:.3f}"),
        ),
        ("Executor", executor),
    ]


def best_summary(result: Mapping[str, Any]) -> dict[str, str] | None:
    """``{label, sharpe, href}`` of the best configuration, or None."""
    best = best_index(result)
    if best is None:
        return None
    record = result["records"][best]
    return {
        "label": ", ".join(f"{name}={record.get(name)}" for name in result.get("grid") or {}),
        "sharpe": components.format_value(record.get("sharpe"), "ratio"),
        "href": url_state.with_search("/", config_params(result, best) or {}),
    }


def failed_lines(result: Mapping[str, Any]) -> tuple[list[tuple[str, str]], int]:
    """``(configuration, error)`` of the first failed configurations, and how many failed."""
    grid = result.get("grid") or {}
    failed = [r for r in result.get("records") or [] if r.get(ERROR_COLUMN)]
    shown = [
        (", ".join(f"{k}={r.get(k)}" for k in grid), str(r[ERROR_COLUMN])) for r in failed[:MAX_FAILED_SHOWN]
    ]
    return shown, len(failed)


def heatmap_axes(result: Mapping[str, Any], x: Any, y: Any) -> tuple[str | None, str | None]:
    """The chosen axes when they are swept parameters, else the first two swept parameters."""
    names = list(result.get("grid") or {})
    if not names:
        return None, None
    x = x if x in names else names[0]
    y = y if y in names else (next((n for n in names if n != x), x))
    return x, y


def config_params(result: Mapping[str, Any], row_id: Any) -> dict[str, Any] | None:
    """Full parameters of one configuration: the base with the row's swept values."""
    records = result.get("records") or []
    if not isinstance(row_id, int) or not 0 <= row_id < len(records):
        return None
    record = records[row_id]
    params = dict(result.get("base") or {})
    params.update({name: record.get(name) for name in result.get("grid") or {} if name in record})
    return params


def sweep_csv(result: Mapping[str, Any]) -> str:
    columns = [c["id"] for c in table_columns(result)]
    extra = [c for c in result.get("columns") or [] if c not in columns]
    header = {
        "content": "parameter sweep: one row per configuration",
        "base_params": result.get("base") or {},
        "grid": result.get("grid") or {},
        "deflated_sharpe": result.get("deflated_sharpe"),
        "executor": result.get("executor") or "",
        "link": "/sweep" + sweep_query(result.get("base") or {}, result.get("grid") or {}),
    }
    return csv_export.records_to_csv(list(result.get("records") or []), columns + extra, header=header)
