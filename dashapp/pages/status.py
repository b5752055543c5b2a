"""Status page: version, the session's data source, the cache (backend, statistics, a
button to clear it) and the Ray cluster (embedded or external, nodes, CPUs, memory)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, ctx, dcc, html, register_page

import engine
from dashapp import components, services

log = logging.getLogger(__name__)

register_page(__name__, path="/status", name="Status", title="Status · Sentiment Portfolio Lab", order=5)

# Cluster fields shown first, with friendly labels; anything else the engine reports follows.
CLUSTER_LABELS = {
    "mode": "Mode",
    "address": "Address",
    "connected": "Connected",
    "available": "Available",
    "nodes": "Nodes",
    "alive_nodes": "Alive nodes",
    "cpus": "CPUs",
    "available_cpus": "CPUs free",
    "memory_bytes": "Memory",
    "memory": "Memory",
    "object_store_used_bytes": "Object store used",
    "object_store_total_bytes": "Object store size",
    "object_store_bytes": "Object store",
    "object_store_memory": "Object store",
    "ray_version": "Ray version",
    "detail": "Detail",
    "error": "Error",
    "message": "Message",
}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H2("Status"),
            html.Div(id="status-message"),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(dbc.CardBody([html.H5("Application"), html.Div(id="status-app")])), md=6
                    ),
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.H5("Cache"),
                                    html.Div(id="status-cache"),
                                    dbc.Button(
                                        "Clear cache",
                                        id="status-clear",
                                        color="danger",
                                        outline=True,
                                        size="sm",
                                        className="me-2",
                                    ),
                                    dbc.Button(
                                        "Refresh",
                                        id="status-refresh",
                                        color="secondary",
                                        outline=True,
                                        size="sm",
                                    ),
                                ]
                            )
                        ),
                        md=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Card(
                dbc.CardBody([html.H5("Ray cluster"), dcc.Loading(html.Div(id="status-cluster"), type="dot")])
            ),
        ],
        className="spl-page-status",
    )


@callback(
    Output("status-message", "children"),
    Output("status-app", "children"),
    Output("status-cache", "children"),
    Input("status-refresh", "n_clicks"),
    Input("status-clear", "n_clicks"),
    Input("session-source", "data"),
)
def refresh(_refresh: int | None, clear_clicks: int | None, store: Any) -> tuple[Any, Any, Any]:
    """Application and cache panels; the Clear button empties the results cache first."""
    message: Any = None
    if ctx.triggered_id == "status-clear" and clear_clicks:  # not when Dash fires on page insertion
        try:
            services.clear_cache()
            message = components.info_alert("Cache cleared: results will be computed again.")
        except Exception:
            log.exception("clearing the cache failed")
            message = components.error_alert("the cache could not be cleared (the error was logged)")
    return message, render_app(store), render_cache()


@callback(Output("status-cluster", "children"), Input("status-refresh", "n_clicks"))
def cluster_panel(_refresh: int | None) -> Any:
    try:
        return render_cluster(services.cluster())
    except engine.EngineError as exc:
        return components.error_alert(str(exc), title="Ray cluster unavailable")
    except Exception:
        log.exception("reading the Ray cluster status failed")
        return components.error_alert(
            "the cluster status could not be read (the error was logged)", title="Ray cluster unavailable"
        )


def render_app(store: Any) -> Any:
    config = services.app_config()
    rows: list[tuple[str, Any]] = [
        ("Version", engine.__version__),
        ("Default data source", config.DATA_SOURCE),
        ("Executor", config.ENGINE_EXECUTOR),
        ("Upload limit", f"{config.MAX_UPLOAD_BYTES / 2**20:g} MiB"),
    ]
    try:
        info = services.source_info(services.resolve_source(store))
        source: Any = components.source_badge(info)
    except engine.EngineError as exc:
        source = components.source_error_badge(str(exc))
    except Exception:
        log.exception("loading the session's data source failed")
        source = components.source_error_badge("could not be loaded (the error was logged)")
    return html.Div(
        [
            components.key_value_table(rows, class_name="spl-kv status-app-table"),
            html.Div(["This session: ", source], id="status-source"),
        ]
    )


def render_cache() -> Any:
    try:
        stats = services.cache_stats()
    except Exception:
        log.exception("reading cache statistics failed")
        return components.error_alert("cache statistics are unavailable (the error was logged)")
    hit_rate = stats.get("hit_rate")
    rows = [
        ("Backend", stats.get("backend")),
        ("Location", stats.get("location")),
        ("Reachable", "yes" if stats.get("available") else "no (treated as misses)"),
        ("Cached results", _or_dash(stats.get("keys"))),
        (
            "Hits / misses (this worker)",
            f"{stats.get('hits', 0)} / {stats.get('misses', 0)}"
            + (f" ({hit_rate:.0%} hits)" if hit_rate is not None else ""),
        ),
        ("Errors (this worker)", stats.get("errors", 0)),
        ("Uploaded data sets", _or_dash((stats.get("uploads") or {}).get("keys"))),
        (
            "Loaded data sets (this worker)",
            f"{stats.get('market_data_entries', 0)} of {stats.get('market_data_capacity', 0)}",
        ),
    ]
    return components.key_value_table(rows, class_name="spl-kv status-cache-table")


def render_cluster(status: Mapping[str, Any]) -> Any:
    if not isinstance(status, Mapping):
        return html.Div(str(status))
    ordered = [k for k in CLUSTER_LABELS if k in status] + [k for k in status if k not in CLUSTER_LABELS]
    rows = [
        (CLUSTER_LABELS.get(k, k.replace("_", " ").capitalize()), _format_cluster_value(k, status[k]))
        for k in ordered
        if not isinstance(status[k], (list, dict))
    ]
    return components.key_value_table(rows, class_name="spl-kv status-cluster-table")


def _format_cluster_value(key: str, value: Any) -> str:
    if value is None:
        return components.MISSING
    if key == "mode" and value == "not started":
        return "embedded, not started yet (it starts with the first sweep or robustness run)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and ("memory" in key or "store" in key or key.endswith("bytes")):
        return f"{value / 2**30:.1f} GiB"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _or_dash(value: Any) -> str:
    return components.MISSING if value is None else f"{value:,}" if isinstance(value, int) else str(value)
