"""Sweep page (``/sweep``): run a grid of strategy configurations, compare them, open one.

The sweep runs as a Dash background callback (the diskcache manager of the app): the
browser polls its progress (configs done / total) and Cancel stops the job. Results
(plain records, never figures) are kept in the ``sweep-result`` Store of this browser
tab; the heatmap and the table are drawn from it. Clicking a row opens that
configuration on the Backtest page (``/?<its parameters>``), which runs it at once.

URL state: the base parameters, ``grid_<param>=v1,v2`` for each swept parameter and the
heatmap's ``x``, ``y`` and ``metric``. A link with a grid prefills the page and runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update, register_page

import engine
from dashapp import components, csv_export, figures, forms, services, url_state
from dashapp.store_shapes import ACTIVE_CELL, SWEEP_RESULT, read_store

log = logging.getLogger(__name__)

register_page(__name__, path="/sweep", name="Sweep", title="Sweep · Sentiment Portfolio Lab", order=2)

PREFIX = "sweep"
SESSION_SOURCE = "session-source"
DEFAULT_GRID: Mapping[str, str | tuple[str, ...]] = MappingProxyType(
    {"top_n": "3, 5, 10", "weighting": ("equal", "inverse_volatility")}
)
DEFAULT_METRIC = "sharpe"
PERCENT_METRICS = frozenset(
    {
        "total_return",
        "cagr",
        "annual_volatility",
        "max_drawdown",
        "alpha",
        "tracking_error",
        "hit_rate",
        "avg_turnover",
    }
)
GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType({"displaylogo": False, "responsive": True})
ERROR_COLUMN = "error"


def _grid_ids() -> list[str]:
    return [forms.field_id(PREFIX, f"grid-{name}") for name in forms.SWEEPABLE]


def _is_text(name: str) -> bool:
    """Numeric parameters are typed as comma lists (can be invalid); choices are multi-selects."""
    return name not in forms.CHOICE_FIELDS


def _base_inputs(kind: type) -> list[Any]:
    return [kind(forms.field_id(PREFIX, name), "value") for name in forms.FIELD_NAMES]


def _grid_inputs(kind: type) -> list[Any]:
    return [kind(ident, "value") for ident in _grid_ids()]


# ----------------------------------------------------------------- layout


def layout(**query: Any) -> html.Div:
    params, messages = url_state.read_query(query)
    grid_text = url_state.grid_from_query(query, forms.SWEEPABLE)
    raw = url_state.query_values(query)
    autorun = bool(grid_text)
    grid_values = grid_text if grid_text else DEFAULT_GRID
    link_notes = (
        dbc.Alert(
            [
                html.Strong("Some settings in the link were ignored"),
                html.Ul([html.Li(m) for m in messages], className="mb-0"),
            ],
            color="warning",
            className="small",
        )
        if messages
        else None
    )
    controls = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H5("Sweep", className="card-title me-auto mb-0"),
                        dbc.Button(
                            "Run sweep", id=f"{PREFIX}-run", color="primary", size="sm", className="me-1"
                        ),
                        dbc.Button(
                            "Cancel",
                            id=f"{PREFIX}-cancel",
                            color="danger",
                            outline=True,
                            size="sm",
                            disabled=True,
                        ),
                    ],
                    className="d-flex align-items-center mb-2",
                ),
                html.Div(id=f"{PREFIX}-grid-size", className="small text-muted mb-1", role="status"),
                dbc.Progress(
                    id=f"{PREFIX}-progress",
                    value=0,
                    label="",
                    striped=True,
                    animated=True,
                    className="mb-2",
                    style={"height": "1.25rem"},
                ),
                link_notes,
                html.H6("Values to try", className="mt-2"),
                html.P(
                    "Comma-separated values (or a multi-select); leave empty to keep the base value.",
                    className="small text-muted mb-1",
                ),
                dbc.Row(
                    [forms.grid_control(PREFIX, name, grid_values.get(name)) for name in forms.SWEEPABLE],
                    className="g-2",
                ),
                dbc.Accordion(
                    [
                        dbc.AccordionItem(
                            forms.strategy_form(PREFIX, params), title="Base parameters (not swept)"
                        ),
                    ],
                    start_collapsed=True,
                    className="mt-2",
                ),
            ]
        ),
        className="spl-form-card shadow-sm",
    )
    heatmap_controls = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Columns", html_for=f"{PREFIX}-x", className="small mb-0"),
                    dbc.Select(id=f"{PREFIX}-x", size="sm", value=raw.get("x")),
                ],
                xs=4,
            ),
            dbc.Col(
                [
                    dbc.Label("Rows", html_for=f"{PREFIX}-y", className="small mb-0"),
                    dbc.Select(id=f"{PREFIX}-y", size="sm", value=raw.get("y")),
                ],
                xs=4,
            ),
            dbc.Col(
                [
                    dbc.Label("Metric", html_for=f"{PREFIX}-metric", className="small mb-0"),
                    dbc.Select(
                        id=f"{PREFIX}-metric",
                        size="sm",
                        options=[{"label": m.replace("_", " "), "value": m} for m in engine.METRIC_NAMES],
                        value=raw.get("metric")
                        if raw.get("metric") in engine.METRIC_NAMES
                        else DEFAULT_METRIC,
                    ),
                ],
                xs=4,
            ),
        ],
        className="g-2 mb-2",
    )
    results = html.Div(
        [
            html.Div(
                [
                    html.H5("Results", className="me-auto mb-0"),
                    dbc.Button(
                        "Sweep CSV",
                        id=f"{PREFIX}-download-button",
                        color="secondary",
                        outline=True,
                        size="sm",
                        disabled=True,
                    ),
                ],
                className="d-flex align-items-center mb-2",
            ),
            html.Div(id=f"{PREFIX}-message"),
            html.Div(id=f"{PREFIX}-summary"),
            heatmap_controls,
            dcc.Loading(
                dcc.Graph(
                    id=f"{PREFIX}-heatmap",
                    figure=figures.empty_figure("Heatmap", "Run a sweep"),
                    config=dict(GRAPH_CONFIG),
                ),
                type="default",
            ),
            html.P(
                "Click a row to open that configuration on the Backtest page. Sort by clicking a header; "
                "filter with the boxes under the headers (e.g. > 1).",
                className="small text-muted mt-3 mb-1",
            ),
            dash_table.DataTable(
                id=f"{PREFIX}-table",
                data=[],
                columns=[],
                sort_action="native",
                filter_action="native",
                page_action="native",
                page_size=15,
                sort_by=[],
                style_table={"overflowX": "auto"},
                style_cell={
                    "fontFamily": "inherit",
                    "fontSize": "0.8rem",
                    "padding": "4px 8px",
                    "cursor": "pointer",
                },
                style_header={"fontWeight": "600", "backgroundColor": "#f3f4f6"},
                style_data_conditional=[dict(ERROR_STYLE)],
            ),
            html.Div(id=f"{PREFIX}-failed", className="mt-3"),
        ]
    )
    return html.Div(
        [
            dcc.Location(id=f"{PREFIX}-location", refresh=False),
            dcc.Location(id=f"{PREFIX}-open", refresh="callback-nav"),
            dcc.Store(id=f"{PREFIX}-autorun", data=autorun),
            dcc.Store(id=f"{PREFIX}-result"),
            dcc.Download(id=f"{PREFIX}-download"),
            dbc.Row(
                [
                    dbc.Col(controls, xs=12, lg=4, xxl=3, className="mb-3"),
                    dbc.Col(results, xs=12, lg=8, xxl=9),
                ],
                className="g-3",
            ),
        ],
        className="spl-page-sweep",
    )


# ----------------------------------------------------------------- validation as the user types


def read_grid(grid_values: Sequence[Any]) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Parsed grid and ``{param: message}`` for each invalid grid input (never raises)."""
    grid: dict[str, list[Any]] = {}
    errors: dict[str, str] = {}
    for name, raw in zip(forms.SWEEPABLE, grid_values):
        try:
            values = forms.parse_grid_values(name, raw)
        except engine.ParameterError as exc:
            errors[name] = str(exc)
            continue
        if values:
            grid[name] = values
    return grid, errors


@callback(
    [Output(forms.field_id(PREFIX, f"grid-{n}"), "invalid") for n in forms.SWEEPABLE if _is_text(n)]
    + [Output(forms.feedback_id(PREFIX, f"grid-{n}"), "children") for n in forms.SWEEPABLE]
    + [Output(forms.field_id(PREFIX, n), "invalid") for n in forms.FIELD_NAMES]
    + [Output(forms.feedback_id(PREFIX, n), "children") for n in forms.FIELD_NAMES]
    + [Output(f"{PREFIX}-grid-size", "children"), Output(f"{PREFIX}-run", "disabled")],
    _grid_inputs(Input) + _base_inputs(Input),
)
def validate_sweep_form(*values: Any) -> list[Any]:
    grid_values, base_values = values[: len(forms.SWEEPABLE)], values[len(forms.SWEEPABLE) :]
    grid, grid_errors = read_grid(grid_values)
    base_errors = forms.field_errors(forms.form_mapping(base_values))
    count = forms.grid_size(grid)
    problems = list(grid_errors.values()) + [m for m in base_errors.values() if m]
    if problems:
        status = f"Fix {len(problems)} field{'s' if len(problems) > 1 else ''} to run."
    elif not grid:
        status = "Give at least one parameter some values to try."
    elif count > forms.MAX_SWEEP_CONFIGS:
        status = f"{count} configurations: more than the limit of {forms.MAX_SWEEP_CONFIGS}."
    else:
        status = f"{count} configuration{'s' if count != 1 else ''} to run."
    runnable = not problems and 0 < count <= forms.MAX_SWEEP_CONFIGS
    base_fields = [bool(base_errors[n]) for n in forms.FIELD_NAMES] + [
        base_errors[n] for n in forms.FIELD_NAMES
    ]
    return (
        [bool(grid_errors.get(n)) for n in forms.SWEEPABLE if _is_text(n)]
        + [grid_errors.get(n, "") for n in forms.SWEEPABLE]
        + base_fields
        + [status, not runnable]
    )


# ----------------------------------------------------------------- run (background job)


def _parse_run_inputs(
    base_values: Sequence[Any], grid_values: Sequence[Any]
) -> tuple[engine.StrategyParams, dict[str, list[Any]]]:
    """Server-side validation of the whole form; raises ``engine.ParameterError``."""
    base = forms.parse_params(forms.form_mapping(base_values))
    grid = forms.parse_grid(dict(zip(forms.SWEEPABLE, grid_values)))
    return base, grid


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


@callback(
    Output(f"{PREFIX}-result", "data"),
    Output(f"{PREFIX}-message", "children"),
    Output(f"{PREFIX}-location", "search"),
    Input(f"{PREFIX}-run", "n_clicks"),
    Input(f"{PREFIX}-autorun", "data"),
    *_base_inputs(State),
    *_grid_inputs(State),
    State(f"{PREFIX}-x", "value"),
    State(f"{PREFIX}-y", "value"),
    State(f"{PREFIX}-metric", "value"),
    State(SESSION_SOURCE, "data"),
    background=True,
    progress=[Output(f"{PREFIX}-progress", "value"), Output(f"{PREFIX}-progress", "label")],
    running=[
        (Output(f"{PREFIX}-run", "disabled"), True, False),
        (Output(f"{PREFIX}-cancel", "disabled"), False, True),
    ],
    cancel=[Input(f"{PREFIX}-cancel", "n_clicks")],
)
def run_sweep(
    set_progress: Any, n_clicks: int | None, autorun: bool | None, *values: Any
) -> tuple[Any, Any, Any]:
    """Run button (or a link with a grid) -> plain sweep result in the Store, message, URL."""
    if not n_clicks and not autorun:
        return no_update, no_update, no_update
    n_base, n_grid = len(forms.FIELD_NAMES), len(forms.SWEEPABLE)
    base_values, grid_values = values[:n_base], values[n_base : n_base + n_grid]
    x, y, metric, store = values[n_base + n_grid :]
    try:
        base, grid = _parse_run_inputs(base_values, grid_values)
        source = services.resolve_source(store)
        total = forms.grid_size(grid)
        set_progress((0, f"0/{total}"))

        def on_progress(done: int, total: int) -> None:
            set_progress((round(100 * done / max(total, 1)), f"{done}/{total}"))

        result = services.sweep(source, base.to_dict(), grid, on_progress, lambda: False)
    except engine.EngineError as exc:
        return None, components.error_alert(str(exc), title="Cannot run this sweep"), no_update
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("sweep failed")
        message = "the sweep failed unexpectedly (details are in the server log)"
        return None, components.error_alert(message), no_update
    n_runs = int(result.get("n_runs") or len(result.get("records") or []))
    set_progress((100, f"{n_runs}/{n_runs}"))
    stored = {**result, "base": base.to_dict(), "grid": grid, "source": source}
    return stored, None, sweep_query(base.to_dict(), grid, x, y, metric)


@callback(
    Output(f"{PREFIX}-message", "children", allow_duplicate=True),
    Input(f"{PREFIX}-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def report_cancel(n_clicks: int | None) -> Any:
    """Dash stops the job itself (``cancel=``); this only tells the user it happened."""
    if not n_clicks:
        return no_update
    return components.info_alert(
        "Sweep cancelled: no results were kept. Press Run sweep to start again.", color="secondary"
    )


# ----------------------------------------------------------------- results (Store -> components)


def metric_columns(result: Mapping[str, Any]) -> list[str]:
    columns = list(result.get("columns") or [])
    return [m for m in engine.METRIC_NAMES if m in columns]


def _column_spec(name: str, grid: Mapping[str, Any]) -> dict[str, Any]:
    if name in engine.METRIC_NAMES:
        fmt = (
            dash_table.FormatTemplate.percentage(2)
            if name in PERCENT_METRICS
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
    return [_column_spec(name, grid) for name in ordered]


def table_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Records with a stable ``id`` (their position) so a click finds its configuration."""
    return [{**record, "id": i} for i, record in enumerate(result.get("records") or [])]


def _dsr_text(value: Any) -> str:
    if isinstance(value, Mapping):
        dsr = value.get("dsr", value.get("deflated_sharpe", value.get("probability", value.get("value"))))
        extra = []
        if value.get("sharpe") is not None:
            extra.append(f"best Sharpe {components.format_value(value.get('sharpe'), 'ratio')}")
        trials = value.get("n_trials", value.get("trials"))
        if trials is not None:
            extra.append(f"{trials} trials")
        return components.format_value(dsr, "{:.3f}") + (f" ({', '.join(extra)})" if extra else "")
    return components.format_value(value, "{:.3f}")


def best_index(result: Mapping[str, Any]) -> int | None:
    """Position of the highest-Sharpe configuration (``services`` reports it as ``best``)."""
    best = result.get("best")
    n = len(result.get("records") or [])
    return best if isinstance(best, int) and not isinstance(best, bool) and 0 <= best < n else None


def summary_block(result: Mapping[str, Any]) -> html.Div:
    n_runs = int(result.get("n_runs") or len(result.get("records") or []))
    n_failed = int(result.get("n_failed") or 0)
    elapsed = result.get("elapsed_s")
    rows = [
        ("Configurations run", f"{n_runs:,}"),
        ("Failed", f"{n_failed:,}"),
        ("Deflated Sharpe ratio of the best configuration", _dsr_text(result.get("deflated_sharpe"))),
        (
            "Executor",
            str(result.get("executor") or "")
            + (f" ({elapsed:.1f} s)" if isinstance(elapsed, (int, float)) else ""),
        ),
    ]
    best = best_index(result)
    best_link = None
    if best is not None:
        record = result["records"][best]
        label = ", ".join(f"{name}={record.get(name)}" for name in result.get("grid") or {})
        best_link = html.P(
            [
                "Best by Sharpe ratio: ",
                html.Strong(label),
                f" (Sharpe {components.format_value(record.get('sharpe'), 'ratio')}) · ",
                dcc.Link(
                    "open it on the Backtest page",
                    href=url_state.with_search("/", config_params(result, best) or {}),
                    id=f"{PREFIX}-best-link",
                ),
            ],
            className="small mb-1",
        )
    return html.Div(
        [
            components.key_value_table(rows, class_name="spl-kv"),
            best_link,
            html.P(
                "The Deflated Sharpe Ratio is the probability that the best Sharpe ratio is above zero once "
                "the number of configurations tried is accounted for (Bailey & López de Prado); below 0.95 "
                "the best result may well be luck.",
                className="small text-muted",
            ),
        ],
        id=f"{PREFIX}-summary-block",
    )


def failed_block(result: Mapping[str, Any]) -> html.Div | None:
    grid = result.get("grid") or {}
    failed = [r for r in result.get("records") or [] if r.get(ERROR_COLUMN)]
    if not failed:
        return None
    items = [
        html.Li([html.Code(", ".join(f"{k}={r.get(k)}" for k in grid)), f": {r[ERROR_COLUMN]}"])
        for r in failed[:50]
    ]
    more = [html.Li(f"... and {len(failed) - 50} more")] if len(failed) > 50 else []
    return dbc.Alert(
        [html.Strong(f"{len(failed)} configuration(s) failed"), html.Ul(items + more, className="mb-0")],
        color="warning",
        className="small",
    )


ERROR_STYLE: Mapping[str, Any] = MappingProxyType(
    {"if": {"filter_query": "{error} != ''", "column_id": ERROR_COLUMN}, "color": "#b91c1c"}
)


def table_styles(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Failed configurations' error in red; the best configuration's row highlighted."""
    styles: list[dict[str, Any]] = [dict(ERROR_STYLE)]
    best = best_index(result)
    if best is not None:
        styles.append(
            {"if": {"filter_query": f"{{id}} = {best}"}, "backgroundColor": "#dbeafe", "fontWeight": "600"}
        )
    return styles


@callback(
    Output(f"{PREFIX}-table", "data"),
    Output(f"{PREFIX}-table", "columns"),
    Output(f"{PREFIX}-table", "style_data_conditional"),
    Output(f"{PREFIX}-summary", "children"),
    Output(f"{PREFIX}-failed", "children"),
    Output(f"{PREFIX}-download-button", "disabled"),
    Output(f"{PREFIX}-x", "options"),
    Output(f"{PREFIX}-y", "options"),
    Input(f"{PREFIX}-result", "data"),
)
def show_result(result: Mapping[str, Any] | None) -> tuple[Any, ...]:
    result = _stored_result(result)
    if not result:
        return [], [], [dict(ERROR_STYLE)], None, None, True, [], []
    options = [{"label": name.replace("_", " "), "value": name} for name in result.get("grid") or {}]
    return (
        table_rows(result),
        table_columns(result),
        table_styles(result),
        summary_block(result),
        failed_block(result),
        False,
        options,
        options,
    )


def _stored_result(value: Any) -> Mapping[str, Any] | None:
    """The ``sweep-result`` Store value when it is the shape ``run_sweep`` wrote, else None."""
    return read_store(value, SWEEP_RESULT, name="sweep-result")


def heatmap_axes(result: Mapping[str, Any], x: Any, y: Any) -> tuple[str | None, str | None]:
    """The chosen axes when they are swept parameters, else the first two swept parameters."""
    names = list(result.get("grid") or {})
    if not names:
        return None, None
    x = x if x in names else names[0]
    y = y if y in names else (next((n for n in names if n != x), x))
    return x, y


@callback(
    Output(f"{PREFIX}-heatmap", "figure"),
    Output(f"{PREFIX}-x", "value"),
    Output(f"{PREFIX}-y", "value"),
    Output(f"{PREFIX}-location", "search", allow_duplicate=True),
    Input(f"{PREFIX}-result", "data"),
    Input(f"{PREFIX}-x", "value"),
    Input(f"{PREFIX}-y", "value"),
    Input(f"{PREFIX}-metric", "value"),
    prevent_initial_call=True,
)
def draw_heatmap(result: Mapping[str, Any] | None, x: Any, y: Any, metric: Any) -> tuple[Any, ...]:
    result = _stored_result(result)
    if not result:
        return figures.empty_figure("Heatmap", "Run a sweep"), no_update, no_update, no_update
    x, y = heatmap_axes(result, x, y)
    metric = metric if metric in engine.METRIC_NAMES else DEFAULT_METRIC
    figure = figures.sweep_heatmap_figure(
        result.get("records"), x or "", y or "", metric, percent=metric in PERCENT_METRICS
    )
    return figure, x, y, sweep_query(result.get("base") or {}, result.get("grid") or {}, x, y, metric)


# ----------------------------------------------------------------- open a configuration, download


def config_params(result: Mapping[str, Any], row_id: Any) -> dict[str, Any] | None:
    """Full parameters of one configuration: the base with the row's swept values."""
    records = result.get("records") or []
    if not isinstance(row_id, int) or not 0 <= row_id < len(records):
        return None
    record = records[row_id]
    params = dict(result.get("base") or {})
    params.update({name: record.get(name) for name in result.get("grid") or {} if name in record})
    return params


@callback(
    Output(f"{PREFIX}-open", "href"),
    Input(f"{PREFIX}-table", "active_cell"),
    State(f"{PREFIX}-result", "data"),
    prevent_initial_call=True,
)
def open_configuration(active_cell: Mapping[str, Any] | None, result: Mapping[str, Any] | None) -> Any:
    active_cell = read_store(active_cell, ACTIVE_CELL, name="sweep-table active_cell")
    result = _stored_result(result)
    if not active_cell or not result:
        return no_update
    params = config_params(result, active_cell.get("row_id"))
    if params is None:
        return no_update
    return url_state.with_search("/", params)


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


@callback(
    Output(f"{PREFIX}-download", "data"),
    Input(f"{PREFIX}-download-button", "n_clicks"),
    State(f"{PREFIX}-result", "data"),
    prevent_initial_call=True,
)
def download_sweep(n_clicks: int | None, result: Mapping[str, Any] | None) -> Any:
    result = _stored_result(result)
    if not n_clicks or not result:
        return no_update
    try:
        return {"content": sweep_csv(result), "filename": "sweep.csv", "type": "text/csv"}
    except Exception:  # a failed download must not break the page
        log.exception("sweep download failed")
        return no_update
