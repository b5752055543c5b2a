"""Status page: version, the session's data source, the cache (kind, statistics and, when
the operator allows it with ``SPL_ALLOW_CACHE_CLEAR``, a button to clear it) and the Ray
cluster (embedded or external, reachable or not, nodes, CPUs, memory). Any visitor can open
it: no paths, addresses or URLs are shown (``dashapp.views.status``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html, register_page

import engine
from dashapp import services
from dashapp.pages.ids import shell
from dashapp.pages.ids import status as ids
from dashapp.ui import components
from dashapp.views import status as view

log = logging.getLogger(__name__)

register_page(__name__, path="/status", name="Status", title="Status · Sentiment Portfolio Lab", order=5)


def layout(**_query: Any) -> html.Div:
    buttons = [
        dbc.Button("Refresh", id=ids.REFRESH, color="secondary", outline=True, size="sm"),
    ]
    if services.cache_clear_allowed():  # off by default: the cache is every user's
        buttons.insert(
            0,
            dbc.Button(
                "Clear cache", id=ids.CLEAR, color="danger", outline=True, size="sm", className="me-2"
            ),
        )
    return html.Div(
        [
            html.H2("Status"),
            html.Div(id=ids.MESSAGE),
            dbc.Row(
                [
                    dbc.Col(dbc.Card(dbc.CardBody([html.H5("Application"), html.Div(id=ids.APP)])), md=6),
                    dbc.Col(
                        dbc.Card(dbc.CardBody([html.H5("Cache"), html.Div(id=ids.CACHE), *buttons])),
                        md=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Card(
                dbc.CardBody([html.H5("Ray cluster"), dcc.Loading(html.Div(id=ids.CLUSTER), type="dot")])
            ),
        ],
        className="spl-page-status",
    )


@callback(
    Output(ids.MESSAGE, "children"),
    Output(ids.APP, "children"),
    Output(ids.CACHE, "children"),
    Input(ids.REFRESH, "n_clicks"),
    Input(shell.SESSION_SOURCE, "data"),
)
def refresh(_refresh: int | None, store: Any) -> tuple[Any, Any, Any]:
    """Application and cache panels."""
    return None, render_app(store), render_cache()


# Its own callback: the Clear button is in the page only when clearing is allowed, and a
# callback whose inputs are partly missing fails in the browser. Cache panel first, so its
# outputs are not keyed like ``refresh``'s.
@callback(
    Output(ids.CACHE, "children", allow_duplicate=True),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.CLEAR, "n_clicks"),
    prevent_initial_call=True,
)
def clear(clear_clicks: Any) -> tuple[Any, Any]:
    """Empty the results cache, when the operator allows it; refused on the server otherwise
    (a crafted callback request included)."""
    if isinstance(clear_clicks, bool) or not isinstance(clear_clicks, int) or clear_clicks < 1:
        return render_cache(), None  # not a click (Dash fires on page insertion)
    try:
        services.clear_cache()
        message = components.info_alert("Cache cleared: results will be computed again.")
    except services.CacheClearRefused as exc:
        message = components.error_alert(str(exc), title="Not allowed")
    except Exception:
        log.exception("clearing the cache failed")
        message = components.error_alert("the cache could not be cleared (the error was logged)")
    return render_cache(), message


@callback(Output(ids.CLUSTER, "children"), Input(ids.REFRESH, "n_clicks"))
def cluster_panel(_refresh: int | None) -> Any:
    try:
        return render_cluster(services.cluster())
    except engine.EngineError as exc:
        log.warning("Ray cluster unavailable: %s", exc)  # the full sentence, address included
        return components.error_alert(view.public_text(str(exc)), title="Ray cluster unavailable")
    except Exception:
        log.exception("reading the Ray cluster status failed")
        return components.error_alert(
            "the cluster status could not be read (the error was logged)", title="Ray cluster unavailable"
        )


def render_app(store: Any) -> Any:
    rows = view.app_rows(services.app_config(), engine.__version__)
    try:
        info = services.source_info(services.resolve_source(store))
        source: Any = components.source_badge(info)
    except engine.EngineError as exc:
        source = components.source_error_badge(view.public_text(str(exc)))
    except Exception:
        log.exception("loading the session's data source failed")
        source = components.source_error_badge("could not be loaded (the error was logged)")
    return html.Div(
        [
            components.key_value_table(rows, class_name="spl-kv status-app-table"),
            html.Div(["This session: ", source], id=ids.SOURCE),
        ]
    )


def render_cache() -> Any:
    try:
        stats = services.cache_stats()
    except Exception:
        log.exception("reading cache statistics failed")
        return components.error_alert("cache statistics are unavailable (the error was logged)")
    return components.key_value_table(view.cache_rows(stats), class_name="spl-kv status-cache-table")


def render_cluster(status: Mapping[str, Any]) -> Any:
    if not isinstance(status, Mapping):
        return html.Div(str(status))
    return components.key_value_table(view.cluster_rows(status), class_name="spl-kv status-cluster-table")
