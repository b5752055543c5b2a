"""Signal page (``/signal``): does the engagement signal predict the next period's return?

For the signal settings of the form (signal, transform, thresholds, aggregation, rebalance
frequency, lag, dates) and the analysis settings (quantiles, IC decay horizons, rolling
window), ``services.research.signal_analysis`` (``engine.analyze_signal``, on the backtest's
calendar and holdability) gives: the information coefficient per period with its rolling
mean and summary cards (mean, std, IR, t-stat, share positive), the IC decay, the quantile
portfolios (mean return per quantile, cumulative return of each, top-minus-bottom spread
with its t-statistic, top-quantile turnover), coverage and the signal's distribution. The
note says when periods were left out of the quantiles (or none formed). The CSV has the
per-period IC and quantile returns under the manifest header of the other exports.

URL state: the signal fields that differ from the defaults and ``quantiles``, ``horizons``,
``rolling_window``; after a failed analysis, the fields and settings as entered (invalid
ones included, shown flagged on reload). The page runs on load (the analysis takes a
fraction of a second).
Every input is validated on the server; bad input gets one sentence in the page.
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
from dashapp.pages.ids import signal as ids
from dashapp.services import research
from dashapp.ui import components, forms, url_state
from dashapp.ui.figures import signal as signal_figures
from dashapp.ui.store_shapes import SCALAR, MapOf, Record, read_store
from dashapp.views import signal as view

log = logging.getLogger(__name__)

register_page(__name__, path="/signal", name="Signal", title="Signal · Sentiment Portfolio Lab", order=3)

GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType({"displaylogo": False, "responsive": True})
SIGNAL_RUN = Record(
    {"source": MapOf(SCALAR), "params": MapOf(SCALAR), "settings": MapOf(SCALAR)},
    required=frozenset({"source", "params", "settings"}),
)
SETTING_IDS: Mapping[str, str] = MappingProxyType(
    {"quantiles": ids.QUANTILES, "horizons": ids.HORIZONS, "rolling_window": ids.ROLLING_WINDOW}
)
SETTING_LABELS: Mapping[str, str] = MappingProxyType(
    {"quantiles": "Quantiles", "horizons": "IC decay horizons", "rolling_window": "Rolling IC window"}
)


def _signal_fields(params: Mapping[str, Any]) -> list[Any]:
    """The strategy form's inputs for the signal fields only (same ids, help and checks)."""
    row = forms.strategy_form(ids.PREFIX, params)
    return [
        col for spec, col in zip(forms.FIELDS, row.children, strict=True) if spec.name in view.SIGNAL_FIELDS
    ]


def _setting_field(name: str, value: Any) -> dbc.Col:
    ident = SETTING_IDS[name]
    return dbc.Col(
        [
            dbc.Label(SETTING_LABELS[name], html_for=ident, className="small mb-0 fw-semibold"),
            dbc.Input(id=ident, type="number", min=1, step=1, value=value, size="sm"),
            dbc.FormFeedback(id=f"{ident}-feedback", type="invalid"),
        ],
        xs=4,
    )


def layout(**query: Any) -> html.Div:
    params, messages = url_state.read_query(query, view.SETTING_FIELDS, keep_invalid=forms.TYPED_FIELDS)
    raw = url_state.query_values(query)
    settings = view.settings_from_query(raw)
    form = dbc.Card(
        dbc.CardBody(
            [
                components.title_bar(
                    "Signal",
                    dbc.Button("Analyse", id=ids.RUN, color="primary", size="sm"),
                    title_class="card-title me-auto mb-0",
                ),
                components.link_notes(messages),
                html.P(
                    "Does the signal predict the next holding period's return? Same calendar, "
                    "eligibility and holdability as the backtest; no costs.",
                    className="small text-muted mb-2",
                ),
                dbc.Row(_signal_fields(params), className="g-2"),
                html.H6("Analysis", className="mt-3 mb-1"),
                dbc.Row(
                    [_setting_field(name, settings[name]) for name in view.SETTING_FIELDS], className="g-2"
                ),
                html.Div(id=ids.FORM_STATUS, className="small text-danger mt-2", role="status"),
            ]
        ),
        className="spl-form-card shadow-sm",
    )
    results = html.Div(
        [
            components.title_bar(
                "Signal analysis", components.download_button("IC and quantile returns", ids.DOWNLOAD_BUTTON)
            ),
            dcc.Loading(
                html.Div(html.P("Press Analyse.", className="text-muted"), id=ids.RESULTS),
                type="default",
                delay_show=150,
            ),
        ]
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.AUTORUN, data=True),
            dcc.Store(id=ids.RUN_STATE),
            dcc.Download(id=ids.DOWNLOAD),
            components.form_and_results(form, results),
        ],
        className="spl-page-signal",
    )


def _fields(kind: type) -> dict[str, Any]:
    return {name: kind(forms.field_id(ids.PREFIX, name), "value") for name in view.SIGNAL_FIELDS}


def _settings(kind: type) -> dict[str, Any]:
    return {name: kind(SETTING_IDS[name], "value") for name in view.SETTING_FIELDS}


# ----------------------------------------------------------------- validation as the user types


@callback(
    output={
        "invalid": {n: Output(forms.field_id(ids.PREFIX, n), "invalid") for n in view.SIGNAL_FIELDS},
        "feedback": {n: Output(forms.feedback_id(ids.PREFIX, n), "children") for n in view.SIGNAL_FIELDS},
        "settings_invalid": {n: Output(SETTING_IDS[n], "invalid") for n in view.SETTING_FIELDS},
        "settings_feedback": {
            n: Output(f"{SETTING_IDS[n]}-feedback", "children") for n in view.SETTING_FIELDS
        },
        "run_disabled": Output(ids.RUN, "disabled"),
        "status": Output(ids.FORM_STATUS, "children"),
    },
    inputs={"fields": _fields(Input), "settings": _settings(Input)},
)
def validate_signal_form(fields: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    errors = view.field_errors(fields)
    setting_errors = view.setting_errors(settings)
    n_problems = sum(1 for m in [*errors.values(), *setting_errors.values()] if m)
    return {
        "invalid": {n: bool(errors[n]) for n in view.SIGNAL_FIELDS},
        "feedback": errors,
        "settings_invalid": {n: bool(setting_errors[n]) for n in view.SETTING_FIELDS},
        "settings_feedback": setting_errors,
        "run_disabled": bool(n_problems),
        "status": f"Fix {n_problems} field{'s' if n_problems > 1 else ''} to run." if n_problems else "",
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
        "fields": _fields(State),
        "settings": _settings(State),
        "store": State(shell.SESSION_SOURCE, "data"),
    },
)
def run_signal(
    n_clicks: int | None,
    autorun: bool | None,
    fields: Mapping[str, Any],
    settings: Mapping[str, Any],
    store: Any,
) -> Any:
    """Analyse button (or the page load) -> the results, the run's state and the URL."""
    if not n_clicks and not autorun:
        return no_update
    entered = view.entered_signal_query(fields, settings)
    try:
        source = services.resolve_source(store)
        params = view.params_from(fields)
        checked = research.signal_settings(settings)
        plain_settings = {name: getattr(checked, name) for name in view.SETTING_FIELDS}
        analysis = research.signal_analysis(source, params, plain_settings)
    except engine.EngineError as exc:
        return failed_run(components.error_alert(str(exc), title="Cannot analyse this signal"), entered)
    except Exception:  # the page shows a message, the log keeps the traceback
        log.exception("signal analysis failed")
        return failed_run(
            components.error_alert("the signal analysis failed unexpectedly (details are in the server log)"),
            entered,
        )
    return {
        "results": results_section(analysis, source_notes(log, services.source_info, source)),
        "run_state": {"source": source, "params": params, "settings": plain_settings},
        "search": view.signal_query(params, plain_settings),
        "download_disabled": False,
    }


def _graph(name: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(id=ids.graph(name), figure=figure, config=dict(GRAPH_CONFIG))


def _pair(left: Any, right: Any) -> dbc.Row:
    return dbc.Row([dbc.Col(left, xs=12, xl=6), dbc.Col(right, xs=12, xl=6)], className="g-2")


def results_section(analysis: Mapping[str, Any], notes: Sequence[str] = ()) -> list[Any]:
    """The cards, the quantile and horizon notes, the warnings (the analysis' and ``notes``: the data's
    failed tickers and dropped input, as the Backtest page shows them) and the charts."""
    cards = dbc.Row(
        [
            dbc.Col(components.metric_card(title, value, fmt=fmt), xs=6, md=4, xl=True, className="mb-2")
            for title, value, fmt in view.ic_cards(analysis)
        ],
        className="g-2",
        id=ids.CARDS,
    )
    alerts = [components.info_alert(note, color="warning") for note in view.notes(analysis)]
    settings = analysis.get("settings") or {}
    params = analysis.get("params") or {}
    return [
        cards,
        # The notes once (their words also sit in the analysis' warnings, left out below).
        html.Div(alerts or None, id=ids.QUANTILE_NOTE),
        html.Div(components.warning_list([*view.other_warnings(analysis), *notes]), id=ids.WARNINGS),
        _graph("ic", signal_figures.ic_figure(analysis.get("periods"), settings.get("rolling_window"))),
        _pair(
            _graph("decay", signal_figures.ic_decay_figure(analysis.get("ic_decay"))),
            _graph("quantiles", signal_figures.quantile_returns_figure(analysis.get("quantile_summary"))),
        ),
        _graph("cumulative", signal_figures.quantile_cumulative_figure(analysis.get("cumulative_returns"))),
        _pair(
            _graph("coverage", signal_figures.coverage_figure(analysis.get("periods"))),
            _graph(
                "distribution",
                signal_figures.signal_histogram_figure(
                    analysis.get("signal_values"), str(params.get("signal") or "signal")
                ),
            ),
        ),
        html.H6("Signal distribution", className="mt-2"),
        components.key_value_table(view.distribution_rows(analysis), class_name="spl-kv"),
    ]


# ----------------------------------------------------------------- download


@callback(
    Output(ids.DOWNLOAD, "data"),
    Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.RUN_STATE, "data"),
    prevent_initial_call=True,
)
def download_signal(n_clicks: int | None, state: Mapping[str, Any] | None) -> Any:
    state = read_store(state, SIGNAL_RUN, name="signal-run-state")
    if not n_clicks or not state:
        return no_update

    def build() -> tuple[str, str]:
        source = services.resolve_source(state["source"])
        analysis = research.signal_analysis(source, state["params"], state["settings"])
        return view.ic_csv(analysis), (analysis.get("manifest") or {}).get("fingerprint", "")

    return csv_download(log, "signal_analysis", build)
