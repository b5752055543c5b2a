"""Sweep page (``/sweep``): run a grid of strategy configurations, compare them, open one.

The sweep runs as a Dash background callback (the app's ``CooperativeDiskcacheManager``):
the browser polls its progress (configs done / total), and Cancel reaches the engine
(inside ``services.cancellable()``, the ``should_cancel`` that ``engine.run_sweep`` polls), which
stops and raises ``engine.Cancelled``; a job that does not stop within a grace period is
killed as Dash does. Results (plain records, never figures) are kept in the
``sweep-result`` Store of this browser tab; the heatmap and the table are drawn from it.
The table is an AG Grid (sort, filter, parameter columns pinned left, the best first);
clicking a row opens that configuration on the Backtest page (``/?<its parameters>``).
The sweep keeps every configuration's daily returns (``services.research.sweep``, run with
``keep_returns=True``), so the walk-forward section below it (folds, stitched out-of-sample
equity, PBO beside the DSR and its trial counts) is computed from them without rerunning
a backtest, whenever the sweep or the walk-forward settings change.

URL state: the base parameters, ``grid_<param>=v1,v2`` for each swept parameter, the
heatmap's ``x``, ``y`` and ``metric``, and the walk-forward's ``wf_folds``, ``wf_scheme``,
``wf_is``, ``wf_oos``, ``wf_metric``. A link with a grid prefills the page and runs it,
unless a grid key or a base parameter of it was ignored (``sweep_layout.layout`` notes
every ignored key and value; an invalid grid choice is kept in the form, flagged). A
sweep that cannot run (an invalid grid or base value, an engine error) writes the form as
entered, invalid values included, so a reload shows the same form and the same error.
What each block shows is computed by ``dashapp.views.sweep``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dash import Input, Output, State, callback, no_update, register_page

import engine
from dashapp import services
from dashapp.pages import sweep_layout
from dashapp.pages._common import csv_download
from dashapp.pages.ids import shell
from dashapp.pages.ids import sweep as ids
from dashapp.services import research
from dashapp.ui import components, figures, forms, url_state
from dashapp.ui.figures import research as figures_research
from dashapp.ui.store_shapes import NONE, SWEEP_RESULT, Record, read_store
from dashapp.views import sweep as view

log = logging.getLogger(__name__)

register_page(
    __name__,
    path="/sweep",
    name="Sweep",
    title="Sweep · Sentiment Portfolio Lab",
    order=2,
    layout=sweep_layout.layout,
)
layout = sweep_layout.layout

# What this page writes to the sweep-result Store is store_shapes.SWEEP_RESULT; what the
# grid's cellClicked sends back:
CELL_CLICKED = Record({"rowId": (str, int), "colId": (str, NONE)}, required=frozenset({"rowId"}))

WF_STATE = {
    "n_folds": State(ids.WF_FOLDS, "value"),
    "scheme": State(ids.WF_SCHEME, "value"),
    "in_sample_days": State(ids.WF_IS_DAYS, "value"),
    "out_of_sample_days": State(ids.WF_OOS_DAYS, "value"),
    "metric": State(ids.WF_METRIC, "value"),
}

# Numeric parameters are typed as comma lists (can be invalid); choices are multi-selects.
TEXT_GRID_FIELDS: tuple[str, ...] = tuple(n for n in forms.SWEEPABLE if n not in forms.CHOICE_FIELDS)


def _grid(kind: type) -> dict[str, Any]:
    return {name: kind(ids.grid_input(name), "value") for name in forms.SWEEPABLE}


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
        "walk_forward": WF_STATE,
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
    walk_forward: Mapping[str, Any] | None = None,
) -> Any:
    """Run button (or a link with a grid) -> plain sweep result in the Store, message, URL."""
    if not n_clicks and not autorun:
        return no_update
    # What the user asked for, kept in the URL when the sweep cannot run (a cancelled sweep
    # leaves the URL as it was: a reload must not start it again).
    entered = view.entered_sweep_query(base, grid, heatmap, walk_forward)
    try:
        params = forms.parse_params(base).to_dict()
        checked = forms.parse_grid(grid)
        source = services.resolve_source(store)
        total = engine.grid_size(checked)
        set_progress((0, f"0/{total}"))

        def on_progress(done: int, total: int) -> None:
            set_progress((round(100 * done / max(total, 1)), f"{done}/{total}"))

        with services.cancellable() as should_cancel:
            result = research.sweep(source, params, checked, on_progress, should_cancel)
    except engine.Cancelled:
        return {"result": None, "message": _cancelled(), "search": no_update}
    except engine.EngineError as exc:
        message = components.error_alert(str(exc), title="Cannot run this sweep")
        return {"result": None, "message": message, "search": entered}
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("sweep failed")
        message = components.error_alert("the sweep failed unexpectedly (details are in the server log)")
        return {"result": None, "message": message, "search": entered}
    n_runs = int(result["n_runs"])
    set_progress((100, f"{n_runs}/{n_runs}"))
    return {
        "result": {**result, "source": source},
        "message": None,
        "search": view.sweep_query(
            params, checked, heatmap["x"], heatmap["y"], heatmap["metric"], walk_forward=walk_forward
        ),
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


@callback(
    output={
        "rows": Output(ids.TABLE, "rowData"),
        "columns": Output(ids.TABLE, "columnDefs"),
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
            "summary": None,
            "failed": None,
            "download_disabled": True,
            "x_options": [],
            "y_options": [],
        }
    options = view.axis_options(result)
    return {
        "rows": view.ordered_rows(result),
        "columns": view.table_columns(result),
        "summary": sweep_layout.summary_block(result),
        "failed": sweep_layout.failed_block(result),
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
        "walk_forward": {k: Input(v.component_id, "value") for k, v in WF_STATE.items()},
    },
    prevent_initial_call=True,
)
def draw_heatmap(
    result: Mapping[str, Any] | None,
    x: Any,
    y: Any,
    metric: Any,
    walk_forward: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    result = _stored_result(result)
    if not result:
        empty = figures.empty_figure("Heatmap", "Run a sweep")
        return {"figure": empty, "x": no_update, "y": no_update, "search": no_update}
    x, y = view.heatmap_axes(result, x, y)
    metric = metric if metric in engine.METRIC_NAMES else view.DEFAULT_METRIC
    figure = figures.sweep_heatmap_figure(
        result.get("records"), x or "", y or "", metric, percent=metric in engine.PERCENT_METRICS
    )
    search = view.sweep_query(
        result.get("base") or {}, result.get("grid") or {}, x, y, metric, walk_forward=walk_forward or {}
    )
    return {"figure": figure, "x": x, "y": y, "search": search}


# ----------------------------------------------------------------- open a configuration, download


@callback(
    Output(ids.OPEN, "href"),
    Input(ids.TABLE, "cellClicked"),
    State(ids.RESULT, "data"),
    prevent_initial_call=True,
)
def open_configuration(cell: Mapping[str, Any] | None, result: Mapping[str, Any] | None) -> Any:
    cell = read_store(cell, CELL_CLICKED, name="sweep-table cellClicked")
    result = _stored_result(result)
    if not cell or not result:
        return no_update
    params = view.config_params(result, view.clicked_row(cell))
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

    def build() -> tuple[str, str]:
        info = _source_info(result)
        return view.sweep_csv(result, info), info["fingerprint"]

    return csv_download(log, "sweep", build)


def _source_info(result: Mapping[str, Any]) -> dict[str, Any]:
    """Data source (SYNTHETIC or not) and fingerprint of the sweep's data, read on the server
    from the sweep's source (never from the client's Store), for the CSV header and name."""
    return services.source_info(services.resolve_source(result.get("source")))


# ----------------------------------------------------------------- walk-forward validation and PBO


def _validation(result: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    return research.sweep_validation(
        result.get("source"),
        result.get("base"),
        result.get("grid") or {},
        settings,
        rerun_limit=research.SYNC_RERUN_LIMIT,
    )


def _wf_empty(message: Any) -> dict[str, Any]:
    return {
        "message": message,
        "equity": figures.empty_figure("Out-of-sample equity", "Run a sweep"),
        "changes": None,
        "summary": None,
        "rows": [],
        "columns": [],
        "pbo": None,
        "histogram": figures.empty_figure("PBO logits", "Run a sweep"),
        "download_disabled": True,
        "returns_download_disabled": True,
    }


@callback(
    output={
        "message": Output(ids.WF_MESSAGE, "children"),
        "equity": Output(ids.WF_EQUITY, "figure"),
        "changes": Output(ids.WF_CHANGES, "children"),
        "summary": Output(ids.WF_SUMMARY, "children"),
        "rows": Output(ids.WF_TABLE, "rowData"),
        "columns": Output(ids.WF_TABLE, "columnDefs"),
        "pbo": Output(ids.WF_PBO, "children"),
        "histogram": Output(ids.WF_PBO_HISTOGRAM, "figure"),
        "download_disabled": Output(ids.WF_DOWNLOAD_BUTTON, "disabled"),
        "returns_download_disabled": Output(ids.WF_RETURNS_DOWNLOAD_BUTTON, "disabled"),
    },
    inputs={
        "result": Input(ids.RESULT, "data"),
        "settings": {k: Input(v.component_id, "value") for k, v in WF_STATE.items()},
    },
)
def show_walk_forward(result: Mapping[str, Any] | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Walk-forward folds, stitched OOS equity and PBO of the stored sweep (from its kept returns)."""
    result = _stored_result(result)
    if not result:
        return _wf_empty(None)
    if not any(not record.get(view.ERROR_COLUMN) for record in result.get("records") or []):
        return _wf_empty(
            components.info_alert(
                "No configuration ran without error: nothing to validate.", color="secondary"
            )
        )
    try:
        validation = _validation(result, view.walk_forward_inputs(**settings))
    except engine.EngineError as exc:
        return _wf_empty(components.error_alert(str(exc), title="Cannot validate this sweep"))
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("walk-forward validation failed")
        return _wf_empty(
            components.error_alert(
                "the walk-forward validation failed unexpectedly (details are in the server log)"
            )
        )
    metric = str((validation.get("settings") or {}).get("metric") or "sharpe")
    pbo = validation.get("pbo") or {}
    return {
        "message": None,
        "equity": figures_research.walk_forward_figure(validation.get("dates"), validation.get("series")),
        "changes": view.winner_changes_text(validation),
        "summary": sweep_layout.walk_forward_summary(validation),
        "rows": view.fold_rows(validation, result.get("grid") or {}),
        "columns": view.fold_columns(metric),
        "pbo": sweep_layout.pbo_block(result, validation),
        "histogram": figures_research.pbo_logits_figure(pbo.get("logits"), pbo.get("pbo")),
        "download_disabled": False,
        "returns_download_disabled": False,
    }


@callback(
    Output(ids.WF_DOWNLOAD, "data"),
    inputs={"n_clicks": Input(ids.WF_DOWNLOAD_BUTTON, "n_clicks")},
    state={"result": State(ids.RESULT, "data"), "settings": WF_STATE},
    prevent_initial_call=True,
)
def download_walk_forward(
    n_clicks: int | None, result: Mapping[str, Any] | None, settings: Mapping[str, Any]
) -> Any:
    result = _stored_result(result)
    if not n_clicks or not result:
        return no_update

    return _walk_forward_download(result, settings, "walk_forward")


@callback(
    Output(ids.WF_RETURNS_DOWNLOAD, "data"),
    inputs={"n_clicks": Input(ids.WF_RETURNS_DOWNLOAD_BUTTON, "n_clicks")},
    state={"result": State(ids.RESULT, "data"), "settings": WF_STATE},
    prevent_initial_call=True,
)
def download_walk_forward_returns(
    n_clicks: int | None, result: Mapping[str, Any] | None, settings: Mapping[str, Any]
) -> Any:
    """The out-of-sample daily returns (stitched walk-forward, full-history winner, benchmark)."""
    result = _stored_result(result)
    if not n_clicks or not result:
        return no_update
    return _walk_forward_download(result, settings, "walk_forward_returns")


def _walk_forward_download(result: Mapping[str, Any], settings: Mapping[str, Any], kind: str) -> Any:
    def build() -> tuple[str, str]:
        validation = _validation(result, view.walk_forward_inputs(**settings))
        info = _source_info(result)
        return view.walk_forward_csv(result, validation, info, kind), info["fingerprint"]

    return csv_download(log, kind, build)
