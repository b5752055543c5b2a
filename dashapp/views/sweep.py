"""What the Sweep page shows of a sweep result (the ``sweep-result`` Store, plain data).

The result is ``services.research.sweep``'s: ``records`` (one per configuration), ``columns``,
``grid``, ``base``, ``best``, ``n_runs``, ``n_failed``, ``deflated_sharpe``, the DSR's trial
counts (``n_trials``, ``n_distinct_trials``, ``n_effective_trials``) and labels per trial
(``trials``), ``executor``, ``elapsed_s``. The CSVs are the engine's
(``engine.sweep_export``, ``engine.walk_forward_exports``: the CLI's ``sweep --out``
files). The table is an AG Grid (``dash_ag_grid.AgGrid``); the walk-forward section's
blocks are at the end of this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

import engine
from dashapp.ui import components, forms, url_state

DEFAULT_METRIC = "sharpe"
ERROR_COLUMN = "error"
MAX_FAILED_SHOWN = 50
PERCENT_DIGITS = 2
RATIO_DIGITS = 3


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
    walk_forward: Mapping[str, Any] | None = None,
) -> str:
    """The URL query of a sweep page state (base parameters, grid, heatmap choices and the
    walk-forward settings, ``wf_folds`` ...)."""
    values: dict[str, Any] = {k: v for k, v in base.items() if k not in grid}
    values.update({url_state.GRID_PREFIX + name: list(v) for name, v in grid.items()})
    values.update({"x": x, "y": y, "metric": metric})
    values.update(walk_forward_query_values(walk_forward or {}))
    return "?" + url_state.params_to_query(values)


def entered_sweep_query(
    base: Mapping[str, Any],
    grid: Mapping[str, Any],
    heatmap: Mapping[str, Any],
    walk_forward: Mapping[str, Any] | None = None,
) -> str:
    """The URL query of a sweep that could not run: the base fields and the grid as entered
    (``grid_<param>`` of each text or multi-select that is not blank; a swept parameter's
    base value left out, as ``sweep_query`` does), the heatmap's choices and the
    walk-forward settings, invalid values included, so a reload shows the same form and
    the same error (``url_state.entered_query``)."""
    swept = {name: value for name, value in grid.items() if value not in (None, "", [], ())}
    values: dict[str, Any] = {k: base.get(k) for k in forms.FIELD_NAMES if k not in swept}
    values.update({url_state.GRID_PREFIX + name: value for name, value in swept.items()})
    values.update({key: heatmap.get(key) for key in ("x", "y", "metric")})
    values.update(walk_forward_query_values(walk_forward or {}))
    return url_state.entered_query(values)


# ----- the results -----------------------------------------------------------------------


def metric_columns(result: Mapping[str, Any]) -> list[str]:
    columns = list(result.get("columns") or [])
    return [m for m in engine.METRIC_NAMES if m in columns]


def _header(name: str) -> str:
    label = name.replace("_", " ")
    return f"{label} (%)" if name in engine.PERCENT_METRICS else label


def column_spec(name: str, grid: Mapping[str, Any]) -> dict[str, Any]:
    """One AG Grid column: swept parameters pinned left, metrics numeric (shown rounded)."""
    if name in engine.METRIC_NAMES:
        return {
            "field": name,
            "headerName": _header(name),
            "filter": "agNumberColumnFilter",
            "type": "numericColumn",
        }
    if name == ERROR_COLUMN:
        return {
            "field": name,
            "headerName": "error",
            "filter": "agTextColumnFilter",
            "cellStyle": {"color": "#b91c1c"},
        }
    numeric = name in grid and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in grid[name]
    )
    return {
        "field": name,
        "headerName": _header(name),
        "pinned": "left",
        "filter": "agNumberColumnFilter" if numeric else "agTextColumnFilter",
    }


def column_names(result: Mapping[str, Any]) -> list[str]:
    """Swept parameters first, then the metrics, then the error (if any configuration failed)."""
    grid = result.get("grid") or {}
    columns = list(result.get("columns") or [])
    ordered = [c for c in grid if c in columns or not columns]
    ordered += metric_columns(result)
    if ERROR_COLUMN in columns:
        ordered.append(ERROR_COLUMN)
    return ordered


def table_columns(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """AG Grid ``columnDefs`` of the sweep table (see ``column_spec``); a star marks the best."""
    grid = result.get("grid") or {}
    best = {
        "field": "best",
        "headerName": "best",
        "pinned": "left",
        "width": 70,
        "minWidth": 60,
        "filter": False,
    }
    return [best, *(column_spec(name, grid) for name in column_names(result))]


def _shown(name: str, value: Any) -> Any:
    """A metric as the grid shows it: percent metrics x 100, rounded (the CSV keeps full precision)."""
    if name not in engine.METRIC_NAMES or not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    if name in engine.PERCENT_METRICS:
        return round(100 * value, PERCENT_DIGITS)
    return round(value, RATIO_DIGITS)


def table_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Records with a stable text ``id`` (their position) so a click finds its configuration;
    the best configuration (highest Sharpe) has ``best: True``."""
    best = best_index(result)
    return [
        {**{k: _shown(k, v) for k, v in record.items()}, "id": str(i), "best": "★" if i == best else ""}
        for i, record in enumerate(result.get("records") or [])
    ]


def ordered_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``table_rows`` with the best configuration first (the grid's order before any sort)."""
    rows = table_rows(result)
    best = best_index(result)
    return rows if best is None else [rows[best], *rows[:best], *rows[best + 1 :]]


def clicked_row(cell: Any) -> int | None:
    """The configuration's position from the grid's ``cellClicked`` (``rowId`` = the row's ``id``)."""
    if not isinstance(cell, Mapping):
        return None
    row_id = cell.get("rowId")
    if isinstance(row_id, bool):
        return None
    if isinstance(row_id, int):
        return row_id
    if isinstance(row_id, str) and row_id.isascii() and row_id.isdigit() and len(row_id) < 9:
        return int(row_id)
    return None


def best_index(result: Mapping[str, Any]) -> int | None:
    """Position of the highest-Sharpe configuration (``services`` reports it as ``best``)."""
    best = result.get("best")
    n = len(result.get("records") or [])
    return best if isinstance(best, int) and not isinstance(best, bool) and 0 <= best < n else None


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
        ("DSR trials: configurations / distinct / effective", trial_counts(result)),
        ("Executor", executor),
    ]


TRIAL_KEYS = ("n_trials", "n_distinct_trials", "n_effective_trials")

# How the trials are counted and the best picked (README "Deflated Sharpe ratio of a sweep").
TRIALS_NOTE = (
    "Trials: configurations that ran with a Sharpe ratio; distinct: return series equal day by day "
    "up to rounding (within 1e-10) count once; effective: correlation clusters of the distinct "
    "series, the number the DSR deflates by. Sharpe ratios equal up to rounding are a tie, won by "
    "the first configuration in the table."
)


def trial_counts(result: Mapping[str, Any]) -> str:
    """``n_trials / n_distinct_trials / n_effective_trials`` (the DSR deflates by the last)."""
    values = [result.get(key) for key in TRIAL_KEYS]
    return " / ".join(
        f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else components.MISSING for v in values
    )


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


def no_best_text(result: Mapping[str, Any]) -> str | None:
    """Why there is no best configuration (and no DSR) when some ran without error, else None."""
    records = result.get("records") or []
    ran = [r for r in records if not r.get(ERROR_COLUMN)]
    if best_index(result) is not None or not ran:
        return None
    return (
        f"No best configuration and no DSR: none of the {len(ran):,} configuration(s) that ran has a "
        "Sharpe ratio (zero volatility, or fewer than 2 return days)."
    )


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


def export_csv(export: Any, result: Mapping[str, Any], info: Mapping[str, Any] | None) -> str:
    """One of a sweep's CSVs (``engine.SweepExport``: the table and lines the CLI's
    ``sweep --out`` files hold) after the standard header of every export
    (``engine.export_header``): the base parameters, swept ones marked, the data it ran
    on (``info``: ``services.source_info`` of the sweep's source; SYNTHETIC for the demo
    data), then the export's own lines and the sweep's link."""
    info = info or {}
    base = result.get("base") or {}
    header = engine.export_header(
        export.content,
        params=export.params,
        data_source=info.get("label") or "",
        synthetic=info.get("synthetic"),
        fingerprint=info.get("fingerprint") or "",
        extras={**export.extras, "link": "/sweep" + sweep_query(base, result.get("grid") or {})},
    )
    return engine.frame_to_csv(export.frame, header=header)


def sweep_csv(result: Mapping[str, Any], info: Mapping[str, Any] | None) -> str:
    """``sweep.csv`` of the stored sweep (``engine.sweep_export``: one row per
    configuration with its DSR trial labels; the grid, the DSR of the best with its trial
    counts and the executor in the header)."""
    trials = result.get("trials")
    export = engine.sweep_export(
        pd.DataFrame.from_records(list(result.get("records") or [])),
        result.get("grid") or {},
        params=result.get("base") or {},
        trials=pd.DataFrame(trials) if trials else None,
        deflated_sharpe=result.get("deflated_sharpe"),
        **{key: result.get(key) for key in TRIAL_KEYS},
        executor=result.get("executor"),
    )
    return export_csv(export, result, info)


# ----- walk-forward validation -------------------------------------------------------------

WF_SCHEMES = ("anchored", "rolling")
WF_METRICS = ("sharpe", "sortino", "cagr", "total_return")
WF_DEFAULT_FOLDS = 5
FOLD_COLUMNS = ("fold", "is_start", "is_end", "oos_start", "oos_end")
SUMMARY_METRICS = ("total_return", "cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown")


def walk_forward_inputs(
    n_folds: Any, scheme: Any, in_sample_days: Any, out_of_sample_days: Any, metric: Any
) -> dict[str, Any]:
    """The walk-forward form as ``services.research.walk_forward_settings`` takes it."""
    return {
        "n_folds": n_folds,
        "scheme": scheme,
        "in_sample_days": in_sample_days,
        "out_of_sample_days": out_of_sample_days,
        "metric": metric,
    }


def _date(value: Any) -> Any:
    return value[:10] if isinstance(value, str) else value


# A fold whose in-sample metric no configuration has (the engine holds it as cash and warns).
NO_WINNER = "none (no defined in-sample metric): held as cash"


def fold_rows(validation: Mapping[str, Any], grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per fold: dates, the winner's parameters, its IS and OOS metric, changed."""
    folds = validation.get("folds") or {}
    n = len(folds.get("fold") or [])
    rows = []
    for i in range(n):
        row: dict[str, Any] = {c: _date((folds.get(c) or [None] * n)[i]) for c in FOLD_COLUMNS}
        winner = (folds.get("winner") or [None] * n)[i]
        row["winner"] = (
            NO_WINNER
            if winner is None
            else ", ".join(f"{name}={(folds.get(name) or [None] * n)[i]}" for name in grid if name in folds)
            or str(winner)
        )
        for key in ("is_metric", "oos_metric"):
            value = (folds.get(key) or [None] * n)[i]
            row[key] = round(value, RATIO_DIGITS) if isinstance(value, float) else value
        row["winner_changed"] = "yes" if (folds.get("winner_changed") or [False] * n)[i] else ""
        rows.append(row)
    return rows


def fold_columns(metric: str) -> list[dict[str, Any]]:
    label = metric.replace("_", " ")
    names = [
        ("fold", "fold"),
        ("is_start", "IS start"),
        ("is_end", "IS end"),
        ("oos_start", "OOS start"),
        ("oos_end", "OOS end"),
        ("winner", "winner"),
        ("is_metric", f"IS {label}"),
        ("oos_metric", f"OOS {label}"),
        ("winner_changed", "changed"),
    ]
    return [{"field": f, "headerName": h} for f, h in names]


def oos_summary_rows(validation: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """``(metric, walk-forward, full-history winner, benchmark)`` on the out-of-sample days."""
    summary = validation.get("summary") or {}
    index = list(summary.get("index") or [])
    rows = []
    for metric in SUMMARY_METRICS:
        if metric not in index:
            continue
        i = index.index(metric)
        fmt = components.metric_format(metric)
        cells = [
            components.format_value((summary.get(col) or [None] * len(index))[i], fmt)
            for col in ("walk_forward", "full_history_winner", "benchmark")
        ]
        rows.append((metric.replace("_", " "), *cells))
    return rows


def winner_changes_text(validation: Mapping[str, Any]) -> str:
    n_folds = len((validation.get("folds") or {}).get("fold") or [])
    changes = int(validation.get("n_winner_changes") or 0)
    return (
        f"The in-sample winner changed {changes} time{'s' if changes != 1 else ''} "
        f"over {n_folds} fold{'s' if n_folds != 1 else ''}."
    )


PBO_LABEL = "Probability of backtest overfitting"


def pbo_rows(validation: Mapping[str, Any]) -> list[tuple[str, str]]:
    pbo = validation.get("pbo")
    if not pbo:
        # The engine's note is a whole sentence ("probability of backtest overfitting not
        # computed: ..."); beside the label, its value is what follows the label's words.
        note = str(validation.get("pbo_note") or "")
        if note.lower().startswith(PBO_LABEL.lower() + " "):
            note = note[len(PBO_LABEL) + 1 :]
        return [(PBO_LABEL, note or components.MISSING)]
    return [
        (f"{PBO_LABEL} (PBO)", components.format_value(pbo.get("pbo"), "{:.3f}")),
        (
            "Probability of loss out of sample",
            components.format_value(pbo.get("probability_of_loss"), "{:.3f}"),
        ),
        (
            "Performance degradation slope (OOS on IS)",
            components.format_value(pbo.get("degradation_slope"), "{:.3f}"),
        ),
        ("CSCV combinations", f"{int(pbo.get('n_combinations') or 0):,} ({pbo.get('n_splits')} splits)"),
        ("Configurations compared", _compared(pbo)),
    ]


def _compared(pbo: Mapping[str, Any]) -> str:
    """Distinct return series compared; identical configurations count once (as in the DSR)."""
    identical = int(pbo.get("n_identical") or 0)
    text = f"{int(pbo.get('n_configs') or 0):,} distinct"
    return text + (f" ({identical:,} with identical returns counted once)" if identical else "")


WF_EXPORTS = ("walk_forward", "walk_forward_returns")


def walk_forward_csv(
    result: Mapping[str, Any],
    validation: Mapping[str, Any],
    info: Mapping[str, Any] | None,
    kind: str = "walk_forward",
) -> str:
    """``walk_forward.csv`` (``kind`` ``walk_forward``: one row per fold; the grid, the
    settings, the winner changes, the out-of-sample summary and the PBO in the header) or
    ``walk_forward_returns.csv`` (``walk_forward_returns``: the out-of-sample daily returns)
    of a validation (``services.research.sweep_validation``), by ``engine.walk_forward_exports``."""
    summary = validation.get("summary") or {}
    frame = pd.DataFrame(summary)
    summary_frame = frame.set_index("index") if "index" in frame else frame
    folds = pd.DataFrame({c: v for c, v in (validation.get("folds") or {}).items() if c != "index"})
    returns = pd.DataFrame(
        validation.get("series") or {}, index=pd.to_datetime(validation.get("dates") or [])
    )
    exports = engine.walk_forward_exports(
        result.get("grid") or {},
        params=result.get("base") or {},
        settings=validation.get("settings") or {},
        folds=folds,
        n_winner_changes=validation.get("n_winner_changes") or 0,
        full_history_winner=validation.get("full_history_winner"),
        summary=summary_frame,
        returns=returns,
        pbo=validation.get("pbo"),
        pbo_note=validation.get("pbo_note"),
    )
    return export_csv(exports[kind], result, info)


WF_QUERY: Mapping[str, str] = {
    "n_folds": "wf_folds",
    "scheme": "wf_scheme",
    "in_sample_days": "wf_is",
    "out_of_sample_days": "wf_oos",
    "metric": "wf_metric",
}


def walk_forward_query_values(settings: Mapping[str, Any]) -> dict[str, str]:
    """``{wf_folds: "5", ...}`` of the walk-forward settings that are set (short text only)."""
    out: dict[str, str] = {}
    for key, name in WF_QUERY.items():
        value = settings.get(key)
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            # short_repr, not str(): str() of an int of more than 4,300 digits raises.
            text = value if isinstance(value, str) else engine.short_repr(value)
            if text.strip():
                out[name] = text[:20]
    return out
