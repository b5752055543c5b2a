"""The app shell: navbar, data-source badge, the session's Store, and the page container."""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

import engine

from . import services
from .pages.ids import shell
from .ui import components

log = logging.getLogger(__name__)

SESSION_SOURCE = shell.SESSION_SOURCE
NAVBAR_TOGGLER = shell.NAVBAR_TOGGLER
NAVBAR_COLLAPSE = shell.NAVBAR_COLLAPSE
# Navbar order; pages that are not registered (yet) are simply not shown.
NAV_ORDER = ("Backtest", "Sweep", "Signal", "Stocks", "Data", "Status")


def nav_links() -> list[dbc.NavItem]:
    pages = sorted(
        dash.page_registry.values(), key=lambda p: (_rank(p["name"]), p.get("order") or 0, p["name"])
    )
    return [
        dbc.NavItem(
            dbc.NavLink(
                page["name"], href=page["relative_path"], active="exact", id=shell.nav_link(page["name"])
            )
        )
        for page in pages
        if page.get("path") and not page.get("path_template")
    ]


def _rank(name: str) -> int:
    return NAV_ORDER.index(name) if name in NAV_ORDER else len(NAV_ORDER)


def build_layout() -> html.Div:
    """Evaluated per page load (after every page has registered)."""
    title = services.app_config().TITLE
    navbar = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(title, href="/", className="fw-semibold"),
                # Below the lg breakpoint the links fold behind the toggler instead of stacking.
                dbc.NavbarToggler(id=NAVBAR_TOGGLER, n_clicks=0),
                dbc.Collapse(
                    [
                        dbc.Nav(nav_links(), navbar=True, className="me-auto"),
                        html.Span(
                            f"v{engine.__version__}", className="navbar-text small text-light opacity-75"
                        ),
                    ],
                    id=NAVBAR_COLLAPSE,
                    is_open=False,
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        expand="lg",
        className="mb-2 spl-navbar",
    )
    return html.Div(
        [
            dcc.Location(id=shell.URL, refresh="callback-nav"),
            dcc.Store(id=SESSION_SOURCE, storage_type="session"),
            navbar,
            dbc.Container(
                [
                    html.Div(
                        id=shell.SOURCE_BADGE, className="spl-source-bar mb-3", **{"aria-live": "polite"}
                    ),
                    dash.page_container,
                ],
                fluid=True,
                className="spl-main pb-5",
            ),
        ]
    )


def render_badge(store: Any) -> Any:
    """The badge for the session's source; errors become a red badge, never a traceback."""
    try:
        return components.source_badge(services.source_info(services.resolve_source(store)))
    except engine.EngineError as exc:
        return components.source_error_badge(str(exc))
    except Exception:  # the shell must render whatever happens
        log.exception("the data-source badge failed")
        return components.source_error_badge("the data source could not be loaded (see the server log)")


def register_callbacks(app: dash.Dash) -> None:
    """Shell callbacks are bound to this app (pages use the global ``dash.callback``)."""
    app.callback(Output(shell.SOURCE_BADGE, "children"), Input(SESSION_SOURCE, "data"))(render_badge)
    app.callback(
        Output(NAVBAR_COLLAPSE, "is_open"),
        Input(NAVBAR_TOGGLER, "n_clicks"),
        State(NAVBAR_COLLAPSE, "is_open"),
        prevent_initial_call=True,
    )(toggle_navbar)


def toggle_navbar(n_clicks: Any, is_open: Any) -> bool:
    """The toggler opens and closes the folded navbar (narrow screens)."""
    return not bool(is_open) if n_clicks else False
