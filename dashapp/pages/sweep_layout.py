"""Layout of the Sweep page (``/sweep``): the grid form, progress, heatmap, table, summary.

Callbacks are in ``dashapp.pages.sweep``; what the summary shows is ``dashapp.views.sweep``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

import engine
from dashapp.pages.ids import sweep as ids
from dashapp.services import research
from dashapp.ui import components, figures, forms, url_state
from dashapp.views import sweep as view

DEFAULT_GRID: Mapping[str, str | tuple[str, ...]] = MappingProxyType(
    {"top_n": "3, 5, 10", "weighting": ("equal", "inverse_volatility")}
)
GRAPH_CONFIG: Mapping[str, Any] = MappingProxyType({"displaylogo": False, "responsive": True})


def _select(ident: str, label: str, **kwargs: Any) -> dbc.Col:
    return dbc.Col(
        [dbc.Label(label, html_for=ident, className="small mb-0"), dbc.Select(id=ident, size="sm", **kwargs)],
        xs=4,
    )


def link_settings(raw: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The page's own link settings (heatmap ``x``, ``y``, ``metric``; walk-forward ``wf_*``)
    that are valid, and an "Ignored ..." message naming each invalid choice and why (the
    walk-forward ones in ``services.research.walk_forward_settings``' sentence). The typed
    walk-forward numbers are kept as entered (the section states an invalid one's error)."""
    kept: dict[str, str] = {}
    messages: list[str] = []

    def ignore(key: str, why: str) -> None:
        messages.append(f"Ignored {key} from the link: {why}")

    for key in ("x", "y"):
        value = raw.get(key)
        if value and value not in forms.SWEEPABLE:
            ignore(key, f"{key} must be a swept parameter ({', '.join(forms.SWEEPABLE)}); got {value[:40]!r}")
        elif value:
            kept[key] = value
    metric = raw.get("metric")
    if metric and metric not in engine.METRIC_NAMES:
        ignore("metric", f"metric must be one of {', '.join(engine.METRIC_NAMES)}; got {metric[:40]!r}")
    elif metric:
        kept["metric"] = metric
    choices = {"scheme": view.WF_SCHEMES, "metric": view.WF_METRICS}
    for name, key in view.WF_QUERY.items():
        value = raw.get(key)
        if not value:
            continue
        if name not in choices:
            # A typed field (folds, day counts): kept as entered, as the strategy's typed
            # fields are; the walk-forward section says why it cannot use an invalid one.
            kept[key] = value[: url_state.MAX_KEPT_CHARS]
            continue
        try:
            research.walk_forward_settings({name: value[: url_state.MAX_KEPT_CHARS]})
        except engine.ParameterError as exc:
            ignore(key, str(exc))
            continue
        if name in choices and value not in choices[name]:
            ignore(key, f"{key} must be one of {', '.join(choices[name])}; got {value!r}")
            continue
        kept[key] = value
    return kept, messages


def layout(**query: Any) -> html.Div:
    params, messages = url_state.read_query(query, view.WF_QUERY.values(), keep_invalid=forms.TYPED_FIELDS)
    grid_text, grid_messages = url_state.read_grid_query(query, forms.check_sweepable)
    raw, page_messages = link_settings(url_state.query_values(query))
    # A link runs its sweep at once, unless a grid key or a base parameter of it was ignored
    # (the sweep would not be the link's): then the note says what, and Run sweep waits.
    autorun = bool(grid_text) and not grid_messages and not messages
    messages = [*grid_messages, *messages, *page_messages]
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
            components.title_bar("Results", components.download_button("Sweep", ids.DOWNLOAD_BUTTON)),
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
                "filter with the boxes under the headers. The best configuration (highest Sharpe, ★) "
                "comes first; the swept parameters stay pinned on the left; percent metrics are in %.",
                className="small text-muted mt-3 mb-1",
            ),
            components.data_grid(ids.TABLE, row_id_field="id"),
            html.Div(id=ids.FAILED, className="mt-3"),
            walk_forward_section(raw),
        ]
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Location(id=ids.OPEN, refresh="callback-nav"),
            dcc.Store(id=ids.AUTORUN, data=autorun),
            dcc.Store(id=ids.RESULT),
            dcc.Download(id=ids.DOWNLOAD),
            dcc.Download(id=ids.WF_DOWNLOAD),
            dcc.Download(id=ids.WF_RETURNS_DOWNLOAD),
            components.form_and_results(controls, results),
        ],
        className="spl-page-sweep",
    )


# ----------------------------------------------------------------- result blocks


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
            components.warning_list(result.get("warnings")),
            components.key_value_table(view.summary_rows(result), class_name="spl-kv"),
            best_link,
            html.P(no_best, className="small") if (no_best := view.no_best_text(result)) else None,
            html.P(
                "The Deflated Sharpe Ratio is the probability that the best Sharpe ratio is above zero once "
                "the number of configurations tried is accounted for (Bailey & López de Prado); below 0.95 "
                "the best result may well be luck. " + view.TRIALS_NOTE,
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


# ----------------------------------------------------------------- walk-forward validation


def _number(ident: str, label: str, value: Any, placeholder: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=ident, className="small mb-0"),
            dbc.Input(
                id=ident, type="number", min=1, step=1, value=value, placeholder=placeholder, size="sm"
            ),
        ],
        xs=6,
        md=2,
    )


def walk_forward_section(raw: Mapping[str, str]) -> html.Div:
    """Settings (URL ``wf_folds``, ``wf_scheme``, ``wf_is``, ``wf_oos``, ``wf_metric``) and results."""
    scheme = raw.get("wf_scheme") if raw.get("wf_scheme") in view.WF_SCHEMES else "anchored"
    metric = raw.get("wf_metric") if raw.get("wf_metric") in view.WF_METRICS else "sharpe"
    settings = dbc.Row(
        [
            _number(ids.WF_FOLDS, "Folds (K)", raw.get("wf_folds") or view.WF_DEFAULT_FOLDS, "5"),
            _select(
                ids.WF_SCHEME,
                "In-sample window",
                options=[{"label": s, "value": s} for s in view.WF_SCHEMES],
                value=scheme,
            ),
            _number(ids.WF_IS_DAYS, "In-sample days", raw.get("wf_is"), "all before"),
            _number(ids.WF_OOS_DAYS, "Out-of-sample days", raw.get("wf_oos"), "T / (K + 1)"),
            _select(
                ids.WF_METRIC,
                "Selection metric",
                options=[{"label": m.replace("_", " "), "value": m} for m in view.WF_METRICS],
                value=metric,
            ),
        ],
        className="g-2 mb-2",
    )
    return html.Div(
        [
            components.title_bar(
                "Walk-forward validation",
                components.download_button("Folds", ids.WF_DOWNLOAD_BUTTON),
                components.download_button("Out-of-sample returns", ids.WF_RETURNS_DOWNLOAD_BUTTON),
                class_name="d-flex align-items-center flex-wrap gap-2 mb-2",
            ),
            html.P(
                "Each fold picks the configuration with the best in-sample metric using only the days "
                "before its out-of-sample window, then holds it there; the out-of-sample pieces are "
                "stitched into one series. Empty day counts use the defaults (anchored: every day "
                "before the first out-of-sample window; out of sample: T / (K + 1) days).",
                className="small text-muted mb-1",
            ),
            settings,
            html.Div(id=ids.WF_MESSAGE),
            dcc.Loading(
                html.Div(
                    [
                        dcc.Graph(
                            id=ids.WF_EQUITY,
                            figure=figures.empty_figure("Out-of-sample equity", "Run a sweep"),
                            config=dict(GRAPH_CONFIG),
                        ),
                        html.P(id=ids.WF_CHANGES, className="small mb-1"),
                        html.Div(id=ids.WF_SUMMARY),
                        components.data_grid(ids.WF_TABLE),
                        dbc.Row(
                            [
                                dbc.Col(html.Div(id=ids.WF_PBO), xs=12, lg=5),
                                dbc.Col(
                                    dcc.Graph(
                                        id=ids.WF_PBO_HISTOGRAM,
                                        figure=figures.empty_figure("PBO logits", "Run a sweep"),
                                        config=dict(GRAPH_CONFIG),
                                    ),
                                    xs=12,
                                    lg=7,
                                ),
                            ],
                            className="g-2 mt-2",
                        ),
                    ],
                    id=ids.WF_SECTION,
                ),
                type="default",
            ),
        ],
        className="mt-4",
    )


def walk_forward_summary(validation: Mapping[str, Any]) -> html.Div:
    rows = view.oos_summary_rows(validation)
    header = html.Thead(
        html.Tr(
            [
                html.Th("Out of sample"),
                html.Th("Walk-forward"),
                html.Th("Full-history winner"),
                html.Th("Benchmark"),
            ]
        )
    )
    body = html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])
    return html.Div(
        [
            dbc.Table([header, body], size="sm", className="spl-kv mb-2"),
            components.warning_list(validation.get("warnings")),
        ]
    )


def pbo_block(result: Mapping[str, Any], validation: Mapping[str, Any]) -> html.Div:
    """PBO beside the Deflated Sharpe Ratio and its trial counts."""
    rows = [
        *view.pbo_rows(validation),
        (
            "Deflated Sharpe ratio of the best configuration",
            components.format_value(result.get("deflated_sharpe"), "{:.3f}"),
        ),
        ("DSR trials: configurations / distinct / effective", view.trial_counts(result)),
    ]
    return html.Div(
        [
            components.key_value_table(rows, class_name="spl-kv"),
            html.P(
                "PBO (Bailey, Borwein, López de Prado & Zhu, 2015): over every way of splitting the history "
                "into two halves, how often the in-sample best configuration ranks at or below the median "
                "out of sample. Near 0.5 the choice is as good as a coin; near 0 the winner's edge holds up.",
                className="small text-muted",
            ),
        ]
    )
