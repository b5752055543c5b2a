"""Ids of the app shell: the session's data-source Store, the badge, the navbar."""

SESSION_SOURCE = "session-source"  # dcc.Store: the session's data source (see dashapp.services.sources)
URL = "url"
SOURCE_BADGE = "source-badge"
NAVBAR_TOGGLER = "navbar-toggler"
NAVBAR_COLLAPSE = "navbar-collapse"


def nav_link(page_name: str) -> str:
    return f"nav-{page_name.lower()}"
