"""Stocks page (``/stocks``): compare individual symbols of the active data set.

Normalised prices, the distribution of daily returns, a metrics table (total return,
volatility, Sharpe, max drawdown; 252-day annualisation) and the correlation of daily
returns, computed by ``services.stocks`` (``engine.analyze_stocks``, which also owns the
symbol rule: ``engine.parse_symbols``, at most ``engine.MAX_STOCKS``). The URL holds
``symbols=A,B&start=...&end=...`` (as entered, also when the analysis failed, so a reload
shows the same choice and error); a link with symbols runs at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update, register_page

import engine
from dashapp import services
from dashapp.pages._common import csv_download, failed_run, source_notes
from dashapp.pages.ids import shell
from dashapp.pages.ids import stocks as ids
from dashapp.ui import components, figures, forms, url_state
from dashapp.ui.store_shapes import STOCKS_RUN, ListOf, read_store
from dashapp.views import stocks as view

log = logging.getLogger(__name__)

register_page(__name__, path="/stocks", name="Stocks", title="Stocks · Sentiment Portfolio Lab", order=3)

GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType({"displaylogo": False, "responsive": True})


def _date_field(ident: str, feedback: str, label: str, value: Any) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=ident, className="small mb-0 fw-semibold"),
            dbc.Input(id=ident, type="date", value=value, size="sm"),
            dbc.FormFeedback(id=feedback, type="invalid"),
        ],
        xs=6,
    )


def layout(**query: Any) -> html.Div:
    raw = url_state.query_values(query)
    symbols = view.symbols_from_query(raw.get("symbols"))
    form = dbc.Card(
        dbc.CardBody(
            [
                components.title_bar(
                    "Stocks",
                    dbc.Button("Analyse", id=ids.RUN, color="primary", size="sm"),
                    title_class="card-title me-auto mb-0",
                ),
                components.link_notes(view.link_messages(raw)),
                dbc.Label("Symbols", html_for=ids.SYMBOLS, className="small mb-0 fw-semibold"),
                dcc.Dropdown(
                    id=ids.SYMBOLS,
                    options=[{"label": s, "value": s} for s in symbols],
                    value=symbols,
                    multi=True,
                    placeholder="Choose symbols of the active data",
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        _date_field(
                            ids.START,
                            ids.START_FEEDBACK,
                            "Start",
                            view.date_or_blank("start", raw.get("start")),
                        ),
                        _date_field(
                            ids.END, ids.END_FEEDBACK, "End", view.date_or_blank("end", raw.get("end"))
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(id=ids.FORM_STATUS, className="small text-danger mt-2", role="status"),
            ]
        ),
        className="spl-form-card shadow-sm",
    )
    results = html.Div(
        [
            components.title_bar("Comparison", components.download_button("Metrics", ids.DOWNLOAD_BUTTON)),
            dcc.Loading(
                html.Div(html.P("Choose symbols and press Analyse.", className="text-muted"), id=ids.RESULTS),
                type="default",
                delay_show=150,
            ),
        ]
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.AUTORUN, data=bool(symbols)),
            dcc.Store(id=ids.RUN_STATE),
            dcc.Download(id=ids.DOWNLOAD),
            components.form_and_results(form, results),
        ],
        className="spl-page-stocks",
    )


# ----------------------------------------------------------------- symbol choices and validation


@callback(
    Output(ids.SYMBOLS, "options"),
    Output(ids.SYMBOLS, "value"),
    Input(shell.SESSION_SOURCE, "data"),
    State(ids.SYMBOLS, "value"),
)
def load_symbols(store: Any, chosen: Sequence[str] | None) -> tuple[Any, Any]:
    """Every symbol of the session's data (plus the benchmark); a few preselected when none is."""
    try:
        report = services.source_info(services.resolve_source(store)).get("report") or {}
    except Exception:  # the run itself reports data problems in the page
        log.exception("stock symbols unavailable")
        return no_update, no_update
    # The dropdown's value comes back from the browser: keep it only if it is a list of texts.
    chosen = read_store(chosen, ListOf(str), name="stocks-symbols value")
    failed = [str(s) for s in report.get("failed_tickers") or []]  # no price at all: not offered
    symbols, value = view.symbol_choices(report.get("symbols") or [], chosen, failed)
    return [{"label": s, "value": s} for s in symbols], value


@callback(
    output={
        "start_invalid": Output(ids.START, "invalid"),
        "end_invalid": Output(ids.END, "invalid"),
        "start_feedback": Output(ids.START_FEEDBACK, "children"),
        "end_feedback": Output(ids.END_FEEDBACK, "children"),
        "run_disabled": Output(ids.RUN, "disabled"),
        "status": Output(ids.FORM_STATUS, "children"),
    },
    inputs={
        "symbols": Input(ids.SYMBOLS, "value"),
        "start": Input(ids.START, "value"),
        "end": Input(ids.END, "value"),
    },
)
def validate_form(symbols: Sequence[str] | None, start: Any, end: Any) -> dict[str, Any]:
    errors = forms.field_errors({"start": start, "end": end})
    return {
        "start_invalid": bool(errors["start"]),
        "end_invalid": bool(errors["end"]),
        "start_feedback": errors["start"],
        "end_feedback": errors["end"],
        "run_disabled": bool(errors["start"] or errors["end"] or not symbols),
        "status": "" if symbols else "Choose at least one symbol.",
    }


# ----------------------------------------------------------------- run


@callback(
    output={
        "results": Output(ids.RESULTS, "children"),
        "run_state": Output(ids.RUN_STATE, "data"),
        "search": Output(ids.LOCATION, "search"),
        "download_disabled": Output(ids.DOWNLOAD_BUTTON, "disabled"),
    },
    inputs={"n_clicks": Input(ids.RUN, "n_clicks"), "autorun": Input(ids.AUTORUN, "data")},
    state={
        "symbols": State(ids.SYMBOLS, "value"),
        "start": State(ids.START, "value"),
        "end": State(ids.END, "value"),
        "store": State(shell.SESSION_SOURCE, "data"),
    },
)
def run_stocks(
    n_clicks: int | None,
    autorun: bool | None,
    symbols: Sequence[str] | None,
    start: Any,
    end: Any,
    store: Any,
) -> Any:
    if not n_clicks and not autorun:
        return no_update
    entered = url_state.entered_query({"symbols": symbols, "start": start, "end": end})
    try:
        source = services.resolve_source(store)
        analysis = services.stocks(source, list(symbols or []), start or None, end or None)
    except engine.EngineError as exc:
        return failed_run(components.error_alert(str(exc), title="Cannot analyse these stocks"), entered)
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("stock analysis failed")
        return failed_run(
            components.error_alert("the stock analysis failed unexpectedly (details are in the server log)"),
            entered,
        )
    state = {"source": source, "symbols": list(symbols or []), "start": start or None, "end": end or None}
    search = "?" + url_state.params_to_query({"symbols": state["symbols"], "start": start, "end": end})
    notes = source_notes(log, services.source_info, source, cannot="be analysed")
    return {
        "results": results_section(analysis, notes),
        "run_state": state,
        "search": search,
        "download_disabled": False,
    }


def metrics_table(metrics: Mapping[str, Sequence[Any]] | None) -> Any:
    """One row per symbol, formatted (the CSV keeps full precision)."""
    rows = view.metric_rows(metrics)
    if not rows:
        return html.P("No metrics.", className="text-muted")
    header = html.Thead(
        html.Tr(
            [html.Th("Symbol")]
            + [html.Th(components.METRIC_TITLES[k], className="text-end") for k in view.METRIC_COLUMNS]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(row[0], className="fw-semibold")]
                + [html.Td(cell, className="text-end font-monospace") for cell in row[1:]]
            )
            for row in rows
        ]
    )
    return dbc.Table(
        [header, body],
        size="sm",
        striped=True,
        hover=True,
        responsive=True,
        id=ids.METRICS_TABLE,
        className="mb-3",
    )


def _graph(name: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(id=ids.graph(name), figure=figure, config=dict(GRAPH_CONFIG))


def results_section(analysis: Mapping[str, Any], notes: Sequence[str] = ()) -> list[Any]:
    """The warnings (the analysis' and ``notes``: the data's failed tickers, which the symbol
    list leaves out, and its dropped input, as the Backtest page shows them), the metrics and
    charts."""
    return [
        html.Div(components.warning_list([*(analysis.get("warnings") or []), *notes]), id=ids.WARNINGS),
        metrics_table(analysis.get("metrics")),
        _graph("prices", figures.normalised_prices_figure(analysis.get("prices"))),
        dbc.Row(
            [
                dbc.Col(
                    _graph("returns", figures.return_distribution_figure(analysis.get("returns"))),
                    xs=12,
                    xl=6,
                ),
                dbc.Col(
                    _graph("correlation", figures.correlation_figure(analysis.get("correlation"))),
                    xs=12,
                    xl=6,
                ),
            ],
            className="g-2",
        ),
    ]


# ----------------------------------------------------------------- download


@callback(
    Output(ids.DOWNLOAD, "data"),
    Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.RUN_STATE, "data"),
    prevent_initial_call=True,
)
def download_metrics(n_clicks: int | None, state: Mapping[str, Any] | None) -> Any:
    state = read_store(state, STOCKS_RUN, name="stocks-run-state")
    if not n_clicks or not state:
        return no_update

    def build() -> tuple[str, str]:
        source = state["source"]
        analysis = services.stocks(source, state["symbols"], state.get("start"), state.get("end"))
        info = services.source_info(source)
        return view.metrics_csv(analysis, state, info), info["fingerprint"]

    return csv_download(log, "stock_metrics", build)
