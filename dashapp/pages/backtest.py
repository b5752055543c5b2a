"""Backtest page (``/``, also ``/backtest``): one strategy, its charts, metrics and downloads.

Flow: the form is validated as the user types (``forms.field_errors``; Run is disabled
while a field is invalid). Run validates again on the server, calls ``services.backtest``
(which caches plain results) and writes the parameters to the URL; a run that fails
(invalid parameters, or an engine error) writes the form's values as entered, so the URL
still says what the user asked for. Opening such a URL prefills the form from the query
(``layout(**query)``; an invalid typed value is shown as entered, flagged) and runs it at
once: the same parameters on the same data give the same (cached) result, or the same
one-sentence error, so a link reproduces a run.

Only ``{"source", "params"}`` of the shown run is kept in the browser (``backtest-run``
Store); downloads and the robustness check ask ``services`` again, which answers from
its cache, so no result or figure is ever held in a module global or in the page.
What each block shows is computed by ``dashapp.views.backtest``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
import plotly.io.json
from dash import Input, Output, State, callback, dcc, html, no_update, register_page

import engine
from dashapp import services
from dashapp.pages._common import source_notes
from dashapp.pages.ids import backtest as ids
from dashapp.pages.ids import shell
from dashapp.ui import components, figures, forms, url_state
from dashapp.ui.store_shapes import BACKTEST_RUN, read_store
from dashapp.views import backtest as view

log = logging.getLogger(__name__)

register_page(__name__, path="/", name="Backtest", title="Backtest · Sentiment Portfolio Lab", order=1)

GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType(
    {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtonsToRemove": ("select2d", "lasso2d", "autoScale2d"),
    }
)
DOWNLOADS = view.DOWNLOADS
VIEW_VERSION = "2"  # bump when results_section's output changes: cached views are keyed by it
EMPTY_HINT = "Set the parameters on the left and press Run backtest."


# ----------------------------------------------------------------- layout


def layout(**query: Any) -> html.Div:
    params, messages = url_state.read_query(query, keep_invalid=forms.TYPED_FIELDS)
    form = dbc.Card(
        dbc.CardBody(
            [
                components.title_bar(
                    "Strategy",
                    dbc.Button("Run backtest", id=ids.RUN, color="primary", size="sm"),
                    title_class="card-title me-auto mb-0",
                ),
                html.Div(id=ids.FORM_STATUS, className="small text-danger", role="status"),
                components.link_notes(messages),
                forms.strategy_form(ids.PREFIX, params),
            ]
        ),
        className="spl-form-card shadow-sm",
    )
    results_header = html.Div(
        [
            html.H5("Results", className="me-auto mb-0"),
            dbc.ButtonGroup(
                [
                    *[components.download_button(label, ids.download_button(label)) for label in DOWNLOADS],
                    dbc.Button(
                        "Download report",
                        id=ids.REPORT_BUTTON,
                        color="primary",
                        outline=True,
                        size="sm",
                        disabled=True,
                        title="One HTML file with the parameters, metrics, charts, periods and warnings",
                    ),
                ],
                size="sm",
            ),
        ],
        className="d-flex align-items-center flex-wrap gap-2 mb-2",
    )
    robustness = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H5("Robustness", className="me-auto mb-0"),
                        dbc.Button(
                            "Run robustness checks",
                            id=ids.ROBUSTNESS_RUN,
                            color="secondary",
                            size="sm",
                            disabled=True,
                        ),
                    ],
                    className="d-flex align-items-center mb-2",
                ),
                html.P(
                    "Bootstrap confidence intervals of the Sharpe ratio and the excess return, and where the "
                    "strategy ranks among random portfolios drawn from the same eligible symbols.",
                    className="small text-muted",
                ),
                dcc.Loading(html.Div(id=ids.ROBUSTNESS), type="default"),
            ]
        ),
        className="mt-3 shadow-sm",
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.AUTORUN, data=bool(params)),
            dcc.Store(id=ids.RUN_STATE),
            *[dcc.Download(id=ids.download(label)) for label in DOWNLOADS],
            dcc.Download(id=ids.REPORT_DOWNLOAD),
            components.form_and_results(
                form,
                [
                    results_header,
                    dcc.Loading(
                        html.Div(html.P(EMPTY_HINT, className="text-muted"), id=ids.RESULTS),
                        type="default",
                        delay_show=150,
                    ),
                    robustness,
                ],
            ),
        ],
        className="spl-page-backtest",
    )


# ``/backtest`` shows the same page, query string included (``redirect_from`` would drop the
# query). As a path template it stays out of the navbar, which lists plain paths only.
register_page(
    f"{__name__}_alias",
    path_template="/backtest",
    layout=layout,
    name="Backtest (alias)",
    title="Backtest · Sentiment Portfolio Lab",
    order=99,
)


# ----------------------------------------------------------------- validation as the user types


@callback(
    output={
        **forms.field_outputs(ids.PREFIX),
        "run_disabled": Output(ids.RUN, "disabled"),
        "status": Output(ids.FORM_STATUS, "children"),
    },
    inputs={"fields": forms.field_inputs(ids.PREFIX, Input)},
)
def validate_form(fields: Mapping[str, Any]) -> dict[str, Any]:
    errors = forms.field_errors(fields)
    bad = [name for name in forms.FIELD_NAMES if errors[name]]
    status = f"Fix {len(bad)} field{'s' if len(bad) > 1 else ''} to run." if bad else ""
    return {**forms.field_flags(errors), "run_disabled": bool(bad), "status": status}


# ----------------------------------------------------------------- run


@callback(
    output={
        "results": Output(ids.RESULTS, "children"),
        "run_state": Output(ids.RUN_STATE, "data"),
        "search": Output(ids.LOCATION, "search"),
        "downloads_disabled": {kind: Output(ids.download_button(kind), "disabled") for kind in DOWNLOADS},
        "report_disabled": Output(ids.REPORT_BUTTON, "disabled"),
        "robustness_disabled": Output(ids.ROBUSTNESS_RUN, "disabled"),
        "robustness": Output(ids.ROBUSTNESS, "children", allow_duplicate=True),
    },
    inputs={"n_clicks": Input(ids.RUN, "n_clicks"), "autorun": Input(ids.AUTORUN, "data")},
    state={"fields": forms.field_inputs(ids.PREFIX, State), "store": State(shell.SESSION_SOURCE, "data")},
    prevent_initial_call="initial_duplicate",
)
def run_backtest(n_clicks: int | None, autorun: bool | None, fields: Mapping[str, Any], store: Any) -> Any:
    """Run button (or a link with parameters) -> results section, run state and URL."""
    if not n_clicks and not autorun:
        return no_update
    try:
        params = forms.parse_params(fields)
        source = services.resolve_source(store)
        section = services.backtest_view(source, params.to_dict(), render_results, version=VIEW_VERSION)
    except engine.EngineError as exc:
        return _failed(components.error_alert(str(exc), title="Cannot run this backtest"), fields)
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("backtest failed")
        return _failed(
            components.error_alert("the backtest failed unexpectedly (details are in the server log)"),
            fields,
        )
    return {
        "results": section,
        "run_state": {"source": source, "params": params.to_dict()},
        "search": "?" + url_state.params_to_query(params.to_dict()),
        "downloads_disabled": dict.fromkeys(DOWNLOADS, False),
        "report_disabled": False,
        "robustness_disabled": False,
        "robustness": None,
    }


def _failed(message: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs of a failed run: ``message`` shown, no state, and the URL holding the
    form's values as entered (invalid ones included), so a reload asks the same again."""
    return {
        "results": message,
        "run_state": None,
        "search": url_state.entered_query({name: fields.get(name) for name in forms.FIELD_NAMES}),
        "downloads_disabled": dict.fromkeys(DOWNLOADS, True),
        "report_disabled": True,
        "robustness_disabled": True,
        "robustness": None,
    }


def render_results(result: Mapping[str, Any], source: Mapping[str, Any]) -> list[Any]:
    """The results section as plain JSON data (what Dash would send), so it can be cached.

    Rebuilding eight plotly figures costs far more than the backtest itself; the rendered
    section is memoized (``services.backtest_view``) as plain dicts, never as components or
    ``go.Figure`` objects, on the backtest's own key (source, data fingerprint, parameters).
    """
    return plain_json(results_section(result, _source_notes(source)))


def plain_json(value: Any) -> Any:
    """Components and figures -> the plain lists/dicts/numbers Dash would serialise them to."""
    return json.loads(plotly.io.json.to_json_plotly(value))


def _source_notes(source: Mapping[str, Any]) -> list[str]:
    return source_notes(log, services.source_info, source)


# ----------------------------------------------------------------- results (view -> components)


def metric_cards(result: Mapping[str, Any]) -> dbc.Row:
    """Eight cards: the headline metrics, strategy (large) vs benchmark (small)."""
    benchmark = view.benchmark_name(result)
    cards = [
        components.metric_card(
            card["title"], card["value"], card["benchmark_value"], card["fmt"], benchmark_label=benchmark
        )
        for card in view.headline_cards(result)
    ]
    beta_alpha = dbc.Card(
        dbc.CardBody(
            [
                html.Div("Beta / alpha (annual)", className="spl-metric-title text-muted small"),
                html.Div(view.beta_alpha_text(result), className="spl-metric-value fs-4 fw-semibold"),
                html.Div(f"against {benchmark}", className="spl-metric-benchmark small text-muted"),
            ],
            className="p-2",
        ),
        className="spl-metric-card h-100",
    )
    cards.insert(6, beta_alpha)
    return dbc.Row(
        [dbc.Col(card, xs=6, md=3, className="mb-2") for card in cards],
        className="g-2 mb-2",
        id=ids.METRIC_CARDS,
    )


def _graph(name: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(id=ids.graph(name), figure=figure, config=dict(GRAPH_CONFIG), className="spl-graph")


def periods_table(result: Mapping[str, Any]) -> html.Details:
    """The holding periods as the engine dated them: signal formed to, bought at the close of."""
    header, rows = view.periods_rows(result)
    table = dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        size="sm",
        striped=True,
        className="small mb-0",
    )
    return html.Details(
        [
            html.Summary(f"Holding periods ({len(rows)}): formation end and entry close of each"),
            html.Div(table, className="table-responsive", style={"maxHeight": "360px"}),
        ],
        id=ids.PERIODS,
        className="mb-3",
    )


def results_section(result: Mapping[str, Any], notes: Sequence[str] = ()) -> list[Any]:
    """Every result block of one backtest, from its plain form."""
    returns = result.get("returns") or {}
    start = view.entry_start(result)
    return [
        html.Div(view.run_summary_text(result), className="small text-muted mb-2", id=ids.RUN_SUMMARY),
        metric_cards(result),
        html.Div(view.universe_text(result), className="small text-muted mb-2"),
        html.Div(components.warning_list(view.warnings(result, notes)), id=ids.WARNINGS),
        _graph("cumulative", figures.cumulative_returns_figure(returns, start=start)),
        _graph("drawdown", figures.drawdown_figure(returns, result.get("drawdown"), start=start)),
        html.Div(view.drawdown_text(result), className="small text-muted mb-2", id=ids.DRAWDOWN_TEXT),
        dbc.Row(
            [
                dbc.Col(_graph("monthly", figures.monthly_heatmap_figure(returns)), xs=12, xl=6),
                dbc.Col(_graph("turnover", figures.turnover_figure(result.get("periods"))), xs=12, xl=6),
            ],
            className="g-2",
        ),
        _graph("rolling", figures.rolling_figure(returns, risk_free=view.risk_free(result))),
        _graph("holdings", figures.holdings_figure(result.get("holdings"), result.get("periods"))),
        periods_table(result),
    ]


# ----------------------------------------------------------------- downloads


def download(kind: str, state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``dcc.Download`` data for one CSV of the shown run, or None when there is none."""
    state = read_store(state, BACKTEST_RUN, name="backtest-run-state")
    if not state:
        return None
    return view.download_data(kind, services.backtest(state["source"], state["params"]))


def _register_download(kind: str) -> None:
    @callback(
        Output(ids.download(kind), "data"),
        Input(ids.download_button(kind), "n_clicks"),
        State(ids.RUN_STATE, "data"),
        prevent_initial_call=True,
    )
    def _download(n_clicks: int | None, state: Mapping[str, Any] | None) -> Any:
        if not n_clicks:
            return no_update
        try:
            return download(kind, state) or no_update
        except Exception:  # a failed download must not break the page
            log.exception("backtest %s download failed", kind)
            return no_update


for _kind in DOWNLOADS:
    _register_download(_kind)


def _robustness_shown(children: Any) -> bool:
    """Whether the robustness block holds a computed result (not an error or nothing)."""
    return isinstance(children, Mapping) and (children.get("props") or {}).get("id") == ids.ROBUSTNESS_RESULT


def report(state: Mapping[str, Any] | None, robustness_shown: bool = False) -> dict[str, Any] | None:
    """``dcc.Download`` data of the HTML report of the shown run (robustness when computed)."""
    from dashapp import report as report_builder  # plotly's HTML writer, only when asked

    state = read_store(state, BACKTEST_RUN, name="backtest-run-state")
    if not state:
        return None
    result = services.backtest(state["source"], state["params"])
    checks = services.robustness(state["source"], state["params"]) if robustness_shown else None
    fingerprint = (result.get("manifest") or {}).get("fingerprint")
    return {
        "content": report_builder.backtest_report_html(result, checks, notes=_source_notes(state["source"])),
        "filename": engine.download_filename("backtest_report", fingerprint, "html"),
        "type": "text/html",
    }


@callback(
    Output(ids.REPORT_DOWNLOAD, "data"),
    Input(ids.REPORT_BUTTON, "n_clicks"),
    State(ids.RUN_STATE, "data"),
    State(ids.ROBUSTNESS, "children"),
    prevent_initial_call=True,
)
def download_report(n_clicks: int | None, state: Mapping[str, Any] | None, robustness_children: Any) -> Any:
    if not n_clicks:
        return no_update
    try:
        return report(state, _robustness_shown(robustness_children)) or no_update
    except Exception:  # a failed download must not break the page
        log.exception("backtest report failed")
        return no_update


# ----------------------------------------------------------------- robustness


@callback(
    Output(ids.ROBUSTNESS, "children"),
    Input(ids.ROBUSTNESS_RUN, "n_clicks"),
    State(ids.RUN_STATE, "data"),
    prevent_initial_call=True,
    background=True,
    running=[(Output(ids.ROBUSTNESS_RUN, "disabled"), True, False)],
)
def run_robustness(n_clicks: int | None, state: Mapping[str, Any] | None) -> Any:
    state = read_store(state, BACKTEST_RUN, name="backtest-run-state")
    if not n_clicks or not state:
        return no_update
    try:
        report = services.robustness(state["source"], state["params"])
    except engine.EngineError as exc:
        return components.error_alert(str(exc), title="Cannot run the robustness checks")
    except Exception:
        log.exception("robustness failed")
        return components.error_alert(
            "the robustness checks failed unexpectedly (details are in the server log)"
        )
    return robustness_section(report)


def robustness_section(report: Mapping[str, Any]) -> html.Div:
    """Bootstrap intervals, random-portfolio rank and its histogram (``engine.RobustnessReport``)."""
    random_block = report.get("random_portfolios") or {}
    histogram = figures.distribution_figure(
        random_block.get("sharpes"),
        random_block.get("strategy_sharpe"),
        title="Sharpe ratio of random portfolios (same eligible symbols and dates)",
    )
    return html.Div(
        [
            components.key_value_table(view.robustness_rows(report), class_name="spl-robustness-table"),
            components.warning_list([str(n) for n in report.get("notes") or []]),
            _graph("robustness", histogram),
            html.Div(view.robustness_footer(report), className="small text-muted"),
        ],
        id=ids.ROBUSTNESS_RESULT,
    )
