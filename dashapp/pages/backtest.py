"""Backtest page (``/``, also ``/backtest``): one strategy, its charts, metrics and downloads.

Flow: the form is validated as the user types (``forms.field_errors``; Run is disabled
while a field is invalid). Run validates again on the server, calls ``services.backtest``
(which caches plain results) and writes the parameters to the URL. Opening such a URL
prefills the form from the query (``layout(**query)``) and runs it at once: the same
parameters on the same data give the same (cached) result, so a link reproduces a run.

Only ``{"source", "params"}`` of the shown run is kept in the browser (``backtest-run``
Store); downloads and the robustness check ask ``services`` again, which answers from
its cache, so no result or figure is ever held in a module global or in the page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.io.json
from dash import Input, Output, State, callback, dcc, html, no_update, register_page

import engine
from dashapp import components, csv_export, figures, forms, services, url_state
from dashapp.store_shapes import BACKTEST_RUN, read_store

log = logging.getLogger(__name__)

register_page(__name__, path="/", name="Backtest", title="Backtest · Sentiment Portfolio Lab", order=1)

PREFIX = "backtest"
SESSION_SOURCE = "session-source"
GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType(
    {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtonsToRemove": ("select2d", "lasso2d", "autoScale2d"),
    }
)
# (metric, card title, format) in the order the cards are shown.
HEADLINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("sharpe", "Sharpe ratio", "ratio"),
    ("sortino", "Sortino ratio", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("annual_volatility", "Volatility (annual)", "pct"),
    ("information_ratio", "Information ratio", "ratio"),
)
DOWNLOADS = ("returns", "holdings", "metrics")
VIEW_VERSION = "1"  # bump when results_section's output changes: cached views are keyed by it
EMPTY_HINT = "Set the parameters on the left and press Run backtest."


def _field_inputs(kind: type) -> list[Any]:
    return [kind(forms.field_id(PREFIX, name), "value") for name in forms.FIELD_NAMES]


# ----------------------------------------------------------------- layout


def layout(**query: Any) -> html.Div:
    params, messages = url_state.read_query(query)
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
    form = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H5("Strategy", className="card-title me-auto mb-0"),
                        dbc.Button("Run backtest", id=f"{PREFIX}-run", color="primary", size="sm"),
                    ],
                    className="d-flex align-items-center mb-2",
                ),
                html.Div(id=f"{PREFIX}-form-status", className="small text-danger", role="status"),
                link_notes,
                forms.strategy_form(PREFIX, params),
            ]
        ),
        className="spl-form-card shadow-sm",
    )
    results_header = html.Div(
        [
            html.H5("Results", className="me-auto mb-0"),
            dbc.ButtonGroup(
                [
                    dbc.Button(
                        f"{label} CSV",
                        id=f"{PREFIX}-download-{label}-button",
                        color="secondary",
                        outline=True,
                        size="sm",
                        disabled=True,
                    )
                    for label in DOWNLOADS
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
                            id=f"{PREFIX}-robustness-run",
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
                dcc.Loading(html.Div(id=f"{PREFIX}-robustness"), type="default"),
            ]
        ),
        className="mt-3 shadow-sm",
    )
    return html.Div(
        [
            dcc.Location(id=f"{PREFIX}-location", refresh=False),
            dcc.Store(id=f"{PREFIX}-autorun", data=bool(params)),
            dcc.Store(id=f"{PREFIX}-run-state"),
            *[dcc.Download(id=f"{PREFIX}-download-{label}") for label in DOWNLOADS],
            dbc.Row(
                [
                    dbc.Col(form, xs=12, lg=4, xxl=3, className="mb-3"),
                    dbc.Col(
                        [
                            results_header,
                            dcc.Loading(
                                html.Div(html.P(EMPTY_HINT, className="text-muted"), id=f"{PREFIX}-results"),
                                type="default",
                                delay_show=150,
                            ),
                            robustness,
                        ],
                        xs=12,
                        lg=8,
                        xxl=9,
                    ),
                ],
                className="g-3",
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
    [Output(forms.field_id(PREFIX, n), "invalid") for n in forms.FIELD_NAMES]
    + [Output(forms.feedback_id(PREFIX, n), "children") for n in forms.FIELD_NAMES]
    + [Output(f"{PREFIX}-run", "disabled"), Output(f"{PREFIX}-form-status", "children")],
    _field_inputs(Input),
)
def validate_form(*values: Any) -> list[Any]:
    errors = forms.field_errors(forms.form_mapping(values))
    bad = [name for name in forms.FIELD_NAMES if errors[name]]
    status = f"Fix {len(bad)} field{'s' if len(bad) > 1 else ''} to run." if bad else ""
    return (
        [bool(errors[n]) for n in forms.FIELD_NAMES]
        + [errors[n] for n in forms.FIELD_NAMES]
        + [bool(bad), status]
    )


# ----------------------------------------------------------------- run


@callback(
    Output(f"{PREFIX}-results", "children"),
    Output(f"{PREFIX}-run-state", "data"),
    Output(f"{PREFIX}-location", "search"),
    *[Output(f"{PREFIX}-download-{label}-button", "disabled") for label in DOWNLOADS],
    Output(f"{PREFIX}-robustness-run", "disabled"),
    Output(f"{PREFIX}-robustness", "children", allow_duplicate=True),
    Input(f"{PREFIX}-run", "n_clicks"),
    Input(f"{PREFIX}-autorun", "data"),
    *_field_inputs(State),
    State(SESSION_SOURCE, "data"),
    prevent_initial_call="initial_duplicate",
)
def run_backtest(n_clicks: int | None, autorun: bool | None, *values: Any) -> tuple[Any, ...]:
    """Run button (or a link with parameters) -> results section, run state and URL."""
    *fields, store = values
    if not n_clicks and not autorun:
        return (no_update,) * 8
    disabled = (True,) * (len(DOWNLOADS) + 1)
    try:
        params = forms.parse_params(forms.form_mapping(fields))
        source = services.resolve_source(store)
        section = services.backtest_view(source, params.to_dict(), render_results, version=VIEW_VERSION)
    except engine.EngineError as exc:
        return (
            components.error_alert(str(exc), title="Cannot run this backtest"),
            None,
            no_update,
            *disabled,
            None,
        )
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("backtest failed")
        return (
            components.error_alert("the backtest failed unexpectedly (details are in the server log)"),
            None,
            no_update,
            *disabled,
            None,
        )
    search = "?" + url_state.params_to_query(params.to_dict())
    state = {"source": source, "params": params.to_dict()}
    return (section, state, search, *(False,) * (len(DOWNLOADS) + 1), None)


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
    """Plain-words notes about the data behind the run (failed tickers, dropped rows)."""
    try:
        report = services.source_info(source).get("report") or {}
    except Exception:  # notes are a courtesy; the run itself succeeded
        log.exception("source report unavailable")
        return []
    notes = []
    failed = list(report.get("failed_tickers") or [])
    if failed:
        shown = ", ".join(failed[:15]) + (f" and {len(failed) - 15} more" if len(failed) > 15 else "")
        notes.append(f"No prices could be had for {len(failed)} ticker(s), which were left out: {shown}.")
    for dropped in report.get("dropped") or []:
        notes.append(f"{dropped.get('count', 0):,} input row(s) were dropped: {dropped.get('reason', '')}.")
    return notes


# ----------------------------------------------------------------- results (plain data -> components)


def metric_cards(result: Mapping[str, Any]) -> dbc.Row:
    """Eight cards: the headline metrics, strategy (large) vs benchmark (small)."""
    metrics = result.get("metrics") or {}
    bench = result.get("benchmark_metrics") or {}
    benchmark_name = (result.get("manifest") or {}).get("params", {}).get("benchmark", "Benchmark")
    cards = [
        components.metric_card(title, metrics.get(key), bench.get(key), fmt, benchmark_label=benchmark_name)
        for key, title, fmt in HEADLINE_METRICS
    ]
    beta = components.format_value(metrics.get("beta"), "ratio")
    alpha = components.format_value(metrics.get("alpha"), "pct")
    cards.insert(
        6,
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div("Beta / alpha (annual)", className="spl-metric-title text-muted small"),
                    html.Div(f"{beta} / {alpha}", className="spl-metric-value fs-4 fw-semibold"),
                    html.Div(f"against {benchmark_name}", className="spl-metric-benchmark small text-muted"),
                ],
                className="p-2",
            ),
            className="spl-metric-card h-100",
        ),
    )
    return dbc.Row(
        [dbc.Col(card, xs=6, md=3, className="mb-2") for card in cards],
        className="g-2 mb-2",
        id=f"{PREFIX}-metric-cards",
    )


def _graph(name: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(
        id=f"{PREFIX}-graph-{name}", figure=figure, config=dict(GRAPH_CONFIG), className="spl-graph"
    )


def run_summary(result: Mapping[str, Any]) -> html.Div:
    manifest = result.get("manifest") or {}
    params = manifest.get("params") or {}
    returns = result.get("returns") or {}
    dates = returns.get("date") or []
    span = f"{dates[0]} to {dates[-1]} ({len(dates)} trading days)" if dates else "no trading days"
    pieces = [
        (
            f"{params.get('signal', '')} ({params.get('signal_transform', '')}), top {params.get('top_n', '')}, "
            f"{params.get('rebalance', '')}, {str(params.get('weighting', '')).replace('_', ' ')} weights, "
            f"{params.get('cost_bps', 0):g} bps costs, lag {params.get('lag_days', 0)} d"
        ),
        span,
        f"data: {manifest.get('data_source', '')}"
        + (
            " (SYNTHETIC)"
            if manifest.get("synthetic") and "SYNTHETIC" not in str(manifest.get("data_source"))
            else ""
        ),
        f"fingerprint {manifest.get('fingerprint', '')}",
    ]
    return html.Div(" · ".join(pieces), className="small text-muted mb-2", id=f"{PREFIX}-run-summary")


def results_section(result: Mapping[str, Any], notes: Sequence[str] = ()) -> list[Any]:
    """Every result block of one backtest, from its plain form."""
    returns = result.get("returns") or {}
    risk_free = float(((result.get("manifest") or {}).get("params") or {}).get("risk_free") or 0.0)
    warnings = list(result.get("warnings") or []) + list(notes)
    universe = result.get("universe_metrics") or {}
    return [
        run_summary(result),
        metric_cards(result),
        html.Div(
            "Eligible-universe benchmark: total return "
            f"{components.format_value(universe.get('total_return'), 'pct')}, "
            f"Sharpe {components.format_value(universe.get('sharpe'), 'ratio')}.",
            className="small text-muted mb-2",
        ),
        components.warning_list(warnings),
        _graph("cumulative", figures.cumulative_returns_figure(returns)),
        _graph("drawdown", figures.drawdown_figure(returns, result.get("drawdown"))),
        dbc.Row(
            [
                dbc.Col(_graph("monthly", figures.monthly_heatmap_figure(returns)), xs=12, xl=6),
                dbc.Col(_graph("turnover", figures.turnover_figure(result.get("periods"))), xs=12, xl=6),
            ],
            className="g-2",
        ),
        _graph("rolling", figures.rolling_figure(returns, risk_free=risk_free)),
        _graph("holdings", figures.holdings_figure(result.get("holdings"))),
    ]


# ----------------------------------------------------------------- downloads


def _header(result: Mapping[str, Any], what: str) -> dict[str, Any]:
    manifest = result.get("manifest") or {}
    return {
        "content": what,
        "data_source": manifest.get("data_source", ""),
        "synthetic": manifest.get("synthetic", ""),
        "fingerprint": manifest.get("fingerprint", ""),
        "engine_version": manifest.get("version", ""),
        "params": manifest.get("params", {}),
        "link": "/?" + url_state.params_to_query(manifest.get("params") or {}),
    }


def returns_csv(result: Mapping[str, Any]) -> str:
    frame = pd.DataFrame(result.get("returns") or {})
    return csv_export.frame_to_csv(frame, header=_header(result, "daily simple returns (net of costs)"))


def holdings_csv(result: Mapping[str, Any]) -> str:
    frame = pd.DataFrame(result.get("holdings") or {})
    return csv_export.frame_to_csv(
        frame, header=_header(result, "holdings per period (target weights at entry)")
    )


def metrics_csv(result: Mapping[str, Any]) -> str:
    names = list(engine.METRIC_NAMES)
    frame = pd.DataFrame(
        {
            "metric": names,
            "strategy": [(result.get("metrics") or {}).get(n) for n in names],
            "benchmark": [(result.get("benchmark_metrics") or {}).get(n) for n in names],
            "universe": [(result.get("universe_metrics") or {}).get(n) for n in names],
        }
    )
    return csv_export.frame_to_csv(
        frame, header=_header(result, "performance metrics (252-day annualisation)")
    )


_CSV_BUILDERS: Mapping[str, Any] = MappingProxyType(
    {"returns": returns_csv, "holdings": holdings_csv, "metrics": metrics_csv}
)


def download(kind: str, state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``dcc.Download`` data for one CSV of the shown run, or None when there is none."""
    state = read_store(state, BACKTEST_RUN, name="backtest-run-state")
    if not state:
        return None
    result = services.backtest(state.get("source"), state.get("params"))
    fingerprint = (result.get("manifest") or {}).get("fingerprint", "run")
    return {
        "content": _CSV_BUILDERS[kind](result),
        "filename": f"backtest_{kind}_{fingerprint}.csv",
        "type": "text/csv",
    }


def _register_download(kind: str) -> None:
    @callback(
        Output(f"{PREFIX}-download-{kind}", "data"),
        Input(f"{PREFIX}-download-{kind}-button", "n_clicks"),
        State(f"{PREFIX}-run-state", "data"),
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


# ----------------------------------------------------------------- robustness


@callback(
    Output(f"{PREFIX}-robustness", "children"),
    Input(f"{PREFIX}-robustness-run", "n_clicks"),
    State(f"{PREFIX}-run-state", "data"),
    prevent_initial_call=True,
    background=True,
    running=[(Output(f"{PREFIX}-robustness-run", "disabled"), True, False)],
)
def run_robustness(n_clicks: int | None, state: Mapping[str, Any] | None) -> Any:
    state = read_store(state, BACKTEST_RUN, name="backtest-run-state")
    if not n_clicks or not state:
        return no_update
    try:
        report = services.robustness(state.get("source"), state.get("params"))
    except engine.EngineError as exc:
        return components.error_alert(str(exc), title="Cannot run the robustness checks")
    except Exception:
        log.exception("robustness failed")
        return components.error_alert(
            "the robustness checks failed unexpectedly (details are in the server log)"
        )
    return robustness_section(report)


def _interval(block: Mapping[str, Any] | None, fmt: str) -> str:
    """``estimate [low, high] (95% CI)`` of an ``engine`` ConfidenceInterval in plain form."""
    if not isinstance(block, Mapping):
        return components.MISSING
    estimate, low, high = (
        components.format_value(block.get(key), fmt) for key in ("estimate", "low", "high")
    )
    text = f"{estimate} [{low}, {high}]"
    level = block.get("level")
    if isinstance(level, (int, float)):
        text += f" ({level:.0%} CI)"
    return text


def robustness_section(report: Mapping[str, Any]) -> html.Div:
    """Bootstrap intervals, random-portfolio rank and its histogram (``engine.RobustnessReport``)."""
    random_block = report.get("random_portfolios") or {}
    rows = [
        ("Sharpe ratio (stationary bootstrap)", _interval(report.get("sharpe_ci"), "ratio")),
        (
            "Annual excess return over the benchmark (bootstrap)",
            _interval(report.get("excess_return_ci"), "pct"),
        ),
        (
            "Probabilistic Sharpe ratio (P[true Sharpe > 0])",
            components.format_value(report.get("probabilistic_sharpe"), "{:.3f}"),
        ),
        (
            "Sharpe percentile among random portfolios",
            components.format_value(random_block.get("percentile"), "{:.1f} / 100"),
        ),
        (
            "p-value (share of random portfolios with a Sharpe at least as high)",
            components.format_value(random_block.get("p_value"), "{:.3f}"),
        ),
        ("Random portfolios drawn", components.format_value(random_block.get("n"), "int")),
    ]
    histogram = figures.distribution_figure(
        random_block.get("sharpes"),
        random_block.get("strategy_sharpe"),
        title="Sharpe ratio of random portfolios (same eligible symbols and dates)",
    )
    footer = (
        f"{components.format_value(report.get('n_boot'), 'int')} bootstrap resamples, mean block "
        f"{components.format_value(report.get('block_length'), '{:g}')} days, "
        f"seed {report.get('seed', '')}, "
        f"executor {report.get('executor', '')}."
    )
    return html.Div(
        [
            components.key_value_table(rows, class_name="spl-robustness-table"),
            components.warning_list([str(n) for n in report.get("notes") or []]),
            _graph("robustness", histogram),
            html.Div(footer, className="small text-muted"),
        ],
        id=f"{PREFIX}-robustness-result",
    )
