"""Sweep page (``/sweep``): run a grid of strategy configurations, compare them, open one.

The sweep runs as a Dash background callback (the app's ``CooperativeDiskcacheManager``):
the browser polls its progress (configs done / total), and Cancel reaches the engine
(``services.cancel_check()`` is the ``should_cancel`` that ``engine.run_sweep`` polls), which
stops and raises ``engine.Cancelled``; a job that does not stop within a grace period is
killed as Dash does. Results (plain records, never figures) are kept in the
``sweep-result`` Store of this browser tab; the heatmap and the table are drawn from it.
Clicking a row opens that configuration on the Backtest page (``/?<its parameters>``).

URL state: the base parameters, ``grid_<param>=v1,v2`` for each swept parameter and the
heatmap's ``x``, ``y`` and ``metric``. A link with a grid prefills the page and runs it.
What each block shows is computed by ``dashapp.views.sweep``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update, register_page

import engine
from dashapp import services
from dashapp.pages.ids import shell
from dashapp.pages.ids import sweep as ids
from dashapp.ui import components, figures, forms, url_state
from dashapp.ui.store_shapes import ACTIVE_CELL, SWEEP_RESULT, read_store
from dashapp.views import sweep as view

log = logging.getLogger(__name__)

register_page(__name__, path="/sweep", name="Sweep", title="Sweep · Sentiment Portfolio Lab", order=2)

DEFAULT_GRID: Mapping[str, str | tuple[str, ...]] = MappingProxyType(
    {"top_n": "3, 5, 10", "weighting": ("equal", "inverse_volatility")}
)
GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType({"displaylogo": False, "responsive": True})
# Numeric parameters are typed as comma lists (can be invalid); choices are multi-selects.
TEXT_GRID_FIELDS: tuple[str, ...] = tuple(n for n in forms.SWEEPABLE if n not in forms.CHOICE_FIELDS)


def _grid(kind: type) -> dict[str, Any]:
    return {name: kind(ids.grid_input(name), "value") for name in forms.SWEEPABLE}


# ----------------------------------------------------------------- layout


def _select(ident: str, label: str, **kwargs: Any) -> dbc.Col:
    return dbc.Col(
        [dbc.Label(label, html_for=ident, className="small mb-0"), dbc.Select(id=ident, size="sm", **kwargs)],
        xs=4,
    )


def layout(**query: Any) -> html.Div:
    params, messages = url_state.read_query(query)
    grid_text = url_state.grid_from_query(query, forms.SWEEPABLE)
    raw = url_state.query_values(query)
    grid_values = grid_text if grid_text else DEFAULT_GRID
    controls = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H5("Sweep", className="card-title me-auto mb-0"),
                        dbc.Button("Run sweep", id=ids.RUN, color="primary", size="sm", className="me-1"),
                        dbc.Button(
                            "Cancel", id=ids.CANCEL, color="danger", outline=True, size="sm", disabled=True
                        ),
                    ],
                    className="d-flex align-items-center mb-2",
                ),
                html.Div(id=ids.GRID_SIZE, className="small text-muted mb-1", role="status"),
                dbc.Progress(
                    id=ids.PROGRESS,
                    value=0,
                    label="",
                    striped=True,
                    animated=True,
                    className="mb-2",
                    style={"height": "1.25rem"},
                ),
                components.link_notes(messages),
                html.H6("Values to try", className="mt-2"),
                html.P(
                    "Comma-separated values (or a multi-select); leave empty to keep the base value.",
                    className="small text-muted mb-1",
                ),
                dbc.Row(
                    [forms.grid_control(ids.PREFIX, name, grid_values.get(name)) for name in forms.SWEEPABLE],
                    className="g-2",
                ),
                dbc.Accordion(
                    [
                        dbc.AccordionItem(
                            forms.strategy_form(ids.PREFIX, params), title="Base parameters (not swept)"
                        )
                    ],
                    start_collapsed=True,
                    className="mt-2",
                ),
            ]
        ),
        className="spl-form-card shadow-sm",
    )
    metric = raw.get("metric") if raw.get("metric") in engine.METRIC_NAMES else view.DEFAULT_METRIC
    heatmap_controls = dbc.Row(
        [
            _select(ids.X, "Columns", value=raw.get("x")),
            _select(ids.Y, "Rows", value=raw.get("y")),
            _select(
                ids.METRIC,
                "Metric",
                options=[{"label": m.replace("_", " "), "value": m} for m in engine.METRIC_NAMES],
                value=metric,
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
                        id=ids.DOWNLOAD_BUTTON,
                        color="secondary",
                        outline=True,
                        size="sm",
                        disabled=True,
                    ),
                ],
                className="d-flex align-items-center mb-2",
            ),
            html.Div(id=ids.MESSAGE),
            html.Div(id=ids.SUMMARY),
            heatmap_controls,
            dcc.Loading(
                dcc.Graph(
                    id=ids.HEATMAP,
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
                id=ids.TABLE,
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
                style_data_conditional=[dict(view.ERROR_STYLE)],
            ),
            html.Div(id=ids.FAILED, className="mt-3"),
        ]
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Location(id=ids.OPEN, refresh="callback-nav"),
            dcc.Store(id=ids.AUTORUN, data=bool(grid_text)),
            dcc.Store(id=ids.RESULT),
            dcc.Download(id=ids.DOWNLOAD),
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


@callback(
    output={
        "grid_invalid": {n: Output(ids.grid_input(n), "invalid") for n in TEXT_GRID_FIELDS},
        "grid_feedback": {n: Output(ids.grid_feedback(n), "children") for n in forms.SWEEPABLE},
        "base": forms.field_outputs(ids.PREFIX),
        "status": Output(ids.GRID_SIZE, "children"),
        "run_disabled": Output(ids.RUN, "disabled"),
    },
    inputs={"grid": _grid(Input), "base": forms.field_inputs(ids.PREFIX, Input)},
)
def validate_sweep_form(grid: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    parsed, grid_errors = view.read_grid(grid)
    base_errors = forms.field_errors(base)
    n_problems = len(grid_errors) + sum(1 for message in base_errors.values() if message)
    status, runnable = view.grid_status(parsed, n_problems)
    return {
        "grid_invalid": {n: bool(grid_errors.get(n)) for n in TEXT_GRID_FIELDS},
        "grid_feedback": {n: grid_errors.get(n, "") for n in forms.SWEEPABLE},
        "base": forms.field_flags(base_errors),
        "status": status,
        "run_disabled": not runnable,
    }


# ----------------------------------------------------------------- run (background job)


@callback(
    output={
        "result": Output(ids.RESULT, "data"),
        "message": Output(ids.MESSAGE, "children"),
        "search": Output(ids.LOCATION, "search"),
    },
    inputs={"n_clicks": Input(ids.RUN, "n_clicks"), "autorun": Input(ids.AUTORUN, "data")},
    state={
        "base": forms.field_inputs(ids.PREFIX, State),
        "grid": _grid(State),
        "heatmap": {
            "x": State(ids.X, "value"),
            "y": State(ids.Y, "value"),
            "metric": State(ids.METRIC, "value"),
        },
        "store": State(shell.SESSION_SOURCE, "data"),
    },
    background=True,
    progress=[Output(ids.PROGRESS, "value"), Output(ids.PROGRESS, "label")],
    running=[(Output(ids.RUN, "disabled"), True, False), (Output(ids.CANCEL, "disabled"), False, True)],
    cancel=[Input(ids.CANCEL, "n_clicks")],
)
def run_sweep(
    set_progress: Any,
    n_clicks: int | None,
    autorun: bool | None,
    base: Mapping[str, Any],
    grid: Mapping[str, Any],
    heatmap: Mapping[str, Any],
    store: Any,
) -> dict[str, Any]:
    """Run button (or a link with a grid) -> plain sweep result in the Store, message, URL."""
    if not n_clicks and not autorun:
        return no_update
    try:
        params = forms.parse_params(base).to_dict()
        checked = forms.parse_grid(grid)
        source = services.resolve_source(store)
        total = engine.grid_size(checked)
        set_progress((0, f"0/{total}"))

        def on_progress(done: int, total: int) -> None:
            set_progress((round(100 * done / max(total, 1)), f"{done}/{total}"))

        result = services.sweep(source, params, checked, on_progress, services.cancel_check())
    except engine.Cancelled:
        return {"result": None, "message": _cancelled(), "search": no_update}
    except engine.EngineError as exc:
        message = components.error_alert(str(exc), title="Cannot run this sweep")
        return {"result": None, "message": message, "search": no_update}
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("sweep failed")
        message = components.error_alert("the sweep failed unexpectedly (details are in the server log)")
        return {"result": None, "message": message, "search": no_update}
    n_runs = int(result["n_runs"])
    set_progress((100, f"{n_runs}/{n_runs}"))
    return {
        "result": {**result, "source": source},
        "message": None,
        "search": view.sweep_query(params, checked, heatmap["x"], heatmap["y"], heatmap["metric"]),
    }


def _cancelled() -> Any:
    return components.info_alert(
        "Sweep cancelled: no results were kept. Press Run sweep to start again.", color="secondary"
    )


@callback(
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def report_cancel(n_clicks: int | None) -> Any:
    """Cancel reaches the engine through the job manager (``cancel=``); this tells the user."""
    if not n_clicks:
        return no_update
    return _cancelled()


# ----------------------------------------------------------------- results (Store -> components)


def _stored_result(value: Any) -> Mapping[str, Any] | None:
    """The ``sweep-result`` Store value when it is the shape ``run_sweep`` wrote, else None."""
    return read_store(value, SWEEP_RESULT, name="sweep-result")


def summary_block(result: Mapping[str, Any]) -> html.Div:
    best = view.best_summary(result)
    best_link = None
    if best is not None:
        best_link = html.P(
            [
                "Best by Sharpe ratio: ",
                html.Strong(best["label"]),
                f" (Sharpe {best['sharpe']}) · ",
                dcc.Link("open it on the Backtest page", href=best["href"], id=ids.BEST_LINK),
            ],
            className="small mb-1",
        )
    return html.Div(
        [
            components.key_value_table(view.summary_rows(result), class_name="spl-kv"),
            best_link,
            html.P(
                "The Deflated Sharpe Ratio is the probability that the best Sharpe ratio is above zero once "
                "the number of configurations tried is accounted for (Bailey & López de Prado); below 0.95 "
                "the best result may well be luck.",
                className="small text-muted",
            ),
        ],
        id=ids.SUMMARY_BLOCK,
    )


def failed_block(result: Mapping[str, Any]) -> html.Div | None:
    shown, n_failed = view.failed_lines(result)
    if not n_failed:
        return None
    items = [html.Li([html.Code(config), f": {error}"]) for config, error in shown]
    if n_failed > len(shown):
        items.append(html.Li(f"... and {n_failed - len(shown)} more"))
    return dbc.Alert(
        [html.Strong(f"{n_failed} configuration(s) failed"), html.Ul(items, className="mb-0")],
        color="warning",
        className="small",
    )


@callback(
    output={
        "rows": Output(ids.TABLE, "data"),
        "columns": Output(ids.TABLE, "columns"),
        "styles": Output(ids.TABLE, "style_data_conditional"),
        "summary": Output(ids.SUMMARY, "children"),
        "failed": Output(ids.FAILED, "children"),
        "download_disabled": Output(ids.DOWNLOAD_BUTTON, "disabled"),
        "x_options": Output(ids.X, "options"),
        "y_options": Output(ids.Y, "options"),
    },
    inputs={"result": Input(ids.RESULT, "data")},
)
def show_result(result: Mapping[str, Any] | None) -> dict[str, Any]:
    result = _stored_result(result)
    if not result:
        return {
            "rows": [],
            "columns": [],
            "styles": [dict(view.ERROR_STYLE)],
            "summary": None,
            "failed": None,
            "download_disabled": True,
            "x_options": [],
            "y_options": [],
        }
    options = view.axis_options(result)
    return {
        "rows": view.table_rows(result),
        "columns": view.table_columns(result),
        "styles": view.table_styles(result),
        "summary": summary_block(result),
        "failed": failed_block(result),
        "download_disabled": False,
        "x_options": options,
        "y_options": options,
    }


@callback(
    output={
        "figure": Output(ids.HEATMAP, "figure"),
        "x": Output(ids.X, "value"),
        "y": Output(ids.Y, "value"),
        "search": Output(ids.LOCATION, "search", allow_duplicate=True),
    },
    inputs={
        "result": Input(ids.RESULT, "data"),
        "x": Input(ids.X, "value"),
        "y": Input(ids.Y, "value"),
        "metric": Input(ids.METRIC, "value"),
    },
    prevent_initial_call=True,
)
def draw_heatmap(result: Mapping[str, Any] | None, x: Any, y: Any, metric: Any) -> dict[str, Any]:
    result = _stored_result(result)
    if not result:
        empty = figures.empty_figure("Heatmap", "Run a sweep")
        return {"figure": empty, "x": no_update, "y": no_update, "search": no_update}
    x, y = view.heatmap_axes(result, x, y)
    metric = metric if metric in engine.METRIC_NAMES else view.DEFAULT_METRIC
    figure = figures.sweep_heatmap_figure(
        result.get("records"), x or "", y or "", metric, percent=metric in engine.PERCENT_METRICS
    )
    search = view.sweep_query(result.get("base") or {}, result.get("grid") or {}, x, y, metric)
    return {"figure": figure, "x": x, "y": y, "search": search}


# ----------------------------------------------------------------- open a configuration, download


@callback(
    Output(ids.OPEN, "href"),
    Input(ids.TABLE, "active_cell"),
    State(ids.RESULT, "data"),
    prevent_initial_call=True,
)
def open_configuration(active_cell: Mapping[str, Any] | None, result: Mapping[str, Any] | None) -> Any:
    active_cell = read_store(active_cell, ACTIVE_CELL, name="sweep-table active_cell")
    result = _stored_result(result)
    if not active_cell or not result:
        return no_update
    params = view.config_params(result, active_cell.get("row_id"))
    if params is None:
        return no_update
    return url_state.with_search("/", params)


@callback(
    Output(ids.DOWNLOAD, "data"),
    Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.RESULT, "data"),
    prevent_initial_call=True,
)
def download_sweep(n_clicks: int | None, result: Mapping[str, Any] | None) -> Any:
    result = _stored_result(result)
    if not n_clicks or not result:
        return no_update
    try:
        return {"content": view.sweep_csv(result), "filename": "sweep.csv", "type": "text/csv"}
    except Exception:  # a failed download must not break the page
        log.exception("sweep download failed")
        return no_update
