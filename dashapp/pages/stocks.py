"""Stocks page (``/stocks``): compare individual symbols of the active data set.

Normalised prices, the distribution of daily returns, a metrics table (total return,
volatility, Sharpe, max drawdown; 252-day annualisation) and the correlation of daily
returns, computed by ``services.stocks`` (``engine.analyze_stocks``). The URL holds
``symbols=A,B&start=...&end=...``; a link with symbols runs at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update, register_page

import engine
from dashapp import components, csv_export, figures, forms, services, url_state
from dashapp.store_shapes import STOCKS_RUN, ListOf, read_store

log = logging.getLogger(__name__)

register_page(__name__, path="/stocks", name="Stocks", title="Stocks · Sentiment Portfolio Lab", order=3)

PREFIX = "stocks"
SESSION_SOURCE = "session-source"
DEFAULT_SYMBOL_COUNT = 4
GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType({"displaylogo": False, "responsive": True})
METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"),
    ("annual_volatility", "Volatility (annual)", "pct"),
    ("sharpe", "Sharpe ratio", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
)


def symbols_from_query(raw: Any) -> list[str]:
    """Tickers of a ``symbols=A,B`` query value; malformed entries dropped."""
    if not isinstance(raw, (str, list, tuple)):
        return []
    return [s.upper() for s in forms.split_values(raw) if isinstance(s, str) and engine.is_ticker(s.upper())]


def _date_error(name: str, value: Any) -> str:
    try:
        engine.StrategyParams.from_mapping({name: value})
    except engine.ParameterError as exc:
        return str(exc)
    return ""


def layout(**query: Any) -> html.Div:
    raw = url_state.query_values(query)
    symbols = symbols_from_query(raw.get("symbols"))
    start = raw.get("start") if not _date_error("start", raw.get("start")) else ""
    end = raw.get("end") if not _date_error("end", raw.get("end")) else ""
    form = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H5("Stocks", className="card-title me-auto mb-0"),
                        dbc.Button("Analyse", id=f"{PREFIX}-run", color="primary", size="sm"),
                    ],
                    className="d-flex align-items-center mb-2",
                ),
                dbc.Label("Symbols", html_for=f"{PREFIX}-symbols", className="small mb-0 fw-semibold"),
                dcc.Dropdown(
                    id=f"{PREFIX}-symbols",
                    options=[{"label": s, "value": s} for s in symbols],
                    value=symbols,
                    multi=True,
                    placeholder="Choose symbols of the active data",
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Start", html_for=f"{PREFIX}-start", className="small mb-0 fw-semibold"
                                ),
                                dbc.Input(id=f"{PREFIX}-start", type="date", value=start, size="sm"),
                                dbc.FormFeedback(id=f"{PREFIX}-start-feedback", type="invalid"),
                            ],
                            xs=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(
                                    "End", html_for=f"{PREFIX}-end", className="small mb-0 fw-semibold"
                                ),
                                dbc.Input(id=f"{PREFIX}-end", type="date", value=end, size="sm"),
                                dbc.FormFeedback(id=f"{PREFIX}-end-feedback", type="invalid"),
                            ],
                            xs=6,
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(id=f"{PREFIX}-form-status", className="small text-danger mt-2", role="status"),
            ]
        ),
        className="spl-form-card shadow-sm",
    )
    results = html.Div(
        [
            html.Div(
                [
                    html.H5("Comparison", className="me-auto mb-0"),
                    dbc.Button(
                        "Metrics CSV",
                        id=f"{PREFIX}-download-button",
                        color="secondary",
                        outline=True,
                        size="sm",
                        disabled=True,
                    ),
                ],
                className="d-flex align-items-center mb-2",
            ),
            dcc.Loading(
                html.Div(
                    html.P("Choose symbols and press Analyse.", className="text-muted"),
                    id=f"{PREFIX}-results",
                ),
                type="default",
                delay_show=150,
            ),
        ]
    )
    return html.Div(
        [
            dcc.Location(id=f"{PREFIX}-location", refresh=False),
            dcc.Store(id=f"{PREFIX}-autorun", data=bool(symbols)),
            dcc.Store(id=f"{PREFIX}-run-state"),
            dcc.Download(id=f"{PREFIX}-download"),
            dbc.Row(
                [
                    dbc.Col(form, xs=12, lg=4, xxl=3, className="mb-3"),
                    dbc.Col(results, xs=12, lg=8, xxl=9),
                ],
                className="g-3",
            ),
        ],
        className="spl-page-stocks",
    )


# ----------------------------------------------------------------- symbol choices and validation


@callback(
    Output(f"{PREFIX}-symbols", "options"),
    Output(f"{PREFIX}-symbols", "value"),
    Input(SESSION_SOURCE, "data"),
    State(f"{PREFIX}-symbols", "value"),
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
    symbols = sorted(set(report.get("symbols") or []) | set(chosen or []))
    options = [{"label": s, "value": s} for s in symbols]
    value = list(chosen) if chosen else symbols[:DEFAULT_SYMBOL_COUNT]
    return options, value


@callback(
    Output(f"{PREFIX}-start", "invalid"),
    Output(f"{PREFIX}-end", "invalid"),
    Output(f"{PREFIX}-start-feedback", "children"),
    Output(f"{PREFIX}-end-feedback", "children"),
    Output(f"{PREFIX}-run", "disabled"),
    Output(f"{PREFIX}-form-status", "children"),
    Input(f"{PREFIX}-symbols", "value"),
    Input(f"{PREFIX}-start", "value"),
    Input(f"{PREFIX}-end", "value"),
)
def validate_form(symbols: Sequence[str] | None, start: Any, end: Any) -> tuple[Any, ...]:
    errors = forms.field_errors({"start": start, "end": end})
    start_error, end_error = errors["start"], errors["end"]
    status = "" if symbols else "Choose at least one symbol."
    bad = bool(start_error or end_error or not symbols)
    return bool(start_error), bool(end_error), start_error, end_error, bad, status


# ----------------------------------------------------------------- run


@callback(
    Output(f"{PREFIX}-results", "children"),
    Output(f"{PREFIX}-run-state", "data"),
    Output(f"{PREFIX}-location", "search"),
    Output(f"{PREFIX}-download-button", "disabled"),
    Input(f"{PREFIX}-run", "n_clicks"),
    Input(f"{PREFIX}-autorun", "data"),
    State(f"{PREFIX}-symbols", "value"),
    State(f"{PREFIX}-start", "value"),
    State(f"{PREFIX}-end", "value"),
    State(SESSION_SOURCE, "data"),
)
def run_stocks(
    n_clicks: int | None,
    autorun: bool | None,
    symbols: Sequence[str] | None,
    start: Any,
    end: Any,
    store: Any,
) -> tuple[Any, ...]:
    if not n_clicks and not autorun:
        return no_update, no_update, no_update, no_update
    try:
        source = services.resolve_source(store)
        analysis = services.stocks(source, list(symbols or []), start or None, end or None)
    except engine.EngineError as exc:
        return components.error_alert(str(exc), title="Cannot analyse these stocks"), None, no_update, True
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("stock analysis failed")
        message = "the stock analysis failed unexpectedly (details are in the server log)"
        return components.error_alert(message), None, no_update, True
    state = {"source": source, "symbols": list(symbols or []), "start": start or None, "end": end or None}
    search = "?" + url_state.params_to_query({"symbols": state["symbols"], "start": start, "end": end})
    return results_section(analysis), state, search, False


def metrics_table(metrics: Mapping[str, Sequence[Any]] | None) -> Any:
    """One row per symbol, formatted (the CSV keeps full precision)."""
    if not metrics or not metrics.get("symbol"):
        return html.P("No metrics.", className="text-muted")
    header = html.Thead(
        html.Tr(
            [html.Th("Symbol")] + [html.Th(title, className="text-end") for _, title, _ in METRIC_COLUMNS]
        )
    )
    rows = []
    for i, symbol in enumerate(metrics["symbol"]):
        cells = [html.Td(str(symbol), className="fw-semibold")]
        for key, _, fmt in METRIC_COLUMNS:
            values = metrics.get(key) or []
            cells.append(
                html.Td(
                    components.format_value(values[i] if i < len(values) else None, fmt),
                    className="text-end font-monospace",
                )
            )
        rows.append(html.Tr(cells))
    return dbc.Table(
        [header, html.Tbody(rows)],
        size="sm",
        striped=True,
        hover=True,
        responsive=True,
        id=f"{PREFIX}-metrics-table",
        className="mb-3",
    )


def _graph(name: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(id=f"{PREFIX}-graph-{name}", figure=figure, config=dict(GRAPH_CONFIG))


def results_section(analysis: Mapping[str, Any]) -> list[Any]:
    return [
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


def metrics_csv(analysis: Mapping[str, Any], state: Mapping[str, Any], label: str = "") -> str:
    frame = pd.DataFrame(analysis.get("metrics") or {})
    header = {
        "content": "per-stock metrics of daily simple returns (252-day annualisation, risk-free 0)",
        "symbols": ",".join(state.get("symbols") or []),
        "start": state.get("start") or "first available day",
        "end": state.get("end") or "last available day",
        "data_source": label,
    }
    return csv_export.frame_to_csv(frame, header=header)


@callback(
    Output(f"{PREFIX}-download", "data"),
    Input(f"{PREFIX}-download-button", "n_clicks"),
    State(f"{PREFIX}-run-state", "data"),
    prevent_initial_call=True,
)
def download_metrics(n_clicks: int | None, state: Mapping[str, Any] | None) -> Any:
    state = read_store(state, STOCKS_RUN, name="stocks-run-state")
    if not n_clicks or not state:
        return no_update
    try:
        source = state.get("source")
        analysis = services.stocks(source, state.get("symbols") or [], state.get("start"), state.get("end"))
        label = services.source_info(source).get("label", "")
        return {
            "content": metrics_csv(analysis, state, label),
            "filename": "stocks_metrics.csv",
            "type": "text/csv",
        }
    except Exception:  # a failed download must not break the page
        log.exception("stocks download failed")
        return no_update
